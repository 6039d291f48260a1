/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for tls over real sockets: a tw_conn wrapped by tw_tls_wrap
 * runs on a real loop in the test's thread, an OpenSSL client with
 * blocking I/O in another. Socket buffers are made small, so handshakes
 * and records meet WANT_READ and WANT_WRITE on the server's side.
 * Certificates are made at test time with the openssl command in a
 * temporary directory (a CA, two server certificates, a stray key).
 *
 * Covered: a megabyte echoed both ways through records; a first flight
 * (a 12 KiB certificate) larger than the socket buffer; a file segment
 * sent by the copy path (no sendfile in the I/O table); SNI picking a
 * name's certificate, a wildcard's, and the default for unknown names;
 * plain text answered with the caller's bytes and closed; bytes that are
 * neither closed; a ticket from one context resumed by another sharing
 * the keys (two workers), and not by one without them; start-up errors
 * naming the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/conn.h"
#include "net/loop.h"
#include "net/tls.h"
#include "net/tls_shared.h"
#include "support/loop_guard.h"

#define GUARD_MS	10000
#define ECHO_LEN	(1024 * 1024)
#define FILE_LEN	(700 * 1024)
#define PLAIN_REPLY	"HTTP/1.1 400 Bad Request\r\n\r\nplain to tls\n"

static char dir[] = "/tmp/tinyweb-unit-tls-XXXXXX";
static char path_buf[8][256];

static const char *
path(int i, const char *name)
{
	(void)snprintf(path_buf[i], sizeof(path_buf[i]), "%s/%s", dir, name);
	return path_buf[i];
}

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A CA and certificates a, b (for SNI) and a stray key. */
static int
make_pki(void **state)
{
	static const char *const names[] = { "a", "b" };
	size_t i;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return -1;
	if (sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	       "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
	       "-days 2 -subj /CN=ca >/dev/null 2>&1 && openssl genpkey "
	       "-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out stray.key "
	       ">/dev/null 2>&1", dir) != 0)
		return -1;
	/* A certificate of some 12 KiB (400 names): the server's first
	 * flight does not fit the socket buffer. */
	if (sh("cd %s && printf 'subjectAltName=DNS:big0.example' > big.ext "
	       "&& for i in $(seq 1 400); do printf ',DNS:name-%%d.big.example' "
	       "$i >> big.ext; done && openssl genpkey -algorithm EC -pkeyopt "
	       "ec_paramgen_curve:P-256 -out big.key >/dev/null 2>&1 && "
	       "openssl req -new -key big.key -subj /CN=big -out big.csr "
	       ">/dev/null 2>&1 && openssl x509 -req -in big.csr -CA ca.pem "
	       "-CAkey ca.key -CAcreateserial -days 2 -extfile big.ext "
	       "-out big.pem >/dev/null 2>&1", dir) != 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (sh("cd %s && openssl genpkey -algorithm EC -pkeyopt "
		       "ec_paramgen_curve:P-256 -out %s.key >/dev/null 2>&1 && "
		       "openssl req -new -key %s.key -subj /CN=%s -out %s.csr "
		       ">/dev/null 2>&1 && openssl x509 -req -in %s.csr -CA "
		       "ca.pem -CAkey ca.key -CAcreateserial -days 2 -out %s.pem "
		       ">/dev/null 2>&1", dir, names[i], names[i], names[i],
		       names[i], names[i], names[i]) != 0)
			return -1;
	return 0;
}

static int
remove_pki(void **state)
{
	(void)state;
	return sh("rm -rf %s", dir) == 0 ? 0 : -1;
}

/* ---- the server side: an echo, or a file on the first bytes ---- */

struct server {
	struct tw_conn *c;
	int file_fd;		/* >= 0: send it on the first bytes */
	bool sent_file;
	bool closed;
};

static void
on_data(struct tw_conn *c, void *ctx)
{
	struct server *s = ctx;
	size_t len;
	const char *p = tw_conn_data(c, &len);

	if (s->file_fd >= 0) {
		if (len > 0 && !s->sent_file) {
			s->sent_file = true;
			assert_int_equal(tw_conn_write_file(c, s->file_fd, 0,
							    FILE_LEN), 0);
		}
	} else if (len > 0) {
		assert_int_equal(tw_conn_write(c, p, len), 0);
	}
	tw_conn_consume(c, len);
	if (tw_conn_eof(c) && !tw_conn_pending(c))
		tw_conn_close(c);
	else
		tw_conn_send(c);
}

