/* SPDX-License-Identifier: MIT */
/*
 * upstream: choosing a server of a group. Layer 3.
 */
#include "http/upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Ring points per unit of weight (consistent hashing): enough that each
 * server's share is within a few percent of its weight's. */
#define RING_POINTS	160
/* A hashed choice that lands on a server it may not use hashes again
 * this many times before it falls back to the round robin (nginx: 20). */
#define REHASH_TRIES	20

const char *const tw_balance_names[] = {
	[TW_BALANCE_ROUND_ROBIN] = "round_robin",
	[TW_BALANCE_LEAST_CONN] = "least_conn",
	[TW_BALANCE_IP_HASH] = "ip_hash",
	[TW_BALANCE_HASH] = "hash",
	[TW_BALANCE_HASH_CONSISTENT] = "hash consistent",
	NULL
};
_Static_assert(sizeof(tw_balance_names) / sizeof(*tw_balance_names) ==
	       TW_BALANCE_COUNT + 1, "each balancing method has one name");

struct point {
	uint64_t hash;
	int server;
};

struct server {
	struct tw_upstream_server_conf conf;
	int64_t current;	/* smooth round robin, this worker's */
};

struct tw_upstream {
	enum tw_balance method;
	size_t n;
	struct server *s;
	struct tw_upstream_shared *shared;
	unsigned primary_weight;	/* sum over the primaries */
	struct point *ring;		/* sorted by hash; primaries only */
	size_t npoints;
};

/* FNV-1a, then splitmix64's finalizer: FNV alone leaves short keys'
 * high bits poorly mixed, and the ring and the modulo use them. */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static uint64_t
hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return mix(h);
}

static int
point_cmp(const void *a, const void *b)
{
	const struct point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->server - y->server;
}

static int
build_ring(struct tw_upstream *u)
{
	size_t i, k = 0;
	unsigned j;

	u->ring = calloc((size_t)u->primary_weight * RING_POINTS,
			 sizeof(*u->ring));
	if (u->ring == NULL)
		return -ENOMEM;
	for (i = 0; i < u->n; i++) {
		const struct tw_upstream_server_conf *c = &u->s[i].conf;

		if (c->backup)
			continue;
		/* A server's points depend on its name only, so they stay
		 * where they are when others come or go. */
		for (j = 0; j < c->weight * RING_POINTS; j++) {
			u->ring[k].hash = hash_bytes(c->name, strlen(c->name),
						     (uint64_t)j * 0x9e3779b97f4a7c15ULL);
			u->ring[k].server = (int)i;
			k++;
		}
	}
	u->npoints = k;
	qsort(u->ring, k, sizeof(*u->ring), point_cmp);
	return 0;
}

