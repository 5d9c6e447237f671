#!/usr/bin/env bash
# Running sshd-gate as a service (issue 9): sd_notify readiness (READY=1 only once the port
# listens; RELOADING=1 / STOPPING=1) for sshd-gate and gate-api, Prometheus /metrics after a
# known sequence (a clone, a push refused in maintenance, an unknown key, a disallowed
# command, a push), SIGHUP during a slowed clone (the clone completes, fsck is clean, new
# sessions get the new settings, host keys are re-read, a broken file changes nothing), and
# `meson install --destdir` laying out the programs, the example config and the units.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

PROXYHDR="$GG_SRC/tests/e2e/proxyhdr.py"
MSG_MAINTENANCE=$(_gg_msg GG_MSG_MAINTENANCE_PUSH)
mark() { MARK=$(wc -l <"$GG_TMP/sshd-gate.log"); }
since_mark() { tail -n +$((MARK + 1)) "$GG_TMP/sshd-gate.log"; }
wait_for() { # wait_for COMMAND...: until it succeeds (bounded)
	local i
	for i in $(seq 1 300); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
log_has() { since_mark | grep -Eq -- "$1"; }
commit() { git -C "$1" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m "$2"; }

# notify_listener SOCKET LOG PORT: a unix datagram socket standing in for systemd's
# NOTIFY_SOCKET; each message is logged, READY=1 with whether PORT accepts at that moment.
notify_listener() {
	python3 - "$@" <<'PY' &
import socket, sys
path, out, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        for line in s.recv(4096).decode().split("\n"):
            if not line:
                continue
            if line == "READY=1":
                c = socket.socket()
                try:
                    c.connect(("127.0.0.1", port))
                    line += " listening=yes"
                except OSError:
                    line += " listening=no"
                c.close()
            f.write(line + "\n")
PY
	_pids+=("$!")
	wait_for test -S "$1"
}

gg_setup
have_systemd=0
ldd "$SSHD_GATE" | grep -q libsystemd && have_systemd=1
gg_new_key alicekey
gg_new_key strangerkey
gatectl user create alice --email alice@example.com --password alice-pass-1234 >/dev/null
gatectl key add alice --file "$GG_TMP/alicekey.pub" >/dev/null
for p in grp/hello grp/big; do
	gatectl project create $p --visibility private >/dev/null
	gatectl member add $p alice owner >/dev/null
done
HELLO="$GG_DATA/repositories/grp/hello.git"
SSH_PORT=$(gg_free_port)
METRICS_PORT=$(gg_free_port)
printf '\n[ssh]\nport = %s\nmetrics_port = %s\n' "$SSH_PORT" "$METRICS_PORT" >>"$GG_CONF"

# --- readiness ------------------------------------------------------------------------------
notify_listener "$GG_TMP/api.notify" "$GG_TMP/api-notify.log" "$API_PORT"
NOTIFY_SOCKET="$GG_TMP/api.notify" gg_start_api
notify_listener "$GG_TMP/sshd.notify" "$GG_TMP/sshd-notify.log" "$SSH_PORT"
NOTIFY_SOCKET="$GG_TMP/sshd.notify" gg_start_sshd
if [ "$have_systemd" = 1 ]; then
	wait_for grep -q READY "$GG_TMP/sshd-notify.log"
	is "$(cat "$GG_TMP/sshd-notify.log")" "READY=1 listening=yes" \
		"sshd-gate: READY=1 once, when the SSH port already accepts connections"
	wait_for grep -q READY "$GG_TMP/api-notify.log"
	is "$(cat "$GG_TMP/api-notify.log")" "READY=1 listening=yes" \
		"gate-api: READY=1 once, when its port already accepts connections"
else
	ok 0 "# SKIP built without libsystemd"
	ok 0 "# SKIP built without libsystemd"
fi

# --- /metrics ---------------------------------------------------------------------------------
M="http://127.0.0.1:$METRICS_PORT"
scrape() { curl -s --max-time 30 "$M/metrics"; }
# metric TEXT NAME{LABELS}: the sample's value, 0 when absent.
metric() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' <<<"$1"; }
idle() { [ "$(metric "$(scrape)" gitgate_sshd_connections_in_flight)" = 0 ]; }

hdr=$(curl -s -D - -o /dev/null --max-time 30 "$M/metrics" | tr -d '\r')
like "$hdr" $'\n''Content-Type: text/plain; version=0.0.4; charset=utf-8' "/metrics: Prometheus text 0.0.4"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$M/other")" 404 "/metrics: other paths are 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST "$M/metrics")" 405 "/metrics: POST is 405"
wait_for idle
m0=$(scrape)
bad=$(python3 - <<'PY' "$m0"
import re, sys
types, bad = {}, []
for line in sys.argv[1].splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        types[name] = kind
    elif line.startswith("# HELP ") or not line:
        continue
    else:
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+)', line)
        base = m and re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        if not m or (m.group(1) not in types and base not in types):
            bad.append(line)
print("\n".join(bad))
PY
)
is "$bad" "" "/metrics: every sample is well-formed and has a TYPE"

