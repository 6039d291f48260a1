/* SPDX-License-Identifier: MIT */
/*
 * shmtx: a non-blocking accept mutex, atomic or file-based. Layer 0.
 */
#include "base/shmtx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
tw_shmtx_init_atomic(struct tw_shmtx *m, _Atomic int32_t *addr)
{
	m->lock = addr;
	m->fd = -1;
	atomic_store(addr, 0);
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
	return 0;
}

void
tw_shmtx_destroy(struct tw_shmtx *m)
{
	if (m->fd >= 0)
		(void)close(m->fd);
	m->fd = -1;
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

void
tw_shmtx_unlock(struct tw_shmtx *m, int32_t owner)
{
	int32_t expected = owner;

	if (m->fd >= 0) {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		(void)fcntl(m->fd, F_SETLK, &fl);
		return;
	}
	(void)atomic_compare_exchange_strong_explicit(m->lock, &expected, 0,
		memory_order_release, memory_order_relaxed);
}

bool
tw_shmtx_force_unlock(struct tw_shmtx *m, int32_t owner)
{
	int32_t expected = owner;

	if (m->fd >= 0)
		return false;
	return atomic_compare_exchange_strong(m->lock, &expected, 0);
}
