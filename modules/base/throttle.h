/* SPDX-License-Identifier: MIT */
/*
 * throttle: failure counts per key (a hashed client address) in shared
 * memory, so every worker process and thread counts into one table and
 * a client cannot spread its guesses over the workers. A fixed table of
 * slots, each found by a short probe from the key's hash; when a probe
 * finds no room the slot idle longest is taken over, so the table never
 * grows and an address flood only evicts old counts. Counts decay: a
 * failure more than `period` seconds after the previous one starts
 * again from one. Updates are relaxed atomics without a lock: two
 * workers racing on one slot may lose one count, never corrupt it.
 * Layer 0: keys and seconds, no addresses, no HTTP.
 */
#ifndef TW_THROTTLE_H
#define TW_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define TW_THROTTLE_SLOTS	4096	/* a power of two */
#define TW_THROTTLE_PROBE	8

struct tw_throttle;

/* Bytes of shared memory a table needs (zeroed, made before fork). */
size_t tw_throttle_size(void);

/* An empty table in mem (tw_throttle_size() zeroed bytes). */
struct tw_throttle *tw_throttle_init(void *mem);

/* One more failure of key at now (seconds of a clock every process
 * shares, CLOCK_MONOTONIC). */
void tw_throttle_fail(struct tw_throttle *t, uint64_t key, uint64_t now,
		      unsigned period);

/* key succeeded: its count starts over. */
void tw_throttle_clear(struct tw_throttle *t, uint64_t key);

/*
 * Seconds key must still wait (0: it may try): limit failures or more,
 * the last one less than period seconds ago.
 */
unsigned tw_throttle_wait(const struct tw_throttle *t, uint64_t key,
			  uint64_t now, unsigned limit, unsigned period);

#endif /* TW_THROTTLE_H */
