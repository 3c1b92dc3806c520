/*
 * api_console.c - what the web console's dashboard reads: the figures of
 * the last day in one answer (stats) and the loaded rules with their hits.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "detect/detect_sigma.h"
#include "event/time.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

/* ------------------------------------------------------------------ */
/* The web console: the dashboard's figures, rules, administration     */

/* GET /api/v1/stats: what the dashboard shows, in one answer. */
void api_console_stats(struct api_call *c)
{
    const int64_t hour = INT64_C(3600000000);
    static const char *const levels[4] = {"Green", "Yellow", "Orange", "Red"};
    static const char *const cats[4] = {"A", "B", "C", "D"};
    struct buf *b = &c->resp->body;
    struct store_funnel fu;
    struct store_open_counts oc;
    struct casefile_err e = {0};
    int64_t hours, counts[168], until = c->rq->now_us, since, rate_since;
    char t0[40], t1[40];
    size_t n = 0;
    int r;

    if (api_util_query_int(c, "hours", 1, 168, 24, &hours) < 0) {
        api_util_answer_error(c, 400, "hours is 1 to 168", -1, "hours");
        return;
    }
    since = until - hours * hour;
    /* The rate's buckets are whole hours of the clock, the last one the
     * hour now running. */
    rate_since = until / hour * hour - (hours - 1) * hour;
    if ((r = store_funnel(c->ctx->cf.st, since, until + 1, &fu)) < 0 ||
        (r = store_alert_rate(c->ctx->cf.st, rate_since, hour, (size_t)hours, counts)) < 0 ||
        (r = store_open_counts(c->ctx->cf.st, &oc)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    time_format_iso(since, t0, sizeof(t0));
    time_format_iso(until, t1, sizeof(t1));
    r = buf_printf(b,
                   "{\"since\":\"%s\",\"until\":\"%s\",\"hours\":%lld,\"funnel\":{\"records\":%lld,"
                   "\"alerts\":%lld,\"aggregated\":%lld,\"incidents\":%lld},\"alert_rate\":[",
                   t0, t1, (long long)hours, (long long)fu.records, (long long)fu.alerts,
                   (long long)fu.aggregated, (long long)fu.incidents);
    for (int64_t i = 0; r == 0 && i < hours; i++) {
        time_format_iso(rate_since + i * hour, t0, sizeof(t0));
        r = buf_printf(b, "%s{\"time\":\"%s\",\"alerts\":%lld}", i ? "," : "", t0,
                       (long long)counts[i]);
    }
    if (r == 0)
        r = buf_printf(b, "],\"open_incidents\":{\"total\":%lld,\"by_level\":{",
                       (long long)oc.total);
    for (int i = 0; r == 0 && i < 4; i++)
        r = buf_printf(b, "%s\"%s\":%lld", i ? "," : "", levels[i], (long long)oc.by_level[i]);
    if (r == 0)
        r = buf_puts(b, "},\"by_category\":{");
    for (int i = 0; r == 0 && i < 4; i++)
        r = buf_printf(b, "%s\"%s\":%lld", i ? "," : "", cats[i], (long long)oc.by_category[i]);
    if (r == 0)
        r = buf_puts(b, "}},\"near_target\":[");
    if (r == 0 && (r = casefile_near_target_json(&c->ctx->cf, until, 10, b, &n, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "],\"top_entities\":[");
    if (r == 0 && (r = store_entity_risk_json(c->ctx->cf.st, 10, b, &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    api_util_answer_json(c, 200, r);
}

/* The rule list: written under the pipeline's lock, hits looked up in the
 * store's counts read before it. */
struct rules_ctx {
    struct buf *out;
    const struct store_rule_hits *hits;
    size_t nhits, n;
};

static int hits_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct store_rule_hits *)elem)->rule_id);
}

static int rule_row(void *ctx, const struct detect_sigma_rule_info *ri)
{
    struct rules_ctx *rc = ctx;
    struct buf *b = rc->out;
    const struct store_rule_hits *h =
        ri->id ? bsearch(ri->id, rc->hits, rc->nhits, sizeof(*rc->hits), hits_cmp) : NULL;
    const char *const keys[] = {
        "{\"id\":", ",\"name\":", ",\"title\":", ",\"level\":", ",\"status\":", ",\"file\":"};
    const char *const vals[] = {ri->id, ri->name, ri->title, ri->level, ri->status, ri->file};
    int r = rc->n ? buf_putc(b, ',') : 0;

    for (size_t i = 0; r == 0 && i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((r = buf_puts(b, keys[i])) == 0)
            r = api_util_json_str_or_null(b, vals[i]);
    if (r == 0)
        r = buf_printf(b, ",\"kind\":\"%s\",\"tags\":[",
                       ri->correlation ? "correlation" : "detection");
    for (size_t i = 0; r == 0 && i < ri->ntags; i++)
        if ((r = i ? buf_putc(b, ',') : 0) == 0)
            r = api_util_json_str_or_null(b, ri->tags[i]);
    if (r == 0)
        r = buf_printf(b, "],\"hits\":%lld,\"last_hit\":", (long long)(h ? h->hits : 0));
    if (r == 0 && h && h->last_us > 0) {
        char t[40];
        time_format_iso(h->last_us, t, sizeof(t));
        r = buf_printf(b, "\"%s\"}", t);
    } else if (r == 0) {
        r = buf_puts(b, "null}");
    }
    rc->n++;
    return r;
}

void api_console_rules(struct api_call *c)
{
    struct store_rule_hits *hits = NULL;
    size_t nhits = 0;
    struct rules_ctx rc;
    int r;

    if (!c->ctx->src || !c->ctx->src->pipeline) {
        api_util_answer_error(c, 503, "no pipeline: the rules are the daemon's", -1, NULL);
        return;
    }
    if ((r = store_rule_hits(c->ctx->cf.st, &hits, &nhits)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    rc = (struct rules_ctx){&c->resp->body, hits, nhits, 0};
    r = buf_puts(&c->resp->body, "{\"rules\":[");
    if (r == 0)
        r = pipeline_rules_each(c->ctx->src->pipeline, rule_row, &rc);
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu}", rc.n);
    store_rule_hits_free(hits, nhits);
    api_util_answer_json(c, 200, r);
}
