/* SPDX-License-Identifier: MIT */
/*
 * shmtx: the accept mutex. A lock word in shared memory holding the
 * owner's id (a pid, or a thread id in threads mode), taken with one
 * compare-and-swap; a worker with connections to serve never waits on
 * it: one that misses it tries again on its next loop turn. Storing the owner lets the master
 * free the lock of a worker that died holding it (nginx's
 * ngx_shmtx_force_unlock). A variant uses an fcntl() record lock on a
 * file, for where atomics in shared memory are not wanted; it works
 * between processes only. A third adds a POSIX semaphore beside the lock
 * word, as nginx's shmtx has: tw_shmtx_wait() spins a little and then
 * sleeps on it until a holder's unlock posts, for a worker with nothing
 * else to do. Layer 0.
 */
#ifndef TW_SHMTX_H
#define TW_SHMTX_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The semaphore variant's sleepers, in shared memory beside the word. */
struct tw_shmtx_sleep {
	_Atomic int32_t waiters;	/* sleeping or about to */
	sem_t sem;
};

struct tw_shmtx {
	_Atomic int32_t *lock;	/* in shared memory; 0 = free */
	int fd;			/* file variant: the lock file, else -1 */
	struct tw_shmtx_sleep *sleep;	/* semaphore variant, else NULL */
};

/* Use the atomic lock word at addr (zeroed shared memory). */
void tw_shmtx_init_atomic(struct tw_shmtx *m, _Atomic int32_t *addr);

/*
 * Semaphore variant: the lock word at addr and the sleepers at sl, both
 * in memory every user shares (zeroed shared memory between processes).
 * Returns 0 or -errno (sem_init).
 */
int tw_shmtx_init_sem(struct tw_shmtx *m, _Atomic int32_t *addr,
		      struct tw_shmtx_sleep *sl);

/*
 * File variant: create and unlink a lock file in dir (e.g. "/tmp"); the
 * open descriptor is inherited by forked workers. Returns 0 or -errno.
 */
int tw_shmtx_init_file(struct tw_shmtx *m, const char *dir);

/* Release what init made (the file descriptor). */
void tw_shmtx_destroy(struct tw_shmtx *m);

/* Take the lock for owner (> 0) if it is free; never blocks. */
bool tw_shmtx_trylock(struct tw_shmtx *m, int32_t owner);

/*
 * Take the lock for owner, waiting up to timeout_ms: spin on the word,
 * then (semaphore variant) sleep until an unlock posts or the time is up;
 * the other variants only spin. True if taken. The wait is bounded so a
 * caller that also watches a loop (signals, a channel) gets back to it.
 */
bool tw_shmtx_wait(struct tw_shmtx *m, int32_t owner, unsigned timeout_ms);

/* Release the lock if owner holds it (and wake a sleeper, if any). */
void tw_shmtx_unlock(struct tw_shmtx *m, int32_t owner);

/* Release the lock if the dead owner holds it; true if it did. The file
 * variant needs nothing: the kernel drops a dead process's locks. */
bool tw_shmtx_force_unlock(struct tw_shmtx *m, int32_t owner);

#endif /* TW_SHMTX_H */
