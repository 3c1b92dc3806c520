/*
 * api_routes.c - the route table and its handlers (docs/api.md).
 *
 * A handler turns one request into calls of the case file (incident/) or
 * the store's readers and writes the answer; decisions belong to the case
 * file.  Path parameters are positive integers ({id}, {task}, {report}).
 */
#include "api/api_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api_http.h"
#include "api/auth.h"
#include "conf/config.h"
#include "detect/detect_sigma.h"
#include "event/time.h"
#include "incident/audit.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "triage/asset.h"
#include "util/jp.h"
#include "util/limits.h"
#include "util/log.h"

#define API_LIST_DEFAULT 50
#define API_LIST_MAX 500

struct api_call {
    struct api_ctx *ctx;
    const struct api_req *rq;
    struct api_resp *resp;
    int64_t p[2]; /* path parameters in order */
    char user[128];           /* who made the request (authenticate) */
    enum auth_role role;      /* their role */
    char token[AUTH_TOKEN_STRLEN]; /* the token presented (wiped at the end) */
    int by_cookie;            /* 1: the session cookie, not a Bearer header */
    int64_t expires_us;       /* the token's expiry; 0: never */
};

typedef void (*api_fn)(struct api_call *c);

struct api_route {
    const char *method;
    const char *path;
    enum auth_role role;
    api_fn fn;
};

/* ------------------------------------------------------------------ */
/* Answers                                                             */

static void answer_error(struct api_call *c, unsigned status, const char *msg, long off,
                         const char *field)
{
    struct buf *b = &c->resp->body;

    buf_reset(b);
    c->resp->status = status;
    c->resp->type = "application/json";
    if (buf_puts(b, "{\"error\":") < 0 || buf_json_str(b, msg, strlen(msg)) < 0 ||
        (off >= 0 && buf_printf(b, ",\"offset\":%ld", off) < 0) ||
        (field && *field &&
         (buf_puts(b, ",\"field\":") < 0 || buf_json_str(b, field, strlen(field)) < 0)) ||
        buf_puts(b, "}\n") < 0) {
        buf_reset(b);
        (void)buf_puts(b, "{\"error\":\"internal error\"}\n");
        c->resp->status = 500;
    }
}

/* A case file error as its HTTP answer. */
static void answer_cf(struct api_call *c, int r, const struct casefile_err *e)
{
    unsigned status;

    switch (r) {
    case -EINVAL: status = 400; break;
    case -ENOENT: status = 404; break;
    case -ESTALE: /* fall through: both are a conflict */
    case -EEXIST: status = 409; break;
    case -EDOM: status = 422; break;
    case -EBUSY: status = 503; break;
    default: status = 500; break;
    }
    answer_error(c, status, e->msg[0] ? e->msg : "internal error", e->off, e->field);
}

static void answer_store(struct api_call *c, int r)
{
    answer_error(c, r == -ENOENT ? 404 : r == -EBUSY ? 503 : 500,
                 r == -ENOENT ? "not found" : store_errmsg(c->ctx->cf.st), -1, NULL);
}

/* Ends a JSON answer built in the body. */
static void answer_json(struct api_call *c, unsigned status, int r)
{
    if (r < 0) {
        answer_error(c, 500, r == -E2BIG ? "answer too large" : "internal error", -1, NULL);
        return;
    }
    if (buf_putc(&c->resp->body, '\n') < 0) {
        answer_error(c, 500, "answer too large", -1, NULL);
        return;
    }
    c->resp->status = status;
    c->resp->type = "application/json";
}

/* {"KEY":[rows]} from a store list function. */
#define LIST_OBJECT(c, key, call)                                                                  \
    do {                                                                                           \
        struct buf *b_ = &(c)->resp->body;                                                         \
        int r_ = buf_puts(b_, "{\"" key "\":[");                                                   \
        if (r_ == 0 && (r_ = (call)) < 0) {                                                        \
            answer_store((c), r_);                                                                 \
            break;                                                                                 \
        }                                                                                          \
        if (r_ == 0)                                                                               \
            r_ = buf_puts(b_, "]}");                                                               \
        answer_json((c), 200, r_);                                                                 \
    } while (0)

/* ------------------------------------------------------------------ */
/* Query parameters                                                    */

