/* SPDX-License-Identifier: MIT */
/*
 * A fake conn for protocol tests: implements the calls of net/conn.h that
 * a protocol makes, over memory, so test_http can drive http without
 * sockets or running a loop (http keeps its state in a real loop's
 * context, so the test makes one).
 * Input is fed by the test; output (byte segments, and file segments read
 * with pread at "send" time) is captured as the peer would see it.
 *
 * It keeps the real conn's calling rules: callbacks run from a run loop
 * (like conn_run), tw_conn_send inside a callback only marks the queue
 * for flushing once the callback returns, the read buffer holds at most
 * TW_CONN_RBUF_SIZE bytes, and on_closed comes from tw_conn_reap().
 */
#ifndef TW_TEST_FAKE_CONN_H
#define TW_TEST_FAKE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"

/* A new open connection of loop (counted by tw_conn_count(loop)) from
 * peer "ip". The test then hands it to the protocol's accept function.
 * loop is only what tw_conn_loop() answers: nothing runs it. */
struct tw_conn *fake_conn_new(struct tw_loop *loop, const char *ip);

/* The peer sends n bytes: they are read (up to the buffer size at a time)
 * and on_data/on_drained run until nothing moves. */
void fake_conn_feed(struct tw_conn *c, const void *p, size_t n);
void fake_conn_feed_str(struct tw_conn *c, const char *s);

/* The peer shuts down its sending side. */
void fake_conn_feed_eof(struct tw_conn *c);

/* The peer stops (true) or resumes reading. While stopped, queued
 * output stays queued, as behind a full socket send buffer; resuming
 * writes it all and callbacks run until nothing moves. */
void fake_conn_set_stalled(struct tw_conn *c, bool stalled);

/* c speaks TLS from now on, as tw_conn_security tells: protocol and
 * cipher (NULL: before the handshake agreed on them). */
void fake_conn_set_security(struct tw_conn *c, const char *protocol,
			    const char *cipher);

/* The timeout set by tw_conn_set_timeout expires now (outside any other
 * callback, as the loop's timer would). Fails the test if none is set. */
void fake_conn_fire_timeout(struct tw_conn *c);

/* Everything written to the peer so far, and forgetting it. */
const char *fake_conn_output(const struct tw_conn *c, size_t *len);
void fake_conn_output_clear(struct tw_conn *c);

/* True once tw_conn_shutdown_write() was called. */
bool fake_conn_write_shut(const struct tw_conn *c);

/* The last tw_conn_set_timeout() arguments (0 after it fired). */
uint64_t fake_conn_timeout_ms(const struct tw_conn *c);
unsigned fake_conn_timeout_flags(const struct tw_conn *c);

/* The rate of the last tw_conn_set_min_rate() made with a progress
 * timeout set (0: none yet); the fake sends at once, so the timeout may
 * have changed since. */
uint64_t fake_conn_min_rate(const struct tw_conn *c);

/* Bytes the peer sent that the protocol has not consumed yet. */
size_t fake_conn_unconsumed(const struct tw_conn *c);

/* Times on_closed has run, over all connections. */
unsigned fake_conn_closed_total(void);

/* True once a file segment's descriptor was found closed at send time
 * (the protocol closed a file it still had queued). */
bool fake_conn_saw_bad_fd(void);

#endif /* TW_TEST_FAKE_CONN_H */
