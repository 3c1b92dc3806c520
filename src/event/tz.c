/*
 * tz.c - time zones: fixed offsets and a bounded reader of TZif files.
 *
 * Why our own reader: the C library's zone machinery (TZ, tzset, localtime)
 * is one process-wide setting, and hikeshi needs one zone per input, read at
 * configuration time and used from the pipeline thread while a reload may be
 * loading another.  A TZif file is a short list of transitions and a POSIX
 * TZ rule for the times after the last one; both are read here with every
 * count checked against the bytes present and the caps in util/limits.h.
 * Leap-second ("right/") zones are refused: their transition times are not
 * POSIX seconds.
 */
#include "event/tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/time_civil.h"
#include "util/limits.h"
#include "util/readfile.h"

/* Largest |UT offset| accepted, from a TZif type or a POSIX TZ string:
 * RFC 8536 bounds offsets to (-25 h, +26 h). */
#define TZ_OFF_MAX (26 * 3600)
/* Rule times may reach 167 hours (RFC 8536 section 3.3.1). */
#define TZ_RULE_TIME_MAX (167 * 3600)

struct tz_type {
    int32_t utoff; /* seconds east of UTC */
    uint8_t isdst;
};

/* One end of the daylight saving time rule of a POSIX TZ string. */
struct tz_date {
    char kind;      /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day) */
    int a, b, c;    /* J/N: day in a; M: month a, week b (5: last), weekday c */
    int32_t time_s; /* local time of day of the change, -167 h .. 167 h */
};

/* The POSIX TZ string of a TZif footer: the zone after its last transition. */
struct tz_rule {
    int present;     /* 0: no footer rule (v1 file, empty footer) */
    int has_dst;     /* 0: std_off all year */
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    struct tz_date start, end; /* start and end of daylight saving time */
};

struct tz {
    char name[LIMIT_TZ_NAME_LEN + 1];
    int fixed;         /* 1: fixed_off, nothing else */
    int32_t fixed_off; /* seconds east of UTC */
    uint32_t ntrans;   /* <= LIMIT_TZ_TRANSITIONS */
    int64_t *at;       /* transition instants, strictly ascending (heap, owned) */
    uint8_t *idx;      /* type in force from at[i] on; each < ntypes (heap, owned) */
    uint32_t ntypes;   /* 1..LIMIT_TZ_TYPES */
    struct tz_type types[LIMIT_TZ_TYPES];
    struct tz_rule rule;
};

static struct tz *tz_alloc(const char *name)
{
    struct tz *z = calloc(1, sizeof(*z));

    if (!z)
        return NULL;
    snprintf(z->name, sizeof(z->name), "%s", name ? name : "");
    return z;
}

void tz_free(struct tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->idx);
    free(tz);
}

struct tz *tz_dup(const struct tz *tz)
{
    struct tz *z;

    if (!tz || !(z = malloc(sizeof(*z))))
        return NULL;
    *z = *tz;
    z->at = NULL;
    z->idx = NULL;
    if (tz->ntrans) {
        z->at = malloc(tz->ntrans * sizeof(*z->at));
        z->idx = malloc(tz->ntrans);
        if (!z->at || !z->idx) {
            tz_free(z);
            return NULL;
        }
        memcpy(z->at, tz->at, tz->ntrans * sizeof(*z->at));
        memcpy(z->idx, tz->idx, tz->ntrans);
    }
    return z;
}

const char *tz_name(const struct tz *tz)
{
    return tz ? tz->name : "UTC";
}

int tz_is_fixed(const struct tz *tz)
{
    return !tz || tz->fixed;
}

int tz_fixed(int32_t off_s, struct tz **ret)
{
    struct tz *z;
    int32_t a = off_s < 0 ? -off_s : off_s;
    char name[16];

    if (a >= 24 * 3600)
        return -EINVAL;
    snprintf(name, sizeof(name), "%c%02d:%02d", off_s < 0 ? '-' : '+', (int)(a / 3600),
             (int)(a / 60 % 60));
    if (!(z = tz_alloc(name)))
        return -ENOMEM;
    z->fixed = 1;
    z->fixed_off = off_s;
    *ret = z;
    return 0;
}

