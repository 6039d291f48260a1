/* SPDX-License-Identifier: MIT */
/*
 * pidfile: a locked file holding our pid. Layer 4.
 */
#include "run/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/log.h"

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

void
tw_pidfile_init(struct tw_pidfile *p)
{
	p->fd = -1;
	p->path[0] = '\0';
}

int
tw_pidfile_write(const struct tw_pidfile *p)
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
	if (ftruncate(p->fd, 0) < 0 || pwrite(p->fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/* Absolute, and short enough to take TW_PIDFILE_ASIDE later. */
static int
set_path(struct tw_pidfile *p, const char *path)
{
	size_t room = sizeof(p->path) - sizeof(TW_PIDFILE_ASIDE) + 1;
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(p->path, room, "%s", path);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -ENAMETOOLONG;
		n = snprintf(p->path, room, "%s/%s", cwd, path);
	}
	return n < 0 || (size_t)n >= room ? -ENAMETOOLONG : 0;
}

int
tw_pidfile_open(struct tw_pidfile *p, const char *path, pid_t *holder)
{
	int fd, err;

	*holder = 0;
	err = set_path(p, path);
	if (err < 0)
		return err;
	fd = open(p->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EEXIST : -errno;
		*holder = read_pid(fd);
		(void)close(fd);
		return err;
	}
	/* Unlocked means whoever wrote it is gone: the file is ours now. */
	p->fd = fd;
	err = tw_pidfile_write(p);
	if (err < 0) {
		(void)close(fd);
		p->fd = -1;
		return err;
	}
	return 0;
}

void
tw_pidfile_close_for(struct tw_pidfile *p, pid_t owner)
{
	if (p->fd < 0)
		return;
	if (read_pid(p->fd) == owner && unlink(p->path) < 0 && errno != ENOENT)
		tw_log(TW_LOG_WARN, -errno, "pidfile %s: not removed", p->path);
	(void)close(p->fd);
	p->fd = -1;
}

void
tw_pidfile_close(struct tw_pidfile *p)
{
	tw_pidfile_close_for(p, getpid());
}

void
tw_pidfile_forget(struct tw_pidfile *p)
{
	if (p->fd >= 0)
		(void)close(p->fd);
	p->fd = -1;
}

static bool
is_aside(const struct tw_pidfile *p)
{
	size_t n = strlen(p->path), k = strlen(TW_PIDFILE_ASIDE);

	return n > k && strcmp(p->path + n - k, TW_PIDFILE_ASIDE) == 0;
}

void
tw_pidfile_set_aside(struct tw_pidfile *p)
{
	char aside[sizeof(p->path)];

	if (p->fd < 0 ||
	    strlen(p->path) + sizeof(TW_PIDFILE_ASIDE) > sizeof(aside))
		return;
	(void)snprintf(aside, sizeof(aside), "%s%s", p->path, TW_PIDFILE_ASIDE);
	if (rename(p->path, aside) == 0)
		memcpy(p->path, aside, sizeof(aside));
}

void
tw_pidfile_restore(struct tw_pidfile *p)
{
	char back[sizeof(p->path)];

	if (p->fd < 0 || !is_aside(p))
		return;
	memcpy(back, p->path, sizeof(back));
	back[strlen(back) - strlen(TW_PIDFILE_ASIDE)] = '\0';
	if (rename(p->path, back) == 0)
		memcpy(p->path, back, sizeof(back));
}

pid_t
tw_pidfile_read(const char *path)
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
