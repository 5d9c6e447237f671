/*
 * fuzz_repo.c - see fuzz_repo.h.
 */
#include "fuzz_repo.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char cleanup_dir[256];

static void remove_dir(void)
{
	char cmd[300];

	if (cleanup_dir[0] &&
	    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cleanup_dir) < (int)sizeof(cmd))
		(void)!system(cmd);
}

static int commit_file(git_oid *out, git_repository *repo, const char *name, const char *content,
		       const git_oid *parent, git_time_t when)
{
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent_commit = NULL;
	git_oid blob, tree_id;
	const git_commit *parents[1];
	int error;

	if ((error = git_blob_create_from_buffer(&blob, repo, content, strlen(content))) < 0 ||
	    (error = git_treebuilder_new(&tb, repo, NULL)) < 0 ||
	    (error = git_treebuilder_insert(NULL, tb, name, &blob, GIT_FILEMODE_BLOB)) < 0 ||
	    (error = git_treebuilder_write(&tree_id, tb)) < 0 ||
	    (error = git_tree_lookup(&tree, repo, &tree_id)) < 0 ||
	    (error = git_signature_new(&sig, "Fuzz", "fuzz@example.com", when, 0)) < 0)
		goto done;
	if (parent && (error = git_commit_lookup(&parent_commit, repo, parent)) < 0)
		goto done;
	parents[0] = parent_commit;
	error =
	    git_commit_create(out, repo, NULL, sig, sig, NULL, name, tree, parent ? 1 : 0, parents);
done:
	git_commit_free(parent_commit);
	git_tree_free(tree);
	git_signature_free(sig);
	git_treebuilder_free(tb);
	return error;
}

int fuzz_repo_create(struct fuzz_repo *r)
{
	const char *tmp = getenv("TMPDIR");
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_object *c2 = NULL;
	git_reference *ref = NULL;
	git_oid c1, c2_id;
	int error = -1;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s/gg-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r->dir))
		return -1;
	/* GG_FUZZ_PRINT_OIDS keeps the repository, to capture seeds against it. */
	if (!getenv("GG_FUZZ_PRINT_OIDS")) {
		snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", r->dir);
		atexit(remove_dir);
	}
	snprintf(r->path, sizeof(r->path), "%s/repo.git", r->dir);

	git_libgit2_init();
	/* No ~/.gitconfig, /etc/gitconfig or XDG file is read or written. */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, r->dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, r->dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, r->dir);
	setenv("HOME", r->dir, 1);

	if (git_repository_init(&repo, r->path, 1) < 0 ||
	    commit_file(&c1, repo, "README", "hello\n", NULL, 1700000000) < 0 ||
	    commit_file(&c2_id, repo, "README", "hello again\n", &c1, 1700000100) < 0 ||
	    commit_file(&r->main_tip, repo, "NOTES", "notes\n", &c2_id, 1700000200) < 0 ||
	    commit_file(&r->feature_tip, repo, "FEATURE", "feature\n", &c1, 1700000300) < 0 ||
	    git_signature_new(&sig, "Fuzz", "fuzz@example.com", 1700000400, 0) < 0 ||
	    git_object_lookup(&c2, repo, &c2_id, GIT_OBJECT_COMMIT) < 0 ||
	    git_tag_create(&r->tag, repo, "v1", c2, sig, "v1\n", 0) < 0)
		goto done;
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_create(&ref, repo, "refs/heads/main", &r->main_tip, 1, NULL) < 0)
		goto done;
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_create(&ref, repo, "refs/heads/feature", &r->feature_tip, 1, NULL) < 0 ||
	    git_repository_set_head(repo, "refs/heads/main") < 0)
		goto done;
	if (getenv("GG_FUZZ_PRINT_OIDS")) {
		fprintf(stderr, "repo %s\n", r->path);
		fprintf(stderr, "c1 %s\n", git_oid_tostr_s(&c1));
		fprintf(stderr, "c2 %s\n", git_oid_tostr_s(&c2_id));
		fprintf(stderr, "main %s\n", git_oid_tostr_s(&r->main_tip));
		fprintf(stderr, "feature %s\n", git_oid_tostr_s(&r->feature_tip));
		fprintf(stderr, "tag %s\n", git_oid_tostr_s(&r->tag));
	}
	error = 0;
done:
	if (error < 0) {
		const git_error *e = git_error_last();

		fprintf(stderr, "fuzz_repo_create: %s\n", e ? e->message : "failed");
	}
	git_reference_free(ref);
	git_object_free(c2);
	git_signature_free(sig);
	git_repository_free(repo);
	return error;
}

static int is_original(const struct fuzz_repo *r, const char *name)
{
	return !strcmp(name, "refs/heads/main") || !strcmp(name, "refs/heads/feature") ||
	       !strcmp(name, "refs/tags/v1");
}

int fuzz_repo_reset(const struct fuzz_repo *r)
{
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	char packdir[400];
	DIR *d;
	struct dirent *e;
	int error = -1;

	if (git_repository_open_bare(&repo, r->path) < 0 ||
	    git_reference_iterator_new(&it, repo) < 0)
		goto done;
	while (git_reference_next(&ref, it) == 0) {
		if (!is_original(r, git_reference_name(ref)))
			git_reference_delete(ref);
		git_reference_free(ref);
		ref = NULL;
	}
	if (git_reference_create(&ref, repo, "refs/heads/main", &r->main_tip, 1, NULL) < 0)
		goto done;
	git_reference_free(ref);
	if (git_reference_create(&ref, repo, "refs/heads/feature", &r->feature_tip, 1, NULL) < 0)
		goto done;
	git_reference_free(ref);
	if (git_reference_create(&ref, repo, "refs/tags/v1", &r->tag, 1, NULL) < 0)
		goto done;
	git_reference_free(ref);
	ref = NULL;
	if (git_repository_set_head(repo, "refs/heads/main") < 0)
		goto done;
	/* The repository was made with loose objects only: every pack came from a push. */
	snprintf(packdir, sizeof(packdir), "%s/objects/pack", r->path);
	if ((d = opendir(packdir))) {
		while ((e = readdir(d))) {
			char file[700];

			if (e->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", packdir, e->d_name);
			unlink(file);
		}
		closedir(d);
	}
	error = 0;
done:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_repository_free(repo);
	return error;
}
