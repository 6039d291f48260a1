/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for url: decoding, dot segments, encoding and the UTF-8
 * check, as {input, expected} tables. Every input is placed right before
 * a PROT_NONE page (support/guard.h) so an over-read faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/guard.h"
#include "parse/url.h"

#define S(lit) lit, sizeof(lit) - 1

struct decode_vec {
	const char *in;
	size_t len;
	int ret;
	const char *out;	/* expected decoded path when ret == 0 */
	size_t outlen;
};

static const struct decode_vec decode_vecs[] = {
	/* good */
	{ S("/"), 0, S("/") },
	{ S("/index.html"), 0, S("/index.html") },
	{ S("/a/b/c.txt"), 0, S("/a/b/c.txt") },
	{ S("/my%20file.txt"), 0, S("/my file.txt") },
	{ S("/a b"), 0, S("/a b") },
	{ S("/%41%62%63"), 0, S("/Abc") },
	{ S("/%e4%b8%ad%e6%96%87.txt"), 0, S("/\xe4\xb8\xad\xe6\x96\x87.txt") },
	{ S("/%E4%B8%AD%E6%96%87.txt"), 0, S("/\xe4\xb8\xad\xe6\x96\x87.txt") },
	{ S("/\xe4\xb8\xad\xe6\x96\x87.txt"), 0,
	  S("/\xe4\xb8\xad\xe6\x96\x87.txt") },
	{ S("/%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82"), 0,
	  S("/\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82") },
	{ S("/\xd0\xbf\xd1\x80\xd0\xb8"), 0, S("/\xd0\xbf\xd1\x80\xd0\xb8") },
	{ S("/%F0%9F%98%80.png"), 0, S("/\xf0\x9f\x98\x80.png") },
	{ S("/\xf0\x9f\x98\x80.png"), 0, S("/\xf0\x9f\x98\x80.png") },
	{ S("/mixed\xf0\x9f%98%80"), 0, S("/mixed\xf0\x9f\x98\x80") },
	{ S("/a+b"), 0, S("/a+b") },
	{ S("/a%2Bb"), 0, S("/a+b") },
	{ S("/100%25"), 0, S("/100%") },
	{ S("/%252e"), 0, S("/%2e") },
	{ S("/%25252e"), 0, S("/%252e") },
	{ S("/a%2Fb"), 0, S("/a/b") },
	{ S("/%2e%2e/x"), 0, S("/../x") },
	{ S("/%7e"), 0, S("/~") },
	{ S("/\xc2\x80"), 0, S("/\xc2\x80") },		/* U+0080 */
	{ S("/%DF%BF"), 0, S("/\xdf\xbf") },		/* U+07FF */
	{ S("/%E0%A0%80"), 0, S("/\xe0\xa0\x80") },	/* U+0800 */
	{ S("/%ED%9F%BF"), 0, S("/\xed\x9f\xbf") },	/* U+D7FF */
	{ S("/%EE%80%80"), 0, S("/\xee\x80\x80") },	/* U+E000 */
	{ S("/%EF%BF%BF"), 0, S("/\xef\xbf\xbf") },	/* U+FFFF */
	{ S("/%F0%90%80%80"), 0, S("/\xf0\x90\x80\x80") },	/* U+10000 */
	{ S("/%F4%8F%BF%BF"), 0, S("/\xf4\x8f\xbf\xbf") },	/* U+10FFFF */
	{ S("/?literal"), 0, S("/?literal") },	/* caller splits '?' */
	/* bad escapes */
	{ S("/%"), -EINVAL, NULL, 0 },
	{ S("/%4"), -EINVAL, NULL, 0 },
	{ S("/%zz"), -EINVAL, NULL, 0 },
	{ S("/%G0"), -EINVAL, NULL, 0 },
	{ S("/%0G"), -EINVAL, NULL, 0 },
	{ S("/%%41"), -EINVAL, NULL, 0 },
	{ S("/% 1"), -EINVAL, NULL, 0 },
	{ S("/a%"), -EINVAL, NULL, 0 },
	/* NUL and controls, raw and encoded */
	{ S("/%00"), -EINVAL, NULL, 0 },
	{ S("/a\0b"), -EINVAL, NULL, 0 },
	{ S("/a\nb"), -EINVAL, NULL, 0 },
	{ S("/a\rb"), -EINVAL, NULL, 0 },
	{ S("/a\tb"), -EINVAL, NULL, 0 },
	{ S("/a\x7f"), -EINVAL, NULL, 0 },
	{ S("/\x1f"), -EINVAL, NULL, 0 },
	{ S("/%0a"), -EINVAL, NULL, 0 },
	{ S("/%0D"), -EINVAL, NULL, 0 },
	{ S("/%7f"), -EINVAL, NULL, 0 },
	{ S("/%1F"), -EINVAL, NULL, 0 },
	{ S("/%09"), -EINVAL, NULL, 0 },
	/* overlongs */
	{ S("/%C0%AF"), -EINVAL, NULL, 0 },
	{ S("/%C1%BF"), -EINVAL, NULL, 0 },
	{ S("/%C0%80"), -EINVAL, NULL, 0 },
	{ S("/\xc0\xaf"), -EINVAL, NULL, 0 },
	{ S("/%E0%80%AF"), -EINVAL, NULL, 0 },
	{ S("/%E0%9F%BF"), -EINVAL, NULL, 0 },
	{ S("/%F0%80%80%AF"), -EINVAL, NULL, 0 },
	{ S("/%F0%8F%BF%BF"), -EINVAL, NULL, 0 },
	/* surrogates and beyond U+10FFFF */
	{ S("/%ED%A0%80"), -EINVAL, NULL, 0 },
	{ S("/%ED%BF%BF"), -EINVAL, NULL, 0 },
	{ S("/\xed\xa0\x80"), -EINVAL, NULL, 0 },
	{ S("/%F4%90%80%80"), -EINVAL, NULL, 0 },
	{ S("/%F5%80%80%80"), -EINVAL, NULL, 0 },
	{ S("/%FF"), -EINVAL, NULL, 0 },
	{ S("/%FE"), -EINVAL, NULL, 0 },
	/* truncated sequences, stray continuation bytes */
	{ S("/%E4%B8"), -EINVAL, NULL, 0 },
	{ S("/%E4%B8/x"), -EINVAL, NULL, 0 },
	{ S("/\xe4\xb8"), -EINVAL, NULL, 0 },
	{ S("/%F0%9F%98"), -EINVAL, NULL, 0 },
	{ S("/%C3"), -EINVAL, NULL, 0 },
	{ S("/%C3a"), -EINVAL, NULL, 0 },
	{ S("/%80"), -EINVAL, NULL, 0 },
	{ S("/\xbf"), -EINVAL, NULL, 0 },
	{ S("/a%C3%A9%A9"), -EINVAL, NULL, 0 },
	/* not an absolute path */
	{ S(""), -EINVAL, NULL, 0 },
	{ S("a/b"), -EINVAL, NULL, 0 },
	{ S("%2Fa"), -EINVAL, NULL, 0 },
	{ S("http://h/x"), -EINVAL, NULL, 0 },
	{ S("*"), -EINVAL, NULL, 0 },
};

