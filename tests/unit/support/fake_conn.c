/* SPDX-License-Identifier: MIT */
/*
 * The fake conn of fake_conn.h: every call of conn.h over memory.
 */
#include "fake_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "base/page.h"

struct fseg {
	int fd;			/* -1: bytes at q[off..off+len) */
	uint64_t off;
	uint64_t len;
};

struct bytes {
	char *p;
	size_t len;
	size_t cap;
};

struct tw_conn {
	struct tw_loop *loop;	/* only a key: the fake never runs it */
	const struct tw_conn_ops *ops;
	void *ctx;
	char ip[64];
	char rbuf[TW_CONN_RBUF_SIZE];
	size_t rstart;		/* unconsumed input is rbuf[rstart..rlen) */
	size_t rlen;
	struct bytes wire;	/* sent by the peer, not read yet */
	size_t wire_off;
	bool eof;		/* the peer shut down */
	bool eof_seen;		/* on_data has been told */
	struct bytes q;		/* queued byte segments' bytes */
	struct fseg segs[TW_CONN_MAX_SEGS];
	size_t nseg;
	struct bytes out;	/* what the peer received */
	uint64_t sent;
	bool in_run;
	bool closing;
	bool shut_wr;
	bool stalled;		/* the peer is not reading: output waits */
	struct tw_conn_security sec;	/* fake_conn_set_security */
	uint64_t timeout_ms;
	unsigned timeout_flags;
	uint64_t min_rate;	/* the last tw_conn_set_min_rate */
	struct tw_conn *next_reap;
	struct tw_conn *next;	/* all open connections */
};

/* All loops' connections in one list each; the calls that take a loop
 * pick that loop's, as the real conn keeps them apart. */
static struct tw_conn *all_conns;
static struct tw_conn *reap_list;
static unsigned nclosed;
static bool bad_fd;

static void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

struct tw_conn *
fake_conn_new(struct tw_loop *loop, const char *ip)
{
	struct tw_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->loop = loop;
	strncpy(c->ip, ip, sizeof(c->ip) - 1);
	c->next = all_conns;
	all_conns = c;
	return c;
}

struct tw_loop *
tw_conn_loop(const struct tw_conn *c)
{
	return c->loop;
}

struct tw_conn *
tw_conn_create(struct tw_loop *loop, int fd, const struct sockaddr *peer,
	       socklen_t peerlen, int *err)
{
	(void)loop;
	(void)fd;
	(void)peer;
	(void)peerlen;
	*err = -ENOSYS;	/* tests use fake_conn_new */
	return NULL;
}

void
tw_conn_set_ops(struct tw_conn *c, const struct tw_conn_ops *ops, void *ctx)
{
	c->ops = ops;
	c->ctx = ctx;
}

const char *
tw_conn_data(const struct tw_conn *c, size_t *len)
{
	*len = c->rlen - c->rstart;
	return c->rbuf + c->rstart;
}

void
tw_conn_consume(struct tw_conn *c, size_t n)
{
	if (n > c->rlen - c->rstart)
		n = c->rlen - c->rstart;
	c->rstart += n;
	if (c->rstart == c->rlen)
		c->rstart = c->rlen = 0;
}

bool
tw_conn_eof(const struct tw_conn *c)
{
	return c->eof_seen;
}

/* What a real socket would give now: bytes the peer sent and the fake
 * has not fed yet count, as does its shutdown. */
bool
tw_conn_read_now(struct tw_conn *c)
{
	return c->rlen > c->rstart || c->wire_off < c->wire.len || c->eof;
}

bool
tw_conn_input_full(const struct tw_conn *c)
{
	return c->rlen - c->rstart == TW_CONN_RBUF_SIZE;
}

int
tw_conn_write(struct tw_conn *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->nseg == TW_CONN_MAX_SEGS)
		return -ENOBUFS;
	c->segs[c->nseg++] = (struct fseg){ -1, c->q.len, n };
	bytes_add(&c->q, p, n);
	return 0;
}

/* The page's bytes are copied at once: the fake sends nothing later, so
 * it needs no reference of its own. */
