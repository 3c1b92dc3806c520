/*
 * casefile_tasks.c - the incident's checklist in the case file: the tasks
 * as stored, those a phase brings from the playbook, and the tasks people
 * add, tick and assign (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "util/jp.h"

static int cf_task_load(void *ctx, const struct store_task_rec *t)
{
    struct playbook_checklist *cl = ctx;
    struct playbook_task *pt;
    enum incident_phase ph = INCIDENT_PHASE_NEW;

    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 16;
        struct playbook_task *nt = realloc(cl->t, cap * sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        cl->t = nt;
        cl->cap = cap;
    }
    pt = &cl->t[cl->n];
    memset(pt, 0, sizeof(*pt));
    if (t->phase)
        (void)incident_phase_from_name(t->phase, strlen(t->phase), &ph);
    pt->id = t->id;
    pt->phase = ph;
    pt->required = t->required;
    pt->added = t->added;
    pt->done = t->done;
    pt->done_us = t->done_us;
    pt->due_us = t->due_us;
    if (t->function)
        (void)csf_function_from_name(t->function, strlen(t->function), &pt->function);
    if (!(pt->title = strdup(t->title ? t->title : "")) ||
        !(pt->description = strdup(t->description ? t->description : "")) ||
        !(pt->owner = strdup(t->owner ? t->owner : "")) ||
        (t->assignee && !(pt->assignee = strdup(t->assignee))) ||
        (t->done_by && !(pt->done_by = strdup(t->done_by))) ||
        (t->box && !(pt->box = strdup(t->box)))) {
        free(pt->title);
        free(pt->description);
        free(pt->owner);
        free(pt->assignee);
        free(pt->done_by);
        return -ENOMEM;
    }
    cl->n++;
    if (t->id >= cl->next_id)
        cl->next_id = t->id + 1;
    return 0;
}

int casefile_tasks_load(const struct casefile *cf, int64_t id, struct playbook_checklist *cl,
                        struct casefile_err *err)
{
    int r;

    playbook_checklist_init(cl);
    if ((r = store_tasks_each(cf->st, id, cf_task_load, cl)) < 0) {
        playbook_checklist_done(cl);
        playbook_checklist_init(cl);
        return casefile_store_fail(cf, err, r);
    }
    return 0;
}

int casefile_task_save(const struct casefile *cf, int64_t id, const struct playbook_task *t,
                       struct casefile_err *err)
{
    struct store_task_rec rec = {
        .id = t->id,
        .phase = incident_phase_name(t->phase),
        .title = t->title,
        .description = t->description,
        .owner = t->owner,
        .assignee = t->assignee,
        .done_by = t->done_by,
        .required = t->required,
        .added = t->added,
        .done = t->done,
        .done_us = t->done_us,
        .function = csf_function_name(t->function),
        .due_us = t->due_us,
        .box = t->box,
    };
    int r = store_task_put(cf->st, id, &rec);

    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

int casefile_phase_tasks(const struct casefile *cf, const struct incident *inc,
                         struct playbook_checklist *cl, struct casefile_err *err)
{
    size_t before = cl->n;
    int r;

    if (!cf->playbooks)
        return 0;
    r = playbook_tasks_for(cf->playbooks, inc->type, inc->phase, inc->phase_since_us, cl);
    if (r < 0)
        return casefile_fail(err, r, -1, NULL, "the checklist is full (%zu tasks)", cl->n);
    for (size_t i = before; i < cl->n; i++)
        if ((r = casefile_task_save(cf, (int64_t)inc->id, &cl->t[i], err)) < 0)
            return r;
    return 0;
}

int casefile_tasks_json(const struct casefile *cf, int64_t id, struct buf *out,
                        struct casefile_err *err)
{
    struct store_incident_row row;
    int r = store_incident_row_get(cf->st, id, &row);

    if (r < 0)
        return r == -ENOENT ? casefile_fail(err, r, -1, NULL, "no such incident")
                            : casefile_store_fail(cf, err, r);
    store_incident_row_done(&row);
    if ((r = buf_putc(out, '[')) < 0 || (r = store_tasks_json(cf->st, id, out, NULL)) < 0 ||
        (r = buf_putc(out, ']')) < 0)
        return casefile_store_fail(cf, err, r);
    return 0;
}

static const struct casefile_field task_add_fields[] = {
    {"title", CASEFILE_STR, PLAYBOOK_TITLE_MAX, 1},
    {"description", CASEFILE_STR, PLAYBOOK_TEXT_MAX, 0},
    {"owner", CASEFILE_STR, PLAYBOOK_ROLE_MAX, 0},
    {"required", CASEFILE_BOOL, 0, 0},
};

static int task_add_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                        struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    struct playbook_checklist cl;
    uint32_t *tid = ctx;
    int r;

    if ((r = casefile_tasks_load(cf, t->incident, &cl, err)) < 0)
        return r;
    if (t->inc.phase == INCIDENT_PHASE_CLOSED)
        r = casefile_fail(err, -EDOM, -1, NULL, "the incident is closed: reopen it first");
    else if ((r = playbook_task_add(&cl, t->inc.phase, v[0].s, v[1].s, v[2].s, v[3].have && v[3].b,
                                    tid)) < 0)
        r = casefile_fail(err, r == -ENOMEM ? r : -EINVAL, -1, NULL, "%s",
                          r == -E2BIG ? "the checklist is full" : "the task is not valid");
    if (r == 0)
        r = casefile_task_save(cf, t->incident, playbook_task_get(&cl, *tid), err);
    playbook_checklist_done(&cl);
    if (r == 0)
        r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "task", NULL, v[0].s, err);
    if (r == 0 && casefile_details(&t->details, &t->inc, "task", v[0].s) < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "the task is too long to audit");
    return r;
}

int casefile_task_add(const struct casefile *cf, int64_t id, const char *who, const char *body,
                      size_t len, int64_t now_us, uint32_t *ret_task, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(task_add_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "task.add", .incident = id, .v = v};
    uint32_t tid = 0;
    int r;

    if ((r = casefile_read_body(body, len, task_add_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if ((r = casefile_nonempty(task_add_fields, v, 0, err)) == 0 &&
        (r = casefile_run(cf, &t, task_add_act, &tid, err)) == 0)
        *ret_task = tid;
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

int casefile_task_evidence_need(const struct casefile *cf, int64_t id, uint32_t task,
                                char *ret_collect, size_t cap, int *ret_needs, int *ret_done,
                                struct casefile_err *err)
{
    const struct playbook_task_def *def;
    const struct playbook_task *pt;
    struct store_incident_row row;
    struct playbook_checklist cl;
    struct incident inc;
    int r;

    ret_collect[0] = '\0';
    *ret_needs = 0;
    *ret_done = 0;
    if ((r = casefile_load(cf, id, &inc, &row, err)) < 0)
        return r;
    if ((r = casefile_tasks_load(cf, id, &cl, err)) == 0) {
        if (!(pt = playbook_task_get(&cl, task))) {
            r = casefile_fail(err, -ENOENT, -1, NULL, "no such task");
        } else if ((*ret_done = pt->done),
                   (def = playbook_task_def_find(cf->playbooks, inc.type, pt))) {
            *ret_needs = def->needs_evidence || def->collect;
            if (def->collect)
                snprintf(ret_collect, cap, "%s", def->collect);
        }
        playbook_checklist_done(&cl);
    }
    incident_done(&inc);
    store_incident_row_done(&row);
    return r;
}

static const struct casefile_field task_upd_fields[] = {
    {"done", CASEFILE_BOOL, 0, 0},
    {"assignee", CASEFILE_STR_NULL, INCIDENT_NAME_MAX, 0},
};

/* 0 when the incident has what task `pt` needs to be ticked: for a
 * playbook task with needs_evidence, an item of the evidence register
 * linked to it; for a collect task, one registered for that step (its
 * record's "collection").  -EEXIST (a conflict: 409) with the sentence
 * otherwise. */
