#!/usr/bin/env bash
# Operator features on the gate-api side (SPEC §7, issue 9): a scheduled maintenance window
# (announced, then in force, then over, its start and end audited once across two gate-api
# nodes), exemptions by source network and by user, per-project read-only, the custom message
# reaching git users, the drain (writes in flight, `maintenance on --wait`), /metrics, and one
# git operation followed across the sshd-gate and gate-api logs by its X-Request-Id.
# Real git over real ssh against sshd-gate + gate-api; every refusal checked for its exact
# message, its exit status and the repository being unchanged.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

RULER=$(printf '=%.0s' $(seq 1 72))
# box LINE...: a refusal as gitlab-shell frames it, as git shows it.
box() {
	printf 'remote: \nremote: %s\nremote: \n' "$RULER"
	local l
	for l in "$@"; do printf 'remote: %s\n' "$l"; done
	printf 'remote: \nremote: %s\nremote: ' "$RULER"
}
contains() { # contains GOT NEEDLE NAME
	local got=$1 needle=$2
	shift 2
	if [[ "$got" == *"$needle"* ]]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected to contain: %q\n' "$got" "$needle"
	fi
}
state() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; git -C "$1" count-objects -v; }
# run KEY [BIND] git-args...: git over ssh with that key (BIND: a source address or "-").
run() {
	local key=$1 bind=$2 opts=$GG_SSH_OPTS
	shift 2
	[ "$bind" != - ] && opts="$opts -o BindAddress=$bind"
	GIT_SSH_COMMAND="ssh -i $GG_TMP/$key $opts" git "$@" >"$GG_TMP/out" 2>"$GG_TMP/err"
	RC=$?
	ERR=$(cat "$GG_TMP/err")
}
# commit_in WORKTREE MSG: a new commit on main.
commit_in() { echo "$2 $RANDOM" >>"$1/file"; git -C "$1" add file && git -C "$1" commit -qm "$2"; }
# wait_for CMD...: until CMD succeeds (bounded: 60 s); 0 or 1.
wait_for() {
	local i
	for i in $(seq 1 300); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
maintenance_on() { gatectl maintenance status >/dev/null; }
maintenance_off() { ! gatectl maintenance status >/dev/null; }
# metric NAME{LABELS}: its value in $METRICS (0 when absent).
metric() {
	python3 - "$1" "$METRICS" <<'PY'
import sys
name, text = sys.argv[1], sys.argv[2]
for line in text.splitlines():
    if line.startswith("#") or not line.strip():
        continue
    key, _, value = line.rpartition(" ")
    if key == name:
        v = float(value)
        print(int(v) if v == int(v) else v)
        break
else:
    print(0)
PY
}
scrape() { METRICS=$(curl -s "$API/metrics"); }
# page JAR METHOD PATH [curl args...]: a browser-like request with a cookie jar ($STATUS, $BODY).
page() {
	local jar=$1 method=$2 path=$3 out
	shift 3
	out=$(curl -s --max-time 30 -X "$method" -b "$GG_TMP/$jar" -c "$GG_TMP/$jar" \
		-H 'Accept: text/html' -w '\n%{http_code}' "$@" "$API$path")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
csrf() { sed -n 's/.*name="authenticity_token" value="\([0-9a-f]*\)".*/\1/p' <<<"$BODY" | head -1; }

gg_setup
gg_git_home
# JSON logs at debug level: every gate-api request line carries its correlation id.
printf '\n[core]\nlog_level = debug\nlog_format = json\n' >>"$GG_CONF"
for u in alice bob rel; do
	gg_new_key "${u}key"
	gatectl user create "$u" --email "$u@example.com" --password "$u-pass-1234" >/dev/null
	gatectl key add "$u" --file "$GG_TMP/${u}key.pub" >/dev/null
done
for p in grp/app grp/ro; do
	gatectl project create "$p" --visibility private >/dev/null
	for u in alice bob rel; do gatectl member add "$p" "$u" developer >/dev/null; done
done
APP="$GG_DATA/repositories/grp/app.git"
RO="$GG_DATA/repositories/grp/ro.git"

gg_start_api
# A second gate-api node on the same store: the window's audit events are written once.
API2_PORT=$(gg_free_port)
sed "s/^port = $API_PORT\$/port = $API2_PORT/" "$GG_CONF" >"$GG_DATA/node2.conf"
"$GATE_API" --config "$GG_DATA/node2.conf" >>"$GG_TMP/gate-api2.log" 2>&1 &
_pids+=("$!")
wait_for curl -sf -o /dev/null "http://127.0.0.1:$API2_PORT/api/v4/version" -H "PRIVATE-TOKEN: $ADMIN_TOKEN"
ok $? "a second gate-api node serves the same store"
gg_start_sshd

# A first commit in both projects.
for p in app ro; do
	W="$GG_TMP/w-$p"
	git init -q "$W"
	commit_in "$W" "initial $p"
	run alicekey - -C "$W" push -q "$(gg_url grp/$p)" main
	is "$RC" 0 "initial push to grp/$p"
done
W="$GG_TMP/w-app"

# --- defaults ----------------------------------------------------------------------------------
OUT=$(gatectl maintenance exempt list)
is "$OUT" "No exemptions." "no exemptions by default"
OUT=$(gatectl maintenance schedule list)
is "$OUT" "No maintenance windows." "no windows by default"
gatectl maintenance schedule --start 2020-01-01T00:00:00Z --end 2020-01-01T01:00:00Z >/dev/null 2>"$GG_TMP/e"
is "$?:$(cat "$GG_TMP/e")" "1:gatectl: cannot schedule the window: the window is over already" \
	"a window in the past is refused"
gatectl maintenance schedule --start +1h --end 2020-01-01T00:00:00Z >/dev/null 2>"$GG_TMP/e"
is "$?:$(cat "$GG_TMP/e")" "1:gatectl: cannot schedule the window: the window must end after it starts" \
	"a window ending before its start is refused"
gatectl maintenance exempt add --cidr 10.0.0.300/8 >/dev/null 2>"$GG_TMP/e"
is "$?:$(cat "$GG_TMP/e")" "1:gatectl: cannot add the exemption: invalid CIDR (e.g. 10.0.0.0/8, ::1/128)" \
	"an invalid network is refused"

scrape
M0_MAINT=$(metric 'gitgate_refusals_total{reason="maintenance"}')
M0_RO=$(metric 'gitgate_refusals_total{reason="read_only_project"}')
M0_EXEMPT=$(metric 'gitgate_exempted_writes_total')
M0_ALLOWED=$(metric 'gitgate_allowed_checks_total{result="allowed"}')
M0_401=$(metric 'gitgate_api_requests_total{route="internal_allowed",status="401"}')
M0_HIST=$(metric 'gitgate_allowed_check_seconds_count')

# --- a scheduled window: announced, in force, over -----------------------------------------------
OUT=$(gatectl maintenance schedule --start +10s --end +10s --notice 1h --message "Database upgrade")
is "$?" 0 "maintenance schedule --start +10s --end +10s --notice 1h"
WIN=$(sed -n 's/^Scheduled maintenance window \([0-9]*\)$/\1/p' <<<"$OUT")
like "$WIN" '^[0-9]+$' "the window has an id ($WIN)"
START=$(gatectl maintenance status | sed -n 's/^Next window: [0-9]* *\(.* UTC\) \.\. .*/\1/p')
like "$START" '^[0-9-]+ [0-9:]+ UTC$' "status shows the next window ($START)"
NOTICE="Maintenance begins at $START for 10 seconds."
contains "$(printf "$(_gg_msg GG_MSG_MAINTENANCE_NOTICE_FMT)" "$START" "10 seconds")" "$NOTICE" \
	"the notice text comes from messages.h"
rm -rf "$GG_TMP/clone1"
run bobkey - clone -q "$(gg_url grp/app)" "$GG_TMP/clone1"
is "$RC" 0 "clone before the window"
contains "$ERR" "remote: $NOTICE" "the clone shows the notice as a remote: line"
http GET /users/sign_in -H "Accept: text/html"
contains "$BODY" "id=\"maintenance-notice\">$NOTICE</div>" "the web banner announces the window"
commit_in "$W" "before the window"
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "a push before the window is accepted"
contains "$ERR" "remote: $NOTICE" "and told about the window"

wait_for maintenance_on
ok $? "at the window's start maintenance mode is on by itself"
commit_in "$W" "during the window"
BEFORE=$(state "$APP")
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 128 "a push during the window is refused"
contains "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")"$'\n'"remote: Database upgrade" \
	"with the exact maintenance message and the window's message under it"
is "$(state "$APP")" "$BEFORE" "nothing was written"
http GET /users/sign_in -H "Accept: text/html"
contains "$BODY" 'id="maintenance-banner">Database upgrade</div>' "the web banner shows the window's message"
run bobkey - -C "$GG_TMP/clone1" pull -q
is "$RC" 0 "fetching works during the window"

wait_for maintenance_off
ok $? "at the window's end maintenance mode is off by itself"
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "a push after the window is accepted"
# The audit thread checks the windows twice a second: wait (bounded) until both
# events are there, then count them.
window_audited() { gatectl audit --limit 100 | grep -q "maintenance.window_end window $WIN "; }
wait_for window_audited
OUT=$(gatectl audit --limit 100)
is "$(grep -c "maintenance.window_start window $WIN " <<<"$OUT")" 1 \
	"the window's start is audited once (two gate-api nodes)"
is "$(grep -c "maintenance.window_end window $WIN " <<<"$OUT")" 1 "its end is audited once"
is "$(grep -c "maintenance.schedule window $WIN " <<<"$OUT")" 1 "its scheduling is audited"

# Cancelling: a window to come is forgotten, and says so in the audit trail.
OUT=$(gatectl maintenance schedule --start +1h --end +1h)
WIN2=$(sed -n 's/^Scheduled maintenance window \([0-9]*\)$/\1/p' <<<"$OUT")
OUT=$(gatectl maintenance schedule cancel "$WIN2")
is "$?:$OUT" "0:Maintenance window $WIN2 cancelled" "schedule cancel"
gatectl maintenance schedule cancel "$WIN2" >/dev/null 2>&1
is "$?" 1 "cancelling it twice fails"
like "$(gatectl maintenance schedule list)" "^$WIN2 .* cancelled " "schedule list shows it cancelled"

# --- the settings API: windows and exemptions, allowed while the instance is read-only ---------
gatectl maintenance on >/dev/null
admin PUT /api/v4/application/settings -H 'Content-Type: application/json' \
	-d '{"maintenance_window_start":"2099-01-01T00:00:00Z","maintenance_window_end":"2099-01-01T02:00:00Z","maintenance_window_notice":600,"maintenance_window_message":"API window","maintenance_exempt_cidrs_add":"127.0.0.2/32","maintenance_exempt_users_add":"rel"}'
is "$STATUS" 200 "PUT /application/settings schedules and exempts, in maintenance mode too"
is "$(json maintenance_windows.0.message)" "API window" "the window is listed"
is "$(json maintenance_windows.0.start_at)" "2099-01-01T00:00:00.000Z" "with its start"
is "$(json maintenance_exempt_cidrs)" '["127.0.0.2/32"]' "the network is exempt"
is "$(json maintenance_exempt_users)" '["rel"]' "the user is exempt"
API_WIN=$(json maintenance_windows.0.id)
admin PUT /api/v4/application/settings -d "maintenance_window_cancel=$API_WIN"
is "$STATUS:$(json maintenance_windows)" "200:[]" "and cancelled through the API"
admin PUT /api/v4/application/settings -d 'maintenance_exempt_cidrs_add=not-a-net'
is "$STATUS" 400 "an invalid network is refused by the API"
http PUT /api/v4/application/settings -d 'maintenance_exempt_users_add=bob'
is "$STATUS" 401 "no token: 401"
OUT=$(gatectl maintenance exempt list)
is "$OUT" $'cidr 127.0.0.2/32\nuser rel' "gatectl sees the API's exemptions"

# --- exemptions: pushes in maintenance mode ------------------------------------------------------
commit_in "$W" "exempt"
BEFORE=$(state "$APP")
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 128 "alice from 127.0.0.1: refused in maintenance mode"
contains "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")" "with the exact maintenance message"
is "$(state "$APP")" "$BEFORE" "nothing was written"
run bobkey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 128 "bob from 127.0.0.1: refused"
run bobkey 127.0.0.2 -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "bob from 127.0.0.2 (an exempt network) may push"
is "$(git -C "$APP" rev-parse main)" "$(git -C "$W" rev-parse main)" "and the ref moved"
grep -q 'allowed in maintenance mode: exempt cidr 127.0.0.2/32' "$GG_TMP/gate-api.log" "$GG_TMP/gate-api2.log"
ok $? "gate-api logs the exempted push"
commit_in "$W" "exempt user"
run relkey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "rel (an exempt user) may push from 127.0.0.1"
is "$(git -C "$APP" rev-parse main)" "$(git -C "$W" rev-parse main)" "and the ref moved"
OUT=$(gatectl audit --limit 100)
is "$(grep -c 'maintenance.exempt_push' <<<"$OUT")" 2 "each exempted push is an audit event"
grep -q 'maintenance.exempt_push .*exempt user rel' <<<"$OUT"
ok $? "naming the exemption used"
gatectl maintenance exempt remove --user rel >/dev/null
commit_in "$W" "no longer exempt"
BEFORE=$(state "$APP")
run relkey - -C "$W" push "$(gg_url grp/app)" main
is "$RC:$(state "$APP")" "128:$BEFORE" "exemption removed: rel is refused again, nothing written"

