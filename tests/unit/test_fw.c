/*
 * test_fw.c - the firewall helper: its configuration check and the
 * requests it accepts (pure), then the real thing against the kernel's
 * nftables in a network namespace of the test's own, so the host's
 * ruleset is never touched.  The kernel tests need root and nftables; where
 * either is missing they say so and are skipped, the pure ones still run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "respond/respond_fw.h"
#include "respond/respond_never.h"

static const char *kernel_skip; /* why the kernel tests cannot run, or NULL */

/* ---- pure ------------------------------------------------------------------ */

static void test_conf_check(void **state)
{
    static const struct {
        struct respond_fw_conf c;
        int ok;
    } rows[] = {
        {{.family = ""}, 1}, /* every default */
        {{.family = "inet", .table = "hikeshi", .set4 = "b4", .set6 = "b6"}, 1},
        {{.family = "ip", .table = "fw_1", .set4 = "_x"}, 1},
        {{.family = "bridge"}, 0},
        {{.table = "9lives"}, 0},
        {{.table = "a-b"}, 0},
        {{.table = "a;b"}, 0},
        {{.set4 = "a b"}, 0},
        {{.set4 = "same", .set6 = "same"}, 0},
        {{.table = "abcdefghijabcdefghijabcdefghija"}, 1}, /* 31 bytes */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *why = NULL;
        int r = respond_fw_conf_check(&rows[i].c, &why);
        if ((r == 0) != rows[i].ok)
            fail_msg("row %zu: %d (%s)", i, r, why ? why : "");
        assert_true(rows[i].ok ? why == NULL : why != NULL);
    }
}

static size_t enc(int op, int family, const char *addr, uint32_t timeout, unsigned char *buf)
{
    unsigned char a[16] = {0};

    assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, a), 1);
    return (size_t)respond_fw_request_encode(op, family, a, timeout, buf, 64);
}

static void test_render(void **state)
{
    struct respond_fw_conf c = {.table = "hk"};
    unsigned char q[64];
    char cmd[512];
    const char *why;
    size_t n;

    (void)state;
    n = enc(RESPOND_FW_OP_ADD, 4, "203.0.113.5", 600, q);
    assert_int_equal(n, RESPOND_FW_REQUEST_SIZE);
    assert_int_equal(respond_fw_request_render(&c, q, n, cmd, sizeof(cmd), &why), 0);
    assert_string_equal(cmd, "add element inet hk block4 { 203.0.113.5 timeout 600s }");
    n = enc(RESPOND_FW_OP_DEL, 6, "2001:db8::1", 0, q);
    assert_int_equal(respond_fw_request_render(&c, q, n, cmd, sizeof(cmd), &why), 0);
    assert_string_equal(cmd, "delete element inet hk block6 { 2001:db8::1 }");
    n = enc(RESPOND_FW_OP_TEST, 4, "10.1.2.3", 0, q);
    assert_int_equal(respond_fw_request_render(&c, q, n, cmd, sizeof(cmd), &why), 0);
    assert_string_equal(cmd, "get element inet hk block4 { 10.1.2.3 }");
}

/* Every way a request is refused, and nothing rendered for it. */
static void test_render_refusals(void **state)
{
    struct respond_fw_conf c = {.family = "ip"};
    unsigned char q[64], bad[64];
    char cmd[512];
    const char *why;
    size_t n = enc(RESPOND_FW_OP_ADD, 4, "203.0.113.5", 60, q);
    static const struct {
        size_t off; /* byte changed */
        unsigned char val;
        const char *why;
    } rows[] = {
        {0, 0x00, "magic"},        {4, 9, "unknown operation"}, {5, 5, "family"},
        {5, 6, "not served"},      {6, 1, "padding"},          {8 + 4, 1, "past the address"},
        {24, 0, "timeout out of range"},
    };

    (void)state;
    assert_int_equal(respond_fw_request_render(&c, q, n - 1, cmd, sizeof(cmd), &why), -EINVAL);
    assert_non_null(strstr(why, "size"));
    assert_int_equal(respond_fw_request_render(&c, q, n + 1, cmd, sizeof(cmd), &why), -EINVAL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memcpy(bad, q, n);
        bad[rows[i].off] = rows[i].val;
        if (rows[i].off == 24)
            memset(bad + 24, 0, 4);
        if (respond_fw_request_render(&c, bad, n, cmd, sizeof(cmd), &why) != -EINVAL ||
            !strstr(why, rows[i].why) || cmd[0] != '\0')
            fail_msg("row %zu: not refused as \"%s\" (%s)", i, rows[i].why, why ? why : "-");
    }
    /* A timeout on a delete, and a timeout past a year on an add. */
    n = enc(RESPOND_FW_OP_DEL, 4, "203.0.113.5", 5, q);
    assert_int_equal(respond_fw_request_render(&c, q, n, cmd, sizeof(cmd), &why), -EINVAL);
    n = enc(RESPOND_FW_OP_ADD, 4, "203.0.113.5", RESPOND_FW_TIMEOUT_MAX_S + 1, q);
    assert_int_equal(respond_fw_request_render(&c, q, n, cmd, sizeof(cmd), &why), -EINVAL);
}

