/*
 * scan_report.h - the end-of-run summary of `hikeshi scan`: alerts by
 * level, the rules that fired most, per host the first and last detection
 * and its alerts by level, and the hosts with the most critical and high
 * alerts; printed on a terminal and written as one self-contained HTML
 * page.
 */
#ifndef HIKESHI_CLI_SCAN_REPORT_H
#define HIKESHI_CLI_SCAN_REPORT_H

#include <stdint.h>
#include <stdio.h>

/* Hosts tracked one by one; alerts of further hosts count under
 * "(other hosts)" so the report stays bounded whatever the input holds. */
#define SCAN_REPORT_HOSTS_MAX 4096
#define SCAN_REPORT_TOP 10

/* Alerts of one rule (kept by the caller; the report only reads them). */
struct scan_report_rule {
    char *id, *title, *author;
    int rank; /* level: 0 informational .. 4 critical */
    uint64_t n;
};

struct scan_report;

/* NULL on out of memory. */
struct scan_report *scan_report_new(void);
void scan_report_free(struct scan_report *r);

/* Counts one alert of level `rank` (0..4) at `time_us` on `host` (NULL or
 * "": "-").  0 or -ENOMEM. */
int scan_report_add(struct scan_report *r, int64_t time_us, const char *host, int rank);

/* What the page says about the run, beyond the counts. */
struct scan_report_meta {
    const char *title; /* e.g. the paths scanned */
    const char *rules; /* where the rules came from */
    uint64_t records, alerts, shown;
    const struct scan_report_rule *rules_v; /* sorted, most important first */
    size_t nrules;
};

/* The summary on `f`: alerts by level, the top rules, hosts by critical and
 * high alerts, each with its first and last detection. */
void scan_report_print(struct scan_report *r, const struct scan_report_meta *m, FILE *f);

/* The same as an HTML page in `path`, every text escaped.  0 or -errno. */
int scan_report_html(struct scan_report *r, const struct scan_report_meta *m, const char *path);

#endif
