/*
 * api_client.c - see api_client.h.
 *
 * One request is: a fresh JWT, libcurl on the client's reused easy handle
 * (reset before each request so no option leaks from the previous one, which
 * keeps the connection cache), the body collected up to GG_API_MAX_BODY, then
 * cJSON.  Whatever arrives is read only through the typed getters below,
 * never assumed to have a shape.
 */
#include "api_client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_jwt.h"
#include "log.h"
#include "util.h"

#define API_PREFIX	  "/api/v4/internal"
#define DEFAULT_TIMEOUT_S 10

struct gg_api_client {
	CURL *curl;
	char *base_url; /* without a trailing '/' */
	char *secret;
	long timeout_ms;
	char request_id[65];
	char curl_error[CURL_ERROR_SIZE];
	char error[256];
};

/* What one request brought back. */
struct response {
	long status;
	cJSON *json; /* NULL when the body is not JSON */
};

static void set_error(struct gg_api_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct gg_api_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

const char *gg_api_strerror(int code)
{
	switch (code) {
	case GG_API_OK:
		return "ok";
	case GG_API_ENOTFOUND:
		return "not found";
	case GG_API_EUNREACHABLE:
		return "internal API unreachable";
	case GG_API_EINVAL:
		return "invalid argument";
	case GG_API_ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}

int gg_api_client_new(struct gg_api_client **out, const char *base_url, const char *secret,
		      int timeout_s)
{
	struct gg_api_client *c = NULL;
	char *id = NULL;
	size_t n;
	int rc = GG_API_ENOMEM;

	*out = NULL;
	if (base_url == NULL || secret == NULL || base_url[0] == '\0')
		return GG_API_EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return GG_API_ENOMEM;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto done;
	c->base_url = strdup(base_url);
	c->secret = strdup(secret);
	c->curl = curl_easy_init();
	id = gg_random_hex(8);
	if (c->base_url == NULL || c->secret == NULL || c->curl == NULL || id == NULL)
		goto done;
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	c->timeout_ms = 1000L * (timeout_s > 0 ? timeout_s : DEFAULT_TIMEOUT_S);
	snprintf(c->request_id, sizeof(c->request_id), "%s", id);
	*out = c;
	c = NULL;
	rc = GG_API_OK;
done:
	free(id);
	gg_api_client_free(c);
	return rc;
}

int gg_api_client_from_config(struct gg_api_client **out, const struct gg_config *cfg, char *err,
			      size_t errlen)
{
	char *secret;
	int rc;

	*out = NULL;
	secret = gg_config_read_secret(cfg, err, errlen);
	if (secret == NULL)
		return GG_API_EINVAL;
	rc = gg_api_client_new(out, cfg->api_url, secret, cfg->api_timeout);
	if (rc != GG_API_OK)
		snprintf(err, errlen, "API client for %s: %s",
			 cfg->api_url ? cfg->api_url : "(none)", gg_api_strerror(rc));
	free(secret);
	return rc;
}

void gg_api_client_free(struct gg_api_client *c)
{
	if (c == NULL)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base_url);
	free(c->secret);
	free(c);
}

void gg_api_client_set_request_id(struct gg_api_client *c, const char *id)
{
	/* Only characters that are safe in a header line are kept. */
	size_t j = 0;

	for (size_t i = 0; id && id[i] && j + 1 < sizeof(c->request_id); i++) {
		char ch = id[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == ':')
			c->request_id[j++] = ch;
	}
	c->request_id[j] = '\0';
}

const char *gg_api_client_request_id(const struct gg_api_client *c)
{
	return c->request_id;
}

const char *gg_api_client_error(const struct gg_api_client *c)
{
	return c->error;
}

/* --- the transport ------------------------------------------------------------------- */

struct body {
	struct gg_buf buf;
	bool too_large;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;

	if (b->buf.len + n > GG_API_MAX_BODY) {
		b->too_large = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (gg_buf_add(&b->buf, data, n) != 0)
		return 0;
	return n;
}

/*
 * method "GET" or "POST"; path starts with '/' below API_PREFIX; body is JSON
 * or NULL.  GG_API_OK with resp filled for 2xx and 4xx answers; anything else
 * is GG_API_EUNREACHABLE.  The caller frees resp->json with cJSON_Delete.
 */
static int request(struct gg_api_client *c, const char *method, const char *path, const char *body,
		   struct response *resp)
{
	struct curl_slist *headers = NULL, *h;
	struct body got = {GG_BUF_INIT, false};
	char *url = NULL, *token = NULL, *line = NULL;
	CURLcode cc;
	int rc = GG_API_ENOMEM;

	resp->status = 0;
	resp->json = NULL;
	c->error[0] = '\0';
	c->curl_error[0] = '\0';

	url = gg_strdup_printf("%s%s%s", c->base_url, API_PREFIX, path);
	if (url == NULL || gg_jwt_sign_shell(c->secret, &token) != GG_JWT_OK)
		goto done;

	line = gg_strdup_printf("%s: %s", GG_JWT_HEADER, token);
	if (line == NULL || (h = curl_slist_append(headers, line)) == NULL)
		goto done;
	headers = h;
	free(line);
	line = gg_strdup_printf("X-Request-Id: %s", c->request_id);
	if (line == NULL || (h = curl_slist_append(headers, line)) == NULL)
		goto done;
	headers = h;
	if ((h = curl_slist_append(headers, "Accept: application/json")) == NULL)
		goto done;
	headers = h;
	if (body) {
		if ((h = curl_slist_append(headers, "Content-Type: application/json")) == NULL)
			goto done;
		headers = h;
	}

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "gitgate/" GG_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_error);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &got);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	} else {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	}

	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		set_error(c, "%s %s: %s", method, path,
			  got.too_large	     ? "response body too large"
			  : c->curl_error[0] ? c->curl_error
					     : curl_easy_strerror(cc));
		rc = GG_API_EUNREACHABLE;
		goto done;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->status < 200 || (resp->status >= 300 && resp->status < 400) ||
	    resp->status >= 500) {
		set_error(c, "%s %s: HTTP status %ld", method, path, resp->status);
		rc = GG_API_EUNREACHABLE;
		goto done;
	}
	if (got.buf.len > 0)
		resp->json = cJSON_ParseWithLength(got.buf.data, got.buf.len);
	gg_debug("%s %s -> %ld (%zu bytes)", method, path, resp->status, got.buf.len);
	rc = GG_API_OK;