W="$GG_TMP/work"
mkdir -p "$W"
git init -q -b main "$W/src"
commit "$W/src" first
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/hello)" HEAD:main 2>/dev/null
is "$?" 0 "a push (setting up)"
wait_for idle
m0=$(scrape)
is "$(metric "$m0" gitgate_sshd_maintenance_mode)" 0 "/metrics: maintenance off, as the last push showed"
# The sequence: a clone, a push refused by maintenance mode, an unknown key, a disallowed command.
gg_git alicekey clone -q "$(gg_url grp/hello)" "$W/clone" 2>/dev/null
is "$?" 0 "clone"
gatectl maintenance on >/dev/null
commit "$W/src" second
before=$(git -C "$HELLO" rev-parse main)
err=$(gg_git alicekey -C "$W/src" push "$(gg_url grp/hello)" HEAD:main 2>&1)
is "$?" 128 "push in maintenance mode fails"
is "$(grep -cxF "remote: $MSG_MAINTENANCE" <<<"$err")" 1 "... with the maintenance message"
is "$(git -C "$HELLO" rev-parse main)" "$before" "... and writes nothing"
gg_ssh strangerkey git-upload-pack grp/hello </dev/null >/dev/null 2>&1
is "$?" 255 "an unknown key is refused"
gg_ssh alicekey "rm -rf /" </dev/null >/dev/null 2>&1
is "$?" 128 "a disallowed command is refused"
wait_for idle
m1=$(scrape)
delta() { echo $(($(metric "$m1" "$1") - $(metric "$m0" "$1"))); }
is "$(delta gitgate_sshd_connections_total)" 4 "/metrics: 4 more connections"
is "$(delta 'gitgate_sshd_sessions_total{command="git-upload-pack",result="served"}')" 1 "/metrics: one clone served"
is "$(delta 'gitgate_sshd_sessions_total{command="git-receive-pack",result="denied"}')" 1 "/metrics: one push denied"
is "$(delta 'gitgate_sshd_sessions_total{command="none",result="disallowed"}')" 1 "/metrics: one disallowed command"
is "$(delta 'gitgate_sshd_refusals_total{reason="maintenance"}')" 1 "/metrics: one refusal by maintenance"
is "$(delta 'gitgate_sshd_refusals_total{reason="unknown_key"}')" 1 "/metrics: one unknown key"
is "$(delta 'gitgate_sshd_refusals_total{reason="disallowed"}')" 1 "/metrics: one disallowed command"
is "$(delta 'gitgate_sshd_refusals_total{reason="denied"}')" 0 "/metrics: no other denial"
is "$(delta gitgate_sshd_allowed_check_seconds_count)" 2 "/metrics: two /allowed checks timed"
is "$(delta 'gitgate_sshd_allowed_check_seconds_bucket{le="+Inf"}')" 2 "/metrics: ... in the +Inf bucket too"
ok "$(($(delta gitgate_sshd_bytes_sent_total) > 0 ? 0 : 1))" "/metrics: bytes sent counted"
ok "$(($(delta gitgate_sshd_bytes_received_total) > 0 ? 0 : 1))" "/metrics: bytes received counted"
is "$(metric "$m1" gitgate_sshd_maintenance_mode)" 1 "/metrics: maintenance on, as the refused push showed"
is "$(metric "$m1" gitgate_sshd_pushes_in_flight) $(metric "$m1" gitgate_sshd_sessions_in_flight)" "0 0" \
	"/metrics: nothing in flight"
