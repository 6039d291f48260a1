/* SPDX-License-Identifier: MIT */
/*
 * listing: the HTML index of a directory (autoindex). Reads the directory
 * through fs, so the same symlink policy that guards file requests also
 * decides what is listed, sorts the names and renders an HTML5 page into
 * a tw_buf without printf. Every name is untrusted text: it is escaped
 * for HTML, percent-encoded for the href, and a name no valid URL can
 * reach is shown but not linked. Layer 3 (handler): knows nothing of
 * sockets, of the request or of how the page is sent.
 */
#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "url.h"

struct entry {
	bool dir;
	bool linkable;		/* valid UTF-8, no control byte */
	uint64_t size;
	time_t mtime;
	size_t len;
	char name[];		/* NUL-terminated */
};

struct entries {
	struct entry **v;	/* malloc'd, each entry malloc'd */
	size_t n;
	size_t cap;
};

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

static void
entries_free(struct entries *es)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		free(es->v[i]);
	free(es->v);
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * A name is linked only if a request can name it: tw_url_decode_path
 * refuses invalid UTF-8 and control bytes, so a link to such a name
 * would only ever answer 400.
 */
static bool
name_is_linkable(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (is_control((unsigned char)name[i]))
			return false;
	return tw_url_is_utf8((const unsigned char *)name, len, false);
}

/*
 * Entries tw_fs_stat() refuses are left out of the page: the policy said
 * no (-ELOOP, -EXDEV), the link dangles, the entry vanished or cannot be
 * searched. Anything else (-EMFILE, -ENOMEM, -EIO) fails the listing
 * rather than showing a silently shortened one.
 */
static bool
stat_refused(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
	case -ELOOP:
	case -EXDEV:
	case -EACCES:
	case -EPERM:
	case -ENAMETOOLONG:
		return true;
	default:
		return false;
	}
}

