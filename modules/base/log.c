/* SPDX-License-Identifier: MIT */
/*
 * log: error log lines and the access log sink. Layer 0.
 */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum tw_log_level log_level = TW_LOG_INFO;
static int access_fd = -1;
static char *access_path;	/* NULL for stdout or off */
static int error_fd = STDERR_FILENO;
static char *error_path;	/* NULL for stderr */
/* The access log lost a line and nobody has been told since it last
 * worked: a full disk says so once, not once per request. */
static atomic_bool access_failing;

/* The whole line or an error: a short write (a disk filling up, a
 * signal) leaves the rest to write, not a torn line. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
tw_log_set_level(enum tw_log_level level)
{
	log_level = level;
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* "modules/master.c" -> "master" */
static size_t
module_name(const char *file, const char **start)
{
	const char *slash = strrchr(file, '/'), *dot;

	*start = slash ? slash + 1 : file;
	dot = strchr(*start, '.');
	return dot ? (size_t)(dot - *start) : strlen(*start);
}

void
tw_log_at(enum tw_log_level level, const char *file, int err,
	  const char *fmt, ...)
{
	char line[1024];
	const char *mod;
	size_t n, mlen = module_name(file, &mod);
	struct tm tm;
	time_t now = time(NULL);
	int r;
	va_list ap;

	if (level > log_level)
		return;
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	r = snprintf(line, sizeof(line),
		     "%04d/%02d/%02d %02d:%02d:%02d [%s] %d %.*s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, level_names[level], (int)getpid(),
		     (int)mlen, mod);
	n = r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (err != 0) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(-err));
		if (r > 0)
			n += (size_t)r;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	/* One write per line keeps lines whole when several processes share
	 * the descriptor (O_APPEND). */
	(void)write_all(error_fd, line, n);
}

static int
open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}

int
tw_log_open_error(const char *path)
{
	int fd;
	char *copy;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (error_fd != STDERR_FILENO)
			(void)close(error_fd);
		error_fd = STDERR_FILENO;
		free(error_path);
		error_path = NULL;
		return 0;
	}
	fd = open_append(path);
	if (fd < 0)
		return fd;
	copy = strdup(path);
	if (copy == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	if (error_fd != STDERR_FILENO)
		(void)close(error_fd);
	free(error_path);
	error_fd = fd;
	error_path = copy;
	return 0;
}

int
tw_log_access_open(const char *path)
{
	int fd;

	if (access_fd > STDOUT_FILENO)
		(void)close(access_fd);
	free(access_path);
	access_path = NULL;
	access_fd = -1;
	if (path == NULL || strcmp(path, "off") == 0)
		return 0;
	if (strcmp(path, "-") == 0) {
		access_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open_append(path);
	if (fd < 0)
		return fd;
	access_path = strdup(path);
	if (access_path == NULL) {
		(void)close(fd);
		return -ENOMEM;
	}
	access_fd = fd;
	return 0;
}

bool
tw_log_access_enabled(void)
{
	return access_fd >= 0;
}

void
tw_log_access_write(const char *line, size_t len)
{
	int err;

	if (access_fd < 0)
		return;
	err = write_all(access_fd, line, len);
	if (err < 0 && !atomic_exchange(&access_failing, true))
		tw_log(TW_LOG_ERROR, err, "access log %s: lines lost until "
		       "it can be written again",
		       access_path ? access_path : "(stdout)");
	else if (err == 0 && atomic_load_explicit(&access_failing,
						  memory_order_relaxed) &&
		 atomic_exchange(&access_failing, false))
		tw_log(TW_LOG_INFO, 0, "access log %s: written again",
		       access_path ? access_path : "(stdout)");
}

/* dup3 swaps the file under the same number, so a writer never sees a
 * closed descriptor; O_CLOEXEC because a dup loses it, and a log left
 * open across the exec of a reload (epoll, threads) or an upgrade would
 * be held by every later generation. */
static int
swap_in(int nfd, int fd)
{
	return dup3(nfd, fd, O_CLOEXEC) < 0 ? -errno : 0;
}

static int
reopen_one(const char *path, int fd)
{
	int nfd, err;

	if (path == NULL)
		return 0;
	nfd = open_append(path);
	if (nfd < 0)
		return nfd;
	err = swap_in(nfd, fd);
	(void)close(nfd);
	return err;
}

int
tw_log_reopen(const char **failed)
{
	int err = reopen_one(access_path, access_fd);
	int err2 = reopen_one(error_path, error_fd);

	if (err2 < 0)
		*failed = error_path;
	if (err < 0)
		*failed = access_path;
	return err < 0 ? err : err2;
}

void
tw_log_files(int fds[2])
{
	fds[0] = access_path != NULL ? access_fd : -1;
	fds[1] = error_path != NULL ? error_fd : -1;
}

int
tw_log_install(const int *fds, size_t n)
{
	int err = 0, err2 = 0;
	size_t i = 0;

	if (access_path != NULL && i < n)
		err = swap_in(fds[i++], access_fd);
	if (error_path != NULL && i < n)
		err2 = swap_in(fds[i++], error_fd);
	return err < 0 ? err : err2;
}

int
tw_log_error_fd(void)
{
	return error_fd;
}
