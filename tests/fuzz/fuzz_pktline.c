/*
 * fuzz_pktline.c - the pkt-line reader and payload helpers
 * (common/git/pktline.h).
 *
 * The first input byte chooses the read chunk size (1..255 bytes, or 0 for
 * "whatever is asked"); the rest is the wire.  Packets are read until EOF or
 * the first error, and every payload goes through the bounds-checked
 * helpers the protocol code uses.  After a packet, the reader's invariants
 * are checked: the payload is NUL-terminated and within GG_PKT_MAX_PAYLOAD.
 */
#include <assert.h>
#include <git2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "pktline.h"

static struct gg_pkt_reader *reader;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	reader = malloc(sizeof(*reader));
	return reader ? 0 : -1;
}

static void look_at_payload(const char *line)
{
	const char *rest, *value;
	size_t value_len;
	git_oid oid;
	unsigned long long n;

	if (gg_skip_prefix(line, "want ", &rest) || gg_skip_prefix(line, "have ", &rest) ||
	    gg_skip_prefix(line, "shallow ", &rest)) {
		const char *end;

		if (gg_parse_oid(&oid, rest, &end) == 0)
			assert(end == rest + 40);
		(void)gg_parse_oid(&oid, rest, NULL);
	}
	if (gg_skip_prefix(line, "deepen ", &rest))
		(void)gg_parse_ullong(&n, rest);
	if (gg_has_capability(line, "agent", &value, &value_len))
		assert(value == NULL || value + value_len <= line + strlen(line));
	(void)gg_has_capability(line, "side-band-64k", NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_io f;
	struct gg_git_io io;
	size_t chunk = 0;
	unsigned char raw[512];

	if (size > 0) {
		chunk = data[0];
		data++;
		size--;
	}
	fuzz_io_init(&f, &io, data, size, chunk);
	gg_pkt_reader_init(reader, &io);
	for (;;) {
		if (gg_pkt_read(reader) < 0)
			break;
		if (reader->type == GG_PKT_EOF)
			break;
		if (reader->type == GG_PKT_DATA) {
			assert(reader->len <= GG_PKT_MAX_PAYLOAD);
			assert(reader->line[reader->len] == '\0');
			look_at_payload(reader->line);
			/* receive-pack switches to raw bytes after "0000": so do we, sometimes. */
			if (reader->len > 0 && reader->line[0] == 'P') {
				size_t nread;

				if (gg_pkt_read_raw(reader, raw, sizeof(raw), &nread) < 0)
					break;
				assert(nread <= sizeof(raw));
			}
		}
	}
	return 0;
}