# --- the custom maintenance message reaches git users -------------------------------------------
gatectl maintenance on --message "Back at noon" >/dev/null
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 128 "push refused with a custom message set"
contains "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")"$'\n'"remote: Back at noon" \
	"the custom message under the standard refusal"
gatectl maintenance on --message "" >/dev/null
gatectl maintenance off >/dev/null

# --- per-project read-only -------------------------------------------------------------------------
gatectl project read-only grp/ro on >/dev/null
WR="$GG_TMP/w-ro"
commit_in "$WR" "ro"
BEFORE=$(state "$RO")
run alicekey - -C "$WR" push "$(gg_url grp/ro)" main
is "$RC" 128 "a push to the read-only project is refused"
contains "$ERR" "$(box "$MSG_PROJECT_READ_ONLY")" "with the project's read-only message"
is "$(state "$RO")" "$BEFORE" "nothing was written"
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "another project stays writable"
rm -rf "$GG_TMP/clone-ro"
run bobkey - clone -q "$(gg_url grp/ro)" "$GG_TMP/clone-ro"
is "$RC" 0 "the read-only project can be cloned"
RO_ID=$(gatectl project show grp/ro | sed -n 's/^id: *//p')
APP_ID=$(gatectl project show grp/app | sed -n 's/^id: *//p')
# The admin page's toggle: grp/app read-only, and back.
page web GET /users/sign_in
page web POST /users/sign_in --data-urlencode 'user[login]=root' --data-urlencode 'user[password]=admin-pass-1234'
page web GET /admin
contains "$BODY" "action=\"/admin/projects/$RO_ID/read_only\"" "/admin has a read-only toggle per project"
TOKEN=$(csrf)
page web POST "/admin/projects/$APP_ID/read_only" -d "authenticity_token=$TOKEN" -d read_only=1
is "$STATUS" 302 "the toggle makes grp/app read-only"
commit_in "$W" "web read-only"
BEFORE=$(state "$APP")
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC:$(state "$APP")" "128:$BEFORE" "a push to grp/app is then refused, nothing written"
page web POST "/admin/projects/$APP_ID/read_only" -d read_only=0
is "$(gatectl project show grp/app | sed -n 's/^read_only: *//p')" yes "the toggle without the CSRF token changes nothing"
page web POST "/admin/projects/$APP_ID/read_only" -d "authenticity_token=$TOKEN" -d read_only=0
run alicekey - -C "$W" push "$(gg_url grp/app)" main
is "$RC" 0 "toggled back: grp/app takes pushes"
admin PUT "/api/v4/projects/$RO_ID" -d 'read_only=false'
is "$STATUS:$(json read_only)" "200:false" "PUT /projects/:id read_only=false"
run alicekey - -C "$WR" push "$(gg_url grp/ro)" main
is "$RC" 0 "then the project takes pushes again"

