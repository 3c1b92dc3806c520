/*
 * api_approvals.c - the lead's approval queue in the API (issue 25,
 * docs/api.md "Approvals"): the changes analysts asked for that are the
 * responsible person's to decide, listed, approved and rejected.  The
 * rules are the case file's (casefile_lead.c); this maps roles to ranks.
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <string.h>

#include "api/api_util.h"
#include "incident/casefile.h"
#include "store/store.h"

void api_approvals_list(struct api_call *c)
{
    const char *state = api_util_query_str(c, "state");

    if (state && strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0 &&
        strcmp(state, "rejected") != 0) {
        api_util_answer_error(c, 400, "state is pending, approved or rejected", -1, "state");
        return;
    }
    API_UTIL_LIST_OBJECT(c, "approvals",
                         store_approvals_json(c->ctx->cf.st, state, &c->resp->body, NULL));
}

static void show_approval(struct api_call *c, unsigned status, int64_t id)
{
    int r = store_approval_json(c->ctx->cf.st, id, &c->resp->body);

    if (r < 0)
        api_util_answer_store(c, r);
    else
        api_util_answer_json(c, status, 0);
}

void api_approvals_approval(struct api_call *c)
{
    show_approval(c, 200, c->p[0]);
}

static void answer(struct api_call *c, int approve)
{
    struct casefile_err e = {0};
    int r = casefile_approval_answer(&c->ctx->cf, c->p[0], approve, c->user, api_util_rank(c),
                                     c->rq->body, c->rq->body_len, c->rq->now_us, &e);

    if (r < 0)
        api_util_answer_cf(c, r, &e);
    else
        show_approval(c, 200, c->p[0]);
}

void api_approvals_approve(struct api_call *c)
{
    answer(c, 1);
}

void api_approvals_reject(struct api_call *c)
{
    answer(c, 0);
}
