/* SPDX-License-Identifier: MIT */
/*
 * proxy: the handler that forwards a request to an upstream server and
 * relays the answer, through http's asynchronous exchange on the
 * client's side and conn objects with the proxy's own ops on the
 * upstream's. Per loop and route: the group's balancer (http/upstream,
 * its counters in shared memory) and a pool of idle keep-alive
 * connections. Nothing is buffered beyond one read buffer each way: a
 * side reads no more until the other has taken what it gave. Layer 3.
 */
#include "http/proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stats.h"
#include "http/forward.h"
#include "http/health.h"
#include "http/http.h"
#include "net/conn.h"
#include "net/loop.h"
#include "parse/chunked.h"
#include "parse/http_response.h"

/* An idle pooled connection the upstream has not closed goes after
 * this (nginx's keepalive_timeout for upstreams is 60 s too). */
#define POOL_IDLE_MS	60000

struct proxy_inst;
struct preq;

/* One connection to an upstream server. */
struct upconn {
	struct tw_conn *c;
	struct proxy_inst *pi;
	struct preq *req;	/* the request on it, NULL when pooled */
	struct upconn *prev;	/* the pool of its server, newest first */
	struct upconn *next;
	int server;
	bool connected;
	bool pooled;
	bool reused;		/* taken from the pool for this request */
};

/* One request being forwarded. */
struct preq {
	struct proxy_inst *pi;
	struct tw_http_exchange *x;
	struct upconn *uc;
	struct preq *free_next;	/* the instance's free list */
	struct tw_buf head;	/* the request head, kept for a retry */
	uint64_t tried;		/* servers tried (tw_upstream_pick) */
	unsigned tries;
	int server;		/* -1: none acquired */
	bool idempotent;
	bool upgrade;		/* the client asked for a tunnel */
	bool has_body;
	bool body_chunked;	/* the client's body, re-chunked upstream */
	bool body_done;		/* all of it went upstream */
	uint64_t body_sent;
	struct tw_loop_task kick;	/* the start, after proxy_handle() */
	bool body_ready;	/* http said the body may be read */
	bool pumping;		/* pump() is on the stack */
	bool pump_again;
	bool relaying;		/* relay() is on the stack */
	bool relay_again;
	bool got_any;		/* a byte of the response came */
	bool head_done;		/* the response head went to the client */
	bool head_req;
	bool tunnel;
	bool up_close;		/* the upstream said Connection: close */
	enum tw_http_body framing;
	uint64_t resp_left;	/* TW_BODY_LENGTH: bytes still to come */
	struct tw_chunked rck;	/* TW_BODY_CHUNKED: the response body */
	uint64_t t_start_us;
	uint8_t addr[16];	/* the client's address (ip_hash) */
	size_t addr_len;
	size_t key_off;		/* the target in head (hash) */
	size_t key_len;
};

struct proxy_inst {
	const struct tw_proxy_opts *o;
	const struct tw_proxy_group *g;
	struct tw_upstream *up;
	struct tw_upstream_shared *own_shared;	/* when the group has none */
	char *set_headers;	/* set_header lines, and Expect removed */
	struct tw_buf fields;	/* scratch: response fields */
	struct upconn *pool[TW_UPSTREAM_MAX_SERVERS];
	size_t npooled;
	struct preq *free_reqs;
	struct tw_health *health;	/* the group's checks, if this
					 * instance runs them */
	bool draining;
};

static const struct tw_conn_ops up_ops;
static const struct tw_http_exchange_ops x_ops;

static void req_free(struct preq *pr);
static void stop_checks(struct proxy_inst *pi);
static void try_next(struct preq *pr, bool timeout);
static void pump(struct preq *pr);
static void relay(struct preq *pr);

/* ---- the pool ------------------------------------------------------------ */

static void
pool_del(struct upconn *uc)
{
	struct proxy_inst *pi = uc->pi;

	if (!uc->pooled)
		return;
	uc->pooled = false;
	if (uc->prev != NULL)
		uc->prev->next = uc->next;
	else
		pi->pool[uc->server] = uc->next;
	if (uc->next != NULL)
		uc->next->prev = uc->prev;
	uc->prev = uc->next = NULL;
	pi->npooled--;
}

/* A connection whose last response was complete: kept for the next
 * request to its server, or closed when the pool is full. */
static void
pool_put(struct upconn *uc)
{
	struct proxy_inst *pi = uc->pi;

	uc->req = NULL;
	if (pi->draining || pi->npooled >= pi->g->keepalive ||
	    tw_conn_closing(uc->c)) {
		tw_conn_close(uc->c);
		return;
	}
	uc->pooled = true;
	uc->prev = NULL;
	uc->next = pi->pool[uc->server];
	if (uc->next != NULL)
		uc->next->prev = uc;
	pi->pool[uc->server] = uc;
	pi->npooled++;
	tw_conn_set_timeout(uc->c, POOL_IDLE_MS, 0);
}

