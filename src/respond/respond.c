/*
 * respond.c - the response engine: a bounded queue of triggers, the
 * decider thread (policy, firewall, store rows, audit) and the notifier
 * thread (webhook, mail, exec).  respond.h says what each does.
 */
#include "respond/respond.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "build_config.h"
#include "event/time.h"
#include "incident/audit.h"
#include "respond/respond_exec.h"
#include "respond/respond_fw.h"
#include "respond/respond_never.h"
#include "respond/respond_webhook.h"
#include "store/store.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/readfile.h"
#include "util/ydoc.h"

#define ID_MAX 128   /* bytes kept of a rule id or name */
#define CORR_MAX 32  /* of a correlation type */
#define ADDR_MAX 64  /* of an address: longer is not an address */
#define WHO_MAX 64
#define BATCH 64                /* triggers the decider takes at a time */
#define POLL_US INT64_C(1000000) /* looks for approvals and lift requests */
#define REFUSAL_SLOTS 1024      /* remembered refusals (direct-mapped) */
#define REFUSAL_QUIET_US (60 * INT64_C(1000000))
#define NOTIFY_MAX 1024 /* notification jobs waiting */
#define SECRET_MAX 4096
#define EVIDENCE_MAX 192 /* of the evidence phrase */

/* One trigger as queued: the strings copied. */
struct titem {
    int kind, level, incident_type, udp_only, corroborated, trusted, log_peer;
    int exercise; /* respond_trigger.exercise: always a dry run */
    int64_t agg_id, incident_id, recv_us;
    char rule_id[ID_MAX], rule_name[ID_MAX], corr[CORR_MAX], address[ADDR_MAX];
    char source[RESPOND_SOURCE_MAX], evidence[EVIDENCE_MAX];
    int indicator_conf;          /* respond_trigger.indicator_confidence */
    char indicator_feed[ID_MAX]; /* and its feed ("": none) */
    unsigned cut; /* 1: a string did not fit */
};

/* A notification job: the row it belongs to and everything the actions
 * need, rendered by the decider. */
struct njob {
    struct njob *next;
    int64_t resp_id;
    unsigned actions;      /* webhook, mail, exec bits */
    char *block_result;    /* JSON value of the block's outcome, or NULL */
    char *body;            /* the webhook JSON */
    char *mail;            /* the mail message */
    char vars[RESPOND_VAR_COUNT][ID_MAX * 2];
};

struct refusal {
    uint64_t key;
    int64_t at_us;
};

struct respond {
    struct respond_policy *pol;
    struct respond_state *state; /* decider thread only */
    struct respond_never never;  /* computed at start; the state and the helper's copy */
    struct respond_fw *fw;       /* decider thread only; NULL: dry run or no block */
    struct audit *audit;
    char *data_dir;
    unsigned char *secret;
    size_t secret_len;

    pthread_mutex_t lock; /* the trigger ring, the notify list, stopping */
    pthread_cond_t cond;  /* decider: triggers or stop */
    pthread_cond_t ncond; /* notifier: jobs or stop */
    struct titem *ring;
    size_t head, count;
    struct njob *nhead, *ntail;
    size_t ncount;
    int stopping;

    pthread_t decider, notifier;
    int started;
    struct store *dst, *nst; /* each thread's own connection */
    struct refusal refusals[REFUSAL_SLOTS];
    struct htable_key refusal_key; /* the addresses are the attackers' */
    int64_t last_poll_us;
    struct log_ratelimit rl;

