/*
 * cli_intel.c - `hikeshi intel import|list|expire`: feeds of indicators
 * into the store of the configuration's data_dir (docs/intel.md), the
 * indicators held, and the deletion of those expired or decayed.  A
 * running daemon picks the changes up at its next reload (SIGHUP).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "event/time.h"
#include "intel/intel.h"
#include "intel/intel_export.h"
#include "store/store.h"
#include "store/store_intel.h"
#include "util/buf.h"

static const char intel_usage[] =
    "usage: hikeshi intel import [-c CONFIG] [--feed NAME] [--tlp TLP] [--confidence N]\n"
    "                            [--type TYPE] [--warninglists DIR|none] [-q] FILE|DIR\n"
    "       hikeshi intel list [-c CONFIG] [--type TYPE] [--json]\n"
    "       hikeshi intel expire [-c CONFIG]\n"
    "       hikeshi intel export [-c CONFIG] [--format stix|misp|csv] [--tlp-max TLP]\n"
    "                            [--incident N] [-o FILE]\n"
    "\n"
    "import   reads a STIX 2.1 bundle, a MISP event, a MISP feed directory\n"
    "         (manifest.json and its events) or a CSV or plain list (one value a\n"
    "         line) as one feed, replacing what the store held of that feed; a\n"
    "         file that does not parse changes nothing.  Entries refused and\n"
    "         values on a MISP warninglist are listed on stderr with where and why.\n"
    "list     the indicators held, with their feed, confidence, decayed score,\n"
    "         TLP, tags and sightings\n"
    "expire   deletes indicators past their expiry or decayed under\n"
    "         intel.min_score\n"
    "export   the indicators as a STIX 2.1 bundle (default), a MISP event or CSV,\n"
    "         on standard output or into FILE; TLP:RED is never exported, and\n"
    "         nothing above --tlp-max (default GREEN)\n"
    "\n"
    "  -c, --config FILE        data_dir and intel: from FILE\n"
    "      --feed NAME          the feed's name (default: the file's base name)\n"
    "      --tlp TLP            CLEAR, GREEN, AMBER, AMBER+STRICT or RED: the least\n"
    "                           restrictive marking an indicator gets (default:\n"
    "                           AMBER for indicators the feed does not mark)\n"
    "      --confidence N       0-100 for indicators the feed gives none (default 50)\n"
    "      --type TYPE          the type of every value of a plain list (ipv4, ipv6,\n"
    "                           domain, hostname, url, email, md5, sha1, sha256, ja3,\n"
    "                           ja4, user-agent, regkey, process, url-pattern);\n"
    "                           default: guessed\n"
    "      --warninglists DIR   MISP warninglists to apply (default intel.warninglists;\n"
    "                           none: apply none)\n"
    "      --json               list: one JSON object a line\n"
    "      --format FMT         export: stix, misp or csv (default stix)\n"
    "      --tlp-max TLP        export: the most restricted TLP written: CLEAR, GREEN\n"
    "                           (default), AMBER or AMBER+STRICT (never RED)\n"
    "      --incident N         export: only the indicators incident N's alerts\n"
    "                           matched\n"
    "  -o, --output FILE        export: write FILE instead of standard output\n"
    "  -q, --quiet              import: no line per refused entry\n"
    "  -h, --help               show this help\n"
    "\n"
    "Exit status: 0 done, 1 the file could not be read or parsed or the store\n"
    "failed (the feed is left as it was), 2 usage or configuration errors.\n";

enum { OPT_FEED = 256, OPT_TLP, OPT_CONF, OPT_TYPE, OPT_WARN, OPT_JSON, OPT_FORMAT, OPT_TLP_MAX };

struct intel_args {
    const char *cfg_path, *feed, *warn, *output;
    int tlp, confidence, type, json, quiet;
    int format, tlp_max; /* export: enum intel_export_format, enum intel_tlp */
    size_t reported;
    int64_t incident; /* export --incident: 0 for the whole set */
};

#define INTEL_REPORT_MAX 200

static void report(void *ctx, const char *file, const char *where, const char *why)
{
    struct intel_args *a = ctx;

    if (a->quiet)
        return;
    if (a->reported++ < INTEL_REPORT_MAX)
        fprintf(stderr, "hikeshi intel: %s: %s: %s\n", file, where, why);
}

