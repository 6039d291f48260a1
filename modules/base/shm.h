/* SPDX-License-Identifier: MIT */
/*
 * shm: a shared anonymous mapping made by the master before it forks, so
 * every worker sees the same bytes. The region starts with a versioned
 * header; the rest is laid out by the caller as plain data and C11
 * atomics, never pointers. It is never grown. Layer 0.
 */
#ifndef TW_SHM_H
#define TW_SHM_H

#include <stddef.h>
#include <stdint.h>

#define TW_SHM_MAGIC	0x74776d31u	/* "twm1" */
#define TW_SHM_VERSION	1u

struct tw_shm_header {
	uint32_t magic;
	uint32_t version;
	uint64_t size;		/* whole mapping, header included */
};

/*
 * Map size bytes of zeroed shared memory (header included) and fill the
 * header. Returns the mapping or NULL with *err = -errno. The caller's
 * data starts at tw_shm_data().
 */
struct tw_shm_header *tw_shm_create(size_t size, int *err);
void tw_shm_destroy(struct tw_shm_header *shm);

/* The first byte after the header, aligned for any atomic type. */
void *tw_shm_data(struct tw_shm_header *shm);

/* The mapping whose tw_shm_data() is data. */
struct tw_shm_header *tw_shm_of(void *data);

#endif /* TW_SHM_H */
