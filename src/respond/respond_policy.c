/*
 * respond_policy.c - the response policy: parsing respond.yaml with libyaml's
 * document API (every node keeps its line and column for messages), and the
 * decision with its bounded state.
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
#include "triage/triage.h"
#include "util/limits.h"
#include "util/readfile.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_DAY (86400 * US_PER_S)
/* Repeats counted for the escalation; a ban has reached any cap long before. */
#define RESPOND_REPEAT_MAX 1000u
/* Latest clock accepted: far enough from INT64_MAX that now + a ban (at most
 * a year) and now - an expiry never overflow. */
#define RESPOND_TIME_MAX (INT64_C(1) << 62)

/* Addresses never acted on whatever the file says: acting on them would
 * cut us off from ourselves or hit a whole segment at once. */
static const struct {
    const char *net;
    const char *what;
} never_nets[] = {
    {"127.0.0.0/8", "a loopback address"},           {"::1/128", "a loopback address"},
    {"169.254.0.0/16", "a link-local address"},      {"fe80::/10", "a link-local address"},
    {"0.0.0.0/8", "an unspecified address"},         {"::/128", "an unspecified address"},
    {"224.0.0.0/4", "a multicast address"},          {"ff00::/8", "a multicast address"},
    {"255.255.255.255/32", "the broadcast address"},
};
#define NNEVER (sizeof(never_nets) / sizeof(never_nets[0]))

/* Default `internal` networks: RFC 1918, shared address space, ULA. */
static const char *const default_internal[] = {
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
};
#define NDEFAULT_INTERNAL (sizeof(default_internal) / sizeof(default_internal[0]))

static const char *const kind_names[RESPOND_KIND_COUNT] = {"rule", "correlation", "anomaly",
                                                           "incident"};
static const char *const action_names[] = {"block", "webhook", "mail", "exec"};
#define NACTIONS (sizeof(action_names) / sizeof(action_names[0]))

const char *respond_kind_name(enum respond_kind k)
{
    return (unsigned)k < RESPOND_KIND_COUNT ? kind_names[k] : "unknown";
}

const char *respond_mode_name(enum respond_mode m)
{
    return m == RESPOND_MODE_APPROVE ? "approve" : "auto";
}

const char *respond_action_name(unsigned bit)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (bit == (1u << i))
            return action_names[i];
    return NULL;
}

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

static int kind_lookup(const char *s)
{
    for (int i = 0; i < RESPOND_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

static int action_lookup(const char *s)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(s, action_names[i]) == 0)
            return (int)i;
    return -1;
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
    return get_bits(p, v, kind_lookup, &((struct respond_rule *)arg)->kinds,
                    "kind must be rule, correlation, anomaly or incident");
}

static int kw_rule_actions(struct pparse *p, yaml_node_t *v, void *arg)
{
    return get_bits(p, v, action_lookup, &((struct respond_rule *)arg)->actions,
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
    {"attempts", kw_wh_attempts},   {"backoff", kw_wh_backoff},
    {"backoff_max", kw_wh_backoff_max}, {"secret_file", kw_wh_secret},
    {"timeout", kw_wh_timeout},     {"url", kw_wh_url},
};

static int kw_webhook(struct pparse *p, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = each_pair(p, v, webhook_kw, NKW(webhook_kw), NULL, "webhook: expected a mapping")) <
        0)
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

/* ---- state -------------------------------------------------------------- */

/* A repeat offender.  Chained in a hash bucket by index (-1 ends). */
struct offender {
    struct asset_net addr;
    int used;
    unsigned bans;       /* bans still remembered */
    int64_t last_end_us; /* when the latest ban ends */
    int64_t touched_us;  /* LRU */
    int32_t next;
};

struct block {
    struct asset_net addr;
    int64_t until_us;
};

/* A token bucket: `tokens` of at most its burst, refilled since `last_us`. */
struct bucket {
    double tokens;
    int64_t last_us;
    int started;
};

/* An evidence source's bucket, found by its name (LRU past the table). */
struct source_bucket {
    char name[RESPOND_SOURCE_MAX]; /* "" unused */
    struct bucket b;
    int64_t touched_us;
};

struct respond_state {
    struct bucket global;
    struct bucket *rule_b; /* one per policy rule, nrule_b of them */
    size_t nrule_b;
    struct source_bucket *src_b;       /* RESPOND_MAX_SOURCES */
    const struct respond_never *never; /* borrowed; may be NULL */
    struct block *blocks; /* [0, nblocks) live or expired, compacted lazily */
    size_t nblocks, cap_blocks;
    struct offender *off; /* cap_off entries */
    size_t cap_off, noff;
    int32_t *heads; /* nheads buckets, a power of two */
    size_t nheads;
};

