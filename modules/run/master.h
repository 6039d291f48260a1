/* SPDX-License-Identifier: MIT */
/*
 * master: the prefork mode's supervisor, after nginx's master cycle. It
 * forks the workers, each with a channel, handles every signal (workers
 * get none), respawns a worker that dies (with back-off when one keeps
 * dying), reloads by starting workers of a new generation before retiring
 * the old ones, and never touches client traffic. Layer 4 (run): the
 * protocol is an opaque tw_proto; configuration comes through callbacks
 * from the front layer.
 */
#ifndef TW_MASTER_H
#define TW_MASTER_H

struct tw_run_opts;

/*
 * Run the master until INT/TERM (workers terminated) or QUIT (workers
 * finish what they serve). o is the first generation, borrowed until
 * o->hooks->release; a HUP asks o->hooks->reload for the next one, a
 * USR2 calls o->hooks->upgrade. Returns 0, or -errno if the master could
 * not start. Called by tw_run().
 */
int tw_master_run(const struct tw_run_opts *o);

#endif /* TW_MASTER_H */
