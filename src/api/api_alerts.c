/*
 * api_alerts.c - the alert resource of the API: aggregated alerts (list,
 * events, acknowledge, attach to an incident, suppress; one at a time or
 * in bulk) and the suppressions they leave (list, lift).
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "event/time.h"
#include "incident/casefile_procedure.h"
#include "store/store.h"
#include "util/log.h"

/* ------------------------------------------------------------------ */
/* Alerts                                                              */

/* A query parameter that is an ISO 8601 time or date: its µs in *ret (0
 * when absent); -EINVAL when present and not a time. */
static int query_time(struct api_call *c, const char *key, int64_t *ret)
{
    const char *v = c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;
    size_t used = 0;

    *ret = 0;
    if (!v)
        return 0;
    if (time_parse_iso8601(v, strlen(v), 0, ret, &used) < 0 || used != strlen(v) || *ret <= 0)
        return -EINVAL;
    return 0;
}

/* A free-text query parameter of at most 256 bytes, or NULL; -EINVAL when
 * longer. */
static int query_text(struct api_call *c, const char *key, const char **ret)
{
    const char *v = c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;

    *ret = v && *v ? v : NULL;
    return v && strlen(v) > 256 ? -EINVAL : 0;
}

/* The list's filter from the query (rule, level, acknowledged, incident,
 * since, until, entity, q) into *f; -EINVAL when answered 400. */
static int alert_filter(struct api_call *c, struct store_agg_filter *f)
{
    int64_t level, ack, inc;

    *f = (struct store_agg_filter){.rule = api_util_query_str(c, "rule"), .acknowledged = -1};
    if (api_util_query_int(c, "level", 1, 5, 0, &level) < 0 ||
        api_util_query_int(c, "acknowledged", 0, 1, -1, &ack) < 0 ||
        api_util_query_int(c, "incident", 1, INT64_MAX, 0, &inc) < 0) {
        api_util_answer_error(c, 400, "level is 1 to 5, acknowledged 0 or 1, incident an id", -1,
                              NULL);
        return -EINVAL;
    }
    if (query_time(c, "since", &f->since_us) < 0 || query_time(c, "until", &f->until_us) < 0) {
        api_util_answer_error(c, 400, "since and until are ISO 8601 times (2026-11-23T10:00:00Z)",
                              -1, NULL);
        return -EINVAL;
    }
    if (query_text(c, "entity", &f->entity) < 0 || query_text(c, "q", &f->q) < 0) {
        api_util_answer_error(c, 400, "entity and q are at most 256 bytes", -1, NULL);
        return -EINVAL;
    }
    f->min_level = (int)level;
    f->acknowledged = (int)ack;
    f->incident_id = inc;
    return 0;
}

