/*
 * pipeline_triage.h - the stages after detection, inside the pipeline
 * thread: anomaly baselines over every event, and triage of every alert
 * (single-rule matches, correlation hits, anomalies) into aggregated alerts
 * and incidents, written to the store in the pipeline's transaction.
 *
 * Internal to src/pipeline: pipeline.c owns one and calls it per event and
 * per alert; nothing here is thread-safe.
 */
#ifndef HIKESHI_PIPELINE_PIPELINE_TRIAGE_H
#define HIKESHI_PIPELINE_PIPELINE_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

struct alert;
struct asset_inv;
struct anomaly_stats;
struct config;
struct respond;
struct event;
struct sigma_corr_hit;
struct sigma_rule;
struct store;
struct triage_incident;
struct triage_stats;

struct ptriage;

/* Called when triage opens or changes an incident (scan collects them). */
typedef void (*ptriage_incident_fn)(void *arg, const struct triage_incident *inc,
                                    unsigned changed);

/*
 * Loads the triage options (c->triage_config; the built-in defaults when it
 * is empty, or when it is the bundled default and missing), the asset
 * inventory files (those of the options, then c->triage_assets), and the
 * anomaly state saved in `st` (may be NULL).  Problems in inventory files
 * are logged with file:line and the good rows load.  Returns 0, or a
 * negative errno with a message in errbuf (an options file named
 * explicitly that does not load).
 */
int ptriage_new(const struct config *c, struct store *st, struct ptriage **ret, char *errbuf,
                size_t errlen);
/* Frees (saving nothing: call ptriage_save first).  NULL is a no-op. */
void ptriage_free(struct ptriage *t);
/* Loads suppressions added to the store (through the API) since the last
 * look, at most once a second.  Pipeline thread only. */
void ptriage_poll(struct ptriage *t);
/* The asset inventory triage loaded at start; it does not change after. */
const struct asset_inv *ptriage_assets(const struct ptriage *t);
void ptriage_set_incident_cb(struct ptriage *t, ptriage_incident_fn cb, void *arg);
/* Offers every alert that triage keeps (not suppressed), and incidents as
 * they open or change type, to the response engine `r` (NULL: off).  0 or
 * -ENOMEM (the evidence table). */
int ptriage_set_respond(struct ptriage *t, struct respond *r);
/* Where a record came from, as the input saw it (borrowed for the call). */
struct ptriage_prov {
    int udp_carrier; /* it came over UDP: sender and text can be forged */
    int trusted;     /* RECORD_TRUSTED: the input vouches for the sender */
    int exercise;    /* an exercise input's (inputs[].exercise): never acted on */
    /* With exercise: the run it belongs to (the store's exercise run id),
     * -1 unknown; its alerts are triaged apart from other runs' and from
     * real ones (triage_in.realm). */
    int64_t exercise_run;
    const char *input_name;
    uint8_t peer_family;      /* 0, 4 or 6 */
    const uint8_t *peer_addr; /* 16 bytes (IPv4 in the first 4); with peer_family */
};
/* Before detection sees `ev`: notes its provenance and the source it
 * names, for the triggers' trusted, udp_only, corroborated, source and
 * log_peer (docs/respond.md, "Who is believed").  No-op while response is
 * off. */
void ptriage_evidence(struct ptriage *t, const struct event *ev, const struct ptriage_prov *pv);
/* The kind of witness `ev` is when a trusted input delivered it ("sshd",
 * "netfilter", "Suricata" ...), or NULL when its kind cannot see the
 * attacker's own traffic (web logs, key=value, CEF, other JSON).  The table
 * is in pipeline_triage.c and docs/respond.md.  Pure. */
const char *ptriage_witness(const struct event *ev);

/* A rule matched `ev` (called while the event still holds its fields) and
 * its alert was stored as row `alert_id` (0: not stored): triages it, and
 * records in the store which aggregated alert that row was folded into
 * (nothing when it was suppressed). */
void ptriage_rule(struct ptriage *t, const struct sigma_rule *r, const struct event *ev,
                  int64_t alert_id);
/* A correlation fired: the alert it makes, for the pipeline to write (its
 * text and JSON live in buffers of `t` until the next call; the rest
 * borrows from the hit).  0, or -ENOMEM / -E2BIG (no alert: the hit is
 * dropped). */
int ptriage_corr_alert(struct ptriage *t, const struct sigma_corr_hit *h, const char *input_name,
                       struct alert *ret);
/* Then, that alert stored as row `alert_id` (0: not stored), triages the
 * hit, as ptriage_rule does a rule's. */
void ptriage_corr(struct ptriage *t, const struct sigma_corr_hit *h, int64_t alert_id);
/*
 * Every decoded event goes through the anomaly baselines.  Returns how many
 * anomaly alerts it raised: the pipeline writes each, i from 0, with
 * ptriage_anomaly_alert and its writer, then hands it back to
 * ptriage_anomaly, the route a correlation hit takes.  They stay until the
 * next ptriage_event.
 */
size_t ptriage_event(struct ptriage *t, const struct event *ev, const char *input_name);
/* The alert the i-th anomaly of the last ptriage_event makes, for the
 * pipeline to write (its text and JSON live in buffers of `t` until the
 * next call; the rest borrows from the anomaly's copy).  0, -ENOENT (no
 * such anomaly) or an error of the buffers (no alert: it is dropped). */
int ptriage_anomaly_alert(struct ptriage *t, size_t i, struct alert *ret);
/* Then, that alert stored as row `alert_id` (0: not stored), triages it. */
void ptriage_anomaly(struct ptriage *t, size_t i, int64_t alert_id);
/* Writes the counts and last seen of the aggregated alerts that grew, on
 * every call.  Reports the incidents that changed and forgets what ended
 * before the newest event time seen only when `force` or when event time
 * moved on 10 s since the last time. */
void ptriage_flush(struct ptriage *t, int force);
/* Saves the anomaly baselines into the store (outside a transaction is
 * fine).  0 or a negative errno. */
int ptriage_save(struct ptriage *t);
/* The first error a store write returned since the last call (0 if none),
 * cleared by the call. */
int ptriage_take_error(struct ptriage *t);

/* Counters: triage's funnel and the anomaly baselines' (zero when off). */
void ptriage_stats(const struct ptriage *t, struct triage_stats *ret_triage,
                   struct anomaly_stats *ret_anomaly);

#endif
