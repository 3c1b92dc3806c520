/*
 * cli_attest.c - `hikeshi attest`: proof of non-occurrence (issue 19).
 * Gathers the clauses over a window (attest_build), refuses when one does
 * not hold, else registers the attestation as an evidence item of kind
 * attestation (linked to an incident if asked) and exports it as a signed
 * bundle; `hikeshi attest verify` checks such a bundle offline with only
 * the site's verification key.  docs/evidence.md, "Attestations".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "evidence/attest.h"
#include "evidence/evidence_excerpt.h"
#include "evidence/evidence_register.h"
#include "util/jp.h"
#include "util/readfile.h"

/* Exit status when the attestation was written but the query matched. */
#define ATTEST_EXIT_MATCHED 3

static const char attest_usage[] =
    "usage: hikeshi attest [-c CONFIG] [--key FILE] --from T1 --to T2 --query Q\n"
    "                      [--source INPUT[/ADDR]]... [--max-gap DURATION]\n"
    "                      [--incident N] [--reason TEXT] -o DIR\n"
    "       hikeshi attest verify --pub FILE DIR\n"
    "\n"
    "Attests that between T1 and T2 (receive time, [T1, T2)) the archive is\n"
    "complete for the sources named (its chain whole, nothing removed, every\n"
    "record of the window under a signed seal, each source heard at least once\n"
    "per its expected interval) and says how many records query Q (hunt's\n"
    "language) matched.  It refuses, writing nothing, when a clause does not\n"
    "hold, and names the clause and the source or segment.  Otherwise the\n"
    "attestation becomes an evidence item (kind attestation) and DIR a bundle\n"
    "signed with the evidence key, checked offline by `attest verify` or\n"
    "tools/verify-bundle.py.\n"
    "\n"
    "  -c, --config FILE     data_dir, inputs and archive.verify_key from FILE\n"
    "      --key FILE        the evidence signing key (default $HIKESHI_EVIDENCE_KEY)\n"
    "      --from T1, --to T2  the window (RFC 3339 or @epoch seconds)\n"
    "      --query Q         the hunt query that must not have matched\n"
    "      --source S        an input (all its senders together) or INPUT/ADDR (one\n"
    "                        sender); repeatable; default every configured input\n"
    "      --max-gap D       the longest silence allowed of every source (30s, 15m, 2h);\n"
    "                        default each input's expect_every (a source without\n"
    "                        either is refused)\n"
    "      --incident N      link the attestation to incident N (its final report\n"
    "                        lists it)\n"
    "      --reason TEXT     why it was made\n"
    "  -o, --output DIR      the bundle (must not exist)\n"
    "      --pub FILE        verify: the evidence verification key\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 attested, the query matched nothing (verify: intact); 1\n"
    "refused or failed (verify: broken, each fault printed); 2 usage errors; 3\n"
    "attested, but the query matched (the statement says how many).\n";

struct at_args {
    const char *cfg_path, *key, *pub, *from, *to, *query, *max_gap, *reason, *out;
    const char *sources[ATTEST_SOURCES_MAX];
    size_t nsources;
    int64_t incident;
};

/* The sources and their intervals; a CLI_EXIT_* status. */
static int sources_fill(const struct config *cfg, const struct at_args *a,
                        struct attest_source *src, size_t *ret_n)
{
    int64_t max_gap_s = 0;
    size_t n = 0;

    if (a->max_gap && (config_parse_duration(a->max_gap, &max_gap_s) < 0 || max_gap_s <= 0))
        return cli_usage_error("attest", "--max-gap '%s': not a duration", a->max_gap);
    for (size_t i = 0; i < (a->nsources ? a->nsources : cfg->ninputs); i++) {
        const char *name = a->nsources ? a->sources[i] : cfg->inputs[i].name;
        const char *slash = strchr(name, '/');
        char input[ARCHIVE_INPUT_NAME_MAX + 1];
        const struct config_input *in;
        struct attest_source *s = &src[n];

        if (n >= ATTEST_SOURCES_MAX)
            return cli_usage_error("attest", "more than %d sources", ATTEST_SOURCES_MAX);
        snprintf(input, sizeof(input), "%.*s", slash ? (int)(slash - name) : (int)strlen(name),
                 name);
        if (strlen(name) >= sizeof(s->name) || !(in = config_input_find(cfg, input)))
            return cli_usage_error("attest",
                                   "--source '%s': no input of that name in the "
                                   "configuration",
                                   name);
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
        if (max_gap_s) {
            s->every_us = max_gap_s * 1000000;
            s->every_from = "--max-gap";
        } else if (in->expect_every_s > 0) {
            s->every_us = in->expect_every_s * 1000000;
            s->every_from = "expect_every";
        } else {
            fprintf(stderr,
                    "hikeshi attest: REFUSED (clause source): source %s has no expected "
                    "interval: set expect_every on input %s or give --max-gap\n",
                    name, input);
            return CLI_EXIT_FAIL;
        }
        n++;
    }
    if (n == 0)
        return cli_usage_error("attest", "no source: the configuration has no input; give "
                                         "--source");
    *ret_n = n;
    return CLI_EXIT_OK;
}

