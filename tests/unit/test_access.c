/*
 * test_access.c - the access policy of SPEC §3 against a real SQLite store:
 * who may read and push, on private, internal and public projects, and on
 * protected branches; and the maintenance policy of SPEC §7: which windows put
 * maintenance in force, what git users are told ahead, who is exempt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access.h"
#include "cidr.h"
#include "maintenance.h"
#include "messages.h"
#include "store.h"
#include "util.h"

enum role { ADMIN, BLOCKED, OUTSIDER, GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER, N_ROLES };
enum vis { PRIVATE, INTERNAL, PUBLIC, N_VIS };

static const char *const role_names[N_ROLES] = {"admin",    "blocked",	 "outsider",   "guest",
						"reporter", "developer", "maintainer", "owner"};
/* Each role's membership of every project (admins and outsiders are no members). */
static const int role_levels[N_ROLES] = {
    [BLOCKED] = GG_ACCESS_DEVELOPER,	 [GUEST] = GG_ACCESS_GUEST,
    [REPORTER] = GG_ACCESS_REPORTER,	 [DEVELOPER] = GG_ACCESS_DEVELOPER,
    [MAINTAINER] = GG_ACCESS_MAINTAINER, [OWNER] = GG_ACCESS_OWNER,
};

struct fixture {
	char dir[64];
	struct gg_store *st;
	struct gg_user users[N_ROLES];
	struct gg_project projects[N_VIS];
};

