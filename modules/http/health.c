/* SPDX-License-Identifier: MIT */
/*
 * health: active health checks of an upstream group, one round of
 * outbound GETs every interval. Layer 3.
 */
#include "http/health.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "http/proxy.h"
#include "http/upstream.h"
#include "net/conn.h"
#include "net/loop.h"
#include "parse/http_response.h"

const char *const tw_health_result_names[] = {
	[TW_HEALTH_UNCHECKED] = "unchecked",
	[TW_HEALTH_PASS] = "pass",
	[TW_HEALTH_STATUS] = "status",
	[TW_HEALTH_REFUSED] = "refused",
	[TW_HEALTH_TIMEOUT] = "timeout",
	[TW_HEALTH_CLOSED] = "closed",
	[TW_HEALTH_BAD] = "bad",
	NULL
};
_Static_assert(sizeof(tw_health_result_names) /
	       sizeof(*tw_health_result_names) == TW_HEALTH_RESULT_COUNT + 1,
	       "each check result has one name");

/* One server's checks. */
struct probe {
	struct tw_health *h;
	size_t i;			/* the server's index in the group */
	struct tw_conn *c;		/* the check in flight, or NULL */
	char *req;			/* the request, made once */
	size_t req_len;
	unsigned fail_streak;
	unsigned pass_streak;
	unsigned marked_passes;		/* passes under a passive mark */
};

struct tw_health {
	struct tw_loop *loop;
	const struct tw_proxy_group *g;
	struct tw_upstream *u;
	struct tw_health_shared *shared;
	struct tw_timer round;
	unsigned fails;
	unsigned passes;
	size_t n;
	/* One parse at a time on this loop: too large for a stack frame
	 * that runs inside conn's callbacks. */
	struct tw_http_response res;
	struct probe probes[];
};

static const struct tw_conn_ops probe_ops;

/* The server's verdict after one more result: a streak of the other
 * kind ends, and a streak long enough flips the server. */
static void
verdict(struct probe *p, enum tw_health_result result, int status)
{
	struct tw_health *h = p->h;
	struct tw_health_shared *sh = &h->shared[p->i];
	bool pass = result == TW_HEALTH_PASS;
	bool down = atomic_load_explicit(&sh->down, memory_order_relaxed);
	unsigned streak;

	if (pass) {
		p->fail_streak = 0;
		streak = ++p->pass_streak;
		if (down && streak >= h->passes)
			down = false;
	} else {
		p->pass_streak = 0;
		streak = ++p->fail_streak;
		if (!down && streak >= h->fails)
			down = true;
	}
	tw_upstream_set_check_down(h->u, (int)p->i, down);
	/*
	 * Requests marked the server down (max_fails) while its checks
	 * pass: after `passes` passes under the mark the checks have the
	 * later word, as HAProxy's checks end an on-error mark-down. A
	 * server restarted in a rolling restart is back after one interval,
	 * not after fail_timeout; with every node restarted in turn faster
	 * than fail_timeout, the marks would otherwise leave none.
	 */
	if (pass && tw_upstream_marked(h->u, (int)p->i)) {
		if (++p->marked_passes >= h->passes) {
			tw_upstream_unmark(h->u, (int)p->i);
			p->marked_passes = 0;
		}
	} else {
		p->marked_passes = 0;
	}
	atomic_store_explicit(&sh->down, down, memory_order_relaxed);
	atomic_store_explicit(&sh->result, (uint32_t)result,
			      memory_order_relaxed);
	atomic_store_explicit(&sh->status, (uint32_t)status,
			      memory_order_relaxed);
	atomic_store_explicit(&sh->streak, streak, memory_order_relaxed);
	atomic_store_explicit(&sh->last_time, (int64_t)tw_clock_now(),
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->checks, 1, memory_order_relaxed);
}

/*
 * Let go of the check in flight: the connection is closed and forgets
 * the probe (its on_closed runs after the batch, maybe after h is gone).
 */
static void
detach(struct probe *p)
{
	struct tw_conn *c = p->c;

	if (c == NULL)
		return;
	p->c = NULL;
	tw_conn_set_ops(c, NULL, NULL);
	tw_conn_close(c);
}

static void
probe_end(struct probe *p, enum tw_health_result result, int status)
{
	detach(p);
	verdict(p, result, status);
}

static void
on_data(struct tw_conn *c, void *ctx)
{
	struct probe *p = ctx;
	struct tw_http_response *res = &p->h->res;
	size_t len;
	const char *d = tw_conn_data(c, &len);
	int r;

	r = tw_http_parse_response(d, len, TW_HEALTH_MAX_HEAD, res);
	if (r > 0) {
		/* The body does not matter: Connection: close was asked,
		 * and closing now frees the server's worker too. */
		if (res->status >= 200 && res->status < 400)
			probe_end(p, TW_HEALTH_PASS, res->status);
		else
			probe_end(p, TW_HEALTH_STATUS, res->status);
	} else if (r != TW_PARSE_AGAIN || tw_conn_input_full(c)) {
		probe_end(p, TW_HEALTH_BAD, 0);
	} else if (tw_conn_eof(c)) {
		probe_end(p, TW_HEALTH_CLOSED, 0);
	}
}

