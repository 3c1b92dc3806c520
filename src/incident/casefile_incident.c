/*
 * casefile_incident.c - the incident itself in the case file: shown (the
 * record with triage's links, deadline and proposal), listed, created and
 * updated through the record's JSON forms (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/time.h"
#include "incident/casefile_priv.h"

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Writes the incident shown by the API (the record's JSON with deadline
 * and triage appended). */
static int cf_show(const struct casefile *cf, struct incident *inc,
                   const struct store_incident_row *row, int64_t now_us, struct buf *out)
{
    struct incident_deadline dl;
    char due[40] = "";
    int r;

    if ((r = casefile_merge_triage(cf, inc, row)) < 0)
        return r;
    incident_deadline(inc, cf->targets, now_us, &dl);
    if (dl.has_target) {
        time_t t = (time_t)(dl.due_us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(due, sizeof(due), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if ((r = incident_to_json(inc, out)) < 0)
        return r;
    /* Replace the closing brace with the extra members. */
    out->len--;
    if (dl.has_target)
        r = buf_printf(out,
                       ",\"deadline\":{\"has_target\":true,\"due\":\"%s\",\"left_seconds\":%lld,"
                       "\"overdue\":%s,\"due_soon\":%s},\"triage\":",
                       due, (long long)(dl.left_us / 1000000), dl.overdue ? "true" : "false",
                       dl.due_soon ? "true" : "false");
    else
        r = buf_puts(out, ",\"deadline\":{\"has_target\":false},\"triage\":");
    if (r < 0)
        return r;
    if (row->entity_key && row->entity_key[0])
        r = store_incident_get_json(cf->st, row->id, out);
    else
        r = buf_puts(out, "null");
    return r < 0 ? r : buf_putc(out, '}');
}

int casefile_incident_json(const struct casefile *cf, int64_t id, int64_t now_us, struct buf *out,
                           struct casefile_err *err)
{
    struct incident inc;
    struct store_incident_row row;
    int r;

    if ((r = casefile_load(cf, id, &inc, &row, err)) < 0)
        return r;
    r = cf_show(cf, &inc, &row, now_us, out);
    incident_done(&inc);
    store_incident_row_done(&row);
    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

/* The case file's phase targets as the store names them (those > 0) into
 * tg (room for STORE_TARGETS_MAX); how many. */
static size_t cf_targets(const struct incident_targets *it, struct store_target *tg)
{
    size_t n = 0;

    for (unsigned p = 0; p < INCIDENT_PHASE_COUNT; p++)
        for (unsigned c = 0; c < 5; c++)
            for (unsigned l = 0; l < 4; l++) {
                if (it->target_us[p][c][l] <= 0 || n >= STORE_TARGETS_MAX)
                    continue;
                tg[n++] = (struct store_target){
                    .phase = incident_phase_name((enum incident_phase)p),
                    .category = c ? incident_category_name((enum asset_category)c) : "",
                    .level = triage_level_name((enum triage_alert_level)l),
                    .us = it->target_us[p][c][l],
                };
            }
    return n;
}

int casefile_list_json(const struct casefile *cf, const struct store_incident_filter *f,
                       enum casefile_order order, int overdue, int64_t now_us, struct buf *out,
                       size_t *ret_n, struct casefile_err *err)
{
    /* Overdue is computed here, so the store lists the open ones in pages
     * and the page is cut after the check. */
    struct store_incident_filter pf = *f;
    struct store_target tg[STORE_TARGETS_MAX];
    int64_t ids[100];
    size_t n, shown = 0;
    int64_t skipped = 0;
    int r;

    *ret_n = 0;
    pf.targets = NULL;
    pf.ntargets = 0;
    if (order == CASEFILE_ORDER_URGENT && cf->targets) {
        pf.ntargets = cf_targets(cf->targets, tg);
        pf.targets = tg;
    }
    if (overdue) {
        pf.offset = 0;
        pf.limit = (int64_t)(sizeof(ids) / sizeof(ids[0]));
    } else if (f->limit > (int64_t)(sizeof(ids) / sizeof(ids[0]))) {
        pf.limit = (int64_t)(sizeof(ids) / sizeof(ids[0]));
    }
    for (;;) {
        if ((r = store_incident_ids(cf->st, &pf, overdue, ids, sizeof(ids) / sizeof(ids[0]), &n)) <
            0)
            return casefile_store_fail(cf, err, r);
        for (size_t i = 0; i < n && (int64_t)shown < f->limit; i++) {
            struct incident inc;
            struct store_incident_row row;
            size_t mark = out->len;

            if ((r = casefile_load(cf, ids[i], &inc, &row, err)) < 0)
                return r;
            if (overdue) {
                struct incident_deadline dl;
                incident_deadline(&inc, cf->targets, now_us, &dl);
                if (!dl.overdue || skipped++ < f->offset) {
                    incident_done(&inc);
                    store_incident_row_done(&row);
                    continue;
                }
            }
            r = shown ? buf_putc(out, ',') : 0;
            if (r == 0)
                r = cf_show(cf, &inc, &row, now_us, out);
            incident_done(&inc);
            store_incident_row_done(&row);
            if (r < 0) {
                out->len = mark;
                return casefile_store_fail(cf, err, r);
            }
            shown++;
        }
        if ((int64_t)shown >= f->limit || n < (size_t)pf.limit)
            break;
        pf.offset += (int64_t)n;
        if (!overdue)
            pf.limit = f->limit - (int64_t)shown < pf.limit ? f->limit - (int64_t)shown : pf.limit;
    }
    *ret_n = shown;
    return 0;
}

struct near {
    int64_t id, left_us;
};

static int near_cmp(const void *a, const void *b)
{
    const struct near *x = a, *y = b;

    if (x->left_us != y->left_us)
        return x->left_us < y->left_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int casefile_near_target_json(const struct casefile *cf, int64_t now_us, size_t max,
                              struct buf *out, size_t *ret_n, struct casefile_err *err)
{
    struct store_incident_filter f = {.limit = 100};
    struct near *v = NULL;
    size_t nv = 0, shown = 0;
    int64_t ids[100];
    size_t n;
    int r = 0;

    *ret_n = 0;
    if (!(v = calloc(CASEFILE_NEAR_SCAN, sizeof(*v))))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    /* First the deadlines of the open ones, then the soonest shown. */
    while (nv < CASEFILE_NEAR_SCAN) {
        if ((r = store_incident_ids(cf->st, &f, 1, ids, 100, &n)) < 0) {
            r = casefile_store_fail(cf, err, r);
            goto out;
        }
        for (size_t i = 0; i < n && nv < CASEFILE_NEAR_SCAN; i++) {
            struct incident inc;
            struct store_incident_row row;
            struct incident_deadline dl;

            if ((r = casefile_load(cf, ids[i], &inc, &row, err)) < 0)
                goto out;
            incident_deadline(&inc, cf->targets, now_us, &dl);
            if (dl.has_target)
                v[nv++] = (struct near){ids[i], dl.left_us};
            incident_done(&inc);
            store_incident_row_done(&row);
        }
        if (n < 100)
            break;
        f.offset += 100;
    }
    qsort(v, nv, sizeof(*v), near_cmp);
    for (size_t i = 0; i < nv && shown < max; i++) {
        struct incident inc;
        struct store_incident_row row;
        struct incident_deadline dl;
        char due[40];

        if ((r = casefile_load(cf, v[i].id, &inc, &row, err)) < 0)
            goto out;
        incident_deadline(&inc, cf->targets, now_us, &dl);
        time_format_iso(dl.due_us, due, sizeof(due));
        r = buf_printf(out, "%s{\"id\":%lld,\"title\":", shown ? "," : "", (long long)v[i].id);
        if (r == 0)
            r = buf_json_str(out, inc.title, strlen(inc.title));
        if (r == 0)
            r = buf_printf(out,
                           ",\"phase\":\"%s\",\"level\":\"%s\",\"category\":\"%s\","
                           "\"due\":\"%s\",\"left_seconds\":%lld,\"overdue\":%s}",
                           incident_phase_name(inc.phase), triage_level_name(inc.level),
                           incident_category_name(inc.category), due,
                           (long long)(dl.left_us / 1000000), dl.overdue ? "true" : "false");
        incident_done(&inc);
        store_incident_row_done(&row);
        if (r < 0) {
            r = casefile_fail(err, r, -1, NULL, "answer too large");
            goto out;
        }
        shown++;
    }
    *ret_n = shown;
out:
    free(v);
    return r;
}

/* ------------------------------------------------------------------ */
/* Changing an incident                                                */

/* Saves the record if nobody saved another since row was read. */
static int cf_save(const struct casefile *cf, const struct incident *inc,
                   const struct store_incident_row *row, struct casefile_err *err)
{
    struct store_record_cols cols = {
        .type = triage_type_name(inc->type),
        .level = triage_level_name(inc->level),
        .category = inc->category != ASSET_CAT_NONE ? incident_category_name(inc->category) : NULL,
        .phase = incident_phase_name(inc->phase),
    };
    struct buf b;
    int r;

    buf_init(&b, INCIDENT_JSON_MAX);
    if ((r = incident_to_json(inc, &b)) == 0 && (r = buf_putc(&b, '\0')) == 0)
        r = store_record_put(cf->st, row->id, b.data, inc->version, row->version, &cols);
    buf_done(&b);
    if (r == -ESTALE)
        return casefile_fail(err, r, -1, NULL,
                             "the incident changed since it was read; read it again");
    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

static int cf_timeline(const struct casefile *cf, int64_t id, const struct incident_change *c,
                       struct casefile_err *err)
{
    int r = store_timeline_add(cf->st, id, c->time_us, c->version, c->who, c->what,
                               c->from[0] ? c->from : NULL, c->to[0] ? c->to : NULL, c->reason);
    return r < 0 ? casefile_store_fail(cf, err, r) : 0;
}

/*
 * Applies the timeline entries `ch` of one update to the store, enforces
 * the required-task gate when the phase changed, and creates the new
 * phase's tasks.  `old_phase` is the phase before the update.
 */
/* -EDOM when inc (changed from old_phase) leaves a phase whose required
 * tasks in cl are open. */
static int cf_gate(const struct incident *inc, enum incident_phase old_phase,
                   const struct playbook_checklist *cl, struct casefile_err *err)
{
    /* Closing early (false positive, duplicate) and reopening skip the
     * gate: their reason is the record. */
    int early_close = inc->phase == INCIDENT_PHASE_CLOSED && old_phase != INCIDENT_PHASE_WATCH &&
                      old_phase != INCIDENT_PHASE_FULL_RESPONSE;
    char why[400];

    if (inc->phase != old_phase && !early_close && old_phase != INCIDENT_PHASE_CLOSED &&
        playbook_checklist_blocking(cl, old_phase, why, sizeof(why)) > 0)
        return casefile_fail(err, -EDOM, -1, "phase", "cannot leave %s: %s",
                             incident_phase_name(old_phase), why);
    return 0;
}

static int cf_apply(const struct casefile *cf, struct incident *inc,
                    const struct store_incident_row *row, enum incident_phase old_phase,
                    const struct incident_change *ch, size_t nch, struct buf *details,
                    struct casefile_err *err)
{
    struct playbook_checklist cl;
    int r, nleak = 0;

    if ((r = casefile_tasks_load(cf, (int64_t)inc->id, &cl, err)) < 0)
        return r;
    if ((r = cf_gate(inc, old_phase, &cl, err)) < 0) {
        playbook_checklist_done(&cl);
        return r;
    }
    if ((r = cf_save(cf, inc, row, err)) < 0)
        goto out;
    for (size_t i = 0; ch && i < nch; i++)
        if ((r = cf_timeline(cf, (int64_t)inc->id, &ch[i], err)) < 0)
            goto out;
    if (inc->phase != old_phase && (r = casefile_phase_tasks(cf, inc, &cl, err)) < 0)
        goto out;
    if ((nleak = casefile_leak_tasks(cf, inc, ch, nch, &cl, err)) < 0) {
        r = nleak;
        goto out;
    }
    r = buf_printf(details, "{\"incident\":%llu,\"version\":%llu,\"changes\":[",
                   (unsigned long long)inc->id, (unsigned long long)inc->version);
    for (size_t i = 0; ch && r == 0 && i < nch; i++) {
        r = buf_printf(details, "%s{\"what\":", i ? "," : "");
        if (r == 0)
            r = buf_json_str(details, ch[i].what, strlen(ch[i].what));
        if (r == 0)
            r = buf_puts(details, ",\"from\":");
        if (r == 0)
            r = buf_json_str(details, ch[i].from, strlen(ch[i].from));
        if (r == 0)
            r = buf_puts(details, ",\"to\":");
        if (r == 0)
            r = buf_json_str(details, ch[i].to, strlen(ch[i].to));
        if (r == 0)
            r = buf_putc(details, '}');
    }
    if (r == 0)
        r = buf_putc(details, ']');
    if (r == 0 && nleak > 0)
        r = buf_printf(details, ",\"leak_tasks\":%d", nleak);
    if (r == 0)
        r = buf_putc(details, '}');
    if (r < 0)
        r = casefile_fail(err, r, -1, NULL, "the change is too large to audit");
out:
    playbook_checklist_done(&cl);
    return r;
}

static const struct casefile_field create_fields[] = {
    {"title", CASEFILE_STR, INCIDENT_TITLE_MAX, 1},
    {"summary", CASEFILE_STR, INCIDENT_SUMMARY_MAX, 0},
    {"type", CASEFILE_STR, 64, 0},
    {"detection_method", CASEFILE_STR, 64, 0},
    {"leak_type", CASEFILE_STR, 32, 0},
    {"category", CASEFILE_STR, 8, 0},
    {"level", CASEFILE_STR, 16, 0},
    {"tags", CASEFILE_STRV, INCIDENT_NAME_MAX, 0},
};

/* Opens an incident (no triage row) of `who` with the fields of an
 * update body, in the caller's transaction. */
static int cf_open(const struct casefile *cf, const char *who, const char *json, size_t len,
                   int64_t now_us, struct incident *inc, struct store_incident_row *row,
                   struct incident_change **ret_ch, size_t *ret_nch, struct casefile_err *err)
{
    struct store_record_cols cols = {"none", "Green", NULL, "new"};
    struct parse_err pe = {0};
    char why[400] = "";
    int64_t id;
    int r;

    *ret_ch = NULL;
    *ret_nch = 0;
    memset(row, 0, sizeof(*row));
    memset(inc, 0, sizeof(*inc));
    if ((r = store_incident_new(cf->st, &cols, now_us, &id)) < 0)
        return casefile_store_fail(cf, err, r);
    if ((r = incident_init(inc, (uint64_t)id, now_us)) < 0)
        return casefile_fail(err, r, -1, NULL, "out of memory");
    r = incident_update_json(inc, json, len, who, now_us, ret_ch, ret_nch, &pe, why, sizeof(why));
    if (r < 0) {
        incident_done(inc);
        if (r == -ENOMEM)
            return casefile_fail(err, r, -1, NULL, "out of memory");
        return casefile_fail(err, -EINVAL, (long)pe.off, NULL, "%s", why[0] ? why : pe.msg);
    }
    if (inc->phase != INCIDENT_PHASE_NEW) {
        incident_done(inc);
        free(*ret_ch);
        *ret_ch = NULL;
        return casefile_fail(err, -EINVAL, -1, "phase", "a new incident starts in phase new");
    }
    /* The fields given are the creation, version 1, not changes to it. */
    inc->version = 1;
    for (size_t i = 0; i < *ret_nch; i++)
        (*ret_ch)[i].version = 1;
    row->id = id;
    row->version = 0;
    return 0;
}

struct create_ctx {
    const char *body;
    size_t len;
    enum casefile_rank rank;
    int64_t id, approval;
};

/*
 * An opening at Orange or Red by someone who may not declare it (issue 25,
 * docs/incident.md "The responsible person"): the incident opens at
 * Yellow, the highest level its author may set, and the Orange or Red
 * waits in the lead's queue as the PATCH {"level", "version": 1,
 * "reason"} a lead approves like any other request.  `ch` is cf_open's
 * creation: its level entry is told Yellow with the reason.  The
 * request's audit details are kept in *ret_details (malloc'd) for the
 * creation's entry.
 */
static int create_gate(const struct casefile *cf, struct casefile_txn *t, struct incident *inc,
                       struct incident_change *ch, size_t nch, int64_t *ret_approval,
                       char **ret_details, struct casefile_err *err)
{
    enum triage_alert_level asked = inc->level;
    char what[64], body[200], note[INCIDENT_REASON_MAX + 1];
    int n, r;

    *ret_details = NULL;
    snprintf(what, sizeof(what), "declare %s", triage_level_name(asked));
    n = snprintf(body, sizeof(body),
                 "{\"level\":\"%s\",\"version\":1,\"reason\":\"asked for when opening the "
                 "incident\"}",
                 triage_level_name(asked));
    if (n < 0 || (size_t)n >= sizeof(body))
        return casefile_fail(err, -E2BIG, -1, NULL, "the request does not fit");
    if ((r = casefile_lead_request(cf, t, (int64_t)inc->id, NULL, body, (size_t)n, what,
                                   ret_approval, err)) < 0)
        return r;
    if (!(*ret_details = strndup(t->details.data, t->details.len)))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    buf_reset(&t->details);
    inc->level = TRIAGE_YELLOW;
    snprintf(note, sizeof(note), "%s asked for: waits for a lead (approval %lld)",
             triage_level_name(asked), (long long)*ret_approval);
    for (size_t i = 0; ch && i < nch; i++) {
        if (strcmp(ch[i].what, "level") != 0)
            continue;
        snprintf(ch[i].to, sizeof(ch[i].to), "%s", triage_level_name(TRIAGE_YELLOW));
        if (ch[i].reason[0] == '\0')
            snprintf(ch[i].reason, sizeof(ch[i].reason), "%s", note);
    }
    return 0;
}

int casefile_record_new_as(const struct casefile *cf, struct casefile_txn *t, const char *json,
                           size_t len, enum casefile_rank rank, struct incident *inc,
                           int64_t *ret_approval, char **ret_asked, struct casefile_err *err)
{
    struct store_incident_row row;
    struct incident_change *ch = NULL;
    size_t nch = 0;
    int r;

    *ret_approval = 0;
    *ret_asked = NULL;
    if ((r = cf_open(cf, t->who, json, len, t->now_us, inc, &row, &ch, &nch, err)) < 0)
        return r;
    if (inc->level >= TRIAGE_ORANGE && rank < CASEFILE_RANK_LEAD &&
        (r = create_gate(cf, t, inc, ch, nch, ret_approval, ret_asked, err)) < 0)
        goto out;
    r = cf_apply(cf, inc, &row, INCIDENT_PHASE_NEW, ch, nch, &t->details, err);
    casefile_object(t->objbuf, sizeof(t->objbuf), (int64_t)inc->id);
out:
    free(ch);
    return r;
}

int casefile_record_new(const struct casefile *cf, struct casefile_txn *t, const char *json,
                        size_t len, struct incident *inc, struct casefile_err *err)
{
    int64_t approval;
    char *asked;
    int r =
        casefile_record_new_as(cf, t, json, len, CASEFILE_RANK_ADMIN, inc, &approval, &asked, err);

    free(asked);
    return r;
}

static int create_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct create_ctx *c = ctx;
    struct store_incident_row row;
    struct incident_change *ch = NULL;
    struct incident inc;
    char *asked = NULL;
    size_t nch = 0;
    int r;

    if ((r = cf_open(cf, t->who, c->body, c->len, t->now_us, &inc, &row, &ch, &nch, err)) < 0)
        return r;
    c->id = (int64_t)inc.id;
    if (inc.level >= TRIAGE_ORANGE && c->rank < CASEFILE_RANK_LEAD &&
        (r = create_gate(cf, t, &inc, ch, nch, &c->approval, &asked, err)) < 0)
        goto out;
    r = cf_apply(cf, &inc, &row, INCIDENT_PHASE_NEW, ch, nch, &t->details, err);
    /* One audit entry: the creation, and inside it the request it filed. */
    t->action = "incident.create";
    casefile_object(t->objbuf, sizeof(t->objbuf), (int64_t)inc.id);
    if (r == 0 && asked && t->details.len && t->details.data[t->details.len - 1] == '}') {
        t->details.len--;
        if (buf_printf(&t->details, ",\"approval\":%s}", asked) < 0)
            r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    }
out:
    free(asked);
    free(ch);
    incident_done(&inc);
    return r;
}

int casefile_create_as(const struct casefile *cf, const char *who, enum casefile_rank rank,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_id,
                       int64_t *ret_approval, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(create_fields)];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "incident.create"};
    struct create_ctx c = {body, len, rank, 0, 0};
    int r;

    if (ret_approval)
        *ret_approval = 0;
    /* The table checks names, types and caps; incident_update_json then
     * checks the values against the enumerations. */
    if ((r = casefile_read_body(body, len, create_fields, CASEFILE_NFIELDS(create_fields), v,
                                err)) < 0)
        return r;
    r = casefile_nonempty(create_fields, v, 0, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    if (r < 0 || (r = casefile_run(cf, &t, create_act, &c, err)) < 0)
        return r;
    *ret_id = c.id;
    if (ret_approval)
        *ret_approval = c.approval;
    return 0;
}

int casefile_create(const struct casefile *cf, const char *who, const char *body, size_t len,
                    int64_t now_us, int64_t *ret_id, struct casefile_err *err)
{
    return casefile_create_as(cf, who, CASEFILE_RANK_ADMIN, body, len, now_us, ret_id, NULL, err);
}

/* The PATCH's failure told as casefile.h says: a stale version, an illegal
 * phase change (-EDOM), a bad body. */
static int update_fail(int r, const struct parse_err *pe, const char *why, struct casefile_err *err)
{
    if (r == -ESTALE)
        return casefile_fail(err, r, -1, "version", "%s", why);
    if (r == -ENOMEM)
        return casefile_fail(err, r, -1, NULL, "out of memory");
    if (pe->msg &&
        (strcmp(pe->msg, "illegal phase change") == 0 || strcmp(pe->msg, "change refused") == 0))
        return casefile_fail(err, -EDOM, -1, "phase", "%s", why[0] ? why : pe->msg);
    return casefile_fail(err, r, (long)pe->off, NULL, "%s",
                         why[0]    ? why
                         : pe->msg ? pe->msg
                                   : "bad");
}

/* The PATCH applied to `inc` (loaded, row its row) as casefile_update_in
 * says. */
static int update_apply(const struct casefile *cf, struct casefile_txn *t, struct incident *inc,
                        struct store_incident_row *row, const char *body, size_t len,
                        enum casefile_rank rank, const char *requested_by, int64_t *ret_approval,
                        struct casefile_err *err)
{
    struct incident_change *ch = NULL, *more;
    struct casefile_before before = {inc->phase, inc->level, NULL};
    struct parse_err pe = {0};
    size_t nch = 0;
    char why[600] = "", what[400];
    char reason[INCIDENT_REASON_MAX + 1];
    int r, watch = 0;

    if (inc->responsible && !(before.responsible = strdup(inc->responsible)))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    r = incident_patch_json(inc, body, len, t->who, t->now_us, &ch, &nch, &pe, why, sizeof(why));
    if (r < 0) {
        r = update_fail(r, &pe, why, err);
        goto out;
    }
    if (nch == 0) {
        /* Nothing changed: nothing to save or audit. */
        r = CASEFILE_TXN_NOTHING;
        goto out;
    }
    /* Decisions are the responsible person's (casefile_lead.c); asked by
     * someone else, the request waits in the queue, nothing applied. */
    if (casefile_lead_gated(&before, inc, what, sizeof(what))) {
        struct incident probe = {.responsible = before.responsible};

        if (!casefile_lead_may_decide(&probe, t->who, rank)) {
            struct playbook_checklist cl;

            if (!ret_approval) {
                r = casefile_fail(err, -EACCES, -1, NULL, "only %s may %s",
                                  before.responsible ? before.responsible : "a lead or an admin",
                                  what);
                goto out;
            }
            /* What could not be applied even when approved (required
             * tasks open) is refused now, not queued. */
            if ((r = casefile_tasks_load(cf, (int64_t)inc->id, &cl, err)) < 0)
                goto out;
            r = cf_gate(inc, before.phase, &cl, err);
            playbook_checklist_done(&cl);
            if (r == 0)
                r = casefile_lead_request(cf, t, (int64_t)inc->id, before.responsible, body, len,
                                          what, ret_approval, err);
            goto out;
        }
        if ((r = casefile_lead_check_responsible(cf, inc, err)) < 0)
            goto out;
    }
    if (requested_by) {
        /* An approval: the timeline says whose request it was. */
        for (size_t i = 0; i < nch; i++) {
            size_t off = strlen(ch[i].reason);
            int w = snprintf(reason, sizeof(reason), "%sapproved request of %s", off ? "; " : "",
                             requested_by);

            /* Cut the request's own reason, never whose request it was. */
            if (w > 0 && (size_t)w < sizeof(reason)) {
                if (off + (size_t)w >= sizeof(ch[i].reason))
                    off = sizeof(ch[i].reason) - 1 - (size_t)w;
                memcpy(ch[i].reason + off, reason, (size_t)w + 1);
            }
        }
    }
    if (!(more = realloc(ch, (nch + 1) * sizeof(*ch)))) {
        r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
        goto out;
    }
    ch = more;
    memset(&ch[nch], 0, sizeof(ch[nch]));
    if ((r = casefile_lead_watch(cf, &before, inc, t->who, t->now_us, &ch[nch], &watch, err)) < 0)
        goto out;
    nch += (size_t)watch;
    /* One accepted request is one version, however many fields it
     * changed: the version a client holds names a state it has seen. */
    inc->version = row->version ? row->version + 1 : 2;
    for (size_t i = 0; i < nch; i++)
        ch[i].version = inc->version;
    r = cf_apply(cf, inc, row, before.phase, ch, nch, &t->details, err);
    if (r == 0 && inc->phase != before.phase)
        t->action = "incident.phase";
    /* The category's declaration that leaving the emergency phase made
     * (casefile_lead_watch) is in the same audit entry. */
    if (r == 0 && casefile_lead_declares(&before, inc) && t->details.len &&
        t->details.data[t->details.len - 1] == '}') {
        t->details.len--;
        if (buf_printf(&t->details, ",\"declared\":{\"category\":\"%s\",\"level\":\"Yellow\"}}",
                       incident_category_name(inc->category)) < 0)
            r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    }
out:
    free(ch);
    free(before.responsible);
    return r;
}

int casefile_update_in(const struct casefile *cf, struct casefile_txn *t, int64_t id,
                       const char *body, size_t len, enum casefile_rank rank,
                       const char *requested_by, int64_t *ret_approval, struct casefile_err *err)
{
    struct incident inc;
    struct store_incident_row row;
    int r;

    if ((r = casefile_load(cf, id, &inc, &row, err)) < 0)
        return r;
    casefile_object(t->objbuf, sizeof(t->objbuf), id);
    r = update_apply(cf, t, &inc, &row, body, len, rank, requested_by, ret_approval, err);
    incident_done(&inc);
    store_incident_row_done(&row);
    return r;
}

struct update_ctx {
    const char *body;
    size_t len;
    enum casefile_rank rank;
    int64_t id, approval;
    int queue; /* 0: a decision not the caller's is refused, not kept */
};

static int update_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct update_ctx *u = ctx;

    return casefile_update_in(cf, t, u->id, u->body, u->len, u->rank, NULL,
                              u->queue ? &u->approval : NULL, err);
}

int casefile_update_as(const struct casefile *cf, int64_t id, const char *who,
                       enum casefile_rank rank, const char *body, size_t len, int64_t now_us,
                       int64_t *ret_approval, struct casefile_err *err)
{
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "incident.update"};
    struct update_ctx u = {body, len, rank, id, 0, ret_approval != NULL};
    int r;

    if (ret_approval)
        *ret_approval = 0;
    if (len > CASEFILE_BODY_MAX)
        return casefile_fail(err, -EINVAL, -1, NULL, "request body too large");
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    r = casefile_run(cf, &t, update_act, &u, err);
    if (r == 0 && ret_approval)
        *ret_approval = u.approval;
    return r;
}

int casefile_update(const struct casefile *cf, int64_t id, const char *who, const char *body,
                    size_t len, int64_t now_us, struct casefile_err *err)
{
    return casefile_update_as(cf, id, who, CASEFILE_RANK_ADMIN, body, len, now_us, NULL, err);
}
