/*
 * cidr.h - source networks ("10.0.0.0/8", "2001:db8::/32", or a bare address
 * for one host), for the maintenance exemptions of SPEC §7.
 *
 * Addresses are parsed with inet_pton only; an IPv4-mapped IPv6 client
 * address ("::ffff:127.0.0.2") matches IPv4 networks, since a dual-stack
 * listener reports IPv4 clients that way.
 */
#ifndef GG_CIDR_H
#define GG_CIDR_H

#include <stdbool.h>
#include <stdint.h>

struct gg_cidr {
	int family;	     /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network byte order; 4 bytes used for AF_INET */
	unsigned prefix_len; /* 0..32 or 0..128 */
};

/* Parse text into *out.  0, or -1 when it is not a network or address. */
int gg_cidr_parse(const char *text, struct gg_cidr *out);

/* Is the address ip (text) inside the network cidr (text)?  False when either
 * does not parse. */
bool gg_cidr_contains(const char *cidr, const char *ip);

#endif
