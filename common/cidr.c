/*
 * cidr.c - see cidr.h.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gg_cidr_parse(const char *text, struct gg_cidr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t n;

	if (!text)
		return -1;
	memset(out, 0, sizeof(*out));
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	out->prefix_len = out->family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		long v;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (errno || *end || v < 0 || v > (long)out->prefix_len)
			return -1;
		out->prefix_len = (unsigned)v;
	}
	return 0;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address. */
static void unmap_v4(struct gg_cidr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (a->family == AF_INET6 && memcmp(a->addr, prefix, sizeof(prefix)) == 0) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
		a->prefix_len = a->prefix_len >= 96 ? a->prefix_len - 96 : 0;
	}
}

bool gg_cidr_contains(const char *cidr, const char *ip)
{
	struct gg_cidr net, host;
	unsigned bits, bytes;

	if (gg_cidr_parse(cidr, &net) < 0 || gg_cidr_parse(ip, &host) < 0 || strchr(ip, '/'))
		return false;
	unmap_v4(&net);
	unmap_v4(&host);
	if (net.family != host.family)
		return false;
	bits = net.prefix_len;
	bytes = bits / 8;
	if (memcmp(net.addr, host.addr, bytes) != 0)
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		return (net.addr[bytes] & mask) == (host.addr[bytes] & mask);
	}
	return true;
}