static void
decode_vectors(void **state)
{
	char out[256];
	struct guard g;
	const char *in;
	size_t i, outlen;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(decode_vecs) / sizeof(decode_vecs[0]); i++) {
		const struct decode_vec *v = &decode_vecs[i];

		in = guard_copy(&g, v->in, v->len);
		memset(out, 'X', sizeof(out));
		outlen = 12345;
		ret = tw_url_decode_path(in, v->len, out, sizeof(out), &outlen);
		guard_free(&g);
		if (ret != v->ret)
			fail_msg("vector %zu: ret %d, want %d", i, ret, v->ret);
		if (ret != 0)
			continue;
		assert_int_equal(outlen, v->outlen);
		assert_memory_equal(out, v->out, v->outlen);
		assert_int_equal(out[outlen], '\0');
	}
}

static void
decode_output_too_small(void **state)
{
	static const char in[] = "/%e4%b8%ad/abc";	/* decodes to 8 bytes */
	char out[16];
	size_t outlen;

	(void)state;
	/* 8 bytes plus the NUL need 9; 8 is one short. */
	assert_int_equal(tw_url_decode_path(in, sizeof(in) - 1, out, 8,
					    &outlen), -ENAMETOOLONG);
	assert_int_equal(tw_url_decode_path(in, sizeof(in) - 1, out, 1,
					    &outlen), -ENAMETOOLONG);
	assert_int_equal(tw_url_decode_path(in, sizeof(in) - 1, NULL, 0,
					    &outlen), -ENAMETOOLONG);
	assert_int_equal(tw_url_decode_path(in, sizeof(in) - 1, out, 9,
					    &outlen), 0);
	assert_int_equal(outlen, 8);
	assert_string_equal(out, "/\xe4\xb8\xad/abc");
}

