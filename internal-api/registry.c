/*
 * registry.c - the token service of the container registry: GET /jwt/auth
 * (Docker Registry token authentication, as GitLab's JwtController answers it).
 *
 * A Docker client that the registry turns away with 401 comes here with HTTP
 * basic credentials (a password, or a personal access token as the password)
 * and the scopes it wants ("repository:group/project:pull,push"); it gets back
 * an RS256 JWT listing what it may do, signed with the registry key
 * (registry_key.h), which the registry checks against its rootcertbundle.
 * Pull is granted to those who may read the project, push to developers and
 * up (access.h) — and never while the instance is read-only (SPEC §4): then
 * the client's push fails in the registry with "denied: requested access to
 * the resource is denied" while pulls go on.  Asking for nothing is a login
 * check (docker login).
 */
#include <ctype.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "access.h"
#include "log.h"
#include "messages.h"
#include "readonly.h"
#include "registry_key.h"
#include "rest.h"
#include "route.h"

#define MSG_REGISTRY_DENIED "HTTP Basic: Access denied"
#define MAX_SCOPES	    16

/* The signing key, read once (it changes only with a restart). */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static char *key_pem;
static size_t key_len;
static char key_id[64];

static int signing_key(const struct gg_config *cfg)
{
	char err[256];
	int rc = 0;

	pthread_mutex_lock(&key_lock);
	if (!key_pem) {
		if (gg_registry_key_ensure(cfg->registry_key_file, err, sizeof(err)) < 0 ||
		    gg_registry_key_read(cfg->registry_key_file, &key_pem, &key_len, err,
					 sizeof(err)) < 0) {
			gg_error("registry key: %s", err);
			rc = -1;
		} else if (gg_registry_key_id(key_pem, key_len, key_id, sizeof(key_id)) < 0) {
			gg_error("registry key %s: cannot compute its key id",
				 cfg->registry_key_file);
			free(key_pem);
			key_pem = NULL;
			rc = -1;
		}
	}
	pthread_mutex_unlock(&key_lock);
	return rc;
}

static void unauthorized(struct gg_http_response *res)
{
	cJSON *o = cJSON_CreateObject(), *errors = cJSON_AddArrayToObject(o, "errors");
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "code", "UNAUTHORIZED");
	cJSON_AddStringToObject(e, "message", MSG_REGISTRY_DENIED);
	cJSON_AddItemToArray(errors, e);
	gg_http_json(res, 401, o);
	gg_http_add_header(res, "WWW-Authenticate", "Basic realm=\"GitLab\"");
}

/* The value of hex digits a and b, or -1 when either is not one. */
static int hex_pair(char a, char b)
{
	if (!isxdigit((unsigned char)a) || !isxdigit((unsigned char)b))
		return -1;
	return (int)strtol((char[]){a, b, '\0'}, NULL, 16);
}

