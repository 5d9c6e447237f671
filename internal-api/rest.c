/*
 * rest.c - the REST API's route table and what its modules share (rest.h).
 *
 * The routes follow GitLab's API v4.  Everything under /api/v4/projects/
 * goes to one dispatcher (rest_projects.c) rather than to patterns here,
 * because a project is named by a URL-encoded full path ("group%2Fname")
 * that libmicrohttpd has already decoded into several segments by the time
 * the router sees the path; the dispatcher reads the raw URL instead.
 */
#include "rest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "messages.h"
#include "route.h"

const struct gg_route gg_rest_routes[] = {
    {"GET", "/api/v4/user", gg_rest_user_current},
    {"GET", "/api/v4/user/keys", gg_rest_keys_list_own},
    {"POST", "/api/v4/user/keys", gg_rest_key_add_own},
    {"GET", "/api/v4/user/keys/:key_id", gg_rest_key_show_own},
    {"DELETE", "/api/v4/user/keys/:key_id", gg_rest_key_delete_own},

    {"GET", "/api/v4/users", gg_rest_users_list},
    {"POST", "/api/v4/users", gg_rest_user_create},
    {"GET", "/api/v4/users/:id", gg_rest_user_show},
    {"DELETE", "/api/v4/users/:id", gg_rest_user_delete},
    {"POST", "/api/v4/users/:id/block", gg_rest_user_block},
    {"POST", "/api/v4/users/:id/unblock", gg_rest_user_unblock},
    {"GET", "/api/v4/users/:id/keys", gg_rest_keys_list_user},
    {"POST", "/api/v4/users/:id/keys", gg_rest_key_add_user},
    {"DELETE", "/api/v4/users/:id/keys/:key_id", gg_rest_key_delete_user},
    {"POST", "/api/v4/users/:id/personal_access_tokens", gg_rest_token_create},

    {"GET", "/api/v4/personal_access_tokens", gg_rest_tokens_list},
    {"GET", "/api/v4/personal_access_tokens/:id", gg_rest_token_show},
    {"DELETE", "/api/v4/personal_access_tokens/:id", gg_rest_token_revoke},

    {"GET", "/api/v4/projects", gg_rest_projects_list},
    {"POST", "/api/v4/projects", gg_rest_projects_create},
    {"*", "/api/v4/projects/*", gg_rest_projects_dispatch},

    {"GET", "/api/v4/application/settings", gg_rest_settings_get},
    {"PUT", "/api/v4/application/settings", gg_rest_settings_update},
    {"GET", "/api/v4/audit_events", gg_rest_audit_events_list},
    {"GET", "/api/v4/version", gg_rest_version},
    {NULL, NULL, NULL},
};

/* ---- guards ---- */

static bool has_scope(const char *scopes, const char *scope)
{
	size_t n = strlen(scope);

	for (const char *p = scopes; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, scope, n) == 0)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

bool gg_rest_token_may_write(const struct gg_http_request *req)
{
	const struct gg_token *t = req->token;

	return !t || t->kind == GG_TOKEN_SESSION || has_scope(t->scopes, "api");
}

/* What GitLab allows a token's scopes: api everything, read_api reads,
 * read_user reads of /user and /users. */
static bool token_scope_allows(const struct gg_http_request *req)
{
	const struct gg_token *t = req->token;
	bool read = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

	if (gg_rest_token_may_write(req))
		return true;
	if (read && has_scope(t->scopes, "read_api"))
		return true;
	return read && has_scope(t->scopes, "read_user") &&
	       (strcmp(req->path, "/api/v4/user") == 0 ||
		strncmp(req->path, "/api/v4/user/", 13) == 0 ||
		strcmp(req->path, "/api/v4/users") == 0 ||
		strncmp(req->path, "/api/v4/users/", 14) == 0);
}

