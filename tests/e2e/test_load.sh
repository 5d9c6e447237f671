#!/usr/bin/env bash
# Load (issue 7, item 4), bounded and on loopback: 200 concurrent clones of a medium repository
# (about 600 objects, 1.1 MB of pack) by one user with max_sessions_per_user = 50, and 1,000 SSH connections
# held open at once with max_startups = 1000.  Nothing may fail beyond the configured limits,
# and what a limit refuses is refused with its message (a clone: "Too many concurrent sessions";
# connection 1,001 while 1,000 are unauthenticated: dropped before the banner, as OpenSSH's
# MaxStartups does).  Afterwards sshd-gate and gate-api hold as many descriptors and sshd-gate
# has as many processes as before (counted from /proc).
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

MSG_TOO_MANY=$(_gg_msg GG_MSG_TOO_MANY_SESSIONS)
N_CLONES=${GG_LOAD_CLONES:-200}
N_CONNS=${GG_LOAD_CONNS:-1000}
# Under AddressSanitizer or valgrind every connection process costs tens of MB: a fifth.
if [ -n "$GG_WRAP" ] || ldd "$GG_BUILD/sshd-gate/sshd-gate" | grep -q libasan; then
	N_CLONES=${GG_LOAD_CLONES:-40}
	N_CONNS=${GG_LOAD_CONNS:-200}
fi
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
children() { pgrep -P "$SSHD_GATE_PID" | wc -l; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
wait_children() { # wait_children N SECONDS
	local i
	for i in $(seq 1 $(($2 * 10))); do
		[ "$(children)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# stray_pids: processes other than this shell and the two daemons that hold a file under the
# storage root (a forked helper that hung or was orphaned would be one).
stray_pids() {
	local p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		case " $$ $SSHD_GATE_PID $GATE_API_PID " in *" $pid "*) continue ;; esac
		ls -l "$p/fd" 2>/dev/null | grep -qF "$GG_DATA/repositories" && echo "$pid"
	done
}
no_stray() { # no_stray: waits (bounded) until no such process is left
	local i s
	for i in $(seq 1 120); do
		s=$(stray_pids)
		[ -z "$s" ] && break
		sleep 0.5
	done
	is "$s" "" "no process but the daemons still holds a file in the storage root${s:+ ($(for x in $s; do tr '\0' ' ' <"/proc/$x/cmdline"; echo; done | sort | uniq -c | head -3 | tr '\n' ';'))}"
}
gg_setup
gg_git_home
gg_user_with_key alice
gatectl project create grp/medium --visibility private >/dev/null
gatectl member add grp/medium alice owner >/dev/null
printf '\n[api]\nthreads = 4\n' >>"$GG_CONF"
gg_start_api
gg_start_sshd "max_startups = $N_CONNS" "max_sessions = $((N_CONNS + 20))" \
	"max_sessions_per_user = $((N_CLONES / 4))" "login_grace_time = 120"

# A medium repository: 5 commits over 240 files of text.
W="$GG_TMP/work"
git init -q "$W/src"
for c in 1 2 3 4 5; do
	for f in $(seq 1 240); do
		[ $((f % c)) = 0 ] || continue
		mkdir -p "$W/src/d$((f % 12))"
		seq "$c$f" 7 $((c * 4000 + f * 30)) >"$W/src/d$((f % 12))/f$f.txt"
	done
	git -C "$W/src" add -A
	git -C "$W/src" commit -qm "commit $c"
done
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/medium)" HEAD:main 2>/dev/null
is "$?" 0 "setup: pushed $(git -C "$W/src" count-objects -v | sed -n 's/^count: //p') objects"
HEAD_OID=$(git -C "$W/src" rev-parse HEAD)

# Every gate-api worker thread opens its store connection on first use: warm them all up
# so that the counts below compare like with like.
seq 1 400 | xargs -P 32 -I{} curl -s -o /dev/null -H "PRIVATE-TOKEN: $ADMIN_TOKEN" "$API/api/v4/version"
sleep 1
fd_ssh0=$(fds "$SSHD_GATE_PID")
fd_api0=$(fds "$GATE_API_PID")
thr_api0=$(threads "$GATE_API_PID")
ch0=$(children)
diag "before: sshd-gate $fd_ssh0 fds, $ch0 children; gate-api $fd_api0 fds, $thr_api0 threads"

# --- N concurrent clones --------------------------------------------------------------------
t0=$(date +%s)
cloners=()
for i in $(seq 1 "$N_CLONES"); do
	(
		timeout 240 bash -c "GIT_SSH_COMMAND='ssh -i $GG_TMP/alicekey $GG_SSH_OPTS' git clone -q '$(gg_url grp/medium)' '$W/c$i'" \
			>/dev/null 2>"$W/c$i.err"
		echo $? >"$W/c$i.rc"
	) &
	cloners+=($!)
done
wait "${cloners[@]}"
t1=$(date +%s)
good=0 limited=0 other=0
for i in $(seq 1 "$N_CLONES"); do
	rc=$(cat "$W/c$i.rc")
	if [ "$rc" = 0 ] && [ "$(git -C "$W/c$i" rev-parse HEAD 2>/dev/null)" = "$HEAD_OID" ]; then
		good=$((good + 1))
	elif [ "$rc" != 0 ] && grep -qF "$MSG_TOO_MANY" "$W/c$i.err"; then
		limited=$((limited + 1))
	else
		other=$((other + 1))
		[ "$other" -le 3 ] && diag "clone $i: status $rc: $(tr '\n' '|' <"$W/c$i.err" | cut -c1-300)"
	fi
done
diag "$N_CLONES concurrent clones in $((t1 - t0)) s: $good complete, $limited refused by max_sessions_per_user, $other otherwise"
is "$other" 0 "$N_CLONES concurrent clones: each one complete or refused with '$MSG_TOO_MANY'"
[ "$good" -ge 1 ]
ok $? "... $good of them complete (HEAD is main)"
git -C "$W/c$(for i in $(seq 1 "$N_CLONES"); do [ "$(cat "$W/c$i.rc")" = 0 ] && echo "$i" && break; done)" \
	fsck --full --no-progress >/dev/null 2>&1
is "$?" 0 "... a complete clone passes git fsck --full"
rm -rf "$W"/c*
wait_children "$ch0" 60
ok $? "after the clones sshd-gate has $ch0 children again ($(children))"

# --- N_CONNS connections held open ----------------------------------------------------------
cat >"$GG_TMP/hold.py" <<'PY'
import os, socket, sys, time
port, n, release = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks, banners = [], 0
deadline = time.monotonic() + 90
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"SSH-2.0-gitgate-load\r\n")
    socks.append(s)