done:
	if (rc == GG_API_ENOMEM)
		set_error(c, "%s %s: out of memory", method, path);
	curl_slist_free_all(headers);
	gg_buf_clear(&got.buf);
	free(line);
	free(token);
	free(url);
	return rc;
}

/* A 2xx/4xx answer whose body is not what was expected. */
static int garbage(struct gg_api_client *c, const char *path, const struct response *resp)
{
	set_error(c, "%s: unexpected answer (HTTP %ld)", path, resp->status);
	return GG_API_EUNREACHABLE;
}

/* --- reading JSON --------------------------------------------------------------------- */

/* True for numbers JSON can carry exactly as integers (|d| < 2^53). */
static bool is_integral(double d)
{
	return d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(int64_t)d;
}

/*
 * A copy of obj[name] when it is a string, or the decimal form of an integral
 * number (gate-api may send ids either way); NULL when absent or of another
 * type.  *nomem is set when a copy could not be made.
 */
static char *json_dup(const cJSON *obj, const char *name, bool *nomem)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *s = NULL;

	if (cJSON_IsString(v) && v->valuestring != NULL)
		s = strdup(v->valuestring);
	else if (cJSON_IsNumber(v) && is_integral(v->valuedouble))
		s = gg_strdup_printf("%" PRId64, (int64_t)v->valuedouble);
	else
		return NULL;
	if (s == NULL)
		*nomem = true;
	return s;
}

/* obj[name] as a positive integer (number or decimal string); 0 when not one. */
static int64_t json_id(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsNumber(v) && v->valuedouble >= 1 && is_integral(v->valuedouble))
		return (int64_t)v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring) {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(v->valuestring, &end, 10);
		if (errno == 0 && end != v->valuestring && *end == '\0' && n > 0)
			return n;
	}
	return 0;
}

