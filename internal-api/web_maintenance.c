/*
 * web_maintenance.c - the admin pages' part of SPEC §7: scheduled windows and
 * exemptions on Admin → Settings → General (saved with the maintenance form,
 * which stays writable in maintenance mode), and the per-project read-only
 * toggle on the Admin overview.
 *
 * Times on the form are UTC (an <input type="datetime-local"> read as UTC);
 * the notice is in minutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "messages.h"
#include "rest.h"
#include "web.h"
#include "web_maintenance.h"

static void format_utc(int64_t t, char out[40])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(out, 40, "%Y-%m-%d %H:%M UTC", &tm);
	else
		snprintf(out, 40, "?");
}

int gg_web_maintenance_section(struct gg_http_request *req, struct gg_buf *b)
{
	struct gg_maintenance_window *w = NULL;
	struct gg_exemption *ex = NULL;
	size_t nw = 0, nx = 0;
	int rc = 0;

	rc |= gg_buf_puts(b, "<h3>Scheduled maintenance</h3><table id=\"maintenance-windows\">"
			     "<thead><tr><th>#</th><th>Start</th><th>End</th><th>Notice</th>"
			     "<th>Message</th><th>Cancel</th></tr></thead><tbody>");
	if (gg_store_window_list(req->store, false, &w, &nw) != GG_OK)
		rc |= gg_buf_puts(b, "<tr><td colspan=\"6\" class=\"error\">The windows cannot be "
				     "listed.</td></tr>");
	for (size_t i = 0; i < nw; i++) {
		char start[40], end[40];

		format_utc(w[i].start_at, start);
		format_utc(w[i].end_at, end);
		rc |=
		    gg_buf_printf(b, "<tr><td>%lld</td><td>%s</td><td>%s</td><td>%lld min</td><td>",
				  (long long)w[i].id, start, end, (long long)w[i].notice / 60);
		rc |= gg_html_text(b, w[i].message);
		rc |= gg_buf_printf(b,
				    "</td><td><label class=\"check\"><input type=\"checkbox\" "
				    "name=\"application_setting[maintenance_window_cancel]\" "
				    "value=\"%lld\"></label></td></tr>",
				    (long long)w[i].id);
	}
	if (nw == 0)
		rc |= gg_buf_puts(
		    b, "<tr><td colspan=\"6\" class=\"muted\">None scheduled.</td></tr>");
	free(w);
	rc |= gg_buf_puts(
	    b, "</tbody></table>"
	       "<label for=\"maintenance_window_start\">New window: start (UTC)</label>"
	       "<input type=\"datetime-local\" id=\"maintenance_window_start\" "
	       "name=\"application_setting[maintenance_window_start]\">"
	       "<label for=\"maintenance_window_end\">End (UTC)</label>"
	       "<input type=\"datetime-local\" id=\"maintenance_window_end\" "
	       "name=\"application_setting[maintenance_window_end]\">"
	       "<label for=\"maintenance_window_notice\">Announce it ahead (minutes)</label>"
	       "<input type=\"number\" min=\"0\" value=\"30\" id=\"maintenance_window_notice\" "
	       "name=\"application_setting[maintenance_window_notice]\">"
	       "<label for=\"maintenance_window_message\">Message during the window</label>"
	       "<input type=\"text\" id=\"maintenance_window_message\" "
	       "name=\"application_setting[maintenance_window_message]\">"
	       "<h3>Exemptions</h3><p class=\"help\">Source networks and users that may still "
	       "push over SSH while maintenance mode is on.</p><ul id=\"maintenance-exemptions\">");
	if (gg_store_exemption_list(req->store, &ex, &nx) != GG_OK)
		rc |= gg_buf_puts(b, "<li class=\"error\">The exemptions cannot be listed.</li>");
	for (size_t i = 0; i < nx; i++) {
		rc |=
		    gg_buf_printf(b, "<li>%s ", ex[i].kind == GG_EXEMPT_CIDR ? "network" : "user");
		rc |= gg_html_text(b, ex[i].value);
		rc |= gg_buf_puts(b, "</li>");
	}
	if (nx == 0)
		rc |= gg_buf_puts(b, "<li class=\"muted\">None.</li>");
	free(ex);
	rc |= gg_buf_puts(
	    b, "</ul><label for=\"maintenance_exempt_add\">Add (comma-separated: "
	       "10.0.0.0/8, user:release-bot)</label><input type=\"text\" "
	       "id=\"maintenance_exempt_add\" name=\"application_setting[maintenance_exempt_add]\">"
	       "<label for=\"maintenance_exempt_remove\">Remove</label><input type=\"text\" "
	       "id=\"maintenance_exempt_remove\" "
	       "name=\"application_setting[maintenance_exempt_remove]\">");
	return rc;
}

/* "YYYY-MM-DDTHH:MM[:SS]" as UTC; -1 if not. */
static int64_t parse_local(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M", &tm);
	if (end && *end == ':')
		end = strptime(end + 1, "%S", &tm);
	if (!end || (*end && strcmp(end, "Z") != 0))
		return -1;
	return (int64_t)timegm(&tm);
}