static void
on_drained(struct tw_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static void
on_timeout(struct tw_conn *c, void *ctx)
{
	(void)c;
	probe_end(ctx, TW_HEALTH_TIMEOUT, 0);
}

static void
on_connected(struct tw_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static void
on_error(struct tw_conn *c, void *ctx, int err)
{
	(void)c;
	probe_end(ctx, err == -ETIMEDOUT ? TW_HEALTH_TIMEOUT :
		  TW_HEALTH_REFUSED, 0);
}

/* Only a connection that conn closed itself (a reset, a failed read or
 * write) still has the probe here. */
static void
on_closed(struct tw_conn *c, void *ctx)
{
	struct probe *p = ctx;

	if (p->c != c)
		return;
	p->c = NULL;
	/* A loop tearing down closes every connection: that says nothing
	 * of the server, and a verdict would outlive this generation. */
	if (!tw_loop_stopping(p->h->loop))
		verdict(p, TW_HEALTH_CLOSED, 0);
}

static const struct tw_conn_ops probe_ops = {
	.on_data = on_data,
	.on_drained = on_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
	.on_connected = on_connected,
	.on_error = on_error,
};

static void
probe_start(struct probe *p)
{
	struct tw_health *h = p->h;
	const struct tw_proxy_server *s = &h->g->servers[p->i];
	int err;

	p->c = tw_conn_connect(h->loop, (const struct sockaddr *)&s->addr,
			       s->addrlen, h->g->check.interval_ms,
			       &probe_ops, p, &err);
	/* No socket or no memory here says nothing of the server: no
	 * verdict this round rather than a false one. */
	if (p->c == NULL)
		return;
	if (tw_conn_write(p->c, p->req, p->req_len) < 0) {
		detach(p);
		return;
	}
	tw_conn_send(p->c);
}

static void
round_fire(struct tw_loop *loop, struct tw_timer *t)
{
	struct tw_health *h = (struct tw_health *)(void *)((char *)t -
					offsetof(struct tw_health, round));
	size_t i;

	tw_loop_timer_set(loop, &h->round, h->g->check.interval_ms,
			  round_fire);
	/* A check still in flight has had its interval: the timeout. */
	for (i = 0; i < h->n; i++) {
		if (h->probes[i].c != NULL)
			probe_end(&h->probes[i], TW_HEALTH_TIMEOUT, 0);
		probe_start(&h->probes[i]);
	}
}

/* A byte string that may stand in a request line or a field value as it
 * is: a config value must not be able to add a line of its own. */
static bool
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static void
append(char **q, const char *s)
{
	size_t n = strlen(s);

	memcpy(*q, s, n);
	*q += n;
}

/* "GET uri HTTP/1.1", Host, Connection: close: made once per server. */
static int
make_request(struct probe *p, const char *uri, const char *host)
{
	static const char *const parts[] = {
		"GET ", " HTTP/1.1\r\nHost: ",
		"\r\nConnection: close\r\nUser-Agent: tinyweb-health\r\n\r\n",
	};
	size_t n = strlen(uri) + strlen(host) + 1, i;
	char *q;

	for (i = 0; i < sizeof(parts) / sizeof(*parts); i++)
		n += strlen(parts[i]);
	p->req = malloc(n);
	if (p->req == NULL)
		return -ENOMEM;
	q = p->req;
	append(&q, parts[0]);
	append(&q, uri);
	append(&q, parts[1]);
	append(&q, host);
	append(&q, parts[2]);
	p->req_len = (size_t)(q - p->req);
	return 0;
}

static void
health_free(struct tw_health *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->probes[i].req);
	free(h);
}

struct tw_health *
tw_health_start(struct tw_loop *loop, const struct tw_proxy_group *g,
		struct tw_upstream *u, struct tw_health_shared *shared,
		int *err)
{
	const char *uri = g->check.uri != NULL ? g->check.uri : "/";
	struct tw_health *h;
	size_t i;

	*err = -EINVAL;
	if (g->check.interval_ms == 0 || g->nservers == 0 ||
	    g->nservers > TW_UPSTREAM_MAX_SERVERS || uri[0] != '/' ||
	    !plain(uri))
		return NULL;
	for (i = 0; i < g->nservers; i++)
		if (g->servers[i].conf.name == NULL ||
		    !plain(g->servers[i].conf.name))
			return NULL;
	h = calloc(1, sizeof(*h) + g->nservers * sizeof(h->probes[0]));
	if (h == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	h->loop = loop;
	h->g = g;
	h->u = u;
	h->shared = shared;
	h->fails = g->check.fails > 0 ? g->check.fails : 1;
	h->passes = g->check.passes > 0 ? g->check.passes : 1;
	h->n = g->nservers;
	for (i = 0; i < h->n; i++) {
		struct probe *p = &h->probes[i];

		p->h = h;
		p->i = i;
		if (make_request(p, uri, g->servers[i].conf.name) < 0) {
			health_free(h);
			*err = -ENOMEM;
			return NULL;
		}
		tw_upstream_set_check_down(u, (int)i,
			atomic_load_explicit(&shared[i].down,
					     memory_order_relaxed) != 0);
	}
	tw_loop_timer_set(loop, &h->round, 0, round_fire);
	*err = 0;
	return h;
}

void
tw_health_stop(struct tw_health *h)
{
	size_t i;

	if (h == NULL)
		return;
	tw_loop_timer_cancel(h->loop, &h->round);
	for (i = 0; i < h->n; i++)
		detach(&h->probes[i]);
	health_free(h);
}

void
tw_health_read(const struct tw_health_shared *sh, struct tw_health_state *out)
{
	uint32_t r = atomic_load_explicit(&sh->result, memory_order_relaxed);

	out->down = atomic_load_explicit(&sh->down, memory_order_relaxed) != 0;
	out->result = r < TW_HEALTH_RESULT_COUNT ? (enum tw_health_result)r :
		      TW_HEALTH_UNCHECKED;
	out->status = (int)atomic_load_explicit(&sh->status,
						memory_order_relaxed);
	out->streak = atomic_load_explicit(&sh->streak, memory_order_relaxed);
	out->checks = atomic_load_explicit(&sh->checks, memory_order_relaxed);
	out->last_time = (time_t)atomic_load_explicit(&sh->last_time,
						       memory_order_relaxed);
}
