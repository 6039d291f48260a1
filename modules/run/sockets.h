/* SPDX-License-Identifier: MIT */
/*
 * sockets: the process's listening sockets, which outlive configuration
 * generations. A generation asks for an address and gets the socket the
 * process already holds for it, or one the binary we replace handed over
 * (an upgrade or an epoll/threads reload: their numbers come in
 * TINYWEB_LISTEN_FDS), or one the service manager passed (systemd's
 * socket activation: LISTEN_FDS), or a newly bound one. A socket no
 * generation uses any more is closed. Layer 4 (run).
 */
#ifndef TW_SOCKETS_H
#define TW_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_SOCKETS_ENV	"TINYWEB_LISTEN_FDS"
#define TW_SOCKETS_MAX	64
#define TW_SOCKETS_MAX_SIB	1024	/* reuseport siblings */
#define TW_SOCKETS_INHERIT_MAX	(TW_SOCKETS_MAX + TW_SOCKETS_MAX_SIB)
#define TW_SOCKETS_NAME_MAX	64	/* of a LISTEN_FDNAMES entry */

/* A socket the service manager passed (socket activation). */
struct tw_sockets_passed {
	int fd;			/* -1: a listen line took it */
	char name[TW_SOCKETS_NAME_MAX];	/* its LISTEN_FDNAMES entry, or "" */
};

struct tw_sockets {
	int fds[TW_SOCKETS_MAX];	/* held: in some generation's use */
	size_t nfds;
	int inherited[TW_SOCKETS_INHERIT_MAX];	/* handed over, not yet
						 * asked for (-1: taken) */
	size_t ninherited;
	struct tw_sockets_passed passed[TW_SOCKETS_MAX];	/* activation */
	size_t npassed;
	size_t passed_over;	/* passed beyond TW_SOCKETS_MAX: not taken */
	/*
	 * SO_REUSEPORT siblings of held sockets, one per extra worker, in
	 * rank order per base. Closing one would reset the connections
	 * queued on it; held here, a new generation's (or the next
	 * binary's) worker of the same rank takes it over instead.
	 */
	int sib[TW_SOCKETS_MAX_SIB];
	int sib_base[TW_SOCKETS_MAX_SIB];	/* the held socket of each */
	size_t nsib;
};

/* An empty set. */
void tw_sockets_init(struct tw_sockets *s);

/*
 * Take the sockets the previous binary named in TINYWEB_LISTEN_FDS (then
 * unset, so nothing we start inherits the list by accident); numbers
 * that are not open descriptors above stderr are skipped.
 */
void tw_sockets_inherit(struct tw_sockets *s);

/*
 * Take the sockets a service manager passed: LISTEN_FDS descriptors from
 * 3 on, if LISTEN_PID is our pid, named by LISTEN_FDNAMES. The three
 * variables are then unset, so no process we start reads them again
 * (an upgrade hands the sockets on in TINYWEB_LISTEN_FDS, like ours).
 * Returns how many were passed.
 */
size_t tw_sockets_activate(struct tw_sockets *s);

/* The first passed socket no listen line has taken, or NULL. (Sockets
 * beyond TW_SOCKETS_MAX are not taken at all: passed_over counts them.) */
const struct tw_sockets_passed *
tw_sockets_unclaimed(const struct tw_sockets *s);

/*
 * The listening socket for addr and port (0: any port, or a new one): one
 * held, else one passed by the service manager (made non-blocking), else
 * one inherited, else a new one (SO_REUSEPORT if reuseport).
 * Returns the descriptor, owned by s, or -errno (-ENOSPC: the set is
 * full).
 */
int tw_sockets_get(struct tw_sockets *s, const char *addr, uint16_t port,
		   bool reuseport);

/*
 * The k-th (k >= 1) SO_REUSEPORT sibling of the held socket fd: the one
 * held already, else an inherited socket on the same address, else a new
 * one in fd's group. Returns the descriptor, owned by s, or -errno.
 */
int tw_sockets_sibling(struct tw_sockets *s, int fd, unsigned k);

/* Close the inherited and passed sockets nobody asked for. */
void tw_sockets_drop_inherited(struct tw_sockets *s);

/* Close every held socket that is not one of fds[0..n), and every
 * sibling but the first nsib of each kept one: a socket no generation
 * listens on would queue connections nobody accepts. */
void tw_sockets_keep(struct tw_sockets *s, const int *fds, size_t n,
		     unsigned nsib);

/* Close everything. */
void tw_sockets_close(struct tw_sockets *s);

/*
 * The held descriptors, siblings last, as the list TINYWEB_LISTEN_FDS
 * carries ("3,4,7") into buf. Returns 0, or -ENOSPC if buf is too small.
 */
int tw_sockets_format(const struct tw_sockets *s, char *buf, size_t len);

/*
 * Parse such a list into fds[0..max). Stops at the first item that is
 * not a number. Returns how many were read.
 */
size_t tw_sockets_parse(const char *list, int *fds, size_t max);

#endif /* TW_SOCKETS_H */