gatectl maintenance off >/dev/null
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/hello)" HEAD:main 2>/dev/null
is "$?" 0 "push after maintenance"
wait_for idle
m2=$(scrape)
is "$(metric "$m2" gitgate_sshd_maintenance_mode)" 0 "/metrics: maintenance off again"
is "$(($(metric "$m2" 'gitgate_sshd_sessions_total{command="git-receive-pack",result="served"}') - $(metric "$m1" 'gitgate_sshd_sessions_total{command="git-receive-pack",result="served"}')))" 1 \
	"/metrics: one push served"

# --- a push is in flight from its access check on (drain) ---------------------------------
# A slowed push of 1.5 MB: while its pack is still arriving, sshd-gate and gate-api both
# count it in flight (pre_receive comes before the pack is read); the client goes away in
# the middle, and both count it out (post_receive on that path too), with nothing written.
in_flight() { gatectl maintenance status 2>/dev/null | sed -n 's/^Writes in flight: //p'; }
git init -q -b main "$W/slow"
head -c 1500000 /dev/urandom >"$W/slow/blob.bin"
git -C "$W/slow" add blob.bin
commit "$W/slow" slow
mark
PROXYHDR_UPRATE=100000 PROXYHDR_PIDFILE="$GG_TMP/relay.pid" \
	GIT_SSH_COMMAND="ssh -i $GG_TMP/alicekey $GG_SSH_OPTS -o ProxyCommand='python3 $PROXYHDR none - %h %p'" \
	git -C "$W/slow" push -q "$(gg_url grp/hello)" HEAD:refs/heads/slow 2>/dev/null &
push_pid=$!
before=$(git -C "$HELLO" for-each-ref)
wait_for log_has "git-receive-pack grp/hello by alice"
pushing() { [ "$(metric "$(scrape)" gitgate_sshd_pushes_in_flight)" = 1 ]; }
wait_for pushing
ok $? "/metrics: the push is in flight while its pack arrives"
is "$(in_flight)" 1 "gatectl maintenance status: 1 write in flight (pre_receive before the pack)"
kill "$(cat "$GG_TMP/relay.pid")"
wait "$push_pid"
ok "$(($? != 0 ? 0 : 1))" "the push cut off in the middle fails"
wait_for idle
is "$(metric "$(scrape)" gitgate_sshd_pushes_in_flight)" 0 "/metrics: no push in flight after the client went away"
is "$(in_flight)" 0 "gatectl maintenance status: counted out (post_receive when the client goes away)"
is "$(git -C "$HELLO" for-each-ref)" "$before" "... and nothing was written"
# The connection process killed (SIGKILL) in the middle of the push: it never ends its push, so
# the parent takes it back when it reaps the process; the gauge does not stay raised.
PROXYHDR_UPRATE=100000 PROXYHDR_PIDFILE="$GG_TMP/relay.pid" \
	GIT_SSH_COMMAND="ssh -i $GG_TMP/alicekey $GG_SSH_OPTS -o ProxyCommand='python3 $PROXYHDR none - %h %p'" \
	git -C "$W/slow" push -q "$(gg_url grp/hello)" HEAD:refs/heads/slow 2>/dev/null &
push_pid=$!
wait_for pushing
ok $? "/metrics: a second slow push is in flight"
conn=$(pgrep -n -P "$SSHD_GATE_PID")
kill -KILL "$conn"
wait "$push_pid"
ok "$(($? != 0 ? 0 : 1))" "the push whose connection process was killed fails"
kill "$(cat "$GG_TMP/relay.pid")" 2>/dev/null
wait_for idle
is "$(metric "$(scrape)" gitgate_sshd_pushes_in_flight)" 0 \
	"/metrics: the killed process's push is no longer in flight"
is "$(git -C "$HELLO" for-each-ref)" "$before" "... and nothing was written"