    pthread_mutex_t stat_lock; /* the latency window */
    int64_t lat[RESPOND_LAT_WINDOW];
    uint64_t nlat;
    int64_t lat_sum; /* µs, of all nlat */
    struct {
        atomic_ulong offered, dropped, none, act, ask, refused, dry_run, blocks, block_failures,
            lifted, notified, notify_failures, approved;
    } st;
};

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void copy_str(char *dst, size_t size, const char *s, unsigned *cut)
{
    size_t n = s ? strlen(s) : 0;

    if (n >= size) {
        n = size - 1;
        *cut = 1;
    }
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

static void item_trigger(const struct titem *it, int approved, struct respond_trigger *t)
{
    *t = (struct respond_trigger){
        .kind = (enum respond_kind)it->kind,
        .rule_id = it->rule_id[0] ? it->rule_id : NULL,
        .rule_name = it->rule_name[0] ? it->rule_name : NULL,
        .level = it->level,
        .incident_type = it->incident_type,
        .correlation = it->corr[0] ? it->corr : NULL,
        /* A cut address is not the address: refused as bad, never acted on. */
        .address = it->address[0] ? it->address : NULL,
        .udp_only = it->udp_only,
        .corroborated = it->corroborated,
        .trusted = it->trusted,
        .log_peer = it->log_peer,
        .exercise = it->exercise,
        .source = it->source[0] ? it->source : NULL,
        .evidence = it->evidence[0] ? it->evidence : NULL,
        .indicator_feed = it->indicator_feed[0] ? it->indicator_feed : NULL,
        .indicator_confidence = it->indicator_feed[0] ? it->indicator_conf : 0,
        .approved = approved,
    };
}

/*
 * The never-block list (respond_never.h): this host's addresses, gateways
 * and resolvers, the management networks, the allowlist and the peers that
 * send us logs.  The policy checks it and the firewall helper gets a copy.
 */
static int build_never(struct respond *r, const struct respond_opts *o, char *errbuf, size_t errlen)
{
    const struct respond_policy *p = r->pol;
    int e, host;

    respond_never_init(&r->never);
    if ((host = respond_never_add_host(&r->never, NULL)) < 0) {
        snprintf(errbuf, errlen, "response: the never-block list: %s", strerror(-host));
        return host;
    }
    for (size_t i = 0; i < p->nmanagement; i++)
        if ((e = respond_never_add(&r->never, &p->management[i].net, "in a management network")) <
            0)
            goto fail;
    for (size_t i = 0; i < p->nallow; i++)
        if ((e = respond_never_add(&r->never, &p->allow[i].net, "in the allowlist")) < 0)
            goto fail;
    for (size_t i = 0; o->log_peers && i < o->nlog_peers; i++) {
        if ((e = respond_never_add_text(&r->never, o->log_peers[i], "a peer that sends us logs")) ==
            -EINVAL) {
            log_warnx("response: log peer %s is not an address or network; not protected",
                      o->log_peers[i]);
            continue;
        }
        if (e < 0)
            goto fail;
    }
    log_info("response: never blocked: %d addresses of this host, its gateways and resolvers, "
             "%zu management networks, %zu allowlist entries, %zu log peers",
             host, p->nmanagement, p->nallow, o->log_peers ? o->nlog_peers : 0);
    respond_state_set_never(r->state, &r->never);
    return 0;
fail:
    snprintf(errbuf, errlen, "response: the never-block list: %s",
             e == -ENOSPC ? "more than 8192 entries" : strerror(-e));
    return e;
}

/* ---- setup ---------------------------------------------------------------- */

/* The webhook key from its file: relative to the policy's directory,
 * trailing newlines dropped (echo adds one), at least 32 bytes. */
static int load_secret(struct respond *r, char *errbuf, size_t errlen)
{
    const char *f = r->pol->webhook.secret_file;
    char path[4096];
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    int e;

    if (f[0] == '/' || !r->pol->path || !strchr(r->pol->path, '/'))
        snprintf(path, sizeof(path), "%s", f);
    else
        snprintf(path, sizeof(path), "%.*s/%s",
                 (int)(strrchr(r->pol->path, '/') - r->pol->path), r->pol->path, f);
    if ((e = readfile_all(path, SECRET_MAX, &text, &len)) < 0) {
        snprintf(errbuf, errlen, "webhook secret_file %s: %s", path,
                 e == -EFBIG ? "larger than 4 KiB" : strerror(-e));
        return e;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len < RESPOND_WEBHOOK_SECRET_MIN) {
        snprintf(errbuf, errlen, "webhook secret_file %s: %zu bytes, at least %d needed", path,
                 len, RESPOND_WEBHOOK_SECRET_MIN);
        free(text);
        return -EINVAL;
    }
    if (stat(path, &sb) == 0 && (sb.st_mode & 077))
        log_warnx("webhook secret_file %s can be read by others than its owner (mode %03o)", path,
                  (unsigned)(sb.st_mode & 0777));
    r->secret = (unsigned char *)text;
    r->secret_len = len;
    return 0;
}

int respond_new(const struct respond_opts *o, struct respond **ret, char *errbuf, size_t errlen)
{
    struct respond *r;
    struct parse_err pe;
    int e;

    *ret = NULL;
    errbuf[0] = '\0';
    if (!o || !o->policy_path || !o->data_dir) {
        snprintf(errbuf, errlen, "response: no policy file or data directory");
        return -EINVAL;
    }
    if (!(r = calloc(1, sizeof(*r))) || !(r->data_dir = strdup(o->data_dir)) ||
        !(r->ring = calloc(RESPOND_QUEUE_MAX, sizeof(*r->ring)))) {
        if (r)
            free(r->data_dir);
        free(r);
        snprintf(errbuf, errlen, "response: out of memory");
        return -ENOMEM;
    }
    /* randombytes cannot fail once libsodium is up; only a system with no
     * entropy at all refuses. */
    if (htable_key_init(&r->refusal_key) < 0) {
        free(r->ring);
        free(r->data_dir);
        free(r);
        snprintf(errbuf, errlen, "response: no entropy for the hash key");
        return -EIO;
    }
    r->audit = o->audit;
    r->rl = (struct log_ratelimit){.interval_s = 60, .burst = 20};
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->stat_lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    pthread_cond_init(&r->ncond, NULL);
    if ((e = respond_policy_load(o->policy_path, &r->pol, &pe)) < 0) {
        if (e == -EINVAL && pe.msg)
            ydoc_err_format(errbuf, errlen, o->policy_path, &pe);
        else
            snprintf(errbuf, errlen, "%s: %s", o->policy_path, pe.msg ? pe.msg : strerror(-e));
        goto fail;
    }
    if (!(r->state = respond_state_new(r->pol))) {
        e = -ENOMEM;
        snprintf(errbuf, errlen, "response: out of memory");
        goto fail;
    }
    if (r->pol->webhook.given && (e = load_secret(r, errbuf, errlen)) < 0)
        goto fail;
    if ((e = build_never(r, o, errbuf, errlen)) < 0)
        goto fail;
    if (!r->pol->dry_run && (r->pol->actions_used & RESPOND_ACTION_BLOCK)) {
        char why[512];
        /* The helper refuses these on its own too (respond_fw.h). */
        r->pol->block.never = &r->never;
        if ((e = respond_fw_start(&r->pol->block, &r->fw, why, sizeof(why))) < 0) {
            snprintf(errbuf, errlen, "%s: firewall: %s", o->policy_path, why);
            goto fail;
        }
    }
    *ret = r;
    return 0;
fail:
    respond_free(r);
    return e;
}

const struct respond_policy *respond_policy_of(const struct respond *r)
{
    return r->pol;
}

/* ---- the queue ------------------------------------------------------------ */

void respond_offer(struct respond *r, const struct respond_trigger *t,
                   const struct respond_cause *c)
{
    struct titem *it;

    if (!r || !t)
        return;
    /* Most alerts match no rule: decided here, they never take a queue
     * slot that a brute force's trigger needs. */
    if (!respond_policy_may_match(r->pol, t)) {
        atomic_fetch_add(&r->st.none, 1);
        return;
    }
    pthread_mutex_lock(&r->lock);
    if (r->stopping || r->count >= RESPOND_QUEUE_MAX) {
        pthread_mutex_unlock(&r->lock);
        atomic_fetch_add(&r->st.dropped, 1);
        return;
    }
    it = &r->ring[(r->head + r->count) % RESPOND_QUEUE_MAX];
    memset(it, 0, sizeof(*it));
    it->kind = (int)t->kind;
    it->level = t->level;
    it->incident_type = t->incident_type;
    it->udp_only = t->udp_only;
    it->corroborated = t->corroborated;
    it->trusted = t->trusted;
    it->log_peer = t->log_peer;
    it->exercise = t->exercise;
    copy_str(it->source, sizeof(it->source), t->source, &it->cut);
    copy_str(it->evidence, sizeof(it->evidence), t->evidence, &it->cut);
    copy_str(it->rule_id, sizeof(it->rule_id), t->rule_id, &it->cut);
    copy_str(it->rule_name, sizeof(it->rule_name), t->rule_name, &it->cut);
    copy_str(it->corr, sizeof(it->corr), t->correlation, &it->cut);
    if (t->indicator_feed && t->indicator_confidence > 0) {
        unsigned fcut = 0;
        copy_str(it->indicator_feed, sizeof(it->indicator_feed), t->indicator_feed, &fcut);
        if (fcut) /* a prefix of a feed's name is not that feed */
            it->indicator_feed[0] = '\0';
        else
            it->indicator_conf = t->indicator_confidence;
    }
    {
        unsigned acut = 0;
        copy_str(it->address, sizeof(it->address), t->address, &acut);
        if (acut) /* never a prefix of what was named */
            snprintf(it->address, sizeof(it->address), "(too long)");
    }
    if (c) {
        it->agg_id = c->agg_id;
        it->incident_id = c->incident_id;
        it->recv_us = c->recv_us;
    }
    r->count++;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add(&r->st.offered, 1);
}

/* ---- rendering ------------------------------------------------------------ */

static const char *level_word(int level)
{
    static const char *const names[] = {"unknown", "informational", "low",
                                        "medium",  "high",          "critical"};
    return level >= 0 && level <= 5 ? names[level] : "unknown";
}

static int actions_text(unsigned actions, char *buf, size_t size)
{
    size_t off = 0;

    buf[0] = '\0';
    for (unsigned bit = 1; bit <= RESPOND_ACTION_EXEC; bit <<= 1) {
        if (!(actions & bit))
            continue;
        int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", respond_action_name(bit));
        if (n < 0 || (size_t)n >= size - off)
            return -ENOSPC;
        off += (size_t)n;
    }
    return 0;
}

static void fmt_dur(int64_t us, char *buf, size_t size)
{
    int64_t s = us / 1000000;

    if (s % 86400 == 0)
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, size, "%llds", (long long)s);
}

