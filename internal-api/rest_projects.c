/*
 * rest_projects.c - /api/v4/projects and every route under a project.
 *
 * GitLab names a project in a URL by its id or by its URL-encoded full path
 * ("/projects/group%2Fsub%2Fname/members").  libmicrohttpd decodes "%2F"
 * before the router sees the path, so the router sends everything under
 * /api/v4/projects/ here and this module reads the raw URL: it splits it at
 * the slashes that were slashes on the wire, decodes each segment on its
 * own, and tries the project routes below.  A path given with plain slashes
 * ("/projects/group/name") is accepted as well: the id is then taken to be
 * the shortest run of leading segments that names an existing project and
 * leaves a route behind it (a full path always has two segments or more, so
 * "/projects/5/members" is never mistaken for a project "5/members").
 *
 * A project the caller may not read is answered exactly like one that does
 * not exist (404 Project Not Found), so the API does not tell which private
 * projects exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "log.h"
#include "messages.h"
#include "repo.h"
#include "repo_hooks.h"
#include "rest.h"
#include "route.h"

#define PROJECTS_PREFIX "/api/v4/projects/"
#define MAX_SEGMENTS	16
#define PATH_RULES                                                                                 \
	"can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in "       \
	"'.git' or end in '.atom'"

/* ---- lookup ---- */

int gg_rest_project_lookup(struct gg_http_request *req, const char *id_or_path,
			   struct gg_project *out)
{
	int64_t id;
	int rc;

	if (gg_rest_parse_id(id_or_path, &id))
		rc = gg_store_project_get(req->store, id, out);
	else
		rc = gg_store_project_get_by_path(req->store, id_or_path, out);
	if (rc == GG_OK && !gg_access_can_read(req->store, req->user, out))
		rc = GG_ENOTFOUND;
	return rc;
}

/* ---- creation ---- */

