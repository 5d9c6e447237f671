#!/usr/bin/env bash
# A Geo secondary (SPEC §4, issue 8): a primary PostgreSQL and a streaming
# replica made with pg_basebackup -R, gate-api (role = secondary) and
# sshd-gate on the replica's site.  The secondary refuses pushes and writes
# itself, serves clones of the repositories 'gatectl geo sync' fetched from
# the primary's sshd-gate with a replication key, follows the primary into
# and out of maintenance mode.  'geo sync --follow' is driven by the push
# generations post_receive records on the primary: a push is fetched once its
# generation reaches the standby, projects not pushed are not fetched again,
# a push refused by maintenance mode moves nothing and nothing replicates, an
# exempt push in maintenance mode is replicated.  Finally the failover runbook of
# docs/FAILOVER.md is run end to end: no push acknowledged by the primary is
# lost, and the promoted secondary takes pushes once maintenance is off.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"
. "$GG_SRC/tests/e2e/pg.sh"
MSG_GEO_PUSH=$(_gg_msg GG_MSG_GEO_SECONDARY_PUSH)
MSG_GEO_BANNER=$(_gg_msg GG_MSG_GEO_SECONDARY_BANNER)

PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-geo-pg.XXXXXX")
STANDBY_DIR="$PG_TMP/standby"
standby_stop() {
	[ -d "$STANDBY_DIR" ] && _gg_pg_as "$GG_PG_BIN/pg_ctl" -D "$STANDBY_DIR" -m immediate -w stop >/dev/null 2>&1
}
if ! gg_pg_start "$PG_TMP" >&2; then
	rm -rf "$PG_TMP"
	echo "Bail out! cannot start PostgreSQL"
	exit 1
fi
PRIMARY_PG_URL=$GG_PG_URL

# --- the primary site --------------------------------------------------------------------------
GG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-e2e.XXXXXX")
trap 'gg_cleanup; standby_stop; gg_pg_stop; rm -rf "$PG_TMP"' EXIT
GG_DATA="$GG_TMP/primary"
GG_CONF="$GG_DATA/gitgate.conf"
API_PORT=$(gg_free_port)
API="http://127.0.0.1:$API_PORT"
"$GATECTL" --config "$GG_CONF" init --data-dir "$GG_DATA" --database-url "$PRIMARY_PG_URL" \
	--admin-password 'admin-pass-1234' --token-file "$GG_DATA/admin.token" >"$GG_TMP/init.log" 2>&1 ||
	{ cat "$GG_TMP/init.log"; echo "Bail out! gatectl init failed"; exit 1; }
printf '\n[api]\nport = %s\n' "$API_PORT" >>"$GG_CONF"
ADMIN_TOKEN=$(cat "$GG_DATA/admin.token")
SECRET=$(tr -d ' \n' <"$GG_DATA/gitlab_shell_secret")
PRIMARY_CONF=$GG_CONF
gg_start_api
gg_start_sshd
PRIMARY_API=$API
PRIMARY_SSH_PORT=$SSH_PORT
PRIMARY_API_PID=$GATE_API_PID
PRIMARY_SSHD_PID=$SSHD_GATE_PID
PRIMARY_HOST_KEYS=$(grep -o 'SHA256:[A-Za-z0-9+/]*' "$GG_TMP/host-keys.txt" | tr '\n' ' ')

gg_new_key devkey
gg_new_key geokey
gatectl user create dev --email dev@example.com --password dev-pass-1234 >/dev/null
gatectl key add dev --file "$GG_TMP/devkey.pub" >/dev/null
gatectl project create team/app >/dev/null
gatectl member add team/app dev maintainer >/dev/null
# The replication account: an administrator (reads every project), with its own key.
gatectl user create geo-replication --email geo@example.com --admin >/dev/null
gatectl key add geo-replication --file "$GG_TMP/geokey.pub" >/dev/null
DEV_TOKEN=$(gatectl token create dev --scopes read_api 2>/dev/null)

