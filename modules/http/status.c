/* SPDX-License-Identifier: MIT */
/*
 * status: counters as stub_status text, JSON, Prometheus or HTML. Layer 3.
 */
#include "http/status.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/stats.h"
#include "http/compress.h"
#include "http/health.h"
#include "http/proxy.h"
#include "parse/http_parse.h"
#include "parse/netmask.h"

bool
tw_status_allowed(const struct tw_status_opts *o, const struct sockaddr *peer)
{
	size_t i;

	if (o->nallow == 0)
		return tw_net_is_loopback(peer);
	for (i = 0; i < o->nallow; i++)
		if (tw_net_match(&o->allow[i], peer))
			return true;
	return false;
}

/* A consistent-enough snapshot: each counter read once. */
struct snap {
	uint64_t accepted, handled, shed, requests, bytes, hits, misses;
	uint64_t reloads;
	uint64_t fhits, fmisses;
	uint64_t aio_reads, aio_bytes;
	uint64_t tls_hs, tls_resumed, tls_failed, tls_plain;
	uint64_t tls_v12, tls_v13, tls_vold;
	uint64_t auth_passed, auth_cached, auth_failed, auth_throttled;
	uint64_t access_denied;
	uint64_t status[6];
	int64_t active, reading, writing, waiting, start, reload;
};

/* The upstream groups a page shows (none for tw_status_render). */
struct groups {
	const struct tw_proxy_group *const *g;
	size_t n;
};

/* One upstream server as the page shows it. */
struct server_view {
	const char *state;	/* "up", "down" (passive), "checked_down" */
	int64_t active;
	uint64_t requests, failures, time_us;
	const char *check;	/* the last check's result, or NULL */
	uint64_t checks;
};

static void
view_server(const struct tw_proxy_group *g, size_t i, uint64_t now_ms,
	    struct server_view *v)
{
	struct tw_upstream_shared *sh = &g->shared[i];

	v->active = atomic_load(&sh->active);
	if (v->active < 0)
		v->active = 0;
	v->requests = atomic_load(&sh->requests);
	v->failures = atomic_load(&sh->failures);
	v->time_us = atomic_load(&sh->time_us);
	if (atomic_load(&sh->check_down) != 0)
		v->state = "checked_down";
	else if (now_ms < atomic_load(&sh->down_until_ms))
		v->state = "down";
	else
		v->state = "up";
	v->check = NULL;
	v->checks = 0;
	if (g->health != NULL) {
		struct tw_health_state hs;

		tw_health_read(&g->health[i], &hs);
		v->check = tw_health_result_names[hs.result];
		v->checks = hs.checks;
	}
}

/* v as a JSON string's contents (or a Prometheus label's: the same
 * escapes): names come from the config file, where a quoted word may
 * hold anything. */
static void
json_chars(struct tw_buf *b, const char *v)
{
	static const char hex[] = "0123456789abcdef";

	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\') {
			tw_buf_append_char(b, '\\');
			tw_buf_append_char(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			tw_buf_append_str(b, "\\u00");
			tw_buf_append_char(b, hex[c >> 4]);
			tw_buf_append_char(b, hex[c & 15]);
		} else {
			tw_buf_append_char(b, (char)c);
		}
	}
}

static void
str(struct tw_buf *b, const char *key, const char *v, bool comma)
{
	tw_buf_append_char(b, '"');
	tw_buf_append_str(b, key);
	tw_buf_append_str(b, "\":\"");
	json_chars(b, v);
	tw_buf_append_char(b, '"');
	if (comma)
		tw_buf_append_char(b, ',');
}

