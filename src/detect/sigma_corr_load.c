/*
 * sigma_corr_load.c - Sigma correlation rules: the loader of one
 * correlation document (specification 2.1) into a struct sigma_corr_rule.
 * The engine that runs them is sigma_corr.c; the choices the specification
 * leaves open are listed in sigma_corr.h.  The document comes read by
 * util/ydoc.c (sigma_load.c splits the file into its documents).
 */
#include "detect/sigma_corr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ydoc.h"

static int cerr(struct ydoc *d, struct sigma_err *e, const yaml_node_t *n, const char *cat,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Refuses the rule: `cat` and the node's place go to e->at (through d, whose
 * err is &e->at), the formatted reason to e->reason.  A NULL node (a check
 * of the whole document) is placed at 1:1.  The first error is kept.
 */
static int cerr(struct ydoc *d, struct sigma_err *e, const yaml_node_t *n, const char *cat,
                const char *fmt, ...)
{
    va_list ap;

    if (!e || e->at.msg)
        return -EINVAL;
    if (n)
        ydoc_fail(d, n, cat);
    else
        ydoc_fail_at(d, 1, 1, cat);
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A scalar's text for a message, cut to 40 bytes; "?" for anything else. */
static const char *shown(const yaml_node_t *n, int *ret_len)
{
    size_t len;
    const char *s = ydoc_scalar(n, &len);

    if (!s) {
        *ret_len = 1;
        return "?";
    }
    *ret_len = (int)(len > 40 ? 40 : len);
    return s;
}

static int is_nullish(const yaml_node_t *n)
{
    return ydoc_plain(n) &&
           (ydoc_scalar_is(n, "") || ydoc_scalar_is(n, "~") || ydoc_scalar_is(n, "null"));
}

static int dup_scalar(const yaml_node_t *n, char **ret)
{
    size_t len;
    const char *s = ydoc_scalar(n, &len);

    *ret = strndup(s, len);
    return *ret ? 0 : -ENOMEM;
}

static int get_str(struct ydoc *d, const yaml_node_t *map, const char *key, char **ret,
                   struct sigma_err *e)
{
    yaml_node_t *n = ydoc_get(d, map, key);

    if (!n || is_nullish(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return cerr(d, e, n, "invalid attribute", "'%s' must be a string", key);
    return dup_scalar(n, ret);
}

/* A string or a list of strings (at most `max`) into *ret. */
static int get_strv(struct ydoc *d, yaml_node_t *n, const char *key, size_t max,
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
        return cerr(d, e, n, "invalid attribute", "'%s' must be a string or a list of strings",
                    key);
    ni = ydoc_len(n);
    if (ni > max)
        return cerr(d, e, n, "too many values", "'%s' lists %zu values, at most %zu allowed", key,
                    ni, max);
    if (!(ret->v = calloc(ni ? ni : 1, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < ni; i++) {
        yaml_node_t *x = ydoc_list_at(d, n, i);
        if (!x || x->type != YAML_SCALAR_NODE || is_nullish(x))
            return cerr(d, e, x ? x : n, "invalid attribute", "'%s' must list strings", key);
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
    const char *s;
    size_t len;

    if (!ydoc_plain(n))
        return 0;
    s = ydoc_scalar(n, &len);
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *ret = strtod(buf, &end);
    return *end == '\0' && isfinite(*ret);
}

static int load_condition(struct ydoc *d, yaml_node_t *cn, struct sigma_corr_rule *c,
                          struct sigma_err *e)
{
    yaml_node_t *k, *v;
    int lower = 0, upper = 0, r;

    if (cn->type != YAML_MAPPING_NODE)
        return cerr(d, e, cn, "invalid condition",
                    "a correlation condition must be a map such as "
                    "{gte: 10}");
    for (size_t i = 0; ydoc_pair_at(d, cn, i, &k, &v) == 0; i++) {
        size_t op;
        int klen;

        if (!k || !v)
            return cerr(d, e, cn, "invalid condition", "malformed condition");
        if (ydoc_scalar_is(k, "field")) {
            if ((r = get_strv(d, v, "field", SIGMA_CORR_MAX_FIELDS, &c->fields, e)) < 0)
                return r;
            continue;
        }
        for (op = 0; op < SIGMA_CORR_NOPS; op++)
            if (ydoc_scalar_is(k, op_names[op]))
                break;
        if (op == SIGMA_CORR_NOPS) {
            const char *ks = shown(k, &klen);
            return cerr(d, e, k, "invalid condition",
                        "unknown condition key '%.*s' (gt, gte, lt, lte, eq, neq, field)", klen,
                        ks);
        }
        if (!node_number(v, &c->op_val[op]))
            return cerr(d, e, v, "invalid condition", "'%s' needs a number", op_names[op]);
        c->has_op[op] = 1;
        if (op == SIGMA_CORR_GT || op == SIGMA_CORR_GTE || op == SIGMA_CORR_EQ)
            lower++;
        if (op == SIGMA_CORR_LT || op == SIGMA_CORR_LTE || op == SIGMA_CORR_EQ)
            upper++;
    }
    if (lower == 0 && upper == 0 && !c->has_op[SIGMA_CORR_NEQ])
        return cerr(d, e, cn, "condition without operator",
                    "the condition needs an operator: gt, gte, lt, lte, eq or neq");
    if (lower > 1 || upper > 1)
        return cerr(d, e, cn, "invalid condition",
                    "a condition takes one operator, or one lower (gt/gte) and one upper "
                    "(lt/lte) bound");
    return 0;
}

static int load_aliases(struct ydoc *d, yaml_node_t *an, struct sigma_corr_rule *c,
                        struct sigma_err *e)
{
    yaml_node_t *k, *v, *rk, *rv;
    size_t n;

    if (is_nullish(an))
        return 0;
    if (an->type != YAML_MAPPING_NODE)
        return cerr(d, e, an, "invalid aliases", "aliases must map alias names to {rule: field}");
    n = ydoc_len(an);
    if (!(c->aliases = calloc(n ? n : 1, sizeof(*c->aliases))))
        return -ENOMEM;
    for (size_t i = 0; ydoc_pair_at(d, an, i, &k, &v) == 0; i++) {
        struct sigma_corr_alias *a = &c->aliases[i];
        size_t m;

        if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_MAPPING_NODE)
            return cerr(d, e, k ? k : an, "invalid aliases",
                        "each alias must map rule names to field names");
        c->naliases++;
        if (dup_scalar(k, &a->name) < 0)
            return -ENOMEM;
        m = ydoc_len(v);
        if (!(a->rules = calloc(m ? m : 1, sizeof(char *))) ||
            !(a->fields = calloc(m ? m : 1, sizeof(char *))))
            return -ENOMEM;
        for (size_t j = 0; ydoc_pair_at(d, v, j, &rk, &rv) == 0; j++) {
            if (!rk || !rv || rk->type != YAML_SCALAR_NODE || rv->type != YAML_SCALAR_NODE)
                return cerr(d, e, rk ? rk : v, "invalid aliases",
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

/* The rule's own keys: title (required), id, name, status, description,
 * author, level, tags. */
static int load_meta(struct ydoc *d, yaml_node_t *root, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = ydoc_get(d, root, "title");
    int r;

    if (!n || n->type != YAML_SCALAR_NODE || is_nullish(n))
        return cerr(d, e, n ? n : root, "missing title", "a correlation needs a 'title' string");
    if ((r = get_str(d, root, "title", &c->title, e)) < 0 ||
        (r = get_str(d, root, "id", &c->id, e)) < 0 ||
        (r = get_str(d, root, "name", &c->name, e)) < 0 ||
        (r = get_str(d, root, "status", &c->status, e)) < 0 ||
        (r = get_str(d, root, "description", &c->description, e)) < 0 ||
        (r = get_str(d, root, "author", &c->author, e)) < 0 ||
        (r = get_str(d, root, "level", &c->level_text, e)) < 0 ||
        (r = get_strv(d, ydoc_get(d, root, "tags"), "tags", 256, &c->tags, e)) < 0)
        return r;
    if (c->level_text) {
        for (size_t i = 1; i < sizeof(level_names) / sizeof(level_names[0]); i++)
            if (strcmp(c->level_text, level_names[i]) == 0)
                c->level = (enum sigma_level)i;
        if (c->level == SIGMA_LEVEL_NONE)
            return cerr(d, e, ydoc_get(d, root, "level"), "invalid level",
                        "level must be informational, low, medium, high or critical");
    }
    return 0;
}

/* correlation.type: one of type_names. */
static int load_type(struct ydoc *d, yaml_node_t *cor, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = ydoc_get(d, cor, "type");
    const char *ns;
    size_t t;
    int nlen;

    if (!n)
        return cerr(d, e, cor, "missing type", "a correlation needs a 'type'");
    for (t = 0; t < sizeof(type_names) / sizeof(type_names[0]); t++)
        if (ydoc_scalar_is(n, type_names[t]))
            break;
    if (t == sizeof(type_names) / sizeof(type_names[0])) {
        ns = shown(n, &nlen);
        return cerr(d, e, n, "unknown correlation type",
                    "unknown correlation type '%.*s' (event_count, value_count, temporal, "
                    "temporal_ordered, value_sum, value_avg, value_percentile)",
                    nlen, ns);
    }
    c->type = (enum sigma_corr_type)t;
    return 0;
}

/* What the windows are made of: correlation.rules (required), group-by
 * and timespan (required). */
static int load_window(struct ydoc *d, yaml_node_t *cor, struct sigma_corr_rule *c,
                       struct sigma_err *e)
{
    yaml_node_t *n = ydoc_get(d, cor, "rules");
    const char *ts;
    size_t tlen;
    int r, shown_len;

    if (!n || is_nullish(n))
        return cerr(d, e, n ? n : cor, "missing rules", "a correlation needs 'rules'");
    if ((r = get_strv(d, n, "rules", SIGMA_CORR_MAX_RULES, &c->rules, e)) < 0)
        return r;
    if (c->rules.n == 0)
        return cerr(d, e, n, "missing rules", "'rules' lists no rule");

    if ((r = get_strv(d, ydoc_get(d, cor, "group-by"), "group-by", SIGMA_CORR_MAX_GROUP_BY,
                      &c->group_by, e)) < 0)
        return r;

    n = ydoc_get(d, cor, "timespan");
    if (!n || is_nullish(n))
        return cerr(d, e, n ? n : cor, "missing timespan", "a correlation needs a 'timespan'");
    if (!(ts = ydoc_scalar(n, &tlen)) || !(c->timespan_us = parse_timespan(ts, tlen))) {
        ts = shown(n, &shown_len);
        return cerr(d, e, n, "invalid timespan",
                    "timespan '%.*s' is not a number followed by s, m, h, d or w", shown_len, ts);
    }
    return 0;
}

/* correlation.condition, or the temporal types' default, and the fields
 * and bounds each type's condition needs. */
static int load_cond(struct ydoc *d, yaml_node_t *cor, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = ydoc_get(d, cor, "condition");
    int r;

    if (n && !is_nullish(n)) {
        if ((r = load_condition(d, n, c, e)) < 0)
            return r;
    } else if (c->type == SIGMA_CORR_TEMPORAL || c->type == SIGMA_CORR_TEMPORAL_ORDERED) {
        /* pySigma: all referenced rules must match. */
        c->has_op[SIGMA_CORR_GTE] = 1;
        c->op_val[SIGMA_CORR_GTE] = (double)c->rules.n;
        n = NULL;
    } else {
        return cerr(d, e, cor, "missing condition", "a %s correlation needs a 'condition'",
                    type_names[c->type]);
    }
    switch (c->type) {
    case SIGMA_CORR_VALUE_COUNT:
        if (c->fields.n == 0)
            return cerr(d, e, n, "missing field", "a value_count condition needs 'field'");
        break;
    case SIGMA_CORR_VALUE_SUM:
    case SIGMA_CORR_VALUE_AVG:
    case SIGMA_CORR_VALUE_PERCENTILE:
        if (c->fields.n != 1)
            return cerr(d, e, n, "missing field", "a %s condition needs exactly one 'field'",
                        type_names[c->type]);
        break;
    default:
        if (c->fields.n)
            return cerr(d, e, n, "invalid condition", "'field' belongs to value_* correlations");
        break;
    }
    if (c->type <= SIGMA_CORR_TEMPORAL_ORDERED && !c->has_op[SIGMA_CORR_GT] &&
        !c->has_op[SIGMA_CORR_GTE] && !c->has_op[SIGMA_CORR_EQ])
        return cerr(d, e, n, "absence condition not supported",
                    "a %s condition needs a lower bound (gt, gte or eq): an absence (lt/lte "
                    "alone) could only be decided when a window closes",
                    type_names[c->type]);
    return 0;
}

static int load_corr(struct ydoc *d, yaml_node_t *root, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *cor, *n;
    int r;

    if (!root || root->type != YAML_MAPPING_NODE)
        return cerr(d, e, root, "not a rule", "the document is not a YAML mapping");
    c->line = ydoc_line(root);
    if ((r = load_meta(d, root, c, e)) < 0)
        return r;
    cor = ydoc_get(d, root, "correlation");
    if (!cor || cor->type != YAML_MAPPING_NODE)
        return cerr(d, e, cor ? cor : root, "invalid correlation", "'correlation' must be a map");
    if ((r = load_type(d, cor, c, e)) < 0 || (r = load_window(d, cor, c, e)) < 0 ||
        (r = load_cond(d, cor, c, e)) < 0)
        return r;
    n = ydoc_get(d, cor, "aliases");
    if (n && (r = load_aliases(d, n, c, e)) < 0)
        return r;
    n = ydoc_get(d, cor, "generate");
    if (n && !is_nullish(n)) {
        if (ydoc_scalar_is(n, "true") || ydoc_scalar_is(n, "True") || ydoc_scalar_is(n, "TRUE"))
            c->generate = 1;
        else if (!(ydoc_scalar_is(n, "false") || ydoc_scalar_is(n, "False") ||
                   ydoc_scalar_is(n, "FALSE")))
            return cerr(d, e, n, "invalid generate", "'generate' must be true or false");
    }
    return 0;
}

int sigma_corr_load_yaml(struct ydoc *d, const char *file, struct sigma_corr_rule **ret_corr,
                         struct sigma_err *reterr)
{
    struct parse_err *outer = d->err;
    struct sigma_corr_rule *c;
    int r;

    *ret_corr = NULL;
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    if (file && !(c->file = strdup(file))) {
        free(c);
        return -ENOMEM;
    }
    /* Node errors land in the rule error's position (cerr). */
    d->err = reterr ? &reterr->at : NULL;
    r = load_corr(d, ydoc_root(d), c, reterr);
    d->err = outer;
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
