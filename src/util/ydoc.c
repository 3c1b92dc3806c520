/*
 * ydoc.c - one YAML document helper: load, typed getters, a keyword walker
 * and the FILE:LINE:COL error form (ydoc.h).
 *
 * libyaml does the parsing; this file only reads the tree it built.  Every
 * getter checks the node's type itself, so a handler never needs to know
 * whether libyaml gave it a scalar, a list or nothing at all.
 */
#include "util/ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/readfile.h"

/* The longest formatted message; one per thread (see ydoc.h). */
#define YDOC_MSG_MAX 320

/* Longest text read as a number: more digits than any double needs. */
#define YDOC_NUM_MAX 64

/* 100 years in seconds: the longest duration ydoc_parse_duration takes. */
#define YDOC_DUR_MAX_S (INT64_C(100) * 366 * 86400)

#define US_PER_S INT64_C(1000000)

static _Thread_local char ydoc_msg[YDOC_MSG_MAX];

/*
 * The next document of `yp` into d->doc: 0 (d->loaded set), -ENOMEM, or
 * -EINVAL with libyaml's problem recorded where it stopped (its problem and
 * context words also in *ret_problem and *ret_context).
 */
static int load_next(yaml_parser_t *yp, struct ydoc *d, const char **ret_problem,
                     const char **ret_context)
{
    if (yaml_parser_load(yp, &d->doc)) {
        d->loaded = 1;
        return 0;
    }
    if (yp->error == YAML_MEMORY_ERROR)
        return -ENOMEM;
    *ret_problem = yp->problem;
    *ret_context = yp->context;
    /* libyaml's problem strings are static literals. */
    ydoc_fail_at(d, (unsigned)yp->problem_mark.line + 1, (unsigned)yp->problem_mark.column + 1,
                 yp->problem ? yp->problem : "YAML syntax error");
    if (d->err)
        d->err->off = yp->problem_mark.index;
    return -EINVAL;
}

int ydoc_load(struct ydoc *d, const char *text, size_t len, struct parse_err *reterr)
{
    yaml_parser_t yp;
    const char *problem = NULL, *context = NULL;
    int r;

    memset(d, 0, sizeof(*d));
    d->err = reterr;
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (!yaml_parser_initialize(&yp))
        return -ENOMEM;
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    r = load_next(&yp, d, &problem, &context);
    yaml_parser_delete(&yp);
    return r;
}

int ydoc_load_file(struct ydoc *d, const char *path, size_t max, struct parse_err *reterr)
{
    char *text;
    size_t len;
    int r;

    memset(d, 0, sizeof(*d));
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if ((r = readfile_all(path, max, &text, &len)) < 0)
        return r;
    r = ydoc_load(d, text, len, reterr);
    free(text);
    return r;
}

