/* SPDX-License-Identifier: MIT */
/*
 * mime: the Content-Type of a file. An immutable extension table (built-in
 * defaults plus mime.types data), libmagic for names the table does not
 * know, and a charset for text types decided from the file's first bytes,
 * all cached per thread by (dev, ino, size, mtime). Layer 2: the
 * mime.types parser does no I/O and no allocation; the resolver reads a
 * prefix through a descriptor it is handed and never opens paths, so it
 * knows nothing of the document root, connections or HTTP.
 */
#include "parse/mime.h"

#include <errno.h>
#include <magic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/stats.h"
#include "parse/url.h"

#define EXT_MAX		31		/* longest extension, as documented */
/*
 * Longest type the table accepts: leaves room in TW_MIME_TYPE_MAX for
 * "; charset=" and a charset name, so a result is never cut short.
 */
#define TYPE_LEN_MAX	80
#define CHARSET_MAX	32
#define PREFIX_MAX	(64 * 1024)	/* bytes read for UTF-8 and magic */
#define CACHE_SLOTS	512		/* power of two: index by mask */

_Static_assert(TYPE_LEN_MAX + sizeof("; charset=") + CHARSET_MAX <=
	       TW_MIME_TYPE_MAX, "a full Content-Type must fit the buffer");

/* ---- mime.types parser ------------------------------------------------ */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar: the bytes allowed in a type or subtype token. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_ext_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
	       c == '-' || c == '~' || c == '%';	/* Debian: "~ % bak" */
}

/* "token/token", nothing else. */
static bool
valid_type(const char *s, size_t len)
{
	size_t i, slash = SIZE_MAX;

	for (i = 0; i < len; i++) {
		if (s[i] == '/') {
			if (slash != SIZE_MAX)
				return false;
			slash = i;
		} else if (!is_tchar((unsigned char)s[i])) {
			return false;
		}
	}
	return slash != SIZE_MAX && slash > 0 && slash + 1 < len;
}

static bool
valid_ext(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > EXT_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!is_ext_char((unsigned char)s[i]))
			return false;
	return true;
}

/* Length of the token at s[0..len): up to whitespace or the end. */
static size_t
token_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && !is_space(s[i]))
		i++;
	return i;
}

/*
 * One line without its terminator. The whole line is checked before fn
 * sees any of it, so a bad line never half-loads.
 */
