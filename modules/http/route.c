/* SPDX-License-Identifier: MIT */
/*
 * route: which handler answers a request. The target split into path
 * and query, the server block and location (vhosts), the location's
 * handlers asked in turn, internal redirects (try_files, error_page),
 * CORS preflights, OPTIONS, and the error status of a request none
 * takes. Layer 3: http.c hands it each request whose head and framing
 * are good; it queues the answer through http.c.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/log.h"
#include "http/cors.h"
#include "http/http_conn.h"
#include "http/vhost.h"
#include "net/conn.h"
#include "parse/url.h"

static bool
is_known_method(const struct tw_http_request *r)
{
	static const char *const others[] = {
		"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT",
	};
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (r->method_len == strlen(others[i]) &&
		    memcmp(r->method, others[i], r->method_len) == 0)
			return true;
	return false;
}

/* Split the target into path and query; absolute-form loses its scheme
 * and authority (RFC 9112 3.2.2). Returns false for a target that is
 * neither origin- nor absolute-form. */
static bool
split_target(const struct tw_http_request *r, struct tw_http_req *req)
{
	const char *t = r->target, *end = t + r->target_len, *q, *hash;

	if (r->target_len > 7 && strncasecmp(t, "http://", 7) == 0)
		t += 7;
	else if (r->target_len > 8 && strncasecmp(t, "https://", 8) == 0)
		t += 8;
	if (t != r->target) {
		t = memchr(t, '/', (size_t)(end - t));
		if (t == NULL)
			t = "/", end = t + 1;
	}
	if (t >= end || *t != '/')
		return false;
	/* A raw '#' cannot be part of a path; clients strip fragments,
	 * so treat one as the fragment's start. */
	hash = memchr(t, '#', (size_t)(end - t));
	if (hash != NULL)
		end = hash;
	q = memchr(t, '?', (size_t)(end - t));
	req->path = t;
	req->path_len = (size_t)((q ? q : end) - t);
	req->query = q ? q + 1 : NULL;
	req->query_len = q ? (size_t)(end - q - 1) : 0;
	return true;
}

static void
options_response(struct http_conn *hc, const struct tw_http_request *r,
		 bool keep)
{
	struct tw_http_res *res = &hc->hl->res;

	http_reset_res(hc->hl, res);
	res->status = 204;
	res->no_length = true;
	tw_buf_append_str(res->headers, "Allow: " ALLOW_METHODS "\r\n");
	http_queue_response(hc, r, res, false, keep);
}

/* The vhosts' listen of a connection: its local address, read once
 * and only when the servers differ by address. */
static int
conn_listen(struct http_conn *hc, const struct tw_vhosts *vh)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!vh->by_listen)
		return -1;
	if (!hc->listen_known) {
		hc->listen_known = true;
		hc->listen = -1;
		if (getsockname(tw_conn_fd(hc->c), (struct sockaddr *)&ss,
				&len) == 0)
			hc->listen = (signed char)tw_vhost_listen_of(vh,
				(const struct sockaddr *)&ss);
	}
	return hc->listen;
}

/* The authority of an absolute-form target ("http://HOST/..."), which
 * names the host in place of Host (RFC 9112 3.2.2); false, and host
 * left alone, for an origin-form one. */
