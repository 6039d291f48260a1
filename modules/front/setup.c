/* SPDX-License-Identifier: MIT */
/*
 * setup: configuration -> generation -> run options. Layer 5.
 */
#include "front/setup.h"
#include "front/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/shm.h"
#include "base/throttle.h"
#include "front/scope.h"
#include "front/upstreams.h"
#include "http/health.h"
#include "net/listener.h"
#include "net/tls_shared.h"
#include "parse/fs.h"
#include "run/mode.h"
#include "run/sandbox.h"
#include "run/sockets.h"
#include "run/upgrade.h"
#include "run/worker.h"

#ifndef VERSION
#define VERSION "0.1.0"
#endif

static bool serving;	/* past start-up: errors go to the error log */


/* One location's handlers' options (and a server's, for the paths no
 * location takes). */
struct setup_loc {
	struct tw_static_opts so;
	struct tw_compress_opts co;	/* so.compress, its own on/off */
	struct tw_status_opts sto;
	struct tw_return_opts ro;
	struct tw_proxy_opts po;	/* its proxy_pass, its prefix known */
	struct tw_auth_opts ao;		/* its allow/deny and auth_basic */
	struct tw_userfile users;
	struct tw_auth_rule rules[TW_CONFIG_MAX_RULES];
	const char *index[TW_CONFIG_MAX_INDEX];
	char *headers;		/* its add_header lines, joined */
	struct tw_pages_http pages;	/* error pages, CORS, try_files */
	bool has_static;	/* so is the options of route static_route */
	size_t static_route;
};

/* Server blocks turned into http/vhost's tables and the routes of
 * every location, in one array that http slices. */
struct setup_scopes {
	struct tw_vhosts vh;
	struct tw_vhost_server *servers;
	struct tw_vhost_listen listens[TW_CONFIG_MAX_LISTEN];
	struct tw_listen addrs[TW_CONFIG_MAX_LISTEN];	/* to bind */
	size_t naddrs;
	struct tw_vhost_loc *vlocs;
	struct setup_loc *locs;
	size_t nlocs;
	struct tw_http_route *routes;
	size_t nroutes;
	struct tw_fs **fs;	/* one per distinct root or alias */
	size_t nfs;
};

/* One line per error: on stderr while starting (the operator is
 * watching), in the error log once serving (a reload). */
static void
report(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(int err, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (serving)
		tw_log(TW_LOG_ERROR, err, "%s", msg);
	else if (err != 0)
		fprintf(stderr, "tinyweb: %s: %s\n", msg, strerror(-err));
	else
		fprintf(stderr, "tinyweb: %s\n", msg);
}

void
tw_setup_serving(void)
{
	serving = true;
}

/* ---- TLS ------------------------------------------------------------------ */

/*
 * What a client that speaks plain HTTP to a TLS port reads before the
 * close (nginx answers the same way). Made here: net/tls sends the bytes
 * it is given and knows no HTTP.
 */
#define PLAIN_BODY "<html>\r\n<head><title>400 The plain HTTP request " \
	"was sent to HTTPS port</title></head>\r\n<body>\r\n<h1>400 Bad " \
	"Request</h1>\r\n<p>The plain HTTP request was sent to HTTPS " \
	"port.</p>\r\n</body>\r\n</html>\r\n"
#define PLAIN_REPLY "HTTP/1.1 400 Bad Request\r\nServer: tinyweb\r\n" \
	"Content-Type: text/html\r\nConnection: close\r\n" \
	"Content-Length: %zu\r\n\r\n%s"

/* Ticket keys and TLS 1.2 sessions: one table for the process and every
 * generation it builds, made before the first fork so all workers share
 * them. */
static struct tw_tls_shared *tls_shared;

/* The pairs of certificate and key files of n names in certs. */
static size_t
cert_pairs(const char *const *files, const char *const *keys, size_t n,
	   struct tw_tls_cert *certs)
{
	size_t i;

	for (i = 0; i < n; i++)
		certs[i] = (struct tw_tls_cert){ files[i], keys[i] };
	return n;
}

/*
 * SNI: each server block with certificates of its own gives them to the
 * clients that name one of its server_names (exact or "*.suffix"). 0 or
 * -1 (reported).
 */
static int
tls_add_servers(const struct tw_config *cfg, struct tw_tls_context *t)
{
	struct tw_tls_cert certs[TW_CONFIG_MAX_CERTS];
	char err[PATH_MAX * 2 + 128];
	size_t i, j, n;

	for (i = 0; i < cfg->nservers; i++) {
		const struct tw_config_server *srv = cfg->servers[i];

		if (srv->ntls_certs == 0)
			continue;
		n = cert_pairs(srv->tls_certs, srv->tls_keys, srv->ntls_certs,
			       certs);
		for (j = 0; j < srv->nnames; j++)
			if (tw_tls_context_add_name(t, srv->names[j], certs, n,
						    err, sizeof(err)) < 0) {
				report(0, "%s", err);
				return -1;
			}
	}
	return 0;
}

/* Whether srv has a tls listen line, marked default_server if dflt. */
static bool
listens_tls(const struct tw_config_server *srv, bool dflt)
{
	size_t i;

	for (i = 0; i < srv->nlistens; i++)
		if (srv->listens[i].l.tls &&
		    (!dflt || srv->listens[i].default_server))
			return true;
	return false;
}

/*
 * The server whose certificates a client gets when its SNI names no
 * server (or it sends none): the default_server of a tls listen line,
 * else the first server with a tls listen line, else the first with
 * certificates. One for every TLS address: the context is shared.
 */
static const struct tw_config_server *
default_tls_server(const struct tw_config *cfg)
{
	const struct tw_config_server *first = NULL, *first_any = NULL;
	size_t i;

	for (i = 0; i < cfg->nservers; i++) {
		const struct tw_config_server *srv = cfg->servers[i];

		if (srv->ntls_certs == 0)
			continue;
		if (listens_tls(srv, true))
			return srv;
		if (first == NULL && listens_tls(srv, false))
			first = srv;
		if (first_any == NULL)
			first_any = srv;
	}
	return first != NULL ? first : first_any;
}

/*
 * A TLS context of cfg's certificates, or NULL (reported). A client
 * whose SNI names no server with certificates of its own gets the top
 * level's, or, without those, default_tls_server()'s.
 */
static struct tw_tls_context *
tls_build(const struct tw_config *cfg)
{
	const struct tw_config_server *dflt;
	struct tw_tls_cert certs[TW_CONFIG_MAX_CERTS];
	char reply[sizeof(PLAIN_REPLY) + sizeof(PLAIN_BODY) + 16];
	char err[PATH_MAX * 2 + 128];
	struct tw_tls_opts o = {
		.certs = certs,
		.protocols = cfg->tls_protocols,
		.ciphers = cfg->tls_ciphers,
		.plain_reply = reply,
	};
	struct tw_tls_context *t;
	int n, e;

	if (tls_shared == NULL && (tls_shared = tw_tls_shared_create(&e)) ==
	    NULL)
		report(e, "TLS ticket keys and session cache (sessions "
		       "resume on one worker only)");
	o.shared = tls_shared;
	o.ncerts = cert_pairs(cfg->tls_certs, cfg->tls_keys, cfg->ntls_certs,
			      certs);
	if (o.ncerts == 0 && (dflt = default_tls_server(cfg)) != NULL)
		o.ncerts = cert_pairs(dflt->tls_certs, dflt->tls_keys,
				      dflt->ntls_certs, certs);
	n = snprintf(reply, sizeof(reply), PLAIN_REPLY, sizeof(PLAIN_BODY) - 1,
		     PLAIN_BODY);
	o.plain_reply_len = (size_t)n;
	t = tw_tls_context_create(&o, err, sizeof(err));
	if (t == NULL)
		report(0, "%s", err);
	else if (tls_add_servers(cfg, t) < 0) {
		tw_tls_context_destroy(t);
		t = NULL;
	}
	return t;
}

static bool
any_tls(const struct tw_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->nlistens; i++)
		if (cfg->listens[i].tls)
			return true;
	for (i = 0; i < cfg->nservers; i++)
		for (j = 0; j < cfg->servers[i]->nlistens; j++)
			if (cfg->servers[i]->listens[j].l.tls)
				return true;
	return false;
}

