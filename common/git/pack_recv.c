/*
 * pack_recv.c - see pack_recv.h.
 *
 * The pack arrives raw after the commands and the client keeps the
 * connection open to read our report, so end-of-input cannot mark its end.
 * A small parser follows the pack format (header, then per object a type
 * and size header, a delta base, a zlib stream; then a 20-byte trailer) and
 * hands the indexer exactly the bytes of the pack.  Finding where each zlib
 * stream ends means inflating it; the output is thrown away, but counted
 * and its first bytes read, which is where the limits of gg_pack_limits
 * are checked.  The indexer runs on a second thread, so this inflating
 * costs the push wall-clock time only when the machine has no core free.
 */
#include "pack_recv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "messages.h"

static void remove_tree(const char *dir);

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
/* A size varint that needs more bits than this is over any limit. */
#define MAX_SIZE_SHIFT 57
/* Bytes read from the wire at a time (and handed to the indexer at once). */
#define GG_PACK_READ_SIZE (1024 * 1024)

struct pack_parser {
	enum parse_state state;
	const struct gg_pack_limits *limits;
	const char *refusal; /* the limit exceeded, once one is */
	unsigned char header[12];
	size_t got; /* bytes of the current fixed-size or varint field */
	uint32_t nobjects, done_objects;
	uint64_t total; /* bytes of the pack consumed so far */
	int type;
	uint64_t size;	   /* the current object's declared (inflated) size */
	unsigned shift;	   /* of the next 7 bits of a size varint */
	uint64_t inflated; /* bytes the current object inflated to so far */
	/* A delta's data starts with two varints: base size, result size. */
	int delta_field; /* 0: base size, 1: result size, 2: both read */
	uint64_t delta_value;
	unsigned delta_shift;
	z_stream z;
	bool z_ready;
	unsigned char sink[65536];
};

static int parser_init(struct pack_parser *p, const struct gg_pack_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->limits = limits;
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

/* A pack over a limit: the message goes to the client as it is. */
static int refuse(struct pack_parser *p, const char *why)
{
	p->refusal = why;
	git_error_set_str(GIT_ERROR_INDEXER, why);
	return -1;
}

static bool over_object_limit(const struct pack_parser *p, uint64_t size)
{
	return size > p->limits->max_object_size;
}

static void next_object(struct pack_parser *p)
{
	p->done_objects++;
	p->got = 0;
	p->state = p->done_objects == p->nobjects ? ST_TRAILER : ST_OBJ_HEADER;
}

static int parse_pack_header(struct pack_parser *p)
{
	if (memcmp(p->header, "PACK", 4))
		return bad_pack("bad signature");
	if (p->header[4] || p->header[5] || p->header[6] ||
	    (p->header[7] != 2 && p->header[7] != 3))
		return bad_pack("unsupported version");
	p->nobjects = (uint32_t)p->header[8] << 24 | (uint32_t)p->header[9] << 16 |
		      (uint32_t)p->header[10] << 8 | p->header[11];
	if (p->nobjects > p->limits->max_objects)
		return refuse(p, GG_MSG_PACK_TOO_MANY_OBJECTS);
	p->got = 0;
	p->state = p->nobjects ? ST_OBJ_HEADER : ST_TRAILER;
	return 0;
}

/* One byte of an object's type-and-size header. */
static int parse_object_header(struct pack_parser *p, unsigned char c)
{
	if (p->got == 0) {
		p->type = (c >> 4) & 7;
		if (p->type == 0 || p->type == 5)
			return bad_pack("bad object type");
		p->size = c & 15;
		p->shift = 4;
	} else {
		if (p->shift > MAX_SIZE_SHIFT)
			return refuse(p, GG_MSG_OBJECT_TOO_LARGE);
		p->size |= (uint64_t)(c & 0x7f) << p->shift;
		p->shift += 7;
	}
	if (++p->got > MAX_VARINT_BYTES)
		return bad_pack("object header too long");
	if (c & 0x80)
		return 0;
	if (over_object_limit(p, p->size))
		return refuse(p, GG_MSG_OBJECT_TOO_LARGE);
	p->got = 0;
	p->inflated = 0;
	p->delta_field = 0;
	p->delta_value = 0;
	p->delta_shift = 0;
	p->state = p->type == OBJ_OFS_DELTA   ? ST_OFS_BASE
		   : p->type == OBJ_REF_DELTA ? ST_REF_BASE
					      : ST_DATA;
	if (p->type != OBJ_OFS_DELTA && p->type != OBJ_REF_DELTA)
		p->delta_field = 2;
	return 0;
}

/*
 * Looks at what a delta inflated to: its header gives the size of the
 * object it produces, which libgit2 allocates when it applies the delta.
 */
static int scan_delta_header(struct pack_parser *p, const unsigned char *out, size_t len)
{
	size_t i;

	for (i = 0; i < len && p->delta_field < 2; i++) {
		if (p->delta_shift > MAX_SIZE_SHIFT)
			return refuse(p, GG_MSG_OBJECT_TOO_LARGE);
		p->delta_value |= (uint64_t)(out[i] & 0x7f) << p->delta_shift;
		p->delta_shift += 7;
		if (out[i] & 0x80)
			continue;
		if (over_object_limit(p, p->delta_value))
			return refuse(p, GG_MSG_OBJECT_TOO_LARGE);
		p->delta_field++;
		p->delta_value = 0;
		p->delta_shift = 0;
	}
	return 0;
}

/*
 * Inflates what buf holds of the current object's zlib stream, throwing
 * the output away but counting it: an object must inflate to exactly the
 * size its header declared, so no declared size the indexer later
 * allocates for is larger than what was really sent.
 */
static int parse_data(struct pack_parser *p, const unsigned char *buf, size_t len, size_t *used)
{
	int zr;

	p->z.next_in = (Bytef *)buf;
	p->z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
	do {
		size_t produced;

		p->z.next_out = p->sink;
		p->z.avail_out = sizeof(p->sink);
		zr = inflate(&p->z, Z_NO_FLUSH);
		produced = sizeof(p->sink) - p->z.avail_out;
		p->inflated += produced;
		if (p->inflated > p->size)
			return bad_pack("object larger than its header says");
		if (p->delta_field < 2 && scan_delta_header(p, p->sink, produced) < 0)
			return -1;
	} while (zr == Z_OK && (p->z.avail_in || !p->z.avail_out));
	*used = (size_t)((const unsigned char *)p->z.next_in - buf);
	if (zr == Z_STREAM_END) {
		if (p->inflated != p->size)
			return bad_pack("object smaller than its header says");
		if (p->delta_field < 2)
			return bad_pack("truncated delta header");
		inflateReset(&p->z);
		next_object(p);
	} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
		return bad_pack("corrupt object data");
	}
	return 0;
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
			if (p->got == 12 && parse_pack_header(p) < 0)
				return -1;
			break;
		case ST_OBJ_HEADER:
			i++;
			if (parse_object_header(p, c) < 0)
				return -1;
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
			size_t n;

			if (parse_data(p, buf + i, len - i, &n) < 0)
				return -1;
			i += n;
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
	p->total += i;
	if (p->limits->max_input_size && p->total > p->limits->max_input_size)
		return refuse(p, GG_MSG_PACK_TOO_LARGE);
	return 0;
}

