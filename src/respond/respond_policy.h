/*
 * respond_policy.h - the response policy: whether hikeshi acts on its own on an
 * alert, asks a person first, or refuses.
 *
 * MISSION.md section 1: the rule layer acts automatically where speed
 * matters and the threat is big and easy to identify, but it must not be
 * fooled into blocking ourselves (spoofed sources, our own networks) and must
 * not hurt availability.  So a decision passes, in order: a policy rule must
 * match the trigger (else NONE); the address must be a single valid address,
 * not a never-blockable one (loopback, link-local, multicast, unspecified,
 * broadcast) and not in the allowlist; UDP-only evidence needs
 * corroboration; an address already blocked is not blocked twice; a rule in
 * `approve` mode gives ASK; then the global limits (maximum of concurrent
 * blocks, actions-per-minute bucket) may still REFUSE; otherwise ACT.
 *
 * Trust (issue 15): a rule in `auto` mode acts only on evidence from a
 * trusted witness (a trusted input's record of a kind that sees the
 * attacker's own traffic, docs/respond.md "Who is believed"); any other
 * evidence turns `auto` into ASK, so forged text queues for a person and
 * never reaches the firewall by itself.  The never-block list (this host's
 * addresses, gateways, resolvers, management networks, log peers) is
 * refused like the allowlist, and each ACT needs a token of the global
 * bucket, of its policy rule's bucket and of its evidence source's bucket,
 * so one source's flood cannot spend the budget another's block needs.
 *
 * This module is pure logic: it parses the policy (rules/config/respond.yaml,
 * documented in docs/respond.md) and keeps a small bounded state (the rate
 * bucket, the active blocks with their expiry, the repeat offenders for the
 * escalating ban).  It does no I/O besides reading the policy file, never
 * logs, and takes no locks: one thread owns a state.
 */
#ifndef HIKESHI_RESPOND_POLICY_H
#define HIKESHI_RESPOND_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "respond/respond_fw.h"
#include "triage/asset.h"
#include "util/parse_err.h"

/* Caps on what a policy file may hold. */
#define RESPOND_MAX_RULES 256
#define RESPOND_MAX_LIST 256          /* entries of one list inside a rule */
#define RESPOND_MAX_ALLOW 4096        /* allowlist entries */
#define RESPOND_MAX_INTERNAL 1024     /* internal networks */
#define RESPOND_MAX_STRING 256        /* bytes of one name, id or note */
#define RESPOND_MAX_BLOCKS 100000     /* upper bound of max_blocks */
#define RESPOND_MAX_OFFENDERS 1000000 /* upper bound of ban.track */
#define RESPOND_MAX_SOURCES 256       /* evidence sources with a bucket of their own (LRU) */
#define RESPOND_SOURCE_MAX 96         /* bytes of a source's name, with its NUL */

/* What raised the trigger.  The first three equal enum triage_kind. */
enum respond_kind {
    RESPOND_KIND_RULE = 0,
    RESPOND_KIND_CORRELATION,
    RESPOND_KIND_ANOMALY,
    RESPOND_KIND_INCIDENT,
};
#define RESPOND_KIND_COUNT 4

/* Action bits. */
#define RESPOND_ACTION_BLOCK 0x1u /* nftables block with expiry */
#define RESPOND_ACTION_WEBHOOK 0x2u
#define RESPOND_ACTION_MAIL 0x4u
#define RESPOND_ACTION_EXEC 0x8u

enum respond_mode {
    RESPOND_MODE_AUTO = 0,
    RESPOND_MODE_APPROVE,
};

/* Where the address must be for a rule to match, by the `internal` networks. */
enum respond_from {
    RESPOND_FROM_ANY = 0,
    RESPOND_FROM_OUTSIDE,
    RESPOND_FROM_INSIDE,
};

struct respond_allow {
    struct asset_net net;
    char *note; /* owned; may be NULL ("own network", "DNS server" ...) */
    unsigned line;
};

/* One `rules:` entry.  Every criterion given must hold (an empty list or 0
 * is "any"); within a list one entry matching is enough. */
struct respond_rule {
    char *name;     /* owned; "#<n>" when the file gives none */
    unsigned line;  /* in its file */
    unsigned kinds; /* bit (1 << enum respond_kind); 0 = any */
    char **rules;   /* owned; rule ids or names; "prefix*" matches a prefix */
    size_t nrules;
    char **correlations; /* owned; correlation outcome (type) names */
    size_t ncorrelations;
    int min_level;  /* 1..5, 0 = any */
    unsigned types; /* bit (1 << enum triage_type); 0 = any */
    enum respond_from from;
    /* Known-bad indicators (issue 20): 1..3, the rule matches only a
     * trigger whose address an imported indicator named with at least
     * this confidence (Low, Medium, High); 0: any trigger */
    int indicator;
    char **indicator_feeds; /* owned; the feeds whose indicators count; none: any feed */
    size_t nindicator_feeds;
    unsigned actions; /* RESPOND_ACTION_* bits, never 0 */
    enum respond_mode mode;
};

