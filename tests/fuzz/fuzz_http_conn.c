/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for http's connection state machine: whole
 * connections driven through modules/http/http.c over the fake conn of
 * tests/unit/support (no sockets, no loop running). The input is a
 * script of events: bytes arriving in pieces of any size (raw, or canned
 * request fragments so requests, pipelining and chunked bodies come up
 * often), the peer reading its output or not, EOF, a reset, timeouts
 * firing, a graceful drain, and up to MAXC connections against a cap of
 * two. A cheap handler answers from the path alone and numbers its
 * responses, so the fuzzer explores framing and state, not a filesystem.
 *
 * After every event each connection's new output must be a sequence of
 * whole, well-formed HTTP/1.1 responses: status line, header lines of
 * token names and values free of control bytes, Date and Server, one
 * Content-Length framing exactly the body that follows (none only for
 * 204/304, no body for HEAD), the handler's responses in order and none
 * lost once the peer reads; never more responses than request heads
 * could have arrived; nothing after a Connection: close response and the
 * sending side shut once it is read; Connection: close on every error
 * http answers itself that leaves the stream unframed, and after a
 * drain. At the end, EOF from every peer closes every connection. ASan
 * and LSan catch use-after-free and leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stats.h"
#include "http/http.h"
#include "net/loop.h"
#include "support/fake_conn.h"

