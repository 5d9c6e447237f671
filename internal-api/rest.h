/*
 * rest.h - what the modules of the REST API (rest_*.c) share.
 *
 * gitgate's REST API follows GitLab's v4 API: the same routes, status codes,
 * JSON field names and error shapes, so that GitLab's clients and scripts
 * work against it.  rest.c holds the route table and the pieces every
 * resource needs: the guards that answer 401/403, the error bodies in
 * GitLab's three shapes ({"message": "..."}, {"error": "... is missing"} from
 * parameter validation, and {"message": {"field": ["..."]}} from model
 * validation), pagination, and the JSON builders for users, keys and
 * projects, so that a user looks the same whichever route returns it.
 *
 * Handlers live in one file per resource; each is named after its route.
 */
#ifndef GG_REST_H
#define GG_REST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

#ifndef GG_REVISION
#define GG_REVISION "unknown"
#endif

/* ---- guards: true when the request may go on, else res holds the refusal ---- */

/* A signed-in caller, else 401 {"message":"401 Unauthorized"}; and a token
 * whose scopes allow the request, else 403 {"error":"insufficient_scope"}. */
bool gg_rest_require_user(struct gg_http_request *req, struct gg_http_response *res);
/* May the request's token write (scope api, or a web session)? */
bool gg_rest_token_may_write(const struct gg_http_request *req);
/* An administrator: 401 when anonymous, 403 {"message":"403 Forbidden"} otherwise. */
bool gg_rest_require_admin(struct gg_http_request *req, struct gg_http_response *res);

/* ---- parameters ---- */

/* A positive decimal id ("12"), nothing else. */
bool gg_rest_parse_id(const char *s, int64_t *out);
/* Copy src into dst[size]; false (dst untouched) when it does not fit. */
bool gg_rest_copy(char *dst, size_t size, const char *src);
/* The parameter, or NULL when absent or empty. */
const char *gg_rest_param(const struct gg_http_request *req, const char *name);

/* ---- error bodies ---- */

/* 400 {"error": "<what>"}, as Grape's parameter validation says it
 * ("title is missing", "visibility does not have a valid value"). */
void gg_rest_param_error(struct gg_http_response *res, const char *what);
/* status {"message": {"<field>": ["<message>"]}}, as a model validation says it. */
void gg_rest_field_error(struct gg_http_response *res, int status, const char *field,
			 const char *message);
/* A store error as an HTTP answer: not found 404, taken 409, invalid 400,
 * read-only 403 (GG_MSG_READ_ONLY), anything else 500 (and logged). */
void gg_rest_store_error(struct gg_http_request *req, struct gg_http_response *res, int rc);

/*
 * A failure of an operation shared by REST and GraphQL (e.g. creating a
 * project), in a form both can render: REST as one of the bodies above,
 * GraphQL as the text of an entry of a payload's "errors".
 */
