/*
 * sigma_corr_load.c - Sigma correlation rules: the loader of one
 * correlation document (specification 2.1) into a struct sigma_corr_rule.
 * The engine that runs them is sigma_corr.c; the choices the specification
 * leaves open are listed in sigma_corr.h.
 */
#include "detect/sigma_corr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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
            if ((r = get_strv(doc, v, "field", SIGMA_CORR_MAX_FIELDS, &c->fields, e)) < 0)
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

/* The rule's own keys: title (required), id, name, status, description,
 * author, level, tags. */
static int load_meta(yaml_document_t *doc, yaml_node_t *root, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = get(doc, root, "title");
    int r;

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
    return 0;
}

/* correlation.type: one of type_names. */
static int load_type(yaml_document_t *doc, yaml_node_t *cor, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = get(doc, cor, "type");
    size_t t;

    if (!n)
        return cerr(e, cor, "missing type", "a correlation needs a 'type'");
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
    return 0;
}

/* What the windows are made of: correlation.rules (required), group-by
 * and timespan (required). */
static int load_window(yaml_document_t *doc, yaml_node_t *cor, struct sigma_corr_rule *c,
                       struct sigma_err *e)
{
    yaml_node_t *n = get(doc, cor, "rules");
    int r;

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
    return 0;
}

/* correlation.condition, or the temporal types' default, and the fields
 * and bounds each type's condition needs. */
static int load_cond(yaml_document_t *doc, yaml_node_t *cor, struct sigma_corr_rule *c,
                     struct sigma_err *e)
{
    yaml_node_t *n = get(doc, cor, "condition");
    int r;

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
    if ((r = load_meta(doc, root, c, e)) < 0)
        return r;
    cor = get(doc, root, "correlation");
    if (!cor || cor->type != YAML_MAPPING_NODE)
        return cerr(e, cor ? cor : root, "invalid correlation", "'correlation' must be a map");
    if ((r = load_type(doc, cor, c, e)) < 0 || (r = load_window(doc, cor, c, e)) < 0 ||
        (r = load_cond(doc, cor, c, e)) < 0)
        return r;
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
