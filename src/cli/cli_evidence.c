/*
 * cli_evidence.c - `hikeshi evidence`: the evidence register with its chain
 * of custody, and signed bundles for third parties (docs/evidence.md).
 * keygen makes the evidence key chain; add, show, transfer, verify and
 * export each write a sealed custody entry (and an audit entry);
 * verify-bundle checks a bundle offline with only the verification key.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "evidence/evidence_import.h"
#include "evidence/evidence_excerpt.h"
#include "evidence/evidence_register.h"
#include "incident/audit.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/jp.h"

static const char evidence_usage[] =
    "usage: hikeshi evidence keygen --key FILE [--pub FILE] [-c CONFIG]\n"
    "       hikeshi evidence add [OPTIONS] --kind KIND FILE\n"
    "       hikeshi evidence add [OPTIONS] --archive --query Q --from T1 --to T2\n"
    "       hikeshi evidence list [-c CONFIG] [--incident N] [--json]\n"
    "       hikeshi evidence show [-c CONFIG] [--key FILE] ID\n"
    "       hikeshi evidence transfer [-c CONFIG] [--key FILE] --from A --to B\n"
    "                                 [--reason TEXT] ID\n"
    "       hikeshi evidence verify [-c CONFIG] [--key FILE] ID...\n"
    "       hikeshi evidence export [-c CONFIG] [--key FILE] (--incident N | --item ID...)\n"
    "                               [--no-copy] -o DIR\n"
    "       hikeshi evidence verify-bundle --pub FILE DIR\n"
    "       hikeshi evidence import [-c CONFIG] [--key FILE] --site-pub FILE\n"
    "                               [--incident N]... [--by NAME] DIR\n"
    "\n"
    "keygen         writes the evidence signing key (FILE, mode 0600, outside\n"
    "               data_dir) and its verification key (FILE.pub unless --pub)\n"
    "add            hashes FILE (SHA-256 and BLAKE2b-512, one streaming pass) and\n"
    "               registers it with its acquisition; --copy keeps a read-only\n"
    "               copy in DATA_DIR/evidence/<sha256>, else it is referenced in place;\n"
    "               --archive adds an archive excerpt instead: the records hunt query\n"
    "               Q matches received in [T1, T2), with the archive's proof that they\n"
    "               are in it as sealed (kind archive-excerpt, always copied)\n"
    "list           the items (all, or those of one incident)\n"
    "show           an item's record and custody log (recorded as an access)\n"
    "transfer       hands the item from its custodian A to B (recorded)\n"
    "verify         re-hashes each item, checks its custody chain and the seals,\n"
    "               and names what broke (recorded)\n"
    "export         writes a signed bundle to DIR (must not exist): manifest.json,\n"
    "               manifest.sig and the items under items/ (only referenced with\n"
    "               --no-copy)\n"
    "verify-bundle  checks a bundle offline against the site's verification key\n"
    "import         verifies another site's bundle against that site's key\n"
    "               (--site-pub) and, only when intact, registers its items here:\n"
    "               each gets its add entry and an import entry \"received from\"\n"
    "               the site's key; the manifest is kept in DATA_DIR/evidence/bundles\n"
    "\n"
    "  -c, --config FILE    data_dir from FILE\n"
    "      --key FILE       the evidence signing key (default $HIKESHI_EVIDENCE_KEY);\n"
    "                       its verification key is FILE.pub unless --pub\n"
    "      --pub FILE       the verification key\n"
    "      --site-pub FILE  import: the verification key of the site that signed it\n"
    "      --kind KIND      disk-image, memory-dump, pcap, log-bundle, screenshot, other\n"
    "      --copy           copy the file into the evidence store\n"
    "      --by NAME        who acquired it (default: this user); its first custodian\n"
    "      --at TIME        when it was acquired (default: now)\n"
    "      --host NAME      the host it was taken from\n"
    "      --tool TEXT      the tool, --command TEXT its command line\n"
    "      --reason TEXT    why it was taken (add) or handed over (transfer)\n"
    "      --incident N     link to incident N (add: repeatable)\n"
    "      --purpose P      investigation, detection, proof-of-management,\n"
    "                       proof-against-perpetrator, proof-of-non-occurrence\n"
    "                       (repeatable; default investigation)\n"
    "      --item ID        export this item (repeatable)\n"
    "  -o, --output DIR     the bundle's directory\n"
    "      --json           list: print JSON\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 success (verify: intact), 1 failure (verify: broken; each fault\n"
    "is printed), 2 usage errors.\n";

#define MAX_MULTI 64

struct ev_args {
    const char *cfg_path, *key, *pub, *kind, *by, *at, *host, *tool, *command, *reason;
    const char *from, *to, *out;
    const char *site_pub; /* import: the other site's verification key file */
    int copy, no_copy, json, archive;
    const char *query; /* add --archive */
    int64_t incidents[MAX_MULTI];
    size_t n_incidents;
    const char *purposes[MAX_MULTI];
    size_t n_purposes;
    int64_t items[MAX_MULTI];
    size_t n_items;
    char pub_buf[PATH_MAX + 8];
};

