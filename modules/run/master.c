/* SPDX-License-Identifier: MIT */
/*
 * master: fork, watch, respawn, reload. Layer 4.
 */
#include "run/master.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/channel.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/shm.h"
#include "base/shmtx.h"
#include "base/stats.h"
#include "net/loop.h"
#include "run/mode.h"
#include "run/notify.h"
#include "run/run.h"
#include "run/signals.h"
#include "run/worker.h"

#define MAX_SLOTS	1024
#define LOCK_WORDS	16		/* accept mutexes, one per generation */

/* The accept mutexes in the memory the master shares with its workers. */
struct locks {
	_Atomic int32_t word[LOCK_WORDS];
	struct tw_shmtx_sleep sleep[LOCK_WORDS];
};
#define QUICK_DEATH_MS	2000		/* a worker dying sooner "keeps dying" */
#define MAX_BACKOFF_MS	10000
#define KILL_AFTER_MS	10000		/* TERM: SIGKILL what is left */

struct gen {
	struct tw_run_opts g;
	struct tw_shmtx mutex;
	int *rp_fds;		/* reuseport: a socket set per worker */
	unsigned live;		/* workers running */
	bool retiring;
	struct gen *next;
};

struct slot {
	pid_t pid;		/* 0: free */
	int chan;		/* master end of the channel */
	struct gen *gen;
	unsigned idx;		/* position within the generation */
	uint64_t started_ms;
	unsigned fails;		/* quick deaths in a row */
	bool respawn_due;	/* timer armed */
	struct tw_timer timer;
};

struct master {
	const struct tw_run_hooks *hooks;
	struct tw_loop *loop;
	struct tw_shm_header *shm;
	struct locks *locks;
	unsigned next_lock;
	struct gen *cur;
	struct gen *gens;	/* every live generation */
	struct slot *slots;
	size_t nslots;
	bool stopping;
	struct tw_timer kill_timer;
	struct tw_timer watchdog;	/* the service manager's */
};

static struct master *the_master;	/* for timer callbacks */

static struct gen *
gen_create(struct master *m, const struct tw_run_opts *g)
{
	struct gen *n = calloc(1, sizeof(*n));
	size_t i, j;
	int err;

	if (n == NULL)
		return NULL;
	n->g = *g;
	n->mutex.fd = -1;
	if (g->accept == TW_ACCEPT_MUTEX) {
		tw_shmtx_init_atomic(&n->mutex,
				     &m->locks->word[m->next_lock++ % LOCK_WORDS]);
	} else if (g->accept == TW_ACCEPT_MUTEX_SEM) {
		i = m->next_lock++ % LOCK_WORDS;
		err = tw_shmtx_init_sem(&n->mutex, &m->locks->word[i],
					&m->locks->sleep[i]);
		if (err < 0) {
			tw_log(TW_LOG_ERROR, err, "accept mutex semaphore");
			free(n);
			return NULL;
		}
	} else if (g->accept == TW_ACCEPT_MUTEX_FILE) {
		err = tw_shmtx_init_file(&n->mutex, "/tmp");
		if (err < 0) {
			tw_log(TW_LOG_ERROR, err, "accept mutex file");
			free(n);
			return NULL;
		}
	} else if (g->accept == TW_ACCEPT_REUSEPORT) {
		/* Worker 0 takes the sockets the front layer bound (with
		 * SO_REUSEPORT); the others get siblings in the same group,
		 * held across generations: a new worker takes over the old
		 * one's socket, and what queued on it is not lost. */
		n->rp_fds = calloc((size_t)g->workers * g->nfds, sizeof(int));
		if (n->rp_fds == NULL) {
			free(n);
			return NULL;
		}
		for (i = 0; i < g->workers; i++) {
			for (j = 0; j < g->nfds; j++) {
				int fd = i == 0 ? g->fds[j] :
					 m->hooks->sibling(m->hooks->arg,
							   g->fds[j], i);

				if (fd < 0) {
					tw_log(TW_LOG_ERROR, fd, "reuseport socket");
					fd = g->fds[j];
				}
				n->rp_fds[i * g->nfds + j] = fd;
			}
		}
	}
	n->next = m->gens;
	m->gens = n;
	return n;
}