/* The connection came in on a TLS listener. Only asked when TLS and
 * plain listeners are mixed: one getsockname per accept then. */
static bool
came_by_tls(const struct tw_setup *g, int fd)
{
	struct sockaddr_storage a;
	socklen_t alen = sizeof(a);
	size_t i;

	if (g->all_tls)
		return true;
	if (getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return false;
	for (i = 0; i < g->ntls_addrs; i++) {
		const struct sockaddr_storage *l = &g->tls_addrs[i];

		/* A wildcard listener matches any local address of its
		 * family and port. */
		if (a.ss_family == AF_INET && l->ss_family == AF_INET) {
			const struct sockaddr_in *x = (const void *)&a;
			const struct sockaddr_in *y = (const void *)l;

			if (x->sin_port == y->sin_port &&
			    (y->sin_addr.s_addr == htonl(INADDR_ANY) ||
			     x->sin_addr.s_addr == y->sin_addr.s_addr))
				return true;
		} else if (a.ss_family == AF_INET6 &&
			   l->ss_family == AF_INET6) {
			const struct sockaddr_in6 *x = (const void *)&a;
			const struct sockaddr_in6 *y = (const void *)l;

			if (x->sin6_port == y->sin6_port &&
			    (IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr) ||
			     IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr)))
				return true;
		}
	}
	return false;
}

/* The protocol's factory behind TLS: wrap, then hand to http. */
static int
accept_tls(struct tw_conn *c, void *arg)
{
	struct tw_setup *g = arg;

	if (came_by_tls(g, tw_conn_fd(c))) {
		int err = tw_tls_wrap(c, g->tls);

		if (err < 0)
			return err;
	}
	return g->inner.accept(c, g->inner.arg);
}

static int
loop_init_tls(struct tw_loop *loop, void *arg)
{
	struct tw_setup *g = arg;

	return g->inner.loop_init(loop, g->inner.arg);
}

static void
loop_exit_tls(struct tw_loop *loop, void *arg)
{
	struct tw_setup *g = arg;

	g->inner.loop_exit(loop, g->inner.arg);
}

static unsigned
drain_tls(struct tw_loop *loop, void *arg)
{
	struct tw_setup *g = arg;

	return g->inner.drain(loop, g->inner.arg);
}

/* Put TLS in front of http on the listeners that ask for it. 0 or -1. */
static int
setup_tls(struct tw_setup *g)
{
	const struct tw_config *cfg = &g->cfg;
	/* The addresses open_listeners() opened, in its order. */
	const struct tw_listen *ls = g->scopes ? g->scopes->addrs :
				     cfg->listens;
	size_t i, n = g->scopes ? g->scopes->naddrs : cfg->nlistens;

	if (!any_tls(cfg))
		return 0;
	g->tls = tls_build(cfg);
	if (g->tls == NULL)
		return -1;
	g->all_tls = true;
	for (i = 0; i < g->nfds && i < n; i++) {
		if (!ls[i].tls) {
			g->all_tls = false;
			continue;
		}
		g->tls_addrlens[g->ntls_addrs] = sizeof(g->tls_addrs[0]);
		if (getsockname(g->fds[i], (struct sockaddr *)
				&g->tls_addrs[g->ntls_addrs],
				&g->tls_addrlens[g->ntls_addrs]) == 0)
			g->ntls_addrs++;
	}
	g->inner = g->proto;
	g->proto = (struct tw_proto){
		.accept = accept_tls,
		.loop_init = loop_init_tls,
		.loop_exit = loop_exit_tls,
		.drain = drain_tls,
		.arg = g,
	};
	return 0;
}

static int
open_listeners(struct tw_server *s, struct tw_setup *g)
{
	const struct tw_config *cfg = &g->cfg;
	const struct tw_listen *ls = g->scopes ? g->scopes->addrs :
				     cfg->listens;
	size_t i, n = g->scopes ? g->scopes->naddrs : cfg->nlistens;
	uint16_t picked = 0;
	int err;

	for (i = 0; i < n; i++) {
		const struct tw_listen *l = &ls[i];
		/* With port 0 every address shares the port the first got. */
		uint16_t port = l->port == 0 ? picked : l->port;
		int fd = tw_sockets_get(&s->sockets, l->addr, port,
					cfg->accept == TW_ACCEPT_REUSEPORT);

		if (fd < 0) {
			if (fd != -ENOSPC)
				report(fd, "cannot listen on %s port %u",
				       strcmp(l->addr, TW_LISTENER_EVERY) == 0 ?
				       "every address" : l->addr, port);
			return -1;
		}
		/* On every generation's sockets, inherited ones too: a
		 * reload may have changed it. */
		err = tw_listener_set_defer(fd, cfg->defer_accept);
		if (err < 0)
			report(err, "cannot set TCP_DEFER_ACCEPT on %s port %u",
			       strcmp(l->addr, TW_LISTENER_EVERY) == 0 ?
			       "every address" : l->addr, port);
		if (l->port == 0 && picked == 0)
			picked = tw_listener_port(fd);
		g->fds[g->nfds++] = fd;
	}
	return 0;
}

/*
 * Descriptors kept from connections: listeners, logs, pidfile, epoll,
 * signalfd, eventfd, the listener's spare, the aio pool's.
 */
#define FD_RESERVE 64

/*
 * The connection cap: as given, or the default cut to what the
 * descriptors hold (RLIMIT_NOFILE, its soft limit already raised to the
 * hard one by tw_server_prepare). Half of them, as a connection may hold
 * its response's file open besides its socket.
 */
static uint64_t
connection_cap(const struct tw_config *cfg)
{
	size_t nofile = tw_worker_max_fds();
	uint64_t fit;

	if (cfg->max_connections_set)
		return cfg->max_connections;
	fit = nofile > FD_RESERVE + 2 ? (nofile - FD_RESERVE) / 2 : 1;
	return fit < cfg->max_connections ? fit : cfg->max_connections;
}

static unsigned worker_count(const struct tw_config *cfg);

/* Event loops sharing one descriptor table: a process's threads do;
 * prefork workers each have their own. */
static unsigned
loops_per_table(const struct tw_config *cfg)
{
	return cfg->mode == TW_MODE_THREADS ? worker_count(cfg) : 1;
}

/* Said once a start or reload can no longer fail, so a failed start
 * keeps its one line of error. */
