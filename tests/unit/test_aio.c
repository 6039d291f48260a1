/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for aio, the loop's thread pool: every done is called exactly
 * once, on the loop's thread, after its work returned, and work never runs
 * on the loop's thread; completions come back in the order jobs finish,
 * not the order they were queued; four threads really run four jobs at
 * once (they all pass a four-way barrier); tw_aio_pending counts jobs
 * whose done has not run and reaches 0; destroy runs the jobs still queued
 * and calls their done on the destroying thread, then does the same for
 * the jobs those dones queue again; each pool thread has its own
 * TW_AIO_SCRATCH bytes of writable scratch; done may queue its own job
 * again and may free it.
 *
 * Nothing here measures time. Where a test needs threads to meet, they
 * wait on a rendezvous that gives up after WAIT_S seconds, so a broken
 * pool fails the test instead of hanging it, and every loop run has a
 * guard timer that stops the loop and fails the test after GUARD_MS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "net/aio.h"
#include "net/loop.h"
#include "support/loop_guard.h"

#define WAIT_S		5	/* a rendezvous gives up after this */
#define GUARD_MS	10000	/* a loop run gives up after this */

/*
 * Threads meeting: arrive() counts one arrival; wait() blocks until need
 * arrivals were counted, or returns false after WAIT_S seconds. A gate is
 * need = 1 opened by one arrive(); a barrier is meet() by need threads.
 */
struct rendezvous {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned arrived;
	unsigned need;
};