static bool json_true(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* Adds name: value to obj unless value is NULL; false when out of memory. */
static bool add_string(cJSON *obj, const char *name, const char *value)
{
	return value == NULL || cJSON_AddStringToObject(obj, name, value) != NULL;
}

/* --- /allowed ------------------------------------------------------------------------ */

void gg_api_allowed_clear(struct gg_api_allowed *a)
{
	free(a->message);
	free(a->gl_repository);
	free(a->gl_project_path);
	free(a->gl_id);
	free(a->gl_username);
	free(a->gl_key_type);
	free(a->gl_key_id);
	free(a->git_protocol);
	free(a->storage_name);
	free(a->relative_path);
	for (size_t i = 0; i < a->n_console_messages; i++)
		free(a->console_messages[i]);
	free(a->console_messages);
	memset(a, 0, sizeof(*a));
}

/* gl_console_messages: on an answer that allows, and on a refusal that has
 * more to say under its message (the custom maintenance message, SPEC §7). */
static int read_console_messages(const cJSON *j, struct gg_api_allowed *out)
{
	const cJSON *msgs, *m;
	bool nomem = false;
	size_t n = 0;

	msgs = cJSON_GetObjectItemCaseSensitive(j, "gl_console_messages");
	if (cJSON_IsArray(msgs) && cJSON_GetArraySize(msgs) > 0) {
		out->console_messages = calloc((size_t)cJSON_GetArraySize(msgs), sizeof(char *));
		if (out->console_messages == NULL)
			return GG_API_ENOMEM;
		cJSON_ArrayForEach(m, msgs)
		{
			if (!cJSON_IsString(m) || m->valuestring == NULL)
				continue;
			out->console_messages[n] = strdup(m->valuestring);
			if (out->console_messages[n] == NULL)
				nomem = true;
			else
				n++;
		}
		out->n_console_messages = n;
	}
	return nomem ? GG_API_ENOMEM : GG_API_OK;
}

static int read_allowed(const cJSON *j, struct gg_api_allowed *out)
{
	const cJSON *repo;
	bool nomem = false;

	out->gl_repository = json_dup(j, "gl_repository", &nomem);
	out->gl_project_path = json_dup(j, "gl_project_path", &nomem);
	out->gl_id = json_dup(j, "gl_id", &nomem);
	out->gl_username = json_dup(j, "gl_username", &nomem);
	out->gl_key_type = json_dup(j, "gl_key_type", &nomem);
	out->gl_key_id = json_dup(j, "gl_key_id", &nomem);
	out->git_protocol = json_dup(j, "git_protocol", &nomem);
	repo = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "gitaly"),
						"repository");
	if (cJSON_IsObject(repo)) {
		out->storage_name = json_dup(repo, "storage_name", &nomem);
		out->relative_path = json_dup(repo, "relative_path", &nomem);
	}
	if (nomem)
		return GG_API_ENOMEM;
	return read_console_messages(j, out);
}

int gg_api_allowed(struct gg_api_client *c, const struct gg_api_allowed_request *req,
		   struct gg_api_allowed *out)
{
	struct response resp = {0, NULL};
	cJSON *body = NULL;
	char *text = NULL;
	bool nomem = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req->action == NULL || req->project == NULL ||
	    (req->key_id != NULL) + (req->user_id != NULL) + (req->username != NULL) > 1)
		return GG_API_EINVAL;
	rc = GG_API_ENOMEM;
	body = cJSON_CreateObject();
	if (body == NULL || !add_string(body, "action", req->action) ||
	    !add_string(body, "project", req->project) ||
	    !add_string(body, "key_id", req->key_id) ||
	    !add_string(body, "user_id", req->user_id) ||
	    !add_string(body, "username", req->username) ||
	    !add_string(body, "protocol", req->protocol ? req->protocol : "ssh") ||
	    !add_string(body, "changes", req->changes ? req->changes : "_any") ||
	    !add_string(body, "check_ip", req->check_ip) ||
	    !add_string(body, "git_protocol", req->git_protocol))
		goto done;
	text = cJSON_PrintUnformatted(body);
	if (text == NULL)
		goto done;

	rc = request(c, "POST", "/allowed", text, &resp);
	if (rc != GG_API_OK)
		goto done;
	out->http_status = resp.status;
	if (!cJSON_IsObject(resp.json)) {
		rc = garbage(c, "/allowed", &resp);
		goto done;
	}
	out->message = json_dup(resp.json, "message", &nomem);
	if (resp.status == 200 && json_true(resp.json, "status")) {
		out->allowed = true;
		rc = read_allowed(resp.json, out);
	} else if (out->message == NULL) {
		/* A refusal must say why; one that does not is not gate-api's. */
		rc = nomem ? GG_API_ENOMEM : garbage(c, "/allowed", &resp);
	} else {
		rc = read_console_messages(resp.json, out);
	}
	gg_debug("allowed %s %s: %s (HTTP %ld)", req->action, req->project,
		 out->allowed ? "yes" : "no", resp.status);
