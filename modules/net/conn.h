/* SPDX-License-Identifier: MIT */
/*
 * conn: one non-blocking stream socket. Reads into a buffer, writes a
 * queue of byte and file segments (writev/sendmsg and sendfile), runs one
 * timeout, and calls the protocol that owns it through a small table of
 * callbacks. Layer 1 (transport): it moves bytes and file ranges and
 * knows nothing of HTTP.
 *
 * An idle connection (no unread input, nothing queued) holds no buffers:
 * they go back to a per-thread free list and are taken again when bytes
 * arrive, so thousands of idle keep-alive connections cost only their
 * small struct.
 */
#ifndef TW_CONN_H
#define TW_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tw_conn;
struct tw_loop;

#define TW_CONN_RBUF_SIZE	(32 * 1024)	/* request head limits fit */
#define TW_CONN_MAX_SEGS	48	/* multipart: 16 ranges x 2 + 2 */

struct tw_conn_ops {
	/* New bytes are readable (tw_conn_data) or the peer finished
	 * sending (tw_conn_eof). */
	void (*on_data)(struct tw_conn *c, void *ctx);
	/* Everything queued has been written. */
	void (*on_drained)(struct tw_conn *c, void *ctx);
	/* The timeout set by tw_conn_set_timeout() expired. */
	void (*on_timeout)(struct tw_conn *c, void *ctx);
	/* Last call, after the socket is closed and outside any other
	 * callback of this connection: free ctx here. */
	void (*on_closed)(struct tw_conn *c, void *ctx);
};

/*
 * Take ownership of the connected, non-blocking socket fd, to be watched
 * on loop from the end of its first run (tw_conn_start) on. The caller
 * installs ops with tw_conn_set_ops() before returning to the loop.
 * Returns NULL with *err = -ENOMEM; fd is then still the caller's.
 */
struct tw_conn *tw_conn_create(struct tw_loop *loop, int fd,
			       const struct sockaddr *peer, socklen_t peerlen,
			       int *err);

void tw_conn_set_ops(struct tw_conn *c, const struct tw_conn_ops *ops,
		     void *ctx);

/*
 * Try the new connection at once, before epoll reports it: a fresh socket
 * is writable, and a client's first request is often already there, so
 * this saves a trip through the loop (one read says EAGAIN otherwise).
 */
void tw_conn_start(struct tw_conn *c);

/* Unconsumed input: valid until the callback returns or the next
 * tw_conn_consume(). *len is 0 when there is none. */
const char *tw_conn_data(const struct tw_conn *c, size_t *len);

/* Drop n bytes from the front of the input. */
void tw_conn_consume(struct tw_conn *c, size_t n);

/* True once the peer has shut down its sending side (read returned 0). */
bool tw_conn_eof(const struct tw_conn *c);

/* True if the input buffer is full (no more can be read until consumed). */
bool tw_conn_input_full(const struct tw_conn *c);

/*
 * Queue n bytes (copied) / the file range fd[off, off+len) (borrowed: fd
 * must stay open until on_drained or on_closed). Returns 0 or -ENOMEM
 * (-ENOBUFS if TW_CONN_MAX_SEGS segments are queued).
 */
int tw_conn_write(struct tw_conn *c, const void *p, size_t n);
int tw_conn_write_file(struct tw_conn *c, int fd, uint64_t off,
		       uint64_t len);

/* Start writing what is queued; on_drained follows when done. Called
 * outside the connection's callbacks, that may happen before this
 * returns; called inside one (on_data, on_drained), writing starts only
 * after that callback returns, so the protocol may still consume the
 * input its request slices point into. */
void tw_conn_send(struct tw_conn *c);

/* True if queued output has not been written yet. */
bool tw_conn_pending(const struct tw_conn *c);

/* Bytes of the queued output written so far since the queue was last
 * empty (for logging a response cut short). */
uint64_t tw_conn_bytes_sent(const struct tw_conn *c);

/*
 * Timeouts: fire on_timeout after ms. With TW_CONN_TIMEOUT_PROGRESS every
 * write that makes progress restarts the wait (a send timeout); without
 * it the deadline is absolute (a header deadline that a client cannot
 * stretch by trickling bytes). ms == 0 cancels.
 */
#define TW_CONN_TIMEOUT_PROGRESS 0x1u
void tw_conn_set_timeout(struct tw_conn *c, uint64_t ms, unsigned flags);

/* Half-close: no more output will follow (after the queue drains). */
void tw_conn_shutdown_write(struct tw_conn *c);

/*
 * Close now, discarding queued output. Safe from inside any callback: the
 * socket is closed at once, on_closed and the free happen after the
 * current event batch (tw_conn_reap).
 */
void tw_conn_close(struct tw_conn *c);

/* True once tw_conn_close() has been called. */
bool tw_conn_closing(const struct tw_conn *c);

/* Free the connections closed since the last call (on this thread). The
 * run layer calls it after every event batch. */
void tw_conn_reap(void);

/* Call fn(c, ctx) for every open connection of this thread, with the
 * ctx its protocol installed; fn may close c. */
void tw_conn_each(void (*fn)(struct tw_conn *c, void *ctx));

/* Close every connection of this thread and reap them (at stop). */
void tw_conn_close_all(void);

/*
 * How a thread's connections move file bytes, set by the run layer for
 * each event loop.
 */
struct tw_conn_opts {
	unsigned aio_threads;	/* the loop's aio pool; 0: none */
	/* File ranges of at least copy_min bytes go out by pread + send
	 * through a per-thread buffer instead of sendfile (UINT64_MAX:
	 * never, 0: always). Measured on loopback: sendfile wins up to
	 * about a megabyte, the copy by 20-40% on larger files. */
	uint64_t copy_min;
};

#define TW_CONN_COPY_AUTO	((uint64_t)2 << 20)

/* This thread's copy_min (see struct tw_conn_opts). */
void tw_conn_set_copy_min(uint64_t copy_min);

/*
 * Read cold file pages through this thread's aio pool (NULL: never).
 * Before each window of a file segment goes to sendfile, a read that
 * refuses to wait (RWF_NOWAIT) probes its first and last pages; if one
 * is not in memory, a pool thread reads the window first and the connection waits
 * for it, so the loop never blocks on the disk for one client. A closed
 * connection is freed only after its read is back.
 */
struct tw_aio;
void tw_conn_use_aio(struct tw_aio *a);

/* Open connections on this thread. */
size_t tw_conn_count(void);

/* Release this thread's cached buffers (at thread or process exit). */
void tw_conn_release_cache(void);

/* The peer's address as the kernel gave it (AF_UNSPEC if unknown). */
const struct sockaddr *tw_conn_peer_addr(const struct tw_conn *c);

/* The peer's address as text (IPv4-mapped IPv6 shown as IPv4). */
const char *tw_conn_peer(const struct tw_conn *c, char *buf, size_t len);

#endif /* TW_CONN_H */
