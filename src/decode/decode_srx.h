/*
 * decode_srx.h - Juniper SRX session logs (RT_FLOW), in the two forms Junos
 * writes them:
 *
 *   structured-data (RFC 5424, "set system syslog ... structured-data"):
 *     <14>1 2020-03-10T13:45:30.123+01:00 srx340 RT_FLOW - RT_FLOW_SESSION_CREATE
 *     [junos@2636.1.1.1.2.135 source-address="192.168.1.10" source-port="51234"
 *     destination-address="93.184.216.34" destination-port="443" ...] session created ...
 *   BSD syslog:
 *     Mar 10 13:45:30 srx340 RT_FLOW: RT_FLOW_SESSION_CREATE: session created
 *     192.168.1.10/51234->93.184.216.34/443 0x0 junos-https ...
 *
 * decode_rfc5424 already gives the structured data as
 * log.syslog.structured_data.junos@<enterprise id>.<param>; this decoder
 * maps those params (the ones Juniper's RT_FLOW reference lists for
 * SESSION_CREATE, SESSION_CLOSE and SESSION_DENY) to ECS.  Without
 * structured data, the BSD form's "session created|closed|denied
 * SRC/PORT->DST/PORT" gives the addresses and ports.
 *
 * Fields set: observer.vendor "Juniper", observer.product "SRX",
 * event.dataset "juniper.srx", event.category "network", event.action (the
 * message id: RT_FLOW_SESSION_CREATE, _CLOSE, _DENY), event.type and
 * event.outcome ("allowed"/"success" for CREATE and CLOSE, "denied"/
 * "failure" for DENY); from the structured data: source.ip, source.port,
 * destination.ip, destination.port, source.nat.ip/port and
 * destination.nat.ip/port (unless 0.0.0.0 / 0), network.transport (from
 * protocol-id 6/17/1/58), rule.name (policy-name), observer.ingress.zone
 * and observer.egress.zone, observer.ingress.interface.name
 * (packet-incoming-interface), user.name (username, unless N/A),
 * network.application (application, unless UNKNOWN), event.reason
 * (reason), source.bytes and destination.bytes (bytes-from-client/server),
 * srx.service_name, srx.session_id.  ev->decoder is set to "juniper-srx".
 */
#ifndef HIKESHI_DECODE_DECODE_SRX_H
#define HIKESHI_DECODE_DECODE_SRX_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h) for the MSG part of an RT_FLOW record, run
 * after the syslog header decoder (the structured data is read from the
 * event's fields; the MSG may be empty).  Returns -ENOENT unless the event
 * holds RT_FLOW_SESSION_ structured data from a junos@ element or the
 * message starts "RT_FLOW_SESSION_"; -EINVAL when an address is not one or
 * a port not a port.  `ctx` is unused.
 */
int decode_srx(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
               struct parse_err *reterr);

#endif
