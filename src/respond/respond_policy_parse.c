/*
 * respond_policy_parse.c - loading the response policy: respond.yaml read
 * with libyaml's document API (every node keeps its line and column for
 * messages), checked whole, into a struct respond_policy
 * (respond_policy.h).  The decision is in respond_policy.c.
 */
#include "respond/respond_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#include "respond/respond_exec.h"
#include "respond/respond_never.h"
#include "respond/respond_policy_priv.h"
#include "triage/triage.h"
#include "util/limits.h"
#include "util/readfile.h"

/* Default `internal` networks: RFC 1918, shared address space, ULA. */
static const char *const default_internal[] = {
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
};
#define NDEFAULT_INTERNAL (sizeof(default_internal) / sizeof(default_internal[0]))

/* ---- parsing ------------------------------------------------------------ */

struct pparse {
    yaml_document_t *doc;
    struct respond_policy *pol;
    struct parse_err *err;
};

/* Records the first error, at `node`, and returns -EINVAL. */
static int perr(struct pparse *p, const yaml_node_t *node, const char *msg)
{
    if (p->err && !p->err->msg) {
        p->err->line = node ? (unsigned)node->start_mark.line + 1 : 0;
        p->err->col = node ? (unsigned)node->start_mark.column + 1 : 0;
        p->err->off = node ? node->start_mark.index : 0;
        p->err->msg = msg;
    }
    return -EINVAL;
}

/* The text of a scalar node; -EINVAL (recorded) for anything else or a
 * scalar holding a NUL, which C strings would silently cut. */
static int need_scalar(struct pparse *p, const yaml_node_t *n, const char **ret, size_t *ret_len)
{
    *ret = "";
    *ret_len = 0;
    if (n->type != YAML_SCALAR_NODE)
        return perr(p, n, "expected a single value");
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
        return perr(p, n, "value contains a NUL byte");
    *ret = (const char *)n->data.scalar.value;
    *ret_len = n->data.scalar.length;
    return 0;
}

static int get_bool(struct pparse *p, const yaml_node_t *n, int *ret)
{
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0)
        *ret = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0)
        *ret = 0;
    else
        return perr(p, n, "expected true or false");
    return 0;
}

static int get_uint(struct pparse *p, const yaml_node_t *n, unsigned lo, unsigned hi, unsigned *ret,
                    const char *range_msg)
{
    const char *s;
    size_t len, i;
    unsigned long long v = 0;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (len == 0)
        return perr(p, n, "expected a whole number");
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return perr(p, n, "expected a whole number");
        if (v > 10000000000ULL)
            return perr(p, n, range_msg);
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return perr(p, n, range_msg);
    *ret = (unsigned)v;
    return 0;
}

/* "30s", "10m", "1h", "7d"; more than 0 and at most a year. */
static int get_duration(struct pparse *p, const yaml_node_t *n, int64_t *ret)
{
    const char *s;
    size_t len, i = 0;
    int64_t v = 0, mul;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    while (i < len && s[i] >= '0' && s[i] <= '9' && v < INT64_C(100000000))
        v = v * 10 + (s[i++] - '0');
    if (i == 0 || i + 1 != len)
        return perr(p, n, "expected a duration such as 10m, 1h or 1d");
    switch (s[i]) {
    case 's': mul = US_PER_S; break;
    case 'm': mul = US_PER_MIN; break;
    case 'h': mul = 60 * US_PER_MIN; break;
    case 'd': mul = US_PER_DAY; break;
    default: return perr(p, n, "duration unit is not s, m, h or d");
    }
    if (v <= 0 || v > 366 * US_PER_DAY / mul)
        return perr(p, n, "duration must be positive and at most a year");
    *ret = v * mul;
    return 0;
}

static int get_factor(struct pparse *p, const yaml_node_t *n, double *ret)
{
    const char *s;
    char buf[32], *end;
    size_t len;
    double v;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (len == 0 || len >= sizeof(buf))
        return perr(p, n, "expected a number such as 2");
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return perr(p, n, "expected a number such as 2");
    if (v < 1.0 || v > 100.0)
        return perr(p, n, "factor must be between 1 and 100");
    *ret = v;
    return 0;
}

