/*
 * sigma_compile.c - the compiled rule set: a literal prefilter in front of
 * the reference evaluator.
 *
 * For each rule we derive a NECESSARY condition of the form "at least one of
 * these literals occurs in the event" (or none, and the rule is always a
 * candidate).  It is built bottom-up over the rule's structure:
 *   - a string value needs the longest literal run of its pattern (between
 *     `*`/`?` wildcards), caseless unless the value is `cased`; a bool needs
 *     "true"/"false"; numbers (numeric equality accepts "010" or "1e1"),
 *     regexes, networks, comparisons, `exists: true`, field references and
 *     literal-free strings need no literal but do need their FIELD to be
 *     present (a second kind of requirement, checked against the event's
 *     field names as sigma_eval matches them: exact or space-stripped);
 *     `null` and `exists: false` need nothing;
 *   - a group of alternatives (windash, base64offset, expand, utf16 forms)
 *     needs the union of its alternatives' literals, nothing if one
 *     alternative needs nothing;
 *   - an OR item, an OR detection, `or` and `1 of` take the union; an
 *     `all` item, an AND detection, `and` and `all of` need any ONE of
 *     their parts' requirements, so we keep the most selective (longest
 *     shortest literal, then fewest literals);
 *   - `not` and `neq` need nothing.
 * Each step only weakens, so the requirement holds whenever the rule
 * matches: a rule skipped by the prefilter cannot match.
 *
 * All literals of all rules, deduplicated, go into ONE Vectorscan database
 * (literal mode, HS_FLAG_SINGLEMATCH, HS_FLAG_CASELESS where the value
 * folds case; Vectorscan folds ASCII only, as sigma_eval does).  We scan
 * the whole event in one vectored call: every field value, plus the raw
 * record when some rule has a keyword literal.  One database for all fields
 * rather than one per field because rule field names reach event fields by
 * more than an exact name (space-stripped names, SPEC_NOTES §1.3) and one
 * scan per event costs less than one per field; the price is that a literal
 * seen in another field (or across two adjacent field values, which a
 * vectored scan treats as one stream) makes a rule a candidate needlessly,
 * never the reverse.  Candidates are then evaluated with sigma_eval(), so
 * the answer is the reference's by construction.
 *
 * Field-presence requirements are looked up per event field id, through
 * a cache filled on first sight of an id (ids stay valid until field_done()).
 *
 * The set owns one scratch, the field cache and the per-event bitmaps: one
 * rule set per thread (the pipeline is single-threaded today).
 */
#include <errno.h>
#include <hs/hs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"

/* A literal borrowed from a rule's prepared pattern, or (field != NULL)
 * the presence of a field, borrowed from the rule's item. */
struct lit {
    const unsigned char *p;
    size_t len;
    int caseless;
    const char *field;
};

/* A requirement: `always` (no literal known), or one of `v` must occur.
 * An empty non-always set means the part can never match. */
struct req {
    int always;
    struct lit *v;
    size_t n, cap;
};

/* A literal of the database and the rules that require it. */
struct entry {
    struct lit lit;
    size_t rule;
};

struct sigma_ruleset {
    struct sigma_rule **rules;
    size_t nrules;
    size_t nwords;      /* uint64_t words of a rule bitmap */
    uint64_t *base;     /* rules that are always candidates */
    uint64_t *cand;     /* per event: base | rules whose literal was seen */
    size_t nlits;       /* distinct literals */
    size_t *lit_first;  /* lit_first[i]..lit_first[i+1]: its rules in lit_rules */
    size_t *lit_rules;
    size_t nalways;
    size_t nflds;        /* distinct required fields, sorted by name */
    const char **fld_names;
    size_t *fld_first;   /* as lit_first, for fields */
    size_t *fld_rules;
    uint32_t (*fcache)[2]; /* per event field id: 0 unknown, 1 none, k+2 field k */
    size_t fcache_n;
    int scan_raw;       /* some rule has a keyword literal */
    hs_database_t *db;  /* NULL when no rule has a literal */
    hs_scratch_t *scratch;
    const char **vdata; /* vectored scan arguments, grown on demand */
    unsigned *vlen;
    size_t vcap;
    uint64_t events, evaluated;
};

static void req_done(struct req *r)
{
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

static int req_push(struct req *r, const unsigned char *p, size_t len, int caseless)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        struct lit *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (struct lit){p, len, caseless, NULL};
    return 0;
}

