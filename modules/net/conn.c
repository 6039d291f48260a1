/* SPDX-License-Identifier: MIT */
/*
 * conn: a non-blocking socket with an input buffer, a segment write queue
 * and one timer. Layer 1: knows nothing of the protocol it carries.
 */
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/page.h"
#include "base/pool.h"
#include "base/stats.h"
#include "net/aio.h"
#include "net/loop.h"
#include "net/resident.h"

#define MAX_IOV		16
#define KEEP_OUT_BYTES	(64 * 1024)	/* larger out buffers are freed */
#define MAX_FREE_IO	64		/* cached buffers per loop */
/*
 * Bytes one connection may write before the others ready in the same
 * batch get their turn. A loopback socket takes megabytes per sendfile,
 * which kept the loop away from every other client for milliseconds
 * while one large file went out. 64 KiB, one loopback segment: measured
 * against 32, 128 and 256 KiB (bench rows c and g, interleaved), it
 * moved 100 MiB files 1.33x faster than 256 KiB (a call of several
 * segments leaves its tail to TCP's pacing timer) and cut a small
 * request's p99 beside streaming files to 0.84x.
 */
#define FAIR_BYTES	(64 * 1024)

struct seg {
	int fd;			/* -1: bytes in memory: page->data, or
				 * out.data when page is NULL,
				 * [off..off+len) */
	bool copy;		/* file bytes by pread + send, not sendfile */
	uint64_t off;
	uint64_t len;
	struct tw_page *page;	/* a reference, dropped once sent */
};

struct tw_conn;

/*
 * A window of a file whose pages are not in memory, read by the aio pool
 * so that the sendfile which follows does not stall the loop on the disk.
 */
struct fetch {
	struct tw_aio_job job;	/* first: the job is the fetch */
	struct tw_conn *c;
	int fd;
	uint64_t off;
	size_t len;
	size_t got;
};

/* The buffers of an active connection, returned when it goes idle. */
struct conn_io {
	struct conn_io *next_free;
	size_t rstart;		/* unconsumed input is rbuf[rstart..rlen) */
	size_t rlen;
	struct tw_buf out;
	size_t shead;		/* first unsent segment */
	size_t nseg;
	uint64_t sent;
	/* The send rate a progress timeout demands (tw_conn_set_min_rate),
	 * and where its current span began: a time and io->sent then. */
	uint64_t min_rate;
	uint64_t span_start;
	uint64_t span_sent;
	struct seg segs[TW_CONN_MAX_SEGS];
	/* With aio: file bytes [warm_start, warm_end) of warm_fd are known
	 * to be in memory, so sendfile may go that far without a probe. */
	int warm_fd;
	uint64_t warm_start;
	uint64_t warm_end;
	struct fetch fetch;
	struct tw_loop_task resume;	/* posted when its turn is over */
	struct tw_conn *owner;
	char rbuf[TW_CONN_RBUF_SIZE];
};

/*
 * What a loop's connections share, in the loop's context (one per loop,
 * never touched by another thread, so no locks).
 */
struct conn_loop {
	struct tw_loop *loop;
	struct conn_io *free_io;
	size_t nfree_io;
	struct tw_conn *reap_list;
	/* Connection structs come from the two-level pool: 128 bytes, no
	 * malloc header, so an idle keep-alive connection costs as little
	 * as we can. */
	struct tw_pool *pool;
	size_t nconns;
	struct tw_aio *aio;
	struct tw_resident resident;	/* how to probe each file fd */
	uint64_t copy_min;
	char *copy_buf;		/* FAIR_BYTES, for copy segments */
};

/*
 * Laid out to fill 128 bytes exactly: the open connections of a loop are
 * found through the loop's fd table (tw_loop_each), not a list of their
 * own, which leaves room for the I/O table.
 */
struct tw_conn {
	int fd;
	/* Bits: the struct must stay within a 128-byte pool class. */
	bool readable : 1;	/* edge seen, read has not hit EAGAIN */
	bool writable : 1;
	bool eof : 1;
	bool closing : 1;
	bool shut_wr : 1;	/* shutdown(SHUT_WR) once drained */
	bool shut_done : 1;	/* shutdown(SHUT_WR) made */
	bool in_run : 1;	/* conn_run is on the stack */
	bool hup : 1;		/* the peer's FIN was reported with an edge */
	bool drained_once : 1;	/* a response went out before */
	bool nodelay : 1;	/* TCP_NODELAY is set */
	bool fetching : 1;	/* an aio read is in flight for this conn */
	bool reap_waits : 1;	/* tw_conn_reap passed it over, fetching */
	bool watched : 1;	/* registered with the loop */
	bool connecting : 1;	/* outbound, not established yet */
	bool connect_failed : 1;	/* connect() failed at once: conn_err */
	bool recv_wants_write : 1;	/* tw_conn_io_wait: a write edge */
	bool send_wants_read : 1;	/* ... a read edge retries the other */
	uint8_t timeout_flags;
	union {
		uint32_t timeout_ms;	/* 49 days at most: plenty */
		uint32_t conn_err;	/* connecting: errno to report */
	};
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer;
	struct conn_loop *cl;
	const struct tw_conn_ops *ops;
	void *ctx;
	struct conn_io *io;
	struct tw_conn *next;	/* the reap list, after close */
	const struct tw_conn_io *xio;	/* NULL: the plain socket */
	void *xio_ctx;
	struct tw_timer timer;
};