static int get_string(struct pparse *p, const yaml_node_t *n, char **dst)
{
    const char *s;
    size_t len;
    char *d;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (len == 0)
        return perr(p, n, "expected a non-empty string");
    if (len > RESPOND_MAX_STRING)
        return perr(p, n, "string longer than 256 bytes");
    if (!(d = strndup(s, len)))
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

/* A sequence node, or a lone scalar taken as a list of one. */
static int seq_items(struct pparse *p, yaml_node_t *n, yaml_node_item_t **ret_start, size_t *ret_n,
                     size_t max, yaml_node_item_t *one)
{
    *ret_start = NULL;
    *ret_n = 0;
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (cnt > max)
            return perr(p, n, "list too long");
        *ret_start = n->data.sequence.items.start;
        *ret_n = cnt;
        return 0;
    }
    if (n->type == YAML_SCALAR_NODE && one) {
        *one = (yaml_node_item_t)(n - p->doc->nodes.start + 1);
        *ret_start = one;
        *ret_n = 1;
        return 0;
    }
    return perr(p, n, "expected a list");
}

typedef int (*pair_fn)(struct pparse *p, yaml_node_t *v, void *arg);

struct keyword {
    const char *name;
    pair_fn fn;
};

static int kwcmp(const void *a, const void *b)
{
    return strcmp((const char *)a, ((const struct keyword *)b)->name);
}

/* Calls the handler of each key of mapping `map` from the sorted table `kw`.
 * Unknown and duplicate keys are errors: a typo must not silently leave a
 * safety setting at its default. */
static int each_pair(struct pparse *p, yaml_node_t *map, const struct keyword *kw, size_t nkw,
                     void *arg, const char *what)
{
    if (map->type != YAML_MAPPING_NODE)
        return perr(p, map, what);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *key;
        const struct keyword *hit;
        int r;

        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return perr(p, k ? k : map, "expected a key");
        key = (const char *)k->data.scalar.value;
        hit = bsearch(key, kw, nkw, sizeof(*kw), kwcmp);
        if (!hit)
            return perr(p, k, "unknown key");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
            yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                strcmp((const char *)k2->data.scalar.value, key) == 0)
                return perr(p, k, "duplicate key");
        }
        if ((r = hit->fn(p, v, arg)) < 0)
            return r;
    }
    return 0;
}

#define NKW(t) (sizeof(t) / sizeof((t)[0]))

/* ---- top-level scalars ---- */

static int kw_dry_run(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    p->pol->dry_run_line = (unsigned)v->start_mark.line + 1;
    return get_bool(p, v, &p->pol->dry_run);
}

static int kw_max_blocks(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(p, v, 1, RESPOND_MAX_BLOCKS, &p->pol->max_blocks,
                    "max_blocks must be between 1 and 100000");
}

/* ---- allowlist, internal ---- */

static int parse_net(struct pparse *p, yaml_node_t *n, struct asset_net *ret)
{
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, n, &s, &len)) < 0)
        return r;
    if (asset_net_parse(s, len, ret) < 0)
        return perr(p, n, "expected an IP address or network such as 10.0.0.0/8");
    return 0;
}

static int kw_allow_net(struct pparse *p, yaml_node_t *v, void *arg)
{
    return parse_net(p, v, &((struct respond_allow *)arg)->net);
}

static int kw_allow_note(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_string(p, v, &((struct respond_allow *)arg)->note);
}

static const struct keyword allow_kw[] = {
    {"net", kw_allow_net},
    {"note", kw_allow_note},
};

/* A list of nets, each an address, a CIDR or {net, note}: the allowlist
 * and the management networks. */
