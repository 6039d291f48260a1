/* SPDX-License-Identifier: MIT */
/*
 * exchange: asynchronous requests (the proxy's) on an http connection:
 * the request body handed over as it arrives, the response written as
 * the handler produces it, 100 Continue, parking and tunnels. Layer 3:
 * http.c owns the connection; this is the half a handler drives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/stats.h"
#include "http/cors.h"
#include "http/http_conn.h"
#include "net/conn.h"
#include "net/loop.h"
#include "parse/chunked.h"

struct tw_http_exchange *
http_exchange_get(struct http_conn *hc)
{
	if (hc->x == NULL) {
		hc->x = calloc(1, sizeof(*hc->x));
		if (hc->x != NULL)
			hc->x->hc = hc;
	}
	return hc->x;
}

static void exchange_task(struct tw_loop *loop, struct tw_loop_task *t);

/* Calls of the handler into http never call it back on the same stack:
 * what would (a write that drains at once, the next request) runs from
 * a task after the batch. */
static void
exchange_post(struct tw_http_exchange *x)
{
	tw_loop_post(tw_conn_loop(x->hc->c), &x->task, exchange_task);
}

/* The request line and the fields the access log shows, copied. */
static void
exchange_keep_log(struct tw_http_exchange *x, const struct tw_http_request *r)
{
	const struct tw_http_header *ref = tw_http_find_header(r, "Referer");
	const struct tw_http_header *ua = tw_http_find_header(r, "User-Agent");
	struct tw_buf *b = &x->logreq;

	tw_buf_reset(b, 4096);
	tw_buf_append(b, r->method, r->method_len);
	tw_buf_append(b, r->target, r->target_len);
	x->lr_method = r->method_len;
	x->lr_target = r->target_len;
	x->lr_referer = ref != NULL ? ref->value_len : SIZE_MAX;
	x->lr_agent = ua != NULL ? ua->value_len : SIZE_MAX;
	if (ref != NULL)
		tw_buf_append(b, ref->value, ref->value_len);
	if (ua != NULL)
		tw_buf_append(b, ua->value, ua->value_len);
}

/* The copy as a request again, for http_log_access. */
static void
exchange_log_req(const struct tw_http_exchange *x, struct tw_http_request *r)
{
	const char *p = x->logreq.data;

	r->nheaders = 0;
	r->minor = x->minor;
	if (x->logreq.failed || p == NULL) {
		r->method = r->target = "-";
		r->method_len = r->target_len = 1;
		return;
	}
	r->method = p;
	r->method_len = x->lr_method;
	p += x->lr_method;
	r->target = p;
	r->target_len = x->lr_target;
	p += x->lr_target;
	if (x->lr_referer != SIZE_MAX) {
		r->headers[r->nheaders++] = (struct tw_http_header){
			"Referer", 7, p, x->lr_referer };
		p += x->lr_referer;
	}
	if (x->lr_agent != SIZE_MAX)
		r->headers[r->nheaders++] = (struct tw_http_header){
			"User-Agent", 10, p, x->lr_agent };
}

static bool
wants_continue(const struct tw_http_request *r)
{
	const struct tw_http_header *h = tw_http_find_header(r, "Expect");

	return h != NULL && r->minor >= 1 &&
	       tw_http_list_has(h->value, h->value_len, "100-continue");
}

