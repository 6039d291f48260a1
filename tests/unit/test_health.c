/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for health over a real loop and real loopback sockets: small
 * servers on the same loop answer 200, answer 500, never answer (but
 * accept), or are a closed port. A server flips down after exactly
 * `fails` failed rounds and up after exactly `passes` passing ones, and
 * the balancer follows; each kind of answer (2xx, 3xx, 404, bare LF,
 * garbage, oversized head, close before or in the head) gets its result;
 * a down state kept from before a restart holds until the passes; a
 * stop with checks in flight leaves no connection and no callback behind;
 * a uri or name that could add a line to the request is refused.
 *
 * The verdict after each round is recorded between event batches (a
 * round ends at most once per batch for a server), so the tests count
 * rounds, never time. A guard timer fails a test that never gets there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "http/health.h"
#include "http/proxy.h"
#include "http/upstream.h"
#include "net/conn.h"
#include "net/loop.h"
#include "support/loop_guard.h"

#define GUARD_MS	10000
/* Long enough that a loopback answer on a loaded machine is in time: a
 * late answer would be a timeout the test did not mean. */
#define INTERVAL_MS	400
#define MAX_SERVERS	8
#define MAX_ROUNDS	16
#define MAX_CLIENTS	32

/* ---- the servers checked: listening sockets on the test's loop ---- */

struct server;

struct client {
	struct server *s;
	int fd;
	char buf[1024];
	size_t len;
};

struct server {
	struct tw_loop *loop;
	int lfd;			/* -1: a closed port */
	struct sockaddr_in sin;
	const char *reply;		/* NULL: never answers */
	size_t reply_len;
	unsigned accepted;
	char req[1024];			/* the last request head seen */
	struct client *clients[MAX_CLIENTS];
};

static void
client_close(struct client *cl)
{
	struct server *s = cl->s;
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i] == cl)
			s->clients[i] = NULL;
	tw_loop_del(s->loop, cl->fd);
	(void)close(cl->fd);
	free(cl);
}

static void
on_client(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct client *cl = ctx;
	struct server *s = cl->s;
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, cl->buf + cl->len, sizeof(cl->buf) - 1 - cl->len);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	if (strstr(cl->buf, "\r\n\r\n") == NULL || s->reply == NULL)
		return;
	memcpy(s->req, cl->buf, cl->len + 1);
	if (s->reply_len > 0)
		assert_int_equal(write(fd, s->reply, s->reply_len),
				 (ssize_t)s->reply_len);
	client_close(cl);
}

static void
on_accept(struct tw_loop *loop, int fd, unsigned events, void *ctx)
{
	struct server *s = ctx;
	int c;

	(void)events;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	       >= 0) {
		struct client *cl = calloc(1, sizeof(*cl));
		size_t i;

		assert_non_null(cl);
		cl->s = s;
		cl->fd = c;
		for (i = 0; i < MAX_CLIENTS && s->clients[i] != NULL; i++)
			;
		assert_true(i < MAX_CLIENTS);
		s->clients[i] = cl;
		s->accepted++;
		assert_int_equal(tw_loop_add(loop, c, TW_LOOP_READ, on_client,
					     cl), 0);
	}
}

static void
server_reply(struct server *s, const char *reply, size_t len)
{
	s->reply = reply;
	s->reply_len = len;
}

/* A server answering reply (NULL: accepts, never answers). */
static void
server_open(struct tw_loop *loop, struct server *s, const char *reply)
{
	socklen_t len = sizeof(s->sin);

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	assert_true(s->lfd >= 0);
	s->sin.sin_family = AF_INET;
	s->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&s->sin,
			      sizeof(s->sin)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&s->sin,
				     &len), 0);
	assert_int_equal(tw_loop_add(loop, s->lfd, TW_LOOP_READ, on_accept,
				     s), 0);
	if (reply != NULL)
		server_reply(s, reply, strlen(reply));
}

/* A port nobody listens on: bound, then closed. */
static void
server_closed_port(struct tw_loop *loop, struct server *s)
{
	server_open(loop, s, NULL);
	tw_loop_del(loop, s->lfd);
	(void)close(s->lfd);
	s->lfd = -1;
}

