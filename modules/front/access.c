/* SPDX-License-Identifier: MIT */
/*
 * access: allow, deny, auth_basic and auth_basic_user_file. The user
 * file is read here, once per load, and parsed by http/auth's own
 * parser to find a bad line now (naming the user file's FILE:LINE)
 * rather than at the first login; only its text is kept, for setup to
 * parse into the table the handler reads. Layer 5.
 */
#include "front/access.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/siphash.h"
#include "front/scope.h"
#include "http/userfile.h"

bool
tw_access_is_directive(const char *name)
{
	return strcmp(name, "auth_basic") == 0 ||
	       strcmp(name, "auth_basic_user_file") == 0 ||
	       strcmp(name, "allow") == 0 || strcmp(name, "deny") == 0;
}

static const char *
keep(struct tw_opt_ctx *px, const char *s)
{
	return tw_opts_keep(px->c, s, strlen(s));
}

/* The whole file into a fresh buffer (free()); its identity in *id. */
static int
read_file(const char *path, char **out, size_t *len, uint64_t *id)
{
	static const uint64_t zero[2];
	struct stat st;
	uint64_t who[5];
	int err;

	err = tw_opts_read_file(path, TW_ACCESS_MAX_FILE, out, len, &st);
	if (err < 0)
		return err;
	who[0] = (uint64_t)st.st_dev;
	who[1] = (uint64_t)st.st_ino;
	who[2] = (uint64_t)st.st_size;
	who[3] = (uint64_t)st.st_mtim.tv_sec;
	who[4] = (uint64_t)st.st_mtim.tv_nsec;
	*id = tw_siphash(zero, who, sizeof(who));
	return 0;
}

static int
set_file(struct tw_opt_ctx *px, const struct tw_opt_origin *org,
	 const char *file, const char *path, struct tw_config_auth *a)
{
	struct tw_userfile u;
	char full[PATH_MAX];
	const char *why;
	unsigned line;
	char *text = NULL;
	size_t len = 0;
	uint64_t id = 0;
	int err;

	if (*path == '\0')
		return tw_opts_failf(px, org, "auth_basic_user_file needs a "
				     "file");
	if (tw_opts_resolve(px, file, path, full, sizeof(full)) < 0)
		return tw_opts_failf(px, org, "auth_basic_user_file path too "
				     "long");
	/* What is wrong with the file is no usage error, even named by a
	 * flag: exit status 1, as for a bad config file. */
	err = read_file(full, &text, &len, &id);
	if (err < 0) {
		(void)tw_opts_failf(px, org, "auth_basic_user_file %s: %s",
				    full, strerror(-err));
		return TW_CONFIG_EFILE;
	}
	err = tw_userfile_parse(&u, text, len, id, &line, &why);
	if (err == 0)
		tw_userfile_free(&u);
	else
		free(text);
	if (err == -ENOMEM)
		return tw_opts_failf(px, org, "out of memory");
	if (err < 0 && line == 0)
		(void)tw_opts_failf(px, org, "auth_basic_user_file %s: %s",
				    full, why);
	else if (err < 0)
		(void)tw_opts_failf(px, org, "auth_basic_user_file %s:%u: %s",
				    full, line, why);
	if (err < 0)
		return TW_CONFIG_EFILE;
	a->file = keep(px, full);
	a->users = tw_opts_keep(px->c, text, len);
	free(text);
	if (a->file == NULL || a->users == NULL)
		return tw_opts_failf(px, org, "out of memory");
	a->users_len = len;
	a->file_id = id;
	a->set |= TW_ACCESS_FILE;
	return 0;
}

/* A realm goes in a quoted-string as it is: printable, no '"' or '\\'
 * (nginx takes them; a browser shows them mangled). */
static bool
realm_ok(const char *realm)
{
	for (; *realm; realm++)
		if ((unsigned char)*realm < 0x20 || *realm == 0x7f ||
		    *realm == '"' || *realm == '\\')
			return false;
	return true;
}

static int
set_realm(struct tw_opt_ctx *px, const struct tw_opt_origin *org,
	  const char *realm, struct tw_config_auth *a)
{
	if (!realm_ok(realm))
		return tw_opts_failf(px, org, "auth_basic '%s': a realm is "
				     "printable text without '\"' or '\\'",
				     realm);
	a->realm = strcmp(realm, "off") == 0 ? NULL : keep(px, realm);
	a->realm_where = keep(px, org->where);
	if ((strcmp(realm, "off") != 0 && a->realm == NULL) ||
	    a->realm_where == NULL)
		return tw_opts_failf(px, org, "out of memory");
	a->set |= TW_ACCESS_REALM;
	return 0;
}