/* The JSON a webhook receives and the audit entry records. */
static int cause_json(struct buf *b, const struct titem *it, const struct respond_decision *d,
                      int64_t resp_id, const char *who)
{
    char acts[64], ts[TIME_ISO_LEN];
    int r = 0;

    actions_text(d->actions, acts, sizeof(acts));
    time_format_iso(time_now_us(), ts, sizeof(ts));
    r = buf_printf(b, "{\"source\":\"hikeshi %s\",\"time\":\"%s\",\"response\":%lld,\"dry_run\":%s,",
                   HIKESHI_VERSION, ts, (long long)resp_id, d->dry_run ? "true" : "false");
    r = r ? r : buf_puts(b, "\"policy_rule\":");
    r = r ? r : buf_json_str(b, d->rule ? d->rule->name : "", d->rule ? strlen(d->rule->name) : 0);
    r = r ? r : buf_printf(b, ",\"actions\":\"%s\",\"address\":", acts);
    r = r ? r : (it->address[0] ? buf_json_str(b, it->address, strlen(it->address))
                                : buf_puts(b, "null"));
    r = r ? r : buf_printf(b, ",\"ban_s\":%lld,\"kind\":\"%s\",\"rule_id\":",
                           (long long)(d->ban_us / 1000000),
                           respond_kind_name((enum respond_kind)it->kind));
    r = r ? r : buf_json_str(b, it->rule_id, strlen(it->rule_id));
    r = r ? r : buf_puts(b, ",\"rule_name\":");
    r = r ? r : buf_json_str(b, it->rule_name, strlen(it->rule_name));
    r = r ? r : buf_printf(b, ",\"level\":\"%s\",\"alert\":%lld,\"incident\":%lld,\"approved_by\":",
                           level_word(it->level), (long long)it->agg_id,
                           (long long)it->incident_id);
    r = r ? r : (who ? buf_json_str(b, who, strlen(who)) : buf_puts(b, "null"));
    r = r ? r
          : buf_printf(b,
                       ",\"trusted_witness\":%s,\"udp_only\":%s,\"corroborated\":%s,"
                       "\"evidence_source\":",
                       it->trusted ? "true" : "false", it->udp_only ? "true" : "false",
                       it->corroborated ? "true" : "false");
    r = r ? r
          : (it->source[0] ? buf_json_str(b, it->source, strlen(it->source)) : buf_puts(b, "null"));
    r = r ? r : buf_puts(b, ",\"evidence\":");
    r = r ? r
          : (it->evidence[0] ? buf_json_str(b, it->evidence, strlen(it->evidence))
                             : buf_puts(b, "null"));
    r = r ? r : buf_puts(b, ",\"reason\":");
    r = r ? r : buf_json_str(b, d->reason, strlen(d->reason));
    r = r ? r : buf_putc(b, '}');
    return r;
}

/* A header value: printable ASCII on one line. */
static void header_clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || (unsigned char)*s > '~')
            *s = ' ';
}

static int mail_text(struct buf *b, const struct respond_policy *p, const struct titem *it,
                     const struct respond_decision *d, int64_t resp_id)
{
    char subj[256], acts[64];
    int r;

    actions_text(d->actions, acts, sizeof(acts));
    snprintf(subj, sizeof(subj), "[hikeshi] %s %s: %s", d->dry_run ? "would act" : "acted",
             it->address[0] ? it->address : "(no address)", d->rule ? d->rule->name : "");
    header_clean(subj);
    r = buf_printf(b, "From: %s\nTo: ", p->mail.from ? p->mail.from : "hikeshi");
    for (size_t i = 0; r == 0 && i < p->mail.nto; i++)
        r = buf_printf(b, "%s%s", i ? ", " : "", p->mail.to[i]);
    r = r ? r : buf_printf(b, "\nSubject: %s\nAuto-Submitted: auto-generated\n"
                              "Content-Type: text/plain; charset=utf-8\n\n", subj);
    r = r ? r : buf_printf(b, "%s\n\nresponse: %lld\nactions: %s\naddress: %s\nrule: %s %s\n"
                              "level: %s\nalert: %lld\nincident: %lld\n",
                           d->reason, (long long)resp_id, acts,
                           it->address[0] ? it->address : "-", it->rule_id, it->rule_name,
                           level_word(it->level), (long long)it->agg_id,
                           (long long)it->incident_id);
    return r;
}

