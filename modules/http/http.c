/* SPDX-License-Identifier: MIT */
/*
 * http: request lifecycle, keep-alive, pipelining and response
 * serialization. Layer 3: talks to the transport only through conn.
 */
#include "http/http.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/pool.h"
#include "http/cors.h"
#include "http/vhost.h"
#include "net/loop.h"
#include "parse/chunked.h"
#include "parse/url.h"

#define ALLOW_METHODS "GET, HEAD, OPTIONS"

enum hc_state {
	ST_IDLE,	/* keep-alive wait: no request bytes yet */
	ST_READING,	/* part of a request head has arrived */
	ST_WRITING,	/* a response is queued */
};

struct http_loop;

/* Per-connection protocol state; small, from the loop's pool. */
struct http_conn {
	struct tw_conn *c;
	struct tw_http_server *srv;
	struct http_loop *hl;
	struct http_conn *prev;	/* the loop's http connections, for drain */
	struct http_conn *next;
	struct http_conn *idle_prev;	/* the loop's reusable ones, */
	struct http_conn *idle_next;	/* oldest first */
	uint64_t skip;		/* request body bytes still to discard */
	struct tw_chunked ck;	/* a chunked request body being discarded */
	bool chunked;		/* ck is in use */
	size_t last_len;	/* parser hint: bytes seen last time */
	int fd;			/* file of the response in flight, or -1 */
	void (*fd_release)(void *ctx);	/* how to let go of fd */
	void *fd_ctx;
	unsigned nreq;
	uint64_t t_start_us;	/* first byte of the request (json log) */
	enum hc_state state;
	bool close_after;	/* close once the response is written */
	bool peer_closes;	/* the request itself said close */
	bool lingering;		/* written and shut down: discarding input */
	uint32_t lingered;	/* bytes discarded while lingering */
	bool reusable;		/* on the loop's idle list */
	bool async;		/* an exchange (x) is answering */
	bool parked;		/* a handler holds the request at the
				 * input's front (tw_http_park) */
	struct tw_http_exchange *x;	/* made at the first async request,
					 * kept for the connection's life */
	bool listen_known;	/* listen is looked up (vhosts by address) */
	signed char listen;	/* the vhosts' listen it came in on, or -1 */
	const char *route_headers;	/* the location's add_header lines
					 * for the response being queued */
	const struct tw_vhost_server *route_srv;	/* the request's server
							 * block, or NULL */
	const struct tw_http_scope *route_scope;	/* its location's error
							 * pages ... */
	const struct tw_cors *route_cors;	/* ... and CORS: those of the
						 * location the request
						 * names, whatever answers */
};

/*
 * An asynchronous request (the proxy's): its body as it arrives, its
 * response as the handler writes it. One per connection at most (one
 * request is answered at a time), made when first needed.
 */
struct tw_http_exchange {
	struct http_conn *hc;
	const struct tw_http_exchange_ops *ops;	/* NULL once done */
	void *ctx;
	uint64_t body_left;	/* Content-Length bytes still to come */
	bool body_chunked;	/* hc->ck decodes the body */
	bool body_done;
	bool expect;		/* the client waits for a 100 Continue */
	bool head_req;
	bool keep;		/* the connection may stay open after */
	bool head_sent;
	bool chunked_out;	/* the client gets chunked framing */
	bool no_body;
	bool tunnel;		/* after a 101: raw bytes both ways */
	bool ended;		/* tw_http_end: finishes once written */
	bool cut;		/* ... and then the connection closes */
	bool in_api;		/* a tw_http_* call is on the stack */
	bool want_send;		/* the task sends what is queued */
	bool want_body;		/* the task tells the handler of body */
	int minor;
	int status;
	uint64_t bytes;		/* body bytes queued to the client */
	size_t head_len;	/* of the response head sent */
	size_t unsent;		/* queued since the queue was last empty */
	struct tw_loop_task task;	/* send and finish, off the stack */
	/* The request as the access log shows it, copied: its head is
	 * consumed while the answer is still on its way. */
	struct tw_buf logreq;
	size_t lr_method;
	size_t lr_target;
	size_t lr_referer;	/* SIZE_MAX: absent */
	size_t lr_agent;
	size_t lr_cors;		/* logreq's bytes up to the CORS fields of
				 * the answer, which end it */
	bool cors;		/* the location does CORS: the handler's own
				 * Access-Control-* fields are dropped */
	const struct tw_vhost_server *srv;	/* for an error page */
	const struct tw_http_scope *scope;
	void (*cancel)(void *ctx);	/* tw_http_park: the client went */
	void *cancel_ctx;
	int resumed;		/* tw_http_resume's result, for the next
				 * routing of the parked request */
	char up_addr[64];	/* tw_http_set_upstream; "" if none */
	int up_status;
	uint64_t up_time_us;
};

