/* SPDX-License-Identifier: MIT */
/*
 * listing: the HTML index of a directory (autoindex). Reads the directory
 * through fs, so the same symlink policy that guards file requests also
 * decides what is listed, sorts the names and renders an HTML5 page into
 * a tw_buf without printf. Every name is untrusted text: it is escaped
 * for HTML, percent-encoded for the href, and a name no valid URL can
 * reach is shown but not linked. Layer 3 (handler): knows nothing of
 * sockets, of the request or of how the page is sent.
 *
 * Cost, as measured on a 1,000-entry directory: the kernel's work (one
 * fstatat per entry, getdents) dominates, so the user side keeps out of
 * its way: the directory is read into one buffer with getdents64 and the
 * names stay there (no allocation per entry), names are classified once,
 * most sort comparisons are integer compares of a 16-byte key, dates
 * need no gmtime_r, and the common row (a name of unreserved bytes only)
 * is written with one reservation.
 */
#include "http/listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "parse/fs.h"
#include "parse/url.h"

/* Literal and length, for writes into reserved space. */
#define LIT(s) (s), sizeof(s) - 1

#define DENTS_FIRST	(64 * 1024)	/* a 1,000-entry directory fits */
#define DENTS_ROOM	(4 * 1024)	/* free space asked of each read */
#define DATE_LEN	16		/* "YYYY-MM-DD HH:MM" */

/* The row around a linked name, and the cells after the name. */
#define ROW_OPEN	"<tr><td><a href=\""
#define ROW_MID		"\">"
#define ROW_CLOSE_A	"</a>"
#define ROW_SIZE	"</td><td class=\"s\">"
#define ROW_DATE	"</td><td>"
#define ROW_END		"</td></tr>\n"
#define TAIL_MAX	(sizeof(ROW_SIZE) + 20 + sizeof(ROW_DATE) + \
			 DATE_LEN + sizeof(ROW_END))

struct entry {
	const char *name;	/* in the dirent buffer, NUL-terminated */
	size_t len;
	uint64_t key[2];	/* first 16 bytes, big-endian, 0-padded */
	uint64_t size;
	time_t mtime;
	bool dir;
	bool plain;		/* unreserved bytes only: the name is its own
				 * href and its own HTML text */
	bool linkable;		/* valid UTF-8, no control byte */
};

/* One render's working memory: a few buffers, none per entry. */
struct listing {
	char *dents;		/* getdents64 records, malloc'd */
	size_t dents_len;
	size_t dents_cap;
	struct entry *v;	/* malloc'd */
	struct entry **order;	/* v sorted, malloc'd */
	size_t n;
	size_t cap;
	char *path;		/* "<rel>/<name>", malloc'd for a link */
	size_t rlen;
	size_t bytes;		/* the page's likely size, reserved once */
};

/* The last date formatted: the entries of a directory tend to share
 * their minute. */
struct date_memo {
	long long min;
	size_t len;
	bool set;
	char d[DATE_LEN];
};

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

