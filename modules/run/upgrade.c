/* SPDX-License-Identifier: MIT */
/*
 * upgrade: exec the new binary on our sockets. Layer 4.
 */
#include "run/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "run/daemon.h"
#include "run/pidfile.h"
#include "run/sockets.h"

#define READY_WAIT_MS	15000	/* an upgraded binary must be up by then */

extern char **environ;

/*
 * Our environment without the two variables we hand over, then them:
 * a fresh array, as posix_spawn takes the child's environment whole.
 * NULL if out of memory.
 */
static char **
child_env(char *fdlist_var, char *ready_var, char *state_var)
{
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 4, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], TW_SOCKETS_ENV "=",
			    sizeof(TW_SOCKETS_ENV)) != 0 &&
		    strncmp(environ[i], TW_UPGRADE_ENV_READY "=",
			    sizeof(TW_UPGRADE_ENV_READY)) != 0 &&
		    strncmp(environ[i], TW_UPGRADE_ENV_STATE "=",
			    sizeof(TW_UPGRADE_ENV_STATE)) != 0)
			env[k++] = environ[i];
	env[k++] = fdlist_var;
	env[k++] = ready_var;
	if (state_var != NULL)
		env[k++] = state_var;
	env[k] = NULL;
	return env;
}

/*
 * Start the new binary with posix_spawn: glibc clones without copying
 * our page tables (CLONE_VM | CLONE_VFORK), so the time to the new
 * process does not grow with the server's heap, as fork's does. Each
 * handed descriptor is dup2()ed onto itself, which clears its
 * close-on-exec flag in the child only; the child starts with an empty
 * signal mask (ours blocks the server's signals). Returns the pid or
 * -errno.
 */
static pid_t
spawn_new(const struct tw_upgrade *u, const char *fdlist, int ready)
{
	const struct tw_sockets *s = u->sockets;
	char fdvar[sizeof(TW_SOCKETS_ENV) + TW_SOCKETS_INHERIT_MAX * 12];
	char readyvar[sizeof(TW_UPGRADE_ENV_READY) + 16];
	char statevar[sizeof(TW_UPGRADE_ENV_STATE) + 16];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	char **env;
	pid_t pid = -1;
	size_t i;
	int err;

	(void)snprintf(fdvar, sizeof(fdvar), "%s=%s", TW_SOCKETS_ENV, fdlist);
	(void)snprintf(readyvar, sizeof(readyvar), "%s=%d",
		       TW_UPGRADE_ENV_READY, ready);
	(void)snprintf(statevar, sizeof(statevar), "%s=%d",
		       TW_UPGRADE_ENV_STATE, u->state);
	env = child_env(fdvar, readyvar, u->state >= 0 ? statevar : NULL);
	if (env == NULL)
		return -ENOMEM;
	err = posix_spawn_file_actions_init(&fa);
	if (err != 0)
		goto out_env;
	for (i = 0; i < s->nfds && err == 0; i++)
		err = posix_spawn_file_actions_adddup2(&fa, s->fds[i],
						       s->fds[i]);
	for (i = 0; i < s->nsib && err == 0; i++)
		err = posix_spawn_file_actions_adddup2(&fa, s->sib[i],
						       s->sib[i]);
	if (err == 0)
		err = posix_spawn_file_actions_adddup2(&fa, ready, ready);
	if (err == 0 && u->state >= 0)
		err = posix_spawn_file_actions_adddup2(&fa, u->state,
						       u->state);
	if (err == 0 && u->cwd[0] != '\0')
		err = posix_spawn_file_actions_addchdir_np(&fa, u->cwd);
	if (err != 0)
		goto out_fa;
	err = posix_spawnattr_init(&attr);
	if (err != 0)
		goto out_fa;
	sigemptyset(&none);
	err = posix_spawnattr_setsigmask(&attr, &none);
	if (err == 0)
		err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (err == 0)
		err = posix_spawn(&pid, u->self, &fa, &attr, u->argv, env);
	(void)posix_spawnattr_destroy(&attr);
out_fa:
	(void)posix_spawn_file_actions_destroy(&fa);
out_env:
	free(env);
	return err != 0 ? -err : pid;
}

/* The word the log lines of this start begin with. */
static const char *
what(const struct tw_upgrade *u)
{
	return u->reload ? "reload" : "upgrade";
}

pid_t
tw_upgrade_start(const struct tw_upgrade *u)
{
	char fdlist[TW_SOCKETS_INHERIT_MAX * 12];
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		tw_log(TW_LOG_ERROR, -errno, "%s: pipe", what(u));
		return -1;
	}
	(void)tw_sockets_format(u->sockets, fdlist, sizeof(fdlist));
	tw_pidfile_set_aside(u->pidfile);
	pid = spawn_new(u, fdlist, p[1]);
	(void)close(p[1]);
	if (pid < 0) {
		(void)close(p[0]);
		tw_log(TW_LOG_ERROR, (int)pid, "%s: starting %s", what(u),
		       u->self);
		st = 1;
	} else {
		st = tw_daemon_wait(p[0], READY_WAIT_MS);
	}
	if (st != 0) {
		tw_log(TW_LOG_ERROR, 0, "%s did not start (status %d); "
		       "still serving", u->reload ? "reload failed: the new "
		       "process" : "the new binary", st);
		if (pid > 0) {
			(void)kill(pid, SIGTERM);
			(void)waitpid(pid, NULL, 0);	/* no zombie left */
		}
		tw_pidfile_restore(u->pidfile);
		return -1;
	}
	/* a reload's caller says it in its own words */
	if (!u->reload)
		tw_log(TW_LOG_INFO, 0, "new binary started as pid %d",
		       (int)pid);
	return pid;
}

int
tw_upgrade_state_fd(void)
{
	const char *v = getenv(TW_UPGRADE_ENV_STATE);
	int fd;

	if (v == NULL)
		return -1;
	fd = atoi(v);
	(void)unsetenv(TW_UPGRADE_ENV_STATE);
	/* Ours now: not for a later upgrade's child. */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

int
tw_upgrade_ready_fd(void)
{
	const char *v = getenv(TW_UPGRADE_ENV_READY);
	int fd;

	if (v == NULL)
		return -1;
	fd = atoi(v);
	(void)unsetenv(TW_UPGRADE_ENV_READY);
	return fd;
}