static void
decode_bad_input_wins_over_length(void **state)
{
	char out[4];
	size_t outlen;

	(void)state;
	/* Garbage is a 400 even when it would also be too long. */
	assert_int_equal(tw_url_decode_path(S("/abcdefgh%zz"), out,
					    sizeof(out), &outlen), -EINVAL);
	assert_int_equal(tw_url_decode_path(S("/abcdefgh%C0%AF"), out,
					    sizeof(out), &outlen), -EINVAL);
}

static void
decode_stops_at_len(void **state)
{
	char out[16];
	size_t outlen;

	(void)state;
	/* Bytes after len must not be looked at, even a '%' escape. */
	assert_int_equal(tw_url_decode_path("/ab%zz", 3, out, sizeof(out),
					    &outlen), 0);
	assert_string_equal(out, "/ab");
	/* "%4" cut by len is a bad escape, not "%41". */
	assert_int_equal(tw_url_decode_path("/%41", 3, out, sizeof(out),
					    &outlen), -EINVAL);
}

struct dots_vec {
	const char *in;
	int ret;
	const char *out;
};

static const struct dots_vec dots_vecs[] = {
	{ "/", 0, "/" },
	{ "/a", 0, "/a" },
	{ "/a/", 0, "/a/" },
	{ "/a/./b/../c", 0, "/a/c" },
	{ "/a/b/..", 0, "/a/" },
	{ "/a/b/../", 0, "/a/" },
	{ "/a/b/.", 0, "/a/b/" },
	{ "/a/b/./", 0, "/a/b/" },
	{ "/.", 0, "/" },
	{ "/./", 0, "/" },
	{ "/a/..", 0, "/" },
	{ "/a/../", 0, "/" },
	{ "//a///b", 0, "/a/b" },
	{ "//", 0, "/" },
	{ "///a//", 0, "/a/" },
	{ "/a/b/c/../../d", 0, "/a/d" },
	{ "/a/./././b", 0, "/a/b" },
	{ "/a//..//b", 0, "/b" },
	{ "/.hidden/x", 0, "/.hidden/x" },
	{ "/.../x", 0, "/.../x" },
	{ "/..a/b..", 0, "/..a/b.." },
	{ "/a./.b", 0, "/a./.b" },
	{ "/%2e%2e/x", 0, "/%2e%2e/x" },	/* not decoded here */
	{ "/..", -EINVAL, NULL },
	{ "/../", -EINVAL, NULL },
	{ "/../x", -EINVAL, NULL },
	{ "/a/../..", -EINVAL, NULL },
	{ "/a/../../b", -EINVAL, NULL },
	{ "/./../x", -EINVAL, NULL },
	{ "//..", -EINVAL, NULL },
	{ "a/b", -EINVAL, NULL },
	{ "", -EINVAL, NULL },
};

static void
remove_dots_vectors(void **state)
{
	char path[256];
	size_t i, len;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(dots_vecs) / sizeof(dots_vecs[0]); i++) {
		const struct dots_vec *v = &dots_vecs[i];
		const char *want = v->out;

		len = strlen(v->in);
		memcpy(path, v->in, len + 1);
		ret = tw_url_remove_dots(path, &len);
		if (ret != v->ret)
			fail_msg("vector %zu (%s): ret %d, want %d", i, v->in,
				 ret, v->ret);
		if (ret != 0)
			continue;
		assert_string_equal(path, want);
		assert_int_equal(len, strlen(want));
	}
}

static void
decode_then_remove_dots(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *out;
	} vecs[] = {
		/* Encoded dots decode first, so they are removed like raw. */
		{ "/%2e%2e/x", -EINVAL, NULL },
		{ "/%2E%2E", -EINVAL, NULL },
		{ "/a/%2e%2e/%2e/b", 0, "/b" },
		{ "/a%2f..%2f..%2fetc", -EINVAL, NULL },
		{ "/a%2F%2E%2E", 0, "/" },
		/* Double-encoded dots stay literal names. */
		{ "/%252e%252e/x", 0, "/%2e%2e/x" },
	};
	char out[64];
	size_t i, len;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		ret = tw_url_decode_path(vecs[i].in, strlen(vecs[i].in), out,
					 sizeof(out), &len);
		assert_int_equal(ret, 0);
		ret = tw_url_remove_dots(out, &len);
		if (ret != vecs[i].ret)
			fail_msg("%s: ret %d, want %d", vecs[i].in, ret,
				 vecs[i].ret);
		if (ret == 0)
			assert_string_equal(out, vecs[i].out);
	}
}

struct encode_vec {
	const char *in;
	size_t len;
	const char *out;
};