# --- the admin settings page: a window and an exemption -------------------------------------------
page web GET /admin/application_settings/general
TOKEN=$(csrf)
contains "$BODY" 'id="maintenance-windows"' "the settings page lists the windows"
page web POST /admin/application_settings/general -d "authenticity_token=$TOKEN" \
	-d 'application_setting[maintenance_window_start]=2099-03-01T10:00' \
	-d 'application_setting[maintenance_window_end]=2099-03-01T11:30' \
	-d 'application_setting[maintenance_window_notice]=15' \
	--data-urlencode 'application_setting[maintenance_exempt_add]=192.0.2.0/24, user:bob'
is "$STATUS" 302 "the settings form schedules a window and adds exemptions"
admin GET /api/v4/application/settings
is "$(json maintenance_windows.0.start_at):$(json maintenance_windows.0.notice)" "2099-03-01T10:00:00.000Z:900" \
	"the window is in the store (UTC, notice in minutes)"
is "$(json maintenance_exempt_cidrs):$(json maintenance_exempt_users)" '["127.0.0.2/32", "192.0.2.0/24"]:["bob"]' \
	"so are the exemptions"
FORM_WIN=$(json maintenance_windows.0.id)
page web GET /admin/application_settings/general
contains "$BODY" '2099-03-01 10:00 UTC' "the page shows the window"
page web POST /admin/application_settings/general -d "authenticity_token=$(csrf)" \
	-d "application_setting[maintenance_window_cancel]=$FORM_WIN" \
	--data-urlencode 'application_setting[maintenance_exempt_remove]=192.0.2.0/24,user:bob'
