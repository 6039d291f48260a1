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

#include "base/buf.h"
#include "base/log.h"
#include "base/page.h"
#include "base/stats.h"
#include "net/conn.h"
#include "parse/http_parse.h"

#define TW_DECLINED	(-1000)	/* a handler does not want this request */

enum tw_http_method {
	TW_HTTP_GET,
	TW_HTTP_HEAD,
};

/* What a handler sees: the parsed request and its target split up. */
struct tw_http_req {
	const struct tw_http_request *raw;	/* headers etc.; borrowed */
	enum tw_http_method method;
	const char *path;	/* raw, still percent-encoded; starts '/' */
	size_t path_len;
	const char *query;	/* after '?', or NULL */
	size_t query_len;
	const struct sockaddr *peer;	/* the client's address */
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
	int (*handle)(const struct tw_http_req *req, struct tw_http_res *res,
		      void *inst);
	void *(*create)(const void *opts, int *err);
	void (*destroy)(void *inst);
	/* Optional: told its loop once created, e.g. to register there
	 * (tw_loop_reclaim_add); destroy() comes before the loop goes. */
	int (*attach)(void *inst, struct tw_loop *loop);
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
 * close now, the others after their current response; new responses
 * carry Connection: close. Walks http's own list of the loop's
 * connections, so other protocols' connections on it are left alone.
 */
void tw_http_drain(struct tw_loop *loop, void *arg);

/* The listener factory (tw_accept_fn): arg is the struct tw_http_server;
 * c's loop has been through tw_http_loop_init. */
int tw_http_accept(struct tw_conn *c, void *arg);

/* Reason phrase for a status code ("Not Found"), "" if unknown. */
const char *tw_http_reason(int status);

/* Map a -errno from lower layers to the status to answer with. */
int tw_http_status_from_errno(int err);

#endif /* TW_HTTP_H */
