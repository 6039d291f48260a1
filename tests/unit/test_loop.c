/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for loop, the per-thread event loop, and its posted tasks: a
 * task posted before tw_loop_run runs once in the first round although
 * nothing else would end the wait (the wait does not block while a task
 * is posted); a task posted from a task runs in the next round, not the
 * same one; tasks run in the order posted, and posting a task already
 * posted is a no-op; tw_loop_unpost before or during the batch keeps a
 * task from running, is harmless on a task not posted, and leaves the
 * task free to be posted again; a task that re-posts itself runs once a
 * round and lets fd handlers, timers and other tasks have their turn; a
 * task may free the memory holding it, or unpost and free another. Then
 * the basics: timers fire in deadline order, a cancelled timer (also one
 * moved later without heap work) never fires, and an fd handler sees
 * TW_LOOP_READ for a readable pipe. The loop's context: a key's pointer
 * is per loop, tw_loop_destroy destroys what is set newest first, a
 * cleared slot is not destroyed, and tw_loop_each finds exactly the
 * descriptors watched with a given handler. tw_loop_unstop lets a stopped
 * loop run again.
 *
 * Nothing here measures time. Every loop run has a guard timer that stops
 * the loop and fails the test after GUARD_MS; a task that finds itself
 * run far more often than it should stops reposting, or fails the test
 * at once, so a broken loop fails instead of hanging the suite.
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
#include <unistd.h>

#include "net/loop.h"
#include "support/loop_guard.h"

#define GUARD_MS	5000	/* a loop run gives up after this */
#define MAX_FDS		1024
#define MAX_LOG		64
#define SPIN_CAP	10000000u	/* a self-reposting task gives up */

/*
 * One loop and a guard timer. after_batch counts rounds (one per pass of
 * tw_loop_run) and stops the loop after stop_after rounds if that is not
 * 0. Tasks append (id, round) to the log.
 */
struct harness {
	struct tw_loop *loop;
	struct loop_guard guard;
	unsigned rounds;
	unsigned stop_after;
	size_t nlog;
	int log_id[MAX_LOG];
	unsigned log_round[MAX_LOG];
};

static void
count_round(struct tw_loop *loop, void *ctx)
{
	struct harness *h = ctx;

	h->rounds++;
	if (h->stop_after != 0 && h->rounds >= h->stop_after)
		tw_loop_stop(loop);
}

static void
harness_start(struct harness *h)
{
	int err = 1;

	memset(h, 0, sizeof(*h));
	h->loop = tw_loop_create(MAX_FDS, &err);
	assert_non_null(h->loop);
	assert_int_equal(err, 0);
	tw_loop_set_after_batch(h->loop, count_round, h);
}

static void
harness_run(struct harness *h)
{
	loop_guard_run(h->loop, &h->guard, GUARD_MS);
	assert_false(h->guard.fired);
	assert_true(tw_loop_stopping(h->loop));
}

static void
harness_end(struct harness *h)
{
	tw_loop_destroy(h->loop);
	h->loop = NULL;
}

/* Record that task id ran; a runaway loop fails here, not by hanging. */
static void
log_run(struct harness *h, int id)
{
	if (h->nlog == MAX_LOG)
		fail_msg("more than %d task runs logged", MAX_LOG);
	h->log_id[h->nlog] = id;
	h->log_round[h->nlog] = h->rounds;
	h->nlog++;
}

static void
assert_log(const struct harness *h, const int *ids, const unsigned *rounds,
	   size_t n)
{
	size_t i;

	assert_int_equal(h->nlog, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(h->log_id[i], ids[i]);
		assert_int_equal(h->log_round[i], rounds[i]);
	}
}

/*
 * A task that logs its run, then unposts and posts the tasks its owner
 * lists (NULL-terminated), and stops the loop if asked.
 */
#define MAX_ACTS 4

struct rec {
	struct tw_loop_task task;	/* first: rec_of() */
	struct harness *h;
	int id;
	unsigned runs;
	bool stop;
	struct rec *unpost[MAX_ACTS];
	struct rec *post[MAX_ACTS];
};

