/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for http_response: a table of upstream response heads with
 * the exact result (head length or error), status and framing, each fed
 * whole (ending at a guard page, so an over-read faults) and one byte at
 * a time (every shorter prefix must be AGAIN); the size limit; slices.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "support/guard.h"
#include "parse/http_response.h"

#define S(lit) lit, sizeof(lit) - 1
#define MAX 4096
#define HEAD_REQ 1	/* the request was HEAD */

struct vec {
	const char *in;
	size_t len;
	unsigned flags;
	int ret;		/* > 0: the head's length (all of in) */
	int status;
	enum tw_http_body body;
	uint64_t length;
};

static const struct vec vecs[] = {
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), 0, 1, 200,
	  TW_BODY_LENGTH, 5 },
	{ S("HTTP/1.0 404 Not Found\r\n\r\n"), 0, 1, 404, TW_BODY_CLOSE, 0 },
	/* the reason and the space before it may be missing */
	{ S("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), 0, 1, 200,
	  TW_BODY_LENGTH, 0 },
	{ S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), 0, 1, 200,
	  TW_BODY_LENGTH, 0 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 1,
	  200, TW_BODY_CHUNKED, 0 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
	  0, 1, 200, TW_BODY_CHUNKED, 0 },
	/* a coding without chunked: until the upstream closes */
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 0, 1, 200,
	  TW_BODY_CLOSE, 0 },
	/* no body whatever the fields say */
	{ S("HTTP/1.1 204 No Content\r\n\r\n"), 0, 1, 204, TW_BODY_NONE, 0 },
	{ S("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), 0, 1,
	  304, TW_BODY_NONE, 0 },
	{ S("HTTP/1.1 100 Continue\r\n\r\n"), 0, 1, 100, TW_BODY_NONE, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), HEAD_REQ, 1,
	  200, TW_BODY_NONE, 0 },
	/* identical duplicates and lists are one length */
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n"),
	  0, 1, 200, TW_BODY_LENGTH, 7 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n"), 0, 1, 200,
	  TW_BODY_LENGTH, 7 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n"), 0, 1, 200,
	  TW_BODY_LENGTH, 7 },
	/* ambiguous framing: parsed, but 502 */
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"),
	  0, 1, 200, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 7, 8\r\n\r\n"), 0, 1, 200,
	  TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), 0, 1, 200,
	  TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"), 0, 1, 200,
	  TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  0, 1, 200, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 0,
	  1, 200, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  0, 1, 200, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  0, 1, 304, TW_BODY_BAD, 0 },
	/* malformed heads */
	{ S("HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"), 0,
	  TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 OK\r\n: 5\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 200 O\x01K\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 99 Low\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 600 High\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 20 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1 2000 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.1  200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/2 200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("HTTP/1.2 200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("http/1.1 200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("\r\nHTTP/1.1 200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	{ S("ICY 200 OK\r\n\r\n"), 0, TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
	/* a response splitting attempt: two heads are never one */
	{ S("HTTP/1.1 200 OK\r\nX: 1\nHTTP/1.1 200 OK\r\n\r\n"), 0,
	  TW_PARSE_BAD, 0, TW_BODY_BAD, 0 },
};

static void
check_vec(const struct vec *v)
{
	struct tw_http_response res;
	struct guard g;
	const char *p = guard_copy(&g, v->in, v->len);
	int want = v->ret > 0 ? (int)v->len : v->ret;
	size_t i;
	int r;

	r = tw_http_parse_response(p, v->len, MAX, &res);
	if (r != want)
		fail_msg("%s: got %d, want %d", v->in, r, want);
	if (r > 0) {
		uint64_t len = 0;

		assert_int_equal(res.status, v->status);
		assert_int_equal(tw_http_response_body(&res,
			v->flags & HEAD_REQ, &len), v->body);
		if (v->body == TW_BODY_LENGTH)
			assert_int_equal(len, v->length);
	}
	guard_free(&g);
	/* One byte at a time: every shorter prefix is AGAIN (or already
	 * the final answer, for an error). */
	for (i = 0; i < v->len; i++) {
		p = guard_copy(&g, v->in, i);
		r = tw_http_parse_response(p, i, MAX, &res);
		guard_free(&g);
		if (r == TW_PARSE_AGAIN)
			continue;
		if (v->ret > 0 || r != v->ret)
			fail_msg("%s: prefix %zu got %d", v->in, i, r);
		break;
	}
}

static void
table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		check_vec(&vecs[i]);
}

static void
slices_point_into_the_input(void **state)
{
	static const char in[] = "HTTP/1.1 503 Busy Now\r\n"
				 "Retry-After:  5 \r\nX-A: b\r\n\r\nBODY";
	struct tw_http_response res;
	int r;

	(void)state;
	r = tw_http_parse_response(in, sizeof(in) - 1, MAX, &res);
	assert_int_equal(r, (int)(sizeof(in) - 1 - 4));
	assert_int_equal(res.minor, 1);
	assert_int_equal(res.status, 503);
	assert_int_equal(res.reason_len, 8);
	assert_memory_equal(res.reason, "Busy Now", 8);
	assert_int_equal(res.nheaders, 2);
	assert_int_equal(res.headers[0].value_len, 1);
	assert_memory_equal(res.headers[0].value, "5", 1);
	assert_ptr_equal(res.headers[1].name, in + 41);
}

static void
limits(void **state)
{
	char big[MAX + 64];
	struct tw_http_response res;
	size_t i, n;

	(void)state;
	/* A head of exactly max bytes passes; one byte more does not, and
	 * says so before the end arrives. */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: ");
	while (n < MAX - 4)
		big[n++] = 'a';
	memcpy(big + n, "\r\n\r\n", 4);
	n += 4;
	assert_int_equal(tw_http_parse_response(big, n, MAX, &res), (int)n);
	assert_int_equal(tw_http_parse_response(big, n, MAX - 1, &res),
			 TW_PARSE_HEADERS_TOO_LARGE);
	assert_int_equal(tw_http_parse_response(big, MAX - 10, MAX - 20,
						&res),
			 TW_PARSE_HEADERS_TOO_LARGE);
	/* Too many fields. */
	n = (size_t)snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\n");
	for (i = 0; i <= TW_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "A:1\r\n");
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	assert_int_equal(tw_http_parse_response(big, n, MAX, &res),
			 TW_PARSE_HEADERS_TOO_LARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(slices_point_into_the_input),
		cmocka_unit_test(limits),
	};

	return cmocka_run_group_tests_name("http_response", tests, NULL,
					   NULL);
}
