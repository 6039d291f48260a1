/* SPDX-License-Identifier: MIT */
/*
 * tls_shared: ticket keys and the TLS 1.2 session cache in shared
 * memory. Layer 1.
 */
#include "net/tls_shared.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "base/shm.h"

/* ---- layout ------------------------------------------------------------ */

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];		/* AES-256-CBC */
	unsigned char hmac[32];		/* HMAC-SHA256 */
};

/*
 * A server-side TLS 1.2 session without a client certificate encodes in
 * about 150-250 bytes (version, cipher, ID, master secret, times, SNI
 * name, ALPN); a larger one is not kept.
 */
#define SESS_DER_MAX	480
/* Slots an ID may sit in: a set is scanned whole, and the one expiring
 * first makes room. */
#define SESS_WAYS	8
#define SESS_SETS	(TW_TLS_SESSIONS / SESS_WAYS)

struct sess_slot {
	int64_t expires;		/* unix seconds; 0: empty */
	uint16_t der_len;
	uint8_t id_len;
	unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
	unsigned char der[SESS_DER_MAX];
};

/* A lock per set: workers storing and finding sessions of different
 * IDs never meet. */
struct sess_set {
	atomic_int lock;
	struct sess_slot way[SESS_WAYS];
};

/*
 * The first worker to see a new period makes its key under the lock;
 * the others find it made. Keys and sessions are copied in and out
 * under spin locks held for a copy, once per handshake, never per
 * request, so they are never contended long.
 */
struct tw_tls_shared {
	atomic_int lock;		/* of the keys */
	uint64_t period;		/* of cur */
	struct ticket_key cur;		/* seals and opens */
	struct ticket_key prev;		/* opens, for one period more */
	bool have_prev;
	struct sess_set sets[SESS_SETS];
};

static void
spin_lock(atomic_int *l)
{
	while (atomic_exchange_explicit(l, 1, memory_order_acquire))
		sched_yield();
}

static void
spin_unlock(atomic_int *l)
{
	atomic_store_explicit(l, 0, memory_order_release);
}

struct tw_tls_shared *
tw_tls_shared_create(int *err)
{
	struct tw_shm_header *shm;
	struct tw_tls_shared *s;

	/* Zeroed: every lock free, every slot empty. */
	shm = tw_shm_create(sizeof(*shm) + sizeof(*s) + 64, err);
	if (shm == NULL)
		return NULL;
	s = tw_shm_data(shm);
	if (RAND_bytes((unsigned char *)&s->cur, sizeof(s->cur)) != 1) {
		tw_shm_destroy(shm);
		*err = -EIO;
		return NULL;
	}
	s->period = (uint64_t)time(NULL) / TW_TLS_KEY_PERIOD_S;
	*err = 0;
	return s;
}

void
tw_tls_shared_destroy(struct tw_tls_shared *s)
{
	if (s == NULL)
		return;
	/* Keys and master secrets leave no trace in memory handed back. */
	OPENSSL_cleanse(s, sizeof(*s));
	tw_shm_destroy(tw_shm_of(s));
}

/* Each SSL_CTX points at its shared state through this ex_data slot. */
static int shared_index = -1;
static pthread_once_t shared_index_once = PTHREAD_ONCE_INIT;

static void
make_shared_index(void)
{
	shared_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static struct tw_tls_shared *
shared_of(SSL *ssl)
{
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), shared_index);
}

/* ---- ticket keys ------------------------------------------------------- */

/*
 * Copy the keys of this period out, rotating first if the period is
 * new: the old key only opens from now on, the one before it is erased.
 * A key that cannot be made keeps the old one sealing (a ticket then
 * lives longer, which is better than none).
 */
static bool
keys_get(struct tw_tls_shared *s, struct ticket_key *cur,
	 struct ticket_key *prev)
{
	uint64_t now = (uint64_t)time(NULL) / TW_TLS_KEY_PERIOD_S;
	bool have_prev;

