/*
 * test_proxy.c - the PROXY protocol parser, the CIDR lists and the reader of
 * sshd-gate (sshd-gate/proxy.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy.h"

static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static int parse_str(const char *s, struct gg_proxy_header *h)
{
	return gg_proxy_parse(s, strlen(s), h);
}

/* A v2 header: ver_cmd, family, then body bytes of length len. */
static size_t v2(unsigned char *out, unsigned char ver_cmd, unsigned char family,
		 const unsigned char *body, size_t len)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = family;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (len)
		memcpy(out + 16, body, len);
	return 16 + len;
}

static void test_v1_tcp4(void **state)
{
	struct gg_proxy_header h;
	const char *s = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 22\r\nSSH-2.0-OpenSSH_9.2\r\n";

	(void)state;
	assert_int_equal(parse_str(s, &h), GG_PROXY_COMPLETE);
	assert_int_equal(h.version, 1);
	assert_true(h.has_address);
	assert_string_equal(h.src_ip, "203.0.113.7");
	assert_string_equal(h.dst_ip, "192.0.2.1");
	assert_int_equal(h.src_port, 56324);
	assert_int_equal(h.dst_port, 22);
	assert_int_equal(h.length, strlen("PROXY TCP4 203.0.113.7 192.0.2.1 56324 22\r\n"));
}

static void test_v1_tcp6(void **state)
{
	struct gg_proxy_header h;

	(void)state;
	assert_int_equal(parse_str("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n", &h),
			 GG_PROXY_COMPLETE);
	assert_string_equal(h.src_ip, "2001:db8::7");
	assert_int_equal(h.src_port, 65535);
	assert_int_equal(h.dst_port, 0);
}

static void test_v1_unknown_has_no_address(void **state)
{
	struct gg_proxy_header h;

	(void)state;
	assert_int_equal(parse_str("PROXY UNKNOWN\r\n", &h), GG_PROXY_COMPLETE);
	assert_false(h.has_address);
	assert_int_equal(h.length, 15);
	assert_int_equal(parse_str("PROXY UNKNOWN ff::1 ff::2 1 2\r\n", &h), GG_PROXY_COMPLETE);
	assert_false(h.has_address);
	assert_int_equal(parse_str("PROXY UNKNOWNX\r\n", &h), GG_PROXY_INVALID);
}

static void test_v1_incomplete_asks_one_byte_more(void **state)
{
	struct gg_proxy_header h;
	const char *s = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";

	(void)state;
	for (size_t len = 0; len < strlen(s); len++) {
		assert_int_equal(gg_proxy_parse(s, len, &h), GG_PROXY_INCOMPLETE);
		assert_int_equal(h.needed, len + 1);
	}
	assert_int_equal(gg_proxy_parse(s, strlen(s), &h), GG_PROXY_COMPLETE);
}

static void test_v1_malformed(void **state)
{
	static const char *const bad[] = {
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",	      /* no CR */
	    "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",    /* two spaces */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",    /* trailing space */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",	      /* a field missing */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",   /* a field too many */
	    "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",   /* not an address */
	    "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", /* v6 in TCP4 */
	    "PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n", /* v4 in TCP6 */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",    /* leading zero */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /* port too large */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",    /* sign */
	    "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",     /* not TCP */
	    "PROXY \r\n",			      /* nothing */
	    "PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n",    /* CR inside */
	    "PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n",     /* not PROXY */
	    "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",     /* lower case: not a header at all */
	};
	struct gg_proxy_header h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_str(bad[i], &h);

		if (rc == GG_PROXY_COMPLETE)
			fail_msg("accepted: %s", bad[i]);
		assert_true(rc == GG_PROXY_INVALID || (i == 15 && rc == GG_PROXY_NOT_PROXY));
	}
	/* A NUL inside the line. */
	assert_int_equal(gg_proxy_parse("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 34, &h),
			 GG_PROXY_INVALID);
}

static void test_v1_longer_than_107_bytes(void **state)
{
	char s[200];
	struct gg_proxy_header h;

	(void)state;
	memset(s, 'A', sizeof(s));
	memcpy(s, "PROXY UNKNOWN ", 14);
	assert_int_equal(gg_proxy_parse(s, GG_PROXY_V1_MAX - 1, &h), GG_PROXY_INCOMPLETE);
	assert_int_equal(gg_proxy_parse(s, GG_PROXY_V1_MAX, &h), GG_PROXY_INVALID);
	memcpy(s + GG_PROXY_V1_MAX - 2, "\r\n", 2);
	assert_int_equal(gg_proxy_parse(s, GG_PROXY_V1_MAX, &h), GG_PROXY_COMPLETE);
	assert_int_equal(h.length, GG_PROXY_V1_MAX);
}

