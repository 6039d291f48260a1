/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for http, driven through its conn seam (support/fake_conn.c):
 * bytes in, the exact response bytes out. A tiny handler answers by path.
 * Covers the response head, HEAD, pipelining, keep-alive rules, methods,
 * Host checks, body framing, parser limits, the keep-alive request cap,
 * timeouts, the connection cap and the access log's escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stats.h"
#include "http/http.h"
#include "net/loop.h"
#include "parse/http_parse.h"
#include "support/fake_conn.h"
#include "support/loop_guard.h"

/* ---- the test handler --------------------------------------------------- */

#define FILE_DATA "0123456789abcdefghij"

static struct {
	unsigned calls;
	enum tw_http_method method;
	char path[256];
	char query[256];
	bool has_query;
	bool secure;		/* req->secure of the last request */
	char file[64];		/* a temp file served for "/file" */
	int last_fd;
	struct tw_loop *drain_loop;	/* "/drain" drains it */
} hs;

static int inst_token;

/*
 * "/status/NNN": return NNN (416 first adds a Content-Range, as static
 * does); "/decline": TW_DECLINED; "/enoent": -ENOENT; "/file": the temp
 * file as one FILE segment; "/drain": drains hs.drain_loop while the
 * request is being answered, then goes on as anything else: 200 with the
 * path as body.
 */
static int
test_handle(const struct tw_http_req *req, struct tw_http_res *res,
	    void *inst)
{
	size_t n = req->path_len < sizeof(hs.path) - 1 ? req->path_len :
		   sizeof(hs.path) - 1;

	assert_ptr_equal(inst, &inst_token);
	hs.calls++;
	hs.method = req->method;
	hs.secure = req->secure;
	memcpy(hs.path, req->path, n);
	hs.path[n] = '\0';
	hs.has_query = req->query != NULL;
	if (req->query != NULL) {
		n = req->query_len < sizeof(hs.query) - 1 ? req->query_len :
		    sizeof(hs.query) - 1;
		memcpy(hs.query, req->query, n);
		hs.query[n] = '\0';
	}
	if (strncmp(hs.path, "/status/", 8) == 0) {
		int st = atoi(hs.path + 8);

		if (st == 416)
			tw_buf_append_str(res->headers,
					  "Content-Range: bytes */5\r\n");
		tw_buf_append_str(res->body, "dropped");
		return st;
	}
	if (strcmp(hs.path, "/decline") == 0)
		return TW_DECLINED;
	if (strcmp(hs.path, "/enoent") == 0)
		return -ENOENT;
	if (strcmp(hs.path, "/drain") == 0)
		tw_http_drain(hs.drain_loop, NULL);
	if (strcmp(hs.path, "/file") == 0) {
		res->fd = open(hs.file, O_RDONLY | O_CLOEXEC);
		assert_true(res->fd >= 0);
		hs.last_fd = res->fd;
		res->status = 200;
		res->nseg = 1;
		res->segs[0].kind = TW_HTTP_SEG_FILE;
		res->segs[0].off = 2;
		res->segs[0].len = 10;
		return 0;
	}
	tw_buf_append_str(res->headers, "Content-Type: text/plain\r\n");
	tw_buf_append(res->body, req->path, req->path_len);
	res->status = 200;
	res->nseg = 1;
	res->segs[0].kind = TW_HTTP_SEG_BODY;
	res->segs[0].off = 0;
	res->segs[0].len = req->path_len;
	return 0;
}

static void *
test_create(const void *opts, int *err)
{
	(void)opts;
	(void)err;
	return &inst_token;
}

static void
test_destroy(void *inst)
{
	assert_ptr_equal(inst, &inst_token);
}

static const struct tw_handler test_handler = {
	.name = "test",
	.handle = test_handle,
	.create = test_create,
	.destroy = test_destroy,
};

/* ---- fixture ------------------------------------------------------------ */

#define KEEPALIVE_MS	30000
#define HEADER_MS	10000
#define LINGER_MS	5000	/* http.c's */
#define GRACE_MS	2000	/* http.c's DRAIN_GRACE_MS */
#define SEND_MS		60000
#define MIN_RATE	4096
#define MAX_BODY	(1024 * 1024)

struct fx {
	struct tw_loop *loop;	/* holds http's per-loop state */
	struct tw_stats *stats;
	struct tw_http_opts opts;
	struct tw_http_route route;
	struct tw_http_server *srv;
	struct tw_conn *c;
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd, err;

	if (f == NULL)
		return -1;
	f->stats = calloc(1, sizeof(*f->stats));
	if (f->stats == NULL)
		return -1;
	memset(&hs, 0, sizeof(hs));
	hs.last_fd = -1;
	strcpy(hs.file, "/tmp/tw-http-XXXXXX");
	fd = mkstemp(hs.file);
	if (fd < 0 || write(fd, FILE_DATA, strlen(FILE_DATA)) !=
		      (ssize_t)strlen(FILE_DATA))
		return -1;
	(void)close(fd);
	f->opts = (struct tw_http_opts){
		.keepalive_timeout_ms = KEEPALIVE_MS,
		.header_timeout_ms = HEADER_MS,
		.send_timeout_ms = SEND_MS,
		.send_min_rate = MIN_RATE,
		.max_keepalive_requests = 100,
		.max_connections = 100,
		.max_discard_body = MAX_BODY,
		.stats = f->stats,
	};
	f->route = (struct tw_http_route){ &test_handler, NULL };
	f->srv = tw_http_create(&f->opts, &f->route, 1);
	f->loop = tw_loop_create(64, &err);
	if (f->srv == NULL || f->loop == NULL ||
	    tw_http_loop_init(f->loop, f->srv) != 0)
		return -1;
	tw_clock_update();
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	tw_conn_close_all(f->loop);
	tw_http_loop_exit(f->loop, f->srv);
	tw_loop_destroy(f->loop);
	tw_http_destroy(f->srv);
	(void)unlink(hs.file);
	free(f->stats);
	free(f);
	return 0;
}

/* A new connection accepted by http. */
static struct tw_conn *
fx_accept(struct fx *f)
{
	f->c = fake_conn_new(f->loop, "192.0.2.7");
	assert_int_equal(tw_http_accept(f->c, f->srv), 0);
	assert_int_equal(fake_conn_timeout_ms(f->c), HEADER_MS);
	return f->c;
}

/* ---- reading responses back --------------------------------------------- */

struct resp {
	int status;
	const char *head;	/* status line .. blank line */
	size_t head_len;
	const char *body;
	size_t body_len;
};