static int req_push_field(struct req *r, const char *field)
{
    int ret = req_push(r, NULL, 0, 0);
    if (ret == 0)
        r->v[r->n - 1].field = field;
    return ret;
}

/* dst |= src (union); src is emptied. */
static int req_union(struct req *dst, struct req *src)
{
    int ret = 0;
    if (dst->always || src->always) {
        req_done(dst);
        dst->always = 1;
        goto out;
    }
    for (size_t i = 0; i < src->n; i++) {
        ret = req_push(dst, src->v[i].p, src->v[i].len, src->v[i].caseless);
        if (ret < 0)
            goto out;
        dst->v[dst->n - 1].field = src->v[i].field;
    }
out:
    req_done(src);
    src->always = 0;
    return ret;
}

/* Shortest literal of a non-always requirement (SIZE_MAX for "never"). */
static size_t req_minlen(const struct req *r)
{
    size_t m = (size_t)-1;
    for (size_t i = 0; i < r->n; i++) {
        size_t l = r->v[i].field ? 1 : r->v[i].len; /* a field: weak, like one byte */
        if (l < m)
            m = l;
    }
    return m;
}

/* For a conjunction: keeps in dst whichever of dst and src is the more
 * selective requirement (either one is necessary).  src is emptied. */
static void req_pick(struct req *dst, struct req *src)
{
    int take = 0;
    if (src->always)
        take = 0;
    else if (dst->always)
        take = 1;
    else {
        size_t a = req_minlen(dst), b = req_minlen(src);
        take = b > a || (b == a && src->n < dst->n);
    }
    if (take) {
        req_done(dst);
        *dst = *src;
    } else {
        req_done(src);
    }
    *src = (struct req){0};
}

static struct req req_always(void)
{
    return (struct req){.always = 1};
}

static int value_lit_req(const struct sigma_value *v, struct req *ret);

/* The requirement of one prepared value of field `field` (NULL for a
 * keyword).  Besides literals: every value kind but `null` and
 * `exists: false` can only match a field that is present. */
static int value_req(const struct sigma_value *v, const char *field, struct req *ret)
{
    int rc = value_lit_req(v, ret);
    if (rc < 0 || !ret->always || !field)
        return rc;
    if (v->kind == SIGMA_V_NULL || (v->kind == SIGMA_V_EXISTS && !v->b))
        return 0;
    ret->always = 0;
    return req_push_field(ret, field);
}

/* The literal requirement of one prepared value. */
static int value_lit_req(const struct sigma_value *v, struct req *ret)
{
    *ret = req_always();
    if (v->kind == SIGMA_V_BOOL) {
        ret->always = 0;
        return v->b ? req_push(ret, (const unsigned char *)"true", 4, 1)
                    : req_push(ret, (const unsigned char *)"false", 5, 1);
    }
    if (v->kind != SIGMA_V_STRING)
        return 0;
    /* The longest run of literal units: the value can only match a field
     * that contains it. */
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < v->pat.len;) {
        if (v->pat.kind[i] != SIGMA_TOK_LIT) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < v->pat.len && v->pat.kind[j] == SIGMA_TOK_LIT)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    /* Vectorscan's literal API takes a literal whose first byte is NUL for
     * an empty string and refuses it ("Pure literal API doesn't support
     * empty string"): a `utf16be` value starts so.  Its tail is still a
     * necessary literal, one byte weaker. */
    while (best_len > 0 && v->pat.bytes[best] == 0) {
        best++;
        best_len--;
    }
    if (best_len == 0)
        return 0;
    ret->always = 0;
    return req_push(ret, v->pat.bytes + best, best_len, !v->cased);
}

