/*
 * test_decode_auditd.c - Linux audit records.  The SYSCALL, EXECVE, CWD,
 * PATH and PROCTITLE lines are real (Security-Datasets' atomic linux host
 * logs, read below whole as well).  No USER_*, AVC or AppArmor record is in
 * ../shared/data: those lines are written from the documented formats
 * (auditd's and the kernel's record layouts as the Red Hat security guide's
 * "Understanding audit log files" and the AppArmor wiki's failure examples
 * show them), with made-up hosts, users and serials.  Hostile and truncated
 * variants follow the good lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_auditd.h"
#include "decode/decode_rfc3164.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"

static const struct decode_testlib_good good[] = {
    /* real: Security-Datasets sh_binary_padding_dd */
    {"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 "
     "a0=558e25052c70 a1=558e251641a0 a2=558e25160800 a3=1b6 items=2 ppid=29002 pid=2168 "
     "auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 "
     "tty=pts0 ses=104 comm=\"dd\" exe=\"/bin/dd\" key=(null)",
     {{"type", "SYSCALL"},
      {"syscall", "59"},
      {"SYSCALL", "execve"},
      {"a0", "558e25052c70"},
      {"comm", "dd"},
      {"exe", "/bin/dd"},
      {"key", NULL},
      {"rule.name", NULL},
      {"event.sequence", "93777"},
      {"@timestamp", "2020-11-10T08:19:44.965000Z"},
      {"event.module", "auditd"},
      {"event.dataset", "auditd.log"},
      {"event.action", "syscall"},
      {"event.outcome", "success"},
      {"event.category", NULL},
      {"user.id", "1000"},
      {"process.executable", "/bin/dd"},
      {"msg", NULL},
      {NULL, NULL}}},
    {"type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0=\"dd\" a1=\"if=/dev/zero\" "
     "a2=\"bs=1\" a3=\"count=1\"",
     {{"type", "EXECVE"},
      {"a0", "dd"},
      {"a1", "if=/dev/zero"},
      {"a3", "count=1"},
      {"process.command_line", "dd if=/dev/zero bs=1 count=1"},
      {"event.action", "execve"},
      {"event.outcome", NULL},
      {NULL, NULL}}},
    {"type=CWD msg=audit(1604996384.965:93777): cwd=\"/home/wardog\"",
     {{"cwd", "/home/wardog"}, {"process.working_directory", "/home/wardog"}, {NULL, NULL}}},
    {"type=PATH msg=audit(1604996384.965:93777): item=0 name=\"/bin/dd\" inode=20 dev=08:01 "
     "mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
     "cap_fver=0 cap_frootid=0",
     {{"name", "/bin/dd"}, {"nametype", "NORMAL"}, {"file.path", "/bin/dd"}, {NULL, NULL}}},
    /* real: proctitle hex with NUL separators */
    {"type=PROCTITLE msg=audit(1604996384.965:93777): "
     "proctitle=64640069663D2F6465762F7A65726F0062733D3100636F756E743D31",
     {{"proctitle", "dd if=/dev/zero bs=1 count=1"},
      {"process.command_line", "dd if=/dev/zero bs=1 count=1"},
      {NULL, NULL}}},
    /* documented: a denied open, the SigmaHQ-style key, hex-encoded EXECVE
     * argument (it holds a space), the enriched tail after 0x1d */
    {"type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no "
     "exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=1000 "
     "uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 "
     "ses=1 comm=\"cat\" exe=\"/usr/bin/cat\" subj=unconfined_u:unconfined_r:unconfined_t:s0 "
     "key=\"sshd_config\"\x1d"
     "ARCH=x86_64 SYSCALL=open AUID=\"alice\" UID=\"alice\" GID=\"alice\"",
     {{"SYSCALL", "open"},
      {"key", "sshd_config"},
      {"rule.name", "sshd_config"},
      {"event.outcome", "failure"},
      {"user.name", "alice"},
      {"ARCH", "x86_64"},
      {"@timestamp", "2013-03-28T14:36:03.243000Z"},
      {NULL, NULL}}},
    {"type=EXECVE msg=audit(1700000000.001:7): argc=3 a0=\"sh\" a1=\"-c\" "
     "a2=6563686F2068656C6C6F",
     {{"a2", "echo hello"}, {"process.command_line", "sh -c echo hello"}, {NULL, NULL}}},
    /* documented: a long argument split into pieces a1[0], a1[1] */
    {"type=EXECVE msg=audit(1700000000.001:8): argc=2 a0=\"echo\" a1_len=6 a1[0]=616263 "
     "a1[1]=646566",
     {{"a1[0]", "abc"}, {"a1[1]", "def"}, {"process.command_line", "echo abcdef"}, {NULL, NULL}}},
    /* documented: USER_AUTH failure, the msg='...' pairs flattened */
    {"type=USER_AUTH msg=audit(1700000000.123:901): pid=4242 uid=0 auid=4294967295 "
     "ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=PAM:authentication "
     "grantors=? acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.7 addr=203.0.113.7 "
     "terminal=ssh res=failed'",
     {{"type", "USER_AUTH"},
      {"op", "PAM:authentication"},
      {"grantors", NULL},
      {"acct", "root"},
      {"user.name", "root"},
      {"source.ip", "203.0.113.7"},
      {"event.category", "authentication"},
      {"event.outcome", "failure"},
      {"event.action", "user_auth"},
      {"process.executable", "/usr/sbin/sshd"},
      {"msg", NULL},
      {NULL, NULL}}},
    /* documented: USER_LOGIN success with a hex-encoded account name */
    {"type=USER_LOGIN msg=audit(1700000000.5:902): pid=4243 uid=0 auid=1000 ses=5 "
     "msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=2001:db8::7 terminal=/dev/pts/1 "
     "res=success'",
     {{"event.outcome", "success"},
      {"source.ip", "2001:db8::7"},
      {"hostname", NULL},
      {"event.category", "authentication"},
      {NULL, NULL}}},
    {"type=USER_AUTH msg=audit(1700000000.6:903): pid=1 uid=0 msg='op=PAM:authentication "
     "acct=6A6F686E20646F65 exe=\"/usr/bin/su\" res=failed'",
     {{"acct", "john doe"}, {"user.name", "john doe"}, {NULL, NULL}}},
    /* documented: USER_CMD, the command hex-encoded */
    {"type=USER_CMD msg=audit(1700000001.000:904): pid=5000 uid=1000 auid=1000 ses=3 "
     "msg='cwd=\"/home/alice\" cmd=636174202F6574632F736861646F77 terminal=pts/0 res=success'",
     {{"cmd", "cat /etc/shadow"},
      {"cwd", "/home/alice"},
      {"event.outcome", "success"},
      {NULL, NULL}}},
    /* documented: SELinux AVC denial */
    {"type=AVC msg=audit(1226874073.147:96): avc:  denied  { getattr } for  pid=2465 "
     "comm=\"httpd\" path=\"/var/www/html/file1\" dev=dm-0 ino=284133 "
     "scontext=unconfined_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:samba_share_t:s0 "
     "tclass=file permissive=0",
     {{"type", "AVC"},
      {"seresult", "denied"},
      {"seperms", "getattr"},
      {"comm", "httpd"},
      {"tclass", "file"},
      {"scontext", "unconfined_u:system_r:httpd_t:s0"},
      {"file.path", "/var/www/html/file1"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"observer.product", "selinux"},
      {NULL, NULL}}},
    {"type=AVC msg=audit(1700000002.000:905): avc:  denied  { read write } for  pid=77 "
     "comm=\"passwd\" name=\"shadow\" dev=\"sda1\" ino=1234 scontext=u:r:passwd_t:s0 "
     "tcontext=u:object_r:etc_t:s0 tclass=file permissive=1",
     {{"seperms", "read write"}, {"file.name", "shadow"}, {"file.path", NULL}, {NULL, NULL}}},
    /* documented: the kernel's own AppArmor denial, numeric type */
    {"[ 8123.456789] audit: type=1400 audit(1700000003.250:906): apparmor=\"DENIED\" "
     "operation=\"open\" profile=\"/usr/sbin/cupsd\" name=\"/etc/shadow\" pid=1234 "
     "comm=\"cupsd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
     {{"type", "AVC"},
      {"apparmor", "DENIED"},
      {"operation", "open"},
      {"profile", "/usr/sbin/cupsd"},
      {"file.path", "/etc/shadow"},
      {"event.outcome", "failure"},
      {"event.type", "denied"},
      {"observer.product", "apparmor"},
      {"event.action", "avc"},
      {NULL, NULL}}},
    /* documented: audispd's syslog form on a multi-host setup */
    {"node=web01 type=USER_AVC msg=audit(1700000004.000:907): pid=1 uid=0 auid=4294967295 "
     "ses=4294967295 msg='avc:  denied  { start } for auid=0 uid=0 gid=0 "
     "cmdline=\"/usr/bin/systemctl start x\" scontext=u:r:init_t:s0 tcontext=u:r:init_t:s0 "
     "tclass=service exe=\"/usr/lib/systemd/systemd\" sauid=0 hostname=? addr=? terminal=?'",
     {{"node", "web01"},
      {"type", "USER_AVC"},
      {"seresult", "denied"},
      {"seperms", "start"},
      {"tclass", "service"},
      {"observer.product", "selinux"},
      {NULL, NULL}}},
    /* real (loghub Linux): the kernel's start-up record, an odd stamp */
    {"audit(1122475266.4294965305:0): initialized",
     {{"event.sequence", "0"}, {"type", NULL}, {"event.action", NULL}, {NULL, NULL}}},
    /* hostile: a truncated quoted value, kept up to the end */
    {"type=SYSCALL msg=audit(1700000005.000:908): comm=\"ca", {{"comm", "ca"}, {NULL, NULL}}},
    /* hostile: odd-length or lower-case hex is not decoded */
    {"type=PATH msg=audit(1700000005.000:909): item=0 name=ABC nametype=x name2=abcd",
     {{"name", "ABC"}, {"name2", "abcd"}, {NULL, NULL}}},
    /* hostile: an unterminated msg=' takes the rest; a nested one is a value */
    {"type=USER_CMD msg=audit(1700000005.000:910): pid=1 msg='cmd=6C73 x=msg='y=1",
     {{"cmd", "ls"}, {"x", "msg="}, {NULL, NULL}}},
    /* hostile: a number past the syscall table, a huge syscall number */
    {"type=SYSCALL msg=audit(1700000005.000:911): arch=c000003e syscall=9999 success=maybe",
     {{"SYSCALL", NULL}, {"event.outcome", NULL}, {NULL, NULL}}},
    {"type=SYSCALL msg=audit(1700000005.000:912): arch=c000003e syscall=99999999999999999999",
     {{"SYSCALL", NULL}, {NULL, NULL}}},
    /* hostile: no pairs at all after the stamp */
    {"type=EOE msg=audit(1700000005.000:913):", {{"type", "EOE"}, {NULL, NULL}}},
};

