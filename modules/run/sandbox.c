/* SPDX-License-Identifier: MIT */
/*
 * sandbox: no_new_privs, Landlock and seccomp for the serving loops.
 * Layer 4.
 */
#include "run/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/log.h"

/*
 * Debian's linux-libc-dev may be older than the running kernel: the
 * parts of the Landlock ABI after 2 are spelled here, as the kernel
 * defines them (include/uapi/linux/landlock.h). The ruleset attribute
 * is passed with the size the detected ABI knows.
 */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define RULE_NET_PORT		2
#define FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define NET_CONNECT_TCP		(1ULL << 1)
#define SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */

#define FS_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_LOG_DIR	(LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_MAKE_REG)

/* The architecture the filter is written for, and where a trapped call's
 * return value goes. Elsewhere seccomp is left out (and said so). */
#if defined(__x86_64__)
#define FILTER_ARCH		AUDIT_ARCH_X86_64
#define SET_RETURN(uc, v)	((uc)->uc_mcontext.gregs[REG_RAX] = (v))
#elif defined(__aarch64__)
#define FILTER_ARCH		AUDIT_ARCH_AARCH64
#define SET_RETURN(uc, v)	((uc)->uc_mcontext.regs[0] = (v))
#else
#define FILTER_ARCH		0
#define SET_RETURN(uc, v)	((void)(uc), (void)(v))
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[n]))
#else
#define ARG_LO(n)	(offsetof(struct seccomp_data, args[n]) + 4)
#endif

#define MAX_INSNS	320
#define DESCRIBE_MAX	256

struct tw_sandbox {
	int ruleset;			/* Landlock ruleset, or -1 */
	int abi;			/* Landlock ABI, 0: none */
	struct sock_filter prog[MAX_INSNS];
	unsigned short ninsns;		/* 0: no seccomp filter */
	unsigned short own_pid;		/* the insn comparing tgkill's
					 * process, set at each enter */
	char describe[DESCRIBE_MAX];
};

/*
 * The system calls a serving loop makes: the event loop, connections
 * (plain, TLS, kTLS, sendfile), files beneath the roots, the aio pool's
 * threads, the proxy's outbound connects, log writes and re-opens,
 * malloc and the sanitizer runtimes. The most frequent come first: the
 * filter compares one by one. Not here, among others: execve, fork
 * (clone without CLONE_THREAD), ptrace, kill, bind, listen, unlink,
 * rename, chmod, chown, mount, setuid and friends, io_uring, bpf.
 */
static const int allowed[] = {
	__NR_epoll_pwait, __NR_read, __NR_write, __NR_writev, __NR_readv,
	__NR_sendfile, __NR_openat2, __NR_openat, __NR_close, __NR_accept4,
	__NR_newfstatat, __NR_fstat, __NR_statx, __NR_sendmsg, __NR_recvmsg,
	__NR_sendto, __NR_recvfrom, __NR_pread64, __NR_preadv, __NR_preadv2,
	__NR_epoll_ctl, __NR_futex, __NR_clock_gettime, __NR_lseek,
	__NR_getdents64, __NR_setsockopt, __NR_getsockopt, __NR_getsockname,
	__NR_getpeername, __NR_shutdown, __NR_connect, __NR_mincore,
	__NR_readahead, __NR_fadvise64, __NR_mmap, __NR_munmap, __NR_mremap,
	__NR_mprotect, __NR_madvise, __NR_brk, __NR_timerfd_settime,
	__NR_timerfd_gettime, __NR_timerfd_create, __NR_eventfd2,
	__NR_signalfd4, __NR_epoll_create1, __NR_epoll_pwait2,
	__NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
	__NR_sigaltstack, __NR_fcntl, __NR_dup, __NR_dup3, __NR_pipe2,
	__NR_getrandom, __NR_getpid, __NR_gettid, __NR_getuid, __NR_geteuid,
	__NR_getgid, __NR_getegid, __NR_sched_yield, __NR_sched_getaffinity,
	__NR_set_robust_list, __NR_rseq, __NR_exit, __NR_exit_group,
	__NR_restart_syscall, __NR_prlimit64, __NR_getrlimit,
	__NR_clock_getres, __NR_clock_nanosleep, __NR_nanosleep,
	__NR_gettimeofday, __NR_membarrier, __NR_uname, __NR_getcwd,
	__NR_readlinkat, __NR_faccessat, __NR_faccessat2, __NR_sysinfo,
#ifdef __NR_access
	__NR_access,
#endif
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
#ifdef __NR_readlink
	__NR_readlink,
#endif
#ifdef __NR_time
	__NR_time,
#endif
#ifdef __NR_poll
	__NR_poll,
#endif
	__NR_ppoll,
};

