/* SPDX-License-Identifier: MIT */
/*
 * daemon: detach with a lifeline pipe. Layer 4.
 */
#include "run/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int
tw_daemon_start(int *lifeline)
{
	int p[2];
	pid_t pid;
	unsigned char status = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		(void)close(p[0]);
		(void)close(p[1]);
		return err;
	}
	if (pid > 0) {
		/* The original process: wait for the verdict. A child that
		 * dies without one closes the pipe and read returns 0. */
		(void)close(p[1]);
		while (read(p[0], &status, 1) < 0 && errno == EINTR)
			;
		(void)waitpid(pid, NULL, 0);
		_exit(status);
	}
	(void)close(p[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);	/* the session leader leaves: no tty again */
	umask(022);
	*lifeline = p[1];
	return 0;
}

void
tw_daemon_ready(int lifeline)
{
	unsigned char ok = 0;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
	(void)!chdir("/");
	(void)!write(lifeline, &ok, 1);
	(void)close(lifeline);
}

void
tw_daemon_failed(int lifeline, int status)
{
	unsigned char s = (unsigned char)(status ? status : 1);

	(void)!write(lifeline, &s, 1);
	(void)close(lifeline);
}

void
tw_daemon_notify(int fd, int status)
{
	unsigned char s = (unsigned char)status;

	(void)!write(fd, &s, 1);
	(void)close(fd);
}

int
tw_daemon_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char s = 1;
	int r;

	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		(void)close(fd);
		return -ETIMEDOUT;
	}
	if (read(fd, &s, 1) != 1)
		s = 1;
	(void)close(fd);
	return s;
}
