#!/usr/bin/env bash
# The web pages (SPEC §4, issue 6): signing in with the form, Admin → Settings
# → General switching maintenance mode on and off with its CSRF token, the
# banner on every page (escaped), a form write refused in maintenance with the
# read-only flash, and the refusals: non-admins, missing CSRF token.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

gg_setup
gg_start_api

SETTINGS=/admin/application_settings/general
SAVED="Application settings saved successfully"

# page JAR METHOD PATH [curl args...]: a browser-like request with a cookie jar;
# sets $STATUS, $BODY and $LOCATION.
page() {
	local jar=$1 method=$2 path=$3 out
	shift 3
	out=$(curl -s --max-time 30 -X "$method" -b "$GG_TMP/$jar" -c "$GG_TMP/$jar" \
		-H 'Accept: text/html' -w '\n%{http_code} %{redirect_url}' "$@" "$API$path")
	local last=${out##*$'\n'}
	STATUS=${last%% *}
	LOCATION=${last#* }
	BODY=${out%$'\n'*}
}
csrf() { sed -n 's/.*name="authenticity_token" value="\([0-9a-f]*\)".*/\1/p' <<<"$BODY" | head -1; }
maintenance() { admin GET /api/v4/application/settings; json maintenance_mode; }
sign_in() { # sign_in JAR LOGIN PASSWORD
	page "$1" GET /users/sign_in
	page "$1" POST /users/sign_in --data-urlencode "user[login]=$2" --data-urlencode "user[password]=$3"
}

admin POST /api/v4/users -d username=dev -d email=dev@example.com -d name=Dev -d password=dev-pass-1234
is "$STATUS" 201 "a non-admin user exists"

# --- signing in -------------------------------------------------------------------------
page anon GET /
is "$STATUS" 302 "the dashboard sends anonymous visitors away"
like "$LOCATION" '/users/sign_in$' "... to the sign-in page"
page anon GET /users/sign_in
is "$STATUS" 200 "GET /users/sign_in is a page"
like "$BODY" 'name="user\[login\]"' "the sign-in form has user[login]"
like "$BODY" 'name="user\[password\]"' "the sign-in form has user[password]"
page anon GET $SETTINGS
is "$STATUS" 302 "the settings page sends anonymous visitors to sign in"
like "$LOCATION" '/users/sign_in$' "... to /users/sign_in"

sign_in admin root wrong-password
like "$LOCATION" '/users/sign_in$' "a wrong password goes back to the form"
page admin GET /users/sign_in
like "$BODY" 'Invalid login or password\.' "... with the error as a flash"
sign_in admin root admin-pass-1234
is "$STATUS" 302 "the form signs the admin in"
like "$LOCATION" '/$' "... and goes to the dashboard"
page admin GET /
is "$STATUS" 200 "the dashboard opens"
like "$BODY" 'Signed in successfully\.' "the flash is shown"
like "$BODY" '@root' "the header names the user"
page admin GET /
unlike "$BODY" 'Signed in successfully\.' "the flash is shown only once"
unlike "$BODY" 'maintenance-banner' "no banner while maintenance is off"

# --- a form write while maintenance is off ------------------------------------------------
page admin GET /projects/new
is "$STATUS" 200 "the new-project form opens"
TOKEN=$(csrf)
like "$TOKEN" '^[0-9a-f]{64}$' "the form carries a CSRF token"
page admin POST /projects -d "authenticity_token=$TOKEN" -d 'project[namespace_path]=web' \
	-d 'project[path]=first' -d 'project[visibility]=private' -H "Referer: $API/projects/new"
is "$STATUS" 302 "creating a project with the form redirects"
page admin GET /
like "$BODY" "Project &#39;web/first&#39; was successfully created\." "... with a flash"
like "$BODY" 'web/first' "... and the project is listed"
ok "$(test -f "$GG_DATA/repositories/web/first.git/HEAD"; echo $?)" "... with its bare repository"
page admin POST /projects -d 'project[namespace_path]=web' -d 'project[path]=nocsrf'
is "$STATUS" 422 "creating a project without the CSRF token is 422"
admin GET /api/v4/projects/web%2Fnocsrf
is "$STATUS" 404 "... and nothing is created"

# --- the settings page and maintenance on ---------------------------------------------------
page admin GET /admin
is "$STATUS" 200 "the admin overview opens"
like "$BODY" '@dev' "it lists the users"
like "$BODY" 'web/first' "it lists the projects"
page admin GET $SETTINGS
is "$STATUS" 200 "Admin → Settings → General opens"
like "$BODY" 'Maintenance Mode' "it has the Maintenance Mode section"
like "$BODY" 'Enable Maintenance Mode' "... with the toggle"
like "$BODY" 'Save changes' "... and the save button"
TOKEN=$(csrf)

page admin POST $SETTINGS -d 'application_setting[maintenance_mode]=1' \
	--data-urlencode 'application_setting[maintenance_mode_message]=Back soon'
is "$STATUS" 422 "saving without the CSRF token is 422"
is "$(maintenance)" false "... and maintenance stays off"
page admin POST $SETTINGS -d 'authenticity_token=0000000000000000000000000000000000000000000000000000000000000000' \
	-d 'application_setting[maintenance_mode]=1'
is "$STATUS" 422 "saving with a wrong CSRF token is 422"
is "$(maintenance)" false "... and maintenance stays off"

page admin POST $SETTINGS -d "authenticity_token=$TOKEN" -d 'application_setting[maintenance_mode]=0' \
	-d 'application_setting[maintenance_mode]=1' \
	--data-urlencode 'application_setting[maintenance_mode_message]=<script>alert(1)</script> back at 10'
is "$STATUS" 302 "the admin saves the settings with maintenance on"
like "$LOCATION" "$SETTINGS\$" "... and is sent back to the page"
is "$(maintenance)" true "the API reports maintenance mode on"
admin GET /api/v4/application/settings
is "$(json maintenance_mode_message)" '<script>alert(1)</script> back at 10' "the API reports the message"
admin GET "/api/v4/audit_events?entity_type=ApplicationSetting"
is "$(json 0.author_name)" root "the change is audited with the admin as author"
page admin GET $SETTINGS
like "$BODY" "$SAVED" "the page shows the saved flash"
like "$BODY" 'id="application_setting_maintenance_mode" name="application_setting\[maintenance_mode\]" value="1" checked' \
	"the toggle shows on"
for p in / /admin $SETTINGS /projects/new; do
	page admin GET "$p"
	like "$BODY" 'id="maintenance-banner">&lt;script&gt;alert\(1\)&lt;/script&gt; back at 10<' \
		"the banner on $p shows the message escaped"
	unlike "$BODY" '<script>alert' "... and no script tag on $p"
done
page anon GET /users/sign_in
like "$BODY" 'id="maintenance-banner">&lt;script&gt;alert\(1\)&lt;/script&gt; back at 10<' \
	"the banner is shown on the sign-in page to anonymous visitors too"

# --- a form write refused in maintenance ----------------------------------------------------
page admin GET /projects/new
TOKEN=$(csrf)
page admin POST /projects -d "authenticity_token=$TOKEN" -d 'project[namespace_path]=web' \
	-d 'project[path]=second' -H "Referer: $API/projects/new"
is "$STATUS" 302 "creating a project in maintenance is redirected"
like "$LOCATION" '/projects/new$' "... back to the form"
page admin GET /projects/new
like "$BODY" "id=\"flash\">$MSG_READ_ONLY<" "... which shows the read-only flash"
admin GET /api/v4/projects/web%2Fsecond
is "$STATUS" 404 "... and nothing is created"
ok "$(test ! -e "$GG_DATA/repositories/web/second.git"; echo $?)" "... not even a repository"

# --- the default message ---------------------------------------------------------------------
page admin GET $SETTINGS
TOKEN=$(csrf)
page admin POST $SETTINGS -d "authenticity_token=$TOKEN" -d 'application_setting[maintenance_mode]=0' \
	-d 'application_setting[maintenance_mode]=1' -d 'application_setting[maintenance_mode_message]='
is "$STATUS" 302 "the admin clears the message"
page admin GET /
like "$BODY" "id=\"maintenance-banner\">$MSG_BANNER<" "the banner shows the default message"

# --- a non-admin -----------------------------------------------------------------------------
sign_in dev dev dev-pass-1234
is "$STATUS" 302 "the developer signs in while maintenance is on"
page dev GET /
is "$STATUS" 200 "the developer sees the dashboard"
like "$BODY" "$MSG_BANNER" "... with the banner"
unlike "$BODY" 'href="/admin"' "... and no admin link"
page dev GET $SETTINGS
is "$STATUS" 404 "the settings page is 404 for a non-admin"
DEV_TOKEN=$(csrf)
page dev GET /
DEV_TOKEN=$(csrf)
page dev POST $SETTINGS -d "authenticity_token=$DEV_TOKEN" -d 'application_setting[maintenance_mode]=0'
is "$STATUS" 404 "saving the settings is 404 for a non-admin"
is "$(maintenance)" true "... and maintenance stays on"
page dev GET /admin
is "$STATUS" 404 "the admin overview is 404 for a non-admin"

# --- maintenance off again through the form -------------------------------------------------
page admin GET $SETTINGS
TOKEN=$(csrf)
page admin POST $SETTINGS -d "authenticity_token=$TOKEN" -d 'application_setting[maintenance_mode]=0'
is "$STATUS" 302 "the admin switches maintenance off with the form"
is "$(maintenance)" false "the API reports maintenance mode off"
page admin GET /
unlike "$BODY" 'maintenance-banner' "the banner is gone"
page admin GET /projects/new
TOKEN=$(csrf)
page admin POST /projects -d "authenticity_token=$TOKEN" -d 'project[namespace_path]=web' -d 'project[path]=second'
is "$STATUS" 302 "creating a project works again"
admin GET /api/v4/projects/web%2Fsecond
is "$STATUS" 200 "... and the project exists"

# --- signing out ----------------------------------------------------------------------------
page admin POST /users/sign_out
like "$LOCATION" '/users/sign_in$' "signing out goes to the sign-in page"
page admin GET /admin
is "$STATUS" 302 "after signing out the admin pages need a sign-in again"

done_testing
