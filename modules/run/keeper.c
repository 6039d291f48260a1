/* SPDX-License-Identifier: MIT */
/*
 * keeper: a root process answering its server's requests. Layer 4.
 */
#include "run/keeper.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/channel.h"
#include "base/log.h"

void
tw_keeper_init(struct tw_keeper *k)
{
	k->pid = 0;
	k->chan = -1;
}

/* The next message, waiting for it: the channel is non-blocking. */
static int
recv_wait(int chan, struct tw_channel_msg *m, int *fds, size_t *n)
{
	struct pollfd p = { .fd = chan, .events = POLLIN };
	int r;

	for (;;) {
		r = tw_channel_recv_fds(chan, m, fds, n);
		if (r != 0)
			return r;
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

static void
close_all(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)close(fds[i]);
}

static void
reply(int chan, int status, const int *fds, size_t n)
{
	int err = tw_channel_send_fds(chan, TW_CHANNEL_REPLY, status, fds, n);

	if (err < 0)
		tw_log(TW_LOG_ERROR, err, "answering the server");
}

/* The keeper's life: one request at a time until the server ends. */
static void __attribute__((noreturn))
serve(int chan, pid_t server, const struct tw_keeper_ops *ops)
{
	struct tw_channel_msg m;
	int fds[TW_CHANNEL_MAX_FDS], logs[2], r;
	size_t n;

	/* Told apart from its server in ps -o comm and top. */
	(void)prctl(PR_SET_NAME, "tinyweb-keeper", 0, 0, 0);
	ops->enter(ops->arg);
	for (;;) {
		r = recv_wait(chan, &m, fds, &n);
		if (r < 0)
			break;		/* the server is gone */
		switch (m.cmd) {
		case TW_CHANNEL_REOPEN:
			r = ops->reopen(ops->arg);
			tw_log_files(logs);
			reply(chan, r, logs, 2);
			break;
		case TW_CHANNEL_UPGRADE:
			r = ops->upgrade(ops->arg, m.arg != 0,
					 n > 0 ? fds[0] : -1);
			reply(chan, r, NULL, 0);
			break;
		case TW_CHANNEL_QUIT:
			ops->finish(ops->arg, server);
			reply(chan, 0, NULL, 0);
			_exit(0);
		default:
			break;
		}
		close_all(fds, n);
	}
	ops->finish(ops->arg, server);
	_exit(0);
}

int
tw_keeper_start(struct tw_keeper *k, const struct tw_keeper_ops *ops)
{
	pid_t server = getpid();
	int chan, pid = tw_channel_fork(&chan);

	if (pid < 0)
		return pid;
	if (pid == 0)
		serve(chan, server, ops);
	k->pid = pid;
	k->chan = chan;
	return 0;
}

/* One request and its answer (status, and descriptors into fds). */
static int
ask(struct tw_keeper *k, enum tw_channel_cmd cmd, int32_t arg, int fd,
    int *fds, size_t *n)
{
	struct tw_channel_msg m;
	int err, r;

	*n = 0;
	if (k->chan < 0)
		return -ENOTCONN;
	err = tw_channel_send_fds(k->chan, cmd, arg, &fd, 1);
	if (err < 0)
		return err;
	do {
		r = recv_wait(k->chan, &m, fds, n);
		if (r > 0 && m.cmd != TW_CHANNEL_REPLY) {
			close_all(fds, *n);
			*n = 0;
		}
	} while (r > 0 && m.cmd != TW_CHANNEL_REPLY);
	if (r < 0)
		return r == -EPIPE ? -ECHILD : r;
	return m.arg < 0 ? -1 : m.arg;
}

int
tw_keeper_reopen(struct tw_keeper *k)
{
	int fds[TW_CHANNEL_MAX_FDS], r, err;
	size_t n;

	r = ask(k, TW_CHANNEL_REOPEN, 0, -1, fds, &n);
	if (r < -1)
		tw_log(TW_LOG_ERROR, r, "re-opening the logs: the keeper "
		       "process does not answer");
	err = tw_log_install(fds, n);
	if (err < 0)
		tw_log(TW_LOG_ERROR, err, "taking over the re-opened logs");
	close_all(fds, n);
	return r < 0 || err < 0 ? -1 : 0;
}

pid_t
tw_keeper_upgrade(struct tw_keeper *k, bool reload, int state)
{
	int fds[TW_CHANNEL_MAX_FDS];
	size_t n;
	int r = ask(k, TW_CHANNEL_UPGRADE, reload ? 1 : 0, state, fds, &n);

	close_all(fds, n);
	if (r < -1)
		tw_log(TW_LOG_ERROR, r, "the keeper process does not answer");
	return r < 0 ? -1 : (pid_t)r;
}

void
tw_keeper_stop(struct tw_keeper *k)
{
	int fds[TW_CHANNEL_MAX_FDS];
	size_t n;

	if (k->pid <= 0)
		return;
	(void)ask(k, TW_CHANNEL_QUIT, 0, -1, fds, &n);
	close_all(fds, n);
	(void)close(k->chan);
	(void)waitpid(k->pid, NULL, 0);
	tw_keeper_init(k);
}
