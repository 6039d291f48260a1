/* SPDX-License-Identifier: MIT */
/*
 * tls: TLS 1.2 and 1.3 (OpenSSL 3) behind conn's I/O table. A TLS
 * context holds the certificates of a listener: a default set and, for
 * SNI, server names each with a set of their own (a table the server
 * blocks of the configuration fill); tw_tls_wrap makes an accepted
 * connection speak TLS through it. Handshakes and records are driven by
 * conn's reads and writes, never blocking: a read that must write (or a
 * write that must read) waits for the other event through
 * tw_conn_io_wait. File bodies go by kernel TLS and SSL_sendfile where
 * the kernel offers it for a connection, else through conn's copy path
 * into SSL_write in full records.
 *
 * Sessions resume on any worker: tickets are sealed with keys, and TLS
 * 1.2 sessions kept by ID, in shared memory made before the workers fork
 * (net/tls_shared).
 *
 * Layer 1 (transport): it moves bytes and knows nothing of HTTP; the
 * bytes answered to a client that speaks plain text to a TLS port are
 * given by the caller.
 */
#ifndef TW_TLS_H
#define TW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_conn;
struct tw_tls_context;
struct tw_tls_shared;

/* A certificate chain (PEM, leaf first) and its private key (PEM). */
struct tw_tls_cert {
	const char *cert;
	const char *key;
};

#define TW_TLS_MAX_CERTS	4	/* per name: RSA and ECDSA, say */
#define TW_TLS_MAX_NAMES	256	/* SNI names of a context */

/* The defaults a security reviewer accepts (Mozilla "intermediate"). */
#define TW_TLS_PROTOCOLS_DEFAULT	"TLSv1.2 TLSv1.3"
#define TW_TLS_CIPHERS_DEFAULT						\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"	\
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"		\
	"DHE-RSA-CHACHA20-POLY1305"
#define TW_TLS_GROUPS			"X25519:P-256"

struct tw_tls_opts {
	const struct tw_tls_cert *certs;	/* the default set */
	size_t ncerts;				/* 1..TW_TLS_MAX_CERTS */
	/* Space-separated of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, or NULL
	 * for TW_TLS_PROTOCOLS_DEFAULT. */
	const char *protocols;
	/* OpenSSL's cipher list for TLS 1.2 and below, or NULL for
	 * TW_TLS_CIPHERS_DEFAULT; TLS 1.3 keeps OpenSSL's suites. */
	const char *ciphers;
	/* Sent as is to a client whose first bytes are a plain-text
	 * request (an uppercase letter where a ClientHello starts), before
	 * the connection closes: the protocol's error page. NULL: close. */
	const char *plain_reply;
	size_t plain_reply_len;
	/* Ticket keys and session cache shared by every worker; NULL:
	 * tickets sealed by OpenSSL's keys of this process (resumption on
	 * this one only) and no session cache. */
	struct tw_tls_shared *shared;
};

/*
 * Build a context: load every certificate and key of o (each key must
 * match its certificate) and set protocols, ciphers, groups and ALPN.
 * Returns NULL on failure with one line in err naming the file or the
 * directive: "tls certificate FILE: no such file", "tls key FILE does
 * not match certificate FILE", ...
 */
struct tw_tls_context *tw_tls_context_create(const struct tw_tls_opts *o,
					     char *err, size_t errlen);

/*
 * SNI: a client asking for name (exact, case-insensitive, or a
 * "*.example.com" pattern matching one label) is given certs instead
 * of the default set, with the context's other settings. Returns 0, or
 * -1 with err filled as tw_tls_context_create.
 */
int tw_tls_context_add_name(struct tw_tls_context *t, const char *name,
			    const struct tw_tls_cert *certs, size_t ncerts,
			    char *err, size_t errlen);

void tw_tls_context_destroy(struct tw_tls_context *t);

/*
 * How file bodies go out, for the start-up log: "kernel TLS
 * (SSL_sendfile)" when the kernel has a TLS ULP, else "copied through
 * SSL_write (...why...)". Decided per connection after its handshake;
 * this says what to expect.
 */
const char *tw_tls_file_path(void);

/*
 * Make c, just accepted, speak TLS through t (a tw_accept_fn's shape:
 * arg is the context). Returns 0, or -ENOMEM with c closed.
 */
int tw_tls_wrap(struct tw_conn *c, void *t);

#endif /* TW_TLS_H */