#define CHECK(c)							\
	do {								\
		if (!(c))						\
			abort();					\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXC	3	/* connections; the cap is one fewer */
#define MAXSEQ	64	/* handler calls per connection (keep-alive cap 8) */
#define MAXOPS	4096

/* What the harness knows of one connection. */
struct fc {
	struct tw_conn *c;
	bool alive;		/* not reaped yet */
	bool eof;		/* the peer shut down its side */
	bool stalled;		/* the peer is not reading */
	bool close_seen;	/* a Connection: close response came */
	unsigned char last[2];	/* the last two bytes fed */
	unsigned heads;		/* request heads that can have arrived */
	unsigned resp;		/* responses seen */
	unsigned resp_keep;	/* ... without Connection: close */
	unsigned handled;	/* handler calls */
	unsigned next_seq;	/* the handler response expected next */
	unsigned drain_seq;	/* handler calls at the drain, or UINT_MAX */
	bool head[MAXSEQ];	/* handler call n was a HEAD */
};

static struct fc fcs[MAXC];
static unsigned nfc;
static struct tw_stats *stats;
static struct fc *cur;	/* the connection whose event runs */
static bool drained;

/* ---- the handler ---------------------------------------------------- */

static int inst_token;

/* A file's bytes for FILE segments, in memory (no filesystem). "/file"
 * hands http a descriptor of its own to close; "/cached" the shared one
 * with a release callback, as the open-file cache does: every one handed
 * out must come back exactly once. */
#define FILE_DATA "/file-0123456789"
static int memfd = -1;
static int owned[MAXSEQ * MAXC];	/* descriptors given to http */
static unsigned nowned;
static int cached_out;			/* shared ones not released */

static void
cached_release(void *ctx)
{
	CHECK(ctx == &cached_out && cached_out > 0);
	cached_out--;
}

static bool
path_is(const struct tw_http_req *req, const char *s)
{
	return req->path_len == strlen(s) &&
	       memcmp(req->path, s, req->path_len) == 0;
}

static void
add_seg(struct tw_http_res *res, enum tw_http_seg_kind kind,
	const char *mem, uint64_t off, uint64_t len)
{
	struct tw_http_seg *s = &res->segs[res->nseg++];

	s->kind = kind;
	s->mem = mem;
	s->off = off;
	s->len = len;
}

/*
 * Every response carries X-Fuzz-Seq (its number on the connection) and
 * X-Fuzz-Path (the path as parsed: any CR or LF in it would show as a
 * broken header). "/status/4NN" or "/status/5NN": that error; "/decline":
 * not taken (404); "/enoent": -ENOENT; "/empty": 200 without a body;
 * "/304": 304 without Content-Length; "/file", "/cached": body, file and
 * body segments ("/file500": then 500); "/multi": a body in three segments
 * of two kinds; "/many": every segment a response may have; anything
 * else: 200 with the path as the body.
 */
static int
fz_handle(const struct tw_http_req *req, struct tw_http_res *res, void *inst)
{
	static const char mem[] = "0123456789";
	struct fc *f = cur;
	unsigned seq;
	size_t i;

	CHECK(inst == &inst_token && f != NULL);
	CHECK(req->path_len > 0 && req->path[0] == '/');
	CHECK(req->method == TW_HTTP_GET || req->method == TW_HTTP_HEAD);
	seq = f->handled++;
	CHECK(seq < MAXSEQ);
	f->head[seq] = req->method == TW_HTTP_HEAD;
	tw_buf_append_str(res->headers, "X-Fuzz-Seq: ");
	tw_buf_append_u64(res->headers, seq);
	tw_buf_append_str(res->headers, "\r\nX-Fuzz-Path: ");
	tw_buf_append(res->headers, req->path, req->path_len);
	tw_buf_append_str(res->headers, "\r\n");
	if (req->path_len == 11 && memcmp(req->path, "/status/", 8) == 0 &&
	    (req->path[8] == '4' || req->path[8] == '5') &&
	    req->path[9] >= '0' && req->path[9] <= '9' &&
	    req->path[10] >= '0' && req->path[10] <= '9') {
		tw_buf_append_str(res->body, "dropped");
		add_seg(res, TW_HTTP_SEG_BODY, NULL, 0, 7);
		return (req->path[8] - '0') * 100 + (req->path[9] - '0') * 10 +
		       (req->path[10] - '0');
	}
	if (path_is(req, "/decline"))
		return TW_DECLINED;
	if (path_is(req, "/enoent"))
		return -ENOENT;
	res->status = 200;
	if (path_is(req, "/empty"))
		return 0;
	if (path_is(req, "/304")) {
		res->status = 304;
		res->no_length = true;
		return 0;
	}
	if (path_is(req, "/file") || path_is(req, "/file500") ||
	    path_is(req, "/cached")) {
		if (req->path[1] == 'c') {
			res->fd = memfd;
			res->fd_release = cached_release;
			res->fd_ctx = &cached_out;
			cached_out++;
		} else {
			res->fd = dup(memfd);
			CHECK(res->fd >= 0 && nowned < MAXSEQ * MAXC);
			owned[nowned++] = res->fd;
		}
		/* the file between two pieces of body */
		tw_buf_append_str(res->body, "/ab");
		add_seg(res, TW_HTTP_SEG_BODY, NULL, 0, 2);
		add_seg(res, TW_HTTP_SEG_FILE, NULL, 1, strlen(FILE_DATA) - 1);
		add_seg(res, TW_HTTP_SEG_BODY, NULL, 2, 1);
		/* a handler that fails after opening: http lets go of it */
		return req->path[5] == '5' ? 500 : 0;
	}
	if (path_is(req, "/multi")) {
		tw_buf_append_str(res->body, "/abc");
		add_seg(res, TW_HTTP_SEG_BODY, NULL, 0, 3);
		add_seg(res, TW_HTTP_SEG_MEM, mem, 2, 5);
		add_seg(res, TW_HTTP_SEG_BODY, NULL, 1, 3);
		return 0;
	}
	if (path_is(req, "/many")) {
		tw_buf_append_str(res->body, "/many");
		for (i = 0; i < TW_HTTP_MAX_SEGS; i++)
			add_seg(res, i % 2 ? TW_HTTP_SEG_MEM : TW_HTTP_SEG_BODY,
				i % 2 ? mem : NULL, i % 2 ? i % 10 : i % 5, 1);
		res->segs[0].off = 0;	/* the body starts '/' */
		return 0;
	}
	tw_buf_append(res->body, req->path, req->path_len);
	add_seg(res, TW_HTTP_SEG_BODY, NULL, 0, req->path_len);
	return 0;
}

static void *
fz_create(const void *opts, int *err)
{
	(void)opts;
	(void)err;
	return &inst_token;
}

static void
fz_destroy(void *inst)
{
	CHECK(inst == &inst_token);
}

static const struct tw_handler fz_handler = {
	.name = "fuzz",
	.handle = fz_handle,
	.create = fz_create,
	.destroy = fz_destroy,
};

/* ---- reading the output back ---------------------------------------- */

static bool
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

static bool
name_is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && strncasecmp(p, s, n) == 0;
}