static int task_evidence_ok(const struct casefile *cf, struct casefile_txn *t,
                            const struct playbook_task *pt, struct casefile_err *err)
{
    const struct playbook_task_def *def = playbook_task_def_find(cf->playbooks, t->inc.type, pt);
    struct jp_span doc, rec, v;
    struct jp_iter it;
    struct buf items;
    size_t n = 0;
    int r, found = 0;

    if (!def || (!def->needs_evidence && !def->collect))
        return 0;
    buf_init(&items, 64 * 1024 * 1024);
    r = buf_putc(&items, '[');
    if (r == 0 && (r = store_evidence_items(cf->st, t->incident, &items, &n)) < 0) {
        buf_done(&items);
        return casefile_store_fail(cf, err, r);
    }
    r = r ? r : buf_putc(&items, ']');
    if (r == 0 && jp_doc(items.data, items.len, &doc, NULL) == 0 && jp_iter_init(&it, doc) == 0)
        while (!found && jp_iter_next(&it, NULL, &rec) == 1)
            found = !def->collect ||
                    (jp_lookup(rec, "collection", &v) == 0 && v.len == strlen(def->collect) + 2 &&
                     memcmp(v.p + 1, def->collect, v.len - 2) == 0);
    buf_done(&items);
    if (found)
        return 0;
    if (def->collect)
        return casefile_fail(err, -EEXIST, -1, "done",
                             "this task is step %s of a collection plan: it is done by "
                             "registering what it collected (POST "
                             "/api/v1/incidents/%lld/tasks/%u/evidence)",
                             def->collect, (long long)t->incident, pt->id);
    return casefile_fail(err, -EEXIST, -1, "done",
                         "this task needs an evidence item linked to the incident first "
                         "(hikeshi evidence add --incident %lld, POST /api/v1/evidence, or "
                         "POST /api/v1/incidents/%lld/tasks/%u/evidence)",
                         (long long)t->incident, (long long)t->incident, pt->id);
}

