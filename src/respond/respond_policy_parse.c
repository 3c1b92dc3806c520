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

#include "respond/respond_exec.h"
#include "respond/respond_never.h"
#include "respond/respond_policy_priv.h"
#include "triage/triage.h"
#include "util/limits.h"
#include "util/readfile.h"
#include "util/ydoc.h"

/* Default `internal` networks: RFC 1918, shared address space, ULA. */
static const char *const default_internal[] = {
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
};
#define NDEFAULT_INTERNAL (sizeof(default_internal) / sizeof(default_internal[0]))

/* ---- parsing ------------------------------------------------------------ */

/* The policy being built: every handler's d->ctx. */
static struct respond_policy *pol_of(const struct ydoc *d)
{
    return d->ctx;
}

/* The policy's counts are unsigned; ydoc reads them as 64-bit. */
static int get_uint(struct ydoc *d, const yaml_node_t *n, unsigned lo, unsigned hi, unsigned *ret,
                    const char *range_msg)
{
    uint64_t v = 0;
    int r = ydoc_uint(d, n, lo, hi, range_msg, &v);

    if (r == 0)
        *ret = (unsigned)v;
    return r;
}

/* A non-empty string of at most RESPOND_MAX_STRING bytes. */
static int get_string(struct ydoc *d, const yaml_node_t *n, char **dst)
{
    return ydoc_strdup(d, n, 1, RESPOND_MAX_STRING, dst);
}

/* ---- top-level scalars ---- */

static int kw_dry_run(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    pol_of(d)->dry_run_line = ydoc_line(v);
    return ydoc_bool(d, v, NULL, &pol_of(d)->dry_run);
}

static int kw_max_blocks(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(d, v, 1, RESPOND_MAX_BLOCKS, &pol_of(d)->max_blocks,
                    "max_blocks must be between 1 and 100000");
}

/* ---- allowlist, internal ---- */

static int parse_net(struct ydoc *d, yaml_node_t *n, struct asset_net *ret)
{
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, n, &s, &len)) < 0)
        return r;
    if (asset_net_parse(s, len, ret) < 0)
        return ydoc_fail(d, n, "expected an IP address or network such as 10.0.0.0/8");
    return 0;
}

static int kw_allow_net(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return parse_net(d, v, &((struct respond_allow *)arg)->net);
}

static int kw_allow_note(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_string(d, v, &((struct respond_allow *)arg)->note);
}

static const struct ydoc_key allow_kw[] = {
    {"net", kw_allow_net},
    {"note", kw_allow_note},
};
static const struct ydoc_table allow_table = {allow_kw, YDOC_NKEYS(allow_kw), NULL, NULL};

/* A list of nets, each an address, a CIDR or {net, note}: the allowlist
 * and the management networks. */
static int allow_list(struct ydoc *d, yaml_node_t *v, struct respond_allow **ret, size_t *ret_n)
{
    size_t n;
    int r;

    if ((r = ydoc_list(d, v, 0, RESPOND_MAX_ALLOW, &n)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(*ret = calloc(n, sizeof(**ret))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);
        struct respond_allow *a = &(*ret)[(*ret_n)++];

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        a->line = (unsigned)it->start_mark.line + 1;
        if (it->type == YAML_MAPPING_NODE) {
            a->net.family = 0;
            if ((r = ydoc_walk(d, it, &allow_table, a)) < 0)
                return r;
            if (a->net.family == 0)
                return ydoc_fail(d, it, "allowlist entry needs a net");
        } else if ((r = parse_net(d, it, &a->net)) < 0) {
            return r;
        }
    }
    return 0;
}

static int kw_allowlist(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return allow_list(d, v, &pol_of(d)->allow, &pol_of(d)->nallow);
}

static int kw_management(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return allow_list(d, v, &pol_of(d)->management, &pol_of(d)->nmanagement);
}

static int kw_internal(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_policy *pol = pol_of(d);
    size_t n;
    int r;

    (void)arg;
    if ((r = ydoc_list(d, v, 0, RESPOND_MAX_INTERNAL, &n)) < 0)
        return r;
    free(pol->internal);
    pol->internal = NULL;
    pol->ninternal = 0;
    if (n == 0)
        return 0;
    if (!(pol->internal = calloc(n, sizeof(*pol->internal))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        if ((r = parse_net(d, it, &pol->internal[i])) < 0)
            return r;
        pol->ninternal++;
    }
    return 0;
}

/* ---- rate, ban ---- */

static int kw_rate_apm(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(d, v, 1, 100000, &pol_of(d)->actions_per_minute,
                    "actions_per_minute must be between 1 and 100000");
}

static int kw_rate_burst(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(d, v, 1, 100000, &pol_of(d)->burst, "burst must be between 1 and 100000");
}

/* rate.per_rule and rate.per_source: a bucket's two numbers. */
struct bucket_conf {
    unsigned *apm, *burst;
};

static int kw_bucket_apm(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 1, 100000, ((struct bucket_conf *)arg)->apm,
                    "actions_per_minute must be between 1 and 100000");
}

static int kw_bucket_burst(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 1, 100000, ((struct bucket_conf *)arg)->burst,
                    "burst must be between 1 and 100000");
}

