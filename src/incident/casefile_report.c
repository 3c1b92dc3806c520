/*
 * casefile_report.c - the incident's reports in the case file: generated
 * from the record, its timeline and checklist (report.h), and edited by
 * hand as new versions (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "incident/report.h"
#include "util/jp.h"

/* Timeline entries kept for a report. */
#define CF_REPORT_TIMELINE_MAX 2048
/* Evidence items, and custody entries of each, listed in a final report. */
#define CF_REPORT_EVIDENCE_MAX 256
#define CF_REPORT_CUSTODY_MAX 64

static const struct casefile_field report_fields[] = {
    {"kind", CASEFILE_STR, 16, 1},
    {"threats", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"known", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"social_threat", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"evidence", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"scope", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"lessons", CASEFILE_STR, CASEFILE_NOTE_MAX, 0},
    {"recommended_level", CASEFILE_STR, 16, 0},
    {"revised_level", CASEFILE_STR, 16, 0},
};
#define REPORT_NFIELDS CASEFILE_NFIELDS(report_fields)

struct cf_tl {
    struct incident_change *c;
    size_t n;
};

static void cf_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int cf_tl_add(void *ctx, const struct store_timeline_rec *t)
{
    struct cf_tl *tl = ctx;
    struct incident_change *c;

    if (tl->n >= CF_REPORT_TIMELINE_MAX)
        return 0;
    c = &tl->c[tl->n++];
    c->time_us = t->time_us;
    c->version = t->version;
    cf_copy(c->who, sizeof(c->who), t->who);
    cf_copy(c->what, sizeof(c->what), t->what);
    cf_copy(c->from, sizeof(c->from), t->from);
    cf_copy(c->to, sizeof(c->to), t->to);
    cf_copy(c->reason, sizeof(c->reason), t->reason);
    return 0;
}

static int cf_level_arg(const struct casefile_val *v, const char *name, int *ret,
                        struct casefile_err *err)
{
    enum triage_alert_level l;

    *ret = -1;
    if (!v->have)
        return 0;
    if (incident_level_from_name(v->s, strlen(v->s), &l) < 0)
        return casefile_fail(err, -EINVAL, -1, name, "%s is Green, Yellow, Orange or Red", name);
    *ret = (int)l;
    return 0;
}

/* ---- the evidence register's items of the incident (final report) ---- */

/* The text lines of the final report's evidence: every string lives in
 * `text` (NUL-separated), placed by offset until cf_ev_fix. */
struct cf_ev {
    struct buf text;
    struct report_evidence *items;
    size_t nitems;
    size_t *off;   /* per line: its offset in text (an item's, then its custody's) */
    size_t *first; /* per item: the index of its line */
    const char **lines;
    size_t nlines;
};

static void cf_ev_done(struct cf_ev *ev)
{
    buf_done(&ev->text);
    free(ev->items);
    free(ev->off);
    free(ev->first);
    free(ev->lines);
}

/* One field of a record as text ("-" when absent), into b. */
static int cf_ev_field(struct jp_span obj, const char *key, struct buf *b)
{
    struct jp_span v;

    if (jp_lookup(obj, key, &v) < 0 || jp_text(v, b, 0) != 0)
        return buf_puts(b, "-");
    return 0;
}

/* Starts a new line of text; its offset is recorded. */
static int cf_ev_line(struct cf_ev *ev)
{
    if (ev->nlines && buf_putc(&ev->text, '\0') < 0)
        return -E2BIG;
    ev->off[ev->nlines++] = ev->text.len;
    return 0;
}

