/* SPDX-License-Identifier: MIT */
/*
 * threads: N worker threads in one process, each running its own event
 * loop (tw_worker_run) with its own per-thread protocol state (libmagic
 * handle, caches, buffers). The main thread only handles signals and
 * tells the workers over channels what to do; shutdown joins every
 * thread. Layer 4 (run): the protocol is an opaque tw_proto.
 */
#ifndef TW_THREADS_H
#define TW_THREADS_H

struct tw_run_opts;

/*
 * Serve o with o->workers threads until INT/TERM (threads stop now) or
 * QUIT (threads drain), or after a HUP whose o->hooks->reload (with no
 * next generation) started a replacement process. o->accept is not
 * TW_ACCEPT_MUTEX_FILE. Returns 0 or -errno. Called by tw_run().
 */
int tw_threads_run(const struct tw_run_opts *o);

#endif /* TW_THREADS_H */