static struct upconn *
pool_get(struct proxy_inst *pi, int server)
{
	struct upconn *uc = pi->pool[server];

	if (uc == NULL)
		return NULL;
	pool_del(uc);
	uc->reused = true;
	return uc;
}

/* ---- sending the request ------------------------------------------------- */

static uint64_t
now_ms(void)
{
	return tw_clock_us_now() / 1000;
}

/* The upstream connection goes: closed, its request detached. */
static void
drop_conn(struct preq *pr)
{
	struct upconn *uc = pr->uc;

	if (uc == NULL)
		return;
	uc->req = NULL;
	pr->uc = NULL;
	tw_conn_close(uc->c);
}

/* The server of pr is done with it (least_conn's count). */
static void
release_server(struct preq *pr, bool report, bool ok)
{
	if (pr->server < 0)
		return;
	if (report)
		tw_upstream_report(pr->pi->up, pr->server, ok, now_ms());
	tw_upstream_release(pr->pi->up, pr->server);
	pr->server = -1;
}

static void
send_head(struct preq *pr)
{
	struct upconn *uc = pr->uc;
	const struct tw_proxy_opts *o = pr->pi->o;

	if (tw_conn_write(uc->c, pr->head.data, pr->head.len) < 0) {
		try_next(pr, false);
		return;
	}
	tw_conn_set_timeout(uc->c, pr->has_body ? o->send_timeout_ms :
			    o->read_timeout_ms,
			    pr->has_body ? TW_CONN_TIMEOUT_PROGRESS : 0);
	tw_conn_send(uc->c);
	if (pr->has_body && pr->uc != NULL)
		pump(pr);
}

/* A piece of the client's body upstream, chunk-framed if it came so. */
static int
write_body(struct preq *pr, const char *p, size_t n)
{
	struct tw_conn *c = pr->uc->c;
	char line[20];
	size_t i = sizeof(line);
	uint64_t v = n;
	int err;

	if (!pr->body_chunked || pr->tunnel)
		return tw_conn_write(c, p, n);
	line[--i] = '\n';
	line[--i] = '\r';
	do {
		line[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v != 0);
	err = tw_conn_write(c, line + i, sizeof(line) - i);
	if (err == 0)
		err = tw_conn_write(c, p, n);
	return err == 0 ? tw_conn_write(c, "\r\n", 2) : err;
}

/* The whole body is upstream: now the answer is awaited. */
static void
body_complete(struct preq *pr)
{
	pr->body_done = true;
	if (pr->body_chunked && !pr->tunnel &&
	    tw_conn_write(pr->uc->c, "0\r\n\r\n", 5) < 0) {
		try_next(pr, false);
		return;
	}
	if (!pr->tunnel && !pr->head_done)
		tw_conn_set_timeout(pr->uc->c, pr->pi->o->read_timeout_ms, 0);
}

/*
 * Move the client's body (or, in a tunnel, its bytes) upstream, one
 * read buffer at a time: the next piece is read only once the upstream
 * took the last (on_drained), so neither side is buffered beyond it.
 */
static void
pump_once(struct preq *pr)
{
	const char *p;
	ssize_t n;

	/* Only once http said so: inside proxy_handle() the request's
	 * head is still in front of its body. */
	while (pr->body_ready && pr->uc != NULL && pr->uc->connected &&
	       !pr->body_done && !tw_conn_pending(pr->uc->c)) {
		n = tw_http_body_read(pr->x, &p);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			/* http answered the client: the request is void. */
			release_server(pr, false, false);
			drop_conn(pr);
			req_free(pr);
			return;
		}
		if (n == 0) {
			if (pr->tunnel) {
				pr->body_done = true;
				tw_conn_shutdown_write(pr->uc->c);
				return;
			}
			body_complete(pr);
			break;
		}
		if (pr->pi->o->max_body > 0 && !pr->tunnel &&
		    pr->body_sent + (uint64_t)n > pr->pi->o->max_body) {
			tw_http_fail(pr->x, 413);
			release_server(pr, false, false);
			drop_conn(pr);
			req_free(pr);
			return;
		}
		if (write_body(pr, p, (size_t)n) < 0) {
			tw_http_fail(pr->x, 502);
			release_server(pr, false, false);
			drop_conn(pr);
			req_free(pr);
			return;
		}
		tw_http_body_consume(pr->x, (size_t)n);
		pr->body_sent += (uint64_t)n;
	}
	if (pr->uc != NULL)
		tw_conn_send(pr->uc->c);
}

static void
pump(struct preq *pr)
{
	if (pr->pumping) {
		pr->pump_again = true;
		return;
	}
	pr->pumping = true;
	do {
		pr->pump_again = false;
		pump_once(pr);
	} while (pr->pump_again && pr->uc != NULL);
	/* req_free() leaves the flag to the next user of the struct. */
	pr->pumping = false;
}

