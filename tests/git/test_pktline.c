/*
 * test_pktline.c - pkt-line framing: what is written, what is accepted,
 * and that malformed input is refused rather than read past.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pktline.h"

/* An in-memory wire: reads come from `in` in chunks of at most `chunk`. */
struct mem_wire {
	const unsigned char *in;
	size_t in_len, in_pos, chunk;
	struct gg_buf out;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_wire *w = ctx;
	size_t n = w->in_len - w->in_pos;

	if (n > len)
		n = len;
	if (w->chunk && n > w->chunk)
		n = w->chunk;
	memcpy(buf, w->in + w->in_pos, n);
	w->in_pos += n;
	return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem_wire *w = ctx;

	if (gg_buf_add(&w->out, buf, len) < 0)
		return -1;
	return (ssize_t)len;
}

struct fixture {
	struct mem_wire wire;
	struct gg_git_io io;
	struct gg_pkt_reader *reader;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->io.ctx = &f->wire;
	f->io.read = mem_read;
	f->io.write = mem_write;
	f->reader = malloc(sizeof(*f->reader));
	assert_non_null(f->reader);
	git_libgit2_init();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gg_buf_clear(&f->wire.out);
	free(f->reader);
	free(f);
	git_libgit2_shutdown();
	return 0;
}

static void feed(struct fixture *f, const void *data, size_t len, size_t chunk)
{
	f->wire.in = data;
	f->wire.in_len = len;
	f->wire.in_pos = 0;
	f->wire.chunk = chunk;
	gg_pkt_reader_init(f->reader, &f->io);
}

static void test_pkt_printf_frames_with_hex_length(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(gg_pkt_printf(&f->io, "want %s\n", "abc"), 0);
	assert_int_equal(gg_pkt_flush(&f->io), 0);
	assert_int_equal(gg_pkt_delim(&f->io), 0);
	assert_int_equal(gg_pkt_response_end(&f->io), 0);
	assert_int_equal(f->wire.out.len, 13 + 12);
	assert_memory_equal(f->wire.out.data, "000dwant abc\n000000010002", 25);
}

static void test_pkt_error_is_an_err_line(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(gg_pkt_error(&f->io, "upload-pack: not our ref %s", "x"), 0);
	assert_string_equal(f->wire.out.data, "0023ERR upload-pack: not our ref x\n");
}

static void test_read_types_and_chomp(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "000ahello\n0009world0000000100020004";

	feed(f, in, sizeof(in) - 1, 0);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_DATA);
	assert_string_equal(f->reader->line, "hello");
	assert_int_equal(f->reader->len, 5);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_string_equal(f->reader->line, "world");
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_FLUSH);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_DELIM);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_RESPONSE_END);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_DATA); /* "0004": empty */
	assert_int_equal(f->reader->len, 0);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_EOF);
}

static void test_read_survives_one_byte_reads(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "0032want 0123456789012345678901234567890123456789\n0000";

	feed(f, in, sizeof(in) - 1, 1);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_string_equal(f->reader->line, "want 0123456789012345678901234567890123456789");
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_FLUSH);
}

static void test_read_keeps_bytes_after_nul(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "000fa b\0caps x\n";

	feed(f, in, sizeof(in) - 1, 0);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->len, 10);
	assert_string_equal(f->reader->line, "a b");
	assert_string_equal(f->reader->line + 4, "caps x");
}

static void test_read_refuses_bad_lengths(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {"00zz", "0003", "fff1", "ffff", "-001", "000"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feed(f, bad[i], strlen(bad[i]), 0);
		assert_int_equal(gg_pkt_read(f->reader), -1);
	}
}

static void test_read_refuses_truncated_packet(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "0010short";

	feed(f, in, sizeof(in) - 1, 0);
	assert_int_equal(gg_pkt_read(f->reader), -1);
}

static void test_largest_packet_round_trips(void **state)
{
	struct fixture *f = *state;
	char *payload = malloc(GG_PKT_MAX_PAYLOAD);

	assert_non_null(payload);
	memset(payload, 'x', GG_PKT_MAX_PAYLOAD);
	assert_int_equal(gg_pkt_write(&f->io, payload, GG_PKT_MAX_PAYLOAD), 0);
	assert_memory_equal(f->wire.out.data, "fff0", 4);
	assert_int_equal(gg_pkt_write(&f->io, payload, GG_PKT_MAX_PAYLOAD + 1), -1);
	feed(f, f->wire.out.data, f->wire.out.len, 0);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->len, GG_PKT_MAX_PAYLOAD);
	assert_int_equal(f->reader->line[GG_PKT_MAX_PAYLOAD], '\0');
	free(payload);
}

static void test_sideband_splits_at_65515(void **state)
{
	struct fixture *f = *state;
	size_t total = 140000, got = 0, packets = 0;
	unsigned char *data = malloc(total);
	size_t i;

	assert_non_null(data);
	for (i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 7);
	assert_int_equal(gg_sideband_write(&f->io, GG_BAND_DATA, data, total, GG_SIDEBAND_MAX_DATA),
			 0);
	feed(f, f->wire.out.data, f->wire.out.len, 0);
	for (;;) {
		assert_int_equal(gg_pkt_read(f->reader), 0);
		if (f->reader->type == GG_PKT_EOF)
			break;
		assert_true(f->reader->len <= GG_SIDEBAND_MAX_DATA + 1);
		assert_int_equal(f->reader->line[0], GG_BAND_DATA);
		assert_memory_equal(f->reader->line + 1, data + got, f->reader->len - 1);
		got += f->reader->len - 1;
		packets++;
	}
	assert_int_equal(got, total);
	assert_int_equal(packets, 3);
	free(data);
}

