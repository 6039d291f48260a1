/* SPDX-License-Identifier: MIT */
/*
 * loop: one event loop per process or thread. Owns the epoll descriptor,
 * a table of fd handlers indexed by descriptor, timers in a binary heap,
 * a signalfd for the signals the run layer asks for, an eventfd to be
 * woken from another thread, and the per-loop state of the modules that
 * live on it (tw_loop_get/tw_loop_set). Layer 1 (transport): speaks only of
 * descriptors, event masks, timers and opaque context pointers.
 */
#ifndef TW_LOOP_H
#define TW_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_loop;

/* Event bits, passed to and from handlers. */
#define TW_LOOP_READ	0x1u
#define TW_LOOP_WRITE	0x2u
#define TW_LOOP_HUP	0x4u	/* peer closed or error */
#define TW_LOOP_EDGE	0x8u	/* register edge-triggered */
#define TW_LOOP_EXCLUSIVE 0x10u	/* EPOLLEXCLUSIVE: wake one waiter of many */

typedef void tw_loop_io_fn(struct tw_loop *loop, int fd, unsigned events,
			   void *ctx);

/*
 * A timer embedded in its owner (no allocation). Zero-initialise it; it
 * is armed by tw_loop_timer_set and disarmed by tw_loop_timer_cancel or
 * by firing.
 */
struct tw_timer;
typedef void tw_loop_timer_fn(struct tw_loop *loop, struct tw_timer *t);

struct tw_timer {
	uint64_t deadline;	/* monotonic ms; the heap may hold an earlier key */
	uint64_t key;		/* position key in the heap */
	size_t idx;		/* heap index + 1; 0 when not armed */
	tw_loop_timer_fn *fn;
};

/*
 * A task posted to run after the current event batch, embedded in its
 * owner like a timer and, like it, zero-initialised. A connection that
 * has written its share for one turn posts itself to go on after
 * everyone else ready in this batch: under edge triggering, no new event
 * would wake it for the rest.
 */
struct tw_loop_task;
typedef void tw_loop_task_fn(struct tw_loop *loop, struct tw_loop_task *t);

struct tw_loop_task {
	struct tw_loop_task *prev;	/* private: NULL when not posted */
	struct tw_loop_task *next;
	tw_loop_task_fn *fn;
};

/* Run fn(loop, t) once after this batch's events and timers; the next
 * wait does not block while tasks are posted. No-op if t is posted. */
void tw_loop_post(struct tw_loop *loop, struct tw_loop_task *t,
		  tw_loop_task_fn *fn);

/* Take t back if posted (before freeing its owner). */
void tw_loop_unpost(struct tw_loop_task *t);

/* Called with the signal number read from the signalfd. */
typedef void tw_loop_signal_fn(struct tw_loop *loop, int signo, void *ctx);

/*
 * Create a loop able to watch descriptors below max_fds. Returns NULL
 * with *err = -errno.
 */
struct tw_loop *tw_loop_create(size_t max_fds, int *err);
void tw_loop_destroy(struct tw_loop *loop);

/*
 * Watch fd for events (TW_LOOP_READ|TW_LOOP_WRITE, optionally
 * TW_LOOP_EDGE); fn(loop, fd, events, ctx) is called when ready.
 * Returns 0, -EMFILE if fd >= max_fds, or -errno from epoll_ctl.
 */
int tw_loop_add(struct tw_loop *loop, int fd, unsigned events,
		tw_loop_io_fn *fn, void *ctx);
int tw_loop_mod(struct tw_loop *loop, int fd, unsigned events);

/* Stop watching fd (before closing it, or it is dropped by the close). */
void tw_loop_del(struct tw_loop *loop, int fd);

/* Forget fd without an epoll_ctl call: the caller is about to close it. */
void tw_loop_forget(struct tw_loop *loop, int fd);

/*
 * Arm t to call fn ms milliseconds from the loop's current time. Setting
 * a later deadline on an armed timer costs no heap work: the timer is
 * re-filed when its old key comes due (nginx's trick for keep-alive
 * timers that move forward on every request).
 */
void tw_loop_timer_set(struct tw_loop *loop, struct tw_timer *t,
		       uint64_t ms, tw_loop_timer_fn *fn);
void tw_loop_timer_cancel(struct tw_loop *loop, struct tw_timer *t);

