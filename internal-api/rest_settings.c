/*
 * rest_settings.c - /api/v4/application/settings, /api/v4/audit_events and
 * /api/v4/version.
 *
 * The settings API is one of the three switches of maintenance mode (SPEC
 * §4), so it stays writable while the instance is read-only (the middleware
 * lets PUT through): otherwise maintenance could not be switched off again.
 * Only administrators may read or change it.  Every change is written with
 * its author, in the same transaction as an audit event per changed field
 * (store.h), so who turned maintenance on and when can always be traced;
 * GET /audit_events shows that trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "rest.h"

cJSON *gg_rest_settings_json(const struct gg_settings *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", 1);
	cJSON_AddBoolToObject(o, "maintenance_mode", s->maintenance_mode);
	if (s->maintenance_mode_message[0])
		cJSON_AddStringToObject(o, "maintenance_mode_message", s->maintenance_mode_message);
	else
		cJSON_AddNullToObject(o, "maintenance_mode_message");
	gg_rest_add_time(o, "updated_at", s->updated_at);
	return o;
}

static void answer_settings(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings *s = malloc(sizeof(*s));
	int rc;

	if (!s) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	rc = gg_store_settings_get(req->store, s);
	if (rc != GG_OK)
		gg_rest_store_error(req, res, rc);
	else
		gg_http_json(res, 200, gg_rest_settings_json(s));
	free(s);
}

void gg_rest_settings_get(struct gg_http_request *req, struct gg_http_response *res)
{
	if (gg_rest_require_admin(req, res))
		answer_settings(req, res);
}

/* Is maintenance_mode_message given as JSON null (which clears it)? */
static bool message_is_json_null(const struct gg_http_request *req)
{
	return cJSON_IsObject(req->json) && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
						req->json, "maintenance_mode_message"));
}

void gg_rest_settings_update(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings *s = NULL;
	const char *message = gg_http_param(req, "maintenance_mode_message");
	int mode = gg_http_param_bool(req, "maintenance_mode");
	int rc;

	if (!gg_rest_require_admin(req, res))
		return;
	if (mode < 0 && gg_http_param(req, "maintenance_mode")) {
		gg_rest_param_error(res, "maintenance_mode is invalid");
		return;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	rc = gg_store_settings_get(req->store, s);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	if (mode >= 0)
		s->maintenance_mode = mode == 1;
	if (message_is_json_null(req))
		message = "";
	if (message && !gg_rest_copy(s->maintenance_mode_message,
				     sizeof(s->maintenance_mode_message), message)) {
		gg_rest_field_error(res, 400, "maintenance_mode_message",
				    "is too long (maximum is 2047 characters)");
		goto done;
	}
	rc = gg_store_settings_update(req->store, s, req->user->id, req->user->username);
	if (rc == GG_EINVALID) {
		gg_rest_field_error(res, 400, "maintenance_mode_message", GG_MSG_FIELD_INVALID);
		goto done;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		goto done;
	}
	answer_settings(req, res);
done:
	free(s);
}

static cJSON *audit_event_json(const struct gg_audit_event *e)
{
	cJSON *o = cJSON_CreateObject(), *d;
	bool setting = strncmp(e->action, "settings.", 9) == 0;
	const char *entity = setting ? "ApplicationSetting" : e->action;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)e->id);
	cJSON_AddNumberToObject(o, "author_id", (double)e->actor_id);
	cJSON_AddStringToObject(o, "author_name", e->actor);
	cJSON_AddNumberToObject(o, "entity_id", 1);
	cJSON_AddStringToObject(o, "entity_type", entity);
	d = cJSON_AddObjectToObject(o, "details");
	if (d) {
		cJSON_AddStringToObject(d, "change", e->target);
		cJSON_AddStringToObject(d, "from", e->old_value);
		cJSON_AddStringToObject(d, "to", e->new_value);
		cJSON_AddStringToObject(d, "author_name", e->actor);
		cJSON_AddNumberToObject(d, "target_id", 1);
		cJSON_AddStringToObject(d, "target_type", entity);
		cJSON_AddStringToObject(d, "target_details", e->target);
	}
	gg_rest_add_time(o, "created_at", e->created_at);
	return o;
}

/* GET /audit_events: newest first. */
void gg_rest_audit_events_list(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *entity_type = gg_rest_param(req, "entity_type");
	struct gg_audit_event *events = NULL;
	struct gg_rest_page pg;
	size_t n = 0, total = 0;
	cJSON *list;
	int rc;

	if (!gg_rest_require_admin(req, res) || !gg_rest_page_parse(req, res, &pg))
		return;
	rc = gg_store_audit_list(req->store, 0, &events, &n);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++) {
		bool setting = strncmp(events[i].action, "settings.", 9) == 0;

		if (entity_type &&
		    strcmp(entity_type, setting ? "ApplicationSetting" : events[i].action) != 0)
			continue;
		if (gg_rest_page_has(&pg, total))
			cJSON_AddItemToArray(list, audit_event_json(&events[i]));
		total++;
	}
	gg_rest_page_headers(res, &pg, total);
	gg_http_json(res, 200, list);
	free(events);
}

/* GET /version: signed-in callers only, as on GitLab. */
void gg_rest_version(struct gg_http_request *req, struct gg_http_response *res)
{
	cJSON *o;

	if (!gg_rest_require_user(req, res))
		return;
	o = cJSON_CreateObject();
	if (o) {
		cJSON_AddStringToObject(o, "version", GG_VERSION);
		cJSON_AddStringToObject(o, "revision", GG_REVISION);
	}
	gg_http_json(res, 200, o);
}
