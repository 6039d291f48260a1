/* SPDX-License-Identifier: MIT */
/*
 * log: the error log (levels, one line per call) and the access log sink
 * (one write() per line on an O_APPEND descriptor, so lines from several
 * writers never interleave). Layer 0: formats what it is given; knows
 * nothing of HTTP or connections.
 */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum tw_log_level {
	TW_LOG_ERROR,
	TW_LOG_WARN,
	TW_LOG_INFO,
	TW_LOG_DEBUG,
};

/* Access log line formats. */
enum tw_log_format {
	TW_LOG_FORMAT_COMBINED,
	TW_LOG_FORMAT_COMMON,
	TW_LOG_FORMAT_JSON,
};

/* Messages above level are dropped. Default TW_LOG_INFO. */
void tw_log_set_level(enum tw_log_level level);

/*
 * Write one error log line:
 *   "2026/11/28 23:59:59 [error] 1234 master: message[: strerror]"
 * with the time, the level, the pid and the module that speaks (the
 * source file's name, from the macro below). err is 0 or a negative
 * errno, passed explicitly because errno may have changed by the time we
 * print. Lines above the level set by tw_log_set_level are dropped.
 */
#define tw_log(level, err, ...) tw_log_at((level), __FILE__, (err), __VA_ARGS__)

void tw_log_at(enum tw_log_level level, const char *file, int err,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Send error log lines to path ("-" or NULL: stderr), opened
 * O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, mode 0644. Returns 0 or -errno.
 */
int tw_log_open_error(const char *path);

/*
 * Send the access log to path: "-" is stdout, "off" or NULL disables it.
 * A file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, mode 0644.
 * Returns 0 or -errno.
 */
int tw_log_access_open(const char *path);

/* True if access log lines are wanted (avoid formatting them otherwise). */
bool tw_log_access_enabled(void);

/* Write one complete line (ending in '\n') to the access log. */
void tw_log_access_write(const char *line, size_t len);

/*
 * Re-open the access and error log files under their names (logrotate).
 * Returns 0, or -errno with *failed set to the name that could not be
 * opened (the other log is re-opened all the same).
 */
int tw_log_reopen(const char **failed);

/*
 * The descriptors of the log files (fds[0] access, fds[1] error), -1
 * where the log is stdout, stderr or off: what a process that re-opened
 * them hands to those that cannot open them (workers, a server that gave
 * up root). Borrowed.
 */
void tw_log_files(int fds[2]);

/*
 * Write our logs to fds[0..n) from now on, each under the number it had,
 * so a writer never sees a closed descriptor: fds are what tw_log_files()
 * gave in a process with the same logs (ours, before a fork), with its
 * -1 entries left out (as a channel sends them). The caller still closes
 * fds. Returns 0 or -errno.
 */
int tw_log_install(const int *fds, size_t n);

/* The error log's descriptor, for a signal handler's fixed line (a
 * re-open keeps its number). */
int tw_log_error_fd(void);

#endif /* TW_LOG_H */
