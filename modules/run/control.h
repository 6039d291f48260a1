/* SPDX-License-Identifier: MIT */
/*
 * control: the commands that signal a running server (tinyweb stop, quit,
 * reload, reopen): which signal each sends, and sending it to the pid in
 * a pidfile. Finding the pidfile (--pidfile, or -c FILE's pidfile
 * directive) is the front layer's part. Layer 4 (run).
 */
#ifndef TW_CONTROL_H
#define TW_CONTROL_H

/* The signal control command cmd sends (stop TERM, quit QUIT, reload
 * HUP, reopen USR1), or 0 if cmd is not a control command. */
int tw_control_signo(const char *cmd);

/*
 * Send signo to the server holding the pidfile at path. Says why not on
 * stderr (stale pidfile, no file, no such process). Returns 0 or -errno.
 */
int tw_control_send(const char *path, int signo);

#endif /* TW_CONTROL_H */