struct tw_upstream *
tw_upstream_create(const struct tw_upstream_server_conf *confs, size_t n,
		   enum tw_balance method, struct tw_upstream_shared *shared,
		   int *err)
{
	struct tw_upstream *u;
	size_t i;

	*err = -EINVAL;
	if (n == 0 || n > TW_UPSTREAM_MAX_SERVERS ||
	    (unsigned)method >= TW_BALANCE_COUNT || shared == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (confs[i].weight == 0 || confs[i].weight > 1000 ||
		    confs[i].name == NULL)
			return NULL;
	*err = -ENOMEM;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->s = calloc(n, sizeof(*u->s));
	if (u->s == NULL) {
		free(u);
		return NULL;
	}
	u->method = method;
	u->n = n;
	u->shared = shared;
	for (i = 0; i < n; i++) {
		u->s[i].conf = confs[i];
		if (!confs[i].backup)
			u->primary_weight += confs[i].weight;
	}
	if (method == TW_BALANCE_HASH_CONSISTENT && u->primary_weight > 0 &&
	    build_ring(u) < 0) {
		tw_upstream_destroy(u);
		return NULL;
	}
	*err = 0;
	return u;
}

void
tw_upstream_destroy(struct tw_upstream *u)
{
	if (u == NULL)
		return;
	free(u->ring);
	free(u->s);
	free(u);
}

bool
tw_upstream_usable(const struct tw_upstream *u, int i, uint64_t now_ms)
{
	const struct tw_upstream_shared *sh = &u->shared[i];

	return atomic_load_explicit(&sh->check_down, memory_order_relaxed) == 0
	       && now_ms >= atomic_load_explicit(&sh->down_until_ms,
						 memory_order_relaxed);
}

/* Requests in flight on server i, over every worker. */
static int64_t
active_of(const struct tw_upstream *u, size_t i)
{
	int32_t a = atomic_load_explicit(&u->shared[i].active,
					 memory_order_relaxed);

	return a < 0 ? 0 : a;	/* a release racing an acquire */
}

/* May server i be chosen now, in the set (primaries or backups)? */
static bool
candidate(const struct tw_upstream *u, int i, bool backup, uint64_t now_ms,
	  uint64_t tried)
{
	return u->s[i].conf.backup == backup &&
	       (tried & (UINT64_C(1) << i)) == 0 &&
	       tw_upstream_usable(u, i, now_ms);
}

/*
 * nginx's smooth weighted round robin over the candidates (and, with
 * only_ratio set, only those whose active/weight equals *ratio's, for
 * least_conn's ties): each gains its weight, the largest wins and loses
 * the sum, so a 5:1:1 group goes a a b a c a a, not a a a a a b c.
 */
static int
round_robin(struct tw_upstream *u, bool backup, uint64_t now_ms,
	    uint64_t tried, const int64_t *ratio_active,
	    const int64_t *ratio_weight)
{
	int64_t total = 0;
	int best = -1;
	size_t i;

	for (i = 0; i < u->n; i++) {
		struct server *s = &u->s[i];

		if (!candidate(u, (int)i, backup, now_ms, tried))
			continue;
		if (ratio_active != NULL &&
		    active_of(u, i) * *ratio_weight !=
		    *ratio_active * (int64_t)s->conf.weight)
			continue;
		s->current += s->conf.weight;
		total += s->conf.weight;
		if (best < 0 || s->current > u->s[best].current)
			best = (int)i;
	}
	if (best >= 0)
		u->s[best].current -= total;
	return best;
}

/* The fewest requests in flight for its weight; ties by round robin. */
static int
least_conn(struct tw_upstream *u, bool backup, uint64_t now_ms,
	   uint64_t tried)
{
	int64_t best_a = 0, best_w = 0;
	bool any = false;
	size_t i;

	for (i = 0; i < u->n; i++) {
		int64_t a, w;

		if (!candidate(u, (int)i, backup, now_ms, tried))
			continue;
		a = active_of(u, i);
		w = u->s[i].conf.weight;
		if (!any || a * best_w < best_a * w) {
			best_a = a;
			best_w = w;
			any = true;
		}
	}
	if (!any)
		return -1;
	return round_robin(u, backup, now_ms, tried, &best_a, &best_w);
}

/* The primary that hash h falls on, by weight. */
static int
by_weight(const struct tw_upstream *u, uint64_t h)
{
	uint64_t w = h % u->primary_weight;
	size_t i;

	for (i = 0; i < u->n; i++) {
		if (u->s[i].conf.backup)
			continue;
		if (w < u->s[i].conf.weight)
			return (int)i;
		w -= u->s[i].conf.weight;
	}
	return -1;	/* not reached: w < primary_weight */
}

static int
hashed(struct tw_upstream *u, uint64_t h, uint64_t now_ms, uint64_t tried)
{
	int i, t;

	if (u->primary_weight == 0)
		return -1;
	for (t = 0; t < REHASH_TRIES; t++) {
		i = by_weight(u, h);
		if (i >= 0 && candidate(u, i, false, now_ms, tried))
			return i;
		h = mix(h + (uint64_t)t + 1);
	}
	return round_robin(u, false, now_ms, tried, NULL, NULL);
}

/* The first usable server clockwise from h on the ring: a server that
 * is down or tried passes its keys to the next one, and only those. */
static int
on_ring(const struct tw_upstream *u, uint64_t h, uint64_t now_ms,
	uint64_t tried)
{
	size_t lo = 0, hi = u->npoints, k;

	if (u->npoints == 0)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < u->npoints; k++) {
		int i = u->ring[(lo + k) % u->npoints].server;

		if (candidate(u, i, false, now_ms, tried))
			return i;
	}
	return -1;
}

/* ip_hash: an IPv4 client's first three bytes (its /24, as nginx), an
 * IPv6 client's whole address. */
static uint64_t
ip_key(const struct tw_upstream_key *k)
{
	size_t len = k->addr_len == 4 ? 3 : k->addr_len;

	return hash_bytes(k->addr, len, 0);
}

