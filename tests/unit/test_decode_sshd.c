/*
 * test_decode_sshd.c - OpenSSH server messages.  Each full syslog line is
 * decoded with decode_rfc3164 first, then decode_sshd runs on ev->msg, as
 * decode_record() does.  Lines are from loghub OpenSSH_2k.log / Linux_2k.log
 * or follow the formats of current OpenSSH (auth.c, auth2.c, sshd.c,
 * packet.c).  The loghub files are scanned whole, per template.
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
#include "decode/decode_sshd.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

#define MAX_EXPECT 12

struct sshd_case {
    const char *line; /* a full syslog line */
    int ret;          /* of decode_sshd */
    const char *want[MAX_EXPECT * 2 + 1];
};

#define H "Dec 10 06:55:46 LabSZ sshd[24200]: "

static const struct sshd_case cases[] = {
    {H "reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - "
       "POSSIBLE BREAK-IN ATTEMPT!",
     0,
     {"event.category", "authentication", "event.action", "ssh_break_in_attempt", "event.outcome",
      "unknown", "source.ip", "173.234.31.186", "source.domain", "ns.marryaldkfaczcz.com",
      "user.name", NULL, NULL}},
    {H "Address 10.1.2.3 maps to host.example.org, but this does not map back to the address - "
       "POSSIBLE BREAK-IN ATTEMPT!",
     0,
     {"event.action", "ssh_break_in_attempt", "source.ip", "10.1.2.3", "source.domain",
      "host.example.org", NULL}},
    {H "Invalid user webmaster from 173.234.31.186",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "webmaster",
      "source.ip", "173.234.31.186", "source.port", NULL, "ssh.invalid_user", "true", NULL}},
    /* OpenSSH >= 7.5 adds the port */
    {H "Invalid user admin from 2001:db8::7 port 50122",
     0,
     {"user.name", "admin", "source.ip", "2001:db8::7", "source.port", "50122", NULL}},
    {H "input_userauth_request: invalid user webmaster [preauth]",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "webmaster",
      "ssh.invalid_user", "true", "source.ip", NULL, NULL}},
    {"Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu from 119.137.62.142 port "
     "49116 ssh2",
     0,
     {"event.category", "authentication", "event.action", "ssh_login", "event.outcome", "success",
      "user.name", "fztu", "source.ip", "119.137.62.142", "source.port", "49116", "ssh.method",
      "password", "ssh.invalid_user", NULL, NULL}},
    {H "Accepted publickey for git from 192.0.2.10 port 51234 ssh2: ED25519 "
       "SHA256:5q2Vb0ZHmH0f9Jb3cQvZKp0RZ1m4l3XK1V0h8b2Jt3s",
     0,
     {"event.outcome", "success", "user.name", "git", "source.ip", "192.0.2.10", "source.port",
      "51234", "ssh.method", "publickey", NULL}},
    {H "Accepted keyboard-interactive/pam for alice from 198.51.100.4 port 40000 ssh2",
     0,
     {"ssh.method", "keyboard-interactive/pam", "user.name", "alice", NULL}},
    {"Dec 10 07:13:43 LabSZ sshd[24227]: Failed password for root from 5.36.59.76 port 42393 ssh2",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "root", "source.ip",
      "5.36.59.76", "source.port", "42393", "ssh.method", "password", "ssh.invalid_user", NULL,
      NULL}},
    {"Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from "
     "173.234.31.186 port 38926 ssh2",
     0,
     {"event.outcome", "failure", "user.name", "webmaster", "source.ip", "173.234.31.186",
      "source.port", "38926", "ssh.invalid_user", "true", NULL}},
    {"Dec 10 08:24:40 LabSZ sshd[24363]: Failed none for invalid user 0 from 5.188.10.180 port "
     "49811 ssh2",
     0,
     {"ssh.method", "none", "user.name", "0", "ssh.invalid_user", "true", NULL}},
    /* a user name crafted to look like an address: the real one is last */
    {H "Failed password for invalid user x from 6.6.6.6 port 22 ssh2 from 203.0.113.9 port 5555 "
       "ssh2",
     0,
     {"user.name", "x from 6.6.6.6 port 22 ssh2", "source.ip", "203.0.113.9", "source.port", "5555",
      NULL}},
    {"Dec 10 07:13:56 LabSZ sshd[24227]: message repeated 5 times: [ Failed password for root "
     "from 5.36.59.76 port 42393 ssh2]",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "root", "source.ip",
      "5.36.59.76", "ssh.repeat_count", "5", NULL}},
    {H "User root from 192.0.2.7 not allowed because not listed in AllowUsers",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "root", "source.ip",
      "192.0.2.7", "event.reason", "not allowed because not listed in AllowUsers", NULL}},
    {"Dec 10 07:07:45 LabSZ sshd[24206]: Received disconnect from 52.80.34.196: 11: Bye Bye "
     "[preauth]",
     0,
     {"event.action", "ssh_disconnect", "event.outcome", "unknown", "source.ip", "52.80.34.196",
      "event.reason", "11: Bye Bye", NULL}},
    {"Dec 10 07:51:15 LabSZ sshd[24324]: error: Received disconnect from 195.154.37.122: 3: "
     "com.jcraft.jsch.JSchException: Auth fail [preauth]",
     0,
     {"event.action", "ssh_disconnect", "source.ip", "195.154.37.122", NULL}},
    {H "Received disconnect from 203.0.113.5 port 53730:11: disconnected by user",
     0,
     {"event.action", "ssh_disconnect", "source.ip", "203.0.113.5", "source.port", "53730",
      "event.reason", "11: disconnected by user", NULL}},
    {H "Disconnected from user alice 203.0.113.5 port 53730",
     0,
     {"event.action", "ssh_disconnect", "user.name", "alice", "source.ip", "203.0.113.5",
      "source.port", "53730", NULL}},
    {H "Disconnected from invalid user oracle 203.0.113.5 port 53730 [preauth]",
     0,
     {"user.name", "oracle", "ssh.invalid_user", "true", "source.ip", "203.0.113.5", NULL}},
    {H "Disconnected from authenticating user root 203.0.113.5 port 53730 [preauth]",
     0,
     {"user.name", "root", "ssh.invalid_user", NULL, "source.port", "53730", NULL}},
    {"Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]",
     0,
     {"event.action", "ssh_connection_closed", "event.outcome", "unknown", "source.ip",
      "173.234.31.186", "source.port", NULL, NULL}},
    {H "Connection closed by invalid user admin 198.51.100.2 port 41000 [preauth]",
     0,
     {"event.action", "ssh_connection_closed", "user.name", "admin", "ssh.invalid_user", "true",
      "source.ip", "198.51.100.2", "source.port", "41000", NULL}},
    {H "Connection reset by 198.51.100.2 port 41000 [preauth]",
     0,
     {"event.action", "ssh_connection_closed", "source.ip", "198.51.100.2", NULL}},
    {"Dec 10 10:14:13 LabSZ sshd[24833]: Disconnecting: Too many authentication failures for "
     "admin [preauth]",
     0,
     {"event.action", "ssh_max_auth_exceeded", "event.outcome", "failure", "user.name", "admin",
      NULL}},
    {H "Disconnecting invalid user test 198.51.100.3 port 40022: Too many authentication failures "
       "[preauth]",
     0,
     {"event.action", "ssh_max_auth_exceeded", "user.name", "test", "ssh.invalid_user", "true",
      "source.ip", "198.51.100.3", "source.port", "40022", NULL}},
    {H "error: maximum authentication attempts exceeded for root from 198.51.100.3 port 40022 ssh2 "
       "[preauth]",
     0,
     {"event.action", "ssh_max_auth_exceeded", "user.name", "root", "source.ip", "198.51.100.3",
      NULL}},
    {"Dec 10 07:34:33 LabSZ sshd[24301]: Did not receive identification string from "
     "123.235.32.19",
     0,
     {"event.action", "ssh_no_identification", "event.outcome", "failure", "source.ip",
      "123.235.32.19", NULL}},
    {"Dec 10 07:13:31 LabSZ sshd[24227]: pam_unix(sshd:auth): authentication failure; logname= "
     "uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root",
     0,
     {"event.action", "pam_auth_failure", "event.outcome", "failure", "user.name", "root",
      "source.domain", "5.36.59.76.dynamic-dsl-ip.omantel.net.om", "source.ip", NULL, NULL}},
    {H "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
       "rhost=173.234.31.186 ",
     0,
     {"event.action", "pam_auth_failure", "source.ip", "173.234.31.186", "user.name", NULL, NULL}},
    {"Dec 10 07:13:56 LabSZ sshd[24227]: PAM 5 more authentication failures; logname= uid=0 "
     "euid=0 tty=ssh ruser= rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om  user=root",
     0,
     {"event.action", "pam_auth_failure", "user.name", "root", NULL}},
    /* Linux_2k.log: the sshd(pam_unix) tag, no "pam_unix(...)" in the message, and no
     * "Failed password" line of sshd's own: the PAM failure is the failed login.  A host
     * name rhost stays a name (source.domain), never an invented source.ip. */
    {"Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 "
     "tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "user.name", "root", "source.domain",
      "220-135-151-1.hinet-ip.hinet.net", "source.ip", NULL, NULL}},
    {"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 "
     "tty=NODEVssh ruser= rhost=218.188.2.4 ",
     0,
     {"event.action", "ssh_login", "event.outcome", "failure", "source.ip", "218.188.2.4",
      "user.name", NULL, "source.domain", NULL, NULL}},
    {"Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
     0,
     {"event.action", "pam_user_unknown", "event.outcome", "failure", "ssh.invalid_user", "true",
      "user.name", NULL, "source.ip", NULL, NULL}},
    {"Dec 10 06:55:46 LabSZ sshd[24200]: pam_unix(sshd:auth): check pass; user unknown",
     0,
     {"event.action", "pam_user_unknown", "ssh.invalid_user", "true", NULL}},
    {"Jun 15 12:12:34 combo sshd(pam_unix)[23397]: session opened for user test by (uid=509)",
     0,
     {"event.action", "ssh_session_opened", "user.name", "test", NULL}},
    {"Dec 10 09:32:20 LabSZ sshd[24680]: pam_unix(sshd:session): session opened for user fztu by "
     "(uid=0)",
     0,
     {"event.action", "ssh_session_opened", "event.outcome", "success", "user.name", "fztu", NULL}},
    {"Dec 10 09:45:06 LabSZ sshd[24680]: pam_unix(sshd:session): session closed for user fztu",
     0,
     {"event.action", "ssh_session_closed", "user.name", "fztu", NULL}},
    /* not events */
    {H "PAM service(sshd) ignoring max retries; 6 > 3", -ENOENT, {NULL}},
    {H "fatal: Write failed: Connection reset by peer [preauth]", -ENOENT, {NULL}},
    {H "Server listening on 0.0.0.0 port 22.", -ENOENT, {NULL}},
    {H "Failed to release session: Interrupted system call", -ENOENT, {NULL}},
    {H "", -ENOENT, {NULL}},
    /* malformed: a known shape with a broken tail */
    {H "Accepted password for root from", -EINVAL, {NULL}},
    {H "Accepted password for root", -EINVAL, {NULL}},
    {H "Failed password for root from 999.1.1.1 port 22 ssh2", -EINVAL, {NULL}},
    {H "Failed password for root from 1.2.3.4 port 99999 ssh2", -EINVAL, {NULL}},
    {H "Failed password for root from 1.2.3.4 port x ssh2", -EINVAL, {NULL}},
    {H "Invalid user bob from \xff\xfe", -EINVAL, {NULL}},
    {H "Connection closed by", -EINVAL, {NULL}},
    {H "message repeated x times: [ Failed password for root from 1.2.3.4 port 2 ssh2]",
     -EINVAL,
     {NULL}},
    {H "message repeated 2 times: [ message repeated 2 times: [ x]]", -EINVAL, {NULL}},
    {H "reverse mapping checking getaddrinfo for h [nope] failed - POSSIBLE BREAK-IN ATTEMPT!",
     -EINVAL,
     {NULL}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct sshd_case *t = &cases[c];
        struct event ev;
        struct parse_err err;
        uint32_t before;
        /* rfc3164 then sshd on the message, as decode_record() chains them */
        int r = decode_testlib_run_chain(decode_rfc3164, decode_sshd, &ev, t->line,
                                         strlen(t->line), &err, &before);

        decode_testlib_expect_ret(c, t->line, r, t->ret, &err);
        if (r == 0) {
            assert_string_equal(ev.decoder, "sshd");
            decode_testlib_expect_fields(&ev, t->want, t->line);
        } else {
            /* a refusal leaves the header fields only */
            assert_string_equal(ev.decoder, "rfc3164");
            assert_int_equal(ev.nfields, before);
            assert_null(event_get(&ev, FIELD_EVENT_ACTION, NULL));
        }
    }
}

