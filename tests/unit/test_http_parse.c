/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for http_parse: the request-head parser (one row per case,
 * the last block following RFC 9112's grammar section by section; whole,
 * byte at a time and in chunks, and the size limits at their edges) and
 * the header-value parsers (Content-Length, Transfer-Encoding, HTTP-date,
 * Range, entity-tags, token lists, Accept-Encoding), as {input, expected}
 * tables. Inputs sit right before a PROT_NONE page (support/guard.h) so
 * an over-read faults. How the server answers each framing (status and
 * number of responses) is in tests/integration/test_framing.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse/http_parse.h"
#include "support/guard.h"

#define S(lit) lit, sizeof(lit) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define AGAIN TW_PARSE_AGAIN
#define BAD TW_PARSE_BAD
#define E414 TW_PARSE_URI_TOO_LONG
#define E431 TW_PARSE_HEADERS_TOO_LARGE
#define E505 TW_PARSE_BAD_VERSION
#define HEAD INT_MAX	/* a complete head: len - tail bytes */

/* ---- request head: vectors ------------------------------------------- */

struct req_vec {
	const char *in;
	size_t len;
	int ret;		/* enum tw_http_parse_result, or HEAD */
	size_t tail;		/* bytes after the head when ret == HEAD */
	const char *method;
	const char *target;
	int minor;
	size_t nheaders;
	const char *hdr[3][2];	/* the first headers: name, value */
};

#define REQ_ERR(lit, r) { .in = lit, .len = sizeof(lit) - 1, .ret = r }
#define REQ_OK(lit, tl, m, t, mi, n, ...)				\
	{ .in = lit, .len = sizeof(lit) - 1, .ret = HEAD, .tail = tl,	\
	  .method = m, .target = t, .minor = mi, .nheaders = n,		\
	  .hdr = { __VA_ARGS__ } }

