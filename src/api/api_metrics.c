/*
 * api_metrics.c - the endpoint's own routes: GET /api/v1/health (JSON),
 * GET /metrics (Prometheus text format) and the OpenAPI document.  The
 * figures are read only through the stages' public headers: input.h's
 * struct input_stats, pipeline_stats(), queue_*(), field_count() and
 * respond_get_stats(), incident_clock_stats(), and in the scale-out roles
 * cluster.h's publisher and consumer counters.
 */
#include "api/api_handlers.h"

#include "build_config.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/api_util.h"
#include "cluster/cluster.h"
#include "event/field.h"
#include "event/time.h"
#include "incident/incident_clock_run.h"
#include "input/input.h"
#include "intel/intel_feed.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_archive.h"
#include "pipeline/pipeline_witness.h"
#include "respond/respond.h"
#include "util/buf.h"
#include "util/queue.h"

/* Prometheus label values escape backslash, quote and newline. */
static int put_label(struct buf *out, const char *s)
{
    int r = 0;

    for (; *s && r == 0; s++) {
        if (*s == '\\' || *s == '"')
            r = buf_printf(out, "\\%c", *s);
        else if (*s == '\n')
            r = buf_puts(out, "\\n");
        else
            r = buf_putc(out, *s);
    }
    return r;
}

static int metric_head(struct buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP hikeshi_%s %s\n# TYPE hikeshi_%s %s\n", name, help, name, type);
}

static int metric_input(struct buf *out, const struct api_sources *src, uint32_t id,
                        const char *name, uint64_t v)
{
    int r;

    if ((r = buf_printf(out, "hikeshi_%s{input=\"", name)) < 0 ||
        (r = put_label(out, pipeline_input_name(src->pipeline, id))) < 0 ||
        (r = buf_puts(out, "\",type=\"")) < 0 ||
        (r = put_label(out, src->input_types && src->input_types[id] ? src->input_types[id]
                                                                     : "scan")) < 0)
        return r;
    return buf_printf(out, "\"} %llu\n", (unsigned long long)v);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Per input: what the input read (when it has counters) and what the
 * pipeline made of it. */
static int metrics_inputs(const struct api_sources *src, struct buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } in_m[] = {
        {"input_records_total", "Records received by the input.",
         offsetof(struct input_stats, records)},
        {"input_bytes_total", "Bytes of records received.", offsetof(struct input_stats, bytes)},
        {"input_truncated_total", "Records truncated at max_line.",
         offsetof(struct input_stats, truncated)},
        {"input_dropped_total", "Records dropped because the queue was full (UDP).",
         offsetof(struct input_stats, dropped)},
        {"input_kernel_dropped_total",
         "UDP datagrams the kernel dropped, the socket buffer full (SO_RXQ_OVFL).",
         offsetof(struct input_stats, kernel_dropped)},
        {"input_connections_total", "TCP connections accepted.",
         offsetof(struct input_stats, connections)},
        {"input_connections_refused_total", "TCP connections refused at the client caps.",
         offsetof(struct input_stats, refused)},
        {"input_denied_total", "Connections and datagrams from senders not in peers.",
         offsetof(struct input_stats, denied)},
        {"input_connections_evicted_total",
         "TCP connections closed, the one idle longest, to admit a new one.",
         offsetof(struct input_stats, evicted)},
        {"input_connections_idle_closed_total", "TCP connections closed after idle_timeout.",
         offsetof(struct input_stats, idle_closed)},
        {"input_errors_total", "Read and framing errors.", offsetof(struct input_stats, errors)},
        {"input_rotations_total", "File rotations and truncations seen.",
         offsetof(struct input_stats, rotations)},
    };
    static const struct {
        const char *name, *help;
        size_t off;
    } p_m[] = {
        {"pipeline_records_total", "Records processed by the pipeline.",
         offsetof(struct pipeline_input_stats, records)},
        {"pipeline_decoded_total", "Records understood by a decoder.",
         offsetof(struct pipeline_input_stats, decoded)},
        {"pipeline_unparsed_total", "Records no decoder understood (stored raw).",
         offsetof(struct pipeline_input_stats, unparsed)},
        {"pipeline_malformed_total", "Records of a known format that failed to decode.",
         offsetof(struct pipeline_input_stats, malformed)},
        {"pipeline_alerts_total", "Alerts raised on the input's events.",
         offsetof(struct pipeline_input_stats, alerts)},
    };
    uint32_t n = pipeline_input_count(src->pipeline);
    int r;

    for (size_t k = 0; k < sizeof(in_m) / sizeof(in_m[0]); k++) {
        if ((r = metric_head(out, in_m[k].name, "counter", in_m[k].help)) < 0)
            return r;
        for (uint32_t i = 0; i < n && i < src->ninputs; i++) {
            const struct input_stats *is = src->input_stats ? src->input_stats[i] : NULL;
            if (!is)
                continue;
            if ((r = metric_input(out, src, i, in_m[k].name,
                                  LOAD(*(const _Atomic uint64_t *)(const void *)((const char *)is +
                                                                                 in_m[k].off)))) <
                0)
                return r;
        }
    }
    if ((r = metric_head(out, "input_connections_active", "gauge", "TCP connections open now.")) <
        0)
        return r;
    for (uint32_t i = 0; i < n && i < src->ninputs; i++) {
        const struct input_stats *is = src->input_stats ? src->input_stats[i] : NULL;
        if (is && (r = metric_input(out, src, i, "input_connections_active", LOAD(is->active))) < 0)
            return r;
    }
    if ((r = metric_head(out, "source_silent", "gauge",
                         "Senders of the input silent past their interval now.")) < 0)
        return r;
    for (uint32_t i = 0; i < n; i++)
        if ((r = metric_input(out, src, i, "source_silent",
                              LOAD(pipeline_input_stats(src->pipeline, i)->silent))) < 0)
            return r;
    for (size_t k = 0; k < sizeof(p_m) / sizeof(p_m[0]); k++) {
        if ((r = metric_head(out, p_m[k].name, "counter", p_m[k].help)) < 0)
            return r;
        for (uint32_t i = 0; i < n; i++) {
            const struct pipeline_input_stats *pis = pipeline_input_stats(src->pipeline, i);
            if ((r = metric_input(out, src, i, p_m[k].name,
                                  LOAD(*(const _Atomic uint64_t *)(const void *)((const char *)pis +
                                                                                 p_m[k].off)))) < 0)
                return r;
        }
    }
    return 0;
}