/* ---- the decider ---------------------------------------------------------- */

static void lat_record(struct respond *r, int64_t us)
{
    pthread_mutex_lock(&r->stat_lock);
    r->lat[r->nlat % RESPOND_LAT_WINDOW] = us;
    r->nlat++;
    r->lat_sum += us;
    pthread_mutex_unlock(&r->stat_lock);
}

static void timeline(struct respond *r, int64_t incident_id, const char *who, const char *what,
                     const char *to, const char *reason)
{
    if (incident_id <= 0 || !r->dst)
        return;
    if (store_timeline_add(r->dst, incident_id, time_now_us(), 0, who, what, NULL, to, reason) <
        0)
        log_warnx("response: timeline of incident %lld: %s", (long long)incident_id,
                  store_errmsg(r->dst));
}

static void audit(struct respond *r, const char *who, const char *action, int64_t resp_id,
                  const char *json, size_t len)
{
    char obj[64];
    int e;

    if (!r->audit)
        return;
    snprintf(obj, sizeof(obj), "response/%lld", (long long)resp_id);
    if ((e = audit_append(r->audit, who, action, obj, json, len, NULL)) < 0)
        log_error("audit: %s of %s not recorded: %s", action, obj, strerror(-e));
}

/* The same refusal (policy rule, address, why) is recorded once a minute:
 * a flood of alerts from an allowlisted host must not become a flood of rows. */
static int refusal_quiet(struct respond *r, const struct titem *it,
                         const struct respond_decision *d, int64_t now)
{
    const char *name = d->rule ? d->rule->name : "";
    /* Keyed: an attacker must not pick an address whose refusal would pass
     * for another's and silence it. */
    uint64_t h = htable_key_hash(&r->refusal_key, name, strlen(name) + 1);
    struct refusal *slot;

    h ^= htable_key_hash(&r->refusal_key, it->address, strlen(it->address)) * 3;
    h ^= (uint64_t)d->refusal << 56;
    h |= 1;
    slot = &r->refusals[h % REFUSAL_SLOTS];
    if (slot->key == h && now - slot->at_us < REFUSAL_QUIET_US)
        return 1;
    slot->key = h;
    slot->at_us = now;
    return 0;
}

static void row_from(struct store_resp_rec *rec, const struct titem *it,
                     const struct respond_decision *d, const char *state, const char *acts,
                     int64_t now_wall)
{
    *rec = (struct store_resp_rec){
        .created_us = now_wall,
        .state = state,
        .policy_rule = d->rule ? d->rule->name : "",
        .kind = respond_kind_name((enum respond_kind)it->kind),
        .rule_id = it->rule_id[0] ? it->rule_id : NULL,
        .rule_name = it->rule_name[0] ? it->rule_name : NULL,
        .correlation = it->corr[0] ? it->corr : NULL,
        .level = it->level,
        .incident_type = it->incident_type > 0 && it->incident_type < TRIAGE_TYPE_COUNT
                             ? triage_type_name((enum triage_type)it->incident_type)
                             : NULL,
        .address = it->address[0] ? it->address : NULL,
        .udp_only = it->udp_only,
        .corroborated = it->corroborated,
        .actions = acts,
        .mode = d->rule ? respond_mode_name(d->rule->mode) : "auto",
        .agg_id = it->agg_id,
        .incident_id = it->incident_id,
        .reason = d->reason,
        .ban_us = d->ban_us,
        .seen = 1,
        .dry_run = d->dry_run,
    };
}

static void notify_push(struct respond *r, struct njob *j)
{
    pthread_mutex_lock(&r->lock);
    if (r->ncount >= NOTIFY_MAX) {
        pthread_mutex_unlock(&r->lock);
        log_warnx("response %lld: %zu notifications already waiting; this one is dropped",
                  (long long)j->resp_id, (size_t)NOTIFY_MAX);
        if (r->dst)
            store_resp_finish(r->dst, j->resp_id, "failed",
                              "{\"notify\":\"dropped: too many notifications waiting\"}", NULL, 0,
                              time_now_us());
        atomic_fetch_add(&r->st.notify_failures, 1);
        free(j->block_result);
        free(j->body);
        free(j->mail);
        free(j);
        return;
    }
    if (r->ntail)
        r->ntail->next = j;
    else
        r->nhead = j;
    r->ntail = j;
    r->ncount++;
    pthread_cond_signal(&r->ncond);
    pthread_mutex_unlock(&r->lock);
}

/* The block of an ACT, done now, or described in a dry run.  DUR and UNTIL
 * are the ban's length and end as text.  Writes what happened into RES;
 * returns 1 when blocked (or a dry run), 0 when it failed. */
static int act_block(struct respond *r, const struct titem *it, const struct respond_decision *d,
                     const char *dur, const char *until, char *res, size_t res_size)
{
    char why[512] = "";
    uint64_t secs;
    int e;

    if (d->dry_run) {
        snprintf(res, res_size, "would block %s for %s", it->address, dur);
        return 1;
    }
    if (!r->fw) {
        snprintf(res, res_size, "no firewall helper is running");
        return 0;
    }
    secs = (uint64_t)((d->ban_us + 999999) / 1000000);
    if (secs > RESPOND_FW_TIMEOUT_MAX_S)
        secs = RESPOND_FW_TIMEOUT_MAX_S;
    e = respond_fw_block(r->fw, it->address, (uint32_t)secs, why, sizeof(why));
    if (e == 0) {
        snprintf(res, res_size, "blocked %s for %s, until %s", it->address, dur, until);
        atomic_fetch_add(&r->st.blocks, 1);
        if (it->recv_us > 0)
            lat_record(r, time_now_us() - it->recv_us);
        return 1;
    }
    snprintf(res, res_size, "firewall refused %s: %s", it->address, why[0] ? why : strerror(-e));
    atomic_fetch_add(&r->st.block_failures, 1);
    respond_block_ended(r->state, it->address, mono_us());
    return 0;
}

/* The outcome of an ACT so far as one JSON object into B: the block's
 * (BLOCK_RES, empty: none) and the SLOW actions as queued. */
