/*
 * time.h - timestamps found in records, to µs since the epoch, UTC.
 *
 * Every parser takes the text, its length, and returns 0 with the time in
 * *ret_us and the bytes consumed in *ret_len (when ret_len is not NULL), or
 * -EINVAL when the text does not start with a timestamp of that form.
 * Parsers never read past `len` and never need a NUL.
 *
 * Zone inference: a timestamp without a zone (RFC 3164, ctime, ISO 8601
 * without offset) is taken to be at `tz_off_s` seconds east of UTC, which the
 * caller gets from configuration (default 0, UTC).
 *
 * Year inference (RFC 3164 has none): the year chosen is the latest one that
 * puts the timestamp no more than one day after the reference time `ref_us`
 * (the receive time for live input, the file's modification time for scan).
 * So "Dec 31" received on Jan 1 lands in the previous year, and a log file
 * scanned months later still gets its own year.
 */
#ifndef HIKESHI_EVENT_TIME_H
#define HIKESHI_EVENT_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Room for "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" plus NUL (and years past 9999). */
#define TIME_ISO_LEN 40

/* "Mmm dd hh:mm:ss" and "Mmm  d hh:mm:ss" (RFC 3164), optionally followed by
 * a year ("Mmm dd yyyy hh:mm:ss", as some devices send). */
int time_parse_rfc3164(const char *s, size_t len, int64_t ref_us, int32_t tz_off_s,
                       int64_t *ret_us, size_t *ret_len);
/* RFC 3339 / RFC 5424 / ISO 8601: "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]".
 * Up to 9 fraction digits; beyond 6 they are truncated. */
int time_parse_iso8601(const char *s, size_t len, int32_t tz_off_s, int64_t *ret_us,
                       size_t *ret_len);
/* Seconds, milliseconds, microseconds or nanoseconds since the epoch, told
 * apart by magnitude, with an optional ".fraction" of seconds. */
int time_parse_epoch(const char *s, size_t len, int64_t *ret_us, size_t *ret_len);
/* Common Log Format: "dd/Mmm/yyyy:hh:mm:ss ±zzzz". */
int time_parse_clf(const char *s, size_t len, int64_t *ret_us, size_t *ret_len);
/* ctime(3) form as in Apache error logs: "Www Mmm dd hh:mm:ss[.frac] yyyy". */
int time_parse_ctime(const char *s, size_t len, int32_t tz_off_s, int64_t *ret_us,
                     size_t *ret_len);

/* Seconds since the epoch of a civil UTC date-time; no range checks beyond
 * what the callers did. */
int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec);

/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into buf; returns its length. */
size_t time_format_iso(int64_t us, char *buf, size_t size);

/* Current wall-clock time in µs since the epoch. */
int64_t time_now_us(void);

#endif
