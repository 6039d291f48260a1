/* SPDX-License-Identifier: MIT */
/*
 * tls: OpenSSL 3 behind conn's I/O table. Layer 1: knows nothing of the
 * protocol it carries.
 */
#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "base/stats.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/tls_shared.h"

/*
 * Bytes gathered from several small segments into one record: a head
 * and a small body go out as one record, not one each. A TLS record
 * holds 16 KiB of plain text.
 */
#define STAGE_SIZE	(16 * 1024)
/* What a plain-text client may have sent before its error page goes. */
#define PLAIN_DRAIN_MAX	(64 * 1024)

/* ---- contexts ---------------------------------------------------------- */

static bool kernel_has_tls(void);

struct tls_name {
	char *name;		/* lowercase; "*.x" matches one label */
	SSL_CTX *ctx;
};

struct tw_tls_context {
	SSL_CTX *dflt;
	struct tls_name *names;
	size_t nnames;
	struct tw_tls_shared *shared;
	char *plain_reply;
	size_t plain_len;
	/* The settings, kept to build each name's SSL_CTX the same. */
	int min_version;
	int max_version;
	uint64_t no_versions;	/* SSL_OP_NO_TLSv1_x for gaps */
	char *ciphers;
};

/* Per connection: the io table's ctx. */
struct tls_conn {
	SSL *ssl;
	struct tw_tls_context *t;
	bool sniffed : 1;	/* the first byte looked like TLS */
	bool done : 1;		/* handshake finished */
	bool failed : 1;	/* a fatal error: no close_notify */
	bool shut : 1;		/* close_notify sent */
};

/* Gathering buffer for small segments (one per thread: rebuilt from the
 * queue on every call, so nothing in it outlives the call). */
static _Thread_local unsigned char stage[STAGE_SIZE];

/* The last OpenSSL error as text, and the queue cleared. */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r == NULL && e != 0 && ERR_GET_LIB(e) == ERR_LIB_SYS)
		r = strerror(ERR_GET_REASON(e));
	(void)snprintf(buf, len, "%s", r != NULL ? r : "unknown error");
	ERR_clear_error();
	return buf;
}

static int
select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	    const unsigned char *in, unsigned int inlen, void *arg)
{
	/* The list is ready for h2: the server's order wins. */
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static bool
name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (pattern[0] == '*' && pattern[1] == '.') {
		dot = strchr(name, '.');
		return dot != NULL && dot != name &&
		       strcasecmp(dot, pattern + 1) == 0;
	}
	return strcasecmp(pattern, name) == 0;
}

/* SNI: an exact name first, then a wildcard; unknown: the default. */
static int
select_name(SSL *ssl, int *alert, void *arg)
{
	struct tw_tls_context *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	SSL_CTX *found = NULL;
	size_t i;

	(void)alert;
	if (name == NULL || t->nnames == 0)
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < t->nnames && found == NULL; i++)
		if (t->names[i].name[0] != '*' &&
		    name_matches(t->names[i].name, name))
			found = t->names[i].ctx;
	for (i = 0; i < t->nnames && found == NULL; i++)
		if (t->names[i].name[0] == '*' &&
		    name_matches(t->names[i].name, name))
			found = t->names[i].ctx;
	if (found != NULL)
		(void)SSL_set_SSL_CTX(ssl, found);
	return SSL_TLSEXT_ERR_OK;
}

