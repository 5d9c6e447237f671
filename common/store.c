/*
 * store.c - picks the store backend from the database URL and forwards every
 * gg_store_* call to it (see store.h).
 *
 * Backends differ only in struct gg_store_ops; nothing above this file knows
 * which one is in use.
 */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "store_valid.h"
#include "util.h"

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int gg_store_open(struct gg_store **out, const char *database_url, char *errbuf, size_t errlen)
{
	const char *path;

	*out = NULL;
	if (errlen)
		errbuf[0] = '\0';
	if (!database_url || !*database_url) {
		snprintf(errbuf, errlen, "no database configured");
		return GG_EINVALID;
	}
	if (starts_with(database_url, "postgresql://") || starts_with(database_url, "postgres://"))
		return gg_store_pg_open(out, database_url, errbuf, errlen);
	if (starts_with(database_url, "sqlite://"))
		path = database_url + strlen("sqlite://");
	else if (starts_with(database_url, "sqlite:"))
		path = database_url + strlen("sqlite:");
	else if (strstr(database_url, "://") == NULL)
		path = database_url;
	else {
		snprintf(errbuf, errlen, "unsupported database URL: %s", database_url);
		return GG_EINVALID;
	}
	if (!*path) {
		snprintf(errbuf, errlen, "no database path in %s", database_url);
		return GG_EINVALID;
	}
	return gg_store_sqlite_open(out, path, errbuf, errlen);
}

void gg_store_close(struct gg_store *st)
{
	if (st)
		st->ops->close(st);
}

