/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for conn over real sockets (socketpairs and loopback TCP):
 * byte and file segments arrive whole and in order through a small send
 * buffer and a slow reader (partial writes, EAGAIN, the turn posted after
 * FAIR_BYTES); an I/O table without sendfile gets file segments by pread
 * + sendv and carries the reads too; a half-close reaches the peer as EOF
 * after the queued bytes; a peer's reset ends busy and idle connections
 * through on_closed; outbound connects succeed, are refused, or time out;
 * two loops on one thread keep their connections, counts, reaping,
 * copy thresholds and buffers apart; a shared page queued on several
 * connections is freed exactly when its last reader finishes or closes;
 * and a minimum send rate ends a slow reader but not a fair one.
 *
 * Every loop run has a guard timer (GUARD_MS): a connection that never
 * gets where the test waits for fails the test instead of hanging it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/page.h"
#include "net/conn.h"
#include "net/loop.h"
#include "support/loop_guard.h"

/* A hang's limit, not a time the tests assert: 5 s was reached by a
 * 2.5 s rate run on a CI machine shared with other builds. */
#define GUARD_MS	30000
#define FILE_LEN	(600 * 1024)	/* more than two FAIR_BYTES turns */
#define BIG_LEN		(1024 * 1024)

/* ---- what one connection's callbacks saw ---- */

struct seen {
	struct tw_conn *c;
	char *in;		/* bytes received by on_data */
	size_t nin;
	bool eof;
	unsigned drained;
	unsigned timeouts;
	unsigned closed;
	unsigned connected;
	unsigned errors;
	int err;
	unsigned freed_at_drain;	/* pages_freed when on_drained ran */
};

/* Pages freed so far (their on_free hook). */
static unsigned pages_freed;

static void
on_data(struct tw_conn *c, void *ctx)
{
	struct seen *s = ctx;
	size_t len;
	const char *p = tw_conn_data(c, &len);

	s->in = realloc(s->in, s->nin + len + 1);
	assert_non_null(s->in);
	if (len > 0)
		memcpy(s->in + s->nin, p, len);
	s->nin += len;
	tw_conn_consume(c, len);
	if (tw_conn_eof(c))
		s->eof = true;
}

static void
on_drained(struct tw_conn *c, void *ctx)
{
	struct seen *s = ctx;

	(void)c;
	s->drained++;
	s->freed_at_drain = pages_freed;
}

static void
on_timeout(struct tw_conn *c, void *ctx)
{
	((struct seen *)ctx)->timeouts++;
	tw_conn_close(c);
}

static void
on_closed(struct tw_conn *c, void *ctx)
{
	(void)c;
	((struct seen *)ctx)->closed++;
}

static void
on_connected(struct tw_conn *c, void *ctx)
{
	(void)c;
	((struct seen *)ctx)->connected++;
}

static void
on_error(struct tw_conn *c, void *ctx, int err)
{
	struct seen *s = ctx;

	(void)c;
	s->errors++;
	s->err = err;
}

static const struct tw_conn_ops ops = {
	.on_data = on_data,
	.on_drained = on_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
	.on_connected = on_connected,
	.on_error = on_error,
};

/* ---- running a loop until a condition holds ---- */

struct until {
	bool (*done)(void *arg);
	void *arg;
};

static void
after_batch(struct tw_loop *loop, void *ctx)
{
	struct until *u = ctx;

	tw_conn_reap(loop);
	if (u->done(u->arg))
		tw_loop_stop(loop);
}

static void
run_until(struct tw_loop *loop, bool (*done)(void *arg), void *arg)
{
	struct until u = { done, arg };

	tw_loop_set_after_batch(loop, after_batch, &u);
	while (!done(arg)) {
		struct loop_guard g = { 0 };

		tw_loop_unstop(loop);
		loop_guard_run(loop, &g, GUARD_MS);
		assert_false(g.fired);
	}
	tw_loop_set_after_batch(loop, NULL, NULL);
}

/* ---- the far end: a descriptor read slowly by a timer ---- */

struct reader {
	struct tw_timer timer;	/* first: the timer is the reader */
	int fd;
	size_t chunk;		/* bytes read per tick */
	char *buf;
	size_t len;
	bool eof;
	int err;		/* errno of a failed read, 0 if none */
};

static void
reader_tick(struct tw_loop *loop, struct tw_timer *t)
{
	struct reader *r = (struct reader *)(void *)t;
	ssize_t n;

	r->buf = realloc(r->buf, r->len + r->chunk);
	assert_non_null(r->buf);
	n = read(r->fd, r->buf + r->len, r->chunk);
	if (n > 0)
		r->len += (size_t)n;
	else if (n == 0)
		r->eof = true;
	else if (errno != EAGAIN)
		r->err = errno;
	if (!r->eof && r->err == 0)
		tw_loop_timer_set(loop, &r->timer, 1, reader_tick);
}

static void
reader_start(struct tw_loop *loop, struct reader *r, int fd, size_t chunk)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->chunk = chunk;
	tw_loop_timer_set(loop, &r->timer, 1, reader_tick);
}

struct want_bytes {
	const struct reader *r;
	size_t len;
	const struct seen *s;	/* and drained once, if set */
};

static bool
got_bytes(void *arg)
{
	const struct want_bytes *w = arg;

	return w->r->len >= w->len && (w->s == NULL || w->s->drained > 0);
}

static bool
got_eof(void *arg)
{
	return ((const struct reader *)arg)->eof;
}

struct want_input {
	const struct seen *s;
	size_t len;
};

static bool
got_input(void *arg)
{
	const struct want_input *w = arg;

	return w->s->nin >= w->len;
}

