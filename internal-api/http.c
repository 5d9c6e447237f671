/*
 * http.c - libmicrohttpd underneath the request and response of http.h.
 *
 * Handlers never see libmicrohttpd.  This file turns one MHD request into a
 * struct gg_http_request (body collected up to GG_HTTP_BODY_MAX, parsed as
 * JSON or as a form, the caller resolved from a token or the session
 * cookie, a correlation id chosen), runs the read-only middleware and the
 * router, and turns the struct gg_http_response back into an MHD response.
 *
 * Per-request state lives in struct request_ctx, created when MHD first sees
 * the request line (the URI log callback, which also gives us the raw URL
 * before MHD percent-decodes it) and freed when MHD reports the request
 * completed.  The struct gg_http_request is its first member, so accessors
 * that get a request can find the rest.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "app.h"
#include "log.h"
#include "messages.h"
#include "metrics.h"
#include "readonly.h"
#include "route.h"

/*
 * Memory per connection (libmicrohttpd's pool: the request line and headers,
 * the response headers).  Bodies are streamed and do not count.  The pool is
 * cleared between the requests of a keep-alive connection, so its size is a
 * cost per request: 16 KiB instead of the default 32 KiB still takes about
 * 14 KiB of request headers (more is answered 431).
 */
#define GG_HTTP_CONN_MEMORY (16u * 1024)

struct form_field {
	char *name;
	struct gg_buf value;
};

struct request_ctx {
	struct gg_http_request req; /* first: see ctx_of() */
	struct MHD_Connection *conn;
	char *raw_url;
	struct gg_buf body;
	bool started;	   /* the access handler has seen this request */
	bool too_large;	   /* the body went over GG_HTTP_BODY_MAX */
	bool nul_in_form;  /* a form field held a NUL byte */
	uint64_t received; /* body bytes seen, kept or not */

	struct form_field *form;
	size_t n_form, cap_form;
	char **scratch; /* strings handed out by gg_http_param, freed with the request */
	size_t n_scratch, cap_scratch;

	/* Allocated only when a token or a session cookie came: it is larger than
	 * the rest, and sshd-gate's requests carry neither. */
	struct caller *caller;
	char client_ip[INET6_ADDRSTRLEN];
};

struct caller {
	struct gg_user user;
	struct gg_token token;
};

static struct request_ctx *ctx_of(const struct gg_http_request *req)
{
	return (struct request_ctx *)(void *)req;
}

static void ctx_free(struct request_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->raw_url);
	gg_buf_clear(&ctx->body);
	cJSON_Delete(ctx->req.json);
	for (size_t i = 0; i < ctx->n_form; i++) {
		free(ctx->form[i].name);
		gg_buf_clear(&ctx->form[i].value);
	}
	free(ctx->form);
	for (size_t i = 0; i < ctx->n_scratch; i++)
		free(ctx->scratch[i]);
	free(ctx->scratch);
	gg_route_params_clear(&ctx->req);
	free(ctx->caller);
	free(ctx);
}

/* ---- request accessors ---- */

const char *gg_http_header(const struct gg_http_request *req, const char *name)
{
	struct request_ctx *ctx = ctx_of(req);

	if (!ctx->conn)
		return NULL;
	return MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, name);
}

const char *gg_http_cookie(const struct gg_http_request *req, const char *name)
{
	struct request_ctx *ctx = ctx_of(req);

	if (!ctx->conn)
		return NULL;
	return MHD_lookup_connection_value(ctx->conn, MHD_COOKIE_KIND, name);
}

static const char *keep_scratch(struct request_ctx *ctx, char *s)
{
	if (!s)
		return NULL;
	if (ctx->n_scratch == ctx->cap_scratch) {
		size_t cap = ctx->cap_scratch ? ctx->cap_scratch * 2 : 4;
		char **p = realloc(ctx->scratch, cap * sizeof(*p));

		if (!p) {
			free(s);
			return NULL;
		}
		ctx->scratch = p;
		ctx->cap_scratch = cap;
	}
	ctx->scratch[ctx->n_scratch++] = s;
	return s;
}