static struct store *open_store(const struct config *cfg)
{
    struct store *st = NULL;
    char *err = NULL;
    int r;

    if ((r = store_open(cfg->data_dir, &st, &err)) < 0) {
        fprintf(stderr, "hikeshi intel: store %s: %s\n", cfg->data_dir, err ? err : strerror(-r));
        free(err);
        return NULL;
    }
    return st;
}

static int do_import(struct intel_args *a, struct config *cfg, const char *path)
{
    struct intel_warn *w = NULL;
    struct intel_import_stats s;
    struct store *st;
    char err[1024] = "";
    const char *wdir = a->warn ? a->warn : cfg->intel_warninglists;
    int r;

    if (wdir && strcmp(wdir, "none") != 0 && intel_warn_load(wdir, &w, err, sizeof(err)) < 0) {
        fprintf(stderr, "hikeshi intel: warninglists: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (!(st = open_store(cfg))) {
        intel_warn_free(w);
        return CLI_EXIT_FAIL;
    }
    struct intel_import_opts o = {
        .feed = a->feed,
        .tlp = a->tlp,
        .confidence = a->confidence,
        .type = a->type,
        .warn = w,
        .report = report,
        .report_ctx = a,
        .now_us = time_now_us(),
    };
    r = intel_import_path(st, path, &o, &s, err, sizeof(err));
    if (a->reported > INTEL_REPORT_MAX)
        fprintf(stderr, "hikeshi intel: %zu more entries refused\n",
                a->reported - INTEL_REPORT_MAX);
    if (r < 0) {
        fprintf(stderr, "hikeshi intel: import: %s%s%s\n", err, r == -EIO ? ": " : "",
                r == -EIO ? store_errmsg(st) : "");
    } else {
        printf("%s (%s): %zu indicators imported, %zu refused, %zu on warninglists%s, "
               "%lld no longer in the feed removed\n",
               path, s.format, s.taken, s.refused, s.warned,
               w ? "" : " (no warninglists applied)", (long long)s.removed);
    }
    store_free(st);
    intel_warn_free(w);
    return r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

struct list_ctx {
    struct intel_args *a;
    const struct config *cfg;
    int64_t now_us;
    struct buf b;
    size_t n;
};

static void iso(int64_t us, char *out, size_t cap)
{
    if (us)
        time_format_iso(us, out, cap);
    else
        snprintf(out, cap, "-");
}

static int list_row(void *ctx, const struct store_intel_row *r)
{
    struct list_ctx *x = ctx;
    int64_t confirmed = r->last_seen_us > r->last_sighted_us ? r->last_seen_us : r->last_sighted_us;
    double score = intel_score(r->confidence, x->now_us - confirmed,
                               (int64_t)x->cfg->intel_half_life_s * 1000000);
    char fs[TIME_ISO_LEN], ls[TIME_ISO_LEN], vu[TIME_ISO_LEN], ss[TIME_ISO_LEN];

    x->n++;
    iso(r->first_seen_us, fs, sizeof(fs));
    iso(r->last_seen_us, ls, sizeof(ls));
    iso(r->valid_until_us, vu, sizeof(vu));
    iso(r->last_sighted_us, ss, sizeof(ss));
    if (!x->a->json) {
        printf("%-10s %-40s %-16s %3d %5.1f %-12s %6lld %s%s%s\n", r->type, r->value, r->feed,
               r->confidence, score, r->tlp, (long long)r->sightings, r->tags,
               r->sources[0] ? " seen:" : "", r->sources);
        return 0;
    }
    buf_reset(&x->b);
    if (buf_printf(&x->b, "{\"id\":%lld,\"type\":", (long long)r->id) < 0 ||
        buf_json_str(&x->b, r->type, strlen(r->type)) < 0 || buf_puts(&x->b, ",\"value\":") < 0 ||
        buf_json_str(&x->b, r->value, strlen(r->value)) < 0 || buf_puts(&x->b, ",\"feed\":") < 0 ||
        buf_json_str(&x->b, r->feed, strlen(r->feed)) < 0 ||
        buf_printf(&x->b, ",\"confidence\":%d,\"score\":%.1f,\"tlp\":", r->confidence, score) < 0 ||
        buf_json_str(&x->b, r->tlp, strlen(r->tlp)) < 0 || buf_puts(&x->b, ",\"ref\":") < 0 ||
        buf_json_str(&x->b, r->ref, strlen(r->ref)) < 0 || buf_puts(&x->b, ",\"tags\":") < 0 ||
        buf_json_str(&x->b, r->tags, strlen(r->tags)) < 0 ||
        buf_printf(&x->b,
                   ",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"valid_until\":\"%s\","
                   "\"sightings\":%lld,\"last_sighted\":\"%s\",\"sources\":",
                   fs, ls, vu, (long long)r->sightings, ss) < 0 ||
        buf_json_str(&x->b, r->sources, strlen(r->sources)) < 0 || buf_puts(&x->b, "}\n") < 0)
        return -ENOMEM;
    fwrite(x->b.data, 1, x->b.len, stdout);
    return 0;
}

static int do_list(struct intel_args *a, struct config *cfg)
{
    struct list_ctx x = {a, cfg, time_now_us(), {0}, 0};
    struct store *st = open_store(cfg);
    int r;

    if (!st)
        return CLI_EXIT_FAIL;
    buf_init(&x.b, 1024 * 1024);
    if (!a->json)
        printf("%-10s %-40s %-16s %3s %5s %-12s %6s %s\n", "TYPE", "VALUE", "FEED", "CNF", "SCORE",
               "TLP", "SEEN", "TAGS");
    r = store_intel_each(st, a->type >= 0 ? intel_type_name((enum intel_type)a->type) : NULL,
                         list_row, &x);
    if (r < 0)
        fprintf(stderr, "hikeshi intel: list: %s\n", store_errmsg(st));
    buf_done(&x.b);
    store_free(st);
    return r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int do_expire(struct config *cfg)
{
    struct store *st = open_store(cfg);
    int64_t n = 0;
    int r;

    if (!st)
        return CLI_EXIT_FAIL;
    r = intel_expire(st, time_now_us(), (int64_t)cfg->intel_half_life_s * 1000000,
                     (int)cfg->intel_min_score, &n);
    if (r < 0)
        fprintf(stderr, "hikeshi intel: expire: %s\n", store_errmsg(st));
    else
        printf("%lld indicators expired or decayed under score %llu removed\n", (long long)n,
               (unsigned long long)cfg->intel_min_score);
    store_free(st);
    return r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* Writes the export whole into memory first, so that a failure leaves no
 * half-written file behind and -o FILE is replaced only by a whole one. */
static int do_export(struct intel_args *a, struct config *cfg)
{
    struct intel_export_set *set = NULL;
    struct store *st = open_store(cfg);
    struct buf b;
    size_t skipped = 0;
    int r;

    if (!st)
        return CLI_EXIT_FAIL;
    buf_init(&b, (size_t)1 << 31);
    if (a->incident) {
        size_t sighted = 0;

        if ((r = intel_export_collect_incident(st, a->incident, a->tlp_max, &set, &sighted)) < 0) {
            fprintf(stderr, "hikeshi intel: export: incident %lld: %s\n", (long long)a->incident,
                    r == -EIO ? store_errmsg(st) : strerror(-r));
            goto out;
        }
        fprintf(stderr, "hikeshi intel: incident %lld: %zu indicator values in its alerts\n",
                (long long)a->incident, sighted);
    } else if ((r = intel_export_collect(st, a->tlp_max, &set)) < 0) {
        fprintf(stderr, "hikeshi intel: export: %s\n",
                r == -EIO ? store_errmsg(st) : strerror(-r));
        goto out;
    }
    struct intel_export_opts o = {
        .format = (enum intel_export_format)a->format,
        .identity = cfg->intel_identity,
        .now_us = time_now_us(),
    };
    if ((r = intel_export_write(set, &o, &b, &skipped)) < 0) {
        fprintf(stderr, "hikeshi intel: export: %s\n",
                r == -E2BIG ? "the export passes 2 GiB" : strerror(-r));
        goto out;
    }
    if (a->output) {
        FILE *f = fopen(a->output, "w");
        int ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        int e = errno;

        /* fclose exactly once, its own failure counted too */
        if (f && fclose(f) != 0 && ok) {
            ok = 0;
            e = errno;
        }
        if (!ok) {
            r = -(e ? e : EIO);
            fprintf(stderr, "hikeshi intel: export: %s: %s\n", a->output, strerror(-r));
            goto out;
        }
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        r = -EIO;
        fprintf(stderr, "hikeshi intel: export: standard output: %s\n", strerror(errno));
        goto out;
    }
    fprintf(stderr,
            "hikeshi intel: %zu indicators exported, %zu withheld by TLP (over %s or RED)%s",
            intel_export_count(set) - skipped, intel_export_withheld(set),
            intel_tlp_name((enum intel_tlp)a->tlp_max), skipped ? "" : "\n");
    if (skipped)
        fprintf(stderr,
                ", %zu left out (no MISP type for a process name, a URL pattern or a JA4)\n",
                skipped);
out:
    intel_export_set_free(set);
    buf_done(&b);
    store_free(st);
    return r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_intel_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"feed", required_argument, NULL, OPT_FEED},
        {"tlp", required_argument, NULL, OPT_TLP},
        {"confidence", required_argument, NULL, OPT_CONF},
        {"type", required_argument, NULL, OPT_TYPE},
        {"warninglists", required_argument, NULL, OPT_WARN},
        {"json", no_argument, NULL, OPT_JSON},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"tlp-max", required_argument, NULL, OPT_TLP_MAX},
        {"output", required_argument, NULL, 'o'},
        {"incident", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct intel_args a = {NULL, NULL, NULL, NULL, -1, -1, -1, 0, 0, INTEL_EXPORT_STIX,
                           INTEL_TLP_GREEN, 0, 0};
    struct config *cfg;
    const char *sub;
    char *end;
    long v;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(intel_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "import") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "expire") != 0 &&
        strcmp(sub, "export") != 0)
        return cli_usage_error("intel", "unknown command %s (import, list, expire, export)", sub);
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.cfg_path = optarg; break;
        case OPT_FEED: a.feed = optarg; break;
        case OPT_WARN: a.warn = optarg; break;
        case OPT_JSON: a.json = 1; break;
        case 'q': a.quiet = 1; break;
        case 'o': a.output = optarg; break;
        case 'i':
            v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v <= 0)
                return cli_usage_error("intel", "--incident %s: not an incident number", optarg);
            a.incident = v;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "stix") == 0)
                a.format = INTEL_EXPORT_STIX;
            else if (strcmp(optarg, "misp") == 0)
                a.format = INTEL_EXPORT_MISP;
            else if (strcmp(optarg, "csv") == 0)
                a.format = INTEL_EXPORT_CSV;
            else
                return cli_usage_error("intel", "--format %s: not stix, misp or csv", optarg);
            break;
        case OPT_TLP_MAX:
            a.tlp_max = intel_tlp_parse(optarg, strlen(optarg));
            if (a.tlp_max < 0 || a.tlp_max == INTEL_TLP_RED)
                return cli_usage_error("intel", "--tlp-max %s: not CLEAR, GREEN, AMBER or "
                                                "AMBER+STRICT (RED is never exported)",
                                       optarg);
            break;
        case OPT_TLP:
            if ((a.tlp = intel_tlp_parse(optarg, strlen(optarg))) < 0)
                return cli_usage_error("intel", "--tlp %s: not CLEAR, GREEN, AMBER, AMBER+STRICT "
                                                "or RED", optarg);
            break;
        case OPT_CONF:
            v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 100)
                return cli_usage_error("intel", "--confidence %s: not 0 to 100", optarg);
            a.confidence = (int)v;
            break;
        case OPT_TYPE:
            if ((a.type = intel_type_parse(optarg)) < 0)
                return cli_usage_error("intel", "--type %s: unknown type", optarg);
            break;
        case 'h': fputs(intel_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("intel", "unknown or incomplete option");
        }
    }
    if (strcmp(sub, "import") == 0 ? optind != argc - 1 : optind != argc)
        return cli_usage_error("intel", strcmp(sub, "import") == 0 ? "import takes one FILE or DIR"
                                                                    : "%s takes no argument",
                               sub);
    if (!(cfg = cli_load_config(a.cfg_path)))
        return CLI_EXIT_USAGE;
    if (strcmp(sub, "import") == 0)
        r = do_import(&a, cfg, argv[optind]);
    else if (strcmp(sub, "list") == 0)
        r = do_list(&a, cfg);
    else if (strcmp(sub, "export") == 0)
        r = do_export(&a, cfg);
    else
        r = do_expire(cfg);
    config_free(cfg);
    return r;
}