W="$GG_TMP/work"
git init -q -b main "$W"
commit() { git -C "$W" -c user.name=Dev -c user.email=dev@example.com commit -q --allow-empty -m "$1"; }
commit one
git -C "$W" tag -a v1 -m v1
SSH_PORT=$PRIMARY_SSH_PORT
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main v1 2>"$GG_TMP/err"
is "$?" 0 "a push to the primary is accepted"
git -C "$W" checkout -q -b topic && commit topic && git -C "$W" checkout -q main
gg_git devkey -C "$W" push -q "$(gg_url team/app)" topic 2>"$GG_TMP/err"
PRIMARY_REPO="$GG_DATA/repositories/team/app.git"

# --- the standby: pg_basebackup -R into a second data directory, another port ------------------
STANDBY_PORT=$(gg_free_port)
_gg_pg_as "$GG_PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$GG_PG_PORT" -U postgres -D "$STANDBY_DIR" \
	-R -X stream -c fast >"$PG_TMP/basebackup.log" 2>&1
is "$?" 0 "pg_basebackup -R makes a streaming replica of the primary's database"
_gg_pg_as "$GG_PG_BIN/pg_ctl" -D "$STANDBY_DIR" -l "$PG_TMP/standby.log" -w -t 30 \
	-o "-c listen_addresses=127.0.0.1 -p $STANDBY_PORT -k $PG_TMP/pgsock -c fsync=off -c max_connections=200" start >"$PG_TMP/pg_ctl2.log" 2>&1 ||
	{ cat "$PG_TMP/pg_ctl2.log" "$PG_TMP/standby.log"; echo "Bail out! the standby did not start"; exit 1; }
STANDBY_PG_URL="postgresql://postgres@127.0.0.1:$STANDBY_PORT/gitgate"
sql_standby() { "$GG_PG_BIN/psql" "$STANDBY_PG_URL" -qAtX -c "$1"; }
sql_primary() { "$GG_PG_BIN/psql" "$PRIMARY_PG_URL" -qAtX -c "$1"; }
for i in $(seq 1 100); do sql_standby 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
is "$(sql_standby 'SELECT pg_is_in_recovery()')" t "the replica is a hot standby"

