/*
 * archive.c - see archive.h.
 */
#include "archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define TAR_BLOCK	512
#define TAR_RECORD	10240
#define ZIP_MAX_ENTRIES 65535

struct gg_archive_zip_entry {
	char *name;
	uint32_t crc, csize, usize, offset, mode;
	uint16_t method;
};

static int deflate_out(struct gg_archive *a, const void *data, size_t len, int flush)
{
	unsigned char buf[16384];
	int zr;

	a->gz.next_in = (Bytef *)data;
	a->gz.avail_in = (uInt)len;
	do {
		a->gz.next_out = buf;
		a->gz.avail_out = sizeof(buf);
		zr = deflate(&a->gz, flush);
		if (zr == Z_STREAM_ERROR) {
			git_error_set_str(GIT_ERROR_ZLIB, "gzip failed");
			return -1;
		}
		if (sizeof(buf) > a->gz.avail_out &&
		    a->write(a->ctx, buf, sizeof(buf) - a->gz.avail_out) < 0)
			return -1;
	} while (a->gz.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	return 0;
}

/* Appends archive bytes (gzipped for tgz). */
static int put(struct gg_archive *a, const void *data, size_t len)
{
	a->written += len;
	if (a->format != GG_ARCHIVE_TGZ)
		return len ? a->write(a->ctx, data, len) : 0;
	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		if (deflate_out(a, data, n, Z_NO_FLUSH) < 0)
			return -1;
		data = (const char *)data + n;
		len -= n;
	}
	return 0;
}

static int put_zeros(struct gg_archive *a, size_t len)
{
	static const unsigned char zeros[TAR_BLOCK];

	while (len) {
		size_t n = len > sizeof(zeros) ? sizeof(zeros) : len;

		if (put(a, zeros, n) < 0)
			return -1;
		len -= n;
	}
	return 0;
}

/* --- tar ------------------------------------------------------------------ */

static void octal(char *field, size_t size, uint64_t value)
{
	snprintf(field, size, "%0*llo", (int)size - 1, (unsigned long long)value);
}

/*
 * One ustar header.  A name longer than 100 bytes goes into the prefix
 * field when it can be split at a '/' (prefix up to 155 bytes, rest up to
 * 100), as git does; callers handle the names that cannot.
 */
static int tar_header(struct gg_archive *a, char type, const char *name, uint32_t mode,
		      uint64_t size, const char *link)
{
	unsigned char h[TAR_BLOCK];
	size_t i, len = strlen(name);
	char chksum[16];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	if (len > 100) {
		size_t split = len;

		if (split > 1 && name[split - 1] == '/')
			split--;
		if (split > 155)
			split = 155;
		while (split > 0 && name[--split] != '/')
			;
		memcpy(h + 345, name, split);
		name += split + 1;
	}
	memcpy(h, name, strnlen(name, 100));
	octal((char *)h + 100, 8, mode);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, (uint64_t)a->mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	octal((char *)h + 329, 8, 0);
	octal((char *)h + 337, 8, 0);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf(chksum, sizeof(chksum), "%07o", sum & 07777777u);
	memcpy(h + 148, chksum, 8);
	return put(a, h, sizeof(h));
}

/* Can a long name be split into ustar prefix and name? */
static bool fits_ustar(const char *path)
{
	size_t len = strlen(path), split = len;

	if (len <= 100)
		return true;
	if (split > 1 && path[split - 1] == '/')
		split--;
	if (split > 155)
		split = 155;
	while (split > 0 && path[--split] != '/')
		;
	return split > 0 && len - split - 1 <= 100;
}