static const struct req_vec req_vecs[] = {
	/* good */
	REQ_OK("GET / HTTP/1.1\r\n\r\n", 0, "GET", "/", 1, 0, { NULL }),
	REQ_OK("GET / HTTP/1.0\r\n\r\n", 0, "GET", "/", 0, 0, { NULL }),
	REQ_OK("HEAD /a?b=c HTTP/1.1\r\nHost: example.com\r\n"
	       "Accept: */*\r\n\r\n", 0, "HEAD", "/a?b=c", 1, 2,
	       { "Host", "example.com" }, { "Accept", "*/*" }),
	/* 1.x above 1 is served as 1.1 (RFC 9112 2.5) */
	REQ_OK("GET / HTTP/1.2\r\n\r\n", 0, "GET", "/", 1, 0, { NULL }),
	REQ_OK("GET / HTTP/1.9\r\n\r\n", 0, "GET", "/", 1, 0, { NULL }),
	/* leading empty lines (CRLF) are skipped, up to 8 */
	REQ_OK("\r\nGET / HTTP/1.1\r\n\r\n", 0, "GET", "/", 1, 0, { NULL }),
	REQ_OK("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 0,
	       "GET", "/", 1, 0, { NULL }),
	/* values: OWS trimmed, inner whitespace and obs-text kept */
	REQ_OK("GET / HTTP/1.1\r\nHost: \t example.com \t\r\n\r\n", 0,
	       "GET", "/", 1, 1, { "Host", "example.com" }),
	REQ_OK("GET / HTTP/1.1\r\nX-A:b\r\n\r\n", 0, "GET", "/", 1, 1,
	       { "X-A", "b" }),
	REQ_OK("GET / HTTP/1.1\r\nX: a  b\tc\r\n\r\n", 0, "GET", "/", 1, 1,
	       { "X", "a  b\tc" }),
	REQ_OK("GET / HTTP/1.1\r\nX-Empty:\r\nY:   \r\n\r\n", 0, "GET", "/", 1,
	       2, { "X-Empty", "" }, { "Y", "" }),
	REQ_OK("GET / HTTP/1.1\r\nX: caf\xc3\xa9 \xff\r\n\r\n", 0, "GET", "/",
	       1, 1, { "X", "caf\xc3\xa9 \xff" }),
	REQ_OK("GET / HTTP/1.1\r\nX: a:b: c\r\n\r\n", 0, "GET", "/", 1, 1,
	       { "X", "a:b: c" }),
	/* every tchar in a method and a field name */
	REQ_OK("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n"
	       "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", 0,
	       "!#$%&'*+-.^_`|~09azAZ", "/", 1, 1,
	       { "!#$%&'*+-.^_`|~09azAZ", "v" }),
	REQ_OK("M-SEARCH * HTTP/1.1\r\n\r\n", 0, "M-SEARCH", "*", 1, 0,
	       { NULL }),
	REQ_OK("OPTIONS * HTTP/1.1\r\n\r\n", 0, "OPTIONS", "*", 1, 0, { NULL }),
	REQ_OK("GET http://a.example:8080/b?c#d HTTP/1.1\r\n\r\n", 0, "GET",
	       "http://a.example:8080/b?c#d", 1, 0, { NULL }),
	REQ_OK("GET /!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ HTTP/1.1\r\n\r\n", 0,
	       "GET", "/!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", 1, 0, { NULL }),
	/* a body or a pipelined request after the head is not consumed */
	REQ_OK("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 3, "POST",
	       "/", 1, 1, { "Content-Length", "3" }),
	REQ_OK("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 19, "GET",
	       "/1", 1, 0, { NULL }),
	REQ_OK("GET / HTTP/1.1\r\n\r\n\r\n", 2, "GET", "/", 1, 0, { NULL }),

	/* incomplete */
	REQ_ERR("", AGAIN),
	REQ_ERR("\r\n", AGAIN),
	REQ_ERR("\r", AGAIN),
	REQ_ERR("GET / HTTP/1.1", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r\n", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\r", AGAIN),
	/* a line is judged when its end arrives (see parse_head) */
	REQ_ERR("G(T / HTTP/1.1", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r\nBad Name", AGAIN),

	/* request line: separators */
	REQ_ERR("GET  / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /  HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1 \r\n\r\n", BAD),
	REQ_ERR(" GET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET\t/ HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /\tHTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET\r\n\r\n", BAD),
	REQ_ERR("GET \r\n\r\n", BAD),
	REQ_ERR("GET / \r\n\r\n", BAD),
	/* request line: method */
	REQ_ERR("G(T / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GE\x80T / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("G\0T / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET: / HTTP/1.1\r\n\r\n", BAD),
	/* request line: target */
	REQ_ERR("GET /\x80 HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /\xff HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /\x01 HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /\x7f HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /a\0b HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /a b HTTP/1.1\r\n\r\n", BAD),
	/* request line: version */
	REQ_ERR("GET / http/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1x\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.10\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/01.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTPS/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/a.b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1,1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/2.0x\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1/\r\n\r\n", BAD),
	REQ_ERR("GET / FOO\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1 extra\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\0\r\n\r\n", BAD),
	/* versions we refuse */
	REQ_ERR("GET /\r\n\r\n", E505),
	REQ_ERR("GET /\r\n", E505),
	REQ_ERR("GET / HTTP/0.9\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/2.0\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/3.0\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/2\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/3\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/0\r\n\r\n", E505),
	REQ_ERR("GET / HTTP/10.0\r\n\r\n", BAD),	/* not DIGIT.DIGIT */
	REQ_ERR("GET / HTTP/11.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/9.9\r\n\r\n", E505),
	REQ_ERR("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", E505),
	/* line ends: a CR must be followed by LF */
	REQ_ERR("GET / HTTP/1.1\rHost: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", BAD),
	REQ_ERR("\rGET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("\r\r\nGET / HTTP/1.1\r\n\r\n", BAD),
	/* too many leading empty lines */
	REQ_ERR("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		BAD),
	REQ_ERR("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", BAD),
	/* field names */
	REQ_ERR("GET / HTTP/1.1\r\nHost : a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX/Y: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX\x80: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX\0: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX\"Y\": a\r\n\r\n", BAD),
	/* obs-fold and whitespace before the first field */
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n Host: a\r\n\r\n", BAD),
	/* field values: CTLs other than HTAB */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x1f\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: \x0b" "a\r\n\r\n", BAD),
	/* the first bad line decides, even with a good head after it */
	REQ_ERR("GET / HTTP/1.1\r\nX y: 1\r\nHost: a\r\n\r\n", BAD),

	/*
	 * RFC 9112's grammar, row by row. Each line of the head is
	 * `... CRLF`; we take no bare LF for one (2.2), so the head ends at
	 * the same byte for any strict parser before or after us.
	 */
	/* 2.2: bare LF, wherever it is, is 400 as soon as it arrives */
	REQ_ERR("GET / HTTP/1.0\n\n", BAD),
	REQ_ERR("GET / HTTP/1.1\n", BAD),
	REQ_ERR("GET / HTTP/1.1\nHost: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\n\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n\n", BAD),
	REQ_ERR("GET / HTTP/1.1\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\n\n", BAD),
	/* the attacks: a hidden Content-Length, a head ended early */
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nDummy: x\nContent-Length: 23\r\n"
		"\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nHost: a\r\nUseless:\n\n"
		"GET /admin HTTP/1.1\r\nHost: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nDummy: x\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nUseless:\n", BAD),
	/* 2.2: empty lines before the request line: CRLF only */
	REQ_ERR("\n", BAD),
	REQ_ERR("\nGET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("\r\n\nGET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("\n\r\nGET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("\r\n\r\n\n", BAD),
	REQ_ERR("\r\n\r\n", AGAIN),
	REQ_ERR("\r\n\r\nGET / HTTP/1.1\r\n", AGAIN),
	REQ_OK("\r\n\r\nGET / HTTP/1.1\r\n\r\n", 0, "GET", "/", 1, 0,
	       { NULL }),
	/* 2.2: bare CR is 400 once its line ends; until then, AGAIN */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r \r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n\rX: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\rY: b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\rY: b", AGAIN),
	REQ_ERR("GET / HTTP/1.1\r\n\r", AGAIN),
	REQ_ERR("\r\n\r", AGAIN),
	/* 3: request-line = method SP request-target SP HTTP-version */
	REQ_OK("GET / HTTP/1.1\r\n\r\n", 0, "GET", "/", 1, 0, { NULL }),
	REQ_ERR("GET  / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /  HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1  \r\n\r\n", BAD),
	REQ_ERR("GET\t/\tHTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\t\r\n\r\n", BAD),
	REQ_ERR("GET\x0b/ HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("\tGET / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET /\r\n", E505),		/* no version: HTTP/0.9 */
	REQ_ERR("GET / \r\n\r\n", BAD),	/* SP, then no version */
	REQ_ERR("/ HTTP/1.1\r\n\r\n", BAD),	/* no method */
	REQ_ERR(" / HTTP/1.1\r\n\r\n", BAD),
	/* 2.3: HTTP-name is %s"HTTP", case-sensitive */
	REQ_ERR("GET / http/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / Http/1.1\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP /1.1\r\n\r\n", BAD),
	/* 3.1: method = token, case-sensitive: "get" is another method */
	REQ_OK("get / HTTP/1.1\r\n\r\n", 0, "get", "/", 1, 0, { NULL }),
	REQ_OK("M-SEARCH / HTTP/1.1\r\n\r\n", 0, "M-SEARCH", "/", 1, 0,
	       { NULL }),
	REQ_ERR("GE T / HTTP/1.1\r\n\r\n", BAD),
	REQ_ERR("GET@ / HTTP/1.1\r\n\r\n", BAD),
	/* 3.2: the four target forms all parse; the server judges them */
	REQ_OK("GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 0,
	       "GET", "http://a.example/", 1, 1, { "Host", "a.example" }),
	REQ_OK("GET HTTP://A.EXAMPLE HTTP/1.1\r\n\r\n", 0, "GET",
	       "HTTP://A.EXAMPLE", 1, 0, { NULL }),
	REQ_OK("CONNECT a.example:443 HTTP/1.1\r\n\r\n", 0, "CONNECT",
	       "a.example:443", 1, 0, { NULL }),
	REQ_OK("OPTIONS * HTTP/1.0\r\n\r\n", 0, "OPTIONS", "*", 0, 0,
	       { NULL }),
	REQ_ERR("GET http://a.example/ x HTTP/1.1\r\n\r\n", BAD),
	/* 5: field-line = field-name ":" OWS field-value OWS */
	REQ_OK("GET / HTTP/1.1\r\nContent-Length:5\r\n\r\n", 0, "GET", "/", 1,
	       1, { "Content-Length", "5" }),
	REQ_OK("GET / HTTP/1.1\r\nTransfer-Encoding: \tchunked\t \r\n\r\n", 0,
	       "GET", "/", 1, 1, { "Transfer-Encoding", "chunked" }),
	REQ_OK("GET / HTTP/1.1\r\nX:\r\n\r\n", 0, "GET", "/", 1, 1,
	       { "X", "" }),
	/* 5.1: no whitespace between the name and the colon */
	REQ_ERR("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n\r\n", BAD),
	/* 5.1: empty name, no colon, a name that is not a token */
	REQ_ERR("GET / HTTP/1.1\r\n:\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n: 5\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nContent-Length 5\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nContent Length: 5\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX\x7f: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX\x1b: a\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\n\x01: a\r\n\r\n", BAD),
	/* 5.2: obs-fold is 400, also of an empty value or of whitespace */
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX:\r\n b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n \r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\r\n\t\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nContent-Length: 1\r\n 0\r\n\r\n", BAD),
	/* 5.5: field-value: VCHAR, SP, HTAB, obs-text; no other CTL */
	REQ_OK("GET / HTTP/1.1\r\nX: \x80\xff\r\n\r\n", 0, "GET", "/", 1, 1,
	       { "X", "\x80\xff" }),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x1b" "b\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: a\x0c\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", BAD),
	REQ_ERR("GET / HTTP/1.1\r\nX: \0\r\n\r\n", BAD),
};

/* Check a complete parse against the row's expectations. */
static void
check_fields(const struct req_vec *v, size_t i, const char *in,
	     const struct tw_http_request *r)
{
	size_t j;

	if (v->method == NULL)
		return;
	if (r->method_len != strlen(v->method) ||
	    memcmp(r->method, v->method, r->method_len) != 0)
		fail_msg("vector %zu: method '%.*s'", i, (int)r->method_len,
			 r->method);
	if (r->target_len != strlen(v->target) ||
	    memcmp(r->target, v->target, r->target_len) != 0)
		fail_msg("vector %zu: target '%.*s'", i, (int)r->target_len,
			 r->target);
	assert_int_equal(r->minor, v->minor);
	assert_int_equal(r->nheaders, v->nheaders);
	for (j = 0; j < r->nheaders; j++) {
		const struct tw_http_header *h = &r->headers[j];

		assert_true(h->name >= in &&
			    h->name + h->name_len <= in + v->len);
		assert_true(h->value >= in &&
			    h->value + h->value_len <= in + v->len);
		if (j >= NELEM(v->hdr) || v->hdr[j][0] == NULL)
			continue;
		if (h->name_len != strlen(v->hdr[j][0]) ||
		    memcmp(h->name, v->hdr[j][0], h->name_len) != 0 ||
		    h->value_len != strlen(v->hdr[j][1]) ||
		    memcmp(h->value, v->hdr[j][1], h->value_len) != 0)
			fail_msg("vector %zu: header %zu '%.*s: %.*s'", i, j,
				 (int)h->name_len, h->name,
				 (int)h->value_len, h->value);
	}
}

static int
expected_ret(const struct req_vec *v)
{
	return v->ret == HEAD ? (int)(v->len - v->tail) : v->ret;
}

static void
parse_request_vectors(void **state)
{
	struct tw_http_request r;
	struct guard g;
	const char *in;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < NELEM(req_vecs); i++) {
		const struct req_vec *v = &req_vecs[i];

		in = guard_copy(&g, v->in, v->len);
		memset(&r, 0xa5, sizeof(r));
		ret = tw_http_parse_request(in, v->len, 0, &r);
		if (ret != expected_ret(v))
			fail_msg("vector %zu: ret %d, want %d", i, ret,
				 expected_ret(v));
		if (ret > 0)
			check_fields(v, i, in, &r);
		guard_free(&g);
	}
}

/* Offsets of the slices, so two parses of copies can be compared. */
static void
assert_same_request(const char *a, const struct tw_http_request *ra,
		    const char *b, const struct tw_http_request *rb)
{
	size_t j;

	assert_int_equal(ra->method - a, rb->method - b);
	assert_int_equal(ra->method_len, rb->method_len);
	assert_int_equal(ra->target - a, rb->target - b);
	assert_int_equal(ra->target_len, rb->target_len);
	assert_int_equal(ra->minor, rb->minor);
	assert_int_equal(ra->nheaders, rb->nheaders);
	for (j = 0; j < ra->nheaders; j++) {
		assert_int_equal(ra->headers[j].name - a,
				 rb->headers[j].name - b);
		assert_int_equal(ra->headers[j].name_len,
				 rb->headers[j].name_len);
		assert_int_equal(ra->headers[j].value - a,
				 rb->headers[j].value - b);
		assert_int_equal(ra->headers[j].value_len,
				 rb->headers[j].value_len);
	}
}

/*
 * Feed in[0..len) as a connection would, one byte more per call with
 * last_len set to the previous length, until an answer other than AGAIN.
 * Each answer must equal a fresh parse (last_len 0) of the same prefix,
 * and the final one the answer for the whole input. With guard set, each
 * prefix is its own guard-page copy so reading past it faults; the big
 * limit vectors share one buffer and compare with a fresh parse only
 * every `every` bytes and near the limits.
 */
static void
feed_bytewise(const char *in, size_t len, int whole, bool guard, size_t every)
{
	static struct tw_http_request ri, rf;
	struct guard g;
	const char *p = in;
	size_t k, last = 0;
	int r_inc = AGAIN, r_fresh;

	for (k = 0; k <= len; k++) {
		if (guard)
			p = guard_copy(&g, in, k);
		r_inc = tw_http_parse_request(p, k, last, &ri);
		if (guard || k % every == 0 || k == len ||
		    (k >= TW_HTTP_MAX_LINE - 2 && k <= TW_HTTP_MAX_LINE + 2) ||
		    r_inc != AGAIN) {
			r_fresh = tw_http_parse_request(p, k, 0, &rf);
			if (r_inc != r_fresh)
				fail_msg("prefix %zu of %zu: last_len %zu "
					 "gives %d, fresh %d", k, len, last,
					 r_inc, r_fresh);
			if (r_inc > 0)
				assert_same_request(p, &ri, p, &rf);
		}
		if (guard)
			guard_free(&g);
		if (r_inc != AGAIN)
			break;
		last = k;
	}
	if (r_inc != whole)
		fail_msg("bytewise feed of %zu bytes ends with %d, "
			 "whole gives %d",
			 len, r_inc, whole);
}

static void
parse_request_bytewise_matches_whole(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(req_vecs); i++)
		feed_bytewise(req_vecs[i].in, req_vecs[i].len,
			      expected_ret(&req_vecs[i]), true, 1);
}

/* Uneven chunks: the slices must come out as from one whole parse. */
static void
parse_request_chunks_match_whole(void **state)
{
	static const size_t steps[] = { 2, 3, 5, 7, 13 };
	struct tw_http_request rw, rc;
	struct guard gw, gc;
	const char *w, *c;
	size_t i, s, k, last;
	int want, got;

	(void)state;
	for (i = 0; i < NELEM(req_vecs); i++) {
		const struct req_vec *v = &req_vecs[i];

		w = guard_copy(&gw, v->in, v->len);
		want = tw_http_parse_request(w, v->len, 0, &rw);
		for (s = 0; s < NELEM(steps); s++) {
			last = 0;
			got = AGAIN;
			for (k = 0; got == AGAIN && last < v->len; ) {
				k = last + steps[s] < v->len ? last + steps[s]
							     : v->len;
				c = guard_copy(&gc, v->in, k);
				got = tw_http_parse_request(c, k, last, &rc);
				if (got > 0)
					assert_same_request(w, &rw, c, &rc);
				guard_free(&gc);
				last = k;
			}
			if (v->len == 0)
				got = want;
			if (got != want)
				fail_msg("vector %zu step %zu: %d, whole %d", i,
					 steps[s], got, want);
		}
		guard_free(&gw);
	}
}

/* ---- request head: limits -------------------------------------------- */

/* Buffer for the limit tests: at most a line, full headers and spare. */
#define BIG (TW_HTTP_MAX_LINE + TW_HTTP_MAX_HEADER_BYTES + 4096)

struct big {
	char b[BIG];
	size_t len;
};

static void
big_add(struct big *x, const char *s, size_t n)
{
	assert_true(x->len + n <= BIG);
	memcpy(x->b + x->len, s, n);
	x->len += n;
}

static void
big_fill(struct big *x, char c, size_t n)
{
	assert_true(x->len + n <= BIG);
	memset(x->b + x->len, c, n);
	x->len += n;
}

/* A request line of exactly `total` bytes, line end included. */
static void
big_request_line(struct big *x, size_t total, const char *eol)
{
	size_t fixed = strlen("GET /") + strlen(" HTTP/1.1") + strlen(eol);

	big_add(x, S("GET /"));
	big_fill(x, 'a', total - fixed);
	big_add(x, S(" HTTP/1.1"));
	big_add(x, eol, strlen(eol));
}

/* One field line of exactly `total` bytes, CRLF included. */
static void
big_field(struct big *x, size_t total)
{
	big_add(x, S("X: "));
	big_fill(x, 'v', total - 5);
	big_add(x, S("\r\n"));
}

/*
 * Parse x whole, once in a guard copy (for over-reads) and once in place
 * (so *r points into x), then byte at a time.
 */
static int
big_parse(const struct big *x, struct tw_http_request *r)
{
	struct guard g;
	const char *in;
	int ret;

	in = guard_copy(&g, x->b, x->len);
	ret = tw_http_parse_request(in, x->len, 0, r);
	guard_free(&g);
	assert_int_equal(tw_http_parse_request(x->b, x->len, 0, r), ret);
	feed_bytewise(x->b, x->len, ret, false, 251);
	return ret;
}

static void
parse_request_line_limit(void **state)
{
	static struct big x;
	static struct tw_http_request r;

	(void)state;
	/* exactly TW_HTTP_MAX_LINE bytes, CRLF included, is fine */
	x.len = 0;
	big_request_line(&x, TW_HTTP_MAX_LINE, "\r\n");
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), TW_HTTP_MAX_LINE + 2);
	assert_int_equal(r.target_len, TW_HTTP_MAX_LINE - 15);
	/* ... ended by a bare LF it is 400, within the limit */
	x.len = 0;
	big_request_line(&x, TW_HTTP_MAX_LINE, "\n");
	big_add(&x, S("\n"));
	assert_int_equal(big_parse(&x, &r), BAD);
	/* one more is 414, the size judged before the line end */
	x.len = 0;
	big_request_line(&x, TW_HTTP_MAX_LINE + 1, "\r\n");
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), E414);
	x.len = 0;
	big_request_line(&x, TW_HTTP_MAX_LINE + 1, "\n");
	big_add(&x, S("\n"));
	assert_int_equal(big_parse(&x, &r), E414);
	/* leading empty lines count toward the line */
	x.len = 0;
	big_add(&x, S("\r\n"));
	big_request_line(&x, TW_HTTP_MAX_LINE - 2, "\r\n");
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), TW_HTTP_MAX_LINE + 2);
	x.len = 0;
	big_add(&x, S("\r\n"));
	big_request_line(&x, TW_HTTP_MAX_LINE - 1, "\r\n");
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), E414);
	/* while incomplete: AGAIN up to the limit, 414 past it */
	x.len = 0;
	big_add(&x, S("GET /"));
	big_fill(&x, 'a', TW_HTTP_MAX_LINE - 5);
	assert_int_equal(big_parse(&x, &r), AGAIN);
	big_fill(&x, 'a', 1);
	assert_int_equal(big_parse(&x, &r), E414);
	/* the size is judged before the syntax */
	x.len = 0;
	big_fill(&x, '\x01', TW_HTTP_MAX_LINE + 10);
	big_add(&x, S("\r\n\r\n"));
	assert_int_equal(big_parse(&x, &r), E414);
	x.len = 0;
	big_fill(&x, '\x01', TW_HTTP_MAX_LINE - 10);
	big_add(&x, S("\r\n\r\n"));
	assert_int_equal(big_parse(&x, &r), BAD);
}

