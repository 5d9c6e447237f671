/*
 * rest_protected_branches.c - /api/v4/projects/:id/protected_branches.
 *
 * A protected branch says who may push to the branches its name (or '*'
 * pattern) matches: maintainers (40, the default), developers and up (30) or
 * no one (0).  The access check of git pushes reads these rules (access.h);
 * this module lets a project's maintainers set them, with GitLab's routes and
 * JSON (push_access_levels as a list of one rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "messages.h"
#include "rest.h"

static const char *level_description(int level)
{
	switch (level) {
	case GG_ACCESS_DEVELOPER:
		return "Developers + Maintainers";
	case GG_ACCESS_MAINTAINER:
		return "Maintainers";
	default:
		return "No one";
	}
}

static cJSON *access_levels_json(int level)
{
	cJSON *list = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();

	if (!list || !o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(list);
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddNumberToObject(o, "access_level", level);
	cJSON_AddStringToObject(o, "access_level_description", level_description(level));
	cJSON_AddNullToObject(o, "user_id");
	cJSON_AddNullToObject(o, "group_id");
	cJSON_AddNullToObject(o, "deploy_key_id");
	return list;
}

static cJSON *branch_json(const struct gg_protected_branch *pb)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)pb->id);
	cJSON_AddStringToObject(o, "name", pb->name);
	cJSON_AddItemToObject(o, "push_access_levels", access_levels_json(pb->push_access_level));
	/* gitgate has no merge requests; GitLab's default rule, for clients that read it. */
	cJSON_AddItemToObject(o, "merge_access_levels", access_levels_json(GG_ACCESS_MAINTAINER));
	cJSON_AddBoolToObject(o, "allow_force_push", false);
	cJSON_AddBoolToObject(o, "code_owner_approval_required", false);
	return o;
}

/* The rule named name, GG_ENOTFOUND when there is none. */
static int find_branch(struct gg_http_request *req, const struct gg_project *p, const char *name,
		       struct gg_protected_branch *out)
{
	struct gg_protected_branch *rules = NULL;
	size_t n = 0;
	int rc = gg_store_protected_branch_list(req->store, p->id, &rules, &n);

	if (rc != GG_OK)
		return rc;
	rc = GG_ENOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0) {
			*out = rules[i];
			rc = GG_OK;
			break;
		}
	free(rules);
	return rc;
}

static bool require_maintainer(struct gg_http_request *req, struct gg_http_response *res,
			       const struct gg_project *p)
{
	if (!gg_rest_require_user(req, res))
		return false;
	if (gg_access_can_admin(req->store, req->user, p))
		return true;
	gg_http_message(res, 403, GG_MSG_FORBIDDEN);
	return false;
}

void gg_rest_protected_branches_list(struct gg_http_request *req, struct gg_http_response *res,
				     struct gg_project *p, const char *const *params)
{
	struct gg_protected_branch *rules = NULL;
	size_t n = 0;
	cJSON *list;
	int rc = gg_store_protected_branch_list(req->store, p->id, &rules, &n);

	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++)
		cJSON_AddItemToArray(list, branch_json(&rules[i]));
	gg_http_json(res, 200, list);
	free(rules);
}

void gg_rest_protected_branch_show(struct gg_http_request *req, struct gg_http_response *res,
				   struct gg_project *p, const char *const *params)
{
	struct gg_protected_branch pb;
	int rc = find_branch(req, p, params[0], &pb);

	if (rc == GG_ENOTFOUND)
		gg_http_message(res, 404, GG_MSG_BRANCH_NOT_FOUND);
	else if (rc != GG_OK)
		gg_rest_store_error(req, res, rc);
	else
		gg_http_json(res, 200, branch_json(&pb));
}

void gg_rest_protected_branch_add(struct gg_http_request *req, struct gg_http_response *res,
				  struct gg_project *p, const char *const *params)
{
	const char *name = gg_rest_param(req, "name");
	const char *level = gg_rest_param(req, "push_access_level");
	struct gg_protected_branch pb = {0};
	char message[GG_NAME_MAX + 64];
	int64_t v = 0;
	int rc;

	if (!require_maintainer(req, res, p))
		return;
	if (!name) {
		gg_rest_param_error(res, "name is missing");
		return;
	}
	pb.push_access_level = GG_ACCESS_MAINTAINER;
	if (level) {
		if (strcmp(level, "0") != 0 &&
		    (!gg_rest_parse_id(level, &v) ||
		     (v != GG_ACCESS_DEVELOPER && v != GG_ACCESS_MAINTAINER))) {
			gg_rest_param_error(res, "push_access_level does not have a valid value");
			return;
		}
		pb.push_access_level = (int)v;
	}
	if (!gg_rest_copy(pb.name, sizeof(pb.name), name)) {
		gg_rest_field_error(res, 400, "name", "is too long");
		return;
	}
	pb.project_id = p->id;
	rc = gg_store_protected_branch_add(req->store, &pb);
	if (rc == GG_EEXISTS) {
		snprintf(message, sizeof(message), GG_MSG_PROTECTED_BRANCH_EXISTS_FMT, pb.name);
		gg_http_message(res, 409, message);
		return;
	}
	if (rc == GG_EINVALID) {
		gg_rest_field_error(res, 400, "name", GG_MSG_FIELD_INVALID);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_http_json(res, 201, branch_json(&pb));
}

void gg_rest_protected_branch_remove(struct gg_http_request *req, struct gg_http_response *res,
				     struct gg_project *p, const char *const *params)
{
	int rc;

	if (!require_maintainer(req, res, p))
		return;
	rc = gg_store_protected_branch_delete(req->store, p->id, params[0]);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_BRANCH_NOT_FOUND);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	res->status = 204;
}