static struct rec *
rec_of(struct tw_loop_task *t)
{
	return (struct rec *)(void *)t;
}

static void
rec_fn(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct rec *r = rec_of(t);
	size_t i;

	r->runs++;
	log_run(r->h, r->id);
	for (i = 0; i < MAX_ACTS && r->unpost[i] != NULL; i++)
		tw_loop_unpost(&r->unpost[i]->task);
	for (i = 0; i < MAX_ACTS && r->post[i] != NULL; i++)
		tw_loop_post(loop, &r->post[i]->task, rec_fn);
	if (r->stop)
		tw_loop_stop(loop);
}

static void
rec_init(struct rec *recs, size_t n, struct harness *h)
{
	size_t i;

	memset(recs, 0, n * sizeof(*recs));
	for (i = 0; i < n; i++) {
		recs[i].h = h;
		recs[i].id = (int)i;
	}
}

/* Must never run: it was handed to tw_loop_post for a task already
 * posted. */
static unsigned wrong_fn_calls;

static void
wrong_fn(struct tw_loop *loop, struct tw_loop_task *t)
{
	(void)loop;
	(void)t;
	wrong_fn_calls++;
}

/* 1. Only a guard timer 5 s away: if the wait blocked while the task is
 * posted, the guard would end the run (guard.fired), not the task. */
static void
loop_post_before_run_does_not_block(void **state)
{
	struct harness h;
	struct rec r;

	(void)state;
	harness_start(&h);
	rec_init(&r, 1, &h);
	r.stop = true;
	tw_loop_post(h.loop, &r.task, rec_fn);
	harness_run(&h);
	assert_int_equal(r.runs, 1);
	assert_int_equal(h.rounds, 1);
	assert_log(&h, (const int[]){ 0 }, (const unsigned[]){ 0 }, 1);
	harness_end(&h);
}

/* A before_wait hook that allows a long wait must not win over a posted
 * task either. */
static int
long_wait(struct tw_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	return 2 * GUARD_MS;
}

/* 1b. A task posted by a task waits for the next round (the first ran
 * once, in round 0), and that round does not block either. */
static void
loop_task_posted_from_task_runs_next_round(void **state)
{
	struct harness h;
	struct rec r[2];

	(void)state;
	harness_start(&h);
	tw_loop_set_before_wait(h.loop, long_wait, NULL);
	rec_init(r, 2, &h);
	r[0].post[0] = &r[1];
	r[1].stop = true;
	tw_loop_post(h.loop, &r[0].task, rec_fn);
	harness_run(&h);
	assert_int_equal(r[0].runs, 1);
	assert_int_equal(r[1].runs, 1);
	assert_int_equal(h.rounds, 2);
	assert_log(&h, (const int[]){ 0, 1 }, (const unsigned[]){ 0, 1 }, 2);
	harness_end(&h);
}

/* 2. Posted in the order 3 0 5 1 4 2 (not address order), they run in
 * that order. Posting 0 and 2 again, with another fn, is a no-op, and so
 * is 3 posting 4, which is still waiting in the same batch: 4 runs once,
 * in round 0. 2, run last, posts 6, the only task of round 1. */
static void
loop_tasks_run_in_post_order_once(void **state)
{
	static const int order[] = { 3, 0, 5, 1, 4, 2 };
	struct harness h;
	struct rec r[7];
	size_t i;

	(void)state;
	wrong_fn_calls = 0;
	harness_start(&h);
	h.stop_after = 2;
	rec_init(r, 7, &h);
	r[3].post[0] = &r[4];
	r[2].post[0] = &r[6];
	for (i = 0; i < 6; i++)
		tw_loop_post(h.loop, &r[order[i]].task, rec_fn);
	tw_loop_post(h.loop, &r[0].task, wrong_fn);
	tw_loop_post(h.loop, &r[2].task, rec_fn);
	harness_run(&h);
	assert_log(&h, (const int[]){ 3, 0, 5, 1, 4, 2, 6 },
		   (const unsigned[]){ 0, 0, 0, 0, 0, 0, 1 }, 7);
	for (i = 0; i < 7; i++)
		assert_int_equal(r[i].runs, 1);
	assert_int_equal(wrong_fn_calls, 0);
	assert_int_equal(h.rounds, 2);
	harness_end(&h);
}