static bool
got_input_eof(void *arg)
{
	return ((const struct seen *)arg)->eof;
}

static bool
got_closed(void *arg)
{
	return ((const struct seen *)arg)->closed > 0;
}

/* ---- descriptors ---- */

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* A small send buffer on the conn's side makes writes partial. The far
 * end's receive buffer stays as it is: a tiny one on loopback (64 KiB
 * segments) stalls TCP on zero windows and persist probes. */
static void
small_sndbuf(int fd)
{
	int n = 4096;

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n,
				    sizeof(n)), 0);
}

/* A listening loopback socket on a free port; *sin gets its address. */
static int
listen_loopback(struct sockaddr_in *sin, int backlog)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

enum pair_kind { PAIR_UNIX, PAIR_TCP };

/* sv[0] for the conn, sv[1] for the far end; both non-blocking. */
static void
make_pair(enum pair_kind kind, int sv[2])
{
	if (kind == PAIR_UNIX) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM |
					    SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
					    sv), 0);
	} else {
		struct sockaddr_in sin;
		int l = listen_loopback(&sin, 4);

		sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(sv[0] >= 0);
		assert_int_equal(connect(sv[0], (struct sockaddr *)&sin,
					 sizeof(sin)), 0);
		sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		assert_true(sv[1] >= 0);
		(void)close(l);
		set_nonblock(sv[0]);
		set_nonblock(sv[1]);
	}
	small_sndbuf(sv[0]);
}

/* A started conn on fd with ops; ctx begins with the seen it fills. */
static struct tw_conn *
conn_with(struct tw_loop *loop, int fd, const struct tw_conn_ops *o,
	  struct seen *s)
{
	int err;
	struct tw_conn *c = tw_conn_create(loop, fd, NULL, 0, &err);

	assert_non_null(c);
	assert_int_equal(err, 0);
	tw_conn_set_ops(c, o, s);
	s->c = c;
	tw_conn_start(c);
	return c;
}

static struct tw_conn *
conn_on(struct tw_loop *loop, int fd, struct seen *s)
{
	return conn_with(loop, fd, &ops, s);
}

static struct tw_loop *
new_loop(void)
{
	int err;
	struct tw_loop *loop = tw_loop_create(1024, &err);

	assert_non_null(loop);
	return loop;
}

static void
end_loop(struct tw_loop *loop)
{
	tw_conn_close_all(loop);
	assert_int_equal(tw_conn_count(loop), 0);
	tw_loop_destroy(loop);
}

static void
fill_pattern(char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)((i * 131 + seed + i / 251) & 0xff);
}

/* A temporary file of FILE_LEN pattern bytes, already unlinked. */
static int
temp_file(char *copy)
{
	char name[] = "/tmp/tw-conn-XXXXXX";
	int fd = mkstemp(name);

	assert_true(fd >= 0);
	(void)unlink(name);
	fill_pattern(copy, FILE_LEN, 7);
	assert_int_equal(write(fd, copy, FILE_LEN), FILE_LEN);
	return fd;
}

/* ---- tests ---- */

/* Head bytes, a file range and tail bytes through a 4 KiB send buffer
 * to a reader taking 4 KiB a millisecond: the first send cannot finish
 * (EAGAIN), the rest goes out edge by edge and turn by turn. */
static void
segments_arrive_whole(enum pair_kind kind)
{
	struct tw_loop *loop = new_loop();
	char *file = malloc(FILE_LEN), *want = malloc(FILE_LEN + 8);
	struct seen s = { 0 };
	struct reader r;
	struct want_bytes w;
	int sv[2], ffd;
	size_t flen = FILE_LEN - 2000;

	assert_non_null(file);
	assert_non_null(want);
	ffd = temp_file(file);
	make_pair(kind, sv);
	conn_on(loop, sv[0], &s);
	assert_int_equal(tw_conn_write(s.c, "HEAD", 4), 0);
	assert_int_equal(tw_conn_write_file(s.c, ffd, 1000, flen), 0);
	assert_int_equal(tw_conn_write(s.c, "TAIL", 4), 0);
	tw_conn_send(s.c);
	assert_true(tw_conn_pending(s.c));	/* the socket said EAGAIN */
	assert_int_equal(s.drained, 0);
	reader_start(loop, &r, sv[1], 4096);
	w = (struct want_bytes){ &r, flen + 8, &s };
	run_until(loop, got_bytes, &w);
	memcpy(want, "HEAD", 4);
	memcpy(want + 4, file + 1000, flen);
	memcpy(want + 4 + flen, "TAIL", 4);
	assert_int_equal(r.len, flen + 8);
	assert_memory_equal(r.buf, want, flen + 8);
	assert_int_equal(s.drained, 1);
	assert_false(tw_conn_pending(s.c));
	tw_loop_timer_cancel(loop, &r.timer);
	end_loop(loop);
	assert_int_equal(s.closed, 1);
	(void)close(sv[1]);
	(void)close(ffd);
	free(r.buf);
	free(s.in);
	free(file);
	free(want);
}

static void
segments_socketpair(void **state)
{
	(void)state;
	segments_arrive_whole(PAIR_UNIX);
}

static void
segments_tcp(void **state)
{
	(void)state;
	segments_arrive_whole(PAIR_TCP);
}

/* A megabyte of bytes through a small buffer, read slowly; and what the
 * far end sends comes up through on_data. */
