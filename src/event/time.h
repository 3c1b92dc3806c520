/*
 * time.h - timestamps found in records, to µs since the epoch, UTC.
 *
 * Every parser takes the text, its length, and returns 0 with the time in
 * *ret_us and the bytes consumed in *ret_len (when ret_len is not NULL), or
 * -EINVAL when the text does not start with a timestamp of that form.
 * Parsers never read past `len` and never need a NUL.
 *
 * Zone: a timestamp without a zone (RFC 3164, ctime, ISO 8601 without
 * offset) is local time in `tz` (event/tz.h; NULL is UTC), which the caller
 * gets from configuration: the input's `timezone`, else the global one.
 *
 * Year inference (RFC 3164 has none) looks at the neighbourhood of the
 * stream the record came from, and never at the wall clock alone:
 *   - `prev_us`, the time of the previous record of the same stream (same
 *     input and sender, or same file; 0 when unknown): the year that puts
 *     the timestamp nearest to it, so a stream never splits in time, a
 *     stream that crosses Dec 31 -> Jan 1 moves on to the next year, and
 *     yearless lines next to records with their own full date (EVE, access
 *     logs) take those records' year;
 *   - `ref_us`, the newest time the record can have (the receive time for
 *     live input, the file's modification time for files): no year is
 *     chosen that puts the timestamp more than TIME_FUTURE_SKEW_US after it,
 *     and without `prev_us` the latest year that does not is taken.  So
 *     "Dec 31" received on Jan 1 lands in the previous year, and a file
 *     scanned a year later keeps its own year.
 */
#ifndef HIKESHI_EVENT_TIME_H
#define HIKESHI_EVENT_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "event/time_civil.h"
#include "event/tz.h"

/* How far after the reference time a yearless timestamp may fall (clock
 * skew between sender and receiver, a file written just after its mtime
 * was read, a zone set a few hours off). */
#define TIME_FUTURE_SKEW_US (86400LL * 1000000)

/* Room for "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" plus NUL (and years past 9999). */
#define TIME_ISO_LEN 40

/* "Mmm dd hh:mm:ss" and "Mmm  d hh:mm:ss" (RFC 3164), optionally followed by
 * a year ("Mmm dd yyyy hh:mm:ss", as some devices send). */
int time_parse_rfc3164(const char *s, size_t len, int64_t ref_us, int64_t prev_us,
                       const struct tz *tz, int64_t *ret_us, size_t *ret_len);
/* RFC 3339 / RFC 5424 / ISO 8601: "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]".
 * Up to 9 fraction digits; beyond 6 they are truncated. */
int time_parse_iso8601(const char *s, size_t len, const struct tz *tz, int64_t *ret_us,
                       size_t *ret_len);
/* Seconds, milliseconds, microseconds or nanoseconds since the epoch, told
 * apart by magnitude, with an optional ".fraction" of seconds. */
int time_parse_epoch(const char *s, size_t len, int64_t *ret_us, size_t *ret_len);
/* Common Log Format: "dd/Mmm/yyyy:hh:mm:ss ±zzzz". */
int time_parse_clf(const char *s, size_t len, int64_t *ret_us, size_t *ret_len);
/* ctime(3) form as in Apache error logs: "Www Mmm dd hh:mm:ss[.frac] yyyy". */
int time_parse_ctime(const char *s, size_t len, const struct tz *tz, int64_t *ret_us,
                     size_t *ret_len);

/* The year for a yearless local date-time (month 1..12, day, seconds of
 * day, µs fraction), chosen from `ref_us` and `prev_us` as described above.
 * 0 with the instant in *ret_us, or -EINVAL when no year in reach fits
 * (Feb 29 far from a leap year). */
int time_infer_year(int mon, int day, int sod, int64_t frac_us, int64_t ref_us, int64_t prev_us,
                    const struct tz *tz, int64_t *ret_us);

/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into buf; returns its length. */
size_t time_format_iso(int64_t us, char *buf, size_t size);

/* Current wall-clock time in µs since the epoch. */
int64_t time_now_us(void);

#endif