# wait_until CMD...: run CMD until it succeeds (bounded: 30 s).
wait_until() {
	local i
	for i in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
standby_has() { [ "$(sql_standby "$1")" = "$2" ]; }

# --- the secondary site: its own data dir and storage, its database the standby ----------------
SEC_DATA="$GG_TMP/secondary"
SEC_CONF="$SEC_DATA/gitgate.conf"
SEC_API_PORT=$(gg_free_port)
SEC_SSH_PORT=$(gg_free_port)
mkdir -p "$SEC_DATA"
chmod 700 "$SEC_DATA"
(umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SEC_DATA/gitlab_shell_secret")
cp "$GG_TMP/geokey" "$GG_TMP/geokey.pub" "$SEC_DATA/"
cat >"$SEC_CONF" <<EOF
[core]
data_dir = .
database_url = $STANDBY_PG_URL

[api]
port = $SEC_API_PORT
role = secondary

[ssh]
port = $SEC_SSH_PORT

[geo]
primary_ssh_url = ssh://git@127.0.0.1:$PRIMARY_SSH_PORT
replication_key = geokey
primary_host_keys = $PRIMARY_HOST_KEYS
sync_interval = 1
EOF
SEC_API="http://127.0.0.1:$SEC_API_PORT"
start_secondary_api() {
	"$GATE_API" --config "$SEC_CONF" >>"$GG_TMP/sec-gate-api.log" 2>&1 &
	SEC_API_PID=$!
	_pids+=("$SEC_API_PID")
	wait_until curl -s -o /dev/null "$SEC_API/api/v4/version"
}
start_secondary_api
ok "$?" "gate-api starts as a secondary on the read-only standby (no migration attempted)"
"$SSHD_GATE" --config "$SEC_CONF" --print-host-keys >/dev/null 2>>"$GG_TMP/sec-sshd-gate.log"
"$SSHD_GATE" --config "$SEC_CONF" >>"$GG_TMP/sec-sshd-gate.log" 2>&1 &
_pids+=("$!")
wait_until bash -c "exec 3<>/dev/tcp/127.0.0.1/$SEC_SSH_PORT"
ok "$?" "sshd-gate starts on the secondary site"
# Under AddressSanitizer, full stacks let gatectl_geo.c's suppression of libgit2 1.5's
# own leaks in its SSH transport match by function (Debian's libgit2 has no frame pointers).
sec_gatectl() { ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0" "$GATECTL" --config "$SEC_CONF" "$@"; }

# --- the secondary serves reads and refuses writes itself --------------------------------------
API=$SEC_API
admin GET /api/v4/user
is "$STATUS" 200 "the primary's admin token (replicated) is accepted on the secondary"
is "$(json username)" root "and names the administrator"
http GET /api/v4/user -H "PRIVATE-TOKEN: $DEV_TOKEN"
is "$(json username)" dev "a token made on the primary works on the secondary"
admin GET /api/v4/projects/team%2Fapp
is "$(json path_with_namespace)" team/app "API reads of projects work on the secondary"
users_before=$(sql_primary 'SELECT count(*) FROM users')
admin POST /api/v4/users -d username=late -d email=late@example.com -d name=Late -d password=late-pass-1234
is "$STATUS" 403 "creating a user on the secondary is refused with 403"
is "$BODY" "{\"message\":\"$MSG_READ_ONLY\"}" "with the read-only message"
is "$(sql_primary 'SELECT count(*) FROM users')" "$users_before" "and nothing was written"
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$STATUS" 403 "the settings allowlist does not apply on a secondary: PUT settings gets 403"
is "$BODY" "{\"message\":\"$MSG_READ_ONLY\"}" "with the read-only message"
is "$(sql_primary 'SELECT maintenance_mode FROM application_settings')" f "and maintenance stays off"
http POST /users/sign_in -d login=dev -d password=dev-pass-1234
is "$STATUS" 403 "a web sign-in on the secondary (which would write a session) is refused"
is "$BODY" "{\"message\":\"$MSG_READ_ONLY\"}" "with the read-only message"
# Failed passwords on the secondary cannot be counted in the standby: they are counted in
# the node's memory instead, and the limit still holds.
for i in $(seq 1 10); do
	http POST /oauth/token -d grant_type=password -d username=dev -d "password=wrong-$i"
	[ "$STATUS" = 400 ] || break
done
is "$STATUS $(json error)" "400 invalid_grant" "ten wrong OAuth passwords on the secondary are each refused"
http POST /oauth/token -d grant_type=password -d username=dev -d password=dev-pass-1234
is "$STATUS $BODY" "429 {\"message\":\"$(_gg_msg GG_MSG_TOO_MANY_SIGN_INS)\"}" \
	"then the right one is refused with 429 (counted in the secondary's memory)"
is "$(sql_primary 'SELECT count(*) FROM signin_failures')" 0 "and nothing was written to the database"
grep -q 'cannot record a failed sign-in' "$GG_TMP/sec-gate-api.log"
ok "$(test $? -ne 0; echo $?)" "the read-only standby is an expected fallback, not logged as an error"
http GET /users/sign_in
like "$BODY" "id=\"geo-banner\">$MSG_GEO_BANNER<" "the secondary's pages say it is a secondary"
unlike "$BODY" 'maintenance-banner' "and show no maintenance banner while the primary has none"
is "$(sql_primary 'SELECT count(*) FROM audit_events')" "$(sql_standby 'SELECT count(*) FROM audit_events')" \
	"the secondary wrote no audit event (the standby replays the primary's)"

# --- geo sync ------------------------------------------------------------------------------------
out=$(gatectl geo sync 2>&1)
is "$?" 1 "geo sync refuses to run on the primary"
like "$out" 'runs on a secondary' "saying why"
sed 's/^primary_host_keys = .*/primary_host_keys = SHA256:bm90IHRoZSBwcmltYXJ5J3Mga2V5IGF0IGFsbCwgbm8/' "$SEC_CONF" >"$SEC_DATA/wrong-host.conf"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0" "$GATECTL" --config "$SEC_DATA/wrong-host.conf" geo sync >"$GG_TMP/sync.out" 2>&1
is "$?" 1 "geo sync fails when the primary's host key is not the configured one"
grep -q 'is not in \[geo\] primary_host_keys' "$GG_TMP/sync.out"
ok "$?" "and says which host key it got"
is "$(git --git-dir="$SEC_DATA/repositories/team/app.git" for-each-ref 2>/dev/null | wc -l)" 0 "and nothing was fetched"
sec_gatectl geo sync >"$GG_TMP/sync.out" 2>&1
is "$?" 0 "gatectl geo sync (one pass) succeeds"
SEC_REPO="$SEC_DATA/repositories/team/app.git"
refs() { git --git-dir="$1" for-each-ref --format='%(objectname) %(refname)'; }
is "$(refs "$SEC_REPO")" "$(refs "$PRIMARY_REPO")" "the secondary has the primary's refs (branches and tags)"
is "$(git --git-dir="$SEC_REPO" symbolic-ref HEAD)" refs/heads/main "HEAD follows the primary's"
git --git-dir="$SEC_REPO" fsck --strict >"$GG_TMP/fsck" 2>&1
is "$?" 0 "git fsck is clean on the synced repository"
t0=$(date +%s%N)
sec_gatectl geo sync >"$GG_TMP/sync.out" 2>&1
is "$?" 0 "a second pass with nothing to fetch succeeds"
diag "a pass with nothing to fetch (1 project, one ls-remote over SSH): $((($(date +%s%N) - t0) / 1000000)) ms"
sec_gatectl geo status >"$GG_TMP/status" 2>&1
is "$?" 0 "gatectl geo status on the secondary: caught up (exit 0)"
grep -q '^repositories: 1 in sync, 0 failed$' "$GG_TMP/status"
ok "$?" "geo status shows the repositories in sync"
grep -q '^database: standby, WAL receiver streaming$' "$GG_TMP/status"
ok "$?" "geo status shows the standby streaming"
gatectl geo status >"$GG_TMP/pstatus" 2>&1
like "$(cat "$GG_TMP/pstatus")" 'standby [^ ]+ \(127\.0\.0\.1\): streaming, replay lag 0 bytes' \
	"geo status on the primary shows the standby and its replay lag (pg_stat_replication)"

SSH_PORT=$SEC_SSH_PORT
rm -rf "$GG_TMP/clone"
gg_git devkey clone -q "$(gg_url team/app)" "$GG_TMP/clone" 2>"$GG_TMP/err"
is "$?" 0 "a clone from the secondary's sshd-gate works"
is "$(git -C "$GG_TMP/clone" rev-parse HEAD)" "$(git -C "$W" rev-parse main)" "and has the primary's main"

commit two
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
unlike "$?" '^0$' "a push to the secondary fails"
grep -qF "$MSG_GEO_PUSH" "$GG_TMP/err"
ok "$?" "with the Geo secondary message"
is "$(refs "$SEC_REPO")" "$(refs "$PRIMARY_REPO")" "and nothing moved on the secondary"

SSH_PORT=$PRIMARY_SSH_PORT
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main :topic 2>"$GG_TMP/err"
is "$?" 0 "the same push to the primary is accepted (and deletes a branch)"
gatectl project create team/new >/dev/null
wait_until standby_has "SELECT count(*) FROM projects WHERE full_path = 'team/new'" 1
sec_gatectl geo sync >"$GG_TMP/sync.out" 2>&1
is "$?" 0 "geo sync brings the new push"
is "$(refs "$SEC_REPO")" "$(refs "$PRIMARY_REPO")" "the secondary's refs equal the primary's again"
ok "$(git --git-dir="$SEC_REPO" rev-parse -q --verify refs/heads/topic >/dev/null; test $? -ne 0; echo $?)" \
	"the branch deleted on the primary is pruned on the secondary"
git --git-dir="$SEC_REPO" fsck --strict >"$GG_TMP/fsck" 2>&1
is "$?" 0 "git fsck is still clean"
ok "$(test -f "$SEC_DATA/repositories/team/new.git/HEAD"; echo $?)" "a new project's repository is created"
gatectl project delete team/new >/dev/null
wait_until standby_has "SELECT count(*) FROM projects WHERE full_path = 'team/new'" 0
sec_gatectl geo sync >"$GG_TMP/sync.out" 2>&1
ok "$(test ! -e "$SEC_DATA/repositories/team/new.git"; echo $?)" "a deleted project's repository is removed"

# --- the secondary follows the primary into and out of maintenance mode -----------------------
API=$PRIMARY_API
admin PUT "/api/v4/application/settings?maintenance_mode=true" --data-urlencode "maintenance_mode_message=Failover drill until 11:00"
is "$STATUS" 200 "maintenance switched on at the primary"
wait_until standby_has 'SELECT maintenance_mode FROM application_settings' t
API=$SEC_API
http GET /users/sign_in
like "$BODY" 'id="maintenance-banner">Failover drill until 11:00<' \
	"the secondary's page shows the primary's maintenance banner and message"
SSH_PORT=$SEC_SSH_PORT
commit three
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
unlike "$?" '^0$' "a push to the secondary in maintenance fails"
grep -qF "$MSG_MAINTENANCE_PUSH" "$GG_TMP/err"
ok "$?" "with the maintenance message"
is "$(gg_git devkey ls-remote "$(gg_url team/app)" refs/heads/main 2>/dev/null | cut -f1)" \
	"$(git --git-dir="$SEC_REPO" rev-parse main)" "reads from the secondary keep working in maintenance mode"
API=$PRIMARY_API
admin PUT "/api/v4/application/settings?maintenance_mode=false"
wait_until standby_has 'SELECT maintenance_mode FROM application_settings' f
API=$SEC_API
http GET /users/sign_in
unlike "$BODY" 'maintenance-banner' "maintenance off at the primary: the secondary's banner is gone"
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
grep -qF "$MSG_GEO_PUSH" "$GG_TMP/err"
ok "$?" "and a push to the secondary is refused as a secondary again"
is "$(sql_primary "SELECT coalesce(last_used_at, 0) FROM tokens WHERE user_id = (SELECT id FROM users WHERE username = 'dev')")" 0 \
	"a token used only on the secondary shows no last use (the secondary writes nothing)"

# --- geo sync --follow: driven by the push generations ----------------------------------------
# Every accepted push moves its project's push generation (post_receive, in the primary's
# database); --follow polls the replicated generations and fetches only what moved.
gatectl project create team/other >/dev/null
gatectl member add team/other dev maintainer >/dev/null
SSH_PORT=$PRIMARY_SSH_PORT
gg_git devkey -C "$W" push -q "$(gg_url team/other)" main 2>"$GG_TMP/err"
is "$?" 0 "a push to a second project on the primary"
gen() { sql_primary "SELECT pushed_seq FROM projects WHERE full_path = '$1'"; }
is "$(gen team/other)" 1 "the push moved that project's push generation to 1 (post_receive)"
APP_GEN=$(gen team/app)
ok "$(test "$APP_GEN" -ge 3; echo $?)" "team/app's generation counts its accepted pushes ($APP_GEN)"
wait_until standby_has "SELECT pushed_seq FROM projects WHERE full_path = 'team/other'" 1
ok "$?" "the push generation reaches the standby (streaming replication)"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=0" "$GATECTL" --config "$SEC_CONF" geo sync --follow --interval 1 --full-interval 3600 >"$GG_TMP/follow.out" 2>&1 &
FOLLOW_PID=$!
_pids+=("$FOLLOW_PID")
full_passes() { grep -c '^full pass:' "$GG_TMP/follow.out"; }
wait_until grep -q '^full pass: 2 projects, [0-9]* fetched, 0 failed$' "$GG_TMP/follow.out"
ok "$?" "geo sync --follow starts with a full pass over both projects"
commit four
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "a push to the primary with --follow running on the secondary"
same_main() { [ "$(git --git-dir="$SEC_REPO" rev-parse main)" = "$(git -C "$W" rev-parse main)" ]; }
wait_until same_main
ok "$?" "geo sync --follow brings the push without being asked"
APP_GEN=$(gen team/app)
wait_until grep -q "^fetched team/app at push generation $APP_GEN " "$GG_TMP/follow.out"
ok "$?" "... because team/app's push generation moved to $APP_GEN"
app_status_at() { sec_gatectl geo status 2>/dev/null | grep -q "^  ok  *team/app (.*push generation $1, synced $1, lag 0)$"; }
wait_until app_status_at "$APP_GEN"
ok "$?" "geo status shows team/app at the primary's generation, lag 0"
sec_gatectl geo status >"$GG_TMP/status" 2>&1
like "$(grep -F ' team/other (' "$GG_TMP/status")" '^  ok +team/other \(1 refs, push generation 1, synced 1, lag 0\)$' \
	"geo status shows team/other synced at its generation"
grep -q '^polls: [0-9]*, full passes: 1, syncs after a push: [0-9]*$' "$GG_TMP/status"
ok "$?" "geo status shows the follow loop's polls"
commit five
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
wait_until same_main
ok "$?" "a second push is brought too"
wait_until grep -q "^fetched team/app at push generation $(gen team/app) " "$GG_TMP/follow.out"
ok "$?" "... at its push generation, $(gen team/app)"
is "$(grep -c '^fetched team/other ' "$GG_TMP/follow.out")" 0 "team/other, not pushed, was not fetched again by the follow loop"
is "$(full_passes)" 1 "and no other full pass ran (only the projects whose generation moved were synced)"

# A push refused by maintenance mode on the primary moves nothing, and nothing replicates.
API=$PRIMARY_API
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$STATUS" 200 "maintenance on at the primary, --follow still running"
wait_until standby_has 'SELECT maintenance_mode FROM application_settings' t
APP_GEN=$(gen team/app)
PRIMARY_BEFORE=$(refs "$PRIMARY_REPO")
SEC_BEFORE=$(refs "$SEC_REPO")
FETCHED_BEFORE=$(grep -c '^fetched team/app ' "$GG_TMP/follow.out")
commit refused-in-maintenance
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
unlike "$?" '^0$' "a push to the primary in maintenance mode fails"
grep -qF "$MSG_MAINTENANCE_PUSH" "$GG_TMP/err"
ok "$?" "with the maintenance message"
is "$(refs "$PRIMARY_REPO")" "$PRIMARY_BEFORE" "nothing was written on the primary"
is "$(gen team/app)" "$APP_GEN" "the push generation did not move"
polls() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["polls"]))' "$SEC_DATA/geo-status.json"; }
polls_at_least() { [ "$(polls)" -ge "$1" ]; }
wait_until polls_at_least $(($(polls) + 3))
ok "$?" "the follow loop polled again after the refused push"
is "$(refs "$SEC_REPO")" "$SEC_BEFORE" "and nothing replicated for it"
is "$(grep -c '^fetched team/app ' "$GG_TMP/follow.out")" "$FETCHED_BEFORE" "no fetch was made for team/app"
# Replication keeps working in maintenance mode: an exempt user's push is brought over.
gatectl maintenance exempt add --user dev >/dev/null
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "an exempt user's push is accepted in maintenance mode"
wait_until same_main
ok "$?" "and --follow brings it while the primary is in maintenance mode"
gatectl maintenance exempt remove --user dev >/dev/null
admin PUT "/api/v4/application/settings?maintenance_mode=false"
wait_until standby_has 'SELECT maintenance_mode FROM application_settings' f

# --- the failover runbook (docs/FAILOVER.md) -----------------------------------------------------
commit acknowledged
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "a last push is acknowledged by the primary"
ACKED=$(git -C "$W" rev-parse main)
# 1. Maintenance on at the primary (wait for the writes in flight when gatectl can).
gatectl maintenance on --wait >"$GG_TMP/mon.out" 2>&1
is "$?" 0 "1. maintenance on --wait at the primary: no write in flight on any node"
gatectl maintenance status >"$GG_TMP/mstatus" 2>&1
grep -q '^Writes in flight: 0$' "$GG_TMP/mstatus"
ok "$?" "1. gatectl maintenance status shows no writes in flight"
# 2. The database caught up (primary: replay lag 0 bytes) and the repositories in sync.
wait_until gatectl geo status
ok "$?" "2. the primary's geo status reports the standby caught up"
kill -TERM "$FOLLOW_PID" 2>/dev/null
wait "$FOLLOW_PID"
is "$?" 0 "geo sync --follow stops on SIGTERM"
sec_gatectl geo sync >"$GG_TMP/sync.out" 2>&1
is "$?" 0 "2. a last geo sync pass succeeds while the primary is in maintenance mode"
sec_gatectl geo status >"$GG_TMP/status" 2>&1
is "$?" 0 "2. the secondary's geo status reports everything in sync"
# 3. The old primary goes away; the standby is promoted.
kill -TERM "$PRIMARY_API_PID" "$PRIMARY_SSHD_PID"
wait "$PRIMARY_API_PID" "$PRIMARY_SSHD_PID" 2>/dev/null
gg_pg_stop
_gg_pg_as "$GG_PG_BIN/pg_ctl" -D "$STANDBY_DIR" -w promote >/dev/null 2>&1
is "$?" 0 "3. pg_ctl promote"
wait_until standby_has 'SELECT pg_is_in_recovery()' f
ok "$?" "3. the standby is now a primary database"
# 4. The secondary's role becomes primary: config edit and restart.
sed -i 's/^role = secondary$/role = primary/' "$SEC_CONF"
kill -TERM "$SEC_API_PID"
wait "$SEC_API_PID" 2>/dev/null
start_secondary_api
ok "$?" "4. gate-api restarts as the new primary"
SSH_PORT=$SEC_SSH_PORT
commit after
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
grep -qF "$MSG_MAINTENANCE_PUSH" "$GG_TMP/err"
ok "$?" "4. the new primary is still in maintenance mode (replicated): pushes refused"
# 5. Maintenance off at the new primary.
sec_gatectl maintenance off >/dev/null
is "$?" 0 "5. maintenance off at the new primary"
git --git-dir="$SEC_REPO" merge-base --is-ancestor "$ACKED" main
ok "$?" "no acknowledged push is lost: the last one is on the new primary"
for r in $(git --git-dir="$PRIMARY_REPO" for-each-ref --format='%(refname)'); do
	[ "$(git --git-dir="$PRIMARY_REPO" rev-parse "$r")" = "$(git --git-dir="$SEC_REPO" rev-parse "$r" 2>/dev/null)" ] ||
		{ echo "# missing on the new primary: $r"; false; } || break
done
ok "$?" "every ref of the old primary is on the new primary"
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "a push to the new primary is accepted after maintenance off"
is "$(git --git-dir="$SEC_REPO" rev-parse main)" "$(git -C "$W" rev-parse main)" "and its branch moved"
API=$SEC_API
admin POST /api/v4/users -d username=after -d email=after@example.com -d name=After -d password=after-pass-1234
is "$STATUS" 201 "the new primary takes API writes"

# --- moving a SQLite instance to PostgreSQL: gatectl db copy (README) ---------------------------
MOVE_DATA="$GG_TMP/moved"
MOVE_CONF="$MOVE_DATA/gitgate.conf"
env -u GITGATE_DATABASE_URL "$GATECTL" --config "$MOVE_CONF" init --data-dir "$MOVE_DATA" \
	--admin-password 'admin-pass-1234' --token-file "$MOVE_DATA/admin.token" >"$GG_TMP/init2.log" 2>&1
move_gatectl() { "$GATECTL" --config "$MOVE_CONF" "$@"; }
move_gatectl user create carol --email carol@example.com --password carol-pass-1234 >/dev/null
move_gatectl key add carol --file "$GG_TMP/devkey.pub" >/dev/null
move_gatectl project create moved/app >/dev/null
move_gatectl member add moved/app carol developer >/dev/null
move_gatectl maintenance on --message "Moving to PostgreSQL" >/dev/null
sql_standby 'CREATE DATABASE gitgate_moved' >/dev/null
MOVED_URL="postgresql://postgres@127.0.0.1:$STANDBY_PORT/gitgate_moved"
move_gatectl db copy --to "$MOVED_URL" >"$GG_TMP/copy.out" 2>&1
is "$?" 0 "gatectl db copy copies a SQLite store into a new PostgreSQL database"
sqlite_q() { python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "$MOVE_DATA/gitgate.db" "$1"; }
moved_q() { "$GG_PG_BIN/psql" "$MOVED_URL" -qAtX -c "$1"; }
for q in 'SELECT id, username, email, password_hash FROM users ORDER BY id' \
	'SELECT id, user_id, fingerprint FROM keys ORDER BY id' \
	'SELECT id, full_path, repo_path FROM projects ORDER BY id' \
	'SELECT project_id, user_id, access_level FROM members ORDER BY 1, 2' \
	'SELECT id, user_id, digest FROM tokens ORDER BY id' \
	'SELECT maintenance_mode_message FROM application_settings' \
	'SELECT id, action, target, new_value FROM audit_events ORDER BY id'; do
	is "$(moved_q "$q")" "$(sqlite_q "$q")" "copied as they were: ${q%% FROM*} FROM ${q#* FROM }"
done
is "$(moved_q 'SELECT maintenance_mode FROM application_settings')" t "booleans arrive as booleans"
MOVE_API_PORT=$(gg_free_port)
sed -i "s|^database_url = .*|database_url = $MOVED_URL|" "$MOVE_CONF"
grep -q "^database_url = $MOVED_URL\$" "$MOVE_CONF" || printf '\n[core]\ndatabase_url = %s\n' "$MOVED_URL" >>"$MOVE_CONF"
printf '\n[api]\nport = %s\n' "$MOVE_API_PORT" >>"$MOVE_CONF"
"$GATE_API" --config "$MOVE_CONF" >>"$GG_TMP/moved-gate-api.log" 2>&1 &
_pids+=("$!")
API="http://127.0.0.1:$MOVE_API_PORT"
wait_until curl -s -o /dev/null "$API/api/v4/version"
ADMIN_TOKEN=$(cat "$MOVE_DATA/admin.token")
admin GET /api/v4/user
is "$(json username)" root "gate-api on the moved database accepts the old admin token"
move_gatectl maintenance off >/dev/null
admin POST /api/v4/users -d username=dave -d email=dave@example.com -d name=Dave -d password=dave-pass-1234
is "$STATUS" 201 "a new user gets a fresh id after the copied ones"
out=$(move_gatectl db copy --from "sqlite:$MOVE_DATA/gitgate.db" --to "$MOVED_URL" 2>&1)
is "$?" 1 "a second copy into a database with users is refused"
like "$out" "has users already" "saying why"

done_testing
