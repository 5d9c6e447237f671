/*
 * repo.c - creating and deleting bare repositories with libgit2 (see repo.h).
 */
#include "repo.h"

#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define REPO_DIR_MODE 0750

static pthread_once_t libgit2_once = PTHREAD_ONCE_INIT;

/* libgit2 keeps global state; it is initialised once per process and never
 * shut down (other modules share it). */
static void libgit2_init(void)
{
	git_libgit2_init();
}

int gg_repo_check_path(const char *repo_path, char *err, size_t errlen)
{
	const char *seg = repo_path;

	if (!repo_path || !*repo_path) {
		snprintf(err, errlen, "empty repository path");
		return -1;
	}
	if (strlen(repo_path) >= PATH_MAX / 2) {
		snprintf(err, errlen, "repository path too long");
		return -1;
	}
	for (;;) {
		size_t len = strcspn(seg, "/");

		if (len == 0 || seg[0] == '.' || seg[0] == '-') {
			snprintf(err, errlen, "invalid repository path: %s", repo_path);
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			char c = seg[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
				snprintf(err, errlen, "invalid repository path: %s", repo_path);
				return -1;
			}
		}
		if (seg[len] == '\0')
			break;
		seg += len + 1;
	}
	return 0;
}

static int join_path(char *out, size_t outlen, const char *root, const char *rel, char *err,
		     size_t errlen)
{
	size_t rl = strlen(root);

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)rl, root, rel) >= outlen) {
		snprintf(err, errlen, "repository path too long");
		return -1;
	}
	return 0;
}

int gg_repo_create(const char *storage_root, const char *repo_path, const char *default_branch,
		   char *err, size_t errlen)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	char full[PATH_MAX], parent[PATH_MAX], refname[300];
	char *slash;
	struct stat sb;
	int valid = 0, ret = -1;

	pthread_once(&libgit2_once, libgit2_init);
	if (!storage_root || !*storage_root) {
		snprintf(err, errlen, "no storage root configured");
		goto done;
	}
	if (gg_repo_check_path(repo_path, err, errlen) < 0)
		goto done;
	if (!default_branch || !*default_branch)
		default_branch = "main";
	if ((size_t)snprintf(refname, sizeof(refname), "refs/heads/%s", default_branch) >=
		sizeof(refname) ||
	    git_reference_name_is_valid(&valid, refname) < 0 || !valid) {
		snprintf(err, errlen, "invalid default branch name: %s", default_branch);
		goto done;
	}
	if (join_path(full, sizeof(full), storage_root, repo_path, err, errlen) < 0)
		goto done;
	if (lstat(full, &sb) == 0) {
		snprintf(err, errlen, "%s already exists", full);
		goto done;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", full, strerror(errno));
		goto done;
	}

	/* Parents ourselves, so that they get our mode rather than the umask's. */
	snprintf(parent, sizeof(parent), "%s", full);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (gg_mkdir_p(parent, REPO_DIR_MODE) < 0) {
			snprintf(err, errlen, "cannot create %s: %s", parent, strerror(errno));
			goto done;
		}
	}
	if (mkdir(full, REPO_DIR_MODE) < 0) {
		snprintf(err, errlen,
			 errno == EEXIST ? "%s already exists" : "cannot create %s: %s", full,
			 strerror(errno));
		goto done;
	}

	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags =
	    GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = default_branch;
	if (git_repository_init_ext(&repo, full, &opts) < 0) {
		const git_error *e = git_error_last();

		snprintf(err, errlen, "cannot initialise %s: %s", full,
			 e && e->message ? e->message : "unknown libgit2 error");
		/* Leave nothing half-made behind. */
		gg_repo_delete(storage_root, repo_path, parent, sizeof(parent));
		goto done;
	}
	ret = 0;
done:
	git_repository_free(repo);
	return ret;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int gg_repo_delete(const char *storage_root, const char *repo_path, char *err, size_t errlen)
{
	char full[PATH_MAX], *root_real = NULL, *full_real = NULL;
	size_t rootlen;
	int ret = -1;

	if (!storage_root || !*storage_root) {
		snprintf(err, errlen, "no storage root configured");
		goto done;
	}
	if (gg_repo_check_path(repo_path, err, errlen) < 0)
		goto done;
	if (join_path(full, sizeof(full), storage_root, repo_path, err, errlen) < 0)
		goto done;
	root_real = realpath(storage_root, NULL);
	if (!root_real) {
		if (errno == ENOENT)
			ret = 0; /* no storage root, so no repository either */
		else
			snprintf(err, errlen, "%s: %s", storage_root, strerror(errno));
		goto done;
	}
	full_real = realpath(full, NULL);
	if (!full_real) {
		if (errno == ENOENT)
			ret = 0;
		else
			snprintf(err, errlen, "%s: %s", full, strerror(errno));
		goto done;
	}
	rootlen = strlen(root_real);
	if (strncmp(full_real, root_real, rootlen) != 0 ||
	    (rootlen > 1 && full_real[rootlen] != '/') || full_real[rootlen + 1] == '\0') {
		snprintf(err, errlen, "refusing to delete %s: outside the storage root", full);
		goto done;
	}
	if (nftw(full_real, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		snprintf(err, errlen, "cannot delete %s: %s", full, strerror(errno));
		goto done;
	}

	/* Tidy the group directories left empty; rmdir stops at the first
	 * non-empty one. */
	for (;;) {
		char *slash = strrchr(full_real, '/');

		if (!slash || (size_t)(slash - full_real) <= rootlen)
			break;
		*slash = '\0';
		if (rmdir(full_real) < 0)
			break;
	}
	ret = 0;
done:
	free(root_real);
	free(full_real);
	return ret;
}