static void test_good(void **state)
{
    (void)state;
    decode_testlib_check_good(decode_auditd, "auditd", good, sizeof(good) / sizeof(good[0]));
}

static const struct decode_testlib_bad bad[] = {
    {"", -ENOENT, 0},
    {"type=SYSCALL", -ENOENT, 0},
    {"kernel: audit: initializing netlink socket (disabled)", -ENOENT, 0},
    {"audit: initializing netlink socket (disabled)", -ENOENT, 0},
    {"Failed password for root from 203.0.113.7 port 22 ssh2", -ENOENT, 0},
    {"foo audit(1700000000.000:1): x=1", -ENOENT, 0},
    {"node=", -ENOENT, 0},
    {"[", -ENOENT, 0},
    {"type=SYSCALL msg=audit(", -EINVAL, 23},
    {"type=SYSCALL msg=audit(1700000000.000)", -EINVAL, 23},
    {"type=SYSCALL msg=audit(1700000000.000:)", -EINVAL, 23},
    {"type=SYSCALL msg=audit(1700000000.000:12", -EINVAL, 23},
    {"type=SYSCALL msg=audit(x:1): a=1", -EINVAL, 23},
    {"audit(:1): a=1", -EINVAL, 6},
};

static void test_bad(void **state)
{
    (void)state;
    decode_testlib_check_bad(decode_auditd, bad, sizeof(bad) / sizeof(bad[0]));
}

