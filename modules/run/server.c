/* SPDX-License-Identifier: MIT */
/*
 * server: the process around the generations. Layer 4.
 */
#include "run/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/stats.h"
#include "net/listener.h"
#include "net/loop.h"
#include "run/daemon.h"
#include "run/mode.h"
#include "run/notify.h"
#include "run/upgrade.h"

void
tw_server_init(struct tw_server *s, int argc, char **argv,
	       const struct tw_server_ops *ops)
{
	sigset_t sigs;

	s->argc = argc;
	s->argv = argv;
	s->ops = ops;
	s->lifeline = -1;
	s->stats = NULL;
	s->privs.active = false;
	tw_keeper_init(&s->keeper);
	tw_pidfile_init(&s->pidfile);
	tw_sockets_init(&s->sockets);
	/* Signals wait in the kernel until the run mode's signalfd reads
	 * them: a HUP sent right after the startup line must not kill us
	 * with its default action. Workers and threads inherit the mask. */
	tw_loop_server_sigset(&sigs, true);
	(void)sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (getcwd(s->cwd, sizeof(s->cwd)) == NULL)
		s->cwd[0] = '\0';
	if (readlink("/proc/self/exe", s->self, sizeof(s->self) - 1) < 0)
		(void)snprintf(s->self, sizeof(s->self), "%s", argv[0]);
	s->ready = tw_upgrade_ready_fd();
	/* Both read variables meant for the process systemd started: now,
	 * before --daemon forks away from its pid. */
	tw_notify_init();
	(void)tw_sockets_activate(&s->sockets);
	tw_sockets_inherit(&s->sockets);
}

int
tw_server_check_passed(const struct tw_server *s, char *err, size_t len)
{
	const struct tw_sockets_passed *p = tw_sockets_unclaimed(&s->sockets);
	char where[128];

	if (s->sockets.passed_over > 0) {
		(void)snprintf(err, len, "%zu sockets passed by the service "
			       "manager (LISTEN_FDS) beyond the %d tinyweb "
			       "takes", s->sockets.passed_over, TW_SOCKETS_MAX);
		return -1;
	}
	if (p == NULL)
		return 0;
	tw_listener_url(p->fd, where, sizeof(where));
	(void)snprintf(err, len, "socket %d%s%s%s passed by the service "
		       "manager (LISTEN_FDS) is %s%s, which no listen line "
		       "names", p->fd, p->name[0] ? " '" : "", p->name,
		       p->name[0] ? "'" : "",
		       where[0] ? "bound to " : "not a TCP socket",
		       where[0] ? where : "");
	return -1;
}

int
tw_server_detach(struct tw_server *s)
{
	if (s->ready >= 0)
		return 0;
	return tw_daemon_start(&s->lifeline);
}

/* More descriptors than the default 1024 are needed for
 * max_connections; the hard limit is ours to take. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
tw_server_prepare(struct tw_server *s)
{
	int err;

	raise_fd_limit();
	s->stats = tw_stats_create(&err);
	if (s->stats == NULL)
		return err;
	atomic_store(&s->stats->start_time, (int64_t)time(NULL));
	return 0;
}

int
tw_server_in_start_dir(struct tw_server *s,
		       int (*fn)(struct tw_server *s, void *arg), void *arg)
{
	int r, back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (s->cwd[0] != '\0' && chdir(s->cwd) < 0)
		tw_log(TW_LOG_WARN, -errno, "chdir %s", s->cwd);
	r = fn(s, arg);
	if (back >= 0) {
		(void)!fchdir(back);
		(void)close(back);
	}
	return r;
}

/* What the service manager shows (systemctl status): the first address,
 * how many more, the mode and its workers. */
static void
status_line(const struct tw_server *s, char *buf, size_t len)
{
	const struct tw_run_opts *g = &s->cur;
	char url[128] = "";

	if (g->nfds > 0)
		tw_listener_url(g->fds[0], url, sizeof(url));
	if (g->nfds > 1)
		(void)snprintf(url + strlen(url), sizeof(url) - strlen(url),
			       " and %zu more", g->nfds - 1);
	(void)snprintf(buf, len, "serving %s (%s, %u worker%s)", url,
		       tw_mode_name(g->mode), g->workers,
		       g->workers == 1 ? "" : "s");
}

static void
notify_ready(const struct tw_server *s)
{
	char status[256];

	status_line(s, status, sizeof(status));
	tw_notify_ready(status);
}

