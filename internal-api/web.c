/*
 * web.c - the pages of gate-api: sign-in, the dashboard, the admin overview,
 * Admin → Settings → General (the web switch of maintenance mode, SPEC §4)
 * and a form that creates a project.
 *
 * Pages are plain server-rendered HTML (web_layout.c gives them their frame,
 * banner and flash).  Forms that write are protected by the session's CSRF
 * token; a missing or wrong one is answered 422 with nothing changed.  The
 * read-only middleware has already refused the writes that maintenance mode
 * forbids before any handler here runs; the settings form is on its
 * allowlist, so maintenance can be switched off again from this page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "log.h"
#include "messages.h"
#include "rest.h"
#include "route.h"
#include "web.h"
#include "web_maintenance.h"

#define SETTINGS_PATH	   "/admin/application_settings/general"
#define MSG_SETTINGS_SAVED "Application settings saved successfully"
#define MSG_CSRF_INVALID   "Can't verify CSRF token authenticity."

/* Anonymous callers are sent to sign in; true when there is a user. */
static bool require_signed_in(struct gg_http_request *req, struct gg_http_response *res)
{
	if (req->user)
		return true;
	gg_http_redirect(res, "/users/sign_in", "You need to sign in before continuing.");
	return false;
}

/* Administrators only: others get the 404 page, as on GitLab. */
static bool require_admin(struct gg_http_request *req, struct gg_http_response *res)
{
	if (!require_signed_in(req, res))
		return false;
	if (req->user->admin)
		return true;
	gg_web_not_found(req, res);
	return false;
}

static bool require_csrf(struct gg_http_request *req, struct gg_http_response *res)
{
	if (gg_web_csrf_ok(req))
		return true;
	gg_info("%s %s from %s: CSRF token missing or wrong", req->method, req->path,
		gg_http_client_ip(req));
	gg_web_render(req, res, 422, "The change you requested was rejected",
		      "<div class=\"card\"><h1>The change you requested was rejected (422)</h1>"
		      "<p class=\"muted\">" MSG_CSRF_INVALID
		      " Reload the page and try again.</p></div>");
	return false;
}

static void render_buf(struct gg_http_request *req, struct gg_http_response *res, int status,
		       const char *title, struct gg_buf *b, int rc)
{
	if (rc < 0 || !b->data)
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
	else
		gg_web_render(req, res, status, title, b->data);
	gg_buf_clear(b);
}

static void format_date(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, 32, "-");
}

/* ---- sign-in ---- */

static void sign_in_page(struct gg_http_request *req, struct gg_http_response *res)
{
	if (req->user) {
		gg_http_redirect(res, "/", NULL);
		return;
	}
	gg_web_render(req, res, 200, "Sign in",
		      "<div class=\"signin card\"><h1>Sign in to gitgate</h1>"
		      "<form method=\"post\" action=\"/users/sign_in\">"
		      "<label for=\"user_login\">Username or email</label>"
		      "<input type=\"text\" id=\"user_login\" name=\"user[login]\" "
		      "autocomplete=\"username\" autofocus required>"
		      "<label for=\"user_password\">Password</label>"
		      "<input type=\"password\" id=\"user_password\" name=\"user[password]\" "
		      "autocomplete=\"current-password\" required>"
		      "<button class=\"btn\" type=\"submit\" id=\"sign_in\">Sign in</button>"
		      "</form></div>");
}

/* ---- lists ---- */

