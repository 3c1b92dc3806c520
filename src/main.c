/*
 * main.c - hikeshi(8): dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "cli/cli.h"
#include "event/field.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"run", cli_run_main, "run the daemon: inputs, pipeline, store, HTTP API, web console"},
    {"scan", cli_scan_main, "run the pipeline offline over files, directories or stdin"},
    {"rules", cli_rules_main, "check rules, or test one on events: rules check, rules test"},
    {"audit", cli_audit_main, "the audit log: audit keygen (its seal key), audit verify"},
    {"archive", cli_archive_main,
     "the sealed record archive: archive keygen|verify|cat"},
    {"hunt", cli_hunt_main, "search the archive: words, fields, CIDR, regex, or a Sigma rule"},
    {"attest", cli_attest_main,
     "proof of non-occurrence: attest that a query matched nothing in a whole archive"},
    {"evidence", cli_evidence_main,
     "forensic evidence and its custody: evidence add|list|show|transfer|verify|\n"
     "           export|import|verify-bundle"},
    {"intel", cli_intel_main,
     "indicators of compromise: intel import (STIX, MISP, CSV)|list|expire|export"},
    {"user", cli_user_main, "accounts: user add|passwd|list|disable|enable|token"},
    {"exercise", cli_exercise_main,
     "tabletop exercises against the daemon: exercise check|run|status|stop|report"},
    {"incident", cli_incident_main,
     "work on incidents through the daemon's API: incident list|show|update|note|report|observable"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: hikeshi [--help] [--version] COMMAND [ARGS...]\n\n"
                 "hikeshi is a security-monitoring and incident-response system.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n'hikeshi COMMAND --help' describes a command; hikeshi(8) has the details.\n");
}

int main(int argc, char **argv)
{
    int r;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0 ||
        strcmp(argv[1], "version") == 0) {
        printf("hikeshi %s\n", HIKESHI_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            field_init();
            r = commands[i].fn(argc - 1, argv + 1);
            field_done();
            return r;
        }
    }
    fprintf(stderr, "hikeshi: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
