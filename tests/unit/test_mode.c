/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for mode, the one table of run-mode and accept-strategy
 * names: every value has a distinct name at its own index and the list
 * ends with NULL right after the last (the option table's shape); each
 * name leads back to its value; the names are the documented ones; a
 * value out of range prints as "?".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "run/mode.h"

/* The index of name in a NULL-terminated list, or -1. */
static int
index_of(const char *const *names, const char *name)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static void
mode_names_round_trip(void **state)
{
	int m;

	(void)state;
	for (m = 0; m < TW_MODE_COUNT; m++) {
		const char *name = tw_mode_name((enum tw_run_mode)m);

		assert_non_null(tw_mode_names[m]);
		assert_string_equal(name, tw_mode_names[m]);
		assert_int_equal(index_of(tw_mode_names, name), m);
	}
	assert_null(tw_mode_names[TW_MODE_COUNT]);
}

static void
accept_names_round_trip(void **state)
{
	int a;

	(void)state;
	for (a = 0; a < TW_ACCEPT_COUNT; a++) {
		const char *name = tw_mode_accept_name((enum tw_accept_strategy)a);

		assert_non_null(tw_mode_accept_names[a]);
		assert_string_equal(name, tw_mode_accept_names[a]);
		assert_int_equal(index_of(tw_mode_accept_names, name), a);
	}
	assert_null(tw_mode_accept_names[TW_ACCEPT_COUNT]);
}

/* The names are the interface (config files, -m, the startup line). */
static void
documented_names(void **state)
{
	(void)state;
	assert_string_equal(tw_mode_name(TW_MODE_EPOLL), "epoll");
	assert_string_equal(tw_mode_name(TW_MODE_PREFORK), "prefork");
	assert_string_equal(tw_mode_name(TW_MODE_THREADS), "threads");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_EXCLUSIVE),
			    "exclusive");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_REUSEPORT),
			    "reuseport");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_MUTEX), "mutex");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_MUTEX_FILE),
			    "mutex-file");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_MUTEX_SEM),
			    "mutex-sem");
}

static void
out_of_range(void **state)
{
	(void)state;
	assert_string_equal(tw_mode_name(TW_MODE_COUNT), "?");
	assert_string_equal(tw_mode_name((enum tw_run_mode)-1), "?");
	assert_string_equal(tw_mode_accept_name(TW_ACCEPT_COUNT), "?");
	assert_int_equal(index_of(tw_mode_names, "single"), -1);
	assert_int_equal(index_of(tw_mode_accept_names, "Mutex"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_names_round_trip),
		cmocka_unit_test(accept_names_round_trip),
		cmocka_unit_test(documented_names),
		cmocka_unit_test(out_of_range),
	};

	return cmocka_run_group_tests_name("mode", tests, NULL, NULL);
}
