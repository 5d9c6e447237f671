#!/usr/bin/env bash
# The internal API of SPEC §3 (what sshd-gate, gate-shell and gate-hook ask):
# the JWT check, /allowed with its access rules and exact messages,
# /authorized_keys, /discover, /check, /pre_receive and /post_receive.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

gg_setup
gg_start_api

mkuser() { # mkuser NAME -> prints id
	admin POST /api/v4/users -d "username=$1" -d "email=$1@example.com" -d "name=$1" -d "password=$1-pass-1234"
	json id
}
addkey() { # addkey USER_ID KEYNAME -> prints key id
	gg_new_key "$2"
	admin POST "/api/v4/users/$1/keys" --data-urlencode "title=$2" --data-urlencode "key=$(cat "$GG_TMP/$2.pub")"
	json id
}
allowed() { # allowed ACTION PROJECT KEY_ID [CHANGES]
	internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
		-d "{\"action\":\"$1\",\"project\":\"$2\",\"key_id\":\"$3\",\"protocol\":\"ssh\",\"changes\":\"${4:-_any}\",\"check_ip\":\"127.0.0.1\"}"
}

OWNER=$(mkuser owner); OWNER_KEY=$(addkey "$OWNER" ownerkey)
DEV=$(mkuser developer); DEV_KEY=$(addkey "$DEV" devkey)
REP=$(mkuser reporter); REP_KEY=$(addkey "$REP" repkey)
GUEST=$(mkuser guest); GUEST_KEY=$(addkey "$GUEST" guestkey)
OUTSIDER=$(mkuser outsider); OUT_KEY=$(addkey "$OUTSIDER" outkey)
MAINT=$(mkuser maintainer); MAINT_KEY=$(addkey "$MAINT" maintkey)
BLOCKED=$(mkuser blockeduser); BLOCKED_KEY=$(addkey "$BLOCKED" blockedkey)

admin POST /api/v4/projects -d path=secret -d namespace_path=team -d visibility=private
PRIV=$(json id)
admin POST /api/v4/projects -d path=open -d namespace_path=team -d visibility=public
PUB=$(json id)
admin POST /api/v4/projects -d path=inside -d namespace_path=team -d visibility=internal
for pair in "$DEV:30" "$REP:20" "$GUEST:10" "$MAINT:40" "$BLOCKED:30"; do
	admin POST "/api/v4/projects/$PRIV/members" -d "user_id=${pair%%:*}" -d "access_level=${pair##*:}"
done
admin POST "/api/v4/projects/$PRIV/protected_branches" -d name=main -d push_access_level=40
is "$STATUS" 201 "main protected for maintainers"
admin POST "/api/v4/users/$BLOCKED/block"
is "$STATUS" 201 "user blocked"

# --- JWT ---------------------------------------------------------------------------------
http GET /api/v4/internal/check
is "$STATUS" 401 "no JWT: 401"
is "$BODY" '{"message":"401 Unauthorized"}' "no JWT: body"
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $(gg_jwt wrongsecret)"
is "$STATUS" 401 "JWT signed with the wrong secret: 401"
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $(gg_jwt "$SECRET" someone-else)"
is "$STATUS" 401 "JWT with the wrong issuer: 401"
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $(gg_jwt "$SECRET" gitlab-shell -300)"
is "$STATUS" 401 "expired JWT (beyond the 60 s leeway): 401"
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: not.a.jwt"
is "$STATUS" 401 "garbage JWT: 401"
http GET /api/v4/internal/check -H "Gitlab-Shell-Api-Request: $(gg_jwt "$SECRET" gitlab-shell -90)"
is "$STATUS" 200 "JWT expired 30 s ago is within the leeway"
internal GET /api/v4/internal/check
is "$STATUS" 200 "/internal/check answers"
is "$(json api_version)" v4 "/internal/check api_version"
is "$(json database)" ok "/internal/check database ok"

# --- /authorized_keys and /discover -----------------------------------------------------
blob=$(awk '{print $2}' "$GG_TMP/devkey.pub")
internal GET "/api/v4/internal/authorized_keys?key=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$blob")"
is "$STATUS" 200 "authorized_keys finds a registered key"
is "$(json id)" "$DEV_KEY" "authorized_keys answers the key id"
is "$(json key)" "$(awk '{print $1" "$2}' "$GG_TMP/devkey.pub")" "authorized_keys answers type and blob"
gg_new_key stranger
internal GET "/api/v4/internal/authorized_keys?key=$(awk '{print $2}' "$GG_TMP/stranger.pub" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')"
is "$STATUS" 404 "authorized_keys: unknown key is 404"
internal GET "/api/v4/internal/discover?key_id=$DEV_KEY"
is "$(json username)" developer "discover by key_id"
internal GET "/api/v4/internal/discover?username=reporter"
is "$(json id)" "$REP" "discover by username"

