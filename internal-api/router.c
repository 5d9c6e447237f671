/*
 * router.c - which handler answers a request (route.h).
 *
 * The tables are tried in a fixed order (internal API, sessions, GraphQL,
 * REST, web pages, registry tokens) and the first route whose method and
 * pattern match wins.  Patterns
 * are matched segment by segment against the path as libmicrohttpd decoded
 * it; nothing here resolves '.' or '..', so a path that spells them never
 * matches a pattern it does not literally fit.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "route.h"

#define MAX_PARAMS (sizeof(((struct gg_http_request *)0)->path_params) / sizeof(char *))

static const struct gg_route *const route_tables[] = {
    gg_internal_routes, gg_session_routes, gg_graphql_routes,
    gg_rest_routes,	gg_web_routes,	   gg_registry_routes,
};

const char *gg_route_param(const struct gg_http_request *req, size_t n)
{
	return n < req->n_path_params ? req->path_params[n] : NULL;
}

void gg_route_params_clear(struct gg_http_request *req)
{
	for (size_t i = 0; i < req->n_path_params; i++) {
		free(req->path_params[i]);
		req->path_params[i] = NULL;
	}
	req->n_path_params = 0;
}

struct span {
	const char *start;
	size_t len;
};

bool gg_route_match(const char *pattern, const char *path, struct gg_http_request *req)
{
	struct span found[MAX_PARAMS];
	size_t n_found = 0, path_len = strlen(path);
	const char *pp = pattern, *sp = path;

	/* One trailing slash on the path is tolerated ("/users/sign_in/"). */
	if (path_len > 1 && path[path_len - 1] == '/')
		path_len--;
	if (*pp != '/' || *sp != '/')
		return false;
	while (*pp == '/') {
		const char *pseg = pp + 1, *sseg;
		size_t plen = strcspn(pseg, "/"), slen;

		if ((size_t)(sp - path) >= path_len || *sp != '/')
			return false;
		sseg = sp + 1;
		slen = strcspn(sseg, "/");
		if ((size_t)(sseg - path) + slen > path_len)
			slen = path_len - (size_t)(sseg - path);
		if (plen == 1 && pseg[0] == '*' && pseg[1] == '\0') {
			/* The rest of the path, at least one character. */
			size_t rest = path_len - (size_t)(sseg - path);

			if (rest == 0 || n_found == MAX_PARAMS)
				return false;
			found[n_found++] = (struct span){sseg, rest};
			sp = path + path_len;
			pp = pseg + 1;
			break;
		}
		if (pseg[0] == ':') {
			if (slen == 0 || n_found == MAX_PARAMS)
				return false;
			found[n_found++] = (struct span){sseg, slen};
		} else if (plen != slen || strncmp(pseg, sseg, plen) != 0) {
			return false;
		}
		pp = pseg + plen;
		sp = sseg + slen;
	}
	if (*pp != '\0' || (size_t)(sp - path) != path_len)
		return false;
	if (!req)
		return true;
	gg_route_params_clear(req);
	for (size_t i = 0; i < n_found; i++) {
		req->path_params[i] = strndup(found[i].start, found[i].len);
		if (!req->path_params[i]) {
			gg_route_params_clear(req);
			return false;
		}
		req->n_path_params = i + 1;
	}
	return true;
}

static bool method_matches(const char *route_method, const char *method)
{
	return strcmp(route_method, "*") == 0 || strcmp(route_method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static const char not_found_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" GG_MSG_NOT_FOUND
    "</title></head>\n<body><h1>" GG_MSG_NOT_FOUND "</h1></body></html>\n";

void gg_router_dispatch(struct gg_http_request *req, struct gg_http_response *res)
{
	for (size_t t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (const struct gg_route *r = route_tables[t]; r->method; r++) {
			if (!method_matches(r->method, req->method) ||
			    !gg_route_match(r->pattern, req->path, req))
				continue;
			r->handler(req, res);
			return;
		}
	}
	if (req->wants_html)
		gg_http_html(res, 404, not_found_page);
	else
		gg_http_message(res, 404, GG_MSG_NOT_FOUND);
}