/* 3. Posted 0..5 and unposted 1 before the run (twice: the second is a
 * no-op), and 7, never posted, unposted too. In round 0: 0 unposts 2 (the
 * very next task) and 4 (a later one) and posts 6 for round 1; 3 unposts
 * 6 again, unposts 0 (already run) and 7 (never posted), and posts 1
 * back; 5 posts 2 back. Round 0 runs 0 3 5; round 1 runs 1 and 2, which
 * were unposted and then posted again; 4, 6 and 7 never run. */
static void
loop_unpost_keeps_task_from_running(void **state)
{
	struct harness h;
	struct rec r[8];
	size_t i;

	(void)state;
	harness_start(&h);
	h.stop_after = 2;
	rec_init(r, 8, &h);
	r[0].unpost[0] = &r[2];
	r[0].unpost[1] = &r[4];
	r[0].post[0] = &r[6];
	r[3].unpost[0] = &r[6];
	r[3].unpost[1] = &r[0];
	r[3].unpost[2] = &r[7];
	r[3].post[0] = &r[1];
	r[5].post[0] = &r[2];
	tw_loop_unpost(&r[7].task);
	for (i = 0; i < 6; i++)
		tw_loop_post(h.loop, &r[i].task, rec_fn);
	tw_loop_unpost(&r[1].task);
	tw_loop_unpost(&r[1].task);
	tw_loop_unpost(&r[7].task);
	harness_run(&h);
	assert_log(&h, (const int[]){ 0, 3, 5, 1, 2 },
		   (const unsigned[]){ 0, 0, 0, 1, 1 }, 5);
	assert_int_equal(r[4].runs, 0);
	assert_int_equal(r[6].runs, 0);
	assert_int_equal(r[7].runs, 0);
	assert_int_equal(h.rounds, 2);
	harness_end(&h);
}

/*
 * 4. A task that keeps re-posting itself, with a readable pipe and a 1 ms
 * timer, each of which posts a one-shot task that must run in the same
 * round as its poster (after the batch's events and timers). It counts the
 * rounds it ran in twice; if the loop ran it twice in one round it stops
 * reposting (so the test fails instead of spinning in one batch).
 */
struct spin {
	struct harness *h;
	struct tw_loop_task self;
	struct tw_loop_task oneshot;	/* posted by the fd handler */
	struct tw_loop_task after_timer;	/* posted by the timer */
	struct tw_timer timer;
	int rfd;
	unsigned runs;
	unsigned last_round;
	unsigned twice_in_round;
	unsigned fd_calls;
	unsigned fd_read_events;
	unsigned timer_calls;
	unsigned oneshot_runs;
	unsigned after_timer_runs;
	/* The rounds these ran in: a task posted by a handler or a timer
	 * runs after it in the same round. */
	unsigned fd_round;
	unsigned oneshot_round;
	unsigned timer_round;
	unsigned after_timer_round;
	bool gave_up;
};

static struct spin *
spin_of_self(struct tw_loop_task *t)
{
	return (struct spin *)(void *)((char *)t - offsetof(struct spin, self));
}

static void
spin_oneshot(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct spin *s = (struct spin *)(void *)
		((char *)t - offsetof(struct spin, oneshot));

	(void)loop;
	s->oneshot_runs++;
	s->oneshot_round = s->h->rounds;
}

static void
spin_after_timer(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct spin *s = (struct spin *)(void *)
		((char *)t - offsetof(struct spin, after_timer));

	(void)loop;
	s->after_timer_runs++;
	s->after_timer_round = s->h->rounds;
}

static void
spin_on_fd(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct spin *s = ctx;
	char c;

	s->fd_calls++;
	s->fd_round = s->h->rounds;
	if (fd == s->rfd && (events & TW_LOOP_READ))
		s->fd_read_events++;
	(void)!read(fd, &c, 1);
	tw_loop_post(loop, &s->oneshot, spin_oneshot);
}