static const struct encode_vec encode_vecs[] = {
	{ S("/"), "/" },
	{ S("/a/b.txt"), "/a/b.txt" },
	{ S("/AZaz09-._~"), "/AZaz09-._~" },
	{ S("/a b"), "/a%20b" },
	{ S("/a#b"), "/a%23b" },
	{ S("/a?b"), "/a%3Fb" },
	{ S("/100%"), "/100%25" },
	{ S("/a+b"), "/a%2Bb" },
	{ S("/\"q\""), "/%22q%22" },
	{ S("/'q'"), "/%27q%27" },
	{ S("/<a>"), "/%3Ca%3E" },
	{ S("/a\r\nb"), "/a%0D%0Ab" },
	{ S("/a\0b"), "/a%00b" },
	{ S("/a;b=c&d"), "/a%3Bb%3Dc%26d" },
	{ S("/a:b@c"), "/a%3Ab%40c" },
	{ S("/\\"), "/%5C" },
	{ S("/\xe4\xb8\xad"), "/%E4%B8%AD" },
	{ S("/\xf0\x9f\x98\x80"), "/%F0%9F%98%80" },
	{ S("/\xff"), "/%FF" },
	{ S("//evil.example/x"), "/%2Fevil.example/x" },
	{ S("///x"), "/%2F/x" },
	{ S("//"), "/%2F" },
	{ S("/a//b"), "/a//b" },
	{ S("a//b"), "a//b" },
	{ S(""), "" },
};

static void
encode_vectors(void **state)
{
	char out[256];
	struct guard g;
	const char *in;
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof(encode_vecs) / sizeof(encode_vecs[0]); i++) {
		const struct encode_vec *v = &encode_vecs[i];

		in = guard_copy(&g, v->in, v->len);
		n = tw_url_encode_path(in, v->len, out, sizeof(out));
		guard_free(&g);
		if (n < 0)
			fail_msg("vector %zu: ret %ld", i, n);
		assert_string_equal(out, v->out);
		assert_int_equal((size_t)n, strlen(v->out));
	}
}

static void
encode_output_too_small(void **state)
{
	char out[16];
	size_t cap;
	long n;

	(void)state;
	/* "/a%20b" is 6 bytes and needs 7 with the NUL. */
	for (cap = 0; cap < 7; cap++) {
		memset(out, 'X', sizeof(out));
		n = tw_url_encode_path(S("/a b"), cap ? out : NULL, cap);
		assert_int_equal(n, -ENAMETOOLONG);
		if (cap > 0)
			assert_int_equal(out[0], '\0');
		/* Nothing written past cap. */
		if (cap < sizeof(out))
			assert_int_equal(out[cap], 'X');
	}
	n = tw_url_encode_path(S("/a b"), out, 7);
	assert_int_equal(n, 6);
	assert_string_equal(out, "/a%20b");
}

/* A tiny deterministic PRNG so the round trip covers the same inputs. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
round_trip_check(const char *path, size_t len)
{
	char enc[1024], dec[1024];
	size_t declen, i;
	long n;

	n = tw_url_encode_path(path, len, enc, sizeof(enc));
	assert_true(n > 0);
	/* An encoded path is plain ASCII with no controls and no "//". */
	for (i = 0; i < (size_t)n; i++)
		assert_true(enc[i] > 0x20 && enc[i] < 0x7f);
	if (n >= 2)
		assert_false(enc[0] == '/' && enc[1] == '/');
	assert_int_equal(tw_url_decode_path(enc, (size_t)n, dec, sizeof(dec),
					    &declen), 0);
	assert_int_equal(declen, len);
	assert_memory_equal(dec, path, len);
}

static void
encode_decode_round_trip(void **state)
{
	static const char *const fixed[] = {
		"/", "//", "///", "/a b/c#d?e%f+g", "/%2e%2e", "/100%25",
		"/\xe4\xb8\xad\xe6\x96\x87/\xd0\xbf\xd1\x80\xd0\xb8",
		"/\xf0\x9f\x98\x80 \xf0\x9f\x8e\x89", "//x//y", "/~user/",
	};
	/* Valid pieces: ASCII printables and whole UTF-8 sequences. */
	static const char *const pieces[] = {
		"a", "Z", "0", "/", "//", " ", "%", "#", "?", "+", "\"", "<",
		">", "&", ";", ".", "..", "~", "\\", "\xc3\xa9", "\xe4\xb8\xad",
		"\xf0\x9f\x98\x80", "\xdf\xbf", "\xef\xbf\xbf",
		"\xf4\x8f\xbf\xbf",
	};
	char path[256];
	const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
	uint32_t seed = 0x2545f491;
	size_t i, len, k, pl;
	int iter;

	(void)state;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		round_trip_check(fixed[i], strlen(fixed[i]));
	for (iter = 0; iter < 5000; iter++) {
		path[0] = '/';
		len = 1;
		k = next_rand(&seed) % 24;
		while (k-- > 0) {
			const char *p = pieces[next_rand(&seed) % npieces];

			pl = strlen(p);
			memcpy(path + len, p, pl);
			len += pl;
		}
		round_trip_check(path, len);
	}
}

