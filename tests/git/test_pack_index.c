/*
 * test_pack_index.c - the pack index reader and the pack records: a valid
 * index is read exactly, a damaged one is refused rather than read past, and
 * a recorded pack is offered only while its tips are reachable from the
 * wants (a pack recorded with a secret is refused once the secret's branch
 * is moved away); a full repack deletes the packs whose objects are all in
 * the new one, never one holding an object no ref reaches nor one with a
 * .keep, and a reader holding a deleted pack keeps reading it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pack_index.h"
#include "pack_reuse.h"

struct fixture {
	char dir[64];
	git_repository *repo;
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

	git_libgit2_init();
	snprintf(f->dir, sizeof(f->dir), "/tmp/gg-pack-reuse-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(git_repository_init(&f->repo, f->dir, 1), 0);
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

/* A commit on ref with one file name=content on top of parent (may be NULL). */
static void make_commit(git_oid *out, git_repository *repo, const char *ref, const git_oid *parent,
			const char *name, const char *content)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_commit *p = NULL;
	git_tree *tree = NULL;
	git_oid blob, tree_id;

	assert_int_equal(git_blob_create_from_buffer(&blob, repo, content, strlen(content)), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, name, &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tree_id, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_signature_new(&sig, "T", "t@example.com", 1700000000, 0), 0);
	if (parent)
		assert_int_equal(git_commit_lookup(&p, repo, parent), 0);
	assert_int_equal(
	    git_commit_create_v(out, repo, NULL, sig, sig, NULL, name, tree, parent ? 1 : 0, p), 0);
	if (ref) {
		git_reference *r = NULL;

		assert_int_equal(git_reference_create(&r, repo, ref, out, 1, NULL), 0);
		git_reference_free(r);
	}
	git_commit_free(p);
	git_tree_free(tree);
	git_signature_free(sig);
	git_treebuilder_free(tb);
}

/* Path of the one .idx file in the repository whose name is not skip. */
static void find_idx(char *out, size_t len, const struct fixture *f, const char *skip)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/objects/pack/*.idx | grep -v '%s' | head -n 1", f->dir,
		 skip ? skip : "^$");
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, (int)len, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void copy_truncated(const char *from, const char *to, long len)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "head -c %ld '%s' > '%s'", len, from, to);
	assert_int_equal(system(cmd), 0);
}

static void test_index_reads_what_was_packed(void **state)
{
	struct fixture *f = *state;
	struct gg_pack_maintain_result r;
	struct gg_pack_index idx;
	char path[512], bad[600];
	git_oid a, b, other;
	uint32_t i;

	make_commit(&a, f->repo, "refs/heads/main", NULL, "one", "first\n");
	make_commit(&b, f->repo, "refs/heads/main", &a, "two", "second\n");
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_true(r.repacked);
	assert_int_equal(r.reachable, 6); /* two commits, two trees, two blobs */
	find_idx(path, sizeof(path), f, NULL);
	assert_int_equal(gg_pack_index_open(&idx, path), 0);
	assert_int_equal(idx.nr, 6);
	assert_true(gg_pack_index_contains(&idx, &a));
	assert_true(gg_pack_index_contains(&idx, &b));
	memset(&other, 0xab, sizeof(other));
	assert_false(gg_pack_index_contains(&idx, &other));
	for (i = 1; i < idx.nr; i++) {
		git_oid x, y;

		gg_pack_index_oid(&x, &idx, i - 1);
		gg_pack_index_oid(&y, &idx, i);
		assert_true(git_oid_cmp(&x, &y) < 0);
		assert_true(gg_pack_index_contains(&idx, &y));
	}
	assert_string_equal(idx.pack_path + strlen(idx.pack_path) - 5, ".pack");
	gg_pack_index_close(&idx);

	/* Damaged copies: refused, never read past. */
	snprintf(bad, sizeof(bad), "%s/bad.idx", f->dir);
	copy_truncated(path, bad, 100);
	assert_int_equal(gg_pack_index_open(&idx, bad), -1);
	copy_truncated(path, bad, 8 + 1024 + 6 * 20);
	assert_int_equal(gg_pack_index_open(&idx, bad), -1);
	copy_truncated(path, bad, 0);
	assert_int_equal(gg_pack_index_open(&idx, bad), -1);
	assert_int_equal(gg_pack_index_open(&idx, "/nonexistent/pack-x.idx"), -1);
	assert_int_equal(gg_pack_index_open(&idx, path + 1), -1); /* relative: missing */
	{
		/* A bad magic number. */
		FILE *fp;

		copy_truncated(path, bad, 100000);
		assert_non_null(fp = fopen(bad, "r+"));
		fputc('X', fp);
		fclose(fp);
		assert_int_equal(gg_pack_index_open(&idx, bad), -1);
	}
}

