/* SPDX-License-Identifier: MIT */
/*
 * log: error log lines and the access log sink. Layer 0.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum tw_log_level log_level = TW_LOG_INFO;
static int access_fd = -1;
static char *access_path;	/* NULL for stdout or off */

void
tw_log_set_level(enum tw_log_level level)
{
	log_level = level;
}

void
tw_log(enum tw_log_level level, int err, const char *fmt, ...)
{
	char line[1024];
	size_t n;
	int r;
	va_list ap;

	if (level > log_level)
		return;
	n = (size_t)snprintf(line, sizeof(line), "tinyweb: ");
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
	 * the descriptor. */
	(void)!write(STDERR_FILENO, line, n);
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
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
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
	if (access_fd >= 0)
		(void)!write(access_fd, line, len);
}

int
tw_log_reopen(void)
{
	int fd;

	if (access_path == NULL)
		return 0;
	fd = open(access_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* dup2 swaps the file under the same number, so a writer never sees
	 * a closed descriptor. */
	if (dup2(fd, access_fd) < 0) {
		int err = -errno;

		(void)close(fd);
		return err;
	}
	(void)close(fd);
	return 0;
}
