/* SPDX-License-Identifier: MIT */
/*
 * upstreams: the config file's upstream NAME { } blocks (server lines
 * with weight, max_fails, fail_timeout and backup; balance; keepalive;
 * health_check) and the targets of proxy_pass: parsed into struct
 * tw_config's upstreams, printed back, and resolved (getaddrinfo) into
 * the struct tw_proxy_group of http/proxy.h when a configuration is
 * loaded. Layer 5 (front), beside opts, whose "upstream" row is here.
 */
#ifndef TW_UPSTREAMS_H
#define TW_UPSTREAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "front/config.h"
#include "front/opts.h"

/* The row of "upstream NAME { }" (front/opts). */
tw_opt_parse_fn tw_upstreams_parse;

/* Whether name is a directive of upstream blocks (for messages). */
bool tw_upstreams_directive(const char *name);

/*
 * The host, port and path of a proxy_pass target: "http://HOST[:PORT]
 * [/PATH]" or a bare upstream NAME (host only, port 80, path NULL).
 * host is hlen bytes at most. 0, -EPROTONOSUPPORT for another scheme,
 * or -EINVAL.
 */
int tw_upstreams_split_url(const char *s, char *host, size_t hlen,
			   uint16_t *port, bool *has_port, const char **path);

/*
 * The proxy_* settings of c (top-level: every proxy_pass has the same)
 * for forwarding to group, with proxy_pass's path uri (or NULL).
 */
void tw_upstreams_proxy_opts(const struct tw_config *c,
			     const struct tw_proxy_group *group,
			     const char *uri, struct tw_proxy_opts *po);

/* The upstream blocks of c in the file syntax (check-config). */
void tw_upstreams_print(const struct tw_config *c, FILE *out);

/* Free the upstreams of c and what tw_config_resolve() made. */
void tw_upstreams_free(struct tw_config *c);

#endif /* TW_UPSTREAMS_H */
