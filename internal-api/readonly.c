/*
 * readonly.c - the read-only middleware of maintenance mode (readonly.h).
 *
 * Why a table: every route that may write while the instance is read-only is
 * a decision an operator should be able to audit at a glance, with its
 * reason next to it.  The rows are those of SPEC §4 (and of GitLab's
 * ReadOnly::Controller), matched against a normalised path so that a
 * request cannot reach a write route by spelling its path differently.
 *
 * Why two views of the path: gate-api's router sees the path decoded by
 * libmicrohttpd, where "%2F" has become '/'.  The allowlist matches a view in
 * which an encoded slash stays inside its segment, and a path is refused
 * outright if either view holds a '.', '..' or empty segment; so whatever the
 * allowlist lets through, the router sees a path the same row would match.
 */
#include "readonly.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "log.h"
#include "messages.h"

const struct gg_readonly_rule gg_readonly_allowlist[] = {
    {"POST", GG_MATCH_EXACT, "/admin/application_settings/general",
     "admin UI settings (so maintenance can be switched off)", true},
    {"PUT", GG_MATCH_EXACT, "/api/v4/application/settings", "settings API", true},
    {"POST", GG_MATCH_EXACT, "/users/sign_in", "log in", false},
    {"POST", GG_MATCH_EXACT, "/users/sign_out", "log out", false},
    {"POST", GG_MATCH_EXACT, "/oauth/token", "token sign-in (first login on a secondary)", false},
    {"POST", GG_MATCH_EXACT, "/admin/session", "admin mode", false},
    {"POST", GG_MATCH_EXACT, "/admin/session/destroy", "admin mode", false},
    {"POST", GG_MATCH_SUFFIX, "/compare", "Git revision routes", false},
    {"POST", GG_MATCH_SUFFIX, ".git/git-upload-pack", "clone and fetch over HTTP", false},
    {"POST", GG_MATCH_PREFIX, "/api/v3/internal/", "the internal API", false},
    {"POST", GG_MATCH_PREFIX, "/api/v4/internal/", "the internal API", false},
    {"POST", GG_MATCH_EXACT, "/admin/sidekiq", "background-job admin", false},
    {"POST", GG_MATCH_PREFIX, "/admin/sidekiq/", "background-job admin", false},
    {"POST", GG_MATCH_EXACT, "/admin/geo", "Geo node admin", false},
    {"POST", GG_MATCH_PREFIX, "/admin/geo/", "Geo node admin", false},
    {"POST", GG_MATCH_CONTAINS, "/api/v3/geo_replication", "Geo admin actions", false},
    {"POST", GG_MATCH_CONTAINS, "/api/v4/geo_replication", "Geo admin actions", false},
    {"POST", GG_MATCH_EXACT, "/api/graphql", "queries pass; graphql.c refuses mutations", false},
};
const size_t gg_readonly_allowlist_len =
    sizeof(gg_readonly_allowlist) / sizeof(gg_readonly_allowlist[0]);

#define NORMALISED_MAX 2048

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A segment that ends here is acceptable: not empty, not "." or "..". */
static bool segment_ok(size_t len, size_t dots)
{
	return len > 0 && !(len <= 2 && dots == len);
}

int gg_readonly_normalise(const char *path, char *out, size_t outlen)
{
	size_t o = 0, seg_len = 0, seg_dots = 0;
	bool last_sep_encoded = false;
	const char *p;

	if (!path || path[0] != '/' || outlen < 2)
		return -1;
	out[o++] = '/';
	for (p = path + 1; *p && *p != '?'; p++) {
		int c = (unsigned char)*p;
		bool encoded = false;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			p += 2;
			encoded = true;
		}
		if (c == 0)
			return -1;
		if (c == '/') {
			if (!segment_ok(seg_len, seg_dots))
				return -1;
			if (o + 4 > outlen)
				return -1;
			if (encoded) {
				memcpy(out + o, "%2F", 3);
				o += 3;
			} else {
				out[o++] = '/';
			}
			last_sep_encoded = encoded;
			seg_len = seg_dots = 0;
			continue;
		}
		if (o + 2 > outlen)
			return -1;
		out[o++] = (char)c;
		seg_len++;
		if (c == '.')
			seg_dots++;
	}
	if (seg_len == 0) {
		/* The root, or one trailing slash, which is ignored (not an encoded one). */
		if (o > 1) {
			if (last_sep_encoded)
				return -1;
			o--;
		}
	} else if (!segment_ok(seg_len, seg_dots)) {
		return -1;
	}
	out[o] = '\0';
	return 0;
}

