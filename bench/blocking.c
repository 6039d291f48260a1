/* SPDX-License-Identifier: MIT */
/*
 * blocking: the three blocking-I/O server designs that tinyweb's event
 * loop is measured against (bench/README.md), in one program:
 *
 *   iterative  one process, one client at a time: accept, serve the
 *              connection until it closes, accept the next;
 *   fork       a process per connection (fork per accept);
 *   thread     a thread per connection (pthread per accept).
 *
 * Each serves GET and HEAD of files beneath ROOT over HTTP/1.1 keep-alive
 * with tinyweb's own parsers (parse/http_parse, parse/url, parse/fs,
 * parse/mime), so the designs differ from tinyweb's in how they wait for
 * clients, not in how they read a request. Only the accept loop differs
 * between them; serve_conn() is the same code for all three. Not part of
 * the server binary; a benchmark baseline, not a server to deploy (no
 * ranges, validators, listings or limits beyond the parser's).
 *
 *   blocking [--design iterative|fork|thread] [-p PORT] [-b ADDR]
 *            [--timeout SECS] ROOT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "parse/fs.h"
#include "parse/http_parse.h"
#include "parse/mime.h"
#include "parse/url.h"

/* What every design shares: read-only once the accept loop starts, so
 * threads and forked children use it without locks. */
struct server {
	struct tw_fs *fs;
	struct tw_mime_table *mime;
	int lfd;
	int timeout_s;		/* keep-alive wait and stalled-write limit */
};

/* A request head may fill both of the parser's limits. */
#define CONN_BUF (TW_HTTP_MAX_LINE + TW_HTTP_MAX_HEADER_BYTES)
#define HEAD_MAX 512

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* send() all of buf; false when the client is gone or stalled. */
static bool
send_all(int fd, const char *buf, size_t len, int flags)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
send_file(int fd, int file, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(fd, file, &off, (size_t)(size - off));

		if (n < 0 && errno == EINTR)
			continue;
		/* 0: the file shrank under us. The Content-Length sent
		 * can no longer be met: close. */
		if (n <= 0)
			return false;
	}
	return true;
}

/*
 * Write a response head. body_len < 0: an error answer whose body is its
 * reason line. Returns false when the client is gone.
 */
static bool
send_head(int fd, int status, const char *type, long long body_len,
	  bool keep, bool more)
{
	char head[HEAD_MAX];
	char body[64];
	int blen = 0;
	int n;

	if (body_len < 0) {
		blen = snprintf(body, sizeof(body), "%d %s\n", status,
				reason(status));
		body_len = blen;
		type = "text/plain";
	}
	tw_clock_update();
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nServer: blocking\r\nDate: %s\r\n"
		     "Content-Type: %s\r\nContent-Length: %lld\r\n%s%s\r\n%.*s",
		     status, reason(status), tw_clock_http_date(), type,
		     body_len, keep ? "" : "Connection: close\r\n",
		     status == 405 ? "Allow: GET, HEAD\r\n" : "", blen, body);
	if (n < 0 || n >= (int)sizeof(head))
		return false;
	/* MSG_MORE: the head and a small body leave in one segment. */
	return send_all(fd, head, (size_t)n, more ? MSG_MORE : 0);
}

/* -errno from fs to a status; what tinyweb does by default. */
static int
open_status(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
	case -ELOOP:
	case -EXDEV:
		return 404;
	case -EACCES:
		return 403;
	case -ENAMETOOLONG:
		return 414;
	default:
		return 500;
	}
}

/*
 * Answer the file the target names. Returns the status of an error still
 * to be sent, or 0 when the file went out; *ok then says whether the
 * connection goes on (sent in full, and keep-alive).
 */
static int
send_target(const struct server *srv, int fd, const struct tw_http_request *req,
	    bool head_only, bool keep, bool *ok)
{
	char path[PATH_MAX + sizeof("index.html")];
	const char *q = memchr(req->target, '?', req->target_len);
	size_t tlen = q ? (size_t)(q - req->target) : req->target_len;
	size_t plen;
	struct stat st;
	const char *type;
	const char *base;
	int err;
	int file;

	err = tw_url_decode_path(req->target, tlen, path, PATH_MAX, &plen);
	if (err == -ENAMETOOLONG)
		return 414;
	if (err < 0 || tw_url_remove_dots(path, &plen) < 0)
		return 400;
	if (tw_fs_is_hidden(path, plen))
		return 404;
	if (path[plen - 1] == '/') {
		memcpy(path + plen, "index.html", sizeof("index.html"));
		plen += sizeof("index.html") - 1;
	}
	file = tw_fs_open(srv->fs, path + 1, 0, &st);
	if (file < 0)
		return open_status(file);
	if (!S_ISREG(st.st_mode)) {
		(void)close(file);
		return 404;
	}
	base = strrchr(path, '/') + 1;
	type = tw_mime_table_lookup(srv->mime, base, strlen(base));
	if (type == NULL)
		type = "application/octet-stream";
	*ok = send_head(fd, 200, type, (long long)st.st_size, keep,
			!head_only && st.st_size > 0) &&
	      (head_only || send_file(fd, file, st.st_size)) && keep;
	(void)close(file);
	return 0;
}