static void
big_bytes_and_input(enum pair_kind kind)
{
	struct tw_loop *loop = new_loop();
	char *big = malloc(BIG_LEN);
	struct seen s = { 0 };
	struct reader r;
	struct want_bytes w;
	int sv[2];

	assert_non_null(big);
	fill_pattern(big, BIG_LEN, 3);
	make_pair(kind, sv);
	conn_on(loop, sv[0], &s);
	assert_int_equal(tw_conn_write(s.c, big, BIG_LEN), 0);
	tw_conn_send(s.c);
	assert_true(tw_conn_pending(s.c));
	assert_true(tw_conn_bytes_sent(s.c) < BIG_LEN);
	reader_start(loop, &r, sv[1], 64 * 1024);
	w = (struct want_bytes){ &r, BIG_LEN, &s };
	run_until(loop, got_bytes, &w);
	assert_int_equal(r.len, BIG_LEN);
	assert_memory_equal(r.buf, big, BIG_LEN);
	tw_loop_timer_cancel(loop, &r.timer);
	assert_int_equal(write(sv[1], "hello", 5), 5);
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	run_until(loop, got_input_eof, &s);
	assert_int_equal(s.nin, 5);
	assert_memory_equal(s.in, "hello", 5);
	end_loop(loop);
	(void)close(sv[1]);
	free(r.buf);
	free(s.in);
	free(big);
}

static void
big_bytes_socketpair(void **state)
{
	(void)state;
	big_bytes_and_input(PAIR_UNIX);
}

static void
big_bytes_tcp(void **state)
{
	(void)state;
	big_bytes_and_input(PAIR_TCP);
}

/* An I/O table over the plain socket that counts its calls and, like a
 * TLS table, cannot send files (sendfile NULL). */
struct counted {
	unsigned recvs;
	unsigned sendvs;
	unsigned shutdowns;
	unsigned closes;
};

static ssize_t
counted_recv(struct tw_conn *c, void *ctx, void *buf, size_t len)
{
	((struct counted *)ctx)->recvs++;
	return tw_conn_io_plain.recv(c, NULL, buf, len);
}

static ssize_t
counted_sendv(struct tw_conn *c, void *ctx, const struct iovec *iov,
	      size_t n, bool more)
{
	((struct counted *)ctx)->sendvs++;
	return tw_conn_io_plain.sendv(c, NULL, iov, n, more);
}

static int
counted_shutdown(struct tw_conn *c, void *ctx)
{
	((struct counted *)ctx)->shutdowns++;
	return tw_conn_io_plain.shutdown(c, NULL);
}

static void
counted_close(struct tw_conn *c, void *ctx)
{
	((struct counted *)ctx)->closes++;
	tw_conn_io_plain.close(c, NULL);
}

static const struct tw_conn_io no_sendfile_io = {
	.recv = counted_recv,
	.sendv = counted_sendv,
	.sendfile = NULL,
	.shutdown = counted_shutdown,
	.close = counted_close,
};

/* A file segment through a table without sendfile: pread into the
 * loop's copy buffer, then the table's sendv; reads, the half-close and
 * the close go through the table too. */
static void
file_without_sendfile(void **state)
{
	struct tw_loop *loop = new_loop();
	char *file = malloc(FILE_LEN);
	struct counted k = { 0 };
	struct seen s = { 0 };
	struct reader r;
	int sv[2], ffd;

	(void)state;
	assert_non_null(file);
	ffd = temp_file(file);
	make_pair(PAIR_TCP, sv);
	/* sendfile would be chosen for this size without the table. */
	assert_int_equal(tw_conn_set_copy_min(loop, UINT64_MAX), 0);
	conn_on(loop, sv[0], &s);
	tw_conn_set_io(s.c, &no_sendfile_io, &k);
	assert_int_equal(tw_conn_write(s.c, "H", 1), 0);
	assert_int_equal(tw_conn_write_file(s.c, ffd, 5, FILE_LEN - 5), 0);
	tw_conn_shutdown_write(s.c);
	tw_conn_send(s.c);
	reader_start(loop, &r, sv[1], 16 * 1024);
	run_until(loop, got_eof, &r);
	assert_int_equal(r.len, FILE_LEN - 4);
	assert_memory_equal(r.buf, "H", 1);
	assert_memory_equal(r.buf + 1, file + 5, FILE_LEN - 5);
	/* One sendv per 64 KiB turn at least. */
	assert_true(k.sendvs >= (FILE_LEN - 5) / (64 * 1024) + 1);
	assert_int_equal(k.shutdowns, 1);
	assert_int_equal(write(sv[1], "in", 2), 2);
	run_until(loop, got_input, &(struct want_input){ &s, 2 });
	assert_int_equal(s.nin, 2);
	assert_true(k.recvs >= 1);
	assert_memory_equal(s.in, "in", 2);
	end_loop(loop);
	assert_int_equal(k.closes, 1);
	(void)close(sv[1]);
	(void)close(ffd);
	free(r.buf);
	free(s.in);
	free(file);
}

/* ---- a client pipelining small requests ---- */

#define PIPED_ANSWERS	300	/* of 1 KiB: several 64 KiB turns */

/* Each drain queues the next answer, as http does for a pipelined
 * request waiting in the input. */
struct piped {
	struct seen s;		/* first: on_data takes it as a seen */
	unsigned left;
	char answer[1024];
};

static void
piped_drained(struct tw_conn *c, void *ctx)
{
	struct piped *p = ctx;

	p->s.drained++;
	if (p->left == 0)
		return;
	p->left--;
	assert_int_equal(tw_conn_write(c, p->answer, sizeof(p->answer)), 0);
	tw_conn_send(c);
}

static const struct tw_conn_ops piped_ops = {
	.on_data = on_data,
	.on_drained = piped_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
};