/* One segment of a project path or namespace, as GitLab allows it. */
static bool valid_segment(const char *s, size_t n)
{
	if (n == 0 || n >= GG_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	if ((n >= 4 && strncasecmp(s + n - 4, ".git", 4) == 0) ||
	    (n >= 5 && strncasecmp(s + n - 5, ".atom", 5) == 0))
		return false;
	return true;
}

static bool valid_namespace(const char *ns)
{
	const char *seg = ns;

	for (;;) {
		size_t n = strcspn(seg, "/");

		if (!valid_segment(seg, n))
			return false;
		if (!seg[n])
			return true;
		seg += n + 1;
	}
}

/* A path from a display name, as GitLab derives one: lower case, runs of
 * other characters turned into one '-', no '-' or '.' at either end. */
static void path_from_name(const char *name, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = name; *p && n + 1 < len; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			c = '-';
		if (c == '-' && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = c;
	}
	while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	while (out[0] == '.' || out[0] == '-')
		memmove(out, out + 1, strlen(out));
}

/* May the caller create projects in namespace ns?  Administrators anywhere;
 * others in their own namespace and in any group namespace, but never in
 * another user's personal namespace. */
static bool may_create_in(struct gg_http_request *req, const char *ns)
{
	struct gg_user owner;

	if (req->user->admin || strcasecmp(ns, req->user->username) == 0)
		return true;
	if (strchr(ns, '/'))
		return true;
	return gg_store_user_get_by_username(req->store, ns, &owner) == GG_ENOTFOUND;
}

int gg_rest_project_create(struct gg_http_request *req, const struct gg_rest_project_params *in,
			   struct gg_project *out, struct gg_rest_error *err)
{
	char path[GG_NAME_MAX];
	const char *ns = in->namespace_path ? in->namespace_path : req->user->username;
	char repo_err[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!in->name && !in->path) {
		gg_rest_error_set(
		    err, 400, NULL, true,
		    "path, name are missing, at least one parameter must be provided");
		return -1;
	}
	if (in->path) {
		if (!gg_rest_copy(path, sizeof(path), in->path)) {
			gg_rest_error_set(err, 400, "path", false, "is too long");
			return -1;
		}
	} else {
		path_from_name(in->name, path, sizeof(path));
	}
	if (!valid_segment(path, strlen(path))) {
		gg_rest_error_set(err, 400, "path", false, "%s", PATH_RULES);
		return -1;
	}
	if (ns[0] == '/')
		ns++;
	if (!valid_namespace(ns)) {
		gg_rest_error_set(err, 400, "namespace", false, "is not valid");
		return -1;
	}
	if (!may_create_in(req, ns)) {
		gg_rest_error_set(err, 403, NULL, false, "%s", GG_MSG_FORBIDDEN);
		return -1;
	}
	out->visibility = GG_VISIBILITY_PRIVATE;
	if (in->visibility && !gg_rest_visibility_parse(in->visibility, &out->visibility)) {
		gg_rest_error_set(err, 400, NULL, true, "visibility does not have a valid value");
		return -1;
	}
	if (!gg_rest_copy(out->default_branch, sizeof(out->default_branch),
			  in->default_branch ? in->default_branch : "main")) {
		gg_rest_error_set(err, 400, "default_branch", false, "%s", GG_MSG_FIELD_INVALID);
		return -1;
	}
	if (strlen(ns) + 1 + strlen(path) + sizeof(".git") > sizeof(out->full_path) ||
	    snprintf(out->full_path, sizeof(out->full_path), "%s/%s", ns, path) >=
		(int)sizeof(out->full_path)) {
		gg_rest_error_set(err, 400, "path", false, "is too long");
		return -1;
	}
	out->creator_id = req->user->id;

	rc = gg_store_project_create(req->store, out);
	if (rc == GG_EEXISTS) {
		gg_rest_error_set(err, 400, "path", false, "%s", GG_MSG_FIELD_TAKEN);
		return -1;
	}
	if (rc == GG_EINVALID) {
		bool branch = strstr(gg_store_errmsg(req->store), "branch") != NULL;

		gg_rest_error_set(err, 400, branch ? "default_branch" : "path", false, "%s",
				  GG_MSG_FIELD_INVALID);
		return -1;
	}
	if (rc == GG_EREADONLY) {
		gg_rest_error_set(err, 403, NULL, false, "%s", GG_MSG_READ_ONLY);
		return -1;
	}
	if (rc != GG_OK)
		goto failed;
	rc = gg_store_member_set(req->store, out->id, req->user->id, GG_ACCESS_OWNER);
	if (rc != GG_OK)
		goto rollback;
	if (gg_repo_create(req->cfg->storage_root, out->repo_path, out->default_branch, repo_err,
			   sizeof(repo_err)) < 0) {
		gg_error("cannot create the repository of %s: %s", out->full_path, repo_err);
		goto rollback;
	}
	if (req->cfg->hook_install_on_create &&
	    gg_repo_hooks_install_configured(req->cfg, out->repo_path, repo_err, sizeof(repo_err)) <
		0) {
		gg_error("cannot install the hooks of %s: %s", out->full_path, repo_err);
		if (gg_repo_delete(req->cfg->storage_root, out->repo_path, repo_err,
				   sizeof(repo_err)) < 0)
			gg_error("cannot remove the repository of %s: %s", out->full_path,
				 repo_err);
		goto rollback;
	}
	gg_info("project %s (id %lld) created by %s", out->full_path, (long long)out->id,
		req->user->username);
	return 0;

rollback:
	if (gg_store_project_delete(req->store, out->id) != GG_OK)
		gg_error("cannot roll back project %s: %s", out->full_path,
			 gg_store_errmsg(req->store));
failed:
	gg_error("cannot create project %s: %s", out->full_path, gg_store_errmsg(req->store));
	gg_rest_error_set(err, 500, NULL, false, "%s", GG_MSG_REPOSITORY_CREATE_FAILED);
	return -1;
}

void gg_rest_projects_create(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_rest_project_params in = {0};
	struct gg_rest_error err = {0};
	struct gg_project *p = NULL;
	char ns[GG_PATH_MAX];
	const char *pwn;

	if (!gg_rest_require_user(req, res))
		return;
	in.name = gg_rest_param(req, "name");
	in.path = gg_rest_param(req, "path");
	in.namespace_path = gg_rest_param(req, "namespace_path");
	if (!in.namespace_path)
		in.namespace_path = gg_rest_param(req, "namespace");
	in.visibility = gg_rest_param(req, "visibility");
	in.default_branch = gg_rest_param(req, "default_branch");
	pwn = gg_rest_param(req, "path_with_namespace");
	if (pwn) {
		/* "group/name": the namespace and the path in one. */
		const char *slash = strrchr(pwn, '/');

		if (!slash || slash == pwn || (size_t)(slash - pwn) >= sizeof(ns)) {
			gg_rest_field_error(res, 400, "path_with_namespace", GG_MSG_FIELD_INVALID);
			return;
		}
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - pwn), pwn);
		if (!in.namespace_path)
			in.namespace_path = ns;
		if (!in.path)
			in.path = slash + 1;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (gg_rest_project_create(req, &in, p, &err) < 0)
		gg_rest_error_respond(res, &err);
	else
		gg_http_json(res, 201, gg_rest_project_json(req, p));
	free(p);
}