struct ev_ctx {
    struct config *cfg;
    struct store *st;
    struct audit *audit;
    struct evidence_reg reg;
    int reg_open;
};

static int outbox_append(void *ctx, const char *actor, const char *action, const char *object,
                         const char *details)
{
    return audit_append(ctx, actor, action, object, details, strlen(details), NULL);
}

static void ctx_close(struct ev_ctx *c)
{
    if (c->reg_open)
        evidence_reg_close(&c->reg);
    audit_free(c->audit);
    store_free(c->st);
    config_free(c->cfg);
}

/* Config, store, audit log (or the outbox when a daemon holds it), and
 * the register with the key when `need_key`. */
static int ctx_open(struct ev_ctx *c, struct ev_args *a, int need_key)
{
    const struct passwd *pw = getpwuid(geteuid());
    struct audit_result ar = {0};
    char path[PATH_MAX + 16], actor[EVIDENCE_NAME_MAX + 1], *err = NULL;
    int r;

    memset(c, 0, sizeof(*c));
    if (pw && pw->pw_name && strlen(pw->pw_name) < 64)
        snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
    else
        snprintf(actor, sizeof(actor), "cli:uid%u", (unsigned)geteuid());
    if (!(c->cfg = cli_load_config(a->cfg_path)))
        return CLI_EXIT_USAGE;
    if (need_key) {
        if (!a->key)
            return cli_usage_error("evidence", "no signing key: give --key FILE or set "
                                               "HIKESHI_EVIDENCE_KEY");
        if (!a->pub) {
            snprintf(a->pub_buf, sizeof(a->pub_buf), "%s.pub", a->key);
            a->pub = a->pub_buf;
        }
    }
    if ((r = store_open(c->cfg->data_dir, &c->st, &err)) < 0) {
        fprintf(stderr, "hikeshi evidence: store in %s: %s\n", c->cfg->data_dir,
                err ? err : strerror(-r));
        free(err);
        return CLI_EXIT_FAIL;
    }
    if (need_key) {
        snprintf(path, sizeof(path), "%s/audit.log", c->cfg->data_dir);
        r = audit_open(path, &c->audit, &ar);
        if (r < 0 && r != -EBUSY) {
            fprintf(stderr, "hikeshi evidence: audit log %s: %s%s%s; nothing changed\n", path,
                    strerror(-r), ar.why != AUDIT_OK ? "; chain broken: " : "",
                    ar.why != AUDIT_OK ? audit_why_name(ar.why) : "");
            return CLI_EXIT_FAIL;
        }
        if (c->audit && (r = store_outbox_drain(c->st, outbox_append, c->audit, NULL)) < 0) {
            fprintf(stderr,
                    "hikeshi evidence: queued audit entries could not be appended to "
                    "%s: %s\n",
                    path, strerror(-r));
            return CLI_EXIT_FAIL;
        }
    }
    r = evidence_reg_open(&c->reg, c->cfg->data_dir, c->st, c->audit, need_key ? a->key : NULL,
                          a->pub, actor);
    c->reg_open = 1;
    if (r < 0) {
        fprintf(stderr, "hikeshi evidence: %s\n", c->reg.err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int do_keygen(struct ev_args *a)
{
    struct config *cfg;
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    char hex[65];
    int r;

    if (!a->key)
        return cli_usage_error("evidence", "keygen: give --key FILE");
    if (!(cfg = cli_load_config(a->cfg_path)))
        return CLI_EXIT_USAGE;
    if (cli_path_inside(a->key, cfg->data_dir)) {
        fprintf(stderr,
                "hikeshi evidence: keygen: %s is inside data_dir (%s): the signing key must "
                "live outside the register it seals\n",
                a->key, cfg->data_dir);
        config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    config_free(cfg);
    if (!a->pub) {
        snprintf(a->pub_buf, sizeof(a->pub_buf), "%s.pub", a->key);
        a->pub = a->pub_buf;
    }
    if ((r = archive_key_generate(a->key, a->pub, pub)) < 0) {
        fprintf(stderr, "hikeshi evidence: keygen: %s / %s: %s\n", a->key, a->pub,
                r == -EEXIST ? "exists already (refusing to overwrite a key)" : strerror(-r));
        return CLI_EXIT_FAIL;
    }
    hex_encode(pub, sizeof(pub), hex);
    printf("signing key:      %s (epoch 0; evolves at each seal)\n"
           "verification key: %s\n%s\n"
           "Give the verification key to whoever must check a bundle, by a way\n"
           "other than the bundle itself.\n",
           a->key, a->pub, hex);
    return CLI_EXIT_OK;
}

static int do_add(struct ev_args *a, const char *file)
{
    struct evidence_add_req q;
    struct evidence_digest d;
    struct ev_ctx c;
    char sha[65], b2[129];
    int64_t id = 0;
    int rc, r;

    if (!a->kind)
        return cli_usage_error("evidence", "add: give --kind KIND");
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (cli_path_inside(a->key, c.cfg->data_dir)) {
        fprintf(stderr,
                "hikeshi evidence: %s is inside data_dir (%s): the signing key must "
                "live outside the register it seals\n",
                a->key, c.cfg->data_dir);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    memset(&q, 0, sizeof(q));
    q.path = file;
    q.kind = a->kind;
    q.copy = a->copy;
    q.by = a->by;
    q.at = a->at;
    q.host = a->host;
    q.tool = a->tool;
    q.command = a->command;
    q.reason = a->reason;
    q.incidents = a->incidents;
    q.n_incidents = a->n_incidents;
    if (a->n_purposes == 0)
        a->purposes[a->n_purposes++] = "investigation";
    q.purposes = a->purposes;
    q.n_purposes = a->n_purposes;
    if ((r = evidence_add(&c.reg, &q, &id, &d)) < 0) {
        fprintf(stderr, "hikeshi evidence: add %s: %s\n", file, c.reg.err);
        rc = r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    hex_encode(d.sha256, 32, sha);
    hex_encode(d.blake2b, 64, b2);
    printf("EV-%lld %s\n  size    %llu\n  sha256  %s\n  blake2b %s\n", (long long)id, file,
           (unsigned long long)d.size, sha, b2);
    rc = CLI_EXIT_OK;
out:
    ctx_close(&c);
    return rc;
}

/* add --archive: an excerpt of the archive, with its proof, as an item. */
static int do_add_archive(struct ev_args *a)
{
    struct evidence_add_req q;
    struct evidence_digest d;
    struct ev_ctx c;
    uint8_t pub[32];
    char sha[65], dir[PATH_MAX + 16];
    int64_t id = 0, from, to;
    int rc, r;

    if (!a->query || !a->from || !a->to)
        return cli_usage_error("evidence", "add --archive: give --query Q, --from T1 and --to T2");
    if (cli_parse_time(a->from, &from) < 0 || cli_parse_time(a->to, &to) < 0 || from >= to)
        return cli_usage_error("evidence", "add --archive: --from and --to must be times, "
                                           "the first before the second");
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (!c.cfg->archive_verify_key) {
        fprintf(stderr, "hikeshi evidence: add --archive: archive.verify_key is not set: an "
                        "excerpt names the archive's verification key\n");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if ((r = archive_pubkey_load(c.cfg->archive_verify_key, pub)) < 0) {
        fprintf(stderr, "hikeshi evidence: archive verification key %s: %s\n",
                c.cfg->archive_verify_key, r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    snprintf(dir, sizeof(dir), "%s/archive", c.cfg->data_dir);
    memset(&q, 0, sizeof(q));
    q.by = a->by;
    q.at = a->at;
    q.host = a->host;
    q.tool = a->tool;
    q.command = a->command;
    q.reason = a->reason;
    q.incidents = a->incidents;
    q.n_incidents = a->n_incidents;
    if (a->n_purposes == 0)
        a->purposes[a->n_purposes++] = "investigation";
    q.purposes = a->purposes;
    q.n_purposes = a->n_purposes;
    if ((r = evidence_excerpt_add(&c.reg, c.cfg, dir, pub, a->query, from, to, &q, &id, &d)) < 0) {
        fprintf(stderr, "hikeshi evidence: add --archive: %s\n", c.reg.err);
        rc = r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto out;
    }
    hex_encode(d.sha256, 32, sha);
    printf("EV-%lld archive excerpt of %s\n  query   %s\n  size    %llu\n  sha256  %s\n",
           (long long)id, dir, a->query, (unsigned long long)d.size, sha);
out:
    ctx_close(&c);
    return rc;
}

int cli_evidence_add_export(const char *who, const char *cfg_path, const char *key,
                            struct evidence_add_req *q, const char *out_dir, long long *ret_id)
{
    struct evidence_digest d;
    struct ev_args a;
    struct ev_ctx c;
    int64_t id = 0;
    int rc;

    memset(&a, 0, sizeof(a));
    a.cfg_path = cfg_path;
    a.key = key;
    if ((rc = ctx_open(&c, &a, 1)) != CLI_EXIT_OK)
        goto out;
    if (evidence_add(&c.reg, q, &id, &d) < 0) {
        fprintf(stderr, "hikeshi %s: %s\n", who, c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    *ret_id = id;
    if (out_dir && evidence_export(&c.reg, &id, 1, out_dir, 0) < 0) {
        fprintf(stderr, "hikeshi %s: export to %s: %s\n", who, out_dir, c.reg.err);
        rc = CLI_EXIT_FAIL;
    }
out:
    ctx_close(&c);
    return rc;
}

/* One text field of a record for a table cell. */
static void cell(struct jp_span rec, const char *key, struct buf *out)
{
    struct jp_span v;

    buf_reset(out);
    if (jp_lookup(rec, key, &v) < 0 || jp_text(v, out, 0) != 0)
        (void)buf_puts(out, "-");
}

static int do_list(struct ev_args *a)
{
    struct ev_ctx c;
    struct buf out, f[5];
    struct jp_span doc, rec;
    struct jp_iter it;
    int rc;

    buf_init(&out, 256 * 1024 * 1024);
    for (int i = 0; i < 5; i++)
        buf_init(&f[i], 4096);
    if ((rc = ctx_open(&c, a, 0)) != CLI_EXIT_OK)
        goto out;
    if (evidence_list(&c.reg, a->n_incidents ? a->incidents[0] : 0, &out) < 0) {
        fprintf(stderr, "hikeshi evidence: list: %s\n", c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (a->json) {
        printf("%s\n", out.data);
        goto out;
    }
    printf("%-8s %-12s %14s %-16s %-8s %s\n", "ID", "KIND", "SIZE", "SHA256", "STORAGE", "NAME");
    if (jp_doc(out.data, out.len, &doc, NULL) == 0 && jp_iter_init(&it, doc) == 0)
        while (jp_iter_next(&it, NULL, &rec) == 1) {
            cell(rec, "id", &f[0]);
            cell(rec, "kind", &f[1]);
            cell(rec, "size", &f[2]);
            cell(rec, "sha256", &f[3]);
            cell(rec, "storage", &f[4]);
            printf("%-8s %-12s %14s %-16.16s %-8s ", f[0].data, f[1].data, f[2].data, f[3].data,
                   f[4].data);
            cell(rec, "name", &f[0]);
            printf("%s\n", f[0].data);
        }
out:
    buf_done(&out);
    for (int i = 0; i < 5; i++)
        buf_done(&f[i]);
    ctx_close(&c);
    return rc;
}

static int do_show(struct ev_args *a, int64_t id)
{
    struct ev_ctx c;
    struct buf out;
    int rc;

    buf_init(&out, 256 * 1024 * 1024);
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (evidence_show(&c.reg, id, "show", &out) < 0) {
        fprintf(stderr, "hikeshi evidence: show EV-%lld: %s\n", (long long)id, c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("%s\n", out.data);
out:
    buf_done(&out);
    ctx_close(&c);
    return rc;
}

static int do_transfer(struct ev_args *a, int64_t id)
{
    struct ev_ctx c;
    int rc;

    if (!a->from || !a->to)
        return cli_usage_error("evidence", "transfer: give --from A and --to B");
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (evidence_transfer(&c.reg, id, a->from, a->to, a->reason) < 0) {
        fprintf(stderr, "hikeshi evidence: transfer EV-%lld: %s\n", (long long)id, c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("EV-%lld: handed from %s to %s\n", (long long)id, a->from, a->to);
out:
    ctx_close(&c);
    return rc;
}

static void print_report(const char *what, const struct evidence_report *rep)
{
    if (rep->faults == 0) {
        printf("%s: intact (%zu checks passed)\n", what, rep->checked);
        return;
    }
    fputs(rep->text.data ? rep->text.data : "", stdout);
    printf("%s: BROKEN: %zu fault%s\n", what, rep->faults, rep->faults == 1 ? "" : "s");
}

static int do_verify(struct ev_args *a)
{
    struct ev_ctx c;
    int rc, bad = 0;

    if (a->n_items == 0)
        return cli_usage_error("evidence", "verify: give at least one ID");
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    for (size_t i = 0; i < a->n_items; i++) {
        struct evidence_report rep;
        char what[32];

        evidence_id_format(a->items[i], what);
        evidence_report_init(&rep);
        c.reg.err[0] = '\0';
        if (evidence_verify(&c.reg, a->items[i], &rep) < 0) {
            fprintf(stderr, "hikeshi evidence: verify %s: %s\n", what, c.reg.err);
            rc = CLI_EXIT_FAIL;
        } else {
            print_report(what, &rep);
        }
        bad |= rep.faults > 0;
        evidence_report_done(&rep);
    }
    if (bad)
        rc = CLI_EXIT_FAIL;
out:
    ctx_close(&c);
    return rc;
}

static int do_export(struct ev_args *a)
{
    struct ev_ctx c;
    int64_t *ids = a->items;
    size_t n = a->n_items;
    int rc;

    if (!a->out)
        return cli_usage_error("evidence", "export: give -o DIR");
    if ((a->n_incidents > 0) == (a->n_items > 0) || a->n_incidents > 1)
        return cli_usage_error("evidence", "export: give either --incident N or --item ID...");
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (a->n_incidents) {
        if (store_evidence_item_ids(c.st, a->incidents[0], a->items, MAX_MULTI, &n) < 0) {
            fprintf(stderr, "hikeshi evidence: export: %s\n", store_errmsg(c.st));
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        if (n > MAX_MULTI) {
            fprintf(stderr,
                    "hikeshi evidence: export: incident %lld has %zu items; at most "
                    "%d per bundle\n",
                    (long long)a->incidents[0], n, MAX_MULTI);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    if (evidence_export(&c.reg, ids, n, a->out, a->no_copy) < 0) {
        fprintf(stderr, "hikeshi evidence: export: %s\n", c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("bundle %s: %zu item%s, signed\n", a->out, n, n == 1 ? "" : "s");
out:
    ctx_close(&c);
    return rc;
}

static int do_verify_bundle(struct ev_args *a, const char *dir)
{
    struct evidence_report rep;
    uint8_t pub[32];
    char what[PATH_MAX + 16];
    int r, rc;

    if (!a->pub)
        return cli_usage_error("evidence", "verify-bundle: give --pub FILE");
    if ((r = archive_pubkey_load(a->pub, pub)) < 0) {
        fprintf(stderr, "hikeshi evidence: verification key %s: %s\n", a->pub,
                r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
        return CLI_EXIT_USAGE;
    }
    evidence_report_init(&rep);
    if ((r = evidence_bundle_verify(dir, pub, &rep)) < 0) {
        fprintf(stderr, "hikeshi evidence: verify-bundle %s: %s\n", dir, strerror(-r));
        rc = CLI_EXIT_FAIL;
    } else {
        snprintf(what, sizeof(what), "bundle %s", dir);
        print_report(what, &rep);
        rc = rep.faults ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    evidence_report_done(&rep);
    return rc;
}

static int do_import(struct ev_args *a, const char *dir)
{
    struct evidence_import_req q;
    struct evidence_report rep;
    struct ev_ctx c;
    uint8_t site[32];
    int64_t *ids = NULL;
    char name[80], what[PATH_MAX + 16];
    size_t n = 0;
    int r, rc;

    if (!a->site_pub)
        return cli_usage_error("evidence", "import: give --site-pub FILE (the verification key "
                                           "of the site that signed the bundle)");
    if ((r = archive_pubkey_load(a->site_pub, site)) < 0) {
        fprintf(stderr, "hikeshi evidence: site key %s: %s\n", a->site_pub,
                r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
        return CLI_EXIT_USAGE;
    }
    evidence_report_init(&rep);
    if ((rc = ctx_open(&c, a, 1)) != CLI_EXIT_OK)
        goto out;
    if (!(ids = calloc(EVIDENCE_IMPORT_MAX, sizeof(*ids)))) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    memset(&q, 0, sizeof(q));
    q.dir = dir;
    q.site_pub = site;
    q.incidents = a->incidents;
    q.n_incidents = a->n_incidents;
    q.by = a->by;
    r = evidence_import(&c.reg, &q, &rep, ids, EVIDENCE_IMPORT_MAX, &n);
    if (rep.faults) {
        snprintf(what, sizeof(what), "bundle %s", dir);
        print_report(what, &rep);
    }
    evidence_import_key_name(site, name);
    for (size_t i = 0; i < n; i++)
        printf("EV-%lld received from %s\n", (long long)ids[i], name);
    if (r < 0) {
        fprintf(stderr, "hikeshi evidence: import %s: %s\n", dir, c.reg.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("%zu item%s imported from %s\n", n, n == 1 ? "" : "s", dir);
out:
    free(ids);
    evidence_report_done(&rep);
    ctx_close(&c);
    return rc;
}

static int add_id(struct ev_args *a, const char *s)
{
    if (a->n_items >= MAX_MULTI || evidence_id_parse(s, &a->items[a->n_items]) < 0)
        return -1;
    a->n_items++;
    return 0;
}

static int add_num(int64_t *v, size_t *n, const char *s)
{
    char *end;
    long long x;

    errno = 0;
    x = strtoll(s, &end, 10);
    if (*n >= MAX_MULTI || errno || *end || x <= 0)
        return -1;
    v[(*n)++] = x;
    return 0;
}

/* The subcommand, once the options are read. */
static int dispatch(struct ev_args *a, const char *sub, int argc, char **argv)
{
    if (strcmp(sub, "keygen") == 0)
        return optind < argc ? cli_usage_error("evidence", "keygen takes no FILE") : do_keygen(a);
    if (strcmp(sub, "add") == 0 && a->archive)
        return optind == argc ? do_add_archive(a)
                              : cli_usage_error("evidence", "add --archive takes no FILE");
    if (strcmp(sub, "add") == 0)
        return optind == argc - 1 ? do_add(a, argv[optind])
                                  : cli_usage_error("evidence", "add takes one FILE");
    if (strcmp(sub, "list") == 0)
        return optind < argc ? cli_usage_error("evidence", "list takes no argument") : do_list(a);
    if (strcmp(sub, "export") == 0)
        return optind < argc ? cli_usage_error("evidence", "export takes no argument")
                             : do_export(a);
    if (strcmp(sub, "import") == 0)
        return optind == argc - 1 ? do_import(a, argv[optind])
                                  : cli_usage_error("evidence", "import takes one DIR");
    if (strcmp(sub, "verify-bundle") == 0)
        return optind == argc - 1 ? do_verify_bundle(a, argv[optind])
                                  : cli_usage_error("evidence", "verify-bundle takes one DIR");
    if (strcmp(sub, "show") != 0 && strcmp(sub, "transfer") != 0 && strcmp(sub, "verify") != 0)
        return cli_usage_error("evidence", "unknown subcommand '%s'", sub);
    for (; optind < argc; optind++)
        if (add_id(a, argv[optind]) < 0)
            return cli_usage_error("evidence", "'%s': not an item id (EV-N)", argv[optind]);
    if (strcmp(sub, "verify") == 0)
        return do_verify(a);
    if (a->n_items != 1)
        return cli_usage_error("evidence", "%s takes one ID", sub);
    return strcmp(sub, "show") == 0 ? do_show(a, a->items[0]) : do_transfer(a, a->items[0]);
}

int cli_evidence_main(int argc, char **argv)
{
    enum {
        OPT_KEY = 256,
        OPT_PUB,
        OPT_KIND,
        OPT_COPY,
        OPT_BY,
        OPT_AT,
        OPT_HOST,
        OPT_TOOL,
        OPT_COMMAND,
        OPT_REASON,
        OPT_INCIDENT,
        OPT_PURPOSE,
        OPT_ITEM,
        OPT_FROM,
        OPT_TO,
        OPT_NO_COPY,
        OPT_SITE_PUB,
        OPT_JSON,
        OPT_ARCHIVE,
        OPT_QUERY,
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, OPT_KEY},
        {"pub", required_argument, NULL, OPT_PUB},
        {"kind", required_argument, NULL, OPT_KIND},
        {"copy", no_argument, NULL, OPT_COPY},
        {"by", required_argument, NULL, OPT_BY},
        {"at", required_argument, NULL, OPT_AT},
        {"host", required_argument, NULL, OPT_HOST},
        {"tool", required_argument, NULL, OPT_TOOL},
        {"command", required_argument, NULL, OPT_COMMAND},
        {"reason", required_argument, NULL, OPT_REASON},
        {"incident", required_argument, NULL, OPT_INCIDENT},
        {"purpose", required_argument, NULL, OPT_PURPOSE},
        {"item", required_argument, NULL, OPT_ITEM},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"no-copy", no_argument, NULL, OPT_NO_COPY},
        {"site-pub", required_argument, NULL, OPT_SITE_PUB},
        {"json", no_argument, NULL, OPT_JSON},
        {"archive", no_argument, NULL, OPT_ARCHIVE},
        {"query", required_argument, NULL, OPT_QUERY},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ev_args a;
    const char *sub;
    int c;

    memset(&a, 0, sizeof(a));
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(evidence_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    sub = argv[1];
    a.key = getenv("HIKESHI_EVIDENCE_KEY");
    if (a.key && !*a.key)
        a.key = NULL;
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.cfg_path = optarg; break;
        case 'o': a.out = optarg; break;
        case OPT_KEY: a.key = optarg; break;
        case OPT_PUB: a.pub = optarg; break;
        case OPT_KIND: a.kind = optarg; break;
        case OPT_COPY: a.copy = 1; break;
        case OPT_BY: a.by = optarg; break;
        case OPT_AT: a.at = optarg; break;
        case OPT_HOST: a.host = optarg; break;
        case OPT_TOOL: a.tool = optarg; break;
        case OPT_COMMAND: a.command = optarg; break;
        case OPT_REASON: a.reason = optarg; break;
        case OPT_FROM: a.from = optarg; break;
        case OPT_TO: a.to = optarg; break;
        case OPT_NO_COPY: a.no_copy = 1; break;
        case OPT_SITE_PUB: a.site_pub = optarg; break;
        case OPT_JSON: a.json = 1; break;
        case OPT_ARCHIVE: a.archive = 1; break;
        case OPT_QUERY: a.query = optarg; break;
        case OPT_INCIDENT:
            if (add_num(a.incidents, &a.n_incidents, optarg) < 0)
                return cli_usage_error("evidence", "--incident '%s': not an incident number",
                                       optarg);
            break;
        case OPT_PURPOSE:
            if (a.n_purposes >= MAX_MULTI)
                return cli_usage_error("evidence", "too many --purpose");
            a.purposes[a.n_purposes++] = optarg;
            break;
        case OPT_ITEM:
            if (add_id(&a, optarg) < 0)
                return cli_usage_error("evidence", "--item '%s': not an item id (EV-N)", optarg);
            break;
        case 'h': fputs(evidence_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("evidence", "unknown or incomplete option");
        }
    }
    return dispatch(&a, sub, argc, argv);
}