void gg_store_url_redacted(char *dst, size_t cap, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *at = strchr(url, '@');
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;

	if (scheme && at && colon && colon < at)
		snprintf(dst, cap, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(dst, cap, "%s", url);
}

const char *gg_store_errmsg(struct gg_store *st)
{
	return st ? st->errmsg : "no store";
}

int gg_store_read_begin(struct gg_store *st)
{
	return st->ops->read_begin(st);
}

void gg_store_read_end(struct gg_store *st)
{
	st->ops->read_end(st);
}

int gg_store_schema_version(struct gg_store *st, int *out)
{
	return st->ops->schema_version(st, out);
}

int gg_store_user_create(struct gg_store *st, struct gg_user *user, const char *password)
{
	return st->ops->user_create(st, user, password);
}

int gg_store_user_get(struct gg_store *st, int64_t id, struct gg_user *out)
{
	return st->ops->user_get(st, id, out);
}

int gg_store_user_get_by_username(struct gg_store *st, const char *username, struct gg_user *out)
{
	return st->ops->user_get_by_username(st, username, out);
}

int gg_store_user_list(struct gg_store *st, struct gg_user **out, size_t *count)
{
	return st->ops->user_list(st, out, count);
}

int gg_store_user_set_blocked(struct gg_store *st, int64_t id, bool blocked)
{
	return st->ops->user_set_blocked(st, id, blocked);
}

int gg_store_user_set_admin(struct gg_store *st, int64_t id, bool admin)
{
	return st->ops->user_set_admin(st, id, admin);
}

int gg_store_user_set_password(struct gg_store *st, int64_t id, const char *password)
{
	return st->ops->user_set_password(st, id, password);
}

int gg_store_user_delete(struct gg_store *st, int64_t id)
{
	return st->ops->user_delete(st, id);
}

int gg_store_user_authenticate(struct gg_store *st, const char *login, const char *password,
			       struct gg_user *out)
{
	return st->ops->user_authenticate(st, login, password, out);
}

int gg_store_key_add(struct gg_store *st, struct gg_key *key)
{
	return st->ops->key_add(st, key);
}

int gg_store_key_get(struct gg_store *st, int64_t id, struct gg_key *out)
{
	return st->ops->key_get(st, id, out);
}

int gg_store_key_get_by_fingerprint(struct gg_store *st, const char *fingerprint,
				    struct gg_key *out)
{
	return st->ops->key_get_by_fingerprint(st, fingerprint, out);
}

int gg_store_key_list_for_user(struct gg_store *st, int64_t user_id, struct gg_key **out,
			       size_t *count)
{
	return st->ops->key_list_for_user(st, user_id, out, count);
}

int gg_store_key_list_for_project(struct gg_store *st, int64_t project_id, struct gg_key **out,
				  size_t *count)
{
	return st->ops->key_list_for_project(st, project_id, out, count);
}

int gg_store_key_delete(struct gg_store *st, int64_t id)
{
	return st->ops->key_delete(st, id);
}

int gg_store_key_touch(struct gg_store *st, int64_t id)
{
	return st->ops->key_touch(st, id);
}

int gg_store_project_create(struct gg_store *st, struct gg_project *project)
{
	return st->ops->project_create(st, project);
}

int gg_store_project_get(struct gg_store *st, int64_t id, struct gg_project *out)
{
	return st->ops->project_get(st, id, out);
}

int gg_store_project_get_by_path(struct gg_store *st, const char *full_path, struct gg_project *out)
{
	return st->ops->project_get_by_path(st, full_path, out);
}

int gg_store_project_list(struct gg_store *st, struct gg_project **out, size_t *count)
{
	return st->ops->project_list(st, out, count);
}

int gg_store_project_update(struct gg_store *st, const struct gg_project *project)
{
	return st->ops->project_update(st, project);
}

int gg_store_project_delete(struct gg_store *st, int64_t id)
{
	return st->ops->project_delete(st, id);
}

int gg_store_member_set(struct gg_store *st, int64_t project_id, int64_t user_id, int access_level)
{
	return st->ops->member_set(st, project_id, user_id, access_level);
}

int gg_store_member_get_level(struct gg_store *st, int64_t project_id, int64_t user_id, int *level)
{
	return st->ops->member_get_level(st, project_id, user_id, level);
}

int gg_store_member_list(struct gg_store *st, int64_t project_id, struct gg_member **out,
			 size_t *count)
{
	return st->ops->member_list(st, project_id, out, count);
}

int gg_store_member_remove(struct gg_store *st, int64_t project_id, int64_t user_id)
{
	return st->ops->member_remove(st, project_id, user_id);
}

int gg_store_protected_branch_add(struct gg_store *st, struct gg_protected_branch *pb)
{
	return st->ops->protected_branch_add(st, pb);
}

int gg_store_protected_branch_list(struct gg_store *st, int64_t project_id,
				   struct gg_protected_branch **out, size_t *count)
{
	return st->ops->protected_branch_list(st, project_id, out, count);
}

int gg_store_protected_branch_delete(struct gg_store *st, int64_t project_id, const char *name)
{
	return st->ops->protected_branch_delete(st, project_id, name);
}

int gg_store_token_create(struct gg_store *st, struct gg_token *token, char **secret_out)
{
	return st->ops->token_create(st, token, secret_out);
}

int gg_store_token_find(struct gg_store *st, const char *secret, struct gg_token *out)
{
	return st->ops->token_find(st, secret, out);
}

int gg_store_token_list_for_user(struct gg_store *st, int64_t user_id, struct gg_token **out,
				 size_t *count)
{
	return st->ops->token_list_for_user(st, user_id, out, count);
}

int gg_store_token_revoke(struct gg_store *st, int64_t id)
{
	return st->ops->token_revoke(st, id);
}

int gg_store_settings_get(struct gg_store *st, struct gg_settings *out)
{
	return st->ops->settings_get(st, out);
}

int gg_store_settings_update(struct gg_store *st, const struct gg_settings *settings,
			     int64_t actor_id, const char *actor)
{
	return st->ops->settings_update(st, settings, actor_id, actor);
}

int gg_store_audit_add(struct gg_store *st, struct gg_audit_event *event)
{
	return st->ops->audit_add(st, event);
}

int gg_store_audit_list(struct gg_store *st, size_t limit, struct gg_audit_event **out,
			size_t *count)
{
	return st->ops->audit_list(st, limit, out, count);
}

/* ---- maintenance windows, exemptions, writes in flight (SPEC §7) ---- */

void gg_store_settings_evaluate(struct gg_settings *s)
{
	const struct gg_maintenance_window *w = &s->window;

	s->maintenance_switch = s->maintenance_mode;
	if (w->id == 0)
		s->window_state = GG_WINDOW_NONE;
	else if (w->start_at <= s->now && s->now < w->end_at)
		s->window_state = GG_WINDOW_ACTIVE;
	else if (w->start_at > s->now && w->notice > 0 && w->start_at - w->notice <= s->now)
		s->window_state = GG_WINDOW_ANNOUNCED;
	else
		s->window_state = GG_WINDOW_SCHEDULED;
	s->maintenance_mode = s->maintenance_switch || s->window_state == GG_WINDOW_ACTIVE;
}

static int set_error(struct gg_store *st, int code, const char *msg)
{
	size_t n = strnlen(msg, sizeof(st->errmsg) - 1);

	memmove(st->errmsg, msg, n);
	st->errmsg[n] = '\0';
	return code;
}

/* One audit event of a maintenance change; its failure fails the caller (the
 * change itself is made, and says so in the message). */
static int audit_maintenance(struct gg_store *st, int64_t actor_id, const char *actor,
			     const char *action, const char *target, const char *value)
{
	struct gg_audit_event e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.actor_id = actor_id;
	snprintf(e.actor, sizeof(e.actor), "%s", actor ? actor : "");
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.target, sizeof(e.target), "%s", target);
	snprintf(e.new_value, sizeof(e.new_value), "%s", value);
	rc = st->ops->audit_add(st, &e);
	if (rc != GG_OK) {
		char msg[sizeof(st->errmsg) + 64];

		snprintf(msg, sizeof(msg), "done, but the audit event failed: %s", st->errmsg);
		return set_error(st, rc, msg);
	}
	return GG_OK;
}

