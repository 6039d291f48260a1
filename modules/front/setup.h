/* SPDX-License-Identifier: MIT */
/*
 * setup: a configuration turned into what serving needs: the root, the
 * handlers and the HTTP server (an opaque tw_proto for the run layer),
 * the listening sockets (taken from the process's set, run/sockets) and
 * the run options. One struct tw_setup is one configuration
 * "generation"; a reload builds another beside it. The process around
 * the generations (pidfile, upgrade, reload hooks) is run/server's.
 * Layer 5 (front).
 */
#ifndef TW_SETUP_H
#define TW_SETUP_H

#include <sys/socket.h>

#include "front/config.h"
#include "front/pages.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/proxy.h"
#include "http/ready.h"
#include "http/redirect.h"
#include "http/return.h"
#include "http/static.h"
#include "http/status.h"
#include "http/vhost.h"
#include "net/tls.h"
#include "run/run.h"
#include "run/server.h"

struct tw_setup {
	struct tw_config cfg;
	enum tw_config_cmd cmd;		/* what the command line asked */
	struct tw_fs *fs;
	char *extra_headers;
	struct tw_static_opts so;
	struct tw_compress_opts co;	/* so.compress: cfg's, types set */
	struct tw_status_opts sto;
	struct tw_http_opts ho;
	struct tw_proxy_group pg;	/* tinyweb proxy URL...: the group */
	struct tw_proxy_opts po;
	struct tw_shm_header *pshm;	/* the shared counters of pg and of
					 * every upstream block's group */
	struct setup_scopes *scopes;	/* server blocks, or NULL */
	/* Every upstream group (the status page shows them) */
	const struct tw_proxy_group *groups[TW_CONFIG_MAX_UPSTREAMS + 1];
	size_t ngroups;
	struct tw_redirect_opts ro;
	struct tw_pages_http pages;	/* without server blocks: error
					 * pages, CORS, try_files */
	/* health, auth, status, redirect, files, proxy */
	struct tw_http_route routes[6];
	/* Access control: the top level's (no server block), and the
	 * shared failure counts of every level's auth_basic */
	struct tw_auth_opts ao;
	struct tw_userfile users;
	struct tw_auth_rule rules[TW_CONFIG_MAX_RULES];
	bool auth_on;
	struct tw_shm_header *ashm;
	struct tw_throttle *throttle;
	uint64_t throttle_key[2];
	struct tw_ready_opts health;	/* every location's, if on */
	struct tw_http_server *srv;
	struct tw_proto proto;
	int fds[TW_CONFIG_MAX_LISTEN];	/* borrowed from the server's set */
	size_t nfds;
	/* TLS listeners: their context and http's own factory, which the
	 * TLS one calls once a connection is wrapped. */
	struct tw_tls_context *tls;
	struct tw_proto inner;
	bool all_tls;			/* no lookup per accept */
	struct sockaddr_storage tls_addrs[TW_CONFIG_MAX_LISTEN];
	socklen_t tls_addrlens[TW_CONFIG_MAX_LISTEN];
	size_t ntls_addrs;
	struct tw_sandbox *sandbox;	/* the loops' (run/sandbox), or NULL */
};

/* Reload and release through these (struct tw_server's ops). */
extern const struct tw_server_ops tw_setup_server_ops;

/*
 * Parse the command line (and the file it names) into a new generation.
 * *status is the exit status on failure (2 usage, 1 file). Returns NULL
 * on failure (reported: on stderr while starting, in the error log once
 * tw_setup_serving() was called).
 */
struct tw_setup *tw_setup_parse(int argc, char **argv, int *status);

/* Build the root, the handlers, the protocol and the listening sockets
 * (from s's set). 0 or -1 (reported). */
int tw_setup_build(struct tw_setup *g, struct tw_server *s);

/* The run options of a built generation. */
struct tw_run_opts tw_setup_run_opts(struct tw_setup *g,
				     struct tw_stats *stats);

/* Open the error and access logs g names. 0 or -1 (said on stderr). */
int tw_setup_open_logs(const struct tw_setup *g);

/* The startup line: root, URLs, mode and workers. */
void tw_setup_print_startup(const struct tw_setup *g);

/* From now on errors go to the error log: stderr may be /dev/null. */
void tw_setup_serving(void);

/* Free g and everything built from it (NULL: nothing). */
void tw_setup_free(struct tw_setup *g);

#endif /* TW_SETUP_H */