/* The turn's 64 KiB is the whole turn's, however many answers make it
 * up: a client pipelining small requests is answered a turn at a time,
 * and a connection beside it is served between its turns. The socket
 * takes every answer at once here, so nothing but the budget ends the
 * first turn. */
static void
pipelined_answers_share_the_loop(void **state)
{
	struct tw_loop *loop = new_loop();
	struct piped p = { .left = PIPED_ANSWERS - 1 };
	struct seen b = { 0 };
	struct reader r;
	int sa[2], sb[2], big = 1 << 20;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(p.answer); i++)
		p.answer[i] = (char)('a' + i % 26);
	/* TCP, with room in the send buffer for every answer. */
	make_pair(PAIR_TCP, sa);
	assert_int_equal(setsockopt(sa[0], SOL_SOCKET, SO_SNDBUF, &big,
				    sizeof(big)), 0);
	make_pair(PAIR_UNIX, sb);
	conn_on(loop, sb[0], &b);
	conn_with(loop, sa[0], &piped_ops, &p.s);
	assert_int_equal(tw_conn_write(p.s.c, p.answer, sizeof(p.answer)), 0);
	tw_conn_send(p.s.c);
	assert_int_equal(p.s.drained, 64);
	/* The other connection's request comes in while answers are left. */
	assert_int_equal(write(sb[1], "ping", 4), 4);
	run_until(loop, got_input, &(struct want_input){ &b, 4 });
	/* One batch: b's request, and one more turn of answers. */
	assert_int_equal(p.s.drained, 128);
	/* Then every answer arrives, whole and in order. */
	reader_start(loop, &r, sa[1], 64 * 1024);
	run_until(loop, got_bytes,
		  &(struct want_bytes){ &r, PIPED_ANSWERS * sizeof(p.answer),
					NULL });
	assert_int_equal(p.s.drained, PIPED_ANSWERS);
	assert_int_equal(r.len, PIPED_ANSWERS * sizeof(p.answer));
	for (i = 0; i < PIPED_ANSWERS; i++)
		assert_memory_equal(r.buf + i * sizeof(p.answer), p.answer,
				    sizeof(p.answer));
	end_loop(loop);
	(void)close(sa[1]);
	(void)close(sb[1]);
	free(r.buf);
	free(b.in);
	free(p.s.in);
}

/* tw_conn_shutdown_write with bytes queued: they arrive, then EOF. */
static void
shutdown_write_gives_eof(void **state)
{
	struct tw_loop *loop = new_loop();
	struct seen s = { 0 };
	struct reader r;
	int sv[2];

	(void)state;
	make_pair(PAIR_UNIX, sv);
	conn_on(loop, sv[0], &s);
	assert_int_equal(tw_conn_write(s.c, "bye", 3), 0);
	tw_conn_shutdown_write(s.c);
	tw_conn_send(s.c);
	reader_start(loop, &r, sv[1], 64);
	run_until(loop, got_eof, &r);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.buf, "bye", 3);
	assert_false(tw_conn_closing(s.c));	/* only half closed */
	end_loop(loop);
	(void)close(sv[1]);
	free(r.buf);
}

/* Closes the connection when its queue drains, as http does after a
 * last response nothing more is owed for. */
static void
close_drained(struct tw_conn *c, void *ctx)
{
	((struct seen *)ctx)->drained++;
	tw_conn_close(c);
}

static const struct tw_conn_ops close_ops = {
	.on_data = on_data,
	.on_drained = close_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
};

/* A half-close asked with the last bytes, and a close when they drain:
 * close() carries the FIN, so no shutdown is made, and the peer reads
 * the bytes whole, then EOF. */
static void
close_at_drain_makes_no_shutdown(void **state)
{
	struct tw_loop *loop = new_loop();
	struct counted k = { 0 };
	struct seen s = { 0 };
	struct reader r;
	int sv[2];

	(void)state;
	make_pair(PAIR_TCP, sv);
	conn_with(loop, sv[0], &close_ops, &s);
	tw_conn_set_io(s.c, &no_sendfile_io, &k);
	assert_int_equal(tw_conn_write(s.c, "last", 4), 0);
	tw_conn_shutdown_write(s.c);
	tw_conn_send(s.c);
	assert_int_equal(s.drained, 1);
	assert_true(tw_conn_closing(s.c));
	assert_int_equal(k.shutdowns, 0);
	assert_int_equal(k.closes, 1);
	reader_start(loop, &r, sv[1], 64);
	run_until(loop, got_eof, &r);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.buf, "last", 4);
	end_loop(loop);
	(void)close(sv[1]);
	free(r.buf);
}

/* On its first input, asks tw_conn_read_now with bytes just arrived
 * behind the ones read, as after_response asks it with the socket's
 * state of the last read. */
struct asker {
	struct seen s;		/* first: on_data takes it as a seen */
	struct counted k;
	int peer;
	int asked;		/* -1 not yet, else what read_now said */
	unsigned recvs;		/* reads made by the question */
};

static void
ask_on_data(struct tw_conn *c, void *ctx)
{
	struct asker *a = ctx;
	unsigned before = a->k.recvs;

	on_data(c, ctx);
	if (a->asked >= 0)
		return;
	assert_int_equal(write(a->peer, "more", 4), 4);
	a->asked = tw_conn_read_now(c);
	a->recvs = a->k.recvs - before;
}

static const struct tw_conn_ops ask_ops = {
	.on_data = ask_on_data,
	.on_drained = on_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
};

/* tw_conn_read_now after a short read that emptied the socket: false,
 * without a read, while no readiness has come since, even with bytes
 * just arrived (as nginx's read->ready); the edge still brings them. */