static void
on_drained(struct tw_conn *c, void *ctx)
{
	(void)ctx;
	if (tw_conn_eof(c))
		tw_conn_close(c);
}

static void
on_timeout(struct tw_conn *c, void *ctx)
{
	(void)ctx;
	tw_conn_close(c);
}

static void
on_closed(struct tw_conn *c, void *ctx)
{
	(void)c;
	((struct server *)ctx)->closed = true;
}

static const struct tw_conn_ops ops = {
	.on_data = on_data,
	.on_drained = on_drained,
	.on_timeout = on_timeout,
	.on_closed = on_closed,
};

static void
after_batch(struct tw_loop *loop, void *ctx)
{
	struct server *s = ctx;

	tw_conn_reap(loop);
	if (s->closed)
		tw_loop_stop(loop);
}

/* A socketpair with small buffers: fds[0] the server's, non-blocking. */
static void
small_pair(int fds[2])
{
	int small = 4096;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	(void)setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	(void)setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
}

/* Serve fd through t on a fresh loop until the connection closes. */
static void
serve(struct tw_tls_context *t, int fd, int file_fd)
{
	struct server s = { .file_fd = file_fd };
	struct loop_guard g = { 0 };
	struct tw_loop *loop;
	int err;

	loop = tw_loop_create(64, &err);
	assert_non_null(loop);
	s.c = tw_conn_create(loop, fd, NULL, 0, &err);
	assert_non_null(s.c);
	assert_int_equal(tw_tls_wrap(s.c, t), 0);
	tw_conn_set_ops(s.c, &ops, &s);
	tw_conn_set_timeout(s.c, GUARD_MS, 0);
	tw_conn_start(s.c);
	/* Bytes already there may end it in its first run, before any
	 * event batch would reap it. */
	tw_conn_reap(loop);
	tw_loop_set_after_batch(loop, after_batch, &s);
	if (!s.closed)
		loop_guard_run(loop, &g, GUARD_MS);
	tw_conn_close_all(loop);
	tw_loop_destroy(loop);
	assert_false(g.fired);
	assert_true(s.closed);
}

/* ---- the client side, in a thread ---- */

struct client {
	int fd;
	const char *sni;		/* or NULL */
	SSL_SESSION *session;		/* in: resume it; out: the new one */
	const char *plain;		/* send these bytes without TLS */
	bool file;			/* read FILE_LEN bytes of the file */
	bool slow_reader;		/* pause before reading the flight */
	bool by_id;			/* TLS 1.2 without tickets */
	/* results */
	bool handshake_ok;
	bool reused;
	char subject[64];
	unsigned char *got;
	size_t ngot;
	bool match;
};

static SSL_CTX *
client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, path(7, "ca.pem"),
						       NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 9));
}

/* Write the echo's input while reading its output: the server answers
 * as bytes arrive, and small buffers would deadlock a write-then-read. */
static void
echo_both_ways(SSL *ssl, struct client *cl)
{
	unsigned char *out = malloc(ECHO_LEN);
	size_t sent = 0;

	cl->got = malloc(ECHO_LEN);
	if (out == NULL || cl->got == NULL)
		return;
	for (size_t i = 0; i < ECHO_LEN; i++)
		out[i] = pattern(i);
	while (cl->ngot < ECHO_LEN) {
		if (sent < ECHO_LEN) {
			int n = SSL_write(ssl, out + sent, sent + 7000 <=
					  ECHO_LEN ? 7000 :
					  (int)(ECHO_LEN - sent));

			if (n <= 0)
				break;
			sent += (size_t)n;
		}
		while (cl->ngot < sent) {
			int n = SSL_read(ssl, cl->got + cl->ngot,
					 (int)(ECHO_LEN - cl->ngot));

			if (n <= 0)
				goto out;
			cl->ngot += (size_t)n;
			if (SSL_pending(ssl) == 0)
				break;
		}
	}
out:
	cl->match = cl->ngot == ECHO_LEN && memcmp(out, cl->got, ECHO_LEN) == 0;
	free(out);
}