/* "TIME ACTOR ACTION: details" of one custody entry. */
static int cf_ev_custody_line(struct cf_ev *ev, struct jp_span e)
{
    struct buf *b = &ev->text;
    struct jp_span d, v;
    int r = cf_ev_line(ev);

    r = r ? r : cf_ev_field(e, "time", b);
    r = r ? r : buf_putc(b, ' ');
    r = r ? r : cf_ev_field(e, "actor", b);
    r = r ? r : buf_putc(b, ' ');
    r = r ? r : cf_ev_field(e, "action", b);
    if (r == 0 && jp_lookup(e, "details", &d) == 0) {
        if (jp_lookup(e, "action", &v) == 0 && jp_key_is(v, "transfer")) {
            r = buf_puts(b, ": ");
            r = r ? r : cf_ev_field(d, "from", b);
            r = r ? r : buf_puts(b, " -> ");
            r = r ? r : cf_ev_field(d, "to", b);
            r = r ? r : buf_puts(b, " (");
            r = r ? r : cf_ev_field(d, "reason", b);
            r = r ? r : buf_putc(b, ')');
        } else if (jp_lookup(d, "result", &v) == 0) {
            r = buf_puts(b, ": ");
            r = r ? r : cf_ev_field(d, "result", b);
        } else if (jp_lookup(d, "custodian", &v) == 0) {
            r = buf_puts(b, ": custodian ");
            r = r ? r : cf_ev_field(d, "custodian", b);
        }
    }
    if (r == 0 && jp_lookup(e, "hash", &v) == 0 && v.len == 66)
        r = buf_printf(b, " [entry %.16s]", v.p + 1);
    return r;
}

/* "EV-1 pcap NAME, N bytes, SHA-256 X, acquired by A on H with T". */
static int cf_ev_item_line(struct cf_ev *ev, struct jp_span rec)
{
    struct buf *b = &ev->text;
    struct jp_span acq;
    int r = cf_ev_line(ev);

    r = r ? r : cf_ev_field(rec, "id", b);
    r = r ? r : buf_putc(b, ' ');
    r = r ? r : cf_ev_field(rec, "kind", b);
    r = r ? r : buf_putc(b, ' ');
    r = r ? r : cf_ev_field(rec, "name", b);
    r = r ? r : buf_puts(b, ", ");
    r = r ? r : cf_ev_field(rec, "size", b);
    r = r ? r : buf_puts(b, " bytes, SHA-256 ");
    r = r ? r : cf_ev_field(rec, "sha256", b);
    r = r ? r : buf_puts(b, ", ");
    r = r ? r : cf_ev_field(rec, "storage", b);
    if (r == 0 && jp_lookup(rec, "acquisition", &acq) == 0) {
        r = buf_puts(b, ", acquired by ");
        r = r ? r : cf_ev_field(acq, "by", b);
        r = r ? r : buf_puts(b, " on ");
        r = r ? r : cf_ev_field(acq, "host", b);
        r = r ? r : buf_puts(b, " with ");
        r = r ? r : cf_ev_field(acq, "tool", b);
    }
    return r;
}

/* An item's number from its record's id ("EV-N"); 0 when unreadable. */
static int64_t cf_ev_number(struct jp_span rec)
{
    struct jp_span v;
    char s[32];
    long long n;

    if (jp_lookup(rec, "id", &v) < 0 || v.len < 6 || v.len > 24 || memcmp(v.p, "\"EV-", 4) != 0)
        return 0;
    snprintf(s, sizeof(s), "%.*s", (int)(v.len - 5), v.p + 4);
    n = strtoll(s, NULL, 10);
    return n > 0 ? n : 0;
}

