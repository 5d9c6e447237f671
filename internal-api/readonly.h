/*
 * readonly.h - the read-only middleware of maintenance mode (SPEC §4).
 *
 * While maintenance mode is on (or gate-api runs as a Geo secondary), every
 * HTTP request that could write is refused before it reaches a handler,
 * except the few routes of an allowlist that must keep working: signing in
 * and out, switching maintenance off again, the internal API, clone and
 * fetch over HTTP, GraphQL queries.  GET, HEAD and OPTIONS always pass.
 *
 * The allowlist is a table (readonly.c).  Paths are normalised before they are
 * matched so that near misses cannot slip through: the query string is
 * dropped, percent-encoding is decoded exactly once (an encoded '/' stays
 * part of its segment), paths with '.' or '..' segments, empty segments or
 * NUL bytes never match, and one trailing '/' is ignored.
 */
#ifndef GG_READONLY_H
#define GG_READONLY_H

#include <stdbool.h>

#include "http.h"

enum gg_readonly_match {
	GG_MATCH_EXACT,	   /* the whole path */
	GG_MATCH_PREFIX,   /* path starts with pattern (patterns end with '/') */
	GG_MATCH_SUFFIX,   /* path ends with pattern, which is not all of it */
	GG_MATCH_CONTAINS, /* pattern occurs, ending at a segment boundary */
};

/* One row of the allowlist: writes that pass in maintenance mode, and why. */
struct gg_readonly_rule {
	const char *method;
	enum gg_readonly_match match;
	const char *pattern;
	const char *reason;
	bool maintenance_only; /* passes in maintenance mode, never on a Geo secondary */
};

/* The allowlist itself, for tests and documentation. */
extern const struct gg_readonly_rule gg_readonly_allowlist[];
extern const size_t gg_readonly_allowlist_len;

/* The path as the allowlist sees it: query string dropped, percent-decoded once
 * (a decoded '/' kept as "%2F"), one trailing '/' removed.  -1 when the path
 * is not acceptable (not absolute, '.'/'..'/empty segments, NUL, bad escape,
 * longer than outlen). */
int gg_readonly_normalise(const char *path, char *out, size_t outlen);

/* May method on path (as received: with its query string and percent-encoding)
 * pass while the instance is read-only?  Pure: no store, no state. */
bool gg_readonly_allowed(const char *method, const char *path);

/* The same on a Geo secondary (secondary true), where the rows marked
 * maintenance_only (the settings routes) do not apply: a secondary's settings
 * are the primary's, replicated. */
bool gg_readonly_allowed_on(const char *method, const char *path, bool secondary);

/* Is the instance read-only right now (maintenance mode on, read fresh from the
 * store, or a Geo secondary)?  A store error counts as read-only. */
bool gg_readonly_active(struct gg_http_request *req);

/* The middleware.  Returns true when the request may go on to its handler;
 * false when it was refused, with the refusal in res (403 JSON for API
 * requests, a 302 back with a flash message for HTML ones). */
bool gg_readonly_check(struct gg_http_request *req, struct gg_http_response *res);

#endif
