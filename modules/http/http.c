/* SPDX-License-Identifier: MIT */
/*
 * http: request lifecycle, keep-alive, pipelining and response
 * serialization. Layer 3: talks to the transport only through conn.
 * Routing is route.c's, asynchronous exchanges exchange.c's and the
 * access log access_log.c's; http_conn.h is what they share.
 */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/pool.h"
#include "http/cors.h"
#include "http/http_conn.h"
#include "net/conn.h"
#include "net/loop.h"
#include "parse/chunked.h"

static struct tw_loop_key http_key;

/* The gauge of each state, for the status counters. */
static _Atomic int64_t *
state_gauge(const struct http_conn *hc, enum hc_state st)
{
	struct tw_stats *s = hc->srv->opts->stats;

	return st == ST_IDLE ? &s->waiting : st == ST_READING ? &s->reading :
			       &s->writing;
}

/* O(1) in and out of the reusable list: no allocation, no scan. */
static void
idle_add(struct http_conn *hc)
{
	struct http_loop *hl = hc->hl;

	if (hc->reusable)
		return;
	hc->reusable = true;
	hc->idle_next = NULL;
	hc->idle_prev = hl->idle_newest;
	if (hl->idle_newest != NULL)
		hl->idle_newest->idle_next = hc;
	else
		hl->idle_oldest = hc;
	hl->idle_newest = hc;
}

static void
idle_del(struct http_conn *hc)
{
	struct http_loop *hl = hc->hl;

	if (!hc->reusable)
		return;
	hc->reusable = false;
	if (hc->idle_prev != NULL)
		hc->idle_prev->idle_next = hc->idle_next;
	else
		hl->idle_oldest = hc->idle_next;
	if (hc->idle_next != NULL)
		hc->idle_next->idle_prev = hc->idle_prev;
	else
		hl->idle_newest = hc->idle_prev;
	hc->idle_prev = hc->idle_next = NULL;
}

void
http_set_state(struct http_conn *hc, enum hc_state st)
{
	if (hc->state == st)
		return;
	tw_stats_gauge(state_gauge(hc, hc->state), -1);
	tw_stats_gauge(state_gauge(hc, st), 1);
	hc->state = st;
}

const char *
tw_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 101: return "Switching Protocols";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 401: return "Unauthorized";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

int
tw_http_status_from_errno(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
	case -ELOOP:	/* a symlink the policy refuses: don't reveal it */
	case -EXDEV:	/* an escape from the root, likewise */
		return 404;
	case -EACCES:
	case -EPERM:
		return 403;
	case -EINVAL:
		return 400;
	case -ENAMETOOLONG:
		return 414;
	case -ENOMEM:
	case -EMFILE:
	case -ENFILE:
		return 503;
	default:
		return 500;
	}
}

struct tw_http_server *
tw_http_create(const struct tw_http_opts *opts,
	       const struct tw_http_route *routes, size_t nroutes)
{
	struct tw_http_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	/* Before any worker or thread starts: large bodies go back to the
	 * system when their last reader is done. */
	tw_page_malloc_setup();
	srv->opts = opts;
	srv->routes = routes;
	srv->nroutes = nroutes;
	for (size_t i = 0; i < nroutes; i++) {
		if (routes[i].handler->any_method)
			srv->has_async = true;
		if (routes[i].handler->may_park)
			srv->has_park = true;
	}
	return srv;
}

void
tw_http_destroy(struct tw_http_server *srv)
{
	free(srv);
}

static void
http_loop_free(struct http_loop *hl)
{
	struct tw_http_server *srv = hl->srv;
	size_t i;

	for (i = 0; hl->inst != NULL && i < srv->nroutes; i++)
		if (hl->inst[i] != NULL &&
		    srv->routes[i].handler->destroy != NULL)
			srv->routes[i].handler->destroy(hl->inst[i]);
	tw_buf_free(&hl->head);
	tw_buf_free(&hl->hdrs);
	tw_buf_free(&hl->body);
	tw_buf_free(&hl->log);
	free(hl->inst);
	tw_pool_destroy(hl->pool);
	free(hl);
}