struct gg_rest_error {
	int status;	   /* the REST status */
	const char *field; /* a model field ("path") for a field error, else NULL */
	bool param;	   /* a parameter error: {"error": message} */
	char message[256]; /* "has already been taken", or a whole sentence */
};
void gg_rest_error_set(struct gg_rest_error *err, int status, const char *field, bool param,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void gg_rest_error_respond(struct gg_http_response *res, const struct gg_rest_error *err);
/* "Path has already been taken" (field capitalised, then the message). */
void gg_rest_error_sentence(const struct gg_rest_error *err, char *out, size_t len);

/* ---- pagination (GitLab: page from 1, per_page 20 by default, at most 100) ---- */

struct gg_rest_page {
	size_t page;
	size_t per_page;
};
/* false (and 400 in res) for a page or per_page that is not a number. */
bool gg_rest_page_parse(struct gg_http_request *req, struct gg_http_response *res,
			struct gg_rest_page *pg);
/* Is the index-th item (0-based, after filtering) on the page? */
bool gg_rest_page_has(const struct gg_rest_page *pg, size_t index);
/* X-Page, X-Per-Page, X-Total, X-Total-Pages. */
void gg_rest_page_headers(struct gg_http_response *res, const struct gg_rest_page *pg,
			  size_t total);

/* ---- JSON ---- */

/* t as ISO 8601 UTC, or JSON null when t is 0.  The item is added to o. */
void gg_rest_add_time(cJSON *o, const char *name, int64_t t);
/* A user; email only for administrators and the user themself. */
cJSON *gg_rest_user_json(const struct gg_http_request *req, const struct gg_user *user);
cJSON *gg_rest_key_json(const struct gg_key *key);
cJSON *gg_rest_project_json(const struct gg_http_request *req, const struct gg_project *project);
const char *gg_rest_visibility_name(enum gg_visibility v);
/* "private" | "internal" | "public"; false for anything else. */
bool gg_rest_visibility_parse(const char *s, enum gg_visibility *out);
/* web_url style links: <api_url>/<path> (caller frees). */
char *gg_rest_web_url(const struct gg_http_request *req, const char *path, const char *suffix);

/* ---- projects, shared with GraphQL ---- */

struct gg_rest_project_params {
	const char *name; /* either name or path is needed */
	const char *path;
	const char *namespace_path; /* "group[/subgroup]"; the creator's username when NULL */
	const char *visibility;	    /* NULL: private */
	const char *default_branch; /* NULL: main */
};

/*
 * Create a project for req->user: the store row, the creator as owner, and
 * the bare repository (the row is removed again if the repository cannot be
 * made).  0 with *out filled, or -1 with err.
 */
int gg_rest_project_create(struct gg_http_request *req, const struct gg_rest_project_params *in,
			   struct gg_project *out, struct gg_rest_error *err);

/* A project by numeric id or full path, when the caller may read it. */
int gg_rest_project_lookup(struct gg_http_request *req, const char *id_or_path,
			   struct gg_project *out);

/* ---- handlers ---- */

/* rest_users.c */
void gg_rest_user_current(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_users_list(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_user_show(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_user_create(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_user_block(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_user_unblock(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_user_delete(struct gg_http_request *req, struct gg_http_response *res);

/* rest_keys.c */
void gg_rest_keys_list_own(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_key_show_own(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_key_add_own(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_key_delete_own(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_keys_list_user(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_key_add_user(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_key_delete_user(struct gg_http_request *req, struct gg_http_response *res);

/* rest_projects.c: /api/v4/projects and everything under it */
void gg_rest_projects_list(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_projects_create(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_projects_dispatch(struct gg_http_request *req, struct gg_http_response *res);

/* Handlers of routes under /api/v4/projects/:id: the project is found and
 * readable; params are the decoded segments matched by ':name' parts. */
typedef void (*gg_rest_project_handler)(struct gg_http_request *req, struct gg_http_response *res,
					struct gg_project *project, const char *const *params);

/* rest_members.c */
void gg_rest_members_list(struct gg_http_request *req, struct gg_http_response *res,
			  struct gg_project *project, const char *const *params);
void gg_rest_member_show(struct gg_http_request *req, struct gg_http_response *res,
			 struct gg_project *project, const char *const *params);
void gg_rest_member_add(struct gg_http_request *req, struct gg_http_response *res,
			struct gg_project *project, const char *const *params);
void gg_rest_member_update(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *project, const char *const *params);
void gg_rest_member_remove(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *project, const char *const *params);

/* rest_protected_branches.c */
void gg_rest_protected_branches_list(struct gg_http_request *req, struct gg_http_response *res,
				     struct gg_project *project, const char *const *params);
void gg_rest_protected_branch_show(struct gg_http_request *req, struct gg_http_response *res,
				   struct gg_project *project, const char *const *params);
void gg_rest_protected_branch_add(struct gg_http_request *req, struct gg_http_response *res,
				  struct gg_project *project, const char *const *params);
void gg_rest_protected_branch_remove(struct gg_http_request *req, struct gg_http_response *res,
				     struct gg_project *project, const char *const *params);

/* rest_tokens.c */
void gg_rest_token_create(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_tokens_list(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_token_show(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_token_revoke(struct gg_http_request *req, struct gg_http_response *res);

/* rest_settings.c: settings, audit events, version */
void gg_rest_settings_get(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_settings_update(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_audit_events_list(struct gg_http_request *req, struct gg_http_response *res);
void gg_rest_version(struct gg_http_request *req, struct gg_http_response *res);
/* The settings object of GET/PUT /application/settings. */
cJSON *gg_rest_settings_json(const struct gg_settings *s);

#endif
