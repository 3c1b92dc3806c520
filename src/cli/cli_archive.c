/*
 * cli_archive.c - `hikeshi archive keygen|verify|cat`: make the archive's
 * signing key chain, check the archive (docs/archive.md) and say where it
 * is broken, and print its records for a time range.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "cli/cli_archive_prune.h"
#include "conf/config.h"
#include "event/time.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/netaddr.h"

static const char archive_usage[] =
    "usage: hikeshi archive keygen [-c CONFIG] [--key FILE] [--pub FILE]\n"
    "       hikeshi archive verify [-c CONFIG] [--dir DIR] [--pub FILE | --form-only]\n"
    "                              [--key FILE | --expect-epoch N] [--witness FILE]\n"
    "                              [--json]\n"
    "       hikeshi archive cat [-c CONFIG] [--dir DIR] [--from TIME] [--to TIME]\n"
    "                           [-f raw|jsonl]\n"
    "       hikeshi archive prune [-c CONFIG] [--dir DIR] [--key FILE] [--dry-run]\n"
    "\n"
    "The archive keeps every record as received, in hash-chained blocks sealed\n"
    "with an evolving Ed25519 key (docs/archive.md).\n"
    "\n"
    "keygen   writes a new signing key (FILE, mode 0600, outside data_dir) and\n"
    "         its verification key (FILE.pub unless --pub), and prints the\n"
    "         verification key: keep a copy away from this machine.\n"
    "verify   checks every segment, frame, block and seal; prints the first\n"
    "         fault with its segment, chain position and byte offset.\n"
    "cat      prints the records received in [--from, --to).\n"
    "prune    removes segments by archive.retention, leaving signed tombstones\n"
    "         ('hikeshi archive prune --help').\n"
    "\n"
    "  -c, --config FILE    data_dir, archive.key and archive.verify_key from FILE\n"
    "      --dir DIR        the archive directory (default DATA_DIR/archive)\n"
    "      --key FILE       the signing key (default archive.key); verify reads\n"
    "                       only its epoch, to find seals cut off the end\n"
    "      --pub FILE       the verification key (default archive.verify_key, or\n"
    "                       the signing key's path with .pub)\n"
    "      --form-only      verify without a verification key: hashes, chain and\n"
    "                       seal form only (a forged key chain is not caught)\n"
    "      --expect-epoch N the epoch the archive's seals must reach\n"
    "      --witness FILE   verify: also check the archive against the seals a\n"
    "                       witness kept (archive.witness file lines): each must\n"
    "                       be in the archive byte for byte, and the seals must\n"
    "                       reach the latest witnessed epoch\n"
    "      --json           verify: print one JSON object\n"
    "      --from TIME      ISO 8601 time or seconds since the epoch\n"
    "      --to TIME        (exclusive)\n"
    "  -f, --format FMT     cat: raw (the bytes, one record a line; default) or\n"
    "                       jsonl (time, input, peer, flags, raw)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 success (verify: intact), 1 verify found a fault or a\n"
    "command failed, 2 usage errors or unreadable files.\n";

struct archive_args {
    const char *cfg_path, *dir, *key, *pub, *witness;
    int form_only, json, jsonl;
    uint64_t expect_epoch;
    int64_t from, to;
    char dir_buf[PATH_MAX + 16], pub_buf[PATH_MAX + 16];
    char data_dir[PATH_MAX];
    char cfg_key[PATH_MAX], cfg_pub[PATH_MAX];
};

/* Fills in what the options left to the configuration. */
static int load_defaults(struct archive_args *a)
{
    struct config *cfg = cli_load_config(a->cfg_path);

    if (!cfg)
        return -EINVAL;
    snprintf(a->data_dir, sizeof(a->data_dir), "%s", cfg->data_dir);
    if (cfg->archive_key)
        snprintf(a->cfg_key, sizeof(a->cfg_key), "%s", cfg->archive_key);
    if (cfg->archive_verify_key)
        snprintf(a->cfg_pub, sizeof(a->cfg_pub), "%s", cfg->archive_verify_key);
    config_free(cfg);
    if (!a->dir) {
        snprintf(a->dir_buf, sizeof(a->dir_buf), "%s/archive", a->data_dir);
        a->dir = a->dir_buf;
    }
    if (!a->key && a->cfg_key[0])
        a->key = a->cfg_key;
    if (!a->pub && a->cfg_pub[0])
        a->pub = a->cfg_pub;
    if (!a->pub && a->key) {
        snprintf(a->pub_buf, sizeof(a->pub_buf), "%s.pub", a->key);
        a->pub = a->pub_buf;
    }
    return 0;
}

