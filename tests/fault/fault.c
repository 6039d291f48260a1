/* SPDX-License-Identifier: MIT */
/*
 * fault: a test-only LD_PRELOAD library that makes chosen libc calls of
 * the server fail on chosen occasions (tests/integration/test_faults.py).
 * Never linked into tinyweb.
 *
 *   TW_FAULT="RULE;RULE;..."      what to break
 *   TW_FAULT_ARM=PATH             optional: rules count and fire only
 *                                 while PATH exists (a test creates it
 *                                 once the server is up, to hit requests
 *                                 and not start-up)
 *   TW_FAULT_LOG=PATH             optional: one line "CALL FAULT" appended
 *                                 per injected fault, so a test can tell
 *                                 that its fault really happened
 *
 *   RULE   = CALL[:TARGET]=FAULT@WHEN
 *   CALL   = malloc calloc realloc accept accept4 read readv recv write
 *            writev send sendmsg sendfile pread preadv preadv2, or one of
 *            the groups "reads" (read readv recv) and "writes" (write
 *            writev send sendmsg sendfile)
 *   TARGET = sock | file (descriptor's kind, by fstat) | fdN (that
 *            number) | a path substring matched against
 *            readlink(/proc/self/fd/N); none: any descriptor. sendfile
 *            matches by either end (socket or file read). accept and
 *            accept4 count only calls with a connection waiting, so a
 *            failure always stands for one client.
 *   FAULT  = an errno name (EINTR EIO ENOSPC ECONNRESET EMFILE ENFILE
 *            ENOMEM EAGAIN EPIPE) | short (transfer half the bytes asked,
 *            at least one) | null (allocations: return NULL, ENOMEM) |
 *            probe (the call goes on as asked, after a getppid() that
 *            the sandbox's seccomp list leaves out; the log line says
 *            "CALL probe ok" or "CALL probe ENOSYS": test_sandbox.py)
 *   WHEN   = every:N (each Nth matching call) | after:N (every call after
 *            the first N) | nth:N (the Nth only) | always |
 *            bytes:N (on a descriptor, once N bytes went through the
 *            rule's calls on it while armed; its count restarts at close
 *            or accept, and after it fires)
 *
 * Example: TW_FAULT="reads:sock=EINTR@every:2;writes:sock=short@every:2"
 *
 * Counters are per rule and per process (prefork workers inherit the
 * count at fork), atomic across threads. Allocations go straight to
 * glibc's __libc_* functions: no dlsym for them, so dlsym's own calloc
 * cannot recurse.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

enum call {
	C_MALLOC, C_CALLOC, C_REALLOC, C_ACCEPT, C_ACCEPT4, C_READ, C_READV,
	C_RECV, C_WRITE, C_WRITEV, C_SEND, C_SENDMSG, C_SENDFILE, C_PREAD,
	C_PREADV, C_PREADV2, C_NCALLS
};

static const char *const call_names[C_NCALLS] = {
	"malloc", "calloc", "realloc", "accept", "accept4", "read", "readv",
	"recv", "write", "writev", "send", "sendmsg", "sendfile", "pread",
	"preadv", "preadv2",
};

enum target { T_ANY, T_SOCK, T_FILE, T_FD, T_PATH };
enum when { W_EVERY, W_AFTER, W_NTH, W_ALWAYS, W_BYTES };

#define F_SHORT (-1)
#define F_NULL (-2)
#define F_PROBE (-3)
#define MAX_RULES 16
#define MAX_FDS 4096

struct rule {
	uint32_t calls;			/* bit per enum call */
	enum target target;
	int fd;
	char path[128];
	int fault;			/* errno, F_SHORT or F_NULL */
	enum when when;
	long n;
	atomic_long count;
	atomic_long bytes[MAX_FDS];
};

static struct rule rules[MAX_RULES];
static int nrules;
static char arm_path[256];
static int log_fd = -1;
static _Thread_local int busy __attribute__((tls_model("initial-exec")));	/* inside our own helpers */

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EINTR", EINTR }, { "EIO", EIO }, { "ENOSPC", ENOSPC },
	{ "ECONNRESET", ECONNRESET }, { "EMFILE", EMFILE },
	{ "ENFILE", ENFILE }, { "ENOMEM", ENOMEM }, { "EAGAIN", EAGAIN },
	{ "EPIPE", EPIPE },
};

__attribute__((noreturn)) static void
die(const char *what, const char *at)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "fault: bad TW_FAULT %s at '%s'\n",
			 what, at);

	(void)!syscall(SYS_write, 2, msg, (size_t)(n > 0 ? n : 0));
	_exit(99);
}

