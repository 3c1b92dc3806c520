/*
 * cli_hunt.c - `hikeshi hunt`: search the archive (docs/hunt.md).  Runs a
 * query or a Sigma rule file over the records received in a time range and
 * prints each match as it is found (table, CSV or JSON lines, the formats
 * of `hikeshi scan`), or with --count the most frequent values of a field
 * among the matches.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "hunt/hunt.h"
#include "util/buf.h"

/* Distinct values --count keeps; past it, new values are only counted as
 * "not tracked" (the values come from the records: bounded memory). */
#define HUNT_COUNT_MAX_VALUES 100000
/* Longest value --count keeps (longer ones are cut and marked). */
#define HUNT_COUNT_MAX_VALUE_LEN 256

static const char hunt_usage[] =
    "usage: hikeshi hunt [-c CONFIG] [--dir DIR] [--from TIME] [--to TIME]\n"
    "                    [-f table|csv|jsonl] [-o FILE] [--count FIELD [--top N]]\n"
    "                    [--limit N] [--sigma RULE.yml] [QUERY]\n"
    "\n"
    "Searches the archive's records (docs/hunt.md).  QUERY: words and \"phrases\"\n"
    "match the raw text (any case); FIELD=VALUE (wildcards * ?, an address or\n"
    "CIDR network), FIELD!=VALUE, FIELD<N, <=, >, >=, FIELD~/REGEX/ (PCRE2) on\n"
    "the decoded fields; _raw~/REGEX/ on the raw text; AND, OR, NOT and\n"
    "parentheses (terms side by side are ANDed).\n"
    "\n"
    "  -c, --config FILE   data_dir, the inputs' decoders and sigma.mappings\n"
    "      --dir DIR       the archive directory (default DATA_DIR/archive)\n"
    "      --from TIME     received at or after TIME (ISO 8601 or epoch seconds)\n"
    "      --to TIME       received before TIME\n"
    "      --sigma FILE    a Sigma rule file run over the records (with QUERY\n"
    "                      too: a record must match both)\n"
    "  -f, --format FMT    table (default), csv or jsonl\n"
    "  -o, --output FILE   write there instead of stdout\n"
    "      --count FIELD   print how many matches have each value of FIELD\n"
    "                      (most frequent first) instead of the matches\n"
    "      --top N         with --count: the N most frequent values (default 20)\n"
    "      --limit N       stop after N matches\n"
    "      --no-index      read every block in range, ignoring the blocks'\n"
    "                      indexes (the same results, slower; to compare)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 the search ran (with or without matches), 1 it failed or\n"
    "damaged blocks were skipped, 2 usage or configuration errors.\n";

enum hunt_format { FMT_TABLE, FMT_CSV, FMT_JSONL };

struct count_entry {
    char *val; /* owned; NULL: empty slot */
    size_t len;
    uint64_t n;
};

struct hunt_cli {
    enum hunt_format fmt;
    FILE *out;
    struct buf b;
    uint64_t printed;
    /* --count */
    const char *count_field;
    uint32_t count_id;
    struct count_entry *counts; /* open addressing, 2 * HUNT_COUNT_MAX_VALUES slots */
    size_t ncounts;
    uint64_t count_absent, count_untracked;
    uint64_t seed;
};

