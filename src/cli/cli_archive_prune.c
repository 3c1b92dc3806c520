/*
 * cli_archive_prune.c - `hikeshi archive prune`: applies archive.retention
 * now (the daemon applies it every retention.interval), and the lines
 * `archive verify` prints about segments retention removed.  Kept apart
 * from cli_archive.c so that file stays about keys, verify and cat.
 */
#include "cli/cli_archive_prune.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_retention.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "event/time.h"
#include "pipeline/pipeline_archive.h"
#include "store/store.h"

static const char prune_usage[] =
    "usage: hikeshi archive prune [-c CONFIG] [--dir DIR] [--key FILE] [--dry-run]\n"
    "\n"
    "Removes the archive's segments that archive.retention (max_age, max_size,\n"
    "inputs) says have to go, oldest first, each replaced by a tombstone signed\n"
    "with the archive key's current epoch (docs/archive.md, \"Retention\").\n"
    "Never the open segment, never a record the daemon has not processed (its\n"
    "cursor in the store), never records no seal covers yet; with per-input\n"
    "limits, only a segment that every input with records in it lets go.\n"
    "\n"
    "  -c, --config FILE  data_dir, archive.key and archive.retention from FILE\n"
    "      --dir DIR      the archive directory (default DATA_DIR/archive)\n"
    "      --key FILE     the signing key (default archive.key)\n"
    "  -n, --dry-run      say what would be removed, remove nothing\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 success (also when nothing had to go), 1 a failure,\n"
    "2 usage errors.\n";

void cli_archive_removed_text(FILE *out, const struct archive_verify_result *res)
{
    char from[64] = "", to[64] = "";

    if (!res->tombstones)
        return;
    time_format_iso(res->removed_t_min, from, sizeof(from));
    time_format_iso(res->removed_t_max, to, sizeof(to));
    fprintf(out, "  %" PRIu64 " segments removed by retention (", res->tombstones);
    if (res->removed_records)
        fprintf(out, "records %" PRIu64 "-%" PRIu64 ", %s to %s", res->removed_first,
                res->removed_last, from, to);
    else
        fputs("no records", out);
    if (res->tomb_unsigned == res->tombstones)
        fputs("), tombstones unsigned (the archive has no key)\n", out);
    else if (res->tomb_epoch_min == res->tomb_epoch_max)
        fprintf(out, "), tombstones signed by epoch %" PRIu64 "\n", res->tomb_epoch_min);
    else
        fprintf(out, "), tombstones signed by epochs %" PRIu64 "-%" PRIu64 "\n",
                res->tomb_epoch_min, res->tomb_epoch_max);
}

void cli_archive_removed_json(struct buf *b, const struct archive_verify_result *res)
{
    buf_printf(b,
               ",\"removed\":{\"segments\":%" PRIu64 ",\"records\":%" PRIu64
               ",\"first_record\":%" PRIu64 ",\"last_record\":%" PRIu64 ",\"t_min_us\":%" PRId64
               ",\"t_max_us\":%" PRId64 ",\"unsigned\":%" PRIu64 ",\"epoch_min\":%" PRIu64
               ",\"epoch_max\":%" PRIu64 "}",
               res->tombstones, res->removed_records, res->removed_first, res->removed_last,
               res->removed_t_min, res->removed_t_max, res->tomb_unsigned, res->tomb_epoch_min,
               res->tomb_epoch_max);
}

/* The pipeline's committed cursor from the store; 0 when it has none
 * (nothing is known to be processed, so nothing may go). */
static int read_cursor(const char *data_dir, uint64_t *ret)
{
    struct store *st = NULL;
    char *err = NULL;
    int r;

    *ret = 0;
    if ((r = store_open(data_dir, &st, &err)) < 0) {
        fprintf(stderr, "hikeshi archive: prune: opening the store in %s: %s\n", data_dir,
                err ? err : strerror(-r));
        free(err);
        return r;
    }
    r = store_counter_get(st, PARCHIVE_CURSOR, ret);
    if (r == -ENOENT) {
        fprintf(stderr,
                "hikeshi archive: prune: no pipeline cursor in the store of %s: no "
                "record is known to be processed, so none is removed\n",
                data_dir);
        r = 0;
    }
    store_free(st);
    return r;
}

