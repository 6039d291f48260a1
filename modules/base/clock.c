/* SPDX-License-Identifier: MIT */
/*
 * clock: per-thread cached time and date strings. Layer 0.
 */
#include "base/clock.h"

#include <string.h>

static const char wday_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Per thread, so threads mode needs no locks on the request path. Kept
 * per thread, not per loop: the time is the same for every loop of a
 * thread, and layer 0 knows no loop. */
static _Thread_local time_t now_sec;
static _Thread_local uint64_t now_ms;
static _Thread_local time_t formatted_sec = -1;
static _Thread_local char http_date[TW_CLOCK_HTTP_DATE_LEN + 1];
static _Thread_local char log_date[TW_CLOCK_LOG_DATE_LEN + 1];

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

static void
put4(char *p, int v)
{
	put2(p, v / 100);
	put2(p + 2, v % 100);
}

size_t
tw_clock_format_http(time_t t, char out[TW_CLOCK_HTTP_DATE_LEN + 1])
{
	struct tm tm;

	/* gmtime_r fails or yields 5-digit years for extreme times; a file
	 * with such an mtime must not break the response. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return 0;
	memcpy(out, wday_names[tm.tm_wday], 3);
	out[3] = ',';
	out[4] = ' ';
	put2(out + 5, tm.tm_mday);
	out[7] = ' ';
	memcpy(out + 8, month_names[tm.tm_mon], 3);
	out[11] = ' ';
	put4(out + 12, tm.tm_year + 1900);
	out[16] = ' ';
	put2(out + 17, tm.tm_hour);
	out[19] = ':';
	put2(out + 20, tm.tm_min);
	out[22] = ':';
	put2(out + 23, tm.tm_sec);
	memcpy(out + 25, " GMT", 5);
	return TW_CLOCK_HTTP_DATE_LEN;
}

static void
format_log_date(time_t t)
{
	struct tm tm;
	char *p = log_date;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	put2(p, tm.tm_mday);
	p[2] = '/';
	memcpy(p + 3, month_names[tm.tm_mon], 3);
	p[6] = '/';
	put4(p + 7, tm.tm_year + 1900);
	p[11] = ':';
	put2(p + 12, tm.tm_hour);
	p[14] = ':';
	put2(p + 15, tm.tm_min);
	p[17] = ':';
	put2(p + 18, tm.tm_sec);
	memcpy(p + 20, " +0000", 7);
}

void
tw_clock_update(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	(void)clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	now_sec = ts.tv_sec;
	if (now_sec != formatted_sec) {
		formatted_sec = now_sec;
		if (tw_clock_format_http(now_sec, http_date) == 0)
			memcpy(http_date, "Thu, 01 Jan 1970 00:00:00 GMT", 30);
		format_log_date(now_sec);
	}
}

time_t
tw_clock_now(void)
{
	return now_sec;
}

uint64_t
tw_clock_ms(void)
{
	return now_ms;
}

uint64_t
tw_clock_us_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

const char *
tw_clock_http_date(void)
{
	if (formatted_sec == -1)
		tw_clock_update();
	return http_date;
}

const char *
tw_clock_log_date(void)
{
	if (formatted_sec == -1)
		tw_clock_update();
	return log_date;
}