static void
http_loop_destroy(void *p)
{
	http_loop_free(p);
}

int
tw_http_loop_init(struct tw_loop *loop, void *arg)
{
	struct tw_http_server *srv = arg;
	struct http_loop *hl;
	size_t i;
	int err = -ENOMEM;

	hl = calloc(1, sizeof(*hl));
	if (hl == NULL)
		return -ENOMEM;
	hl->srv = srv;
	hl->pool = tw_pool_create();
	hl->inst = calloc(srv->nroutes ? srv->nroutes : 1, sizeof(*hl->inst));
	if (hl->pool == NULL || hl->inst == NULL)
		goto out_free;
	for (i = 0; i < srv->nroutes; i++) {
		const struct tw_handler *h = srv->routes[i].handler;

		if (h->create == NULL)
			continue;
		hl->inst[i] = h->create(srv->routes[i].opts, &err);
		if (hl->inst[i] == NULL)
			goto out_free;
		if (h->attach != NULL &&
		    (err = h->attach(hl->inst[i], loop)) < 0)
			goto out_free;
	}
	/* loop_exit frees it; the loop does if that never comes. */
	err = tw_loop_set(loop, &http_key, hl, http_loop_destroy);
	if (err < 0)
		goto out_free;
	return 0;

out_free:
	http_loop_free(hl);
	return err;
}

void
tw_http_loop_exit(struct tw_loop *loop, void *arg)
{
	struct http_loop *hl = tw_loop_get(loop, &http_key);

	(void)arg;
	if (hl == NULL)
		return;
	(void)tw_loop_set(loop, &http_key, NULL, NULL);
	http_loop_free(hl);
}

void
http_reset_res(struct http_loop *hl, struct tw_http_res *res)
{
	/* A handler that declined may still have taken a page. */
	tw_page_unref(res->page);
	res->page = NULL;
	tw_buf_reset(&hl->hdrs, 16 * 1024);
	tw_buf_reset(&hl->body, 256 * 1024);
	res->status = 200;
	res->headers = &hl->hdrs;
	res->body = &hl->body;
	res->fd = -1;
	res->fd_release = NULL;
	res->fd_ctx = NULL;
	res->no_length = false;
	res->internal_uri = NULL;
	res->nseg = 0;
}

/* Let go of a response file: close it, or hand a cached one back. */
static void
put_fd(int fd, void (*release)(void *ctx), void *ctx)
{
	if (release != NULL)
		release(ctx);
	else if (fd >= 0)
		(void)close(fd);
}

/* A small HTML page for an error status. */
void
http_error_page(struct tw_http_res *res, int status)
{
	const char *reason = tw_http_reason(status);
	char code[20];
	size_t n = tw_buf_fmt_u64(code, (uint64_t)status);
	struct tw_buf *b = res->body;

	res->status = status;
	tw_buf_append_str(res->headers,
			  "Content-Type: text/html; charset=utf-8\r\n");
	if (status == 405)
		tw_buf_append_str(res->headers, "Allow: " ALLOW_METHODS "\r\n");
	tw_buf_reset(b, 256 * 1024);
	tw_buf_append_str(b, "<!DOCTYPE html>\n<html><head><title>");
	tw_buf_append(b, code, n);
	tw_buf_append_char(b, ' ');
	tw_buf_append_str(b, reason);
	tw_buf_append_str(b, "</title></head>\n<body><h1>");
	tw_buf_append(b, code, n);
	tw_buf_append_char(b, ' ');
	tw_buf_append_str(b, reason);
	tw_buf_append_str(b, "</h1></body></html>\n");
	res->nseg = 1;
	res->segs[0].kind = TW_HTTP_SEG_BODY;
	res->segs[0].off = 0;
	res->segs[0].len = b->len;
}

/* Let go of what the response holds: its file and its page (a queued
 * page has a reference of the connection's own). */
void
http_close_res_fd(struct tw_http_res *res)
{
	put_fd(res->fd, res->fd_release, res->fd_ctx);
	res->fd = -1;
	res->fd_release = NULL;
	res->fd_ctx = NULL;
	tw_page_unref(res->page);
	res->page = NULL;
}