static void
spin_on_timer(struct tw_loop *loop, struct tw_timer *t)
{
	struct spin *s = (struct spin *)(void *)
		((char *)t - offsetof(struct spin, timer));

	s->timer_calls++;
	s->timer_round = s->h->rounds;
	tw_loop_post(loop, &s->after_timer, spin_after_timer);
}

static void
spin_fn(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct spin *s = spin_of_self(t);

	if (s->runs > 0 && s->last_round == s->h->rounds) {
		s->twice_in_round++;
		return;		/* not re-posted: the batch can end */
	}
	s->last_round = s->h->rounds;
	s->runs++;
	if (s->oneshot_runs > 0 && s->after_timer_runs > 0) {
		tw_loop_stop(loop);
		return;
	}
	if (s->runs >= SPIN_CAP) {
		s->gave_up = true;
		tw_loop_stop(loop);
		return;
	}
	tw_loop_post(loop, &s->self, spin_fn);
}

static void
loop_self_reposting_task_does_not_starve(void **state)
{
	struct harness h;
	struct spin s;
	int fds[2];

	(void)state;
	harness_start(&h);
	memset(&s, 0, sizeof(s));
	s.h = &h;
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	s.rfd = fds[0];
	assert_int_equal(tw_loop_add(h.loop, fds[0], TW_LOOP_READ, spin_on_fd,
				     &s), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	tw_loop_timer_set(h.loop, &s.timer, 1, spin_on_timer);
	tw_loop_post(h.loop, &s.self, spin_fn);
	harness_run(&h);
	assert_int_equal(s.twice_in_round, 0);
	assert_false(s.gave_up);
	assert_int_equal(s.fd_calls, 1);
	assert_int_equal(s.fd_read_events, 1);
	assert_int_equal(s.timer_calls, 1);
	assert_int_equal(s.oneshot_runs, 1);
	assert_int_equal(s.after_timer_runs, 1);
	assert_int_equal(s.oneshot_round, s.fd_round);
	assert_int_equal(s.after_timer_round, s.timer_round);
	/* Once in every round, the last one included. */
	assert_int_equal(s.runs, h.rounds);
	assert_true(s.runs >= 2);
	tw_loop_del(h.loop, fds[0]);
	close(fds[0]);
	close(fds[1]);
	harness_end(&h);
}

/*
 * 5. Heap-allocated tasks freed in their own fn (scribbled on first, so
 * a read after free also shows as garbage without ASan), one that
 * re-posts itself twice before freeing itself, and one that unposts and
 * frees a task still waiting in the same batch, as an owner does before
 * freeing. Under ASan any later touch of the memory aborts the test.
 */
#define NHEAP 50

struct heap_task {
	struct tw_loop_task task;	/* first */
	struct harness *h;
	unsigned *freed;
	unsigned runs;
	unsigned rounds_to_live;	/* re-post until this many runs */
	struct heap_task *victim;
};

static void
heap_free(struct heap_task *ht)
{
	unsigned *freed = ht->freed;

	memset(ht, 0x5a, sizeof(*ht));
	free(ht);
	(*freed)++;
}

static void
heap_fn(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct heap_task *ht = (struct heap_task *)(void *)t;

	log_run(ht->h, (int)++ht->runs);
	if (ht->victim != NULL) {
		tw_loop_unpost(&ht->victim->task);
		heap_free(ht->victim);
		ht->victim = NULL;
	}
	if (ht->runs < ht->rounds_to_live) {
		tw_loop_post(loop, t, heap_fn);
		return;
	}
	heap_free(ht);
}

/* Many small tasks would flood the log: these only count. */
static unsigned heap_quiet_runs;

static void
heap_quiet_fn(struct tw_loop *loop, struct tw_loop_task *t)
{
	struct heap_task *ht = (struct heap_task *)(void *)t;

	(void)loop;
	heap_quiet_runs++;
	heap_free(ht);
}

static struct heap_task *
heap_new(struct harness *h, unsigned *freed)
{
	/* calloc: a task must start unposted (prev NULL). */
	struct heap_task *ht = calloc(1, sizeof(*ht));

	assert_non_null(ht);
	ht->h = h;
	ht->freed = freed;
	return ht;
}

static void
loop_task_fn_may_free_task(void **state)
{
	struct heap_task *killer, *victim, *phoenix;
	struct harness h;
	unsigned freed = 0;
	size_t i;

	(void)state;
	heap_quiet_runs = 0;
	harness_start(&h);
	h.stop_after = 3;
	killer = heap_new(&h, &freed);
	victim = heap_new(&h, &freed);
	phoenix = heap_new(&h, &freed);
	killer->victim = victim;
	phoenix->rounds_to_live = 3;
	for (i = 0; i < NHEAP / 2; i++)
		tw_loop_post(h.loop, &heap_new(&h, &freed)->task,
			     heap_quiet_fn);
	tw_loop_post(h.loop, &killer->task, heap_fn);
	tw_loop_post(h.loop, &victim->task, heap_fn);
	tw_loop_post(h.loop, &phoenix->task, heap_fn);
	for (i = NHEAP / 2; i < NHEAP; i++)
		tw_loop_post(h.loop, &heap_new(&h, &freed)->task,
			     heap_quiet_fn);
	harness_run(&h);
	assert_int_equal(heap_quiet_runs, NHEAP);
	assert_int_equal(freed, NHEAP + 3);
	/* killer's run 1 and phoenix's runs 1..3; never the victim. */
	assert_log(&h, (const int[]){ 1, 1, 2, 3 },
		   (const unsigned[]){ 0, 0, 1, 2 }, 4);
	assert_int_equal(h.rounds, 3);
	harness_end(&h);
}

/*
 * 6. Basics. Timers that stop the loop record the order they fired in.
 */
struct rec_timer {
	struct tw_timer timer;		/* first */
	int id;
	bool stop;
	unsigned calls;
	int *order;
	size_t *norder;
};

static void
timer_fn(struct tw_loop *loop, struct tw_timer *t)
{
	struct rec_timer *rt = (struct rec_timer *)(void *)t;

	rt->calls++;
	if (rt->order != NULL && *rt->norder < 8)
		rt->order[(*rt->norder)++] = rt->id;
	if (rt->stop)
		tw_loop_stop(loop);
}

/* Three timers set 3, 1 and 2 ms ahead fire once each, earliest first;
 * none is left armed. */
static void
loop_timers_fire_in_deadline_order(void **state)
{
	static const uint64_t ms[3] = { 3, 1, 2 };
	struct rec_timer rt[3];
	struct harness h;
	int order[8];
	size_t norder = 0, i;

	(void)state;
	harness_start(&h);
	memset(rt, 0, sizeof(rt));
	for (i = 0; i < 3; i++) {
		rt[i].id = (int)i;
		rt[i].order = order;
		rt[i].norder = &norder;
		tw_loop_timer_set(h.loop, &rt[i].timer, ms[i], timer_fn);
	}
	rt[0].stop = true;
	assert_int_equal(tw_loop_timer_count(h.loop), 3);
	harness_run(&h);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rt[i].calls, 1);
		assert_int_equal(rt[i].timer.idx, 0);
	}
	assert_int_equal(tw_loop_timer_count(h.loop), 0);
	harness_end(&h);
}