static int act_result_json(struct buf *b, const char *block_res, unsigned slow, int dry_run)
{
    int e = buf_putc(b, '{');

    if (e == 0 && block_res[0]) {
        e = buf_puts(b, "\"block\":");
        e = e ? e : buf_json_str(b, block_res, strlen(block_res));
    }
    for (unsigned bit = RESPOND_ACTION_WEBHOOK; e == 0 && bit <= RESPOND_ACTION_EXEC; bit <<= 1)
        if (slow & bit)
            e = buf_printf(b, "%s\"%s\":\"%s\"", b->len > 1 ? "," : "", respond_action_name(bit),
                           dry_run ? "would run" : "queued");
    return e ? e : buf_putc(b, '}');
}

/* The audit entry of an ACT: its cause with the outcome RESULT inside. */
static void act_audit(struct respond *r, const struct titem *it, const struct respond_decision *d,
                      int64_t resp_id, const char *who, const struct buf *result)
{
    struct buf a;

    buf_init(&a, 1024);
    if (cause_json(&a, it, d, resp_id, who) == 0 && a.len > 1) {
        /* The outcome inside the audit entry: one object, so splice. */
        a.len--;
        if (buf_puts(&a, ",\"result\":") == 0 && buf_append(&a, result->data, result->len) == 0 &&
            buf_putc(&a, '}') == 0)
            audit(r, who ? who : AUDIT_ACTOR_SYSTEM,
                  d->dry_run ? "response.dry_run" : "response.act", resp_id, a.data, a.len);
    }
    buf_done(&a);
}

/* Queues the SLOW actions of an ACT (webhook, mail, exec) for the
 * notifier, with everything they need copied out. */
static void act_notify(struct respond *r, const struct titem *it, const struct respond_decision *d,
                       int64_t resp_id, const char *who, unsigned slow, const char *block_res)
{
    struct njob *j = calloc(1, sizeof(*j));
    struct buf body, mail;
    char num[32], lvl[16];

    if (!j) {
        log_error("response %lld: out of memory; notifications not sent", (long long)resp_id);
        return;
    }
    buf_init(&body, 1024);
    buf_init(&mail, 1024);
    j->resp_id = resp_id;
    j->actions = slow;
    j->block_result = block_res[0] ? strdup(block_res) : NULL;
    if (cause_json(&body, it, d, resp_id, who) == 0)
        j->body = strndup(body.data, body.len);
    if ((slow & RESPOND_ACTION_MAIL) && mail_text(&mail, r->pol, it, d, resp_id) == 0)
        j->mail = strndup(mail.data, mail.len);
    buf_done(&body);
    buf_done(&mail);
    snprintf(num, sizeof(num), "%lld", (long long)it->incident_id);
    snprintf(lvl, sizeof(lvl), "%s", level_word(it->level));
    snprintf(j->vars[RESPOND_VAR_IP], sizeof(j->vars[0]), "%s", it->address);
    snprintf(j->vars[RESPOND_VAR_RULE], sizeof(j->vars[0]), "%s",
             it->rule_name[0] ? it->rule_name : it->rule_id);
    snprintf(j->vars[RESPOND_VAR_INCIDENT], sizeof(j->vars[0]), "%s", num);
    snprintf(j->vars[RESPOND_VAR_LEVEL], sizeof(j->vars[0]), "%s", lvl);
    snprintf(j->vars[RESPOND_VAR_REASON], sizeof(j->vars[0]), "%.*s", (int)sizeof(j->vars[0]) - 1,
             d->reason);
    notify_push(r, j);
}

/* Carries out an ACT: the block now, the rest queued for the notifier.
 * `resp_id` is the approved row, or 0 for a new one. */
static void act(struct respond *r, const struct titem *it, const struct respond_decision *d,
                int64_t resp_id, const char *who)
{
    struct store_resp_rec rec;
    struct buf b;
    char acts[64], dur[32], block_res[600] = "", ts[TIME_ISO_LEN];
    int64_t now = time_now_us(), expires = 0;
    int block_ok = 1, e;
    unsigned slow = d->actions & (RESPOND_ACTION_WEBHOOK | RESPOND_ACTION_MAIL | RESPOND_ACTION_EXEC);
    const char *state;

    actions_text(d->actions, acts, sizeof(acts));
    fmt_dur(d->ban_us, dur, sizeof(dur));
    if (d->actions & RESPOND_ACTION_BLOCK) {
        expires = now + d->ban_us;
        time_format_iso(expires, ts, sizeof(ts));
        block_ok = act_block(r, it, d, dur, ts, block_res, sizeof(block_res));
    }
    state = d->dry_run ? "dry_run" : block_ok ? "done" : "failed";
    buf_init(&b, 1024);
    if (act_result_json(&b, block_res, slow, d->dry_run) < 0)
        goto out;
    if (r->dst) {
        if (resp_id > 0) {
            e = store_resp_finish(r->dst, resp_id, state, b.data, d->reason, expires, now);
        } else {
            row_from(&rec, it, d, state, acts, now);
            rec.result = b.data;
            rec.expires_us = expires;
            e = store_resp_add(r->dst, &rec, &resp_id);
        }
        if (e < 0)
            log_error("response: recording %s on %s: %s", acts, it->address,
                      store_errmsg(r->dst));
    }
    if (d->dry_run)
        log_info("response %lld (dry run): %s", (long long)resp_id, d->reason);
    else if (block_ok)
        log_info("response %lld: %s; %s", (long long)resp_id, d->reason,
                 block_res[0] ? block_res : acts);
    else
        log_error("response %lld: %s; %s", (long long)resp_id, d->reason, block_res);
    act_audit(r, it, d, resp_id, who, &b);
    {
        char what[160];
        snprintf(what, sizeof(what), "%s %s%s", d->dry_run ? "would respond:" : "response:", acts,
                 block_ok ? "" : " (failed)");
        timeline(r, it->incident_id, who ? who : AUDIT_ACTOR_SYSTEM, what,
                 block_res[0] ? block_res : it->address, d->reason);
    }
    if (slow && !d->dry_run)
        act_notify(r, it, d, resp_id, who, slow, block_res);
out:
    buf_done(&b);
}

