/* SPDX-License-Identifier: MIT */
/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein), a keyed hash whose
 * output an attacker cannot predict or collide without the key: for
 * tables keyed by what clients send (their addresses, their
 * credentials). Layer 0.
 */
#ifndef TW_SIPHASH_H
#define TW_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of p[0..n) under the 128-bit key k[0], k[1] (the
 * reference's key bytes read as two little-endian words). */
uint64_t tw_siphash(const uint64_t k[2], const void *p, size_t n);

#endif /* TW_SIPHASH_H */