/* "TLSv1.2 TLSv1.3" -> the lowest and highest version and the gaps. */
static int
parse_protocols(struct tw_tls_context *t, const char *s, char *err,
		size_t errlen)
{
	static const struct { const char *name; int v; uint64_t no; } vs[] = {
		{ "TLSv1", TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ "TLSv1.1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ "TLSv1.2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ "TLSv1.3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	bool on[4] = { false };
	size_t i, n;

	while (*s != '\0') {
		s += strspn(s, " \t,");
		n = strcspn(s, " \t,");
		if (n == 0)
			break;
		for (i = 0; i < 4; i++)
			if (strlen(vs[i].name) == n &&
			    strncmp(vs[i].name, s, n) == 0)
				break;
		if (i == 4) {
			(void)snprintf(err, errlen, "tls protocols: '%.*s' is "
				       "not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
				       (int)n, s);
			return -1;
		}
		on[i] = true;
		s += n;
	}
	t->min_version = t->max_version = 0;
	t->no_versions = 0;
	for (i = 0; i < 4; i++) {
		if (on[i]) {
			if (t->min_version == 0)
				t->min_version = vs[i].v;
			t->max_version = vs[i].v;
		}
	}
	if (t->min_version == 0) {
		(void)snprintf(err, errlen, "tls protocols: none given");
		return -1;
	}
	for (i = 0; i < 4; i++)
		if (!on[i] && vs[i].v > t->min_version &&
		    vs[i].v < t->max_version)
			t->no_versions |= vs[i].no;
	return 0;
}

/* Whether path can be opened for reading: OpenSSL's own message for a
 * missing file is less clear than strerror. */
static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		(void)snprintf(err, errlen, "tls %s %s: %s", what, path,
			       strerror(errno));
		return -1;
	}
	(void)fclose(f);
	return 0;
}

static int
load_pair(SSL_CTX *ctx, const struct tw_tls_cert *p, char *err,
	  size_t errlen)
{
	char why[128];

	if (readable("certificate", p->cert, err, errlen) < 0 ||
	    readable("key", p->key, err, errlen) < 0)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1) {
		(void)snprintf(err, errlen, "tls certificate %s: %s", p->cert,
			       ssl_reason(why, sizeof(why)));
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, p->key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
		    ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH) {
			ERR_clear_error();
			(void)snprintf(err, errlen, "tls key %s does not match "
				       "certificate %s", p->key, p->cert);
		} else {
			(void)snprintf(err, errlen, "tls key %s: %s", p->key,
				       ssl_reason(why, sizeof(why)));
		}
		return -1;
	}
	/* A key of another type than its certificate lands in a slot of
	 * its own; this catches it. */
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		(void)snprintf(err, errlen, "tls key %s does not match "
			       "certificate %s", p->key, p->cert);
		return -1;
	}
	return 0;
}

