/* SPDX-License-Identifier: MIT */
/*
 * aio: a small pool of threads that run blocking calls (reads of files
 * whose pages are not in memory) away from an event loop, and hand each
 * finished job back to that loop's thread through an eventfd. One pool
 * per loop, never shared, so completions need no routing. Layer 1
 * (transport): runs opaque jobs, knows nothing of what they read.
 */
#ifndef TW_AIO_H
#define TW_AIO_H

#include <stddef.h>
#include <stdint.h>

struct tw_aio;
struct tw_loop;

/* Bytes of scratch memory each pool thread owns (tw_aio_scratch). */
#define TW_AIO_SCRATCH	(512 * 1024)

/*
 * A job, embedded in its owner (no allocation per job). work runs on a
 * pool thread and may block; done runs later on the loop's thread, from
 * the loop, in whatever order jobs finish. The owner must keep the job
 * alive until done has been called.
 */
struct tw_aio_job {
	void (*work)(struct tw_aio_job *j);
	void (*done)(struct tw_aio_job *j);
	struct tw_aio_job *next;	/* private */
};

/*
 * Start nthreads (>= 1) threads serving loop. Returns NULL with *err =
 * -errno.
 */
struct tw_aio *tw_aio_create(struct tw_loop *loop, unsigned nthreads,
			     int *err);

/*
 * Run every job still queued, join the threads, then call done for each
 * finished job on the calling thread (the loop's), so no owner waits
 * forever for a completion. Call it before destroying the loop. Safe
 * with NULL.
 */
void tw_aio_destroy(struct tw_aio *a);

/* Queue j (from the loop's thread, like tw_aio_pending). Never fails:
 * the job lives in its owner. */
void tw_aio_submit(struct tw_aio *a, struct tw_aio_job *j);

/* Jobs submitted whose done has not run yet. */
size_t tw_aio_pending(const struct tw_aio *a);

/* The calling pool thread's scratch memory of TW_AIO_SCRATCH bytes
 * (valid inside work only), or NULL if it could not be allocated. */
void *tw_aio_scratch(void);

#endif /* TW_AIO_H */
