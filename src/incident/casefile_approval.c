/*
 * casefile_approval.c - answering the responsible person's approval queue
 * (issue 25, docs/incident.md "The responsible person"): a request an
 * analyst made (casefile_lead.c kept its PATCH body) approved, which
 * applies it as sent through casefile_update_in, or rejected with a note.
 * Apart from casefile_lead.c so that the case file's files call each
 * other in one direction: this one calls both.
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "incident/casefile_procedure.h"

static const struct casefile_field answer_fields[] = {
    {"note", CASEFILE_STR, INCIDENT_REASON_MAX, 0},
};

struct answer_ctx {
    int64_t id;
    int approve;
    enum casefile_rank rank;
    const char *note;
    int64_t incident; /* filled by answer_act */
};

static int answer_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    struct answer_ctx *a = ctx;
    char *state = NULL, *requester = NULL, *body = NULL, *change = NULL;
    int64_t incident = 0;
    int r;

    r = store_approval_get(cf->st, a->id, &incident, &state, &requester, &body);
    a->incident = incident;
    if (r == -ENOENT)
        return casefile_fail(err, r, -1, NULL, "no such approval");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (strcmp(state, "pending") != 0) {
        r = casefile_fail(err, -ESTALE, -1, NULL,
                          "approval %lld is %s: only a pending one can be %s", (long long)a->id,
                          state, a->approve ? "approved" : "rejected");
        goto out;
    }
    if (a->approve) {
        r = casefile_update_in(cf, t, incident, body, strlen(body), a->rank, requester, NULL, err);
        if (r == CASEFILE_TXN_NOTHING)
            r = 0;
        if (r < 0)
            goto out;
        /* casefile_update_in wrote the change's details: they go inside
         * the approval's own. */
        if (t->details.len && !(change = strndup(t->details.data, t->details.len))) {
            r = casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
            goto out;
        }
        t->details.len = 0;
    } else {
        struct incident inc;
        struct store_incident_row row;

        /* The same people reject as approve. */
        if ((r = casefile_load(cf, incident, &inc, &row, err)) < 0)
            goto out;
        if (!casefile_lead_may_decide(&inc, t->who, a->rank))
            r = casefile_fail(err, -EACCES, -1, NULL, "only %s may answer this request",
                              inc.responsible ? inc.responsible : "a lead or an admin");
        incident_done(&inc);
        store_incident_row_done(&row);
        if (r < 0)
            goto out;
    }
    r = store_approval_decide(cf->st, a->id, a->approve ? "approved" : "rejected", t->who,
                              t->now_us, a->note);
    if (r < 0) {
        r = r == -ESTALE ? casefile_fail(err, r, -1, NULL, "approval %lld is no longer pending",
                                         (long long)a->id)
                         : casefile_store_fail(cf, err, r);
        goto out;
    }
    t->action = a->approve ? "approval.approve" : "approval.reject";
    snprintf(t->objbuf, sizeof(t->objbuf), "approval/%lld", (long long)a->id);
    if (buf_printf(&t->details, "{\"approval\":%lld,\"incident\":%lld,\"requested_by\":",
                   (long long)a->id, (long long)incident) < 0 ||
        buf_json_str(&t->details, requester, strlen(requester)) < 0 ||
        buf_puts(&t->details, ",\"note\":") < 0 ||
        (a->note ? buf_json_str(&t->details, a->note, strlen(a->note))
                 : buf_puts(&t->details, "null")) < 0 ||
        buf_printf(&t->details, ",\"change\":%s}", change ? change : "null") < 0)
        r = casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
out:
    free(change);
    free(state);
    free(requester);
    free(body);
    return r;
}

int casefile_approval_answer(const struct casefile *cf, int64_t id, int approve, const char *who,
                             enum casefile_rank rank, const char *body, size_t len, int64_t now_us,
                             struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(answer_fields)];
    struct casefile_txn t = {.who = who, .now_us = now_us, .action = "approval.answer", .v = v};
    struct answer_ctx a = {id, approve, rank, NULL, 0};
    int r;

    if (len == 0 && approve)
        memset(v, 0, sizeof(v));
    else if ((r = casefile_read_body(body, len, answer_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    a.note = v[0].have ? v[0].s : NULL;
    if (!approve && (!a.note || !a.note[0]))
        r = casefile_fail(err, -EINVAL, -1, "note", "a rejection needs a note saying why");
    else
        r = casefile_run(cf, &t, answer_act, &a, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    /* An approved level or category may put the incident in a new box. */
    if (r == 0 && approve && a.incident > 0)
        r = casefile_procedure_changed(cf, a.incident, who, now_us, err);
    return r;
}