# --- SIGHUP during a clone --------------------------------------------------------------------
git init -q -b main "$W/big"
head -c 1500000 /dev/urandom >"$W/big/blob.bin"
git -C "$W/big" add blob.bin
commit "$W/big" big
gg_git alicekey -C "$W/big" push -q "$(gg_url grp/big)" HEAD:main 2>/dev/null
is "$?" 0 "a 1.5 MB repository pushed"
mark
# About 300 kB/s from the server: the clone takes seconds, the reload happens within it.
PROXYHDR_RATE=300000 GIT_SSH_COMMAND="ssh -i $GG_TMP/alicekey $GG_SSH_OPTS -o ProxyCommand='python3 $PROXYHDR none - %h %p'" \
	git clone -q "$(gg_url grp/big)" "$W/bigclone" 2>"$GG_TMP/clone.err" &
clone_pid=$!
wait_for log_has "git-upload-pack grp/big by alice"
sed -i 's/^log_format = .*//' "$GG_CONF"
printf '\n[core]\nlog_format = json\n' >>"$GG_CONF"
kill -HUP "$SSHD_GATE_PID"
wait_for log_has "reloaded: .* log_format=json"
ok $? "SIGHUP during the clone: reloaded"
wait "$clone_pid"
is "$?" 0 "the clone in flight during SIGHUP completes"
is "$(git -C "$W/bigclone" rev-parse HEAD)" "$(git -C "$W/big" rev-parse HEAD)" "... with the pushed commit"
git -C "$W/bigclone" fsck --no-progress >/dev/null 2>&1
is "$?" 0 "... and git fsck is clean"
cmp -s "$W/bigclone/blob.bin" "$W/big/blob.bin"
is "$?" 0 "... and the file is whole"
# The connection process logs the end of its session after the client has gone: wait for it.
wait_for log_has 'session of key-.* project=grp/big result=served'
log=$(since_mark)
reload_line=$(grep -n 'reloaded: ' <<<"$log" | head -1 | cut -d: -f1)
end_line=$(grep -n 'session of key-.* project=grp/big result=served' <<<"$log" | head -1 | cut -d: -f1)
ok "$((${end_line:-0} > ${reload_line:-0} ? 0 : 1))" "the clone's session ended after the reload"
like "$(sed -n "${end_line:-0}p" <<<"$log" 2>/dev/null)" '^[0-9T:.-]+Z sshd-gate\[[0-9]+\] info ' \
	"... and kept the text log format it started with"
mark
gg_git alicekey ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "a new session after the reload"
wait_for log_has '"msg":"session of key-'
line=$(since_mark | grep '"msg":"connection from 127.0.0.1' | head -1)
like "$line" '^\{"time":"[^"]+","level":"info","program":"sshd-gate","pid":[0-9]+,"func":"gg_session_run","correlation_id":"[0-9a-f]{16}","msg":"connection from 127\.0\.0\.1 port [0-9]+"\}$' \
	"the new session logs JSON with its correlation id (log_format = json took effect)"
is "$(metric "$(scrape)" 'gitgate_sshd_reloads_total{result="ok"}')" 1 "/metrics: one reload"

# Host keys are read again: a removed key is made anew and served.
old_fp=$(ssh-keygen -lf "$GG_DATA/ssh_host_ed25519_key" | awk '{print $2}')
rm -f "$GG_DATA/ssh_host_ed25519_key" "$GG_DATA/ssh_host_ed25519_key.pub"
mark
kill -HUP "$SSHD_GATE_PID"
wait_for log_has '"msg":"reloaded: '
new_fp=$(ssh-keygen -lf "$GG_DATA/ssh_host_ed25519_key" 2>/dev/null | awk '{print $2}')
seen=$(ssh-keyscan -t ed25519 -p "$SSH_PORT" 127.0.0.1 2>/dev/null | ssh-keygen -lf - | awk '{print $2}')
like "$new_fp" '^SHA256:' "SIGHUP: a missing host key is generated"
is "$seen" "$new_fp" "SIGHUP: new connections get the new host key"
unlike "$seen" "^$old_fp\$" "... not the old one"

