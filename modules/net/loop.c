/* SPDX-License-Identifier: MIT */
/*
 * loop: epoll, timers, signals and wake-ups for one thread. Layer 1: it
 * never learns what a descriptor carries.
 */
#include "net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/clock.h"

#define MAX_EVENTS 256

struct handler {
	tw_loop_io_fn *fn;
	void *ctx;
};

struct tw_loop {
	int epfd;
	int wakefd;
	int sigfd;
	atomic_bool stop;
	size_t max_fds;
	struct handler *handlers;	/* indexed by fd */
	struct tw_timer **heap;
	size_t nheap;
	size_t heapcap;
	tw_loop_signal_fn *sig_fn;
	void *sig_ctx;
	void (*after_batch)(struct tw_loop *loop, void *ctx);
	void *after_ctx;
	int (*before_wait)(struct tw_loop *loop, void *ctx);
	void *before_ctx;
	/* Circular lists with the loop's own nodes as heads: a task is
	 * unlinked in O(1) whichever list holds it. */
	struct tw_loop_task posted;
	struct tw_loop_task running;
	/* The modules' per-loop state by slot, and the slots in the order
	 * they were set (destroyed newest first). */
	struct {
		void *p;
		void (*destroy)(void *p);
	} slot[TW_LOOP_SLOTS];
	unsigned char order[TW_LOOP_SLOTS];
	size_t nset;
	struct {
		tw_loop_reclaim_fn *fn;
		void *ctx;
	} reclaim[TW_LOOP_RECLAIMS];
	size_t nreclaim;
	struct epoll_event events[MAX_EVENTS];
};

static uint32_t
to_epoll(unsigned ev)
{
	uint32_t e = EPOLLRDHUP;

	if (ev & TW_LOOP_READ)
		e |= EPOLLIN;
	if (ev & TW_LOOP_WRITE)
		e |= EPOLLOUT;
	if (ev & TW_LOOP_EDGE)
		e |= EPOLLET;
	if (ev & TW_LOOP_EXCLUSIVE)
		e = (e & ~(uint32_t)EPOLLRDHUP) | EPOLLEXCLUSIVE;
	return e;
}

static unsigned
from_epoll(uint32_t e)
{
	unsigned ev = 0;

	if (e & (EPOLLIN | EPOLLPRI))
		ev |= TW_LOOP_READ;
	if (e & EPOLLOUT)
		ev |= TW_LOOP_WRITE;
	if (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		ev |= TW_LOOP_HUP;
	return ev;
}

static void
drain_wake(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	uint64_t v;

	(void)loop;
	(void)events;
	(void)ctx;
	(void)!read(fd, &v, sizeof(v));
}

struct tw_loop *
tw_loop_create(size_t max_fds, int *err)
{
	struct tw_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	loop->sigfd = -1;
	loop->max_fds = max_fds;
	loop->posted.prev = loop->posted.next = &loop->posted;
	loop->running.prev = loop->running.next = &loop->running;
	loop->handlers = calloc(max_fds, sizeof(*loop->handlers));
	if (loop->handlers == NULL) {
		*err = -ENOMEM;
		goto out_free;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		*err = -errno;
		goto out_free_handlers;
	}
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->wakefd < 0) {
		*err = -errno;
		goto out_close_ep;
	}
	*err = tw_loop_add(loop, loop->wakefd, TW_LOOP_READ, drain_wake, NULL);
	if (*err < 0)
		goto out_close_wake;
	tw_clock_update();
	return loop;

out_close_wake:
	(void)close(loop->wakefd);
out_close_ep:
	(void)close(loop->epfd);
out_free_handlers:
	free(loop->handlers);
out_free:
	free(loop);
	return NULL;
}

