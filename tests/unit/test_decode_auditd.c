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

#include "decode/decode.h"
#include "decode/decode_auditd.h"
#include "decode/decode_rfc3164.h"
#include "decode_testlib.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"
#include "util/limits.h"

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

/*
 * Joining.  What a pipeline does with a file's records: each decoded with
 * the file's stream, the complete events taken after every record, every
 * held one at the end.  Each event (a record alone, or a joined one) is
 * summed up in a struct got.
 */
#define MAX_GOT 64
struct got {
    int joined;      /* came from decode_auditd_flush */
    unsigned ntype;  /* values of "type": the records it holds */
    unsigned nlines; /* lines of its raw text */
    char seq[24], exe[64], cmd[128], path[64], cat[16], etype[16], pid[16], ppid[16], auid[16],
        cwd[64], outcome[16], syscall[16], node[16];
    unsigned na0; /* values of "a0" */
    char a0[32];
};

struct run {
    struct got got[MAX_GOT];
    size_t n;
    unsigned held;  /* records answered -EAGAIN */
    unsigned alone; /* records answered 0 */
};

static void copy_field(const struct event *ev, const char *name, char *dst, size_t cap)
{
    size_t n;
    const char *v = event_get(ev, field_lookup(name, strlen(name)), &n);

    dst[0] = '\0';
    if (v) {
        if (n >= cap)
            n = cap - 1;
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
}

static void note(struct run *run, const struct event *ev, int joined)
{
    struct got *g;
    uint32_t type_id = field_lookup("type", 4), a0_id = field_lookup("a0", 2);

    assert_true(run->n < MAX_GOT);
    g = &run->got[run->n++];
    memset(g, 0, sizeof(*g));
    g->joined = joined;
    assert_string_equal(ev->decoder, "auditd");
    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (ev->fields[i].id == type_id)
            g->ntype++;
        if (ev->fields[i].id == a0_id)
            g->na0++;
    }
    g->nlines = 1;
    for (size_t i = 0; i < ev->raw_len; i++)
        g->nlines += ev->raw[i] == '\n';
    copy_field(ev, "event.sequence", g->seq, sizeof(g->seq));
    copy_field(ev, "process.executable", g->exe, sizeof(g->exe));
    copy_field(ev, "process.command_line", g->cmd, sizeof(g->cmd));
    copy_field(ev, "file.path", g->path, sizeof(g->path));
    copy_field(ev, "event.category", g->cat, sizeof(g->cat));
    copy_field(ev, "event.type", g->etype, sizeof(g->etype));
    copy_field(ev, "process.pid", g->pid, sizeof(g->pid));
    copy_field(ev, "process.parent.pid", g->ppid, sizeof(g->ppid));
    copy_field(ev, "user.audit.id", g->auid, sizeof(g->auid));
    copy_field(ev, "process.working_directory", g->cwd, sizeof(g->cwd));
    copy_field(ev, "event.outcome", g->outcome, sizeof(g->outcome));
    copy_field(ev, "SYSCALL", g->syscall, sizeof(g->syscall));
    copy_field(ev, "node", g->node, sizeof(g->node));
    copy_field(ev, "a0", g->a0, sizeof(g->a0));
}

/* Takes the held events of `s` into run (every one with `all`). */
static void take(struct run *run, struct decode_stream *s, int all)
{
    static struct arena arena;
    static int ready;
    struct event ev;
    struct parse_err perr;
    int r;

    if (!ready) {
        arena_init(&arena, 0);
        ready = 1;
    }
    for (;;) {
        arena_reset(&arena);
        event_init(&ev, &arena, NULL, 0, DECODE_TESTLIB_T2023);
        r = decode_stream_flush(s, all, &ev, &perr);
        if (r == -ENOENT)
            break;
        assert_int_equal(r, 0);
        note(run, &ev, 1);
        event_reset(&ev);
    }
}