/* A handler took the request (its head is still at the input's front). */
void
http_exchange_begin(struct http_conn *hc, const struct tw_http_request *r,
		    const struct body_fr *fr, bool keep)
{
	struct tw_http_exchange *x = hc->x;

	x->body_left = fr->len;
	x->body_chunked = fr->chunked;
	x->body_done = !fr->chunked && fr->len == 0;
	if (fr->chunked)
		tw_chunked_init(&hc->ck, UINT64_MAX);
	hc->chunked = false;
	hc->skip = 0;
	x->expect = !x->body_done && wants_continue(r);
	x->head_req = http_method_is(r, "HEAD");
	x->keep = keep;
	x->minor = r->minor;
	x->head_sent = x->chunked_out = x->no_body = x->tunnel = false;
	x->ended = x->cut = x->want_send = x->want_body = false;
	x->status = 0;
	x->bytes = 0;
	x->head_len = 0;
	x->unsent = 0;
	x->up_addr[0] = '\0';
	x->up_status = 0;
	x->up_time_us = 0;
	exchange_keep_log(x, r);
	/* The answer's CORS fields now, while the request's Origin is at
	 * hand: its head is consumed before the answer comes. */
	x->srv = hc->route_srv;
	x->scope = hc->route_scope;
	x->lr_cors = x->logreq.len;
	x->cors = hc->route_cors != NULL;
	if (hc->route_cors != NULL)
		(void)tw_cors_fields(hc->route_cors, r, false, &x->logreq);
	hc->route_cors = NULL;	/* in the answer's fields from here */
	hc->async = true;
	http_set_state(hc, ST_WRITING);
	/* The handler's own timeouts bound the wait for its answer; a
	 * client sending a body is held to send_timeout between bytes. */
	tw_conn_set_timeout(hc->c, x->body_done ? 0 :
			    hc->srv->opts->send_timeout_ms, 0);
	if (!x->body_done) {
		x->want_body = true;
		exchange_post(x);
	}
}

/* The access log line and the counters of an exchange that ended. */
static void
exchange_account(struct http_conn *hc, int status)
{
	struct tw_http_exchange *x = hc->x;
	struct tw_stats *st = hc->srv->opts->stats;
	struct tw_http_request r;

	exchange_log_req(x, &r);
	http_log_access(hc, &r, status, x->bytes);
	tw_stats_add(&st->requests, 1);
	if (tw_stats_self() != NULL)
		tw_stats_add(&tw_stats_self()->requests, 1);
	tw_stats_add(&st->status[status / 100 % 6], 1);
	tw_stats_add(&st->bytes_sent, x->head_len + x->bytes);
}

/* The response is written in full: on to keep-alive or the close. */
void
http_exchange_finish(struct http_conn *hc)
{
	struct tw_http_exchange *x = hc->x;

	exchange_account(hc, x->status);
	x->ops = NULL;
	hc->async = false;
	if (x->cut) {
		tw_conn_close(hc->c);
		return;
	}
	hc->close_after = !x->keep;
	if (!x->body_done)
		hc->peer_closes = false;	/* unread body: linger */
	http_after_response(hc);
}

/* The client is gone (closed, reset, timed out) mid-exchange. */
void
http_exchange_abort(struct http_conn *hc)
{
	struct tw_http_exchange *x = hc->x;
	const struct tw_http_exchange_ops *ops = x->ops;

	/* 499 as nginx logs it: the client closed before the answer. */
	exchange_account(hc, x->head_sent ? x->status : 499);
	x->ops = NULL;
	hc->async = false;
	if (ops != NULL && ops->on_abort != NULL)
		ops->on_abort(x, x->ctx);
}

static void
exchange_task(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct tw_http_exchange *x = (struct tw_http_exchange *)(void *)
		((char *)t - offsetof(struct tw_http_exchange, task));
	struct http_conn *hc = x->hc;

	(void)loop;
	if (tw_conn_closing(hc->c))
		return;
	if (x->want_send) {
		x->want_send = false;
		tw_conn_send(hc->c);
		if (tw_conn_closing(hc->c))
			return;
	}
	if (!hc->async)
		return;
	if (x->ended) {
		if (!tw_conn_pending(hc->c))
			http_exchange_finish(hc);
		return;
	}
	if (x->want_body && x->ops != NULL) {
		x->want_body = false;
		x->ops->on_body(x, x->ctx);
	}
}

void
http_exchange_send(struct tw_http_exchange *x)
{
	x->want_send = true;
	exchange_post(x);
}

/* Bytes came from the client while an exchange answers. */
void
http_exchange_data(struct http_conn *hc)
{
	struct tw_http_exchange *x = hc->x;

	/* A pipelined request waits in the input until this one ends. */
	if (x->ops == NULL || (x->body_done && !x->tunnel))
		return;
	if (!x->head_sent && !x->tunnel)
		tw_conn_set_timeout(hc->c, hc->srv->opts->send_timeout_ms, 0);
	x->ops->on_body(x, x->ctx);
}

void
tw_http_park(struct tw_http_exchange *x, void (*cancel)(void *ctx),
	     void *ctx)
{
	x->cancel = cancel;
	x->cancel_ctx = ctx;
}