static void test_record_follows_the_refs(void **state)
{
	struct fixture *f = *state;
	struct gg_pack_maintain_result r;
	struct gg_reuse_pack rp;
	struct gg_oid_array wants = GG_OID_ARRAY_INIT;
	char first[512];
	git_oid a, b, secret, c;

	make_commit(&a, f->repo, "refs/heads/main", NULL, "one", "first\n");
	make_commit(&b, f->repo, "refs/heads/main", &a, "two", "second\n");
	/* No record yet: nothing to reuse. */
	assert_int_equal(gg_oid_array_append(&wants, &b), 0);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 0);

	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	find_idx(first, sizeof(first), f, NULL);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 1);
	assert_int_equal(rp.idx.nr, 6);
	gg_reuse_pack_clear(&rp);
	/* A want behind the recorded tip: the pack holds more than wanted. */
	git_oid_cpy(&wants.ids[0], &a);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 0);
	/* A want ahead of it: reusable (the rest is built). */
	make_commit(&c, f->repo, "refs/heads/main", &b, "three", "third\n");
	git_oid_cpy(&wants.ids[0], &c);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 1);
	gg_reuse_pack_clear(&rp);

	/* A secret recorded into a second full pack, then its branch moved away.  The first
	 * pack is redundant then, but a .keep file keeps it. */
	make_commit(&secret, f->repo, "refs/heads/leak", &c, "secret", "AKIA-SECRET\n");
	{
		char keep[600];
		FILE *fp;

		snprintf(keep, sizeof(keep), "%.*s.keep", (int)(strlen(first) - 4), first);
		assert_non_null(fp = fopen(keep, "w"));
		fclose(fp);
	}
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_true(r.repacked);
	assert_int_equal(r.kept_keep, 1);
	assert_int_equal(r.pruned, 0);
	assert_int_equal(access(first, F_OK), 0);
	assert_int_equal(gg_oid_array_append(&wants, &secret), 0);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 1);
	assert_true(gg_pack_index_contains(&rp.idx, &secret));
	gg_reuse_pack_clear(&rp);
	{
		git_reference *ref = NULL;

		assert_int_equal(
		    git_reference_create(&ref, f->repo, "refs/heads/leak", &c, 1, NULL), 0);
		git_reference_free(ref);
	}
	git_oid_cpy(&wants.ids[1], &c);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 1);
	assert_false(gg_pack_index_contains(&rp.idx, &secret));
	assert_string_equal(rp.idx.idx_path, first);
	gg_reuse_pack_clear(&rp);

	/* Maintenance now: the first pack still serves, nothing is rewritten. */
	assert_int_equal(gg_pack_maintain(&r, f->repo, 0), 0);
	assert_false(r.repacked);
	assert_non_null(strstr(first, r.pack_name));

	/* A recorded pack removed from under its record (git gc): skipped, no error. */
	{
		char gone[600];

		char rec[600], *slash = strrchr(first, '/');

		snprintf(gone, sizeof(gone), "%s.gone", first);
		assert_int_equal(rename(first, gone), 0);
		assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 0);
		gg_reuse_pack_clear(&rp);
		/* The next run removes its record. */
		snprintf(rec, sizeof(rec), "%s/gitgate-packs/%.*s.record", f->dir,
			 (int)(strlen(slash + 1) - 4), slash + 1);
		assert_int_equal(access(rec, F_OK), 0);
		assert_int_equal(gg_pack_maintain(&r, f->repo, 0), 0);
		assert_int_equal(r.stale_records, 1);
		assert_int_equal(access(rec, F_OK), -1);
	}
	gg_oid_array_clear(&wants);
}

