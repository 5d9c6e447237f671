/*
 * rest_users.c - /api/v4/user and /api/v4/users (GitLab's Users API).
 *
 * Everyone signed in may list and look up users, as on GitLab, but e-mail
 * addresses are shown only to administrators and to the user themself.
 * Creating, blocking, unblocking and deleting users is for administrators.
 * Creating a user is a write that maintenance mode forbids whichever way it
 * arrives (SPEC §4): the read-only middleware refuses the POST already, this
 * handler checks again, and the store refuses the insert too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "messages.h"
#include "readonly.h"
#include "rest.h"
#include "route.h"

#define PASSWORD_MIN 8

/* The user named by the route's first parameter, or a 404 in res. */
static bool find_user(struct gg_http_request *req, struct gg_http_response *res,
		      struct gg_user *out)
{
	const char *id = gg_route_param(req, 0);
	int64_t uid;
	int rc;

	if (!gg_rest_parse_id(id, &uid)) {
		gg_http_message(res, 404, GG_MSG_USER_NOT_FOUND);
		return false;
	}
	rc = gg_store_user_get(req->store, uid, out);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_USER_NOT_FOUND);
		return false;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return false;
	}
	return true;
}

void gg_rest_user_current(struct gg_http_request *req, struct gg_http_response *res)
{
	if (!gg_rest_require_user(req, res))
		return;
	gg_http_json(res, 200, gg_rest_user_json(req, req->user));
}

static bool contains_nocase(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = haystack; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return n == 0;
}

/* Does u pass the filters of GET /users? */
static bool user_selected(const struct gg_http_request *req, const struct gg_user *u)
{
	const char *username = gg_rest_param(req, "username");
	const char *search = gg_rest_param(req, "search");

	if (username && strcasecmp(username, u->username) != 0)
		return false;
	if (search && !contains_nocase(u->username, search) && !contains_nocase(u->name, search) &&
	    !(req->user->admin && contains_nocase(u->email, search)))
		return false;
	if (gg_http_param_bool(req, "active") == 1 && u->blocked)
		return false;
	if (gg_http_param_bool(req, "blocked") == 1 && !u->blocked)
		return false;
	return true;
}

/* GET /users: newest first unless sort=asc, as GitLab orders them. */
void gg_rest_users_list(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user *users = NULL;
	struct gg_rest_page pg;
	size_t n = 0, total = 0;
	const char *sort = gg_rest_param(req, "sort");
	bool asc = sort && strcasecmp(sort, "asc") == 0;
	cJSON *list;
	int rc;

	if (!gg_rest_require_user(req, res) || !gg_rest_page_parse(req, res, &pg))
		return;
	rc = gg_store_user_list(req->store, &users, &n);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++) {
		const struct gg_user *u = &users[asc ? i : n - 1 - i];

		if (!user_selected(req, u))
			continue;
		if (gg_rest_page_has(&pg, total))
			cJSON_AddItemToArray(list, gg_rest_user_json(req, u));
		total++;
	}
	gg_rest_page_headers(res, &pg, total);
	gg_http_json(res, 200, list); /* a NULL list (out of memory) answers 500 */
done:
	free(users);
}

void gg_rest_user_show(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user u;

	if (!gg_rest_require_user(req, res) || !find_user(req, res, &u))
		return;
	gg_http_json(res, 200, gg_rest_user_json(req, &u));
}

/* Grape's message for required parameters that are absent. */
static bool check_required(const struct gg_http_request *req, struct gg_http_response *res,
			   const char *const *names)
{
	char what[256] = "";
	size_t n = 0;

	for (size_t i = 0; names[i]; i++) {
		if (gg_rest_param(req, names[i]))
			continue;
		n += (size_t)snprintf(what + n, sizeof(what) - n, "%s%s is missing", n ? ", " : "",
				      names[i]);
		if (n >= sizeof(what))
			break;
	}
	if (!what[0])
		return true;
	gg_rest_param_error(res, what);
	return false;
}

