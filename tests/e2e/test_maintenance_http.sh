#!/usr/bin/env bash
# The HTTP side of the maintenance switch (SPEC §3, §4), driven with curl
# against a running gate-api, with the state checked through the API and
# gatectl afterwards.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

gg_setup
gg_start_api

RO_BODY='{"message":"You cannot perform write operations on a read-only instance"}'

# --- state before maintenance: a developer, a project, a key ---------------------------
admin POST /api/v4/users -H 'Content-Type: application/json' \
	-d '{"username":"dev","email":"dev@example.com","name":"Dev","password":"dev-pass-1234"}'
is "$STATUS" 201 "admin creates a user while maintenance is off"
DEV_ID=$(json id)
admin POST /api/v4/users -d username=reporter -d email=rep@example.com -d name=Rep -d password=rep-pass-1234
is "$STATUS" 201 "admin creates a user with a form body"
REP_ID=$(json id)
admin POST "/api/v4/users/$DEV_ID/personal_access_tokens" -d name=devtoken -d 'scopes[]=api'
is "$STATUS" 201 "admin creates a personal access token for the developer"
DEV_TOKEN=$(json token)
admin POST /api/v4/projects -d path=hello -d namespace_path=demo -d visibility=private
is "$STATUS" 201 "admin creates project demo/hello"
PROJECT_ID=$(json id)
is "$(json path_with_namespace)" "demo/hello" "project path_with_namespace"
ok "$(test -f "$GG_DATA/repositories/demo/hello.git/HEAD"; echo $?)" "project create made a bare repository on disk"
admin POST "/api/v4/projects/$PROJECT_ID/members" -d user_id="$DEV_ID" -d access_level=30
is "$STATUS" 201 "developer added as a member"
admin POST "/api/v4/projects/$PROJECT_ID/members" -d user_id="$REP_ID" -d access_level=20
is "$STATUS" 201 "reporter added as a member"
gg_new_key devkey
admin POST "/api/v4/users/$DEV_ID/keys" --data-urlencode title=laptop --data-urlencode "key=$(cat "$GG_TMP/devkey.pub")"
is "$STATUS" 201 "developer's SSH key added"
DEV_KEY_ID=$(json id)
is "$(json fingerprint_sha256)" "$(ssh-keygen -lf "$GG_TMP/devkey.pub" | awk '{print $2}')" \
	"key fingerprint equals ssh-keygen's"

# --- settings authorisation -------------------------------------------------------------
http PUT "/api/v4/application/settings?maintenance_mode=true"
is "$STATUS" 401 "settings PUT without a token is 401"
is "$BODY" '{"message":"401 Unauthorized"}' "settings PUT without a token: body"
http PUT "/api/v4/application/settings?maintenance_mode=true" -H "PRIVATE-TOKEN: $DEV_TOKEN"
is "$STATUS" 403 "settings PUT by a non-admin is 403"
is "$BODY" '{"message":"403 Forbidden"}' "settings PUT by a non-admin: body"
http GET /api/v4/application/settings -H "PRIVATE-TOKEN: $DEV_TOKEN"
is "$STATUS" 403 "settings GET by a non-admin is 403"
gatectl maintenance status >/dev/null
is "$?" 1 "gatectl maintenance status exits 1 while off"

# --- switch on through the API (query string) ------------------------------------------
admin PUT "/api/v4/application/settings?maintenance_mode=true&maintenance_mode_message=Back%20at%2010"
is "$STATUS" 200 "admin switches maintenance on with the query string"
is "$(json maintenance_mode)" true "settings answer maintenance_mode true"
is "$(json maintenance_mode_message)" "Back at 10" "settings answer the message"
admin GET /api/v4/application/settings
is "$(json maintenance_mode)" true "GET settings reads maintenance_mode true"
out=$(gatectl maintenance status)
is "$?" 0 "gatectl maintenance status exits 0 while on"
like "$out" "Maintenance mode: on" "gatectl status says on"
like "$out" "Back at 10" "gatectl status prints the message"