for s in socks:                       # every one answers with its banner
    s.settimeout(max(1, deadline - time.monotonic()))
    try:
        if s.recv(8).startswith(b"SSH-2.0"):
            banners += 1
    except OSError:
        pass
extra = socket.create_connection(("127.0.0.1", port), timeout=30)
extra.settimeout(10)
try:
    got = extra.recv(8)
except OSError:
    got = b""
print(banners, "extra=" + ("banner" if got.startswith(b"SSH-2.0") else "dropped"), flush=True)
while not os.path.exists(release) and time.monotonic() < deadline + 60:
    time.sleep(0.1)
for s in socks + [extra]:
    s.close()
PY
t0=$(date +%s)
python3 "$GG_TMP/hold.py" "$SSH_PORT" "$N_CONNS" "$GG_TMP/release" >"$GG_TMP/hold.out" 2>"$GG_TMP/hold.err" &
holder=$!
for i in $(seq 1 1200); do
	[ -s "$GG_TMP/hold.out" ] && break
	sleep 0.1
done
read -r banners extra <"$GG_TMP/hold.out"
held_children=$(children)
peak_fds=$(fds "$SSHD_GATE_PID")
touch "$GG_TMP/release"
wait "$holder"
t1=$(date +%s)
diag "held $N_CONNS connections: $banners banners, $held_children children, sshd-gate $peak_fds fds, in $((t1 - t0)) s"
is "${banners:-0}" "$N_CONNS" "$N_CONNS connections open at once all get sshd-gate's banner"
is "$extra" "extra=dropped" "connection $((N_CONNS + 1)) is dropped (max_startups = $N_CONNS)"
[ "$held_children" -ge "$N_CONNS" ]
ok $? "... one process per connection while they are open ($held_children)"
wait_children "$ch0" 60
ok $? "after closing them sshd-gate has $ch0 children again ($(children))"
gg_ssh alicekey </dev/null >"$GG_TMP/out" 2>&1
is "$(cat "$GG_TMP/out")" "Welcome to GitLab, @alice!" "sshd-gate serves afterwards"

# --- no leak ------------------------------------------------------------------------------
no_stray
sleep 1
is "$(fds "$SSHD_GATE_PID")" "$fd_ssh0" "sshd-gate holds as many file descriptors as before"
is "$(children)" "$ch0" "sshd-gate has as many child processes as before"
is "$(fds "$GATE_API_PID")" "$fd_api0" "gate-api holds as many file descriptors as before"
is "$(threads "$GATE_API_PID")" "$thr_api0" "gate-api runs as many threads as before"
done_testing
