/*
 * test_authorized_keys.c - the line gate-authorized-keys-check gives sshd
 * (SPEC §5): exactly the documented bytes for a good key, and nothing at all
 * when any part of it could change what sshd or the shell make of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authorized_keys.h"

#define BLOB	"AAAAC3NzaC1lZDI1NTE5AAAAIBgp0rR9XHRVvJQtHYYmUVVjcUcblv9m4HhiksG1A2SX"
#define OPTIONS "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty"

static void assert_line(const char *dir, const char *config, int64_t id, const char *type,
			const char *blob, const char *want)
{
	struct gg_buf b = GG_BUF_INIT;

	assert_int_equal(gg_authorized_keys_line(&b, dir, config, id, type, blob), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	gg_buf_clear(&b);
}

static void assert_no_line(const char *dir, const char *config, int64_t id, const char *type,
			   const char *blob)
{
	struct gg_buf b = GG_BUF_INIT;

	assert_int_equal(gg_authorized_keys_line(&b, dir, config, id, type, blob), -1);
	assert_int_equal(b.len, 0);
	gg_buf_clear(&b);
}

static void test_line_is_gitlab_shells(void **state)
{
	(void)state;
	assert_line("/usr/bin", NULL, 42, "ssh-ed25519", BLOB,
		    "command=\"/usr/bin/gate-shell key-42\"," OPTIONS " ssh-ed25519 " BLOB "\n");
}

static void test_line_passes_the_config_on(void **state)
{
	(void)state;
	assert_line("/opt/gitgate/bin", "/srv/gitgate/gitgate.conf", 7, "ssh-ed25519", BLOB,
		    "command=\"/opt/gitgate/bin/gate-shell --config /srv/gitgate/gitgate.conf "
		    "key-7\"," OPTIONS " ssh-ed25519 " BLOB "\n");
}

static void test_line_with_the_largest_id(void **state)
{
	(void)state;
	assert_line("/usr/bin", NULL, INT64_MAX, "ssh-rsa", "AAAAB3NzaC1yc2E=",
		    "command=\"/usr/bin/gate-shell key-9223372036854775807\"," OPTIONS
		    " ssh-rsa AAAAB3NzaC1yc2E=\n");
}

static void test_no_line_for_ids_that_are_not_positive(void **state)
{
	(void)state;
	assert_no_line("/usr/bin", NULL, 0, "ssh-ed25519", BLOB);
	assert_no_line("/usr/bin", NULL, -1, "ssh-ed25519", BLOB);
	assert_no_line("/usr/bin", NULL, INT64_MIN, "ssh-ed25519", BLOB);
}

static void test_no_line_for_paths_that_mean_something(void **state)
{
	static const char *const bad[] = {
	    "",		  "/opt/my dir", "/opt/\"x", "/opt/x\\",  "/opt/x\n",
	    "/opt/$(id)", "/opt/`id`",	 "/opt/a;b", "/opt/a|b",  "/opt/a&b",
	    "/opt/'a'",	  "/opt/a*",	 "/opt/~x",  "/opt/a\tb",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_no_line(bad[i], NULL, 1, "ssh-ed25519", BLOB);
		assert_no_line("/usr/bin", bad[i], 1, "ssh-ed25519", BLOB);
	}
	assert_no_line(NULL, NULL, 1, "ssh-ed25519", BLOB);
}

static void test_no_line_for_odd_keys(void **state)
{
	(void)state;
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519\" x", BLOB);
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519 x", BLOB);
	assert_no_line("/usr/bin", NULL, 1, "", BLOB);
	assert_no_line("/usr/bin", NULL, 1, NULL, BLOB);
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519", "");
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519", NULL);
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519", "AAAA\ncommand=\"sh\" ssh-ed25519 AAAA");
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519", "AAAA BBBB");
	assert_no_line("/usr/bin", NULL, 1, "ssh-ed25519", "AAAA#");
}

static void test_not_found_comment(void **state)
{
	struct gg_buf b = GG_BUF_INIT;

	(void)state;
	assert_int_equal(gg_authorized_keys_not_found(&b, BLOB), 0);
	assert_string_equal(b.data, "# No key was found for " BLOB "\n");
	gg_buf_clear(&b);
	assert_int_equal(gg_authorized_keys_not_found(&b, "AAAA\nssh-ed25519 AAAA"), -1);
	assert_int_equal(b.len, 0);
	gg_buf_clear(&b);
}

static void test_inert_characters(void **state)
{
	(void)state;
	assert_int_equal(gg_authorized_keys_inert("/usr/local/bin"), 1);
	assert_int_equal(gg_authorized_keys_inert("/srv/a-b_c.d+e,f:g@h=i"), 1);
	assert_int_equal(gg_authorized_keys_inert("/srv/a b"), 0);
	assert_int_equal(gg_authorized_keys_inert("/srv/\xc3\xa9"), 0);
	assert_int_equal(gg_authorized_keys_inert(""), 0);
	assert_int_equal(gg_authorized_keys_inert(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_is_gitlab_shells),
	    cmocka_unit_test(test_line_passes_the_config_on),
	    cmocka_unit_test(test_line_with_the_largest_id),
	    cmocka_unit_test(test_no_line_for_ids_that_are_not_positive),
	    cmocka_unit_test(test_no_line_for_paths_that_mean_something),
	    cmocka_unit_test(test_no_line_for_odd_keys),
	    cmocka_unit_test(test_not_found_comment),
	    cmocka_unit_test(test_inert_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
