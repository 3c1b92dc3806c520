/*
 * decode_bind.h - BIND 9 named's query log and its denied-query lines (the
 * syslog MSG part of named, or a line of its own log file), written from
 * the BIND 9 Administrator Reference Manual's logging chapter and the
 * lines named writes for the queries and security categories:
 *
 *   [DD-Mon-YYYY HH:MM:SS.mmm ][queries: info: ]client [@0x7f.. ]IP#PORT
 *       [(NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS (SERVER-IP)
 *   ... client [@0x..] IP#PORT (NAME): [view V: ]query (cache) 'NAME/TYPE/CLASS' denied
 *   ... client [@0x..] IP#PORT (NAME): [view V: ]zone transfer 'ZONE/AXFR/IN' denied
 *
 * Fields: event.module "bind", event.dataset "bind.query" (routes to
 * Sigma's category: dns), event.kind "event", event.category "network",
 * event.action "dns_query" or "dns_query_denied" / "zone_transfer_denied"
 * (event.outcome "failure", event.type "denied"), source.ip, source.port,
 * destination.ip (the server address the query came in on),
 * network.transport ("tcp" when the flags hold T, else "udp"),
 * dns.question.name, dns.question.type, dns.question.class, bind.flags,
 * bind.view.  The file form's time is the event time.
 * ev->decoder is set to "bind".
 */
#ifndef HIKESHI_DECODE_DECODE_BIND_H
#define HIKESHI_DECODE_DECODE_BIND_H

#include <stddef.h>

#include "decode/decode.h"

/* A decode_fn (see decode.h) for one named message: -ENOENT for any
 * other message, never -EINVAL. */
int decode_bind(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