static void
server_close(struct server *s)
{
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i] != NULL)
			client_close(s->clients[i]);
	if (s->lfd >= 0) {
		tw_loop_del(s->loop, s->lfd);
		(void)close(s->lfd);
	}
}

/* ---- a group of those servers under check ---- */

struct world {
	struct tw_loop *loop;
	struct server servers[MAX_SERVERS];
	size_t n;
	char names[MAX_SERVERS][32];
	struct tw_proxy_group *g;
	struct tw_upstream_shared up_shared[MAX_SERVERS];
	struct tw_upstream *u;
	struct tw_health_shared shared[MAX_SERVERS];
	struct tw_health *h;
	/* Each server's state as it was when its round k had ended. */
	struct tw_health_state at[MAX_SERVERS][MAX_ROUNDS];
	bool seen[MAX_SERVERS][MAX_ROUNDS];
};

static void
world_init(struct world *w, size_t n)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->loop = tw_loop_create(1024, &err);
	assert_non_null(w->loop);
	w->n = n;
	w->g = calloc(1, sizeof(*w->g));
	assert_non_null(w->g);
	w->g->name = "backends";
	w->g->nservers = n;
	w->g->check.uri = "/health";
	w->g->check.interval_ms = INTERVAL_MS;
	w->g->check.fails = 1;
	w->g->check.passes = 1;
}

/* Fill the group from the servers opened, and make its balancer. */
static void
world_group(struct world *w)
{
	struct tw_upstream_server_conf confs[MAX_SERVERS];
	size_t i;
	int err;

	for (i = 0; i < w->n; i++) {
		struct tw_proxy_server *ps = &w->g->servers[i];

		snprintf(w->names[i], sizeof(w->names[i]), "127.0.0.1:%u",
			 ntohs(w->servers[i].sin.sin_port));
		memcpy(&ps->addr, &w->servers[i].sin,
		       sizeof(w->servers[i].sin));
		ps->addrlen = sizeof(w->servers[i].sin);
		ps->conf = (struct tw_upstream_server_conf){
			.name = w->names[i], .weight = 1,
		};
		confs[i] = ps->conf;
	}
	w->u = tw_upstream_create(confs, w->n, TW_BALANCE_ROUND_ROBIN,
				  w->up_shared, &err);
	assert_non_null(w->u);
}

static void
world_start(struct world *w)
{
	int err;

	w->h = tw_health_start(w->loop, w->g, w->u, w->shared, &err);
	assert_non_null(w->h);
	assert_int_equal(err, 0);
}

static void
world_end(struct world *w)
{
	size_t i;

	tw_health_stop(w->h);
	for (i = 0; i < w->n; i++)
		server_close(&w->servers[i]);
	tw_conn_close_all(w->loop);
	assert_int_equal(tw_conn_count(w->loop), 0);
	tw_loop_destroy(w->loop);
	tw_upstream_destroy(w->u);
	free(w->g);
}

static uint64_t
checks_of(const struct world *w, size_t i)
{
	struct tw_health_state st;

	tw_health_read(&w->shared[i], &st);
	return st.checks;
}

static void
record(struct world *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		struct tw_health_state st;

		tw_health_read(&w->shared[i], &st);
		if (st.checks < MAX_ROUNDS && !w->seen[i][st.checks]) {
			w->at[i][st.checks] = st;
			w->seen[i][st.checks] = true;
		}
	}
}

/* ---- running the loop until every server has had k rounds ---- */

struct until {
	struct world *w;
	size_t first;		/* servers [first, last) */
	size_t last;
	uint64_t rounds;
};

static bool
until_done(const struct until *u)
{
	size_t i;

	for (i = u->first; i < u->last; i++)
		if (checks_of(u->w, i) < u->rounds)
			return false;
	return true;
}

static void
after_batch(struct tw_loop *loop, void *ctx)
{
	struct until *u = ctx;

	tw_conn_reap(loop);
	record(u->w);
	if (until_done(u))
		tw_loop_stop(loop);
}