/* pr goes to server pr->server: a pooled connection or a new one. */
static int
start(struct preq *pr)
{
	struct proxy_inst *pi = pr->pi;
	const struct tw_proxy_server *s = &pi->g->servers[pr->server];
	struct upconn *uc = pool_get(pi, pr->server);
	int err = 0;

	pr->got_any = false;
	pr->body_sent = 0;
	if (uc != NULL) {
		uc->req = pr;
		pr->uc = uc;
		send_head(pr);
		return 0;
	}
	uc = calloc(1, sizeof(*uc));
	if (uc == NULL)
		return -ENOMEM;
	uc->pi = pi;
	uc->server = pr->server;
	uc->req = pr;
	uc->c = tw_conn_connect(tw_http_loop(pr->x),
				(const struct sockaddr *)&s->addr, s->addrlen,
				pi->o->connect_timeout_ms, &up_ops, uc, &err);
	if (uc->c == NULL) {
		free(uc);
		return err;
	}
	pr->uc = uc;
	return 0;
}

/* The balancer's next choice for pr, acquired. -1 if none is left
 * (every server down or tried, or the tries used up). */
static int
pick(struct preq *pr)
{
	struct proxy_inst *pi = pr->pi;
	struct tw_upstream_key k = {
		.addr = pr->addr, .addr_len = pr->addr_len,
		.key = pr->head.data + pr->key_off, .key_len = pr->key_len,
	};
	unsigned limit = pi->o->next_upstream_tries;
	int i;

	if (limit == 0)
		limit = (unsigned)pi->g->nservers;
	if (pr->tries >= limit)
		return -1;
	i = tw_upstream_pick(pi->up, &k, now_ms(), &pr->tried);
	if (i < 0)
		return -1;
	pr->tries++;
	pr->server = i;
	tw_upstream_acquire(pi->up, i);
	return 0;
}

/* pr on the next server that can take it; -1 if none is left. */
static int
pick_and_start(struct preq *pr)
{
	while (pick(pr) == 0) {
		if (start(pr) == 0)
			return 0;
		release_server(pr, true, false);
	}
	return -1;
}

/*
 * The first start, from the loop once proxy_handle() returned: I/O on
 * the upstream connection may read its answer at once (a pooled one on
 * loopback), and that answer may only meet a running exchange.
 */
static void
kick(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct preq *pr = (struct preq *)(void *)((char *)t -
				offsetof(struct preq, kick));

	(void)loop;
	if (start(pr) == 0)
		return;
	release_server(pr, true, false);
	if (pick_and_start(pr) == 0)
		return;
	tw_http_fail(pr->x, 502);
	req_free(pr);
}

/*
 * The request failed on its server before an answer could start:
 * connect refused or timed out, reset, or closed with nothing said.
 * The next server gets it when that is safe (no body byte was taken
 * from the client, and the method is idempotent or nothing reached the
 * server), else the client gets 502, or 504 for a timeout.
 */
static void
try_next(struct preq *pr, bool timeout)
{
	const struct tw_proxy_opts *o = pr->pi->o;
	struct upconn *uc = pr->uc;
	bool sent = uc != NULL && uc->connected && !uc->reused;
	unsigned cond = timeout ? TW_PROXY_NEXT_TIMEOUT : TW_PROXY_NEXT_ERROR;
	bool may = !pr->got_any && pr->body_sent == 0 && (o->next_upstream &
							 cond) &&
		   (pr->idempotent || !sent ||
		    (o->next_upstream & TW_PROXY_NEXT_NON_IDEMPOTENT));

	bool stale = uc != NULL && uc->reused && !timeout;

	/* A pooled connection the server had closed (keep-alive's race)
	 * is not its fault: the same server again, on another one. */
	if (stale) {
		pr->tried &= ~(UINT64_C(1) << pr->server);
		pr->tries--;
	}
	release_server(pr, !stale, false);
	drop_conn(pr);
	/* Not for a client already gone (or a loop closing everything). */
	if (may && tw_http_alive(pr->x) && pick_and_start(pr) == 0)
		return;
	tw_http_fail(pr->x, timeout ? 504 : 502);
	req_free(pr);
}

/* ---- relaying the response ----------------------------------------------- */

/* The response came whole: the connection may serve the next one. */
static void
response_done(struct preq *pr)
{
	struct upconn *uc = pr->uc;
	size_t len;
	bool reuse = uc != NULL && pr->framing != TW_BODY_CLOSE &&
		     !pr->up_close && pr->body_done && !pr->tunnel &&
		     !tw_conn_eof(uc->c);

	if (uc != NULL) {
		(void)tw_conn_data(uc->c, &len);
		if (len > 0)	/* more than the response: not to be trusted */
			reuse = false;
	}
	release_server(pr, true, true);
	tw_http_end(pr->x);
	if (uc != NULL) {
		pr->uc = NULL;
		if (reuse)
			pool_put(uc);
		else {
			uc->req = NULL;
			tw_conn_close(uc->c);
		}
	}
	req_free(pr);
}

/* The response broke off after its head went out: the client's
 * connection closes (it sees a short body). */
