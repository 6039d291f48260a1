/* SPDX-License-Identifier: MIT */
/*
 * worker: the serving loop of one process or thread. Layer 4.
 */
#include "run/worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/channel.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/shmtx.h"
#include "base/stats.h"
#include "net/aio.h"
#include "net/conn.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/synq.h"
#include "run/sandbox.h"
#include "run/notify.h"
#include "run/signals.h"

#define MUTEX_RETRY_MS 5	/* a worker without the lock looks again */
/* mutex-sem: how long a worker with no connections sleeps on the lock's
 * semaphore before it looks at its signals and channel again. */
#define MUTEX_SLEEP_MS 100
/* How often a lingering final stop asks whether the kernel still holds a
 * client that has not spoken. */
#define LINGER_LOOK_MS 20

struct worker {
	const struct tw_worker_opts *o;
	struct tw_loop *loop;
	struct tw_aio *aio;
	struct tw_listener **ls;
	size_t nls;
	bool draining;
	bool lingering;		/* draining, the listeners still open */
	bool held;		/* accept mutex */
	bool paused;
	struct tw_timer watchdog;	/* epoll mode: the service manager's */
	struct tw_timer linger;
	uint64_t linger_end;	/* tw_clock_ms() when the grace is over */
	int synq;		/* sock_diag socket, or -errno */
};

size_t
tw_worker_max_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 65536;
	return (size_t)rl.rlim_cur;
}

static void
close_listeners(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nls; i++)
		tw_listener_destroy(w->ls[i]);
	w->nls = 0;
	if (w->held) {
		tw_shmtx_unlock(w->o->mutex, w->o->owner);
		w->held = false;
	}
}

/*
 * A connection the kernel completed before the stop is a client that
 * connected in time: it is answered (with Connection: close, as the
 * protocol drains) rather than reset when the last process holding the
 * socket exits. After a reload the new generation would take it from
 * the shared socket anyway; taking it here costs nothing. Bounded: more
 * keep arriving while we accept.
 */
#define BACKLOG_TAKE	4096

static void
set_paused(struct worker *w, bool paused)
{
	size_t i;

	if (w->paused == paused)
		return;
	w->paused = paused;
	for (i = 0; i < w->nls; i++)
		(void)(paused ? tw_listener_pause(w->ls[i]) :
				tw_listener_resume(w->ls[i]));
}

static bool
any_defers(const struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nls; i++)
		if (tw_listener_defers(w->ls[i]))
			return true;
	return false;
}

/* Whether the kernel still holds, for a deferring listener, a client
 * that connected and has not spoken. Not knowing counts as yes: the
 * grace then runs out as it would without the question. */
static bool
kernel_holds_some(const struct worker *w)
{
	size_t i;

	if (w->synq < 0)
		return true;
	for (i = 0; i < w->nls; i++)
		if (tw_listener_defers(w->ls[i]) &&
		    tw_synq_waiting(w->synq, w->o->fds[i]) != 0)
			return true;
	return false;
}

/* The listeners close; what completed meanwhile is taken first, so that
 * the close resets nobody who got in: a deferred client whose request
 * came after the kernel was asked is in the backlog by now, no longer
 * in SYN_RECV. */
static void
stop_listening(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nls; i++)
		(void)tw_listener_take_backlog(w->ls[i], BACKLOG_TAKE);
	close_listeners(w);
	w->lingering = false;
}

static void
linger_look(struct tw_loop *loop, struct tw_timer *t)
{
	struct worker *w = (struct worker *)(void *)((char *)t -
				offsetof(struct worker, linger));
	uint64_t now = tw_clock_ms();

	if (now < w->linger_end && kernel_holds_some(w)) {
		uint64_t left = w->linger_end - now;

		tw_loop_timer_set(loop, &w->linger, left < LINGER_LOOK_MS ?
				  (unsigned)left : LINGER_LOOK_MS, linger_look);
		return;
	}
	stop_listening(w);
	if (tw_conn_count(loop) == 0)
		tw_loop_stop(loop);
}