static void
parse_request_header_bytes_limit(void **state)
{
	static struct big x;
	static struct tw_http_request r;
	const size_t rl = strlen("GET / HTTP/1.1\r\n");

	(void)state;
	/* header block of exactly the limit, final CRLF included */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	big_field(&x, TW_HTTP_MAX_HEADER_BYTES - 2);
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r),
			 (int)(rl + TW_HTTP_MAX_HEADER_BYTES));
	assert_int_equal(r.nheaders, 1);
	assert_int_equal(r.headers[0].value_len, TW_HTTP_MAX_HEADER_BYTES - 7);
	/* one byte more */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	big_field(&x, TW_HTTP_MAX_HEADER_BYTES - 1);
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), E431);
	/* spread over many lines, with a request line at its own limit */
	x.len = 0;
	big_request_line(&x, TW_HTTP_MAX_LINE, "\r\n");
	big_field(&x, 8000);
	big_field(&x, 8000);
	big_field(&x, TW_HTTP_MAX_HEADER_BYTES - 16000 - 2);
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r),
			 TW_HTTP_MAX_LINE + TW_HTTP_MAX_HEADER_BYTES);
	x.len--;
	x.b[x.len - 1] = '\n';	/* final bare LF: 400, not the limit */
	assert_int_equal(big_parse(&x, &r), BAD);
	/* a bare LF past the limit: the limit */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	big_field(&x, TW_HTTP_MAX_HEADER_BYTES + 1);
	x.b[x.len - 2] = 'v';
	assert_int_equal(big_parse(&x, &r), E431);
	/* and one that fits, but for its bare LF */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	big_field(&x, TW_HTTP_MAX_HEADER_BYTES);
	x.b[x.len - 2] = 'v';
	assert_int_equal(big_parse(&x, &r), BAD);
	/* incomplete: AGAIN at the limit, 431 past it */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\nX: "));
	big_fill(&x, 'v', TW_HTTP_MAX_HEADER_BYTES - 3);
	assert_int_equal(big_parse(&x, &r), AGAIN);
	big_fill(&x, 'v', 1);
	assert_int_equal(big_parse(&x, &r), E431);
	/* size before syntax here too */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	big_fill(&x, ' ', TW_HTTP_MAX_HEADER_BYTES + 5);
	big_add(&x, S("\r\n\r\n"));
	assert_int_equal(big_parse(&x, &r), E431);
}