static const struct ydoc_key bucket_kw[] = {
    {"actions_per_minute", kw_bucket_apm},
    {"burst", kw_bucket_burst},
};
static const struct ydoc_table bucket_rule_table = {bucket_kw, YDOC_NKEYS(bucket_kw),
                                                    "per_rule: expected a mapping", NULL};
static const struct ydoc_table bucket_source_table = {bucket_kw, YDOC_NKEYS(bucket_kw),
                                                      "per_source: expected a mapping", NULL};

static int kw_rate_per_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct bucket_conf b = {&pol_of(d)->rule_apm, &pol_of(d)->rule_burst};

    (void)arg;
    return ydoc_walk(d, v, &bucket_rule_table, &b);
}

static int kw_rate_per_source(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct bucket_conf b = {&pol_of(d)->source_apm, &pol_of(d)->source_burst};

    (void)arg;
    return ydoc_walk(d, v, &bucket_source_table, &b);
}

static const struct ydoc_key rate_kw[] = {
    {"actions_per_minute", kw_rate_apm},
    {"burst", kw_rate_burst},
    {"per_rule", kw_rate_per_rule},
    {"per_source", kw_rate_per_source},
};
static const struct ydoc_table rate_table = {rate_kw, YDOC_NKEYS(rate_kw),
                                             "rate: expected a mapping", NULL};

static int kw_rate(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_walk(d, v, &rate_table, NULL);
}

static int kw_ban_base(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_duration(d, v, 0, &pol_of(d)->ban_base_us);
}

static int kw_ban_factor(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_double(d, v, 1.0, 100.0, "factor must be between 1 and 100",
                       &pol_of(d)->ban_factor);
}

static int kw_ban_forget(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_duration(d, v, 0, &pol_of(d)->ban_forget_us);
}

static int kw_ban_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_duration(d, v, 0, &pol_of(d)->ban_max_us);
}

static int kw_ban_track(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    unsigned n = 0;
    int r;

    (void)arg;
    if ((r = get_uint(d, v, 1, RESPOND_MAX_OFFENDERS, &n, "track must be between 1 and 1000000")) <
        0)
        return r;
    pol_of(d)->ban_track = n;
    return 0;
}

static const struct ydoc_key ban_kw[] = {
    {"base", kw_ban_base}, {"factor", kw_ban_factor}, {"forget_after", kw_ban_forget},
    {"max", kw_ban_max},   {"track", kw_ban_track},
};
static const struct ydoc_table ban_table = {ban_kw, YDOC_NKEYS(ban_kw), "ban: expected a mapping",
                                            NULL};

static int kw_ban(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = ydoc_walk(d, v, &ban_table, NULL)) < 0)
        return r;
    if (pol_of(d)->ban_max_us < pol_of(d)->ban_base_us)
        return ydoc_fail(d, v, "ban: max is shorter than base");
    return 0;
}

/* ---- rules ---- */

static int kw_rule_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_string(d, v, &((struct respond_rule *)arg)->name);
}

