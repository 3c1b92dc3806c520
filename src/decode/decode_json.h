/*
 * decode_json.h - one JSON object per record (JSON lines).
 *
 * Every member of the object becomes a field named by its flattened path:
 * {"alert":{"signature_id":2001}} gives alert.signature_id = "2001".
 * Strings are their unescaped text, numbers their text as written, true and
 * false the words "true"/"false".  An array of scalars gives repeated values
 * of one field, in order; an array of objects flattens every element under
 * the same prefix, so each member name repeats.  A JSON null adds nothing:
 * Sigma tells "field is null" from "field is the string null", and an absent
 * field is how the matcher sees null.  Empty objects and arrays add nothing.
 *
 * Besides the product fields, known shapes get Elastic Common Schema aliases
 * (the originals stay, since Sigma rules name them directly):
 *   Suricata EVE (has event_type): source.ip/port, destination.ip/port,
 *     network.transport (lowercased proto), event.dataset "suricata.TYPE";
 *     alerts: rule.name, rule.id, rule.category, event.severity,
 *     event.kind "alert"; http: url.original (http.url), url.domain
 *     (http.hostname), url.path, url.query, http.request.method,
 *     http.response.status_code, user_agent.original.
 *   Zeek (a _path or @stream member, or ts with id.orig_h, id_orig_h as
 *     some exporters write it, or fuid; also the Kafka writer's
 *     {"STREAM":{"ts":...}}, whose members are taken unprefixed): the ECS
 *     names of decode_zeek.h, the same as the TSV form's, with
 *     event.dataset "zeek.STREAM" from the wrapper, _path or @stream, else
 *     inferred from the stream's own columns.
 *   Windows event JSON (has EventID): event.code, host.name (Hostname or
 *     Computer), winlog.channel (Channel), process.command_line
 *     (CommandLine), process.executable (Image), user.name (TargetUserName).
 * The event time is taken from the first of @timestamp, timestamp,
 * TimeCreated, EventTime, ts that parses as ISO 8601 or as epoch seconds
 * (event_set_time), which also replaces a textual @timestamp member.
 *
 * Names longer than LIMIT_FIELD_NAME_LEN are dropped and counted in
 * ev->dropped, as are fields past LIMIT_EVENT_FIELDS.
 */
#ifndef HIKESHI_DECODE_DECODE_JSON_H
#define HIKESHI_DECODE_DECODE_JSON_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record does not
 * start, after whitespace, with '{'; -EINVAL with the byte offset for
 * anything RFC 8259 rejects (bad escapes, lone surrogates, invalid UTF-8,
 * control characters in strings, trailing data) and for nesting deeper than
 * LIMIT_JSON_DEPTH; fields added before the fault remain.  Sets
 * ev->decoder to "json".  `ctx` supplies the zone for ISO times without one.
 */
int decode_json(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