done:
	if (rc != GG_API_OK)
		out->allowed = false;
	cJSON_Delete(resp.json);
	cJSON_Delete(body);
	cJSON_free(text);
	return rc;
}

/* --- /authorized_keys and /discover ---------------------------------------------------- */

int gg_api_authorized_key(struct gg_api_client *c, const char *base64_blob, int64_t *key_id_out)
{
	struct response resp = {0, NULL};
	char *escaped = NULL, *path = NULL;
	int rc = GG_API_ENOMEM;

	*key_id_out = 0;
	if (base64_blob == NULL || base64_blob[0] == '\0')
		return GG_API_EINVAL;
	escaped = curl_easy_escape(c->curl, base64_blob, 0);
	if (escaped == NULL)
		goto done;
	path = gg_strdup_printf("/authorized_keys?key=%s", escaped);
	if (path == NULL)
		goto done;
	rc = request(c, "GET", path, NULL, &resp);
	if (rc != GG_API_OK)
		goto done;
	if (resp.status == 404) {
		rc = GG_API_ENOTFOUND;
	} else if (resp.status == 200 && (*key_id_out = json_id(resp.json, "id")) > 0) {
		rc = GG_API_OK;
	} else {
		*key_id_out = 0;
		rc = garbage(c, "/authorized_keys", &resp);
	}
done:
	cJSON_Delete(resp.json);
	curl_free(escaped);
	free(path);
	return rc;
}

void gg_api_user_clear(struct gg_api_user *u)
{
	free(u->name);
	free(u->username);
	memset(u, 0, sizeof(*u));
}

int gg_api_discover(struct gg_api_client *c, int64_t key_id, const char *username,
		    struct gg_api_user *out)
{
	struct response resp = {0, NULL};
	char *escaped = NULL, *path = NULL;
	bool nomem = false;
	int rc = GG_API_ENOMEM;

	memset(out, 0, sizeof(*out));
	if ((key_id > 0) == (username != NULL))
		return GG_API_EINVAL;
	if (username) {
		escaped = curl_easy_escape(c->curl, username, 0);
		if (escaped == NULL)
			goto done;
		path = gg_strdup_printf("/discover?username=%s", escaped);
	} else {
		path = gg_strdup_printf("/discover?key_id=%" PRId64, key_id);
	}
	if (path == NULL)
		goto done;
	rc = request(c, "GET", path, NULL, &resp);
	if (rc != GG_API_OK)
		goto done;
	/* GitLab answers an unknown key with 200 and a JSON null. */
	if (resp.status == 404 || (resp.status == 200 && cJSON_IsNull(resp.json))) {
		rc = GG_API_ENOTFOUND;
		goto done;
	}
	if (resp.status != 200 || !cJSON_IsObject(resp.json)) {
		rc = garbage(c, "/discover", &resp);
		goto done;
	}
	out->id = json_id(resp.json, "id");
	out->name = json_dup(resp.json, "name", &nomem);
	out->username = json_dup(resp.json, "username", &nomem);
	if (nomem)
		rc = GG_API_ENOMEM;
	else if (out->username == NULL)
		rc = garbage(c, "/discover", &resp);
done:
	if (rc != GG_API_OK)
		gg_api_user_clear(out);
	cJSON_Delete(resp.json);
	curl_free(escaped);
	free(path);
	return rc;
}

/* --- /check ---------------------------------------------------------------------------- */

void gg_api_check_clear(struct gg_api_check_result *r)
{
	free(r->api_version);
	free(r->version);
	free(r->revision);
	free(r->database);
	memset(r, 0, sizeof(*r));
}

int gg_api_check(struct gg_api_client *c, struct gg_api_check_result *out)
{
	struct response resp = {0, NULL};
	bool nomem = false;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = request(c, "GET", "/check", NULL, &resp);
	if (rc != GG_API_OK)
		goto done;
	if (resp.status != 200 || !cJSON_IsObject(resp.json)) {
		rc = garbage(c, "/check", &resp);
		goto done;
	}
	out->api_version = json_dup(resp.json, "api_version", &nomem);
	out->version = json_dup(resp.json, "version", &nomem);
	out->revision = json_dup(resp.json, "revision", &nomem);
	out->database = json_dup(resp.json, "database", &nomem);
	if (nomem)
		rc = GG_API_ENOMEM;
	else if (out->api_version == NULL)
		rc = garbage(c, "/check", &resp);
done:
	if (rc != GG_API_OK)
		gg_api_check_clear(out);
	cJSON_Delete(resp.json);
	return rc;
}

