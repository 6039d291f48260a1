/* SPDX-License-Identifier: MIT */
/*
 * return: the handler of a location's "return CODE [URL|TEXT]": a
 * redirect (301, 302, 303, 307, 308) with its Location, another code
 * with TEXT as a text/plain body, or without TEXT http's own page for
 * that code. Takes every request it is asked. Layer 3.
 */
#ifndef TW_RETURN_H
#define TW_RETURN_H

#include "http/http.h"

struct tw_return_opts {
	int code;		/* 200..599 */
	const char *arg;	/* URL of a redirect, body text, or NULL */
};

extern const struct tw_handler tw_return_handler;

#endif /* TW_RETURN_H */
