/* SPDX-License-Identifier: MIT */
/*
 * access_log: one line per answered request, in the combined format or
 * as JSON, with what a client chose escaped so that it cannot forge or
 * break a line. Layer 3.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/http_conn.h"
#include "net/conn.h"
#include "parse/url.h"

/* Access log: quotes, backslashes, control and non-ASCII bytes become
 * \xHH so a hostile request cannot forge or break a log line. */
static void
log_escaped(struct tw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			char e[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 15] };

			tw_buf_append(b, e, 4);
		} else {
			tw_buf_append_char(b, (char)ch);
		}
	}
}

static void
log_header(struct tw_buf *b, const struct tw_http_request *r, const char *name)
{
	const struct tw_http_header *h = r ? tw_http_find_header(r, name) : NULL;

	tw_buf_append_char(b, '"');
	if (h != NULL)
		log_escaped(b, h->value, h->value_len);
	else
		tw_buf_append_char(b, '-');
	tw_buf_append_char(b, '"');
}

/* A JSON string: valid UTF-8 stays as it is (a user agent in any
 * language reads right); anything else is escaped byte by byte. */
static void
json_escaped(struct tw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	bool utf8 = tw_url_is_utf8((const unsigned char *)s, n, false);
	size_t i;

	tw_buf_append_char(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8)) {
			char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4],
				      hex[ch & 15] };

			tw_buf_append(b, e, 6);
		} else {
			if (ch == '"' || ch == '\\')
				tw_buf_append_char(b, '\\');
			tw_buf_append_char(b, (char)ch);
		}
	}
	tw_buf_append_char(b, '"');
}

/* A name OpenSSL gave, or "-" before the handshake agreed on one. */
static void
log_json_name(struct tw_buf *b, const char *s)
{
	if (s == NULL)
		s = "-";
	json_escaped(b, s, strlen(s));
}

static void
log_json(struct http_conn *hc, const struct tw_http_request *r, int status,
	 uint64_t bytes, const char *ip)
{
	struct tw_buf *b = &hc->hl->log;
	const struct tw_http_header *h;
	struct tw_conn_security sec;
	uint64_t now = tw_clock_us_now();

	tw_buf_append_str(b, "{\"time\":\"");
	tw_buf_append_str(b, tw_clock_log_date());
	tw_buf_append_str(b, "\",\"remote\":");
	json_escaped(b, ip, strlen(ip));
	tw_buf_append_str(b, ",\"method\":");
	json_escaped(b, r ? r->method : "", r ? r->method_len : 0);
	tw_buf_append_str(b, ",\"uri\":");
	json_escaped(b, r ? r->target : "", r ? r->target_len : 0);
	tw_buf_append_str(b, ",\"protocol\":\"");
	tw_buf_append_str(b, r == NULL ? "" : r->minor ? "HTTP/1.1" : "HTTP/1.0");
	tw_buf_append_str(b, "\",\"status\":");
	tw_buf_append_u64(b, (uint64_t)status);
	tw_buf_append_str(b, ",\"bytes\":");
	tw_buf_append_u64(b, bytes);
	tw_buf_append_str(b, ",\"request_time_us\":");
	tw_buf_append_u64(b, now > hc->t_start_us ? now - hc->t_start_us : 0);
	h = r ? tw_http_find_header(r, "Referer") : NULL;
	tw_buf_append_str(b, ",\"referer\":");
	json_escaped(b, h ? h->value : "", h ? h->value_len : 0);
	h = r ? tw_http_find_header(r, "User-Agent") : NULL;
	tw_buf_append_str(b, ",\"user_agent\":");
	json_escaped(b, h ? h->value : "", h ? h->value_len : 0);
	if (hc->async && hc->x->up_addr[0] != '\0') {
		tw_buf_append_str(b, ",\"upstream_addr\":");
		json_escaped(b, hc->x->up_addr, strlen(hc->x->up_addr));
		tw_buf_append_str(b, ",\"upstream_status\":");
		tw_buf_append_u64(b, (uint64_t)hc->x->up_status);
		tw_buf_append_str(b, ",\"upstream_time_us\":");
		tw_buf_append_u64(b, hc->x->up_time_us);
	}
	/* Only on TLS connections, like the upstream fields on proxied
	 * requests: a plain line stays as it was. */
	tw_conn_security(hc->c, &sec);
	if (sec.secure) {
		tw_buf_append_str(b, ",\"tls_protocol\":");
		log_json_name(b, sec.protocol);
		tw_buf_append_str(b, ",\"tls_cipher\":");
		log_json_name(b, sec.cipher);
	}
	tw_buf_append_str(b, "}\n");
}

/* Combined (or common) log format, built without printf. */
void
http_log_access(struct http_conn *hc, const struct tw_http_request *r,
		int status, uint64_t bytes)
{
	enum tw_log_format fmt = hc->srv->opts->log_format;
	struct tw_buf *b = &hc->hl->log;
	const char *peer;
	char ip[64];

	if (!tw_log_access_enabled())
		return;
	tw_buf_reset(b, 4096);
	peer = tw_conn_peer(hc->c, ip, sizeof(ip));
	if (fmt == TW_LOG_FORMAT_JSON) {
		log_json(hc, r, status, bytes, peer);
		goto out;
	}
	tw_buf_append_str(b, peer);
	tw_buf_append_str(b, " - - [");
	tw_buf_append_str(b, tw_clock_log_date());
	tw_buf_append_str(b, "] \"");
	if (r != NULL) {
		log_escaped(b, r->method, r->method_len);
		tw_buf_append_char(b, ' ');
		log_escaped(b, r->target, r->target_len);
		tw_buf_append_str(b, r->minor ? " HTTP/1.1" : " HTTP/1.0");
	} else {
		tw_buf_append_char(b, '-');
	}
	tw_buf_append_str(b, "\" ");
	tw_buf_append_u64(b, (uint64_t)status);
	tw_buf_append_char(b, ' ');
	if (bytes)
		tw_buf_append_u64(b, bytes);
	else
		tw_buf_append_char(b, '-');
	if (fmt == TW_LOG_FORMAT_COMBINED) {
		tw_buf_append_char(b, ' ');
		log_header(b, r, "Referer");
		tw_buf_append_char(b, ' ');
		log_header(b, r, "User-Agent");
	}
	tw_buf_append_char(b, '\n');
out:
	if (!b->failed)
		tw_log_access_write(b->data, b->len);
}
