/*
 * api_incidents.c - the incident resource of the API: the list, one
 * incident, its timeline, notes, tasks, communications and reports, and
 * the intake form that opens one.  Decisions belong to the case file
 * (incident/casefile.h); a handler turns the request into its calls.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "incident/casefile_procedure.h"
#include "incident/incident.h"
#include "store/store.h"
#include "triage/triage.h"
#include "util/log.h"

/* ------------------------------------------------------------------ */
/* Incidents                                                           */

void api_incidents_list(struct api_call *c)
{
    struct store_incident_filter f = {
        .type = api_util_query_str(c, "type"),
        .phase = api_util_query_str(c, "phase"),
        .level = api_util_query_str(c, "level"),
    };
    struct casefile_err e = {0};
    int64_t overdue;
    const char *sort;
    size_t n = 0;
    int r;

    if (api_util_page(c, &f.limit, &f.offset) < 0)
        return;
    /* Exact names only: a misspelt filter is an error, not an empty list. */
    {
        enum triage_type t;
        enum incident_phase ph;
        enum triage_alert_level l;

        if (f.type && incident_type_from_name(f.type, strlen(f.type), &t) < 0) {
            api_util_answer_error(c, 400, "unknown incident type", -1, "type");
            return;
        }
        if (f.phase && incident_phase_from_name(f.phase, strlen(f.phase), &ph) < 0) {
            api_util_answer_error(
                c, 400, "phase is new, first_aid, emergency, watch, full_response or closed", -1,
                "phase");
            return;
        }
        if (f.level && (incident_level_from_name(f.level, strlen(f.level), &l) < 0 ||
                        strcmp(f.level, triage_level_name(l)) != 0)) {
            api_util_answer_error(c, 400, "level is Green, Yellow, Orange or Red", -1, "level");
            return;
        }
    }
    if (api_util_query_int(c, "overdue", 0, 1, 0, &overdue) < 0) {
        api_util_answer_error(c, 400, "overdue is 0 or 1", -1, "overdue");
        return;
    }
    sort = api_util_query_str(c, "sort");
    if (sort && strcmp(sort, "urgent") != 0 && strcmp(sort, "newest") != 0) {
        api_util_answer_error(c, 400,
                              "sort is urgent (level, Red first, then the nearest deadline) or "
                              "newest",
                              -1, "sort");
        return;
    }
    r = buf_puts(&c->resp->body, "{\"incidents\":[");
    if (r == 0 &&
        (r = casefile_list_json(&c->ctx->cf, &f,
                                sort && strcmp(sort, "newest") == 0 ? CASEFILE_ORDER_NEWEST
                                                                    : CASEFILE_ORDER_URGENT,
                                (int)overdue, c->rq->now_us, &c->resp->body, &n, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)f.limit, (long long)f.offset);
    api_util_answer_json(c, 200, r);
}

/* Answers with incident `id` as it is now. */
static void show_incident(struct api_call *c, unsigned status, int64_t id)
{
    struct casefile_err e = {0};
    int r;

    buf_reset(&c->resp->body);
    if ((r = casefile_incident_json(&c->ctx->cf, id, c->rq->now_us, &c->resp->body, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    api_util_answer_json(c, status, 0);
}

void api_incidents_incident(struct api_call *c)
{
    show_incident(c, 200, c->p[0]);
}

/* Runs incident id's own box (level x category, casefile_procedure.h)
 * and the box of its category's declared level unless they ran, and after
 * a change (changed 1) the box a declaration the change made (leaving the
 * emergency phase: Yellow) on the category's open incidents.  The request
 * itself succeeded and is answered as such; a box that could not run is
 * logged and runs on the escalation clock's next tick, or the next change
 * or declaration (nothing of it was kept). */
static void run_box(struct api_call *c, int64_t id, int changed)
{
    struct casefile_err e = {.off = -1};
    int r = changed ? casefile_procedure_changed(&c->ctx->cf, id, c->user, c->rq->now_us, &e)
                    : casefile_procedure_due(&c->ctx->cf, id, c->user, c->rq->now_us, 0, NULL, &e);

    if (r < 0)
        log_warnx("procedures: incident %lld: a box did not run: %s", (long long)id, e.msg);
}

void api_incidents_incident_create(struct api_call *c)
{
    struct casefile_err e = {0};
    struct buf *b = &c->resp->body;
    int64_t id = 0, approval = 0;
    int r = casefile_create_as(&c->ctx->cf, c->user, api_util_rank(c), c->rq->body, c->rq->body_len,
                               c->rq->now_us, &id, &approval, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    run_box(c, id, 0);
    /* An Orange or Red the caller may not declare (issue 25): the incident
     * is open at Yellow, and the answer carries the request waiting for a
     * lead, as a PATCH's 202 does. */
    buf_reset(b);
    if ((r = casefile_incident_json(&c->ctx->cf, id, c->rq->now_us, b, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (approval > 0 && b->len && b->data[b->len - 1] == '}') {
        b->len--;
        r = buf_puts(b, ",\"approval\":");
        if (r == 0)
            r = store_approval_json(c->ctx->cf.st, approval, b);
        if (r == 0)
            r = buf_putc(b, '}');
    }
    api_util_answer_json(c, 201, r);
}

void api_incidents_incident_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t approval = 0;
    int r = casefile_update_as(&c->ctx->cf, c->p[0], c->user, api_util_rank(c), c->rq->body,
                               c->rq->body_len, c->rq->now_us, &approval, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else if (approval > 0) /* a decision of the responsible person's: queued */
        api_util_answer_json(c, 202, store_approval_json(c->ctx->cf.st, approval, &c->resp->body));
    else {
        /* A new level or category may put it in a box not run yet. */
        run_box(c, c->p[0], 1);
        show_incident(c, 200, c->p[0]);
    }
}

void api_incidents_timeline(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "timeline",
                             store_timeline_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

void api_incidents_notes(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "notes",
                             store_notes_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

void api_incidents_note_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t note = 0;
    int r = casefile_note_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &note, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    r = store_note_json(c->ctx->cf.st, note, &c->resp->body);
    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

void api_incidents_tasks(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = buf_puts(&c->resp->body, "{\"tasks\":");

    if (r == 0 && (r = casefile_tasks_json(&c->ctx->cf, c->p[0], &c->resp->body, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    api_util_answer_json(c, 200, r);
}

/* Answers with task `task` of incident c->p[0]. */
static void show_task(struct api_call *c, unsigned status, uint32_t task)
{
    int r;

    buf_reset(&c->resp->body);
    if ((r = store_task_json(c->ctx->cf.st, c->p[0], task, &c->resp->body)) < 0) {
        if (r == -ENOENT)
            api_util_answer_error(c, 404, "no such task", -1, NULL);
        else
            api_util_answer_store(c, r);
        return;
    }
    api_util_answer_json(c, status, 0);
}

void api_incidents_task_add(struct api_call *c)
{
    struct casefile_err e = {0};
    uint32_t task = 0;
    int r = casefile_task_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &task, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_task(c, 201, task);
}

void api_incidents_task_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int r;

    if (c->p[1] > UINT32_MAX) {
        api_util_answer_error(c, 404, "no such task", -1, NULL);
        return;
    }
    r = casefile_task_update(&c->ctx->cf, c->p[0], (uint32_t)c->p[1], c->user, c->rq->body,
                             c->rq->body_len, c->rq->now_us, &e);
    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_task(c, 200, (uint32_t)c->p[1]);
}

void api_incidents_comms(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "communications",
                             store_comms_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

void api_incidents_comm_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_comm_add(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                              c->rq->now_us, &id, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_comm_json(c->ctx->cf.st, id, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

void api_incidents_reports(struct api_call *c)
{
    if (api_util_need_incident(c) == 0)
        API_UTIL_LIST_OBJECT(c, "reports",
                             store_reports_json(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

static void show_report_meta(struct api_call *c, unsigned status, int64_t rid)
{
    int r = store_report_meta_json(c->ctx->cf.st, c->p[0], rid, &c->resp->body);

    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, status, 0);
}

void api_incidents_report_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t rid = 0;
    int r = casefile_report_create(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                   c->rq->now_us, &rid, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_report_meta(c, 201, rid);
}

void api_incidents_report_edit(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t rid = 0;
    int r = casefile_report_edit(&c->ctx->cf, c->p[0], c->p[1], c->user, c->rq->body,
                                 c->rq->body_len, c->rq->now_us, &rid, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_report_meta(c, 201, rid);
}

void api_incidents_report(struct api_call *c)
{
    const char *fmt = api_util_query_str(c, "format");
    char *kind = NULL, *md = NULL, *html = NULL;
    struct buf *b = &c->resp->body;
    int r;

    if (fmt && strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0) {
        api_util_answer_error(c, 400, "format is md or html", -1, "format");
        return;
    }
    r = store_report_text(c->ctx->cf.st, c->p[0], c->p[1], &kind, &md, &html);
    if (r == -ENOENT) {
        api_util_answer_error(c, 404, "no such report", -1, NULL);
        return;
    }
    if (r < 0) {
        api_util_answer_store(c, r);
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
        api_util_answer_json(c, 200, r);
    }
    free(kind);
    free(md);
    free(html);
}

/* ------------------------------------------------------------------ */
/* Intake, contacts, declared level, risk meter                        */

void api_incidents_intake(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r =
        casefile_intake(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us, &id, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    run_box(c, id, 0);
    show_incident(c, 201, id);
}
