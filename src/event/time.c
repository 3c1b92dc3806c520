/*
 * time.c - timestamps found in records, to µs since the epoch, UTC.
 *
 * Hand-written rather than strptime(3)/timegm(3): these run once per record
 * on the hot path, must not depend on the process locale or TZ, and must be
 * bounded by a length rather than a NUL.
 */
#include "event/time.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define US_PER_S 1000000LL

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Reads exactly n digits at s[*i]; -1 if not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;

    if (*i + (size_t)n > len)
        return -1;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    return v;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

static int parse_month(const char *s, size_t len, size_t *i)
{
    if (*i + 3 > len)
        return -1;
    for (int m = 0; m < 12; m++) {
        if (strncmp(s + *i, month_names[m], 3) == 0) {
            *i += 3;
            return m + 1;
        }
    }
    return -1;
}

/* "hh:mm:ss" into seconds of day; -1 on error. */
static int parse_hms(const char *s, size_t len, size_t *i)
{
    int h, m, sec;

    if ((h = digits(s, len, i, 2)) < 0 || expect(s, len, i, ':') < 0 ||
        (m = digits(s, len, i, 2)) < 0 || expect(s, len, i, ':') < 0 ||
        (sec = digits(s, len, i, 2)) < 0)
        return -1;
    /* 60 allows a leap second; it rolls into the next minute. */
    if (h > 23 || m > 59 || sec > 60)
        return -1;
    return h * 3600 + m * 60 + sec;
}

/* ".ffffff" (1..9 digits) into µs; leaves *i unchanged if absent. */
static int64_t parse_frac(const char *s, size_t len, size_t *i)
{
    int64_t us = 0;
    int n = 0;

    if (*i >= len || (s[*i] != '.' && s[*i] != ','))
        return 0;
    if (*i + 1 >= len || s[*i + 1] < '0' || s[*i + 1] > '9')
        return 0;
    (*i)++;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (n < 6) {
            us = us * 10 + (s[*i] - '0');
            n++;
        } else if (n >= 9) {
            break;
        } else {
            n++;
        }
        (*i)++;
    }
    for (int k = n < 6 ? n : 6; k < 6; k++)
        us *= 10;
    return us;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The local calendar year at instant `us` in zone `tz`. */
static int local_year(int64_t us, const struct tz *tz)
{
    int64_t s = floor_div(us, US_PER_S);
    int y, m, d;

    time_civil_from_days(floor_div(s + tz_offset_at(tz, s), 86400), &y, &m, &d);
    return y;
}

static int64_t local_instant(int y, int mon, int day, int sod, int64_t frac, const struct tz *tz)
{
    return tz_local_to_utc(tz, time_from_civil(y, mon, day, 0, 0, 0) + sod) * US_PER_S + frac;
}

int time_infer_year(int mon, int day, int sod, int64_t frac, int64_t ref_us, int64_t prev_us,
                    const struct tz *tz, int64_t *ret_us)
{
    int64_t limit = ref_us + TIME_FUTURE_SKEW_US;
    int ry;

    if (mon < 1 || mon > 12 || day < 1 || day > 31)
        return -EINVAL;
    if (prev_us > 0 && prev_us <= limit) {
        /* Nearest to the stream's previous record, not after the limit. */
        int py = local_year(prev_us, tz), found = 0;
        int64_t best = 0, best_d = 0;
        for (int y = py - 1; y <= py + 1; y++) {
            int64_t t, dist;
            if (day > days_in_month(y, mon))
                continue;
            t = local_instant(y, mon, day, sod, frac, tz);
            if (t > limit)
                continue;
            dist = t > prev_us ? t - prev_us : prev_us - t;
            if (!found || dist < best_d) {
                best = t;
                best_d = dist;
                found = 1;
            }
        }
        if (found) {
            *ret_us = best;
            return 0;
        }
    }
    /* No neighbour: the latest year not after the limit (eight years back
     * reach a Feb 29). */
    ry = local_year(ref_us, tz);
    for (int y = ry + 1; y >= ry - 8; y--) {
        int64_t t;
        if (day > days_in_month(y, mon))
            continue;
        t = local_instant(y, mon, day, sod, frac, tz);
        if (t <= limit) {
            *ret_us = t;
            return 0;
        }
    }
    return -EINVAL;
}

