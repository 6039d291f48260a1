/* SPDX-License-Identifier: MIT */
/*
 * synq: how many connections the kernel still holds for a listening
 * socket before they reach its accept queue (SYN_RECV), asked of the
 * kernel's socket diagnostics (NETLINK_SOCK_DIAG, what `ss` reads).
 * With TCP_DEFER_ACCEPT a client that connected and has not yet sent
 * waits there, in no backlog a server can take, and the last close of
 * the listening socket resets it: a graceful stop asks this to know
 * when none is left to wait for. Layer 1.
 */
#ifndef TW_SYNQ_H
#define TW_SYNQ_H

/*
 * A socket to ask with, close-on-exec: opened before a sandbox forbids
 * new sockets. Returns the descriptor or -errno (a kernel without
 * sock_diag, or a service manager that restricts address families).
 */
int tw_synq_open(void);

/*
 * The number of connections in SYN_RECV whose local address and port
 * are those of the listening socket fd (any address of fd's port for a
 * socket bound to the unspecified address, IPv4 ones too for a
 * dual-stack [::]), asked over nl from tw_synq_open. Returns -errno when
 * it cannot tell.
 */
int tw_synq_waiting(int nl, int fd);

#endif /* TW_SYNQ_H */