/*
 * Graceful: no new connections; the protocol ends the others. last: no
 * later generation takes the listening sockets over (the final stop).
 * Then a deferred listener stays open as long as the protocol waits for
 * a first request: a client that connected before the stop but has not
 * sent yet is still the kernel's, in no backlog, and the last close of
 * the socket would reset it. Its request brings it in, as it would have
 * been answered had it been accepted at once. The kernel is asked
 * (synq) whether it holds such a client, so that a stop with none ends
 * at once rather than after the grace.
 */
static void
drain(struct worker *w, bool last)
{
	unsigned grace;
	size_t i;

	if (w->draining)
		return;
	w->draining = true;
	/* The backlog first: the drain then treats what it brought like
	 * every other connection. */
	for (i = 0; i < w->nls; i++)
		(void)tw_listener_take_backlog(w->ls[i], BACKLOG_TAKE);
	grace = w->o->proto->drain(w->loop, w->o->proto->arg);
	if (last && grace > 0 && any_defers(w) && kernel_holds_some(w)) {
		w->lingering = true;
		w->linger_end = tw_clock_ms() + grace;
		/* Every worker watches now: none takes the lock again. */
		set_paused(w, false);
		tw_loop_timer_set(w->loop, &w->linger, w->synq < 0 ? grace :
				  LINGER_LOOK_MS, linger_look);
		return;
	}
	stop_listening(w);
}

/* Accept mutex: only the holder watches the listening sockets, so one
 * worker wakes per connection; the lock is dropped after each batch. */
static int
before_wait(struct tw_loop *loop, void *ctx)
{
	struct worker *w = ctx;

	if (w->draining || w->o->mutex == NULL)
		return -1;
	/* Only a worker with nothing to serve may sleep on the lock (with
	 * mutex-sem): one with connections must get back to them. */
	if (w->o->mutex->sleep != NULL && tw_conn_count(loop) == 0 ?
	    tw_shmtx_wait(w->o->mutex, w->o->owner, MUTEX_SLEEP_MS) :
	    tw_shmtx_trylock(w->o->mutex, w->o->owner)) {
		w->held = true;
		set_paused(w, false);
		return -1;
	}
	set_paused(w, true);
	return MUTEX_RETRY_MS;
}

static void
after_batch(struct tw_loop *loop, void *ctx)
{
	struct worker *w = ctx;

	tw_conn_reap(loop);
	if (w->held) {
		tw_shmtx_unlock(w->o->mutex, w->o->owner);
		w->held = false;
	}
	if (w->draining && !w->lingering && tw_conn_count(loop) == 0)
		tw_loop_stop(loop);
}

static void
on_channel(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct worker *w = ctx;
	struct tw_channel_msg m;
	int fds[TW_CHANNEL_MAX_FDS], r;
	size_t n, i;

	(void)events;
	while ((r = tw_channel_recv_fds(fd, &m, fds, &n)) == 1) {
		switch (m.cmd) {
		case TW_CHANNEL_QUIT:
		case TW_CHANNEL_QUIT_LAST:
			drain(w, m.cmd == TW_CHANNEL_QUIT_LAST);
			break;
		case TW_CHANNEL_TERMINATE:
			tw_loop_stop(loop);
			break;
		case TW_CHANNEL_REOPEN:
			/* The master re-opened them: it may be root where
			 * we are not. */
			r = tw_log_install(fds, n);
			if (r < 0)
				tw_log(TW_LOG_ERROR, r, "taking over the "
				       "re-opened logs");
			break;
		}
		for (i = 0; i < n; i++)
			(void)close(fds[i]);
	}
	if (r == -EPIPE) {
		/* The master is gone: nobody would ever tell us to stop. */
		tw_loop_forget(loop, fd);
		tw_loop_stop(loop);
	}
}

