/*
 * route.h - how handlers are attached to paths.
 *
 * Each module exports one table ending with {NULL}; router.c tries the tables
 * in order and the first route whose method and pattern match wins.  A
 * pattern segment ":name" matches one non-empty path segment, "*" at the end
 * matches the rest (which may contain '/'), e.g. "/api/v4/projects/ *" (no space) for
 * URL-encoded or plain project paths.  Matched segments land in
 * req->path_params in order (see gg_route_param).
 */
#ifndef GG_ROUTE_H
#define GG_ROUTE_H

#include "http.h"

struct gg_route {
	const char *method; /* "GET", "POST", ...; "*" for any */
	const char *pattern;
	gg_http_handler handler;
};

/* The n-th matched segment of the route (0-based), or NULL. */
const char *gg_route_param(const struct gg_http_request *req, size_t n);

/* Tables (each ends with {NULL, NULL, NULL}). */
extern const struct gg_route gg_internal_routes[]; /* internal_api.c: /api/v4/internal/... */
extern const struct gg_route gg_rest_routes[];	   /* rest_*.c via rest.c: /api/v4/... */
extern const struct gg_route gg_session_routes[];  /* sessions.c: /users/sign_in, /oauth/token */
extern const struct gg_route gg_graphql_routes[];  /* graphql.c: /api/graphql */
extern const struct gg_route gg_web_routes[];	   /* web.c: the HTML pages */
extern const struct gg_route gg_registry_routes[]; /* registry.c: /jwt/auth */

/* For http.c: find the route for req and run its handler; a 404 (JSON, or a
 * plain HTML page for browsers) when none matches.  HEAD requests use the GET
 * routes. */
void gg_router_dispatch(struct gg_http_request *req, struct gg_http_response *res);

/* Free the path parameters the dispatch left in req. */
void gg_route_params_clear(struct gg_http_request *req);

/* Does pattern match path (the route.h syntax)?  With req non-NULL, the matched
 * segments are stored in req->path_params. */
bool gg_route_match(const char *pattern, const char *path, struct gg_http_request *req);

#endif