static int add_projects_table(struct gg_http_request *req, struct gg_buf *b, bool all)
{
	struct gg_project *projects = NULL;
	size_t n = 0, shown = 0;
	int rc;

	if (gg_store_project_list(req->store, &projects, &n) != GG_OK)
		return gg_buf_puts(b, "<p class=\"error\">The projects cannot be listed.</p>");
	rc = gg_buf_printf(b,
			   "<table id=\"projects\"><thead><tr><th>Project</th>"
			   "<th>Visibility</th><th>Default branch</th><th>Created</th>%s</tr>"
			   "</thead><tbody>",
			   all ? "<th>Pushes</th>" : "");
	for (size_t i = 0; i < n; i++) {
		char date[32];

		if (!all && !gg_access_can_read(req->store, req->user, &projects[i]))
			continue;
		format_date(projects[i].created_at, date);
		rc |= gg_buf_puts(b, "<tr><td>");
		rc |= gg_html_text(b, projects[i].full_path);
		rc |= gg_buf_printf(b, "</td><td><span class=\"badge\">%s</span></td><td>",
				    gg_rest_visibility_name(projects[i].visibility));
		rc |= gg_html_text(b, projects[i].default_branch);
		rc |= gg_buf_printf(b, "</td><td>%s</td>", date);
		/* The admin overview lists every project with its read-only toggle. */
		if (all)
			rc |= gg_web_project_read_only_cell(req, b, &projects[i]);
		rc |= gg_buf_puts(b, "</tr>");
		shown++;
	}
	if (!shown)
		rc |= gg_buf_puts(b, "<tr><td colspan=\"4\" class=\"muted\">No projects yet.</td>"
				     "</tr>");
	free(projects);
	return rc | gg_buf_puts(b, "</tbody></table>");
}

static int add_users_table(struct gg_http_request *req, struct gg_buf *b)
{
	struct gg_user *users = NULL;
	size_t n = 0;
	int rc;

	if (gg_store_user_list(req->store, &users, &n) != GG_OK)
		return gg_buf_puts(b, "<p class=\"error\">The users cannot be listed.</p>");
	rc = gg_buf_puts(b, "<table id=\"users\"><thead><tr><th>Username</th><th>Name</th>"
			    "<th>Email</th><th>Role</th><th>State</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		rc |= gg_buf_puts(b, "<tr><td>@");
		rc |= gg_html_text(b, users[i].username);
		rc |= gg_buf_puts(b, "</td><td>");
		rc |= gg_html_text(b, users[i].name);
		rc |= gg_buf_puts(b, "</td><td>");
		rc |= gg_html_text(b, users[i].email);
		rc |=
		    gg_buf_printf(b, "</td><td>%s</td><td>%s</td></tr>",
				  users[i].admin ? "<span class=\"badge on\">Admin</span>" : "User",
				  users[i].blocked ? "blocked" : "active");
	}
	free(users);
	return rc | gg_buf_puts(b, "</tbody></table>");
}

static void dashboard(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_buf b = GG_BUF_INIT;
	int rc;

	if (!require_signed_in(req, res))
		return;
	rc = gg_buf_puts(&b, "<div class=\"row\"><h1>Projects</h1>"
			     "<a class=\"btn\" href=\"/projects/new\">New project</a></div>"
			     "<div class=\"card\" style=\"padding:0\">");
	rc |= add_projects_table(req, &b, false);
	rc |= gg_buf_puts(&b, "</div>");
	render_buf(req, res, 200, "Projects", &b, rc);
}