static int allow_list(struct pparse *p, yaml_node_t *v, struct respond_allow **ret, size_t *ret_n)
{
    yaml_node_item_t *items;
    size_t n;
    int r;

    if ((r = seq_items(p, v, &items, &n, RESPOND_MAX_ALLOW, NULL)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(*ret = calloc(n, sizeof(**ret))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);
        struct respond_allow *a = &(*ret)[(*ret_n)++];

        if (!it)
            return perr(p, v, "expected a list");
        a->line = (unsigned)it->start_mark.line + 1;
        if (it->type == YAML_MAPPING_NODE) {
            a->net.family = 0;
            if ((r = each_pair(p, it, allow_kw, NKW(allow_kw), a, "")) < 0)
                return r;
            if (a->net.family == 0)
                return perr(p, it, "allowlist entry needs a net");
        } else if ((r = parse_net(p, it, &a->net)) < 0) {
            return r;
        }
    }
    return 0;
}

static int kw_allowlist(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return allow_list(p, v, &p->pol->allow, &p->pol->nallow);
}

static int kw_management(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return allow_list(p, v, &p->pol->management, &p->pol->nmanagement);
}

static int kw_internal(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_policy *pol = p->pol;
    yaml_node_item_t *items;
    size_t n;
    int r;

    (void)arg;
    if ((r = seq_items(p, v, &items, &n, RESPOND_MAX_INTERNAL, NULL)) < 0)
        return r;
    free(pol->internal);
    pol->internal = NULL;
    pol->ninternal = 0;
    if (n == 0)
        return 0;
    if (!(pol->internal = calloc(n, sizeof(*pol->internal))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);

        if (!it)
            return perr(p, v, "expected a list");
        if ((r = parse_net(p, it, &pol->internal[i])) < 0)
            return r;
        pol->ninternal++;
    }
    return 0;
}

/* ---- rate, ban ---- */

static int kw_rate_apm(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(p, v, 1, 100000, &p->pol->actions_per_minute,
                    "actions_per_minute must be between 1 and 100000");
}

static int kw_rate_burst(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(p, v, 1, 100000, &p->pol->burst, "burst must be between 1 and 100000");
}

/* rate.per_rule and rate.per_source: a bucket's two numbers. */
struct bucket_conf {
    unsigned *apm, *burst;
};

static int kw_bucket_apm(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_uint(p, v, 1, 100000, ((struct bucket_conf *)arg)->apm,
                    "actions_per_minute must be between 1 and 100000");
}

static int kw_bucket_burst(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_uint(p, v, 1, 100000, ((struct bucket_conf *)arg)->burst,
                    "burst must be between 1 and 100000");
}

static const struct keyword bucket_kw[] = {
    {"actions_per_minute", kw_bucket_apm},
    {"burst", kw_bucket_burst},
};

static int kw_rate_per_rule(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct bucket_conf b = {&p->pol->rule_apm, &p->pol->rule_burst};

    (void)arg;
    return each_pair(p, v, bucket_kw, NKW(bucket_kw), &b, "per_rule: expected a mapping");
}

static int kw_rate_per_source(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct bucket_conf b = {&p->pol->source_apm, &p->pol->source_burst};

    (void)arg;
    return each_pair(p, v, bucket_kw, NKW(bucket_kw), &b, "per_source: expected a mapping");
}

static const struct keyword rate_kw[] = {
    {"actions_per_minute", kw_rate_apm},
    {"burst", kw_rate_burst},
    {"per_rule", kw_rate_per_rule},
    {"per_source", kw_rate_per_source},
};

static int kw_rate(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return each_pair(p, v, rate_kw, NKW(rate_kw), NULL, "rate: expected a mapping");
}

static int kw_ban_base(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_duration(p, v, &p->pol->ban_base_us);
}

static int kw_ban_factor(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_factor(p, v, &p->pol->ban_factor);
}

static int kw_ban_forget(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_duration(p, v, &p->pol->ban_forget_us);
}

static int kw_ban_max(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_duration(p, v, &p->pol->ban_max_us);
}

static int kw_ban_track(struct pparse *p, yaml_node_t *v, void *arg)
{
    unsigned n = 0;
    int r;

    (void)arg;
    if ((r = get_uint(p, v, 1, RESPOND_MAX_OFFENDERS, &n, "track must be between 1 and 1000000")) <
        0)
        return r;
    p->pol->ban_track = n;
    return 0;
}

static const struct keyword ban_kw[] = {
    {"base", kw_ban_base}, {"factor", kw_ban_factor}, {"forget_after", kw_ban_forget},
    {"max", kw_ban_max},   {"track", kw_ban_track},
};

static int kw_ban(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = each_pair(p, v, ban_kw, NKW(ban_kw), NULL, "ban: expected a mapping")) < 0)
        return r;
    if (p->pol->ban_max_us < p->pol->ban_base_us)
        return perr(p, v, "ban: max is shorter than base");
    return 0;
}