struct tw_http_server {
	const struct tw_http_opts *opts;
	const struct tw_http_route *routes;
	size_t nroutes;
	bool has_async;		/* a route takes every method (a proxy):
				 * request bodies are judged after routing */
	bool has_park;		/* a route may park requests */
};

/* What one event loop owns, in the loop's context: never shared, so no
 * locks, and two loops on one thread keep apart. */
struct http_loop {
	struct tw_http_server *srv;
	struct tw_pool *pool;
	void **inst;		/* per route */
	struct tw_buf head;
	struct tw_buf hdrs;
	struct tw_buf body;
	struct tw_buf log;
	struct tw_http_res res;
	char vpath[PATH_MAX];	/* a request's decoded path (vhosts) */
	struct http_conn *conns;	/* open ones, for drain */
	/*
	 * The reusable connections, in the order they became so: accepted
	 * and nothing read yet, or idle in keep-alive (nginx's reusable
	 * set). At max_connections the oldest makes room for a new one.
	 * One that has sent part of a request head is not on it: it is
	 * busy (and a slowloris meets header_timeout instead).
	 */
	struct http_conn *idle_oldest;
	struct http_conn *idle_newest;
	bool stopping;		/* drain: no more keep-alive */
};

static struct tw_loop_key http_key;

static void process(struct http_conn *hc);
static void exchange_send(struct tw_http_exchange *x);
static void exchange_data(struct http_conn *hc);

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

static void
set_state(struct http_conn *hc, enum hc_state st)
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

/* Access log: quotes, backslashes, control and non-ASCII bytes become
 * \xHH so a hostile request cannot forge or break a log line. */
static void
log_escaped(struct tw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			char e[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 15] };

			tw_buf_append(b, e, 4);
		} else {
			tw_buf_append_char(b, (char)ch);
		}
	}
}

static void
log_header(struct tw_buf *b, const struct tw_http_request *r, const char *name)
{
	const struct tw_http_header *h = r ? tw_http_find_header(r, name) : NULL;

	tw_buf_append_char(b, '"');
	if (h != NULL)
		log_escaped(b, h->value, h->value_len);
	else
		tw_buf_append_char(b, '-');
	tw_buf_append_char(b, '"');
}

/* A JSON string: valid UTF-8 stays as it is (a user agent in any
 * language reads right); anything else is escaped byte by byte. */
static void
json_escaped(struct tw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	bool utf8 = tw_url_is_utf8((const unsigned char *)s, n, false);
	size_t i;

	tw_buf_append_char(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8)) {
			char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4],
				      hex[ch & 15] };

			tw_buf_append(b, e, 6);
		} else {
			if (ch == '"' || ch == '\\')
				tw_buf_append_char(b, '\\');
			tw_buf_append_char(b, (char)ch);
		}
	}
	tw_buf_append_char(b, '"');
}

/* A name OpenSSL gave, or "-" before the handshake agreed on one. */
static void
log_json_name(struct tw_buf *b, const char *s)
{
	if (s == NULL)
		s = "-";
	json_escaped(b, s, strlen(s));
}