struct respond_state *respond_state_new(const struct respond_policy *p)
{
    struct respond_state *s;

    if (!p)
        return NULL;
    if (!(s = calloc(1, sizeof(*s))))
        return NULL;
    s->cap_blocks = p->max_blocks ? p->max_blocks : 1;
    s->cap_off = p->ban_track ? p->ban_track : 1;
    s->nheads = 16;
    while (s->nheads < 2 * s->cap_off)
        s->nheads *= 2;
    s->blocks = calloc(s->cap_blocks, sizeof(*s->blocks));
    s->off = calloc(s->cap_off, sizeof(*s->off));
    s->heads = malloc(s->nheads * sizeof(*s->heads));
    s->nrule_b = p->nrules;
    s->rule_b = calloc(s->nrule_b ? s->nrule_b : 1, sizeof(*s->rule_b));
    s->src_b = calloc(RESPOND_MAX_SOURCES, sizeof(*s->src_b));
    if (!s->blocks || !s->off || !s->heads || !s->rule_b || !s->src_b) {
        respond_state_free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->nheads; i++)
        s->heads[i] = -1;
    return s;
}

void respond_state_free(struct respond_state *s)
{
    if (!s)
        return;
    free(s->blocks);
    free(s->off);
    free(s->heads);
    free(s->rule_b);
    free(s->src_b);
    free(s);
}

void respond_state_set_never(struct respond_state *s, const struct respond_never *never)
{
    if (s)
        s->never = never;
}

static int addr_eq(const struct asset_net *a, const struct asset_net *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static size_t addr_hash(const struct asset_net *a, size_t nheads)
{
    /* FNV-1a: keys are addresses an attacker picks, but the table is
     * bounded and chains only cost time on rate-limited inserts. */
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)a->family;

    for (size_t i = 0; i < sizeof(a->addr); i++)
        h = (h ^ a->addr[i]) * 1099511628211ULL;
    return (size_t)(h & (nheads - 1));
}

static struct offender *off_find(struct respond_state *s, const struct asset_net *a)
{
    for (int32_t i = s->heads[addr_hash(a, s->nheads)]; i >= 0; i = s->off[i].next)
        if (addr_eq(&s->off[i].addr, a))
            return &s->off[i];
    return NULL;
}

static void off_unlink(struct respond_state *s, size_t idx)
{
    int32_t *pp = &s->heads[addr_hash(&s->off[idx].addr, s->nheads)];

    while (*pp >= 0) {
        if ((size_t)*pp == idx) {
            *pp = s->off[idx].next;
            break;
        }
        pp = &s->off[*pp].next;
    }
    s->off[idx].used = 0;
}

/* The entry for `a`, created (evicting the least recently touched when
 * full) if absent.  Never fails: the table is preallocated. */
static struct offender *off_get(struct respond_state *s, const struct asset_net *a)
{
    struct offender *o = off_find(s, a);
    size_t idx, h;

    if (o)
        return o;
    if (s->noff < s->cap_off) {
        idx = s->noff++;
    } else {
        /* O(n), but only on an ACT with a block, which the rate bucket bounds. */
        idx = 0;
        for (size_t i = 1; i < s->cap_off; i++)
            if (s->off[i].touched_us < s->off[idx].touched_us)
                idx = i;
        off_unlink(s, idx);
    }
    o = &s->off[idx];
    memset(o, 0, sizeof(*o));
    o->addr = *a;
    o->used = 1;
    h = addr_hash(a, s->nheads);
    o->next = s->heads[h];
    s->heads[h] = (int32_t)idx;
    return o;
}

/* Drops blocks whose expiry has passed. */
static void blocks_expire(struct respond_state *s, int64_t now_us)
{
    size_t j = 0;

    for (size_t i = 0; i < s->nblocks; i++)
        if (s->blocks[i].until_us > now_us)
            s->blocks[j++] = s->blocks[i];
    s->nblocks = j;
}

static struct block *block_find(struct respond_state *s, const struct asset_net *a)
{
    for (size_t i = 0; i < s->nblocks; i++)
        if (addr_eq(&s->blocks[i].addr, a))
            return &s->blocks[i];
    return NULL;
}

