/*
 * record.h - batches of raw records, the unit passed from inputs to the
 * pipeline through the bounded queue.
 *
 * A batch holds records from one input (one socket, one file), laid out
 * back to back in one heap block: no allocation per record.  A file batch
 * also carries the file's identity and the offset just past its last record,
 * which the pipeline saves in the store in the same transaction as the
 * records, so a restart neither loses nor repeats a line.
 */
#ifndef HIKESHI_INPUT_RECORD_H
#define HIKESHI_INPUT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util/queue.h"

#define RECORD_TRUNCATED 0x1 /* longer than max_line; the rest was dropped */
/* The input vouches for the sender: the input is trusted (INPUT_TRUST_TRUSTED)
 * and the sender is one it authenticated (a listed peer, a verified TLS
 * client certificate) or the input is a local file.  A UDP datagram may carry
 * it but stays spoofable: its source address proves nothing. */
#define RECORD_TRUSTED 0x2

/* Where a file input stands: the file's identity and the next byte to read. */
struct file_pos {
    uint64_t dev;
    uint64_t ino;
    uint64_t offset;
};

struct record {
    uint32_t len;     /* bytes of data */
    uint16_t flags;   /* RECORD_* */
    uint8_t peer_family; /* 0, 4 or 6: the sender's address family */
    uint8_t pad;
    uint8_t peer_addr[16]; /* sender's address (network order), network inputs */
    uint16_t peer_port;    /* sender's port, host order */
    int64_t recv_us;       /* receive time */
    char data[];           /* the record, not NUL-terminated */
};

struct rec_batch {
    struct queue_link link; /* owned by the queue while queued */
    uint32_t input_id;      /* index of the input in the configuration */
    uint32_t nrec;          /* records in the batch */
    size_t used;            /* bytes of buf used */
    size_t size;            /* bytes of buf allocated */
    int has_pos;            /* 1 for file inputs: pos is valid */
    /* Records in the archive once this batch was appended to it (the
     * pipeline's cursor after processing it); 0: not archived (no archive,
     * or appending failed).  Set by the archive's queue hook. */
    uint64_t arch_end;
    struct file_pos pos;    /* file identity and offset after the last record */
    char *path;             /* file inputs: the path read (heap, owned) */
    char *buf;              /* records, each 8-byte aligned (heap, owned) */
};

/* Allocates an empty batch for `input_id` able to hold `size` bytes of
 * records and headers.  NULL on allocation failure. */
struct rec_batch *rec_batch_new(uint32_t input_id, size_t size);
/* Frees a batch.  NULL is a no-op. */
void rec_batch_free(struct rec_batch *b);
/* The bounded queue of batches between the inputs and the pipeline: a
 * util/queue.h queue told where a batch's link is and how to free one.
 * NULL on allocation failure; queue_free() it. */
struct queue *rec_batch_queue_new(size_t max_batches);
/* Empties a batch for reuse. */
void rec_batch_clear(struct rec_batch *b);

/*
 * Appends a record; returns it (so the caller can set peer fields) or NULL
 * when the batch has no room for `len` bytes (hand it over and start a new
 * one).  A batch always accepts its first record, growing if needed.
 */
struct record *rec_batch_add(struct rec_batch *b, const char *data, size_t len, int64_t recv_us,
                             uint16_t flags);
/* Bytes one record of `len` bytes takes in a batch. */
size_t rec_batch_record_size(size_t len);

/* Iterates: first record, or NULL when empty; next after `r`, or NULL. */
struct record *rec_batch_first(const struct rec_batch *b);
struct record *rec_batch_next(const struct rec_batch *b, const struct record *r);

/* Sets the batch's file path (copied) and position.  0 or -ENOMEM. */
int rec_batch_set_pos(struct rec_batch *b, const char *path, const struct file_pos *pos);

#endif
