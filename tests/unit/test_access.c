/*
 * test_access.c - the access policy of SPEC §3 against a real SQLite store:
 * who may read and push, on private, internal and public projects, and on
 * protected branches.
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