/*
 * Every quarantine holds an flock on its QUARANTINE_LOCK file for the life of
 * the process that receives into it; the kernel drops it when that process
 * dies, even by SIGKILL.  The lock file is created under another name, locked,
 * then renamed, so a QUARANTINE_LOCK that exists is always locked by a live
 * receiver or left by a dead one.
 */
#define QUARANTINE_LOCK ".gitgate-lock"

/*
 * Removes the quarantines of receivers that died without cleaning up (killed
 * mid-push): those whose lock file exists and can be locked.  A directory
 * without the lock file is left alone (it may be being created right now).
 */
static void sweep_dead_quarantines(const char *objects_dir)
{
	DIR *d = opendir(objects_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *dir, *lock;
		int fd;

		if (strncmp(de->d_name, "incoming-", 9) != 0)
			continue;
		dir = gg_strdup_printf("%s/%s", objects_dir, de->d_name);
		lock = dir ? gg_strdup_printf("%s/" QUARANTINE_LOCK, dir) : NULL;
		fd = lock ? open(lock, O_RDWR | O_CLOEXEC) : -1;
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			gg_warn("removing the quarantine %s of a receiver that died mid-push", dir);
			remove_tree(dir);
		}
		if (fd >= 0)
			close(fd);
		free(lock);
		free(dir);
	}
	closedir(d);
}