static void
read_now_trusts_a_short_read(void **state)
{
	struct tw_loop *loop = new_loop();
	struct asker a = { .asked = -1 };
	int sv[2], err;

	(void)state;
	make_pair(PAIR_TCP, sv);
	a.peer = sv[1];
	assert_int_equal(write(sv[1], "ping", 4), 4);
	/* The table before the start, whose first run reads "ping". */
	a.s.c = tw_conn_create(loop, sv[0], NULL, 0, &err);
	assert_non_null(a.s.c);
	tw_conn_set_ops(a.s.c, &ask_ops, &a.s);
	tw_conn_set_io(a.s.c, &no_sendfile_io, &a.k);
	tw_conn_start(a.s.c);
	assert_int_equal(a.k.recvs, 1);
	run_until(loop, got_input, &(struct want_input){ &a.s, 8 });
	assert_int_equal(a.asked, 0);
	assert_int_equal(a.recvs, 0);
	assert_memory_equal(a.s.in, "pingmore", 8);
	end_loop(loop);
	(void)close(sv[1]);
	free(a.s.in);
}

static void
reset_peer(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg)), 0);
	(void)close(fd);	/* RST instead of FIN */
}

/* A reset from the peer ends a connection with output queued (the
 * write fails) and an idle one (the read fails): both close, on_closed
 * runs once each, nothing is left (ASan checks the buffers). */
static void
peer_reset_closes(void **state)
{
	struct tw_loop *loop = new_loop();
	char *big = calloc(1, BIG_LEN);
	struct seen busy = { 0 }, idle = { 0 };
	int a[2], b[2];

	(void)state;
	assert_non_null(big);
	make_pair(PAIR_TCP, a);
	make_pair(PAIR_TCP, b);
	conn_on(loop, a[0], &busy);
	conn_on(loop, b[0], &idle);
	assert_int_equal(tw_conn_write(busy.c, big, BIG_LEN), 0);
	tw_conn_send(busy.c);
	assert_true(tw_conn_pending(busy.c));
	assert_int_equal(tw_conn_count(loop), 2);
	reset_peer(a[1]);
	reset_peer(b[1]);
	run_until(loop, got_closed, &busy);
	run_until(loop, got_closed, &idle);
	assert_int_equal(busy.closed, 1);
	assert_int_equal(idle.closed, 1);
	assert_int_equal(busy.drained, 0);
	assert_int_equal(tw_conn_count(loop), 0);
	end_loop(loop);
	free(big);
}

static bool
got_outcome(void *arg)
{
	const struct seen *s = arg;

	return s->connected > 0 || s->errors > 0;
}

/* Connect to a listening loopback socket: on_connected, then an
 * ordinary conn both ways (bytes out and in, a file segment). */
static void
connect_succeeds(void **state)
{
	struct tw_loop *loop = new_loop();
	char *file = malloc(FILE_LEN);
	struct sockaddr_in sin;
	struct seen s = { 0 };
	struct reader r;
	struct want_bytes w;
	int l, fd, err, ffd;

	(void)state;
	assert_non_null(file);
	ffd = temp_file(file);
	l = listen_loopback(&sin, 4);
	s.c = tw_conn_connect(loop, (struct sockaddr *)&sin, sizeof(sin),
			      GUARD_MS, &ops, &s, &err);
	assert_non_null(s.c);
	assert_int_equal(s.connected, 0);	/* never before it returns */
	/* Queued while connecting: goes out once connected. */
	assert_int_equal(tw_conn_write(s.c, "GET", 3), 0);
	tw_conn_send(s.c);
	run_until(loop, got_outcome, &s);
	assert_int_equal(s.connected, 1);
	assert_int_equal(s.errors, 0);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(tw_conn_write_file(s.c, ffd, 0, FILE_LEN), 0);
	tw_conn_send(s.c);
	reader_start(loop, &r, fd, 64 * 1024);
	w = (struct want_bytes){ &r, FILE_LEN + 3, &s };
	run_until(loop, got_bytes, &w);
	assert_memory_equal(r.buf, "GET", 3);
	assert_memory_equal(r.buf + 3, file, FILE_LEN);
	tw_loop_timer_cancel(loop, &r.timer);
	assert_int_equal(write(fd, "200", 3), 3);
	(void)close(fd);	/* FIN after the bytes */
	run_until(loop, got_input_eof, &s);
	assert_int_equal(s.nin, 3);
	assert_memory_equal(s.in, "200", 3);
	assert_int_equal(s.timeouts, 0);	/* the connect timer is off */
	end_loop(loop);
	assert_int_equal(s.closed, 1);
	(void)close(l);
	(void)close(ffd);
	free(r.buf);
	free(s.in);
	free(file);
}

/* A closed port: on_error(-ECONNREFUSED), then on_closed; nothing left. */
static void
connect_refused(void **state)
{
	struct tw_loop *loop = new_loop();
	struct sockaddr_in sin;
	struct seen s = { 0 };
	int l, err;

	(void)state;
	l = listen_loopback(&sin, 1);
	(void)close(l);		/* the port is free again, nobody listens */
	s.c = tw_conn_connect(loop, (struct sockaddr *)&sin, sizeof(sin),
			      GUARD_MS, &ops, &s, &err);
	assert_non_null(s.c);
	assert_int_equal(s.errors, 0);
	run_until(loop, got_closed, &s);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.err, -ECONNREFUSED);
	assert_int_equal(s.connected, 0);
	assert_int_equal(s.closed, 1);
	assert_int_equal(tw_conn_count(loop), 0);
	end_loop(loop);
}

/* A listener whose accept queue is full drops new SYNs, so a connect to
 * it stays in progress: the timeout fires on_error(-ETIMEDOUT). Works
 * offline: all on loopback. */
