/*
 * pack_recv.c - see pack_recv.h.
 *
 * The pack arrives raw after the commands and the client keeps the
 * connection open to read our report, so end-of-input cannot mark its end.
 * A small parser follows the pack format (header, then per object a type
 * and size header, a delta base, a zlib stream; then a 20-byte trailer) and
 * hands the indexer exactly the bytes of the pack.  Finding where each zlib
 * stream ends means inflating it; the output is thrown away.
 */
#include "pack_recv.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum parse_state {
	ST_HEADER,     /* "PACK", version, object count */
	ST_OBJ_HEADER, /* type and size, varint */
	ST_OFS_BASE,   /* OFS_DELTA base offset, varint */
	ST_REF_BASE,   /* REF_DELTA base id, 20 bytes */
	ST_DATA,       /* the zlib stream */
	ST_TRAILER,    /* 20-byte checksum */
	ST_DONE,
};

#define OBJ_OFS_DELTA	 6
#define OBJ_REF_DELTA	 7
#define MAX_VARINT_BYTES 10

struct pack_parser {
	enum parse_state state;
	unsigned char header[12];
	size_t got; /* bytes of the current fixed-size or varint field */
	uint32_t nobjects, done_objects;
	int type;
	z_stream z;
	bool z_ready;
	unsigned char sink[16384];
};

static int parser_init(struct pack_parser *p)
{
	memset(p, 0, sizeof(*p));
	if (inflateInit(&p->z) != Z_OK) {
		git_error_set_str(GIT_ERROR_ZLIB, "cannot initialise zlib");
		return -1;
	}
	p->z_ready = true;
	return 0;
}

static void parser_clear(struct pack_parser *p)
{
	if (p->z_ready)
		inflateEnd(&p->z);
	p->z_ready = false;
}

static int bad_pack(const char *why)
{
	git_error_set(GIT_ERROR_INDEXER, "invalid pack: %s", why);
	return -1;
}

static void next_object(struct pack_parser *p)
{
	p->done_objects++;
	p->got = 0;
	p->state = p->done_objects == p->nobjects ? ST_TRAILER : ST_OBJ_HEADER;
}

/* Consumes a prefix of buf; *used is how much belongs to the pack. */
static int parse(struct pack_parser *p, const unsigned char *buf, size_t len, size_t *used)
{
	size_t i = 0;

	while (i < len && p->state != ST_DONE) {
		unsigned char c = buf[i];

		switch (p->state) {
		case ST_HEADER:
			p->header[p->got++] = c;
			i++;
			if (p->got < 12)
				break;
			if (memcmp(p->header, "PACK", 4))
				return bad_pack("bad signature");
			if (p->header[4] || p->header[5] || p->header[6] ||
			    (p->header[7] != 2 && p->header[7] != 3))
				return bad_pack("unsupported version");
			p->nobjects = (uint32_t)p->header[8] << 24 | (uint32_t)p->header[9] << 16 |
				      (uint32_t)p->header[10] << 8 | p->header[11];
			p->got = 0;
			p->state = p->nobjects ? ST_OBJ_HEADER : ST_TRAILER;
			break;
		case ST_OBJ_HEADER:
			if (p->got == 0) {
				p->type = (c >> 4) & 7;
				if (p->type == 0 || p->type == 5)
					return bad_pack("bad object type");
			}
			i++;
			if (++p->got > MAX_VARINT_BYTES)
				return bad_pack("object header too long");
			if (c & 0x80)
				break;
			p->got = 0;
			p->state = p->type == OBJ_OFS_DELTA   ? ST_OFS_BASE
				   : p->type == OBJ_REF_DELTA ? ST_REF_BASE
							      : ST_DATA;
			break;
		case ST_OFS_BASE:
			i++;
			if (++p->got > MAX_VARINT_BYTES)
				return bad_pack("delta offset too long");
			if (!(c & 0x80)) {
				p->got = 0;
				p->state = ST_DATA;
			}
			break;
		case ST_REF_BASE: {
			size_t n = len - i < 20 - p->got ? len - i : 20 - p->got;

			i += n;
			p->got += n;
			if (p->got == 20) {
				p->got = 0;
				p->state = ST_DATA;
			}
			break;
		}
		case ST_DATA: {
			int zr;

			p->z.next_in = (Bytef *)(buf + i);
			p->z.avail_in = (uInt)(len - i > UINT32_MAX ? UINT32_MAX : len - i);
			do {
				p->z.next_out = p->sink;
				p->z.avail_out = sizeof(p->sink);
				zr = inflate(&p->z, Z_NO_FLUSH);
			} while (zr == Z_OK && p->z.avail_in);
			i = (size_t)((const unsigned char *)p->z.next_in - buf);
			if (zr == Z_STREAM_END) {
				inflateReset(&p->z);
				next_object(p);
			} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
				return bad_pack("corrupt object data");
			}
			break;
		}
		case ST_TRAILER: {
			size_t n = len - i < 20 - p->got ? len - i : 20 - p->got;

			i += n;
			p->got += n;
			if (p->got == 20)
				p->state = ST_DONE;
			break;
		}
		case ST_DONE:
			break;
		}
	}
	*used = i;
	return 0;
}

