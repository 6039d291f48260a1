/* SPDX-License-Identifier: MIT */
/*
 * config: every setting of tinyweb in one table (front/opts) that drives
 * the config file (parsed by parse/conf_parse), the command line, --help
 * and check-config's output. Fills
 * struct tw_config from defaults, then the file (-c), then flags, which
 * win; tinyweb.c then hands each module its own options struct. Layer 5
 * (front): the only module that sees all options.
 */
#ifndef TW_CONFIG_H
#define TW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/log.h"
#include "parse/fs.h"
#include "run/mode.h"

#define TW_CONFIG_MAX_LISTEN	16
#define TW_CONFIG_MAX_HEADERS	32
#define TW_CONFIG_MAX_CERTS	4	/* RSA and ECDSA pairs, say */

struct tw_listen {
	const char *addr;	/* IPv4 or IPv6 literal */
	uint16_t port;
	bool tls;		/* listen ... tls; */
};

struct tw_config_header {
	const char *name;
	const char *value;
};

struct tw_config_arena;
struct tw_mime_table;

/* Whether text gets "; charset=utf-8" (see struct tw_static_opts). */
enum tw_charset {
	TW_CHARSET_OFF,		/* bare content types */
	TW_CHARSET_AUTO,	/* on files that are UTF-8 text */
};

/* How cold file pages are read (see struct tw_conn_opts). */
enum tw_aio_mode {
	TW_AIO_OFF,		/* by the loop itself */
	TW_AIO_THREADS,		/* by a thread pool per worker */
};

/* When file bytes go by sendfile (see struct tw_conn_opts). */
enum tw_sendfile {
	TW_SENDFILE_AUTO,	/* below TW_CONN_COPY_AUTO bytes */
	TW_SENDFILE_ON,		/* always */
	TW_SENDFILE_OFF,	/* never: pread + send */
};

struct tw_config {
	struct tw_config_arena *arena;	/* owns every string below */
	const char *conf_file;		/* -c FILE, or NULL */
	bool test_only;			/* check-config / -t */

	const char *root;
	struct tw_listen listens[TW_CONFIG_MAX_LISTEN];
	size_t nlistens;
	const char *index;
	bool listing;
	bool hidden;
	enum tw_fs_symlinks symlinks;
	enum tw_charset charset;
	bool gzip_static;
	const char *access_log;		/* "-", "off" or a path */
	enum tw_log_format log_format;
	bool quiet;
	const char *error_log;		/* "-" (stderr) or a path */
	enum tw_log_level log_level;
	const char *pidfile;		/* or NULL */
	bool daemon;
	enum tw_run_mode mode;
	unsigned workers;		/* 0: one per CPU ("auto") */
	enum tw_accept_strategy accept;	/* prefork and threads */
	enum tw_aio_mode aio;
	enum tw_sendfile sendfile;
	uint64_t aio_threads;		/* per worker, with aio threads */
	uint64_t keepalive_timeout_ms;
	uint64_t header_timeout_ms;
	uint64_t send_timeout_ms;
	uint64_t send_min_rate;		/* bytes/s; 0: off */
	uint64_t max_connections;
	uint64_t max_keepalive_requests;
	uint64_t max_request_body;	/* bytes; larger bodies get 413 */
	struct tw_config_header headers[TW_CONFIG_MAX_HEADERS];
	size_t nheaders;
	long long expires;		/* seconds; -1: off */
	const char *status;		/* status page path, or NULL */
	const char *status_allow[TW_CONFIG_MAX_HEADERS];
	size_t nstatus_allow;		/* 0: loopback only */
	const char *user;		/* or NULL */
	const char *group;		/* or NULL */
	struct tw_mime_table *types;	/* built-ins + mime_types + types */
	/* TLS: certificate and key files pair up in order. */
	const char *tls_certs[TW_CONFIG_MAX_CERTS];
	size_t ntls_certs;
	const char *tls_keys[TW_CONFIG_MAX_CERTS];
	size_t ntls_keys;
	const char *tls_protocols;	/* NULL: TLSv1.2 TLSv1.3 */
	const char *tls_ciphers;	/* NULL: Mozilla intermediate */
	uint64_t redirect_https;	/* plain listeners: 301 to this
					 * https port; 0: off */

	/* Internal bookkeeping (command line and printing). */
	int cli_port;			/* -p, or -1 */
	bool max_connections_set;	/* given, not the default: kept as
					 * is, not fitted to RLIMIT_NOFILE */
	const char *cli_binds[TW_CONFIG_MAX_LISTEN];
	size_t ncli_binds;
	bool cli_tls;			/* --tls-cert: -p/-b listen tls */
	struct config_mime_op *mime_ops;
	size_t nmime_ops;
	unsigned char seen[64];		/* directives met in the file */
};

/*
 * Fill c with the built-in defaults and an empty arena. Returns 0 or
 * -ENOMEM. Free with tw_config_free().
 */
int tw_config_init(struct tw_config *c);
void tw_config_free(struct tw_config *c);

enum tw_config_cmd {
	TW_CMD_SERVE,
	TW_CMD_CHECK,		/* check-config or -t */
	TW_CMD_HELP,
	TW_CMD_VERSION,
};

/* Errors from tw_config_parse_args(). */
#define TW_CONFIG_EUSAGE (-EINVAL)	/* bad command line: exit 2 */
#define TW_CONFIG_EFILE	(-EBADMSG)	/* bad config file: exit 1 */

/*
 * Parse argv: "serve [DIR]" or "check-config", options anywhere after
 * the command. Reads the config file named by -c, then applies the flags
 * on top. Prints one "tinyweb: ..." line to stderr on error and returns
 * TW_CONFIG_EUSAGE or TW_CONFIG_EFILE; else 0 with *cmd set.
 */
int tw_config_parse_args(struct tw_config *c, int argc, char **argv,
			 enum tw_config_cmd *cmd);

/*
 * Parse config text buf[0..len) named name (for messages and relative
 * includes). On error returns TW_CONFIG_EFILE with "NAME:LINE: what"
 * in err. Includes are read from disk unless allow_include is false.
 */
int tw_config_load_buf(struct tw_config *c, const char *name, const char *buf,
		       size_t len, bool allow_include, char *err,
		       size_t errlen);

/* Read and parse the file at path (see tw_config_load_buf). */
int tw_config_load_file(struct tw_config *c, const char *path, char *err,
			size_t errlen);

/* Print the effective configuration in the file syntax (check-config):
 * tw_config_load_buf() of the output yields the same configuration. */
void tw_config_print(const struct tw_config *c, FILE *out);

/*
 * Where tw_config_parse_args() sends its one-line errors (without the
 * "tinyweb: " prefix); NULL restores the default, stderr. A reload sets
 * the error log so a daemon's reason is not lost.
 */
void tw_config_set_error_sink(void (*fn)(const char *msg));

/* Print the --help text, generated from the option table. */
void tw_config_usage(FILE *out);

/*
 * Durations "250ms", "10" (seconds), "10s", "5m", "2h", "1d" and sizes
 * "512", "64k", "10m", "1g" (powers of 1024). Return 0 or -EINVAL.
 */
int tw_config_parse_duration(const char *s, uint64_t *ms);
int tw_config_parse_size(const char *s, uint64_t *bytes);

#endif /* TW_CONFIG_H */