static void
parse_request_header_count_limit(void **state)
{
	static struct big x;
	static struct tw_http_request r;
	char line[32];
	int i, n;

	(void)state;
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\n"));
	for (i = 0; i < TW_HTTP_MAX_HEADERS; i++) {
		n = snprintf(line, sizeof(line), "H%d: %d\r\n", i, i);
		big_add(&x, line, (size_t)n);
	}
	/* 100 fields, not yet terminated */
	assert_int_equal(big_parse(&x, &r), AGAIN);
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), (int)x.len);
	assert_int_equal(r.nheaders, TW_HTTP_MAX_HEADERS);
	assert_memory_equal(r.headers[99].name, "H99", 3);
	assert_memory_equal(r.headers[99].value, "99", 2);
	/* the 101st field: 431 as soon as its line ends */
	x.len -= 2;
	big_add(&x, S("H100: x\r\n"));
	assert_int_equal(big_parse(&x, &r), E431);
	big_add(&x, S("\r\n"));
	assert_int_equal(big_parse(&x, &r), E431);
	/* ... whatever it holds */
	x.len -= 11;
	big_add(&x, S(" bad\r\n\r\n"));
	assert_int_equal(big_parse(&x, &r), E431);
}

/*
 * The last_len shortcut must still see the limits when the bytes arrive
 * in large chunks without a line end.
 */
static void
parse_request_last_len_sees_limits(void **state)
{
	static struct big x;
	static struct tw_http_request r;

	(void)state;
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\nX: "));
	big_fill(&x, 'v', TW_HTTP_MAX_HEADER_BYTES + 100);
	assert_int_equal(tw_http_parse_request(x.b, 100, 0, &r), AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, 9000, 100, &r), AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, 16 + 16384, 9000, &r),
			 AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, 16 + 16385, 16 + 16384,
					       &r), E431);
	x.len = 0;
	big_add(&x, S("\r\n\r\nGET /"));
	big_fill(&x, 'a', TW_HTTP_MAX_LINE);
	assert_int_equal(tw_http_parse_request(x.b, 10, 0, &r), AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, TW_HTTP_MAX_LINE, 10, &r),
			 AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, TW_HTTP_MAX_LINE + 1,
					       TW_HTTP_MAX_LINE, &r), E414);
	/* a call with no new bytes repeats AGAIN */
	assert_int_equal(tw_http_parse_request(x.b, 10, 10, &r), AGAIN);
	/* a bare LF after a long stretch without one is seen at once */
	x.len = 0;
	big_add(&x, S("GET / HTTP/1.1\r\nX: "));
	big_fill(&x, 'v', 9000);
	big_add(&x, S("\n"));
	assert_int_equal(tw_http_parse_request(x.b, 100, 0, &r), AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, 9000, 100, &r), AGAIN);
	assert_int_equal(tw_http_parse_request(x.b, x.len, 9000, &r), BAD);
}

/* ---- find_header, token_eq, list_has --------------------------------- */

static void
find_header_is_case_insensitive_first_match(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\n"
				 "x-dup: 2\r\nContent-LENGTH: 5\r\n\r\n";
	struct tw_http_request r;
	const struct tw_http_header *h;
	struct guard g;
	const char *p;

	(void)state;
	p = guard_copy(&g, in, sizeof(in) - 1);
	assert_int_equal(tw_http_parse_request(p, sizeof(in) - 1, 0, &r),
			 sizeof(in) - 1);
	h = tw_http_find_header(&r, "host");
	assert_non_null(h);
	assert_memory_equal(h->value, "a", h->value_len);
	h = tw_http_find_header(&r, "X-DUP");
	assert_non_null(h);
	assert_int_equal(h->value_len, 1);
	assert_memory_equal(h->value, "1", 1);
	h = tw_http_find_header(&r, "content-length");
	assert_non_null(h);
	assert_memory_equal(h->value, "5", 1);
	assert_null(tw_http_find_header(&r, "Hos"));
	assert_null(tw_http_find_header(&r, "Hostx"));
	assert_null(tw_http_find_header(&r, ""));
	guard_free(&g);
}

struct eq_vec {
	const char *s;
	size_t len;
	const char *lit;
	bool want;
};

static const struct eq_vec eq_vecs[] = {
	{ S("Host"), "host", true },
	{ S("HOST"), "Host", true },
	{ S("keep-alive"), "Keep-Alive", true },
	{ S(""), "", true },
	{ S("Hos"), "host", false },
	{ S("Hostx"), "host", false },
	{ S("a"), "", false },
	{ S(""), "a", false },
	{ S("Host\0"), "host", false },
	{ S("[ost"), "{ost", false },	/* only letters fold */
	{ S("@"), "`", false },
	{ S("\xc9"), "\xe9", false },	/* no locale folding */
};

static void
token_eq_vectors(void **state)
{
	struct guard g;
	const char *in;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(eq_vecs); i++) {
		in = guard_copy(&g, eq_vecs[i].s, eq_vecs[i].len);
		if (tw_http_token_eq(in, eq_vecs[i].len, eq_vecs[i].lit) !=
		    eq_vecs[i].want)
			fail_msg("vector %zu", i);
		guard_free(&g);
	}
}

static const struct eq_vec list_vecs[] = {
	{ S("close"), "close", true },
	{ S("Close"), "close", true },
	{ S("keep-alive, Upgrade"), "upgrade", true },
	{ S("keep-alive, Upgrade"), "keep-alive", true },
	{ S("gzip, chunked"), "chunked", true },
	{ S(" , close ,"), "close", true },
	{ S("a,,\tb\t"), "b", true },
	{ S(",close"), "close", true },
	{ S("closed"), "close", false },
	{ S("clos"), "close", false },
	{ S(""), "close", false },
	{ S(","), "close", false },
	{ S("keep-alive close"), "close", false },
	{ S("chunked;x=1"), "chunked", false },
	{ S("chunked, gzip"), "gzip, chunked", false },
};

static void
list_has_vectors(void **state)
{
	struct guard g;
	const char *in;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(list_vecs); i++) {
		in = guard_copy(&g, list_vecs[i].s, list_vecs[i].len);
		if (tw_http_list_has(in, list_vecs[i].len, list_vecs[i].lit) !=
		    list_vecs[i].want)
			fail_msg("vector %zu", i);
		guard_free(&g);
	}
}

/* ---- Content-Length -------------------------------------------------- */

struct cl_vec {
	const char *in;
	size_t len;
	int ret;
	uint64_t val;
};

static const struct cl_vec cl_vecs[] = {
	{ S("0"), 0, 0 },
	{ S("5"), 0, 5 },
	{ S("005"), 0, 5 },
	/* RFC 9110 8.6: 1*DIGIT, so leading zeros are only digits */
	{ S("007"), 0, 7 },
	{ S("00"), 0, 0 },
	{ S("000000000000000000000000000000000007"), 0, 7 },
	{ S("1234567890"), 0, 1234567890 },
	{ S("9223372036854775807"), 0, INT64_MAX },
	{ S("09223372036854775807"), 0, INT64_MAX },
	{ S("5, 5"), 0, 5 },
	{ S("5,5"), 0, 5 },
	{ S("5 ,\t5"), 0, 5 },
	{ S("5, 5, 5"), 0, 5 },
	{ S("5, 005"), 0, 5 },
	{ S("9223372036854775808"), -EINVAL, 0 },
	{ S("18446744073709551615"), -EINVAL, 0 },
	{ S("18446744073709551616"), -EINVAL, 0 },
	{ S("99999999999999999999999"), -EINVAL, 0 },
	{ S(""), -EINVAL, 0 },
	{ S(" "), -EINVAL, 0 },
	{ S("+5"), -EINVAL, 0 },
	{ S("-1"), -EINVAL, 0 },
	{ S("-0"), -EINVAL, 0 },
	{ S("5 5"), -EINVAL, 0 },
	{ S("5, 6"), -EINVAL, 0 },
	{ S("6, 5, 5"), -EINVAL, 0 },
	{ S("5,"), -EINVAL, 0 },
	{ S(",5"), -EINVAL, 0 },
	{ S("5,,5"), -EINVAL, 0 },
	{ S("0x5"), -EINVAL, 0 },
	{ S("5a"), -EINVAL, 0 },
	{ S("1.0"), -EINVAL, 0 },
	{ S("1e3"), -EINVAL, 0 },
	{ S("5\0"), -EINVAL, 0 },
	{ S("\xd9\xa5"), -EINVAL, 0 },	/* ARABIC-INDIC DIGIT FIVE */
	{ S("-5"), -EINVAL, 0 },
	{ S("5, -5"), -EINVAL, 0 },
	{ S("5, +5"), -EINVAL, 0 },
	{ S("7, 007"), 0, 7 },
	{ S("5;q=1"), -EINVAL, 0 },
	{ S("\"5\""), -EINVAL, 0 },
};

static void
content_length_vectors(void **state)
{
	struct guard g;
	const char *in;
	uint64_t out;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < NELEM(cl_vecs); i++) {
		in = guard_copy(&g, cl_vecs[i].in, cl_vecs[i].len);
		out = 0xdeadbeef;
		ret = tw_http_parse_content_length(in, cl_vecs[i].len, &out);
		guard_free(&g);
		if (ret != cl_vecs[i].ret)
			fail_msg("vector %zu: ret %d, want %d", i, ret,
				 cl_vecs[i].ret);
		if (ret == 0 && out != cl_vecs[i].val)
			fail_msg("vector %zu: %llu", i,
				 (unsigned long long)out);
	}
}

