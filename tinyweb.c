/* SPDX-License-Identifier: MIT */
/*
 * tinyweb: command line -> configuration -> listeners -> run mode. Builds
 * each configuration "generation" (root, types, handler and protocol
 * options) and hands the run layer an opaque tw_proto; also the control
 * commands (stop, quit, reload, reopen) and the binary upgrade. No request
 * logic lives here.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/stats.h"
#include "front/config.h"
#include "http/http.h"
#include "http/static.h"
#include "http/status.h"
#include "net/listener.h"
#include "net/loop.h"
#include "parse/fs.h"
#include "run/daemon.h"
#include "run/master.h"
#include "run/single.h"
#include "run/threads.h"
#include "run/worker.h"

#ifndef VERSION
#define VERSION "0.1.0"
#endif

#define BACKLOG		4096
#define READY_WAIT_MS	15000	/* an upgraded binary must be up by then */
#define ENV_FDS		"TINYWEB_LISTEN_FDS"
#define ENV_READY	"TINYWEB_READY_FD"

/* One configuration and everything built from it. */
struct gen {
	struct tw_config cfg;
	enum tw_config_cmd cmd;		/* what the command line asked */
	struct tw_fs *fs;
	char *extra_headers;
	struct tw_static_opts so;
	struct tw_status_opts sto;
	struct tw_http_opts ho;
	struct tw_http_route routes[2];
	struct tw_http_server *srv;
	struct tw_proto proto;
	int fds[TW_CONFIG_MAX_LISTEN];	/* borrowed from the server's set */
	size_t nfds;
};

/* The process: listening sockets outlive generations. */
struct server {
	int argc;
	char **argv;
	char self[PATH_MAX];		/* this binary, for upgrades */
	char cwd[PATH_MAX];		/* where we started: relative paths in
					 * argv mean this after chdir("/") */
	int fds[TW_CONFIG_MAX_LISTEN * 4];
	size_t nfds;
	int inherited[TW_CONFIG_MAX_LISTEN * 4];
	size_t ninherited;
	int pidfd;
	char pidpath[PATH_MAX + 8];	/* + ".oldbin" after an upgrade */
	int lifeline;			/* daemon: write end, or -1 */
	struct tw_stats *stats;		/* shared by every generation */
	struct gen *cur;
};

static struct server srv_state;
static bool serving;	/* past start-up: errors go to the error log */

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

/* More descriptors than the default 1024 are needed for
 * --max-connections; the hard limit is ours to take. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Sockets handed over by the binary we replace (upgrade, reload). */
static void
take_inherited(struct server *s)
{
	const char *v = getenv(ENV_FDS);
	char *end;

	if (v == NULL)
		return;
	while (*v && s->ninherited < sizeof(s->inherited) / sizeof(int)) {
		long fd = strtol(v, &end, 10);

		if (end == v)
			break;
		if (fd > STDERR_FILENO && fcntl((int)fd, F_GETFD) >= 0) {
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
			s->inherited[s->ninherited++] = (int)fd;
		}
		v = *end == ',' ? end + 1 : end;
	}
	(void)unsetenv(ENV_FDS);
}

/* A listening socket for l: one we already hold, one inherited, or a new
 * one. Returns the descriptor or -1 (reported). */
static int
listener_for(struct server *s, const struct tw_listen *l, uint16_t port,
	     bool reuseport)
{
	size_t i;
	int fd;

	for (i = 0; i < s->nfds; i++)
		if (tw_listener_same_addr(s->fds[i], l->addr, port))
			return s->fds[i];
	for (i = 0; i < s->ninherited; i++) {
		if (s->inherited[i] >= 0 &&
		    tw_listener_same_addr(s->inherited[i], l->addr, port)) {
			fd = s->inherited[i];
			s->inherited[i] = -1;
			goto keep;
		}
	}
	fd = tw_listener_bind(l->addr, port, BACKLOG, reuseport);
	if (fd < 0) {
		report(fd, "cannot listen on %s port %u", l->addr, port);
		return -1;
	}
keep:
	if (s->nfds == sizeof(s->fds) / sizeof(s->fds[0])) {
		(void)close(fd);
		return -1;
	}
	s->fds[s->nfds++] = fd;
	return fd;
}

