/*
 * cli_scan.c - hikeshi scan: the pipeline offline over files.
 *
 * The same decode and detect code as the daemon, called directly (no
 * threads, no queue).  Windows EVTX files, recognised by their signature,
 * are read record by record through libevtx into a second input,
 * "scan-evtx", whose decoder is always winxml.  Alerts are kept as timeline
 * rows (scan_timeline.c) and printed at the end in event-time order, to
 * stdout or -o FILE, as a table, CSV or JSON lines, with a details column
 * from per-event-kind profiles (scan_details.c); the summary goes to
 * stderr (scan_report.c), with --summary-json to a file and with
 * --html-report to a page.  On a terminal, stderr shows a progress bar.
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/scan_details.h"
#include "cli/scan_report.h"
#include "cli/scan_timeline.h"
#include "event/event.h"
#include "event/time.h"
#include "input/input_evtx.h"
#include "input/input_jsonarray.h"
#include "input/input_reader.h"
#include "input/record.h"
#include "intel/intel.h"
#include "pipeline/pipeline.h"
#include "store/store.h"
#include "triage/alert.h"
#include "triage/anomaly.h"
#include "triage/asset.h"
#include "triage/triage.h"
#include "detect/sigma_corr.h"
#include "util/buf.h"
#include "conf/config.h"
#include "util/limits.h"
#include "util/log.h"

static const char scan_usage[] =
    "usage: hikeshi scan [OPTIONS] PATH...\n"
    "\n"
    "Runs the pipeline offline over files (plain, gzip or Windows EVTX),\n"
    "directories (recursively) or standard input ('-'), and prints the alerts.\n"
    "\n"
    "  -c, --config FILE        rules, decoders and timezone from FILE\n"
    "  -r, --rules DIR|FILE     Sigma rules from DIR (recursively, e.g. a SigmaHQ\n"
    "                           checkout's rules/windows) or FILE; repeatable.\n"
    "                           Replaces the configuration's sigma.rules (the\n"
    "                           bundled rules by default); its mappings stay\n"
    "      --from TIME          only alerts on events at or after TIME\n"
    "      --to TIME            only alerts on events before TIME (RFC 3339, seconds\n"
    "                           since the epoch, or YYYY-MM-DD: --to a date\n"
    "                           includes that whole day, UTC)\n"
    "  -o, --output FILE        write the alerts to FILE instead of stdout\n"
    "      --html-report FILE   write the summary as a self-contained HTML page\n"
    "      --sort-memory BYTES  memory for sorting the alerts by time before\n"
    "                           they go to a temporary file in $TMPDIR\n"
    "                           (default 268435456)\n"
    "  -d, --decoder NAME       decoder for every file (default: auto-detect)\n"
    "  -f, --format FMT         table (default), csv or jsonl\n"
    "      --summary-json FILE  write the summary as JSON to FILE\n"
    "      --incidents FILE     write the incidents triage opened as JSON lines\n"
    "      --store DIR          also store events and alerts in the store in DIR\n"
    "      --no-store           store nothing (the default)\n"
    "      --intel DIR|none     match the indicators of the store in DIR (default:\n"
    "                           the --store DIR, else the configuration's data_dir\n"
    "                           when it holds a store; none: no indicators)\n"
    "      --no-detect          decode only (for benchmarks)\n"
    "      --max-line BYTES     longest record kept (default 65536)\n"
    "      --min-level LEVEL    show alerts of LEVEL and above (informational, low,\n"
    "                           medium, high, critical); all are still counted\n"
    "      --progress, --no-progress\n"
    "                           progress bar on stderr (default: when a terminal)\n"
    "  -q, --quiet              no summary on stderr\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 when every input was read, 1 when some could not be, 2 on\n"
    "usage or configuration errors.\n";

enum scan_format { SCAN_TABLE, SCAN_CSV, SCAN_JSONL };

static const char *const level_names[] = {"informational", "low", "medium", "high", "critical"};
#define NLEVELS (sizeof(level_names) / sizeof(level_names[0]))

/* Alerts per rule, for the summary. */

/* The last state of an incident triage opened, for the closing list. */
struct scan_incident {
    uint64_t id;
    char *key;
    enum triage_type type;
    enum triage_alert_level level;
    enum triage_stage stage;
    enum asset_category cat;
    int64_t first_us, last_us;
    uint64_t nalerts, nevents;
    char *victims; /* "a, b" */
    int risk_opened;
    char why[TRIAGE_WHY_MAX]; /* why triage opened it */
};

struct scan {
    struct pipeline *p;
    struct scan_incident *inc; /* indexed by id - 1 */
    size_t ninc, inc_cap;
    int inc_oom;
    uint32_t evtx_input; /* pipeline input of EVTX records (winxml) */
    uint64_t evtx_skipped; /* EVTX records libevtx could not render */
    uint64_t evtx_recovered; /* EVTX records recovered from free space */
    struct store *store;
    const char *decoder;
    enum scan_format format;
    size_t max_line;
    int progress;
    int errors;
    uint64_t files;
    uint64_t bytes_done; /* bytes of finished files */
    uint64_t bytes_total;
    int64_t started_us;
    int64_t last_progress_us;
    struct buf out;
    int min_level;        /* alerts below this rank are counted, not shown */
    uint64_t shown;       /* alerts printed */
    uint64_t by_level[5]; /* alerts per level rank */
    struct scan_report_rule *rules;
    size_t nrules, rules_cap;
    struct scan_timeline *tl;  /* the rows, printed sorted at the end */
    struct scan_report *rep;   /* hosts and levels for the summary */
    FILE *outf;                /* stdout or -o FILE */
    int64_t from_us, to_us;    /* alerts on events in [from_us, to_us) */
    uint64_t out_of_range;     /* alerts left out by --from/--to */
    int row_err;               /* first error keeping a row (-errno) */
    uint64_t sort_runs;        /* runs the sort wrote to its temporary file */
    const char *cur_path;      /* the file being read: alerts raised now are its; NULL after */
    struct buf det, tac, tech; /* a row's details and ATT&CK columns */
};

static int cmp_scan_rule(const void *a, const void *b)
{
    const struct scan_report_rule *x = a, *y = b;

    if (x->rank != y->rank)
        return y->rank - x->rank;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->title, y->title);
}

/* Most alerts first: the order of "top rules". */
static int cmp_rule_count(const void *a, const void *b)
{
    const struct scan_report_rule *x = a, *y = b;

    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->title, y->title);
}

/* The closing summary on stderr: scan_report's (alerts by level, top
 * rules, hosts), then every rule by level (with the rule's author, as the
 * Detection Rule License asks). */
static void print_rule_summary(struct scan *s, const struct scan_report_meta *m)
{
    if (s->nrules == 0)
        return;
    scan_report_print(s->rep, m, stderr);
    qsort(s->rules, s->nrules, sizeof(struct scan_report_rule), cmp_scan_rule);
    fprintf(stderr, "alerts by rule:\n");
    for (size_t i = 0; i < s->nrules; i++)
        fprintf(stderr, "  %8llu  %-13s %s (%s, %s)\n", (unsigned long long)s->rules[i].n,
                level_names[s->rules[i].rank], s->rules[i].title, s->rules[i].id,
                s->rules[i].author);
}

