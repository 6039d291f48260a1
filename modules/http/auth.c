/* SPDX-License-Identifier: MIT */
/*
 * auth: allow/deny rules and Basic authentication. Every loop that has
 * an auth route keeps, in its context, one thread of its own for
 * crypt(3) (a pool apart from the file reads' so a flood of logins
 * never holds up a cold file), a fixed set of check slots and the
 * cache of credentials that passed. Layer 3.
 */
#include "http/auth.h"

#include <crypt.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/siphash.h"
#include "base/stats.h"
#include "base/throttle.h"
#include "net/aio.h"
#include "net/loop.h"
#include "parse/basic_auth.h"

/* Checks in flight per loop at most: past it, 503 and Retry-After
 * (the thread would take seconds to work through more anyway). */
#define AUTH_JOBS	32
/* Credentials that passed, per loop: a session's next requests. */
#define AUTH_CACHE	256

enum { AUTH_PASSED = 1, AUTH_FAILED = 2 };

struct auth_loop;

/* One password check, from the handler to the thread and back. */
struct auth_job {
	struct tw_aio_job job;		/* first: the aio job is the check */
	struct auth_loop *al;
	struct tw_http_exchange *x;	/* NULL once the client left */
	const char *hash;		/* the user's, or the dummy */
	bool known;			/* the user exists */
	bool ok;			/* the thread's verdict */
	bool busy;
	uint64_t key[2];		/* the cache key of the credentials */
	char pass[TW_BASIC_AUTH_MAX + 1];
};

struct auth_cached {
	uint64_t k[2];
};

struct auth_loop {
	unsigned refs;			/* auth routes on this loop */
	struct tw_aio *aio;
	uint64_t key[4];		/* the cache's hash keys */
	struct auth_job jobs[AUTH_JOBS];
	struct auth_cached cache[AUTH_CACHE];
	size_t cache_next;		/* replaced in turn */
};

struct auth_inst {
	const struct tw_auth_opts *o;
	struct auth_loop *al;		/* set by attach */
	struct tw_loop *loop;
};

static struct tw_loop_key auth_key;

/* ---- rules ---------------------------------------------------------- */

bool
tw_auth_allowed(const struct tw_auth_rule *rules, size_t n,
		const struct sockaddr *peer)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tw_net_match(&rules[i].net, peer))
			return rules[i].allow;
	return true;
}

/* ---- the check thread ------------------------------------------------- */

/* Equal strings, in time that depends on their lengths only. */
static bool
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static void
check_work(struct tw_aio_job *j)
{
	struct auth_job *aj = (struct auth_job *)(void *)j;
	/* crypt_rn's state on the thread's own stack (32 KiB): jobs of
	 * one loop share no memory but their own slot. */
	struct crypt_data cd;
	const char *out;

	memset(&cd, 0, sizeof(cd));
	out = crypt_rn(aj->pass, aj->hash, &cd, (int)sizeof(cd));
	/* An unknown user spends the same work on the dummy hash and
	 * fails whatever it gives. */
	aj->ok = out != NULL && out[0] != '*' && same_secret(out, aj->hash) &&
		 aj->known;
	explicit_bzero(&cd, sizeof(cd));
	explicit_bzero(aj->pass, sizeof(aj->pass));
}

static void
cache_put(struct auth_loop *al, const uint64_t k[2])
{
	struct auth_cached *c = &al->cache[al->cache_next];

	al->cache_next = (al->cache_next + 1) % AUTH_CACHE;
	c->k[0] = k[0];
	c->k[1] = k[1];
}

static bool
cache_has(const struct auth_loop *al, const uint64_t k[2])
{
	size_t i;

	for (i = 0; i < AUTH_CACHE; i++)
		if (al->cache[i].k[0] == k[0] && al->cache[i].k[1] == k[1])
			return true;
	return false;
}

static void
check_done(struct tw_aio_job *j)
{
	struct auth_job *aj = (struct auth_job *)(void *)j;
	struct tw_http_exchange *x = aj->x;

	if (aj->ok)
		cache_put(aj->al, aj->key);
	/* Free before the request comes again: it may start a check of
	 * its pipelined successor. */
	aj->busy = false;
	aj->x = NULL;
	if (x != NULL)
		tw_http_resume(x, aj->ok ? AUTH_PASSED : AUTH_FAILED);
}

static void
check_cancel(void *ctx)
{
	struct auth_job *aj = ctx;

	aj->x = NULL;
}

