/*
 * web_layout.c - the page layout, HTML escaping, flash messages and CSRF
 * tokens of the web pages (web.h).
 *
 * The flash is a cookie set by gg_http_redirect(); the page that shows it
 * also expires it, so it is shown exactly once.  The CSS is embedded in every
 * page: there are few pages and no static file route to serve it from.
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "maintenance.h"
#include "messages.h"
#include "web.h"

int gg_html_text(struct gg_buf *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		const char *rep = NULL;
		size_t run = strcspn(p, "&<>\"'");

		if (run && gg_buf_add(out, p, run) < 0)
			return -1;
		p += run;
		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			return 0; /* the end of text */
		}
		if (gg_buf_puts(out, rep) < 0)
			return -1;
	}
	return 0;
}

void gg_web_csrf_token(const struct gg_http_request *req, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const char *secret = req->app ? req->app->secret : NULL;

	out[0] = '\0';
	if (!req->user_via_session || !req->session_token[0] || !secret)
		return;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
		  (const unsigned char *)req->session_token, strlen(req->session_token), mac,
		  &maclen) ||
	    maclen != 32)
		return;
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[64] = '\0';
}

bool gg_web_csrf_ok(const struct gg_http_request *req)
{
	char want[65];
	const char *given;

	if (req->user && !req->user_via_session)
		return true;
	gg_web_csrf_token(req, want);
	given = gg_http_param(req, GG_CSRF_FIELD);
	if (!given)
		given = gg_http_header(req, "X-CSRF-Token");
	return want[0] && given && strlen(given) == 64 && CRYPTO_memcmp(given, want, 64) == 0;
}

int gg_web_csrf_input(const struct gg_http_request *req, struct gg_buf *out)
{
	char token[65];

	gg_web_csrf_token(req, token);
	return gg_buf_printf(out, "<input type=\"hidden\" name=\"" GG_CSRF_FIELD "\" value=\"%s\">",
			     token);
}

static const char page_css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.5 -apple-system,'Segoe UI',Roboto,'Noto Sans',Ubuntu,"
    "sans-serif;color:#28272d;background:#fbfafd}"
    "a{color:#1f75cb;text-decoration:none}a:hover{text-decoration:underline}"
    ".top{display:flex;align-items:center;gap:24px;height:48px;padding:0 20px;"
    "background:#2f2a6b;color:#fff}"
    ".top a{color:#fff}.brand{font-weight:700;font-size:17px;letter-spacing:.3px}"
    ".top nav{display:flex;gap:18px;flex:1}.top form{margin:0}"
    ".top .who{display:flex;align-items:center;gap:12px;font-size:14px}"
    ".linkbtn{background:none;border:1px solid rgba(255,255,255,.5);color:#fff;"
    "border-radius:4px;padding:3px 10px;cursor:pointer;font:inherit;font-size:13px}"
    ".banner{background:#fdf1dd;border-bottom:1px solid #e9be74;color:#8a5700;"
    "padding:10px 20px;font-weight:600}"
    ".banner:before{content:'\\26A0';margin-right:8px}"
    ".flash{margin:16px auto 0;max-width:920px;padding:10px 16px;border-radius:4px;"
    "background:#ecf4ee;border:1px solid #91d4a8;color:#24663b}"
    "main{max-width:960px;margin:0 auto;padding:24px 20px 48px}"
    "h1{font-size:24px;margin:8px 0 20px}h2{font-size:18px;margin:0 0 4px}"
    ".muted{color:#737278}"
    ".card{background:#fff;border:1px solid #dcdcde;border-radius:6px;padding:20px;"
    "margin-bottom:20px}"
    "table{width:100%;border-collapse:collapse;background:#fff}"
    "th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #ececef}"
    "th{font-size:13px;color:#535158;background:#f5f5f7}"
    ".badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;"
    "background:#ececef;color:#535158}.badge.on{background:#fdf1dd;color:#8a5700}"
    "label{display:block;font-weight:600;margin:14px 0 6px}"
    "input[type=text],input[type=password],select,textarea{width:100%;max-width:480px;"
    "padding:8px 10px;border:1px solid #89888d;border-radius:4px;font:inherit}"
    "textarea{min-height:80px}"
    ".check{display:flex;gap:8px;align-items:center;font-weight:600;margin:14px 0 6px}"
    ".check input{width:18px;height:18px}"
    ".help{font-size:13px;color:#737278;margin:4px 0 0}"
    ".btn{display:inline-block;margin-top:18px;padding:8px 16px;border-radius:4px;"
    "border:1px solid #1068bf;background:#1f75cb;color:#fff;font:inherit;font-weight:600;"
    "cursor:pointer}.btn:hover{background:#1068bf;text-decoration:none}"
    ".row{display:flex;justify-content:space-between;align-items:center;gap:16px;"
    "margin-bottom:16px}.row h1,.row h2{margin:8px 0}.row .btn{margin-top:0}"
    ".signin{max-width:400px;margin:48px auto}.signin input{max-width:none}"
    ".signin .btn{width:100%}"
    ".error{color:#c91c00;margin:10px 0 0}";

/* The value of hex digits a and b, or -1 when either is not one. */
static int hex_pair(char a, char b)
{
	if (!isxdigit((unsigned char)a) || !isxdigit((unsigned char)b))
		return -1;
	return (int)strtol((char[]){a, b, '\0'}, NULL, 16);
}

