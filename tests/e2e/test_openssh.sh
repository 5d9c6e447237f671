#!/usr/bin/env bash
# OpenSSH integration (SPEC §1, §5; issue 4): a real /usr/sbin/sshd on a loopback port, whose
# AuthorizedKeysCommand is gate-authorized-keys-check and whose forced command is gate-shell.
# Clone, fetch and push through it as a user would; protocol v2 through AcceptEnv GIT_PROTOCOL;
# an unknown key refused; maintenance mode refusing pushes with the exact message while clones
# keep working; a key deleted through the API refused at the next login; and gate-check.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

SSHD=/usr/sbin/sshd
CHECK="$GG_BUILD/sshd-gate/gate-authorized-keys-check"
GATE_CHECK="$GG_BUILD/sshd-gate/gate-check"
MSG_DISALLOWED=$(_gg_msg GG_MSG_DISALLOWED_COMMAND)
RULER=$(printf '=%.0s' $(seq 1 72))

if [ ! -x "$SSHD" ]; then
	echo "1..0 # SKIP $SSHD is not installed (Debian package openssh-server)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	# sshd runs an AuthorizedKeysCommand only from root-owned directories, as root.
	echo "1..0 # SKIP sshd with an AuthorizedKeysCommand needs root"
	exit 0
fi

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
refs() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; }
commit() {
	git -C "$1" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m "$2"
}

# safe_dir PATH: 0 when sshd would run a command from PATH: every directory up to / owned by
# root and writable by no one else.
safe_dir() {
	local d
	d=$(realpath "$1") || return 1
	while :; do
		[ "$(stat -c %u "$d")" = 0 ] || return 1
		[ $((0$(stat -c %a "$d") & 022)) = 0 ] || return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}

gg_setup
LOGIN=$(id -un)
gg_new_key alice
gg_new_key bob
gg_new_key stranger
gatectl user create alice --email alice@example.com >/dev/null
gatectl user create bob --email bob@example.com >/dev/null
gatectl key add alice --file "$GG_TMP/alice.pub" >/dev/null
BOB_KEY=$(gatectl key add bob --file "$GG_TMP/bob.pub" | sed -n 's/^Added key \([0-9]*\) .*/\1/p')
BOB_ID=$(gatectl user show bob | awk '/^id:/ {print $2}')
gatectl project create grp/hello --visibility private >/dev/null
gatectl member add grp/hello alice developer >/dev/null
gatectl member add grp/hello bob developer >/dev/null
HELLO="$GG_DATA/repositories/grp/hello.git"
gg_start_api

# The AuthorizedKeysCommand must sit where sshd trusts it.  A build directory below /tmp does
# not qualify, so then a root-owned directory elsewhere holds a one-line wrapper.
if safe_dir "$(dirname "$CHECK")"; then
	KEYS_COMMAND=$CHECK
else
	for base in /run /var/lib "$HOME"; do
		if [ -d "$base" ] && safe_dir "$base"; then
			SAFE_DIR=$(mktemp -d "$base/gitgate-e2e.XXXXXX") && break
		fi
	done
	if [ -z "${SAFE_DIR:-}" ]; then
		echo "1..0 # SKIP no root-owned directory to put the AuthorizedKeysCommand in"
		exit 0
	fi
	chmod 755 "$SAFE_DIR"
	trap 'rm -rf "$SAFE_DIR"; gg_cleanup' EXIT
	KEYS_COMMAND="$SAFE_DIR/gate-authorized-keys-check"
	printf '#!/bin/sh\nexec "%s" "$@"\n' "$CHECK" >"$KEYS_COMMAND"
	chmod 755 "$KEYS_COMMAND"
fi

# sshd's privilege separation directory (the Debian service creates it at start).
[ -d /run/sshd ] || mkdir -m 755 /run/sshd
SSHD_DIR="$GG_TMP/sshd"
mkdir -m 700 "$SSHD_DIR"
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/ssh_host_ed25519_key" >/dev/null
OSSH_PORT=$(gg_free_port)
cat >"$SSHD_DIR/sshd_config" <<EOF
Port $OSSH_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/ssh_host_ed25519_key
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile none
AuthorizedKeysCommand $KEYS_COMMAND --config $GG_CONF $LOGIN %u %k
AuthorizedKeysCommandUser $LOGIN
AcceptEnv GIT_PROTOCOL
LogLevel VERBOSE
EOF
# Newer sshd penalises a source address after failed logins; the tests fail logins on purpose.
if "$SSHD" -T -f "$SSHD_DIR/sshd_config" 2>/dev/null | grep -qi '^persourcepenalties'; then
	echo "PerSourcePenalties no" >>"$SSHD_DIR/sshd_config"
fi
"$SSHD" -t -f "$SSHD_DIR/sshd_config" 2>"$GG_TMP/sshd-t.log"
ok $? "sshd accepts the documented configuration"
"$SSHD" -D -e -f "$SSHD_DIR/sshd_config" >>"$GG_TMP/sshd.log" 2>&1 &
_pids+=($!)
for _ in $(seq 1 200); do
	(exec 3<>"/dev/tcp/127.0.0.1/$OSSH_PORT") 2>/dev/null && break
	sleep 0.05
done

