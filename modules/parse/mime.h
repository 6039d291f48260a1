/* SPDX-License-Identifier: MIT */
/*
 * mime: the Content-Type of a file. An extension table first (built in, or
 * loaded from a mime.types file), libmagic for names the table does not
 * know, and a charset for text types decided from the file's bytes.
 * Layer 2: the mime.types parser does no I/O; the resolver reads a file
 * prefix through a descriptor it is handed and never opens paths.
 */
#ifndef TW_MIME_H
#define TW_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define TW_MIME_TYPE_MAX 128	/* room for "type/subtype; charset=..." */

/* Called once per (type, extension) pair found by tw_mime_parse_types(). */
typedef int tw_mime_entry_fn(const char *type, size_t type_len,
			     const char *ext, size_t ext_len, void *arg);

/*
 * Parse a mime.types file (Debian/Apache format: "type ext ext ...",
 * '#' comments, blank lines; nginx's "types { type ext; }" body is NOT
 * accepted here) held in buf[0..len). A type must look like
 * "token/token"; an extension is 1..31 bytes of [A-Za-z0-9._+-]. A line
 * with a type but no extension is allowed and ignored (as in
 * /etc/mime.types). NUL bytes are an error.
 *
 * Returns 0, the first non-zero value returned by fn, or -EINVAL with
 * *errline set to the 1-based line number of a malformed line.
 */
int tw_mime_parse_types(const char *buf, size_t len, tw_mime_entry_fn *fn,
			void *arg, size_t *errline);

/* Extension -> type table. Immutable once built; shared by all threads. */
struct tw_mime_table;

/*
 * Create a table holding the built-in defaults (html, css, js, json, txt,
 * images, fonts, audio/video, archives, pdf, wasm, ...). Returns NULL on
 * out of memory. Free with tw_mime_table_destroy().
 */
struct tw_mime_table *tw_mime_table_create(void);
void tw_mime_table_destroy(struct tw_mime_table *t);

/*
 * Add or replace one mapping. ext is matched case-insensitively, without
 * the dot. Returns 0, -EINVAL (bad ext/type), or -ENOMEM.
 */
int tw_mime_table_add(struct tw_mime_table *t, const char *ext,
		      size_t ext_len, const char *type, size_t type_len);

/*
 * Load mime.types data (see tw_mime_parse_types) into t; later entries
 * override earlier ones and the built-ins. Returns 0 or -errno
 * (-EINVAL with *errline set for a syntax error).
 */
int tw_mime_table_load_buf(struct tw_mime_table *t, const char *buf,
			   size_t len, size_t *errline);

/*
 * The type for a file name by its last extension ("a.tar.gz" -> "gz"),
 * or NULL if the name has no extension or the table does not know it.
 * The returned string is owned by the table.
 */
const char *tw_mime_table_lookup(const struct tw_mime_table *t,
				 const char *name, size_t name_len);

/* True for types that take a charset: text/-*, javascript, json, xml,
 * +xml and +json. */
bool tw_mime_is_text(const char *type);

/*
 * Per-thread resolver: a libmagic handle (magic_t is not thread-safe) and
 * a cache of results keyed by (dev, ino, size, mtime). Created once per
 * worker thread; never shared.
 */
struct tw_mime;

/* Returns NULL and sets *err (-ENOMEM, or -EIO if libmagic fails to load). */
struct tw_mime *tw_mime_create(const struct tw_mime_table *t, int *err);
void tw_mime_destroy(struct tw_mime *m);

/*
 * Write the full Content-Type for the regular file `name` (its base name,
 * for the extension) open as fd with stat st into out[TW_MIME_TYPE_MAX]:
 * - type from the table; if unknown, from libmagic on the file's first
 *   bytes (pread, the file offset is not used); if libmagic has no answer
 *   or the file is empty, "application/octet-stream";
 * - if want_charset and the type is text (tw_mime_is_text): "; charset=
 *   utf-8" when the file's prefix (up to 64 KiB) is valid UTF-8, else the
 *   charset libmagic reports (e.g. iso-8859-1) unless it is "binary" or
 *   unknown, else no charset.
 * Work that reads the file is done once per (dev, ino, size, mtime) and
 * cached. Returns 0, or -errno if reading the file failed.
 */
int tw_mime_resolve(struct tw_mime *m, const char *name, size_t name_len,
		    int fd, const struct stat *st, bool want_charset,
		    char out[TW_MIME_TYPE_MAX]);

#endif /* TW_MIME_H */
