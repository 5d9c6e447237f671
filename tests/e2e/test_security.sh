#!/usr/bin/env bash
# Hostile input and what must never be granted (issue 7, item 5), against the real sshd-gate and
# gate-api: path traversal (plain, encoded, absolute) over SSH, the internal API and the REST API;
# repositories and namespaces that are symbolic links out of the storage root; over-long and NUL
# input; every internal route without or with a forged, alg=none, wrong-algorithm or replayed
# expired JWT; a non-administrator on every administrator route (read from the route tables);
# password guessing on /users/sign_in and /oauth/token (429 after 10 failures per login, 100 per
# address, counted in the store: two gate-api nodes on one PostgreSQL share the count); pty, X11, agent and port forwarding; key guessing; file modes and listen addresses;
# no secret in any log line (the daemons run at log_level = debug).  Refusals are checked for
# their exact message and for nothing having been written.
# (test_sshd_gate.sh already covers the exec-command injection list, -s sftp, -W and max_startups;
# test_internal_api.sh the basic JWT refusals on /internal/allowed.)
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

MSG_DISALLOWED=$(_gg_msg GG_MSG_DISALLOWED_COMMAND)
MSG_UNAVAILABLE=$(_gg_msg GG_MSG_REPOSITORY_UNAVAILABLE)
MSG_TOO_MANY_SIGN_INS=$(_gg_msg GG_MSG_TOO_MANY_SIGN_INS)
MSG_FORBIDDEN=$(_gg_msg GG_MSG_FORBIDDEN)
MSG_UNAUTHORIZED=$(_gg_msg GG_MSG_UNAUTHORIZED)
MSG_BAD_REQUEST=$(_gg_msg GG_MSG_BAD_REQUEST)
MSG_INVALID_CREDENTIALS=$(_gg_msg GG_MSG_INVALID_CREDENTIALS)
RULER=$(printf '=%.0s' $(seq 1 72))
box() { printf 'remote: \nremote: %s\nremote: \nremote: %s\nremote: \nremote: %s\nremote: ' "$RULER" "$1" "$RULER"; }
contains() {
	local got=$1 needle=$2
	shift 2
	if [[ "$got" == *"$needle"* ]]; then ok 0 "$*"; else
		ok 1 "$*"
		printf '#   got:      %q\n#   expected to contain: %q\n' "$got" "$needle"
	fi
}
run_ssh() { # run_ssh KEY ssh-args...: $OUT, $ERR, $RC
	local key=$1
	shift
	gg_ssh "$key" "$@" </dev/null >"$GG_TMP/out" 2>"$GG_TMP/err"
	RC=$?
	OUT=$(cat "$GG_TMP/out")
	ERR=$(cat "$GG_TMP/err")
}
state() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; git -C "$1" count-objects -v; }
# b64url of stdin, and a JWT with any header and payload signed HS256 or HS512 with SECRET.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
jwt_raw() { # jwt_raw HEADER PAYLOAD [SECRET [DIGEST]]
	local h p s
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst "-${4:-sha256}" -hmac "${3:-$SECRET}" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}

gg_setup
gg_git_home
printf '[core]\nlog_level = debug\n' >>"$GG_CONF"
gg_new_key alicekey
gatectl user create alice --email alice@example.com --password alice-pass-1234 >/dev/null
gatectl user create carol --email carol@example.com --password carol-pass-1234 >/dev/null
gatectl key add alice --file "$GG_TMP/alicekey.pub" >/dev/null
for p in grp/sec grp/link ns2/inner; do
	gatectl project create "$p" --visibility private >/dev/null
	gatectl member add "$p" alice owner >/dev/null
done
REPOS="$GG_DATA/repositories"
gg_start_api
gg_start_sshd "login_grace_time = 20"
W="$GG_TMP/work"
mkdir -p "$W"
git init -q "$W/src"
echo one >"$W/src/README"
git -C "$W/src" add README && git -C "$W/src" commit -qm first
gg_git alicekey -C "$W/src" push -q "$(gg_url grp/sec)" HEAD:main 2>/dev/null
is "$?" 0 "setup: push to grp/sec"
http POST /oauth/token -d grant_type=password -d username=alice -d password=alice-pass-1234
ALICE_TOKEN=$(json access_token)
http GET /api/v4/user -H "PRIVATE-TOKEN: $ALICE_TOKEN"
is "$STATUS:$(json username)" "200:alice" "setup: alice has an API token (non-admin)"

