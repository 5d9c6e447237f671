/*
 * rest_tokens.c - personal access tokens (GitLab's Personal Access Tokens
 * and the admin-only "create a token for a user" of the Users API).
 *
 * The secret is shown once, in the answer to its creation, and never again:
 * the store keeps only its SHA-256.  Listing shows personal tokens only (the
 * OAuth and web session tokens of sessions.c live in the same table but are
 * not the user's to manage here).  As on GitLab since 16.0, a token created
 * without an expiry date expires after a year.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "messages.h"
#include "rest.h"
#include "route.h"

#define DEFAULT_LIFETIME_DAYS 365
#define DAY		      86400

static const char *const known_scopes[] = {
    "api",	     "read_api",	  "read_user",	 "read_repository", "write_repository",
    "read_registry", "write_registry",	  "sudo",	 "admin_mode",	    "create_runner",
    "manage_runner", "read_service_ping", "ai_features", "k8s_proxy",	    NULL,
};

static bool scope_known(const char *s, size_t n)
{
	for (size_t i = 0; known_scopes[i]; i++)
		if (strlen(known_scopes[i]) == n && strncmp(known_scopes[i], s, n) == 0)
			return true;
	return false;
}

/* Add one scope, or a comma list of them, to the "a,b" list in out. */
static bool add_scopes(char *out, size_t len, const char *value)
{
	while (*value) {
		size_t n = strcspn(value, ", ");
		size_t used = strlen(out);

		if (n > 0) {
			if (!scope_known(value, n))
				return false;
			if (used + n + 2 > len)
				return false;
			snprintf(out + used, len - used, "%s%.*s", used ? "," : "", (int)n, value);
		}
		value += n;
		value += strspn(value, ", ");
	}
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Add every "scopes[]=" or "scopes=" of a urlencoded string (a query string
 * or a form body).  -1 for an unknown scope, else how many values were seen. */
static int add_urlencoded_scopes(char *out, size_t len, const char *s, size_t slen)
{
	int seen = 0;

	while (slen > 0) {
		size_t n = 0, vlen;
		const char *eq, *v;
		char value[128];
		size_t o = 0;

		while (n < slen && s[n] != '&')
			n++;
		eq = memchr(s, '=', n);
		if (eq && ((eq - s == 8 && strncmp(s, "scopes[]", 8) == 0) ||
			   (eq - s == 12 && strncasecmp(s, "scopes%5B%5D", 12) == 0) ||
			   (eq - s == 6 && strncmp(s, "scopes", 6) == 0))) {
			v = eq + 1;
			vlen = n - (size_t)(v - s);
			for (size_t i = 0; i < vlen && o < sizeof(value) - 1; i++) {
				if (v[i] == '+') {
					value[o++] = ' ';
				} else if (v[i] == '%' && i + 2 < vlen &&
					   hex_digit(v[i + 1]) >= 0 && hex_digit(v[i + 2]) >= 0) {
					value[o++] =
					    (char)(hex_digit(v[i + 1]) << 4 | hex_digit(v[i + 2]));
					i += 2;
				} else {
					value[o++] = v[i];
				}
			}
			value[o] = '\0';
			if (memchr(value, '\0', o) || !add_scopes(out, len, value))
				return -1;
			seen++;
		}
		s += n;
		slen -= n;
		if (slen > 0) {
			s++;
			slen--;
		}
	}
	return seen;
}

/*
 * The scopes of the request, wherever they are: a JSON array or string, or
 * repeated "scopes[]" fields of the query string or of a urlencoded form (the
 * request accessors only give the last of repeated names), or one comma list.
 * 0, -1 (400 in res) for an unknown scope, -2 when there are none.
 */
static int collect_scopes(struct gg_http_request *req, struct gg_http_response *res, char *out,
			  size_t len)
{
	const cJSON *j = cJSON_IsObject(req->json)
			     ? cJSON_GetObjectItemCaseSensitive(req->json, "scopes")
			     : NULL;
	const char *q = req->raw_url ? strchr(req->raw_url, '?') : NULL;
	const char *ct = gg_http_header(req, "Content-Type");
	const char *v;
	int rc = 0;

	out[0] = '\0';
	if (cJSON_IsArray(j)) {
		const cJSON *item;

		cJSON_ArrayForEach(item, j)
		{
			if (!cJSON_IsString(item) || !add_scopes(out, len, item->valuestring)) {
				rc = -1;
				break;
			}
		}
	} else if (j && cJSON_IsString(j)) {
		if (!add_scopes(out, len, j->valuestring))
			rc = -1;
	} else {
		if (q && add_urlencoded_scopes(out, len, q + 1, strcspn(q + 1, "#")) < 0)
			rc = -1;
		if (rc == 0 && ct &&
		    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
		    add_urlencoded_scopes(out, len, req->body, req->body_len) < 0)
			rc = -1;
		if (rc == 0 && !out[0] && (v = gg_rest_param(req, "scopes[]")) &&
		    !add_scopes(out, len, v))
			rc = -1;
		if (rc == 0 && !out[0] && (v = gg_rest_param(req, "scopes")) &&
		    !add_scopes(out, len, v))
			rc = -1;
	}
	if (rc < 0) {
		gg_rest_param_error(res, "scopes does not have a valid value");
		return -1;
	}
	return out[0] ? 0 : -2;
}

/* "YYYY-MM-DD" as midnight UTC of that day; false when not a real date. */
static bool parse_date(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char *end;
	int y, m, d;
	char check[32];

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return false;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return false;
	tm.tm_isdst = 0;
	*out = (int64_t)timegm(&tm);
	/* strptime accepts 2024-02-31; a date that does not print back is not real. */
	snprintf(check, sizeof(check), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
	return strcmp(check, s) == 0 && y >= 1970;
}

static void add_date(cJSON *o, const char *name, int64_t t)
{
	char date[16];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || !gmtime_r(&tt, &tm)) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	cJSON_AddStringToObject(o, name, date);
}

static bool token_active(const struct gg_token *t)
{
	return !t->revoked && (t->expires_at == 0 || t->expires_at > gg_now());
}

static cJSON *token_json(const struct gg_token *t, const char *secret)
{
	cJSON *o = cJSON_CreateObject(), *scopes;
	const char *s = t->scopes;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)t->id);
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddBoolToObject(o, "revoked", t->revoked);
	gg_rest_add_time(o, "created_at", t->created_at);
	scopes = cJSON_AddArrayToObject(o, "scopes");
	while (scopes && *s) {
		size_t n = strcspn(s, ",");
		char scope[GG_NAME_MAX];

		snprintf(scope, sizeof(scope), "%.*s", (int)n, s);
		if (n)
			cJSON_AddItemToArray(scopes, cJSON_CreateString(scope));
		s += n;
		if (*s)
			s++;
	}
	cJSON_AddNumberToObject(o, "user_id", (double)t->user_id);
	gg_rest_add_time(o, "last_used_at", t->last_used_at);
	cJSON_AddBoolToObject(o, "active", token_active(t));
	add_date(o, "expires_at", t->expires_at);
	if (secret)
		cJSON_AddStringToObject(o, "token", secret);
	return o;
}