SSH_OPTS="-F /dev/null -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -o PreferredAuthentications=publickey"
# ossh KEY ARGS...: plain ssh to the OpenSSH server; sets OUT, ERR, RC.
ossh() {
	local key=$1
	shift
	# shellcheck disable=SC2086
	OUT=$(ssh -T -i "$GG_TMP/$key" $SSH_OPTS -p "$OSSH_PORT" "$LOGIN@127.0.0.1" "$@" </dev/null 2>"$GG_TMP/err")
	RC=$?
	ERR=$(cat "$GG_TMP/err")
}
# ogit KEY git-args...: git over the OpenSSH server.
ogit() {
	local key=$1
	shift
	GIT_SSH_COMMAND="ssh -i $GG_TMP/$key $SSH_OPTS" git "$@"
}
URL="ssh://$LOGIN@127.0.0.1:$OSSH_PORT/grp/hello.git"

# --- logging in -------------------------------------------------------------------------------
ossh alice
is "$RC" 0 "alice's key logs in through gate-authorized-keys-check"
is "$OUT" "Welcome to GitLab, @alice!" "no command: gate-shell's welcome"
ossh stranger
is "$RC" 255 "an unknown key is refused by sshd"
like "$ERR" "Permission denied \(publickey\)" "an unknown key: Permission denied"
ossh alice "ls /"
is "$RC" 128 "a command that is not Git's: exit status 128"
is "$ERR" "$(box "$MSG_DISALLOWED")" "a command that is not Git's: $MSG_DISALLOWED"

# --- clone, fetch, push -----------------------------------------------------------------------
WORK="$GG_TMP/work"
git init -q -b main "$WORK"
printf 'hello\n' >"$WORK/README"
git -C "$WORK" add README
commit "$WORK" one
ogit alice -C "$WORK" push -q "$URL" main 2>"$GG_TMP/err"
is "$?" 0 "push through OpenSSH"
is "$(git -C "$HELLO" rev-parse main)" "$(git -C "$WORK" rev-parse main)" "push: main moved"

ogit bob clone -q "$URL" "$GG_TMP/clone" 2>"$GG_TMP/err"
is "$?" 0 "clone through OpenSSH"
is "$(git -C "$GG_TMP/clone" rev-parse HEAD)" "$(git -C "$WORK" rev-parse main)" "clone: the pushed commit"
trace=$(GIT_TRACE_PACKET=1 ogit bob -c protocol.version=2 ls-remote "$URL" 2>&1)
like "$trace" "packet: +ls-remote< version 2" "protocol v2 through AcceptEnv GIT_PROTOCOL"
like "$trace" "refs/heads/main" "v2 ls-refs lists main"
trace=$(GIT_TRACE_PACKET=1 ogit bob -c protocol.version=0 ls-remote "$URL" 2>&1)
unlike "$trace" "version 2" "protocol v0 when the client asks for it"

commit "$WORK" two
ogit alice -C "$WORK" push -q "$URL" main 2>/dev/null
ogit bob -C "$GG_TMP/clone" fetch -q 2>/dev/null
is "$(git -C "$GG_TMP/clone" rev-parse origin/main)" "$(git -C "$WORK" rev-parse main)" "fetch through OpenSSH"

# --- maintenance mode -------------------------------------------------------------------------
gatectl maintenance on >/dev/null
commit "$WORK" three
snap=$(refs "$HELLO")
err=$(ogit alice -C "$WORK" push "$URL" main 2>&1)
is "$?" 128 "maintenance on: git push fails"
contains "$err" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance on: the exact message in remote: lines"
is "$(refs "$HELLO")" "$snap" "maintenance on: no ref moved"
ossh alice "git-receive-pack 'grp/hello.git'"
is "$RC" 1 "maintenance on: git-receive-pack exits 1"
is "$ERR" "$(box "$MSG_MAINTENANCE_PUSH")" "maintenance on: the refusal byte for byte"
rm -rf "$GG_TMP/clone2"
ogit bob clone -q "$URL" "$GG_TMP/clone2" 2>/dev/null
is "$?" 0 "maintenance on: clone still works"
gatectl maintenance off >/dev/null
ogit alice -C "$WORK" push -q "$URL" main 2>/dev/null
is "$?" 0 "maintenance off: the push goes through"

# --- a key deleted through the API ------------------------------------------------------------
admin DELETE "/api/v4/users/$BOB_ID/keys/$BOB_KEY"
is "$STATUS" 204 "DELETE /users/:id/keys/:key_id"
ossh bob
is "$RC" 255 "a deleted key: refused at the next login"
like "$ERR" "Permission denied \(publickey\)" "a deleted key: Permission denied"
ossh alice
is "$RC" 0 "other keys still log in"

# --- gate-check -------------------------------------------------------------------------------
out=$("$GATE_CHECK" --config "$GG_CONF")
is "$?" 0 "gate-check: exit status 0"
like "$out" "^Configuration .*: OK"$'\n'"Secret .*: OK"$'\n'"Internal API $API: OK \(api v4, gitgate [0-9.]+, revision .*, database ok\)$" \
	"gate-check: one OK line per check"
like "$("$GATE_CHECK" --version)" "^gate-check \(gitgate\) [0-9]" "gate-check --version"
gg_stop_api
out=$("$GATE_CHECK" --config "$GG_CONF")
is "$?" 1 "gate-check with gate-api down: exit status 1"
like "$out" "Internal API $API: FAILED: " "gate-check with gate-api down: says what failed"
ossh alice
is "$RC" 255 "gate-api down: sshd lets nobody in"

done_testing