static void
response_cut(struct preq *pr)
{
	release_server(pr, true, false);
	drop_conn(pr);
	tw_http_fail(pr->x, 502);
	req_free(pr);
}

/* Chunked: skip size lines and trailers; the data is at the front. */
static size_t
chunk_data(struct preq *pr, int *done)
{
	struct tw_conn *c = pr->uc->c;
	size_t len, took, body;
	const char *data = tw_conn_data(c, &len);
	uint64_t left;
	int rc;

	*done = 0;
	while (len > 0 && tw_chunked_data_left(&pr->rck) == 0) {
		rc = tw_chunked_feed(&pr->rck, data, 1, &took, &body);
		if (rc < 0) {
			*done = -1;
			return 0;
		}
		tw_conn_consume(c, took);
		data++;
		len--;
		if (rc == TW_CHUNKED_DONE) {
			*done = 1;
			return 0;
		}
	}
	left = tw_chunked_data_left(&pr->rck);
	return len < left ? len : (size_t)left;
}

/* One step: write what the upstream gave, as far as the client takes.
 * Returns false once pr is gone or nothing more can move now. */
static bool
relay_step(struct preq *pr)
{
	struct tw_conn *c = pr->uc->c;
	size_t len, n, took, body;
	const char *data = tw_conn_data(c, &len);
	int done = 0;

	if (pr->framing == TW_BODY_LENGTH) {
		n = len < pr->resp_left ? len : (size_t)pr->resp_left;
	} else if (pr->framing == TW_BODY_CHUNKED) {
		n = chunk_data(pr, &done);
		data = tw_conn_data(c, &len);
		if (done < 0) {
			response_cut(pr);
			return false;
		}
		if (done > 0) {
			response_done(pr);
			return false;
		}
	} else {
		n = len;
	}
	if (n == 0) {
		if (pr->framing == TW_BODY_LENGTH && pr->resp_left == 0) {
			response_done(pr);
			return false;
		}
		if (tw_conn_eof(c)) {
			if (pr->framing == TW_BODY_CLOSE)
				response_done(pr);
			else
				response_cut(pr);
		}
		return false;
	}
	if (tw_http_write(pr->x, data, n) < 0) {
		/* The client is gone: on_abort follows and cleans up. */
		return false;
	}
	if (pr->framing == TW_BODY_CHUNKED)
		(void)tw_chunked_feed(&pr->rck, data, n, &took, &body);
	else if (pr->framing == TW_BODY_LENGTH)
		pr->resp_left -= n;
	tw_conn_consume(c, n);
	if (pr->framing == TW_BODY_LENGTH && pr->resp_left == 0) {
		response_done(pr);
		return false;
	}
	return true;
}

static void
relay(struct preq *pr)
{
	struct tw_conn *c;

	if (pr->relaying) {
		pr->relay_again = true;
		return;
	}
	pr->relaying = true;
	do {
		pr->relay_again = false;
		while (pr->uc != NULL && tw_http_writable(pr->x))
			if (!relay_step(pr))
				break;
		if (pr->uc == NULL)
			return;		/* pr is free or reused: hands off */
		/* Its input may have been full, and reading stopped. */
		c = pr->uc->c;
		tw_conn_send(c);
	} while (pr->relay_again && pr->uc != NULL);
	if (pr->uc != NULL)
		pr->relaying = false;
}

/* Content-Length of a HEAD response, passed on as the server said. */
static uint64_t
head_length(const struct tw_http_response *res)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < res->nheaders; i++) {
		const struct tw_http_header *h = &res->headers[i];

		if (tw_http_token_eq(h->name, h->name_len, "Content-Length") &&
		    tw_http_parse_content_length(h->value, h->value_len,
						 &v) == 0)
			return v;
	}
	return TW_HTTP_LEN_UNKNOWN;
}

static bool
says_close(const struct tw_http_response *res)
{
	size_t i;

	for (i = 0; i < res->nheaders; i++) {
		const struct tw_http_header *h = &res->headers[i];

		if (tw_http_token_eq(h->name, h->name_len, "Connection") &&
		    tw_http_list_has(h->value, h->value_len, "close"))
			return true;
	}
	return res->minor == 0;
}

/* A bad answer from the server: 502, and it counts as a failure. */
static void
bad_response(struct preq *pr, const char *why)
{
	tw_log(TW_LOG_WARN, 0, "upstream %s: %s",
	       pr->pi->g->servers[pr->uc->server].conf.name, why);
	release_server(pr, true, false);
	drop_conn(pr);
	tw_http_fail(pr->x, 502);
	req_free(pr);
}

/*
 * proxy_next_upstream http_502/503/504: this answer is dropped for the
 * next server's, when the request can go again (none of its body was
 * taken from the client; idempotent, or non_idempotent allowed) and a
 * server is left to try; else it goes to the client as it is.
 */
