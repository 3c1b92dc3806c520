/*
 * decode_zeek_tsv.c - Zeek's default tab-separated logs, row by row with
 * the header their file gave (see decode_zeek_tsv.h).
 *
 * Why state in a decoder: Zeek writes the column names once, at the top
 * of each file, and the columns differ per log and per Zeek version and
 * site (scripts add columns), so no fixed layout can be assumed.  The
 * header is kept in the stream's struct decode_stream, which the pipeline
 * keeps per file; nothing else is remembered between records.
 *
 * Every row is read in one pass: split at the separator, each column
 * checked against #unset_field / #empty_field, split at #set_separator
 * when it is a set or vector, unescaped only when it holds a backslash,
 * and added as a view into the record otherwise.
 */
#include "decode/decode_zeek_tsv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decode/decode_zeek.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "util/arena.h"
#include "util/hex.h"

enum zeek_tsv_type {
    ZT_STRING, /* string, enum, addr, port, count, double, ...: as written */
    ZT_TIME,   /* epoch seconds */
    ZT_BOOL,   /* T / F */
    ZT_SET,    /* set[...] or vector[...]: elements at set_sep */
    ZT_SET_BOOL,
};

static void header_init(struct decode_zeek_tsv_header *h)
{
    memset(h, 0, sizeof(*h));
    h->sep = '\t';
    h->set_sep = ',';
    memcpy(h->empty, "(empty)", 7);
    h->empty_n = 7;
    h->unset[0] = '-';
    h->unset_n = 1;
    h->ts_col = LIMIT_ZEEK_COLUMNS;
}

struct decode_stream *decode_stream_new(void)
{
    struct decode_stream *s = malloc(sizeof(*s));

    if (s) {
        header_init(&s->zeek);
        s->auditd = NULL;
    }
    return s;
}

void decode_stream_free(struct decode_stream *s)
{
    if (s)
        free(s->auditd);
    free(s);
}

int decode_zeek_tsv_claims(const struct decode_ctx *ctx, const char *p, size_t len)
{
    if (len >= 11 && memcmp(p, "#separator ", 11) == 0)
        return 1;
    if (!ctx || !ctx->stream)
        return 0;
    return ctx->stream->zeek.fields_known || (ctx->stream->zeek.opened && len && p[0] == '#');
}

static int fail(struct parse_err *reterr, size_t off, const char *msg)
{
    parse_err_set(reterr, off, msg);
    return -EINVAL;
}

static int add(struct event *ev, uint32_t id, const char *v, size_t n)
{
    int r = event_add(ev, id, v, n);

    return r == -ENOMEM ? r : 0; /* a field refused at a cap is counted */
}

/* A control byte that Zeek's JSON writer writes as the text "\xHH" (it
 * writes \b \t \n \f \r as JSON escapes, that is as the bytes). */
static int json_keeps_escaped(unsigned c)
{
    return (c < 0x20 && c != '\b' && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7f;
}

/* Zeek's escapes: "\xHH" for a byte (separators, non-printables) and "\\"
 * for a backslash; anything else stays as written.  With `values`, a
 * control byte that Zeek's JSON writer leaves escaped stays "\xHH" here
 * too, so that both forms give the same text (and no NUL reaches a field).
 * Writes at most n bytes to d (an escape is never shorter than what it
 * stands for); returns the length written. */
static size_t unescape(const char *s, size_t n, char *d, int values)
{
    size_t i = 0, o = 0;

    while (i < n) {
        int hi, lo;

        if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
            d[o++] = '\\';
            i += 2;
        } else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
                   (hi = hex_value(s[i + 2])) >= 0 && (lo = hex_value(s[i + 3])) >= 0) {
            unsigned c = (unsigned)(hi * 16 + lo);

            if (values && json_keeps_escaped(c)) {
                memcpy(d + o, s + i, 4);
                o += 4;
            } else {
                d[o++] = (char)c;
            }
            i += 4;
        } else {
            d[o++] = s[i++];
        }
    }
    return o;
}

/* Adds one value of column `id`: a view when it has no escape (`bs`: 0
 * when the row's split saw no backslash in the row, so none in v). */