static uint64_t hash_bytes(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ seed;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int count_value(struct hunt_cli *c, const char *v, size_t len)
{
    size_t slots = 2 * (size_t)HUNT_COUNT_MAX_VALUES, i;

    if (len > HUNT_COUNT_MAX_VALUE_LEN)
        len = HUNT_COUNT_MAX_VALUE_LEN;
    if (!c->counts && !(c->counts = calloc(slots, sizeof(*c->counts))))
        return -ENOMEM;
    i = hash_bytes(c->seed, v, len) % slots;
    while (c->counts[i].val) {
        if (c->counts[i].len == len && memcmp(c->counts[i].val, v, len) == 0) {
            c->counts[i].n++;
            return 0;
        }
        i = (i + 1) % slots;
    }
    if (c->ncounts >= HUNT_COUNT_MAX_VALUES) {
        c->count_untracked++;
        return 0;
    }
    if (!(c->counts[i].val = malloc(len + 1)))
        return -ENOMEM;
    memcpy(c->counts[i].val, v, len);
    c->counts[i].val[len] = '\0';
    c->counts[i].len = len;
    c->counts[i].n = 1;
    c->ncounts++;
    return 0;
}

static int on_hit(void *arg, const struct hunt_hit *hit)
{
    struct hunt_cli *c = arg;
    const struct event *ev = hit->ev;
    char recv[64], t[64], peer[80], raw[200];

    if (c->count_field) {
        const char *v;
        size_t n = 0;

        if (c->count_id == FIELD_NONE)
            c->count_id = field_lookup(c->count_field, strlen(c->count_field));
        v = c->count_id != FIELD_NONE ? event_get(ev, c->count_id, &n) : NULL;
        if (!v) {
            c->count_absent++;
            return 0;
        }
        return count_value(c, v, n);
    }
    time_format_iso(hit->rec->recv_us, recv, sizeof(recv));
    time_format_iso(ev->time_us, t, sizeof(t));
    hunt_peer_format(hit->rec, peer, sizeof(peer));
    switch (c->fmt) {
    case FMT_JSONL:
        buf_reset(&c->b);
        if (hunt_hit_json(hit, &c->b) < 0 || buf_putc(&c->b, '\n') < 0)
            return -ENOMEM;
        fwrite(c->b.data, 1, c->b.len, c->out);
        break;
    case FMT_CSV:
        if (c->printed == 0)
            fputs("record,received,time,input,peer,decoder,raw\n", c->out);
        fprintf(c->out, "%" PRIu64 ",%s,%s,", hit->record_no, recv, t);
        cli_csv_field(c->out, hit->rec->input, hit->rec->input_len);
        fputc(',', c->out);
        cli_csv_field(c->out, peer, strlen(peer));
        fputc(',', c->out);
        cli_csv_field(c->out, ev->decoder ? ev->decoder : "",
                      ev->decoder ? strlen(ev->decoder) : 0);
        fputc(',', c->out);
        cli_csv_field(c->out, (const char *)hit->rec->raw, hit->rec->raw_len);
        fputc('\n', c->out);
        break;
    case FMT_TABLE: {
        char in[20];

        if (c->printed == 0)
            fprintf(c->out, "%-10s %-27s %-16s %-22s %s\n", "RECORD", "TIME", "INPUT", "PEER",
                    "RAW");
        fprintf(c->out, "%-10" PRIu64 " %-27s %-16s %-22s %s\n", hit->record_no, t,
                cli_clip(in, sizeof(in), hit->rec->input, hit->rec->input_len),
                peer[0] ? peer : "-",
                cli_clip(raw, sizeof(raw), (const char *)hit->rec->raw, hit->rec->raw_len));
        break;
    }
    }
    c->printed++;
    return ferror(c->out) ? -EIO : 0;
}

static int cmp_count(const void *a, const void *b)
{
    const struct count_entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c;

    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    if ((c = memcmp(x->val, y->val, n)) != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Prints the top values; frees the table. */
static void print_counts(struct hunt_cli *c, size_t top)
{
    size_t slots = 2 * (size_t)HUNT_COUNT_MAX_VALUES, k = 0;
    struct count_entry *v = c->counts;

    if (v) {
        for (size_t i = 0; i < slots; i++)
            if (v[i].val)
                v[k++] = v[i];
        qsort(v, k, sizeof(*v), cmp_count);
    }
    if (c->fmt == FMT_CSV)
        fputs("value,count\n", c->out);
    else if (c->fmt == FMT_TABLE)
        fprintf(c->out, "%-12s %s\n", "COUNT", c->count_field);
    for (size_t i = 0; i < k && i < top; i++) {
        switch (c->fmt) {
        case FMT_JSONL:
            buf_reset(&c->b);
            buf_puts(&c->b, "{\"value\":");
            buf_json_str(&c->b, v[i].val, v[i].len);
            buf_printf(&c->b, ",\"count\":%" PRIu64 "}\n", v[i].n);
            fwrite(c->b.data, 1, c->b.len, c->out);
            break;
        case FMT_CSV:
            cli_csv_field(c->out, v[i].val, v[i].len);
            fprintf(c->out, ",%" PRIu64 "\n", v[i].n);
            break;
        case FMT_TABLE: {
            char val[200];

            fprintf(c->out, "%-12" PRIu64 " %s\n", v[i].n,
                    cli_clip(val, sizeof(val), v[i].val, v[i].len));
            break;
        }
        }
    }
    if (k > top || c->count_absent || c->count_untracked)
        fprintf(stderr,
                "hikeshi hunt: --count %s: %zu distinct values (%zu shown), %" PRIu64
                " matches without the field, %" PRIu64 " values past the %d tracked\n",
                c->count_field, k, k < top ? k : top, c->count_absent, c->count_untracked,
                HUNT_COUNT_MAX_VALUES);
    for (size_t i = 0; i < k; i++)
        free(v[i].val);
    free(v);
    c->counts = NULL;
}

/* Says how many damaged blocks the hunt skipped, and where and why the
 * first damage is (the reader only counts; the verifier, run only now that
 * there is damage, says where). */
static void report_damage(const char *dir, uint64_t n)
{
    struct archive_verify_result res;

    fprintf(stderr, "hikeshi hunt: %s: %" PRIu64 " damaged blocks or segments skipped\n", dir, n);
    if (archive_verify(dir, NULL, 0, &res) == 0 && res.fault != ARCHIVE_FAULT_NONE)
        fprintf(stderr,
                "hikeshi hunt: %s: the first: %s at %s frame %" PRIu64 " offset %" PRIu64
                ": %s (hikeshi archive verify checks the rest)\n",
                dir, archive_fault_name(res.fault), res.segment, res.frame, res.offset, res.why);
}

struct hunt_args {
    const char *cfg_path, *dir, *sigma, *query, *out_path;
    int64_t from, to;
    uint64_t limit;
    size_t top;
    int no_index;
};

static int parse_args(int argc, char **argv, struct hunt_args *a, struct hunt_cli *c)
{
    enum { OPT_DIR = 256, OPT_FROM, OPT_TO, OPT_SIGMA, OPT_COUNT, OPT_TOP, OPT_LIMIT,
           OPT_NO_INDEX };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, OPT_DIR},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"sigma", required_argument, NULL, OPT_SIGMA},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"count", required_argument, NULL, OPT_COUNT},
        {"top", required_argument, NULL, OPT_TOP},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"no-index", no_argument, NULL, OPT_NO_INDEX},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:f:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->cfg_path = optarg; break;
        case OPT_DIR: a->dir = optarg; break;
        case OPT_FROM:
            if (cli_parse_time(optarg, &a->from) < 0)
                return cli_usage_error("hunt", "--from: not a time: '%s'", optarg);
            break;
        case OPT_TO:
            if (cli_parse_time(optarg, &a->to) < 0)
                return cli_usage_error("hunt", "--to: not a time: '%s'", optarg);
            break;
        case OPT_SIGMA: a->sigma = optarg; break;
        case OPT_NO_INDEX: a->no_index = 1; break;
        case 'f':
            if (strcmp(optarg, "table") == 0)
                c->fmt = FMT_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                c->fmt = FMT_CSV;
            else if (strcmp(optarg, "jsonl") == 0)
                c->fmt = FMT_JSONL;
            else
                return cli_usage_error("hunt", "--format: table, csv or jsonl, not '%s'", optarg);
            break;
        case 'o': a->out_path = optarg; break;
        case OPT_COUNT:
            if (!optarg[0])
                return cli_usage_error("hunt", "--count: a field name");
            c->count_field = optarg;
            break;
        case OPT_TOP:
        case OPT_LIMIT: {
            unsigned long long v;

            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-' || v == 0 ||
                (ch == OPT_TOP && v > HUNT_COUNT_MAX_VALUES))
                return cli_usage_error("hunt", "%s: a number from 1%s, not '%s'",
                                       ch == OPT_TOP ? "--top" : "--limit",
                                       ch == OPT_TOP ? " to 100000" : "", optarg);
            if (ch == OPT_TOP)
                a->top = (size_t)v;
            else
                a->limit = v;
            break;
        }
        case 'h': fputs(hunt_usage, stdout); return -1;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 < argc)
        return cli_usage_error("hunt", "one QUERY (quote it: hikeshi hunt 'a AND b')");
    if (optind < argc)
        a->query = argv[optind];
    if (!a->query && !a->sigma)
        return cli_usage_error("hunt", "a QUERY or --sigma RULE.yml");
    if (a->from >= a->to)
        return cli_usage_error("hunt", "--from must be before --to");
    return 0;
}

