/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for basic_auth: any Authorization value. A value
 * that parses must decode to a user without a colon and bytes without
 * control characters inside the buffer, and the base64 decoder must
 * agree with a re-encoding: canonical base64 has one spelling.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/basic_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The canonical encoding of p[0..n) into out; its length. */
static size_t
encode(const unsigned char *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = b64[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		out[o++] = b64[p[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[(p[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = b64[p[i] >> 2];
		out[o++] = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = b64[(p[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	char buf[TW_BASIC_AUTH_MAX], again[TW_BASIC_AUTH_MAX / 3 * 4 + 8];
	struct tw_basic_cred c;
	size_t i, n;
	int r;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	r = tw_basic_auth_parse(in, size, buf, sizeof(buf), &c);
	assert(r == 0 || r == TW_BASIC_AUTH_OTHER || r == -EINVAL ||
	       r == -E2BIG);
	if (r == 0) {
		assert(c.user == buf);
		assert(c.user_len + 1 + c.pass_len <= sizeof(buf));
		assert(memchr(c.user, ':', c.user_len) == NULL);
		assert(c.pass == c.user + c.user_len + 1);
		for (i = 0; i < c.user_len + 1 + c.pass_len; i++)
			assert((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
	}
	/* The decoder alone: what decodes re-encodes to the same text. */
	if (tw_basic_auth_b64decode(in, size, buf, sizeof(buf), &n) == 0) {
		assert(encode((const unsigned char *)buf, n, again) == size);
		assert(memcmp(again, in, size) == 0);
	}
	free(in);
	return 0;
}
