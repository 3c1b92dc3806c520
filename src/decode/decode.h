/*
 * decode.h - turning a raw record into event fields.
 *
 * Every decoder has the same shape, decode_fn: it reads (p, len), adds
 * fields to `ev` and returns
 *    0         understood: fields added, ev->decoder set to its name;
 *   -ENOENT    not this format (nothing added; the caller tries others);
 *   -EINVAL    this format but malformed: *reterr says where and why
 *              (fields added before the fault may remain);
 *   -ENOMEM    the event's arena is exhausted;
 *   -EAGAIN    held: the record was kept in ctx->stream to be joined with
 *              the records after it (auditd's records of one system call);
 *              no event now, decode_stream_flush() gives the joined one.
 * Decoders never log, never allocate outside ev->arena (but for the
 * stream's own state, made on first use and freed with the stream), never
 * read past `len`, and never need a NUL terminator.
 *
 * Syslog header decoders (RFC 3164, RFC 5424) also set ev->msg/msg_len to the
 * MSG part; product decoders (sshd, sudo, netfilter, CEF, LEEF, JSON, ...)
 * are then run on the message.  decode_record() chooses and chains them.
 */
#ifndef HIKESHI_DECODE_DECODE_H
#define HIKESHI_DECODE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

struct event;

struct tz;

/* What a decoder keeps between the records of one stream (a file): the
 * header of a Zeek TSV log, whose rows mean nothing without it (see
 * decode_zeek_tsv.h).  Made by whoever builds the decode_ctx: the pipeline
 * keeps one per file.  decode_stream_new() returns NULL when out of memory;
 * decode_stream_free(NULL) is a no-op. */
struct decode_stream;
struct decode_stream *decode_stream_new(void);
void decode_stream_free(struct decode_stream *s);

/*
 * The events a stream's decoders held (a record decode_record() answered
 * -EAGAIN for), one per call, into `ev`, which the caller has event_init()ed
 * with no raw (the decoder sets it): the complete ones, or with `all` every
 * one.  Returns 0 (ev holds one: process it, then call again), -ENOENT
 * (nothing more), or a decoder's error for an event that could not be built
 * (ev keeps its raw: process it as an unparsed record, then call again).
 * Whoever keeps streams calls it after each record, and with `all` when the
 * stream ends, when input is idle and before freeing the stream, so that
 * no held record is lost.  s NULL: -ENOENT.
 */
int decode_stream_flush(struct decode_stream *s, int all, struct event *ev,
                        struct parse_err *reterr);

/* 1 when stream `s` holds records for decode_stream_flush(s, 1, ...). */
int decode_stream_holding(const struct decode_stream *s);

/* What a decoder needs besides the bytes: the references for inferring
 * missing parts of timestamps (see event/time.h), and the stream's state. */
struct decode_ctx {
    int64_t ref_us;      /* newest time a yearless timestamp may have: the
                            receive time, or a file's modification time */
    int64_t prev_us;     /* event time of the previous record of the same
                            stream (input + sender, or file); 0: unknown */
    const struct tz *tz; /* zone of timestamps without one; NULL: UTC */
    struct decode_stream *stream; /* the stream's decoder state, written by
                                     the decoders that keep some; NULL:
                                     none (each record stands alone) */
};

typedef int (*decode_fn)(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                         struct parse_err *reterr);

struct decoder {
    const char *name; /* as written in configuration: "rfc3164", "json", ... */
    decode_fn fn;
    const char *help; /* one line for --help and the man page */
};

/* The table of decoders, ending with a NULL name. */
extern const struct decoder decode_table[];

/* The decoder called `name`, or NULL.  "auto" is not in the table: pass
 * NULL to decode_record() for auto-detection. */
const struct decoder *decode_lookup(const char *name);

/*
 * Decodes ev->raw.  With `d` NULL the format is detected from the first
 * bytes; a syslog header is then followed by the product decoder that fits
 * the program name or the message.
 *
 * Event time, in this order of precedence (decode.c, decode_product()):
 *   1. the record's own time, set by the decoder of the record's content:
 *      Suricata EVE `timestamp`, ECS `@timestamp` and the other JSON time
 *      members (also when the JSON is relayed behind a syslog header),
 *      Windows `TimeCreated/@SystemTime`, the access log's "[10/Oct/2025:
 *      13:55:36 +0200]", CEF `rt`, LEEF `devTime`, web error log times,
 *      PAN-OS Generated/Receive Time, FortiGate eventtime= or date= time=;
 *   2. the syslog header's timestamp (RFC 5424, RFC 3164 with its year
 *      inferred from the stream, see event/time.h);
 *   3. the receive time (ev->has_time stays 0).  Returns 0 when some decoder understood
 * the record, -ENOENT when none did (the record stays, raw, counted as
 * unparsed), or another negative errno from the decoder.
 */
int decode_record(struct event *ev, const struct decoder *d, const struct decode_ctx *ctx,
                  struct parse_err *reterr);

#endif