/* How the actions are carried out (the `block:`, `webhook:`, `mail:` and
 * `exec:` sections).  A rule naming webhook, mail or exec needs its
 * section; block works on the defaults of struct respond_fw_conf. */
struct respond_webhook_set {
    int given;
    char *url;         /* owned */
    char *secret_file; /* owned; as written (relative: to the policy's directory) */
    unsigned timeout_ms, attempts, backoff_ms, backoff_max_ms; /* 0: the module's defaults */
};
#define RESPOND_MAIL_MAX_TO 16
struct respond_mail_set {
    int given;
    char *to[RESPOND_MAIL_MAX_TO]; /* owned; plain addresses, checked */
    size_t nto;
    char *from;     /* owned; default "hikeshi" (sendmail adds the host) */
    char *sendmail; /* owned; absolute path, default /usr/sbin/sendmail */
    unsigned timeout_ms;
};
struct respond_exec_set {
    int given;
    char **argv; /* owned, NULL-terminated; checked by respond_exec_check */
    size_t argc;
    unsigned timeout_ms;
};

struct respond_policy {
    char *path;                  /* owned; file it came from, NULL for text */
    int dry_run;                 /* 1: decisions are made and logged, nothing is done */
    struct respond_allow *allow; /* owned */
    size_t nallow;
    struct respond_allow *management; /* owned; never acted on: where the admins are */
    size_t nmanagement;
    unsigned dry_run_line;      /* where dry_run was set (0: default), for messages */
    struct asset_net *internal; /* owned; "our" networks for `from:` */
    size_t ninternal;
    unsigned actions_per_minute; /* global token bucket: refill rate */
    unsigned burst;              /* and size */
    unsigned rule_apm, rule_burst;     /* each policy rule's own bucket (rate.per_rule) */
    unsigned source_apm, source_burst; /* each evidence source's bucket (rate.per_source) */
    unsigned max_blocks;         /* blocks active at once */
    int64_t ban_base_us;         /* first ban of an address */
    double ban_factor;           /* each repeat multiplies by this */
    int64_t ban_max_us;          /* cap of the escalated ban */
    int64_t ban_forget_us;       /* repeats counted until this long after a ban ends */
    size_t ban_track;            /* offenders remembered (LRU beyond) */
    struct respond_rule *rules;  /* owned; first match wins */
    size_t nrules;
    struct respond_fw_conf block; /* names checked; empty ones are defaults */
    struct respond_webhook_set webhook;
    struct respond_mail_set mail;
    struct respond_exec_set exec;
    unsigned actions_used; /* RESPOND_ACTION_* bits some rule names */
};

/*
 * Parses a policy from YAML text.  `file` names the source (kept in
 * ->path, may be NULL).  Keys not given keep their defaults: dry_run true,
 * empty allowlist and management, the private ranges as internal networks,
 * 10 actions a minute with a burst of 5 (per rule: the same; per source:
 * half of each, rounded up), 20 blocks, ban 10m doubling up to 1w and
 * forgotten 1d after it ends, no rules.  `dry_run: false` with an empty
 * allowlist is an error (at the dry_run line).  Returns 0 and a policy the caller
 * owns (respond_policy_free); -EINVAL with reterr's line, col, off and msg
 * set (msg static); -ENOMEM.  Never reads past `len`; needs no NUL.
 */
int respond_policy_parse(const char *text, size_t len, const char *file,
                         struct respond_policy **ret, struct parse_err *reterr);
/* As respond_policy_parse on a file (at most 1 MiB); -errno when it cannot
 * be read (reterr->msg set for a file too large). */
int respond_policy_load(const char *path, struct respond_policy **ret, struct parse_err *reterr);
/* NULL is a no-op. */
void respond_policy_free(struct respond_policy *p);

/* Names for display and the config language. */
const char *respond_kind_name(enum respond_kind k);
const char *respond_mode_name(enum respond_mode m);
/* "block", "webhook", "mail" or "exec" for one bit; NULL otherwise. */
const char *respond_action_name(unsigned bit);

/* What an alert or incident asks of the policy.  All borrowed for the call. */
struct respond_trigger {
    enum respond_kind kind;
    const char *rule_id;     /* may be NULL */
    const char *rule_name;   /* may be NULL */
    int level;               /* 1..5 (TRIAGE_LEVEL_*), 0 unknown */
    int incident_type;       /* enum triage_type, TRIAGE_TYPE_NONE when none */
    const char *correlation; /* correlation outcome (type), may be NULL */
    const char *address;     /* the address to act on (text, NUL-terminated), may be NULL */
    int udp_only;            /* 1: the evidence could be spoofed (UDP carrier or UDP flow) */
    int corroborated;        /* 1: a second, independent trusted source confirms it */
    int trusted;             /* 1: a trusted witness named the address (auto may act) */
    int log_peer;            /* 1: the address sent us trusted records: never acted on */
    const char *source;      /* the evidence's source (input, sender) for its bucket; may be NULL */
    const char *evidence;    /* one phrase on the evidence for the reason; may be NULL */
    /* An alert whose event matched an address indicator (threat.indicator.*,
     * docs/intel.md): its feed and its confidence, 1 Low, 2 Medium, 3 High
     * (0 and NULL: no such match).  The address is then the one matched. */
    const char *indicator_feed;
    int indicator_confidence;
    /* 1: raised by a tabletop exercise's records (inputs[].exercise): decided
     * as ever but always in dry run, and the state (buckets, blocks, offenders)
     * left as it was, so that an exercise neither acts nor uses up real
     * responses' limits (issue 22) */
    int exercise;
    int approved;            /* 1: a person approved it (skips `approve` mode and the
                                trusted-witness requirement only) */
};