/* ---- kernel ---------------------------------------------------------------- */

/* Runs `cmd` (the nft binary, in the test's namespace); its output in out. */
static int sh(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0;

    if (!p)
        return -1;
    if (out && size) {
        n = fread(out, 1, size - 1, p);
        out[n] = '\0';
    } else {
        char junk[4096];
        while (fread(junk, 1, sizeof(junk), p) > 0)
            ;
    }
    return pclose(p);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The helper's own never-block check (issue 15): it refuses an add for an
 * address of its list or of the host, whatever the daemon decided; other
 * operations and other addresses pass. */
static void test_request_never(void **state)
{
    struct respond_never nv;
    struct respond_fw_conf c = {.table = "t"};
    struct respond_never_src host = {.route4 = "/nonexistent",
                                     .route6 = "/nonexistent",
                                     .resolv = "/nonexistent",
                                     .no_ifaddrs = 1};
    unsigned char a4[16] = {0}, a6[16];
    char req[RESPOND_FW_REQUEST_SIZE], why[256];

    (void)state;
    respond_never_init(&nv);
    assert_int_equal(respond_never_add_text(&nv, "192.0.2.0/24", "in the allowlist"), 0);
    assert_int_equal(respond_never_add_text(&nv, "2001:db8::53", "a resolver of this host"), 0);
    c.never = &nv;
    inet_pton(AF_INET, "192.0.2.9", a4);
    respond_fw_request_encode(RESPOND_FW_OP_ADD, 4, a4, 60, req, sizeof(req));
    assert_int_equal(respond_fw_request_never(&c, req, sizeof(req), &host, why, sizeof(why)), 1);
    assert_string_equal(why, "the firewall helper refuses to block 192.0.2.9: in the allowlist");
    inet_pton(AF_INET6, "2001:db8::53", a6);
    respond_fw_request_encode(RESPOND_FW_OP_ADD, 6, a6, 60, req, sizeof(req));
    assert_int_equal(respond_fw_request_never(&c, req, sizeof(req), &host, why, sizeof(why)), 1);
    /* Delete and test are not blocks: a lift must always work. */
    respond_fw_request_encode(RESPOND_FW_OP_DEL, 6, a6, 0, req, sizeof(req));
    assert_int_equal(respond_fw_request_never(&c, req, sizeof(req), &host, why, sizeof(why)), 0);
    inet_pton(AF_INET, "198.51.100.9", a4);
    respond_fw_request_encode(RESPOND_FW_OP_ADD, 4, a4, 60, req, sizeof(req));
    assert_int_equal(respond_fw_request_never(&c, req, sizeof(req), &host, why, sizeof(why)), 0);
    /* No list at all: the host's own state still counts (none here). */
    c.never = NULL;
    assert_int_equal(respond_fw_request_never(&c, req, sizeof(req), &host, why, sizeof(why)), 0);
    respond_never_done(&nv);
}

/* ---- kernel ---------------------------------------------------------------- */

static void test_kernel_block_cycle(void **state)
{
    struct respond_fw_conf c = {.table = "hk_t", .create = 1};
    struct respond_fw *fw = NULL;
    char err[512], out[8192];

    (void)state;
    if (kernel_skip)
        skip();
    if (respond_fw_start(&c, &fw, err, sizeof(err)) < 0)
        fail_msg("start: %s", err);
    assert_int_equal(sh("nft list table inet hk_t", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "set block4"));
    assert_non_null(strstr(out, "set block6"));
    assert_non_null(strstr(out, "ip saddr @block4 drop"));
    assert_non_null(strstr(out, "ip6 saddr @block6 drop"));
    /* Block v4 and v6; both are in their sets with their timeouts. */
    assert_int_equal(respond_fw_block(fw, "203.0.113.5", 600, err, sizeof(err)), 0);
    assert_int_equal(respond_fw_block(fw, "2001:db8::7", 60, err, sizeof(err)), 0);
    assert_int_equal(respond_fw_is_blocked(fw, "203.0.113.5", err, sizeof(err)), 1);
    assert_int_equal(respond_fw_is_blocked(fw, "2001:db8::7", err, sizeof(err)), 1);
    assert_int_equal(respond_fw_is_blocked(fw, "203.0.113.6", err, sizeof(err)), 0);
    assert_int_equal(sh("nft list set inet hk_t block4", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "203.0.113.5 timeout 10m"));
    /* Blocking again replaces the timeout. */
    assert_int_equal(respond_fw_block(fw, "203.0.113.5", 7200, err, sizeof(err)), 0);
    assert_int_equal(sh("nft list set inet hk_t block4", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "203.0.113.5 timeout 2h"));
    assert_int_equal(count(out, "203.0.113.5"), 1);
    /* Unblock; twice is -ENOENT. */
    assert_int_equal(respond_fw_unblock(fw, "203.0.113.5", err, sizeof(err)), 0);
    assert_int_equal(respond_fw_is_blocked(fw, "203.0.113.5", err, sizeof(err)), 0);
    assert_int_equal(respond_fw_unblock(fw, "203.0.113.5", err, sizeof(err)), -ENOENT);
    /* Bad addresses change nothing. */
    assert_int_equal(respond_fw_block(fw, "1.2.3", 60, err, sizeof(err)), -EINVAL);
    assert_int_equal(respond_fw_block(fw, "10.0.0.1; flush ruleset", 60, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(respond_fw_block(fw, "", 60, err, sizeof(err)), -EINVAL);
    assert_int_equal(respond_fw_block(fw, "10.0.0.1", 0, err, sizeof(err)), -EINVAL);
    assert_int_equal(sh("nft list table inet hk_t", out, sizeof(out)), 0);
    assert_int_equal(count(out, " drop"), 2);
    /* The kernel expires an element by itself. */
    assert_int_equal(respond_fw_block(fw, "198.51.100.1", 1, err, sizeof(err)), 0);
    assert_int_equal(respond_fw_is_blocked(fw, "198.51.100.1", err, sizeof(err)), 1);
    sleep_ms(2500);
    assert_int_equal(respond_fw_is_blocked(fw, "198.51.100.1", err, sizeof(err)), 0);
    respond_fw_stop(fw);
    /* Stopping leaves the elements in the kernel. */
    assert_int_equal(sh("nft list set inet hk_t block6", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "2001:db8::7"));
}

static void test_kernel_restart_and_missing(void **state)
{
    struct respond_fw_conf c = {.table = "hk_r", .create = 1};
    struct respond_fw_conf none = {.table = "hk_absent", .create = 0};
    struct respond_fw_conf ip4 = {.family = "ip", .table = "hk_4", .create = 1};
    struct respond_fw *fw = NULL;
    char err[512], out[8192];
    pid_t pid;

    (void)state;
    if (kernel_skip)
        skip();
    /* Twice, as after a restart of the daemon: the drop rules stay two. */
    for (int i = 0; i < 2; i++) {
        if (respond_fw_start(&c, &fw, err, sizeof(err)) < 0)
            fail_msg("start %d: %s", i, err);
        respond_fw_stop(fw);
    }
    assert_int_equal(sh("nft list chain inet hk_r input", out, sizeof(out)), 0);
    assert_int_equal(count(out, " drop"), 2);
    /* Without create the sets must exist. */
    assert_int_equal(respond_fw_start(&none, &fw, err, sizeof(err)), -ENOENT);
    assert_null(fw);
    assert_non_null(strstr(err, "hk_absent"));
    /* Family ip serves IPv4 only. */
    if (respond_fw_start(&ip4, &fw, err, sizeof(err)) < 0)
        fail_msg("start ip: %s", err);
    assert_int_equal(respond_fw_block(fw, "2001:db8::1", 60, err, sizeof(err)), -EINVAL);
    assert_int_equal(respond_fw_block(fw, "192.0.2.10", 60, err, sizeof(err)), 0);
    /* A helper that died: the next call says so, and does not hang. */
    pid = respond_fw_pid(fw);
    assert_true(pid > 0);
    kill(pid, SIGKILL);
    sleep_ms(100);
    assert_int_equal(respond_fw_block(fw, "192.0.2.11", 60, err, sizeof(err)), -EPIPE);
    respond_fw_stop(fw);
    /* Reaped: no such process any more. */
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
}

/* Bypassing the daemon's policy: the helper itself refuses to block its
 * never-block list and the addresses the host has now (one added after
 * the helper started), and the chain keeps established sessions. */
static void test_kernel_helper_refuses(void **state)
{
    struct respond_never nv;
    struct respond_fw_conf c = {.table = "hk_n", .create = 1};
    struct respond_fw *fw = NULL;
    char err[512], out[8192];

    (void)state;
    if (kernel_skip)
        skip();
    respond_never_init(&nv);
    assert_int_equal(respond_never_add_text(&nv, "198.51.100.0/24", "in a management network"), 0);
    c.never = &nv;
    if (respond_fw_start(&c, &fw, err, sizeof(err)) < 0)
        fail_msg("start: %s", err);
    /* The list is the helper's own copy: changing ours later changes nothing. */
    respond_never_done(&nv);
    assert_int_equal(sh("nft list chain inet hk_n input", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "ct state established,related accept"));
    assert_true(strstr(out, "ct state") < strstr(out, "@block4 drop"));
    assert_int_equal(respond_fw_block(fw, "198.51.100.7", 60, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "refuses to block 198.51.100.7: in a management network"));
    /* An address the namespace gains after the fork. */
    assert_int_equal(
        sh("ip addr add 203.0.113.250/32 dev lo && ip link set lo up 2>&1", out, sizeof(out)), 0);
    assert_int_equal(respond_fw_block(fw, "203.0.113.250", 60, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "this host's address (lo)"));
    assert_int_equal(respond_fw_is_blocked(fw, "203.0.113.250", err, sizeof(err)), 0);
    assert_int_equal(respond_fw_is_blocked(fw, "198.51.100.7", err, sizeof(err)), 0);
    /* Anyone else is blocked as before. */
    assert_int_equal(respond_fw_block(fw, "203.0.113.251", 60, err, sizeof(err)), 0);
    assert_int_equal(respond_fw_is_blocked(fw, "203.0.113.251", err, sizeof(err)), 1);
    respond_fw_stop(fw);
}

/* Moves the whole test into a network namespace of its own (the helper
 * forked later inherits it), and checks nftables works there. */
static void enter_netns(void)
{
    char out[512];

    if (geteuid() != 0) {
        kernel_skip = "not root";
    } else if (unshare(CLONE_NEWNET) < 0) {
        kernel_skip = "cannot create a network namespace";
    } else if (sh("nft add table inet hk_probe 2>&1", out, sizeof(out)) != 0) {
        kernel_skip = "the kernel has no usable nftables (or the nft binary is missing)";
        fprintf(stderr, "nft: %s\n", out);
    } else {
        sh("nft delete table inet hk_probe", NULL, 0);
    }
    if (kernel_skip)
        printf("test_fw: SKIP kernel tests: %s\n", kernel_skip);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_check),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_refusals),
        cmocka_unit_test(test_request_never),
        cmocka_unit_test(test_kernel_block_cycle),
        cmocka_unit_test(test_kernel_restart_and_missing),
        cmocka_unit_test(test_kernel_helper_refuses),
    };

    enter_netns();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