static void
gen_free(struct master *m, struct gen *g)
{
	struct gen **pp;

	for (pp = &m->gens; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	/* The siblings are the server's (release closes the unused). */
	free(g->rp_fds);
	tw_shmtx_destroy(&g->mutex);
	m->hooks->release(m->hooks->arg, &g->g);
	free(g);
}

/* The slot's row in the shared counters (slots beyond the table share
 * no row). */
static struct tw_stats_worker *
stat_row(const struct master *m, const struct slot *s)
{
	size_t i = (size_t)(s - m->slots);
	struct tw_stats *st = m->cur ? m->cur->g.stats : NULL;

	return st != NULL && i < TW_STATS_MAX_WORKERS ? &st->workers[i] : NULL;
}

static void
child_main(struct master *m, struct slot *s, int chan)
{
	struct gen *g = s->gen;
	struct tw_worker_opts o = {
		.proto = &g->g.proto,
		.fds = g->rp_fds ? g->rp_fds + s->idx * g->g.nfds : g->g.fds,
		.nfds = g->g.nfds,
		.exclusive = g->g.accept == TW_ACCEPT_EXCLUSIVE,
		.mutex = (g->g.accept == TW_ACCEPT_MUTEX ||
			  g->g.accept == TW_ACCEPT_MUTEX_FILE ||
			  g->g.accept == TW_ACCEPT_MUTEX_SEM) ? &g->mutex : NULL,
		.owner = (int32_t)getpid(),
		.channel = chan,
		.stats = g->g.stats,
		.slot = stat_row(m, s),
		.id = getpid(),
		.conn = g->g.conn,
		.sandbox = g->g.sandbox,
	};
	size_t i;
	int err;

	/* Nothing of the master's own loop or other workers' channels
	 * belongs in a worker. */
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0 && m->slots[i].chan >= 0)
			(void)close(m->slots[i].chan);
	tw_loop_destroy(m->loop);
	err = m->hooks->child(m->hooks->arg);
	if (err < 0) {
		tw_log(TW_LOG_ERROR, err, "worker: giving up root");
		_exit(1);
	}
	_exit(tw_worker_run(&o) < 0 ? 1 : 0);
}

static int
spawn(struct master *m, struct slot *s)
{
	int chan, pid = tw_channel_fork(&chan);

	if (pid < 0)
		return pid;
	if (pid == 0)
		child_main(m, s, chan);
	s->pid = pid;
	s->chan = chan;
	s->started_ms = tw_clock_ms();
	s->gen->live++;
	if (stat_row(m, s) != NULL) {
		atomic_store(&stat_row(m, s)->pid, pid);
		atomic_store(&stat_row(m, s)->started, (int64_t)time(NULL));
	}
	return 0;
}

static struct slot *
free_slot(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == 0 && m->slots[i].gen == NULL)
			return &m->slots[i];
	if (m->nslots == MAX_SLOTS)
		return NULL;
	memset(&m->slots[m->nslots], 0, sizeof(m->slots[0]));
	m->slots[m->nslots].chan = -1;
	return &m->slots[m->nslots++];
}

static int
start_gen(struct master *m, struct gen *g)
{
	unsigned i;

	for (i = 0; i < g->g.workers; i++) {
		struct slot *s = free_slot(m);
		int err;

		if (s == NULL)
			return -ENOSPC;
		s->gen = g;
		s->idx = i;
		s->fails = 0;
		err = spawn(m, s);
		if (err < 0) {
			s->gen = NULL;
			return err;
		}
	}
	return 0;
}

/* cmd to the workers of g (NULL: all), with fds[0..n) attached. */
static void
tell_gen_fds(struct master *m, struct gen *g, enum tw_channel_cmd cmd,
	     const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < m->nslots; i++) {
		struct slot *s = &m->slots[i];

		if (s->pid > 0 && (g == NULL || s->gen == g))
			(void)tw_channel_send_fds(s->chan, cmd, 0, fds, n);
	}
}

static void
tell_gen(struct master *m, struct gen *g, enum tw_channel_cmd cmd)
{
	tell_gen_fds(m, g, cmd, NULL, 0);
}

static unsigned
live_workers(const struct master *m)
{
	size_t i;
	unsigned n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			n++;
	return n;
}

