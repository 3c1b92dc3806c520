/*
 * sigma_eval.c - the plain reference evaluator.
 *
 * Walks the rule as loaded, value by value, with no index and no shortcut
 * beyond boolean short-circuiting: it exists to be obviously right, so that
 * the compiled matcher can be tested against it.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "util/utf8.h"

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The length of the character at s[0..n), n >= 1: a well-formed UTF-8
 * sequence, else one byte (so `?` steps over a stray byte as one). */
static size_t char_len(const unsigned char *s, size_t n)
{
    size_t k = utf8_seq(s, n, NULL);

    return k ? k : 1;
}

/*
 * Whole-string match of pattern `p` against `s`.  The classic greedy
 * algorithm with one backtrack point, which is exact for `*`: on a
 * mismatch the last `*` absorbs one more character.
 */
static int pattern_match(const struct sigma_pattern *p, const unsigned char *s, size_t n, int cased)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < n) {
        if (pi < p->len && p->kind[pi] == SIGMA_TOK_STAR) {
            star_p = pi++;
            star_s = si;
            continue;
        }
        if (pi < p->len && p->kind[pi] == SIGMA_TOK_ONE) {
            pi++;
            si += char_len(s + si, n - si);
            continue;
        }
        if (pi < p->len && (cased ? p->bytes[pi] == s[si] : fold(p->bytes[pi]) == fold(s[si]))) {
            pi++;
            si++;
            continue;
        }
        if (star_p == (size_t)-1)
            return 0;
        pi = star_p + 1;
        star_s += char_len(s + star_s, n - star_s);
        si = star_s;
    }
    while (pi < p->len && p->kind[pi] == SIGMA_TOK_STAR)
        pi++;
    return pi == p->len;
}

static int text_eq(const char *a, size_t an, const char *b, size_t bn, int cased)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (cased ? x != y : fold(x) != fold(y))
            return 0;
    }
    return 1;
}

/* Parses the whole of `s` as a decimal number (surrounding blanks allowed). */
static int parse_number(const char *s, size_t n, double *ret)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || errno == ERANGE || !isfinite(v))
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return 0;
    /* strtod also reads hex, "inf" and "nan": accept plain decimals only. */
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 'x' || buf[i] == 'X' || buf[i] == 'n' || buf[i] == 'N' || buf[i] == 'i' ||
            buf[i] == 'I')
            return 0;
    *ret = v;
    return 1;
}

static int cidr_match(const struct sigma_value *v, const char *s, size_t n)
{
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned char a[16];
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(v->family, buf, a) != 1)
        return 0;
    unsigned full = v->prefix / 8, rest = v->prefix % 8;
    if (memcmp(a, v->net, full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != (v->net[full] & mask))
            return 0;
    }
    return 1;
}