static bool
next_on_status(struct preq *pr, int status)
{
	const struct tw_proxy_opts *o = pr->pi->o;
	unsigned bit = status == 502 ? TW_PROXY_NEXT_502 :
		       status == 503 ? TW_PROXY_NEXT_503 :
		       status == 504 ? TW_PROXY_NEXT_504 : 0;
	unsigned limit = o->next_upstream_tries;
	size_t i, n = pr->pi->g->nservers;
	uint64_t now = now_ms();

	if (!(o->next_upstream & bit) || pr->body_sent > 0 ||
	    (!pr->idempotent && !(o->next_upstream &
				  TW_PROXY_NEXT_NON_IDEMPOTENT)))
		return false;
	if (pr->tries >= (limit == 0 ? (unsigned)n : limit))
		return false;
	for (i = 0; i < n; i++)
		if (!(pr->tried & (UINT64_C(1) << i)) &&
		    tw_upstream_usable(pr->pi->up, (int)i, now))
			return true;
	return false;
}

/* The response head, once complete: parsed, judged, sent on. Returns
 * false when pr is done with (failed) or must wait for more. */
static bool
take_head(struct preq *pr)
{
	struct proxy_inst *pi = pr->pi;
	struct tw_conn *c = pr->uc->c;
	struct tw_http_response res;
	uint64_t len = TW_HTTP_LEN_UNKNOWN, blen = 0;
	size_t avail;
	const char *data;
	int n;

	for (;;) {
		data = tw_conn_data(c, &avail);
		if (avail == 0) {
			if (tw_conn_eof(c))
				try_next(pr, false);
			return false;
		}
		pr->got_any = true;
		n = tw_http_parse_response(data, avail,
					   pi->o->header_buffer_size, &res);
		if (n == TW_PARSE_AGAIN) {
			if (tw_conn_input_full(c))
				bad_response(pr, "response head too large");
			else if (tw_conn_eof(c))
				bad_response(pr, "response head cut short");
			return false;
		}
		if (n < 0) {
			bad_response(pr, n == TW_PARSE_HEADERS_TOO_LARGE ?
				     "response head too large" :
				     "malformed response head");
			return false;
		}
		/* Interim answers (100 Continue) are ours to drop: http
		 * gave the client its own 100. */
		if (res.status >= 100 && res.status < 200 && res.status != 101) {
			tw_conn_consume(c, (size_t)n);
			continue;
		}
		break;
	}
	if (next_on_status(pr, res.status)) {
		release_server(pr, true, false);
		drop_conn(pr);
		if (pick_and_start(pr) < 0) {
			tw_http_fail(pr->x, res.status);
			req_free(pr);
		}
		return false;
	}
	pr->framing = tw_http_response_body(&res, pr->head_req, &blen);
	if (res.status == 101) {
		if (!pr->upgrade) {
			bad_response(pr, "101 to a request without Upgrade");
			return false;
		}
		pr->tunnel = true;
		pr->framing = TW_BODY_CLOSE;
	}
	if (pr->framing == TW_BODY_BAD) {
		bad_response(pr, "ambiguous response framing");
		return false;
	}
	if (pr->framing == TW_BODY_LENGTH)
		len = blen;
	else if (pr->framing == TW_BODY_NONE && pr->head_req)
		len = head_length(&res);
	if (pr->framing == TW_BODY_CHUNKED)
		tw_chunked_init(&pr->rck, UINT64_MAX);
	pr->resp_left = blen;
	pr->up_close = says_close(&res);
	tw_buf_reset(&pi->fields, 16 * 1024);
	tw_forward_response_fields(res.headers, res.nheaders, pr->tunnel,
				   &pi->fields);
	tw_http_set_upstream(pr->x, pi->g->servers[pr->uc->server].conf.name,
			     res.status, tw_clock_us_now() - pr->t_start_us);
	tw_upstream_answered(pi->up, pr->uc->server,
			     tw_clock_us_now() - pr->t_start_us);
	if (pi->fields.failed ||
	    tw_http_respond(pr->x, res.status, pi->fields.data,
			    pi->fields.len, len) < 0) {
		/* The client is gone: on_abort follows. */
		tw_conn_consume(c, (size_t)n);
		return false;
	}
	tw_conn_consume(c, (size_t)n);
	pr->head_done = true;
	if (pr->tunnel) {
		pr->body_done = false;	/* client bytes flow again */
		tw_conn_set_timeout(c, pi->o->read_timeout_ms, 0);
		pump(pr);
		return pr->uc != NULL;
	}
	if (pr->framing == TW_BODY_NONE) {
		response_done(pr);
		return false;
	}
	return true;
}

/* ---- the upstream connection's ops --------------------------------------- */

static void
up_connected(struct tw_conn *c, void *ctx)
{
	struct upconn *uc = ctx;

	(void)c;
	uc->connected = true;
	if (uc->req != NULL)
		send_head(uc->req);
}

