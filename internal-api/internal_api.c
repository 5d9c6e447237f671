/*
 * internal_api.c - the GitLab-compatible internal API (SPEC §3), asked by
 * sshd-gate, gate-shell, gate-authorized-keys-check and gate-hook.
 *
 * Its central question is POST /api/v4/internal/allowed: may this key or
 * user run this Git command on this project?  The checks run in GitLab's
 * order, and the first that fails answers:
 *
 *   1. the action is one we know;
 *   2. maintenance mode (git-receive-pack only), then a Geo secondary;
 *   3. identity: the key or user exists and is not blocked;
 *   4. the project exists and the caller may see it (else 404);
 *   5. the access level allows the action (access.c);
 *   6. the project is not read-only (pushes only);
 *   7. protected branches, when the hook gave real ref changes.
 *
 * gate-hook relies on steps 1 and 2 coming before identity: it asks about a
 * push nobody is named for without an identity, and takes "unknown user" as
 * "the instance-wide checks passed" (api_client.h).
 *
 * Every route needs the Gitlab-Shell-Api-Request JWT (gg_jwt.h).  The handler
 * is on the hot path of every clone and push, so it logs only at debug level
 * and asks the store nothing it does not need.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "app.h"
#include "gg_jwt.h"
#include "log.h"
#include "messages.h"
#include "route.h"
#include "sshkey.h"

#ifndef GG_REVISION
#define GG_REVISION "unknown"
#endif

#define KEY_TOUCH_INTERVAL (24 * 3600) /* s between last_used_at updates, as GitLab */

enum git_action { ACTION_UPLOAD_PACK, ACTION_RECEIVE_PACK, ACTION_UPLOAD_ARCHIVE };

/* Who is asking: a user (with the key used, if any) or a deploy key. */
struct actor {
	struct gg_user user;
	struct gg_key key;
	bool has_user;
	bool has_key;
	bool deploy_key;
};

static bool authenticate_shell(struct gg_http_request *req, struct gg_http_response *res)
{
	int rc =
	    gg_jwt_verify_shell(gg_http_header(req, GG_JWT_HEADER), req->app->secret, gg_now());

	if (rc == GG_JWT_OK)
		return true;
	gg_warn("internal API request refused: %s", gg_jwt_strerror(rc));
	gg_http_message(res, 401, GG_MSG_UNAUTHORIZED);
	return false;
}

static void deny(struct gg_http_response *res, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message", message);
	gg_http_json(res, status, o);
}

/* "N" or "<prefix>N" (gitlab-shell's "key-N", "user-N") as a positive id; 0 if neither. */
static int64_t parse_id(const char *s, const char *prefix)
{
	size_t plen = strlen(prefix);
	char *end;
	long long v;

	if (!s)
		return 0;
	if (strncmp(s, prefix, plen) == 0)
		s += plen;
	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0)
		return 0;
	return (int64_t)v;
}

static int parse_action(const char *s, enum git_action *out)
{
	if (!s)
		return -1;
	if (strcmp(s, "git-upload-pack") == 0)
		*out = ACTION_UPLOAD_PACK;
	else if (strcmp(s, "git-receive-pack") == 0)
		*out = ACTION_RECEIVE_PACK;
	else if (strcmp(s, "git-upload-archive") == 0)
		*out = ACTION_UPLOAD_ARCHIVE;
	else
		return -1;
	return 0;
}

