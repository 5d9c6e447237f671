/*
 * pack_copy.h - finds objects in the repository's packs so that their
 * packed entries (and deltas) can be copied to a client instead of being
 * recomputed.
 *
 * libgit2's packbuilder never reuses a delta and searches for new ones over
 * every object it sends; git sends what it has on disk.  This module maps
 * every pack of a repository, locates an object's entry, decodes its header
 * (type, size, delta base) and bounds it by the next entry, so the caller
 * can decide per object: copy the whole entry, copy the delta with its base
 * written as an id (REF_DELTA, valid anywhere in a pack), or build it.  Every
 * read is bounds-checked against the mapping and each entry's CRC32 is
 * checked against the index before it is offered, so a damaged pack yields
 * "build it" rather than a corrupt pack on the wire.
 */
#ifndef GG_GIT_PACK_COPY_H
#define GG_GIT_PACK_COPY_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack_index.h"

struct gg_pack_file {
	struct gg_pack_index idx;
	const unsigned char *map;
	size_t len;
	/* Offsets in pack order, with the index position of each (built on first use). */
	uint64_t *rev_offset;
	uint32_t *rev_pos;
};

struct gg_pack_set {
	struct gg_pack_file *packs;
	size_t nr;
};

#define GG_PACK_OBJ_OFS_DELTA 6
#define GG_PACK_OBJ_REF_DELTA 7

struct gg_pack_entry {
	size_t pack;	 /* index into set->packs */
	uint64_t offset; /* start of the entry (its header) */
	uint64_t data;	 /* start of the zlib data */
	uint64_t end;	 /* end of the entry */
	int type;	 /* 1..4 (commit, tree, blob, tag), or a delta type */
	uint64_t size;	 /* the size in the header: object or delta size */
	git_oid base;	 /* for deltas: the base object */
};

/* Maps every pack of repo.  0 or -1.  Release with gg_pack_set_clear. */
int gg_pack_set_open(struct gg_pack_set *out, git_repository *repo);
void gg_pack_set_clear(struct gg_pack_set *set);

/*
 * Locates oid's entry in the first pack holding it.  0 when found and
 * intact, GIT_ENOTFOUND when it is in no pack (loose, or not there) or its
 * entry cannot be used (bad CRC, corrupt header).
 */
int gg_pack_set_locate(struct gg_pack_entry *out, struct gg_pack_set *set, const git_oid *oid);

/*
 * Writes the header of a REF_DELTA entry for e (type, size, base id) into
 * buf (at least 32 bytes).  Returns its length.  The entry's zlib data,
 * [e->data, e->end) of its pack, follows it unchanged.
 */
size_t gg_pack_ref_delta_header(unsigned char *buf, const struct gg_pack_entry *e);

#endif