void
tw_loop_destroy(struct tw_loop *loop)
{
	if (loop == NULL)
		return;
	/* Tasks still posted must not point into the freed loop: their
	 * owners may unpost them later. */
	while (loop->posted.next != &loop->posted)
		tw_loop_unpost(loop->posted.next);
	while (loop->nset > 0) {
		unsigned i = loop->order[--loop->nset];

		if (loop->slot[i].destroy != NULL)
			loop->slot[i].destroy(loop->slot[i].p);
		loop->slot[i].p = NULL;
	}
	if (loop->sigfd >= 0)
		(void)close(loop->sigfd);
	(void)close(loop->wakefd);
	(void)close(loop->epfd);
	free(loop->heap);
	free(loop->handlers);
	free(loop);
}

int
tw_loop_add(struct tw_loop *loop, int fd, unsigned events, tw_loop_io_fn *fn,
	    void *ctx)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };

	if (fd < 0 || (size_t)fd >= loop->max_fds)
		return -EMFILE;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->handlers[fd].fn = fn;
	loop->handlers[fd].ctx = ctx;
	return 0;
}

int
tw_loop_mod(struct tw_loop *loop, int fd, unsigned events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };

	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void
tw_loop_del(struct tw_loop *loop, int fd)
{
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	tw_loop_forget(loop, fd);
}

void
tw_loop_forget(struct tw_loop *loop, int fd)
{
	if (fd >= 0 && (size_t)fd < loop->max_fds) {
		loop->handlers[fd].fn = NULL;
		loop->handlers[fd].ctx = NULL;
	}
}

/* Slot ids are shared by every loop of the process: a key gets one once,
 * under a lock since loops on several threads may ask at once. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned nkeys;

static int
key_slot(struct tw_loop_key *key, bool assign)
{
	unsigned id = atomic_load_explicit(&key->id, memory_order_acquire);

	if (id != 0 || !assign)
		return (int)id - 1;
	pthread_mutex_lock(&key_lock);
	id = atomic_load_explicit(&key->id, memory_order_relaxed);
	if (id == 0 && nkeys < TW_LOOP_SLOTS) {
		id = ++nkeys;
		atomic_store_explicit(&key->id, id, memory_order_release);
	}
	pthread_mutex_unlock(&key_lock);
	return (int)id - 1;
}

void *
tw_loop_get(const struct tw_loop *loop, struct tw_loop_key *key)
{
	int i = key_slot(key, false);

	return i < 0 ? NULL : loop->slot[i].p;
}

static void
unorder(struct tw_loop *loop, unsigned i)
{
	size_t k;

	for (k = 0; k < loop->nset; k++) {
		if (loop->order[k] == i) {
			memmove(loop->order + k, loop->order + k + 1,
				loop->nset - k - 1);
			loop->nset--;
			return;
		}
	}
}

int
tw_loop_set(struct tw_loop *loop, struct tw_loop_key *key, void *p,
	    void (*destroy)(void *p))
{
	int i = key_slot(key, true);

	if (i < 0)
		return -ENOSPC;
	unorder(loop, (unsigned)i);
	loop->slot[i].p = p;
	loop->slot[i].destroy = destroy;
	if (p != NULL)
		loop->order[loop->nset++] = (unsigned char)i;
	return 0;
}

void
tw_loop_each(struct tw_loop *loop, tw_loop_io_fn *io_fn,
	     void (*fn)(void *ctx, void *arg), void *arg)
{
	size_t fd;

	for (fd = 0; fd < loop->max_fds; fd++)
		if (loop->handlers[fd].fn == io_fn)
			fn(loop->handlers[fd].ctx, arg);
}

/* Binary min-heap on t->key; t->idx is the 1-based slot. */
static void
heap_swap(struct tw_loop *loop, size_t a, size_t b)
{
	struct tw_timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->idx = a + 1;
	loop->heap[b]->idx = b + 1;
}

static void
sift_up(struct tw_loop *loop, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (loop->heap[parent]->key <= loop->heap[i]->key)
			break;
		heap_swap(loop, i, parent);
		i = parent;
	}
}

