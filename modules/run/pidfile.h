/* SPDX-License-Identifier: MIT */
/*
 * pidfile: the server's pid in a file locked for the server's life, so a
 * second instance refuses to start while a stale file (no lock holder) is
 * simply replaced; a control command reads it to find whom to signal.
 * During a binary upgrade the old server's file moves aside to
 * FILE.oldbin so the new one can take FILE. Layer 4 (run).
 */
#ifndef TW_PIDFILE_H
#define TW_PIDFILE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define TW_PIDFILE_ASIDE ".oldbin"

struct tw_pidfile {
	int fd;				/* holds the lock; -1: none */
	char path[PATH_MAX + sizeof(TW_PIDFILE_ASIDE)];	/* absolute */
};

/* No pidfile (yet): what tw_pidfile_close() accepts too. */
void tw_pidfile_init(struct tw_pidfile *p);

/*
 * Create or take over the pidfile at path, lock it and write our pid. A
 * relative path is made absolute first, so a later chdir("/") does not
 * lose it. Returns 0, -EEXIST if another live process holds the lock
 * (*holder set to its pid, or 0 if unreadable), -ENAMETOOLONG, or -errno.
 */
int tw_pidfile_open(struct tw_pidfile *p, const char *path, pid_t *holder);

/* Rewrite our pid (after a fork) in the open pidfile. 0 or -errno. */
int tw_pidfile_write(const struct tw_pidfile *p);

/* Remove the file if it still names us, and close it. */
void tw_pidfile_close(struct tw_pidfile *p);

/* The same for a file that names owner, not us: a keeper's (run/keeper)
 * for the server it outlives by a moment. */
void tw_pidfile_close_for(struct tw_pidfile *p, pid_t owner);

/* Close our descriptor only: another process (a keeper, forked while we
 * held it) keeps the lock and the file from now on. */
void tw_pidfile_forget(struct tw_pidfile *p);

/* Rename the file to its name + ".oldbin" (set_aside), or take one
 * ".oldbin" off again (restore). Nothing happens without an open
 * pidfile, or if the name would not fit. */
void tw_pidfile_set_aside(struct tw_pidfile *p);
void tw_pidfile_restore(struct tw_pidfile *p);

/*
 * The pid recorded in the pidfile at path if a live process holds its
 * lock. Returns the pid, -ENOENT (no file), -ESRCH (stale: nobody holds
 * it) or -errno.
 */
pid_t tw_pidfile_read(const char *path);

#endif /* TW_PIDFILE_H */