bool gg_rest_require_user(struct gg_http_request *req, struct gg_http_response *res)
{
	cJSON *o;

	if (!req->user || req->user->blocked) {
		gg_http_message(res, 401, GG_MSG_UNAUTHORIZED);
		return false;
	}
	if (token_scope_allows(req))
		return true;
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "error", "insufficient_scope");
		cJSON_AddStringToObject(o, "error_description", GG_MSG_INSUFFICIENT_SCOPE);
		cJSON_AddStringToObject(o, "scope", "api");
	}
	gg_http_json(res, 403, o);
	return false;
}

bool gg_rest_require_admin(struct gg_http_request *req, struct gg_http_response *res)
{
	if (!gg_rest_require_user(req, res))
		return false;
	if (req->user->admin)
		return true;
	gg_http_message(res, 403, GG_MSG_FORBIDDEN);
	return false;
}

/* ---- parameters ---- */

bool gg_rest_parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9' || strlen(s) > 18)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return false;
	*out = (int64_t)v;
	return true;
}

bool gg_rest_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

const char *gg_rest_param(const struct gg_http_request *req, const char *name)
{
	const char *v = gg_http_param(req, name);

	return v && *v ? v : NULL;
}

/* ---- errors ---- */

void gg_rest_param_error(struct gg_http_response *res, const char *what)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddStringToObject(o, "error", what)) {
		cJSON_Delete(o);
		o = NULL;
	}
	gg_http_json(res, 400, o);
}

void gg_rest_field_error(struct gg_http_response *res, int status, const char *field,
			 const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *fields = cJSON_AddObjectToObject(o, "message");
	cJSON *list = cJSON_AddArrayToObject(fields, field);

	if (!list || !cJSON_AddItemToArray(list, cJSON_CreateString(message))) {
		cJSON_Delete(o);
		o = NULL;
	}
	gg_http_json(res, status, o);
}

void gg_rest_store_error(struct gg_http_request *req, struct gg_http_response *res, int rc)
{
	switch (rc) {
	case GG_ENOTFOUND:
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
		break;
	case GG_EEXISTS:
		gg_http_message(res, 409, gg_store_errmsg(req->store));
		break;
	case GG_EINVALID:
		gg_http_message(res, 400, gg_store_errmsg(req->store));
		break;
	case GG_EREADONLY:
		gg_http_message(res, 403, GG_MSG_READ_ONLY);
		break;
	case GG_EBUSY: /* another process holds the database longer than busy_timeout */
		gg_warn("%s %s: store: %s", req->method, req->path, gg_store_errmsg(req->store));
		gg_http_message(res, 503, GG_MSG_STORE_BUSY);
		gg_http_add_header(res, "Retry-After", "5");
		break;
	default:
		gg_error("%s %s: store: %s", req->method, req->path, gg_store_errmsg(req->store));
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		break;
	}
}

void gg_rest_error_set(struct gg_rest_error *err, int status, const char *field, bool param,
		       const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->field = field;
	err->param = param;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void gg_rest_error_respond(struct gg_http_response *res, const struct gg_rest_error *err)
{
	if (err->field)
		gg_rest_field_error(res, err->status, err->field, err->message);
	else if (err->param)
		gg_rest_param_error(res, err->message);
	else
		gg_http_message(res, err->status, err->message);
}

void gg_rest_error_sentence(const struct gg_rest_error *err, char *out, size_t len)
{
	char field[64];
	size_t n = 0;

	if (!err->field) {
		snprintf(out, len, "%s", err->message);
		return;
	}
	/* "default_branch" -> "Default branch", as Rails' full_messages say it. */
	for (const char *f = err->field; *f && n < sizeof(field) - 1; f++)
		field[n++] = *f == '_' ? ' ' : *f;
	field[n] = '\0';
	if (field[0] >= 'a' && field[0] <= 'z')
		field[0] = (char)(field[0] - 'a' + 'A');
	snprintf(out, len, "%s %s", field, err->message);
}

/* ---- pagination ---- */

static bool parse_page_number(struct gg_http_request *req, struct gg_http_response *res,
			      const char *name, size_t dflt, size_t *out)
{
	const char *v = gg_http_param(req, name);
	char *end;
	long long n;
	char what[64];

	*out = dflt;
	if (!v || !*v)
		return true;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || end == v) {
		snprintf(what, sizeof(what), "%s is invalid", name);
		gg_rest_param_error(res, what);
		return false;
	}
	if (n >= 1 && n <= 1000000)
		*out = (size_t)n;
	return true;
}