# --- what a write looks like now, per resource (exact body, nothing changed) ------------
snapshot() {
	local s=""
	admin GET /api/v4/users; s+="$BODY"
	admin GET /api/v4/projects; s+="$BODY"
	admin GET "/api/v4/projects/$PROJECT_ID/members"; s+="$BODY"
	admin GET "/api/v4/projects/$PROJECT_ID/protected_branches"; s+="$BODY"
	admin GET "/api/v4/users/$DEV_ID/keys"; s+="$BODY"
	admin GET "/api/v4/personal_access_tokens?user_id=$DEV_ID"; s+="$BODY"
	s+=$(cd "$GG_DATA/repositories" && find . | sort)
	printf '%s' "$s"
}
before=$(snapshot)

refused() { # refused METHOD PATH NAME [curl args]
	local m=$1 p=$2 name=$3
	shift 3
	admin "$m" "$p" "$@"
	is "$STATUS" 403 "maintenance: $name is refused with 403"
	is "$BODY" "$RO_BODY" "maintenance: $name has the read-only body"
}
refused POST /api/v4/users "creating a user" -d username=newbie -d email=n@example.com -d name=N -d password=newbie-pass-1
refused POST /api/v4/users "creating a user (JSON)" -H 'Content-Type: application/json' \
	-d '{"username":"newbie2","email":"n2@example.com","name":"N","password":"newbie-pass-1"}'
refused POST "/api/v4/users/$DEV_ID/block" "blocking a user"
refused DELETE "/api/v4/users/$REP_ID" "deleting a user"
gg_new_key otherkey
refused POST "/api/v4/users/$DEV_ID/keys" "adding an SSH key" --data-urlencode title=x --data-urlencode "key=$(cat "$GG_TMP/otherkey.pub")"
refused DELETE "/api/v4/users/$DEV_ID/keys/$DEV_KEY_ID" "deleting an SSH key"
refused POST /api/v4/projects "creating a project" -d path=new -d namespace_path=demo
refused DELETE "/api/v4/projects/$PROJECT_ID" "deleting a project"
refused POST "/api/v4/projects/$PROJECT_ID/members" "adding a member" -d user_id="$REP_ID" -d access_level=40
refused PUT "/api/v4/projects/$PROJECT_ID/members/$REP_ID" "changing a member" -d access_level=40
refused POST "/api/v4/projects/$PROJECT_ID/protected_branches" "protecting a branch" -d name=main
refused POST "/api/v4/users/$DEV_ID/personal_access_tokens" "creating a token" -d name=t2 -d 'scopes[]=api'
refused PATCH "/api/v4/projects/$PROJECT_ID" "PATCH on a project"
http POST /api/v4/users -d username=anon -d email=a@example.com
is "$STATUS" 403 "maintenance: an anonymous write is refused with 403 too"
is "$BODY" "$RO_BODY" "maintenance: anonymous write has the read-only body"
out=$(gatectl user create consoleuser --email c@example.com --password console-pass-1 2>&1)
is "$?" 1 "maintenance: gatectl user create exits 1"
like "$out" "$MSG_READ_ONLY" "maintenance: gatectl user create says why"
after=$(snapshot)
is "$after" "$before" "maintenance: nothing changed in users, projects, members, keys, tokens or repositories"
ok "$(test ! -e "$GG_DATA/repositories/demo/new.git"; echo $?)" "maintenance: no repository created on disk"

# HTML form write: redirect back with the read-only text as a flash message.
hdrs=$(curl -s -D - -o /dev/null -X POST -H 'Accept: text/html' -H "Referer: $API/projects/new" \
	-d 'project[path]=x' "$API/projects")
like "$hdrs" $'^HTTP/1.1 302' "maintenance: an HTML form write is redirected"
like "$hdrs" "[Ll]ocation: $API/projects/new|[Ll]ocation: /projects/new" "maintenance: redirected back to the referring page"
like "$hdrs" "_gitgate_flash=" "maintenance: the redirect carries a flash message"
flash=$(printf '%s' "$hdrs" | sed -n 's/.*_gitgate_flash=\([^;]*\).*/\1/p' | python3 -c 'import sys,urllib.parse;print(urllib.parse.unquote_plus(sys.stdin.read().strip()))')
is "$flash" "$MSG_READ_ONLY" "maintenance: the flash says why"