static uint32_t
parse_calls(const char *s, size_t len)
{
	if (len == 5 && memcmp(s, "reads", 5) == 0)
		return 1u << C_READ | 1u << C_READV | 1u << C_RECV;
	if (len == 6 && memcmp(s, "writes", 6) == 0)
		return 1u << C_WRITE | 1u << C_WRITEV | 1u << C_SEND |
		       1u << C_SENDMSG | 1u << C_SENDFILE;
	for (int i = 0; i < C_NCALLS; i++)
		if (strlen(call_names[i]) == len &&
		    memcmp(call_names[i], s, len) == 0)
			return 1u << i;
	die("call", s);
}

static void
parse_rule(struct rule *r, char *s)
{
	char *eq = strchr(s, '='), *at, *colon;

	if (eq == NULL || (at = strchr(eq, '@')) == NULL)
		die("rule", s);
	*eq = '\0';
	*at = '\0';
	colon = strchr(s, ':');
	r->calls = parse_calls(s, colon ? (size_t)(colon - s) : strlen(s));
	r->target = T_ANY;
	if (colon != NULL) {
		const char *t = colon + 1;

		if (strcmp(t, "sock") == 0)
			r->target = T_SOCK;
		else if (strcmp(t, "file") == 0)
			r->target = T_FILE;
		else if (strncmp(t, "fd", 2) == 0 && t[2] >= '0' && t[2] <= '9') {
			r->target = T_FD;
			r->fd = atoi(t + 2);
		} else {
			r->target = T_PATH;
			snprintf(r->path, sizeof(r->path), "%s", t);
		}
	}
	if (strcmp(eq + 1, "short") == 0) {
		r->fault = F_SHORT;
	} else if (strcmp(eq + 1, "null") == 0) {
		r->fault = F_NULL;
	} else if (strcmp(eq + 1, "probe") == 0) {
		r->fault = F_PROBE;
	} else {
		size_t i;

		for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
			if (strcmp(eq + 1, errnos[i].name) == 0)
				break;
		if (i == sizeof(errnos) / sizeof(errnos[0]))
			die("fault", eq + 1);
		r->fault = errnos[i].err;
	}
	if (strcmp(at + 1, "always") == 0) {
		r->when = W_ALWAYS;
		return;
	}
	if (strncmp(at + 1, "every:", 6) == 0)
		r->when = W_EVERY;
	else if (strncmp(at + 1, "after:", 6) == 0)
		r->when = W_AFTER;
	else if (strncmp(at + 1, "bytes:", 6) == 0)
		r->when = W_BYTES;
	else if (strncmp(at + 1, "nth:", 4) == 0)
		r->when = W_NTH;
	else
		die("when", at + 1);
	r->n = atol(strchr(at + 1, ':') + 1);
	if (r->n <= 0 && r->when != W_AFTER)
		die("count", at + 1);
}

__attribute__((constructor)) static void
fault_init(void)
{
	static char spec[2048];
	const char *env = getenv("TW_FAULT"), *arm, *logp;
	char *save = NULL, *tok;

	busy++;
	if (env != NULL) {
		snprintf(spec, sizeof(spec), "%s", env);
		for (tok = strtok_r(spec, ";", &save); tok != NULL;
		     tok = strtok_r(NULL, ";", &save)) {
			if (*tok == '\0')
				continue;
			if (nrules == MAX_RULES)
				die("rule count", tok);
			parse_rule(&rules[nrules++], tok);
		}
	}
	arm = getenv("TW_FAULT_ARM");
	if (arm != NULL)
		snprintf(arm_path, sizeof(arm_path), "%s", arm);
	logp = getenv("TW_FAULT_LOG");
	if (logp != NULL)
		log_fd = (int)syscall(SYS_open, logp,
				      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				      0644);
	busy--;
}

static bool
armed(void)
{
	return arm_path[0] == '\0' || access(arm_path, F_OK) == 0;
}

static bool
target_matches(const struct rule *r, int fd)
{
	struct stat st;
	char link[64], path[512];
	ssize_t n;

	switch (r->target) {
	case T_ANY:
		return true;
	case T_FD:
		return fd == r->fd;
	case T_SOCK:
		return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	case T_FILE:
		return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	case T_PATH:
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n <= 0)
			return false;
		path[n] = '\0';
		return strstr(path, r->path) != NULL;
	}
	return false;
}