/*
 * Serialize and queue res. head_only: HEAD, headers without the body.
 * keep: the connection stays open afterwards.
 */
void
http_queue_response(struct http_conn *hc, const struct tw_http_request *r,
		    struct tw_http_res *res, bool head_only, bool keep)
{
	struct tw_buf *h = &hc->hl->head;
	const char *reason = tw_http_reason(res->status);
	uint64_t total = 0;
	bool uses_fd = false;
	size_t i;
	int err = 0;

	for (i = 0; i < res->nseg; i++)
		total += res->segs[i].len;
	tw_buf_reset(h, 16 * 1024);
	tw_buf_append_str(h, "HTTP/1.1 ");
	tw_buf_append_u64(h, (uint64_t)res->status);
	tw_buf_append_char(h, ' ');
	tw_buf_append_str(h, reason);
	tw_buf_append_str(h, "\r\nDate: ");
	tw_buf_append_str(h, tw_clock_http_date());
	tw_buf_append_str(h, "\r\nServer: tinyweb\r\n");
	if (!res->no_length) {
		tw_buf_append_str(h, "Content-Length: ");
		tw_buf_append_u64(h, total);
		tw_buf_append_str(h, "\r\n");
	}
	if (!keep)
		tw_buf_append_str(h, "Connection: close\r\n");
	else if (r != NULL && r->minor == 0)
		tw_buf_append_str(h, "Connection: keep-alive\r\n");
	tw_buf_append(h, res->headers->data, res->headers->len);
	if (r != NULL && hc->route_cors != NULL)
		(void)tw_cors_fields(hc->route_cors, r, false, h);
	if (hc->route_headers != NULL)
		tw_buf_append_str(h, hc->route_headers);
	else if (hc->srv->opts->extra_headers != NULL)
		tw_buf_append_str(h, hc->srv->opts->extra_headers);
	tw_buf_append_str(h, "\r\n");
	if (h->failed || res->headers->failed || res->body->failed) {
		http_close_res_fd(res);
		tw_conn_close(hc->c);
		return;
	}
	err = tw_conn_write(hc->c, h->data, h->len);
	for (i = 0; err == 0 && !head_only && i < res->nseg; i++) {
		const struct tw_http_seg *s = &res->segs[i];

		if (s->kind == TW_HTTP_SEG_BODY) {
			err = tw_conn_write(hc->c, res->body->data + s->off,
					    s->len);
		} else if (s->kind == TW_HTTP_SEG_MEM) {
			err = tw_conn_write(hc->c, s->mem + s->off, s->len);
		} else if (s->kind == TW_HTTP_SEG_PAGE) {
			err = tw_conn_write_page(hc->c, res->page,
						 (size_t)s->off, (size_t)s->len);
		} else {
			err = tw_conn_write_file(hc->c, res->fd, s->off, s->len);
			uses_fd = true;
		}
	}
	http_log_access(hc, r, res->status, head_only ? 0 : total);
	if (err < 0) {
		http_close_res_fd(res);
		tw_conn_close(hc->c);
		return;
	}
	if (uses_fd) {
		hc->fd = res->fd;
		hc->fd_release = res->fd_release;
		hc->fd_ctx = res->fd_ctx;
		res->fd = -1;
		res->fd_release = NULL;
		res->fd_ctx = NULL;
	}
	http_close_res_fd(res);
	hc->close_after = !keep;
	http_set_state(hc, ST_WRITING);
	/* Every answer counts as a request, the malformed ones too, so the
	 * total is the sum of the status classes. */
	tw_stats_add(&hc->srv->opts->stats->requests, 1);
	if (tw_stats_self() != NULL)
		tw_stats_add(&tw_stats_self()->requests, 1);
	tw_stats_add(&hc->srv->opts->stats->status[res->status / 100 % 6], 1);
	tw_stats_add(&hc->srv->opts->stats->bytes_sent,
		     head_only ? h->len : h->len + total);
	tw_conn_set_timeout(hc->c, hc->srv->opts->send_timeout_ms,
			    TW_CONN_TIMEOUT_PROGRESS);
	/* A reader taking a few bytes a minute would otherwise hold the
	 * connection and its queued body for ever. */
	tw_conn_set_min_rate(hc->c, hc->srv->opts->send_min_rate);
	/*
	 * The last response: asked now, the half-close lets conn hold back
	 * the response's final segment so the FIN rides in it, one packet
	 * fewer for the client than a FIN of its own after the drain
	 * (after_response closes or lingers as before). Not over TLS: its
	 * close_notify is a record of its own, so no segment is saved, and
	 * a client quick to answer the early FIN with its own would make
	 * after_response linger rather than close at once.
	 */
	if (!keep && !tw_conn_is_secure(hc->c))
		tw_conn_shutdown_write(hc->c);
	if (hc->x != NULL && hc->x->in_api)
		http_exchange_send(hc->x);
	else
		tw_conn_send(hc->c);
}