/* A list of names, each turned into a bit by `lookup` (-1: not a name). */
static int get_bits(struct ydoc *d, yaml_node_t *v, int (*lookup)(const char *s), unsigned *ret,
                    const char *bad_msg)
{
    size_t n;
    int r;

    if ((r = ydoc_list(d, v, 1, RESPOND_MAX_LIST, &n)) < 0)
        return r;
    *ret = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);
        const char *s;
        size_t len;
        int b;

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        if ((r = ydoc_str(d, it, &s, &len)) < 0)
            return r;
        if ((b = lookup(s)) < 0)
            return ydoc_fail(d, it, bad_msg);
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

static int kw_rule_kind(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_bits(d, v, respond_policy_kind_lookup, &((struct respond_rule *)arg)->kinds,
                    "kind must be rule, correlation, anomaly or incident");
}

static int kw_rule_actions(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_bits(d, v, respond_policy_action_lookup, &((struct respond_rule *)arg)->actions,
                    "action must be block, webhook, mail or exec");
}

static int kw_rule_type(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_bits(d, v, type_lookup, &((struct respond_rule *)arg)->types,
                    "not an incident type of MISSION.md section 2");
}

static int get_strlist(struct ydoc *d, yaml_node_t *v, char ***dst, size_t *ndst)
{
    size_t n;
    int r;

    if ((r = ydoc_list(d, v, 1, RESPOND_MAX_LIST, &n)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(*dst = calloc(n, sizeof(**dst))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        if ((r = get_string(d, it, &(*dst)[i])) < 0)
            return r;
        (*ndst)++;
    }
    return 0;
}

static int kw_rule_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;

    return get_strlist(d, v, &ru->rules, &ru->nrules);
}

static int kw_rule_corr(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;

    return get_strlist(d, v, &ru->correlations, &ru->ncorrelations);
}

static int kw_rule_level(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    static const char *const names[] = {"informational", "low", "medium", "high", "critical"};
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0 || (len == 1 && s[0] == '1' + i)) {
            ru->min_level = i + 1;
            return 0;
        }
    }
    return ydoc_fail(d, v, "min_level must be informational, low, medium, high, critical or 1..5");
}

static int kw_rule_from(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "any") == 0)
        ru->from = RESPOND_FROM_ANY;
    else if (strcmp(s, "outside") == 0)
        ru->from = RESPOND_FROM_OUTSIDE;
    else if (strcmp(s, "inside") == 0)
        ru->from = RESPOND_FROM_INSIDE;
    else
        return ydoc_fail(d, v, "from must be outside, inside or any");
    return 0;
}

static int kw_rule_mode(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "auto") == 0)
        ru->mode = RESPOND_MODE_AUTO;
    else if (strcmp(s, "approve") == 0)
        ru->mode = RESPOND_MODE_APPROVE;
    else
        return ydoc_fail(d, v, "mode must be auto or approve");
    return 0;
}

/* indicator: the least confidence of a known-bad indicator's match. */
static int kw_rule_indicator(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    static const char *const names[] = {"low", "medium", "high"};
    struct respond_rule *ru = arg;
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            ru->indicator = i + 1;
            return 0;
        }
    }
    return ydoc_fail(d, v, "indicator must be low, medium or high (the match's confidence)");
}

static int kw_rule_indicator_feeds(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_rule *ru = arg;

    return get_strlist(d, v, &ru->indicator_feeds, &ru->nindicator_feeds);
}

static const struct ydoc_key rule_kw[] = {
    {"actions", kw_rule_actions},     {"correlation", kw_rule_corr},
    {"from", kw_rule_from},           {"incident_type", kw_rule_type},
    {"indicator", kw_rule_indicator}, {"indicator_feeds", kw_rule_indicator_feeds},
    {"kind", kw_rule_kind},           {"min_level", kw_rule_level},
    {"mode", kw_rule_mode},           {"name", kw_rule_name},
    {"rule", kw_rule_rule},
};
static const struct ydoc_table rule_table = {rule_kw, YDOC_NKEYS(rule_kw),
                                             "rule: expected a mapping", NULL};

