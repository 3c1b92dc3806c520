/*
 * cli_user.c - `hikeshi user add`: creates an API user in the store of the
 * configuration's data_dir and prints a token for it, once.  The first
 * admin is made this way; the API takes over from there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/auth.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/config.h"

static const char user_usage[] =
    "usage: hikeshi user add [-c CONFIG] --role ROLE [--password-stdin] [--label TEXT] NAME\n"
    "\n"
    "Creates the API user NAME in the store of the configuration's data_dir and\n"
    "prints an API token for it (shown once; only its hash is kept).\n"
    "\n"
    "  -c, --config FILE    take data_dir from FILE\n"
    "  -r, --role ROLE      viewer, analyst or admin\n"
    "      --password-stdin also set a password, read from the first line of\n"
    "                       standard input (at least 12 characters)\n"
    "      --label TEXT     a label for the token (default \"created by user add\")\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 created, 1 the store failed or the user exists, 2 usage.\n";

/* Reads one line of stdin into buf (newline removed); 0 or -EINVAL. */
static int read_password(char *buf, size_t size, size_t *ret_len)
{
    size_t n;

    if (!fgets(buf, (int)size, stdin))
        return -EINVAL;
    n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == size - 1)
        return -E2BIG; /* no newline within the buffer: too long */
    buf[n] = '\0';
    *ret_len = n;
    return 0;
}

static int user_add(int argc, char **argv)
{
    enum { OPT_PW = 256, OPT_LABEL };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"role", required_argument, NULL, 'r'},
        {"password-stdin", no_argument, NULL, OPT_PW},
        {"label", required_argument, NULL, OPT_LABEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *role_s = NULL, *label = "created by user add", *name;
    char pw[AUTH_PASSWORD_MAX + 2], pwhash[AUTH_PWHASH_STRLEN], token[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    enum auth_role role;
    struct config *cfg = NULL;
    struct store *st = NULL;
    char *err = NULL;
    int use_pw = 0, c, r, rc = CLI_EXIT_FAIL;
    int64_t uid = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'r': role_s = optarg; break;
        case OPT_PW: use_pw = 1; break;
        case OPT_LABEL: label = optarg; break;
        case 'h': fputs(user_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("user", "unknown or incomplete option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("user", "give exactly one NAME");
    name = argv[optind];
    if (!*name || strlen(name) > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                                           strlen(name))
        return cli_usage_error("user", "NAME: 1 to 64 of letters, digits, '.', '_', '-'");
    if (!role_s || auth_role_parse(role_s, strlen(role_s), &role) < 0)
        return cli_usage_error("user", "--role must be viewer, analyst or admin");
    if (auth_init() < 0) {
        fprintf(stderr, "hikeshi user: libsodium cannot start\n");
        return CLI_EXIT_FAIL;
    }
    if (use_pw) {
        size_t len = 0;
        const char *why;

        if ((r = read_password(pw, sizeof(pw), &len)) < 0) {
            fprintf(stderr, "hikeshi user: %s\n",
                    r == -E2BIG ? "password too long" : "no password on standard input");
            return CLI_EXIT_USAGE;
        }
        if ((why = auth_password_check(pw, len)) != NULL) {
            sodium_memzero(pw, sizeof(pw));
            fprintf(stderr, "hikeshi user: %s\n", why);
            return CLI_EXIT_USAGE;
        }
        r = auth_password_hash(pw, len, pwhash);
        sodium_memzero(pw, sizeof(pw));
        if (r < 0) {
            fprintf(stderr, "hikeshi user: hashing the password: %s\n", strerror(-r));
            return CLI_EXIT_FAIL;
        }
    }
    cfg = cli_load_config(cfg_path);
    if (!cfg)
        return CLI_EXIT_USAGE;
    if ((r = store_open(cfg->data_dir, &st, &err)) < 0) {
        fprintf(stderr, "hikeshi user: store in %s: %s\n", cfg->data_dir,
                err ? err : strerror(-r));
        goto out;
    }
    if ((r = auth_token_new(token, th)) < 0) {
        fprintf(stderr, "hikeshi user: making a token: %s\n", strerror(-r));
        goto out;
    }
    if ((r = store_begin(st)) < 0 ||
        (r = store_user_add(st, name, auth_role_name(role), use_pw ? pwhash : NULL, &uid)) < 0 ||
        (r = store_token_add(st, uid, th, sizeof(th), label)) < 0 || (r = store_commit(st)) < 0) {
        fprintf(stderr, "hikeshi user: %s: %s\n", name,
                r == -EEXIST ? "a user of that name exists" : store_errmsg(st));
        store_rollback(st);
        goto out;
    }
    printf("user %s (%s) created in %s\ntoken: %s\n"
           "The token is shown only now; send it as \"Authorization: Bearer <token>\".\n",
           name, auth_role_name(role), cfg->data_dir, token);
    rc = CLI_EXIT_OK;
out:
    sodium_memzero(token, sizeof(token));
    free(err);
    store_free(st);
    config_free(cfg);
    return rc;
}

int cli_user_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(user_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "add") != 0)
        return cli_usage_error("user", "unknown subcommand '%s'", argv[1]);
    return user_add(argc - 1, argv + 1);
}