/* Templates of lines that are not authentication events: they may stay
 * -ENOENT (never -EINVAL).  Every other template must decode. */
static const char *const non_events[] = {
    "PAM service(sshd) ignoring max retries; <*> > <*>",
    "fatal: Write failed: Connection reset by peer [preauth]",
};

static int is_non_event(const char *tpl)
{
    for (size_t i = 0; i < sizeof(non_events) / sizeof(non_events[0]); i++)
        if (strcmp(tpl, non_events[i]) == 0)
            return 1;
    return 0;
}

/* The template of a loghub _structured.csv row: what follows ",E<n>,". */
static const char *row_template(char *row)
{
    size_t n = strlen(row);

    while (n && (row[n - 1] == '\n' || row[n - 1] == '\r'))
        row[--n] = '\0';
    for (size_t i = n; i-- > 0;) {
        if (row[i] == ',' && i + 2 < n && row[i + 1] == 'E') {
            size_t k = i + 2;
            while (k < n && row[k] >= '0' && row[k] <= '9')
                k++;
            if (k > i + 2 && row[k] == ',')
                return row + k + 1;
        }
    }
    return "";
}

/*
 * Scans a loghub log beside its _structured.csv.  Only lines whose program
 * is sshd are counted.  Prints the coverage and each unparsed template
 * with its count; fails on any line of an event template left undecoded, on
 * any -EINVAL, and when coverage is below floor_permille.
 */