/* The project path as the user typed it: leading '/' and trailing ".git" dropped. */
static int clean_project_path(const char *in, char *out, size_t outlen)
{
	size_t n;

	if (!in)
		return -1;
	while (*in == '/')
		in++;
	n = strlen(in);
	if (n >= 4 && strcmp(in + n - 4, ".git") == 0)
		n -= 4;
	while (n > 0 && in[n - 1] == '/')
		n--;
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

/* Users' keys report their use, at most once a day, and never while the
 * instance is read-only. */
static void touch_key(struct gg_http_request *req, const struct gg_key *key,
		      const struct gg_settings *settings)
{
	if (settings->maintenance_mode || req->app->secondary)
		return;
	if (gg_now() - key->last_used_at < KEY_TOUCH_INTERVAL)
		return;
	if (gg_store_key_touch(req->store, key->id) != GG_OK)
		gg_debug("cannot update last use of key %lld: %s", (long long)key->id,
			 gg_store_errmsg(req->store));
}

/* Fill a from key_id, username or user_id.  0, or -1 with the denial in res. */
static int find_actor(struct gg_http_request *req, struct gg_http_response *res,
		      const struct gg_settings *settings, struct actor *a)
{
	const char *key_id = gg_http_param(req, "key_id");
	const char *username = gg_http_param(req, "username");
	const char *user_id = gg_http_param(req, "user_id");
	int rc;

	if (key_id) {
		int64_t id = parse_id(key_id, "key-");

		if (id == 0 || gg_store_key_get(req->store, id, &a->key) != GG_OK) {
			deny(res, 401, GG_MSG_UNKNOWN_KEY);
			return -1;
		}
		a->has_key = true;
		touch_key(req, &a->key, settings);
		if (a->key.user_id == 0) {
			a->deploy_key = true;
			return 0;
		}
		rc = gg_store_user_get(req->store, a->key.user_id, &a->user);
	} else if (username) {
		rc = gg_store_user_get_by_username(req->store, username, &a->user);
	} else if (user_id) {
		int64_t id = parse_id(user_id, "user-");

		rc = id ? gg_store_user_get(req->store, id, &a->user) : GG_ENOTFOUND;
	} else {
		rc = GG_ENOTFOUND;
	}
	if (rc != GG_OK) {
		deny(res, 401, GG_MSG_UNKNOWN_USER);
		return -1;
	}
	if (a->user.blocked) {
		deny(res, 401, GG_MSG_ACCOUNT_BLOCKED);
		return -1;
	}
	a->has_user = true;
	return 0;
}

/* Steps 4 and 5: may the actor see the project and run the action?  0, or -1
 * with the denial in res. */
static int check_access(struct gg_http_request *req, struct gg_http_response *res,
			const struct actor *a, const struct gg_project *project, bool push)
{
	struct gg_store *st = req->store;

	if (a->deploy_key) {
		bool own = a->key.project_id == project->id;

		if (!own && project->visibility != GG_VISIBILITY_PUBLIC) {
			deny(res, 404, GG_MSG_PROJECT_NOT_FOUND);
			return -1;
		}
		if (push && !(own && a->key.can_push)) {
			deny(res, 401, GG_MSG_DEPLOY_KEY_PUSH);
			return -1;
		}
		return 0;
	}
	if (!gg_access_can_read(st, &a->user, project)) {
		/* A guest may know the project exists but not download its code. */
		if (gg_access_level(st, &a->user, project) < GG_ACCESS_GUEST)
			deny(res, 404, GG_MSG_PROJECT_NOT_FOUND);
		else
			deny(res, 401, push ? GG_MSG_NO_PUSH_ACCESS : GG_MSG_NO_DOWNLOAD_ACCESS);
		return -1;
	}
	if (push && !gg_access_can_push(st, &a->user, project)) {
		deny(res, 401, GG_MSG_NO_PUSH_ACCESS);
		return -1;
	}
	return 0;
}

static bool is_object_id(const char *s, size_t n)
{
	if (n != 40 && n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Step 7: every "<old> <new> <ref>" line of changes against protected branches.
 * 0, or -1 with the denial in res. */
static int check_changes(struct gg_http_request *req, struct gg_http_response *res,
			 const struct actor *a, const struct gg_project *project,
			 const char *changes)
{
	const char *line = changes;

	while (*line) {
		size_t len = strcspn(line, "\r\n");
		const char *p = line, *end = line + len, *old, *new, *ref;
		size_t old_len, new_len, ref_len;
		char refname[GG_PATH_MAX];
		bool allowed;

		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end)
			goto next;
		old = p;
		old_len = strcspn(old, " \t\r\n");
		new = old + old_len;
		while (*new == ' ' || *new == '\t')
			new ++;
		new_len = strcspn(new, " \t\r\n");
		ref = new + new_len;
		while (*ref == ' ' || *ref == '\t')
			ref++;
		ref_len = strcspn(ref, " \t\r\n");
		if (ref + ref_len > end || !is_object_id(old, old_len) ||
		    !is_object_id(new, new_len) || ref_len == 0 || ref_len >= sizeof(refname)) {
			deny(res, 400, GG_MSG_BAD_REQUEST);
			return -1;
		}
		memcpy(refname, ref, ref_len);
		refname[ref_len] = '\0';
		if (a->deploy_key) {
			/* No protected-branch rule names deploy keys, so none may push there. */
			bool is_protected;
			int level;

			if (gg_access_protected_branch_rules(req->store, project, refname, &level,
							     &is_protected) != GG_OK) {
				deny(res, 500, GG_MSG_INTERNAL_ERROR);
				return -1;
			}
			allowed = !is_protected;
		} else {
			allowed = gg_access_can_push_ref(req->store, &a->user, project, refname);
		}
		if (!allowed) {
			deny(res, 401, GG_MSG_PROTECTED_BRANCH);
			return -1;
		}
	next:
		line = end;
		while (*line == '\r' || *line == '\n')
			line++;
	}
	return 0;
}

static const char *maintenance_text(const struct gg_settings *settings)
{
	return settings->maintenance_mode_message[0] ? settings->maintenance_mode_message
						     : GG_MSG_MAINTENANCE_BANNER;
}

static void allowed_answer(struct gg_http_request *req, struct gg_http_response *res,
			   const struct actor *a, const struct gg_project *project,
			   const struct gg_settings *settings)
{
	cJSON *o = cJSON_CreateObject(), *gitaly, *repo, *messages;
	const char *git_protocol = gg_http_param(req, "git_protocol");
	char gl_repository[32], gl_id[32];

	snprintf(gl_repository, sizeof(gl_repository), "project-%lld", (long long)project->id);
	if (a->deploy_key)
		snprintf(gl_id, sizeof(gl_id), "key-%lld", (long long)a->key.id);
	else
		snprintf(gl_id, sizeof(gl_id), "user-%lld", (long long)a->user.id);

	cJSON_AddTrueToObject(o, "status");
	cJSON_AddStringToObject(o, "gl_repository", gl_repository);
	cJSON_AddStringToObject(o, "gl_project_path", project->full_path);
	cJSON_AddStringToObject(o, "gl_id", gl_id);
	if (a->has_user)
		cJSON_AddStringToObject(o, "gl_username", a->user.username);
	else
		cJSON_AddNullToObject(o, "gl_username");
	cJSON_AddStringToObject(o, "gl_key_type", a->deploy_key ? "deploy_key" : "key");
	if (a->has_key)
		cJSON_AddNumberToObject(o, "gl_key_id", (double)a->key.id);
	else
		cJSON_AddNullToObject(o, "gl_key_id");
	if (git_protocol)
		cJSON_AddStringToObject(o, "git_protocol", git_protocol);
	else
		cJSON_AddNullToObject(o, "git_protocol");
	gitaly = cJSON_AddObjectToObject(o, "gitaly");
	repo = cJSON_AddObjectToObject(gitaly, "repository");
	cJSON_AddStringToObject(repo, "storage_name", "default");
	cJSON_AddStringToObject(repo, "relative_path", project->repo_path);
	cJSON_AddStringToObject(repo, "gl_repository", gl_repository);
	cJSON_AddStringToObject(repo, "gl_project_path", project->full_path);
	messages = cJSON_AddArrayToObject(o, "gl_console_messages");
	/* Unlike GitLab, git users are told about maintenance too (SPEC §7). */
	if (settings->maintenance_mode)
		cJSON_AddItemToArray(messages, cJSON_CreateString(maintenance_text(settings)));
	gg_http_json(res, 200, o);
}

static void decide_allowed(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings settings;
	struct gg_project project;
	struct actor actor; /* the records are filled by the store; only the flags need zeroing */
	enum git_action action;
	char path[GG_PATH_MAX];
	const char *changes;
	bool push;
	int rc;

	actor.has_user = actor.has_key = actor.deploy_key = false;
	if (!authenticate_shell(req, res))
		return;
	if (parse_action(gg_http_param(req, "action"), &action) < 0) {
		deny(res, 401, GG_MSG_UNKNOWN_ACTION);
		return;
	}
	push = action == ACTION_RECEIVE_PACK;
	if (gg_store_settings_get(req->store, &settings) != GG_OK) {
		gg_error("cannot read application settings: %s", gg_store_errmsg(req->store));
		deny(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (push && settings.maintenance_mode) {
		deny(res, 401, GG_MSG_MAINTENANCE_PUSH);
		return;
	}
	if (push && req->app->secondary) {
		deny(res, 401, GG_MSG_GEO_SECONDARY_PUSH);
		return;
	}
	if (find_actor(req, res, &settings, &actor) < 0)
		return;
	if (clean_project_path(gg_http_param(req, "project"), path, sizeof(path)) < 0) {
		deny(res, 404, GG_MSG_PROJECT_NOT_FOUND);
		return;
	}
	rc = gg_store_project_get_by_path(req->store, path, &project);
	if (rc != GG_OK) {
		if (rc != GG_ENOTFOUND)
			gg_error("cannot look up project %s: %s", path,
				 gg_store_errmsg(req->store));
		deny(res, rc == GG_ENOTFOUND ? 404 : 500,
		     rc == GG_ENOTFOUND ? GG_MSG_PROJECT_NOT_FOUND : GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (check_access(req, res, &actor, &project, push) < 0)
		return;
	if (push && project.read_only) {
		deny(res, 401,
		     project.read_only_message[0] ? project.read_only_message
						  : GG_MSG_PROJECT_READ_ONLY);
		return;
	}
	changes = gg_http_param(req, "changes");
	if (push && changes && strcmp(changes, "_any") != 0 &&
	    check_changes(req, res, &actor, &project, changes) < 0)
		return;
	allowed_answer(req, res, &actor, &project, &settings);
}

/* Every read of one decision comes from one snapshot of the store. */
static void handle_allowed(struct gg_http_request *req, struct gg_http_response *res)
{
	bool snapshot = gg_store_read_begin(req->store) == GG_OK;

	decide_allowed(req, res);
	if (snapshot)
		gg_store_read_end(req->store);
}

static void handle_authorized_keys(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *param = gg_http_param(req, "key");
	char blob[GG_KEY_BLOB_MAX], fingerprint[GG_SSHKEY_FP_MAX], created[32];
	struct gg_key key;
	char *text;
	size_t n;
	cJSON *o;

	if (!authenticate_shell(req, res))
		return;
	if (!param || !*param || (n = strlen(param)) >= sizeof(blob)) {
		gg_http_message(res, 400, GG_MSG_BAD_REQUEST);
		return;
	}
	/* A '+' sent unencoded in the query string arrives as a space. */
	for (size_t i = 0; i <= n; i++)
		blob[i] = param[i] == ' ' ? '+' : param[i];
	if (gg_sshkey_fingerprint(blob, fingerprint) < 0 ||
	    gg_store_key_get_by_fingerprint(req->store, fingerprint, &key) != GG_OK) {
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
		return;
	}
	gg_iso8601(created, key.created_at);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)key.id);
	cJSON_AddStringToObject(o, "title", key.title);
	text = gg_strdup_printf("%s %s", key.type, key.blob);
	cJSON_AddStringToObject(o, "key", text ? text : "");
	free(text);
	cJSON_AddStringToObject(o, "created_at", created);
	gg_http_json(res, 200, o);
}

static void handle_discover(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *key_id = gg_http_param(req, "key_id");
	const char *username = gg_http_param(req, "username");
	struct gg_user user;
	struct gg_key key;
	int rc = GG_ENOTFOUND;
	cJSON *o;

	if (!authenticate_shell(req, res))
		return;
	if (key_id) {
		int64_t id = parse_id(key_id, "key-");

		if (id && gg_store_key_get(req->store, id, &key) == GG_OK && key.user_id)
			rc = gg_store_user_get(req->store, key.user_id, &user);
	} else if (username) {
		rc = gg_store_user_get_by_username(req->store, username, &user);
	}
	if (rc != GG_OK) {
		/* GitLab answers an unknown key or user with a JSON null. */
		gg_http_json(res, 200, cJSON_CreateNull());
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)user.id);
	cJSON_AddStringToObject(o, "name", user.name);
	cJSON_AddStringToObject(o, "username", user.username);
	gg_http_json(res, 200, o);
}

static void handle_check(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings settings;
	bool db_ok;
	cJSON *o;

	if (!authenticate_shell(req, res))
		return;
	db_ok = gg_store_settings_get(req->store, &settings) == GG_OK;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "api_version", "v4");
	cJSON_AddStringToObject(o, "version", GG_VERSION);
	cJSON_AddStringToObject(o, "revision", GG_REVISION);
	cJSON_AddStringToObject(o, "database", db_ok ? "ok" : "unavailable");
	gg_http_json(res, db_ok ? 200 : 503, o);
}

static void handle_pre_receive(struct gg_http_request *req, struct gg_http_response *res)
{
	cJSON *o;

	if (!authenticate_shell(req, res))
		return;
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "reference_counter_increased");
	gg_http_json(res, 200, o);
}

static void handle_post_receive(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings settings;
	cJSON *o, *messages;

	if (!authenticate_shell(req, res))
		return;
	o = cJSON_CreateObject();
	messages = cJSON_AddArrayToObject(o, "messages");
	if (gg_store_settings_get(req->store, &settings) == GG_OK && settings.maintenance_mode) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "message", maintenance_text(&settings));
		cJSON_AddStringToObject(m, "type", "alert");
		cJSON_AddItemToArray(messages, m);
	}
	cJSON_AddTrueToObject(o, "reference_counter_decreased");
	gg_http_json(res, 200, o);
}

const struct gg_route gg_internal_routes[] = {
    {"POST", "/api/v4/internal/allowed", handle_allowed},
    {"GET", "/api/v4/internal/authorized_keys", handle_authorized_keys},
    {"GET", "/api/v4/internal/discover", handle_discover},
    {"GET", "/api/v4/internal/check", handle_check},
    {"POST", "/api/v4/internal/pre_receive", handle_pre_receive},
    {"POST", "/api/v4/internal/post_receive", handle_post_receive},
    {NULL, NULL, NULL},
};