/* One line per counter or gauge without labels; returns from the
 * function on an error. */
#define GLOBAL(name, type, help, value)                                                            \
    if ((r = metric_head(out, name, type, help)) < 0 ||                                            \
        (r = buf_printf(out, "hikeshi_%s %llu\n", name, (unsigned long long)(value))) < 0)         \
        return r;

/* The pipeline's totals: store, triage. */
static int metrics_pipeline(const struct pipeline_stats *ps, struct buf *out)
{
    int r;

    GLOBAL("pipeline_batches_total", "counter", "Batches processed.", LOAD(ps->batches))
    GLOBAL("store_commits_total", "counter", "Store transactions committed.", LOAD(ps->commits))
    GLOBAL("store_events_total", "counter", "Events written to the store.", LOAD(ps->stored))
    GLOBAL("store_errors_total", "counter", "Failed store writes and commits.",
           LOAD(ps->store_errors))
    GLOBAL("alerts_total", "counter", "Alerts raised.", LOAD(ps->alerts))
    GLOBAL("event_fields_dropped_total", "counter", "Fields dropped by the per-event caps.",
           LOAD(ps->fields_dropped))
    GLOBAL("triage_alerts_total", "counter", "Alerts into triage (rule, correlation, anomaly).",
           LOAD(ps->triage_alerts))
    GLOBAL("triage_suppressed_total", "counter", "Alerts silenced by a suppression rule.",
           LOAD(ps->triage_suppressed))
    GLOBAL("triage_aggregated_alerts_total", "counter", "Aggregated alerts created.",
           LOAD(ps->triage_aggregated))
    GLOBAL("triage_incidents_total", "counter", "Incidents opened by triage.",
           LOAD(ps->triage_incidents))
    GLOBAL("triage_risk_opened_incidents_total", "counter",
           "Incidents opened because an entity's risk crossed the threshold.",
           LOAD(ps->triage_risk_opened))
    GLOBAL("triage_risk_only_alerts_total", "counter",
           "Alerts that joined no incident and only added risk to their entities.",
           LOAD(ps->triage_risk_only))
    GLOBAL("triage_evicted_total", "counter",
           "Aggregated alerts, entities and incidents evicted at the memory caps.",
           LOAD(ps->triage_evicted))
    return 0;
}

