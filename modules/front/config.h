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
#include "http/compress.h"
#include "http/auth.h"
#include "http/proxy.h"
#include "parse/fs.h"
#include "run/mode.h"

#define TW_CONFIG_MAX_LISTEN	16
#define TW_CONFIG_MAX_HEADERS	32
#define TW_CONFIG_MAX_PROXY_URLS 64	/* TW_UPSTREAM_MAX_SERVERS */
#define TW_CONFIG_MAX_INDEX	8	/* names of one index directive */
#define TW_CONFIG_MAX_NAMES	16	/* server_name words of a server */
#define TW_CONFIG_MAX_SERVERS	64	/* server blocks */
#define TW_CONFIG_MAX_LOCATIONS	64	/* location blocks of a server */
#define TW_CONFIG_MAX_UPSTREAMS	64	/* upstream blocks and the implicit
					 * groups of proxy_pass URLs */
#define TW_CONFIG_MAX_CERTS	4	/* RSA and ECDSA pairs, say */
#define TW_CONFIG_MAX_ERROR_PAGES 32	/* codes of error_page lines, a level */
#define TW_CONFIG_MAX_TRY	8	/* paths of try_files */
#define TW_CONFIG_MAX_ORIGINS	16	/* cors origins, a level */
#define TW_CONFIG_MAX_RULES	32	/* allow and deny lines of a level */

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

/* Which access directives a level gave itself (front/access). */
enum {
	TW_ACCESS_REALM = 1u << 0,	/* auth_basic */
	TW_ACCESS_FILE = 1u << 1,	/* auth_basic_user_file */
	TW_ACCESS_RULES = 1u << 2,	/* allow, deny */
};

/*
 * Access control of one level (the top, a server, a location): what it
 * sets, the rest inherited as in nginx (a level's allow/deny lines
 * replace the enclosing ones as a whole).
 */
struct tw_config_auth {
	const char *realm;		/* auth_basic; NULL: off */
	const char *realm_where;	/* its FILE:LINE or flag */
	const char *file;		/* auth_basic_user_file, resolved */
	const char *users;		/* its text, read with the config */
	size_t users_len;
	uint64_t file_id;		/* device, inode, size, mtime */
	struct tw_auth_rule rules[TW_CONFIG_MAX_RULES];
	const char *rule_text[TW_CONFIG_MAX_RULES];	/* as written */
	size_t nrules;
	unsigned set;			/* TW_ACCESS_* */
};

/*
 * error_page, try_files and the cors directives (front/pages), at the
 * top level and in server and location blocks. set has the bit
 * TW_PAGES_<X> of each given at that level; a level inherits the
 * others, error_page lines and cors origins as a whole, as nginx does.
 */
enum {
	TW_PAGES_ERRORS = 1u << 0,
	TW_PAGES_TRY = 1u << 1,
	TW_PAGES_CORS = 1u << 2,
	TW_PAGES_METHODS = 1u << 3,
	TW_PAGES_HEADERS = 1u << 4,
	TW_PAGES_EXPOSE = 1u << 5,
	TW_PAGES_MAX_AGE = 1u << 6,
	TW_PAGES_CREDENTIALS = 1u << 7,
};

struct tw_config_error_page {
	int code;
	int answer;			/* =ANSWER; 0: code */
	const char *uri;
};

struct tw_config_pages {
	struct tw_config_error_page errors[TW_CONFIG_MAX_ERROR_PAGES];
	size_t nerrors;
	const char *try_files[TW_CONFIG_MAX_TRY];	/* the FILE words */
	size_t ntry;
	int try_code;			/* last word =CODE, or 0 */
	const char *try_uri;		/* last word URI, or NULL */
	const char *origins[TW_CONFIG_MAX_ORIGINS];	/* "*": any */
	size_t norigins;		/* 0 with TW_PAGES_CORS: cors off */
	const char *cors_methods;	/* "GET, HEAD" as printed; NULL:
					 * the default */
	const char *cors_headers;	/* NULL: echo those asked for */
	const char *cors_expose;	/* or NULL */
	uint64_t cors_max_age;		/* seconds */
	bool cors_credentials;
	const char *cors_where;		/* FILE:LINE of cors *, and of */
	const char *credentials_where;	/* cors_credentials on */
	unsigned set;			/* TW_PAGES_* given at this level */
};

