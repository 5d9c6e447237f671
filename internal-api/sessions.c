/*
 * sessions.c - signing in and out: POST /users/sign_in, POST /users/sign_out
 * and the OAuth password grant POST /oauth/token.
 *
 * These routes keep working in maintenance mode (they are on the read-only
 * allowlist, SPEC §4), although each one writes a row to the tokens table:
 * people must be able to sign in to a read-only instance, and an
 * administrator must be able to sign in to switch maintenance off again.
 * GitLab makes the same exception.
 *
 * A web session is a GG_TOKEN_SESSION token whose secret is the cookie
 * GG_SESSION_COOKIE (HttpOnly, SameSite=Lax, so other sites can neither read
 * it nor make a browser send it with a cross-site POST).  Signing in revokes
 * the session the browser came with, so a session id planted before sign-in
 * is worth nothing after it.  Wrong password, unknown login and blocked
 * account all fail the same way for the OAuth grant; the web form tells a
 * blocked user why, but only after the right password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "messages.h"
#include "rest.h"
#include "route.h"

/* A parameter from the form (user[login]) or JSON ({"user":{"login":...}} or
 * a top-level "login"), whichever is there. */
static const char *credential(const struct gg_http_request *req, const char *name)
{
	char form_name[32];
	const cJSON *user, *item;
	const char *v;

	snprintf(form_name, sizeof(form_name), "user[%s]", name);
	v = gg_http_param(req, form_name);
	if (v)
		return v;
	user =
	    cJSON_IsObject(req->json) ? cJSON_GetObjectItemCaseSensitive(req->json, "user") : NULL;
	item = cJSON_IsObject(user) ? cJSON_GetObjectItemCaseSensitive(user, name) : NULL;
	if (item && cJSON_IsString(item))
		return item->valuestring;
	return gg_http_param(req, name);
}

static bool secure_cookies(const struct gg_http_request *req)
{
	return req->cfg && req->cfg->api_url && strncasecmp(req->cfg->api_url, "https:", 6) == 0;
}

static void set_session_cookie(struct gg_http_request *req, struct gg_http_response *res,
			       const char *secret, long max_age)
{
	char *cookie = gg_strdup_printf("%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
					GG_SESSION_COOKIE, secret, max_age,
					secure_cookies(req) ? "; Secure" : "");

	if (cookie)
		gg_http_add_header(res, "Set-Cookie", cookie);
	free(cookie);
}

/* Revoke the session token whose secret is the request's cookie, if any. */
static void end_current_session(struct gg_http_request *req)
{
	struct gg_token t;

	if (!req->session_token[0])
		return;
	if (gg_store_token_find(req->store, req->session_token, &t) == GG_OK &&
	    t.kind == GG_TOKEN_SESSION && gg_store_token_revoke(req->store, t.id) != GG_OK)
		gg_error("cannot revoke session %lld: %s", (long long)t.id,
			 gg_store_errmsg(req->store));
}

static void sign_in_failed(struct gg_http_request *req, struct gg_http_response *res,
			   const char *message)
{
	if (req->wants_html)
		gg_http_redirect(res, "/users/sign_in", message);
	else
		gg_http_message(res, 401, message);
}

static void sign_in(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *login = credential(req, "login");
	const char *password = credential(req, "password");
	struct gg_token t = {0};
	struct gg_user u;
	char *secret = NULL;
	int rc;

	if (!login)
		login = credential(req, "username");
	if (!login || !password || !*login || !*password) {
		sign_in_failed(req, res, GG_MSG_INVALID_CREDENTIALS);
		return;
	}
	rc = gg_store_user_authenticate(req->store, login, password, &u);
	if (rc == GG_EDENIED || rc == GG_ENOTFOUND) {
		gg_info("sign-in failed for %s from %s", login, gg_http_client_ip(req));
		sign_in_failed(req, res, GG_MSG_INVALID_CREDENTIALS);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	if (u.blocked) {
		gg_info("blocked user %s tried to sign in", u.username);
		sign_in_failed(req, res, GG_MSG_ACCOUNT_BLOCKED);
		return;
	}
	end_current_session(req);
	t.user_id = u.id;
	t.kind = GG_TOKEN_SESSION;
	snprintf(t.name, sizeof(t.name), "web session");
	t.expires_at = gg_now() + req->cfg->session_lifetime;
	rc = gg_store_token_create(req->store, &t, &secret);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	gg_info("%s signed in from %s", u.username, gg_http_client_ip(req));
	if (req->wants_html)
		gg_http_redirect(res, "/", GG_MSG_SIGNED_IN);
	else
		gg_http_message(res, 200, GG_MSG_SIGNED_IN);
	set_session_cookie(req, res, secret, (long)req->cfg->session_lifetime);
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static void sign_out(struct gg_http_request *req, struct gg_http_response *res)
{
	end_current_session(req);
	if (req->wants_html)
		gg_http_redirect(res, "/users/sign_in", GG_MSG_SIGNED_OUT);
	else
		gg_http_message(res, 200, GG_MSG_SIGNED_OUT);
	set_session_cookie(req, res, "", 0);
}

/* ---- OAuth 2 (RFC 6749 §4.3, as GitLab's Doorkeeper answers it) ---- */

static void oauth_error(struct gg_http_response *res, int status, const char *error,
			const char *description)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "error", error);
		cJSON_AddStringToObject(o, "error_description", description);
	}
	gg_http_json(res, status, o);
	gg_http_add_header(res, "Cache-Control", "no-store");
	gg_http_add_header(res, "Pragma", "no-cache");
}

