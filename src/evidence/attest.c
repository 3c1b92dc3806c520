/*
 * attest.c - checking an attestation document (attest.h) offline: its
 * form, the archive proof it carries (the seals from epoch 0, checked by
 * evidence_proof_check), and each clause: the archive whole over the
 * window (nothing removed, nothing unsealed, the seals it names are the
 * ones that verify), each source heard at least once per its interval,
 * and the query's count matching the verdict and the statement.  The
 * document is a stranger's bytes; each fault names its clause.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/attest.h"
#include "evidence/evidence_excerpt.h"
#include "util/jp.h"

void attest_statement(const char *from, const char *to, const char *sources, const char *query,
                      uint64_t matched, char *out, size_t cap)
{
    snprintf(out, cap,
             "Between %s and %s, for sources %s, the archive is complete (segment chain "
             "continuous, seals present, each source heard within its expected interval) and "
             "the query \"%s\" matched %" PRIu64 " record%s.",
             from, to, sources, query, matched, matched == 1 ? "" : "s");
}

static int get_str(struct jp_span o, const char *key, char *out, size_t cap)
{
    struct parse_err pe = {0};
    struct jp_span v;
    struct jp j;

    if (jp_lookup(o, key, &v) < 0)
        return -EINVAL;
    j = (struct jp){v.p, v.len, 0, &pe, NULL, 0};
    if (jp_string(&j, out, cap, NULL) < 0 || jp_end(&j) < 0)
        return -EINVAL;
    return 0;
}

static int get_i64(struct jp_span o, const char *key, int64_t *ret)
{
    struct jp_span v;

    *ret = 0; /* named in a fault when absent */
    if (jp_lookup(o, key, &v) < 0 || jp_span_i64(v, ret) < 0)
        return -EINVAL;
    return 0;
}

/* The sources clause: each heard within its interval, its last record
 * under a seal.  Their names, joined, go to `names` for the statement. */
static void check_sources(const char *who, struct jp_span arr, int64_t sealed_t_max,
                          struct evidence_report *rep, struct buf *names)
{
    struct jp_iter it;
    struct jp_span o;
    size_t i = 0;

    if (arr.p[0] != '[' || jp_iter_init(&it, arr) < 0) {
        evidence_report_fault(rep, "%s: sources is not an array", who);
        return;
    }
    while (jp_iter_next(&it, NULL, &o) == 1) {
        char name[ARCHIVE_INPUT_NAME_MAX + 64];
        int64_t every, gap, records, last;

        if (i++ >= ATTEST_SOURCES_MAX || o.p[0] != '{' ||
            get_str(o, "source", name, sizeof(name)) < 0 ||
            get_i64(o, "expected_interval_us", &every) < 0 || get_i64(o, "max_gap_us", &gap) < 0 ||
            get_i64(o, "records", &records) < 0 || get_i64(o, "last_us", &last) < 0) {
            evidence_report_fault(rep, "%s: sources[%zu]: not a source clause", who, i - 1);
            continue;
        }
        if (names->len)
            (void)buf_puts(names, ", ");
        (void)buf_puts(names, name);
        if (every <= 0 || gap < 0 || gap > every)
            evidence_report_fault(rep,
                                  "%s: source %s: silent for %" PRId64 " s, longer than its "
                                  "expected interval of %" PRId64 " s (clause: source alive)",
                                  who, name, gap / 1000000, every / 1000000);
        else if (records <= 0)
            evidence_report_fault(rep, "%s: source %s: no record in the window", who, name);
        else if (last > sealed_t_max)
            evidence_report_fault(rep,
                                  "%s: source %s: its last record is after the last seal "
                                  "(clause: seals present)",
                                  who, name);
        else
            rep->checked++;
    }
    if (i == 0)
        evidence_report_fault(rep, "%s: names no source", who);
}

int attest_check(const char *who, const char *doc, size_t len, const uint8_t *pin,
                 struct evidence_report *rep, uint64_t *ret_matched)
{
    struct evidence_proof_summary sum;
    struct parse_err pe = {0};
    struct jp_span d, v, archive, comp, scan, none = {0};
    char fmt[64], from[40], to[40], verdict[32], *query = NULL, *stated = NULL, *expect = NULL;
    int64_t from_us, to_us, matched, scan_matched, x;
    struct buf names;
    int r = 0;