# --- reads keep working ----------------------------------------------------------------
admin GET "/api/v4/projects/$PROJECT_ID"
is "$STATUS" 200 "maintenance: API reads still work"
http GET /api/v4/user -H "PRIVATE-TOKEN: $DEV_TOKEN"
is "$(json username)" dev "maintenance: a user reads their own profile"
http HEAD /api/v4/projects -H "PRIVATE-TOKEN: $DEV_TOKEN"
is "$STATUS" 200 "maintenance: HEAD passes"

# --- allowlisted routes pass the middleware (answered by a handler, or an ordinary 404) --
passes() { # passes METHOD PATH
	local m=$1 p=$2
	shift 2
	http "$m" "$p" "$@"
	if [ "$BODY" == "$RO_BODY" ]; then
		ok 1 "maintenance: $m $p passes the middleware"
		diag "status $STATUS body $BODY"
	else
		ok 0 "maintenance: $m $p passes the middleware (status $STATUS)"
	fi
}
passes POST /admin/application_settings/general
passes PUT /api/v4/application/settings
passes POST /users/sign_in -d 'user[login]=dev' -d 'user[password]=dev-pass-1234'
passes POST /users/sign_out
passes POST /oauth/token -d grant_type=password -d username=dev -d password=dev-pass-1234
passes POST /admin/session
passes POST /admin/session/destroy
passes POST /demo/hello/-/compare
passes POST /demo/hello.git/git-upload-pack
passes POST /api/v4/internal/allowed
passes POST /api/v3/internal/allowed
passes POST /admin/sidekiq
passes POST /admin/geo
passes POST /api/v4/geo_replication/designs/resync
passes POST /api/v3/geo_replication/x
passes POST /api/graphql -H 'Content-Type: application/json' -d '{"query":"{ maintenanceMode { enabled } }"}'
# ...and near misses do not.
for p in /api/v4/internalx /users/sign_in/../../api/v4/users /admin/application_settings/generalx \
	/demo/hello.git/git-receive-pack /api/v4/users/sign_in; do
	http POST "$p"
	is "$BODY" "$RO_BODY" "maintenance: near miss POST $p is refused"
done

# --- sign-in and token sign-in still work ----------------------------------------------
http POST /users/sign_in -H 'Content-Type: application/json' -d '{"login":"dev","password":"dev-pass-1234"}'
is "$STATUS" 200 "maintenance: sign-in works (JSON)"
hdrs=$(curl -s -D - -o /dev/null -X POST -H 'Accept: text/html' -d 'user[login]=dev' -d 'user[password]=dev-pass-1234' "$API/users/sign_in")
like "$hdrs" "_gitgate_session=[^;]+" "maintenance: sign-in sets a session cookie"
http POST /users/sign_in -H 'Content-Type: application/json' -d '{"login":"dev","password":"wrong-password"}'
is "$STATUS" 401 "maintenance: a wrong password is still refused"
http POST /oauth/token -d grant_type=password -d username=dev -d password=dev-pass-1234
is "$STATUS" 200 "maintenance: /oauth/token password grant works"
OAUTH=$(json access_token)
http GET /api/v4/user -H "Authorization: Bearer $OAUTH"
is "$(json username)" dev "maintenance: the OAuth token authenticates API reads"

# --- GraphQL: queries answered, mutations refused --------------------------------------
http POST /api/graphql -H "PRIVATE-TOKEN: $DEV_TOKEN" -H 'Content-Type: application/json' \
	-d '{"query":"query { currentUser { username } maintenanceMode { enabled message } project(fullPath: \"demo/hello\") { fullPath } }"}'
is "$STATUS" 200 "maintenance: GraphQL query answered"
is "$(json data.currentUser.username)" dev "GraphQL currentUser"
is "$(json data.maintenanceMode.enabled)" true "GraphQL maintenanceMode.enabled"
is "$(json data.maintenanceMode.message)" "Back at 10" "GraphQL maintenanceMode.message"
is "$(json data.project.fullPath)" demo/hello "GraphQL project(fullPath)"
http POST /api/graphql -H "PRIVATE-TOKEN: $ADMIN_TOKEN" -H 'Content-Type: application/json' \
	-d '{"query":"mutation { projectCreate(input: {name: \"gq\", path: \"gq\", namespacePath: \"demo\"}) { project { fullPath } errors } }"}'
