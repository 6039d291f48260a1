/* SPDX-License-Identifier: MIT */
/*
 * shm: shared anonymous memory with a versioned header. Layer 0.
 */
#include "base/shm.h"

#include <errno.h>
#include <sys/mman.h>

#define DATA_OFFSET 64	/* a cache line: atomics after it don't share one */

_Static_assert(sizeof(struct tw_shm_header) <= DATA_OFFSET,
	       "the header fits before the data");

struct tw_shm_header *
tw_shm_create(size_t size, int *err)
{
	struct tw_shm_header *h;

	size += DATA_OFFSET;
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (h == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	h->magic = TW_SHM_MAGIC;
	h->version = TW_SHM_VERSION;
	h->size = size;
	return h;
}

void
tw_shm_destroy(struct tw_shm_header *shm)
{
	if (shm != NULL)
		(void)munmap(shm, shm->size);
}

void *
tw_shm_data(struct tw_shm_header *shm)
{
	return (char *)shm + DATA_OFFSET;
}

struct tw_shm_header *
tw_shm_of(void *data)
{
	return (struct tw_shm_header *)(void *)((char *)data - DATA_OFFSET);
}
