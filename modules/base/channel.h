/* SPDX-License-Identifier: MIT */
/*
 * channel: master <-> worker messages over a SOCK_SEQPACKET socketpair,
 * one fixed-size message per packet (nginx's ngx_channel). Signals reach
 * only the master; it tells workers what to do through these. Layer 0.
 */
#ifndef TW_CHANNEL_H
#define TW_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

enum tw_channel_cmd {
	TW_CHANNEL_QUIT = 1,	/* stop accepting, finish, exit */
	TW_CHANNEL_TERMINATE,	/* exit now */
	TW_CHANNEL_REOPEN,	/* re-open log files (or: here they are) */
	TW_CHANNEL_UPGRADE,	/* to a keeper: start the next process */
	TW_CHANNEL_REPLY,	/* a keeper's answer: arg 0 or -1 */
	TW_CHANNEL_QUIT_LAST,	/* QUIT, and no successor will take the
				 * listening sockets (the final stop) */
	TW_CHANNEL_CMD_MAX = TW_CHANNEL_QUIT_LAST
};

/* Descriptors one message carries at most (SCM_RIGHTS). */
#define TW_CHANNEL_MAX_FDS	4

struct tw_channel_msg {
	uint32_t cmd;		/* enum tw_channel_cmd */
	int32_t arg;
};

/* A connected pair, non-blocking and close-on-exec: fds[0] for the
 * master, fds[1] for the worker. Returns 0 or -errno. */
int tw_channel_pair(int fds[2]);

/*
 * fork() with a channel between parent and child: returns 0 in the
 * child, the child's pid in the parent, or -errno (nothing forked); *end
 * is the caller's end of the channel on either side.
 */
int tw_channel_fork(int *end);

/* Send one message. Returns 0 or -errno (-EAGAIN if the peer is not
 * reading and the socket is full). */
int tw_channel_send(int fd, enum tw_channel_cmd cmd, int32_t arg);

/*
 * Receive one message. Returns 1 with *m filled, 0 if none is waiting,
 * -EPIPE when the peer has gone, -EBADMSG for a malformed packet, or
 * -errno.
 */
int tw_channel_recv(int fd, struct tw_channel_msg *m);

/*
 * The same with descriptors: send fds[0..n) (n <= TW_CHANNEL_MAX_FDS;
 * -1 entries are skipped), still ours to close. A receiver gets them,
 * close-on-exec, in fds[0..*n) (room for TW_CHANNEL_MAX_FDS), and owns
 * them; tw_channel_recv() closes any that came.
 */
int tw_channel_send_fds(int fd, enum tw_channel_cmd cmd, int32_t arg,
			const int *fds, size_t n);
int tw_channel_recv_fds(int fd, struct tw_channel_msg *m, int *fds,
			size_t *n);

#endif /* TW_CHANNEL_H */