static SSL_CTX *
new_ctx(struct tw_tls_context *t, const struct tw_tls_cert *certs,
	size_t ncerts, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[128];
	size_t i;

	if (ctx == NULL) {
		(void)snprintf(err, errlen, "tls: %s",
			       ssl_reason(why, sizeof(why)));
		return NULL;
	}
	/*
	 * No compression (CRIME), no renegotiation (a client's cheap way
	 * to make us work; OpenSSL 3 refuses the client's kind unless
	 * allowed, this refuses ours too), and no server cipher preference: the list has
	 * only strong ciphers, and the client knows best whether it has
	 * AES in hardware. A peer that closes without close_notify has
	 * merely left (HTTP frames its own bodies).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
			    SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_IGNORE_UNEXPECTED_EOF | t->no_versions);
	/* OpenSSL asks the kernel for its TLS ULP after each handshake:
	 * one failing setsockopt per connection where it has none. */
	if (kernel_has_tls())
		SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
	/*
	 * Partial writes: SSL_write reports each record as it goes, so a
	 * full socket costs no re-encryption; the queue may move between
	 * retries (conn's buffer grows); and an idle connection gives its
	 * 34 KiB of record buffers back.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Without the shared state a session resumes on no worker: a
	 * per-process cache would resume it on one of them only. */
	if (t->shared == NULL)
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_min_proto_version(ctx, t->min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, t->max_version) != 1) {
		(void)snprintf(err, errlen, "tls protocols: %s",
			       ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1) {
		(void)snprintf(err, errlen, "tls ciphers '%s': %s", t->ciphers,
			       ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_set1_groups_list(ctx, TW_TLS_GROUPS) != 1 ||
	    SSL_CTX_set_dh_auto(ctx, 1) != 1) {
		(void)snprintf(err, errlen, "tls groups: %s",
			       ssl_reason(why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, select_name);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);
	SSL_CTX_set_app_data(ctx, t);
	if (t->shared != NULL && tw_tls_shared_attach(ctx, t->shared) < 0) {
		(void)snprintf(err, errlen, "tls sessions: %s",
			       ssl_reason(why, sizeof(why)));
		goto fail;
	}
	for (i = 0; i < ncerts; i++)
		if (load_pair(ctx, &certs[i], err, errlen) < 0)
			goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tw_tls_context *
tw_tls_context_create(const struct tw_tls_opts *o, char *err, size_t errlen)
{
	struct tw_tls_context *t = calloc(1, sizeof(*t));

	if (t == NULL)
		goto nomem;
	if (o->ncerts == 0 || o->ncerts > TW_TLS_MAX_CERTS) {
		(void)snprintf(err, errlen, "tls: 1 to %d certificates and "
			       "keys are needed", TW_TLS_MAX_CERTS);
		goto fail;
	}
	t->shared = o->shared;
	t->ciphers = strdup(o->ciphers != NULL ? o->ciphers :
			    TW_TLS_CIPHERS_DEFAULT);
	if (t->ciphers == NULL)
		goto nomem;
	if (o->plain_reply != NULL) {
		t->plain_reply = malloc(o->plain_reply_len);
		if (t->plain_reply == NULL)
			goto nomem;
		memcpy(t->plain_reply, o->plain_reply, o->plain_reply_len);
		t->plain_len = o->plain_reply_len;
	}
	if (parse_protocols(t, o->protocols != NULL ? o->protocols :
			    TW_TLS_PROTOCOLS_DEFAULT, err, errlen) < 0)
		goto fail;
	t->dflt = new_ctx(t, o->certs, o->ncerts, err, errlen);
	if (t->dflt == NULL)
		goto fail;
	return t;
nomem:
	(void)snprintf(err, errlen, "tls: out of memory");
fail:
	tw_tls_context_destroy(t);
	return NULL;
}

int
tw_tls_context_add_name(struct tw_tls_context *t, const char *name,
			const struct tw_tls_cert *certs, size_t ncerts,
			char *err, size_t errlen)
{
	struct tls_name *names;
	SSL_CTX *ctx;
	char *copy;
	size_t i;

	if (t->nnames == TW_TLS_MAX_NAMES || ncerts == 0 ||
	    ncerts > TW_TLS_MAX_CERTS) {
		(void)snprintf(err, errlen, "tls %s: at most %d names of 1 to "
			       "%d certificates", name, TW_TLS_MAX_NAMES,
			       TW_TLS_MAX_CERTS);
		return -1;
	}
	ctx = new_ctx(t, certs, ncerts, err, errlen);
	if (ctx == NULL)
		return -1;
	names = realloc(t->names, (t->nnames + 1) * sizeof(*names));
	copy = strdup(name);
	if (names != NULL)
		t->names = names;
	if (names == NULL || copy == NULL) {
		free(copy);
		SSL_CTX_free(ctx);
		(void)snprintf(err, errlen, "tls: out of memory");
		return -1;
	}
	for (i = 0; copy[i] != '\0'; i++)
		if (copy[i] >= 'A' && copy[i] <= 'Z')
			copy[i] = (char)(copy[i] - 'A' + 'a');
	t->names[t->nnames].name = copy;
	t->names[t->nnames].ctx = ctx;
	t->nnames++;
	return 0;
}

void
tw_tls_context_destroy(struct tw_tls_context *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nnames; i++) {
		SSL_CTX_free(t->names[i].ctx);
		free(t->names[i].name);
	}
	free(t->names);
	SSL_CTX_free(t->dflt);
	free(t->ciphers);
	free(t->plain_reply);
	free(t);
}

/*
 * Whether this kernel takes the TLS ULP: a loopback connection is made
 * and asked, once. OpenSSL asks the same of every connection after its
 * handshake (SSL_OP_ENABLE_KTLS) and keeps to user space when refused.
 */
static bool
probe_kernel_tls(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = -1, c = -1, s = -1;
	bool ok = false;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto out;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ok = s >= 0 && setsockopt(c, IPPROTO_TCP, TCP_ULP, "tls",
				  sizeof("tls")) == 0;
out:
	if (s >= 0)
		(void)close(s);
	if (c >= 0)
		(void)close(c);
	if (l >= 0)
		(void)close(l);
	return ok;
}

/* Asked once per process, before any worker thread starts (contexts are
 * built first). */
static bool
kernel_has_tls(void)
{
	static int has = -1;

	if (has < 0)
		has = probe_kernel_tls();
	return has;
}

const char *
tw_tls_file_path(void)
{
	return kernel_has_tls() ?
		     "kernel TLS (SSL_sendfile) where the cipher allows" :
		     "copied through SSL_write in full records (this kernel "
		     "has no TLS ULP)";
}

/* ---- connections --------------------------------------------------------- */

static void
count_handshake(SSL *ssl)
{
	struct tw_stats *st = tw_stats_current();
	int v = SSL_version(ssl);

	if (st == NULL)
		return;
	tw_stats_add(&st->tls_handshakes, 1);
	if (SSL_session_reused(ssl))
		tw_stats_add(&st->tls_resumed, 1);
	tw_stats_add(v == TLS1_3_VERSION ? &st->tls_v13 :
		     v == TLS1_2_VERSION ? &st->tls_v12 : &st->tls_vold, 1);
}

/* A handshake that failed, or a client that spoke plain text. */
static void
count_refused(bool plain)
{
	struct tw_stats *st = tw_stats_current();

	if (st != NULL)
		tw_stats_add(plain ? &st->tls_plain : &st->tls_failed, 1);
}

static const struct tw_conn_io tls_io_ktls;

/*
 * A handshake step. reading: called from recv (a want of the write side
 * then waits for a write edge); else from sendv. Returns 0 once done,
 * -EAGAIN, or -EPROTO after a failure (logged at info: a client that
 * cannot agree with us is its operator's business, not ours).
 */
static int
handshake(struct tw_conn *c, struct tls_conn *ts, bool reading)
{
	char why[128], ip[64];
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(ts->ssl);
	if (r == 1) {
		ts->done = true;
		count_handshake(ts->ssl);
		/* The kernel encrypts from now on: files go by sendfile. */
		if (BIO_get_ktls_send(SSL_get_wbio(ts->ssl)))
			tw_conn_set_io(c, &tls_io_ktls, ts);
		return 0;
	}
	e = SSL_get_error(ts->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		if (!reading)
			tw_conn_io_wait(c, TW_LOOP_READ);
		return -EAGAIN;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		if (reading)
			tw_conn_io_wait(c, TW_LOOP_WRITE);
		return -EAGAIN;
	}
	ts->failed = true;
	count_refused(false);
	if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
		/* The client left mid-way: nothing to learn from it. */
		ERR_clear_error();
		tw_log(TW_LOG_DEBUG, 0, "TLS handshake with %s: the client "
		       "closed", tw_conn_peer(c, ip, sizeof(ip)));
	} else {
		tw_log(TW_LOG_INFO, 0, "TLS handshake with %s failed: %s",
		       tw_conn_peer(c, ip, sizeof(ip)),
		       ssl_reason(why, sizeof(why)));
	}
	return -EPROTO;
}

/*
 * A plain-text request on a TLS port: read what it sent (so the close
 * that follows is a FIN, not a reset that could destroy our answer in
 * the client's buffers), answer with the caller's page and half-close.
 */
static void
answer_plain(struct tw_conn *c, struct tls_conn *ts)
{
	int fd = tw_conn_fd(c);
	size_t drained = 0;
	char ip[64];

	count_refused(true);
	tw_log(TW_LOG_INFO, 0, "%s sent plain HTTP to a TLS port",
	       tw_conn_peer(c, ip, sizeof(ip)));
	while (drained < PLAIN_DRAIN_MAX) {
		ssize_t n = recv(fd, stage, sizeof(stage), MSG_DONTWAIT);

		if (n <= 0)
			break;
		drained += (size_t)n;
	}
	if (ts->t->plain_reply != NULL)
		(void)send(fd, ts->t->plain_reply, ts->t->plain_len,
			   MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(fd, SHUT_WR);
}

/*
 * Before the handshake: is the first byte a TLS handshake record (0x16)?
 * Returns 1 if so, 0 at the end of input, -EAGAIN, or -EPROTO for a
 * client that spoke something else (answered or logged, then closed).
 */
static int
sniff(struct tw_conn *c, struct tls_conn *ts)
{
	unsigned char b;
	ssize_t n = recv(tw_conn_fd(c), &b, 1, MSG_PEEK | MSG_DONTWAIT);
	char ip[64];

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (b == 0x16) {
		ts->sniffed = true;
		return 1;
	}
	ts->failed = true;
	if (b >= 'A' && b <= 'Z') {
		answer_plain(c, ts);
	} else {
		count_refused(false);
		tw_log(TW_LOG_INFO, 0, "%s sent no TLS handshake (first byte "
		       "0x%02x): closed", tw_conn_peer(c, ip, sizeof(ip)), b);
	}
	return -EPROTO;
}

static ssize_t
tls_recv(struct tw_conn *c, void *ctx, void *buf, size_t len)
{
	struct tls_conn *ts = ctx;
	size_t total = 0;
	int r, e;

	if (!ts->sniffed && (r = sniff(c, ts)) <= 0)
		return r;
	if (!ts->done && (r = handshake(c, ts, true)) < 0)
		return r;
	/*
	 * After our close_notify the peer's bytes are only lingered over
	 * and thrown away: read them raw. OpenSSL would take the EOF of a
	 * peer that closes without a close_notify of its own (most do) as
	 * fatal, and a fatal error drops the session from the cache.
	 */
	if (ts->shut) {
		ssize_t n = read(tw_conn_fd(c), buf, len);

		return n < 0 ? -errno : n;
	}
	if (len > INT_MAX)
		len = INT_MAX;
	/* Until the socket is empty or buf full: conn takes a short read
	 * for an empty socket, and a record may hold less than buf. */
	while (total < len) {
		ERR_clear_error();
		r = SSL_read(ts->ssl, (char *)buf + total, (int)(len - total));
		if (r > 0) {
			total += (size_t)r;
			continue;
		}
		e = SSL_get_error(ts->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_WANT_WRITE) {
			tw_conn_io_wait(c, TW_LOOP_WRITE);
			break;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			return (ssize_t)total;	/* close_notify or EOF */
		ts->failed = true;
		ERR_clear_error();
		return total > 0 ? (ssize_t)total : -ECONNRESET;
	}
	return total > 0 ? (ssize_t)total : -EAGAIN;
}

/* The bytes of one SSL_write: a large first segment as it is, small ones
 * gathered into a record. */
static const void *
gather(const struct iovec *iov, size_t iovcnt, size_t *len)
{
	size_t i, n = 0;

	if (iovcnt == 1 || iov[0].iov_len >= STAGE_SIZE) {
		*len = iov[0].iov_len;
		return iov[0].iov_base;
	}
	for (i = 0; i < iovcnt && n < STAGE_SIZE; i++) {
		size_t take = iov[i].iov_len;

		if (take > STAGE_SIZE - n)
			take = STAGE_SIZE - n;
		memcpy(stage + n, iov[i].iov_base, take);
		n += take;
	}
	*len = n;
	return stage;
}

/* Map a failed SSL_write or SSL_sendfile. */
static ssize_t
write_error(struct tw_conn *c, struct tls_conn *ts, int r)
{
	int e = SSL_get_error(ts->ssl, r);

	if (e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e == SSL_ERROR_WANT_READ) {
		tw_conn_io_wait(c, TW_LOOP_READ);
		return -EAGAIN;
	}
	ts->failed = true;
	ERR_clear_error();
	if (e == SSL_ERROR_SYSCALL && errno != 0)
		return -errno;
	return -ECONNRESET;
}

static ssize_t
tls_sendv(struct tw_conn *c, void *ctx, const struct iovec *iov,
	  size_t iovcnt, bool more)
{
	struct tls_conn *ts = ctx;
	const char *p;
	size_t len, total = 0;
	int r;

	(void)more;
	if (!ts->done && (r = handshake(c, ts, false)) < 0)
		return r;
	p = gather(iov, iovcnt, &len);
	if (len > INT_MAX)
		len = INT_MAX;
	/*
	 * Record after record until the socket is full. After a want, the
	 * next call starts where this one's complete records end, with at
	 * least the bytes of the record in flight (the queue only grows),
	 * as OpenSSL asks of a retried write.
	 */
	while (total < len) {
		ERR_clear_error();
		errno = 0;
		r = SSL_write(ts->ssl, p + total, (int)(len - total));
		if (r <= 0) {
			ssize_t err = write_error(c, ts, r);

			return total > 0 ? (ssize_t)total : err;
		}
		total += (size_t)r;
	}
	return (ssize_t)total;
}

static ssize_t
tls_sendfile(struct tw_conn *c, void *ctx, int fd, uint64_t off, size_t len)
{
	struct tls_conn *ts = ctx;
	ossl_ssize_t n;

	ERR_clear_error();
	errno = 0;
	n = SSL_sendfile(ts->ssl, fd, (off_t)off, len, 0);
	if (n >= 0)
		return (ssize_t)n;
	return write_error(c, ts, (int)n);
}

/* close_notify, once, on a connection in good standing: best effort on
 * a non-blocking socket. */
static void
notify_close(struct tls_conn *ts)
{
	if (!ts->done || ts->failed || ts->shut)
		return;
	ts->shut = true;
	ERR_clear_error();
	(void)SSL_shutdown(ts->ssl);
	ERR_clear_error();
}

static int
tls_shutdown(struct tw_conn *c, void *ctx)
{
	notify_close(ctx);
	return shutdown(tw_conn_fd(c), SHUT_WR) < 0 ? -errno : 0;
}

static void
tls_close(struct tw_conn *c, void *ctx)
{
	struct tls_conn *ts = ctx;

	notify_close(ts);
	SSL_free(ts->ssl);
	free(ts);
	(void)close(tw_conn_fd(c));
}

/* OpenSSL's names are static strings of its tables: nothing to free,
 * nothing copied per request. */
static void
tls_describe(const struct tw_conn *c, void *ctx, struct tw_conn_security *out)
{
	const struct tls_conn *ts = ctx;

	(void)c;
	out->secure = true;
	if (!ts->done)
		return;
	out->protocol = SSL_get_version(ts->ssl);
	out->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ts->ssl));
}

static const struct tw_conn_io tls_io = {
	.recv = tls_recv,
	.sendv = tls_sendv,
	.sendfile = NULL,	/* files by conn's copy path */
	.shutdown = tls_shutdown,
	.close = tls_close,
	.describe = tls_describe,
};

static const struct tw_conn_io tls_io_ktls = {
	.recv = tls_recv,
	.sendv = tls_sendv,
	.sendfile = tls_sendfile,
	.shutdown = tls_shutdown,
	.close = tls_close,
	.describe = tls_describe,
};

int
tw_tls_wrap(struct tw_conn *c, void *arg)
{
	struct tw_tls_context *t = arg;
	struct tls_conn *ts = calloc(1, sizeof(*ts));
	int one = 1;

	if (ts == NULL || (ts->ssl = SSL_new(t->dflt)) == NULL ||
	    SSL_set_fd(ts->ssl, tw_conn_fd(c)) != 1) {
		ERR_clear_error();
		if (ts != NULL)
			SSL_free(ts->ssl);
		free(ts);
		tw_conn_memory_short();
		tw_conn_close(c);
		return -ENOMEM;
	}
	ts->t = t;
	SSL_set_accept_state(ts->ssl);
	tw_conn_set_io(c, &tls_io, ts);
	/*
	 * The session tickets that follow a TLS 1.3 handshake are still
	 * unacknowledged when the first response goes: Nagle would hold it
	 * for the client's delayed ACK (40 ms per new connection, measured).
	 */
	(void)setsockopt(tw_conn_fd(c), IPPROTO_TCP, TCP_NODELAY, &one,
			 sizeof(one));
	return 0;
}
