/*
 * casefile_procedure.c - running a procedure box on incidents: its tasks
 * on the checklist, its messages drafted, once per incident and box (see
 * casefile_procedure.h).
 */
#include "incident/casefile_procedure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/audit.h"
#include "incident/casefile_priv.h"
#include "incident/message_case.h"
#include "store/store_procedure.h"

static const struct procedure_set *proc_set;

void casefile_procedure_configure(const struct procedure_set *set)
{
    proc_set = set;
}

const struct procedure_set *casefile_procedure_set(void)
{
    return proc_set;
}

struct run_ctx {
    const struct procedure_box *box; /* a fixed box, or NULL: the incident's own */
    const char *trigger;             /* "declared" or "incident" */
    const struct procedure_box *ran; /* the box that ran, or NULL */
};

/* The box's tasks appended to the checklist and saved; their ids into
 * the audit details. */
static int run_tasks(const struct casefile *cf, struct casefile_txn *t,
                     const struct procedure_box *b, struct casefile_err *err)
{
    struct playbook_checklist cl;
    size_t before;
    int r;

    if ((r = casefile_tasks_load(cf, t->incident, &cl, err)) < 0)
        return r;
    before = cl.n;
    r = playbook_tasks_append(&cl, t->inc.phase, b->tasks, b->ntasks, t->now_us, b->name);
    if (r < 0) {
        r = casefile_fail(err, r, -1, NULL, "the checklist is full (%zu tasks)", cl.n);
        goto out;
    }
    r = buf_puts(&t->details, ",\"tasks\":[");
    for (size_t i = before; r == 0 && i < cl.n; i++) {
        if ((r = casefile_task_save(cf, t->incident, &cl.t[i], err)) < 0)
            goto out;
        r = buf_printf(&t->details, "%s%u", i > before ? "," : "", cl.t[i].id);
    }
    if (r == 0)
        r = buf_putc(&t->details, ']');
    if (r < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
out:
    playbook_checklist_done(&cl);
    return r;
}

static int run_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                   struct casefile_err *err)
{
    struct run_ctx *c = ctx;
    const struct procedure_box *b = c->box;
    char to[200];
    int r;

    if (t->inc.phase == INCIDENT_PHASE_CLOSED)
        return CASEFILE_TXN_NOTHING;
    if (!b)
        b = procedure_box_get(proc_set, t->inc.category, t->inc.level);
    if (!b)
        return CASEFILE_TXN_NOTHING;
    r = store_procedure_run_add(cf->st, t->incident, b->name, t->who, t->now_us);
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (r == 0)
        return CASEFILE_TXN_NOTHING; /* ran before */
    if (buf_printf(&t->details, "{\"incident\":%lld,\"box\":\"%s\",\"trigger\":\"%s\"",
                   (long long)t->incident, b->name, c->trigger) < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    if ((r = run_tasks(cf, t, b, err)) < 0)
        return r;
    if (buf_puts(&t->details, ",\"inform\":[") < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    for (size_t i = 0; i < b->ninform; i++)
        if (buf_printf(&t->details, "%s\"%s\"", i ? "," : "",
                       message_party_name(b->inform[i].party)) < 0)
            return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    if (buf_puts(&t->details, "]}") < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    snprintf(to, sizeof(to), "%s (%s): %zu task%s, %zu message%s to draft", b->name, c->trigger,
             b->ntasks, b->ntasks == 1 ? "" : "s", b->ninform, b->ninform == 1 ? "" : "s");
    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "procedure", NULL, to,
                            err)) < 0)
        return r;
    c->ran = b;
    return 0;
}

/* A draft the disclosure rules refused, or that failed: on the timeline
 * and in the audit log, so that the party is not silently left out. */