int
tw_conn_write_page(struct tw_conn *c, struct tw_page *p, size_t off,
		   size_t len)
{
	return tw_conn_write(c, p->data + off, len);
}

int
tw_conn_write_file(struct tw_conn *c, int fd, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	if (c->nseg == TW_CONN_MAX_SEGS)
		return -ENOBUFS;
	c->segs[c->nseg++] = (struct fseg){ fd, off, len };
	return 0;
}

bool
tw_conn_pending(const struct tw_conn *c)
{
	return c->nseg > 0;
}

uint64_t
tw_conn_bytes_sent(const struct tw_conn *c)
{
	return c->sent;
}

/* Write the whole queue to the peer, as a socket that never blocks. */
static void
flush(struct tw_conn *c)
{
	size_t i;

	for (i = 0; i < c->nseg; i++) {
		const struct fseg *s = &c->segs[i];

		if (s->fd < 0) {
			bytes_add(&c->out, c->q.p + s->off, (size_t)s->len);
		} else {
			char *tmp = malloc((size_t)s->len);
			ssize_t n;

			if (tmp == NULL)
				abort();
			n = pread(s->fd, tmp, (size_t)s->len, (off_t)s->off);
			if (n < 0 && errno == EBADF)
				bad_fd = true;
			if (n > 0)
				bytes_add(&c->out, tmp, (size_t)n);
			free(tmp);
		}
		c->sent += s->len;
	}
	c->nseg = 0;
	c->q.len = 0;
}

/* Read from the wire into the buffer, as conn's fill() does. */
static size_t
fill(struct tw_conn *c)
{
	size_t room, n;

	if (c->rstart > 0 && c->rlen == TW_CONN_RBUF_SIZE) {
		memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
		c->rlen -= c->rstart;
		c->rstart = 0;
	}
	room = TW_CONN_RBUF_SIZE - c->rlen;
	n = c->wire.len - c->wire_off;
	if (n > room)
		n = room;
	if (n > 0)	/* wire.p is NULL until the peer sends */
		memcpy(c->rbuf + c->rlen, c->wire.p + c->wire_off, n);
	c->rlen += n;
	c->wire_off += n;
	if (c->wire_off == c->wire.len)
		c->wire_off = c->wire.len = 0;
	return n;
}

/* conn_run: until neither side moves. */
static void
run(struct tw_conn *c)
{
	if (c->in_run)
		return;
	c->in_run = true;
	while (!c->closing) {
		bool progress = false;

		if (c->nseg > 0 && !c->stalled) {
			flush(c);
			progress = true;
			c->ops->on_drained(c, c->ctx);
			if (c->closing)
				break;
		}
		if (!c->eof_seen) {
			size_t n = fill(c);
			bool eof_now = c->eof && c->wire.len == 0;

			if (n > 0 || eof_now) {
				if (eof_now)
					c->eof_seen = true;
				progress = true;
				c->ops->on_data(c, c->ctx);
			}
		}
		if (!progress)
			break;
	}
	c->in_run = false;
}

void
fake_conn_feed(struct tw_conn *c, const void *p, size_t n)
{
	bytes_add(&c->wire, p, n);
	run(c);
}

void
fake_conn_feed_str(struct tw_conn *c, const char *s)
{
	fake_conn_feed(c, s, strlen(s));
}

void
fake_conn_feed_eof(struct tw_conn *c)
{
	c->eof = true;
	run(c);
}

void
fake_conn_set_stalled(struct tw_conn *c, bool stalled)
{
	c->stalled = stalled;
	if (!stalled && !c->closing)
		run(c);
}

void
fake_conn_fire_timeout(struct tw_conn *c)
{
	if (c->closing || c->timeout_ms == 0)
		abort();
	c->timeout_ms = 0;
	c->ops->on_timeout(c, c->ctx);
}

void
tw_conn_send(struct tw_conn *c)
{
	if (c->closing || c->in_run)
		return;
	run(c);
}

void
tw_conn_set_timeout(struct tw_conn *c, uint64_t ms, unsigned flags)
{
	if (c->closing)
		return;
	c->timeout_ms = ms;
	c->timeout_flags = flags;
}

