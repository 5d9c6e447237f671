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
 * Maintenance is in force when switched on or within a scheduled window (the
 * store decides, maintenance.h); an exempt source network or user passes
 * step 2, is logged and leaves an audit event.  Every answer says so when a
 * window is announced (gl_console_messages).
 *
 * pre_receive and post_receive keep the writes in flight in the store, keyed
 * by the session's X-Request-Id, so that `gatectl maintenance on --wait` can
 * drain every node.  post_receive with ref changes also moves the project's
 * push generation, which a Geo secondary polls (gatectl_geo.c).
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
#include <time.h>

#include "access.h"
#include "app.h"
#include "gg_jwt.h"
#include "log.h"
#include "maintenance.h"
#include "messages.h"
#include "metrics.h"
#include "route.h"
#include "sshkey.h"

#ifndef GG_REVISION
#define GG_REVISION "unknown"
#endif

#define KEY_TOUCH_INTERVAL  (24 * 3600) /* s between last_used_at updates, as GitLab */
#define WRITE_IN_FLIGHT_TTL 3600	/* s a write in flight is kept without post_receive */

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

/* Why the decision being made on this thread was refused, for the metrics. */
static _Thread_local enum gg_refusal refusal_reason;

static enum gg_refusal refusal_of(const char *message)
{
	static const struct {
		const char *message;
		enum gg_refusal reason;
	} reasons[] = {
	    {GG_MSG_MAINTENANCE_PUSH, GG_REFUSAL_MAINTENANCE},
	    {GG_MSG_GEO_SECONDARY_PUSH, GG_REFUSAL_SECONDARY},
	    {GG_MSG_UNKNOWN_KEY, GG_REFUSAL_IDENTITY},
	    {GG_MSG_UNKNOWN_USER, GG_REFUSAL_IDENTITY},
	    {GG_MSG_ACCOUNT_BLOCKED, GG_REFUSAL_IDENTITY},
	    {GG_MSG_PROJECT_NOT_FOUND, GG_REFUSAL_NOT_FOUND},
	    {GG_MSG_PROTECTED_BRANCH, GG_REFUSAL_PROTECTED_BRANCH},
	    {GG_MSG_UNKNOWN_ACTION, GG_REFUSAL_INVALID},
	    {GG_MSG_BAD_REQUEST, GG_REFUSAL_INVALID},
	    {GG_MSG_INTERNAL_ERROR, GG_REFUSAL_ERROR},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strncmp(message, reasons[i].message, strlen(reasons[i].message)) == 0)
			return reasons[i].reason;
	return GG_REFUSAL_ACCESS;
}