/* The flash left by the previous redirect, percent-decoded into out, or false. */
static bool read_flash(const struct gg_http_request *req, char *out, size_t outlen)
{
	const char *v = gg_http_cookie(req, GG_FLASH_COOKIE);
	size_t o = 0;

	if (!v || !*v)
		return false;
	for (const char *p = v; *p && o + 1 < outlen; p++) {
		int c = *p == '%' && p[1] ? hex_pair(p[1], p[2]) : -1;

		if (c >= 0) {
			out[o++] = (char)c;
			p += 2;
		} else {
			out[o++] = *p == '+' ? ' ' : *p;
		}
	}
	out[o] = '\0';
	return o > 0;
}

static int add_banner(struct gg_http_request *req, struct gg_buf *b)
{
	struct gg_settings *s = malloc(sizeof(*s));
	bool on;
	int rc = 0;

	if (!s)
		return -1;
	if (gg_store_settings_get(req->store, s) != GG_OK) {
		memset(s, 0, sizeof(*s));
		s->maintenance_mode = true; /* as the middleware: an error counts as read-only */
	}
	/* A secondary shows the primary's maintenance (replicated settings) and,
	 * apart from it, that it is a secondary. */
	if (req->app && req->app->secondary) {
		rc |= gg_buf_puts(b, "<div class=\"banner\" role=\"note\" id=\"geo-banner\">");
		rc |= gg_html_text(b, GG_MSG_GEO_SECONDARY_BANNER);
		rc |= gg_buf_puts(b, "</div>");
	}
	on = s->maintenance_mode;
	if (on) {
		rc |= gg_buf_puts(
		    b, "<div class=\"banner\" role=\"alert\" id=\"maintenance-banner\">");
		rc |= gg_html_text(b, gg_maintenance_text(s));
		rc |= gg_buf_puts(b, "</div>");
	}
	if (s->window_state == GG_WINDOW_ANNOUNCED) {
		char notice[GG_MESSAGE_MAX];

		gg_maintenance_notice(notice, sizeof(notice), s);
		rc |= gg_buf_puts(b,
				  "<div class=\"banner\" role=\"note\" id=\"maintenance-notice\">");
		rc |= gg_html_text(b, notice);
		rc |= gg_buf_puts(b, "</div>");
	}
	free(s);
	return rc;
}

static int add_top_bar(struct gg_http_request *req, struct gg_buf *b)
{
	int rc = gg_buf_puts(b, "<header class=\"top\"><a class=\"brand\" href=\"/\">gitgate</a>"
				"<nav><a href=\"/\">Projects</a>");

	if (req->user && req->user->admin)
		rc |=
		    gg_buf_puts(b, "<a href=\"/admin\">Admin</a>"
				   "<a href=\"/admin/application_settings/general\">Settings</a>");
	rc |= gg_buf_puts(b, "</nav><div class=\"who\">");
	if (req->user) {
		rc |= gg_buf_puts(b, "<span>@");
		rc |= gg_html_text(b, req->user->username);
		rc |= gg_buf_puts(b, "</span><form method=\"post\" action=\"/users/sign_out\">");
		rc |= gg_web_csrf_input(req, b);
		rc |= gg_buf_puts(b, "<button class=\"linkbtn\" type=\"submit\">Sign out</button>"
				     "</form>");
	} else {
		rc |= gg_buf_puts(b, "<a href=\"/users/sign_in\">Sign in</a>");
	}
	return rc | gg_buf_puts(b, "</div></header>");
}

void gg_web_render(struct gg_http_request *req, struct gg_http_response *res, int status,
		   const char *title, const char *content)
{
	struct gg_buf b = GG_BUF_INIT;
	char flash[1024];
	bool has_flash = read_flash(req, flash, sizeof(flash));
	int rc = 0;

	rc |= gg_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			      "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	rc |= gg_html_text(&b, title);
	rc |= gg_buf_printf(&b, " · gitgate</title><style>%s</style></head>\n<body>", page_css);
	rc |= add_top_bar(req, &b);
	rc |= add_banner(req, &b);
	if (has_flash) {
		rc |= gg_buf_puts(&b, "<div class=\"flash\" role=\"status\" id=\"flash\">");
		rc |= gg_html_text(&b, flash);
		rc |= gg_buf_puts(&b, "</div>");
	}
	rc |= gg_buf_puts(&b, "<main>");
	rc |= gg_buf_puts(&b, content);
	rc |= gg_buf_puts(&b, "</main></body></html>\n");
	if (rc < 0) {
		gg_buf_clear(&b);
		gg_http_message(res, 500, GG_MSG_INTERNAL_ERROR);
		return;
	}
	gg_http_html(res, status, b.data);
	gg_buf_clear(&b);
	gg_http_add_header(res, "Cache-Control", "no-store");
	gg_http_add_header(res, "X-Frame-Options", "DENY");
	if (has_flash)
		gg_http_add_header(res, "Set-Cookie",
				   GG_FLASH_COOKIE "=; path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

void gg_web_not_found(struct gg_http_request *req, struct gg_http_response *res)
{
	gg_web_render(req, res, 404, GG_MSG_NOT_FOUND,
		      "<div class=\"card\"><h1>" GG_MSG_NOT_FOUND "</h1><p class=\"muted\">"
		      "The page could not be found or you don't have permission to view it."
		      "</p></div>");
}
