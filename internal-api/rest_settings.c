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
 *
 * The same call schedules and cancels maintenance windows and edits the
 * exemptions (SPEC §7), so they too can be managed while the instance is
 * read-only:
 *   maintenance_window_start, maintenance_window_end (ISO 8601 UTC or Unix
 *   seconds), maintenance_window_notice (seconds, default 1800),
 *   maintenance_window_message; maintenance_window_cancel=ID;
 *   maintenance_exempt_cidrs_add / _remove, maintenance_exempt_users_add /
 *   _remove (one value, or several separated by commas).
 * GET shows the windows to come, the exemptions and the writes in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	cJSON_AddBoolToObject(o, "maintenance_mode_switch", s->maintenance_switch);
	cJSON_AddBoolToObject(o, "maintenance_window_active", s->window_state == GG_WINDOW_ACTIVE);
	cJSON_AddBoolToObject(o, "maintenance_window_announced",
			      s->window_state == GG_WINDOW_ANNOUNCED);
	return o;
}

static cJSON *window_json(const struct gg_maintenance_window *w)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)w->id);
	gg_rest_add_time(o, "start_at", w->start_at);
	gg_rest_add_time(o, "end_at", w->end_at);
	cJSON_AddNumberToObject(o, "notice", (double)w->notice);
	cJSON_AddStringToObject(o, "message", w->message);
	cJSON_AddStringToObject(o, "created_by", w->created_by);
	return o;
}

/* The windows to come, the exemptions and the writes in flight.  0 or a store error. */
static int add_maintenance_state(struct gg_http_request *req, cJSON *o)
{
	struct gg_maintenance_window *w = NULL;
	struct gg_write_in_flight *writes = NULL;
	struct gg_exemption *ex = NULL;
	size_t nw = 0, nx = 0, nf = 0;
	cJSON *windows, *cidrs, *users;
	int rc;

	if ((rc = gg_store_window_list(req->store, false, &w, &nw)) != GG_OK)
		return rc;
	windows = cJSON_AddArrayToObject(o, "maintenance_windows");
	for (size_t i = 0; windows && i < nw; i++)
		cJSON_AddItemToArray(windows, window_json(&w[i]));
	free(w);
	if ((rc = gg_store_exemption_list(req->store, &ex, &nx)) != GG_OK)
		return rc;
	cidrs = cJSON_AddArrayToObject(o, "maintenance_exempt_cidrs");
	users = cJSON_AddArrayToObject(o, "maintenance_exempt_users");
	for (size_t i = 0; cidrs && users && i < nx; i++)
		cJSON_AddItemToArray(ex[i].kind == GG_EXEMPT_CIDR ? cidrs : users,
				     cJSON_CreateString(ex[i].value));
	free(ex);
	if ((rc = gg_store_write_list(req->store, &writes, &nf)) != GG_OK)
		return rc;
	free(writes);
	cJSON_AddNumberToObject(o, "writes_in_flight", (double)nf);
	return GG_OK;
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
	if (rc == GG_OK) {
		cJSON *o = gg_rest_settings_json(s);

		rc = o ? add_maintenance_state(req, o) : GG_ERROR;
		if (rc == GG_OK)
			gg_http_json(res, 200, o);
		else
			cJSON_Delete(o);
	}
	if (rc != GG_OK)
		gg_rest_store_error(req, res, rc);
	free(s);
}