static void list_alerts(struct api_call *c, int64_t incident)
{
    struct store_agg_filter f;
    size_t n = 0;
    int r;

    if (alert_filter(c, &f) < 0 || api_util_page(c, &f.limit, &f.offset) < 0)
        return;
    if (incident)
        f.incident_id = incident;
    r = buf_puts(&c->resp->body, "{\"alerts\":[");
    if (r == 0 && (r = store_agg_list_json(c->ctx->cf.st, &f, &c->resp->body, &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body,
                       "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld,\"total\":", n,
                       (long long)f.limit, (long long)f.offset);
    if (r == 0 && (r = store_agg_count_json(c->ctx->cf.st, &f, &c->resp->body)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    api_util_answer_json(c, 200, r);
}

void api_alerts_list(struct api_call *c)
{
    list_alerts(c, 0);
}

void api_alerts_incident_alerts(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        list_alerts(c, c->p[0]);
}

static void show_alert(struct api_call *c)
{
    int r = store_agg_json(c->ctx->cf.st, c->p[0], &c->resp->body);

    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 200, 0);
}

void api_alerts_alert_events(struct api_call *c)
{
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (api_util_page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"events\":[");
    if (r == 0 && (r = store_agg_events_json(c->ctx->cf.st, c->p[0], limit, offset, &c->resp->body,
                                             &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)limit, (long long)offset);
    api_util_answer_json(c, 200, r);
}

void api_alerts_alert_ack(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_alert_ack(&c->ctx->cf, c->p[0], c->user, c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_alert(c);
}

void api_alerts_alert_attach(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_alert_attach(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                  c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_alert(c);
}

void api_alerts_alert_suppress(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t sid = 0;
    int r = casefile_alert_suppress(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                    c->rq->now_us, &sid, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_supp_json(c->ctx->cf.st, sid, c->rq->now_us, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

/* POST /api/v1/alerts/bulk: one action over the alerts named by "ids" or
 * kept by the query's filter (the list's); casefile_alert_bulk says the
 * rest; open_incident at Orange or Red by an analyst opens at Yellow and
 * files the level for a lead (as POST /incidents).  Answers {"action",
 * "count", "incident"?, "approval"?, "suppressions"?}. */
void api_alerts_bulk(struct api_call *c)
{
    struct casefile_err e = {0};
    struct casefile_bulk_result res;
    struct store_agg_filter f;
    int r;

    if (alert_filter(c, &f) < 0)
        return;
    r = casefile_alert_bulk_as(&c->ctx->cf, &f, c->user, api_util_rank(c), c->rq->body,
                               c->rq->body_len, c->rq->now_us, &res, &e);
    if (r == -EOVERFLOW) {
        api_util_answer_error(c, 413, e.msg, e.off, e.field);
        return;
    }
    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    /* The opened incident's boxes (its own, its category's declared one)
     * as the person, as POST /incidents runs them; one that cannot run is
     * logged and left to the escalation clock's tick. */
    if (strcmp(res.action, "open_incident") == 0 &&
        casefile_procedure_due(&c->ctx->cf, res.incident, c->user, c->rq->now_us, 0, NULL, &e) < 0)
        log_warnx("procedures: incident %lld: a box did not run: %s", (long long)res.incident,
                  e.msg);
    r = buf_printf(&c->resp->body, "{\"action\":\"%s\",\"count\":%zu", res.action, res.count);
    if (r == 0 && res.incident)
        r = buf_printf(&c->resp->body, ",\"incident\":%lld", (long long)res.incident);
    if (r == 0 && res.approval)
        r = buf_printf(&c->resp->body, ",\"approval\":%lld", (long long)res.approval);
    if (r == 0 && strcmp(res.action, "suppress") == 0)
        r = buf_printf(&c->resp->body, ",\"suppressions\":%zu", res.suppressions);
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    api_util_answer_json(c, 200, r);
}

void api_alerts_suppressions(struct api_call *c)
{
    API_UTIL_LIST_OBJECT(c, "suppressions",
                         store_supps_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, NULL));
}

struct lift {
    int64_t id;
    const char *who;
    int64_t now_us;
};

static int lift_apply(struct store *st, void *ctx, struct buf *details)
{
    struct lift *l = ctx;
    int r = store_supp_lift(st, l->id, l->who, l->now_us);

    return r < 0 ? r : buf_printf(details, "{\"suppression\":%lld}", (long long)l->id);
}

/* DELETE /api/v1/suppressions/{id}: lifted now; triage stops applying it
 * within a second.  The row stays, as the record of what was silenced. */
void api_alerts_supp_lift(struct api_call *c)
{
    struct casefile_err e = {0};
    struct lift l = {c->p[0], c->user, c->rq->now_us};
    char obj[64];
    int r;

    snprintf(obj, sizeof(obj), "suppression/%lld", (long long)c->p[0]);
    if ((r = casefile_change(&c->ctx->cf, c->user, "suppression.lift", obj, lift_apply, &l, &e)) <
        0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    r = store_supp_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body);
    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 200, 0);
}