# --- /allowed: access rules ---------------------------------------------------------------
allowed git-upload-pack team/secret "$DEV_KEY"
is "$STATUS" 200 "developer may clone a private project"
is "$(json gl_repository)" "project-$PRIV" "gl_repository is project-N"
is "$(json gl_id)" "user-$DEV" "gl_id is user-N"
is "$(json gl_username)" developer "gl_username"
is "$(json gl_project_path)" team/secret "gl_project_path"
is "$(json gl_key_type)" key "gl_key_type"
is "$(json gitaly.repository.relative_path)" team/secret.git "gitaly relative_path"
allowed git-upload-pack /team/secret.git "$REP_KEY"
is "$STATUS" 200 "reporter may clone (leading / and .git accepted)"
allowed git-upload-pack team/secret "$GUEST_KEY"
is "$STATUS" 401 "guest sees a private project but may not clone it: 401"
is "$(json message)" "$MSG_NO_DOWNLOAD_ACCESS" "guest: the download message"
allowed git-upload-pack team/secret "$OUT_KEY"
is "$STATUS" 404 "non-member: private project is invisible (404)"
is "$(json message)" "$MSG_PROJECT_NOT_FOUND" "non-member: exact message"
allowed git-upload-pack team/open "$OUT_KEY"
is "$STATUS" 200 "non-member may clone a public project"
allowed git-upload-pack team/inside "$OUT_KEY"
is "$STATUS" 200 "non-member may clone an internal project"
allowed git-receive-pack team/open "$OUT_KEY"
is "$STATUS" 401 "non-member may not push to a public project"
is "$(json status)" false "non-member push: status false"
allowed git-upload-pack team/nothing-here "$DEV_KEY"
is "$STATUS" 404 "unknown project: 404"
is "$(json message)" "$MSG_PROJECT_NOT_FOUND" "unknown project: exact message"
allowed git-upload-pack team/secret "$BLOCKED_KEY"
is "$STATUS" 401 "blocked user: 401"
is "$(json message)" "$MSG_ACCOUNT_BLOCKED" "blocked user: exact message"
allowed git-receive-pack team/secret "$DEV_KEY"
is "$STATUS" 200 "developer may push (any change)"
allowed git-receive-pack team/secret "$REP_KEY"
is "$STATUS" 401 "reporter may not push"
is "$(json message)" "$MSG_NO_PUSH_ACCESS" "reporter push: exact message"
Z=0000000000000000000000000000000000000000
A=1111111111111111111111111111111111111111
allowed git-receive-pack team/secret "$DEV_KEY" "$Z $A refs/heads/main"
is "$STATUS" 401 "developer may not push to protected main"
like "$(json message)" "protected branches" "protected branch: message"
allowed git-receive-pack team/secret "$DEV_KEY" "$Z $A refs/heads/feature"
is "$STATUS" 200 "developer may push an unprotected branch"
allowed git-receive-pack team/secret "$MAINT_KEY" "$Z $A refs/heads/main"
is "$STATUS" 200 "maintainer may push to protected main"
allowed git-receive-pack team/secret "$OWNER_KEY"
is "$STATUS" 404 "a non-member cannot even see private team/secret: push refused with 404"
internal POST /api/v4/internal/allowed -d action=git-receive-pack -d project=team/secret -d username=root -d protocol=ssh -d changes=_any
is "$STATUS" 200 "admin (by username) may push anywhere"
internal POST /api/v4/internal/allowed -d action=git-frobnicate -d project=team/secret -d "key_id=$DEV_KEY" -d protocol=ssh
unlike "$STATUS" '^200$' "an unknown action is not allowed"
internal POST /api/v4/internal/allowed -d action=git-upload-pack -d project=team/secret -d key_id=999999 -d protocol=ssh
unlike "$STATUS" '^200$' "an unknown key id is not allowed"

# Per-project read-only (SPEC §7), maintenance first for pushes.
gatectl project read-only team/secret on >/dev/null
allowed git-receive-pack team/secret "$DEV_KEY"
is "$STATUS" 401 "per-project read-only refuses a push"
is "$(json message)" "$MSG_PROJECT_READ_ONLY" "per-project read-only: default message"
allowed git-upload-pack team/secret "$DEV_KEY"
is "$STATUS" 200 "per-project read-only still allows clone"
gatectl project read-only team/secret off >/dev/null
gatectl maintenance on >/dev/null
allowed git-receive-pack team/nothing-here "$OUT_KEY"
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "maintenance is checked before identity and project"
allowed git-upload-pack team/secret "$DEV_KEY"
is "$STATUS" 200 "maintenance: clone still allowed"
gatectl maintenance off >/dev/null

# --- pre/post receive ---------------------------------------------------------------------
internal POST /api/v4/internal/pre_receive -d "gl_repository=project-$PRIV"
is "$(json reference_counter_increased)" true "pre_receive increases the reference counter"
internal POST /api/v4/internal/post_receive -H 'Content-Type: application/json' \
	-d "{\"gl_repository\":\"project-$PRIV\",\"identifier\":\"user-$DEV\",\"changes\":\"$Z $A refs/heads/feature\",\"push_options\":[]}"
is "$(json reference_counter_decreased)" true "post_receive decreases the reference counter"
like "$BODY" '"messages"' "post_receive answers messages"

# --- a key deleted through the API is gone at once --------------------------------------
admin DELETE "/api/v4/users/$DEV/keys/$DEV_KEY"
is "$STATUS" 204 "key deleted"
internal GET "/api/v4/internal/authorized_keys?key=$(awk '{print $2}' "$GG_TMP/devkey.pub" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')"
is "$STATUS" 404 "deleted key no longer found"
allowed git-upload-pack team/secret "$DEV_KEY"
unlike "$STATUS" '^200$' "deleted key no longer allowed"

done_testing
