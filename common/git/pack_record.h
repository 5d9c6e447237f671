/*
 * pack_record.h - the record files of pack_reuse.h, shared by the code that
 * reads them for a fetch (pack_reuse.c) and the code that writes them
 * (pack_maintain.c).  Internal to common/git.
 *
 * A record lives in <repo>/gitgate-packs/pack-<sha>.record, outside
 * objects/ so that git counts it as no garbage; its format is in
 * pack_reuse.h.
 */
#ifndef GG_GIT_PACK_RECORD_H
#define GG_GIT_PACK_RECORD_H

#include <git2.h>
#include <stddef.h>

#include "oidmap.h"
#include "pack_reuse.h"
#include "ref_list.h"

#define GG_PACK_RECORD_MAGIC  "gitgate-pack-record 1"
#define GG_PACK_RECORD_DIR    "gitgate-packs"
#define GG_PACK_RECORD_SUFFIX ".record"

/* <repo>/sub ("objects/pack" or GG_PACK_RECORD_DIR); caller frees.  NULL when out of memory. */
char *gg_pack_repo_dir(git_repository *repo, const char *sub);

/* "dir/name suffix"; caller frees.  NULL when out of memory. */
char *gg_pack_path_join(const char *dir, const char *name, const char *suffix);

/* The pack names ("pack-<sha>") of the files in dir ending in suffix.  0 or -1. */
int gg_pack_list(char ***out, size_t *nout, const char *dir, const char *suffix);
void gg_pack_names_free(char **names, size_t nr);

/* Every valid record of repo with its index, largest pack first.  0 or -1. */
int gg_pack_records_load(struct gg_reuse_pack **out, size_t *nout, git_repository *repo);

/* wants as a ref list (names are static; free only out->refs), for reachable.h. */
int gg_pack_wants_as_refs(struct gg_ref_list *out, git_repository *repo,
			  const struct gg_oid_array *wants);

#endif