static int regex_match(const struct sigma_value *v, const char *s, size_t n)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(v->re, NULL);
    if (!md)
        return 0;
    int rc = pcre2_match(v->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Does the string value `s` of a field match rule value `v`? */
static int value_match(const struct sigma_value *v, const char *s, size_t n)
{
    double d;
    switch (v->kind) {
    case SIGMA_V_STRING: return pattern_match(&v->pat, (const unsigned char *)s, n, v->cased);
    case SIGMA_V_NUMBER:
        if (pattern_match(&v->pat, (const unsigned char *)s, n, 0))
            return 1;
        return parse_number(s, n, &d) && d == v->num;
    case SIGMA_V_BOOL: return v->b ? text_eq(s, n, "true", 4, 0) : text_eq(s, n, "false", 5, 0);
    case SIGMA_V_REGEX: return regex_match(v, s, n);
    case SIGMA_V_CIDR: return cidr_match(v, s, n);
    case SIGMA_V_CMP:
        if (!parse_number(s, n, &d))
            return 0;
        switch (v->cmp) {
        case SIGMA_CMP_GT: return d > v->num;
        case SIGMA_CMP_GTE: return d >= v->num;
        case SIGMA_CMP_LT: return d < v->num;
        case SIGMA_CMP_LTE: return d <= v->num;
        }
        return 0;
    case SIGMA_V_NULL:
    case SIGMA_V_EXISTS:
    case SIGMA_V_FIELDREF: break; /* decided on the field as a whole, see field_match() */
    }
    return 0;
}

/* Does event field name `name` designate the rule's field `want`?  Names
 * are compared exactly, and also with the event name's spaces stripped
 * ("Source Name" is reached as SourceName, SPEC_NOTES §1.3). */
static int name_matches(const char *name, const char *want)
{
    if (!name)
        return 0;
    if (strcmp(name, want) == 0)
        return 1;
    if (!strchr(name, ' '))
        return 0;
    for (;; name++) {
        while (*name == ' ')
            name++;
        if (*name != *want)
            return 0;
        if (*name == '\0')
            return 1;
        want++;
    }
}

/* Calls through every value of field `want` in `ev`; returns 1 as soon as
 * one satisfies `pred`.  `*ret_seen` says whether the field was present. */
struct field_iter {
    const struct event *ev;
    const char *want;
    uint32_t exact; /* field_lookup() result, FIELD_NONE if unknown */
    uint32_t i;
    const unsigned char *spaced; /* field_spaced_table(): ids below nspaced */
    uint32_t nspaced;
};

/* The id of a rule's field name, remembered per thread by the name's
 * address (rule strings live as long as their rule set) and checked
 * against the dictionary on every use, so a rule set freed and another
 * allocated at the same address cannot be answered wrongly.  Only hits are
 * kept: a name unknown now may be interned by the next event's decoder.
 * This spares the dictionary's lock and hash for every item of every
 * candidate rule on every event. */
#define FID_CACHE 512
static _Thread_local struct {
    const char *want;
    uint32_t id;
} fid_cache[FID_CACHE];

static uint32_t want_id(const char *want)
{
    size_t h = ((uintptr_t)want >> 3) & (FID_CACHE - 1);
    uint32_t id;

    if (fid_cache[h].want == want) {
        const char *n = field_name(fid_cache[h].id);
        if (n && strcmp(n, want) == 0)
            return fid_cache[h].id;
    }
    id = field_lookup(want, strlen(want));
    if (id != FIELD_NONE) {
        fid_cache[h].want = want;
        fid_cache[h].id = id;
    }
    return id;
}

static void field_iter_init(struct field_iter *it, const struct event *ev, const char *want)
{
    it->ev = ev;
    it->want = want;
    it->exact = want_id(want);
    it->i = 0;
    it->spaced = field_spaced_table(&it->nspaced);
}

/* A field whose name has no space matches `want` only by its id: equal
 * names are one interned id, and a name nobody interned is on no event. */
static const struct event_field *field_iter_next(struct field_iter *it)
{
    while (it->i < it->ev->nfields) {
        const struct event_field *f = &it->ev->fields[it->i++];
        if (f->id == it->exact && it->exact != FIELD_NONE)
            return f;
        if (f->id != it->exact &&
            (f->id < it->nspaced ? it->spaced[f->id] : field_spaced(f->id)) &&
            name_matches(field_name(f->id), it->want))
            return f;
    }
    return NULL;
}

static int fieldref_match(const struct sigma_value *v, const char *s, size_t n,
                          const struct event *ev)
{
    struct field_iter it;
    const struct event_field *g;
    field_iter_init(&it, ev, v->ref);
    while ((g = field_iter_next(&it))) {
        const char *o = g->val;
        size_t on = g->len;
        if (on > n)
            continue;
        size_t start;
        switch (v->ref_mode) {
        case SIGMA_ANCHOR_EXACT:
            if (text_eq(s, n, o, on, v->cased))
                return 1;
            break;
        case SIGMA_ANCHOR_STARTSWITH:
            if (text_eq(s, on, o, on, v->cased))
                return 1;
            break;
        case SIGMA_ANCHOR_ENDSWITH:
            if (text_eq(s + n - on, on, o, on, v->cased))
                return 1;
            break;
        case SIGMA_ANCHOR_CONTAINS:
            for (start = 0; start + on <= n; start++)
                if (text_eq(s + start, on, o, on, v->cased))
                    return 1;
            break;
        }
    }
    return 0;
}

/* Does field item `field` satisfy value `v`?  Any of its values may. */
static int field_match(const char *field, const struct sigma_value *v, const struct event *ev)
{
    struct field_iter it;
    const struct event_field *f;
    int present = 0;
    field_iter_init(&it, ev, field);
    while ((f = field_iter_next(&it))) {
        present = 1;
        if (v->kind == SIGMA_V_FIELDREF) {
            if (fieldref_match(v, f->val, f->len, ev))
                return 1;
        } else if (v->kind != SIGMA_V_NULL && v->kind != SIGMA_V_EXISTS) {
            if (value_match(v, f->val, f->len))
                return 1;
        }
    }
    if (v->kind == SIGMA_V_NULL)
        return !present;
    if (v->kind == SIGMA_V_EXISTS)
        return v->b ? present : !present;
    return 0;
}

/* A keyword matches anywhere: any field value, or the raw record. */
static int keyword_match(const struct sigma_value *v, const struct event *ev)
{
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (value_match(v, ev->fields[i].val, ev->fields[i].len))
            return 1;
    if (ev->raw && ev->raw_len && value_match(v, ev->raw, ev->raw_len))
        return 1;
    return 0;
}

static int group_match(const struct sigma_item *it, const struct sigma_group *g,
                       const struct event *ev)
{
    for (size_t i = 0; i < g->nalts; i++) {
        int m =
            it->field ? field_match(it->field, &g->alts[i], ev) : keyword_match(&g->alts[i], ev);
        if (m)
            return 1;
    }
    return 0;
}

static int item_match(const struct sigma_item *it, const struct event *ev)
{
    int m;
    if (it->all) {
        m = 1;
        for (size_t i = 0; i < it->ngroups && m; i++)
            m = group_match(it, &it->groups[i], ev);
    } else {
        m = 0;
        for (size_t i = 0; i < it->ngroups && !m; i++)
            m = group_match(it, &it->groups[i], ev);
    }
    return it->neq ? !m : m;
}

static int det_match(const struct sigma_det *d, const struct event *ev)
{
    switch (d->kind) {
    case SIGMA_DET_ITEM: return item_match(&d->item, ev);
    case SIGMA_DET_AND:
        for (size_t i = 0; i < d->nsubs; i++)
            if (!det_match(&d->subs[i], ev))
                return 0;
        return 1;
    case SIGMA_DET_OR:
        for (size_t i = 0; i < d->nsubs; i++)
            if (det_match(&d->subs[i], ev))
                return 1;
        return 0;
    }
    return 0;
}

int sigma_eval_search(const struct sigma_rule *r, size_t i, const struct event *ev)
{
    if (i >= r->nsearches)
        return 0;
    return det_match(&r->searches[i].det, ev);
}

static int cond_eval(const struct sigma_rule *r, const struct sigma_cond *c, const struct event *ev)
{
    switch (c->op) {
    case SIGMA_COND_ID: return sigma_eval_search(r, c->ids[0], ev);
    case SIGMA_COND_AND: return cond_eval(r, c->a, ev) && cond_eval(r, c->b, ev);
    case SIGMA_COND_OR: return cond_eval(r, c->a, ev) || cond_eval(r, c->b, ev);
    case SIGMA_COND_NOT: return !cond_eval(r, c->a, ev);
    case SIGMA_COND_ONE_OF:
        for (size_t i = 0; i < c->nids; i++)
            if (sigma_eval_search(r, c->ids[i], ev))
                return 1;
        return 0;
    case SIGMA_COND_ALL_OF:
        for (size_t i = 0; i < c->nids; i++)
            if (!sigma_eval_search(r, c->ids[i], ev))
                return 0;
        return 1;
    }
    return 0;
}

int sigma_eval(const struct sigma_rule *r, const struct event *ev)
{
    if (!r || !r->cond)
        return 0;
    return cond_eval(r, r->cond, ev);
}

int sigma_eval_explain(const struct sigma_rule *r, const struct event *ev,
                       unsigned char *ret_matched)
{
    for (size_t i = 0; i < r->nsearches; i++)
        ret_matched[i] = (unsigned char)sigma_eval_search(r, i, ev);
    return sigma_eval(r, ev);
}

/* ---- filters ---- */

/* Log-source containment as pySigma tests it: every attribute the filter
 * sets equals the rule's (case-insensitive); an attribute the filter leaves
 * out does not restrict. */
static int attr_contains(const char *filter, const char *rule)
{
    return !filter || (rule && strcasecmp(filter, rule) == 0);
}

int sigma_filter_applies(const struct sigma_filter *f, const struct sigma_rule *r)
{
    const struct sigma_rule *d = f->det;
    size_t i;

    for (i = 0; i < f->rules.n; i++)
        if ((r->id && strcmp(f->rules.v[i], r->id) == 0) ||
            (r->name && strcmp(f->rules.v[i], r->name) == 0))
            break;
    if (i == f->rules.n)
        return 0;
    return attr_contains(d->product, r->product) && attr_contains(d->category, r->category) &&
           attr_contains(d->service, r->service);
}

int sigma_filter_keeps(const struct sigma_filter *f, const struct event *ev)
{
    return sigma_eval(f->det, ev);
}

static int cond_has_not(const struct sigma_cond *c)
{
    if (!c)
        return 0;
    return c->op == SIGMA_COND_NOT || cond_has_not(c->a) || cond_has_not(c->b);
}

int sigma_filter_is_inclusive(const struct sigma_filter *f)
{
    return !cond_has_not(f->det->cond);
}
