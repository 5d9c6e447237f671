/*
 * archive.h - tar, tar.gz and zip streams built from tree entries.
 *
 * The format writers behind upload-archive, apart from the protocol: the
 * caller feeds entries in order (directories before what they hold, paths
 * including any prefix) and the bytes come out through a callback.  Tar
 * output is byte-for-byte what git archive writes for the same tree: ustar
 * headers, pax records named after the object when a name does not fit,
 * a pax global header with the commit id, records of 10240 bytes.
 */
#ifndef GG_GIT_ARCHIVE_H
#define GG_GIT_ARCHIVE_H

#include <git2.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

enum gg_archive_format { GG_ARCHIVE_TAR, GG_ARCHIVE_TGZ, GG_ARCHIVE_ZIP };

struct gg_archive_zip_entry;

struct gg_archive {
	/* Set by the caller before gg_archive_begin. */
	enum gg_archive_format format;
	int level;	 /* compression level 0-9 (tgz, zip) */
	int64_t mtime;	 /* for every entry */
	bool has_commit; /* commit goes into the pax global header / zip comment */
	git_oid commit;
	int (*write)(void *ctx, const void *data, size_t len);
	void *ctx;

	/* Internal. */
	z_stream gz;
	bool gz_ready;
	uint64_t written; /* uncompressed archive bytes so far */
	struct gg_archive_zip_entry *zip;
	size_t nzip, zip_alloc;
};

int gg_archive_begin(struct gg_archive *ar);

/*
 * Adds one entry: mode GIT_FILEMODE_TREE for a directory (path ending in
 * '/'), _BLOB / _BLOB_EXECUTABLE for a file, _LINK for a symbolic link
 * (data is the target).  oid names the object, as git names pax headers.
 */
int gg_archive_add(struct gg_archive *ar, const char *path, git_filemode_t mode, const git_oid *oid,
		   const void *data, size_t size);

int gg_archive_finish(struct gg_archive *ar);
void gg_archive_clear(struct gg_archive *ar);

#endif