static int item_req(const struct sigma_item *it, struct req *ret, int *ret_keyword)
{
    int ret_code = 0;
    struct req acc = it->all ? req_always() : (struct req){0}, g = {0}, a = {0};
    if (it->neq || it->ngroups == 0) {
        /* neq: a negation.  No groups: treat as unknown, conservatively. */
        *ret = req_always();
        return 0;
    }
    for (size_t i = 0; i < it->ngroups; i++) {
        const struct sigma_group *grp = &it->groups[i];
        g = (struct req){0};
        g.always = grp->nalts == 0;
        for (size_t k = 0; k < grp->nalts && !g.always; k++) {
            ret_code = value_req(&grp->alts[k], it->field, &a);
            if (ret_code < 0)
                goto out;
            ret_code = req_union(&g, &a);
            if (ret_code < 0)
                goto out;
        }
        if (it->all)
            req_pick(&acc, &g);
        else {
            ret_code = req_union(&acc, &g);
            if (ret_code < 0)
                goto out;
        }
    }
    if (!it->field && !acc.always)
        *ret_keyword = 1;
    *ret = acc;
    acc = (struct req){0};
out:
    req_done(&acc);
    req_done(&g);
    req_done(&a);
    return ret_code;
}

static int det_req(const struct sigma_det *d, struct req *ret, int *ret_keyword)
{
    int ret_code = 0;
    struct req acc = {0}, sub = {0};
    if (d->kind == SIGMA_DET_ITEM)
        return item_req(&d->item, ret, ret_keyword);
    acc.always = d->kind == SIGMA_DET_AND; /* empty AND: true; empty OR: false */
    for (size_t i = 0; i < d->nsubs; i++) {
        ret_code = det_req(&d->subs[i], &sub, ret_keyword);
        if (ret_code < 0)
            goto out;
        if (d->kind == SIGMA_DET_AND)
            req_pick(&acc, &sub);
        else if ((ret_code = req_union(&acc, &sub)) < 0)
            goto out;
    }
    *ret = acc;
    acc = (struct req){0};
out:
    req_done(&acc);
    req_done(&sub);
    return ret_code;
}

static int search_req(const struct sigma_rule *r, size_t i, struct req *ret, int *ret_keyword)
{
    if (i >= r->nsearches) {
        *ret = (struct req){0}; /* sigma_eval_search(): never matches */
        return 0;
    }
    return det_req(&r->searches[i].det, ret, ret_keyword);
}

static int cond_req(const struct sigma_rule *r, const struct sigma_cond *c, struct req *ret,
                    int *ret_keyword)
{
    int ret_code = 0;
    struct req acc = {0}, sub = {0};
    switch (c->op) {
    case SIGMA_COND_ID: return search_req(r, c->ids[0], ret, ret_keyword);
    case SIGMA_COND_NOT: *ret = req_always(); return 0;
    case SIGMA_COND_AND:
    case SIGMA_COND_OR:
        if ((ret_code = cond_req(r, c->a, &acc, ret_keyword)) < 0)
            goto out;
        if ((ret_code = cond_req(r, c->b, &sub, ret_keyword)) < 0)
            goto out;
        if (c->op == SIGMA_COND_AND)
            req_pick(&acc, &sub);
        else if ((ret_code = req_union(&acc, &sub)) < 0)
            goto out;
        break;
    case SIGMA_COND_ONE_OF:
    case SIGMA_COND_ALL_OF:
        acc.always = c->op == SIGMA_COND_ALL_OF;
        for (size_t i = 0; i < c->nids; i++) {
            if ((ret_code = search_req(r, c->ids[i], &sub, ret_keyword)) < 0)
                goto out;
            if (c->op == SIGMA_COND_ALL_OF)
                req_pick(&acc, &sub);
            else if ((ret_code = req_union(&acc, &sub)) < 0)
                goto out;
        }
        break;
    }
    *ret = acc;
    acc = (struct req){0};
out:
    req_done(&acc);
    req_done(&sub);
    return ret_code;
}

static int lit_cmp(const struct lit *a, const struct lit *b)
{
    if (!a->field != !b->field)
        return a->field ? 1 : -1; /* literals first, then fields */
    if (a->field)
        return strcmp(a->field, b->field);
    if (a->caseless != b->caseless)
        return a->caseless - b->caseless;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return memcmp(a->p, b->p, a->len);
}

