/* SPDX-License-Identifier: MIT */
/*
 * listing: the index of a directory (autoindex), an HTML page for people
 * or JSON for programs. Reads the directory through fs, so the same
 * symlink policy that guards file requests also decides what is listed,
 * sorts the entries as the view asks (collate's natural order for names)
 * and renders into a tw_buf without printf. Every name is untrusted
 * text: it is escaped for HTML or JSON, percent-encoded for the href, and
 * a name no valid URL can reach is shown but not linked. Layer 3
 * (handler): knows nothing of sockets or of how the page is sent; of the
 * request it reads only the query and Accept it is handed.
 *
 * Cost, as measured on a 1,000-entry directory: the kernel's work (one
 * fstatat per entry, getdents) dominates, so the user side keeps out of
 * its way: the directory is read into one buffer with getdents64 and the
 * names stay there (no allocation per entry), names are classified once,
 * name comparisons skip shared leading bytes eight at a time, dates need
 * no gmtime_r, and the common row (a name of unreserved bytes only) is
 * written with one reservation.
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
#include "parse/collate.h"
#include "parse/fs.h"
#include "parse/http_parse.h"
#include "parse/url.h"

/* Literal and length, for writes into reserved space. */
#define LIT(s) (s), sizeof(s) - 1

#define DENTS_FIRST	(64 * 1024)	/* a 1,000-entry directory fits */
#define DENTS_ROOM	(4 * 1024)	/* free space asked of each read */
#define DATE_LEN	20		/* "YYYY-MM-DD HH:MM UTC" */
#define STAMP_LEN	20		/* "YYYY-MM-DDTHH:MM:SSZ" */
/* "?sort=size&amp;order=desc": the longest view query of a link. */
#define QUERY_MAX	32

/* The row around a linked name, and the cells after the name. */
#define ROW_OPEN	"<tr><td><a href=\""
#define ROW_MID		"\">"
#define ROW_CLOSE_A	"</a>"
#define ROW_SIZE	"</td><td class=\"s\" title=\""
#define ROW_BYTES	" bytes\">"
#define ROW_SIZE_EXACT	"</td><td class=\"s\">"
#define ROW_NO_SIZE	"</td><td class=\"s\">-"
#define ROW_DATE	"</td><td>"
#define ROW_END		"</td></tr>\n"
#define TAIL_MAX	(sizeof(ROW_SIZE) + 20 + sizeof(ROW_BYTES) + \
			 TW_LISTING_SIZE_MAX + sizeof(ROW_DATE) + \
			 DATE_LEN + sizeof(ROW_END))

enum kind {
	KIND_DIR,
	KIND_FILE,
	KIND_OTHER,	/* FIFO, socket, device: listed, not linked */
};

struct entry {
	const char *name;	/* in the dirent buffer, NUL-terminated */
	size_t len;
	uint64_t size;
	time_t mtime;
	enum kind kind;
	bool plain;		/* unreserved bytes only: the name is its own
				 * href and its own HTML text */
	bool linkable;		/* valid UTF-8, no control byte, a file or
				 * a directory */
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
	size_t ndirs;
	char *path;		/* "<rel>/<name>", malloc'd for a link */
	size_t rlen;
	size_t bytes;		/* the page's likely size, reserved once */
	/* What links to directories carry: "" for the default view. */
	char query[QUERY_MAX];
	size_t qlen;
};

/* The last date formatted: the entries of a directory tend to share
 * their minute. */
struct date_memo {
	long long min;
	size_t len;
	bool set;
	char d[DATE_LEN];
};

