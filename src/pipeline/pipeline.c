/*
 * pipeline.c - the stage driver.
 */
#include "pipeline/pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/decode.h"
#include "detect/detect_sigma.h"
#include "detect/sigma_corr.h"
#include "pipeline/pipeline_archive.h"
#include "pipeline/pipeline_silence.h"
#include "pipeline/pipeline_triage.h"
#include "triage/anomaly.h"
#include "triage/triage.h"
#include "detect/sigma.h"
#include "event/event.h"
#include "event/time.h"
#include "event/time_stream.h"
#include "event/tz.h"
#include "input/input.h"
#include "input/record.h"
#include "intel/intel.h"
#include "store/store.h"
#include "triage/alert.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/limits.h"
#include "conf/config.h"
#include "util/log.h"
#include "util/queue.h"

/* Records per store transaction in the daemon: large enough to amortise the
 * commit, small enough that a crash loses little and offsets move often. */
#define PIPELINE_COMMIT_RECORDS 8192
/* How often counters are saved to the store, in µs. */
#define PIPELINE_COUNTER_SAVE_US (10 * 1000000LL)
#define PIPELINE_STATE_SAVE_US (300 * 1000000LL)
#define PIPELINE_MAX_INPUTS 4096
/* At most one round of correlation cap-eviction warnings per minute. */
#define PIPELINE_CORR_LOG_US (60 * 1000000LL)

/* The counters saved in the store, by name suffix and offset. */
static const struct {
    const char *name;
    size_t off;
} saved_counters[] = {
    {"records", offsetof(struct pipeline_input_stats, records)},
    {"decoded", offsetof(struct pipeline_input_stats, decoded)},
    {"unparsed", offsetof(struct pipeline_input_stats, unparsed)},
    {"malformed", offsetof(struct pipeline_input_stats, malformed)},
    {"alerts", offsetof(struct pipeline_input_stats, alerts)},
};
#define NSAVED (sizeof(saved_counters) / sizeof(saved_counters[0]))

struct pinput {
    char *name;
    int udp; /* syslog over UDP: sender and text can be forged */
    /* inputs[].exercise: its records are a tabletop exercise's (issue 22):
     * what they make is marked in the store and never acted on for real */
    int exercise;
    const struct decoder *decoder; /* NULL: auto-detect */
    struct tz *tz;                 /* its own zone (owned copy); NULL: the global one */
    struct pipeline_input_stats stats;
    uint64_t base[NSAVED]; /* totals of earlier runs, from the store */
    /* inputs[].expect_every (us), PIPELINE_EXPECT_LEARNED, or 0: senders
     * not watched (expect_every: off, and scan's own inputs) */
    int64_t expect_us;
};

struct pipeline {
    pthread_mutex_t lock; /* held while processing; reload swaps under it */
    struct pinput *inputs;
    uint32_t ninputs;
    struct detect_sigma *sigma; /* NULL when no Sigma rules are loaded */
    struct ptriage *tri;        /* anomalies and triage after detection */
    struct intel_matcher *intel; /* the enrich step's indicators; NULL: none */
    /* intel.half_life and min_score as last loaded (under lock): a feed's
     * reload from another thread loads with these, not its own copy */
    int64_t intel_half_life_us;
    int intel_min_score;
    struct pinput *cur_in;      /* input of the event being processed */
    /* The exercise run of the batch being processed (store_exercise_current),
     * looked up at its first exercise record: `exercise run` records its
     * run before it sends, so one batch never holds two runs' records. */
    int64_t exercise_run;
    int exercise_run_known;
    struct psilence *silence;   /* senders' last records; NULL: no input watched */
    int64_t silence_next_us;    /* when to look for silent senders next */
    int64_t last_state_save;
    struct tz *tz;                  /* global zone (owned copy); NULL: UTC */
    struct time_streams *streams;   /* last event time per stream, for years */
    int64_t ref_us;                 /* scan: the file's mtime; 0: receive time */
    uint64_t ref_epoch;             /* scan: one stream per pipeline_set_ref_time() */
    /* Decoder state per file stream (a Zeek TSV file's header, auditd's
     * held records), keyed by the file's stream key; made on first use,
     * the oldest slot reused (its held records processed first) when all
     * are taken. */
    struct {
        uint64_t key;
        struct decode_stream *s;
        uint32_t input_id; /* the input whose file it is */
        uint16_t rflags;   /* RECORD_* of its last record (held events') */
        int64_t recv_us;   /* receive time of its last record (held events') */
    } dstreams[LIMIT_DECODE_STREAMS];
    uint32_t dstream_next;
    int store_events;
    int detect;

    struct store *store;
    FILE *alerts_out;
    pipeline_alert_cb alert_cb;
    void *alert_arg;

    struct arena arena;
    struct event ev;
    struct buf jbuf; /* alert JSON line */

    /* The thread's state. */
    pthread_t thread;
    int started;
    atomic_int stopping;
    struct queue *q;
    int64_t last_counter_save;

    uint64_t base_alerts, base_stored; /* totals of earlier runs */
    int counters_loaded;
    struct log_ratelimit rl_store;
    struct log_ratelimit rl_decode;
    /* Cap evictions per correlation already logged, for corr_logged_of
     * (a reload starts the counts again), and when the last round was. */
    uint64_t *corr_logged;
    size_t ncorr_logged;
    const struct detect_sigma *corr_logged_of;
    uint64_t corr_logged_total;
    int64_t corr_log_us;
    struct pipeline_stats stats;
    /* pipeline_set_record_ids: the next batch's record ids (borrowed). */
    const char *const *rec_ids;
    /* The daemon's archive (NULL: none): each commit saves its cursor. */
    struct parchive *arch;
    uint64_t pending_stored; /* events stored in the open transaction */
};

static void load_counters(struct pipeline *p);
static int process_all_held(struct pipeline *p);

struct alert_ctx {
    struct pipeline *p;
    struct pinput *in;
    int64_t event_id;
    int64_t alert_id; /* the stored row of the alert being raised */
    int err;
};

static int resolve_decoder(const char *name, const struct decoder **ret)
{
    if (!name || strcmp(name, "auto") == 0) {
        *ret = NULL;
        return 0;
    }
    *ret = decode_lookup(name);
    return *ret ? 0 : -EINVAL;
}

static void on_corr(void *arg, const struct sigma_corr_hit *hit);
static void log_corr_evictions(struct pipeline *p, int flush);
static void report_store_error(struct pipeline *p, int r, const char *what);

/* What loading the rules had to say.  A rule or correlation refused is a
 * broken file the administrator must hear of (which file, why), at the
 * load at start as on SIGHUP: the first SIGMA_LOG_REFUSED_MAX per load are
 * warnings.  An unroutable rule is not broken (SigmaHQ has hundreds for
 * products not sent here): debug only. */
#define SIGMA_LOG_REFUSED_MAX 20
struct sigma_load_log {
    size_t warned, more;
};

static void sigma_report(void *arg, const char *msg)
{
    struct sigma_load_log *ll = arg;

    if (strstr(msg, ": unroutable: ")) {
        log_debug("sigma: %s", msg);
    } else if (ll->warned < SIGMA_LOG_REFUSED_MAX) {
        ll->warned++;
        log_warnx("sigma: %s", msg);
    } else {
        ll->more++;
        log_debug("sigma: %s", msg);
    }
}