_Static_assert(sizeof(struct tw_conn) <= TW_POOL_MAX_SMALL,
	       "a connection fits a pool size class");

static struct tw_loop_key conn_key;

static void
conn_loop_destroy(void *p)
{
	struct conn_loop *cl = p;

	while (cl->free_io != NULL) {
		struct conn_io *io = cl->free_io;

		cl->free_io = io->next_free;
		tw_buf_free(&io->out);
		free(io);
	}
	free(cl->copy_buf);
	tw_resident_forget(&cl->resident);
	tw_pool_destroy(cl->pool);
	free(cl);
}

/* loop's connection state, made on first use; NULL on out of memory. */
static struct conn_loop *
conn_loop(struct tw_loop *loop)
{
	struct conn_loop *cl = tw_loop_get(loop, &conn_key);

	if (cl != NULL)
		return cl;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return NULL;
	cl->loop = loop;
	cl->copy_min = TW_CONN_COPY_AUTO;
	cl->pool = tw_pool_create();
	if (cl->pool == NULL ||
	    tw_loop_set(loop, &conn_key, cl, conn_loop_destroy) < 0) {
		tw_pool_destroy(cl->pool);
		free(cl);
		return NULL;
	}
	return cl;
}

/* Connections are being closed for want of memory and the log said so:
 * once per shortage for the process, not once per connection. */
static atomic_bool mem_short;

void
tw_conn_memory_short(void)
{
	if (!atomic_exchange(&mem_short, true))
		tw_log(TW_LOG_ERROR, -ENOMEM, "no memory for a connection: "
		       "closing connections until there is");
}

static void
memory_back(void)
{
	if (atomic_load_explicit(&mem_short, memory_order_relaxed))
		atomic_store(&mem_short, false);
}

static struct conn_io *
io_get(struct conn_loop *cl)
{
	struct conn_io *io = cl->free_io;

	if (io != NULL) {
		cl->free_io = io->next_free;
		cl->nfree_io--;
	} else {
		io = malloc(sizeof(*io));
		if (io == NULL) {
			tw_conn_memory_short();
			return NULL;
		}
		memset(&io->out, 0, sizeof(io->out));
	}
	/* A connection got as far as its buffers: memory is back. */
	memory_back();
	io->rstart = 0;
	io->rlen = 0;
	io->shead = 0;
	io->nseg = 0;
	io->sent = 0;
	io->min_rate = 0;
	io->span_start = 0;
	io->span_sent = 0;
	io->warm_fd = -1;
	io->resume.prev = io->resume.next = NULL;
	return io;
}

/* Let go of the pages still queued: the bytes will never be sent. */
static void
drop_pages(struct conn_io *io)
{
	size_t i;

	for (i = io->shead; i < io->shead + io->nseg; i++) {
		tw_page_unref(io->segs[i].page);
		io->segs[i].page = NULL;
	}
}

static void
io_put(struct conn_loop *cl, struct conn_io *io)
{
	drop_pages(io);
	tw_buf_reset(&io->out, KEEP_OUT_BYTES);
	if (cl->nfree_io >= MAX_FREE_IO) {
		tw_buf_free(&io->out);
		free(io);
		return;
	}
	io->next_free = cl->free_io;
	cl->free_io = io;
	cl->nfree_io++;
}

void
tw_conn_release_cache(struct tw_loop *loop)
{
	struct conn_loop *cl = tw_loop_get(loop, &conn_key);

	if (cl == NULL)
		return;
	while (cl->free_io != NULL) {
		struct conn_io *io = cl->free_io;

		cl->free_io = io->next_free;
		tw_buf_free(&io->out);
		free(io);
	}
	cl->nfree_io = 0;
	free(cl->copy_buf);
	cl->copy_buf = NULL;
}

static bool
io_idle(const struct conn_io *io)
{
	return io->rstart == io->rlen && io->nseg == 0;
}

static void conn_run(struct tw_conn *c);

/* The plain socket: what every connection uses until tw_conn_set_io. The
 * hot paths call these directly rather than through the table. */
static ssize_t
plain_recv(struct tw_conn *c, void *ctx, void *buf, size_t len)
{
	ssize_t n = read(c->fd, buf, len);

	(void)ctx;
	return n < 0 ? -errno : n;
}

static ssize_t
plain_sendv(struct tw_conn *c, void *ctx, const struct iovec *iov,
	    size_t iovcnt, bool more)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)(uintptr_t)iov,
			      .msg_iovlen = iovcnt };
	ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));

	(void)ctx;
	return n < 0 ? -errno : n;
}

static ssize_t
plain_sendfile(struct tw_conn *c, void *ctx, int fd, uint64_t off,
	       size_t len)
{
	off_t o = (off_t)off;
	ssize_t n = sendfile(c->fd, fd, &o, len);

	(void)ctx;
	return n < 0 ? -errno : n;
}

static int
plain_shutdown(struct tw_conn *c, void *ctx)
{
	(void)ctx;
	return shutdown(c->fd, SHUT_WR) < 0 ? -errno : 0;
}

static void
plain_close(struct tw_conn *c, void *ctx)
{
	(void)ctx;
	(void)close(c->fd);
}