static void
log_json(struct http_conn *hc, const struct tw_http_request *r, int status,
	 uint64_t bytes, const char *ip)
{
	struct tw_buf *b = &hc->hl->log;
	const struct tw_http_header *h;
	struct tw_conn_security sec;
	uint64_t now = tw_clock_us_now();

	tw_buf_append_str(b, "{\"time\":\"");
	tw_buf_append_str(b, tw_clock_log_date());
	tw_buf_append_str(b, "\",\"remote\":");
	json_escaped(b, ip, strlen(ip));
	tw_buf_append_str(b, ",\"method\":");
	json_escaped(b, r ? r->method : "", r ? r->method_len : 0);
	tw_buf_append_str(b, ",\"uri\":");
	json_escaped(b, r ? r->target : "", r ? r->target_len : 0);
	tw_buf_append_str(b, ",\"protocol\":\"");
	tw_buf_append_str(b, r == NULL ? "" : r->minor ? "HTTP/1.1" : "HTTP/1.0");
	tw_buf_append_str(b, "\",\"status\":");
	tw_buf_append_u64(b, (uint64_t)status);
	tw_buf_append_str(b, ",\"bytes\":");
	tw_buf_append_u64(b, bytes);
	tw_buf_append_str(b, ",\"request_time_us\":");
	tw_buf_append_u64(b, now > hc->t_start_us ? now - hc->t_start_us : 0);
	h = r ? tw_http_find_header(r, "Referer") : NULL;
	tw_buf_append_str(b, ",\"referer\":");
	json_escaped(b, h ? h->value : "", h ? h->value_len : 0);
	h = r ? tw_http_find_header(r, "User-Agent") : NULL;
	tw_buf_append_str(b, ",\"user_agent\":");
	json_escaped(b, h ? h->value : "", h ? h->value_len : 0);
	if (hc->async && hc->x->up_addr[0] != '\0') {
		tw_buf_append_str(b, ",\"upstream_addr\":");
		json_escaped(b, hc->x->up_addr, strlen(hc->x->up_addr));
		tw_buf_append_str(b, ",\"upstream_status\":");
		tw_buf_append_u64(b, (uint64_t)hc->x->up_status);
		tw_buf_append_str(b, ",\"upstream_time_us\":");
		tw_buf_append_u64(b, hc->x->up_time_us);
	}
	/* Only on TLS connections, like the upstream fields on proxied
	 * requests: a plain line stays as it was. */
	tw_conn_security(hc->c, &sec);
	if (sec.secure) {
		tw_buf_append_str(b, ",\"tls_protocol\":");
		log_json_name(b, sec.protocol);
		tw_buf_append_str(b, ",\"tls_cipher\":");
		log_json_name(b, sec.cipher);
	}
	tw_buf_append_str(b, "}\n");
}

/* Combined (or common) log format, built without printf. */
static void
log_access(struct http_conn *hc, const struct tw_http_request *r, int status,
	   uint64_t bytes)
{
	enum tw_log_format fmt = hc->srv->opts->log_format;
	struct tw_buf *b = &hc->hl->log;
	const char *peer;
	char ip[64];

	if (!tw_log_access_enabled())
		return;
	tw_buf_reset(b, 4096);
	peer = tw_conn_peer(hc->c, ip, sizeof(ip));
	if (fmt == TW_LOG_FORMAT_JSON) {
		log_json(hc, r, status, bytes, peer);
		goto out;
	}
	tw_buf_append_str(b, peer);
	tw_buf_append_str(b, " - - [");
	tw_buf_append_str(b, tw_clock_log_date());
	tw_buf_append_str(b, "] \"");
	if (r != NULL) {
		log_escaped(b, r->method, r->method_len);
		tw_buf_append_char(b, ' ');
		log_escaped(b, r->target, r->target_len);
		tw_buf_append_str(b, r->minor ? " HTTP/1.1" : " HTTP/1.0");
	} else {
		tw_buf_append_char(b, '-');
	}
	tw_buf_append_str(b, "\" ");
	tw_buf_append_u64(b, (uint64_t)status);
	tw_buf_append_char(b, ' ');
	if (bytes)
		tw_buf_append_u64(b, bytes);
	else
		tw_buf_append_char(b, '-');
	if (fmt == TW_LOG_FORMAT_COMBINED) {
		tw_buf_append_char(b, ' ');
		log_header(b, r, "Referer");
		tw_buf_append_char(b, ' ');
		log_header(b, r, "User-Agent");
	}
	tw_buf_append_char(b, '\n');
out:
	if (!b->failed)
		tw_log_access_write(b->data, b->len);
}

