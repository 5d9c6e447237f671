#!/usr/bin/env bash
# gate-shell (SPEC §5): OpenSSH's forced command, run here the way sshd runs it (the command in
# SSH_ORIGINAL_COMMAND, the client's streams on stdin/stdout/stderr), without sshd so that
# every refusal can be checked for its exact bytes and exit status; and real git clone, fetch,
# push and archive through it.  test_openssh.sh runs it under a real sshd.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

GATE_SHELL="$GG_BUILD/sshd-gate/gate-shell"
MSG_DISALLOWED=$(_gg_msg GG_MSG_DISALLOWED_COMMAND)
MSG_UNREACHABLE=$(_gg_msg GG_MSG_API_UNREACHABLE)
MSG_ONLY_SSH=$(_gg_msg GG_MSG_ONLY_SSH)
MSG_UNKNOWN_KEY=$(_gg_msg GG_MSG_UNKNOWN_KEY)
RULER=$(printf '=%.0s' $(seq 1 72))
SSH_CONN="127.0.0.1 40000 127.0.0.1 22"

box() {
	printf 'remote: \nremote: %s\nremote: \nremote: %s\nremote: \nremote: %s\nremote: ' \
		"$RULER" "$1" "$RULER"
}
# shell IDENTITY COMMAND [env...]: gate-shell as sshd runs it; sets OUT, ERR, RC.
shell() {
	local who=$1 cmd=$2
	shift 2
	OUT=$(env SSH_CONNECTION="$SSH_CONN" SSH_ORIGINAL_COMMAND="$cmd" "$@" \
		"$GATE_SHELL" --config "$GG_CONF" "$who" </dev/null 2>"$GG_TMP/err")
	RC=$?
	ERR=$(cat "$GG_TMP/err")
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
refs() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; }
commit() {
	git -C "$1" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m "$2"
}

gg_setup
gg_new_key alice
gatectl user create alice --email alice@example.com >/dev/null
gatectl user create rep --email rep@example.com >/dev/null
KEY=$(gatectl key add alice --file "$GG_TMP/alice.pub" | sed -n 's/^Added key \([0-9]*\) .*/\1/p')
gatectl project create grp/hello --visibility private >/dev/null
gatectl member add grp/hello alice developer >/dev/null
gatectl member add grp/hello rep reporter >/dev/null
HELLO="$GG_DATA/repositories/grp/hello.git"
gg_start_api

# A stand-in for ssh: what sshd does for a key whose line forces gate-shell.
cat >"$GG_TMP/fakessh" <<EOF
#!/bin/sh
for last; do :; done
SSH_ORIGINAL_COMMAND=\$last SSH_CONNECTION="$SSH_CONN" exec "$GATE_SHELL" --config "$GG_CONF" "\$GG_IDENTITY"
EOF
chmod 755 "$GG_TMP/fakessh"
# as IDENTITY git ARGS...: git through gate-shell.
as() {
	local who=$1
	shift
	GG_IDENTITY=$who GIT_SSH_COMMAND="$GG_TMP/fakessh" GIT_SSH_VARIANT=ssh git "$@"
}
URL="ssh://git@gitgate.invalid/grp/hello.git"

# --- the interface ----------------------------------------------------------------------------
like "$("$GATE_SHELL" --version)" "^gate-shell \(gitgate\) [0-9]" "--version"
like "$("$GATE_SHELL" --help)" "^usage: gate-shell" "--help"
for bad in "" key- key-0 key-abc key-1x user-1 username- username-.x "key-1 key-2"; do
	env SSH_CONNECTION="$SSH_CONN" "$GATE_SHELL" --config "$GG_CONF" $bad </dev/null >/dev/null 2>&1
	is "$?" 2 "identity '$bad': usage error"
done

# --- refusals ---------------------------------------------------------------------------------
OUT=$(env -u SSH_CONNECTION SSH_ORIGINAL_COMMAND="git-upload-pack 'grp/hello.git'" \
	"$GATE_SHELL" --config "$GG_CONF" "key-$KEY" </dev/null 2>"$GG_TMP/err")
RC=$?
is "$RC" 1 "no SSH_CONNECTION: exit status 1"
is "$(cat "$GG_TMP/err")" "$(box "$MSG_ONLY_SSH")" "no SSH_CONNECTION: $MSG_ONLY_SSH"
is "$OUT" "" "no SSH_CONNECTION: nothing on stdout"