/*
 * Loads the Sigma rules the configuration names.  With the default (the
 * bundled rules), a missing directory is a warning and the pipeline runs
 * without detection (scan; hikeshi run then refuses to start); rules the
 * configuration names explicitly must load.
 * Returns 0 with *ret set (possibly NULL), or a negative errno.
 */
static int load_sigma(const struct config *c, struct detect_sigma **ret)
{
    char err[512] = "";
    struct sigma_load_log ll = {0, 0};
    int r;

    *ret = NULL;
    if (c->nsigma_rules == 0 || !c->sigma_mappings)
        return 0;
    struct sigma_corr_opts co = {
        .max_bytes = c->corr_max_memory,
        .tolerance_us = (int64_t)c->corr_tolerance_s * 1000000,
    };

    r = detect_sigma_new((const char *const *)c->sigma_rules, c->nsigma_rules, c->sigma_mappings,
                         &co, sigma_report, &ll, ret, err, sizeof(err));
    if (r < 0) {
        if (!c->sigma_explicit && r != -ENOMEM) {
            log_warnx("no bundled Sigma rules found (%s)", err);
            return 0;
        }
        log_error("%s", err);
        return r;
    }
    log_info("sigma: %zu rules and %zu correlations loaded, %zu refused, %zu unroutable%s",
             detect_sigma_loaded(*ret), detect_sigma_correlations(*ret),
             detect_sigma_refused(*ret) + detect_sigma_corr_refused(*ret),
             detect_sigma_unroutable(*ret),
             detect_sigma_refused(*ret) + detect_sigma_unroutable(*ret) +
                     detect_sigma_corr_refused(*ret)
                 ? " (--log-level debug lists them)"
                 : "");
    if (ll.more)
        log_warnx("sigma: %zu more refused (--log-level debug lists them)", ll.more);
    return 0;
}

/*
 * The indicators of the store `st` that are still live, for the enrich
 * step (docs/intel.md).  A store without any gives no matcher (*ret
 * NULL).  A store error is logged and leaves *ret NULL: the pipeline runs
 * without indicators rather than not at all.  0 or -ENOMEM.
 */
static int load_intel(int64_t half_life_us, int min_score, struct store *st,
                      struct intel_matcher **ret)
{
    size_t n = 0;
    int r;

    *ret = NULL;
    r = intel_matcher_load(st, time_now_us(), half_life_us, min_score, ret, &n);
    if (r < 0) {
        if (r != -ENOMEM)
            log_warnx("intel: reading the indicators failed: %s", store_errmsg(st));
        return r == -ENOMEM ? r : 0;
    }
    if (n == 0) {
        intel_matcher_free(*ret);
        *ret = NULL;
        return 0;
    }
    log_info("intel: %zu indicators loaded", n);
    return 0;
}

/* The name of input `source` for a sighting's row. */
static const char *intel_source_name(void *ctx, uint32_t source)
{
    const struct pipeline *p = ctx;

    return source < p->ninputs ? p->inputs[source].name : NULL;
}

int pipeline_add_input(struct pipeline *p, const char *name, const char *decoder)
{
    struct pinput *ni;
    const struct decoder *d;
    char *copy;

    if (resolve_decoder(decoder, &d) < 0)
        return -EINVAL;
    if (p->ninputs >= PIPELINE_MAX_INPUTS)
        return -E2BIG;
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    ni = realloc(p->inputs, (p->ninputs + 1) * sizeof(*ni));
    if (!ni) {
        free(copy);
        return -ENOMEM;
    }
    p->inputs = ni;
    memset(&ni[p->ninputs], 0, sizeof(*ni));
    ni[p->ninputs].name = copy;
    ni[p->ninputs].decoder = d;
    return (int)p->ninputs++;
}

/* Watches input i's senders for silence as its configuration says: at its
 * expect_every, at an interval learned from its traffic (no expect_every),
 * or not at all (expect_every: off).  0, -EINVAL or -ENOMEM. */
static int watch_input(struct pipeline *p, uint32_t i, const struct config_input *ci)
{
    struct psilence_watch w = {
        .every_us = ci->expect_every_s > 0 ? ci->expect_every_s * 1000000 : 0,
        .learn_min_us = (ci->silence_learn_min_s ? ci->silence_learn_min_s
                                                  : PSILENCE_LEARN_MIN_DEFAULT_S) * 1000000,
        .learn_max_us = (ci->silence_learn_max_s ? ci->silence_learn_max_s
                                                  : PSILENCE_LEARN_MAX_DEFAULT_S) * 1000000,
    };

    if (ci->expect_every_s < 0)
        return 0; /* expect_every: off */
    if (!ci->silence_learn_max_s && w.learn_max_us < w.learn_min_us)
        w.learn_max_us = w.learn_min_us; /* a floor above the default cap */
    if (!p->silence && !(p->silence = psilence_new()))
        return -ENOMEM;
    p->inputs[i].expect_us = w.every_us ? w.every_us : PIPELINE_EXPECT_LEARNED;
    return psilence_watch(p->silence, i, &w);
}

