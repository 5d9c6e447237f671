/*
 * proxy.h - the PROXY protocol (HAProxy's, versions 1 and 2) in front of the
 * SSH listener, so that check_ip, the logs and the exemptions see the real
 * client behind a load balancer instead of the balancer itself.
 *
 * The header is read before libssh gets the socket, and exactly the header:
 * not one byte of the SSH banner that follows may be consumed, since libssh
 * reads the connection from where we leave it.  So the first byte is only
 * peeked at (a header starts with 'P' or '\r', an SSH banner with 'S'), and
 * the rest is read in the exact amounts the parser says are still missing.
 *
 * The parser is pure (bytes in, verdict out) so that it can be unit-tested
 * and fuzzed; gg_proxy_read() does the I/O and gg_proxy_apply() the policy:
 *
 *   ignore   no parsing at all (the default): the TCP peer is the client
 *   use      a header from an allowed source gives the client's address; a
 *            connection without one is served with the TCP peer's address
 *   require  a header from an allowed source is mandatory, and it must name
 *            a client (v1 UNKNOWN and v2 LOCAL are refused)
 *   reject   a connection that starts with a header is closed
 *
 * Under use and require a header from a source outside proxy_allowed_cidrs
 * is refused (closed, with a log line), as is a malformed header or one that
 * is not complete within proxy_header_timeout.
 */
#ifndef GG_SSHD_PROXY_H
#define GG_SSHD_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define GG_PROXY_V1_MAX	    107	 /* the longest v1 line, CRLF included */
#define GG_PROXY_V2_MAX_LEN 1024 /* the longest v2 address block (with TLVs) we accept */
#define GG_PROXY_ADDR_MAX   46	 /* INET6_ADDRSTRLEN */

enum gg_proxy_status {
	GG_PROXY_COMPLETE = 0,	 /* a whole header: see length */
	GG_PROXY_INCOMPLETE = 1, /* a valid beginning: `needed` bytes in all are required */
	GG_PROXY_NOT_PROXY = -1, /* the bytes cannot start a header */
	GG_PROXY_INVALID = -2,	 /* a header, but malformed (or too long) */
};

struct gg_proxy_header {
	int version;	  /* 1 or 2 */
	bool has_address; /* false for v1 UNKNOWN, v2 LOCAL and v2 non-TCP families */
	int family;	  /* AF_INET or AF_INET6 when has_address */
	char src_ip[GG_PROXY_ADDR_MAX];
	int src_port;
	char dst_ip[GG_PROXY_ADDR_MAX];
	int dst_port;
	size_t length; /* bytes of the header, when GG_PROXY_COMPLETE */
	size_t needed; /* total bytes needed so far, when GG_PROXY_INCOMPLETE */
};

/*
 * Parse the len bytes at buf, which start at the beginning of the
 * connection.  Returns a gg_proxy_status; *out is filled for COMPLETE
 * (length) and INCOMPLETE (needed > len).  Never reads past buf + len.
 */
int gg_proxy_parse(const void *buf, size_t len, struct gg_proxy_header *out);

enum gg_proxy_policy {
	GG_PROXY_IGNORE = 0,
	GG_PROXY_USE,
	GG_PROXY_REQUIRE,
	GG_PROXY_REJECT,
};

/* "use" | "require" | "reject" | "ignore" -> policy; -1 for anything else. */
int gg_proxy_policy_parse(const char *name);

/*
 * Whether ip (text, v4 or v6; v4-mapped v6 counts as v4) falls in one of the
 * CIDRs of list: comma- or space-separated "a.b.c.d/n", "x::y/n" or plain
 * addresses.  An empty or NULL list matches nothing.  -1 when the list does
 * not parse, so a typo in the configuration is caught at load time.
 */
int gg_proxy_cidr_match(const char *list, const char *ip);

/*
 * Read a header from fd when one starts there, within timeout_ms: 1 and *out
 * filled when one was read (exactly its bytes), 0 when the connection does
 * not start with one (nothing consumed; also when nothing arrived in time
 * and wait_for_header is false), -1 with a reason in err otherwise.
 */
int gg_proxy_read(int fd, int timeout_ms, bool wait_for_header, struct gg_proxy_header *out,
		  char *err, size_t errlen);

/*
 * The policy of cfg for the connection from peer_ip:peer_port on fd: 0 with
 * the client's address in client_ip / *client_port (the peer's when no
 * header applies), -1 when the connection must be closed (logged here).
 * *proxied is set when the address came from a header.
 */
int gg_proxy_apply(const struct gg_config *cfg, int fd, const char *peer_ip, int peer_port,
		   char client_ip[GG_PROXY_ADDR_MAX], int *client_port, bool *proxied);

#endif