static int entry_cmp(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    int c = lit_cmp(&a->lit, &b->lit);
    if (c)
        return c;
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* Gathers the requirements of every rule into (literal, rule) entries. */
static int collect(struct sigma_ruleset *rs, struct entry **ret_e, size_t *ret_n)
{
    int ret = 0;
    struct entry *e = NULL;
    size_t n = 0, cap = 0;
    struct req q = {0};
    for (size_t i = 0; i < rs->nrules; i++) {
        const struct sigma_rule *r = rs->rules[i];
        int keyword = 0;
        if (!r || !r->cond)
            continue; /* sigma_eval(): never matches */
        ret = cond_req(r, r->cond, &q, &keyword);
        if (ret < 0)
            goto out;
        if (q.always) {
            rs->base[i / 64] |= (uint64_t)1 << (i % 64);
            rs->nalways++;
            continue;
        }
        rs->scan_raw |= keyword;
        for (size_t k = 0; k < q.n; k++) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct entry *ne = realloc(e, ncap * sizeof(*ne));
                if (!ne) {
                    ret = -ENOMEM;
                    goto out;
                }
                e = ne;
                cap = ncap;
            }
            e[n++] = (struct entry){q.v[k], i};
        }
        req_done(&q);
    }
    *ret_e = e;
    *ret_n = n;
    e = NULL;
out:
    req_done(&q);
    free(e);
    return ret;
}

/* Fills reterr (may be NULL) for Vectorscan's refusal of a literal (its
 * index in the database is cerr->expression): Vectorscan's message and
 * the first rule that requires the literal. */
static void compile_err(const struct sigma_ruleset *rs, const hs_compile_error_t *cerr,
                        struct sigma_ruleset_err *reterr)
{
    if (!reterr)
        return;
    reterr->rule = SIZE_MAX;
    if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < rs->nlits &&
        rs->lit_first[cerr->expression] < rs->lit_first[cerr->expression + 1])
        reterr->rule = rs->lit_rules[rs->lit_first[cerr->expression]];
    snprintf(reterr->reason, sizeof(reterr->reason), "Vectorscan refused literal %d: %s",
             cerr ? cerr->expression : -1,
             cerr && cerr->message ? cerr->message : "unknown error");
}

static int build_db(struct sigma_ruleset *rs, struct entry *e, size_t n,
                    struct sigma_ruleset_err *reterr)
{
    int ret = 0;
    const char **pats = NULL;
    size_t *lens = NULL;
    unsigned *flags = NULL, *ids = NULL;
    hs_compile_error_t *cerr = NULL;

    if (n > 1)
        qsort(e, n, sizeof(*e), entry_cmp);
    rs->lit_first = malloc((n + 1) * sizeof(size_t));
    rs->lit_rules = malloc((n ? n : 1) * sizeof(size_t));
    pats = malloc((n ? n : 1) * sizeof(*pats));
    lens = malloc((n ? n : 1) * sizeof(*lens));
    flags = malloc((n ? n : 1) * sizeof(*flags));
    ids = malloc((n ? n : 1) * sizeof(*ids));
    if (!rs->lit_first || !rs->lit_rules || !pats || !lens || !flags || !ids) {
        ret = -ENOMEM;
        goto out;
    }
    /* Field-presence entries sort last: they get their own table. */
    size_t nl = n;
    while (nl > 0 && e[nl - 1].lit.field)
        nl--;
    size_t nf = n - nl;
    rs->fld_names = malloc((nf ? nf : 1) * sizeof(*rs->fld_names));
    rs->fld_first = malloc((nf + 1) * sizeof(size_t));
    rs->fld_rules = malloc((nf ? nf : 1) * sizeof(size_t));
    if (!rs->fld_names || !rs->fld_first || !rs->fld_rules) {
        ret = -ENOMEM;
        goto out;
    }
    size_t nr = 0;
    for (size_t i = nl; i < n; i++) {
        int same = i > nl && lit_cmp(&e[i].lit, &e[i - 1].lit) == 0;
        if (!same) {
            rs->fld_first[rs->nflds] = nr;
            rs->fld_names[rs->nflds++] = e[i].lit.field;
        }
        if (!same || e[i].rule != e[i - 1].rule)
            rs->fld_rules[nr++] = e[i].rule;
    }
    rs->fld_first[rs->nflds] = nr;
    n = nl;
    nr = 0;
    for (size_t i = 0; i < n; i++) {
        int same = i > 0 && lit_cmp(&e[i].lit, &e[i - 1].lit) == 0;
        if (!same) {
            rs->lit_first[rs->nlits] = nr;
            pats[rs->nlits] = (const char *)e[i].lit.p;
            lens[rs->nlits] = e[i].lit.len;
            flags[rs->nlits] =
                HS_FLAG_SINGLEMATCH | (e[i].lit.caseless ? HS_FLAG_CASELESS : 0u);
            ids[rs->nlits] = (unsigned)rs->nlits;
            rs->nlits++;
        }
        /* One literal may appear twice for one rule (two values). */
        if (!same || e[i].rule != e[i - 1].rule)
            rs->lit_rules[nr++] = e[i].rule;
    }
    rs->lit_first[rs->nlits] = nr;
    if (rs->nlits == 0)
        goto out;
    if (rs->nlits > 0xffffffffu) {
        if (reterr)
            snprintf(reterr->reason, sizeof(reterr->reason), "%zu literals: too many",
                     rs->nlits);
        ret = -EINVAL;
        goto out;
    }
    if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned)rs->nlits, HS_MODE_VECTORED, NULL,
                             &rs->db, &cerr) != HS_SUCCESS) {
        compile_err(rs, cerr, reterr);
        hs_free_compile_error(cerr);
        ret = -EINVAL;
        goto out;
    }
    if (hs_alloc_scratch(rs->db, &rs->scratch) != HS_SUCCESS) {
        if (reterr)
            snprintf(reterr->reason, sizeof(reterr->reason),
                     "Vectorscan cannot allocate its scratch space");
        ret = -ENOMEM;
        goto out;
    }
