/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for buf: the appenders (bytes, strings, chars, decimal
 * numbers, HTML-escaped text), growth, reserve, reset with its keep
 * threshold, and the sticky failed flag.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* The buffer holds exactly the NUL-less string want. */
static void
assert_buf_is(const struct tw_buf *b, const char *want, size_t n)
{
	assert_false(b->failed);
	assert_int_equal(b->len, n);
	assert_true(b->cap >= b->len);
	if (n > 0)
		assert_memory_equal(b->data, want, n);
}

#define assert_buf_str(b, s) assert_buf_is((b), (s), sizeof(s) - 1)

static void
append_concatenates_and_grows(void **state)
{
	struct tw_buf b = { 0 };
	char big[10000];
	size_t i;

	(void)state;
	tw_buf_append(&b, "ab", 2);
	tw_buf_append_str(&b, "cd");
	tw_buf_append_char(&b, 'e');
	tw_buf_append(&b, "\0f", 2);	/* bytes, not a C string */
	assert_buf_is(&b, "abcde\0f", 7);
	tw_buf_free(&b);

	/* One byte at a time through several doublings. */
	for (i = 0; i < sizeof(big); i++) {
		big[i] = (char)('a' + i % 26);
		tw_buf_append_char(&b, big[i]);
	}
	assert_buf_is(&b, big, sizeof(big));
	tw_buf_free(&b);

	/* One append larger than the first allocation. */
	tw_buf_append(&b, big, sizeof(big));
	tw_buf_append(&b, big, sizeof(big));
	assert_int_equal(b.len, 2 * sizeof(big));
	assert_memory_equal(b.data + sizeof(big), big, sizeof(big));
	tw_buf_free(&b);
}

static void
append_nothing_keeps_empty(void **state)
{
	struct tw_buf b = { 0 };

	(void)state;
	tw_buf_append(&b, "x", 0);
	tw_buf_append_str(&b, "");
	assert_int_equal(b.len, 0);
	assert_false(b.failed);
	tw_buf_append_str(&b, "z");
	assert_buf_str(&b, "z");
	tw_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.len, 0);
	/* Usable again after free. */
	tw_buf_append_str(&b, "again");
	assert_buf_str(&b, "again");
	tw_buf_free(&b);
}

static const struct {
	uint64_t v;
	const char *want;
} u64_vectors[] = {
	{ 0, "0" },
	{ 1, "1" },
	{ 9, "9" },
	{ 10, "10" },
	{ 99, "99" },
	{ 100, "100" },
	{ 4294967295u, "4294967295" },
	{ 4294967296u, "4294967296" },
	{ 10000000000000000000u, "10000000000000000000" },
	{ UINT64_MAX - 1, "18446744073709551614" },
	{ UINT64_MAX, "18446744073709551615" },
};

static void
fmt_u64_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(u64_vectors) / sizeof(u64_vectors[0]); i++) {
		/* Guard bytes around the 20-byte window catch overruns. */
		char out[22];
		size_t n;

		memset(out, '#', sizeof(out));
		n = tw_buf_fmt_u64(out + 1, u64_vectors[i].v);
		assert_int_equal(n, strlen(u64_vectors[i].want));
		assert_memory_equal(out + 1, u64_vectors[i].want, n);
		assert_int_equal(out[0], '#');
		assert_int_equal(out[21], '#');
		if (n < 20)
			assert_int_equal(out[1 + n], '#');
	}
}

static void
append_u64_vectors(void **state)
{
	struct tw_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(u64_vectors) / sizeof(u64_vectors[0]); i++) {
		tw_buf_append_str(&b, "[");
		tw_buf_append_u64(&b, u64_vectors[i].v);
		tw_buf_append_str(&b, "]");
		assert_int_equal(b.len, strlen(u64_vectors[i].want) + 2);
		assert_memory_equal(b.data + 1, u64_vectors[i].want,
				    b.len - 2);
		tw_buf_reset(&b, 1024);
	}
	tw_buf_free(&b);
}

static const struct {
	const char *in;
	size_t len;
	const char *want;
} html_vectors[] = {
#define HV(in, want) { in, sizeof(in) - 1, want }
	HV("", ""),
	HV("plain text", "plain text"),
	HV("&", "&amp;"),
	HV("<", "&lt;"),
	HV(">", "&gt;"),
	HV("\"", "&quot;"),
	HV("'", "&#39;"),
	HV("&<>\"'", "&amp;&lt;&gt;&quot;&#39;"),
	HV("a<b>c", "a&lt;b&gt;c"),
	HV("<script>alert('x')</script>",
	   "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
	HV("&amp;", "&amp;amp;"),	/* no double-unescaping */
	HV("tail&", "tail&amp;"),
	HV("&head", "&amp;head"),
	/* UTF-8 and other high bytes pass through untouched. */
	HV("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80",
	   "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"),
	HV("\xff\xfe<", "\xff\xfe&lt;"),
	HV("tab\tnl\n", "tab\tnl\n"),
#undef HV
};

static void
append_html_vectors(void **state)
{
	struct tw_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(html_vectors) / sizeof(html_vectors[0]); i++) {
		tw_buf_append_str(&b, "=");
		tw_buf_append_html(&b, html_vectors[i].in, html_vectors[i].len);
		assert_false(b.failed);
		assert_int_equal(b.len, 1 + strlen(html_vectors[i].want));
		assert_memory_equal(b.data + 1, html_vectors[i].want,
				    b.len - 1);
		tw_buf_reset(&b, 4096);
	}
	tw_buf_free(&b);
}

