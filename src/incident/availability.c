/*
 * availability.c - quiet hours and on-call rotas of contacts (see
 * availability.h).
 */
#include "incident/availability.h"

#include <errno.h>
#include <string.h>

/* Minutes of the week: Monday 00:00 is 0. */
#define WEEK_MIN (7 * 24 * 60)
#define DAY_MIN (24 * 60)

struct window {
    unsigned days;  /* bit d: starts on day d (0 = Monday) */
    int start, end; /* minutes of the day; end <= start wraps */
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const char *avail_state_name(enum avail_state s)
{
    switch (s) {
    case AVAIL_QUIET: return "quiet";
    case AVAIL_ON_CALL: return "on-call";
    default: return "available";
    }
}

static void skip_blanks(const char *s, size_t *i)
{
    while (s[*i] == ' ' || s[*i] == '\t')
        (*i)++;
}

/* "HH:MM" at s + *i: minutes of the day, or -1. */
static int parse_hhmm(const char *s, size_t *i)
{
    const char *p = s + *i;
    int h, m;

    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] != ':' || p[3] < '0' ||
        p[3] > '9' || p[4] < '0' || p[4] > '9')
        return -1;
    h = (p[0] - '0') * 10 + (p[1] - '0');
    m = (p[3] - '0') * 10 + (p[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    *i += 5;
    return h * 60 + m;
}

/* "HH:MM-HH:MM" into w->start, w->end. */
static int parse_range(const char *s, size_t *i, struct window *w, const char **why)
{
    if ((w->start = parse_hhmm(s, i)) < 0) {
        *why = "expected a time HH:MM (00:00 to 23:59)";
        return -EINVAL;
    }
    if (s[*i] != '-') {
        *why = "expected '-' between the two times (HH:MM-HH:MM)";
        return -EINVAL;
    }
    (*i)++;
    if ((w->end = parse_hhmm(s, i)) < 0) {
        *why = "expected a time HH:MM (00:00 to 23:59)";
        return -EINVAL;
    }
    if (w->end == w->start) {
        *why = "a window's start and end are the same time";
        return -EINVAL;
    }
    return 0;
}

/* A day name at s + *i: its index, or -1. */
static int parse_day(const char *s, size_t *i)
{
    for (int d = 0; d < 7; d++)
        if (strncmp(s + *i, day_names[d], 3) == 0) {
            *i += 3;
            return d;
        }
    return -1;
}

/* "[DAYS ]HH:MM-HH:MM" */
static int parse_window(const char *s, size_t *i, struct window *w, const char **why)
{
    w->days = 0x7f;
    if (strncmp(s + *i, "daily", 5) == 0) {
        *i += 5;
    } else if (s[*i] >= 'a' && s[*i] <= 'z') {
        int a = parse_day(s, i), b;

        if (a < 0) {
            *why = "expected a day (mon, tue, wed, thu, fri, sat, sun), a range mon-fri or daily";
            return -EINVAL;
        }
        b = a;
        if (s[*i] == '-') {
            (*i)++;
            if ((b = parse_day(s, i)) < 0) {
                *why = "expected the day that ends the range (mon .. sun)";
                return -EINVAL;
            }
        }
        w->days = 0;
        for (int d = a;; d = (d + 1) % 7) {
            w->days |= 1u << d;
            if (d == b)
                break;
        }
    } else {
        return parse_range(s, i, w, why);
    }
    if (s[*i] != ' ' && s[*i] != '\t') {
        *why = "expected a blank between the days and the times";
        return -EINVAL;
    }
    skip_blanks(s, i);
    return parse_range(s, i, w, why);
}

static int parse_quiet(const char *s, struct window *w, const char **why, size_t *at)
{
    size_t i = 0;
    int r;

    if (strlen(s) > AVAIL_TEXT_MAX) {
        *why = "longer than 256 bytes";
        *at = AVAIL_TEXT_MAX;
        return -EINVAL;
    }
    skip_blanks(s, &i);
    w->days = 0x7f;
    if ((r = parse_range(s, &i, w, why)) == 0) {
        skip_blanks(s, &i);
        if (s[i]) {
            *why = "unexpected text after HH:MM-HH:MM";
            r = -EINVAL;
        }
    }
    *at = i;
    return r;
}

static int parse_on_call(const char *s, struct window *w, size_t *ret_n, const char **why,
                         size_t *at)
{
    size_t i = 0, n = 0;
    int r = 0;

    if (strlen(s) > AVAIL_TEXT_MAX) {
        *why = "longer than 256 bytes";
        *at = AVAIL_TEXT_MAX;
        return -EINVAL;
    }
    for (;;) {
        skip_blanks(s, &i);
        if (n == AVAIL_WINDOWS_MAX) {
            *why = "more than 14 windows";
            r = -EINVAL;
            break;
        }
        if ((r = parse_window(s, &i, &w[n], why)) < 0)
            break;
        n++;
        skip_blanks(s, &i);
        if (!s[i])
            break;
        if (s[i] != ',') {
            *why = "expected ',' between windows";
            r = -EINVAL;
            break;
        }
        i++;
    }
    *at = i;
    *ret_n = n;
    return r;
}

int avail_check_quiet(const char *s, const char **why, size_t *at)
{
    struct window w;

    return s && s[0] ? parse_quiet(s, &w, why, at) : 0;
}

int avail_check_on_call(const char *s, const char **why, size_t *at)
{
    struct window w[AVAIL_WINDOWS_MAX];
    size_t n;

    return s && s[0] ? parse_on_call(s, w, &n, why, at) : 0;
}

/* Whether minute-of-the-week `t` falls in window w. */
static int in_window(const struct window *w, int t)
{
    int len = w->end > w->start ? w->end - w->start : DAY_MIN - w->start + w->end;

    for (int d = 0; d < 7; d++) {
        int from = d * DAY_MIN + w->start;
        int into = ((t - from) % WEEK_MIN + WEEK_MIN) % WEEK_MIN;

        if ((w->days & (1u << d)) && into < len)
            return 1;
    }
    return 0;
}

enum avail_state avail_state_at(const char *quiet_hours, const char *on_call, const struct tz *tz,
                                int64_t now_us)
{
    struct window w[AVAIL_WINDOWS_MAX];
    const char *why;
    size_t n = 0, at;
    int64_t local_s, days;
    int t;

    local_s = now_us / 1000000 + (tz ? tz_offset_at(tz, now_us / 1000000) : 0);
    days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
    /* 1970-01-01 was a Thursday: day 3 counting from Monday. */
    t = (int)((days + 3) % 7 + 7) % 7 * DAY_MIN + (int)((local_s - days * 86400) / 60);
    if (on_call && on_call[0] && parse_on_call(on_call, w, &n, &why, &at) == 0)
        for (size_t i = 0; i < n; i++)
            if (in_window(&w[i], t))
                return AVAIL_ON_CALL;
    if (quiet_hours && quiet_hours[0] && parse_quiet(quiet_hours, w, &why, &at) == 0 &&
        in_window(&w[0], t))
        return AVAIL_QUIET;
    return AVAIL_AVAILABLE;
}