long cli_retention_inputs(const struct config *cfg, struct archive_retention_input **ret)
{
    size_t n = cfg->narchive_retention_inputs;

    *ret = NULL;
    if (n == 0)
        return 0;
    if (!(*ret = calloc(n, sizeof(**ret))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        (*ret)[i].name = cfg->archive_retention_inputs[i].name;
        (*ret)[i].max_age_us = (int64_t)cfg->archive_retention_inputs[i].max_age_s * 1000000;
        (*ret)[i].max_bytes = cfg->archive_retention_inputs[i].max_bytes;
    }
    return (long)n;
}

static void print_report(const char *dir, const struct archive_prune_report *rep, int dry_run)
{
    char from[64] = "", to[64] = "";

    if (!rep->segments) {
        printf("%s: nothing to remove", dir);
    } else {
        time_format_iso(rep->t_min, from, sizeof(from));
        time_format_iso(rep->t_max, to, sizeof(to));
        printf("%s: %s %" PRIu64 " segments from %s (%" PRIu64 " bytes, records %" PRIu64
               "-%" PRIu64 ", %s to %s)",
               dir, dry_run ? "would remove" : "removed", rep->segments, rep->first_removed,
               rep->bytes, rep->first_record, rep->last_record, from, to);
    }
    if (rep->kept_for_cursor)
        printf("; kept segments the pipeline has not processed yet");
    if (rep->kept_unsealed)
        printf("; kept segments with records no seal covers yet");
    if (rep->kept_for_input)
        printf("; kept the next segment for input %s's retention", rep->kept_input);
    putchar('\n');
}

int cli_archive_prune_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"dir", required_argument, NULL, 'd'},
        {"key", required_argument, NULL, 'k'},    {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *dir = NULL, *key = NULL, *why = NULL;
    char dir_buf[PATH_MAX + 16];
    struct archive_prune_report rep;
    struct archive_retention rt = {0};
    struct archive_retention_input *rin = NULL;
    struct archive_key *k = NULL;
    long nrin;
    struct config *cfg;
    uint64_t cursor = 0;
    int c, dry_run = 0, r, rc = CLI_EXIT_FAIL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'd': dir = optarg; break;
        case 'k': key = optarg; break;
        case 'n': dry_run = 1; break;
        case 'h': fputs(prune_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("archive", "prune: unknown or incomplete option");
        }
    }
    if (optind < argc)
        return cli_usage_error("archive", "prune: unexpected argument '%s'", argv[optind]);
    if (!(cfg = cli_load_config(cfg_path)))
        return CLI_EXIT_USAGE;
    rt.max_age_us = (int64_t)cfg->archive_retention_max_age_s * 1000000;
    rt.max_bytes = cfg->archive_retention_max_bytes;
    if ((nrin = cli_retention_inputs(cfg, &rin)) < 0)
        goto out;
    rt.inputs = rin;
    rt.ninputs = (size_t)nrin;
    if (!dir) {
        snprintf(dir_buf, sizeof(dir_buf), "%s/archive", cfg->data_dir);
        dir = dir_buf;
    }
    if (!key)
        key = cfg->archive_key;
    if (!rt.max_age_us && !rt.max_bytes && !rt.ninputs) {
        printf("%s: archive.retention sets no max_age, max_size or inputs: nothing to remove\n",
               dir);
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (key && (r = archive_key_load(key, &k, &why)) < 0) {
        fprintf(stderr, "hikeshi archive: prune: %s: %s\n", key, why ? why : strerror(-r));
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (read_cursor(cfg->data_dir, &cursor) < 0)
        goto out;
    r = archive_prune(dir, &rt, k, cursor, time_now_us(), dry_run, &rep);
    if (r == -ENOKEY) {
        fprintf(stderr,
                "hikeshi archive: prune: %s is sealed: its tombstones must be signed, "
                "give the signing key (--key or archive.key)\n",
                dir);
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "hikeshi archive: prune: %s: %s%s\n", dir, strerror(-r),
                r == -EBADMSG ? " (a damaged segment, or one missing without a tombstone: run "
                                "'hikeshi archive verify')"
                              : "");
        goto out;
    }
    print_report(dir, &rep, dry_run);
    rc = CLI_EXIT_OK;
out:
    archive_key_free(k);
    free(rin);
    config_free(cfg);
    return rc;
}