static const char *json_param(struct request_ctx *ctx, const char *name)
{
	const cJSON *item;

	if (!cJSON_IsObject(ctx->req.json))
		return NULL;
	item = cJSON_GetObjectItemCaseSensitive(ctx->req.json, name);
	if (cJSON_IsString(item))
		return item->valuestring;
	if (cJSON_IsTrue(item))
		return "true";
	if (cJSON_IsFalse(item))
		return "false";
	if (cJSON_IsNumber(item)) {
		double d = item->valuedouble;

		if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d)
			return keep_scratch(ctx, gg_strdup_printf("%lld", (long long)(int64_t)d));
		return keep_scratch(ctx, gg_strdup_printf("%.17g", d));
	}
	return NULL;
}

const char *gg_http_param(const struct gg_http_request *req, const char *name)
{
	struct request_ctx *ctx = ctx_of(req);
	const char *v = NULL;

	if (ctx->conn)
		v = MHD_lookup_connection_value(ctx->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v)
		return v;
	/* Form fields: the last of repeated names wins, as in Rails. */
	for (size_t i = ctx->n_form; i-- > 0;)
		if (strcmp(ctx->form[i].name, name) == 0)
			return ctx->form[i].value.data ? ctx->form[i].value.data : "";
	return json_param(ctx, name);
}

int gg_http_param_bool(const struct gg_http_request *req, const char *name)
{
	static const char *const yes[] = {"true", "1", "on", "yes"};
	static const char *const no[] = {"false", "0", "off", "no"};
	const char *v = gg_http_param(req, name);

	if (!v)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

const char *gg_http_client_ip(const struct gg_http_request *req)
{
	struct request_ctx *ctx = ctx_of(req);
	const union MHD_ConnectionInfo *info;
	const struct sockaddr *sa;

	if (ctx->client_ip[0] || !ctx->conn)
		return ctx->client_ip;
	info = MHD_get_connection_info(ctx->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!info || !info->client_addr)
		return ctx->client_ip;
	sa = info->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  ctx->client_ip, sizeof(ctx->client_ip));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  ctx->client_ip, sizeof(ctx->client_ip));
	return ctx->client_ip;
}

/* ---- response helpers ---- */

void gg_http_json(struct gg_http_response *res, int status, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	res->status = status;
	res->content_type = "application/json";
	gg_buf_clear(&res->body);
	if (!text) {
		res->status = 500;
		gg_buf_puts(&res->body, "{\"message\":\"" GG_MSG_INTERNAL_ERROR "\"}");
		return;
	}
	/* cJSON allocates with malloc (no hooks are installed), so the text can
	 * become the buffer without a copy. */
	res->body.data = text;
	res->body.len = strlen(text);
	res->body.cap = res->body.len + 1;
}

void gg_http_message(struct gg_http_response *res, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddStringToObject(o, "message", message)) {
		cJSON_Delete(o);
		o = NULL;
	}
	gg_http_json(res, status, o);
}

void gg_http_html(struct gg_http_response *res, int status, const char *html)
{
	res->status = status;
	res->content_type = "text/html; charset=utf-8";
	gg_buf_clear(&res->body);
	gg_buf_puts(&res->body, html);
}

void gg_http_add_header(struct gg_http_response *res, const char *name, const char *value)
{
	struct gg_http_header *h;

	if (res->n_headers == sizeof(res->headers) / sizeof(res->headers[0])) {
		gg_error("too many response headers, dropping %s", name);
		return;
	}
	h = &res->headers[res->n_headers];
	h->name = strdup(name);
	h->value = strdup(value);
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return;
	}
	res->n_headers++;
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static int url_encode(struct gg_buf *out, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[3] = {'%', digits[*p >> 4], digits[*p & 15]};

		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (gg_buf_add(out, p, 1) < 0)
				return -1;
		} else if (gg_buf_add(out, enc, 3) < 0) {
			return -1;
		}
	}
	return 0;
}

