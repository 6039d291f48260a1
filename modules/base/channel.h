/* SPDX-License-Identifier: MIT */
/*
 * channel: master <-> worker messages over a SOCK_SEQPACKET socketpair,
 * one fixed-size message per packet (nginx's ngx_channel). Signals reach
 * only the master; it tells workers what to do through these. Layer 0.
 */
#ifndef TW_CHANNEL_H
#define TW_CHANNEL_H

#include <stdint.h>

enum tw_channel_cmd {
	TW_CHANNEL_QUIT = 1,	/* stop accepting, finish, exit */
	TW_CHANNEL_TERMINATE,	/* exit now */
	TW_CHANNEL_REOPEN,	/* re-open log files */
};

struct tw_channel_msg {
	uint32_t cmd;		/* enum tw_channel_cmd */
	int32_t arg;
};

/* A connected pair, non-blocking and close-on-exec: fds[0] for the
 * master, fds[1] for the worker. Returns 0 or -errno. */
int tw_channel_pair(int fds[2]);

/* Send one message. Returns 0 or -errno (-EAGAIN if the peer is not
 * reading and the socket is full). */
int tw_channel_send(int fd, enum tw_channel_cmd cmd, int32_t arg);

/*
 * Receive one message. Returns 1 with *m filled, 0 if none is waiting,
 * -EPIPE when the peer has gone, -EBADMSG for a malformed packet, or
 * -errno.
 */
int tw_channel_recv(int fd, struct tw_channel_msg *m);

#endif /* TW_CHANNEL_H */