bool gg_rest_page_parse(struct gg_http_request *req, struct gg_http_response *res,
			struct gg_rest_page *pg)
{
	if (!parse_page_number(req, res, "page", 1, &pg->page) ||
	    !parse_page_number(req, res, "per_page", 20, &pg->per_page))
		return false;
	if (pg->per_page > 100)
		pg->per_page = 100;
	return true;
}

bool gg_rest_page_has(const struct gg_rest_page *pg, size_t index)
{
	size_t first = (pg->page - 1) * pg->per_page;

	return index >= first && index - first < pg->per_page;
}

void gg_rest_page_headers(struct gg_http_response *res, const struct gg_rest_page *pg, size_t total)
{
	char v[32];
	size_t pages = total ? (total + pg->per_page - 1) / pg->per_page : 1;

	snprintf(v, sizeof(v), "%zu", pg->page);
	gg_http_add_header(res, "X-Page", v);
	snprintf(v, sizeof(v), "%zu", pg->per_page);
	gg_http_add_header(res, "X-Per-Page", v);
	snprintf(v, sizeof(v), "%zu", total);
	gg_http_add_header(res, "X-Total", v);
	snprintf(v, sizeof(v), "%zu", pages);
	gg_http_add_header(res, "X-Total-Pages", v);
}

/* ---- JSON ---- */

void gg_rest_add_time(cJSON *o, const char *name, int64_t t)
{
	char iso[32];

	if (t == 0) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	gg_iso8601(iso, t);
	cJSON_AddStringToObject(o, name, iso);
}

char *gg_rest_web_url(const struct gg_http_request *req, const char *path, const char *suffix)
{
	const char *base = req->cfg && req->cfg->api_url ? req->cfg->api_url : "";
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return gg_strdup_printf("%.*s/%s%s", (int)n, base, path, suffix ? suffix : "");
}

/* Add a string that we own (NULL: out of memory, added as null). */
static void add_owned_string(cJSON *o, const char *name, char *s)
{
	if (s)
		cJSON_AddStringToObject(o, name, s);
	else
		cJSON_AddNullToObject(o, name);
	free(s);
}

cJSON *gg_rest_user_json(const struct gg_http_request *req, const struct gg_user *u)
{
	cJSON *o = cJSON_CreateObject();
	bool private_fields = req->user && (req->user->admin || req->user->id == u->id);

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)u->id);
	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddStringToObject(o, "name", u->name);
	cJSON_AddStringToObject(o, "state", u->blocked ? "blocked" : "active");
	cJSON_AddBoolToObject(o, "locked", false);
	cJSON_AddNullToObject(o, "avatar_url");
	add_owned_string(o, "web_url", gg_rest_web_url(req, u->username, NULL));
	gg_rest_add_time(o, "created_at", u->created_at);
	cJSON_AddBoolToObject(o, "is_admin", u->admin);
	if (private_fields)
		cJSON_AddStringToObject(o, "email", u->email);
	return o;
}

cJSON *gg_rest_key_json(const struct gg_key *k)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)k->id);
	cJSON_AddStringToObject(o, "title", k->title);
	text = gg_strdup_printf("%s %s", k->type, k->blob);
	add_owned_string(o, "key", text);
	gg_rest_add_time(o, "created_at", k->created_at);
	cJSON_AddNullToObject(o, "expires_at");
	gg_rest_add_time(o, "last_used_at", k->last_used_at);
	cJSON_AddStringToObject(o, "usage_type", "auth_and_signing");
	cJSON_AddStringToObject(o, "fingerprint_sha256", k->fingerprint);
	return o;
}

const char *gg_rest_visibility_name(enum gg_visibility v)
{
	switch (v) {
	case GG_VISIBILITY_PUBLIC:
		return "public";
	case GG_VISIBILITY_INTERNAL:
		return "internal";
	case GG_VISIBILITY_PRIVATE:
		break;
	}
	return "private";
}