/* Decodes n records of (lines, lens) with one stream into run. */
static void join_run(struct run *run, const char *const *lines, const size_t *lens, size_t n)
{
    struct decode_ctx ctx = decode_testlib_ctx();

    memset(run, 0, sizeof(*run));
    ctx.stream = decode_stream_new();
    assert_non_null(ctx.stream);
    for (size_t i = 0; i < n; i++) {
        struct event ev;
        struct parse_err perr;
        int r = decode_testlib_run_ctx(decode_auditd, &ctx, &ev, lines[i],
                                       lens ? lens[i] : strlen(lines[i]), &perr);

        if (r == -EAGAIN) {
            assert_int_equal(ev.nfields, 0);
            run->held++;
        } else if (r == 0) {
            run->alone++;
            note(run, &ev, 0);
        } else {
            fail_msg("record %zu: %d", i, r);
        }
        take(run, ctx.stream, 0);
    }
    take(run, ctx.stream, 1);
    assert_int_equal(decode_stream_holding(ctx.stream), 0);
    decode_stream_free(ctx.stream);
}

/* Records in run's events: what went in. */
static unsigned records_out(const struct run *run)
{
    unsigned n = 0;

    for (size_t i = 0; i < run->n; i++)
        n += run->got[i].ntype;
    return n;
}

/* The real execve calls of Security-Datasets' logs, each 6 records (no
 * EOE in them: they are taken at the end, or when the window passed). */
static void test_join_samples(void **state)
{
    static const char *const files[] = {
        "data/windows/Security-Datasets/datasets/atomic/linux/discovery/host/"
        "sh_arp_cache_2020-11-10074812.log",
        "data/windows/Security-Datasets/datasets/atomic/linux/defense_evasion/host/"
        "sh_binary_padding_dd_2020-11-10081941.log",
    };
    static const struct {
        const char *seq, *exe, *cmd, *pid;
    } want[] = {
        {"92733", "/usr/sbin/arp", "arp -a", "1631"},
        {"92734", "/bin/grep", "grep -v ^?", "1632"},
        {"93777", "/bin/dd", "dd if=/dev/zero bs=1 count=1", "2168"},
    };
    const char *lines[32];
    size_t lens[32], n = 0;
    char *bufs[2];
    struct run run;

    (void)state;
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        char *p = bufs[f] = decode_testlib_read(files[f], &len);

        while (len && n < 32) {
            char *nl = memchr(p, '\n', len);
            size_t l = nl ? (size_t)(nl - p) : len;
            if (l) {
                lines[n] = p;
                lens[n++] = l;
            }
            len -= nl ? l + 1 : l;
            p += nl ? l + 1 : l;
        }
    }
    assert_int_equal(n, 18);
    join_run(&run, lines, lens, n);
    assert_int_equal(run.held, 18);
    assert_int_equal(run.n, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct got *g = &run.got[i];

        assert_true(g->joined);
        assert_int_equal(g->ntype, 6);
        assert_int_equal(g->nlines, 6);
        assert_string_equal(g->seq, want[i].seq);
        assert_string_equal(g->exe, want[i].exe);
        assert_string_equal(g->path, want[i].exe);
        assert_string_equal(g->cmd, want[i].cmd);
        assert_string_equal(g->pid, want[i].pid);
        assert_string_equal(g->ppid, "29002");
        assert_string_equal(g->auid, "1000");
        assert_string_equal(g->cwd, "/home/wardog");
        assert_string_equal(g->cat, "process");
        assert_string_equal(g->etype, "start");
        assert_string_equal(g->outcome, "success");
        assert_string_equal(g->syscall, "execve");
        /* a0 is the program's first argument, not the SYSCALL's pointer */
        assert_int_equal(g->na0, 1);
    }
    assert_string_equal(run.got[0].a0, "arp");
    /* the dd call came 31 minutes later: arp's and grep's were complete
     * then, and taken before it ended */
    free(bufs[0]);
    free(bufs[1]);
}

/* Two calls' records interleaved (as two CPUs write them), each ended by
 * its EOE; the EOE completes its call at once. */
