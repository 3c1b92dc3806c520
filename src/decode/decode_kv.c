/*
 * decode_kv.c - generic key=value records.
 *
 * One scan reads the pairs into a small table and counts the bytes they
 * cover, so that free text is rejected before anything is added (-ENOENT
 * promises that nothing was added); the fields are then added from the
 * table.  A record with more pairs than the table holds is scanned again
 * from the first pair that did not fit.  Field names go through the
 * per-thread id cache (decode_fieldid.h): asking the dictionary for every
 * pair of every record was most of the cost (issue 24); a pair's name is
 * first compared with the name that followed its predecessor at its place
 * the last time (a memo per predecessor and place), and which ECS aliases the event holds is
 * kept in a mask instead of a search of its fields for each aliased pair.
 */
#include "decode/decode_kv.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"

/* Pairs read in the first scan; FortiOS writes 30 to 80 a line.  More are
 * read again in a second scan, not dropped. */
#define KV_PAIRS 96

/* The name that followed each name at each place (the first of a record
 * follows id 0) the last time, in slots by decode_fieldid_memo_slot():
 * the records of one source repeat their keys in a few orders. */
#define KV_MEMO 1024
static _Thread_local struct decode_fieldid_memo kv_memo[KV_MEMO];

struct kv_pair {
    const char *k, *v;
    size_t kn, vn;
    size_t begin, end; /* bytes of the pair (or skipped word) in the record */
    unsigned char quoted, esc, unterminated;
    unsigned char guessed;          /* 1: the key came from g, 0: g was filled with it */
    uint32_t alias;                 /* alias_id() of the key */
    struct decode_fieldid_guess *g; /* the guess that holds the key */
};

/* The guess of each key (decode_fieldid.h); aux is the key's alias_id(). */
#define KV_GUESS_BITS 10
static _Thread_local struct decode_fieldid_guess kv_guesses[1u << KV_GUESS_BITS];

static uint32_t alias_id(const char *k, size_t kn);

/* Byte classes: KV_KEY for [A-Za-z0-9_.-] (keys are read by
 * decode_util_scan_key), KV_BLANK for ' ' and '\t'. */
#define KV_KEY 1
#define KV_BLANK 2
static const unsigned char kv_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/*
 * Reads the pair or word starting at *pos (past any blanks).  Returns 1 for
 * a pair, 0 for a word that is not one, -1 at the end of the record.
 */
/* Inlined (as are add_value and add_pair): a call and its register saves
 * for each of a record's 25-35 pairs were a tenth of its instructions
 * (issue 24). */
__attribute__((always_inline)) static inline int
next_item(const char *p, size_t len, size_t *pos, struct kv_pair *kp,
          struct decode_fieldid_guess *g) /* the set of two */
{
    size_t i = *pos, k0;

    while (i < len && (kv_class[(unsigned char)p[i]] & KV_BLANK))
        i++;
    if (i >= len)
        return -1;
    kp->begin = k0 = i;
    if ((kp->kn = decode_fieldid_guess_key(g, p + k0, len - k0, '=', &kp->g))) {
        /* The guess's key: key bytes all (read so before), then '=', where
         * decode_util_scan_key() would end as well. */
        kp->guessed = 1;
        kp->alias = (uint32_t)kp->g->aux;
        i = k0 + kp->kn;
    } else {
        i = decode_util_scan_key(p, i, len);
        if (i == k0 || i >= len || p[i] != '=') {
            while (i < len && !(kv_class[(unsigned char)p[i]] & KV_BLANK))
                i++;
            kp->end = *pos = i;
            return 0;
        }
        kp->kn = i - k0;
        kp->guessed = 0;
        kp->alias = alias_id(p + k0, kp->kn);
        kp->g = decode_fieldid_guess_keep(g, p + k0, kp->kn, (int)kp->alias);
    }
    kp->k = p + k0;
    kp->quoted = kp->esc = kp->unterminated = 0;
    i++;
    if (i < len && p[i] == '"') {
        size_t v0 = ++i;

        kp->quoted = 1;
        /* The closing quote, 8 bytes a step to the next quote or
         * backslash; a backslash escapes the byte after it. */
        for (;;) {
            i = decode_util_scan_to2(p, i, len, '"', '\\');
            if (i >= len || p[i] == '"')
                break;
            if (i + 1 < len) {
                kp->esc = 1;
                i++;
            }
            i++;
        }
        if (i >= len) {
            kp->unterminated = 1;
            i = len;
        }
        kp->v = p + v0;
        kp->vn = (i < len ? i : len) - v0;
        if (i < len)
            i++; /* closing quote */
    } else {
        size_t v0 = i;
        i = decode_util_scan_to2(p, i, len, ' ', '\t'); /* KV_BLANK */
        kp->v = p + v0;
        kp->vn = i - v0;
    }
    kp->end = *pos = i;
    return 1;
}

