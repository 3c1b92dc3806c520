/*
 * decode_auditd.h - Linux audit records: one line of /var/log/audit/audit.log,
 * or the same record carried by syslog (audispd's or audisp-syslog's
 * message, the kernel's "audit: type=1400 audit(...): ..." when auditd is not
 * running), including SELinux AVC denials and AppArmor denials, which are
 * audit records too:
 *
 *   [node=NAME ]type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e
 *     syscall=2 success=no exit=-13 a0=... comm="cat" exe="/usr/bin/cat" key="k"
 *   [ 12.345678] audit: type=1400 audit(1700000000.123:45): apparmor="DENIED"
 *     operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" comm="cupsd"
 *   type=AVC msg=audit(1226874073.147:96): avc:  denied  { read } for  pid=2465
 *     comm="httpd" name="shadow" scontext=... tcontext=... tclass=file
 *
 * One system call is written as several records (SYSCALL, EXECVE, CWD,
 * PATH..., PROCTITLE, EOE) sharing the serial of msg=audit(TIME:SERIAL).
 * When the caller keeps a stream (decode_ctx.stream: an audit.log file) and
 * the record is the whole input record, such records are held and joined:
 * the call gives ONE event, taken with decode_auditd_flush(), carrying the
 * fields of all its records (type once per record, every pair under its
 * name) and the ECS names made of them all.  A joined execve (a SYSCALL and
 * its EXECVE) is a process start: event.category "process", event.type
 * "start", so that Sigma's linux process_creation rules see it.  Other
 * records (user-space ones, AVC, records of a syslog message, any record
 * without a stream) each become one event, as do the records of a call that
 * passed a cap (LIMIT_AUDITD_JOIN_* in util/limits.h).  event.sequence is
 * the serial either way.
 *
 * Fields set (every key=value pair of the record under its own name, as
 * SigmaHQ's auditd rules name them: type, syscall, SYSCALL, a0..., comm, exe,
 * name, key, nametype, ...; plus ECS names):
 *   type                 the record type's name (SYSCALL, EXECVE, AVC, ...),
 *                        numeric types of kernel messages (1300, 1400, ...)
 *                        translated to their names;
 *   SYSCALL              the system call's name: the enriched log format's
 *                        own SYSCALL=, else syscall= translated for x86_64
 *                        (arch=c000003e);
 *   seresult, seperms    an AVC's "denied"/"granted" and its permissions;
 *   the pairs of a user-space record's msg='...' are taken as pairs of the
 *                        record itself; those of the enriched format's tail
 *                        (after 0x1d: ARCH=, SYSCALL=, UID="root", ...) too;
 *   values auditd writes hex-encoded (EXECVE arguments, proctitle, name,
 *                        cwd, exe, comm, acct, cmd, key, path, data when not
 *                        quoted) are decoded;
 *   event.module "auditd", event.dataset "auditd.log", event.kind "event",
 *   event.action         the record type lowercased ("syscall", "user_auth");
 *   event.sequence       the serial; @timestamp from the record's time;
 *   event.outcome        success=yes/no, res=success/failed (or 1/0),
 *                        "failure" for a denial;
 *   event.category       "authentication" for USER_AUTH, USER_LOGIN,
 *                        USER_ERR, USER_ACCT; "process" (event.type "start")
 *                        for a joined SYSCALL + EXECVE; none for a SYSCALL or
 *                        an EXECVE alone (an EXECVE lacks the executable, a
 *                        SYSCALL the command line: routing them as process
 *                        creation would let a rule's "not" filter match half
 *                        an event);
 *   event.type "denied", observer.product "selinux" or "apparmor" for an AVC
 *                        denial and an AppArmor DENIED;
 *   user.id (uid), user.audit.id (auid, unless unset), user.name (acct, else
 *   the enriched UID), source.ip (addr, when an address), process.pid (pid),
 *   process.parent.pid (ppid), process.executable (exe),
 *   process.working_directory (cwd), process.command_line (the EXECVE's
 *   arguments joined by spaces, else the decoded proctitle with its NULs as
 *   spaces), file.path (path, or the first name - an execve's program -
 *   except in an AVC, where name is file.name), rule.name (key).
 *   The first value of each wins (in a joined event: the first record's).
 * ev->decoder is set to "auditd".
 */
#ifndef HIKESHI_DECODE_DECODE_AUDITD_H
#define HIKESHI_DECODE_DECODE_AUDITD_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for one audit record.  Returns -ENOENT unless
 * the record starts (after an optional "node=NAME ", a kernel "[uptime] ",
 * "audit: " and "type=TYPE ") with "msg=audit(" or "audit(";
 * -EINVAL when the audit(TIME:SERIAL): stamp is malformed; -EAGAIN when
 * the record was held in ctx->stream to be joined (no event now: the
 * caller takes the complete events with decode_auditd_flush()).
 */
int decode_auditd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr);

/*
 * Takes one joined event held in stream `s` into `ev` (event_init()ed by
 * the caller; its raw becomes the records, one a line, in its arena): the
 * oldest complete one, or with `all` the oldest of any (the stream ended).
 * 0 when ev holds one; -ENOENT when none is held (complete, unless `all`);
 * -EINVAL or -ENOMEM when building it failed (the records are dropped from
 * the stream all the same, ev keeps the raw and what was added).  Callers
 * call it until -ENOENT after every record, and with `all` at the end.
 */
int decode_auditd_flush(struct event *ev, struct decode_stream *s, int all,
                        struct parse_err *reterr);

/* 1 when stream `s` (NULL: none) holds records, complete or not. */
int decode_auditd_holding(const struct decode_stream *s);

#endif
