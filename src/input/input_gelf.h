/*
 * input_gelf.h - GELF 1.1 datagrams (Graylog Extended Log Format) to
 * messages: plain, zlib- or gzip-compressed, and chunked (internal to
 * src/input/; the UDP loop in input_syslog.c calls it per datagram).
 *
 * A chunked message arrives as up to 128 datagrams, each "0x1e 0x0f",
 * an 8-byte message id, a sequence number and a count, then its piece.
 * The pieces may come in any order, twice, or never; the reassembly table
 * keys a message by its id AND its sender (two senders picking the same id
 * do not mix), holds at most LIMIT_GELF_PENDING messages and
 * LIMIT_GELF_PENDING_BYTES bytes together, and drops a message that has
 * not completed within LIMIT_GELF_REASM_S seconds.  Every byte is the
 * sender's: counts, sequence numbers and compressed sizes are checked, and
 * nothing grows past max_msg.
 */
#ifndef HIKESHI_INPUT_INPUT_GELF_H
#define HIKESHI_INPUT_INPUT_GELF_H

#include <stddef.h>
#include <stdint.h>

struct gelf_reasm;

/* What the table did, for the input's counters and the tests. */
struct gelf_stats {
    uint64_t chunks;     /* chunk datagrams taken */
    uint64_t duplicates; /* chunks seen twice (ignored) */
    uint64_t expired;    /* messages dropped incomplete after the timeout */
    uint64_t evicted;    /* messages dropped to make room (table full) */
    uint64_t oversized;  /* messages over max_msg (chunked or inflated) */
    uint64_t malformed;  /* bad chunk headers, bad compression */
};

/* A table for messages of at most max_msg bytes (compressed or not).  NULL
 * when out of memory.  gelf_reasm_free(NULL) is a no-op. */
struct gelf_reasm *gelf_reasm_new(size_t max_msg);
void gelf_reasm_free(struct gelf_reasm *g);
const struct gelf_stats *gelf_reasm_stats(const struct gelf_reasm *g);

/*
 * Takes one datagram (d, len) from `peer` (an opaque key of the sender, up
 * to 18 bytes: family, address, port as the caller likes) received at
 * monotonic time now_us.  Returns
 *   1         a whole message: *ret_msg / *ret_len point into the table's
 *             buffer, valid until the next call;
 *   0         a chunk taken (or a duplicate ignored); the message is not
 *             whole yet;
 *   -EINVAL   a malformed chunk header or compressed body;
 *   -EMSGSIZE the message would exceed max_msg (dropped whole).
 *   -ENOMEM   out of memory (the datagram is dropped).
 * Plain messages are returned as they are (a trailing NUL or newline cut).
 * Expires overdue messages first.
 */
int gelf_reasm_datagram(struct gelf_reasm *g, const uint8_t *d, size_t len, const uint8_t *peer,
                        size_t peer_len, int64_t now_us, const char **ret_msg, size_t *ret_len);
/* Drops the messages older than the timeout at now_us; returns how many. */
size_t gelf_reasm_expire(struct gelf_reasm *g, int64_t now_us);
/* Messages in reassembly now. */
size_t gelf_reasm_pending(const struct gelf_reasm *g);

#endif