static void
sift_down(struct tw_loop *loop, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < loop->nheap && loop->heap[l]->key < loop->heap[m]->key)
			m = l;
		if (r < loop->nheap && loop->heap[r]->key < loop->heap[m]->key)
			m = r;
		if (m == i)
			break;
		heap_swap(loop, i, m);
		i = m;
	}
}

static void
heap_remove(struct tw_loop *loop, struct tw_timer *t)
{
	size_t i = t->idx - 1;

	loop->nheap--;
	if (i != loop->nheap) {
		heap_swap(loop, i, loop->nheap);
		sift_down(loop, i);
		sift_up(loop, i);
	}
	t->idx = 0;
}

static int
heap_push(struct tw_loop *loop, struct tw_timer *t)
{
	if (loop->nheap == loop->heapcap) {
		size_t cap = loop->heapcap ? loop->heapcap * 2 : 64;
		struct tw_timer **h = reallocarray(loop->heap, cap, sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		loop->heap = h;
		loop->heapcap = cap;
	}
	loop->heap[loop->nheap] = t;
	t->idx = ++loop->nheap;
	sift_up(loop, t->idx - 1);
	return 0;
}

void
tw_loop_timer_set(struct tw_loop *loop, struct tw_timer *t, uint64_t ms,
		  tw_loop_timer_fn *fn)
{
	uint64_t deadline = tw_clock_ms() + ms;

	t->fn = fn;
	t->deadline = deadline;
	if (t->idx != 0) {
		if (deadline >= t->key)
			return;	/* re-filed lazily when the old key fires */
		heap_remove(loop, t);
	}
	t->key = deadline;
	/* Growing the heap can fail only on out of memory; the timer then
	 * stays unarmed and the connection lives until the peer leaves,
	 * which is better than dropping it. */
	(void)heap_push(loop, t);
}

void
tw_loop_timer_cancel(struct tw_loop *loop, struct tw_timer *t)
{
	if (t->idx != 0)
		heap_remove(loop, t);
}

size_t
tw_loop_timer_count(const struct tw_loop *loop)
{
	return loop->nheap;
}

static int
next_timeout(const struct tw_loop *loop)
{
	uint64_t now = tw_clock_ms(), key;

	if (loop->nheap == 0)
		return -1;
	key = loop->heap[0]->key;
	if (key <= now)
		return 0;
	/* The coarse clock ticks every few ms; wake a little late rather
	 * than early so a timer is never re-checked in a spin. */
	return key - now > 60000 ? 60000 : (int)(key - now) + 1;
}

static void
run_timers(struct tw_loop *loop)
{
	uint64_t now = tw_clock_ms();

	while (loop->nheap > 0 && loop->heap[0]->key <= now) {
		struct tw_timer *t = loop->heap[0];

		heap_remove(loop, t);
		if (t->deadline > now) {
			t->key = t->deadline;
			(void)heap_push(loop, t);
			continue;
		}
		t->fn(loop, t);
	}
}

static void
read_signals(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)ctx;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		loop->sig_fn(loop, (int)si.ssi_signo, loop->sig_ctx);
}

void
tw_loop_server_sigset(sigset_t *set, bool with_chld)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	if (with_chld)
		sigaddset(set, SIGCHLD);
}

int
tw_loop_signals(struct tw_loop *loop, const sigset_t *set,
		tw_loop_signal_fn *fn, void *ctx)
{
	int fd, err;

	if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
		return -EINVAL;
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	loop->sig_fn = fn;
	loop->sig_ctx = ctx;
	err = tw_loop_add(loop, fd, TW_LOOP_READ, read_signals, NULL);
	if (err < 0) {
		(void)close(fd);
		return err;
	}
	loop->sigfd = fd;
	return 0;
}

void
tw_loop_set_after_batch(struct tw_loop *loop,
			void (*fn)(struct tw_loop *loop, void *ctx), void *ctx)
{
	loop->after_batch = fn;
	loop->after_ctx = ctx;
}