/* Which field the store's "invalid ..." message is about. */
static const char *invalid_user_field(const char *errmsg)
{
	if (strncmp(errmsg, "invalid username", 16) == 0)
		return "username";
	if (strncmp(errmsg, "invalid email", 13) == 0)
		return "email";
	if (strncmp(errmsg, "invalid name", 12) == 0)
		return "name";
	return NULL;
}

void gg_rest_user_create(struct gg_http_request *req, struct gg_http_response *res)
{
	static const char *const required[] = {"email", "name", "username", NULL};
	struct gg_user u = {0};
	const char *password, *field;
	bool random_password;
	int admin, rc;

	/* Defence in depth: user creation is refused in maintenance mode. */
	if (gg_readonly_active(req)) {
		gg_http_message(res, 403, GG_MSG_READ_ONLY);
		return;
	}
	if (!gg_rest_require_admin(req, res) || !check_required(req, res, required))
		return;
	password = gg_rest_param(req, "password");
	random_password = gg_http_param_bool(req, "force_random_password") == 1 ||
			  gg_http_param_bool(req, "reset_password") == 1;
	if (!password && !random_password) {
		gg_rest_param_error(res, "password, reset_password, force_random_password are "
					 "missing, exactly one parameter must be provided");
		return;
	}
	if (password && random_password) {
		gg_rest_param_error(res, "password, reset_password, force_random_password are "
					 "mutually exclusive");
		return;
	}
	admin = gg_http_param_bool(req, "admin");
	if (admin < 0 && gg_http_param(req, "admin")) {
		gg_rest_param_error(res, "admin is invalid");
		return;
	}
	if (!gg_rest_copy(u.username, sizeof(u.username), gg_rest_param(req, "username"))) {
		gg_rest_field_error(res, 400, "username", "is too long");
		return;
	}
	if (!gg_rest_copy(u.email, sizeof(u.email), gg_rest_param(req, "email"))) {
		gg_rest_field_error(res, 400, "email", "is too long");
		return;
	}
	if (!gg_rest_copy(u.name, sizeof(u.name), gg_rest_param(req, "name"))) {
		gg_rest_field_error(res, 400, "name", "is too long");
		return;
	}
	if (password && strlen(password) < PASSWORD_MIN) {
		gg_rest_field_error(res, 400, "password", GG_MSG_PASSWORD_TOO_SHORT);
		return;
	}
	u.admin = admin == 1;
	/* Without a password the account cannot sign in on the web until one is set. */
	rc = gg_store_user_create(req->store, &u, password);
	if (rc == GG_EINVALID && (field = invalid_user_field(gg_store_errmsg(req->store)))) {
		gg_rest_field_error(res, 400, field, GG_MSG_FIELD_INVALID);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 201, gg_rest_user_json(req, &u));
}

static void set_blocked(struct gg_http_request *req, struct gg_http_response *res, bool blocked)
{
	struct gg_user u;
	int rc;

	if (!gg_rest_require_admin(req, res) || !find_user(req, res, &u))
		return;
	if (blocked && u.id == req->user->id) {
		/* Blocking oneself would lock the last administrator out. */
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	rc = gg_store_user_set_blocked(req->store, u.id, blocked);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 201, cJSON_CreateTrue());
}

void gg_rest_user_block(struct gg_http_request *req, struct gg_http_response *res)
{
	set_blocked(req, res, true);
}

void gg_rest_user_unblock(struct gg_http_request *req, struct gg_http_response *res)
{
	set_blocked(req, res, false);
}

void gg_rest_user_delete(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user u;
	int rc;

	if (!gg_rest_require_admin(req, res) || !find_user(req, res, &u))
		return;
	rc = gg_store_user_delete(req->store, u.id);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_USER_NOT_FOUND);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	res->status = 204;
}
