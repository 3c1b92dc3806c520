/*
 * decode_gelf.h - GELF 1.1 messages (Graylog Extended Log Format): the JSON
 * object a GELF sender writes, read by the JSON decoder, then its names
 * given their ECS meaning.
 *
 *   short_message       -> message (full_message stays under its name)
 *   host                -> host.name
 *   timestamp           -> the event time (epoch seconds, with decimals)
 *   level (0-7)         -> log.syslog.severity.code, and log.level by name
 *   _name (additional)  -> name too, unless the event already has it
 *                          (_source_ip gives source_ip, _user gives user)
 */
#ifndef HIKESHI_DECODE_DECODE_GELF_H
#define HIKESHI_DECODE_DECODE_GELF_H

#include <stddef.h>

#include "decode/decode.h"

/* A decode_fn (see decode.h): -ENOENT when the record is not a JSON object
 * with a short_message (GELF's one required text), else what decode_json
 * returns; sets ev->decoder to "gelf". */
int decode_gelf(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr);

#endif
