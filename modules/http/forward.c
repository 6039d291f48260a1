/* SPDX-License-Identifier: MIT */
/*
 * forward: the proxy's request and response heads. Layer 3.
 */
#include "http/forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

static const char *const hop_fields[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade", "Proxy-Authorization",
	"Proxy-Authenticate", NULL
};

bool
tw_forward_is_hop(const char *name, size_t len,
		  const struct tw_http_header *fields, size_t n)
{
	size_t i;

	for (i = 0; hop_fields[i] != NULL; i++)
		if (tw_http_token_eq(name, len, hop_fields[i]))
			return true;
	/* Fields the sender's Connection names are for this hop only
	 * (RFC 9110 7.6.1). */
	for (i = 0; i < n; i++) {
		const struct tw_http_header *h = &fields[i];
		char tok[128];

		if (!tw_http_token_eq(h->name, h->name_len, "Connection") ||
		    len >= sizeof(tok))
			continue;
		memcpy(tok, name, len);
		tok[len] = '\0';
		if (tw_http_list_has(h->value, h->value_len, tok))
			return true;
	}
	return false;
}

static void
append_field(struct tw_buf *b, const char *name, size_t nlen,
	     const char *v, size_t vlen)
{
	tw_buf_append(b, name, nlen);
	tw_buf_append(b, ": ", 2);
	tw_buf_append(b, v, vlen);
	tw_buf_append(b, "\r\n", 2);
}

/* The peer's address as text: a.b.c.d, or the IPv6 form. */
static size_t
peer_text(const struct sockaddr *peer, char *out, size_t len)
{
	const void *a = NULL;
	int af = AF_UNSPEC;

	if (peer != NULL && peer->sa_family == AF_INET) {
		af = AF_INET;
		a = &((const struct sockaddr_in *)(const void *)peer)->sin_addr;
	} else if (peer != NULL && peer->sa_family == AF_INET6) {
		af = AF_INET6;
		a = &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
	}
	if (a == NULL || inet_ntop(af, a, out, (socklen_t)len) == NULL) {
		memcpy(out, "unknown", 8);
		return 7;
	}
	return strlen(out);
}

/* Append s[0..n) at dst + *off if it fits (the caller sized dst). */
static void
cat(char *dst, size_t *off, size_t cap, const char *s, size_t n)
{
	if (*off + n <= cap) {
		memcpy(dst + *off, s, n);
		*off += n;
	}
}

/* Is name among the set_headers lines (which replace the client's)? */
static bool
is_set(const char *set, const char *name, size_t len)
{
	const char *p = set, *colon, *eol;

	while (p != NULL && *p != '\0') {
		colon = strchr(p, ':');
		eol = strstr(p, "\r\n");
		if (colon == NULL || eol == NULL)
			return false;
		if (colon < eol && (size_t)(colon - p) == len &&
		    strncasecmp(p, name, len) == 0)
			return true;
		p = eol + 2;
	}
	return false;
}

/* set_headers, without those whose value is empty (they only remove). */
static void
append_set(struct tw_buf *b, const char *set)
{
	const char *p = set, *colon, *eol, *v;

	while (p != NULL && *p != '\0') {
		colon = strchr(p, ':');
		eol = strstr(p, "\r\n");
		if (colon == NULL || eol == NULL || colon > eol)
			return;
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (v < eol)
			tw_buf_append(b, p, (size_t)(eol + 2 - p));
		p = eol + 2;
	}
}

/* Fields the proxy writes itself, whatever the client sent. */
static bool
is_rewritten(const char *name, size_t len)
{
	return tw_http_token_eq(name, len, "Host") ||
	       tw_http_token_eq(name, len, "Content-Length") ||
	       tw_http_token_eq(name, len, "X-Forwarded-For") ||
	       tw_http_token_eq(name, len, "X-Forwarded-Proto") ||
	       tw_http_token_eq(name, len, "Forwarded") ||
	       tw_http_token_eq(name, len, "Via");
}

/* The client's fields named name, joined as one list (RFC 9110 5.3),
 * then more[0..more_len). */
static void
append_list(struct tw_buf *b, const struct tw_http_request *r,
	    const char *name, bool pass, const char *more, size_t more_len)
{
	bool any = false;
	size_t i;

	tw_buf_append_str(b, name);
	tw_buf_append(b, ": ", 2);
	for (i = 0; pass && i < r->nheaders; i++) {
		const struct tw_http_header *h = &r->headers[i];

		if (!tw_http_token_eq(h->name, h->name_len, name) ||
		    h->value_len == 0)
			continue;
		if (any)
			tw_buf_append(b, ", ", 2);
		tw_buf_append(b, h->value, h->value_len);
		any = true;
	}
	if (any)
		tw_buf_append(b, ", ", 2);
	tw_buf_append(b, more, more_len);
	tw_buf_append(b, "\r\n", 2);
}