static void
log_cap(const struct tw_setup *g)
{
	unsigned loops = loops_per_table(&g->cfg);

	tw_log(TW_LOG_INFO, 0, "max_connections %llu (%s; RLIMIT_NOFILE %zu)",
	       (unsigned long long)g->ho.max_connections,
	       g->cfg.max_connections_set ? "as given" : "default",
	       tw_worker_max_fds());
	tw_log(TW_LOG_INFO, 0, "open-file cache %zu descriptors per loop "
	       "(a quarter of RLIMIT_NOFILE %zu over %u loop%s, at most %d)",
	       g->so.open_files, tw_worker_max_fds(), loops,
	       loops == 1 ? "" : "s", TW_FS_CACHE_FDS_MAX);
}

/* How each event loop's connections move file bytes. */
static struct tw_conn_opts
conn_opts(const struct tw_config *cfg)
{
	static const uint64_t copy_min[] = {
		[TW_SENDFILE_AUTO] = TW_CONN_COPY_AUTO,
		[TW_SENDFILE_ON] = UINT64_MAX,
		[TW_SENDFILE_OFF] = 0,
	};

	return (struct tw_conn_opts){
		.aio_threads = cfg->aio ? (unsigned)cfg->aio_threads : 0,
		.copy_min = copy_min[cfg->sendfile],
	};
}

static unsigned
worker_count(const struct tw_config *cfg)
{
	long n;

	if (cfg->mode == TW_MODE_EPOLL)
		return 1;
	if (cfg->workers > 0)
		return cfg->workers;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

struct tw_run_opts
tw_setup_run_opts(struct tw_setup *g, struct tw_stats *stats)
{
	return (struct tw_run_opts){
		.mode = g->cfg.mode,
		.workers = worker_count(&g->cfg),
		.accept = (enum tw_accept_strategy)g->cfg.accept,
		.fds = g->fds,
		.nfds = g->nfds,
		.proto = g->proto,
		.conn = conn_opts(&g->cfg),
		.stats = stats,
		.owner = g,
		.sandbox = g->sandbox,
	};
}

/* What is served, the start of the startup line. */
static void
print_what(const struct tw_setup *g, FILE *out)
{
	size_t i;

	if (g->pg.nservers > 0) {
		/* Names, not URLs: the first URL on the line is where we
		 * listen (scripts read the port from it). */
		fputs("tinyweb: serving proxy to ", out);
		for (i = 0; i < g->pg.nservers; i++)
			fprintf(out, "%s%s", i ? ", " : "",
				g->pg.servers[i].conf.name);
		if (g->cfg.proxy_dir)
			fprintf(out, " (files from %s first)",
				tw_fs_root_path(g->fs));
	} else if (g->scopes != NULL) {
		fprintf(out, "tinyweb: serving %zu server%s",
			g->cfg.nservers, g->cfg.nservers == 1 ? "" : "s");
	} else {
		fprintf(out, "tinyweb: serving %s", tw_fs_root_path(g->fs));
	}
}

/* Whether the i-th listener is TLS. */
static bool
fd_tls(const struct tw_setup *g, size_t i)
{
	/* the addresses in open_listeners()'s order */
	return g->scopes ? i < g->scopes->naddrs && g->scopes->addrs[i].tls :
	       i < g->cfg.nlistens && g->cfg.listens[i].tls;
}

/* "http://..." as "https://..." for a TLS listener. */
static void
print_url(FILE *out, const char *url, size_t len, bool tls)
{
	fprintf(out, "%.4s%s%.*s", url, tls ? "s" : "", (int)(len - 4),
		url + 4);
}

/*
 * For a person at a terminal: addresses to click, the loopback one and
 * the machine's own where we listen on every address (http://[::]:8080/
 * opens nothing), one a line, and how to stop.
 */
static void
print_for_people(const struct tw_setup *g, unsigned n, FILE *out)
{
	char urls[2048];
	size_t i;

	print_what(g, out);
	fprintf(out, " (%s, %u worker%s) at\n", tw_mode_name(g->cfg.mode), n,
		n == 1 ? "" : "s");
	for (i = 0; i < g->nfds; i++) {
		const char *u = urls, *nl;

		tw_listener_urls(g->fds[i], urls, sizeof(urls));
		for (; (nl = strchr(u, '\n')) != NULL; u = nl + 1) {
			fputs("  ", out);
			print_url(out, u, (size_t)(nl - u), fd_tls(g, i));
			fputc('\n', out);
		}
	}
	if (!g->cfg.daemon)
		fputs("Press Ctrl-C to stop.\n", out);
	else if (g->cfg.pidfile != NULL)
		fprintf(out, "Stop it with: tinyweb stop --pidfile %s\n",
			g->cfg.pidfile);
	else
		fprintf(out, "Stop it with: kill %d\n", (int)getpid());
}

void
tw_setup_print_startup(const struct tw_setup *g)
{
	unsigned n = worker_count(&g->cfg);
	char url[128];
	size_t i;

	if (isatty(STDERR_FILENO)) {
		print_for_people(g, n, stderr);
	} else {
		/* One line for programs: the bound addresses as they are;
		 * scripts and tests read the port from the first URL. */
		print_what(g, stderr);
		fputs(" on ", stderr);
		for (i = 0; i < g->nfds; i++) {
			tw_listener_url(g->fds[i], url, sizeof(url));
			if (i > 0)
				fputs(", ", stderr);
			print_url(stderr, url, strlen(url), fd_tls(g, i));
		}
		fprintf(stderr, " (%s, %u worker%s)\n",
			tw_mode_name(g->cfg.mode), n, n == 1 ? "" : "s");
	}
	log_cap(g);
	if (g->tls != NULL)
		tw_log(TW_LOG_INFO, 0, "TLS file bodies: %s",
		       tw_tls_file_path());
	tw_log(TW_LOG_INFO, 0, "%s", g->sandbox != NULL ?
	       tw_sandbox_describe(g->sandbox) : "sandbox: off");
	if (g->sandbox != NULL && g->cfg.symlinks == TW_FS_SYMLINKS_ALWAYS)
		tw_log(TW_LOG_WARN, 0, "symlinks always: a link to a file "
		       "outside every root is refused by the sandbox (403); "
		       "sandbox off follows it");
}

/* add_header lines as one block of "Name: value\r\n" for http. */
static char *
join_header_lines(const struct tw_config_header *hs, size_t n)
{
	size_t i, len = 1;
	char *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(hs[i].name) + strlen(hs[i].value) + 4;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	p = out;
	*p = '\0';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s: %s\r\n", hs[i].name, hs[i].value);
	return out;
}

static char *
join_headers(const struct tw_config *cfg)
{
	return join_header_lines(cfg->headers, cfg->nheaders);
}

static void
scopes_free(struct setup_scopes *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nlocs; i++) {
		free(sc->locs[i].headers);
		tw_userfile_free(&sc->locs[i].users);
	}
	for (i = 0; i < sc->nfs; i++)
		tw_fs_destroy(sc->fs[i]);
	free(sc->fs);
	free(sc->locs);
	free(sc->vlocs);
	free(sc->routes);
	free(sc->servers);
	free(sc);
}