static void
connect_times_out(void **state)
{
	struct tw_loop *loop = new_loop();
	struct sockaddr_in sin;
	struct seen s = { 0 };
	int l, err, fill[4];
	size_t i;

	(void)state;
	l = listen_loopback(&sin, 0);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
				 SOCK_CLOEXEC, 0);
		assert_true(fill[i] >= 0);
		(void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	s.c = tw_conn_connect(loop, (struct sockaddr *)&sin, sizeof(sin),
			      150, &ops, &s, &err);
	assert_non_null(s.c);
	run_until(loop, got_closed, &s);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(s.connected, 0);
	assert_int_equal(s.timeouts, 0);	/* on_error, not on_timeout */
	end_loop(loop);
	for (i = 0; i < 4; i++)
		(void)close(fill[i]);
	(void)close(l);
}

/* An I/O table that can send files and counts it, and one sendv count,
 * to see which path a file segment took on each loop. */
static unsigned sendfiles;

static ssize_t
counted_sendfile(struct tw_conn *c, void *ctx, int fd, uint64_t off,
		 size_t len)
{
	(void)ctx;
	sendfiles++;
	return tw_conn_io_plain.sendfile(c, NULL, fd, off, len);
}

static const struct tw_conn_io with_sendfile_io = {
	.recv = counted_recv,
	.sendv = counted_sendv,
	.sendfile = counted_sendfile,
	.shutdown = counted_shutdown,
	.close = counted_close,
};

/* Send a 600 KiB file segment on c and read it at the far end. */
static void
send_file_through(struct tw_loop *loop, struct seen *s, int far, int ffd)
{
	struct reader r;
	struct want_bytes w;

	assert_int_equal(tw_conn_write_file(s->c, ffd, 0, FILE_LEN), 0);
	tw_conn_send(s->c);
	reader_start(loop, &r, far, 64 * 1024);
	w = (struct want_bytes){ &r, FILE_LEN, s };
	run_until(loop, got_bytes, &w);
	assert_int_equal(r.len, FILE_LEN);
	tw_loop_timer_cancel(loop, &r.timer);
	free(r.buf);
}

/* Two loops on one thread: each counts, reaps and closes only its own
 * connections, and keeps its own copy threshold and buffers (a loop
 * destroyed while the other goes on: ASan catches any buffer that
 * moved from one loop's free list to the other's). */
static void
two_loops_apart(void **state)
{
	struct tw_loop *a = new_loop(), *b = new_loop();
	char *file = malloc(FILE_LEN);
	struct counted ka = { 0 }, kb = { 0 };
	struct seen sa = { 0 }, sa2 = { 0 }, sb = { 0 };
	int pa[2], pa2[2], pb[2], ffd;

	(void)state;
	assert_non_null(file);
	ffd = temp_file(file);
	assert_int_equal(tw_conn_set_copy_min(a, 0), 0);	/* always copy */
	assert_int_equal(tw_conn_set_copy_min(b, UINT64_MAX), 0);
	make_pair(PAIR_UNIX, pa);
	make_pair(PAIR_UNIX, pa2);
	make_pair(PAIR_UNIX, pb);
	conn_on(a, pa[0], &sa);
	conn_on(a, pa2[0], &sa2);
	conn_on(b, pb[0], &sb);
	tw_conn_set_io(sa.c, &with_sendfile_io, &ka);
	tw_conn_set_io(sb.c, &with_sendfile_io, &kb);
	assert_int_equal(tw_conn_count(a), 2);
	assert_int_equal(tw_conn_count(b), 1);

	/* a copies (copy_min 0), b sends the file (copy_min never). */
	sendfiles = 0;
	send_file_through(a, &sa, pa[1], ffd);
	assert_int_equal(sendfiles, 0);
	assert_true(ka.sendvs > 0);
	send_file_through(b, &sb, pb[1], ffd);
	assert_true(sendfiles > 0);
	assert_int_equal(kb.sendvs, 0);

	/* Closing on b is reaped by b only. */
	tw_conn_close(sb.c);
	tw_conn_reap(a);
	assert_int_equal(sb.closed, 0);
	assert_int_equal(tw_conn_count(b), 1);
	tw_conn_reap(b);
	assert_int_equal(sb.closed, 1);
	assert_int_equal(tw_conn_count(b), 0);

	/* close_all on a leaves a connection of b open. */
	(void)close(pb[1]);
	make_pair(PAIR_UNIX, pb);
	free(sb.in);
	sb = (struct seen){ 0 };
	conn_on(b, pb[0], &sb);
	tw_conn_close_all(a);
	assert_int_equal(sa.closed, 1);
	assert_int_equal(sa2.closed, 1);
	assert_false(tw_conn_closing(sb.c));
	assert_int_equal(tw_conn_count(b), 1);
	tw_loop_destroy(a);	/* a's buffers and copy buffer go */

	/* b's connection still reads and writes with its own buffers. */
	send_file_through(b, &sb, pb[1], ffd);
	assert_int_equal(write(pb[1], "ok", 2), 2);
	run_until(b, got_input, &(struct want_input){ &sb, 2 });
	assert_int_equal(sb.nin, 2);
	assert_memory_equal(sb.in, "ok", 2);
	end_loop(b);
	assert_int_equal(sb.closed, 1);
	(void)close(pa[1]);
	(void)close(pa2[1]);
	(void)close(pb[1]);
	(void)close(ffd);
	free(sa.in);
	free(sa2.in);
	free(sb.in);
	free(file);
}

/* ---- shared pages ---- */

static void
count_free(struct tw_page *p, void *ctx)
{
	(void)p;
	(void)ctx;
	pages_freed++;
}

