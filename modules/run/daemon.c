/* SPDX-License-Identifier: MIT */
/*
 * daemon: detach with a lifeline pipe; a locked pidfile. Layer 4.
 */
#include "run/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

static pid_t
read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long v;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0)
		return 0;
	return (pid_t)v;
}

int
tw_daemon_pidfile_write(int fd)
{
	char buf[32];
	int n = 0;
	pid_t pid = getpid();
	char tmp[16];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	while (i > 0)
		buf[n++] = tmp[--i];
	buf[n++] = '\n';
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

int
tw_daemon_pidfile_create(const char *path, pid_t *holder)
{
	int fd, err;

	*holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EEXIST : -errno;
		*holder = read_pid(fd);
		(void)close(fd);
		return err;
	}
	/* Unlocked means whoever wrote it is gone: the file is ours now. */
	err = tw_daemon_pidfile_write(fd);
	if (err < 0) {
		(void)close(fd);
		return err;
	}
	return fd;
}

void
tw_daemon_pidfile_remove(const char *path, int fd)
{
	if (fd < 0)
		return;
	if (read_pid(fd) == getpid())
		(void)unlink(path);
	(void)close(fd);
}

pid_t
tw_daemon_pidfile_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)close(fd);
		return -ESRCH;
	}
	pid = read_pid(fd);
	(void)close(fd);
	return pid > 0 ? pid : -ESRCH;
}