static int do_keygen(struct archive_args *a)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    char hex[2 * ARCHIVE_PUBKEY_LEN + 1];
    int r;

    if (!a->key)
        return cli_usage_error("archive", "keygen: no key file: give --key FILE or set "
                                          "archive.key in the configuration");
    if (cli_path_inside(a->key, a->data_dir)) {
        fprintf(stderr,
                "hikeshi archive: keygen: %s is inside data_dir (%s): the signing key must "
                "live outside the data it seals\n",
                a->key, a->data_dir);
        return CLI_EXIT_USAGE;
    }
    r = archive_key_generate(a->key, a->pub, pub);
    if (r < 0) {
        fprintf(stderr, "hikeshi archive: keygen: %s / %s: %s\n", a->key, a->pub,
                r == -EEXIST ? "exists already (refusing to overwrite a key)" : strerror(-r));
        return CLI_EXIT_FAIL;
    }
    hex_encode(pub, sizeof(pub), hex);
    printf("signing key:      %s (epoch 0; evolves at each seal)\n"
           "verification key: %s\n"
           "%s\n"
           "Keep a copy of the verification key away from this machine: it is what\n"
           "proves the seals.\n",
           a->key, a->pub, hex);
    return CLI_EXIT_OK;
}

/* The witness check's line (text) or member (JSON). */
static void print_witness(struct buf *b, const struct archive_witness_result *w, const char *path)
{
    if (!b) {
        if (w->faults == 0)
            printf("  witness %s: %" PRIu64 " witnessed seals, all in the archive byte for byte "
                   "(latest epoch %" PRIu64 ")\n",
                   path, w->seals, w->max_epoch);
        else
            printf("  witness %s: %" PRIu64 " of %" PRIu64 " witnessed seals do not match "
                   "(%" PRIu64 " missing, %" PRIu64 " rewritten, %" PRIu64
                   " bad lines); first at line %" PRIu64 ": %s\n",
                   path, w->faults, w->seals + w->bad_lines, w->missing, w->differ, w->bad_lines,
                   w->line, w->why);
        return;
    }
    buf_puts(b, ",\"witness\":{\"file\":");
    buf_json_str(b, path, strlen(path));
    buf_printf(b,
               ",\"seals\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"missing\":%" PRIu64
               ",\"rewritten\":%" PRIu64 ",\"bad_lines\":%" PRIu64 ",\"latest_epoch\":%" PRIu64
               ",\"fault\":",
               w->seals, w->matched, w->missing, w->differ, w->bad_lines, w->max_epoch);
    if (w->faults) {
        buf_printf(b, "{\"line\":%" PRIu64 ",\"why\":", w->line);
        buf_json_str(b, w->why, strlen(w->why));
        buf_putc(b, '}');
    } else {
        buf_puts(b, "null");
    }
    buf_putc(b, '}');
}

static void print_result(const char *dir, const struct archive_verify_result *res, int json,
                         int form_only, int have_epoch, const struct archive_witness_result *w,
                         const char *wpath)
{
    struct buf b;

    if (!json) {
        if (res->fault == ARCHIVE_FAULT_NONE)
            printf(
                "%s: intact: %" PRIu64 " segments, %" PRIu64 " blocks, %" PRIu64
                " records, %" PRIu64 " sealed by %" PRIu64 " seals (next epoch %" PRIu64 ")%s%s\n",
                dir, res->segments, res->blocks, res->records, res->sealed_records, res->seals,
                res->epoch, form_only ? "; seals checked for form only (no verification key)" : "",
                have_epoch ? "" : "; the end was not checked against the key's epoch");
        else
            printf("%s: %s at %s frame %" PRIu64 " offset %" PRIu64 ": %s\n"
                   "  verified before it: %" PRIu64 " records, %" PRIu64 " sealed by %" PRIu64
                   " seals\n",
                   dir, archive_fault_name(res->fault), res->segment, res->frame, res->offset,
                   res->why, res->records, res->sealed_records, res->seals);
        cli_archive_removed_text(stdout, res);
        if (w)
            print_witness(NULL, w, wpath);
        return;
    }
    buf_init(&b, 64 * 1024);
    buf_puts(&b, "{\"dir\":");
    buf_json_str(&b, dir, strlen(dir));
    buf_printf(&b,
               ",\"intact\":%s,\"fault\":", res->fault == ARCHIVE_FAULT_NONE ? "true" : "false");
    if (res->fault == ARCHIVE_FAULT_NONE) {
        buf_puts(&b, "null");
    } else {
        buf_puts(&b, "{\"kind\":");
        buf_json_str(&b, archive_fault_name(res->fault), strlen(archive_fault_name(res->fault)));
        buf_puts(&b, ",\"segment\":");
        buf_json_str(&b, res->segment, strlen(res->segment));
        buf_printf(&b, ",\"frame\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"why\":", res->frame,
                   res->offset);
        buf_json_str(&b, res->why, strlen(res->why));
        buf_putc(&b, '}');
    }
    cli_archive_removed_json(&b, res);
    if (w)
        print_witness(&b, w, wpath);
    buf_printf(&b,
               ",\"segments\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"records\":%" PRIu64
               ",\"sealed_records\":%" PRIu64 ",\"seals\":%" PRIu64 ",\"epoch\":%" PRIu64
               ",\"form_only\":%s}\n",
               res->segments, res->blocks, res->records, res->sealed_records, res->seals,
               res->epoch, form_only ? "true" : "false");
    fputs(b.data ? b.data : "", stdout);
    buf_done(&b);
}

