/* SPDX-License-Identifier: MIT */
/*
 * conn: one non-blocking stream socket. Reads into a buffer, writes a
 * queue of byte, shared-page and file segments (writev/sendmsg and
 * sendfile), runs one timeout, and calls the protocol that owns it
 * through a small table of callbacks. Layer 1 (transport): it moves bytes and file ranges and
 * knows nothing of HTTP.
 *
 * An idle connection (no unread input, nothing queued) holds no buffers:
 * they go back to its loop's free list and are taken again when bytes
 * arrive, so thousands of idle keep-alive connections cost only their
 * small struct.
 *
 * Everything connections share (free lists, the reap list, the struct
 * pool, the aio pool, the copy buffer) lives in their event loop's
 * context (tw_loop_get), so two loops on one thread never mix state.
 *
 * Bytes move through an I/O table (struct tw_conn_io): the plain socket
 * by default, another (TLS) once installed with tw_conn_set_io.
 */
#ifndef TW_CONN_H
#define TW_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tw_conn;
struct tw_loop;
struct tw_page;

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
	/* Outbound only (tw_conn_connect): the connection is established
	 * and from now on an ordinary conn ... */
	void (*on_connected)(struct tw_conn *c, void *ctx);
	/* ... or it could not be: err is -ECONNREFUSED, -ETIMEDOUT, ...
	 * The conn is closed after this returns (on_closed follows). */
	void (*on_error)(struct tw_conn *c, void *ctx, int err);
};

/* A connection's transport as the layers above may name it. */
struct tw_conn_security {
	bool secure;		/* encrypted (TLS) */
	const char *protocol;	/* "TLSv1.3"; static strings, NULL when */
	const char *cipher;	/* not secure or not agreed yet */
};

/*
 * How a connection moves its bytes. Each call returns bytes moved (recv:
 * 0 at end of input) or -errno, -EAGAIN when it would block. sendfile may
 * be NULL: file segments then go by pread into the loop's copy buffer and
 * sendv. close releases the socket (and ctx's per-connection state); it
 * is called once, from tw_conn_close.
 */
struct tw_conn_io {
	ssize_t (*recv)(struct tw_conn *c, void *ctx, void *buf, size_t len);
	ssize_t (*sendv)(struct tw_conn *c, void *ctx,
			 const struct iovec *iov, size_t iovcnt, bool more);
	ssize_t (*sendfile)(struct tw_conn *c, void *ctx, int fd,
			    uint64_t off, size_t len);
	int (*shutdown)(struct tw_conn *c, void *ctx);	/* no more output */
	void (*close)(struct tw_conn *c, void *ctx);
	/* Optional (NULL: a plain stream): what protects the bytes, for
	 * the layers above that must not know the transport (a log line,
	 * http or https in a redirect). */
	void (*describe)(const struct tw_conn *c, void *ctx,
			 struct tw_conn_security *out);
};

/* read/sendmsg/sendfile/shutdown/close on the socket: the default. */
extern const struct tw_conn_io tw_conn_io_plain;

/* Move c's bytes through io from now on (io_ctx is passed to each call). */
void tw_conn_set_io(struct tw_conn *c, const struct tw_conn_io *io,
		    void *io_ctx);

/*
 * For an I/O table whose call just returned -EAGAIN for want of the
 * other direction (a TLS read that must first write handshake bytes, a
 * write that must first read some): the next event of events
 * (TW_LOOP_WRITE for a read, TW_LOOP_READ for a write) retries it. Edge
 * triggering reports each direction once; without this the call would
 * wait for an edge of its own that may never come.
 */
void tw_conn_io_wait(struct tw_conn *c, unsigned events);

/* Fill *out from c's I/O table: all zero for a plain socket. No system
 * call, no allocation: cheap enough for every request. */
void tw_conn_security(const struct tw_conn *c, struct tw_conn_security *out);

/* True if c's I/O table encrypts (TLS), handshake done or not. */
bool tw_conn_is_secure(const struct tw_conn *c);

/* The socket (for an I/O table) and the loop c lives on. */
int tw_conn_fd(const struct tw_conn *c);
struct tw_loop *tw_conn_loop(const struct tw_conn *c);

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
 * Open an outbound connection to the numeric address addr (no DNS): a
 * non-blocking connect whose outcome comes from the loop, never before
 * this returns, as ops->on_connected or ops->on_error (-ETIMEDOUT once
 * timeout_ms passes; 0: no limit). Writes may be queued meanwhile: they
 * go out once connected; tw_conn_set_timeout waits until then too.
 * Returns NULL with *err = -errno if not even the socket could be made.
 */
struct tw_conn *tw_conn_connect(struct tw_loop *loop,
				const struct sockaddr *addr,
				socklen_t addrlen, uint64_t timeout_ms,
				const struct tw_conn_ops *ops, void *ctx,
				int *err);

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