/* ---- listing ---- */

struct listed {
	const struct gg_project *p;
};

static int by_id(const void *a, const void *b)
{
	const struct gg_project *x = ((const struct listed *)a)->p;
	const struct gg_project *y = ((const struct listed *)b)->p;

	return (x->id > y->id) - (x->id < y->id);
}

static int by_path(const void *a, const void *b)
{
	return strcasecmp(((const struct listed *)a)->p->full_path,
			  ((const struct listed *)b)->p->full_path);
}

static int by_name(const void *a, const void *b)
{
	int c =
	    strcasecmp(((const struct listed *)a)->p->name, ((const struct listed *)b)->p->name);

	return c ? c : by_id(a, b);
}

/* Does p pass the filters of GET /projects (the caller can read it)? */
static bool project_selected(struct gg_http_request *req, const struct gg_project *p)
{
	const char *search = gg_rest_param(req, "search");
	const char *visibility = gg_rest_param(req, "visibility");
	enum gg_visibility v;
	int level = GG_ACCESS_NONE;
	bool membership = gg_http_param_bool(req, "membership") == 1;
	bool owned = gg_http_param_bool(req, "owned") == 1;

	if (!gg_access_can_read(req->store, req->user, p))
		return false;
	if (search && !strcasestr(p->full_path, search))
		return false;
	if (visibility && (!gg_rest_visibility_parse(visibility, &v) || v != p->visibility))
		return false;
	if (membership || owned) {
		if (!req->user ||
		    gg_store_member_get_level(req->store, p->id, req->user->id, &level) != GG_OK)
			return false;
		if (level < (owned ? GG_ACCESS_OWNER : GG_ACCESS_GUEST))
			return false;
	}
	return true;
}

/* GET /projects: what the caller may read (anonymous callers: public ones),
 * newest first unless order_by / sort say otherwise. */
void gg_rest_projects_list(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_project *projects = NULL;
	struct listed *sel = NULL;
	struct gg_rest_page pg;
	size_t n = 0, total = 0;
	const char *order_by = gg_rest_param(req, "order_by");
	const char *sort = gg_rest_param(req, "sort");
	int (*cmp)(const void *, const void *) = by_id;
	bool asc;
	cJSON *list;
	int rc;

	if (!gg_rest_page_parse(req, res, &pg))
		return;
	if (order_by && (strcmp(order_by, "path") == 0))
		cmp = by_path;
	else if (order_by && strcmp(order_by, "name") == 0)
		cmp = by_name;
	/* GitLab sorts by created_at, descending, unless told otherwise; names ascend. */
	asc = sort ? strcasecmp(sort, "asc") == 0 : cmp != by_id;
	rc = gg_store_project_list(req->store, &projects, &n);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	sel = calloc(n ? n : 1, sizeof(*sel));
	if (!sel) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (project_selected(req, &projects[i]))
			sel[total++].p = &projects[i];
	qsort(sel, total, sizeof(*sel), cmp);
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < total; i++)
		if (gg_rest_page_has(&pg, i))
			cJSON_AddItemToArray(
			    list, gg_rest_project_json(req, sel[asc ? i : total - 1 - i].p));
	gg_rest_page_headers(res, &pg, total);
	gg_http_json(res, 200, list);
done:
	free(sel);
	free(projects);
}

/* ---- one project ---- */

