/*
 * api_routes.c - the route table of the API (docs/api.md) and its
 * dispatcher.
 *
 * One row per (method, path template, least role, handler), in the way
 * Suricata keeps sigmatch_table[]: the dispatcher walks the table, checks
 * the token against the row's role and calls the handler, which lives in
 * the file of its resource (api_incidents.c, api_alerts.c, ...; declared
 * in api_handlers.h).  Path parameters are positive integers ({id},
 * {task}, {report}).  tests/openapi_routes.py reads this table and checks
 * it against src/api/openapi.json.
 */
#include "api/api_routes.h"

#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "api/api_handlers.h"
#include "api/api_util.h"
#include "api/auth.h"

typedef void (*api_fn)(struct api_call *c);

struct api_route {
    const char *method;
    const char *path;
    enum auth_role role;
    api_fn fn;
};

static const struct api_route api_routes[] = {
    {"GET", "/api/v1/health", AUTH_ROLE_NONE, api_metrics_health},
    {"GET", "/api/v1/openapi.json", AUTH_ROLE_NONE, api_metrics_openapi},
    {"GET", "/metrics", AUTH_ROLE_NONE, api_metrics_scrape},
    {"POST", "/api/v1/login", AUTH_ROLE_NONE, api_session_login},
    {"POST", "/api/v1/session", AUTH_ROLE_NONE, api_session_new},
    {"GET", "/api/v1/session", AUTH_ROLE_VIEWER, api_session_get},
    {"DELETE", "/api/v1/session", AUTH_ROLE_VIEWER, api_session_end},
    {"POST", "/api/v1/session/rotate", AUTH_ROLE_VIEWER, api_session_rotate},
    {"GET", "/api/v1/incidents", AUTH_ROLE_VIEWER, api_incidents_list},
    {"POST", "/api/v1/incidents", AUTH_ROLE_ANALYST, api_incidents_incident_create},
    {"GET", "/api/v1/incidents/{id}", AUTH_ROLE_VIEWER, api_incidents_incident},
    {"PATCH", "/api/v1/incidents/{id}", AUTH_ROLE_ANALYST, api_incidents_incident_patch},
    {"GET", "/api/v1/incidents/{id}/timeline", AUTH_ROLE_VIEWER, api_incidents_timeline},
    {"GET", "/api/v1/incidents/{id}/notes", AUTH_ROLE_VIEWER, api_incidents_notes},
    {"POST", "/api/v1/incidents/{id}/notes", AUTH_ROLE_ANALYST, api_incidents_note_add},
    {"GET", "/api/v1/incidents/{id}/tasks", AUTH_ROLE_VIEWER, api_incidents_tasks},
    {"POST", "/api/v1/incidents/{id}/tasks", AUTH_ROLE_ANALYST, api_incidents_task_add},
    {"PATCH", "/api/v1/incidents/{id}/tasks/{task}", AUTH_ROLE_ANALYST, api_incidents_task_patch},
    {"GET", "/api/v1/incidents/{id}/communications", AUTH_ROLE_VIEWER, api_incidents_comms},
    {"POST", "/api/v1/incidents/{id}/communications", AUTH_ROLE_ANALYST, api_incidents_comm_add},
    {"GET", "/api/v1/incidents/{id}/reports", AUTH_ROLE_VIEWER, api_incidents_reports},
    {"POST", "/api/v1/incidents/{id}/reports", AUTH_ROLE_ANALYST, api_incidents_report_add},
    {"GET", "/api/v1/incidents/{id}/reports/{report}", AUTH_ROLE_VIEWER, api_incidents_report},
    {"PUT", "/api/v1/incidents/{id}/reports/{report}", AUTH_ROLE_ANALYST,
     api_incidents_report_edit},
    {"GET", "/api/v1/incidents/{id}/alerts", AUTH_ROLE_VIEWER, api_alerts_incident_alerts},
    {"GET", "/api/v1/incidents/{id}/observables", AUTH_ROLE_VIEWER, api_observables_list},
    {"POST", "/api/v1/incidents/{id}/observables", AUTH_ROLE_ANALYST, api_observables_add},
    {"DELETE", "/api/v1/incidents/{id}/observables/{obs}", AUTH_ROLE_ANALYST,
     api_observables_delete},
    {"POST", "/api/v1/incidents/{id}/observables/{obs}/promote", AUTH_ROLE_ANALYST,
     api_observables_promote},
    {"GET", "/api/v1/incidents/{id}/procedures", AUTH_ROLE_VIEWER, api_procedures_incident},
    {"GET", "/api/v1/incidents/{id}/messages", AUTH_ROLE_VIEWER, api_messages_list},
    {"POST", "/api/v1/incidents/{id}/messages", AUTH_ROLE_ANALYST, api_messages_draft},
    {"GET", "/api/v1/incidents/{id}/messages/{msg}", AUTH_ROLE_VIEWER, api_messages_message},
    {"POST", "/api/v1/incidents/{id}/messages/{msg}/approve", AUTH_ROLE_ANALYST,
     api_messages_approve},
    {"POST", "/api/v1/incidents/{id}/messages/{msg}/send", AUTH_ROLE_ANALYST, api_messages_send},
    {"POST", "/api/v1/incidents/{id}/messages/{msg}/cancel", AUTH_ROLE_ANALYST,
     api_messages_cancel},
    {"POST", "/api/v1/messages/replies", AUTH_ROLE_ANALYST, api_messages_reply},
    {"GET", "/api/v1/disclosure-rules", AUTH_ROLE_VIEWER, api_messages_rules},
    {"GET", "/api/v1/incidents/{id}/markings", AUTH_ROLE_VIEWER, api_messages_markings},
    {"PUT", "/api/v1/incidents/{id}/markings", AUTH_ROLE_ANALYST, api_messages_mark},
    {"GET", "/api/v1/incidents/{id}/impact", AUTH_ROLE_VIEWER, api_messages_impact},
    {"PUT", "/api/v1/incidents/{id}/impact", AUTH_ROLE_ANALYST, api_messages_impact_put},
    {"GET", "/api/v1/incidents/{id}/countermeasures", AUTH_ROLE_VIEWER, api_messages_cms},
    {"POST", "/api/v1/incidents/{id}/countermeasures", AUTH_ROLE_ANALYST, api_messages_cm_add},
    {"PATCH", "/api/v1/incidents/{id}/countermeasures/{cm}", AUTH_ROLE_ANALYST,
     api_messages_cm_patch},
    {"GET", "/api/v1/alerts", AUTH_ROLE_VIEWER, api_alerts_list},
    {"GET", "/api/v1/events", AUTH_ROLE_VIEWER, api_events_list},
    {"GET", "/api/v1/alerts/{id}/events", AUTH_ROLE_VIEWER, api_alerts_alert_events},
    {"POST", "/api/v1/alerts/bulk", AUTH_ROLE_ANALYST, api_alerts_bulk},
    {"POST", "/api/v1/alerts/{id}/ack", AUTH_ROLE_ANALYST, api_alerts_alert_ack},
    {"POST", "/api/v1/alerts/{id}/attach", AUTH_ROLE_ANALYST, api_alerts_alert_attach},
    {"POST", "/api/v1/alerts/{id}/suppress", AUTH_ROLE_ANALYST, api_alerts_alert_suppress},
    {"GET", "/api/v1/suppressions", AUTH_ROLE_VIEWER, api_alerts_suppressions},
    {"DELETE", "/api/v1/suppressions/{id}", AUTH_ROLE_ANALYST, api_alerts_supp_lift},
    {"GET", "/api/v1/evidence", AUTH_ROLE_VIEWER, api_evidence_list},
    {"POST", "/api/v1/evidence", AUTH_ROLE_ANALYST, api_evidence_add},
    {"GET", "/api/v1/evidence/{id}", AUTH_ROLE_VIEWER, api_evidence_item},
    {"GET", "/api/v1/evidence/{id}/custody", AUTH_ROLE_VIEWER, api_evidence_custody},
    {"POST", "/api/v1/evidence/{id}/transfer", AUTH_ROLE_ANALYST, api_evidence_transfer},
    {"POST", "/api/v1/evidence/{id}/verify", AUTH_ROLE_ANALYST, api_evidence_verify},
    {"GET", "/api/v1/incidents/{id}/collection-plan", AUTH_ROLE_VIEWER, api_evidence_plan},
    {"POST", "/api/v1/incidents/{id}/tasks/{task}/evidence", AUTH_ROLE_ANALYST, api_evidence_task},
    {"POST", "/api/v1/incidents/{id}/evidence/excerpt", AUTH_ROLE_ANALYST, api_evidence_excerpt},
    {"GET", "/api/v1/entities", AUTH_ROLE_VIEWER, api_assets_entities},
    {"GET", "/api/v1/assets", AUTH_ROLE_VIEWER, api_assets_list},
    {"POST", "/api/v1/intake", AUTH_ROLE_ANALYST, api_incidents_intake},
    {"GET", "/api/v1/contacts", AUTH_ROLE_VIEWER, api_posture_contacts},
    {"POST", "/api/v1/contacts", AUTH_ROLE_ANALYST, api_posture_contact_add},
    {"PATCH", "/api/v1/contacts/{id}", AUTH_ROLE_ANALYST, api_posture_contact_patch},
    {"DELETE", "/api/v1/contacts/{id}", AUTH_ROLE_ANALYST, api_posture_contact_delete},
    {"GET", "/api/v1/procedures", AUTH_ROLE_VIEWER, api_procedures_list},
    {"GET", "/api/v1/declared-level", AUTH_ROLE_VIEWER, api_posture_declared},
    {"POST", "/api/v1/declared-level", AUTH_ROLE_LEAD, api_posture_declare},
    {"GET", "/api/v1/risk-meter", AUTH_ROLE_VIEWER, api_posture_risk},
    {"POST", "/api/v1/risk-meter", AUTH_ROLE_ANALYST, api_posture_risk_add},
    {"GET", "/api/v1/approvals", AUTH_ROLE_VIEWER, api_approvals_list},
    {"GET", "/api/v1/approvals/{id}", AUTH_ROLE_VIEWER, api_approvals_approval},
    {"POST", "/api/v1/approvals/{id}/approve", AUTH_ROLE_LEAD, api_approvals_approve},
    {"POST", "/api/v1/approvals/{id}/reject", AUTH_ROLE_LEAD, api_approvals_reject},
    {"GET", "/api/v1/exercise", AUTH_ROLE_VIEWER, api_posture_exercise},
    {"GET", "/api/v1/responses", AUTH_ROLE_VIEWER, api_responses_list},
    {"GET", "/api/v1/responses/{id}", AUTH_ROLE_VIEWER, api_responses_response},
    {"POST", "/api/v1/responses/{id}/approve", AUTH_ROLE_ANALYST, api_responses_response_approve},
    {"POST", "/api/v1/responses/{id}/reject", AUTH_ROLE_ANALYST, api_responses_response_reject},
    {"POST", "/api/v1/responses/{id}/lift", AUTH_ROLE_ANALYST, api_responses_response_lift},
    {"GET", "/api/v1/blocks", AUTH_ROLE_VIEWER, api_responses_blocks},
    {"GET", "/api/v1/stats", AUTH_ROLE_VIEWER, api_console_stats},
    {"GET", "/api/v1/rules", AUTH_ROLE_VIEWER, api_console_rules},
    {"GET", "/api/v1/users", AUTH_ROLE_ADMIN, api_users_list},
    {"POST", "/api/v1/users", AUTH_ROLE_ADMIN, api_users_user_add},
    {"PATCH", "/api/v1/users/{id}", AUTH_ROLE_ADMIN, api_users_user_patch},
    {"DELETE", "/api/v1/users/{id}", AUTH_ROLE_ADMIN, api_users_user_delete},
    {"GET", "/api/v1/users/{id}/tokens", AUTH_ROLE_ADMIN, api_users_tokens},
    {"POST", "/api/v1/users/{id}/tokens", AUTH_ROLE_ADMIN, api_users_token_add},
    {"DELETE", "/api/v1/tokens/{id}", AUTH_ROLE_ADMIN, api_users_token_delete},
    {"GET", "/taxii2", AUTH_ROLE_VIEWER, api_taxii_discovery},
    {"GET", "/taxii2/hikeshi", AUTH_ROLE_VIEWER, api_taxii_root},
    {"GET", "/taxii2/hikeshi/collections", AUTH_ROLE_VIEWER, api_taxii_collections},
    {"GET", "/taxii2/hikeshi/collections/365fed99-08fa-4dcd-a1b3-fb247eb41d01", AUTH_ROLE_VIEWER,
     api_taxii_collection},
    {"GET", "/taxii2/hikeshi/collections/365fed99-08fa-4dcd-a1b3-fb247eb41d01/objects",
     AUTH_ROLE_VIEWER, api_taxii_objects},
};
/*
 * Matches `path` against a template; {name} segments take a positive
 * integer of at most 18 digits into p[] (in order).  1 on a match.
 */