void
tw_http_resume(struct tw_http_exchange *x, int result)
{
	struct http_conn *hc = x->hc;

	if (!hc->parked)
		return;
	hc->parked = false;
	x->cancel = NULL;
	x->resumed = result;
	if (tw_conn_closing(hc->c))
		return;
	/* As a tw_http_* call on the stack: the answer is sent from a task
	 * (queue_response), so on_drained cannot run the next request
	 * before this one's head is consumed. */
	x->in_api = true;
	http_process(hc);
	x->in_api = false;
}

void
tw_http_async(struct tw_http_exchange *x,
	      const struct tw_http_exchange_ops *ops, void *ctx)
{
	x->ops = ops;
	x->ctx = ctx;
}

struct tw_loop *
tw_http_loop(const struct tw_http_exchange *x)
{
	return tw_conn_loop(x->hc->c);
}

void
tw_http_set_upstream(struct tw_http_exchange *x, const char *addr,
		     int status, uint64_t time_us)
{
	size_t n = strlen(addr);

	if (n >= sizeof(x->up_addr))
		n = sizeof(x->up_addr) - 1;
	memcpy(x->up_addr, addr, n);
	x->up_addr[n] = '\0';
	x->up_status = status;
	x->up_time_us = time_us;
}

/* Answer or cut an exchange the handler gives up on (or a bad body). */
static void
exchange_fail(struct http_conn *hc, int status)
{
	struct tw_http_exchange *x = hc->x;
	struct tw_http_res *res = &hc->hl->res;
	struct tw_http_request r;
	struct tw_http_req req = { .raw = &r, .peer = tw_conn_peer_addr(hc->c),
				   .secure = tw_conn_is_secure(hc->c) };
	bool keep;

	x->ops = NULL;
	if (x->head_sent) {
		/* What was queued still goes (no end of chunks after it),
		 * then the close tells the client its body is short. */
		x->cut = true;
		x->ended = true;
		x->keep = false;
		http_exchange_send(x);
		return;
	}
	exchange_log_req(x, &r);
	keep = x->keep && x->body_done && !hc->hl->stopping;
	if (!x->body_done)
		hc->peer_closes = false;
	http_reset_res(hc->hl, res);
	/* The error page of the request's location (502, 504), without
	 * the request's fields: only the log's copy is left. */
	req.method = x->head_req ? TW_HTTP_HEAD : TW_HTTP_GET;
	hc->route_srv = x->srv;
	hc->route_scope = x->scope;
	http_answer_error(hc, &req, status);
	hc->route_scope = NULL;
	if (!x->logreq.failed)
		tw_buf_append(res->headers, x->logreq.data + x->lr_cors,
			      x->logreq.len - x->lr_cors);
	/* Still async while it queues: the log line shows the upstream. */
	http_queue_response(hc, &r, res, x->head_req, keep);
	hc->async = false;
}

void
tw_http_fail(struct tw_http_exchange *x, int status)
{
	struct http_conn *hc = x->hc;

	x->ops = NULL;
	if (!hc->async || x->ended || tw_conn_closing(hc->c))
		return;
	x->in_api = true;
	exchange_fail(hc, status);
	x->in_api = false;
}

/* The body is malformed or the client stopped sending it. */
static ssize_t
body_bad(struct tw_http_exchange *x)
{
	exchange_fail(x->hc, 400);
	return -EBADMSG;
}

/* Expect: 100-continue: the client waits for our word before the body. */
static void
send_continue(struct tw_http_exchange *x)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	x->expect = false;
	if (tw_conn_write(x->hc->c, cont, sizeof(cont) - 1) == 0)
		http_exchange_send(x);
}