/* Answer with an error page and close: used when the request stream can
 * no longer be trusted (bad framing, limits). */
void
http_fail(struct http_conn *hc, const struct tw_http_request *r, int status,
	  bool head_only)
{
	struct tw_http_res *res = &hc->hl->res;

	http_reset_res(hc->hl, res);
	http_error_page(res, status);
	/* Whatever else the client sent is not read: stop parsing. */
	tw_conn_consume(hc->c, (size_t)-1 / 2);
	http_queue_response(hc, r, res, head_only, false);
}

bool
http_method_is(const struct tw_http_request *r, const char *m)
{
	/* Methods are case-sensitive (RFC 9110 9.1). */
	return r->method_len == strlen(m) &&
	       memcmp(r->method, m, r->method_len) == 0;
}

/* Host rules (RFC 9112 3.2) in one pass over the headers: at most one
 * Host, required for HTTP/1.1, and a valid value. */
static bool
host_ok(const struct tw_http_request *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nheaders; i++) {
		const struct tw_http_header *h = &r->headers[i];

		if (!tw_http_token_eq(h->name, h->name_len, "Host"))
			continue;
		if (++n > 1 || !tw_http_host_valid(h->value, h->value_len))
			return false;
	}
	return n == 1 || r->minor == 0;
}

/* Framing of a request body (RFC 9112 6): returns 0 and fills *fr, or
 * an error status. Every error closes the connection (http_fail()), so no
 * byte after a head whose framing we refuse is read as a request. */
static int
body_framing(const struct tw_http_request *r, struct body_fr *fr)
{
	enum tw_http_te te = tw_http_transfer_encoding(r);
	uint64_t len = 0, v;
	size_t i;
	bool seen = false;

	for (i = 0; i < r->nheaders; i++) {
		const struct tw_http_header *h = &r->headers[i];

		if (!tw_http_token_eq(h->name, h->name_len, "Content-Length"))
			continue;
		if (tw_http_parse_content_length(h->value, h->value_len, &v) < 0)
			return 400;
		if (seen && v != len)
			return 400;
		seen = true;
		len = v;
	}
	fr->chunked = false;
	fr->len = len;
	if (te != TW_TE_NONE) {
		/* Both framings at once is the request-smuggling shape; in
		 * HTTP/1.0, or with chunked not last, the framing is faulty
		 * (RFC 9112 6.1, 6.3). A coding we don't know is 501
		 * (RFC 9112 6.1). */
		if (seen || te == TW_TE_BAD || r->minor == 0)
			return 400;
		if (te != TW_TE_CHUNKED)
			return 501;
		fr->chunked = true;
	}
	return 0;
}

static int chunked_ahead(struct http_conn *hc, size_t head_len,
			 size_t *ahead);

/* A body nobody reads is discarded, up to max_discard_body (a chunked
 * one is decoded as far as it came: see chunked_ahead). Returns 0 and
 * sets hc->skip or starts hc->ck, or the status to answer with. */
int
http_start_discard(struct http_conn *hc, const struct body_fr *fr,
		   size_t head_len, size_t *ahead)
{
	if (fr->chunked) {
		hc->skip = 0;
		tw_chunked_init(&hc->ck, hc->srv->opts->max_discard_body);
		hc->chunked = true;
		return chunked_ahead(hc, head_len, ahead);
	}
	if (fr->len > hc->srv->opts->max_discard_body)
		return 413;
	hc->skip = fr->len;
	return 0;
}

