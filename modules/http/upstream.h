/* SPDX-License-Identifier: MIT */
/*
 * upstream: a group of upstream servers and the choice of one for a
 * request: smooth weighted round robin (nginx's), least connections over
 * every worker, ip_hash, and hashing on a key, plain or consistent (a
 * ring of points, so that removing one of N servers moves only the keys
 * it had, about 1/N of them). Backup servers are chosen only when no
 * primary can be. Passive health: max_fails failures within fail_timeout
 * take a server out for fail_timeout; an active check (the proxy's) may
 * mark it down too.
 *
 * No I/O and no clock of its own: the caller passes the time, so the
 * rules are tested exactly. What every worker must see (connections in
 * flight, failures, health) is in struct tw_upstream_shared, which the
 * caller places in shared memory; the round robin's weights are per
 * worker, as nginx's are without a shared zone. Layer 3 (http).
 */
#ifndef TW_UPSTREAM_H
#define TW_UPSTREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A group has at most this many servers: a request's tried set is one
 * 64-bit mask. */
#define TW_UPSTREAM_MAX_SERVERS 64

enum tw_balance {
	TW_BALANCE_ROUND_ROBIN,
	TW_BALANCE_LEAST_CONN,
	TW_BALANCE_IP_HASH,
	TW_BALANCE_HASH,		/* on a key, modulo the weights */
	TW_BALANCE_HASH_CONSISTENT,	/* on a key, on a ring */
	TW_BALANCE_COUNT
};

struct tw_upstream_server_conf {
	const char *name;	/* "host:port": shown, and hashed for the ring */
	unsigned weight;	/* >= 1 */
	unsigned max_fails;	/* 0: failures never take it out */
	uint64_t fail_timeout_ms;
	bool backup;
};

/* Per server, seen by every worker (shared memory, zeroed at start). */
struct tw_upstream_shared {
	_Atomic int32_t active;		/* requests in flight, all workers */
	_Atomic uint32_t fails;		/* in the window that began at */
	_Atomic uint64_t fail_start_ms;	/*   this time */
	_Atomic uint64_t down_until_ms;	/* passive: out until then */
	_Atomic uint32_t check_down;	/* active check: 1 = down */
	/* For the status page: */
	_Atomic uint64_t requests;	/* answered with a response head */
	_Atomic uint64_t failures;	/* failed (connect, timeout, reset,
					 * a bad head) */
	_Atomic uint64_t time_us;	/* sum over requests: the time to
					 * the response head */
};

struct tw_upstream;

/*
 * A group of n servers (1..TW_UPSTREAM_MAX_SERVERS) balanced by method,
 * with shared[n] as its shared state. The confs are copied (names are
 * borrowed and must outlive the group). NULL with *err = -EINVAL or
 * -ENOMEM.
 */
struct tw_upstream *tw_upstream_create(const struct tw_upstream_server_conf *
				       confs, size_t n, enum tw_balance method,
				       struct tw_upstream_shared *shared,
				       int *err);
void tw_upstream_destroy(struct tw_upstream *u);

/* What a choice may depend on. */
struct tw_upstream_key {
	const uint8_t *addr;	/* the client's address bytes (ip_hash) */
	size_t addr_len;	/* 4 (IPv4) or 16 (IPv6) */
	const char *key;	/* the hash key (hash methods) */
	size_t key_len;
};

/*
 * The server for a request, skipping those in *tried (bit i: server i
 * was tried already for this request) and those down at now_ms; it is
 * added to *tried. -1 when none can be chosen: every server is down or
 * tried (the caller answers 502 at once).
 */
int tw_upstream_pick(struct tw_upstream *u, const struct tw_upstream_key *k,
		     uint64_t now_ms, uint64_t *tried);

/* A request on server i begins / ends (least_conn's counts). */
void tw_upstream_acquire(struct tw_upstream *u, int i);
void tw_upstream_release(struct tw_upstream *u, int i);

/* Server i answered a request with a response head, us after it was
 * sent there (the status page's requests and time). */
void tw_upstream_answered(struct tw_upstream *u, int i, uint64_t us);

/* The outcome of a request on server i: a failure counts toward
 * max_fails within fail_timeout; a success clears the count. */
void tw_upstream_report(struct tw_upstream *u, int i, bool ok,
			uint64_t now_ms);

/* The active health check's verdict on server i; back up after being
 * down, it also ends a passive mark (max_fails within fail_timeout). */
void tw_upstream_set_check_down(struct tw_upstream *u, int i, bool down);

/* True if server i may be chosen at now_ms (not tried aside). */
bool tw_upstream_usable(const struct tw_upstream *u, int i, uint64_t now_ms);

/*
 * Has a passive mark (max_fails within fail_timeout) been set on server
 * i, in force or run out? tw_upstream_unmark ends it: the active checks
 * end a mark they see passing through (http/health).
 */
bool tw_upstream_marked(const struct tw_upstream *u, int i);
void tw_upstream_unmark(struct tw_upstream *u, int i);

size_t tw_upstream_count(const struct tw_upstream *u);
const struct tw_upstream_server_conf *tw_upstream_server(
	const struct tw_upstream *u, int i);

/* The method's configuration name ("round_robin", "least_conn",
 * "ip_hash", "hash", "hash consistent" is TW_BALANCE_HASH_CONSISTENT). */
extern const char *const tw_balance_names[];

#endif /* TW_UPSTREAM_H */