/* role: analyser (docs/scale.md): what it took from the stream, and per
 * partition whether it owns it and, when it does, the lag. */
static int metrics_nats_sub(const struct cluster_sub_stats *ns, const struct pipeline_stats *ps,
                            struct buf *out)
{
    int r;

    GLOBAL("nats_connected", "gauge", "1 while connected to a NATS server.", LOAD(ns->connected))
    GLOBAL("nats_records_received_total", "counter", "Records fetched from the stream.",
           LOAD(ns->received))
    GLOBAL("nats_records_acked_total", "counter", "Records acked after the store committed them.",
           LOAD(ns->acked))
    GLOBAL("nats_records_redelivered_total", "counter",
           "Records the stream delivered more than once.", LOAD(ns->redelivered))
    GLOBAL("nats_records_rejected_total", "counter",
           "Messages with bad metadata, terminated (never delivered again).", LOAD(ns->rejected))
    GLOBAL("nats_records_duplicate_total", "counter",
           "Records whose id the store already held: not processed again.", LOAD(ps->duplicates))
    GLOBAL("nats_partitions_owned", "gauge", "Partitions this analyser owns now.", LOAD(ns->owned))
    if ((r = metric_head(out, "nats_partition_owned", "gauge",
                         "1 when this analyser owns the partition.")) < 0)
        return r;
    for (uint32_t p = 0; p < ns->partitions; p++)
        if ((r = buf_printf(out, "hikeshi_nats_partition_owned{partition=\"%u\"} %d\n", p,
                            LOAD(ns->pending[p]) >= 0)) < 0)
            return r;
    if ((r = metric_head(out, "nats_partition_pending_records", "gauge",
                         "Records an owned partition's consumer still held after the last fetch "
                         "(the lag).")) < 0)
        return r;
    for (uint32_t p = 0; p < ns->partitions; p++) {
        int64_t v = LOAD(ns->pending[p]);

        if (v >= 0 && (r = buf_printf(out,
                                      "hikeshi_nats_partition_pending_records{partition=\"%u\"} "
                                      "%lld\n",
                                      p, (long long)v)) < 0)
            return r;
    }
    return 0;
}

/* role: collector (docs/scale.md): what it published, what waits in its
 * archive, and how often the stream was full. */
static int metrics_nats_pub(const struct cluster_pub_stats *ns, struct buf *out)
{
    int r;

    GLOBAL("nats_connected", "gauge", "1 while connected to a NATS server.", LOAD(ns->connected))
    GLOBAL("nats_records_published_total", "counter", "Records the stream acked.",
           LOAD(ns->published))
    GLOBAL("nats_backlog_records", "gauge",
           "Archived records not yet acked by the stream (waiting in the archive).",
           LOAD(ns->backlog))
    GLOBAL("nats_publish_failures_total", "counter",
           "Publishing rounds not acked in full (published again from the archive).",
           LOAD(ns->failures))
    GLOBAL("nats_backpressure_total", "counter",
           "Publishing rounds held back or refused because the stream was full at its limits "
           "(nats.max_msgs, max_bytes): the analysers are behind.",
           LOAD(ns->backpressure))
    GLOBAL("nats_unreadable_records_total", "counter",
           "Archive records skipped as unreadable, not published.", LOAD(ns->unreadable))
    return 0;
}

