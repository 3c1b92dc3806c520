/*
 * api_handlers.h - the handlers of the API, one group per resource file,
 * named in the route table of api_routes.c and nowhere else: a resource
 * file calls api_util.h, never another resource file.
 */
#ifndef HIKESHI_API_API_HANDLERS_H
#define HIKESHI_API_API_HANDLERS_H

struct api_call;

/* api_metrics.c: health, /metrics, the OpenAPI document */
void api_metrics_health(struct api_call *c);
void api_metrics_scrape(struct api_call *c);
void api_metrics_openapi(struct api_call *c);

/* api_session.c: login and the console session */
void api_session_login(struct api_call *c);
void api_session_new(struct api_call *c);
void api_session_get(struct api_call *c);
void api_session_end(struct api_call *c);
void api_session_rotate(struct api_call *c);

/* api_incidents.c */
void api_incidents_list(struct api_call *c);
void api_incidents_incident(struct api_call *c);
void api_incidents_incident_create(struct api_call *c);
void api_incidents_incident_patch(struct api_call *c);
void api_incidents_timeline(struct api_call *c);
void api_incidents_notes(struct api_call *c);
void api_incidents_note_add(struct api_call *c);
void api_incidents_tasks(struct api_call *c);
void api_incidents_task_add(struct api_call *c);
void api_incidents_task_patch(struct api_call *c);
void api_incidents_comms(struct api_call *c);
void api_incidents_comm_add(struct api_call *c);
void api_incidents_reports(struct api_call *c);
void api_incidents_report_add(struct api_call *c);
void api_incidents_report_edit(struct api_call *c);
void api_incidents_report(struct api_call *c);
void api_incidents_intake(struct api_call *c);

/* api_messages.c: messages, markings, impact, countermeasures (issue 25) */
void api_messages_list(struct api_call *c);
void api_messages_draft(struct api_call *c);
void api_messages_message(struct api_call *c);
void api_messages_approve(struct api_call *c);
void api_messages_send(struct api_call *c);
void api_messages_cancel(struct api_call *c);
void api_messages_reply(struct api_call *c);
void api_messages_markings(struct api_call *c);
void api_messages_mark(struct api_call *c);
void api_messages_rules(struct api_call *c);
void api_messages_impact(struct api_call *c);
void api_messages_impact_put(struct api_call *c);
void api_messages_cms(struct api_call *c);
void api_messages_cm_add(struct api_call *c);
void api_messages_cm_patch(struct api_call *c);

/* api_alerts.c */
void api_alerts_list(struct api_call *c);
void api_alerts_incident_alerts(struct api_call *c);
void api_alerts_alert_events(struct api_call *c);
void api_alerts_bulk(struct api_call *c);
void api_alerts_alert_ack(struct api_call *c);
void api_alerts_alert_attach(struct api_call *c);
void api_alerts_alert_suppress(struct api_call *c);
void api_alerts_suppressions(struct api_call *c);
void api_alerts_supp_lift(struct api_call *c);

/* api_events.c: the hunt over the archive */
void api_events_list(struct api_call *c);

/* api_evidence.c: the evidence register and its custody (docs/evidence.md) */
void api_evidence_list(struct api_call *c);
void api_evidence_add(struct api_call *c);
void api_evidence_item(struct api_call *c);
void api_evidence_custody(struct api_call *c);
void api_evidence_transfer(struct api_call *c);
void api_evidence_verify(struct api_call *c);
void api_evidence_plan(struct api_call *c);
void api_evidence_task(struct api_call *c);
void api_evidence_excerpt(struct api_call *c);

/* api_assets.c: entities and the asset inventory */
void api_assets_entities(struct api_call *c);
void api_assets_list(struct api_call *c);

/* api_posture.c: contacts, declared level, risk meter, exercise banner */
void api_posture_contacts(struct api_call *c);
void api_posture_contact_patch(struct api_call *c);
void api_posture_contact_delete(struct api_call *c);
void api_posture_contact_add(struct api_call *c);
void api_posture_declared(struct api_call *c);
void api_posture_declare(struct api_call *c);
void api_posture_risk(struct api_call *c);
void api_posture_risk_add(struct api_call *c);
void api_posture_exercise(struct api_call *c);

/* api_approvals.c: the lead's approval queue (issue 25) */
void api_approvals_list(struct api_call *c);
void api_approvals_approval(struct api_call *c);
void api_approvals_approve(struct api_call *c);
void api_approvals_reject(struct api_call *c);

/* api_procedures.c: procedures per box (issue 25) */
void api_procedures_list(struct api_call *c);
void api_procedures_incident(struct api_call *c);

/* api_responses.c: responses and blocks */
void api_responses_list(struct api_call *c);
void api_responses_response(struct api_call *c);
void api_responses_response_approve(struct api_call *c);
void api_responses_response_reject(struct api_call *c);
void api_responses_response_lift(struct api_call *c);
void api_responses_blocks(struct api_call *c);

/* api_console.c: the dashboard's stats and the rules */
void api_console_stats(struct api_call *c);
void api_console_rules(struct api_call *c);

/* api_users.c: users and their tokens */
void api_users_list(struct api_call *c);
void api_users_user_add(struct api_call *c);
void api_users_user_patch(struct api_call *c);
void api_users_user_delete(struct api_call *c);
void api_users_tokens(struct api_call *c);
void api_users_token_add(struct api_call *c);
void api_users_token_delete(struct api_call *c);

/* api_taxii.c: the read-only TAXII 2.1 server (docs/intel.md) */
void api_taxii_discovery(struct api_call *c);
void api_taxii_root(struct api_call *c);
void api_taxii_collections(struct api_call *c);
void api_taxii_collection(struct api_call *c);
void api_taxii_objects(struct api_call *c);

/* api_observables.c: an incident's observables (issue 20) */
void api_observables_list(struct api_call *c);
void api_observables_add(struct api_call *c);
void api_observables_delete(struct api_call *c);
void api_observables_promote(struct api_call *c);

#endif
