/* SPDX-License-Identifier: MIT */
/*
 * pages: error_page, try_files and CORS settings, parsed, printed,
 * inherited and handed to http and static. Layer 5.
 */
#include "front/pages.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "parse/url.h"

#define DEFAULT_METHODS	"GET, HEAD, OPTIONS"
#define DEFAULT_MAX_AGE	3600	/* seconds; browsers cap it (2 h) */

struct pages_row {
	const char *name;
	unsigned bit;		/* TW_PAGES_* */
	bool repeats;		/* in one block too */
	int (*parse)(const struct tw_opt_val *v, const char *name,
		     struct tw_config_pages *p);
};

static const char *
keep(const struct tw_opt_val *v, const char *s, size_t n)
{
	return tw_opts_keep(v->px->c, s, n);
}

static int
oom(const struct tw_opt_val *v)
{
	return tw_opts_failf(v->px, v->org, "out of memory");
}

/* A status of s ("404") from lo to hi; 0 if it is none. */
static int
status_of(const char *s, int lo, int hi)
{
	uint64_t n;

	if (!tw_opts_number(s, 599, &n) || (int)n < lo || (int)n > hi)
		return 0;
	return (int)n;
}

/* A URI served in a request's place: a path that decodes (and, as a
 * response head never carries it, no control character or blank). */
static bool
uri_ok(const char *s)
{
	char path[PATH_MAX];
	size_t len, n = strcspn(s, "?");
	const char *p;

	if (s[0] != '/')
		return false;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '#')
			return false;
	return tw_url_decode_path(s, n, path, sizeof(path), &len) == 0 &&
	       tw_url_remove_dots(path, &len) == 0;
}

/* ---- error_page CODE... [=ANSWER] URI -------------------------------- */

static int
parse_error_page(const struct tw_opt_val *v, const char *name,
		 struct tw_config_pages *p)
{
	const char *uri = v->args[v->nargs - 1];
	size_t ncodes = v->nargs - 1, i, j;
	int answer = 0;

	(void)name;
	if (ncodes > 1 && v->args[ncodes - 1][0] == '=') {
		answer = status_of(v->args[ncodes - 1] + 1, 200, 599);
		if (answer == 0 || (answer >= 300 && answer < 400))
			return tw_opts_failf(v->px, v->org, "error_page '%s': "
					     "expected =CODE, a 2xx, 4xx or "
					     "5xx status",
					     v->args[ncodes - 1]);
		ncodes--;
	}
	if (!uri_ok(uri))
		return tw_opts_failf(v->px, v->org, "error_page '%s': expected "
				     "a path starting with '/' (no blanks, "
				     "valid %%-escapes)", uri);
	if ((uri = keep(v, uri, strlen(uri))) == NULL)
		return oom(v);
	for (i = 0; i < ncodes; i++) {
		int code = status_of(v->args[i], 400, 599);

		if (code == 0)
			return tw_opts_failf(v->px, v->org, "error_page '%s': "
					     "expected a status from 400 to "
					     "599", v->args[i]);
		for (j = 0; j < p->nerrors; j++)
			if (p->errors[j].code == code)
				return tw_opts_failf(v->px, v->org,
						     "error_page %d is given "
						     "twice", code);
		if (p->nerrors == TW_CONFIG_MAX_ERROR_PAGES)
			return tw_opts_failf(v->px, v->org, "at most %d "
					     "error_page codes",
					     TW_CONFIG_MAX_ERROR_PAGES);
		p->errors[p->nerrors++] = (struct tw_config_error_page){
			code, answer, uri };
	}
	return 0;
}

/* ---- try_files FILE... (=CODE | URI) -------------------------------- */

/* A FILE word: a path, "$uri" the only variable in it. */
static bool
try_word_ok(const char *s)
{
	const char *d;

	if (s[0] != '/' && strncmp(s, "$uri", 4) != 0)
		return false;
	for (d = s; (d = strchr(d, '$')) != NULL; d += 4)
		if (strncmp(d, "$uri", 4) != 0)
			return false;
	for (d = s; *d != '\0'; d++)
		if ((unsigned char)*d < ' ' || *d == 0x7f)
			return false;
	return true;
}