/* "UTC", "Z", "+hh", "+hhmm", "+hh:mm" (or '-'); -EINVAL for anything else. */
static int parse_fixed(const char *s, int32_t *ret)
{
    int sign, h, m = 0;
    size_t n = strlen(s);

    if (strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0 || strcmp(s, "Z") == 0) {
        *ret = 0;
        return 0;
    }
    if (n < 3 || (s[0] != '+' && s[0] != '-') || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
        s[2] > '9')
        return -EINVAL;
    sign = s[0] == '-' ? -1 : 1;
    h = (s[1] - '0') * 10 + (s[2] - '0');
    s += 3;
    if (*s == ':')
        s++;
    if (*s) {
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2])
            return -EINVAL;
        m = (s[0] - '0') * 10 + (s[1] - '0');
    }
    if (h > 23 || m > 59)
        return -EINVAL;
    *ret = sign * (h * 3600 + m * 60);
    return 0;
}

/* An IANA name: components of [A-Za-z0-9_+-], none empty or starting with
 * '.', separated by single '/'; never absolute, never "..". */
static int name_ok(const char *s)
{
    size_t n = strlen(s), comp = 0;

    if (n == 0 || n > LIMIT_TZ_NAME_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/') {
            if (comp == 0)
                return 0;
            comp = 0;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+'))
            return 0;
        comp++;
    }
    return comp > 0;
}