static void
run_rounds(struct world *w, size_t first, size_t last, uint64_t rounds)
{
	struct until u = { w, first, last, rounds };

	tw_loop_set_after_batch(w->loop, after_batch, &u);
	while (!until_done(&u)) {
		struct loop_guard g = { 0 };

		tw_loop_unstop(w->loop);
		loop_guard_run(w->loop, &g, GUARD_MS);
		assert_false(g.fired);
	}
	tw_loop_set_after_batch(w->loop, NULL, NULL);
}

/* Server i after its round k: down or not, with this result. */
static void
assert_round(const struct world *w, size_t i, uint64_t k, bool down,
	     enum tw_health_result result, int status)
{
	const struct tw_health_state *st = &w->at[i][k];

	assert_true(w->seen[i][k]);
	if (st->down != down || st->result != result ||
	    st->status != status)
		fail_msg("server %zu round %llu: %s %s %d, want %s %s %d", i,
			 (unsigned long long)k, st->down ? "down" : "up",
			 tw_health_result_names[st->result], st->status,
			 down ? "down" : "up", tw_health_result_names[result],
			 status);
}

static const char ok_reply[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static const char error_reply[] =
	"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";

enum { OK, ERROR, CLOSED, SILENT };

/* fails=2, passes=3 (different, so that one cannot stand for the other):
 * each failing kind is up after round 1 and down after round 2; the 500
 * server, answering 200 from then on, is down after 2 more passes and up
 * after the third. */
static void
rounds_flip_exactly(void **state)
{
	struct world w;
	uint64_t s, k;
	char want[128];
	size_t i;

	(void)state;
	world_init(&w, 4);
	w.g->check.fails = 2;
	w.g->check.passes = 3;
	server_open(w.loop, &w.servers[OK], ok_reply);
	server_open(w.loop, &w.servers[ERROR], error_reply);
	server_closed_port(w.loop, &w.servers[CLOSED]);
	server_open(w.loop, &w.servers[SILENT], NULL);
	world_group(&w);
	world_start(&w);
	for (i = 0; i < 4; i++)
		assert_true(tw_upstream_usable(w.u, (int)i, tw_clock_ms()));

	run_rounds(&w, 0, 4, 3);
	for (k = 1; k <= 3; k++)
		assert_round(&w, OK, k, false, TW_HEALTH_PASS, 200);
	assert_round(&w, ERROR, 1, false, TW_HEALTH_STATUS, 500);
	assert_round(&w, ERROR, 2, true, TW_HEALTH_STATUS, 500);
	assert_round(&w, CLOSED, 1, false, TW_HEALTH_REFUSED, 0);
	assert_round(&w, CLOSED, 2, true, TW_HEALTH_REFUSED, 0);
	assert_round(&w, SILENT, 1, false, TW_HEALTH_TIMEOUT, 0);
	assert_round(&w, SILENT, 2, true, TW_HEALTH_TIMEOUT, 0);
	assert_round(&w, SILENT, 3, true, TW_HEALTH_TIMEOUT, 0);
	assert_int_equal(w.at[SILENT][3].streak, 3);
	assert_true(w.servers[SILENT].accepted >= 3);	/* it did connect */
	assert_true(tw_upstream_usable(w.u, OK, tw_clock_ms()));
	for (i = ERROR; i <= SILENT; i++)
		assert_false(tw_upstream_usable(w.u, (int)i, tw_clock_ms()));

	/* The request: the uri, the server's own name, no keep-alive. */
	snprintf(want, sizeof(want), "GET /health HTTP/1.1\r\nHost: %s\r\n",
		 w.names[OK]);
	assert_memory_equal(w.servers[OK].req, want, strlen(want));
	assert_non_null(strstr(w.servers[OK].req, "\r\nConnection: close\r\n"));

	/* No round of the 500 server is answered before this switch: the
	 * loop stopped right after a batch. */
	s = checks_of(&w, ERROR);
	server_reply(&w.servers[ERROR], ok_reply, strlen(ok_reply));
	run_rounds(&w, ERROR, ERROR + 1, s + 3);
	assert_round(&w, ERROR, s + 1, true, TW_HEALTH_PASS, 200);
	assert_round(&w, ERROR, s + 2, true, TW_HEALTH_PASS, 200);
	assert_round(&w, ERROR, s + 3, false, TW_HEALTH_PASS, 200);
	assert_true(tw_upstream_usable(w.u, ERROR, tw_clock_ms()));
	assert_false(tw_upstream_usable(w.u, SILENT, tw_clock_ms()));
	world_end(&w);
}

/* What each kind of answer is, with fails=1 (one round decides). */
static char huge_reply[TW_HEALTH_MAX_HEAD + 4096];

static const struct {
	const char *reply;
	enum tw_health_result result;
	int status;
} answers[] = {
	{ "HTTP/1.1 204 No Content\r\n\r\n", TW_HEALTH_PASS, 204 },
	{ "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", TW_HEALTH_PASS, 302 },
	{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	  TW_HEALTH_STATUS, 404 },
	{ "HTTP/1.1 200 OK\nContent-Length: 0\n\n", TW_HEALTH_BAD, 0 },
	{ "garbage\r\n\r\n", TW_HEALTH_BAD, 0 },
	{ "", TW_HEALTH_CLOSED, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Le", TW_HEALTH_CLOSED, 0 },
	{ huge_reply, TW_HEALTH_BAD, 0 },
};
#define NANSWERS (sizeof(answers) / sizeof(*answers))

static void
answers_judged(void **state)
{
	struct world w;
	size_t i, n;

	(void)state;
	_Static_assert(NANSWERS <= MAX_SERVERS, "one server per answer");
	n = (size_t)snprintf(huge_reply, sizeof(huge_reply),
			     "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(huge_reply + n, 'a', sizeof(huge_reply) - n - 5);
	memcpy(huge_reply + sizeof(huge_reply) - 5, "\r\n\r\n", 5);
	world_init(&w, NANSWERS);
	for (i = 0; i < NANSWERS; i++)
		server_open(w.loop, &w.servers[i], answers[i].reply);
	world_group(&w);
	world_start(&w);
	run_rounds(&w, 0, NANSWERS, 1);
	for (i = 0; i < NANSWERS; i++)
		assert_round(&w, i, 1, answers[i].result != TW_HEALTH_PASS,
			     answers[i].result, answers[i].status);
	world_end(&w);
}

/* A server down by check before a restart (the shared state kept) is
 * down from the start, and up only after `passes` passes. */
static void
down_state_kept(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	w.g->check.passes = 2;
	server_open(w.loop, &w.servers[0], ok_reply);
	world_group(&w);
	atomic_store(&w.shared[0].down, 1);
	world_start(&w);
	assert_false(tw_upstream_usable(w.u, 0, tw_clock_ms()));
	run_rounds(&w, 0, 1, 2);
	assert_round(&w, 0, 1, true, TW_HEALTH_PASS, 200);
	assert_round(&w, 0, 2, false, TW_HEALTH_PASS, 200);
	assert_true(tw_upstream_usable(w.u, 0, tw_clock_ms()));
	world_end(&w);
}

/* Requests marked a server down (max_fails) while its checks pass: it
 * is back after `passes` passing rounds, long before fail_timeout. */
static void
checks_end_a_passive_mark(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	w.g->check.passes = 2;
	server_open(w.loop, &w.servers[0], ok_reply);
	world_group(&w);
	w.g->servers[0].conf.max_fails = 1;
	w.g->servers[0].conf.fail_timeout_ms = 3600 * 1000;
	tw_upstream_destroy(w.u);
	w.u = tw_upstream_create(&w.g->servers[0].conf, 1,
				 TW_BALANCE_ROUND_ROBIN, w.up_shared,
				 &(int){ 0 });
	assert_non_null(w.u);
	world_start(&w);
	tw_upstream_report(w.u, 0, false, tw_clock_ms());
	assert_false(tw_upstream_usable(w.u, 0, tw_clock_ms()));
	run_rounds(&w, 0, 1, 1);
	assert_false(tw_upstream_usable(w.u, 0, tw_clock_ms()));
	run_rounds(&w, 0, 1, 2);
	assert_true(tw_upstream_usable(w.u, 0, tw_clock_ms()));
	assert_false(tw_upstream_marked(w.u, 0));
	world_end(&w);
}

static bool
accepted(void *arg)
{
	return ((struct server *)arg)->accepted > 0;
}

static void
stop_after(struct tw_loop *loop, void *ctx)
{
	tw_conn_reap(loop);
	if (accepted(ctx))
		tw_loop_stop(loop);
}

/* Stop with a check in flight: its connection is closed and freed with
 * the next reap, the server sees it go, and no callback of the checks
 * runs after the stop (ASan would see the freed probe). */
static void
stop_closes_checks(void **state)
{
	struct world w;
	struct server *s;
	struct loop_guard g = { 0 };
	unsigned i;

	(void)state;
	world_init(&w, 1);
	s = &w.servers[0];
	server_open(w.loop, s, NULL);
	world_group(&w);
	world_start(&w);
	tw_loop_set_after_batch(w.loop, stop_after, s);
	loop_guard_run(w.loop, &g, GUARD_MS);
	assert_false(g.fired);
	assert_int_equal(tw_conn_count(w.loop), 1);
	tw_health_stop(w.h);
	w.h = NULL;
	assert_int_equal(tw_loop_timer_count(w.loop), 0);
	tw_conn_reap(w.loop);
	assert_int_equal(tw_conn_count(w.loop), 0);
	/* The server reads the close: its client goes. */
	tw_loop_set_after_batch(w.loop, NULL, NULL);
	for (i = 0; i < 100 && s->clients[0] != NULL; i++) {
		struct loop_guard g2 = { 0 };

		tw_loop_unstop(w.loop);
		loop_guard_run(w.loop, &g2, 50);
	}
	assert_null(s->clients[0]);
	assert_int_equal(checks_of(&w, 0), 0);	/* no verdict from a stop */
	world_end(&w);
}

/* A uri or name that could add a line to the request, or nothing to
 * check, is refused at start. */
static void
start_refuses(void **state)
{
	static const char *const uris[] = {
		"/a b", "/x\r\nX-Evil: 1", "health", "/\t",
	};
	struct world w;
	size_t i;
	int err;

	(void)state;
	world_init(&w, 1);
	server_open(w.loop, &w.servers[0], ok_reply);
	world_group(&w);
	for (i = 0; i < sizeof(uris) / sizeof(*uris); i++) {
		w.g->check.uri = uris[i];
		err = 0;
		assert_null(tw_health_start(w.loop, w.g, w.u, w.shared, &err));
		assert_int_equal(err, -EINVAL);
	}
	w.g->check.uri = NULL;		/* "/" */
	w.g->check.interval_ms = 0;
	assert_null(tw_health_start(w.loop, w.g, w.u, w.shared, &err));
	assert_int_equal(err, -EINVAL);
	w.g->check.interval_ms = INTERVAL_MS;
	w.g->servers[0].conf.name = "a\r\nb";
	assert_null(tw_health_start(w.loop, w.g, w.u, w.shared, &err));
	assert_int_equal(err, -EINVAL);
	w.g->servers[0].conf.name = w.names[0];
	world_start(&w);
	run_rounds(&w, 0, 1, 1);
	assert_round(&w, 0, 1, false, TW_HEALTH_PASS, 200);
	assert_memory_equal(w.servers[0].req, "GET / HTTP/1.1\r\n", 16);
	world_end(&w);
}

/* The status page's words. */
static void
result_names(void **state)
{
	(void)state;
	assert_string_equal(tw_health_result_names[TW_HEALTH_PASS], "pass");
	assert_string_equal(tw_health_result_names[TW_HEALTH_TIMEOUT],
			    "timeout");
	assert_null(tw_health_result_names[TW_HEALTH_RESULT_COUNT]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rounds_flip_exactly),
		cmocka_unit_test(answers_judged),
		cmocka_unit_test(down_state_kept),
		cmocka_unit_test(checks_end_a_passive_mark),
		cmocka_unit_test(stop_closes_checks),
		cmocka_unit_test(start_refuses),
		cmocka_unit_test(result_names),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