# --- path traversal -------------------------------------------------------------------------
for p in '../grp/sec' 'grp/../grp/sec' '%2e%2e/grp/sec' '..%2fgrp/sec' '/etc/passwd' \
	'grp/sec.git/../../x' '/grp/../../grp/sec' './grp/sec' 'grp/./sec' '~alice/grp/sec' \
	"$REPOS/grp/sec.git"; do
	internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
		-d "{\"action\":\"git-upload-pack\",\"username\":\"alice\",\"project\":\"$p\",\"protocol\":\"ssh\"}"
	is "$STATUS $(json status) $(json message)" "404 false $MSG_PROJECT_NOT_FOUND" \
		"internal API: project '$p' is not found"
done
for p in "'%2e%2e/grp/sec'" "'grp%2f..%2fsec'" "'$REPOS/grp/sec.git'" "'grp/sec.git/..'" \
	"'grp/sec/.'" "'..'" "'/'"; do
	run_ssh alicekey "git-upload-pack $p"
	if [ "$RC" = 128 ] && [ "$ERR" == "$(box "$MSG_DISALLOWED")" ] && [ -z "$OUT" ]; then
		ok 0 "ssh: git-upload-pack $p is a disallowed command"
	elif [ "$RC" = 1 ] && [ "$ERR" == "$(box "$MSG_PROJECT_NOT_FOUND")" ] && [ -z "$OUT" ]; then
		ok 0 "ssh: git-upload-pack $p: project not found"
	else
		ok 1 "ssh: git-upload-pack $p is refused"
		printf '#   status %s, stdout %q, stderr %q\n' "$RC" "$OUT" "$ERR"
	fi
done
for path in '/api/v4/projects/..%2F..%2Fetc%2Fpasswd' '/api/v4/projects/grp%2F..%2Fgrp%2Fsec' \
	'/api/v4/projects/%2Fetc%2Fpasswd'; do
	admin GET "$path"
	is "$STATUS" 404 "REST: GET $path is 404 (even for the admin)"
done
for path in '/../../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/api/v4/../../etc/passwd' '//etc/passwd'; do
	http GET "$path"
	unlike "$BODY" 'root:' "HTTP: GET $path serves no file from outside"
done

# --- symbolic links out of the storage root -------------------------------------------------
OUTSIDE="$GG_TMP/outside"
git init -q --bare "$OUTSIDE/secret.git"
git init -q "$W/secret"
echo s3cret >"$W/secret/TOKEN"
git -C "$W/secret" add TOKEN && git -C "$W/secret" commit -qm secret
git -C "$W/secret" push -q "$OUTSIDE/secret.git" HEAD:main
outside_before=$(state "$OUTSIDE/secret.git")
rm -rf "$REPOS/grp/link.git"
ln -s "$OUTSIDE/secret.git" "$REPOS/grp/link.git"
err=$(gg_git alicekey clone "$(gg_url grp/link)" "$W/link" 2>&1)
is "$?" 128 "a repository that is a symlink out of the storage root: clone fails"
contains "$err" "$(box "$MSG_UNAVAILABLE")" "... with '$MSG_UNAVAILABLE'"
[ ! -e "$W/link/TOKEN" ]
ok $? "... and nothing of the outside repository reached the client"
git -C "$W/src" commit -q --allow-empty -m "into the link"
err=$(gg_git alicekey -C "$W/src" push "$(gg_url grp/link)" HEAD:main 2>&1)
is "$?" 128 "push through the symlink fails"
contains "$err" "$(box "$MSG_UNAVAILABLE")" "... with '$MSG_UNAVAILABLE'"
is "$(state "$OUTSIDE/secret.git")" "$outside_before" "... and the outside repository is unchanged"
mkdir -p "$OUTSIDE/ns2"
mv "$REPOS/ns2/inner.git" "$OUTSIDE/ns2/"
rmdir "$REPOS/ns2"
ln -s "$OUTSIDE/ns2" "$REPOS/ns2"
err=$(gg_git alicekey ls-remote "$(gg_url ns2/inner)" 2>&1)
is "$?" 128 "a namespace directory that is a symlink out of the storage root: refused"
contains "$err" "$(box "$MSG_UNAVAILABLE")" "... with '$MSG_UNAVAILABLE'"
ln -s "$REPOS/grp/sec.git" "$OUTSIDE/back.git"
gg_git alicekey ls-remote "$(gg_url grp/sec)" >/dev/null 2>&1
is "$?" 0 "a real repository inside the storage root is still served"