    buf_init(&names, 64 * 1024);
    if (ret_matched)
        *ret_matched = 0;
    if (len > EVIDENCE_EXCERPT_MAX || jp_doc(doc, len, &d, &pe) < 0 || d.p[0] != '{') {
        evidence_report_fault(rep, "%s: not an attestation (byte %zu: %s)", who, pe.off,
                              pe.msg ? pe.msg : "too large or not an object");
        goto out;
    }
    query = malloc(len + 1);
    stated = malloc(len + 1);
    expect = malloc(len + 1024);
    if (!query || !stated || !expect) {
        r = -ENOMEM;
        goto out;
    }
    if (get_str(d, "format", fmt, sizeof(fmt)) < 0 || strcmp(fmt, ATTEST_FORMAT) != 0) {
        evidence_report_fault(rep, "%s: not an attestation (format)", who);
        goto out;
    }
    if (get_str(d, "statement", stated, len + 1) < 0 ||
        get_str(d, "from", from, sizeof(from)) < 0 || get_str(d, "to", to, sizeof(to)) < 0 ||
        get_i64(d, "from_us", &from_us) < 0 || get_i64(d, "to_us", &to_us) < 0 ||
        get_str(d, "query", query, len + 1) < 0 || get_i64(d, "matched", &matched) < 0 ||
        matched < 0 || get_str(d, "verdict", verdict, sizeof(verdict)) < 0 ||
        jp_lookup(d, "scan", &scan) < 0 || get_i64(scan, "matched", &scan_matched) < 0 ||
        jp_lookup(d, "completeness", &comp) < 0 || jp_lookup(d, "archive", &archive) < 0) {
        evidence_report_fault(rep,
                              "%s: an attestation without its statement, window, query, "
                              "count, verdict, scan, completeness or archive",
                              who);
        goto out;
    }
    if (ret_matched)
        *ret_matched = (uint64_t)matched;
    if (from_us >= to_us)
        evidence_report_fault(rep, "%s: the window ends before it starts", who);
    if ((r = evidence_proof_check(who, archive, none, pin, rep, &sum)) < 0)
        goto out;
    /* Clause: the archive is complete over the window. */
    if (get_i64(comp, "removed_in_window", &x) < 0 || x != 0)
        evidence_report_fault(rep, "%s: clause archive: segments removed in the window", who);
    if (get_i64(comp, "unsealed_in_window", &x) < 0 || x != 0)
        evidence_report_fault(rep, "%s: clause archive: records in the window not sealed", who);
    if (get_i64(comp, "seals", &x) < 0 || (uint64_t)x != sum.seals)
        evidence_report_fault(rep,
                              "%s: clause archive: it counts %" PRId64 " seals, %" PRIu64 " verify",
                              who, x, sum.seals);
    if (get_i64(comp, "sealed_records", &x) < 0 || (uint64_t)x != sum.sealed_records)
        evidence_report_fault(rep,
                              "%s: clause archive: it counts %" PRId64 " sealed records, the "
                              "seals %" PRIu64,
                              who, x, sum.sealed_records);
    if (get_i64(comp, "sealed_t_max_us", &x) < 0 || x != sum.sealed_t_max)
        evidence_report_fault(rep, "%s: clause archive: its last sealed time is not the seals'",
                              who);
    else if (x < from_us)
        evidence_report_fault(rep, "%s: clause archive: no seal covers the window", who);
    /* Clause: each source alive. */
    if (jp_lookup(d, "sources", &v) < 0)
        evidence_report_fault(rep, "%s: no sources clause", who);
    else
        check_sources(who, v, sum.sealed_t_max, rep, &names);
    /* Clause: the query's count, the verdict and the sentence agree. */
    if (scan_matched != matched)
        evidence_report_fault(rep,
                              "%s: clause query: the scan matched %" PRId64 ", the statement "
                              "says %" PRId64,
                              who, scan_matched, matched);
    if (strcmp(verdict, matched ? "occurred" : "not-occurred") != 0)
        evidence_report_fault(rep, "%s: clause query: verdict %s with %" PRId64 " matches", who,
                              verdict, matched);
    attest_statement(from, to, names.data ? names.data : "", query, (uint64_t)matched, expect,
                     len + 1024);
    if (strcmp(stated, expect) != 0)
        evidence_report_fault(rep, "%s: the statement is not the one its clauses make", who);
    else
        rep->checked++;
out:
    free(query);
    free(stated);
    free(expect);
    buf_done(&names);
    return r;
}
