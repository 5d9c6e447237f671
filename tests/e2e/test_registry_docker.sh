#!/usr/bin/env bash
# A real container registry (Debian docker-registry, distribution 2.x) using
# gate-api as its token service, and a real client (skopeo) copying small OCI
# images made by the test (SPEC §4, issue 6): push and pull work with
# maintenance off; with it on, pull works and push fails with
# "denied: requested access to the resource is denied", and the registry's
# storage holds nothing new.  If docker-registry or skopeo is missing, the
# test fails.
. "$(dirname "$0")/lib.sh"

gg_setup
gg_start_api
DENIED="denied: requested access to the resource is denied"

for tool in docker-registry skopeo; do
	if ! command -v $tool >/dev/null; then
		ok 1 "$tool is installed (apt-get install docker-registry skopeo)"
		done_testing
		exit 1
	fi
done

admin POST /api/v4/users -d username=dev -d email=dev@example.com -d name=Dev -d password=dev-pass-1234
is "$STATUS" 201 "user dev created"
DEV_ID=$(json id)
admin POST /api/v4/projects -d path=app -d namespace_path=demo -d visibility=private
is "$STATUS" 201 "project demo/app created"
admin POST "/api/v4/projects/$(json id)/members" -d user_id="$DEV_ID" -d access_level=30
is "$STATUS" 201 "dev is a developer of demo/app"

# --- the registry, trusting gate-api's certificate ------------------------------------------
gatectl registry cert >"$GG_TMP/registry.crt"
REG_PORT=$(gg_free_port)
REG_STORE="$GG_TMP/registry-storage"
mkdir -p "$REG_STORE"
cat >"$GG_TMP/registry.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REG_STORE
  delete:
    enabled: false
http:
  addr: 127.0.0.1:$REG_PORT
auth:
  token:
    realm: $API/jwt/auth
    service: container_registry
    issuer: gitgate
    rootcertbundle: $GG_TMP/registry.crt
YAML
docker-registry serve "$GG_TMP/registry.yml" >"$GG_TMP/registry.log" 2>&1 &
_pids+=($!)
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" && break
	sleep 0.1
done
http_code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REG_PORT/v2/")
is "$http_code" 401 "the registry is up and asks for a token"
like "$(curl -s -D - -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" | tr -d '\r')" \
	"Www-Authenticate: Bearer realm=\"$API/jwt/auth\",service=\"container_registry\"" \
	"... from gate-api's /jwt/auth"

python3 "$GG_SRC/tests/e2e/make_oci_image.py" "$GG_TMP/img1" v1 "first image"
python3 "$GG_SRC/tests/e2e/make_oci_image.py" "$GG_TMP/img2" v2 "second image, made in maintenance"
SKOPEO=(skopeo --insecure-policy --override-os linux --override-arch amd64)
REG="docker://127.0.0.1:$REG_PORT/demo/app"
storage() { (cd "$REG_STORE" && find . -type f | sort); }

# --- maintenance off: push and pull ------------------------------------------------------------
out=$("${SKOPEO[@]}" copy --dest-tls-verify=false --dest-creds dev:dev-pass-1234 "oci:$GG_TMP/img1:v1" "$REG:v1" 2>&1)
ok $? "a developer pushes an image with maintenance off" || diag "$out"
like "$(storage)" 'repositories/demo/app/_manifests/tags/v1/current/link' "... which the registry stored"
out=$("${SKOPEO[@]}" copy --src-tls-verify=false --src-creds dev:dev-pass-1234 "$REG:v1" "oci:$GG_TMP/pulled:v1" 2>&1)
ok $? "... and pulls it back" || diag "$out"
out=$("${SKOPEO[@]}" inspect --tls-verify=false --creds root:wrong "$REG:v1" 2>&1)
ok $((! $?)) "wrong credentials cannot pull"
like "$out" "unauthorized|401" "... the registry says unauthorized"

# --- maintenance on: pull yes, push no ---------------------------------------------------------
admin PUT "/api/v4/application/settings?maintenance_mode=true"
is "$(json maintenance_mode)" true "maintenance mode on"
before=$(storage)
out=$("${SKOPEO[@]}" copy --dest-tls-verify=false --dest-creds dev:dev-pass-1234 "oci:$GG_TMP/img2:v2" "$REG:v2" 2>&1)
ok $((! $?)) "a push fails in maintenance"
like "$out" "$DENIED" "... with \"$DENIED\""
is "$(storage)" "$before" "... and the registry's storage holds nothing new"
rm -rf "$GG_TMP/pulled"
out=$("${SKOPEO[@]}" copy --src-tls-verify=false --src-creds dev:dev-pass-1234 "$REG:v1" "oci:$GG_TMP/pulled:v1" 2>&1)
ok $? "a pull works in maintenance" || diag "$out"
ok "$(test -f "$GG_TMP/pulled/index.json"; echo $?)" "... and gives the image"

# --- maintenance off again: push works -------------------------------------------------------
admin PUT "/api/v4/application/settings?maintenance_mode=false"
out=$("${SKOPEO[@]}" copy --dest-tls-verify=false --dest-creds dev:dev-pass-1234 "oci:$GG_TMP/img2:v2" "$REG:v2" 2>&1)
ok $? "with maintenance off again the push works" || diag "$out"
like "$(storage)" 'repositories/demo/app/_manifests/tags/v2/current/link' "... and the registry stored it"

done_testing
