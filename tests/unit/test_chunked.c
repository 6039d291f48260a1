/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for chunked: a table of bodies with the exact result, bytes
 * taken and data bytes, checked fed whole (right before a guard page, so
 * an over-read faults) and fed one byte at a time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "support/guard.h"
#include "parse/chunked.h"

#define S(lit) lit, sizeof(lit) - 1
#define LIMIT 1024

struct vec {
	const char *in;
	size_t len;
	uint64_t limit;
	int ret;
	size_t consumed;	/* bytes taken: up to the end, or the bad byte */
	size_t body;		/* chunk-data bytes among them */
};

static const struct vec vecs[] = {
	/* valid */
	{ S("0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 5, 0 },
	{ S("5\r\nhello\r\n0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 15, 5 },
	{ S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 26, 11 },
	/* the next request's bytes are not taken */
	{ S("1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 11, 1 },
	/* uppercase and lowercase hex, leading zeros */
	{ S("A\r\n0123456789\r\n0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 20, 10 },
	{ S("a\r\n0123456789\r\n0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 20, 10 },
	{ S("0000000000000000000003\r\nabc\r\n000\r\n\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 36, 3 },
	/* extensions */
	{ S("3;a=b\r\nabc\r\n0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 17, 3 },
	{ S("3;a\r\nabc\r\n0;last\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 20, 3 },
	{ S("3 ; a = b ; c\r\nabc\r\n0\r\n\r\n"), LIMIT, TW_CHUNKED_DONE, 25, 3 },
	{ S("3;a=\"b \\\" c\";d=e\r\nabc\r\n0\r\n\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 28, 3 },
	/* trailers */
	{ S("3\r\nabc\r\n0\r\nX-Sum: 12\r\nX-B:\r\n\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 30, 3 },
	/* incomplete */
	{ S(""), LIMIT, TW_CHUNKED_AGAIN, 0, 0 },
	{ S("5\r\nhel"), LIMIT, TW_CHUNKED_AGAIN, 6, 3 },
	{ S("5\r\nhello\r\n0\r\n"), LIMIT, TW_CHUNKED_AGAIN, 13, 5 },
	{ S("5\r\nhello\r\n0\r\n\r"), LIMIT, TW_CHUNKED_AGAIN, 14, 5 },
	{ S("3;a=\"b"), LIMIT, TW_CHUNKED_AGAIN, 6, 0 },
	/* bad chunk-size */
	{ S("\r\n"), LIMIT, -400, 0, 0 },
	{ S("g\r\n"), LIMIT, -400, 0, 0 },
	{ S("5x\r\nhello\r\n0\r\n\r\n"), LIMIT, -400, 1, 0 },
	{ S("-1\r\n"), LIMIT, -400, 0, 0 },
	{ S("0x5\r\n"), LIMIT, -400, 1, 0 },
	{ S(" 5\r\n"), LIMIT, -400, 0, 0 },
	/* overflow: 17 significant hex digits, even with a limit that big */
	{ S("10000000000000000\r\n"), UINT64_MAX, -400, 16, 0 },
	{ S("FFFFFFFFFFFFFFFF\r\n"), UINT64_MAX, TW_CHUNKED_AGAIN, 18, 0 },
	{ S("FFFFFFFFFFFFFFFF\r\n"), LIMIT, -413, 17, 0 },
	{ S("00000000000000000001\r\nx\r\n0\r\n\r\n"), LIMIT,
	  TW_CHUNKED_DONE, 30, 1 },
	/* data not followed by CRLF */
	{ S("3\r\nabcd\r\n0\r\n\r\n"), LIMIT, -400, 6, 3 },
	{ S("3\r\nabc\n0\r\n\r\n"), LIMIT, -400, 6, 3 },
	{ S("3\r\nabc\r0\r\n\r\n"), LIMIT, -400, 7, 3 },
	/* missing final CRLF: the next byte after the last chunk is not one */
	{ S("0\r\nGET / HTTP/1.1\r\n"), LIMIT, -400, 6, 0 },
	{ S("0\r\n\rX"), LIMIT, -400, 4, 0 },
	/* bare LF and bare CR */
	{ S("5\nhello\r\n0\r\n\r\n"), LIMIT, -400, 1, 0 },
	{ S("5\r\nhello\r\n0\n\r\n"), LIMIT, -400, 11, 5 },
	{ S("0\r\n\n"), LIMIT, -400, 3, 0 },
	{ S("0\r\nA: b\n\r\n"), LIMIT, -400, 7, 0 },
	{ S("5\rhello"), LIMIT, -400, 2, 0 },
	/* bad extensions */
	{ S("3;\r\nabc\r\n"), LIMIT, -400, 2, 0 },
	{ S("3;=b\r\nabc\r\n"), LIMIT, -400, 2, 0 },
	{ S("3;a=\r\nabc\r\n"), LIMIT, -400, 4, 0 },
	{ S("3;a b\r\nabc\r\n"), LIMIT, -400, 4, 0 },
	{ S("3 \r\nabc\r\n"), LIMIT, -400, 2, 0 },
	{ S("3;a=\"b\"c\r\nabc\r\n"), LIMIT, -400, 7, 0 },
	{ S("3;a=\"\x01\"\r\nabc\r\n"), LIMIT, -400, 5, 0 },
	{ S("3;a@b\r\n"), LIMIT, -400, 3, 0 },
	/* bad trailers */
	{ S("0\r\n X: y\r\n\r\n"), LIMIT, -400, 3, 0 },
	{ S("0\r\nX : y\r\n\r\n"), LIMIT, -400, 4, 0 },
	{ S("0\r\nX\r\n\r\n"), LIMIT, -400, 4, 0 },
	{ S("0\r\n:y\r\n\r\n"), LIMIT, -400, 3, 0 },
	{ S("0\r\nX: a\x01\r\n\r\n"), LIMIT, -400, 7, 0 },
	/* the limit: up to it is fine, one byte over is 413 at the size */
	{ S("4\r\nabcd\r\n0\r\n\r\n"), 4, TW_CHUNKED_DONE, 14, 4 },
	{ S("5\r\nabcde\r\n0\r\n\r\n"), 4, -413, 2, 0 },
	{ S("2\r\nab\r\n3\r\nabc\r\n0\r\n\r\n"), 4, -413, 9, 2 },
	{ S("1\r\na\r\n0\r\n\r\n"), 0, -413, 2, 0 },
	{ S("0\r\n\r\n"), 0, TW_CHUNKED_DONE, 5, 0 },
};

static void
check(const struct vec *v, int ret, size_t consumed, size_t body, size_t i)
{
	if (ret != v->ret || consumed != v->consumed || body != v->body)
		print_error("vector %zu: \"%.*s\": got %d %zu %zu, "
			    "want %d %zu %zu\n", i, (int)v->len, v->in, ret,
			    consumed, body, v->ret, v->consumed, v->body);
	assert_int_equal(ret, v->ret);
	assert_int_equal(consumed, v->consumed);
	assert_int_equal(body, v->body);
}

static void
whole(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		struct guard g;
		const char *p = guard_copy(&g, v->in, v->len);
		struct tw_chunked ck;
		size_t consumed, body;
		int ret;

		tw_chunked_init(&ck, v->limit);
		ret = tw_chunked_feed(&ck, p, v->len, &consumed, &body);
		check(v, ret, consumed, body, i);
		guard_free(&g);
	}
}

static void
byte_at_a_time(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		struct tw_chunked ck;
		size_t off, total = 0, data = 0;
		int ret = TW_CHUNKED_AGAIN;

		tw_chunked_init(&ck, v->limit);
		for (off = 0; off < v->len && ret == TW_CHUNKED_AGAIN; off++) {
			size_t consumed, body;

			ret = tw_chunked_feed(&ck, v->in + off, 1, &consumed,
					      &body);
			total += consumed;
			data += body;
		}
		check(v, ret, total, data, i);
	}
}

/* Done and errors stick: feeding more changes nothing. */
static void
final_states_stick(void **state)
{
	struct tw_chunked ck;
	size_t consumed, body;

	(void)state;
	tw_chunked_init(&ck, LIMIT);
	assert_int_equal(tw_chunked_feed(&ck, S("0\r\n\r\n"), &consumed, &body),
			 TW_CHUNKED_DONE);
	assert_int_equal(tw_chunked_feed(&ck, S("1\r\na\r\n"), &consumed, &body),
			 TW_CHUNKED_DONE);
	assert_int_equal(consumed, 0);
	tw_chunked_init(&ck, LIMIT);
	assert_int_equal(tw_chunked_feed(&ck, S("z"), &consumed, &body), -400);
	assert_int_equal(tw_chunked_feed(&ck, S("0\r\n\r\n"), &consumed, &body),
			 -400);
	assert_int_equal(consumed, 0);
}

/* A size line, extensions and all, or a trailer section is bounded. */
static void
meta_bounded(void **state)
{
	static char line[TW_CHUNKED_MAX_META + 16];
	struct tw_chunked ck;
	size_t consumed, body;

	(void)state;
	memset(line, '0', sizeof(line));
	tw_chunked_init(&ck, LIMIT);
	assert_int_equal(tw_chunked_feed(&ck, line, TW_CHUNKED_MAX_META,
					 &consumed, &body), TW_CHUNKED_AGAIN);
	assert_int_equal(tw_chunked_feed(&ck, line, 1, &consumed, &body), -400);

	/* many small chunks are fine: the bound is per line */
	tw_chunked_init(&ck, UINT64_MAX);
	for (size_t i = 0; i < 4 * TW_CHUNKED_MAX_META; i++)
		assert_int_equal(tw_chunked_feed(&ck, S("1\r\nx\r\n"),
						 &consumed, &body),
				 TW_CHUNKED_AGAIN);
	assert_int_equal(ck.total, 4 * TW_CHUNKED_MAX_META);

	/* trailers: the whole section */
	tw_chunked_init(&ck, LIMIT);
	assert_int_equal(tw_chunked_feed(&ck, S("0\r\n"), &consumed, &body),
			 TW_CHUNKED_AGAIN);
	for (size_t i = 0; i < TW_CHUNKED_MAX_META / 8; i++)
		assert_int_equal(tw_chunked_feed(&ck, S("X: abc\r\n"),
						 &consumed, &body),
				 TW_CHUNKED_AGAIN);
	assert_int_equal(tw_chunked_feed(&ck, S("\r\n"), &consumed, &body),
			 -400);
}

/* Slicing the data out in place (the proxy's way): meta bytes one at a
 * time until data_left says data follows, then the data in one piece.
 * Every vector that decodes gives back exactly its data bytes. */
static void
data_left_slices_the_data(void **state)
{
	static const char body[] = "3;x=1\r\nabc\r\n10\r\n0123456789abcdef"
				   "\r\n1\r\nZ\r\n0\r\nT: v\r\n\r\n";
	struct tw_chunked ck;
	char data[64];
	size_t off = 0, n = 0, consumed, got;
	int ret = TW_CHUNKED_AGAIN;

	(void)state;
	tw_chunked_init(&ck, LIMIT);
	assert_int_equal(tw_chunked_data_left(&ck), 0);
	while (off < sizeof(body) - 1 && ret == TW_CHUNKED_AGAIN) {
		uint64_t left = tw_chunked_data_left(&ck);

		if (left > 0) {
			size_t take = (size_t)left;

			memcpy(data + n, body + off, take);
			n += take;
			ret = tw_chunked_feed(&ck, body + off, take, &consumed,
					      &got);
			assert_int_equal(got, take);
			assert_int_equal(tw_chunked_data_left(&ck), 0);
		} else {
			ret = tw_chunked_feed(&ck, body + off, 1, &consumed,
					      &got);
			assert_int_equal(got, 0);
		}
		off += consumed;
	}
	assert_int_equal(ret, TW_CHUNKED_DONE);
	assert_int_equal(off, sizeof(body) - 1);
	assert_int_equal(n, 20);
	assert_memory_equal(data, "abc0123456789abcdefZ", 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole),
		cmocka_unit_test(byte_at_a_time),
		cmocka_unit_test(final_states_stick),
		cmocka_unit_test(meta_bounded),
		cmocka_unit_test(data_left_slices_the_data),
	};

	return cmocka_run_group_tests_name("chunked", tests, NULL, NULL);
}