/* ---- rules ---- */

static int kw_rule_name(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_string(p, v, &((struct respond_rule *)arg)->name);
}

/* A list of names, each turned into a bit by `lookup` (-1: not a name). */
static int get_bits(struct pparse *p, yaml_node_t *v, int (*lookup)(const char *s), unsigned *ret,
                    const char *bad_msg)
{
    yaml_node_item_t *items, one;
    size_t n;
    int r;

    if ((r = seq_items(p, v, &items, &n, RESPOND_MAX_LIST, &one)) < 0)
        return r;
    *ret = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);
        const char *s;
        size_t len;
        int b;

        if (!it)
            return perr(p, v, "expected a list");
        if ((r = need_scalar(p, it, &s, &len)) < 0)
            return r;
        if ((b = lookup(s)) < 0)
            return perr(p, it, bad_msg);
        *ret |= 1u << b;
    }
    return 0;
}

static int type_lookup(const char *s)
{
    for (int i = 1; i < TRIAGE_TYPE_COUNT; i++)
        if (strcasecmp(s, triage_type_name((enum triage_type)i)) == 0)
            return i;
    return -1;
}

static int kw_rule_kind(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_bits(p, v, respond_policy_kind_lookup, &((struct respond_rule *)arg)->kinds,
                    "kind must be rule, correlation, anomaly or incident");
}

static int kw_rule_actions(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_bits(p, v, respond_policy_action_lookup, &((struct respond_rule *)arg)->actions,
                    "action must be block, webhook, mail or exec");
}

static int kw_rule_type(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_bits(p, v, type_lookup, &((struct respond_rule *)arg)->types,
                    "not an incident type of MISSION.md section 2");
}

static int get_strlist(struct pparse *p, yaml_node_t *v, char ***dst, size_t *ndst)
{
    yaml_node_item_t *items, one;
    size_t n;
    int r;

    if ((r = seq_items(p, v, &items, &n, RESPOND_MAX_LIST, &one)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(*dst = calloc(n, sizeof(**dst))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);

        if (!it)
            return perr(p, v, "expected a list");
        if ((r = get_string(p, it, &(*dst)[i])) < 0)
            return r;
        (*ndst)++;
    }
    return 0;
}

static int kw_rule_rule(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;

    return get_strlist(p, v, &ru->rules, &ru->nrules);
}

static int kw_rule_corr(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;

    return get_strlist(p, v, &ru->correlations, &ru->ncorrelations);
}

static int kw_rule_level(struct pparse *p, yaml_node_t *v, void *arg)
{
    static const char *const names[] = {"informational", "low", "medium", "high", "critical"};
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, v, &s, &len)) < 0)
        return r;
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0 || (len == 1 && s[0] == '1' + i)) {
            ru->min_level = i + 1;
            return 0;
        }
    }
    return perr(p, v, "min_level must be informational, low, medium, high, critical or 1..5");
}

static int kw_rule_from(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "any") == 0)
        ru->from = RESPOND_FROM_ANY;
    else if (strcmp(s, "outside") == 0)
        ru->from = RESPOND_FROM_OUTSIDE;
    else if (strcmp(s, "inside") == 0)
        ru->from = RESPOND_FROM_INSIDE;
    else
        return perr(p, v, "from must be outside, inside or any");
    return 0;
}

static int kw_rule_mode(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "auto") == 0)
        ru->mode = RESPOND_MODE_AUTO;
    else if (strcmp(s, "approve") == 0)
        ru->mode = RESPOND_MODE_APPROVE;
    else
        return perr(p, v, "mode must be auto or approve");
    return 0;
}