struct pipeline *pipeline_new(const struct config *c, struct store *st, FILE *alerts_out)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    int r;

    if (!p) {
        log_error("pipeline: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    arena_init(&p->arena, 0);
    buf_init(&p->jbuf, 64 * 1024 * 1024);
    p->store = st;
    p->alerts_out = alerts_out;
    p->store_events = c->store_events;
    p->detect = 1;
    if ((c->tz && !(p->tz = tz_dup(c->tz))) || !(p->streams = time_streams_new()))
        goto oom;
    p->rl_store = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    p->rl_decode = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    for (size_t i = 0; i < c->ninputs; i++) {
        if ((r = pipeline_add_input(p, c->inputs[i].name, c->inputs[i].decoder)) < 0) {
            if (r == -ENOMEM)
                goto oom;
            log_error("input %s: %s", c->inputs[i].name,
                      r == -EINVAL ? "unknown decoder" : "too many inputs");
            goto fail;
        }
        p->inputs[i].udp = c->inputs[i].conf.type == INPUT_SYSLOG_UDP ||
                           c->inputs[i].conf.type == INPUT_GELF_UDP;
        p->inputs[i].exercise = c->inputs[i].conf.exercise;
        if ((r = watch_input(p, (uint32_t)i, &c->inputs[i])) < 0) {
            if (r == -ENOMEM)
                goto oom;
            log_error("input %s: silence_learn_min is above silence_learn_max",
                      c->inputs[i].name);
            goto fail;
        }
        if (c->inputs[i].tz && !(p->inputs[i].tz = tz_dup(c->inputs[i].tz)))
            goto oom;
    }
    if (load_sigma(c, &p->sigma) < 0)
        goto fail;
    if (p->sigma)
        detect_sigma_set_corr_cb(p->sigma, on_corr, p);
    {
        char err[512] = "";

        if (ptriage_new(c, st, &p->tri, err, sizeof(err)) < 0) {
            log_error("triage: %s", err);
            goto fail;
        }
    }
    p->intel_half_life_us = (int64_t)c->intel_half_life_s * 1000000;
    p->intel_min_score = (int)c->intel_min_score;
    if (st && load_intel(p->intel_half_life_us, p->intel_min_score, st, &p->intel) == -ENOMEM)
        goto oom;
    return p;
oom:
    log_error("pipeline: out of memory");
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->ninputs; i++) {
        free(p->inputs[i].name);
        tz_free(p->inputs[i].tz);
    }
    free(p->inputs);
    psilence_free(p->silence);
    tz_free(p->tz);
    time_streams_free(p->streams);
    for (uint32_t i = 0; i < LIMIT_DECODE_STREAMS; i++)
        decode_stream_free(p->dstreams[i].s);
    log_corr_evictions(p, 1);
    free(p->corr_logged);
    detect_sigma_free(p->sigma);
    ptriage_free(p->tri);
    intel_matcher_free(p->intel);
    arena_done(&p->arena);
    buf_done(&p->jbuf);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void pipeline_set_alert_cb(struct pipeline *p, pipeline_alert_cb cb, void *arg)
{
    p->alert_cb = cb;
    p->alert_arg = arg;
}

void pipeline_set_store_events(struct pipeline *p, int on)
{
    p->store_events = on;
}

void pipeline_set_intel(struct pipeline *p, struct intel_matcher *m)
{
    intel_matcher_free(p->intel);
    p->intel = m;
}

void pipeline_set_record_ids(struct pipeline *p, const char *const *ids)
{
    p->rec_ids = ids;
}

void pipeline_set_detect(struct pipeline *p, int on)
{
    p->detect = on;
}

void pipeline_set_ref_time(struct pipeline *p, int64_t ref_us)
{
    /* the previous file ended: what its decoders held goes now */
    (void)process_all_held(p); /* errors are counted where they happen */
    p->ref_us = ref_us;
    p->ref_epoch++; /* scan calls this once per file: a new stream */
}

int pipeline_reload_intel(struct pipeline *p, const struct config *c)
{
    struct intel_matcher *intel = NULL, *old;
    int64_t half_life_us;
    int min_score;
    struct store *rs = NULL;
    char *serr = NULL;
    int r;

    if (!p->store)
        return 0;
    if (store_open(c->data_dir, &rs, &serr) < 0) {
        log_warnx("intel: keeping the loaded indicators: store %s: %s", c->data_dir,
                  serr ? serr : "cannot open");
        free(serr);
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    half_life_us = p->intel_half_life_us;
    min_score = p->intel_min_score;
    pthread_mutex_unlock(&p->lock);
    r = load_intel(half_life_us, min_score, rs, &intel);
    store_free(rs);
    if (r < 0)
        return r;
    if (!intel && !(intel = intel_matcher_new())) /* empty: carries the pending sightings */
        return -ENOMEM;
    pthread_mutex_lock(&p->lock);
    old = p->intel;
    intel_matcher_take_sightings(intel, old);
    p->intel = intel;
    pthread_mutex_unlock(&p->lock);
    intel_matcher_free(old);
    return 0;
}

int pipeline_reload(struct pipeline *p, const struct config *c)
{
    struct detect_sigma *sigma = NULL, *old_sigma;
    struct intel_matcher *intel = NULL;
    int intel_ok = 0;
    const struct decoder **decs = NULL;
    struct tz **tzs = NULL, *tz = NULL;
    int r;

    if ((r = load_sigma(c, &sigma)) < 0)
        return r;
    /* A reload never takes a running monitor's rules away (hikeshi run
     * refuses to start without them); only `sigma: rules: []` turns
     * detection off. */
    if (c->nsigma_rules > 0 && (!sigma || detect_sigma_loaded(sigma) == 0)) {
        log_error("no Sigma rules in %s%s: keeping the %zu running", c->sigma_rules[0],
                  c->nsigma_rules > 1 ? " and the other directories of sigma.rules" : "",
                  pipeline_rules_loaded(p));
        detect_sigma_free(sigma);
        return -ENOENT;
    }
    if (sigma)
        detect_sigma_set_corr_cb(sigma, on_corr, p);
    /* The indicators again, through a connection of this thread's own:
     * the pipeline's is its thread's.  A store that cannot be read keeps
     * the running set. */
    if (p->store) {
        struct store *rs = NULL;
        char *serr = NULL;

        if (store_open(c->data_dir, &rs, &serr) < 0) {
            log_warnx("intel: keeping the loaded indicators: store %s: %s", c->data_dir,
                      serr ? serr : "cannot open");
            free(serr);
        } else {
            if (load_intel((int64_t)c->intel_half_life_s * 1000000, (int)c->intel_min_score, rs,
                           &intel) == 0)
                intel_ok = 1;
            store_free(rs);
        }
        if (intel_ok && !intel && p->intel)
            intel = intel_matcher_new(); /* empty: carries the pending sightings */
    }
    if (p->ninputs) {
        decs = calloc(p->ninputs, sizeof(const struct decoder *));
        if (!decs) {
            detect_sigma_free(sigma);
            intel_matcher_free(intel);
            return -ENOMEM;
        }
    }
    /* The zones are copied: the pipeline outlives the configuration it was
     * given.  An input the new file gives no zone takes the global one. */
    if (p->ninputs && !(tzs = calloc(p->ninputs, sizeof(struct tz *))))
        goto nomem;
    if (c->tz && !(tz = tz_dup(c->tz)))
        goto nomem;
    for (uint32_t i = 0; decs && i < p->ninputs; i++) {
        const struct config_input *ci = config_input_find(c, p->inputs[i].name);
        decs[i] = p->inputs[i].decoder;
        if (ci)
            resolve_decoder(ci->decoder, &decs[i]);
        if (ci && ci->tz && !(tzs[i] = tz_dup(ci->tz)))
            goto nomem;
    }
    pthread_mutex_lock(&p->lock);
    old_sigma = p->sigma;
    p->sigma = sigma;
    if (intel_ok) {
        struct intel_matcher *t = p->intel;
        intel_matcher_take_sightings(intel, t);
        p->intel = intel;
        intel = t; /* the old one, freed below */
    }
    {
        struct tz *t = p->tz;
        p->tz = tz;
        tz = t; /* the old one, freed below */
    }
    p->store_events = c->store_events;
    p->intel_half_life_us = (int64_t)c->intel_half_life_s * 1000000;
    p->intel_min_score = (int)c->intel_min_score;
    for (uint32_t i = 0; decs && i < p->ninputs; i++) {
        struct tz *t = p->inputs[i].tz;
        p->inputs[i].decoder = decs[i];
        p->inputs[i].tz = tzs[i];
        tzs[i] = t;
    }
    pthread_mutex_unlock(&p->lock);
    detect_sigma_free(old_sigma);
    r = 0;
    goto out;
nomem:
    detect_sigma_free(sigma);
    r = -ENOMEM;
out:
    intel_matcher_free(intel);
    for (uint32_t i = 0; tzs && i < p->ninputs; i++)
        tz_free(tzs[i]);
    free(tzs);
    tz_free(tz);
    free(decs);
    return r;
}

/*
 * The one way an alert is written, whatever raised it: counted (the
 * pipeline's and its input's, `in` NULL: none), stored (a rule's alert with
 * its event, stored as row `event_id`; a correlation hit's or an anomaly's
 * as a row of its own), written to the alerts output and handed to the
 * alert callback.  *ret_id: its row, 0 when not stored.  0, or the store's
 * error (counted in store_errors).
 */
static int write_alert(struct pipeline *p, struct pinput *in, const struct alert *a,
                       int64_t event_id, int64_t *ret_id)
{
    int r = 0;

    *ret_id = 0;
    atomic_fetch_add_explicit(&p->stats.alerts, 1, memory_order_relaxed);
    if (in)
        atomic_fetch_add_explicit(&in->stats.alerts, 1, memory_order_relaxed);
    if (p->store && a->ev) {
        r = store_alert_add(p->store, a, event_id, ret_id);
        if (r == STORE_DUPLICATE)
            return r; /* this record's alert for this rule is stored already */
    } else if (p->store) {
        struct store_alert_rec rec = {
            .kind = a->kind,
            .created_us = a->created_us,
            .time_us = a->time_us,
            .rule_id = a->rule_id,
            .rule_title = a->rule_title,
            .rule_author = a->rule_author,
            .rule_level = a->rule_level,
            .input = a->input_name,
            .fields_json = a->extra_json,
            .fields_len = a->extra_len,
            .raw = a->details,
            .raw_len = a->details ? strlen(a->details) : 0,
        };
        r = store_alert_add_rec(p->store, &rec, ret_id);
    }
    if (r == 0 && in && in->exercise && *ret_id > 0)
        r = store_exercise_mark(p->store, "alert", *ret_id, a->created_us);
    if (r < 0) {
        *ret_id = 0;
        atomic_fetch_add_explicit(&p->stats.store_errors, 1, memory_order_relaxed);
    }
    if (p->alerts_out) {
        buf_reset(&p->jbuf);
        if (alert_to_json(a, &p->jbuf) == 0 && buf_putc(&p->jbuf, '\n') == 0)
            fwrite(p->jbuf.data, 1, p->jbuf.len, p->alerts_out);
    }
    if (p->alert_cb)
        p->alert_cb(p->alert_arg, a);
    return r < 0 ? r : 0;
}

/* A rule matched the event: its alert is written, then triaged.  A store
 * error fails the batch (ac->err), as the event's own would. */
static void on_sigma(void *arg, const struct sigma_rule *rule)
{
    struct alert_ctx *ac = arg;
    struct pipeline *p = ac->p;
    struct alert a = {
        .rule_id = rule->id ? rule->id : "",
        .rule_title = rule->title ? rule->title : "",
        .rule_author = rule->author ? rule->author : "unknown",
        .rule_level = rule->level_text ? rule->level_text : "medium",
        .tags = (const char *const *)rule->tags.v,
        .ntags = rule->tags.n,
        .input_name = ac->in->name,
        .created_us = time_now_us(),
        .ev = &p->ev,
    };
    int r;

    if ((r = write_alert(p, ac->in, &a, ac->event_id, &ac->alert_id)) < 0)
        ac->err = r;
    if (r == STORE_DUPLICATE)
        return; /* triaged when it was first stored */
    ptriage_rule(p->tri, rule, &p->ev, ac->alert_id);
}

/* An alert without an event (a correlation hit, an anomaly): counted on
 * the input of the event that completed it; a store error is logged and
 * the alert goes on to triage unstored. */
static int64_t emit_alert(struct pipeline *p, const struct alert *a)
{
    int64_t id;
    int r;

    if ((r = write_alert(p, p->cur_in, a, 0, &id)) < 0)
        report_store_error(p, r, "storing an alert");
    return id;
}

/* A correlation fired (called by detection): its alert is written, then
 * the hit triaged, the route a rule's alert takes. */
static void on_corr(void *arg, const struct sigma_corr_hit *hit)
{
    struct pipeline *p = arg;
    struct alert a;

    if (ptriage_corr_alert(p->tri, hit, p->cur_in ? p->cur_in->name : "", &a) < 0)
        return; /* no memory to format it: neither written nor triaged */
    ptriage_corr(p->tri, hit, emit_alert(p, &a));
}

/* The `n` anomalies the event raised (kept by triage's baselines, which
 * call nothing up here): each written, then triaged, in the order raised,
 * the route a correlation hit takes. */
static void forward_anomalies(struct pipeline *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct alert a;

        if (ptriage_anomaly_alert(p->tri, i, &a) < 0)
            continue; /* no memory to format it: neither written nor triaged */
        ptriage_anomaly(p->tri, i, emit_alert(p, &a));
    }
}

/*
 * Warns about each correlation that lost groups at its memory cap since the
 * last round: a lost group can be a lost detection.  One round a minute at
 * most (`flush`: now), each line with the count, the cost classes it came
 * from and the state against the cap.
 */
static void log_corr_evictions(struct pipeline *p, int flush)
{
    struct sigma_corr_stats cs;
    struct sigma_corr_rule_stats rs;
    int64_t now = time_now_us();

    if (!p->sigma)
        return;
    if (p->corr_logged_of != p->sigma) {
        free(p->corr_logged);
        p->corr_logged = NULL;
        p->ncorr_logged = 0;
        p->corr_logged_total = 0;
        p->corr_logged_of = p->sigma;
    }
    detect_sigma_corr_stats(p->sigma, &cs);
    if (cs.evicted_cap == p->corr_logged_total ||
        (!flush && p->corr_log_us && now - p->corr_log_us < PIPELINE_CORR_LOG_US))
        return;
    if (p->ncorr_logged < cs.correlations) {
        uint64_t *nl = realloc(p->corr_logged, cs.correlations * sizeof(*nl));
        if (!nl)
            return; /* the next round tries again */
        memset(nl + p->ncorr_logged, 0, (cs.correlations - p->ncorr_logged) * sizeof(*nl));
        p->corr_logged = nl;
        p->ncorr_logged = cs.correlations;
    }
    for (size_t i = 0; i < p->ncorr_logged && detect_sigma_corr_rule_stats(p->sigma, i, &rs) == 0;
         i++) {
        const struct sigma_corr_rule *c = rs.rule;
        const char *name = c->name ? c->name : c->id ? c->id : c->title ? c->title : "?";
        char q[160];

        /* A reloaded engine at the old one's address counts from zero. */
        if (p->corr_logged[i] > rs.evicted_cap)
            p->corr_logged[i] = 0;
        if (rs.evicted_cap == p->corr_logged[i])
            continue;
        log_warnx("correlation %s: %llu groups evicted at the memory cap since the last report "
                  "(%llu in all; one-off %llu, far from firing %llu, midway %llu, near %llu); "
                  "%zu of %zu bytes in use, cap %s; raise correlation.max_memory",
                  log_quote(q, sizeof(q), name, strlen(name)),
                  (unsigned long long)(rs.evicted_cap - p->corr_logged[i]),
                  (unsigned long long)rs.evicted_cap,
                  (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
                  (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_FAR],
                  (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_MID],
                  (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_NEAR], cs.bytes,
                  cs.max_bytes, cs.cap_sized ? "sized (auto)" : "configured");
        p->corr_logged[i] = rs.evicted_cap;
    }
    p->corr_logged_total = cs.evicted_cap;
    p->corr_log_us = now;
}

/* Copies the after-detection counters into the atomics /metrics reads. */
static void publish_stage_stats(struct pipeline *p)
{
    struct triage_stats ts;
    struct anomaly_stats as;
    struct sigma_corr_stats cs;
    uint64_t anomalies = 0;

    pipeline_triage_stats(p, &ts, &as, &cs);
    for (int k = 0; k < ANOMALY_KIND_COUNT; k++)
        anomalies += as.alerts_by_kind[k];
#define PUB(field, v) atomic_store_explicit(&p->stats.field, (uint64_t)(v), memory_order_relaxed)
    PUB(triage_alerts, ts.alerts_in);
    PUB(triage_suppressed, ts.suppressed);
    PUB(triage_aggregated, ts.aggregated);
    PUB(triage_incidents, ts.incidents_opened);
    PUB(triage_risk_opened, ts.risk_opened);
    PUB(triage_risk_only, ts.risk_only);
    PUB(triage_evicted, ts.evicted_alerts + ts.evicted_entities + ts.evicted_incidents);
    PUB(corr_groups, cs.groups_live);
    PUB(corr_bytes, cs.bytes);
    PUB(corr_evicted_age, cs.evicted_age);
    PUB(corr_evicted_cap, cs.evicted_cap);
    PUB(corr_evicted_cap_single, cs.evicted_cap_cost[SIGMA_CORR_COST_SINGLE]);
    PUB(corr_evicted_cap_far, cs.evicted_cap_cost[SIGMA_CORR_COST_FAR]);
    PUB(corr_evicted_cap_mid, cs.evicted_cap_cost[SIGMA_CORR_COST_MID]);
    PUB(corr_evicted_cap_near, cs.evicted_cap_cost[SIGMA_CORR_COST_NEAR]);
    PUB(corr_max_bytes, cs.max_bytes);
    PUB(corr_late, cs.late_dropped);
    PUB(corr_hits, cs.hits);
    PUB(anomaly_entries, as.entries);
    PUB(anomaly_bytes, as.mem_used);
    PUB(anomaly_evicted, as.evicted);
    PUB(anomaly_alerts, anomalies);
#undef PUB
    log_corr_evictions(p, 0);
}

/* A followed file's modification time in µs, or 0: no record in it is newer,
 * so it bounds the year of yearless timestamps better than the receive time
 * when an old file is read from its start. */
static int64_t batch_file_ref(const struct pipeline *p, const struct rec_batch *b)
{
    struct stat st;

    if (p->ref_us || !b->path || stat(b->path, &st) < 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

/* The stream of a network record: its input and sender address (not the
 * port: one sender's TCP reconnections are one stream). */
static uint64_t record_stream_key(const struct pipeline *p, const struct rec_batch *b,
                                  const struct record *r)
{
    unsigned char id[17];

    id[0] = r->peer_family;
    memcpy(id + 1, r->peer_addr, sizeof(r->peer_addr));
    return time_streams_key(p->streams, b->input_id, id, sizeof(id));
}

/*
 * Decodes record r of batch b into p->ev, with the time context of its
 * stream, and counts it.  A record no decoder understands is kept raw, with
 * no field but the message: never dropped.  Returns -EAGAIN when a decoder
 * held the record in the stream (counted decoded; its event comes from
 * decode_stream_flush, see process_held), else 0.
 */
static int process_decode(struct pipeline *p, struct pinput *in, const struct rec_batch *b,
                          const struct record *r, struct decode_ctx *ctx, int64_t file_ref,
                          uint64_t file_key)
{
    struct parse_err perr;
    uint64_t key;
    int dr;

    event_init(&p->ev, &p->arena, r->data, r->len, r->recv_us);
    p->ev.input_id = b->input_id;
    ctx->ref_us = p->ref_us ? p->ref_us : r->recv_us;
    if (file_ref && file_ref < ctx->ref_us)
        ctx->ref_us = file_ref;
    key = file_key ? file_key : record_stream_key(p, b, r);
    ctx->prev_us = time_streams_last(p->streams, key, ctx->ref_us);
    if (!file_key && ctx->prev_us && ctx->prev_us < ctx->ref_us - TIME_STREAM_LIVE_PULL_US)
        ctx->prev_us = 0; /* see TIME_STREAM_LIVE_PULL_US */
    dr = decode_record(&p->ev, in->decoder, ctx, &perr);
    if (dr == 0 && p->ev.has_time)
        time_streams_note(p->streams, key, p->ev.time_us, ctx->ref_us);
    atomic_fetch_add_explicit(&in->stats.records, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&in->stats.bytes, r->len, memory_order_relaxed);
    if (r->flags & RECORD_TRUNCATED)
        atomic_fetch_add_explicit(&in->stats.truncated, 1, memory_order_relaxed);
    if (dr == 0 || dr == -EAGAIN) {
        atomic_fetch_add_explicit(&in->stats.decoded, 1, memory_order_relaxed);
    } else {
        p->ev.nfields = 0;
        p->ev.decoder = NULL;
        p->ev.time_us = r->recv_us;
        p->ev.has_time = 0;
        atomic_fetch_add_explicit(&in->stats.unparsed, 1, memory_order_relaxed);
        if (dr == -EINVAL) {
            atomic_fetch_add_explicit(&in->stats.malformed, 1, memory_order_relaxed);
            if (log_get_level() >= LOG_LEVEL_DEBUG) {
                char q[160];
                log_debug("input %s: malformed record at byte %zu (%s): %s", in->name, perr.off,
                          perr.msg ? perr.msg : "?", log_quote(q, sizeof(q), r->data, r->len));
            }
        }
    }
    if (p->ev.dropped)
        atomic_fetch_add_explicit(&p->stats.fields_dropped, p->ev.dropped, memory_order_relaxed);
    return dr == -EAGAIN ? -EAGAIN : 0;
}

/* Stores p->ev (decoded from record r of input `in`) and runs detection
 * and triage on it.  0, or the error of the store or of an alert. */
static int process_event(struct pipeline *p, struct pinput *in, const struct record *r)
{
    struct alert_ctx ac = {.p = p, .in = in};
    int err = 0;

    /* enrich: indicators matched add threat.indicator.* before the event
     * is stored and detection sees it */
    if (p->intel)
        intel_matcher_enrich(p->intel, &p->ev, (uint32_t)(in - p->inputs), time_now_us());
    if (p->store && p->store_events) {
        int sr = store_event_add(p->store, &p->ev, in->name, &ac.event_id);

        if (sr == 0 && in->exercise)
            sr = store_exercise_mark(p->store, "event", ac.event_id, p->ev.recv_us);
        if (sr == STORE_DUPLICATE) {
            /* delivered again after this store committed it: done before */
            atomic_fetch_add_explicit(&p->stats.duplicates, 1, memory_order_relaxed);
            return 0;
        }
        if (sr < 0) {
            err = sr;
            atomic_fetch_add_explicit(&p->stats.store_errors, 1, memory_order_relaxed);
        } else {
            p->pending_stored++; /* counted in stats.stored once committed */
        }
    }
    if (p->detect) {
        struct ptriage_prov pv = {
            .udp_carrier = in->udp,
            .trusted = (r->flags & RECORD_TRUSTED) != 0,
            .exercise = in->exercise,
            .exercise_run = -1,
            .input_name = in->name,
            .peer_family = r->peer_family,
            .peer_addr = r->peer_addr,
        };

        /* Which run: `exercise run` records its run in the store before
         * it sends, so each run's alerts get incidents of their own.  One
         * look-up per batch of exercise records; real records skip it. */
        if (in->exercise && p->store && !p->exercise_run_known) {
            if (store_exercise_current(p->store, &p->exercise_run) < 0)
                p->exercise_run = -1; /* still apart from real records */
            p->exercise_run_known = 1;
        }
        if (in->exercise && p->store)
            pv.exercise_run = p->exercise_run;
        if (in->exercise)
            p->ev.realm = pv.exercise_run > 0 ? pv.exercise_run : -1;
        p->cur_in = in;
        ptriage_evidence(p->tri, &p->ev, &pv);
        if (p->sigma)
            detect_sigma_match(p->sigma, &p->ev, on_sigma, &ac);
        forward_anomalies(p, ptriage_event(p->tri, &p->ev, in->name));
    }
    return ac.err ? ac.err : err;
}

/*
 * Processes the events decoder stream slot k held (auditd's records of one
 * call, joined): the complete ones, or with `all` every one (the stream
 * ended, input is idle, the pipeline stops).  An event that could not be
 * built is processed raw, as an unparsed record is.  0 or the first error
 * of process_event.
 */
static int process_held(struct pipeline *p, uint32_t k, int all)
{
    struct decode_stream *s = p->dstreams[k].s;
    struct pinput *in;
    struct record rr; /* the provenance of the stream's records */
    struct parse_err perr;
    int err = 0, dr;

    /* most records of most files: nothing held, nothing to do */
    if (!decode_stream_holding(s) || p->dstreams[k].input_id >= p->ninputs)
        return 0;
    in = &p->inputs[p->dstreams[k].input_id];
    memset(&rr, 0, sizeof(rr));
    rr.flags = p->dstreams[k].rflags;
    for (;;) {
        int er;

        event_init(&p->ev, &p->arena, NULL, 0, p->dstreams[k].recv_us);
        p->ev.input_id = p->dstreams[k].input_id;
        if ((dr = decode_stream_flush(s, all, &p->ev, &perr)) == -ENOENT) {
            event_reset(&p->ev);
            break;
        }
        if (dr < 0) {
            p->ev.nfields = 0;
            p->ev.decoder = NULL;
            p->ev.has_time = 0;
        }
        if ((er = process_event(p, in, &rr)) != 0 && !err)
            err = er;
        event_reset(&p->ev);
    }
    return err;
}

/* 1 when some decoder stream holds records (see process_held). */
static int held_any(const struct pipeline *p)
{
    for (uint32_t k = 0; k < LIMIT_DECODE_STREAMS; k++)
        if (decode_stream_holding(p->dstreams[k].s))
            return 1;
    return 0;
}

/* Processes every event the decoder streams hold (see process_held). */
static int process_all_held(struct pipeline *p)
{
    int err = 0, r;

    for (uint32_t k = 0; k < LIMIT_DECODE_STREAMS; k++)
        if ((r = process_held(p, k, 1)) != 0 && !err)
            err = r;
    return err;
}

/* The decoder state of input `input_id`'s file stream `key`, made on first
 * use, and its slot in *ret_k; NULL when out of memory (the file's records
 * are then decoded each alone).  A slot reused gives its held events first. */
static struct decode_stream *file_dstream(struct pipeline *p, uint32_t input_id, uint64_t key,
                                          uint32_t *ret_k)
{
    uint32_t k;

    for (k = 0; k < LIMIT_DECODE_STREAMS; k++)
        if (p->dstreams[k].s && p->dstreams[k].key == key) {
            *ret_k = k;
            return p->dstreams[k].s;
        }
    *ret_k = k = p->dstream_next++ % LIMIT_DECODE_STREAMS;
    (void)process_held(p, k, 1); /* an error was counted where it happened */
    decode_stream_free(p->dstreams[k].s);
    p->dstreams[k].s = decode_stream_new();
    p->dstreams[k].key = key;
    p->dstreams[k].input_id = input_id;
    return p->dstreams[k].s;
}

int pipeline_process(struct pipeline *p, const struct rec_batch *b)
{
    struct pinput *in;
    struct decode_ctx ctx;
    int64_t file_ref;
    uint64_t file_key = 0;
    uint32_t slot = 0;
    int64_t last_us = 0;
    uint32_t nrec = 0;
    int err = 0;

    if (b->input_id >= p->ninputs)
        return -EINVAL; /* a bug in the caller: every input is registered */
    in = &p->inputs[b->input_id];
    ctx.tz = in->tz ? in->tz : p->tz;
    file_ref = batch_file_ref(p, b);
    if (b->path)
        file_key = time_streams_key(p->streams, b->input_id, b->path, strlen(b->path));
    else if (p->ref_us)
        file_key = time_streams_key(p->streams, b->input_id, &p->ref_epoch, sizeof(p->ref_epoch));
    ctx.stream = file_key ? file_dstream(p, b->input_id, file_key, &slot) : NULL;
    atomic_fetch_add_explicit(&p->stats.batches, 1, memory_order_relaxed);
    if (p->detect)
        ptriage_poll(p->tri); /* suppressions made through the API since */
    p->exercise_run_known = 0;
    for (const struct record *r = rec_batch_first(b); r; r = rec_batch_next(b, r), nrec++) {
        int er;

        if (p->store)
            store_set_record_id(p->store, p->rec_ids ? p->rec_ids[nrec] : NULL);
        if (r->recv_us > last_us)
            last_us = r->recv_us;
        if (in->expect_us && p->silence &&
            psilence_seen(p->silence, b->input_id, r->peer_family, r->peer_addr, r->recv_us))
            atomic_fetch_sub_explicit(&in->stats.silent, 1, memory_order_relaxed);
        if (process_decode(p, in, b, r, &ctx, file_ref, file_key) != -EAGAIN &&
            (er = process_event(p, in, r)) != 0)
            err = er;
        event_reset(&p->ev);
        if (ctx.stream) {
            /* the events the record completed (auditd's joined calls) */
            p->dstreams[slot].rflags = r->flags;
            p->dstreams[slot].recv_us = r->recv_us;
            if ((er = process_held(p, slot, 0)) != 0)
                err = er;
        }
    }
    if (p->detect) {
        int tr;

        ptriage_flush(p->tri, 0);
        if ((tr = ptriage_take_error(p->tri)) < 0) {
            atomic_fetch_add_explicit(&p->stats.store_errors, 1, memory_order_relaxed);
            if (!err)
                err = tr;
        }
    }
    p->cur_in = NULL;
    p->rec_ids = NULL;
    p->exercise_run_known = 0; /* events flushed outside a batch look it up again */
    if (p->store)
        store_set_record_id(p->store, NULL);
    if (last_us > atomic_load_explicit(&in->stats.last_us, memory_order_relaxed))
        atomic_store_explicit(&in->stats.last_us, last_us, memory_order_relaxed);
    if (p->detect)
        publish_stage_stats(p);
    return err;
}

/* Saves the positions of the file batches processed in this transaction. */
static int save_pos(struct pipeline *p, const struct rec_batch *b)
{
    if (!p->store || !b->has_pos || !b->path || b->input_id >= p->ninputs)
        return 0;
    return store_offset_set(p->store, p->inputs[b->input_id].name, b->path, &b->pos);
}

static void report_store_error(struct pipeline *p, int r, const char *what)
{
    unsigned long supp;

    if (log_ratelimit_ok(&p->rl_store, &supp))
        log_warnx("store: %s failed: %s (%d)%s", what, p->store ? store_errmsg(p->store) : "",
                  r, supp ? " (earlier messages suppressed)" : "");
}

/*
 * Raises an alert for each watched sender silent past its input's
 * expect_every (once per silence), through the one alert writer, and
 * counts it in the input's silent gauge.  Called about once a second with
 * the lock held.
 */
static void silence_sweep(struct pipeline *p)
{
    struct psilence_src src;
    struct buf xb;
    int64_t now = time_now_us();
    int began = 0, r;

    p->silence_next_us = now + 1000000;
    buf_init(&xb, 4096);
    while (psilence_due(p->silence, now, &src)) {
        struct pinput *in = src.input < p->ninputs ? &p->inputs[src.input] : NULL;
        char sender[INET6_ADDRSTRLEN], details[512];
        struct alert a;
        int64_t id;

        if (!in)
            continue;
        if (!src.family)
            snprintf(sender, sizeof(sender), "%s", in->name);
        else if (!inet_ntop(src.family == 6 ? AF_INET6 : AF_INET, src.addr, sender, sizeof(sender)))
            snprintf(sender, sizeof(sender), "?");
        snprintf(details, sizeof(details),
                 "input %s: %s sent nothing for %llds (expected every %llds%s)", in->name, sender,
                 (long long)((now - src.last_us) / 1000000), (long long)(src.every_us / 1000000),
                 src.learned ? ", learned" : "");
        /* The names are the configuration's: escaped all the same. */
        buf_reset(&xb);
        if (buf_puts(&xb, "{\"input\":") < 0 || buf_json_str(&xb, in->name, strlen(in->name)) < 0 ||
            buf_puts(&xb, ",\"sender\":") < 0 || buf_json_str(&xb, sender, strlen(sender)) < 0 ||
            buf_printf(&xb, ",\"expect_every_s\":%lld,\"learned\":%s,\"last_seen_us\":%lld}",
                       (long long)(src.every_us / 1000000), src.learned ? "true" : "false",
                       (long long)src.last_us) < 0)
            buf_reset(&xb);
        memset(&a, 0, sizeof(a));
        a.kind = "anomaly";
        a.rule_id = "hikeshi-source-silent";
        a.rule_title = "Source silent";
        a.rule_author = "hikeshi";
        a.rule_level = "medium";
        a.input_name = in->name;
        a.created_us = now;
        a.time_us = now;
        a.host = src.family ? sender : NULL;
        a.details = details;
        a.extra_json = xb.len ? xb.data : "{}";
        a.extra_len = xb.len ? xb.len : 2;
        if (p->store && !began && store_begin(p->store) == 0)
            began = 1;
        if ((r = write_alert(p, in, &a, 0, &id)) < 0)
            report_store_error(p, r, "storing a silent-source alert");
        atomic_fetch_add_explicit(&in->stats.silent, 1, memory_order_relaxed);
        log_warnx("source silent: %s", details);
    }
    buf_done(&xb);
    psilence_publish(p->silence);
    if (began && (r = store_commit(p->store)) < 0) {
        report_store_error(p, r, "commit");
        store_rollback(p->store);
    }
}

int pipeline_commit(struct pipeline *p, uint64_t cursor)
{
    int r;

    if (!p->store)
        return 0;
    if (p->arch && cursor && (r = parchive_save_cursor(p->arch, p->store, cursor)) < 0) {
        cursor = 0; /* the records may not be in the archive: not past them */
        report_store_error(p, r, "saving the archive cursor");
    }
    /* the sightings counted since the last commit, in this transaction */
    if (p->intel && (r = intel_matcher_flush(p->intel, p->store, intel_source_name, p)) < 0)
        report_store_error(p, r, "counting indicator sightings");
    if ((r = store_commit(p->store)) < 0) {
        atomic_fetch_add_explicit(&p->stats.store_errors, 1, memory_order_relaxed);
        report_store_error(p, r, "commit");
        store_rollback(p->store);
    } else {
        atomic_fetch_add_explicit(&p->stats.commits, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->stats.stored, p->pending_stored, memory_order_relaxed);
        if (p->arch && cursor)
            parchive_committed(p->arch, cursor);
    }
    p->pending_stored = 0;
    return r < 0 ? r : 0;
}

void pipeline_set_archive(struct pipeline *p, struct parchive *a)
{
    p->arch = a;
}

const struct parchive *pipeline_archive(const struct pipeline *p)
{
    return p->arch;
}

static int replay_process(void *arg, const struct rec_batch *b)
{
    return pipeline_process(arg, b);
}

static int replay_commit(void *arg, uint64_t cursor)
{
    return pipeline_commit(arg, cursor);
}

int pipeline_replay_archive(struct pipeline *p, const unsigned char *skip)
{
    const struct parchive_sink sink = {.process = replay_process, .commit = replay_commit, .arg = p};

    if (!p->arch || !p->store)
        return 0;
    return parchive_replay(p->arch, p->store, skip, &sink);
}

static void *pipeline_main(void *arg)
{
    struct pipeline *p = arg;

    for (;;) {
        struct rec_batch *b = queue_pop(p->q, 200);
        uint64_t n = 0, cursor = 0;
        int r;

        if (p->silence && time_now_us() >= p->silence_next_us) {
            pthread_mutex_lock(&p->lock);
            silence_sweep(p);
            pthread_mutex_unlock(&p->lock);
        }

        if (p->arch)
            parchive_tick(p->arch, time_now_us());
        if (!b) {
            /* idle or stopping: the events the decoders hold go now */
            if (held_any(p)) {
                pthread_mutex_lock(&p->lock);
                if (p->store && (r = store_begin(p->store)) < 0)
                    report_store_error(p, r, "begin");
                if ((r = process_all_held(p)) < 0)
                    report_store_error(p, r, "write");
                if (p->detect) {
                    ptriage_flush(p->tri, 0);
                    if ((r = ptriage_take_error(p->tri)) < 0)
                        report_store_error(p, r, "storing triage updates");
                }
                pipeline_commit(p, 0);
                pthread_mutex_unlock(&p->lock);
            }
            if (atomic_load(&p->stopping))
                break;
            continue;
        }
        pthread_mutex_lock(&p->lock);
        if (p->store && (r = store_begin(p->store)) < 0)
            report_store_error(p, r, "begin");
        do {
            n += b->nrec;
            if (b->arch_end > cursor)
                cursor = b->arch_end;
            if ((r = pipeline_process(p, b)) < 0)
                report_store_error(p, r, "write");
            if ((r = save_pos(p, b)) < 0)
                report_store_error(p, r, "saving a file position");
            rec_batch_free(b);
        } while (n < PIPELINE_COMMIT_RECORDS && (b = queue_pop(p->q, 0)) != NULL);
        pipeline_commit(p, cursor);
        if (p->alerts_out)
            fflush(p->alerts_out);
        if (p->store && time_now_us() - p->last_counter_save > PIPELINE_COUNTER_SAVE_US) {
            pipeline_save_counters(p);
            p->last_counter_save = time_now_us();
        }
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

void pipeline_lock(struct pipeline *p)
{
    pthread_mutex_lock(&p->lock);
}

void pipeline_unlock(struct pipeline *p)
{
    pthread_mutex_unlock(&p->lock);
}

int pipeline_start(struct pipeline *p, struct queue *q)
{
    int r;

    p->q = q;
    p->last_counter_save = p->last_state_save = time_now_us();
    if (p->store && !p->counters_loaded) {
        load_counters(p);
        p->counters_loaded = 1;
    }
    r = pthread_create(&p->thread, NULL, pipeline_main, p);
    if (r)
        return -r;
    p->started = 1;
    return 0;
}

void pipeline_stop(struct pipeline *p, struct queue *q)
{
    atomic_store(&p->stopping, 1);
    queue_close(q);
    if (p->started) {
        pthread_join(p->thread, NULL);
        p->started = 0;
    }
}

size_t pipeline_rules_loaded(const struct pipeline *p)
{
    return p->sigma ? detect_sigma_loaded(p->sigma) : 0;
}

int pipeline_rules_each(struct pipeline *p,
                        int (*fn)(void *ctx, const struct detect_sigma_rule_info *r), void *ctx)
{
    int r = 0;

    pthread_mutex_lock(&p->lock);
    if (p->sigma)
        r = detect_sigma_each_rule(p->sigma, fn, ctx);
    pthread_mutex_unlock(&p->lock);
    return r;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p)
{
    return &p->stats;
}

const struct pipeline_input_stats *pipeline_input_stats(const struct pipeline *p, uint32_t id)
{
    return id < p->ninputs ? &p->inputs[id].stats : NULL;
}

const char *pipeline_input_name(const struct pipeline *p, uint32_t id)
{
    return id < p->ninputs ? p->inputs[id].name : NULL;
}

uint32_t pipeline_input_count(const struct pipeline *p)
{
    return p->ninputs;
}

int64_t pipeline_input_expect(const struct pipeline *p, uint32_t id)
{
    return id < p->ninputs ? p->inputs[id].expect_us : 0;
}

size_t pipeline_input_sources(struct pipeline *p, uint32_t id, struct pipeline_source *ret,
                              size_t max)
{
    return p->silence && id < p->ninputs && p->inputs[id].expect_us
               ? psilence_sources(p->silence, id, ret, max)
               : 0;
}

static uint64_t stat_at(const struct pipeline_input_stats *st, size_t off)
{
    return atomic_load((const _Atomic uint64_t *)(const void *)((const char *)st + off));
}

/* Loads the totals of earlier runs so that saved counters keep growing
 * across restarts; called once when the thread starts. */
static void load_counters(struct pipeline *p)
{
    char name[512];

    for (uint32_t i = 0; i < p->ninputs; i++) {
        for (size_t k = 0; k < NSAVED; k++) {
            snprintf(name, sizeof(name), "input.%s.%s", p->inputs[i].name, saved_counters[k].name);
            if (store_counter_get(p->store, name, &p->inputs[i].base[k]) < 0)
                p->inputs[i].base[k] = 0;
        }
    }
    if (store_counter_get(p->store, "pipeline.alerts", &p->base_alerts) < 0)
        p->base_alerts = 0;
    if (store_counter_get(p->store, "pipeline.stored", &p->base_stored) < 0)
        p->base_stored = 0;
}

int pipeline_save_counters(struct pipeline *p)
{
    char name[512];
    int r;

    if (!p->store)
        return 0;
    for (uint32_t i = 0; i < p->ninputs; i++) {
        for (size_t k = 0; k < NSAVED; k++) {
            snprintf(name, sizeof(name), "input.%s.%s", p->inputs[i].name, saved_counters[k].name);
            r = store_counter_set(p->store, name,
                                  p->inputs[i].base[k] +
                                      stat_at(&p->inputs[i].stats, saved_counters[k].off));
            if (r < 0)
                return r;
        }
    }
    if ((r = store_counter_set(p->store, "pipeline.alerts",
                               p->base_alerts + atomic_load(&p->stats.alerts))) < 0)
        return r;
    if ((r = store_counter_set(p->store, "pipeline.stored",
                               p->base_stored + atomic_load(&p->stats.stored))) < 0)
        return r;
    /* The anomaly baselines are larger and change slowly: every few
     * minutes, and at stop (pipeline_save_state). */
    if (time_now_us() - p->last_state_save > PIPELINE_STATE_SAVE_US)
        return pipeline_save_state(p);
    return 0;
}

int pipeline_save_state(struct pipeline *p)
{
    int r;

    if (!p->store)
        return 0;
    p->last_state_save = time_now_us();
    if ((r = ptriage_save(p->tri)) < 0)
        report_store_error(p, r, "saving the anomaly baselines");
    return r;
}

void pipeline_flush(struct pipeline *p)
{
    int r;

    (void)process_all_held(p); /* errors are counted where they happen */
    ptriage_flush(p->tri, 1);
    if (p->store && (r = ptriage_take_error(p->tri)) < 0) {
        atomic_fetch_add_explicit(&p->stats.store_errors, 1, memory_order_relaxed);
        report_store_error(p, r, "storing triage updates");
    }
}

int pipeline_set_respond(struct pipeline *p, struct respond *r)
{
    return ptriage_set_respond(p->tri, r);
}

void pipeline_set_incident_cb(struct pipeline *p, pipeline_incident_cb cb, void *arg)
{
    ptriage_set_incident_cb(p->tri, cb, arg);
}

const struct asset_inv *pipeline_assets(const struct pipeline *p)
{
    return p->tri ? ptriage_assets(p->tri) : NULL;
}

int pipeline_corr_rule_stats(const struct pipeline *p, size_t i, struct sigma_corr_rule_stats *ret)
{
    return p->sigma ? detect_sigma_corr_rule_stats(p->sigma, i, ret) : -ENOENT;
}

void pipeline_triage_stats(const struct pipeline *p, struct triage_stats *ret_triage,
                           struct anomaly_stats *ret_anomaly, struct sigma_corr_stats *ret_corr)
{
    ptriage_stats(p->tri, ret_triage, ret_anomaly);
    if (ret_corr) {
        memset(ret_corr, 0, sizeof(*ret_corr));
        if (p->sigma)
            detect_sigma_corr_stats(p->sigma, ret_corr);
    }
}