static bool
target_authority(const struct tw_http_request *r, const char **host,
		 size_t *len)
{
	const char *t = r->target, *end = t + r->target_len, *a, *e;

	if (r->target_len == 0 || t[0] == '/')
		return false;
	a = memchr(t, ':', r->target_len);
	if (a == NULL || end - a < 3 || a[1] != '/' || a[2] != '/')
		return false;
	a += 3;
	for (e = a; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	*host = a;
	*len = (size_t)(e - a);
	return true;
}

/*
 * Server blocks: the handlers of the location that takes the request,
 * routes[*first..*first+*n), chosen by Host, the address it came in on
 * and its decoded path (the one the static handler serves). 0, or the
 * status of a path that cannot be decoded.
 */
static int
pick_location(struct http_conn *hc, const struct tw_http_request *r,
	      const struct tw_http_req *req, size_t *first, size_t *n)
{
	const struct tw_vhosts *vh = hc->srv->opts->vhosts;
	const struct tw_http_header *h = tw_http_find_header(r, "Host");
	const struct tw_vhost_server *srv;
	const struct tw_vhost_loc *loc;
	char *path = hc->hl->vpath;
	const char *host = h ? h->value : NULL;
	size_t len, hlen = h ? h->value_len : 0;
	int err;

	(void)target_authority(r, &host, &hlen);
	srv = tw_vhost_server(vh, host, hlen, conn_listen(hc, vh));
	hc->route_srv = srv;
	err = tw_url_decode_path(req->path, req->path_len, path, PATH_MAX,
				 &len);
	if (err == -ENAMETOOLONG)
		return 414;
	if (err < 0 || tw_url_remove_dots(path, &len) < 0)
		return 400;
	loc = tw_vhost_location(srv, path, len);
	*first = loc->first;
	*n = loc->n;
	hc->route_headers = loc->extra_headers;
	hc->route_scope = loc->scope;
	return 0;
}

/*
 * The handlers routes[first..first+n) asked in turn: the status of the
 * first that takes req (0: res is filled), or 404 if none does. *taken:
 * one did. Methods other than GET and HEAD go only to handlers of every
 * method (the proxy), and internal requests never do: those answer
 * later, not in the request's place; but access control (guards) sees
 * them, so an error page or a try_files fallback in a guarded location
 * is no way around its guard.
 */
static int
run_handlers(struct http_conn *hc, const struct tw_http_req *req,
	     size_t first, size_t n, bool *taken)
{
	struct tw_http_res *res = &hc->hl->res;
	bool other = req->method == TW_HTTP_OTHER;
	size_t i;
	int status;

	http_reset_res(hc->hl, res);
	for (i = first; i < first + n; i++) {
		const struct tw_handler *h = hc->srv->routes[i].handler;

		if (other ? !h->any_method :
		    req->internal && h->any_method && !h->guards)
			continue;
		http_reset_res(hc->hl, res);
		status = h->handle(req, res, hc->hl->inst[i]);
		if (status != TW_DECLINED) {
			*taken = true;
			return status;
		}
	}
	return 404;
}

/*
 * Make req the internal request of uri (a path [?query] of the
 * configuration, decoded and checked when it was read) in the request's
 * server: GET (HEAD stays HEAD), and the handlers of uri's location in
 * routes[*first..*first+*n). 0, or 400 if uri does not decode.
 */
static int
route_internal(struct http_conn *hc, struct tw_http_req *req,
	       const char *uri, size_t *first, size_t *n)
{
	const char *q = strchr(uri, '?');
	const struct tw_vhost_loc *loc;
	char *path = hc->hl->vpath;
	size_t len;

	req->internal = true;
	if (req->method != TW_HTTP_HEAD)
		req->method = TW_HTTP_GET;
	req->path = uri;
	req->path_len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	req->query = q != NULL ? q + 1 : NULL;
	req->query_len = q != NULL ? strlen(q + 1) : 0;
	*first = 0;
	*n = hc->srv->nroutes;
	if (hc->route_srv == NULL)
		return 0;
	if (tw_url_decode_path(req->path, req->path_len, path, PATH_MAX,
			       &len) < 0 || tw_url_remove_dots(path, &len) < 0)
		return 400;
	loc = tw_vhost_location(hc->route_srv, path, len);
	*first = loc->first;
	*n = loc->n;
	hc->route_headers = loc->extra_headers;
	hc->route_scope = loc->scope;
	return 0;
}

static const struct tw_http_error_page *
find_error_page(const struct tw_http_scope *sc, int status)
{
	size_t i;

	for (i = 0; sc != NULL && i < sc->nerrors; i++)
		if (sc->errors[i].code == status)
			return &sc->errors[i];
	return NULL;
}

/*
 * res for an error status: the page error_page names for it in the
 * request's scope, served in the request's place with the status (or
 * the page's =ANSWER), else tinyweb's own page, which also stands in
 * when the named page does not answer 200 (missing, or an error of its
 * own): one error page per request, so no loop. Tinyweb's page keeps
 * what the handler said of the error (Content-Range on a 416).
 */
void
http_answer_error(struct http_conn *hc, struct tw_http_req *req, int status)
{
	const struct tw_http_error_page *ep;
	struct tw_http_res *res = &hc->hl->res;
	size_t first, n;
	bool taken = false;

	ep = find_error_page(hc->route_scope, status);
	if (ep != NULL) {
		http_close_res_fd(res);
		req->error_page = true;
		if (route_internal(hc, req, ep->uri, &first, &n) == 0 &&
		    run_handlers(hc, req, first, n, &taken) == 0 &&
		    res->status == 200) {
			res->status = ep->answer != 0 ? ep->answer : status;
			if (res->status == 405)
				tw_buf_append_str(res->headers,
						  "Allow: " ALLOW_METHODS "\r\n");
			return;
		}
		http_reset_res(hc->hl, res);
	}
	http_close_res_fd(res);
	res->nseg = 0;
	res->no_length = false;
	http_error_page(res, status);
}

/* A CORS preflight where CORS is on: answered here, before any handler
 * (a proxy would pass it on). An origin not allowed gets what any
 * OPTIONS gets, without CORS fields: the browser refuses. */
static void
preflight_response(struct http_conn *hc, const struct tw_http_request *r,
		   bool keep)
{
	struct tw_http_res *res = &hc->hl->res;

	http_reset_res(hc->hl, res);
	res->status = 204;
	res->no_length = true;
	if (!tw_cors_fields(hc->route_cors, r, true, res->headers))
		tw_buf_append_str(res->headers, "Allow: " ALLOW_METHODS "\r\n");
	hc->route_cors = NULL;		/* its fields are in */
	http_queue_response(hc, r, res, false, keep);
}

/*
 * Route one request. A handler may take it asynchronously (the proxy);
 * every other answer is queued here. Where a route takes every method
 * the body's limits are applied only now, to requests answered here.
 */
void
http_route(struct http_conn *hc, const struct tw_http_request *r, bool keep,
	   const struct body_fr *fr, size_t head_len, size_t *ahead)
{
	struct tw_http_res *res = &hc->hl->res;
	struct tw_http_req req = { .raw = r, .peer = tw_conn_peer_addr(hc->c),
				   .secure = tw_conn_is_secure(hc->c) };
	bool head = http_method_is(r, "HEAD");
	bool other = !head && !http_method_is(r, "GET");
	bool split = split_target(r, &req), taken = false;
	int status = 404, err = 0;
	size_t first = 0, n = hc->srv->nroutes;

	req.body_chunked = fr->chunked;
	req.body_len = fr->len;
	req.method = head ? TW_HTTP_HEAD : other ? TW_HTTP_OTHER : TW_HTTP_GET;
	if (hc->srv->has_async || hc->srv->has_park)
		req.x = http_exchange_get(hc);
	hc->route_srv = NULL;
	hc->route_scope = hc->srv->opts->scope;
	if (req.x != NULL) {
		req.resumed = req.x->resumed;
		req.x->resumed = 0;
	}
	if (split && hc->srv->opts->vhosts != NULL &&
	    (status = pick_location(hc, r, &req, &first, &n)) != 0) {
		n = 0;		/* a path that cannot be decoded: 400, 414 */
		taken = true;
	} else {
		status = 404;
	}
	hc->route_cors = hc->route_scope != NULL ? hc->route_scope->cors :
			 NULL;
	if (split && !taken && hc->route_cors != NULL &&
	    tw_cors_is_preflight(r)) {
		if (hc->srv->has_async &&
		    (err = http_start_discard(hc, fr, head_len, ahead)) != 0)
			http_fail(hc, r, err, head);
		else
			preflight_response(hc, r, keep);
		return;
	}
	if (split && !taken) {
		status = run_handlers(hc, &req, first, n, &taken);
		if (status == TW_HTTP_ASYNC) {
			http_exchange_begin(hc, r, fr, keep);
			return;
		}
		if (status == TW_HTTP_PARK) {
			hc->parked = true;
			return;
		}
		if (status == TW_HTTP_INTERNAL) {
			/* try_files' last word: served once, in the request's
			 * place; its own misses are 404 (req.internal). */
			const char *uri = hc->hl->res.internal_uri;

			http_close_res_fd(res);
			taken = false;
			if ((status = route_internal(hc, &req, uri, &first,
						     &n)) == 0)
				status = run_handlers(hc, &req, first, n,
						      &taken);
		}
	} else {
		http_reset_res(hc->hl, res);
	}
	if (hc->srv->has_async &&
	    (err = http_start_discard(hc, fr, head_len, ahead)) != 0) {
		int own = status < 0 ? tw_http_status_from_errno(status) :
			  status;

		/* A handler's own error stands (all upstreams down is a 502
		 * whatever the body's size); the body left unread closes
		 * the connection. */
		http_close_res_fd(res);
		http_fail(hc, r, taken && own >= 400 ? own : err, head);
		return;
	}
	if (!split) {
		if (http_method_is(r, "OPTIONS") && r->target_len == 1 &&
		    r->target[0] == '*') {
			options_response(hc, r, keep);
			return;
		}
		http_fail(hc, r, 400, head);
		return;
	}
	if (other && !taken) {
		if (http_method_is(r, "OPTIONS")) {
			options_response(hc, r, keep);
			return;
		}
		http_answer_error(hc, &req, is_known_method(r) ? 405 : 501);
		http_queue_response(hc, r, res, head, keep);
		hc->route_headers = NULL;
		hc->route_scope = NULL;
		hc->route_cors = NULL;
		return;
	}
	if (status < 0) {
		err = status;
		status = tw_http_status_from_errno(status);
	}
	if (status != 0) {
		if (status >= 500)
			tw_log(TW_LOG_ERROR, err, "%d answering %.*s", status,
			       (int)(r->target_len > 200 ? 200 : r->target_len),
			       r->target);
		/* Keep what the handler said about the error (Content-Range
		 * on a 416, Vary); drop any body it started. */
		http_answer_error(hc, &req, status);
	}
	http_queue_response(hc, r, res, head, keep);
	hc->route_headers = NULL;
	hc->route_scope = NULL;
	hc->route_cors = NULL;
}
