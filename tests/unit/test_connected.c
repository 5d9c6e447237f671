/*
 * test_connected.c - the connectivity check of pushed tips (common/git/connected.c).
 *
 * An object already in the repository counts as complete only when a ref
 * reaches it: a stored commit or tree that no ref reaches is opened like a
 * new one, whatever the dates of the commits around it say.  Objects are
 * written raw (git_odb_write), so trees may name what does not exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "connected.h"
#include "ref_list.h"

struct fixture {
	char dir[64], qdir[96];
	git_repository *repo;
	git_odb *main;	     /* the repository's objects alone, to write them */
	git_odb *repo_odb;   /* the repository's, the quarantine as an alternate */
	git_odb *quarantine; /* the quarantine alone */
	git_oid blob, tree0, tree_bad, tree_sub, tree_sub_bad;
	git_oid root, a, skewed, b; /* main: root <- a <- skewed <- b */
};

static int rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static void write_obj(git_oid *out, git_odb *odb, git_object_t type, const void *data, size_t len)
{
	int rc = git_odb_write(out, odb, data, len, type);

	if (rc < 0)
		fprintf(stderr, "# git_odb_write: %s\n", git_error_last()->message);
	assert_int_equal(rc, 0);
}

/* A tree of one entry: mode name id. */
static void write_tree1(git_oid *out, git_odb *odb, const char *mode, const char *name,
			const git_oid *id)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s %s", mode, name);

	memcpy(buf + n + 1, id->id, GIT_OID_RAWSZ);
	write_obj(out, odb, GIT_OBJECT_TREE, buf, (size_t)n + 1 + GIT_OID_RAWSZ);
}

/* A tree of two entries (given in git's order). */
static void write_tree2(git_oid *out, git_odb *odb, const char *mode1, const char *name1,
			const git_oid *id1, const char *mode2, const char *name2,
			const git_oid *id2)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s %s", mode1, name1), m;

	memcpy(buf + n + 1, id1->id, GIT_OID_RAWSZ);
	n += 1 + GIT_OID_RAWSZ;
	m = snprintf(buf + n, sizeof(buf) - (size_t)n, "%s %s", mode2, name2);
	memcpy(buf + n + m + 1, id2->id, GIT_OID_RAWSZ);
	write_obj(out, odb, GIT_OBJECT_TREE, buf, (size_t)n + (size_t)m + 1 + GIT_OID_RAWSZ);
}

/* A commit of tree with up to two parents (NULL: none), dated when. */
static void write_commit(git_oid *out, git_odb *odb, const git_oid *tree, const git_oid *p1,
			 const git_oid *p2, long long when)
{
	char buf[512], t[GIT_OID_HEXSZ + 1], h1[GIT_OID_HEXSZ + 1], h2[GIT_OID_HEXSZ + 1];
	int n;

	git_oid_tostr(t, sizeof(t), tree);
	n = snprintf(buf, sizeof(buf), "tree %s\n", t);
	if (p1)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "parent %s\n",
			      git_oid_tostr(h1, sizeof(h1), p1));
	if (p2)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "parent %s\n",
			      git_oid_tostr(h2, sizeof(h2), p2));
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		      "author T <t@example.com> %lld +0000\ncommitter T <t@example.com> %lld "
		      "+0000\n\nm\n",
		      when, when);
	write_obj(out, odb, GIT_OBJECT_COMMIT, buf, (size_t)n);
}