void
tw_conn_set_min_rate(struct tw_conn *c, uint64_t rate)
{
	if (c->closing || !(c->timeout_flags & TW_CONN_TIMEOUT_PROGRESS))
		return;
	c->min_rate = rate;
}

uint64_t
fake_conn_min_rate(const struct tw_conn *c)
{
	return c->min_rate;
}

void
tw_conn_shutdown_write(struct tw_conn *c)
{
	c->shut_wr = true;
}

void
tw_conn_close(struct tw_conn *c)
{
	struct tw_conn **pp;

	if (c->closing)
		return;
	c->closing = true;
	c->nseg = 0;	/* queued output is discarded */
	for (pp = &all_conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->next_reap = reap_list;
	reap_list = c;
}

bool
tw_conn_closing(const struct tw_conn *c)
{
	return c->closing;
}

void
tw_conn_reap(struct tw_loop *loop)
{
	struct tw_conn **pp = &reap_list;

	while (*pp != NULL) {
		struct tw_conn *c = *pp;

		if (c->loop != loop) {
			pp = &c->next_reap;
			continue;
		}
		*pp = c->next_reap;
		if (c->ops != NULL && c->ops->on_closed != NULL)
			c->ops->on_closed(c, c->ctx);
		nclosed++;
		free(c->wire.p);
		free(c->q.p);
		free(c->out.p);
		free(c);
	}
}

void
tw_conn_close_all(struct tw_loop *loop)
{
	struct tw_conn *c, *next;

	for (c = all_conns; c != NULL; c = next) {
		next = c->next;
		if (c->loop == loop)
			tw_conn_close(c);
	}
	tw_conn_reap(loop);
}

/* Open or closed but not reaped, like the real count. */
size_t
tw_conn_count(struct tw_loop *loop)
{
	const struct tw_conn *c;
	size_t n = 0;

	for (c = all_conns; c != NULL; c = c->next)
		n += c->loop == loop;
	for (c = reap_list; c != NULL; c = c->next_reap)
		n += c->loop == loop;
	return n;
}

void
tw_conn_release_cache(struct tw_loop *loop)
{
	(void)loop;
}

void
tw_conn_memory_short(void)
{
}

const char *
tw_conn_peer(const struct tw_conn *c, char *buf, size_t len)
{
	strncpy(buf, c->ip, len - 1);
	buf[len - 1] = '\0';
	return buf;
}

const char *
fake_conn_output(const struct tw_conn *c, size_t *len)
{
	*len = c->out.len;
	return c->out.p ? c->out.p : "";
}

void
fake_conn_output_clear(struct tw_conn *c)
{
	c->out.len = 0;
}

bool
fake_conn_write_shut(const struct tw_conn *c)
{
	return c->shut_wr;
}

uint64_t
fake_conn_timeout_ms(const struct tw_conn *c)
{
	return c->timeout_ms;
}

unsigned
fake_conn_timeout_flags(const struct tw_conn *c)
{
	return c->timeout_flags;
}

size_t
fake_conn_unconsumed(const struct tw_conn *c)
{
	return c->rlen - c->rstart + c->wire.len - c->wire_off;
}

unsigned
fake_conn_closed_total(void)
{
	return nclosed;
}

bool
fake_conn_saw_bad_fd(void)
{
	return bad_fd;
}

/* No socket behind a fake connection. */
int
tw_conn_fd(const struct tw_conn *c)
{
	(void)c;
	return -1;
}

void
fake_conn_set_security(struct tw_conn *c, const char *protocol,
		       const char *cipher)
{
	c->sec = (struct tw_conn_security){ .secure = true,
					    .protocol = protocol,
					    .cipher = cipher };
}

void
tw_conn_security(const struct tw_conn *c, struct tw_conn_security *out)
{
	*out = c->sec;
}

bool
tw_conn_is_secure(const struct tw_conn *c)
{
	return c->sec.secure;
}

const struct sockaddr *
tw_conn_peer_addr(const struct tw_conn *c)
{
	static struct sockaddr_in loopback;

	(void)c;
	loopback.sin_family = AF_INET;
	loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return (const struct sockaddr *)&loopback;
}
