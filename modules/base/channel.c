/* SPDX-License-Identifier: MIT */
/*
 * channel: fixed-size messages over a seqpacket socketpair. Layer 0.
 */
#include "base/channel.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

int
tw_channel_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, fds) < 0)
		return -errno;
	return 0;
}

int
tw_channel_send(int fd, enum tw_channel_cmd cmd, int32_t arg)
{
	struct tw_channel_msg m = { .cmd = (uint32_t)cmd, .arg = arg };
	ssize_t n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(m) ? 0 : -EIO;
}

int
tw_channel_recv(int fd, struct tw_channel_msg *m)
{
	ssize_t n = recv(fd, m, sizeof(*m), MSG_TRUNC);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*m) || m->cmd < TW_CHANNEL_QUIT ||
	    m->cmd > TW_CHANNEL_REOPEN)
		return -EBADMSG;
	return 1;
}