static int
open_listeners(struct server *s, struct gen *g)
{
	const struct tw_config *cfg = &g->cfg;
	uint16_t picked = 0;
	size_t i;

	for (i = 0; i < cfg->nlistens; i++) {
		const struct tw_listen *l = &cfg->listens[i];
		/* With port 0 every address shares the port the first got. */
		uint16_t port = l->port == 0 ? picked : l->port;
		int fd = listener_for(s, l, port,
				      cfg->accept == TW_ACCEPT_REUSEPORT);

		if (fd < 0)
			return -1;
		if (l->port == 0 && picked == 0)
			picked = tw_listener_port(fd);
		g->fds[g->nfds++] = fd;
	}
	return 0;
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

static void
print_startup(const struct gen *g)
{
	static const char *const modes[] = { "epoll", "prefork", "threads" };
	unsigned n = worker_count(&g->cfg);
	char url[128];
	size_t i;

	fprintf(stderr, "tinyweb: serving %s on ", tw_fs_root_path(g->fs));
	for (i = 0; i < g->nfds; i++)
		fprintf(stderr, "%s%s", i ? ", " : "",
			tw_listener_url(g->fds[i], url, sizeof(url)));
	fprintf(stderr, " (%s, %u worker%s)\n", modes[g->cfg.mode], n,
		n == 1 ? "" : "s");
}

/* user USER[:GROUP]: give up root once the ports are bound. */
static int
drop_privileges(const struct tw_config *cfg)
{
	struct passwd *pw;
	gid_t gid;

	if (cfg->user == NULL)
		return 0;
	if (geteuid() != 0) {
		tw_log(TW_LOG_WARN, 0, "user %s: ignored, not running as root",
		       cfg->user);
		return 0;
	}
	pw = getpwnam(cfg->user);
	if (pw == NULL) {
		fprintf(stderr, "tinyweb: user %s: no such user\n", cfg->user);
		return -1;
	}
	gid = pw->pw_gid;
	if (cfg->group != NULL) {
		struct group *gr = getgrnam(cfg->group);

		if (gr == NULL) {
			fprintf(stderr, "tinyweb: group %s: no such group\n",
				cfg->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "tinyweb: user %s: %s\n", cfg->user,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* add_header lines as one block of "Name: value\r\n" for http. */
static char *
join_headers(const struct tw_config *cfg)
{
	size_t i, len = 1;
	char *out, *p;

	for (i = 0; i < cfg->nheaders; i++)
		len += strlen(cfg->headers[i].name) +
		       strlen(cfg->headers[i].value) + 4;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	p = out;
	*p = '\0';
	for (i = 0; i < cfg->nheaders; i++)
		p += sprintf(p, "%s: %s\r\n", cfg->headers[i].name,
			     cfg->headers[i].value);
	return out;
}

static void
gen_free(struct gen *g)
{
	if (g == NULL)
		return;
	tw_http_destroy(g->srv);
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

/*
 * Run fn in the directory we started in: the command line's relative
 * paths (-c tw.conf, a relative root) keep their meaning after the
 * daemon's chdir("/").
 */
static int
with_start_dir(struct server *s, int (*fn)(struct server *s, struct gen *g),
	       struct gen *g)
{
	int r, back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (s->cwd[0] != '\0' && chdir(s->cwd) < 0)
		tw_log(TW_LOG_WARN, -errno, "chdir %s", s->cwd);
	r = fn(s, g);
	if (back >= 0) {
		(void)!fchdir(back);
		(void)close(back);
	}
	return r;
}

static int
parse_step(struct server *s, struct gen *g)
{
	return tw_config_parse_args(&g->cfg, s->argc, s->argv, &g->cmd);
}

/*
 * Parse the command line (and the file it names) into a new generation:
 * at start-up, or again for a reload (then in the start directory, with
 * errors to the error log). *status is the exit status on failure (2
 * usage, 1 file). Returns NULL on failure (reported).
 */
static struct gen *
gen_parse(struct server *s, int *status)
{
	struct gen *g = calloc(1, sizeof(*g));
	int r;

	*status = 1;
	if (g == NULL || tw_config_init(&g->cfg) < 0) {
		report(-ENOMEM, "configuration");
		free(g);
		return NULL;
	}
	if (serving) {
		tw_config_set_error_sink(log_config_error);
		r = with_start_dir(s, parse_step, g);
		tw_config_set_error_sink(NULL);
	} else {
		r = parse_step(s, g);
	}
	if (r < 0) {
		*status = r == TW_CONFIG_EUSAGE ? 2 : 1;
		gen_free(g);
		return NULL;
	}
	if (g->cfg.quiet && strcmp(g->cfg.access_log, "-") == 0)
		g->cfg.access_log = "off";
	if (g->cfg.mode == TW_MODE_THREADS &&
	    g->cfg.accept == TW_ACCEPT_MUTEX_FILE) {
		report(0, "accept mutex-file works between processes only; "
		       "use prefork or another accept");
		gen_free(g);
		return NULL;
	}
	*status = 0;
	return g;
}

/* Build what serving needs from g's configuration. */
static int
gen_build(struct server *s, struct gen *g)
{
	const struct tw_config *cfg = &g->cfg;
	struct tw_fs_opts fso = { .root = cfg->root, .symlinks = cfg->symlinks };
	size_t nroutes;
	int err;

	g->fs = tw_fs_create(&fso, &err);
	if (g->fs == NULL) {
		report(err, "root %s", cfg->root);
		return -1;
	}
	g->extra_headers = join_headers(cfg);
	if (g->extra_headers == NULL)
		return -1;
	g->so = (struct tw_static_opts){
		.fs = g->fs,
		.types = cfg->types,
		.index = cfg->index,
		.listing = cfg->listing,
		.hidden = cfg->hidden,
		.gzip_static = cfg->gzip_static,
		.charset = cfg->charset,
		.expires = cfg->expires,
	};
	g->ho = (struct tw_http_opts){
		.keepalive_timeout_ms = cfg->keepalive_timeout_ms,
		.header_timeout_ms = cfg->header_timeout_ms,
		.send_timeout_ms = cfg->send_timeout_ms,
		.max_keepalive_requests = (unsigned)cfg->max_keepalive_requests,
		.max_connections = cfg->max_connections,
		.max_discard_body = cfg->max_request_body,
		.log_format = cfg->log_format,
		.extra_headers = cfg->nheaders ? g->extra_headers : NULL,
		.stats = s->stats,
	};
	nroutes = 0;
	if (cfg->status != NULL) {
		struct stat st;
		size_t i;

		g->sto = (struct tw_status_opts){ .path = cfg->status,
						  .stats = s->stats,
						  .version = VERSION };
		for (i = 0; i < cfg->nstatus_allow; i++)
			(void)tw_status_parse_net(cfg->status_allow[i],
						  &g->sto.allow[g->sto.nallow++]);
		/* The page comes first (documented); say so rather than
		 * hide a file silently. */
		if (tw_fs_stat(g->fs, cfg->status + 1, &st) == 0)
			tw_log(TW_LOG_WARN, 0, "status %s hides the file of "
			       "that name under the root", cfg->status);
		g->routes[nroutes++] = (struct tw_http_route){
			.handler = &tw_status_handler, .opts = &g->sto };
	}
	g->routes[nroutes++] = (struct tw_http_route){
		.handler = &tw_static_handler, .opts = &g->so };
	g->srv = tw_http_create(&g->ho, g->routes, nroutes);
	if (g->srv == NULL)
		return -1;
	g->proto = (struct tw_proto){
		.accept = tw_http_accept,
		.loop_init = tw_http_loop_init,
		.loop_exit = tw_http_loop_exit,
		.drain = tw_http_drain,
		.arg = g->srv,
	};
	return open_listeners(s, g);
}

static int
open_logs(const struct tw_config *cfg)
{
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

static int
open_pidfile(struct server *s, const char *path)
{
	pid_t holder;
	int fd;

	if (path == NULL)
		return 0;
	/* Kept absolute: the daemon's chdir("/") must not lose it. */
	if (path[0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    snprintf(s->pidpath, sizeof(s->pidpath), "%s/%s", cwd,
			     path) >= (int)sizeof(s->pidpath)) {
			fprintf(stderr, "tinyweb: pidfile %s: path too long\n",
				path);
			return -1;
		}
	} else {
		(void)snprintf(s->pidpath, sizeof(s->pidpath), "%s", path);
	}
	fd = tw_daemon_pidfile_create(s->pidpath, &holder);
	if (fd == -EEXIST) {
		fprintf(stderr, "tinyweb: pidfile %s: already running as "
			"pid %d\n", path, (int)holder);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "tinyweb: pidfile %s: %s\n", path,
			strerror(-fd));
		return -1;
	}
	s->pidfd = fd;
	return 0;
}

/*
 * Start this binary again (it may have been replaced on disk) with our
 * listening sockets, and wait until it serves. The pidfile moves aside to
 * FILE.oldbin so the new process can take FILE. Returns 0 once the new
 * process is ready, -1 if it failed (we keep serving as before).
 */
static int
start_new_binary(struct server *s)
{
	char fdlist[TW_CONFIG_MAX_LISTEN * 4 * 12] = "", num[16];
	char old[sizeof(s->pidpath)];
	int p[2], st;
	size_t i;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		tw_log(TW_LOG_ERROR, -errno, "upgrade: pipe");
		return -1;
	}
	for (i = 0; i < s->nfds; i++) {
		(void)snprintf(num, sizeof(num), "%s%d", i ? "," : "", s->fds[i]);
		strcat(fdlist, num);
	}
	if (s->pidfd >= 0 && strlen(s->pidpath) + 8 <= sizeof(old)) {
		memcpy(old, s->pidpath, strlen(s->pidpath));
		memcpy(old + strlen(s->pidpath), ".oldbin", 8);
		if (rename(s->pidpath, old) == 0)
			memcpy(s->pidpath, old, strlen(old) + 1);
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		for (i = 0; i < s->nfds; i++)
			(void)fcntl(s->fds[i], F_SETFD, 0);
		(void)fcntl(p[1], F_SETFD, 0);
		(void)snprintf(num, sizeof(num), "%d", p[1]);
		(void)setenv(ENV_FDS, fdlist, 1);
		(void)setenv(ENV_READY, num, 1);
		/* The signal mask survives exec; the new binary starts with
		 * a clean one. */
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (s->cwd[0] != '\0')
			(void)!chdir(s->cwd);
		execv(s->self, s->argv);
		_exit(127);
	}
	(void)close(p[1]);
	if (pid < 0) {
		(void)close(p[0]);
		tw_log(TW_LOG_ERROR, -errno, "upgrade: fork");
		st = 1;
	} else {
		st = tw_daemon_wait(p[0], READY_WAIT_MS);
	}
	if (st != 0) {
		tw_log(TW_LOG_ERROR, 0, "the new binary did not start "
		       "(status %d); still serving", st);
		if (pid > 0) {
			(void)kill(pid, SIGTERM);
			(void)waitpid(pid, NULL, 0);	/* no zombie left */
		}
		if (s->pidfd >= 0) {
			size_t n = strlen(s->pidpath);

			if (n > 7 && strcmp(s->pidpath + n - 7, ".oldbin") == 0) {
				memcpy(old, s->pidpath, n - 7);
				old[n - 7] = '\0';
				if (rename(s->pidpath, old) == 0)
					memcpy(s->pidpath, old, n - 6);
			}
		}
		return -1;
	}
	tw_log(TW_LOG_INFO, 0, "new binary started as pid %d", (int)pid);
	return 0;
}

static int
hook_upgrade(void *arg)
{
	return start_new_binary(arg);
}

/* HUP in epoll and threads modes: a process holds one configuration, so
 * reloading means a fresh process on the same sockets; this one then
 * drains. The new configuration is checked first so a bad file is
 * reported here and changes nothing. */
static int
hook_reload(void *arg)
{
	struct server *s = arg;
	struct gen *g;
	int status;

	g = gen_parse(s, &status);
	if (g == NULL) {
		tw_log(TW_LOG_ERROR, 0, "reload failed: the configuration is "
		       "invalid; still serving with the old one");
		return -1;
	}
	gen_free(g);
	return start_new_binary(s);
}

static int
build_with_logs(struct server *s, struct gen *g)
{
	return gen_build(s, g) < 0 || open_logs(&g->cfg) < 0 ? -1 : 0;
}

/* Prefork reload: a new generation for new workers in this master. */
static int
master_reload(void *arg, struct tw_master_gen *out)
{
	struct server *s = arg;
	struct gen *g;
	int status;

	g = gen_parse(s, &status);
	if (g == NULL || with_start_dir(s, build_with_logs, g) < 0) {
		gen_free(g);
		return -1;
	}
	*out = (struct tw_master_gen){
		.proto = g->proto,
		.fds = g->fds,
		.nfds = g->nfds,
		.workers = worker_count(&g->cfg),
		.accept = (enum tw_accept_strategy)g->cfg.accept,
		.stats = s->stats,
		.conn = conn_opts(&g->cfg),
		.owner = g,
	};
	s->cur = g;
	return 0;
}

static void
master_release(void *arg, struct tw_master_gen *mg)
{
	struct server *s = arg;
	struct gen *g = mg->owner;

	size_t i, j, k = 0;

	if (g == s->cur)
		return;		/* main() frees the last one */
	gen_free(g);
	/* A socket the current configuration no longer listens on would
	 * queue connections nobody accepts: close it with its last user. */
	for (i = 0; i < s->nfds; i++) {
		bool used = false;

		for (j = 0; j < s->cur->nfds; j++)
			used |= s->cur->fds[j] == s->fds[i];
		if (used)
			s->fds[k++] = s->fds[i];
		else
			(void)close(s->fds[i]);
	}
	s->nfds = k;
}

static int
run(struct server *s, struct gen *g)
{
	const struct tw_config *cfg = &g->cfg;
	struct tw_worker_hooks hooks = {
		.reload = hook_reload, .upgrade = hook_upgrade, .arg = s,
	};
	int err;

	switch (cfg->mode) {
	case TW_MODE_PREFORK: {
		struct tw_master_gen mg = {
			.proto = g->proto, .fds = g->fds, .nfds = g->nfds,
			.workers = worker_count(cfg),
			.accept = (enum tw_accept_strategy)cfg->accept,
			.stats = s->stats,
			.conn = conn_opts(cfg),
			.owner = g,
		};
		struct tw_master_ops ops = {
			.reload = master_reload, .release = master_release,
			.upgrade = hook_upgrade, .arg = s,
		};

		err = tw_master_run(&mg, &ops);
		break;
	}
	case TW_MODE_THREADS: {
		struct tw_threads_opts to = {
			.proto = &g->proto, .fds = g->fds, .nfds = g->nfds,
			.workers = worker_count(cfg),
			.accept = (enum tw_accept_strategy)cfg->accept,
			.hooks = &hooks,
			.stats = s->stats,
			.conn = conn_opts(cfg),
		};

		err = tw_threads_run(&to);
		break;
	}
	default: {
		struct tw_conn_opts conn = conn_opts(cfg);

		err = tw_single_run(&g->proto, g->fds, g->nfds, &hooks,
				    s->stats, &conn);
		break;
	}
	}
	if (err < 0)
		tw_log(TW_LOG_ERROR, err, "the server failed");
	return err < 0 ? -1 : 0;
}

/* tinyweb stop|quit|reload|reopen [--pidfile FILE | -c CONF] */
static int
control(int argc, char **argv)
{
	static const struct {
		const char *cmd;
		int sig;
	} cmds[] = {
		{ "stop", SIGTERM }, { "quit", SIGQUIT },
		{ "reload", SIGHUP }, { "reopen", SIGUSR1 },
	};
	const char *pidfile = NULL;
	struct tw_config cfg;
	int i, sig = 0, status;
	pid_t pid;

	for (i = 0; i < 4; i++)
		if (strcmp(argv[1], cmds[i].cmd) == 0)
			sig = cmds[i].sig;
	if (tw_config_init(&cfg) < 0)
		return 1;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc) {
			pidfile = argv[++i];
		} else if (strncmp(argv[i], "--pidfile=", 10) == 0) {
			pidfile = argv[i] + 10;
		} else if ((strcmp(argv[i], "-c") == 0 ||
			    strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			char err[PATH_MAX + 256];

			if (tw_config_load_file(&cfg, argv[++i], err,
						sizeof(err)) < 0) {
				fprintf(stderr, "tinyweb: %s\n", err);
				tw_config_free(&cfg);
				return 1;
			}
			if (pidfile == NULL)
				pidfile = cfg.pidfile;
		} else {
			fprintf(stderr, "tinyweb: %s: unexpected argument '%s' "
				"(use --pidfile FILE or -c FILE)\n", argv[1],
				argv[i]);
			tw_config_free(&cfg);
			return 2;
		}
	}
	if (pidfile == NULL) {
		fprintf(stderr, "tinyweb: %s: which server? give --pidfile "
			"FILE or -c FILE with a pidfile directive\n", argv[1]);
		tw_config_free(&cfg);
		return 2;
	}
	pid = tw_daemon_pidfile_read(pidfile);
	status = 1;
	if (pid == -ESRCH)
		fprintf(stderr, "tinyweb: pidfile %s is stale: no tinyweb "
			"holds it\n", pidfile);
	else if (pid < 0)
		fprintf(stderr, "tinyweb: pidfile %s: %s\n", pidfile,
			strerror(-pid));
	else if (kill(pid, sig) < 0)
		fprintf(stderr, "tinyweb: cannot signal pid %d: %s\n", (int)pid,
			strerror(errno));
	else
		status = 0;
	tw_config_free(&cfg);
	return status;
}

static bool
is_control(const char *cmd)
{
	return strcmp(cmd, "stop") == 0 || strcmp(cmd, "quit") == 0 ||
	       strcmp(cmd, "reload") == 0 || strcmp(cmd, "reopen") == 0;
}

int
main(int argc, char **argv)
{
	struct server *s = &srv_state;
	struct gen *g;
	const char *ready;
	sigset_t sigs;
	int status = 1, err;
	size_t i;

	if (argc > 1 && is_control(argv[1]))
		return control(argc, argv);
	s->argc = argc;
	s->argv = argv;
	s->pidfd = -1;
	s->lifeline = -1;
	/* sendfile() to a socket the peer closed raises SIGPIPE; the error
	 * return is what we want instead. */
	(void)signal(SIGPIPE, SIG_IGN);
	g = gen_parse(s, &status);
	if (g == NULL)
		return status;
	if (g->cmd == TW_CMD_HELP || g->cmd == TW_CMD_VERSION) {
		if (g->cmd == TW_CMD_HELP)
			tw_config_usage(stdout);
		else
			printf("tinyweb %s\n", VERSION);
		gen_free(g);
		return 0;
	}
	if (g->cmd == TW_CMD_CHECK) {
		struct tw_fs_opts fso = { .root = g->cfg.root,
					  .symlinks = g->cfg.symlinks };

		status = 1;
		/* Validate what can be checked without binding. */
		g->fs = tw_fs_create(&fso, &err);
		if (g->fs == NULL) {
			fprintf(stderr, "tinyweb: root %s: %s\n", g->cfg.root,
				strerror(-err));
		} else {
			tw_config_print(&g->cfg, stdout);
			status = 0;
		}
		gen_free(g);
		return status;
	}
	/* Signals wait in the kernel until the run mode's signalfd reads
	 * them: a HUP sent right after the startup line must not kill us
	 * with its default action. Workers and threads inherit the mask. */
	tw_loop_server_sigset(&sigs, true);
	(void)sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (getcwd(s->cwd, sizeof(s->cwd)) == NULL)
		s->cwd[0] = '\0';
	if (readlink("/proc/self/exe", s->self, sizeof(s->self) - 1) < 0)
		(void)snprintf(s->self, sizeof(s->self), "%s", argv[0]);
	ready = getenv(ENV_READY);
	take_inherited(s);
	status = 1;
	/* An upgraded binary is already detached: its parent is the old
	 * server, which waits on the ready pipe instead. */
	if (g->cfg.daemon && ready == NULL &&
	    tw_daemon_start(&s->lifeline) < 0) {
		fprintf(stderr, "tinyweb: cannot detach: %s\n", strerror(errno));
		goto out;
	}
	raise_fd_limit();
	s->stats = tw_stats_create(&err);
	if (s->stats == NULL) {
		fprintf(stderr, "tinyweb: shared memory: %s\n", strerror(-err));
		goto out;
	}
	atomic_store(&s->stats->start_time, (int64_t)time(NULL));
	if (open_logs(&g->cfg) < 0 || open_pidfile(s, g->cfg.pidfile) < 0 ||
	    gen_build(s, g) < 0 || drop_privileges(&g->cfg) < 0)
		goto out;
	/* Sockets the old binary had but this configuration has not. */
	for (i = 0; i < s->ninherited; i++)
		if (s->inherited[i] >= 0)
			(void)close(s->inherited[i]);
	s->cur = g;
	print_startup(g);
	serving = true;
	if (ready != NULL) {
		(void)unsetenv(ENV_READY);
		tw_daemon_notify(atoi(ready), 0);
	}
	if (s->lifeline >= 0) {
		tw_daemon_ready(s->lifeline);
		s->lifeline = -1;
	}
	if (run(s, s->cur) == 0)
		status = 0;
	g = s->cur;
out:
	if (s->lifeline >= 0)
		tw_daemon_failed(s->lifeline, status);
	tw_daemon_pidfile_remove(s->pidpath, s->pidfd);
	for (i = 0; i < s->nfds; i++)
		(void)close(s->fds[i]);
	gen_free(g);
	tw_stats_destroy(s->stats);
	(void)tw_log_access_open("off");
	return status;
}
