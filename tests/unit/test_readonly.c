/*
 * test_readonly.c - the maintenance-mode allowlist (SPEC §4): every row
 * passes, and the near misses that an attacker would try do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "readonly.h"

#define ALLOWED(m, p) assert_true(gg_readonly_allowed(m, p))
#define REFUSED(m, p) assert_false(gg_readonly_allowed(m, p))

/* One example path for every row of SPEC §4's table. */
static const struct {
	const char *method;
	const char *path;
} spec_rows[] = {
    {"POST", "/admin/application_settings/general"},
    {"PUT", "/api/v4/application/settings"},
    {"POST", "/users/sign_in"},
    {"POST", "/users/sign_out"},
    {"POST", "/oauth/token"},
    {"POST", "/admin/session"},
    {"POST", "/admin/session/destroy"},
    {"POST", "/group/project/compare"},
    {"POST", "/group/sub/project/-/compare"},
    {"POST", "/group/project.git/git-upload-pack"},
    {"POST", "/api/v3/internal/allowed"},
    {"POST", "/api/v4/internal/allowed"},
    {"POST", "/api/v4/internal/post_receive"},
    {"POST", "/admin/sidekiq"},
    {"POST", "/admin/sidekiq/queues/default"},
    {"POST", "/admin/geo"},
    {"POST", "/admin/geo/nodes/1"},
    {"POST", "/api/v3/geo_replication/designs/resync"},
    {"POST", "/api/v4/geo_replication/designs/resync"},
    {"POST", "/admin/api/v4/geo_replication"},
    {"POST", "/api/graphql"},
};

static void test_every_allowlist_row_passes(void **state)
{
	for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
		if (!gg_readonly_allowed(spec_rows[i].method, spec_rows[i].path))
			fail_msg("%s %s should pass", spec_rows[i].method, spec_rows[i].path);
	}
}

static void test_other_write_methods_refused_on_every_row(void **state)
{
	static const char *const writes[] = {"POST", "PUT", "PATCH", "DELETE", "PROPFIND"};

	for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++)
		for (size_t m = 0; m < sizeof(writes) / sizeof(writes[0]); m++) {
			if (strcmp(writes[m], spec_rows[i].method) == 0)
				continue;
			if (gg_readonly_allowed(writes[m], spec_rows[i].path))
				fail_msg("%s %s should be refused", writes[m], spec_rows[i].path);
		}
}

static void test_table_rows_have_reasons_and_one_method(void **state)
{
	assert_true(gg_readonly_allowlist_len >= 18);
	for (size_t i = 0; i < gg_readonly_allowlist_len; i++) {
		const struct gg_readonly_rule *r = &gg_readonly_allowlist[i];

		assert_non_null(r->reason);
		assert_true(strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0);
	}
}

static void test_safe_methods_always_pass(void **state)
{
	static const char *const paths[] = {
	    "/", "/api/v4/projects", "/users/sign_in/../x", "/admin/users/1", "not-a-path", "/%00"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ALLOWED("GET", paths[i]);
		ALLOWED("HEAD", paths[i]);
		ALLOWED("OPTIONS", paths[i]);
	}
}

static void test_ordinary_writes_refused(void **state)
{
	REFUSED("POST", "/api/v4/projects");
	REFUSED("POST", "/api/v4/users");
	REFUSED("PUT", "/api/v4/projects/1");
	REFUSED("DELETE", "/api/v4/projects/1");
	REFUSED("POST", "/users");
	REFUSED("POST", "/");
	REFUSED("POST", "");
	REFUSED("POST", NULL);
	REFUSED(NULL, "/users/sign_in");
}

static void test_internal_api_near_misses_refused(void **state)
{
	REFUSED("POST", "/api/v4/internalx");
	REFUSED("POST", "/api/v4/internalx/allowed");
	REFUSED("POST", "/api/v4/internal");
	REFUSED("POST", "/api/v4/internal/");
	REFUSED("POST", "/api/v5/internal/allowed");
	REFUSED("POST", "/x/api/v4/internal/allowed");
	REFUSED("POST", "/api/v4/projects/api/v4/internal/allowed");
}