/*
 * The signals a tinyweb server acts on: INT, TERM, QUIT, HUP, USR1 and
 * USR2, plus CHLD when with_chld (a master reaping workers). One list, so
 * every run mode blocks and reads the same ones.
 */
void tw_loop_server_sigset(sigset_t *set, bool with_chld);

/*
 * Block the signals in set for this thread and deliver them through a
 * signalfd to fn. Returns 0 or -errno.
 */
int tw_loop_signals(struct tw_loop *loop, const sigset_t *set,
		    tw_loop_signal_fn *fn, void *ctx);

/*
 * Run until tw_loop_stop(). Between event batches, after_batch (if set)
 * is called, so owners can reap objects marked closing. Returns 0 or
 * -errno if epoll_wait failed for a reason other than EINTR.
 */
int tw_loop_run(struct tw_loop *loop);
void tw_loop_set_after_batch(struct tw_loop *loop,
			     void (*fn)(struct tw_loop *loop, void *ctx),
			     void *ctx);

/*
 * Called before each wait; returns the longest the wait may block in ms
 * (-1: no limit). The accept mutex uses it to retry the lock soon.
 */
void tw_loop_set_before_wait(struct tw_loop *loop,
			     int (*fn)(struct tw_loop *loop, void *ctx),
			     void *ctx);

/* Make tw_loop_run() return after the current batch. Thread-safe: uses
 * the loop's eventfd when called from another thread. */
void tw_loop_stop(struct tw_loop *loop);

/* True once tw_loop_stop() was called. */
bool tw_loop_stopping(const struct tw_loop *loop);

/* Forget a tw_loop_stop() so that tw_loop_run() runs again (a loop driven
 * in phases, as the tests of what lives on it do). Loop's thread only. */
void tw_loop_unstop(struct tw_loop *loop);

/*
 * The loop's own context: state that modules above keep per event loop
 * rather than per thread, so two loops on one thread never share it. A
 * module keys its state with one static, zero-initialised struct
 * tw_loop_key; the loop gives it a slot on first use and never learns
 * what the pointer is.
 */
struct tw_loop_key {
	_Atomic unsigned id;	/* private: slot + 1, 0 until first use */
};

#define TW_LOOP_SLOTS	8	/* modules with per-loop state, at most */

/* The pointer set for key on loop, or NULL. */
void *tw_loop_get(const struct tw_loop *loop, struct tw_loop_key *key);

/*
 * Set key's pointer on loop (NULL clears it without calling destroy).
 * tw_loop_destroy calls destroy(p), if set, for every pointer still set,
 * newest first, so a module's state may rely on what was set before it.
 * Returns 0 or -ENOSPC once TW_LOOP_SLOTS keys are in use.
 */
int tw_loop_set(struct tw_loop *loop, struct tw_loop_key *key, void *p,
		void (*destroy)(void *p));

/*
 * Descriptors running out (EMFILE): modules that keep descriptors open
 * for speed (the open-file cache) register here, and whoever needs one
 * on this loop (the listener's accept) asks them to give some back
 * before refusing anything. fn closes up to want and returns how many
 * it closed. At most TW_LOOP_RECLAIMS registrations per loop; add
 * returns -ENOSPC past that. Loop's thread only.
 */
typedef size_t tw_loop_reclaim_fn(void *ctx, size_t want);

#define TW_LOOP_RECLAIMS	4

int tw_loop_reclaim_add(struct tw_loop *loop, tw_loop_reclaim_fn *fn,
			void *ctx);
void tw_loop_reclaim_del(struct tw_loop *loop, tw_loop_reclaim_fn *fn,
			 void *ctx);

/* Ask the registered modules for up to want descriptors; returns how
 * many they closed. */
size_t tw_loop_reclaim(struct tw_loop *loop, size_t want);

/*
 * Call fn(ctx, arg) for the ctx of every descriptor watched with the
 * handler io_fn: how a module finds all of its objects on one loop
 * without a list of its own (at stop; costs a walk of the fd table).
 * fn may stop watching its descriptor.
 */
void tw_loop_each(struct tw_loop *loop, tw_loop_io_fn *io_fn,
		  void (*fn)(void *ctx, void *arg), void *arg);

/* Number of timers armed (for tests). */
size_t tw_loop_timer_count(const struct tw_loop *loop);

#endif /* TW_LOOP_H */