__attribute__((always_inline)) static inline int
add_value(struct event *ev, uint32_t id, const char *v, size_t n, int is_bool, int bs)
{
    char *d;

    if (is_bool && n == 1 && (v[0] == 'T' || v[0] == 'F'))
        return v[0] == 'T' ? add(ev, id, "true", 4) : add(ev, id, "false", 5);
    if (!bs || !memchr(v, '\\', n))
        return add(ev, id, v, n);
    if (!(d = arena_alloc(ev->arena, n)))
        return -ENOMEM;
    return add(ev, id, d, unescape(v, n, d, 1));
}

static int is(const char *v, size_t n, const char *w, size_t wn)
{
    /* the first byte here: most values are not "-" or "(empty)" */
    return n == wn && (n == 0 || (v[0] == w[0] && memcmp(v + 1, w + 1, n - 1) == 0));
}

/*
 * The ts column's time: 0 and *ret_us when all of (v, n) is an epoch time
 * as time_parse_epoch() reads one.  Zeek writes "%.6f", ten digits, a
 * point and six until the year 2286: that form is read here directly (the
 * same value: seconds, below 10^11, times 10^6 plus the microseconds);
 * time_parse_epoch's general reading cost 390 instructions a row (issue
 * 24).
 */
static int epoch_us(const char *v, size_t n, int64_t *ret_us)
{
    size_t used;

    if (n == 17 && v[10] == '.') {
        int64_t s = 0, f = 0;
        int ok = 1;

        for (int k = 0; k < 10; k++) {
            ok &= v[k] >= '0' && v[k] <= '9';
            s = s * 10 + (v[k] - '0');
        }
        for (int k = 11; k < 17; k++) {
            ok &= v[k] >= '0' && v[k] <= '9';
            f = f * 10 + (v[k] - '0');
        }
        if (ok) {
            *ret_us = s * 1000000 + f;
            return 0;
        }
    }
    if (time_parse_epoch(v, n, ret_us, &used) < 0 || used != n)
        return -EINVAL;
    return 0;
}

/* Adds column c, (v, n) of the row; bs as add_value()'s. */
static int add_column(struct event *ev, const struct decode_zeek_tsv_header *h, uint32_t c,
                      const char *v, size_t n, int bs)
{
    uint32_t id = h->col_id[c];
    int type = h->col_type[c], r;
    int64_t us;

    if (is(v, n, h->unset, h->unset_n))
        return 0;
    if (is(v, n, h->empty, h->empty_n))
        return type == ZT_SET || type == ZT_SET_BOOL ? 0 : add(ev, id, v, 0);
    if (type == ZT_SET || type == ZT_SET_BOOL) {
        for (;;) {
            const char *e = memchr(v, h->set_sep, n);
            size_t k = e ? (size_t)(e - v) : n;

            if (!is(v, k, h->unset, h->unset_n) &&
                (r = add_value(ev, id, v, k, type == ZT_SET_BOOL, bs)) < 0)
                return r;
            if (!e)
                return 0;
            v += k + 1;
            n -= k + 1;
        }
    }
    if ((r = add_value(ev, id, v, n, type == ZT_BOOL, bs)) < 0)
        return r;
    if (c == h->ts_col && epoch_us(v, n, &us) == 0)
        return event_set_time(ev, us, v, n) == -ENOMEM ? -ENOMEM : 0;
    return 0;
}

/*
 * The separators (*ret_s) and backslashes (*ret_b) among the 64 bytes at
 * p + b, one bit a byte (bit k: p[b + k]).  The last bytes of a row are
 * copied into a zeroed buffer first: nothing at or past len is read, and
 * no bit is set there (a NUL separator is looked for in the row only).
 */
static inline void chunk_bits(const char *p, size_t b, size_t len, char sep, uint64_t *ret_s,
                              uint64_t *ret_b)
{
    char t[64];
    const char *q = p + b;
    uint64_t sm = 0, bm = 0, valid = ~0ull;

    if (b + 64 > len) {
        memset(t, 0, sizeof(t));
        memcpy(t, q, len - b);
        q = t;
        valid = (1ull << (len - b)) - 1; /* len - b < 64 */
    }
#ifdef __SSE2__
    for (unsigned k = 0; k < 64; k += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + k));
        sm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(sep))) << k;
        bm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))) << k;
    }
#else
    for (unsigned k = 0; k < 64; k++) {
        sm |= (uint64_t)(q[k] == sep) << k;
        bm |= (uint64_t)(q[k] == '\\') << k;
    }