static void
reset_res(struct http_loop *hl, struct tw_http_res *res)
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
static void
error_page(struct tw_http_res *res, int status)
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
static void
close_res_fd(struct tw_http_res *res)
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
static void
queue_response(struct http_conn *hc, const struct tw_http_request *r,
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
		close_res_fd(res);
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
	log_access(hc, r, res->status, head_only ? 0 : total);
	if (err < 0) {
		close_res_fd(res);
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
	close_res_fd(res);
	hc->close_after = !keep;
	set_state(hc, ST_WRITING);
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
		exchange_send(hc->x);
	else
		tw_conn_send(hc->c);
}

/* Answer with an error page and close: used when the request stream can
 * no longer be trusted (bad framing, limits). */
static void
fail(struct http_conn *hc, const struct tw_http_request *r, int status,
     bool head_only)
{
	struct tw_http_res *res = &hc->hl->res;

	reset_res(hc->hl, res);
	error_page(res, status);
	/* Whatever else the client sent is not read: stop parsing. */
	tw_conn_consume(hc->c, (size_t)-1 / 2);
	queue_response(hc, r, res, head_only, false);
}

static bool
is_known_method(const struct tw_http_request *r)
{
	static const char *const others[] = {
		"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT",
	};
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (r->method_len == strlen(others[i]) &&
		    memcmp(r->method, others[i], r->method_len) == 0)
			return true;
	return false;
}

static bool
method_is(const struct tw_http_request *r, const char *m)
{
	/* Methods are case-sensitive (RFC 9110 9.1). */
	return r->method_len == strlen(m) &&
	       memcmp(r->method, m, r->method_len) == 0;
}

/* Split the target into path and query; absolute-form loses its scheme
 * and authority (RFC 9112 3.2.2). Returns false for a target that is
 * neither origin- nor absolute-form. */
static bool
split_target(const struct tw_http_request *r, struct tw_http_req *req)
{
	const char *t = r->target, *end = t + r->target_len, *q, *hash;

	if (r->target_len > 7 && strncasecmp(t, "http://", 7) == 0)
		t += 7;
	else if (r->target_len > 8 && strncasecmp(t, "https://", 8) == 0)
		t += 8;
	if (t != r->target) {
		t = memchr(t, '/', (size_t)(end - t));
		if (t == NULL)
			t = "/", end = t + 1;
	}
	if (t >= end || *t != '/')
		return false;
	/* A raw '#' cannot be part of a path; clients strip fragments,
	 * so treat one as the fragment's start. */
	hash = memchr(t, '#', (size_t)(end - t));
	if (hash != NULL)
		end = hash;
	q = memchr(t, '?', (size_t)(end - t));
	req->path = t;
	req->path_len = (size_t)((q ? q : end) - t);
	req->query = q ? q + 1 : NULL;
	req->query_len = q ? (size_t)(end - q - 1) : 0;
	return true;
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

/* A request body's framing, judged before anything reads it. */
struct body_fr {
	bool chunked;
	uint64_t len;		/* Content-Length, 0 if none */
};

/* Framing of a request body (RFC 9112 6): returns 0 and fills *fr, or
 * an error status. Every error closes the connection (fail()), so no
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
static int
start_discard(struct http_conn *hc, const struct body_fr *fr,
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

static void
options_response(struct http_conn *hc, const struct tw_http_request *r,
		 bool keep)
{
	struct tw_http_res *res = &hc->hl->res;

	reset_res(hc->hl, res);
	res->status = 204;
	res->no_length = true;
	tw_buf_append_str(res->headers, "Allow: " ALLOW_METHODS "\r\n");
	queue_response(hc, r, res, false, keep);
}

/* The vhosts' listen of a connection: its local address, read once
 * and only when the servers differ by address. */
static int
conn_listen(struct http_conn *hc, const struct tw_vhosts *vh)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!vh->by_listen)
		return -1;
	if (!hc->listen_known) {
		hc->listen_known = true;
		hc->listen = -1;
		if (getsockname(tw_conn_fd(hc->c), (struct sockaddr *)&ss,
				&len) == 0)
			hc->listen = (signed char)tw_vhost_listen_of(vh,
				(const struct sockaddr *)&ss);
	}
	return hc->listen;
}