static void deny(struct gg_http_response *res, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	refusal_reason = refusal_of(message);

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

/* The standard refusal (exactly, SPEC §3), and the custom message in force in
 * gl_console_messages, which sshd-gate prints under it (SPEC §7: GitLab shows
 * the message only in the web banner). */
static void deny_maintenance(struct gg_http_response *res, const struct gg_settings *settings)
{
	const char *custom = gg_maintenance_custom_message(settings);
	cJSON *o = cJSON_CreateObject(), *messages;

	refusal_reason = GG_REFUSAL_MAINTENANCE;
	cJSON_AddFalseToObject(o, "status");
	cJSON_AddStringToObject(o, "message", GG_MSG_MAINTENANCE_PUSH);
	messages = cJSON_AddArrayToObject(o, "gl_console_messages");
	if (custom[0])
		cJSON_AddItemToArray(messages, cJSON_CreateString(custom));
	gg_http_json(res, 401, o);
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
	if (a->has_key) {
		/* As the number would print, without cJSON's "%1.15g" and sscanf
		 * round trip on every answer. */
		char key_id[24];

		snprintf(key_id, sizeof(key_id), "%lld", (long long)a->key.id);
		cJSON_AddRawToObject(o, "gl_key_id", key_id);
	} else
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
	/* Unlike GitLab, git users are told about maintenance too (SPEC §7),
	 * and about a window to come. */
	if (settings->maintenance_mode)
		cJSON_AddItemToArray(messages, cJSON_CreateString(gg_maintenance_text(settings)));
	if (settings->window_state == GG_WINDOW_ANNOUNCED) {
		char notice[GG_MESSAGE_MAX];

		gg_maintenance_notice(notice, sizeof(notice), settings);
		cJSON_AddItemToArray(messages, cJSON_CreateString(notice));
	}
	gg_http_json(res, 200, o);
}

/* An exempted push, to be logged once the read snapshot is over. */
struct exemption_use {
	bool used;
	char why[GG_NAME_MAX + 16];
	char project[GG_PATH_MAX];
	char username[GG_NAME_MAX];
};

/* The user a push names (key, username or user id), for the exemptions; ""
 * when none or unknown.  Identity itself is checked later, in order. */
static void named_user(struct gg_http_request *req, char *out, size_t cap)
{
	const char *key_id = gg_http_param(req, "key_id");
	const char *username = gg_http_param(req, "username");
	const char *user_id = gg_http_param(req, "user_id");
	struct gg_user user;
	struct gg_key key;
	int rc = GG_ENOTFOUND;

	out[0] = '\0';
	if (key_id) {
		int64_t id = parse_id(key_id, "key-");

		if (id && gg_store_key_get(req->store, id, &key) == GG_OK && key.user_id)
			rc = gg_store_user_get(req->store, key.user_id, &user);
	} else if (username) {
		rc = gg_store_user_get_by_username(req->store, username, &user);
	} else if (user_id) {
		int64_t id = parse_id(user_id, "user-");

		rc = id ? gg_store_user_get(req->store, id, &user) : GG_ENOTFOUND;
	}
	if (rc == GG_OK && !user.blocked)
		snprintf(out, cap, "%s", user.username);
}

/* Step 2 in maintenance: 0 when the push may go on (exempt), -1 with the
 * refusal in res. */
static int check_maintenance(struct gg_http_request *req, struct gg_http_response *res,
			     const struct gg_settings *settings, struct exemption_use *use)
{
	const char *check_ip = gg_http_param(req, "check_ip");
	int rc;

	named_user(req, use->username, sizeof(use->username));
	rc = gg_maintenance_exempt(req->store, check_ip, use->username, use->why, sizeof(use->why));
	if (rc < 0) {
		gg_error("cannot read the maintenance exemptions: %s", gg_store_errmsg(req->store));
		deny(res, 500, GG_MSG_INTERNAL_ERROR);
		return -1;
	}
	if (rc == 0) {
		deny_maintenance(res, settings);
		return -1;
	}
	/* A push is checked twice (start, then its real changes): count it once. */
	if (!gg_http_param(req, "changes") || strcmp(gg_http_param(req, "changes"), "_any") == 0)
		use->used = true;
	snprintf(use->project, sizeof(use->project), "%s",
		 gg_http_param(req, "project") ? gg_http_param(req, "project") : "");
	return 0;
}

static void decide_allowed(struct gg_http_request *req, struct gg_http_response *res,
			   struct exemption_use *use)
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
	if (push && settings.maintenance_mode && check_maintenance(req, res, &settings, use) < 0)
		return;
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
		refusal_reason = GG_REFUSAL_READ_ONLY_PROJECT;
		return;
	}
	changes = gg_http_param(req, "changes");
	if (push && changes && strcmp(changes, "_any") != 0 &&
	    check_changes(req, res, &actor, &project, changes) < 0)
		return;
	allowed_answer(req, res, &actor, &project, &settings);
}

/* An exempted push: a log line, a counter and an audit event (written after
 * the read snapshot, which may not write). */
static void log_exemption(struct gg_http_request *req, const struct exemption_use *use)
{
	const char *check_ip = gg_http_param(req, "check_ip");
	struct gg_audit_event e;

	gg_info("push to %s by %s from %s allowed in maintenance mode: exempt %s", use->project,
		use->username[0] ? use->username : "?", check_ip ? check_ip : "?", use->why);
	gg_metrics_exempted_write();
	memset(&e, 0, sizeof(e));
	snprintf(e.actor, sizeof(e.actor), "%s", use->username[0] ? use->username : "?");
	snprintf(e.action, sizeof(e.action), "maintenance.exempt_push");
	snprintf(e.target, sizeof(e.target), "%.*s", (int)sizeof(e.target) - 1, use->project);
	snprintf(e.new_value, sizeof(e.new_value), "project %s from %s, exempt %s", use->project,
		 check_ip ? check_ip : "?", use->why);
	if (gg_store_audit_add(req->store, &e) != GG_OK)
		gg_warn("cannot record the exempted push: %s", gg_store_errmsg(req->store));
}

