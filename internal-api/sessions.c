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
#include <ctype.h>
#include <pthread.h>
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

/* ---- password guessing: failures counted per login and per client address ----
 *
 * After GG_SIGNIN_MAX_FAILURES failed passwords for one login, or
 * GG_SIGNIN_MAX_FAILURES_IP from one address, within GG_SIGNIN_WINDOW seconds,
 * both password routes answer 429 GG_MSG_TOO_MANY_SIGN_INS (right password
 * or not) until the window has passed.  A successful sign-in clears its
 * login's count.
 *
 * The counts are in the store (gg_store_signin_*), so every gate-api node on
 * one database shares them: an attacker spreading guesses over N nodes gets
 * the same number of tries as against one.  Where the store cannot take them
 * (a Geo secondary's read-only hot standby, or a store error) the failure is
 * counted in this process's memory instead, and a login is refused when
 * either count is used up.  The memory table is small and fixed: when full,
 * the oldest entry makes room. */
#define GG_SIGNIN_MAX_FAILURES	  10
#define GG_SIGNIN_MAX_FAILURES_IP 100
#define GG_SIGNIN_WINDOW	  600
#define GUESS_SLOTS		  1024

struct guess_slot {
	char key[72]; /* "u:<login, lowercased>" or "i:<address>"; "" when free */
	int failures;
	int64_t since;
};

static struct guess_slot guess_table[GUESS_SLOTS];
static pthread_mutex_t guess_lock = PTHREAD_MUTEX_INITIALIZER;

static void guess_key(char out[72], char kind, const char *what)
{
	size_t i = 0;

	out[0] = kind;
	out[1] = ':';
	for (; what && what[i] && i < 69; i++)
		out[i + 2] = (char)tolower((unsigned char)what[i]);
	out[i + 2] = '\0';
}

/* The live slot of key (NULL when none); with make, a fresh one when needed. */
static struct guess_slot *guess_find(const char *key, int64_t now, bool make)
{
	struct guess_slot *oldest = &guess_table[0];

	for (size_t i = 0; i < GUESS_SLOTS; i++) {
		struct guess_slot *s = &guess_table[i];

		if (s->key[0] && now - s->since >= GG_SIGNIN_WINDOW)
			s->key[0] = '\0';
		if (s->key[0] && strcmp(s->key, key) == 0)
			return s;
		if (!s->key[0] || (oldest->key[0] && s->since < oldest->since))
			oldest = s;
	}
	if (!make)
		return NULL;
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->failures = 0;
	oldest->since = now;
	return oldest;
}

/* True when this login or address has used up its failures. */
static bool guesses_exhausted(const struct gg_http_request *req, const char *login)
{
	char ku[72], ki[72];
	struct guess_slot *s;
	int64_t now = gg_now();
	bool out = false;

	guess_key(ku, 'u', login);
	guess_key(ki, 'i', gg_http_client_ip(req));
	if (gg_store_signin_check(req->store, ku, ki, GG_SIGNIN_WINDOW, GG_SIGNIN_MAX_FAILURES,
				  GG_SIGNIN_MAX_FAILURES_IP, &out) != GG_OK)
		gg_warn("cannot read the failed sign-ins: %s", gg_store_errmsg(req->store));
	if (out)
		return true;
	pthread_mutex_lock(&guess_lock);
	s = guess_find(ku, now, false);
	out |= s && s->failures >= GG_SIGNIN_MAX_FAILURES;
	s = guess_find(ki, now, false);
	out |= s && s->failures >= GG_SIGNIN_MAX_FAILURES_IP;
	pthread_mutex_unlock(&guess_lock);
	return out;
}

static void guess_failed(const struct gg_http_request *req, const char *login)
{
	char ku[72], ki[72];
	struct guess_slot *s;
	int64_t now = gg_now();
	int rc;

	guess_key(ku, 'u', login);
	guess_key(ki, 'i', gg_http_client_ip(req));
	rc = gg_store_signin_failed(req->store, ku, ki, GG_SIGNIN_WINDOW);
	if (rc == GG_OK)
		return;
	if (rc != GG_EREADONLY)
		gg_warn("cannot record a failed sign-in in the store, counted here only: %s",
			gg_store_errmsg(req->store));
	pthread_mutex_lock(&guess_lock);
	if ((s = guess_find(ku, now, true)))
		s->failures++;
	if ((s = guess_find(ki, now, true)))
		s->failures++;
	pthread_mutex_unlock(&guess_lock);
}

static void guess_succeeded(const struct gg_http_request *req, const char *login)
{
	char ku[72];
	struct guess_slot *s;
	int rc;

	guess_key(ku, 'u', login);
	rc = gg_store_signin_clear(req->store, ku);
	if (rc != GG_OK && rc != GG_EREADONLY)
		gg_warn("cannot clear the failed sign-ins of %s: %s", login,
			gg_store_errmsg(req->store));
	pthread_mutex_lock(&guess_lock);
	if ((s = guess_find(ku, gg_now(), false)))
		s->key[0] = '\0';
	pthread_mutex_unlock(&guess_lock);
}

static void too_many_guesses(struct gg_http_request *req, struct gg_http_response *res,
			     const char *login)
{
	char retry[16];

	gg_warn("sign-in for %s from %s refused: too many failed attempts", login,
		gg_http_client_ip(req));
	gg_http_message(res, 429, GG_MSG_TOO_MANY_SIGN_INS);
	snprintf(retry, sizeof(retry), "%d", GG_SIGNIN_WINDOW);
	gg_http_add_header(res, "Retry-After", retry);
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
	if (guesses_exhausted(req, login)) {
		too_many_guesses(req, res, login);
		return;
	}
	rc = gg_store_user_authenticate(req->store, login, password, &u);
	if (rc == GG_EDENIED || rc == GG_ENOTFOUND) {
		gg_info("sign-in failed for %s from %s", login, gg_http_client_ip(req));
		guess_failed(req, login);
		sign_in_failed(req, res, GG_MSG_INVALID_CREDENTIALS);
		return;
	}
	if (rc == GG_OK)
		guess_succeeded(req, login);
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
	if (guesses_exhausted(req, username)) {
		too_many_guesses(req, res, username);
		return;
	}
	rc = gg_store_user_authenticate(req->store, username, password, &u);
	if (rc == GG_OK)
		guess_succeeded(req, username);
	if (rc == GG_OK && u.blocked)
		rc = GG_EDENIED;
	if (rc == GG_EDENIED || rc == GG_ENOTFOUND) {
		gg_info("OAuth password grant refused for %s from %s", username,
			gg_http_client_ip(req));
		guess_failed(req, username);
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
