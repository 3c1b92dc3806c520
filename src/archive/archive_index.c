/*
 * archive_index.c - a block's index: a Bloom filter of what its records'
 * raw text holds, so a hunt can skip a block that cannot contain a word.
 *
 * A hunt's words match as case-insensitive substrings (docs/hunt.md), so a
 * filter of whole words would be unsound: "10.1.2.3" is inside
 * "110.1.2.34".  What a substring does imply: split the lowered text into
 * runs of token bytes [a-z0-9._@:-]; a query run of 6 or more bytes lies
 * inside one run of the text, so every 6-byte window (gram) of it is a gram
 * of that text run; a query run of 1-5 bytes that the query itself bounds
 * on both sides by non-token bytes is a whole text run.  The filter holds
 * every gram of every text run and every run shorter than a gram.
 *
 * Built at append time without decoding: each record's raw bytes are
 * lowered and cut into runs once; a run seen before in the block (by a
 * hash keyed per builder, so a sender cannot forge a collision that would
 * hide a run) adds nothing.  A block whose entries pass the cap gets no
 * index and is never skipped.  The filter's own hash is fixed: readers and
 * the verifier recompute it.
 *
 * Why 6: 5-byte grams of addresses ("0.1.1", ".1.14") are in most blocks
 * of a busy network's logs; 6 skipped 72 of 74 blocks for one address in
 * hikeshi-gen's syslog where 5 skipped 38, at no larger an index (8 skips
 * 73, but then a 6- or 7-letter bare word skips nothing).  8 bits an entry
 * and 5 hashes: about 2 % false positives a gram, and a query has several.
 *
 * Index bytes (docs/archive.md): u8 version 1, u8 k (hashes per entry),
 * u16 0, u32 bit count (a multiple of 64, 512..2^20), then the bits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "archive/archive_priv.h"

#define GRAM 6
#define IX_VERSION 1
#define IX_K 5
#define IX_BITS_PER_ENTRY 8
#define IX_BITS_MIN 512
#define IX_BITS_MAX (1u << 20)
#define IX_ENTRIES_MAX (IX_BITS_MAX / IX_BITS_PER_ENTRY)

/* Token bytes after lowering: letters, digits and . _ @ : - */
static const uint8_t tok_class[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['.'] = 1, ['_'] = 1,
    ['@'] = 1, [':'] = 1, ['-'] = 1,
};

static inline uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* An entry: up to 5 lowered bytes and their count, packed (distinct runs
 * and grams give distinct values, no hashing needed yet). */
static uint64_t entry_pack(const uint8_t *s, size_t n)
{
    uint64_t v = (uint64_t)n << 56;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)lower(s[i]) << (8 * i);
    return v;
}

/* Bit i of entry v's k: double hashing over one 64-bit mix, brought into
 * [0, nbits) by a multiply and shift (any size, not only powers of two). */
static inline uint32_t bit_at(uint32_t h1, uint32_t h2, unsigned i, uint32_t nbits)
{
    return (uint32_t)(((uint64_t)(uint32_t)(h1 + i * h2) * nbits) >> 32);
}

static void bits_set(uint8_t *bits, uint32_t nbits, unsigned k, uint64_t v)
{
    uint64_t h = mix64(v);
    uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

    for (unsigned i = 0; i < k; i++) {
        uint32_t p = bit_at(h1, h2, i, nbits);

        bits[p >> 3] |= (uint8_t)(1u << (p & 7));
    }
}

static int bits_test(const uint8_t *bits, uint32_t nbits, unsigned k, uint64_t v)
{
    uint64_t h = mix64(v);
    uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

    for (unsigned i = 0; i < k; i++) {
        uint32_t p = bit_at(h1, h2, i, nbits);

        if (!(bits[p >> 3] & (1u << (p & 7))))
            return 0;
    }
    return 1;
}

/* ---- building ---- */

static int set_grow(struct archive_index_builder *b)
{
    size_t ncap = b->set_cap ? b->set_cap * 2 : 1024;
    uint64_t *ns = calloc(ncap, sizeof(*ns));

    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < b->set_cap; i++) {
        uint64_t h = b->set[i];

        if (h) {
            size_t j = (size_t)h & (ncap - 1);

            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = h;
        }
    }
    free(b->set);
    b->set = ns;
    b->set_cap = ncap;
    return 0;
}

/* 1 when the run was not in the block yet (and now is), 0 when it was. */
static int set_add(struct archive_index_builder *b, uint64_t h)
{
    size_t j;

    h |= 1; /* 0 marks a free slot */
    if ((b->set_n + 1) * 2 > b->set_cap && set_grow(b) < 0)
        return -ENOMEM;
    j = (size_t)h & (b->set_cap - 1);
    while (b->set[j]) {
        if (b->set[j] == h)
            return 0;
        j = (j + 1) & (b->set_cap - 1);
    }
    b->set[j] = h;
    b->set_n++;
    return 1;
}