static void
note(enum call c, int fault)
{
	char line[64];
	const char *what = fault == F_SHORT ? "short" :
			   fault == F_NULL ? "null" : strerrorname_np(fault);

	if (fault == F_PROBE)
		what = syscall(SYS_getppid) < 0 ? (errno == ENOSYS ?
		       "probe ENOSYS" : "probe failed") : "probe ok";
	int n;

	if (log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s\n", call_names[c],
		     what ? what : "?");
	(void)!syscall(SYS_write, log_fd, line, (size_t)(n > 0 ? n : 0));
}

/*
 * The rule that fires on this call, or NULL. fd is -1 for allocations.
 * Rules that only restrict (bytes:N) count transfers in account().
 */
static struct rule *
fire2(enum call c, int fd, int fd2)
{
	int saved = errno;
	struct rule *hit = NULL;

	if (busy || nrules == 0)
		return NULL;
	busy++;
	for (int i = 0; i < nrules && hit == NULL; i++) {
		struct rule *r = &rules[i];
		long k;

		if (!(r->calls & (1u << c)))
			continue;
		if (fd >= 0 && !target_matches(r, fd) &&
		    (fd2 < 0 || !target_matches(r, fd2)))
			continue;
		if (fd < 0 && r->target != T_ANY)
			continue;
		if (!armed())
			continue;
		switch (r->when) {
		case W_ALWAYS:
			hit = r;
			break;
		case W_BYTES:
			if (fd >= 0 && fd < MAX_FDS &&
			    atomic_load(&r->bytes[fd]) >= r->n) {
				atomic_store(&r->bytes[fd], 0);
				hit = r;
			}
			break;
		default:
			k = atomic_fetch_add(&r->count, 1) + 1;
			if ((r->when == W_EVERY && k % r->n == 0) ||
			    (r->when == W_AFTER && k > r->n) ||
			    (r->when == W_NTH && k == r->n))
				hit = r;
		}
	}
	if (hit != NULL)
		note(c, hit->fault);
	busy--;
	errno = saved;
	return hit != NULL && hit->fault == F_PROBE ? NULL : hit;
}

static struct rule *
fire(enum call c, int fd)
{
	return fire2(c, fd, -1);
}

/* Bytes that went through fd while armed count toward the bytes:N
 * rules. */
static void
account(enum call c, int fd, ssize_t n)
{
	if (n <= 0 || fd < 0 || fd >= MAX_FDS || !armed())
		return;
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];

		if (r->when == W_BYTES && (r->calls & (1u << c)))
			atomic_fetch_add(&r->bytes[fd], n);
	}
}

static void
forget_fd(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return;
	for (int i = 0; i < nrules; i++)
		atomic_store(&rules[i].bytes[fd], 0);
}

static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		die("symbol", name);
	return f;
}

/* The next definition of name (libc's), looked up once. Through memcpy:
 * ISO C has no cast from an object pointer to a function pointer. */
