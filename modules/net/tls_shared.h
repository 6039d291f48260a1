/* SPDX-License-Identifier: MIT */
/*
 * tls_shared: the TLS state every worker shares, so that a session made
 * on one resumes on any other. It lives in shared memory made before the
 * workers fork (or the threads start) and holds two things:
 *
 * - The session ticket keys (TLS 1.3 tickets, and 1.2 clients that take
 *   tickets): random, never written anywhere, rotated. A new key seals
 *   every TW_TLS_KEY_PERIOD_S; the one before still opens for a period.
 * - A session cache for TLS 1.2 clients that resume by session ID
 *   (RFC 5246 7.4.1.2) rather than by ticket: a fixed table of
 *   TW_TLS_SESSIONS DER-encoded sessions, found by ID, each kept until
 *   its own timeout or until a newer one needs its slot.
 *
 * Layer 1: OpenSSL's callbacks over bytes in shared memory; nothing of
 * HTTP.
 */
#ifndef TW_TLS_SHARED_H
#define TW_TLS_SHARED_H

struct ssl_ctx_st;
struct tw_tls_shared;

/* How long a ticket key seals new tickets; it opens them for as long
 * again after. */
#define TW_TLS_KEY_PERIOD_S	(12 * 3600)
/* TLS 1.2 sessions the cache holds (about 530 bytes each). */
#define TW_TLS_SESSIONS		8192

/* Made before the workers fork. NULL with *err = -errno. */
struct tw_tls_shared *tw_tls_shared_create(int *err);
void tw_tls_shared_destroy(struct tw_tls_shared *s);

/*
 * Make ctx seal and open tickets with s's keys and keep its TLS 1.2
 * sessions in s's cache (OpenSSL's own per-process cache off). Every
 * SSL_CTX a handshake may switch to (SNI) needs it. Returns 0, or -1
 * with OpenSSL's error queue set.
 */
int tw_tls_shared_attach(struct ssl_ctx_st *ctx, struct tw_tls_shared *s);

#endif /* TW_TLS_SHARED_H */