/*
 * What a server or location block may set (front/scope). set has the
 * bit TW_SCOPE_<X> of each directive given in the block itself; the
 * others are inherited from the enclosing level (location from server,
 * server from the top of the file and the flags), as in nginx.
 */
enum {
	TW_SCOPE_ROOT = 1u << 0,
	TW_SCOPE_ALIAS = 1u << 1,
	TW_SCOPE_INDEX = 1u << 2,
	TW_SCOPE_LISTING = 1u << 3,
	TW_SCOPE_HIDDEN = 1u << 4,
	TW_SCOPE_EXPIRES = 1u << 5,
	TW_SCOPE_HEADERS = 1u << 6,
	TW_SCOPE_STATUS = 1u << 7,
	TW_SCOPE_RETURN = 1u << 8,
	TW_SCOPE_PROXY = 1u << 9,
	TW_SCOPE_COMPRESS = 1u << 16,
};

struct tw_config_scope {
	const char *root;
	const char *alias;		/* location only: replaces its prefix */
	const char *index[TW_CONFIG_MAX_INDEX];	/* the first that exists */
	size_t nindex;			/* 0: no index file */
	bool listing;
	bool hidden;
	long long expires;		/* seconds; -1: off */
	struct tw_config_header headers[TW_CONFIG_MAX_HEADERS];
	size_t nheaders;
	const char *status;		/* status page path, or NULL */
	int ret_code;			/* return CODE; 0: none */
	const char *ret_arg;		/* its URL or text, or NULL */
	const char *proxy_pass;		/* as written, or NULL */
	const char *proxy_where;	/* its FILE:LINE, for resolving */
	struct tw_proxy_opts *proxy;	/* filled by tw_config_resolve() */
	bool compress;			/* on-the-fly compression */
	struct tw_config_auth auth;	/* allow, deny, auth_basic */
	unsigned set;			/* TW_SCOPE_* given in this block */
	struct tw_config_pages pages;	/* error_page, try_files, cors */
};

struct tw_config_location {
	const char *path;		/* the prefix or the exact path */
	bool exact;			/* location = PATH */
	struct tw_config_scope s;
};

struct tw_config_listen {
	struct tw_listen l;
	bool default_server;
	const char *where;		/* FILE:LINE of the listen line */
};

struct tw_config_server {
	const char *where;		/* FILE:LINE of "server {" */
	struct tw_config_listen listens[TW_CONFIG_MAX_LISTEN];
	size_t nlistens;		/* 0: the top level's listens */
	const char *names[TW_CONFIG_MAX_NAMES];	/* exact or "*.suffix" */
	size_t nnames;
	const char *name_where[TW_CONFIG_MAX_NAMES];
	/* Its certificates for SNI (pairs in order), or none */
	const char *tls_certs[TW_CONFIG_MAX_CERTS];
	const char *tls_keys[TW_CONFIG_MAX_CERTS];
	size_t ntls_certs, ntls_keys;
	const char *tls_where;		/* FILE:LINE of the first of them */
	struct tw_config_scope s;
	struct tw_config_location *locs;	/* in the file's order */
	size_t nlocs;
};

/* One "server HOST:PORT ..." line of an upstream block, as written. */
struct tw_config_upstream_server {
	const char *host;		/* a name or an IP literal */
	uint16_t port;
	const char *where;
	struct tw_upstream_server_conf conf;	/* conf.name: "host:port" */
};

/* An upstream block, or the group of one of a proxy_pass URL. */
struct tw_config_upstream {
	const char *name;
	const char *where;
	bool implicit;			/* made for a proxy_pass URL */
	struct tw_config_upstream_server srv[TW_UPSTREAM_MAX_SERVERS];
	size_t nsrv;
	enum tw_balance balance;
	const char *hash_key;
	unsigned keepalive;
	struct tw_proxy_check check;
	bool check_set;			/* health_check given */
	unsigned seen;			/* balance, keepalive: once each */
	struct tw_proxy_group group;	/* filled by tw_config_resolve() */
};

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