static void
rv_init(struct rendezvous *r, unsigned need)
{
	pthread_condattr_t ca;

	assert_int_equal(pthread_mutex_init(&r->mu, NULL), 0);
	assert_int_equal(pthread_condattr_init(&ca), 0);
	assert_int_equal(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
	assert_int_equal(pthread_cond_init(&r->cv, &ca), 0);
	(void)pthread_condattr_destroy(&ca);
	r->arrived = 0;
	r->need = need;
}

static void
rv_destroy(struct rendezvous *r)
{
	(void)pthread_cond_destroy(&r->cv);
	(void)pthread_mutex_destroy(&r->mu);
}

static void
rv_arrive(struct rendezvous *r)
{
	pthread_mutex_lock(&r->mu);
	if (++r->arrived >= r->need)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Called on pool threads: no cmocka asserts here, only a result. */
static bool
rv_wait(struct rendezvous *r)
{
	struct timespec until;
	bool ok = true;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += WAIT_S;
	pthread_mutex_lock(&r->mu);
	while (r->arrived < r->need) {
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) {
			ok = r->arrived >= r->need;
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static bool
rv_meet(struct rendezvous *r)
{
	rv_arrive(r);
	return rv_wait(r);
}

/*
 * One loop, one pool, and a guard timer. done callbacks call
 * harness_done(); the loop stops when want of them have run.
 */
struct harness {
	struct tw_loop *loop;
	struct tw_aio *aio;
	struct loop_guard guard;
	pthread_t loop_thread;
	size_t want;
	size_t ndone;
};

static void
harness_start(struct harness *h, unsigned nthreads, size_t want)
{
	int err = 1;

	memset(h, 0, sizeof(*h));
	h->loop_thread = pthread_self();
	h->want = want;
	h->loop = tw_loop_create(1024, &err);
	assert_non_null(h->loop);
	err = 1;
	h->aio = tw_aio_create(h->loop, nthreads, &err);
	assert_non_null(h->aio);
	assert_int_equal(tw_aio_pending(h->aio), 0);
}

static void
harness_run(struct harness *h)
{
	loop_guard_run(h->loop, &h->guard, GUARD_MS);
}

static void
harness_done(struct harness *h)
{
	if (++h->ndone == h->want)
		tw_loop_stop(h->loop);
}

/* Destroy first: it may still call done, which touches h. */
static void
harness_end(struct harness *h)
{
	tw_aio_destroy(h->aio);
	h->aio = NULL;
	tw_loop_destroy(h->loop);
	h->loop = NULL;
}

/*
 * A job that records what happened to it. work and done do their own
 * part through an optional hook. Owner data is plain (not atomic): the
 * pool must order work before done, as a real owner relies on.
 */
struct rec_job {
	struct tw_aio_job job;		/* first: rec_of() */
	struct harness *h;
	unsigned idx;
	unsigned sleep_us;
	void (*on_work)(struct rec_job *r);
	void (*on_done)(struct rec_job *r);
	void *arg;			/* the hooks' */
	bool waited_ok;			/* set by a hook that waits */
	int work_state;			/* 1 in work, 2 work returned */
	int work_calls;
	int done_calls;
	int state_at_done;
	pthread_t work_thread;
	pthread_t done_thread;
	size_t done_seq;		/* how many dones ran before this one */
};

static struct rec_job *
rec_of(struct tw_aio_job *j)
{
	return (struct rec_job *)(void *)j;
}

static void
rec_work(struct tw_aio_job *j)
{
	struct rec_job *r = rec_of(j);

	r->work_calls++;
	r->work_state = 1;
	r->work_thread = pthread_self();
	if (r->sleep_us > 0)
		usleep(r->sleep_us);
	if (r->on_work != NULL)
		r->on_work(r);
	r->work_state = 2;
}

static void
rec_done(struct tw_aio_job *j)
{
	struct rec_job *r = rec_of(j);

	r->done_calls++;
	r->done_thread = pthread_self();
	r->state_at_done = r->work_state;
	r->done_seq = r->h->ndone;
	if (r->on_done != NULL)
		r->on_done(r);
	harness_done(r->h);
}

static void
rec_init(struct rec_job *jobs, size_t n, struct harness *h)
{
	size_t i;

	memset(jobs, 0, n * sizeof(*jobs));
	for (i = 0; i < n; i++) {
		jobs[i].job.work = rec_work;
		jobs[i].job.done = rec_done;
		jobs[i].h = h;
		jobs[i].idx = (unsigned)i;
	}
}

/* Each job worked once off the loop's thread and was done once on
 * done_on, after its work returned. */
static void
assert_each_done_once(const struct rec_job *jobs, size_t n,
		      pthread_t loop_thread, pthread_t done_on)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(jobs[i].work_calls, 1);
		assert_int_equal(jobs[i].done_calls, 1);
		assert_int_equal(jobs[i].state_at_done, 2);
		assert_false(pthread_equal(jobs[i].work_thread, loop_thread));
		assert_true(pthread_equal(jobs[i].done_thread, done_on));
	}
}

#define NMANY 200

static void
aio_every_done_once_on_loop_thread(void **state)
{
	static struct rec_job jobs[NMANY];
	bool seen[NMANY] = { false };
	struct harness h;
	unsigned seed = 12345;
	size_t i;

	(void)state;
	harness_start(&h, 4, NMANY);
	rec_init(jobs, NMANY, &h);
	for (i = 0; i < NMANY; i++) {
		jobs[i].sleep_us = (unsigned)rand_r(&seed) % 2001;	/* 0-2 ms */
		tw_aio_submit(h.aio, &jobs[i].job);
	}
	harness_run(&h);
	assert_false(h.guard.fired);
	assert_int_equal(h.ndone, NMANY);
	assert_int_equal(tw_aio_pending(h.aio), 0);
	harness_end(&h);
	/* Nothing more was called by destroy: it had nothing to finish. */
	assert_int_equal(h.ndone, NMANY);
	assert_each_done_once(jobs, NMANY, h.loop_thread, h.loop_thread);
	/* Each done had its own place in the sequence. */
	for (i = 0; i < NMANY; i++) {
		assert_true(jobs[i].done_seq < NMANY);
		assert_false(seen[jobs[i].done_seq]);
		seen[jobs[i].done_seq] = true;
	}
}

#define NORDER 10

/* Job 0's work waits until every other job's done has run: only a pool
 * that hands results back as they finish lets it through. */
static void
order_wait_for_others(struct rec_job *r)
{
	r->waited_ok = rv_wait(r->arg);
}

static void
order_count_done(struct rec_job *r)
{
	if (r->idx != 0)
		rv_arrive(r->arg);
}

static void
aio_done_in_completion_order(void **state)
{
	struct rec_job jobs[NORDER];
	struct rendezvous others;
	struct harness h;
	size_t i;

	(void)state;
	rv_init(&others, NORDER - 1);
	harness_start(&h, 2, NORDER);
	rec_init(jobs, NORDER, &h);
	for (i = 0; i < NORDER; i++) {
		jobs[i].arg = &others;
		jobs[i].on_done = order_count_done;
	}
	jobs[0].on_work = order_wait_for_others;
	for (i = 0; i < NORDER; i++)
		tw_aio_submit(h.aio, &jobs[i].job);
	harness_run(&h);
	harness_end(&h);
	assert_false(h.guard.fired);
	assert_int_equal(h.ndone, NORDER);
	assert_each_done_once(jobs, NORDER, h.loop_thread, h.loop_thread);
	/* Submitted first, finished last, and done last. */
	assert_true(jobs[0].waited_ok);
	assert_int_equal(jobs[0].done_seq, NORDER - 1);
	assert_true(jobs[1].done_seq < jobs[0].done_seq);
	rv_destroy(&others);
}

#define NCONC 4

static void
conc_meet(struct rec_job *r)
{
	r->waited_ok = rv_meet(r->arg);
}

static void
aio_work_runs_concurrently_off_loop(void **state)
{
	struct rec_job jobs[NCONC];
	struct rendezvous barrier;
	struct harness h;
	size_t i, k;

	(void)state;
	rv_init(&barrier, NCONC);
	harness_start(&h, NCONC, NCONC);
	rec_init(jobs, NCONC, &h);
	for (i = 0; i < NCONC; i++) {
		jobs[i].arg = &barrier;
		jobs[i].on_work = conc_meet;
		tw_aio_submit(h.aio, &jobs[i].job);
	}
	harness_run(&h);
	harness_end(&h);
	assert_false(h.guard.fired);
	assert_int_equal(h.ndone, NCONC);
	assert_each_done_once(jobs, NCONC, h.loop_thread, h.loop_thread);
	/* All four were inside work at the same time... */
	for (i = 0; i < NCONC; i++)
		assert_true(jobs[i].waited_ok);
	/* ...so on four different threads. */
	for (i = 0; i < NCONC; i++)
		for (k = i + 1; k < NCONC; k++)
			assert_false(pthread_equal(jobs[i].work_thread,
						   jobs[k].work_thread));
	rv_destroy(&barrier);
}

#define NPEND 16

struct pend_ctx {
	struct rendezvous gate;		/* opened by the test */
	struct rendezvous finished;	/* every work at its end */
	struct tw_aio *aio;
	size_t at_done[NPEND];		/* tw_aio_pending() in each done */
};

static void
pend_work(struct rec_job *r)
{
	struct pend_ctx *c = r->arg;

	r->waited_ok = rv_wait(&c->gate);
	rv_arrive(&c->finished);
}

static void
pend_done(struct rec_job *r)
{
	struct pend_ctx *c = r->arg;

	if (r->done_seq < NPEND)
		c->at_done[r->done_seq] = tw_aio_pending(c->aio);
}

static void
aio_pending_counts_until_done(void **state)
{
	struct rec_job jobs[NPEND];
	struct pend_ctx c;
	struct harness h;
	size_t i;

	(void)state;
	rv_init(&c.gate, 1);
	rv_init(&c.finished, NPEND);
	harness_start(&h, 2, NPEND);
	c.aio = h.aio;
	rec_init(jobs, NPEND, &h);
	for (i = 0; i < NPEND; i++) {
		jobs[i].arg = &c;
		jobs[i].on_work = pend_work;
		jobs[i].on_done = pend_done;
		tw_aio_submit(h.aio, &jobs[i].job);
		assert_int_equal(tw_aio_pending(h.aio), i + 1);
	}
	rv_arrive(&c.gate);
	/* Every work has finished, but no done can have run: the loop is
	 * not running. Still pending. */
	assert_true(rv_wait(&c.finished));
	assert_int_equal(tw_aio_pending(h.aio), NPEND);
	assert_int_equal(h.ndone, 0);
	harness_run(&h);
	assert_false(h.guard.fired);
	assert_int_equal(h.ndone, NPEND);
	assert_int_equal(tw_aio_pending(h.aio), 0);
	/* Inside the k-th done at most NPEND - k remain, never more later. */
	for (i = 0; i < NPEND; i++) {
		assert_true(c.at_done[i] <= NPEND - i);
		if (i > 0)
			assert_true(c.at_done[i] <= c.at_done[i - 1]);
	}
	harness_end(&h);
	assert_each_done_once(jobs, NPEND, h.loop_thread, h.loop_thread);
	for (i = 0; i < NPEND; i++)
		assert_true(jobs[i].waited_ok);
	rv_destroy(&c.gate);
	rv_destroy(&c.finished);
}

#define NQUEUED 20

/*
 * Opens a gate once a given thread is asleep in the kernel after it said
 * it was about to call tw_aio_destroy: destroy has then started (it is
 * joining or waiting) while the job behind the gate holds the only pool
 * thread, so the other jobs are still queued. Opens it anyway after
 * WAIT_S seconds (a destroy that spins instead of sleeping): the calling
 * thread is in destroy by then too, so the test means the same, slower.
 */
struct opener {
	struct rendezvous *gate;
	pid_t tid;
	atomic_bool armed;
};

static bool
thread_sleeping(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the name may hold spaces and parens */
	return p != NULL && p[1] == ' ' && p[2] == 'S';
}

static void *
opener_main(void *arg)
{
	struct opener *o = arg;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (atomic_load(&o->armed) && thread_sleeping(o->tid))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > WAIT_S)
			break;
		usleep(100);
	}
	rv_arrive(o->gate);
	return NULL;
}