static const struct keyword rule_kw[] = {
    {"actions", kw_rule_actions},    {"correlation", kw_rule_corr}, {"from", kw_rule_from},
    {"incident_type", kw_rule_type}, {"kind", kw_rule_kind},        {"min_level", kw_rule_level},
    {"mode", kw_rule_mode},          {"name", kw_rule_name},        {"rule", kw_rule_rule},
};

static int kw_rules(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_policy *pol = p->pol;
    yaml_node_item_t *items;
    size_t n;
    int r;

    (void)arg;
    if ((r = seq_items(p, v, &items, &n, RESPOND_MAX_RULES, NULL)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(pol->rules = calloc(n, sizeof(*pol->rules))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);
        struct respond_rule *ru = &pol->rules[pol->nrules++];
        char label[32];

        if (!it)
            return perr(p, v, "expected a list");
        ru->line = (unsigned)it->start_mark.line + 1;
        if ((r = each_pair(p, it, rule_kw, NKW(rule_kw), ru, "rule: expected a mapping")) < 0)
            return r;
        if (ru->actions == 0)
            return perr(p, it, "rule has no actions");
        if (!ru->name) {
            snprintf(label, sizeof(label), "#%zu", i + 1);
            if (!(ru->name = strdup(label)))
                return -ENOMEM;
        }
    }
    return 0;
}

/* ---- how actions are carried out ---- */

/* A duration in whole milliseconds, at most 10 minutes: the time one
 * action may take. */
static int get_timeout_ms(struct pparse *p, yaml_node_t *v, unsigned *ret)
{
    int64_t us = 0;
    int r;

    if ((r = get_duration(p, v, &us)) < 0)
        return r;
    if (us > 10 * US_PER_MIN)
        return perr(p, v, "timeout must be at most 10m");
    *ret = (unsigned)(us / 1000);
    return 0;
}

/* An nftables name: [A-Za-z_][A-Za-z0-9_]*, shorter than the buffer. */
static int get_nft_name(struct pparse *p, yaml_node_t *v, char *dst, size_t size)
{
    const char *s;
    size_t len;
    int r;

    if ((r = need_scalar(p, v, &s, &len)) < 0)
        return r;
    if (len == 0 || len >= size)
        return perr(p, v, "name must be 1 to 31 characters");
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return perr(p, v, "name may hold only letters, digits and _, not first a digit");
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int kw_block_family(struct pparse *p, yaml_node_t *v, void *arg)
{
    const char *s;
    size_t len;
    int r;

    (void)arg;
    if ((r = need_scalar(p, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "inet") != 0 && strcmp(s, "ip") != 0 && strcmp(s, "ip6") != 0)
        return perr(p, v, "family must be inet, ip or ip6");
    snprintf(p->pol->block.family, sizeof(p->pol->block.family), "%s", s);
    return 0;
}

static int kw_block_table(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(p, v, p->pol->block.table, sizeof(p->pol->block.table));
}

static int kw_block_set4(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(p, v, p->pol->block.set4, sizeof(p->pol->block.set4));
}

static int kw_block_set6(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(p, v, p->pol->block.set6, sizeof(p->pol->block.set6));
}

static int kw_block_create(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_bool(p, v, &p->pol->block.create);
}

static const struct keyword block_kw[] = {
    {"create", kw_block_create}, {"family", kw_block_family}, {"set4", kw_block_set4},
    {"set6", kw_block_set6},     {"table", kw_block_table},
};

static int kw_block(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return each_pair(p, v, block_kw, NKW(block_kw), NULL, "block: expected a mapping");
}

static int kw_wh_url(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(p, v, &p->pol->webhook.url)) < 0)
        return r;
    if (strncmp(p->pol->webhook.url, "http://", 7) != 0 &&
        strncmp(p->pol->webhook.url, "https://", 8) != 0)
        return perr(p, v, "url must start with http:// or https://");
    for (const char *c = p->pol->webhook.url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return perr(p, v, "url holds a space or control character");
    return 0;
}

static int kw_wh_secret(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_string(p, v, &p->pol->webhook.secret_file);
}

static int kw_wh_timeout(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(p, v, &p->pol->webhook.timeout_ms);
}

static int kw_wh_attempts(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(p, v, 1, 20, &p->pol->webhook.attempts, "attempts must be between 1 and 20");
}

static int kw_wh_backoff(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(p, v, &p->pol->webhook.backoff_ms);
}

static int kw_wh_backoff_max(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(p, v, &p->pol->webhook.backoff_max_ms);
}

static const struct keyword webhook_kw[] = {
    {"attempts", kw_wh_attempts},  {"backoff", kw_wh_backoff}, {"backoff_max", kw_wh_backoff_max},
    {"secret_file", kw_wh_secret}, {"timeout", kw_wh_timeout}, {"url", kw_wh_url},
};

static int kw_webhook(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = each_pair(p, v, webhook_kw, NKW(webhook_kw), NULL, "webhook: expected a mapping")) < 0)
        return r;
    if (!p->pol->webhook.url)
        return perr(p, v, "webhook: url is required");
    if (!p->pol->webhook.secret_file)
        return perr(p, v, "webhook: secret_file is required (the HMAC key, at least 32 bytes)");
    p->pol->webhook.given = 1;
    return 0;
}

