/*
 * decode_panos.h - Palo Alto Networks PAN-OS syslog, the CSV formats
 * (the syslog MSG part, or a bare line as a file export holds it):
 *
 *   1,2015/01/05 05:38:58,0006C110285,THREAT,vulnerability,1,2015/01/05 05:38:58,
 *   10.0.0.115,216.0.10.198,0.0.0.0,0.0.0.0,EX-Allow,example\user.name,,web-browsing,...
 *
 * Fields are read by position, as Palo Alto's "Syslog Field Descriptions"
 * list them per log type.  The positions followed are those of PAN-OS
 * 6.1 to 11.x for TRAFFIC and THREAT (each version only appends fields,
 * so an older line simply stops earlier), PAN-OS 6.1 to 11.x for SYSTEM
 * (7 to 16), and PAN-OS 9.1 to 11.x for GLOBALPROTECT (its own log type
 * since 9.1; before that GlobalProtect wrote SYSTEM lines of subtype
 * "globalprotect", which are read too).  docs/decoders.md has the table.
 *
 * Fields set, all types: observer.vendor "Palo Alto Networks",
 * observer.product "PAN-OS", observer.serial_number, panos.type (TRAFFIC
 * ...), panos.subtype, event.dataset (panos.traffic, panos.threat,
 * panos.system, panos.globalprotect; panos.other for the other types).
 * The event time is the firewall's Generated Time (position 6), else its
 * Receive Time (position 1): local time without a zone, read in the
 * context's zone; a time that is no date leaves the syslog header's.
 *
 * TRAFFIC and THREAT: source.ip, destination.ip, source.nat.ip and
 * destination.nat.ip (unless 0.0.0.0), rule.name (the security rule),
 * user.name (source user), destination.user.name, network.application,
 * observer.ingress.zone, observer.egress.zone,
 * observer.ingress.interface.name, observer.egress.interface.name,
 * panos.session_id, source.port, destination.port, source.nat.port and
 * destination.nat.port (unless 0), network.transport, event.action (the
 * action as written: allow, deny, drop, reset-both, alert, block-url ...),
 * event.type and event.outcome ("allowed"/"success" for allow and alert,
 * "denied"/"failure" for the others), event.category "network".
 * TRAFFIC also: network.bytes, source.bytes (sent), destination.bytes
 * (received), network.packets, panos.elapsed (seconds), panos.category,
 * panos.session_end_reason (7.0+).
 * THREAT also: event.category "intrusion_detection"; url.original (subtype
 * url) or file.name (file, virus, wildfire ...) or panos.misc; rule.id and
 * panos.threat.name from "name(id)"; panos.threat.category,
 * panos.severity, panos.direction, file.hash.sha256 (7.0+ WildFire),
 * user_agent.original, http.request.referrer, email.from.address,
 * email.subject, email.to.address (8.0+).
 *
 * SYSTEM: event.code and event.action (event ID), panos.object,
 * panos.module, panos.severity, panos.description; for the subtypes
 * "auth" and "globalprotect": user.name, source.ip and event.outcome read
 * from the description ("User name: X", "Login from: IP", "user 'X'",
 * "From: IP"; an event ID ending "-fail"/"-failed" is a failure, "-succ"/
 * "-success" a success), event.category "authentication".
 *
 * GLOBALPROTECT: event.action (event ID: portal-auth, gateway-connected
 * ...), panos.stage, panos.auth_method, panos.tunnel_type, user.name,
 * source.geo.region, host.hostname (machine name), source.ip (public IP),
 * panos.private_ip, panos.client_version, host.os.name, panos.reason, error.message, event.outcome
 * (status), panos.portal, panos.gateway, event.category "authentication".
 *
 * Other log types (CONFIG, HIP-MATCH, USERID, ...) give the common fields.
 * Values are views into the record, except quoted ones holding "" escapes.
 * ev->decoder is set to "panos".
 */
#ifndef HIKESHI_DECODE_DECODE_PANOS_H
#define HIKESHI_DECODE_DECODE_PANOS_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT unless the first field is a
 * number, the second a "YYYY/MM/DD hh:mm:ss" time and the fourth an upper
 * case log type; -EINVAL for a TRAFFIC or THREAT line shorter than its
 * action field, with an address that is not one, a port that is not one,
 * or an unterminated quote.  `ctx` is unused.
 */
int decode_panos(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr);

#endif
