/*
 * cli_user.c - `hikeshi user`: the accounts of the API and the console,
 * administered on the host itself (add, passwd, list, disable, enable,
 * token).  The first admin is made this way, and a lost admin password is
 * reset this way; the API's admin routes do the same for a logged-in
 * admin.
 *
 * Every change goes to the audit log (DATA_DIR/audit.log) with the local
 * account that made it ("cli:root").  A running daemon holds that log
 * open: the change is then stored together with its entry in the store's
 * audit outbox, in one transaction, and the daemon appends the entry
 * before it answers its next request (or when it stops).  Either way no
 * change is kept without its entry.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "api/auth.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "event/time.h"
#include "incident/audit.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/limits.h"

static const char user_usage[] =
    "usage: hikeshi user add [-c CONFIG] --role ROLE [--password-stdin] [--label TEXT]\n"
    "                        [--ttl DURATION] NAME\n"
    "       hikeshi user passwd [-c CONFIG] [--password-stdin] NAME\n"
    "       hikeshi user list [-c CONFIG] [--json]\n"
    "       hikeshi user disable [-c CONFIG] NAME\n"
    "       hikeshi user enable [-c CONFIG] NAME\n"
    "       hikeshi user token [-c CONFIG] [--label TEXT] [--ttl DURATION] [--rotate] NAME\n"
    "\n"
    "The accounts of the API and the web console, in the store of the\n"
    "configuration's data_dir.  Every change is written to the audit log.\n"
    "\n"
    "  add      creates user NAME and prints an API token for it (shown once;\n"
    "           only its hash is kept)\n"
    "  passwd   sets NAME's password from the first line of standard input\n"
    "           (prompted without echo on a terminal) and revokes all its\n"
    "           tokens and sessions; resets a lost admin password\n"
    "  list     name, role, state, created, last login, valid tokens, whether a\n"
    "           password is set; never a hash\n"
    "  disable  NAME can no longer log in and its tokens and sessions stop working\n"
    "  enable   undoes disable (tokens that have not expired work again)\n"
    "  token    issues a new API token for NAME and prints it once\n"
    "\n"
    "  -c, --config FILE    take data_dir and http.token_ttl from FILE\n"
    "  -r, --role ROLE      viewer, analyst, lead or admin\n"
    "      --password-stdin (add) also set a password, read from the first line\n"
    "                       of standard input (at least 12 characters)\n"
    "      --label TEXT     a label for the token\n"
    "      --ttl DURATION   the token's lifetime: 3600, 90m, 12h, 30d (1s to 366d;\n"
    "                       default http.token_ttl, 30d)\n"
    "      --rotate         (token) first revoke every token and session of NAME\n"
    "      --json           (list) one JSON object per user and line\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 done, 1 the store or the audit log failed, no such user, or\n"
    "the user exists; 2 usage.\n";

/* An open store and, when we could take it, the audit log. */
struct user_ctx {
    struct config *cfg;
    struct store *st;
    struct audit *audit; /* NULL: a daemon holds the log; entries are queued */
    char actor[80];      /* "cli:<local account>" */
};

static void user_ctx_done(struct user_ctx *u)
{
    audit_free(u->audit);
    store_free(u->st);
    config_free(u->cfg);
    memset(u, 0, sizeof(*u));
}

static int outbox_append(void *ctx, const char *actor, const char *action, const char *object,
                         const char *details)
{
    return audit_append(ctx, actor, action, object, details, strlen(details), NULL);
}

/*
 * Loads the configuration and opens its store and audit log.  A log held
 * by a running daemon leaves u->audit NULL; a log we hold first gets the
 * entries queued while it was held.  CLI_EXIT_OK, or the exit code with the
 * reason printed.
 */