/* An integer in [min, max], or `def` when absent.  -EINVAL otherwise. */
static int query_int(struct api_call *c, const char *key, int64_t min, int64_t max, int64_t def,
                     int64_t *ret)
{
    const char *v = c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;
    char *end;
    long long n;

    *ret = def;
    if (!v)
        return 0;
    if (!*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
        return -EINVAL;
    n = strtoll(v, &end, 10);
    if (*end || n < min || n > max)
        return -EINVAL;
    *ret = n;
    return 0;
}

static const char *query_str(struct api_call *c, const char *key)
{
    return c->rq->query ? c->rq->query(c->rq->query_ctx, key) : NULL;
}

static int page(struct api_call *c, int64_t *limit, int64_t *offset)
{
    if (query_int(c, "limit", 1, API_LIST_MAX, API_LIST_DEFAULT, limit) < 0 ||
        query_int(c, "offset", 0, INT64_C(1000000000), 0, offset) < 0) {
        answer_error(c, 400, "limit must be 1 to 500 and offset a non-negative integer", -1,
                     NULL);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The endpoint and the document                                       */

static void r_health(struct api_call *c)
{
    if (!c->ctx->src) {
        answer_error(c, 503, "no pipeline", -1, NULL);
        return;
    }
    answer_json(c, 200, api_http_health(c->ctx->src, &c->resp->body));
}

static int authenticate(struct api_call *c, enum auth_role need);

/* Open on a loopback listener, as a health probe is; anywhere else the
 * counters tell an outsider what we see and what we miss, so a scraper
 * needs a token (any role: a viewer token made for it). */
static void r_metrics(struct api_call *c)
{
    if (!c->ctx->metrics_open) {
        if (!c->ctx->cf.st) {
            answer_error(c, 503, "no store", -1, NULL);
            return;
        }
        if (authenticate(c, AUTH_ROLE_VIEWER) < 0)
            return;
    }
    if (!c->ctx->src) {
        answer_error(c, 503, "no pipeline", -1, NULL);
        return;
    }
    if (api_http_metrics(c->ctx->src, &c->resp->body) < 0) {
        answer_error(c, 500, "internal error", -1, NULL);
        return;
    }
    c->resp->status = 200;
    c->resp->type = "text/plain; version=0.0.4; charset=utf-8";
}

static void r_openapi(struct api_call *c)
{
    answer_json(c, 200, buf_append(&c->resp->body, api_openapi_json, api_openapi_json_len));
}

/* ------------------------------------------------------------------ */
/* Incidents                                                           */

static void r_incidents(struct api_call *c)
{
    struct store_incident_filter f = {
        .type = query_str(c, "type"),
        .phase = query_str(c, "phase"),
        .level = query_str(c, "level"),
    };
    struct casefile_err e = {0};
    int64_t overdue;
    size_t n = 0;
    int r;

    if (page(c, &f.limit, &f.offset) < 0)
        return;
    /* Exact names only: a misspelt filter is an error, not an empty list. */
    {
        enum triage_type t;
        enum incident_phase ph;
        enum triage_alert_level l;

        if (f.type && incident_type_from_name(f.type, strlen(f.type), &t) < 0) {
            answer_error(c, 400, "unknown incident type", -1, "type");
            return;
        }
        if (f.phase && incident_phase_from_name(f.phase, strlen(f.phase), &ph) < 0) {
            answer_error(c, 400, "phase is new, first_aid, emergency, watch, full_response or closed",
                         -1, "phase");
            return;
        }
        if (f.level && (incident_level_from_name(f.level, strlen(f.level), &l) < 0 ||
                        strcmp(f.level, triage_level_name(l)) != 0)) {
            answer_error(c, 400, "level is Green, Yellow, Orange or Red", -1, "level");
            return;
        }
    }
    if (query_int(c, "overdue", 0, 1, 0, &overdue) < 0) {
        answer_error(c, 400, "overdue is 0 or 1", -1, "overdue");
        return;
    }
    r = buf_puts(&c->resp->body, "{\"incidents\":[");
    if (r == 0 && (r = casefile_list_json(&c->ctx->cf, &f, (int)overdue, c->rq->now_us,
                                          &c->resp->body, &n, &e)) < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)f.limit, (long long)f.offset);
    answer_json(c, 200, r);
}

/* Answers with incident `id` as it is now. */
static void show_incident(struct api_call *c, unsigned status, int64_t id)
{
    struct casefile_err e = {0};
    int r;

    buf_reset(&c->resp->body);
    if ((r = casefile_incident_json(&c->ctx->cf, id, c->rq->now_us, &c->resp->body, &e)) < 0) {
        answer_cf(c, r, &e);
        return;
    }
    answer_json(c, status, 0);
}

static void r_incident(struct api_call *c)
{
    show_incident(c, 200, c->p[0]);
}

static void r_incident_create(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_create(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                            &id, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_incident(c, 201, id);
}

static void r_incident_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_update(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                            c->rq->now_us, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_incident(c, 200, c->p[0]);
}

/* 404 unless incident c->p[0] exists. */
static int need_incident(struct api_call *c)
{
    struct store_incident_row row;
    int r = store_incident_row_get(c->ctx->cf.st, c->p[0], &row);

    if (r == -ENOENT) {
        answer_error(c, 404, "no such incident", -1, NULL);
        return -1;
    }
    if (r < 0) {
        answer_store(c, r);
        return -1;
    }
    store_incident_row_done(&row);
    return 0;
}

static void r_timeline(struct api_call *c)
{
    if (need_incident(c) == 0)
        LIST_OBJECT(c, "timeline",
                    store_timeline_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void r_notes(struct api_call *c)
{
    if (need_incident(c) == 0)
        LIST_OBJECT(c, "notes", store_notes_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void r_note_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t note = 0;
    int r = casefile_note_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &note, &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    r = store_note_json(c->ctx->cf.st, note, &c->resp->body);
    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

static void r_tasks(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = buf_puts(&c->resp->body, "{\"tasks\":");

    if (r == 0 && (r = casefile_tasks_json(&c->ctx->cf, c->p[0], &c->resp->body, &e)) < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    answer_json(c, 200, r);
}

/* Answers with task `task` of incident c->p[0]. */
static void show_task(struct api_call *c, unsigned status, uint32_t task)
{
    int r;

    buf_reset(&c->resp->body);
    if ((r = store_task_json(c->ctx->cf.st, c->p[0], task, &c->resp->body)) < 0) {
        if (r == -ENOENT)
            answer_error(c, 404, "no such task", -1, NULL);
        else
            answer_store(c, r);
        return;
    }
    answer_json(c, status, 0);
}

static void r_task_add(struct api_call *c)
{
    struct casefile_err e = {0};
    uint32_t task = 0;
    int r = casefile_task_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &task, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_task(c, 201, task);
}

static void r_task_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int r;

    if (c->p[1] > UINT32_MAX) {
        answer_error(c, 404, "no such task", -1, NULL);
        return;
    }
    r = casefile_task_update(&c->ctx->cf, c->p[0], (uint32_t)c->p[1], c->user, c->rq->body,
                             c->rq->body_len, c->rq->now_us, &e);
    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_task(c, 200, (uint32_t)c->p[1]);
}

static void r_comms(struct api_call *c)
{
    if (need_incident(c) == 0)
        LIST_OBJECT(c, "communications",
                    store_comms_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void r_comm_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_comm_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &id, &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if ((r = store_comm_json(c->ctx->cf.st, id, &c->resp->body)) < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

static void r_reports(struct api_call *c)
{
    if (need_incident(c) == 0)
        LIST_OBJECT(c, "reports", store_reports_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void show_report_meta(struct api_call *c, unsigned status, int64_t rid)
{
    int r = store_report_meta_json(c->ctx->cf.st, c->p[0], rid, &c->resp->body);

    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, status, 0);
}

static void r_report_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t rid = 0;
    int r = casefile_report_create(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                   c->rq->now_us, &rid, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_report_meta(c, 201, rid);
}

static void r_report_edit(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t rid = 0;
    int r = casefile_report_edit(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->body,
                                 c->rq->body_len, c->rq->now_us, &rid, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_report_meta(c, 201, rid);
}

static void r_report(struct api_call *c)
{
    const char *fmt = query_str(c, "format");
    char *kind = NULL, *md = NULL, *html = NULL;
    struct buf *b = &c->resp->body;
    int r;

    if (fmt && strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0) {
        answer_error(c, 400, "format is md or html", -1, "format");
        return;
    }
    r = store_report_text(c->ctx->cf.st, c->p[0], c->p[1], &kind, &md, &html);
    if (r == -ENOENT) {
        answer_error(c, 404, "no such report", -1, NULL);
        return;
    }
    if (r < 0) {
        answer_store(c, r);
        return;
    }
    if (fmt && strcmp(fmt, "md") == 0) {
        r = buf_puts(b, md);
        c->resp->type = "text/markdown; charset=utf-8";
        c->resp->status = r < 0 ? 500 : 200;
    } else if (fmt) {
        if (!html) {
            /* An edited version has no HTML of its own: show its text. */
            r = buf_puts(b, "<!DOCTYPE html><meta charset=\"utf-8\"><pre>");
            for (const char *p = md; r == 0 && *p; p++)
                r = *p == '<'   ? buf_puts(b, "&lt;")
                    : *p == '>' ? buf_puts(b, "&gt;")
                    : *p == '&' ? buf_puts(b, "&amp;")
                                : buf_putc(b, *p);
            if (r == 0)
                r = buf_puts(b, "</pre>\n");
        } else {
            r = buf_puts(b, html);
        }
        c->resp->type = "text/html; charset=utf-8";
        c->resp->status = r < 0 ? 500 : 200;
    } else {
        r = store_report_meta_json(c->ctx->cf.st, c->p[0], c->p[1], b);
        if (r == 0) {
            b->len--; /* the closing brace */
            r = buf_puts(b, ",\"markdown\":");
        }
        if (r == 0)
            r = buf_json_str(b, md, strlen(md));
        if (r == 0)
            r = buf_puts(b, ",\"html\":");
        if (r == 0)
            r = html ? buf_json_str(b, html, strlen(html)) : buf_puts(b, "null");
        if (r == 0)
            r = buf_putc(b, '}');
        answer_json(c, 200, r);
    }
    free(kind);
    free(md);
    free(html);
}

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

static void list_alerts(struct api_call *c, int64_t incident)
{
    struct store_agg_filter f = {.rule = query_str(c, "rule"), .acknowledged = -1};
    int64_t level, ack, inc;
    size_t n = 0;
    int r;

    if (page(c, &f.limit, &f.offset) < 0)
        return;
    if (query_int(c, "level", 1, 5, 0, &level) < 0 || query_int(c, "acknowledged", 0, 1, -1, &ack) < 0 ||
        query_int(c, "incident", 1, INT64_MAX, 0, &inc) < 0) {
        answer_error(c, 400, "level is 1 to 5, acknowledged 0 or 1, incident an id", -1, NULL);
        return;
    }
    if (query_time(c, "since", &f.since_us) < 0 || query_time(c, "until", &f.until_us) < 0) {
        answer_error(c, 400, "since and until are ISO 8601 times (2026-11-23T10:00:00Z)", -1,
                     NULL);
        return;
    }
    if (query_text(c, "entity", &f.entity) < 0 || query_text(c, "q", &f.q) < 0) {
        answer_error(c, 400, "entity and q are at most 256 bytes", -1, NULL);
        return;
    }
    f.min_level = (int)level;
    f.acknowledged = (int)ack;
    f.incident_id = incident ? incident : inc;
    r = buf_puts(&c->resp->body, "{\"alerts\":[");
    if (r == 0 && (r = store_agg_list_json(c->ctx->cf.st, &f, &c->resp->body, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld,\"total\":", n,
                       (long long)f.limit, (long long)f.offset);
    if (r == 0 && (r = store_agg_count_json(c->ctx->cf.st, &f, &c->resp->body)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    answer_json(c, 200, r);
}

static void r_alerts(struct api_call *c)
{
    list_alerts(c, 0);
}

static void r_incident_alerts(struct api_call *c)
{
    if (need_incident(c) == 0)
        list_alerts(c, c->p[0]);
}

static void show_alert(struct api_call *c)
{
    int r = store_agg_json(c->ctx->cf.st, c->p[0], &c->resp->body);

    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, 200, 0);
}

static void r_alert_events(struct api_call *c)
{
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"events\":[");
    if (r == 0 && (r = store_agg_events_json(c->ctx->cf.st, c->p[0], limit, offset,
                                             &c->resp->body, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)limit, (long long)offset);
    answer_json(c, 200, r);
}

static void r_alert_ack(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_alert_ack(&c->ctx->cf, c->p[0], c->user, c->rq->now_us, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_alert(c);
}

static void r_alert_attach(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_alert_attach(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                  c->rq->now_us, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_alert(c);
}

static void r_alert_suppress(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t sid = 0;
    int r = casefile_alert_suppress(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                    c->rq->now_us, &sid, &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if ((r = store_supp_json(c->ctx->cf.st, sid, c->rq->now_us, &c->resp->body)) < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

static void r_suppressions(struct api_call *c)
{
    LIST_OBJECT(c, "suppressions",
                store_supps_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, NULL));
}

/* ------------------------------------------------------------------ */
/* Entities and assets                                                 */

static void r_entities(struct api_call *c)
{
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"entities\":[");
    if (r == 0 && (r = store_entities_json(c->ctx->cf.st, limit, offset, &c->resp->body, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)limit, (long long)offset);
    answer_json(c, 200, r);
}

/* One asset as JSON. */
static int asset_json(struct buf *b, const struct asset *a)
{
    char net[INET6_ADDRSTRLEN + 8] = "";
    int r;

    if (a->has_net && inet_ntop(a->net.family, a->net.addr, net, sizeof(net)))
        snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", a->net.prefix);
    r = buf_puts(b, "{\"name\":");
    if (r == 0)
        r = a->name ? buf_json_str(b, a->name, strlen(a->name)) : buf_puts(b, "null");
    if (r == 0)
        r = buf_puts(b, ",\"owner\":");
    if (r == 0)
        r = a->owner ? buf_json_str(b, a->owner, strlen(a->owner)) : buf_puts(b, "null");
    if (r == 0)
        r = net[0] ? buf_printf(b, ",\"network\":\"%s\"", net) : buf_puts(b, ",\"network\":null");
    if (r == 0)
        r = buf_printf(b, ",\"criticality\":\"%s\",\"category\":\"%s\",\"tags\":[",
                       asset_crit_name(a->crit), asset_category_name(a->cat));
    for (size_t i = 0; r == 0 && i < a->ntags; i++) {
        if (i)
            r = buf_putc(b, ',');
        if (r == 0)
            r = buf_json_str(b, a->tags[i], strlen(a->tags[i]));
    }
    return r < 0 ? r : buf_puts(b, "]}");
}

static void r_assets(struct api_call *c)
{
    const struct asset_inv *inv =
        c->ctx->src && c->ctx->src->pipeline ? pipeline_assets(c->ctx->src->pipeline) : NULL;
    int64_t limit, offset;
    size_t n = 0;
    int r;

    if (page(c, &limit, &offset) < 0)
        return;
    r = buf_puts(&c->resp->body, "{\"assets\":[");
    for (size_t i = (size_t)offset; r == 0 && inv && i < inv->n && (int64_t)n < limit; i++) {
        if (n && (r = buf_putc(&c->resp->body, ',')) < 0)
            break;
        r = asset_json(&c->resp->body, &inv->v[i]);
        n++;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"total\":%zu,\"limit\":%lld,"
                       "\"offset\":%lld}",
                       n, inv ? inv->n : 0, (long long)limit, (long long)offset);
    answer_json(c, 200, r);
}

/* ------------------------------------------------------------------ */
/* Intake, contacts, declared level, risk meter                        */

static void r_intake(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_intake(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                            &id, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_incident(c, 201, id);
}

static void r_contacts(struct api_call *c)
{
    LIST_OBJECT(c, "contacts", store_contacts_json(c->ctx->cf.st, &c->resp->body, NULL));
}

static void r_contact_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_contact_add(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len,
                                 c->rq->now_us, &id, &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if ((r = store_contact_json(c->ctx->cf.st, id, &c->resp->body)) < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

static void r_declared(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r = buf_puts(b, "{\"current\":");

    if (r == 0 && (r = store_declared_current_json(c->ctx->cf.st, b)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, ",\"history\":[");
    if (r == 0 && (r = store_declared_history_json(c->ctx->cf.st, b, NULL)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    answer_json(c, 200, r);
}

static void r_declare(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_declare(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                             &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if ((r = store_declared_last_json(c->ctx->cf.st, &c->resp->body)) < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

static void r_risk(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    struct buf last;
    int r;

    buf_init(&last, 64 * 1024);
    r = store_risk_json(c->ctx->cf.st, 1, &last, NULL);
    if (r == 0)
        r = buf_puts(b, "{\"current\":");
    if (r == 0)
        r = last.len ? buf_append(b, last.data, last.len) : buf_puts(b, "null");
    buf_done(&last);
    if (r == 0)
        r = buf_puts(b, ",\"history\":[");
    if (r == 0 && (r = store_risk_json(c->ctx->cf.st, 10000, b, NULL)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    answer_json(c, 200, r);
}

static void r_risk_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_risk_add(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                              &e);

    if (r < 0) {
        answer_cf(c, r, &e);
        return;
    }
    if ((r = store_risk_json(c->ctx->cf.st, 1, &c->resp->body, NULL)) < 0)
        answer_store(c, r);
    else
        answer_json(c, 201, 0);
}

/* ------------------------------------------------------------------ */
/* Logging in with a password                                          */

static int body_ok(struct api_call *c);

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* {"name": "...", "password": "..."}, strictly. */
static int read_login(const struct api_req *rq, char *name, size_t namecap, char *pw,
                      size_t pwcap, struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1, have = 0;

    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        if (strcmp(key, "name") == 0 && !(have & 1))
            r = jp_string(&j, name, namecap, NULL), have |= 1;
        else if (strcmp(key, "password") == 0 && !(have & 2))
            r = jp_string(&j, pw, pwcap, NULL), have |= 2;
        else
            return jp_fail(&j, "unknown or repeated field");
        if (r < 0)
            return r;
    }
    if (r < 0 || (r = jp_end(&j)) < 0)
        return r;
    if (have != 3) {
        parse_err_set(pe, 0, "name and password are required");
        return -EINVAL;
    }
    return 0;
}

/*
 * Checks the request's {"name", "password"} for a login.  Wrong name and
 * wrong password answer alike, after the same Argon2id work, and a client
 * gets 10 attempts then one a minute.  0 with the user's id, name and role
 * (heap, the caller frees *ret_role); -1 when refused (the answer is
 * written).
 */
static int login_check(struct api_call *c, char name[128], int64_t *ret_uid, char **ret_role)
{
    /* A valid Argon2id string of no password: verifying against it costs
     * what a real check costs, so an unknown name takes as long. */
    static char dummy[AUTH_PWHASH_STRLEN];
    char pw[1024];
    struct parse_err pe = {0};
    char *role = NULL, *hash = NULL;
    int r, ok;

    *ret_role = NULL;
    if (!c->ctx->cf.st) {
        answer_error(c, 503, "no store", -1, NULL);
        return -1;
    }
    if (!body_ok(c))
        return -1;
    if (c->ctx->login_rl &&
        !auth_ratelimit_allow(c->ctx->login_rl, c->rq->client ? c->rq->client : "?", mono_us())) {
        answer_error(c, 429, "too many login attempts; wait a minute", -1, NULL);
        return -1;
    }
    if (read_login(c->rq, name, 127, pw, sizeof(pw) - 1, &pe) < 0) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        return -1;
    }
    if (!dummy[0] && auth_password_hash("no user has this password", 25, dummy) < 0)
        dummy[0] = '\0';
    r = store_user_get(c->ctx->cf.st, name, ret_uid, &role, &hash);
    if (r < 0 && r != -ENOENT) {
        sodium_memzero(pw, sizeof(pw));
        answer_store(c, r);
        return -1;
    }
    ok = r == 0 && hash && auth_password_verify(hash, pw, strlen(pw)) == 0;
    if (!ok && dummy[0] && (r < 0 || !hash))
        (void)auth_password_verify(dummy, pw, strlen(pw));
    sodium_memzero(pw, sizeof(pw));
    free(hash);
    if (!ok) {
        free(role);
        log_warnx("http: failed login for \"%s\" from %s", name,
                  c->rq->client ? c->rq->client : "?");
        answer_error(c, 401, "wrong name or password", -1, NULL);
        return -1;
    }
    /* Said only to whoever knows the password: the name alone tells
     * nothing more than a wrong password does. */
    {
        struct store_user_info ui;

        r = store_user_find(c->ctx->cf.st, name, c->rq->now_us, &ui);
        if (r == 0 && ui.disabled) {
            free(role);
            log_warnx("http: login of disabled user \"%s\" from %s", name,
                      c->rq->client ? c->rq->client : "?");
            answer_error(c, 403, "this account is disabled (hikeshi user enable)", -1, NULL);
            return -1;
        }
        if (r < 0) {
            free(role);
            answer_store(c, r);
            return -1;
        }
        if (store_user_set_login(c->ctx->cf.st, *ret_uid, c->rq->now_us) < 0)
            log_warnx("http: noting the login of \"%s\": %s", name, store_errmsg(c->ctx->cf.st));
    }
    *ret_role = role;
    return 0;
}

/* When a token made now with `ttl_s` (0: http.token_ttl) expires.  From
 * the wall clock, which store_token_find checks expiry against, not the
 * request's time (the same in the daemon; fixed in tests). */
static int64_t token_expiry(const struct api_call *c, int64_t ttl_s)
{
    if (ttl_s <= 0)
        ttl_s = c->ctx->token_ttl_s > 0 ? c->ctx->token_ttl_s : LIMIT_TOKEN_TTL_DEFAULT;
    return time_now_us() + ttl_s * 1000000;
}

static void audit_login(struct api_call *c, const char *name, const char *action,
                        const char *label)
{
    char obj[160], det[64];
    int n;

    if (!c->ctx->cf.audit)
        return;
    n = snprintf(det, sizeof(det), "{\"label\":\"%s\"}", label);
    snprintf(obj, sizeof(obj), "user/%s", name);
    (void)audit_append(c->ctx->cf.audit, name, action, obj, det, (size_t)n, NULL);
}

/* A password for a token: any script's way in when it holds no token yet. */
static void r_login(struct api_call *c)
{
    char name[128], tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *role = NULL;
    int64_t uid = 0, exp;
    int r;
    struct buf *b = &c->resp->body;
    char when[40];

    if (login_check(c, name, &uid, &role) < 0)
        return;
    exp = token_expiry(c, 0);
    r = auth_token_new(tok, th);
    if (r == 0 && (r = store_token_add(c->ctx->cf.st, uid, th, sizeof(th), "login", exp)) < 0) {
        free(role);
        sodium_memzero(tok, sizeof(tok));
        answer_store(c, r);
        return;
    }
    audit_login(c, name, "user.login", "login");
    r = r < 0 ? r : buf_puts(b, "{\"token\":");
    if (r == 0)
        r = buf_json_str(b, tok, strlen(tok));
    if (r == 0)
        r = buf_puts(b, ",\"user\":");
    if (r == 0)
        r = buf_json_str(b, name, strlen(name));
    time_format_iso(exp, when, sizeof(when));
    if (r == 0)
        r = buf_printf(b, ",\"role\":\"%s\",\"expires\":\"%s\"}", role ? role : "", when);
    sodium_memzero(tok, sizeof(tok));
    free(role);
    answer_json(c, 201, r);
}

/* {"user", "role", "csrf", "expires"}: what the console needs to know of
 * its session.  csrf only for a cookie session; expires null for a token
 * that does not expire. */
static int session_json(struct api_call *c, const char *name, const char *role, const char *tok,
                        int64_t expires_us)
{
    struct buf *b = &c->resp->body;
    char csrf[AUTH_CSRF_STRLEN];
    int r;

    if ((r = buf_puts(b, "{\"user\":")) < 0 || (r = buf_json_str(b, name, strlen(name))) < 0 ||
        (r = buf_printf(b, ",\"role\":\"%s\",\"csrf\":", role)) < 0)
        return r;
    if (tok && auth_csrf_token(tok, strlen(tok), csrf) == 0)
        r = buf_printf(b, "\"%s\"", csrf);
    else
        r = buf_puts(b, "null");
    sodium_memzero(csrf, sizeof(csrf));
    if (r == 0 && expires_us > 0) {
        char t[40];
        time_format_iso(expires_us, t, sizeof(t));
        r = buf_printf(b, ",\"expires\":\"%s\"", t);
    } else if (r == 0) {
        r = buf_puts(b, ",\"expires\":null");
    }
    return r < 0 ? r : buf_putc(b, '}');
}

/*
 * The web console's login: a password for a session held in an HttpOnly,
 * SameSite=Strict cookie that lasts AUTH_SESSION_SECONDS, and the CSRF
 * token that every change made with it must carry.
 */
static void r_session_new(struct api_call *c)
{
    char name[128], tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *role = NULL;
    int64_t uid = 0, exp = time_now_us() + (int64_t)AUTH_SESSION_SECONDS * 1000000;
    int r;

    if (login_check(c, name, &uid, &role) < 0)
        return;
    r = auth_token_new(tok, th);
    if (r == 0 && (r = store_session_add(c->ctx->cf.st, uid, th, sizeof(th), exp)) < 0) {
        free(role);
        sodium_memzero(tok, sizeof(tok));
        answer_store(c, r);
        return;
    }
    audit_login(c, name, "user.login", "session");
    if (r == 0)
        r = session_json(c, name, role ? role : "", tok, exp);
    if (r == 0)
        snprintf(c->resp->set_cookie, sizeof(c->resp->set_cookie),
                 AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", tok,
                 AUTH_SESSION_SECONDS);
    sodium_memzero(tok, sizeof(tok));
    free(role);
    answer_json(c, 201, r);
}

static void r_session(struct api_call *c)
{
    answer_json(c, 200,
                session_json(c, c->user, auth_role_name(c->role), c->by_cookie ? c->token : NULL,
                             c->expires_us));
}

/* Logout: the token that authenticated this request stops working, and a
 * cookie session's cookie is cleared. */
static void r_session_end(struct api_call *c)
{
    unsigned char th[AUTH_TOKEN_HASHLEN];
    int r = auth_token_hash(c->token, strlen(c->token), th);

    if (r == 0 && (r = store_token_revoke_hash(c->ctx->cf.st, th, sizeof(th))) < 0 &&
        r != -ENOENT) {
        answer_store(c, r);
        return;
    }
    audit_login(c, c->user, "user.logout", c->by_cookie ? "session" : "token");
    snprintf(c->resp->set_cookie, sizeof(c->resp->set_cookie),
             AUTH_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

struct rotate {
    const unsigned char *old_hash, *new_hash;
    int64_t now_us, expires_us, new_id;
};

static int rotate_apply(struct store *st, void *ctx, struct buf *details)
{
    struct rotate *t = ctx;
    int r = store_token_rotate(st, t->old_hash, t->new_hash, AUTH_TOKEN_HASHLEN, t->now_us,
                               t->expires_us, &t->new_id);

    return r < 0 ? r : buf_printf(details, "{\"token\":%lld}", (long long)t->new_id);
}

/*
 * POST /api/v1/session/rotate: the Bearer token of this request is
 * replaced by a new one with its label and a fresh http.token_ttl, and
 * stops working at once; a script renews its token before it expires.
 */
static void r_session_rotate(struct api_call *c)
{
    unsigned char old[AUTH_TOKEN_HASHLEN], nh[AUTH_TOKEN_HASHLEN];
    char tok[AUTH_TOKEN_STRLEN], obj[160], when[40];
    struct casefile_err e = {0};
    struct rotate t = {old, nh, c->rq->now_us, token_expiry(c, 0), 0};
    struct buf *b = &c->resp->body;
    int r;

    if (c->by_cookie) {
        answer_error(c, 422, "a console session is not rotated: log out and in again", -1, NULL);
        return;
    }
    if (auth_token_hash(c->token, strlen(c->token), old) < 0 || auth_token_new(tok, nh) < 0) {
        answer_error(c, 500, "no randomness for a token", -1, NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "user/%s", c->user);
    r = casefile_change(&c->ctx->cf, c->user, "token.rotate", obj, rotate_apply, &t, &e);
    if (r < 0) {
        sodium_memzero(tok, sizeof(tok));
        if (r == -ENOENT)
            answer_error(c, 422, "a session is not rotated: log out and in again", -1, NULL);
        else
            answer_cf(c, r, &e);
        return;
    }
    time_format_iso(t.expires_us, when, sizeof(when));
    r = buf_printf(b, "{\"id\":%lld,\"token\":\"%s\",\"user\":", (long long)t.new_id, tok);
    if (r == 0)
        r = buf_json_str(b, c->user, strlen(c->user));
    if (r == 0)
        r = buf_printf(b, ",\"role\":\"%s\",\"expires\":\"%s\"}", auth_role_name(c->role), when);
    sodium_memzero(tok, sizeof(tok));
    answer_json(c, 201, r);
}

/* ------------------------------------------------------------------ */
/* The web console: the dashboard's figures, rules, administration     */

/* GET /api/v1/stats: what the dashboard shows, in one answer. */
static void r_stats(struct api_call *c)
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

    if (query_int(c, "hours", 1, 168, 24, &hours) < 0) {
        answer_error(c, 400, "hours is 1 to 168", -1, "hours");
        return;
    }
    since = until - hours * hour;
    /* The rate's buckets are whole hours of the clock, the last one the
     * hour now running. */
    rate_since = until / hour * hour - (hours - 1) * hour;
    if ((r = store_funnel(c->ctx->cf.st, since, until + 1, &fu)) < 0 ||
        (r = store_alert_rate(c->ctx->cf.st, rate_since, hour, (size_t)hours, counts)) < 0 ||
        (r = store_open_counts(c->ctx->cf.st, &oc)) < 0) {
        answer_store(c, r);
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
        answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "],\"top_entities\":[");
    if (r == 0 && (r = store_entity_risk_json(c->ctx->cf.st, 10, b, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    answer_json(c, 200, r);
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

static int json_str_or_null(struct buf *b, const char *s)
{
    return s ? buf_json_str(b, s, strlen(s)) : buf_puts(b, "null");
}

static int rule_row(void *ctx, const struct detect_sigma_rule_info *ri)
{
    struct rules_ctx *rc = ctx;
    struct buf *b = rc->out;
    const struct store_rule_hits *h =
        ri->id ? bsearch(ri->id, rc->hits, rc->nhits, sizeof(*rc->hits), hits_cmp) : NULL;
    const char *const keys[] = {"{\"id\":", ",\"name\":", ",\"title\":", ",\"level\":",
                                ",\"status\":", ",\"file\":"};
    const char *const vals[] = {ri->id, ri->name, ri->title, ri->level, ri->status, ri->file};
    int r = rc->n ? buf_putc(b, ',') : 0;

    for (size_t i = 0; r == 0 && i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((r = buf_puts(b, keys[i])) == 0)
            r = json_str_or_null(b, vals[i]);
    if (r == 0)
        r = buf_printf(b, ",\"kind\":\"%s\",\"tags\":[", ri->correlation ? "correlation" : "detection");
    for (size_t i = 0; r == 0 && i < ri->ntags; i++)
        if ((r = i ? buf_putc(b, ',') : 0) == 0)
            r = json_str_or_null(b, ri->tags[i]);
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

static void r_rules(struct api_call *c)
{
    struct store_rule_hits *hits = NULL;
    size_t nhits = 0;
    struct rules_ctx rc;
    int r;

    if (!c->ctx->src || !c->ctx->src->pipeline) {
        answer_error(c, 503, "no pipeline: the rules are the daemon's", -1, NULL);
        return;
    }
    if ((r = store_rule_hits(c->ctx->cf.st, &hits, &nhits)) < 0) {
        answer_store(c, r);
        return;
    }
    rc = (struct rules_ctx){&c->resp->body, hits, nhits, 0};
    r = buf_puts(&c->resp->body, "{\"rules\":[");
    if (r == 0)
        r = pipeline_rules_each(c->ctx->src->pipeline, rule_row, &rc);
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu}", rc.n);
    store_rule_hits_free(hits, nhits);
    answer_json(c, 200, r);
}

/* A flat JSON object of string members, strictly: each of `keys` at most
 * once, into vals[i] (NUL-terminated, at most caps[i] - 1 bytes; "" and
 * have bit i clear when absent).  -EINVAL with *pe. */
static int read_strings(const struct api_req *rq, const char *const *keys, char **vals,
                        const size_t *caps, size_t n, unsigned *ret_have, struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;
    size_t i;

    *ret_have = 0;
    for (i = 0; i < n; i++)
        vals[i][0] = '\0';
    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        for (i = 0; i < n && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == n || (*ret_have & (1u << i)))
            return jp_fail(&j, "unknown or repeated field");
        if ((r = jp_string(&j, vals[i], caps[i] - 1, NULL)) < 0)
            return r;
        *ret_have |= 1u << i;
    }
    return r < 0 ? r : jp_end(&j);
}

/* A user name: 1 to 64 of letters, digits and . _ @ -. */
static int user_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

struct user_change {
    int64_t id;
    const char *name, *role, *pw_hash, *label;
    const unsigned char *hash;
    size_t hash_len;
    int64_t now_us, new_id;
    int64_t expires_us; /* 't': when the new token expires */
    int disabled;       /* 'u': 1 disable, 0 enable, -1 unchanged */
    int op; /* 'a' add user, 'u' update, 'd' delete, 't' add token, 'r' revoke token */
};

static int user_apply(struct store *st, void *ctx, struct buf *details)
{
    struct user_change *u = ctx;
    int r;

    switch (u->op) {
    case 'a':
        r = store_user_add(st, u->name, u->role, u->pw_hash, &u->new_id);
        if (r == 0)
            r = buf_printf(details, "{\"id\":%lld,\"role\":\"%s\",\"password\":%s}",
                           (long long)u->new_id, u->role, u->pw_hash ? "true" : "false");
        return r;
    case 'u':
        r = store_user_update(st, u->id, u->role, u->pw_hash);
        if (r == 0 && u->disabled >= 0)
            r = store_user_set_disabled(st, u->id, u->disabled);
        if (r == 0 && (r = buf_printf(details, "{\"id\":%lld", (long long)u->id)) == 0 && u->role)
            r = buf_printf(details, ",\"role\":\"%s\"", u->role);
        if (r == 0 && u->disabled >= 0)
            r = buf_printf(details, ",\"disabled\":%s", u->disabled ? "true" : "false");
        if (r == 0)
            r = buf_printf(details, ",\"password_changed\":%s}", u->pw_hash ? "true" : "false");
        return r;
    case 'd':
        r = store_user_delete(st, u->id);
        return r < 0 ? r : buf_printf(details, "{\"id\":%lld}", (long long)u->id);
    case 't': {
        char when[40];

        time_format_iso(u->expires_us, when, sizeof(when));
        r = store_token_add_id(st, u->id, u->hash, u->hash_len, u->label, u->now_us, u->expires_us,
                               &u->new_id);
        if (r == 0 &&
            (r = buf_printf(details, "{\"token\":%lld,\"user\":%lld,\"expires\":\"%s\",\"label\":",
                            (long long)u->new_id, (long long)u->id, when)) == 0 &&
            (r = json_str_or_null(details, u->label)) == 0)
            r = buf_putc(details, '}');
        return r;
    }
    case 'r':
        r = store_token_revoke(st, u->id);
        return r < 0 ? r : buf_printf(details, "{\"token\":%lld}", (long long)u->id);
    }
    return -EINVAL;
}

static void r_users(struct api_call *c)
{
    LIST_OBJECT(c, "users", store_users_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, NULL));
}

/* Hashes a password from a request into out; -1 with the answer written. */
static int password_from(struct api_call *c, char *pw, char out[AUTH_PWHASH_STRLEN])
{
    const char *why = auth_password_check(pw, strlen(pw));
    int r;

    if (why) {
        answer_error(c, 400, why, -1, "password");
        return -1;
    }
    if ((r = auth_password_hash(pw, strlen(pw), out)) < 0) {
        answer_error(c, r == -ENOMEM ? 503 : 400,
                     r == -ENOMEM ? "out of memory for the password hash" : "password refused", -1,
                     "password");
        return -1;
    }
    return 0;
}

static void r_user_add(struct api_call *c)
{
    static const char *const keys[] = {"name", "role", "password"};
    char name[128] = "", role[32] = "", pw[AUTH_PASSWORD_MAX + 2] = "", hash[AUTH_PWHASH_STRLEN];
    char *vals[] = {name, role, pw};
    const size_t caps[] = {sizeof(name), sizeof(role), sizeof(pw)};
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    enum auth_role ro;
    unsigned have;
    char obj[160];
    int r;

    r = read_strings(c->rq, keys, vals, caps, 3, &have, &pe);
    if (r < 0 || (have & 3) != 3) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 400, r < 0 && pe.msg ? pe.msg : "name and role are required",
                     r < 0 ? (long)pe.off : -1, NULL);
        return;
    }
    if (!user_name_ok(name) || auth_role_parse(role, strlen(role), &ro) < 0) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 400,
                     !user_name_ok(name)
                         ? "a name is 1 to 64 letters, digits and . _ @ -"
                         : "role is viewer, analyst or admin",
                     -1, !user_name_ok(name) ? "name" : "role");
        return;
    }
    if ((have & 4) && password_from(c, pw, hash) < 0) {
        sodium_memzero(pw, sizeof(pw));
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    {
        struct user_change u = {.name = name, .role = role, .pw_hash = (have & 4) ? hash : NULL,
                                .op = 'a'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        r = casefile_change(&c->ctx->cf, c->user, "user.add", obj, user_apply, &u, &e);
        if (r == -EEXIST) {
            answer_error(c, 409, "a user of that name exists", -1, "name");
            return;
        }
        if (r < 0) {
            answer_cf(c, r, &e);
            return;
        }
        r = store_user_json(c->ctx->cf.st, u.new_id, c->rq->now_us, &c->resp->body);
        if (r < 0)
            answer_store(c, r);
        else
            answer_json(c, 201, 0);
    }
}

/* The user of path parameter p[0], whose name goes into `name`; -1 with
 * the answer written. */
static int need_user(struct api_call *c, char *name, size_t size, char *role, size_t rsize)
{
    char *n = NULL, *ro = NULL;
    int r = store_user_get_id(c->ctx->cf.st, c->p[0], &n, &ro);

    if (r < 0) {
        answer_store(c, r);
        return -1;
    }
    snprintf(name, size, "%s", n);
    snprintf(role, rsize, "%s", ro);
    free(n);
    free(ro);
    return 0;
}

/* {"role", "password", "disabled"} of PATCH users/{id}, each optional but
 * not all absent; *have has bit 1 role, 2 password, 4 disabled. */
static int read_user_patch(const struct api_req *rq, char *role, size_t rcap, char *pw, size_t pcap,
                           int *disabled, unsigned *have, struct parse_err *pe)
{
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    int r, first = 1;

    *have = 0;
    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        if (strcmp(key, "role") == 0 && !(*have & 1))
            r = jp_string(&j, role, rcap - 1, NULL), *have |= 1;
        else if (strcmp(key, "password") == 0 && !(*have & 2))
            r = jp_string(&j, pw, pcap - 1, NULL), *have |= 2;
        else if (strcmp(key, "disabled") == 0 && !(*have & 4))
            r = jp_bool(&j, disabled), *have |= 4;
        else
            return jp_fail(&j, "unknown or repeated field");
        if (r < 0)
            return r;
    }
    return r < 0 ? r : jp_end(&j);
}

static void r_user_patch(struct api_call *c)
{
    char role[32] = "", pw[AUTH_PASSWORD_MAX + 2] = "", hash[AUTH_PWHASH_STRLEN], name[128],
         cur[32];
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    enum auth_role ro;
    unsigned have = 0;
    int disabled = -1;
    char obj[160];
    int r;

    if (need_user(c, name, sizeof(name), cur, sizeof(cur)) < 0)
        return;
    r = read_user_patch(c->rq, role, sizeof(role), pw, sizeof(pw), &disabled, &have, &pe);
    if (r < 0 || have == 0) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 400, r < 0 && pe.msg ? pe.msg : "role, password or disabled is required",
                     r < 0 ? (long)pe.off : -1, NULL);
        return;
    }
    /* Nor locks themselves out: another admin, or `hikeshi user`, does. */
    if ((have & 4) && disabled && strcmp(name, c->user) == 0) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 422, "you cannot disable yourself", -1, "disabled");
        return;
    }
    if ((have & 1) && auth_role_parse(role, strlen(role), &ro) < 0) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 400, "role is viewer, analyst or admin", -1, "role");
        return;
    }
    /* An administrator never takes their own rights away: one is left. */
    if ((have & 1) && strcmp(name, c->user) == 0 && ro != AUTH_ROLE_ADMIN) {
        sodium_memzero(pw, sizeof(pw));
        answer_error(c, 422, "you cannot take the admin role from yourself", -1, "role");
        return;
    }
    if ((have & 2) && password_from(c, pw, hash) < 0) {
        sodium_memzero(pw, sizeof(pw));
        return;
    }
    sodium_memzero(pw, sizeof(pw));
    {
        struct user_change u = {.id = c->p[0],
                                .role = (have & 1) ? role : NULL,
                                .pw_hash = (have & 2) ? hash : NULL,
                                .disabled = (have & 4) ? disabled : -1,
                                .op = 'u'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        if ((r = casefile_change(&c->ctx->cf, c->user, "user.update", obj, user_apply, &u, &e)) <
            0) {
            answer_cf(c, r, &e);
            return;
        }
    }
    r = store_user_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body);
    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, 200, 0);
}

static void r_user_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    struct user_change u = {.id = c->p[0], .op = 'd'};
    char name[128], role[32], obj[160];
    int r;

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    if (strcmp(name, c->user) == 0) {
        answer_error(c, 422, "you cannot delete yourself", -1, NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "user/%s", name);
    if ((r = casefile_change(&c->ctx->cf, c->user, "user.delete", obj, user_apply, &u, &e)) < 0) {
        answer_cf(c, r, &e);
        return;
    }
    answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

static void r_tokens(struct api_call *c)
{
    char name[128], role[32];

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    LIST_OBJECT(c, "tokens",
                store_tokens_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body, NULL));
}

static void r_token_add(struct api_call *c)
{
    static const char *const keys[] = {"label", "ttl"};
    char label[129] = "", ttl_s[32] = "", name[128], role[32], obj[160], tok[AUTH_TOKEN_STRLEN];
    char *vals[] = {label, ttl_s};
    const size_t caps[] = {sizeof(label), sizeof(ttl_s)};
    int64_t exp = token_expiry(c, 0), ttl = 0;
    unsigned char th[AUTH_TOKEN_HASHLEN];
    struct parse_err pe = {0};
    struct casefile_err e = {0};
    struct buf *b = &c->resp->body;
    unsigned have = 0;
    char when[40];
    int r;

    if (need_user(c, name, sizeof(name), role, sizeof(role)) < 0)
        return;
    if (c->rq->body_len && read_strings(c->rq, keys, vals, caps, 2, &have, &pe) < 0) {
        answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        return;
    }
    if (have & 2) {
        if (config_parse_duration(ttl_s, &ttl) < 0 || ttl < LIMIT_TOKEN_TTL_MIN ||
            ttl > LIMIT_TOKEN_TTL_MAX) {
            answer_error(c, 400, "ttl is a duration of 1s to 366d, such as \"12h\" or \"90d\"", -1,
                         "ttl");
            return;
        }
        exp = token_expiry(c, ttl);
    }
    if (auth_token_new(tok, th) < 0) {
        answer_error(c, 500, "no randomness for a token", -1, NULL);
        return;
    }
    {
        struct user_change u = {.id = c->p[0],
                                .label = (have & 1) ? label : NULL,
                                .hash = th,
                                .hash_len = sizeof(th),
                                .now_us = c->rq->now_us,
                                .expires_us = exp,
                                .op = 't'};
        snprintf(obj, sizeof(obj), "user/%s", name);
        if ((r = casefile_change(&c->ctx->cf, c->user, "token.add", obj, user_apply, &u, &e)) <
            0) {
            sodium_memzero(tok, sizeof(tok));
            answer_cf(c, r, &e);
            return;
        }
        time_format_iso(c->rq->now_us, when, sizeof(when));
        r = buf_printf(b, "{\"id\":%lld,\"user\":", (long long)u.new_id);
    }
    if (r == 0)
        r = buf_json_str(b, name, strlen(name));
    if (r == 0)
        r = buf_puts(b, ",\"label\":");
    if (r == 0)
        r = json_str_or_null(b, (have & 1) ? label : NULL);
    if (r == 0)
        r = buf_printf(b, ",\"created\":\"%s\",\"token\":\"%s\"", when, tok);
    time_format_iso(exp, when, sizeof(when));
    if (r == 0)
        r = buf_printf(b, ",\"expires\":\"%s\"}", when);
    sodium_memzero(tok, sizeof(tok));
    answer_json(c, 201, r);
}

static void r_token_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    struct user_change u = {.id = c->p[0], .op = 'r'};
    unsigned char th[AUTH_TOKEN_HASHLEN], mine[AUTH_TOKEN_HASHLEN];
    int64_t uid = 0;
    char *label = NULL, obj[64];
    int r = store_token_get(c->ctx->cf.st, c->p[0], &uid, &label, th, sizeof(th));

    free(label);
    if (r < 0) {
        answer_store(c, r);
        return;
    }
    /* Revoking the token of this very request is a logout: DELETE session. */
    if (auth_token_hash(c->token, strlen(c->token), mine) == 0 &&
        sodium_memcmp(mine, th, sizeof(th)) == 0) {
        answer_error(c, 422, "this is the token of your own request: log out instead", -1, NULL);
        return;
    }
    snprintf(obj, sizeof(obj), "token/%lld", (long long)c->p[0]);
    if ((r = casefile_change(&c->ctx->cf, c->user, "token.revoke", obj, user_apply, &u, &e)) < 0) {
        answer_cf(c, r, &e);
        return;
    }
    answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
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
static void r_supp_lift(struct api_call *c)
{
    struct casefile_err e = {0};
    struct lift l = {c->p[0], c->user, c->rq->now_us};
    char obj[64];
    int r;

    snprintf(obj, sizeof(obj), "suppression/%lld", (long long)c->p[0]);
    if ((r = casefile_change(&c->ctx->cf, c->user, "suppression.lift", obj, lift_apply, &l, &e)) <
        0) {
        answer_cf(c, r, &e);
        return;
    }
    r = store_supp_json(c->ctx->cf.st, c->p[0], c->rq->now_us, &c->resp->body);
    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, 200, 0);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */


/* ------------------------------------------------------------------ */
/* Responses and blocks                                                */

static void r_responses(struct api_call *c)
{
    struct store_resp_filter f = {.state = query_str(c, "state"),
                                  .address = query_str(c, "address")};
    int64_t inc;
    size_t n = 0;
    int r;

    if (page(c, &f.limit, &f.offset) < 0)
        return;
    if (query_int(c, "incident", 1, INT64_MAX, 0, &inc) < 0) {
        answer_error(c, 400, "incident must be an incident id", -1, NULL);
        return;
    }
    f.incident_id = inc;
    r = buf_puts(&c->resp->body, "{\"responses\":[");
    if (r == 0 && (r = store_resps_json(c->ctx->cf.st, &f, &c->resp->body, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)f.limit, (long long)f.offset);
    answer_json(c, 200, r);
}

static void show_response(struct api_call *c, unsigned status)
{
    int r = store_resp_json(c->ctx->cf.st, c->p[0], &c->resp->body);

    if (r < 0)
        answer_store(c, r);
    else
        answer_json(c, status, 0);
}

static void r_response(struct api_call *c)
{
    show_response(c, 200);
}

static void answer_response(struct api_call *c, int approve)
{
    struct casefile_err e = {0};
    int r = casefile_response_answer(&c->ctx->cf, c->p[0], approve, c->user, c->rq->body,
                                     c->rq->body_len, c->rq->now_us, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_response(c, 200);
}

static void r_response_approve(struct api_call *c)
{
    answer_response(c, 1);
}

static void r_response_reject(struct api_call *c)
{
    answer_response(c, 0);
}

static void r_response_lift(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_block_lift(&c->ctx->cf, c->p[0], c->user, c->rq->now_us, &e);

    if (r < 0)
        answer_cf(c, r, &e);
    else
        show_response(c, 202);
}

static void r_blocks(struct api_call *c)
{
    size_t n = 0;
    int r = buf_puts(&c->resp->body, "{\"blocks\":[");

    if (r == 0 && (r = store_blocks_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, &n)) < 0) {
        answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu}", n);
    answer_json(c, 200, r);
}

static const struct api_route api_routes[] = {
    {"GET", "/api/v1/health", AUTH_ROLE_NONE, r_health},
    {"GET", "/api/v1/openapi.json", AUTH_ROLE_NONE, r_openapi},
    {"GET", "/metrics", AUTH_ROLE_NONE, r_metrics},
    {"POST", "/api/v1/login", AUTH_ROLE_NONE, r_login},
    {"POST", "/api/v1/session", AUTH_ROLE_NONE, r_session_new},
    {"GET", "/api/v1/session", AUTH_ROLE_VIEWER, r_session},
    {"DELETE", "/api/v1/session", AUTH_ROLE_VIEWER, r_session_end},
    {"POST", "/api/v1/session/rotate", AUTH_ROLE_VIEWER, r_session_rotate},
    {"GET", "/api/v1/incidents", AUTH_ROLE_VIEWER, r_incidents},
    {"POST", "/api/v1/incidents", AUTH_ROLE_ANALYST, r_incident_create},
    {"GET", "/api/v1/incidents/{id}", AUTH_ROLE_VIEWER, r_incident},
    {"PATCH", "/api/v1/incidents/{id}", AUTH_ROLE_ANALYST, r_incident_patch},
    {"GET", "/api/v1/incidents/{id}/timeline", AUTH_ROLE_VIEWER, r_timeline},
    {"GET", "/api/v1/incidents/{id}/notes", AUTH_ROLE_VIEWER, r_notes},
    {"POST", "/api/v1/incidents/{id}/notes", AUTH_ROLE_ANALYST, r_note_add},
    {"GET", "/api/v1/incidents/{id}/tasks", AUTH_ROLE_VIEWER, r_tasks},
    {"POST", "/api/v1/incidents/{id}/tasks", AUTH_ROLE_ANALYST, r_task_add},
    {"PATCH", "/api/v1/incidents/{id}/tasks/{task}", AUTH_ROLE_ANALYST, r_task_patch},
    {"GET", "/api/v1/incidents/{id}/communications", AUTH_ROLE_VIEWER, r_comms},
    {"POST", "/api/v1/incidents/{id}/communications", AUTH_ROLE_ANALYST, r_comm_add},
    {"GET", "/api/v1/incidents/{id}/reports", AUTH_ROLE_VIEWER, r_reports},
    {"POST", "/api/v1/incidents/{id}/reports", AUTH_ROLE_ANALYST, r_report_add},
    {"GET", "/api/v1/incidents/{id}/reports/{report}", AUTH_ROLE_VIEWER, r_report},
    {"PUT", "/api/v1/incidents/{id}/reports/{report}", AUTH_ROLE_ANALYST, r_report_edit},
    {"GET", "/api/v1/incidents/{id}/alerts", AUTH_ROLE_VIEWER, r_incident_alerts},
    {"GET", "/api/v1/alerts", AUTH_ROLE_VIEWER, r_alerts},
    {"GET", "/api/v1/alerts/{id}/events", AUTH_ROLE_VIEWER, r_alert_events},
    {"POST", "/api/v1/alerts/{id}/ack", AUTH_ROLE_ANALYST, r_alert_ack},
    {"POST", "/api/v1/alerts/{id}/attach", AUTH_ROLE_ANALYST, r_alert_attach},
    {"POST", "/api/v1/alerts/{id}/suppress", AUTH_ROLE_ANALYST, r_alert_suppress},
    {"GET", "/api/v1/suppressions", AUTH_ROLE_VIEWER, r_suppressions},
    {"DELETE", "/api/v1/suppressions/{id}", AUTH_ROLE_ANALYST, r_supp_lift},
    {"GET", "/api/v1/entities", AUTH_ROLE_VIEWER, r_entities},
    {"GET", "/api/v1/assets", AUTH_ROLE_VIEWER, r_assets},
    {"POST", "/api/v1/intake", AUTH_ROLE_ANALYST, r_intake},
    {"GET", "/api/v1/contacts", AUTH_ROLE_VIEWER, r_contacts},
    {"POST", "/api/v1/contacts", AUTH_ROLE_ANALYST, r_contact_add},
    {"GET", "/api/v1/declared-level", AUTH_ROLE_VIEWER, r_declared},
    {"POST", "/api/v1/declared-level", AUTH_ROLE_ADMIN, r_declare},
    {"GET", "/api/v1/risk-meter", AUTH_ROLE_VIEWER, r_risk},
    {"POST", "/api/v1/risk-meter", AUTH_ROLE_ANALYST, r_risk_add},
    {"GET", "/api/v1/responses", AUTH_ROLE_VIEWER, r_responses},
    {"GET", "/api/v1/responses/{id}", AUTH_ROLE_VIEWER, r_response},
    {"POST", "/api/v1/responses/{id}/approve", AUTH_ROLE_ANALYST, r_response_approve},
    {"POST", "/api/v1/responses/{id}/reject", AUTH_ROLE_ANALYST, r_response_reject},
    {"POST", "/api/v1/responses/{id}/lift", AUTH_ROLE_ANALYST, r_response_lift},
    {"GET", "/api/v1/blocks", AUTH_ROLE_VIEWER, r_blocks},
    {"GET", "/api/v1/stats", AUTH_ROLE_VIEWER, r_stats},
    {"GET", "/api/v1/rules", AUTH_ROLE_VIEWER, r_rules},
    {"GET", "/api/v1/users", AUTH_ROLE_ADMIN, r_users},
    {"POST", "/api/v1/users", AUTH_ROLE_ADMIN, r_user_add},
    {"PATCH", "/api/v1/users/{id}", AUTH_ROLE_ADMIN, r_user_patch},
    {"DELETE", "/api/v1/users/{id}", AUTH_ROLE_ADMIN, r_user_delete},
    {"GET", "/api/v1/users/{id}/tokens", AUTH_ROLE_ADMIN, r_tokens},
    {"POST", "/api/v1/users/{id}/tokens", AUTH_ROLE_ADMIN, r_token_add},
    {"DELETE", "/api/v1/tokens/{id}", AUTH_ROLE_ADMIN, r_token_delete},
};

/*
 * Matches `path` against a template; {name} segments take a positive
 * integer of at most 18 digits into p[] (in order).  1 on a match.
 */
static int match_path(const char *tpl, const char *path, int64_t p[2])
{
    int np = 0;

    while (*tpl && *path) {
        if (*tpl == '{') {
            int64_t v = 0;
            size_t n = strspn(path, "0123456789");

            tpl = strchr(tpl, '}');
            if (!tpl || n == 0 || n > 18 || np == 2)
                return 0;
            for (size_t i = 0; i < n; i++)
                v = v * 10 + (path[i] - '0');
            if (v == 0)
                return 0;
            p[np++] = v;
            tpl++;
            path += n;
        } else if (*tpl++ != *path++) {
            return 0;
        }
    }
    return *tpl == '\0' && *path == '\0';
}

/*
 * The user and role of the request's token: the Authorization header's
 * Bearer token, or without that header the console's session cookie.  A
 * cookie comes with every request the browser makes, whoever caused it, so
 * a change made with one must also carry the session's CSRF token
 * (X-CSRF-Token), which only our own pages can read.  -1 when refused (the
 * answer is written).
 */
static int authenticate(struct api_call *c, enum auth_role need)
{
    const char *v = c->rq->authorization;
    struct auth_header ah;
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *user = NULL, *role_s = NULL;
    const char *tok = NULL;
    size_t tok_len = 0;
    int r;

    c->role = AUTH_ROLE_NONE;
    c->by_cookie = !v && c->rq->session;
    r = auth_header_parse(v, v ? strlen(v) : 0, &ah, NULL);
    if (r == 0 && ah.scheme != AUTH_SCHEME_BEARER)
        r = -ENOTSUP;
    if (r == 0)
        tok = ah.token, tok_len = ah.token_len;
    else if (c->by_cookie)
        tok = c->rq->session, tok_len = strlen(c->rq->session), r = 0;
    if (r == 0)
        r = auth_token_hash(tok, tok_len, th);
    if (r == 0) {
        /* Shaped like a token: the length is AUTH_TOKEN_LEN. */
        memcpy(c->token, tok, tok_len);
        c->token[tok_len] = '\0';
    }
    auth_header_done(&ah);
    if (r == 0 && (r = store_token_find(c->ctx->cf.st, th, sizeof(th), &user, &role_s,
                                        &c->expires_us)) == 0 &&
        auth_role_parse(role_s, strlen(role_s), &c->role) < 0)
        c->role = AUTH_ROLE_NONE;
    if (r == 0)
        snprintf(c->user, sizeof(c->user), "%s", user);
    free(user);
    free(role_s);
    if (r == -EBUSY || r == -EIO) {
        answer_store(c, r);
        return -1;
    }
    if (r < 0) {
        answer_error(c, 401,
                     c->by_cookie        ? "the session has expired or ended; log in again"
                     : r == -ENOENT && v ? "invalid, expired or revoked token"
                                         : "a Bearer token is required (hikeshi user add)",
                     -1, NULL);
        return -1;
    }
    if (c->by_cookie && strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0 &&
        auth_csrf_check(c->token, strlen(c->token), c->rq->csrf) < 0) {
        answer_error(c, 403, "missing or wrong CSRF token", -1, NULL);
        return -1;
    }
    if (!auth_role_allows(c->role, need)) {
        char msg[sizeof(c->user) + 64];
        snprintf(msg, sizeof(msg), "%s may not do this: it needs the %s role", c->user,
                 auth_role_name(need));
        answer_error(c, 403, msg, -1, NULL);
        return -1;
    }
    return 0;
}

/* A request body must be JSON. */
static int body_ok(struct api_call *c)
{
    const char *t = c->rq->content_type;

    if (c->rq->body_len == 0)
        return 1;
    if (!t || strncasecmp(t, "application/json", 16) != 0 || (t[16] && t[16] != ';' && t[16] != ' ')) {
        answer_error(c, 415, "the body must be application/json", -1, NULL);
        return 0;
    }
    return 1;
}

void api_dispatch(struct api_ctx *ctx, const struct api_req *rq, struct api_resp *resp)
{
    struct api_call c = {.ctx = ctx, .rq = rq, .resp = resp};
    const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
    int path_known = 0;

    resp->status = 500;
    resp->type = "application/json";
    resp->set_cookie[0] = '\0';
    buf_reset(&resp->body);
    for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
        const struct api_route *rt = &api_routes[i];
        int64_t p[2] = {0, 0};

        if (!match_path(rt->path, rq->path, p))
            continue;
        path_known = 1;
        if (strcmp(method, rt->method) != 0)
            continue;
        c.p[0] = p[0];
        c.p[1] = p[1];
        if (rt->role != AUTH_ROLE_NONE) {
            if (!ctx->cf.st) {
                answer_error(&c, 503, "no store", -1, NULL);
                return;
            }
            if (authenticate(&c, rt->role) < 0 || !body_ok(&c)) {
                sodium_memzero(c.token, sizeof(c.token));
                return;
            }
        }
        rt->fn(&c);
        sodium_memzero(c.token, sizeof(c.token));
        return;
    }
    if (path_known)
        answer_error(&c, 405, "method not allowed", -1, NULL);
    else
        answer_error(&c, 404, "not found", -1, NULL);
}