void gg_http_redirect(struct gg_http_response *res, const char *location, const char *flash)
{
	res->status = 302;
	res->content_type = "text/html; charset=utf-8";
	gg_buf_clear(&res->body);
	gg_http_add_header(res, "Location", location);
	if (flash) {
		struct gg_buf cookie = GG_BUF_INIT;

		if (gg_buf_puts(&cookie, GG_FLASH_COOKIE "=") == 0 &&
		    url_encode(&cookie, flash) == 0 &&
		    gg_buf_puts(&cookie, "; path=/; HttpOnly; SameSite=Lax") == 0)
			gg_http_add_header(res, "Set-Cookie", cookie.data);
		gg_buf_clear(&cookie);
	}
}

static void response_clear(struct gg_http_response *res)
{
	gg_buf_clear(&res->body);
	for (size_t i = 0; i < res->n_headers; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	res->n_headers = 0;
}

/* ---- building the request ---- */

static bool content_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result on_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *filename, const char *content_type,
				     const char *transfer_encoding, const char *data, uint64_t off,
				     size_t size)
{
	struct request_ctx *ctx = cls;
	struct form_field *field = NULL;

	if (!key)
		return MHD_YES;
	if (size && memchr(data, '\0', size)) {
		ctx->nul_in_form = true; /* the value would be read cut at the NUL */
		return MHD_NO;
	}
	/* Later chunks of a long value continue the newest field of that name. */
	if (off > 0)
		for (size_t i = ctx->n_form; i-- > 0;)
			if (strcmp(ctx->form[i].name, key) == 0) {
				field = &ctx->form[i];
				break;
			}
	if (!field) {
		if (ctx->n_form == ctx->cap_form) {
			size_t cap = ctx->cap_form ? ctx->cap_form * 2 : 8;
			struct form_field *p = realloc(ctx->form, cap * sizeof(*p));

			if (!p)
				return MHD_NO;
			ctx->form = p;
			ctx->cap_form = cap;
		}
		field = &ctx->form[ctx->n_form];
		field->name = strdup(key);
		field->value = (struct gg_buf)GG_BUF_INIT;
		if (!field->name)
			return MHD_NO;
		ctx->n_form++;
		if (gg_buf_add(&field->value, "", 0) < 0)
			return MHD_NO;
	}
	if (size && gg_buf_add(&field->value, data, size) < 0)
		return MHD_NO;
	return MHD_YES;
}

/* True when a JSON text escapes a NUL (\u0000): cJSON would hand the string
 * out cut at the NUL, so "grp/a\u0000b" would be read as "grp/a". */
static bool json_escapes_nul(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && strncmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++; /* the escaped character, which may be a backslash */
	}
	return false;
}

/* Parse the body as JSON or as a form, by its Content-Type.  -1 for a body
 * that claims to be JSON but is not, or that holds a NUL in a string. */
static int parse_body(struct request_ctx *ctx)
{
	const char *ct = gg_http_header(&ctx->req, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct MHD_PostProcessor *pp;

	if (ctx->body.len == 0)
		return 0;
	if (content_type_is(ct, "application/json")) {
		if (json_escapes_nul(ctx->body.data, ctx->body.len))
			return -1;
		ctx->req.json = cJSON_ParseWithLength(ctx->body.data, ctx->body.len);
		return ctx->req.json ? 0 : -1;
	}
	if (content_type_is(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED) ||
	    content_type_is(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA)) {
		pp = MHD_create_post_processor(ctx->conn, 4096, on_form_field, ctx);
		if (!pp)
			return 0;
		MHD_post_process(pp, ctx->body.data, ctx->body.len);
		MHD_destroy_post_processor(pp);
		if (ctx->nul_in_form)
			return -1;
	}
	return 0;
}

static bool body_is_form(const struct gg_http_request *req)
{
	const char *ct = gg_http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);

	return content_type_is(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED) ||
	       content_type_is(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA);
}