/* Decode what already came of a chunked body after the head at the
 * input's front: a body we would refuse is answered 400 or 413 (and the
 * connection closed) before any handler runs, as far as it has arrived.
 * Returns 0 and sets *ahead to the body bytes taken, or the status. */
static int
chunked_ahead(struct http_conn *hc, size_t head_len, size_t *ahead)
{
	size_t len, body;
	const char *data = tw_conn_data(hc->c, &len);
	int rc = tw_chunked_feed(&hc->ck, data + head_len, len - head_len,
				 ahead, &body);

	if (rc < 0) {
		hc->chunked = false;
		return -rc;
	}
	if (rc == TW_CHUNKED_DONE)
		hc->chunked = false;
	return 0;
}

static bool
wants_keepalive(const struct http_conn *hc, const struct tw_http_request *r)
{
	const struct tw_http_header *h = tw_http_find_header(r, "Connection");
	bool close_tok = h && tw_http_list_has(h->value, h->value_len, "close");
	bool ka_tok = h && tw_http_list_has(h->value, h->value_len, "keep-alive");

	if (hc->nreq >= hc->srv->opts->max_keepalive_requests ||
	    hc->hl->stopping)
		return false;
	if (r->minor >= 1)
		return !close_tok;
	return ka_tok && !close_tok;
}

/* The client's own word that this is its last request on the
 * connection: Connection: close, or HTTP/1.0 without keep-alive. */
static bool
peer_closes(const struct tw_http_request *r)
{
	const struct tw_http_header *h = tw_http_find_header(r, "Connection");

	if (h != NULL && tw_http_list_has(h->value, h->value_len, "close"))
		return true;
	return r->minor == 0 && (h == NULL ||
				 !tw_http_list_has(h->value, h->value_len,
						   "keep-alive"));
}

/* One complete request head of head_len bytes is at the input's front. */
static void
handle_request(struct http_conn *hc, const struct tw_http_request *r,
	       size_t head_len)
{
	bool head = http_method_is(r, "HEAD");
	size_t ahead = 0;
	int status;
	bool keep;

	struct body_fr fr;

	hc->nreq++;
	/* An earlier exchange's, maybe (it answers after http_route). */
	hc->route_headers = NULL;
	hc->route_scope = NULL;
	hc->route_cors = NULL;
	if (!host_ok(r)) {
		http_fail(hc, r, 400, head);
		return;
	}
	status = body_framing(r, &fr);
	if (status == 0 && !hc->srv->has_async)
		status = http_start_discard(hc, &fr, head_len, &ahead);
	if (status != 0) {
		http_fail(hc, r, status, head);
		return;
	}
	keep = wants_keepalive(hc, r);
	hc->peer_closes = peer_closes(r);
	http_route(hc, r, keep, &fr, head_len, &ahead);
	if (hc->parked) {
		/* The request comes again whole at tw_http_resume: count
		 * it and frame its body then. */
		hc->nreq--;
		hc->skip = 0;
		hc->chunked = false;
		return;
	}
	/* The slices in r point into the input; drop it only now. */
	tw_conn_consume(hc->c, head_len + ahead);
}

/*
 * Drain (reload, upgrade, graceful stop): a connection we would close
 * while idle may have a request on its way already, and a client that
 * does not retry would lose it (nginx loses it too). So an idle one, or
 * one that has not sent its first byte, stays open DRAIN_GRACE_MS more
 * (or its own timeout, if shorter): a request that comes in the
 * meantime is answered with Connection: close (wants_keepalive), and only
 * one that stays silent is closed. A request on its way arrives within a
 * round trip; 2 s covers slow paths and the client's own pause between
 * requests, and the old generation still goes soon after a reload. A
 * response in progress is not cut short: only send_timeout ends it, as on
 * any connection, so a large download keeps its old generation alive
 * until it completes (as in nginx without worker_shutdown_timeout).
 */
#define DRAIN_GRACE_MS	2000

