/* SPDX-License-Identifier: MIT */
/*
 * A timer that stops a test's event loop when the code under test never
 * does: a broken loop or pool then fails its test instead of hanging the
 * suite. Include after <cmocka.h>.
 */
#ifndef TW_TEST_LOOP_GUARD_H
#define TW_TEST_LOOP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"

struct loop_guard {
	struct tw_timer timer;	/* zero-initialised with its owner */
	bool fired;		/* the test's own stop never came */
};

static inline void
loop_guard_fired(struct tw_loop *loop, struct tw_timer *t)
{
	struct loop_guard *g = (struct loop_guard *)(void *)((char *)t -
					offsetof(struct loop_guard, timer));

	g->fired = true;
	tw_loop_stop(loop);
}

/* Run loop until it is stopped, or for ms at most (then g->fired). */
static inline void
loop_guard_run(struct tw_loop *loop, struct loop_guard *g, uint64_t ms)
{
	tw_loop_timer_set(loop, &g->timer, ms, loop_guard_fired);
	assert_int_equal(tw_loop_run(loop), 0);
	tw_loop_timer_cancel(loop, &g->timer);
}

#endif /* TW_TEST_LOOP_GUARD_H */
