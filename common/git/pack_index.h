/*
 * pack_index.h - reads a pack's .idx (version 2) without libgit2.
 *
 * libgit2 keeps its pack index private, and reusing on-disk pack data needs
 * exactly what the index holds: which objects a pack contains, its object
 * count and its checksum.  The index is mapped read-only and every field is
 * bounds-checked against the file size before use, so a truncated or
 * corrupt index is an error, never a read past the end.
 */
#ifndef GG_GIT_PACK_INDEX_H
#define GG_GIT_PACK_INDEX_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gg_pack_index {
	char *idx_path;	 /* .../pack-<sha>.idx */
	char *pack_path; /* .../pack-<sha>.pack */
	const unsigned char *map;
	size_t map_len;
	uint32_t nr;		      /* objects in the pack */
	const unsigned char *oids;    /* nr sorted 20-byte ids */
	const unsigned char *crcs;    /* nr CRC32s of the packed entries */
	const unsigned char *offsets; /* nr 4-byte offsets (MSB: index into large) */
	const unsigned char *large;   /* 8-byte offsets */
	uint32_t nlarge;
	git_oid checksum; /* the pack's trailer */
};

/* Opens idx_path; release with gg_pack_index_close.  0 or -1 (git_error set). */
int gg_pack_index_open(struct gg_pack_index *out, const char *idx_path);
void gg_pack_index_close(struct gg_pack_index *idx);

/* True when the pack holds oid. */
bool gg_pack_index_contains(const struct gg_pack_index *idx, const git_oid *oid);

/* Position of oid in sort order: 0 and *pos, or GIT_ENOTFOUND. */
int gg_pack_index_find(uint32_t *pos, const struct gg_pack_index *idx, const git_oid *oid);

/* The n-th object id in sort order (n < idx->nr). */
void gg_pack_index_oid(git_oid *out, const struct gg_pack_index *idx, uint32_t n);

/* Offset in the pack of the n-th object, or UINT64_MAX when the index is corrupt. */
uint64_t gg_pack_index_offset(const struct gg_pack_index *idx, uint32_t n);

/* CRC32 of the n-th object's packed entry. */
uint32_t gg_pack_index_crc(const struct gg_pack_index *idx, uint32_t n);

#endif
