/* SPDX-License-Identifier: MIT */
/*
 * aio: the thread pool behind --aio threads. One mutex guards both the
 * queue of jobs to run and the list of finished ones; jobs are few (one
 * per cold window of a file), so the lock is never contended like a
 * per-request lock would be. The eventfd is written only when the
 * finished list goes from empty to non-empty: one wake-up per batch.
 */
#include "net/aio.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/loop.h"

struct tw_aio {
	struct tw_loop *loop;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct tw_aio_job *head;	/* queued, FIFO */
	struct tw_aio_job **tail;
	struct tw_aio_job *finished;	/* LIFO; order is not promised */
	bool stop;
	size_t pending;		/* loop thread only */
	unsigned nthreads;
	pthread_t *threads;
};

static _Thread_local void *scratch;

void *
tw_aio_scratch(void)
{
	return scratch;
}

static void
signal_loop(struct tw_aio *a)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: the loop will
	 * wake anyway. */
	(void)!write(a->efd, &one, sizeof(one));
}

static void *
pool_main(void *arg)
{
	struct tw_aio *a = arg;
	struct tw_aio_job *j;

	scratch = malloc(TW_AIO_SCRATCH);
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->head == NULL && !a->stop)
			pthread_cond_wait(&a->more, &a->lock);
		j = a->head;
		if (j == NULL)
			break;	/* stopping, and nothing left to run */
		a->head = j->next;
		if (a->head == NULL)
			a->tail = &a->head;
		pthread_mutex_unlock(&a->lock);

		j->work(j);

		pthread_mutex_lock(&a->lock);
		j->next = a->finished;
		a->finished = j;
		if (j->next == NULL)
			signal_loop(a);
	}
	pthread_mutex_unlock(&a->lock);
	free(scratch);
	scratch = NULL;
	return NULL;
}

/* Call done for every finished job; returns how many. */
static size_t
complete(struct tw_aio *a)
{
	struct tw_aio_job *list, *next;
	size_t n = 0;

	pthread_mutex_lock(&a->lock);
	list = a->finished;
	a->finished = NULL;
	pthread_mutex_unlock(&a->lock);
	for (; list != NULL; list = next) {
		next = list->next;
		a->pending--;
		n++;
		list->done(list);
	}
	return n;
}

static void
on_event(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	uint64_t n;

	(void)loop;
	(void)events;
	(void)!read(fd, &n, sizeof(n));
	complete(ctx);
}

struct tw_aio *
tw_aio_create(struct tw_loop *loop, unsigned nthreads, int *err)
{
	struct tw_aio *a = calloc(1, sizeof(*a));
	unsigned i;

	if (a == NULL || nthreads == 0) {
		free(a);
		*err = nthreads == 0 ? -EINVAL : -ENOMEM;
		return NULL;
	}
	a->loop = loop;
	a->tail = &a->head;
	a->threads = calloc(nthreads, sizeof(*a->threads));
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->threads == NULL || a->efd < 0) {
		*err = a->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	*err = tw_loop_add(loop, a->efd, TW_LOOP_READ, on_event, a);
	if (*err < 0)
		goto fail;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->more, NULL);
	for (i = 0; i < nthreads; i++) {
		int e = pthread_create(&a->threads[i], NULL, pool_main, a);

		if (e != 0) {
			*err = -e;
			tw_aio_destroy(a);
			return NULL;
		}
		a->nthreads++;
	}
	return a;

fail:
	if (a->efd >= 0)
		close(a->efd);
	free(a->threads);
	free(a);
	return NULL;
}

/*
 * At destroy, after the threads are gone: run what is still queued on
 * this thread (with scratch memory of its own) and report it, until a
 * done no longer queues a follow-up.
 */
static void
drain_inline(struct tw_aio *a)
{
	void *mine = scratch;

	scratch = malloc(TW_AIO_SCRATCH);
	do {
		while (a->head != NULL) {
			struct tw_aio_job *j = a->head;

			a->head = j->next;
			if (a->head == NULL)
				a->tail = &a->head;
			j->work(j);
			j->next = a->finished;
			a->finished = j;
		}
	} while (complete(a) > 0);
	free(scratch);
	scratch = mine;
}

void
tw_aio_destroy(struct tw_aio *a)
{
	unsigned i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->more);
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < a->nthreads; i++)
		pthread_join(a->threads[i], NULL);
	drain_inline(a);
	tw_loop_del(a->loop, a->efd);
	close(a->efd);
	pthread_cond_destroy(&a->more);
	pthread_mutex_destroy(&a->lock);
	free(a->threads);
	free(a);
}

void
tw_aio_submit(struct tw_aio *a, struct tw_aio_job *j)
{
	j->next = NULL;
	a->pending++;
	pthread_mutex_lock(&a->lock);
	*a->tail = j;
	a->tail = &j->next;
	pthread_cond_signal(&a->more);
	pthread_mutex_unlock(&a->lock);
}

size_t
tw_aio_pending(const struct tw_aio *a)
{
	return a->pending;
}
