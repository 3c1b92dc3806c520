/*
 * api_procedures.c - the procedures per box over the API (issue 25,
 * docs/api.md "Procedures"): every box of the procedures file, filtered
 * by level and category, and the boxes that ran on an incident.  (The
 * run of an incident's own box after the requests that open it or move it
 * into another box is in api_incidents.c.)
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <string.h>

#include "api/api_util.h"
#include "incident/casefile_procedure.h"

void api_procedures_list(struct api_call *c)
{
    const char *ls = api_util_query_str(c, "level"), *cs = api_util_query_str(c, "category");
    enum asset_category cat = ASSET_CAT_NONE;
    enum triage_alert_level level = TRIAGE_GREEN;
    int r;

    if (cs && (incident_category_from_name(cs, strlen(cs), &cat) < 0 || cat == ASSET_CAT_NONE)) {
        api_util_answer_error(c, 400, "category is A, B, C or D", -1, "category");
        return;
    }
    if (ls && incident_level_from_name(ls, strlen(ls), &level) < 0) {
        api_util_answer_error(c, 400, "level is Green, Yellow, Orange or Red", -1, "level");
        return;
    }
    r = buf_puts(&c->resp->body, "{\"procedures\":[");
    if (r == 0)
        r = procedure_set_json(casefile_procedure_set(), cat, ls ? (int)level : -1, &c->resp->body,
                               NULL);
    if (r == 0)
        r = buf_puts(&c->resp->body, "]}");
    api_util_answer_json(c, 200, r);
}

void api_procedures_incident(struct api_call *c)
{
    struct casefile_err e = {0};
    int r = buf_puts(&c->resp->body, "{\"procedures\":");

    if (r == 0 &&
        (r = casefile_procedure_runs_json(&c->ctx->cf, c->p[0], &c->resp->body, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (r == 0)
        r = buf_putc(&c->resp->body, '}');
    api_util_answer_json(c, 200, r);
}