static void test_join_interleaved(void **state)
{
    static const char *const lines[] = {
        "type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes "
        "exit=0 a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 "
        "pid=1631 auid=1000 uid=1000 gid=1000 comm=\"arp\" exe=\"/usr/sbin/arp\" key=(null)",
        "type=SYSCALL msg=audit(1604994496.155:92734): arch=c000003e syscall=59 success=yes "
        "exit=0 a0=558e251634a0 a1=558e25163720 a2=558e25160800 a3=558e2500a010 items=2 "
        "ppid=29002 pid=1632 auid=1000 uid=1000 gid=1000 comm=\"grep\" exe=\"/bin/grep\" "
        "key=(null)",
        "type=EXECVE msg=audit(1604994496.155:92734): argc=3 a0=\"grep\" a1=\"-v\" a2=\"^?\"",
        "type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0=\"arp\" a1=\"-a\"",
        "type=PATH msg=audit(1604994496.155:92733): item=0 name=\"/usr/sbin/arp\" inode=13181 "
        "dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL",
        "type=EOE msg=audit(1604994496.155:92733): ",
        "type=PATH msg=audit(1604994496.155:92734): item=0 name=\"/bin/grep\" inode=61 "
        "dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL",
        /* hex-encoded by auditd (a space in it): "/tmp/a b" */
        "type=CWD msg=audit(1604994496.155:92734): cwd=2F746D702F612062",
        "type=EOE msg=audit(1604994496.155:92734): ",
    };
    struct run run;

    (void)state;
    join_run(&run, lines, NULL, sizeof(lines) / sizeof(lines[0]));
    assert_int_equal(run.held, 9);
    assert_int_equal(run.n, 2);
    assert_int_equal(records_out(&run), 9);
    /* arp's EOE came first: its event first */
    assert_string_equal(run.got[0].seq, "92733");
    assert_int_equal(run.got[0].ntype, 4);
    assert_string_equal(run.got[0].exe, "/usr/sbin/arp");
    assert_string_equal(run.got[0].cmd, "arp -a");
    assert_string_equal(run.got[1].seq, "92734");
    assert_int_equal(run.got[1].ntype, 5);
    assert_string_equal(run.got[1].cmd, "grep -v ^?");
    assert_string_equal(run.got[1].cwd, "/tmp/a b");
    assert_string_equal(run.got[1].cat, "process");
}

/* A call that is not an execve is joined too, but is no process start;
 * records of other kinds, and of other nodes, stand apart. */
static void test_join_kinds(void **state)
{
    static const char *const lines[] = {
        "node=web1 type=SYSCALL msg=audit(1700000000.100:500): arch=c000003e syscall=2 "
        "success=no exit=-13 a0=7ffd a1=0 a2=1b6 a3=0 items=1 ppid=1 pid=77 auid=4294967295 "
        "uid=33 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"shadow\"",
        /* same serial, another node: another call */
        "node=web2 type=SYSCALL msg=audit(1700000000.100:500): arch=c000003e syscall=59 "
        "success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=88 auid=1000 uid=0 "
        "comm=\"id\" exe=\"/usr/bin/id\" key=(null)",
        "node=web1 type=PATH msg=audit(1700000000.100:500): item=0 name=\"/etc/shadow\" "
        "inode=5 nametype=NORMAL",
        /* user-space and SELinux records: alone at once */
        "type=USER_AUTH msg=audit(1700000000.200:501): pid=9 uid=0 auid=4294967295 ses=1 "
        "msg='op=PAM:authentication acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? "
        "addr=203.0.113.9 terminal=ssh res=failed'",
        "type=AVC msg=audit(1700000000.300:502): avc:  denied  { read } for  pid=2465 "
        "comm=\"httpd\" name=\"shadow\" tclass=file",
        "node=web2 type=EXECVE msg=audit(1700000000.100:500): argc=1 a0=\"id\"",
    };
    struct run run;
    const struct got *g;

    (void)state;
    join_run(&run, lines, NULL, sizeof(lines) / sizeof(lines[0]));
    assert_int_equal(run.held, 4);
    assert_int_equal(run.alone, 2);
    assert_int_equal(records_out(&run), 6);
    assert_int_equal(run.n, 4);
    assert_false(run.got[0].joined); /* USER_AUTH */
    assert_false(run.got[1].joined); /* AVC */
    g = &run.got[2];
    assert_string_equal(g->node, "web1");
    assert_int_equal(g->ntype, 2);
    assert_string_equal(g->syscall, "open");
    assert_string_equal(g->path, "/etc/shadow");
    assert_string_equal(g->outcome, "failure");
    assert_string_equal(g->cat, "");  /* no process start */
    assert_string_equal(g->auid, ""); /* unset: 4294967295 */
    g = &run.got[3];
    assert_string_equal(g->node, "web2");
    assert_int_equal(g->ntype, 2);
    assert_string_equal(g->cat, "process");
    assert_string_equal(g->cmd, "id");
}