enum respond_verdict {
    RESPOND_NONE = 0, /* no policy rule matches: nothing to do */
    RESPOND_ACT,      /* do the actions now (or log them, in dry run) */
    RESPOND_ASK,      /* put it in the approval queue */
    RESPOND_REFUSE,   /* a rule matched but acting is not allowed */
};

enum respond_refusal {
    RESPOND_REFUSAL_NONE = 0,
    RESPOND_REFUSAL_NO_ADDRESS,  /* block without an address */
    RESPOND_REFUSAL_BAD_ADDRESS, /* not a single IPv4/IPv6 address */
    RESPOND_REFUSAL_NEVER,       /* loopback, link-local, multicast ... */
    RESPOND_REFUSAL_ALLOWLIST,
    RESPOND_REFUSAL_PROTECTED, /* this host, a gateway, a resolver, management, a log peer */
    RESPOND_REFUSAL_SPOOFABLE, /* UDP-only, not corroborated */
    RESPOND_REFUSAL_BLOCKED,   /* already blocked */
    RESPOND_REFUSAL_MAX_BLOCKS,
    RESPOND_REFUSAL_RATE,
};

#define RESPOND_REASON_MAX 512

struct respond_decision {
    enum respond_verdict verdict;
    enum respond_refusal refusal;    /* why, when REFUSE */
    unsigned actions;                /* of the matching rule; 0 with NONE */
    int64_t ban_us;                  /* block duration (escalated); 0 without block */
    unsigned repeat;                 /* earlier bans of this address still remembered */
    int dry_run;                     /* the policy's dry_run, to be obeyed by the caller */
    int untrusted;                   /* ASK only because no trusted witness named the
                                        address (the rule says auto) */
    const struct respond_rule *rule; /* the matching rule (borrowed from the policy) */
    char reason[RESPOND_REASON_MAX]; /* one sentence for a person */
};

struct respond_state;

/*
 * A state for decisions under `p`: the rate bucket starts full, no blocks,
 * no offenders.  Its tables are sized from p->max_blocks and p->ban_track
 * when created; under a later policy with larger values the state keeps its
 * sizes (create a new state to grow).  NULL on OOM.
 */
struct respond_state *respond_state_new(const struct respond_policy *p);
/* NULL is a no-op. */
void respond_state_free(struct respond_state *s);
struct respond_never;
/* The never-block list computed at start (respond_never.h): borrowed, must
 * outlive the state or be replaced; NULL removes it.  Decider thread only. */
void respond_state_set_never(struct respond_state *s, const struct respond_never *never);

/*
 * Decides what to do about `t` at `now_us` (a monotonic or event clock in
 * µs, from 0 to 2^62; it should not go backwards: time going back never
 * refills the bucket).  Fills *ret always.  An ACT consumes one token of the
 * global bucket, of its rule's and (unless approved) of its source's, and when it blocks, takes a
 * block slot until now + ban_us and records the address as a repeat offender; NONE, ASK and REFUSE
 * change nothing.  Dry run changes nothing here: the state moves as if the actions were done, so
 * the log shows what would really happen.  Returns 0, or -EINVAL when an argument is NULL or the
 * clock out of range (*ret then says REFUSE when it exists).
 */
int respond_decide(const struct respond_policy *p, struct respond_state *s,
                   const struct respond_trigger *t, int64_t now_us, struct respond_decision *ret);

/*
 * 1 when some rule of `p` could match `t` (every criterion but the
 * address's direction), 0 when respond_decide would surely say NONE.  Pure
 * and read-only: any thread may call it on a policy nobody changes, to
 * keep triggers that matter from queueing behind those that do not.
 */
int respond_policy_may_match(const struct respond_policy *p, const struct respond_trigger *t);

/*
 * A block ended before its expiry (an admin lifted it, the firewall refused
 * it): frees its slot.  The address stays a repeat offender.  0, -ENOENT when
 * no active block holds that address, -EINVAL when it is not an address.
 */
int respond_block_ended(struct respond_state *s, const char *address, int64_t now_us);
/*
 * A block made before this state existed (the daemon restarted; the
 * kernel still holds it) until `until_us`: it takes a slot under
 * max_blocks and the address counts as an offender with one ban at least.
 * Already ended: a no-op.  0, -EINVAL (not one address), -ENOSPC (the
 * state's table is full).
 */
int respond_block_restore(struct respond_state *s, const char *address, int64_t until_us,
                          int64_t now_us);
/* Blocks active at `now_us` (expired ones are not counted). */
size_t respond_blocks_active(struct respond_state *s, int64_t now_us);

#endif