/* Percent-decode src[0..len) into a new string (caller frees). */
static char *url_decode(const char *src, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int c = src[i] == '%' && i + 2 < len ? hex_pair(src[i + 1], src[i + 2]) : -1;

		if (c >= 0) {
			out[o++] = (char)c;
			i += 2;
		} else {
			out[o++] = src[i] == '+' ? ' ' : src[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Every "scope" of the query string (a client may send several).  The number
 * found, at most max; the strings are the caller's to free. */
static size_t query_scopes(const struct gg_http_request *req, char **out, size_t max)
{
	const char *q = req->raw_url ? strchr(req->raw_url, '?') : NULL;
	size_t n = 0;

	while (q && *q && n < max) {
		size_t len;

		q++;
		len = strcspn(q, "&");
		if (len > 6 && strncmp(q, "scope=", 6) == 0 &&
		    (out[n] = url_decode(q + 6, len - 6)))
			n++;
		q += len;
	}
	return n;
}

/* Is name one of the comma-separated scopes? */
static bool has_scope(const char *scopes, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = scopes; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Who the basic credentials name: 0 with *user filled, -1 when they are
 * wrong, 1 when there are none (anonymous). */
static int authenticate(struct gg_http_request *req, struct gg_user *user, bool *may_push_scope)
{
	const char *auth = gg_http_header(req, "Authorization");
	unsigned char decoded[768];
	char *colon, *password;
	struct gg_token t;
	size_t len;
	int n, rc = -1;

	*may_push_scope = true;
	if (!auth || !*auth)
		return 1;
	if (strncasecmp(auth, "Basic ", 6) != 0)
		return -1;
	auth += 6;
	len = strlen(auth);
	if (len == 0 || len % 4 || len / 4 * 3 >= sizeof(decoded))
		return -1;
	n = EVP_DecodeBlock(decoded, (const unsigned char *)auth, (int)len);
	if (n < 0)
		return -1;
	while (n > 0 && auth[len - 1] == '=' && len--)
		n--;
	decoded[n] = '\0';
	if (memchr(decoded, '\0', (size_t)n))
		goto done;
	colon = strchr((char *)decoded, ':');
	if (!colon)
		goto done;
	*colon = '\0';
	password = colon + 1;
	if (gg_store_user_authenticate(req->store, (char *)decoded, password, user) == GG_OK) {
		rc = user->blocked ? -1 : 0;
		goto done;
	}
	/* A personal access token as the password, for the user it belongs to. */
	if (gg_store_token_find(req->store, password, &t) != GG_OK || t.kind != GG_TOKEN_PERSONAL ||
	    gg_store_user_get(req->store, t.user_id, user) != GG_OK || user->blocked ||
	    strcasecmp(user->username, (char *)decoded) != 0)
		goto done;
	/* As GitLab: api or read_registry to pull, api or write_registry to push. */
	if (!has_scope(t.scopes, "api") && !has_scope(t.scopes, "read_registry") &&
	    !has_scope(t.scopes, "write_registry"))
		goto done;
	*may_push_scope = has_scope(t.scopes, "api") || has_scope(t.scopes, "write_registry");
	rc = 0;
done:
	explicit_bzero(decoded, sizeof(decoded));
	return rc;
}

/* The project an image name belongs to: the name itself, or the longest
 * leading part of it that is a project ("group/project/image"). */
static int find_project(struct gg_store *st, const char *name, struct gg_project *out)
{
	char path[GG_PATH_MAX];
	char *slash;

	if (snprintf(path, sizeof(path), "%s", name) >= (int)sizeof(path))
		return GG_ENOTFOUND;
	for (;;) {
		if (gg_store_project_get_by_path(st, path, out) == GG_OK)
			return GG_OK;
		slash = strrchr(path, '/');
		if (!slash)
			return GG_ENOTFOUND;
		*slash = '\0';
	}
}

/* One requested scope as an access entry (or nothing when nothing is granted). */
static void add_access(struct gg_http_request *req, const struct gg_user *user, bool push_scope,
		       bool read_only, const char *scope, cJSON *access)
{
	const char *type_end = strchr(scope, ':'), *actions = strrchr(scope, ':');
	struct gg_project p;
	char name[GG_PATH_MAX];
	cJSON *entry, *list;
	bool want_pull, want_push, can_read;

	if (!type_end || actions == type_end || (size_t)(type_end - scope) != 10 ||
	    strncmp(scope, "repository", 10) != 0)
		return;
	if ((size_t)(actions - type_end - 1) >= sizeof(name))
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(actions - type_end - 1), type_end + 1);
	actions++;
	want_pull = strstr(actions, "pull") != NULL;
	want_push = strstr(actions, "push") != NULL;
	if (find_project(req->store, name, &p) != GG_OK)
		return;
	can_read = gg_access_can_read(req->store, user, &p);
	list = cJSON_CreateArray();
	if (want_pull && can_read)
		cJSON_AddItemToArray(list, cJSON_CreateString("pull"));
	if (want_push && user && push_scope && !read_only &&
	    gg_access_can_push(req->store, user, &p))
		cJSON_AddItemToArray(list, cJSON_CreateString("push"));
	if (cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(list);
		return;
	}
	entry = cJSON_CreateObject();
	cJSON_AddStringToObject(entry, "type", "repository");
	cJSON_AddStringToObject(entry, "name", name);
	cJSON_AddItemToObject(entry, "actions", list);
	cJSON_AddItemToArray(access, entry);
}

/* The signed token for subject with the given access list (consumed). */
static char *sign_token(struct gg_http_request *req, const char *subject, cJSON *access,
			int64_t now)
{
	jwt_t *jwt = NULL;
	cJSON *grants = cJSON_CreateObject();
	char *grants_text = NULL, *jti = gg_random_hex(16), *out = NULL;
	const struct gg_config *cfg = req->cfg;

	cJSON_AddItemToObject(grants, "access", access);
	grants_text = cJSON_PrintUnformatted(grants);
	if (!grants_text || !jti || jwt_new(&jwt) != 0 ||
	    jwt_add_grant(jwt, "iss", cfg->registry_issuer) != 0 ||
	    jwt_add_grant(jwt, "sub", subject) != 0 ||
	    jwt_add_grant(jwt, "aud", cfg->registry_service) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 || jwt_add_grant_int(jwt, "iat", now) != 0 ||
	    jwt_add_grant_int(jwt, "nbf", now - 5) != 0 ||
	    jwt_add_grant_int(jwt, "exp", now + cfg->registry_token_lifetime) != 0 ||
	    jwt_add_grants_json(jwt, grants_text) != 0 || jwt_add_header(jwt, "kid", key_id) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)key_pem, (int)key_len) != 0)
		goto done;
	out = jwt_encode_str(jwt);
done:
	jwt_free(jwt);
	free(grants_text);
	free(jti);
	cJSON_Delete(grants);
	return out;
}

static void jwt_auth(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *service = gg_http_param(req, "service");
	char *scopes[MAX_SCOPES];
	size_t n_scopes = 0;
	struct gg_user user;
	bool push_scope, read_only;
	int64_t now = gg_now();
	char issued[32], *token;
	time_t tt = (time_t)now;
	struct tm tm;
	cJSON *access, *o;
	int who;

	if (!service || strcmp(service, req->cfg->registry_service) != 0) {
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
		return;
	}
	who = authenticate(req, &user, &push_scope);
	if (who < 0) {
		gg_info("registry token refused from %s: bad credentials", gg_http_client_ip(req));
		unauthorized(res);
		return;
	}
	if (signing_key(req->cfg) < 0) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	read_only = gg_readonly_active(req);
	access = cJSON_CreateArray();
	n_scopes = query_scopes(req, scopes, MAX_SCOPES);
	for (size_t i = 0; i < n_scopes; i++) {
		add_access(req, who == 0 ? &user : NULL, push_scope, read_only, scopes[i], access);
		free(scopes[i]);
	}
	token = sign_token(req, who == 0 ? user.username : "", access, now);
	if (!token) {
		gg_error("cannot sign a registry token");
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(issued, sizeof(issued), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddStringToObject(o, "access_token", token);
	cJSON_AddNumberToObject(o, "expires_in", req->cfg->registry_token_lifetime);
	cJSON_AddStringToObject(o, "issued_at", issued);
	gg_http_json(res, 200, o);
	gg_http_add_header(res, "Cache-Control", "no-store");
	free(token);
}

const struct gg_route gg_registry_routes[] = {
    {"GET", "/jwt/auth", jwt_auth},
    {NULL, NULL, NULL},
};