/* A plain mail address for a header: printable, no space, one @, nothing
 * a header could be split or extended with. */
static int mail_addr_ok(const char *s)
{
    size_t at = 0, n = 0;

    for (const char *c = s; *c; c++, n++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("<>,;:\"()[]\\", *c))
            return 0;
        if (*c == '@')
            at++;
    }
    return n >= 3 && n <= 254 && at == 1 && s[0] != '@' && s[0] != '-' && s[n - 1] != '@';
}

static int kw_mail_to(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_mail_set *m = &p->pol->mail;
    yaml_node_item_t *items, one;
    size_t n;
    int r;

    (void)arg;
    if ((r = seq_items(p, v, &items, &n, RESPOND_MAIL_MAX_TO, &one)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);

        if (!it)
            return perr(p, v, "expected a list");
        if ((r = get_string(p, it, &m->to[m->nto])) < 0)
            return r;
        m->nto++;
        if (!mail_addr_ok(m->to[m->nto - 1]))
            return perr(p, it, "not a plain mail address (user@host)");
    }
    return 0;
}

static int kw_mail_from(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(p, v, &p->pol->mail.from)) < 0)
        return r;
    for (const char *c = p->pol->mail.from; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("<>,;:\"()[]\\", *c))
            return perr(p, v, "not a plain mail address");
    return 0;
}

static int kw_mail_sendmail(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(p, v, &p->pol->mail.sendmail)) < 0)
        return r;
    if (p->pol->mail.sendmail[0] != '/')
        return perr(p, v, "sendmail must be an absolute path");
    return 0;
}

static int kw_mail_timeout(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(p, v, &p->pol->mail.timeout_ms);
}

static const struct keyword mail_kw[] = {
    {"from", kw_mail_from},
    {"sendmail", kw_mail_sendmail},
    {"timeout", kw_mail_timeout},
    {"to", kw_mail_to},
};

static int kw_mail(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = each_pair(p, v, mail_kw, NKW(mail_kw), NULL, "mail: expected a mapping")) < 0)
        return r;
    if (p->pol->mail.nto == 0)
        return perr(p, v, "mail: to is required");
    p->pol->mail.given = 1;
    return 0;
}

