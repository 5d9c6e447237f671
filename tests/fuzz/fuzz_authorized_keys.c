/*
 * fuzz_authorized_keys.c - the command= line gate-authorized-keys-check
 * prints for sshd (sshd-gate/authorized_keys.h).
 *
 * The key type and blob come from the client (sshd passes %t %k), so they
 * are untrusted.  Two ways in: the input parsed as a key by gg_sshkey_parse
 * and then turned into a line (the program's path), and the input split at
 * NUL bytes into shell_dir, config_path, type and blob handed to
 * gg_authorized_keys_line directly.  Whatever is printed must be one line
 * whose command="..." has exactly two quotes, and the line must start with
 * command=" so sshd never sees an option we did not write.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authorized_keys.h"
#include "sshkey.h"

static void check_line(const struct gg_buf *b, size_t before)
{
	const char *line = b->data + before;
	size_t len = b->len - before;
	size_t quotes = 0;

	assert(len > 0 && line[len - 1] == '\n');
	assert(memchr(line, '\n', len - 1) == NULL);
	assert(memchr(line, '\0', len) == NULL);
	assert(strncmp(line, "command=\"", 9) == 0);
	for (size_t i = 0; i < len; i++)
		quotes += line[i] == '"';
	assert(quotes == 2);
}

/* Next NUL-separated field of the input, as its own string; NULL at the end. */
static char *next_field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul;
	char *s;

	if (*p >= end)
		return NULL;
	nul = memchr(*p, '\0', (size_t)(end - *p));
	if (!nul)
		nul = end;
	s = strndup((const char *)*p, (size_t)(nul - *p));
	*p = nul < end ? nul + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gg_sshkey key;
	struct gg_buf b = GG_BUF_INIT;
	const uint8_t *p = data, *end = data + size;
	char err[256];
	char *text, *f[4] = {NULL, NULL, NULL, NULL};
	size_t before;

	if ((text = strndup((const char *)data, size))) {
		if (gg_sshkey_parse(&key, NULL, text, err, sizeof(err)) == 0) {
			before = b.len;
			if (gg_authorized_keys_line(&b, "/usr/lib/gitgate",
						    "/etc/gitgate/gitgate.conf", 42, key.type,
						    key.blob) == 0)
				check_line(&b, before);
		}
		before = b.len;
		if (gg_authorized_keys_not_found(&b, text) == 0) {
			assert(b.len > before && b.data[b.len - 1] == '\n');
			assert(memchr(b.data + before, '\n', b.len - before - 1) == NULL);
		} else {
			assert(b.len == before);
		}
		free(text);
	}

	for (size_t i = 0; i < 4; i++)
		f[i] = next_field(&p, end);
	if (f[0] && f[2] && f[3]) {
		int64_t key_id = size > 0 ? (int64_t)data[size - 1] - 8 : 1;

		before = b.len;
		if (gg_authorized_keys_line(&b, f[0], f[1] && *f[1] ? f[1] : NULL, key_id, f[2],
					    f[3]) == 0)
			check_line(&b, before);
		else
			assert(b.len == before);
	}
	for (size_t i = 0; i < 4; i++)
		free(f[i]);
	gg_buf_clear(&b);
	return 0;
}