struct utf8_vec {
	const char *in;
	size_t len;
	bool strict;	/* is_utf8(.., false) */
	bool prefix;	/* is_utf8(.., true) */
};

static const struct utf8_vec utf8_vecs[] = {
	{ S(""), true, true },
	{ S("plain ascii\n\tand\0nul"), true, true },
	{ S("caf\xc3\xa9"), true, true },
	{ S("\xe4\xb8\xad\xe6\x96\x87"), true, true },
	{ S("\xf0\x9f\x98\x80"), true, true },
	{ S("\xf4\x8f\xbf\xbf"), true, true },
	{ S("\xef\xbb\xbf" "bom"), true, true },
	/* truncated at the end: only valid as a prefix */
	{ S("caf\xc3"), false, true },
	{ S("\xe4\xb8"), false, true },
	{ S("\xe4"), false, true },
	{ S("\xf0\x9f\x98"), false, true },
	{ S("\xf0"), false, true },
	/* invalid anywhere */
	{ S("caf\xe9"), false, true },	/* Latin-1, or a cut U+E9xx */
	{ S("caf\xe9 x"), false, false },
	{ S("\xc0\xaf"), false, false },
	{ S("\xc1"), false, false },
	{ S("\xe0\x80\xaf"), false, false },
	{ S("\xe0\x80"), false, false },	/* overlong even as a prefix */
	{ S("\xf0\x80\x80\xaf"), false, false },
	{ S("\xf0\x8f"), false, false },
	{ S("\xed\xa0\x80"), false, false },
	{ S("\xed\xa0"), false, false },
	{ S("\xf4\x90\x80\x80"), false, false },
	{ S("\xf4\x90"), false, false },
	{ S("\xf5"), false, false },
	{ S("\xff"), false, false },
	{ S("\x80"), false, false },
	{ S("a\xbf"), false, false },
	{ S("\xc3\xa9\xa9"), false, false },
	{ S("\xe4\xb8x"), false, false },
	{ S("\xe4\xb8\xad\xad"), false, false },
};

static void
is_utf8_vectors(void **state)
{
	struct guard g;
	const unsigned char *in;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(utf8_vecs) / sizeof(utf8_vecs[0]); i++) {
		const struct utf8_vec *v = &utf8_vecs[i];
		bool strict, prefix;

		in = (const unsigned char *)guard_copy(&g, v->in, v->len);
		strict = tw_url_is_utf8(in, v->len, false);
		prefix = tw_url_is_utf8(in, v->len, true);
		guard_free(&g);
		if (strict != v->strict || prefix != v->prefix)
			fail_msg("vector %zu: strict %d prefix %d", i, strict,
				 prefix);
	}
}

static void
is_utf8_agrees_with_decode(void **state)
{
	/* Every single code point's encoding, and every 2-byte sequence. */
	unsigned char raw[2];
	char in[32], out[32];
	size_t outlen;
	unsigned a, b;
	int ret;

	(void)state;
	for (a = 0x20; a < 0x100; a++) {
		for (b = 0x20; b < 0x100; b++) {
			if (a == 0x7f || b == 0x7f)
				continue;
			raw[0] = (unsigned char)a;
			raw[1] = (unsigned char)b;
			(void)snprintf(in, sizeof(in), "/%%%02X%%%02X", a, b);
			ret = tw_url_decode_path(in, strlen(in), out,
						 sizeof(out), &outlen);
			assert_int_equal(ret == 0,
					 tw_url_is_utf8(raw, 2, false));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_vectors),
		cmocka_unit_test(decode_output_too_small),
		cmocka_unit_test(decode_bad_input_wins_over_length),
		cmocka_unit_test(decode_stops_at_len),
		cmocka_unit_test(remove_dots_vectors),
		cmocka_unit_test(decode_then_remove_dots),
		cmocka_unit_test(encode_vectors),
		cmocka_unit_test(encode_output_too_small),
		cmocka_unit_test(encode_decode_round_trip),
		cmocka_unit_test(is_utf8_vectors),
		cmocka_unit_test(is_utf8_agrees_with_decode),
	};

	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