void gg_rest_token_create(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *name = gg_rest_param(req, "name");
	const char *expires = gg_rest_param(req, "expires_at");
	struct gg_token t = {0};
	struct gg_user u;
	char *secret = NULL;
	int64_t uid;
	int rc;

	if (!gg_rest_require_admin(req, res))
		return;
	if (!gg_rest_parse_id(gg_route_param(req, 0), &uid) ||
	    gg_store_user_get(req->store, uid, &u) != GG_OK) {
		gg_http_message(res, 404, GG_MSG_USER_NOT_FOUND);
		return;
	}
	rc = collect_scopes(req, res, t.scopes, sizeof(t.scopes));
	if (rc == -1)
		return;
	if (!name || rc == -2) {
		gg_rest_param_error(res, !name && rc == -2 ? "name is missing, scopes is missing"
					 : !name	   ? "name is missing"
							   : "scopes is missing");
		return;
	}
	if (!gg_rest_copy(t.name, sizeof(t.name), name)) {
		gg_rest_field_error(res, 400, "name", "is too long");
		return;
	}
	if (expires) {
		if (!parse_date(expires, &t.expires_at)) {
			gg_rest_param_error(res, "expires_at is invalid");
			return;
		}
		if (t.expires_at <= gg_now()) {
			gg_rest_field_error(res, 400, "expires_at", "must be in the future");
			return;
		}
	} else {
		int64_t today = gg_now() / DAY * DAY;

		t.expires_at = today + (int64_t)DEFAULT_LIFETIME_DAYS * DAY;
	}
	t.user_id = u.id;
	t.kind = GG_TOKEN_PERSONAL;
	rc = gg_store_token_create(req->store, &t, &secret);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 201, token_json(&t, secret));
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* Personal token id: the caller's own, or (administrators) anyone's.
 * "self" is the token of this request. */
