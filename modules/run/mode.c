/* SPDX-License-Identifier: MIT */
/*
 * mode: names of the run modes and accept strategies. Layer 4.
 */
#include "run/mode.h"

#include <stddef.h>

const char *const tw_mode_names[] = {
	[TW_MODE_EPOLL] = "epoll",
	[TW_MODE_PREFORK] = "prefork",
	[TW_MODE_THREADS] = "threads",
	NULL,
};

const char *const tw_mode_accept_names[] = {
	[TW_ACCEPT_EXCLUSIVE] = "exclusive",
	[TW_ACCEPT_REUSEPORT] = "reuseport",
	[TW_ACCEPT_MUTEX] = "mutex",
	[TW_ACCEPT_MUTEX_FILE] = "mutex-file",
	[TW_ACCEPT_MUTEX_SEM] = "mutex-sem",
	NULL,
};

/* A value added to an enum needs its name here: one name per value, then
 * the NULL, or the build fails. */
_Static_assert(sizeof(tw_mode_names) / sizeof(*tw_mode_names) ==
	       TW_MODE_COUNT + 1, "each run mode has one name");
_Static_assert(sizeof(tw_mode_accept_names) / sizeof(*tw_mode_accept_names) ==
	       TW_ACCEPT_COUNT + 1, "each accept strategy has one name");

const char *
tw_mode_name(enum tw_run_mode m)
{
	return (unsigned)m < TW_MODE_COUNT ? tw_mode_names[m] : "?";
}

const char *
tw_mode_accept_name(enum tw_accept_strategy a)
{
	return (unsigned)a < TW_ACCEPT_COUNT ? tw_mode_accept_names[a] : "?";
}