/*
 * Read what has arrived now, without waiting. True if input is buffered,
 * the peer shut down, or the connection failed: anything but a socket
 * with nothing to give. Costs one read when nothing is buffered and the
 * socket has not said it is empty (a short read or EAGAIN, with no
 * readiness since).
 */
bool tw_conn_read_now(struct tw_conn *c);

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

/*
 * Queue the bytes p->data[off, off+len) by reference: no copy, however
 * many connections send the same page. The connection takes a reference
 * of its own (the caller keeps its one) and drops it as soon as the
 * range is written, or when the connection closes. Returns as
 * tw_conn_write.
 */
int tw_conn_write_page(struct tw_conn *c, struct tw_page *p, size_t off,
		       size_t len);

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
 * stretch by trickling bytes). ms == 0 cancels. Any minimum rate set
 * before is cleared.
 */
#define TW_CONN_TIMEOUT_PROGRESS 0x1u
void tw_conn_set_timeout(struct tw_conn *c, uint64_t ms, unsigned flags);

/*
 * Make the progress timeout just set (tw_conn_set_timeout with
 * TW_CONN_TIMEOUT_PROGRESS, output queued) also demand rate bytes a
 * second: progress alone no longer restarts the wait if, over a span of
 * at least ms since the last check, fewer than rate * span bytes went
 * out; on_timeout then follows from the loop, as for a stall. So a peer
 * taking a few bytes now and then cannot hold its connection and the
 * queued output forever. 0: progress alone suffices. Lasts until the
 * next tw_conn_set_timeout or until the queue drains.
 */
void tw_conn_set_min_rate(struct tw_conn *c, uint64_t rate);

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

/* Free the connections of loop closed since the last call. The run
 * layer calls it after every event batch. */
void tw_conn_reap(struct tw_loop *loop);

/* Close every open connection of loop and reap them (at stop, before the
 * protocols' loop_exit and tw_loop_destroy). A connection counts as open
 * from the end of its first run (tw_conn_start) or tw_conn_connect. */
void tw_conn_close_all(struct tw_loop *loop);

/*
 * How a loop's connections move file bytes, set by the run layer for
 * each event loop.
 */
struct tw_conn_opts {
	unsigned aio_threads;	/* the loop's aio pool; 0: none */
	/* File ranges of at least copy_min bytes go out by pread + send
	 * through the loop's buffer instead of sendfile (UINT64_MAX:
	 * never, 0: always). Measured on loopback with 64 KiB turns:
	 * sendfile level or ahead up to 512 KiB, the copy ahead from
	 * 640 KiB (1.3-1.5x at 1 MiB), and a small request's p99 beside
	 * streaming 1 MiB files 0.42x of sendfile's. On loopback the
	 * reader is a process here, and with sendfile it copies from
	 * page-cache pages: 3x its kernel time in one profile, against
	 * copying bytes the server has just written. */
	uint64_t copy_min;
};

#define TW_CONN_COPY_AUTO	(((uint64_t)512 << 10) + 1)	/* over 512 KiB */

/* loop's copy_min (see struct tw_conn_opts). Returns 0 or -ENOMEM. */
int tw_conn_set_copy_min(struct tw_loop *loop, uint64_t copy_min);

/*
 * Read cold file pages of loop's connections through the aio pool a
 * (NULL: never); returns 0 or -ENOMEM.
 * Before each window of a file segment goes to sendfile, net/resident
 * asks whether its pages are in memory (RWF_NOWAIT probes of its first
 * and last pages; mincore where the file system refuses those); if not,
 * or if nobody can tell, a pool thread reads the window first and the
 * connection waits for it, so the loop never blocks on the disk for one
 * client. A closed connection is freed only after its read is back.
 */
struct tw_aio;
int tw_conn_use_aio(struct tw_loop *loop, struct tw_aio *a);

/* The aio pool loop's connections use (borrowed), or NULL: none, so
 * other work kept off the loop (compression) goes to the same threads. */
struct tw_aio *tw_conn_aio(const struct tw_loop *loop);

/* Connections of loop not freed yet. */
size_t tw_conn_count(struct tw_loop *loop);

/* Release loop's cached buffers early (tw_loop_destroy frees them and
 * the rest of conn's state anyway). */
void tw_conn_release_cache(struct tw_loop *loop);

/* The peer's address as the kernel gave it (AF_UNSPEC if unknown),
 * except that an IPv4-mapped IPv6 address (an IPv4 client of a
 * dual-stack socket) is given as the AF_INET address it stands for. */
const struct sockaddr *tw_conn_peer_addr(const struct tw_conn *c);

/* The peer's address as text (IPv4-mapped IPv6 shown as IPv4). */
const char *tw_conn_peer(const struct tw_conn *c, char *buf, size_t len);

/* A connection is being closed for want of memory: logs one line per
 * shortage for the process (a later connection that gets its memory
 * ends the shortage), not one per connection. */
void tw_conn_memory_short(void);

#endif /* TW_CONN_H */