/* After the ClientHello, before reading the server's flight: a pause so
 * that the flight meets a full socket buffer. */
static void
pause_before_flight(const SSL *ssl, int where, int ret)
{
	static _Thread_local bool paused;

	(void)ret;
	if ((where & SSL_CB_LOOP) && !paused &&
	    SSL_get_state(ssl) == TLS_ST_CR_SRVR_HELLO) {
		paused = true;
		(void)usleep(300 * 1000);
	}
}

static void *
client_run(void *arg)
{
	struct client *cl = arg;
	SSL_CTX *ctx;
	SSL *ssl;
	X509 *peer;

	if (cl->plain != NULL) {
		char buf[512];
		ssize_t n;

		(void)write(cl->fd, cl->plain, strlen(cl->plain));
		cl->got = calloc(1, 4096);
		while (cl->got != NULL && cl->ngot < 4000 &&
		       (n = read(cl->fd, buf, sizeof(buf))) > 0) {
			memcpy(cl->got + cl->ngot, buf, (size_t)n);
			cl->ngot += (size_t)n;
		}
		(void)close(cl->fd);
		return NULL;
	}
	ctx = client_ctx();
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, cl->fd);
	if (cl->sni != NULL)
		SSL_set_tlsext_host_name(ssl, cl->sni);
	if (cl->session != NULL)
		SSL_set_session(ssl, cl->session);
	if (cl->slow_reader)
		SSL_set_info_callback(ssl, pause_before_flight);
	if (cl->by_id) {
		SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
		SSL_set_options(ssl, SSL_OP_NO_TICKET);
	}
	cl->handshake_ok = SSL_connect(ssl) == 1;
	if (!cl->handshake_ok)
		goto out;
	cl->reused = SSL_session_reused(ssl);
	peer = SSL_get1_peer_certificate(ssl);
	if (peer != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
					  NID_commonName, cl->subject,
					  sizeof(cl->subject));
		X509_free(peer);
	}
	if (cl->file) {
		int n;

		cl->got = malloc(FILE_LEN + 1);
		(void)SSL_write(ssl, "go", 2);
		while (cl->got != NULL && cl->ngot < FILE_LEN &&
		       (n = SSL_read(ssl, cl->got + cl->ngot,
				     (int)(FILE_LEN + 1 - cl->ngot))) > 0)
			cl->ngot += (size_t)n;
	} else {
		echo_both_ways(ssl, cl);
	}
	if (cl->session != NULL)
		SSL_SESSION_free(cl->session);
	cl->session = SSL_get1_session(ssl);
	(void)SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	(void)shutdown(cl->fd, SHUT_RDWR);
	(void)close(cl->fd);
	return NULL;
}

/* ---- helpers ---- */