static void test_v2_tcp4(void **state)
{
	unsigned char buf[64];
	const unsigned char body[] = {203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0, 22};
	struct gg_proxy_header h;
	size_t n = v2(buf, 0x21, 0x11, body, sizeof(body));

	(void)state;
	memcpy(buf + n, "SSH-2.0-", 8);
	assert_int_equal(gg_proxy_parse(buf, n + 8, &h), GG_PROXY_COMPLETE);
	assert_int_equal(h.version, 2);
	assert_true(h.has_address);
	assert_string_equal(h.src_ip, "203.0.113.7");
	assert_int_equal(h.src_port, 56324);
	assert_string_equal(h.dst_ip, "192.0.2.1");
	assert_int_equal(h.dst_port, 22);
	assert_int_equal(h.length, 28);
	for (size_t len = 0; len < 16; len++) {
		assert_int_equal(gg_proxy_parse(buf, len, &h), GG_PROXY_INCOMPLETE);
		assert_int_equal(h.needed, len == 0 ? 1 : 16);
	}
	for (size_t len = 16; len < 28; len++) {
		assert_int_equal(gg_proxy_parse(buf, len, &h), GG_PROXY_INCOMPLETE);
		assert_int_equal(h.needed, 28);
	}
}

static void test_v2_tcp6_with_tlvs(void **state)
{
	unsigned char buf[128], body[36 + 7];
	struct gg_proxy_header h;

	(void)state;
	memset(body, 0, sizeof(body));
	body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 7;
	body[16] = 0x20, body[17] = 0x01, body[18] = 0x0d, body[19] = 0xb8, body[31] = 1;
	body[32] = 0x01, body[33] = 0x00, body[35] = 22;
	body[36] = 0x04, body[37] = 0x00, body[38] = 0x04; /* a NOOP TLV */
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x21, 0x21, body, sizeof(body)), &h),
			 GG_PROXY_COMPLETE);
	assert_string_equal(h.src_ip, "2001:db8::7");
	assert_string_equal(h.dst_ip, "2001:db8::1");
	assert_int_equal(h.src_port, 256);
	assert_int_equal(h.length, 16 + sizeof(body));
}

static void test_v2_local_and_unspec_have_no_address(void **state)
{
	unsigned char buf[64], body[12] = {0};
	struct gg_proxy_header h;

	(void)state;
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x20, 0x00, NULL, 0), &h), GG_PROXY_COMPLETE);
	assert_false(h.has_address);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x20, 0x11, body, 12), &h), GG_PROXY_COMPLETE);
	assert_false(h.has_address);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x21, 0x00, NULL, 0), &h), GG_PROXY_COMPLETE);
	assert_false(h.has_address);
}

static void test_v2_malformed(void **state)
{
	unsigned char buf[64], body[12] = {0};
	struct gg_proxy_header h;

	(void)state;
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x11, 0x11, body, 12), &h), GG_PROXY_INVALID);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x22, 0x11, body, 12), &h), GG_PROXY_INVALID);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x21, 0x11, body, 11), &h), GG_PROXY_INVALID);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x21, 0x21, body, 12), &h), GG_PROXY_INVALID);
	assert_int_equal(gg_proxy_parse(buf, v2(buf, 0x21, 0x45, body, 12), &h), GG_PROXY_INVALID);
	/* A length beyond what we accept is refused from the 16 header bytes alone. */
	v2(buf, 0x21, 0x11, NULL, 0);
	buf[14] = 0xFF, buf[15] = 0xFF;
	assert_int_equal(gg_proxy_parse(buf, 16, &h), GG_PROXY_INVALID);
	/* A broken signature. */
	v2(buf, 0x21, 0x11, body, 12);
	buf[7] = 'q';
	assert_int_equal(gg_proxy_parse(buf, 28, &h), GG_PROXY_INVALID);
	assert_int_equal(gg_proxy_parse(buf, 8, &h), GG_PROXY_INVALID);
}

static void test_ssh_banner_is_not_a_header(void **state)
{
	struct gg_proxy_header h;

	(void)state;
	assert_int_equal(parse_str("SSH-2.0-OpenSSH_9.2\r\n", &h), GG_PROXY_NOT_PROXY);
	assert_int_equal(parse_str("S", &h), GG_PROXY_NOT_PROXY);
}

static void test_policy_names(void **state)
{
	(void)state;
	assert_int_equal(gg_proxy_policy_parse("ignore"), GG_PROXY_IGNORE);
	assert_int_equal(gg_proxy_policy_parse("use"), GG_PROXY_USE);
	assert_int_equal(gg_proxy_policy_parse("require"), GG_PROXY_REQUIRE);
	assert_int_equal(gg_proxy_policy_parse("reject"), GG_PROXY_REJECT);
	assert_int_equal(gg_proxy_policy_parse("Use"), -1);
	assert_int_equal(gg_proxy_policy_parse(""), -1);
	assert_int_equal(gg_proxy_policy_parse(NULL), -1);
}

