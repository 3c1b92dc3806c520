/*
 * decode_sshd.h - OpenSSH server messages (the syslog MSG part).
 *
 * Understood, with the event.action each gets:
 *   ssh_login            "Accepted|Failed METHOD for [invalid user ]U from IP port P ssh2",
 *                        "Invalid user U from IP [port P]",
 *                        "input_userauth_request: invalid user U",
 *                        "User U from IP not allowed because ...";
 *   ssh_disconnect       "Received disconnect from IP [port P]:N: reason",
 *                        "Disconnected from [user|invalid user|authenticating user U ]IP port P";
 *   ssh_connection_closed "Connection closed|reset by [... user U ]IP [port P]";
 *   ssh_break_in_attempt "reverse mapping checking getaddrinfo for H [IP] failed - POSSIBLE
 *                        BREAK-IN ATTEMPT!", "Address IP maps to H, but this does not map back
 *                        ...";
 *   ssh_max_auth_exceeded "Disconnecting: Too many authentication failures [for U]",
 *                        "Disconnecting [invalid|authenticating] user U IP port P: Too many
 *                        authentication failures", "maximum authentication attempts exceeded
 *                        for [invalid user ]U from IP port P ssh2";
 *   ssh_no_identification "Did not receive identification string from IP [port P]";
 *   pam_auth_failure     "pam_unix(sshd:auth): authentication failure; ... rhost=R user=U",
 *                        "PAM N more authentication failure[s]; ... rhost=R user=U";
 *   ssh_login (failure)  "authentication failure; ... rhost=R user=U" without the
 *                        "pam_unix(sshd:auth): " prefix: the "sshd(pam_unix)[pid]" tag of
 *                        old PAM, whose sshd wrote no "Failed password" line beside it;
 *   pam_user_unknown     "[pam_unix(sshd:auth): ]check pass; user unknown" (no user
 *                        name, no address; ssh.invalid_user "true"; the failure line
 *                        that follows it is the login);
 *   ssh_session_opened / ssh_session_closed
 *                        "[pam_unix(sshd:session): ]session opened|closed for user U ...".
 * "message repeated N times: [ M ]" is decoded as M, with ssh.repeat_count N.
 * A leading "error: " and a trailing " [preauth]" are ignored.
 *
 * Fields set: event.category "authentication", event.action (above),
 * event.outcome "success" (accepted, sessions), "failure" (failed and
 * invalid logins, max-auth, no identification, PAM failures) or "unknown"
 * (disconnects, closes, break-in warnings); and when present user.name,
 * source.ip (an address; a PAM rhost that is a name goes to source.domain,
 * as does the name in a break-in warning), source.port, ssh.method,
 * ssh.invalid_user "true", event.reason (disconnect / not-allowed reason),
 * ssh.repeat_count.  ev->decoder is set to "sshd".
 *
 * User names come from the network and may hold spaces or look like
 * " from 1.2.3.4 port 22"; the address and port are therefore taken from the
 * END of the message, where sshd writes them, never from the first match.
 */
#ifndef HIKESHI_DECODE_DECODE_SSHD_H
#define HIKESHI_DECODE_DECODE_SSHD_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for the message of an sshd record.  Returns
 * -ENOENT for sshd messages that are not one of the events above (e.g.
 * "Server listening on", "pam_unix(sshd:auth): check pass; user unknown"),
 * -EINVAL when a known message lacks its address or has a bad one or a bad
 * port.  `ctx` is unused.
 */
int decode_sshd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