#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (real_##name == NULL) { \
		void *p_ = next(#name); \
		memcpy(&real_##name, &p_, sizeof(p_)); \
	}

static size_t
half(size_t n)
{
	return n > 1 ? n / 2 : n;
}

/* A copy of iov that carries half its bytes (at least one). */
static int
half_iov(const struct iovec *iov, int cnt, struct iovec *out, int max)
{
	size_t total = 0, want;
	int i;

	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	want = half(total);
	for (i = 0; i < cnt && i < max && want > 0; i++) {
		out[i] = iov[i];
		if (out[i].iov_len > want)
			out[i].iov_len = want;
		want -= out[i].iov_len;
	}
	return i;
}

/* ------------------------------------------------------- allocations */

void *
malloc(size_t n)
{
	if (fire(C_MALLOC, -1) != NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	if (fire(C_CALLOC, -1) != NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	if (n > 0 && fire(C_REALLOC, -1) != NULL) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

/* ----------------------------------------------------------- accepts */

/*
 * Only an accept that would take a connection counts and fails: the
 * accept that ends a burst with EAGAIN does not, so each failure stands
 * for exactly one waiting client.
 */
static bool
pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int
accept4(int fd, __SOCKADDR_ARG sa, socklen_t *restrict len, int flags)
{
	REAL(accept4);
	struct rule *r = pending(fd) ? fire(C_ACCEPT4, fd) : NULL;
	int nfd;

	if (r != NULL && r->fault > 0) {
		errno = r->fault;
		return -1;
	}
	nfd = real_accept4(fd, sa, len, flags);
	forget_fd(nfd);
	return nfd;
}

int
accept(int fd, __SOCKADDR_ARG sa, socklen_t *restrict len)
{
	REAL(accept);
	struct rule *r = pending(fd) ? fire(C_ACCEPT, fd) : NULL;
	int nfd;

	if (r != NULL && r->fault > 0) {
		errno = r->fault;
		return -1;
	}
	nfd = real_accept(fd, sa, len);
	forget_fd(nfd);
	return nfd;
}

int
close(int fd)
{
	REAL(close);

	forget_fd(fd);
	return real_close(fd);
}

/* ------------------------------------------------------------- reads */

/* Fail with the rule's errno: returns true and sets *ret. */
static bool
fail(const struct rule *r, ssize_t *ret)
{
	if (r == NULL || r->fault <= 0)
		return false;
	errno = r->fault;
	*ret = -1;
	return true;
}

static bool
shorten(const struct rule *r)
{
	return r != NULL && r->fault == F_SHORT;
}

ssize_t
read(int fd, void *buf, size_t len)
{
	REAL(read);
	struct rule *r = fire(C_READ, fd);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_read(fd, buf, shorten(r) ? half(len) : len);
	account(C_READ, fd, n);
	return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	REAL(recv);
	struct rule *r = fire(C_RECV, fd);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_recv(fd, buf, shorten(r) ? half(len) : len, flags);
	account(C_RECV, fd, n);
	return n;
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	REAL(readv);
	struct rule *r = fire(C_READV, fd);
	struct iovec h[64];
	ssize_t n;

	if (fail(r, &n))
		return n;
	if (shorten(r))
		n = real_readv(fd, h, half_iov(iov, cnt, h, 64));
	else
		n = real_readv(fd, iov, cnt);
	account(C_READV, fd, n);
	return n;
}

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	REAL(pread);
	struct rule *r = fire(C_PREAD, fd);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_pread(fd, buf, shorten(r) ? half(len) : len, off);
	account(C_PREAD, fd, n);
	return n;
}


ssize_t
preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REAL(preadv);
	struct rule *r = fire(C_PREADV, fd);
	struct iovec h[64];
	ssize_t n;

	if (fail(r, &n))
		return n;
	if (shorten(r))
		n = real_preadv(fd, h, half_iov(iov, cnt, h, 64), off);
	else
		n = real_preadv(fd, iov, cnt, off);
	account(C_PREADV, fd, n);
	return n;
}

ssize_t
preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	REAL(preadv2);
	struct rule *r = fire(C_PREADV2, fd);
	struct iovec h[64];
	ssize_t n;

	if (fail(r, &n))
		return n;
	if (shorten(r))
		n = real_preadv2(fd, h, half_iov(iov, cnt, h, 64), off, flags);
	else
		n = real_preadv2(fd, iov, cnt, off, flags);
	account(C_PREADV2, fd, n);
	return n;
}

/* ------------------------------------------------------------ writes */

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(write);
	struct rule *r = fire(C_WRITE, fd);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_write(fd, buf, shorten(r) ? half(len) : len);
	account(C_WRITE, fd, n);
	return n;
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send);
	struct rule *r = fire(C_SEND, fd);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_send(fd, buf, shorten(r) ? half(len) : len, flags);
	account(C_SEND, fd, n);
	return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	struct rule *r = fire(C_WRITEV, fd);
	struct iovec h[64];
	ssize_t n;

	if (fail(r, &n))
		return n;
	if (shorten(r))
		n = real_writev(fd, h, half_iov(iov, cnt, h, 64));
	else
		n = real_writev(fd, iov, cnt);
	account(C_WRITEV, fd, n);
	return n;
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	struct rule *r = fire(C_SENDMSG, fd);
	struct iovec h[64];
	struct msghdr m;
	ssize_t n;

	if (fail(r, &n))
		return n;
	if (shorten(r)) {
		m = *msg;
		m.msg_iov = h;
		m.msg_iovlen = (size_t)half_iov(msg->msg_iov,
						(int)msg->msg_iovlen, h, 64);
		/* Fewer bytes than asked: more follow, whatever was said. */
		n = real_sendmsg(fd, &m, flags);
	} else {
		n = real_sendmsg(fd, msg, flags);
	}
	account(C_SENDMSG, fd, n);
	return n;
}

ssize_t
sendfile(int out, int in, off_t *off, size_t len)
{
	REAL(sendfile);
	/* The target may name either end: "sock" the socket, a path or
	 * "file" the file read. */
	struct rule *r = fire2(C_SENDFILE, out, in);
	ssize_t n;

	if (fail(r, &n))
		return n;
	n = real_sendfile(out, in, off, shorten(r) ? half(len) : len);
	account(C_SENDFILE, out, n);
	return n;
}