static void ask(struct respond *r, const struct titem *it, const struct respond_decision *d)
{
    struct store_resp_rec rec;
    char acts[64];
    int64_t id = 0, now = time_now_us();
    int e;

    atomic_fetch_add(&r->st.ask, 1);
    if (!r->dst)
        return;
    actions_text(d->actions, acts, sizeof(acts));
    e = store_resp_pending_find(r->dst, d->rule ? d->rule->name : "",
                                it->address[0] ? it->address : NULL, it->incident_id, &id);
    if (e == 0) {
        if (store_resp_seen(r->dst, id, now) < 0)
            log_warnx("response %lld: %s", (long long)id, store_errmsg(r->dst));
        return;
    }
    row_from(&rec, it, d, "pending", acts, now);
    if (store_resp_add(r->dst, &rec, &id) < 0) {
        log_error("response: queueing %s for approval: %s", acts, store_errmsg(r->dst));
        return;
    }
    log_info("response %lld awaits approval: %s", (long long)id, d->reason);
    timeline(r, it->incident_id, AUDIT_ACTOR_SYSTEM, "response awaits approval", acts, d->reason);
}

static void refuse(struct respond *r, const struct titem *it, const struct respond_decision *d,
                   int64_t resp_id)
{
    struct store_resp_rec rec;
    char acts[64];
    int64_t now = time_now_us();
    unsigned long supp = 0;

    atomic_fetch_add(&r->st.refused, 1);
    if (resp_id == 0 && refusal_quiet(r, it, d, mono_us()))
        return;
    actions_text(d->actions, acts, sizeof(acts));
    if (r->dst) {
        int e;
        if (resp_id > 0) {
            e = store_resp_finish(r->dst, resp_id, "refused", NULL, d->reason, 0, now);
        } else {
            row_from(&rec, it, d, "refused", acts, now);
            e = store_resp_add(r->dst, &rec, &resp_id);
        }
        if (e < 0)
            log_error("response: recording a refusal: %s", store_errmsg(r->dst));
    }
    if (r->audit) {
        struct buf b;
        char obj[64];
        int e;

        /* A denied action: audit_deny is rate-limited over the whole log,
         * on top of refusal_quiet's once a minute per refusal. */
        snprintf(obj, sizeof(obj), "response/%lld", (long long)resp_id);
        buf_init(&b, 4096);
        e = buf_puts(&b, "{\"address\":");
        if (e == 0)
            e = buf_json_str(&b, it->address, strlen(it->address));
        if (e == 0 && (e = buf_puts(&b, ",\"rule\":")) == 0)
            e = buf_json_str(&b, d->rule ? d->rule->name : "", d->rule ? strlen(d->rule->name) : 0);
        if (e == 0 && (e = buf_puts(&b, ",\"reason\":")) == 0)
            e = buf_json_str(&b, d->reason, strlen(d->reason));
        if (e == 0)
            e = buf_putc(&b, '}');
        if (e == 0)
            e = audit_deny(r->audit, AUDIT_ACTOR_SYSTEM, "response.refused", obj, b.data, b.len);
        if (e < 0)
            log_error("audit: response.refused of %s not recorded: %s", obj, strerror(-e));
        buf_done(&b);
    }
    if (log_ratelimit_ok(&r->rl, &supp))
        log_info("response %lld refused: %s%s", (long long)resp_id, d->reason,
                 supp ? " (earlier messages suppressed)" : "");
}

static void decide_item(struct respond *r, const struct titem *it, int64_t resp_id,
                        const char *who)
{
    struct respond_trigger t;
    struct respond_decision d;

    item_trigger(it, resp_id > 0, &t);
    respond_decide(r->pol, r->state, &t, mono_us(), &d);
    switch (d.verdict) {
    case RESPOND_NONE:
        atomic_fetch_add(&r->st.none, 1);
        if (resp_id > 0) {
            /* The policy changed under a waiting request. */
            snprintf(d.reason, sizeof(d.reason), "no rule of the policy in force matches any more");
            refuse(r, it, &d, resp_id);
        }
        break;
    case RESPOND_ASK:
        ask(r, it, &d);
        break;
    case RESPOND_REFUSE:
        refuse(r, it, &d, resp_id);
        break;
    case RESPOND_ACT:
        atomic_fetch_add(&r->st.act, 1);
        if (d.dry_run)
            atomic_fetch_add(&r->st.dry_run, 1);
        act(r, it, &d, resp_id, who);
        break;
    }
}

/* An approved row, decided again as the person's request. */
static int on_approved(void *ctx, const struct store_resp_rec *row)
{
    struct respond *r = ctx;
    struct titem it;
    unsigned cut = 0;
    int kind = RESPOND_KIND_RULE;

    memset(&it, 0, sizeof(it));
    for (int k = 0; k < RESPOND_KIND_COUNT; k++)
        if (row->kind && strcmp(row->kind, respond_kind_name((enum respond_kind)k)) == 0)
            kind = k;
    it.kind = kind;
    it.level = row->level;
    it.incident_type = TRIAGE_TYPE_NONE;
    for (int ty = 1; row->incident_type && ty < TRIAGE_TYPE_COUNT; ty++)
        if (strcmp(row->incident_type, triage_type_name((enum triage_type)ty)) == 0)
            it.incident_type = ty;
    it.udp_only = row->udp_only;
    it.corroborated = row->corroborated;
    it.agg_id = row->agg_id;
    it.incident_id = row->incident_id;
    copy_str(it.rule_id, sizeof(it.rule_id), row->rule_id, &cut);
    copy_str(it.rule_name, sizeof(it.rule_name), row->rule_name, &cut);
    copy_str(it.corr, sizeof(it.corr), row->correlation, &cut);
    copy_str(it.address, sizeof(it.address), row->address, &cut);
    atomic_fetch_add(&r->st.approved, 1);
    log_info("response %lld approved by %s", (long long)row->id,
             row->decided_by ? row->decided_by : "?");
    decide_item(r, &it, row->id, row->decided_by ? row->decided_by : AUDIT_ACTOR_SYSTEM);
    return 0;
}