const struct tw_conn_io tw_conn_io_plain = {
	.recv = plain_recv,
	.sendv = plain_sendv,
	.sendfile = plain_sendfile,
	.shutdown = plain_shutdown,
	.close = plain_close,
};

void
tw_conn_set_io(struct tw_conn *c, const struct tw_conn_io *io, void *io_ctx)
{
	c->xio = io == &tw_conn_io_plain ? NULL : io;
	c->xio_ctx = io_ctx;
}

void
tw_conn_io_wait(struct tw_conn *c, unsigned events)
{
	if (events & TW_LOOP_WRITE)
		c->recv_wants_write = true;
	if (events & TW_LOOP_READ)
		c->send_wants_read = true;
}

void
tw_conn_security(const struct tw_conn *c, struct tw_conn_security *out)
{
	*out = (struct tw_conn_security){ .secure = false };
	if (c->xio != NULL && c->xio->describe != NULL)
		c->xio->describe(c, c->xio_ctx, out);
}

bool
tw_conn_is_secure(const struct tw_conn *c)
{
	struct tw_conn_security s;

	tw_conn_security(c, &s);
	return s.secure;
}

int
tw_conn_fd(const struct tw_conn *c)
{
	return c->fd;
}

struct tw_loop *
tw_conn_loop(const struct tw_conn *c)
{
	return c->cl->loop;
}

static ssize_t
io_recv(struct tw_conn *c, void *buf, size_t len)
{
	if (c->xio == NULL)
		return plain_recv(c, NULL, buf, len);
	return c->xio->recv(c, c->xio_ctx, buf, len);
}

static ssize_t
io_sendv(struct tw_conn *c, const struct iovec *iov, size_t n, bool more)
{
	if (c->xio == NULL)
		return plain_sendv(c, NULL, iov, n, more);
	return c->xio->sendv(c, c->xio_ctx, iov, n, more);
}

static void
io_shutdown(struct tw_conn *c)
{
	if (c->shut_done)
		return;
	c->shut_done = true;
	if (c->xio == NULL)
		(void)plain_shutdown(c, NULL);
	else
		(void)c->xio->shutdown(c, c->xio_ctx);
}

/* The outbound connect ended: established (err 0) or failed. */
static void
connect_done(struct tw_conn *c, int err)
{
	c->connecting = false;
	c->timeout_ms = 0;
	tw_loop_timer_cancel(c->cl->loop, &c->timer);
	if (err != 0) {
		if (c->ops->on_error != NULL)
			c->ops->on_error(c, c->ctx, err);
		tw_conn_close(c);
		return;
	}
	c->ops->on_connected(c, c->ctx);
	/* A half-close asked for while connecting, with nothing queued. */
	if (!c->closing && c->shut_wr && !tw_conn_pending(c))
		io_shutdown(c);
}

/* A connecting socket reported an event: SO_ERROR says how it went. */
static void
connect_event(struct tw_conn *c, unsigned events)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!(events & (TW_LOOP_WRITE | TW_LOOP_HUP)))
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0 && (events & TW_LOOP_HUP))
		soerr = ECONNRESET;
	connect_done(c, -soerr);
}

static void
on_io(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct tw_conn *c = ctx;

	(void)loop;
	(void)fd;
	if (c->connecting) {
		connect_event(c, events);
		if (c->closing)
			return;
	}
	if (events & (TW_LOOP_READ | TW_LOOP_HUP))
		c->readable = true;
	if (events & TW_LOOP_HUP)
		c->hup = true;
	if (events & (TW_LOOP_WRITE | TW_LOOP_HUP))
		c->writable = true;
	/* An I/O table's call that waits for the other direction. */
	if (c->recv_wants_write && (events & (TW_LOOP_WRITE | TW_LOOP_HUP))) {
		c->recv_wants_write = false;
		c->readable = true;
	}
	if (c->send_wants_read && (events & (TW_LOOP_READ | TW_LOOP_HUP))) {
		c->send_wants_read = false;
		c->writable = true;
	}
	/* Its turn is over and it is posted to go on after the batch: the
	 * events wait for that, so a connection gets one turn a batch. */
	if (c->io != NULL && c->io->resume.prev != NULL)
		return;
	conn_run(c);
}

static void
on_timer(struct tw_loop *loop, struct tw_timer *t)
{
	struct tw_conn *c = (struct tw_conn *)(void *)((char *)t -
					offsetof(struct tw_conn, timer));

	(void)loop;
	if (c->closing)
		return;
	if (c->connecting) {
		connect_done(c, c->connect_failed ? -(int)c->conn_err :
				-ETIMEDOUT);
		return;
	}
	c->timeout_ms = 0;
	c->ops->on_timeout(c, c->ctx);
}

/*
 * An IPv4 client of a dual-stack [::] socket comes as ::ffff:a.b.c.d:
 * made AF_INET here, once, so that the access log, status_allow, the
 * proxy's X-Forwarded-For and ip_hash all see the IPv4 client it is.
 */
static void
unmap_peer(struct tw_conn *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (c->peer.sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&c->peer.sin6.sin6_addr))
		return;
	sin.sin_port = c->peer.sin6.sin6_port;
	memcpy(&sin.sin_addr, &c->peer.sin6.sin6_addr.s6_addr[12], 4);
	memset(&c->peer, 0, sizeof(c->peer));
	c->peer.sin = sin;
}