/* --- /pre_receive and /post_receive ----------------------------------------------------- */

int gg_api_pre_receive(struct gg_api_client *c, const char *gl_repository, const char *identifier)
{
	struct response resp = {0, NULL};
	cJSON *body = NULL;
	char *text = NULL;
	int rc = GG_API_ENOMEM;

	if (gl_repository == NULL)
		return GG_API_EINVAL;
	body = cJSON_CreateObject();
	if (body == NULL || !add_string(body, "gl_repository", gl_repository) ||
	    (identifier && !add_string(body, "identifier", identifier)))
		goto done;
	text = cJSON_PrintUnformatted(body);
	if (text == NULL)
		goto done;
	rc = request(c, "POST", "/pre_receive", text, &resp);
	if (rc != GG_API_OK)
		goto done;
	if (resp.status != 200 || !json_true(resp.json, "reference_counter_increased"))
		rc = garbage(c, "/pre_receive", &resp);
done:
	cJSON_Delete(resp.json);
	cJSON_Delete(body);
	cJSON_free(text);
	return rc;
}

void gg_api_post_receive_clear(struct gg_api_post_receive *p)
{
	for (size_t i = 0; p->messages && i < p->n_messages; i++) {
		free(p->messages[i].message);
		free(p->messages[i].type);
	}
	free(p->messages);
	memset(p, 0, sizeof(*p));
}

int gg_api_post_receive(struct gg_api_client *c, const char *gl_repository, const char *identifier,
			const char *changes, const char *const *push_options, size_t n_push_options,
			struct gg_api_post_receive *out)
{
	struct response resp = {0, NULL};
	cJSON *body = NULL, *opts, *msgs, *m;
	char *text = NULL;
	bool nomem = false;
	int rc = GG_API_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (gl_repository == NULL || identifier == NULL)
		return GG_API_EINVAL;
	body = cJSON_CreateObject();
	if (body == NULL || !add_string(body, "gl_repository", gl_repository) ||
	    !add_string(body, "identifier", identifier) ||
	    !add_string(body, "changes", changes ? changes : ""))
		goto done;
	opts = cJSON_AddArrayToObject(body, "push_options");
	if (opts == NULL)
		goto done;
	for (size_t i = 0; i < n_push_options; i++) {
		cJSON *s = cJSON_CreateString(push_options[i]);

		if (s == NULL || !cJSON_AddItemToArray(opts, s)) {
			cJSON_Delete(s);
			goto done;
		}
	}
	text = cJSON_PrintUnformatted(body);
	if (text == NULL)
		goto done;
	rc = request(c, "POST", "/post_receive", text, &resp);
	if (rc != GG_API_OK)
		goto done;
	if (resp.status != 200 || !cJSON_IsObject(resp.json)) {
		rc = garbage(c, "/post_receive", &resp);
		goto done;
	}
	out->reference_counter_decreased = json_true(resp.json, "reference_counter_decreased");
	msgs = cJSON_GetObjectItemCaseSensitive(resp.json, "messages");
	if (cJSON_IsArray(msgs) && cJSON_GetArraySize(msgs) > 0) {
		out->messages = calloc((size_t)cJSON_GetArraySize(msgs), sizeof(*out->messages));
		if (out->messages == NULL) {
			rc = GG_API_ENOMEM;
			goto done;
		}
		cJSON_ArrayForEach(m, msgs)
		{
			struct gg_api_message *dst = &out->messages[out->n_messages];

			dst->message = json_dup(m, "message", &nomem);
			if (dst->message == NULL)
				continue;
			dst->type = json_dup(m, "type", &nomem);
			if (dst->type == NULL)
				dst->type = strdup("basic");
			if (dst->type == NULL)
				nomem = true;
			out->n_messages++;
		}
	}
	if (nomem)
		rc = GG_API_ENOMEM;
done:
	if (rc != GG_API_OK)
		gg_api_post_receive_clear(out);
	cJSON_Delete(resp.json);
	cJSON_Delete(body);
	cJSON_free(text);
	return rc;
}