static int kw_rules(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_policy *pol = pol_of(d);
    size_t n;
    int r;

    (void)arg;
    if ((r = ydoc_list(d, v, 0, RESPOND_MAX_RULES, &n)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(pol->rules = calloc(n, sizeof(*pol->rules))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);
        struct respond_rule *ru = &pol->rules[pol->nrules++];
        char label[32];

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        ru->line = (unsigned)it->start_mark.line + 1;
        if ((r = ydoc_walk(d, it, &rule_table, ru)) < 0)
            return r;
        if (ru->actions == 0)
            return ydoc_fail(d, it, "rule has no actions");
        if (ru->nindicator_feeds && !ru->indicator)
            return ydoc_fail(d, it, "indicator_feeds needs indicator (low, medium or high)");
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
static int get_timeout_ms(struct ydoc *d, yaml_node_t *v, unsigned *ret)
{
    int64_t us = 0;
    int r;

    if ((r = ydoc_duration(d, v, 0, &us)) < 0)
        return r;
    if (us > 10 * US_PER_MIN)
        return ydoc_fail(d, v, "timeout must be at most 10m");
    *ret = (unsigned)(us / 1000);
    return 0;
}

/* An nftables name: [A-Za-z_][A-Za-z0-9_]*, shorter than the buffer. */
static int get_nft_name(struct ydoc *d, yaml_node_t *v, char *dst, size_t size)
{
    const char *s;
    size_t len;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (len == 0 || len >= size)
        return ydoc_fail(d, v, "name must be 1 to 31 characters");
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return ydoc_fail(d, v, "name may hold only letters, digits and _, not first a digit");
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int kw_block_family(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s;
    size_t len;
    int r;

    (void)arg;
    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (strcmp(s, "inet") != 0 && strcmp(s, "ip") != 0 && strcmp(s, "ip6") != 0)
        return ydoc_fail(d, v, "family must be inet, ip or ip6");
    snprintf(pol_of(d)->block.family, sizeof(pol_of(d)->block.family), "%s", s);
    return 0;
}

static int kw_block_table(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(d, v, pol_of(d)->block.table, sizeof(pol_of(d)->block.table));
}

static int kw_block_set4(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(d, v, pol_of(d)->block.set4, sizeof(pol_of(d)->block.set4));
}

static int kw_block_set6(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_nft_name(d, v, pol_of(d)->block.set6, sizeof(pol_of(d)->block.set6));
}

static int kw_block_create(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_bool(d, v, NULL, &pol_of(d)->block.create);
}

static const struct ydoc_key block_kw[] = {
    {"create", kw_block_create}, {"family", kw_block_family}, {"set4", kw_block_set4},
    {"set6", kw_block_set6},     {"table", kw_block_table},
};
static const struct ydoc_table block_table = {block_kw, YDOC_NKEYS(block_kw),
                                              "block: expected a mapping", NULL};

static int kw_block(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return ydoc_walk(d, v, &block_table, NULL);
}

static int kw_wh_url(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(d, v, &pol_of(d)->webhook.url)) < 0)
        return r;
    if (strncmp(pol_of(d)->webhook.url, "http://", 7) != 0 &&
        strncmp(pol_of(d)->webhook.url, "https://", 8) != 0)
        return ydoc_fail(d, v, "url must start with http:// or https://");
    for (const char *c = pol_of(d)->webhook.url; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return ydoc_fail(d, v, "url holds a space or control character");
    return 0;
}

static int kw_wh_secret(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_string(d, v, &pol_of(d)->webhook.secret_file);
}

static int kw_wh_timeout(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(d, v, &pol_of(d)->webhook.timeout_ms);
}

static int kw_wh_attempts(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_uint(d, v, 1, 20, &pol_of(d)->webhook.attempts, "attempts must be between 1 and 20");
}

static int kw_wh_backoff(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(d, v, &pol_of(d)->webhook.backoff_ms);
}

static int kw_wh_backoff_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(d, v, &pol_of(d)->webhook.backoff_max_ms);
}

static const struct ydoc_key webhook_kw[] = {
    {"attempts", kw_wh_attempts},  {"backoff", kw_wh_backoff}, {"backoff_max", kw_wh_backoff_max},
    {"secret_file", kw_wh_secret}, {"timeout", kw_wh_timeout}, {"url", kw_wh_url},
};
static const struct ydoc_table webhook_table = {webhook_kw, YDOC_NKEYS(webhook_kw),
                                                "webhook: expected a mapping", NULL};

static int kw_webhook(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = ydoc_walk(d, v, &webhook_table, NULL)) < 0)
        return r;
    if (!pol_of(d)->webhook.url)
        return ydoc_fail(d, v, "webhook: url is required");
    if (!pol_of(d)->webhook.secret_file)
        return ydoc_fail(d, v,
                         "webhook: secret_file is required (the HMAC key, at least 32 bytes)");
    pol_of(d)->webhook.given = 1;
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

static int kw_mail_to(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_mail_set *m = &pol_of(d)->mail;
    size_t n;
    int r;

    (void)arg;
    if ((r = ydoc_list(d, v, 1, RESPOND_MAIL_MAX_TO, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        if ((r = get_string(d, it, &m->to[m->nto])) < 0)
            return r;
        m->nto++;
        if (!mail_addr_ok(m->to[m->nto - 1]))
            return ydoc_fail(d, it, "not a plain mail address (user@host)");
    }
    return 0;
}

static int kw_mail_from(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(d, v, &pol_of(d)->mail.from)) < 0)
        return r;
    for (const char *c = pol_of(d)->mail.from; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("<>,;:\"()[]\\", *c))
            return ydoc_fail(d, v, "not a plain mail address");
    return 0;
}

static int kw_mail_sendmail(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = get_string(d, v, &pol_of(d)->mail.sendmail)) < 0)
        return r;
    if (pol_of(d)->mail.sendmail[0] != '/')
        return ydoc_fail(d, v, "sendmail must be an absolute path");
    return 0;
}