/* Number of files in the repository's objects/pack ending in suffix. */
static int count_files(const struct fixture *f, const char *suffix)
{
	char cmd[512], out[32];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/objects/pack/ | grep -c '%s$'", f->dir, suffix);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atoi(out);
}

static void test_full_repack_deletes_redundant_packs(void **state)
{
	struct fixture *f = *state;
	struct gg_pack_maintain_result r;
	struct gg_reuse_pack rp;
	struct gg_oid_array wants = GG_OID_ARRAY_INIT;
	char first[512], second[512], with_secret[512], rec[600];
	git_oid a, b, c, secret;
	git_odb *odb = NULL;

	make_commit(&a, f->repo, "refs/heads/main", NULL, "one", "first\n");
	make_commit(&b, f->repo, "refs/heads/main", &a, "two", "second\n");
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_int_equal(r.pruned, 0);
	find_idx(first, sizeof(first), f, NULL);

	/* A reader holding the first pack (a fetch reusing it) while it is deleted. */
	assert_int_equal(gg_oid_array_append(&wants, &b), 0);
	assert_int_equal(gg_pack_reuse_find(&rp, f->repo, &wants), 1);
	assert_string_equal(rp.idx.idx_path, first);

	/* Everything of the first pack is in the second: it goes, with its record. */
	make_commit(&c, f->repo, "refs/heads/main", &b, "three", "third\n");
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_true(r.repacked);
	assert_int_equal(r.pruned, 1);
	assert_true(r.pruned_bytes > 0);
	assert_int_equal(r.kept_unreachable, 0);
	assert_int_equal(access(first, F_OK), -1);
	assert_int_equal(count_files(f, ".idx"), 1);
	assert_int_equal(count_files(f, ".pack"), 1);
	snprintf(rec, sizeof(rec), "%s/gitgate-packs/%.*s.record", f->dir,
		 (int)(strlen(strrchr(first, '/') + 1) - 4), strrchr(first, '/') + 1);
	assert_int_equal(access(rec, F_OK), -1);
	{
		/* The reader still reads the whole deleted pack through its descriptor. */
		unsigned char head[12];
		int fd = gg_reuse_pack_open(&rp);

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
		assert_memory_equal(head, "PACK", 4);
		close(fd);
	}
	gg_reuse_pack_clear(&rp);
	find_idx(second, sizeof(second), f, NULL);

	/* A secret, repacked while reachable: the second pack goes too. */
	make_commit(&secret, f->repo, "refs/heads/leak", &c, "secret", "AKIA-SECRET\n");
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_int_equal(r.pruned, 1);
	assert_int_equal(access(second, F_OK), -1);
	find_idx(with_secret, sizeof(with_secret), f, NULL);
	{
		git_reference *ref = NULL;

		assert_int_equal(
		    git_reference_create(&ref, f->repo, "refs/heads/leak", &c, 1, NULL), 0);
		git_reference_free(ref);
	}
	/* Force-pushed away: the pack with the secret holds what no ref reaches, so it stays. */
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_true(r.repacked);
	assert_int_equal(r.pruned, 0);
	assert_int_equal(r.kept_unreachable, 1);
	assert_int_equal(access(with_secret, F_OK), 0);
	assert_int_equal(count_files(f, ".idx"), 2);
	assert_int_equal(git_repository_odb(&odb, f->repo), 0);
	assert_true(git_odb_exists(odb, &secret));
	assert_true(git_odb_exists(odb, &a));
	git_odb_free(odb);
	/* Once more: the same pack is written again (same name, not deleted), the secret's kept. */
	assert_int_equal(gg_pack_maintain(&r, f->repo, GG_PACK_MAINTAIN_REPACK), 0);
	assert_int_equal(r.kept_unreachable, 1);
	assert_int_equal(count_files(f, ".idx"), 2);
	gg_oid_array_clear(&wants);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_index_reads_what_was_packed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_follows_the_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_repack_deletes_redundant_packs, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
