/*
 * fuzz_repo.h - the small bare repository the protocol fuzzers serve.
 *
 * Built once per process with libgit2 in a fresh directory under $TMPDIR,
 * with fixed author dates so that its object ids are the same on every run
 * (the seed corpora name them).  Nothing is written outside that directory:
 * libgit2's global and system configuration are pointed into it too.  The
 * directory is removed at exit.
 */
#ifndef GG_FUZZ_REPO_H
#define GG_FUZZ_REPO_H

#include <git2.h>

struct fuzz_repo {
	char dir[256];	     /* the temporary directory */
	char path[300];	     /* <dir>/repo.git */
	git_oid main_tip;    /* refs/heads/main: c3 -> c2 -> c1 */
	git_oid feature_tip; /* refs/heads/feature: f1 -> c1 */
	git_oid tag;	     /* refs/tags/v1, annotated, -> c2 */
};

/* Creates the repository (and calls git_libgit2_init).  0 or -1. */
int fuzz_repo_create(struct fuzz_repo *r);

/* Puts every ref back as fuzz_repo_create left it, and drops packs pushed since. */
int fuzz_repo_reset(const struct fuzz_repo *r);

#endif