static int entry_push(struct archive_index_builder *b, uint64_t v)
{
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        uint64_t *ne;

        if (ncap > IX_ENTRIES_MAX)
            ncap = IX_ENTRIES_MAX;
        ne = realloc(b->entries, ncap * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        b->entries = ne;
        b->cap = ncap;
    }
    b->entries[b->n++] = v;
    return 0;
}

/* A run of the text: its entries, unless the block has seen it. */
static int add_run(struct archive_index_builder *b, const uint8_t *s, size_t n, uint64_t h)
{
    int r = set_add(b, h);

    if (r <= 0)
        return r;
    if (n < GRAM) {
        if (b->n >= IX_ENTRIES_MAX) {
            b->over = 1;
            return 0;
        }
        return entry_push(b, entry_pack(s, n));
    }
    if (b->n + (n - GRAM + 1) > IX_ENTRIES_MAX) {
        b->over = 1;
        return 0;
    }
    for (size_t i = 0; i + GRAM <= n; i++)
        if ((r = entry_push(b, entry_pack(s + i, GRAM))) < 0)
            return r;
    return 0;
}

int archive_index_builder_init(struct archive_index_builder *b)
{
    memset(b, 0, sizeof(*b));
    randombytes_buf(&b->seed, sizeof(b->seed));
    return 0;
}

void archive_index_builder_reset(struct archive_index_builder *b)
{
    if (b->set && b->set_n)
        memset(b->set, 0, b->set_cap * sizeof(*b->set));
    b->set_n = 0;
    b->n = 0;
    b->over = 0;
}

void archive_index_builder_done(struct archive_index_builder *b)
{
    free(b->set);
    free(b->entries);
    memset(b, 0, sizeof(*b));
}

int archive_index_builder_add(struct archive_index_builder *b, const uint8_t *raw, size_t len)
{
    size_t i = 0;
    int r;

    while (i < len && !b->over) {
        size_t start;
        uint64_t h;

        while (i < len && !tok_class[raw[i]])
            i++;
        if (i == len)
            break;
        start = i;
        h = b->seed;
        while (i < len && tok_class[raw[i]]) {
            h = (h ^ lower(raw[i])) * 0x100000001b3ULL;
            i++;
        }
        /* The length and a keyed finish: FNV alone is easy to collide. */
        h = mix64(h ^ mix64(b->seed + (uint64_t)(i - start)));
        if ((r = add_run(b, raw + start, i - start, h)) < 0)
            return r;
    }
    return 0;
}

size_t archive_index_builder_size(const struct archive_index_builder *b)
{
    size_t bits;

    if (b->over || b->n == 0)
        return 0;
    bits = (b->n * IX_BITS_PER_ENTRY + 63) / 64 * 64; /* n <= IX_ENTRIES_MAX */
    if (bits < IX_BITS_MIN)
        bits = IX_BITS_MIN;
    return ARCHIVE_INDEX_HDR_LEN + bits / 8;
}

void archive_index_builder_write(const struct archive_index_builder *b, uint8_t *out, size_t len)
{
    uint32_t bits = (uint32_t)((len - ARCHIVE_INDEX_HDR_LEN) * 8);

    memset(out, 0, len);
    out[0] = IX_VERSION;
    out[1] = IX_K;
    archive_put32(out + 4, bits);
    for (size_t i = 0; i < b->n; i++)
        bits_set(out + ARCHIVE_INDEX_HDR_LEN, bits, IX_K, b->entries[i]);
}

/* ---- reading ---- */

int archive_index_decode(const uint8_t *buf, size_t len, struct archive_index *ret,
                         const char **reterr)
{
    uint32_t bits;

    if (len < ARCHIVE_INDEX_HDR_LEN || buf[0] != IX_VERSION || buf[2] != 0 || buf[3] != 0) {
        *reterr = "block index of an unknown version";
        return -EBADMSG;
    }
    bits = archive_get32(buf + 4);
    if (buf[1] == 0 || buf[1] > 16 || bits < IX_BITS_MIN || bits > IX_BITS_MAX || bits % 64 ||
        len != ARCHIVE_INDEX_HDR_LEN + bits / 8) {
        *reterr = "block index sizes out of bounds";
        return -EBADMSG;
    }
    ret->bits = buf + ARCHIVE_INDEX_HDR_LEN;
    ret->nbits = bits;
    ret->k = buf[1];
    return 0;
}

int archive_index_may_contain(const struct archive_index *ix, const char *text, size_t len)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;

    while (i < len) {
        size_t start;

        while (i < len && !tok_class[s[i]])
            i++;
        if (i == len)
            break;
        start = i;
        while (i < len && tok_class[s[i]])
            i++;
        if (i - start >= GRAM) {
            for (size_t j = start; j + GRAM <= i; j++)
                if (!bits_test(ix->bits, ix->nbits, ix->k, entry_pack(s + j, GRAM)))
                    return 0;
        } else if (start > 0 && i < len) {
            /* Bounded on both sides within the text: a whole run. */
            if (!bits_test(ix->bits, ix->nbits, ix->k, entry_pack(s + start, i - start)))
                return 0;
        }
    }
    return 1;
}