static int
entries_add(struct entries *es, const char *name, size_t len,
	    const struct stat *st)
{
	struct entry *e, **v;
	size_t cap;

	if (es->n == es->cap) {
		cap = es->cap ? es->cap * 2 : 64;
		v = reallocarray(es->v, cap, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		es->v = v;
		es->cap = cap;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return -ENOMEM;
	e->dir = S_ISDIR(st->st_mode);
	e->linkable = name_is_linkable(name, len);
	e->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
	e->mtime = st->st_mtime;
	e->len = len;
	memcpy(e->name, name, len + 1);
	es->v[es->n++] = e;
	return 0;
}

/* Read the directory at rel into es; es is freed by the caller. */
static int
collect(const struct tw_fs *fs, const char *rel, bool hidden,
	struct entries *es)
{
	size_t rlen = strlen(rel), len;
	struct dirent *de;
	struct stat st;
	char *path;
	DIR *d;
	int fd, err;

	fd = tw_fs_open(fs, rel, O_DIRECTORY, NULL);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (d == NULL) {
		err = -errno;
		(void)close(fd);
		return err;
	}
	/* "<rel>/<name>": d_name is a fixed array that bounds every name. */
	path = malloc(rlen + 1 + sizeof(de->d_name));
	if (path == NULL) {
		err = -ENOMEM;
		goto out_closedir;
	}
	memcpy(path, rel, rlen);
	if (rlen > 0 && rel[rlen - 1] != '/')
		path[rlen++] = '/';

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			err = -errno;	/* 0 at the end of the directory */
			break;
		}
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (de->d_name[0] == '.' && !hidden)
			continue;
		len = strlen(de->d_name);
		memcpy(path + rlen, de->d_name, len + 1);
		/* A plain entry of a directory opened beneath the root is
		 * beneath it too: one fstatat, no path walk. Links (and
		 * filesystems that do not say) go through the policy, and a
		 * permitted link to a dir lists as one. */
		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			err = fstatat(dirfd(d), de->d_name, &st,
				      AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		else
			err = tw_fs_stat(fs, path, &st);
		if (err < 0) {
			if (stat_refused(err))
				continue;
			break;
		}
		err = entries_add(es, de->d_name, len, &st);
		if (err < 0)
			break;
	}

	free(path);
out_closedir:
	(void)closedir(d);
	return err;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	/* strcmp compares as unsigned char: plain byte order. */
	return strcmp(x->name, y->name);
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..n), or 0 with *bad set
 * to the length of its maximal ill-formed subpart, which becomes a single
 * U+FFFD (Unicode 15, 3.9 "substitution of maximal subparts", as browsers
 * decode). The lead byte narrows the range of the next byte, which
 * rejects overlongs, surrogates and code points above U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* HTML text: escaped, with invalid UTF-8 and control bytes as U+FFFD. */
static void
put_text(struct tw_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n, bad = 1;

	if (name_is_linkable(s, len)) {
		tw_buf_append_html(b, s, len);
		return;
	}
	while (i < len) {
		if (is_control(p[i])) {
			n = 0;
			bad = 1;
		} else {
			n = utf8_seq(p + i, len - i, &bad);
		}
		if (n > 0) {
			i += n;
			continue;
		}
		tw_buf_append_html(b, s + run, i - run);
		tw_buf_append(b, replacement, sizeof(replacement) - 1);
		i += bad;
		run = i;
	}
	tw_buf_append_html(b, s + run, len - run);
}

/*
 * The href of a name: percent-encoded straight into the buffer. Since
 * tw_url_encode_path encodes ':', a name like "a:b" can never read as a
 * scheme; should that rule ever change, a "./" prefix keeps it relative.
 */
static void
put_href(struct tw_buf *b, const char *name, size_t len, bool dir)
{
	size_t cap = 3 * len + 1;	/* worst case: every byte as %XX */
	char *dst = tw_buf_reserve(b, 2 + cap);
	long n;

	if (dst == NULL)
		return;
	n = tw_url_encode_path(name, len, dst + 2, cap);
	if (n < 0) {
		/* Cannot happen with cap above; don't emit a broken link. */
		b->failed = true;
		return;
	}
	if (memchr(dst + 2, ':', (size_t)n) != NULL) {
		dst[0] = '.';
		dst[1] = '/';
		n += 2;
	} else {
		memmove(dst, dst + 2, (size_t)n);
	}
	b->len += (size_t)n;
	if (dir)
		tw_buf_append_char(b, '/');
}

static void
put_digits(char *out, unsigned v, size_t width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "YYYY-MM-DD HH:MM" in UTC, or "-" outside the years 0..9999. */
static void
put_date(struct tw_buf *b, time_t t)
{
	char d[16];
	struct tm tm;
	long year;

	if (gmtime_r(&t, &tm) == NULL) {
		tw_buf_append_char(b, '-');
		return;
	}
	year = (long)tm.tm_year + 1900;
	if (year < 0 || year > 9999) {
		tw_buf_append_char(b, '-');
		return;
	}
	put_digits(d, (unsigned)year, 4);
	d[4] = '-';
	put_digits(d + 5, (unsigned)tm.tm_mon + 1, 2);
	d[7] = '-';
	put_digits(d + 8, (unsigned)tm.tm_mday, 2);
	d[10] = ' ';
	put_digits(d + 11, (unsigned)tm.tm_hour, 2);
	d[13] = ':';
	put_digits(d + 14, (unsigned)tm.tm_min, 2);
	tw_buf_append(b, d, sizeof(d));
}

static void
put_entry(struct tw_buf *b, const struct entry *e)
{
	tw_buf_append_str(b, "<tr><td>");
	if (e->linkable) {
		tw_buf_append_str(b, "<a href=\"");
		put_href(b, e->name, e->len, e->dir);
		tw_buf_append_str(b, "\">");
	}
	put_text(b, e->name, e->len);
	if (e->dir)
		tw_buf_append_char(b, '/');
	if (e->linkable)
		tw_buf_append_str(b, "</a>");
	tw_buf_append_str(b, "</td><td class=\"s\">");
	if (e->dir)
		tw_buf_append_char(b, '-');
	else
		tw_buf_append_u64(b, e->size);
	tw_buf_append_str(b, "</td><td>");
	put_date(b, e->mtime);
	tw_buf_append_str(b, "</td></tr>\n");
}

static void
render(struct tw_buf *b, const char *url_path, const struct entries *es)
{
	size_t plen = strlen(url_path), i;

	tw_buf_append_str(b,
		"<!DOCTYPE html>\n"
		"<html>\n"
		"<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" "
		"content=\"width=device-width, initial-scale=1\">\n"
		"<title>Index of ");
	put_text(b, url_path, plen);
	tw_buf_append_str(b,
		"</title>\n"
		"<style>\n"
		"body{font-family:system-ui,sans-serif;margin:1em 2em}\n"
		"table{border-collapse:collapse}\n"
		"th,td{text-align:left;padding:.15em 1.5em .15em 0}\n"
		"td.s{text-align:right;font-variant-numeric:tabular-nums}\n"
		"</style>\n"
		"</head>\n"
		"<body>\n"
		"<h1>Index of ");
	put_text(b, url_path, plen);
	tw_buf_append_str(b,
		"</h1>\n"
		"<table>\n"
		"<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
	if (strcmp(url_path, "/") != 0)
		tw_buf_append_str(b, "<tr><td><a href=\"../\">../</a></td>"
				     "<td class=\"s\">-</td><td>-</td></tr>\n");
	for (i = 0; i < es->n; i++)
		put_entry(b, es->v[i]);
	tw_buf_append_str(b,
		"</table>\n"
		"</body>\n"
		"</html>\n");
}

int
tw_listing_render(const struct tw_fs *fs, const char *rel,
		  const char *url_path, const struct tw_listing_opts *opts,
		  struct tw_buf *out)
{
	struct entries es = { 0 };
	int err;

	if (rel == NULL || url_path == NULL || url_path[0] != '/')
		return -EINVAL;
	if (out->failed)
		return -ENOMEM;
	err = collect(fs, rel, opts != NULL && opts->hidden, &es);
	if (err < 0)
		goto out_free;
	if (es.n > 1)
		qsort(es.v, es.n, sizeof(*es.v), entry_cmp);
	render(out, url_path, &es);
	if (out->failed)
		err = -ENOMEM;
out_free:
	entries_free(&es);
	return err;
}