/* Through syslog: the kernel's AppArmor line and audispd's record are the
 * message part of an RFC 3164 line; the record's own time wins. */
static void test_syslog(void **state)
{
    static const char *const lines[] = {
        "Jun  1 10:00:00 deb12 kernel: [ 8123.456789] audit: type=1400 "
        "audit(1700000003.250:906): apparmor=\"DENIED\" operation=\"open\" "
        "profile=\"/usr/sbin/cupsd\" name=\"/etc/shadow\" pid=1234 comm=\"cupsd\"",
        "Jun  1 10:00:00 rhel9 audispd: node=rhel9 type=SYSCALL msg=audit(1700000003.250:906): "
        "arch=c000003e syscall=41 success=yes exit=3 a0=26 a1=5 a2=0 comm=\"x\" exe=\"/tmp/x\"",
    };
    struct event ev;
    struct parse_err perr;
    uint32_t before;

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        assert_int_equal(decode_testlib_run_chain(decode_rfc3164, decode_auditd, &ev, lines[i],
                                                  strlen(lines[i]), &perr, &before),
                         0);
        decode_testlib_expect_field(&ev, "event.sequence", "906", lines[i]);
        decode_testlib_expect_field(&ev, "event.module", "auditd", lines[i]);
    }
    decode_testlib_expect_field(&ev, "SYSCALL", "socket", lines[1]);
    decode_testlib_expect_field(&ev, "a0", "26", lines[1]);
}