void
tw_forward_request_head(const struct tw_http_request *r,
			const char *target, size_t target_len,
			const struct sockaddr *peer,
			const struct tw_forward_opts *o, bool has_length,
			uint64_t body_len, bool chunked, struct tw_buf *out)
{
	const struct tw_http_header *host = tw_http_find_header(r, "Host");
	bool pass = o->pass_request_headers;
	char ip[INET6_ADDRSTRLEN + 8], fwd[INET6_ADDRSTRLEN + 600];
	const char *hv = o->host;
	size_t hlen = hv != NULL ? strlen(hv) : 0, iplen, flen = 0, i;

	if (hv == NULL && host != NULL) {
		hv = host->value;
		hlen = host->value_len;
	}
	tw_buf_append(out, r->method, r->method_len);
	tw_buf_append_char(out, ' ');
	tw_buf_append(out, target, target_len);
	tw_buf_append_str(out, " HTTP/1.1\r\nHost: ");
	tw_buf_append(out, hv != NULL ? hv : "", hlen);
	tw_buf_append(out, "\r\n", 2);
	for (i = 0; pass && i < r->nheaders; i++) {
		const struct tw_http_header *h = &r->headers[i];

		if (is_rewritten(h->name, h->name_len) ||
		    (o->upgrade && tw_http_token_eq(h->name, h->name_len,
						    "Upgrade")) ||
		    tw_forward_is_hop(h->name, h->name_len, r->headers,
				      r->nheaders) ||
		    is_set(o->set_headers, h->name, h->name_len))
			continue;
		append_field(out, h->name, h->name_len, h->value,
			     h->value_len);
	}
	iplen = peer_text(peer, ip, sizeof(ip));
	append_list(out, r, "X-Forwarded-For", pass, ip, iplen);
	tw_buf_append_str(out, "X-Forwarded-Proto: ");
	tw_buf_append_str(out, o->scheme);
	tw_buf_append(out, "\r\n", 2);
	/* RFC 7239 6: an IPv6 node is a quoted "[...]"; a host value that
	 * is not a token is quoted too (a port's colon is not a tchar). */
	if (peer != NULL && peer->sa_family == AF_INET6) {
		cat(fwd, &flen, sizeof(fwd), "for=\"[", 6);
		cat(fwd, &flen, sizeof(fwd), ip, iplen);
		cat(fwd, &flen, sizeof(fwd), "]\"", 2);
	} else {
		cat(fwd, &flen, sizeof(fwd), "for=", 4);
		cat(fwd, &flen, sizeof(fwd), ip, iplen);
	}
	cat(fwd, &flen, sizeof(fwd), ";proto=", 7);
	cat(fwd, &flen, sizeof(fwd), o->scheme, strlen(o->scheme));
	if (hv != NULL && hlen > 0 && hlen < 512 &&
	    memchr(hv, '"', hlen) == NULL && memchr(hv, '\\', hlen) == NULL) {
		cat(fwd, &flen, sizeof(fwd), ";host=\"", 7);
		cat(fwd, &flen, sizeof(fwd), hv, hlen);
		cat(fwd, &flen, sizeof(fwd), "\"", 1);
	}
	append_list(out, r, "Forwarded", pass, fwd, flen);
	append_list(out, r, "Via", pass, r->minor ? "1.1 tinyweb" :
		    "1.0 tinyweb", 11);
	if (o->upgrade) {
		const struct tw_http_header *u = tw_http_find_header(r,
								     "Upgrade");

		if (u != NULL)
			append_field(out, "Upgrade", 7, u->value,
				     u->value_len);
		tw_buf_append_str(out, "Connection: upgrade\r\n");
	}
	append_set(out, o->set_headers);
	if (has_length) {
		tw_buf_append_str(out, "Content-Length: ");
		tw_buf_append_u64(out, body_len);
		tw_buf_append(out, "\r\n", 2);
	} else if (chunked) {
		tw_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	}
	tw_buf_append(out, "\r\n", 2);
}

void
tw_forward_response_fields(const struct tw_http_header *fields, size_t n,
			   bool upgrade, struct tw_buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tw_http_header *h = &fields[i];

		if (tw_http_token_eq(h->name, h->name_len, "Content-Length") ||
		    tw_http_token_eq(h->name, h->name_len, "Date") ||
		    tw_http_token_eq(h->name, h->name_len, "Server"))
			continue;
		if (upgrade && tw_http_token_eq(h->name, h->name_len,
						"Upgrade")) {
			append_field(out, h->name, h->name_len, h->value,
				     h->value_len);
			continue;
		}
		if (tw_forward_is_hop(h->name, h->name_len, fields, n))
			continue;
		append_field(out, h->name, h->name_len, h->value,
			     h->value_len);
	}
}
