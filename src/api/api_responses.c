/*
 * api_responses.c - the response engine's record in the API: responses
 * (list, one, approve, reject, lift) and the addresses blocked now.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "store/store.h"

/* ------------------------------------------------------------------ */
/* Responses and blocks                                                */

void api_responses_list(struct api_call *c)
{
    struct store_resp_filter f = {.state = api_util_query_str(c, "state"),
                                  .address = api_util_query_str(c, "address")};
    int64_t inc;
    size_t n = 0;
    int r;

    if (api_util_page(c, &f.limit, &f.offset) < 0)
        return;
    if (api_util_query_int(c, "incident", 1, INT64_MAX, 0, &inc) < 0) {
        api_util_answer_error(c, 400, "incident must be an incident id", -1, NULL);
        return;
    }
    f.incident_id = inc;
    r = buf_puts(&c->resp->body, "{\"responses\":[");
    if (r == 0 && (r = store_resps_json(c->ctx->cf.st, &f, &c->resp->body, &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu,\"limit\":%lld,\"offset\":%lld}", n,
                       (long long)f.limit, (long long)f.offset);
    api_util_answer_json(c, 200, r);
}

static void show_response(struct api_call *c, unsigned status)
{
    int r = store_resp_json(c->ctx->cf.st, c->p[0], &c->resp->body);

    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, status, 0);
}

void api_responses_response(struct api_call *c)
{
    show_response(c, 200);
}

static void answer_response(struct api_call *c, int approve)
{
    struct casefile_err e = {0};
    int r = casefile_response_answer(&c->ctx->cf, c->p[0], approve, c->user, c->rq->body,
                                     c->rq->body_len, c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_response(c, 200);
}

void api_responses_response_approve(struct api_call *c)
{
    answer_response(c, 1);
}

void api_responses_response_reject(struct api_call *c)
{
    answer_response(c, 0);
}

void api_responses_response_lift(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = casefile_block_lift(&c->ctx->cf, c->p[0], c->user, c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_response(c, 202);
}

void api_responses_blocks(struct api_call *c)
{
    size_t n = 0;
    int r = buf_puts(&c->resp->body, "{\"blocks\":[");

    if (r == 0 && (r = store_blocks_json(c->ctx->cf.st, c->rq->now_us, &c->resp->body, &n)) < 0) {
        api_util_answer_store(c, r);
        return;
    }
    if (r == 0)
        r = buf_printf(&c->resp->body, "],\"count\":%zu}", n);
    api_util_answer_json(c, 200, r);
}
