/*
 * fuzz_respond_actions.c - what the response actions read from
 * configuration and from the wire, without running or sending anything.
 * The first byte picks:
 *   0: an exec command (argv elements separated by NUL bytes): the
 *      configuration check, then every argument rendered with attacker-like
 *      values.  A command the check accepts must render (or hit the size
 *      cap): anything else means the check and the run disagree.
 *   1: a webhook signature check of arbitrary timestamp, body and header
 *      (newline-separated), as a receiver would run it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "respond/respond_exec.h"
#include "respond/respond_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 70

static void fuzz_exec(const char *p, size_t n)
{
    /* Values an attacker chooses (log text), none starting with '-'. */
    static const char *const vals[RESPOND_VAR_COUNT] = {
        "203.0.113.5 ;rm -rf / $(id)", "lnx_ssh_root_login_failed", "42", "high",
        "brute force \"quoted\" {ip} and 'single'",
    };
    struct respond_vars vars;
    const char *argv[MAX_ARGS + 1];
    char *copy = malloc(n + 1);
    size_t argc = 0, start = 0;
    struct respond_exec_conf c = {0};
    const char *why = NULL;

    if (!copy)
        return;
    memcpy(copy, p, n);
    copy[n] = '\0';
    for (size_t i = 0; i <= n && argc < MAX_ARGS; i++) {
        if (i == n || copy[i] == '\0') {
            argv[argc++] = copy + start;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    for (int i = 0; i < RESPOND_VAR_COUNT; i++) {
        vars.value[i] = vals[i];
        vars.len[i] = strlen(vals[i]);
    }
    c.argv = argv;
    if (respond_exec_check(&c, &why) == 0) {
        for (size_t i = 0; i < argc; i++) {
            struct buf out;
            int r;

            buf_init(&out, 1024 * 1024);
            r = respond_exec_render(argv[i], &vars, &out, &why);
            buf_done(&out);
            if (r < 0 && r != -E2BIG)
                abort();
        }
    }
    free(copy);
}

static void fuzz_verify(const char *p, size_t n)
{
    static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
    char *copy = malloc(n + 1), *ts, *body, *hdr, *nl;

    if (!copy)
        return;
    memcpy(copy, p, n);
    copy[n] = '\0';
    ts = copy;
    body = (nl = memchr(ts, '\n', n)) ? (*nl = '\0', nl + 1) : copy + n;
    hdr = (nl = strchr(body, '\n')) ? (*nl = '\0', nl + 1) : copy + n;
    (void)respond_webhook_verify(secret, sizeof(secret), ts, body, strlen(body), hdr);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    if (data[0] & 1)
        fuzz_verify((const char *)data + 1, size - 1);
    else
        fuzz_exec((const char *)data + 1, size - 1);
    return 0;
}