/* ---- Transfer-Encoding ---------------------------------------------- */

struct te_vec {
	const char *in;		/* a request head */
	size_t len;
	enum tw_http_te want;
};

#define TE(fields, w) { S("POST / HTTP/1.1\r\n" fields "\r\n"), w }

static const struct te_vec te_vecs[] = {
	TE("", TW_TE_NONE),
	TE("Content-Length: 5\r\n", TW_TE_NONE),
	TE("Transfer-Encodings: chunked\r\n", TW_TE_NONE),
	TE("TE: chunked\r\n", TW_TE_NONE),
	/* chunked last: the framing is chunked */
	TE("Transfer-Encoding: chunked\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: Chunked\r\n", TW_TE_CHUNKED),
	TE("transfer-encoding: CHUNKED\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: gzip, chunked\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: gzip,chunked\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: identity, chunked\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: , chunked ,\r\n", TW_TE_CHUNKED),
	TE("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
	   TW_TE_CHUNKED),
	TE("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n",
	   TW_TE_CHUNKED),
	/* no chunked: a coding we don't know */
	TE("Transfer-Encoding: gzip\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: identity\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: chunked;x=1\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: xchunked\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: chunk\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: chunked chunked\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: \"chunked\"\r\n", TW_TE_UNKNOWN),
	TE("Transfer-Encoding: gzip, deflate\r\n", TW_TE_UNKNOWN),
	/* chunked not last, chunked twice, no coding at all */
	TE("Transfer-Encoding: chunked, gzip\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: chunked, identity\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: chunked, chunked\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: gzip, chunked, gzip\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
	   TW_TE_BAD),
	TE("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	   TW_TE_BAD),
	TE("Transfer-Encoding: chunked\r\nX: y\r\n"
	   "transfer-encoding: identity\r\n", TW_TE_BAD),
	TE("Transfer-Encoding:\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: ,\r\n", TW_TE_BAD),
	TE("Transfer-Encoding: , ,\t,\r\n", TW_TE_BAD),
	TE("Transfer-Encoding:\r\nTransfer-Encoding:\r\n", TW_TE_BAD),
};

static void
transfer_encoding_vectors(void **state)
{
	struct tw_http_request r;
	struct guard g;
	const char *in;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < NELEM(te_vecs); i++) {
		in = guard_copy(&g, te_vecs[i].in, te_vecs[i].len);
		ret = tw_http_parse_request(in, te_vecs[i].len, 0, &r);
		if (ret != (int)te_vecs[i].len)
			fail_msg("vector %zu: parse gives %d", i, ret);
		if (tw_http_transfer_encoding(&r) != te_vecs[i].want)
			fail_msg("vector %zu: %d, want %d", i,
				 (int)tw_http_transfer_encoding(&r),
				 (int)te_vecs[i].want);
		guard_free(&g);
	}
}

/* ---- HTTP-date ------------------------------------------------------- */

struct date_vec {
	const char *in;
	size_t len;
	int ret;
	int64_t t;
};

static const struct date_vec date_vecs[] = {
	/* the three forms of RFC 9110 5.6.7 */
	{ S("Sun, 06 Nov 1994 08:49:37 GMT"), 0, 784111777 },
	{ S("Sunday, 06-Nov-94 08:49:37 GMT"), 0, 784111777 },
	{ S("Sun Nov  6 08:49:37 1994"), 0, 784111777 },
	{ S("Sun Nov 06 08:49:37 1994"), 0, 784111777 },
	/* the weekday must be a name, not the right one */
	{ S("Mon, 06 Nov 1994 08:49:37 GMT"), 0, 784111777 },
	{ S("Wednesday, 06-Nov-94 08:49:37 GMT"), 0, 784111777 },
	{ S("Fri Nov  6 08:49:37 1994"), 0, 784111777 },
	/* edges of the calendar and of the accepted range */
	{ S("Thu, 01 Jan 1970 00:00:00 GMT"), 0, 0 },
	{ S("Wed, 31 Dec 1969 23:59:59 GMT"), 0, -1 },
	{ S("Mon, 01 Jan 1900 00:00:00 GMT"), 0, -2208988800LL },
	{ S("Fri, 31 Dec 9999 23:59:59 GMT"), 0, 253402300799LL },
	{ S("Tue, 29 Feb 2000 12:00:00 GMT"), 0, 951825600 },
	{ S("Thu, 29 Feb 2024 00:00:00 GMT"), 0, 1709164800 },
	{ S("Tue, 19 Jan 2038 03:14:08 GMT"), 0, 2147483648LL },
	{ S("Sat, 31 Dec 2016 23:59:60 GMT"), 0, 1483228800 },
	{ S("Thu, 31 Dec 1998 23:59:59 GMT"), 0, 915148799 },
	/* two-digit years: 70-99 are 19xx, 00-69 are 20xx */
	{ S("Thursday, 01-Jan-70 00:00:00 GMT"), 0, 0 },
	{ S("Saturday, 01-Jan-00 00:00:00 GMT"), 0, 946684800 },
	{ S("Tuesday, 31-Dec-69 23:59:59 GMT"), 0, 3155759999LL },
	{ S("Friday, 31-Dec-99 23:59:59 GMT"), 0, 946684799 },
	{ S("Thu Jan  1 00:00:00 1970"), 0, 0 },
	{ S("Fri Dec 31 23:59:59 9999"), 0, 253402300799LL },

	/* fields out of range */
	{ S("Sun, 06 Foo 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 NOV 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 24:00:00 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 23:60:00 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 23:59:61 GMT"), -EINVAL, 0 },
	{ S("Sun, 00 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 32 Jan 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 31 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 30 Feb 2000 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 29 Feb 1900 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 29 Feb 2023 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 31 Dec 1899 23:59:59 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 0000 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sunday, 32-Nov-94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun Nov  0 08:49:37 1994"), -EINVAL, 0 },
	{ S("Sun Feb 30 08:49:37 1994"), -EINVAL, 0 },
	{ S("Sun Nov  6 24:49:37 1994"), -EINVAL, 0 },
	/* missing or wrong zone, trailing and leading junk */
	{ S("Sun, 06 Nov 1994 08:49:37"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 UTC"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 gmt"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 GMT "), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 GMTx"), -EINVAL, 0 },
	{ S(" Sun, 06 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 +0000"), -EINVAL, 0 },
	{ S("Sunday, 06-Nov-94 08:49:37"), -EINVAL, 0 },
	{ S("Sunday, 06-Nov-94 08:49:37 GMT;"), -EINVAL, 0 },
	{ S("Sun Nov  6 08:49:37 1994 "), -EINVAL, 0 },
	{ S("Sun Nov  6 08:49:37 1994 GMT"), -EINVAL, 0 },
	/* shapes mixed up or mangled */
	{ S("sun, 06 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sux, 06 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 6 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun,  6 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06-Nov-1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 8:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08-49-37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:3x GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov +994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37  GMT"), -EINVAL, 0 },
	{ S("Sun 06 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sunday, 06 Nov 1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sunday, 06-Nov-1994 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun, 06-Nov-94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Funday, 06-Nov-94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("sunday, 06-Nov-94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sunday,06-Nov-94 08:49:37 GMT "), -EINVAL, 0 },
	{ S("Sunday, 6-Nov-94 08:49:37 GMT"), -EINVAL, 0 },
	{ S("Sun Nov 6 08:49:37 1994"), -EINVAL, 0 },
	{ S("Sun Nov  6 08:49:37 94"), -EINVAL, 0 },
	{ S("Sun Nov 6  08:49:37 1994"), -EINVAL, 0 },
	{ S("Sun  Nov 6 08:49:37 1994"), -EINVAL, 0 },
	{ S("Sunday Nov  6 08:49:37 1994"), -EINVAL, 0 },
	{ S("784111777"), -EINVAL, 0 },
	{ S(""), -EINVAL, 0 },
	{ S("Sun"), -EINVAL, 0 },
	{ S("Sun,"), -EINVAL, 0 },
	{ S("Sun "), -EINVAL, 0 },
	{ S(","), -EINVAL, 0 },
	{ S("Sun, 06 Nov 1994 08:49:37 GMT\0"), -EINVAL, 0 },
};

static void
parse_date_vectors(void **state)
{
	struct guard g;
	const char *in;
	time_t t;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < NELEM(date_vecs); i++) {
		in = guard_copy(&g, date_vecs[i].in, date_vecs[i].len);
		t = 12345;
		ret = tw_http_parse_date(in, date_vecs[i].len, &t);
		guard_free(&g);
		if (ret != date_vecs[i].ret)
			fail_msg("vector %zu '%s': ret %d, want %d", i,
				 date_vecs[i].in, ret, date_vecs[i].ret);
		if (ret == 0 && (int64_t)t != date_vecs[i].t)
			fail_msg("vector %zu '%s': %lld, want %lld", i,
				 date_vecs[i].in, (long long)t,
				 (long long)date_vecs[i].t);
	}
}

/*
 * Against libc: format times from 1900 to 9999 with gmtime_r/strftime
 * (C locale) in all three forms and read them back.
 */
static void
parse_date_round_trips_gmtime(void **state)
{
	const int64_t lo = -2208988800LL, hi = 253402300799LL;
	struct tm tm;
	char s[64];
	time_t t, got;
	size_t n;
	int64_t i;

	(void)state;
	for (i = lo; i <= hi; i += 7 * 86400 + 3607) {
		t = (time_t)i;
		assert_non_null(gmtime_r(&t, &tm));
		n = strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		assert_int_equal(tw_http_parse_date(s, n, &got), 0);
		assert_int_equal(got, t);
		n = strftime(s, sizeof(s), "%a %b %e %H:%M:%S %Y", &tm);
		assert_int_equal(tw_http_parse_date(s, n, &got), 0);
		assert_int_equal(got, t);
		if (tm.tm_year < 70 || tm.tm_year >= 170)
			continue;
		n = strftime(s, sizeof(s), "%A, %d-%b-", &tm);
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%02d",
				      tm.tm_year % 100);
		n += strftime(s + n, sizeof(s) - n, " %H:%M:%S GMT", &tm);
		assert_int_equal(tw_http_parse_date(s, n, &got), 0);
		assert_int_equal(got, t);
	}
}

