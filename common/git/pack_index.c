/*
 * pack_index.c - see pack_index.h.
 *
 * Layout of a version 2 index: "\377tOc", version 2, a fan-out table of 256
 * big-endian counts, nr object ids, nr CRC32s, nr 4-byte offsets, the
 * 8-byte offsets, then the pack checksum and the index checksum.
 */
#include "pack_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDX_HEADER 8
#define FANOUT	   (256 * 4)
#define OID_LEN	   20

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int corrupt(const char *path)
{
	git_error_set(GIT_ERROR_ODB, "corrupt pack index '%s'", path);
	return -1;
}

int gg_pack_index_open(struct gg_pack_index *out, const char *idx_path)
{
	struct stat st;
	size_t len = strlen(idx_path), need;
	void *map;
	uint32_t prev = 0, i;
	int fd;

	memset(out, 0, sizeof(*out));
	if (len < 4 || strcmp(idx_path + len - 4, ".idx")) {
		git_error_set(GIT_ERROR_INVALID, "not a pack index: '%s'", idx_path);
		return -1;
	}
	if (!(out->idx_path = strdup(idx_path)) || !(out->pack_path = malloc(len + 2))) {
		git_error_set_oom();
		goto fail;
	}
	memcpy(out->pack_path, idx_path, len - 4);
	memcpy(out->pack_path + len - 4, ".pack", 6);
	if ((fd = open(idx_path, O_RDONLY | O_CLOEXEC)) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot open '%s': %s", idx_path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0 || st.st_size < IDX_HEADER + FANOUT + 2 * OID_LEN) {
		close(fd);
		corrupt(idx_path);
		goto fail;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		git_error_set(GIT_ERROR_OS, "cannot map '%s': %s", idx_path, strerror(errno));
		goto fail;
	}
	out->map = map;
	out->map_len = (size_t)st.st_size;
	if (memcmp(out->map, "\377tOc", 4) || get_be32(out->map + 4) != 2) {
		corrupt(idx_path);
		goto fail;
	}
	for (i = 0; i < 256; i++) {
		uint32_t n = get_be32(out->map + IDX_HEADER + i * 4);

		if (n < prev) {
			corrupt(idx_path);
			goto fail;
		}
		prev = n;
	}
	out->nr = prev;
	/* ids, CRCs and 4-byte offsets, then the two checksums at least. */
	need = IDX_HEADER + FANOUT + (size_t)out->nr * (OID_LEN + 8) + 2 * OID_LEN;
	if (need > out->map_len) {
		corrupt(idx_path);
		goto fail;
	}
	out->oids = out->map + IDX_HEADER + FANOUT;
	out->crcs = out->oids + (size_t)out->nr * OID_LEN;
	out->offsets = out->crcs + (size_t)out->nr * 4;
	out->large = out->offsets + (size_t)out->nr * 4;
	out->nlarge = (uint32_t)((out->map_len - need) / 8);
	git_oid_fromraw(&out->checksum, out->map + out->map_len - 2 * OID_LEN);
	return 0;
fail:
	gg_pack_index_close(out);
	return -1;
}

void gg_pack_index_close(struct gg_pack_index *idx)
{
	if (idx->map)
		munmap((void *)idx->map, idx->map_len);
	free(idx->idx_path);
	free(idx->pack_path);
	memset(idx, 0, sizeof(*idx));
}

bool gg_pack_index_contains(const struct gg_pack_index *idx, const git_oid *oid)
{
	uint32_t pos;

	return gg_pack_index_find(&pos, idx, oid) == 0;
}

int gg_pack_index_find(uint32_t *pos, const struct gg_pack_index *idx, const git_oid *oid)
{
	const unsigned char *raw = oid->id;
	uint32_t lo = raw[0] ? get_be32(idx->map + IDX_HEADER + (raw[0] - 1) * 4) : 0;
	uint32_t hi = get_be32(idx->map + IDX_HEADER + raw[0] * 4);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(idx->oids + (size_t)mid * OID_LEN, raw, OID_LEN);

		if (!cmp) {
			*pos = mid;
			return 0;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return GIT_ENOTFOUND;
}

void gg_pack_index_oid(git_oid *out, const struct gg_pack_index *idx, uint32_t n)
{
	git_oid_fromraw(out, idx->oids + (size_t)n * OID_LEN);
}

uint64_t gg_pack_index_offset(const struct gg_pack_index *idx, uint32_t n)
{
	uint32_t off = get_be32(idx->offsets + (size_t)n * 4);
	const unsigned char *p;

	if (!(off & 0x80000000u))
		return off;
	off &= 0x7fffffffu;
	if (off >= idx->nlarge)
		return UINT64_MAX;
	p = idx->large + (size_t)off * 8;
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

uint32_t gg_pack_index_crc(const struct gg_pack_index *idx, uint32_t n)
{
	return get_be32(idx->crcs + (size_t)n * 4);
}