admin GET /api/v4/application/settings
is "$(json maintenance_windows):$(json maintenance_exempt_users)" '[]:[]' "and cancels and removes them"

# --- metrics after that sequence -------------------------------------------------------------------
# Refused at the first check for maintenance: the push during the window, alice and bob from
# 127.0.0.1, rel after the removal, alice with the custom message = 5.  Read-only: 2.
# Exempted: bob from 127.0.0.2 and rel = 2.
scrape
is "$(($(metric 'gitgate_refusals_total{reason="maintenance"}') - M0_MAINT))" 5 "/metrics: 5 refusals for maintenance"
is "$(($(metric 'gitgate_refusals_total{reason="read_only_project"}') - M0_RO))" 2 "/metrics: 2 refusals for a read-only project"
is "$(($(metric 'gitgate_exempted_writes_total') - M0_EXEMPT))" 2 "/metrics: 2 exempted writes"
is "$(($(metric 'gitgate_api_requests_total{route="internal_allowed",status="401"}') - M0_401))" 7 \
	"/metrics: 7 answers 401 on /internal/allowed"
ALLOWED=$(($(metric 'gitgate_allowed_checks_total{result="allowed"}') - M0_ALLOWED))
HIST=$(($(metric 'gitgate_allowed_check_seconds_count') - M0_HIST))
is "$HIST" "$((ALLOWED + 7))" "/metrics: the latency histogram counts every check ($HIST)"
is "$(metric 'gitgate_allowed_check_seconds_bucket{le="+Inf"}')" "$(metric 'gitgate_allowed_check_seconds_count')" \
	"/metrics: the +Inf bucket holds every check"