size_t respond_blocks_active(struct respond_state *s, int64_t now_us)
{
    if (!s)
        return 0;
    blocks_expire(s, now_us);
    return s->nblocks;
}

int respond_block_ended(struct respond_state *s, const char *address, int64_t now_us)
{
    struct asset_net a;
    struct block *b;

    if (!s || !address || asset_net_parse(address, strnlen(address, 64), &a) < 0)
        return -EINVAL;
    blocks_expire(s, now_us);
    if (!(b = block_find(s, &a)))
        return -ENOENT;
    *b = s->blocks[--s->nblocks];
    return 0;
}

int respond_block_restore(struct respond_state *s, const char *address, int64_t until_us,
                          int64_t now_us)
{
    struct asset_net a;
    struct block *b;
    struct offender *o;

    if (!s || !address || asset_net_parse(address, strnlen(address, 64), &a) < 0 ||
        a.prefix != (a.family == AF_INET ? 32u : 128u))
        return -EINVAL;
    if (until_us <= now_us)
        return 0; /* ended already */
    blocks_expire(s, now_us);
    if ((b = block_find(s, &a))) {
        if (until_us > b->until_us)
            b->until_us = until_us;
    } else {
        if (s->nblocks >= s->cap_blocks)
            return -ENOSPC;
        s->blocks[s->nblocks].addr = a;
        s->blocks[s->nblocks].until_us = until_us;
        s->nblocks++;
    }
    /* One ban at least, so that the next one is escalated. */
    o = off_get(s, &a);
    if (o->bans == 0)
        o->bans = 1;
    if (until_us > o->last_end_us)
        o->last_end_us = until_us;
    o->touched_us = now_us;
    return 0;
}

/* Brings `b` to `now_us`: a new bucket starts full. */
static void bucket_refill(struct bucket *b, unsigned apm, unsigned burst, int64_t now_us)
{
    if (!b->started) {
        b->tokens = burst;
        b->last_us = now_us;
        b->started = 1;
        return;
    }
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * apm / (double)US_PER_MIN;
        b->last_us = now_us;
    }
    if (b->tokens > burst)
        b->tokens = burst;
}

/* The bucket of source `name`; a new name takes the least recently used
 * slot (which then starts full again: forgetting a quiet source costs at
 * most one burst, and only trusted sources get this far). */
static struct bucket *source_bucket(struct respond_state *s, const char *name, int64_t now_us)
{
    size_t idx = 0;

    for (size_t i = 0; i < RESPOND_MAX_SOURCES; i++) {
        struct source_bucket *sb = &s->src_b[i];
        if (sb->name[0] && strcmp(sb->name, name) == 0) {
            sb->touched_us = now_us;
            return &sb->b;
        }
        if (!sb->name[0]) {
            if (s->src_b[idx].name[0])
                idx = i; /* an empty slot before any eviction */
        } else if (s->src_b[idx].name[0] && sb->touched_us < s->src_b[idx].touched_us) {
            idx = i;
        }
    }
    memset(&s->src_b[idx], 0, sizeof(s->src_b[idx]));
    snprintf(s->src_b[idx].name, sizeof(s->src_b[idx].name), "%s", name);
    s->src_b[idx].touched_us = now_us;
    return &s->src_b[idx].b;
}

/* ---- decision ----------------------------------------------------------- */

static int name_matches(const char *pat, const char *s)
{
    size_t n = strlen(pat);

    if (!s)
        return 0;
    if (n > 0 && pat[n - 1] == '*')
        return strncmp(pat, s, n - 1) == 0;
    return strcmp(pat, s) == 0;
}

static int net_in(const struct asset_net *nets, size_t n, const struct asset_net *a)
{
    for (size_t i = 0; i < n; i++)
        if (asset_net_contains(&nets[i], a))
            return 1;
    return 0;
}

