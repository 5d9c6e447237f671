/*
 * pktline.c - see pktline.h.
 */
#include "pktline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void gg_pkt_reader_init(struct gg_pkt_reader *r, const struct gg_git_io *io)
{
	r->io = io;
	r->in_pos = r->in_end = 0;
	r->type = GG_PKT_EOF;
	r->line[0] = '\0';
	r->len = 0;
}

/* Refills the input buffer; *got is 0 at end of input. */
static int fill_input(struct gg_pkt_reader *r, size_t *got)
{
	ssize_t n;

	if (r->in_pos == r->in_end)
		r->in_pos = r->in_end = 0;
	if (r->in_end == sizeof(r->in)) {
		memmove(r->in, r->in + r->in_pos, r->in_end - r->in_pos);
		r->in_end -= r->in_pos;
		r->in_pos = 0;
	}
	do
		n = r->io->read(r->io->ctx, r->in + r->in_end, sizeof(r->in) - r->in_end);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set(GIT_ERROR_NET, "read error: %s", strerror(errno));
		return -1;
	}
	r->in_end += (size_t)n;
	*got = (size_t)n;
	return 0;
}

/* Copies exactly len bytes into out; *eof_at_start when nothing came at all. */
static int read_exact(struct gg_pkt_reader *r, void *out, size_t len, bool *eof_at_start)
{
	unsigned char *dst = out;
	size_t done = 0, got;

	*eof_at_start = false;
	while (done < len) {
		size_t avail = r->in_end - r->in_pos;

		if (avail == 0) {
			if (fill_input(r, &got) < 0)
				return -1;
			if (got == 0) {
				if (done == 0) {
					*eof_at_start = true;
					return 0;
				}
				git_error_set_str(GIT_ERROR_NET,
						  "protocol error: unexpected end of input");
				return -1;
			}
			continue;
		}
		if (avail > len - done)
			avail = len - done;
		memcpy(dst + done, r->in + r->in_pos, avail);
		r->in_pos += avail;
		done += avail;
	}
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gg_pkt_read(struct gg_pkt_reader *r)
{
	unsigned char hdr[4];
	size_t len = 0;
	bool eof;
	int i;

	r->len = 0;
	r->line[0] = '\0';
	if (read_exact(r, hdr, 4, &eof) < 0)
		return -1;
	if (eof) {
		r->type = GG_PKT_EOF;
		return 0;
	}
	for (i = 0; i < 4; i++) {
		int v = hexval(hdr[i]);

		if (v < 0) {
			git_error_set_str(GIT_ERROR_NET,
					  "protocol error: bad line length character");
			return -1;
		}
		len = (len << 4) | (size_t)v;
	}
	switch (len) {
	case 0:
		r->type = GG_PKT_FLUSH;
		return 0;
	case 1:
		r->type = GG_PKT_DELIM;
		return 0;
	case 2:
		r->type = GG_PKT_RESPONSE_END;
		return 0;
	case 3:
		git_error_set_str(GIT_ERROR_NET, "protocol error: bad line length 3");
		return -1;
	default:
		break;
	}
	if (len > GG_PKT_MAX) {
		git_error_set(GIT_ERROR_NET, "protocol error: bad line length %zu", len);
		return -1;
	}
	len -= 4;
	if (len) {
		if (read_exact(r, r->line, len, &eof) < 0)
			return -1;
		if (eof) {
			git_error_set_str(GIT_ERROR_NET, "protocol error: unexpected end of input");
			return -1;
		}
	}
	if (len && r->line[len - 1] == '\n')
		len--;
	r->line[len] = '\0';
	r->len = len;
	r->type = GG_PKT_DATA;
	return 0;
}

int gg_pkt_read_raw(struct gg_pkt_reader *r, void *buf, size_t len, size_t *nread)
{
	size_t avail = r->in_end - r->in_pos;
	ssize_t n;

	*nread = 0;
	if (len == 0)
		return 0;
	if (avail) {
		if (avail > len)
			avail = len;
		memcpy(buf, r->in + r->in_pos, avail);
		r->in_pos += avail;
		*nread = avail;
		return 0;
	}
	do
		n = r->io->read(r->io->ctx, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set(GIT_ERROR_NET, "read error: %s", strerror(errno));
		return -1;
	}
	*nread = (size_t)n;
	return 0;
}

int gg_io_write_all(const struct gg_git_io *io, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = io->write(io->ctx, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			git_error_set(GIT_ERROR_NET, "write error: %s",
				      n < 0 ? strerror(errno) : "connection closed");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void put_len(char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = hex[(len >> 12) & 15];
	out[1] = hex[(len >> 8) & 15];
	out[2] = hex[(len >> 4) & 15];
	out[3] = hex[len & 15];
}

int gg_pkt_write(const struct gg_git_io *io, const void *data, size_t len)
{
	char pkt[GG_PKT_MAX];

	if (len > GG_PKT_MAX_PAYLOAD) {
		git_error_set(GIT_ERROR_INVALID, "pkt-line payload too long (%zu bytes)", len);
		return -1;
	}
	put_len(pkt, len + 4);
	if (len)
		memcpy(pkt + 4, data, len);
	return gg_io_write_all(io, pkt, len + 4);
}

/* Formats into a packet buffer; returns the payload length or -1. */
static int format_payload(char *payload, size_t cap, const char *fmt, va_list ap)
{
	int n = vsnprintf(payload, cap, fmt, ap);

	if (n < 0 || (size_t)n >= cap) {
		git_error_set_str(GIT_ERROR_INVALID, "pkt-line payload too long");
		return -1;
	}
	return n;
}

int gg_pkt_printf(const struct gg_git_io *io, const char *fmt, ...)
{
	char pkt[GG_PKT_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_payload(pkt + 4, GG_PKT_MAX_PAYLOAD + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	put_len(pkt, (size_t)n + 4);
	return gg_io_write_all(io, pkt, (size_t)n + 4);
}

int gg_pkt_flush(const struct gg_git_io *io)
{
	return gg_io_write_all(io, "0000", 4);
}

int gg_pkt_delim(const struct gg_git_io *io)
{
	return gg_io_write_all(io, "0001", 4);
}

int gg_pkt_response_end(const struct gg_git_io *io)
{
	return gg_io_write_all(io, "0002", 4);
}

int gg_pkt_error(const struct gg_git_io *io, const char *fmt, ...)
{
	char pkt[GG_PKT_MAX + 1];
	va_list ap;
	int n;

	memcpy(pkt + 4, "ERR ", 4);
	va_start(ap, fmt);
	n = format_payload(pkt + 8, GG_PKT_MAX_PAYLOAD - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	pkt[8 + n] = '\n';
	put_len(pkt, (size_t)n + 9);
	return gg_io_write_all(io, pkt, (size_t)n + 9);
}

int gg_sideband_write(const struct gg_git_io *io, int band, const void *data, size_t len,
		      size_t max_data)
{
	const unsigned char *p = data;
	char pkt[GG_PKT_MAX];

	if (max_data == 0 || max_data > GG_SIDEBAND_MAX_DATA)
		max_data = GG_SIDEBAND_MAX_DATA;
	do {
		size_t n = len < max_data ? len : max_data;

		put_len(pkt, n + 5);
		pkt[4] = (char)band;
		if (n)
			memcpy(pkt + 5, p, n);
		if (gg_io_write_all(io, pkt, n + 5) < 0)
			return -1;
		p += n;
		len -= n;
	} while (len);
	return 0;
}

int gg_pkt_buf_printf(struct gg_buf *b, const char *fmt, ...)
{
	char pkt[GG_PKT_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_payload(pkt + 4, GG_PKT_MAX_PAYLOAD + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	put_len(pkt, (size_t)n + 4);
	if (gg_buf_add(b, pkt, (size_t)n + 4) < 0) {
		git_error_set_oom();
		return -1;
	}
	return 0;
}

int gg_pkt_buf_flush(struct gg_buf *b)
{
	if (gg_buf_add(b, "0000", 4) < 0) {
		git_error_set_oom();
		return -1;
	}
	return 0;
}

bool gg_skip_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	if (rest)
		*rest = s + n;
	return true;
}

int gg_parse_oid(git_oid *out, const char *s, const char **end)
{
	int i;

	for (i = 0; i < GIT_OID_HEXSZ; i++)
		if (hexval((unsigned char)s[i]) < 0)
			return -1; /* also stops at the terminating NUL */
	if (!end && s[GIT_OID_HEXSZ] != '\0')
		return -1;
	if (git_oid_fromstrn(out, s, GIT_OID_HEXSZ) < 0)
		return -1;
	if (end)
		*end = s + GIT_OID_HEXSZ;
	return 0;
}

int gg_parse_ullong(unsigned long long *out, const char *s)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (unsigned long long)(__LONG_LONG_MAX__ - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*out = v;
	return 0;
}

bool gg_has_capability(const char *caps, const char *name, const char **value, size_t *value_len)
{
	size_t n = strlen(name);
	const char *p = caps;

	while (*p) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len >= n && strncmp(p, name, n) == 0 && (len == n || p[n] == '=')) {
			if (value) {
				*value = len == n ? p + n : p + n + 1;
				*value_len = len == n ? 0 : len - n - 1;
			}
			return true;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}