/*
 * The setup built last in this process. A prefork reload builds the next
 * one beside it: what its groups learnt of the servers that stay (passive
 * and active health, the status page's counters) carries over, matched
 * by group and server name. The epoll and threads modes reload into a new
 * process, as an upgrade does: it is handed the same in a file.
 */
static struct tw_setup *last_built;

/*
 * Across an upgrade, and an epoll or threads reload (a new process): the
 * staying servers' health and counters go to the new process as a small
 * text file (a memfd it inherits), one line a server:
 *   GROUP SERVER fails fail_start down_until check_down requests failures
 *   time_us [down result status streak checks last_time]
 * Names hold no blanks (upstream names and host:port); the times are
 * CLOCK_MONOTONIC milliseconds, the same in both processes.
 */
static void
write_group(FILE *f, const struct tw_proxy_group *g)
{
	size_t i;

	for (i = 0; i < g->nservers; i++) {
		struct tw_upstream_shared *a = &g->shared[i];

		fprintf(f, "%s %s %u %llu %llu %u %llu %llu %llu", g->name,
			g->servers[i].conf.name, atomic_load(&a->fails),
			(unsigned long long)atomic_load(&a->fail_start_ms),
			(unsigned long long)atomic_load(&a->down_until_ms),
			atomic_load(&a->check_down),
			(unsigned long long)atomic_load(&a->requests),
			(unsigned long long)atomic_load(&a->failures),
			(unsigned long long)atomic_load(&a->time_us));
		if (g->health != NULL) {
			struct tw_health_shared *h = &g->health[i];

			fprintf(f, " %u %u %u %u %llu %lld",
				atomic_load(&h->down), atomic_load(&h->result),
				atomic_load(&h->status), atomic_load(&h->streak),
				(unsigned long long)atomic_load(&h->checks),
				(long long)atomic_load(&h->last_time));
		}
		fputc('\n', f);
	}
}

static int
state_out(struct tw_server *s)
{
	int fd, dup_fd;
	FILE *f;
	size_t i;

	(void)s;
	if (last_built == NULL || last_built->ngroups == 0)
		return -1;
	fd = memfd_create("tinyweb-state", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	dup_fd = dup(fd);
	f = dup_fd >= 0 ? fdopen(dup_fd, "w") : NULL;
	if (f == NULL) {
		if (dup_fd >= 0)
			(void)close(dup_fd);
		(void)close(fd);
		return -1;
	}
	for (i = 0; i < last_built->ngroups; i++)
		write_group(f, last_built->groups[i]);
	if (fclose(f) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* One line of the old process's file onto the server it names, if it
 * is still in a group of the same name. */
static void
carry_line(struct tw_setup *g, const char *line)
{
	char gname[256], sname[300];
	unsigned fails, check_down, hdown, result, status, streak;
	unsigned long long start, until, req, failures, us, checks;
	long long last;
	size_t gi, i;
	int n;

	n = sscanf(line, "%255s %299s %u %llu %llu %u %llu %llu %llu %u %u %u "
		   "%u %llu %lld", gname, sname, &fails, &start, &until,
		   &check_down, &req, &failures, &us, &hdown, &result, &status,
		   &streak, &checks, &last);
	if (n != 9 && n != 15)
		return;
	for (gi = 0; gi < g->ngroups; gi++) {
		const struct tw_proxy_group *pg = g->groups[gi];

		if (strcmp(pg->name, gname) != 0)
			continue;
		for (i = 0; i < pg->nservers; i++) {
			struct tw_upstream_shared *b = &pg->shared[i];

			if (strcmp(pg->servers[i].conf.name, sname) != 0)
				continue;
			atomic_store(&b->fails, fails);
			atomic_store(&b->fail_start_ms, start);
			atomic_store(&b->down_until_ms, until);
			atomic_store(&b->check_down, check_down);
			atomic_store(&b->requests, req);
			atomic_store(&b->failures, failures);
			atomic_store(&b->time_us, us);
			if (n == 15 && pg->health != NULL &&
			    result < TW_HEALTH_RESULT_COUNT) {
				struct tw_health_shared *h = &pg->health[i];

				atomic_store(&h->down, hdown);
				atomic_store(&h->result, result);
				atomic_store(&h->status, status);
				atomic_store(&h->streak, streak);
				atomic_store(&h->checks, checks);
				atomic_store(&h->last_time, last);
			}
			return;
		}
	}
}

/* A prefork reload: the generation built before this one, in the same
 * process, through the same lines. */
static void
carry_over(const struct tw_setup *old, struct tw_setup *g)
{
	char *text = NULL, *line, *next;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return;
	for (i = 0; i < old->ngroups; i++)
		write_group(f, old->groups[i]);
	if (fclose(f) == 0)
		for (line = text; line != NULL && *line != '\0'; line = next) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			carry_line(g, line);
		}
	free(text);
}

/* The first generation of a process an old one started: its file. */
static void
carry_in(struct tw_setup *g)
{
	int fd = tw_upgrade_state_fd();
	char line[1024];
	FILE *f;

	if (fd < 0)
		return;
	f = fdopen(fd, "r");
	if (f == NULL) {
		(void)close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		carry_line(g, line);
	(void)fclose(f);
}

void
tw_setup_free(struct tw_setup *g)
{
	if (g == NULL)
		return;
	if (last_built == g)
		last_built = NULL;
	tw_http_destroy(g->srv);
	if (g->pshm != NULL)
		tw_shm_destroy(g->pshm);
	if (g->ashm != NULL)
		tw_shm_destroy(g->ashm);
	tw_userfile_free(&g->users);
	scopes_free(g->scopes);
	tw_tls_context_destroy(g->tls);
	tw_sandbox_destroy(g->sandbox);
	free(g->extra_headers);
	tw_fs_destroy(g->fs);
	tw_config_free(&g->cfg);
	free(g);
}

/* Config errors during a reload go to the error log: stderr may be
 * /dev/null by then (daemon). */
static void
log_config_error(const char *msg)
{
	tw_log(TW_LOG_ERROR, 0, "%s", msg);
}

struct tw_setup *
tw_setup_parse(int argc, char **argv, int *status)
{
	struct tw_setup *g = calloc(1, sizeof(*g));
	int r;

	*status = 1;
	if (g == NULL || tw_config_init(&g->cfg) < 0) {
		report(-ENOMEM, "configuration");
		free(g);
		return NULL;
	}
	if (serving)
		tw_config_set_error_sink(log_config_error);
	r = tw_config_parse_args(&g->cfg, argc, argv, &g->cmd);
	tw_config_set_error_sink(NULL);
	if (r < 0) {
		*status = r == TW_CONFIG_EUSAGE ? 2 : 1;
		tw_setup_free(g);
		return NULL;
	}
	if (g->cfg.quiet && strcmp(g->cfg.access_log, "-") == 0)
		g->cfg.access_log = "off";
	if (g->cfg.mode == TW_MODE_THREADS &&
	    g->cfg.accept == TW_ACCEPT_MUTEX_FILE) {
		report(0, "accept mutex-file works between processes only; "
		       "use prefork or another accept");
		tw_setup_free(g);
		return NULL;
	}
	*status = 0;
	return g;
}

/* The failure counts every worker shares: made once per generation,
 * here in the master before any fork. */
static int
throttle_get(struct tw_setup *g)
{
	int err;

	if (g->throttle != NULL)
		return 0;
	g->ashm = tw_shm_create(sizeof(struct tw_shm_header) +
				tw_throttle_size() + 64, &err);
	if (g->ashm == NULL) {
		report(err, "auth_basic failure counts");
		return -1;
	}
	g->throttle = tw_throttle_init(tw_shm_data(g->ashm));
	/* The address hash's key: the same in every worker (made before
	 * the fork), unknown to clients. */
	if (getrandom(g->throttle_key, sizeof(g->throttle_key), 0) !=
	    (ssize_t)sizeof(g->throttle_key)) {
		report(-EIO, "getrandom");
		return -1;
	}
	return 0;
}

/*
 * The auth route's options of a level with allow/deny rules or
 * auth_basic in force (*on), its users parsed from the file's text read
 * with the configuration. 0, or -1 reported.
 */
static int
build_auth(struct tw_setup *g, const struct tw_config_auth *ca,
	   struct tw_auth_opts *ao, struct tw_userfile *users,
	   struct tw_auth_rule *rules, struct tw_stats *stats, bool *on)
{
	const char *why;
	unsigned line;
	int err;

	*on = ca->realm != NULL || ca->nrules > 0;
	if (!*on)
		return 0;
	memcpy(rules, ca->rules, ca->nrules * sizeof(*rules));
	*ao = (struct tw_auth_opts){ .rules = rules, .nrules = ca->nrules,
				     .stats = stats };
	if (ca->realm == NULL)
		return 0;
	err = tw_userfile_parse(users, ca->users, ca->users_len,
				  ca->file_id, &line, &why);
	if (err < 0) {
		report(err, "auth_basic_user_file %s", ca->file);
		return -1;
	}
	if (throttle_get(g) < 0)
		return -1;
	ao->realm = ca->realm;
	ao->users = users;
	ao->throttle = g->throttle;
	ao->key[0] = g->throttle_key[0];
	ao->key[1] = g->throttle_key[1];
	ao->fail_limit = TW_AUTH_FAIL_LIMIT;
	ao->fail_period = TW_AUTH_FAIL_PERIOD;
	return 0;
}

/* The handlers in the order they are asked: the health path (if on),
 * access control (allow/deny, auth_basic), the status page (if on), then
 * the files (documented). */
static size_t
add_routes(struct tw_setup *g, struct tw_stats *stats)
{
	const struct tw_config *cfg = &g->cfg;
	size_t nroutes = 0;

	/* The health path before access control: a load balancer's
	 * check carries no credentials. */
	if (cfg->health != NULL) {
		g->health.path = cfg->health;
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_ready_handler, .opts = &g->health };
	}
	if (g->auth_on)
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_auth_handler, .opts = &g->ao };
	if (cfg->status != NULL) {
		struct stat st;
		size_t i;

		g->sto = (struct tw_status_opts){ .path = cfg->status,
						  .stats = stats,
						  .version = VERSION,
						  .groups = g->groups,
						  .ngroups = g->ngroups,
						  .compress = &g->co };
		for (i = 0; i < cfg->nstatus_allow; i++)
			(void)tw_net_parse(cfg->status_allow[i],
						  &g->sto.allow[g->sto.nallow++]);
		/* Say so rather than hide a file silently. */
		if (tw_fs_stat(g->fs, cfg->status + 1, &st) == 0)
			tw_log(TW_LOG_WARN, 0, "status %s hides the file of "
			       "that name under the root", cfg->status);
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_status_handler, .opts = &g->sto };
	}
	if (cfg->redirect_https != 0) {
		g->ro.port = (uint16_t)cfg->redirect_https;
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_redirect_handler, .opts = &g->ro };
		/* Plain requests all redirect; TLS ones pass it by (it
		 * declines them) to the files. */
		if (!any_tls(cfg))
			return nroutes;
	}
	if (g->pg.nservers == 0 || cfg->proxy_dir) {
		g->so.decline_missing = g->pg.nservers > 0;
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_static_handler, .opts = &g->so };
	}
	if (g->pg.nservers > 0)
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_proxy_handler, .opts = &g->po };
	return nroutes;
}