static void test_dot_segments_refused(void **state)
{
	REFUSED("POST", "/users/sign_in/../x");
	REFUSED("POST", "/users/sign_in/..");
	REFUSED("POST", "/users/./sign_in");
	REFUSED("POST", "/api/v4/internal/../../projects");
	REFUSED("POST", "/api/v4/internal/%2e%2e/%2E%2E/projects");
	REFUSED("POST", "/api/v4/internal/..%2F..%2Fprojects");
	REFUSED("POST", "/api/v4/internal/x%2F..%2F..%2Fprojects");
	REFUSED("POST", "/group/project/../../api/v4/users/compare/..");
}

static void test_exact_routes_are_exact(void **state)
{
	REFUSED("POST", "/admin/application_settings/generalx");
	REFUSED("POST", "/admin/application_settings/general/x");
	REFUSED("POST", "/admin/application_settings");
	REFUSED("POST", "/users/sign_inx");
	REFUSED("POST", "/users/sign_in/extra");
	REFUSED("POST", "/Users/sign_in");
	REFUSED("POST", "/oauth/token/revoke");
	REFUSED("POST", "/admin/sessionx");
	REFUSED("POST", "/admin/sidekiqx");
	REFUSED("POST", "/admin/geox/nodes");
	REFUSED("POST", "/api/graphqlx");
	REFUSED("POST", "/api/graphql/x");
	REFUSED("PUT", "/api/v4/application/settingsx");
	REFUSED("PUT", "/api/v4/application/settings/x");
}

static void test_trailing_slash_tolerated_once(void **state)
{
	ALLOWED("POST", "/users/sign_in/");
	ALLOWED("PUT", "/api/v4/application/settings/");
	ALLOWED("POST", "/admin/application_settings/general/");
	ALLOWED("POST", "/group/project/compare/");
	REFUSED("POST", "/users/sign_in//");
	REFUSED("POST", "/users//sign_in");
	REFUSED("POST", "/users/sign_in%2F");
}

static void test_query_string_never_counts(void **state)
{
	ALLOWED("POST", "/users/sign_in?redirect=/admin");
	ALLOWED("PUT", "/api/v4/application/settings?maintenance_mode=false");
	REFUSED("POST", "/api/v4/users?x=/users/sign_in");
	REFUSED("POST", "/api/v4/projects?path=/api/v4/internal/allowed");
	REFUSED("POST", "/api/v4/projects?/compare");
	REFUSED("POST", "/group/project.git/git-receive-pack?.git/git-upload-pack");
}

static void test_percent_encoding_decoded_once(void **state)
{
	ALLOWED("POST", "/users/sign%5Fin");
	ALLOWED("POST", "/users/sign%5fin");
	ALLOWED("POST", "/%61pi/v4/internal/allowed");
	REFUSED("POST", "/users/sign%255Fin");
	REFUSED("POST", "/users/sign_in%00");
	REFUSED("POST", "/users/sign_in%zz");
	REFUSED("POST", "/users/sign_in%");
	REFUSED("POST", "/users/sign_in%2");
}

static void test_encoded_slash_makes_no_segment(void **state)
{
	REFUSED("POST", "/users%2Fsign_in");
	REFUSED("POST", "/api/v4%2Finternal/allowed");
	REFUSED("POST", "/api%2Fv4%2Finternal%2Fallowed");
	REFUSED("PUT", "/api/v4/application%2Fsettings");
	REFUSED("POST", "/group/project.git%2Fgit-upload-pack");
	REFUSED("POST", "/group/project%2Fcompare");
	/* An encoded slash inside a project path does not stop a real row. */
	ALLOWED("POST", "/group%2Fsub/project.git/git-upload-pack");
}