static void scan(const char *rel, size_t floor_permille)
{
    char csv_rel[4096], *line, *row;
    struct decode_testlib_lines log, csv;
    size_t n, rown, total = 0, ok = 0, missed_events = 0, einval = 0, ntpl = 0;
    struct {
        char tpl[256];
        size_t count;
    } unparsed[32];

    snprintf(csv_rel, sizeof(csv_rel), "%s_structured.csv", rel);
    decode_testlib_lines_open(&log, rel);
    decode_testlib_lines_open(&csv, csv_rel);
    assert_true(decode_testlib_lines_next(&csv, &row, &rown)); /* header */

    while (decode_testlib_lines_next(&log, &line, &n)) {
        struct event ev;
        struct parse_err err;
        const char *tpl;
        int r;

        assert_true(decode_testlib_lines_next(&csv, &row, &rown));
        tpl = row_template(row);
        if (decode_testlib_run(decode_rfc3164, &ev, line, n, &err) != 0 ||
            !event_is(&ev, FIELD_PROCESS_NAME, "sshd"))
            continue;
        total++;
        r = decode_testlib_run_msg(decode_sshd, &ev, &err);
        if (r == 0) {
            ok++;
        } else {
            if (r == -EINVAL)
                einval++;
            if (!is_non_event(tpl)) {
                missed_events++;
                printf("  unparsed event (%d): %s\n", r, tpl);
            }
            {
                size_t k = 0;
                while (k < ntpl && strncmp(unparsed[k].tpl, tpl, sizeof(unparsed[k].tpl) - 1))
                    k++;
                if (k == ntpl && ntpl < sizeof(unparsed) / sizeof(unparsed[0])) {
                    snprintf(unparsed[ntpl].tpl, sizeof(unparsed[ntpl].tpl), "%s", tpl);
                    unparsed[ntpl++].count = 0;
                }
                if (k < ntpl)
                    unparsed[k].count++;
            }
        }
    }
    decode_testlib_lines_close(&log);
    decode_testlib_lines_close(&csv);
    printf("%s: sshd decoded %zu/%zu (%.1f%%), unparsed templates:\n", rel, ok, total,
           total ? 100.0 * (double)ok / (double)total : 0.0);
    for (size_t k = 0; k < ntpl; k++)
        printf("  %5zu  %s\n", unparsed[k].count, unparsed[k].tpl);
    assert_true(total > 0);
    assert_int_equal(einval, 0);
    assert_int_equal(missed_events, 0);
    assert_true(ok * 1000 >= total * floor_permille);
}

