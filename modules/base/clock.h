/* SPDX-License-Identifier: MIT */
/*
 * clock: cached wall and monotonic time for one thread, and HTTP/log date
 * strings formatted at most once a second. Layer 0.
 */
#ifndef TW_CLOCK_H
#define TW_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TW_CLOCK_HTTP_DATE_LEN 29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define TW_CLOCK_LOG_DATE_LEN 26	/* "06/Nov/1994:08:49:37 +0000" */

/* Re-read the clocks; call once per event-loop iteration. Cheap. */
void tw_clock_update(void);

/* Wall time in seconds as of the last update. */
time_t tw_clock_now(void);

/* Monotonic milliseconds as of the last update. */
uint64_t tw_clock_ms(void);

/* Monotonic microseconds, read now (not cached). */
uint64_t tw_clock_us_now(void);

/* The current time as an IMF-fixdate (TW_CLOCK_HTTP_DATE_LEN bytes, NUL
 * terminated), valid until the next tw_clock_update() on this thread. */
const char *tw_clock_http_date(void);

/* The current time in the common log format's brackets. */
const char *tw_clock_log_date(void);

/*
 * Format t as an IMF-fixdate into out (NUL terminated). Returns
 * TW_CLOCK_HTTP_DATE_LEN, or 0 if t is outside years 0..9999 (such a
 * time cannot be expressed; callers omit the header).
 */
size_t tw_clock_format_http(time_t t, char out[TW_CLOCK_HTTP_DATE_LEN + 1]);

#endif /* TW_CLOCK_H */
