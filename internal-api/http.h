/*
 * http.h - the request and response that every gate-api handler sees.
 *
 * http.c adapts libmicrohttpd to this: it collects the body, parses it (JSON
 * or form), resolves the caller (PRIVATE-TOKEN, Authorization: Bearer, or the
 * session cookie), runs the read-only middleware (readonly.h) and then the
 * route's handler (router.c).  Handlers never touch libmicrohttpd; they read a
 * struct gg_http_request and fill a struct gg_http_response.
 */
#ifndef GG_HTTP_H
#define GG_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct gg_app; /* the process-wide state of gate-api (app.h) */

/* The web session cookie (its value is a GG_TOKEN_SESSION secret) and the flash cookie. */
#define GG_SESSION_COOKIE "_gitgate_session"
#define GG_FLASH_COOKIE	  "_gitgate_flash"

struct gg_http_request {
	const char *method;  /* "GET", "POST", ... */
	const char *path;    /* the path as received, percent-decoded by libmicrohttpd */
	const char *raw_url; /* as received, with its query string when there was one */
	const char *body;    /* NUL-terminated; "" when none */
	size_t body_len;
	cJSON *json;	 /* body parsed when Content-Type is JSON, else NULL */
	bool wants_html; /* an HTML (browser) request rather than an API one */

	struct gg_app *app;
	struct gg_store *store; /* this worker thread's connection */
	const struct gg_config *cfg;

	/* Who is calling: filled before the handler runs (NULL/false when anonymous). */
	struct gg_user *user;
	bool user_via_session;	 /* authenticated by the web session cookie */
	char session_token[128]; /* the session cookie's value when there is one */
	char correlation_id[40];
	/* The token that authenticated the caller (personal, OAuth or session), for
	 * its scopes; NULL when anonymous. */
	const struct gg_token *token;

	/* Segments matched by the route's ':name' and '*' parts (route.h). */
	char *path_params[6];
	size_t n_path_params;

	void *conn; /* the libmicrohttpd connection, for http.c only */
};

struct gg_http_header {
	char *name;
	char *value;
};

struct gg_http_response {
	int status;
	const char *content_type; /* static string; "application/json" by default */
	struct gg_buf body;
	struct gg_http_header headers[8];
	size_t n_headers;
};

typedef void (*gg_http_handler)(struct gg_http_request *req, struct gg_http_response *res);

/* Request accessors. */
const char *gg_http_header(const struct gg_http_request *req, const char *name);
const char *gg_http_cookie(const struct gg_http_request *req, const char *name);
/* A parameter from the query string, else from a form body, else from a JSON body's
 * top-level member (numbers and booleans turned into text, in a per-request buffer). */
const char *gg_http_param(const struct gg_http_request *req, const char *name);
/* A boolean parameter: "true"/"1"/"on"/"yes" or JSON true.  -1 when absent or invalid. */
int gg_http_param_bool(const struct gg_http_request *req, const char *name);
/* Client address as text ("127.0.0.1"). */
const char *gg_http_client_ip(const struct gg_http_request *req);

/* Response helpers.  gg_http_json takes ownership of body. */
void gg_http_json(struct gg_http_response *res, int status, cJSON *body);
/* {"message": message} with status. */
void gg_http_message(struct gg_http_response *res, int status, const char *message);
void gg_http_html(struct gg_http_response *res, int status, const char *html);
void gg_http_add_header(struct gg_http_response *res, const char *name, const char *value);
/* 302 to location; flash (may be NULL) is shown once on the next page (alert text). */
void gg_http_redirect(struct gg_http_response *res, const char *location, const char *flash);

/* Request bodies larger than this are refused with 413. */
#define GG_HTTP_BODY_MAX (10u * 1024 * 1024)

/* For app.c only: serve on listen_fd (bound and listening) with a pool of
 * threads workers.  NULL when libmicrohttpd cannot start. */
struct MHD_Daemon;
struct MHD_Daemon *gg_http_daemon_start(struct gg_app *app, int listen_fd, unsigned threads);

#endif
