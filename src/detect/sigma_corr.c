/*
 * sigma_corr.c - Sigma correlation rules: the loader of one correlation
 * document and the sliding-window engine.  The choices the specification
 * leaves open are listed in sigma_corr.h.
 *
 * Engine state is one `struct group` per (correlation, group-by tuple), in
 * one open-addressing hash table and one list in order of last use.  A
 * group holds its window's entries sorted by event time, the counters the
 * condition needs (distinct values, per-rule counts, a sum) kept up to date
 * as entries enter and leave, and the last few events for the hit.  Once a
 * group exists, feeding it allocates only when one of its arrays grows.
 */
#include "detect/sigma_corr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "event/event.h"
#include "event/field.h"

/* Bytes of one group-by value that take part in the key (and the hit). */
#define CORR_KEY_VALUE_MAX 256
/* Fields of `condition.field` (value_count tuples). */
#define CORR_MAX_FIELDS 8

/* ==== loading ==== */

static int cerr(struct sigma_err *e, const yaml_node_t *n, const char *cat, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cerr(struct sigma_err *e, const yaml_node_t *n, const char *cat, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return -EINVAL;
    e->at.off = n ? n->start_mark.index : 0;
    e->at.line = n ? (unsigned)n->start_mark.line + 1 : 1;
    e->at.col = n ? (unsigned)n->start_mark.column + 1 : 1;
    e->at.msg = cat;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int scalar_eq(const yaml_node_t *n, const char *s)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
           memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static yaml_node_t *get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        if (scalar_eq(yaml_document_get_node(doc, p->key), key))
            return yaml_document_get_node(doc, p->value);
    return NULL;
}

static int is_nullish(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (n->data.scalar.length == 0 || scalar_eq(n, "~") || scalar_eq(n, "null"));
}

static int dup_scalar(const yaml_node_t *n, char **ret)
{
    *ret = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return *ret ? 0 : -ENOMEM;
}

static int get_str(yaml_document_t *doc, const yaml_node_t *map, const char *key, char **ret,
                   struct sigma_err *e)
{
    yaml_node_t *n = get(doc, map, key);

    if (!n || is_nullish(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return cerr(e, n, "invalid attribute", "'%s' must be a string", key);
    return dup_scalar(n, ret);
}

/* A string or a list of strings (at most `max`) into *ret. */
static int get_strv(yaml_document_t *doc, const yaml_node_t *n, const char *key, size_t max,
                    struct sigma_strv *ret, struct sigma_err *e)
{
    size_t ni;

    if (!n || is_nullish(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (!(ret->v = calloc(1, sizeof(char *))))
            return -ENOMEM;
        ret->n = 1;
        return dup_scalar(n, &ret->v[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cerr(e, n, "invalid attribute", "'%s' must be a string or a list of strings", key);
    ni = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (ni > max)
        return cerr(e, n, "too many values", "'%s' lists %zu values, at most %zu allowed", key, ni,
                    max);
    if (!(ret->v = calloc(ni ? ni : 1, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < ni; i++) {
        yaml_node_t *x = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
        if (!x || x->type != YAML_SCALAR_NODE || is_nullish(x))
            return cerr(e, x ? x : n, "invalid attribute", "'%s' must list strings", key);
        if (dup_scalar(x, &ret->v[i]) < 0)
            return -ENOMEM;
        ret->n++;
    }
    return 0;
}

static void strv_free(struct sigma_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

static const char *const type_names[] = {
    "event_count", "value_count", "temporal",         "temporal_ordered",
    "value_sum",   "value_avg",   "value_percentile",
};

const char *sigma_corr_type_name(enum sigma_corr_type t)
{
    return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

static const char *const op_names[SIGMA_CORR_NOPS] = {"gt", "gte", "lt", "lte", "eq", "neq"};
static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

/* `<n><s|m|h|d|w>` in microseconds; 0 if malformed. */
static int64_t parse_timespan(const char *s, size_t len)
{
    int64_t n = 0, unit;
    size_t i = 0;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (n > 1000000000)
            return 0;
        n = n * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0 || i + 1 != len || n == 0)
        return 0;
    switch (s[i]) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 604800; break;
    default: return 0;
    }
    return n * unit * 1000000;
}

/* A plain YAML number; 1 on success. */
static int node_number(const yaml_node_t *n, double *ret)
{
    char buf[48], *end;
    size_t len;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    len = n->data.scalar.length;
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, n->data.scalar.value, len);
    buf[len] = '\0';
    *ret = strtod(buf, &end);
    return *end == '\0' && isfinite(*ret);
}

static int load_condition(yaml_document_t *doc, yaml_node_t *cn, struct sigma_corr_rule *c,
                          struct sigma_err *e)
{
    int lower = 0, upper = 0, r;

    if (cn->type != YAML_MAPPING_NODE)
        return cerr(e, cn, "invalid condition",
                    "a correlation condition must be a map such as "
                    "{gte: 10}");
    for (yaml_node_pair_t *p = cn->data.mapping.pairs.start; p < cn->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        size_t op;

        if (!k || !v)
            return cerr(e, cn, "invalid condition", "malformed condition");
        if (scalar_eq(k, "field")) {
            if ((r = get_strv(doc, v, "field", CORR_MAX_FIELDS, &c->fields, e)) < 0)
                return r;
            continue;
        }
        for (op = 0; op < SIGMA_CORR_NOPS; op++)
            if (scalar_eq(k, op_names[op]))
                break;
        if (op == SIGMA_CORR_NOPS)
            return cerr(e, k, "invalid condition",
                        "unknown condition key '%.*s' (gt, gte, lt, lte, eq, neq, field)",
                        k->type == YAML_SCALAR_NODE
                            ? (int)(k->data.scalar.length > 40 ? 40 : k->data.scalar.length)
                            : 1,
                        k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
        if (!node_number(v, &c->op_val[op]))
            return cerr(e, v, "invalid condition", "'%s' needs a number", op_names[op]);
        c->has_op[op] = 1;
        if (op == SIGMA_CORR_GT || op == SIGMA_CORR_GTE || op == SIGMA_CORR_EQ)
            lower++;
        if (op == SIGMA_CORR_LT || op == SIGMA_CORR_LTE || op == SIGMA_CORR_EQ)
            upper++;
    }
    if (lower == 0 && upper == 0 && !c->has_op[SIGMA_CORR_NEQ])
        return cerr(e, cn, "condition without operator",
                    "the condition needs an operator: gt, gte, lt, lte, eq or neq");
    if (lower > 1 || upper > 1)
        return cerr(e, cn, "invalid condition",
                    "a condition takes one operator, or one lower (gt/gte) and one upper "
                    "(lt/lte) bound");
    return 0;
}

static int load_aliases(yaml_document_t *doc, yaml_node_t *an, struct sigma_corr_rule *c,
                        struct sigma_err *e)
{
    size_t n;

    if (is_nullish(an))
        return 0;
    if (an->type != YAML_MAPPING_NODE)
        return cerr(e, an, "invalid aliases", "aliases must map alias names to {rule: field}");
    n = (size_t)(an->data.mapping.pairs.top - an->data.mapping.pairs.start);
    if (!(c->aliases = calloc(n ? n : 1, sizeof(*c->aliases))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &an->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        struct sigma_corr_alias *a = &c->aliases[i];
        size_t m;

        if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_MAPPING_NODE)
            return cerr(e, k ? k : an, "invalid aliases",
                        "each alias must map rule names to field names");
        c->naliases++;
        if (dup_scalar(k, &a->name) < 0)
            return -ENOMEM;
        m = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
        if (!(a->rules = calloc(m ? m : 1, sizeof(char *))) ||
            !(a->fields = calloc(m ? m : 1, sizeof(char *))))
            return -ENOMEM;
        for (size_t j = 0; j < m; j++) {
            yaml_node_t *rk = yaml_document_get_node(doc, v->data.mapping.pairs.start[j].key);
            yaml_node_t *rv = yaml_document_get_node(doc, v->data.mapping.pairs.start[j].value);

            if (!rk || !rv || rk->type != YAML_SCALAR_NODE || rv->type != YAML_SCALAR_NODE)
                return cerr(e, rk ? rk : v, "invalid aliases",
                            "alias '%s' must map rule names to field names", a->name);
            if (dup_scalar(rk, &a->rules[j]) < 0 || dup_scalar(rv, &a->fields[j]) < 0) {
                a->n = j + 1;
                return -ENOMEM;
            }
            a->n = j + 1;
        }
    }
    return 0;
}

static int load_corr(yaml_document_t *doc, yaml_node_t *root, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *cor, *n;
    int r;

    if (!root || root->type != YAML_MAPPING_NODE)
        return cerr(e, root, "not a rule", "the document is not a YAML mapping");
    c->line = (unsigned)root->start_mark.line + 1;
    n = get(doc, root, "title");
    if (!n || n->type != YAML_SCALAR_NODE || is_nullish(n))
        return cerr(e, n ? n : root, "missing title", "a correlation needs a 'title' string");
    if ((r = get_str(doc, root, "title", &c->title, e)) < 0 ||
        (r = get_str(doc, root, "id", &c->id, e)) < 0 ||
        (r = get_str(doc, root, "name", &c->name, e)) < 0 ||
        (r = get_str(doc, root, "status", &c->status, e)) < 0 ||
        (r = get_str(doc, root, "description", &c->description, e)) < 0 ||
        (r = get_str(doc, root, "author", &c->author, e)) < 0 ||
        (r = get_str(doc, root, "level", &c->level_text, e)) < 0 ||
        (r = get_strv(doc, get(doc, root, "tags"), "tags", 256, &c->tags, e)) < 0)
        return r;
    if (c->level_text) {
        for (size_t i = 1; i < sizeof(level_names) / sizeof(level_names[0]); i++)
            if (strcmp(c->level_text, level_names[i]) == 0)
                c->level = (enum sigma_level)i;
        if (c->level == SIGMA_LEVEL_NONE)
            return cerr(e, get(doc, root, "level"), "invalid level",
                        "level must be informational, low, medium, high or critical");
    }
    cor = get(doc, root, "correlation");
    if (!cor || cor->type != YAML_MAPPING_NODE)
        return cerr(e, cor ? cor : root, "invalid correlation", "'correlation' must be a map");

    n = get(doc, cor, "type");
    if (!n)
        return cerr(e, cor, "missing type", "a correlation needs a 'type'");
    {
        size_t t;
        for (t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
            if (scalar_eq(n, type_names[t]))
                break;
        if (t == sizeof(type_names) / sizeof(type_names[0]))
            return cerr(e, n, "unknown correlation type",
                        "unknown correlation type '%.*s' (event_count, value_count, temporal, "
                        "temporal_ordered, value_sum, value_avg, value_percentile)",
                        n->type == YAML_SCALAR_NODE
                            ? (int)(n->data.scalar.length > 40 ? 40 : n->data.scalar.length)
                            : 1,
                        n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "?");
        c->type = (enum sigma_corr_type)t;
    }

    n = get(doc, cor, "rules");
    if (!n || is_nullish(n))
        return cerr(e, n ? n : cor, "missing rules", "a correlation needs 'rules'");
    if ((r = get_strv(doc, n, "rules", SIGMA_CORR_MAX_RULES, &c->rules, e)) < 0)
        return r;
    if (c->rules.n == 0)
        return cerr(e, n, "missing rules", "'rules' lists no rule");

    if ((r = get_strv(doc, get(doc, cor, "group-by"), "group-by", SIGMA_CORR_MAX_GROUP_BY,
                      &c->group_by, e)) < 0)
        return r;

    n = get(doc, cor, "timespan");
    if (!n || is_nullish(n))
        return cerr(e, n ? n : cor, "missing timespan", "a correlation needs a 'timespan'");
    if (n->type != YAML_SCALAR_NODE ||
        !(c->timespan_us =
              parse_timespan((const char *)n->data.scalar.value, n->data.scalar.length)))
        return cerr(e, n, "invalid timespan",
                    "timespan '%.*s' is not a number followed by s, m, h, d or w",
                    n->type == YAML_SCALAR_NODE
                        ? (int)(n->data.scalar.length > 40 ? 40 : n->data.scalar.length)
                        : 1,
                    n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "?");

    n = get(doc, cor, "condition");
    if (n && !is_nullish(n)) {
        if ((r = load_condition(doc, n, c, e)) < 0)
            return r;
    } else if (c->type == SIGMA_CORR_TEMPORAL || c->type == SIGMA_CORR_TEMPORAL_ORDERED) {
        /* pySigma: all referenced rules must match. */
        c->has_op[SIGMA_CORR_GTE] = 1;
        c->op_val[SIGMA_CORR_GTE] = (double)c->rules.n;
        n = NULL;
    } else {
        return cerr(e, cor, "missing condition", "a %s correlation needs a 'condition'",
                    type_names[c->type]);
    }
    switch (c->type) {
    case SIGMA_CORR_VALUE_COUNT:
        if (c->fields.n == 0)
            return cerr(e, n, "missing field", "a value_count condition needs 'field'");
        break;
    case SIGMA_CORR_VALUE_SUM:
    case SIGMA_CORR_VALUE_AVG:
    case SIGMA_CORR_VALUE_PERCENTILE:
        if (c->fields.n != 1)
            return cerr(e, n, "missing field", "a %s condition needs exactly one 'field'",
                        type_names[c->type]);
        break;
    default:
        if (c->fields.n)
            return cerr(e, n, "invalid condition", "'field' belongs to value_* correlations");
        break;
    }
    if (c->type <= SIGMA_CORR_TEMPORAL_ORDERED && !c->has_op[SIGMA_CORR_GT] &&
        !c->has_op[SIGMA_CORR_GTE] && !c->has_op[SIGMA_CORR_EQ])
        return cerr(e, n, "absence condition not supported",
                    "a %s condition needs a lower bound (gt, gte or eq): an absence (lt/lte "
                    "alone) could only be decided when a window closes",
                    type_names[c->type]);

    n = get(doc, cor, "aliases");
    if (n && (r = load_aliases(doc, n, c, e)) < 0)
        return r;
    n = get(doc, cor, "generate");
    if (n && !is_nullish(n)) {
        if (scalar_eq(n, "true") || scalar_eq(n, "True") || scalar_eq(n, "TRUE"))
            c->generate = 1;
        else if (!(scalar_eq(n, "false") || scalar_eq(n, "False") || scalar_eq(n, "FALSE")))
            return cerr(e, n, "invalid generate", "'generate' must be true or false");
    }
    return 0;
}

int sigma_corr_load_yaml(struct yaml_document_s *doc, const char *file,
                         struct sigma_corr_rule **ret_corr, struct sigma_err *reterr)
{
    struct sigma_corr_rule *c;
    int r;

    *ret_corr = NULL;
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    if (file && !(c->file = strdup(file))) {
        free(c);
        return -ENOMEM;
    }
    r = load_corr(doc, yaml_document_get_root_node(doc), c, reterr);
    if (r < 0) {
        sigma_corr_rule_free(c);
        return r;
    }
    *ret_corr = c;
    return 0;
}

void sigma_corr_rule_free(struct sigma_corr_rule *c)
{
    if (!c)
        return;
    free(c->file);
    free(c->title);
    free(c->id);
    free(c->name);
    free(c->status);
    free(c->description);
    free(c->author);
    free(c->level_text);
    strv_free(&c->tags);
    strv_free(&c->rules);
    strv_free(&c->group_by);
    strv_free(&c->fields);
    for (size_t i = 0; i < c->naliases; i++) {
        struct sigma_corr_alias *a = &c->aliases[i];
        for (size_t j = 0; j < a->n; j++) {
            free(a->rules[j]);
            free(a->fields[j]);
        }
        free(a->rules);
        free(a->fields);
        free(a->name);
    }
    free(c->aliases);
    free(c);
}

/* ==== the engine ==== */

/* One referenced rule of a correlation, with the field ids to read from
 * that rule's events (aliases applied). */
struct cslot {
    int is_corr;
    size_t target; /* index into the base rules or the correlations */
    uint32_t key_fid[SIGMA_CORR_MAX_GROUP_BY];
    uint32_t val_fid[CORR_MAX_FIELDS];
    const char *label; /* id, name or title of the target, for samples */
};

struct ccorr {
    struct sigma_corr_rule *c;
    struct cslot *slots; /* c->rules.n */
    int kept;
    int emit;  /* report hits: not referenced, or referenced with generate */
    int level; /* chaining depth, for cycle detection */
};

/* Where a match of a base rule (or a hit of a correlation) goes. */
struct ref {
    uint32_t corr, slot;
};
struct reflist {
    struct ref *v;
    size_t n;
};

struct entry {
    int64_t t;
    uint64_t vh; /* value (tuple) hash: value_count, value_percentile */
    double num;  /* value_sum, value_avg */
    uint32_t slot;
};

struct sample {
    int64_t t;
    const char *rule_id; /* borrowed from the rule */
    char *raw;           /* SIGMA_CORR_SAMPLE_RAW bytes, allocated on first use */
    size_t len;
};

/* Distinct value counts: open addressing on the hash, cnt == 0 is empty. */
struct dslot {
    uint64_t h;
    uint32_t cnt;
};

struct group {
    uint64_t hash;
    uint32_t corr;
    uint32_t keylen;
    char *key;                 /* per value: 4-byte length, bytes, NUL */
    struct group *prev, *next; /* use order: head is least recently used */
    int64_t newest;
    int64_t quiet_until; /* after a hit: no new hit while newest <= this */
    int64_t fired_last;  /* time of the last event of the last hit */
    struct entry *ents;  /* window: ents[off .. off + n), sorted by t */
    size_t off, n, cap;
    double sum;
    struct dslot *dt;
    size_t dcap, dn;
    uint32_t *slot_cnt; /* per referenced rule (temporal types) */
    struct sample samples[SIGMA_CORR_MAX_SAMPLES];
    size_t shead, ns;
    size_t bytes; /* what this group accounts for */
};

struct sigma_corr_engine {
    struct ccorr *corrs;
    size_t ncorrs, nkept;
    struct sigma_rule *const *rules;
    size_t nrules;
    struct reflist *by_rule; /* nrules */
    struct reflist *by_corr; /* ncorrs */
    unsigned char *rule_gen; /* nrules */
    size_t max_bytes;
    int64_t tolerance_us;
    int64_t now; /* newest event time seen */
    struct group **tab;
    size_t tcap, tn;
    struct group *head, *tail;
    struct sigma_corr_stats st;
};

static const char *rule_label(const struct sigma_rule *r)
{
    return r->id ? r->id : r->name ? r->name : r->title ? r->title : "";
}

static const char *corr_label(const struct sigma_corr_rule *c)
{
    return c->id ? c->id : c->name ? c->name : c->title ? c->title : "";
}

static int reflist_add(struct reflist *l, uint32_t corr, uint32_t slot)
{
    struct ref *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

    if (!nv)
        return -ENOMEM;
    l->v = nv;
    l->v[l->n].corr = corr;
    l->v[l->n].slot = slot;
    l->n++;
    return 0;
}

/* The field to read for `name` from events of the rule named `rname`. */
static const char *alias_field(const struct sigma_corr_rule *c, const char *name, const char *rname)
{
    for (size_t i = 0; i < c->naliases; i++) {
        if (strcmp(c->aliases[i].name, name) != 0)
            continue;
        for (size_t j = 0; rname && j < c->aliases[i].n; j++)
            if (strcmp(c->aliases[i].rules[j], rname) == 0)
                return c->aliases[i].fields[j];
    }
    return name;
}

static int resolve(struct sigma_corr_engine *e, size_t ci, sigma_corr_report_fn report, void *arg)
{
    struct ccorr *cc = &e->corrs[ci];
    const struct sigma_corr_rule *c = cc->c;
    char why[300];

    if (!(cc->slots = calloc(c->rules.n, sizeof(*cc->slots))))
        return -ENOMEM;
    for (size_t s = 0; s < c->rules.n; s++) {
        const char *ref = c->rules.v[s], *rname = NULL;
        struct cslot *sl = &cc->slots[s];
        size_t i;
        int found = 0;

        for (i = 0; i < e->nrules && !found; i++)
            if (e->rules[i]->id && strcmp(e->rules[i]->id, ref) == 0)
                found = 1;
        for (i = found ? i : 0; i < e->nrules && !found; i++)
            if (e->rules[i]->name && strcmp(e->rules[i]->name, ref) == 0)
                found = 1;
        if (found) {
            sl->target = i - 1;
            rname = e->rules[i - 1]->name;
            sl->label = rule_label(e->rules[i - 1]);
        } else {
            for (i = 0; i < e->ncorrs && !found; i++)
                if (i != ci && ((e->corrs[i].c->id && strcmp(e->corrs[i].c->id, ref) == 0) ||
                                (e->corrs[i].c->name && strcmp(e->corrs[i].c->name, ref) == 0)))
                    found = 1;
            if (!found) {
                snprintf(why, sizeof(why), "unknown rule reference '%.200s'", ref);
                if (report)
                    report(arg, c, why);
                cc->kept = 0;
                return 0;
            }
            sl->is_corr = 1;
            sl->target = i - 1;
            rname = e->corrs[i - 1].c->name;
            sl->label = corr_label(e->corrs[i - 1].c);
        }
        for (size_t k = 0; k < c->group_by.n; k++) {
            const char *f = alias_field(c, c->group_by.v[k], rname);
            sl->key_fid[k] = field_intern(f, strlen(f));
        }
        for (size_t k = 0; k < c->fields.n; k++) {
            const char *f = alias_field(c, c->fields.v[k], rname);
            sl->val_fid[k] = field_intern(f, strlen(f));
        }
    }
    cc->kept = 1;
    return 0;
}

int sigma_corr_engine_new(struct sigma_corr_rule *const *corrs, size_t ncorrs,
                          struct sigma_rule *const *rules, size_t nrules,
                          const struct sigma_corr_opts *opts, sigma_corr_report_fn report,
                          void *arg, struct sigma_corr_engine **ret)
{
    struct sigma_corr_engine *e = calloc(1, sizeof(*e));
    int r = -ENOMEM;

    *ret = NULL;
    if (!e)
        return -ENOMEM;
    field_init();
    e->rules = rules;
    e->nrules = nrules;
    e->max_bytes = opts && opts->max_bytes ? opts->max_bytes : SIGMA_CORR_DEFAULT_MAX_BYTES;
    e->tolerance_us =
        opts && opts->tolerance_us >= 0 ? opts->tolerance_us : SIGMA_CORR_DEFAULT_TOLERANCE_US;
    e->now = INT64_MIN;
    e->ncorrs = ncorrs;
    if (!(e->corrs = calloc(ncorrs ? ncorrs : 1, sizeof(*e->corrs))) ||
        !(e->by_rule = calloc(nrules ? nrules : 1, sizeof(*e->by_rule))) ||
        !(e->by_corr = calloc(ncorrs ? ncorrs : 1, sizeof(*e->by_corr))) ||
        !(e->rule_gen = calloc(nrules ? nrules : 1, 1)))
        goto out;
    for (size_t i = 0; i < ncorrs; i++) {
        e->corrs[i].c = corrs[i];
        e->corrs[i].level = -1;
    }
    for (size_t i = 0; i < ncorrs; i++)
        if ((r = resolve(e, i, report, arg)) < 0)
            goto out;
    /* Chains: a correlation's level is one more than the deepest one it
     * references.  What has no level after ncorrs rounds references a cycle
     * or a correlation left out. */
    for (size_t round = 0; round <= ncorrs; round++) {
        int changed = 0;
        for (size_t i = 0; i < ncorrs; i++) {
            struct ccorr *cc = &e->corrs[i];
            int lv = 0, ok = cc->kept;

            if (!ok || cc->level >= 0)
                continue;
            for (size_t s = 0; s < cc->c->rules.n && ok; s++) {
                if (!cc->slots[s].is_corr)
                    continue;
                const struct ccorr *t = &e->corrs[cc->slots[s].target];
                if (!t->kept || t->level < 0)
                    ok = 0;
                else if (t->level + 1 > lv)
                    lv = t->level + 1;
            }
            if (ok) {
                cc->level = lv;
                changed = 1;
            }
        }
        if (!changed)
            break;
    }
    for (size_t i = 0; i < ncorrs; i++) {
        struct ccorr *cc = &e->corrs[i];
        if (cc->kept && cc->level < 0) {
            cc->kept = 0;
            if (report)
                report(arg, cc->c,
                       "references a correlation that is left out or part of a reference cycle");
        }
    }
    for (size_t i = 0; i < ncorrs; i++) {
        struct ccorr *cc = &e->corrs[i];
        if (!cc->kept)
            continue;
        e->nkept++;
        for (size_t s = 0; s < cc->c->rules.n; s++) {
            struct reflist *l = cc->slots[s].is_corr ? &e->by_corr[cc->slots[s].target]
                                                     : &e->by_rule[cc->slots[s].target];
            if ((r = reflist_add(l, (uint32_t)i, (uint32_t)s)) < 0)
                goto out;
        }
    }
    /* generate: a referenced rule reports only if a referencing
     * correlation asks for it. */
    for (size_t i = 0; i < nrules; i++) {
        e->rule_gen[i] = e->by_rule[i].n == 0;
        for (size_t k = 0; k < e->by_rule[i].n; k++)
            if (e->corrs[e->by_rule[i].v[k].corr].c->generate)
                e->rule_gen[i] = 1;
    }
    for (size_t i = 0; i < ncorrs; i++) {
        e->corrs[i].emit = e->by_corr[i].n == 0;
        for (size_t k = 0; k < e->by_corr[i].n; k++)
            if (e->corrs[e->by_corr[i].v[k].corr].c->generate)
                e->corrs[i].emit = 1;
    }
    e->tcap = 64;
    /* The table holds pointers; the type is spelled out because
     * bugprone-sizeof-expression (clang-tidy 14) flags every sizeof of an
     * expression whose type is a struct pointer, even sizeof(e->tab[0]). */
    if (!(e->tab = calloc(e->tcap, sizeof(struct group *))))
        goto out;
    e->st.bytes = e->tcap * sizeof(struct group *);
    e->st.correlations = e->nkept;
    *ret = e;
    return 0;
out:
    sigma_corr_engine_free(e);
    return r;
}

static void group_free(struct group *g)
{
    for (size_t i = 0; i < SIGMA_CORR_MAX_SAMPLES; i++)
        free(g->samples[i].raw);
    free(g->key);
    free(g->ents);
    free(g->dt);
    free(g->slot_cnt);
    free(g);
}

void sigma_corr_engine_free(struct sigma_corr_engine *e)
{
    if (!e)
        return;
    for (struct group *g = e->head, *nx; g; g = nx) {
        nx = g->next;
        group_free(g);
    }
    free(e->tab);
    /* ncorrs is set before corrs is allocated: on OOM there is none. */
    for (size_t i = 0; e->corrs && i < e->ncorrs; i++) {
        free(e->corrs[i].slots);
        if (e->by_corr)
            free(e->by_corr[i].v);
    }
    for (size_t i = 0; e->by_rule && i < e->nrules; i++)
        free(e->by_rule[i].v);
    free(e->by_rule);
    free(e->by_corr);
    free(e->rule_gen);
    free(e->corrs);
    free(e);
}

int sigma_corr_engine_uses(const struct sigma_corr_engine *e, size_t rule_idx)
{
    return rule_idx < e->nrules && e->by_rule[rule_idx].n > 0;
}

int sigma_corr_engine_generates(const struct sigma_corr_engine *e, size_t rule_idx)
{
    return rule_idx >= e->nrules || e->rule_gen[rule_idx];
}

size_t sigma_corr_engine_count(const struct sigma_corr_engine *e)
{
    return e->nkept;
}

void sigma_corr_engine_stats(const struct sigma_corr_engine *e, struct sigma_corr_stats *ret)
{
    *ret = e->st;
    ret->groups_live = e->tn;
}

/* ---- hashing and the group table ---- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static struct group **tab_find(struct sigma_corr_engine *e, uint64_t h, uint32_t corr,
                               const char *key, size_t keylen)
{
    size_t mask = e->tcap - 1, i = (size_t)h & mask;

    for (;;) {
        struct group *g = e->tab[i];
        if (!g || (g->hash == h && g->corr == corr && g->keylen == keylen &&
                   memcmp(g->key, key, keylen) == 0))
            return &e->tab[i];
        i = (i + 1) & mask;
    }
}

static int tab_grow(struct sigma_corr_engine *e)
{
    size_t ncap = e->tcap * 2;
    struct group **nt = calloc(ncap, sizeof(struct group *));

    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < e->tcap; i++) {
        struct group *g = e->tab[i];
        if (!g)
            continue;
        size_t j = (size_t)g->hash & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = g;
    }
    free(e->tab);
    e->st.bytes += (ncap - e->tcap) * sizeof(struct group *);
    e->tab = nt;
    e->tcap = ncap;
    return 0;
}

/* Removes `g` from the table (backward-shift deletion) and the use list,
 * and frees it. */
static void group_remove(struct sigma_corr_engine *e, struct group *g)
{
    size_t mask = e->tcap - 1, i = (size_t)g->hash & mask;

    while (e->tab[i] != g)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; e->tab[j]; j = (j + 1) & mask) {
        size_t home = (size_t)e->tab[j]->hash & mask;
        /* Move j back into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            e->tab[i] = e->tab[j];
            i = j;
        }
    }
    e->tab[i] = NULL;
    e->tn--;
    if (g->prev)
        g->prev->next = g->next;
    else
        e->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        e->tail = g->prev;
    e->st.bytes -= g->bytes;
    group_free(g);
}

static void lru_touch(struct sigma_corr_engine *e, struct group *g)
{
    if (e->tail == g)
        return;
    if (g->prev)
        g->prev->next = g->next;
    else if (e->head == g)
        e->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    g->prev = e->tail;
    g->next = NULL;
    if (e->tail)
        e->tail->next = g;
    e->tail = g;
    if (!e->head)
        e->head = g;
}

static void account(struct sigma_corr_engine *e, struct group *g, size_t add)
{
    g->bytes += add;
    e->st.bytes += add;
}

/* Evicts groups whose window has expired, then, while over the cap, the
 * least recently used ones; never `keep`. */
static void evict(struct sigma_corr_engine *e, const struct group *keep)
{
    while (e->head && e->head != keep) {
        struct group *g = e->head;
        int64_t span = e->corrs[g->corr].c->timespan_us;
        if (g->newest > e->now - span - e->tolerance_us)
            break;
        group_remove(e, g);
        e->st.evicted_age++;
    }
    while (e->st.bytes > e->max_bytes && e->head && e->head != keep) {
        group_remove(e, e->head);
        e->st.evicted_cap++;
    }
}

static struct group *group_get(struct sigma_corr_engine *e, uint32_t corr, const char *key,
                               size_t keylen, uint64_t h)
{
    struct group **slot = tab_find(e, h, corr, key, keylen), *g;
    size_t nslots = e->corrs[corr].c->rules.n;

    if (*slot != NULL)
        return *slot;
    if ((e->tn + 1) * 2 > e->tcap) {
        if (tab_grow(e) < 0)
            return NULL;
        slot = tab_find(e, h, corr, key, keylen);
    }
    if (!(g = calloc(1, sizeof(*g))))
        return NULL;
    if (!(g->key = malloc(keylen ? keylen : 1))) {
        free(g);
        return NULL;
    }
    if (e->corrs[corr].c->type == SIGMA_CORR_TEMPORAL ||
        e->corrs[corr].c->type == SIGMA_CORR_TEMPORAL_ORDERED) {
        if (!(g->slot_cnt = calloc(nslots, sizeof(uint32_t)))) {
            group_free(g);
            return NULL;
        }
        g->bytes += nslots * sizeof(uint32_t);
    }
    memcpy(g->key, key, keylen);
    g->keylen = (uint32_t)keylen;
    g->hash = h;
    g->corr = corr;
    g->newest = INT64_MIN;
    g->quiet_until = INT64_MIN;
    g->fired_last = INT64_MIN;
    g->bytes += sizeof(*g) + keylen;
    e->st.bytes += g->bytes;
    *slot = g;
    e->tn++;
    lru_touch(e, g);
    return g;
}

/* ---- distinct values ---- */

static struct dslot *dt_find(struct dslot *dt, size_t dcap, uint64_t h)
{
    size_t mask = dcap - 1, i = (size_t)hash_mix(h) & mask;

    while (dt[i].cnt && dt[i].h != h)
        i = (i + 1) & mask;
    return &dt[i];
}

static int dt_add(struct sigma_corr_engine *e, struct group *g, uint64_t h)
{
    struct dslot *s;

    if ((g->dn + 1) * 2 > g->dcap) {
        size_t ncap = g->dcap ? g->dcap * 2 : 16;
        struct dslot *nd = calloc(ncap, sizeof(*nd));
        if (!nd)
            return -ENOMEM;
        for (size_t i = 0; i < g->dcap; i++)
            if (g->dt[i].cnt)
                *dt_find(nd, ncap, g->dt[i].h) = g->dt[i];
        free(g->dt);
        account(e, g, (ncap - g->dcap) * sizeof(*nd));
        g->dt = nd;
        g->dcap = ncap;
    }
    s = dt_find(g->dt, g->dcap, h);
    if (s->cnt == 0) {
        s->h = h;
        g->dn++;
    }
    s->cnt++;
    return 0;
}

static void dt_del(struct group *g, uint64_t h)
{
    size_t mask = g->dcap - 1, i;
    struct dslot *s = dt_find(g->dt, g->dcap, h);

    if (s->cnt == 0 || --s->cnt > 0)
        return;
    g->dn--;
    i = (size_t)(s - g->dt);
    for (size_t j = (i + 1) & mask; g->dt[j].cnt; j = (j + 1) & mask) {
        size_t home = (size_t)hash_mix(g->dt[j].h) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            g->dt[i] = g->dt[j];
            i = j;
        }
    }
    g->dt[i].cnt = 0;
}

static uint32_t dt_count(const struct group *g, uint64_t h)
{
    return g->dcap ? dt_find(g->dt, g->dcap, h)->cnt : 0;
}

/* ---- the window ---- */

static int uses_values(enum sigma_corr_type t)
{
    return t == SIGMA_CORR_VALUE_COUNT || t == SIGMA_CORR_VALUE_PERCENTILE;
}

static void window_pop_front(struct group *g, enum sigma_corr_type t)
{
    const struct entry *x = &g->ents[g->off];

    if (uses_values(t))
        dt_del(g, x->vh);
    if (g->slot_cnt)
        g->slot_cnt[x->slot]--;
    g->sum -= x->num;
    g->off++;
    g->n--;
}

static void window_reset(struct group *g, size_t nslots)
{
    g->off = g->n = 0;
    g->sum = 0;
    if (g->dt)
        memset(g->dt, 0, g->dcap * sizeof(*g->dt));
    g->dn = 0;
    if (g->slot_cnt)
        memset(g->slot_cnt, 0, nslots * sizeof(uint32_t));
    g->shead = g->ns = 0;
}

static int window_insert(struct sigma_corr_engine *e, struct group *g, const struct entry *x)
{
    size_t pos;

    if (g->off + g->n == g->cap) {
        if (g->off > 0 && g->off >= g->cap / 2) {
            memmove(g->ents, g->ents + g->off, g->n * sizeof(*g->ents));
            g->off = 0;
        } else {
            size_t ncap = g->cap ? g->cap * 2 : 4;
            struct entry *ne = realloc(g->ents, ncap * sizeof(*ne));
            if (!ne)
                return -ENOMEM;
            account(e, g, (ncap - g->cap) * sizeof(*ne));
            g->ents = ne;
            g->cap = ncap;
        }
    }
    /* Sorted by time; an equal time goes after, so arrival order holds. */
    pos = g->off + g->n;
    while (pos > g->off && g->ents[pos - 1].t > x->t)
        pos--;
    memmove(&g->ents[pos + 1], &g->ents[pos], (g->off + g->n - pos) * sizeof(*g->ents));
    g->ents[pos] = *x;
    g->n++;
    g->sum += x->num;
    if (g->slot_cnt)
        g->slot_cnt[x->slot]++;
    return 0;
}

static void sample_add(struct sigma_corr_engine *e, struct group *g, int64_t t, const char *rule_id,
                       const char *raw, size_t len)
{
    size_t i = (g->shead + g->ns) % SIGMA_CORR_MAX_SAMPLES;
    struct sample *s;

    if (g->ns == SIGMA_CORR_MAX_SAMPLES) {
        i = g->shead;
        g->shead = (g->shead + 1) % SIGMA_CORR_MAX_SAMPLES;
    } else {
        g->ns++;
    }
    s = &g->samples[i];
    if (!s->raw) {
        if (!(s->raw = malloc(SIGMA_CORR_SAMPLE_RAW))) {
            s->len = 0;
            s->t = t;
            s->rule_id = rule_id;
            return;
        }
        account(e, g, SIGMA_CORR_SAMPLE_RAW);
    }
    if (len > SIGMA_CORR_SAMPLE_RAW)
        len = SIGMA_CORR_SAMPLE_RAW;
    if (len)
        memcpy(s->raw, raw, len);
    s->len = len;
    s->t = t;
    s->rule_id = rule_id;
}

static double ordered_prefix(const struct group *g, size_t nslots)
{
    size_t want = 0;

    for (size_t i = g->off; i < g->off + g->n && want < nslots; i++)
        if (g->ents[i].slot == want)
            want++;
    return (double)want;
}

static int cond_holds(const struct sigma_corr_rule *c, double v)
{
    if (c->has_op[SIGMA_CORR_GT] && !(v > c->op_val[SIGMA_CORR_GT]))
        return 0;
    if (c->has_op[SIGMA_CORR_GTE] && !(v >= c->op_val[SIGMA_CORR_GTE]))
        return 0;
    if (c->has_op[SIGMA_CORR_LT] && !(v < c->op_val[SIGMA_CORR_LT]))
        return 0;
    if (c->has_op[SIGMA_CORR_LTE] && !(v <= c->op_val[SIGMA_CORR_LTE]))
        return 0;
    if (c->has_op[SIGMA_CORR_EQ] && !(v == c->op_val[SIGMA_CORR_EQ]))
        return 0;
    if (c->has_op[SIGMA_CORR_NEQ] && !(v != c->op_val[SIGMA_CORR_NEQ]))
        return 0;
    return 1;
}

/* A numeric field value; 1 on success. */
static int value_number(const char *v, size_t len, double *ret)
{
    char buf[64], *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, v, len);
    buf[len] = '\0';
    *ret = strtod(buf, &end);
    return end != buf && *end == '\0' && isfinite(*ret);
}

static int feed_one(struct sigma_corr_engine *e, uint32_t ci, uint32_t si, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg, unsigned depth);

/* Feeds every correlation in `l` with `ev`. */
static int feed_list(struct sigma_corr_engine *e, const struct reflist *l, const struct event *ev,
                     sigma_corr_hit_fn cb, void *arg, unsigned depth)
{
    int hits = 0, err = 0;

    for (size_t k = 0; k < l->n; k++) {
        int r = feed_one(e, l->v[k].corr, l->v[k].slot, ev, cb, arg, depth);
        if (r < 0)
            err = r;
        else
            hits += r;
    }
    return err ? err : hits;
}

static int feed_one(struct sigma_corr_engine *e, uint32_t ci, uint32_t si, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg, unsigned depth)
{
    const struct ccorr *cc = &e->corrs[ci];
    const struct sigma_corr_rule *c = cc->c;
    const struct cslot *sl = &cc->slots[si];
    char key[SIGMA_CORR_MAX_GROUP_BY * (CORR_KEY_VALUE_MAX + 5)];
    size_t keylen = 0;
    uint64_t h = hash_bytes(0xcbf29ce484222325ULL, &ci, sizeof(ci));
    struct entry x = {.t = ev->time_us, .slot = si};
    struct group *g;
    double v;
    int hits = 0;

    if (depth > e->ncorrs)
        return 0;
    for (size_t k = 0; k < c->group_by.n; k++) {
        size_t len;
        const char *val = event_get(ev, sl->key_fid[k], &len);
        uint32_t l32;

        if (!val) {
            e->st.ungrouped++;
            return 0;
        }
        if (len > CORR_KEY_VALUE_MAX)
            len = CORR_KEY_VALUE_MAX;
        l32 = (uint32_t)len;
        memcpy(key + keylen, &l32, 4);
        memcpy(key + keylen + 4, val, len);
        key[keylen + 4 + len] = '\0';
        keylen += len + 5;
    }
    if (c->fields.n) {
        uint64_t vh = 0xcbf29ce484222325ULL;
        for (size_t k = 0; k < c->fields.n; k++) {
            size_t len;
            const char *val = event_get(ev, sl->val_fid[k], &len);
            if (!val) {
                e->st.ungrouped++;
                return 0;
            }
            vh = hash_bytes(vh, &len, sizeof(len));
            vh = hash_bytes(vh, val, len);
            if (k == 0 && (c->type == SIGMA_CORR_VALUE_SUM || c->type == SIGMA_CORR_VALUE_AVG) &&
                !value_number(val, len, &x.num)) {
                e->st.ungrouped++;
                return 0;
            }
        }
        x.vh = vh;
    }
    h = hash_mix(hash_bytes(h, key, keylen));
    if (ev->time_us > e->now)
        e->now = ev->time_us;
    if (!(g = group_get(e, ci, key, keylen, h)))
        return -ENOMEM;
    lru_touch(e, g);
    if (g->newest == INT64_MIN || ev->time_us >= g->newest) {
        g->newest = ev->time_us;
    } else if (g->newest - ev->time_us > e->tolerance_us ||
               g->newest - ev->time_us > c->timespan_us || ev->time_us <= g->fired_last) {
        e->st.late_dropped++;
        evict(e, g);
        return 0;
    }
    while (g->n && g->ents[g->off].t < g->newest - c->timespan_us)
        window_pop_front(g, c->type);
    if (uses_values(c->type) && dt_add(e, g, x.vh) < 0)
        return -ENOMEM;
    if (window_insert(e, g, &x) < 0) {
        if (uses_values(c->type))
            dt_del(g, x.vh);
        return -ENOMEM;
    }
    sample_add(e, g, ev->time_us, sl->label, ev->raw, ev->raw_len);

    switch (c->type) {
    case SIGMA_CORR_EVENT_COUNT: v = (double)g->n; break;
    case SIGMA_CORR_VALUE_COUNT: v = (double)g->dn; break;
    case SIGMA_CORR_TEMPORAL:
        v = 0;
        for (size_t s = 0; s < c->rules.n; s++)
            v += g->slot_cnt[s] > 0;
        break;
    case SIGMA_CORR_TEMPORAL_ORDERED: v = ordered_prefix(g, c->rules.n); break;
    case SIGMA_CORR_VALUE_SUM: v = g->sum; break;
    case SIGMA_CORR_VALUE_AVG: v = g->sum / (double)g->n; break;
    default: v = 100.0 * (double)dt_count(g, x.vh) / (double)g->n; break;
    }
    if (cond_holds(c, v) && g->newest <= g->quiet_until) {
        /* Still inside the window of the last hit: one hit per window. */
        e->st.suppressed++;
    } else if (cond_holds(c, v)) {
        e->st.hits++;
        if (cc->emit && cb) {
            const char *vals[SIGMA_CORR_MAX_GROUP_BY];
            struct sigma_corr_sample smp[SIGMA_CORR_MAX_SAMPLES];
            struct sigma_corr_hit hit = {
                .rule = c,
                .group_fields = (const char *const *)c->group_by.v,
                .group_values = vals,
                .ngroup = c->group_by.n,
                .value = v,
                .events = g->n,
                .first_us = g->ents[g->off].t,
                .last_us = g->ents[g->off + g->n - 1].t,
                .samples = smp,
                .nsamples = g->ns,
            };
            size_t p = 0;
            for (size_t k = 0; k < c->group_by.n; k++) {
                uint32_t l32;
                memcpy(&l32, g->key + p, 4);
                vals[k] = g->key + p + 4;
                p += l32 + 5;
            }
            for (size_t k = 0; k < g->ns; k++) {
                const struct sample *s = &g->samples[(g->shead + k) % SIGMA_CORR_MAX_SAMPLES];
                smp[k].time_us = s->t;
                smp[k].rule_id = s->rule_id;
                smp[k].raw = s->raw ? s->raw : "";
                smp[k].raw_len = s->len;
            }
            cb(arg, &hit);
            hits++;
        }
        /* The events that made it fire never count again; the next hit
         * needs the window to have moved a whole timespan past them. */
        g->fired_last = g->newest;
        g->quiet_until = g->newest + c->timespan_us;
        window_reset(g, c->rules.n);
        /* A chained correlation counts this hit as one event; `g` may be
         * evicted from here on. */
        evict(e, NULL);
        int r = feed_list(e, &e->by_corr[ci], ev, cb, arg, depth + 1);
        if (r < 0)
            return r;
        return hits + r;
    }
    evict(e, g);
    return hits;
}

int sigma_corr_feed(struct sigma_corr_engine *e, size_t rule_idx, const struct event *ev,
                    sigma_corr_hit_fn cb, void *arg)
{
    if (rule_idx >= e->nrules)
        return 0;
    return feed_list(e, &e->by_rule[rule_idx], ev, cb, arg, 0);
}