static void
queued_wait_gate(struct rec_job *r)
{
	r->waited_ok = rv_wait(r->arg);
}

static void
aio_destroy_runs_queued_jobs(void **state)
{
	struct rec_job jobs[NQUEUED];
	struct rendezvous gate;
	struct opener o;
	struct harness h;
	pthread_t opener_thread;
	size_t i;

	(void)state;
	tw_aio_destroy(NULL);	/* safe, does nothing */
	rv_init(&gate, 1);
	harness_start(&h, 1, NQUEUED);
	rec_init(jobs, NQUEUED, &h);
	jobs[0].arg = &gate;
	jobs[0].on_work = queued_wait_gate;
	for (i = 0; i < NQUEUED; i++)
		tw_aio_submit(h.aio, &jobs[i].job);
	assert_int_equal(tw_aio_pending(h.aio), NQUEUED);
	o.gate = &gate;
	o.tid = gettid();
	atomic_init(&o.armed, false);
	assert_int_equal(pthread_create(&opener_thread, NULL, opener_main, &o),
			 0);
	/* The loop never runs: destroy alone must finish everything. */
	atomic_store(&o.armed, true);
	tw_aio_destroy(h.aio);
	h.aio = NULL;
	assert_int_equal(pthread_join(opener_thread, NULL), 0);
	assert_true(jobs[0].waited_ok);
	assert_int_equal(h.ndone, NQUEUED);
	/* The destroying thread, here the loop's, called every done. Who
	 * ran the queued work is not promised: the pool or destroy itself. */
	for (i = 0; i < NQUEUED; i++) {
		assert_int_equal(jobs[i].work_calls, 1);
		assert_int_equal(jobs[i].done_calls, 1);
		assert_int_equal(jobs[i].state_at_done, 2);
		assert_true(pthread_equal(jobs[i].done_thread, pthread_self()));
	}
	assert_false(pthread_equal(jobs[0].work_thread, h.loop_thread));
	harness_end(&h);
	rv_destroy(&gate);
}

