/*
 * cli_rules.c - `hikeshi rules check [--json] PATH...`: load Sigma rules the
 * way the engine will and report every rule that cannot be loaded as
 * FILE:LINE:COL: reason, with summary counts.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "detect/sigma.h"
#include "util/buf.h"

/* Output is capped: a rules tree of ~10,000 files with long reasons fits. */
#define CLI_RULES_JSON_CAP (16 * 1024 * 1024)
#define CLI_RULES_MAX_DEPTH 32

struct check {
    int json;
    size_t files, loaded, refused, warned;
    struct buf out; /* JSON error array, when json */
    int out_full;
};

static void report(struct check *c, const char *path, const struct sigma_err *e)
{
    if (!c->json) {
        printf("%s:%u:%u: %s\n", path, e->at.line, e->at.col, e->reason);
        return;
    }
    int r = buf_puts(&c->out, c->refused > 1 ? ",\n    {\"file\": " : "\n    {\"file\": ");
    if (r == 0)
        r = buf_json_str(&c->out, path, strlen(path));
    if (r == 0)
        r = buf_printf(&c->out, ", \"line\": %u, \"col\": %u, \"category\": ", e->at.line,
                       e->at.col);
    if (r == 0)
        r = buf_json_str(&c->out, e->at.msg ? e->at.msg : "", e->at.msg ? strlen(e->at.msg) : 0);
    if (r == 0)
        r = buf_puts(&c->out, ", \"reason\": ");
    if (r == 0)
        r = buf_json_str(&c->out, e->reason, strlen(e->reason));
    if (r == 0)
        r = buf_putc(&c->out, '}');
    if (r < 0)
        c->out_full = 1;
}

static void check_file(struct check *c, const char *path)
{
    struct sigma_rule *r = NULL;
    struct sigma_err err;

    c->files++;
    if (sigma_load_file(path, NULL, &r, &err) < 0) {
        c->refused++;
        report(c, path, &err);
        return;
    }
    c->loaded++;
    if (r->nwarnings) {
        c->warned++;
        if (!c->json)
            printf("%s: warning: %u 'x of' pattern(s) in the condition name no search "
                   "identifier\n",
                   path, r->nwarnings);
    }
    sigma_rule_free(r);
}

static int has_rule_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

/* Files named on the command line are checked whatever their name; in
 * directories only *.yml and *.yaml, in name order, hidden entries skipped. */
static int check_path(struct check *c, const char *path, int explicit, int depth)
{
    struct stat st;
    struct dirent **ents = NULL;
    int n, r = 0;

    if (stat(path, &st) < 0) {
        if (explicit)
            fprintf(stderr, "hikeshi rules: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (explicit || has_rule_suffix(path))
            check_file(c, path);
        return 0;
    }
    if (depth > CLI_RULES_MAX_DEPTH)
        return 0;
    n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "hikeshi rules: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
            char *sub = malloc(len);
            if (sub) {
                snprintf(sub, len, "%s/%s", path, ents[i]->d_name);
                if (check_path(c, sub, 0, depth + 1) < 0)
                    r = -EIO;
                free(sub);
            } else {
                r = -ENOMEM;
            }
        }
        free(ents[i]);
    }
    free(ents);
    return r;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: hikeshi rules check [--json] PATH...\n\n"
                 "Loads every Sigma rule in the files and directories given (directories\n"
                 "recursively, *.yml and *.yaml) and reports each rule that cannot be loaded\n"
                 "as FILE:LINE:COL: reason.  Exit status: 0 all loaded, 1 some refused,\n"
                 "2 usage error.\n\n"
                 "  --json     one JSON object with the counts and the refusals\n"
                 "  -h, --help this text\n");
}

int cli_rules_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct check c = {0};
    int ch, io_err = 0;

    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "check") != 0)
        return cli_usage_error("rules", "expected the sub-command 'check'");
    argc--;
    argv++;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': c.json = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("rules", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("rules", "no PATH given");

    buf_init(&c.out, CLI_RULES_JSON_CAP);
    for (int i = optind; i < argc; i++)
        if (check_path(&c, argv[i], 1, 0) < 0)
            io_err = 1;
    if (c.json) {
        printf("{\"files\": %zu, \"loaded\": %zu, \"refused\": %zu, \"warned\": %zu, "
               "\"truncated\": %s, \"errors\": [%.*s%s]}\n",
               c.files, c.loaded, c.refused, c.warned, c.out_full ? "true" : "false",
               (int)c.out.len, c.out.data ? c.out.data : "", c.refused ? "\n" : "");
    } else {
        printf("%zu rule file(s): %zu loaded, %zu refused, %zu with warnings\n", c.files, c.loaded,
               c.refused, c.warned);
    }
    buf_done(&c.out);
    return (c.refused || io_err) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
