/* SPDX-License-Identifier: MIT */
/*
 * shmtx: the accept mutex: atomic, file-based, or atomic with a
 * semaphore to sleep on. Layer 0.
 */
#include "base/shmtx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void
tw_shmtx_init_atomic(struct tw_shmtx *m, _Atomic int32_t *addr)
{
	m->lock = addr;
	m->fd = -1;
	m->sleep = NULL;
	atomic_store(addr, 0);
}

int
tw_shmtx_init_sem(struct tw_shmtx *m, _Atomic int32_t *addr,
		  struct tw_shmtx_sleep *sl)
{
	tw_shmtx_init_atomic(m, addr);
	atomic_store(&sl->waiters, 0);
	/* pshared: forked workers sleep on it too. */
	if (sem_init(&sl->sem, 1, 0) < 0)
		return -errno;
	m->sleep = sl;
	return 0;
}

int
tw_shmtx_init_file(struct tw_shmtx *m, const char *dir)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/tinyweb-accept-XXXXXX", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	m->lock = NULL;
	m->fd = fd;
	m->sleep = NULL;
	return 0;
}

void
tw_shmtx_destroy(struct tw_shmtx *m)
{
	if (m->fd >= 0)
		(void)close(m->fd);
	m->fd = -1;
	if (m->sleep != NULL)
		(void)sem_destroy(&m->sleep->sem);
	m->sleep = NULL;
}

bool
tw_shmtx_trylock(struct tw_shmtx *m, int32_t owner)
{
	int32_t expected = 0;

	if (m->fd >= 0) {
		/* Classic (process-owned) record locks: F_SETLK fails at
		 * once with EAGAIN/EACCES while another process holds it. */
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		return fcntl(m->fd, F_SETLK, &fl) == 0;
	}
	/* A cheap read first keeps the cache line shared while the lock
	 * is busy (test-and-test-and-set). */
	if (atomic_load_explicit(m->lock, memory_order_relaxed) != 0)
		return false;
	return atomic_compare_exchange_strong_explicit(m->lock, &expected,
		owner, memory_order_acquire, memory_order_relaxed);
}

/* After an unlock: a sleeper (if any) tries again. A post may find its
 * sleeper gone (timed out); that costs the next sleeper one spurious
 * wake-up, not a lost one. */
static void
wake_one(struct tw_shmtx *m)
{
	if (m->sleep != NULL &&
	    atomic_load_explicit(&m->sleep->waiters, memory_order_acquire) > 0)
		(void)sem_post(&m->sleep->sem);
}

static void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Spin like nginx's ngx_shmtx_lock: exponentially longer pauses between
 * looks, a few rounds, then let the holder have the CPU. */
static bool
spin(struct tw_shmtx *m, int32_t owner)
{
	unsigned n, i;

	for (n = 1; n < 2048; n <<= 1) {
		for (i = 0; i < n; i++)
			cpu_relax();
		if (tw_shmtx_trylock(m, owner))
			return true;
	}
	sched_yield();
	return tw_shmtx_trylock(m, owner);
}

bool
tw_shmtx_wait(struct tw_shmtx *m, int32_t owner, unsigned timeout_ms)
{
	struct timespec until;
	bool got;

	if (spin(m, owner))
		return true;
	if (m->sleep == NULL || timeout_ms == 0)
		return false;
	(void)clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	for (;;) {
		atomic_fetch_add_explicit(&m->sleep->waiters, 1,
					  memory_order_acq_rel);
		/* Counted before this look: an unlock after it posts, so the
		 * sleep below cannot miss it. */
		got = tw_shmtx_trylock(m, owner);
		if (!got && sem_clockwait(&m->sleep->sem, CLOCK_MONOTONIC,
					  &until) < 0 && errno != EINTR) {
			atomic_fetch_sub_explicit(&m->sleep->waiters, 1,
						  memory_order_acq_rel);
			return tw_shmtx_trylock(m, owner);	/* timed out */
		}
		atomic_fetch_sub_explicit(&m->sleep->waiters, 1,
					  memory_order_acq_rel);
		if (got || tw_shmtx_trylock(m, owner))
			return true;
	}
}

void
tw_shmtx_unlock(struct tw_shmtx *m, int32_t owner)
{
	int32_t expected = owner;

	if (m->fd >= 0) {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		(void)fcntl(m->fd, F_SETLK, &fl);
		return;
	}
	if (atomic_compare_exchange_strong_explicit(m->lock, &expected, 0,
		memory_order_release, memory_order_relaxed))
		wake_one(m);
}

bool
tw_shmtx_force_unlock(struct tw_shmtx *m, int32_t owner)
{
	int32_t expected = owner;

	if (m->fd >= 0)
		return false;
	if (!atomic_compare_exchange_strong(m->lock, &expected, 0))
		return false;
	wake_one(m);
	return true;
}
