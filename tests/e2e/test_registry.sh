#!/usr/bin/env bash
# The container registry's token service, GET /jwt/auth (SPEC §4, issue 6):
# pull for readers, pull and push for developers, basic auth with a password or
# a personal access token, 401 for wrong credentials, and push never granted
# in maintenance mode.  The tokens' RS256 signatures are checked with openssl
# against the certificate `gatectl registry cert` prints.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

gg_setup
ok "$(test -f "$GG_DATA/registry.key"; echo $?)" "gatectl init made the registry key"
is "$(stat -c %a "$GG_DATA/registry.key")" 600 "... readable by its owner only"
gg_start_api

for u in dev rep; do
	admin POST /api/v4/users -d username=$u -d email=$u@example.com -d name=$u -d password=$u-pass-1234
	is "$STATUS" 201 "user $u created"
	eval "${u^^}_ID=$(json id)"
done
admin POST /api/v4/projects -d path=app -d namespace_path=demo -d visibility=private
is "$STATUS" 201 "project demo/app created"
PID=$(json id)
admin POST "/api/v4/projects/$PID/members" -d user_id="$DEV_ID" -d access_level=30
admin POST "/api/v4/projects/$PID/members" -d user_id="$REP_ID" -d access_level=20
is "$STATUS" 201 "dev is a developer, rep a reporter"
admin POST "/api/v4/users/$DEV_ID/personal_access_tokens" -d name=registry -d 'scopes[]=api'
DEV_PAT=$(json token)
admin POST "/api/v4/users/$DEV_ID/personal_access_tokens" -d name=ro -d 'scopes[]=read_registry'
DEV_RO_PAT=$(json token)

gatectl registry cert >"$GG_TMP/registry.crt"
is "$?" 0 "gatectl registry cert prints a certificate"
openssl x509 -in "$GG_TMP/registry.crt" -noout -pubkey >"$GG_TMP/registry.pub" 2>/dev/null
is "$(openssl pkey -in "$GG_DATA/registry.key" -pubout)" "$(cat "$GG_TMP/registry.pub")" \
	"the certificate holds the registry key's public half"

