/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for log's file hand-over (what a process that re-opened the
 * logs as root sends to one that cannot open them): tw_log_files gives
 * the access and error log descriptors, -1 for stdout, stderr or off;
 * tw_log_install puts received descriptors under our numbers, access
 * first, skipping the logs that are not files, so lines written after go
 * to the new files; tw_log_reopen names the log it could not open, and
 * keeps writing to the file it had.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

struct dir {
	char path[64];
	char access[96];
	char error[96];
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	strcpy(d->path, "/tmp/tw_log_XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	(void)snprintf(d->access, sizeof(d->access), "%s/access.log", d->path);
	(void)snprintf(d->error, sizeof(d->error), "%s/error.log", d->path);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char other[128];

	(void)tw_log_access_open("off");
	(void)tw_log_open_error("-");
	(void)unlink(d->access);
	(void)unlink(d->error);
	(void)rmdir(d->access);	/* the test that makes it a directory */
	(void)snprintf(other, sizeof(other), "%s.1", d->access);
	(void)unlink(other);
	(void)snprintf(other, sizeof(other), "%s.1", d->error);
	(void)unlink(other);
	(void)rmdir(d->path);
	free(d);
	return 0;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
files_are_minus_one_unless_files(void **state)
{
	struct dir *d = *state;
	int fds[2];

	assert_int_equal(tw_log_access_open("-"), 0);
	assert_int_equal(tw_log_open_error("-"), 0);
	tw_log_files(fds);
	assert_int_equal(fds[0], -1);
	assert_int_equal(fds[1], -1);
	assert_int_equal(tw_log_access_open(d->access), 0);
	tw_log_files(fds);
	assert_true(fds[0] > STDERR_FILENO);
	assert_int_equal(fds[1], -1);
	assert_int_equal(tw_log_open_error(d->error), 0);
	tw_log_files(fds);
	assert_true(fds[0] > STDERR_FILENO);
	assert_true(fds[1] > STDERR_FILENO);
	assert_int_not_equal(fds[0], fds[1]);
}

/* Renamed away, re-opened elsewhere (as a root process would), handed
 * over: our numbers stay, the lines go to the new files. */
static void
install_swaps_under_the_same_numbers(void **state)
{
	struct dir *d = *state;
	char old[128], olde[128];
	int before[2], after[2], fresh[2];

	assert_int_equal(tw_log_access_open(d->access), 0);
	assert_int_equal(tw_log_open_error(d->error), 0);
	tw_log_files(before);
	(void)snprintf(old, sizeof(old), "%s.1", d->access);
	(void)snprintf(olde, sizeof(olde), "%s.1", d->error);
	assert_int_equal(rename(d->access, old), 0);
	assert_int_equal(rename(d->error, olde), 0);
	fresh[0] = open(d->access, O_WRONLY | O_APPEND | O_CREAT, 0644);
	fresh[1] = open(d->error, O_WRONLY | O_APPEND | O_CREAT, 0644);
	assert_true(fresh[0] >= 0 && fresh[1] >= 0);
	assert_int_equal(tw_log_install(fresh, 2), 0);
	tw_log_files(after);
	assert_int_equal(after[0], before[0]);
	assert_int_equal(after[1], before[1]);
	assert_true(fcntl(after[0], F_GETFD) & FD_CLOEXEC);
	tw_log_access_write("line\n", 5);
	tw_log(TW_LOG_ERROR, 0, "an error");
	assert_int_equal(size_of(d->access), 5);
	assert_true(size_of(d->error) > 0);
	assert_int_equal(size_of(old), 0);
	assert_int_equal(size_of(olde), 0);
	(void)close(fresh[0]);
	(void)close(fresh[1]);
}

/* The error log alone is a file: the one descriptor sent is its. */
static void
install_skips_logs_that_are_not_files(void **state)
{
	struct dir *d = *state;
	char olde[128];
	int fd;

	assert_int_equal(tw_log_access_open("-"), 0);
	assert_int_equal(tw_log_open_error(d->error), 0);
	(void)snprintf(olde, sizeof(olde), "%s.1", d->error);
	assert_int_equal(rename(d->error, olde), 0);
	fd = open(d->error, O_WRONLY | O_APPEND | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(tw_log_install(&fd, 1), 0);
	tw_log(TW_LOG_ERROR, 0, "to the new file");
	assert_true(size_of(d->error) > 0);
	assert_int_equal(size_of(olde), 0);
	(void)close(fd);
}

static void
reopen_names_the_file_it_cannot_open(void **state)
{
	struct dir *d = *state;
	char old[128];
	const char *failed = NULL;

	assert_int_equal(tw_log_access_open(d->access), 0);
	assert_int_equal(tw_log_open_error(d->error), 0);
	assert_int_equal(tw_log_reopen(&failed), 0);
	assert_null(failed);
	(void)snprintf(old, sizeof(old), "%s.1", d->access);
	assert_int_equal(rename(d->access, old), 0);
	assert_int_equal(mkdir(d->access, 0755), 0);
	assert_int_equal(tw_log_reopen(&failed), -EISDIR);
	assert_non_null(failed);
	assert_string_equal(failed, d->access);
	/* Lines go on to the file we had. */
	tw_log_access_write("kept\n", 5);
	assert_int_equal(size_of(old), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			files_are_minus_one_unless_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
			install_swaps_under_the_same_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(
			install_skips_logs_that_are_not_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
			reopen_names_the_file_it_cannot_open, setup,
			teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