int gg_store_window_add(struct gg_store *st, struct gg_maintenance_window *w, int64_t actor_id,
			const char *actor)
{
	char target[64], value[GG_MESSAGE_MAX + 128], start[32], end[32];
	int rc;

	if (w->start_at <= 0 || w->end_at <= w->start_at)
		return set_error(st, GG_EINVALID, "the window must end after it starts");
	if (w->end_at <= gg_now())
		return set_error(st, GG_EINVALID, "the window is over already");
	if (w->notice < 0)
		return set_error(st, GG_EINVALID, "the notice cannot be negative");
	if (!gg_store_valid_text(w->message, GG_MESSAGE_MAX, true))
		return set_error(st, GG_EINVALID, "invalid maintenance message");
	snprintf(w->created_by, sizeof(w->created_by), "%s", actor ? actor : "");
	w->created_at = gg_now();
	w->cancelled = false;
	rc = st->ops->window_add(st, w);
	if (rc != GG_OK)
		return rc;
	gg_iso8601(start, w->start_at);
	gg_iso8601(end, w->end_at);
	snprintf(target, sizeof(target), "window %" PRId64, w->id);
	snprintf(value, sizeof(value), "%s .. %s notice %" PRId64 "s%s%s", start, end, w->notice,
		 w->message[0] ? ": " : "", w->message);
	return audit_maintenance(st, actor_id, actor, "maintenance.schedule", target, value);
}

int gg_store_window_list(struct gg_store *st, bool all, struct gg_maintenance_window **out,
			 size_t *count)
{
	return st->ops->window_list(st, all, out, count);
}

