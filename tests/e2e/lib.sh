# lib.sh - shared helpers for gitgate's end-to-end tests (bash, TAP output).
#
# A test script sources this, calls gg_setup to get a fresh data directory,
# starts the real daemons with gg_start_api, and reports with ok/is/like.
# Everything lives under one temporary directory that is removed at exit
# (kept when GG_KEEP=1).  Servers listen on 127.0.0.1 on free ports only.

set -u
GG_BUILD=${GG_BUILD:?GG_BUILD must name the build directory}
GG_BUILD=$(cd "$GG_BUILD" && pwd)
GG_SRC=${GG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GATE_API="$GG_BUILD/internal-api/gate-api"
GATECTL="$GG_BUILD/internal-api/gatectl"
# GG_WRAP runs the daemons under a tool, e.g. "valgrind --error-exitcode=99 ...".
GG_WRAP=${GG_WRAP:-}

_tap_n=0
_tap_failed=0
_pids=()

ok() { # ok CONDITION-STATUS NAME
	local status=$1
	shift
	_tap_n=$((_tap_n + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() { # is GOT EXPECTED NAME
	local got=$1 want=$2
	shift 2
	if [ "$got" == "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected: %q\n' "$got" "$want"
	fi
}

like() { # like GOT ERE NAME
	local got=$1 re=$2
	shift 2
	if [[ "$got" =~ $re ]]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected to match: %s\n' "$got" "$re"
	fi
}

unlike() { # unlike GOT ERE NAME
	local got=$1 re=$2
	shift 2
	if [[ "$got" =~ $re ]]; then
		ok 1 "$*"
		printf '#   got:      %q\n#   expected not to match: %s\n' "$got" "$re"
	else
		ok 0 "$*"
	fi
}

diag() { echo "# $*"; }

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

gg_cleanup() {
	local pid
	for pid in "${_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ "${GG_KEEP:-0}" = 1 ]; then
		echo "# kept $GG_TMP"
	else
		rm -rf "$GG_TMP"
	fi
}

gg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# gg_setup: a fresh data directory with an admin and its token in $ADMIN_TOKEN.
gg_setup() {
	GG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-e2e.XXXXXX")
	trap gg_cleanup EXIT
	GG_DATA="$GG_TMP/var"
	GG_CONF="$GG_DATA/gitgate.conf"
	API_PORT=$(gg_free_port)
	mkdir -p "$GG_DATA"
	"$GATECTL" --config "$GG_CONF" init --data-dir "$GG_DATA" --admin-password 'admin-pass-1234' \
		--token-file "$GG_DATA/admin.token" >"$GG_TMP/init.log" 2>&1 || {
		cat "$GG_TMP/init.log"
		echo "Bail out! gatectl init failed"
		exit 1
	}
	printf '\n[api]\nport = %s\n' "$API_PORT" >>"$GG_CONF"
	ADMIN_TOKEN=$(cat "$GG_DATA/admin.token")
	API="http://127.0.0.1:$API_PORT"
	SECRET=$(tr -d ' \n' <"$GG_DATA/gitlab_shell_secret")
}

gg_start_api() {
	$GG_WRAP "$GATE_API" --config "$GG_CONF" >>"$GG_TMP/gate-api.log" 2>&1 &
	GATE_API_PID=$!
	_pids+=("$GATE_API_PID")
	local i
	for i in $(seq 1 200); do
		if curl -s -o /dev/null "$API/api/v4/version"; then
			return 0
		fi
		sleep 0.05
	done
	cat "$GG_TMP/gate-api.log"
	echo "Bail out! gate-api did not start"
	exit 1
}

gg_stop_api() {
	kill -TERM "$GATE_API_PID" 2>/dev/null
	wait "$GATE_API_PID" 2>/dev/null
	local rc=$?
	return $rc
}

gatectl() { "$GATECTL" --config "$GG_CONF" "$@"; }

# b64url: base64url without padding, of stdin.
_b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# gg_jwt [SECRET [ISS [IAT_OFFSET [LIFETIME]]]]: a Gitlab-Shell-Api-Request JWT, made with
# openssl independently of gitgate's own JWT code.
gg_jwt() {
	local secret=${1:-$SECRET} iss=${2:-gitlab-shell} off=${3:-0} life=${4:-60}
	local now=$(($(date +%s) + off))
	local h p sig
	h=$(printf '{"alg":"HS256","typ":"JWT"}' | _b64url)
	p=$(printf '{"iss":"%s","iat":%d,"exp":%d}' "$iss" "$now" $((now + life)) | _b64url)
	sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$secret" -binary | _b64url)
	printf '%s.%s.%s' "$h" "$p" "$sig"
}

# http METHOD PATH [curl args...]: sets $STATUS and $BODY.
http() {
	local method=$1 path=$2
	shift 2
	local out verb=(-X "$method")
	# curl -X HEAD would wait for a body that never comes.
	[ "$method" = HEAD ] && verb=(-I -o /dev/null)
	out=$(curl -s --max-time 60 --path-as-is "${verb[@]}" -w '\n%{http_code}' "$@" "$API$path")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# Admin and internal-API shorthands.
admin() { local m=$1 p=$2; shift 2; http "$m" "$p" -H "PRIVATE-TOKEN: $ADMIN_TOKEN" "$@"; }
internal() { local m=$1 p=$2; shift 2; http "$m" "$p" -H "Gitlab-Shell-Api-Request: $(gg_jwt)" "$@"; }

# json FILTER: read a field from $BODY with python (jq may not be installed).
json() {
	python3 -c 'import json,sys
d=json.loads(sys.argv[2])
for k in sys.argv[1].split("."):
    if k == "": continue
    d = d[int(k)] if isinstance(d, list) else d.get(k)
print(json.dumps(d) if isinstance(d,(dict,list,bool)) or d is None else d)' "$1" "$BODY"
}

# A fresh ed25519 key: gg_new_key NAME -> $GG_TMP/NAME (private) and NAME.pub.
gg_new_key() {
	ssh-keygen -q -t ed25519 -N '' -C "$1@e2e" -f "$GG_TMP/$1" >/dev/null
}

# gg_user_with_key NAME: user NAME (NAME@example.com, password NAME-pass-1234) with a fresh key
# $GG_TMP/NAMEkey (gg_new_key), through gatectl.
gg_user_with_key() {
	gg_new_key "${1}key"
	gatectl user create "$1" --email "$1@example.com" --password "$1-pass-1234" >/dev/null
	gatectl key add "$1" --file "$GG_TMP/${1}key.pub" >/dev/null
}

# gg_git_home: a HOME of the test's own for git (no system config, no prompts), with the
# identity, default branch and quiet detached HEAD the tests commit with.
gg_git_home() {
	export HOME="$GG_TMP/home" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
	mkdir -p "$HOME"
	git config --global user.name E2E
	git config --global user.email e2e@example.com
	git config --global init.defaultBranch main
	git config --global advice.detachedHead false
}

# --- sshd-gate -------------------------------------------------------------------------------
SSHD_GATE="$GG_BUILD/sshd-gate/sshd-gate"

# gg_start_sshd ["key = value"...]: sshd-gate on a free port ($SSH_PORT).  The first call adds
# an [ssh] section with the port and the given lines to the config; the host keys are made
# beforehand with --print-host-keys (not under $GG_WRAP, where RSA generation is slow).
gg_start_sshd() {
	local line i
	if [ -z "${SSH_PORT:-}" ]; then
		SSH_PORT=$(gg_free_port)
		{
			printf '\n[ssh]\nport = %s\n' "$SSH_PORT"
			for line in "$@"; do printf '%s\n' "$line"; done
		} >>"$GG_CONF"
	fi
	"$SSHD_GATE" --config "$GG_CONF" --print-host-keys >"$GG_TMP/host-keys.txt" 2>>"$GG_TMP/sshd-gate.log" || {
		cat "$GG_TMP/sshd-gate.log"
		echo "Bail out! sshd-gate --print-host-keys failed"
		exit 1
	}
	$GG_WRAP "$SSHD_GATE" --config "$GG_CONF" >>"$GG_TMP/sshd-gate.log" 2>&1 &
	SSHD_GATE_PID=$!
	_pids+=("$SSHD_GATE_PID")
	for i in $(seq 1 600); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	cat "$GG_TMP/sshd-gate.log"
	echo "Bail out! sshd-gate did not start"
	exit 1
}

# gg_stop_sshd: SIGTERM, then the daemon's exit status.
gg_stop_sshd() {
	kill -TERM "$SSHD_GATE_PID" 2>/dev/null
	wait "$SSHD_GATE_PID" 2>/dev/null
}

# The ssh options of every connection to sshd-gate in the tests.
GG_SSH_OPTS="-o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"

# gg_ssh KEYNAME [ssh args...]: ssh to sshd-gate as git@ with $GG_TMP/KEYNAME.
gg_ssh() {
	local key=$1
	shift
	# shellcheck disable=SC2086
	ssh -i "$GG_TMP/$key" $GG_SSH_OPTS -p "$SSH_PORT" git@127.0.0.1 "$@"
}

# gg_git KEYNAME git-args...: git with GIT_SSH_COMMAND using the key; the URL of project P
# is $(gg_url P).
gg_git() {
	local key=$1
	shift
	GIT_SSH_COMMAND="ssh -i $GG_TMP/$key $GG_SSH_OPTS" git "$@"
}
gg_url() { printf 'ssh://git@127.0.0.1:%s/%s.git' "$SSH_PORT" "$1"; }