/* 0 (informational) .. 4 (critical); unknown levels count as medium. */
static int level_rank(const char *level)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (level && strcmp(level, level_names[i]) == 0)
            return (int)i;
    return 2;
}

/* Counts alerts per rule for the closing summary. */
static void tally_rule(struct scan *s, const struct alert *a)
{
    size_t i;

    for (i = 0; i < s->nrules; i++)
        if (strcmp(s->rules[i].id, a->rule_id) == 0)
            break;
    if (i == s->nrules) {
        struct scan_report_rule *nr;

        if (s->nrules == s->rules_cap) {
            size_t ncap = s->rules_cap ? s->rules_cap * 2 : 32;
            nr = realloc(s->rules, ncap * sizeof(struct scan_report_rule));
            if (!nr)
                return;
            s->rules = nr;
            s->rules_cap = ncap;
        }
        nr = &s->rules[s->nrules];
        nr->id = strdup(a->rule_id);
        nr->title = strdup(a->rule_title);
        nr->author = strdup(a->rule_author);
        nr->rank = level_rank(a->rule_level);
        nr->n = 0;
        if (!nr->id || !nr->title || !nr->author) {
            free(nr->id);
            free(nr->title);
            free(nr->author);
            return;
        }
        s->nrules++;
    }
    s->rules[i].n++;
}

/* The timeline's "source": the Windows channel, else the dataset, else the
 * program, else the input. */
static const char *alert_source(const struct alert *a, size_t *ret_len)
{
    static const uint32_t ids[] = {FIELD_NONE, FIELD_EVENT_DATASET, FIELD_PROCESS_NAME};
    const char *v;
    uint32_t channel = field_lookup("winlog.channel", 14);

    if (channel && (v = event_get(a->ev, channel, ret_len)))
        return v;
    for (size_t i = 1; i < sizeof(ids) / sizeof(ids[0]); i++)
        if ((v = event_get(a->ev, ids[i], ret_len)))
            return v;
    *ret_len = strlen(a->input_name);
    return a->input_name;
}

/* The columns of a timeline row. */
enum scan_col {
    COL_TIME,
    COL_HOST,
    COL_SOURCE,
    COL_EID,
    COL_LEVEL,
    COL_RECID,
    COL_RULE_ID,
    COL_TITLE,
    COL_AUTHOR,
    COL_TACTICS,
    COL_TECH,
    COL_DETAILS,
    COL_FILE,
    COL_JSON,
    NCOLS
};

/* Sets col/len[c] to the event's field `name`, or "" without it. */
static void col_field(const struct event *ev, uint32_t id, const char **col, size_t *len, int c)
{
    col[c] = id != FIELD_NONE && ev ? event_get(ev, id, &len[c]) : NULL;
    if (!col[c]) {
        col[c] = "";
        len[c] = 0;
    }
}

/* -f jsonl: the row's columns added to the alert's JSON object (s->out),
 * which then stands for the whole row. */
static int alert_json_columns(struct scan *s, const struct alert *a, const char *const *col,
                              const size_t *len)
{
    struct scan_details_row row = {
        .record_id = len[COL_RECID] ? col[COL_RECID] : NULL,
        .record_id_len = len[COL_RECID],
        .tactics = s->tac.data,
        .techniques = s->tech.data,
        .file = s->cur_path,
    };
    uint32_t channel = field_lookup("winlog.channel", 14);

    /* An alert without an event has its details in the object already. */
    if (a->ev)
        row.details = s->det.data ? s->det.data : "";
    if (a->ev && channel)
        row.channel = event_get(a->ev, channel, &row.channel_len);
    return scan_details_json(&s->out, &row);
}

/* The alert as a timeline row (event time t), kept until the end. */
static int alert_row(struct scan *s, const struct alert *a, int64_t t)
{
    const char *col[NCOLS];
    size_t len[NCOLS];
    char ts[TIME_ISO_LEN];
    struct scan_timeline_row row = {.time_us = t, .col = col, .len = len};
    int r;

    buf_reset(&s->det);
    buf_reset(&s->tac);
    buf_reset(&s->tech);
    buf_reset(&s->out);
    time_format_iso(t, ts, sizeof(ts));
    col[COL_TIME] = ts;
    col[COL_LEVEL] = a->rule_level;
    col[COL_RULE_ID] = a->rule_id;
    col[COL_TITLE] = a->rule_title;
    col[COL_AUTHOR] = a->rule_author;
    col_field(a->ev, FIELD_EVENT_CODE, col, len, COL_EID);
    col_field(a->ev, field_lookup("EventRecordID", 13), col, len, COL_RECID);
    if (a->ev) {
        col_field(a->ev, FIELD_HOST_NAME, col, len, COL_HOST);
        col[COL_SOURCE] = alert_source(a, &len[COL_SOURCE]);
        r = scan_details_event(a->ev, &s->det, NULL);
    } else {
        /* A correlation hit or an anomaly: its kind stands as the source. */
        col[COL_HOST] = a->host ? a->host : "";
        len[COL_HOST] = strlen(col[COL_HOST]);
        col[COL_SOURCE] = a->kind ? a->kind : "-";
        len[COL_SOURCE] = strlen(col[COL_SOURCE]);
        r = buf_puts(&s->det, a->details ? a->details : "");
    }
    if (r < 0 || (r = scan_details_attack(a->tags, a->ntags, &s->tac, &s->tech)) < 0 ||
        (s->format == SCAN_JSONL &&
         ((r = alert_to_json(a, &s->out)) < 0 || (r = alert_json_columns(s, a, col, len)) < 0)))
        return r;
    col[COL_DETAILS] = s->det.data ? s->det.data : "";
    col[COL_TACTICS] = s->tac.data ? s->tac.data : "";
    col[COL_TECH] = s->tech.data ? s->tech.data : "";
    col[COL_JSON] = s->out.data ? s->out.data : "";
    col[COL_FILE] = s->cur_path ? s->cur_path : "";
    for (int c = 0; c < NCOLS; c++)
        if (c != COL_HOST && c != COL_SOURCE && c != COL_EID && c != COL_RECID)
            len[c] = strlen(col[c]);
    return scan_timeline_add(s->tl, &row);
}

/* The host an alert concerns, copied (cut) into buf for the summary. */
static const char *alert_host(const struct alert *a, char *buf, size_t size)
{
    size_t n = 0;
    const char *h = a->ev ? event_get(a->ev, FIELD_HOST_NAME, &n) : a->host;

    if (!h)
        return "-";
    if (!a->ev)
        n = strlen(h);
    return cli_clip(buf, size, h, n);
}

static void on_alert(void *arg, const struct alert *a)
{
    struct scan *s = arg;
    int64_t t = a->ev ? a->ev->time_us : a->time_us;
    int rank = level_rank(a->rule_level);
    char host[256];
    int r;

    if (t < s->from_us || t >= s->to_us) {
        s->out_of_range++;
        return;
    }
    s->by_level[rank]++;
    tally_rule(s, a);
    if ((r = scan_report_add(s->rep, t, alert_host(a, host, sizeof(host)), rank)) < 0 &&
        !s->row_err)
        s->row_err = r;
    if (rank < s->min_level)
        return;
    s->shown++;
    if ((r = alert_row(s, a, t)) < 0 && !s->row_err)
        s->row_err = r;
}