static void
take(const struct tw_stats *st, struct snap *s)
{
	size_t i;

	/* The atomics are only read; casting away const for the C11
	 * atomic_load prototype is safe. */
	struct tw_stats *m = (struct tw_stats *)(uintptr_t)st;

	s->accepted = atomic_load(&m->accepted);
	s->handled = atomic_load(&m->handled);
	s->shed = atomic_load(&m->shed);
	s->requests = atomic_load(&m->requests);
	s->bytes = atomic_load(&m->bytes_sent);
	s->hits = atomic_load(&m->cache_hits);
	s->misses = atomic_load(&m->cache_misses);
	s->fhits = atomic_load(&m->file_cache_hits);
	s->fmisses = atomic_load(&m->file_cache_misses);
	s->aio_reads = atomic_load(&m->aio_reads);
	s->aio_bytes = atomic_load(&m->aio_bytes);
	s->tls_hs = atomic_load(&m->tls_handshakes);
	s->tls_resumed = atomic_load(&m->tls_resumed);
	s->tls_failed = atomic_load(&m->tls_failed);
	s->tls_plain = atomic_load(&m->tls_plain);
	s->tls_v12 = atomic_load(&m->tls_v12);
	s->tls_v13 = atomic_load(&m->tls_v13);
	s->tls_vold = atomic_load(&m->tls_vold);
	s->auth_passed = atomic_load(&m->auth_passed);
	s->auth_cached = atomic_load(&m->auth_cached);
	s->auth_failed = atomic_load(&m->auth_failed);
	s->auth_throttled = atomic_load(&m->auth_throttled);
	s->access_denied = atomic_load(&m->access_denied);
	s->reloads = atomic_load(&m->reloads);
	for (i = 0; i < 6; i++)
		s->status[i] = atomic_load(&m->status[i]);
	s->active = atomic_load(&m->active);
	s->reading = atomic_load(&m->reading);
	s->writing = atomic_load(&m->writing);
	s->waiting = atomic_load(&m->waiting);
	s->start = atomic_load(&m->start_time);
	s->reload = atomic_load(&m->reload_time);
	/* Gauges move independently; never show a negative count. */
	if (s->reading < 0) s->reading = 0;
	if (s->writing < 0) s->writing = 0;
	if (s->waiting < 0) s->waiting = 0;
	if (s->active < 0) s->active = 0;
}

static void
num(struct tw_buf *b, int64_t v)
{
	if (v < 0) {
		tw_buf_append_char(b, '-');
		tw_buf_append_u64(b, (uint64_t)-v);
	} else {
		tw_buf_append_u64(b, (uint64_t)v);
	}
}

/* nginx's ngx_http_stub_status_module layout, byte for byte. */
static void
render_text(const struct snap *s, struct tw_buf *b)
{
	tw_buf_append_str(b, "Active connections: ");
	num(b, s->active);
	tw_buf_append_str(b, " \nserver accepts handled requests\n ");
	tw_buf_append_u64(b, s->accepted);
	tw_buf_append_char(b, ' ');
	tw_buf_append_u64(b, s->handled);
	tw_buf_append_char(b, ' ');
	tw_buf_append_u64(b, s->requests);
	tw_buf_append_str(b, " \nReading: ");
	num(b, s->reading);
	tw_buf_append_str(b, " Writing: ");
	num(b, s->writing);
	tw_buf_append_str(b, " Waiting: ");
	num(b, s->waiting);
	tw_buf_append_str(b, " \n");
}

static void
kv(struct tw_buf *b, const char *key, int64_t v, bool comma)
{
	tw_buf_append_char(b, '"');
	tw_buf_append_str(b, key);
	tw_buf_append_str(b, "\":");
	num(b, v);
	if (comma)
		tw_buf_append_char(b, ',');
}

