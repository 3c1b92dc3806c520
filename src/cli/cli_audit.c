/*
 * cli_audit.c - `hikeshi audit keygen|verify`: makes the audit log's own
 * signing key chain, and walks the hash-chained, sealed audit log
 * (docs/audit.md) to say whether it is intact or where it breaks.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "incident/audit.h"
#include "util/hex.h"

static const char audit_usage[] =
    "usage: hikeshi audit keygen [-c CONFIG] [--key FILE] [--pub FILE]\n"
    "       hikeshi audit verify [-c CONFIG] [--json] [--head FILE] [--pub FILE]\n"
    "                            [--key FILE] [FILE]\n"
    "\n"
    "keygen   writes the audit log's signing key (FILE, mode 0600, outside\n"
    "         data_dir; audit.key) and its verification key (FILE.pub unless\n"
    "         --pub), and prints the verification key: keep a copy away from\n"
    "         this machine.  The daemon seals the log with it (audit.key).\n"
    "verify   checks the audit log's hash chain (every entry's own hash, the\n"
    "         link to the entry before it, the sequence) and its seals (their\n"
    "         signatures and the key chain); with the exported head or the\n"
    "         signing key's epoch, also that nothing was cut off its end.\n"
    "         FILE defaults to audit.log in the configuration's data_dir.\n"
    "\n"
    "  -c, --config FILE   data_dir and audit: from FILE\n"
    "      --head FILE     the exported head (default audit.head): the log must\n"
    "                      hold that very seal entry\n"
    "      --pub FILE      the verification key (default audit.verify_key, or\n"
    "                      the signing key's path with .pub): seals must be\n"
    "                      signed by its key chain from epoch 0\n"
    "      --key FILE      the signing key (default audit.key); verify reads only\n"
    "                      its epoch: the log must hold every seal it signed\n"
    "      --json          print one JSON object\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 the chain is intact, 1 it is broken, cut or rewritten (the\n"
    "first broken line and why are printed), 2 usage errors or an unreadable\n"
    "file.\n";

struct audit_args {
    const char *cfg_path, *key, *pub, *head, *path;
    int json;
    char data_dir[PATH_MAX];
    char cfg_key[PATH_MAX], cfg_pub[PATH_MAX], cfg_head[PATH_MAX];
    char pub_buf[PATH_MAX + 8], path_buf[PATH_MAX + 16];
};

/* Fills what the options did not give from the configuration. */
static int take_config(struct audit_args *a, int need_path)
{
    struct config *cfg = cli_load_config(a->cfg_path);

    if (!cfg)
        return CLI_EXIT_USAGE;
    snprintf(a->data_dir, sizeof(a->data_dir), "%s", cfg->data_dir);
    snprintf(a->cfg_key, sizeof(a->cfg_key), "%s", cfg->audit_key ? cfg->audit_key : "");
    snprintf(a->cfg_pub, sizeof(a->cfg_pub), "%s",
             cfg->audit_verify_key ? cfg->audit_verify_key : "");
    snprintf(a->cfg_head, sizeof(a->cfg_head), "%s", cfg->audit_head ? cfg->audit_head : "");
    config_free(cfg);
    if (!a->key && a->cfg_key[0])
        a->key = a->cfg_key;
    if (!a->pub && a->cfg_pub[0])
        a->pub = a->cfg_pub;
    if (!a->pub && a->key) {
        snprintf(a->pub_buf, sizeof(a->pub_buf), "%s.pub", a->key);
        a->pub = a->pub_buf;
    }
    if (!a->head && a->cfg_head[0])
        a->head = a->cfg_head;
    if (need_path && !a->path) {
        snprintf(a->path_buf, sizeof(a->path_buf), "%s/audit.log", a->data_dir);
        a->path = a->path_buf;
    }
    return 0;
}

