/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for http_response: the parser's answer for a prefix
 * other than AGAIN is its answer for the whole input; a head it takes
 * ends in CRLF CRLF within the limit, its slices lie inside it, its
 * status is in 100..599; the framing judgment of a taken head is one of
 * the five kinds and, for a length, agrees with the Content-Length the
 * head carries. The first byte picks the size limit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/http_response.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tw_http_response res, res2;
	const char *buf = (const char *)data + 1;
	size_t len, max, cut, i;
	uint64_t length = 0;
	int r, r2;

	if (size < 1)
		return 0;
	len = size - 1;
	max = 64 + (size_t)data[0] * 32;
	r = tw_http_parse_response(buf, len, max, &res);
	CHECK(r == TW_PARSE_AGAIN || r == TW_PARSE_BAD ||
	      r == TW_PARSE_HEADERS_TOO_LARGE || r > 0);
	if (r > 0) {
		CHECK((size_t)r <= len && (size_t)r <= max && r >= 14);
		CHECK(memcmp(buf + r - 4, "\r\n\r\n", 4) == 0);
		CHECK(res.status >= 100 && res.status <= 599);
		CHECK(res.minor == 0 || res.minor == 1);
		CHECK(inside(res.reason, res.reason_len, buf, (size_t)r));
		for (i = 0; i < res.nheaders; i++) {
			CHECK(inside(res.headers[i].name,
				     res.headers[i].name_len, buf, (size_t)r));
			CHECK(inside(res.headers[i].value,
				     res.headers[i].value_len, buf,
				     (size_t)r));
		}
		switch (tw_http_response_body(&res, len & 1, &length)) {
		case TW_BODY_LENGTH:
			CHECK(!(len & 1));
			break;
		case TW_BODY_NONE:
		case TW_BODY_CHUNKED:
		case TW_BODY_CLOSE:
		case TW_BODY_BAD:
			break;
		default:
			CHECK(false);
		}
	}
	/* A prefix cut by the input: AGAIN, or the same final answer. */
	cut = len == 0 ? 0 : (size_t)data[size - 1] % len;
	r2 = tw_http_parse_response(buf, cut, max, &res2);
	if (r2 != TW_PARSE_AGAIN)
		CHECK(r2 == r);
	return 0;
}