static void fake_oid(git_oid *out, const char *seed)
{
	assert_int_equal(git_odb_hash(out, seed, strlen(seed), GIT_OBJECT_BLOB), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	git_odb_backend *q1 = NULL, *q2 = NULL;
	git_reference *ref = NULL;
	char path[96];
	git_oid missing;

	git_libgit2_init();
	snprintf(f->dir, sizeof(f->dir), "/tmp/gg-connected-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(git_repository_init(&f->repo, f->dir, 1), 0);
	snprintf(f->qdir, sizeof(f->qdir), "%s/objects/incoming-test", f->dir);
	assert_int_equal(mkdir(f->qdir, 0700), 0);
	assert_int_equal(git_odb_backend_loose(&q1, f->qdir, -1, 0, 0, 0), 0);
	assert_int_equal(git_odb_backend_loose(&q2, f->qdir, -1, 0, 0, 0), 0);
	assert_int_equal(git_odb_new(&f->quarantine), 0);
	assert_int_equal(git_odb_add_backend(f->quarantine, q1, 1), 0);
	assert_int_equal(git_repository_odb(&f->repo_odb, f->repo), 0);
	assert_int_equal(git_odb_add_alternate(f->repo_odb, q2, 1), 0);
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_int_equal(git_odb_open(&f->main, path), 0);

	/* History the refs reach; the middle commit's date is far in the past. */
	write_obj(&f->blob, f->main, GIT_OBJECT_BLOB, "hello\n", 6);
	write_tree1(&f->tree0, f->main, "100644", "a.txt", &f->blob);
	write_tree1(&f->tree_sub, f->main, "40000", "sub", &f->tree0);
	write_commit(&f->root, f->main, &f->tree0, NULL, NULL, 1000);
	write_commit(&f->a, f->main, &f->tree_sub, &f->root, NULL, 2000);
	write_commit(&f->skewed, f->main, &f->tree0, &f->a, NULL, 10);
	write_commit(&f->b, f->main, &f->tree_sub, &f->skewed, NULL, 3000);
	assert_int_equal(git_reference_create(&ref, f->repo, "refs/heads/main", &f->b, 1, NULL), 0);
	git_reference_free(ref);
	/* Stored, reached by no ref, incomplete: a tree naming a blob that is not there. */
	fake_oid(&missing, "never sent");
	write_tree1(&f->tree_bad, f->main, "100644", "secret", &missing);
	write_tree1(&f->tree_sub_bad, f->main, "40000", "sub", &f->tree_bad);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	git_odb_free(f->quarantine);
	git_odb_free(f->main);
	git_odb_free(f->repo_odb);
	git_repository_free(f->repo);
	rm_rf(f->dir);
	free(f);
	git_libgit2_shutdown();
	return 0;
}

/* gg_check_connected with the repository's refs as they are. */
static int check(struct fixture *f, const git_oid *tip)
{
	struct gg_ref_list refs = GG_REF_LIST_INIT;
	int rc;

	assert_int_equal(gg_ref_list_load(&refs, f->repo, NULL, NULL), 0);
	rc = gg_check_connected(f->repo, f->quarantine, &refs, tip);
	gg_ref_list_clear(&refs);
	return rc;
}

static void test_reachable_history_is_trusted(void **state)
{
	struct fixture *f = *state;
	git_oid c;

	assert_int_equal(check(f, &f->b), 0);
	assert_int_equal(check(f, &f->skewed), 0);
	/* New on a stored commit the ref reaches, though its date is older than everything. */
	write_commit(&c, f->quarantine, &f->tree0, &f->skewed, NULL, 5000);
	assert_int_equal(check(f, &c), 0);
	/* New on the tip, reusing the tip's subtree. */
	write_commit(&c, f->quarantine, &f->tree_sub, &f->b, NULL, 5001);
	assert_int_equal(check(f, &c), 0);
}

static void test_stored_incomplete_tree(void **state)
{
	struct fixture *f = *state;
	git_oid c, t;

	/* Only the commit is new; its tree is stored but no ref reaches it. */
	write_commit(&c, f->quarantine, &f->tree_bad, &f->b, NULL, 5000);
	assert_int_equal(check(f, &c), 1);
	/* A stored tree whose subtree is the incomplete one. */
	write_commit(&c, f->quarantine, &f->tree_sub_bad, &f->b, NULL, 5001);
	assert_int_equal(check(f, &c), 1);
	/* A new tree whose subtree is the incomplete one, where the parent has another. */
	write_tree2(&t, f->quarantine, "100644", "a.txt", &f->blob, "40000", "sub", &f->tree_bad);
	write_commit(&c, f->quarantine, &t, &f->b, NULL, 5002);
	assert_int_equal(check(f, &c), 1);
	/* The tree alone, as a tag ref would name it. */
	assert_int_equal(check(f, &f->tree_bad), 1);
	assert_int_equal(check(f, &f->tree_sub), 0);
}

static void test_stored_unreachable_commits(void **state)
{
	struct fixture *f = *state;
	git_oid d, e, c, nope;

	/* Stored, on a reachable commit, with an incomplete tree, newer than the tip. */
	write_commit(&d, f->main, &f->tree_bad, &f->a, NULL, 2500);
	assert_int_equal(check(f, &d), 1);
	write_commit(&c, f->quarantine, &f->tree0, &d, NULL, 5000);
	assert_int_equal(check(f, &c), 1);
	/* The same dated before everything the ref reaches. */
	write_commit(&e, f->main, &f->tree_bad, &f->root, NULL, 5);
	write_commit(&c, f->quarantine, &f->tree0, &e, NULL, 5001);
	assert_int_equal(check(f, &c), 1);
	/* A merge of the tip and such a commit. */
	write_commit(&c, f->quarantine, &f->tree_sub, &f->b, &e, 5002);
	assert_int_equal(check(f, &c), 1);
	/* Stored, whose parent does not exist. */
	fake_oid(&nope, "no such commit");
	write_commit(&d, f->main, &f->tree0, &nope, NULL, 2600);
	assert_int_equal(check(f, &d), 1);
	write_commit(&c, f->quarantine, &f->tree0, &d, NULL, 5003);
	assert_int_equal(check(f, &c), 1);
	/* Stored, unreachable, complete: accepted. */
	write_commit(&d, f->main, &f->tree0, &f->a, NULL, 2700);
	assert_int_equal(check(f, &d), 0);
}

static void test_new_commits(void **state)
{
	struct fixture *f = *state;
	git_oid c1, c2, nope, blob, t;

	/* A chain of new commits, each changing the file. */
	write_obj(&blob, f->quarantine, GIT_OBJECT_BLOB, "two\n", 4);
	write_tree1(&t, f->quarantine, "100644", "a.txt", &blob);
	write_commit(&c1, f->quarantine, &t, &f->b, NULL, 5000);
	write_commit(&c2, f->quarantine, &f->tree0, &c1, NULL, 5001);
	assert_int_equal(check(f, &c2), 0);
	/* A new commit whose parent does not exist. */
	fake_oid(&nope, "no such parent");
	write_commit(&c1, f->quarantine, &f->tree0, &nope, NULL, 5002);
	assert_int_equal(check(f, &c1), 1);
	/* A new root commit whose tree names a missing blob. */
	fake_oid(&nope, "missing blob");
	write_tree1(&t, f->quarantine, "100644", "x", &nope);
	write_commit(&c1, f->quarantine, &t, NULL, NULL, 5003);
	assert_int_equal(check(f, &c1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reachable_history_is_trusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stored_incomplete_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stored_unreachable_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_commits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