static const char *const sort_names[] = { "name", "size", "date" };
_Static_assert(sizeof(sort_names) / sizeof(sort_names[0]) ==
	       TW_LISTING_BY_DATE + 1, "a name per sort key");

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

	for (i = 0; i < e->len && is_plain(p[i]); i++)
		;
	e->plain = i == e->len && e->kind != KIND_OTHER;
	/* The server answers only files and directories. */
	e->linkable = e->kind != KIND_OTHER &&
		      (e->plain || name_is_linkable(e->name, e->len));
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
	e->kind = S_ISDIR(st->st_mode) ? KIND_DIR :
		  S_ISREG(st->st_mode) ? KIND_FILE : KIND_OTHER;
	e->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
	e->mtime = st->st_mtime;
	l->ndirs += e->kind == KIND_DIR;
	classify(e);
	/* Plain rows are exact; the others grow on append if they must. */
	l->bytes += sizeof(ROW_OPEN) + sizeof(ROW_MID) + sizeof(ROW_CLOSE_A) +
		    2 * (len + 1) + QUERY_MAX + TAIL_MAX;
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
 * Directories first; then the view's key, ties by name; desc reverses
 * the order within each group, never the groups.
 */
static int
entry_cmp(const void *a, const void *b, void *arg)
{
	const struct entry *x = *(const struct entry *const *)a;
	const struct entry *y = *(const struct entry *const *)b;
	const struct tw_listing_view *v = arg;
	int r = 0;

	if ((x->kind == KIND_DIR) != (y->kind == KIND_DIR))
		return x->kind == KIND_DIR ? -1 : 1;
	/* A directory's st_size says nothing a reader would sort by. */
	if (v->sort == TW_LISTING_BY_SIZE && x->kind != KIND_DIR &&
	    x->size != y->size)
		r = x->size < y->size ? -1 : 1;
	else if (v->sort == TW_LISTING_BY_DATE && x->mtime != y->mtime)
		r = x->mtime < y->mtime ? -1 : 1;
	if (r == 0)
		r = tw_collate_natural(x->name, x->len, y->name, y->len);
	return v->desc ? -r : r;
}

/* Sort pointers: moving 8 bytes beats moving an entry. */
static int
sort_entries(struct listing *l, const struct tw_listing_view *view)
{
	size_t i;

	if (l->n == 0)
		return 0;
	l->order = reallocarray(NULL, l->n, sizeof(*l->order));
	if (l->order == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++)
		l->order[i] = &l->v[i];
	qsort_r(l->order, l->n, sizeof(*l->order), entry_cmp,
		(void *)(uintptr_t)view);
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

typedef void escape_fn(struct tw_buf *b, const char *s, size_t n);

/*
 * s escaped by esc, with each invalid UTF-8 sequence (and, when controls
 * is set, each control byte) as U+FFFD.
 */
static void
put_replaced(struct tw_buf *b, const char *s, size_t len, bool controls,
	     escape_fn *esc)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n, bad = 1;

	while (i < len) {
		if (controls && is_control(p[i])) {
			n = 0;
			bad = 1;
		} else {
			n = utf8_seq(p + i, len - i, &bad);
		}
		if (n > 0) {
			i += n;
			continue;
		}
		esc(b, s + run, i - run);
		tw_buf_append(b, replacement, sizeof(replacement) - 1);
		i += bad;
		run = i;
	}
	esc(b, s + run, len - run);
}

/* HTML text: escaped, with invalid UTF-8 and control bytes as U+FFFD. */
static void
put_text(struct tw_buf *b, const char *s, size_t len, bool linkable)
{
	if (linkable)
		tw_buf_append_html(b, s, len);
	else
		put_replaced(b, s, len, true, tw_buf_append_html);
}

/* A JSON string: the name exactly where it is valid UTF-8 (control
 * bytes escaped), U+FFFD for each invalid sequence. */