struct tw_conn *
tw_conn_create(struct tw_loop *loop, int fd, const struct sockaddr *peer,
	       socklen_t peerlen, int *err)
{
	struct conn_loop *cl = conn_loop(loop);
	struct tw_conn *c;

	c = cl != NULL ? tw_pool_alloc(cl->pool, sizeof(*c)) : NULL;
	if (c == NULL) {
		tw_conn_memory_short();
		*err = -ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->cl = cl;
	if (peer != NULL && peerlen <= sizeof(c->peer))
		memcpy(&c->peer, peer, peerlen);
	unmap_peer(c);
	*err = 0;
	cl->nconns++;
	return c;
}

struct tw_conn *
tw_conn_connect(struct tw_loop *loop, const struct sockaddr *addr,
		socklen_t addrlen, uint64_t timeout_ms,
		const struct tw_conn_ops *ops, void *ctx, int *err)
{
	struct tw_conn *c;
	int fd, r;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	r = connect(fd, addr, addrlen) < 0 ? errno : 0;
	c = tw_conn_create(loop, fd, addr, addrlen, err);
	if (c == NULL) {
		(void)close(fd);
		return NULL;
	}
	tw_conn_set_ops(c, ops, ctx);
	c->connecting = true;
	/* Established or failed at once (loopback can do both): still
	 * reported from the loop, never before this returns. A refusal
	 * goes through the timer, which then fires at once. */
	if (r != 0 && r != EINPROGRESS) {
		c->connect_failed = true;
		c->conn_err = (uint32_t)r;
		timeout_ms = 0;
	}
	*err = tw_loop_add(loop, fd, TW_LOOP_READ | TW_LOOP_WRITE |
			   TW_LOOP_EDGE, on_io, c);
	if (*err < 0) {
		c->ops = NULL;	/* no callbacks for a conn never returned */
		tw_conn_close(c);
		return NULL;
	}
	c->watched = true;
	if (timeout_ms > 0 || c->connect_failed)
		tw_loop_timer_set(loop, &c->timer, timeout_ms, on_timer);
	return c;
}

void
tw_conn_set_ops(struct tw_conn *c, const struct tw_conn_ops *ops, void *ctx)
{
	c->ops = ops;
	c->ctx = ctx;
}

void
tw_conn_start(struct tw_conn *c)
{
	if (c->closing || c->connecting)
		return;
	c->readable = true;
	c->writable = true;
	conn_run(c);
}

const char *
tw_conn_data(const struct tw_conn *c, size_t *len)
{
	if (c->io == NULL) {
		*len = 0;
		return NULL;
	}
	*len = c->io->rlen - c->io->rstart;
	return c->io->rbuf + c->io->rstart;
}

void
tw_conn_consume(struct tw_conn *c, size_t n)
{
	struct conn_io *io = c->io;

	if (io == NULL)
		return;
	io->rstart += n;
	if (io->rstart >= io->rlen)
		io->rstart = io->rlen = 0;
}

bool
tw_conn_eof(const struct tw_conn *c)
{
	return c->eof;
}

bool
tw_conn_input_full(const struct tw_conn *c)
{
	return c->io != NULL && c->io->rlen - c->io->rstart == TW_CONN_RBUF_SIZE;
}

static struct conn_io *
io_of(struct tw_conn *c)
{
	if (c->io == NULL)
		c->io = io_get(c->cl);
	return c->io;
}

static struct seg *
new_seg(struct conn_io *io)
{
	if (io->shead + io->nseg == TW_CONN_MAX_SEGS) {
		if (io->shead == 0)
			return NULL;
		memmove(io->segs, io->segs + io->shead,
			io->nseg * sizeof(io->segs[0]));
		io->shead = 0;
	}
	return &io->segs[io->shead + io->nseg++];
}

int
tw_conn_write(struct tw_conn *c, const void *p, size_t n)
{
	struct conn_io *io = io_of(c);
	struct seg *last, *s;

	if (io == NULL)
		return -ENOMEM;
	if (n == 0)
		return 0;
	/* The first response needs no TCP_NODELAY (nothing is unacked yet,
	 * so Nagle does not hold it); later ones on a kept-alive connection
	 * might wait for a delayed ACK without it. One setsockopt, and only
	 * for connections that get that far (nginx does the same). */
	if (c->drained_once && !c->nodelay) {
		int one = 1;

		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
		c->nodelay = true;
	}
	if (io->nseg == 0)
		io->out.len = 0;
	tw_buf_append(&io->out, p, n);
	if (io->out.failed)
		return -ENOMEM;
	last = io->nseg ? &io->segs[io->shead + io->nseg - 1] : NULL;
	if (last != NULL && last->fd < 0 && last->page == NULL &&
	    last->off + last->len == io->out.len - n) {
		last->len += n;
		return 0;
	}
	s = new_seg(io);
	if (s == NULL) {
		io->out.len -= n;
		return -ENOBUFS;
	}
	s->fd = -1;
	s->off = io->out.len - n;
	s->len = n;
	s->page = NULL;
	return 0;
}

int
tw_conn_write_page(struct tw_conn *c, struct tw_page *p, size_t off,
		   size_t len)
{
	struct conn_io *io = io_of(c);
	struct seg *s;

	if (io == NULL)
		return -ENOMEM;
	if (len == 0)
		return 0;
	s = new_seg(io);
	if (s == NULL)
		return -ENOBUFS;
	s->fd = -1;
	s->copy = false;
	s->off = off;
	s->len = len;
	s->page = tw_page_ref(p);
	return 0;
}

int
tw_conn_write_file(struct tw_conn *c, int fd, uint64_t off, uint64_t len)
{
	struct conn_io *io = io_of(c);
	struct seg *s;

	if (io == NULL)
		return -ENOMEM;
	if (len == 0)
		return 0;
	s = new_seg(io);
	if (s == NULL)
		return -ENOBUFS;
	s->fd = fd;
	/* Without sendfile in the I/O table, the copy path is the way. */
	s->copy = len >= c->cl->copy_min ||
		  (c->xio != NULL && c->xio->sendfile == NULL);
	s->off = off;
	s->len = len;
	s->page = NULL;
	return 0;
}

bool
tw_conn_pending(const struct tw_conn *c)
{
	return c->io != NULL && c->io->nseg > 0;
}

uint64_t
tw_conn_bytes_sent(const struct tw_conn *c)
{
	return c->io != NULL ? c->io->sent : 0;
}

static void
arm_timer(struct tw_conn *c)
{
	if (c->timeout_ms == 0)
		tw_loop_timer_cancel(c->cl->loop, &c->timer);
	else
		tw_loop_timer_set(c->cl->loop, &c->timer, c->timeout_ms,
				  on_timer);
}

/* A new span of the rate check begins now. */
static void
span_begin(struct conn_io *io)
{
	io->span_start = tw_clock_ms();
	io->span_sent = io->sent;
}

void
tw_conn_set_timeout(struct tw_conn *c, uint64_t ms, unsigned flags)
{
	if (c->closing || c->connecting)
		return;
	c->timeout_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	c->timeout_flags = (uint8_t)flags;
	if (c->io != NULL) {
		c->io->min_rate = 0;
		span_begin(c->io);
	}
	arm_timer(c);
}

void
tw_conn_set_min_rate(struct tw_conn *c, uint64_t rate)
{
	if (c->closing || c->io == NULL ||
	    !(c->timeout_flags & TW_CONN_TIMEOUT_PROGRESS))
		return;
	c->io->min_rate = rate;
	span_begin(c->io);
}

/*
 * At a write that made progress: has the peer taken min_rate bytes a
 * second over the span since the last check, once that span is a whole
 * timeout long? Each span is at least the timeout and shorter than two
 * (a longer one ends in the timer first: no progress at all), so the
 * average is over about the window the operator chose. Checked here,
 * not by a timer of its own: a reader that keeps up costs one compare
 * per write.
 */
static bool
too_slow(struct tw_conn *c)
{
	struct conn_io *io = c->io;
	uint64_t now, span;

	if (io->min_rate == 0 || c->timeout_ms == 0)
		return false;
	now = tw_clock_ms();
	span = now - io->span_start;
	if (span < c->timeout_ms)
		return false;
	if ((io->sent - io->span_sent) * 1000 < io->min_rate * span)
		return true;
	io->span_start = now;
	io->span_sent = io->sent;
	return false;
}

static void
advance(struct conn_io *io, uint64_t n)
{
	io->sent += n;
	while (n > 0) {
		struct seg *s = &io->segs[io->shead];
		uint64_t take = n < s->len ? n : s->len;

		s->off += take;
		s->len -= take;
		n -= take;
		if (s->len == 0) {
			/* The last reader of a shared page frees it now,
			 * not when the connection closes. */
			tw_page_unref(s->page);
			s->page = NULL;
			io->shead++;
			io->nseg--;
		}
	}
}

int
tw_conn_use_aio(struct tw_loop *loop, struct tw_aio *a)
{
	struct conn_loop *cl = conn_loop(loop);

	if (cl == NULL)
		return -ENOMEM;
	cl->aio = a;
	return 0;
}

struct tw_aio *
tw_conn_aio(const struct tw_loop *loop)
{
	struct conn_loop *cl = tw_loop_get(loop, &conn_key);

	return cl != NULL ? cl->aio : NULL;
}

int
tw_conn_set_copy_min(struct tw_loop *loop, uint64_t n)
{
	struct conn_loop *cl = conn_loop(loop);

	if (cl == NULL)
		return -ENOMEM;
	cl->copy_min = n;
	return 0;
}

/* File bytes by sendfile, or -ENOTSUP if the I/O table cannot. */
static ssize_t
io_sendfile(struct tw_conn *c, const struct seg *s, size_t want)
{
	if (c->xio == NULL)
		return plain_sendfile(c, NULL, s->fd, s->off, want);
	if (c->xio->sendfile == NULL)
		return -ENOTSUP;
	return c->xio->sendfile(c, c->xio_ctx, s->fd, s->off, want);
}

/*
 * File bytes through the loop's buffer: pread, then send. On loopback
 * this beat sendfile by 20-40% on files of megabytes (bench row c), and
 * it is the only way for an I/O table that cannot send files (TLS); bytes
 * read but not taken by a full socket are read again next time. Returns
 * what the send returned, 0 at the end of the file, or -errno.
 */
static ssize_t
copy_out(struct tw_conn *c, const struct seg *s, size_t want)
{
	struct conn_loop *cl = c->cl;
	struct iovec v;
	ssize_t n;

	if (cl->copy_buf == NULL &&
	    (cl->copy_buf = malloc(FAIR_BYTES)) == NULL)
		return io_sendfile(c, s, want);
	if (want > FAIR_BYTES)
		want = FAIR_BYTES;
	n = pread(s->fd, cl->copy_buf, want, (off_t)s->off);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	v.iov_base = cl->copy_buf;
	v.iov_len = (size_t)n;
	return io_sendv(c, &v, 1, false);
}

static void
fetch_work(struct tw_aio_job *j)
{
	struct fetch *f = (struct fetch *)j;
	char *buf = tw_aio_scratch();

	f->got = 0;
	if (buf == NULL) {
		/* No scratch memory: at least start the disk read. */
		(void)readahead(f->fd, (off_t)f->off, f->len);
		return;
	}
	/* The bytes are thrown away: reading them is what puts the pages
	 * in the page cache, where sendfile finds them without waiting. */
	while (f->got < f->len) {
		ssize_t n = pread(f->fd, buf, f->len - f->got,
				  (off_t)(f->off + f->got));

		if (n > 0)
			f->got += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
}

static void
fetch_done(struct tw_aio_job *j)
{
	struct fetch *f = (struct fetch *)j;
	struct tw_conn *c = f->c;
	struct tw_stats *st = tw_stats_current();

	c->fetching = false;
	if (st != NULL) {
		tw_stats_add(&st->aio_reads, 1);
		tw_stats_add(&st->aio_bytes, f->got);
	}
	if (c->closing) {
		/* tw_conn_reap skipped it while the read was in flight. A
		 * read done in the batch that closed it finds it still on
		 * the list: on it twice, the list would loop. */
		if (c->reap_waits) {
			c->reap_waits = false;
			c->next = c->cl->reap_list;
			c->cl->reap_list = c;
		}
		return;
	}
	/* Even a short read (a file that shrank) counts as warm: sendfile
	 * then meets the end of file and the connection ends as usual. */
	c->io->warm_fd = f->fd;
	c->io->warm_start = f->off;
	c->io->warm_end = f->off + f->len;
	conn_run(c);
}

/*
 * How far sendfile may go from s->off without risking a wait on the disk:
 * the rest of a window known warm, else what the page cache holds of the
 * window (net/resident: RWF_NOWAIT probes of its first and last pages,
 * mincore where the file system refuses those, overlayfs). A cold window,
 * or one nobody can tell about, starts a fetch by the aio pool and
 * returns 0: the connection sleeps until it is done while the loop
 * serves everyone else.
 */
static uint64_t
warm_room(struct tw_conn *c, const struct seg *s)
{
	struct conn_io *io = c->io;
	struct fetch *f = &io->fetch;
	uint64_t len = s->len < TW_AIO_SCRATCH ? s->len : TW_AIO_SCRATCH;
	int r;

	if (io->warm_fd == s->fd && s->off >= io->warm_start &&
	    s->off < io->warm_end)
		return io->warm_end - s->off;
	r = tw_resident_check(&c->cl->resident, s->fd, s->off, len);
	if (r == 0 || r == -EOPNOTSUPP) {
		f->job.work = fetch_work;
		f->job.done = fetch_done;
		f->c = c;
		f->fd = s->fd;
		f->off = s->off;
		f->len = (size_t)len;
		c->fetching = true;
		tw_aio_submit(c->cl->aio, &f->job);
		return 0;
	}
	/* In memory, or reading fails (sendfile will say so): go. */
	io->warm_fd = s->fd;
	io->warm_start = s->off;
	io->warm_end = s->off + len;
	return len;
}

static void
on_resume(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct conn_io *io = (struct conn_io *)(void *)((char *)t -
					offsetof(struct conn_io, resume));

	(void)loop;
	conn_run(io->owner);
}

/*
 * Write as much as the socket takes, up to what is left of the turn's
 * *budget (then the connection is posted to go on after the batch). The
 * budget is the whole turn's, not one response's: a client pipelining
 * small requests would otherwise be answered all in one turn while the
 * loop's other connections wait (measured: two clients pipelining 1,000
 * requests of 1 KiB made a fresh request wait 5.6 ms at the median,
 * against 0.24 ms). Consecutive byte segments go out in one sendmsg;
 * MSG_MORE when a file follows lets the kernel put the head and the
 * first body bytes in one packet (what TCP_CORK would do, without two
 * extra setsockopt calls). Returns 1 when drained, 0 on EAGAIN, a turn's
 * end or a fetch in flight, or -errno.
 */
static int
flush(struct tw_conn *c, size_t *budget)
{
	struct conn_io *io = c->io;

	while (io->nseg > 0) {
		struct seg *s = &io->segs[io->shead];
		ssize_t n;

		if (*budget == 0) {
			io->owner = c;
			tw_loop_post(c->cl->loop, &io->resume, on_resume);
			return 0;
		}

		if (s->fd < 0) {
			struct iovec iov[MAX_IOV];
			size_t i;
			bool more = false;

			for (i = 0; i < io->nseg && i < MAX_IOV; i++) {
				struct seg *t = &io->segs[io->shead + i];

				if (t->fd >= 0) {
					more = true;
					break;
				}
				iov[i].iov_base = (t->page != NULL ?
						   (char *)(uintptr_t)t->page->data :
						   io->out.data) + t->off;
				iov[i].iov_len = t->len;
			}
			/* The last bytes before a half-close: held (MSG_MORE)
			 * until io_shutdown, which sends them with the FIN
			 * in one segment. */
			if (c->shut_wr && i == io->nseg)
				more = true;
			n = io_sendv(c, iov, i, more);
		} else {
			/*
			 * Up to the next FAIR_BYTES boundary of the file,
			 * not what is left of the turn's budget: the head
			 * sent before would shift every later read off the
			 * boundaries (and off the 512 KiB windows warm_room
			 * checks), costing a small read and send per window.
			 * A turn may so overrun its budget by one chunk.
			 */
			size_t want = FAIR_BYTES - (size_t)(s->off % FAIR_BYTES);

			if (want > s->len)
				want = (size_t)s->len;

			if (c->cl->aio != NULL) {
				uint64_t room = warm_room(c, s);

				if (room == 0)
					return 0;	/* fetch_done resumes */
				if (want > room)
					want = (size_t)room;
			}
			if (s->copy)
				n = copy_out(c, s, want);
			else
				n = io_sendfile(c, s, want);
			/* A file that shrank under us cannot complete the
			 * promised Content-Length: the peer must see a
			 * short response, so the connection ends. */
			if (n == 0)
				return -ENODATA;
		}
		if (n < 0) {
			/* A signal cut the call short: no edge would come
			 * back for it, so try again now. */
			if (n == -EINTR)
				continue;
			if (n == -EAGAIN) {
				c->writable = false;
				return 0;
			}
			return (int)n;
		}
		advance(io, (uint64_t)n);
		if (c->timeout_flags & TW_CONN_TIMEOUT_PROGRESS) {
			if (too_slow(c)) {
				/* The timeout fires now, from the loop (not
				 * inside this run); no later write may
				 * postpone it. */
				c->timeout_flags = 0;
				tw_loop_timer_set(c->cl->loop, &c->timer, 0,
						  on_timer);
				return 0;
			}
			arm_timer(c);
		}
		*budget -= (size_t)n < *budget ? (size_t)n : *budget;
	}
	io->shead = 0;
	io->sent = 0;
	io->span_sent = 0;
	io->out.len = 0;
	/* The descriptors may be closed and their numbers reused now. */
	io->warm_fd = -1;
	return 1;
}

/* Read until EAGAIN or the buffer is full. Returns bytes read, or -1 if
 * the connection failed. */
static ssize_t
fill(struct tw_conn *c)
{
	struct conn_io *io = c->io;
	ssize_t total = 0;

	if (io->rstart > 0 && io->rlen == TW_CONN_RBUF_SIZE) {
		/* Compacting is safe: the protocol keeps no pointers into
		 * the buffer between callbacks. */
		memmove(io->rbuf, io->rbuf + io->rstart, io->rlen - io->rstart);
		io->rlen -= io->rstart;
		io->rstart = 0;
	}
	while (io->rlen < TW_CONN_RBUF_SIZE) {
		size_t room = TW_CONN_RBUF_SIZE - io->rlen;
		ssize_t n = io_recv(c, io->rbuf + io->rlen, room);

		if (n > 0) {
			io->rlen += (size_t)n;
			total += n;
			/* A short read emptied the socket: the next arrival
			 * raises a new edge, so skip the read that would
			 * only say EAGAIN (one syscall per request). Not
			 * once the FIN is in: no edge would tell us again. */
			if ((size_t)n < room && !c->hup) {
				c->readable = false;
				break;
			}
			continue;
		}
		if (n == 0) {
			c->eof = true;
			c->readable = false;
		} else if (n == -EAGAIN) {
			c->readable = false;
		} else if (n == -EINTR) {
			continue;	/* as in flush: no edge would follow */
		} else {
			return -1;
		}
		break;
	}
	return total;
}

bool
tw_conn_read_now(struct tw_conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL || c->eof || io->rlen > io->rstart)
		return true;
	/* A short read emptied the socket and no edge has come since: as
	 * nginx's read->ready, trusted without a read that would only say
	 * EAGAIN. */
	if (!c->readable)
		return false;
	return fill(c) != 0 || c->eof;
}

/*
 * Why a response ended early, once: a peer that left is its own business
 * (debug); anything else, most often a disk that cannot read the file,
 * is the operator's (error). io->sent counts the queue's bytes so far.
 */
static void
log_cut(struct tw_conn *c, int err)
{
	char ip[64];
	const char *peer = tw_conn_peer(c, ip, sizeof(ip));
	unsigned long long sent = c->io->sent;
	bool theirs = err == -EPIPE || err == -ECONNRESET ||
		      err == -ETIMEDOUT || err == -EHOSTUNREACH ||
		      err == -ENETUNREACH;

	if (err == -ENODATA)
		tw_log(TW_LOG_ERROR, 0, "response to %s cut short after %llu "
		       "bytes: the file shrank", peer, sent);
	else
		tw_log(theirs ? TW_LOG_DEBUG : TW_LOG_ERROR, err,
		       "response to %s cut short after %llu bytes", peer,
		       sent);
}

static void
conn_run(struct tw_conn *c)
{
	size_t budget = FAIR_BYTES;

	if (c->in_run || c->connecting)
		return;
	c->in_run = true;
	/* Edge triggering: loop until neither side can move, or the work
	 * left over would wait for an edge that never comes. Each round
	 * either drains the queue or reads new bytes, so it ends when the
	 * socket says EAGAIN or the protocol stops consuming. */
	while (!c->closing) {
		bool progress = false;

		if (tw_conn_pending(c) && c->writable && !c->fetching) {
			int r = flush(c, &budget);

			if (r < 0) {
				log_cut(c, r);
				tw_conn_close(c);
				break;
			}
			if (r == 1) {
				progress = true;
				c->drained_once = true;
				/* on_drained first: a protocol that closes now
				 * lets close() carry the FIN with the segment
				 * held back, one syscall fewer than shutdown
				 * and close. */
				c->ops->on_drained(c, c->ctx);
				if (c->closing)
					break;
				if (c->shut_wr && !tw_conn_pending(c))
					io_shutdown(c);
			}
		}
		if (c->readable && !c->eof) {
			struct conn_io *io = io_of(c);
			ssize_t n;

			if (io == NULL) {
				tw_conn_close(c);
				break;
			}
			if (io->rlen - io->rstart < TW_CONN_RBUF_SIZE) {
				n = fill(c);
				if (n < 0) {
					tw_conn_close(c);
					break;
				}
				if (n > 0 || c->eof) {
					progress = true;
					c->ops->on_data(c, c->ctx);
				}
			}
		}
		if (!progress)
			break;
	}
	c->in_run = false;
	/*
	 * Edge-triggered, registered once, and only when the connection
	 * outlives its first run: a client that sends its request with the
	 * handshake and closes after one response costs no epoll_ctl. Bytes
	 * that arrived meanwhile are reported at once by the registration.
	 */
	if (!c->closing && !c->watched) {
		if (tw_loop_add(c->cl->loop, c->fd, TW_LOOP_READ | TW_LOOP_WRITE |
				TW_LOOP_EDGE, on_io, c) < 0) {
			tw_conn_close(c);
			return;
		}
		c->watched = true;
	}
	if (!c->closing && c->io != NULL && io_idle(c->io)) {
		tw_loop_unpost(&c->io->resume);
		io_put(c->cl, c->io);
		c->io = NULL;
	}
}

void
tw_conn_send(struct tw_conn *c)
{
	if (c->closing)
		return;
	if (c->in_run) {
		/* conn_run's loop will flush before it returns. */
		return;
	}
	conn_run(c);
}

void
tw_conn_shutdown_write(struct tw_conn *c)
{
	if (c->closing)
		return;
	if (tw_conn_pending(c) || c->connecting)
		c->shut_wr = true;
	else
		io_shutdown(c);
}

void
tw_conn_close(struct tw_conn *c)
{
	struct conn_loop *cl = c->cl;

	if (c->closing)
		return;
	c->closing = true;
	tw_loop_timer_cancel(cl->loop, &c->timer);
	if (c->io != NULL) {
		tw_loop_unpost(&c->io->resume);
		/* Nothing more will be sent: a shared page may go now,
		 * not after the batch. */
		drop_pages(c->io);
	}
	tw_loop_forget(cl->loop, c->fd);
	/* close() also removes the descriptor from the epoll set. */
	if (c->xio == NULL)
		plain_close(c, NULL);
	else
		c->xio->close(c, c->xio_ctx);
	c->fd = -1;
	c->next = cl->reap_list;
	cl->reap_list = c;
}

bool
tw_conn_closing(const struct tw_conn *c)
{
	return c->closing;
}

void
tw_conn_reap(struct tw_loop *loop)
{
	struct conn_loop *cl = tw_loop_get(loop, &conn_key);

	while (cl != NULL && cl->reap_list != NULL) {
		struct tw_conn *c = cl->reap_list;

		cl->reap_list = c->next;
		/* The pool still reads for it: fetch_done brings it back,
		 * and on_closed (which may close the file) waits till then. */
		if (c->fetching) {
			c->reap_waits = true;
			continue;
		}
		if (c->ops != NULL && c->ops->on_closed != NULL)
			c->ops->on_closed(c, c->ctx);
		if (c->io != NULL)
			io_put(cl, c->io);
		cl->nconns--;
		tw_pool_free(cl->pool, c, sizeof(*c));
	}
}

static void
close_one(void *ctx, void *arg)
{
	(void)arg;
	tw_conn_close(ctx);
}

void
tw_conn_close_all(struct tw_loop *loop)
{
	tw_loop_each(loop, on_io, close_one, NULL);
	tw_conn_reap(loop);
}

size_t
tw_conn_count(struct tw_loop *loop)
{
	struct conn_loop *cl = tw_loop_get(loop, &conn_key);

	return cl != NULL ? cl->nconns : 0;
}

const struct sockaddr *
tw_conn_peer_addr(const struct tw_conn *c)
{
	return &c->peer.sa;
}

const char *
tw_conn_peer(const struct tw_conn *c, char *buf, size_t len)
{
	const void *addr;
	int af = c->peer.sa.sa_family;

	if (af == AF_INET) {
		addr = &c->peer.sin.sin_addr;
	} else if (af == AF_INET6) {
		addr = &c->peer.sin6.sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&c->peer.sin6.sin6_addr)) {
			af = AF_INET;
			addr = &c->peer.sin6.sin6_addr.s6_addr[12];
		}
	} else {
		return "-";
	}
	if (inet_ntop(af, addr, buf, (socklen_t)len) == NULL)
		return "-";
	return buf;
}