static const char *const oauth_scopes[] = {
    "api", "read_api", "read_user", "read_repository", "write_repository", NULL};

/* "read_user api" -> "read_user,api"; false for an unknown scope. */
static bool oauth_scope_list(const char *requested, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	while (*requested) {
		size_t n = strcspn(requested, " +");
		bool known = false;

		for (size_t i = 0; n && oauth_scopes[i]; i++)
			known |= strlen(oauth_scopes[i]) == n &&
				 strncmp(oauth_scopes[i], requested, n) == 0;
		if (n && (!known || used + n + 2 > len))
			return false;
		if (n)
			used += (size_t)snprintf(out + used, len - used, "%s%.*s", used ? "," : "",
						 (int)n, requested);
		requested += n;
		requested += strspn(requested, " +");
	}
	return out[0] != '\0';
}

static void oauth_token(struct gg_http_request *req, struct gg_http_response *res)
{
	const char *grant = gg_rest_param(req, "grant_type");
	const char *username = gg_rest_param(req, "username");
	const char *password = gg_rest_param(req, "password");
	const char *scope = gg_rest_param(req, "scope");
	struct gg_token t = {0};
	struct gg_user u;
	char *secret = NULL;
	char description[128];
	cJSON *o;
	int rc;

	if (!grant) {
		snprintf(description, sizeof(description), GG_MSG_OAUTH_MISSING_PARAM_FMT,
			 "grant_type");
		oauth_error(res, 400, "invalid_request", description);
		return;
	}
	if (strcmp(grant, "password") != 0) {
		oauth_error(res, 400, "unsupported_grant_type", GG_MSG_OAUTH_UNSUPPORTED_GRANT);
		return;
	}
	if (!username || !password) {
		snprintf(description, sizeof(description), GG_MSG_OAUTH_MISSING_PARAM_FMT,
			 !username ? "username" : "password");
		oauth_error(res, 400, "invalid_request", description);
		return;
	}
	if (!oauth_scope_list(scope ? scope : "api", t.scopes, sizeof(t.scopes))) {
		oauth_error(res, 400, "invalid_scope",
			    "The requested scope is invalid, unknown, or malformed.");
		return;
	}
	rc = gg_store_user_authenticate(req->store, username, password, &u);
	if (rc == GG_OK && u.blocked)
		rc = GG_EDENIED;
	if (rc == GG_EDENIED || rc == GG_ENOTFOUND) {
		gg_info("OAuth password grant refused for %s from %s", username,
			gg_http_client_ip(req));
		oauth_error(res, 400, "invalid_grant", GG_MSG_OAUTH_INVALID_GRANT);
		return;
	}
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	t.user_id = u.id;
	t.kind = GG_TOKEN_OAUTH;
	snprintf(t.name, sizeof(t.name), "oauth");
	t.expires_at = gg_now() + req->cfg->token_lifetime;
	rc = gg_store_token_create(req->store, &t, &secret);
	if (rc != GG_OK) {
		gg_rest_store_error(req, res, rc);
		return;
	}
	o = cJSON_CreateObject();
	if (o) {
		char *p;

		cJSON_AddStringToObject(o, "access_token", secret);
		cJSON_AddStringToObject(o, "token_type", "Bearer");
		cJSON_AddNumberToObject(o, "expires_in", req->cfg->token_lifetime);
		/* OAuth lists scopes with spaces; the store keeps them with commas. */
		for (p = t.scopes; (p = strchr(p, ',')); p++)
			*p = ' ';
		cJSON_AddStringToObject(o, "scope", t.scopes);
		cJSON_AddNumberToObject(o, "created_at", (double)t.created_at);
	}
	gg_http_json(res, 200, o);
	gg_http_add_header(res, "Cache-Control", "no-store");
	gg_http_add_header(res, "Pragma", "no-cache");
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

const struct gg_route gg_session_routes[] = {
    {"POST", "/users/sign_in", sign_in},
    {"POST", "/users/sign_out", sign_out},
    {"POST", "/oauth/token", oauth_token},
    {NULL, NULL, NULL},
};