static ssize_t
body_read(struct tw_http_exchange *x, const char **p)
{
	struct http_conn *hc = x->hc;
	struct tw_conn *c = hc->c;
	size_t len, took, body;
	const char *data;
	uint64_t left;
	int rc;

	if (!hc->async || x->ops == NULL)
		return -EBADMSG;
	data = tw_conn_data(c, &len);
	if (x->tunnel) {
		*p = data;
		return len > 0 ? (ssize_t)len : tw_conn_eof(c) ? 0 : -EAGAIN;
	}
	if (x->body_done)
		return 0;
	if (!x->body_chunked) {
		if (len == 0) {
			if (x->expect)
				send_continue(x);
			return tw_conn_eof(c) ? body_bad(x) : -EAGAIN;
		}
		*p = data;
		return (ssize_t)(len < x->body_left ? len : x->body_left);
	}
	/* Chunked: the size lines and trailers are taken here byte by byte
	 * (a few bytes a chunk); the data goes to the handler in place. */
	while (len > 0 && tw_chunked_data_left(&hc->ck) == 0) {
		rc = tw_chunked_feed(&hc->ck, data, 1, &took, &body);
		if (rc < 0)
			return body_bad(x);
		tw_conn_consume(c, took);
		data++;
		len--;
		if (rc == TW_CHUNKED_DONE) {
			x->body_done = true;
			return 0;
		}
	}
	if (len == 0) {
		if (x->expect)
			send_continue(x);
		return tw_conn_eof(c) ? body_bad(x) : -EAGAIN;
	}
	left = tw_chunked_data_left(&hc->ck);
	*p = data;
	return (ssize_t)(len < left ? len : left);
}

ssize_t
tw_http_body_read(struct tw_http_exchange *x, const char **p)
{
	ssize_t n;

	x->in_api = true;
	n = body_read(x, p);
	x->in_api = false;
	return n;
}

void
tw_http_body_consume(struct tw_http_exchange *x, size_t n)
{
	struct http_conn *hc = x->hc;
	size_t len, took, body;
	const char *data = tw_conn_data(hc->c, &len);

	if (!hc->async || n == 0 || n > len)
		return;
	if (x->tunnel) {
		/* raw */
	} else if (x->body_chunked) {
		(void)tw_chunked_feed(&hc->ck, data, n, &took, &body);
	} else {
		x->body_left -= n;
		if (x->body_left == 0)
			x->body_done = true;
	}
	tw_conn_consume(hc->c, n);
	/* The input may have been full, and reading stopped: go on. */
	http_exchange_send(x);
}

/* The fields of an answer (an upstream's) but its Access-Control-*
 * ones: where the location does CORS its own fields stand alone (two
 * Access-Control-Allow-Origin would make the browser refuse). */
static void
append_without_cors(struct tw_buf *h, const char *f, size_t len)
{
	const char *end = f + len, *eol;

	for (; f < end; f = eol) {
		eol = memchr(f, '\n', (size_t)(end - f));
		eol = eol != NULL ? eol + 1 : end;
		if ((size_t)(eol - f) > 15 &&
		    strncasecmp(f, "Access-Control-", 15) == 0)
			continue;
		tw_buf_append(h, f, (size_t)(eol - f));
	}
}