static int do_verify(struct archive_args *a)
{
    struct archive_verify_result res;
    struct archive_witness_result wres;
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    uint64_t expect = a->expect_epoch;
    int r, have_epoch = expect > 0;

    if (!a->form_only) {
        if (!a->pub)
            return cli_usage_error("archive", "verify: no verification key: give --pub FILE "
                                              "(or set archive.key / archive.verify_key), or "
                                              "--form-only");
        r = archive_pubkey_load(a->pub, pub);
        if (r < 0) {
            fprintf(stderr, "hikeshi archive: verify: %s: %s\n", a->pub,
                    r == -EBADMSG ? "not a verification key (64 hex digits)" : strerror(-r));
            return CLI_EXIT_USAGE;
        }
    }
    if (!expect && a->key) {
        struct archive_key *k;
        const char *why = NULL;

        r = archive_key_load(a->key, &k, &why);
        if (r == 0) {
            expect = archive_key_epoch(k);
            have_epoch = 1;
            archive_key_free(k);
        } else if (a->key != a->cfg_key || r != -ENOENT) {
            /* A key named on the command line must be readable; the
             * configured one may be absent where only verifying. */
            fprintf(stderr, "hikeshi archive: verify: %s: %s\n", a->key, why ? why : strerror(-r));
            return CLI_EXIT_USAGE;
        }
    }
    if (a->witness) {
        r = archive_witness_check(a->dir, a->witness, &wres);
        if (r < 0) {
            fprintf(stderr, "hikeshi archive: verify: --witness %s: %s\n", a->witness,
                    strerror(-r));
            return CLI_EXIT_USAGE;
        }
        /* A witnessed seal the archive lacks at its end (a cut) is the
         * witness check's fault, named with its line there. */
    }
    r = archive_verify(a->dir, a->form_only ? NULL : pub, expect, &res);
    if (r < 0) {
        fprintf(stderr, "hikeshi archive: verify: %s: %s\n", a->dir, strerror(-r));
        return CLI_EXIT_USAGE;
    }
    print_result(a->dir, &res, a->json, a->form_only, have_epoch, a->witness ? &wres : NULL,
                 a->witness);
    return res.fault == ARCHIVE_FAULT_NONE && (!a->witness || wres.faults == 0) ? CLI_EXIT_OK
                                                                                : CLI_EXIT_FAIL;
}

static void print_jsonl(struct buf *b, const struct archive_record *rec)
{
    char t[64], peer[INET6_ADDRSTRLEN + 16] = "";

    buf_reset(b);
    time_format_iso(rec->recv_us, t, sizeof(t));
    if (rec->peer_family) {
        struct sockaddr_storage ss;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        memset(&ss, 0, sizeof(ss));
        if (rec->peer_family == 4) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons(rec->peer_port);
            memcpy(&in4->sin_addr, rec->peer_addr, 4);
        } else {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(rec->peer_port);
            memcpy(&in6->sin6_addr, rec->peer_addr, 16);
        }
        netaddr_format((const struct sockaddr *)&ss, peer, sizeof(peer));
    }
    buf_printf(b, "{\"time\":\"%s\",\"input\":", t);
    buf_json_str(b, rec->input, rec->input_len);
    buf_puts(b, ",\"peer\":");
    if (peer[0])
        buf_json_str(b, peer, strlen(peer));
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"flags\":%u,\"raw\":", rec->flags);
    buf_json_str(b, (const char *)rec->raw, rec->raw_len);
    buf_puts(b, "}\n");
    fwrite(b->data, 1, b->len, stdout);
}

