#!/usr/bin/env bash
# gitgate on PostgreSQL (SPEC §2, issue 8): gatectl init --database-url, the
# maintenance switch through the API and through gatectl obeyed at once, and
# two gate-api nodes on one database, where a switch made on one node is
# obeyed by the other on its next request (nothing is cached above the
# database).  The PostgreSQL server is started by the test (tests/e2e/pg.sh).
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"
. "$GG_SRC/tests/e2e/pg.sh"

PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-pg.XXXXXX")
if ! gg_pg_start "$PG_TMP" >&2; then
	rm -rf "$PG_TMP"
	echo "Bail out! cannot start PostgreSQL"
	exit 1
fi

# gg_setup, with the state in PostgreSQL instead of a SQLite file.
GG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gitgate-e2e.XXXXXX")
trap 'gg_cleanup; gg_pg_stop; rm -rf "$PG_TMP"' EXIT
GG_DATA="$GG_TMP/var"
GG_CONF="$GG_DATA/gitgate.conf"
API_PORT=$(gg_free_port)
API="http://127.0.0.1:$API_PORT"
"$GATECTL" --config "$GG_CONF" init --data-dir "$GG_DATA" --database-url "$GG_PG_URL" \
	--admin-password 'admin-pass-1234' --token-file "$GG_DATA/admin.token" >"$GG_TMP/init.log" 2>&1
is "$?" 0 "gatectl init --database-url initializes gitgate on PostgreSQL"
grep -q "^database_url = $GG_PG_URL\$" "$GG_CONF"
ok "$?" "the written config names the PostgreSQL database"
ok "$(test ! -e "$GG_DATA/gitgate.db"; echo $?)" "no SQLite file is created"
is "$(gg_psql 'SELECT username FROM users')" root "the administrator is a row in PostgreSQL"
is "$(gg_psql 'SELECT max(version) FROM schema_migrations')" 3 "the migrations are applied (3: push generations, shared failed sign-ins)"
ADMIN_TOKEN=$(cat "$GG_DATA/admin.token")
SECRET=$(tr -d ' \n' <"$GG_DATA/gitlab_shell_secret")
out=$("$GATECTL" --config "$GG_CONF" init 2>&1)
like "$out" "already initialized" "a second gatectl init changes nothing"
printf '\n[api]\nport = %s\n' "$API_PORT" >>"$GG_CONF"
gg_start_api
API_A=$API

allowed() { # allowed ACTION PROJECT KEY_ID: /internal/allowed on $API
	internal POST /api/v4/internal/allowed -H 'Content-Type: application/json' \
		-d "{\"action\":\"$1\",\"project\":\"$2\",\"key_id\":\"$3\",\"protocol\":\"ssh\",\"changes\":\"_any\",\"check_ip\":\"127.0.0.1\"}"
}

# --- state, written through node A --------------------------------------------------------
admin POST /api/v4/users -d username=dev -d email=dev@example.com -d name=Dev -d password=dev-pass-1234
is "$STATUS" 201 "a user is created on PostgreSQL"
DEV=$(json id)
admin POST /api/v4/users -d username=DEV -d email=other@example.com -d name=Dev2 -d password=dev-pass-1234
is "$STATUS" 409 "usernames stay unique without regard to case"
admin POST /api/v4/projects -d path=app -d namespace_path=team -d visibility=private
is "$STATUS" 201 "a project is created on PostgreSQL"
PROJECT=$(json id)
admin POST "/api/v4/projects/$PROJECT/members" -d user_id="$DEV" -d access_level=30
is "$STATUS" 201 "the developer becomes a member"
gg_new_key devkey
admin POST "/api/v4/users/$DEV/keys" --data-urlencode title=laptop --data-urlencode "key=$(cat "$GG_TMP/devkey.pub")"
is "$STATUS" 201 "the developer's key is added"
KEY=$(json id)

allowed git-receive-pack team/app "$KEY"
is "$STATUS" 200 "a push is allowed while maintenance is off"