/* Caps: a call with more records than LIMIT_AUDITD_JOIN_RECORDS is given
 * in parts, more open calls than LIMIT_AUDITD_JOIN_OPEN let the oldest go,
 * a record a window later completes the older calls; nothing is lost. */
static void test_join_caps(void **state)
{
    enum { NPATH = LIMIT_AUDITD_JOIN_RECORDS + 6, NOPEN = LIMIT_AUDITD_JOIN_OPEN + 3 };
    static char buf[NPATH + NOPEN + 2][160];
    const char *lines[NPATH + NOPEN + 2];
    size_t n = 0;
    struct run run;

    (void)state;
    for (int i = 0; i < NPATH; i++) {
        snprintf(buf[n], sizeof(buf[n]),
                 "type=PATH msg=audit(1700000000.100:700): item=%d name=\"/lib/x%d.so\" "
                 "nametype=NORMAL",
                 i, i);
        lines[n] = buf[n];
        n++;
    }
    join_run(&run, lines, NULL, n);
    assert_int_equal(records_out(&run), NPATH);
    assert_int_equal(run.alone, 1); /* the one past the cap */
    assert_int_equal(run.n, 3);
    /* the record past the cap, alone, then the full call taken after it */
    assert_false(run.got[0].joined);
    assert_string_equal(run.got[0].path, "/lib/x24.so");
    assert_true(run.got[1].joined);
    assert_int_equal(run.got[1].ntype, LIMIT_AUDITD_JOIN_RECORDS);
    assert_string_equal(run.got[1].path, "/lib/x0.so");
    assert_true(run.got[2].joined);
    assert_int_equal(run.got[2].ntype, NPATH - LIMIT_AUDITD_JOIN_RECORDS - 1);

    /* more calls open than the cap, all in one millisecond */
    n = 0;
    for (int i = 0; i < NOPEN; i++) {
        snprintf(buf[n], sizeof(buf[n]),
                 "type=SYSCALL msg=audit(1700000000.100:%d): arch=c000003e syscall=2 "
                 "success=yes exit=3 pid=%d",
                 800 + i, 100 + i);
        lines[n] = buf[n];
        n++;
    }
    join_run(&run, lines, NULL, n);
    assert_int_equal(records_out(&run), NOPEN);
    assert_int_equal(run.n, NOPEN);
    /* the oldest went as the newest came, before the end */
    assert_string_equal(run.got[0].seq, "800");
    assert_string_equal(run.got[NOPEN - 1].seq, "810");

    /* the window: a call two seconds later completes the open one */
    lines[0] = "type=SYSCALL msg=audit(1700000000.100:900): arch=c000003e syscall=2 success=yes";
    lines[1] = "type=SYSCALL msg=audit(1700000002.100:901): arch=c000003e syscall=2 success=yes";
    lines[2] = "type=PATH msg=audit(1700000000.100:900): item=0 name=\"/late\"";
    join_run(&run, lines, NULL, 3);
    assert_int_equal(run.n, 3);
    assert_string_equal(run.got[0].seq, "900");
    assert_int_equal(run.got[0].ntype, 1);
    /* the late record of 900 came after it was complete: apart, taken
     * at the end after 901, opened before it */
    assert_string_equal(run.got[1].seq, "901");
    assert_string_equal(run.got[2].seq, "900");
    assert_string_equal(run.got[2].path, "/late");
}

/* Hostile records with a stream: nothing held that cannot be joined,
 * nothing lost, no read past a record. */