is "$(metric gitgate_maintenance_mode)" 0 "/metrics: maintenance mode off"
gatectl maintenance on >/dev/null
scrape
is "$(metric gitgate_maintenance_mode):$(metric gitgate_maintenance_switch)" "1:1" "/metrics: maintenance mode on"
gatectl maintenance off >/dev/null
like "$(curl -s -D - -o /dev/null "$API/metrics" | tr -d '\r' | grep -i '^content-type')" 'text/plain; version=0.0.4' \
	"/metrics is Prometheus text"

# --- X-Request-Id: one clone followed across both logs ---------------------------------------------
rm -rf "$GG_TMP/clone2"
: >"$GG_TMP/mark"
run bobkey - clone -q "$(gg_url grp/app)" "$GG_TMP/clone2"
is "$RC" 0 "a clone to follow"
CID=$(python3 - "$GG_TMP/sshd-gate.log" <<'PY'
import json, sys
cid = ""
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if "grp/app" in o.get("msg", "") and "git-upload-pack" in o.get("msg", ""):
        cid = o.get("correlation_id", "")
print(cid)
PY
)
like "$CID" '^[0-9a-zA-Z._:-]+$' "sshd-gate logged the clone with a correlation id ($CID)"
N=$(python3 - "$GG_TMP/gate-api.log" "$GG_TMP/gate-api2.log" "$CID" <<'PY'
import json, sys
n = 0
for path in sys.argv[1:3]:
    for line in open(path):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("correlation_id") == sys.argv[3] and "/api/v4/internal/allowed" in o.get("msg", ""):
            n += 1
print(n)
PY
)
is "$N" 1 "gate-api logged the clone's /allowed under the same id"

