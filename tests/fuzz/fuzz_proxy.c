/*
 * fuzz_proxy.c - the PROXY protocol parser of sshd-gate (sshd-gate/proxy.h)
 * and its CIDR lists.
 *
 * The header is the very first thing a connection sends, before SSH and
 * before any check.  Besides "no crash", the target checks the promises the
 * reader relies on: a complete header lies within the bytes given and parses
 * the same from exactly its own bytes (nothing after it is looked at), and
 * "incomplete" always asks for more than it was given, within the bound.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gg_proxy_header h, again;
	int rc = gg_proxy_parse(data, size, &h);

	switch (rc) {
	case GG_PROXY_COMPLETE:
		assert(h.length >= 15 && h.length <= size);
		assert(h.version == 1 || h.version == 2);
		assert(h.version != 1 || h.length <= GG_PROXY_V1_MAX);
		assert(h.version != 2 || h.length <= 16 + GG_PROXY_V2_MAX_LEN);
		assert(gg_proxy_parse(data, h.length, &again) == GG_PROXY_COMPLETE);
		assert(again.length == h.length && again.has_address == h.has_address);
		if (h.has_address) {
			assert(strcmp(again.src_ip, h.src_ip) == 0 && h.src_ip[0] != '\0');
			assert(h.src_port >= 0 && h.src_port <= 65535);
		}
		break;
	case GG_PROXY_INCOMPLETE:
		assert(h.needed > size && h.needed <= 16 + GG_PROXY_V2_MAX_LEN);
		break;
	default:
		assert(rc == GG_PROXY_NOT_PROXY || rc == GG_PROXY_INVALID);
	}

	/* The same bytes as "LIST\nADDRESS" for the CIDR matcher. */
	if (size < 512) {
		char *s = malloc(size + 1), *nl;

		if (s == NULL)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		rc = gg_proxy_cidr_match(s, nl ? nl + 1 : NULL);
		assert(rc >= -1 && rc <= 1);
		free(s);
	}
	return 0;
}