/* `addr` is NULL when the trigger has no valid address. */
static int rule_matches(const struct respond_policy *p, const struct respond_rule *ru,
                        const struct respond_trigger *t, const struct asset_net *addr)
{
    if (ru->kinds && ((unsigned)t->kind >= RESPOND_KIND_COUNT || !(ru->kinds & (1u << t->kind))))
        return 0;
    if (ru->min_level && t->level < ru->min_level)
        return 0;
    if (ru->types && ((unsigned)t->incident_type >= TRIAGE_TYPE_COUNT ||
                      !(ru->types & (1u << t->incident_type))))
        return 0;
    if (ru->nrules) {
        size_t i;
        for (i = 0; i < ru->nrules; i++)
            if (name_matches(ru->rules[i], t->rule_id) || name_matches(ru->rules[i], t->rule_name))
                break;
        if (i == ru->nrules)
            return 0;
    }
    if (ru->ncorrelations) {
        size_t i;
        for (i = 0; i < ru->ncorrelations; i++)
            if (t->correlation && strcmp(ru->correlations[i], t->correlation) == 0)
                break;
        if (i == ru->ncorrelations)
            return 0;
    }
    if (ru->from != RESPOND_FROM_ANY) {
        int inside;
        if (!addr)
            return 0;
        inside = net_in(p->internal, p->ninternal, addr);
        if (inside != (ru->from == RESPOND_FROM_INSIDE))
            return 0;
    }
    return 1;
}

int respond_policy_may_match(const struct respond_policy *p, const struct respond_trigger *t)
{
    struct respond_rule ru;

    for (size_t i = 0; p && t && i < p->nrules; i++) {
        /* Everything but the direction, which needs the parsed address. */
        ru = p->rules[i];
        ru.from = RESPOND_FROM_ANY;
        if (rule_matches(p, &ru, t, NULL))
            return 1;
    }
    return 0;
}

/* "10m", "1h30m", "2d" for a person. */
static void fmt_duration(int64_t us, char *buf, size_t size)
{
    int64_t s = us / US_PER_S;

    if (s % 86400 == 0 && s >= 86400)
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0 && s >= 3600)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0 && s >= 60)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, size, "%llds", (long long)s);
}

static void fmt_addr(const struct asset_net *a, char *buf, size_t size)
{
    if (!inet_ntop(a->family, a->addr, buf, (socklen_t)size))
        snprintf(buf, size, "?");
}

/* base * factor^repeat, capped; computed stepwise so that it cannot overflow. */
static int64_t ban_for(const struct respond_policy *p, unsigned repeat)
{
    double d = (double)p->ban_base_us;

    if (repeat > RESPOND_REPEAT_MAX)
        repeat = RESPOND_REPEAT_MAX;
    for (unsigned i = 0; i < repeat && d < (double)p->ban_max_us; i++)
        d *= p->ban_factor;
    if (d > (double)p->ban_max_us)
        return p->ban_max_us;
    return (int64_t)d;
}

static void actions_text(unsigned actions, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < NACTIONS; i++) {
        if (!(actions & (1u << i)))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? "+" : "", action_names[i]);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static int refuse(struct respond_decision *d, enum respond_refusal why)
{
    d->verdict = RESPOND_REFUSE;
    d->refusal = why;
    return 0;
}

/* Appends what the evidence was to the reason, so that the row and the
 * audit entry say whether a trusted witness named the address and who. */
static void add_evidence(struct respond_decision *d, const struct respond_trigger *t)
{
    size_t n = strlen(d->reason);

    if (t->evidence && t->evidence[0] && n + 1 < sizeof(d->reason))
        snprintf(d->reason + n, sizeof(d->reason) - n, "; evidence: %s", t->evidence);
}

/* The first management network or never-block entry holding `ap`, as a
 * refusal; 1 when refused. */
static int protected_addr(const struct respond_policy *p, const struct respond_state *s,
                          const struct respond_trigger *t, const struct asset_net *ap,
                          const char *atext, struct respond_decision *ret)
{
    const struct respond_never_entry *ne;

    for (size_t i = 0; i < p->nmanagement; i++) {
        const struct respond_allow *a = &p->management[i];
        if (asset_net_contains(&a->net, ap)) {
            char ntext[INET6_ADDRSTRLEN];
            fmt_addr(&a->net, ntext, sizeof(ntext));
            snprintf(ret->reason, sizeof(ret->reason),
                     "%s is in a management network (%s/%u%s%s): never acted on", atext, ntext,
                     a->net.prefix, a->note ? " " : "", a->note ? a->note : "");
            return 1;
        }
    }
    if (s->never && (ne = respond_never_find(s->never, ap))) {
        snprintf(ret->reason, sizeof(ret->reason), "%s is %s: never acted on", atext, ne->why);
        return 1;
    }
    if (t->log_peer) {
        snprintf(ret->reason, sizeof(ret->reason),
                 "%s sends us logs (a trusted input's sender): never acted on", atext);
        return 1;
    }
    return 0;
}

/* Takes one token of each bucket the ACT needs, or refuses naming the one
 * that is empty: the source's first, so that a flooding source learns it
 * is the one held back.  0: tokens taken; 1: refused. */
