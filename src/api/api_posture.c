/*
 * api_posture.c - the team's standing, in the API: contacts, the declared
 * alert level, the risk meter, and the tabletop exercise in progress (so
 * that the console can tell analysts that what they see is an exercise).
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "store/store.h"

void api_posture_contacts(struct api_call *c)
{
    API_UTIL_LIST_OBJECT(c, "contacts", store_contacts_json(c->ctx->cf.st, &c->resp->body, NULL));
}

void api_posture_contact_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int64_t id = 0;
    int r = casefile_contact_add(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us,
                                 &id, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_contact_json(c->ctx->cf.st, id, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

/* PATCH /api/v1/contacts/{id}: the contact as it is now. */
void api_posture_contact_patch(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_contact_update(&c->ctx->cf, c->p[0], c->user, c->rq->body, c->rq->body_len,
                                    c->rq->now_us, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_contact_json(c->ctx->cf.st, c->p[0], &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 200, 0);
}

/* DELETE /api/v1/contacts/{id}: {"ok": true}. */
void api_posture_contact_delete(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_contact_delete(&c->ctx->cf, c->p[0], c->user, c->rq->now_us, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    api_util_answer_json(c, 200, buf_puts(&c->resp->body, "{\"ok\":true}"));
}

void api_posture_declared(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    int r = buf_puts(b, "{\"current\":");

    if (r == 0 && (r = store_declared_current_json(c->ctx->cf.st, b)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, ",\"history\":[");
    if (r == 0 && (r = store_declared_history_json(c->ctx->cf.st, b, NULL)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    api_util_answer_json(c, 200, r);
}

void api_posture_declare(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_declare(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_declared_last_json(c->ctx->cf.st, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

void api_posture_risk(struct api_call *c)
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
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_puts(b, "]}");
    api_util_answer_json(c, 200, r);
}

void api_posture_risk_add(struct api_call *c)
{
    struct casefile_err e = {0};
    int r =
        casefile_risk_add(&c->ctx->cf, c->user, c->rq->body, c->rq->body_len, c->rq->now_us, &e);

    if (r < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if ((r = store_risk_json(c->ctx->cf.st, 1, &c->resp->body, NULL)) < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, 201, 0);
}

/* The exercise in progress and its last injects for the console's banner
 * (docs/exercise.md): {"run": RUN, "messages": [...]}, or {"run": null,
 * "messages": []} when none runs. */
void api_posture_exercise(struct api_call *c)
{
    struct buf *b = &c->resp->body;
    size_t at = b->len;
    int r = store_exercise_active_json(c->ctx->cf.st, b);

    if (r < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (b->len - at == 4 && memcmp(b->data + at, "null", 4) == 0) {
        b->len = at;
        r = buf_puts(b, "{\"run\":null,\"messages\":[]}");
    }
    api_util_answer_json(c, 200, r);
}
