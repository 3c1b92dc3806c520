/*
 * casefile_response.c - the response engine's queue in the case file: a
 * pending response approved or rejected by an analyst, and a block asked
 * to be lifted before its expiry (see casefile.h).
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"

static const struct casefile_field answer_fields[] = {
    {"note", CASEFILE_STR, INCIDENT_REASON_MAX, 0},
};

struct answer_ctx {
    int64_t id;
    int approve;
};

static int answer_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                      struct casefile_err *err)
{
    const struct answer_ctx *a = ctx;
    const char *note = t->v[0].s;
    int r = store_resp_decide(cf->st, a->id, a->approve, t->who, note, t->now_us);

    if (r == -ENOENT)
        return casefile_fail(err, r, -1, NULL, "no such response");
    if (r == -ESTALE)
        return casefile_fail(err, r, -1, NULL, "%s: only a pending request can be %s",
                             store_errmsg(cf->st), a->approve ? "approved" : "rejected");
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (buf_printf(&t->details, "{\"response\":%lld,\"note\":", (long long)a->id) < 0 ||
        (note ? buf_json_str(&t->details, note, strlen(note)) : buf_puts(&t->details, "null")) <
            0 ||
        buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    return 0;
}

int casefile_response_answer(const struct casefile *cf, int64_t id, int approve, const char *who,
                             const char *body, size_t len, int64_t now_us, struct casefile_err *err)
{
    struct casefile_val v[CASEFILE_NFIELDS(answer_fields)];
    struct casefile_txn t = {.who = who,
                             .now_us = now_us,
                             .action = approve ? "response.approve" : "response.reject",
                             .details_max = 256,
                             .v = v};
    struct answer_ctx a = {id, approve};
    int r;

    if (len == 0 && approve)
        memset(v, 0, sizeof(v));
    else if ((r = casefile_read_body(body, len, answer_fields, CASEFILE_NFIELDS(v), v, err)) < 0)
        return r;
    snprintf(t.objbuf, sizeof(t.objbuf), "response/%lld", (long long)id);
    if (!approve && (!v[0].have || !v[0].s || !v[0].s[0]))
        r = casefile_fail(err, -EINVAL, -1, "note", "a rejection needs a note saying why");
    else
        r = casefile_run(cf, &t, answer_act, &a, err);
    casefile_vals_free(v, CASEFILE_NFIELDS(v));
    return r;
}

static int lift_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    int64_t id = *(const int64_t *)ctx;
    int r = store_resp_lift_request(cf->st, id, t->who, t->now_us);

    if (r == -ENOENT)
        return casefile_fail(err, r, -1, NULL, "no such response");
    if (r == -ESTALE)
        return casefile_fail(err, r, -1, NULL, "%s", store_errmsg(cf->st));
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (buf_printf(&t->details, "{\"response\":%lld}", (long long)id) < 0)
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    return 0;
}

int casefile_block_lift(const struct casefile *cf, int64_t id, const char *who, int64_t now_us,
                        struct casefile_err *err)
{
    struct casefile_txn t = {
        .who = who, .now_us = now_us, .action = "block.lift_request", .details_max = 128};

    snprintf(t.objbuf, sizeof(t.objbuf), "response/%lld", (long long)id);
    return casefile_run(cf, &t, lift_act, &id, err);
}
