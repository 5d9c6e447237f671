/*
 * util.h - small helpers every module needs: formatted strdup, a growable
 * byte buffer, hex and SHA-256.
 */
#ifndef GG_UTIL_H
#define GG_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Like asprintf, but returns the string (NULL only when out of memory). */
char *gg_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated.  Init with GG_BUF_INIT. */
struct gg_buf {
	char *data;
	size_t len;
	size_t cap;
};
#define GG_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

int gg_buf_add(struct gg_buf *b, const void *data, size_t len);
int gg_buf_puts(struct gg_buf *b, const char *s);
int gg_buf_printf(struct gg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes over to the caller (who frees them) and reset b. */
char *gg_buf_detach(struct gg_buf *b);
void gg_buf_clear(struct gg_buf *b);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void gg_hex(char *out, const unsigned char *in, size_t len);
/* SHA-256 of data as 64 hex characters into out[65]. */
void gg_sha256_hex(char out[65], const void *data, size_t len);
/* Fill buf with cryptographically random bytes. 0 or -1. */
int gg_random_bytes(void *buf, size_t len);
/* A random token of 2*nbytes hex characters. Caller frees. */
char *gg_random_hex(size_t nbytes);
/* Constant-time comparison of two NUL-terminated strings. */
bool gg_str_equal_ct(const char *a, const char *b);
/* Current time in seconds since the epoch, and as ISO 8601 UTC (out[32]). */
int64_t gg_now(void);
void gg_iso8601(char out[32], int64_t t);
/* A duration as seconds: "90", "45s", "30m", "2h", "14d", "2w"; -1 when
 * invalid, negative or over max seconds. */
int64_t gg_parse_duration(const char *text, int64_t max);
/* mkdir -p with mode for every directory created. 0 or -1 (errno). */
int gg_mkdir_p(const char *path, unsigned mode);
/* The directory of the running program's binary (symlinks resolved), without
 * a trailing '/'.  Caller frees.  NULL when it cannot be found. */
char *gg_self_dir(void);

#endif