static int find_token(struct gg_http_request *req, const char *id_param, struct gg_token *out)
{
	struct gg_user *users = NULL;
	size_t nusers = 0;
	int64_t id;
	int rc = GG_ENOTFOUND;

	if (id_param && strcmp(id_param, "self") == 0) {
		if (!req->token || req->token->kind != GG_TOKEN_PERSONAL)
			return GG_ENOTFOUND;
		id = req->token->id;
	} else if (!gg_rest_parse_id(id_param, &id)) {
		return GG_ENOTFOUND;
	}
	if (req->user->admin) {
		rc = gg_store_user_list(req->store, &users, &nusers);
		if (rc != GG_OK)
			return rc;
		rc = GG_ENOTFOUND;
	}
	for (size_t u = 0; u < (req->user->admin ? nusers : 1) && rc == GG_ENOTFOUND; u++) {
		int64_t uid = req->user->admin ? users[u].id : req->user->id;
		struct gg_token *tokens = NULL;
		size_t n = 0;

		rc = gg_store_token_list_for_user(req->store, uid, &tokens, &n);
		if (rc != GG_OK)
			break;
		rc = GG_ENOTFOUND;
		for (size_t i = 0; i < n; i++)
			if (tokens[i].id == id && tokens[i].kind == GG_TOKEN_PERSONAL) {
				*out = tokens[i];
				rc = GG_OK;
				break;
			}
		free(tokens);
	}
	free(users);
	return rc;
}

/* Does t pass the filters of GET /personal_access_tokens? */
static bool token_selected(const struct gg_http_request *req, const struct gg_token *t)
{
	const char *state = gg_rest_param(req, "state");
	int revoked = gg_http_param_bool(req, "revoked");

	if (t->kind != GG_TOKEN_PERSONAL)
		return false;
	if (state && strcmp(state, "active") == 0 && !token_active(t))
		return false;
	if (state && strcmp(state, "inactive") == 0 && token_active(t))
		return false;
	if (revoked >= 0 && t->revoked != (revoked == 1))
		return false;
	return true;
}

void gg_rest_tokens_list(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *user_param = gg_rest_param(req, "user_id");
	struct gg_user *users = NULL;
	struct gg_rest_page pg;
	size_t nusers = 0, total = 0;
	int64_t only = 0;
	cJSON *list = NULL;
	int rc;

	if (!gg_rest_require_user(req, res) || !gg_rest_page_parse(req, res, &pg))
		return;
	if (user_param && !gg_rest_parse_id(user_param, &only)) {
		gg_rest_param_error(res, "user_id is invalid");
		return;
	}
	if (!req->user->admin) {
		if (only && only != req->user->id) {
			gg_http_message(res, 403, GG_MSG_FORBIDDEN);
			return;
		}
		only = req->user->id;
	}
	if (!only) {
		rc = gg_store_user_list(req->store, &users, &nusers);
		if (rc != GG_OK) {
			gg_rest_store_error(req, res, rc);
			return;
		}
	}
	list = cJSON_CreateArray();
	for (size_t u = 0; list && u < (only ? 1 : nusers); u++) {
		struct gg_token *tokens = NULL;
		size_t n = 0;

		rc = gg_store_token_list_for_user(req->store, only ? only : users[u].id, &tokens,
						  &n);
		if (rc != GG_OK) {
			gg_rest_store_error(req, res, rc);
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			if (!token_selected(req, &tokens[i]))
				continue;
			if (gg_rest_page_has(&pg, total))
				cJSON_AddItemToArray(list, token_json(&tokens[i], NULL));
			total++;
		}
		free(tokens);
	}
	gg_rest_page_headers(res, &pg, total);
	gg_http_json(res, 200, list);
	list = NULL;
done:
	cJSON_Delete(list);
	free(users);
}

void gg_rest_token_show(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_token t;
	int rc;

	if (!gg_rest_require_user(req, res))
		return;
	rc = find_token(req, gg_route_param(req, 0), &t);
	if (rc == GG_ENOTFOUND)
		gg_http_message(res, 404, GG_MSG_TOKEN_NOT_FOUND);
	else if (rc != GG_OK)
		gg_rest_store_error(req, res, rc);
	else
		gg_http_json(res, 200, token_json(&t, NULL));
}

void gg_rest_token_revoke(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_token t;
	int rc;

	if (!gg_rest_require_user(req, res))
		return;
	rc = find_token(req, gg_route_param(req, 0), &t);
	if (rc == GG_OK)
		rc = gg_store_token_revoke(req->store, t.id);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_TOKEN_NOT_FOUND);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	res->status = 204;
}