/* A job whose done queues it once more, during destroy: destroy must
 * run that one too, or its owner waits forever. */
static void
follow_up_done(struct rec_job *r)
{
	if (r->done_calls == 1)
		tw_aio_submit(r->arg, &r->job);
}

static void
aio_destroy_finishes_follow_ups(void **state)
{
	struct rec_job jobs[4];
	struct harness h;
	size_t i;

	(void)state;
	harness_start(&h, 2, 0);
	rec_init(jobs, 4, &h);
	for (i = 0; i < 4; i++) {
		jobs[i].arg = h.aio;
		jobs[i].on_done = follow_up_done;
		tw_aio_submit(h.aio, &jobs[i].job);
	}
	tw_aio_destroy(h.aio);
	h.aio = NULL;
	assert_int_equal(h.ndone, 8);
	for (i = 0; i < 4; i++) {
		assert_int_equal(jobs[i].work_calls, 2);
		assert_int_equal(jobs[i].done_calls, 2);
		assert_int_equal(jobs[i].state_at_done, 2);
		assert_true(pthread_equal(jobs[i].done_thread, pthread_self()));
	}
	harness_end(&h);
}

struct scratch_ctx {
	struct rendezvous barrier;
	void *mem[2];
	bool intact[2];
};

/* Fill the whole scratch with this job's byte, wait until the other job
 * has filled its own, then check ours was not touched. */
