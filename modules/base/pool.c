/* SPDX-License-Identifier: MIT */
/*
 * pool: SGI-STL style two-level allocator. Layer 0.
 */
#include "base/pool.h"

#include <stdlib.h>

#define ALIGN		8
#define NLISTS		(TW_POOL_MAX_SMALL / ALIGN)
#define CHUNK_BYTES	(16 * 1024)

union block {
	union block *next;
	char data[1];
};

struct chunk {
	struct chunk *next;
	/* Keeps the blocks that follow 16-byte aligned on x86_64. */
	max_align_t pad;
};

struct tw_pool {
	union block *free[NLISTS];
	char *start;		/* unused tail of the newest chunk */
	char *end;
	struct chunk *chunks;
	size_t chunk_bytes;
};

_Static_assert(NLISTS == 16, "16 size classes as in the SGI design");

struct tw_pool *
tw_pool_create(void)
{
	return calloc(1, sizeof(struct tw_pool));
}

void
tw_pool_destroy(struct tw_pool *pool)
{
	struct chunk *c, *next;

	if (pool == NULL)
		return;
	for (c = pool->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(pool);
}

static size_t
class_of(size_t n)
{
	return (n + ALIGN - 1) / ALIGN - 1;
}

/* Carve up to 20 blocks of size sz for the list, from the current chunk
 * or a new one; the leftover of an old chunk goes to the list that fits,
 * as in SGI's chunk_alloc, so nothing is lost. */
static void *
refill(struct tw_pool *pool, size_t sz)
{
	size_t left = (size_t)(pool->end - pool->start), nblocks, i;
	union block **list = &pool->free[class_of(sz)];
	char *p;

	if (left < sz) {
		struct chunk *c;

		if (left >= ALIGN) {
			union block *b = (union block *)(void *)pool->start;

			b->next = pool->free[class_of(left)];
			pool->free[class_of(left)] = b;
		}
		c = malloc(sizeof(*c) + CHUNK_BYTES);
		if (c == NULL)
			return NULL;
		c->next = pool->chunks;
		pool->chunks = c;
		pool->chunk_bytes += CHUNK_BYTES;
		pool->start = (char *)(c + 1);
		pool->end = pool->start + CHUNK_BYTES;
		left = CHUNK_BYTES;
	}
	nblocks = left / sz;
	if (nblocks > 20)
		nblocks = 20;
	p = pool->start;
	pool->start += nblocks * sz;
	/* The first block goes to the caller, the rest onto the list. */
	for (i = 1; i < nblocks; i++) {
		union block *b = (union block *)(void *)(p + i * sz);

		b->next = *list;
		*list = b;
	}
	return p;
}

void *
tw_pool_alloc(struct tw_pool *pool, size_t n)
{
	union block **list;
	union block *b;

	if (n > TW_POOL_MAX_SMALL)
		return malloc(n);
	if (n == 0)
		n = 1;
	list = &pool->free[class_of(n)];
	b = *list;
	if (b == NULL)
		return refill(pool, (class_of(n) + 1) * ALIGN);
	*list = b->next;
	return b;
}

void
tw_pool_free(struct tw_pool *pool, void *p, size_t n)
{
	union block *b = p;

	if (p == NULL)
		return;
	if (n > TW_POOL_MAX_SMALL) {
		free(p);
		return;
	}
	if (n == 0)
		n = 1;
	b->next = pool->free[class_of(n)];
	pool->free[class_of(n)] = b;
}

size_t
tw_pool_chunk_bytes(const struct tw_pool *pool)
{
	return pool->chunk_bytes;
}