/* One pax record: "<len> <key>=<value>\n", where len counts itself. */
static int pax_record(struct gg_buf *b, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1, digits;

	for (;;) {
		char tmp[24];

		digits = (size_t)snprintf(tmp, sizeof(tmp), "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	return gg_buf_printf(b, "%zu %s=%s\n", len, key, value);
}

static int tar_pax(struct gg_archive *a, char type, const char *name, const struct gg_buf *records)
{
	size_t pad = (TAR_BLOCK - records->len % TAR_BLOCK) % TAR_BLOCK;

	if (tar_header(a, type, name, 0666, records->len, NULL) < 0 ||
	    put(a, records->data, records->len) < 0)
		return -1;
	return put_zeros(a, pad);
}

/*
 * A file, link or directory.  What ustar cannot hold goes into a pax
 * header named after the object ("<oid>.paxheader"), like git's.
 */
static int tar_entry(struct gg_archive *a, const char *path, git_filemode_t mode,
		     const git_oid *oid, const void *data, size_t size)
{
	struct gg_buf pax = GG_BUF_INIT;
	bool is_link = mode == GIT_FILEMODE_LINK, is_dir = mode == GIT_FILEMODE_TREE;
	char hex[GIT_OID_HEXSZ + 1], *link = NULL, *name = NULL, *pax_name = NULL, *see = NULL;
	uint32_t perm;
	char type;
	int error = -1;

	git_oid_tostr(hex, sizeof(hex), oid);
	if (is_link && !(link = strndup(data, size)))
		goto oom;
	if (!fits_ustar(path)) {
		if (pax_record(&pax, "path", path) < 0 ||
		    !(name = gg_strdup_printf("%s.data", hex)))
			goto oom;
	}
	if (link && strlen(link) > 100) {
		if (pax_record(&pax, "linkpath", link) < 0 ||
		    !(see = gg_strdup_printf("see %s.paxheader", hex)))
			goto oom;
	}
	if (pax.len && (!(pax_name = gg_strdup_printf("%s.paxheader", hex)) ||
			tar_pax(a, 'x', pax_name, &pax) < 0))
		goto done;
	/* git's default tar.umask is 002. */
	perm = is_dir ? 0775 : is_link ? 0777 : mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0775 : 0664;
	type = is_dir ? '5' : is_link ? '2' : '0';
	if (tar_header(a, type, name ? name : path, perm, is_dir || is_link ? 0 : size,
		       see ? see : link) < 0)
		goto done;
	if (!is_dir && !is_link &&
	    (put(a, data, size) < 0 ||
	     put_zeros(a, (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK) < 0))
		goto done;
	error = 0;
	goto done;
oom:
	git_error_set_oom();
done:
	free(link);
	free(name);
	free(see);
	free(pax_name);
	gg_buf_clear(&pax);
	return error;
}

/* --- zip ------------------------------------------------------------------ */

static void le16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

static void dos_time(int64_t t, uint32_t *dtime, uint32_t *ddate)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (tm.tm_year < 80) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = 80;
		tm.tm_mday = 1;
	}
	*dtime = (uint32_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
	*ddate = (uint32_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
}

static int zip_entry(struct gg_archive *a, const char *path, git_filemode_t mode, const void *data,
		     size_t size)
{
	unsigned char h[30];
	struct gg_archive_zip_entry *e;
	unsigned char *deflated = NULL;
	const void *body = data;
	uLongf csize = 0;
	uint32_t dtime, ddate;
	size_t name_len = strlen(path);
	int error = -1;

	if (a->nzip >= ZIP_MAX_ENTRIES || a->written > UINT32_MAX - 1 || size > UINT32_MAX ||
	    name_len > 0xffff) {
		git_error_set_str(GIT_ERROR_INVALID, "archive too large for zip without zip64");
		return -1;
	}
	if (a->nzip == a->zip_alloc) {
		size_t n = a->zip_alloc ? a->zip_alloc * 2 : 64;
		struct gg_archive_zip_entry *z = realloc(a->zip, n * sizeof(*z));

		if (!z)
			goto oom;
		a->zip = z;
		a->zip_alloc = n;
	}
	e = &a->zip[a->nzip];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(path)))
		goto oom;
	a->nzip++;
	e->offset = (uint32_t)a->written;
	e->usize = (uint32_t)size;
	e->crc = (uint32_t)crc32(0, data, (uInt)size);
	e->mode = mode == GIT_FILEMODE_TREE		 ? 040755
		  : mode == GIT_FILEMODE_LINK		 ? 0120777
		  : mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0100755
							 : 0100644;
	e->method = 0;
	e->csize = e->usize;
	if (size && a->level > 0 && mode != GIT_FILEMODE_LINK) {
		z_stream z;
		uLong bound = compressBound((uLong)size) + 16;

		memset(&z, 0, sizeof(z));
		if (!(deflated = malloc(bound)))
			goto oom;
		if (deflateInit2(&z, a->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto zfail;
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)size;
		z.next_out = deflated;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
			deflateEnd(&z);
			goto zfail;
		}
		csize = z.total_out;
		deflateEnd(&z);
		if (csize < size) {
			e->method = 8;
			e->csize = (uint32_t)csize;
			body = deflated;
		}
	}
	dos_time(a->mtime, &dtime, &ddate);
	le32(h, 0x04034b50);
	le16(h + 4, e->method ? 20 : 10);
	le16(h + 6, 1u << 11); /* names are UTF-8 */
	le16(h + 8, e->method);
	le16(h + 10, dtime);
	le16(h + 12, ddate);
	le32(h + 14, e->crc);
	le32(h + 18, e->csize);
	le32(h + 22, e->usize);
	le16(h + 26, (uint32_t)name_len);
	le16(h + 28, 0);
	if (put(a, h, sizeof(h)) < 0 || put(a, path, name_len) < 0 || put(a, body, e->csize) < 0)
		goto done;
	error = 0;
	goto done;
zfail:
	git_error_set_str(GIT_ERROR_ZLIB, "deflate failed");
	goto done;
oom:
	git_error_set_oom();
done:
	free(deflated);
	return error;
}

static int zip_finish(struct gg_archive *a)
{
	unsigned char h[46], end[22];
	uint32_t dtime, ddate, cd_start = (uint32_t)a->written;
	char comment[GIT_OID_HEXSZ + 1] = "";
	size_t i;

	dos_time(a->mtime, &dtime, &ddate);
	for (i = 0; i < a->nzip; i++) {
		const struct gg_archive_zip_entry *e = &a->zip[i];
		size_t name_len = strlen(e->name);

		le32(h, 0x02014b50);
		le16(h + 4, 3u << 8 | 20); /* made by: Unix */
		le16(h + 6, e->method ? 20 : 10);
		le16(h + 8, 1u << 11);
		le16(h + 10, e->method);
		le16(h + 12, dtime);
		le16(h + 14, ddate);
		le32(h + 16, e->crc);
		le32(h + 20, e->csize);
		le32(h + 24, e->usize);
		le16(h + 28, (uint32_t)name_len);
		le16(h + 30, 0);
		le16(h + 32, 0);
		le16(h + 34, 0);
		le16(h + 36, 0);
		le32(h + 38, e->mode << 16 | ((e->mode & 040000) ? 0x10 : 0));
		le32(h + 42, e->offset);
		if (put(a, h, sizeof(h)) < 0 || put(a, e->name, name_len) < 0)
			return -1;
	}
	if (a->has_commit)
		git_oid_tostr(comment, sizeof(comment), &a->commit);
	le32(end, 0x06054b50);
	le16(end + 4, 0);
	le16(end + 6, 0);
	le16(end + 8, (uint32_t)a->nzip);
	le16(end + 10, (uint32_t)a->nzip);
	le32(end + 12, (uint32_t)a->written - cd_start);
	le32(end + 16, cd_start);
	le16(end + 20, (uint32_t)strlen(comment));
	return put(a, end, sizeof(end)) < 0 ? -1 : put(a, comment, strlen(comment));
}

/* --- entry points --------------------------------------------------------- */

int gg_archive_begin(struct gg_archive *a)
{
	struct gg_buf pax = GG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int error = 0;

	if (a->format == GG_ARCHIVE_TGZ) {
		if (deflateInit2(&a->gz, a->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
		    Z_OK) {
			git_error_set_str(GIT_ERROR_ZLIB, "cannot start gzip");
			return -1;
		}
		a->gz_ready = true;
	}
	if (a->format != GG_ARCHIVE_ZIP && a->has_commit) {
		git_oid_tostr(hex, sizeof(hex), &a->commit);
		if (pax_record(&pax, "comment", hex) < 0) {
			git_error_set_oom();
			return -1;
		}
		error = tar_pax(a, 'g', "pax_global_header", &pax);
		gg_buf_clear(&pax);
	}
	return error;
}

int gg_archive_add(struct gg_archive *a, const char *path, git_filemode_t mode, const git_oid *oid,
		   const void *data, size_t size)
{
	if (a->format == GG_ARCHIVE_ZIP)
		return zip_entry(a, path, mode, data, size);
	return tar_entry(a, path, mode, oid, data, size);
}

int gg_archive_finish(struct gg_archive *a)
{
	uint64_t end;

	if (a->format == GG_ARCHIVE_ZIP)
		return zip_finish(a);
	/* Two empty blocks, then up to a whole record, as tar does. */
	end = a->written + 2 * TAR_BLOCK;
	if (put_zeros(a, (size_t)(2 * TAR_BLOCK + (TAR_RECORD - end % TAR_RECORD) % TAR_RECORD)) <
	    0)
		return -1;
	return a->format == GG_ARCHIVE_TGZ ? deflate_out(a, NULL, 0, Z_FINISH) : 0;
}

void gg_archive_clear(struct gg_archive *a)
{
	size_t i;

	if (a->gz_ready)
		deflateEnd(&a->gz);
	a->gz_ready = false;
	for (i = 0; i < a->nzip; i++)
		free(a->zip[i].name);
	free(a->zip);
	a->zip = NULL;
	a->nzip = a->zip_alloc = 0;
}
