/* SPDX-License-Identifier: MIT */
/*
 * pool: the two-level allocator of the SGI STL. Requests over
 * TW_POOL_MAX_SMALL bytes go to malloc; smaller ones come from 16 free
 * lists of 8-byte size classes, refilled in chunks and never returned to
 * malloc until the pool is destroyed. One pool per event loop (per thread
 * or worker), never shared, so no locks. Layer 0.
 */
#ifndef TW_POOL_H
#define TW_POOL_H

#include <stddef.h>

#define TW_POOL_MAX_SMALL 128

struct tw_pool;

/* Returns NULL on out of memory. Free with tw_pool_destroy(). */
struct tw_pool *tw_pool_create(void);

/* Free every chunk, including small blocks still handed out; blocks over
 * TW_POOL_MAX_SMALL came from malloc and must be given back first. */
void tw_pool_destroy(struct tw_pool *pool);

/*
 * Return n bytes aligned to 8 (16 when n > TW_POOL_MAX_SMALL), or NULL on
 * out of memory (callers answer 503, never exit). n must be > 0.
 */
void *tw_pool_alloc(struct tw_pool *pool, size_t n);

/* Give back p, obtained from tw_pool_alloc(pool, n) with the same n. */
void tw_pool_free(struct tw_pool *pool, void *p, size_t n);

/* Bytes held by the pool's chunks (for tests and the benchmark). */
size_t tw_pool_chunk_bytes(const struct tw_pool *pool);

#endif /* TW_POOL_H */
