/*
 * cluster_rec.h - a record as it travels on the stream (docs/scale.md,
 * "On the wire"): the raw bytes as the message's data, the receive
 * metadata in one header, the record id as the message id, and the
 * partition its entity hashes to.  No NATS here: this part is unit-tested
 * and fuzzed on its own (the analyser parses headers that any client with
 * publish rights on the subject could have written).
 */
#ifndef HIKESHI_CLUSTER_CLUSTER_REC_H
#define HIKESHI_CLUSTER_CLUSTER_REC_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

/* Header names. */
#define CLUSTER_HDR_META "Hikeshi-Meta"
#define CLUSTER_HDR_INPUT "Hikeshi-Input"
/* "NAME:NUMBER": a node name (64) and a record number (20 digits). */
#define CLUSTER_REC_ID_MAX (64 + 1 + 20)
/* "v1 RECV_US FLAGS FAMILY PORT ADDRHEX" */
#define CLUSTER_META_MAX 96

struct cluster_meta {
    int64_t recv_us;
    uint16_t flags;      /* RECORD_TRUNCATED | RECORD_TRUSTED only */
    uint8_t peer_family; /* 0, 4 or 6 */
    uint16_t peer_port;
    uint8_t peer_addr[16];
};

/* Writes the metadata header's value (NUL-terminated) into out[CLUSTER_META_MAX]. */
void cluster_meta_format(const struct cluster_meta *m, char out[CLUSTER_META_MAX]);
/*
 * Parses a metadata header value of `len` bytes.  0, or -EINVAL with
 * reterr's offset and reason: an unknown version, a field that is not a
 * number in range, a family other than 0, 4 or 6, an address of the wrong
 * length or not hex, flags outside the two known.
 */
int cluster_meta_parse(const char *s, size_t len, struct cluster_meta *ret,
                       struct parse_err *reterr);
/* 1 when `id` (`len` bytes) is a record id NAME:NUMBER with NAME of
 * [A-Za-z0-9_-], 1..64 bytes, and NUMBER 1..20 digits; else 0. */
int cluster_rec_id_ok(const char *id, size_t len);
/* 1 when `s` is a usable input name (1..255 printable bytes, no spaces). */
int cluster_input_name_ok(const char *s, size_t len);

/* The partition key: a SipHash key derived from the stream's name, the
 * same on every collector so that one entity always lands in one
 * partition, and unknown to a sender who cannot read the configuration. */
struct cluster_hash {
    unsigned char key[16];
};
void cluster_hash_init(struct cluster_hash *h, const char *stream);
/* The partition (0..n-1) of the entity `ent` (`len` bytes); n >= 1. */
uint32_t cluster_partition(const struct cluster_hash *h, const void *ent, size_t len, uint32_t n);

#endif