static void admin_overview(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings *s = NULL;
	struct gg_buf b = GG_BUF_INIT;
	int rc;

	if (!require_admin(req, res))
		return;
	s = calloc(1, sizeof(*s));
	if (!s || gg_store_settings_get(req->store, s) != GG_OK) {
		free(s);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	rc = gg_buf_printf(&b,
			   "<h1>Admin area</h1><div class=\"card row\"><div><h2>Maintenance "
			   "Mode</h2><span class=\"badge%s\" id=\"maintenance-state\">%s</span>"
			   "</div><a class=\"btn\" href=\"" SETTINGS_PATH "\">Settings</a></div>"
			   "<h2>Projects</h2><div class=\"card\" style=\"padding:0\">",
			   s->maintenance_mode ? " on" : "", s->maintenance_mode ? "On" : "Off");
	rc |= add_projects_table(req, &b, true);
	rc |= gg_buf_puts(&b, "</div><h2>Users</h2><div class=\"card\" style=\"padding:0\">");
	rc |= add_users_table(req, &b);
	rc |= gg_buf_puts(&b, "</div>");
	free(s);
	render_buf(req, res, 200, "Admin area", &b, rc);
}

/* ---- Admin → Settings → General ---- */

static void settings_page(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_settings *s = NULL;
	struct gg_buf b = GG_BUF_INIT;
	int rc;

	if (!require_admin(req, res))
		return;
	s = calloc(1, sizeof(*s));
	if (!s || gg_store_settings_get(req->store, s) != GG_OK) {
		free(s);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	rc = gg_buf_puts(&b, "<h1>General</h1>"
			     "<section class=\"card\" id=\"js-maintenance-mode-toggle\">"
			     "<h2>Maintenance Mode</h2><p class=\"muted\">Prevent users from "
			     "performing write operations while GitLab maintenance is in progress."
			     "</p><form method=\"post\" action=\"" SETTINGS_PATH
			     "\" id=\"maintenance-form\">");
	rc |= gg_web_csrf_input(req, &b);
	rc |=
	    gg_buf_printf(&b,
			  "<input type=\"hidden\" name=\"application_setting[maintenance_mode]\" "
			  "value=\"0\"><label class=\"check\"><input type=\"checkbox\" "
			  "id=\"application_setting_maintenance_mode\" "
			  "name=\"application_setting[maintenance_mode]\" value=\"1\"%s> Enable "
			  "Maintenance Mode</label><p class=\"help\">Non-administrative users "
			  "can sign in with read-only access and make read-only API requests.</p>"
			  "<label for=\"application_setting_maintenance_mode_message\">Banner "
			  "Message</label><textarea "
			  "id=\"application_setting_maintenance_mode_message\" "
			  "name=\"application_setting[maintenance_mode_message]\" maxlength=\"%d\" "
			  "placeholder=\"" GG_MSG_MAINTENANCE_BANNER "\">",
			  s->maintenance_mode ? " checked" : "", GG_MESSAGE_MAX - 1);
	rc |= gg_html_text(&b, s->maintenance_mode_message);
	rc |= gg_buf_puts(&b, "</textarea>");
	rc |= gg_web_maintenance_section(req, &b);
	rc |= gg_buf_puts(&b, "<div><button class=\"btn\" type=\"submit\" "
			      "id=\"save-settings\">Save changes</button></div></form></section>");
	free(s);
	render_buf(req, res, 200, "General · Settings · Admin", &b, rc);
}

static void settings_save(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *mode = gg_http_param(req, "application_setting[maintenance_mode]");
	const char *message = gg_http_param(req, "application_setting[maintenance_mode_message]");
	struct gg_settings *s = NULL;
	int rc;

	if (!require_admin(req, res) || !require_csrf(req, res))
		return;
	s = calloc(1, sizeof(*s));
	if (!s || gg_store_settings_get(req->store, s) != GG_OK) {
		free(s);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (mode)
		s->maintenance_mode = s->maintenance_switch =
		    strcmp(mode, "1") == 0 || strcmp(mode, "true") == 0 || strcmp(mode, "on") == 0;
	if (message && !gg_rest_copy(s->maintenance_mode_message,
				     sizeof(s->maintenance_mode_message), message)) {
		gg_http_redirect(res, SETTINGS_PATH,
				 "Banner message is too long (maximum is 2047 characters)");
		goto done;
	}
	rc = gg_store_settings_update(req->store, s, req->user->id, req->user->username);
	if (rc == GG_EINVALID) {
		gg_http_redirect(res, SETTINGS_PATH, "Banner message is invalid");
		goto done;
	}
	if (rc != GG_OK) {
		gg_error("settings update by %s failed: %s", req->user->username,
			 gg_store_errmsg(req->store));
		gg_http_redirect(res, SETTINGS_PATH, GG_MSG_INTERNAL_ERROR);
		goto done;
	}
	gg_info("%s turned maintenance mode %s from the web page", req->user->username,
		s->maintenance_mode ? "on" : "off");
	{
		const char *err = gg_web_maintenance_save(req);

		gg_http_redirect(res, SETTINGS_PATH, err ? err : MSG_SETTINGS_SAVED);
	}
done:
	free(s);
}

/* ---- projects ---- */

static void project_form(struct gg_http_request *req, struct gg_http_response *res, int status,
			 const char *error)
{
	struct gg_buf b = GG_BUF_INIT;
	const char *path = gg_http_param(req, "project[path]");
	const char *ns = gg_http_param(req, "project[namespace_path]");
	int rc = gg_buf_puts(&b, "<h1>New project</h1><div class=\"card\">"
				 "<form method=\"post\" action=\"/projects\" id=\"new-project\">");

	rc |= gg_web_csrf_input(req, &b);
	if (error) {
		rc |= gg_buf_puts(&b, "<p class=\"error\" id=\"form-error\">");
		rc |= gg_html_text(&b, error);
		rc |= gg_buf_puts(&b, "</p>");
	}
	rc |= gg_buf_puts(&b, "<label for=\"project_namespace_path\">Namespace</label>"
			      "<input type=\"text\" id=\"project_namespace_path\" "
			      "name=\"project[namespace_path]\" value=\"");
	rc |= gg_html_text(&b, ns ? ns : req->user->username);
	rc |= gg_buf_puts(&b, "\"><label for=\"project_path\">Project slug</label>"
			      "<input type=\"text\" id=\"project_path\" name=\"project[path]\" "
			      "required value=\"");
	rc |= gg_html_text(&b, path ? path : "");
	rc |= gg_buf_puts(&b, "\"><label for=\"project_visibility\">Visibility level</label>"
			      "<select id=\"project_visibility\" name=\"project[visibility]\">"
			      "<option value=\"private\">Private</option>"
			      "<option value=\"internal\">Internal</option>"
			      "<option value=\"public\">Public</option></select>"
			      "<div><button class=\"btn\" type=\"submit\">Create project</button>"
			      "</div></form></div>");
	render_buf(req, res, status, "New project", &b, rc);
}

static void project_new(struct gg_http_request *req, struct gg_http_response *res)
{
	if (require_signed_in(req, res))
		project_form(req, res, 200, NULL);
}

static void project_create(struct gg_http_request *req, struct gg_http_response *res)
{
	struct gg_rest_project_params in = {
	    .path = gg_rest_param(req, "project[path]"),
	    .namespace_path = gg_rest_param(req, "project[namespace_path]"),
	    .visibility = gg_rest_param(req, "project[visibility]"),
	};
	struct gg_rest_error err = {0};
	struct gg_project *p;
	char *flash;

	if (!require_signed_in(req, res) || !require_csrf(req, res))
		return;
	p = malloc(sizeof(*p));
	if (!p) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (gg_rest_project_create(req, &in, p, &err) < 0) {
		char sentence[320];

		gg_rest_error_sentence(&err, sentence, sizeof(sentence));
		project_form(req, res, 422, sentence);
		free(p);
		return;
	}
	flash = gg_strdup_printf("Project '%s' was successfully created.", p->full_path);
	gg_http_redirect(res, "/", flash);
	free(flash);
	free(p);
}

const struct gg_route gg_web_routes[] = {
    {"GET", "/", dashboard},
    {"GET", "/users/sign_in", sign_in_page},
    {"GET", "/admin", admin_overview},
    {"GET", SETTINGS_PATH, settings_page},
    {"POST", SETTINGS_PATH, settings_save},
    {"GET", "/projects/new", project_new},
    {"POST", "/projects", project_create},
    {"POST", "/admin/projects/:id/read_only", gg_web_project_read_only},
    {NULL, NULL, NULL},
};
