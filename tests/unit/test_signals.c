/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for signals, the one signal -> action mapping of every run
 * mode: INT and TERM stop now, QUIT drains, HUP reloads, USR1 re-opens
 * the logs, USR2 upgrades, CHLD reaps; any other signal asks for nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>

#include "run/signals.h"

static void
server_signals(void **state)
{
	(void)state;
	assert_int_equal(tw_signals_action(SIGINT), TW_SIGNALS_STOP);
	assert_int_equal(tw_signals_action(SIGTERM), TW_SIGNALS_STOP);
	assert_int_equal(tw_signals_action(SIGQUIT), TW_SIGNALS_DRAIN);
	assert_int_equal(tw_signals_action(SIGHUP), TW_SIGNALS_RELOAD);
	assert_int_equal(tw_signals_action(SIGUSR1), TW_SIGNALS_REOPEN);
	assert_int_equal(tw_signals_action(SIGUSR2), TW_SIGNALS_UPGRADE);
	assert_int_equal(tw_signals_action(SIGCHLD), TW_SIGNALS_REAP);
}

static void
other_signals(void **state)
{
	const int others[] = { 0, SIGPIPE, SIGALRM, SIGWINCH, SIGKILL,
			       SIGSEGV, SIGRTMIN, 65, -1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_int_equal(tw_signals_action(others[i]), TW_SIGNALS_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_signals),
		cmocka_unit_test(other_signals),
	};

	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
