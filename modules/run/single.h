/* SPDX-License-Identifier: MIT */
/*
 * single: the epoll mode. One event loop in the calling process serves
 * every listening socket and handles the signals itself. Layer 4 (run):
 * wires listeners to an opaque protocol; knows nothing of HTTP.
 */
#ifndef TW_SINGLE_H
#define TW_SINGLE_H

struct tw_run_opts;

/*
 * Serve on o->fds until SIGINT or SIGTERM (stop now) or SIGQUIT (finish
 * what is in flight). SIGHUP and SIGUSR2 go to o->hooks (reload with no
 * next generation); SIGUSR1 re-opens the logs. Returns 0 after a clean
 * stop, or -errno if the loop could not start. Called by tw_run().
 *
 * With o->sandbox the loop runs in a second thread that enters it; the
 * calling thread stays outside and does what the sandbox forbids on the
 * loop's behalf: the reload and upgrade hooks (reading a configuration,
 * starting the new process, the pidfile), and after the loop ends, the
 * process's own clean-up.
 */
int tw_single_run(const struct tw_run_opts *o);

#endif /* TW_SINGLE_H */