static int
parse_line(const char *p, size_t n, tw_mime_entry_fn *fn, void *arg)
{
	const char *type;
	size_t i = 0, tlen, elen, pass;
	int ret;

	if (memchr(p, '\0', n) != NULL)
		return -EINVAL;
	while (i < n && is_space(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	type = p + i;
	tlen = token_len(type, n - i);
	if (!valid_type(type, tlen))
		return -EINVAL;

	for (pass = 0; pass < 2; pass++) {
		i = (size_t)(type - p) + tlen;
		for (;;) {
			while (i < n && is_space(p[i]))
				i++;
			/* '#' opens a comment only where a token starts. */
			if (i == n || p[i] == '#')
				break;
			elen = token_len(p + i, n - i);
			if (pass == 0 && !valid_ext(p + i, elen))
				return -EINVAL;
			if (pass == 1) {
				ret = fn(type, tlen, p + i, elen, arg);
				if (ret != 0)
					return ret;
			}
			i += elen;
		}
	}
	return 0;
}

int
tw_mime_parse_types(const char *buf, size_t len, tw_mime_entry_fn *fn,
		    void *arg, size_t *errline)
{
	const char *nl;
	size_t pos = 0, line = 0, eol, end;
	int ret;

	while (pos < len) {
		line++;
		nl = memchr(buf + pos, '\n', len - pos);
		eol = nl != NULL ? (size_t)(nl - buf) : len;
		end = eol;
		if (end > pos && buf[end - 1] == '\r')
			end--;		/* CRLF files from Windows editors */
		ret = parse_line(buf + pos, end - pos, fn, arg);
		if (ret != 0) {
			/* Also on fn's errors: callers report file:line. */
			if (errline != NULL)
				*errline = line;
			return ret;
		}
		pos = eol + 1;
	}
	return 0;
}

/* ---- extension table -------------------------------------------------- */

struct tw_mime_slot {
	uint32_t hash;
	uint32_t type_off;	/* into t->types; NUL-terminated there */
	uint8_t ext_len;	/* 0: empty slot */
	char ext[EXT_MAX];	/* lowercase, not NUL-terminated */
};

/*
 * Open addressing with linear probing over a power-of-two array, at most
 * half full. Type strings live in one arena (offsets, since it grows while
 * building); once building stops nothing moves, so lookups can hand out
 * pointers and never allocate.
 */
struct tw_mime_table {
	struct tw_mime_slot *slots;
	size_t cap;		/* slots, a power of two */
	size_t count;
	char *types;		/* arena of NUL-terminated type strings */
	size_t types_len;
	size_t types_cap;
	size_t last_off;	/* most recently added type, for reuse */
};

static const struct {
	const char *type;
	const char *exts;	/* space-separated */
} builtin_types[] = {
	{ "text/html", "html htm shtml" },
	{ "text/css", "css" },
	{ "text/javascript", "js mjs cjs" },
	{ "application/json", "json map" },
	{ "application/manifest+json", "webmanifest" },
	{ "application/ld+json", "jsonld" },
	{ "application/xml", "xml xsl xsd" },
	{ "application/xhtml+xml", "xhtml xht" },
	{ "application/atom+xml", "atom" },
	{ "application/rss+xml", "rss" },
	{ "text/plain", "txt text log conf ini" },
	{ "text/markdown", "md markdown" },
	{ "text/csv", "csv" },
	{ "text/tab-separated-values", "tsv" },
	{ "text/calendar", "ics" },
	{ "text/vtt", "vtt" },
	{ "image/svg+xml", "svg" },
	{ "image/png", "png" },
	{ "image/apng", "apng" },
	{ "image/jpeg", "jpg jpeg jpe jfif" },
	{ "image/gif", "gif" },
	{ "image/webp", "webp" },
	{ "image/avif", "avif" },
	{ "image/jxl", "jxl" },
	{ "image/heic", "heic" },
	{ "image/x-icon", "ico" },
	{ "image/bmp", "bmp" },
	{ "image/tiff", "tif tiff" },
	{ "font/woff", "woff" },
	{ "font/woff2", "woff2" },
	{ "font/ttf", "ttf" },
	{ "font/otf", "otf" },
	{ "font/collection", "ttc" },
	{ "audio/mpeg", "mp3" },
	{ "audio/ogg", "ogg oga" },
	{ "audio/opus", "opus" },
	{ "audio/wav", "wav" },
	{ "audio/flac", "flac" },
	{ "audio/aac", "aac" },
	{ "audio/mp4", "m4a" },
	{ "audio/midi", "mid midi" },
	{ "video/mp4", "mp4 m4v" },
	{ "video/webm", "webm" },
	{ "video/ogg", "ogv" },
	{ "video/x-matroska", "mkv" },
	{ "video/quicktime", "mov" },
	{ "video/x-msvideo", "avi" },
	{ "video/mp2t", "ts" },
	{ "application/pdf", "pdf" },
	{ "application/rtf", "rtf" },
	{ "application/postscript", "ps eps" },
	{ "application/epub+zip", "epub" },
	{ "application/zip", "zip" },
	{ "application/gzip", "gz tgz" },
	{ "application/x-tar", "tar" },
	{ "application/x-bzip2", "bz2" },
	{ "application/x-xz", "xz" },
	{ "application/zstd", "zst" },
	{ "application/x-7z-compressed", "7z" },
	{ "application/vnd.rar", "rar" },
	{ "application/java-archive", "jar" },
	{ "application/x-iso9660-image", "iso" },
	{ "application/vnd.debian.binary-package", "deb" },
	{ "application/x-rpm", "rpm" },
	{ "application/wasm", "wasm" },
	{ "application/msword", "doc" },
	{ "application/vnd.ms-excel", "xls" },
	{ "application/vnd.ms-powerpoint", "ppt" },
	{ "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document", "docx" },
	{ "application/vnd.openxmlformats-officedocument."
	  "spreadsheetml.sheet", "xlsx" },
	{ "application/vnd.openxmlformats-officedocument."
	  "presentationml.presentation", "pptx" },
	{ "application/vnd.oasis.opendocument.text", "odt" },
	{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
	{ "application/octet-stream", "bin exe dll so dmg img" },
};

static char
to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the already lowercased extension. */
static uint32_t
hash_ext(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* memrchr() is a GNU extension; this is all of it that lookups need. */
static const char *
last_byte(const char *s, char c, size_t len)
{
	while (len-- > 0)
		if (s[len] == c)
			return s + len;
	return NULL;
}

static struct tw_mime_slot *
find_slot(struct tw_mime_slot *slots, size_t cap, uint32_t h,
	  const char *ext, size_t len)
{
	size_t i = h & (cap - 1);
	struct tw_mime_slot *s;

	for (;;) {
		s = &slots[i];
		if (s->ext_len == 0 ||
		    (s->hash == h && s->ext_len == len &&
		     memcmp(s->ext, ext, len) == 0))
			return s;
		i = (i + 1) & (cap - 1);
	}
}

static int
grow_slots(struct tw_mime_table *t)
{
	struct tw_mime_slot *slots, *s;
	size_t cap = t->cap ? t->cap * 2 : 256, i;

	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].ext_len == 0)
			continue;
		s = find_slot(slots, cap, t->slots[i].hash, t->slots[i].ext,
			      t->slots[i].ext_len);
		*s = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Offset of type in the arena, appending it unless it was the last one. */
static long
intern_type(struct tw_mime_table *t, const char *type, size_t len)
{
	size_t need, cap;
	char *p;

	/* mime.types lists all extensions of a type on one line. */
	if (t->types_len > 0 && strlen(t->types + t->last_off) == len &&
	    memcmp(t->types + t->last_off, type, len) == 0)
		return (long)t->last_off;
	need = t->types_len + len + 1;
	if (need > UINT32_MAX)
		return -ENOMEM;
	if (need > t->types_cap) {
		cap = t->types_cap ? t->types_cap : 2048;
		while (cap < need)
			cap *= 2;
		p = realloc(t->types, cap);
		if (p == NULL)
			return -ENOMEM;
		t->types = p;
		t->types_cap = cap;
	}
	memcpy(t->types + t->types_len, type, len);
	t->types[t->types_len + len] = '\0';
	t->last_off = t->types_len;
	t->types_len = need;
	return (long)t->last_off;
}

int
tw_mime_table_add(struct tw_mime_table *t, const char *ext, size_t ext_len,
		  const char *type, size_t type_len)
{
	struct tw_mime_slot *s;
	char low[EXT_MAX];
	uint32_t h;
	size_t i;
	long off;
	int err;

	if (!valid_ext(ext, ext_len) || type_len > TYPE_LEN_MAX ||
	    !valid_type(type, type_len))
		return -EINVAL;
	for (i = 0; i < ext_len; i++)
		low[i] = to_lower(ext[i]);
	if (2 * (t->count + 1) > t->cap) {
		err = grow_slots(t);
		if (err != 0)
			return err;
	}
	off = intern_type(t, type, type_len);
	if (off < 0)
		return (int)off;
	h = hash_ext(low, ext_len);
	s = find_slot(t->slots, t->cap, h, low, ext_len);
	if (s->ext_len == 0) {
		s->hash = h;
		s->ext_len = (uint8_t)ext_len;
		memcpy(s->ext, low, ext_len);
		t->count++;
	}
	s->type_off = (uint32_t)off;
	return 0;
}

struct tw_mime_table *
tw_mime_table_create(void)
{
	struct tw_mime_table *t;
	const char *e, *end, *type;
	size_t i;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	for (i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++) {
		type = builtin_types[i].type;
		e = builtin_types[i].exts;
		while (*e != '\0') {
			end = strchr(e, ' ');
			if (end == NULL)
				end = e + strlen(e);
			if (tw_mime_table_add(t, e, (size_t)(end - e), type,
					      strlen(type)) != 0) {
				tw_mime_table_destroy(t);
				return NULL;
			}
			e = *end == ' ' ? end + 1 : end;
		}
	}
	return t;
}

void
tw_mime_table_destroy(struct tw_mime_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->types);
	free(t);
}

static int
load_entry(const char *type, size_t type_len, const char *ext,
	   size_t ext_len, void *arg)
{
	return tw_mime_table_add(arg, ext, ext_len, type, type_len);
}

int
tw_mime_table_load_buf(struct tw_mime_table *t, const char *buf, size_t len,
		       size_t *errline)
{
	return tw_mime_parse_types(buf, len, load_entry, t, errline);
}

const char *
tw_mime_table_lookup(const struct tw_mime_table *t, const char *name,
		     size_t name_len)
{
	const struct tw_mime_slot *s;
	const char *base, *dot, *slash;
	char low[EXT_MAX];
	size_t len, i;
	uint32_t h;

	slash = last_byte(name, '/', name_len);
	base = slash != NULL ? slash + 1 : name;
	len = name_len - (size_t)(base - name);
	/* Leading dots make a hidden file, not an extension: ".bashrc". */
	while (len > 0 && *base == '.') {
		base++;
		len--;
	}
	dot = last_byte(base, '.', len);
	if (dot == NULL)
		return NULL;
	len -= (size_t)(dot + 1 - base);
	if (!valid_ext(dot + 1, len) || t->cap == 0)
		return NULL;
	for (i = 0; i < len; i++)
		low[i] = to_lower(dot[1 + i]);
	h = hash_ext(low, len);
	s = find_slot(t->slots, t->cap, h, low, len);
	if (s->ext_len == 0)
		return NULL;
	return t->types + s->type_off;
}

static bool
equals_ci(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

bool
tw_mime_is_text(const char *type)
{
	size_t len = strcspn(type, "; \t"), top, sub;
	const char *slash, *s;

	slash = memchr(type, '/', len);
	if (slash == NULL)
		return false;
	top = (size_t)(slash - type);
	s = slash + 1;
	sub = len - top - 1;
	if (equals_ci(type, top, "text"))
		return true;
	if (sub >= 4 && strncasecmp(s + sub - 4, "+xml", 4) == 0)
		return true;
	if (sub >= 5 && strncasecmp(s + sub - 5, "+json", 5) == 0)
		return true;
	return equals_ci(type, top, "application") &&
	       (equals_ci(s, sub, "javascript") ||
		equals_ci(s, sub, "x-javascript") ||
		equals_ci(s, sub, "ecmascript") ||
		equals_ci(s, sub, "json") || equals_ci(s, sub, "xml"));
}

/* ---- per-thread resolver ---------------------------------------------- */

struct tw_mime_cached {
	dev_t dev;
	ino_t ino;
	off_t size;
	time_t mtime_sec;
	long mtime_nsec;
	/*
	 * The table's type for the name this was resolved under, or NULL:
	 * two hard links "a.txt" and "a.html" share an inode but not a type.
	 * Table strings never move, so the pointer is a fine key.
	 */
	const char *table_type;
	bool used;
	char value[TW_MIME_TYPE_MAX];	/* full type, with charset if any */
};

struct tw_mime {
	const struct tw_mime_table *table;	/* borrowed; outlives m */
	magic_t magic;
	int magic_flags;			/* flags magic is set to now */
	unsigned char *prefix;			/* PREFIX_MAX bytes */
	struct tw_mime_cached cache[CACHE_SLOTS];	/* direct-mapped */
};

struct tw_mime *
tw_mime_create(const struct tw_mime_table *t, int *err)
{
	struct tw_mime *m;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	m->table = t;
	m->prefix = malloc(PREFIX_MAX);
	if (m->prefix == NULL) {
		*err = -ENOMEM;
		goto out_free_m;
	}
	m->magic_flags = MAGIC_MIME_TYPE;
	m->magic = magic_open(m->magic_flags);
	if (m->magic == NULL) {
		*err = errno == ENOMEM ? -ENOMEM : -EIO;
		goto out_free_prefix;
	}
	/* Load the database now, at thread start, not on the first request. */
	if (magic_load(m->magic, NULL) != 0) {
		*err = -EIO;
		goto out_close_magic;
	}
	*err = 0;
	return m;

out_close_magic:
	magic_close(m->magic);
out_free_prefix:
	free(m->prefix);
out_free_m:
	free(m);
	return NULL;
}

void
tw_mime_destroy(struct tw_mime *m)
{
	if (m == NULL)
		return;
	magic_close(m->magic);
	free(m->prefix);
	free(m);
}

/* One buffer, two questions: switch the handle's mode only when needed. */
static const char *
magic_ask(struct tw_mime *m, int flags, size_t n)
{
	if (m->magic_flags != flags) {
		if (magic_setflags(m->magic, flags) != 0)
			return NULL;
		m->magic_flags = flags;
	}
	return magic_buffer(m->magic, m->prefix, n);
}

static bool
is_charset_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == ':' || c == '+';
}

/* The charset libmagic names for bytes that are not UTF-8, or NULL. */
static const char *
magic_charset(struct tw_mime *m, size_t n)
{
	const char *cs = magic_ask(m, MAGIC_MIME_ENCODING, n);
	size_t i, len;

	if (cs == NULL || strcmp(cs, "binary") == 0 ||
	    strncmp(cs, "unknown", 7) == 0)
		return NULL;
	/* Our check read more than libmagic does; trust ours on UTF-8. */
	if (strcasecmp(cs, "utf-8") == 0)
		return NULL;
	len = strlen(cs);
	if (len == 0 || len >= CHARSET_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if (!is_charset_char((unsigned char)cs[i]))
			return NULL;
	return cs;
}

/* libmagic's type for the prefix, or NULL when it has no useful answer. */
static const char *
magic_type(struct tw_mime *m, size_t n)
{
	const char *type;

	if (n == 0)
		return NULL;
	type = magic_ask(m, MAGIC_MIME_TYPE, n);
	if (type == NULL || strcmp(type, "application/x-empty") == 0 ||
	    strcmp(type, "inode/x-empty") == 0)
		return NULL;
	/* It goes into a header: only a well-formed, short token/token. */
	if (strlen(type) > TYPE_LEN_MAX || !valid_type(type, strlen(type)))
		return NULL;
	return type;
}

/* The work that needs file bytes: one pread, then type and charset. */
static int
resolve_from_bytes(struct tw_mime *m, const char *type, int fd,
		   const struct stat *st, char out[TW_MIME_TYPE_MAX])
{
	const char *charset = NULL;
	size_t n, tlen;
	ssize_t got;

	do {
		got = pread(fd, m->prefix, PREFIX_MAX, 0);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	n = (size_t)got;

	if (type == NULL)
		type = magic_type(m, n);
	if (type == NULL)
		type = "application/octet-stream";
	/* Copy now: libmagic's answer dies with its next call (charset). */
	tlen = strlen(type);
	memcpy(out, type, tlen + 1);
	if (!tw_mime_is_text(out))
		return 0;
	/*
	 * A prefix shorter than the file may end inside a character; a whole
	 * file may not. Empty is valid UTF-8, so an empty .txt is still
	 * "charset=utf-8".
	 */
	if (tw_url_is_utf8(m->prefix, n, st->st_size > got))
		charset = "utf-8";
	else
		charset = magic_charset(m, n);
	if (charset != NULL) {
		memcpy(out + tlen, "; charset=", 10);
		memcpy(out + tlen + 10, charset, strlen(charset) + 1);
	}
	return 0;
}

static bool
cache_matches(const struct tw_mime_cached *e, const struct stat *st,
	      const char *table_type)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size && e->mtime_sec == st->st_mtim.tv_sec &&
	       e->mtime_nsec == st->st_mtim.tv_nsec &&
	       e->table_type == table_type;
}

static size_t
cache_index(const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)st->st_dev * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h >> 32) & (CACHE_SLOTS - 1);
}

int
tw_mime_resolve(struct tw_mime *m, const char *name, size_t name_len,
		int fd, const struct stat *st, bool want_charset,
		char out[TW_MIME_TYPE_MAX])
{
	struct tw_mime_cached *e;
	const char *type;
	size_t len;
	int err;

	type = tw_mime_table_lookup(m->table, name, name_len);
	/* Known and no charset to decide: answer without touching the file. */
	if (type != NULL && (!want_charset || !tw_mime_is_text(type))) {
		memcpy(out, type, strlen(type) + 1);
		return 0;
	}

	e = &m->cache[cache_index(st)];
	if (cache_matches(e, st, type)) {
		if (tw_stats_current() != NULL)
			tw_stats_add(&tw_stats_current()->cache_hits, 1);
	} else {
		if (tw_stats_current() != NULL)
			tw_stats_add(&tw_stats_current()->cache_misses, 1);
		e->used = false;
		err = resolve_from_bytes(m, type, fd, st, e->value);
		if (err != 0)
			return err;
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->size = st->st_size;
		e->mtime_sec = st->st_mtim.tv_sec;
		e->mtime_nsec = st->st_mtim.tv_nsec;
		e->table_type = type;
		e->used = true;
	}
	/* The bare type is the cached value up to its parameters. */
	len = want_charset ? strlen(e->value) : strcspn(e->value, ";");
	memcpy(out, e->value, len);
	out[len] = '\0';
	return 0;
}