# A broken file changes nothing.
printf '\n[ssh]\nbogus_key = 1\n' >>"$GG_CONF"
mark
kill -HUP "$SSHD_GATE_PID"
wait_for log_has 'reload failed, nothing changed: .*unknown key \[ssh\] bogus_key'
ok $? "SIGHUP with a broken file: logged, nothing changed"
gg_git alicekey ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "... sshd-gate still serves"
is "$(metric "$(scrape)" 'gitgate_sshd_reloads_total{result="failed"}')" 1 "/metrics: one failed reload"
kill -0 "$SSHD_GATE_PID"
is "$?" 0 "... and is still running"

if [ "$have_systemd" = 1 ]; then
	is "$(grep -c '^RELOADING=1$' "$GG_TMP/sshd-notify.log") $(grep -c '^READY=1' "$GG_TMP/sshd-notify.log")" "3 4" \
		"sd_notify: RELOADING=1 then READY=1 for each of the three reloads"
else
	ok 0 "# SKIP built without libsystemd"
fi
gg_stop_sshd
is "$?" 0 "SIGTERM: sshd-gate stops with status 0"
if [ "$have_systemd" = 1 ]; then
	wait_for grep -qx STOPPING=1 "$GG_TMP/sshd-notify.log"
	is "$(tail -1 "$GG_TMP/sshd-notify.log")" "STOPPING=1" "sd_notify: STOPPING=1 on SIGTERM"
else
	ok 0 "# SKIP built without libsystemd"
fi

# --- meson install ------------------------------------------------------------------------------
D="$GG_TMP/destdir"
meson install -C "$GG_BUILD" --destdir "$D" --no-rebuild --quiet >"$GG_TMP/install.log" 2>&1
is "$?" 0 "meson install --destdir"
prefix=$(meson introspect "$GG_BUILD" --buildoptions | python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
for f in bin/sshd-gate bin/gate-api bin/gatectl bin/gate-shell bin/gate-hook bin/gate-authorized-keys-check \
	bin/gate-check etc/gitgate/gitgate.conf.example lib/systemd/system/sshd-gate.service \
	lib/systemd/system/gate-api.service share/doc/gitgate/README.md; do
	ok "$([ -e "$D$prefix/$f" ] && echo 0 || echo 1)" "installed: $prefix/$f"
done
unit="$D$prefix/lib/systemd/system/sshd-gate.service"
like "$(cat "$unit")" $'\n''Type=notify'$'\n' "sshd-gate.service: Type=notify"
like "$(cat "$unit")" $'\n''ExecStart='"$prefix"'/bin/sshd-gate --config '"$prefix"'/etc/gitgate/gitgate.conf'$'\n' \
	"sshd-gate.service: ExecStart names the installed binary and config"
like "$(cat "$unit")" $'\n''ExecReload=/bin/kill -HUP \$MAINPID'$'\n' "sshd-gate.service: reload is SIGHUP"
for k in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/gitgate PrivateTmp=yes; do
	like "$(cat "$unit") $(cat "$D$prefix/lib/systemd/system/gate-api.service")" \
		$'\n'"$k"$'\n'".*"$'\n'"$k"$'\n' "both units: $k"
done
# The example configuration is one the programs accept.
ex="$GG_TMP/example.conf"
sed "s|^data_dir = .*|data_dir = $GG_TMP/exdata|" "$D$prefix/etc/gitgate/gitgate.conf.example" >"$ex"
out=$("$D$prefix/bin/sshd-gate" --config "$ex" --help 2>&1 >/dev/null; "$D$prefix/bin/gatectl" --config "$ex" init --data-dir "$GG_TMP/exdata" --admin-password 'admin-pass-1234' 2>&1 >/dev/null)
is "$?" 0 "the example configuration loads (gatectl init with it)"
if command -v systemd-analyze >/dev/null; then
	for u in sshd-gate gate-api; do
		sed "s|$prefix/bin|$D$prefix/bin|" "$D$prefix/lib/systemd/system/$u.service" >"$GG_TMP/$u.service"
		out=$(systemd-analyze verify "$GG_TMP/$u.service" 2>&1)
		is "$?:$out" "0:" "systemd-analyze verify $u.service"
	done
else
	ok 0 "# SKIP no systemd-analyze"
	ok 0 "# SKIP no systemd-analyze"
fi

done_testing