static void
listing_free(struct listing *l)
{
	free(l->dents);
	free(l->v);
	free(l->order);
	free(l->path);
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 3986 unreserved: tw_url_encode_path keeps these bytes as they are,
 * and none of them needs an HTML entity. */
static bool
is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
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

/* Everything the page needs from a name, in one look at its bytes. */
static void
classify(struct entry *e)
{
	const unsigned char *p = (const unsigned char *)e->name;
	size_t i;

	e->key[0] = 0;
	e->key[1] = 0;
	for (i = 0; i < 16 && i < e->len; i++)
		e->key[i / 8] |= (uint64_t)p[i] << (56 - 8 * (i % 8));
	for (i = 0; i < e->len && is_plain(p[i]); i++)
		;
	e->plain = i == e->len;
	e->linkable = e->plain || name_is_linkable(e->name, e->len);
}

static int
entries_add(struct listing *l, const char *name, size_t len,
	    const struct stat *st)
{
	struct entry *e, *v;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 256;
		v = reallocarray(l->v, cap, sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	e->name = name;
	e->len = len;
	e->dir = S_ISDIR(st->st_mode);
	e->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
	e->mtime = st->st_mtime;
	classify(e);
	/* Plain rows are exact; the others grow on append if they must. */
	l->bytes += sizeof(ROW_OPEN) + sizeof(ROW_MID) + sizeof(ROW_CLOSE_A) +
		    2 * (len + 1) + TAIL_MAX;
	return 0;
}

/* The whole directory into l->dents, from its start. */
static int
read_dents(int fd, struct listing *l)
{
	ssize_t n;
	size_t cap;
	char *p;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		if (l->dents_cap - l->dents_len < DENTS_ROOM) {
			cap = l->dents_cap ? l->dents_cap * 2 : DENTS_FIRST;
			p = realloc(l->dents, cap);
			if (p == NULL)
				return -ENOMEM;
			l->dents = p;
			l->dents_cap = cap;
		}
		n = getdents64(fd, l->dents + l->dents_len,
			       l->dents_cap - l->dents_len);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		l->dents_len += (size_t)n;
	}
}

/*
 * stat a link (or an entry of a filesystem that does not say what it
 * is) through the policy: by its path from the root, "<rel>/<name>".
 */
static int
stat_by_path(const struct tw_fs *fs, const char *rel, struct listing *l,
	     const char *name, size_t len, struct stat *st)
{
	/* The room below is for any name the VFS lets exist. */
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (l->path == NULL) {
		l->rlen = strlen(rel);
		l->path = malloc(l->rlen + 1 + NAME_MAX + 1);
		if (l->path == NULL)
			return -ENOMEM;
		memcpy(l->path, rel, l->rlen);
		if (l->rlen > 0 && rel[l->rlen - 1] != '/')
			l->path[l->rlen++] = '/';
	}
	memcpy(l->path + l->rlen, name, len + 1);
	return tw_fs_stat(fs, l->path, st);
}

/* Read the directory open at fd (rel names it) into l. */
static int
collect(const struct tw_fs *fs, int fd, const char *rel, bool hidden,
	struct listing *l)
{
	const struct dirent64 *de;
	struct stat st;
	size_t off, len;
	int err;

	err = read_dents(fd, l);
	if (err < 0)
		return err;
	for (off = 0; off < l->dents_len; off += de->d_reclen) {
		de = (const struct dirent64 *)(const void *)(l->dents + off);
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (de->d_name[0] == '.' && !hidden)
			continue;
		len = strlen(de->d_name);
		/* A plain entry of a directory opened beneath the root is
		 * beneath it too: one fstatat, no path walk. Links (and
		 * filesystems that do not say) go through the policy, and a
		 * permitted link to a dir lists as one. */
		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			err = fstatat(fd, de->d_name, &st,
				      AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		else
			err = stat_by_path(fs, rel, l, de->d_name, len, &st);
		if (err < 0) {
			if (stat_refused(err))
				continue;
			return err;
		}
		err = entries_add(l, de->d_name, len, &st);
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Directories first, then byte order of the names (as strcmp, which
 * compares as unsigned char). Equal keys mean equal first 16 bytes and,
 * since names hold no NUL, both names at least 16 bytes long: names that
 * share a long prefix are all that reach strcmp.
 */
static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;

	if (x->dir != y->dir)
		return x->dir ? -1 : 1;
	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0] ? -1 : 1;
	if (x->key[1] != y->key[1])
		return x->key[1] < y->key[1] ? -1 : 1;
	if (x->len < 16)
		return 0;
	return strcmp(x->name + 16, y->name + 16);
}

/* Sort pointers: moving 8 bytes beats moving an entry. */
static int
sort_entries(struct listing *l)
{
	size_t i;

	if (l->n == 0)
		return 0;
	l->order = reallocarray(NULL, l->n, sizeof(*l->order));
	if (l->order == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++)
		l->order[i] = &l->v[i];
	qsort(l->order, l->n, sizeof(*l->order), entry_cmp);
	return 0;
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
put_text(struct tw_buf *b, const char *s, size_t len, bool linkable)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n, bad = 1;

	if (linkable) {
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

static char *
put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static void
put_digits(char *out, unsigned v, size_t width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * "YYYY-MM-DD HH:MM" in UTC for minute min since the epoch, or "-"
 * outside the years 0..9999; returns the length. Civil-from-days
 * arithmetic (H. Hinnant's algorithm) rather than gmtime_r, which takes
 * a lock and looks at the time zone on every call.
 */
static size_t
fmt_date(long long min, char d[DATE_LEN])
{
	long long days = min / 1440, era, doe, yoe, doy, mp, y, m;
	unsigned hm;

	if (min % 1440 < 0)
		days--;
	hm = (unsigned)(min - days * 1440);
	/* 0000-01-01 and 9999-12-31, in days since 1970-01-01. */
	if (days < -719528 || days > 2932896) {
		d[0] = '-';
		return 1;
	}
	days += 719468;		/* from 0000-03-01: leap days last */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	put_digits(d, (unsigned)y, 4);
	d[4] = '-';
	put_digits(d + 5, (unsigned)m, 2);
	d[7] = '-';
	put_digits(d + 8, (unsigned)(doy - (153 * mp + 2) / 5 + 1), 2);
	d[10] = ' ';
	put_digits(d + 11, hm / 60, 2);
	d[13] = ':';
	put_digits(d + 14, hm % 60, 2);
	return DATE_LEN;
}

static char *
put_date(char *p, time_t t, struct date_memo *dm)
{
	long long min = (long long)(t / 60) - (t % 60 < 0);

	if (!dm->set || dm->min != min) {
		dm->len = fmt_date(min, dm->d);
		dm->min = min;
		dm->set = true;
	}
	return put(p, dm->d, dm->len);
}

/* The cells after the name: size (or "-" for a directory) and date. */
static void
put_tail(struct tw_buf *b, const struct entry *e, struct date_memo *dm)
{
	char *start = tw_buf_reserve(b, TAIL_MAX), *p = start;

	if (p == NULL)
		return;
	p = put(p, LIT(ROW_SIZE));
	if (e->dir)
		*p++ = '-';
	else
		p += tw_buf_fmt_u64(p, e->size);
	p = put(p, LIT(ROW_DATE));
	p = put_date(p, e->mtime, dm);
	p = put(p, LIT(ROW_END));
	b->len += (size_t)(p - start);
}

static char *
put_name(char *p, const struct entry *e)
{
	p = put(p, e->name, e->len);
	if (e->dir)
		*p++ = '/';
	return p;
}

/* A plain name is its own href and text: the row is copies only. */
static void
put_plain_entry(struct tw_buf *b, const struct entry *e,
		struct date_memo *dm)
{
	size_t n = sizeof(ROW_OPEN) + sizeof(ROW_MID) + sizeof(ROW_CLOSE_A) +
		   2 * (e->len + 1);
	char *start = tw_buf_reserve(b, n), *p = start;

	if (p == NULL)
		return;
	p = put(p, LIT(ROW_OPEN));
	p = put_name(p, e);
	p = put(p, LIT(ROW_MID));
	p = put_name(p, e);
	p = put(p, LIT(ROW_CLOSE_A));
	b->len += (size_t)(p - start);
	put_tail(b, e, dm);
}

static void
put_entry(struct tw_buf *b, const struct entry *e, struct date_memo *dm)
{
	if (e->plain) {
		put_plain_entry(b, e, dm);
		return;
	}
	tw_buf_append_str(b, "<tr><td>");
	if (e->linkable) {
		tw_buf_append_str(b, "<a href=\"");
		put_href(b, e->name, e->len, e->dir);
		tw_buf_append_str(b, "\">");
	}
	put_text(b, e->name, e->len, e->linkable);
	if (e->dir)
		tw_buf_append_char(b, '/');
	if (e->linkable)
		tw_buf_append_str(b, ROW_CLOSE_A);
	put_tail(b, e, dm);
}

static void
render(struct tw_buf *b, const char *url_path, const struct listing *l)
{
	size_t plen = strlen(url_path), i;
	bool linkable = name_is_linkable(url_path, plen);
	struct date_memo dm = { .set = false };

	(void)tw_buf_reserve(b, 1024 + 2 * 6 * plen + l->bytes);
	tw_buf_append_str(b,
		"<!DOCTYPE html>\n"
		"<html>\n"
		"<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" "
		"content=\"width=device-width, initial-scale=1\">\n"
		"<title>Index of ");
	put_text(b, url_path, plen, linkable);
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
	put_text(b, url_path, plen, linkable);
	tw_buf_append_str(b,
		"</h1>\n"
		"<table>\n"
		"<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
	if (strcmp(url_path, "/") != 0)
		tw_buf_append_str(b, "<tr><td><a href=\"../\">../</a></td>"
				     "<td class=\"s\">-</td><td>-</td></tr>\n");
	for (i = 0; i < l->n; i++)
		put_entry(b, l->order[i], &dm);
	tw_buf_append_str(b,
		"</table>\n"
		"</body>\n"
		"</html>\n");
}

int
tw_listing_render_fd(const struct tw_fs *fs, int dirfd, const char *rel,
		     const char *url_path, const struct tw_listing_opts *opts,
		     struct tw_buf *out)
{
	struct listing l = { 0 };
	int err;

	if (rel == NULL || url_path == NULL || url_path[0] != '/')
		return -EINVAL;
	if (out->failed)
		return -ENOMEM;
	err = collect(fs, dirfd, rel, opts != NULL && opts->hidden, &l);
	if (err < 0)
		goto out_free;
	err = sort_entries(&l);
	if (err < 0)
		goto out_free;
	render(out, url_path, &l);
	if (out->failed)
		err = -ENOMEM;
out_free:
	listing_free(&l);
	return err;
}

int
tw_listing_render(const struct tw_fs *fs, const char *rel,
		  const char *url_path, const struct tw_listing_opts *opts,
		  struct tw_buf *out)
{
	int fd, err;

	if (rel == NULL || url_path == NULL || url_path[0] != '/')
		return -EINVAL;
	if (out->failed)
		return -ENOMEM;
	fd = tw_fs_open(fs, rel, O_DIRECTORY, NULL);
	if (fd < 0)
		return fd;
	err = tw_listing_render_fd(fs, fd, rel, url_path, opts, out);
	(void)close(fd);
	return err;
}