# --- the switch through the API and through gatectl, one node ----------------------------
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$STATUS" 200 "maintenance switched on through the API"
allowed git-receive-pack team/app "$KEY"
unlike "$STATUS" '^200$' "the next push check is refused"
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "with the maintenance message"
allowed git-upload-pack team/app "$KEY"
is "$STATUS" 200 "a clone is still allowed in maintenance mode"
gatectl maintenance off >/dev/null
is "$?" 0 "maintenance switched off through gatectl"
allowed git-receive-pack team/app "$KEY"
is "$STATUS" 200 "the next push check is allowed again"
gatectl maintenance on >/dev/null
allowed git-receive-pack team/app "$KEY"
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "gatectl's switch on is obeyed by the next push check"
admin POST /api/v4/users -d username=late -d email=late@example.com -d name=Late -d password=late-pass-1234
is "$BODY" "{\"message\":\"$MSG_READ_ONLY\"}" "user creation is refused in maintenance mode"
is "$(gg_psql "SELECT count(*) FROM users WHERE username = 'late'")" 0 "and no user was written"
gatectl maintenance off >/dev/null

# --- two nodes on one database -----------------------------------------------------------
NODE_B_CONF="$GG_DATA/node-b.conf"
API_PORT_B=$(gg_free_port)
sed "s/^port = $API_PORT\$/port = $API_PORT_B/" "$GG_CONF" >"$NODE_B_CONF"
$GG_WRAP "$GATE_API" --config "$NODE_B_CONF" >>"$GG_TMP/gate-api-b.log" 2>&1 &
_pids+=("$!")
API_B="http://127.0.0.1:$API_PORT_B"
for i in $(seq 1 200); do
	curl -s -o /dev/null "$API_B/api/v4/version" && break
	sleep 0.05
done
API=$API_B
allowed git-receive-pack team/app "$KEY"
is "$STATUS" 200 "node B sees node A's users, projects and keys"

API=$API_A
t0=$(date +%s.%N)
admin PUT "/api/v4/application/settings?maintenance_mode=true&maintenance_mode_message=Upgrade%20until%2010"
is "$STATUS" 200 "maintenance switched on through node A's API"
API=$API_B
allowed git-receive-pack team/app "$KEY"
t1=$(date +%s.%N)
unlike "$STATUS" '^200$' "node B refuses a push on its next request"
is "$(json message)" "$MSG_MAINTENANCE_PUSH" "node B answers with the maintenance message"
ok "$(python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 1.0 else 1)"; echo $?)" \
	"node B obeyed within 1 s of the switch on node A"
admin GET /api/v4/application/settings
is "$(json maintenance_mode)" true "node B's settings show maintenance on"
is "$(json maintenance_mode_message)" "Upgrade until 10" "node B's settings show node A's message"
allowed git-upload-pack team/app "$KEY"
is "$STATUS" 200 "node B still allows clones"

