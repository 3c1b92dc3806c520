/*
 * decode_kv.h - generic key=value records (FortiGate, many appliances).
 *
 *   date=2024-01-02 time=03:04:05 srcip=10.0.0.1 action="deny" msg="a \"b\""
 *
 * Pairs are separated by blanks; keys are [A-Za-z0-9_.-]+; a value is
 * either double-quoted (with \" and \\ escapes) or runs to the next blank.
 * Words that are not pairs are skipped, but a record is only taken as
 * key=value when it has at least two pairs and the pairs cover more than
 * half of its non-blank bytes, so free text with one '=' is left alone.
 *
 * Fields set: each pair under its own key (a product field), and the ECS
 * aliases, first occurrence only: src/srcip/src_ip -> source.ip,
 * dst/dstip/dst_ip -> destination.ip, srcport/spt/src_port -> source.port,
 * dstport/dpt/dst_port -> destination.port, user/username/usr ->
 * user.name, proto/protocol -> network.transport (lowercased; 6/17/1 become
 * tcp/udp/icmp), action -> event.action.  Unquoted values are views into
 * the record; quoted ones are views too unless they hold escapes.
 * ev->decoder is set to "kv".
 */
#ifndef HIKESHI_DECODE_DECODE_KV_H
#define HIKESHI_DECODE_DECODE_KV_H

#include <stddef.h>

#include "decode/decode.h"

/*
 * A decode_fn (see decode.h).  Returns -ENOENT when the record is not
 * mostly key=value pairs (see above); -EINVAL when it is but a quoted value
 * is not terminated.  `ctx` is unused.
 */
int decode_kv(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
              struct parse_err *reterr);

#endif