int cli_hunt_main(int argc, char **argv)
{
    struct hunt_args a = {.from = INT64_MIN, .to = INT64_MAX, .top = 20};
    struct hunt_cli c = {.fmt = FMT_TABLE, .out = stdout};
    struct hunt_opts o = {.decode = 1};
    struct hunt_stats st;
    struct config *cfg = NULL;
    struct hunt *h = NULL;
    char dir[PATH_MAX + 16], err[512];
    int r, rc = CLI_EXIT_FAIL;

    if ((r = parse_args(argc, argv, &a, &c)) != 0)
        return r < 0 ? CLI_EXIT_OK : r;
    if (!(cfg = cli_load_config(a.cfg_path)))
        return CLI_EXIT_USAGE;
    if (a.dir)
        snprintf(dir, sizeof(dir), "%s", a.dir);
    else
        snprintf(dir, sizeof(dir), "%s/archive", cfg->data_dir);
    err[0] = '\0';
    if ((r = hunt_new(cfg, a.query, a.query ? strlen(a.query) : 0, a.sigma, &h, err, sizeof(err))) <
        0) {
        fprintf(stderr, "hikeshi hunt: %s\n", r == -ENOMEM ? "out of memory" : err);
        config_free(cfg);
        return r == -ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (a.out_path && !(c.out = fopen(a.out_path, "w"))) {
        fprintf(stderr, "hikeshi hunt: %s: %s\n", a.out_path, strerror(errno));
        goto out;
    }
    buf_init(&c.b, 8 * (size_t)ARCHIVE_RECORD_MAX);
    c.seed = (uint64_t)(uintptr_t)&c ^ (uint64_t)time_now_us();
    o.dir = dir;
    o.from_us = a.from;
    o.to_us = a.to;
    o.limit = a.limit;
    o.no_index = a.no_index;
    r = hunt_run(h, &o, on_hit, &c, &st);
    if (c.count_field)
        print_counts(&c, a.top);
    buf_done(&c.b);
    if (fflush(c.out) != 0 || ferror(c.out)) {
        fprintf(stderr, "hikeshi hunt: %s: write error\n", a.out_path ? a.out_path : "stdout");
        r = r < 0 ? r : -EIO;
    }
    if (r < 0) {
        fprintf(stderr, "hikeshi hunt: %s: %s\n", dir,
                r == -ENOENT ? "no archive there" : strerror(-r));
        goto out;
    }
    fprintf(stderr,
            "hikeshi hunt: %" PRIu64 " records read (%" PRIu64 " bytes), %" PRIu64
            " decoded, %" PRIu64 " matched; blocks: %" PRIu64 " read, %" PRIu64
            " skipped by time, %" PRIu64 " skipped by index (of %" PRIu64 " indexed)\n",
            st.records, st.raw_bytes, st.decoded, st.matched, st.blocks_read, st.blocks_skipped,
            st.blocks_index_skipped, st.blocks_indexed);
    if (st.regex_errors)
        fprintf(stderr,
                "hikeshi hunt: %lu regular-expression matches stopped at their effort limit "
                "(counted as not matching)\n",
                st.regex_errors);
    if (st.blocks_corrupt) {
        report_damage(dir, st.blocks_corrupt);
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    if (c.out && c.out != stdout)
        fclose(c.out);
    hunt_free(h);
    config_free(cfg);
    return rc;
}
