/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for channel, the master <-> worker messages: the pair is a
 * non-blocking, close-on-exec SOCK_SEQPACKET pair; every command round
 * trips with its argument in both directions; queued messages come out
 * one per recv, in order; recv with nothing waiting returns 0, after the
 * peer closed -EPIPE; malformed packets (short, long, a command out of
 * range) give -EBADMSG without losing the message boundary, so the next
 * good message still reads; a peer that never reads fills the socket and
 * send reports -EAGAIN; send to a closed peer is -EPIPE, not SIGPIPE.
 * Descriptors ride along: they arrive open on the same file, close-on-
 * exec, -1 entries skipped; a plain recv closes any that came, and a
 * malformed packet's are closed too, never leaked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/channel.h"

static void
pair_or_fail(int fds[2])
{
	fds[0] = fds[1] = -1;
	assert_int_equal(tw_channel_pair(fds), 0);
	assert_true(fds[0] > STDERR_FILENO);
	assert_true(fds[1] > STDERR_FILENO);
	assert_int_not_equal(fds[0], fds[1]);
}

static void
close_pair(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

static void
channel_pair_flags(void **state)
{
	int fds[2], i, type;
	socklen_t len;

	(void)state;
	pair_or_fail(fds);
	for (i = 0; i < 2; i++) {
		assert_true(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		len = sizeof(type);
		assert_int_equal(getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type,
					    &len), 0);
		assert_int_equal(type, SOCK_SEQPACKET);
	}
	close_pair(fds);
}

static void
channel_round_trip_each_command(void **state)
{
	static const struct {
		enum tw_channel_cmd cmd;
		int32_t arg;
	} rows[] = {
		{ TW_CHANNEL_QUIT, 0 },
		{ TW_CHANNEL_TERMINATE, 1 },
		{ TW_CHANNEL_REOPEN, -1 },
		{ TW_CHANNEL_QUIT, INT32_MAX },
		{ TW_CHANNEL_TERMINATE, INT32_MIN },
		{ TW_CHANNEL_REOPEN, 123456 },
		{ TW_CHANNEL_UPGRADE, 1 },
		{ TW_CHANNEL_REPLY, -1 },
		{ TW_CHANNEL_QUIT_LAST, 0 },
	};
	struct tw_channel_msg m;
	int fds[2], dir;
	size_t i;

	(void)state;
	pair_or_fail(fds);
	/* Master to worker and back: the pair is symmetric. */
	for (dir = 0; dir < 2; dir++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			memset(&m, 0xee, sizeof(m));
			assert_int_equal(tw_channel_send(fds[dir], rows[i].cmd,
							 rows[i].arg), 0);
			assert_int_equal(tw_channel_recv(fds[1 - dir], &m), 1);
			assert_int_equal(m.cmd, rows[i].cmd);
			assert_int_equal(m.arg, rows[i].arg);
			/* Exactly one message per send. */
			assert_int_equal(tw_channel_recv(fds[1 - dir], &m), 0);
		}
	}
	close_pair(fds);
}

static void
channel_queued_messages_in_order(void **state)
{
	struct tw_channel_msg m;
	int fds[2], i;

	(void)state;
	pair_or_fail(fds);
	for (i = 0; i < 30; i++)
		assert_int_equal(tw_channel_send(fds[0],
			(enum tw_channel_cmd)(TW_CHANNEL_QUIT + i % 3), i * 7), 0);
	for (i = 0; i < 30; i++) {
		assert_int_equal(tw_channel_recv(fds[1], &m), 1);
		assert_int_equal(m.cmd, (uint32_t)(TW_CHANNEL_QUIT + i % 3));
		assert_int_equal(m.arg, i * 7);
	}
	assert_int_equal(tw_channel_recv(fds[1], &m), 0);
	close_pair(fds);
}

static void
channel_recv_nothing_waiting(void **state)
{
	struct tw_channel_msg m;
	int fds[2];

	(void)state;
	pair_or_fail(fds);
	assert_int_equal(tw_channel_recv(fds[0], &m), 0);
	assert_int_equal(tw_channel_recv(fds[1], &m), 0);
	/* Still 0 when asked again: never blocks, never invents data. */
	assert_int_equal(tw_channel_recv(fds[1], &m), 0);
	close_pair(fds);
}