static int match_path(const char *tpl, const char *path, int64_t p[2])
{
    int np = 0;

    while (*tpl && *path) {
        if (*tpl == '{') {
            int64_t v = 0;
            size_t n = strspn(path, "0123456789");

            tpl = strchr(tpl, '}');
            if (!tpl || n == 0 || n > 18 || np == 2)
                return 0;
            for (size_t i = 0; i < n; i++)
                v = v * 10 + (path[i] - '0');
            if (v == 0)
                return 0;
            p[np++] = v;
            tpl++;
            path += n;
        } else if (*tpl++ != *path++) {
            return 0;
        }
    }
    return *tpl == '\0' && *path == '\0';
}
void api_dispatch(struct api_ctx *ctx, const struct api_req *rq, struct api_resp *resp)
{
    struct api_call c = {.ctx = ctx, .rq = rq, .resp = resp};
    const char *method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
    const char *path = rq->path;
    char taxii_path[160];
    size_t plen = strlen(path);
    int path_known = 0;

    /* TAXII 2.1 writes every URL with a final slash; the table (and the
     * OpenAPI document, whose linter refuses one) names them without. */
    if (strncmp(path, "/taxii2/", 8) == 0 && plen < sizeof(taxii_path) && path[plen - 1] == '/') {
        memcpy(taxii_path, path, plen - 1);
        taxii_path[plen - 1] = '\0';
        path = taxii_path;
    }

    resp->status = 500;
    resp->type = "application/json";
    resp->set_cookie[0] = '\0';
    resp->hdr_name[0] = resp->hdr_name[1] = NULL;
    buf_reset(&resp->body);
    for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
        const struct api_route *rt = &api_routes[i];
        int64_t p[2] = {0, 0};

        if (!match_path(rt->path, path, p))
            continue;
        path_known = 1;
        if (strcmp(method, rt->method) != 0)
            continue;
        c.p[0] = p[0];
        c.p[1] = p[1];
        if (rt->role != AUTH_ROLE_NONE) {
            if (!ctx->cf.st) {
                api_util_answer_error(&c, 503, "no store", -1, NULL);
                return;
            }
            if (api_util_authenticate(&c, rt->role) < 0 || !api_util_body_ok(&c)) {
                sodium_memzero(c.token, sizeof(c.token));
                return;
            }
        }
        rt->fn(&c);
        sodium_memzero(c.token, sizeof(c.token));
        return;
    }
    if (path_known)
        api_util_answer_error(&c, 405, "method not allowed", -1, NULL);
    else
        api_util_answer_error(&c, 404, "not found", -1, NULL);
}