/* "upstreams":[{"name":...,"servers":[{...},...]},...], */
static void
json_upstreams(struct tw_buf *b, const struct groups *gs)
{
	uint64_t now_ms = tw_clock_us_now() / 1000;
	size_t gi, i;

	tw_buf_append_str(b, "\"upstreams\":[");
	for (gi = 0; gi < gs->n; gi++) {
		const struct tw_proxy_group *g = gs->g[gi];

		tw_buf_append_str(b, gi ? ",{" : "{");
		str(b, "name", g->name, true);
		tw_buf_append_str(b, "\"servers\":[");
		for (i = 0; i < g->nservers; i++) {
			struct server_view v;

			view_server(g, i, now_ms, &v);
			tw_buf_append_str(b, i ? ",{" : "{");
			str(b, "server", g->servers[i].conf.name, true);
			str(b, "state", v.state, true);
			tw_buf_append_str(b, g->servers[i].conf.backup ?
					  "\"backup\":true," :
					  "\"backup\":false,");
			kv(b, "active", v.active, true);
			kv(b, "requests", (int64_t)v.requests, true);
			kv(b, "failures", (int64_t)v.failures, true);
			kv(b, "response_time_us", (int64_t)v.time_us,
			   v.check != NULL);
			if (v.check != NULL) {
				str(b, "check", v.check, true);
				kv(b, "checks", (int64_t)v.checks, false);
			}
			tw_buf_append_char(b, '}');
		}
		tw_buf_append_str(b, "]}");
	}
	tw_buf_append_str(b, "],");
}