static int refused_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                       struct casefile_err *err)
{
    const char *why = ctx;
    int r;

    if ((r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "procedure", NULL, why,
                            err)) < 0)
        return r;
    if (buf_printf(&t->details, "{\"incident\":%lld,\"what\":", (long long)t->incident) < 0 ||
        buf_json_str(&t->details, why, strlen(why)) < 0 || buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

/* The drafts of box b on incident id, after its run committed. */
static int run_drafts(const struct casefile *cf, int64_t id, const struct procedure_box *b,
                      int64_t now_us, struct casefile_err *err)
{
    for (size_t i = 0; i < b->ninform; i++) {
        const struct procedure_inform *in = &b->inform[i];
        struct casefile_err e = {.off = -1};
        uint32_t withheld = 0;
        int64_t msg = 0;
        char why[sizeof(e.msg) + 120];
        int r = message_case_draft_box(cf, id, in->party, in->channel, in->disclose, in->tlp,
                                       "procedure", now_us, &msg, &withheld, &e);

        if (r == 0 && !withheld)
            continue;
        if (r == 0) {
            size_t n;

            n = (size_t)snprintf(why, sizeof(why), "%s: message #%lld to %s leaves out", b->name,
                                 (long long)msg, message_party_name(in->party));
            for (int f = 0; f < MESSAGE_FIELD_COUNT && n < sizeof(why); f++)
                if (withheld & MESSAGE_FIELD_BIT(f))
                    n += (size_t)snprintf(why + n, sizeof(why) - n, " %s",
                                          message_field_name((enum message_field)f));
            if (n < sizeof(why))
                snprintf(why + n, sizeof(why) - n, " (marked above %s)", message_tlp_name(in->tlp));
        } else if (r == -ENOMEM) {
            return casefile_fail(err, r, -1, NULL, "out of memory");
        } else {
            snprintf(why, sizeof(why), "%s: no draft to %s: %s", b->name,
                     message_party_name(in->party), e.msg);
        }
        {
            struct casefile_txn t = {.who = AUDIT_ACTOR_SYSTEM,
                                     .now_us = now_us,
                                     .action = r == 0 ? "procedure.draft_withheld"
                                                      : "procedure.draft_refused",
                                     .incident = id};

            casefile_object(t.objbuf, sizeof(t.objbuf), id);
            if ((r = casefile_run(cf, &t, refused_act, why, err)) < 0)
                return r;
        }
    }
    return 0;
}

static int run_box(const struct casefile *cf, int64_t id, const struct procedure_box *box,
                   const char *trigger, const char *who, int64_t now_us, int *ret_ran,
                   struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "procedure.run", .incident = id};
    struct run_ctx c = {box, trigger, NULL};
    int r;

    if (ret_ran)
        *ret_ran = 0;
    if (!proc_set)
        return 0;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if ((r = casefile_run(cf, &t, run_act, &c, err)) < 0 || !c.ran)
        return r;
    if (ret_ran)
        *ret_ran = 1;
    return run_drafts(cf, id, c.ran, now_us, err);
}

int casefile_procedure_current(const struct casefile *cf, int64_t id, const char *who,
                               int64_t now_us, int *ret_ran, struct casefile_err *err)
{
    return run_box(cf, id, NULL, "incident", who, now_us, ret_ran, err);
}

int casefile_procedure_declared(const struct casefile *cf, enum asset_category cat,
                                enum triage_alert_level level, const char *who, int64_t now_us,
                                size_t *ret_n, struct casefile_err *err)
{
    const struct procedure_box *b = procedure_box_get(proc_set, cat, level);
    int64_t *ids;
    size_t n = 0, ran = 0;
    int r;

    if (ret_n)
        *ret_n = 0;
    if (!b)
        return 0;
    if (!(ids = calloc(CASEFILE_PROCEDURE_SCAN, sizeof(*ids))))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    r = store_procedure_open_incidents(cf->st, incident_category_name(cat), ids,
                                       CASEFILE_PROCEDURE_SCAN, &n);
    if (r < 0)
        r = casefile_store_fail(cf, err, r);
    for (size_t i = 0; r == 0 && i < n; i++) {
        int one = 0;

        r = run_box(cf, ids[i], b, "declared", who, now_us, &one, err);
        ran += (size_t)one;
    }
    free(ids);
    if (ret_n)
        *ret_n = ran;
    return r;
}

