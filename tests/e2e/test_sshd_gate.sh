#!/usr/bin/env bash
# sshd-gate (SPEC §5): real git over real ssh against sshd-gate + gate-api.  Clone and push,
# the refusals with their exact messages and exit statuses (maintenance mode, disallowed
# commands, unknown keys, gate-api down), that a refused push writes nothing, the
# connection limits and a graceful stop.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

MSG_DISALLOWED=$(_gg_msg GG_MSG_DISALLOWED_COMMAND)
MSG_UNREACHABLE=$(_gg_msg GG_MSG_API_UNREACHABLE)
MSG_TOO_MANY=$(_gg_msg GG_MSG_TOO_MANY_SESSIONS)
RULER=$(printf '=%.0s' $(seq 1 72))

# box MESSAGE: a refusal as gitlab-shell frames it on stderr.
box() {
	printf 'remote: \nremote: %s\nremote: \nremote: %s\nremote: \nremote: %s\nremote: ' \
		"$RULER" "$1" "$RULER"
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
# snapshot REPO: every ref and every file under objects/, to prove nothing was written.
snapshot() {
	git -C "$1" for-each-ref --format='%(objectname) %(refname)'
	(cd "$1/objects" && find . -type f | sort)
}
commit() { # commit DIR MESSAGE
	git -C "$1" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m "$2"
}
# run_ssh KEY ARGS...: sets OUT, ERR and RC.
run_ssh() {
	OUT=$(gg_ssh "$@" </dev/null 2>"$GG_TMP/err")
	RC=$?
	ERR=$(cat "$GG_TMP/err")
}

gg_setup
gg_new_key alicekey
gg_new_key bobkey
gg_new_key strangerkey
gatectl user create alice --email alice@example.com --password alice-pass-1234 >/dev/null
gatectl user create bob --email bob@example.com --password bob-pass-1234 >/dev/null
gatectl key add alice --file "$GG_TMP/alicekey.pub" >/dev/null
gatectl key add bob --file "$GG_TMP/bobkey.pub" >/dev/null
gatectl project create grp/hello --visibility private >/dev/null
gatectl project create grp/empty --visibility private >/dev/null
gatectl member add grp/hello alice owner >/dev/null
gatectl member add grp/empty alice owner >/dev/null
gatectl member add grp/hello bob developer >/dev/null
gatectl branch protect grp/hello main --push maintainer >/dev/null
HELLO="$GG_DATA/repositories/grp/hello.git"
EMPTY="$GG_DATA/repositories/grp/empty.git"
# Clients of gate-api give up after 3 s, within the 8 s login grace time.
printf '\n[api]\ntimeout = 3\n' >>"$GG_CONF"
gg_start_api
gg_start_sshd 'login_grace_time = 8' 'max_startups = 3' 'max_sessions_per_user = 1'

# --- host keys ---------------------------------------------------------------------------
keys=$(cat "$GG_TMP/host-keys.txt")
like "$keys" '^SHA256:[A-Za-z0-9+/]{43} .*ssh_host_ed25519_key \(ED25519\)'$'\n''SHA256:[A-Za-z0-9+/]{43} .*ssh_host_rsa_key \(RSA\)$' \
	"--print-host-keys prints the ed25519 and RSA fingerprints"
is "$(stat -c %a "$GG_DATA/ssh_host_ed25519_key") $(stat -c %a "$GG_DATA/ssh_host_rsa_key")" "600 600" \
	"host keys are mode 0600"
ed=$(ssh-keygen -lf "$GG_DATA/ssh_host_ed25519_key" | awk '{print $2}')
is "${keys%% *}" "$ed" "the printed fingerprint is ssh-keygen's"
seen=$(ssh-keyscan -t ed25519 -p "$SSH_PORT" 127.0.0.1 2>/dev/null | ssh-keygen -lf - | awk '{print $2}')
is "$seen" "$ed" "the daemon serves the key it printed"

# --- welcome ------------------------------------------------------------------------------
run_ssh alicekey
is "$OUT" "Welcome to GitLab, @alice!" "empty command: welcome"
is "$RC" 0 "empty command: exit status 0"
run_ssh alicekey -T
is "$OUT" "Welcome to GitLab, @alice!" "shell request without a pty: welcome"

# --- clone, push, fetch -------------------------------------------------------------------
W="$GG_TMP/work"
mkdir -p "$W"
err=$(gg_git alicekey clone "$(gg_url grp/empty)" "$W/empty" 2>&1)
is "$?" 0 "clone of an empty repository"
contains "$err" "You appear to have cloned an empty repository" "git says the clone is empty"
echo hello >"$W/empty/README"
git -C "$W/empty" add README
commit "$W/empty" "first"
commit "$W/empty" "second"
gg_git alicekey -C "$W/empty" push -q origin HEAD:main 2>"$GG_TMP/err"
is "$?" 0 "push to the empty repository"
is "$(git -C "$EMPTY" rev-parse refs/heads/main)" "$(git -C "$W/empty" rev-parse HEAD)" \
	"the pushed commit is the repository's main"
git -C "$EMPTY" fsck --no-progress >/dev/null 2>&1
is "$?" 0 "the repository passes git fsck after the push"

commit "$W/empty" "for hello"
gg_git alicekey -C "$W/empty" push -q "$(gg_url grp/hello)" HEAD:main 2>/dev/null
is "$?" 0 "owner pushes to a protected main"
gg_git alicekey clone -q "$(gg_url grp/hello)" "$W/hello" 2>/dev/null
is "$?" 0 "clone of a non-empty repository"
is "$(git -C "$W/hello" log --format=%s | tr '\n' ' ')" "for hello second first " "the clone has the history"
v0=$(gg_git alicekey -c protocol.version=0 ls-remote "$(gg_url grp/hello)" 2>/dev/null)
v2=$(gg_git alicekey -c protocol.version=2 ls-remote "$(gg_url grp/hello)" 2>/dev/null)
is "$v2" "$v0" "ls-remote: protocol v2 (GIT_PROTOCOL) and v0 agree"
like "$v0" "refs/heads/main" "ls-remote lists main"
commit "$W/empty" "fetch me"
gg_git alicekey -C "$W/empty" push -q "$(gg_url grp/hello)" HEAD:main 2>/dev/null
gg_git alicekey -C "$W/hello" fetch -q origin 2>/dev/null
is "$?" 0 "incremental fetch"
is "$(git -C "$W/hello" rev-parse origin/main)" "$(git -C "$HELLO" rev-parse main)" "fetch brought the new commit"
files=$(gg_git alicekey archive --remote="$(gg_url grp/hello)" --format=tar main 2>/dev/null | tar tf -)
is "$files" "README" "git archive --remote (upload-archive)"

# --- the second check: real changes, asked after the pack arrived --------------------------
git -C "$W/hello" reset -q --hard origin/main
before=$(snapshot "$HELLO")
commit "$W/hello" "by bob"
err=$(gg_git bobkey -C "$W/hello" push origin HEAD:main 2>&1)
is "$?" 1 "developer's push to a protected branch fails"
contains "$err" "[remote rejected] HEAD -> main ($MSG_PROTECTED_BRANCH" \
	"... refused at the second check with gate-api's message"
is "$(snapshot "$HELLO")" "$before" "... and the repository is unchanged (refs and objects)"
gg_git bobkey -C "$W/hello" push -q origin HEAD:refs/heads/bob-feature 2>/dev/null
is "$?" 0 "developer's push to an unprotected branch works"

# --- disallowed commands ------------------------------------------------------------------
long=$(printf 'a%.0s' $(seq 1 600))
bad=(
	"git-upload-pack '../x'"
	"git-upload-pack 'a/../b'"
	"git-upload-pack '/grp/../../etc/passwd'"
	"git-upload-pack '-oProxyCommand=id'"
	"git-upload-pack --help"
	"git-upload-pack 'grp/hello.git';touch $GG_TMP/pwned"
	"git-upload-pack \$(touch $GG_TMP/pwned)"
	"git-upload-pack \`touch $GG_TMP/pwned\`"
	"git-upload-pack 'grp/hello.git' extra"
	"git-upload-pack 'grp/hello.git"
	"git-upload-pack \"grp/hello.git'"
	$'git-upload-pack \'grp/hello.git\'\ntouch '"$GG_TMP/pwned"
	"git-upload-pack 'grp//hello.git'"
	"git-upload-pack '.hidden/x'"
	"git-upload-pack 'grp/.git'"
	"git-upload-pack"
	"git-receive-pack"
	"git-upload-archive"
	"git-shell -c 'git-upload-pack grp/hello.git'"
	"scp -t /tmp"
	"sh -c id"
	"bash"
	"id"
	"git"
	"git status"
	"git-upload-pack 'grp/hello.git' | cat"
	"git-upload-pack grp/hello.git&&touch $GG_TMP/pwned"
	"git-upload-pack 'grp/hello.git'>$GG_TMP/pwned"
	"git-upload-pack '$long'"
	"git-lfs-authenticate grp/hello.git download"
	"GIT-UPLOAD-PACK 'grp/hello.git'"
	"/usr/bin/git-upload-pack 'grp/hello.git'"
	$'git-upload-pack\t\'grp/hello.git\''
	"git-upload-pack 'grp/hel lo.git'"
	"git-upload-pack '~alice/x'"
	"git-receive-pack 'grp/hello.git/'"
	"2fa_recovery_codes"
	"personal_access_token name api"
)
for cmd in "${bad[@]}"; do
	run_ssh alicekey "$cmd"
	name=$(printf '%q' "$cmd" | cut -c1-60)
	if [ "$RC" = 128 ] && [ "$ERR" == "$(box "$MSG_DISALLOWED")" ] && [ -z "$OUT" ]; then
		ok 0 "disallowed: $name"
	else
		ok 1 "disallowed: $name"
		printf '#   status %s, stdout %q, stderr %q\n' "$RC" "$OUT" "$ERR"
	fi
done
[ ! -e "$GG_TMP/pwned" ]
ok $? "no disallowed command ran anything"

# --- authentication and what is never granted ---------------------------------------------
run_ssh strangerkey
is "$RC" 255 "unknown key: refused at authentication"
contains "$ERR" "Permission denied (publickey)" "unknown key: ssh says permission denied"
err=$(gg_git strangerkey clone -q "$(gg_url grp/hello)" "$W/nope" 2>&1)
is "$?" 128 "unknown key: git clone fails"
err=$(ssh -i "$GG_TMP/alicekey" $GG_SSH_OPTS -p "$SSH_PORT" root@127.0.0.1 </dev/null 2>&1)
contains "$err" "Permission denied (publickey)" "only the configured user may log in"
for i in 1 2 3 4 5 6 7; do gg_new_key "junk$i"; done
ssh $GG_SSH_OPTS -i "$GG_TMP/junk1" -i "$GG_TMP/junk2" -i "$GG_TMP/junk3" -i "$GG_TMP/junk4" \
	-i "$GG_TMP/junk5" -i "$GG_TMP/junk6" -i "$GG_TMP/junk7" -i "$GG_TMP/alicekey" \
	-p "$SSH_PORT" git@127.0.0.1 </dev/null >/dev/null 2>&1
is "$?" 255 "a seventh key after six failures is not tried"
like "$(cat "$GG_TMP/sshd-gate.log")" "too many authentication failures" "... and the daemon logs it"
run_ssh alicekey -s sftp
contains "$ERR" "subsystem request failed" "subsystems are refused"
run_ssh alicekey -W "127.0.0.1:$API_PORT"
is "$RC" 255 "port forwarding (-W) is refused"
run_ssh alicekey -o SetEnv=EVIL=1
is "$OUT" "Welcome to GitLab, @alice!" "other environment variables are ignored"

# --- limits ---------------------------------------------------------------------------------
start=$(date +%s)
timeout 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT; cat <&3 >/dev/null"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -ge 7 ] && [ "$elapsed" -le 15 ]
ok $? "a silent client is dropped after login_grace_time (8 s; took $elapsed s)"
# A client that is not SSH: the key exchange fails, the connection ends with the reason logged.
# (What it read is not checked: the close may reset the connection before the banner is read.)
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT; cat >&3; cat <&3" >/dev/null 2>&1
ok "$([ $? -ne 124 ]; echo $?)" "a client speaking HTTP is disconnected (not left waiting)"
for i in $(seq 1 50); do grep -q 'key exchange with 127.0.0.1 failed: ' "$GG_TMP/sshd-gate.log" && break; sleep 0.1; done
like "$(grep 'key exchange with 127.0.0.1 failed: ' "$GG_TMP/sshd-gate.log" | tail -1)" 'failed: .+' \
	"... and the daemon logs why the key exchange failed"
run_ssh alicekey
is "$OUT" "Welcome to GitLab, @alice!" "... and still serves"

exec 5<>"/dev/tcp/127.0.0.1/$SSH_PORT" 6<>"/dev/tcp/127.0.0.1/$SSH_PORT" 7<>"/dev/tcp/127.0.0.1/$SSH_PORT"
sleep 0.5
banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT; head -c 7 <&3")
is "$banner" "" "max_startups: a 4th unauthenticated connection is dropped"
exec 5>&- 6>&- 7>&-
for i in $(seq 1 40); do # the daemon notices the closed connections
	run_ssh alicekey
	[ "$OUT" = "Welcome to GitLab, @alice!" ] && break
	sleep 0.5
done
is "$OUT" "Welcome to GitLab, @alice!" "max_startups: connections are accepted again afterwards"

# One session held open (upload-pack waits for the client's wants) while a second one is tried.
hold="$GG_TMP/hold"
mkfifo "$hold"
(gg_ssh alicekey "git-upload-pack 'grp/hello.git'" <"$hold" >"$GG_TMP/held.out" 2>&1) &
held=$!
exec 9>"$hold"
for i in $(seq 1 300); do
	[ -s "$GG_TMP/held.out" ] && break
	sleep 0.1
done
run_ssh alicekey "git-upload-pack 'grp/hello.git'"
is "$RC" 1 "max_sessions_per_user: a second session of the same user is refused"
is "$ERR" "$(box "$MSG_TOO_MANY")" "... with a message"
run_ssh bobkey
is "$OUT" "Welcome to GitLab, @bob!" "... while another user still gets in"
printf '0000' >&9
exec 9>&-
wait "$held"

# --- maintenance mode -----------------------------------------------------------------------
gatectl maintenance on >/dev/null
before=$(snapshot "$HELLO")
commit "$W/hello" "during maintenance"
err=$(gg_git alicekey -C "$W/hello" push origin HEAD:main 2>&1)
is "$?" 128 "maintenance: git push fails"
contains "$err" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance: the exact message, as remote: lines"
is "$(snapshot "$HELLO")" "$before" "maintenance: the repository is unchanged (refs and objects)"
run_ssh alicekey "git-receive-pack 'grp/hello.git'"
is "$RC" 1 "maintenance: git-receive-pack exits with status 1"
is "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance: the refusal on stderr is exactly the box"
rm -rf "$W/during"
gg_git alicekey clone -q "$(gg_url grp/hello)" "$W/during" 2>/dev/null
is "$?" 0 "maintenance: clone still works"
gg_git alicekey -C "$W/hello" fetch -q origin 2>/dev/null
is "$?" 0 "maintenance: fetch still works"
gatectl maintenance off >/dev/null

# --- SIGTERM: stop accepting, let running sessions finish -------------------------------------
fifo="$GG_TMP/stdin"
mkfifo "$fifo"
(gg_ssh alicekey "git-upload-pack 'grp/hello.git'" <"$fifo" >"$GG_TMP/inflight.out" 2>&1) &
inflight=$!
exec 8>"$fifo"
for i in $(seq 1 100); do
	[ -s "$GG_TMP/inflight.out" ] && break
	sleep 0.1
done
kill -TERM "$SSHD_GATE_PID"
sleep 0.5
(exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null
is "$?" 1 "SIGTERM: no new connections"
kill -0 "$SSHD_GATE_PID" 2>/dev/null
is "$?" 0 "SIGTERM: the daemon waits for the running session"
printf '0000' >&8
exec 8>&-
wait "$inflight"
like "$(tr -d '\0' <"$GG_TMP/inflight.out")" "refs/heads/main" "SIGTERM: the running session completed"
wait "$SSHD_GATE_PID"
is "$?" 0 "SIGTERM: the daemon exits with status 0 once it is done"
gg_start_sshd

# --- gate-api unreachable ---------------------------------------------------------------------
gg_stop_api
run_ssh alicekey "git-upload-pack 'grp/hello.git'"
is "$RC" 1 "gate-api stopped: exit status 1"
is "$ERR" "$(box "$MSG_UNREACHABLE")" "gate-api stopped: Internal API unreachable"
err=$(gg_git alicekey clone -q "$(gg_url grp/hello)" "$W/down" 2>&1)
contains "$err" "$(box "$MSG_UNREACHABLE")" "gate-api stopped: git clone shows Internal API unreachable"
run_ssh alicekey
is "$ERR" "$(box "$MSG_UNREACHABLE")" "gate-api stopped: the welcome says so too"

# A gate-api that accepts connections and never answers: bounded by api_timeout (3 s here).
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); print("ready", flush=True)
conns=[]
while True: conns.append(s.accept())' "$API_PORT" >"$GG_TMP/hung.out" 2>&1 &
hung=$!
_pids+=("$hung")
for i in $(seq 1 50); do [ -s "$GG_TMP/hung.out" ] && break; sleep 0.1; done
start=$(date +%s)
run_ssh alicekey "git-upload-pack 'grp/hello.git'"
elapsed=$(($(date +%s) - start))
is "$ERR" "$(box "$MSG_UNREACHABLE")" "gate-api hung: Internal API unreachable"
[ "$elapsed" -le 5 ]
ok $? "gate-api hung: the answer comes within the API timeout (took $elapsed s)"
kill "$hung"

gg_stop_sshd
is "$?" 0 "sshd-gate stops cleanly"
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|ERROR SUMMARY: [1-9]' "$GG_TMP/sshd-gate.log" >/dev/null; then
	ok 1 "no sanitizer or valgrind reports in the sshd-gate log"
	grep -E -A20 'AddressSanitizer|runtime error|ERROR SUMMARY' "$GG_TMP/sshd-gate.log" | sed 's/^/# /' | head -60
else
	ok 0 "no sanitizer or valgrind reports in the sshd-gate log"
fi
# One structured line per session: user, key, project, command, result, bytes, duration.
line=$(grep -E 'session of key-[0-9]+ ended: user=alice command=git-receive-pack project=grp/empty result=served exit=0 bytes_in=[1-9][0-9]* bytes_out=[1-9][0-9]* duration_ms=[0-9]+' "$GG_TMP/sshd-gate.log" | head -1)
ok "$([ -n "$line" ]; echo $?)" "a served push leaves one session line with user, key, project, command, result, bytes and duration"
line=$(grep -E 'ended: user=- command=- project=- result=disallowed exit=128' "$GG_TMP/sshd-gate.log" | head -1)
ok "$([ -n "$line" ]; echo $?)" "a disallowed command leaves a session line saying so"
done_testing
