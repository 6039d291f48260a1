/* SPDX-License-Identifier: MIT */
/*
 * tinyweb: command line -> configuration -> listeners -> run mode. Wires
 * the http protocol and the static handler together and hands the run
 * layer an opaque tw_proto; no request logic lives here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "modules/config.h"
#include "modules/fs.h"
#include "modules/http.h"
#include "modules/listener.h"
#include "modules/log.h"
#include "modules/mime.h"
#include "modules/single.h"
#include "modules/static.h"

#ifndef VERSION
#define VERSION "0.1.0"
#endif

#define BACKLOG 4096

/* More descriptors than the default 1024 are needed for
 * --max-connections; the hard limit is ours to take. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
open_listeners(const struct tw_config *cfg, int *fds, size_t *n)
{
	static const char *const any[] = { "0.0.0.0" };
	const char *const *addrs = cfg->nbinds ? cfg->binds : any;
	size_t count = cfg->nbinds ? cfg->nbinds : 1, i;
	uint16_t port = cfg->port;

	for (i = 0; i < count; i++) {
		int fd = tw_listener_bind(addrs[i], port, BACKLOG);

		if (fd < 0) {
			fprintf(stderr, "tinyweb: cannot listen on %s port %u: %s\n",
				addrs[i], port,
				fd == -EINVAL ? "not an IPv4 or IPv6 address" :
						strerror(-fd));
			while (i-- > 0)
				(void)close(fds[i]);
			return -1;
		}
		/* With -p 0 every address shares the port the first got. */
		if (port == 0)
			port = tw_listener_port(fd);
		fds[i] = fd;
	}
	*n = count;
	return 0;
}

static void
print_startup(const char *root, const int *fds, size_t n)
{
	char url[128];
	size_t i;

	fprintf(stderr, "tinyweb: serving %s on ", root);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%s", i ? ", " : "",
			tw_listener_url(fds[i], url, sizeof(url)));
	fprintf(stderr, " (epoll, 1 worker)\n");
}

int
main(int argc, char **argv)
{
	struct tw_config cfg;
	enum tw_config_cmd cmd;
	struct tw_fs_opts fso;
	struct tw_static_opts so;
	struct tw_http_opts ho;
	struct tw_http_route route;
	struct tw_mime_table *types;
	struct tw_http_server *srv;
	struct tw_proto proto;
	struct tw_fs *fs;
	int fds[TW_CONFIG_MAX_BINDS];
	size_t nfds = 0, i;
	int err, status = 1;

	tw_config_defaults(&cfg);
	if (tw_config_parse_args(&cfg, argc, argv, &cmd) < 0)
		return 2;
	if (cmd == TW_CMD_HELP) {
		tw_config_usage(stdout);
		return 0;
	}
	if (cmd == TW_CMD_VERSION) {
		printf("tinyweb %s\n", VERSION);
		return 0;
	}
	if (cfg.quiet && strcmp(cfg.access_log, "-") == 0)
		cfg.access_log = "off";

	fso.root = cfg.root;
	fso.symlinks = cfg.symlinks;
	fs = tw_fs_create(&fso, &err);
	if (fs == NULL) {
		fprintf(stderr, "tinyweb: %s: %s\n", cfg.root, strerror(-err));
		return 1;
	}
	types = tw_mime_table_create();
	if (types == NULL) {
		fprintf(stderr, "tinyweb: out of memory\n");
		goto out_fs;
	}
	err = tw_log_access_open(cfg.access_log);
	if (err < 0) {
		fprintf(stderr, "tinyweb: --access-log %s: %s\n", cfg.access_log,
			strerror(-err));
		goto out_types;
	}
	raise_fd_limit();
	if (open_listeners(&cfg, fds, &nfds) < 0)
		goto out_log;

	so = (struct tw_static_opts){
		.fs = fs,
		.types = types,
		.index = cfg.index,
		.listing = cfg.listing,
		.hidden = cfg.hidden,
		.gzip_static = cfg.gzip_static,
		.charset = cfg.charset,
	};
	ho = (struct tw_http_opts){
		.keepalive_timeout_ms = cfg.keepalive_timeout_ms,
		.header_timeout_ms = cfg.header_timeout_ms,
		.send_timeout_ms = cfg.send_timeout_ms,
		.max_keepalive_requests = (unsigned)cfg.max_keepalive_requests,
		.max_connections = cfg.max_connections,
		.max_discard_body = 1024 * 1024,
	};
	route = (struct tw_http_route){ .handler = &tw_static_handler, .opts = &so };
	srv = tw_http_create(&ho, &route, 1);
	if (srv == NULL) {
		fprintf(stderr, "tinyweb: out of memory\n");
		goto out_listeners;
	}
	proto = (struct tw_proto){
		.accept = tw_http_accept,
		.thread_init = tw_http_thread_init,
		.thread_exit = tw_http_thread_exit,
		.arg = srv,
	};
	print_startup(tw_fs_root_path(fs), fds, nfds);
	err = tw_single_run(&proto, fds, nfds);
	if (err < 0)
		fprintf(stderr, "tinyweb: %s\n", strerror(-err));
	else
		status = 0;

	tw_http_destroy(srv);
out_listeners:
	for (i = 0; i < nfds; i++)
		(void)close(fds[i]);
out_log:
	(void)tw_log_access_open("off");
out_types:
	tw_mime_table_destroy(types);
out_fs:
	tw_fs_destroy(fs);
	return status;
}
