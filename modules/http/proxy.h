/* SPDX-License-Identifier: MIT */
/*
 * proxy: the request handler that forwards to a group of upstream HTTP
 * servers (http/upstream chooses one, http/forward rebuilds the heads,
 * parse/http_response frames the answer). Upstream connections are conn
 * objects with the proxy's own tw_conn_ops, pooled per loop. Layer 3.
 *
 * The configuration types come first: front/ fills them from an upstream
 * block, a location's proxy_pass or `tinyweb proxy URL...`; addresses
 * are resolved there, when the configuration is loaded, never on a loop.
 */
#ifndef TW_PROXY_H
#define TW_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/upstream.h"

#define TW_PROXY_MAX_SET_HEADERS 32

struct tw_health_shared;

/* One upstream server: where it is, and how the balancer treats it. */
struct tw_proxy_server {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct tw_upstream_server_conf conf;	/* conf.name: "host:port" */
};

/* Active health checks of a group (health_check; off when interval 0). */
struct tw_proxy_check {
	const char *uri;	/* "/" by default */
	uint64_t interval_ms;	/* 0: no active checks */
	unsigned fails;		/* consecutive failures to mark it down */
	unsigned passes;	/* consecutive passes to mark it up */
};

/* A group of servers: an upstream block, or the URLs of `tinyweb proxy`. */
struct tw_proxy_group {
	const char *name;
	struct tw_proxy_server servers[TW_UPSTREAM_MAX_SERVERS];
	size_t nservers;
	enum tw_balance balance;
	const char *hash_key;	/* hash methods: "$request_uri", ... */
	unsigned keepalive;	/* idle connections kept per loop; 0: none */
	struct tw_proxy_check check;
	/* nservers entries every worker sees: shared memory made before
	 * the fork (front/setup), or NULL for counters of the loop's own */
	struct tw_upstream_shared *shared;
	/* With check.interval_ms: nservers results of the active checks,
	 * in the same shared memory (the status page reads them) */
	struct tw_health_shared *health;
};

struct tw_proxy_set_header {
	const char *name;
	const char *value;	/* "" removes the header */
};

/* A location's proxy_pass and the proxy_* settings in force there. */
struct tw_proxy_opts {
	const struct tw_proxy_group *group;
	const char *uri;	/* proxy_pass's path part, or NULL: the
				 * request's target is passed unchanged */
	const char *prefix;	/* with uri: the location's prefix, which
				 * uri replaces; NULL: uri goes before the
				 * path */
	uint64_t connect_timeout_ms;
	uint64_t read_timeout_ms;
	uint64_t send_timeout_ms;
	unsigned next_upstream_tries;	/* 0: every server once */
	unsigned next_upstream;		/* TW_PROXY_NEXT_* conditions */
	uint64_t max_body;		/* request bodies above: 413 */
	size_t header_buffer_size;	/* an upstream head above: 502 */
	bool pass_request_headers;
	struct tw_proxy_set_header set_headers[TW_PROXY_MAX_SET_HEADERS];
	size_t nset_headers;
};

/* proxy_next_upstream conditions. */
#define TW_PROXY_NEXT_ERROR	(1u << 0)	/* connect failed or reset */
#define TW_PROXY_NEXT_TIMEOUT	(1u << 1)
#define TW_PROXY_NEXT_502	(1u << 2)
#define TW_PROXY_NEXT_503	(1u << 3)
#define TW_PROXY_NEXT_504	(1u << 4)
#define TW_PROXY_NEXT_NON_IDEMPOTENT (1u << 5)

struct tw_handler;

/*
 * The handler (route opts: a struct tw_proxy_opts): takes every method,
 * answers asynchronously through http's exchange (tw_http_async). With
 * no server left to try it answers 502 at once; a failed or timed-out
 * server is replaced by the next while that is safe (no body byte read
 * from the client yet; an idempotent method or nothing sent), then the
 * client gets 502, or 504 after a timeout.
 */
extern const struct tw_handler tw_proxy_handler;

#endif /* TW_PROXY_H */