static void
render_json(const struct tw_stats *st, const struct snap *s,
	    const char *version, time_t now, const struct groups *gs,
	    struct tw_buf *b)
{
	static const char *const classes[] = { "", "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct tw_stats *m = (struct tw_stats *)(uintptr_t)st;
	bool first = true;
	size_t i;

	tw_buf_append_str(b, "{\"version\":\"");
	tw_buf_append_str(b, version);
	tw_buf_append_str(b, "\",");
	kv(b, "start_time", s->start, true);
	kv(b, "uptime", s->start ? (int64_t)now - s->start : 0, true);
	kv(b, "last_reload", s->reload, true);
	kv(b, "reloads", (int64_t)s->reloads, true);
	tw_buf_append_str(b, "\"connections\":{");
	kv(b, "accepted", (int64_t)s->accepted, true);
	kv(b, "handled", (int64_t)s->handled, true);
	kv(b, "shed", (int64_t)s->shed, true);
	kv(b, "active", s->active, true);
	kv(b, "reading", s->reading, true);
	kv(b, "writing", s->writing, true);
	kv(b, "waiting", s->waiting, false);
	tw_buf_append_str(b, "},\"requests\":{");
	kv(b, "total", (int64_t)s->requests, true);
	for (i = 1; i < 6; i++)
		kv(b, classes[i], (int64_t)s->status[i], i < 5);
	tw_buf_append_str(b, "},");
	kv(b, "bytes_sent", (int64_t)s->bytes, true);
	tw_buf_append_str(b, "\"cache\":{");
	kv(b, "hits", (int64_t)s->hits, true);
	kv(b, "misses", (int64_t)s->misses, false);
	tw_buf_append_str(b, "},\"file_cache\":{");
	kv(b, "hits", (int64_t)s->fhits, true);
	kv(b, "misses", (int64_t)s->fmisses, false);
	tw_buf_append_str(b, "},\"aio\":{");
	kv(b, "reads", (int64_t)s->aio_reads, true);
	kv(b, "bytes", (int64_t)s->aio_bytes, false);
	tw_buf_append_str(b, "},\"tls\":{");
	kv(b, "handshakes", (int64_t)s->tls_hs, true);
	kv(b, "resumed", (int64_t)s->tls_resumed, true);
	kv(b, "failed", (int64_t)s->tls_failed, true);
	kv(b, "plain_http", (int64_t)s->tls_plain, true);
	kv(b, "tls1_3", (int64_t)s->tls_v13, true);
	kv(b, "tls1_2", (int64_t)s->tls_v12, true);
	kv(b, "older", (int64_t)s->tls_vold, false);
	tw_buf_append_str(b, "},\"auth\":{");
	kv(b, "passed", (int64_t)s->auth_passed, true);
	kv(b, "cached", (int64_t)s->auth_cached, true);
	kv(b, "failed", (int64_t)s->auth_failed, true);
	kv(b, "throttled", (int64_t)s->auth_throttled, true);
	kv(b, "denied", (int64_t)s->access_denied, false);
	tw_buf_append_str(b, "},");
	json_upstreams(b, gs);
	tw_buf_append_str(b, "\"workers\":[");
	for (i = 0; i < TW_STATS_MAX_WORKERS; i++) {
		struct tw_stats_worker *w = &m->workers[i];
		int64_t pid = atomic_load(&w->pid);

		if (pid == 0)
			continue;
		if (!first)
			tw_buf_append_char(b, ',');
		first = false;
		tw_buf_append_char(b, '{');
		kv(b, "slot", (int64_t)i, true);
		kv(b, "pid", pid, true);
		kv(b, "started", atomic_load(&w->started), true);
		kv(b, "requests", (int64_t)atomic_load(&w->requests), true);
		kv(b, "restarts", (int64_t)atomic_load(&w->restarts), false);
		tw_buf_append_char(b, '}');
	}
	tw_buf_append_str(b, "]}\n");
}

static void
metric(struct tw_buf *b, const char *name, const char *type, const char *help)
{
	tw_buf_append_str(b, "# HELP tinyweb_");
	tw_buf_append_str(b, name);
	tw_buf_append_char(b, ' ');
	tw_buf_append_str(b, help);
	tw_buf_append_str(b, "\n# TYPE tinyweb_");
	tw_buf_append_str(b, name);
	tw_buf_append_char(b, ' ');
	tw_buf_append_str(b, type);
	tw_buf_append_char(b, '\n');
}

static void
sample(struct tw_buf *b, const char *name, const char *labels, int64_t v)
{
	tw_buf_append_str(b, "tinyweb_");
	tw_buf_append_str(b, name);
	if (labels != NULL) {
		tw_buf_append_char(b, '{');
		tw_buf_append_str(b, labels);
		tw_buf_append_char(b, '}');
	}
	tw_buf_append_char(b, ' ');
	num(b, v);
	tw_buf_append_char(b, '\n');
}

/* A metric of one unlabelled sample: HELP, TYPE, then its value. */
static void
metric1(struct tw_buf *b, const char *name, const char *type,
	const char *help, int64_t v)
{
	metric(b, name, type, help);
	sample(b, name, NULL, v);
}

/* One counter of every live worker slot, labelled slot="N". */
static void
worker_series(struct tw_stats *m, struct tw_buf *b, const char *name,
	      const char *help, size_t field)
{
	char label[32];
	size_t i, n;

	metric(b, name, "counter", help);
	for (i = 0; i < TW_STATS_MAX_WORKERS; i++) {
		struct tw_stats_worker *w = &m->workers[i];

		if (atomic_load(&w->pid) == 0)
			continue;
		memcpy(label, "slot=\"", 6);
		n = 6 + tw_buf_fmt_u64(label + 6, i);
		memcpy(label + n, "\"", 2);
		sample(b, name, label, (int64_t)atomic_load(
			(_Atomic uint64_t *)(void *)((char *)w + field)));
	}
}

/* One series of every upstream server, labelled by group and server. */
static void
upstream_series(struct tw_buf *b, const struct groups *gs, const char *name,
		const char *type, const char *help, int which)
{
	uint64_t now_ms = tw_clock_us_now() / 1000;
	size_t gi, i;

	if (gs->n == 0)
		return;
	metric(b, name, type, help);
	for (gi = 0; gi < gs->n; gi++) {
		const struct tw_proxy_group *g = gs->g[gi];

		for (i = 0; i < g->nservers; i++) {
			struct server_view v;
			int64_t val;

			view_server(g, i, now_ms, &v);
			val = which == 0 ? (int64_t)v.requests :
			      which == 1 ? (int64_t)v.failures :
			      which == 2 ? (int64_t)v.time_us :
			      which == 3 ? v.active :
			      strcmp(v.state, "up") == 0;
			tw_buf_append_str(b, "tinyweb_");
			tw_buf_append_str(b, name);
			tw_buf_append_str(b, "{upstream=\"");
			json_chars(b, g->name);
			tw_buf_append_str(b, "\",server=\"");
			json_chars(b, g->servers[i].conf.name);
			tw_buf_append_str(b, "\"} ");
			num(b, val);
			tw_buf_append_char(b, '\n');
		}
	}
}

static void
render_prometheus(const struct tw_stats *st, const struct snap *s,
		  const struct groups *gs, struct tw_buf *b)
{
	static const char *const classes[] = {
		"", "class=\"1xx\"", "class=\"2xx\"", "class=\"3xx\"",
		"class=\"4xx\"", "class=\"5xx\"",
	};
	struct tw_stats *m = (struct tw_stats *)(uintptr_t)st;
	size_t i;

	metric1(b, "connections_accepted_total", "counter",
		"Client connections accepted.", (int64_t)s->accepted);
	metric1(b, "connections_handled_total", "counter",
		"Client connections accepted and not refused.",
		(int64_t)s->handled);
	metric1(b, "connections_shed_total", "counter",
		"Idle connections closed at max_connections to admit new ones.",
		(int64_t)s->shed);
	metric1(b, "connections_active", "gauge",
		"Client connections open now.", s->active);
	metric(b, "connections", "gauge", "Open connections by state.");
	sample(b, "connections", "state=\"reading\"", s->reading);
	sample(b, "connections", "state=\"writing\"", s->writing);
	sample(b, "connections", "state=\"waiting\"", s->waiting);
	metric1(b, "requests_total", "counter", "Requests received.",
		(int64_t)s->requests);
	metric(b, "responses_total", "counter", "Responses by status class.");
	for (i = 1; i < 6; i++)
		sample(b, "responses_total", classes[i], (int64_t)s->status[i]);
	metric1(b, "sent_bytes_total", "counter", "Response bytes queued.",
		(int64_t)s->bytes);
	metric1(b, "cache_hits_total", "counter", "Content type cache hits.",
		(int64_t)s->hits);
	metric1(b, "cache_misses_total", "counter",
		"Content type cache misses.", (int64_t)s->misses);
	metric1(b, "file_cache_hits_total", "counter", "Open-file cache hits.",
		(int64_t)s->fhits);
	metric1(b, "file_cache_misses_total", "counter",
		"Open-file cache misses.", (int64_t)s->fmisses);
	metric1(b, "aio_reads_total", "counter",
		"File windows read by the aio pool (not in memory).",
		(int64_t)s->aio_reads);
	metric1(b, "aio_read_bytes_total", "counter",
		"Bytes read by the aio pool.", (int64_t)s->aio_bytes);
	metric(b, "tls_handshakes_total", "counter",
	       "TLS handshakes completed, by protocol version.");
	sample(b, "tls_handshakes_total", "version=\"TLSv1.2\"",
	       (int64_t)s->tls_v12);
	sample(b, "tls_handshakes_total", "version=\"TLSv1.3\"",
	       (int64_t)s->tls_v13);
	sample(b, "tls_handshakes_total", "version=\"older\"",
	       (int64_t)s->tls_vold);
	metric1(b, "tls_resumed_total", "counter",
		"TLS handshakes that resumed a session.",
		(int64_t)s->tls_resumed);
	metric1(b, "tls_handshake_failures_total", "counter",
		"TLS handshakes that failed (no ClientHello included).",
		(int64_t)s->tls_failed);
	metric1(b, "tls_plain_http_total", "counter",
		"Plain HTTP requests sent to a TLS port (answered 400).",
		(int64_t)s->tls_plain);
	metric1(b, "auth_passed_total", "counter",
		"Basic credentials accepted (from the cache or checked).",
		(int64_t)s->auth_passed);
	metric1(b, "auth_cached_total", "counter",
		"Basic credentials accepted from the cache, no hash checked.",
		(int64_t)s->auth_cached);
	metric1(b, "auth_failed_total", "counter",
		"Basic credentials refused (wrong user or password).",
		(int64_t)s->auth_failed);
	metric1(b, "auth_throttled_total", "counter",
		"Requests answered 429 after too many failures.",
		(int64_t)s->auth_throttled);
	metric1(b, "access_denied_total", "counter",
		"Requests answered 403 by a deny rule.",
		(int64_t)s->access_denied);
	metric1(b, "start_time_seconds", "gauge", "Server start, unix time.",
		s->start);
	metric1(b, "last_reload_time_seconds", "gauge",
		"Last configuration reload, unix time (0: none).", s->reload);
	worker_series(m, b, "worker_requests_total", "Requests by worker.",
		      offsetof(struct tw_stats_worker, requests));
	worker_series(m, b, "worker_restarts_total", "Respawns by worker slot.",
		      offsetof(struct tw_stats_worker, restarts));
	upstream_series(b, gs, "upstream_requests_total", "counter",
			"Requests an upstream server answered.", 0);
	upstream_series(b, gs, "upstream_failures_total", "counter",
			"Requests that failed on an upstream server.", 1);
	upstream_series(b, gs, "upstream_response_time_us_total", "counter",
			"Time to the response head, summed (microseconds).",
			2);
	upstream_series(b, gs, "upstream_active", "gauge",
			"Requests in flight on an upstream server.", 3);
	upstream_series(b, gs, "upstream_up", "gauge",
			"1 when an upstream server takes requests.", 4);
}

static void
row(struct tw_buf *b, const char *name, int64_t v)
{
	tw_buf_append_str(b, "<tr><th>");
	tw_buf_append_str(b, name);
	tw_buf_append_str(b, "</th><td>");
	num(b, v);
	tw_buf_append_str(b, "</td></tr>\n");
}

static void
cell(struct tw_buf *b, int64_t v)
{
	tw_buf_append_str(b, "<td>");
	num(b, v);
	tw_buf_append_str(b, "</td>");
}

static void
html_upstreams(struct tw_buf *b, const struct groups *gs)
{
	uint64_t now_ms = tw_clock_us_now() / 1000;
	size_t gi, i;

	for (gi = 0; gi < gs->n; gi++) {
		const struct tw_proxy_group *g = gs->g[gi];

		tw_buf_append_str(b, "<h2>Upstream ");
		tw_buf_append_html(b, g->name, strlen(g->name));
		tw_buf_append_str(b, "</h2>\n<table>\n<tr><th>server</th>"
				  "<th>state</th><th>active</th><th>requests"
				  "</th><th>failures</th><th>time (us)</th>"
				  "<th>last check</th></tr>\n");
		for (i = 0; i < g->nservers; i++) {
			struct server_view v;

			view_server(g, i, now_ms, &v);
			tw_buf_append_str(b, "<tr><th>");
			tw_buf_append_html(b, g->servers[i].conf.name,
					   strlen(g->servers[i].conf.name));
			tw_buf_append_str(b, "</th><td>");
			tw_buf_append_str(b, v.state);
			tw_buf_append_str(b, "</td>");
			cell(b, v.active);
			cell(b, (int64_t)v.requests);
			cell(b, (int64_t)v.failures);
			cell(b, (int64_t)v.time_us);
			tw_buf_append_str(b, "<td>");
			tw_buf_append_str(b, v.check ? v.check : "-");
			tw_buf_append_str(b, "</td></tr>\n");
		}
		tw_buf_append_str(b, "</table>\n");
	}
}

static void
render_html(const struct tw_stats *st, const struct snap *s,
	    const char *version, time_t now, const struct groups *gs,
	    struct tw_buf *b)
{
	struct tw_stats *m = (struct tw_stats *)(uintptr_t)st;
	size_t i;