static void test_git_routes(void **state)
{
	REFUSED("POST", "/foo.git/git-receive-pack");
	REFUSED("POST", "/foo.git/git-upload-packx");
	REFUSED("POST", "/foo/git-upload-pack");
	REFUSED("POST", "/.git/git-upload-pack");
	REFUSED("POST", "/git-upload-pack");
	REFUSED("POST", "/foo.git/git-upload-pack/x");
	ALLOWED("POST", "/foo.git/git-upload-pack");
	REFUSED("POST", "/compare");
	REFUSED("POST", "/group/project/comparex");
	REFUSED("POST", "/group/project/xcompare");
	REFUSED("POST", "/group/project/compare/x");
}

static void test_geo_replication_contains(void **state)
{
	REFUSED("POST", "/api/v4/geo_replicationx");
	REFUSED("POST", "/api/v4/geo_replicationx/designs");
	REFUSED("POST", "/api/v5/geo_replication");
	ALLOWED("POST", "/api/v4/geo_replication");
}

static void test_normalise(void **state)
{
	char out[64];

	assert_int_equal(gg_readonly_normalise("/a%5Fb/c/?q=1", out, sizeof(out)), 0);
	assert_string_equal(out, "/a_b/c");
	assert_int_equal(gg_readonly_normalise("/a%2fb", out, sizeof(out)), 0);
	assert_string_equal(out, "/a%2Fb");
	assert_int_equal(gg_readonly_normalise("/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(gg_readonly_normalise("/a/../b", out, sizeof(out)), -1);
	assert_int_equal(gg_readonly_normalise("relative", out, sizeof(out)), -1);
	assert_int_equal(gg_readonly_normalise("/abcdefghij", out, 8), -1);
}

/* On a Geo secondary the settings routes are not exempt (its settings are
 * the primary's, replicated); every other row still is. */
static void test_secondary_drops_the_settings_routes(void **state)
{
	(void)state;
	assert_true(gg_readonly_allowed_on("PUT", "/api/v4/application/settings", false));
	assert_false(gg_readonly_allowed_on("PUT", "/api/v4/application/settings", true));
	assert_false(gg_readonly_allowed_on("POST", "/admin/application_settings/general", true));
	assert_true(gg_readonly_allowed_on("POST", "/users/sign_in", true));
	assert_true(gg_readonly_allowed_on("POST", "/api/v4/internal/allowed", true));
	assert_true(gg_readonly_allowed_on("POST", "/api/graphql", true));
	assert_true(gg_readonly_allowed_on("POST", "/group/app.git/git-upload-pack", true));
	assert_true(gg_readonly_allowed_on("GET", "/api/v4/application/settings", true));
	for (size_t i = 0; i < gg_readonly_allowlist_len; i++)
		if (gg_readonly_allowlist[i].maintenance_only)
			assert_true(strstr(gg_readonly_allowlist[i].pattern, "settings") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_allowlist_row_passes),
	    cmocka_unit_test(test_other_write_methods_refused_on_every_row),
	    cmocka_unit_test(test_table_rows_have_reasons_and_one_method),
	    cmocka_unit_test(test_safe_methods_always_pass),
	    cmocka_unit_test(test_ordinary_writes_refused),
	    cmocka_unit_test(test_internal_api_near_misses_refused),
	    cmocka_unit_test(test_dot_segments_refused),
	    cmocka_unit_test(test_exact_routes_are_exact),
	    cmocka_unit_test(test_trailing_slash_tolerated_once),
	    cmocka_unit_test(test_query_string_never_counts),
	    cmocka_unit_test(test_percent_encoding_decoded_once),
	    cmocka_unit_test(test_encoded_slash_makes_no_segment),
	    cmocka_unit_test(test_git_routes),
	    cmocka_unit_test(test_geo_replication_contains),
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test(test_secondary_drops_the_settings_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