static void
up_error(struct tw_conn *c, void *ctx, int err)
{
	struct upconn *uc = ctx;
	struct preq *pr = uc->req;

	(void)c;
	if (pr == NULL)
		return;
	tw_log(TW_LOG_WARN, err, "upstream %s: connect",
	       uc->pi->g->servers[uc->server].conf.name);
	try_next(pr, err == -ETIMEDOUT);
}

static void
up_data(struct tw_conn *c, void *ctx)
{
	struct upconn *uc = ctx;
	struct preq *pr = uc->req;
	size_t len;

	if (pr == NULL) {
		/* Pooled: the server closed it, or said what nobody asked. */
		(void)tw_conn_data(c, &len);
		tw_conn_close(c);
		return;
	}
	if (!pr->tunnel && pr->body_done)
		tw_conn_set_timeout(c, pr->pi->o->read_timeout_ms, 0);
	else if (pr->tunnel)
		tw_conn_set_timeout(c, pr->pi->o->read_timeout_ms, 0);
	if (!pr->head_done && !take_head(pr))
		return;
	relay(pr);
}

static void
up_drained(struct tw_conn *c, void *ctx)
{
	struct upconn *uc = ctx;
	struct preq *pr = uc->req;

	(void)c;
	if (pr == NULL)
		return;
	if (!pr->body_done || pr->tunnel)
		pump(pr);
	if (pr->uc == uc && pr->body_done && !pr->head_done)
		tw_conn_set_timeout(c, pr->pi->o->read_timeout_ms, 0);
}

static void
up_timeout(struct tw_conn *c, void *ctx)
{
	struct upconn *uc = ctx;
	struct preq *pr = uc->req;

	if (pr == NULL) {
		tw_conn_close(c);
		return;
	}
	tw_log(TW_LOG_WARN, -ETIMEDOUT, "upstream %s",
	       uc->pi->g->servers[uc->server].conf.name);
	if (pr->tunnel) {
		release_server(pr, false, true);
		drop_conn(pr);
		tw_http_end(pr->x);
		req_free(pr);
		return;
	}
	if (pr->head_done) {
		response_cut(pr);
		return;
	}
	try_next(pr, true);
}

static void
up_closed(struct tw_conn *c, void *ctx)
{
	struct upconn *uc = ctx;
	struct preq *pr = uc->req;

	(void)c;
	pool_del(uc);
	if (pr != NULL && pr->uc == uc) {
		/* Closed under a request (a reset): as a failure. */
		if (pr->head_done)
			response_cut(pr);
		else
			try_next(pr, false);
	}
	free(uc);
}

static const struct tw_conn_ops up_ops = {
	.on_data = up_data,
	.on_drained = up_drained,
	.on_timeout = up_timeout,
	.on_closed = up_closed,
	.on_connected = up_connected,
	.on_error = up_error,
};

/* ---- the client's side ---------------------------------------------------- */

static void
x_body(struct tw_http_exchange *x, void *ctx)
{
	struct preq *pr = ctx;

	(void)x;
	pr->body_ready = true;
	/* A tunnel is idle only when neither side speaks. */
	if (pr->tunnel && pr->uc != NULL)
		tw_conn_set_timeout(pr->uc->c, pr->pi->o->read_timeout_ms, 0);
	if (pr->uc != NULL && pr->uc->connected && !pr->body_done &&
	    (pr->has_body || pr->tunnel))
		pump(pr);
}

static void
x_drained(struct tw_http_exchange *x, void *ctx)
{
	struct preq *pr = ctx;

	(void)x;
	if (!pr->head_done || pr->uc == NULL)
		return;
	/* The client took what came: the server is not the slow one. */
	tw_conn_set_timeout(pr->uc->c, pr->pi->o->read_timeout_ms, 0);
	relay(pr);
}

static void
x_abort(struct tw_http_exchange *x, void *ctx)
{
	struct preq *pr = ctx;

	(void)x;
	release_server(pr, false, false);
	drop_conn(pr);
	req_free(pr);
}

static const struct tw_http_exchange_ops x_ops = {
	.on_body = x_body,
	.on_drained = x_drained,
	.on_abort = x_abort,
};

/* ---- the handler ----------------------------------------------------------- */

static struct preq *
req_alloc(struct proxy_inst *pi)
{
	struct preq *pr = pi->free_reqs;
	struct tw_buf head;

	if (pr != NULL) {
		pi->free_reqs = pr->free_next;
		head = pr->head;
	} else {
		pr = malloc(sizeof(*pr));
		if (pr == NULL)
			return NULL;
		head = (struct tw_buf){ 0 };
	}
	memset(pr, 0, sizeof(*pr));
	pr->pi = pi;
	pr->server = -1;
	pr->head = head;
	tw_buf_reset(&pr->head, 16 * 1024);
	return pr;
}

/* Back to the instance's free list (the head's memory with it). */
static void
req_free(struct preq *pr)
{
	struct proxy_inst *pi = pr->pi;

	tw_loop_unpost(&pr->kick);
	pr->x = NULL;
	pr->uc = NULL;
	pr->free_next = pi->free_reqs;
	pi->free_reqs = pr;
}