static int
add_rule(struct tw_opt_ctx *px, const struct tw_opt_origin *org,
	 bool allow, const char *net, struct tw_config_auth *a)
{
	struct tw_auth_rule *r = &a->rules[a->nrules];

	if (a->nrules == TW_CONFIG_MAX_RULES)
		return tw_opts_failf(px, org, "at most %d allow and deny "
				     "lines in one block",
				     TW_CONFIG_MAX_RULES);
	if (tw_net_parse(net, &r->net) < 0)
		return tw_opts_failf(px, org, "%s '%s': expected an address, "
				     "ADDR/BITS or all", allow ? "allow" :
				     "deny", net);
	r->allow = allow;
	if ((a->rule_text[a->nrules] = keep(px, net)) == NULL)
		return tw_opts_failf(px, org, "out of memory");
	a->nrules++;
	a->set |= TW_ACCESS_RULES;
	return 0;
}

int
tw_access_set(struct tw_opt_ctx *px, const struct tw_opt_origin *org,
	      const char *file, const char *name, const char *const *args,
	      size_t nargs, struct tw_config_auth *a)
{
	unsigned once = strcmp(name, "auth_basic") == 0 ? TW_ACCESS_REALM :
			strcmp(name, "auth_basic_user_file") == 0 ?
			TW_ACCESS_FILE : 0;

	(void)nargs;
	/* A flag overrides the file's value; a block says it once. */
	if (!org->cli && (a->set & once))
		return tw_opts_failf(px, org, "duplicate '%s' directive", name);
	if (strcmp(name, "auth_basic") == 0)
		return set_realm(px, org, args[0], a);
	if (strcmp(name, "auth_basic_user_file") == 0)
		return set_file(px, org, file, args[0], a);
	return add_rule(px, org, strcmp(name, "allow") == 0, args[0], a);
}

int
tw_access_set_file_flag(struct tw_opt_ctx *px,
			const struct tw_opt_origin *org, const char *path,
			struct tw_config_auth *a)
{
	int err = set_file(px, org, NULL, path, a);

	if (err == 0 && !(a->set & TW_ACCESS_REALM)) {
		a->realm = "tinyweb";
		a->realm_where = "--auth-file";
		a->set |= TW_ACCESS_REALM;
	}
	return err;
}

void
tw_access_print(const struct tw_config_auth *a, int depth, FILE *out)
{
	size_t i;

	if (a->set & TW_ACCESS_REALM) {
		fprintf(out, "%*sauth_basic ", 4 * depth, "");
		tw_opts_put_quoted(out, a->realm ? a->realm : "off");
		fputs(";\n", out);
	}
	if (a->set & TW_ACCESS_FILE) {
		fprintf(out, "%*sauth_basic_user_file ", 4 * depth, "");
		tw_opts_put_quoted(out, a->file);
		fputs(";\n", out);
	}
	for (i = 0; i < a->nrules; i++) {
		fprintf(out, "%*s%s ", 4 * depth, "",
			a->rules[i].allow ? "allow" : "deny");
		tw_opts_put_quoted(out, a->rule_text[i]);
		fputs(";\n", out);
	}
}

void
tw_access_inherit(struct tw_config_auth *out, const struct tw_config_auth *b)
{
	if (b->set & TW_ACCESS_REALM) {
		out->realm = b->realm;
		out->realm_where = b->realm_where;
	}
	if (b->set & TW_ACCESS_FILE) {
		out->file = b->file;
		out->users = b->users;
		out->users_len = b->users_len;
		out->file_id = b->file_id;
	}
	/* As nginx: a level's own rules replace the enclosing ones. */
	if (b->set & TW_ACCESS_RULES) {
		memcpy(out->rules, b->rules, sizeof(out->rules));
		memcpy(out->rule_text, b->rule_text, sizeof(out->rule_text));
		out->nrules = b->nrules;
	}
	out->set |= b->set;
}

static int
check_level(const struct tw_config *c, const struct tw_config_server *srv,
	    const struct tw_config_location *loc, char *err, size_t errlen)
{
	struct tw_config_scope eff;

	tw_scope_effective(c, srv, loc, &eff);
	if (eff.auth.realm != NULL && eff.auth.users == NULL) {
		(void)snprintf(err, errlen, "%s: auth_basic needs an "
			       "auth_basic_user_file", eff.auth.realm_where);
		return TW_CONFIG_EFILE;
	}
	return 0;
}

int
tw_access_finish(const struct tw_config *c, char *err, size_t errlen)
{
	size_t i, j;
	int r;

	if (c->nservers == 0)
		return check_level(c, NULL, NULL, err, errlen);
	for (i = 0; i < c->nservers; i++) {
		const struct tw_config_server *srv = c->servers[i];

		if ((r = check_level(c, srv, NULL, err, errlen)) < 0)
			return r;
		for (j = 0; j < srv->nlocs; j++)
			if ((r = check_level(c, srv, &srv->locs[j], err,
					     errlen)) < 0)
				return r;
	}
	return 0;
}
