/*
 * scan_report.c - the end-of-run summary of `hikeshi scan` on a terminal
 * and as HTML (scan_report.h).
 *
 * Hosts are found by a linear search behind a one-entry cache: a scan's
 * alerts come in runs from the same host (one file is usually one host),
 * and the list is capped, so the search stays cheap and bounded.
 */
#include "cli/scan_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/time.h"

static const char *const level_label[5] = {"informational", "low", "medium", "high", "critical"};

struct report_host {
    char *name;
    int64_t first_us, last_us;
    uint64_t by_level[5], n;
};

struct scan_report {
    struct report_host *h;
    size_t nh, cap, last;
    struct report_host other; /* hosts past SCAN_REPORT_HOSTS_MAX */
    uint64_t by_level[5];
};

struct scan_report *scan_report_new(void)
{
    return calloc(1, sizeof(struct scan_report));
}

void scan_report_free(struct scan_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nh; i++)
        free(r->h[i].name);
    free(r->h);
    free(r);
}

static void host_count(struct report_host *h, int64_t t, int rank)
{
    if (h->n == 0 || t < h->first_us)
        h->first_us = t;
    if (h->n == 0 || t > h->last_us)
        h->last_us = t;
    h->n++;
    h->by_level[rank]++;
}

static struct report_host *find_host(struct scan_report *r, const char *host)
{
    if (r->last < r->nh && strcmp(r->h[r->last].name, host) == 0)
        return &r->h[r->last];
    for (size_t i = 0; i < r->nh; i++)
        if (strcmp(r->h[i].name, host) == 0) {
            r->last = i;
            return &r->h[i];
        }
    return NULL;
}

int scan_report_add(struct scan_report *r, int64_t time_us, const char *host, int rank)
{
    struct report_host *h;

    if (rank < 0 || rank > 4)
        rank = 2;
    if (!host || !*host)
        host = "-";
    r->by_level[rank]++;
    if (!(h = find_host(r, host))) {
        if (r->nh >= SCAN_REPORT_HOSTS_MAX) {
            host_count(&r->other, time_us, rank);
            return 0;
        }
        if (r->nh == r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : 32;
            struct report_host *nh = realloc(r->h, ncap * sizeof(*nh));
            if (!nh)
                return -ENOMEM;
            r->h = nh;
            r->cap = ncap;
        }
        h = &r->h[r->nh];
        memset(h, 0, sizeof(*h));
        if (!(h->name = strdup(host)))
            return -ENOMEM;
        r->last = r->nh++;
    }
    host_count(h, time_us, rank);
    return 0;
}

/* Most critical, then most high, then most alerts, then by name. */
static int cmp_host(const void *a, const void *b)
{
    const struct report_host *x = a, *y = b;

    for (int l = 4; l >= 3; l--)
        if (x->by_level[l] != y->by_level[l])
            return x->by_level[l] < y->by_level[l] ? 1 : -1;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

void scan_report_print(struct scan_report *r, const struct scan_report_meta *m, FILE *f)
{
    char a[TIME_ISO_LEN], z[TIME_ISO_LEN];
    size_t n;

    fprintf(f, "alerts by level:");
    for (int i = 4; i >= 0; i--)
        fprintf(f, " %s %llu%s", level_label[i], (unsigned long long)r->by_level[i],
                i ? "," : "\n");
    n = m->nrules < SCAN_REPORT_TOP ? m->nrules : SCAN_REPORT_TOP;
    if (n)
        fprintf(f, "top rules:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %8llu  %-13s %s\n", (unsigned long long)m->rules_v[i].n,
                level_label[m->rules_v[i].rank], m->rules_v[i].title);
    if (r->nh) /* h is NULL while no host was seen */
        qsort(r->h, r->nh, sizeof(*r->h), cmp_host);
    r->last = 0;
    if (r->nh)
        fprintf(f, "hosts by critical and high alerts (first and last detection):\n");
    for (size_t i = 0; i < r->nh && i < SCAN_REPORT_TOP; i++) {
        const struct report_host *h = &r->h[i];

        time_format_iso(h->first_us, a, sizeof(a));
        time_format_iso(h->last_us, z, sizeof(z));
        fprintf(f, "  %-24.64s critical %llu, high %llu, all %llu  %s .. %s\n", h->name,
                (unsigned long long)h->by_level[4], (unsigned long long)h->by_level[3],
                (unsigned long long)h->n, a, z);
    }
    if (r->nh > SCAN_REPORT_TOP)
        fprintf(f, "  (%zu more hosts: see --html-report)\n", r->nh - SCAN_REPORT_TOP);
    if (r->other.n)
        fprintf(f, "  (other hosts: %llu alerts past the first %d hosts)\n",
                (unsigned long long)r->other.n, SCAN_REPORT_HOSTS_MAX);
}

/* Text into HTML: the five markup characters as references, control bytes
 * as spaces. */
static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
        }
    }
}