#endif
    *ret_s = sm & valid;
    *ret_b = bm & valid;
}

/*
 * A row: split at the separator, then each column added.  A DNS row has 24
 * columns of a few bytes: a memchr for each column's end and another for
 * a backslash in it were a fifth of a row's instructions (issue 24).  The
 * separators and backslashes of 64 bytes are found at once instead (for
 * the chunk at `cb`, `sm`: the separators not yet passed), the column ends
 * noted first in a loop of its own (adding fields in the same loop kept
 * too many values live for the registers), and a value looked at for a
 * backslash only in a row that holds one.
 */
static int decode_row(struct event *ev, const struct decode_zeek_tsv_header *h, const char *p,
                      size_t len, struct parse_err *reterr)
{
    size_t end[LIMIT_ZEEK_COLUMNS], st = 0, cb = 0, extra = SIZE_MAX;
    uint64_t sm, bm, bs;
    uint32_t c, n = 0, ncols = h->ncols;
    int r;

    chunk_bits(p, 0, len, h->sep, &sm, &bm);
    bs = bm;
    for (;;) {
        while (!sm && cb + 64 < len) {
            cb += 64;
            chunk_bits(p, cb, len, h->sep, &sm, &bm);
            bs |= bm;
        }
        if (n == ncols) { /* a column the header does not name starts at st */
            extra = st;
            break;
        }
        if (!sm) { /* no separator left: the last column */
            end[n++] = len;
            break;
        }
        end[n] = cb + (size_t)__builtin_ctzll(sm);
        sm &= sm - 1;
        st = end[n++] + 1;
    }
    for (c = 0, st = 0; c < n; st = end[c++] + 1) {
        if ((r = add_column(ev, h, c, p + st, end[c] - st, bs != 0)) < 0)
            return r;
    }
    if (extra != SIZE_MAX)
        return fail(reterr, extra, "more columns than the #fields header names");
    if (n != ncols)
        return fail(reterr, len, "fewer columns than the #fields header names");
    if ((r = decode_zeek_ecs(ev, h->path_n ? h->path : NULL, h->path_n)) < 0)
        return r;
    ev->decoder = "zeek-tsv";
    return 0;
}

/* A header value of at most `cap` bytes once unescaped, into d; returns its
 * length, or -1 when it is longer. */
static int header_value(const char *v, size_t n, char *d, size_t cap)
{
    char tmp[256];
    size_t k;

    if (n > sizeof(tmp))
        return -1;
    k = unescape(v, n, tmp, 0);
    if (k > cap)
        return -1;
    memcpy(d, tmp, k);
    return (int)k;
}

static int header_fields(struct decode_zeek_tsv_header *h, const char *p, size_t len, size_t i,
                         struct parse_err *reterr)
{
    uint32_t c = 0;

    h->fields_known = 0;
    h->ncols = 0;
    for (;;) {
        const char *e = memchr(p + i, h->sep, len - i);
        size_t k = e ? (size_t)(e - (p + i)) : len - i;

        if (c >= LIMIT_ZEEK_COLUMNS)
            return fail(reterr, i, "more #fields columns than hikeshi keeps");
        if (k == 0 || k > LIMIT_FIELD_NAME_LEN)
            return fail(reterr, i, "empty or too long a column name in #fields");
        h->col_id[c] = field_intern(p + i, k);
        h->col_type[c] = ZT_STRING;
        if (k == 2 && memcmp(p + i, "ts", 2) == 0 && h->ts_col == LIMIT_ZEEK_COLUMNS)
            h->ts_col = c;
        h->ncols = ++c;
        if (!e)
            break;
        i += k + 1;
    }
    h->fields_known = 1;
    return 0;
}

static int header_types(struct decode_zeek_tsv_header *h, const char *p, size_t len, size_t i,
                        struct parse_err *reterr)
{
    uint32_t c = 0;