/* ioctl requests: isatty() and socket queue sizes; nothing that writes
 * to a terminal (TIOCSTI) or a device. */
static const unsigned long allowed_ioctls[] = {
	TCGETS, FIONREAD, FIONBIO, FIOCLEX,
};

static int
ll_create(const struct ruleset_attr *a, size_t size, uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, a, size, flags);
}

static int
ll_add(int ruleset, int type, const void *attr)
{
	return (int)syscall(__NR_landlock_add_rule, ruleset, type, attr, 0);
}

static uint64_t
handled_fs(int abi)
{
	uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= FS_TRUNCATE;
	if (abi >= 5)
		fs |= FS_IOCTL_DEV;
	return fs;
}

static int
add_beneath(int ruleset, const char *path, uint64_t access, bool need_dir)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access };
	struct stat st;
	int err = 0;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return -errno;
	if (fstat(pb.parent_fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* Directory rights on a file are an error to Landlock. */
		if (need_dir) {
			err = -ENOTDIR;
			goto out;
		}
		pb.allowed_access &= ~(uint64_t)(LANDLOCK_ACCESS_FS_READ_DIR |
						 LANDLOCK_ACCESS_FS_MAKE_REG);
	}
	if (ll_add(ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb) < 0)
		err = -errno;
out:
	(void)close(pb.parent_fd);
	return err;
}

/*
 * A root given as a symlink is how deploys swap releases
 * (current -> releases/2); the loops follow the link when it changes
 * (parse/fs), so the directory holding its target, where the next
 * release appears, is readable too.
 */