static void html_head(FILE *f, const struct scan_report_meta *m)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>hikeshi scan: ",
          f);
    html_text(f, m->title);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}"
          "table{border-collapse:collapse;margin-bottom:1.5em}"
          "td,th{border:1px solid #bbb;padding:.2em .6em;text-align:left}"
          "td.n{text-align:right}.critical{color:#a00;font-weight:bold}.high{color:#c50}"
          "</style></head><body>\n<h1>hikeshi scan</h1>\n<p>Scanned: ",
          f);
    html_text(f, m->title);
    fputs("<br>Rules: ", f);
    html_text(f, m->rules);
    fprintf(f, "<br>%llu records, %llu alerts (%llu shown)</p>\n", (unsigned long long)m->records,
            (unsigned long long)m->alerts, (unsigned long long)m->shown);
}

static void html_hosts(FILE *f, const struct scan_report *r)
{
    char a[TIME_ISO_LEN], z[TIME_ISO_LEN];

    fputs("<h2>Hosts</h2>\n<table id=\"hosts\"><tr><th>Host</th><th>Critical</th><th>High</th>"
          "<th>Medium</th><th>Low</th><th>Informational</th><th>All</th>"
          "<th>First detection</th><th>Last detection</th></tr>\n",
          f);
    for (size_t i = 0; i < r->nh; i++) {
        const struct report_host *h = &r->h[i];

        time_format_iso(h->first_us, a, sizeof(a));
        time_format_iso(h->last_us, z, sizeof(z));
        fputs("<tr><td>", f);
        html_text(f, h->name);
        fputs("</td>", f);
        for (int l = 4; l >= 0; l--)
            fprintf(f, "<td class=\"n\">%llu</td>", (unsigned long long)h->by_level[l]);
        fprintf(f, "<td class=\"n\">%llu</td><td>%s</td><td>%s</td></tr>\n",
                (unsigned long long)h->n, a, z);
    }
    if (r->other.n)
        fprintf(f, "<tr><td>(other hosts)</td><td colspan=\"8\">%llu alerts</td></tr>\n",
                (unsigned long long)r->other.n);
    fputs("</table>\n", f);
}

int scan_report_html(struct scan_report *r, const struct scan_report_meta *m, const char *path)
{
    FILE *f = fopen(path, "we");
    size_t n = m->nrules < SCAN_REPORT_TOP ? m->nrules : SCAN_REPORT_TOP;

    if (!f)
        return -errno;
    if (r->nh) /* h is NULL while no host was seen */
        qsort(r->h, r->nh, sizeof(*r->h), cmp_host);
    r->last = 0;
    html_head(f, m);
    fputs("<h2>Alerts by level</h2>\n<table id=\"levels\"><tr><th>Level</th><th>Alerts</th></tr>\n",
          f);
    for (int i = 4; i >= 0; i--)
        fprintf(f, "<tr><td class=\"%s\">%s</td><td class=\"n\">%llu</td></tr>\n", level_label[i],
                level_label[i], (unsigned long long)r->by_level[i]);
    fputs("</table>\n<h2>Top rules</h2>\n<table id=\"rules\"><tr><th>Alerts</th><th>Level</th>"
          "<th>Rule</th><th>Id</th><th>Author</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const struct scan_report_rule *ru = &m->rules_v[i];

        fprintf(f, "<tr><td class=\"n\">%llu</td><td class=\"%s\">%s</td><td>",
                (unsigned long long)ru->n, level_label[ru->rank], level_label[ru->rank]);
        html_text(f, ru->title);
        fputs("</td><td>", f);
        html_text(f, ru->id);
        fputs("</td><td>", f);
        html_text(f, ru->author);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    html_hosts(f, r);
    fputs("</body></html>\n", f);
    return fclose(f) == 0 ? 0 : -errno;
}
