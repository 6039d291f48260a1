/* SPDX-License-Identifier: MIT */
/*
 * vhost: which server block and which location answer a request. A
 * server is chosen by the Host header (an exact name, then the longest
 * leading wildcard "*.example.org", then the default server of the
 * address the connection came in on), a location by the request's
 * decoded, normalized path (an exact location, then the longest
 * prefix). Tables only: built once by front/setup, read by http for
 * every request without allocating. Layer 3: no sockets, no I/O.
 */
#ifndef TW_VHOST_H
#define TW_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TW_VHOST_MAX_LISTEN	16	/* bits of tw_vhost_server.listens */

struct tw_http_scope;

/* A location: the handlers routes[first..first+n) of http's list. */
struct tw_vhost_loc {
	const char *path;	/* the prefix or exact path */
	size_t len;
	bool exact;
	size_t first;
	size_t n;
	const char *extra_headers;	/* "Name: value\r\n"... ("": none) */
	const struct tw_http_scope *scope;	/* error pages, CORS; or
						 * NULL (http/http) */
};

struct tw_vhost_server {
	const char *const *names;	/* lower case; "*.suffix" wildcards */
	size_t nnames;
	uint32_t listens;		/* bit i: listens on listens[i] */
	struct tw_vhost_loc *locs;	/* sorted by tw_vhost_sort() */
	size_t nlocs;
	struct tw_vhost_loc fallback;	/* for paths no location takes */
};

/* An address servers listen on: a port, and an address or any. */
struct tw_vhost_listen {
	struct sockaddr_storage addr;
	bool any;			/* 0.0.0.0 or [::] */
	size_t default_server;		/* index in servers */
};

struct tw_vhosts {
	const struct tw_vhost_server *servers;
	size_t nservers;
	const struct tw_vhost_listen *listens;
	size_t nlistens;
	bool by_listen;		/* the servers differ by address: look up the
				 * connection's own (else listens[0]'s
				 * default stands for all) */
};

/* Order a server's locations for tw_vhost_location(): exact ones first,
 * then prefixes longest first. */
void tw_vhost_sort(struct tw_vhost_loc *locs, size_t n);

/*
 * The listen of vh a connection's local address belongs to (the same
 * address before a wildcard one), or -1 if none.
 */
int tw_vhost_listen_of(const struct tw_vhosts *vh,
		       const struct sockaddr *local);

/*
 * The server for a Host header value host[0..len) (NULL: none, as in
 * HTTP/1.0) on listen (-1: unknown): a port and one trailing dot are
 * ignored, case too. Never NULL when vh has a server.
 */
const struct tw_vhost_server *tw_vhost_server(const struct tw_vhosts *vh,
					      const char *host, size_t len,
					      int listen);

/* The location of srv for a decoded, normalized path[0..len): never NULL
 * (the server's fallback). */
const struct tw_vhost_loc *tw_vhost_location(const struct tw_vhost_server *srv,
					     const char *path, size_t len);

#endif /* TW_VHOST_H */