/* Whether the client asked to keep the connection (RFC 9112 9.3). */
static bool
wants_keep_alive(const struct tw_http_request *req)
{
	const struct tw_http_header *c = tw_http_find_header(req, "Connection");

	if (c != NULL && tw_http_list_has(c->value, c->value_len, "close"))
		return false;
	if (req->minor == 0)
		return c != NULL &&
		       tw_http_list_has(c->value, c->value_len, "keep-alive");
	return true;
}

/* The status a request gets before any file is looked at, or 0. */
static int
check_request(const struct tw_http_request *req, bool head_only)
{
	const struct tw_http_header *cl =
		tw_http_find_header(req, "Content-Length");
	uint64_t clen = 0;

	/* A request body would have to be read past; a baseline refuses it. */
	if (tw_http_find_header(req, "Transfer-Encoding") != NULL)
		return 400;
	if (cl != NULL &&
	    (tw_http_parse_content_length(cl->value, cl->value_len, &clen) < 0 ||
	     clen > 0))
		return 400;
	if (req->minor == 1 && tw_http_find_header(req, "Host") == NULL)
		return 400;
	if (!head_only && !tw_http_token_eq(req->method, req->method_len, "GET"))
		return 405;
	if (req->target_len == 0 || req->target[0] != '/')
		return 400;
	return 0;
}

/* One parsed request. Returns false when the connection must close. */
static bool
answer(const struct server *srv, int fd, const struct tw_http_request *req)
{
	bool keep = wants_keep_alive(req);
	bool head_only = tw_http_token_eq(req->method, req->method_len, "HEAD");
	bool ok = false;
	int status = check_request(req, head_only);

	if (status == 0) {
		status = send_target(srv, fd, req, head_only, keep, &ok);
		if (status == 0)
			return ok;
	}
	/* After a 400 the stream may be out of step: close. */
	keep = keep && status != 400;
	if (head_only) {
		/* The error's head only, with the length a GET would get. */
		char line[64];
		int n = snprintf(line, sizeof(line), "%d %s\n", status,
				 reason(status));

		return send_head(fd, status, "text/plain", n, keep, false) &&
		       keep;
	}
	return send_head(fd, status, NULL, -1, keep, false) && keep;
}

/*
 * The connection from accept to close, the same in every design: blocking
 * reads into one buffer, parse, answer, keep what follows the head for
 * the next request (pipelining), until EOF, an error or the timeout.
 */
static void
serve_conn(const struct server *srv, int fd)
{
	char buf[CONN_BUF];
	struct tw_http_request req;
	struct timeval tv = { .tv_sec = srv->timeout_s };
	size_t len = 0;
	size_t last = 0;
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		int n = tw_http_parse_request(buf, len, last, &req);

		if (n == TW_PARSE_AGAIN) {
			ssize_t r;

			if (len == sizeof(buf)) {
				(void)send_head(fd, 431, NULL, -1, false, false);
				return;
			}
			r = read(fd, buf + len, sizeof(buf) - len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return;		/* EOF, reset or idle too long */
			last = len;
			len += (size_t)r;
			continue;
		}
		if (n < 0) {
			(void)send_head(fd, -n, NULL, -1, false, false);
			return;
		}
		if (!answer(srv, fd, &req))
			return;
		memmove(buf, buf + n, len - (size_t)n);
		len -= (size_t)n;
		last = 0;
	}
}

/* accept() that rides out what a busy or short-of-descriptors server
 * meets. -EINTR when a signal came (the caller may have work to do), other
 * -errno only for a broken listening socket. */
static int
accept_conn(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		switch (errno) {
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of descriptors or memory: let some go first. */
			(void)usleep(10000);
			continue;
		default:
			return -errno;
		}
	}
}

static int
run_iterative(const struct server *srv)
{
	for (;;) {
		int fd = accept_conn(srv->lfd);

		if (fd == -EINTR)
			continue;
		if (fd < 0)
			return fd;
		serve_conn(srv, fd);
		(void)close(fd);
	}
}