/* The value of header name in r (first match), copied into out. */
static const char *
resp_header(const struct resp *r, const char *name, char *out, size_t cap)
{
	const char *p = memmem(r->head, r->head_len, "\r\n", 2);
	const char *end = r->head + r->head_len;
	size_t n = strlen(name);

	assert_non_null(p);
	p += 2;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > n + 1 && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = (size_t)(eol - v);
			assert_true(vl < cap);
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Split the next response off *p; head_only: no body follows the head
 * whatever Content-Length says. */
static void
next_resp(const char **p, const char *end, bool head_only, struct resp *r)
{
	const char *blank = memmem(*p, (size_t)(end - *p), "\r\n\r\n", 4);
	char v[64];
	const char *cl;

	assert_non_null(blank);
	assert_true(end - *p > 12);
	assert_memory_equal(*p, "HTTP/1.1 ", 9);
	r->status = atoi(*p + 9);
	r->head = *p;
	r->head_len = (size_t)(blank + 4 - *p);
	r->body = blank + 4;
	cl = resp_header(r, "Content-Length", v, sizeof(v));
	r->body_len = cl && !head_only ? strtoul(cl, NULL, 10) : 0;
	assert_true(r->body_len <= (size_t)(end - r->body));
	*p = r->body + r->body_len;
}

/* Exactly n responses in the output; returns them in r[]. */
static void
responses(struct tw_conn *c, struct resp *r, size_t n, bool head_only)
{
	size_t len, i;
	const char *p = fake_conn_output(c, &len), *end = p + len;

	for (i = 0; i < n; i++)
		next_resp(&p, end, head_only, &r[i]);
	if (p != end)
		fail_msg("%zu bytes after %zu responses: %.*s",
			 (size_t)(end - p), n, (int)(end - p), p);
}

static void
assert_has(const struct resp *r, const char *name, const char *value)
{
	char v[256];

	if (resp_header(r, name, v, sizeof(v)) == NULL)
		fail_msg("no %s in %.*s", name, (int)r->head_len, r->head);
	assert_string_equal(v, value);
}

static void
assert_lacks(const struct resp *r, const char *name)
{
	char v[256];

	if (resp_header(r, name, v, sizeof(v)) != NULL)
		fail_msg("unexpected %s: %s", name, v);
}

/*
 * A connection whose last response said Connection: close lingers: its
 * sending side is shut, later input is read and dropped unanswered (no
 * handler runs), and the client's EOF closes it.
 */
static void
assert_lingers_then_closes(struct tw_conn *c)
{
	size_t before, len;
	unsigned calls = hs.calls;

	assert_false(tw_conn_closing(c));
	assert_true(fake_conn_write_shut(c));
	assert_int_equal(fake_conn_timeout_ms(c), LINGER_MS);
	assert_int_equal(fake_conn_unconsumed(c), 0);
	(void)fake_conn_output(c, &before);
	fake_conn_feed_str(c, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
	(void)fake_conn_output(c, &len);
	assert_int_equal(len, before);
	assert_int_equal(fake_conn_unconsumed(c), 0);
	assert_int_equal(hs.calls, calls);
	assert_false(tw_conn_closing(c));
	fake_conn_feed_eof(c);
	assert_true(tw_conn_closing(c));
}

/*
 * The client said its request was the last (Connection: close, or
 * HTTP/1.0), and nothing more came: the connection closes as soon as the
 * response is written, without a wait for the client's FIN. The
 * half-close was asked with the response, so the FIN leaves in its last
 * segment.
 */
static void
assert_closes_at_once(struct tw_conn *c)
{
	assert_true(tw_conn_closing(c));
	assert_true(fake_conn_write_shut(c));
}

/* One request, one response that closes the connection. */
static void
expect_fatal(struct fx *f, const char *req, int status)
{
	struct resp r;
	unsigned before = hs.calls;

	fx_accept(f);
	fake_conn_feed_str(f->c, req);
	responses(f->c, &r, 1, strncmp(req, "HEAD ", 5) == 0);
	if (r.status != status)
		fail_msg("%s-> %d, want %d", req, r.status, status);
	assert_has(&r, "Connection", "close");
	assert_has(&r, "Content-Type", "text/html; charset=utf-8");
	assert_lingers_then_closes(f->c);
	assert_int_equal(hs.calls, before);	/* never reached a handler */
	tw_conn_reap(f->loop);
}

/* ---- tests -------------------------------------------------------------- */

static void
get_exact_response(void **state)
{
	struct fx *f = *state;
	char want[512];
	size_t len;
	const char *out;
	time_t t;

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /hello?x=1 HTTP/1.1\r\n"
			   "Host: example.com\r\n\r\n");
	snprintf(want, sizeof(want),
		 "HTTP/1.1 200 OK\r\n"
		 "Date: %s\r\n"
		 "Server: tinyweb\r\n"
		 "Content-Length: 6\r\n"
		 "Content-Type: text/plain\r\n"
		 "\r\n"
		 "/hello", tw_clock_http_date());
	out = fake_conn_output(f->c, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	/* The date is now, in IMF-fixdate. */
	assert_int_equal(tw_http_parse_date(out + 23, 29, &t), 0);
	assert_int_equal(t, tw_clock_now());

	assert_int_equal(hs.calls, 1);
	assert_int_equal(hs.method, TW_HTTP_GET);
	assert_string_equal(hs.path, "/hello");
	assert_true(hs.has_query);
	assert_string_equal(hs.query, "x=1");
	/* Sent under the send timeout with its minimum rate ... */
	assert_int_equal(fake_conn_min_rate(f->c), MIN_RATE);
	/* ... then kept open, waiting idle with the keep-alive timeout. */
	assert_false(tw_conn_closing(f->c));
	assert_int_equal(fake_conn_unconsumed(f->c), 0);
	assert_int_equal(fake_conn_timeout_ms(f->c), KEEPALIVE_MS);
	assert_int_equal(fake_conn_timeout_flags(f->c), 0);
}

static void
absolute_form_target(void **state)
{
	struct fx *f = *state;
	struct resp r;

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET http://example.com/abs?q HTTP/1.1\r\n"
			   "Host: example.com\r\n\r\n");
	responses(f->c, &r, 1, false);
	assert_int_equal(r.status, 200);
	assert_string_equal(hs.path, "/abs");
	assert_string_equal(hs.query, "q");
}

static void
head_has_no_body(void **state)
{
	struct fx *f = *state;
	struct resp r[2];

	fx_accept(f);
	fake_conn_feed_str(f->c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
			   "HEAD /status/404 HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 2, true);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Content-Length", "6");
	assert_int_equal(hs.method, TW_HTTP_HEAD);
	assert_int_equal(r[1].status, 404);
	assert_false(tw_conn_closing(f->c));
}

static void
pipelined_in_order(void **state)
{
	static const char reqs[] =
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /bb HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /ccc HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *f = *state;
	struct resp r[3];
	size_t i;
	int pass;

	/* All at once, then one byte at a time. */
	for (pass = 0; pass < 2; pass++) {
		fx_accept(f);
		if (pass == 0)
			fake_conn_feed_str(f->c, reqs);
		else
			for (i = 0; i < sizeof(reqs) - 1; i++)
				fake_conn_feed(f->c, reqs + i, 1);
		responses(f->c, r, 3, false);
		assert_int_equal(r[0].status, 200);
		assert_int_equal(r[0].body_len, 2);
		assert_memory_equal(r[0].body, "/a", 2);
		assert_int_equal(r[1].body_len, 3);
		assert_memory_equal(r[1].body, "/bb", 3);
		assert_int_equal(r[2].body_len, 4);
		assert_memory_equal(r[2].body, "/ccc", 4);
		assert_false(tw_conn_closing(f->c));
		assert_int_equal(fake_conn_unconsumed(f->c), 0);
		tw_conn_close(f->c);
		tw_conn_reap(f->loop);
	}
	assert_int_equal(hs.calls, 6);
}

static void
http10_closes_unless_keepalive(void **state)
{
	struct fx *f = *state;
	struct resp r[2];

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.0\r\n\r\n");
	responses(f->c, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Connection", "close");
	assert_closes_at_once(f->c);
	tw_conn_reap(f->loop);

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
			   "GET /b HTTP/1.0\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_has(&r[0], "Connection", "keep-alive");
	assert_has(&r[1], "Connection", "close");
	assert_closes_at_once(f->c);
	tw_conn_reap(f->loop);

	/* More bytes behind the last request: they may be a request the
	 * client still expects an answer to, so the connection lingers
	 * (a reset now could destroy the response before it is read). */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
	responses(f->c, r, 1, false);
	assert_has(&r[0], "Connection", "close");
	assert_lingers_then_closes(f->c);
	tw_conn_reap(f->loop);
}

static void
connection_close_honoured(void **state)
{
	struct fx *f = *state;
	struct resp r;

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Connection: foo, CLOSE\r\n\r\n"
			   "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, &r, 1, false);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Connection", "close");
	assert_lingers_then_closes(f->c);
	assert_int_equal(hs.calls, 1);
	tw_conn_reap(f->loop);

	/* HTTP/1.1 keep-alive is the default: no Connection header. */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, &r, 1, false);
	assert_lacks(&r, "Connection");
}