/* JSON string contents: quotes, backslashes and control bytes escaped,
 * UTF-8 and '/' as they are. */
static void
append_json_vectors(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} v[] = {
		{ "", 0, "" },
		{ "plain", 5, "plain" },
		{ "a\"b", 3, "a\\\"b" },
		{ "a\\b", 3, "a\\\\b" },
		{ "t\tn\nr\r", 6, "t\\u0009n\\u000ar\\u000d" },
		{ "\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f" },
		{ "nul\0x", 5, "nul\\u0000x" },
		{ "</script>&'", 11, "</script>&'" },
		{ "\xe4\xb8\xad\xf0\x9f\x98\x80", 7,
		  "\xe4\xb8\xad\xf0\x9f\x98\x80" },
		{ "\"\"", 2, "\\\"\\\"" },
	};
	struct tw_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tw_buf_append_str(&b, "=");
		tw_buf_append_json(&b, v[i].in, v[i].len);
		assert_false(b.failed);
		assert_int_equal(b.len, 1 + strlen(v[i].want));
		assert_memory_equal(b.data + 1, v[i].want, b.len - 1);
		tw_buf_reset(&b, 4096);
	}
	tw_buf_free(&b);
}

static void
append_html_respects_length(void **state)
{
	struct tw_buf b = { 0 };

	(void)state;
	/* n stops before the '<'; an embedded NUL is data. */
	tw_buf_append_html(&b, "a\0b<c", 3);
	assert_buf_is(&b, "a\0b", 3);
	tw_buf_free(&b);
}

static void
reserve_gives_room(void **state)
{
	struct tw_buf b = { 0 };
	char *p;

	(void)state;
	tw_buf_append_str(&b, "head:");
	p = tw_buf_reserve(&b, 1000);
	assert_non_null(p);
	assert_ptr_equal(p, b.data + b.len);
	assert_true(b.cap - b.len >= 1000);
	memset(p, 'x', 1000);	/* ASan checks the room is real */
	b.len += 1000;
	assert_int_equal(b.len, 1005);
	assert_memory_equal(b.data, "head:xxx", 8);
	assert_int_equal(b.data[1004], 'x');
	/* A reservation that already fits does not move the data. */
	p = tw_buf_reserve(&b, b.cap - b.len);
	assert_ptr_equal(p, b.data + b.len);
	tw_buf_free(&b);
}

static void
reset_keeps_small_frees_large(void **state)
{
	struct tw_buf b = { 0 };
	char *data;
	size_t cap;

	(void)state;
	tw_buf_append_str(&b, "hello");
	data = b.data;
	cap = b.cap;
	assert_true(cap > 0);

	/* cap <= keep: memory kept, content emptied. */
	tw_buf_reset(&b, cap);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	tw_buf_append_str(&b, "x");
	assert_buf_str(&b, "x");
	assert_ptr_equal(b.data, data);

	/* cap > keep: memory released. */
	tw_buf_reset(&b, cap - 1);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_null(b.data);
	tw_buf_append_str(&b, "y");
	assert_buf_str(&b, "y");

	tw_buf_reset(&b, 0);
	assert_null(b.data);
	tw_buf_free(&b);
}

static void
failed_is_sticky_until_reset(void **state)
{
	struct tw_buf b = { 0 };
	volatile size_t huge;

	(void)state;
	tw_buf_append_str(&b, "kept");
	/* Too large to ever allocate: the doubling would overflow. */
	assert_null(tw_buf_reserve(&b, SIZE_MAX - 2));
	assert_true(b.failed);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "kept", 4);

	/* Later appends, even small ones, are dropped. */
	tw_buf_append_str(&b, "more");
	tw_buf_append_char(&b, 'c');
	tw_buf_append_u64(&b, 42);
	tw_buf_append_html(&b, "<", 1);
	assert_null(tw_buf_reserve(&b, 1));
	assert_true(b.failed);
	assert_int_equal(b.len, 4);

	tw_buf_reset(&b, 1 << 20);
	assert_false(b.failed);
	assert_int_equal(b.len, 0);
	tw_buf_append_str(&b, "ok");
	assert_buf_str(&b, "ok");

	/* A failed append through tw_buf_append (not just reserve). The
	 * size comes at run time, as a real one would: a constant this
	 * large makes gcc warn about the inlined memcpy it cannot reach. */
	huge = SIZE_MAX / 2 + 2;
	tw_buf_append(&b, "", huge);
	assert_true(b.failed);
	assert_int_equal(b.len, 2);
	/* tw_buf_free clears it too. */
	tw_buf_free(&b);
	assert_false(b.failed);
	tw_buf_append_str(&b, "new");
	assert_buf_str(&b, "new");
	tw_buf_free(&b);
}

static void
failed_on_empty_buffer(void **state)
{
	struct tw_buf b = { 0 };

	(void)state;
	assert_null(tw_buf_reserve(&b, SIZE_MAX));
	assert_true(b.failed);
	assert_int_equal(b.len, 0);
	tw_buf_reset(&b, 0);
	assert_false(b.failed);
	tw_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_concatenates_and_grows),
		cmocka_unit_test(append_nothing_keeps_empty),
		cmocka_unit_test(fmt_u64_vectors),
		cmocka_unit_test(append_u64_vectors),
		cmocka_unit_test(append_html_vectors),
		cmocka_unit_test(append_html_respects_length),
		cmocka_unit_test(append_json_vectors),
		cmocka_unit_test(reserve_gives_room),
		cmocka_unit_test(reset_keeps_small_frees_large),
		cmocka_unit_test(failed_is_sticky_until_reset),
		cmocka_unit_test(failed_on_empty_buffer),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