	tw_buf_append_str(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			  "<title>tinyweb status</title><style>body{font-family:"
			  "system-ui,sans-serif;margin:1em 2em}th{text-align:left;"
			  "padding-right:2em}td{text-align:right}</style></head>\n"
			  "<body><h1>tinyweb ");
	tw_buf_append_html(b, version, strlen(version));
	tw_buf_append_str(b, "</h1>\n<table>\n");
	row(b, "Uptime (s)", s->start ? (int64_t)now - s->start : 0);
	row(b, "Reloads", (int64_t)s->reloads);
	row(b, "Active connections", s->active);
	row(b, "Reading", s->reading);
	row(b, "Writing", s->writing);
	row(b, "Waiting", s->waiting);
	row(b, "Accepted", (int64_t)s->accepted);
	row(b, "Handled", (int64_t)s->handled);
	row(b, "Idle shed at the cap", (int64_t)s->shed);
	row(b, "Requests", (int64_t)s->requests);
	row(b, "1xx", (int64_t)s->status[1]);
	row(b, "2xx", (int64_t)s->status[2]);
	row(b, "3xx", (int64_t)s->status[3]);
	row(b, "4xx", (int64_t)s->status[4]);
	row(b, "5xx", (int64_t)s->status[5]);
	row(b, "Bytes sent", (int64_t)s->bytes);
	row(b, "Cache hits", (int64_t)s->hits);
	row(b, "Cache misses", (int64_t)s->misses);
	row(b, "Open-file cache hits", (int64_t)s->fhits);
	row(b, "Open-file cache misses", (int64_t)s->fmisses);
	row(b, "Cold reads by the aio pool", (int64_t)s->aio_reads);
	row(b, "TLS handshakes", (int64_t)s->tls_hs);
	row(b, "TLS sessions resumed", (int64_t)s->tls_resumed);
	row(b, "TLS handshakes failed", (int64_t)s->tls_failed);
	row(b, "Plain HTTP to a TLS port", (int64_t)s->tls_plain);
	row(b, "TLSv1.3 handshakes", (int64_t)s->tls_v13);
	row(b, "TLSv1.2 handshakes", (int64_t)s->tls_v12);
	row(b, "Older TLS handshakes", (int64_t)s->tls_vold);
	row(b, "Logins accepted", (int64_t)s->auth_passed);
	row(b, "... from the cache", (int64_t)s->auth_cached);
	row(b, "Logins refused", (int64_t)s->auth_failed);
	row(b, "Throttled (429)", (int64_t)s->auth_throttled);
	row(b, "Denied by address (403)", (int64_t)s->access_denied);
	tw_buf_append_str(b, "</table>\n<h2>Workers</h2>\n<table>\n<tr><th>slot"
			  "</th><th>pid</th><th>requests</th><th>restarts</th>"
			  "</tr>\n");
	for (i = 0; i < TW_STATS_MAX_WORKERS; i++) {
		int64_t pid = atomic_load(&m->workers[i].pid);

		if (pid == 0)
			continue;
		tw_buf_append_str(b, "<tr><td>");
		num(b, (int64_t)i);
		tw_buf_append_str(b, "</td><td>");
		num(b, pid);
		tw_buf_append_str(b, "</td><td>");
		num(b, (int64_t)atomic_load(&m->workers[i].requests));
		tw_buf_append_str(b, "</td><td>");
		num(b, (int64_t)atomic_load(&m->workers[i].restarts));
		tw_buf_append_str(b, "</td></tr>\n");
	}
	tw_buf_append_str(b, "</table>\n");
	html_upstreams(b, gs);
	tw_buf_append_str(b, "</body></html>\n");
}

static void
render(const struct tw_stats *st, const char *version, const struct groups *gs,
       enum tw_status_format f, time_t now, struct tw_buf *out)
{
	struct snap s;

