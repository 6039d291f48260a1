/* SPDX-License-Identifier: MIT */
/*
 * collate: the order a person expects of file names. Natural (digit runs
 * compare as numbers: file2 before file10), case-insensitive (simple case
 * folding of ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic), and
 * by code point otherwise (UTF-8 decoded; an invalid byte sorts after
 * every character). No locale: the same names sort the same on every
 * machine. Layer 2 (parsing): bytes in, an answer out; no I/O, no
 * allocation.
 */
#ifndef TW_COLLATE_H
#define TW_COLLATE_H

#include <stddef.h>

/*
 * Compare a[0..an) with b[0..bn) (no NUL needed; any bytes).
 *
 * - Runs of ASCII digits compare by value ("9" < "10"); equal values
 *   compare as equal here whatever their leading zeros ("01" vs "1").
 * - Other characters compare by their case-folded code point ("a" and
 *   "A" are equal here; "é" and "É" too); a digit run against another
 *   character compares as its first digit.
 * - A name that is a prefix of the other comes first.
 * - Names equal by these rules compare by their bytes, so the order is
 *   total: 0 only for identical names.
 *
 * Returns <0, 0 or >0, as strcmp.
 */
int tw_collate_natural(const char *a, size_t an, const char *b, size_t bn);

/* The simple lowercase of code point c (c itself where the tables above
 * have none). */
unsigned tw_collate_fold(unsigned c);

#endif /* TW_COLLATE_H */