void
tw_loop_set_before_wait(struct tw_loop *loop,
			int (*fn)(struct tw_loop *loop, void *ctx), void *ctx)
{
	loop->before_wait = fn;
	loop->before_ctx = ctx;
}

void
tw_loop_post(struct tw_loop *loop, struct tw_loop_task *t,
	     tw_loop_task_fn *fn)
{
	if (t->prev != NULL)
		return;
	t->fn = fn;
	t->next = &loop->posted;
	t->prev = loop->posted.prev;
	t->prev->next = t;
	loop->posted.prev = t;
}

void
tw_loop_unpost(struct tw_loop_task *t)
{
	if (t->prev == NULL)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

/* Run what was posted until now; tasks posted meanwhile wait for the
 * next round, so one that keeps posting itself cannot starve the loop. */
static void
run_posted(struct tw_loop *loop)
{
	struct tw_loop_task *head = &loop->running;

	if (loop->posted.next == &loop->posted)
		return;
	head->next = loop->posted.next;
	head->prev = loop->posted.prev;
	head->next->prev = head;
	head->prev->next = head;
	loop->posted.prev = loop->posted.next = &loop->posted;
	while (head->next != head) {
		struct tw_loop_task *t = head->next;

		tw_loop_unpost(t);
		t->fn(loop, t);
	}
}

int
tw_loop_run(struct tw_loop *loop)
{
	while (!atomic_load_explicit(&loop->stop, memory_order_relaxed)) {
		int n, i, timeout = next_timeout(loop);

		if (loop->before_wait != NULL) {
			int limit = loop->before_wait(loop, loop->before_ctx);

			if (limit >= 0 && (timeout < 0 || limit < timeout))
				timeout = limit;
		}
		if (loop->posted.next != &loop->posted)
			timeout = 0;
		n = epoll_wait(loop->epfd, loop->events, MAX_EVENTS, timeout);
		tw_clock_update();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			int fd = loop->events[i].data.fd;
			struct handler *h = &loop->handlers[fd];

			/* A handler earlier in this batch may have closed
			 * fd; its slot is then empty. */
			if (h->fn != NULL)
				h->fn(loop, fd, from_epoll(loop->events[i].events),
				      h->ctx);
		}
		run_timers(loop);
		run_posted(loop);
		if (loop->after_batch != NULL)
			loop->after_batch(loop, loop->after_ctx);
	}
	return 0;
}

void
tw_loop_unstop(struct tw_loop *loop)
{
	atomic_store(&loop->stop, false);
}

void
tw_loop_stop(struct tw_loop *loop)
{
	uint64_t one = 1;

	atomic_store(&loop->stop, true);
	(void)!write(loop->wakefd, &one, sizeof(one));
}

bool
tw_loop_stopping(const struct tw_loop *loop)
{
	return atomic_load_explicit(&loop->stop, memory_order_relaxed);
}

int
tw_loop_reclaim_add(struct tw_loop *loop, tw_loop_reclaim_fn *fn, void *ctx)
{
	if (loop->nreclaim == TW_LOOP_RECLAIMS)
		return -ENOSPC;
	loop->reclaim[loop->nreclaim].fn = fn;
	loop->reclaim[loop->nreclaim].ctx = ctx;
	loop->nreclaim++;
	return 0;
}

void
tw_loop_reclaim_del(struct tw_loop *loop, tw_loop_reclaim_fn *fn, void *ctx)
{
	size_t i;

	for (i = 0; i < loop->nreclaim; i++) {
		if (loop->reclaim[i].fn != fn || loop->reclaim[i].ctx != ctx)
			continue;
		loop->reclaim[i] = loop->reclaim[--loop->nreclaim];
		return;
	}
}

size_t
tw_loop_reclaim(struct tw_loop *loop, size_t want)
{
	size_t i, got = 0;

	for (i = 0; i < loop->nreclaim && got < want; i++)
		got += loop->reclaim[i].fn(loop->reclaim[i].ctx, want - got);
	return got;
}