/* Correlation and anomaly state. */
static int metrics_detect(const struct pipeline_stats *ps, struct buf *out)
{
    int r;

    GLOBAL("correlation_groups", "gauge", "Correlation groups in memory.", LOAD(ps->corr_groups))
    GLOBAL("correlation_bytes", "gauge", "Bytes of correlation state.", LOAD(ps->corr_bytes))
    GLOBAL("correlation_evicted_age_total", "counter", "Correlation groups whose window ended.",
           LOAD(ps->corr_evicted_age))
    GLOBAL("correlation_evicted_cap_total", "counter",
           "Correlation groups dropped at the memory cap, cheapest to lose first.",
           LOAD(ps->corr_evicted_cap))
    GLOBAL("correlation_max_bytes", "gauge",
           "Cap on correlation state (configured, or sized from the rules and rate).",
           LOAD(ps->corr_max_bytes))
    if ((r = metric_head(out, "correlation_evicted_total", "counter",
                         "Correlation groups removed: window ended (age) or memory cap (cap).")) <
            0 ||
        (r = buf_printf(out,
                        "hikeshi_correlation_evicted_total{reason=\"age\"} %llu\n"
                        "hikeshi_correlation_evicted_total{reason=\"cap\"} %llu\n",
                        (unsigned long long)LOAD(ps->corr_evicted_age),
                        (unsigned long long)LOAD(ps->corr_evicted_cap))) < 0)
        return r;
    if ((r = metric_head(out, "correlation_cap_evicted_total", "counter",
                         "Correlation groups evicted at the memory cap, by how close they were "
                         "to firing (single, far, mid, near: a near one may be a missed "
                         "detection).")) < 0 ||
        (r = buf_printf(out,
                        "hikeshi_correlation_cap_evicted_total{cost=\"single\"} %llu\n"
                        "hikeshi_correlation_cap_evicted_total{cost=\"far\"} %llu\n"
                        "hikeshi_correlation_cap_evicted_total{cost=\"mid\"} %llu\n"
                        "hikeshi_correlation_cap_evicted_total{cost=\"near\"} %llu\n",
                        (unsigned long long)LOAD(ps->corr_evicted_cap_single),
                        (unsigned long long)LOAD(ps->corr_evicted_cap_far),
                        (unsigned long long)LOAD(ps->corr_evicted_cap_mid),
                        (unsigned long long)LOAD(ps->corr_evicted_cap_near))) < 0)
        return r;
    GLOBAL("correlation_late_total", "counter", "Events too late for their correlation window.",
           LOAD(ps->corr_late))
    GLOBAL("correlation_hits_total", "counter", "Correlation rules that fired.",
           LOAD(ps->corr_hits))
    GLOBAL("anomaly_baselines", "gauge", "Anomaly baselines tracked.", LOAD(ps->anomaly_entries))
    GLOBAL("anomaly_bytes", "gauge", "Bytes of anomaly baseline state.", LOAD(ps->anomaly_bytes))
    GLOBAL("anomaly_evicted_total", "counter", "Anomaly baselines dropped at the memory cap.",
           LOAD(ps->anomaly_evicted))
    GLOBAL("anomaly_alerts_total", "counter", "Anomalies raised.", LOAD(ps->anomaly_alerts))
    return 0;
}

/* The process: field dictionary, input queue, uptime. */
static int metrics_process(const struct api_sources *src, struct buf *out)
{
    int r;

    GLOBAL("field_names", "gauge", "Field names interned.", field_count())
    GLOBAL("field_names_refused_total", "counter", "Field names refused at the dictionary cap.",
           field_refused())
    GLOBAL("queue_depth", "gauge", "Batches waiting in the input queue.", queue_depth(src->queue))
    GLOBAL("queue_capacity", "gauge", "Capacity of the input queue, in batches.",
           queue_capacity(src->queue))
    GLOBAL("queue_high_water", "gauge", "Most batches ever waiting at once.",
           queue_high_water(src->queue))
    GLOBAL("uptime_seconds", "gauge", "Seconds since the daemon started.",
           (time_now_us() - src->started_us) / 1000000)
    return 0;
}

/* A duration in µs as Prometheus's base unit, seconds; NaN when there is
 * none (a quantile of no samples), as Prometheus's clients write it. */
static int put_seconds(struct buf *out, int have, int64_t us)
{
    if (!have)
        return buf_puts(out, "NaN\n");
    if (us < 0)
        us = 0;
    return buf_printf(out, "%lld.%06lld\n", (long long)(us / 1000000), (long long)(us % 1000000));
}

/* The block latency as a summary: the quantiles over the engine's window,
 * count and sum over every block, as Prometheus's client summaries do. */
static int metric_latency(const struct respond_stats *rs, struct buf *out)
{
    const char *name = "hikeshi_respond_block_latency_seconds";
    int r;

    if ((r = metric_head(out, "respond_block_latency_seconds", "summary",
                         "Record arrival to address in the kernel set: median and 99th "
                         "percentile of the last 4096 blocks; count and sum of all.")) < 0 ||
        (r = buf_printf(out, "%s{quantile=\"0.5\"} ", name)) < 0 ||
        (r = put_seconds(out, rs->lat_n != 0, rs->lat_p50_us)) < 0 ||
        (r = buf_printf(out, "%s{quantile=\"0.99\"} ", name)) < 0 ||
        (r = put_seconds(out, rs->lat_n != 0, rs->lat_p99_us)) < 0 ||
        (r = buf_printf(out, "%s_sum ", name)) < 0 || (r = put_seconds(out, 1, rs->lat_sum_us)) < 0)
        return r;
    return buf_printf(out, "%s_count %llu\n", name, (unsigned long long)rs->lat_n);
}

