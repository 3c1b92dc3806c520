/*
 * test_decode_sudo.c - sudo messages.  No real sudo log is in
 * /work/shared/data, so the lines follow what sudo 1.9 (Debian 12) writes
 * to auth.log: the user right-aligned in 8 columns, " ; " separated
 * settings, COMMAND last, and pam_unix's session/auth lines.  Each full
 * line is decoded with decode_rfc3164 first, then decode_sudo on ev->msg.
 * The loghub Linux sample checks that nothing else is taken for sudo.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_rfc3164.h"
#include "decode/decode_sudo.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MAX_EXPECT 12
#define H "Jun  1 10:00:00 deb12 sudo: "

struct sudo_case {
    const char *line;
    int ret;
    const char *want[MAX_EXPECT * 2 + 1]; /* name/value pairs; NULL value: absent */
};

static const struct sudo_case cases[] = {
    {H "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
     0,
     {"event.category", "process", "event.action", "sudo_command", "event.outcome", "success",
      "user.name", "alice", "user.effective.name", "root", "process.working_directory",
      "/home/alice", "process.command_line", "/usr/bin/apt update", "sudo.tty", "pts/0",
      "event.reason", NULL, NULL}},
    /* GROUP= and ENV=, and a command that itself holds " ; " */
    {H "   alice : TTY=pts/0 ; PWD=/srv ; USER=postgres ; GROUP=postgres ; ENV=PGDATA=/x ; "
       "COMMAND=/bin/sh -c echo a ; echo b",
     0,
     {"user.effective.name", "postgres", "sudo.group", "postgres", "process.command_line",
      "/bin/sh -c echo a ; echo b", NULL}},
    {H "     bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; "
       "COMMAND=/usr/bin/cat /etc/shadow",
     0,
     {"event.category", "authentication", "event.action", "sudo_auth_failure", "event.outcome",
      "failure", "user.name", "bob", "user.effective.name", "root", "process.command_line",
      "/usr/bin/cat /etc/shadow", "event.reason", "3 incorrect password attempts", NULL}},
    {H "   alice : 1 incorrect password attempt ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id",
     0,
     {"event.action", "sudo_auth_failure", "user.name", "alice", NULL}},
    {H "   alice : a password is required ; TTY=unknown ; PWD=/ ; USER=root ; COMMAND=/bin/true",
     0,
     {"event.action", "sudo_auth_failure", "sudo.tty", "unknown", NULL}},
    {H " mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
     0,
     {"event.category", "authentication", "event.action", "sudo_not_in_sudoers", "event.outcome",
      "failure", "user.name", "mallory", "process.working_directory", "/tmp",
      "process.command_line", "/bin/bash", NULL}},
    {H "   carol : user NOT authorized on host ; TTY=pts/3 ; PWD=/home/carol ; USER=root ; "
       "COMMAND=/bin/ls",
     0,
     {"event.action", "sudo_not_in_sudoers", "user.name", "carol", NULL}},
    {H "   alice : command not allowed ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
       "COMMAND=/usr/bin/vi /etc/sudoers",
     0,
     {"event.action", "sudo_command_not_allowed", "event.outcome", "failure",
      "process.command_line", "/usr/bin/vi /etc/sudoers", NULL}},
    {H "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
     0,
     {"event.category", "process", "event.action", "sudo_session_opened", "event.outcome",
      "success", "user.name", "alice", "user.effective.name", "root", NULL}},
    /* the older pam_unix form, without the target's uid */
    {H "pam_unix(sudo:session): session opened for user root by alice(uid=1000)",
     0,
     {"event.action", "sudo_session_opened", "user.name", "alice", "user.effective.name", "root",
      NULL}},
    {H "pam_unix(sudo-i:session): session opened for user root(uid=0) by bob(uid=1001)",
     0,
     {"event.action", "sudo_session_opened", "user.name", "bob", NULL}},
    {H "pam_unix(sudo:session): session closed for user root",
     0,
     {"event.action", "sudo_session_closed", "user.effective.name", "root", "user.name", NULL,
      NULL}},
    {H "pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 "
       "ruser=bob rhost=  user=bob",
     0,
     {"event.category", "authentication", "event.action", "sudo_auth_failure", "event.outcome",
      "failure", "user.name", "bob", NULL}},
    {H "pam_unix(sudo:auth): auth could not identify password for [alice]",
     0,
     {"event.action", "sudo_auth_failure", "user.name", "alice", NULL}},
    {H "pam_unix(sudo:auth): conversation failed",
     0,
     {"event.action", "sudo_auth_failure", "user.name", NULL, NULL}},
    /* not decisions */
    {H "unable to resolve host deb12: Name or service not known", -ENOENT, {NULL}},
    {H "   alice : some reason sudo may add later ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/x",
     -ENOENT,
     {NULL}},
    {H "pam_unix(sudo:auth): check pass; user unknown", -ENOENT, {NULL}},
    {H "", -ENOENT, {NULL}},
    /* malformed: cut short, or no user */
    {H "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=ro", -EINVAL, {NULL}},
    {H " : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls", -EINVAL, {NULL}},
    {H "a b : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls", -EINVAL, {NULL}},
    /* non-UTF-8 in the command is carried as it is */
    {H "   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo \xff\xfe",
     0,
     {"process.command_line", "/bin/echo \xff\xfe", NULL}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct sudo_case *t = &cases[c];
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int r = decode_testlib_run_chain(decode_rfc3164, decode_sudo, &ev, t->line,
                                         strlen(t->line), &err, &before);

        assert_true(event_is(&ev, FIELD_PROCESS_NAME, "sudo"));
        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == 0) {
            assert_string_equal(ev.decoder, "sudo");
            decode_testlib_expect_fields(&ev, t->want, t->line);
        } else {
            assert_int_equal(ev.nfields, before);
        }
    }
}

/* The year of a June line seen on 2026-06-01 is inferred as 2026. */
static void test_timestamp(void **state)
{
    const char *line = H "   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls";
    struct event ev;
    struct parse_err err;
    uint32_t before;

    (void)state;
    assert_int_equal(decode_testlib_run_chain(decode_rfc3164, decode_sudo, &ev, line, strlen(line),
                                              &err, &before),
                     0);
    decode_testlib_expect_field(&ev, "@timestamp", "2026-06-01T10:00:00.000000Z", line);
    decode_testlib_expect_field(&ev, "host.name", "deb12", line);
}

/* Linux_2k.log has su, sshd, crond... PAM lines but no sudo: decode_sudo
 * must take none of its 2000 messages, and reject none as malformed. */
static void test_no_false_positives(void **state)
{
    struct decode_testlib_lines it;
    char *line;
    size_t n, total = 0, taken = 0, einval = 0;

    (void)state;
    decode_testlib_lines_open(&it, "data/linux-logs/loghub/Linux/Linux_2k.log");
    while (decode_testlib_lines_next(&it, &line, &n)) {
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int r = decode_testlib_run_chain(decode_rfc3164, decode_sudo, &ev, line, n, &err, &before);

        total++;
        taken += r == 0;
        einval += r == -EINVAL;
    }
    decode_testlib_lines_close(&it);
    printf("Linux_2k.log: sudo decoded %zu/%zu (no sudo lines in this sample), %zu malformed\n",
           taken, total, einval);
    assert_int_equal(total, 2000);
    assert_int_equal(taken, 0);
    assert_int_equal(einval, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_no_false_positives),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, 0);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