/* ---- Range ----------------------------------------------------------- */

#define NONE TW_RANGE_NONE
#define ROK TW_RANGE_OK
#define UNSAT TW_RANGE_UNSATISFIABLE
#define BIGNUM "99999999999999999999999"
#define U64MAX "18446744073709551615"

struct range_vec {
	const char *in;
	size_t len;
	uint64_t size;
	enum tw_http_range_result res;
	size_t n;
	struct tw_http_range r[4];
};

#define RANGE0(lit, sz, rs)						\
	{ .in = lit, .len = sizeof(lit) - 1, .size = sz, .res = rs }
#define RANGE(lit, sz, rs, nr, ...)					\
	{ .in = lit, .len = sizeof(lit) - 1, .size = sz, .res = rs,	\
	  .n = nr, .r = { __VA_ARGS__ } }

static const struct range_vec range_vecs[] = {
	RANGE("bytes=0-0", 10000, ROK, 1, { 0, 0 }),
	RANGE("bytes=-1", 10000, ROK, 1, { 9999, 9999 }),
	RANGE("bytes=0-499", 10000, ROK, 1, { 0, 499 }),
	RANGE("bytes=500-999", 10000, ROK, 1, { 500, 999 }),
	RANGE("bytes=9500-", 10000, ROK, 1, { 9500, 9999 }),
	RANGE("bytes=-500", 10000, ROK, 1, { 9500, 9999 }),
	RANGE("bytes=9999-", 10000, ROK, 1, { 9999, 9999 }),
	RANGE("bytes=0-", 10000, ROK, 1, { 0, 9999 }),
	RANGE("bytes=007-010", 10000, ROK, 1, { 7, 10 }),
	RANGE("Bytes=0-1", 10000, ROK, 1, { 0, 1 }),
	RANGE("BYTES=0-1", 10000, ROK, 1, { 0, 1 }),
	/* past the end: clamp the last, drop what starts there */
	RANGE("bytes=0-10000", 10000, ROK, 1, { 0, 9999 }),
	RANGE("bytes=9000-20000", 10000, ROK, 1, { 9000, 9999 }),
	RANGE0("bytes=10000-", 10000, UNSAT),
	RANGE0("bytes=10000-10001", 10000, UNSAT),
	RANGE("bytes=20000-30000,0-1", 10000, ROK, 1, { 0, 1 }),
	RANGE("bytes=-10000", 10000, ROK, 1, { 0, 9999 }),
	RANGE("bytes=-10001", 10000, ROK, 1, { 0, 9999 }),
	RANGE0("bytes=-0", 10000, UNSAT),
	RANGE0("bytes=-000", 10000, UNSAT),
	RANGE("bytes=-0,0-0", 10000, ROK, 1, { 0, 0 }),
	/* numbers longer than uint64 */
	RANGE("bytes=0-" BIGNUM, 10000, ROK, 1, { 0, 9999 }),
	RANGE0("bytes=" BIGNUM "-", 10000, UNSAT),
	RANGE0("bytes=" BIGNUM "-" BIGNUM, 10000, UNSAT),
	RANGE("bytes=-" BIGNUM, 10000, ROK, 1, { 0, 9999 }),
	RANGE0("bytes=" U64MAX "-" U64MAX, 10000, UNSAT),
	RANGE("bytes=00000000000000000000000001-0000000000000000000000002",
	      10000, ROK, 1, { 1, 2 }),
	RANGE0("bytes=" BIGNUM "-99999999999999999999998", 10000, NONE),
	RANGE0("bytes=100000000000000000000-99999999999999999999", 10000,
	      NONE),
	/* merging and sorting */
	RANGE("bytes=0-1,1-2,5-6", 10000, ROK, 2, { 0, 2 }, { 5, 6 }),
	RANGE("bytes=1-2,0-0", 10000, ROK, 1, { 0, 2 }),
	RANGE("bytes=5-6,0-1", 10000, ROK, 2, { 0, 1 }, { 5, 6 }),
	RANGE("bytes=0-1,2-3", 10000, ROK, 1, { 0, 3 }),
	RANGE("bytes=0-1,3-4", 10000, ROK, 2, { 0, 1 }, { 3, 4 }),
	RANGE("bytes=0-9,2-3", 10000, ROK, 1, { 0, 9 }),
	RANGE("bytes=0-,5-10", 10000, ROK, 1, { 0, 9999 }),
	RANGE("bytes=-500,0-99,9000-9499", 10000, ROK, 2, { 0, 99 },
	      { 9000, 9999 }),
	RANGE("bytes=30-39,20-29,10-19,0-5", 10000, ROK, 2, { 0, 5 },
	      { 10, 39 }),
	RANGE("bytes=0-0,0-0,0-0", 10000, ROK, 1, { 0, 0 }),
	RANGE("bytes=9-9,3-3,6-6,0-0", 10000, ROK, 4, { 0, 0 }, { 3, 3 },
	      { 6, 6 }, { 9, 9 }),
	/* list syntax: OWS around commas, empty elements */
	RANGE("bytes=0-1 ,\t3-4", 10000, ROK, 2, { 0, 1 }, { 3, 4 }),
	RANGE("bytes=0-1,,3-4", 10000, ROK, 2, { 0, 1 }, { 3, 4 }),
	RANGE("bytes=0-1,", 10000, ROK, 1, { 0, 1 }),
	RANGE("bytes=,0-1", 10000, ROK, 1, { 0, 1 }),
	/* invalid: the header is ignored */
	RANGE0("bytes=", 10000, NONE),
	RANGE0("bytes=,", 10000, NONE),
	RANGE0("bytes= ", 10000, NONE),
	RANGE0("bytes=5-3", 10000, NONE),
	RANGE0("bytes=5-3,0-1", 10000, NONE),
	RANGE0("bytes=0-1,5-3", 10000, NONE),
	RANGE0("bytes=20000-10000", 10000, NONE),
	RANGE0("items=0-1", 10000, NONE),
	RANGE0("bytes", 10000, NONE),
	RANGE0("bytes 0-1", 10000, NONE),
	RANGE0("bytes =0-1", 10000, NONE),
	RANGE0("bytes:0-1", 10000, NONE),
	RANGE0("bytesx=0-1", 10000, NONE),
	RANGE0("byte=0-1", 10000, NONE),
	RANGE0("bytes=0 - 1", 10000, NONE),
	RANGE0("bytes=0- 1", 10000, NONE),
	RANGE0("bytes=a-b", 10000, NONE),
	RANGE0("bytes=0x1-2", 10000, NONE),
	RANGE0("bytes=+1-2", 10000, NONE),
	RANGE0("bytes=1-+2", 10000, NONE),
	RANGE0("bytes=--1", 10000, NONE),
	RANGE0("bytes=-", 10000, NONE),
	RANGE0("bytes=1", 10000, NONE),
	RANGE0("bytes=0-1-2", 10000, NONE),
	RANGE0("bytes=-1-2", 10000, NONE),
	RANGE0("bytes=0-1;", 10000, NONE),
	RANGE0("bytes=0-1,x", 10000, NONE),
	RANGE0("bytes=0-1 2-3", 10000, NONE),
	RANGE0("bytes=0\0-1", 10000, NONE),
	RANGE0("", 10000, NONE),
	/* an empty representation: every valid set is unsatisfiable */
	RANGE0("bytes=0-0", 0, UNSAT),
	RANGE0("bytes=0-", 0, UNSAT),
	RANGE0("bytes=-1", 0, UNSAT),
	RANGE0("bytes=-" BIGNUM, 0, UNSAT),
	RANGE0("bytes=-0", 0, UNSAT),
	RANGE0("bytes=5-3", 0, NONE),
	RANGE0("items=0-1", 0, NONE),
	/* one byte */
	RANGE("bytes=0-0", 1, ROK, 1, { 0, 0 }),
	RANGE("bytes=-5", 1, ROK, 1, { 0, 0 }),
	RANGE("bytes=0-5", 1, ROK, 1, { 0, 0 }),
	RANGE0("bytes=1-", 1, UNSAT),
	/* the largest size: no wrap-around anywhere */
	RANGE("bytes=18446744073709551614-", UINT64_MAX, ROK, 1,
	      { UINT64_MAX - 1, UINT64_MAX - 1 }),
	RANGE0("bytes=" U64MAX "-", UINT64_MAX, UNSAT),
	RANGE("bytes=0-" BIGNUM, UINT64_MAX, ROK, 1, { 0, UINT64_MAX - 1 }),
	RANGE("bytes=-1", UINT64_MAX, ROK, 1,
	      { UINT64_MAX - 1, UINT64_MAX - 1 }),
	RANGE("bytes=-" BIGNUM, UINT64_MAX, ROK, 1, { 0, UINT64_MAX - 1 }),
	RANGE("bytes=0-" U64MAX ",5-" U64MAX, UINT64_MAX, ROK, 1,
	      { 0, UINT64_MAX - 1 }),
	/* over 4 GiB */
	RANGE("bytes=4294967296-4294967297", 5000000000ULL, ROK, 1,
	      { 4294967296ULL, 4294967297ULL }),
};

