/*
 * pack_send.c - see pack_send.h.
 *
 * Threads: libgit2 calls the delta-search progress callback from its
 * worker threads and the keep-alive thread writes on its own, so every
 * write to the wire goes through sender_write() under sender.lock.
 */
#include "pack_send.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "pack_copy.h"
#include "pack_reuse.h"
#include "pktline.h"

#define PROGRESS_INTERVAL_MS 1000
#define DEFAULT_KEEPALIVE    5

struct plan;

struct sender {
	const struct gg_git_io *io;
	const struct gg_pack_send_options *opts;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool failed;		/* a write failed: the peer is gone */
	uint64_t last_write_ms; /* monotonic time of the last write */
	uint64_t last_progress_ms;
	bool delta_reported; /* "Compressing objects ... done." was sent */
	unsigned delta_total;
	size_t nobjects;
	git_packbuilder *pb;
	git_repository *plan_repo;
	struct plan *plan;
	/* Pack bytes waiting to fill a side-band packet. */
	unsigned char out[GG_SIDEBAND_MAX_DATA];
	size_t out_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Writes one band (or raw bytes when there is no side-band). */
static int sender_write(struct sender *s, int band, const void *data, size_t len)
{
	int error = 0;

	pthread_mutex_lock(&s->lock);
	if (s->failed) {
		error = -1;
	} else {
		if (s->opts->sideband)
			error = gg_sideband_write(s->io, band, data, len, s->opts->sideband);
		else if (band == GG_BAND_DATA)
			error = gg_io_write_all(s->io, data, len);
		if (error < 0)
			s->failed = true;
		s->last_write_ms = now_ms();
	}
	pthread_mutex_unlock(&s->lock);
	return error;
}

static bool sender_failed(struct sender *s)
{
	bool failed;

	pthread_mutex_lock(&s->lock);
	failed = s->failed;
	pthread_mutex_unlock(&s->lock);
	return failed;
}

static void send_progress(struct sender *s, bool force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void send_progress(struct sender *s, bool force, const char *fmt, ...)
{
	char msg[256];
	uint64_t now = now_ms();
	va_list ap;
	int n;

	if (!s->opts->progress || !s->opts->sideband)
		return;
	if (!force && now - s->last_progress_ms < PROGRESS_INTERVAL_MS)
		return;
	s->last_progress_ms = now;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		sender_write(s, GG_BAND_PROGRESS, msg,
			     (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static void *keepalive_main(void *arg)
{
	struct sender *s = arg;
	uint64_t interval = (s->opts->keepalive ? s->opts->keepalive : DEFAULT_KEEPALIVE) * 1000ull;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec until;
		uint64_t idle = now_ms() - s->last_write_ms;

		if (idle >= interval && !s->failed) {
			/* An empty data packet: the client's demuxer drops it. */
			if (gg_sideband_write(s->io, GG_BAND_DATA, "", 0, s->opts->sideband) < 0)
				s->failed = true;
			s->last_write_ms = now_ms();
			idle = 0;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)((interval - idle) / 1000);
		until.tv_nsec += (long)((interval - idle) % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->wake, &s->lock, &until);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int on_walk_progress(void *ctx, size_t count)
{
	struct sender *s = ctx;

	s->nobjects = count;
	send_progress(s, false, "Enumerating objects: %zu\r", count);
	return sender_failed(s) ? -1 : 0;
}

static int on_pack_progress(int stage, uint32_t current, uint32_t total, void *payload)
{
	struct sender *s = payload;

	if (stage != GIT_PACKBUILDER_DELTAFICATION || !total)
		return 0;
	s->delta_total = total;
	send_progress(s, false, "Compressing objects: %3u%% (%u/%u)\r",
		      (unsigned)((uint64_t)current * 100 / total), current, total);
	return sender_failed(s) ? -1 : 0;
}

static int flush_out(struct sender *s)
{
	int error = 0;

	if (s->out_len)
		error = sender_write(s, GG_BAND_DATA, s->out, s->out_len);
	s->out_len = 0;
	return error;
}

static int on_pack_data(void *buf, size_t size, void *payload)
{
	struct sender *s = payload;
	size_t cap = s->opts->sideband ? s->opts->sideband : sizeof(s->out);
	const unsigned char *p = buf;

	if (!s->delta_reported) {
		s->delta_reported = true;
		if (s->delta_total)
			send_progress(s, true, "Compressing objects: 100%% (%u/%u), done.\n",
				      s->delta_total, s->delta_total);
	}
	if (cap > sizeof(s->out))
		cap = sizeof(s->out);
	while (size) {
		size_t n = cap - s->out_len;

		if (n > size)
			n = size;
		memcpy(s->out + s->out_len, p, n);
		s->out_len += n;
		p += n;
		size -= n;
		if (s->out_len == cap && flush_out(s) < 0)
			return -1;
	}
	return 0;
}

static void stop_keepalive(struct sender *s, pthread_t thread)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(thread, NULL);
}

/* ---- the plan: every object to send, and whether its packed entry is copied ------------ */

#define PACK_HEADER  12
#define PACK_TRAILER 20
#define READ_CHUNK   (1u << 20)
#define NO_NAME	     UINT32_MAX

enum how { BUILD, COPY_WHOLE, COPY_DELTA };

struct plan_obj {
	git_oid oid;
	uint32_t name; /* offset into plan.names, or NO_NAME */
	uint8_t how;
	struct gg_pack_entry e;
};

struct plan {
	struct plan_obj *objs;
	size_t nr, alloc;
	struct gg_oidmap index; /* oid -> (void *)(position + 1) */
	char *names;
	size_t names_len, names_alloc;
	/* Already in the stream (a reused pack sent whole): neither listed nor built. */
	const struct gg_pack_index *skip;
	/* Known to the client (thin pack): delta bases that need not be sent.  May be NULL. */
	const struct gg_oidmap *known;
	size_t ncopied, ncopied_deltas, nbuilt;
	git_buf built; /* the packbuilder's pack for the BUILD objects */
};

static void plan_clear(struct plan *p)
{
	free(p->objs);
	free(p->names);
	gg_oidmap_clear(&p->index);
	git_buf_dispose(&p->built);
}

static int plan_add_name(struct plan *p, const char *name, uint32_t *out)
{
	size_t len = strlen(name) + 1;

	*out = NO_NAME;
	if (p->names_len + len >= NO_NAME)
		return 0; /* no name: only a worse delta search */
	if (p->names_len + len > p->names_alloc) {
		size_t n = p->names_alloc ? p->names_alloc * 2 : 65536;
		char *b;

		while (n < p->names_len + len)
			n *= 2;
		if (!(b = realloc(p->names, n))) {
			git_error_set_oom();
			return -1;
		}
		p->names = b;
		p->names_alloc = n;
	}
	memcpy(p->names + p->names_len, name, len);
	*out = (uint32_t)p->names_len;
	p->names_len += len;
	return 0;
}

static int on_object(void *ctx, const git_oid *oid, git_object_t type, const char *name)
{
	struct sender *s = ctx;
	struct plan *p = s->plan;
	struct plan_obj *o;
	void **slot;

	(void)type;
	if (p->skip && gg_pack_index_contains(p->skip, oid))
		return 0;
	if (p->nr == p->alloc) {
		size_t n = p->alloc ? p->alloc * 2 : 1024;
		struct plan_obj *no = realloc(p->objs, n * sizeof(*no));

		if (!no) {
			git_error_set_oom();
			return -1;
		}
		p->objs = no;
		p->alloc = n;
	}
	o = &p->objs[p->nr];
	memset(o, 0, sizeof(*o));
	git_oid_cpy(&o->oid, oid);
	o->name = NO_NAME;
	if (name && plan_add_name(p, name, &o->name) < 0)
		return -1;
	if (gg_oidmap_insert(&p->index, oid, &slot) < 0)
		return -1;
	*slot = (void *)(uintptr_t)(p->nr + 1);
	p->nr++;
	return 0;
}

/*
 * Chooses for each object: copy its packed entry whole, copy its delta
 * (as REF_DELTA) when the base is in the stream or known to the client, or
 * build it.  A copied delta points only at an entry of its own pack (a
 * pack's deltas have no cycles), at the reused pack, at a built object or at
 * an object the client has, so the pack sent never holds a delta cycle.
 */
static int plan_decide(struct plan *p, struct gg_pack_set *set)
{
	size_t i;
	int error;

	for (i = 0; i < p->nr; i++) {
		struct plan_obj *o = &p->objs[i];

		error = gg_pack_set_locate(&o->e, set, &o->oid);
		if (error == GIT_ENOTFOUND) {
			o->how = BUILD;
			continue;
		}
		if (error < 0)
			return error;
		o->how = o->e.type == GG_PACK_OBJ_OFS_DELTA || o->e.type == GG_PACK_OBJ_REF_DELTA
			     ? COPY_DELTA
			     : COPY_WHOLE;
	}
	for (i = 0; i < p->nr; i++) {
		struct plan_obj *o = &p->objs[i];
		uintptr_t j;

		if (o->how != COPY_DELTA)
			continue;
		if (p->skip && gg_pack_index_contains(p->skip, &o->e.base))
			continue;
		j = (uintptr_t)gg_oidmap_get(&p->index, &o->e.base);
		if (j && (p->objs[j - 1].how == BUILD || p->objs[j - 1].e.pack == o->e.pack))
			continue;
		if (!j && p->known && gg_oidmap_contains(p->known, &o->e.base))
			continue;
		o->how = BUILD;
	}
	for (i = 0; i < p->nr; i++) {
		if (p->objs[i].how == BUILD)
			p->nbuilt++;
		else
			p->ncopied++;
		if (p->objs[i].how == COPY_DELTA)
			p->ncopied_deltas++;
	}
	return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Builds the objects no entry could be copied for, into plan->built. */
static int plan_build(struct sender *s)
{
	struct plan *p = s->plan;
	size_t i;
	int error;

	if (!p->nbuilt)
		return 0;
	if ((error = git_packbuilder_new(&s->pb, s->plan_repo)) < 0)
		return error;
	git_packbuilder_set_threads(s->pb, s->opts->threads);
	if ((error = git_packbuilder_set_callbacks(s->pb, on_pack_progress, s)) < 0)
		return error;
	for (i = 0; i < p->nr; i++) {
		const struct plan_obj *o = &p->objs[i];

		if (o->how == BUILD &&
		    (error = git_packbuilder_insert(
			 s->pb, &o->oid, o->name == NO_NAME ? NULL : p->names + o->name)) < 0)
			return error;
	}
	if ((error = git_packbuilder_write_buf(&p->built, s->pb)) < 0)
		return error;
	if (p->built.size < PACK_HEADER + PACK_TRAILER || memcmp(p->built.ptr, "PACK", 4) ||
	    get_be32((unsigned char *)p->built.ptr + 8) != p->nbuilt) {
		git_error_set_str(GIT_ERROR_ODB, "packbuilder wrote an unexpected pack");
		return -1;
	}
	if (s->delta_total)
		send_progress(s, true, "Compressing objects: 100%% (%u/%u), done.\n",
			      s->delta_total, s->delta_total);
	s->delta_reported = true;
	return 0;
}

/* Hashes and sends pack bytes. */
static int send_hashed(struct sender *s, EVP_MD_CTX *sha, const void *data, size_t len)
{
	if (!EVP_DigestUpdate(sha, data, len)) {
		git_error_set_str(GIT_ERROR_SHA, "SHA-1 update failed");
		return -1;
	}
	return on_pack_data((void *)data, len, s);
}

/* Opens the pack of rp and checks it against its index.  fd or -1. */
static int open_reused_pack(const struct gg_reuse_pack *rp, off_t *size)
{
	unsigned char head[PACK_HEADER], tail[PACK_TRAILER];
	struct stat st;
	/* The pack opened with its record: a maintenance run may have deleted it since. */
	int fd = gg_reuse_pack_open(rp);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < PACK_HEADER + PACK_TRAILER ||
	    pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pread(fd, tail, sizeof(tail), st.st_size - PACK_TRAILER) != (ssize_t)sizeof(tail) ||
	    memcmp(head, "PACK", 4) || get_be32(head + 4) != 2 ||
	    get_be32(head + 8) != rp->idx.nr || memcmp(tail, rp->idx.checksum.id, PACK_TRAILER)) {
		git_error_set(GIT_ERROR_ODB, "pack '%s' does not match its index",
			      rp->idx.pack_path);
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/* Sends the body of the reused pack: everything between its header and trailer. */
static int send_pack_body(struct sender *s, EVP_MD_CTX *sha, const struct gg_reuse_pack *rp, int fd,
			  off_t size)
{
	unsigned char *chunk = NULL;
	off_t pos;
	int error = 0;

	if (!(chunk = malloc(READ_CHUNK))) {
		git_error_set_oom();
		return -1;
	}
	for (pos = PACK_HEADER; pos < size - PACK_TRAILER && !error;) {
		size_t want = (size_t)(size - PACK_TRAILER - pos);
		ssize_t n;

		if (want > READ_CHUNK)
			want = READ_CHUNK;
		n = pread(fd, chunk, want, pos);
		if (n <= 0) {
			git_error_set(GIT_ERROR_OS, "cannot read '%s': %s", rp->idx.pack_path,
				      n < 0 ? strerror(errno) : "unexpected end of file");
			error = -1;
			break;
		}
		error = send_hashed(s, sha, chunk, (size_t)n);
		pos += n;
	}
	free(chunk);
	return error;
}

/*
 * Streams the pack: header, the reused pack's body (rp may be NULL), the
 * copied entries, the built objects, the SHA-1 trailer.
 */
static int send_planned(struct sender *s, const struct gg_pack_set *set,
			const struct gg_reuse_pack *rp)
{
	struct plan *p = s->plan;
	unsigned char head[PACK_HEADER], digest[EVP_MAX_MD_SIZE], hdr[32];
	uint32_t reused = rp ? rp->idx.nr : 0;
	uint64_t total = (uint64_t)reused + p->ncopied + p->nbuilt;
	EVP_MD_CTX *sha = NULL;
	unsigned int dlen = 0;
	off_t size = 0;
	uint64_t written = reused;
	size_t i;
	int fd = -1, error = -1;

	if (total > UINT32_MAX) {
		git_error_set_str(GIT_ERROR_INVALID, "too many objects for one pack");
		return -1;
	}
	/* Opened before the first byte, so a vanished pack fails the fetch cleanly. */
	if (rp && (fd = open_reused_pack(rp, &size)) < 0)
		return -1;
	if (!(sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(sha, EVP_sha1(), NULL)) {
		git_error_set_str(GIT_ERROR_SHA, "cannot start SHA-1");
		goto done;
	}
	memcpy(head, "PACK", 4);
	put_be32(head + 4, 2);
	put_be32(head + 8, (uint32_t)total);
	if ((error = send_hashed(s, sha, head, sizeof(head))) < 0)
		goto done;
	if (rp && (error = send_pack_body(s, sha, rp, fd, size)) < 0)
		goto done;
	for (i = 0; i < p->nr; i++) {
		const struct plan_obj *o = &p->objs[i];
		/* Objects built by the packbuilder have no pack (and a repository
		 * without packs has no set->packs at all). */
		const struct gg_pack_file *f = o->how == BUILD ? NULL : &set->packs[o->e.pack];

		if (o->how == COPY_WHOLE) {
			error = send_hashed(s, sha, f->map + o->e.offset, o->e.end - o->e.offset);
		} else if (o->how == COPY_DELTA) {
			size_t n = gg_pack_ref_delta_header(hdr, &o->e);

			if ((error = send_hashed(s, sha, hdr, n)) == 0)
				error =
				    send_hashed(s, sha, f->map + o->e.data, o->e.end - o->e.data);
		}
		if (error < 0)
			goto done;
		if (o->how != BUILD)
			written++;
	}
	if (p->nbuilt) {
		if ((error = send_hashed(s, sha, p->built.ptr + PACK_HEADER,
					 p->built.size - PACK_HEADER - PACK_TRAILER)) < 0)
			goto done;
		written += get_be32((unsigned char *)p->built.ptr + 8);
	}
	/* Self-check: never finish a pack whose header promises other than what was sent. */
	if (written != total) {
		git_error_set(GIT_ERROR_INTERNAL,
			      "pack of %" PRIu64 " objects announced but %" PRIu64 " written",
			      total, written);
		error = -1;
		goto done;
	}
	if (!EVP_DigestFinal_ex(sha, digest, &dlen) || dlen != PACK_TRAILER) {
		git_error_set_str(GIT_ERROR_SHA, "SHA-1 failed");
		error = -1;
		goto done;
	}
	if ((error = on_pack_data(digest, dlen, s)) < 0 || (error = flush_out(s)) < 0)
		goto done;
	send_progress(s, true, "Total %u (delta %zu), reused %zu (delta %zu), pack-reused %u\n",
		      (uint32_t)total, p->ncopied_deltas, p->ncopied + reused, p->ncopied_deltas,
		      reused);
done:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(sha);
	return error;
}

/* Only whole-history requests may start from a recorded pack. */
static bool may_reuse(const struct gg_walk_request *req)
{
	return (!req->haves || !req->haves->nr) && !req->shallow &&
	       (!req->edges || !req->edges->nr) && req->filter.kind == GG_FILTER_NONE &&
	       req->wants->nr && !getenv("GITGATE_NO_PACK_REUSE");
}

/* Deltas against what the client has only when it asked and surely has it. */
static bool may_thin(const struct gg_walk_request *req, const struct gg_pack_send_options *opts)
{
	return opts->thin && !req->shallow && req->filter.kind == GG_FILTER_NONE;
}

static int send_pack(struct sender *s, const struct gg_walk_request *req)
{
	struct gg_walk_request r = *req;
	struct gg_reuse_pack rp;
	struct gg_pack_set set;
	struct gg_oidmap known = GG_OIDMAP_INIT;
	struct plan plan;
	bool reusing = false;
	uint64_t total;
	int error;

	memset(&plan, 0, sizeof(plan));
	memset(&rp, 0, sizeof(rp));
	memset(&set, 0, sizeof(set));
	s->plan = &plan;
	if (may_reuse(req)) {
		if ((error = gg_pack_reuse_find(&rp, req->repo, req->wants)) < 0) {
			/* Only a shortcut: without it the pack is built as for any fetch. */
			gg_warn("pack reuse: %s",
				git_error_last() ? git_error_last()->message : "failed");
			git_error_clear();
		}
		if (error == 0)
			gg_pack_maintain_first(req->repo);
		if (error == 1) {
			/* What the wants reach beyond the recorded tips, less the pack. */
			reusing = true;
			r.haves = &rp.tips;
			plan.skip = &rp.idx;
		}
	}
	if (!reusing && may_thin(req, s->opts)) {
		r.known = &known;
		plan.known = &known;
	}
	if ((error = gg_object_walk(&r, on_object, on_walk_progress, s)) != 0 ||
	    (error = gg_pack_set_open(&set, req->repo)) < 0 ||
	    (error = plan_decide(&plan, &set)) < 0)
		goto done;
	total = (reusing ? rp.idx.nr : 0) + plan.nr;
	send_progress(s, true, "Enumerating objects: %" PRIu64 ", done.\n", total);
	send_progress(s, true, "Counting objects: 100%% (%" PRIu64 "/%" PRIu64 "), done.\n", total,
		      total);
	if ((error = plan_build(s)) < 0)
		goto done;
	if (reusing)
		gg_info("pack reuse: %s, %u objects reused + %zu copied + %zu built",
			strrchr(rp.idx.pack_path, '/') + 1, rp.idx.nr, plan.ncopied, plan.nbuilt);
	else
		gg_debug("pack: %zu objects, %zu copied (%zu deltas), %zu built%s", plan.nr,
			 plan.ncopied, plan.ncopied_deltas, plan.nbuilt,
			 plan.known ? ", thin" : "");
	error = send_planned(s, &set, reusing ? &rp : NULL);
done:
	s->plan = NULL;
	plan_clear(&plan);
	gg_pack_set_clear(&set);
	gg_oidmap_clear(&known);
	gg_reuse_pack_clear(&rp);
	return error;
}

int gg_pack_send(const struct gg_walk_request *req, const struct gg_git_io *io,
		 const struct gg_pack_send_options *opts)
{
	struct sender *s;
	pthread_t keepalive;
	bool keepalive_started = false;
	int error;

	if (!(s = calloc(1, sizeof(*s)))) {
		git_error_set_oom();
		return -1;
	}
	s->io = io;
	s->opts = opts;
	s->plan_repo = req->repo;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->last_write_ms = now_ms();
	s->last_progress_ms = 0;

	if (opts->sideband) {
		if (pthread_create(&keepalive, NULL, keepalive_main, s) != 0) {
			git_error_set(GIT_ERROR_OS, "cannot start keep-alive thread: %s",
				      strerror(errno));
			error = -1;
			goto done;
		}
		keepalive_started = true;
	}
	error = send_pack(s, req);
done:
	if (keepalive_started)
		stop_keepalive(s, keepalive);
	if (error < 0 && opts->sideband && !sender_failed(s)) {
		const git_error *e = git_error_last();
		char msg[512];
		int n = snprintf(msg, sizeof(msg), "fatal: %s\n",
				 e && e->message ? e->message : "pack generation failed");

		if (n > 0)
			gg_sideband_write(io, GG_BAND_ERROR, msg,
					  (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
					  opts->sideband);
	}
	git_packbuilder_free(s->pb);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return error;
}
