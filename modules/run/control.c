/* SPDX-License-Identifier: MIT */
/*
 * control: signal the server named by a pidfile. Layer 4.
 */
#include "run/control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "run/pidfile.h"

static const struct {
	const char *cmd;
	int signo;
} cmds[] = {
	{ "stop", SIGTERM },
	{ "quit", SIGQUIT },
	{ "reload", SIGHUP },
	{ "reopen", SIGUSR1 },
};

int
tw_control_signo(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].cmd) == 0)
			return cmds[i].signo;
	return 0;
}

int
tw_control_send(const char *path, int signo)
{
	pid_t pid = tw_pidfile_read(path);
	int err;

	if (pid == -ESRCH) {
		fprintf(stderr, "tinyweb: pidfile %s is stale: no tinyweb "
			"holds it\n", path);
		return pid;
	}
	if (pid < 0) {
		fprintf(stderr, "tinyweb: pidfile %s: %s\n", path,
			strerror(-pid));
		return pid;
	}
	if (kill(pid, signo) < 0) {
		err = -errno;
		fprintf(stderr, "tinyweb: cannot signal pid %d: %s\n", (int)pid,
			strerror(-err));
		return err;
	}
	return 0;
}