/* Never longer than the connection's own wait: keepalive_timeout when
 * idle, header_timeout when nothing came yet. */
static uint64_t
drain_grace_ms(const struct tw_http_opts *o, enum hc_state st)
{
	uint64_t own = st == ST_IDLE ? o->keepalive_timeout_ms :
				       o->header_timeout_ms;

	return own > 0 && own < DRAIN_GRACE_MS ? own : DRAIN_GRACE_MS;
}

static void
go_idle(struct http_conn *hc)
{
	if (hc->state == ST_IDLE)
		return;
	http_set_state(hc, ST_IDLE);
	idle_add(hc);
	tw_conn_set_timeout(hc->c, hc->hl->stopping ?
			    drain_grace_ms(hc->srv->opts, ST_IDLE) :
			    hc->srv->opts->keepalive_timeout_ms, 0);
}

void
http_process(struct http_conn *hc)
{
	struct tw_http_request r;

	if (hc->async) {
		http_exchange_data(hc);
		return;
	}
	/* An exchange that began here reads its body on its own; a parked
	 * request waits in the input until it is resumed. */
	while (!tw_conn_closing(hc->c) && !tw_conn_pending(hc->c) &&
	       !hc->async && !hc->parked) {
		size_t len;
		const char *data = tw_conn_data(hc->c, &len);
		int n;

		if (hc->chunked && len > 0) {
			size_t took, body;
			int rc = tw_chunked_feed(&hc->ck, data, len, &took,
						 &body);

			tw_conn_consume(hc->c, took);
			if (rc < 0) {
				/* The request is answered already; one answer
				 * is all it gets, and what follows the bad
				 * chunk cannot be framed. */
				hc->chunked = false;
				tw_conn_close(hc->c);
				return;
			}
			if (rc == TW_CHUNKED_DONE)
				hc->chunked = false;
			continue;
		}
		if (hc->skip > 0 && len > 0) {
			size_t take = hc->skip < len ? (size_t)hc->skip : len;

			tw_conn_consume(hc->c, take);
			hc->skip -= take;
			continue;
		}
		if (len == 0) {
			if (tw_conn_eof(hc->c))
				tw_conn_close(hc->c);
			else if (hc->skip == 0 && !hc->chunked)
				go_idle(hc);
			return;
		}
		/* A request has begun: no longer a connection to shed. */
		idle_del(hc);
		if (hc->state != ST_READING) {
			http_set_state(hc, ST_READING);
			hc->last_len = 0;
			if (hc->srv->opts->log_format == TW_LOG_FORMAT_JSON)
				hc->t_start_us = tw_clock_us_now();
			/* Absolute: trickling bytes does not extend it. */
			tw_conn_set_timeout(hc->c,
					    hc->srv->opts->header_timeout_ms, 0);
		}
		n = tw_http_parse_request(data, len, hc->last_len, &r);
		if (n == TW_PARSE_AGAIN) {
			hc->last_len = len;
			if (tw_conn_eof(hc->c))
				tw_conn_close(hc->c);
			return;
		}
		if (n < 0) {
			http_fail(hc, NULL, -n, false);
			return;
		}
		hc->last_len = 0;
		handle_request(hc, &r, (size_t)n);
	}
}

/*
 * Lingering close, as nginx's lingering_close: a connection that closes
 * after a response may have input left unread (pipelined requests past
 * max_keepalive_requests, the body of a 413). Closing a socket with
 * unread input makes the kernel send a reset, and the reset makes the
 * client's kernel drop responses that arrived but were not read yet. So
 * once the last response is written, our sending side is shut down (the
 * client reads it all, then EOF) and input is read and thrown away until
 * the client closes, for at most LINGER_MS in all and LINGER_MAX bytes;
 * then the socket closes. The deadline is absolute, so trickling bytes
 * does not stretch it. nginx waits 5 s per read (lingering_timeout) and
 * 30 s in all (lingering_time); one 5 s deadline gives a client ample time
 * to read what arrived, and a peer still sending a megabyte after being
 * told Connection: close is not reading anyway.
 */
#define LINGER_MS	5000
#define LINGER_MAX	(1024u * 1024u)