out:
    free(pats);
    free(lens);
    free(flags);
    free(ids);
    return ret;
}

int sigma_ruleset_new(struct sigma_rule *const *rules, size_t n, struct sigma_ruleset **ret_rs)
{
    return sigma_ruleset_new_err(rules, n, ret_rs, NULL);
}

int sigma_ruleset_new_err(struct sigma_rule *const *rules, size_t n,
                          struct sigma_ruleset **ret_rs, struct sigma_ruleset_err *reterr)
{
    int ret;
    if (reterr) {
        reterr->rule = SIZE_MAX;
        reterr->reason[0] = '\0';
    }
    struct entry *e = NULL;
    size_t ne = 0;
    struct sigma_ruleset *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    rs->nrules = n;
    rs->nwords = (n + 63) / 64;
    rs->rules = malloc((n ? n : 1) * sizeof(struct sigma_rule *));
    rs->base = calloc(rs->nwords ? rs->nwords : 1, sizeof(uint64_t));
    rs->cand = calloc(rs->nwords ? rs->nwords : 1, sizeof(uint64_t));
    if (!rs->rules || !rs->base || !rs->cand) {
        ret = -ENOMEM;
        goto out;
    }
    if (n)
        memcpy(rs->rules, rules, n * sizeof(struct sigma_rule *));
    ret = collect(rs, &e, &ne);
    if (ret < 0)
        goto out;
    ret = build_db(rs, e, ne, reterr);
    if (ret < 0)
        goto out;
    *ret_rs = rs;
    rs = NULL;
out:
    free(e);
    sigma_ruleset_free(rs);
    return ret;
}

void sigma_ruleset_free(struct sigma_ruleset *rs)
{
    if (!rs)
        return;
    hs_free_scratch(rs->scratch);
    hs_free_database(rs->db);
    free(rs->rules);
    free(rs->base);
    free(rs->cand);
    free(rs->lit_first);
    free(rs->lit_rules);
    free(rs->fld_names);
    free(rs->fld_first);
    free(rs->fld_rules);
    free(rs->fcache);
    free(rs->vdata);
    free(rs->vlen);
    free(rs);
}

static void mark_rules(struct sigma_ruleset *rs, const size_t *first, const size_t *rules,
                       size_t k)
{
    for (size_t j = first[k]; j < first[k + 1]; j++) {
        size_t r = rules[j];
        rs->cand[r / 64] |= (uint64_t)1 << (r % 64);
    }
}

static int on_literal(unsigned int id, unsigned long long from, unsigned long long to,
                      unsigned int flags, void *ctx)
{
    struct sigma_ruleset *rs = ctx;
    (void)from;
    (void)to;
    (void)flags;
    mark_rules(rs, rs->lit_first, rs->lit_rules, id);
    return 0;
}

/* Index+2 of required field `name` (1: none). */
static uint32_t fld_find(const struct sigma_ruleset *rs, const char *name)
{
    size_t lo = 0, hi = rs->nflds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, rs->fld_names[mid]);
        if (c == 0)
            return (uint32_t)mid + 2;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 1;
}