static void
on_signal(struct tw_loop *loop, int signo, void *ctx)
{
	struct worker *w = ctx;
	const struct tw_run_hooks *h = w->o->signals;

	switch (tw_signals_action(signo)) {
	case TW_SIGNALS_DRAIN:
		if (!w->draining) {
			drain(w, true);
			tw_notify_stopping(true);
		}
		break;
	case TW_SIGNALS_RELOAD:
		if (h->reload(h->arg, NULL) == 0)
			drain(w, false);
		break;
	case TW_SIGNALS_REOPEN:
		(void)h->reopen(h->arg);
		break;
	case TW_SIGNALS_UPGRADE:
		(void)h->upgrade(h->arg);
		break;
	case TW_SIGNALS_STOP:
		tw_notify_stopping(false);
		tw_loop_stop(loop);
		break;
	case TW_SIGNALS_REAP:	/* not in a worker's set */
	case TW_SIGNALS_NONE:
		break;
	}
}

int
tw_worker_run(const struct tw_worker_opts *o)
{
	struct worker w = { .o = o, .synq = -EBADF };
	const struct tw_proto *p = o->proto;
	size_t i;
	int err;

	w.ls = calloc(o->nfds ? o->nfds : 1, sizeof(*w.ls));
	if (w.ls == NULL)
		return -ENOMEM;
	tw_stats_bind(o->stats, o->slot);
	if (o->slot != NULL) {
		atomic_store(&o->slot->started, (int64_t)time(NULL));
		atomic_store(&o->slot->pid, o->id);
	}
	w.loop = tw_loop_create(tw_worker_max_fds(), &err);
	if (w.loop == NULL)
		goto out_free;
	if (o->signals != NULL) {
		sigset_t set;

		tw_loop_server_sigset(&set, false);
		err = tw_loop_signals(w.loop, &set, on_signal, &w);
		if (err < 0)
			goto out_loop;
		/* Epoll mode: this loop is the process the manager watches. */
		tw_notify_watchdog(w.loop, &w.watchdog);
	}
	if (o->channel >= 0) {
		err = tw_loop_add(w.loop, o->channel, TW_LOOP_READ, on_channel, &w);
		if (err < 0)
			goto out_loop;
	}
	tw_conn_set_copy_min(w.loop, o->conn.copy_min);
	err = p->loop_init(w.loop, p->arg);
	if (err < 0)
		goto out_aio;
	for (i = 0; i < o->nfds; i++) {
		w.ls[i] = tw_listener_create(w.loop, o->fds[i], p->accept,
					     p->arg, o->exclusive, &err);
		if (w.ls[i] == NULL)
			goto out_listeners;
		w.nls++;
	}
	/* Before the sandbox, which allows no new socket of its kind. */
	if (any_defers(&w))
		w.synq = tw_synq_open();
	/* After what the protocol loads once per loop (libmagic's
	 * database), before the first connection and before the aio
	 * threads, which inherit it. */
	if (o->sandbox != NULL) {
		err = tw_sandbox_enter(o->sandbox);
		if (err < 0) {
			tw_log(TW_LOG_ERROR, err, "sandbox: cannot enter it; "
			       "not serving");
			goto out_listeners;
		}
	}
	if (o->conn.aio_threads > 0) {
		w.aio = tw_aio_create(w.loop, o->conn.aio_threads, &err);
		if (w.aio == NULL)
			goto out_listeners;
		tw_conn_use_aio(w.loop, w.aio);
	}
	tw_loop_set_after_batch(w.loop, after_batch, &w);
	if (o->mutex != NULL)
		tw_loop_set_before_wait(w.loop, before_wait, &w);
	err = tw_loop_run(w.loop);

out_listeners:
	tw_loop_timer_cancel(w.loop, &w.linger);
	close_listeners(&w);
	if (w.synq >= 0)
		(void)close(w.synq);
	tw_conn_close_all(w.loop);
	/* Reads still in flight come back now; their connections, closed
	 * above, are freed only then, before the protocol's files go. */
	tw_aio_destroy(w.aio);
	w.aio = NULL;
	tw_conn_reap(w.loop);
	p->loop_exit(w.loop, p->arg);
	tw_conn_release_cache(w.loop);
out_aio:
	tw_conn_use_aio(w.loop, NULL);
	tw_aio_destroy(w.aio);
out_loop:
	tw_loop_destroy(w.loop);
out_free:
	free(w.ls);
	tw_stats_bind(NULL, NULL);
	return err;
}