static void
parse_range_vectors(void **state)
{
	struct tw_http_range out[TW_HTTP_MAX_RANGES];
	enum tw_http_range_result res;
	struct guard g;
	const char *in;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < NELEM(range_vecs); i++) {
		const struct range_vec *v = &range_vecs[i];

		in = guard_copy(&g, v->in, v->len);
		n = 999;
		res = tw_http_parse_range(in, v->len, v->size, out, &n);
		guard_free(&g);
		if (res != v->res || n != v->n)
			fail_msg("vector %zu '%s' size %llu: res %d n %zu, "
				 "want %d %zu", i, v->in,
				 (unsigned long long)v->size, res, n, v->res,
				 v->n);
		for (j = 0; j < n; j++) {
			if (out[j].first != v->r[j].first ||
			    out[j].last != v->r[j].last)
				fail_msg("vector %zu range %zu: %llu-%llu",
					 i, j,
					 (unsigned long long)out[j].first,
					 (unsigned long long)out[j].last);
		}
	}
}

/* "bytes=" and count ranges "2k-2k" (disjoint, not adjacent) or "k-k". */
static size_t
make_ranges(char *s, size_t cap, int count, int stride, const char *sep)
{
	size_t len;
	int i;

	len = (size_t)snprintf(s, cap, "bytes=");
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%d-%d",
					i ? sep : "", i * stride, i * stride);
	assert_true(len < cap);
	return len;
}

static void
parse_range_counts_specs(void **state)
{
	struct tw_http_range out[TW_HTTP_MAX_RANGES];
	struct guard g;
	const char *in;
	char s[512];
	size_t len, n, j;

	(void)state;
	len = make_ranges(s, sizeof(s), TW_HTTP_MAX_RANGES, 2, ",");
	in = guard_copy(&g, s, len);
	assert_int_equal(tw_http_parse_range(in, len, 1000, out, &n), ROK);
	guard_free(&g);
	assert_int_equal(n, TW_HTTP_MAX_RANGES);
	for (j = 0; j < n; j++) {
		assert_int_equal(out[j].first, 2 * j);
		assert_int_equal(out[j].last, 2 * j);
	}
	/* 17: too many, before any merging */
	len = make_ranges(s, sizeof(s), TW_HTTP_MAX_RANGES + 1, 2, ",");
	in = guard_copy(&g, s, len);
	assert_int_equal(tw_http_parse_range(in, len, 1000, out, &n), NONE);
	guard_free(&g);
	assert_int_equal(n, 0);
	len = make_ranges(s, sizeof(s), TW_HTTP_MAX_RANGES + 1, 0, ",");
	in = guard_copy(&g, s, len);
	assert_int_equal(tw_http_parse_range(in, len, 1000, out, &n), NONE);
	guard_free(&g);
	/* 16 that merge into one; empty elements are not ranges */
	len = make_ranges(s, sizeof(s), TW_HTTP_MAX_RANGES, 1, " , ,");
	in = guard_copy(&g, s, len);
	assert_int_equal(tw_http_parse_range(in, len, 1000, out, &n), ROK);
	guard_free(&g);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].first, 0);
	assert_int_equal(out[0].last, TW_HTTP_MAX_RANGES - 1);
	/* 17 where all but one are past the end: still too many */
	len = make_ranges(s, sizeof(s), TW_HTTP_MAX_RANGES + 1, 100, ",");
	in = guard_copy(&g, s, len);
	assert_int_equal(tw_http_parse_range(in, len, 50, out, &n), NONE);
	guard_free(&g);
}

/* ---- entity-tags ----------------------------------------------------- */

struct etag_vec {
	const char *list;
	size_t len;
	const char *etag;
	bool strong;	/* expected with weak == false */
	bool weak;	/* expected with weak == true */
};

static const struct etag_vec etag_vecs[] = {
	{ S("\"abc\""), "\"abc\"", true, true },
	{ S("W/\"abc\""), "\"abc\"", false, true },
	{ S("\"abc\""), "W/\"abc\"", false, true },
	{ S("W/\"abc\""), "W/\"abc\"", false, true },
	{ S("\"a\", \"abc\""), "\"abc\"", true, true },
	{ S("\"a\",\"abc\""), "\"abc\"", true, true },
	{ S("\"a\" ,\t\"abc\" "), "\"abc\"", true, true },
	{ S("\"abc\", \"a\""), "\"abc\"", true, true },
	{ S(", ,\"abc\","), "\"abc\"", true, true },
	{ S("W/\"x\", \"abc\""), "\"abc\"", true, true },
	{ S("\"\""), "\"\"", true, true },
	{ S("\"5f-1a2b\""), "\"5f-1a2b\"", true, true },
	{ S("\"\x80\xff\""), "\"\x80\xff\"", true, true },
	/* commas may sit inside a tag */
	{ S("\"a,b\""), "\"a,b\"", true, true },
	{ S("\"a,b\""), "\"a\"", false, false },
	{ S("\"a,b\""), "\"b\"", false, false },
	/* the wildcard, and only as the whole value */
	{ S("*"), "\"abc\"", true, true },
	{ S(" * "), "W/\"abc\"", true, true },
	{ S("*, \"abc\""), "\"zzz\"", false, false },
	{ S("\"*\""), "\"abc\"", false, false },
	/* different tags */
	{ S("\"ab\""), "\"abc\"", false, false },
	{ S("\"abcd\""), "\"abc\"", false, false },
	{ S("\"ABC\""), "\"abc\"", false, false },
	{ S(""), "\"abc\"", false, false },
	{ S(" "), "\"abc\"", false, false },
	/* malformed elements match nothing; the others still count */
	{ S("\"abc"), "\"abc\"", false, false },
	{ S("abc"), "\"abc\"", false, false },
	{ S("\"abc\"x"), "\"abc\"", false, false },
	{ S("\"abc\" x, \"y\""), "\"abc\"", false, false },
	{ S("x\"abc\""), "\"abc\"", false, false },
	{ S("w/\"abc\""), "\"abc\"", false, false },
	{ S("W/ \"abc\""), "\"abc\"", false, false },
	{ S("W\"abc\""), "\"abc\"", false, false },
	{ S("\"a c\""), "\"a c\"", false, false },
	{ S("\"a\tc\""), "\"a\tc\"", false, false },
	{ S("\"a\0c\""), "\"a\0c\"", false, false },
	{ S("\"x\", abc, \"abc\""), "\"abc\"", true, true },
	{ S("junk, W/\"abc\""), "\"abc\"", false, true },
	{ S("\"x\" \"abc\""), "\"abc\"", false, false },
	/* our own tag malformed: nothing matches it */
	{ S("\"abc\""), "abc", false, false },
	{ S("abc"), "abc", false, false },
	{ S("\"abc\""), "\"abc\" ", false, false },
	{ S("*"), "abc", false, false },
};

static void
etag_match_vectors(void **state)
{
	struct guard g;
	const char *in;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(etag_vecs); i++) {
		const struct etag_vec *v = &etag_vecs[i];

		in = guard_copy(&g, v->list, v->len);
		if (tw_http_etag_match(in, v->len, v->etag, strlen(v->etag),
				       false) != v->strong)
			fail_msg("vector %zu strong", i);
		if (tw_http_etag_match(in, v->len, v->etag, strlen(v->etag),
				       true) != v->weak)
			fail_msg("vector %zu weak", i);
		guard_free(&g);
	}
}

/* ---- Accept-Encoding ------------------------------------------------- */

struct q_vec {
	const char *in;
	size_t len;
	const char *coding;
	int q;
};