static void
methods_405_and_501(void **state)
{
	static const struct {
		const char *method;
		int status;
	} rows[] = {
		{ "POST", 405 }, { "PUT", 405 }, { "DELETE", 405 },
		{ "PATCH", 405 }, { "TRACE", 405 }, { "FOO", 501 },
		{ "get", 501 }, { "PROPFIND", 501 },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char req[128];
		struct resp r[2];

		snprintf(req, sizeof(req), "%s /a HTTP/1.1\r\nHost: x\r\n\r\n"
			 "GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
			 rows[i].method);
		hs.calls = 0;
		fx_accept(f);
		fake_conn_feed_str(f->c, req);
		responses(f->c, r, 2, false);
		if (r[0].status != rows[i].status)
			fail_msg("%s: %d", rows[i].method, r[0].status);
		if (rows[i].status == 405)
			assert_has(&r[0], "Allow", "GET, HEAD, OPTIONS");
		else
			assert_lacks(&r[0], "Allow");
		/* Not fatal: the next request is answered by the handler. */
		assert_int_equal(r[1].status, 200);
		assert_int_equal(hs.calls, 1);
		tw_conn_close(f->c);
		tw_conn_reap(f->loop);
	}
}

static void
options_204(void **state)
{
	struct fx *f = *state;
	struct resp r[3];

	fx_accept(f);
	fake_conn_feed_str(f->c, "OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n"
			   "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 3, false);
	assert_int_equal(r[0].status, 204);
	assert_has(&r[0], "Allow", "GET, HEAD, OPTIONS");
	assert_lacks(&r[0], "Content-Length");
	assert_int_equal(r[1].status, 204);
	assert_int_equal(r[2].status, 200);
	assert_int_equal(hs.calls, 1);
}

static void
host_checks(void **state)
{
	static const char *const bad[] = {
		"GET /a HTTP/1.1\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a/b\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: [::1\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x:80x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n",
		"GET /a HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n",
		"HEAD /a HTTP/1.1\r\n\r\n",
	};
	static const char *const good[] = {
		"GET /a HTTP/1.0\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost:\r\n\r\n",
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fatal(f, bad[i], 400);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct resp r;

		fx_accept(f);
		fake_conn_feed_str(f->c, good[i]);
		responses(f->c, &r, 1, false);
		if (r.status != 200)
			fail_msg("%s-> %d", good[i], r.status);
		tw_conn_close(f->c);
		tw_conn_reap(f->loop);
	}
}

static void
body_framing_errors(void **state)
{
	struct fx *f = *state;

	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		     "Transfer-Encoding: chunked\r\n\r\nabc", 400);
	/* A chunked body is refused before the handler as far as it has
	 * come: bad framing 400, a chunk past the limit 413. */
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd", 400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n", 400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: gzip, chunked\r\n\r\n"
		     "100001\r\n", 413);
	expect_fatal(f, "GET /a HTTP/1.0\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: gzip\r\n\r\n", 501);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
		     400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		     400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		     "Content-Length: 2\r\n\r\nab", 400);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Content-Length: 1048577\r\n\r\n", 413);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\n"
		     "Content-Length: 99999999999999999999\r\n\r\n", 400);
}