/* Every line of the real samples is an audit record. */
static void test_samples(void **state)
{
    static const char *const files[] = {
        "data/windows/Security-Datasets/datasets/atomic/linux/defense_evasion/host/"
        "sh_binary_padding_dd_2020-11-10081941.log",
        "data/windows/Security-Datasets/datasets/atomic/linux/discovery/host/"
        "sh_arp_cache_2020-11-10074812.log",
    };
    unsigned lines = 0, ok = 0, cmd = 0;

    (void)state;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        struct decode_testlib_lines it;
        char *line;
        size_t n, tn;

        decode_testlib_lines_open(&it, files[f]);
        while (decode_testlib_lines_next(&it, &line, &n)) {
            struct event ev;
            struct parse_err perr;

            lines++;
            if (decode_testlib_run(decode_auditd, &ev, line, n, &perr) == 0 &&
                event_get(&ev, field_lookup("type", 4), &tn) &&
                event_get(&ev, field_lookup("event.sequence", 14), &tn))
                ok++;
            if (event_get(&ev, FIELD_PROCESS_COMMAND_LINE, &tn))
                cmd++;
        }
        decode_testlib_lines_close(&it);
    }
    printf("Security-Datasets auditd logs: %u/%u decoded, %u with a command line\n", ok, lines,
           cmd);
    assert_int_equal(lines, 18);
    assert_int_equal(ok, lines);
    /* 3 EXECVE and 3 PROCTITLE records */
    assert_int_equal(cmd, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_syslog),
        cmocka_unit_test(test_samples),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