void ydoc_done(struct ydoc *d)
{
    if (d && d->loaded)
        yaml_document_delete(&d->doc);
    if (d)
        d->loaded = 0;
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
    yaml_node_t *root = d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;

    if (root && root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
        return NULL;
    return root;
}

yaml_node_t *ydoc_top(struct ydoc *d)
{
    return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

/* ---- a stream of documents ---- */

int ydoc_stream_open(struct ydoc_stream *s, const char *text, size_t len, struct parse_err *reterr)
{
    memset(s, 0, sizeof(*s));
    s->err = reterr;
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (!yaml_parser_initialize(&s->parser))
        return -ENOMEM;
    s->open = 1;
    yaml_parser_set_input_string(&s->parser, (const unsigned char *)text, len);
    return 0;
}

int ydoc_stream_next(struct ydoc_stream *s, struct ydoc *d)
{
    int r;

    memset(d, 0, sizeof(*d));
    d->err = s->err;
    if (!s->open)
        return -EINVAL;
    if (s->over)
        return s->rc;
    r = load_next(&s->parser, d, &s->problem, &s->context);
    if (r < 0) {
        s->over = 1;
        s->rc = r;
        return r;
    }
    /* libyaml ends the stream with a document without nodes; every real
     * document, even a bare `---`, has a root. */
    if (!ydoc_top(d)) {
        ydoc_done(d);
        s->over = 1;
        return 0;
    }
    return 1;
}

void ydoc_stream_done(struct ydoc_stream *s)
{
    if (s && s->open)
        yaml_parser_delete(&s->parser);
    if (s)
        s->open = 0;
}

/* ---- errors ---- */

int ydoc_fail_at(struct ydoc *d, unsigned line, unsigned col, const char *msg)
{
    if (d->err && !d->err->msg) {
        d->err->line = line;
        d->err->col = col;
        d->err->off = 0;
        d->err->msg = msg;
    }
    return -EINVAL;
}

int ydoc_fail(struct ydoc *d, const yaml_node_t *n, const char *msg)
{
    if (d->err && !d->err->msg) {
        d->err->line = n ? (unsigned)n->start_mark.line + 1 : 0;
        d->err->col = n ? (unsigned)n->start_mark.column + 1 : 0;
        d->err->off = n ? n->start_mark.index : 0;
        d->err->msg = msg;
    }
    return -EINVAL;
}

int ydoc_failf(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    int off = 0;

    /* The buffer may hold the recorded message: never write it twice. */
    if (!d->err || d->err->msg)
        return -EINVAL;
    if (d->key)
        off = snprintf(ydoc_msg, sizeof(ydoc_msg), "%.64s: ", d->key);
    va_start(ap, fmt);
    vsnprintf(ydoc_msg + off, sizeof(ydoc_msg) - (size_t)off, fmt, ap);
    va_end(ap);
    return ydoc_fail(d, n, ydoc_msg);
}

int ydoc_err_format(char *buf, size_t size, const char *file, const struct parse_err *e)
{
    const char *msg = e && e->msg ? e->msg : "invalid";

    if (!file)
        file = "-";
    if (e && e->line)
        return snprintf(buf, size, "%s:%u:%u: %s", file, e->line, e->col, msg);
    return snprintf(buf, size, "%s: %s", file, msg);
}

unsigned ydoc_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

/* ---- nodes ---- */

yaml_node_t *ydoc_node(struct ydoc *d, int i)
{
    return d->loaded ? yaml_document_get_node(&d->doc, i) : NULL;
}

const char *ydoc_scalar(const yaml_node_t *n, size_t *ret_len)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (ret_len)
        *ret_len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

int ydoc_scalar_is(const yaml_node_t *n, const char *s)
{
    size_t len, l = strlen(s);
    const char *v = ydoc_scalar(n, &len);

    return v && len == l && memcmp(v, s, l) == 0;
}

int ydoc_plain(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

size_t ydoc_len(const yaml_node_t *n)
{
    if (n && n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (n && n->type == YAML_MAPPING_NODE)
        return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    return 0;
}

int ydoc_pair_at(struct ydoc *d, const yaml_node_t *map, size_t i, yaml_node_t **ret_k,
                 yaml_node_t **ret_v)
{
    const yaml_node_pair_t *p;

    *ret_k = *ret_v = NULL;
    if (!map || map->type != YAML_MAPPING_NODE || i >= ydoc_len(map))
        return -ENOENT;
    p = &map->data.mapping.pairs.start[i];
    *ret_k = ydoc_node(d, p->key);
    *ret_v = ydoc_node(d, p->value);
    return 0;
}

yaml_node_t *ydoc_get(struct ydoc *d, const yaml_node_t *map, const char *key)
{
    yaml_node_t *k, *v;

    for (size_t i = 0; ydoc_pair_at(d, map, i, &k, &v) == 0; i++)
        if (ydoc_scalar_is(k, key))
            return v;
    return NULL;
}

int ydoc_list(struct ydoc *d, const yaml_node_t *n, int scalar_ok, size_t max, size_t *ret_n)
{
    size_t cnt;

    *ret_n = 0;
    if (n && n->type == YAML_SCALAR_NODE && scalar_ok)
        cnt = 1;
    else if (n && n->type == YAML_SEQUENCE_NODE)
        cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    else
        return ydoc_failf(d, n, "expected a list");
    if (cnt > max)
        return ydoc_failf(d, n, "at most %zu items", max);
    *ret_n = cnt;
    return 0;
}

yaml_node_t *ydoc_list_at(struct ydoc *d, yaml_node_t *n, size_t i)
{
    if (!n)
        return NULL;
    if (n->type == YAML_SCALAR_NODE)
        return i == 0 ? n : NULL;
    if (n->type != YAML_SEQUENCE_NODE ||
        i >= (size_t)(n->data.sequence.items.top - n->data.sequence.items.start))
        return NULL;
    return ydoc_node(d, n->data.sequence.items.start[i]);
}

/* ---- typed getters ---- */

int ydoc_str(struct ydoc *d, const yaml_node_t *n, const char **ret, size_t *ret_len)
{
    size_t len = 0;
    const char *s = ydoc_scalar(n, &len);

    *ret = "";
    *ret_len = 0;
    if (!s)
        return ydoc_failf(d, n, "expected a string (a scalar), not a list or a mapping");
    /* C strings would silently cut the value there. */
    if (memchr(s, '\0', len))
        return ydoc_failf(d, n, "the value contains a NUL byte");
    *ret = s;
    *ret_len = len;
    return 0;
}

int ydoc_strdup(struct ydoc *d, const yaml_node_t *n, size_t min_len, size_t max_len, char **dst)
{
    const char *s;
    size_t len;
    char *copy;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    if (len < min_len)
        return ydoc_failf(d, n, len == 0 ? "must not be empty" : "shorter than %zu bytes", min_len);
    if (max_len && len > max_len)
        return ydoc_failf(d, n, "longer than %zu bytes", max_len);
    if (!(copy = strndup(s, len)))
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

int ydoc_strlist(struct ydoc *d, yaml_node_t *n, size_t max_items, size_t min_len, size_t max_len,
                 char ***arr, size_t *narr)
{
    size_t cnt;
    char **v;
    int r;

    if ((r = ydoc_list(d, n, 1, max_items, &cnt)) < 0)
        return r;
    if (cnt == 0)
        return 0;
    if (cnt > SIZE_MAX / sizeof(char *) - *narr ||
        !(v = realloc(*arr, (*narr + cnt) * sizeof(char *))))
        return -ENOMEM;
    *arr = v;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = ydoc_list_at(d, n, i);

        v[*narr] = NULL;
        if ((r = ydoc_strdup(d, it ? it : n, min_len, max_len, &v[*narr])) < 0)
            return r;
        (*narr)++;
    }
    return 0;
}

int ydoc_bool(struct ydoc *d, const yaml_node_t *n, const char *why, int *ret)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};

    for (size_t i = 0; i < 3; i++) {
        if (ydoc_scalar_is(n, yes[i])) {
            *ret = 1;
            return 0;
        }
        if (ydoc_scalar_is(n, no[i])) {
            *ret = 0;
            return 0;
        }
    }
    return why ? ydoc_fail(d, n, why) : ydoc_failf(d, n, "expected true or false");
}

/* Digits of s[0..len) into *ret; -ERANGE past UINT64_MAX, -EINVAL else. */
static int digits(const char *s, size_t len, uint64_t *ret)
{
    uint64_t v = 0;

    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *ret = v;
    return 0;
}

/* The shared tail of ydoc_uint and ydoc_bytes. */
static int uint_common(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi,
                       const char *range_why, int suffix, uint64_t *ret)
{
    const char *s;
    size_t len;
    uint64_t v = 0, mul = 1;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    if (suffix && len > 1 && (s[len - 1] == 'k' || s[len - 1] == 'K')) {
        mul = 1024;
        len--;
    } else if (suffix && len > 1 && (s[len - 1] == 'm' || s[len - 1] == 'M')) {
        mul = 1024 * 1024;
        len--;
    }
    r = digits(s, len, &v);
    if (r == -EINVAL)
        return ydoc_failf(d, n, "expected a whole number (a non-negative integer)");
    if (r == 0 && v > UINT64_MAX / mul)
        r = -ERANGE;
    v *= mul;
    if (r < 0 || v < lo || v > hi) {
        if (range_why)
            return ydoc_fail(d, n, range_why);
        return ydoc_failf(d, n, "out of range (%llu to %llu)", (unsigned long long)lo,
                          (unsigned long long)hi);
    }
    *ret = v;
    return 0;
}

int ydoc_uint(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi, const char *range_why,
              uint64_t *ret)
{
    return uint_common(d, n, lo, hi, range_why, 0, ret);
}

int ydoc_bytes(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi,
               const char *range_why, uint64_t *ret)
{
    return uint_common(d, n, lo, hi, range_why, 1, ret);
}

int ydoc_int(struct ydoc *d, const yaml_node_t *n, int64_t lo, int64_t hi, const char *range_why,
             int64_t *ret)
{
    const char *s;
    size_t len;
    uint64_t mag = 0;
    int64_t v;
    int r, neg;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    neg = len > 0 && s[0] == '-';
    r = digits(s + neg, len - (size_t)neg, &mag);
    if (r == -EINVAL)
        return ydoc_failf(d, n, "expected a whole number");
    if (r == 0 && mag > (uint64_t)INT64_MAX + (uint64_t)neg)
        r = -ERANGE;
    /* -INT64_MIN does not fit: negate through the unsigned magnitude. */
    v = r < 0 ? 0 : neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (r < 0 || v < lo || v > hi) {
        if (range_why)
            return ydoc_fail(d, n, range_why);
        return ydoc_failf(d, n, "out of range (%lld to %lld)", (long long)lo, (long long)hi);
    }
    *ret = v;
    return 0;
}

int ydoc_double(struct ydoc *d, const yaml_node_t *n, double lo, double hi, const char *range_why,
                double *ret)
{
    char buf[YDOC_NUM_MAX], *end;
    const char *s;
    size_t len;
    double v;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    if (len == 0 || len >= sizeof(buf))
        return ydoc_failf(d, n, "expected a number");
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = strtod(buf, &end);
    if (*end || end == buf || !isfinite(v))
        return ydoc_failf(d, n, "expected a number");
    if (!(v >= lo && v <= hi)) {
        if (range_why)
            return ydoc_fail(d, n, range_why);
        return ydoc_failf(d, n, "number out of range (%g to %g)", lo, hi);
    }
    *ret = v;
    return 0;
}

int ydoc_parse_duration(const char *s, size_t len, int flags, int64_t *ret_s)
{
    int64_t v = 0, unit;
    size_t i = 0;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (v > YDOC_DUR_MAX_S)
            return -ERANGE;
        v = v * 10 + (s[i++] - '0');
    }
    if (i == 0)
        return -EINVAL;
    if (i == len) {
        if (!(flags & YDOC_DUR_BARE))
            return -EINVAL;
        unit = 1;
    } else if (i + 1 == len) {
        switch (s[i]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return (s[i] >= '0' && s[i] <= '9') ? -EINVAL : -EDOM;
        }
    } else {
        return -EINVAL;
    }
    if (v > YDOC_DUR_MAX_S / unit)
        return -ERANGE;
    *ret_s = v * unit;
    return 0;
}

int ydoc_duration(struct ydoc *d, const yaml_node_t *n, int flags, int64_t *ret_us)
{
    const char *s;
    size_t len;
    int64_t v = 0;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    r = ydoc_parse_duration(s, len, flags, &v);
    if (r == -EDOM)
        return ydoc_failf(d, n, "duration unit is not s, m, h or d");
    if (r == -EINVAL)
        return ydoc_failf(d, n, "expected a duration such as 30s, 10m, 6h or 1d");
    if (r < 0 || v <= 0 || v > 366 * 86400)
        return ydoc_failf(d, n, "duration must be positive and at most a year");
    *ret_us = v * US_PER_S;
    return 0;
}

int ydoc_name(struct ydoc *d, const yaml_node_t *n, const char *const *names, size_t count,
              int icase, const char *why, int *ret)
{
    char list[256];
    size_t len, off = 0;
    const char *s = ydoc_scalar(n, &len);

    for (size_t i = 0; s && i < count; i++) {
        if (strlen(names[i]) == len &&
            (icase ? strncasecmp(s, names[i], len) : memcmp(s, names[i], len)) == 0) {
            *ret = (int)i;
            return 0;
        }
    }
    if (why)
        return ydoc_fail(d, n, why);
    list[0] = '\0';
    for (size_t i = 0; i < count && off < sizeof(list); i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
                                i == 0           ? ""
                                : i + 1 == count ? " or "
                                                 : ", ",
                                names[i]);
    return ydoc_failf(d, n, "expected %s", list);
}

/* ---- mappings ---- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, ((const struct ydoc_key *)b)->name);
}

int ydoc_walk(struct ydoc *d, yaml_node_t *map, const struct ydoc_table *t, void *arg)
{
    const char *outer = d->key;
    int r = 0;

    if (!map || map->type != YAML_MAPPING_NODE)
        return t->not_map ? ydoc_fail(d, map, t->not_map)
                          : ydoc_failf(d, map, "expected a mapping");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ydoc_node(d, p->key);
        yaml_node_t *v = ydoc_node(d, p->value);
        const char *key = NULL;
        const struct ydoc_key *hit;
        size_t klen = 0;

        if (k)
            key = ydoc_scalar(k, &klen);
        /* A key with a NUL would match a keyword by its prefix. */
        if (!key || !v || memchr(key, '\0', klen)) {
            r = ydoc_fail(d, k ? k : map, "expected a key (a plain name)");
            break;
        }
        hit = bsearch(key, t->keys, t->n, sizeof(*t->keys), key_cmp);
        d->key = key;
        if (!hit) {
            r = t->unknown ? ydoc_fail(d, k, t->unknown) : ydoc_failf(d, k, "unknown key");
            break;
        }
        /* Only keywords reach here, so this loop ends within t->n pairs. */
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            if (ydoc_scalar_is(ydoc_node(d, q->key), key)) {
                r = ydoc_failf(d, k, "duplicate key");
                break;
            }
        }
        if (r < 0 || (r = hit->fn(d, k, v, arg)) < 0)
            break;
        d->key = outer;
    }
    d->key = outer;
    return r;
}

int ydoc_pairs(struct ydoc *d, yaml_node_t *map, ydoc_key_fn fn, void *arg)
{
    const char *outer = d->key;
    int r = 0;

    if (!map || map->type != YAML_MAPPING_NODE)
        return ydoc_failf(d, map, "expected a mapping");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ydoc_node(d, p->key);
        yaml_node_t *v = ydoc_node(d, p->value);
        const char *key = NULL;
        size_t klen = 0;

        if (k)
            key = ydoc_scalar(k, &klen);
        if (!key || !v || memchr(key, '\0', klen)) {
            r = ydoc_fail(d, k ? k : map, "expected a key (a plain name)");
            break;
        }
        d->key = key;
        if ((r = fn(d, k, v, arg)) < 0)
            break;
        d->key = outer;
    }
    d->key = outer;
    return r;
}