static void test_sideband_empty_write_is_a_keepalive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(gg_sideband_write(&f->io, GG_BAND_DATA, "", 0, GG_SIDEBAND_MAX_DATA), 0);
	assert_int_equal(f->wire.out.len, 5);
	assert_memory_equal(f->wire.out.data, "0005\1", 5);
}

static void test_small_sideband_limit(void **state)
{
	struct fixture *f = *state;
	char data[2000];

	memset(data, 'a', sizeof(data));
	assert_int_equal(gg_sideband_write(&f->io, GG_BAND_PROGRESS, data, sizeof(data),
					   GG_SIDEBAND_SMALL_MAX_DATA),
			 0);
	/* 995 + 995 + 10 bytes: three packets, the first two of 1000 bytes. */
	assert_memory_equal(f->wire.out.data, "03e8\2", 5);
	assert_int_equal(f->wire.out.len, 1000 + 1000 + 15);
}

static void test_read_raw_drains_buffer_first(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "0000PACKrest";
	char buf[16];
	size_t n;

	feed(f, in, sizeof(in) - 1, 0);
	assert_int_equal(gg_pkt_read(f->reader), 0);
	assert_int_equal(f->reader->type, GG_PKT_FLUSH);
	assert_int_equal(gg_pkt_read_raw(f->reader, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "PACKrest", 8);
	assert_int_equal(gg_pkt_read_raw(f->reader, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 0);
}

static void test_nested_report_buffer(void **state)
{
	struct gg_buf b = GG_BUF_INIT;

	(void)state;
	assert_int_equal(gg_pkt_buf_printf(&b, "unpack %s\n", "ok"), 0);
	assert_int_equal(gg_pkt_buf_flush(&b), 0);
	assert_string_equal(b.data, "000eunpack ok\n0000");
	gg_buf_clear(&b);
}

static void test_parse_oid(void **state)
{
	git_oid oid;
	const char *end;

	(void)state;
	assert_int_equal(gg_parse_oid(&oid, "0123456789abcdef0123456789ABCDEF01234567", NULL), 0);
	assert_int_equal(gg_parse_oid(&oid, "0123456789abcdef0123456789abcdef0123456", NULL), -1);
	assert_int_equal(gg_parse_oid(&oid, "0123456789abcdef0123456789abcdef0123456g", NULL), -1);
	assert_int_equal(gg_parse_oid(&oid, "0123456789abcdef0123456789abcdef01234567 x", NULL),
			 -1);
	assert_int_equal(gg_parse_oid(&oid, "0123456789abcdef0123456789abcdef01234567 x", &end), 0);
	assert_string_equal(end, " x");
	assert_int_equal(gg_parse_oid(&oid, "", &end), -1);
}

static void test_capabilities(void **state)
{
	const char *v;
	size_t n;

	(void)state;
	assert_true(gg_has_capability("multi_ack side-band-64k agent=git/2.39", "side-band-64k",
				      NULL, NULL));
	assert_false(gg_has_capability("side-band-64k", "side-band", NULL, NULL));
	assert_false(gg_has_capability("multi_ack_detailed", "multi_ack", NULL, NULL));
	assert_true(gg_has_capability("a agent=git/2.39 b", "agent", &v, &n));
	assert_int_equal(n, 8);
	assert_memory_equal(v, "git/2.39", 8);
	assert_false(gg_has_capability("", "agent", NULL, NULL));
}

static void test_parse_numbers_and_prefixes(void **state)
{
	unsigned long long v;
	const char *rest;

	(void)state;
	assert_int_equal(gg_parse_ullong(&v, "2147483647"), 0);
	assert_true(v == 2147483647ull);
	assert_int_equal(gg_parse_ullong(&v, "99999999999999999999"), -1);
	assert_int_equal(gg_parse_ullong(&v, "12a"), -1);
	assert_int_equal(gg_parse_ullong(&v, ""), -1);
	assert_true(gg_skip_prefix("deepen 3", "deepen ", &rest));
	assert_string_equal(rest, "3");
	assert_false(gg_skip_prefix("deepen", "deepen ", &rest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pkt_printf_frames_with_hex_length, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pkt_error_is_an_err_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_types_and_chomp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_survives_one_byte_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_keeps_bytes_after_nul, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_refuses_bad_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_refuses_truncated_packet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_largest_packet_round_trips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sideband_splits_at_65515, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sideband_empty_write_is_a_keepalive, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_small_sideband_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_raw_drains_buffer_first, setup, teardown),
	    cmocka_unit_test(test_nested_report_buffer),
	    cmocka_unit_test(test_parse_oid),
	    cmocka_unit_test(test_capabilities),
	    cmocka_unit_test(test_parse_numbers_and_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