static void
linger_read(struct http_conn *hc)
{
	size_t len;

	(void)tw_conn_data(hc->c, &len);
	tw_conn_consume(hc->c, len);
	hc->lingered += (uint32_t)len;	/* <= LINGER_MAX + one read */
	if (tw_conn_eof(hc->c) || hc->lingered > LINGER_MAX)
		tw_conn_close(hc->c);
}

/* The last response is written: half-close and discard (see above). */
static void
linger(struct http_conn *hc)
{
	hc->lingering = true;
	hc->lingered = 0;
	/* Owed nothing more: at max_connections it is shed first of all
	 * busy ones, so lingering never holds the cap against a new
	 * client (the 503 at the cap lingers too, on the same terms). */
	idle_add(hc);
	tw_conn_shutdown_write(hc->c);
	tw_conn_set_timeout(hc->c, LINGER_MS, 0);
	linger_read(hc);
}

static void
on_data(struct tw_conn *c, void *ctx)
{
	struct http_conn *hc = ctx;

	(void)c;
	if (hc->lingering)
		linger_read(hc);
	else
		http_process(hc);
}

/* A response is written: close, linger, or the next request. */
void
http_after_response(struct http_conn *hc)
{
	if (hc->close_after) {
		/*
		 * The client said this was its last request, its body is
		 * all read, and nothing more has come: close at once, as
		 * nginx's lingering_close "on" does when nothing suggests
		 * more input (new connection per request: no shutdown, no
		 * wait for the client's FIN). Anything else lingers.
		 */
		if (hc->peer_closes && hc->skip == 0 && !hc->chunked &&
		    !tw_conn_read_now(hc->c)) {
			tw_conn_close(hc->c);
			return;
		}
		linger(hc);
		return;
	}
	/* Still ST_WRITING: http_process() starts the header deadline if a
	 * pipelined request is waiting, or the keep-alive wait if not. */
	hc->last_len = 0;
	http_process(hc);
}

static void
on_drained(struct tw_conn *c, void *ctx)
{
	struct http_conn *hc = ctx;

	(void)c;
	if (hc->async) {
		struct tw_http_exchange *x = hc->x;

		x->unsent = 0;
		if (x->ended)
			http_exchange_finish(hc);
		else if (x->ops != NULL && x->ops->on_drained != NULL)
			x->ops->on_drained(x, x->ctx);
		return;
	}
	if (hc->fd >= 0) {
		put_fd(hc->fd, hc->fd_release, hc->fd_ctx);
		hc->fd = -1;
	}
	http_after_response(hc);
}

static void
on_timeout(struct tw_conn *c, void *ctx)
{
	struct http_conn *hc = ctx;

	if (hc->lingering) {
		tw_conn_close(c);
		return;
	}
	if (hc->async) {
		http_exchange_abort(hc);
		tw_conn_close(c);
		return;
	}
	/* A client that sent part of a request learns why it is cut off;
	 * one that sent nothing at all is just closed, as nginx does. */
	if (hc->state == ST_READING && hc->last_len > 0 &&
	    !tw_conn_pending(c)) {
		http_fail(hc, NULL, 408, false);
		/* The 408 gets one short chance to leave (once it has,
		 * the linger's own deadline runs). */
		if (!hc->lingering)
			tw_conn_set_timeout(c, 1000, 0);
		return;
	}
	tw_conn_close(c);
}

static void
on_closed(struct tw_conn *c, void *ctx)
{
	struct http_conn *hc = ctx;

	(void)c;
	if (hc->fd >= 0)
		put_fd(hc->fd, hc->fd_release, hc->fd_ctx);
	if (hc->x != NULL) {
		if (hc->async)
			http_exchange_abort(hc);
		if (hc->parked && hc->x->cancel != NULL)
			hc->x->cancel(hc->x->cancel_ctx);
		tw_loop_unpost(&hc->x->task);
		tw_buf_free(&hc->x->logreq);
		free(hc->x);
	}
	tw_stats_gauge(state_gauge(hc, hc->state), -1);
	tw_stats_gauge(&hc->srv->opts->stats->active, -1);
	idle_del(hc);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		hc->hl->conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	tw_pool_free(hc->hl->pool, hc, sizeof(*hc));
}