static int do_cat(struct archive_args *a)
{
    struct archive_reader *rd;
    struct archive_record rec;
    uint64_t nread, nskip, ncorrupt;
    struct buf b;
    int r;

    r = archive_reader_open(a->dir, a->from, a->to, &rd);
    if (r < 0) {
        fprintf(stderr, "hikeshi archive: cat: %s: %s\n", a->dir,
                r == -ENOENT ? "no archive there" : strerror(-r));
        return CLI_EXIT_FAIL;
    }
    buf_init(&b, 8 * (size_t)ARCHIVE_RECORD_MAX);
    while ((r = archive_reader_next(rd, &rec)) == 1) {
        if (a->jsonl) {
            print_jsonl(&b, &rec);
        } else {
            fwrite(rec.raw, 1, rec.raw_len, stdout);
            fputc('\n', stdout);
        }
    }
    buf_done(&b);
    archive_reader_counts(rd, &nread, &nskip, &ncorrupt);
    archive_reader_free(rd);
    if (r < 0)
        fprintf(stderr, "hikeshi archive: cat: %s: %s\n", a->dir, strerror(-r));
    if (ncorrupt)
        fprintf(stderr,
                "hikeshi archive: cat: %" PRIu64 " damaged blocks or segments skipped (run "
                "'hikeshi archive verify' to find them)\n",
                ncorrupt);
    return r < 0 || ncorrupt ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_archive_main(int argc, char **argv)
{
    enum {
        OPT_DIR = 256,
        OPT_KEY,
        OPT_PUB,
        OPT_FORM,
        OPT_EPOCH,
        OPT_JSON,
        OPT_FROM,
        OPT_TO,
        OPT_WITNESS
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, OPT_DIR},
        {"key", required_argument, NULL, OPT_KEY},
        {"pub", required_argument, NULL, OPT_PUB},
        {"form-only", no_argument, NULL, OPT_FORM},
        {"expect-epoch", required_argument, NULL, OPT_EPOCH},
        {"witness", required_argument, NULL, OPT_WITNESS},
        {"json", no_argument, NULL, OPT_JSON},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct archive_args a;
    const char *sub;
    char *end;
    int c;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(archive_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "prune") == 0)
        return cli_archive_prune_main(argc - 1, argv + 1);
    if (strcmp(sub, "keygen") != 0 && strcmp(sub, "verify") != 0 && strcmp(sub, "cat") != 0)
        return cli_usage_error("archive", "unknown subcommand '%s'", sub);
    memset(&a, 0, sizeof(a));
    a.from = INT64_MIN;
    a.to = INT64_MAX;
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.cfg_path = optarg; break;
        case OPT_DIR: a.dir = optarg; break;
        case OPT_KEY: a.key = optarg; break;
        case OPT_PUB: a.pub = optarg; break;
        case OPT_FORM: a.form_only = 1; break;
        case OPT_JSON: a.json = 1; break;
        case OPT_WITNESS: a.witness = optarg; break;
        case OPT_EPOCH:
            errno = 0;
            a.expect_epoch = strtoull(optarg, &end, 10);
            if (errno || *end || end == optarg || optarg[0] == '-')
                return cli_usage_error("archive", "--expect-epoch: not a number: '%s'", optarg);
            break;
        case OPT_FROM:
        case OPT_TO:
            if (cli_parse_time(optarg, c == OPT_FROM ? &a.from : &a.to) < 0)
                return cli_usage_error("archive", "%s: not an ISO 8601 time or epoch seconds: '%s'",
                                       c == OPT_FROM ? "--from" : "--to", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0)
                a.jsonl = 1;
            else if (strcmp(optarg, "raw") != 0)
                return cli_usage_error("archive", "--format: raw or jsonl, not '%s'", optarg);
            break;
        case 'h': fputs(archive_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("archive", "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return cli_usage_error("archive", "unexpected argument '%s'", argv[optind]);
    if (a.form_only && a.pub)
        return cli_usage_error("archive", "--form-only and --pub exclude each other");
    if (load_defaults(&a) < 0)
        return CLI_EXIT_USAGE;
    if (a.form_only)
        a.pub = NULL;
    if (strcmp(sub, "keygen") == 0)
        return do_keygen(&a);
    if (strcmp(sub, "verify") == 0)
        return do_verify(&a);
    return do_cat(&a);
}
