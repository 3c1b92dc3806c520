/*
 * decode_vpn.h - remote-access servers' authentication and connection
 * messages (the syslog MSG part, chosen by the program's tag): OpenVPN,
 * strongSwan's charon, FreeRADIUS.  Written from each project's documented
 * or source-visible log lines (OpenVPN's ssl_verify.c and multi.c
 * messages, strongSwan's IKE/ENC/CFG messages, FreeRADIUS's "Auth:" lines
 * of radiusd.conf's log { auth = yes }).
 *
 * Common fields (decode_svc.h): event.module (openvpn, strongswan,
 * freeradius), event.dataset (MODULE.log), event.action, event.category
 * ("authentication" for logins, "network" for connections),
 * event.outcome, user.name, source.ip, source.port, destination.ip,
 * event.reason.
 *
 * openvpn (ev->decoder "openvpn"), behind the optional peer prefix
 *   "[CN/]IP:PORT " (source.ip, source.port, user.name from CN):
 *   "TLS Auth Error: Auth Username/Password verification failed for peer",
 *   "AUTH-PAM: BACKGROUND: user 'U' failed to authenticate: REASON",
 *   "WARNING: Failed running command (--auth-user-pass-verify): ...",
 *   "PLUGIN_CALL: POST .../PLUGIN_AUTH_USER_PASS_VERIFY status=1"
 *       auth_failure, failure;
 *   "TLS: Username/Password authentication succeeded for username 'U'"
 *       login, success;
 *   "VERIFY ERROR: depth=N, error=REASON: SUBJECT" cert_verify_failure,
 *       failure; "TLS Error: TLS handshake failed" tls_handshake_failure,
 *       failure (network);
 *   "[CN] Peer Connection Initiated with [AF_INET]IP:PORT" connected,
 *       success, user.name CN.
 * strongswan (ev->decoder "strongswan"), "NN[SUB] [<conn|N>] TEXT"
 *   (strongswan.connection from <conn|N>):
 *   "EAP method M failed for peer IP" eap_failure, failure;
 *   "tried N shared key(s) for 'A' - 'B', but MAC mismatched",
 *   "no shared key found for 'A' - 'B'" psk_failure, failure, user.name B;
 *   "received AUTHENTICATION_FAILED notify error" auth_failure, failure;
 *   "IKE_SA NAME[N] established between LIP[LID]...RIP[RID]" connected,
 *       success, source.ip RIP, user.name RID, destination.ip LIP;
 *   "IP is initiating a[n] ... IKE_SA" connection_attempt (network);
 *   "received EAP identity 'U'" eap_identity, user.name.
 * freeradius (ev->decoder "freeradius"), optionally behind radius.log's
 *   "Www Mmm dd hh:mm:ss yyyy : ":
 *   "Auth: [(N) ]Login incorrect[ (REASON)]: [USER[/...]] (from client NAS
 *       port P[ cli CALLING])" auth_failure, failure;
 *   "Auth: [(N) ]Invalid user[ (REASON)]: [USER] (...)" auth_failure;
 *   "Auth: [(N) ]Login OK: [USER] (...)" login, success.
 *   What follows a '/' in the brackets (a logged password when
 *   auth_badpass is on, or "<via Auth-Type = EAP>") is never kept as a
 *   field; freeradius.client is the NAS, freeradius.calling_station_id the
 *   cli value (also source.ip when an address).
 */
#ifndef HIKESHI_DECODE_DECODE_VPN_H
#define HIKESHI_DECODE_DECODE_VPN_H

#include <stddef.h>

#include "decode/decode.h"

/* decode_fns (see decode.h) for one message of each product; -ENOENT for a
 * shape they do not know, never -EINVAL. */
int decode_openvpn(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                   struct parse_err *reterr);
int decode_strongswan(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr);
int decode_freeradius(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                      struct parse_err *reterr);

#endif
