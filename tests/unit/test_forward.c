/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for forward, the proxy's heads: each case parses a client
 * request with the real parser and compares the whole head sent upstream
 * byte for byte: hop-by-hop fields and those Connection names dropped,
 * Host passed or set, X-Forwarded-For / Forwarded / Via appended to the
 * client's lists, X-Forwarded-Proto replaced, IPv6 quoting, set_headers
 * replacing and removing, pass_request_headers off, upgrades, framing;
 * then the response fields passed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "http/forward.h"
#include "parse/http_response.h"

static struct sockaddr_in v4;
static struct sockaddr_in6 v6;

static int
setup(void **state)
{
	(void)state;
	v4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
	v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
	return 0;
}

static const struct tw_forward_opts plain = {
	.scheme = "http", .pass_request_headers = true,
};

/* The head for request text in (parsed whole), compared with want. */
static void
check(const char *in, const struct sockaddr *peer,
      const struct tw_forward_opts *o, bool has_length, uint64_t len,
      bool chunked, const char *want)
{
	struct tw_http_request r;
	struct tw_buf out = { 0 };

	assert_int_equal(tw_http_parse_request(in, strlen(in), 0, &r),
			 (int)strlen(in));
	tw_forward_request_head(&r, r.target, r.target_len, peer, o,
				has_length, len, chunked, &out);
	assert_false(out.failed);
	tw_buf_append_char(&out, '\0');
	assert_string_equal(out.data, want);
	tw_buf_free(&out);
}

static void
hop_by_hop_fields_are_dropped(void **state)
{
	(void)state;
	check("GET /a?b=1 HTTP/1.1\r\n"
	      "Host: example.com\r\n"
	      "User-Agent: t/1\r\n"
	      "Connection: keep-alive, X-Secret\r\n"
	      "Keep-Alive: timeout=5\r\n"
	      "Proxy-Connection: keep-alive\r\n"
	      "TE: trailers\r\n"
	      "Trailer: X-T\r\n"
	      "Upgrade: h2c\r\n"
	      "Proxy-Authorization: Basic eA==\r\n"
	      "X-Secret: 1\r\n"
	      "Accept: */*\r\n\r\n",
	      (const struct sockaddr *)&v4, &plain, false, 0, false,
	      "GET /a?b=1 HTTP/1.1\r\n"
	      "Host: example.com\r\n"
	      "User-Agent: t/1\r\n"
	      "Accept: */*\r\n"
	      "X-Forwarded-For: 192.0.2.7\r\n"
	      "X-Forwarded-Proto: http\r\n"
	      "Forwarded: for=192.0.2.7;proto=http;host=\"example.com\"\r\n"
	      "Via: 1.1 tinyweb\r\n\r\n");
}

static void
lists_are_appended_to(void **state)
{
	(void)state;
	check("POST /up HTTP/1.0\r\n"
	      "Host: h:8080\r\n"
	      "X-Forwarded-For: 10.0.0.1\r\n"
	      "X-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n"
	      "X-Forwarded-Proto: https\r\n"
	      "Forwarded: for=10.0.0.1\r\n"
	      "Via: 1.1 edge\r\n"
	      "Content-Length: 5\r\n\r\n",
	      (const struct sockaddr *)&v6, &plain, true, 5, false,
	      "POST /up HTTP/1.1\r\n"
	      "Host: h:8080\r\n"
	      "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 2001:db8::1\r\n"
	      "X-Forwarded-Proto: http\r\n"
	      "Forwarded: for=10.0.0.1, "
	      "for=\"[2001:db8::1]\";proto=http;host=\"h:8080\"\r\n"
	      "Via: 1.1 edge, 1.0 tinyweb\r\n"
	      "Content-Length: 5\r\n\r\n");
}