/* Prints one sorted row in the chosen format. */
static int emit_row(void *arg, const struct scan_timeline_row *row)
{
    struct scan *s = arg;
    FILE *f = s->outf;
    const char *const *c = row->col;
    const size_t *n = row->len;

    switch (s->format) {
    case SCAN_JSONL: fprintf(f, "%s\n", c[COL_JSON]); break;
    case SCAN_CSV:
        fprintf(f, "%s", c[COL_TIME]);
        for (int i = COL_HOST; i <= COL_FILE; i++) {
            fputc(',', f);
            cli_csv_field(f, c[i], n[i]);
        }
        fputc('\n', f);
        break;
    case SCAN_TABLE: {
        char h[20], so[28], e[10], rid[12], t[48], tech[24], d[200];
        fprintf(
            f, "%-27s %-16s %-24s %-7s %-13s %-9s %-40s %-20s %s\n", c[COL_TIME],
            cli_clip(h, sizeof(h), n[COL_HOST] ? c[COL_HOST] : "-", n[COL_HOST] ? n[COL_HOST] : 1),
            cli_clip(so, sizeof(so), c[COL_SOURCE], n[COL_SOURCE]),
            cli_clip(e, sizeof(e), n[COL_EID] ? c[COL_EID] : "-", n[COL_EID] ? n[COL_EID] : 1),
            c[COL_LEVEL],
            cli_clip(rid, sizeof(rid), n[COL_RECID] ? c[COL_RECID] : "-",
                     n[COL_RECID] ? n[COL_RECID] : 1),
            cli_clip(t, sizeof(t), c[COL_TITLE], n[COL_TITLE]),
            cli_clip(tech, sizeof(tech), n[COL_TECH] ? c[COL_TECH] : "-",
                     n[COL_TECH] ? n[COL_TECH] : 1),
            cli_clip(d, sizeof(d), c[COL_DETAILS], n[COL_DETAILS]));
        break;
    }
    }
    return ferror(f) ? -EIO : 0;
}

static void on_incident(void *arg, const struct triage_incident *inc, unsigned changed)
{
    struct scan *s = arg;
    struct scan_incident *si;
    struct buf v;
    size_t i = inc->id - 1;

    if (inc->id == 0)
        return;
    if (i >= s->inc_cap) {
        size_t cap = s->inc_cap ? s->inc_cap * 2 : 64;
        struct scan_incident *n;

        while (cap <= i)
            cap *= 2;
        n = realloc(s->inc, cap * sizeof(*n));
        if (!n) {
            s->inc_oom = 1;
            return;
        }
        memset(n + s->inc_cap, 0, (cap - s->inc_cap) * sizeof(*n));
        s->inc = n;
        s->inc_cap = cap;
    }
    si = &s->inc[i];
    if (i >= s->ninc)
        s->ninc = i + 1;
    if (!si->key)
        si->key = strdup(inc->key ? inc->key : "");
    si->id = inc->id;
    si->type = inc->type;
    si->level = inc->level;
    si->stage = inc->stage;
    si->cat = inc->cat;
    si->first_us = inc->first_us;
    si->last_us = inc->last_us;
    si->nalerts = inc->nalerts;
    si->nevents = inc->nevents;
    si->risk_opened = inc->risk_opened;
    memcpy(si->why, inc->why, sizeof(si->why));
    buf_init(&v, 64 * 1024);
    for (size_t k = 0; k < inc->nvictims; k++)
        if (buf_printf(&v, "%s%s", k ? ", " : "", inc->victims[k]) < 0)
            break;
    free(si->victims);
    si->victims = strdup(v.data ? v.data : "");
    buf_done(&v);
    if (!si->key || !si->victims)
        s->inc_oom = 1;
}

/* The incidents as JSON lines. */
static int write_incidents(const struct scan *s, const char *path)
{
    FILE *f = fopen(path, "we");
    struct buf b;

    if (!f)
        return -errno;
    buf_init(&b, 1024 * 1024);
    for (size_t i = 0; i < s->ninc; i++) {
        const struct scan_incident *si = &s->inc[i];
        char a[TIME_ISO_LEN], z[TIME_ISO_LEN];

        if (!si->id || !si->key)
            continue;
        time_format_iso(si->first_us, a, sizeof(a));
        time_format_iso(si->last_us, z, sizeof(z));
        buf_reset(&b);
        if (buf_printf(&b, "{\"id\":%llu,\"entity\":", (unsigned long long)si->id) < 0 ||
            buf_json_str(&b, si->key, strlen(si->key)) < 0 ||
            buf_printf(&b,
                       ",\"type\":\"%s\",\"level\":\"%s\",\"stage\":\"%s\",\"category\":\"%s\","
                       "\"first\":\"%s\",\"last\":\"%s\",\"alerts\":%llu,\"events\":%llu,"
                       "\"victims\":",
                       triage_type_name(si->type), triage_level_name(si->level),
                       triage_stage_name(si->stage), asset_category_name(si->cat), a, z,
                       (unsigned long long)si->nalerts, (unsigned long long)si->nevents) < 0 ||
            buf_json_str(&b, si->victims, strlen(si->victims)) < 0 ||
            buf_printf(&b, ",\"risk_opened\":%s,\"why\":", si->risk_opened ? "true" : "false") < 0 ||
            buf_json_str(&b, si->why, strnlen(si->why, sizeof(si->why))) < 0 ||
            buf_puts(&b, "}\n") < 0)
            continue;
        fwrite(b.data, 1, b.len, f);
    }
    buf_done(&b);
    return fclose(f) == 0 ? 0 : -errno;
}

static const char *corr_name(const struct sigma_corr_rule *c)
{
    return c->name ? c->name : c->id ? c->id : c->title ? c->title : "?";
}

/* The correlation memory on stderr: state against the cap, and every
 * correlation that lost groups at the cap (printed even with --quiet: a
 * group lost is a detection that may be missing from the results). */