static int kw_exec_command(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_exec_set *e = &p->pol->exec;
    yaml_node_item_t *items;
    size_t n;
    int r;

    (void)arg;
    if (e->argv)
        return perr(p, v, "duplicate key");
    if ((r = seq_items(p, v, &items, &n, RESPOND_EXEC_ARGC_MAX, NULL)) < 0)
        return r;
    if (n == 0)
        return perr(p, v, "command: expected the program and its arguments");
    if (!(e->argv = calloc(n + 1, sizeof(*e->argv))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(p->doc, items[i]);
        const char *s;
        size_t len;

        if (!it)
            return perr(p, v, "expected a list");
        if ((r = need_scalar(p, it, &s, &len)) < 0)
            return r;
        if (len > RESPOND_EXEC_ARG_MAX)
            return perr(p, it, "argument longer than 8 KiB");
        if (!(e->argv[i] = strndup(s, len)))
            return -ENOMEM;
        e->argc++;
    }
    return 0;
}

static int kw_exec_timeout(struct pparse *p, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(p, v, &p->pol->exec.timeout_ms);
}

static const struct keyword exec_kw[] = {
    {"command", kw_exec_command},
    {"timeout", kw_exec_timeout},
};

static int kw_exec(struct pparse *p, yaml_node_t *v, void *arg)
{
    struct respond_exec_conf ec;
    const char *why = NULL;
    int r;

    (void)arg;
    if ((r = each_pair(p, v, exec_kw, NKW(exec_kw), NULL, "exec: expected a mapping")) < 0)
        return r;
    if (!p->pol->exec.argv)
        return perr(p, v, "exec: command is required");
    ec = (struct respond_exec_conf){.argv = (const char *const *)p->pol->exec.argv};
    if (respond_exec_check(&ec, &why) < 0)
        return perr(p, v, why);
    p->pol->exec.given = 1;
    return 0;
}

/* After the whole file: every action a rule names can be carried out. */
static int check_actions(struct pparse *p, yaml_node_t *root)
{
    static const struct {
        unsigned bit;
        const char *msg;
    } need[] = {
        {RESPOND_ACTION_WEBHOOK, "a rule names webhook but there is no webhook: section"},
        {RESPOND_ACTION_MAIL, "a rule names mail but there is no mail: section"},
        {RESPOND_ACTION_EXEC, "a rule names exec but there is no exec: section"},
    };
    const struct respond_policy *pol = p->pol;
    const char *why;

    for (size_t i = 0; i < pol->nrules; i++) {
        const struct respond_rule *ru = &pol->rules[i];
        for (size_t j = 0; j < NKW(need); j++) {
            int given = need[j].bit == RESPOND_ACTION_WEBHOOK ? pol->webhook.given
                        : need[j].bit == RESPOND_ACTION_MAIL  ? pol->mail.given
                                                              : pol->exec.given;
            if ((ru->actions & need[j].bit) && !given) {
                int r = perr(p, root, need[j].msg);
                /* Point at the rule rather than the top of the file. */
                if (p->err && p->err->msg == need[j].msg) {
                    p->err->line = ru->line;
                    p->err->col = 1;
                }
                return r;
            }
        }
        p->pol->actions_used |= ru->actions;
    }
    if (respond_fw_conf_check(&pol->block, &why) < 0)
        return perr(p, root, why);
    /* Issue 15: acting for real with nothing protected by name is how a
     * forged line blocked the host's own resolver. */
    if (!pol->dry_run && pol->nallow == 0) {
        int r = perr(p, root,
                     "dry_run: false needs an allowlist: list the networks that must never be "
                     "blocked (own networks, gateways, DNS servers, monitoring hosts) first");
        if (p->err && pol->dry_run_line) {
            p->err->line = pol->dry_run_line;
            p->err->col = 1;
        }
        return r;
    }
    /* Unset bucket sizes: per rule as the global one, per source half of it,
     * so that one source alone never drains the global bucket. */
    if (!p->pol->rule_apm)
        p->pol->rule_apm = pol->actions_per_minute;
    if (!p->pol->rule_burst)
        p->pol->rule_burst = pol->burst;
    if (!p->pol->source_apm)
        p->pol->source_apm = (pol->actions_per_minute + 1) / 2;
    if (!p->pol->source_burst)
        p->pol->source_burst = (pol->burst + 1) / 2;
    return 0;
}

static const struct keyword top_kw[] = {
    {"allowlist", kw_allowlist},
    {"ban", kw_ban},
    {"block", kw_block},
    {"dry_run", kw_dry_run},
    {"exec", kw_exec},
    {"internal", kw_internal},
    {"mail", kw_mail},
    {"management", kw_management},
    {"max_blocks", kw_max_blocks},
    {"rate", kw_rate},
    {"rules", kw_rules},
    {"webhook", kw_webhook},
};

static struct respond_policy *policy_defaults(void)
{
    struct respond_policy *pol = calloc(1, sizeof(*pol));

    if (!pol)
        return NULL;
    /* Nothing is done until an administrator says so. */
    pol->dry_run = 1;
    pol->actions_per_minute = 10;
    pol->burst = 5;
    pol->max_blocks = 20;
    pol->ban_base_us = 10 * US_PER_MIN;
    pol->ban_factor = 2.0;
    pol->ban_max_us = 7 * US_PER_DAY;
    pol->ban_forget_us = US_PER_DAY;
    pol->ban_track = 10000;
    pol->block.create = 1;
    pol->internal = calloc(NDEFAULT_INTERNAL, sizeof(*pol->internal));
    if (!pol->internal) {
        free(pol);
        return NULL;
    }
    for (size_t i = 0; i < NDEFAULT_INTERNAL; i++) {
        const char *s = default_internal[i];
        if (asset_net_parse(s, strlen(s), &pol->internal[pol->ninternal]) == 0)
            pol->ninternal++;
    }
    return pol;
}

void respond_policy_free(struct respond_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nallow; i++)
        free(p->allow[i].note);
    free(p->allow);
    for (size_t i = 0; i < p->nmanagement; i++)
        free(p->management[i].note);
    free(p->management);
    free(p->internal);
    for (size_t i = 0; i < p->nrules; i++) {
        struct respond_rule *ru = &p->rules[i];
        for (size_t j = 0; j < ru->nrules; j++)
            free(ru->rules[j]);
        free(ru->rules);
        for (size_t j = 0; j < ru->ncorrelations; j++)
            free(ru->correlations[j]);
        free(ru->correlations);
        free(ru->name);
    }
    free(p->rules);
    free(p->webhook.url);
    free(p->webhook.secret_file);
    for (size_t i = 0; i < p->mail.nto; i++)
        free(p->mail.to[i]);
    free(p->mail.from);
    free(p->mail.sendmail);
    for (size_t i = 0; p->exec.argv && p->exec.argv[i]; i++)
        free(p->exec.argv[i]);
    free(p->exec.argv);
    free(p->path);
    free(p);
}