static void
respawn_due(struct tw_loop *loop, struct tw_timer *t)
{
	struct slot *s = (struct slot *)(void *)((char *)t -
						 offsetof(struct slot, timer));
	struct master *m = the_master;
	int err;

	(void)loop;
	s->respawn_due = false;
	if (m->stopping || s->gen != m->cur) {
		s->gen = NULL;
		return;
	}
	err = spawn(m, s);
	if (err < 0) {
		tw_log(TW_LOG_ERROR, err, "cannot respawn a worker");
		tw_loop_timer_set(m->loop, &s->timer, MAX_BACKOFF_MS, respawn_due);
		s->respawn_due = true;
	}
}

static void
reaped(struct master *m, pid_t pid, int status)
{
	struct slot *s = NULL;
	struct gen *g;
	uint64_t lived;
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == pid)
			s = &m->slots[i];
	if (s == NULL) {
		tw_log(TW_LOG_INFO, 0, "process %d exited", (int)pid);
		return;
	}
	g = s->gen;
	if (WIFSIGNALED(status))
		tw_log(m->stopping || g->retiring ? TW_LOG_INFO : TW_LOG_ERROR, 0,
		       "worker %d killed by signal %d", (int)pid,
		       WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0 || (!m->stopping && !g->retiring))
		tw_log(TW_LOG_WARN, 0, "worker %d exited with status %d",
		       (int)pid, WEXITSTATUS(status));
	/* A worker killed while holding the accept mutex would block every
	 * other worker's accepts forever. */
	if (g->mutex.lock != NULL && tw_shmtx_force_unlock(&g->mutex, pid))
		tw_log(TW_LOG_WARN, 0, "freed the accept mutex of %d",
		       (int)pid);
	(void)close(s->chan);
	s->chan = -1;
	s->pid = 0;
	g->live--;
	if (stat_row(m, s) != NULL)
		atomic_store(&stat_row(m, s)->pid, 0);
	lived = tw_clock_ms() - s->started_ms;
	if (!m->stopping && g == m->cur && !g->retiring) {
		uint64_t delay = 0;

		if (lived < QUICK_DEATH_MS) {
			/* One early death may be bad luck; from the second in
			 * a row the respawns back off, doubling each time. */
			s->fails++;
			if (s->fails > 1) {
				delay = 100ull << (s->fails < 8 ? s->fails - 1 : 7);
				if (delay > MAX_BACKOFF_MS)
					delay = MAX_BACKOFF_MS;
				tw_log(TW_LOG_WARN, 0, "worker keeps dying; "
				       "respawning in %llu ms",
				       (unsigned long long)delay);
			}
		} else {
			s->fails = 0;
		}
		s->respawn_due = true;
		if (stat_row(m, s) != NULL)
			tw_stats_add(&stat_row(m, s)->restarts, 1);
		tw_loop_timer_set(m->loop, &s->timer, delay, respawn_due);
	} else {
		s->gen = NULL;
	}
	if (g->retiring && g->live == 0)
		gen_free(m, g);
}

static void
kill_stragglers(struct tw_loop *loop, struct tw_timer *t)
{
	struct master *m = the_master;
	size_t i;

	(void)loop;
	(void)t;
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			(void)kill(m->slots[i].pid, SIGKILL);
}

static void
begin_stop(struct master *m, bool graceful)
{
	struct gen *g;

	if (!m->stopping || !graceful) {
		bool first = !m->stopping;

		m->stopping = true;
		for (g = m->gens; g != NULL; g = g->next)
			g->retiring = true;
		/* QUIT_LAST: nobody takes the sockets after these. */
		tell_gen(m, NULL, graceful ? TW_CHANNEL_QUIT_LAST :
					     TW_CHANNEL_TERMINATE);
		/* After the workers were told: whoever hears STOPPING=1 and
		 * then asks a worker finds it stopping (health PATH). */
		if (first)
			tw_notify_stopping(graceful);
		if (!graceful)
			tw_loop_timer_set(m->loop, &m->kill_timer, KILL_AFTER_MS,
					  kill_stragglers);
	}
	if (live_workers(m) == 0)
		tw_loop_stop(m->loop);
}