/* The response engine's counters, through its public getter. */
static int metrics_respond(struct respond *rsp, struct buf *out)
{
    struct respond_stats rs;
    int r;

    respond_get_stats(rsp, &rs);
    GLOBAL("respond_triggers_total", "counter", "Alerts and incidents offered to the policy.",
           rs.offered)
    GLOBAL("respond_dropped_total", "counter", "Triggers dropped: the response queue was full.",
           rs.dropped)
    GLOBAL("respond_act_total", "counter", "Decisions to act (dry run included).", rs.act)
    GLOBAL("respond_dry_run_total", "counter", "Decisions to act logged only (dry run).",
           rs.dry_run)
    GLOBAL("respond_ask_total", "counter", "Decisions sent to the approval queue.", rs.ask)
    GLOBAL("respond_refused_total", "counter",
           "Decisions refused (allowlist, spoofable, limits, ...).", rs.refused)
    GLOBAL("respond_blocks_total", "counter", "Addresses added to the firewall set.", rs.blocks)
    GLOBAL("respond_block_failures_total", "counter", "Firewall changes that failed.",
           rs.block_failures)
    GLOBAL("respond_lifted_total", "counter", "Blocks lifted by hand before their expiry.",
           rs.lifted)
    GLOBAL("respond_notified_total", "counter", "Webhook, mail and exec jobs that succeeded.",
           rs.notified)
    GLOBAL("respond_notify_failures_total", "counter",
           "Webhook, mail and exec jobs with a failed action.", rs.notify_failures)
    GLOBAL("respond_approved_total", "counter", "Approved requests the engine took up.",
           rs.approved)
    return metric_latency(&rs, out);
}

/* The escalation clock (incident_clock_run.h): figures of its last look. */
static int metrics_incident_clock(struct buf *out)
{
    const struct incident_clock_stats *cs = incident_clock_stats();
    int r;

    GLOBAL("incident_overdue", "gauge",
           "Open incidents past their phase's time target at the clock's last look.",
           LOAD(cs->overdue))
    GLOBAL("incident_deadline_notices_total", "counter",
           "Notices sent at the lead time before a phase's deadline.", LOAD(cs->notices))
    GLOBAL("incident_escalations_total", "counter",
           "Escalations up the chain at and past a phase's deadline.", LOAD(cs->escalations))
    GLOBAL("incident_escalation_notify_failed_total", "counter",
           "Escalation webhooks not delivered after their retries.", LOAD(cs->notify_failed))
    GLOBAL("task_overdue", "gauge",
           "Tasks of open incidents past their due time and not done, at the clock's last look.",
           LOAD(cs->task_overdue))
    GLOBAL("task_escalations_total", "counter",
           "Overdue tasks escalated to their assignee or owner role (once per task and due time).",
           LOAD(cs->task_escalations))
    return 0;
}
#undef GLOBAL

/* The feeds fetched by URL (intel_feed.h), one series per feed. */
static int metrics_intel_feeds(struct buf *out)
{
    static const char *const results[] = {"updated", "not_modified", "failed"};
    const struct intel_feed_stat *fs;
    size_t n = intel_feed_stats(&fs);
    int r;

    if (n == 0)
        return 0;
    if ((r = metric_head(out, "intel_feed_fetches_total", "counter",
                         "Fetches of a feed by URL: imported (updated), unchanged (304, "
                         "not_modified), or failed with the feed kept (failed).")) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            uint64_t v = k == 0   ? LOAD(fs[i].updated)
                         : k == 1 ? LOAD(fs[i].not_modified)
                                  : LOAD(fs[i].failed);
            if ((r = buf_puts(out, "hikeshi_intel_feed_fetches_total{feed=\"")) < 0 ||
                (r = put_label(out, fs[i].name)) < 0 ||
                (r = buf_printf(out, "\",result=\"%s\"} %llu\n", results[k],
                                (unsigned long long)v)) < 0)
                return r;
        }
    if ((r = metric_head(out, "intel_feed_indicators", "gauge",
                         "Indicators the feed's last import took.")) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = buf_puts(out, "hikeshi_intel_feed_indicators{feed=\"")) < 0 ||
            (r = put_label(out, fs[i].name)) < 0 ||
            (r = buf_printf(out, "\"} %llu\n", (unsigned long long)LOAD(fs[i].indicators))) < 0)
            return r;
    if ((r = metric_head(out, "intel_feed_last_success_timestamp_seconds", "gauge",
                         "When the feed was last imported or found unchanged (0: never).")) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = buf_puts(out, "hikeshi_intel_feed_last_success_timestamp_seconds{feed=\"")) < 0 ||
            (r = put_label(out, fs[i].name)) < 0 ||
            (r = buf_printf(out, "\"} %lld\n", (long long)LOAD(fs[i].last_success_s))) < 0)
            return r;
    return 0;
}

