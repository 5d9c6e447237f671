/*
 * test_ref_list.c - listing refs for the advertisement (common/git/ref_list.c):
 * what packed-refs says about peeling is used as git uses it.
 *
 * With the trait "fully-peeled", an entry without a "^" line is not an
 * annotated tag and is not looked up; with only "peeled", that holds for
 * refs/tags/ entries; without a header, nothing is known.  Each case writes
 * packed-refs by hand.  A file that lies (a tag's entry without its "^"
 * line) shows whether the object was looked up: trusted, the ref is listed
 * as not a tag, as git lists it; looked up, it is listed peeled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>

#include "ref_list.h"

struct fixture {
	char dir[64];
	git_repository *repo;
	git_oid commit, tag, tag2; /* tag2 is a tag of tag: peels to commit */
	char commit_hex[GIT_OID_HEXSZ + 1], tag_hex[GIT_OID_HEXSZ + 1], tag2_hex[GIT_OID_HEXSZ + 1];
};

static int rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	git_signature *sig = NULL;
	git_treebuilder *tb = NULL;
	git_object *obj = NULL;
	git_oid tree;

	assert_non_null(f);
	git_libgit2_init();
	strcpy(f->dir, "/tmp/gg-test-ref-list.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(git_repository_init(&f->repo, f->dir, 1), 0);
	assert_int_equal(git_signature_new(&sig, "T", "t@example.com", 1700000000, 0), 0);
	assert_int_equal(git_treebuilder_new(&tb, f->repo, NULL), 0);
	assert_int_equal(git_treebuilder_write(&tree, tb), 0);
	git_treebuilder_free(tb);
	assert_int_equal(git_object_lookup(&obj, f->repo, &tree, GIT_OBJECT_TREE), 0);
	assert_int_equal(git_commit_create(&f->commit, f->repo, NULL, sig, sig, NULL, "c\n",
					   (const git_tree *)obj, 0, NULL),
			 0);
	git_object_free(obj);
	assert_int_equal(git_object_lookup(&obj, f->repo, &f->commit, GIT_OBJECT_COMMIT), 0);
	assert_int_equal(git_tag_annotation_create(&f->tag, f->repo, "t", obj, sig, "t\n"), 0);
	git_object_free(obj);
	assert_int_equal(git_object_lookup(&obj, f->repo, &f->tag, GIT_OBJECT_TAG), 0);
	assert_int_equal(git_tag_annotation_create(&f->tag2, f->repo, "t2", obj, sig, "t2\n"), 0);
	git_object_free(obj);
	git_signature_free(sig);
	git_oid_tostr(f->commit_hex, sizeof(f->commit_hex), &f->commit);
	git_oid_tostr(f->tag_hex, sizeof(f->tag_hex), &f->tag);
	git_oid_tostr(f->tag2_hex, sizeof(f->tag2_hex), &f->tag2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	git_repository_free(f->repo);
	rm_rf(f->dir);
	free(f);
	git_libgit2_shutdown();
	return 0;
}

/* Writes text as the repository's packed-refs, reopening the repository. */
static void packed_refs(struct fixture *f, const char *text)
{
	char path[128];
	FILE *out;

	snprintf(path, sizeof(path), "%s/packed-refs", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	fputs(text, out);
	fclose(out);
	git_repository_free(f->repo);
	assert_int_equal(git_repository_open_bare(&f->repo, f->dir), 0);
}

static const struct gg_ref *find(const struct gg_ref_list *l, const char *name)
{
	const struct gg_ref *r = gg_ref_list_find(l, name);

	if (!r)
		fail_msg("%s is not listed", name);
	return r;
}

static void assert_peeled(const struct gg_ref_list *l, const char *name, const git_oid *to)
{
	const struct gg_ref *r = find(l, name);

	assert_true(r->is_tag);
	assert_true(git_oid_equal(&r->peeled, to));
}

static void assert_not_tag(const struct gg_ref_list *l, const char *name)
{
	assert_false(find(l, name)->is_tag);
}

static void test_fully_peeled_is_trusted(void **state)
{
	struct fixture *f = *state;
	struct gg_ref_list l = GG_REF_LIST_INIT;
	char text[1024];

	/* t has its ^ line; t2 (a tag) has none. */
	snprintf(text, sizeof(text),
		 "# pack-refs with: peeled fully-peeled sorted \n"
		 "%s refs/heads/main\n%s refs/tags/t\n^%s\n%s refs/tags/t2\n",
		 f->commit_hex, f->tag_hex, f->commit_hex, f->tag2_hex);
	packed_refs(f, text);
	if (gg_ref_list_load(&l, f->repo, NULL, NULL) != 0)
		fail_msg("gg_ref_list_load: %s",
			 git_error_last() ? git_error_last()->message : "?");
	assert_int_equal(l.nr, 3);
	assert_not_tag(&l, "refs/heads/main");
	assert_peeled(&l, "refs/tags/t", &f->commit);
	/* Trusted: not looked up, so listed as git lists it, not a tag. */
	assert_not_tag(&l, "refs/tags/t2");
	gg_ref_list_clear(&l);
}

static void test_without_header_every_ref_is_looked_up(void **state)
{
	struct fixture *f = *state;
	struct gg_ref_list l = GG_REF_LIST_INIT;
	char text[1024];

	snprintf(text, sizeof(text), "%s refs/heads/main\n%s refs/tags/t2\n", f->commit_hex,
		 f->tag2_hex);
	packed_refs(f, text);
	if (gg_ref_list_load(&l, f->repo, NULL, NULL) != 0)
		fail_msg("gg_ref_list_load: %s",
			 git_error_last() ? git_error_last()->message : "?");
	assert_not_tag(&l, "refs/heads/main");
	/* Looked up and peeled through both tags to the commit. */
	assert_peeled(&l, "refs/tags/t2", &f->commit);
	gg_ref_list_clear(&l);
}

static void test_peeled_trait_covers_tags_only(void **state)
{
	struct fixture *f = *state;
	struct gg_ref_list l = GG_REF_LIST_INIT;
	char text[1024];

	snprintf(text, sizeof(text), "# pack-refs with: peeled \n%s refs/other/x\n%s refs/tags/t\n",
		 f->tag_hex, f->tag_hex);
	packed_refs(f, text);
	if (gg_ref_list_load(&l, f->repo, NULL, NULL) != 0)
		fail_msg("gg_ref_list_load: %s",
			 git_error_last() ? git_error_last()->message : "?");
	/* Outside refs/tags/ an entry without ^ says nothing: looked up. */
	assert_peeled(&l, "refs/other/x", &f->commit);
	/* Under refs/tags/ it is trusted, as git trusts it. */
	assert_not_tag(&l, "refs/tags/t");
	gg_ref_list_clear(&l);
}

static void test_loose_ref_over_packed_entry_is_looked_up(void **state)
{
	struct fixture *f = *state;
	struct gg_ref_list l = GG_REF_LIST_INIT;
	git_reference *ref = NULL;
	char text[1024];

	/* packed: refs/other/y at the commit (not a tag); loose: refs/other/y at t. */
	snprintf(text, sizeof(text),
		 "# pack-refs with: peeled fully-peeled sorted \n%s refs/other/y\n", f->commit_hex);
	packed_refs(f, text);
	assert_int_equal(git_reference_create(&ref, f->repo, "refs/other/y", &f->tag, 1, NULL), 0);
	git_reference_free(ref);
	if (gg_ref_list_load(&l, f->repo, NULL, NULL) != 0)
		fail_msg("gg_ref_list_load: %s",
			 git_error_last() ? git_error_last()->message : "?");
	assert_true(git_oid_equal(&find(&l, "refs/other/y")->oid, &f->tag));
	assert_peeled(&l, "refs/other/y", &f->commit);
	gg_ref_list_clear(&l);
}

static void test_corrupt_file_fails_the_listing(void **state)
{
	struct fixture *f = *state;
	struct gg_ref_list l = GG_REF_LIST_INIT;
	char text[1024];

	/* libgit2 refuses the whole file (a short id, a line without a name, a
	 * last line without its newline): the listing fails, nothing is listed
	 * half-read, and the reading of peel knowledge does not get in the way. */
	snprintf(text, sizeof(text),
		 "# pack-refs with: peeled fully-peeled sorted \n"
		 "1234 refs/heads/short\n%s\n%s refs/tags/t2",
		 f->commit_hex, f->tag2_hex);
	packed_refs(f, text);
	assert_true(gg_ref_list_load(&l, f->repo, NULL, NULL) < 0);
	assert_int_equal(l.nr, 0);
	assert_null(l.refs);
	gg_ref_list_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fully_peeled_is_trusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_without_header_every_ref_is_looked_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_peeled_trait_covers_tags_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loose_ref_over_packed_entry_is_looked_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_file_fails_the_listing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
