/* SPDX-License-Identifier: MIT */
/*
 * status: the live counters page. Answers one path (off by default) to
 * clients in an allow list (loopback by default) in nginx's stub_status
 * text layout (so scrapers written for nginx read it unchanged), JSON
 * with per-worker detail, Prometheus text exposition, or HTML for a
 * browser. It takes precedence over a file at the same path. Layer 3:
 * reads struct tw_stats and fills a tw_http_res.
 */
#ifndef TW_STATUS_H
#define TW_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http.h"
#include "parse/netmask.h"

struct tw_buf;
struct tw_compress_opts;
struct tw_proxy_group;
struct tw_stats;

#define TW_STATUS_MAX_ALLOW 32

struct tw_status_opts {
	const char *path;	/* e.g. "/status"; NULL: off */
	struct tw_net allow[TW_STATUS_MAX_ALLOW];
	size_t nallow;		/* 0: loopback only */
	struct tw_stats *stats;
	const char *version;	/* shown in JSON and HTML */
	/* The proxy's upstream groups, per server: state, requests,
	 * failures, time, the active check's last result */
	const struct tw_proxy_group *const *groups;
	size_t ngroups;
	const struct tw_compress_opts *compress;	/* borrowed; NULL:
							 * sent plain */
};

enum tw_status_format {
	TW_STATUS_TEXT,		/* nginx stub_status */
	TW_STATUS_JSON,
	TW_STATUS_PROMETHEUS,
	TW_STATUS_HTML,
};

extern const struct tw_handler tw_status_handler;

/* True if peer may see the page (IPv4-mapped IPv6 peers match IPv4
 * nets). With no allow list, only loopback may. */
bool tw_status_allowed(const struct tw_status_opts *o,
		       const struct sockaddr *peer);

/* Render the counters in format f into out (appended). now: the time to
 * compute uptime from. */
void tw_status_render(const struct tw_stats *st, const char *version,
		      enum tw_status_format f, time_t now, struct tw_buf *out);

/* The same with o's upstream groups (JSON, Prometheus and HTML; the
 * stub_status text has no place for them). */
void tw_status_render_opts(const struct tw_status_opts *o,
			   enum tw_status_format f, time_t now,
			   struct tw_buf *out);

#endif /* TW_STATUS_H */