/* archive.witness: per witness, the next epoch it has to take, the seals
 * it took and the attempts that failed since start, and whether it is
 * failing now (docs/archive.md, "Witnesses"). */
#define METRICS_WITNESSES 8
static int metrics_witness(const struct api_sources *src, struct buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"archive_witness_next_epoch", "gauge",
         "The epoch of the next seal the witness has to take (its seals before it are sent)."},
        {"archive_witness_seals_sent_total", "counter", "Seals the witness took since start."},
        {"archive_witness_failures_total", "counter",
         "Attempts to send a seal to the witness that failed since start (retried)."},
        {"archive_witness_failing", "gauge", "1 while the last attempt to the witness failed."},
    };
    struct pwitness_state st[METRICS_WITNESSES];
    size_t n =
        pwitness_states(parchive_witness(pipeline_archive(src->pipeline)), st, METRICS_WITNESSES);
    int r;

    if (n > METRICS_WITNESSES)
        n = METRICS_WITNESSES;
    for (size_t k = 0; n && k < sizeof(m) / sizeof(m[0]); k++) {
        if ((r = metric_head(out, m[k].name, m[k].type, m[k].help)) < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = k == 0   ? st[i].next_epoch
                         : k == 1 ? st[i].sent
                         : k == 2 ? st[i].failures
                                  : (uint64_t)st[i].failing;

            if ((r = buf_printf(out, "hikeshi_%s{witness=\"", m[k].name)) < 0 ||
                (r = put_label(out, st[i].target)) < 0 ||
                (r = buf_printf(out, "\"} %llu\n", (unsigned long long)v)) < 0)
                return r;
        }
    }
    return 0;
}

/* The Prometheus text of every counter. */
static int metrics_write(const struct api_sources *src, struct buf *out)
{
    const struct pipeline_stats *ps;
    int r;

    if (!src->pipeline) /* a collector */
        return src->nats_pub ? metrics_nats_pub(src->nats_pub, out) : 0;
    ps = pipeline_stats(src->pipeline);
    if ((r = metrics_inputs(src, out)) < 0 || (r = metrics_pipeline(ps, out)) < 0 ||
        (r = metrics_detect(ps, out)) < 0 || (r = metrics_process(src, out)) < 0 ||
        (r = metrics_incident_clock(out)) < 0 || (r = metrics_intel_feeds(out)) < 0 ||
        (r = metrics_witness(src, out)) < 0)
        return r;
    if (src->nats_sub && (r = metrics_nats_sub(src->nats_sub, ps, out)) < 0)
        return r;
    return src->respond ? metrics_respond(src->respond, out) : 0;
}

/* The archive's part of the health answer, before "inputs": its records,
 * what is synced and committed, and whether a key seals it (absent when
 * the daemon runs without one). */
