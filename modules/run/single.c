/* SPDX-License-Identifier: MIT */
/*
 * single: one process, one loop, signals handled in that loop. Layer 4.
 */
#include "run/single.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "base/stats.h"
#include "run/run.h"
#include "run/worker.h"

/*
 * The sandboxed loop's hooks run in the thread outside the sandbox: the
 * loop asks and waits, as it waits for them when it calls them itself
 * (a reload or upgrade blocks the loop until the new process is up).
 */
enum ask {
	ASK_NONE,
	ASK_RELOAD,
	ASK_UPGRADE,
	ASK_REOPEN,
};

struct relay {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum ask ask;
	int result;
	bool done;			/* the loop has returned */
	int err;			/* what it returned */
	const struct tw_run_hooks *real;
	struct tw_run_hooks hooks;	/* the loop's: they ask */
	struct tw_worker_opts w;
};

static int
ask(struct relay *r, enum ask what)
{
	int result;

	pthread_mutex_lock(&r->mu);
	r->ask = what;
	pthread_cond_broadcast(&r->cv);
	while (r->ask != ASK_NONE)
		pthread_cond_wait(&r->cv, &r->mu);
	result = r->result;
	pthread_mutex_unlock(&r->mu);
	return result;
}

static int
ask_reload(void *arg, struct tw_run_opts *next)
{
	(void)next;	/* epoll mode: always NULL */
	return ask(arg, ASK_RELOAD);
}

static int
ask_upgrade(void *arg)
{
	return ask(arg, ASK_UPGRADE);
}

static int
ask_reopen(void *arg)
{
	return ask(arg, ASK_REOPEN);
}

static void *
loop_main(void *arg)
{
	struct relay *r = arg;
	int err = tw_worker_run(&r->w);

	pthread_mutex_lock(&r->mu);
	r->err = err;
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Answer the loop's asks until it returns. */
static int
serve_asks(struct relay *r)
{
	const struct tw_run_hooks *h = r->real;
	enum ask what;
	int result;

	pthread_mutex_lock(&r->mu);
	while (!r->done) {
		if (r->ask == ASK_NONE) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		what = r->ask;
		pthread_mutex_unlock(&r->mu);
		result = what == ASK_RELOAD ? h->reload(h->arg, NULL) :
			 what == ASK_UPGRADE ? h->upgrade(h->arg) :
					       h->reopen(h->arg);
		pthread_mutex_lock(&r->mu);
		r->result = result;
		r->ask = ASK_NONE;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return r->err;
}

static int
run_sandboxed(const struct tw_worker_opts *w, const struct tw_run_hooks *h)
{
	struct relay r = {
		.mu = PTHREAD_MUTEX_INITIALIZER,
		.cv = PTHREAD_COND_INITIALIZER,
		.real = h,
		.w = *w,
	};
	pthread_t tid;
	int err;

	r.hooks = (struct tw_run_hooks){
		.reload = ask_reload,
		.upgrade = ask_upgrade,
		.reopen = ask_reopen,
		.arg = &r,
	};
	r.w.signals = &r.hooks;
	err = -pthread_create(&tid, NULL, loop_main, &r);
	if (err < 0)
		return err;
	err = serve_asks(&r);
	(void)pthread_join(tid, NULL);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return err;
}

int
tw_single_run(const struct tw_run_opts *o)
{
	struct tw_worker_opts w = {
		.proto = &o->proto,
		.fds = o->fds,
		.nfds = o->nfds,
		.channel = -1,
		.signals = o->hooks,
		.stats = o->stats,
		.slot = o->stats ? &o->stats->workers[0] : NULL,
		.id = getpid(),
		.conn = o->conn,
		.sandbox = o->sandbox,
	};

	if (o->sandbox != NULL)
		return run_sandboxed(&w, o->hooks);
	return tw_worker_run(&w);
}