static void
channel_peer_closed(void **state)
{
	struct tw_channel_msg m;
	int fds[2];

	(void)state;
	pair_or_fail(fds);
	/* A message sent before the close is still delivered first. */
	assert_int_equal(tw_channel_send(fds[0], TW_CHANNEL_QUIT, 5), 0);
	close(fds[0]);
	fds[0] = -1;
	assert_int_equal(tw_channel_recv(fds[1], &m), 1);
	assert_int_equal(m.cmd, TW_CHANNEL_QUIT);
	assert_int_equal(m.arg, 5);
	assert_int_equal(tw_channel_recv(fds[1], &m), -EPIPE);
	assert_int_equal(tw_channel_recv(fds[1], &m), -EPIPE);
	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the master
	 * (the default action would end this test program). */
	assert_int_equal(tw_channel_send(fds[1], TW_CHANNEL_QUIT, 0), -EPIPE);
	close_pair(fds);
}

static void
channel_bad_descriptor(void **state)
{
	struct tw_channel_msg m;

	(void)state;
	assert_int_equal(tw_channel_recv(-1, &m), -EBADF);
	assert_int_equal(tw_channel_send(-1, TW_CHANNEL_QUIT, 0), -EBADF);
}

static void
channel_malformed_packets(void **state)
{
	struct raw {
		uint32_t cmd;
		int32_t arg;
		uint32_t extra;
	};
	static const struct {
		struct raw r;
		size_t len;
	} rows[] = {
		{ { TW_CHANNEL_QUIT, 0, 0 }, 3 },	/* short */
		{ { TW_CHANNEL_QUIT, 0, 0 }, 1 },
		{ { TW_CHANNEL_QUIT, 0, 0 }, 7 },	/* one byte short */
		{ { TW_CHANNEL_QUIT, 0, 0 }, 12 },	/* too long */
		{ { 0, 0, 0 }, 8 },			/* cmd below range */
		{ { TW_CHANNEL_CMD_MAX + 1, 0, 0 }, 8 },	/* above range */
		{ { 0xffffffffu, 1, 0 }, 8 },
		{ { 0x80000001u, 1, 0 }, 8 },		/* negative as int */
	};
	struct tw_channel_msg m;
	int fds[2];
	size_t i;

	(void)state;
	assert_int_equal(sizeof(struct tw_channel_msg), 8);
	pair_or_fail(fds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(send(fds[0], &rows[i].r, rows[i].len, 0),
				 (ssize_t)rows[i].len);
		/* A good message right behind the bad one. */
		assert_int_equal(tw_channel_send(fds[0], TW_CHANNEL_REOPEN,
						 (int32_t)i), 0);
		assert_int_equal(tw_channel_recv(fds[1], &m), -EBADMSG);
		assert_int_equal(tw_channel_recv(fds[1], &m), 1);
		assert_int_equal(m.cmd, TW_CHANNEL_REOPEN);
		assert_int_equal(m.arg, (int32_t)i);
		assert_int_equal(tw_channel_recv(fds[1], &m), 0);
	}
	close_pair(fds);
}

static void
channel_full_socket_eagain(void **state)
{
	struct tw_channel_msg m;
	int fds[2], err = 0, sent = 0, got = 0, i;

	(void)state;
	pair_or_fail(fds);
	/* The worker end never reads: the socket fills and send must say
	 * so at once instead of blocking the master. */
	for (i = 0; i < 1000000; i++) {
		err = tw_channel_send(fds[0], TW_CHANNEL_QUIT, i);
		if (err != 0)
			break;
		sent++;
	}
	assert_int_equal(err, -EAGAIN);
	assert_true(sent > 0);
	/* Nothing was lost or reordered: everything sent reads back. */
	while (tw_channel_recv(fds[1], &m) == 1) {
		assert_int_equal(m.cmd, TW_CHANNEL_QUIT);
		assert_int_equal(m.arg, got);
		got++;
	}
	assert_int_equal(got, sent);
	/* Drained, so there is room again. */
	assert_int_equal(tw_channel_send(fds[0], TW_CHANNEL_TERMINATE, 9), 0);
	assert_int_equal(tw_channel_recv(fds[1], &m), 1);
	assert_int_equal(m.cmd, TW_CHANNEL_TERMINATE);
	close_pair(fds);
}