/* Whether the serving loops narrow themselves (run/sandbox). */
enum tw_config_sandbox {
	TW_CONFIG_SANDBOX_OFF,	/* for debugging */
	TW_CONFIG_SANDBOX_ON,	/* what the kernel allows (default) */
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
	const char *index;		/* the first of indexes, or the default */
	const char *indexes[TW_CONFIG_MAX_INDEX];	/* index NAME ...; */
	size_t nindexes;		/* 0: index alone */
	bool listing;
	bool hidden;
	enum tw_fs_symlinks symlinks;
	enum tw_charset charset;
	bool gzip_static;
	/* On-the-fly compression (http/compress); compress.types points
	 * at compress_types once set up, NULL until then. */
	struct tw_compress_opts compress;
	const char *compress_types[TW_COMPRESS_MAX_TYPES];
	size_t ncompress_types;		/* 0: the default list */
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
	bool defer_accept;		/* TCP_DEFER_ACCEPT on the listeners */
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
	struct tw_config_auth auth;	/* the top level's access control */
	const char *health;		/* load balancers' check path, or NULL */
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
	struct tw_config_pages pages;	/* error_page, try_files, cors,
					 * --spa (front/pages) */

	/* Landlock, seccomp and no_new_privs in every serving loop. */
	enum tw_config_sandbox sandbox;

	/* The proxy: `tinyweb proxy URL... [DIR]` and the flat proxy_*
	 * directives (the settings of every proxied request). */
	const char *proxy_urls[TW_CONFIG_MAX_PROXY_URLS];
	size_t nproxy_urls;
	bool proxy_dir;			/* proxy with a DIR: files first */
	int balance;			/* enum tw_balance */
	uint64_t proxy_connect_timeout_ms;
	uint64_t proxy_read_timeout_ms;
	uint64_t proxy_send_timeout_ms;
	uint64_t proxy_next_upstream_tries;	/* 0: every server once */
	unsigned proxy_next_upstream;	/* TW_PROXY_NEXT_* bits */
	uint64_t proxy_max_body;	/* 0: no limit */
	uint64_t proxy_buffer_size;	/* an upstream's response head */
	bool proxy_pass_request_headers;
	struct tw_config_header proxy_set_headers[TW_CONFIG_MAX_HEADERS];
	size_t nproxy_set_headers;
	uint64_t proxy_keepalive;	/* idle upstream connections a loop */
	/* Blocks (front/scope); no server block: one implicit server made
	 * of the settings above, as before servers existed. */
	struct tw_config_server *servers[TW_CONFIG_MAX_SERVERS];
	size_t nservers;
	struct tw_config_upstream *upstreams[TW_CONFIG_MAX_UPSTREAMS];
	size_t nupstreams;
	bool listens_from_cli;		/* -p/-b: every server listens there */

	/* Internal bookkeeping (command line and printing). */
	int cli_port;			/* -p, or -1 */
	bool max_connections_set;	/* given, not the default: kept as
					 * is, not fitted to RLIMIT_NOFILE */
	const char *cli_binds[TW_CONFIG_MAX_LISTEN];
	size_t ncli_binds;
	struct tw_listen cli_listens[TW_CONFIG_MAX_LISTEN];	/* --listen */
	size_t ncli_listens;
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

/*
 * Resolve what a loaded configuration names outside itself: the hosts of
 * upstream servers and proxy_pass URLs (getaddrinfo, so only when the
 * configuration is loaded or reloaded, never on a loop), and upstream
 * names used by proxy_pass. Returns 0, or TW_CONFIG_EFILE with one
 * "FILE:LINE: what" line in err. tw_config_parse_args() calls it.
 */
int tw_config_resolve(struct tw_config *c, char *err, size_t errlen);

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