static void
scratch_fill(struct rec_job *r)
{
	struct scratch_ctx *c = r->arg;
	unsigned char want = (unsigned char)(0xa0 + r->idx);
	unsigned char *p = tw_aio_scratch();
	size_t i;

	c->mem[r->idx] = p;
	c->intact[r->idx] = false;
	if (p == NULL) {
		rv_arrive(&c->barrier);	/* fail fast, not after WAIT_S */
		return;
	}
	memset(p, want, TW_AIO_SCRATCH);
	r->waited_ok = rv_meet(&c->barrier);
	for (i = 0; i < TW_AIO_SCRATCH; i++)
		if (p[i] != want)
			return;
	c->intact[r->idx] = true;
}

static void
aio_scratch_per_thread(void **state)
{
	struct rec_job jobs[2];
	struct scratch_ctx c;
	struct harness h;
	uintptr_t a, b;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	rv_init(&c.barrier, 2);
	harness_start(&h, 2, 2);
	rec_init(jobs, 2, &h);
	for (i = 0; i < 2; i++) {
		jobs[i].arg = &c;
		jobs[i].on_work = scratch_fill;
		tw_aio_submit(h.aio, &jobs[i].job);
	}
	harness_run(&h);
	harness_end(&h);
	assert_false(h.guard.fired);
	assert_each_done_once(jobs, 2, h.loop_thread, h.loop_thread);
	assert_non_null(c.mem[0]);
	assert_non_null(c.mem[1]);
	assert_true(jobs[0].waited_ok);
	assert_true(jobs[1].waited_ok);
	assert_false(pthread_equal(jobs[0].work_thread, jobs[1].work_thread));
	/* Two areas that do not overlap, each kept its own bytes. */
	a = (uintptr_t)c.mem[0];
	b = (uintptr_t)c.mem[1];
	assert_true(a + TW_AIO_SCRATCH <= b || b + TW_AIO_SCRATCH <= a);
	assert_true(c.intact[0]);
	assert_true(c.intact[1]);
	rv_destroy(&c.barrier);
}

#define NCHAIN	8
#define CHAIN_LEN 25

/*
 * An owner that queues its one embedded job again from done, as a
 * connection reading a file piece by piece does. Several chains at once,
 * so one batch of completions holds several jobs.
 */
struct chain {
	struct tw_aio_job job;		/* first */
	struct harness *h;
	int works;
	int dones;
	bool in_work;
	bool overlap;			/* done ran while work was running */
};