/* ---- per loop ------------------------------------------------------- */

static void *
auth_create(const void *opts, int *err)
{
	struct auth_inst *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	a->o = opts;
	return a;
}

static int
auth_attach(void *inst, struct tw_loop *loop)
{
	struct auth_inst *a = inst;
	struct auth_loop *al = tw_loop_get(loop, &auth_key);
	int err;

	a->loop = loop;
	if (a->o->users == NULL)
		return 0;	/* rules only: no thread, no cache */
	if (al == NULL) {
		al = calloc(1, sizeof(*al));
		if (al == NULL)
			return -ENOMEM;
		if (getrandom(al->key, sizeof(al->key), 0) !=
		    (ssize_t)sizeof(al->key)) {
			free(al);
			return -EIO;
		}
		al->aio = tw_aio_create(loop, 1, &err);
		if (al->aio == NULL) {
			free(al);
			return err;
		}
		err = tw_loop_set(loop, &auth_key, al, NULL);
		if (err < 0) {
			tw_aio_destroy(al->aio);
			free(al);
			return err;
		}
	}
	al->refs++;
	a->al = al;
	return 0;
}

static void
auth_destroy(void *inst)
{
	struct auth_inst *a = inst;
	struct auth_loop *al = a->al;

	if (al != NULL && --al->refs == 0) {
		/* Runs what is queued and calls each done: every client is
		 * gone by now, so nothing is resumed. */
		tw_aio_destroy(al->aio);
		(void)tw_loop_set(a->loop, &auth_key, NULL, NULL);
		explicit_bzero(al, sizeof(*al));
		free(al);
	}
	free(a);
}

/* ---- the handler ------------------------------------------------------ */

/* A client's throttle key: its IPv4 address, or its IPv6 /64 (one
 * host's share of addresses to hop between). */
static uint64_t
peer_key(const struct tw_auth_opts *o, const struct sockaddr *peer)
{
	unsigned char b[9] = { 0 };

	if (peer->sa_family == AF_INET) {
		memcpy(b + 1, &((const struct sockaddr_in *)(const void *)peer)
		       ->sin_addr, 4);
	} else if (peer->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)
					     (const void *)peer)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(b + 1, &a->s6_addr[12], 4);
		} else {
			b[0] = 6;
			memcpy(b + 1, a->s6_addr, 8);
		}
	}
	return tw_siphash(o->key, b, sizeof(b));
}

static void
challenge(struct tw_http_res *res, const char *realm)
{
	tw_buf_append_str(res->headers, "WWW-Authenticate: Basic realm=\"");
	tw_buf_append_str(res->headers, realm);
	tw_buf_append_str(res->headers, "\", charset=\"UTF-8\"\r\n");
}

static int
unauthorized(const struct tw_auth_opts *o, struct tw_http_res *res)
{
	challenge(res, o->realm);
	return 401;
}

/* The answer of a check that came back. */
static int
verdict(const struct tw_auth_opts *o, const struct tw_http_req *req,
	struct tw_http_res *res, bool ok)
{
	if (ok) {
		if (o->throttle != NULL)
			tw_throttle_clear(o->throttle,
					  peer_key(o, req->peer));
		tw_stats_add(&o->stats->auth_passed, 1);
		return TW_DECLINED;
	}
	if (o->throttle != NULL)
		tw_throttle_fail(o->throttle, peer_key(o, req->peer),
				 tw_clock_ms() / 1000, o->fail_period);
	tw_stats_add(&o->stats->auth_failed, 1);
	return unauthorized(o, res);
}

static void
retry_after(struct tw_http_res *res, uint64_t secs)
{
	char n[24];

	n[tw_buf_fmt_u64(n, secs)] = '\0';
	tw_buf_append_str(res->headers, "Retry-After: ");
	tw_buf_append_str(res->headers, n);
	tw_buf_append_str(res->headers, "\r\n");
}

static struct auth_job *
free_job(struct auth_loop *al)
{
	size_t i;

	for (i = 0; i < AUTH_JOBS; i++)
		if (!al->jobs[i].busy)
			return &al->jobs[i];
	return NULL;
}

static const struct tw_userfile_user *
find_user(const struct tw_userfile *u, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->users[i].name_len == len &&
		    memcmp(u->users[i].name, name, len) == 0)
			return &u->users[i];
	return NULL;
}

