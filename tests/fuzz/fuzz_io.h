/*
 * fuzz_io.h - a gg_git_io over the fuzzer's input: reads hand out the input
 * in chunks whose sizes come from the input itself (so packets straddle read
 * boundaries as they do on a socket), writes are counted and dropped.
 */
#ifndef GG_FUZZ_IO_H
#define GG_FUZZ_IO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "serve.h"

struct fuzz_io {
	const uint8_t *data;
	size_t size, pos;
	size_t chunk; /* 0: hand out as much as asked for */
	size_t written;
};

static inline ssize_t fuzz_io_read(void *ctx, void *buf, size_t len)
{
	struct fuzz_io *f = ctx;
	size_t n = f->size - f->pos;

	if (n > len)
		n = len;
	if (f->chunk && n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static inline ssize_t fuzz_io_write(void *ctx, const void *buf, size_t len)
{
	struct fuzz_io *f = ctx;

	(void)buf;
	f->written += len;
	return (ssize_t)len;
}

static inline void fuzz_io_init(struct fuzz_io *f, struct gg_git_io *io, const uint8_t *data,
				size_t size, size_t chunk)
{
	memset(f, 0, sizeof(*f));
	f->data = data;
	f->size = size;
	f->chunk = chunk;
	io->ctx = f;
	io->read = fuzz_io_read;
	io->write = fuzz_io_write;
}

#endif