static void print_corr_summary(const struct scan *s, const struct sigma_corr_stats *cs, int quiet)
{
    struct sigma_corr_rule_stats rs;

    if (cs->correlations == 0)
        return;
    if (!quiet)
        fprintf(stderr,
                "correlation: %llu hits, %zu groups, %zu of %zu bytes (cap %s), %llu expired, "
                "%llu evicted at the cap (single %llu, far %llu, mid %llu, near %llu)\n",
                (unsigned long long)cs->hits, cs->groups_live, cs->bytes, cs->max_bytes,
                cs->cap_sized ? "sized" : "configured", (unsigned long long)cs->evicted_age,
                (unsigned long long)cs->evicted_cap,
                (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
                (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_FAR],
                (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_MID],
                (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_NEAR]);
    for (size_t i = 0; pipeline_corr_rule_stats(s->p, i, &rs) == 0; i++)
        if (rs.evicted_cap)
            fprintf(stderr,
                    "hikeshi scan: warning: correlation %s lost %llu groups at the memory cap "
                    "(single %llu, far %llu, mid %llu, near %llu); raise correlation.max_memory\n",
                    corr_name(rs.rule), (unsigned long long)rs.evicted_cap,
                    (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
                    (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_FAR],
                    (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_MID],
                    (unsigned long long)rs.evicted_cap_cost[SIGMA_CORR_COST_NEAR]);
}

/* The summary JSON's extra correlation members (after "bytes"): the cap,
 * evictions at it by cost class and by correlation (those with any). */
static int corr_json(const struct scan *s, const struct sigma_corr_stats *cs, struct buf *j)
{
    struct sigma_corr_rule_stats rs;
    int r, first = 1;

    if ((r = buf_printf(j,
                        ",\"max_bytes\":%zu,\"cap_sized\":%s,\"evicted_cap_by_cost\":{"
                        "\"single\":%llu,\"far\":%llu,"
                        "\"mid\":%llu,\"near\":%llu},\"evicted_cap_by_rule\":{",
                        cs->max_bytes, cs->cap_sized ? "true" : "false",
                        (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_SINGLE],
                        (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_FAR],
                        (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_MID],
                        (unsigned long long)cs->evicted_cap_cost[SIGMA_CORR_COST_NEAR])) < 0)
        return r;
    for (size_t i = 0; pipeline_corr_rule_stats(s->p, i, &rs) == 0; i++) {
        const char *n = corr_name(rs.rule);
        if (!rs.evicted_cap)
            continue;
        if ((!first && (r = buf_putc(j, ',')) < 0) || (r = buf_json_str(j, n, strlen(n))) < 0 ||
            (r = buf_printf(j, ":%llu", (unsigned long long)rs.evicted_cap)) < 0)
            return r;
        first = 0;
    }
    return buf_putc(j, '}');
}

/* The funnel and the incidents, on stderr. */
static void print_incidents(const struct scan *s, const struct triage_stats *ts)
{
    fprintf(stderr,
            "funnel: %llu alerts -> %llu aggregated alerts -> %llu incidents (%llu alerts "
            "suppressed)\n",
            (unsigned long long)ts->alerts_in, (unsigned long long)ts->aggregated,
            (unsigned long long)ts->incidents_opened, (unsigned long long)ts->suppressed);
    if (s->ninc)
        fprintf(stderr, "incidents:\n");
    for (size_t i = 0; i < s->ninc; i++) {
        const struct scan_incident *si = &s->inc[i];
        char a[TIME_ISO_LEN];

        if (!si->id || !si->key)
            continue;
        time_format_iso(si->first_us, a, sizeof(a));
        fprintf(stderr, "  #%-4llu %-6s %-31s %-36s %s, %llu alerts, %llu events%s%s\n",
                (unsigned long long)si->id, triage_level_name(si->level),
                triage_type_name(si->type), si->key, a, (unsigned long long)si->nalerts,
                (unsigned long long)si->nevents, *si->victims ? "; victims: " : "", si->victims);
        if (si->why[0])
            fprintf(stderr, "        %.*s\n", (int)sizeof(si->why), si->why);
    }
}

static void print_header(const struct scan *s)
{
    if (s->format == SCAN_CSV)
        fputs("time,host,source,event_id,level,record_id,rule_id,rule_title,rule_author,"
              "tactics,techniques,details,file\n",
              s->outf);
    else if (s->format == SCAN_TABLE)
        fprintf(s->outf, "%-27s %-16s %-24s %-7s %-13s %-9s %-40s %-20s %s\n", "TIME", "HOST",
                "SOURCE", "EVENTID", "LEVEL", "RECORDID", "RULE", "ATT&CK", "DETAILS");
}

/* A counter summed over scan's inputs (plain lines and EVTX records). */
#define SCAN_TOTAL(s, member)                                                                      \
    (atomic_load(&pipeline_input_stats((s)->p, 0)->member) +                                       \
     atomic_load(&pipeline_input_stats((s)->p, (s)->evtx_input)->member))

static void progress(struct scan *s, const struct line_reader *lr, const char *file, int final)
{
    int64_t now = time_now_us();
    uint64_t done = s->bytes_done + (lr ? line_reader_consumed(lr) : 0);
    uint64_t records = SCAN_TOTAL(s, records);
    double secs = (double)(now - s->started_us) / 1e6;
    unsigned pct = s->bytes_total ? (unsigned)(done * 100 / s->bytes_total) : 0;
    char bar[31];

    if (!s->progress || (!final && now - s->last_progress_us < 200000))
        return;
    s->last_progress_us = now;
    if (pct > 100)
        pct = 100;
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '=' : ' ';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3u%% %llu records %.0f/s %-30.30s", bar, pct,
            (unsigned long long)records, secs > 0 ? (double)records / secs : 0.0,
            file ? file : "");
    if (final)
        fputc('\n', stderr);
}

/* Adds the record (xml, len) to `b`, handing `b` to the pipeline first when
 * it is full.  0 or -ENOMEM. */
static int batch_add(struct scan *s, struct rec_batch *b, const char *data, size_t len,
                     int64_t ref, unsigned flags, const struct line_reader *lr, const char *path)
{
    if (b->nrec < LIMIT_BATCH_RECORDS && rec_batch_add(b, data, len, ref, (uint16_t)flags))
        return 0;
    pipeline_process(s->p, b);
    rec_batch_clear(b);
    progress(s, lr, path, 0);
    return rec_batch_add(b, data, len, ref, (uint16_t)flags) ? 0 : -ENOMEM;
}

/* An EVTX file: each record's event XML is one record of the EVTX input.
 * Records libevtx cannot render are skipped and counted, never fatal. */
static int scan_evtx(struct scan *s, const char *path)
{
    struct input_evtx *x;
    struct rec_batch *b;
    struct stat sb;
    const char *xml;
    size_t len;
    int r;
    int64_t ref = time_now_us();

    r = input_evtx_open(path, &x);
    if (r < 0) {
        fprintf(stderr, "%shikeshi scan: %s: %s\n", s->progress ? "\n" : "", path,
                r == -EINVAL ? "unreadable EVTX file header" : strerror(-r));
        s->errors++;
        return 0;
    }
    s->files++;
    if (stat(path, &sb) == 0)
        ref = (int64_t)sb.st_mtime * 1000000 + sb.st_mtim.tv_nsec / 1000;
    else
        sb.st_size = 0;
    pipeline_set_ref_time(s->p, ref);
    b = rec_batch_new(s->evtx_input, LIMIT_BATCH_BYTES);
    if (!b) {
        input_evtx_free(x);
        return -ENOMEM;
    }
    while ((r = input_evtx_next(x, &xml, &len)) == 1) {
        unsigned flags = 0;

        if (len > s->max_line) {
            len = s->max_line;
            flags = RECORD_TRUNCATED;
        }
        if ((r = batch_add(s, b, xml, len, ref, flags, NULL, path)) < 0)
            break;
    }
    if (b->nrec)
        pipeline_process(s->p, b);
    if (r < 0) {
        fprintf(stderr, "%shikeshi scan: %s: %s\n", s->progress ? "\n" : "", path, strerror(-r));
        s->errors++;
    }
    s->evtx_skipped += input_evtx_stats(x)->skipped;
    s->evtx_recovered += input_evtx_stats(x)->recovered;
    s->bytes_done += (uint64_t)sb.st_size;
    rec_batch_free(b);
    input_evtx_free(x);
    return 0;
}

/* Where the elements of a JSON array file go. */
struct array_sink {
    struct scan *s;
    struct rec_batch *b;
    int64_t ref;
    const struct line_reader *lr;
    const char *path;
};

static int array_emit(void *arg, const char *rec, size_t len, unsigned flags)
{
    struct array_sink *k = arg;

    return batch_add(k->s, k->b, rec, len, k->ref, flags, k->lr, k->path);
}

/* The rest of a file whose first line opened a JSON array: one record per
 * element.  A line the reader had to cut cannot be framed any more: the
 * elements before it are scanned and the file is reported. */
static int scan_array(struct scan *s, struct rec_batch *b, struct line_reader *lr,
                      const char *path, int64_t ref, const char *line, size_t len,
                      unsigned flags)
{
    struct array_sink k = {s, b, ref, lr, path};
    struct jsonarray a;
    uint64_t lineno = 1;
    size_t off = 0;
    int r;

    if ((r = input_jsonarray_init(&a, s->max_line)) < 0)
        return r;
    do {
        if (flags & RECORD_TRUNCATED) {
            fprintf(stderr, "%shikeshi scan: %s:%llu: JSON array line longer than %zu bytes: "
                    "the rest of the file is skipped (one element per line: jq -c '.[]')\n",
                    s->progress ? "\n" : "", path, (unsigned long long)lineno, s->max_line);
            s->errors++;
            r = 0;
            goto out;
        }
        r = input_jsonarray_feed(&a, line, len, array_emit, &k, &off);
        if (r == -EBADMSG) {
            fprintf(stderr, "%shikeshi scan: %s:%llu:%zu: not a JSON array of objects here: "
                    "the rest of the file is skipped\n",
                    s->progress ? "\n" : "", path, (unsigned long long)lineno, off + 1);
            s->errors++;
            r = 0;
            goto out;
        }
        if (r < 0)
            goto out;
        lineno++;
    } while ((r = line_reader_next(lr, &line, &len, &flags)) == 1);
    if (r == 0 && input_jsonarray_finish(&a) < 0) {
        fprintf(stderr, "%shikeshi scan: %s: the JSON array is not closed (%zu elements read)\n",
                s->progress ? "\n" : "", path, a.elements);
        s->errors++;
    }
out:
    input_jsonarray_done(&a);
    return r;
}

static int scan_file(void *arg, const char *path)
{
    struct scan *s = arg;
    struct line_reader *lr;
    struct rec_batch *b;
    const char *line;
    size_t len;
    unsigned flags;
    int r;
    int64_t ref = time_now_us();

    s->cur_path = path; /* valid until the walk's next file; cleared before the flush */
    if (strcmp(path, "-") != 0 && input_evtx_is_evtx(path))
        return scan_evtx(s, path);
    r = line_reader_open(path, s->max_line, &lr);
    if (r < 0) {
        fprintf(stderr, "%shikeshi scan: %s: %s\n", s->progress ? "\n" : "", path, strerror(-r));
        s->errors++;
        return 0;
    }
    s->files++;
    /* RFC 3164 has no year: infer it from the file's modification time. */
    if (strcmp(path, "-") != 0) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            ref = (int64_t)sb.st_mtime * 1000000 + sb.st_mtim.tv_nsec / 1000;
    }
    pipeline_set_ref_time(s->p, ref);
    b = rec_batch_new(0, LIMIT_BATCH_BYTES);
    if (!b) {
        line_reader_free(lr);
        return -ENOMEM;
    }
    /* A file written as one JSON array (first line "[" or "[{") gives one
     * record per element; anything else one per line. */
    r = line_reader_next(lr, &line, &len, &flags);
    if (r == 1 && input_jsonarray_starts(line, len))
        r = scan_array(s, b, lr, path, ref, line, len, flags);
    else
        while (r == 1) {
            if ((r = batch_add(s, b, line, len, ref, flags, lr, path)) < 0)
                break;
            r = line_reader_next(lr, &line, &len, &flags);
        }
    if (b->nrec)
        pipeline_process(s->p, b);
    if (r < 0) {
        fprintf(stderr, "%shikeshi scan: %s: %s\n", s->progress ? "\n" : "", path,
                r == -EBADMSG ? "corrupt compressed data (lines before it were scanned)"
                              : strerror(-r));
        s->errors++;
    }
    s->bytes_done += line_reader_size(lr) ? line_reader_size(lr) : line_reader_consumed(lr);
    rec_batch_free(b);
    line_reader_free(lr);
    return 0;
}