static void
put_json_text(struct tw_buf *b, const char *s, size_t len)
{
	tw_buf_append_char(b, '"');
	if (tw_url_is_utf8((const unsigned char *)s, len, false))
		tw_buf_append_json(b, s, len);
	else
		put_replaced(b, s, len, false, tw_buf_append_json);
	tw_buf_append_char(b, '"');
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

/* An absolute path (a breadcrumb's) percent-encoded. */
static void
put_url_path(struct tw_buf *b, const char *path, size_t len)
{
	size_t cap = 3 * len + 1;
	char *dst = tw_buf_reserve(b, cap);
	long n;

	if (dst == NULL)
		return;
	n = tw_url_encode_path(path, len, dst, cap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	b->len += (size_t)n;
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
 * Year, month and day of the day days since 1970-01-01, into d as
 * "YYYY-MM-DD"; false outside the years 0..9999. Civil-from-days
 * arithmetic (H. Hinnant's algorithm) rather than gmtime_r, which takes
 * a lock and looks at the time zone on every call.
 */
static bool
fmt_day(long long days, char d[10])
{
	long long era, doe, yoe, doy, mp, y, m;

	/* 0000-01-01 and 9999-12-31, in days since 1970-01-01. */
	if (days < -719528 || days > 2932896)
		return false;
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
	return true;
}

/* Floor division: days and seconds before 1970 count down. */
static long long
floor_div(long long a, long long b)
{
	return a / b - (a % b < 0);
}

/*
 * "YYYY-MM-DD HH:MM UTC" for minute min since the epoch, or "-" outside
 * the years 0..9999; returns the length. UTC, not the server's zone: the
 * page reads the same wherever the server runs, and says so.
 */
static size_t
fmt_date(long long min, char d[DATE_LEN])
{
	long long days = floor_div(min, 1440);
	unsigned hm = (unsigned)(min - days * 1440);

	if (!fmt_day(days, d)) {
		d[0] = '-';
		return 1;
	}
	d[10] = ' ';
	put_digits(d + 11, hm / 60, 2);
	d[13] = ':';
	put_digits(d + 14, hm % 60, 2);
	memcpy(d + 16, " UTC", 4);
	return DATE_LEN;
}

/* RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" for t; false outside 0..9999. */
static bool
fmt_stamp(time_t t, char d[STAMP_LEN])
{
	long long days = floor_div((long long)t, 86400);
	unsigned sec = (unsigned)((long long)t - days * 86400);

	if (!fmt_day(days, d))
		return false;
	d[10] = 'T';
	put_digits(d + 11, sec / 3600, 2);
	d[13] = ':';
	put_digits(d + 14, sec / 60 % 60, 2);
	d[16] = ':';
	put_digits(d + 17, sec % 60, 2);
	d[19] = 'Z';
	return true;
}

static char *
put_date(char *p, time_t t, struct date_memo *dm)
{
	long long min = floor_div((long long)t, 60);

	if (!dm->set || dm->min != min) {
		dm->len = fmt_date(min, dm->d);
		dm->min = min;
		dm->set = true;
	}
	return put(p, dm->d, dm->len);
}

/* Decimal digits of v (below 10,000 here) at out; returns the count. */
static size_t
put_small(char *out, uint64_t v)
{
	char d[20];
	size_t n = tw_buf_fmt_u64(d, v);

	memcpy(out, d, n);
	return n;
}

size_t
tw_listing_fmt_size(uint64_t size, char out[TW_LISTING_SIZE_MAX])
{
	static const char units[] = "KMGTPE";
	unsigned u = 1, shift;
	uint64_t whole, rem, t;
	size_t n;

	if (size < 1024) {
		n = put_small(out, size);
		memcpy(out + n, " B", 2);
		return n + 2;
	}
	while (u < 6 && (size >> (10 * (u + 1))) != 0)
		u++;
	for (;;) {
		shift = 10 * u;
		whole = size >> shift;
		rem = size & ((UINT64_C(1) << shift) - 1);
		if (whole < 100) {
			/* Tenths, rounded half up; rem * 10 fits: rem is
			 * below 2^60. */
			t = rem * 10 + (UINT64_C(1) << (shift - 1));
			t = whole * 10 + (t >> shift);
			if (t < 1000) {
				n = put_small(out, t / 10);
				out[n++] = '.';
				out[n++] = (char)('0' + t % 10);
				break;
			}
			whole = 100;
			rem = 0;
		}
		whole += (rem >> (shift - 1)) & 1;
		if (whole < 1024 || u == 6) {
			n = put_small(out, whole);
			break;
		}
		u++;	/* 1023.5 KiB and up read as 1.0 MiB */
	}
	out[n++] = ' ';
	out[n++] = units[u - 1];
	out[n++] = 'i';
	out[n++] = 'B';
	return n;
}

/* The cells after the name: size (exact bytes in the title where the
 * size shown is rounded; "-" for a directory or another kind) and
 * date. */
static void
put_tail(struct tw_buf *b, const struct entry *e, struct date_memo *dm)
{
	char *start = tw_buf_reserve(b, TAIL_MAX), *p = start;

	if (p == NULL)
		return;
	if (e->kind != KIND_FILE) {
		p = put(p, LIT(ROW_NO_SIZE));
	} else if (e->size < 1024) {
		/* Exact already: a title would only add bytes to every row
		 * of a directory of small files. */
		p = put(p, LIT(ROW_SIZE_EXACT));
		p += tw_listing_fmt_size(e->size, p);
	} else {
		p = put(p, LIT(ROW_SIZE));
		p += tw_buf_fmt_u64(p, e->size);
		p = put(p, LIT(ROW_BYTES));
		p += tw_listing_fmt_size(e->size, p);
	}
	p = put(p, LIT(ROW_DATE));
	p = put_date(p, e->mtime, dm);
	p = put(p, LIT(ROW_END));
	b->len += (size_t)(p - start);
}

/* A plain name is its own href and text: the row is copies only. */
static void
put_plain_entry(struct tw_buf *b, const struct entry *e,
		const struct listing *l, struct date_memo *dm)
{
	size_t n = sizeof(ROW_OPEN) + sizeof(ROW_MID) + sizeof(ROW_CLOSE_A) +
		   2 * (e->len + 1) + l->qlen;
	char *start = tw_buf_reserve(b, n), *p = start;
	bool dir = e->kind == KIND_DIR;

	if (p == NULL)
		return;
	p = put(p, LIT(ROW_OPEN));
	p = put(p, e->name, e->len);
	if (dir) {
		*p++ = '/';
		p = put(p, l->query, l->qlen);
	}
	p = put(p, LIT(ROW_MID));
	p = put(p, e->name, e->len);
	if (dir)
		*p++ = '/';
	p = put(p, LIT(ROW_CLOSE_A));
	b->len += (size_t)(p - start);
	put_tail(b, e, dm);
}

static void
put_entry(struct tw_buf *b, const struct entry *e, const struct listing *l,
	  struct date_memo *dm)
{
	bool dir = e->kind == KIND_DIR;

	if (e->plain) {
		put_plain_entry(b, e, l, dm);
		return;
	}
	tw_buf_append_str(b, "<tr><td>");
	if (e->linkable) {
		tw_buf_append_str(b, "<a href=\"");
		put_href(b, e->name, e->len, dir);
		if (dir)
			tw_buf_append(b, l->query, l->qlen);
		tw_buf_append_str(b, "\">");
	}
	put_text(b, e->name, e->len, e->linkable);
	if (dir)
		tw_buf_append_char(b, '/');
	if (e->linkable)
		tw_buf_append_str(b, ROW_CLOSE_A);
	put_tail(b, e, dm);
}

/* The heading: every part of the path a link to its own listing. */
static void
put_breadcrumbs(struct tw_buf *b, const char *url_path, size_t plen,
		const struct listing *l)
{
	size_t i = 1, j;

	tw_buf_append_str(b, "<h1>Index of <a href=\"/");
	tw_buf_append(b, l->query, l->qlen);
	tw_buf_append_str(b, "\">/</a>");
	while (i < plen) {
		for (j = i; j < plen && url_path[j] != '/'; j++)
			;
		if (j > i) {
			tw_buf_append_str(b, "<a href=\"");
			put_url_path(b, url_path, j);
			tw_buf_append_char(b, '/');
			tw_buf_append(b, l->query, l->qlen);
			tw_buf_append_str(b, "\">");
			tw_buf_append_html(b, url_path + i, j - i);
			tw_buf_append_str(b, "</a>/");
		}
		i = j + 1;
	}
	tw_buf_append_str(b, "</h1>\n");
}

static void
put_count(struct tw_buf *b, size_t n, const char *one, const char *many)
{
	tw_buf_append_u64(b, n);
	tw_buf_append_str(b, n == 1 ? one : many);
}

/* A column head: a link to this column's sort, its other order if it is
 * the current one. */
static void
put_column(struct tw_buf *b, const struct tw_listing_view *v,
	   enum tw_listing_sort key, const char *label)
{
	bool cur = v->sort == key;

	tw_buf_append_str(b, key == TW_LISTING_BY_SIZE ? "<th class=\"s\"" :
				  "<th");
	if (cur)
		tw_buf_append_str(b, v->desc ? " aria-sort=\"descending\"" :
					       " aria-sort=\"ascending\"");
	tw_buf_append_str(b, "><a href=\"?sort=");
	tw_buf_append_str(b, sort_names[key]);
	if (cur)
		tw_buf_append_str(b, v->desc ? "&amp;order=asc" :
					       "&amp;order=desc");
	tw_buf_append_str(b, "\">");
	tw_buf_append_str(b, label);
	tw_buf_append_str(b, "</a>");
	if (cur)
		tw_buf_append_str(b, v->desc ? " \xe2\x96\xbc" :
					       " \xe2\x96\xb2"); /* ▼ ▲ */
	tw_buf_append_str(b, "</th>");
}

/*
 * Light and dark by the reader's preference; the table never wider than
 * the screen: fixed columns, long names wrap anywhere, and on a narrow
 * screen the date wraps under itself.
 */
#define STYLE \
	":root{color-scheme:light dark;--b:#fff;--f:#1f2328;--m:#59636e;" \
	"--l:#d1d9e0;--a:#0550ae}\n" \
	"@media(prefers-color-scheme:dark){:root{--b:#0d1117;--f:#e6edf3;" \
	"--m:#9198a1;--l:#3d444d;--a:#58a6ff}}\n" \
	"body{margin:0 auto;padding:1em;max-width:64em;" \
	"font:16px/1.4 system-ui,sans-serif;background:var(--b);" \
	"color:var(--f)}\n" \
	"h1{font-size:1.25em;overflow-wrap:anywhere}\n" \
	"a{color:var(--a)}\n" \
	"p{color:var(--m)}\n" \
	"table{width:100%;border-collapse:collapse;table-layout:fixed}\n" \
	"th,td{padding:.3em .5em;border-bottom:1px solid var(--l);" \
	"text-align:left;vertical-align:top;overflow-wrap:anywhere}\n" \
	".s{width:6.5em;text-align:right;font-variant-numeric:tabular-nums}\n" \
	"th:last-child{width:13em}\n" \
	"@media(max-width:40em){body{padding:.5em}.s{width:5em}" \
	"th:last-child{width:6.5em}}\n"

static void
render_html(struct tw_buf *b, const char *url_path,
	    const struct tw_listing_view *v, const struct listing *l)
{
	size_t plen = strlen(url_path), i;
	bool linkable = name_is_linkable(url_path, plen);
	struct date_memo dm = { .set = false };

	(void)tw_buf_reserve(b, 2048 + 16 * plen + l->bytes);
	tw_buf_append_str(b,
		"<!DOCTYPE html>\n"
		"<html lang=\"en\">\n"
		"<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" "
		"content=\"width=device-width, initial-scale=1\">\n"
		"<meta name=\"color-scheme\" content=\"light dark\">\n"
		"<title>Index of ");
	put_text(b, url_path, plen, linkable);
	tw_buf_append_str(b, "</title>\n<style>\n" STYLE "</style>\n"
			     "</head>\n<body>\n");
	put_breadcrumbs(b, url_path, plen, l);
	tw_buf_append_str(b, "<p>");
	put_count(b, l->ndirs, " folder, ", " folders, ");
	put_count(b, l->n - l->ndirs, " file", " files");
	tw_buf_append_str(b, "</p>\n<table>\n<tr>");
	put_column(b, v, TW_LISTING_BY_NAME, "Name");
	put_column(b, v, TW_LISTING_BY_SIZE, "Size");
	put_column(b, v, TW_LISTING_BY_DATE, "Modified");
	tw_buf_append_str(b, "</tr>\n");
	if (strcmp(url_path, "/") != 0) {
		tw_buf_append_str(b, "<tr><td><a href=\"../");
		tw_buf_append(b, l->query, l->qlen);
		tw_buf_append_str(b, "\">../</a></td>"
				     "<td class=\"s\">-</td><td>-</td></tr>\n");
	}
	for (i = 0; i < l->n; i++)
		put_entry(b, l->order[i], l, &dm);
	tw_buf_append_str(b,
		"</table>\n"
		"</body>\n"
		"</html>\n");
}

static void
put_json_entry(struct tw_buf *b, const struct entry *e)
{
	static const char *const types[] = { "directory", "file", "other" };
	char stamp[STAMP_LEN];

	tw_buf_append_str(b, "{\"name\":");
	put_json_text(b, e->name, e->len);
	tw_buf_append_str(b, ",\"type\":\"");
	tw_buf_append_str(b, types[e->kind]);
	tw_buf_append_str(b, "\",\"size\":");
	if (e->kind == KIND_DIR)
		tw_buf_append_str(b, "null");
	else
		tw_buf_append_u64(b, e->size);
	tw_buf_append_str(b, ",\"mtime\":");
	if (fmt_stamp(e->mtime, stamp)) {
		tw_buf_append_char(b, '"');
		tw_buf_append(b, stamp, STAMP_LEN);
		tw_buf_append_char(b, '"');
	} else {
		tw_buf_append_str(b, "null");
	}
	tw_buf_append_str(b, ",\"href\":");
	if (e->linkable) {
		/* Percent-encoded: nothing in it needs a JSON escape. */
		tw_buf_append_char(b, '"');
		put_href(b, e->name, e->len, e->kind == KIND_DIR);
		tw_buf_append_char(b, '"');
	} else {
		tw_buf_append_str(b, "null");
	}
	tw_buf_append_char(b, '}');
}

static void
render_json(struct tw_buf *b, const char *url_path,
	    const struct tw_listing_view *v, const struct listing *l)
{
	size_t i;

	(void)tw_buf_reserve(b, 256 + 2 * strlen(url_path) + l->bytes);
	tw_buf_append_str(b, "{\"path\":");
	put_json_text(b, url_path, strlen(url_path));
	tw_buf_append_str(b, ",\"sort\":\"");
	tw_buf_append_str(b, sort_names[v->sort]);
	tw_buf_append_str(b, v->desc ? "\",\"order\":\"desc\"" :
				       "\",\"order\":\"asc\"");
	tw_buf_append_str(b, ",\"directories\":");
	tw_buf_append_u64(b, l->ndirs);
	tw_buf_append_str(b, ",\"files\":");
	tw_buf_append_u64(b, l->n - l->ndirs);
	tw_buf_append_str(b, ",\"entries\":[");
	for (i = 0; i < l->n; i++) {
		tw_buf_append_str(b, i ? ",\n" : "\n");
		put_json_entry(b, l->order[i]);
	}
	tw_buf_append_str(b, "\n]}\n");
}

/* ---- views ----------------------------------------------------------- */

static const struct tw_listing_view default_view = {
	.sort = TW_LISTING_BY_NAME, .desc = false, .format = TW_LISTING_HTML,
};

/* A sort's own order: names A to Z, the biggest and newest first. */
static bool
sort_desc(enum tw_listing_sort s)
{
	return s != TW_LISTING_BY_NAME;
}

static bool
param_is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

void
tw_listing_view_parse(const char *query, size_t qlen, const char *accept,
		      size_t alen, struct tw_listing_view *v)
{
	const char *q = query, *end = query + qlen, *amp, *eq;
	int order = -1, format = -1, i;
	size_t n, kn;

	*v = default_view;
	while (q != NULL && q < end) {
		amp = memchr(q, '&', (size_t)(end - q));
		n = (size_t)((amp ? amp : end) - q);
		/* key=value; the value starts past '=' (none: empty). */
		eq = memchr(q, '=', n);
		kn = eq ? (size_t)(eq - q) : n;
		eq = eq ? eq + 1 : q + n;
		n -= (size_t)(eq - q);
		if (param_is(q, kn, "sort")) {
			for (i = 0; i <= TW_LISTING_BY_DATE; i++)
				if (param_is(eq, n, sort_names[i]))
					v->sort = (enum tw_listing_sort)i;
		} else if (param_is(q, kn, "order")) {
			if (param_is(eq, n, "asc") || param_is(eq, n, "desc"))
				order = eq[0] == 'd';
		} else if (param_is(q, kn, "format")) {
			if (param_is(eq, n, "html") || param_is(eq, n, "json"))
				format = eq[0] == 'j';
		}
		q = amp ? amp + 1 : end;
	}
	v->desc = order >= 0 ? order == 1 : sort_desc(v->sort);
	if (format < 0 && accept != NULL)
		format = tw_http_accept_media_q(accept, alen,
						"application/json") >
			 tw_http_accept_media_q(accept, alen, "text/html");
	v->format = format == 1 ? TW_LISTING_JSON : TW_LISTING_HTML;
}

unsigned
tw_listing_view_index(const struct tw_listing_view *v)
{
	return ((unsigned)v->sort * 2 + v->desc) * 2 +
	       (v->format == TW_LISTING_JSON);
}

/* What links to directories carry: the sort and order, unless they are
 * the default ones. */
static void
view_query(const struct tw_listing_view *v, struct listing *l)
{
	char *p = l->query;

	l->qlen = 0;
	if (v->sort == default_view.sort && v->desc == default_view.desc)
		return;
	p = put(p, LIT("?sort="));
	p = put(p, sort_names[v->sort], strlen(sort_names[v->sort]));
	if (v->desc != sort_desc(v->sort))
		p = v->desc ? put(p, LIT("&amp;order=desc")) :
			      put(p, LIT("&amp;order=asc"));
	l->qlen = (size_t)(p - l->query);
}

int
tw_listing_render_fd(const struct tw_fs *fs, int dirfd, const char *rel,
		     const char *url_path, const struct tw_listing_opts *opts,
		     const struct tw_listing_view *view, struct tw_buf *out)
{
	struct listing l = { 0 };
	int err;

	if (rel == NULL || url_path == NULL || url_path[0] != '/')
		return -EINVAL;
	if (out->failed)
		return -ENOMEM;
	if (view == NULL)
		view = &default_view;
	err = collect(fs, dirfd, rel, opts != NULL && opts->hidden, &l);
	if (err < 0)
		goto out_free;
	err = sort_entries(&l, view);
	if (err < 0)
		goto out_free;
	view_query(view, &l);
	if (view->format == TW_LISTING_JSON)
		render_json(out, url_path, view, &l);
	else
		render_html(out, url_path, view, &l);
	if (out->failed)
		err = -ENOMEM;
out_free:
	listing_free(&l);
	return err;
}

int
tw_listing_render(const struct tw_fs *fs, const char *rel,
		  const char *url_path, const struct tw_listing_opts *opts,
		  const struct tw_listing_view *view, struct tw_buf *out)
{
	int fd, err;

	if (rel == NULL || url_path == NULL || url_path[0] != '/')
		return -EINVAL;
	if (out->failed)
		return -ENOMEM;
	fd = tw_fs_open(fs, rel, O_DIRECTORY, NULL);
	if (fd < 0)
		return fd;
	err = tw_listing_render_fd(fs, fd, rel, url_path, opts, view, out);
	(void)close(fd);
	return err;
}