static int kw_mail_timeout(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(d, v, &pol_of(d)->mail.timeout_ms);
}

static const struct ydoc_key mail_kw[] = {
    {"from", kw_mail_from},
    {"sendmail", kw_mail_sendmail},
    {"timeout", kw_mail_timeout},
    {"to", kw_mail_to},
};
static const struct ydoc_table mail_table = {mail_kw, YDOC_NKEYS(mail_kw),
                                             "mail: expected a mapping", NULL};

static int kw_mail(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r;

    (void)arg;
    if ((r = ydoc_walk(d, v, &mail_table, NULL)) < 0)
        return r;
    if (pol_of(d)->mail.nto == 0)
        return ydoc_fail(d, v, "mail: to is required");
    pol_of(d)->mail.given = 1;
    return 0;
}

static int kw_exec_command(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_exec_set *e = &pol_of(d)->exec;
    size_t n;
    int r;

    (void)arg;
    if (e->argv)
        return ydoc_fail(d, v, "duplicate key");
    if ((r = ydoc_list(d, v, 0, RESPOND_EXEC_ARGC_MAX, &n)) < 0)
        return r;
    if (n == 0)
        return ydoc_fail(d, v, "command: expected the program and its arguments");
    if (!(e->argv = calloc(n + 1, sizeof(*e->argv))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = ydoc_list_at(d, v, i);
        const char *s;
        size_t len;

        if (!it)
            return ydoc_fail(d, v, "expected a list");
        if ((r = ydoc_str(d, it, &s, &len)) < 0)
            return r;
        if (len > RESPOND_EXEC_ARG_MAX)
            return ydoc_fail(d, it, "argument longer than 8 KiB");
        if (!(e->argv[i] = strndup(s, len)))
            return -ENOMEM;
        e->argc++;
    }
    return 0;
}

static int kw_exec_timeout(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)arg;
    return get_timeout_ms(d, v, &pol_of(d)->exec.timeout_ms);
}

static const struct ydoc_key exec_kw[] = {
    {"command", kw_exec_command},
    {"timeout", kw_exec_timeout},
};
static const struct ydoc_table exec_table = {exec_kw, YDOC_NKEYS(exec_kw),
                                             "exec: expected a mapping", NULL};