static void walk_error(void *arg, const char *path, int err)
{
    struct scan *s = arg;

    fprintf(stderr, "hikeshi scan: %s: %s\n", path, strerror(-err));
    s->errors++;
}

static int add_size(void *arg, const char *path)
{
    struct scan *s = arg;
    struct stat sb;

    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0)
        s->bytes_total += (uint64_t)sb.st_size;
    return 0;
}

static void silent_error(void *arg, const char *path, int err)
{
}

/* What the command line asked for, beyond what goes straight into the
 * scan (decoder, format, max_line, min_level). */
struct scan_opts {
    const char *cfg_path, *summary_path, *store_dir, *incidents_path;
    const char *out_path, *html_path;
    const char *intel_dir; /* --intel: NULL the default, "none" */
    const char **rule_paths; /* -r, argc slots; nrule_paths used (argv's strings) */
    size_t nrule_paths;
    size_t sort_memory;
    char **paths; /* the PATHs, for the report's title */
    int npaths;
    int detect, quiet;
    int progress_opt; /* -1: when stderr is a terminal */
};

/* The figures of a finished scan, for the summary and its JSON. */
struct scan_totals {
    unsigned long long rec, dec, unp, mal, tru, al, by, esk;
    double secs;
    struct rusage ru;
    struct triage_stats ts;
    struct anomaly_stats as;
    struct sigma_corr_stats cs;
};

/* --from/--to: RFC 3339 (or ISO 8601) time, epoch seconds, or a date
 * (midnight UTC; for --to, `end` set, the midnight after it, so the day is
 * in).  0 or -EINVAL. */
static int parse_range_time(const char *arg, int end, int64_t *ret)
{
    size_t n = strlen(arg), used = 0;
    char day[32];

    if (n == 10 && arg[4] == '-' && arg[7] == '-') {
        snprintf(day, sizeof(day), "%sT00:00:00Z", arg);
        if (time_parse_iso8601(day, strlen(day), NULL, ret, &used) < 0 || used != strlen(day))
            return -EINVAL;
        if (end)
            *ret += 86400LL * 1000000;
        return 0;
    }
    if (time_parse_iso8601(arg, n, NULL, ret, &used) == 0 && used == n)
        return 0;
    used = 0;
    if (time_parse_epoch(arg, n, ret, &used) == 0 && used == n)
        return 0;
    return -EINVAL;
}

enum scan_opt {
    OPT_SUMMARY = 256,
    OPT_STORE,
    OPT_NO_STORE,
    OPT_NO_DETECT,
    OPT_MAX_LINE,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_MIN_LEVEL,
    OPT_INCIDENTS,
    OPT_FROM,
    OPT_TO,
    OPT_HTML,
    OPT_INTEL,
    OPT_SORT_MEMORY
};