is "$BODY" '{"data":null,"errors":[{"message":"You cannot perform write operations on a read-only instance"}]}' \
	"maintenance: GraphQL mutation refused with the SPEC's errors body"
admin GET /api/v4/projects/demo%2Fgq
is "$STATUS" 404 "maintenance: the refused mutation created nothing"

# --- the internal API in maintenance ---------------------------------------------------
internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
	-d "{\"action\":\"git-upload-pack\",\"project\":\"demo/hello.git\",\"key_id\":$DEV_KEY_ID,\"protocol\":\"ssh\",\"changes\":\"_any\"}"
is "$STATUS" 200 "maintenance: /internal/allowed allows upload-pack"
is "$(json status)" true "maintenance: upload-pack status true"
internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
	-d "{\"action\":\"git-receive-pack\",\"project\":\"demo/hello.git\",\"key_id\":$DEV_KEY_ID,\"protocol\":\"ssh\",\"changes\":\"_any\"}"
is "$STATUS" 401 "maintenance: /internal/allowed refuses receive-pack with 401"
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "maintenance: receive-pack refusal has the exact message"
is "$(json status)" false "maintenance: receive-pack status false"
internal POST /api/v4/internal/allowed -d action=git-receive-pack -d project=demo/hello -d "key_id=$DEV_KEY_ID" -d protocol=ssh -d changes=_any
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "maintenance: receive-pack refused with a form body too"
internal POST /api/v4/internal/allowed -d action=git-upload-archive -d project=demo/hello -d "key_id=$DEV_KEY_ID" -d protocol=ssh
is "$STATUS" 200 "maintenance: upload-archive allowed"

# --- audit trail ------------------------------------------------------------------------
admin GET /api/v4/audit_events
like "$BODY" '"maintenance_mode"' "the switch is recorded as an audit event"
like "$(gatectl audit)" "maintenance_mode" "gatectl audit lists the switch"

# --- switch off (form body), then JSON body, then gatectl -------------------------------
admin PUT /api/v4/application/settings -d maintenance_mode=false
is "$STATUS" 200 "admin switches maintenance off with a form body"
is "$(json maintenance_mode)" false "settings answer maintenance_mode false"
admin POST /api/v4/users -d username=after -d email=after@example.com -d name=After -d password=after-pass-1234
is "$STATUS" 201 "off again: user creation works"
internal POST /api/v4/internal/allowed -d action=git-receive-pack -d project=demo/hello -d "key_id=$DEV_KEY_ID" -d protocol=ssh -d changes=_any
is "$STATUS" 200 "off again: receive-pack allowed for a developer"

admin PUT /api/v4/application/settings -H 'Content-Type: application/json' -d '{"maintenance_mode":true}'
is "$(json maintenance_mode)" true "JSON body switches maintenance on"
admin POST /api/v4/projects -d path=blocked -d namespace_path=demo
is "$STATUS" 403 "on via JSON: writes refused"
gatectl maintenance off >/dev/null
is "$?" 0 "gatectl maintenance off"
gatectl maintenance status >/dev/null
is "$?" 1 "gatectl status exits 1 after off"
admin POST /api/v4/projects -d path=allowed -d namespace_path=demo
is "$STATUS" 201 "off via gatectl takes effect at once in gate-api"
gatectl maintenance on --message 'Upgrade in progress' >/dev/null
admin POST /api/v4/projects -d path=blocked2 -d namespace_path=demo
is "$STATUS" 403 "on via gatectl takes effect at once in gate-api"
admin GET /api/v4/application/settings
is "$(json maintenance_mode_message)" "Upgrade in progress" "gatectl --message is visible through the API"
admin PUT "/api/v4/application/settings?maintenance_mode=maybe"
is "$STATUS" 400 "an invalid boolean is refused with 400"

done_testing