int respond_policy_parse(const char *text, size_t len, const char *file,
                         struct respond_policy **ret, struct parse_err *reterr)
{
    yaml_parser_t yp;
    yaml_document_t doc;
    struct pparse p;
    struct respond_policy *pol;
    yaml_node_t *root;
    int r = 0;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    *ret = NULL;
    if (!(pol = policy_defaults()))
        return -ENOMEM;
    if (file && !(pol->path = strdup(file))) {
        respond_policy_free(pol);
        return -ENOMEM;
    }
    if (!yaml_parser_initialize(&yp)) {
        respond_policy_free(pol);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        if (reterr) {
            reterr->line = (unsigned)yp.problem_mark.line + 1;
            reterr->col = (unsigned)yp.problem_mark.column + 1;
            reterr->off = yp.problem_mark.index;
            /* libyaml's problem strings are static. */
            reterr->msg = yp.problem ? yp.problem : "YAML syntax error";
        }
        yaml_parser_delete(&yp);
        respond_policy_free(pol);
        return -EINVAL;
    }
    p.doc = &doc;
    p.pol = pol;
    p.err = reterr;
    root = yaml_document_get_root_node(&doc);
    /* An empty file is all defaults: dry run, no rules. */
    if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        r = each_pair(&p, root, top_kw, NKW(top_kw), NULL, "expected a mapping of settings");
    if (r == 0)
        r = check_actions(&p, root);
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (r < 0) {
        respond_policy_free(pol);
        return r;
    }
    *ret = pol;
    return 0;
}

int respond_policy_load(const char *path, struct respond_policy **ret, struct parse_err *reterr)
{
    char *text;
    size_t len;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    *ret = NULL;
    r = readfile_all(path, LIMIT_CONFIG_BYTES, &text, &len);
    if (r == -EFBIG && reterr)
        reterr->msg = "file larger than 1 MiB";
    if (r < 0)
        return r;
    r = respond_policy_parse(text, len, path, ret, reterr);
    free(text);
    return r;
}