static void
body_discarded_then_next(void **state)
{
	struct fx *f = *state;
	struct resp r[2];

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 5, 5\r\n\r\nGET /GET /b HTTP/1.1\r\n"
			   "Host: x\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_memory_equal(r[0].body, "/a", 2);
	assert_memory_equal(r[1].body, "/b", 2);
	assert_int_equal(hs.calls, 2);
	tw_conn_close(f->c);
	tw_conn_reap(f->loop);

	/* The body arrives in pieces after the response went out. */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 10\r\n\r\n0123");
	responses(f->c, r, 1, false);
	fake_conn_feed_str(f->c, "456");
	fake_conn_feed_str(f->c, "789GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_memory_equal(r[1].body, "/c", 2);
	assert_int_equal(fake_conn_unconsumed(f->c), 0);
}

/* A chunked body is decoded and discarded; the next request is read
 * right after its last CRLF, whether it came whole or in pieces. */
static void
chunked_discarded_then_next(void **state)
{
	struct fx *f = *state;
	struct resp r[2];

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n"
			   "5;x=y\r\nGET /\r\n2\r\nGE\r\n0\r\nT: v\r\n\r\n"
			   "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_memory_equal(r[0].body, "/a", 2);
	assert_memory_equal(r[1].body, "/b", 2);
	assert_int_equal(hs.calls, 2);
	tw_conn_close(f->c);
	tw_conn_reap(f->loop);

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Transfer-Encoding: chunked\r\n\r\nA\r\n0123");
	responses(f->c, r, 1, false);
	fake_conn_feed_str(f->c, "456");
	fake_conn_feed_str(f->c, "789\r\n0\r\n");
	fake_conn_feed_str(f->c, "\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_memory_equal(r[1].body, "/c", 2);
	assert_int_equal(fake_conn_unconsumed(f->c), 0);
	assert_false(tw_conn_closing(f->c));
	tw_conn_close(f->c);
	tw_conn_reap(f->loop);

	/* Bad framing after the answer went out: closed, no second answer. */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n1\r\n");
	responses(f->c, r, 1, false);
	fake_conn_feed_str(f->c, "xy\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 1, false);
	assert_true(tw_conn_closing(f->c));
	tw_conn_reap(f->loop);
}

static void
body_at_limit_is_discarded(void **state)
{
	struct fx *f = *state;
	char head[128];
	char *body = malloc(MAX_BODY);
	struct resp r[2];

	assert_non_null(body);
	memset(body, 'G', MAX_BODY);	/* looks like requests; it isn't */
	fx_accept(f);
	snprintf(head, sizeof(head), "GET /a HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: %d\r\n\r\n", MAX_BODY);
	fake_conn_feed_str(f->c, head);
	fake_conn_feed(f->c, body, MAX_BODY);
	fake_conn_feed_str(f->c, "GET /z HTTP/1.1\r\nHost: x\r\n\r\n");
	free(body);
	responses(f->c, r, 2, false);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(r[1].status, 200);
	assert_memory_equal(r[1].body, "/z", 2);
}

static void
parser_limits(void **state)
{
	struct fx *f = *state;
	struct tw_buf b = { 0 };
	int i;

	tw_buf_append_str(&b, "GET /");
	for (i = 0; i < 9000; i++)
		tw_buf_append_char(&b, 'a');
	tw_buf_append_str(&b, " HTTP/1.1\r\nHost: x\r\n\r\n");
	tw_buf_append_char(&b, '\0');
	expect_fatal(f, b.data, 414);
	tw_buf_reset(&b, 0);

	tw_buf_append_str(&b, "GET /a HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 120; i++)
		tw_buf_append_str(&b, "X-A: b\r\n");
	tw_buf_append_str(&b, "\r\n");
	tw_buf_append_char(&b, '\0');
	expect_fatal(f, b.data, 431);
	tw_buf_reset(&b, 0);

	tw_buf_append_str(&b, "GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ");
	for (i = 0; i < 17000; i++)
		tw_buf_append_char(&b, 'v');
	tw_buf_append_str(&b, "\r\n\r\n");
	tw_buf_append_char(&b, '\0');
	expect_fatal(f, b.data, 431);
	tw_buf_free(&b);

	expect_fatal(f, "GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505);
	expect_fatal(f, "GET /a HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400);
	expect_fatal(f, "GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400);
	expect_fatal(f, "\x01\r\n\r\n", 400);
}

static void
keepalive_request_cap(void **state)
{
	struct fx *f = *state;
	struct resp r[2];

	f->opts.max_keepalive_requests = 2;
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 2, false);
	assert_lacks(&r[0], "Connection");
	assert_has(&r[1], "Connection", "close");
	assert_lingers_then_closes(f->c);
	assert_int_equal(hs.calls, 2);
}

/* Lingering is bounded: its deadline closes it, and so does a client
 * that sends more than a megabyte after the last response. */
static void
linger_bounded(void **state)
{
	struct fx *f = *state;
	static char junk[64 * 1024];
	size_t i;

	f->opts.max_keepalive_requests = 1;
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(fake_conn_write_shut(f->c));
	assert_int_equal(fake_conn_timeout_ms(f->c), LINGER_MS);
	assert_int_equal(fake_conn_unconsumed(f->c), 0);
	fake_conn_fire_timeout(f->c);
	assert_true(tw_conn_closing(f->c));
	tw_conn_reap(f->loop);

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
	memset(junk, 'j', sizeof(junk));
	for (i = 0; i < 16; i++)
		fake_conn_feed(f->c, junk, sizeof(junk));
	assert_false(tw_conn_closing(f->c));	/* exactly 1 MiB: still */
	fake_conn_feed(f->c, junk, 1);
	assert_true(tw_conn_closing(f->c));
	assert_int_equal(hs.calls, 2);
}

static void
timeout_partial_request_408(void **state)
{
	struct fx *f = *state;
	struct resp r;
	size_t len;

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HT");
	(void)fake_conn_output(f->c, &len);
	assert_int_equal(len, 0);
	assert_int_equal(fake_conn_timeout_ms(f->c), HEADER_MS);
	assert_int_equal(fake_conn_timeout_flags(f->c), 0);
	fake_conn_fire_timeout(f->c);
	responses(f->c, &r, 1, false);
	assert_int_equal(r.status, 408);
	assert_has(&r, "Connection", "close");
	assert_lingers_then_closes(f->c);
	assert_int_equal(hs.calls, 0);
}

static void
timeout_idle_closes_silently(void **state)
{
	struct fx *f = *state;
	size_t len, before;

	/* A connection that never sent anything. */
	fx_accept(f);
	fake_conn_fire_timeout(f->c);
	(void)fake_conn_output(f->c, &len);
	assert_int_equal(len, 0);
	assert_true(tw_conn_closing(f->c));
	tw_conn_reap(f->loop);

	/* Idle after a response (keep-alive wait). */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	(void)fake_conn_output(f->c, &before);
	assert_true(before > 0);
	assert_int_equal(fake_conn_timeout_ms(f->c), KEEPALIVE_MS);
	fake_conn_fire_timeout(f->c);
	(void)fake_conn_output(f->c, &len);
	assert_int_equal(len, before);
	assert_true(tw_conn_closing(f->c));
}

static void
eof_handling(void **state)
{
	struct fx *f = *state;
	struct resp r;
	size_t len;

	/* Half a request, then EOF: closed, nothing sent. */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHo");
	fake_conn_feed_eof(f->c);
	(void)fake_conn_output(f->c, &len);
	assert_int_equal(len, 0);
	assert_true(tw_conn_closing(f->c));
	tw_conn_reap(f->loop);

	/* A whole request, then EOF: answered, then closed. */
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	fake_conn_feed_eof(f->c);
	responses(f->c, &r, 1, false);
	assert_int_equal(r.status, 200);
	assert_true(tw_conn_closing(f->c));
}

static void
handler_errors_and_files(void **state)
{
	struct fx *f = *state;
	struct resp r[6];

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /decline HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /enoent HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /status/416 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /file HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /status/503 HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(f->c, r, 6, false);
	assert_int_equal(r[0].status, 404);
	assert_has(&r[0], "Content-Type", "text/html; charset=utf-8");
	assert_non_null(memmem(r[0].body, r[0].body_len, "404 Not Found", 13));
	assert_null(memmem(r[0].body, r[0].body_len, "dropped", 7));
	assert_int_equal(r[1].status, 404);
	assert_int_equal(r[2].status, 404);
	assert_int_equal(r[3].status, 416);
	assert_has(&r[3], "Content-Range", "bytes */5");
	assert_int_equal(r[4].status, 200);
	assert_int_equal(r[4].body_len, 10);
	assert_memory_equal(r[4].body, "23456789ab", 10);
	assert_int_equal(r[5].status, 503);
	/* Error statuses from a handler keep the connection. */
	assert_false(tw_conn_closing(f->c));
	/* The file went out before http closed it, and it is closed now. */
	assert_false(fake_conn_saw_bad_fd());
	assert_true(hs.last_fd >= 0);
	assert_int_equal(fcntl(hs.last_fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static void
connection_cap_503(void **state)
{
	struct fx *f = *state;
	struct tw_conn *first, *second;
	struct resp r;

	f->opts.max_connections = 1;
	first = fx_accept(f);
	/* Part of a head: busy, not to be shed (nginx's rule). */
	fake_conn_feed_str(first, "GET /a HTTP/1.1\r\nHo");
	second = fake_conn_new(f->loop, "192.0.2.8");
	assert_int_equal(tw_http_accept(second, f->srv), -EBUSY);
	f->c = second;
	responses(second, &r, 1, false);
	assert_int_equal(r.status, 503);
	assert_has(&r, "Connection", "close");
	assert_lingers_then_closes(second);
	assert_false(tw_conn_closing(first));
	tw_conn_reap(f->loop);
	assert_int_equal(tw_conn_count(f->loop), 1);
	assert_int_equal(atomic_load(&f->stats->shed), 0);
}

/* At the cap a connection that has sent nothing makes room: the oldest
 * goes, silently, and the new one is served. */
static void
connection_cap_sheds_oldest_fresh(void **state)
{
	struct fx *f = *state;
	struct tw_conn *a, *b, *c, *d;
	struct resp r;
	size_t len;

	f->opts.max_connections = 2;
	a = fx_accept(f);
	b = fx_accept(f);
	c = fx_accept(f);
	assert_true(tw_conn_closing(a));
	(void)fake_conn_output(a, &len);
	assert_int_equal(len, 0);
	assert_false(tw_conn_closing(b));
	assert_false(tw_conn_closing(c));
	/* Two in one batch: a's count goes only at the reap, and the next
	 * accept still sheds one, not two. */
	d = fx_accept(f);
	assert_true(tw_conn_closing(b));
	assert_false(tw_conn_closing(c));
	assert_false(tw_conn_closing(d));
	tw_conn_reap(f->loop);
	assert_int_equal(tw_conn_count(f->loop), 2);
	assert_int_equal(atomic_load(&f->stats->active), 2);
	assert_int_equal(atomic_load(&f->stats->shed), 2);
	assert_int_equal(atomic_load(&f->stats->handled), 4);
	fake_conn_feed_str(d, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(d, &r, 1, false);
	assert_int_equal(r.status, 200);
}

/* An idle one that closed on its own earlier in the batch is still
 * counted until the reap: its place goes to the new one, nothing shed. */
static void
connection_cap_closing_idle_makes_room(void **state)
{
	struct fx *f = *state;
	struct tw_conn *a, *b, *c;

	f->opts.max_connections = 2;
	a = fx_accept(f);
	fake_conn_feed_str(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	b = fx_accept(f);
	/* a idles the longest, and its client leaves. */
	fake_conn_feed_eof(a);
	assert_true(tw_conn_closing(a));
	c = fx_accept(f);
	assert_false(tw_conn_closing(b));
	assert_false(tw_conn_closing(c));
	assert_int_equal(atomic_load(&f->stats->shed), 0);
	tw_conn_reap(f->loop);
	assert_int_equal(atomic_load(&f->stats->active), 2);
}

/* Idle keep-alive connections are shed too, in the order they became
 * idle, not the order they were accepted; a busy one never is. */
static void
connection_cap_sheds_longest_idle(void **state)
{
	struct fx *f = *state;
	struct tw_conn *a, *b, *busy, *c, *d, *e;
	struct resp r;

	f->opts.max_connections = 3;
	a = fx_accept(f);
	b = fx_accept(f);
	busy = fx_accept(f);
	fake_conn_feed_str(busy, "GET /b HTTP/1.1\r\n");
	/* a idles after b: b (reusable since its accept) is the older. */
	fake_conn_feed_str(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(a, &r, 1, false);
	assert_int_equal(r.status, 200);
	assert_false(tw_conn_closing(a));
	c = fx_accept(f);
	assert_true(tw_conn_closing(b));
	assert_false(tw_conn_closing(a));
	d = fx_accept(f);
	assert_true(tw_conn_closing(a));
	assert_false(tw_conn_closing(c));
	/* c has begun a request: only d is left to shed, then nothing. */
	fake_conn_feed_str(c, "GET");
	e = fx_accept(f);
	assert_true(tw_conn_closing(d));
	fake_conn_feed_str(e, "G");
	f->c = fake_conn_new(f->loop, "192.0.2.9");
	assert_int_equal(tw_http_accept(f->c, f->srv), -EBUSY);
	responses(f->c, &r, 1, false);
	assert_int_equal(r.status, 503);
	assert_lingers_then_closes(f->c);
	assert_false(tw_conn_closing(busy));
	assert_false(tw_conn_closing(c));
	assert_false(tw_conn_closing(e));
	tw_conn_reap(f->loop);
	assert_int_equal(atomic_load(&f->stats->shed), 3);
	assert_int_equal(tw_conn_count(f->loop), 3);
}

static void
closed_callback_runs_once(void **state)
{
	struct fx *f = *state;
	unsigned before = fake_conn_closed_total();

	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /a HTTP/1.0\r\n\r\n");
	assert_closes_at_once(f->c);
	tw_conn_reap(f->loop);
	assert_int_equal(fake_conn_closed_total(), before + 1);
	assert_int_equal(tw_conn_count(f->loop), 0);
}

/*
 * Drain: the reusable connections (idle in keep-alive, or nothing sent
 * yet) are not closed at once, they get the grace: a request that comes
 * in it is answered with Connection: close, and only a silent one is
 * closed when it ends. A busy one finishes with Connection: close.
 */
static void
drain_gives_idle_a_grace(void **state)
{
	struct fx *f = *state;
	struct tw_conn *idle, *fresh, *busy, *late;
	struct resp r[2];
	size_t len;

	idle = fx_accept(f);
	fake_conn_feed_str(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	late = fx_accept(f);
	fake_conn_feed_str(late, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	fresh = fx_accept(f);
	busy = fx_accept(f);
	fake_conn_feed_str(busy, "GET /b HTTP/1.1\r\nHo");
	tw_http_drain(f->loop, f->srv);
	assert_false(tw_conn_closing(idle));
	assert_int_equal(fake_conn_timeout_ms(idle), GRACE_MS);
	assert_false(tw_conn_closing(fresh));
	assert_int_equal(fake_conn_timeout_ms(fresh), GRACE_MS);
	assert_false(tw_conn_closing(busy));
	assert_int_equal(fake_conn_timeout_ms(busy), HEADER_MS);

	/* A request in the grace: answered, then closed. */
	fake_conn_output_clear(late);
	fake_conn_feed_str(late, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(late, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Connection", "close");
	assert_lingers_then_closes(late);

	/* The first request of a fresh connection, likewise. */
	fake_conn_feed_str(fresh, "GET /d HTTP/1.0\r\nConnection: keep-alive"
			   "\r\n\r\n");
	responses(fresh, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Connection", "close");
	assert_lingers_then_closes(fresh);

	fake_conn_feed_str(busy, "st: x\r\n\r\n");
	responses(busy, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Connection", "close");
	assert_lingers_then_closes(busy);

	/* Silent for the whole grace: closed without a word. */
	fake_conn_output_clear(idle);
	fake_conn_fire_timeout(idle);
	assert_true(tw_conn_closing(idle));
	(void)fake_conn_output(idle, &len);
	assert_int_equal(len, 0);
	tw_conn_reap(f->loop);
	assert_int_equal(tw_conn_count(f->loop), 0);
}

/* A drain while a response is being made: it was promised keep-alive, so
 * the connection goes idle after it, for the grace only, and its next
 * request is the last. */
static void
drain_during_response(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c;
	struct resp r[2];

	hs.drain_loop = f->loop;
	c = fx_accept(f);
	fake_conn_feed_str(c, "GET /drain HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(c, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_lacks(&r[0], "Connection");
	assert_false(tw_conn_closing(c));
	assert_false(fake_conn_write_shut(c));
	assert_int_equal(fake_conn_timeout_ms(c), GRACE_MS);
	fake_conn_output_clear(c);
	fake_conn_feed_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(c, r, 1, false);
	assert_int_equal(r[0].status, 200);
	assert_has(&r[0], "Connection", "close");
	assert_lingers_then_closes(c);
	hs.drain_loop = NULL;
}

/* A keepalive_timeout (header_timeout for a connection that sent
 * nothing) shorter than the grace is the grace: a drain never keeps a
 * connection longer than it would have stayed anyway. */
static void
drain_grace_capped_by_own_timeout(void **state)
{
	struct fx *f = *state;
	struct tw_conn *idle, *fresh;

	f->opts.keepalive_timeout_ms = 500;
	idle = fx_accept(f);
	fake_conn_feed_str(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(fake_conn_timeout_ms(idle), 500);
	f->opts.header_timeout_ms = 700;
	fresh = fake_conn_new(f->loop, "192.0.2.7");
	assert_int_equal(tw_http_accept(fresh, f->srv), 0);
	tw_http_drain(f->loop, f->srv);
	assert_int_equal(fake_conn_timeout_ms(idle), 500);
	assert_int_equal(fake_conn_timeout_ms(fresh), 700);
	fake_conn_fire_timeout(idle);
	assert_true(tw_conn_closing(idle));
	fake_conn_fire_timeout(fresh);
	assert_true(tw_conn_closing(fresh));
}

static void
other_event(struct tw_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static unsigned other_closed;

static void
other_on_closed(struct tw_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
	other_closed++;
}

/* Another protocol's connection on the loop (an upstream, say): drain
 * walks http's own list, so it is neither closed nor read as http state.
 * Its ctx is zeros, which http would take for an idle connection. */
static void
drain_leaves_other_protocols(void **state)
{
	static const struct tw_conn_ops other_ops = {
		.on_data = other_event,
		.on_drained = other_event,
		.on_timeout = other_event,
		.on_closed = other_on_closed,
	};
	struct fx *f = *state;
	uint64_t zeros[32] = { 0 };
	struct tw_conn *idle, *up;

	idle = fx_accept(f);
	fake_conn_feed_str(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	up = fake_conn_new(f->loop, "192.0.2.9");
	tw_conn_set_ops(up, &other_ops, zeros);
	tw_http_drain(f->loop, f->srv);
	assert_int_equal(fake_conn_timeout_ms(idle), GRACE_MS);
	fake_conn_fire_timeout(idle);
	assert_true(tw_conn_closing(idle));
	assert_false(tw_conn_closing(up));
	tw_conn_reap(f->loop);
	assert_int_equal(tw_conn_count(f->loop), 1);
	other_closed = 0;
	tw_conn_close(up);
	tw_conn_reap(f->loop);
	assert_int_equal(other_closed, 1);
}

/* Two loops on one thread: draining one leaves the other's connections
 * and keep-alive alone; each loop counts and closes only its own. */
static void
two_loops_drain_apart(void **state)
{
	struct fx *f = *state;
	struct tw_loop *other;
	struct tw_conn *a, *b;
	struct resp r;
	int err;

	other = tw_loop_create(64, &err);
	assert_non_null(other);
	assert_int_equal(tw_http_loop_init(other, f->srv), 0);
	a = fx_accept(f);
	fake_conn_feed_str(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	b = fake_conn_new(other, "192.0.2.8");
	assert_int_equal(tw_http_accept(b, f->srv), 0);
	fake_conn_feed_str(b, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	tw_http_drain(f->loop, f->srv);
	assert_int_equal(fake_conn_timeout_ms(a), GRACE_MS);
	assert_int_equal(fake_conn_timeout_ms(b), KEEPALIVE_MS);
	fake_conn_fire_timeout(a);
	assert_true(tw_conn_closing(a));
	assert_false(tw_conn_closing(b));
	fake_conn_output_clear(b);
	fake_conn_feed_str(b, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
	responses(b, &r, 1, false);
	assert_int_equal(r.status, 200);
	assert_false(tw_conn_closing(b));
	tw_conn_reap(f->loop);
	assert_int_equal(tw_conn_count(f->loop), 0);
	assert_int_equal(tw_conn_count(other), 1);
	tw_conn_close_all(other);
	assert_int_equal(tw_conn_count(other), 0);
	tw_http_loop_exit(other, f->srv);
	tw_loop_destroy(other);
}

/* The shared counters: every gauge returns to 0 once all is closed. */
static void
stats_gauges_balance(void **state)
{
	struct fx *f = *state;
	struct tw_stats *st = f->stats;
	struct tw_conn *a, *b, *c;

	a = fx_accept(f);
	fake_conn_feed_str(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	b = fx_accept(f);
	fake_conn_feed_str(b, "GET /b HTTP/1.1\r\nHo");
	c = fx_accept(f);
	fake_conn_feed_str(c, "GET /c HTTP/1.0\r\n\r\n");
	assert_closes_at_once(c);
	tw_conn_reap(f->loop);
	assert_int_equal(atomic_load(&st->accepted), 3);
	assert_int_equal(atomic_load(&st->handled), 3);
	assert_int_equal(atomic_load(&st->active), 2);
	assert_int_equal(atomic_load(&st->waiting), 1);	/* a */
	assert_int_equal(atomic_load(&st->reading), 1);	/* b */
	assert_int_equal(atomic_load(&st->writing), 0);
	assert_int_equal(atomic_load(&st->status[2]), 2);
	tw_conn_close_all(f->loop);
	assert_int_equal(atomic_load(&st->active), 0);
	assert_int_equal(atomic_load(&st->waiting), 0);
	assert_int_equal(atomic_load(&st->reading), 0);
	assert_int_equal(atomic_load(&st->writing), 0);
}

/* Read the whole access log file. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	(void)close(fd);
	return p;
}

static void
access_log_escapes(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/tw-http-log-XXXXXX";
	char want[1024];
	size_t len;
	char *log;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(tw_log_access_open(path), 0);
	fx_accept(f);
	fake_conn_feed_str(f->c, "GET /q?x=\"y\"\\z HTTP/1.1\r\nHost: h\r\n"
			   "User-Agent: ua\t\"q\"\\\xc3\xa9 \x7e\r\n"
			   "Referer: http://r/\"\r\n\r\n"
			   "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n"
			   "GET /x HTTP/9.9\r\n\r\n");
	assert_int_equal(tw_log_access_open("off"), 0);
	log = slurp(path, &len);
	(void)unlink(path);
	snprintf(want, sizeof(want),
		 "192.0.2.7 - - [%s] \"GET /q?x=\\x22y\\x22\\x5cz HTTP/1.1\" "
		 "200 2 \"http://r/\\x22\" \"ua\\x09\\x22q\\x22\\x5c\\xc3\\xa9 ~\"\n"
		 "192.0.2.7 - - [%s] \"HEAD /h HTTP/1.1\" 200 - \"-\" \"-\"\n"
		 "192.0.2.7 - - [%s] \"-\" 505 ",
		 tw_clock_log_date(), tw_clock_log_date(), tw_clock_log_date());
	if (len < strlen(want) || memcmp(log, want, strlen(want)) != 0)
		fail_msg("got:\n%s\nwant prefix:\n%s", log, want);
	/* The 505 line: a byte count, two "-" headers, one newline. */
	assert_int_equal(log[len - 1], '\n');
	assert_non_null(strstr(log + strlen(want), " \"-\" \"-\"\n"));
	assert_int_equal(memchr(log, '\n', len) != NULL, 1);
	{
		size_t i, lines = 0;

		for (i = 0; i < len; i++)
			lines += log[i] == '\n';
		assert_int_equal(lines, 3);
	}
	free(log);
}

/* A line of the log at path: the nth (0-based), copied into out. */
static void
log_line(const char *log, size_t n, char *out, size_t cap)
{
	const char *p = log, *e;

	while (n-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	e = strchr(p, '\n');
	assert_non_null(e);
	assert_true((size_t)(e - p) < cap);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

/* What protects a connection reaches handlers (req->secure) and the
 * json log (tls_protocol, tls_cipher: "-" before a handshake named
 * them), never the combined or common lines, which stay nginx's. */
static void
access_log_names_tls(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/tw-http-log-XXXXXX";
	char line[1024];
	size_t len;
	char *log;
	int fd = mkstemp(path);
	struct tw_conn *c;

	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(tw_log_access_open(path), 0);
	f->opts.log_format = TW_LOG_FORMAT_JSON;
	c = fx_accept(f);
	fake_conn_feed_str(c, "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_false(hs.secure);
	fake_conn_set_security(c, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
	fake_conn_feed_str(c, "GET /tls HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_true(hs.secure);
	fake_conn_set_security(c, NULL, NULL);
	fake_conn_feed_str(c, "GET /early HTTP/1.1\r\nHost: h\r\n\r\n");
	f->opts.log_format = TW_LOG_FORMAT_COMBINED;
	fake_conn_set_security(c, "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256");
	fake_conn_feed_str(c, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_true(hs.secure);
	assert_int_equal(tw_log_access_open("off"), 0);
	log = slurp(path, &len);
	(void)unlink(path);
	log_line(log, 0, line, sizeof(line));
	assert_null(strstr(line, "tls"));
	assert_true(line[strlen(line) - 1] == '}');
	log_line(log, 1, line, sizeof(line));
	assert_non_null(strstr(line, "\"uri\":\"/tls\""));
	assert_non_null(strstr(line, ",\"tls_protocol\":\"TLSv1.3\","
			       "\"tls_cipher\":\"TLS_AES_128_GCM_SHA256\"}"));
	log_line(log, 2, line, sizeof(line));
	assert_non_null(strstr(line, ",\"tls_protocol\":\"-\","
			       "\"tls_cipher\":\"-\"}"));
	log_line(log, 3, line, sizeof(line));
	assert_non_null(strstr(line, "\"GET /c HTTP/1.1\" 200 2 \"-\" \"-\""));
	assert_null(strstr(line, "TLS"));
	assert_int_equal(line[strlen(line) - 1], '"');
	free(log);
}

/* ---- asynchronous exchanges --------------------------------------------- */

/* The async handler: takes every method for "/a..." and records what
 * http tells it; the test then drives the exchange by hand. */
static struct {
	struct tw_http_exchange *x;
	unsigned bodies;	/* on_body calls */
	unsigned drains;
	unsigned aborts;
	bool chunked;
	uint64_t len;
} as;

static void
as_body(struct tw_http_exchange *x, void *ctx)
{
	(void)ctx;
	assert_ptr_equal(x, as.x);
	as.bodies++;
}

static void
as_drained(struct tw_http_exchange *x, void *ctx)
{
	(void)x;
	(void)ctx;
	as.drains++;
}

static void
as_abort(struct tw_http_exchange *x, void *ctx)
{
	(void)x;
	(void)ctx;
	as.aborts++;
}

static const struct tw_http_exchange_ops as_ops = {
	.on_body = as_body, .on_drained = as_drained, .on_abort = as_abort,
};

static int
as_handle(const struct tw_http_req *req, struct tw_http_res *res,
	  void *inst)
{
	(void)res;
	(void)inst;
	if (req->path_len < 2 || memcmp(req->path, "/a", 2) != 0)
		return TW_DECLINED;
	assert_non_null(req->x);
	as.x = req->x;
	as.chunked = req->body_chunked;
	as.len = req->body_len;
	tw_http_async(req->x, &as_ops, NULL);
	return TW_HTTP_ASYNC;
}

static const struct tw_handler as_handler = {
	.name = "async",
	.any_method = true,
	.handle = as_handle,
};

static int
as_setup(void **state)
{
	struct fx *f;

	if (fx_setup(state) != 0)
		return -1;
	f = *state;
	memset(&as, 0, sizeof(as));
	/* A new server on the same loop: the async route, then the test's. */
	tw_http_loop_exit(f->loop, f->srv);
	tw_http_destroy(f->srv);
	f->route = (struct tw_http_route){ &as_handler, NULL };
	f->srv = tw_http_create(&f->opts, &f->route, 1);
	return f->srv != NULL && tw_http_loop_init(f->loop, f->srv) == 0 ?
	       0 : -1;
}

/* Run what http posted (sends, on_body) as the loop would. */
static void
run_tasks(struct fx *f)
{
	struct loop_guard g = { 0 };
	int i;

	for (i = 0; i < 4; i++) {
		tw_loop_unstop(f->loop);
		loop_guard_run(f->loop, &g, 0);
	}
	tw_loop_unstop(f->loop);
}

static size_t
output_is(struct tw_conn *c, const char *want_tail)
{
	size_t len, n = strlen(want_tail);
	const char *out = fake_conn_output(c, &len);

	if (len < n || memcmp(out + len - n, want_tail, n) != 0)
		fail_msg("output ends %.*s, want %s", (int)(len < 80 ? len : 80),
			 len < 80 ? out : out + len - 80, want_tail);
	return len;
}

/* A chunked request body comes decoded, as it arrives; an unknown
 * response length goes chunked to HTTP/1.1; the connection then serves
 * the next request. */
static void
async_chunked_both_ways(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	const char *p;
	char v[64];
	struct resp r;
	size_t len;

	fake_conn_feed_str(c, "POST /a HTTP/1.1\r\nHost: x\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n");
	assert_non_null(as.x);
	assert_true(as.chunked);
	run_tasks(f);
	assert_true(as.bodies >= 1);
	assert_int_equal(tw_http_body_read(as.x, &p), 3);
	assert_memory_equal(p, "abc", 3);
	tw_http_body_consume(as.x, 3);
	assert_int_equal(tw_http_body_read(as.x, &p), -EAGAIN);
	fake_conn_feed_str(c, "2\r\nde\r\n0\r\n\r\n");
	assert_int_equal(tw_http_body_read(as.x, &p), 2);
	assert_memory_equal(p, "de", 2);
	tw_http_body_consume(as.x, 2);
	assert_int_equal(tw_http_body_read(as.x, &p), 0);

	assert_int_equal(tw_http_respond(as.x, 200, "X-Up: 1\r\n", 9,
					 TW_HTTP_LEN_UNKNOWN), 0);
	assert_true(tw_http_writable(as.x));
	assert_int_equal(tw_http_write(as.x, "hello", 5), 0);
	assert_int_equal(tw_http_write(as.x, "!", 1), 0);
	tw_http_end(as.x);
	run_tasks(f);
	len = output_is(c, "\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
	p = fake_conn_output(c, &len);
	next_resp(&p, p + len, true, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(resp_header(&r, "Transfer-Encoding", v, sizeof(v)),
			    "chunked");
	assert_string_equal(resp_header(&r, "X-Up", v, sizeof(v)), "1");
	assert_null(resp_header(&r, "Content-Length", v, sizeof(v)));
	assert_null(resp_header(&r, "Connection", v, sizeof(v)));

	/* keep-alive: the next request is routed */
	fake_conn_output_clear(c);
	as.x = NULL;
	fake_conn_feed_str(c, "GET /a2 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(as.x);
	assert_int_equal(tw_http_respond(as.x, 204, NULL, 0, 0), 0);
	tw_http_end(as.x);
	run_tasks(f);
	responses(c, &r, 1, true);
	assert_int_equal(r.status, 204);
	assert_int_equal(as.aborts, 0);
}

/* HTTP/1.0 cannot read chunked: the close frames the body. */
static void
async_http10_close_delimited(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	char v[64];
	struct resp r;
	const char *p;
	size_t len;

	fake_conn_feed_str(c, "GET /a HTTP/1.0\r\nConnection: keep-alive"
			   "\r\n\r\n");
	assert_int_equal(tw_http_respond(as.x, 200, NULL, 0,
					 TW_HTTP_LEN_UNKNOWN), 0);
	assert_int_equal(tw_http_write(as.x, "raw", 3), 0);
	tw_http_end(as.x);
	run_tasks(f);
	output_is(c, "\r\n\r\nraw");
	p = fake_conn_output(c, &len);
	next_resp(&p, p + len, true, &r);
	assert_string_equal(resp_header(&r, "Connection", v, sizeof(v)),
			    "close");
	assert_null(resp_header(&r, "Transfer-Encoding", v, sizeof(v)));
	assert_true(fake_conn_write_shut(c) || tw_conn_closing(c));
}

/* A known length is passed as Content-Length; HEAD gets it without a
 * body. */
static void
async_length_and_head(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	struct resp r;
	char v[64];

	fake_conn_feed_str(c, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(tw_http_respond(as.x, 200, NULL, 0, 1234), 0);
	assert_int_equal(tw_http_write(as.x, "ignored", 7), 0);
	tw_http_end(as.x);
	run_tasks(f);
	responses(c, &r, 1, true);
	assert_string_equal(resp_header(&r, "Content-Length", v, sizeof(v)),
			    "1234");
	fake_conn_output_clear(c);
	fake_conn_feed_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(tw_http_respond(as.x, 200, NULL, 0, 4), 0);
	assert_int_equal(tw_http_write(as.x, "body", 4), 0);
	tw_http_end(as.x);
	run_tasks(f);
	responses(c, &r, 1, false);
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "body", 4);
}

/* Backpressure: a body larger than the read buffer is read only as the
 * handler consumes it. */
static void
async_body_backpressure(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	static char big[100000];
	size_t got = 0;
	const char *p;
	ssize_t n;

	memset(big, 'b', sizeof(big));
	fake_conn_feed_str(c, "PUT /a HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 100000\r\n\r\n");
	fake_conn_feed(c, big, sizeof(big));
	run_tasks(f);
	assert_int_equal(as.len, 100000);
	while ((n = tw_http_body_read(as.x, &p)) > 0) {
		/* never more than one read buffer at a time */
		assert_true(n <= TW_CONN_RBUF_SIZE);
		assert_true(fake_conn_unconsumed(c) == sizeof(big) - got);
		tw_http_body_consume(as.x, (size_t)n);
		got += (size_t)n;
		run_tasks(f);
	}
	assert_int_equal(n, 0);
	assert_int_equal(got, sizeof(big));
}

/* Failing before the head: the error page; after it: what was queued
 * goes, then the connection closes. */
static void
async_fail_before_and_after_head(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	struct resp r;

	fake_conn_feed_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	tw_http_fail(as.x, 504);
	run_tasks(f);
	responses(c, &r, 1, false);
	assert_int_equal(r.status, 504);
	assert_non_null(memmem(r.body, r.body_len, "504 Gateway Timeout", 19));
	assert_false(tw_conn_closing(c));	/* keep-alive goes on */

	fake_conn_output_clear(c);
	fake_conn_feed_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(tw_http_respond(as.x, 200, NULL, 0, 10), 0);
	assert_int_equal(tw_http_write(as.x, "12345", 5), 0);
	tw_http_fail(as.x, 502);
	run_tasks(f);
	output_is(c, "\r\n\r\n12345");
	assert_true(tw_conn_closing(c));
	tw_conn_reap(f->loop);
	assert_int_equal(as.aborts, 0);
}

/* The client leaving mid-exchange is told to the handler once. */
static void
async_client_gone_aborts(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);

	fake_conn_feed_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(as.x);
	tw_conn_close(c);
	tw_conn_reap(f->loop);
	assert_int_equal(as.aborts, 1);
}

/* Expect: 100-continue is answered when the body is first wanted. */
static void
async_expect_continue(void **state)
{
	struct fx *f = *state;
	struct tw_conn *c = fx_accept(f);
	const char *p;

	fake_conn_feed_str(c, "POST /a HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
	run_tasks(f);
	assert_int_equal(tw_http_body_read(as.x, &p), -EAGAIN);
	run_tasks(f);
	output_is(c, "HTTP/1.1 100 Continue\r\n\r\n");
	fake_conn_feed_str(c, "ok");
	assert_int_equal(tw_http_body_read(as.x, &p), 2);
}

int
main(void)
{
#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
#define AS(t) cmocka_unit_test_setup_teardown(t, as_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		FX(get_exact_response),
		FX(absolute_form_target),
		FX(head_has_no_body),
		FX(pipelined_in_order),
		FX(http10_closes_unless_keepalive),
		FX(connection_close_honoured),
		FX(methods_405_and_501),
		FX(options_204),
		FX(host_checks),
		FX(body_framing_errors),
		FX(body_discarded_then_next),
		FX(chunked_discarded_then_next),
		FX(body_at_limit_is_discarded),
		FX(parser_limits),
		FX(keepalive_request_cap),
		FX(linger_bounded),
		FX(timeout_partial_request_408),
		FX(timeout_idle_closes_silently),
		FX(eof_handling),
		FX(handler_errors_and_files),
		FX(connection_cap_503),
		FX(connection_cap_sheds_oldest_fresh),
		FX(connection_cap_sheds_longest_idle),
		FX(connection_cap_closing_idle_makes_room),
		FX(closed_callback_runs_once),
		FX(drain_gives_idle_a_grace),
		FX(drain_during_response),
		FX(drain_grace_capped_by_own_timeout),
		FX(drain_leaves_other_protocols),
		FX(two_loops_drain_apart),
		FX(stats_gauges_balance),
		FX(access_log_escapes),
		FX(access_log_names_tls),
		AS(async_chunked_both_ways),
		AS(async_http10_close_delimited),
		AS(async_length_and_head),
		AS(async_body_backpressure),
		AS(async_fail_before_and_after_head),
		AS(async_client_gone_aborts),
		AS(async_expect_continue),
	};
#undef FX
#undef AS

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
