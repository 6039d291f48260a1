/* SPDX-License-Identifier: MIT */
/*
 * throttle: the shared failure table. A slot's key is claimed with a
 * compare-and-swap, so two workers seeing one empty slot for different
 * keys never both take it; the count and the time are plain relaxed
 * stores after that (approximate under races, see the header). Layer 0.
 */
#include "base/throttle.h"

#include <stdatomic.h>
#include <stdbool.h>

struct slot {
	_Atomic uint64_t key;	/* 0: free */
	_Atomic uint32_t fails;
	_Atomic uint32_t last;	/* seconds, truncated */
};

struct tw_throttle {
	struct slot slots[TW_THROTTLE_SLOTS];
};

_Static_assert((TW_THROTTLE_SLOTS & (TW_THROTTLE_SLOTS - 1)) == 0,
	       "TW_THROTTLE_SLOTS is a power of two");

size_t
tw_throttle_size(void)
{
	return sizeof(struct tw_throttle);
}

struct tw_throttle *
tw_throttle_init(void *mem)
{
	return mem;
}

/* 0 is the free slot's key: no real key may be it (1 stands for it;
 * keys are hashes, so the two meet once in 2^64). */
static uint64_t
real_key(uint64_t key)
{
	return key != 0 ? key : 1;
}

static struct slot *
find(const struct tw_throttle *t, uint64_t key)
{
	size_t i, h = (size_t)(key >> 17);

	for (i = 0; i < TW_THROTTLE_PROBE; i++) {
		const struct slot *s =
			&t->slots[(h + i) & (TW_THROTTLE_SLOTS - 1)];

		if (atomic_load_explicit(&s->key, memory_order_relaxed) == key)
			return (struct slot *)(uintptr_t)s;
	}
	return NULL;
}

/* A slot for key: a free one on its probe, else the one idle longest. */
static struct slot *
claim(struct tw_throttle *t, uint64_t key)
{
	size_t i, h = (size_t)(key >> 17);
	struct slot *oldest = NULL;
	uint32_t oldest_last = UINT32_MAX;

	for (i = 0; i < TW_THROTTLE_PROBE; i++) {
		struct slot *s = &t->slots[(h + i) & (TW_THROTTLE_SLOTS - 1)];
		uint64_t k = atomic_load_explicit(&s->key,
						  memory_order_relaxed);
		uint32_t last;

		if (k == key)
			return s;
		if (k == 0 && atomic_compare_exchange_strong(&s->key, &k, key)) {
			atomic_store_explicit(&s->fails, 0,
					      memory_order_relaxed);
			return s;
		}
		if (k == key)	/* another worker took it for us */
			return s;
		last = atomic_load_explicit(&s->last, memory_order_relaxed);
		if (last < oldest_last) {
			oldest_last = last;
			oldest = s;
		}
	}
	if (oldest != NULL) {
		atomic_store_explicit(&oldest->key, key, memory_order_relaxed);
		atomic_store_explicit(&oldest->fails, 0, memory_order_relaxed);
	}
	return oldest;
}

void
tw_throttle_fail(struct tw_throttle *t, uint64_t key, uint64_t now,
		 unsigned period)
{
	struct slot *s = claim(t, real_key(key));
	uint32_t n32 = (uint32_t)now, last;

	if (s == NULL)
		return;
	last = atomic_load_explicit(&s->last, memory_order_relaxed);
	if (atomic_load_explicit(&s->fails, memory_order_relaxed) == 0 ||
	    n32 - last > period)
		atomic_store_explicit(&s->fails, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&s->fails, 1, memory_order_relaxed);
	atomic_store_explicit(&s->last, n32, memory_order_relaxed);
}

void
tw_throttle_clear(struct tw_throttle *t, uint64_t key)
{
	struct slot *s = find(t, real_key(key));

	if (s != NULL)
		atomic_store_explicit(&s->fails, 0, memory_order_relaxed);
}

unsigned
tw_throttle_wait(const struct tw_throttle *t, uint64_t key, uint64_t now,
		 unsigned limit, unsigned period)
{
	const struct slot *s = find(t, real_key(key));
	uint32_t since;

	if (s == NULL || limit == 0 ||
	    atomic_load_explicit(&s->fails, memory_order_relaxed) < limit)
		return 0;
	since = (uint32_t)now - atomic_load_explicit(&s->last,
						     memory_order_relaxed);
	return since < period ? period - since : 0;
}