static int health_archive(const struct api_sources *src, struct buf *out)
{
    const struct parchive *a = pipeline_archive(src->pipeline);
    struct pwitness_state ws[METRICS_WITNESSES];
    struct parchive_state st;
    size_t n;
    int r;

    if (!a)
        return 0;
    parchive_state(a, &st);
    r = buf_printf(out,
                   "\"archive\":{\"records\":%llu,\"synced\":%llu,\"cursor\":%llu,"
                   "\"appended\":%llu,\"replayed\":%llu,\"dropped_at_start\":%llu,"
                   "\"errors\":%llu,\"last_sync_us\":%lld,\"sync_ms\":%llu,"
                   "\"sealed\":%s,\"witness\":[",
                   (unsigned long long)st.records, (unsigned long long)st.synced,
                   (unsigned long long)st.cursor, (unsigned long long)st.appended,
                   (unsigned long long)st.replayed, (unsigned long long)st.dropped,
                   (unsigned long long)st.errors, (long long)st.last_sync_us,
                   (unsigned long long)st.sync_ms, st.sealed ? "true" : "false");
    n = pwitness_states(parchive_witness(a), ws, METRICS_WITNESSES);
    for (size_t i = 0; r >= 0 && i < n && i < METRICS_WITNESSES; i++) {
        r = buf_puts(out, i ? ",{\"target\":" : "{\"target\":");
        if (r >= 0)
            r = buf_json_str(out, ws[i].target, strlen(ws[i].target));
        if (r >= 0)
            r = buf_printf(out,
                           ",\"next_epoch\":%llu,\"sent\":%llu,\"failures\":%llu,"
                           "\"failing\":%s,\"last_error\":",
                           (unsigned long long)ws[i].next_epoch, (unsigned long long)ws[i].sent,
                           (unsigned long long)ws[i].failures, ws[i].failing ? "true" : "false");
        if (r >= 0)
            r = ws[i].last_error[0] ? buf_json_str(out, ws[i].last_error, strlen(ws[i].last_error))
                                    : buf_puts(out, "null");
        if (r >= 0)
            r = buf_putc(out, '}');
    }
    return r < 0 ? r : buf_puts(out, "]},");
}

/* An interval in whole seconds (rounded up), or null for none. */
static int health_seconds(struct buf *out, int64_t us)
{
    if (us <= 0)
        return buf_puts(out, "null");
    return buf_printf(out, "%lld", (long long)((us + 999999) / 1000000));
}

static int put_time(struct buf *out, int64_t us)
{
    char ts[TIME_ISO_LEN];

    if (us <= 0)
        return buf_puts(out, "null");
    time_format_iso(us, ts, sizeof(ts));
    return buf_printf(out, "\"%s\"", ts);
}

static const char *json_bool(uint64_t v)
{
    return v ? "true" : "false";
}

/* The rest of input i's object in the health answer: when it was last
 * heard, how its senders are watched for silence, and the first
 * HEALTH_SENDERS of them (silent ones first). */
#define HEALTH_SENDERS 32
static int health_silence(const struct api_sources *src, uint32_t i, struct buf *out)
{
    const struct pipeline_input_stats *pis = pipeline_input_stats(src->pipeline, i);
    int64_t expect = pipeline_input_expect(src->pipeline, i);
    struct pipeline_source snd[HEALTH_SENDERS];
    size_t total = pipeline_input_sources(src->pipeline, i, snd, HEALTH_SENDERS);
    size_t shown = total < HEALTH_SENDERS ? total : HEALTH_SENDERS;
    uint64_t silent = LOAD(pis->silent);
    const char *how = "off";
    int r;

    if (expect > 0)
        how = "configured";
    else if (expect == PIPELINE_EXPECT_LEARNED)
        how = "learned";
    if ((r = buf_puts(out, "\"last_record\":")) < 0 ||
        (r = put_time(out, LOAD(pis->last_us))) < 0 ||
        (r = buf_printf(out, ",\"watch\":\"%s\",\"expect_every_s\":", how)) < 0 ||
        (r = health_seconds(out, expect)) < 0 ||
        (r = buf_printf(out,
                        ",\"silent\":%s,\"silent_senders\":%llu,\"senders_total\":%zu,"
                        "\"senders\":[",
                        json_bool(silent), (unsigned long long)silent, total)) < 0)
        return r;
    for (size_t k = 0; k < shown; k++) {
        char addr[INET6_ADDRSTRLEN] = "";

        if (snd[k].family &&
            !inet_ntop(snd[k].family == 6 ? AF_INET6 : AF_INET, snd[k].addr, addr, sizeof(addr)))
            addr[0] = '\0';
        if ((r = buf_puts(out, k ? ",{\"address\":" : "{\"address\":")) < 0 ||
            (r = addr[0] ? buf_printf(out, "\"%s\"", addr) : buf_puts(out, "null")) < 0 ||
            (r = buf_puts(out, ",\"last_record\":")) < 0 ||
            (r = put_time(out, snd[k].last_us)) < 0 ||
            (r = buf_puts(out, ",\"expect_every_s\":")) < 0 ||
            (r = health_seconds(out, snd[k].every_us)) < 0 ||
            (r = buf_printf(out, ",\"learned\":%s,\"silent\":%s}", json_bool(snd[k].learned),
                            json_bool(snd[k].silent))) < 0)
            return r;
    }
    return buf_puts(out, "]}");
}