/* Writes the document to a temporary file for the register to copy. */
static int write_tmp(const struct buf *doc, char *path, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    FILE *f;
    int fd;

    snprintf(path, size, "%s/attestation-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemps(path, 5)) < 0)
        return -errno;
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        return -ENOMEM;
    }
    if (fwrite(doc->data, 1, doc->len, f) != doc->len || fclose(f) != 0)
        return -EIO;
    return 0;
}

static int do_attest(struct at_args *a)
{
    static struct attest_source src[ATTEST_SOURCES_MAX];
    struct attest_req q = {0};
    struct attest_refusal ref;
    struct evidence_add_req add;
    struct config *cfg;
    const char *purpose;
    char dir[PATH_MAX + 16], tmp[PATH_MAX];
    struct buf doc;
    uint64_t matched = 0;
    long long id = 0;
    int rc, r;

    if (!a->from || !a->to || !a->query || !a->out)
        return cli_usage_error("attest", "give --from T1, --to T2, --query Q and -o DIR");
    if (!a->key)
        return cli_usage_error("attest", "no signing key: give --key FILE or set "
                                         "HIKESHI_EVIDENCE_KEY");
    if (cli_parse_time(a->from, &q.from_us) < 0 || cli_parse_time(a->to, &q.to_us) < 0 ||
        q.from_us >= q.to_us)
        return cli_usage_error("attest", "--from and --to must be times, the first before the "
                                         "second");
    if (!(cfg = cli_load_config(a->cfg_path)))
        return CLI_EXIT_USAGE;
    buf_init(&doc, EVIDENCE_EXCERPT_MAX);
    tmp[0] = '\0';
    if ((rc = sources_fill(cfg, a, src, &q.nsources)) != CLI_EXIT_OK)
        goto out;
    q.sources = src;
    if (!cfg->archive_verify_key) {
        fprintf(stderr, "hikeshi attest: archive.verify_key is not set: an attestation rests "
                        "on the archive's seals\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if ((r = archive_pubkey_load(cfg->archive_verify_key, q.archive_pub)) < 0) {
        fprintf(stderr, "hikeshi attest: archive verification key %s: %s\n",
                cfg->archive_verify_key, r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    snprintf(dir, sizeof(dir), "%s/archive", cfg->data_dir);
    q.archive_dir = dir;
    q.query = a->query;
    r = attest_build(cfg, &q, &doc, &matched, &ref);
    if (r != 0) {
        if (r == -EINVAL)
            fprintf(stderr, "hikeshi attest: --query: %s\n", ref.why);
        else
            fprintf(stderr, "hikeshi attest: REFUSED (clause %s): %s\n", ref.clause, ref.why);
        rc = r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    if ((r = write_tmp(&doc, tmp, sizeof(tmp))) < 0) {
        fprintf(stderr, "hikeshi attest: %s: %s\n", tmp, strerror(-r));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    purpose = matched ? "investigation" : "proof-of-non-occurrence";
    memset(&add, 0, sizeof(add));
    add.path = tmp;
    add.kind = "attestation";
    add.copy = 1;
    add.tool = "hikeshi attest";
    add.command = a->query;
    add.reason = a->reason;
    add.incidents = a->incident ? &a->incident : NULL;
    add.n_incidents = a->incident ? 1 : 0;
    add.purposes = &purpose;
    add.n_purposes = 1;
    if ((rc = cli_evidence_add_export("attest", a->cfg_path, a->key, &add, a->out, &id)) !=
        CLI_EXIT_OK)
        goto out;
    printf("EV-%lld attestation, bundle %s (signed)\n", id, a->out);
    if (matched)
        printf("the query MATCHED %llu record%s in the window: this attests that it occurred\n",
               (unsigned long long)matched, matched == 1 ? "" : "s");
    else
        printf("the query matched nothing in the window\n");
    rc = matched ? ATTEST_EXIT_MATCHED : CLI_EXIT_OK;
out:
    if (tmp[0])
        (void)unlink(tmp);
    buf_done(&doc);
    config_free(cfg);
    return rc;
}

/* Prints the statement of each attestation in the bundle; the count. */
static size_t print_statements(const char *dir)
{
    struct evidence_manifest m;
    struct parse_err pe = {0};
    char path[PATH_MAX + 32], *man = NULL, *doc = NULL;
    size_t len = 0, dlen = 0, n = 0;

    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (readfile_all(path, EVIDENCE_MANIFEST_MAX, &man, &len) < 0)
        return 0;
    if (evidence_manifest_parse(man, len, &m, &pe) == 0) {
        for (size_t i = 0; i < m.n_items; i++) {
            struct jp_span rec = {m.items[i].record, m.items[i].record_len}, v, d;
            struct buf text;

            if (jp_lookup(rec, "kind", &v) < 0 || !jp_span_is(v, "\"attestation\"") ||
                !m.items[i].file[0])
                continue;
            n++;
            snprintf(path, sizeof(path), "%s/%s", dir, m.items[i].file);
            if (readfile_all(path, EVIDENCE_EXCERPT_MAX, &doc, &dlen) < 0)
                continue;
            buf_init(&text, 1024 * 1024);
            if (jp_doc(doc, dlen, &d, NULL) == 0 && jp_lookup(d, "statement", &v) == 0 &&
                jp_text(v, &text, 0) == 0)
                printf("%s: %s\n", m.items[i].id, text.data);
            buf_done(&text);
            free(doc);
            doc = NULL;
        }
        evidence_manifest_done(&m);
    }
    free(man);
    return n;
}

static int do_verify(const struct at_args *a, const char *dir)
{
    struct evidence_report rep;
    uint8_t pub[32];
    int r, rc;

    if (!a->pub)
        return cli_usage_error("attest", "verify: give --pub FILE");
    if ((r = archive_pubkey_load(a->pub, pub)) < 0) {
        fprintf(stderr, "hikeshi attest: verification key %s: %s\n", a->pub,
                r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
        return CLI_EXIT_USAGE;
    }
    evidence_report_init(&rep);
    if ((r = evidence_bundle_verify(dir, pub, &rep)) < 0) {
        fprintf(stderr, "hikeshi attest: verify %s: %s\n", dir, strerror(-r));
        evidence_report_done(&rep);
        return CLI_EXIT_FAIL;
    }
    if (rep.faults == 0 && print_statements(dir) == 0)
        evidence_report_fault(&rep, "%s: the bundle holds no attestation", dir);
    if (rep.faults == 0) {
        printf("attestation bundle %s: intact (%zu checks passed)\n", dir, rep.checked);
        rc = CLI_EXIT_OK;
    } else {
        fputs(rep.text.data ? rep.text.data : "", stdout);
        printf("attestation bundle %s: BROKEN: %zu fault%s\n", dir, rep.faults,
               rep.faults == 1 ? "" : "s");
        rc = CLI_EXIT_FAIL;
    }
    evidence_report_done(&rep);
    return rc;
}

int cli_attest_main(int argc, char **argv)
{
    enum {
        OPT_KEY = 256,
        OPT_PUB,
        OPT_FROM,
        OPT_TO,
        OPT_QUERY,
        OPT_SOURCE,
        OPT_MAX_GAP,
        OPT_INCIDENT,
        OPT_REASON
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, OPT_KEY},
        {"pub", required_argument, NULL, OPT_PUB},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"query", required_argument, NULL, OPT_QUERY},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"max-gap", required_argument, NULL, OPT_MAX_GAP},
        {"incident", required_argument, NULL, OPT_INCIDENT},
        {"reason", required_argument, NULL, OPT_REASON},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct at_args a;
    int verify = 0, c;
    char *end;

    memset(&a, 0, sizeof(a));
    a.key = getenv("HIKESHI_EVIDENCE_KEY");
    if (a.key && !*a.key)
        a.key = NULL;
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        verify = 1;
        argc--;
        argv++;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.cfg_path = optarg; break;
        case 'o': a.out = optarg; break;
        case OPT_KEY: a.key = optarg; break;
        case OPT_PUB: a.pub = optarg; break;
        case OPT_FROM: a.from = optarg; break;
        case OPT_TO: a.to = optarg; break;
        case OPT_QUERY: a.query = optarg; break;
        case OPT_MAX_GAP: a.max_gap = optarg; break;
        case OPT_REASON: a.reason = optarg; break;
        case OPT_SOURCE:
            if (a.nsources >= ATTEST_SOURCES_MAX)
                return cli_usage_error("attest", "too many --source");
            a.sources[a.nsources++] = optarg;
            break;
        case OPT_INCIDENT:
            errno = 0;
            a.incident = strtoll(optarg, &end, 10);
            if (errno || *end || a.incident <= 0)
                return cli_usage_error("attest", "--incident '%s': not an incident number", optarg);
            break;
        case 'h': fputs(attest_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("attest", "unknown or incomplete option");
        }
    }
    if (verify)
        return optind == argc - 1 ? do_verify(&a, argv[optind])
                                  : cli_usage_error("attest", "verify takes one DIR");
    if (optind < argc)
        return cli_usage_error("attest", "unexpected argument '%s'", argv[optind]);
    return do_attest(&a);
}