/* OpenSSH_2k: 8 of 2000 lines are the two non-event templates (7
 * "ignoring max retries", 1 "Write failed"), so the floor is 99.6%. */
static void test_sample_openssh(void **state)
{
    (void)state;
    scan("data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log", 996);
}

/* Linux_2k: all 677 sshd(pam_unix) lines are events. */
static void test_sample_linux(void **state)
{
    (void)state;
    scan("data/linux-logs/loghub/Linux/Linux_2k.log", 1000);
}

/*
 * Linux_2k's brute force is written only as old-style PAM failures: every
 * "sshd(pam_unix)[pid]: authentication failure;" line must be a failed
 * ssh_login with its rhost as source.ip or, for a name, source.domain
 * (never both), so the SSH rules and ssh_bruteforce see it.
 */
static void test_linux_pam_logins(void **state)
{
    struct decode_testlib_lines log;
    char *line;
    size_t n, want = 0, logins = 0, by_ip = 0, by_name = 0;

    (void)state;
    decode_testlib_lines_open(&log, "data/linux-logs/loghub/Linux/Linux_2k.log");
    while (decode_testlib_lines_next(&log, &line, &n)) {
        struct event ev;
        struct parse_err err;
        uint32_t before;
        int ip, name;

        if (!memmem(line, n, "sshd(pam_unix)[", 15) ||
            !memmem(line, n, "]: authentication failure;", 26))
            continue;
        want++;
        if (decode_testlib_run_chain(decode_rfc3164, decode_sshd, &ev, line, n, &err, &before) !=
                0 ||
            !event_is(&ev, FIELD_EVENT_ACTION, "ssh_login") ||
            !event_is(&ev, FIELD_EVENT_OUTCOME, "failure"))
            continue;
        logins++;
        ip = event_get(&ev, FIELD_SOURCE_IP, NULL) != NULL;
        name = event_get(&ev, field_intern("source.domain", 13), NULL) != NULL;
        by_ip += ip && !name;
        by_name += name && !ip;
    }
    decode_testlib_lines_close(&log);
    printf("Linux_2k.log: %zu PAM failure lines, %zu failed ssh_login (%zu by address, %zu by "
           "name)\n",
           want, logins, by_ip, by_name);
    assert_true(want > 0);
    assert_int_equal(logins, want);
    assert_int_equal(by_ip + by_name, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_sample_openssh),
        cmocka_unit_test(test_sample_linux),
        cmocka_unit_test(test_linux_pam_logins),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2026, 0);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
