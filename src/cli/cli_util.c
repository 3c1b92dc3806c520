/*
 * cli_util.c - helpers the subcommands share.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "event/time.h"
#include "util/ydoc.h"

struct config *cli_load_config(const char *path)
{
    struct config *c = NULL;
    struct parse_err err;
    int r;

    if (!path) {
        c = config_defaults();
        if (!c)
            fprintf(stderr, "hikeshi: out of memory\n");
        return c;
    }
    r = config_load(path, &c, &err);
    if (r == -EINVAL && err.msg) {
        char where[4096 + 512];

        ydoc_err_format(where, sizeof(where), path, &err);
        fprintf(stderr, "hikeshi: %s\n", where);
        return NULL;
    }
    if (r < 0) {
        fprintf(stderr, "hikeshi: %s: %s\n", path, err.msg ? err.msg : strerror(-r));
        return NULL;
    }
    return c;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "hikeshi %s: %s\nTry 'hikeshi %s --help'.\n", cmd, msg, cmd);
    return CLI_EXIT_USAGE;
}

int cli_path_inside(const char *path, const char *dir)
{
    char rp_dir[PATH_MAX], rp_parent[PATH_MAX], parent[PATH_MAX], *slash;
    size_t n;

    if (!realpath(dir, rp_dir))
        return 0;
    snprintf(parent, sizeof(parent), "%s", path);
    slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof(parent), ".");
    else if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    if (!realpath(parent, rp_parent))
        return 0;
    n = strlen(rp_dir);
    return strncmp(rp_parent, rp_dir, n) == 0 && (rp_parent[n] == '\0' || rp_parent[n] == '/');
}

int cli_parse_time(const char *s, int64_t *ret_us)
{
    size_t n = strlen(s), used = 0;

    if (time_parse_iso8601(s, n, NULL, ret_us, &used) == 0 && used == n)
        return 0;
    used = 0;
    if (time_parse_epoch(s, n, ret_us, &used) == 0 && used == n)
        return 0;
    return -EINVAL;
}

void cli_csv_field(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i], f);
    }
    fputc('"', f);
}

const char *cli_clip(char *dst, size_t size, const char *s, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 4 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (o + 4 >= size && len > o) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}