/* A decimal number of 1..19 digits filling [p, end). */
static uint64_t
number(const char *p, const char *end)
{
	uint64_t v = 0;

	CHECK(end > p && end - p <= 19);
	for (; p < end; p++) {
		CHECK(*p >= '0' && *p <= '9');
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

/* One response at *pp (output ends at end): check it and step past. */
static void
one_response(struct fc *f, const char **pp, const char *end)
{
	const char *p = *pp, *eol;
	bool has_len = false, has_date = false, has_server = false;
	bool has_seq = false, close = false, has_conn = false;
	uint64_t len = 0, seq = 0, body;
	int status;

	CHECK(starts(p, end, "HTTP/1.1 "));
	p += 9;
	CHECK(end - p >= 4 && p[3] == ' ');
	status = (int)number(p, p + 3);
	CHECK(status >= 100 && status <= 599);
	eol = memmem(p, (size_t)(end - p), "\r\n", 2);
	CHECK(eol != NULL);
	for (p += 4; p < eol; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	p = eol + 2;
	/* header lines up to the blank line */
	for (;;) {
		const char *colon, *v;

		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		CHECK(eol != NULL);
		if (eol == p)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		CHECK(colon != NULL && colon > p);
		for (v = p; v < colon; v++)
			CHECK(is_tchar((unsigned char)*v));
		for (v = colon + 1; v < eol; v++)
			CHECK((unsigned char)*v >= 0x20 || *v == '\t');
		for (v = colon + 1; v < eol && *v == ' '; v++)
			;
		if (name_is(p, (size_t)(colon - p), "Content-Length")) {
			CHECK(!has_len);
			has_len = true;
			len = number(v, eol);
		} else if (name_is(p, (size_t)(colon - p), "Connection")) {
			CHECK(!has_conn);
			has_conn = true;
			close = (size_t)(eol - v) == 5 &&
				memcmp(v, "close", 5) == 0;
			CHECK(close || ((size_t)(eol - v) == 10 &&
					memcmp(v, "keep-alive", 10) == 0));
		} else if (name_is(p, (size_t)(colon - p), "X-Fuzz-Seq")) {
			CHECK(!has_seq);
			has_seq = true;
			seq = number(v, eol);
		} else if (name_is(p, (size_t)(colon - p), "Date")) {
			has_date = true;
		} else if (name_is(p, (size_t)(colon - p), "Server")) {
			has_server = true;
		}
		p = eol + 2;
	}
	p += 2;
	CHECK(has_date && has_server);
	/* framing: the body that follows is exactly what the head says */
	if (!has_len) {
		CHECK(status == 204 || status == 304);
		body = 0;
	} else if (has_seq) {
		CHECK(seq < MAXSEQ);
		body = f->head[seq] ? 0 : len;
	} else if (len > 0 && starts(p, end, "<!DOCTYPE html>")) {
		body = len;
	} else {
		/* http's own answer to a HEAD */
		CHECK(p == end || starts(p, end, "HTTP/1.1 "));
		body = 0;
	}
	CHECK((uint64_t)(end - p) >= body);
	if (body > 0 && status >= 400)
		CHECK(starts(p, end, "<!DOCTYPE html>") &&
		      memcmp(p + body - 8, "</html>\n", 8) == 0);
	else if (body > 0)
		CHECK(*p == '/' || *p == '0');
	p += body;
	*pp = p;

	/* the connection's rules */
	CHECK(!f->close_seen);
	f->resp++;
	if (close)
		f->close_seen = true;
	else
		f->resp_keep++;
	CHECK(f->resp_keep <= f->heads && f->resp <= f->heads + 1);
	if (has_seq) {
		CHECK(seq == f->next_seq);
		f->next_seq++;
		if (seq >= f->drain_seq)
			CHECK(close);
	} else if (status >= 400 && status != 405 && status != 501) {
		/* framing or limits broken: the stream cannot go on */
		CHECK(close);
	}
}

static void
check_conn(struct fc *f)
{
	size_t len;
	const char *out, *p, *end;

	if (!f->alive)
		return;
	out = fake_conn_output(f->c, &len);
	p = out;
	end = out + len;
	while (p < end)
		one_response(f, &p, end);
	fake_conn_output_clear(f->c);
	if (tw_conn_closing(f->c) || f->stalled)
		return;
	/* read by the peer: nothing the handler made is lost, and after a
	 * closing response our side is shut */
	CHECK(f->next_seq == f->handled);
	if (f->close_seen)
		CHECK(fake_conn_write_shut(f->c));
}

/* Check every connection, then reap the closed ones as the loop does
 * after each batch of events: the status gauges count the open ones,
 * each in one state, and every answer is counted in its class. */
static void
settle(struct tw_loop *loop)
{
	unsigned i;
	int64_t open = 0;
	uint64_t classes = 0;

	for (i = 0; i < nfc; i++) {
		check_conn(&fcs[i]);
		if (fcs[i].alive && tw_conn_closing(fcs[i].c))
			fcs[i].alive = false;
		open += fcs[i].alive;
	}
	tw_conn_reap(loop);
	CHECK(stats->active == open);
	CHECK(stats->reading + stats->writing + stats->waiting == open);
	for (i = 1; i < 6; i++)
		classes += stats->status[i];
	CHECK(stats->requests == classes && stats->status[0] == 0);
}

/* ---- driving it ----------------------------------------------------- */

static const char *const tokens[] = {
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x HTTP/1.0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	"5\r\nhello\r\n",
	"0\r\n\r\n",
	"Connection: close\r\n",
	"Connection: keep-alive\r\n",
	"Host: b\r\n",
	"\r\n",
	"GET /status/4",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://h/multi HTTP/1.1\r\nHost: h\r\n\r\n",
	"Content-Length: ",
	"Transfer-Encoding: ",
	"GET /empty HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /304 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /decline HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /enoent HTTP/1.1\r\n",
	"HEAD /many HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /many HTTP/1.1\r\n",
	"chunked\r\n",
	"DELETE /d HTTP/1.1\r\nHost: a\r\n\r\n",
	"BREW /b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /v HTTP/2.0\r\n\r\n",
	"HEAD /status/501 HTTP/1.1\r\nHost: a\r\n\r\n",
	"ffffffff\r\n",
	";ext=1",
	"Trailer: x\r\n",
};

#define NTOKENS (sizeof(tokens) / sizeof(tokens[0]))

static void
feed(struct fc *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	if (f->eof || n == 0)
		return;
	for (i = 0; i < n; i++) {
		if (b[i] == '\n' && (f->last[1] == '\n' ||
				     (f->last[1] == '\r' && f->last[0] == '\n')))
			f->heads++;
		f->last[0] = f->last[1];
		f->last[1] = b[i];
	}
	fake_conn_feed(f->c, p, n);
}

static void
new_conn(struct tw_loop *loop, struct tw_http_server *srv)
{
	struct fc *f = &fcs[nfc++];

	memset(f, 0, sizeof(*f));
	f->drain_seq = drained ? 0 : ~0u;
	f->c = fake_conn_new(loop, "192.0.2.7");
	f->alive = true;
	cur = f;
	/* at the cap with none to shed: a 503 and close (not started) */
	(void)tw_http_accept(f->c, srv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	static char fill[256 * 128];
	struct tw_http_opts opts;
	struct tw_http_route route = { &fz_handler, NULL };
	struct tw_http_server *srv;
	struct tw_loop *loop;
	size_t pos = 1;
	unsigned i, ops = 0;
	int err;

	if (!once) {
		once = true;
		memfd = memfd_create("fuzz_http_conn", MFD_CLOEXEC);
		CHECK(memfd >= 0 && write(memfd, FILE_DATA, strlen(FILE_DATA)) ==
				    (ssize_t)strlen(FILE_DATA));
		/* the access log code runs; errors (5xx) stay quiet */
		(void)tw_log_open_error("/dev/null");
		(void)tw_log_access_open("/dev/null");
		tw_clock_update();
	}
	if (size < 1)
		return 0;
	stats = calloc(1, sizeof(*stats));
	CHECK(stats != NULL);
	opts = (struct tw_http_opts){
		.keepalive_timeout_ms = 30000,
		.header_timeout_ms = 10000,
		.send_timeout_ms = 60000,
		.max_keepalive_requests = 1 + data[0] % 8,
		.max_connections = MAXC - 1,
		.stats = stats,
		.max_discard_body = data[0] & 0x80 ? 16 : 1024 * 1024,
		.log_format = (enum tw_log_format)(data[0] / 8 % 3),
		.extra_headers = data[0] & 0x40 ? "X-Extra: 1\r\n" : NULL,
	};
	srv = tw_http_create(&opts, &route, 1);
	loop = tw_loop_create(64, &err);
	CHECK(srv != NULL && loop != NULL && tw_http_loop_init(loop, srv) == 0);
	nfc = 0;
	nowned = 0;
	drained = false;
	new_conn(loop, srv);
	settle(loop);

	while (pos < size && ops++ < MAXOPS) {
		unsigned op = data[pos++] % 10;
		unsigned arg = pos < size ? data[pos] : 0;
		struct fc *f = cur;
		size_t n;

		if (op != 8 && !f->alive)
			continue;
		switch (op) {
		case 0:
		case 1:		/* up to 255 raw bytes */
			if (++pos > size)
				break;
			n = arg < size - pos ? arg : size - pos;
			feed(f, data + pos, n);
			pos += n;
			break;
		case 2:		/* a canned fragment */
			pos++;
			feed(f, tokens[arg % NTOKENS],
			     strlen(tokens[arg % NTOKENS]));
			break;
		case 3:		/* a run of one byte, for the limits */
			pos++;
			n = (size_t)(arg % 128 + 1) * 256;
			memset(fill, pos < size ? data[pos] : 'a', n);
			pos++;
			feed(f, fill, n);
			break;
		case 4:
			f->stalled = !f->stalled;
			fake_conn_set_stalled(f->c, f->stalled);
			break;
		case 5:
			if (!f->eof) {
				f->eof = true;
				fake_conn_feed_eof(f->c);
			}
			break;
		case 6:
			if (!tw_conn_closing(f->c) &&
			    fake_conn_timeout_ms(f->c) != 0)
				fake_conn_fire_timeout(f->c);
			break;
		case 7:
			if (!drained) {
				drained = true;
				for (i = 0; i < nfc; i++)
					fcs[i].drain_seq = fcs[i].handled;
				tw_http_drain(loop, srv);
			}
			break;
		case 8:		/* switch, or a new connection */
			pos++;
			if (arg >= 0x80 && nfc < MAXC)
				new_conn(loop, srv);
			else
				cur = &fcs[arg % nfc];
			break;
		default:	/* a socket error: conn closes it */
			tw_conn_close(f->c);
			break;
		}
		settle(loop);
	}

	/* The peers read everything and leave: every connection closes. */
	for (i = 0; i < nfc; i++) {
		struct fc *f = &fcs[i];

		if (!f->alive)
			continue;
		cur = f;
		f->stalled = false;
		fake_conn_set_stalled(f->c, false);
		settle(loop);
		if (!f->alive)
			continue;
		f->eof = true;
		fake_conn_feed_eof(f->c);
		settle(loop);
		CHECK(!f->alive);
	}

	tw_conn_close_all(loop);
	tw_http_loop_exit(loop, srv);
	tw_loop_destroy(loop);
	tw_http_destroy(srv);
	free(stats);
	/* every file handed to http was let go, and only once */
	CHECK(cached_out == 0 && !fake_conn_saw_bad_fd());
	for (i = 0; i < nowned; i++)
		CHECK(fcntl(owned[i], F_GETFD) < 0);
	return 0;
}