static int on_lift(void *ctx, const struct store_resp_rec *row)
{
    struct respond *r = ctx;
    struct buf a;
    char why[512] = "";
    int e = -ENOENT;

    if (!r->fw) {
        /* Dry run now, or no rule blocks any more: nothing here can change
         * the firewall.  Say so once and close the request. */
        log_warnx("response %lld: no firewall helper runs (dry run, or no rule blocks); the "
                  "block of %s stays in the kernel set until it expires",
                  (long long)row->id, row->address ? row->address : "?");
        e = -ENODEV;
    } else if (row->address) {
        e = respond_fw_unblock(r->fw, row->address, why, sizeof(why));
    }
    if (e < 0 && e != -ENOENT && e != -ENODEV) {
        log_error("response %lld: lifting the block of %s: %s", (long long)row->id,
                  row->address ? row->address : "?", why[0] ? why : strerror(-e));
        return 0; /* asked again at the next poll */
    }
    if (row->address)
        respond_block_ended(r->state, row->address, mono_us());
    store_resp_lifted(r->dst, row->id, time_now_us());
    atomic_fetch_add(&r->st.lifted, 1);
    log_info("response %lld: block of %s lifted by %s%s", (long long)row->id,
             row->address ? row->address : "?", row->lift_by ? row->lift_by : "?",
             e == -ENOENT ? " (it was no longer in the set)"
             : e == -ENODEV ? " (in hikeshi's count only)"
                            : "");
    buf_init(&a, 256);
    if (buf_puts(&a, "{\"address\":") == 0 &&
        buf_json_str(&a, row->address ? row->address : "", row->address ? strlen(row->address) : 0) ==
            0 &&
        buf_printf(&a, ",\"removed_from_set\":%s,\"helper\":%s}", e == 0 ? "true" : "false",
                   r->fw ? "true" : "false") == 0)
        audit(r, row->lift_by ? row->lift_by : AUDIT_ACTOR_SYSTEM, "block.lift", row->id, a.data,
              a.len);
    buf_done(&a);
    timeline(r, row->incident_id, row->lift_by ? row->lift_by : AUDIT_ACTOR_SYSTEM,
             "block lifted", row->address, NULL);
    return 0;
}

static void poll_store(struct respond *r)
{
    if (!r->dst)
        return;
    if (store_resp_each_approved(r->dst, on_approved, r) < 0)
        log_warnx("response: reading approved requests: %s", store_errmsg(r->dst));
    if (store_resp_each_lift(r->dst, on_lift, r) < 0)
        log_warnx("response: reading lift requests: %s", store_errmsg(r->dst));
}

static void *decider_main(void *arg)
{
    struct respond *r = arg;
    struct titem *batch = malloc(BATCH * sizeof(*batch));

    if (!batch) {
        log_error("response: out of memory; the decider thread stops");
        return NULL;
    }
    for (;;) {
        size_t n = 0;
        int stop;
        int64_t now;

        pthread_mutex_lock(&r->lock);
        if (r->count == 0 && !r->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        while (n < BATCH && r->count) {
            batch[n++] = r->ring[r->head];
            r->head = (r->head + 1) % RESPOND_QUEUE_MAX;
            r->count--;
        }
        stop = r->stopping && r->count == 0;
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < n; i++)
            decide_item(r, &batch[i], 0, NULL);
        now = mono_us();
        if (now - r->last_poll_us >= POLL_US || stop) {
            r->last_poll_us = now;
            poll_store(r);
        }
        if (stop && n == 0)
            break;
    }
    free(batch);
    return NULL;
}

/* ---- the notifier --------------------------------------------------------- */

static int result_add(struct buf *b, const char *action, const char *text)
{
    int e = buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", action);
    return e ? e : buf_json_str(b, text, strlen(text));
}

static void run_job(struct respond *r, struct njob *j)
{
    const struct respond_policy *p = r->pol;
    struct respond_vars vars;
    struct buf res;
    char text[700];
    int failed = 0, e;

    for (int i = 0; i < RESPOND_VAR_COUNT; i++) {
        vars.value[i] = j->vars[i];
        vars.len[i] = strlen(j->vars[i]);
    }
    buf_init(&res, 1024);
    buf_putc(&res, '{');
    if (j->block_result)
        result_add(&res, "block", j->block_result);
    if (j->actions & RESPOND_ACTION_WEBHOOK) {
        struct respond_webhook_conf wc = {
            .url = p->webhook.url,
            .secret = r->secret,
            .secret_len = r->secret_len,
            .timeout_ms = p->webhook.timeout_ms,
            .max_attempts = p->webhook.attempts,
            .backoff_base_ms = p->webhook.backoff_ms,
            .backoff_max_ms = p->webhook.backoff_max_ms,
        };
        struct respond_webhook_result wr;
        const char *body = j->body ? j->body : "{}";

        e = respond_webhook_send(&wc, body, strlen(body), &wr);
        snprintf(text, sizeof(text), "%s: %s (HTTP %ld, %u attempt%s)", e == 0 ? "sent" : "failed",
                 wr.reason, wr.http_status, wr.attempts, wr.attempts == 1 ? "" : "s");
        result_add(&res, "webhook", text);
        failed |= e < 0;
        if (e < 0)
            log_error("response %lld: webhook %s", (long long)j->resp_id, text);
    }
    if (j->actions & RESPOND_ACTION_MAIL) {
        const char *argv[] = {p->mail.sendmail ? p->mail.sendmail : "/usr/sbin/sendmail", "-t",
                              "-oi", NULL};
        struct respond_exec_conf ec = {.argv = argv, .timeout_ms = p->mail.timeout_ms};
        struct respond_exec_result er;
        const char *msg = j->mail ? j->mail : "";

        e = respond_exec_run_stdin(&ec, &vars, msg, strlen(msg), &er);
        snprintf(text, sizeof(text), "%s: %s", e == 0 ? "sent" : "failed", er.reason);
        respond_exec_result_done(&er);
        result_add(&res, "mail", text);
        failed |= e < 0;
        if (e < 0)
            log_error("response %lld: mail %s", (long long)j->resp_id, text);
    }
    if (j->actions & RESPOND_ACTION_EXEC) {
        struct respond_exec_conf ec = {.argv = (const char *const *)p->exec.argv,
                                       .timeout_ms = p->exec.timeout_ms};
        struct respond_exec_result er;

        e = respond_exec_run(&ec, &vars, &er);
        snprintf(text, sizeof(text), "%s: %s", e == 0 ? "ran" : "failed", er.reason);
        if (er.output.len) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, "; output: %.*s",
                     (int)(er.output.len > 200 ? 200 : er.output.len), er.output.data);
        }
        respond_exec_result_done(&er);
        result_add(&res, "exec", text);
        failed |= e < 0;
        if (e < 0)
            log_error("response %lld: exec %s", (long long)j->resp_id, text);
    }
    buf_putc(&res, '}');
    atomic_fetch_add(failed ? &r->st.notify_failures : &r->st.notified, 1);
    if (r->nst && store_resp_finish(r->nst, j->resp_id, failed ? "failed" : "done", res.data, NULL, 0,
                                    time_now_us()) < 0)
        log_error("response %lld: recording the notifications: %s", (long long)j->resp_id,
                  store_errmsg(r->nst));
    audit(r, AUDIT_ACTOR_SYSTEM, failed ? "response.notify_failed" : "response.notified",
          j->resp_id, res.data, res.len);
    buf_done(&res);
}