static int user_ctx_open(struct user_ctx *u, const char *cfg_path, int need_audit)
{
    const struct passwd *pw = getpwuid(geteuid());
    struct audit_result ar = {0};
    char path[4096], *err = NULL;
    int r;

    memset(u, 0, sizeof(*u));
    if (pw && pw->pw_name && strlen(pw->pw_name) < sizeof(u->actor) - 4)
        snprintf(u->actor, sizeof(u->actor), "cli:%s", pw->pw_name);
    else
        snprintf(u->actor, sizeof(u->actor), "cli:uid%u", (unsigned)geteuid());
    if (!(u->cfg = cli_load_config(cfg_path)))
        return CLI_EXIT_USAGE;
    if ((r = store_open(u->cfg->data_dir, &u->st, &err)) < 0) {
        fprintf(stderr, "hikeshi user: store in %s: %s\n", u->cfg->data_dir,
                err ? err : strerror(-r));
        free(err);
        return CLI_EXIT_FAIL;
    }
    if (!need_audit)
        return CLI_EXIT_OK;
    snprintf(path, sizeof(path), "%s/audit.log", u->cfg->data_dir);
    r = audit_open(path, &u->audit, &ar);
    if (r == -EBUSY)
        return CLI_EXIT_OK; /* the daemon's; the entry goes to the outbox */
    if (r < 0) {
        fprintf(stderr, "hikeshi user: audit log %s: %s%s%s; nothing changed\n", path, strerror(-r),
                ar.why != AUDIT_OK ? "; chain broken: " : "",
                ar.why != AUDIT_OK ? audit_why_name(ar.why) : "");
        return CLI_EXIT_FAIL;
    }
    if ((r = store_outbox_drain(u->st, outbox_append, u->audit, NULL)) < 0) {
        fprintf(stderr,
                "hikeshi user: audit entries queued earlier could not be appended to %s: "
                "%s; nothing changed\n",
                path, strerror(-r));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/*
 * Runs change() in one transaction with its audit entry: appended to the
 * log before the commit (rolled back if the append fails), or queued in
 * the outbox in the same transaction when a daemon holds the log.  0 or
 * what failed (the store's message in store_errmsg).
 */
static int user_change(struct user_ctx *u, const char *action, const char *object,
                       int (*change)(struct store *st, void *ctx, struct buf *details), void *ctx)
{
    struct buf details;
    int r;

    buf_init(&details, AUDIT_DETAILS_MAX);
    if ((r = store_begin(u->st)) < 0)
        goto out;
    if ((r = change(u->st, ctx, &details)) < 0 || (r = buf_putc(&details, '\0')) < 0)
        goto fail;
    if (u->audit)
        r = audit_append(u->audit, u->actor, action, object, details.data, details.len - 1, NULL);
    else
        r = store_outbox_add(u->st, u->actor, action, object, details.data);
    if (r < 0 || (r = store_commit(u->st)) < 0)
        goto fail;
    goto out;
fail:
    store_rollback(u->st);
out:
    buf_done(&details);
    return r;
}

static void change_failed(struct user_ctx *u, const char *name, int r)
{
    fprintf(stderr, "hikeshi user: %s: %s\n", name,
            r == -EEXIST            ? "a user of that name exists"
            : r == -ENOENT          ? "no such user"
            : r == -EIO && u->audit ? "the audit log or the store failed; nothing changed"
                                    : store_errmsg(u->st));
}

/* A name as `add` and the API accept: 1 to 64 of letters, digits and
 * . _ @ - ("@" only from the API). */
static int name_ok(const char *s, int at_ok)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 64 &&
           strspn(s, at_ok ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-"
                           : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
               n;
}

/* Reads one line of stdin into buf (newline removed), without echo when it
 * is a terminal; 0, -EINVAL (nothing) or -E2BIG. */
static int read_password(const char *prompt, char *buf, size_t size, size_t *ret_len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    size_t n;
    char *got;

    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    got = fgets(buf, (int)size, stdin);
    if (tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -EINVAL;
    n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == size - 1)
        return -E2BIG; /* no newline within the buffer: too long */
    buf[n] = '\0';
    *ret_len = n;
    return 0;
}

/* Reads and hashes a new password; CLI_EXIT_OK or the exit code. */
static int new_password(const char *name, char pwhash[AUTH_PWHASH_STRLEN])
{
    char pw[AUTH_PASSWORD_MAX + 2], prompt[160];
    size_t len = 0;
    const char *why;
    int r;

    snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
    if ((r = read_password(prompt, pw, sizeof(pw), &len)) < 0) {
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
    return CLI_EXIT_OK;
}

/* --ttl: a duration in [LIMIT_TOKEN_TTL_MIN, LIMIT_TOKEN_TTL_MAX]. */
static int parse_ttl(const char *s, int64_t *ret)
{
    int64_t v = 0;

    if (config_parse_duration(s, &v) < 0 || v < LIMIT_TOKEN_TTL_MIN || v > LIMIT_TOKEN_TTL_MAX)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* ---- the changes, each in one transaction with its audit entry ---- */

struct change {
    const char *name, *role, *pw_hash, *label;
    const unsigned char *hash; /* a new token's */
    int64_t id, now_us, expires_us, revoked;
    int rotate, disabled, was_disabled;
};

static int apply_add(struct store *st, void *ctx, struct buf *details)
{
    struct change *c = ctx;
    int r;

    if ((r = store_user_add(st, c->name, c->role, c->pw_hash, &c->id)) < 0 ||
        (r = store_token_add(st, c->id, c->hash, AUTH_TOKEN_HASHLEN, c->label, c->expires_us)) < 0)
        return r;
    if ((r = buf_printf(details, "{\"id\":%lld,\"role\":\"%s\",\"password\":%s,\"label\":",
                        (long long)c->id, c->role, c->pw_hash ? "true" : "false")) < 0 ||
        (r = buf_json_str(details, c->label, strlen(c->label))) < 0)
        return r;
    return buf_printf(details, ",\"ttl_s\":%lld}",
                      (long long)((c->expires_us - c->now_us) / 1000000));
}

/* Looks up c->name into c->id; -ENOENT. */
static int find_user(struct store *st, struct change *c, struct store_user_info *ui)
{
    int r = store_user_find(st, c->name, c->now_us, ui);

    if (r == 0)
        c->id = ui->id;
    return r;
}

static int apply_passwd(struct store *st, void *ctx, struct buf *details)
{
    struct change *c = ctx;
    struct store_user_info ui;
    int r;

    if ((r = find_user(st, c, &ui)) < 0 ||
        (r = store_user_update(st, c->id, NULL, c->pw_hash)) < 0 ||
        (r = store_tokens_revoke_user(st, c->id, &c->revoked)) < 0)
        return r;
    return buf_printf(details, "{\"id\":%lld,\"password_changed\":true,\"revoked\":%lld}",
                      (long long)c->id, (long long)c->revoked);
}

static int apply_disable(struct store *st, void *ctx, struct buf *details)
{
    struct change *c = ctx;
    struct store_user_info ui;
    int r;

    if ((r = find_user(st, c, &ui)) < 0 ||
        (r = store_user_set_disabled(st, c->id, c->disabled)) < 0)
        return r;
    c->was_disabled = ui.disabled;
    return buf_printf(details, "{\"id\":%lld,\"disabled\":%s}", (long long)c->id,
                      c->disabled ? "true" : "false");
}

static int apply_token(struct store *st, void *ctx, struct buf *details)
{
    struct change *c = ctx;
    struct store_user_info ui;
    int r;

    if ((r = find_user(st, c, &ui)) < 0)
        return r;
    if (c->rotate && (r = store_tokens_revoke_user(st, c->id, &c->revoked)) < 0)
        return r;
    if ((r = store_token_add(st, c->id, c->hash, AUTH_TOKEN_HASHLEN, c->label, c->expires_us)) < 0)
        return r;
    if ((r = buf_printf(details, "{\"id\":%lld,\"label\":", (long long)c->id)) < 0 ||
        (r = buf_json_str(details, c->label, strlen(c->label))) < 0)
        return r;
    return buf_printf(details, ",\"ttl_s\":%lld,\"revoked\":%lld}",
                      (long long)((c->expires_us - c->now_us) / 1000000), (long long)c->revoked);
}

/* ---- the subcommands ---- */

enum { OPT_PW = 256, OPT_LABEL, OPT_TTL, OPT_ROTATE, OPT_JSON };

static const struct option user_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"role", required_argument, NULL, 'r'},
    {"password-stdin", no_argument, NULL, OPT_PW},
    {"label", required_argument, NULL, OPT_LABEL},
    {"ttl", required_argument, NULL, OPT_TTL},
    {"rotate", no_argument, NULL, OPT_ROTATE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The options of one subcommand; `allowed` lists which it takes. */
struct user_args {
    const char *cfg_path, *role, *label, *ttl, *name;
    int password, rotate, json;
};

/* -1 after --help (exit 0), else CLI_EXIT_OK or CLI_EXIT_USAGE. */
static int user_args_parse(int argc, char **argv, const char *allowed, int want_name,
                           struct user_args *a)
{
    int c;

    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:r:h", user_opts, NULL)) != -1) {
        const char *key = c == 'c'          ? "c"
                          : c == 'r'        ? "r"
                          : c == OPT_PW     ? "P"
                          : c == OPT_LABEL  ? "l"
                          : c == OPT_TTL    ? "t"
                          : c == OPT_ROTATE ? "R"
                          : c == OPT_JSON   ? "j"
                                            : NULL;

        if (c == 'h') {
            fputs(user_usage, stdout);
            return -1;
        }
        if (!key || !strchr(allowed, key[0]))
            return cli_usage_error("user", "%s: unknown or incomplete option", argv[0]);
        switch (c) {
        case 'c': a->cfg_path = optarg; break;
        case 'r': a->role = optarg; break;
        case OPT_PW: a->password = 1; break;
        case OPT_LABEL: a->label = optarg; break;
        case OPT_TTL: a->ttl = optarg; break;
        case OPT_ROTATE: a->rotate = 1; break;
        case OPT_JSON: a->json = 1; break;
        default: break;
        }
    }
    if (want_name) {
        if (optind != argc - 1)
            return cli_usage_error("user", "%s: give exactly one NAME", argv[0]);
        a->name = argv[optind];
        if (!name_ok(a->name, strcmp(argv[0], "add") != 0))
            return cli_usage_error("user", "NAME: 1 to 64 of letters, digits, '.', '_', '-'");
    } else if (optind != argc) {
        return cli_usage_error("user", "%s takes no NAME", argv[0]);
    }
    if (a->label && (strlen(a->label) > 128 || !*a->label))
        return cli_usage_error("user", "--label: 1 to 128 bytes");
    return CLI_EXIT_OK;
}

/* The token's expiry from --ttl or http.token_ttl; -1 on a bad --ttl. */
static int64_t token_expiry(const struct user_args *a, const struct config *cfg, int64_t now_us)
{
    int64_t ttl = cfg->http_token_ttl_s > 0 ? cfg->http_token_ttl_s : LIMIT_TOKEN_TTL_DEFAULT;

    if (a->ttl && parse_ttl(a->ttl, &ttl) < 0)
        return -1;
    return now_us + ttl * 1000000;
}

static void print_token(const char *token, int64_t expires_us)
{
    char when[40];

    time_format_iso(expires_us, when, sizeof(when));
    printf("token: %s\nexpires: %s\n"
           "The token is shown only now; send it as \"Authorization: Bearer <token>\".\n",
           token, when);
}

static int user_add(int argc, char **argv)
{
    char pwhash[AUTH_PWHASH_STRLEN], token[AUTH_TOKEN_STRLEN], obj[160];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    struct change c = {0};
    struct user_args a;
    struct user_ctx u;
    enum auth_role role;
    int r, rc;

    if ((rc = user_args_parse(argc, argv, "crPlt", 1, &a)) != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.role || auth_role_parse(a.role, strlen(a.role), &role) < 0)
        return cli_usage_error("user", "--role must be viewer, analyst, lead or admin");
    if (a.ttl && parse_ttl(a.ttl, &c.expires_us) < 0)
        return cli_usage_error("user", "--ttl: a duration of 1s to 366d (3600, 90m, 12h, 30d)");
    if (auth_init() < 0) {
        fprintf(stderr, "hikeshi user: libsodium cannot start\n");
        return CLI_EXIT_FAIL;
    }
    if (a.password && (rc = new_password(a.name, pwhash)) != CLI_EXIT_OK)
        return rc;
    if ((rc = user_ctx_open(&u, a.cfg_path, 1)) != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_FAIL;
    if ((r = auth_token_new(token, th)) < 0) {
        fprintf(stderr, "hikeshi user: making a token: %s\n", strerror(-r));
        goto out;
    }
    c.name = a.name;
    c.role = auth_role_name(role);
    c.pw_hash = a.password ? pwhash : NULL;
    c.label = a.label ? a.label : "created by user add";
    c.hash = th;
    c.now_us = time_now_us();
    c.expires_us = token_expiry(&a, u.cfg, c.now_us);
    snprintf(obj, sizeof(obj), "user/%s", a.name);
    if ((r = user_change(&u, "user.add", obj, apply_add, &c)) < 0) {
        change_failed(&u, a.name, r);
        goto out;
    }
    printf("user %s (%s) created in %s\n", a.name, c.role, u.cfg->data_dir);
    print_token(token, c.expires_us);
    rc = CLI_EXIT_OK;
out:
    sodium_memzero(token, sizeof(token));
    user_ctx_done(&u);
    return rc;
}

static int user_passwd(int argc, char **argv)
{
    char pwhash[AUTH_PWHASH_STRLEN], obj[160];
    struct change c = {0};
    struct user_args a;
    struct user_ctx u;
    int r, rc;

    if ((rc = user_args_parse(argc, argv, "cP", 1, &a)) != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (auth_init() < 0) {
        fprintf(stderr, "hikeshi user: libsodium cannot start\n");
        return CLI_EXIT_FAIL;
    }
    if ((rc = new_password(a.name, pwhash)) != CLI_EXIT_OK)
        return rc;
    if ((rc = user_ctx_open(&u, a.cfg_path, 1)) != CLI_EXIT_OK)
        goto out;
    c.name = a.name;
    c.pw_hash = pwhash;
    c.now_us = time_now_us();
    snprintf(obj, sizeof(obj), "user/%s", a.name);
    if ((r = user_change(&u, "user.passwd", obj, apply_passwd, &c)) < 0) {
        change_failed(&u, a.name, r);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("password of %s changed; %lld tokens and sessions revoked\n", a.name,
           (long long)c.revoked);
out:
    sodium_memzero(pwhash, sizeof(pwhash));
    user_ctx_done(&u);
    return rc;
}

static int user_able(int argc, char **argv, int disable)
{
    struct change c = {0};
    struct user_args a;
    struct user_ctx u;
    char obj[160];
    int r, rc;

    if ((rc = user_args_parse(argc, argv, "c", 1, &a)) != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if ((rc = user_ctx_open(&u, a.cfg_path, 1)) != CLI_EXIT_OK)
        goto out;
    c.name = a.name;
    c.disabled = disable;
    c.now_us = time_now_us();
    snprintf(obj, sizeof(obj), "user/%s", a.name);
    if ((r = user_change(&u, disable ? "user.disable" : "user.enable", obj, apply_disable, &c)) <
        0) {
        change_failed(&u, a.name, r);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    printf("%s %s%s\n", a.name, disable ? "disabled" : "enabled",
           c.was_disabled == disable ? " (it already was)" : "");
out:
    user_ctx_done(&u);
    return rc;
}

static int user_token(int argc, char **argv)
{
    char token[AUTH_TOKEN_STRLEN], obj[160];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    struct change c = {0};
    struct user_args a;
    struct user_ctx u;
    int64_t check = 0;
    int r, rc;

    if ((rc = user_args_parse(argc, argv, "cltR", 1, &a)) != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (a.ttl && parse_ttl(a.ttl, &check) < 0)
        return cli_usage_error("user", "--ttl: a duration of 1s to 366d (3600, 90m, 12h, 30d)");
    if (auth_init() < 0) {
        fprintf(stderr, "hikeshi user: libsodium cannot start\n");
        return CLI_EXIT_FAIL;
    }
    if ((rc = user_ctx_open(&u, a.cfg_path, 1)) != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_FAIL;
    if ((r = auth_token_new(token, th)) < 0) {
        fprintf(stderr, "hikeshi user: making a token: %s\n", strerror(-r));
        goto out;
    }
    c.name = a.name;
    c.label = a.label ? a.label : a.rotate ? "rotated by user token" : "created by user token";
    c.hash = th;
    c.rotate = a.rotate;
    c.now_us = time_now_us();
    c.expires_us = token_expiry(&a, u.cfg, c.now_us);
    snprintf(obj, sizeof(obj), "user/%s", a.name);
    if ((r = user_change(&u, a.rotate ? "token.rotate" : "token.add", obj, apply_token, &c)) < 0) {
        change_failed(&u, a.name, r);
        goto out;
    }
    if (a.rotate)
        printf("%lld tokens and sessions of %s revoked\n", (long long)c.revoked, a.name);
    print_token(token, c.expires_us);
    rc = CLI_EXIT_OK;
out:
    sodium_memzero(token, sizeof(token));
    user_ctx_done(&u);
    return rc;
}

static void print_time(char *out, size_t size, int64_t us)
{
    if (us <= 0) {
        snprintf(out, size, "never");
        return;
    }
    time_format_iso(us, out, size);
    /* Seconds are enough for a person; the JSON form keeps them whole. */
    if (strlen(out) > 20 && out[19] == '.')
        snprintf(out + 19, size - 19, "Z");
}

static int user_list(int argc, char **argv)
{
    struct store_user_info *v = NULL;
    struct user_args a;
    struct user_ctx u;
    size_t n = 0;
    int rc;

    if ((rc = user_args_parse(argc, argv, "cj", 0, &a)) != CLI_EXIT_OK)
        return rc < 0 ? CLI_EXIT_OK : rc;
    /* A read: not an audited change. */
    if ((rc = user_ctx_open(&u, a.cfg_path, 0)) != CLI_EXIT_OK)
        goto out;
    if (store_user_list(u.st, time_now_us(), &v, &n) < 0) {
        fprintf(stderr, "hikeshi user: listing users: %s\n", store_errmsg(u.st));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (!a.json)
        printf("%-24s %-8s %-9s %-20s %-20s %6s %s\n", "NAME", "ROLE", "STATE", "CREATED",
               "LAST LOGIN", "TOKENS", "PASSWORD");
    for (size_t i = 0; i < n; i++) {
        char created[40], last[40];

        print_time(created, sizeof(created), v[i].created_us);
        print_time(last, sizeof(last), v[i].last_login_us);
        if (a.json)
            /* Names and roles are letters, digits and . _ @ -: no escaping. */
            printf("{\"name\":\"%s\",\"role\":\"%s\",\"disabled\":%s,\"created\":\"%s\","
                   "\"last_login\":%s%s%s,\"tokens\":%lld,\"has_password\":%s}\n",
                   v[i].name, v[i].role, v[i].disabled ? "true" : "false", created,
                   v[i].last_login_us ? "\"" : "", v[i].last_login_us ? last : "null",
                   v[i].last_login_us ? "\"" : "", (long long)v[i].tokens,
                   v[i].has_password ? "true" : "false");
        else
            printf("%-24s %-8s %-9s %-20s %-20s %6lld %s\n", v[i].name, v[i].role,
                   v[i].disabled ? "disabled" : "enabled", created, last, (long long)v[i].tokens,
                   v[i].has_password ? "yes" : "no");
    }
out:
    free(v);
    user_ctx_done(&u);
    return rc;
}

int cli_user_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(user_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "add") == 0)
        return user_add(argc - 1, argv + 1);
    if (strcmp(argv[1], "passwd") == 0)
        return user_passwd(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return user_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "disable") == 0)
        return user_able(argc - 1, argv + 1, 1);
    if (strcmp(argv[1], "enable") == 0)
        return user_able(argc - 1, argv + 1, 0);
    if (strcmp(argv[1], "token") == 0)
        return user_token(argc - 1, argv + 1);
    return cli_usage_error("user", "unknown subcommand '%s'", argv[1]);
}
