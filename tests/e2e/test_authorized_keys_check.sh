#!/usr/bin/env bash
# gate-authorized-keys-check (SPEC §5): its output compared byte for byte for a known key, an
# unknown key and another user; a clear failure (exit 1, nothing on stdout, so sshd lets nobody
# in) when gate-api cannot be asked; and no command= line at all when a misbehaving gate-api
# answers with an id that is not one (a fake gate-api in python stands in for a compromised one;
# the real gate-api answers everything else).
. "$(dirname "$0")/lib.sh"

CHECK="$GG_BUILD/sshd-gate/gate-authorized-keys-check"
SHELL_DIR=$(realpath "$GG_BUILD/sshd-gate")
OPTIONS="no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty"

# run_check ARGS...: stdout into $GG_TMP/out, stderr into $ERR, exit status into $RC.
run_check() {
	"$CHECK" "$@" >"$GG_TMP/out" 2>"$GG_TMP/err" </dev/null
	RC=$?
	ERR=$(cat "$GG_TMP/err")
}
# same_bytes EXPECTED NAME: $GG_TMP/out holds exactly EXPECTED (newlines included).
same_bytes() {
	printf '%s' "$1" >"$GG_TMP/want"
	if cmp -s "$GG_TMP/out" "$GG_TMP/want"; then
		ok 0 "$2"
	else
		ok 1 "$2"
		printf '#   got:      %q\n#   expected: %q\n' "$(cat -A "$GG_TMP/out")" "$(cat -A "$GG_TMP/want")"
	fi
}
blob() { awk '{print $2}' "$GG_TMP/$1.pub"; }

gg_setup
CONF=$(realpath "$GG_CONF")
gg_new_key alice
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa@e2e -f "$GG_TMP/alice_rsa" >/dev/null
gg_new_key stranger
gatectl user create alice --email alice@example.com >/dev/null
ID=$(gatectl key add alice --file "$GG_TMP/alice.pub" | sed -n 's/^Added key \([0-9]*\) .*/\1/p')
RSA_ID=$(gatectl key add alice --file "$GG_TMP/alice_rsa.pub" | sed -n 's/^Added key \([0-9]*\) .*/\1/p')
gg_start_api

# --- the three answers ------------------------------------------------------------------------
run_check --config "$GG_CONF" git git "$(blob alice)"
is "$RC" 0 "known key: exit status 0"
same_bytes "command=\"$SHELL_DIR/gate-shell --config $CONF key-$ID\",$OPTIONS ssh-ed25519 $(blob alice)
" "known key: the authorized_keys line, byte for byte"
is "$ERR" "" "known key: nothing on stderr"

run_check --config "$GG_CONF" git git "$(blob alice_rsa)"
same_bytes "command=\"$SHELL_DIR/gate-shell --config $CONF key-$RSA_ID\",$OPTIONS ssh-rsa $(blob alice_rsa)
" "known RSA key: its type comes from the key itself"

run_check --config "$GG_CONF" git git "$(blob stranger)"
is "$RC" 0 "unknown key: exit status 0"
same_bytes "# No key was found for $(blob stranger)
" "unknown key: the comment, byte for byte"

run_check --config "$GG_CONF" git root "$(blob alice)"
is "$RC" 0 "another user: exit status 0"
same_bytes "" "another user: nothing at all"

run_check --config "$GG_CONF" git git AAAA
is "$RC" 0 "base64 that is no key: exit status 0"
same_bytes "# No key was found for AAAA
" "base64 that is no key: not found"

run_check --config "$GG_CONF" git git 'AAAA
command="/bin/sh" ssh-ed25519 AAAA'
is "$RC" 2 "a key argument with a newline: usage error"
same_bytes "" "a key argument with a newline: nothing on stdout"

GITGATE_CONFIG="$GG_CONF" run_check git git "$(blob alice)"
same_bytes "command=\"$SHELL_DIR/gate-shell --config $CONF key-$ID\",$OPTIONS ssh-ed25519 $(blob alice)
" "\$GITGATE_CONFIG is passed on to gate-shell like --config"

cat >"$GG_DATA/shell-path.conf" <<EOF
[core]
data_dir = $GG_DATA
[api]
url = $API
[ssh]
shell_path = /usr/lib/gitgate/
EOF
run_check --config "$GG_DATA/shell-path.conf" git git "$(blob alice)"
same_bytes "command=\"/usr/lib/gitgate/gate-shell --config $GG_DATA/shell-path.conf key-$ID\",$OPTIONS ssh-ed25519 $(blob alice)
" "[ssh] shell_path names gate-shell's directory"

mkdir -p "$GG_TMP/with space"
cp "$GG_DATA/shell-path.conf" "$GG_TMP/with space/gitgate.conf"
run_check --config "$GG_TMP/with space/gitgate.conf" git git "$(blob alice)"
is "$RC" 1 "a config path with a space: exit status 1"
same_bytes "" "a config path with a space: no command= line"
like "$ERR" "refusing to write a command= line" "a config path with a space: says why"

# --- deleted keys -----------------------------------------------------------------------------
gatectl key delete "$RSA_ID" >/dev/null
run_check --config "$GG_CONF" git git "$(blob alice_rsa)"
same_bytes "# No key was found for $(blob alice_rsa)
" "a deleted key is not found at the next lookup"