int
tw_upstream_pick(struct tw_upstream *u, const struct tw_upstream_key *k,
		 uint64_t now_ms, uint64_t *tried)
{
	int i;

	switch (u->method) {
	case TW_BALANCE_LEAST_CONN:
		i = least_conn(u, false, now_ms, *tried);
		break;
	case TW_BALANCE_IP_HASH:
		i = k != NULL && k->addr != NULL ?
		    hashed(u, ip_key(k), now_ms, *tried) :
		    round_robin(u, false, now_ms, *tried, NULL, NULL);
		break;
	case TW_BALANCE_HASH:
		i = hashed(u, k != NULL && k->key != NULL ?
			   hash_bytes(k->key, k->key_len, 0) : 0,
			   now_ms, *tried);
		break;
	case TW_BALANCE_HASH_CONSISTENT:
		i = on_ring(u, k != NULL && k->key != NULL ?
			    hash_bytes(k->key, k->key_len, 0) : 0,
			    now_ms, *tried);
		break;
	case TW_BALANCE_ROUND_ROBIN:
	default:
		i = round_robin(u, false, now_ms, *tried, NULL, NULL);
		break;
	}
	/* Backups only when no primary can be chosen; among them the
	 * method's counts do not matter, so plain round robin. */
	if (i < 0)
		i = u->method == TW_BALANCE_LEAST_CONN ?
		    least_conn(u, true, now_ms, *tried) :
		    round_robin(u, true, now_ms, *tried, NULL, NULL);
	if (i >= 0)
		*tried |= UINT64_C(1) << i;
	return i;
}

void
tw_upstream_acquire(struct tw_upstream *u, int i)
{
	atomic_fetch_add_explicit(&u->shared[i].active, 1,
				  memory_order_relaxed);
}

void
tw_upstream_release(struct tw_upstream *u, int i)
{
	atomic_fetch_sub_explicit(&u->shared[i].active, 1,
				  memory_order_relaxed);
}

void
tw_upstream_answered(struct tw_upstream *u, int i, uint64_t us)
{
	atomic_fetch_add_explicit(&u->shared[i].requests, 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&u->shared[i].time_us, us,
				  memory_order_relaxed);
}

void
tw_upstream_report(struct tw_upstream *u, int i, bool ok, uint64_t now_ms)
{
	const struct tw_upstream_server_conf *c = &u->s[i].conf;
	struct tw_upstream_shared *sh = &u->shared[i];
	uint32_t fails;

	if (ok) {
		if (atomic_load_explicit(&sh->fails, memory_order_relaxed))
			atomic_store_explicit(&sh->fails, 0,
					      memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&sh->failures, 1, memory_order_relaxed);
	if (c->max_fails == 0)
		return;
	/* A new window once the last one is over. Two workers may both
	 * reset it at its edge: a failure may go uncounted, never one
	 * counted twice. */
	if (now_ms - atomic_load_explicit(&sh->fail_start_ms,
					  memory_order_relaxed) >=
	    c->fail_timeout_ms) {
		atomic_store_explicit(&sh->fail_start_ms, now_ms,
				      memory_order_relaxed);
		atomic_store_explicit(&sh->fails, 0, memory_order_relaxed);
	}
	fails = atomic_fetch_add_explicit(&sh->fails, 1,
					  memory_order_relaxed) + 1;
	if (fails >= c->max_fails) {
		atomic_store_explicit(&sh->down_until_ms,
				      now_ms + c->fail_timeout_ms,
				      memory_order_relaxed);
		atomic_store_explicit(&sh->fails, 0, memory_order_relaxed);
	}
}

void
tw_upstream_set_check_down(struct tw_upstream *u, int i, bool down)
{
	struct tw_upstream_shared *sh = &u->shared[i];

	/* Back up by the check: the failures the requests saw while it was
	 * down are over too (a restarted server is not kept out for the
	 * rest of fail_timeout). A check that only confirms "up" leaves
	 * the passive count alone. */
	if (atomic_exchange_explicit(&sh->check_down, down ? 1u : 0u,
				     memory_order_relaxed) != 0 && !down) {
		atomic_store_explicit(&sh->down_until_ms, 0,
				      memory_order_relaxed);
		atomic_store_explicit(&sh->fails, 0, memory_order_relaxed);
	}
}

bool
tw_upstream_marked(const struct tw_upstream *u, int i)
{
	return atomic_load_explicit(&u->shared[i].down_until_ms,
				    memory_order_relaxed) != 0;
}

void
tw_upstream_unmark(struct tw_upstream *u, int i)
{
	atomic_store_explicit(&u->shared[i].down_until_ms, 0,
			      memory_order_relaxed);
}

size_t
tw_upstream_count(const struct tw_upstream *u)
{
	return u->n;
}

const struct tw_upstream_server_conf *
tw_upstream_server(const struct tw_upstream *u, int i)
{
	return &u->s[i].conf;
}