	spin_lock(&s->lock);
	if (s->period != now) {
		struct ticket_key fresh;

		if (RAND_bytes((unsigned char *)&fresh, sizeof(fresh)) == 1) {
			s->prev = s->cur;
			s->cur = fresh;
			s->have_prev = true;
			s->period = now;
			OPENSSL_cleanse(&fresh, sizeof(fresh));
		}
	}
	*cur = s->cur;
	*prev = s->prev;
	have_prev = s->have_prev;
	spin_unlock(&s->lock);
	return have_prev;
}

static int
set_mac_key(EVP_MAC_CTX *hctx, unsigned char *key)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
						      key, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * Seal (enc 1) or open a ticket with the shared keys. Opening with the
 * previous period's key asks for a fresh ticket (2), so a client that
 * keeps coming back moves to the current key.
 */
static int
ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
	  EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key cur, prev, *k = NULL;
	bool have_prev = keys_get(shared_of(ssl), &cur, &prev);
	int r = -1;

	if (enc) {
		k = &cur;
		memcpy(key_name, k->name, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes,
				       iv) != 1 ||
		    set_mac_key(hctx, k->hmac) != 1)
			goto out;
		r = 1;
		goto out;
	}
	if (memcmp(key_name, cur.name, 16) == 0)
		k = &cur;
	else if (have_prev && memcmp(key_name, prev.name, 16) == 0)
		k = &prev;
	if (k == NULL) {
		r = 0;		/* unknown or expired: a full handshake */
		goto out;
	}
	if (set_mac_key(hctx, k->hmac) != 1 ||
	    EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes,
			       iv) != 1)
		goto out;
	r = k == &cur ? 1 : 2;
out:
	OPENSSL_cleanse(&cur, sizeof(cur));
	OPENSSL_cleanse(&prev, sizeof(prev));
	return r;
}

/* ---- TLS 1.2 session cache --------------------------------------------- */

/* IDs are the server's random bytes; a client may send any, but only
 * to look one up. FNV-1a spreads both over the sets. */
static struct sess_set *
set_of(struct tw_tls_shared *s, const unsigned char *id, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ id[i]) * 16777619u;
	return &s->sets[h % SESS_SETS];
}

static bool
slot_is(const struct sess_slot *sl, const unsigned char *id, size_t len)
{
	return sl->expires != 0 && sl->id_len == len &&
	       memcmp(sl->id, id, len) == 0;
}

static void
slot_clear(struct sess_slot *sl)
{
	OPENSSL_cleanse(sl->der, sl->der_len);
	sl->expires = 0;
	sl->der_len = 0;
}

/* The slot for a new session: its own ID's, an empty or expired one,
 * else the one that would expire first. */
static struct sess_slot *
slot_for(struct sess_set *set, const unsigned char *id, size_t len,
	 int64_t now)
{
	struct sess_slot *pick = &set->way[0];
	size_t i;

	for (i = 0; i < SESS_WAYS; i++) {
		struct sess_slot *sl = &set->way[i];

		if (slot_is(sl, id, len) || sl->expires <= now)
			return sl;
		if (sl->expires < pick->expires)
			pick = sl;
	}
	return pick;
}

/*
 * A full TLS 1.2 handshake made a session: keep it. TLS 1.3 sessions
 * travel in tickets and are not kept. Returns 0: OpenSSL keeps no
 * reference for us.
 */
