/* SPDX-License-Identifier: MIT */
/*
 * upgrade: exec the new binary on our sockets. Layer 4.
 */
#include "run/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "run/daemon.h"
#include "run/pidfile.h"
#include "run/sockets.h"

#define READY_WAIT_MS	15000	/* an upgraded binary must be up by then */

/* In the forked child: what the new binary inherits, then exec. */
static void __attribute__((noreturn))
exec_new(const struct tw_upgrade *u, const char *fdlist, int ready)
{
	const struct tw_sockets *s = u->sockets;
	char num[16];
	sigset_t none;
	size_t i;

	for (i = 0; i < s->nfds; i++)
		(void)fcntl(s->fds[i], F_SETFD, 0);
	for (i = 0; i < s->nsib; i++)
		(void)fcntl(s->sib[i], F_SETFD, 0);
	(void)fcntl(ready, F_SETFD, 0);
	(void)snprintf(num, sizeof(num), "%d", ready);
	(void)setenv(TW_SOCKETS_ENV, fdlist, 1);
	(void)setenv(TW_UPGRADE_ENV_READY, num, 1);
	/* The signal mask survives exec; the new binary starts with a
	 * clean one. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (u->cwd[0] != '\0')
		(void)!chdir(u->cwd);
	execv(u->self, u->argv);
	_exit(127);
}

int
tw_upgrade_start(const struct tw_upgrade *u)
{
	char fdlist[TW_SOCKETS_INHERIT_MAX * 12];
	int p[2], st;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		tw_log(TW_LOG_ERROR, -errno, "upgrade: pipe");
		return -1;
	}
	(void)tw_sockets_format(u->sockets, fdlist, sizeof(fdlist));
	tw_pidfile_set_aside(u->pidfile);
	pid = fork();
	if (pid == 0)
		exec_new(u, fdlist, p[1]);
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
		tw_pidfile_restore(u->pidfile);
		return -1;
	}
	tw_log(TW_LOG_INFO, 0, "new binary started as pid %d", (int)pid);
	return 0;
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