static int
parse_try_files(const struct tw_opt_val *v, const char *name,
		struct tw_config_pages *p)
{
	const char *last = v->args[v->nargs - 1];
	size_t i;

	(void)name;
	if (v->nargs - 1 > TW_CONFIG_MAX_TRY)
		return tw_opts_failf(v->px, v->org, "try_files: at most %d "
				     "paths before the last word",
				     TW_CONFIG_MAX_TRY);
	for (i = 0; i + 1 < v->nargs; i++) {
		if (!try_word_ok(v->args[i]))
			return tw_opts_failf(v->px, v->org, "try_files '%s': "
					     "expected a path starting with "
					     "'/' or $uri ($uri is the only "
					     "variable)", v->args[i]);
		p->try_files[i] = keep(v, v->args[i], strlen(v->args[i]));
		if (p->try_files[i] == NULL)
			return oom(v);
	}
	p->ntry = v->nargs - 1;
	p->try_code = 0;
	p->try_uri = NULL;
	if (last[0] == '=') {
		p->try_code = status_of(last + 1, 400, 599);
		if (p->try_code == 0)
			return tw_opts_failf(v->px, v->org, "try_files '%s': "
					     "expected =CODE from 400 to 599",
					     last);
	} else if (!uri_ok(last) || strchr(last, '$') != NULL) {
		return tw_opts_failf(v->px, v->org, "try_files '%s': the last "
				     "word is =CODE or a URI starting with "
				     "'/' (no variables)", last);
	} else if ((p->try_uri = keep(v, last, strlen(last))) == NULL) {
		return oom(v);
	}
	return 0;
}

int
tw_pages_spa(const struct tw_opt_val *v, struct tw_config_pages *p)
{
	p->try_files[0] = "$uri";
	p->try_files[1] = "$uri/";
	p->ntry = 2;
	p->try_code = 0;
	p->try_uri = "/index.html";
	p->set |= TW_PAGES_TRY;
	(void)v;
	return 0;
}

/* ---- cors ORIGIN... | * | off ------------------------------------------ */

/* scheme://host[:port], as a browser serializes an origin. */
static bool
origin_ok(const char *s)
{
	const char *h;

	if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else
		return false;
	if (*h == '\0')
		return false;
	for (; *h != '\0'; h++)
		if ((unsigned char)*h <= ' ' || *h == 0x7f || *h == '/' ||
		    *h == ',' || *h == '?' || *h == '#')
			return false;
	return true;
}

static bool
is_star(const struct tw_config_pages *p)
{
	return p->norigins == 1 && strcmp(p->origins[0], "*") == 0;
}

static int
parse_cors(const struct tw_opt_val *v, const char *name,
	   struct tw_config_pages *p)
{
	size_t i;

	(void)name;
	for (i = 0; i < v->nargs; i++) {
		const char *o = v->args[i];
		bool alone = strcmp(o, "*") == 0 || strcmp(o, "off") == 0;

		if (alone && (v->nargs > 1 || p->norigins > 0))
			return tw_opts_failf(v->px, v->org, "cors %s stands "
					     "alone, not beside origins", o);
		if (!alone && is_star(p))
			return tw_opts_failf(v->px, v->org, "cors '%s': cors * "
					     "allows every origin already", o);
		if (strcmp(o, "off") == 0)
			return 0;
		if (!alone && !origin_ok(o))
			return tw_opts_failf(v->px, v->org, "cors '%s': expected "
					     "*, off or an origin such as "
					     "https://app.example.org[:PORT] "
					     "(no path)", o);
		if (p->norigins == TW_CONFIG_MAX_ORIGINS)
			return tw_opts_failf(v->px, v->org, "at most %d cors "
					     "origins", TW_CONFIG_MAX_ORIGINS);
		if ((p->origins[p->norigins] = keep(v, o, strlen(o))) == NULL)
			return oom(v);
		p->norigins++;
		if (alone && (p->cors_where = keep(v, v->org->where,
				strlen(v->org->where))) == NULL)
			return oom(v);
	}
	return 0;
}