int tz_load(const char *name, const char *dir, struct tz **ret)
{
    char path[LIMIT_TZ_NAME_LEN + 256];
    char *data = NULL;
    size_t len;
    int32_t off;
    int r;

    if (parse_fixed(name, &off) == 0)
        return tz_fixed(off, ret);
    if (!name_ok(name))
        return -EINVAL;
    if (!dir)
        dir = TZ_DIR_DEFAULT;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -ENAMETOOLONG;
    r = readfile_all(path, LIMIT_TZ_FILE_BYTES, &data, &len);
    if (r == -EISDIR || r == -ENOTDIR)
        r = -ENOENT;
    if (r < 0)
        return r;
    r = tz_parse_tzif((const unsigned char *)data, len, name, ret);
    free(data);
    return r;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of a TZif header. */
struct tzif_hdr {
    char version; /* 0, '2', '3', '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

#define TZIF_HDR_LEN 44

static int read_hdr(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
    if (len < TZIF_HDR_LEN || memcmp(p, "TZif", 4) != 0)
        return -EINVAL;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    /* Leap-second zones are refused (see the top of the file). */
    if (h->leapcnt || h->timecnt > LIMIT_TZ_TRANSITIONS || h->typecnt > LIMIT_TZ_TYPES ||
        h->charcnt > LIMIT_TZ_CHARS || (h->isutcnt && h->isutcnt != h->typecnt) ||
        (h->isstdcnt && h->isstdcnt != h->typecnt))
        return -EINVAL;
    return 0;
}

/* Bytes of the data block after a header; counts are capped so this cannot
 * overflow. */
static size_t block_len(const struct tzif_hdr *h, size_t tsize)
{
    return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads the transitions and types of one data block. */
static int read_block(struct tz *z, const unsigned char *p, const struct tzif_hdr *h, size_t tsize)
{
    const unsigned char *tt = p, *ti = p + (size_t)h->timecnt * tsize;
    const unsigned char *ty = ti + h->timecnt;

    if (h->typecnt == 0)
        return -EINVAL;
    z->ntrans = h->timecnt;
    z->ntypes = h->typecnt;
    if (h->timecnt) {
        if (!(z->at = malloc(h->timecnt * sizeof(*z->at))) || !(z->idx = malloc(h->timecnt)))
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < h->timecnt; i++) {
        z->at[i] = tsize == 8 ? be64(tt + i * 8) : (int32_t)be32(tt + i * 4);
        z->idx[i] = ti[i];
        if (ti[i] >= h->typecnt || (i && z->at[i] <= z->at[i - 1]))
            return -EINVAL;
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        int32_t off = (int32_t)be32(ty + i * 6);
        if (off <= -TZ_OFF_MAX || off >= TZ_OFF_MAX || ty[i * 6 + 4] > 1)
            return -EINVAL;
        z->types[i].utoff = off;
        z->types[i].isdst = ty[i * 6 + 4];
    }
    return 0;
}

/* POSIX TZ string reading, bounded by `e`. */
struct tzs {
    const char *p, *e;
};

static int tzs_num(struct tzs *s, int maxdig, int *ret)
{
    int v = 0, n = 0;

    while (s->p < s->e && *s->p >= '0' && *s->p <= '9' && n < maxdig) {
        v = v * 10 + (*s->p++ - '0');
        n++;
    }
    if (n == 0)
        return -1;
    *ret = v;
    return 0;
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, '+', '-'. */
static int tzs_abbr(struct tzs *s)
{
    int n = 0;

    if (s->p < s->e && *s->p == '<') {
        s->p++;
        while (s->p < s->e && *s->p != '>') {
            char c = *s->p;
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-'))
                return -1;
            s->p++;
            n++;
        }
        if (s->p >= s->e)
            return -1;
        s->p++;
    } else {
        while (s->p < s->e && ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z'))) {
            s->p++;
            n++;
        }
    }
    return n >= 3 ? 0 : -1;
}

/* "[+-]h[h[h]][:mm[:ss]]" into seconds, at most `max_h` hours. */
static int tzs_hms(struct tzs *s, int max_h, int32_t *ret)
{
    int sign = 1, h, m = 0, sec = 0;

    if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
        sign = *s->p++ == '-' ? -1 : 1;
    if (tzs_num(s, 3, &h) < 0 || h > max_h)
        return -1;
    if (s->p < s->e && *s->p == ':') {
        s->p++;
        if (tzs_num(s, 2, &m) < 0 || m > 59)
            return -1;
        if (s->p < s->e && *s->p == ':') {
            s->p++;
            if (tzs_num(s, 2, &sec) < 0 || sec > 59)
                return -1;
        }
    }
    *ret = sign * (h * 3600 + m * 60 + sec);
    return 0;
}

static int tzs_date(struct tzs *s, struct tz_date *d)
{
    d->time_s = 2 * 3600;
    if (s->p < s->e && *s->p == 'J') {
        s->p++;
        d->kind = 'J';
        if (tzs_num(s, 3, &d->a) < 0 || d->a < 1 || d->a > 365)
            return -1;
    } else if (s->p < s->e && *s->p == 'M') {
        s->p++;
        d->kind = 'M';
        if (tzs_num(s, 2, &d->a) < 0 || d->a < 1 || d->a > 12 || s->p >= s->e || *s->p++ != '.' ||
            tzs_num(s, 1, &d->b) < 0 || d->b < 1 || d->b > 5 || s->p >= s->e || *s->p++ != '.' ||
            tzs_num(s, 1, &d->c) < 0 || d->c > 6)
            return -1;
    } else {
        d->kind = 'N';
        if (tzs_num(s, 3, &d->a) < 0 || d->a > 365)
            return -1;
    }
    if (s->p < s->e && *s->p == '/') {
        s->p++;
        if (tzs_hms(s, TZ_RULE_TIME_MAX / 3600, &d->time_s) < 0)
            return -1;
    }
    return 0;
}

/* Parses the footer's TZ string (without its newlines).  Empty: no rule. */
static int parse_rule(const char *p, size_t len, struct tz_rule *r)
{
    struct tzs s = {p, p + len};
    int32_t off;

    memset(r, 0, sizeof(*r));
    if (len == 0)
        return 0;
    /* POSIX offsets count hours west of UTC: "CET-1" is UTC+1. */
    if (tzs_abbr(&s) < 0 || tzs_hms(&s, 24, &off) < 0)
        return -EINVAL;
    r->present = 1;
    r->std_off = -off;
    if (s.p == s.e)
        return 0;
    if (tzs_abbr(&s) < 0)
        return -EINVAL;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (s.p < s.e && *s.p != ',') {
        if (tzs_hms(&s, 24, &off) < 0)
            return -EINVAL;
        r->dst_off = -off;
    }
    /* A DST name without a rule leaves the dates to the implementation;
     * zic never writes that, so neither do we guess. */
    if (s.p >= s.e || *s.p++ != ',' || tzs_date(&s, &r->start) < 0 || s.p >= s.e || *s.p++ != ',' ||
        tzs_date(&s, &r->end) < 0 || s.p != s.e)
        return -EINVAL;
    return 0;
}

int tz_parse_tzif(const unsigned char *data, size_t len, const char *name, struct tz **ret)
{
    struct tzif_hdr h;
    struct tz *z = NULL;
    size_t off, blen, tsize = 4;
    int r;

    if ((r = read_hdr(data, len, &h)) < 0)
        return r;
    blen = block_len(&h, 4);
    if (len - TZIF_HDR_LEN < blen)
        return -EINVAL;
    off = TZIF_HDR_LEN;
    if (h.version >= '2') {
        /* Version 2+: skip the 32-bit block, use the 64-bit one. */
        off += blen;
        if ((r = read_hdr(data + off, len - off, &h)) < 0)
            return r;
        off += TZIF_HDR_LEN;
        tsize = 8;
        blen = block_len(&h, 8);
        if (len - off < blen)
            return -EINVAL;
    } else if (h.version != 0) {
        return -EINVAL;
    }
    if (!(z = tz_alloc(name)))
        return -ENOMEM;
    if ((r = read_block(z, data + off, &h, tsize)) < 0)
        goto out;
    off += blen;
    if (tsize == 8) {
        const unsigned char *nl;
        /* The footer: "\n" TZ-string "\n". */
        if (off >= len || data[off] != '\n' ||
            !(nl = memchr(data + off + 1, '\n', len - off - 1)) ||
            (size_t)(nl - (data + off + 1)) > LIMIT_TZ_CHARS) {
            r = -EINVAL;
            goto out;
        }
        if ((r = parse_rule((const char *)data + off + 1, (size_t)(nl - (data + off + 1)),
                            &z->rule)) < 0)
            goto out;
    }
    *ret = z;
    return 0;
out:
    tz_free(z);
    return r;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (as if UTC) at which the rule date `d` falls in year `y`. */
static int64_t rule_local(const struct tz_date *d, int y)
{
    int64_t jan1 = time_from_civil(y, 1, 1, 0, 0, 0) / 86400, day;

    if (d->kind == 'J') {
        day = jan1 + d->a - 1 + (is_leap(y) && d->a >= 60);
    } else if (d->kind == 'N') {
        day = jan1 + d->a;
    } else {
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = time_from_civil(y, d->a, 1, 0, 0, 0) / 86400;
        int dim = mdays[d->a - 1] + (d->a == 2 && is_leap(y));
        /* 1970-01-01 was a Thursday (4). */
        int wday = (int)(((first + 4) % 7 + 7) % 7);
        int md = 1 + (d->c - wday + 7) % 7 + (d->b - 1) * 7;
        while (md > dim)
            md -= 7;
        day = first + md - 1;
    }
    return day * 86400 + d->time_s;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    int y, m, d;
    int64_t s, e;

    if (!r->has_dst)
        return r->std_off;
    time_civil_from_days((t + r->std_off) / 86400 - ((t + r->std_off) % 86400 < 0), &y, &m, &d);
    s = rule_local(&r->start, y) - r->std_off; /* the start is in standard time */
    e = rule_local(&r->end, y) - r->dst_off;   /* the end in daylight time */
    if (s < e)
        return t >= s && t < e ? r->dst_off : r->std_off;
    /* Southern hemisphere: daylight time spans the new year. */
    return t >= e && t < s ? r->std_off : r->dst_off;
}

int32_t tz_offset_at(const struct tz *tz, int64_t utc_s)
{
    uint32_t lo, hi;

    if (!tz)
        return 0;
    if (tz->fixed)
        return tz->fixed_off;
    if (tz->ntrans == 0)
        return tz->rule.present ? rule_offset(&tz->rule, utc_s) : tz->types[0].utoff;
    if (utc_s < tz->at[0])
        return tz->types[0].utoff;
    if (utc_s >= tz->at[tz->ntrans - 1] && tz->rule.present)
        return rule_offset(&tz->rule, utc_s);
    /* The last transition at or before utc_s. */
    lo = 0;
    hi = tz->ntrans;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return tz->types[tz->idx[lo]].utoff;
}

int64_t tz_local_to_utc(const struct tz *tz, int64_t local_s)
{
    int32_t before, after;
    int64_t u1, u2;
    int ok1, ok2;

    if (!tz)
        return local_s;
    if (tz->fixed)
        return local_s - tz->fixed_off;
    /* The offsets a day either side: a local time maps to UTC with one of
     * them (zones change at most once in two days). */
    before = tz_offset_at(tz, local_s - 86400);
    after = tz_offset_at(tz, local_s + 86400);
    u1 = local_s - before;
    u2 = local_s - after;
    ok1 = tz_offset_at(tz, u1) == before;
    ok2 = tz_offset_at(tz, u2) == after;
    if (ok1 && ok2)
        return u1 < u2 ? u1 : u2; /* overlap: the first occurrence */
    if (ok1)
        return u1;
    if (ok2)
        return u2;
    return u1; /* gap: the offset in force before it */
}