/* Loads the items linked to `incident` and their custody logs as lines. */
static int cf_ev_load(const struct casefile *cf, int64_t incident, struct cf_ev *ev)
{
    struct buf items, cust;
    struct jp_span doc, rec, e;
    struct jp_iter it, ct;
    size_t nmax = CF_REPORT_EVIDENCE_MAX * (CF_REPORT_CUSTODY_MAX + 1);
    int r;

    memset(ev, 0, sizeof(*ev));
    buf_init(&ev->text, REPORT_MAX_BYTES);
    buf_init(&items, 64 * 1024 * 1024);
    buf_init(&cust, 64 * 1024 * 1024);
    ev->items = calloc(CF_REPORT_EVIDENCE_MAX, sizeof(*ev->items));
    ev->off = calloc(nmax, sizeof(*ev->off));
    ev->first = calloc(CF_REPORT_EVIDENCE_MAX, sizeof(*ev->first));
    ev->lines = calloc(nmax, sizeof(*ev->lines));
    r = ev->items && ev->off && ev->first && ev->lines ? buf_putc(&items, '[') : -ENOMEM;
    if (r == 0 && (r = store_evidence_items(cf->st, incident, &items, NULL)) < 0)
        goto out;
    r = r ? r : buf_putc(&items, ']');
    if (r == 0 && (jp_doc(items.data, items.len, &doc, NULL) < 0 || jp_iter_init(&it, doc) < 0))
        r = -EBADMSG;
    while (r == 0 && ev->nitems < CF_REPORT_EVIDENCE_MAX && jp_iter_next(&it, NULL, &rec) == 1) {
        size_t n = 0;
        int64_t id = cf_ev_number(rec);

        ev->first[ev->nitems] = ev->nlines;
        if ((r = cf_ev_item_line(ev, rec)) < 0)
            break;
        buf_reset(&cust);
        r = buf_putc(&cust, '[');
        if (r == 0 && id > 0 && (r = store_evidence_custody(cf->st, id, &cust, NULL)) < 0)
            break;
        r = r ? r : buf_putc(&cust, ']');
        if (r == 0 && (jp_doc(cust.data, cust.len, &doc, NULL) < 0 || jp_iter_init(&ct, doc) < 0))
            r = -EBADMSG;
        while (r == 0 && n < CF_REPORT_CUSTODY_MAX && jp_iter_next(&ct, NULL, &e) == 1) {
            r = cf_ev_custody_line(ev, e);
            n++;
        }
        ev->items[ev->nitems++].ncustody = n;
    }
    r = r ? r : buf_putc(&ev->text, '\0');
    if (r == 0) {
        /* The text no longer moves: offsets become pointers. */
        for (size_t i = 0; i < ev->nlines; i++)
            ev->lines[i] = ev->text.data + ev->off[i];
        for (size_t i = 0; i < ev->nitems; i++) {
            ev->items[i].item = ev->lines[ev->first[i]];
            ev->items[i].custody = &ev->lines[ev->first[i] + 1];
        }
    }
out:
    buf_done(&items);
    buf_done(&cust);
    return r;
}

/* What a report request asks, checked before the transaction. */
struct report_req {
    enum report_kind kind;
    int rec, rev; /* recommended and revised level, or -1 */
    int64_t id;   /* the report made */
};

/* Generates the report of the loaded incident (the caller's rep) from
 * its record, checklist `cl` and timeline. */
static int report_make(const struct casefile *cf, struct casefile_txn *t,
                       const struct report_req *q, const struct playbook_checklist *cl,
                       const struct cf_tl *tl, struct report *rep, struct casefile_err *err)
{
    const struct casefile_val *v = t->v;
    size_t nalerts = t->inc.nalerts;
    struct cf_ev ev;
    char summary[128];
    int64_t ver = 0;
    int r;

    snprintf(summary, sizeof(summary), "%zu aggregated alert%s linked", nalerts,
             nalerts == 1 ? "" : "s");
    struct report_input in = {
        .inc = &t->inc,
        .timeline = tl->c,
        .ntimeline = tl->n,
        .tasks = cl,
        .alerts_summary = summary,
        .threats = v[1].s,
        .known = v[2].s,
        .social_threat = v[3].s,
        .evidence = v[4].s,
        .scope = v[5].s,
        .lessons = v[6].s,
        .recommended_level = q->rec,
        .revised_level = q->rev,
    };
    memset(&ev, 0, sizeof(ev));
    if (q->kind == REPORT_FINAL) {
        if ((r = cf_ev_load(cf, t->incident, &ev)) < 0) {
            cf_ev_done(&ev);
            return r == -EBADMSG || r == -E2BIG || r == -ENOMEM
                       ? casefile_fail(err, r, -1, NULL,
                                       "the evidence register's items cannot be listed: %s",
                                       strerror(-r))
                       : casefile_store_fail(cf, err, r);
        }
        in.evidence_items = ev.items;
        in.nevidence_items = ev.nitems;
    }
    /* The version shown in the text is the one the store gives next;
     * inside this transaction nobody else adds one. */
    if ((r = store_report_next_version(cf->st, t->incident, report_kind_id(q->kind), &ver)) < 0)
        r = casefile_store_fail(cf, err, r);
    else if ((r = report_generate(&in, q->kind, (unsigned)ver, t->who, t->now_us, rep)) < 0)
        r = casefile_fail(err, r, -1, NULL, "the report cannot be generated: %s", strerror(-r));
    cf_ev_done(&ev);
    return r;
}

