/*
 * decode_sudo.h - sudo messages (the syslog MSG part).
 *
 * sudo logs one line per decision, the user right-aligned in 8 columns:
 *       alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l
 *       alice : 3 incorrect password attempts ; TTY=pts/0 ; ... ; COMMAND=...
 *         bob : user NOT in sudoers ; TTY=pts/1 ; ... ; COMMAND=...
 *         bob : command not allowed ; TTY=pts/1 ; ... ; COMMAND=...
 * and PAM adds
 *   pam_unix(sudo:session): session opened for user root[(uid=0)] by alice(uid=1000)
 *   pam_unix(sudo:session): session closed for user root
 *   pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 ... user=alice
 *   pam_unix(sudo:auth): auth could not identify password for [alice]
 *
 * event.action and event.category:
 *   sudo_command              process         (no reason before TTY=)
 *   sudo_auth_failure         authentication  ("N incorrect password
 *                                              attempt[s]", "a password is
 *                                              required", PAM auth failures)
 *   sudo_not_in_sudoers       authentication  ("user NOT in sudoers",
 *                                              "user NOT authorized on host")
 *   sudo_command_not_allowed  authentication  ("command not allowed")
 *   sudo_session_opened       process
 *   sudo_session_closed       process
 * event.outcome is "success" for commands and sessions, "failure" for the
 * others.
 *
 * Other fields, when present: user.name (the invoking user), user.effective.name
 * (USER=, or the session's target user), process.working_directory (PWD=),
 * process.command_line (COMMAND=, which runs to the end of the line because a
 * command may itself hold " ; "), sudo.tty (TTY=), sudo.group (GROUP=),
 * event.reason (the text before TTY= on a refusal), all views into the
 * message.  ev->decoder is set to "sudo".
 */
#ifndef HIKESHI_DECODE_DECODE_SUDO_H
#define HIKESHI_DECODE_DECODE_SUDO_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for the message of a sudo record.  Returns
 * -ENOENT for messages of other shapes (e.g. "unable to resolve host"),
 * -EINVAL for a "user : ..." decision line cut short (no COMMAND=) or with an
 * empty user.  `ctx` is unused.
 */
int decode_sudo(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
