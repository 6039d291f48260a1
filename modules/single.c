/* SPDX-License-Identifier: MIT */
/*
 * single: one process, one loop. Layer 4.
 */
#include "single.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "loop.h"

static void
on_signal(struct tw_loop *loop, int signo, void *ctx)
{
	(void)ctx;
	switch (signo) {
	case SIGUSR1:
		if (tw_log_reopen() < 0)
			tw_log(TW_LOG_ERROR, 0, "re-opening the access log failed");
		break;
	case SIGHUP:
		/* No config file to reload in this mode yet. */
		break;
	default:
		tw_loop_stop(loop);
		break;
	}
}

static void
after_batch(struct tw_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	tw_conn_reap();
}

static size_t
max_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 65536;
	return (size_t)rl.rlim_cur;
}

int
tw_single_run(const struct tw_proto *proto, const int *fds, size_t n)
{
	struct tw_listener **ls;
	struct tw_loop *loop;
	sigset_t set;
	size_t i;
	int err;

	/* sendfile() to a socket the peer closed raises SIGPIPE; the
	 * error return is what we want instead. */
	(void)signal(SIGPIPE, SIG_IGN);
	ls = calloc(n, sizeof(*ls));
	if (ls == NULL)
		return -ENOMEM;
	loop = tw_loop_create(max_fds(), &err);
	if (loop == NULL)
		goto out_free;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	err = tw_loop_signals(loop, &set, on_signal, NULL);
	if (err < 0)
		goto out_loop;
	err = proto->thread_init(proto->arg);
	if (err < 0)
		goto out_loop;
	for (i = 0; i < n; i++) {
		ls[i] = tw_listener_create(loop, fds[i], proto->accept,
					   proto->arg, &err);
		if (ls[i] == NULL)
			goto out_listeners;
	}
	tw_loop_set_after_batch(loop, after_batch, NULL);
	err = tw_loop_run(loop);

out_listeners:
	for (i = 0; i < n; i++)
		tw_listener_destroy(ls[i]);
	tw_conn_close_all();
	proto->thread_exit(proto->arg);
	tw_conn_release_cache();
out_loop:
	tw_loop_destroy(loop);
out_free:
	free(ls);
	return err;
}