static int do_keygen(struct audit_args *a)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    char hex[2 * ARCHIVE_PUBKEY_LEN + 1];
    int r;

    if (!a->key)
        return cli_usage_error("audit", "keygen: no key file: give --key FILE or set audit.key "
                                        "in the configuration");
    if (cli_path_inside(a->key, a->data_dir)) {
        fprintf(stderr,
                "hikeshi audit: keygen: %s is inside data_dir (%s): the signing key must live "
                "outside the log it seals\n",
                a->key, a->data_dir);
        return CLI_EXIT_USAGE;
    }
    r = archive_key_generate(a->key, a->pub, pub);
    if (r < 0) {
        fprintf(stderr, "hikeshi audit: keygen: %s / %s: %s\n", a->key, a->pub,
                r == -EEXIST ? "exists already (refusing to overwrite a key)" : strerror(-r));
        return CLI_EXIT_FAIL;
    }
    hex_encode(pub, sizeof(pub), hex);
    printf("signing key:      %s (epoch 0; evolves at each seal)\n"
           "verification key: %s\n"
           "%s\n"
           "Keep a copy of the verification key away from this machine: it is what\n"
           "proves the audit log's seals.\n",
           a->key, a->pub, hex);
    return CLI_EXIT_OK;
}

static int do_verify(struct audit_args *a, int pub_given, int key_given)
{
    struct audit_verify_opts o;
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL;
    char *head_line = NULL;
    const char *why = NULL;
    int r, rc;

    memset(&o, 0, sizeof(o));
    if (a->pub) {
        r = archive_pubkey_load(a->pub, pub);
        if (r == 0) {
            o.pub = pub;
        } else if (pub_given || r != -ENOENT) {
            fprintf(stderr, "hikeshi audit: verification key %s: %s\n", a->pub,
                    r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
            return CLI_EXIT_USAGE;
        }
    }
    if (a->key) {
        r = archive_key_load(a->key, &k, &why);
        if (r == 0) {
            o.key_epoch = archive_key_epoch(k);
            archive_key_free(k);
        } else if (key_given || r != -ENOENT) {
            fprintf(stderr, "hikeshi audit: signing key %s: %s\n", a->key,
                    why ? why : strerror(-r));
            return CLI_EXIT_USAGE;
        }
    }
    if (a->head) {
        r = audit_head_load(a->head, &o, &head_line);
        if (r < 0) {
            fprintf(stderr, "hikeshi audit: head %s: %s\n", a->head,
                    r == -EBADMSG ? "not a seal line of ours with a good signature" : strerror(-r));
            return CLI_EXIT_USAGE;
        }
    }
    rc = audit_cli_verify_opts(a->path, &o, a->json, stdout);
    free(head_line);
    return rc == 0 ? CLI_EXIT_OK : rc == 1 ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
}

int cli_audit_main(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_HEAD, OPT_PUB, OPT_KEY };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, OPT_JSON},
        {"head", required_argument, NULL, OPT_HEAD},
        {"pub", required_argument, NULL, OPT_PUB},
        {"key", required_argument, NULL, OPT_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct audit_args a;
    int keygen, c, r, pub_given = 0, key_given = 0;

    memset(&a, 0, sizeof(a));
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(audit_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    keygen = strcmp(argv[1], "keygen") == 0;
    if (!keygen && strcmp(argv[1], "verify") != 0)
        return cli_usage_error("audit", "unknown subcommand '%s'", argv[1]);
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.cfg_path = optarg; break;
        case OPT_JSON: a.json = 1; break;
        case OPT_HEAD: a.head = optarg; break;
        case OPT_PUB: a.pub = optarg, pub_given = 1; break;
        case OPT_KEY: a.key = optarg, key_given = 1; break;
        case 'h': fputs(audit_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("audit", "unknown or incomplete option");
        }
    }
    if (optind < argc - 1 || (keygen && optind < argc))
        return cli_usage_error("audit", keygen ? "keygen takes no FILE" : "at most one FILE");
    if (optind < argc)
        a.path = argv[optind];
    /* A FILE with no -c: check it alone, as before seals existed, unless
     * keys or a head are given. */
    if (keygen || !a.path || a.cfg_path) {
        if ((r = take_config(&a, 1)) != 0)
            return r;
    } else if (a.key && !a.pub) {
        snprintf(a.pub_buf, sizeof(a.pub_buf), "%s.pub", a.key);
        a.pub = a.pub_buf;
    }
    return keygen ? do_keygen(&a) : do_verify(&a, pub_given, key_given);
}