for cmd in "rm -rf /" "git-upload-pack 'grp/../etc.git'" "git-upload-pack" \
	"git-receive-pack 'a' 'b'" "git-upload-pack 'grp/hello.git'; sh" "scp -t /tmp"; do
	shell "key-$KEY" "$cmd"
	is "$RC" 128 "'$cmd': exit status 128"
	is "$ERR" "$(box "$MSG_DISALLOWED")" "'$cmd': $MSG_DISALLOWED"
done

shell "key-$KEY" ""
is "$RC" 0 "empty command: exit status 0"
is "$OUT" "Welcome to GitLab, @alice!" "empty command: welcome"
shell "username-alice" ""
is "$OUT" "Welcome to GitLab, @alice!" "username-alice: welcome"
shell "key-999999" "git-upload-pack 'grp/hello.git'"
is "$RC" 1 "an unknown key: exit status 1"
is "$ERR" "$(box "$MSG_UNKNOWN_KEY")" "an unknown key: $MSG_UNKNOWN_KEY"
shell "username-rep" "git-receive-pack 'grp/hello.git'"
is "$RC" 1 "username-rep (a reporter) pushing: exit status 1"
is "$ERR" "$(box "$MSG_NO_PUSH_ACCESS")" "username-rep pushing: $MSG_NO_PUSH_ACCESS"

# --- Git through gate-shell -------------------------------------------------------------------
WORK="$GG_TMP/work"
git init -q -b main "$WORK"
printf 'hello\n' >"$WORK/README"
git -C "$WORK" add README
commit "$WORK" one
as "key-$KEY" -C "$WORK" push -q "$URL" main 2>"$GG_TMP/err"
is "$?" 0 "push through gate-shell"
is "$(git -C "$HELLO" rev-parse main)" "$(git -C "$WORK" rev-parse main)" "main moved"

as "key-$KEY" clone -q "$URL" "$GG_TMP/clone0" 2>/dev/null
is "$(git -C "$GG_TMP/clone0" rev-parse HEAD)" "$(git -C "$WORK" rev-parse main)" "clone through gate-shell"
trace=$(GIT_TRACE_PACKET=1 as "key-$KEY" -c protocol.version=2 ls-remote "$URL" 2>&1)
like "$trace" "packet: +ls-remote< version 2" "GIT_PROTOCOL=version=2 reaches gate-shell: protocol v2"
like "$trace" "refs/heads/main" "and ls-refs lists main"
trace=$(GIT_TRACE_PACKET=1 as "key-$KEY" -c protocol.version=0 ls-remote "$URL" 2>&1)
unlike "$trace" "version 2" "protocol v0 when the client asks for it"

commit "$WORK" two
as "username-alice" -C "$GG_TMP/clone0" fetch -q 2>/dev/null
as "username-alice" -C "$WORK" push -q "$URL" main 2>/dev/null
is "$?" 0 "push as username-alice"
as "username-alice" -C "$GG_TMP/clone0" fetch -q 2>/dev/null
is "$(git -C "$GG_TMP/clone0" rev-parse origin/main)" "$(git -C "$WORK" rev-parse main)" "fetch through gate-shell"
files=$(as "key-$KEY" archive --remote="$URL" main 2>/dev/null | tar tf -)
is "$files" "README" "git archive --remote through gate-shell"

# --- maintenance mode -------------------------------------------------------------------------
gatectl maintenance on >/dev/null
commit "$WORK" three
snap=$(refs "$HELLO")
err=$(as "key-$KEY" -C "$WORK" push "$URL" main 2>&1)
is "$?" 128 "maintenance on: git push fails"
contains "$err" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance on: the exact message as a remote: line"
is "$(refs "$HELLO")" "$snap" "maintenance on: no ref moved"
shell "key-$KEY" "git-receive-pack 'grp/hello.git'"
is "$RC" 1 "maintenance on: git-receive-pack exits 1"
is "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance on: gitlab-shell's box, byte for byte"
rm -rf "$GG_TMP/clone1"
as "key-$KEY" clone -q "$URL" "$GG_TMP/clone1" 2>/dev/null
is "$?" 0 "maintenance on: clone still works"
gatectl maintenance off >/dev/null

# --- gate-api down ----------------------------------------------------------------------------
gg_stop_api
shell "key-$KEY" "git-upload-pack 'grp/hello.git'"
is "$RC" 1 "gate-api down: exit status 1"
is "$ERR" "$(box "$MSG_UNREACHABLE")" "gate-api down: $MSG_UNREACHABLE"

done_testing