/* One URL of `tinyweb proxy`: its address, resolved now (never on a
 * loop), an IPv4 one first where the name has both. */
static int
resolve_url(struct tw_setup *g, const char *url, struct tw_proxy_server *s,
	    const char **path)
{
	const char *host = url + 7, *end = host + strcspn(host, "/");
	const char *colon, *h = host, *hend;
	char name[256], port[8] = "80", label[300];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai, *pick = NULL;
	int rc;

	if (*host == '[') {
		h = host + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		colon = hend + 1 < end ? hend + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hend = colon != NULL ? colon : end;
	}
	if (colon != NULL)
		(void)snprintf(port, sizeof(port), "%.*s",
			       (int)(end - colon - 1), colon + 1);
	(void)snprintf(name, sizeof(name), "%.*s", (int)(hend - h), h);
	rc = getaddrinfo(name, port, &hints, &res);
	if (rc != 0) {
		report(0, "proxy %s: %s", url, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (pick == NULL || (ai->ai_family == AF_INET &&
				     pick->ai_family != AF_INET))
			pick = ai;
	memcpy(&s->addr, pick->ai_addr, pick->ai_addrlen);
	s->addrlen = pick->ai_addrlen;
	freeaddrinfo(res);
	(void)snprintf(label, sizeof(label), "%s%s%s:%s",
		       *host == '[' ? "[" : "", name,
		       *host == '[' ? "]" : "", port);
	s->conf = (struct tw_upstream_server_conf){
		.name = tw_opts_keep(&g->cfg, label, strlen(label)),
		.weight = 1,
		.max_fails = 1,
		.fail_timeout_ms = 10000,
	};
	if (*end == '/' && end[1] != '\0' && *path == NULL)
		*path = end;
	return s->conf.name != NULL ? 0 : -1;
}

/* `tinyweb proxy URL...`: one group of the URLs and the proxy_*
 * settings; and the counters of every group, its and the upstream
 * blocks', in shared memory made before any fork. */
static int
build_proxy(struct tw_setup *g)
{
	const struct tw_config *cfg = &g->cfg;
	const char *path = NULL;
	struct tw_upstream_shared *shared;
	struct tw_health_shared *health;
	size_t i, nshared = 0, nhealth = 0;
	int err;

	for (i = 0; i < cfg->nupstreams; i++) {
		const struct tw_proxy_group *pg = &cfg->upstreams[i]->group;

		nshared += pg->nservers;
		if (pg->check.interval_ms > 0)
			nhealth += pg->nservers;
	}
	if (nshared + cfg->nproxy_urls == 0)
		return 0;
	g->pshm = tw_shm_create((nshared + cfg->nproxy_urls) *
				sizeof(struct tw_upstream_shared) +
				nhealth * sizeof(struct tw_health_shared),
				&err);
	if (g->pshm == NULL) {
		report(err, "proxy: shared memory");
		return -1;
	}
	/* The health results after every group's counters: both are
	 * 8-byte aligned records. */
	shared = tw_shm_data(g->pshm);
	health = (struct tw_health_shared *)(void *)
		(shared + nshared + cfg->nproxy_urls);
	for (i = 0; i < cfg->nupstreams; i++) {
		struct tw_proxy_group *pg = &g->cfg.upstreams[i]->group;

		g->groups[g->ngroups++] = pg;
		pg->shared = shared;
		shared += pg->nservers;
		if (pg->check.interval_ms > 0) {
			pg->health = health;
			health += pg->nservers;
		}
	}
	if (cfg->nproxy_urls == 0)
		return 0;
	for (i = 0; i < cfg->nproxy_urls; i++)
		if (resolve_url(g, cfg->proxy_urls[i], &g->pg.servers[i],
				&path) < 0)
			return -1;
	g->pg.name = "proxy";
	g->pg.nservers = cfg->nproxy_urls;
	g->pg.balance = (enum tw_balance)cfg->balance;
	g->pg.hash_key = "$request_uri";
	g->pg.keepalive = (unsigned)cfg->proxy_keepalive;
	g->pg.shared = shared;
	g->groups[g->ngroups++] = &g->pg;
	tw_upstreams_proxy_opts(cfg, &g->pg, path, &g->po);
	return 0;
}

/* ---- server blocks ----------------------------------------------------- */

/* Whether srv is marked default_server: on the address l, or, when -p/-b
 * replaced its listen lines (l NULL), on any of them. */
static bool
is_default(const struct tw_config_server *srv, const struct tw_listen *l)
{
	size_t i;

	for (i = 0; i < srv->nlistens; i++)
		if (srv->listens[i].default_server &&
		    (l == NULL || (srv->listens[i].l.port == l->port &&
				   strcmp(srv->listens[i].l.addr,
					  l->addr) == 0)))
			return true;
	return false;
}

/* The index of l in sc->addrs, added if new; -1 if full. */
static int
addr_index(struct setup_scopes *sc, const struct tw_listen *l)
{
	size_t j;

	for (j = 0; j < sc->naddrs; j++)
		if (sc->addrs[j].port == l->port &&
		    strcmp(sc->addrs[j].addr, l->addr) == 0) {
			/* tls on one server's listen line makes the address
			 * TLS for every server there, as in nginx */
			sc->addrs[j].tls |= l->tls;
			return (int)j;
		}
	if (sc->naddrs == TW_CONFIG_MAX_LISTEN)
		return -1;
	sc->addrs[sc->naddrs] = *l;
	return (int)sc->naddrs++;
}

/*
 * Every server's addresses into sc->addrs, its bits into its listens,
 * and the default server of each address: the one marked default_server
 * there, else the first that listens there. A server without listen
 * lines, and every server when -p/-b gave the addresses, listens on the
 * top level's.
 */
static int
plan_listens(struct setup_scopes *sc, const struct tw_config *cfg)
{
	uint32_t marked = 0, seen = 0, all = 0;
	size_t si, i;

	for (si = 0; si < cfg->nservers; si++) {
		const struct tw_config_server *srv = cfg->servers[si];
		bool own = srv->nlistens > 0 && !cfg->listens_from_cli;
		size_t n = own ? srv->nlistens : cfg->nlistens;

		for (i = 0; i < n; i++) {
			const struct tw_listen *l = own ? &srv->listens[i].l :
						    &cfg->listens[i];
			bool dflt = is_default(srv, own ? l : NULL);
			int j = addr_index(sc, l);

			if (j < 0) {
				report(0, "%s: more than %d listen addresses "
				       "in all", srv->where,
				       TW_CONFIG_MAX_LISTEN);
				return -1;
			}
			sc->servers[si].listens |= 1u << j;
			if ((!(seen & (1u << j))) ||
			    (dflt && !(marked & (1u << j))))
				sc->listens[j].default_server = si;
			seen |= 1u << j;
			if (dflt)
				marked |= 1u << j;
		}
	}
	all = sc->naddrs == 32 ? UINT32_MAX : (1u << sc->naddrs) - 1;
	sc->vh.nlistens = sc->naddrs;
	sc->vh.listens = sc->listens;
	for (si = 0; si < cfg->nservers; si++)
		if (sc->servers[si].listens != all)
			sc->vh.by_listen = true;
	for (i = 1; i < sc->naddrs; i++)
		if (sc->listens[i].default_server !=
		    sc->listens[0].default_server)
			sc->vh.by_listen = true;
	return 0;
}

/* The root directory of a location (its alias or root), opened once
 * for every location that names it. */
static struct tw_fs *
scope_fs(struct tw_setup *g, struct setup_scopes *sc, const char *path)
{
	struct tw_fs_opts fso = { .root = path, .symlinks = g->cfg.symlinks };
	struct tw_fs *fs;
	size_t i;
	int err;

	if (strcmp(path, g->cfg.root) == 0)
		return g->fs;
	for (i = 0; i < sc->nfs; i++)
		if (strcmp(tw_fs_root_path(sc->fs[i]), path) == 0)
			return sc->fs[i];
	fs = tw_fs_create(&fso, &err);
	if (fs == NULL) {
		report(err, "root %s", path);
		return NULL;
	}
	/* Compared by the path given: tw_fs_root_path() may differ. */
	for (i = 0; i < sc->nfs; i++)
		if (strcmp(tw_fs_root_path(sc->fs[i]),
			   tw_fs_root_path(fs)) == 0) {
			tw_fs_destroy(fs);
			return sc->fs[i];
		}
	sc->fs[sc->nfs++] = fs;
	return fs;
}

static bool
same_static(const struct tw_static_opts *a, const struct tw_static_opts *b)
{
	size_t i;

	if (a->fs != b->fs || a->nindexes != b->nindexes ||
	    a->listing != b->listing || a->hidden != b->hidden ||
	    a->expires != b->expires || a->strip != b->strip ||
	    a->compress->on != b->compress->on ||
	    a->ntry != b->ntry || a->try_code != b->try_code ||
	    (a->try_uri == NULL) != (b->try_uri == NULL) ||
	    (a->try_uri != NULL && strcmp(a->try_uri, b->try_uri) != 0))
		return false;
	for (i = 0; i < a->ntry; i++)
		if (strcmp(a->try_files[i], b->try_files[i]) != 0)
			return false;
	for (i = 0; i < a->nindexes; i++)
		if (strcmp(a->indexes[i], b->indexes[i]) != 0)
			return false;
	return true;
}

/*
 * A location whose only handler is the files, with the options of an
 * earlier one's (one that differs in add_header alone, say), shares
 * that one's route: one instance per loop, with its open-file cache,
 * rather than two of the same.
 */
static bool
share_static(struct setup_scopes *sc, struct setup_loc *sl,
	     struct tw_vhost_loc *vl)
{
	size_t i;

	if (vl->first != sc->nroutes)
		return false;
	for (i = 0; i + 1 < sc->nlocs; i++)
		if (sc->locs[i].has_static &&
		    same_static(&sc->locs[i].so, &sl->so)) {
			vl->first = sc->locs[i].static_route;
			vl->n = 1;
			return true;
		}
	return false;
}

/* $host of a request that names none: the server's first exact name
 * (nginx's server name), or NULL. */
static const char *
first_name(const struct tw_config_server *srv)
{
	size_t i;

	for (i = 0; srv != NULL && i < srv->nnames; i++)
		if (srv->names[i][0] != '*' && srv->names[i][0] != '\0')
			return srv->names[i];
	return NULL;
}

/*
 * The handlers of one location (loc NULL: its server's paths that no
 * location takes), from the settings in force there: return, or
 * proxy_pass, or the files, with the status page before them if it is
 * on there.
 */
static int
build_location(struct tw_setup *g, struct setup_scopes *sc,
	       const struct tw_config_server *srv,
	       const struct tw_config_location *loc, struct tw_vhost_loc *vl,
	       struct tw_stats *stats, size_t open_files)
{
	const struct tw_config *cfg = &g->cfg;
	struct setup_loc *sl = &sc->locs[sc->nlocs++];
	struct tw_config_scope eff;
	bool auth_on;
	size_t i;

	tw_scope_effective(cfg, srv, loc, &eff);
	vl->path = loc ? loc->path : "/";
	vl->len = strlen(vl->path);
	vl->exact = loc ? loc->exact : false;
	vl->first = sc->nroutes;
	sl->headers = join_header_lines(eff.headers, eff.nheaders);
	if (sl->headers == NULL)
		return -1;
	vl->extra_headers = sl->headers;
	/* The node's health, the same in every server and location. */
	if (cfg->health != NULL) {
		g->health.path = cfg->health;
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_ready_handler, .opts = &g->health };
	}
	tw_pages_build(&eff.pages, &sl->pages, NULL);
	vl->scope = &sl->pages.scope;
	if (build_auth(g, &eff.auth, &sl->ao, &sl->users, sl->rules, stats,
		       &auth_on) < 0)
		return -1;
	if (auth_on)
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_auth_handler, .opts = &sl->ao };
	if (eff.status != NULL) {
		sl->sto = (struct tw_status_opts){ .path = eff.status,
						   .stats = stats,
						   .version = VERSION,
						   .groups = g->groups,
						   .ngroups = g->ngroups,
						   .compress = &g->co };
		for (i = 0; i < cfg->nstatus_allow; i++)
			(void)tw_net_parse(cfg->status_allow[i],
						  &sl->sto.allow[sl->sto.nallow++]);
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_status_handler, .opts = &sl->sto };
	}
	if (eff.set & TW_SCOPE_RETURN) {
		sl->ro = (struct tw_return_opts){ .code = eff.ret_code,
						  .arg = eff.ret_arg,
						  .default_host =
							first_name(srv) };
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_return_handler, .opts = &sl->ro };
	} else if (eff.set & TW_SCOPE_PROXY) {
		/* proxy_pass http://up/new/ in location /old/: /old/x goes
		 * up as /new/x, as in nginx; a prefix location's own. */
		sl->po = *eff.proxy;
		sl->po.prefix = sl->po.uri != NULL && loc != NULL &&
				!loc->exact ? loc->path : NULL;
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_proxy_handler, .opts = &sl->po };
	} else {
		struct tw_fs *fs = scope_fs(g, sc, eff.alias ? eff.alias :
					    eff.root);

		if (fs == NULL)
			return -1;
		sl->so = g->so;
		tw_pages_build(&eff.pages, &sl->pages, &sl->so);
		sl->so.fs = fs;
		sl->so.index = eff.nindex ? eff.index[0] : NULL;
		memcpy(sl->index, eff.index, sizeof(sl->index));
		sl->so.indexes = sl->index;
		sl->so.nindexes = eff.nindex;
		sl->so.listing = eff.listing;
		sl->so.hidden = eff.hidden;
		sl->so.expires = eff.expires;
		sl->co = g->co;
		sl->co.on = eff.compress;
		sl->so.compress = &sl->co;
		sl->so.open_files = open_files;
		/* the prefix without its '/': what follows stays a path */
		sl->so.strip = eff.alias && loc ? vl->len -
			(vl->len > 0 && vl->path[vl->len - 1] == '/') : 0;
		if (share_static(sc, sl, vl))
			return 0;
		sl->has_static = true;
		sl->static_route = sc->nroutes;
		sc->routes[sc->nroutes++] = (struct tw_http_route){
			.handler = &tw_static_handler, .opts = &sl->so };
	}
	vl->n = sc->nroutes - vl->first;
	return 0;
}