# --- drain: a push held in flight, `maintenance on --wait` -----------------------------------------
# (GIT_SSH_VARIANT: git would otherwise run the command with -G first, to probe it.)
# The push's ssh gets git's input through a pipe that holds it until a flag file exists: the
# session has called pre_receive and waits for the client's commands.
cat >"$GG_TMP/slow-ssh" <<EOF
#!/usr/bin/env bash
python3 -c '
import os, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
while True:
    b = os.read(0, 65536)
    if not b:
        break
    os.write(1, b)
' "$GG_TMP/release" | ssh -i "$GG_TMP/relkey" $GG_SSH_OPTS "\$@"
EOF
chmod +x "$GG_TMP/slow-ssh"
writes() { gatectl maintenance status | sed -n 's/^Writes in flight: //p'; }
one_write() { [ "$(writes)" = 1 ]; }
is "$(writes)" 0 "no writes in flight"
gatectl maintenance exempt add --user rel >/dev/null
commit_in "$W" "drained"
PUSHED=$(git -C "$W" rev-parse main)
rm -f "$GG_TMP/release"
(GIT_SSH_VARIANT=ssh GIT_SSH_COMMAND="$GG_TMP/slow-ssh" git -C "$W" push "$(gg_url grp/app)" main >"$GG_TMP/slow.out" 2>&1
 echo $? >"$GG_TMP/slow.rc") &
SLOW=$!
wait_for one_write
ok $? "the held push is a write in flight"
OUT=$(gatectl maintenance status)
like "$OUT" $'\n  [0-9a-f]+  grp/app  by rel  on 127.0.0.1  since ' \
	"status lists it (request id, project, the pusher, node)"
admin GET /api/v4/application/settings
is "$(json writes_in_flight)" 1 "the settings API counts it"
scrape
is "$(metric gitgate_writes_in_flight)" 1 "/metrics counts it"
gatectl maintenance on --wait --timeout 1s >"$GG_TMP/w1.out" 2>&1
is "$?" 1 "--wait --timeout 1s with a write in flight fails"
contains "$(cat "$GG_TMP/w1.out")" "gatectl: $(printf "$(_gg_msg GG_MSG_DRAIN_TIMEOUT_FMT | sed 's/%zu/%s/')" 1 1s)" \
	"and says why"
(gatectl maintenance on --wait --timeout 120s >"$GG_TMP/w2.out" 2>&1
 echo "rc=$?"
 git -C "$APP" rev-parse main) >"$GG_TMP/wait.log" &
WAITER=$!
wait_for grep -q 'Waiting for 1 write' "$GG_TMP/w2.out"
ok $? "--wait waits for the write in flight"
kill -0 "$WAITER" 2>/dev/null
ok $? "and has not returned while the push is held"
touch "$GG_TMP/release"
wait "$WAITER"
wait "$SLOW"
is "$(cat "$GG_TMP/slow.rc")" 0 "the held push (an exempt user) completes"
# (The write ends with post_receive, after the ref moved; the git client exits a moment later,
# so its status is checked above, not raced against --wait here.)
is "$(cat "$GG_TMP/wait.log")" "rc=0"$'\n'"$PUSHED" \
	"--wait returned 0 after the push had moved its ref"
contains "$(cat "$GG_TMP/w2.out")" "No writes in flight." "--wait says the writes are drained"
is "$(writes)" 0 "no writes in flight afterwards"
gatectl maintenance off >/dev/null

done_testing