static int report_create_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                             struct casefile_err *err)
{
    struct report_req *q = ctx;
    struct playbook_checklist cl;
    struct cf_tl tl = {0};
    struct report rep;
    int r, got_cl = 0;

    memset(&rep, 0, sizeof(rep));
    if ((r = casefile_merge_triage(cf, &t->inc, &t->row)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0 && (r = casefile_tasks_load(cf, t->incident, &cl, err)) == 0)
        got_cl = 1;
    if (r == 0 && !(tl.c = calloc(CF_REPORT_TIMELINE_MAX, sizeof(*tl.c))))
        r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0 && (r = store_timeline_each(cf->st, t->incident, cf_tl_add, &tl)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0)
        r = report_make(cf, t, q, &cl, &tl, &rep, err);
    if (r == 0 && (buf_putc(&rep.markdown, '\0') < 0 || buf_putc(&rep.html, '\0') < 0))
        r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    if (r == 0 && (r = store_report_add(cf->st, t->incident, report_kind_id(q->kind), 0, t->who,
                                        t->now_us, rep.markdown.data, rep.html.data, &q->id)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0)
        r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "report", NULL,
                           report_kind_name(q->kind), err);
    if (r == 0 && casefile_details(&t->details, &t->inc, "report", report_kind_id(q->kind)) < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    report_done(&rep);
    if (got_cl)
        playbook_checklist_done(&cl);
    free(tl.c);
    return r;
}

int casefile_report_create(const struct casefile *cf, int64_t id, const char *who, const char *body,
                           size_t len, int64_t now_us, int64_t *ret_report,
                           struct casefile_err *err)
{
    struct casefile_val v[REPORT_NFIELDS];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "report.create", .incident = id, .v = v};
    struct report_req q = {REPORT_FIRST, -1, -1, 0};
    int r, found = 0;

    if ((r = casefile_read_body(body, len, report_fields, REPORT_NFIELDS, v, err)) < 0)
        return r;
    for (int k = 0; k < REPORT_KIND_COUNT; k++)
        if (strcmp(v[0].s, report_kind_id((enum report_kind)k)) == 0) {
            q.kind = (enum report_kind)k;
            found = 1;
        }
    if (!found)
        r = casefile_fail(err, -EINVAL, -1, "kind", "kind is first, interim1, interim2 or final");
    if (r == 0)
        r = cf_level_arg(&v[7], "recommended_level", &q.rec, err);
    if (r == 0)
        r = cf_level_arg(&v[8], "revised_level", &q.rev, err);
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if (r == 0 && (r = casefile_run(cf, &t, report_create_act, &q, err)) == 0)
        *ret_report = q.id;
    casefile_vals_free(v, REPORT_NFIELDS);
    return r;
}

static const struct casefile_field report_edit_fields[] = {
    {"markdown", CASEFILE_STR, CASEFILE_BODY_MAX, 1},
};

struct report_edit {
    int64_t report; /* the report edited */
    int64_t *ret_report;
};

static int report_edit_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                           struct casefile_err *err)
{
    struct report_edit *e = ctx;
    char *kind = NULL, *md = NULL, *html = NULL;
    int r = store_report_text(cf->st, t->incident, e->report, &kind, &md, &html);

    if (r == -ENOENT)
        r = casefile_fail(err, r, -1, NULL, "no such report");
    else if (r < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0 && (r = store_report_add(cf->st, t->incident, kind, 1, t->who, t->now_us, t->v[0].s,
                                        NULL, e->ret_report)) < 0)
        r = casefile_store_fail(cf, err, r);
    if (r == 0)
        r = casefile_event(cf, t->incident, &t->inc, t->now_us, t->who, "report", NULL, "edited",
                           err);
    if (r == 0 && casefile_details(&t->details, &t->inc, "report", kind) < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    free(kind);
    free(md);
    free(html);
    return r;
}

int casefile_report_edit(const struct casefile *cf, int64_t id, int64_t report, const char *who,
                         const char *body, size_t len, int64_t now_us, int64_t *ret_report,
                         struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(report_edit_fields)];
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "report.edit", .incident = id, .v = v};
    struct report_edit e = {report, ret_report};
    int r;

    if ((r = casefile_read_body(body, len, report_edit_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    if ((r = casefile_nonempty(report_edit_fields, v, 0, err)) == 0)
        r = casefile_run(cf, &t, report_edit_act, &e, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}