int gg_store_window_cancel(struct gg_store *st, int64_t id, int64_t actor_id, const char *actor)
{
	char target[64];
	int rc = st->ops->window_cancel(st, id);

	if (rc != GG_OK)
		return rc;
	snprintf(target, sizeof(target), "window %" PRId64, id);
	return audit_maintenance(st, actor_id, actor, "maintenance.cancel", target, "cancelled");
}

int gg_store_window_record(struct gg_store *st, int64_t window_id, const char *kind,
			   struct gg_audit_event *event)
{
	if (!kind || (strcmp(kind, "start") != 0 && strcmp(kind, "end") != 0))
		return set_error(st, GG_EINVALID, "a window records its start or its end");
	return st->ops->window_record(st, window_id, kind, event);
}

static bool valid_exemption(enum gg_exemption_kind kind, const char *value)
{
	struct gg_cidr c;

	if (!value || strlen(value) >= GG_NAME_MAX)
		return false;
	if (kind == GG_EXEMPT_CIDR)
		return gg_cidr_parse(value, &c) == 0;
	return kind == GG_EXEMPT_USER && gg_store_valid_username(value);
}

static const char *exemption_target(enum gg_exemption_kind kind)
{
	return kind == GG_EXEMPT_CIDR ? "maintenance_exempt_cidr" : "maintenance_exempt_user";
}

int gg_store_exemption_add(struct gg_store *st, enum gg_exemption_kind kind, const char *value,
			   int64_t actor_id, const char *actor)
{
	int rc;

	if (!valid_exemption(kind, value))
		return set_error(st, GG_EINVALID,
				 kind == GG_EXEMPT_CIDR ? "invalid CIDR (e.g. 10.0.0.0/8, ::1/128)"
							: "invalid username");
	rc = st->ops->exemption_add(st, kind, value);
	if (rc != GG_OK)
		return rc;
	return audit_maintenance(st, actor_id, actor, "maintenance.exempt_add",
				 exemption_target(kind), value);
}

int gg_store_exemption_remove(struct gg_store *st, enum gg_exemption_kind kind, const char *value,
			      int64_t actor_id, const char *actor)
{
	int rc;

	if (!value)
		return set_error(st, GG_EINVALID, "no exemption named");
	rc = st->ops->exemption_remove(st, kind, value);
	if (rc != GG_OK)
		return rc;
	return audit_maintenance(st, actor_id, actor, "maintenance.exempt_remove",
				 exemption_target(kind), value);
}

int gg_store_exemption_list(struct gg_store *st, struct gg_exemption **out, size_t *count)
{
	return st->ops->exemption_list(st, out, count);
}

int gg_store_write_begin(struct gg_store *st, const struct gg_write_in_flight *w)
{
	if (!w->request_id[0])
		return set_error(st, GG_EINVALID, "a write in flight needs a request id");
	return st->ops->write_begin(st, w);
}

int gg_store_write_end(struct gg_store *st, const char *request_id)
{
	if (!request_id || !*request_id)
		return set_error(st, GG_EINVALID, "a write in flight needs a request id");
	return st->ops->write_end(st, request_id);
}

int gg_store_write_list(struct gg_store *st, struct gg_write_in_flight **out, size_t *count)
{
	return st->ops->write_list(st, out, count);
}

int gg_store_project_pushed(struct gg_store *st, int64_t project_id, const char *request_id,
			    int64_t *seq)
{
	return st->ops->project_pushed(st, project_id, request_id, seq);
}

int gg_store_signin_check(struct gg_store *st, const char *login_key, const char *address_key,
			  int64_t window, int max_login, int max_address, bool *exhausted)
{
	return st->ops->signin_check(st, login_key, address_key, window, max_login, max_address,
				     exhausted);
}

int gg_store_signin_failed(struct gg_store *st, const char *login_key, const char *address_key,
			   int64_t window)
{
	return st->ops->signin_failed(st, login_key, address_key, window);
}

int gg_store_signin_clear(struct gg_store *st, const char *login_key)
{
	return st->ops->signin_clear(st, login_key);
}