# --- over-long input and NUL bytes ----------------------------------------------------------
long=$(head -c 100000 /dev/zero | tr '\0' a)
run_ssh alicekey "git-upload-pack '$long'"
is "$RC:$ERR" "128:$(box "$MSG_DISALLOWED")" "ssh: a 100 kB command is a disallowed command"
run_ssh alicekey "git-upload-pack 'grp/$(head -c 5000 /dev/zero | tr '\0' b)'"
is "$RC:$ERR" "128:$(box "$MSG_DISALLOWED")" "ssh: a 5000-byte project path is a disallowed command"
internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
	-d '{"action":"git-upload-pack","username":"alice","project":"grp/sec\u0000x","protocol":"ssh"}'
is "$STATUS $BODY" "400 {\"message\":\"$MSG_BAD_REQUEST\"}" "internal API: a NUL in a JSON string is a bad request"
internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
	-d '{"action":"git-upload-pack","username":"alice","project":"grp/sec\\u0000x","protocol":"ssh"}'
is "$STATUS" 404 "... an escaped backslash before u0000 is not a NUL (project not found)"
internal POST /api/v4/internal/allowed -d 'action=git-upload-pack&username=alice&project=grp/sec%00x&protocol=ssh'
is "$STATUS $BODY" "400 {\"message\":\"$MSG_BAD_REQUEST\"}" "internal API: a NUL in a form field is a bad request"
admin GET '/api/v4/users?search=ali%00ce'
is "$STATUS" 400 "REST: a NUL in the query string is a bad request"
admin GET '/api/v4/projects/grp%2Fsec%00x'
is "$STATUS" 400 "REST: a NUL in the path is a bad request"
bigp=$(head -c 1000000 /dev/zero | tr '\0' p)
printf '{"action":"git-upload-pack","username":"alice","project":"%s","protocol":"ssh"}' "$bigp" >"$GG_TMP/big.json"
internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' --data-binary "@$GG_TMP/big.json"
is "$STATUS" 404 "internal API: a 1 MB project name is simply not found"
admin GET "/api/v4/version?$(head -c 20000 /dev/zero | tr '\0' q)=1"
like "$STATUS" '^(200|400|414|431)$' "HTTP: a 20 kB query string is answered ($STATUS)"
printf 'X-Long: %s\n' "$(head -c 200000 /dev/zero | tr '\0' h)" >"$GG_TMP/hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "@$GG_TMP/hdr" "$API/api/v4/version")
like "$code" '^(000|400|413|414|431)$' "HTTP: a 200 kB header is refused ($code)"
admin GET /api/v4/version
is "$STATUS" 200 "gate-api still serves after a 200 kB header"
for port in "$API_PORT" "$SSH_PORT"; do
	timeout 20 bash -c "head -c 300000 /dev/urandom >/dev/tcp/127.0.0.1/$port" 2>/dev/null
done
admin GET /api/v4/version
is "$STATUS" 200 "gate-api still serves after 300 kB of random bytes"
gg_ssh alicekey </dev/null >"$GG_TMP/out" 2>/dev/null
is "$(cat "$GG_TMP/out")" "Welcome to GitLab, @alice!" "sshd-gate still serves after 300 kB of random bytes"

# --- JWTs on every internal route -----------------------------------------------------------
now=$(date +%s)
routes=$(sed -n 's/^ *{"\([A-Z]*\)", "\(\/api\/v4\/internal\/[^"]*\)".*/\1 \2/p' "$GG_SRC/internal-api/internal_api.c")
[ "$(echo "$routes" | wc -l)" -ge 5 ]
ok $? "the internal routes were read from internal_api.c ($(echo "$routes" | wc -l))"
forged_none=$(printf '%s.%s.' "$(printf '{"alg":"none","typ":"JWT"}' | b64url)" \
	"$(printf '{"iss":"gitlab-shell","iat":%d,"exp":%d}' "$now" $((now + 60)) | b64url)")