static void test_cidr_lists(void **state)
{
	(void)state;
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1/32", "127.0.0.1"), 1);
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1/32", "127.0.0.2"), 0);
	assert_int_equal(gg_proxy_cidr_match("10.0.0.0/8, 127.0.0.0/24", "127.0.0.200"), 1);
	assert_int_equal(gg_proxy_cidr_match("10.0.0.0/8 192.168.1.0/25", "192.168.1.128"), 0);
	assert_int_equal(gg_proxy_cidr_match("192.168.1.0/25", "192.168.1.127"), 1);
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1", "::ffff:127.0.0.1"), 1);
	assert_int_equal(gg_proxy_cidr_match("::1/128", "::1"), 1);
	assert_int_equal(gg_proxy_cidr_match("::1/128", "127.0.0.1"), 0);
	assert_int_equal(gg_proxy_cidr_match("2001:db8::/32", "2001:db8:ffff::1"), 1);
	assert_int_equal(gg_proxy_cidr_match("2001:db8::/33", "2001:db8:ffff::1"), 0);
	assert_int_equal(gg_proxy_cidr_match("0.0.0.0/0", "198.51.100.1"), 1);
	assert_int_equal(gg_proxy_cidr_match("0.0.0.0/0", "2001:db8::1"), 0);
	assert_int_equal(gg_proxy_cidr_match("", "127.0.0.1"), 0);
	assert_int_equal(gg_proxy_cidr_match(NULL, "127.0.0.1"), 0);
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1", "not an address"), 0);
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1/33", "127.0.0.1"), -1);
	assert_int_equal(gg_proxy_cidr_match("127.0.0.1/", "127.0.0.1"), -1);
	assert_int_equal(gg_proxy_cidr_match("localhost", "127.0.0.1"), -1);
	assert_int_equal(gg_proxy_cidr_match("10.0.0.0/8, bogus", NULL), -1);
	assert_int_equal(gg_proxy_cidr_match("10.0.0.0/8, ::/0", NULL), 0);
}

/* The reader takes exactly the header: the SSH banner after it is left for libssh. */
static void test_read_leaves_the_banner(void **state)
{
	const char *hdr = "PROXY TCP4 203.0.113.7 192.0.2.1 4000 22\r\n";
	const char *banner = "SSH-2.0-OpenSSH_9.2\r\n";
	struct gg_proxy_header h;
	char err[128], rest[64];
	int sv[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], hdr, strlen(hdr)), (ssize_t)strlen(hdr));
	assert_int_equal(write(sv[1], banner, strlen(banner)), (ssize_t)strlen(banner));
	assert_int_equal(gg_proxy_read(sv[0], 2000, true, &h, err, sizeof(err)), 1);
	assert_string_equal(h.src_ip, "203.0.113.7");
	n = read(sv[0], rest, sizeof(rest) - 1);
	assert_int_equal(n, (ssize_t)strlen(banner));
	rest[n] = '\0';
	assert_string_equal(rest, banner);

	/* No header: nothing is consumed. */
	assert_int_equal(write(sv[1], banner, strlen(banner)), (ssize_t)strlen(banner));
	assert_int_equal(gg_proxy_read(sv[0], 2000, false, &h, err, sizeof(err)), 0);
	n = read(sv[0], rest, sizeof(rest) - 1);
	assert_int_equal(n, (ssize_t)strlen(banner));

	/* Nothing at all within the timeout: none under "use", an error under "require". */
	assert_int_equal(gg_proxy_read(sv[0], 50, false, &h, err, sizeof(err)), 0);
	assert_int_equal(gg_proxy_read(sv[0], 50, true, &h, err, sizeof(err)), -1);

	/* A header cut short by the peer. */
	assert_int_equal(write(sv[1], "PROXY TCP4 1.2", 14), 14);
	close(sv[1]);
	assert_int_equal(gg_proxy_read(sv[0], 2000, true, &h, err, sizeof(err)), -1);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_tcp4),
	    cmocka_unit_test(test_v1_tcp6),
	    cmocka_unit_test(test_v1_unknown_has_no_address),
	    cmocka_unit_test(test_v1_incomplete_asks_one_byte_more),
	    cmocka_unit_test(test_v1_malformed),
	    cmocka_unit_test(test_v1_longer_than_107_bytes),
	    cmocka_unit_test(test_v2_tcp4),
	    cmocka_unit_test(test_v2_tcp6_with_tlvs),
	    cmocka_unit_test(test_v2_local_and_unspec_have_no_address),
	    cmocka_unit_test(test_v2_malformed),
	    cmocka_unit_test(test_ssh_banner_is_not_a_header),
	    cmocka_unit_test(test_policy_names),
	    cmocka_unit_test(test_cidr_lists),
	    cmocka_unit_test(test_read_leaves_the_banner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