/* Cancelled timers, due before the one that stops the loop, never fire:
 * one set once, one first moved later (no heap work: it is still filed
 * under its old key). Cancelling an unarmed timer, or twice, is
 * harmless. */
static void
loop_timer_cancel_prevents_firing(void **state)
{
	struct rec_timer plain, moved, idle, stopper;
	struct harness h;

	(void)state;
	harness_start(&h);
	memset(&plain, 0, sizeof(plain));
	memset(&moved, 0, sizeof(moved));
	memset(&idle, 0, sizeof(idle));
	memset(&stopper, 0, sizeof(stopper));
	stopper.stop = true;
	tw_loop_timer_set(h.loop, &plain.timer, 1, timer_fn);
	tw_loop_timer_set(h.loop, &moved.timer, 1, timer_fn);
	tw_loop_timer_set(h.loop, &moved.timer, 2, timer_fn);
	tw_loop_timer_set(h.loop, &stopper.timer, 3, timer_fn);
	assert_int_equal(tw_loop_timer_count(h.loop), 3);
	tw_loop_timer_cancel(h.loop, &plain.timer);
	tw_loop_timer_cancel(h.loop, &moved.timer);
	tw_loop_timer_cancel(h.loop, &plain.timer);
	tw_loop_timer_cancel(h.loop, &idle.timer);
	assert_int_equal(tw_loop_timer_count(h.loop), 1);
	harness_run(&h);
	assert_int_equal(stopper.calls, 1);
	assert_int_equal(plain.calls, 0);
	assert_int_equal(moved.calls, 0);
	assert_int_equal(idle.calls, 0);
	assert_int_equal(tw_loop_timer_count(h.loop), 0);
	harness_end(&h);
}