static void test_join_hostile(void **state)
{
    static char big[LIMIT_AUDITD_JOIN_BYTES + 100];
    const char *lines[8];
    size_t lens[8];
    struct run run;
    size_t n = 0;
    int w;

    (void)state;
    w = snprintf(big, sizeof(big), "type=EXECVE msg=audit(1700000000.100:1000): argc=1 a0=\"");
    memset(big + w, 'x', sizeof(big) - (size_t)w - 2);
    big[sizeof(big) - 2] = '"';
    big[sizeof(big) - 1] = '\0';
    lines[n] = "type=SYSCALL msg=audit(1700000000.100:1000): arch=c000003e syscall=59 "
               "success=yes exe=\"/bin/x\"";
    lens[n] = strlen(lines[n]);
    n++;
    lines[n] = big; /* longer than a call may hold: alone */
    lens[n] = strlen(big);
    n++;
    /* a serial too long for a number: alone */
    lines[n] = "type=PATH msg=audit(1700000000.100:1234567890123456789012345): name=\"/a\"";
    lens[n] = strlen(lines[n]);
    n++;
    /* cut inside the stamp: malformed, not held */
    lines[n] = "type=CWD msg=audit(1700000000.100:10";
    lens[n] = strlen(lines[n]);
    n++;
    /* cut inside a value: held, read up to its end */
    lines[n] = "type=CWD msg=audit(1700000000.100:1000): cwd=\"/ho";
    lens[n] = strlen(lines[n]);
    n++;
    /* an odd hex value and a NUL inside the record */
    lines[n] = "type=PROCTITLE msg=audit(1700000000.100:1000): proctitle=2F62696\0x";
    lens[n] = strlen(lines[n]) + 2;
    n++;
    {
        struct decode_ctx ctx = decode_testlib_ctx();
        unsigned held = 0, alone = 0, malformed = 0;

        memset(&run, 0, sizeof(run));
        ctx.stream = decode_stream_new();
        assert_non_null(ctx.stream);
        for (size_t i = 0; i < n; i++) {
            struct event ev;
            struct parse_err perr;
            int r = decode_testlib_run_ctx(decode_auditd, &ctx, &ev, lines[i], lens[i], &perr);

            if (r == -EAGAIN)
                held++;
            else if (r == 0) {
                alone++;
                note(&run, &ev, 0);
            } else if (r == -EINVAL) {
                malformed++;
            }
            take(&run, ctx.stream, 0);
        }
        take(&run, ctx.stream, 1);
        decode_stream_free(ctx.stream);
        assert_int_equal(held, 3);
        assert_int_equal(alone, 2);
        assert_int_equal(malformed, 1);
        assert_int_equal(records_out(&run), 5);
        /* the joined one: SYSCALL, CWD, PROCTITLE */
        assert_int_equal(run.got[2].ntype, 3);
        assert_string_equal(run.got[2].cwd, "/ho");
        assert_string_equal(run.got[2].exe, "/bin/x");
    }
}

/* A record inside a syslog message is never held: its header's fields
 * (the host) would be lost with it. */
static void test_join_not_syslog(void **state)
{
    const char *line = "Nov 23 10:00:00 rhel9 audispd: node=rhel9 type=SYSCALL "
                       "msg=audit(1795435200.250:906): arch=c000003e syscall=59 success=yes";
    struct decode_ctx ctx = decode_testlib_ctx();
    struct event ev;
    struct parse_err perr;

    (void)state;
    ctx.stream = decode_stream_new();
    assert_non_null(ctx.stream);
    assert_int_equal(decode_testlib_run_ctx(decode_rfc3164, &ctx, &ev, line, strlen(line), &perr),
                     0);
    assert_int_equal(decode_auditd(&ev, ev.msg, ev.msg_len, &ctx, &perr), 0);
    decode_testlib_expect_field(&ev, "event.sequence", "906", line);
    assert_int_equal(decode_stream_holding(ctx.stream), 0);
    decode_stream_free(ctx.stream);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),         cmocka_unit_test(test_bad),
        cmocka_unit_test(test_syslog),       cmocka_unit_test(test_samples),
        cmocka_unit_test(test_join_samples), cmocka_unit_test(test_join_interleaved),
        cmocka_unit_test(test_join_kinds),   cmocka_unit_test(test_join_caps),
        cmocka_unit_test(test_join_hostile), cmocka_unit_test(test_join_not_syslog),
    };

    decode_testlib_set_clock(DECODE_TESTLIB_T2023, DECODE_TESTLIB_T2023);
    return cmocka_run_group_tests(tests, decode_testlib_setup, decode_testlib_teardown);
}