/* The timeline's options (-r, -o, --html-report, --from, --to,
 * --sort-memory).  -1 when taken, -2 when ch is another option, or the
 * exit code of a usage error. */
static int scan_timeline_opt(int ch, const char *arg, struct scan *s, struct scan_opts *o)
{
    char *end;
    unsigned long long v;

    switch (ch) {
    case 'r': o->rule_paths[o->nrule_paths++] = arg; return -1;
    case 'o': o->out_path = arg; return -1;
    case OPT_HTML: o->html_path = arg; return -1;
    case OPT_FROM:
    case OPT_TO:
        if (parse_range_time(arg, ch == OPT_TO, ch == OPT_FROM ? &s->from_us : &s->to_us) < 0)
            return cli_usage_error("scan",
                                   "%s %s: not an RFC 3339 time, a date (YYYY-MM-DD) or "
                                   "seconds since the epoch",
                                   ch == OPT_FROM ? "--from" : "--to", arg);
        return -1;
    case OPT_SORT_MEMORY:
        v = strtoull(arg, &end, 10);
        if (*end || *arg == '-' || v < 1 || v > (1ULL << 40))
            return cli_usage_error("scan", "--sort-memory must be between 1 and 2^40 bytes");
        o->sort_memory = (size_t)v;
        return -1;
    default: return -2;
    }
}

/* Parses the options into *s and *o.  Returns -1 to go on, or the exit
 * code when the command ends here (--help, a usage error). */