/* The health answer: status, queue, pipeline totals and each input. */
static int health_write(const struct api_sources *src, struct buf *out)
{
    const struct pipeline_stats *ps = pipeline_stats(src->pipeline);
    uint32_t n = pipeline_input_count(src->pipeline);
    uint64_t store_errors = LOAD(ps->store_errors);
    int r;

    if ((r = buf_printf(out,
                        "{\"status\":\"%s\",\"version\":\"%s\",\"uptime_seconds\":%lld,"
                        "\"queue\":{\"depth\":%zu,\"capacity\":%zu,\"high_water\":%zu},"
                        "\"pipeline\":{\"batches\":%llu,\"stored\":%llu,\"store_errors\":%llu,"
                        "\"alerts\":%llu,\"fields_dropped\":%llu},",
                        store_errors ? "degraded" : "ok", HIKESHI_VERSION,
                        (long long)((time_now_us() - src->started_us) / 1000000),
                        queue_depth(src->queue), queue_capacity(src->queue),
                        queue_high_water(src->queue), (unsigned long long)LOAD(ps->batches),
                        (unsigned long long)LOAD(ps->stored), (unsigned long long)store_errors,
                        (unsigned long long)LOAD(ps->alerts),
                        (unsigned long long)LOAD(ps->fields_dropped))) < 0)
        return r;
    if ((r = health_archive(src, out)) < 0 || (r = buf_puts(out, "\"inputs\":[")) < 0)
        return r;
    for (uint32_t i = 0; i < n; i++) {
        const struct pipeline_input_stats *pis = pipeline_input_stats(src->pipeline, i);
        const struct input_stats *is =
            src->input_stats && i < src->ninputs ? src->input_stats[i] : NULL;
        const char *name = pipeline_input_name(src->pipeline, i);

        if ((r = buf_puts(out, i ? ",{\"name\":" : "{\"name\":")) < 0 ||
            (r = buf_json_str(out, name, strlen(name))) < 0)
            return r;
        if ((r = buf_printf(
                 out,
                 ",\"received\":%llu,\"dropped\":%llu,\"truncated\":%llu,"
                 "\"connections_active\":%llu,\"processed\":%llu,\"decoded\":%llu,"
                 "\"unparsed\":%llu,\"malformed\":%llu,\"alerts\":%llu,",
                 (unsigned long long)(is ? LOAD(is->records) : 0),
                 (unsigned long long)(is ? LOAD(is->dropped) : 0),
                 (unsigned long long)(is ? LOAD(is->truncated) : 0),
                 (unsigned long long)(is ? LOAD(is->active) : 0),
                 (unsigned long long)LOAD(pis->records), (unsigned long long)LOAD(pis->decoded),
                 (unsigned long long)LOAD(pis->unparsed), (unsigned long long)LOAD(pis->malformed),
                 (unsigned long long)LOAD(pis->alerts))) < 0 ||
            (r = health_silence(src, i, out)) < 0)
            return r;
    }
    return buf_puts(out, "]}\n");
}

void api_metrics_health(struct api_call *c)
{
    if (!c->ctx->src || !c->ctx->src->pipeline) {
        api_util_answer_error(c, 503, "no pipeline", -1, NULL);
        return;
    }
    api_util_answer_json(c, 200, health_write(c->ctx->src, &c->resp->body));
}

/* Open on a loopback listener, as a health probe is; anywhere else the
 * counters tell an outsider what we see and what we miss, so a scraper
 * needs a token (any role: a viewer token made for it). */
void api_metrics_scrape(struct api_call *c)
{
    if (!c->ctx->metrics_open) {
        if (!c->ctx->cf.st) {
            api_util_answer_error(c, 503, "no store", -1, NULL);
            return;
        }
        if (api_util_authenticate(c, AUTH_ROLE_VIEWER) < 0)
            return;
    }
    if (!c->ctx->src) {
        api_util_answer_error(c, 503, "no pipeline", -1, NULL);
        return;
    }
    if (metrics_write(c->ctx->src, &c->resp->body) < 0) {
        api_util_answer_error(c, 500, "internal error", -1, NULL);
        return;
    }
    c->resp->status = 200;
    c->resp->type = "text/plain; version=0.0.4; charset=utf-8";
}

void api_metrics_openapi(struct api_call *c)
{
    api_util_answer_json(c, 200,
                         buf_append(&c->resp->body, api_openapi_json, api_openapi_json_len));
}