# --- usage ------------------------------------------------------------------------------------
run_check --config "$GG_CONF" git git
is "$RC" 2 "two arguments: usage error"
same_bytes "" "two arguments: nothing on stdout"
like "$("$CHECK" --help)" "^usage: gate-authorized-keys-check" "--help"
like "$("$CHECK" --version)" "^gate-authorized-keys-check \(gitgate\) [0-9]" "--version"
run_check --config "$GG_TMP/nope.conf" git git "$(blob alice)"
is "$RC" 1 "a missing config: exit status 1"
like "$ERR" "cannot read config" "a missing config: says why"

# --- gate-api cannot be asked -----------------------------------------------------------------
DEAD_PORT=$(gg_free_port)
cat >"$GG_DATA/dead.conf" <<EOF
[core]
data_dir = $GG_DATA
[api]
url = http://127.0.0.1:$DEAD_PORT
timeout = 2
EOF
run_check --config "$GG_DATA/dead.conf" git git "$(blob alice)"
is "$RC" 1 "gate-api down: exit status 1"
same_bytes "" "gate-api down: nothing on stdout"
like "$ERR" "cannot ask gate-api at http://127.0.0.1:$DEAD_PORT" "gate-api down: a clear error"

printf 'not-the-secret\n' >"$GG_DATA/other_secret"
cat >"$GG_DATA/bad-secret.conf" <<EOF
[core]
data_dir = $GG_DATA
secret_file = $GG_DATA/other_secret
[api]
url = $API
EOF
run_check --config "$GG_DATA/bad-secret.conf" git git "$(blob alice)"
is "$RC" 1 "a secret gate-api does not share: exit status 1"
same_bytes "" "a secret gate-api does not share: nothing on stdout"

# --- a misbehaving gate-api -------------------------------------------------------------------
# The fake answers every request with the status and body in $GG_TMP/fake.status / fake.body.
FAKE_PORT=$(gg_free_port)
python3 - "$FAKE_PORT" "$GG_TMP" >"$GG_TMP/fake.log" 2>&1 <<'PY' &
import http.server, sys
port, d = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = int(open(d + "/fake.status").read())
        body = open(d + "/fake.body", "rb").read()
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
_pids+=($!)
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$FAKE_PORT") 2>/dev/null && break
	sleep 0.05
done
cat >"$GG_DATA/fake.conf" <<EOF
[core]
data_dir = $GG_DATA
[api]
url = http://127.0.0.1:$FAKE_PORT
timeout = 3
EOF
CFAKE=$(realpath "$GG_DATA/fake.conf")
# fake STATUS BODY: what the fake gate-api answers next.
fake() { printf '%s' "$1" >"$GG_TMP/fake.status"; printf '%s' "$2" >"$GG_TMP/fake.body"; }

hostile=(
	'{"id":"1 ,command=\"/bin/sh\""}'
	'{"id":"1\",command=\"/bin/sh"}'
	$'{"id":"1\\nssh-ed25519 AAAA"}'
	'{"id":"1 key-2"}'
	'{"id":"key-1"}'
	'{"id":"-5"}'
	'{"id":0}'
	'{"id":-1}'
	'{"id":1.5}'
	'{"id":1e300}'
	'{"id":9007199254740993}'
	'{"id":"99999999999999999999"}'
	'{"id":true}'
	'{"id":null}'
	'{"id":[1]}'
	'{}'
	'[]'
	'command="/bin/sh"'
	''
)
for body in "${hostile[@]}"; do
	fake 200 "$body"
	run_check --config "$GG_DATA/fake.conf" git git "$(blob alice)"
	ok "$([ "$RC" = 1 ] && [ ! -s "$GG_TMP/out" ]; echo $?)" "hostile id $(printf %q "$body"): exit 1 and no line"
done
for status in 302 500 503; do
	fake "$status" '{"id":1}'
	run_check --config "$GG_DATA/fake.conf" git git "$(blob alice)"
	ok "$([ "$RC" = 1 ] && [ ! -s "$GG_TMP/out" ]; echo $?)" "HTTP $status with an id: exit 1 and no line"
done

fake 200 '{"id":"7"}'
run_check --config "$GG_DATA/fake.conf" git git "$(blob alice)"
same_bytes "command=\"$SHELL_DIR/gate-shell --config $CFAKE key-7\",$OPTIONS ssh-ed25519 $(blob alice)
" "an id sent as a decimal string is formatted anew"
fake 200 '{"id":7,"key":"ssh-ed25519 AAAA\ncommand=\"/bin/sh\" ssh-ed25519 BBBB"}'
run_check --config "$GG_DATA/fake.conf" git git "$(blob alice)"
same_bytes "command=\"$SHELL_DIR/gate-shell --config $CFAKE key-7\",$OPTIONS ssh-ed25519 $(blob alice)
" "the key written is the one sshd offered, never gate-api's"
fake 404 '{"message":"404 Not Found"}'
run_check --config "$GG_DATA/fake.conf" git git "$(blob alice)"
same_bytes "# No key was found for $(blob alice)
" "404 from gate-api: not found"

done_testing