/* Ticks and/or assigns `task` of the loaded checklist, then saves it with
 * its timeline entry and audit details. */
struct task_ref {
    uint32_t task;
    int64_t item; /* > 0: done with this evidence item (EV-item) */
};

static int task_change(const struct casefile *cf, struct casefile_txn *t,
                       struct playbook_checklist *cl, const struct task_ref *ref,
                       struct casefile_err *err)
{
    uint32_t task = ref->task;
    const struct casefile_val *v = t->v;
    const struct playbook_task *pt;
    char what[128];
    int r = 0;

    if (!playbook_task_get(cl, task))
        return casefile_fail(err, -ENOENT, -1, NULL, "no such task");
    if (t->inc.phase == INCIDENT_PHASE_CLOSED)
        return casefile_fail(err, -EDOM, -1, NULL, "the incident is closed: reopen it first");
    if (ref->item > 0 && playbook_task_get(cl, task)->done)
        return casefile_fail(err, -ESTALE, -1, NULL, "the task is done already");
    if (v[0].have && v[0].b && (r = task_evidence_ok(cf, t, playbook_task_get(cl, task), err)) < 0)
        return r;
    if (v[0].have && (r = playbook_task_tick(cl, task, v[0].b, t->who, t->now_us)) < 0)
        return casefile_fail(err, r == -ENOMEM ? r : -EINVAL, -1, "done",
                             "the task cannot be ticked");
    if (v[1].have && (r = playbook_task_assign(cl, task, v[1].is_null ? NULL : v[1].s)) < 0)
        return casefile_fail(err, r == -ENOMEM ? r : -EINVAL, -1, "assignee", "bad assignee");
    pt = playbook_task_get(cl, task);
    if (ref->item > 0)
        snprintf(what, sizeof(what), "%u done with EV-%lld", task, (long long)ref->item);
    else
        snprintf(what, sizeof(what), "%u %s%s%s", task,
                 v[0].have ? (v[0].b ? "done" : "not done") : "",
                 v[0].have && v[1].have ? ", " : "",
                 v[1].have ? (v[1].is_null ? "unassigned" : "assigned") : "");
    r = casefile_task_save(cf, t->incident, pt, err);
    if (r == 0)
        r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "task", pt->title, what,
                           err);
    if (r == 0 && casefile_details(&t->details, &t->inc, "task", what) < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return r;
}

static int task_update_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                           struct casefile_err *err)
{
    struct playbook_checklist cl;
    int r;

    if ((r = casefile_tasks_load(cf, t->incident, &cl, err)) < 0)
        return r;
    r = task_change(cf, t, &cl, ctx, err);
    playbook_checklist_done(&cl);
    return r;
}

int casefile_task_update(const struct casefile *cf, int64_t id, uint32_t task, const char *who,
                         const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(task_upd_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "task.update", .incident = id, .v = v};
    struct task_ref ref = {task, 0};
    int r;

    if ((r = casefile_read_body(body, len, task_upd_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    if (!v[0].have && !v[1].have)
        r = casefile_fail(err, -EINVAL, -1, NULL, "give done and/or assignee");
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if (r == 0)
        r = casefile_run(cf, &t, task_update_act, &ref, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

int casefile_task_done_with(const struct casefile *cf, int64_t id, uint32_t task, const char *who,
                            int64_t item, int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(task_upd_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "task.update", .incident = id, .v = v};
    struct task_ref ref = {task, item};

    memset(v, 0, sizeof(v));
    v[0].have = 1;
    v[0].b = 1;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    return casefile_run(cf, &t, task_update_act, &ref, err);
}
