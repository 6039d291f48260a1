/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for control: each command names its signal (stop TERM, quit
 * QUIT, reload HUP, reopen USR1) and nothing else is a command; send
 * delivers the signal to the pid in a live pidfile, and refuses a stale
 * pidfile (-ESRCH) or a missing one (-ENOENT) without signalling anyone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/control.h"
#include "run/pidfile.h"

static void
commands(void **state)
{
	(void)state;
	assert_int_equal(tw_control_signo("stop"), SIGTERM);
	assert_int_equal(tw_control_signo("quit"), SIGQUIT);
	assert_int_equal(tw_control_signo("reload"), SIGHUP);
	assert_int_equal(tw_control_signo("reopen"), SIGUSR1);
	assert_int_equal(tw_control_signo("serve"), 0);
	assert_int_equal(tw_control_signo("check-config"), 0);
	assert_int_equal(tw_control_signo("Stop"), 0);
	assert_int_equal(tw_control_signo(""), 0);
}

/* Whether sig is pending on this thread within a short wait. */
static bool
got(int sig)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, NULL, &ts) == sig;
}

static void
send_to_pidfile(void **state)
{
	char dir[] = "/tmp/tw_control_XXXXXX", path[64];
	struct tw_pidfile p;
	sigset_t set;
	pid_t holder;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/tw.pid", dir);
	assert_int_equal(tw_control_send(path, SIGUSR1), -ENOENT);
	tw_pidfile_init(&p);
	assert_int_equal(tw_pidfile_open(&p, path, &holder), 0);
	assert_int_equal(tw_control_send(path, SIGUSR1), 0);
	assert_true(got(SIGUSR1));
	/* The server left its file behind unlocked: nobody to signal. */
	(void)close(p.fd);
	assert_int_equal(tw_control_send(path, SIGUSR1), -ESRCH);
	assert_false(got(SIGUSR1));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands),
		cmocka_unit_test(send_to_pidfile),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