    if (!h->fields_known)
        return 0; /* types before names: nothing to type yet */
    for (;;) {
        const char *e = memchr(p + i, h->sep, len - i);
        size_t k = e ? (size_t)(e - (p + i)) : len - i;
        const char *t = p + i;
        int type = ZT_STRING;

        if (c >= h->ncols)
            return fail(reterr, i, "#types names more columns than #fields");
        if (is(t, k, "time", 4))
            type = ZT_TIME;
        else if (is(t, k, "bool", 4))
            type = ZT_BOOL;
        else if ((k > 4 && memcmp(t, "set[", 4) == 0) || (k > 7 && memcmp(t, "vector[", 7) == 0))
            type = k >= 5 && memcmp(t + k - 5, "bool]", 5) == 0 ? ZT_SET_BOOL : ZT_SET;
        h->col_type[c] = (uint8_t)type;
        if (c == h->ts_col && type != ZT_TIME)
            h->ts_col = LIMIT_ZEEK_COLUMNS;
        c++;
        if (!e)
            break;
        i += k + 1;
    }
    if (c != h->ncols)
        return fail(reterr, len, "#types names fewer columns than #fields");
    return 0;
}

static int valid_path(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
              (s[k] >= '0' && s[k] <= '9') || s[k] == '_' || s[k] == '-'))
            return 0;
    return n > 0;
}

/* One header line: p[0] == '#'. */
static int decode_header(struct event *ev, struct decode_zeek_tsv_header *h, const char *p,
                         size_t len, struct parse_err *reterr)
{
    const char *name = p + 1, *e;
    size_t nn, v;
    char b[1];
    int r = 0, k;

    if (len >= 11 && memcmp(p, "#separator ", 11) == 0) {
        /* Zeek writes this one with a space: the separator is unknown yet. */
        if (header_value(p + 11, len - 11, b, 1) != 1)
            return fail(reterr, 11, "#separator is not one byte");
        header_init(h);
        h->sep = b[0];
        h->opened = 1;
        nn = 9;
    } else {
        e = memchr(name, h->sep, len - 1);
        nn = e ? (size_t)(e - name) : len - 1;
        v = e ? nn + 2 : len;
        if (is(name, nn, "set_separator", 13)) {
            if (header_value(p + v, len - v, b, 1) != 1)
                return fail(reterr, v, "#set_separator is not one byte");
            h->set_sep = b[0];
        } else if (is(name, nn, "empty_field", 11)) {
            if ((k = header_value(p + v, len - v, h->empty, sizeof(h->empty))) < 0)
                return fail(reterr, v, "#empty_field too long");
            h->empty_n = (uint8_t)k;
        } else if (is(name, nn, "unset_field", 11)) {
            if ((k = header_value(p + v, len - v, h->unset, sizeof(h->unset))) < 0)
                return fail(reterr, v, "#unset_field too long");
            h->unset_n = (uint8_t)k;
        } else if (is(name, nn, "path", 4)) {
            if (len - v > sizeof(h->path) || !valid_path(p + v, len - v))
                return fail(reterr, v, "#path is not a log name");
            memcpy(h->path, p + v, len - v);
            h->path_n = (uint8_t)(len - v);
        } else if (is(name, nn, "fields", 6)) {
            h->ts_col = LIMIT_ZEEK_COLUMNS;
            r = header_fields(h, p, len, v, reterr);
        } else if (is(name, nn, "types", 5)) {
            r = header_types(h, p, len, v, reterr);
        }
        if (r < 0)
            return r;
    }
    if (h->path_n) {
        char *ds = arena_alloc(ev->arena, (size_t)h->path_n + 5);

        if (!ds)
            return -ENOMEM;
        memcpy(ds, "zeek.", 5);
        memcpy(ds + 5, h->path, h->path_n);
        if ((r = add(ev, FIELD_EVENT_DATASET, ds, (size_t)h->path_n + 5)) < 0)
            return r;
    }
    if ((r = event_add_named(ev, "zeek.header", 11, name, nn)) == -ENOMEM)
        return r;
    ev->decoder = "zeek-tsv";
    return 0;
}

int decode_zeek_tsv(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr)
{
    struct decode_stream *s = ctx ? ctx->stream : NULL;
    struct decode_zeek_tsv_header tmp;

    if (len == 0)
        return -ENOENT;
    if (p[0] == '#') {
        if (!s) {
            /* no stream to keep it in: checked, then forgotten */
            header_init(&tmp);
            return decode_header(ev, &tmp, p, len, reterr);
        }
        return decode_header(ev, &s->zeek, p, len, reterr);
    }
    if (!s || !s->zeek.fields_known)
        return -ENOENT;
    return decode_row(ev, &s->zeek, p, len, reterr);
}