static bool decide_wants_html(const struct gg_http_request *req)
{
	const char *accept;

	if (strncmp(req->path, "/api/", 5) == 0)
		return false;
	accept = gg_http_header(req, MHD_HTTP_HEADER_ACCEPT);
	return (accept && strstr(accept, "text/html")) || body_is_form(req);
}

/* v as 16 lower-case hex digits (no NUL). */
static void hex64(char *out, uint64_t v)
{
	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = "0123456789abcdef"[v & 15];
}

/* A client's X-Request-Id is kept when it is short and plain; otherwise we
 * make one (not a secret: a per-thread counter behind a random prefix). */
static void choose_correlation_id(struct gg_http_request *req)
{
	static _Thread_local uint64_t prefix, counter;
	const char *given = gg_http_header(req, "X-Request-Id");
	size_t n;

	if (given) {
		n = strlen(given);
		if (n > 0 && n < sizeof(req->correlation_id) &&
		    strspn(given,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:") ==
			n) {
			memcpy(req->correlation_id, given, n + 1);
			return;
		}
	}
	if (prefix == 0 && gg_random_bytes(&prefix, sizeof(prefix)) < 0)
		prefix = (uint64_t)(uintptr_t)&prefix ^ (uint64_t)gg_now();
	/* "%016llx%016llx", without printf on every request */
	hex64(req->correlation_id, prefix);
	hex64(req->correlation_id + 16, ++counter);
	req->correlation_id[32] = '\0';
}

/* The token of a PRIVATE-TOKEN or "Authorization: Bearer" header, or NULL. */
static const char *api_token(const struct gg_http_request *req)
{
	const char *t = gg_http_header(req, "PRIVATE-TOKEN");
	const char *auth;

	if (t && *t)
		return t;
	auth = gg_http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		for (t = auth + 7; *t == ' '; t++)
			;
		if (*t)
			return t;
	}
	return NULL;
}

static void adopt_user(struct request_ctx *ctx)
{
	struct caller *c = ctx->caller;

	if (gg_store_user_get(ctx->req.store, c->token.user_id, &c->user) != GG_OK)
		return;
	if (c->user.blocked)
		return; /* a blocked user is nobody */
	ctx->req.user = &c->user;
	ctx->req.token = &c->token;
}

/* The token named by a header or a cookie, looked up; false when unknown. */
static bool find_token(struct request_ctx *ctx, const char *secret)
{
	if (!ctx->caller) {
		ctx->caller = calloc(1, sizeof(*ctx->caller));
		if (!ctx->caller)
			return false;
	}
	return gg_store_token_find(ctx->req.store, secret, &ctx->caller->token) == GG_OK;
}

/* Who is calling.  -1 when an API token was given but is not valid (GitLab
 * answers 401 then, rather than carrying on anonymously). */
static int resolve_caller(struct request_ctx *ctx)
{
	struct gg_http_request *req = &ctx->req;
	const char *token = api_token(req);
	const char *cookie;

	if (token) {
		if (!find_token(ctx, token) || ctx->caller->token.kind == GG_TOKEN_SESSION)
			return -1;
		adopt_user(ctx);
		return 0;
	}
	cookie = gg_http_cookie(req, GG_SESSION_COOKIE);
	if (!cookie || !*cookie || strlen(cookie) >= sizeof(req->session_token))
		return 0;
	snprintf(req->session_token, sizeof(req->session_token), "%s", cookie);
	if (!find_token(ctx, cookie) || ctx->caller->token.kind != GG_TOKEN_SESSION)
		return 0;
	adopt_user(ctx);
	req->user_via_session = req->user != NULL;
	return 0;
}

/* ---- sending ---- */

