/*
 * test_exec.c - the exec response action: templating that never splits or
 * reaches a shell, exit statuses, the timeout and its SIGKILL escalation,
 * the output cap, stdin delivery, refused commands and values, the clean
 * environment, no inherited descriptors, and no zombie left behind.
 *
 * Values and stdin bodies come from a real sshd log
 * ($HIKESHI_SHARED/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "respond/respond_exec.h"

#define SSH_LOG "/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log"

/* The sample log, read once by the group setup. */
static char *ssh_log;
static size_t ssh_log_len;

static int group_setup(void **state)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[4096];
    FILE *f;
    long n;

    (void)state;
    snprintf(path, sizeof(path), "%s" SSH_LOG, shared ? shared : "../shared");
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "missing sample %s\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    ssh_log = malloc((size_t)n + 1);
    if (!ssh_log || fread(ssh_log, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    ssh_log[n] = '\0';
    ssh_log_len = (size_t)n;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(ssh_log);
    return 0;
}

/* The `nth` (0-based) line of the sample containing `needle`, without its
 * newline; fails the test if there is none. */
static void sample_line(const char *needle, int nth, const char **ret, size_t *ret_len)
{
    const char *p = ssh_log, *end = ssh_log + ssh_log_len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (memmem(p, len, needle, strlen(needle)) && nth-- == 0) {
            *ret = p;
            *ret_len = len;
            return;
        }
        p += len + 1;
    }
    fail_msg("no line with '%s' in the sample", needle);
}

/* The "from <ip> port" address of a sample line. */
static void line_ip(const char *line, size_t len, const char **ret, size_t *ret_len)
{
    const char *from = memmem(line, len, " from ", 6);
    const char *sp;

    assert_non_null(from);
    from += 6;
    sp = memchr(from, ' ', len - (size_t)(from - line));
    assert_non_null(sp);
    *ret = from;
    *ret_len = (size_t)(sp - from);
}

static void assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_var(struct respond_vars *v, enum respond_var k, const char *s, size_t len)
{
    v->value[k] = s;
    v->len[k] = len;
}

/* ---- templating -------------------------------------------------------- */