/*
 * The required fields that event field `id` designates, as sigma_eval's
 * name_matches() decides: its exact name, and its name with spaces
 * stripped.  Cached per field id (ids are stable while the field table
 * lives, i.e. until field_done() at exit).  Returns NULL if the cache
 * cannot grow: the caller then treats every rule as a candidate.
 */
static const uint32_t *fld_of(struct sigma_ruleset *rs, uint32_t id)
{
    if (id >= rs->fcache_n) {
        size_t n = (size_t)id + 64;
        uint32_t(*c)[2] = realloc(rs->fcache, n * sizeof(*c));
        if (!c)
            return NULL;
        memset(c + rs->fcache_n, 0, (n - rs->fcache_n) * sizeof(*c));
        rs->fcache = c;
        rs->fcache_n = n;
    }
    uint32_t *slot = rs->fcache[id];
    if (slot[0])
        return slot;
    const char *name = field_name(id);
    char buf[512];
    slot[0] = slot[1] = 1;
    if (!name)
        return slot;
    slot[0] = fld_find(rs, name);
    if (strchr(name, ' ')) {
        size_t o = 0;
        for (const char *q = name; *q && o + 1 < sizeof(buf); q++)
            if (*q != ' ')
                buf[o++] = *q;
        buf[o] = '\0';
        if (strlen(name) < sizeof(buf))
            slot[1] = fld_find(rs, buf);
        else
            slot[1] = (uint32_t)-1; /* too long to strip here: mark everything */
    }
    return slot;
}

/* Scans the event; on any failure every rule becomes a candidate. */
static void prefilter(struct sigma_ruleset *rs, const struct event *ev)
{
    memcpy(rs->cand, rs->base, rs->nwords * sizeof(uint64_t));
    if (rs->nflds) {
        for (uint32_t i = 0; i < ev->nfields; i++) {
            const uint32_t *f = fld_of(rs, ev->fields[i].id);
            if (!f || f[1] == (uint32_t)-1)
                goto all;
            for (int k = 0; k < 2; k++)
                if (f[k] >= 2)
                    mark_rules(rs, rs->fld_first, rs->fld_rules, f[k] - 2);
        }
    }
    if (!rs->db)
        return;
    size_t need = (size_t)ev->nfields + 1;
    if (need > rs->vcap) {
        const char **d = realloc(rs->vdata, need * sizeof(*d));
        if (d)
            rs->vdata = d;
        unsigned *l = realloc(rs->vlen, need * sizeof(*l));
        if (l)
            rs->vlen = l;
        if (!d || !l)
            goto all;
        rs->vcap = need;
    }
    unsigned cnt = 0;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        rs->vdata[cnt] = ev->fields[i].val ? ev->fields[i].val : "";
        rs->vlen[cnt++] = ev->fields[i].len;
    }
    if (rs->scan_raw && ev->raw && ev->raw_len) {
        if (ev->raw_len > 0xffffffffu)
            goto all;
        rs->vdata[cnt] = ev->raw;
        rs->vlen[cnt++] = (unsigned)ev->raw_len;
    }
    if (cnt == 0)
        return;
    if (hs_scan_vector(rs->db, rs->vdata, rs->vlen, cnt, 0, rs->scratch, on_literal, rs) ==
        HS_SUCCESS)
        return;
all:
    memset(rs->cand, 0xff, rs->nwords * sizeof(uint64_t));
}

size_t sigma_ruleset_match(struct sigma_ruleset *rs, const struct event *ev, sigma_ruleset_cb cb,
                           void *arg)
{
    size_t nmatch = 0;
    prefilter(rs, ev);
    rs->events++;
    for (size_t w = 0; w < rs->nwords; w++) {
        uint64_t bits = rs->cand[w];
        while (bits) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (i >= rs->nrules)
                break;
            rs->evaluated++;
            if (sigma_eval(rs->rules[i], ev)) {
                nmatch++;
                if (cb)
                    cb(rs->rules[i], i, arg);
            }
        }
    }
    return nmatch;
}

void sigma_ruleset_stats(const struct sigma_ruleset *rs, struct sigma_ruleset_stats *ret_stats)
{
    ret_stats->rules = rs->nrules;
    ret_stats->literals = rs->nlits;
    ret_stats->always = rs->nalways;
    ret_stats->events = rs->events;
    ret_stats->evaluated = rs->evaluated;
}