declare -A bad_jwts=(
	[none]=""
	[wrong-secret]=$(gg_jwt "not-the-secret")
	[alg-none]=$forged_none
	[hs512]=$(jwt_raw '{"alg":"HS512","typ":"JWT"}' "{\"iss\":\"gitlab-shell\",\"iat\":$now,\"exp\":$((now + 60))}" "$SECRET" sha512)
	[no-exp]=$(jwt_raw '{"alg":"HS256","typ":"JWT"}' "{\"iss\":\"gitlab-shell\",\"iat\":$now}")
	[no-iss]=$(jwt_raw '{"alg":"HS256","typ":"JWT"}' "{\"iat\":$now,\"exp\":$((now + 60))}")
	[expired]=$(gg_jwt "$SECRET" gitlab-shell -3600 60)
	[future]=$(gg_jwt "$SECRET" gitlab-shell 3600 60)
	[truncated-sig]=$(gg_jwt | sed 's/.....$//')
)
while read -r m r; do
	for k in none wrong-secret alg-none hs512 no-exp no-iss expired future truncated-sig; do
		if [ -z "${bad_jwts[$k]}" ]; then
			http "$m" "$r" -H 'Content-Type: application/json' -d '{}'
		else
			http "$m" "$r" -H "Gitlab-Shell-Api-Request: ${bad_jwts[$k]}" -H 'Content-Type: application/json' -d '{}'
		fi
		[ "$m" = GET ] && http "$m" "$r" ${bad_jwts[$k]:+-H "Gitlab-Shell-Api-Request: ${bad_jwts[$k]}"}
		is "$STATUS $BODY" "401 {\"message\":\"$MSG_UNAUTHORIZED\"}" "$m $r with JWT '$k': 401"
	done
done <<<"$routes"
# Replay: a token accepted now is refused once it is past exp + the 60 s leeway.
replay=$(gg_jwt "$SECRET" gitlab-shell -115 60) # exp = now - 55: 5 s of leeway left
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $replay"
is "$STATUS" 200 "replay: a token 55 s past exp is accepted (within the leeway)"
sleep 7
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $replay"
is "$STATUS $BODY" "401 {\"message\":\"$MSG_UNAUTHORIZED\"}" "replay: the same token, now past the leeway, is refused"