static void test_template_one_argument(void **state)
{
    char hostile[256], want[1024];
    const char *line, *ip;
    size_t line_len, ip_len;
    struct respond_vars v = {0};
    struct respond_exec_result res;

    (void)state;
    sample_line("Failed password for invalid user", 0, &line, &line_len);
    line_ip(line, line_len, &ip, &ip_len);
    /* A real attacker address followed by shell syntax and spaces. */
    snprintf(hostile, sizeof(hostile), "%.*s ;rm -rf / $(id) `id` | cat", (int)ip_len, ip);
    set_var(&v, RESPOND_VAR_IP, hostile, strlen(hostile));
    set_var(&v, RESPOND_VAR_RULE, "sshd-bruteforce", 15);
    set_var(&v, RESPOND_VAR_INCIDENT, "42", 2);
    set_var(&v, RESPOND_VAR_LEVEL, "high", 4);
    set_var(&v, RESPOND_VAR_REASON, line, line_len);

    static const struct {
        const char *argv[8];
        const char *want_fmt; /* %1$s = hostile ip, %2$s = reason line */
    } rows[] = {
        {{"/bin/echo", "block", "{ip}", "rule={rule}", NULL}, "block %1$s rule=sshd-bruteforce\n"},
        /* printf brackets each argument: the value is exactly one. */
        {{"/usr/bin/printf", "[%s]\\n", "{ip}", "{incident}/{level}", "{reason}", NULL},
         "[%1$s]\n[42/high]\n[%2$s]\n"},
        {{"/usr/bin/printf", "%s\\n", "{{ {ip} }", "x}", "{{", NULL}, "{ %1$s }\nx}\n{\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_exec_conf c = {.argv = rows[i].argv, .timeout_ms = 5000};
        char reason[512];

        snprintf(reason, sizeof(reason), "%.*s", (int)line_len, line);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(want, sizeof(want), rows[i].want_fmt, hostile, reason);
#pragma GCC diagnostic pop
        assert_int_equal(respond_exec_check(&c, NULL), 0);
        assert_int_equal(respond_exec_run(&c, &v, &res), 0);
        assert_true(res.exited);
        assert_int_equal(res.exit_status, 0);
        assert_non_null(res.output.data);
        assert_string_equal(res.output.data, want);
        respond_exec_result_done(&res);
    }
    assert_no_children();
}

/* What a run passes, rendered without running: the value verbatim inside
 * its argument, {{ as a literal brace, an unknown placeholder refused. */
static void test_render(void **state)
{
    static const char ip[] = "203.0.113.5 ;rm -rf / $(id)";
    struct respond_vars vars = {0};
    struct buf out;
    const char *why = NULL;

    (void)state;
    vars.value[RESPOND_VAR_IP] = ip;
    vars.len[RESPOND_VAR_IP] = sizeof(ip) - 1;
    buf_init(&out, 4096);
    assert_int_equal(respond_exec_render("block={ip} {{x}", &vars, &out, &why), 0);
    assert_int_equal(buf_putc(&out, '\0'), 0);
    assert_string_equal(out.data, "block=203.0.113.5 ;rm -rf / $(id) {x}");
    buf_reset(&out);
    assert_int_equal(respond_exec_render("{nosuch}", &vars, &out, &why), -EINVAL);
    assert_non_null(why);
    buf_reset(&out);
    /* A value the run would refuse is refused here too: {rule} is unset. */
    assert_int_equal(respond_exec_render("{rule}", &vars, &out, &why), -EINVAL);
    buf_done(&out);
}

static void test_check_refuses(void **state)
{
    static const struct {
        const char *argv[4];
        int ok;
    } rows[] = {
        {{"/bin/echo", "{ip}", NULL}, 1},   {{"/bin/echo", "{{literal}", NULL}, 1},
        {{"/bin/echo", "{host}", NULL}, 0}, {{"/bin/echo", "{IP}", NULL}, 0},
        {{"/bin/echo", "{}", NULL}, 0},     {{"/bin/echo", "x{ip", NULL}, 0},
        {{"echo", "x", NULL}, 0},           {{"bin/echo", NULL}, 0},
        {{"/bin/{rule}", NULL}, 0},         {{NULL}, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_exec_conf c = {.argv = rows[i].argv};
        const char *why = "unset";
        int r = respond_exec_check(&c, &why);

        if (rows[i].ok) {
            assert_int_equal(r, 0);
            assert_null(why);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_non_null(why);
            assert_true(strlen(why) > 10);
        }
    }
}

static void test_relative_program_refused(void **state)
{
    const char *argv[] = {"echo", "hello", NULL};
    struct respond_exec_conf c = {.argv = argv};
    struct respond_exec_result res;

    (void)state;
    assert_int_equal(respond_exec_run(&c, NULL, &res), -EINVAL);
    assert_false(res.spawned);
    assert_non_null(strstr(res.reason, "absolute"));
    respond_exec_result_done(&res);
    assert_no_children();
}

static void test_unknown_placeholder_refused_at_run(void **state)
{
    const char *argv[] = {"/bin/echo", "{hostname}", NULL};
    struct respond_exec_conf c = {.argv = argv};
    struct respond_exec_result res;
    const char *why = NULL;

    (void)state;
    assert_int_equal(respond_exec_check(&c, &why), -EINVAL);
    assert_non_null(strstr(why, "unknown placeholder"));
    assert_int_equal(respond_exec_run(&c, NULL, &res), -EINVAL);
    assert_false(res.spawned);
    respond_exec_result_done(&res);
}

static void test_values_refused(void **state)
{
    static char big[RESPOND_EXEC_VALUE_MAX + 1];
    const char *argv[] = {"/bin/echo", "{ip}", NULL};
    const char *argv_mid[] = {"/bin/echo", "--addr={ip}", NULL};
    struct respond_exec_conf c = {.argv = argv};
    struct respond_exec_result res;
    static const struct {
        const char *s;
        size_t len;
        const char *why;
    } rows[] = {
        {"10.0.0.1\0; reboot", 17, "NUL"},
        {big, sizeof(big), "1 KiB"},
        {"-rf", 3, "'-'"},
        {NULL, 0, "no value"},
    };

    (void)state;
    memset(big, 'a', sizeof(big));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_vars v = {0};

        set_var(&v, RESPOND_VAR_IP, rows[i].s, rows[i].len);
        assert_int_equal(respond_exec_run(&c, &v, &res), -EINVAL);
        assert_false(res.spawned);
        assert_non_null(strstr(res.reason, rows[i].why));
        assert_non_null(strstr(res.reason, "{ip}"));
        respond_exec_result_done(&res);
    }
    /* Exactly 1 KiB is accepted, and a dash inside an argument is fine. */
    {
        struct respond_vars v = {0};

        set_var(&v, RESPOND_VAR_IP, big, RESPOND_EXEC_VALUE_MAX);
        assert_int_equal(respond_exec_run(&c, &v, &res), 0);
        assert_int_equal(res.output.len, RESPOND_EXEC_VALUE_MAX + 1);
        respond_exec_result_done(&res);
        c.argv = argv_mid;
        set_var(&v, RESPOND_VAR_IP, "-1", 2);
        assert_int_equal(respond_exec_run(&c, &v, &res), 0);
        assert_string_equal(res.output.data, "--addr=-1\n");
        respond_exec_result_done(&res);
    }
    assert_no_children();
}

/* ---- how it ends --------------------------------------------------------- */

static void test_exit_status(void **state)
{
    static const struct {
        const char *argv[4];
        int ret, exited, status, sig;
    } rows[] = {
        {{"/bin/sh", "-c", "exit 3", NULL}, -EIO, 1, 3, 0},
        {{"/bin/true", NULL}, 0, 1, 0, 0},
        {{"/bin/false", NULL}, -EIO, 1, 1, 0},
        {{"/bin/sh", "-c", "kill -USR1 $$", NULL}, -EIO, 0, 0, SIGUSR1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_exec_conf c = {.argv = rows[i].argv, .timeout_ms = 5000};
        struct respond_exec_result res;

        assert_int_equal(respond_exec_run(&c, NULL, &res), rows[i].ret);
        assert_true(res.spawned);
        assert_false(res.timed_out);
        assert_int_equal(res.exited, rows[i].exited);
        assert_int_equal(res.exit_status, rows[i].status);
        assert_int_equal(res.signal, rows[i].sig);
        respond_exec_result_done(&res);
    }
    assert_no_children();
}

static void test_missing_program(void **state)
{
    const char *argv[] = {"/nonexistent/hikeshi-action", NULL};
    struct respond_exec_conf c = {.argv = argv};
    struct respond_exec_result res;

    (void)state;
    assert_int_equal(respond_exec_run(&c, NULL, &res), -ENOENT);
    assert_false(res.spawned);
    assert_non_null(strstr(res.reason, "could not start"));
    respond_exec_result_done(&res);
    assert_no_children();
}

static void test_timeout_kills(void **state)
{
    const char *sleep_argv[] = {"/bin/sleep", "10", NULL};
    /* Ignores SIGTERM (and so does its sleep): needs the SIGKILL. */
    const char *stubborn_argv[] = {"/bin/sh", "-c", "trap '' TERM; /bin/sleep 10; exit 0", NULL};
    struct respond_exec_conf c = {.argv = sleep_argv, .timeout_ms = 300};
    struct respond_exec_result res;
    uint64_t t0, took;

    (void)state;
    t0 = now_ms();
    assert_int_equal(respond_exec_run(&c, NULL, &res), -ETIMEDOUT);
    took = now_ms() - t0;
    assert_true(res.timed_out);
    assert_int_equal(res.signal, SIGTERM);
    assert_true(took >= 300 && took < 300 + 1000);
    assert_non_null(strstr(res.reason, "timed out"));
    respond_exec_result_done(&res);

    c.argv = stubborn_argv;
    t0 = now_ms();
    assert_int_equal(respond_exec_run(&c, NULL, &res), -ETIMEDOUT);
    took = now_ms() - t0;
    assert_true(res.timed_out);
    assert_int_equal(res.signal, SIGKILL);
    assert_true(took >= 300 + RESPOND_EXEC_KILL_GRACE_MS &&
                took < 300 + RESPOND_EXEC_KILL_GRACE_MS + 1500);
    respond_exec_result_done(&res);
    assert_no_children();
}

/* ---- output and input ---------------------------------------------------- */

static void test_output_capped(void **state)
{
    const char *argv[] = {"/usr/bin/head", "-c", "200000", "/dev/zero", NULL};
    const char *both[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    struct respond_exec_conf c = {.argv = argv, .output_cap = 1000, .timeout_ms = 5000};
    struct respond_exec_result res;

    (void)state;
    assert_int_equal(respond_exec_run(&c, NULL, &res), 0);
    assert_int_equal(res.output.len, 1000);
    assert_int_equal(res.output_dropped, 200000 - 1000);
    respond_exec_result_done(&res);

    c.argv = both;
    c.output_cap = 0;
    assert_int_equal(respond_exec_run(&c, NULL, &res), 0);
    assert_string_equal(res.output.data, "out\nerr\n");
    assert_int_equal(res.output_dropped, 0);
    respond_exec_result_done(&res);
    assert_no_children();
}

static void test_stdin_delivered(void **state)
{
    const char *argv[] = {"/bin/cat", NULL};
    const char *deaf[] = {"/bin/true", NULL};
    struct respond_exec_conf c = {.argv = argv, .timeout_ms = 10000};
    struct respond_exec_result res;
    char mail[2048];
    const char *line;
    size_t line_len;
    int n;

    (void)state;
    /* A mail as sendmail -t would read it, quoting a real log line. */
    sample_line("Failed password for root", 0, &line, &line_len);
    n = snprintf(mail, sizeof(mail),
                 "To: csirt@example.org\nSubject: [hikeshi] incident 42\n\n%.*s\n", (int)line_len,
                 line);
    assert_int_equal(respond_exec_run_stdin(&c, NULL, mail, (size_t)n, &res), 0);
    assert_int_equal(res.output.len, (size_t)n);
    assert_memory_equal(res.output.data, mail, (size_t)n);
    respond_exec_result_done(&res);

    /* The whole sample log, larger than a pipe buffer both ways. */
    assert_true(ssh_log_len > 65536);
    c.output_cap = ssh_log_len;
    assert_int_equal(respond_exec_run_stdin(&c, NULL, ssh_log, ssh_log_len, &res), 0);
    assert_int_equal(res.output.len, ssh_log_len);
    assert_memory_equal(res.output.data, ssh_log, ssh_log_len);
    respond_exec_result_done(&res);

    /* A program that never reads its stdin: no SIGPIPE, no hang. */
    c.argv = deaf;
    assert_int_equal(respond_exec_run_stdin(&c, NULL, ssh_log, ssh_log_len, &res), 0);
    respond_exec_result_done(&res);

    /* The plain variant gives /dev/null. */
    c.argv = argv;
    assert_int_equal(respond_exec_run(&c, NULL, &res), 0);
    assert_int_equal(res.output.len, 0);
    respond_exec_result_done(&res);
    assert_no_children();
}

/* ---- what the program inherits --------------------------------------------- */

static void test_clean_environment(void **state)
{
    const char *argv[] = {"/usr/bin/env", NULL};
    const char *cwd_argv[] = {"/bin/pwd", NULL};
    struct respond_exec_conf c = {.argv = argv, .timeout_ms = 5000};
    struct respond_exec_result res;

    (void)state;
    setenv("HIKESHI_TEST_SECRET", "must-not-leak", 1);
    assert_int_equal(respond_exec_run(&c, NULL, &res), 0);
    assert_string_equal(res.output.data, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C\n");
    respond_exec_result_done(&res);
    unsetenv("HIKESHI_TEST_SECRET");

    c.argv = cwd_argv;
    assert_int_equal(respond_exec_run(&c, NULL, &res), 0);
    assert_string_equal(res.output.data, "/\n");
    respond_exec_result_done(&res);
    assert_no_children();
}

static void test_no_inherited_fds(void **state)
{
    char fdpath[64];
    const char *argv[] = {"/usr/bin/readlink", fdpath, NULL};
    struct respond_exec_conf c = {.argv = argv, .timeout_ms = 5000};
    struct respond_exec_result res;
    int fd, high;

    (void)state;
    /* Deliberately without O_CLOEXEC, at a number nothing else uses. */
    fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    high = fcntl(fd, F_DUPFD, 200);
    assert_true(high >= 200);
    close(fd);
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", high);
    /* Control: the descriptor is visible to this process. */
    assert_int_equal(access(fdpath, F_OK), 0);
    assert_int_equal(respond_exec_run(&c, NULL, &res), -EIO);
    assert_true(res.exited);
    assert_int_equal(res.exit_status, 1);
    assert_int_equal(res.output.len, 0);
    respond_exec_result_done(&res);
    close(high);
    assert_no_children();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_one_argument),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_check_refuses),
        cmocka_unit_test(test_relative_program_refused),
        cmocka_unit_test(test_unknown_placeholder_refused_at_run),
        cmocka_unit_test(test_values_refused),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_timeout_kills),
        cmocka_unit_test(test_output_capped),
        cmocka_unit_test(test_stdin_delivered),
        cmocka_unit_test(test_clean_environment),
        cmocka_unit_test(test_no_inherited_fds),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