static enum MHD_Result send_response(struct request_ctx *ctx, struct gg_http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *body;

	if (res->status < 100 || res->status > 599) {
		gg_error("%s %s: handler gave no answer", ctx->req.method, ctx->req.path);
		response_clear(res);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
	}
	len = res->body.len;
	body = gg_buf_detach(&res->body);
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				res->content_type ? res->content_type : "application/json");
	MHD_add_response_header(r, "X-Request-Id", ctx->req.correlation_id);
	for (size_t i = 0; i < res->n_headers; i++)
		if (MHD_add_response_header(r, res->headers[i].name, res->headers[i].value) !=
		    MHD_YES)
			gg_warn("header %s refused", res->headers[i].name);
	ret = MHD_queue_response(ctx->conn, (unsigned)res->status, r);
	MHD_destroy_response(r);
	gg_metrics_request(ctx->req.path, res->status);
	if (res->status >= 500)
		gg_warn("%s %s -> %d", ctx->req.method, ctx->req.path, res->status);
	else
		gg_debug("%s %s -> %d", ctx->req.method, ctx->req.path, res->status);
	response_clear(res);
	return ret;
}

static enum MHD_Result send_message(struct request_ctx *ctx, int status, const char *message)
{
	struct gg_http_response res = {0};

	gg_http_message(&res, status, message);
	return send_response(ctx, &res);
}

static void handle(struct request_ctx *ctx, struct gg_http_response *res)
{
	struct gg_http_request *req = &ctx->req;

	req->body = ctx->body.data ? ctx->body.data : "";
	req->body_len = ctx->body.len;
	req->wants_html = decide_wants_html(req);
	/* A NUL in the path or the query would cut what the handlers read. */
	if (strstr(req->raw_url, "%00") || parse_body(ctx) < 0) {
		gg_http_message(res, 400, GG_MSG_BAD_REQUEST);
		return;
	}
	req->store = gg_app_thread_store(req->app);
	if (!req->store) {
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	if (resolve_caller(ctx) < 0) {
		gg_http_message(res, 401, GG_MSG_UNAUTHORIZED);
		return;
	}
	if (!gg_readonly_check(req, res))
		return;
	gg_router_dispatch(req, res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct gg_app *app = cls;
	struct request_ctx *ctx = *con_cls;
	struct gg_http_response res = {0};
	enum MHD_Result ret;

	if (!ctx)
		return MHD_NO; /* the URI log callback could not allocate */
	if (!ctx->started) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		ctx->started = true;
		ctx->conn = conn;
		ctx->req.conn = conn;
		ctx->req.app = app;
		ctx->req.cfg = app->cfg;
		ctx->req.method = method;
		ctx->req.path = url;
		ctx->req.raw_url = ctx->raw_url ? ctx->raw_url : url;
		choose_correlation_id(&ctx->req);
		/* Refuse a body announced as too large before reading any of it. */
		if (cl && strtoull(cl, NULL, 10) > GG_HTTP_BODY_MAX)
			return send_message(ctx, 413, GG_MSG_TOO_LARGE);
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* A chunked body gives no length up front: drop what goes over the
		 * limit and answer 413 at its end, but cut a client off that keeps
		 * sending far beyond it. */
		ctx->received += *upload_data_size;
		if (ctx->received > 4 * (uint64_t)GG_HTTP_BODY_MAX)
			return MHD_NO;
		if (!ctx->too_large && ctx->body.len + *upload_data_size > GG_HTTP_BODY_MAX) {
			ctx->too_large = true;
			gg_buf_clear(&ctx->body);
		}
		if (!ctx->too_large && gg_buf_add(&ctx->body, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	gg_log_set_correlation_id(ctx->req.correlation_id);
	if (ctx->too_large) {
		ret = send_message(ctx, 413, GG_MSG_TOO_LARGE);
	} else {
		handle(ctx, &res);
		ret = send_response(ctx, &res);
	}
	gg_log_set_correlation_id(NULL);
	return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->raw_url = strdup(uri);
	if (!ctx->raw_url) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	ctx_free(*con_cls);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	gg_warn("libmicrohttpd: %s", msg);
}

struct MHD_Daemon *gg_http_daemon_start(struct gg_app *app, int listen_fd, unsigned threads)
{
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG;

	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, app, MHD_OPTION_EXTERNAL_LOGGER,
				on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GG_HTTP_CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
}