static struct tw_tls_context *
context(const char *name, struct tw_tls_shared *shared)
{
	struct tw_tls_cert cert = { path(0, "a.pem"), path(1, "a.key") };
	struct tw_tls_opts o = {
		.certs = &cert, .ncerts = 1, .shared = shared,
		.plain_reply = PLAIN_REPLY,
		.plain_reply_len = sizeof(PLAIN_REPLY) - 1,
	};
	struct tw_tls_cert b = { path(2, "b.pem"), path(3, "b.key") };
	char err[512];
	struct tw_tls_context *t = tw_tls_context_create(&o, err, sizeof(err));

	if (t == NULL)
		fail_msg("%s", err);
	if (name != NULL &&
	    tw_tls_context_add_name(t, name, &b, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return t;
}

/* Run one client against one served connection. */
static void
exchange(struct tw_tls_context *t, struct client *cl, int file_fd)
{
	pthread_t th;
	int fds[2];

	small_pair(fds);
	cl->fd = fds[1];
	assert_int_equal(pthread_create(&th, NULL, client_run, cl), 0);
	serve(t, fds[0], file_fd);
	assert_int_equal(pthread_join(th, NULL), 0);
}

/* ---- tests ---- */

static void
echo_a_megabyte(void **state)
{
	struct tw_tls_context *t = context(NULL, NULL);
	struct client cl = { 0 };

	(void)state;
	exchange(t, &cl, -1);
	assert_true(cl.handshake_ok);
	assert_int_equal(cl.ngot, ECHO_LEN);
	assert_true(cl.match);
	assert_string_equal(cl.subject, "a");
	free(cl.got);
	SSL_SESSION_free(cl.session);
	tw_tls_context_destroy(t);
}

/* The first flight overflows the socket buffer: the handshake, driven
 * by a read, waits for the socket to drain (tw_conn_io_wait). */
static void
handshake_larger_than_the_buffer(void **state)
{
	struct tw_tls_cert cert = { path(0, "big.pem"), path(1, "big.key") };
	struct tw_tls_opts o = { .certs = &cert, .ncerts = 1 };
	char err[512];
	struct tw_tls_context *t = tw_tls_context_create(&o, err, sizeof(err));
	struct client cl = { .slow_reader = true };

	(void)state;
	if (t == NULL)
		fail_msg("%s", err);
	exchange(t, &cl, -1);
	assert_true(cl.handshake_ok);
	assert_string_equal(cl.subject, "big");
	assert_true(cl.match);
	free(cl.got);
	SSL_SESSION_free(cl.session);
	tw_tls_context_destroy(t);
}

static void
file_by_copy_path(void **state)
{
	struct tw_tls_context *t = context(NULL, NULL);
	struct client cl = { .file = true };
	unsigned char *want = malloc(FILE_LEN);
	FILE *f = tmpfile();
	size_t i;

	(void)state;
	assert_non_null(want);
	assert_non_null(f);
	for (i = 0; i < FILE_LEN; i++)
		want[i] = pattern(i * 7);
	assert_int_equal(fwrite(want, 1, FILE_LEN, f), FILE_LEN);
	assert_int_equal(fflush(f), 0);
	exchange(t, &cl, fileno(f));
	assert_true(cl.handshake_ok);
	assert_int_equal(cl.ngot, FILE_LEN);
	assert_memory_equal(cl.got, want, FILE_LEN);
	free(cl.got);
	free(want);
	(void)fclose(f);
	SSL_SESSION_free(cl.session);
	tw_tls_context_destroy(t);
}

static void
sni_picks_the_certificate(void **state)
{
	static const struct { const char *name, *sni, *want; } rows[] = {
		{ "b.example", "b.example", "b" },
		{ "b.example", "B.Example", "b" },
		{ "b.example", "c.example", "a" },
		{ "b.example", NULL, "a" },
		{ "*.w.example", "x.w.example", "b" },
		{ "*.w.example", "w.example", "a" },
		{ "*.w.example", "x.y.w.example", "a" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tw_tls_context *t = context(rows[i].name, NULL);
		struct client cl = { .sni = rows[i].sni };

		exchange(t, &cl, -1);
		assert_true(cl.handshake_ok);
		assert_true(cl.match);
		if (strcmp(cl.subject, rows[i].want) != 0)
			fail_msg("row %zu: %s got %s", i, rows[i].sni,
				 cl.subject);
		free(cl.got);
		SSL_SESSION_free(cl.session);
		tw_tls_context_destroy(t);
	}
}

static void
plain_text_gets_the_reply(void **state)
{
	struct tw_tls_context *t = context(NULL, NULL);
	struct client cl = { .plain = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" };

	(void)state;
	exchange(t, &cl, -1);
	assert_int_equal(cl.ngot, sizeof(PLAIN_REPLY) - 1);
	assert_memory_equal(cl.got, PLAIN_REPLY, cl.ngot);
	free(cl.got);
	tw_tls_context_destroy(t);
}

static void
garbage_is_closed(void **state)
{
	struct tw_tls_context *t = context(NULL, NULL);
	struct client cl = { .plain = "\x01\x02garbage" };

	(void)state;
	exchange(t, &cl, -1);
	assert_int_equal(cl.ngot, 0);
	free(cl.got);
	tw_tls_context_destroy(t);
}

/*
 * Two contexts as two workers: with the shared state a session one made
 * is resumed by the other, by ticket (TLS 1.3) or by ID (TLS 1.2
 * without tickets); without it, it is not.
 */
static void
resume_across(bool by_id)
{
	struct tw_tls_shared *shared;
	struct tw_tls_context *w1, *w2, *w3;
	struct client first = { .by_id = by_id }, again = { .by_id = by_id },
		      other = { .by_id = by_id };
	int err;

	shared = tw_tls_shared_create(&err);
	assert_non_null(shared);
	w1 = context(NULL, shared);
	w2 = context(NULL, shared);
	w3 = context(NULL, NULL);
	exchange(w1, &first, -1);
	assert_true(first.handshake_ok);
	assert_false(first.reused);
	assert_non_null(first.session);
	if (by_id) {
		unsigned int id_len;

		(void)SSL_SESSION_get_id(first.session, &id_len);
		assert_int_equal(id_len, 32);
		assert_false(SSL_SESSION_has_ticket(first.session));
	}
	again.session = SSL_SESSION_dup(first.session);
	exchange(w2, &again, -1);
	assert_true(again.handshake_ok);
	assert_true(again.reused);
	other.session = SSL_SESSION_dup(first.session);
	exchange(w3, &other, -1);
	assert_true(other.handshake_ok);
	assert_false(other.reused);
	free(first.got);
	free(again.got);
	free(other.got);
	SSL_SESSION_free(first.session);
	SSL_SESSION_free(again.session);
	SSL_SESSION_free(other.session);
	tw_tls_context_destroy(w1);
	tw_tls_context_destroy(w2);
	tw_tls_context_destroy(w3);
	tw_tls_shared_destroy(shared);
}

static void
tickets_shared(void **state)
{
	(void)state;
	resume_across(false);
}

static void
session_ids_shared(void **state)
{
	(void)state;
	resume_across(true);
}

/* A TLS 1.2 session with a chosen ID and lifetime, as a handshake
 * would make one. */
static SSL_SESSION *
fake_session(SSL *ssl, uint32_t n, int version, long made, long timeout)
{
	static const unsigned char gcm[2] = { 0xc0, 0x2b };
	unsigned char id[32] = { 0 }, key[48];
	SSL_SESSION *sess = SSL_SESSION_new();

	assert_non_null(sess);
	memcpy(id, &n, sizeof(n));
	memset(key, (int)(n & 0xff), sizeof(key));
	assert_int_equal(SSL_SESSION_set1_id(sess, id, sizeof(id)), 1);
	assert_int_equal(SSL_SESSION_set1_master_key(sess, key, sizeof(key)),
			 1);
	assert_int_equal(SSL_SESSION_set_protocol_version(sess, version), 1);
	assert_int_equal(SSL_SESSION_set_cipher(sess,
						SSL_CIPHER_find(ssl, gcm)), 1);
	(void)SSL_SESSION_set_time(sess, made);
	(void)SSL_SESSION_set_timeout(sess, timeout);
	return sess;
}

/* Is session n in the table? Its master key says it is n's. */
static bool
table_has(SSL_CTX *ctx, SSL *ssl, uint32_t n)
{
	unsigned char id[32] = { 0 }, key[48];
	int copy = -1;
	SSL_SESSION *sess;
	bool ok;

	memcpy(id, &n, sizeof(n));
	sess = SSL_CTX_sess_get_get_cb(ctx)(ssl, id, sizeof(id), &copy);
	if (sess == NULL)
		return false;
	assert_int_equal(copy, 0);
	assert_int_equal(SSL_SESSION_get_master_key(sess, key, sizeof(key)),
			 sizeof(key));
	ok = key[0] == (unsigned char)(n & 0xff) &&
	     key[47] == (unsigned char)(n & 0xff);
	SSL_SESSION_free(sess);
	return ok;
}

static void
table_put(SSL_CTX *ctx, SSL *ssl, SSL_SESSION *sess)
{
	/* 0: the table keeps a copy, not OpenSSL's reference. */
	assert_int_equal(SSL_CTX_sess_get_new_cb(ctx)(ssl, sess), 0);
	SSL_SESSION_free(sess);
}

/*
 * The table through OpenSSL's callbacks: twice as many sessions as it
 * holds, each living longer than the one before; the newest are found,
 * the oldest made room, no more than TW_TLS_SESSIONS are kept; expired
 * and TLS 1.3 sessions are not found; a removed one is gone.
 */
static void
session_table(void **state)
{
	struct tw_tls_shared *shared;
	SSL_CTX *ctx;
	SSL *ssl;
	long now = (long)time(NULL);
	uint32_t i, n = 2 * TW_TLS_SESSIONS, found = 0;
	unsigned char id[32] = { 0 };

	(void)state;
	shared = tw_tls_shared_create(&(int){ 0 });
	assert_non_null(shared);
	ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(tw_tls_shared_attach(ctx, shared), 0);
	ssl = SSL_new(ctx);
	assert_non_null(ssl);
	for (i = 0; i < n; i++)
		table_put(ctx, ssl, fake_session(ssl, i, TLS1_2_VERSION, now,
						 600 + (long)i));
	for (i = 0; i < n; i++)
		found += table_has(ctx, ssl, i);
	assert_true(found <= TW_TLS_SESSIONS);
	for (i = n - 64; i < n; i++)
		assert_true(table_has(ctx, ssl, i));
	for (i = 0; i < 64; i++)
		assert_false(table_has(ctx, ssl, i));

	table_put(ctx, ssl, fake_session(ssl, n, TLS1_2_VERSION, now - 1000,
					 300));
	assert_false(table_has(ctx, ssl, n));
	table_put(ctx, ssl, fake_session(ssl, n + 1, TLS1_3_VERSION, now,
					 300));
	assert_false(table_has(ctx, ssl, n + 1));

	i = n - 1;
	memcpy(id, &i, sizeof(i));
	{
		SSL_SESSION *gone = fake_session(ssl, i, TLS1_2_VERSION, now,
						 300);

		SSL_CTX_sess_get_remove_cb(ctx)(ctx, gone);
		SSL_SESSION_free(gone);
	}
	assert_false(table_has(ctx, ssl, n - 1));
	assert_true(table_has(ctx, ssl, n - 2));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	tw_tls_shared_destroy(shared);
}

static void
errors_name_the_file(void **state)
{
	static const struct { int cert, key; const char *want; } rows[] = {
		{ 0, 4, "does not match certificate" },
		{ 5, 1, ": No such file or directory" },
		{ 0, 5, ": No such file or directory" },
		{ 1, 1, "tls certificate " },
	};
	size_t i;

	(void)state;
	path(4, "stray.key");
	path(5, "missing.pem");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tw_tls_cert c = { path_buf[rows[i].cert],
					 path_buf[rows[i].key] };
		struct tw_tls_opts o = { .certs = &c, .ncerts = 1 };
		char err[512] = "";

		(void)path(0, "a.pem");
		(void)path(1, "a.key");
		c.cert = path_buf[rows[i].cert];
		c.key = path_buf[rows[i].key];
		assert_null(tw_tls_context_create(&o, err, sizeof(err)));
		if (strstr(err, rows[i].want) == NULL ||
		    strstr(err, path_buf[rows[i].key == 4 ? 4 : rows[i].cert ==
					 5 ? 5 : rows[i].key]) == NULL)
			fail_msg("row %zu: '%s'", i, err);
	}
}

static void
protocols_are_checked(void **state)
{
	struct tw_tls_cert c = { path(0, "a.pem"), path(1, "a.key") };
	struct tw_tls_opts o = { .certs = &c, .ncerts = 1,
				 .protocols = "TLSv1.2 TLSv1.4" };
	char err[512] = "";

	(void)state;
	assert_null(tw_tls_context_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "'TLSv1.4'"));
	o.protocols = "TLSv1.3";
	o.ciphers = "NO-SUCH";
	assert_null(tw_tls_context_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "tls ciphers 'NO-SUCH'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(echo_a_megabyte),
		cmocka_unit_test(handshake_larger_than_the_buffer),
		cmocka_unit_test(file_by_copy_path),
		cmocka_unit_test(sni_picks_the_certificate),
		cmocka_unit_test(plain_text_gets_the_reply),
		cmocka_unit_test(garbage_is_closed),
		cmocka_unit_test(tickets_shared),
		cmocka_unit_test(session_ids_shared),
		cmocka_unit_test(session_table),
		cmocka_unit_test(errors_name_the_file),
		cmocka_unit_test(protocols_are_checked),
	};

	return cmocka_run_group_tests_name("tls", tests, make_pki, remove_pki);
}