static void project_show(struct gg_http_request *req, struct gg_http_response *res,
			 struct gg_project *p, const char *const *params)
{
	gg_http_json(res, 200, gg_rest_project_json(req, p));
}

/* PUT /projects/:id: visibility, default_branch and (gitgate) read_only and
 * read_only_message; maintainers and up. */
static void project_update(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *p, const char *const *params)
{
	const char *visibility = gg_rest_param(req, "visibility");
	const char *branch = gg_rest_param(req, "default_branch");
	const char *message = gg_http_param(req, "read_only_message");
	int read_only = gg_http_param_bool(req, "read_only");
	int rc;

	if (!gg_rest_require_user(req, res))
		return;
	if (!gg_access_can_admin(req->store, req->user, p)) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	if (visibility && !gg_rest_visibility_parse(visibility, &p->visibility)) {
		gg_rest_param_error(res, "visibility does not have a valid value");
		return;
	}
	if (read_only < 0 && gg_http_param(req, "read_only")) {
		gg_rest_param_error(res, "read_only is invalid");
		return;
	}
	if (read_only >= 0)
		p->read_only = read_only == 1;
	if ((branch && !gg_rest_copy(p->default_branch, sizeof(p->default_branch), branch)) ||
	    (message &&
	     !gg_rest_copy(p->read_only_message, sizeof(p->read_only_message), message))) {
		gg_rest_field_error(res, 400, branch ? "default_branch" : "read_only_message",
				    "is too long");
		return;
	}
	rc = gg_store_project_update(req->store, p);
	if (rc == GG_EINVALID) {
		gg_rest_field_error(res, 400,
				    strstr(gg_store_errmsg(req->store), "branch")
					? "default_branch"
					: "read_only_message",
				    GG_MSG_FIELD_INVALID);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 200, gg_rest_project_json(req, p));
}

/* DELETE /projects/:id: owners and administrators.  The row goes first, so a
 * repository that cannot be removed is left over on disk (and logged), never
 * a project without its repository. */
static void project_delete(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *p, const char *const *params)
{
	char err[256];
	int rc;

	if (!gg_rest_require_user(req, res))
		return;
	if (gg_access_level(req->store, req->user, p) < GG_ACCESS_OWNER) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	rc = gg_store_project_delete(req->store, p->id);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_PROJECT_NOT_FOUND_API);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	if (gg_repo_delete(req->cfg->storage_root, p->repo_path, err, sizeof(err)) < 0)
		gg_error("project %s deleted, but not its repository: %s", p->full_path, err);
	gg_info("project %s (id %lld) deleted by %s", p->full_path, (long long)p->id,
		req->user->username);
	gg_http_message(res, 202, GG_MSG_ACCEPTED);
}

/* ---- routes under /projects/:id ---- */

static const struct project_route {
	const char *method;
	const char *pattern; /* relative to /projects/:id; "" for the project itself */
	gg_rest_project_handler handler;
} project_routes[] = {
    {"GET", "", project_show},
    {"PUT", "", project_update},
    {"DELETE", "", project_delete},
    {"GET", "members", gg_rest_members_list},
    {"GET", "members/all", gg_rest_members_list},
    {"POST", "members", gg_rest_member_add},
    {"GET", "members/:user_id", gg_rest_member_show},
    {"PUT", "members/:user_id", gg_rest_member_update},
    {"DELETE", "members/:user_id", gg_rest_member_remove},
    {"GET", "protected_branches", gg_rest_protected_branches_list},
    {"POST", "protected_branches", gg_rest_protected_branch_add},
    {"GET", "protected_branches/:name", gg_rest_protected_branch_show},
    {"DELETE", "protected_branches/:name", gg_rest_protected_branch_remove},
};

struct split_path {
	char *seg[MAX_SEGMENTS]; /* decoded */
	size_t n;
};

