/*
 * tz.h - time zones for timestamps written in local time.
 *
 * A zone is either a fixed offset ("UTC", "Z", "+09:00", "-0530") or an IANA
 * name ("Europe/Berlin") read from the system's tzdata (TZif files, RFC 8536,
 * versions 1 to 3) by our own bounded reader.  Not setenv("TZ")/tzset(3):
 * those are process-global, not thread-safe, and would make one input's zone
 * leak into every other.
 *
 * Local time to UTC is ambiguous twice a year where the zone has daylight
 * saving time, and we resolve it the same way every time:
 *   - a local time in the gap (spring forward; 02:30 on the last Sunday of
 *     March in Berlin never happens) is read with the offset in force
 *     before the gap, so it lands after the change by the gap's length
 *     (02:30 is taken as 01:30 UTC, i.e. 03:30 CEST);
 *   - a local time in the overlap (fall back; 02:30 on the last Sunday of
 *     October happens twice) is taken as its first occurrence, the one with
 *     daylight saving time still in force (00:30 UTC).
 * A NULL `const struct tz *` means UTC everywhere in this API.
 */
#ifndef HIKESHI_EVENT_TZ_H
#define HIKESHI_EVENT_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* Where IANA zone files are read from (Debian package tzdata). */
#define TZ_DIR_DEFAULT "/usr/share/zoneinfo"

/*
 * Loads the zone called `name`: a fixed offset as above, or an IANA name
 * looked up under `dir` (NULL: TZ_DIR_DEFAULT).  Names are checked before
 * any file is opened: only letters, digits, '_', '-', '+' and '/'-separated
 * components not starting with '.', at most LIMIT_TZ_NAME_LEN bytes.
 * Returns 0 with a new zone in *ret (free with tz_free), -EINVAL for a bad
 * name or a file that is not a TZif file we accept, -ENOENT for an unknown
 * zone, -EFBIG for a file larger than LIMIT_TZ_FILE_BYTES, -ENOMEM.
 */
int tz_load(const char *name, const char *dir, struct tz **ret);

/*
 * Parses TZif bytes (the content of a zone file) into a zone named `name`.
 * Never reads past `len`; every count in the file is checked against the
 * bytes present and against the LIMIT_TZ_* caps.  0, -EINVAL or -ENOMEM.
 */
int tz_parse_tzif(const unsigned char *data, size_t len, const char *name, struct tz **ret);

/* A fixed-offset zone, `off_s` seconds east of UTC (|off_s| < 24 h). */
int tz_fixed(int32_t off_s, struct tz **ret);

/* A deep copy (an owner that must outlive a configuration keeps one); NULL
 * for NULL or on allocation failure (tell them apart by the argument). */
struct tz *tz_dup(const struct tz *tz);

/* Frees; NULL is a no-op. */
void tz_free(struct tz *tz);

/* The name as loaded ("Europe/Berlin", "+09:00"); "UTC" for NULL. */
const char *tz_name(const struct tz *tz);

/* 1 for a fixed offset (or NULL), 0 for a zone with rules. */
int tz_is_fixed(const struct tz *tz);

/* Seconds east of UTC in force at `utc_s` (seconds since the epoch). */
int32_t tz_offset_at(const struct tz *tz, int64_t utc_s);

/* The instant, in seconds since the epoch, of the local wall-clock time
 * `local_s` (a civil date-time counted as if it were UTC, as
 * time_from_civil() gives it), gaps and overlaps resolved as above. */
int64_t tz_local_to_utc(const struct tz *tz, int64_t local_s);

#endif