/* The new process serves: it is the one the service manager watches. */
static void
notify_handover(pid_t pid, const char *why)
{
	char status[128];

	(void)snprintf(status, sizeof(status), "serving as pid %d (%s)",
		       (int)pid, why);
	tw_notify_handover(pid, status);
}

static int
state_fd(struct tw_server *s)
{
	return s->ops->state != NULL ? s->ops->state(s) : -1;
}

static pid_t
start_next(struct tw_server *s, int state, bool reload)
{
	struct tw_upgrade u = {
		.self = s->self,
		.argv = s->argv,
		.cwd = s->cwd,
		.sockets = &s->sockets,
		.pidfile = &s->pidfile,
		.state = state,
		.reload = reload,
	};

	return tw_upgrade_start(&u);
}

static int
check_step(struct tw_server *s, void *arg)
{
	(void)arg;
	return s->ops->check(s);
}

static int
check_config(struct tw_server *s)
{
	if (tw_server_in_start_dir(s, check_step, NULL) < 0) {
		tw_log(TW_LOG_ERROR, 0, "reload failed: the configuration is "
		       "invalid; still serving with the old one");
		return -1;
	}
	return 0;
}

/* The next process: started by the keeper where we gave up root, as
 * it must bind what we could not and read what only root may. Its pid,
 * or -1. */
static pid_t
replace(struct tw_server *s, bool reload)
{
	int state;
	pid_t r;

	if (s->keeper.pid > 0) {
		state = state_fd(s);
		r = tw_keeper_upgrade(&s->keeper, reload, state);
	} else {
		if (reload && check_config(s) < 0)
			return -1;
		state = state_fd(s);
		r = start_next(s, state, reload);
	}
	if (state >= 0)
		(void)close(state);
	return r;
}

static int
upgrade(void *arg)
{
	pid_t pid = replace(arg, false);

	if (pid < 0)
		return -1;
	notify_handover(pid, "upgraded");
	return 0;
}

/* Re-open the logs here, naming the file that failed and why. */
static int
reopen_here(void)
{
	const char *failed = NULL;
	int err = tw_log_reopen(&failed);

	if (err < 0)
		tw_log(TW_LOG_ERROR, err, "re-opening the log %s",
		       failed != NULL ? failed : "?");
	return err < 0 ? -1 : 0;
}

static int
reopen(void *arg)
{
	struct tw_server *s = arg;

	return s->keeper.pid > 0 ? tw_keeper_reopen(&s->keeper) :
	       reopen_here();
}

static int
child(void *arg)
{
	struct tw_server *s = arg;

	return tw_privs_drop(&s->privs);
}

static int
build_step(struct tw_server *s, void *next)
{
	return s->ops->build(s, next);
}

/* A reload that changed nothing ends the manager's reloading state
 * all the same. */
static void
notify_failed(void)
{
	tw_notify_ready("reload failed; serving with the old configuration");
}

/* Prefork: a new generation in this master. Epoll and threads hold one
 * configuration per process, so reloading means a fresh process on the
 * same sockets, this one then drains; the new configuration is checked
 * first so a bad file is reported here and changes nothing. */
static int
reload(void *arg, struct tw_run_opts *next)
{
	struct tw_server *s = arg;
	pid_t pid;

	tw_notify_reloading();
	if (next != NULL) {
		if (tw_server_in_start_dir(s, build_step, next) < 0) {
			notify_failed();
			return -1;
		}
		next->hooks = &s->hooks;
		s->cur = *next;
		return 0;	/* READY=1 once its workers run: reloaded() */
	}
	pid = replace(s, true);
	if (pid < 0) {
		notify_failed();
		return -1;
	}
	tw_log(TW_LOG_INFO, 0, "reloaded: the new configuration serves in "
	       "pid %d; this one drains", (int)pid);
	notify_handover(pid, "reloaded");
	return 0;
}

static void
reloaded(void *arg, bool ok)
{
	if (ok)
		notify_ready(arg);
	else
		notify_failed();
}

/* Reuseport siblings the generation's workers take (worker 0 takes the
 * socket itself). */
static unsigned
siblings_of(const struct tw_run_opts *g)
{
	return g->accept == TW_ACCEPT_REUSEPORT && g->workers > 1 ?
	       g->workers - 1 : 0;
}

static void
release(void *arg, const struct tw_run_opts *gen)
{
	struct tw_server *s = arg;

	if (gen->owner == s->cur.owner)
		return;		/* the caller frees the last one */
	s->ops->free(s, gen->owner);
	tw_sockets_keep(&s->sockets, s->cur.fds, s->cur.nfds,
			siblings_of(&s->cur));
}