static int lock_quarantine(struct gg_quarantine *q)
{
	char *tmp = gg_strdup_printf("%s/.gitgate-lock-new", q->dir);
	char *lock = gg_strdup_printf("%s/" QUARANTINE_LOCK, q->dir);
	int fd = -1;

	if (tmp && lock && (fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0 &&
	    (flock(fd, LOCK_EX) < 0 || rename(tmp, lock) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		git_error_set(GIT_ERROR_OS, "cannot lock quarantine %s: %s", q->dir,
			      strerror(errno));
	free(tmp);
	free(lock);
	return fd;
}

static int make_quarantine(struct gg_quarantine *q, git_repository *repo)
{
	const char *objects = git_repository_commondir(repo);
	char *pack_dir = NULL, *objects_dir;
	int error = -1;

	if ((objects_dir = gg_strdup_printf("%sobjects", objects))) {
		sweep_dead_quarantines(objects_dir);
		free(objects_dir);
	}
	if (!(q->dir = gg_strdup_printf("%sobjects/incoming-XXXXXX", objects)))
		goto oom;
	if (!mkdtemp(q->dir)) {
		git_error_set(GIT_ERROR_OS, "cannot create quarantine %s: %s", q->dir,
			      strerror(errno));
		free(q->dir);
		q->dir = NULL;
		return -1;
	}
	/* From here on q->dir != NULL means q->lock_fd is open. */
	if ((q->lock_fd = lock_quarantine(q)) < 0) {
		remove_tree(q->dir);
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

/* Reads up to len bytes of the pack; 0 bytes is an early EOF. */
static int read_some(struct gg_pkt_reader *r, unsigned char *buf, size_t len, size_t *n)
{
	if (gg_pkt_read_raw(r, buf, len, n) < 0)
		return -1;
	if (*n == 0) {
		git_error_set_str(GIT_ERROR_NET, "early EOF: the pack is incomplete");
		return -1;
	}
	return 0;
}

/* Reads exactly len raw bytes into buf, feeding them through the parser. */
static int read_pack_bytes(struct gg_pkt_reader *r, struct pack_parser *p, unsigned char *buf,
			   size_t len)
{
	size_t got = 0, n, used;

	while (got < len) {
		if (read_some(r, buf + got, len - got, &n) < 0)
			return -1;
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

/*
 * The indexer runs on a thread of its own, fed chunks that the parser has
 * already checked: finding where each object ends means inflating it here,
 * and libgit2 inflates and hashes it again, so the two halves of the work
 * run on two cores instead of one after the other.  At most PIPE_SLOTS
 * chunks wait, so memory stays bounded whatever the client sends.
 */
#define PIPE_SLOTS 4

struct chunk {
	unsigned char *data;
	size_t len;
};

struct index_pipe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct chunk slots[PIPE_SLOTS];
	size_t head, count;
	bool closed;  /* no more chunks will come */
	bool failed;  /* the indexer refused a chunk; message holds why */
	bool aborted; /* the reader gave up: drop what waits */
	char message[256];
	git_indexer *idx;
	git_indexer_progress stats;
	pthread_t thread;
	bool started;
};

static void *index_thread(void *arg)
{
	struct index_pipe *ip = arg;

	for (;;) {
		struct chunk c;
		bool failed;

		pthread_mutex_lock(&ip->lock);
		while (!ip->count && !ip->closed)
			pthread_cond_wait(&ip->cond, &ip->lock);
		if (!ip->count) {
			pthread_mutex_unlock(&ip->lock);
			return NULL;
		}
		c = ip->slots[ip->head];
		ip->head = (ip->head + 1) % PIPE_SLOTS;
		ip->count--;
		failed = ip->failed || ip->aborted;
		pthread_cond_broadcast(&ip->cond);
		pthread_mutex_unlock(&ip->lock);
		if (!failed && git_indexer_append(ip->idx, c.data, c.len, &ip->stats) < 0) {
			const git_error *e = git_error_last();

			pthread_mutex_lock(&ip->lock);
			snprintf(ip->message, sizeof(ip->message), "%s",
				 e && e->message ? e->message : "index-pack failed");
			ip->failed = true;
			pthread_cond_broadcast(&ip->cond);
			pthread_mutex_unlock(&ip->lock);
		}
		free(c.data);
	}
}

static int pipe_start(struct index_pipe *ip, git_indexer *idx)
{
	ip->idx = idx;
	if (pthread_mutex_init(&ip->lock, NULL) || pthread_cond_init(&ip->cond, NULL) ||
	    pthread_create(&ip->thread, NULL, index_thread, ip)) {
		git_error_set_str(GIT_ERROR_OS, "cannot start the indexer thread");
		return -1;
	}
	ip->started = true;
	return 0;
}

/* Hands data (malloc'd, taken over) to the indexer thread; -1 once it failed. */
static int pipe_push(struct index_pipe *ip, unsigned char *data, size_t len)
{
	int error = 0;

	pthread_mutex_lock(&ip->lock);
	while (ip->count == PIPE_SLOTS && !ip->failed)
		pthread_cond_wait(&ip->cond, &ip->lock);
	if (ip->failed) {
		error = -1;
	} else {
		ip->slots[(ip->head + ip->count) % PIPE_SLOTS] = (struct chunk){data, len};
		ip->count++;
		pthread_cond_broadcast(&ip->cond);
	}
	pthread_mutex_unlock(&ip->lock);
	if (error) {
		free(data);
		git_error_set_str(GIT_ERROR_INDEXER, ip->message);
	}
	return error;
}

/*
 * Waits until the indexer has taken everything (or, with abort, dropped
 * what still waits) and stops its thread; -1 when it failed.
 */
static int pipe_finish(struct index_pipe *ip, bool abort)
{
	if (!ip->started)
		return -1;
	pthread_mutex_lock(&ip->lock);
	ip->closed = true;
	ip->aborted = abort;
	pthread_cond_broadcast(&ip->cond);
	pthread_mutex_unlock(&ip->lock);
	pthread_join(ip->thread, NULL);
	pthread_cond_destroy(&ip->cond);
	pthread_mutex_destroy(&ip->lock);
	ip->started = false;
	if (ip->failed) {
		git_error_set_str(GIT_ERROR_INDEXER, ip->message);
		return -1;
	}
	return 0;
}

int gg_pack_receive(struct gg_quarantine *q, git_repository *repo, struct gg_pkt_reader *r,
		    const struct gg_pack_limits *limits, git_indexer_progress_cb progress,
		    void *progress_ctx)
{
	git_indexer_progress stats;
	struct index_pipe pipe;
	struct pack_parser *p = NULL;
	git_indexer *idx = NULL;
	git_odb *repo_odb = NULL;
	unsigned char header[12], trailer[20];
	int error = -1;

	memset(q, 0, sizeof(*q));
	memset(&stats, 0, sizeof(stats));
	memset(&pipe, 0, sizeof(pipe));
	if (!(p = calloc(1, sizeof(*p)))) {
		git_error_set_oom();
		goto done;
	}
	/* The header is checked before the indexer sizes anything by it. */
	if (parser_init(p, limits) < 0 || read_pack_bytes(r, p, header, sizeof(header)) < 0)
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
	/* From here the indexer thread owns idx and its statistics until pipe_finish. */
	pipe.stats = stats;
	if ((error = pipe_start(&pipe, idx)) < 0)
		goto done;
	error = -1;
	while (p->state != ST_DONE) {
		unsigned char *buf = malloc(GG_PACK_READ_SIZE);
		size_t n, used;

		if (!buf) {
			git_error_set_oom();
			goto done;
		}
		if (read_some(r, buf, GG_PACK_READ_SIZE, &n) < 0 || parse(p, buf, n, &used) < 0) {
			free(buf);
			goto done;
		}
		/*
		 * Only what the parser accepted reaches the indexer; anything
		 * after the trailer is not ours to index.
		 */
		if (pipe_push(&pipe, buf, used) < 0)
			goto done;
	}
	if ((error = pipe_finish(&pipe, false)) < 0 ||
	    (error = git_indexer_commit(idx, &pipe.stats)) < 0)
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
	if (pipe.started) {
		/* Stopped early: what waits is dropped, and the reason kept. */
		const git_error *e = git_error_last();
		int klass = e ? e->klass : GIT_ERROR_INDEXER;
		char why[256];

		snprintf(why, sizeof(why), "%s",
			 e && e->message ? e->message : "index-pack failed");
		pipe_finish(&pipe, true);
		git_error_set_str(klass, why);
	}
	git_indexer_free(idx);
	git_odb_free(repo_odb);
	if (error < 0) {
		const char *refusal = p ? p->refusal : NULL;

		gg_quarantine_discard(q);
		q->refusal = refusal;
	}
	if (p)
		parser_clear(p);
	free(p);
	return error;
}

int gg_pack_drain(struct gg_quarantine *q, struct gg_pkt_reader *r,
		  const struct gg_pack_limits *limits)
{
	struct pack_parser *p = NULL;
	unsigned char *buf = NULL;
	size_t n, used;
	int error = -1;

	memset(q, 0, sizeof(*q));
	if (!(p = calloc(1, sizeof(*p))) || !(buf = malloc(GG_PACK_READ_SIZE))) {
		git_error_set_oom();
		goto done;
	}
	if (parser_init(p, limits) < 0)
		goto done;
	while (p->state != ST_DONE) {
		if (read_some(r, buf, GG_PACK_READ_SIZE, &n) < 0 || parse(p, buf, n, &used) < 0)
			goto done;
	}
	error = 0;
done:
	if (p) {
		q->refusal = p->refusal;
		parser_clear(p);
	}
	free(p);
	free(buf);
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
	if (q->dir) {
		remove_tree(q->dir);
		close(q->lock_fd);
	}
	free(q->dir);
	free(q->pack_name);
	free(q->moved_pack);
	free(q->moved_idx);
	memset(q, 0, sizeof(*q));
}
