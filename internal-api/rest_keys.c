/*
 * rest_keys.c - SSH keys of users: /api/v4/user/keys and /api/v4/users/:id/keys.
 *
 * A key is what sshd-gate finds a user by, so one is accepted only once
 * sshkey.h has parsed it as a well-formed public key, and only once across
 * all users (its SHA256 fingerprint is unique); the errors keep GitLab's
 * wording ({"message":{"key":["is invalid"]}} and
 * {"message":{"fingerprint_sha256":["has already been taken"]}}).
 * Public keys are public, as on GitLab: any signed-in user may list another
 * user's keys; adding or removing them for someone else is for administrators.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "messages.h"
#include "rest.h"
#include "route.h"
#include "sshkey.h"

/* The user of a route's first parameter: an id, or (GitLab allows it for
 * keys) a username.  false with a 404 in res. */
static bool find_user(struct gg_http_request *req, struct gg_http_response *res,
		      struct gg_user *out)
{
	const char *id = gg_route_param(req, 0);
	int64_t uid;
	int rc;

	if (gg_rest_parse_id(id, &uid))
		rc = gg_store_user_get(req->store, uid, out);
	else
		rc = gg_store_user_get_by_username(req->store, id ? id : "", out);
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

/* Key key_param of user_id, or a 404 "Key Not Found" in res. */
static bool find_key(struct gg_http_request *req, struct gg_http_response *res, int64_t user_id,
		     const char *key_param, struct gg_key *out)
{
	int64_t kid;
	int rc;

	if (!gg_rest_parse_id(key_param, &kid)) {
		gg_http_message(res, 404, GG_MSG_KEY_NOT_FOUND);
		return false;
	}
	rc = gg_store_key_get(req->store, kid, out);
	if (rc == GG_ENOTFOUND || (rc == GG_OK && out->user_id != user_id)) {
		gg_http_message(res, 404, GG_MSG_KEY_NOT_FOUND);
		return false;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return false;
	}
	return true;
}

static void list_keys(struct gg_http_request *req, struct gg_http_response *res, int64_t user_id)
{
	struct gg_key *keys = NULL;
	size_t n = 0;
	cJSON *list;
	int rc;

	rc = gg_store_key_list_for_user(req->store, user_id, &keys, &n);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++)
		cJSON_AddItemToArray(list, gg_rest_key_json(&keys[i]));
	gg_http_json(res, 200, list);
	free(keys);
}

static void add_key(struct gg_http_request *req, struct gg_http_response *res, int64_t user_id)
{
	const char *title = gg_rest_param(req, "title");
	const char *text = gg_rest_param(req, "key");
	struct gg_sshkey *parsed = NULL;
	struct gg_key *key = NULL;
	char err[128];
	int rc;

	if (!title || !text) {
		gg_rest_param_error(res, !title && !text ? "title is missing, key is missing"
					 : !title	 ? "title is missing"
							 : "key is missing");
		return;
	}
	parsed = calloc(1, sizeof(*parsed));
	key = calloc(1, sizeof(*key));
	if (!parsed || !key) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	if (!gg_rest_copy(key->title, sizeof(key->title), title)) {
		gg_rest_field_error(res, 400, "title", "is too long (maximum is 255 characters)");
		goto done;
	}
	if (gg_sshkey_parse(parsed, NULL, text, err, sizeof(err)) < 0) {
		gg_rest_field_error(res, 400, "key", GG_MSG_FIELD_INVALID);
		goto done;
	}
	key->user_id = user_id;
	if (!gg_rest_copy(key->type, sizeof(key->type), parsed->type) ||
	    !gg_rest_copy(key->blob, sizeof(key->blob), parsed->blob)) {
		gg_rest_field_error(res, 400, "key", GG_MSG_FIELD_INVALID);
		goto done;
	}
	rc = gg_store_key_add(req->store, key);
	if (rc == GG_EEXISTS) {
		gg_rest_field_error(res, 400, "fingerprint_sha256", GG_MSG_FIELD_TAKEN);
		goto done;
	}
	if (rc == GG_EINVALID) {
		gg_rest_field_error(res, 400,
				    strstr(gg_store_errmsg(req->store), "title") ? "title" : "key",
				    GG_MSG_FIELD_INVALID);
		goto done;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	gg_http_json(res, 201, gg_rest_key_json(key));
done:
	free(parsed);
	free(key);
}

static void delete_key(struct gg_http_request *req, struct gg_http_response *res, int64_t user_id,
		       const char *key_param)
{
	struct gg_key *key = malloc(sizeof(*key));
	int rc;

	if (!key) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (!find_key(req, res, user_id, key_param, key))
		goto done;
	rc = gg_store_key_delete(req->store, key->id);
	if (rc == GG_ENOTFOUND) {
		gg_http_message(res, 404, GG_MSG_KEY_NOT_FOUND);
		goto done;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	res->status = 204;
done:
	free(key);
}

void gg_rest_keys_list_own(struct gg_http_request *req, struct gg_http_response *res)
{
	if (gg_rest_require_user(req, res))
		list_keys(req, res, req->user->id);
}

void gg_rest_key_show_own(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_key *key;

	if (!gg_rest_require_user(req, res))
		return;
	key = malloc(sizeof(*key));
	if (!key) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (find_key(req, res, req->user->id, gg_route_param(req, 0), key))
		gg_http_json(res, 200, gg_rest_key_json(key));
	free(key);
}

void gg_rest_key_add_own(struct gg_http_request *req, struct gg_http_response *res)
{
	if (gg_rest_require_user(req, res))
		add_key(req, res, req->user->id);
}

void gg_rest_key_delete_own(struct gg_http_request *req, struct gg_http_response *res)
{
	if (gg_rest_require_user(req, res))
		delete_key(req, res, req->user->id, gg_route_param(req, 0));
}

void gg_rest_keys_list_user(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user u;

	if (gg_rest_require_user(req, res) && find_user(req, res, &u))
		list_keys(req, res, u.id);
}

void gg_rest_key_add_user(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user u;

	if (gg_rest_require_admin(req, res) && find_user(req, res, &u))
		add_key(req, res, u.id);
}

void gg_rest_key_delete_user(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_user u;

	if (gg_rest_require_admin(req, res) && find_user(req, res, &u))
		delete_key(req, res, u.id, gg_route_param(req, 1));
}
