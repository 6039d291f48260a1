/* SPDX-License-Identifier: MIT */
/*
 * channel: fixed-size messages over a seqpacket socketpair, with
 * descriptors attached when a message hands some over. Layer 0.
 */
#include "base/channel.h"

#include <errno.h>
#include <string.h>
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
tw_channel_fork(int *end)
{
	int ch[2], err;
	pid_t pid;

	err = tw_channel_pair(ch);
	if (err < 0)
		return err;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		(void)close(ch[0]);
		(void)close(ch[1]);
		return err;
	}
	(void)close(ch[pid == 0 ? 0 : 1]);
	*end = ch[pid == 0 ? 1 : 0];
	return (int)pid;
}

int
tw_channel_send_fds(int fd, enum tw_channel_cmd cmd, int32_t arg,
		    const int *fds, size_t n)
{
	struct tw_channel_msg m = { .cmd = (uint32_t)cmd, .arg = arg };
	union {
		char buf[CMSG_SPACE(sizeof(int) * TW_CHANNEL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	int pass[TW_CHANNEL_MAX_FDS];
	size_t i, k = 0;
	ssize_t r;

	for (i = 0; i < n && i < TW_CHANNEL_MAX_FDS; i++)
		if (fds[i] >= 0)
			pass[k++] = fds[i];
	if (k > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		h.msg_control = ctl.buf;
		h.msg_controllen = CMSG_SPACE(sizeof(int) * k);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(c), pass, sizeof(int) * k);
	}
	r = sendmsg(fd, &h, MSG_NOSIGNAL);
	if (r < 0)
		return -errno;
	return r == (ssize_t)sizeof(m) ? 0 : -EIO;
}

int
tw_channel_send(int fd, enum tw_channel_cmd cmd, int32_t arg)
{
	return tw_channel_send_fds(fd, cmd, arg, NULL, 0);
}

/* The descriptors of every SCM_RIGHTS block, those beyond room closed. */
static size_t
take_fds(struct msghdr *h, int *fds, size_t room)
{
	struct cmsghdr *c;
	size_t n = 0, i, k;
	int fd;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < room)
				fds[n++] = fd;
			else
				(void)close(fd);
		}
	}
	return n;
}

int
tw_channel_recv_fds(int fd, struct tw_channel_msg *m, int *fds, size_t *n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * TW_CHANNEL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr h = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t r = recvmsg(fd, &h, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	size_t i;

	*n = 0;
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	*n = take_fds(&h, fds, TW_CHANNEL_MAX_FDS);
	if (r == (ssize_t)sizeof(*m) && m->cmd >= TW_CHANNEL_QUIT &&
	    m->cmd <= TW_CHANNEL_CMD_MAX)
		return 1;
	for (i = 0; i < *n; i++)
		(void)close(fds[i]);
	*n = 0;
	return r == 0 ? -EPIPE : -EBADMSG;
}

int
tw_channel_recv(int fd, struct tw_channel_msg *m)
{
	int fds[TW_CHANNEL_MAX_FDS];
	size_t n, i;
	int r = tw_channel_recv_fds(fd, m, fds, &n);

	for (i = 0; i < n; i++)
		(void)close(fds[i]);
	return r;
}