static int take_tokens(const struct respond_policy *p, struct respond_state *s,
                       const struct respond_trigger *t, const struct respond_rule *ru,
                       int64_t now_us, struct respond_decision *ret)
{
    size_t idx = (size_t)(ru - p->rules);
    struct bucket *rb = idx < s->nrule_b ? &s->rule_b[idx] : NULL;
    struct bucket *sb = NULL;
    const char *src = t->source && t->source[0] ? t->source : "(unknown source)";

    bucket_refill(&s->global, p->actions_per_minute, p->burst, now_us);
    if (rb)
        bucket_refill(rb, p->rule_apm, p->rule_burst, now_us);
    /* A person's approval is not charged to the source: the person answers
     * for it, and the global and rule buckets still hold. */
    if (!t->approved) {
        sb = source_bucket(s, src, now_us);
        bucket_refill(sb, p->source_apm, p->source_burst, now_us);
    }
    if (sb && sb->tokens < 1.0) {
        snprintf(ret->reason, sizeof(ret->reason),
                 "rate limit of the source %s: %u actions a minute", src, p->source_apm);
        refuse(ret, RESPOND_REFUSAL_RATE);
        return 1;
    }
    if (s->global.tokens < 1.0) {
        snprintf(ret->reason, sizeof(ret->reason), "rate limit: %u actions a minute",
                 p->actions_per_minute);
        refuse(ret, RESPOND_REFUSAL_RATE);
        return 1;
    }
    if (rb && rb->tokens < 1.0) {
        snprintf(ret->reason, sizeof(ret->reason), "rate limit of rule %s: %u actions a minute",
                 ru->name, p->rule_apm);
        refuse(ret, RESPOND_REFUSAL_RATE);
        return 1;
    }
    s->global.tokens -= 1.0;
    if (rb)
        rb->tokens -= 1.0;
    if (sb)
        sb->tokens -= 1.0;
    return 0;
}