/* Every read of one decision comes from one snapshot of the store. */
static void handle_allowed(struct gg_http_request *req, struct gg_http_response *res)
{
	struct exemption_use use = {0};
	struct timespec t0, t1;
	bool snapshot;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	refusal_reason = GG_REFUSAL_ACCESS;
	snapshot = gg_store_read_begin(req->store) == GG_OK;
	decide_allowed(req, res, &use);
	if (snapshot)
		gg_store_read_end(req->store);
	if (use.used && res->status == 200)
		log_exemption(req, &use);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gg_metrics_allowed((double)(t1.tv_sec - t0.tv_sec) +
			       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			   res->status == 200, refusal_reason);
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

/* The session's X-Request-Id as sent (not one gate-api made up), or NULL. */
static const char *session_request_id(struct gg_http_request *req)
{
	const char *given = gg_http_header(req, "X-Request-Id");

	return given && strcmp(given, req->correlation_id) == 0 ? req->correlation_id : NULL;
}

/* Record the push as in flight until post_receive (drain).  Never fails the
 * push: a write the store could not record only makes a drain shorter. */
static void write_begin(struct gg_http_request *req)
{
	const char *request_id = session_request_id(req);
	const char *gl_repository = gg_http_param(req, "gl_repository");
	const char *node = gg_http_param(req, "node");
	const char *who = gg_http_param(req, "identifier");
	struct gg_write_in_flight w;
	struct gg_project project;
	struct gg_user user;
	int64_t id = parse_id(gl_repository, "project-");

	if (!request_id) {
		gg_warn("pre_receive %s without X-Request-Id: not counted as in flight",
			gl_repository ? gl_repository : "?");
		return;
	}
	memset(&w, 0, sizeof(w));
	snprintf(w.request_id, sizeof(w.request_id), "%s", request_id);
	snprintf(w.node, sizeof(w.node), "%s", node && *node ? node : gg_http_client_ip(req));
	if (id && gg_store_project_get(req->store, id, &project) == GG_OK)
		snprintf(w.project, sizeof(w.project), "%s", project.full_path);
	else
		snprintf(w.project, sizeof(w.project), "%s", gl_repository ? gl_repository : "");
	id = parse_id(who, "user-");
	if (id && gg_store_user_get(req->store, id, &user) == GG_OK)
		snprintf(w.username, sizeof(w.username), "%s", user.username);
	w.started_at = gg_now();
	w.expires_at = w.started_at + WRITE_IN_FLIGHT_TTL;
	if (gg_store_write_begin(req->store, &w) != GG_OK)
		gg_warn("cannot record the write to %s in flight: %s", w.project,
			gg_store_errmsg(req->store));
	else
		gg_info("write to %s in flight (node %s)", w.project, w.node);
}

static void write_end(struct gg_http_request *req)
{
	const char *request_id = session_request_id(req);
	int rc;

	if (!request_id)
		return;
	rc = gg_store_write_end(req->store, request_id);
	if (rc == GG_OK)
		gg_info("write %s finished", request_id);
	else if (rc != GG_ENOTFOUND)
		gg_warn("cannot end the write %s in flight: %s", request_id,
			gg_store_errmsg(req->store));
}

static void handle_pre_receive(struct gg_http_request *req, struct gg_http_response *res)
{
	cJSON *o;

	if (!authenticate_shell(req, res))
		return;
	write_begin(req);
	o = cJSON_CreateObject();
	cJSON_AddTrueToObject(o, "reference_counter_increased");
	gg_http_json(res, 200, o);
}

/*
 * A push with ref changes was accepted: move the project's push generation
 * (which a Geo secondary polls to fetch only what moved) and end the write in
 * flight, in one store call.  Never fails the push.  false when nothing was
 * recorded (no changes, unknown project, store error): write_end then.
 */
static bool push_recorded(struct gg_http_request *req)
{
	const char *changes = gg_http_param(req, "changes");
	const char *gl_repository = gg_http_param(req, "gl_repository");
	int64_t id = parse_id(gl_repository, "project-"), seq = 0;
	int rc;

	if (!id || !changes || changes[strspn(changes, " \t\r\n")] == '\0')
		return false;
	rc = gg_store_project_pushed(req->store, id, session_request_id(req), &seq);
	if (rc == GG_OK) {
		gg_info("push to %s recorded (push generation %lld)", gl_repository,
			(long long)seq);
		return true;
	}
	if (rc != GG_ENOTFOUND)
		gg_warn("cannot record the push to %s: %s", gl_repository,
			gg_store_errmsg(req->store));
	return false;
}

static void handle_post_receive(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings settings;
	cJSON *o, *messages;

	if (!authenticate_shell(req, res))
		return;
	if (!push_recorded(req))
		write_end(req);
	o = cJSON_CreateObject();
	messages = cJSON_AddArrayToObject(o, "messages");
	if (gg_store_settings_get(req->store, &settings) == GG_OK && settings.maintenance_mode) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "message", gg_maintenance_text(&settings));
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
    /* Not the internal API, but as close to the hot path: metrics.c. */
    {"GET", "/metrics", gg_metrics_handle},
    {NULL, NULL, NULL},
};
