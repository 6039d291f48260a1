/* SPDX-License-Identifier: MIT */
/*
 * threads: worker threads under a signal-handling main thread. Layer 4.
 */
#include "run/threads.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/channel.h"
#include "base/log.h"
#include "base/shmtx.h"
#include "base/stats.h"
#include "net/loop.h"
#include "run/notify.h"
#include "run/run.h"
#include "run/signals.h"
#include "run/worker.h"

struct thread {
	pthread_t tid;
	bool started;
	int chan;		/* main thread's end */
	int worker_chan;	/* the thread's end, closed when it ends */
	struct tw_worker_opts o;
};

struct pool {
	const struct tw_run_opts *opts;
	struct thread *t;
	unsigned running;
	struct tw_loop *loop;
	_Atomic int32_t lock_word;	/* accept mutex between threads */
	struct tw_shmtx_sleep lock_sleep;	/* its sleepers (mutex-sem) */
	struct tw_shmtx mutex;
	int *rp_fds;
	bool draining;
	struct tw_timer watchdog;	/* the service manager's */
};

static void *
thread_main(void *arg)
{
	struct thread *t = arg;

	t->o.owner = (int32_t)gettid();
	t->o.id = gettid();
	if (tw_worker_run(&t->o) < 0)
		tw_log(TW_LOG_ERROR, 0, "a worker could not start");
	/* The main thread sees the channel close and counts us out. */
	(void)close(t->worker_chan);
	return NULL;
}

static void
tell_all(struct pool *p, enum tw_channel_cmd cmd)
{
	unsigned i;

	for (i = 0; i < p->opts->workers; i++)
		if (p->t[i].chan >= 0)
			(void)tw_channel_send(p->t[i].chan, cmd, 0);
}

static void
on_worker_gone(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct pool *p = ctx;
	struct tw_channel_msg m;

	(void)events;
	if (tw_channel_recv(fd, &m) != -EPIPE)
		return;
	tw_loop_del(loop, fd);
	if (--p->running == 0)
		tw_loop_stop(loop);
}

static void
on_signal(struct tw_loop *loop, int signo, void *ctx)
{
	struct pool *p = ctx;
	const struct tw_run_hooks *h = p->opts->hooks;

	(void)loop;
	switch (tw_signals_action(signo)) {
	case TW_SIGNALS_DRAIN:
		tell_all(p, TW_CHANNEL_QUIT_LAST);
		/* After the threads were told (see master.c). */
		if (!p->draining)
			tw_notify_stopping(true);
		p->draining = true;
		break;
	case TW_SIGNALS_RELOAD:
		if (h->reload(h->arg, NULL) == 0)
			tell_all(p, TW_CHANNEL_QUIT);
		break;
	case TW_SIGNALS_REOPEN:
		/* The log descriptors are the process's: one re-open serves
		 * every thread. */
		(void)h->reopen(h->arg);
		break;
	case TW_SIGNALS_UPGRADE:
		(void)h->upgrade(h->arg);
		break;
	case TW_SIGNALS_STOP:
		tell_all(p, TW_CHANNEL_TERMINATE);
		tw_notify_stopping(false);
		break;
	case TW_SIGNALS_REAP:	/* not in the set: no child processes */
	case TW_SIGNALS_NONE:
		break;
	}
}

static int
prepare(struct pool *p)
{
	const struct tw_run_opts *o = p->opts;
	unsigned i;
	size_t j;

	if (o->accept == TW_ACCEPT_MUTEX)
		tw_shmtx_init_atomic(&p->mutex, &p->lock_word);
	if (o->accept == TW_ACCEPT_MUTEX_SEM) {
		int err = tw_shmtx_init_sem(&p->mutex, &p->lock_word,
					    &p->lock_sleep);

		if (err < 0)
			return err;
	}
	if (o->accept == TW_ACCEPT_REUSEPORT) {
		p->rp_fds = malloc((size_t)o->workers * o->nfds * sizeof(int));
		if (p->rp_fds == NULL)
			return -ENOMEM;
		for (i = 0; i < o->workers; i++)
			for (j = 0; j < o->nfds; j++) {
				/* Held by the server, so the process that
				 * replaces this one takes them over. */
				int fd = i == 0 ? o->fds[j] :
					 o->hooks->sibling(o->hooks->arg,
							   o->fds[j], i);

				p->rp_fds[i * o->nfds + j] = fd < 0 ? o->fds[j] : fd;
			}
	}
	for (i = 0; i < o->workers; i++) {
		struct thread *t = &p->t[i];
		int ch[2], err = tw_channel_pair(ch);

		t->chan = -1;
		if (err < 0)
			return err;
		t->chan = ch[0];
		t->worker_chan = ch[1];
		t->o = (struct tw_worker_opts){
			.proto = &o->proto,
			.fds = p->rp_fds ? p->rp_fds + i * o->nfds : o->fds,
			.nfds = o->nfds,
			.exclusive = o->accept == TW_ACCEPT_EXCLUSIVE,
			.mutex = o->accept == TW_ACCEPT_MUTEX ||
				 o->accept == TW_ACCEPT_MUTEX_SEM ?
				 &p->mutex : NULL,
			.channel = ch[1],
			.stats = o->stats,
			.slot = o->stats && i < TW_STATS_MAX_WORKERS ?
				&o->stats->workers[i] : NULL,
			.conn = o->conn,
			.sandbox = o->sandbox,
		};
		err = tw_loop_add(p->loop, t->chan, TW_LOOP_READ, on_worker_gone, p);
		if (err < 0)
			return err;
	}
	return 0;
}

int
tw_threads_run(const struct tw_run_opts *o)
{
	struct pool p = { .opts = o };
	sigset_t set;
	unsigned i;
	int err;

	p.mutex.fd = -1;
	p.t = calloc(o->workers, sizeof(*p.t));
	if (p.t == NULL)
		return -ENOMEM;
	p.loop = tw_loop_create(tw_worker_max_fds(), &err);
	if (p.loop == NULL)
		goto out_free;
	tw_loop_server_sigset(&set, false);
	/* Blocked before the threads start, so they inherit the mask and
	 * only the main thread's signalfd sees signals. */
	err = tw_loop_signals(p.loop, &set, on_signal, &p);
	if (err < 0)
		goto out_loop;
	err = prepare(&p);
	if (err < 0)
		goto out_threads;
	for (i = 0; i < o->workers; i++) {
		err = -pthread_create(&p.t[i].tid, NULL, thread_main, &p.t[i]);
		if (err < 0) {
			tell_all(&p, TW_CHANNEL_TERMINATE);
			break;
		}
		p.t[i].started = true;
		p.running++;
	}
	/* The main thread's loop pings: the one that hears signals. */
	tw_notify_watchdog(p.loop, &p.watchdog);
	if (p.running > 0)
		(void)tw_loop_run(p.loop);
out_threads:
	for (i = 0; i < o->workers; i++) {
		if (p.t[i].started)
			(void)pthread_join(p.t[i].tid, NULL);
		if (p.t[i].o.slot != NULL)
			atomic_store(&p.t[i].o.slot->pid, 0);
		else if (p.t[i].chan >= 0)
			(void)close(p.t[i].worker_chan);
		if (p.t[i].chan >= 0)
			(void)close(p.t[i].chan);
	}
	free(p.rp_fds);
out_loop:
	tw_loop_destroy(p.loop);
out_free:
	free(p.t);
	return err;
}