static bool rule_matches(const struct gg_readonly_rule *rule, const char *path, size_t len)
{
	size_t plen = strlen(rule->pattern);
	const char *hit;

	switch (rule->match) {
	case GG_MATCH_EXACT:
		return strcmp(path, rule->pattern) == 0;
	case GG_MATCH_PREFIX:
		return len > plen && strncmp(path, rule->pattern, plen) == 0;
	case GG_MATCH_SUFFIX:
		/* Something must precede the pattern within its segment when the
		 * pattern does not start one (".git/..." needs a project name). */
		if (len <= plen || strcmp(path + len - plen, rule->pattern) != 0)
			return false;
		return rule->pattern[0] == '/' || path[len - plen - 1] != '/';
	case GG_MATCH_CONTAINS:
		for (hit = strstr(path, rule->pattern); hit; hit = strstr(hit + 1, rule->pattern))
			if (hit[plen] == '\0' || hit[plen] == '/')
				return true;
		return false;
	}
	return false;
}

static bool method_is_safe(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

bool gg_readonly_allowed(const char *method, const char *path)
{
	return gg_readonly_allowed_on(method, path, false);
}

bool gg_readonly_allowed_on(const char *method, const char *path, bool secondary)
{
	char norm[NORMALISED_MAX];
	size_t len;

	if (!method)
		return false;
	if (method_is_safe(method))
		return true;
	if (gg_readonly_normalise(path, norm, sizeof(norm)) < 0)
		return false;
	len = strlen(norm);
	for (size_t i = 0; i < gg_readonly_allowlist_len; i++) {
		const struct gg_readonly_rule *rule = &gg_readonly_allowlist[i];

		if (secondary && rule->maintenance_only)
			continue;
		if (strcmp(method, rule->method) == 0 && rule_matches(rule, norm, len))
			return true;
	}
	return false;
}

bool gg_readonly_active(struct gg_http_request *req)
{
	struct gg_settings settings;

	if (req->app && req->app->secondary)
		return true;
	if (!req->store || gg_store_settings_get(req->store, &settings) != GG_OK) {
		gg_error("cannot read application settings%s%s; treating the instance as read-only",
			 req->store ? ": " : "", req->store ? gg_store_errmsg(req->store) : "");
		return true;
	}
	return settings.maintenance_mode;
}

/* Only printable ASCII without spaces or backslashes goes into a Location. */
static bool location_is_clean(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '\\')
			return false;
	return true;
}

/* Where to send a refused browser: back to the page it came from when that is
 * on this site (as a path, never an absolute URL), else the start page. */
static void same_origin_referer(const struct gg_http_request *req, char *out, size_t outlen)
{
	const char *referer = gg_http_header(req, "Referer");
	const char *host = gg_http_header(req, "Host");
	const char *rest = NULL;

	snprintf(out, outlen, "/");
	if (!referer || !location_is_clean(referer))
		return;
	if (referer[0] == '/' && referer[1] != '/') {
		rest = referer;
	} else if (host && *host) {
		const char *h = NULL;
		size_t hlen;

		if (strncasecmp(referer, "http://", 7) == 0)
			h = referer + 7;
		else if (strncasecmp(referer, "https://", 8) == 0)
			h = referer + 8;
		if (!h)
			return;
		hlen = strcspn(h, "/?#");
		if (hlen != strlen(host) || strncasecmp(h, host, hlen) != 0)
			return;
		rest = h[hlen] == '/' ? h + hlen : "/";
		if (rest[1] == '/')
			return;
	}
	if (rest && strlen(rest) < outlen)
		snprintf(out, outlen, "%s", rest);
}

bool gg_readonly_check(struct gg_http_request *req, struct gg_http_response *res)
{
	char location[1024];

	if (gg_readonly_allowed_on(req->method, req->raw_url ? req->raw_url : req->path,
				   req->app && req->app->secondary))
		return true;
	if (!gg_readonly_active(req))
		return true;
	gg_debug("refused %s %s: instance is read-only", req->method, req->path);
	if (req->wants_html) {
		same_origin_referer(req, location, sizeof(location));
		gg_http_redirect(res, location, GG_MSG_READ_ONLY);
	} else {
		gg_http_message(res, 403, GG_MSG_READ_ONLY);
	}
	return false;
}