static const struct tw_conn_ops http_ops = {
	.on_data = on_data,
	.on_drained = on_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
};

/* The reusable ones (idle in keep-alive, or nothing read yet) get the
 * grace (see go_idle); a busy one answers with Connection: close, or
 * goes idle with the grace if its response said keep-alive already. */
static void
drain_one(struct http_conn *hc)
{
	if (hc->reusable && !hc->lingering && !tw_conn_closing(hc->c))
		tw_conn_set_timeout(hc->c, drain_grace_ms(hc->srv->opts,
							  hc->state), 0);
}

unsigned
tw_http_drain(struct tw_loop *loop, void *arg)
{
	struct http_loop *hl = tw_loop_get(loop, &http_key);
	struct http_conn *hc, *next;

	(void)arg;
	if (hl == NULL)
		return 0;
	hl->stopping = true;
	for (size_t i = 0; i < hl->srv->nroutes; i++)
		if (hl->srv->routes[i].handler->drain != NULL)
			hl->srv->routes[i].handler->drain(hl->inst[i]);
	/* Closed ones stay listed until reaped: closing again is a no-op. */
	for (hc = hl->conns; hc != NULL; hc = next) {
		next = hc->next;
		drain_one(hc);
	}
	return (unsigned)drain_grace_ms(hl->srv->opts, ST_READING);
}

int
tw_http_accept(struct tw_conn *c, void *arg)
{
	struct tw_http_server *srv = arg;
	struct tw_stats *st = srv->opts->stats;
	struct http_loop *hl = tw_loop_get(tw_conn_loop(c), &http_key);
	struct http_conn *hc = tw_pool_alloc(hl->pool, sizeof(*hc));
	int64_t active;

	tw_stats_add(&st->accepted, 1);
	if (hc == NULL) {
		tw_conn_memory_short();
		tw_conn_close(c);
		return -ENOMEM;
	}
	memset(hc, 0, sizeof(*hc));
	hc->c = c;
	hc->srv = srv;
	hc->hl = hl;
	hc->next = hl->conns;
	if (hl->conns != NULL)
		hl->conns->prev = hc;
	hl->conns = hc;
	hc->fd = -1;
	hc->state = ST_READING;
	tw_stats_gauge(&st->reading, 1);
	active = atomic_fetch_add_explicit(&st->active, 1,
					   memory_order_relaxed) + 1;
	if (srv->opts->log_format == TW_LOG_FORMAT_JSON)
		hc->t_start_us = tw_clock_us_now();
	tw_conn_set_ops(c, &http_ops, hc);
	/*
	 * The limit counts every worker's connections (shared counter), but
	 * each loop sheds only its own reusable ones: a loop with none
	 * refuses even if another worker has idle connections to spare
	 * (reaching into another loop would need a lock on the hot path).
	 * A shed connection's socket closes now; its count goes at the reap
	 * after this batch, so each later accept in the batch still sees
	 * the excess and sheds one more: one out for each one in.
	 */
	if (active > (int64_t)srv->opts->max_connections) {
		struct http_conn *old = hl->idle_oldest;

		if (old == NULL) {
			/* Every connection busy: a clear answer, then the
			 * door. */
			http_fail(hc, NULL, 503, false);
			return -EBUSY;
		}
		idle_del(old);
		/* One closed earlier in this batch (its client left) is
		 * counted until the reap: its place is the new one's. */
		if (!tw_conn_closing(old->c)) {
			tw_conn_close(old->c);
			tw_stats_add(&st->shed, 1);
		}
	}
	tw_stats_add(&st->handled, 1);
	/* Taken while the loop drains (the listener lingers for deferred
	 * clients): the same wait as one that was here before. */
	tw_conn_set_timeout(c, hl->stopping ?
			    drain_grace_ms(srv->opts, ST_READING) :
			    srv->opts->header_timeout_ms, 0);
	/* Nothing read yet: reusable until its first byte. */
	idle_add(hc);
	return 0;
}