/* The handler only interrupts accept(); run_fork reaps. */
static void
on_child(int sig)
{
	(void)sig;
}

static int
run_fork(const struct server *srv)
{
	struct sigaction sa = { .sa_handler = on_child };
	pid_t parent = getpid();

	/* Children are waited for, not left to the kernel (SIG_IGN): their
	 * CPU time then adds to ours, where the bench's account of what
	 * it started finds it. No SA_RESTART, so a child's exit ends
	 * accept() and is reaped at once. */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		int fd;
		pid_t pid;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		fd = accept_conn(srv->lfd);
		if (fd == -EINTR)
			continue;
		if (fd < 0)
			return fd;
		pid = fork();

		if (pid == 0) {
			/* A child outlives no server: the bench stops the
			 * parent and expects its connections to go too. */
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			(void)close(srv->lfd);
			serve_conn(srv, fd);
			_exit(0);
		}
		/* On fork failure the client is dropped, as a loaded
		 * fork-per-connection server does. */
		(void)close(fd);
	}
}

/* What a connection's thread is handed. */
struct conn_job {
	const struct server *srv;
	int fd;
};

static void *
conn_thread(void *arg)
{
	struct conn_job job = *(struct conn_job *)arg;

	free(arg);
	serve_conn(job.srv, job.fd);
	(void)close(job.fd);
	return NULL;
}

static int
run_thread(const struct server *srv)
{
	pthread_attr_t attr;
	int fd;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The default 8 MiB of address space a thread would make 10,000
	 * connections 80 GiB; serve_conn needs about 40 KiB. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		struct conn_job *job;
		pthread_t t;

		fd = accept_conn(srv->lfd);
		if (fd == -EINTR)
			continue;
		if (fd < 0)
			break;
		job = malloc(sizeof(*job));
		if (job == NULL) {
			(void)close(fd);
			continue;
		}
		job->srv = srv;
		job->fd = fd;
		if (pthread_create(&t, &attr, conn_thread, job) != 0) {
			free(job);
			(void)close(fd);
		}
	}
	pthread_attr_destroy(&attr);
	return fd;
}

static const struct design {
	const char *name;
	int (*run)(const struct server *srv);
} designs[] = {
	{ "iterative", run_iterative },
	{ "fork", run_fork },
	{ "thread", run_thread },
};

static int
listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	socklen_t salen = sizeof(sa);
	int one = 1;
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "blocking: bad IPv4 address %s\n", addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
		fprintf(stderr, "blocking: %s:%d: %s\n", addr, port,
			strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	fprintf(stderr, "blocking: serving http://%s:%d/\n", addr,
		ntohs(sa.sin_port));
	return fd;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: blocking [--design iterative|fork|thread] "
		"[-p PORT] [-b ADDR] [--timeout SECS] ROOT\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "design", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct design *d = &designs[0];
	const char *addr = "127.0.0.1";
	struct tw_fs_opts fo = { .symlinks = TW_FS_SYMLINKS_INSIDE };
	struct server srv = { .timeout_s = 30 };
	int port = 8080;
	int err = 0;
	int c;

	while ((c = getopt_long(argc, argv, "d:p:b:t:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			d = NULL;
			for (size_t i = 0; i < sizeof(designs) /
			     sizeof(designs[0]); i++)
				if (strcmp(optarg, designs[i].name) == 0)
					d = &designs[i];
			if (d == NULL) {
				fprintf(stderr, "blocking: no design %s\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'b':
			addr = optarg;
			break;
		case 't':
			srv.timeout_s = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || port < 0 || port > 65535 ||
	    srv.timeout_s <= 0) {
		usage(stderr);
		return 2;
	}
	/* A client that goes away mid-response is an error return, not a
	 * signal (sendfile has no MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	fo.root = argv[optind];
	srv.fs = tw_fs_create(&fo, &err);
	if (srv.fs == NULL) {
		fprintf(stderr, "blocking: %s: %s\n", fo.root, strerror(-err));
		return 1;
	}
	srv.mime = tw_mime_table_create();
	if (srv.mime == NULL) {
		fprintf(stderr, "blocking: out of memory\n");
		return 1;
	}
	srv.lfd = listen_on(addr, port);
	if (srv.lfd < 0)
		return 1;
	fprintf(stderr, "blocking: design %s, root %s\n", d->name,
		tw_fs_root_path(srv.fs));
	err = d->run(&srv);
	fprintf(stderr, "blocking: accept: %s\n", strerror(-err));
	return 1;
}
