/*
 * pktline.h - Git's pkt-line framing, read and written over a gg_git_io.
 *
 * Every Git conversation is a stream of packets: four hex digits giving the
 * length (the digits included), then the payload.  Lengths 0000, 0001 and
 * 0002 are the flush, delimiter and response-end markers.  Packetizing lets
 * either side know where a message ends without parsing it, and lets the
 * pack stream be multiplexed with progress and errors (side-band).
 *
 * The invariant of the reader: a packet is fully read into a buffer of
 * GG_PKT_MAX + 1 bytes and NUL-terminated before anyone looks at it, and a
 * length outside 4..65520 is a protocol error, never a read past the end.
 * Parsing of the payload goes through the bounds-checked helpers below.
 */
#ifndef GG_GIT_PKTLINE_H
#define GG_GIT_PKTLINE_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve.h"
#include "util.h"

#define GG_PKT_MAX		   65520	    /* whole packet, length digits included */
#define GG_PKT_MAX_PAYLOAD	   (GG_PKT_MAX - 4) /* 65516 */
#define GG_SIDEBAND_MAX_DATA	   (GG_PKT_MAX - 5) /* 65515: payload after the band byte */
#define GG_SIDEBAND_SMALL_MAX_DATA (1000 - 5)	    /* "side-band" without -64k */

enum gg_pkt_type {
	GG_PKT_EOF,	     /* the peer closed the stream at a packet boundary */
	GG_PKT_DATA,	     /* a packet with a payload (possibly empty, "0004") */
	GG_PKT_FLUSH,	     /* 0000 */
	GG_PKT_DELIM,	     /* 0001 */
	GG_PKT_RESPONSE_END, /* 0002 */
};

enum gg_sideband_channel {
	GG_BAND_DATA = 1,
	GG_BAND_PROGRESS = 2,
	GG_BAND_ERROR = 3,
};

#define GG_PKT_READ_BUF 65536

struct gg_pkt_reader {
	const struct gg_git_io *io;
	/* Bytes read from io but not yet consumed. */
	unsigned char in[GG_PKT_READ_BUF];
	size_t in_pos, in_end;
	/* The last packet read: type, payload (NUL-terminated) and its length. */
	enum gg_pkt_type type;
	char line[GG_PKT_MAX + 1];
	size_t len;
};

/* Prepares r to read from io.  r is large (~128 KiB): allocate it. */
void gg_pkt_reader_init(struct gg_pkt_reader *r, const struct gg_git_io *io);

/*
 * Reads the next packet into r->type / r->line / r->len.  A trailing LF is
 * removed from the payload.  0 on success (including GG_PKT_EOF at a packet
 * boundary); -1 on a malformed length, an EOF inside a packet or an I/O
 * error, with the reason in git_error_last().
 */
int gg_pkt_read(struct gg_pkt_reader *r);

/*
 * Reads up to len raw (unframed) bytes, first from what the reader has
 * buffered, then from the wire: the pack sent by a pushing client follows
 * its commands without pkt-line framing.  *nread is 0 only at end of input.
 */
int gg_pkt_read_raw(struct gg_pkt_reader *r, void *buf, size_t len, size_t *nread);

/* Writes all len bytes to io, retrying short writes.  0 or -1. */
int gg_io_write_all(const struct gg_git_io *io, const void *data, size_t len);

/* One packet with the given payload (at most GG_PKT_MAX_PAYLOAD bytes). */
int gg_pkt_write(const struct gg_git_io *io, const void *data, size_t len);
int gg_pkt_printf(const struct gg_git_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int gg_pkt_flush(const struct gg_git_io *io);
int gg_pkt_delim(const struct gg_git_io *io);
int gg_pkt_response_end(const struct gg_git_io *io);
/* "ERR <message>": the client shows "remote error: <message>" and stops. */
int gg_pkt_error(const struct gg_git_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Sends len bytes on a side-band channel, split into packets carrying at
 * most max_data bytes each (GG_SIDEBAND_MAX_DATA for side-band-64k).
 * len 0 sends one empty packet of that band: a keep-alive.
 */
int gg_sideband_write(const struct gg_git_io *io, int band, const void *data, size_t len,
		      size_t max_data);

/* Appends one pkt-line (or a flush) to a buffer, for nested framing. */
int gg_pkt_buf_printf(struct gg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gg_pkt_buf_flush(struct gg_buf *b);

/*
 * Bounds-checked parsing of a received payload.  The payload is a
 * NUL-terminated string (the reader guarantees the terminator), so these
 * only ever look at bytes up to that terminator.
 */

/* If s starts with prefix, points *rest after it and returns true. */
bool gg_skip_prefix(const char *s, const char *prefix, const char **rest);

/*
 * Parses exactly 40 hex digits at s into out; *end (if not NULL) points
 * after them and the caller checks what follows.  With end NULL the string
 * must end right after the digits.  0 or -1.
 */
int gg_parse_oid(git_oid *out, const char *s, const char **end);

/* Parses a whole string as a non-negative decimal that fits in a long long. */
int gg_parse_ullong(unsigned long long *out, const char *s);

/*
 * Looks for a capability in a space-separated list: "name" alone, or
 * "name=value" (then *value / *value_len describe the value).
 */
bool gg_has_capability(const char *caps, const char *name, const char **value, size_t *value_len);

#endif
