/* SPDX-License-Identifier: MIT */
/*
 * run: dispatch to the run mode. Layer 4.
 */
#include "run/run.h"

#include <errno.h>

#include "run/master.h"
#include "run/single.h"
#include "run/threads.h"

int
tw_run(const struct tw_run_opts *o)
{
	switch (o->mode) {
	case TW_MODE_PREFORK:
		return tw_master_run(o);
	case TW_MODE_THREADS:
		return tw_threads_run(o);
	case TW_MODE_EPOLL:
		return tw_single_run(o);
	case TW_MODE_COUNT:
		break;
	}
	return -EINVAL;
}
