/* SPDX-License-Identifier: MIT */
/*
 * listener: listening sockets. Binds IPv4 and IPv6 addresses, accepts
 * with accept4, wraps each new socket in a tw_conn and hands it to a
 * factory it was given, without knowing what the factory builds. Layer 1.
 */
#ifndef TW_LISTENER_H
#define TW_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_conn;
struct tw_loop;

/*
 * Called for each accepted connection. It installs its ops and ctx on c
 * (tw_conn_set_ops) and returns 0, or closes c with tw_conn_close and
 * returns a negative errno to refuse it.
 */
typedef int tw_accept_fn(struct tw_conn *c, void *arg);

/*
 * A protocol as the run layer sees it: opaque. tinyweb.c fills it from
 * http; single/master/worker/threads pass it to the listener and call the
 * per-loop hooks when each event loop starts and ends, never naming http.
 * The protocol keeps what it needs for a loop in the loop's context.
 */
struct tw_proto {
	tw_accept_fn *accept;
	int (*loop_init)(struct tw_loop *loop, void *arg);	/* 0 or -errno */
	/* After tw_conn_close_all(loop): no connection of it is left. */
	void (*loop_exit)(struct tw_loop *loop, void *arg);
	/* Graceful stop of loop: close idle connections, end the others
	 * after their current response. Returns how long (ms) a
	 * connection accepted from now on may take to begin its request. */
	unsigned (*drain)(struct tw_loop *loop, void *arg);
	void *arg;
};

/* The address that means every address of both families. */
#define TW_LISTENER_EVERY	"*"

/*
 * Create a listening TCP socket on addr ("0.0.0.0", "::1", ...; NULL
 * means "0.0.0.0") and port (0 picks a free one), non-blocking and
 * close-on-exec, SO_REUSEADDR, IPV6_V6ONLY for IPv6. TW_LISTENER_EVERY
 * is one [::] socket with IPV6_V6ONLY off, or 0.0.0.0 when the kernel
 * has no IPv6 (socket or bind fail with EAFNOSUPPORT, EPROTONOSUPPORT or
 * EADDRNOTAVAIL). Returns the descriptor or -errno (-EINVAL for an
 * address that is none of these).
 */
int tw_listener_bind(const char *addr, uint16_t port, int backlog,
		     bool reuseport);

/*
 * Another socket bound to the same address as fd, with SO_REUSEPORT (fd
 * must have it too): the kernel spreads new connections over the group.
 * Returns the descriptor or -errno.
 */
int tw_listener_clone_reuseport(int fd, int backlog);

/*
 * Whether accept4 on fd returns a connection only once its first bytes
 * are in (TCP_DEFER_ACCEPT of 1 s, as h2o, or nginx's `deferred`): a
 * client that sends its request at once then costs the server no
 * wake-up and no empty read before it, and the client's connect no
 * wake-up of the server. A silent client waits in the kernel, not in the
 * server, and is handed over after about a second (the SYN-ACK the
 * kernel sends again then brings its ACK). Returns 0 or -errno.
 */
int tw_listener_set_defer(int fd, bool on);

/* Make to deferred as from is (a SO_REUSEPORT sibling of it). Returns 0
 * or -errno. */
int tw_listener_same_defer(int from, int to);

/* True if fd is bound to addr and port (port 0 matches any port).
 * TW_LISTENER_EVERY matches a dual-stack [::] or a 0.0.0.0 socket; "::"
 * only an IPv6-only [::] one. */
bool tw_listener_same_addr(int fd, const char *addr, uint16_t port);

/* True if fd is bound to the unspecified address of its family. */
bool tw_listener_is_every(int fd);

/*
 * The URLs a person can open for fd, one per line ("http://ADDR:PORT/\n",
 * IPv6 in brackets), into buf: fd's own address, or for an unspecified
 * one the loopback address and then the machine's own addresses of the
 * families fd takes (getifaddrs: interfaces that are up; IPv6
 * link-local ones left out, a browser cannot open them without a zone).
 * Cut at a whole line when buf is full. Returns the number of URLs.
 */
size_t tw_listener_urls(int fd, char *buf, size_t len);

/* The local port of a bound socket, or 0. */
uint16_t tw_listener_port(int fd);

/*
 * Format the bound address of fd as "http://ADDR:PORT/" (IPv6 in
 * brackets) into buf. Returns buf.
 */
const char *tw_listener_url(int fd, char *buf, size_t len);

struct tw_listener;

/*
 * Watch the listening socket fd (borrowed: the caller closes it) on loop
 * and call accept_fn(c, arg) for every new connection. Returns NULL with
 * *err = -errno.
 */
struct tw_listener *tw_listener_create(struct tw_loop *loop, int fd,
				       tw_accept_fn *accept_fn, void *arg,
				       bool exclusive, int *err);

/*
 * Stop or start watching the socket (the accept mutex): pending
 * connections wait in the kernel's backlog meanwhile. Returns 0 or -errno.
 */
int tw_listener_pause(struct tw_listener *l);
int tw_listener_resume(struct tw_listener *l);

/*
 * Accept what the kernel has completed on the socket now, up to max
 * connections, each handed to accept_fn as usual: for a graceful stop,
 * so clients that connected in time are answered rather than reset when
 * the socket closes. Returns how many were taken.
 */
size_t tw_listener_take_backlog(struct tw_listener *l, size_t max);

/* Whether l's socket defers its accepts (false if that cannot be read). */
bool tw_listener_defers(const struct tw_listener *l);

/* Stop watching (the socket stays open) and free. */
void tw_listener_destroy(struct tw_listener *l);

#endif /* TW_LISTENER_H */
