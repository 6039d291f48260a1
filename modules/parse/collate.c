/* SPDX-License-Identifier: MIT */
/*
 * collate: natural, case-insensitive, code point order of names, without
 * a locale (strcoll would make the same directory list differently on
 * two machines, and the C locale knows neither digits nor case). Layer
 * 2: no I/O, no allocation.
 *
 * Speed: a listing sorts with this, and the names of a large directory
 * tend to share long prefixes ("IMG_2024...", "entry-0001"). Identical
 * leading bytes are skipped eight at a time, then the comparison backs
 * up to the start of the character and of the digit run it stopped in:
 * equal bytes fold and count equally, so only the rest is decoded.
 */
#include "parse/collate.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Where an invalid byte sorts: after every code point. */
#define BAD_BYTE	0x110000u

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

unsigned
tw_collate_fold(unsigned c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)	/* Latin-1 */
		return c + 0x20;
	if (c >= 0x100 && c <= 0x17f) {			/* Latin Extended-A */
		if (c == 0x178)
			return 0xff;
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return c & 1 ? c + 1 : c;
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 ||
		    c == 0x17f)
			return c;
		return c & 1 ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)	/* Greek */
		return c + 0x20;
	if (c == 0x3c2)					/* final sigma */
		return 0x3c3;
	if (c >= 0x410 && c <= 0x42f)			/* Cyrillic */
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	if (c >= 0xff21 && c <= 0xff3a)			/* fullwidth A-Z */
		return c + 0x20;
	return c;
}

/*
 * The code point at s[*i] (*i < n), moving *i past it. A byte that does
 * not start a well-formed sequence (overlong, surrogate, above U+10FFFF,
 * cut short) stands for itself, after every character.
 */
static unsigned
next_cp(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i], lo = 0x80, hi = 0xbf;
	unsigned cp;
	size_t need, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		(*i)++;
		return BAD_BYTE + c;
	}
	for (k = 1; k <= need; k++) {
		if (*i + k >= n || s[*i + k] < lo || s[*i + k] > hi) {
			(*i)++;
			return BAD_BYTE + c;
		}
		cp = cp << 6 | (s[*i + k] & 0x3fu);
		lo = 0x80;
		hi = 0xbf;
	}
	*i += need + 1;
	return cp;
}

/* Two digit runs by value; moves both indexes past their runs. */
static int
cmp_digits(const unsigned char *a, size_t an, size_t *ia,
	   const unsigned char *b, size_t bn, size_t *ib)
{
	size_t a0, b0, la, lb;
	int r;

	while (*ia < an && a[*ia] == '0')
		(*ia)++;
	while (*ib < bn && b[*ib] == '0')
		(*ib)++;
	for (a0 = *ia; *ia < an && is_digit(a[*ia]); (*ia)++)
		;
	for (b0 = *ib; *ib < bn && is_digit(b[*ib]); (*ib)++)
		;
	la = *ia - a0;
	lb = *ib - b0;
	if (la != lb)
		return la < lb ? -1 : 1;
	r = memcmp(a + a0, b + b0, la);
	return r;
}

/* Length of the identical prefix of a and b, eight bytes a step. */
static size_t
same_prefix(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t k = 0;
	uint64_t x, y;

	while (k + 8 <= n) {
		memcpy(&x, a + k, 8);
		memcpy(&y, b + k, 8);
		if (x != y)
			break;
		k += 8;
	}
	while (k < n && a[k] == b[k])
		k++;
	return k;
}

int
tw_collate_natural(const char *as, size_t an, const char *bs, size_t bn)
{
	const unsigned char *a = (const unsigned char *)as;
	const unsigned char *b = (const unsigned char *)bs;
	size_t n = an < bn ? an : bn, k, ia, ib;
	unsigned ca, cb;
	int r;

	k = same_prefix(a, b, n);
	if (k == an && k == bn)
		return 0;
	/* Back to the start of the character, then of the digit run, that
	 * the first difference fell in: both are the same bytes on both
	 * sides before k. */
	while (k > 0 && ((k < an && is_cont(a[k])) ||
			 (k < bn && is_cont(b[k]))))
		k--;
	while (k > 0 && is_digit(a[k - 1]))
		k--;
	ia = ib = k;
	while (ia < an && ib < bn) {
		if (is_digit(a[ia]) && is_digit(b[ib])) {
			r = cmp_digits(a, an, &ia, b, bn, &ib);
			if (r != 0)
				return r;
			continue;
		}
		ca = tw_collate_fold(next_cp(a, an, &ia));
		cb = tw_collate_fold(next_cp(b, bn, &ib));
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (ia < an || ib < bn)
		return ia < an ? 1 : -1;
	/* Equal but for case or leading zeros: the bytes decide. */
	r = memcmp(a + k, b + k, n - k);
	if (r != 0)
		return r;
	return an < bn ? -1 : an > bn;
}
