/*
 * store.c - picks the store backend from the database URL and forwards every
 * gg_store_* call to it (see store.h).
 *
 * Backends differ only in struct gg_store_ops; nothing above this file knows
 * which one is in use.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

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