int respond_decide(const struct respond_policy *p, struct respond_state *s,
                   const struct respond_trigger *t, int64_t now_us, struct respond_decision *ret)
{
    struct asset_net addr;
    const struct asset_net *ap = NULL;
    const struct respond_rule *ru = NULL;
    struct offender *o;
    char atext[INET6_ADDRSTRLEN], dur[32], acts[64];
    int bad_addr = 0;
    int blocks;

    if (!ret)
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    if (!p || !s || !t || now_us < 0 || now_us > RESPOND_TIME_MAX) {
        ret->verdict = RESPOND_REFUSE;
        snprintf(ret->reason, sizeof(ret->reason),
                 "internal error: no policy or trigger, or clock out of range");
        return -EINVAL;
    }
    ret->dry_run = p->dry_run;
    atext[0] = '\0';
    if (t->address) {
        size_t alen = strnlen(t->address, 64);
        /* One address only: a network would block more than the attacker. */
        if (alen == 64 || memchr(t->address, '/', alen) ||
            asset_net_parse(t->address, alen, &addr) < 0) {
            bad_addr = 1;
        } else {
            ap = &addr;
            fmt_addr(ap, atext, sizeof(atext));
        }
    }
    for (size_t i = 0; i < p->nrules && !ru; i++)
        if (rule_matches(p, &p->rules[i], t, ap))
            ru = &p->rules[i];
    if (!ru) {
        ret->verdict = RESPOND_NONE;
        snprintf(ret->reason, sizeof(ret->reason), "no policy rule matches");
        return 0;
    }
    ret->rule = ru;
    ret->actions = ru->actions;
    blocks = (ru->actions & RESPOND_ACTION_BLOCK) != 0;

    if (bad_addr) {
        snprintf(ret->reason, sizeof(ret->reason),
                 "rule %s: the address to act on is not a single IP address", ru->name);
        return refuse(ret, RESPOND_REFUSAL_BAD_ADDRESS);
    }
    if (!ap && blocks) {
        snprintf(ret->reason, sizeof(ret->reason), "rule %s: nothing to block, no address given",
                 ru->name);
        return refuse(ret, RESPOND_REFUSAL_NO_ADDRESS);
    }
    if (ap) {
        for (size_t i = 0; i < NNEVER; i++) {
            struct asset_net n;
            if (asset_net_parse(never_nets[i].net, strlen(never_nets[i].net), &n) == 0 &&
                asset_net_contains(&n, ap)) {
                snprintf(ret->reason, sizeof(ret->reason), "%s is %s: never acted on", atext,
                         never_nets[i].what);
                return refuse(ret, RESPOND_REFUSAL_NEVER);
            }
        }
        for (size_t i = 0; i < p->nallow; i++) {
            const struct respond_allow *a = &p->allow[i];
            if (asset_net_contains(&a->net, ap)) {
                char ntext[INET6_ADDRSTRLEN];
                fmt_addr(&a->net, ntext, sizeof(ntext));
                snprintf(ret->reason, sizeof(ret->reason), "%s is in the allowlist (%s/%u%s%s)",
                         atext, ntext, a->net.prefix, a->note ? " " : "", a->note ? a->note : "");
                return refuse(ret, RESPOND_REFUSAL_ALLOWLIST);
            }
        }
        if (protected_addr(p, s, t, ap, atext, ret))
            return refuse(ret, RESPOND_REFUSAL_PROTECTED);
    }
    if (t->udp_only && !t->corroborated) {
        snprintf(ret->reason, sizeof(ret->reason),
                 "%s%sUDP-only evidence without corroboration by a second trusted source: "
                 "could be spoofed",
                 atext, atext[0] ? ": " : "");
        add_evidence(ret, t);
        return refuse(ret, RESPOND_REFUSAL_SPOOFABLE);
    }

    blocks_expire(s, now_us);
    if (blocks) {
        struct block *b = block_find(s, ap);
        if (b) {
            fmt_duration(b->until_us - now_us, dur, sizeof(dur));
            snprintf(ret->reason, sizeof(ret->reason), "%s is already blocked (%s left)", atext,
                     dur);
            return refuse(ret, RESPOND_REFUSAL_BLOCKED);
        }
        o = off_find(s, ap);
        if (o && now_us - o->last_end_us < p->ban_forget_us)
            ret->repeat = o->bans;
        ret->ban_us = ban_for(p, ret->repeat);
    }
    actions_text(ru->actions, acts, sizeof(acts));
    if (blocks)
        fmt_duration(ret->ban_us, dur, sizeof(dur));

    /* `auto` on evidence no trusted witness gave becomes a request for a
     * person: forged text may queue, never act (issue 15). */
    if ((ru->mode == RESPOND_MODE_APPROVE || !t->trusted) && !t->approved) {
        const char *why = ru->mode == RESPOND_MODE_APPROVE
                              ? "asks for approval"
                              : "acts on its own only on a trusted witness, so it asks for "
                                "approval";
        ret->verdict = RESPOND_ASK;
        ret->untrusted = ru->mode != RESPOND_MODE_APPROVE;
        if (blocks)
            snprintf(ret->reason, sizeof(ret->reason), "rule %s %s: %s %s for %s", ru->name, why,
                     acts, atext, dur);
        else
            snprintf(ret->reason, sizeof(ret->reason), "rule %s %s: %s%s%s", ru->name, why, acts,
                     atext[0] ? " about " : "", atext);
        add_evidence(ret, t);
        return 0;
    }
    if (blocks && (s->nblocks >= p->max_blocks || s->nblocks >= s->cap_blocks)) {
        snprintf(ret->reason, sizeof(ret->reason), "%zu blocks active, the maximum", s->nblocks);
        return refuse(ret, RESPOND_REFUSAL_MAX_BLOCKS);
    }
    if (take_tokens(p, s, t, ru, now_us, ret))
        return 0;
    if (blocks) {
        s->blocks[s->nblocks].addr = *ap;
        s->blocks[s->nblocks].until_us = now_us + ret->ban_us;
        s->nblocks++;
        o = off_get(s, ap);
        /* Saturates: past this the ban has long reached its cap. */
        o->bans = ret->repeat < RESPOND_REPEAT_MAX ? ret->repeat + 1 : RESPOND_REPEAT_MAX;
        o->last_end_us = now_us + ret->ban_us;
        o->touched_us = now_us;
    }
    ret->verdict = RESPOND_ACT;
    if (blocks)
        snprintf(ret->reason, sizeof(ret->reason), "rule %s: %s %s for %s%s%s", ru->name, acts,
                 atext, dur, ret->repeat ? " (repeat offender)" : "",
                 p->dry_run ? " (dry run)" : "");
    else
        snprintf(ret->reason, sizeof(ret->reason), "rule %s: %s%s%s%s", ru->name, acts,
                 atext[0] ? " about " : "", atext, p->dry_run ? " (dry run)" : "");
    add_evidence(ret, t);
    return 0;
}