/* A page of n pattern bytes (a copy in *copy), counted when freed. */
static struct tw_page *
pattern_page(size_t n, char **copy)
{
	struct tw_buf b = { 0 };
	struct tw_page *p;

	*copy = malloc(n);
	assert_non_null(*copy);
	fill_pattern(*copy, n, 11);
	tw_buf_append(&b, *copy, n);
	p = tw_page_from_buf(&b);
	assert_non_null(p);
	assert_int_equal(b.len, 0);	/* the bytes moved, not copied */
	assert_null(b.data);
	p->on_free = count_free;
	return p;
}

/*
 * One page queued on four connections between bytes of their own: the
 * queue holds a reference each, not a copy; a connection closed by us
 * or by a reset lets go at once; one read to its end lets go when its
 * range is written; the page is freed exactly when the last reader is
 * done, and each reader got it whole.
 */
static void
page_freed_by_last_reader(void **state)
{
	struct tw_loop *loop = new_loop();
	struct seen s[4] = { { 0 } };
	int sv[4][2];
	struct reader ra, rc;
	struct want_bytes w;
	struct tw_page *p;
	char *copy, *want;
	size_t i, total = BIG_LEN + 8;

	(void)state;
	pages_freed = 0;
	p = pattern_page(BIG_LEN, &copy);
	want = malloc(total);
	assert_non_null(want);
	memcpy(want, "HEAD", 4);
	memcpy(want + 4, copy, BIG_LEN);
	memcpy(want + 4 + BIG_LEN, "TAIL", 4);
	for (i = 0; i < 4; i++) {
		make_pair(i == 1 ? PAIR_TCP : PAIR_UNIX, sv[i]);
		conn_on(loop, sv[i][0], &s[i]);
		assert_int_equal(tw_conn_write(s[i].c, "HEAD", 4), 0);
		assert_int_equal(tw_conn_write_page(s[i].c, p, 0, BIG_LEN), 0);
		assert_int_equal(tw_conn_write(s[i].c, "TAIL", 4), 0);
		tw_conn_send(s[i].c);
		assert_true(tw_conn_pending(s[i].c));
	}
	assert_int_equal(p->refs, 5);
	tw_page_unref(p);	/* the queues hold it now */
	assert_int_equal(p->refs, 4);

	/* Closed with the page queued: the reference goes at once. */
	tw_conn_close(s[2].c);
	assert_int_equal(p->refs, 3);
	/* The peer resets: the failed write closes it. */
	reset_peer(sv[1][1]);
	run_until(loop, got_closed, &s[1]);
	assert_int_equal(p->refs, 2);
	assert_int_equal(pages_freed, 0);

	/* One reader to the end: its reference goes with the last byte. */
	reader_start(loop, &ra, sv[0][1], 64 * 1024);
	w = (struct want_bytes){ &ra, total, &s[0] };
	run_until(loop, got_bytes, &w);
	tw_loop_timer_cancel(loop, &ra.timer);
	assert_int_equal(ra.len, total);
	assert_memory_equal(ra.buf, want, total);
	assert_int_equal(s[0].freed_at_drain, 0);
	assert_int_equal(p->refs, 1);

	/* The last reader: freed when its page range is written, before
	 * its response has even drained. */
	reader_start(loop, &rc, sv[3][1], 64 * 1024);
	w = (struct want_bytes){ &rc, total, &s[3] };
	run_until(loop, got_bytes, &w);
	tw_loop_timer_cancel(loop, &rc.timer);
	assert_int_equal(rc.len, total);
	assert_memory_equal(rc.buf, want, total);
	assert_int_equal(pages_freed, 1);
	assert_int_equal(s[3].freed_at_drain, 1);

	end_loop(loop);
	for (i = 0; i < 4; i++) {
		if (i != 1)
			(void)close(sv[i][1]);
		free(s[i].in);
	}
	free(ra.buf);
	free(rc.buf);
	free(want);
	free(copy);
}

/* The last holder a connection that is reaped, not read: end_loop's
 * close_all frees the page with the connection (no leak: ASan). */
static void
page_freed_by_close_all(void **state)
{
	struct tw_loop *loop = new_loop();
	struct seen s = { 0 };
	struct tw_page *p;
	char *copy;
	int sv[2];

	(void)state;
	pages_freed = 0;
	p = pattern_page(BIG_LEN, &copy);
	make_pair(PAIR_UNIX, sv);
	conn_on(loop, sv[0], &s);
	assert_int_equal(tw_conn_write_page(s.c, p, 100, BIG_LEN - 200), 0);
	assert_int_equal(tw_conn_write_page(s.c, p, 0, 10), 0);
	tw_conn_send(s.c);
	assert_int_equal(p->refs, 3);
	tw_page_unref(p);
	assert_int_equal(pages_freed, 0);
	end_loop(loop);
	assert_int_equal(pages_freed, 1);
	assert_int_equal(s.closed, 1);
	(void)close(sv[1]);
	free(s.in);
	free(copy);
}

/* ---- the minimum send rate ---- */

/* Long enough that a loaded machine's scheduling (the test and the conn
 * share one process) does not look like a stall. */
#define RATE_WINDOW_MS	1000
#define RATE_MIN	(256 * 1024)	/* bytes a second */
#define SLOW_RATE	(64 * 1024)
#define PLAIN_LEN	(160 * 1024)	/* more than two windows at SLOW_RATE */
#define RATE_LEN	(2 * 1024 * 1024)

/*
 * The far end of a rate test: reads at read_rate bytes a second (by the
 * clock, whatever the ticks' length), or, with read_rate 0, everything
 * the moment it is readable.
 */
