/* SPDX-License-Identifier: MIT */
/*
 * signals: what a signal asks of a server, written once for every run
 * mode. The modes differ in how they carry an action out (the master
 * tells its workers over channels, threads tell their threads, epoll mode
 * acts in its own loop), not in which signal means what. Layer 4 (run).
 */
#ifndef TW_SIGNALS_H
#define TW_SIGNALS_H

enum tw_signals_action {
	TW_SIGNALS_NONE,	/* not a server signal: ignore it */
	TW_SIGNALS_STOP,	/* INT, TERM: close everything now */
	TW_SIGNALS_DRAIN,	/* QUIT: stop accepting, finish what is served */
	TW_SIGNALS_RELOAD,	/* HUP: read the configuration again */
	TW_SIGNALS_REOPEN,	/* USR1: re-open the log files */
	TW_SIGNALS_UPGRADE,	/* USR2: start the new binary beside us */
	TW_SIGNALS_REAP,	/* CHLD: collect exited children */
};

/* The action signo asks for. */
enum tw_signals_action tw_signals_action(int signo);

#endif /* TW_SIGNALS_H */