/* The location of srv that is "location /", if there is one. */
static const struct tw_vhost_loc *
root_location(const struct tw_vhost_server *vs)
{
	size_t i;

	for (i = 0; i < vs->nlocs; i++)
		if (!vs->locs[i].exact && vs->locs[i].len == 1)
			return &vs->locs[i];
	return NULL;
}

/*
 * Server blocks: the vhosts table and the routes of every location. The
 * open-file descriptors a loop may keep are shared among the locations'
 * file handlers.
 */
static int
build_scopes(struct tw_setup *g, struct tw_stats *stats)
{
	const struct tw_config *cfg = &g->cfg;
	struct setup_scopes *sc = calloc(1, sizeof(*sc));
	size_t si, j, total = 0, off = 0, open_files;

	if (sc == NULL)
		return -1;
	g->scopes = sc;
	for (si = 0; si < cfg->nservers; si++)
		total += cfg->servers[si]->nlocs + 1;
	sc->servers = calloc(cfg->nservers, sizeof(*sc->servers));
	sc->vlocs = calloc(total, sizeof(*sc->vlocs));
	sc->locs = calloc(total, sizeof(*sc->locs));
	/* A location's routes: health, auth, status, and one that answers. */
	sc->routes = calloc(4 * total, sizeof(*sc->routes));
	sc->fs = calloc(total, sizeof(*sc->fs));
	if (sc->servers == NULL || sc->vlocs == NULL || sc->locs == NULL ||
	    sc->routes == NULL || sc->fs == NULL) {
		report(-ENOMEM, "server blocks");
		return -1;
	}
	if (plan_listens(sc, cfg) < 0)
		return -1;
	/* The loop's share of descriptors, split among the locations so
	 * their caches together keep to it. */
	open_files = g->so.open_files / total;
	if (open_files < 4)
		open_files = 4;
	for (si = 0; si < cfg->nservers; si++) {
		const struct tw_config_server *srv = cfg->servers[si];
		struct tw_vhost_server *vs = &sc->servers[si];
		const struct tw_vhost_loc *root;

		vs->names = srv->names;
		vs->nnames = srv->nnames;
		vs->locs = &sc->vlocs[off];
		vs->nlocs = srv->nlocs;
		off += srv->nlocs;
		for (j = 0; j < srv->nlocs; j++)
			if (build_location(g, sc, srv, &srv->locs[j],
					   &vs->locs[j], stats, open_files) < 0)
				return -1;
		tw_vhost_sort(vs->locs, vs->nlocs);
		root = root_location(vs);
		if (root != NULL)
			vs->fallback = *root;
		else if (build_location(g, sc, srv, NULL, &vs->fallback, stats,
					open_files) < 0)
			return -1;
	}
	sc->vh.servers = sc->servers;
	sc->vh.nservers = cfg->nservers;
	g->ho.vhosts = &sc->vh;
	return 0;
}