static int
add_read(int ruleset, const char *path)
{
	char real[PATH_MAX], *slash;
	struct stat st;
	int err = add_beneath(ruleset, path, FS_READ, false);

	if (err < 0 || lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
		return err;
	if (realpath(path, real) == NULL)
		return -errno;
	slash = strrchr(real, '/');
	if (slash == NULL || slash == real)
		return 0;	/* a link to a directory of / itself: no more */
	*slash = '\0';
	return add_beneath(ruleset, real, FS_READ, true);
}

/*
 * A log file is re-opened under its name after logrotate moved it
 * (USR1), so its directory allows creating and writing files; a log
 * that is not a regular file (a FIFO, /dev/stderr) gets a rule of its
 * own, so a directory like /dev never does.
 */
static int
add_log(int ruleset, const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (path == NULL || strcmp(path, "-") == 0 || strcmp(path, "off") == 0)
		return 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return add_beneath(ruleset, path, LANDLOCK_ACCESS_FS_WRITE_FILE,
				   false);
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return add_beneath(ruleset, dir, FS_LOG_DIR, true);
}

static int
add_port(int ruleset, uint16_t port)
{
	struct net_port_attr np = {
		.allowed_access = NET_CONNECT_TCP,
		.port = port,
	};

	return ll_add(ruleset, RULE_NET_PORT, &np) < 0 ? -errno : 0;
}

/* The ruleset of o for the detected ABI; the first path that fails is
 * named in *what. */
static int
build_ruleset(struct tw_sandbox *sb, const struct tw_sandbox_opts *o,
	      const char **what)
{
	struct ruleset_attr a = { .handled_access_fs = handled_fs(sb->abi) };
	size_t size = sizeof(a.handled_access_fs), i;
	int err = 0;

	if (sb->abi >= 4) {
		/* Listening sockets are bound before; nothing binds after. */
		a.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
		size = offsetof(struct ruleset_attr, scoped);
	}
	if (sb->abi >= 6) {
		/* No signals to processes outside the sandbox: a worker has
		 * nobody to signal, its master least of all. */
		a.scoped = SCOPE_SIGNAL;
		size = sizeof(a);
	}
	sb->ruleset = ll_create(&a, size, 0);
	if (sb->ruleset < 0) {
		*what = "landlock ruleset";
		return -errno;
	}
	for (i = 0; i < o->nread && err == 0; i++)
		if ((err = add_read(sb->ruleset, o->read[i])) < 0)
			*what = o->read[i];
	for (i = 0; i < o->nlogs && err == 0; i++)
		if ((err = add_log(sb->ruleset, o->logs[i])) < 0)
			*what = o->logs[i];
	/* The listener's spare descriptor for EMFILE is /dev/null, opened
	 * again each time it was spent. */
	if (err == 0 && (err = add_beneath(sb->ruleset, "/dev/null",
					   LANDLOCK_ACCESS_FS_READ_FILE,
					   false)) < 0)
		*what = "/dev/null";
	for (i = 0; i < o->nports && sb->abi >= 4 && err == 0; i++)
		if ((err = add_port(sb->ruleset, o->ports[i])) < 0)
			*what = "landlock port rule";
	return err;
}

/* ---- the seccomp program ---------------------------------------------- */

static void
emit(struct tw_sandbox *sb, struct sock_filter f)
{
	if (sb->ninsns < MAX_INSNS)
		sb->prog[sb->ninsns] = f;
	sb->ninsns++;
}

#define STMT(code, k)		((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, t, f)	((struct sock_filter)BPF_JUMP((code), (k), (t), (f)))
#define LOAD(off)		STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v)			STMT(BPF_RET | BPF_K, (v))
/*
 * A refused call traps: the handler below logs its number and makes it
 * fail with ENOSYS. The call never runs either way; a trap rather than
 * killing the process means a call this list missed (a library update,
 * a rare path) costs one failed request and names itself in the error
 * log, instead of taking down an epoll or threads server with every
 * client on it. glibc falls back on ENOSYS where it has a fallback.
 */
#define REFUSE			RET(SECCOMP_RET_TRAP)

/* nr allowed when its first argument is one of vals. */
static void
emit_arg0_in(struct tw_sandbox *sb, int nr, const unsigned long *vals,
	     size_t n)
{
	size_t i;

	emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0,
		      (uint8_t)(n + 3)));
	emit(sb, LOAD(ARG_LO(0)));
	for (i = 0; i < n; i++)
		emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)vals[i],
			      (uint8_t)(n - i), 0));
	emit(sb, REFUSE);
	emit(sb, RET(SECCOMP_RET_ALLOW));
}

static void
build_filter(struct tw_sandbox *sb)
{
	static const unsigned long families[] = { AF_INET, AF_INET6 };
	size_t i;

	emit(sb, LOAD(offsetof(struct seccomp_data, arch)));
	emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0));
	emit(sb, RET(SECCOMP_RET_KILL_PROCESS));
	emit(sb, LOAD(offsetof(struct seccomp_data, nr)));
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed[i],
			      0, 1));
		emit(sb, RET(SECCOMP_RET_ALLOW));
	}
	/* Threads (the aio pool), never a new process. */
	emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4));
	emit(sb, LOAD(ARG_LO(0)));
	emit(sb, JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 1, 0));
	emit(sb, REFUSE);
	emit(sb, RET(SECCOMP_RET_ALLOW));
	/* clone3's flags are in memory the filter cannot read: glibc then
	 * uses clone, whose flags it can. Quietly, as it happens at every
	 * thread start. */
	emit(sb, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
	emit(sb, RET(SECCOMP_RET_ERRNO | ENOSYS));
	/* Sockets for upstreams: IPv4 or IPv6. Not AF_UNIX: Landlock does
	 * not govern connecting to a socket file (a container runtime's,
	 * say), so the filter keeps the loops from making one at all. */
	emit_arg0_in(sb, __NR_socket, families,
		     sizeof(families) / sizeof(families[0]));
	emit_arg0_in(sb, __NR_ioctl, allowed_ioctls,
		     sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]));
	/* Signals only within our own process (abort(), glibc's own):
	 * never to the master or another process of the same user. The
	 * pid is each worker's, written in by tw_sandbox_enter(). */
	sb->own_pid = (unsigned short)(sb->ninsns + 2);
	emit_arg0_in(sb, __NR_tgkill, (const unsigned long[]){ 0 }, 1);
	emit(sb, REFUSE);
}

/* ---- refused calls ---------------------------------------------------- */