static int make_quarantine(struct gg_quarantine *q, git_repository *repo)
{
	const char *objects = git_repository_commondir(repo);
	char *pack_dir = NULL;
	int error = -1;

	if (!(q->dir = gg_strdup_printf("%sobjects/incoming-XXXXXX", objects)))
		goto oom;
	if (!mkdtemp(q->dir)) {
		git_error_set(GIT_ERROR_OS, "cannot create quarantine %s: %s", q->dir,
			      strerror(errno));
		free(q->dir);
		q->dir = NULL;
		return -1;
	}
	if (!(pack_dir = gg_strdup_printf("%s/pack", q->dir)))
		goto oom;
	if (mkdir(pack_dir, 0755) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot create %s: %s", pack_dir, strerror(errno));
		goto done;
	}
	error = 0;
	goto done;
oom:
	git_error_set_oom();
done:
	free(pack_dir);
	return error;
}

/* Reads exactly len raw bytes into buf, feeding them through the parser. */
static int read_pack_bytes(struct gg_pkt_reader *r, struct pack_parser *p, unsigned char *buf,
			   size_t len)
{
	size_t got = 0, n, used;

	while (got < len) {
		if (gg_pkt_read_raw(r, buf + got, len - got, &n) < 0)
			return -1;
		if (n == 0) {
			git_error_set_str(GIT_ERROR_NET, "early EOF: the pack is incomplete");
			return -1;
		}
		got += n;
	}
	return parse(p, buf, len, &used);
}

static int create_indexer(git_indexer **idx, struct gg_quarantine *q, git_repository *repo,
			  git_odb *repo_odb, git_indexer_progress_cb progress, void *progress_ctx)
{
	git_indexer_options opts;
	char *pack_dir;
	int error;

	if ((error = git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION)) < 0)
		return error;
	/*
	 * verify=0: with verify=1 libgit2 refreshes the object database for
	 * every missing object (FINDINGS.md); the caller checks connectivity.
	 * The odb lets the indexer complete thin packs.
	 */
	opts.verify = 0;
	opts.progress_cb = progress;
	opts.progress_cb_payload = progress_ctx;
	if ((error = make_quarantine(q, repo)) < 0)
		return error;
	if (!(pack_dir = gg_strdup_printf("%s/pack", q->dir))) {
		git_error_set_oom();
		return -1;
	}
	error = git_indexer_new(idx, pack_dir, 0, repo_odb, &opts);
	free(pack_dir);
	return error;
}