	take(st, &s);
	switch (f) {
	case TW_STATUS_TEXT:
		render_text(&s, out);
		break;
	case TW_STATUS_JSON:
		render_json(st, &s, version, now, gs, out);
		break;
	case TW_STATUS_PROMETHEUS:
		render_prometheus(st, &s, gs, out);
		break;
	case TW_STATUS_HTML:
		render_html(st, &s, version, now, gs, out);
		break;
	}
}

void
tw_status_render(const struct tw_stats *st, const char *version,
		 enum tw_status_format f, time_t now, struct tw_buf *out)
{
	struct groups none = { NULL, 0 };

	render(st, version, &none, f, now, out);
}

void
tw_status_render_opts(const struct tw_status_opts *o,
		      enum tw_status_format f, time_t now, struct tw_buf *out)
{
	struct groups gs = { o->groups, o->ngroups };

	render(o->stats, o->version ? o->version : "", &gs, f, now, out);
}

/* ?format=... wins; then the Accept header; then stub_status text. */
static enum tw_status_format
pick_format(const struct tw_http_req *req)
{
	static const struct {
		const char *name;
		enum tw_status_format f;
	} names[] = {
		{ "format=json", TW_STATUS_JSON },
		{ "format=prometheus", TW_STATUS_PROMETHEUS },
		{ "format=html", TW_STATUS_HTML },
		{ "format=text", TW_STATUS_TEXT },
	};
	const struct tw_http_header *acc;
	size_t i;

	for (i = 0; req->query != NULL && i < 4; i++) {
		size_t n = strlen(names[i].name);
		const char *q = req->query, *end = q + req->query_len;

		while (q < end) {
			const char *amp = memchr(q, '&', (size_t)(end - q));
			size_t len = (size_t)((amp ? amp : end) - q);

			if (len == n && memcmp(q, names[i].name, n) == 0)
				return names[i].f;
			q = amp ? amp + 1 : end;
		}
	}
	acc = tw_http_find_header(req->raw, "Accept");
	if (acc != NULL && memmem(acc->value, acc->value_len,
				  "application/json", 16) != NULL)
		return TW_STATUS_JSON;
	if (acc != NULL && memmem(acc->value, acc->value_len, "text/html", 9) != NULL)
		return TW_STATUS_HTML;
	return TW_STATUS_TEXT;
}

static int
status_handle(const struct tw_http_req *req, struct tw_http_res *res,
	      void *inst)
{
	static const char *const types[] = {
		"text/plain; charset=utf-8",
		"application/json",
		"text/plain; version=0.0.4; charset=utf-8",
		"text/html; charset=utf-8",
	};
	const struct tw_status_opts *o = inst;
	enum tw_status_format f;

	if (o->path == NULL || req->path_len != strlen(o->path) ||
	    memcmp(req->path, o->path, req->path_len) != 0)
		return TW_DECLINED;
	if (!tw_status_allowed(o, req->peer))
		return 403;
	f = pick_format(req);
	tw_status_render_opts(o, f, tw_clock_now(), res->body);
	res->status = 200;
	tw_buf_append_str(res->headers, "Content-Type: ");
	tw_buf_append_str(res->headers, types[f]);
	tw_buf_append_str(res->headers, "\r\nCache-Control: no-store\r\n");
	res->nseg = 1;
	res->segs[0].kind = TW_HTTP_SEG_BODY;
	res->segs[0].off = 0;
	res->segs[0].len = res->body->len;
	tw_compress_res(o->compress, req, res, types[f]);
	return 0;
}

/* The options are the instance: nothing per thread to set up. */
static void *
status_create(const void *opts, int *err)
{
	(void)err;
	return (void *)(uintptr_t)opts;
}

const struct tw_handler tw_status_handler = {
	.name = "status",
	.handle = status_handle,
	.create = status_create,
	.destroy = NULL,
};