static bool
is_idempotent(const struct tw_http_request *r)
{
	static const char *const m[] = {
		"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE",
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (r->method_len == strlen(m[i]) &&
		    memcmp(r->method, m[i], r->method_len) == 0)
			return true;
	return false;
}

/* The client asks for a tunnel: Upgrade, named in Connection. */
static bool
wants_upgrade(const struct tw_http_request *r)
{
	const struct tw_http_header *u = tw_http_find_header(r, "Upgrade");
	const struct tw_http_header *c = tw_http_find_header(r, "Connection");

	return u != NULL && c != NULL && r->minor >= 1 &&
	       tw_http_list_has(c->value, c->value_len, "upgrade");
}

/* The target to send: proxy_pass's path in front of the client's. */
static void
build_head(struct proxy_inst *pi, const struct tw_http_req *req,
	   struct preq *pr)
{
	const struct tw_http_request *r = req->raw;
	const struct tw_proxy_opts *o = pi->o;
	struct tw_forward_opts fo = {
		.scheme = "http",
		.host = NULL,
		.pass_request_headers = o->pass_request_headers,
		.set_headers = pi->set_headers,
		.upgrade = pr->upgrade,
	};
	const char *t = req->path;
	size_t tlen = r->target_len - (size_t)(req->path - r->target);
	char target[TW_HTTP_MAX_LINE + 1024];
	size_t ulen = o->uri != NULL ? strlen(o->uri) : 0;
	bool has_length = !req->body_chunked &&
			  (req->body_len > 0 || req->method == TW_HTTP_OTHER);

	/* A fragment never goes upstream. */
	if (memchr(t, '#', tlen) != NULL)
		tlen = (size_t)((const char *)memchr(t, '#', tlen) - t);
	if (ulen > 0 && o->prefix != NULL) {
		t += strlen(o->prefix);
		tlen -= strlen(o->prefix);
	}
	if (ulen > 0 && ulen + tlen < sizeof(target)) {
		memcpy(target, o->uri, ulen);
		if (o->prefix == NULL && target[ulen - 1] == '/')
			ulen--;
		memcpy(target + ulen, t, tlen);
		t = target;
		tlen += ulen;
	}
	tw_forward_request_head(r, t, tlen, req->peer, &fo, has_length,
				req->body_len, req->body_chunked, &pr->head);
	pr->key_off = r->method_len + 1;
	pr->key_len = tlen;
	if (req->peer != NULL && req->peer->sa_family == AF_INET) {
		memcpy(pr->addr, &((const struct sockaddr_in *)(const void *)
				   req->peer)->sin_addr, 4);
		pr->addr_len = 4;
	} else if (req->peer != NULL && req->peer->sa_family == AF_INET6) {
		memcpy(pr->addr, &((const struct sockaddr_in6 *)(const void *)
				   req->peer)->sin6_addr, 16);
		pr->addr_len = 16;
	}
}

static int
proxy_handle(const struct tw_http_req *req, struct tw_http_res *res,
	     void *inst)
{
	struct proxy_inst *pi = inst;
	struct preq *pr;

	(void)res;
	if (req->x == NULL)
		return 503;
	if (!req->body_chunked && pi->o->max_body > 0 &&
	    req->body_len > pi->o->max_body)
		return 413;
	/* The location matched the decoded, normalized path; its prefix
	 * is replaced in the raw one only when that starts with it too
	 * ("/x/../api/" matched "/api/" but holds no "/api/" to cut). */
	if (pi->o->uri != NULL && pi->o->prefix != NULL &&
	    (req->path_len < strlen(pi->o->prefix) ||
	     memcmp(req->path, pi->o->prefix, strlen(pi->o->prefix)) != 0))
		return 400;
	pr = req_alloc(pi);
	if (pr == NULL)
		return 503;
	pr->x = req->x;
	pr->t_start_us = tw_clock_us_now();
	pr->idempotent = is_idempotent(req->raw);
	pr->upgrade = wants_upgrade(req->raw);
	pr->head_req = req->method == TW_HTTP_HEAD;
	pr->has_body = req->body_chunked || req->body_len > 0;
	pr->body_chunked = req->body_chunked;
	pr->body_done = !pr->has_body;
	build_head(pi, req, pr);
	if (pr->head.failed) {
		req_free(pr);
		return 503;
	}
	if (pick(pr) < 0) {
		/* Every server down: 502 at once. */
		req_free(pr);
		return 502;
	}
	tw_http_async(req->x, &x_ops, pr);
	tw_loop_post(tw_http_loop(req->x), &pr->kick, kick);
	return TW_HTTP_ASYNC;
}

/* set_header lines, and Expect removed: http answers 100-continue
 * itself, and a server must not wait for a 100 nobody relays. */
static char *
join_set_headers(const struct tw_proxy_opts *o)
{
	size_t i, len = sizeof("Expect: \r\n");
	char *out, *p;

	for (i = 0; i < o->nset_headers; i++)
		len += strlen(o->set_headers[i].name) +
		       strlen(o->set_headers[i].value) + 4;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	p = out;
	for (i = 0; i < o->nset_headers; i++) {
		size_t n = strlen(o->set_headers[i].name);

		memcpy(p, o->set_headers[i].name, n);
		p += n;
		*p++ = ':';
		*p++ = ' ';
		n = strlen(o->set_headers[i].value);
		memcpy(p, o->set_headers[i].value, n);
		p += n;
		*p++ = '\r';
		*p++ = '\n';
	}
	memcpy(p, "Expect: \r\n", sizeof("Expect: \r\n"));
	return out;
}

static void proxy_destroy(void *inst);

static void *
proxy_create(const void *opts, int *err)
{
	const struct tw_proxy_opts *o = opts;
	const struct tw_proxy_group *g = o->group;
	struct tw_upstream_server_conf confs[TW_UPSTREAM_MAX_SERVERS];
	struct tw_upstream_shared *shared;
	struct proxy_inst *pi;
	size_t i;

	if (g == NULL || g->nservers == 0 ||
	    g->nservers > TW_UPSTREAM_MAX_SERVERS) {
		*err = -EINVAL;
		return NULL;
	}
	pi = calloc(1, sizeof(*pi));
	if (pi == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	pi->o = o;
	pi->g = g;
	shared = g->shared;
	if (shared == NULL) {
		pi->own_shared = calloc(g->nservers, sizeof(*shared));
		shared = pi->own_shared;
	}
	pi->set_headers = join_set_headers(o);
	if (shared == NULL || pi->set_headers == NULL) {
		*err = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < g->nservers; i++)
		confs[i] = g->servers[i].conf;
	pi->up = tw_upstream_create(confs, g->nservers, g->balance, shared,
				    err);
	if (pi->up == NULL)
		goto out_free;
	return pi;

out_free:
	proxy_destroy(pi);
	return NULL;
}

static void
proxy_destroy(void *inst)
{
	struct proxy_inst *pi = inst;

	stop_checks(pi);
	while (pi->free_reqs != NULL) {
		struct preq *pr = pi->free_reqs;

		pi->free_reqs = pr->free_next;
		tw_buf_free(&pr->head);
		free(pr);
	}
	if (pi->up != NULL)
		tw_upstream_destroy(pi->up);
	tw_buf_free(&pi->fields);
	free(pi->set_headers);
	free(pi->own_shared);
	free(pi);
}

/*
 * Active checks run on one loop, worker 0's (every mode has one; a new
 * generation's worker 0 takes over from the draining one), once per group
 * however many locations forward to it: the loop keeps which groups it
 * checks already.
 */
#define CHECKED_MAX 128

struct checked {
	size_t n;
	const struct tw_proxy_group *g[CHECKED_MAX];
};

static struct tw_loop_key checked_key;

static int
proxy_attach(void *inst, struct tw_loop *loop)
{
	struct proxy_inst *pi = inst;
	const struct tw_proxy_group *g = pi->g;
	struct tw_stats *st = tw_stats_current();
	struct checked *ck;
	size_t i;
	int err;

	if (g->check.interval_ms == 0 || g->health == NULL ||
	    (st != NULL && tw_stats_self() != &st->workers[0]))
		return 0;
	ck = tw_loop_get(loop, &checked_key);
	if (ck == NULL) {
		ck = calloc(1, sizeof(*ck));
		if (ck == NULL)
			return -ENOMEM;
		err = tw_loop_set(loop, &checked_key, ck, free);
		if (err < 0) {
			free(ck);
			return err;
		}
	}
	for (i = 0; i < ck->n; i++)
		if (ck->g[i] == g)
			return 0;
	if (ck->n == CHECKED_MAX)
		return -ENOSPC;
	pi->health = tw_health_start(loop, g, pi->up, g->health, &err);
	if (pi->health == NULL)
		return err;
	ck->g[ck->n++] = g;
	return 0;
}

static void
stop_checks(struct proxy_inst *pi)
{
	if (pi->health != NULL) {
		tw_health_stop(pi->health);
		pi->health = NULL;
	}
}

/* A draining loop ends when its last connection does: the idle ones
 * in the pool go now, and no more are kept. */
static void
proxy_drain(void *inst)
{
	struct proxy_inst *pi = inst;
	size_t i;

	pi->draining = true;
	stop_checks(pi);
	for (i = 0; i < TW_UPSTREAM_MAX_SERVERS; i++)
		while (pi->pool[i] != NULL) {
			struct upconn *uc = pi->pool[i];

			pool_del(uc);
			tw_conn_close(uc->c);
		}
}

const struct tw_handler tw_proxy_handler = {
	.name = "proxy",
	.any_method = true,
	.handle = proxy_handle,
	.create = proxy_create,
	.destroy = proxy_destroy,
	.attach = proxy_attach,
	.drain = proxy_drain,
};