# --- a non-administrator on every administrator route ---------------------------------------
# The API routes whose handler calls gg_rest_require_admin (directly or through set_blocked),
# read from internal-api/rest.c's table; the web admin pages from web.c's.
admin_routes=$(python3 - "$GG_SRC/internal-api" <<'PY'
import re, sys, glob
src = {f: open(f).read() for f in glob.glob(sys.argv[1] + "/*.c")}
allsrc = "\n".join(src.values())
def body(fn):
    m = re.search(r"^(?:static )?void " + re.escape(fn) + r"\([^)]*\)\n\{(.*?)^\}", allsrc, re.S | re.M)
    return m.group(1) if m else ""
def admin_only(fn, depth=0):
    b = body(fn)
    if "gg_rest_require_admin(" in b or re.search(r"\brequire_admin\(", b):
        return True
    return depth < 2 and any(admin_only(c, depth + 1) for c in re.findall(r"\b(set_\w+)\(", b))
for f in ("rest.c", "web.c"):
    for m, path, fn in re.findall(r'\{"([A-Z]+)", ([A-Z_]+|"[^"]*"), (\w+)\}', src[sys.argv[1] + "/" + f]):
        if path.startswith('"'):
            path = path.strip('"')
        else:
            path = re.search(r"#define\s+" + path + r'\s+"([^"]+)"', src[sys.argv[1] + "/" + f]).group(1)
        if admin_only(fn):
            print(m, path.replace(":key_id", "1").replace(":id", "3"))
PY
)
n_admin=$(echo "$admin_routes" | wc -l)
[ "$n_admin" -ge 10 ]
ok $? "administrator routes found in the route tables: $n_admin"
carol_id=$(gatectl user show carol | sed -n 's/^id: *//p')
users_before=$(admin GET /api/v4/users && echo "$BODY")
settings_before=$(admin GET /api/v4/application/settings && echo "$BODY")
while read -r m r; do
	r=${r//\/3/\/${carol_id:-3}}
	case $r in
	/api/*)
		http "$m" "$r" -H "PRIVATE-TOKEN: $ALICE_TOKEN" -d 'maintenance_mode=true&username=x&email=x@example.com&password=x-pass-1234&name=x&key=ssh-ed25519 AAAA&title=t&scopes[]=api'
		is "$STATUS $BODY" "403 {\"message\":\"$MSG_FORBIDDEN\"}" "non-admin: $m $r is 403"
		http "$m" "$r"
		is "$STATUS" 401 "anonymous: $m $r is 401"
		;;
	*)
		http "$m" "$r" -H "PRIVATE-TOKEN: $ALICE_TOKEN" -H 'Accept: text/html' -d 'application_setting[maintenance_mode]=1'
		like "$STATUS" '^(403|404)$' "non-admin: web $m $r is refused ($STATUS)"
		;;
	esac
done <<<"$admin_routes"
is "$(admin GET /api/v4/users && echo "$BODY")" "$users_before" "non-admin: users unchanged"
is "$(admin GET /api/v4/application/settings && echo "$BODY")" "$settings_before" "non-admin: settings unchanged"
gatectl maintenance status >/dev/null
is "$?" 1 "non-admin: maintenance mode is still off"

# --- constant-time comparison of secrets (static checks of the code that compares them) ----
bad_cmp=$(grep -nE '(strcmp|strncmp|memcmp|strcasecmp)\([^)]*(token|secret|password|csrf|digest|signature|hmac)' \
	"$GG_SRC"/common/*.c "$GG_SRC"/internal-api/*.c "$GG_SRC"/sshd-gate/*.c "$GG_SRC"/hooks/*.c |
	grep -vE 'strcmp\((grant|state|id_param|check), |v2_signature' || true)
is "$bad_cmp" "" "no secret is compared with strcmp/memcmp (variable-time)"
grep -q 'gg_str_equal_ct(token' "$GG_SRC/common/jwt.c" && grep -q 'CRYPTO_memcmp' "$GG_SRC/common/util.c" &&
	grep -q 'CRYPTO_memcmp' "$GG_SRC/internal-api/web_layout.c"
ok $? "the JWT cache, gg_str_equal_ct and the CSRF check use CRYPTO_memcmp"
libjwt=$(ldd "$GATE_API" | awk '/libjwt/ {print $3}')
objdump -d "$libjwt" 2>/dev/null | grep -q 'call.*<jwt_strcmp'
ok $? "libjwt checks the HMAC with its constant-time jwt_strcmp ($libjwt)"

# --- password guessing ----------------------------------------------------------------------
for i in $(seq 1 10); do
	http POST /oauth/token -d grant_type=password -d username=alice -d "password=wrong-$i"
	[ "$STATUS" = 400 ] || break
done
is "$STATUS $(json error)" "400 invalid_grant" "oauth: ten wrong passwords for alice are each refused"
http POST /oauth/token -d grant_type=password -d username=alice -d password=alice-pass-1234
is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" "oauth: the 11th try, even with the right password, is 429"
http POST /users/sign_in -H 'Content-Type: application/json' -d '{"user":{"login":"ALICE","password":"alice-pass-1234"}}'
is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" "sign_in: the same login (any case) is locked too"
http POST /users/sign_in -H 'Content-Type: application/json' -d '{"user":{"login":"carol","password":"carol-pass-1234"}}'
is "$STATUS" 200 "sign_in: another user still signs in"
for i in $(seq 1 10); do
	http POST /users/sign_in -H 'Content-Type: application/json' -d "{\"user\":{\"login\":\"carol\",\"password\":\"no-$i\"}}"
	[ "$STATUS" = 401 ] || break
done
is "$STATUS $BODY" "401 {\"message\":\"$MSG_INVALID_CREDENTIALS\"}" "sign_in: ten wrong passwords for carol are each refused"
http POST /users/sign_in -H 'Content-Type: application/json' -d '{"user":{"login":"carol","password":"carol-pass-1234"}}'
is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" "sign_in: then carol is locked"
http POST /users/sign_in -d 'user[login]=carol&user[password]=carol-pass-1234' -D "$GG_TMP/h" -H 'Accept: text/html'
is "$STATUS" 429 "sign_in (web form): locked too"
grep -qi '^Retry-After: 600' "$GG_TMP/h"
ok $? "... with Retry-After"
# Per address: 100 failures over any logins lock out new logins from that address.
for i in $(seq 1 80); do
	http POST /oauth/token -d grant_type=password -d "username=nobody$i" -d password=x
	[ "$STATUS" = 400 ] || break
done
is "$STATUS" 400 "oauth: 80 more failures over unknown logins (100 from this address)"
http POST /oauth/token -d grant_type=password -d username=root -d password=admin-pass-1234
is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" "oauth: then the address is locked, even for root"
like "$(grep -c 'too many failed attempts' "$GG_TMP/gate-api.log")" '^[1-9]' "gate-api logs the lock-outs"

# The counts are in the store, shared by every gate-api node on one database: two nodes on one
# PostgreSQL (started here), with the failures spread over both, lock the login at 10, not 20.
. "$GG_SRC/tests/e2e/pg.sh"
PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-sec-pg.XXXXXX")
trap 'gg_cleanup; gg_pg_stop; rm -rf "$PG_TMP"' EXIT
if gg_pg_start "$PG_TMP" >&2; then
	PGN="$GG_TMP/pgnodes"
	"$GATECTL" --config "$PGN/a.conf" init --data-dir "$PGN" --database-url "$GG_PG_URL" \
		--admin-password 'admin-pass-1234' >"$GG_TMP/pg-init.log" 2>&1
	is "$?" 0 "two-node sign-in limit: gatectl init on PostgreSQL"
	"$GATECTL" --config "$PGN/a.conf" user create dana --email dana@example.com --password dana-pass-1234 >/dev/null
	PORT_A=$(gg_free_port)
	PORT_B=$(gg_free_port)
	cp "$PGN/a.conf" "$PGN/b.conf"
	printf '\n[api]\nport = %s\n' "$PORT_A" >>"$PGN/a.conf"
	printf '\n[api]\nport = %s\n' "$PORT_B" >>"$PGN/b.conf"
	for n in a b; do
		$GG_WRAP "$GATE_API" --config "$PGN/$n.conf" >>"$GG_TMP/gate-api-$n.log" 2>&1 &
		_pids+=("$!")
	done
	for port in "$PORT_A" "$PORT_B"; do
		for i in $(seq 1 200); do
			curl -s -o /dev/null "http://127.0.0.1:$port/api/v4/version" && break
			sleep 0.05
		done
	done
	SAVED_API=$API
	sessions_of_dana() { gg_psql "SELECT count(*) FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'dana'"; }
	for i in $(seq 1 10); do
		if [ $((i % 2)) = 1 ]; then API="http://127.0.0.1:$PORT_A"; else API="http://127.0.0.1:$PORT_B"; fi
		http POST /users/sign_in -H 'Content-Type: application/json' -d "{\"user\":{\"login\":\"dana\",\"password\":\"no-$i\"}}"
		[ "$STATUS" = 401 ] || break
	done
	is "$STATUS $BODY" "401 {\"message\":\"$MSG_INVALID_CREDENTIALS\"}" \
		"two nodes: ten wrong passwords for dana, alternating between node A and node B, are each refused"
	is "$(gg_psql "SELECT failures FROM signin_failures WHERE key = 'u:dana'")" 10 \
		"the ten failures are counted once, in the shared database"
	for node in A B; do
		if [ "$node" = A ]; then API="http://127.0.0.1:$PORT_A"; else API="http://127.0.0.1:$PORT_B"; fi
		http POST /users/sign_in -H 'Content-Type: application/json' -d '{"user":{"login":"dana","password":"dana-pass-1234"}}'
		is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" \
			"two nodes: then node $node refuses dana's right password with 429 (each node saw only 5)"
		http POST /oauth/token -d grant_type=password -d username=dana -d password=dana-pass-1234
		is "$STATUS $BODY" "429 {\"message\":\"$MSG_TOO_MANY_SIGN_INS\"}" "... and node $node's OAuth grant too"
	done
	is "$(sessions_of_dana)" 0 "and no session or token was written for dana"
	is "$(gg_psql "SELECT failures FROM signin_failures WHERE key = 'u:dana'")" 10 \
		"the refused tries are not counted as more failures"
	API="http://127.0.0.1:$PORT_B"
	http POST /users/sign_in -H 'Content-Type: application/json' -d '{"user":{"login":"root","password":"admin-pass-1234"}}'
	is "$STATUS" 200 "another login still signs in on node B"
	is "$(gg_psql "SELECT count(*) FROM signin_failures WHERE key = 'u:root'")" 0 "with nothing counted for it"
	API=$SAVED_API
else
	echo "Bail out! cannot start PostgreSQL"
	exit 1
fi

# --- SSH: what is never granted -------------------------------------------------------------
run_ssh alicekey -tt # OpenSSH's client ends with 255 when a pty it insisted on is refused
contains "$ERR" "PTY allocation request failed" "ssh -tt: the pty request is refused"
like "$OUT" $'^(|Welcome to GitLab, @alice!\r?)$' "... and no shell: at most the welcome"
DISPLAY=127.0.0.1:99 run_ssh alicekey -X
contains "$ERR" "X11 forwarding request failed" "ssh -X: X11 forwarding is refused"
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$GG_TMP/alicekey" 2>/dev/null
gg_ssh alicekey -v -A </dev/null >"$GG_TMP/out" 2>"$GG_TMP/err"
is "$(cat "$GG_TMP/out")" "Welcome to GitLab, @alice!" "ssh -A: the session goes on"
grep -q 'Requesting authentication agent forwarding' "$GG_TMP/err"
ok $? "... the client asked for agent forwarding"
unlike "$(cat "$GG_TMP/err")" 'auth-agent@openssh.com' "... and the server never opened an agent channel"
ssh-agent -k >/dev/null 2>&1
run_ssh alicekey -o ExitOnForwardFailure=yes -R 0:127.0.0.1:"$API_PORT" true
is "$RC" 255 "ssh -R: remote port forwarding is refused"
contains "$ERR" "remote port forwarding failed" "... ssh says so"
lport=$(gg_free_port)
gg_ssh alicekey -N -L "$lport:127.0.0.1:$API_PORT" </dev/null >/dev/null 2>"$GG_TMP/fwd.err" &
fwd=$!
for i in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$lport") 2>/dev/null && break
	sleep 0.1
done
got=$(curl -s --max-time 10 "http://127.0.0.1:$lport/api/v4/version")
is "$got" "" "ssh -L: nothing reaches gate-api through a local forward"
kill "$fwd" 2>/dev/null
wait "$fwd" 2>/dev/null
run_ssh alicekey -s sftp
contains "$ERR" "subsystem request failed" "ssh -s sftp: refused"
timeout 20 sftp -b /dev/null -i "$GG_TMP/alicekey" $GG_SSH_OPTS -P "$SSH_PORT" git@127.0.0.1 >"$GG_TMP/out" 2>&1
isnt=$?
[ "$isnt" -ne 0 ]
ok $? "sftp: refused (status $isnt)"
timeout 20 scp -i "$GG_TMP/alicekey" $GG_SSH_OPTS -P "$SSH_PORT" git@127.0.0.1:/etc/passwd "$GG_TMP/passwd" >/dev/null 2>&1
[ ! -s "$GG_TMP/passwd" ]
ok $? "scp: nothing copied"

# --- key guessing ---------------------------------------------------------------------------
# More keys than sshd-gate tries (6, as OpenSSH's MaxAuthTries): after the sixth unknown key the
# connection ends with an SSH_MSG_DISCONNECT that the client prints, before the valid last key
# is tried; a push that way writes nothing; the daemon goes on serving.
MSG_TOO_MANY_AUTH=$(_gg_msg GG_MSG_TOO_MANY_AUTH_FAILURES)
keys=()
for i in $(seq 1 20); do
	gg_new_key "junk$i"
	keys+=(-i "$GG_TMP/junk$i")
done
KEYS_SSH="ssh -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
n_looked_up() { grep -c 'publickey .* unknown to gate-api' "$GG_TMP/sshd-gate.log"; }
n_accepted() { grep -c 'accepted publickey' "$GG_TMP/sshd-gate.log"; }
looked_before=$(n_looked_up)
accepted_before=$(n_accepted)
$KEYS_SSH -v "${keys[@]}" -i "$GG_TMP/alicekey" -p "$SSH_PORT" git@127.0.0.1 </dev/null >"$GG_TMP/out" 2>"$GG_TMP/err"
is "$?" 255 "21 keys offered: ssh fails"
is "$(grep -E '^(Received disconnect|Disconnected|Connection|Permission)' "$GG_TMP/err" | tr -d '\r')" "Received disconnect from 127.0.0.1 port $SSH_PORT:11: $MSG_TOO_MANY_AUTH
Disconnected from 127.0.0.1 port $SSH_PORT" "... and ssh -v says why: sshd-gate's disconnect message reached it"
unlike "$(grep 'Offering public key' "$GG_TMP/err")" "alicekey" "... before the valid last key was offered"
is "$(cat "$GG_TMP/out")" "" "... nothing on stdout"
is "$(($(n_looked_up) - looked_before)) $(($(n_accepted) - accepted_before))" "6 0" \
	"... sshd-gate looked up six keys and accepted none"
sec_before=$(state "$REPOS/grp/sec.git")
err=$(GIT_SSH_COMMAND="$KEYS_SSH ${keys[*]} -i $GG_TMP/alicekey" git -C "$W/src" push "$(gg_url grp/sec)" HEAD:refs/heads/guessed 2>&1)
is "$?" 128 "git push with 21 keys: refused"
contains "$err" "Received disconnect from 127.0.0.1 port $SSH_PORT:11: $MSG_TOO_MANY_AUTH" "... with the message"
is "$(state "$REPOS/grp/sec.git")" "$sec_before" "... and nothing was written to grp/sec"
kill -0 "$SSHD_GATE_PID"
ok $? "sshd-gate is still running"
run_ssh alicekey
is "$OUT" "Welcome to GitLab, @alice!" "... a later connection with the right key gets in"

# --- files and listeners --------------------------------------------------------------------
FRESH="$GG_TMP/fresh"
"$GATECTL" --config "$FRESH/gitgate.conf" init --data-dir "$FRESH/data" --admin-password 'admin-pass-1234' \
	--token-file "$FRESH/data/admin.token" >/dev/null 2>&1
is "$(stat -c %a "$FRESH/data")" 700 "gatectl init makes the data directory 0700"
is "$(stat -c %a "$FRESH/gitgate.conf")" 600 "... the config 0600"
for f in gitlab_shell_secret registry.key admin.token gitgate.db; do
	[ -e "$FRESH/data/$f" ] || [ "$f" != gitgate.db ] || continue
	is "$(stat -c %a "$FRESH/data/$f")" 600 "... $f 0600"
done
# A data directory that was there before (made by a package, or by hand with the umask's 0755)
# and a secret put there by the operator are made as private as init would make them.
OLD="$GG_TMP/existing"
mkdir -p "$OLD/data"
chmod 0755 "$OLD/data"
printf 'operator-secret\n' >"$OLD/data/gitlab_shell_secret"
chmod 0644 "$OLD/data/gitlab_shell_secret"
out=$("$GATECTL" --config "$OLD/gitgate.conf" init --data-dir "$OLD/data" --admin-password 'admin-pass-1234' 2>&1)
is "$?" 0 "gatectl init on an existing 0755 data directory"
is "$(stat -c %a "$OLD/data")" 700 "... makes it 0700"
is "$(stat -c %a "$OLD/data/gitlab_shell_secret")" 600 "... and the secret found there 0600"
is "$(cat "$OLD/data/gitlab_shell_secret")" operator-secret "... keeping the secret"
grep -qxF "Made $OLD/data private: mode 0700, was 0755" <<<"$out"
ok $? "... and says so for the directory"
grep -qxF "Made $OLD/data/gitlab_shell_secret private: mode 0600, was 0644" <<<"$out"
ok $? "... and for the secret"
for f in "$GG_DATA"/ssh_host_*_key; do
	is "$(stat -c %a "$f")" 600 "sshd-gate's host key $(basename "$f") is 0600"
done
sed -n '/^\[api\]/,/^\[/p' "$FRESH/gitgate.conf" | grep -q '^listen' && fail=1 || fail=0
is "$fail" 0 "a new config names no [api] listen address (the default applies)"
api_listen=$(ss -ltnH "sport = :$API_PORT" | awk '{print $4}' | sort -u)
is "$api_listen" "127.0.0.1:$API_PORT" "gate-api listens on 127.0.0.1 only by default"
ssh_listen=$(ss -ltnH "sport = :$SSH_PORT" | awk '{print $4}' | sort -u)
is "$ssh_listen" "127.0.0.1:$SSH_PORT" "sshd-gate listens on 127.0.0.1 only by default"

# --- no secret in any log line --------------------------------------------------------------
gg_stop_sshd
gg_stop_api
logs="$GG_TMP/gate-api.log $GG_TMP/sshd-gate.log"
[ "$(wc -l <"$GG_TMP/gate-api.log")" -gt 50 ]
ok $? "gate-api logged at debug level ($(wc -l <"$GG_TMP/gate-api.log") lines)"
leaks=""
for s in "$ADMIN_TOKEN" "$ALICE_TOKEN" "$SECRET" "$replay" "${bad_jwts[wrong-secret]}" admin-pass-1234 \
	alice-pass-1234 carol-pass-1234 wrong-1 no-1; do
	# shellcheck disable=SC2086
	grep -qF -- "$s" $logs && leaks="$leaks ${s:0:12}..."
done
while read -r cookie; do
	[ -n "$cookie" ] && grep -qF -- "$cookie" $logs && leaks="$leaks session-cookie"
done < <(sed -n 's/.*_gitgate_session=\([^;]*\).*/\1/p' "$GG_TMP"/h 2>/dev/null)
is "$leaks" "" "no token, JWT, secret or password appears in the daemons' logs"

done_testing
