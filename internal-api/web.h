/*
 * web.h - what the server-rendered pages of gate-api share (web_layout.c).
 *
 * Every HTML page goes through gg_web_render(), so that every page carries
 * the same header, the maintenance banner while the instance is read-only
 * (SPEC §4: the custom message or GG_MSG_MAINTENANCE_BANNER) and the flash
 * message left by the previous redirect, shown once.  Everything a user or
 * an administrator typed reaches the page only through gg_html_text(), which
 * escapes it: the banner message in particular is shown as text, never as
 * markup (GitLab renders it raw; we do not).
 *
 * Forms that write carry a CSRF token bound to the web session (an HMAC of
 * the session cookie under the instance secret), checked by gg_web_csrf_ok().
 */
#ifndef GG_WEB_H
#define GG_WEB_H

#include <stdbool.h>

#include "http.h"
#include "util.h"

/* The name of the form field that carries the CSRF token (as in Rails). */
#define GG_CSRF_FIELD "authenticity_token"

/* Append text to out with &, <, >, " and ' escaped.  0 or -1. */
int gg_html_text(struct gg_buf *out, const char *text);

/* The CSRF token of the request's web session (64 hex digits), or "" when the
 * request has no session. */
void gg_web_csrf_token(const struct gg_http_request *req, char out[65]);

/* Does the request carry the right CSRF token?  Requests authenticated by a
 * token header rather than the session cookie need none: a browser never
 * sends those by itself. */
bool gg_web_csrf_ok(const struct gg_http_request *req);

/* A hidden input with the CSRF token, appended to out. */
int gg_web_csrf_input(const struct gg_http_request *req, struct gg_buf *out);

/* Answer with a whole page: layout, banner, flash, then content (HTML). */
void gg_web_render(struct gg_http_request *req, struct gg_http_response *res, int status,
		   const char *title, const char *content);

/* The 404 page, in the layout. */
void gg_web_not_found(struct gg_http_request *req, struct gg_http_response *res);

#endif
