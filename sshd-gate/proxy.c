/*
 * proxy.c - see proxy.h.  Specification:
 * https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const unsigned char v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_prefix[] = "PROXY ";

/* --- the parser ------------------------------------------------------------------------- */

/* A decimal port without sign or leading zero, 0..65535; -1 otherwise. */
static int parse_port(const char *s)
{
	long v = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v <= 65535 ? (int)v : -1;
}

/* An address of family af written as inet_ntop would write it back. */
static int parse_addr(int af, const char *s, char out[GG_PROXY_ADDR_MAX])
{
	unsigned char bin[16];

	if (strlen(s) >= GG_PROXY_ADDR_MAX || inet_pton(af, s, bin) != 1 ||
	    inet_ntop(af, bin, out, GG_PROXY_ADDR_MAX) == NULL)
		return -1;
	return 0;
}

static int parse_v1(const char *buf, size_t len, struct gg_proxy_header *out)
{
	char line[GG_PROXY_V1_MAX + 1], *fields[6], *save = NULL, *tok;
	size_t scan = len < GG_PROXY_V1_MAX ? len : GG_PROXY_V1_MAX, eol, n = 0;
	const char *lf = memchr(buf, '\n', scan);
	int af;

	if (lf == NULL) {
		if (len >= GG_PROXY_V1_MAX)
			return GG_PROXY_INVALID;
		out->needed = len + 1;
		return GG_PROXY_INCOMPLETE;
	}
	eol = (size_t)(lf - buf);
	if (eol < sizeof(v1_prefix) || buf[eol - 1] != '\r')
		return GG_PROXY_INVALID;
	memcpy(line, buf, eol - 1);
	line[eol - 1] = '\0';
	if (strlen(line) != eol - 1 || strchr(line, '\r') != NULL)
		return GG_PROXY_INVALID; /* a NUL or a CR inside the line */
	out->version = 1;
	out->length = eol + 1;
	if (strncmp(line + 6, "UNKNOWN", 7) == 0 && (line[13] == '\0' || line[13] == ' ')) {
		out->has_address = false; /* the rest of the line is to be ignored */
		return GG_PROXY_COMPLETE;
	}
	/* Exactly one space between fields: no empty field, none leading or trailing. */
	for (size_t i = 5; line[i]; i++)
		if (line[i] == ' ' && (line[i + 1] == ' ' || line[i + 1] == '\0'))
			return GG_PROXY_INVALID;
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == 6)
			return GG_PROXY_INVALID;
		fields[n++] = tok;
	}
	if (n != 6)
		return GG_PROXY_INVALID;
	if (strcmp(fields[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(fields[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return GG_PROXY_INVALID;
	if (parse_addr(af, fields[2], out->src_ip) != 0 ||
	    parse_addr(af, fields[3], out->dst_ip) != 0 ||
	    (out->src_port = parse_port(fields[4])) < 0 ||
	    (out->dst_port = parse_port(fields[5])) < 0)
		return GG_PROXY_INVALID;
	out->family = af;
	out->has_address = true;
	return GG_PROXY_COMPLETE;
}

static int parse_v2(const unsigned char *buf, size_t len, struct gg_proxy_header *out)
{
	size_t body;
	unsigned char command, family;

	if (len < 16) {
		out->needed = 16;
		return GG_PROXY_INCOMPLETE;
	}
	if ((buf[12] >> 4) != 2)
		return GG_PROXY_INVALID;
	command = buf[12] & 0x0F;
	family = buf[13];
	body = ((size_t)buf[14] << 8) | buf[15];
	if (command > 1 || body > GG_PROXY_V2_MAX_LEN)
		return GG_PROXY_INVALID;
	if (len < 16 + body) {
		out->needed = 16 + body;
		return GG_PROXY_INCOMPLETE;
	}
	out->version = 2;
	out->length = 16 + body;
	out->has_address = false;
	if (command == 0) /* LOCAL: the proxy's own connection, e.g. a health check */
		return GG_PROXY_COMPLETE;
	switch (family) {
	case 0x11: /* TCP over IPv4: src, dst, sport, dport */
		if (body < 12)
			return GG_PROXY_INVALID;
		out->family = AF_INET;
		inet_ntop(AF_INET, buf + 16, out->src_ip, GG_PROXY_ADDR_MAX);
		inet_ntop(AF_INET, buf + 20, out->dst_ip, GG_PROXY_ADDR_MAX);
		out->src_port = (buf[24] << 8) | buf[25];
		out->dst_port = (buf[26] << 8) | buf[27];
		out->has_address = true;
		break;
	case 0x21: /* TCP over IPv6 */
		if (body < 36)
			return GG_PROXY_INVALID;
		out->family = AF_INET6;
		inet_ntop(AF_INET6, buf + 16, out->src_ip, GG_PROXY_ADDR_MAX);
		inet_ntop(AF_INET6, buf + 32, out->dst_ip, GG_PROXY_ADDR_MAX);
		out->src_port = (buf[48] << 8) | buf[49];
		out->dst_port = (buf[50] << 8) | buf[51];
		out->has_address = true;
		break;
	case 0x00: /* UNSPEC, and the other transports: no address we could use */
	case 0x12:
	case 0x22:
	case 0x31:
	case 0x32:
		break;
	default:
		return GG_PROXY_INVALID;
	}
	return GG_PROXY_COMPLETE;
}

int gg_proxy_parse(const void *data, size_t len, struct gg_proxy_header *out)
{
	const unsigned char *buf = data;
	size_t cmp;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		out->needed = 1;
		return GG_PROXY_INCOMPLETE;
	}
	if (buf[0] == 'P') {
		cmp = len < 6 ? len : 6;
		if (memcmp(buf, v1_prefix, cmp) != 0)
			return GG_PROXY_INVALID;
		if (len < 6) {
			out->needed = len + 1;
			return GG_PROXY_INCOMPLETE;
		}
		return parse_v1(data, len, out);
	}
	if (buf[0] == v2_signature[0]) {
		cmp = len < sizeof(v2_signature) ? len : sizeof(v2_signature);
		if (memcmp(buf, v2_signature, cmp) != 0)
			return GG_PROXY_INVALID;
		return parse_v2(buf, len, out);
	}
	return GG_PROXY_NOT_PROXY;
}

/* --- policy and CIDRs -------------------------------------------------------------------- */

int gg_proxy_policy_parse(const char *name)
{
	static const char *const names[] = {"ignore", "use", "require", "reject"};

	for (int i = 0; name && i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* ip as 16 bytes (v4 as v4-mapped v6); 0 or -1. */
static int addr16(const char *ip, unsigned char out[16], bool *v4)
{
	unsigned char b4[4];

	if (inet_pton(AF_INET, ip, b4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xFF;
		memcpy(out + 12, b4, 4);
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, out) == 1) {
		*v4 = IN6_IS_ADDR_V4MAPPED((struct in6_addr *)out);
		return 0;
	}
	return -1;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

int gg_proxy_cidr_match(const char *list, const char *ip)
{
	unsigned char want[16];
	bool want_v4 = false;
	int match = 0;
	const char *p = list;

	if (ip && addr16(ip, want, &want_v4) != 0)
		ip = NULL;
	while (p && *p) {
		char item[64], *slash;
		size_t n = strcspn(p, ", \t");
		unsigned char net[16];
		bool v4;
		int bits;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(item))
			return -1;
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		slash = strchr(item, '/');
		if (slash)
			*slash = '\0';
		if (addr16(item, net, &v4) != 0)
			return -1;
		bits = v4 ? 32 : 128;
		if (slash) {
			char *end;
			long v;

			errno = 0;
			v = strtol(slash + 1, &end, 10);
			if (errno || end == slash + 1 || *end || v < 0 || v > bits)
				return -1;
			bits = (int)v;
		}
		if (v4)
			bits += 96;
		if (ip && v4 == want_v4 && prefix_equal(net, want, bits))
			match = 1;
	}
	return match;
}

/* --- reading from the socket ------------------------------------------------------------- */

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Wait until fd is readable, at most until timeout_ms after t0: 1, 0 on timeout, -1. */
static int wait_readable(int fd, const struct timespec *t0, int timeout_ms)
{
	for (;;) {
		long left = timeout_ms - ms_since(t0);
		struct pollfd pfd = {fd, POLLIN, 0};
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc;
	}
}

int gg_proxy_read(int fd, int timeout_ms, bool wait_for_header, struct gg_proxy_header *out,
		  char *err, size_t errlen)
{
	unsigned char buf[16 + GG_PROXY_V2_MAX_LEN];
	struct timespec t0;
	size_t have = 0;
	ssize_t n;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof(out[0]));
	/* Peek at the first byte: an SSH client's banner must stay unread. */
	rc = wait_readable(fd, &t0, timeout_ms);
	if (rc == 0) {
		if (!wait_for_header)
			return 0; /* a client that waits for our banner first */
		snprintf(err, errlen, "no PROXY header within %d ms", timeout_ms);
		return -1;
	}
	do
		n = recv(fd, buf, 1, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (rc < 0 || n < 0) {
		snprintf(err, errlen, "reading the PROXY header: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "connection closed before any data");
		return -1;
	}
	if (gg_proxy_parse(buf, 1, out) == GG_PROXY_NOT_PROXY)
		return 0;
	for (;;) {
		rc = gg_proxy_parse(buf, have, out);
		if (rc == GG_PROXY_COMPLETE)
			return 1;
		if (rc != GG_PROXY_INCOMPLETE || out->needed > sizeof(buf) || out->needed <= have) {
			snprintf(err, errlen, "malformed PROXY header (%zu bytes read)", have);
			return -1;
		}
		rc = wait_readable(fd, &t0, timeout_ms);
		if (rc <= 0) {
			snprintf(err, errlen, "PROXY header incomplete after %zu bytes", have);
			return -1;
		}
		n = recv(fd, buf + have, out->needed - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "connection closed inside the PROXY header");
			return -1;
		}
		have += (size_t)n;
	}
}

int gg_proxy_apply(const struct gg_config *cfg, int fd, const char *peer_ip, int peer_port,
		   char client_ip[GG_PROXY_ADDR_MAX], int *client_port, bool *proxied)
{
	int policy = gg_proxy_policy_parse(cfg->ssh_proxy_protocol);
	int timeout_ms =
	    cfg->ssh_proxy_header_timeout > 0 ? cfg->ssh_proxy_header_timeout * 1000 : 5000;
	struct gg_proxy_header h;
	char err[128];
	int rc;

	snprintf(client_ip, GG_PROXY_ADDR_MAX, "%s", peer_ip);
	*client_port = peer_port;
	*proxied = false;
	if (policy <= GG_PROXY_IGNORE)
		return 0;
	rc = gg_proxy_read(fd, timeout_ms, policy != GG_PROXY_USE, &h, err, sizeof(err));
	if (rc < 0) {
		gg_warn("connection from %s port %d refused: %s", peer_ip, peer_port, err);
		return -1;
	}
	if (rc == 0) {
		if (policy == GG_PROXY_REQUIRE) {
			gg_warn("connection from %s port %d refused: no PROXY header "
				"(proxy_protocol = require)",
				peer_ip, peer_port);
			return -1;
		}
		return 0;
	}
	if (policy == GG_PROXY_REJECT) {
		gg_warn(
		    "connection from %s port %d refused: PROXY header (proxy_protocol = reject)",
		    peer_ip, peer_port);
		return -1;
	}
	if (gg_proxy_cidr_match(cfg->ssh_proxy_allowed_cidrs, peer_ip) != 1) {
		gg_warn("connection from %s port %d refused: PROXY header from a source outside "
			"proxy_allowed_cidrs",
			peer_ip, peer_port);
		return -1;
	}
	if (!h.has_address) {
		if (policy == GG_PROXY_REQUIRE) {
			gg_warn("connection from %s port %d refused: PROXY v%d header without a "
				"client address (proxy_protocol = require)",
				peer_ip, peer_port, h.version);
			return -1;
		}
		return 0;
	}
	snprintf(client_ip, GG_PROXY_ADDR_MAX, "%s", h.src_ip);
	*client_port = h.src_port;
	*proxied = true;
	return 0;
}