struct fd_rec {
	int calls;
	int fd;
	unsigned events;
	char byte;
	void *ctx;
};

static void
fd_fn(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct fd_rec *fr = ctx;

	fr->calls++;
	fr->fd = fd;
	fr->events = events;
	fr->ctx = ctx;
	if (read(fd, &fr->byte, 1) != 1)
		fr->byte = 0;
	tw_loop_stop(loop);
}

/* A pipe with a byte in it: the handler gets its fd, its ctx and
 * TW_LOOP_READ (not WRITE: it was not asked for). A descriptor at or
 * above max_fds is refused. */
static void
loop_fd_handler_sees_readable_pipe(void **state)
{
	struct fd_rec fr = { .fd = -1 };
	struct harness h;
	int fds[2];

	(void)state;
	harness_start(&h);
	assert_int_equal(tw_loop_add(h.loop, MAX_FDS, TW_LOOP_READ, fd_fn,
				     &fr), -EMFILE);
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	assert_true(fds[0] < MAX_FDS);
	assert_int_equal(tw_loop_add(h.loop, fds[0], TW_LOOP_READ, fd_fn, &fr),
			 0);
	assert_int_equal(write(fds[1], "q", 1), 1);
	harness_run(&h);
	assert_int_equal(fr.calls, 1);
	assert_int_equal(fr.fd, fds[0]);
	assert_ptr_equal(fr.ctx, &fr);
	assert_true(fr.events & TW_LOOP_READ);
	assert_false(fr.events & TW_LOOP_WRITE);
	assert_int_equal(fr.byte, 'q');
	tw_loop_del(h.loop, fds[0]);
	close(fds[0]);
	close(fds[1]);
	harness_end(&h);
}

/* ---- the loop's context ---- */

static struct tw_loop_key key_a, key_b, key_c;
static char destroyed[8];
static size_t ndestroyed;

static void
note_destroy(void *p)
{
	destroyed[ndestroyed++] = *(char *)p;
}

static void
loop_context_per_loop_destroyed_newest_first(void **state)
{
	struct tw_loop *l1, *l2;
	char a = 'a', b = 'b', c = 'c', b2 = 'B';
	int err;

	(void)state;
	l1 = tw_loop_create(MAX_FDS, &err);
	l2 = tw_loop_create(MAX_FDS, &err);
	assert_non_null(l1);
	assert_non_null(l2);
	assert_null(tw_loop_get(l1, &key_a));	/* never set */
	assert_int_equal(tw_loop_set(l1, &key_a, &a, note_destroy), 0);
	assert_int_equal(tw_loop_set(l1, &key_b, &b, note_destroy), 0);
	assert_int_equal(tw_loop_set(l1, &key_c, &c, note_destroy), 0);
	assert_int_equal(tw_loop_set(l2, &key_b, &b2, note_destroy), 0);
	assert_ptr_equal(tw_loop_get(l1, &key_a), &a);
	assert_ptr_equal(tw_loop_get(l1, &key_b), &b);
	assert_ptr_equal(tw_loop_get(l2, &key_b), &b2);
	assert_null(tw_loop_get(l2, &key_a));
	/* Cleared: no destroy; set again: newest. */
	assert_int_equal(tw_loop_set(l1, &key_c, NULL, NULL), 0);
	assert_null(tw_loop_get(l1, &key_c));
	assert_int_equal(tw_loop_set(l1, &key_a, &a, note_destroy), 0);
	ndestroyed = 0;
	tw_loop_destroy(l1);
	assert_int_equal(ndestroyed, 2);
	assert_memory_equal(destroyed, "ab", 2);
	assert_ptr_equal(tw_loop_get(l2, &key_b), &b2);
	tw_loop_destroy(l2);
	assert_int_equal(ndestroyed, 3);
	assert_int_equal(destroyed[2], 'B');
}