/* ISO 8601 UTC ("2026-05-01T22:00:00Z", fractions allowed) or Unix seconds; -1 if neither. */
static int64_t parse_time(const char *text)
{
	struct tm tm;
	const char *end;
	char *nend;
	long long v;

	errno = 0;
	v = strtoll(text, &nend, 10);
	if (!errno && *nend == '\0' && v > 0)
		return v;
	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

/* Schedule and cancel windows from the request.  true when the request is
 * done with them; false with the error in res. */
static bool update_windows(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *start = gg_rest_param(req, "maintenance_window_start");
	const char *end = gg_rest_param(req, "maintenance_window_end");
	const char *notice = gg_rest_param(req, "maintenance_window_notice");
	const char *message = gg_rest_param(req, "maintenance_window_message");
	const char *cancel = gg_rest_param(req, "maintenance_window_cancel");
	struct gg_maintenance_window *w;
	int64_t id;
	int rc;

	if (cancel) {
		if (!gg_rest_parse_id(cancel, &id)) {
			gg_rest_param_error(res, "maintenance_window_cancel is invalid");
			return false;
		}
		rc = gg_store_window_cancel(req->store, id, req->user->id, req->user->username);
		if (rc != GG_OK) {
			gg_rest_store_error(req, res, rc);
			return false;
		}
	}
	if (!start && !end)
		return true;
	if (!start || !end) {
		gg_rest_param_error(res, start ? "maintenance_window_end is missing"
					       : "maintenance_window_start is missing");
		return false;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return false;
	}
	w->start_at = parse_time(start);
	w->end_at = parse_time(end);
	w->notice = 1800;
	if (notice) {
		char *nend;

		errno = 0;
		w->notice = strtoll(notice, &nend, 10);
		if (errno || *nend || w->notice < 0)
			w->notice = -1;
	}
	if (w->start_at < 0 || w->end_at < 0 || w->notice < 0) {
		gg_rest_param_error(res, w->start_at < 0 ? "maintenance_window_start is invalid"
					 : w->end_at < 0 ? "maintenance_window_end is invalid"
							 : "maintenance_window_notice is invalid");
		free(w);
		return false;
	}
	if (message && !gg_rest_copy(w->message, sizeof(w->message), message)) {
		gg_rest_field_error(res, 400, "maintenance_window_message",
				    "is too long (maximum is 2047 characters)");
		free(w);
		return false;
	}
	rc = gg_store_window_add(req->store, w, req->user->id, req->user->username);
	free(w);
	if (rc == GG_EINVALID) {
		gg_rest_field_error(res, 400, "maintenance_window", gg_store_errmsg(req->store));
		return false;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return false;
	}
	return true;
}

/* Add or remove the comma-separated values of one exemption parameter. */
static bool update_exemption_list(struct gg_http_request *req, struct gg_http_response *res,
				  const char *param, enum gg_exemption_kind kind, bool add)
{
	const char *list = gg_rest_param(req, param);
	char value[GG_NAME_MAX];

	while (list && *list) {
		size_t n = strcspn(list, ",");
		int rc;

		while (n > 0 && *list == ' ') {
			list++;
			n--;
		}
		if (n >= sizeof(value)) {
			gg_rest_field_error(res, 400, param, GG_MSG_FIELD_INVALID);
			return false;
		}
		memcpy(value, list, n);
		value[n] = '\0';
		while (n > 0 && value[n - 1] == ' ')
			value[--n] = '\0';
		if (n > 0) {
			rc = add ? gg_store_exemption_add(req->store, kind, value, req->user->id,
							  req->user->username)
				 : gg_store_exemption_remove(req->store, kind, value, req->user->id,
							     req->user->username);
			/* Adding what is there, or removing what is not, leaves the list as asked.
			 */
			if (rc == GG_EINVALID) {
				gg_rest_field_error(res, 400, param, gg_store_errmsg(req->store));
				return false;
			}
			if (rc != GG_OK && rc != GG_EEXISTS && rc != GG_ENOTFOUND) {
				gg_rest_store_error(req, res, rc);
				return false;
			}
		}
		list += strcspn(list, ",");
		if (*list == ',')
			list++;
	}
	return true;
}

static bool update_exemptions(struct gg_http_request *req, struct gg_http_response *res)
{
	return update_exemption_list(req, res, "maintenance_exempt_cidrs_add", GG_EXEMPT_CIDR,
				     true) &&
	       update_exemption_list(req, res, "maintenance_exempt_cidrs_remove", GG_EXEMPT_CIDR,
				     false) &&
	       update_exemption_list(req, res, "maintenance_exempt_users_add", GG_EXEMPT_USER,
				     true) &&
	       update_exemption_list(req, res, "maintenance_exempt_users_remove", GG_EXEMPT_USER,
				     false);
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
		s->maintenance_mode = s->maintenance_switch = mode == 1;
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
	if (!update_windows(req, res) || !update_exemptions(req, res))
		goto done;
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
