/* SPDX-License-Identifier: MIT */
/*
 * health: active health checks of one upstream group (health_check).
 * Every check.interval_ms each server gets a new outbound connection, a
 * `GET uri HTTP/1.1` with Host and Connection: close, and its response
 * head is judged: 2xx and 3xx pass; any other status, a failed or
 * timed-out connect, a close before a complete head, a malformed or
 * oversized head, or no head by the next round fails. `fails`
 * consecutive failures mark the server down in the balancer
 * (tw_upstream_set_check_down), `passes` consecutive passes up again.
 *
 * Runs on the one loop it is started on (the caller picks one worker in
 * prefork and threads modes); the verdicts and the last result of each
 * server go to struct tw_health_shared, which the caller may place in
 * shared memory so that every worker's status page reads them. No DNS
 * (the group's addresses are resolved already), no blocking call, and
 * the only buffer is the connection's own, bounded read buffer.
 * Layer 3 (http): a protocol on conn, knows nothing of epoll.
 */
#ifndef TW_HEALTH_H
#define TW_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tw_loop;
struct tw_proxy_group;
struct tw_upstream;

/* A response head larger than this fails the check (it is never kept). */
#define TW_HEALTH_MAX_HEAD	(16 * 1024)

/* How a server's last check ended. */
enum tw_health_result {
	TW_HEALTH_UNCHECKED,	/* no check has ended yet */
	TW_HEALTH_PASS,		/* a 2xx or 3xx status */
	TW_HEALTH_STATUS,	/* any other status (in status) */
	TW_HEALTH_REFUSED,	/* the connect failed: refused, unreachable */
	TW_HEALTH_TIMEOUT,	/* no complete head within the interval */
	TW_HEALTH_CLOSED,	/* closed or reset before a complete head */
	TW_HEALTH_BAD,		/* a malformed or oversized head */
	TW_HEALTH_RESULT_COUNT
};

/* "unchecked", "pass", "status", "refused", "timeout", "closed", "bad":
 * the status page's words, indexed by enum tw_health_result. */
extern const char *const tw_health_result_names[];

/*
 * One server's check state, seen by every worker: zero it once (all
 * servers up, unchecked). Written only by the loop running the checks.
 */
struct tw_health_shared {
	_Atomic uint32_t down;		/* 1: down by check */
	_Atomic uint32_t result;	/* enum tw_health_result, last check */
	_Atomic uint32_t status;	/* its HTTP status; 0: none */
	_Atomic uint32_t streak;	/* consecutive results like it
					 * (passes or failures) */
	_Atomic uint64_t checks;	/* checks ended so far */
	_Atomic int64_t last_time;	/* wall clock seconds of the last */
};

/* A snapshot of one struct tw_health_shared, for the status page. */
struct tw_health_state {
	bool down;
	enum tw_health_result result;
	int status;
	unsigned streak;
	uint64_t checks;
	time_t last_time;	/* 0: never */
};

/*
 * Check every server of g from loop, reporting verdicts to u (made from
 * g's servers, in the same order). shared has g->nservers entries (the
 * caller's, e.g. in shared memory; zeroed the first time). A server
 * already down there (kept across a reload) stays down until it passes
 * `passes` checks, and u learns so now. The first round starts from the
 * loop, never before this returns; each connection gives up at the next
 * round, so a check's timeout is the interval. fails and passes of 0
 * count as 1.
 *
 * g, u and shared are borrowed and must outlive the checks (until
 * tw_health_stop). Returns the checks, owned by the caller, or NULL with
 * *err = -EINVAL (interval 0, no servers, or a uri or server name that
 * cannot go in a request line or Host field) or -ENOMEM.
 */
struct tw_health *tw_health_start(struct tw_loop *loop,
				  const struct tw_proxy_group *g,
				  struct tw_upstream *u,
				  struct tw_health_shared *shared, int *err);

/*
 * Stop checking: checks in flight are closed (their connections are freed
 * with the loop's next reap) and h is freed; no callback of h runs after
 * this returns. Verdicts stay as they are. NULL is a no-op. Loop's thread
 * only.
 */
void tw_health_stop(struct tw_health *h);

/* A consistent-enough snapshot of sh (fields read one by one: a round
 * ending meanwhile may show a new result with an old count). */
void tw_health_read(const struct tw_health_shared *sh,
		    struct tw_health_state *out);

#endif /* TW_HEALTH_H */