int time_parse_rfc3164(const char *s, size_t len, int64_t ref_us, int64_t prev_us,
                       const struct tz *tz, int64_t *ret_us, size_t *ret_len)
{
    size_t i = 0;
    int mon, day, sod, year = 0;
    int64_t frac;

    if ((mon = parse_month(s, len, &i)) < 0 || expect(s, len, &i, ' ') < 0)
        return -EINVAL;
    if (i < len && s[i] == ' ')
        i++;
    if (i < len && s[i] >= '0' && s[i] <= '9' && i + 1 < len && s[i + 1] >= '0' &&
        s[i + 1] <= '9')
        day = digits(s, len, &i, 2);
    else
        day = digits(s, len, &i, 1);
    if (day < 1 || day > 31 || expect(s, len, &i, ' ') < 0)
        return -EINVAL;
    {
        /* Optional year before the time: "Mmm dd yyyy hh:mm:ss". */
        size_t j = i;
        int yy = digits(s, len, &j, 4);
        if (yy >= 1970 && expect(s, len, &j, ' ') == 0) {
            year = yy;
            i = j;
        }
    }
    if ((sod = parse_hms(s, len, &i)) < 0)
        return -EINVAL;
    frac = parse_frac(s, len, &i);
    if (year) {
        if (day > days_in_month(year, mon))
            return -EINVAL;
        *ret_us = local_instant(year, mon, day, sod, frac, tz);
    } else if (time_infer_year(mon, day, sod, frac, ref_us, prev_us, tz, ret_us) < 0) {
        return -EINVAL;
    }
    if (ret_len)
        *ret_len = i;
    return 0;
}

/* "Z", "±hh:mm", "±hhmm" or "±hh" at s[*i]; sets *ret_off seconds east. */
static int parse_zone(const char *s, size_t len, size_t *i, int *ret_off)
{
    int sign, h, m = 0;

    if (*i >= len)
        return -1;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        *ret_off = 0;
        return 0;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return -1;
    sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    if ((h = digits(s, len, i, 2)) < 0 || h > 23)
        return -1;
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if ((m = digits(s, len, i, 2)) < 0)
            return -1;
    } else {
        size_t j = *i;
        int mm = digits(s, len, &j, 2);
        if (mm >= 0) {
            m = mm;
            *i = j;
        }
    }
    if (m > 59)
        return -1;
    *ret_off = sign * (h * 3600 + m * 60);
    return 0;
}

int time_parse_iso8601(const char *s, size_t len, const struct tz *tz, int64_t *ret_us,
                       size_t *ret_len)
{
    size_t i = 0;
    int y, mon, d, sod, off = 0, zoned = 0;
    int64_t frac;

    if ((y = digits(s, len, &i, 4)) < 0 || expect(s, len, &i, '-') < 0 ||
        (mon = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, '-') < 0 ||
        (d = digits(s, len, &i, 2)) < 0)
        return -EINVAL;
    if (mon < 1 || mon > 12 || d < 1 || d > days_in_month(y, mon))
        return -EINVAL;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return -EINVAL;
    i++;
    if ((sod = parse_hms(s, len, &i)) < 0)
        return -EINVAL;
    frac = parse_frac(s, len, &i);
    {
        size_t j = i;
        int zo;
        if (parse_zone(s, len, &j, &zo) == 0) {
            off = zo;
            zoned = 1;
            i = j;
        }
    }
    if (zoned)
        *ret_us = (time_from_civil(y, mon, d, 0, 0, 0) + sod - off) * US_PER_S + frac;
    else
        *ret_us = local_instant(y, mon, d, sod, frac, tz);
    if (ret_len)
        *ret_len = i;
    return 0;
}

int time_parse_epoch(const char *s, size_t len, int64_t *ret_us, size_t *ret_len)
{
    size_t i = 0;
    int64_t v = 0;
    int nd = 0;
    int64_t frac;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        /* 19 digits are needed for nanoseconds, but not all fit in int64.
         * Up to 17 digits read, v * 10 + 9 is below 10^18: the division
         * (a tenth of a FortiGate line's eventtime, issue 24) only from
         * the 19th digit on. */
        if (nd >= 18 && (nd >= 19 || v > (INT64_MAX - (s[i] - '0')) / 10))
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
        i++;
        nd++;
    }
    if (nd == 0)
        return -EINVAL;
    frac = parse_frac(s, len, &i);
    if (v < 100000000000LL) /* < 1e11: seconds (until year 5138) */
        *ret_us = v * US_PER_S + frac;
    else if (v < 100000000000000LL) /* milliseconds */
        *ret_us = v * 1000;
    else if (v < 100000000000000000LL) /* microseconds */
        *ret_us = v;
    else /* nanoseconds */
        *ret_us = v / 1000;
    if (ret_len)
        *ret_len = i;
    return 0;
}