static const struct q_vec q_vecs[] = {
	{ S("gzip"), "gzip", 1000 },
	{ S("gzip"), "br", 0 },
	{ S(""), "gzip", 0 },
	{ S("gzip, deflate, br"), "br", 1000 },
	{ S("gzip,deflate,br"), "deflate", 1000 },
	{ S("br;q=0.8, gzip;q=0.9"), "br", 800 },
	{ S("br;q=0.8, gzip;q=0.9"), "gzip", 900 },
	/* qvalue syntax */
	{ S("gzip;q=0"), "gzip", 0 },
	{ S("gzip;q=0.5"), "gzip", 500 },
	{ S("gzip;q=0.05"), "gzip", 50 },
	{ S("gzip;q=0.001"), "gzip", 1 },
	{ S("gzip;q=0.123"), "gzip", 123 },
	{ S("gzip;q=0."), "gzip", 0 },
	{ S("gzip;q=1"), "gzip", 1000 },
	{ S("gzip;q=1."), "gzip", 1000 },
	{ S("gzip;q=1.0"), "gzip", 1000 },
	{ S("gzip;q=1.000"), "gzip", 1000 },
	/* invalid q reads as 0: do not use the coding */
	{ S("gzip;q=1.001"), "gzip", 0 },
	{ S("gzip;q=1.5"), "gzip", 0 },
	{ S("gzip;q=2"), "gzip", 0 },
	{ S("gzip;q=0.1234"), "gzip", 0 },
	{ S("gzip;q=1.0000"), "gzip", 0 },
	{ S("gzip;q=.5"), "gzip", 0 },
	{ S("gzip;q=abc"), "gzip", 0 },
	{ S("gzip;q="), "gzip", 0 },
	{ S("gzip;q=-1"), "gzip", 0 },
	{ S("gzip;q=0.5x"), "gzip", 0 },
	{ S("gzip;q=0,5"), "gzip", 0 },
	/* whitespace and case */
	{ S("gzip ; q=0.5"), "gzip", 500 },
	{ S("gzip;\tq=0.5 "), "gzip", 500 },
	{ S("gzip;Q=0.5"), "gzip", 500 },
	{ S("GZIP"), "gzip", 1000 },
	{ S("gzip"), "GZip", 1000 },
	{ S("Br;q=0.3"), "br", 300 },
	/* x-gzip is gzip (RFC 9110 8.4.1.3) */
	{ S("x-gzip"), "gzip", 1000 },
	{ S("x-gzip;q=0.3"), "gzip", 300 },
	{ S("x-gzip"), "br", 0 },
	/* "*" covers codings not named */
	{ S("*"), "br", 1000 },
	{ S("*;q=0"), "br", 0 },
	{ S("gzip, *;q=0"), "br", 0 },
	{ S("gzip, *;q=0"), "gzip", 1000 },
	{ S("gzip;q=0, *"), "gzip", 0 },
	{ S("gzip;q=0, *"), "br", 1000 },
	{ S("*;q=0.5, br"), "br", 1000 },
	{ S("*;q=0.5, br"), "gzip", 500 },
	{ S("identity"), "gzip", 0 },
	{ S("identity;q=0, *;q=0"), "gzip", 0 },
	/* the first mention counts; other parameters are ignored */
	{ S("gzip;q=0.5, gzip;q=1"), "gzip", 500 },
	{ S("*;q=0.3, *;q=0.7"), "br", 300 },
	{ S("gzip;level=9;q=0.4"), "gzip", 400 },
	{ S("gzip;q=0.4;level=9"), "gzip", 400 },
	/* malformed elements are skipped */
	{ S("gzip;q"), "gzip", 0 },
	{ S("gzip;q, *"), "gzip", 1000 },
	{ S("gzip q=1"), "gzip", 0 },
	{ S("gzip;;q=1"), "gzip", 0 },
	{ S("gzip;=1"), "gzip", 0 },
	{ S("gzip;q=\"0.5\""), "gzip", 0 },
	{ S("\"gzip\""), "gzip", 0 },
	{ S("gzipx"), "gzip", 0 },
	{ S("gz"), "gzip", 0 },
	{ S(",gzip,,"), "gzip", 1000 },
	{ S("gzip\0"), "gzip", 0 },
};

static void
accept_q_vectors(void **state)
{
	struct guard g;
	const char *in;
	size_t i;
	int q;

	(void)state;
	for (i = 0; i < NELEM(q_vecs); i++) {
		in = guard_copy(&g, q_vecs[i].in, q_vecs[i].len);
		q = tw_http_accept_q(in, q_vecs[i].len, q_vecs[i].coding);
		guard_free(&g);
		if (q != q_vecs[i].q)
			fail_msg("vector %zu '%s' %s: %d, want %d", i,
				 q_vecs[i].in, q_vecs[i].coding, q,
				 q_vecs[i].q);
	}
}
/* Accept media ranges: the most specific match gives the q. */
static const struct {
	const char *in;
	size_t len;
	const char *type;
	int q;
} media_vecs[] = {
	{ S(""), "application/json", 0 },
	{ S("application/json"), "application/json", 1000 },
	{ S("Application/JSON"), "application/json", 1000 },
	{ S("application/json"), "text/html", 0 },
	{ S("application/*;q=0.4"), "application/json", 400 },
	{ S("*/*;q=0.2"), "application/json", 200 },
	{ S("*/*;q=0.2"), "text/html", 200 },
	{ S("*/*;q=0.9, application/json;q=0.1"), "application/json", 100 },
	{ S("application/json;q=0.1, application/*;q=0.9"),
	  "application/json", 100 },
	{ S("text/*;q=0.3, */*;q=0.8"), "text/html", 300 },
	{ S("text/html;level=1;q=0.7"), "text/html", 700 },
	{ S("text/html ; q=0.5 , application/json"), "text/html", 500 },
	{ S("application/json;q=0"), "application/json", 0 },
	{ S("application/json;q=1.5"), "application/json", 0 },
	/* the first of equally specific ranges counts */
	{ S("application/json;q=0.3, application/json"),
	  "application/json", 300 },
	/* malformed or other types are skipped */
	{ S("application/jsonx"), "application/json", 0 },
	{ S("application"), "application/json", 0 },
	{ S("application/"), "application/json", 0 },
	{ S("/json"), "application/json", 0 },
	{ S("*/json"), "application/json", 0 },
	{ S("application/json;q"), "application/json", 0 },
	{ S("bogus, application/json;q=0.6"), "application/json", 600 },
};

static void
accept_media_q_vectors(void **state)
{
	struct guard g;
	const char *in;
	size_t i;
	int q;

	(void)state;
	for (i = 0; i < NELEM(media_vecs); i++) {
		in = guard_copy(&g, media_vecs[i].in, media_vecs[i].len);
		q = tw_http_accept_media_q(in, media_vecs[i].len,
					   media_vecs[i].type);
		guard_free(&g);
		if (q != media_vecs[i].q)
			fail_msg("vector %zu '%s' %s: %d, want %d", i,
				 media_vecs[i].in, media_vecs[i].type, q,
				 media_vecs[i].q);
	}
}

static const struct {
	const char *in;
	bool ok;
} host_rows[] = {
	{ "", true },
	{ "example.com", true },
	{ "example.com:8080", true },
	{ "127.0.0.1:80", true },
	{ "[::1]:8080", true },
	{ "[fe80::1%25eth0]", false },
	{ "xn--nxasmq6b.example", true },
	{ "a%20b", true },
	{ "a b", false },
	{ "a/b", false },
	{ "a@b", false },
	{ "a:b", false },
	{ "a:", true },
	{ "[::1", false },
	{ "[]", false },
	{ "[::1]x", false },
	{ "a%2", false },
	{ "a%zz", false },
	{ "a\"b", false },
	{ "a?b", false },
	{ "a#b", false },
};

static void
host_valid_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(host_rows) / sizeof(host_rows[0]); i++) {
		struct guard g;
		size_t n = strlen(host_rows[i].in);
		const char *p = guard_copy(&g, host_rows[i].in, n);

		if (tw_http_host_valid(p, n) != host_rows[i].ok)
			fail_msg("host '%s': want %d", host_rows[i].in,
				 host_rows[i].ok);
		guard_free(&g);
	}
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_request_vectors),
		cmocka_unit_test(parse_request_bytewise_matches_whole),
		cmocka_unit_test(parse_request_chunks_match_whole),
		cmocka_unit_test(parse_request_line_limit),
		cmocka_unit_test(parse_request_header_bytes_limit),
		cmocka_unit_test(parse_request_header_count_limit),
		cmocka_unit_test(parse_request_last_len_sees_limits),
		cmocka_unit_test(find_header_is_case_insensitive_first_match),
		cmocka_unit_test(token_eq_vectors),
		cmocka_unit_test(list_has_vectors),
		cmocka_unit_test(content_length_vectors),
		cmocka_unit_test(transfer_encoding_vectors),
		cmocka_unit_test(parse_date_vectors),
		cmocka_unit_test(parse_date_round_trips_gmtime),
		cmocka_unit_test(parse_range_vectors),
		cmocka_unit_test(parse_range_counts_specs),
		cmocka_unit_test(etag_match_vectors),
		cmocka_unit_test(accept_q_vectors),
		cmocka_unit_test(accept_media_q_vectors),
		cmocka_unit_test(host_valid_vectors),
	};

	return cmocka_run_group_tests_name("http_parse", tests, NULL, NULL);
}