/* The addresses really bound (a port 0 was picked), for matching a
 * connection's local address. */
static void
scopes_bound(struct tw_setup *g)
{
	struct setup_scopes *sc = g->scopes;
	size_t i;

	for (i = 0; i < g->nfds && i < sc->naddrs; i++) {
		struct tw_vhost_listen *l = &sc->listens[i];
		socklen_t len = sizeof(l->addr);

		if (getsockname(g->fds[i], (struct sockaddr *)&l->addr,
				&len) < 0)
			continue;
		l->any = tw_listener_is_every(g->fds[i]);
	}
}

/* ---- the sandbox ------------------------------------------------------- */

static void
add_port(uint16_t *ports, size_t *n, const struct sockaddr_storage *ss)
{
	uint16_t port;
	size_t i;

	if (ss->ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	else
		return;
	for (i = 0; i < *n; i++)
		if (ports[i] == port)
			return;
	ports[(*n)++] = port;
}

/*
 * What the loops may touch: every root and alias (as given, so that a
 * deploy's symlink is followed), the two logs, the upstream servers'
 * ports. The configuration and mime files are not among them: a reload
 * reads them outside the sandbox (the master, the threads mode's main
 * thread, the epoll mode's first thread).
 */
static int
build_sandbox(struct tw_setup *g)
{
	size_t nfs = g->scopes != NULL ? g->scopes->nfs : 0;
	const char **read;
	uint16_t ports[(TW_CONFIG_MAX_UPSTREAMS + 1) * TW_UPSTREAM_MAX_SERVERS];
	const char *logs[2] = { g->cfg.access_log, g->cfg.error_log };
	struct tw_sandbox_opts o = {
		.logs = logs,
		.nlogs = 2,
		.ports = ports,
	};
	const char *what;
	size_t i, j;
	int err;

	if (g->cfg.sandbox == TW_CONFIG_SANDBOX_OFF)
		return 0;
	read = calloc(nfs + 1, sizeof(*read));
	if (read == NULL) {
		report(-ENOMEM, "sandbox");
		return -1;
	}
	read[o.nread++] = tw_fs_watch_path(g->fs);
	for (i = 0; i < nfs; i++)
		read[o.nread++] = tw_fs_watch_path(g->scopes->fs[i]);
	o.read = read;
	for (i = 0; i < g->ngroups; i++)
		for (j = 0; j < g->groups[i]->nservers; j++)
			add_port(ports, &o.nports, &g->groups[i]->servers[j].addr);
	g->sandbox = tw_sandbox_create(&o, &what, &err);
	free(read);
	if (g->sandbox == NULL) {
		report(err, "sandbox: %s", what);
		return -1;
	}
	return 0;
}

int
tw_setup_build(struct tw_setup *g, struct tw_server *s)
{
	const struct tw_config *cfg = &g->cfg;
	struct tw_fs_opts fso = { .root = cfg->root, .symlinks = cfg->symlinks };
	int err;

	g->fs = tw_fs_create(&fso, &err);
	if (g->fs == NULL) {
		report(err, "root %s", cfg->root);
		return -1;
	}
	g->extra_headers = join_headers(cfg);
	if (g->extra_headers == NULL || build_proxy(g) < 0)
		return -1;
	g->co = cfg->compress;
	g->co.types = cfg->ncompress_types ? cfg->compress_types : NULL;
	g->co.ntypes = cfg->ncompress_types;
	g->so = (struct tw_static_opts){
		.fs = g->fs,
		.types = cfg->types,
		.index = cfg->index,
		.indexes = cfg->indexes,
		.nindexes = cfg->nindexes,
		.listing = cfg->listing,
		.hidden = cfg->hidden,
		.gzip_static = cfg->gzip_static,
		.compress = &g->co,
		.charset = cfg->charset,
		.expires = cfg->expires,
		.open_files = tw_fs_cache_fd_share(tw_worker_max_fds(),
						   loops_per_table(cfg)),
	};
	g->ho = (struct tw_http_opts){
		.keepalive_timeout_ms = cfg->keepalive_timeout_ms,
		.header_timeout_ms = cfg->header_timeout_ms,
		.send_timeout_ms = cfg->send_timeout_ms,
		.send_min_rate = cfg->send_min_rate,
		.max_keepalive_requests = (unsigned)cfg->max_keepalive_requests,
		.max_connections = connection_cap(cfg),
		.max_discard_body = cfg->max_request_body,
		.log_format = cfg->log_format,
		.extra_headers = cfg->nheaders ? g->extra_headers : NULL,
		.stats = s->stats,
		.scope = &g->pages.scope,
	};
	tw_pages_build(&cfg->pages, &g->pages, &g->so);
	if (cfg->nservers > 0) {
		if (build_scopes(g, s->stats) < 0)
			return -1;
		g->srv = tw_http_create(&g->ho, g->scopes->routes,
					g->scopes->nroutes);
	} else {
		if (build_auth(g, &cfg->auth, &g->ao, &g->users, g->rules,
			       s->stats, &g->auth_on) < 0)
			return -1;
		g->srv = tw_http_create(&g->ho, g->routes,
					add_routes(g, s->stats));
	}
	if (g->srv == NULL)
		return -1;
	g->proto = (struct tw_proto){
		.accept = tw_http_accept,
		.loop_init = tw_http_loop_init,
		.loop_exit = tw_http_loop_exit,
		.drain = tw_http_drain,
		.arg = g->srv,
	};
	if (open_listeners(s, g) < 0)
		return -1;
	if (g->scopes != NULL)
		scopes_bound(g);
	if (setup_tls(g) < 0 || build_sandbox(g) < 0)
		return -1;
	if (last_built != NULL)
		carry_over(last_built, g);
	else
		carry_in(g);
	last_built = g;
	return 0;
}

int
tw_setup_open_logs(const struct tw_setup *g)
{
	const struct tw_config *cfg = &g->cfg;
	int err = tw_log_open_error(cfg->error_log);

	if (err < 0) {
		fprintf(stderr, "tinyweb: error_log %s: %s\n", cfg->error_log,
			strerror(-err));
		return -1;
	}
	tw_log_set_level(cfg->log_level);
	err = tw_log_access_open(cfg->access_log);
	if (err < 0) {
		fprintf(stderr, "tinyweb: access_log %s: %s\n", cfg->access_log,
			strerror(-err));
		return -1;
	}
	return 0;
}

/* Epoll and threads reload: the new configuration is only checked here;
 * the process that replaces us builds it. */
static int
check(struct tw_server *s)
{
	int status;
	struct tw_setup *g = tw_setup_parse(s->argc, s->argv, &status);
	bool valid = g != NULL;

	/* Certificates and keys are read now: a renewal with a broken key
	 * is refused here, and the running server keeps its own. */
	if (valid && any_tls(&g->cfg) &&
	    (g->tls = tls_build(&g->cfg)) == NULL)
		valid = false;
	tw_setup_free(g);
	return valid ? 0 : -1;
}

/* Prefork reload: a new generation for new workers in this master. */
static int
build(struct tw_server *s, struct tw_run_opts *next)
{
	int status;
	struct tw_setup *g = tw_setup_parse(s->argc, s->argv, &status);

	if (g == NULL)
		return -1;
	if (tw_setup_build(g, s) < 0 || tw_setup_open_logs(g) < 0) {
		tw_setup_free(g);
		return -1;
	}
	*next = tw_setup_run_opts(g, s->stats);
	log_cap(g);
	return 0;
}

static void
release(struct tw_server *s, void *owner)
{
	(void)s;
	tw_setup_free(owner);
}

const struct tw_server_ops tw_setup_server_ops = {
	.check = check,
	.build = build,
	.free = release,
	.state = state_out,
};
