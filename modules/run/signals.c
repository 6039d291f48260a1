/* SPDX-License-Identifier: MIT */
/*
 * signals: signal -> action. Layer 4.
 */
#include "run/signals.h"

#include <signal.h>

enum tw_signals_action
tw_signals_action(int signo)
{
	switch (signo) {
	case SIGINT:
	case SIGTERM:
		return TW_SIGNALS_STOP;
	case SIGQUIT:
		return TW_SIGNALS_DRAIN;
	case SIGHUP:
		return TW_SIGNALS_RELOAD;
	case SIGUSR1:
		return TW_SIGNALS_REOPEN;
	case SIGUSR2:
		return TW_SIGNALS_UPGRADE;
	case SIGCHLD:
		return TW_SIGNALS_REAP;
	default:
		return TW_SIGNALS_NONE;
	}
}
