#!/usr/bin/env bash
# allowed.sh - POST /api/v4/internal/allowed on gate-api against nginx serving
# a static JSON file, both with wrk in the same run; prints requests/s, latency
# percentiles and the ratio gitgate / nginx (SPEC §8: >= 0.5, p99 <= 2 ms at
# half that load).
#
#   bench/allowed.sh [BUILD_DIR]     (env: DURATION=10s CONNECTIONS=50 THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
for tool in wrk nginx curl openssl; do
	command -v "$tool" >/dev/null || { echo "allowed.sh: $tool is missing (scripts/install-deps --test)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/gitgate-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# gitgate: a user with a key, a project, gate-api with its default thread pool.
GATECTL="$BUILD/internal-api/gatectl --config $T/var/gitgate.conf"
$GATECTL init --data-dir "$T/var" --token-file "$T/var/admin.token" >/dev/null
API_PORT=$(port)
printf '\n[api]\nport = %s\n' "$API_PORT" >>"$T/var/gitgate.conf"
ssh-keygen -q -t ed25519 -N '' -f "$T/key"
$GATECTL user create bench --email bench@example.com >/dev/null
KEY_ID=$($GATECTL key add bench --file "$T/key.pub" | grep -oE '[0-9]+' | head -1)
$GATECTL project create bench/repo >/dev/null
$GATECTL member add bench/repo bench developer >/dev/null
"$BUILD/internal-api/gate-api" --config "$T/var/gitgate.conf" 2>"$T/gate-api.log" &
pids+=($!)

# nginx: one static JSON file of the same size as gate-api's answer.
NGINX_PORT=$(port)
mkdir -p "$T/nginx/html"
cat >"$T/nginx/nginx.conf" <<CONF
daemon off; worker_processes auto; pid $T/nginx/nginx.pid; error_log $T/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NGINX_PORT; root $T/nginx/html;
  location / { default_type application/json; } } }
CONF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" &
pids+=($!)

# bench/wrk-allowed.lua signs the JWT itself (re-signed every second, as
# sshd-gate's client would) and builds the body from these.
export GG_SECRET_FILE="$T/var/gitlab_shell_secret" GG_KEY_ID="$KEY_ID" GG_PROJECT=bench/repo
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
SECRET=$(tr -d ' \n' <"$GG_SECRET_FILE")
now=$(date +%s)
h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
p=$(printf '{"iss":"gitlab-shell","iat":%d,"exp":%d}' "$now" $((now + 60)) | b64url)
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)
JWT="$h.$p.$s"
BODY="{\"action\":\"git-upload-pack\",\"project\":\"bench/repo\",\"key_id\":$KEY_ID,\"protocol\":\"ssh\",\"changes\":\"_any\"}"

for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$API_PORT/api/v4/version" && break; sleep 0.05; done
curl -s -X POST -H "Gitlab-Shell-Api-Request: $JWT" -H 'Content-Type: application/json' \
	-d "$BODY" "http://127.0.0.1:$API_PORT/api/v4/internal/allowed" >"$T/nginx/html/allowed.json"
grep -q '"status":true' "$T/nginx/html/allowed.json" || { echo "allowed.sh: gate-api did not allow: $(cat "$T/nginx/html/allowed.json")" >&2; exit 1; }

rps() { awk '/^Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@"; }

echo "== gate-api POST /internal/allowed ($THREADS threads, $CONNECTIONS connections, $DURATION)"
run -s bench/wrk-allowed.lua "http://127.0.0.1:$API_PORT" | tee "$T/gg.txt"
echo "== nginx GET static JSON"
run "http://127.0.0.1:$NGINX_PORT/allowed.json" | tee "$T/nginx.txt"
gg=$(rps <"$T/gg.txt")
ng=$(rps <"$T/nginx.txt")
# Half load: each connection waits GG_DELAY_MS (wrk's delay(), whole milliseconds) after
# each answer; the number of connections is then set so that together they send about half
# the maximum rate: a short calibration run first, then the measured run with the count
# scaled by what the calibration achieved.
half_target=$(python3 -c "print($gg / 2)")
export GG_DELAY_MS=2
calib_conns=$(python3 -c "print(max(1, round($half_target * $GG_DELAY_MS / 1000)))")
wrk -t"$THREADS" -c"$calib_conns" -d3s --latency -s bench/wrk-allowed.lua "http://127.0.0.1:$API_PORT" >"$T/calib.txt"
half_conns=$(python3 -c "print(max($THREADS, round($calib_conns * $half_target / $(rps <"$T/calib.txt"))))")
echo "== gate-api at about half load: $half_conns connections, each waiting ${GG_DELAY_MS} ms after each answer"
wrk -t"$THREADS" -c"$half_conns" -d"$DURATION" --latency -s bench/wrk-allowed.lua "http://127.0.0.1:$API_PORT" | tee "$T/half.txt"
unset GG_DELAY_MS
echo
printf '%-40s %12s %12s %8s\n' "what" "gitgate" "nginx" "ratio"
printf '%-40s %12.0f %12.0f %8.2f\n' "/internal/allowed requests/s" "$gg" "$ng" "$(python3 -c "print($gg / $ng)")"
printf '%-40s %12s %12s\n' "p99 latency at full load" "$(p99 <"$T/gg.txt")" "$(p99 <"$T/nginx.txt")"
printf '%-40s %12s %12s %8.2f\n' "requests/s and p99 at half load" "$(rps <"$T/half.txt")" "$(p99 <"$T/half.txt")" \
	"$(python3 -c "print($(rps <"$T/half.txt") / $gg)")"
