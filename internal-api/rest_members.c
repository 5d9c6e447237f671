/*
 * rest_members.c - /api/v4/projects/:id/members (GitLab's Members API).
 *
 * Membership is what the access policy (access.h) reads to decide who may
 * clone and push, so changing it is for the project's maintainers and up
 * (and administrators).  As on GitLab, only an owner may make someone an
 * owner or change or remove an owner, and anyone may leave a project.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "messages.h"
#include "rest.h"

static bool valid_level(int level)
{
	return level == GG_ACCESS_GUEST || level == GG_ACCESS_REPORTER ||
	       level == GG_ACCESS_DEVELOPER || level == GG_ACCESS_MAINTAINER ||
	       level == GG_ACCESS_OWNER;
}

static cJSON *member_json(const struct gg_http_request *req, const struct gg_user *u, int level)
{
	cJSON *o = cJSON_CreateObject();
	char *web_url;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)u->id);
	cJSON_AddStringToObject(o, "username", u->username);
	cJSON_AddStringToObject(o, "name", u->name);
	cJSON_AddStringToObject(o, "state", u->blocked ? "blocked" : "active");
	cJSON_AddNullToObject(o, "avatar_url");
	web_url = gg_rest_web_url(req, u->username, NULL);
	if (web_url)
		cJSON_AddStringToObject(o, "web_url", web_url);
	free(web_url);
	cJSON_AddNumberToObject(o, "access_level", level);
	cJSON_AddNullToObject(o, "expires_at");
	return o;
}

/* A user by id or username (GitLab accepts both for user_id). */
static int find_user(struct gg_http_request *req, const char *id, struct gg_user *out)
{
	int64_t uid;

	if (gg_rest_parse_id(id, &uid))
		return gg_store_user_get(req->store, uid, out);
	return gg_store_user_get_by_username(req->store, id, out);
}

/* The member of the route's ':user_id', or a 404 in res. */
static bool find_member(struct gg_http_request *req, struct gg_http_response *res,
			const struct gg_project *p, const char *id, struct gg_user *u, int *level)
{
	int rc = find_user(req, id, u);

	if (rc == GG_OK)
		rc = gg_store_member_get_level(req->store, p->id, u->id, level);
	if (rc == GG_OK && *level == GG_ACCESS_NONE)
		rc = GG_ENOTFOUND;
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_MEMBER_NOT_FOUND);
		return false;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return false;
	}
	return true;
}

/* access_level from the request: -1 with a 400 in res when absent or not one
 * of GitLab's levels. */
static int access_level_param(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *v = gg_rest_param(req, "access_level");
	int64_t level;

	if (!v) {
		gg_rest_param_error(res, "access_level is missing");
		return -1;
	}
	if (!gg_rest_parse_id(v, &level) || level > GG_ACCESS_OWNER || !valid_level((int)level)) {
		gg_rest_param_error(res, "access_level does not have a valid value");
		return -1;
	}
	return (int)level;
}

/* Maintainers and up may manage members; owners alone may touch owners. */
static bool may_manage(struct gg_http_request *req, struct gg_http_response *res,
		       const struct gg_project *p, int old_level, int new_level)
{
	int mine = gg_access_level(req->store, req->user, p);

	if (mine < GG_ACCESS_MAINTAINER ||
	    ((old_level == GG_ACCESS_OWNER || new_level == GG_ACCESS_OWNER) &&
	     mine < GG_ACCESS_OWNER)) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return false;
	}
	return true;
}

void gg_rest_members_list(struct gg_http_request *req, struct gg_http_response *res,
			  struct gg_project *p, const char *const *params)
{
	struct gg_member *members = NULL;
	struct gg_rest_page pg;
	size_t n = 0;
	cJSON *list;
	int rc;

	if (!gg_rest_page_parse(req, res, &pg))
		return;
	rc = gg_store_member_list(req->store, p->id, &members, &n);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++) {
		struct gg_user u;

		if (!gg_rest_page_has(&pg, i) ||
		    gg_store_user_get(req->store, members[i].user_id, &u) != GG_OK)
			continue;
		cJSON_AddItemToArray(list, member_json(req, &u, members[i].access_level));
	}
	gg_rest_page_headers(res, &pg, n);
	gg_http_json(res, 200, list);
	free(members);
}

void gg_rest_member_show(struct gg_http_request *req, struct gg_http_response *res,
			 struct gg_project *p, const char *const *params)
{
	struct gg_user u;
	int level;

	if (find_member(req, res, p, params[0], &u, &level))
		gg_http_json(res, 200, member_json(req, &u, level));
}

void gg_rest_member_add(struct gg_http_request *req, struct gg_http_response *res,
			struct gg_project *p, const char *const *params)
{
	const char *user_id = gg_rest_param(req, "user_id");
	struct gg_user u;
	int level, existing = GG_ACCESS_NONE, rc;

	if (!gg_rest_require_user(req, res))
		return;
	if (!gg_access_can_admin(req->store, req->user, p)) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	if (!user_id) {
		gg_rest_param_error(res, gg_rest_param(req, "access_level")
					     ? "user_id is missing"
					     : "user_id is missing, access_level is missing");
		return;
	}
	level = access_level_param(req, res);
	if (level < 0 || !may_manage(req, res, p, GG_ACCESS_NONE, level))
		return;
	rc = find_user(req, user_id, &u);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_USER_NOT_FOUND);
		return;
	}
	if (rc == GG_OK)
		rc = gg_store_member_get_level(req->store, p->id, u.id, &existing);
	if (rc == GG_OK && existing != GG_ACCESS_NONE) {
		gg_http_message(res, 409, GG_MSG_MEMBER_EXISTS);
		return;
	}
	if (rc == GG_OK)
		rc = gg_store_member_set(req->store, p->id, u.id, level);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 201, member_json(req, &u, level));
}

void gg_rest_member_update(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *p, const char *const *params)
{
	struct gg_user u;
	int old_level, level, rc;

	if (!gg_rest_require_user(req, res))
		return;
	if (!gg_access_can_admin(req->store, req->user, p)) {
		gg_http_message(res, 403, GG_MSG_FORBIDDEN);
		return;
	}
	if (!find_member(req, res, p, params[0], &u, &old_level))
		return;
	level = access_level_param(req, res);
	if (level < 0 || !may_manage(req, res, p, old_level, level))
		return;
	rc = gg_store_member_set(req->store, p->id, u.id, level);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 200, member_json(req, &u, level));
}

void gg_rest_member_remove(struct gg_http_request *req, struct gg_http_response *res,
			   struct gg_project *p, const char *const *params)
{
	struct gg_user u;
	int level, rc;

	if (!gg_rest_require_user(req, res))
		return;
	if (!find_member(req, res, p, params[0], &u, &level))
		return;
	/* Leaving a project needs no rights; removing someone else does. */
	if (u.id != req->user->id && !may_manage(req, res, p, level, GG_ACCESS_NONE))
		return;
	rc = gg_store_member_remove(req->store, p->id, u.id);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_MEMBER_NOT_FOUND);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	res->status = 204;
}