static const char *apply_exemptions(struct gg_http_request *req, const char *list, bool add)
{
	char value[GG_NAME_MAX];

	while (list && *list) {
		size_t n = strcspn(list, ",");
		enum gg_exemption_kind kind = GG_EXEMPT_CIDR;
		const char *v = list;
		int rc;

		while (n > 0 && (*v == ' ' || *v == '\n' || *v == '\r')) {
			v++;
			n--;
		}
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\n' || v[n - 1] == '\r'))
			n--;
		if (n >= 5 && strncmp(v, "user:", 5) == 0) {
			kind = GG_EXEMPT_USER;
			v += 5;
			n -= 5;
		}
		if (n >= sizeof(value))
			return "An exemption is too long";
		memcpy(value, v, n);
		value[n] = '\0';
		if (n > 0) {
			rc = add ? gg_store_exemption_add(req->store, kind, value, req->user->id,
							  req->user->username)
				 : gg_store_exemption_remove(req->store, kind, value, req->user->id,
							     req->user->username);
			if (rc == GG_EINVALID)
				return kind == GG_EXEMPT_CIDR ? "An exempt network is invalid"
							      : "An exempt username is invalid";
			if (rc != GG_OK && rc != GG_EEXISTS && rc != GG_ENOTFOUND)
				return GG_MSG_INTERNAL_ERROR;
		}
		list += strcspn(list, ",");
		if (*list == ',')
			list++;
	}
	return NULL;
}

const char *gg_web_maintenance_save(struct gg_http_request *req)
{
	const char *start = gg_http_param(req, "application_setting[maintenance_window_start]");
	const char *end = gg_http_param(req, "application_setting[maintenance_window_end]");
	const char *notice = gg_http_param(req, "application_setting[maintenance_window_notice]");
	const char *message = gg_http_param(req, "application_setting[maintenance_window_message]");
	const char *cancel = gg_http_param(req, "application_setting[maintenance_window_cancel]");
	const char *err;
	int64_t id;

	if (cancel && *cancel) {
		if (!gg_rest_parse_id(cancel, &id))
			return "The window to cancel is invalid";
		if (gg_store_window_cancel(req->store, id, req->user->id, req->user->username) !=
		    GG_OK)
			return "The window cannot be cancelled";
	}
	if ((start && *start) || (end && *end)) {
		struct gg_maintenance_window *w = calloc(1, sizeof(*w));
		int rc;

		if (!w)
			return GG_MSG_INTERNAL_ERROR;
		w->start_at = start ? parse_local(start) : -1;
		w->end_at = end ? parse_local(end) : -1;
		w->notice = 30 * 60;
		if (notice && *notice) {
			char *nend;

			errno = 0;
			w->notice = strtoll(notice, &nend, 10) * 60;
			if (errno || *nend || w->notice < 0)
				w->notice = -1;
		}
		if (w->start_at < 0 || w->end_at < 0 || w->notice < 0) {
			free(w);
			return "The window needs a start, an end and a notice in minutes";
		}
		if (message && !gg_rest_copy(w->message, sizeof(w->message), message)) {
			free(w);
			return "The window's message is too long";
		}
		rc = gg_store_window_add(req->store, w, req->user->id, req->user->username);
		free(w);
		if (rc == GG_EINVALID)
			return "The window is invalid: it must end after it starts, in the future";
		if (rc != GG_OK)
			return GG_MSG_INTERNAL_ERROR;
	}
	err = apply_exemptions(
	    req, gg_http_param(req, "application_setting[maintenance_exempt_add]"), true);
	if (!err)
		err = apply_exemptions(
		    req, gg_http_param(req, "application_setting[maintenance_exempt_remove]"),
		    false);
	return err;
}

int gg_web_project_read_only_cell(struct gg_http_request *req, struct gg_buf *b,
				  const struct gg_project *p)
{
	int rc =
	    gg_buf_printf(b,
			  "<td><form method=\"post\" action=\"/admin/projects/%lld/read_only\" "
			  "class=\"inline\" id=\"read-only-%lld\">",
			  (long long)p->id, (long long)p->id);

	rc |= gg_web_csrf_input(req, b);
	rc |= gg_buf_printf(b,
			    "<input type=\"hidden\" name=\"read_only\" value=\"%d\">"
			    "<span class=\"badge%s\">%s</span> <button class=\"btn\" "
			    "type=\"submit\">%s</button></form></td>",
			    p->read_only ? 0 : 1, p->read_only ? " on" : "",
			    p->read_only ? "Read-only" : "Writable",
			    p->read_only ? "Make writable" : "Make read-only");
	return rc;
}

/* POST /admin/projects/:id/read_only (read_only=0|1, read_only_message). */
void gg_web_project_read_only(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *state = gg_http_param(req, "read_only");
	const char *message = gg_http_param(req, "read_only_message");
	struct gg_project *p;
	int64_t id;

	if (!req->user || !req->user->admin) {
		gg_web_not_found(req, res);
		return;
	}
	if (!gg_web_csrf_ok(req)) {
		gg_http_redirect(res, "/admin", "Can't verify CSRF token authenticity.");
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !gg_rest_parse_id(gg_route_param(req, 0), &id) ||
	    gg_store_project_get(req->store, id, p) != GG_OK) {
		free(p);
		gg_web_not_found(req, res);
		return;
	}
	p->read_only = state && strcmp(state, "1") == 0;
	if (message && !gg_rest_copy(p->read_only_message, sizeof(p->read_only_message), message)) {
		gg_http_redirect(res, "/admin", "The read-only message is too long");
		free(p);
		return;
	}
	if (gg_store_project_update(req->store, p) != GG_OK) {
		gg_error("read-only switch of %s failed: %s", p->full_path,
			 gg_store_errmsg(req->store));
		gg_http_redirect(res, "/admin", GG_MSG_INTERNAL_ERROR);
		free(p);
		return;
	}
	gg_info("%s made %s %s from the web page", req->user->username, p->full_path,
		p->read_only ? "read-only" : "writable");
	gg_http_redirect(res, "/admin",
			 p->read_only ? "The project is now read-only."
				      : "The project is now writable.");
	free(p);
}
