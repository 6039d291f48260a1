/* SPDX-License-Identifier: MIT */
/*
 * http: the HTTP/1.x request lifecycle on top of a tw_conn. Feeds bytes to
 * http_parse, enforces methods, Host, bodies, limits and timeouts, routes
 * each request to the first handler that takes it, serializes the
 * response head and queues the body, and runs keep-alive and pipelining.
 * Layer 3 (protocol): knows connections only through conn's calls, never
 * sockets or epoll.
 */
#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/page.h"
#include "base/stats.h"
#include "net/conn.h"
#include "parse/http_parse.h"

#define TW_DECLINED	(-1000)	/* a handler does not want this request */
#define TW_HTTP_ASYNC	(-1001)	/* a handler took it: it answers later
				 * through req->x (tw_http_async) */
#define TW_HTTP_INTERNAL (-1002)	/* a handler asks for res->internal_uri
				 * to be served in the request's place
				 * (try_files' last word) */
#define TW_HTTP_PARK	(-1003)	/* a handler holds the request until
				 * tw_http_resume (tw_http_park) */

enum tw_http_method {
	TW_HTTP_GET,
	TW_HTTP_HEAD,
	TW_HTTP_OTHER,	/* any other method: only for handlers with
			 * any_method (the proxy) */
};

struct tw_http_exchange;

/* What a handler sees: the parsed request and its target split up. */
struct tw_http_req {
	const struct tw_http_request *raw;	/* headers etc.; borrowed */
	enum tw_http_method method;
	const char *path;	/* raw, still percent-encoded; starts '/' */
	size_t path_len;
	const char *query;	/* after '?', or NULL */
	size_t query_len;
	const struct sockaddr *peer;	/* the client's address */
	bool secure;		/* it came over TLS (https, not http) */
	/* The request body's framing, checked already (RFC 9112 6). */
	bool body_chunked;	/* Transfer-Encoding: chunked */
	uint64_t body_len;	/* Content-Length (0: none, unless chunked) */
	bool internal;		/* served in another's place (error_page,
				 * try_files): no further TW_HTTP_INTERNAL */
	bool error_page;	/* ... as the page of an error status: the
				 * whole page, without conditionals,
				 * ranges or validators (they would not
				 * describe the answer) */
	struct tw_http_exchange *x;	/* for tw_http_async() and
					 * tw_http_park(); NULL when no
					 * route may take it that way, or
					 * out of memory */
	int resumed;		/* what tw_http_resume() gave when the
				 * request comes again after a park; 0 */
};

enum tw_http_seg_kind {
	TW_HTTP_SEG_BODY,	/* bytes res->body.data[off..off+len) */
	TW_HTTP_SEG_FILE,	/* bytes of res->fd at [off..off+len) */
	TW_HTTP_SEG_MEM,	/* bytes mem[off..off+len), copied while the
				 * response is queued (a cached file) */
	TW_HTTP_SEG_PAGE,	/* bytes res->page->data[off..off+len), sent
				 * by reference (a shared generated body) */
};

struct tw_http_seg {
	enum tw_http_seg_kind kind;
	uint64_t off;
	uint64_t len;
	const char *mem;	/* TW_HTTP_SEG_MEM */
};

#define TW_HTTP_MAX_SEGS (TW_CONN_MAX_SEGS - 2)

/*
 * A response a handler fills. http adds the status line, Date, Server,
 * Content-Length (the sum of the segments) and Connection; the handler
 * adds the rest to headers as complete "Name: value\r\n" lines.
 */
struct tw_http_res {
	int status;
	struct tw_buf *headers;	/* owned by http, reset per request */
	struct tw_buf *body;	/* owned by http, reset per request */
	int fd;			/* file for FILE segments, or -1; the
				 * response owns it: http closes it once
				 * sent, or on any error ... */
	void (*fd_release)(void *ctx);	/* ... or calls this instead of
					 * close() when set (a shared,
					 * cached descriptor) */
	void *fd_ctx;
	struct tw_page *page;	/* for PAGE segments, or NULL: a reference
				 * the response owns; http drops it once
				 * the connection has taken its own */
	bool no_length;		/* 204/304: no Content-Length header */
	const char *internal_uri;	/* with TW_HTTP_INTERNAL: a path
					 * [?query] that outlives the
					 * request (the configuration's) */
	size_t nseg;
	struct tw_http_seg segs[TW_HTTP_MAX_SEGS];
};

/*
 * A request handler (lwan's module shape). create() is called once per
 * event loop with the handler's own options and returns its per-loop
 * instance (NULL with *err set on failure); handle() returns 0 with res
 * filled, TW_DECLINED, or an HTTP status >= 400 for http to answer with
 * its standard error page.
 */
struct tw_handler {
	const char *name;
	bool any_method;	/* offered every method, not only GET/HEAD
				 * (the others come with TW_HTTP_OTHER) */
	bool may_park;		/* may return TW_HTTP_PARK (req->x set) */
	bool guards;		/* access control: asked for internal requests
				 * too, which it answers without parking */
	int (*handle)(const struct tw_http_req *req, struct tw_http_res *res,
		      void *inst);
	void *(*create)(const void *opts, int *err);
	void (*destroy)(void *inst);
	/* Optional: told its loop once created, e.g. to register there
	 * (tw_loop_reclaim_add); destroy() comes before the loop goes. */
	int (*attach)(void *inst, struct tw_loop *loop);
	/* Optional: the loop is draining (tw_http_drain): let go of what
	 * would keep it open (idle outbound connections). */
	void (*drain)(void *inst);
};

/* error_page CODE... [=ANSWER] URI: an error answered with the page of
 * uri, served from the same server block in the request's place. */
struct tw_http_error_page {
	int code;
	int answer;		/* the status sent; 0: code itself */
	const char *uri;	/* "/path[?query]", as in a request */
};

struct tw_cors;

/* What a location (or, without server blocks, the server) asks of http
 * itself beside its handlers. */
struct tw_http_scope {
	const struct tw_http_error_page *errors;
	size_t nerrors;
	const struct tw_cors *cors;	/* NULL: no CORS fields */
};

struct tw_http_opts {
	uint64_t keepalive_timeout_ms;
	uint64_t header_timeout_ms;
	uint64_t send_timeout_ms;
	uint64_t send_min_rate;		/* bytes/s over send_timeout; 0: off */
	unsigned max_keepalive_requests;
	size_t max_connections;		/* all workers together */
	struct tw_stats *stats;		/* shared counters (required) */
	uint64_t max_discard_body;	/* larger request bodies: 413 */
	enum tw_log_format log_format;	/* access log lines */
	const char *extra_headers;	/* "Name: value\r\n"... on every
					 * response, or NULL */
	const struct tw_vhosts *vhosts;	/* server blocks: each request goes
					 * to its location's slice of the
					 * routes (http/vhost); NULL: all of
					 * them, in order */
	const struct tw_http_scope *scope;	/* without vhosts: error
						 * pages and CORS, or NULL */
};

/* One routing entry: a handler and the options its create() receives. */
struct tw_http_route {
	const struct tw_handler *handler;
	const void *opts;
};

struct tw_http_server;
struct tw_vhosts;

/*
 * Build the protocol from options and routes (tried in order). Both are
 * borrowed and must outlive the server. Returns NULL on out of memory.
 */
struct tw_http_server *tw_http_create(const struct tw_http_opts *opts,
				      const struct tw_http_route *routes,
				      size_t nroutes);
void tw_http_destroy(struct tw_http_server *srv);

/*
 * Per-loop set-up (tw_proto.loop_init): create each handler's instance
 * for loop, kept with http's other per-loop state in the loop's context.
 * arg is the struct tw_http_server. Returns 0 or -errno.
 */
int tw_http_loop_init(struct tw_loop *loop, void *arg);

/* Per-loop tear-down (frees what tw_http_loop_init made), once loop has
 * no http connection left (tw_conn_close_all, tw_conn_reap). */
void tw_http_loop_exit(struct tw_loop *loop, void *arg);

/*
 * Graceful stop of loop (tw_proto.drain): idle keep-alive connections
 * get a short grace for a request on its way (at most 2 s), the others
 * end after their current response; new responses carry Connection:
 * close. Walks http's own list of the loop's connections, so other
 * protocols' connections on it are left alone. Returns that grace for a
 * connection with nothing read yet, in ms.
 */
unsigned tw_http_drain(struct tw_loop *loop, void *arg);

/* The listener factory (tw_accept_fn): arg is the struct tw_http_server;
 * c's loop has been through tw_http_loop_init. */
int tw_http_accept(struct tw_conn *c, void *arg);

/*
 * The asynchronous side of a handler (the proxy): handle() calls
 * tw_http_async(req->x, ...) and returns TW_HTTP_ASYNC; the request's
 * slices (req->raw, path, query) are valid only until handle() returns.
 * From then on the handler reads the request body and writes the
 * response through the exchange, and http calls it back through ops,
 * always from the client connection's own events or from a task of the
 * loop, never from inside one of the tw_http_* calls below. Every
 * buffer is bounded: http reads no more from the client while the
 * handler leaves body bytes unconsumed, and the handler writes no more
 * while tw_http_writable() is false.
 */
struct tw_http_exchange_ops {
	/* Body bytes arrived, or the body ended (tw_http_body_read). */
	void (*on_body)(struct tw_http_exchange *x, void *ctx);
	/* What was written has gone to the client: write more. */
	void (*on_drained)(struct tw_http_exchange *x, void *ctx);
	/* The client went away or timed out: release everything now; x is
	 * not to be used again. Never called after tw_http_end/fail. */
	void (*on_abort)(struct tw_http_exchange *x, void *ctx);
};

/* Take the request of x: answers come from ops with ctx. */
void tw_http_async(struct tw_http_exchange *x,
		   const struct tw_http_exchange_ops *ops, void *ctx);

/*
 * The request body, decoded (Content-Length or chunked): returns bytes
 * available at *p (> 0), 0 once the body is complete, -EAGAIN while
 * none are (on_body follows when more come), or -EBADMSG for a body
 * that is malformed or cut short: http has answered 400 (or closed the
 * client), the handler releases everything and does not use x again;
 * no on_abort follows. After a 101 (tunnel) it returns the
 * client's raw bytes, 0 once the client has shut down its side. A
 * client that sent Expect: 100-continue gets its 100 here.
 */
ssize_t tw_http_body_read(struct tw_http_exchange *x, const char **p);

/* The handler took n of the bytes tw_http_body_read gave. */
void tw_http_body_consume(struct tw_http_exchange *x, size_t n);

#define TW_HTTP_LEN_UNKNOWN	UINT64_MAX

/*
 * Send the response head: status and fields ("Name: value
" lines,
 * without framing and hop-by-hop ones). http adds Date, Server,
 * Connection and the framing: Content-Length when len is known,
 * chunked to an HTTP/1.1 client when it is not, or the end of the
 * connection for HTTP/1.0. HEAD, 1xx, 204 and 304 carry no body. 101
 * starts a tunnel: raw bytes both ways from then on. Returns 0 or
 * -errno (the exchange then failed: on_abort follows).
 */
int tw_http_respond(struct tw_http_exchange *x, int status,
		    const char *fields, size_t fields_len, uint64_t len);

/* True while the window has room: what was written and not yet taken
 * by the client is under 32 KiB (a write may then add a read buffer). */
bool tw_http_writable(const struct tw_http_exchange *x);

/* True while x may still be answered: the client is there and neither
 * end nor fail was called. */
bool tw_http_alive(const struct tw_http_exchange *x);

/* Queue body bytes (copied; chunk-framed when the head said chunked).
 * Returns 0 or -errno (the exchange fails: on_abort follows). */
int tw_http_write(struct tw_http_exchange *x, const void *p, size_t n);

/* The body is complete: the client connection goes on with keep-alive
 * and the next request once it is written. x is done. */
void tw_http_end(struct tw_http_exchange *x);

/*
 * The exchange failed: with no head sent yet, the client gets status's
 * error page (502, 504, ...); after the head, the connection closes (the
 * client sees a short body). x is done: no more callbacks.
 */
void tw_http_fail(struct tw_http_exchange *x, int status);

/* For the access log's JSON lines: which upstream answered, its status
 * and its time to the response head. */
void tw_http_set_upstream(struct tw_http_exchange *x, const char *addr,
			  int status, uint64_t time_us);

/* The loop the exchange's client connection lives on. */
struct tw_loop *tw_http_loop(const struct tw_http_exchange *x);

/*
 * Parking (a check that runs off the loop, as auth's password hashes):
 * handle() calls tw_http_park(req->x, cancel, ctx) and returns
 * TW_HTTP_PARK. http then holds the request as it came: its head stays
 * in the input, nothing after it is read as a request, and the
 * connection's header deadline still runs. tw_http_resume(x, result),
 * called later from the loop (never from inside handle()), routes the
 * same request again from the first handler of its location, with
 * req->resumed = result (non-zero), so the handler that parked it
 * answers or declines by the result. If the client goes first,
 * cancel(ctx) is called instead and x must not be used again.
 */
void tw_http_park(struct tw_http_exchange *x, void (*cancel)(void *ctx),
		  void *ctx);
void tw_http_resume(struct tw_http_exchange *x, int result);

/* Reason phrase for a status code ("Not Found"), "" if unknown. */
const char *tw_http_reason(int status);

/* Map a -errno from lower layers to the status to answer with. */
int tw_http_status_from_errno(int err);

#endif /* TW_HTTP_H */
