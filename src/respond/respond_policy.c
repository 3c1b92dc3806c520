/*
 * respond_policy.c - the response policy's decision with its bounded state
 * (repeat offenders, blocks in force, token buckets) and the names of its
 * kinds, modes and actions.  Loading and checking respond.yaml is in
 * respond_policy_parse.c.
 */
#include "respond/respond_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "respond/respond_never.h"
#include "respond/respond_policy_priv.h"
#include "triage/triage.h"
#include "util/htable.h"
#include "util/limits.h"

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

int respond_policy_kind_lookup(const char *s)
{
    for (int i = 0; i < RESPOND_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

int respond_policy_action_lookup(const char *s)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(s, action_names[i]) == 0)
            return (int)i;
    return -1;
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
    struct block *blocks;              /* [0, nblocks) live or expired, compacted lazily */
    size_t nblocks, cap_blocks;
    struct offender *off; /* cap_off entries */
    size_t cap_off, noff;
    int32_t *heads; /* nheads buckets, a power of two */
    size_t nheads;
    struct htable_key hkey; /* for addr_hash */
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
    if (!s->blocks || !s->off || !s->heads || !s->rule_b || !s->src_b ||
        htable_key_init(&s->hkey) < 0) {
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

static size_t addr_hash(const struct respond_state *s, const struct asset_net *a)
{
    /* Keyed: the addresses are the attackers', and every decision looks
     * its address up, so chosen ones must not share a chain. */
    uint8_t k[sizeof(a->addr) + 1];

    k[0] = (uint8_t)a->family;
    memcpy(k + 1, a->addr, sizeof(a->addr));
    return (size_t)(htable_key_hash(&s->hkey, k, sizeof(k)) & (s->nheads - 1));
}

static struct offender *off_find(struct respond_state *s, const struct asset_net *a)
{
    for (int32_t i = s->heads[addr_hash(s, a)]; i >= 0; i = s->off[i].next)
        if (addr_eq(&s->off[i].addr, a))
            return &s->off[i];
    return NULL;
}

static void off_unlink(struct respond_state *s, size_t idx)
{
    int32_t *pp = &s->heads[addr_hash(s, &s->off[idx].addr)];

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
    h = addr_hash(s, a);
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
    if (ru->indicator) {
        size_t i;
        if (!t->indicator_feed || t->indicator_confidence < ru->indicator)
            return 0;
        for (i = 0; i < ru->nindicator_feeds; i++)
            if (strcmp(ru->indicator_feeds[i], t->indicator_feed) == 0)
                break;
        if (ru->nindicator_feeds && i == ru->nindicator_feeds)
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

/* The address never acted on (the built-in list), allowlisted or
 * protected, as a refusal; 1 when refused. */
static int address_refused(const struct respond_policy *p, const struct respond_state *s,
                           const struct respond_trigger *t, const struct asset_net *ap,
                           const char *atext, struct respond_decision *ret)
{
    for (size_t i = 0; i < NNEVER; i++) {
        struct asset_net n;
        if (asset_net_parse(never_nets[i].net, strlen(never_nets[i].net), &n) == 0 &&
            asset_net_contains(&n, ap)) {
            snprintf(ret->reason, sizeof(ret->reason), "%s is %s: never acted on", atext,
                     never_nets[i].what);
            refuse(ret, RESPOND_REFUSAL_NEVER);
            return 1;
        }
    }
    for (size_t i = 0; i < p->nallow; i++) {
        const struct respond_allow *a = &p->allow[i];
        if (asset_net_contains(&a->net, ap)) {
            char ntext[INET6_ADDRSTRLEN];
            fmt_addr(&a->net, ntext, sizeof(ntext));
            snprintf(ret->reason, sizeof(ret->reason), "%s is in the allowlist (%s/%u%s%s)", atext,
                     ntext, a->net.prefix, a->note ? " " : "", a->note ? a->note : "");
            refuse(ret, RESPOND_REFUSAL_ALLOWLIST);
            return 1;
        }
    }
    if (protected_addr(p, s, t, ap, atext, ret)) {
        refuse(ret, RESPOND_REFUSAL_PROTECTED);
        return 1;
    }
    return 0;
}

/* The verdict ASK: the rule wants a person, or acts alone only on a
 * trusted witness and this evidence has none. */
static void ask(const struct respond_rule *ru, const struct respond_trigger *t, int blocks,
                const char *acts, const char *atext, const char *dur, struct respond_decision *ret)
{
    const char *why = ru->mode == RESPOND_MODE_APPROVE
                          ? "asks for approval"
                          : "acts on its own only on a trusted witness, so it asks for "
                            "approval";

    ret->verdict = RESPOND_ASK;
    ret->untrusted = ru->mode != RESPOND_MODE_APPROVE;
    if (blocks)
        snprintf(ret->reason, sizeof(ret->reason), "rule %s %s: %s %s for %s", ru->name, why, acts,
                 atext, dur);
    else
        snprintf(ret->reason, sizeof(ret->reason), "rule %s %s: %s%s%s", ru->name, why, acts,
                 atext[0] ? " about " : "", atext);
    add_evidence(ret, t);
}

/* Records the block decided on `ap` and its offender's repeat count. */
static void block_record(struct respond_state *s, const struct asset_net *ap,
                         const struct respond_decision *ret, int64_t now_us)
{
    struct offender *o;

    s->blocks[s->nblocks].addr = *ap;
    s->blocks[s->nblocks].until_us = now_us + ret->ban_us;
    s->nblocks++;
    o = off_get(s, ap);
    /* Saturates: past this the ban has long reached its cap. */
    o->bans = ret->repeat < RESPOND_REPEAT_MAX ? ret->repeat + 1 : RESPOND_REPEAT_MAX;
    o->last_end_us = now_us + ret->ban_us;
    o->touched_us = now_us;
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
    if (ap && address_refused(p, s, t, ap, atext, ret))
        return 0;
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
    /* An exercise's trigger: what would be done, in dry run whatever the
     * policy says, taking no token, slot or offender record (issue 22). */
    if (t->exercise) {
        ret->verdict = RESPOND_ACT;
        ret->dry_run = 1;
        snprintf(ret->reason, sizeof(ret->reason), "rule %s: %s%s%s%s%s (exercise: dry run)",
                 ru->name, acts, atext[0] ? " " : "", atext, blocks ? " for " : "",
                 blocks ? dur : "");
        add_evidence(ret, t);
        return 0;
    }

    /* `auto` on evidence no trusted witness gave becomes a request for a
     * person: forged text may queue, never act (issue 15). */
    if ((ru->mode == RESPOND_MODE_APPROVE || !t->trusted) && !t->approved) {
        ask(ru, t, blocks, acts, atext, dur, ret);
        return 0;
    }
    if (blocks && (s->nblocks >= p->max_blocks || s->nblocks >= s->cap_blocks)) {
        snprintf(ret->reason, sizeof(ret->reason), "%zu blocks active, the maximum", s->nblocks);
        return refuse(ret, RESPOND_REFUSAL_MAX_BLOCKS);
    }
    if (take_tokens(p, s, t, ru, now_us, ret))
        return 0;
    if (blocks)
        block_record(s, ap, ret, now_us);
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