/* A descriptor of a fresh, already unlinked file, and its inode. */
static int
temp_fd(ino_t *ino)
{
	char path[] = "/tmp/test_channel_XXXXXX";
	int fd = mkstemp(path);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fstat(fd, &st), 0);
	*ino = st.st_ino;
	return fd;
}

static bool
same_file(int fd, ino_t ino)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_ino == ino;
}

static int
open_count(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void
channel_passes_descriptors(void **state)
{
	struct tw_channel_msg m;
	ino_t ino[2];
	int fds[2], send_fds[3], got[TW_CHANNEL_MAX_FDS];
	size_t n = 99;

	(void)state;
	pair_or_fail(fds);
	send_fds[0] = temp_fd(&ino[0]);
	send_fds[1] = -1;
	send_fds[2] = temp_fd(&ino[1]);
	assert_int_equal(tw_channel_send_fds(fds[0], TW_CHANNEL_REOPEN, 7,
					     send_fds, 3), 0);
	assert_int_equal(tw_channel_recv_fds(fds[1], &m, got, &n), 1);
	assert_int_equal(m.cmd, TW_CHANNEL_REOPEN);
	assert_int_equal(m.arg, 7);
	assert_int_equal(n, 2);
	assert_true(same_file(got[0], ino[0]));
	assert_true(same_file(got[1], ino[1]));
	assert_int_not_equal(got[0], send_fds[0]);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(got[1], F_GETFD) & FD_CLOEXEC);
	/* Without any: n is 0. */
	assert_int_equal(tw_channel_send(fds[0], TW_CHANNEL_REPLY, 0), 0);
	assert_int_equal(tw_channel_recv_fds(fds[1], &m, got + 2, &n), 1);
	assert_int_equal(n, 0);
	(void)close(got[0]);
	(void)close(got[1]);
	(void)close(send_fds[0]);
	(void)close(send_fds[2]);
	close_pair(fds);
}

static void
channel_plain_recv_closes_descriptors(void **state)
{
	struct tw_channel_msg m;
	struct {
		uint32_t cmd;
		int32_t arg;
		uint32_t extra;
	} bad = { TW_CHANNEL_QUIT, 0, 0 };
	ino_t ino;
	int fds[2], fd, before, got[TW_CHANNEL_MAX_FDS];
	size_t n;

	(void)state;
	pair_or_fail(fds);
	fd = temp_fd(&ino);
	before = open_count();
	assert_int_equal(tw_channel_send_fds(fds[0], TW_CHANNEL_REOPEN, 0,
					     &fd, 1), 0);
	assert_int_equal(tw_channel_recv(fds[1], &m), 1);
	assert_int_equal(open_count(), before);
	/* A malformed packet carrying one: -EBADMSG, nothing kept. */
	{
		struct iovec iov = { .iov_base = &bad, .iov_len = sizeof(bad) };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&h);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
		assert_int_equal(sendmsg(fds[0], &h, 0), (ssize_t)sizeof(bad));
	}
	assert_int_equal(tw_channel_recv_fds(fds[1], &m, got, &n), -EBADMSG);
	assert_int_equal(n, 0);
	assert_int_equal(open_count(), before);
	(void)close(fd);
	close_pair(fds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(channel_pair_flags),
		cmocka_unit_test(channel_round_trip_each_command),
		cmocka_unit_test(channel_queued_messages_in_order),
		cmocka_unit_test(channel_recv_nothing_waiting),
		cmocka_unit_test(channel_peer_closed),
		cmocka_unit_test(channel_bad_descriptor),
		cmocka_unit_test(channel_malformed_packets),
		cmocka_unit_test(channel_full_socket_eagain),
		cmocka_unit_test(channel_passes_descriptors),
		cmocka_unit_test(channel_plain_recv_closes_descriptors),
	};

	return cmocka_run_group_tests_name("channel", tests, NULL, NULL);
}