static void
each_io(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)ctx;
}

static void
other_io(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	each_io(loop, fd, events, ctx);
}

static void
each_count(void *ctx, void *arg)
{
	*(int *)arg += *(int *)ctx;
}

static void
loop_each_finds_its_handler_only(void **state)
{
	struct tw_loop *loop;
	int p1[2], p2[2], p3[2], one = 1, ten = 10, hundred = 100, sum = 0;
	int err;

	(void)state;
	loop = tw_loop_create(MAX_FDS, &err);
	assert_non_null(loop);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(pipe(p3), 0);
	assert_int_equal(tw_loop_add(loop, p1[0], TW_LOOP_READ, each_io, &one), 0);
	assert_int_equal(tw_loop_add(loop, p2[0], TW_LOOP_READ, each_io, &ten), 0);
	assert_int_equal(tw_loop_add(loop, p3[0], TW_LOOP_READ, other_io,
				     &hundred), 0);
	tw_loop_each(loop, each_io, each_count, &sum);
	assert_int_equal(sum, 11);
	tw_loop_del(loop, p2[0]);
	sum = 0;
	tw_loop_each(loop, each_io, each_count, &sum);
	assert_int_equal(sum, 1);
	tw_loop_destroy(loop);
	(void)close(p1[0]);
	(void)close(p1[1]);
	(void)close(p2[0]);
	(void)close(p2[1]);
	(void)close(p3[0]);
	(void)close(p3[1]);
}

static void
count_run(struct tw_loop *loop, struct tw_loop_task *t)
{
	(void)t;
	tw_loop_stop(loop);
}

static void
loop_unstop_runs_again(void **state)
{
	struct tw_loop *loop;
	struct tw_loop_task t = { 0 };
	struct loop_guard g = { 0 };
	int err;

	(void)state;
	loop = tw_loop_create(MAX_FDS, &err);
	assert_non_null(loop);
	tw_loop_post(loop, &t, count_run);
	loop_guard_run(loop, &g, GUARD_MS);
	assert_true(tw_loop_stopping(loop));
	tw_loop_unstop(loop);
	assert_false(tw_loop_stopping(loop));
	tw_loop_post(loop, &t, count_run);
	loop_guard_run(loop, &g, GUARD_MS);
	assert_false(g.fired);
	assert_null(t.prev);	/* it ran: no longer posted */
	tw_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loop_post_before_run_does_not_block),
		cmocka_unit_test(loop_task_posted_from_task_runs_next_round),
		cmocka_unit_test(loop_tasks_run_in_post_order_once),
		cmocka_unit_test(loop_unpost_keeps_task_from_running),
		cmocka_unit_test(loop_self_reposting_task_does_not_starve),
		cmocka_unit_test(loop_task_fn_may_free_task),
		cmocka_unit_test(loop_timers_fire_in_deadline_order),
		cmocka_unit_test(loop_timer_cancel_prevents_firing),
		cmocka_unit_test(loop_fd_handler_sees_readable_pipe),
		cmocka_unit_test(loop_context_per_loop_destroyed_newest_first),
		cmocka_unit_test(loop_each_finds_its_handler_only),
		cmocka_unit_test(loop_unstop_runs_again),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