static void
proxy_options(void **state)
{
	struct tw_forward_opts o = {
		.scheme = "https", .host = "backend.internal",
		.pass_request_headers = true,
		.set_headers = "X-Real-IP: 192.0.2.7\r\nUser-Agent: \r\n",
	};

	(void)state;
	/* Host set, one field replaced, one removed; a chunked body is
	 * sent chunked, whatever the client's field said. */
	check("PUT /f HTTP/1.1\r\nHost: a\r\nUser-Agent: u\r\n"
	      "X-Real-IP: 1.1.1.1\r\nTransfer-Encoding: chunked\r\n"
	      "Cookie: c=1\r\n\r\n",
	      (const struct sockaddr *)&v4, &o, false, 0, true,
	      "PUT /f HTTP/1.1\r\n"
	      "Host: backend.internal\r\n"
	      "Cookie: c=1\r\n"
	      "X-Forwarded-For: 192.0.2.7\r\n"
	      "X-Forwarded-Proto: https\r\n"
	      "Forwarded: for=192.0.2.7;proto=https;"
	      "host=\"backend.internal\"\r\n"
	      "Via: 1.1 tinyweb\r\n"
	      "X-Real-IP: 192.0.2.7\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n");
	/* Nothing of the client's but the method, target and Host. */
	o.pass_request_headers = false;
	o.set_headers = NULL;
	o.host = NULL;
	check("GET / HTTP/1.1\r\nHost: a\r\nCookie: c=1\r\n"
	      "X-Forwarded-For: 6.6.6.6\r\n\r\n",
	      (const struct sockaddr *)&v4, &o, false, 0, false,
	      "GET / HTTP/1.1\r\n"
	      "Host: a\r\n"
	      "X-Forwarded-For: 192.0.2.7\r\n"
	      "X-Forwarded-Proto: https\r\n"
	      "Forwarded: for=192.0.2.7;proto=https;host=\"a\"\r\n"
	      "Via: 1.1 tinyweb\r\n\r\n");
}

static void
upgrade_is_kept_for_a_tunnel(void **state)
{
	struct tw_forward_opts o = plain;

	(void)state;
	o.upgrade = true;
	check("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
	      "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
	      "Sec-WebSocket-Version: 13\r\n\r\n",
	      (const struct sockaddr *)&v4, &o, false, 0, false,
	      "GET /ws HTTP/1.1\r\n"
	      "Host: a\r\n"
	      "Sec-WebSocket-Key: k\r\n"
	      "Sec-WebSocket-Version: 13\r\n"
	      "X-Forwarded-For: 192.0.2.7\r\n"
	      "X-Forwarded-Proto: http\r\n"
	      "Forwarded: for=192.0.2.7;proto=http;host=\"a\"\r\n"
	      "Via: 1.1 tinyweb\r\n"
	      "Upgrade: websocket\r\n"
	      "Connection: upgrade\r\n\r\n");
}

static void
response_fields(void **state)
{
	static const char in[] =
		"HTTP/1.1 200 OK\r\n"
		"Date: x\r\nServer: up\r\nContent-Length: 3\r\n"
		"Connection: close, X-Hop\r\nKeep-Alive: timeout=1\r\n"
		"X-Hop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
		"Cache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n";
	struct tw_http_response res;
	struct tw_buf out = { 0 };

	(void)state;
	assert_int_equal(tw_http_parse_response(in, sizeof(in) - 1, 4096,
						&res), (int)sizeof(in) - 1);
	tw_forward_response_fields(res.headers, res.nheaders, false, &out);
	tw_buf_append_char(&out, '\0');
	assert_string_equal(out.data, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
				      "Cache-Control: no-cache\r\n");
	tw_buf_reset(&out, 0);
	tw_forward_response_fields(res.headers, res.nheaders, true, &out);
	tw_buf_append_char(&out, '\0');
	assert_string_equal(out.data, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
				      "Cache-Control: no-cache\r\n"
				      "Upgrade: websocket\r\n");
	tw_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hop_by_hop_fields_are_dropped),
		cmocka_unit_test(lists_are_appended_to),
		cmocka_unit_test(proxy_options),
		cmocka_unit_test(upgrade_is_kept_for_a_tunnel),
		cmocka_unit_test(response_fields),
	};

	return cmocka_run_group_tests_name("forward", tests, setup, NULL);
}
