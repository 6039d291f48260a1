/* SPDX-License-Identifier: MIT */
/*
 * auth: access control of a location, asked before its other handlers.
 * First the allow/deny rules, in order, the first that matches the
 * client's address deciding (403 for deny; a client no rule matches
 * passes). Then, with auth_basic on, HTTP Basic authentication against
 * a user file: 401 with a challenge without credentials or with wrong
 * ones, 400 for a malformed Authorization field. Password hashes
 * (bcrypt takes 50-200 ms of CPU) are checked on a thread of the loop's
 * own, never on the loop: the request is parked (tw_http_park) and
 * routed again once the answer is back; a small cache per loop of
 * credentials that passed makes the next request of the session cost
 * a hash of the field. Failed attempts count per client address in
 * shared memory (base/throttle); past the limit a client gets 429 with
 * Retry-After until the period has passed since its last failure.
 * Layer 3: a handler; no sockets.
 */
#ifndef TW_AUTH_H
#define TW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/userfile.h"
#include "parse/netmask.h"

struct tw_stats;
struct tw_throttle;

/* Failures of one address (IPv6: its /64) before it must wait, and the
 * period: counts decay after it, and a client past the limit waits it
 * out from its last failure. */
#define TW_AUTH_FAIL_LIMIT	10
#define TW_AUTH_FAIL_PERIOD	60

struct tw_auth_rule {
	bool allow;
	struct tw_net net;
};

struct tw_auth_opts {
	const struct tw_auth_rule *rules;
	size_t nrules;
	const char *realm;		/* NULL: no authentication */
	const struct tw_userfile *users;	/* with realm */
	struct tw_throttle *throttle;	/* shared failure counts, or NULL */
	uint64_t key[2];		/* hashes addresses into throttle:
					 * the same in every worker */
	unsigned fail_limit;		/* 0: never throttled */
	unsigned fail_period;		/* seconds */
	struct tw_stats *stats;
};

extern const struct tw_handler tw_auth_handler;

/* True if the rules let peer through (first match wins; none: yes). */
bool tw_auth_allowed(const struct tw_auth_rule *rules, size_t n,
		     const struct sockaddr *peer);

#endif /* TW_AUTH_H */