static void
reload(struct master *m)
{
	struct tw_run_opts ng;
	struct gen *old = m->cur, *n;

	if (m->hooks->reload(m->hooks->arg, &ng) < 0) {
		tw_log(TW_LOG_ERROR, 0, "reload failed; still serving "
		       "with the old configuration");
		return;
	}
	n = gen_create(m, &ng);
	if (n == NULL) {
		m->hooks->release(m->hooks->arg, &ng);
		m->hooks->reloaded(m->hooks->arg, false);
		return;
	}
	/* The new workers accept before the old ones stop: the listening
	 * sockets are shared, so no connection waits on nobody. */
	if (start_gen(m, n) < 0) {
		tw_log(TW_LOG_ERROR, 0, "cannot start new workers");
		n->retiring = true;
		tell_gen(m, n, TW_CHANNEL_TERMINATE);
		if (n->live == 0)
			gen_free(m, n);
		m->hooks->reloaded(m->hooks->arg, false);
		return;
	}
	m->cur = n;
	if (n->g.stats != NULL) {
		atomic_store(&n->g.stats->reload_time, (int64_t)time(NULL));
		tw_stats_add(&n->g.stats->reloads, 1);
	}
	old->retiring = true;
	tell_gen(m, old, TW_CHANNEL_QUIT);
	if (old->live == 0)
		gen_free(m, old);
	tw_log(TW_LOG_INFO, 0, "reloaded: %u workers (%s)",
	       n->g.workers, tw_mode_accept_name(n->g.accept));
	m->hooks->reloaded(m->hooks->arg, true);
}

static void
on_signal(struct tw_loop *loop, int signo, void *ctx)
{
	struct master *m = ctx;
	int status;
	pid_t pid;

	(void)loop;
	switch (tw_signals_action(signo)) {
	case TW_SIGNALS_REAP:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			reaped(m, pid, status);
		if (m->stopping && live_workers(m) == 0)
			tw_loop_stop(m->loop);
		break;
	case TW_SIGNALS_STOP:
		begin_stop(m, false);
		break;
	case TW_SIGNALS_DRAIN:
		begin_stop(m, true);
		break;
	case TW_SIGNALS_RELOAD:
		if (!m->stopping)
			reload(m);
		break;
	case TW_SIGNALS_REOPEN: {
		int logs[2];

		/* Opened here, where root is kept: a worker that gave it up
		 * could not open a log in a directory only root may write,
		 * and every worker writes the same new file. */
		(void)m->hooks->reopen(m->hooks->arg);
		tw_log_files(logs);
		tell_gen_fds(m, NULL, TW_CHANNEL_REOPEN, logs, 2);
		break;
	}
	case TW_SIGNALS_UPGRADE:
		(void)m->hooks->upgrade(m->hooks->arg);
		break;
	case TW_SIGNALS_NONE:
		break;
	}
}

int
tw_master_run(const struct tw_run_opts *o)
{
	struct master m = { .hooks = o->hooks };
	sigset_t set;
	int err;

	m.slots = calloc(MAX_SLOTS, sizeof(*m.slots));
	if (m.slots == NULL)
		return -ENOMEM;
	m.shm = tw_shm_create(sizeof(struct locks), &err);
	if (m.shm == NULL)
		goto out_slots;
	m.locks = tw_shm_data(m.shm);
	m.loop = tw_loop_create(tw_worker_max_fds(), &err);
	if (m.loop == NULL)
		goto out_shm;
	tw_loop_server_sigset(&set, true);
	/* Blocked here and so in every forked worker: signals reach only
	 * the master, which tells workers over their channels. */
	err = tw_loop_signals(m.loop, &set, on_signal, &m);
	if (err < 0)
		goto out_loop;
	the_master = &m;
	m.cur = gen_create(&m, o);
	if (m.cur == NULL) {
		err = -ENOMEM;
		goto out_loop;
	}
	err = start_gen(&m, m.cur);
	if (err < 0) {
		begin_stop(&m, false);
		if (live_workers(&m) > 0)
			(void)tw_loop_run(m.loop);
		goto out_gens;
	}
	/* The master's loop pings: it is what respawns the workers. */
	tw_notify_watchdog(m.loop, &m.watchdog);
	err = tw_loop_run(m.loop);
out_gens:
	while (m.gens != NULL)
		gen_free(&m, m.gens);
out_loop:
	tw_loop_destroy(m.loop);
out_shm:
	tw_shm_destroy(m.shm);
out_slots:
	free(m.slots);
	the_master = NULL;
	return err;
}