static void split_path_clear(struct split_path *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		free(sp->seg[i]);
	sp->n = 0;
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

/* Percent-decode n bytes of s; NULL for an encoded NUL (or no memory).
 * A '%' not followed by two hex digits stands for itself. */
static char *decode_segment(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 &&
		    (lo = hex_digit(s[i + 2])) >= 0) {
			if (hi == 0 && lo == 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* Split the part of the raw URL after /api/v4/projects/ into decoded
 * segments.  false when it has too many or an empty one. */
static bool split_rest(const char *rest, struct split_path *sp)
{
	size_t len = strcspn(rest, "?#");

	/* One trailing slash is tolerated, as by the router. */
	if (len > 0 && rest[len - 1] == '/')
		len--;
	sp->n = 0;
	while (len > 0) {
		size_t n = 0;

		while (n < len && rest[n] != '/')
			n++;
		if (n == 0 || sp->n == MAX_SEGMENTS)
			goto bad;
		sp->seg[sp->n] = decode_segment(rest, n);
		if (!sp->seg[sp->n])
			goto bad;
		sp->n++;
		if (n == len)
			break;
		rest += n + 1;
		len -= n + 1;
		if (len == 0)
			goto bad;
	}
	return sp->n > 0;
bad:
	split_path_clear(sp);
	return false;
}

/* Do segs[0..n) fit the relative pattern?  params gets the ':name' parts. */
static bool route_fits(const char *pattern, char *const *segs, size_t n, const char **params)
{
	size_t i = 0, np = 0;
	const char *p = pattern;

	while (*p) {
		size_t plen = strcspn(p, "/");

		if (i == n)
			return false;
		if (p[0] == ':')
			params[np++] = segs[i];
		else if (strlen(segs[i]) != plen || strncmp(p, segs[i], plen) != 0)
			return false;
		i++;
		p += plen;
		if (*p == '/')
			p++;
	}
	return i == n;
}

static bool method_is(const struct gg_http_request *req, const char *method)
{
	return strcmp(req->method, method) == 0 ||
	       (strcmp(req->method, "HEAD") == 0 && strcmp(method, "GET") == 0);
}

/* The route for the segments after the id, or NULL. */
static const struct project_route *find_route(const struct gg_http_request *req, char *const *segs,
					      size_t n, const char **params, bool *path_known)
{
	for (size_t r = 0; r < sizeof(project_routes) / sizeof(project_routes[0]); r++) {
		const char *tmp[4] = {NULL};

		if (!route_fits(project_routes[r].pattern, segs, n, tmp))
			continue;
		*path_known = true;
		if (!method_is(req, project_routes[r].method))
			continue;
		memcpy(params, tmp, sizeof(tmp));
		return &project_routes[r];
	}
	return NULL;
}

static char *join_segments(char *const *segs, size_t n)
{
	struct gg_buf b = GG_BUF_INIT;

	for (size_t i = 0; i < n; i++)
		if ((i && gg_buf_puts(&b, "/") < 0) || gg_buf_puts(&b, segs[i]) < 0) {
			gg_buf_clear(&b);
			return NULL;
		}
	return gg_buf_detach(&b);
}

void gg_rest_projects_dispatch(struct gg_http_request *req, struct gg_http_response *res)
{
	struct split_path sp = {0};
	struct gg_project *p = NULL;
	const char *source = req->raw_url ? req->raw_url : req->path;
	bool path_known = false, project_missing = false;

	if (strncmp(source, PROJECTS_PREFIX, strlen(PROJECTS_PREFIX)) != 0)
		source = req->path; /* an odd spelling of the prefix: use the decoded path */
	if (!split_rest(source + strlen(PROJECTS_PREFIX), &sp)) {
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
		return;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	for (size_t k = 1; k <= sp.n; k++) {
		const char *params[4] = {NULL};
		const struct project_route *route;
		char *id;
		int rc;

		route = find_route(req, sp.seg + k, sp.n - k, params, &path_known);
		if (!route)
			continue;
		id = join_segments(sp.seg, k);
		if (!id) {
			gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
			goto done;
		}
		rc = gg_rest_project_lookup(req, id, p);
		free(id);
		if (rc == GG_ENOTFOUND) {
			project_missing = true;
			continue;
		}
		if (rc != GG_OK) {
			gg_rest_store_error(req, res, rc);
			goto done;
		}
		route->handler(req, res, p, params);
		goto done;
	}
	if (project_missing)
		gg_http_message(res, 404, GG_MSG_PROJECT_NOT_FOUND_API);
	else if (path_known)
		gg_http_message(res, 405, GG_MSG_METHOD_NOT_ALLOWED);
	else
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
done:
	free(p);
	split_path_clear(&sp);
}