static int scan_parse_opts(int argc, char **argv, struct scan *s, struct scan_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"decoder", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"summary-json", required_argument, NULL, OPT_SUMMARY},
        {"incidents", required_argument, NULL, OPT_INCIDENTS},
        {"store", required_argument, NULL, OPT_STORE},
        {"no-store", no_argument, NULL, OPT_NO_STORE},
        {"intel", required_argument, NULL, OPT_INTEL},
        {"no-detect", no_argument, NULL, OPT_NO_DETECT},
        {"max-line", required_argument, NULL, OPT_MAX_LINE},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"min-level", required_argument, NULL, OPT_MIN_LEVEL},
        {"rules", required_argument, NULL, 'r'},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"output", required_argument, NULL, 'o'},
        {"html-report", required_argument, NULL, OPT_HTML},
        {"sort-memory", required_argument, NULL, OPT_SORT_MEMORY},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, r;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:f:r:o:qh", opts, NULL)) != -1) {
        if ((r = scan_timeline_opt(ch, optarg, s, o)) != -2) {
            if (r >= 0)
                return r;
            continue;
        }
        switch (ch) {
        case 'c': o->cfg_path = optarg; break;
        case 'd': s->decoder = optarg; break;
        case 'f':
            if (strcmp(optarg, "table") == 0)
                s->format = SCAN_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                s->format = SCAN_CSV;
            else if (strcmp(optarg, "jsonl") == 0)
                s->format = SCAN_JSONL;
            else
                return cli_usage_error("scan", "format must be table, csv or jsonl");
            break;
        case OPT_SUMMARY: o->summary_path = optarg; break;
        case OPT_INCIDENTS: o->incidents_path = optarg; break;
        case OPT_STORE: o->store_dir = optarg; break;
        case OPT_NO_STORE: o->store_dir = NULL; break;
        case OPT_INTEL: o->intel_dir = optarg; break;
        case OPT_NO_DETECT: o->detect = 0; break;
        case OPT_MAX_LINE: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || v < LIMIT_LINE_MIN || v > LIMIT_LINE_MAX)
                return cli_usage_error("scan", "--max-line must be between %d and %d", LIMIT_LINE_MIN,
                                       LIMIT_LINE_MAX);
            s->max_line = (size_t)v;
            break;
        }
        case OPT_PROGRESS: o->progress_opt = 1; break;
        case OPT_NO_PROGRESS: o->progress_opt = 0; break;
        case OPT_MIN_LEVEL: {
            size_t i;
            for (i = 0; i < NLEVELS; i++)
                if (strcmp(optarg, level_names[i]) == 0)
                    break;
            if (i == NLEVELS)
                return cli_usage_error("scan", "--min-level must be informational, low, medium, "
                                               "high or critical");
            s->min_level = (int)i;
            break;
        }
        case 'q': o->quiet = 1; break;
        case 'h': fputs(scan_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("scan", "unknown or incomplete option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("scan", "no PATH given (use '-' for standard input)");
    return -1;
}

/* Creates DIR (once) and opens the store in it into s->store.  Returns -1
 * (said on stderr) on failure. */
static int scan_open_store(struct scan *s, const char *dir)
{
    char *store_err = NULL;
    int r;

    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        fprintf(stderr, "hikeshi scan: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if ((r = store_open(dir, &s->store, &store_err)) < 0) {
        fprintf(stderr, "hikeshi scan: store in %s: %s\n", dir,
                store_err ? store_err : strerror(-r));
        free(store_err);
        return -1;
    }
    return 0;
}

/*
 * The indicators for a scan without --store (with one, the pipeline loads
 * that store's): those of the store in --intel DIR, or in the
 * configuration's data_dir when it holds one, so that `hikeshi scan`
 * matches what the daemon would.  A data_dir without a store is no error
 * (a scan needs none); --intel DIR without one, or a store that cannot be
 * read, is.  0, or the exit code (said on stderr).
 */
static int scan_load_intel(struct scan *s, const struct config *cfg, const struct scan_opts *o)
{
    const char *dir = o->intel_dir ? o->intel_dir : cfg->data_dir;
    struct intel_matcher *m = NULL;
    struct store *st = NULL;
    char *store_err = NULL, db[4096];
    size_t n = 0;
    int r;

    if (s->store || !dir || (o->intel_dir && strcmp(o->intel_dir, "none") == 0))
        return 0;
    if (snprintf(db, sizeof(db), "%s/hikeshi.db", dir) >= (int)sizeof(db)) {
        fprintf(stderr, "hikeshi scan: --intel %s: path too long\n", dir);
        return CLI_EXIT_USAGE;
    }
    if (access(db, F_OK) < 0) {
        if (!o->intel_dir)
            return 0;
        fprintf(stderr, "hikeshi scan: --intel %s: no store there (%s: %s)\n", dir, db,
                strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if ((r = store_open(dir, &st, &store_err)) < 0) {
        fprintf(stderr, "hikeshi scan: indicators: store in %s: %s\n", dir,
                store_err ? store_err : strerror(-r));
        free(store_err);
        return CLI_EXIT_FAIL;
    }
    r = intel_matcher_load(st, time_now_us(), (int64_t)cfg->intel_half_life_s * 1000000,
                           (int)cfg->intel_min_score, &m, &n);
    if (r < 0)
        fprintf(stderr, "hikeshi scan: indicators: store in %s: %s\n", dir,
                r == -ENOMEM ? strerror(ENOMEM) : store_errmsg(st));
    store_free(st);
    if (r < 0)
        return CLI_EXIT_FAIL;
    if (n == 0) {
        intel_matcher_free(m);
        return 0;
    }
    pipeline_set_intel(s->p, m);
    if (!o->quiet)
        fprintf(stderr, "hikeshi scan: %zu indicators from %s\n", n, dir);
    return 0;
}

/* Builds the pipeline into s->p, with its two inputs (the paths, and the
 * EVTX records) and the scan's callbacks.  Returns 0, or the exit code
 * (said on stderr). */
static int scan_new_pipeline(struct scan *s, struct config *cfg, const struct scan_opts *o)
{
    int r;

    /* scan's inputs are its paths, not the config's listeners. */
    config_clear_inputs(cfg);
    /* pipeline_new says why it failed (rules that do not load, say). */
    if (!(s->p = pipeline_new(cfg, s->store, NULL)))
        return CLI_EXIT_FAIL;
    if (pipeline_add_input(s->p, "scan", s->decoder) < 0 ||
        (r = pipeline_add_input(s->p, "scan-evtx", "winxml")) < 0) {
        fprintf(stderr, "hikeshi scan: unknown decoder (see hikeshi.yaml(5) for the list)\n");
        return CLI_EXIT_USAGE;
    }
    s->evtx_input = (uint32_t)r;
    pipeline_set_detect(s->p, o->detect);
    pipeline_set_store_events(s->p, s->store != NULL);
    pipeline_set_alert_cb(s->p, on_alert, s);
    pipeline_set_incident_cb(s->p, on_incident, s);
    return scan_load_intel(s, cfg, o);
}

/* The rows, sorted by event time, to stdout or -o FILE.  An error keeping
 * or writing rows counts as an error of the scan. */
static void scan_print_rows(struct scan *s)
{
    const struct scan_timeline_stats *st = scan_timeline_stats(s->tl);
    int r;

    if (s->row_err) {
        fprintf(stderr,
                "hikeshi scan: keeping the alerts for sorting: %s (the output lacks some)\n",
                strerror(-s->row_err));
        s->errors++;
    }
    r = scan_timeline_finish(s->tl, emit_row, s);
    if (r < 0) {
        fprintf(stderr, "hikeshi scan: writing the sorted alerts: %s\n", strerror(-r));
        s->errors++;
    }
    s->sort_runs = st->runs;
    if (fflush(s->outf) != 0 || ferror(s->outf)) {
        fprintf(stderr, "hikeshi scan: writing the alerts: %s\n", strerror(errno));
        s->errors++;
    }
}

/* Scans every PATH (files, directories, '-') through the pipeline in one
 * store transaction, with the progress bar when asked for. */
static void scan_paths(struct scan *s, int npaths, char **paths)
{
    int r;

    if (s->progress)
        for (int i = 0; i < npaths; i++)
            input_walk(paths[i], add_size, silent_error, s);
    s->started_us = time_now_us();
    print_header(s);
    if (s->store)
        store_begin(s->store);
    for (int i = 0; i < npaths; i++) {
        if ((r = input_walk(paths[i], scan_file, walk_error, s)) < 0) {
            fprintf(stderr, "hikeshi scan: %s: %s\n", paths[i], strerror(-r));
            s->errors++;
        }
    }
    s->cur_path = NULL;
    pipeline_flush(s->p);
    if (s->store && store_commit(s->store) < 0) {
        fprintf(stderr, "hikeshi scan: store: %s\n", store_errmsg(s->store));
        s->errors++;
    }
    progress(s, NULL, "done", 1);
    scan_print_rows(s);
}

/* --summary-json: the scan's figures as one JSON object in PATH.  A
 * failure counts as an error of the scan. */
static void scan_write_summary(struct scan *s, const char *path, const struct scan_totals *t)
{
    FILE *f = fopen(path, "we");
    struct buf cj;

    buf_init(&cj, 1024 * 1024);
    if (corr_json(s, &t->cs, &cj) < 0) {
        buf_reset(&cj);
        s->errors++;
    }
    if (!f) {
        fprintf(stderr, "hikeshi scan: %s: %s\n", path, strerror(errno));
        s->errors++;
    } else {
        fprintf(f,
                "{\"files\":%llu,\"records\":%llu,\"decoded\":%llu,\"unparsed\":%llu,"
                "\"malformed\":%llu,\"truncated\":%llu,\"evtx_records_skipped\":%llu,"
                "\"evtx_records_recovered\":%llu,\"alerts\":%llu,\"alerts_shown\":%llu,\"alerts_by_"
                "level\":{"
                "\"informational\":%llu,\"low\":%llu,\"medium\":%llu,\"high\":%llu,"
                "\"critical\":%llu},\"aggregated\":%llu,\"incidents\":%llu,"
                "\"suppressed\":%llu,\"correlation\":{\"hits\":%llu,\"groups\":%zu,"
                "\"evicted_age\":%llu,\"evicted_cap\":%llu,\"late\":%llu,"
                "\"bytes\":%zu%s},\"anomaly\":{\"baselines\":%llu,\"evicted\":%llu,"
                "\"bytes\":%zu},\"bytes\":%llu,"
                "\"errors\":%d,\"seconds\":%.6f,\"records_per_second\":%.1f,"
                "\"max_rss_kb\":%ld,\"alerts_out_of_range\":%llu,\"sort_runs\":%llu}\n",
                (unsigned long long)s->files, t->rec, t->dec, t->unp, t->mal, t->tru, t->esk,
                (unsigned long long)s->evtx_recovered, t->al, (unsigned long long)s->shown,
                (unsigned long long)s->by_level[0], (unsigned long long)s->by_level[1],
                (unsigned long long)s->by_level[2], (unsigned long long)s->by_level[3],
                (unsigned long long)s->by_level[4], (unsigned long long)t->ts.aggregated,
                (unsigned long long)t->ts.incidents_opened, (unsigned long long)t->ts.suppressed,
                (unsigned long long)t->cs.hits, t->cs.groups_live,
                (unsigned long long)t->cs.evicted_age, (unsigned long long)t->cs.evicted_cap,
                (unsigned long long)t->cs.late_dropped, t->cs.bytes, cj.data ? cj.data : "",
                (unsigned long long)t->as.entries, (unsigned long long)t->as.evicted,
                t->as.mem_used, t->by, s->errors, t->secs,
                t->secs > 0 ? (double)t->rec / t->secs : 0.0, t->ru.ru_maxrss,
                (unsigned long long)s->out_of_range, (unsigned long long)s->sort_runs);
        fclose(f);
    }
    buf_done(&cj);
}

/* The report: on stderr (unless -q) and with --html-report as a page. */
static void scan_report_out(struct scan *s, const struct scan_opts *o, const struct scan_totals *t)
{
    struct scan_report_meta m = {.records = t->rec, .alerts = t->al, .shown = s->shown};
    struct buf title, rules;
    int r;

    buf_init(&title, 4096);
    buf_init(&rules, 4096);
    for (int i = 0; i < o->npaths; i++)
        if (buf_printf(&title, "%s%s", i ? ", " : "", o->paths[i]) < 0)
            break;
    if (o->nrule_paths == 0)
        buf_puts(&rules, "the configuration's sigma.rules");
    for (size_t i = 0; i < o->nrule_paths; i++)
        if (buf_printf(&rules, "%s%s", i ? ", " : "-r ", o->rule_paths[i]) < 0)
            break;
    m.title = title.data ? title.data : "";
    m.rules = rules.data ? rules.data : "";
    if (s->nrules) /* rules is NULL when no alert was counted */
        qsort(s->rules, s->nrules, sizeof(struct scan_report_rule), cmp_rule_count);
    m.rules_v = s->rules;
    m.nrules = s->nrules;
    if (!o->quiet && s->out_of_range)
        fprintf(stderr, "%llu alerts on events outside --from/--to left out\n",
                (unsigned long long)s->out_of_range);
    if (o->html_path && (r = scan_report_html(s->rep, &m, o->html_path)) < 0) {
        fprintf(stderr, "hikeshi scan: %s: %s\n", o->html_path, strerror(-r));
        s->errors++;
    }
    if (!o->quiet)
        print_rule_summary(s, &m);
    buf_done(&title);
    buf_done(&rules);
}

/* The end of a scan: the summary on stderr (unless -q), the correlation,
 * rule and incident lists, --incidents and --summary-json. */
static void scan_summarize(struct scan *s, const struct scan_opts *o)
{
    const struct pipeline_stats *ps = pipeline_stats(s->p);
    struct scan_totals t = {
        .secs = (double)(time_now_us() - s->started_us) / 1e6,
        .rec = SCAN_TOTAL(s, records),
        .dec = SCAN_TOTAL(s, decoded),
        .unp = SCAN_TOTAL(s, unparsed),
        .mal = SCAN_TOTAL(s, malformed),
        .tru = SCAN_TOTAL(s, truncated),
        .al = atomic_load(&ps->alerts),
        .by = SCAN_TOTAL(s, bytes),
        .esk = s->evtx_skipped,
    };
    int r;

    getrusage(RUSAGE_SELF, &t.ru);
    if (!o->quiet)
        fprintf(stderr,
                "hikeshi scan: %llu files, %llu records (%llu decoded, %llu unparsed, %llu "
                "malformed, %llu truncated, %llu evtx skipped), %llu alerts, %.3f s, "
                "%.0f records/s\n",
                (unsigned long long)s->files, t.rec, t.dec, t.unp, t.mal, t.tru, t.esk, t.al,
                t.secs, t.secs > 0 ? (double)t.rec / t.secs : 0.0);
    pipeline_triage_stats(s->p, &t.ts, &t.as, &t.cs);
    if (o->detect)
        print_corr_summary(s, &t.cs, o->quiet);
    scan_report_out(s, o, &t);
    if (!o->quiet) {
        if (o->detect)
            print_incidents(s, &t.ts);
    }
    if (s->inc_oom) {
        fprintf(stderr, "hikeshi scan: out of memory listing incidents\n");
        s->errors++;
    }
    if (o->incidents_path && (r = write_incidents(s, o->incidents_path)) < 0) {
        fprintf(stderr, "hikeshi scan: %s: %s\n", o->incidents_path, strerror(-r));
        s->errors++;
    }
    if (o->summary_path)
        scan_write_summary(s, o->summary_path, &t);
}

/* Frees what a scan holds: the pipeline, the store, the configuration
 * CFG and the lists. */
static void scan_done(struct scan *s, struct config *cfg)
{
    pipeline_free(s->p);
    store_free(s->store);
    config_free(cfg);
    buf_done(&s->out);
    for (size_t i = 0; i < s->nrules; i++) {
        free(s->rules[i].id);
        free(s->rules[i].title);
        free(s->rules[i].author);
    }
    free(s->rules);
    for (size_t i = 0; i < s->ninc; i++) {
        free(s->inc[i].key);
        free(s->inc[i].victims);
    }
    free(s->inc);
    scan_timeline_free(s->tl);
    scan_report_free(s->rep);
    buf_done(&s->det);
    buf_done(&s->tac);
    buf_done(&s->tech);
    if (s->outf && s->outf != stdout)
        fclose(s->outf);
}

/* -r: the rule paths replace the configuration's sigma.rules, and as
 * rules asked for by name, a path that does not load is an error (not the
 * quiet fallback of missing bundled rules). */
static int scan_set_rules(struct config *cfg, const struct scan_opts *o)
{
    char **v;

    if (o->nrule_paths == 0)
        return 0;
    if (!(v = calloc(o->nrule_paths, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < o->nrule_paths; i++)
        if (!(v[i] = strdup(o->rule_paths[i]))) {
            while (i-- > 0)
                free(v[i]);
            free(v);
            return -ENOMEM;
        }
    for (size_t i = 0; i < cfg->nsigma_rules; i++)
        free(cfg->sigma_rules[i]);
    free(cfg->sigma_rules);
    cfg->sigma_rules = v;
    cfg->nsigma_rules = o->nrule_paths;
    cfg->sigma_explicit = 1; /* asked for: rules that do not load end the scan */
    return 0;
}

/* The timeline, the report and the output file.  0, or the exit code
 * (said on stderr). */
static int scan_open_output(struct scan *s, const struct scan_opts *o)
{
    if (scan_timeline_new(NCOLS, o->sort_memory, NULL, &s->tl) < 0 ||
        !(s->rep = scan_report_new())) {
        fprintf(stderr, "hikeshi scan: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    s->outf = stdout;
    if (o->out_path && !(s->outf = fopen(o->out_path, "we"))) {
        fprintf(stderr, "hikeshi scan: %s: %s\n", o->out_path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

int cli_scan_main(int argc, char **argv)
{
    struct scan s;
    struct scan_opts o = {.detect = 1, .progress_opt = -1, .sort_memory = 256u * 1024 * 1024};
    struct config *cfg = NULL;
    int r, rc = CLI_EXIT_OK;

    memset(&s, 0, sizeof(s));
    s.max_line = LIMIT_LINE_DEFAULT;
    s.from_us = INT64_MIN;
    s.to_us = INT64_MAX;
    buf_init(&s.out, 64 * 1024 * 1024);
    buf_init(&s.det, 64 * 1024);
    buf_init(&s.tac, 16 * 1024);
    buf_init(&s.tech, 16 * 1024);
    if (!(o.rule_paths = calloc((size_t)argc + 1, sizeof(const char *))))
        return CLI_EXIT_FAIL;
    if ((r = scan_parse_opts(argc, argv, &s, &o)) >= 0) {
        rc = r;
        goto out;
    }
    o.paths = argv + optind;
    o.npaths = argc - optind;
    cfg = cli_load_config(o.cfg_path);
    if (!cfg) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (scan_set_rules(cfg, &o) < 0) {
        fprintf(stderr, "hikeshi scan: out of memory\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if ((rc = scan_open_output(&s, &o)) != 0)
        goto out;
    if (o.store_dir && scan_open_store(&s, o.store_dir) < 0) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if ((rc = scan_new_pipeline(&s, cfg, &o)) != 0)
        goto out;
    s.progress = o.progress_opt >= 0 ? o.progress_opt : isatty(STDERR_FILENO);
    scan_paths(&s, o.npaths, o.paths);
    scan_summarize(&s, &o);
    if (s.errors)
        rc = CLI_EXIT_FAIL;
out:
    scan_done(&s, cfg);
    free(o.rule_paths);
    return rc;
}
