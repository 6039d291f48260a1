/* SPDX-License-Identifier: MIT */
/*
 * shmtx: the accept mutex. A lock word in shared memory holding the
 * owner's id (a pid, or a thread id in threads mode), taken with one
 * compare-and-swap and never waited on: a worker that misses it simply
 * tries again on its next loop turn. Storing the owner lets the master
 * free the lock of a worker that died holding it (nginx's
 * ngx_shmtx_force_unlock). A variant uses an fcntl() record lock on a
 * file, for where atomics in shared memory are not wanted; it works
 * between processes only. Layer 0.
 */
#ifndef TW_SHMTX_H
#define TW_SHMTX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct tw_shmtx {
	_Atomic int32_t *lock;	/* in shared memory; 0 = free */
	int fd;			/* file variant: the lock file, else -1 */
};

/* Use the atomic lock word at addr (zeroed shared memory). */
void tw_shmtx_init_atomic(struct tw_shmtx *m, _Atomic int32_t *addr);

/*
 * File variant: create and unlink a lock file in dir (e.g. "/tmp"); the
 * open descriptor is inherited by forked workers. Returns 0 or -errno.
 */
int tw_shmtx_init_file(struct tw_shmtx *m, const char *dir);

/* Release what init made (the file descriptor). */
void tw_shmtx_destroy(struct tw_shmtx *m);

/* Take the lock for owner (> 0) if it is free; never blocks. */
bool tw_shmtx_trylock(struct tw_shmtx *m, int32_t owner);

/* Release the lock if owner holds it. */
void tw_shmtx_unlock(struct tw_shmtx *m, int32_t owner);

/* Release the lock if the dead owner holds it; true if it did. The file
 * variant needs nothing: the kernel drops a dead process's locks. */
bool tw_shmtx_force_unlock(struct tw_shmtx *m, int32_t owner);

#endif /* TW_SHMTX_H */
