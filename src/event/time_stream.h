/*
 * time_stream.h - what year inference remembers about each stream.
 *
 * A yearless timestamp (RFC 3164) takes the year that puts it nearest to the
 * previous record of the same stream (event/time.h).  A stream is one input
 * and one sender address, or one input and one file.  Senders are chosen by
 * whoever can reach a syslog port, so the table is a fixed array of
 * LIMIT_TIME_STREAMS slots indexed by a keyed hash: a flood of forged senders
 * can only overwrite slots (those streams then fall back to the receive
 * time), never grow memory, and without the per-table key it cannot aim at
 * one victim's slot.
 */
#ifndef HIKESHI_EVENT_TIME_STREAM_H
#define HIKESHI_EVENT_TIME_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct time_streams;

/* A stream that has been silent this long (by reference time) starts over:
 * its last record no longer says which year the next one is in. */
#define TIME_STREAM_STALE_US (30LL * 86400 * 1000000)

/* Live network input: a previous record further than this before the
 * receive time is no neighbour.  A sender's forged or replayed record with
 * an old full date would otherwise drag its next yearless lines years back,
 * out of triage's windows; the receive time alone dates live lines well.
 * Files (scan, followed) have no such limit: an archive's own dates are
 * what dates its yearless lines. */
#define TIME_STREAM_LIVE_PULL_US (2LL * 86400 * 1000000)

/* A new table with a random hash key; NULL on allocation failure. */
struct time_streams *time_streams_new(void);
/* Frees; NULL is a no-op. */
void time_streams_free(struct time_streams *ts);

/* The key of a stream: input index plus identity bytes (the sender's
 * address, or a file's path), hashed with the table's key. */
uint64_t time_streams_key(const struct time_streams *ts, uint32_t input_id, const void *id,
                          size_t id_len);

/* The last event time noted for `key`, or 0 when none is known or the
 * stream is stale at reference time `ref_us`. */
int64_t time_streams_last(const struct time_streams *ts, uint64_t key, int64_t ref_us);

/* Notes the event time `us` of a record of stream `key` at reference time
 * `ref_us`.  Times past ref_us + TIME_FUTURE_SKEW_US (a sender's clock in
 * the future, a forged date) are not noted: they would pull the next
 * yearless records after them. */
void time_streams_note(struct time_streams *ts, uint64_t key, int64_t us, int64_t ref_us);

#endif