/* ---- cors_methods, cors_headers, cors_expose_headers: LIST -------- */

static bool
is_tchar(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z') || strchr("!#$%&'*+-.^_`|~", ch);
}

/* The words of v, split at commas and blanks too, joined as "A, B";
 * *star: the list is "*" alone. */
static int
parse_list(const struct tw_opt_val *v, const char *name, const char **out,
	   bool *star)
{
	char buf[1024];
	size_t n = 0, i;

	*star = v->nargs == 1 && strcmp(v->args[0], "*") == 0;
	if (*star) {
		*out = NULL;
		return 0;
	}
	for (i = 0; i < v->nargs; i++) {
		const char *s = v->args[i];

		while (*s != '\0') {
			size_t len = 0;

			while (*s == ',' || *s == ' ' || *s == '\t')
				s++;
			while (s[len] != '\0' && s[len] != ',' &&
			       s[len] != ' ' && s[len] != '\t') {
				if (!is_tchar(s[len]) || s[len] == '*')
					return tw_opts_failf(v->px, v->org,
						"%s '%s': expected names "
						"(tokens) apart by commas or "
						"blanks", name, v->args[i]);
				len++;
			}
			if (len == 0)
				break;
			if (n + len + 3 > sizeof(buf))
				return tw_opts_failf(v->px, v->org, "%s: too "
						     "long a list", name);
			if (n > 0) {
				memcpy(buf + n, ", ", 2);
				n += 2;
			}
			memcpy(buf + n, s, len);
			n += len;
			s += len;
		}
	}
	if (n == 0)
		return tw_opts_failf(v->px, v->org, "'%s' needs names", name);
	if ((*out = keep(v, buf, n)) == NULL)
		return oom(v);
	return 0;
}

/* cors_methods, cors_expose_headers: names, "*" is none. */
static int
parse_names(const struct tw_opt_val *v, const char *name,
	    struct tw_config_pages *p)
{
	bool star;
	const char **out = strcmp(name, "cors_methods") == 0 ?
			   &p->cors_methods : &p->cors_expose;
	int err = parse_list(v, name, out, &star);

	if (err == 0 && star)
		return tw_opts_failf(v->px, v->org, "%s: name them (* is no "
				     "name)", name);
	return err;
}

static int
parse_headers(const struct tw_opt_val *v, const char *name,
	      struct tw_config_pages *p)
{
	bool star;

	return parse_list(v, name, &p->cors_headers, &star);
}

static int
parse_max_age(const struct tw_opt_val *v, const char *name,
	      struct tw_config_pages *p)
{
	uint64_t ms;

	if (tw_config_parse_duration(v->args[0], &ms) < 0 ||
	    ms > 86400000ull * 365)
		return tw_opts_failf(v->px, v->org, "%s '%s': expected a "
				     "duration such as 600, 10m or 2h", name,
				     v->args[0]);
	p->cors_max_age = ms / 1000;
	return 0;
}

static int
parse_credentials(const struct tw_opt_val *v, const char *name,
		  struct tw_config_pages *p)
{
	if (v->org->cli)
		p->cors_credentials = !v->neg;
	else if (strcmp(v->args[0], "on") == 0)
		p->cors_credentials = true;
	else if (strcmp(v->args[0], "off") == 0)
		p->cors_credentials = false;
	else
		return tw_opts_failf(v->px, v->org, "'%s' takes on or off, not "
				     "'%s'", name, v->args[0]);
	p->credentials_where = keep(v, v->org->where, strlen(v->org->where));
	return p->credentials_where == NULL ? oom(v) : 0;
}

static const struct pages_row rows[] = {
	{ "error_page", TW_PAGES_ERRORS, true, parse_error_page },
	{ "try_files", TW_PAGES_TRY, false, parse_try_files },
	{ "cors", TW_PAGES_CORS, true, parse_cors },
	{ "cors_methods", TW_PAGES_METHODS, false, parse_names },
	{ "cors_headers", TW_PAGES_HEADERS, false, parse_headers },
	{ "cors_expose_headers", TW_PAGES_EXPOSE, false, parse_names },
	{ "cors_max_age", TW_PAGES_MAX_AGE, false, parse_max_age },
	{ "cors_credentials", TW_PAGES_CREDENTIALS, false, parse_credentials },
};

static const struct pages_row *
find_row(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

bool
tw_pages_directive(const char *name)
{
	return find_row(name) != NULL;
}

int
tw_pages_parse(const struct tw_opt_val *v, const char *name,
	       struct tw_config_pages *p, bool block)
{
	const struct pages_row *r = find_row(name);
	int err;

	if (r == NULL)
		return tw_opts_failf(v->px, v->org, "unknown directive '%s'",
				     name);
	if (block && !r->repeats && (p->set & r->bit))
		return tw_opts_failf(v->px, v->org, "duplicate '%s' directive",
				     name);
	err = r->parse(v, name, p);
	if (err == 0)
		p->set |= r->bit;
	return err;
}

/* ---- printing ------------------------------------------------------------ */

static void
print_error_pages(const struct tw_config_pages *p, int depth, FILE *out)
{
	size_t i, j;

	/* Codes that share a page and an answer, on one line. */
	for (i = 0; i < p->nerrors; i++) {
		const struct tw_config_error_page *e = &p->errors[i];

		for (j = 0; j < i; j++)
			if (p->errors[j].uri == e->uri &&
			    p->errors[j].answer == e->answer)
				break;
		if (j < i)
			continue;
		fprintf(out, "%*serror_page", 4 * depth, "");
		for (j = i; j < p->nerrors; j++)
			if (p->errors[j].uri == e->uri &&
			    p->errors[j].answer == e->answer) {
				fprintf(out, " %d", p->errors[j].code);
			}
		if (e->answer != 0)
			fprintf(out, " =%d", e->answer);
		fputc(' ', out);
		tw_opts_put_quoted(out, e->uri);
		fputs(";\n", out);
	}
}

static void
print_cors(const struct tw_config_pages *p, int depth, FILE *out)
{
	size_t i;

	if (p->set & TW_PAGES_CORS) {
		fprintf(out, "%*scors", 4 * depth, "");
		if (p->norigins == 0)
			fputs(" off", out);
		for (i = 0; i < p->norigins; i++) {
			fputc(' ', out);
			tw_opts_put_quoted(out, p->origins[i]);
		}
		fputs(";\n", out);
	}
	if (p->set & TW_PAGES_METHODS) {
		fprintf(out, "%*scors_methods ", 4 * depth, "");
		tw_opts_put_quoted(out, p->cors_methods);
		fputs(";\n", out);
	}
	if (p->set & TW_PAGES_HEADERS) {
		fprintf(out, "%*scors_headers ", 4 * depth, "");
		tw_opts_put_quoted(out, p->cors_headers ? p->cors_headers :
				   "*");
		fputs(";\n", out);
	}
	if (p->set & TW_PAGES_EXPOSE) {
		fprintf(out, "%*scors_expose_headers ", 4 * depth, "");
		tw_opts_put_quoted(out, p->cors_expose);
		fputs(";\n", out);
	}
	if (p->set & TW_PAGES_MAX_AGE)
		fprintf(out, "%*scors_max_age %llus;\n", 4 * depth, "",
			(unsigned long long)p->cors_max_age);
	if (p->set & TW_PAGES_CREDENTIALS)
		fprintf(out, "%*scors_credentials %s;\n", 4 * depth, "",
			p->cors_credentials ? "on" : "off");
}

void
tw_pages_print(const struct tw_config_pages *p, int depth, FILE *out)
{
	size_t i;

	print_error_pages(p, depth, out);
	if (p->set & TW_PAGES_TRY) {
		fprintf(out, "%*stry_files", 4 * depth, "");
		for (i = 0; i < p->ntry; i++) {
			fputc(' ', out);
			tw_opts_put_quoted(out, p->try_files[i]);
		}
		if (p->try_code != 0)
			fprintf(out, " =%d", p->try_code);
		else {
			fputc(' ', out);
			tw_opts_put_quoted(out, p->try_uri);
		}
		fputs(";\n", out);
	}
	print_cors(p, depth, out);
}

/* ---- inheritance and checks ------------------------------------------ */

void
tw_pages_overlay(struct tw_config_pages *out, const struct tw_config_pages *b)
{
	if (b->set & TW_PAGES_ERRORS) {
		memcpy(out->errors, b->errors, sizeof(out->errors));
		out->nerrors = b->nerrors;
	}
	if (b->set & TW_PAGES_TRY) {
		memcpy(out->try_files, b->try_files, sizeof(out->try_files));
		out->ntry = b->ntry;
		out->try_code = b->try_code;
		out->try_uri = b->try_uri;
	}
	if (b->set & TW_PAGES_CORS) {
		memcpy(out->origins, b->origins, sizeof(out->origins));
		out->norigins = b->norigins;
		out->cors_where = b->cors_where;
	}
	if (b->set & TW_PAGES_METHODS)
		out->cors_methods = b->cors_methods;
	if (b->set & TW_PAGES_HEADERS)
		out->cors_headers = b->cors_headers;
	if (b->set & TW_PAGES_EXPOSE)
		out->cors_expose = b->cors_expose;
	if (b->set & TW_PAGES_MAX_AGE)
		out->cors_max_age = b->cors_max_age;
	if (b->set & TW_PAGES_CREDENTIALS) {
		out->cors_credentials = b->cors_credentials;
		out->credentials_where = b->credentials_where;
	}
	out->set |= b->set;
}

int
tw_pages_check(const struct tw_config_pages *eff, char *err, size_t errlen)
{
	if (!is_star(eff) || !eff->cors_credentials)
		return 0;
	(void)snprintf(err, errlen, "%s: cors_credentials on needs a list of "
		       "origins, not cors * (%s): browsers refuse credentials "
		       "with any origin", eff->credentials_where,
		       eff->cors_where);
	return TW_CONFIG_EFILE;
}

/* ---- for http and static ------------------------------------------------- */

void
tw_pages_build(const struct tw_config_pages *p, struct tw_pages_http *out,
	       struct tw_static_opts *so)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nerrors; i++)
		out->errors[i] = (struct tw_http_error_page){
			p->errors[i].code, p->errors[i].answer,
			p->errors[i].uri };
	out->scope.errors = out->errors;
	out->scope.nerrors = p->nerrors;
	if (p->norigins > 0) {
		memcpy(out->origins, p->origins, sizeof(out->origins));
		out->cors = (struct tw_cors){
			.origins = out->origins,
			.norigins = p->norigins,
			.any = is_star(p),
			.credentials = p->cors_credentials,
			.methods = p->cors_methods ? p->cors_methods :
				   DEFAULT_METHODS,
			.headers = p->cors_headers,
			.expose = p->cors_expose,
			.max_age = (p->set & TW_PAGES_MAX_AGE) ?
				   p->cors_max_age : DEFAULT_MAX_AGE,
		};
		out->scope.cors = &out->cors;
	}
	if (so == NULL)
		return;
	memcpy(out->try_files, p->try_files, sizeof(out->try_files));
	so->try_files = out->try_files;
	so->ntry = p->ntry;
	so->try_code = p->try_code;
	so->try_uri = p->try_uri;
}