gatectl maintenance off >/dev/null
API=$API_A
allowed git-receive-pack team/app "$KEY"
is "$STATUS" 200 "after gatectl switches off, node A allows pushes at once"
API=$API_B
allowed git-receive-pack team/app "$KEY"
is "$STATUS" 200 "after gatectl switches off, node B allows pushes at once"
# --- two sshd-gate nodes, each on its own gate-api node: real pushes ------------------------
gatectl member add team/app dev maintainer >/dev/null
gg_start_sshd
SSH_PORT_A=$SSH_PORT
SSH_PORT_B=$(gg_free_port)
printf '\n[ssh]\nport = %s\n' "$SSH_PORT_B" >>"$NODE_B_CONF"
"$SSHD_GATE" --config "$NODE_B_CONF" >>"$GG_TMP/sshd-gate-b.log" 2>&1 &
_pids+=("$!")
for i in $(seq 1 600); do
	(exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT_B") 2>/dev/null && break
	sleep 0.05
done
REPO="$GG_DATA/repositories/team/app.git"
W="$GG_TMP/work"
git init -q -b main "$W"
git -C "$W" -c user.name=Dev -c user.email=dev@example.com commit -q --allow-empty -m one
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "a push through node A's sshd-gate is accepted"
git -C "$W" -c user.name=Dev -c user.email=dev@example.com commit -q --allow-empty -m two

API=$API_A
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$STATUS" 200 "maintenance switched on through node A's API"
sleep 1
SSH_PORT=$SSH_PORT_B
gg_git devkey -C "$W" push "$(gg_url team/app)" main >/dev/null 2>"$GG_TMP/err"
unlike "$?" '^0$' "a push through node B's sshd-gate 1 s later fails"
grep -qF "$MSG_MAINTENANCE_PUSH" "$GG_TMP/err"
ok "$?" "with the maintenance message"
unlike "$(git --git-dir="$REPO" rev-parse main)" "^$(git -C "$W" rev-parse main)\$" \
	"and the branch did not move"
admin PUT "/api/v4/application/settings?maintenance_mode=false"
gg_git devkey -C "$W" push -q "$(gg_url team/app)" main 2>"$GG_TMP/err"
is "$?" 0 "switched off on node A, the push through node B is accepted"
is "$(git --git-dir="$REPO" rev-parse main)" "$(git -C "$W" rev-parse main)" "and the branch moved"

is "$(gg_psql "SELECT count(*) FROM audit_events WHERE target = 'maintenance_mode'")" 8 \
	"every switch, from either node or gatectl, is in the audit trail"
like "$(gg_psql "SELECT actor FROM audit_events WHERE target = 'maintenance_mode' ORDER BY id DESC LIMIT 1")" \
	'^root$' "the last switch is logged as root's"
# /allowed reads in a read-only snapshot; the key's last use is written after it.
is "$(gg_psql "SELECT last_used_at > 0 FROM keys WHERE id = $KEY")" t \
	"the key's last use is recorded after the access check"

# --- a lock held by another transaction (issue 7) -----------------------------------------
# A write that waits for a lock longer than lock_timeout (5 s unless the URL sets one) is
# answered like SQLite past its busy_timeout: 503 and nothing written, never a hang or a 500.
# The lock lets plain reads through (the caller's token, the read-only check), as a
# long transaction of another client would; it is held until the test cancels it.
MSG_STORE_BUSY=$(_gg_msg GG_MSG_STORE_BUSY)
API=$API_A
settings_msg() { gg_psql "SELECT maintenance_mode_message FROM application_settings"; }
msg_before=$(settings_msg)
audits_before=$(gg_psql "SELECT count(*) FROM audit_events")
printf 'BEGIN;\nLOCK TABLE application_settings IN EXCLUSIVE MODE;\nSELECT pg_sleep(600);\nCOMMIT;\n' |
	"$GG_PG_BIN/psql" "$GG_PG_URL" -qAtX >/dev/null 2>"$GG_TMP/locker.err" &
locker=$!
held=0
for i in $(seq 1 200); do
	held=$(gg_psql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		WHERE c.relname = 'application_settings' AND l.mode = 'ExclusiveLock' AND l.granted")
	[ "$held" = 1 ] && break
	sleep 0.05
done
is "$held" 1 "another transaction holds an EXCLUSIVE lock on application_settings"
admin PUT "/api/v4/application/settings?maintenance_mode_message=while%20locked"
is "$STATUS $BODY" "503 {\"message\":\"$MSG_STORE_BUSY\"}" \
	"a settings write waiting for the lock is refused with 503 '$MSG_STORE_BUSY'"
ok "$(kill -0 "$locker" 2>/dev/null; echo $?)" "... while the lock is still held (lock_timeout, not the lock's end)"
is "$(settings_msg)" "$msg_before" "... and the settings are unchanged"
is "$(gg_psql "SELECT count(*) FROM audit_events")" "$audits_before" "... and no audit event is written"
grep -q 'database is busy' "$GG_TMP/gate-api.log"
ok "$?" "... and gate-api logs the busy database"
admin GET /api/v4/application/settings
is "$STATUS" 200 "reads go on meanwhile"
gg_psql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%'" >/dev/null
wait "$locker"
admin PUT "/api/v4/application/settings?maintenance_mode_message=after%20the%20lock"
is "$STATUS" 200 "once the lock is released, the same write succeeds"
is "$(settings_msg)" "after the lock" "... and is stored"

done_testing