static void
chain_work(struct tw_aio_job *j)
{
	struct chain *c = (struct chain *)(void *)j;

	c->in_work = true;
	c->works++;
	c->in_work = false;
}

static void
chain_done(struct tw_aio_job *j)
{
	struct chain *c = (struct chain *)(void *)j;

	if (c->in_work || c->dones != c->works - 1)
		c->overlap = true;
	c->dones++;
	if (c->dones < CHAIN_LEN)
		tw_aio_submit(c->h->aio, &c->job);
	harness_done(c->h);
}

static void
aio_done_resubmits_same_job(void **state)
{
	struct chain chains[NCHAIN];
	struct harness h;
	size_t i;

	(void)state;
	harness_start(&h, 3, (size_t)NCHAIN * CHAIN_LEN);
	memset(chains, 0, sizeof(chains));
	for (i = 0; i < NCHAIN; i++) {
		chains[i].job.work = chain_work;
		chains[i].job.done = chain_done;
		chains[i].h = &h;
		tw_aio_submit(h.aio, &chains[i].job);
	}
	harness_run(&h);
	assert_false(h.guard.fired);
	assert_int_equal(h.ndone, NCHAIN * CHAIN_LEN);
	assert_int_equal(tw_aio_pending(h.aio), 0);
	harness_end(&h);
	assert_int_equal(h.ndone, NCHAIN * CHAIN_LEN);
	for (i = 0; i < NCHAIN; i++) {
		assert_int_equal(chains[i].works, CHAIN_LEN);
		assert_int_equal(chains[i].dones, CHAIN_LEN);
		assert_false(chains[i].overlap);
	}
}

#define NFREE 100

/* A heap owner freed in its done, as a closed connection is: the pool
 * must not touch the job after done (ASan reports it if it does). */
struct owned {
	struct tw_aio_job job;		/* first */
	struct harness *h;
	atomic_int *worked;
	int *freed;
};

static void
owned_work(struct tw_aio_job *j)
{
	struct owned *o = (struct owned *)(void *)j;

	atomic_fetch_add(o->worked, 1);
}

static void
owned_done(struct tw_aio_job *j)
{
	struct owned *o = (struct owned *)(void *)j;
	struct harness *h = o->h;

	(*o->freed)++;
	memset(o, 0x5a, sizeof(*o));
	free(o);
	harness_done(h);
}

static void
aio_done_may_free_job(void **state)
{
	struct harness h;
	atomic_int worked;
	int freed = 0;
	size_t i;

	(void)state;
	atomic_init(&worked, 0);
	harness_start(&h, 2, NFREE);
	for (i = 0; i < NFREE; i++) {
		struct owned *o = calloc(1, sizeof(*o));

		assert_non_null(o);
		o->job.work = owned_work;
		o->job.done = owned_done;
		o->h = &h;
		o->worked = &worked;
		o->freed = &freed;
		tw_aio_submit(h.aio, &o->job);
	}
	harness_run(&h);
	assert_false(h.guard.fired);
	assert_int_equal(tw_aio_pending(h.aio), 0);
	harness_end(&h);
	assert_int_equal(atomic_load(&worked), NFREE);
	assert_int_equal(freed, NFREE);
	assert_int_equal(h.ndone, NFREE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aio_every_done_once_on_loop_thread),
		cmocka_unit_test(aio_done_in_completion_order),
		cmocka_unit_test(aio_work_runs_concurrently_off_loop),
		cmocka_unit_test(aio_pending_counts_until_done),
		cmocka_unit_test(aio_destroy_runs_queued_jobs),
		cmocka_unit_test(aio_destroy_finishes_follow_ups),
		cmocka_unit_test(aio_scratch_per_thread),
		cmocka_unit_test(aio_done_resubmits_same_job),
		cmocka_unit_test(aio_done_may_free_job),
	};

	return cmocka_run_group_tests_name("aio", tests, NULL, NULL);
}