static int setup(void **state)
{
	static const enum gg_visibility vis[N_VIS] = {GG_VISIBILITY_PRIVATE, GG_VISIBILITY_INTERNAL,
						      GG_VISIBILITY_PUBLIC};
	static const char *const vis_names[N_VIS] = {"private", "internal", "public"};
	struct fixture *f = calloc(1, sizeof(*f));
	char url[128], err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gg-test-access-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(url, sizeof(url), "sqlite:%s/gitgate.db", f->dir);
	if (gg_store_open(&f->st, url, err, sizeof(err)) != GG_OK)
		fail_msg("open %s: %s", url, err);

	for (int r = 0; r < N_ROLES; r++) {
		struct gg_user *u = &f->users[r];

		snprintf(u->username, sizeof(u->username), "%s", role_names[r]);
		snprintf(u->name, sizeof(u->name), "The %s", role_names[r]);
		snprintf(u->email, sizeof(u->email), "%s@example.com", role_names[r]);
		u->admin = r == ADMIN;
		u->blocked = r == BLOCKED;
		assert_int_equal(gg_store_user_create(f->st, u, NULL), GG_OK);
	}
	for (int v = 0; v < N_VIS; v++) {
		struct gg_project *p = &f->projects[v];
		struct gg_protected_branch pb;

		snprintf(p->full_path, sizeof(p->full_path), "group/%s", vis_names[v]);
		snprintf(p->default_branch, sizeof(p->default_branch), "main");
		p->visibility = vis[v];
		p->creator_id = f->users[OWNER].id;
		assert_int_equal(gg_store_project_create(f->st, p), GG_OK);
		for (int r = 0; r < N_ROLES; r++)
			if (role_levels[r])
				assert_int_equal(gg_store_member_set(f->st, p->id, f->users[r].id,
								     role_levels[r]),
						 GG_OK);
		/* main: maintainers; release/<anything>: developers; frozen: no one. */
		memset(&pb, 0, sizeof(pb));
		pb.project_id = p->id;
		snprintf(pb.name, sizeof(pb.name), "main");
		pb.push_access_level = GG_ACCESS_MAINTAINER;
		assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
		memset(&pb, 0, sizeof(pb));
		pb.project_id = p->id;
		snprintf(pb.name, sizeof(pb.name), "release/*");
		pb.push_access_level = GG_ACCESS_DEVELOPER;
		assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
		memset(&pb, 0, sizeof(pb));
		pb.project_id = p->id;
		snprintf(pb.name, sizeof(pb.name), "frozen");
		pb.push_access_level = GG_ACCESS_NO_ONE;
		assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {"gitgate.db", "gitgate.db-wal", "gitgate.db-shm"};
	struct fixture *f = *state;
	char path[128];

	gg_store_close(f->st);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	if (rmdir(f->dir) < 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* Expected answers, SPEC §3: rows are roles, columns private/internal/public. */
static const bool expect_read[N_ROLES][N_VIS] = {
    [ADMIN] = {true, true, true},      [BLOCKED] = {false, false, false},
    [OUTSIDER] = {false, true, true},  [GUEST] = {false, true, true},
    [REPORTER] = {true, true, true},   [DEVELOPER] = {true, true, true},
    [MAINTAINER] = {true, true, true}, [OWNER] = {true, true, true},
};
static const bool expect_push[N_ROLES] = {
    [ADMIN] = true,
    [DEVELOPER] = true,
    [MAINTAINER] = true,
    [OWNER] = true,
};
static const bool expect_push_main[N_ROLES] = {
    [ADMIN] = true,
    [MAINTAINER] = true,
    [OWNER] = true,
};

static void test_read_matrix(void **state)
{
	struct fixture *f = *state;

	for (int r = 0; r < N_ROLES; r++)
		for (int v = 0; v < N_VIS; v++)
			if (gg_access_can_read(f->st, &f->users[r], &f->projects[v]) !=
			    expect_read[r][v])
				fail_msg("read: %s on %s should be %d", role_names[r],
					 f->projects[v].full_path, expect_read[r][v]);
}

static void test_anonymous_reads_public_only(void **state)
{
	struct fixture *f = *state;

	assert_false(gg_access_can_read(f->st, NULL, &f->projects[PRIVATE]));
	assert_false(gg_access_can_read(f->st, NULL, &f->projects[INTERNAL]));
	assert_true(gg_access_can_read(f->st, NULL, &f->projects[PUBLIC]));
	assert_false(gg_access_can_push(f->st, NULL, &f->projects[PUBLIC]));
	assert_int_equal(gg_access_level(f->st, NULL, &f->projects[PUBLIC]), GG_ACCESS_NONE);
}

static void test_push_matrix(void **state)
{
	struct fixture *f = *state;

	for (int r = 0; r < N_ROLES; r++)
		for (int v = 0; v < N_VIS; v++) {
			const struct gg_user *u = &f->users[r];
			const struct gg_project *p = &f->projects[v];

			if (gg_access_can_push(f->st, u, p) != expect_push[r])
				fail_msg("push: %s on %s", role_names[r], p->full_path);
			if (gg_access_can_push_ref(f->st, u, p, "refs/heads/feature") !=
			    expect_push[r])
				fail_msg("push feature: %s on %s", role_names[r], p->full_path);
			if (gg_access_can_push_ref(f->st, u, p, "refs/tags/v1") != expect_push[r])
				fail_msg("push tag: %s on %s", role_names[r], p->full_path);
		}
}

static void test_protected_branch_needs_maintainer(void **state)
{
	struct fixture *f = *state;

	for (int r = 0; r < N_ROLES; r++)
		for (int v = 0; v < N_VIS; v++)
			if (gg_access_can_push_ref(f->st, &f->users[r], &f->projects[v],
						   "refs/heads/main") != expect_push_main[r])
				fail_msg("push main: %s on %s", role_names[r],
					 f->projects[v].full_path);
}

static void test_wildcard_protected_branch(void **state)
{
	struct fixture *f = *state;
	const struct gg_project *p = &f->projects[PRIVATE];

	assert_true(
	    gg_access_can_push_ref(f->st, &f->users[DEVELOPER], p, "refs/heads/release/1.0"));
	assert_true(
	    gg_access_can_push_ref(f->st, &f->users[DEVELOPER], p, "refs/heads/release/a/b"));
	assert_false(
	    gg_access_can_push_ref(f->st, &f->users[REPORTER], p, "refs/heads/release/1.0"));
	/* '*' is the only wildcard: plain "release" is not protected by the pattern "release/" +
	 * "*". */
	assert_true(gg_access_can_push_ref(f->st, &f->users[DEVELOPER], p, "refs/heads/release"));
}

static void test_no_one_means_no_one(void **state)
{
	struct fixture *f = *state;

	for (int r = 0; r < N_ROLES; r++)
		assert_false(gg_access_can_push_ref(f->st, &f->users[r], &f->projects[PUBLIC],
						    "refs/heads/frozen"));
}

static void test_most_permissive_rule_wins(void **state)
{
	struct fixture *f = *state;
	const struct gg_project *p = &f->projects[INTERNAL];
	struct gg_protected_branch pb = {0};
	bool is_protected;
	int level;

	pb.project_id = p->id;
	snprintf(pb.name, sizeof(pb.name), "fro*");
	pb.push_access_level = GG_ACCESS_DEVELOPER;
	assert_int_equal(gg_store_protected_branch_add(f->st, &pb), GG_OK);
	assert_int_equal(
	    gg_access_protected_branch_rules(f->st, p, "refs/heads/frozen", &level, &is_protected),
	    GG_OK);
	assert_true(is_protected);
	assert_int_equal(level, GG_ACCESS_DEVELOPER);
	assert_true(gg_access_can_push_ref(f->st, &f->users[DEVELOPER], p, "refs/heads/frozen"));
	assert_int_equal(gg_store_protected_branch_delete(f->st, p->id, "fro*"), GG_OK);
	assert_false(gg_access_can_push_ref(f->st, &f->users[DEVELOPER], p, "refs/heads/frozen"));
}

static void test_admin_level(void **state)
{
	struct fixture *f = *state;

	for (int r = 0; r < N_ROLES; r++) {
		bool want = r == ADMIN || r == MAINTAINER || r == OWNER;

		assert_int_equal(gg_access_can_admin(f->st, &f->users[r], &f->projects[PRIVATE]),
				 want);
	}
	assert_int_equal(gg_access_level(f->st, &f->users[ADMIN], &f->projects[PRIVATE]),
			 GG_ACCESS_OWNER);
	assert_int_equal(gg_access_level(f->st, &f->users[BLOCKED], &f->projects[PRIVATE]),
			 GG_ACCESS_NONE);
}

static void test_cidr_matching(void **state)
{
	struct gg_cidr c;

	(void)state;
	assert_true(gg_cidr_contains("127.0.0.2/32", "127.0.0.2"));
	assert_false(gg_cidr_contains("127.0.0.2/32", "127.0.0.1"));
	assert_true(gg_cidr_contains("10.0.0.0/8", "10.255.1.2"));
	assert_false(gg_cidr_contains("10.0.0.0/8", "11.0.0.1"));
	assert_true(gg_cidr_contains("192.168.4.0/22", "192.168.7.255"));
	assert_false(gg_cidr_contains("192.168.4.0/22", "192.168.8.0"));
	assert_true(gg_cidr_contains("0.0.0.0/0", "8.8.8.8"));
	assert_true(gg_cidr_contains("10.1.2.3", "10.1.2.3")); /* a bare address: one host */
	assert_true(gg_cidr_contains("2001:db8::/32", "2001:db8:1::5"));
	assert_false(gg_cidr_contains("2001:db8::/32", "2001:db9::5"));
	assert_true(gg_cidr_contains("::1/128", "::1"));
	/* A dual-stack listener reports IPv4 clients as IPv4-mapped IPv6. */
	assert_true(gg_cidr_contains("127.0.0.0/8", "::ffff:127.0.0.2"));
	assert_false(gg_cidr_contains("10.0.0.0/8", "::1"));
	assert_false(gg_cidr_contains("10.0.0.0/8", ""));
	assert_false(gg_cidr_contains("10.0.0.0/8", "10.0.0.0/8"));
	assert_int_equal(gg_cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(gg_cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(gg_cidr_parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(gg_cidr_parse("10.0.0.300/8", &c), -1);
	assert_int_equal(gg_cidr_parse("host.example", &c), -1);
	assert_int_equal(gg_cidr_parse("::/0", &c), 0);
}

static void set_window(struct gg_settings *s, int64_t now, int64_t start, int64_t end,
		       int64_t notice)
{
	memset(s, 0, sizeof(*s));
	s->now = now;
	s->window.id = 7;
	s->window.start_at = start;
	s->window.end_at = end;
	s->window.notice = notice;
	gg_store_settings_evaluate(s);
}

static void test_window_puts_maintenance_in_force(void **state)
{
	struct gg_settings s;
	char text[GG_MESSAGE_MAX];

	(void)state;
	set_window(&s, 1000, 2000, 3800, 600);
	assert_int_equal(s.window_state, GG_WINDOW_SCHEDULED);
	assert_false(s.maintenance_mode);
	set_window(&s, 1400, 2000, 3800, 600);
	assert_int_equal(s.window_state, GG_WINDOW_ANNOUNCED);
	assert_false(s.maintenance_mode);
	gg_maintenance_notice(text, sizeof(text), &s);
	assert_string_equal(text, "Maintenance begins at 1970-01-01 00:33:20 UTC for 30 minutes.");
	set_window(&s, 2000, 2000, 3800, 600); /* the start is inside */
	assert_int_equal(s.window_state, GG_WINDOW_ACTIVE);
	assert_true(s.maintenance_mode);
	assert_false(s.maintenance_switch);
	gg_maintenance_notice(text, sizeof(text), &s);
	assert_string_equal(text, "");
	set_window(&s, 3800, 2000, 3800, 600); /* the end is not */
	assert_false(s.maintenance_mode);
	set_window(&s, 1000, 2000, 3800, 0); /* no notice: never announced */
	assert_int_equal(s.window_state, GG_WINDOW_SCHEDULED);
	/* The switch alone. */
	memset(&s, 0, sizeof(s));
	s.maintenance_mode = true;
	gg_store_settings_evaluate(&s);
	assert_true(s.maintenance_mode);
	assert_true(s.maintenance_switch);
	assert_int_equal(s.window_state, GG_WINDOW_NONE);
}

static void test_maintenance_texts(void **state)
{
	struct gg_settings s;
	char d[96];

	(void)state;
	set_window(&s, 2500, 2000, 3800, 0);
	assert_string_equal(gg_maintenance_text(&s), GG_MSG_MAINTENANCE_BANNER);
	snprintf(s.maintenance_mode_message, sizeof(s.maintenance_mode_message), "switch text");
	assert_string_equal(gg_maintenance_text(&s), "switch text");
	snprintf(s.window.message, sizeof(s.window.message), "window text");
	assert_string_equal(gg_maintenance_text(&s), "window text");
	assert_string_equal(gg_maintenance_custom_message(&s), "window text");
	gg_maintenance_duration(d, sizeof(d), 10);
	assert_string_equal(d, "10 seconds");
	gg_maintenance_duration(d, sizeof(d), 61);
	assert_string_equal(d, "1 minute 1 second");
	gg_maintenance_duration(d, sizeof(d), 5400);
	assert_string_equal(d, "1 hour 30 minutes");
	gg_maintenance_duration(d, sizeof(d), 90000);
	assert_string_equal(d, "1 day 1 hour");
}

static void test_exemptions_by_network_and_user(void **state)
{
	struct fixture *f = *state;
	char why[300];

	assert_int_equal(gg_maintenance_exempt(f->st, "127.0.0.2", "rel", why, sizeof(why)), 0);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_CIDR, "127.0.0.2/32", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_add(f->st, GG_EXEMPT_USER, "rel", 0, "t"), GG_OK);
	assert_int_equal(gg_maintenance_exempt(f->st, "127.0.0.2", NULL, why, sizeof(why)), 1);
	assert_string_equal(why, "cidr 127.0.0.2/32");
	assert_int_equal(gg_maintenance_exempt(f->st, "127.0.0.1", "REL", why, sizeof(why)), 1);
	assert_string_equal(why, "user rel");
	assert_int_equal(gg_maintenance_exempt(f->st, "127.0.0.1", "alice", why, sizeof(why)), 0);
	assert_int_equal(gg_maintenance_exempt(f->st, NULL, NULL, why, sizeof(why)), 0);
	assert_int_equal(gg_store_exemption_remove(f->st, GG_EXEMPT_CIDR, "127.0.0.2/32", 0, "t"),
			 GG_OK);
	assert_int_equal(gg_store_exemption_remove(f->st, GG_EXEMPT_USER, "rel", 0, "t"), GG_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_matrix),
	    cmocka_unit_test(test_anonymous_reads_public_only),
	    cmocka_unit_test(test_push_matrix),
	    cmocka_unit_test(test_protected_branch_needs_maintainer),
	    cmocka_unit_test(test_wildcard_protected_branch),
	    cmocka_unit_test(test_no_one_means_no_one),
	    cmocka_unit_test(test_most_permissive_rule_wins),
	    cmocka_unit_test(test_admin_level),
	    cmocka_unit_test(test_cidr_matching),
	    cmocka_unit_test(test_window_puts_maintenance_in_force),
	    cmocka_unit_test(test_maintenance_texts),
	    cmocka_unit_test(test_exemptions_by_network_and_user),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