static char *
put_str(char *p, const char *s)
{
	while (*s != '\0')
		*p++ = *s++;
	return p;
}

static char *
put_uint(char *p, unsigned long v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* A signal handler: raw system calls only, no stdio, and none that a
 * preloaded library could wrap (a refused call in here would kill). */
static void
on_sigsys(int signo, siginfo_t *si, void *ctx)
{
	char line[128], *p = line;
	int saved = errno;

	(void)signo;
	p = put_str(p, "tinyweb: [error] ");
	p = put_uint(p, (unsigned long)syscall(__NR_getpid));
	p = put_str(p, " sandbox: system call ");
	p = put_uint(p, (unsigned long)(unsigned)si->si_syscall);
	p = put_str(p, " refused (not in the seccomp list); it fails "
		    "with ENOSYS\n");
	(void)!syscall(__NR_write, tw_log_error_fd(), line, (size_t)(p - line));
	SET_RETURN((ucontext_t *)ctx, -ENOSYS);
	errno = saved;
}

/* ---- the module ------------------------------------------------------- */

/* A kernel built without seccomp filters (or before 4.14) says so here
 * rather than failing every worker at tw_sandbox_enter(). */
static bool
seccomp_traps(void)
{
	uint32_t action = SECCOMP_RET_TRAP;

	return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

static void
describe(struct tw_sandbox *sb, size_t nports)
{
	char ll[128];
	const char *sc = sb->ninsns > 0 ? "on" : FILTER_ARCH == 0 ?
			 "off (no filter for this architecture)" :
			 "off (the kernel lacks seccomp filters)";

	if (sb->abi <= 0)
		(void)snprintf(ll, sizeof(ll), "no landlock (the kernel lacks "
			       "it: Linux 5.13+ with landlock enabled)");
	else if (sb->abi < 4)
		(void)snprintf(ll, sizeof(ll), "landlock ABI %d (fs), no "
			       "network rules (ABI < 4)", sb->abi);
	else
		(void)snprintf(ll, sizeof(ll), "landlock ABI %d (fs, network: "
			       "connect to %zu port%s, bind none)", sb->abi,
			       nports, nports == 1 ? "" : "s");
	(void)snprintf(sb->describe, sizeof(sb->describe),
		       "sandbox: %s; seccomp %s; no new privileges", ll, sc);
}

struct tw_sandbox *
tw_sandbox_create(const struct tw_sandbox_opts *o, const char **what,
		  int *err)
{
	struct tw_sandbox *sb = calloc(1, sizeof(*sb));

	*what = "sandbox";
	if (sb == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	sb->ruleset = -1;
	sb->abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (sb->abi > 0) {
		*err = build_ruleset(sb, o, what);
		if (*err < 0) {
			tw_sandbox_destroy(sb);
			return NULL;
		}
	}
	if (FILTER_ARCH != 0 && seccomp_traps()) {
		build_filter(sb);
		if (sb->ninsns > MAX_INSNS) {
			*what = "seccomp filter";
			*err = -E2BIG;
			tw_sandbox_destroy(sb);
			return NULL;
		}
	}
	describe(sb, o->nports);
	return sb;
}

void
tw_sandbox_destroy(struct tw_sandbox *sb)
{
	if (sb == NULL)
		return;
	if (sb->ruleset >= 0)
		(void)close(sb->ruleset);
	free(sb);
}

const char *
tw_sandbox_describe(const struct tw_sandbox *sb)
{
	return sb->describe;
}

int
tw_sandbox_enter(const struct tw_sandbox *sb)
{
	struct sock_filter insns[MAX_INSNS];
	struct sock_fprog prog = { .len = sb->ninsns, .filter = insns };
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO };

	/* Landlock and seccomp without CAP_SYS_ADMIN require it, and it
	 * keeps a setuid binary from gaining what the rules take away. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (sb->ruleset >= 0 &&
	    syscall(__NR_landlock_restrict_self, sb->ruleset, 0) < 0)
		return -errno;
	if (sb->ninsns == 0)
		return 0;
	memcpy(insns, sb->prog, sb->ninsns * sizeof(insns[0]));
	insns[sb->own_pid].k = (uint32_t)getpid();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	/* Without SECCOMP_FILTER_FLAG_TSYNC: this thread only. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}