/* The cache's key of credentials dec against a's user file. */
static void
cred_key(const struct auth_inst *a, const char *dec, size_t declen,
	 uint64_t k[2])
{
	uint64_t id = a->o->users->id;
	unsigned char buf[8 + TW_BASIC_AUTH_MAX];

	/* The file's identity and the whole "user:password": a changed
	 * file or password never meets an old entry. */
	memcpy(buf, &id, 8);
	memcpy(buf + 8, dec, declen);
	k[0] = tw_siphash(a->al->key, buf, 8 + declen);
	k[1] = tw_siphash(a->al->key + 2, buf, 8 + declen);
	explicit_bzero(buf, sizeof(buf));
}

/* Credentials decoded: passed before (cache), or a check started. An
 * internal request (an error page, a try_files fallback) answers in the
 * request's place and cannot wait for a check: its credentials pass
 * only if they passed against this file before, else 401. */
static int
check(struct auth_inst *a, const struct tw_http_req *req,
      struct tw_http_res *res, const char *dec, size_t declen,
      const struct tw_basic_cred *cr)
{
	const struct tw_auth_opts *o = a->o;
	struct auth_loop *al = a->al;
	const struct tw_userfile_user *u;
	struct auth_job *j;
	uint64_t k[2];

	cred_key(a, dec, declen, k);
	if (cache_has(al, k)) {
		tw_stats_add(&o->stats->auth_cached, 1);
		return verdict(o, req, res, true);
	}
	if (req->internal)
		return unauthorized(o, res);
	j = req->x != NULL ? free_job(al) : NULL;
	if (j == NULL) {
		retry_after(res, 1);
		return 503;
	}
	u = find_user(o->users, cr->user, cr->user_len);
	j->al = al;
	j->x = req->x;
	j->known = u != NULL;
	j->hash = u != NULL ? u->hash : o->users->dummy;
	j->ok = false;
	j->busy = true;
	j->key[0] = k[0];
	j->key[1] = k[1];
	memcpy(j->pass, cr->pass, cr->pass_len);
	j->pass[cr->pass_len] = '\0';
	j->job.work = check_work;
	j->job.done = check_done;
	tw_http_park(req->x, check_cancel, j);
	tw_aio_submit(al->aio, &j->job);
	return TW_HTTP_PARK;
}

static int
auth_handle(const struct tw_http_req *req, struct tw_http_res *res,
	    void *inst)
{
	struct auth_inst *a = inst;
	const struct tw_auth_opts *o = a->o;
	const struct tw_http_header *h;
	struct tw_basic_cred cr;
	char dec[TW_BASIC_AUTH_MAX];
	unsigned wait;
	int r, status;

	if (o->nrules > 0 && !tw_auth_allowed(o->rules, o->nrules, req->peer)) {
		tw_stats_add(&o->stats->access_denied, 1);
		return 403;
	}
	if (o->realm == NULL)
		return TW_DECLINED;
	/* The check that came back was of the request's own location; an
	 * internal request's location is judged afresh. */
	if (req->resumed != 0 && !req->internal)
		return verdict(o, req, res, req->resumed == AUTH_PASSED);
	wait = o->throttle == NULL ? 0 :
	       tw_throttle_wait(o->throttle, peer_key(o, req->peer),
				tw_clock_ms() / 1000, o->fail_limit,
				o->fail_period);
	if (wait > 0) {
		tw_stats_add(&o->stats->auth_throttled, 1);
		retry_after(res, wait);
		return 429;
	}
	h = tw_http_find_header(req->raw, "Authorization");
	if (h == NULL)
		return unauthorized(o, res);
	r = tw_basic_auth_parse(h->value, h->value_len, dec, sizeof(dec), &cr);
	/* Another scheme: the challenge says which one we take. Basic
	 * that does not decode is a malformed field (RFC 9110 15.5.1). */
	if (r == TW_BASIC_AUTH_OTHER)
		return unauthorized(o, res);
	if (r < 0)
		return 400;
	status = check(a, req, res, dec, cr.user_len + 1 + cr.pass_len, &cr);
	explicit_bzero(dec, sizeof(dec));
	return status;
}

const struct tw_handler tw_auth_handler = {
	.name = "auth",
	/* Every method: a POST to a proxied location is guarded too. */
	.any_method = true,
	.may_park = true,
	.guards = true,
	.handle = auth_handle,
	.create = auth_create,
	.destroy = auth_destroy,
	.attach = auth_attach,
};
