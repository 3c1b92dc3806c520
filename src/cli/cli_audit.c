/*
 * cli_audit.c - `hikeshi audit verify`: walks the hash-chained audit log
 * (docs/audit.md) and says whether the chain is intact or where it breaks.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "incident/audit.h"

static const char audit_usage[] =
    "usage: hikeshi audit verify [-c CONFIG] [--json] [FILE]\n"
    "\n"
    "Checks the audit log's hash chain: every entry's own hash, the link to\n"
    "the entry before it, and the sequence.  FILE defaults to audit.log in the\n"
    "configuration's data_dir.\n"
    "\n"
    "  -c, --config FILE   take data_dir from FILE\n"
    "      --json          print one JSON object\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 the chain is intact, 1 it is broken (the first broken line\n"
    "and why are printed), 2 usage errors or an unreadable file.\n";

int cli_audit_main(int argc, char **argv)
{
    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *path = NULL;
    char def[4096];
    int json = 0, c, rc;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(audit_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "verify") != 0)
        return cli_usage_error("audit", "unknown subcommand '%s'", argv[1]);
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(audit_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("audit", "unknown or incomplete option");
        }
    }
    if (optind < argc - 1)
        return cli_usage_error("audit", "at most one FILE");
    if (optind < argc) {
        path = argv[optind];
    } else {
        struct config *cfg = cli_load_config(cfg_path);

        if (!cfg)
            return CLI_EXIT_USAGE;
        snprintf(def, sizeof(def), "%s/audit.log", cfg->data_dir);
        config_free(cfg);
        path = def;
    }
    rc = audit_cli_verify(path, json, stdout);
    return rc == 0 ? CLI_EXIT_OK : rc == 1 ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
}
