/*
 * repo.h - bare repositories on disk, under the storage root.
 *
 * Every repository lives at <storage_root>/<repo_path>, repo_path being the
 * project's relative "group/name.git".  Nothing here may ever touch a path
 * outside the storage root: repo_path is checked segment by segment, and
 * deletion also compares the resolved paths, so a symlink cannot lead out.
 */
#ifndef GG_REPO_H
#define GG_REPO_H

#include <stddef.h>

/*
 * Create a bare repository whose HEAD points at refs/heads/<default_branch>
 * (an unborn branch).  Missing parent directories are created (mode 0750);
 * the repository directory itself gets mode 0750.  Refuses when anything
 * exists at the path already.  0, or -1 with a message in err.
 */
int gg_repo_create(const char *storage_root, const char *repo_path, const char *default_branch,
		   char *err, size_t errlen);

/*
 * Remove the repository recursively, then any parent directories left empty
 * (never the storage root itself).  A repository that does not exist is not
 * an error.  0, or -1 with a message in err.
 */
int gg_repo_delete(const char *storage_root, const char *repo_path, char *err, size_t errlen);

/* 0 when repo_path is a safe relative path ("a/b.git"), else -1 with err. */
int gg_repo_check_path(const char *repo_path, char *err, size_t errlen);

#endif