int time_parse_clf(const char *s, size_t len, int64_t *ret_us, size_t *ret_len)
{
    size_t i = 0;
    int d, mon, y, sod, off = 0;
    int64_t frac;

    if ((d = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, '/') < 0 ||
        (mon = parse_month(s, len, &i)) < 0 || expect(s, len, &i, '/') < 0 ||
        (y = digits(s, len, &i, 4)) < 0 || expect(s, len, &i, ':') < 0 ||
        (sod = parse_hms(s, len, &i)) < 0)
        return -EINVAL;
    if (d < 1 || d > days_in_month(y, mon))
        return -EINVAL;
    frac = parse_frac(s, len, &i);
    if (i < len && s[i] == ' ') {
        size_t j = i + 1;
        int zo;
        if (parse_zone(s, len, &j, &zo) == 0) {
            off = zo;
            i = j;
        }
    }
    *ret_us = (time_from_civil(y, mon, d, 0, 0, 0) + sod - off) * US_PER_S + frac;
    if (ret_len)
        *ret_len = i;
    return 0;
}

int time_parse_ctime(const char *s, size_t len, const struct tz *tz, int64_t *ret_us,
                     size_t *ret_len)
{
    static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    size_t i = 0;
    int mon, d, sod, y, ok = 0;
    int64_t frac;

    if (len < 3)
        return -EINVAL;
    for (int k = 0; k < 7; k++)
        ok |= strncmp(s, wdays[k], 3) == 0;
    if (!ok)
        return -EINVAL;
    i = 3;
    if (expect(s, len, &i, ' ') < 0 || (mon = parse_month(s, len, &i)) < 0 ||
        expect(s, len, &i, ' ') < 0)
        return -EINVAL;
    if (i < len && s[i] == ' ')
        i++;
    if (i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
        d = digits(s, len, &i, 2);
    else
        d = digits(s, len, &i, 1);
    if (d < 1 || expect(s, len, &i, ' ') < 0 || (sod = parse_hms(s, len, &i)) < 0)
        return -EINVAL;
    frac = parse_frac(s, len, &i);
    if (expect(s, len, &i, ' ') < 0 || (y = digits(s, len, &i, 4)) < 0)
        return -EINVAL;
    if (d > days_in_month(y, mon))
        return -EINVAL;
    *ret_us = local_instant(y, mon, d, sod, frac, tz);
    if (ret_len)
        *ret_len = i;
    return 0;
}

/* Writes v as at least `width` decimal digits, zero-padded, at p; returns
 * the digits written.  v >= 0; an int has at most 10 digits. */
static size_t put_digits(char *p, uint32_t v, size_t width)
{
    char tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof(tmp));
    while (n < width && n < sizeof(tmp))
        tmp[n++] = '0';
    for (size_t k = 0; k < n; k++)
        p[k] = tmp[n - 1 - k];
    return n;
}

/* Two digits of v (0..99) at p. */
static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/*
 * Per event (event_set_time) and per output line, so no stdio: the digits
 * are written by hand.  The text is what "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
 * gives, years beyond 9999 and before 0 included ("10000-...", "-001-..."),
 * and a short buffer gets the same truncated, terminated prefix snprintf
 * would leave.
 */
size_t time_format_iso(int64_t us, char *buf, size_t size)
{
    int64_t secs = us / US_PER_S, rem = us % US_PER_S;
    int64_t days, sod;
    char out[TIME_ISO_LEN];
    size_t n = 0;
    int y, m, d;

    if (rem < 0) {
        rem += US_PER_S;
        secs--;
    }
    days = secs / 86400;
    sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    time_civil_from_days(days, &y, &m, &d);
    if (y < 0) {
        /* %04d counts the sign in the width: -1 is "-001". */
        out[n++] = '-';
        n += put_digits(out + n, (uint32_t)(-(int64_t)y), 3);
    } else {
        n += put_digits(out + n, (uint32_t)y, 4);
    }
    out[n] = '-';
    put2(out + n + 1, m);
    out[n + 3] = '-';
    put2(out + n + 4, d);
    out[n + 6] = 'T';
    put2(out + n + 7, (int)(sod / 3600));
    out[n + 9] = ':';
    put2(out + n + 10, (int)(sod / 60 % 60));
    out[n + 12] = ':';
    put2(out + n + 13, (int)(sod % 60));
    out[n + 15] = '.';
    n += 16;
    n += put_digits(out + n, (uint32_t)rem, 6);
    out[n++] = 'Z';
    if (size == 0)
        return 0;
    if (n >= size)
        n = size - 1;
    memcpy(buf, out, n);
    buf[n] = '\0';
    return n;
}

int64_t time_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}