static int keep(int r)
{
    return r == -ENOMEM ? r : 0;
}

__attribute__((always_inline)) static inline int add_value(struct event *ev, uint32_t id,
                                                           const struct kv_pair *kp)
{
    char *d;
    size_t o = 0;

    if (!kp->esc)
        return keep(event_add(ev, id, kp->v, kp->vn));
    if (!(d = arena_alloc(ev->arena, kp->vn)))
        return -ENOMEM;
    for (size_t i = 0; i < kp->vn; i++) {
        if (kp->v[i] == '\\' && i + 1 < kp->vn && (kp->v[i + 1] == '"' || kp->v[i + 1] == '\\'))
            i++;
        d[o++] = kp->v[i];
    }
    return keep(event_add(ev, id, d, o));
}

static int add_transport(struct event *ev, const char *v, size_t n)
{
    char *d;

    if (n == 1 && v[0] == '6')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "tcp", 3));
    if (n == 2 && v[0] == '1' && v[1] == '7')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "udp", 3));
    if (n == 1 && v[0] == '1')
        return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, "icmp", 4));
    if (!(d = arena_alloc(ev->arena, n ? n : 1)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
    return keep(event_add(ev, FIELD_NETWORK_TRANSPORT, d, n));
}

/* Compares the key with a literal of the same length (inlined: its size
 * is a constant). */
#define KV_IS(k, lit) (memcmp((k), lit, sizeof(lit) - 1) == 0)

/*
 * The ECS field a key is an alias of (see decode_kv.h), FIELD_NONE for
 * the others: by length, then the few names of that length, so that most
 * keys cost one switch.
 */
static uint32_t alias_id(const char *k, size_t kn)
{
    switch (kn) {
    case 3:
        if (KV_IS(k, "src"))
            return FIELD_SOURCE_IP;
        if (KV_IS(k, "dst"))
            return FIELD_DESTINATION_IP;
        if (KV_IS(k, "spt"))
            return FIELD_SOURCE_PORT;
        if (KV_IS(k, "dpt"))
            return FIELD_DESTINATION_PORT;
        if (KV_IS(k, "usr"))
            return FIELD_USER_NAME;
        return FIELD_NONE;
    case 4: return KV_IS(k, "user") ? FIELD_USER_NAME : FIELD_NONE;
    case 5:
        if (KV_IS(k, "srcip"))
            return FIELD_SOURCE_IP;
        if (KV_IS(k, "dstip"))
            return FIELD_DESTINATION_IP;
        if (KV_IS(k, "proto"))
            return FIELD_NETWORK_TRANSPORT;
        return FIELD_NONE;
    case 6:
        if (KV_IS(k, "src_ip"))
            return FIELD_SOURCE_IP;
        if (KV_IS(k, "dst_ip"))
            return FIELD_DESTINATION_IP;
        if (KV_IS(k, "action"))
            return FIELD_EVENT_ACTION;
        return FIELD_NONE;
    case 7:
        if (KV_IS(k, "srcport"))
            return FIELD_SOURCE_PORT;
        if (KV_IS(k, "dstport"))
            return FIELD_DESTINATION_PORT;
        return FIELD_NONE;
    case 8:
        if (KV_IS(k, "src_port"))
            return FIELD_SOURCE_PORT;
        if (KV_IS(k, "dst_port"))
            return FIELD_DESTINATION_PORT;
        if (KV_IS(k, "username"))
            return FIELD_USER_NAME;
        if (KV_IS(k, "protocol"))
            return FIELD_NETWORK_TRANSPORT;
        return FIELD_NONE;
    default: return FIELD_NONE;
    }
}

/* The bit of an alias target in a mask of those the event holds, 0 for
 * any other id. */
static unsigned alias_bit(uint32_t id)
{
    switch (id) {
    case FIELD_SOURCE_IP: return 1u << 0;
    case FIELD_DESTINATION_IP: return 1u << 1;
    case FIELD_SOURCE_PORT: return 1u << 2;
    case FIELD_DESTINATION_PORT: return 1u << 3;
    case FIELD_USER_NAME: return 1u << 4;
    case FIELD_NETWORK_TRANSPORT: return 1u << 5;
    case FIELD_EVENT_ACTION: return 1u << 6;
    default: return 0;
    }
}

/* *have: the alias targets the event holds, kept as fields are added
 * (it answers what event_get() of each would, without searching). */
__attribute__((always_inline)) static inline int add_alias(struct event *ev,
                                                           const struct kv_pair *kp, unsigned *have)
{
    uint32_t id, n0 = ev->nfields;
    unsigned bit;
    int r;

    if (kp->vn == 0 || (id = kp->alias) == FIELD_NONE)
        return 0;
    bit = alias_bit(id);
    if (*have & bit)
        return 0; /* first occurrence wins */
    if (id == FIELD_NETWORK_TRANSPORT && !kp->esc)
        r = add_transport(ev, kp->v, kp->vn);
    else
        r = add_value(ev, id, kp);
    if (ev->nfields != n0)
        *have |= bit;
    return r;
}

/* Adds the pair, the record's place-th, under its own key and its ECS
 * alias; *prev: the id of the pair before it (0 for none), then its own. */
__attribute__((always_inline)) static inline int add_pair(struct event *ev,
                                                          const struct kv_pair *kp, size_t place,
                                                          uint32_t *prev, uint32_t gen,
                                                          unsigned *have, int guessed)
{
    uint32_t id, n0 = ev->nfields;
    int r;

    /* The id the key's guess holds, if it still holds this key: another
     * pair of the record may have taken its slot since, but only one whose
     * key was not guessed (a guess that hits changes nothing), so with
     * every key guessed (`guessed`) there is nothing to compare. */
    if (guessed || decode_fieldid_guess_is(kp->g, kp->k, kp->kn))
        id = decode_fieldid_guess_id(kp->g, gen, kv_memo, KV_MEMO, *prev, place, kp->k, kp->kn);
    else
        id = decode_fieldid_memo_intern(&kv_memo[decode_fieldid_memo_slot(*prev, place, KV_MEMO)],
                                        gen, kp->k, kp->kn);
    *prev = id;

    if ((r = add_value(ev, id, kp)) < 0)
        return r;
    if (ev->nfields != n0)
        *have |= alias_bit(id); /* a key spelt as the ECS name itself */
    return add_alias(ev, kp, have);
}

int decode_kv(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
              struct parse_err *reterr)
{
    struct kv_pair tab[KV_PAIRS], kp;
    size_t pos = 0, pairs = 0, covered = 0, words = 0, bad_off = 0, resume = 0;
    int t, unterminated = 0, r;
    unsigned have = 0;
    uint32_t gen, prev = 0, placek = 0;
    uint32_t tok = 0; /* the previous pair's guess's tok */
    int guessed = 1;  /* every key of the record came from its guess */

    (void)ctx;
    /* Read straight into the table's next slot while it has one (a word
     * there is overwritten by the next item): no copy of each pair. */
    for (;;) {
        struct kv_pair *d = pairs < KV_PAIRS ? &tab[pairs] : &kp;

        if ((t = next_item(p, len, &pos, d,
                           decode_fieldid_guess_for(kv_guesses, KV_GUESS_BITS, tok + placek))) < 0)
            break;
        if (t == 1) {
            tok = d->g->tok;
            placek += DECODE_FIELDID_GUESS_K;
            guessed &= d->guessed;
            if (pairs < KV_PAIRS)
                resume = d->end;
            pairs++;
            covered += d->end - d->begin;
            if (d->unterminated) {
                unterminated = 1;
                bad_off = d->begin;
            }
        } else {
            words += d->end - d->begin;
        }
    }
    if (pairs < 2 || covered <= words)
        return -ENOENT;
    if (unterminated) {
        parse_err_set(reterr, bad_off, "unterminated quoted value");
        return -EINVAL;
    }
    /* The aliases an earlier decoder's fields already hold. */
    for (uint32_t i = 0; i < ev->nfields; i++)
        have |= alias_bit(ev->fields[i].id);
    gen = field_generation();
    for (size_t i = 0; i < pairs && i < KV_PAIRS; i++)
        if ((r = add_pair(ev, &tab[i], i, &prev, gen, &have, guessed)) < 0)
            return r;
    /* The pairs the table could not hold: after the last one it did, their
     * guesses compared before use. */
    pos = resume;
    if (pairs > KV_PAIRS) {
        tok = tab[KV_PAIRS - 1].g->tok;
        placek = (uint32_t)KV_PAIRS * DECODE_FIELDID_GUESS_K;
    }
    for (size_t i = KV_PAIRS;
         pairs > KV_PAIRS &&
         (t = next_item(p, len, &pos, &kp,
                        decode_fieldid_guess_for(kv_guesses, KV_GUESS_BITS, tok + placek))) >= 0;) {
        if (t != 1)
            continue;
        tok = kp.g->tok;
        placek += DECODE_FIELDID_GUESS_K;
        if ((r = add_pair(ev, &kp, i++, &prev, gen, &have, 0)) < 0)
            return r;
    }
    ev->decoder = "kv";
    return 0;
}