bool gg_rest_visibility_parse(const char *s, enum gg_visibility *out)
{
	if (strcmp(s, "private") == 0)
		*out = GG_VISIBILITY_PRIVATE;
	else if (strcmp(s, "internal") == 0)
		*out = GG_VISIBILITY_INTERNAL;
	else if (strcmp(s, "public") == 0)
		*out = GG_VISIBILITY_PUBLIC;
	else
		return false;
	return true;
}

/* The host of SSH clone URLs: the listen address, unless it is a wildcard. */
static char *ssh_clone_url(const struct gg_http_request *req, const char *full_path)
{
	const struct gg_config *cfg = req->cfg;
	const char *host = cfg && cfg->ssh_listen ? cfg->ssh_listen : "localhost";
	const char *user = cfg && cfg->ssh_user ? cfg->ssh_user : "git";
	int port = cfg ? cfg->ssh_port : 22;
	bool v6;

	if (!*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		host = "localhost";
	v6 = strchr(host, ':') != NULL;
	return gg_strdup_printf("ssh://%s@%s%s%s:%d/%s.git", user, v6 ? "[" : "", host,
				v6 ? "]" : "", port, full_path);
}

cJSON *gg_rest_project_json(const struct gg_http_request *req, const struct gg_project *p)
{
	cJSON *o = cJSON_CreateObject(), *ns;
	const char *slash = strrchr(p->full_path, '/');
	size_t ns_len = slash ? (size_t)(slash - p->full_path) : 0;
	char ns_path[GG_PATH_MAX];
	const char *ns_last;
	struct gg_user owner;
	bool user_ns;

	if (!o)
		return NULL;
	snprintf(ns_path, sizeof(ns_path), "%.*s", (int)ns_len, p->full_path);
	ns_last = strrchr(ns_path, '/') ? strrchr(ns_path, '/') + 1 : ns_path;
	user_ns = !strchr(ns_path, '/') &&
		  gg_store_user_get_by_username(req->store, ns_path, &owner) == GG_OK;

	cJSON_AddNumberToObject(o, "id", (double)p->id);
	cJSON_AddNullToObject(o, "description");
	cJSON_AddStringToObject(o, "name", p->name);
	add_owned_string(o, "name_with_namespace", gg_strdup_printf("%s / %s", ns_path, p->name));
	cJSON_AddStringToObject(o, "path", p->name);
	cJSON_AddStringToObject(o, "path_with_namespace", p->full_path);
	gg_rest_add_time(o, "created_at", p->created_at);
	cJSON_AddStringToObject(o, "default_branch", p->default_branch);
	cJSON_AddStringToObject(o, "visibility", gg_rest_visibility_name(p->visibility));
	add_owned_string(o, "ssh_url_to_repo", ssh_clone_url(req, p->full_path));
	add_owned_string(o, "http_url_to_repo", gg_rest_web_url(req, p->full_path, ".git"));
	add_owned_string(o, "web_url", gg_rest_web_url(req, p->full_path, NULL));
	ns = cJSON_AddObjectToObject(o, "namespace");
	if (ns) {
		cJSON_AddStringToObject(ns, "name", ns_last);
		cJSON_AddStringToObject(ns, "path", ns_last);
		cJSON_AddStringToObject(ns, "kind", user_ns ? "user" : "group");
		cJSON_AddStringToObject(ns, "full_path", ns_path);
	}
	if (p->creator_id)
		cJSON_AddNumberToObject(o, "creator_id", (double)p->creator_id);
	else
		cJSON_AddNullToObject(o, "creator_id");
	cJSON_AddBoolToObject(o, "archived", false);
	/* gitgate extensions: per-project read-only (SPEC §7). */
	cJSON_AddBoolToObject(o, "read_only", p->read_only);
	if (p->read_only)
		cJSON_AddStringToObject(o, "read_only_message",
					p->read_only_message[0] ? p->read_only_message
								: GG_MSG_PROJECT_READ_ONLY);
	else
		cJSON_AddNullToObject(o, "read_only_message");
	return o;
}
