/*
 * decode_zeek_tsv.h - Zeek's default log format: tab-separated rows under
 * a header that names and types the columns.
 *
 *   #separator \x09
 *   #set_separator  ,
 *   #empty_field    (empty)
 *   #unset_field    -
 *   #path   dns
 *   #fields ts  uid  id.orig_h  id.orig_p ...
 *   #types  time  string  addr  port ...
 *   1521911720.865716  CqKst53mF3det3eDV9  10.47.1.100  41772 ...
 *
 * A row means nothing without its file's #fields line, so this is the one
 * decoder with state: the header lines are kept in the stream's
 * struct decode_stream (decode_ctx.stream; the pipeline keeps one per
 * file), and each row is decoded with the header its stream last gave.
 * A header line decodes to an event of its own: event.dataset
 * "zeek.PATH" once #path is known and zeek.header naming the directive
 * ("fields", "close", ...).
 *
 * A row gives the same fields as the same record in Zeek's JSON form
 * (decode_json): every column under its #fields name, then the ECS names
 * of decode_zeek.h.  #unset_field gives no field (JSON leaves the member
 * out); #empty_field gives no value for a set or vector (JSON: []) and
 * the empty string for a string; a set or vector gives one value per
 * element, split at #set_separator; bool T/F becomes "true"/"false";
 * "\xHH" and "\\" escapes are decoded; the ts column (type time, epoch
 * seconds) is the event time.
 */
#ifndef HIKESHI_DECODE_DECODE_ZEEK_TSV_H
#define HIKESHI_DECODE_DECODE_ZEEK_TSV_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/limits.h"

/* The header a stream last gave (the state behind struct decode_stream). */
struct decode_zeek_tsv_header {
    int opened;                           /* a #separator line was read: '#' lines are Zeek's */
    int fields_known;                     /* a #fields line was read: rows can be decoded */
    char sep;                             /* #separator (one byte) */
    char set_sep;                         /* #set_separator (one byte) */
    uint8_t empty_n, unset_n;             /* lengths of empty[] and unset[] */
    uint8_t path_n;                       /* length of path[]; 0: no #path yet */
    char empty[32];                       /* #empty_field */
    char unset[32];                       /* #unset_field */
    char path[64];                        /* #path: the log stream ("conn", "dns") */
    uint32_t ncols;                       /* columns in col_id[], <= LIMIT_ZEEK_COLUMNS */
    uint32_t ts_col;                      /* the ts column; LIMIT_ZEEK_COLUMNS: none */
    uint32_t col_id[LIMIT_ZEEK_COLUMNS];  /* interned names; FIELD_NONE: dropped */
    uint8_t col_type[LIMIT_ZEEK_COLUMNS]; /* enum zeek_tsv_type (the .c) */
};

/* Per-stream decoder state (declared opaque in decode.h). */
struct decode_stream {
    struct decode_zeek_tsv_header zeek;
    /* decode_auditd.c's records held to join an event's: made by it on
     * first use (one block), freed with the stream; NULL until then. */
    struct decode_auditd_join *auditd;
};

/*
 * A decode_fn (see decode.h).  A header line ('#') is kept in
 * ctx->stream (when there is one) and gives an event of its own; a row is
 * decoded with the stream's header.  Returns -ENOENT for a line that is
 * neither a header line nor a row of a stream whose header was read;
 * -EINVAL (with the offset) for a header this decoder cannot use (a
 * separator longer than one byte, more than LIMIT_ZEEK_COLUMNS columns,
 * #types not matching #fields) or a row whose column count differs from
 * the header's.  Sets ev->decoder to "zeek-tsv".
 */
int decode_zeek_tsv(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr);

/* 1 when auto-detection should hand (p, len) to decode_zeek_tsv: the line
 * opens a Zeek header ("#separator "), continues one the stream opened
 * ('#'), or the stream's #fields line has been read (every later line of
 * that file is Zeek's). */
int decode_zeek_tsv_claims(const struct decode_ctx *ctx, const char *p, size_t len);

#endif
