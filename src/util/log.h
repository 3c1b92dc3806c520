/*
 * log.h - the daemon's diagnostics.
 *
 * Only stage drivers and the CLI log; decode, detect, triage and store
 * return errors instead.  Messages go to stderr, or to syslog(3) after
 * log_to_syslog().  Attacker-controlled text must pass through
 * log_quote() before it is printed.
 */
#ifndef HIKESHI_UTIL_LOG_H
#define HIKESHI_UTIL_LOG_H

#include <stddef.h>

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *ret);
const char *log_level_name(enum log_level level);
/* Sends further messages to syslog(3) with the given ident. */
void log_to_syslog(const char *ident);

/* log_warn and fatal append ": strerror(errno)". */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Writes `s` (length `len`) into `buf` as a printable, single-quoted string:
 * non-printable bytes become \xNN, quotes and backslashes are escaped, and
 * the result is cut at `size` with "..." if needed.  Returns `buf`.
 */
char *log_quote(char *buf, size_t size, const char *s, size_t len);

/*
 * A per-source rate limiter for warnings: allows `burst` messages per
 * `interval_s` seconds and counts the ones suppressed.  Not thread-safe; one
 * per thread that logs.
 */
struct log_ratelimit {
    unsigned interval_s;
    unsigned burst;
    long window_start;
    unsigned in_window;
    unsigned long suppressed;
};

/* Returns 1 if a message may be printed now; when a new window opens and
 * messages were suppressed in the last one, *ret_suppressed says how many. */
int log_ratelimit_ok(struct log_ratelimit *rl, unsigned long *ret_suppressed);

#endif
