/* SPDX-License-Identifier: MIT */
/*
 * tinyweb: command line -> configuration -> run. The configuration
 * becomes a generation (front/setup), the process around it is
 * run/server, and the control commands signal a running server
 * (run/control). No request logic lives here.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "front/config.h"
#include "front/setup.h"
#include "parse/fs.h"
#include "run/control.h"
#include "run/privs.h"
#include "run/server.h"

#ifndef VERSION
#define VERSION "0.1.0"
#endif

static struct tw_server server;

/* The pidfile a control command means: --pidfile FILE, or the pidfile
 * directive of -c FILE. Returns 0, or the exit status (said on stderr). */
static int
control_pidfile(int argc, char **argv, struct tw_config *cfg,
		const char **pidfile)
{
	char err[PATH_MAX + 256];
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc) {
			*pidfile = argv[++i];
		} else if (strncmp(argv[i], "--pidfile=", 10) == 0) {
			*pidfile = argv[i] + 10;
		} else if ((strcmp(argv[i], "-c") == 0 ||
			    strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			if (tw_config_load_file(cfg, argv[++i], err,
						sizeof(err)) < 0) {
				fprintf(stderr, "tinyweb: %s\n", err);
				return 1;
			}
			if (*pidfile == NULL)
				*pidfile = cfg->pidfile;
		} else {
			fprintf(stderr, "tinyweb: %s: unexpected argument '%s' "
				"(use --pidfile FILE or -c FILE)\n", argv[1],
				argv[i]);
			return 2;
		}
	}
	if (*pidfile == NULL) {
		fprintf(stderr, "tinyweb: %s: which server? give --pidfile "
			"FILE or -c FILE with a pidfile directive\n", argv[1]);
		return 2;
	}
	return 0;
}

/* tinyweb stop|quit|reload|reopen [--pidfile FILE | -c CONF] */
static int
control(int argc, char **argv, int signo)
{
	const char *pidfile = NULL;
	struct tw_config cfg;
	int status;

	if (tw_config_init(&cfg) < 0)
		return 1;
	status = control_pidfile(argc, argv, &cfg, &pidfile);
	if (status == 0 && tw_control_send(pidfile, signo) < 0)
		status = 1;
	tw_config_free(&cfg);
	return status;
}

/* check-config: validate what can be checked without binding. */
static int
check(struct tw_setup *g)
{
	struct tw_fs_opts fso = { .root = g->cfg.root,
				  .symlinks = g->cfg.symlinks };
	int err;

	g->fs = tw_fs_create(&fso, &err);
	if (g->fs == NULL) {
		fprintf(stderr, "tinyweb: root %s: %s\n", g->cfg.root,
			strerror(-err));
		return 1;
	}
	tw_config_print(&g->cfg, stdout);
	return 0;
}

/* Commands that print and exit; -1 for serve. */
static int
command(struct tw_setup *g)
{
	switch (g->cmd) {
	case TW_CMD_HELP:
		tw_config_usage(stdout);
		return 0;
	case TW_CMD_VERSION:
		printf("tinyweb %s\n", VERSION);
		return 0;
	case TW_CMD_CHECK:
		return check(g);
	case TW_CMD_SERVE:
		break;
	}
	return -1;
}

static int
open_pidfile(struct tw_server *s, const char *path)
{
	pid_t holder;
	int err;

	if (path == NULL)
		return 0;
	err = tw_pidfile_open(&s->pidfile, path, &holder);
	if (err == -EEXIST)
		fprintf(stderr, "tinyweb: pidfile %s: already running as "
			"pid %d\n", path, (int)holder);
	else if (err == -ENAMETOOLONG)
		fprintf(stderr, "tinyweb: pidfile %s: path too long\n", path);
	else if (err < 0)
		fprintf(stderr, "tinyweb: pidfile %s: %s\n", path,
			strerror(-err));
	return err < 0 ? -1 : 0;
}

/* Everything up to serving, in the order that matters: detach before
 * anything is opened that the parent must not hold; root is given up
 * later, by the processes that serve (run/server). */
static int
start(struct tw_server *s, struct tw_setup *g)
{
	char err_line[256];
	int err;

	if (g->cfg.daemon) {
		err = tw_server_detach(s);
		if (err < 0) {
			fprintf(stderr, "tinyweb: cannot detach: %s\n",
				strerror(-err));
			return -1;
		}
	}
	err = tw_server_prepare(s);
	if (err < 0) {
		fprintf(stderr, "tinyweb: shared memory: %s\n", strerror(-err));
		return -1;
	}
	if (tw_setup_open_logs(g) < 0 || open_pidfile(s, g->cfg.pidfile) < 0 ||
	    tw_setup_build(g, s) < 0)
		return -1;
	/* A socket systemd listens on for us that no listen line names
	 * would queue connections nobody accepts: refuse to start. */
	if (tw_server_check_passed(s, err_line, sizeof(err_line)) < 0) {
		fprintf(stderr, "tinyweb: %s\n", err_line);
		return -1;
	}
	if (tw_privs_resolve(&s->privs, g->cfg.user, g->cfg.group) < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct tw_server *s = &server;
	struct tw_setup *g;
	struct tw_run_opts first;
	int status, signo;

	signo = argc > 1 ? tw_control_signo(argv[1]) : 0;
	if (signo != 0)
		return control(argc, argv, signo);
	/* sendfile() to a socket the peer closed raises SIGPIPE; the error
	 * return is what we want instead. */
	(void)signal(SIGPIPE, SIG_IGN);
	g = tw_setup_parse(argc, argv, &status);
	if (g == NULL)
		return status;
	status = command(g);
	if (status >= 0) {
		tw_setup_free(g);
		return status;
	}
	tw_server_init(s, argc, argv, &tw_setup_server_ops);
	status = 1;
	if (start(s, g) == 0) {
		first = tw_setup_run_opts(g, s->stats);
		tw_setup_print_startup(g);
		tw_setup_serving();
		if (tw_server_run(s, &first) == 0)
			status = 0;
		g = s->cur.owner;
	}
	tw_setup_free(g);
	tw_server_finish(s, status);
	(void)tw_log_access_open("off");
	return status;
}
