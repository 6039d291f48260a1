/* SPDX-License-Identifier: MIT */
/*
 * http_conn: the state http.c, route.c, exchange.c and access_log.c
 * share, and the functions each calls in another; nothing outside these
 * four includes it. Handlers see http.h only. Layer 3.
 */
#ifndef TW_HTTP_CONN_H
#define TW_HTTP_CONN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "http/http.h"
#include "net/loop.h"
#include "parse/chunked.h"
#include "parse/http_parse.h"

struct tw_conn;
struct tw_cors;
struct tw_pool;
struct tw_vhost_server;

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

/* How a request's body is framed (RFC 9112 6). */
struct body_fr {
	bool chunked;
	uint64_t len;		/* Content-Length, 0 if none */
};

/* The methods tinyweb answers itself (Allow of a 405, OPTIONS). */
#define ALLOW_METHODS "GET, HEAD, OPTIONS"

/* ---- http.c ---- */

void http_set_state(struct http_conn *hc, enum hc_state st);
bool http_method_is(const struct tw_http_request *r, const char *m);
void http_reset_res(struct http_loop *hl, struct tw_http_res *res);
/* A small HTML page for an error status. */
void http_error_page(struct tw_http_res *res, int status);
/* Let go of what the response holds: its file and its page. */
void http_close_res_fd(struct tw_http_res *res);
/* Answer with an error page and close: the request stream can no
 * longer be trusted (bad framing, limits). */
void http_fail(struct http_conn *hc, const struct tw_http_request *r,
	       int status, bool head_only);
/* Discard a body nobody reads, up to max_discard_body: 0, or the
 * status to answer with. */
int http_start_discard(struct http_conn *hc, const struct body_fr *fr,
		       size_t head_len, size_t *ahead);
/* Serialize res as the answer to r (a head only for HEAD) and queue it;
 * keep: the connection may stay open after it. */
void http_queue_response(struct http_conn *hc, const struct tw_http_request *r,
			 struct tw_http_res *res, bool head_only, bool keep);
/* Parse and answer what the input holds, as far as the connection may. */
void http_process(struct http_conn *hc);
/* A response is written: close, linger, or wait for the next request. */
void http_after_response(struct http_conn *hc);

/* ---- route.c ---- */

/* Route one request whose head (head_len bytes, *ahead of body taken
 * with it) and framing fr are good, and queue its answer, or hand it
 * to an exchange or park it. keep: the connection may stay open. */
void http_route(struct http_conn *hc, const struct tw_http_request *r,
		bool keep, const struct body_fr *fr, size_t head_len,
		size_t *ahead);
/* res for an error status: the location's error page for it, or the
 * built-in one. */
void http_answer_error(struct http_conn *hc, struct tw_http_req *req,
		       int status);

/* ---- access_log.c ---- */

/* The access log's line for r, answered with status and bytes of body. */
void http_log_access(struct http_conn *hc, const struct tw_http_request *r,
		     int status, uint64_t bytes);

/* ---- exchange.c: asynchronous exchanges (the proxy's) ---- */

/* hc's exchange, made at its first asynchronous request; NULL when out
 * of memory. */
struct tw_http_exchange *http_exchange_get(struct http_conn *hc);
/* Hand r, whose body is framed as fr, to the route's async handler. */
void http_exchange_begin(struct http_conn *hc, const struct tw_http_request *r,
			 const struct body_fr *fr, bool keep);
/* The exchange's answer is written: log it and let the connection go
 * on. */
void http_exchange_finish(struct http_conn *hc);
/* The connection ends under the exchange: its handler lets go. */
void http_exchange_abort(struct http_conn *hc);
/* Send what the handler queued, from a posted task. */
void http_exchange_send(struct tw_http_exchange *x);
/* Request bytes came in for the exchange: its body, or a tunnel's. */
void http_exchange_data(struct http_conn *hc);

#endif /* TW_HTTP_CONN_H */