static int
sibling(void *arg, int fd, unsigned k)
{
	struct tw_server *s = arg;

	return tw_sockets_sibling(&s->sockets, fd, k);
}

/* In the keeper: what it answers, as root. */
static void
keeper_enter(void *arg)
{
	struct tw_server *s = arg;

	/* Only the server tells a waiting parent how the start went. */
	if (s->lifeline >= 0)
		(void)close(s->lifeline);
	if (s->ready >= 0)
		(void)close(s->ready);
	s->lifeline = s->ready = -1;
}

static int
keeper_upgrade(void *arg, bool reload, int state)
{
	struct tw_server *s = arg;
	int r;

	if (s->sockets.nfds == 0 && s->sockets.nsib == 0) {
		tw_log(TW_LOG_ERROR, 0, "the server was replaced already");
		return -1;
	}
	if (reload && check_config(s) < 0)
		return -1;
	r = start_next(s, state, reload);
	/* The new process holds the sockets now; ours would only keep
	 * those the new configuration dropped listening with nobody
	 * accepting. */
	if (r > 0)
		tw_sockets_close(&s->sockets);
	return r;
}

static int
keeper_reopen(void *arg)
{
	(void)arg;
	return reopen_here();
}

static void
keeper_finish(void *arg, pid_t server)
{
	struct tw_server *s = arg;

	tw_pidfile_close_for(&s->pidfile, server);
}

static const struct tw_keeper_ops keeper_ops = {
	.enter = keeper_enter,
	.reopen = keeper_reopen,
	.upgrade = keeper_upgrade,
	.finish = keeper_finish,
};

/*
 * Prefork's master keeps root (its workers give it up, the child hook):
 * it reloads, re-opens and removes the pidfile itself. The epoll and
 * threads process serves clients, so it gives root up and leaves a
 * keeper with it; the pidfile is the keeper's from then on, as a
 * directory like /run is not ours to write any more.
 */
static int
give_up_root(struct tw_server *s)
{
	struct tw_keeper_ops ops = keeper_ops;
	int err;

	if (!s->privs.active || s->cur.mode == TW_MODE_PREFORK)
		return 0;
	ops.arg = s;
	err = tw_keeper_start(&s->keeper, &ops);
	if (err < 0) {
		tw_log(TW_LOG_ERROR, err, "starting the keeper process");
		return -1;
	}
	tw_pidfile_forget(&s->pidfile);
	err = tw_privs_drop(&s->privs);
	if (err < 0) {
		tw_log(TW_LOG_ERROR, err, "user %s", s->privs.user);
		return -1;
	}
	return 0;
}

int
tw_server_run(struct tw_server *s, const struct tw_run_opts *first)
{
	unsigned k;
	size_t i;
	int err;

	s->hooks = (struct tw_run_hooks){
		.reload = reload,
		.release = release,
		.upgrade = upgrade,
		.sibling = sibling,
		.reloaded = reloaded,
		.reopen = reopen,
		.child = child,
		.arg = s,
	};
	s->cur = *first;
	s->cur.hooks = &s->hooks;
	/* The old binary's reuseport siblings go to our workers (the run
	 * mode asks for them by the same ranks); then the sockets the old
	 * binary had but this configuration has not are closed. */
	for (i = 0; i < s->cur.nfds; i++)
		for (k = 1; k <= siblings_of(&s->cur); k++)
			(void)tw_sockets_sibling(&s->sockets, s->cur.fds[i], k);
	tw_sockets_drop_inherited(&s->sockets);
	if (give_up_root(s) < 0)
		return -1;
	/* Before the daemon's parent exits: the manager learns the new
	 * MAINPID while the pid it started is still there. A process an
	 * old server started leaves READY=1 to it (see notify.h). */
	if (s->ready < 0)
		notify_ready(s);
	if (s->ready >= 0) {
		tw_daemon_notify(s->ready, 0);
		s->ready = -1;
	}
	if (s->lifeline >= 0) {
		tw_daemon_ready(s->lifeline);
		s->lifeline = -1;
	}
	err = tw_run(&s->cur);
	if (err < 0)
		tw_log(TW_LOG_ERROR, err, "the server failed");
	return err < 0 ? -1 : 0;
}

void
tw_server_finish(struct tw_server *s, int status)
{
	if (s->lifeline >= 0)
		tw_daemon_failed(s->lifeline, status);
	tw_keeper_stop(&s->keeper);
	tw_pidfile_close(&s->pidfile);
	tw_sockets_close(&s->sockets);
	tw_stats_destroy(s->stats);
}
