/*
 * test_router.c - route patterns (route.h): literal segments, ':name',
 * a trailing '*', one tolerated trailing slash, and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"

static void test_literal_routes(void **state)
{
	assert_true(gg_route_match("/api/v4/internal/allowed", "/api/v4/internal/allowed", NULL));
	assert_true(gg_route_match("/api/v4/internal/allowed", "/api/v4/internal/allowed/", NULL));
	assert_true(gg_route_match("/", "/", NULL));
	assert_false(gg_route_match("/api/v4/internal/allowed", "/api/v4/internal/allowedx", NULL));
	assert_false(gg_route_match("/api/v4/internal/allowed", "/api/v4/internal", NULL));
	assert_false(
	    gg_route_match("/api/v4/internal/allowed", "/api/v4/internal/allowed//", NULL));
	assert_false(
	    gg_route_match("/api/v4/internal/allowed", "/api/v4/internal/x/../allowed", NULL));
	assert_false(gg_route_match("/users/sign_in", "users/sign_in", NULL));
}

static void test_named_segments(void **state)
{
	struct gg_http_request req;

	memset(&req, 0, sizeof(req));
	assert_true(gg_route_match("/api/v4/users/:id/keys", "/api/v4/users/42/keys", &req));
	assert_int_equal(req.n_path_params, 1);
	assert_string_equal(gg_route_param(&req, 0), "42");
	assert_null(gg_route_param(&req, 1));
	assert_false(gg_route_match("/api/v4/users/:id/keys", "/api/v4/users//keys", &req));
	assert_false(gg_route_match("/api/v4/users/:id", "/api/v4/users/1/2", &req));
	gg_route_params_clear(&req);
	assert_int_equal(req.n_path_params, 0);
}

static void test_rest_of_path(void **state)
{
	struct gg_http_request req;

	memset(&req, 0, sizeof(req));
	assert_true(gg_route_match("/api/v4/projects/*", "/api/v4/projects/group/sub/name", &req));
	assert_string_equal(gg_route_param(&req, 0), "group/sub/name");
	assert_true(gg_route_match("/:a/x/*", "/one/x/two/three/", &req));
	assert_int_equal(req.n_path_params, 2);
	assert_string_equal(gg_route_param(&req, 0), "one");
	assert_string_equal(gg_route_param(&req, 1), "two/three");
	assert_false(gg_route_match("/api/v4/projects/*", "/api/v4/projects/", &req));
	assert_false(gg_route_match("/api/v4/projects/*", "/api/v4/projects", &req));
	gg_route_params_clear(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal_routes),
	    cmocka_unit_test(test_named_segments),
	    cmocka_unit_test(test_rest_of_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