int
tw_http_respond(struct tw_http_exchange *x, int status, const char *fields,
		size_t fields_len, uint64_t len)
{
	struct http_conn *hc = x->hc;
	struct tw_buf *h = &hc->hl->head;
	bool known = len != TW_HTTP_LEN_UNKNOWN;
	bool keep;
	int err;

	if (!hc->async || x->head_sent || tw_conn_closing(hc->c))
		return -EINVAL;
	x->status = status;
	x->tunnel = status == 101;
	x->no_body = !x->tunnel && (x->head_req || status < 200 ||
				     status == 204 || status == 304);
	keep = x->keep && x->body_done && !x->tunnel && !hc->hl->stopping;
	if (!x->no_body && !x->tunnel && !known) {
		if (x->minor >= 1)
			x->chunked_out = true;
		else
			keep = false;	/* HTTP/1.0: the close frames it */
	}
	x->keep = keep;
	tw_buf_reset(h, 16 * 1024);
	tw_buf_append_str(h, "HTTP/1.1 ");
	tw_buf_append_u64(h, (uint64_t)status);
	tw_buf_append_char(h, ' ');
	tw_buf_append_str(h, tw_http_reason(status));
	tw_buf_append_str(h, "\r\nDate: ");
	tw_buf_append_str(h, tw_clock_http_date());
	tw_buf_append_str(h, "\r\nServer: tinyweb\r\n");
	if (x->tunnel) {
		tw_buf_append_str(h, "Connection: upgrade\r\n");
	} else {
		if (x->chunked_out)
			tw_buf_append_str(h, "Transfer-Encoding: chunked\r\n");
		else if (known && status >= 200 && status != 204 &&
			 (status != 304 || x->head_req)) {
			tw_buf_append_str(h, "Content-Length: ");
			tw_buf_append_u64(h, len);
			tw_buf_append_str(h, "\r\n");
		}
		if (!keep)
			tw_buf_append_str(h, "Connection: close\r\n");
		else if (x->minor == 0)
			tw_buf_append_str(h, "Connection: keep-alive\r\n");
	}
	if (x->cors)
		append_without_cors(h, fields, fields_len);
	else if (fields_len > 0)
		tw_buf_append(h, fields, fields_len);
	if (!x->tunnel && !x->logreq.failed)
		tw_buf_append(h, x->logreq.data + x->lr_cors,
			      x->logreq.len - x->lr_cors);
	if (hc->srv->opts->extra_headers != NULL && !x->tunnel)
		tw_buf_append_str(h, hc->srv->opts->extra_headers);
	tw_buf_append_str(h, "\r\n");
	err = h->failed ? -ENOMEM : tw_conn_write(hc->c, h->data, h->len);
	if (err < 0) {
		tw_conn_close(hc->c);
		return err;
	}
	x->head_sent = true;
	x->head_len = h->len;
	x->unsent = h->len;
	x->expect = false;
	if (x->tunnel) {
		/* Either side's silence is the handler's to judge. */
		tw_conn_set_timeout(hc->c, 0, 0);
		x->want_body = true;
	} else {
		tw_conn_set_timeout(hc->c, hc->srv->opts->send_timeout_ms,
				    TW_CONN_TIMEOUT_PROGRESS);
	}
	http_exchange_send(x);
	return 0;
}

/* Half the window: a write comes after at most this much is queued,
 * and a write is at most a read buffer, so no more than 64 KiB wait. */
#define WRITE_WINDOW	(32 * 1024)

bool
tw_http_writable(const struct tw_http_exchange *x)
{
	return x->hc->async && !x->ended &&
	       (x->unsent < WRITE_WINDOW || !tw_conn_pending(x->hc->c));
}

bool
tw_http_alive(const struct tw_http_exchange *x)
{
	return x->hc->async && x->ops != NULL && !tw_conn_closing(x->hc->c);
}

int
tw_http_write(struct tw_http_exchange *x, const void *p, size_t n)
{
	struct http_conn *hc = x->hc;
	int err = 0;

	if (!hc->async || !x->head_sent || x->ended ||
	    tw_conn_closing(hc->c))
		return -EINVAL;
	if (n == 0 || x->no_body)
		return 0;
	if (x->chunked_out) {
		static const char hex[] = "0123456789abcdef";
		char line[20];
		size_t i = sizeof(line);
		uint64_t v = n;

		line[--i] = '\n';
		line[--i] = '\r';
		do {
			line[--i] = hex[v & 15];
			v >>= 4;
		} while (v != 0);
		err = tw_conn_write(hc->c, line + i, sizeof(line) - i);
		if (err == 0)
			err = tw_conn_write(hc->c, p, n);
		if (err == 0)
			err = tw_conn_write(hc->c, "\r\n", 2);
	} else {
		err = tw_conn_write(hc->c, p, n);
	}
	if (err < 0) {
		tw_conn_close(hc->c);
		return err;
	}
	x->bytes += n;
	if (!tw_conn_pending(hc->c))
		x->unsent = 0;
	x->unsent += n;
	http_exchange_send(x);
	return 0;
}

void
tw_http_end(struct tw_http_exchange *x)
{
	struct http_conn *hc = x->hc;

	if (!hc->async || x->ended || tw_conn_closing(hc->c))
		return;
	if (!x->head_sent) {
		tw_http_fail(x, 502);
		return;
	}
	if (x->chunked_out &&
	    tw_conn_write(hc->c, "0\r\n\r\n", 5) < 0) {
		tw_conn_close(hc->c);
		return;
	}
	if (x->tunnel)
		x->keep = false;
	x->ended = true;
	x->ops = NULL;
	http_exchange_send(x);
}