static int kw_exec(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct respond_exec_conf ec;
    const char *why = NULL;
    int r;

    (void)arg;
    if ((r = ydoc_walk(d, v, &exec_table, NULL)) < 0)
        return r;
    if (!pol_of(d)->exec.argv)
        return ydoc_fail(d, v, "exec: command is required");
    ec = (struct respond_exec_conf){.argv = (const char *const *)pol_of(d)->exec.argv};
    if (respond_exec_check(&ec, &why) < 0)
        return ydoc_fail(d, v, why);
    pol_of(d)->exec.given = 1;
    return 0;
}

/* After the whole file: every action a rule names can be carried out. */
static int check_actions(struct ydoc *d, yaml_node_t *root)
{
    static const struct {
        unsigned bit;
        const char *msg;
    } need[] = {
        {RESPOND_ACTION_WEBHOOK, "a rule names webhook but there is no webhook: section"},
        {RESPOND_ACTION_MAIL, "a rule names mail but there is no mail: section"},
        {RESPOND_ACTION_EXEC, "a rule names exec but there is no exec: section"},
    };
    const struct respond_policy *pol = pol_of(d);
    const char *why;

    for (size_t i = 0; i < pol->nrules; i++) {
        const struct respond_rule *ru = &pol->rules[i];
        for (size_t j = 0; j < YDOC_NKEYS(need); j++) {
            int given = need[j].bit == RESPOND_ACTION_WEBHOOK ? pol->webhook.given
                        : need[j].bit == RESPOND_ACTION_MAIL  ? pol->mail.given
                                                              : pol->exec.given;
            /* Point at the rule rather than the top of the file. */
            if ((ru->actions & need[j].bit) && !given)
                return ydoc_fail_at(d, ru->line, 1, need[j].msg);
        }
        pol_of(d)->actions_used |= ru->actions;
    }
    if (respond_fw_conf_check(&pol->block, &why) < 0)
        return ydoc_fail(d, root, why);
    /* Issue 15: acting for real with nothing protected by name is how a
     * forged line blocked the host's own resolver. */
    if (!pol->dry_run && pol->nallow == 0) {
        static const char msg[] =
            "dry_run: false needs an allowlist: list the networks that must never be "
            "blocked (own networks, gateways, DNS servers, monitoring hosts) first";

        return pol->dry_run_line ? ydoc_fail_at(d, pol->dry_run_line, 1, msg)
                                 : ydoc_fail(d, root, msg);
    }
    /* Unset bucket sizes: per rule as the global one, per source half of it,
     * so that one source alone never drains the global bucket. */
    if (!pol_of(d)->rule_apm)
        pol_of(d)->rule_apm = pol->actions_per_minute;
    if (!pol_of(d)->rule_burst)
        pol_of(d)->rule_burst = pol->burst;
    if (!pol_of(d)->source_apm)
        pol_of(d)->source_apm = (pol->actions_per_minute + 1) / 2;
    if (!pol_of(d)->source_burst)
        pol_of(d)->source_burst = (pol->burst + 1) / 2;
    return 0;
}

static const struct ydoc_key top_kw[] = {
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
static const struct ydoc_table top_table = {top_kw, YDOC_NKEYS(top_kw),
                                            "expected a mapping of settings", NULL};

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
        for (size_t j = 0; j < ru->nindicator_feeds; j++)
            free(ru->indicator_feeds[j]);
        free(ru->indicator_feeds);
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
    struct ydoc d;
    struct respond_policy *pol;
    yaml_node_t *root = NULL;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    *ret = NULL;
    if (!(pol = policy_defaults()))
        return -ENOMEM;
    if (file && !(pol->path = strdup(file))) {
        respond_policy_free(pol);
        return -ENOMEM;
    }
    r = ydoc_load(&d, text, len, reterr);
    d.ctx = pol;
    /* An empty file is all defaults: dry run, no rules. */
    if (r == 0 && (root = ydoc_root(&d)))
        r = ydoc_walk(&d, root, &top_table, NULL);
    if (r == 0)
        r = check_actions(&d, root);
    ydoc_done(&d);
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
