/* SPDX-License-Identifier: MIT */
/*
 * stats: the server's counters, in shared memory so every worker process
 * (or thread) adds to the same numbers with relaxed atomics and no lock,
 * and the status page reads them all. Made once, before any fork, and
 * kept across reloads. Layer 0: plain numbers; what they count is the
 * protocol's business.
 */
#ifndef TW_STATS_H
#define TW_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define TW_STATS_MAX_WORKERS 256

struct tw_stats_worker {
	_Atomic int64_t pid;		/* 0: slot free */
	_Atomic int64_t started;	/* unix time */
	_Atomic uint64_t requests;
	_Atomic uint64_t restarts;	/* respawns of this slot */
};

struct tw_stats {
	_Atomic uint64_t accepted;	/* connections accepted */
	_Atomic uint64_t handled;	/* ... and not refused */
	_Atomic uint64_t shed;		/* idle ones closed at the cap to
					 * let a new one in */
	_Atomic int64_t active;		/* open now */
	_Atomic int64_t reading;	/* receiving a request head */
	_Atomic int64_t writing;	/* sending a response */
	_Atomic int64_t waiting;	/* idle keep-alive */
	_Atomic uint64_t requests;
	_Atomic uint64_t status[6];	/* [1..5]: 1xx..5xx */
	_Atomic uint64_t bytes_sent;
	_Atomic int64_t start_time;	/* master start, unix time */
	_Atomic int64_t reload_time;	/* last reload, or 0 */
	_Atomic uint64_t reloads;
	_Atomic uint64_t cache_hits;	/* mime/charset cache */
	_Atomic uint64_t cache_misses;
	_Atomic uint64_t file_cache_hits;	/* open-file cache */
	_Atomic uint64_t file_cache_misses;
	_Atomic uint64_t aio_reads;	/* cold windows read by the aio pool */
	_Atomic uint64_t aio_bytes;
	_Atomic uint64_t tls_handshakes;	/* completed, resumed or not */
	_Atomic uint64_t tls_resumed;		/* ... of them resumed */
	_Atomic uint64_t tls_failed;		/* handshakes that failed */
	_Atomic uint64_t tls_plain;		/* plain HTTP to a TLS port */
	_Atomic uint64_t tls_v12;		/* handshakes by version */
	_Atomic uint64_t tls_v13;
	_Atomic uint64_t tls_vold;		/* TLS 1.0/1.1, if allowed */
	/* Access control (http/auth) */
	_Atomic uint64_t auth_passed;	/* credentials accepted */
	_Atomic uint64_t auth_cached;	/* ... of them from the cache */
	_Atomic uint64_t auth_failed;	/* wrong user or password */
	_Atomic uint64_t auth_throttled;	/* 429: too many failures */
	_Atomic uint64_t access_denied;	/* 403 by a deny rule */
	struct tw_stats_worker workers[TW_STATS_MAX_WORKERS];
};

/* Zeroed counters in shared memory. NULL with *err = -errno. */
struct tw_stats *tw_stats_create(int *err);
void tw_stats_destroy(struct tw_stats *st);

/*
 * Bind the calling thread to st and its worker slot (either may be NULL):
 * modules that count per thread (http, mime) find them through
 * tw_stats_current() and tw_stats_self() without being handed them.
 */
void tw_stats_bind(struct tw_stats *st, struct tw_stats_worker *slot);
struct tw_stats *tw_stats_current(void);
struct tw_stats_worker *tw_stats_self(void);

/* Relaxed add: counters need no ordering with anything else. */
static inline void
tw_stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void
tw_stats_gauge(_Atomic int64_t *g, int64_t n)
{
	atomic_fetch_add_explicit(g, n, memory_order_relaxed);
}

#endif /* TW_STATS_H */
