/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for http_parse: the request parser (whole, and fed in
 * pieces, which must agree) and every header-value parser on the same
 * bytes, checking that slices stay inside the input and that results keep
 * their documented invariants.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/http_parse.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
within(const char *base, size_t len, const char *p, size_t n)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The value, OWS-trimmed, is "*". */
static bool
is_star(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == 1 && v[0] == '*';
}

static void
check_request(const char *buf, size_t size, int r,
	      const struct tw_http_request *req)
{
	size_t i, j;

	if (r <= 0) {
		CHECK(r == TW_PARSE_AGAIN || r == TW_PARSE_BAD ||
		      r == TW_PARSE_URI_TOO_LONG ||
		      r == TW_PARSE_HEADERS_TOO_LARGE ||
		      r == TW_PARSE_BAD_VERSION);
		return;
	}
	CHECK((size_t)r <= size);
	CHECK(buf[r - 1] == '\n');
	CHECK(req->method_len > 0 && req->target_len > 0);
	CHECK(within(buf, (size_t)r, req->method, req->method_len));
	CHECK(within(buf, (size_t)r, req->target, req->target_len));
	CHECK(req->minor == 0 || req->minor == 1);
	CHECK(req->nheaders <= TW_HTTP_MAX_HEADERS);
	for (i = 0; i < req->method_len; i++)
		CHECK(is_tchar((unsigned char)req->method[i]));
	for (i = 0; i < req->target_len; i++)
		CHECK(req->target[i] > 0x20 && req->target[i] < 0x7f);
	for (i = 0; i < req->nheaders; i++) {
		const struct tw_http_header *h = &req->headers[i];

		CHECK(h->name_len > 0);
		CHECK(within(buf, (size_t)r, h->name, h->name_len));
		CHECK(within(buf, (size_t)r, h->value, h->value_len));
		for (j = 0; j < h->name_len; j++)
			CHECK(is_tchar((unsigned char)h->name[j]));
		for (j = 0; j < h->value_len; j++) {
			unsigned char c = (unsigned char)h->value[j];

			CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
		if (h->value_len > 0) {
			CHECK(h->value[0] != ' ' && h->value[0] != '\t');
			CHECK(h->value[h->value_len - 1] != ' ' &&
			      h->value[h->value_len - 1] != '\t');
		}
	}
}

/* Same answer and same slices from a parse fed in pieces. */
static void
check_pieces(const char *buf, size_t size, int whole,
	     const struct tw_http_request *rw)
{
	static struct tw_http_request rp;
	size_t k, last = 0, step, i;
	int r = TW_PARSE_AGAIN;

	step = size <= 256 ? 1 : size / 7 + 1;
	for (k = 0; r == TW_PARSE_AGAIN && last < size; last = k) {
		k = last + step < size ? last + step : size;
		r = tw_http_parse_request(buf, k, last, &rp);
	}
	if (size == 0)
		r = whole;
	CHECK(r == whole);
	if (r <= 0)
		return;
	CHECK(rp.method == rw->method && rp.target == rw->target);
	CHECK(rp.nheaders == rw->nheaders && rp.minor == rw->minor);
	for (i = 0; i < rp.nheaders; i++) {
		CHECK(rp.headers[i].name == rw->headers[i].name);
		CHECK(rp.headers[i].value_len == rw->headers[i].value_len);
	}
}

static void
check_range(const char *v, size_t len, uint64_t size)
{
	struct tw_http_range out[TW_HTTP_MAX_RANGES];
	enum tw_http_range_result res;
	size_t n = 12345, i;

	res = tw_http_parse_range(v, len, size, out, &n);
	if (res != TW_RANGE_OK) {
		CHECK(res == TW_RANGE_NONE || res == TW_RANGE_UNSATISFIABLE);
		CHECK(n == 0);
		return;
	}
	CHECK(size > 0);
	CHECK(n >= 1 && n <= TW_HTTP_MAX_RANGES);
	for (i = 0; i < n; i++) {
		CHECK(out[i].first <= out[i].last);
		CHECK(out[i].last < size);
		/* sorted, neither overlapping nor adjacent */
		if (i > 0)
			CHECK(out[i].first > out[i - 1].last + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tw_http_request req;
	const char *v = (const char *)data;
	uint64_t cl;
	time_t t;
	bool s, w;
	int r, q;

	r = tw_http_parse_request(v, size, 0, &req);
	check_request(v, size, r, &req);
	check_pieces(v, size, r, &req);
	if (r > 0) {
		(void)tw_http_find_header(&req, "host");
		(void)tw_http_find_header(&req, "");
	}

	if (tw_http_parse_content_length(v, size, &cl) == 0)
		CHECK(cl <= INT64_MAX && size > 0);

	if (tw_http_parse_date(v, size, &t) == 0) {
		CHECK((int64_t)t >= -2208988800LL &&
		      (int64_t)t <= 253402300800LL);
		CHECK(size == 24 || size == 29 || (size >= 30 && size <= 33));
	}

	check_range(v, size, 0);
	check_range(v, size, 1);
	check_range(v, size, 10000);
	check_range(v, size, size);
	check_range(v, size, UINT64_MAX);

	s = tw_http_etag_match(v, size, "\"abc\"", 5, false);
	w = tw_http_etag_match(v, size, "\"abc\"", 5, true);
	CHECK(!s || w);
	/* a weak tag matches strongly only the wildcard */
	CHECK(!tw_http_etag_match(v, size, "W/\"abc\"", 7, false) ||
	      is_star(v, size));
	s = tw_http_etag_match("\"abc\", W/\"x,y\"", 14, v, size, false);
	w = tw_http_etag_match("\"abc\", W/\"x,y\"", 14, v, size, true);
	CHECK(!s || w);
	s = tw_http_etag_match(v, size, v, size, false);
	w = tw_http_etag_match(v, size, v, size, true);
	CHECK(!s || w);

	q = tw_http_accept_q(v, size, "gzip");
	CHECK(q >= 0 && q <= 1000);
	q = tw_http_accept_q(v, size, "br");
	CHECK(q >= 0 && q <= 1000);
	q = tw_http_accept_media_q(v, size, "application/json");
	CHECK(q >= 0 && q <= 1000);
	q = tw_http_accept_media_q(v, size, "text/html");
	CHECK(q >= 0 && q <= 1000);

	(void)tw_http_list_has(v, size, "close");
	(void)tw_http_list_has(v, size, "chunked");
	(void)tw_http_token_eq(v, size, "keep-alive");
	return 0;
}