/* The defined boxes as ",A-Red,B-Orange," into out. */
static int defined_boxes(struct buf *out)
{
    int r = buf_putc(out, ',');

    for (size_t c = 0; r == 0 && c < PROCEDURES_CATEGORIES; c++)
        for (size_t l = 0; r == 0 && l < PROCEDURES_LEVELS; l++)
            if (proc_set->box[c][l].defined)
                r = buf_printf(out, "%s,", proc_set->box[c][l].name);
    return r;
}

static const struct procedure_box *box_named(const char *name)
{
    for (size_t c = 0; c < PROCEDURES_CATEGORIES; c++)
        for (size_t l = 0; l < PROCEDURES_LEVELS; l++)
            if (proc_set->box[c][l].defined && strcmp(proc_set->box[c][l].name, name) == 0)
                return &proc_set->box[c][l];
    return NULL;
}

int casefile_procedure_due(const struct casefile *cf, int64_t incident_id, const char *who,
                           int64_t now_us, int64_t quiet_us, size_t *ret_n,
                           struct casefile_err *err)
{
    struct store_procedure_due *due;
    struct buf boxes;
    size_t n = 0, ran = 0;
    int r;

    if (ret_n)
        *ret_n = 0;
    if (!proc_set || !proc_set->ndefined)
        return 0;
    buf_init(&boxes, 256);
    if (defined_boxes(&boxes) < 0) {
        buf_done(&boxes);
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    }
    if (!(due = calloc(CASEFILE_PROCEDURE_SCAN, sizeof(*due)))) {
        buf_done(&boxes);
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    }
    r = store_procedure_due(cf->st, boxes.data, incident_id, quiet_us, due, CASEFILE_PROCEDURE_SCAN,
                            &n);
    if (r < 0)
        r = casefile_store_fail(cf, err, r);
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* Own box: whatever the incident's level is when it runs (NULL);
         * declared: that box. */
        const struct procedure_box *b = due[i].declared ? box_named(due[i].box) : NULL;
        int one = 0;

        if (due[i].declared && !b)
            continue;
        r = run_box(cf, due[i].incident_id, b, due[i].declared ? "declared" : "incident", who,
                    now_us, &one, err);
        ran += (size_t)one;
    }
    free(due);
    buf_done(&boxes);
    if (ret_n)
        *ret_n = ran;
    return r;
}

int casefile_procedure_changed(const struct casefile *cf, int64_t id, const char *who,
                               int64_t now_us, struct casefile_err *err)
{
    struct incident inc;
    struct store_incident_row row;
    enum triage_alert_level level;
    char lv[16];
    int r;

    if (!proc_set)
        return 0;
    if ((r = casefile_procedure_due(cf, id, who, now_us, 0, NULL, err)) < 0)
        return r;
    if ((r = casefile_load(cf, id, &inc, &row, err)) < 0)
        return r;
    r = inc.category == ASSET_CAT_NONE
            ? -ENOENT
            : store_procedure_declared_at(cf->st, incident_category_name(inc.category), now_us, lv,
                                          sizeof(lv));
    if (r == 0 && incident_level_from_name(lv, strlen(lv), &level) == 0)
        r = casefile_procedure_declared(cf, inc.category, level, who, now_us, NULL, err);
    else if (r == -ENOENT)
        r = 0;
    else if (r < 0)
        r = casefile_store_fail(cf, err, r);
    incident_done(&inc);
    store_incident_row_done(&row);
    return r;
}

int casefile_procedure_runs_json(const struct casefile *cf, int64_t id, struct buf *out,
                                 struct casefile_err *err)
{
    struct store_incident_row row;
    int r = store_incident_row_get(cf->st, id, &row);

    if (r < 0)
        return r == -ENOENT ? casefile_fail(err, r, -1, NULL, "no such incident")
                            : casefile_store_fail(cf, err, r);
    store_incident_row_done(&row);
    if ((r = buf_putc(out, '[')) < 0 ||
        (r = store_procedure_runs_json(cf->st, id, out, NULL)) < 0 || (r = buf_putc(out, ']')) < 0)
        return casefile_store_fail(cf, err, r);
    return 0;
}