struct rate_run {
	struct reader r;	/* first: its timer is the run */
	struct seen s;
	int sv[2];
	uint64_t read_rate;
	uint64_t t0_us;
	bool watched;
};

static void
rate_tick(struct tw_loop *loop, struct tw_timer *t)
{
	struct rate_run *rr = (struct rate_run *)(void *)t;
	uint64_t due = rr->read_rate * (tw_clock_us_now() - rr->t0_us) /
		       1000000;

	rr->r.chunk = due > rr->r.len ? (size_t)(due - rr->r.len) : 0;
	if (rr->r.chunk > 0) {
		reader_tick(loop, t);	/* re-arms itself */
		return;
	}
	tw_loop_timer_set(loop, t, 1, rate_tick);
}

static void
rate_readable(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct rate_run *rr = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	rr->r.chunk = 64 * 1024;
	reader_tick(loop, &rr->r.timer);
	tw_loop_timer_cancel(loop, &rr->r.timer);	/* no ticks */
}

/* A page queued under a progress timeout of RATE_WINDOW_MS wanting rate
 * bytes a second, read at read_rate (0: at once). */
static void
rate_start(struct tw_loop *loop, struct rate_run *rr, struct tw_page *p,
	   uint64_t rate, uint64_t read_rate)
{
	memset(rr, 0, sizeof(*rr));
	make_pair(PAIR_UNIX, rr->sv);
	conn_on(loop, rr->sv[0], &rr->s);
	assert_int_equal(tw_conn_write_page(rr->s.c, p, 0, p->len), 0);
	tw_conn_set_timeout(rr->s.c, RATE_WINDOW_MS, TW_CONN_TIMEOUT_PROGRESS);
	tw_conn_set_min_rate(rr->s.c, rate);
	tw_conn_send(rr->s.c);
	rr->r.fd = rr->sv[1];
	rr->read_rate = read_rate;
	rr->t0_us = tw_clock_us_now();
	if (read_rate > 0) {
		tw_loop_timer_set(loop, &rr->r.timer, 1, rate_tick);
	} else {
		assert_int_equal(tw_loop_add(loop, rr->sv[1], TW_LOOP_READ,
					     rate_readable, rr), 0);
		rr->watched = true;
	}
}

static void
rate_end(struct tw_loop *loop, struct rate_run *rr)
{
	tw_loop_timer_cancel(loop, &rr->r.timer);
	if (rr->watched)
		tw_loop_del(loop, rr->sv[1]);
	(void)close(rr->sv[1]);
	free(rr->r.buf);
	free(rr->s.in);
}

static bool
got_rate_bytes(void *arg)
{
	const struct rate_run *rr = arg;

	return rr->r.len >= PLAIN_LEN || rr->s.closed > 0;
}

/*
 * The conn's send buffer is a few KiB (make_pair), so a reader taking
 * 64 KiB a second lets it write again within every window: progress
 * alone would keep it for ever. With 256 KiB/s wanted it is timed out
 * and its page let go; without a rate (0) the same reader stays for more
 * than two windows. One reading whenever there is something to read
 * gets the whole page under the same rule.
 */
static void
min_rate_ends_slow_reader_only(void **state)
{
	struct tw_loop *loop = new_loop();
	struct rate_run slow, fair, plain;
	struct want_bytes w;
	struct tw_page *p;
	char *copy;

	(void)state;
	pages_freed = 0;
	p = pattern_page(RATE_LEN, &copy);

	rate_start(loop, &slow, p, RATE_MIN, SLOW_RATE);
	run_until(loop, got_closed, &slow.s);
	assert_int_equal(slow.s.timeouts, 1);
	assert_true(slow.r.len < RATE_LEN / 4);
	assert_int_equal(p->refs, 1);

	rate_start(loop, &plain, p, 0, SLOW_RATE);
	run_until(loop, got_rate_bytes, &plain);
	assert_int_equal(plain.s.timeouts, 0);
	assert_int_equal(plain.s.closed, 0);
	tw_conn_close(plain.s.c);
	tw_conn_reap(loop);

	rate_start(loop, &fair, p, RATE_MIN, 0);
	w = (struct want_bytes){ &fair.r, RATE_LEN, &fair.s };
	run_until(loop, got_bytes, &w);
	assert_int_equal(fair.s.timeouts, 0);
	assert_int_equal(fair.r.len, RATE_LEN);
	assert_memory_equal(fair.r.buf, copy, RATE_LEN);

	tw_page_unref(p);
	assert_int_equal(pages_freed, 1);
	rate_end(loop, &slow);
	rate_end(loop, &plain);
	rate_end(loop, &fair);
	end_loop(loop);
	free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(segments_socketpair),
		cmocka_unit_test(segments_tcp),
		cmocka_unit_test(big_bytes_socketpair),
		cmocka_unit_test(big_bytes_tcp),
		cmocka_unit_test(file_without_sendfile),
		cmocka_unit_test(pipelined_answers_share_the_loop),
		cmocka_unit_test(shutdown_write_gives_eof),
		cmocka_unit_test(close_at_drain_makes_no_shutdown),
		cmocka_unit_test(read_now_trusts_a_short_read),
		cmocka_unit_test(peer_reset_closes),
		cmocka_unit_test(connect_succeeds),
		cmocka_unit_test(connect_refused),
		cmocka_unit_test(connect_times_out),
		cmocka_unit_test(two_loops_apart),
		cmocka_unit_test(page_freed_by_last_reader),
		cmocka_unit_test(page_freed_by_close_all),
		cmocka_unit_test(min_rate_ends_slow_reader_only),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