/* The authority of an absolute-form target ("http://HOST/..."), which
 * names the host in place of Host (RFC 9112 3.2.2); false, and host
 * left alone, for an origin-form one. */
static bool
target_authority(const struct tw_http_request *r, const char **host,
		 size_t *len)
{
	const char *t = r->target, *end = t + r->target_len, *a, *e;

	if (r->target_len == 0 || t[0] == '/')
		return false;
	a = memchr(t, ':', r->target_len);
	if (a == NULL || end - a < 3 || a[1] != '/' || a[2] != '/')
		return false;
	a += 3;
	for (e = a; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	*host = a;
	*len = (size_t)(e - a);
	return true;
}

/*
 * Server blocks: the handlers of the location that takes the request,
 * routes[*first..*first+*n), chosen by Host, the address it came in on
 * and its decoded path (the one the static handler serves). 0, or the
 * status of a path that cannot be decoded.
 */
static int
pick_location(struct http_conn *hc, const struct tw_http_request *r,
	      const struct tw_http_req *req, size_t *first, size_t *n)
{
	const struct tw_vhosts *vh = hc->srv->opts->vhosts;
	const struct tw_http_header *h = tw_http_find_header(r, "Host");
	const struct tw_vhost_server *srv;
	const struct tw_vhost_loc *loc;
	char *path = hc->hl->vpath;
	const char *host = h ? h->value : NULL;
	size_t len, hlen = h ? h->value_len : 0;
	int err;

	(void)target_authority(r, &host, &hlen);
	srv = tw_vhost_server(vh, host, hlen, conn_listen(hc, vh));
	hc->route_srv = srv;
	err = tw_url_decode_path(req->path, req->path_len, path, PATH_MAX,
				 &len);
	if (err == -ENAMETOOLONG)
		return 414;
	if (err < 0 || tw_url_remove_dots(path, &len) < 0)
		return 400;
	loc = tw_vhost_location(srv, path, len);
	*first = loc->first;
	*n = loc->n;
	hc->route_headers = loc->extra_headers;
	hc->route_scope = loc->scope;
	return 0;
}

/*
 * The handlers routes[first..first+n) asked in turn: the status of the
 * first that takes req (0: res is filled), or 404 if none does. *taken:
 * one did. Methods other than GET and HEAD go only to handlers of every
 * method (the proxy), and internal requests never do: those answer
 * later, not in the request's place; but access control (guards) sees
 * them, so an error page or a try_files fallback in a guarded location
 * is no way around its guard.
 */
static int
run_handlers(struct http_conn *hc, const struct tw_http_req *req,
	     size_t first, size_t n, bool *taken)
{
	struct tw_http_res *res = &hc->hl->res;
	bool other = req->method == TW_HTTP_OTHER;
	size_t i;
	int status;

	reset_res(hc->hl, res);
	for (i = first; i < first + n; i++) {
		const struct tw_handler *h = hc->srv->routes[i].handler;

		if (other ? !h->any_method :
		    req->internal && h->any_method && !h->guards)
			continue;
		reset_res(hc->hl, res);
		status = h->handle(req, res, hc->hl->inst[i]);
		if (status != TW_DECLINED) {
			*taken = true;
			return status;
		}
	}
	return 404;
}

/*
 * Make req the internal request of uri (a path [?query] of the
 * configuration, decoded and checked when it was read) in the request's
 * server: GET (HEAD stays HEAD), and the handlers of uri's location in
 * routes[*first..*first+*n). 0, or 400 if uri does not decode.
 */
static int
route_internal(struct http_conn *hc, struct tw_http_req *req,
	       const char *uri, size_t *first, size_t *n)
{
	const char *q = strchr(uri, '?');
	const struct tw_vhost_loc *loc;
	char *path = hc->hl->vpath;
	size_t len;

	req->internal = true;
	if (req->method != TW_HTTP_HEAD)
		req->method = TW_HTTP_GET;
	req->path = uri;
	req->path_len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	req->query = q != NULL ? q + 1 : NULL;
	req->query_len = q != NULL ? strlen(q + 1) : 0;
	*first = 0;
	*n = hc->srv->nroutes;
	if (hc->route_srv == NULL)
		return 0;
	if (tw_url_decode_path(req->path, req->path_len, path, PATH_MAX,
			       &len) < 0 || tw_url_remove_dots(path, &len) < 0)
		return 400;
	loc = tw_vhost_location(hc->route_srv, path, len);
	*first = loc->first;
	*n = loc->n;
	hc->route_headers = loc->extra_headers;
	hc->route_scope = loc->scope;
	return 0;
}

static const struct tw_http_error_page *
find_error_page(const struct tw_http_scope *sc, int status)
{
	size_t i;

	for (i = 0; sc != NULL && i < sc->nerrors; i++)
		if (sc->errors[i].code == status)
			return &sc->errors[i];
	return NULL;
}

/*
 * res for an error status: the page error_page names for it in the
 * request's scope, served in the request's place with the status (or
 * the page's =ANSWER), else tinyweb's own page, which also stands in
 * when the named page does not answer 200 (missing, or an error of its
 * own): one error page per request, so no loop. Tinyweb's page keeps
 * what the handler said of the error (Content-Range on a 416).
 */
static void
answer_error(struct http_conn *hc, struct tw_http_req *req, int status)
{
	const struct tw_http_error_page *ep;
	struct tw_http_res *res = &hc->hl->res;
	size_t first, n;
	bool taken = false;

	ep = find_error_page(hc->route_scope, status);
	if (ep != NULL) {
		close_res_fd(res);
		req->error_page = true;
		if (route_internal(hc, req, ep->uri, &first, &n) == 0 &&
		    run_handlers(hc, req, first, n, &taken) == 0 &&
		    res->status == 200) {
			res->status = ep->answer != 0 ? ep->answer : status;
			if (res->status == 405)
				tw_buf_append_str(res->headers,
						  "Allow: " ALLOW_METHODS "\r\n");
			return;
		}
		reset_res(hc->hl, res);
	}
	close_res_fd(res);
	res->nseg = 0;
	res->no_length = false;
	error_page(res, status);
}

/* A CORS preflight where CORS is on: answered here, before any handler
 * (a proxy would pass it on). An origin not allowed gets what any
 * OPTIONS gets, without CORS fields: the browser refuses. */
static void
preflight_response(struct http_conn *hc, const struct tw_http_request *r,
		   bool keep)
{
	struct tw_http_res *res = &hc->hl->res;

	reset_res(hc->hl, res);
	res->status = 204;
	res->no_length = true;
	if (!tw_cors_fields(hc->route_cors, r, true, res->headers))
		tw_buf_append_str(res->headers, "Allow: " ALLOW_METHODS "\r\n");
	hc->route_cors = NULL;		/* its fields are in */
	queue_response(hc, r, res, false, keep);
}


static struct tw_http_exchange *exchange_get(struct http_conn *hc);
static void exchange_begin(struct http_conn *hc,
			   const struct tw_http_request *r,
			   const struct body_fr *fr, bool keep);

/*
 * Route one request. A handler may take it asynchronously (the proxy);
 * every other answer is queued here. Where a route takes every method
 * the body's limits are applied only now, to requests answered here.
 */
static void
dispatch(struct http_conn *hc, const struct tw_http_request *r, bool keep,
	 const struct body_fr *fr, size_t head_len, size_t *ahead)
{
	struct tw_http_res *res = &hc->hl->res;
	struct tw_http_req req = { .raw = r, .peer = tw_conn_peer_addr(hc->c),
				   .secure = tw_conn_is_secure(hc->c) };
	bool head = method_is(r, "HEAD");
	bool other = !head && !method_is(r, "GET");
	bool split = split_target(r, &req), taken = false;
	int status = 404, err = 0;
	size_t first = 0, n = hc->srv->nroutes;

	req.body_chunked = fr->chunked;
	req.body_len = fr->len;
	req.method = head ? TW_HTTP_HEAD : other ? TW_HTTP_OTHER : TW_HTTP_GET;
	if (hc->srv->has_async || hc->srv->has_park)
		req.x = exchange_get(hc);
	hc->route_srv = NULL;
	hc->route_scope = hc->srv->opts->scope;
	if (req.x != NULL) {
		req.resumed = req.x->resumed;
		req.x->resumed = 0;
	}
	if (split && hc->srv->opts->vhosts != NULL &&
	    (status = pick_location(hc, r, &req, &first, &n)) != 0) {
		n = 0;		/* a path that cannot be decoded: 400, 414 */
		taken = true;
	} else {
		status = 404;
	}
	hc->route_cors = hc->route_scope != NULL ? hc->route_scope->cors :
			 NULL;
	if (split && !taken && hc->route_cors != NULL &&
	    tw_cors_is_preflight(r)) {
		if (hc->srv->has_async &&
		    (err = start_discard(hc, fr, head_len, ahead)) != 0)
			fail(hc, r, err, head);
		else
			preflight_response(hc, r, keep);
		return;
	}
	if (split && !taken) {
		status = run_handlers(hc, &req, first, n, &taken);
		if (status == TW_HTTP_ASYNC) {
			exchange_begin(hc, r, fr, keep);
			return;
		}
		if (status == TW_HTTP_PARK) {
			hc->parked = true;
			return;
		}
		if (status == TW_HTTP_INTERNAL) {
			/* try_files' last word: served once, in the request's
			 * place; its own misses are 404 (req.internal). */
			const char *uri = hc->hl->res.internal_uri;

			close_res_fd(res);
			taken = false;
			if ((status = route_internal(hc, &req, uri, &first,
						     &n)) == 0)
				status = run_handlers(hc, &req, first, n,
						      &taken);
		}
	} else {
		reset_res(hc->hl, res);
	}
	if (hc->srv->has_async &&
	    (err = start_discard(hc, fr, head_len, ahead)) != 0) {
		int own = status < 0 ? tw_http_status_from_errno(status) :
			  status;

		/* A handler's own error stands (all upstreams down is a 502
		 * whatever the body's size); the body left unread closes
		 * the connection. */
		close_res_fd(res);
		fail(hc, r, taken && own >= 400 ? own : err, head);
		return;
	}
	if (!split) {
		if (method_is(r, "OPTIONS") && r->target_len == 1 &&
		    r->target[0] == '*') {
			options_response(hc, r, keep);
			return;
		}
		fail(hc, r, 400, head);
		return;
	}
	if (other && !taken) {
		if (method_is(r, "OPTIONS")) {
			options_response(hc, r, keep);
			return;
		}
		answer_error(hc, &req, is_known_method(r) ? 405 : 501);
		queue_response(hc, r, res, head, keep);
		hc->route_headers = NULL;
		hc->route_scope = NULL;
		hc->route_cors = NULL;
		return;
	}
	if (status < 0) {
		err = status;
		status = tw_http_status_from_errno(status);
	}
	if (status != 0) {
		if (status >= 500)
			tw_log(TW_LOG_ERROR, err, "%d answering %.*s", status,
			       (int)(r->target_len > 200 ? 200 : r->target_len),
			       r->target);
		/* Keep what the handler said about the error (Content-Range
		 * on a 416, Vary); drop any body it started. */
		answer_error(hc, &req, status);
	}
	queue_response(hc, r, res, head, keep);
	hc->route_headers = NULL;
	hc->route_scope = NULL;
	hc->route_cors = NULL;
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
	bool head = method_is(r, "HEAD");
	size_t ahead = 0;
	int status;
	bool keep;

	struct body_fr fr;

	hc->nreq++;
	/* An earlier exchange's, maybe (it answers after dispatch). */
	hc->route_headers = NULL;
	hc->route_scope = NULL;
	hc->route_cors = NULL;
	if (!host_ok(r)) {
		fail(hc, r, 400, head);
		return;
	}
	status = body_framing(r, &fr);
	if (status == 0 && !hc->srv->has_async)
		status = start_discard(hc, &fr, head_len, &ahead);
	if (status != 0) {
		fail(hc, r, status, head);
		return;
	}
	keep = wants_keepalive(hc, r);
	hc->peer_closes = peer_closes(r);
	dispatch(hc, r, keep, &fr, head_len, &ahead);
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
	set_state(hc, ST_IDLE);
	idle_add(hc);
	tw_conn_set_timeout(hc->c, hc->hl->stopping ?
			    drain_grace_ms(hc->srv->opts, ST_IDLE) :
			    hc->srv->opts->keepalive_timeout_ms, 0);
}

static void
process(struct http_conn *hc)
{
	struct tw_http_request r;

	if (hc->async) {
		exchange_data(hc);
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
			set_state(hc, ST_READING);
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
			fail(hc, NULL, -n, false);
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

/* ---- asynchronous exchanges (the proxy) --------------------------------- */

static struct tw_http_exchange *
exchange_get(struct http_conn *hc)
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

/* The copy as a request again, for log_access. */
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
static void
exchange_begin(struct http_conn *hc, const struct tw_http_request *r,
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
	x->head_req = method_is(r, "HEAD");
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
	set_state(hc, ST_WRITING);
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
	log_access(hc, &r, status, x->bytes);
	tw_stats_add(&st->requests, 1);
	if (tw_stats_self() != NULL)
		tw_stats_add(&tw_stats_self()->requests, 1);
	tw_stats_add(&st->status[status / 100 % 6], 1);
	tw_stats_add(&st->bytes_sent, x->head_len + x->bytes);
}

static void after_response(struct http_conn *hc);

/* The response is written in full: on to keep-alive or the close. */
static void
exchange_finish(struct http_conn *hc)
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
	after_response(hc);
}

/* The client is gone (closed, reset, timed out) mid-exchange. */
static void
exchange_abort(struct http_conn *hc)
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
			exchange_finish(hc);
		return;
	}
	if (x->want_body && x->ops != NULL) {
		x->want_body = false;
		x->ops->on_body(x, x->ctx);
	}
}

