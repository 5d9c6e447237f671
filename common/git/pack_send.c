/*
 * pack_send.c - see pack_send.h.
 *
 * Threads: libgit2 calls the delta-search progress callback from its
 * worker threads and the keep-alive thread writes on its own, so every
 * write to the wire goes through sender_write() under sender.lock.
 */
#include "pack_send.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktline.h"

#define PROGRESS_INTERVAL_MS 1000
#define DEFAULT_KEEPALIVE    5

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

static int on_object(void *ctx, const git_oid *oid, git_object_t type, const char *name)
{
	struct sender *s = ctx;

	(void)type;
	return git_packbuilder_insert(s->pb, oid, name);
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
	if ((error = git_packbuilder_new(&s->pb, req->repo)) < 0)
		goto done;
	git_packbuilder_set_threads(s->pb, opts->threads);
	if ((error = git_packbuilder_set_callbacks(s->pb, on_pack_progress, s)) < 0)
		goto done;
	if ((error = gg_object_walk(req, on_object, on_walk_progress, s)) != 0)
		goto done;
	s->nobjects = git_packbuilder_object_count(s->pb);
	send_progress(s, true, "Enumerating objects: %zu, done.\n", s->nobjects);
	send_progress(s, true, "Counting objects: 100%% (%zu/%zu), done.\n", s->nobjects,
		      s->nobjects);
	if ((error = git_packbuilder_foreach(s->pb, on_pack_data, s)) < 0 ||
	    (error = flush_out(s)) < 0)
		goto done;
	/* libgit2 does not tell how many objects became deltas. */
	send_progress(s, true, "Total %zu, reused 0, pack-reused 0\n",
		      git_packbuilder_written(s->pb));
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