static void *notifier_main(void *arg)
{
    struct respond *r = arg;

    for (;;) {
        struct njob *j;

        pthread_mutex_lock(&r->lock);
        while (!r->nhead && !r->stopping)
            pthread_cond_wait(&r->ncond, &r->lock);
        /* Stopping: what waits is dropped (and logged) by respond_free; a
         * webhook's retries must not hold up a shutdown for minutes. */
        j = r->stopping ? NULL : r->nhead;
        if (j) {
            r->nhead = j->next;
            if (!r->nhead)
                r->ntail = NULL;
            r->ncount--;
        }
        pthread_mutex_unlock(&r->lock);
        if (!j)
            break;
        run_job(r, j);
        free(j->block_result);
        free(j->body);
        free(j->mail);
        free(j);
    }
    return NULL;
}

/* ---- life ------------------------------------------------------------------ */

/* A block of an earlier run, still in the kernel: counted again. */
static int on_block(void *ctx, const struct store_resp_rec *row)
{
    struct respond *r = ctx;
    int64_t left = row->expires_us - time_now_us();

    if (row->address && left > 0 &&
        respond_block_restore(r->state, row->address, mono_us() + left, mono_us()) == -ENOSPC)
        log_warnx("response: more blocks in force than max_blocks; %s is not counted",
                  row->address);
    return 0;
}

int respond_start(struct respond *r, char *errbuf, size_t errlen)
{
    char *err = NULL;
    int e;

    if ((e = store_open(r->data_dir, &r->dst, &err)) < 0 ||
        (e = store_open(r->data_dir, &r->nst, &err)) < 0) {
        snprintf(errbuf, errlen, "response: store in %s: %s", r->data_dir,
                 err ? err : strerror(-e));
        free(err);
        return e;
    }
    /* Before the threads: the state is the decider's from then on. */
    if (store_resp_each_block(r->dst, time_now_us(), on_block, r) < 0)
        log_warnx("response: reading the blocks in force: %s", store_errmsg(r->dst));
    else if (respond_blocks_active(r->state, mono_us()) > 0)
        log_info("response: %zu blocks of an earlier run are still in force",
                 respond_blocks_active(r->state, mono_us()));
    r->last_poll_us = mono_us();
    if ((e = pthread_create(&r->decider, NULL, decider_main, r)) != 0) {
        snprintf(errbuf, errlen, "response: decider thread: %s", strerror(e));
        return -e;
    }
    if ((e = pthread_create(&r->notifier, NULL, notifier_main, r)) != 0) {
        pthread_mutex_lock(&r->lock);
        r->stopping = 1;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->decider, NULL);
        snprintf(errbuf, errlen, "response: notifier thread: %s", strerror(e));
        return -e;
    }
    r->started = 1;
    return 0;
}

void respond_free(struct respond *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stopping = 1;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->decider, NULL);
        pthread_mutex_lock(&r->lock);
        pthread_cond_broadcast(&r->ncond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->notifier, NULL);
    }
    while (r->nhead) {
        struct njob *j = r->nhead;
        r->nhead = j->next;
        log_warnx("response %lld: stopping; its notifications were not sent", (long long)j->resp_id);
        free(j->block_result);
        free(j->body);
        free(j->mail);
        free(j);
    }
    respond_fw_stop(r->fw);
    store_free(r->dst);
    store_free(r->nst);
    respond_state_free(r->state);
    respond_never_done(&r->never);
    respond_policy_free(r->pol);
    if (r->secret)
        memset(r->secret, 0, r->secret_len);
    free(r->secret);
    free(r->ring);
    free(r->data_dir);
    pthread_cond_destroy(&r->cond);
    pthread_cond_destroy(&r->ncond);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->stat_lock);
    free(r);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void respond_get_stats(struct respond *r, struct respond_stats *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!r)
        return;
    ret->offered = atomic_load(&r->st.offered);
    ret->dropped = atomic_load(&r->st.dropped);
    ret->none = atomic_load(&r->st.none);
    ret->act = atomic_load(&r->st.act);
    ret->ask = atomic_load(&r->st.ask);
    ret->refused = atomic_load(&r->st.refused);
    ret->dry_run = atomic_load(&r->st.dry_run);
    ret->blocks = atomic_load(&r->st.blocks);
    ret->block_failures = atomic_load(&r->st.block_failures);
    ret->lifted = atomic_load(&r->st.lifted);
    ret->notified = atomic_load(&r->st.notified);
    ret->notify_failures = atomic_load(&r->st.notify_failures);
    ret->approved = atomic_load(&r->st.approved);
    pthread_mutex_lock(&r->stat_lock);
    {
        size_t n = r->nlat < RESPOND_LAT_WINDOW ? (size_t)r->nlat : RESPOND_LAT_WINDOW;
        int64_t *v = n ? malloc(n * sizeof(*v)) : NULL;

        ret->lat_n = r->nlat;
        ret->lat_sum_us = r->lat_sum;
        if (v) {
            memcpy(v, r->lat, n * sizeof(*v));
            pthread_mutex_unlock(&r->stat_lock);
            qsort(v, n, sizeof(*v), cmp_i64);
            ret->lat_p50_us = v[(n - 1) / 2];
            ret->lat_p99_us = v[(n - 1) * 99 / 100];
            free(v);
            return;
        }
    }
    pthread_mutex_unlock(&r->stat_lock);
}