int gg_pack_receive(struct gg_quarantine *q, git_repository *repo, struct gg_pkt_reader *r,
		    git_indexer_progress_cb progress, void *progress_ctx)
{
	git_indexer_progress stats;
	struct pack_parser *p = NULL;
	git_indexer *idx = NULL;
	git_odb *repo_odb = NULL;
	unsigned char *buf = NULL, header[12], trailer[20];
	size_t bufsize = 65536;
	int error = -1;

	memset(q, 0, sizeof(*q));
	memset(&stats, 0, sizeof(stats));
	if (!(p = calloc(1, sizeof(*p))) || !(buf = malloc(bufsize))) {
		git_error_set_oom();
		goto done;
	}
	if (parser_init(p) < 0 || read_pack_bytes(r, p, header, sizeof(header)) < 0)
		goto done;
	q->nobjects = p->nobjects;
	if (!p->nobjects) {
		/* A push that only moves refs to objects we have: nothing to index. */
		error = read_pack_bytes(r, p, trailer, sizeof(trailer));
		goto done;
	}
	if ((error = git_repository_odb(&repo_odb, repo)) < 0 ||
	    (error = create_indexer(&idx, q, repo, repo_odb, progress, progress_ctx)) < 0 ||
	    (error = git_indexer_append(idx, header, sizeof(header), &stats)) < 0)
		goto done;
	error = -1;
	while (p->state != ST_DONE) {
		size_t n, used;

		if (gg_pkt_read_raw(r, buf, bufsize, &n) < 0)
			goto done;
		if (n == 0) {
			git_error_set_str(GIT_ERROR_NET, "early EOF: the pack is incomplete");
			goto done;
		}
		/* Anything after the trailer is not ours to index. */
		if (parse(p, buf, n, &used) < 0 || git_indexer_append(idx, buf, used, &stats) < 0)
			goto done;
	}
	if ((error = git_indexer_commit(idx, &stats)) < 0)
		goto done;
	if (!(q->pack_name = gg_strdup_printf("pack-%s", git_indexer_name(idx)))) {
		git_error_set_oom();
		error = -1;
		goto done;
	}
	/* Visible to this process for connectivity checks, nowhere else yet. */
	if ((error = git_odb_open(&q->odb, q->dir)) < 0 ||
	    (error = git_odb_add_disk_alternate(repo_odb, q->dir)) < 0)
		goto done;
done:
	git_indexer_free(idx);
	git_odb_free(repo_odb);
	if (p)
		parser_clear(p);
	free(p);
	free(buf);
	if (error < 0)
		gg_quarantine_discard(q);
	return error;
}

/* Links src to dst without replacing an existing dst.  *created tells whether dst is new. */
static int link_file(const char *src, const char *dst, bool *created)
{
	*created = false;
	if (link(src, dst) == 0) {
		*created = true;
		return 0;
	}
	if (errno == EEXIST)
		return 0; /* the same pack (its name is its hash) is there already */
	if (errno == EXDEV || errno == EPERM) {
		if (rename(src, dst) == 0) {
			*created = true;
			return 0;
		}
	}
	git_error_set(GIT_ERROR_OS, "cannot move %s to %s: %s", src, dst, strerror(errno));
	return -1;
}

int gg_quarantine_migrate(struct gg_quarantine *q, git_repository *repo)
{
	const char *common = git_repository_commondir(repo);
	char *src_pack = NULL, *src_idx = NULL, *dst_pack = NULL, *dst_idx = NULL;
	bool created;
	git_odb *odb = NULL;
	int error = -1;

	if (!q->pack_name)
		return 0;
	src_pack = gg_strdup_printf("%s/pack/%s.pack", q->dir, q->pack_name);
	src_idx = gg_strdup_printf("%s/pack/%s.idx", q->dir, q->pack_name);
	dst_pack = gg_strdup_printf("%sobjects/pack/%s.pack", common, q->pack_name);
	dst_idx = gg_strdup_printf("%sobjects/pack/%s.idx", common, q->pack_name);
	if (!src_pack || !src_idx || !dst_pack || !dst_idx) {
		git_error_set_oom();
		goto done;
	}
	/* The pack first: readers find packs through their index. */
	if (link_file(src_pack, dst_pack, &created) < 0)
		goto done;
	if (created) {
		q->moved_pack = dst_pack;
		dst_pack = NULL;
	}
	if (link_file(src_idx, dst_idx, &created) < 0)
		goto done;
	if (created) {
		q->moved_idx = dst_idx;
		dst_idx = NULL;
	}
	if ((error = git_repository_odb(&odb, repo)) == 0)
		error = git_odb_refresh(odb);
done:
	git_odb_free(odb);
	free(src_pack);
	free(src_idx);
	free(dst_pack);
	free(dst_idx);
	return error;
}

void gg_quarantine_unmigrate(struct gg_quarantine *q)
{
	if (q->moved_idx)
		unlink(q->moved_idx);
	if (q->moved_pack)
		unlink(q->moved_pack);
	free(q->moved_idx);
	free(q->moved_pack);
	q->moved_idx = q->moved_pack = NULL;
}

/* Removes dir and what it holds (two levels at most: the quarantine is flat). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char *path;
			struct stat st;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (!(path = gg_strdup_printf("%s/%s", dir, e->d_name)))
				continue;
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(path);
			else
				unlink(path);
			free(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

void gg_quarantine_discard(struct gg_quarantine *q)
{
	git_odb_free(q->odb);
	if (q->dir)
		remove_tree(q->dir);
	free(q->dir);
	free(q->pack_name);
	free(q->moved_pack);
	free(q->moved_idx);
	memset(q, 0, sizeof(*q));
}