static void
exchange_send(struct tw_http_exchange *x)
{
	x->want_send = true;
	exchange_post(x);
}

/* Bytes came from the client while an exchange answers. */
static void
exchange_data(struct http_conn *hc)
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
	process(hc);
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
		exchange_send(x);
		return;
	}
	exchange_log_req(x, &r);
	keep = x->keep && x->body_done && !hc->hl->stopping;
	if (!x->body_done)
		hc->peer_closes = false;
	reset_res(hc->hl, res);
	/* The error page of the request's location (502, 504), without
	 * the request's fields: only the log's copy is left. */
	req.method = x->head_req ? TW_HTTP_HEAD : TW_HTTP_GET;
	hc->route_srv = x->srv;
	hc->route_scope = x->scope;
	answer_error(hc, &req, status);
	hc->route_scope = NULL;
	if (!x->logreq.failed)
		tw_buf_append(res->headers, x->logreq.data + x->lr_cors,
			      x->logreq.len - x->lr_cors);
	/* Still async while it queues: the log line shows the upstream. */
	queue_response(hc, &r, res, x->head_req, keep);
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
		exchange_send(x);
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
	exchange_send(x);
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
	exchange_send(x);
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
	exchange_send(x);
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
	exchange_send(x);
}

static void
on_data(struct tw_conn *c, void *ctx)
{
	struct http_conn *hc = ctx;

	(void)c;
	if (hc->lingering)
		linger_read(hc);
	else
		process(hc);
}

/* A response is written: close, linger, or the next request. */
static void
after_response(struct http_conn *hc)
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
	/* Still ST_WRITING: process() starts the header deadline if a
	 * pipelined request is waiting, or the keep-alive wait if not. */
	hc->last_len = 0;
	process(hc);
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
			exchange_finish(hc);
		else if (x->ops != NULL && x->ops->on_drained != NULL)
			x->ops->on_drained(x, x->ctx);
		return;
	}
	if (hc->fd >= 0) {
		put_fd(hc->fd, hc->fd_release, hc->fd_ctx);
		hc->fd = -1;
	}
	after_response(hc);
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
		exchange_abort(hc);
		tw_conn_close(c);
		return;
	}
	/* A client that sent part of a request learns why it is cut off;
	 * one that sent nothing at all is just closed, as nginx does. */
	if (hc->state == ST_READING && hc->last_len > 0 &&
	    !tw_conn_pending(c)) {
		fail(hc, NULL, 408, false);
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
			exchange_abort(hc);
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
			fail(hc, NULL, 503, false);
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