SCOPE='scope=repository:demo/app:pull,push'
b64d() { local s; s=$(tr '_-' '/+'); while [ $(( ${#s} % 4 )) -ne 0 ]; do s+='='; done; base64 -d <<<"$s"; }
# token USER:PASSWORD [query]: GET /jwt/auth; sets STATUS, BODY, and PAYLOAD (the JWT's claims).
token() {
	local q=${2:-service=container_registry&$SCOPE}
	http GET "/jwt/auth?$q" -u "$1"
	PAYLOAD=
	if [ "$STATUS" = 200 ]; then
		JWT=$(json token)
		PAYLOAD=$(cut -d. -f2 <<<"$JWT" | b64d)
	fi
}
claim() { BODY=$PAYLOAD json "$1"; }
actions() { BODY=$PAYLOAD json access | python3 -c 'import json,sys; print(" ".join(",".join(a["actions"]) for a in json.load(sys.stdin)))'; }
verify() { # verify JWT: the RS256 signature, checked by openssl
	local h p s
	IFS=. read -r h p s <<<"$1"
	b64d <<<"$s" >"$GG_TMP/sig.bin"
	printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -verify "$GG_TMP/registry.pub" -signature "$GG_TMP/sig.bin"
}

# --- a developer: pull and push -----------------------------------------------------------
token dev:dev-pass-1234
is "$STATUS" 200 "a developer gets a token with the password"
is "$(json expires_in)" 300 "expires_in is the configured lifetime"
like "$(json issued_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "issued_at is an ISO 8601 time"
is "$(json access_token)" "$JWT" "access_token is the same token"
is "$(verify "$JWT")" "Verified OK" "the token's RS256 signature verifies with the public key"
HDR=$(cut -d. -f1 <<<"$JWT" | b64d)
is "$(BODY=$HDR json alg)" RS256 "the token is RS256"
like "$(BODY=$HDR json kid)" '^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$' "the token has a libtrust key id"
is "$(claim iss)" gitgate "iss is the configured issuer"
is "$(claim sub)" dev "sub is the user"
is "$(claim aud)" container_registry "aud is the service"
now=$(date +%s)
ok "$(( $(claim exp) - $(claim iat) == 300 && $(claim iat) <= now + 1 && $(claim nbf) <= $(claim iat) ? 0 : 1 ))" \
	"iat, nbf and exp are consistent"
like "$(claim jti)" '^[0-9a-f]{32}$' "jti is a random id"
is "$(BODY=$PAYLOAD json access.0.type):$(BODY=$PAYLOAD json access.0.name)" repository:demo/app \
	"the access entry names the repository"
is "$(actions)" pull,push "a developer may pull and push"
token dev:dev-pass-1234 "service=container_registry&scope=repository:demo/app/web:push"
is "$(BODY=$PAYLOAD json access.0.name) $(actions)" "demo/app/web push" \
	"an image under the project belongs to it"

# --- a reporter: pull only ----------------------------------------------------------------
token rep:rep-pass-1234
is "$STATUS" 200 "a reporter gets a token"
is "$(actions)" pull "a reporter may pull only"
is "$(verify "$JWT")" "Verified OK" "... signed too"

# --- several scopes, no scope, unknown projects ---------------------------------------------
admin POST /api/v4/projects -d path=other -d namespace_path=demo -d visibility=private
token dev:dev-pass-1234 "service=container_registry&scope=repository:demo/app:pull&scope=repository:demo/other:pull,push&scope=repository:nope/x:pull"
is "$(BODY=$PAYLOAD json access | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 \
	"of several scopes only those granted are listed"
is "$(BODY=$PAYLOAD json access.0.name) $(actions)" "demo/app pull" "... with what was asked"
token dev:dev-pass-1234 "service=container_registry"
is "$STATUS" 200 "no scope is a login check"
is "$(claim access)" "[]" "... with an empty access list"

# --- credentials --------------------------------------------------------------------------
token dev:wrong-password
is "$STATUS" 401 "a wrong password is 401"
is "$BODY" '{"errors":[{"code":"UNAUTHORIZED","message":"HTTP Basic: Access denied"}]}' "... with the registry error body"
token nobody:whatever
is "$STATUS" 401 "an unknown user is 401"
token "dev:$DEV_PAT"
is "$STATUS" 200 "a personal access token works as the password"
is "$(actions)" pull,push "... with the developer's rights"
token "rep:$DEV_PAT"
is "$STATUS" 401 "someone else's token is 401"
token "dev:$DEV_RO_PAT"
is "$(actions)" pull "a read_registry token may only pull"
http GET "/jwt/auth?service=container_registry&$SCOPE"
is "$STATUS" 200 "anonymous callers get a token"
is "$(BODY=$(json token | cut -d. -f2 | b64d) json access)" "[]" "... that grants nothing on a private project"
token dev:dev-pass-1234 "service=other&$SCOPE"
is "$STATUS" 404 "an unknown service is 404"

# --- maintenance mode ---------------------------------------------------------------------
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$(json maintenance_mode)" true "maintenance mode on"
token dev:dev-pass-1234
is "$STATUS" 200 "in maintenance a developer still gets a token"
is "$(actions)" pull "... for pull only: push is never granted"
is "$(verify "$JWT")" "Verified OK" "... signed"
token "dev:$DEV_PAT" "service=container_registry&scope=repository:demo/app:push"
is "$(claim access)" "[]" "a push-only scope gets nothing in maintenance"
token root:admin-pass-1234
is "$(actions)" pull "not even an administrator may push in maintenance"
admin PUT "/api/v4/application/settings?maintenance_mode=false"
token dev:dev-pass-1234
is "$(actions)" pull,push "with maintenance off push is granted again"

done_testing
