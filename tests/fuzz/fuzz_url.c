/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for url: decode, remove dots, encode, decode again and
 * require the round trip to hold; check decode's verdict against a naive
 * reference (lenient unescape + tw_url_is_utf8 + control scan).
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 8192

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The slow, obvious version of the decode contract. */
static int
reference_decode(const uint8_t *in, size_t len, uint8_t *raw, size_t *rawlen)
{
	size_t i = 0, n = 0, k;
	int hi, lo;

	if (len == 0 || in[0] != '/')
		return -EINVAL;
	while (i < len) {
		if (in[i] == '%') {
			if (len - i < 3)
				return -EINVAL;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			raw[n++] = (uint8_t)(hi << 4 | lo);
			i += 3;
		} else {
			raw[n++] = in[i++];
		}
	}
	for (k = 0; k < n; k++)
		if (raw[k] < 0x20 || raw[k] == 0x7f)
			return -EINVAL;
	if (!tw_url_is_utf8(raw, n, false))
		return -EINVAL;
	*rawlen = n;
	return 0;
}

static void
check_normalized(const char *p, size_t len)
{
	size_t i, seg = 1;

	assert(len >= 1 && p[0] == '/' && p[len] == '\0');
	assert(strlen(p) == len);
	for (i = 1; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		/* Segment p[seg..i) is never "", "." or ".." except at end. */
		if (i < len)
			assert(i > seg);
		assert(!(i - seg == 1 && p[seg] == '.'));
		assert(!(i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.'));
		seg = i + 1;
	}
}

static void
check_round_trip(const char *path, size_t len)
{
	static char enc[3 * CAP + 1], dec[CAP];
	size_t declen;
	long n;
	int ret;

	n = tw_url_encode_path(path, len, enc, sizeof(enc));
	assert(n >= 0 && (size_t)n >= len && enc[n] == '\0');
	assert(!(n >= 2 && enc[0] == '/' && enc[1] == '/'));
	ret = tw_url_decode_path(enc, (size_t)n, dec, sizeof(dec), &declen);
	assert(ret == 0);
	assert(declen == len && memcmp(dec, path, len) == 0);
	/* One byte too small must fail cleanly, not truncate. */
	assert(tw_url_encode_path(path, len, enc, (size_t)n) == -ENAMETOOLONG);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t raw[CAP];
	static char out[CAP], small[64], again[CAP];
	size_t outlen, rawlen = 0, smalllen, againlen;
	bool strict, prefix;
	int ret, want;

	if (size >= CAP)
		return 0;

	/* The prefix check accepts all strict UTF-8, and prefixes of it. */
	strict = tw_url_is_utf8(data, size, false);
	prefix = tw_url_is_utf8(data, size, true);
	assert(!strict || prefix);
	if (prefix && size > 0)
		assert(tw_url_is_utf8(data, size - 1, true));

	want = reference_decode(data, size, raw, &rawlen);
	ret = tw_url_decode_path((const char *)data, size, out, sizeof(out),
				 &outlen);
	assert(ret == want);

	/* A small buffer: same verdict on bad input, 414 when it is long. */
	ret = tw_url_decode_path((const char *)data, size, small, sizeof(small),
				 &smalllen);
	if (want != 0)
		assert(ret == want);
	else if (rawlen + 1 > sizeof(small))
		assert(ret == -ENAMETOOLONG);
	else
		assert(ret == 0 && smalllen == rawlen &&
		       memcmp(small, raw, rawlen) == 0);

	if (want != 0)
		return 0;
	assert(outlen == rawlen && memcmp(out, raw, rawlen) == 0);
	assert(out[outlen] == '\0');

	check_round_trip(out, outlen);
	ret = tw_url_remove_dots(out, &outlen);
	if (ret != 0) {
		assert(ret == -EINVAL);
		return 0;
	}
	check_normalized(out, outlen);
	/* Normalizing is idempotent. */
	memcpy(again, out, outlen + 1);
	againlen = outlen;
	assert(tw_url_remove_dots(again, &againlen) == 0);
	assert(againlen == outlen && memcmp(again, out, outlen) == 0);
	/* Dot removal keeps whole UTF-8 sequences (it cuts only at '/'). */
	assert(tw_url_is_utf8((const unsigned char *)out, outlen, false));
	check_round_trip(out, outlen);
	return 0;
}
