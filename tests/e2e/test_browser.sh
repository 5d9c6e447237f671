#!/usr/bin/env bash
# Maintenance mode through a real browser (SPEC §4, issue 6): headless Chromium,
# driven over the DevTools protocol by cdp.py, signs in with the form, switches
# maintenance on in Admin → Settings → General with a message, sees the banner
# on another page (a <script> message as text), is refused the page as a
# non-admin, and switches maintenance off again through the page.  Screenshots
# of the settings page and of the banner are kept in $GG_ARTIFACTS (default
# $GG_BUILD/meson-logs/screenshots).  If Chromium cannot run, the test fails.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
GG_ARTIFACTS=${GG_ARTIFACTS:-$GG_BUILD/meson-logs/screenshots}
mkdir -p "$GG_ARTIFACTS"

gg_setup
gg_start_api
admin POST /api/v4/users -d username=dev -d email=dev@example.com -d name=Dev -d password=dev-pass-1234
is "$STATUS" 201 "a non-admin user exists"
admin POST /api/v4/projects -d path=site -d namespace_path=demo -d visibility=internal
is "$STATUS" 201 "a project to list exists"

if [ -z "$CHROMIUM" ]; then
	ok 1 "chromium is installed (apt-get install chromium)"
	done_testing
	exit 1
fi
CDP_PORT=$(gg_free_port)
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--disable-dev-shm-usage --hide-scrollbars --window-size=1280,860 \
	--user-data-dir="$GG_TMP/chromium" --remote-debugging-address=127.0.0.1 \
	--remote-debugging-port="$CDP_PORT" about:blank >"$GG_TMP/chromium.log" 2>&1 &
_pids+=($!)
cdp() { python3 "$GG_SRC/tests/e2e/cdp.py" "$CDP_PORT" "$@"; }
for _ in $(seq 1 200); do
	curl -s -o /dev/null "http://127.0.0.1:$CDP_PORT/json/version" && break
	sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$CDP_PORT/json/version"
ok $? "headless Chromium is running" || { cat "$GG_TMP/chromium.log"; }

SETTINGS="$API/admin/application_settings/general"
MESSAGE='<script>alert(1)</script> Back at 10:00 UTC'
maintenance() { admin GET /api/v4/application/settings; json maintenance_mode; }
text() { cdp eval "(document.querySelector('$1') || {}).innerText || ''"; }
# sign_in LOGIN PASSWORD: with the sign-in form, as a person would.
sign_in() {
	cdp goto "$API/users/sign_in"
	cdp eval "document.getElementById('user_login').value = '$1';
		document.getElementById('user_password').value = '$2'; true" >/dev/null
	cdp submit "document.getElementById('sign_in').click()"
}
sign_out() { cdp submit "document.querySelector('form[action=\"/users/sign_out\"] button').click()"; }

# --- the admin switches maintenance on --------------------------------------------------
sign_in root admin-pass-1234
is "$(cdp eval 'location.pathname')" / "the admin signs in with the form and lands on the dashboard"
is "$(text '#flash')" "Signed in successfully." "... with the flash"
like "$(text '#projects')" 'demo/site' "the dashboard lists the projects"

cdp goto "$SETTINGS"
is "$(text 'h2')" "Maintenance Mode" "Admin → Settings → General has the Maintenance Mode section"
is "$(cdp eval "document.getElementById('application_setting_maintenance_mode').checked")" false \
	"the toggle is off"
cdp eval "document.getElementById('application_setting_maintenance_mode').click();
	document.getElementById('application_setting_maintenance_mode_message').value = $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$MESSAGE"); true" >/dev/null
cdp submit "document.getElementById('save-settings').click()"
is "$(cdp eval 'location.pathname')" /admin/application_settings/general "saving returns to the settings page"
is "$(text '#flash')" "Application settings saved successfully" "... with the saved flash"
is "$(maintenance)" true "the API reports maintenance mode on"
is "$(cdp eval "document.getElementById('application_setting_maintenance_mode').checked")" true \
	"the toggle shows on"
is "$(text '#maintenance-banner')" "$MESSAGE" "the settings page shows the banner"
cdp screenshot "$GG_ARTIFACTS/settings-maintenance-on.png"
ok $? "screenshot of the settings page saved"

# --- the banner on another page -----------------------------------------------------------
cdp goto "$API/"
is "$(text '#maintenance-banner')" "$MESSAGE" "the dashboard shows the banner with the message as text"
is "$(cdp eval "document.getElementById('maintenance-banner').children.length")" 0 \
	"... no element was made from the message"
is "$(cdp eval 'document.scripts.length')" 0 "... and no script runs on the page"
cdp screenshot "$GG_ARTIFACTS/banner-dashboard.png"
ok $? "screenshot of the banner saved"
cdp goto "$API/projects/new"
cdp submit "document.getElementById('project_path').value = 'blocked';
	document.querySelector('#new-project button').click()"
is "$(text '#flash')" "$MSG_READ_ONLY" "a form write is refused with the read-only flash"
admin GET /api/v4/projects/root%2Fblocked
is "$STATUS" 404 "... and nothing was created"
sign_out
is "$(cdp eval 'location.pathname')" /users/sign_in "the admin signs out"

# --- a non-admin --------------------------------------------------------------------------
sign_in dev dev-pass-1234
is "$(cdp eval 'location.pathname')" / "a developer signs in while maintenance is on"
is "$(text '#maintenance-banner')" "$MESSAGE" "... and sees the banner"
is "$(cdp eval "document.querySelector('a[href=\"/admin\"]') === null")" true "... but no Admin link"
cdp goto "$SETTINGS"
is "$(text 'h1')" "404 Not Found" "the settings page is refused to a non-admin"
is "$(cdp eval "document.getElementById('application_setting_maintenance_mode') === null")" true \
	"... without the form"
is "$(maintenance)" true "maintenance is still on"
sign_out

# --- the admin switches it off again ------------------------------------------------------
sign_in root admin-pass-1234
cdp goto "$SETTINGS"
cdp eval "document.getElementById('application_setting_maintenance_mode').click(); true" >/dev/null
cdp submit "document.getElementById('save-settings').click()"
is "$(text '#flash')" "Application settings saved successfully" "the admin saves with the toggle off"
is "$(maintenance)" false "the API reports maintenance mode off"
is "$(cdp eval "document.getElementById('maintenance-banner') === null")" true "the banner is gone"
cdp goto "$API/"
is "$(cdp eval "document.getElementById('maintenance-banner') === null")" true "... from the other pages too"
cdp screenshot "$GG_ARTIFACTS/settings-maintenance-off.png" >/dev/null
diag "screenshots in $GG_ARTIFACTS"

done_testing
