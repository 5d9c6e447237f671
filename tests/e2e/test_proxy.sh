#!/usr/bin/env bash
# PROXY protocol v1 and v2 on sshd-gate's listener (SPEC §5, issue 9): a test client
# (proxyhdr.py, as ssh's ProxyCommand) writes the header a load balancer would and relays
# the real ssh session behind it.  The client address of the header is the session's
# address (its log lines, check_ip); the policies require, use and reject (switched by
# SIGHUP); refusals: no header under require, a header from outside proxy_allowed_cidrs,
# v1 UNKNOWN / v2 LOCAL under require, malformed or slow headers, any header under reject.
. "$(dirname "$0")/lib.sh"
. "$GG_SRC/tests/e2e/messages.sh"

PROXYHDR="$GG_SRC/tests/e2e/proxyhdr.py"
MSG_MAINTENANCE=$(_gg_msg GG_MSG_MAINTENANCE_PUSH)

# pgit MODE CLIENT_IP [BIND] -- git args: git over ssh through the PROXY client.
pgit() {
	local mode=$1 client=$2 bind=${3:-}
	shift 3
	GIT_SSH_COMMAND="ssh -i $GG_TMP/alicekey $GG_SSH_OPTS -o ProxyCommand='python3 $PROXYHDR $mode $client %h %p $bind'" \
		git "$@"
}
# mark; since_mark: the sshd-gate log lines written after the mark.
mark() { MARK=$(wc -l <"$GG_TMP/sshd-gate.log"); }
since_mark() { tail -n +$((MARK + 1)) "$GG_TMP/sshd-gate.log"; }
# wait_log ERE: until a log line after the mark matches (bounded).
wait_log() {
	local i
	for i in $(seq 1 200); do
		since_mark | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# set_policy POLICY: rewrite proxy_protocol and reload with SIGHUP.
set_policy() {
	sed -i "s/^proxy_protocol = .*/proxy_protocol = $1/" "$GG_CONF"
	mark
	kill -HUP "$SSHD_GATE_PID"
	wait_log "reloaded: proxy_protocol=$1 "
}
snapshot() { git -C "$1" for-each-ref --format='%(objectname) %(refname)'; (cd "$1/objects" && find . -type f | sort); }

gg_setup
gg_user_with_key alice
gatectl project create grp/hello --visibility private >/dev/null
gatectl member add grp/hello alice owner >/dev/null
HELLO="$GG_DATA/repositories/grp/hello.git"
SSH_PORT=$(gg_free_port)
printf '\n[ssh]\nport = %s\nproxy_protocol = require\nproxy_allowed_cidrs = 127.0.0.1/32, ::1\nproxy_header_timeout = 2\n' \
	"$SSH_PORT" >>"$GG_CONF"

# A configuration that cannot work is refused at start.
bad="$GG_TMP/bad.conf"
sed 's/^proxy_protocol = .*/proxy_protocol = sometimes/' "$GG_CONF" >"$bad"
out=$("$SSHD_GATE" --config "$bad" 2>&1)
is "$?:$out" "1:sshd-gate: [ssh] proxy_protocol: not use, require, reject or ignore: sometimes" \
	"an unknown proxy_protocol stops sshd-gate at start"
sed 's/^proxy_allowed_cidrs = .*/proxy_allowed_cidrs = /' "$GG_CONF" >"$bad"
out=$("$SSHD_GATE" --config "$bad" 2>&1)
is "$?:$out" "1:sshd-gate: [ssh] proxy_protocol = require needs proxy_allowed_cidrs (the proxies' addresses)" \
	"require without proxy_allowed_cidrs stops sshd-gate at start"
sed 's|^proxy_allowed_cidrs = .*|proxy_allowed_cidrs = 10.0.0.0/33|' "$GG_CONF" >"$bad"
out=$("$SSHD_GATE" --config "$bad" 2>&1)
is "$?:$out" "1:sshd-gate: [ssh] proxy_allowed_cidrs: not a list of networks: 10.0.0.0/33" \
	"a malformed CIDR stops sshd-gate at start"

gg_start_api
gg_start_sshd
W="$GG_TMP/work"
mkdir -p "$W"
git init -q -b main "$W/src"
echo hello >"$W/src/README"
git -C "$W/src" add README
git -C "$W/src" -c user.name=E2E -c user.email=e2e@example.com commit -q -m first

# --- require ------------------------------------------------------------------------------
mark
pgit v1 203.0.113.7 "" -C "$W/src" push -q "$(gg_url grp/hello)" HEAD:main 2>"$GG_TMP/push.err"
is "$?" 0 "require: push through a v1 header"
is "$(git -C "$HELLO" rev-parse main)" "$(git -C "$W/src" rev-parse HEAD)" "... the push arrived"
log=$(since_mark)
like "$log" "\] connection from 203\.0\.113\.7 port 50000 \(PROXY header from 127\.0\.0\.1 port [0-9]+\)" \
	"v1: the session's address is the header's client, the proxy is logged"
like "$log" "\] accepted publickey key-[0-9]+ .* for git from 203\.0\.113\.7 port 50000" \
	"v1: the login line names the client of the header"
cid=$(printf '%s\n' "$log" | sed -n 's/.*connection from 203\.0\.113\.7 .*/&/p' | grep -o '\[[0-9a-f]\{16\}\]' | head -1)
like "$cid" '^\[[0-9a-f]{16}\]$' "v1: the session has a correlation id"
is "$(printf '%s\n' "$log" | grep -F "$cid" | grep -c 'session of key-.* ended: user=alice command=git-receive-pack')" 1 \
	"v1: the session's closing line carries the same correlation id"

mark
pgit v2 198.51.100.9 "" clone -q "$(gg_url grp/hello)" "$W/c2" 2>"$GG_TMP/err"
is "$?" 0 "require: clone through a v2 header (with a TLV)"
like "$(since_mark)" "connection from 198\.51\.100\.9 port 50000 \(PROXY header from 127\.0\.0\.1" \
	"v2 (IPv4): the session's address is the header's client"

mark
pgit v2 2001:db8::5 "" ls-remote "$(gg_url grp/hello)" >"$GG_TMP/out" 2>"$GG_TMP/err"
is "$?" 0 "require: ls-remote through a v2 header with an IPv6 client"
like "$(since_mark)" "connection from 2001:db8::5 port 50000 \(PROXY header" \
	"v2 (IPv6): the session's address is the header's client"

mark
pgit v1 2001:db8::6 "" ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "require: a v1 TCP6 header"
like "$(since_mark)" "connection from 2001:db8::6 port 50000 \(PROXY header" "v1 (IPv6): the client's address"

# check_ip reaches gate-api: with maintenance on and 203.0.113.0/24 exempt, a push behind a
# header naming 203.0.113.7 is allowed, one naming 198.51.100.9 or none (127.0.0.1) is not.
gatectl maintenance exempt add --cidr 203.0.113.0/24 >/dev/null
gatectl maintenance on >/dev/null
git -C "$W/src" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m exempt
mark
pgit v2 203.0.113.7 "" -C "$W/src" push -q "$(gg_url grp/hello)" HEAD:main 2>"$GG_TMP/push.err"
is "$?" 0 "maintenance: a push behind a header from the exempt 203.0.113.0/24 is allowed"
is "$(git -C "$HELLO" rev-parse main)" "$(git -C "$W/src" rev-parse HEAD)" "... and arrived"
cid=$(since_mark | grep -o '\[[0-9a-f]\{16\}\] connection from 203\.0\.113\.7' | head -1 | cut -c2-17)
like "$(grep -F "$cid" "$GG_TMP/gate-api.log")" "from 203\.0\.113\.7 allowed in maintenance mode: exempt" \
	"gate-api got check_ip=203.0.113.7 and logged the exempt push under sshd-gate's correlation id"
git -C "$W/src" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m refused
before=$(snapshot "$HELLO")
err=$(pgit v2 198.51.100.9 "" -C "$W/src" push "$(gg_url grp/hello)" HEAD:main 2>&1)
is "$?" 128 "maintenance: a push behind a header from 198.51.100.9 is refused"
is "$(grep -cxF "remote: $MSG_MAINTENANCE" <<<"$err")" 1 "... with the maintenance message"
is "$(snapshot "$HELLO")" "$before" "... and writes nothing"
gatectl maintenance off >/dev/null
gatectl maintenance exempt remove --cidr 203.0.113.0/24 >/dev/null

# refusals: ssh sees the connection closed (255); the log says why.
refused() { # refused MODE CLIENT BIND LOG-ERE NAME
	local mode=$1 client=$2 bind=$3 re=$4 name=$5
	mark
	pgit "$mode" "$client" "$bind" ls-remote "$(gg_url grp/hello)" >"$GG_TMP/out" 2>"$GG_TMP/err"
	local rc=$?
	is "$rc:$(cat "$GG_TMP/out")" "128:" "$name: refused, nothing listed"
	wait_log "$re"
	ok $? "$name: logged"
}
refused none 0.0.0.0 "" "connection from 127\.0\.0\.1 port [0-9]+ refused: no PROXY header \(proxy_protocol = require\)" \
	"require: no header"
refused v1 203.0.113.7 127.0.0.2 "connection from 127\.0\.0\.2 port [0-9]+ refused: PROXY header from a source outside proxy_allowed_cidrs" \
	"require: a header from 127.0.0.2, outside proxy_allowed_cidrs"
refused v1-unknown 0.0.0.0 "" "refused: PROXY v1 header without a client address \(proxy_protocol = require\)" \
	"require: v1 UNKNOWN"
refused v2-local 0.0.0.0 "" "refused: PROXY v2 header without a client address \(proxy_protocol = require\)" \
	"require: v2 LOCAL"
refused malformed 203.0.113.7 "" "refused: malformed PROXY header" "require: a malformed v1 header"

# A push behind a malformed header writes nothing.
before=$(snapshot "$HELLO")
git -C "$W/src" -c user.name=E2E -c user.email=e2e@example.com commit -q --allow-empty -m second
pgit malformed 203.0.113.7 "" -C "$W/src" push -q "$(gg_url grp/hello)" HEAD:main 2>/dev/null
is "$?" 128 "require: a push behind a malformed header fails"
is "$(snapshot "$HELLO")" "$before" "... and writes nothing"

# A client that sends nothing is closed after proxy_header_timeout.
mark
closed=$(python3 - "$SSH_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
try:
    print("closed" if s.recv(100) == b"" else "data")
except socket.timeout:
    print("open")
PY
)
is "$closed" closed "require: a silent client is closed (proxy_header_timeout)"
like "$(since_mark)" "refused: no PROXY header within 2000 ms" "... with a log line"

# --- use ----------------------------------------------------------------------------------
set_policy use
ok $? "SIGHUP switches to proxy_protocol = use"
mark
gg_git alicekey ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "use: a direct connection without a header is served"
like "$(since_mark)" "\] connection from 127\.0\.0\.1 port [0-9]+"$'\n' "use: ... as the TCP peer"
mark
pgit v2 192.0.2.44 "" ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "use: a v2 header is used"
like "$(since_mark)" "connection from 192\.0\.2\.44 port 50000 \(PROXY header" "use: ... with the header's client"
mark
pgit v1-unknown 0.0.0.0 "" ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "use: v1 UNKNOWN is served"
like "$(since_mark)" "\] connection from 127\.0\.0\.1 port [0-9]+"$'\n' "use: ... as the TCP peer"
refused v2 192.0.2.44 127.0.0.2 "connection from 127\.0\.0\.2 port [0-9]+ refused: PROXY header from a source outside proxy_allowed_cidrs" \
	"use: a header from outside proxy_allowed_cidrs"

# --- reject -------------------------------------------------------------------------------
set_policy reject
ok $? "SIGHUP switches to proxy_protocol = reject"
refused v1 203.0.113.7 "" "connection from 127\.0\.0\.1 port [0-9]+ refused: PROXY header \(proxy_protocol = reject\)" \
	"reject: a v1 header"
refused v2 203.0.113.7 "" "connection from 127\.0\.0\.1 port [0-9]+ refused: PROXY header \(proxy_protocol = reject\)" \
	"reject: a v2 header"
gg_git alicekey ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "reject: a direct connection is served"

# --- ignore (the default) -------------------------------------------------------------------
set_policy ignore
mark
gg_git alicekey ls-remote "$(gg_url grp/hello)" >/dev/null 2>&1
is "$?" 0 "ignore: a direct connection is served"
like "$(since_mark)" "\] connection from 127\.0\.0\.1 port [0-9]+"$'\n' "ignore: ... as the TCP peer"

done_testing