static int
sess_new(SSL *ssl, SSL_SESSION *sess)
{
	struct tw_tls_shared *s = shared_of(ssl);
	unsigned char der[SESS_DER_MAX], *p = der;
	const unsigned char *id;
	unsigned int id_len;
	struct sess_set *set;
	struct sess_slot *sl;
	int64_t now = (int64_t)time(NULL), expires;
	int len;

	if (s == NULL ||
	    SSL_SESSION_get_protocol_version(sess) >= TLS1_3_VERSION)
		return 0;
	id = SSL_SESSION_get_id(sess, &id_len);
	if (id_len == 0 || id_len > SSL_MAX_SSL_SESSION_ID_LENGTH)
		return 0;
	len = i2d_SSL_SESSION(sess, NULL);
	if (len <= 0 || len > SESS_DER_MAX)
		return 0;
	len = i2d_SSL_SESSION(sess, &p);
	expires = (int64_t)SSL_SESSION_get_time(sess) +
		  (int64_t)SSL_SESSION_get_timeout(sess);
	if (len > 0 && expires > now) {
		set = set_of(s, id, id_len);
		spin_lock(&set->lock);
		sl = slot_for(set, id, id_len, now);
		slot_clear(sl);
		memcpy(sl->id, id, id_len);
		sl->id_len = (uint8_t)id_len;
		memcpy(sl->der, der, (size_t)len);
		sl->der_len = (uint16_t)len;
		sl->expires = expires;
		spin_unlock(&set->lock);
	}
	OPENSSL_cleanse(der, sizeof(der));
	return 0;
}

/* A client offers a session ID: the session, if kept and not expired.
 * The caller owns what is returned (*copy 0: no reference taken). */
static SSL_SESSION *
sess_get(SSL *ssl, const unsigned char *id, int id_len, int *copy)
{
	struct tw_tls_shared *s = shared_of(ssl);
	unsigned char der[SESS_DER_MAX];
	const unsigned char *p = der;
	SSL_SESSION *sess = NULL;
	struct sess_set *set;
	size_t i, len = 0;
	int64_t now = (int64_t)time(NULL);

	*copy = 0;
	if (s == NULL || id_len <= 0 || id_len > SSL_MAX_SSL_SESSION_ID_LENGTH)
		return NULL;
	set = set_of(s, id, (size_t)id_len);
	spin_lock(&set->lock);
	for (i = 0; i < SESS_WAYS; i++) {
		struct sess_slot *sl = &set->way[i];

		if (slot_is(sl, id, (size_t)id_len) && sl->expires > now) {
			len = sl->der_len;
			memcpy(der, sl->der, len);
			break;
		}
	}
	spin_unlock(&set->lock);
	if (len > 0)
		sess = d2i_SSL_SESSION(NULL, &p, (long)len);
	OPENSSL_cleanse(der, sizeof(der));
	return sess;
}

/* OpenSSL gives up on a session (a fatal alert in a handshake that
 * resumed it): no other worker may resume it either. */
static void
sess_remove(SSL_CTX *ctx, SSL_SESSION *sess)
{
	struct tw_tls_shared *s = SSL_CTX_get_ex_data(ctx, shared_index);
	const unsigned char *id;
	unsigned int id_len;
	struct sess_set *set;
	size_t i;

	if (s == NULL)
		return;
	id = SSL_SESSION_get_id(sess, &id_len);
	if (id_len == 0 || id_len > SSL_MAX_SSL_SESSION_ID_LENGTH)
		return;
	set = set_of(s, id, id_len);
	spin_lock(&set->lock);
	for (i = 0; i < SESS_WAYS; i++)
		if (slot_is(&set->way[i], id, id_len))
			slot_clear(&set->way[i]);
	spin_unlock(&set->lock);
}

int
tw_tls_shared_attach(SSL_CTX *ctx, struct tw_tls_shared *s)
{
	(void)pthread_once(&shared_index_once, make_shared_index);
	if (shared_index < 0 || SSL_CTX_set_ex_data(ctx, shared_index, s) != 1)
		return -1;
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	/*
	 * Only the shared table: OpenSSL's own cache would resume a
	 * session on the worker that made it alone, and hold sessions in
	 * every worker's heap.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
				       SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(ctx, sess_new);
	SSL_CTX_sess_set_get_cb(ctx, sess_get);
	SSL_CTX_sess_set_remove_cb(ctx, sess_remove);
	return 0;
}
