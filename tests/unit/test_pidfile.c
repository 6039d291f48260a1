/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for pidfile: open creates the file with our pid and locks
 * it; a second open of the same file is refused with -EEXIST and names
 * the holder; read finds the holder's pid, calls an unlocked file stale
 * (-ESRCH) and a missing one -ENOENT; a stale file is taken over; a
 * relative path is kept absolute; close removes the file only while it
 * names us; set_aside/restore move it to FILE.oldbin and back; a path too
 * long for the ".oldbin" suffix is refused. A keeper (forked while the
 * server held the file) removes it for the pid it names, not its own;
 * forget closes our descriptor only, the lock staying with the other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/pidfile.h"

struct dir {
	char path[64];
	char file[96];
};

static int
setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	strcpy(d->path, "/tmp/tw_pidfile_XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	(void)snprintf(d->file, sizeof(d->file), "%s/tw.pid", d->path);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char aside[128];

	(void)snprintf(aside, sizeof(aside), "%s.oldbin", d->file);
	(void)unlink(d->file);
	(void)unlink(aside);
	(void)rmdir(d->path);
	free(d);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static pid_t
file_pid(const char *path)
{
	char buf[32] = "";
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return (pid_t)atoi(buf);
}

static void
open_writes_and_locks(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p, q;
	pid_t holder = -1;

	tw_pidfile_init(&p);
	tw_pidfile_init(&q);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	assert_true(p.fd >= 0);
	assert_string_equal(p.path, d->file);
	assert_int_equal(file_pid(d->file), getpid());
	assert_int_equal(tw_pidfile_read(d->file), getpid());
	/* A second server on the same file. */
	assert_int_equal(tw_pidfile_open(&q, d->file, &holder), -EEXIST);
	assert_int_equal(holder, getpid());
	assert_int_equal(q.fd, -1);
	tw_pidfile_close(&p);
	assert_int_equal(p.fd, -1);
	assert_int_equal(access(d->file, F_OK), -1);
	assert_int_equal(tw_pidfile_read(d->file), -ENOENT);
}

static void
stale_file_taken_over(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	pid_t holder = -1;

	write_file(d->file, "1\n");
	assert_int_equal(tw_pidfile_read(d->file), -ESRCH);
	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	assert_int_equal(holder, 0);
	assert_int_equal(file_pid(d->file), getpid());
	tw_pidfile_close(&p);
	assert_int_equal(access(d->file, F_OK), -1);
}

/* A file rewritten by someone else (a new server) is not ours to remove. */
static void
close_keeps_a_file_naming_another(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	pid_t holder;

	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	assert_int_equal(pwrite(p.fd, "1\n\n\n\n\n\n\n", 8, 0), 8);
	tw_pidfile_close(&p);
	assert_int_equal(access(d->file, F_OK), 0);
	assert_int_equal(file_pid(d->file), 1);
}

/* The keeper's close: the server's pid in the file, not the keeper's. */
static void
close_for_removes_the_named_owner(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	pid_t holder;

	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	assert_int_equal(pwrite(p.fd, "1\n", 2, 0), 2);
	assert_int_equal(ftruncate(p.fd, 2), 0);
	tw_pidfile_close_for(&p, getpid());	/* names 1, not us */
	assert_int_equal(access(d->file, F_OK), 0);
	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	assert_int_equal(pwrite(p.fd, "1\n", 2, 0), 2);
	assert_int_equal(ftruncate(p.fd, 2), 0);
	tw_pidfile_close_for(&p, 1);
	assert_int_equal(p.fd, -1);
	assert_int_equal(access(d->file, F_OK), -1);
}

/* Forget: the file stays, locked by the other descriptor of the same
 * open file (what a forked keeper holds). */
static void
forget_leaves_the_lock_to_the_other(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	pid_t holder;
	int other;

	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	other = dup(p.fd);
	assert_true(other >= 0);
	tw_pidfile_forget(&p);
	assert_int_equal(p.fd, -1);
	assert_int_equal(access(d->file, F_OK), 0);
	assert_int_equal(tw_pidfile_read(d->file), getpid());
	tw_pidfile_close(&p);	/* nothing left to do */
	assert_int_equal(access(d->file, F_OK), 0);
	assert_int_equal(close(other), 0);
	assert_int_equal(tw_pidfile_read(d->file), -ESRCH);
}

static void
relative_path_made_absolute(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	char cwd[PATH_MAX];
	pid_t holder;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d->path), 0);
	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, "tw.pid", &holder), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(p.path, d->file);
	assert_int_equal(tw_pidfile_read(d->file), getpid());
	tw_pidfile_close(&p);
	assert_int_equal(access(d->file, F_OK), -1);
}

static void
aside_and_back(void **state)
{
	struct dir *d = *state;
	struct tw_pidfile p;
	char aside[128];
	pid_t holder;

	(void)snprintf(aside, sizeof(aside), "%s.oldbin", d->file);
	tw_pidfile_init(&p);
	tw_pidfile_set_aside(&p);	/* none open: nothing happens */
	assert_int_equal(tw_pidfile_open(&p, d->file, &holder), 0);
	tw_pidfile_set_aside(&p);
	assert_string_equal(p.path, aside);
	assert_int_equal(access(d->file, F_OK), -1);
	assert_int_equal(tw_pidfile_read(aside), getpid());
	tw_pidfile_restore(&p);
	assert_string_equal(p.path, d->file);
	assert_int_equal(access(aside, F_OK), -1);
	assert_int_equal(tw_pidfile_read(d->file), getpid());
	tw_pidfile_restore(&p);		/* not aside: nothing happens */
	assert_string_equal(p.path, d->file);
	/* Aside, the file is still ours to remove. */
	tw_pidfile_set_aside(&p);
	tw_pidfile_close(&p);
	assert_int_equal(access(aside, F_OK), -1);
}

static void
too_long(void **state)
{
	struct tw_pidfile p;
	char *path = malloc(PATH_MAX + 2);
	pid_t holder;

	(void)state;
	assert_non_null(path);
	path[0] = '/';
	memset(path + 1, 'a', PATH_MAX);
	path[PATH_MAX + 1] = '\0';
	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, path, &holder), -ENAMETOOLONG);
	assert_int_equal(p.fd, -1);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_writes_and_locks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stale_file_taken_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(close_keeps_a_file_naming_another,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			close_for_removes_the_named_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(
			forget_leaves_the_lock_to_the_other, setup, teardown),
		cmocka_unit_test_setup_teardown(relative_path_made_absolute,
						setup, teardown),
		cmocka_unit_test_setup_teardown(aside_and_back, setup,
						teardown),
		cmocka_unit_test(too_long),
	};

	return cmocka_run_group_tests_name("pidfile", tests, NULL, NULL);
}
