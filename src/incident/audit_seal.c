/*
 * audit_seal.c - what an audit seal entry says and the bytes it signs
 * (see audit_seal.h).  The key chain and the signing are the archive's
 * (archive_key_sign), under a domain of the audit log's own.
 */
#include "incident/audit_seal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "util/hex.h"

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int audit_seal_details(const struct audit_seal *s, struct buf *b)
{
    char head[2 * AUDIT_SEAL_HASH_LEN + 1], signer[2 * ARCHIVE_PUBKEY_LEN + 1];
    char next[2 * ARCHIVE_PUBKEY_LEN + 1], sig[2 * ARCHIVE_SIG_BYTES + 1];

    hex_encode(s->head, sizeof(s->head), head);
    hex_encode(s->ks.signer, sizeof(s->ks.signer), signer);
    hex_encode(s->ks.next, sizeof(s->ks.next), next);
    hex_encode(s->ks.sig, sizeof(s->ks.sig), sig);
    return buf_printf(b,
                      "{\"epoch\":%" PRIu64 ",\"entries\":%" PRIu64
                      ",\"head\":\"%s\",\"signer\":\"%s\",\"next\":\"%s\",\"sig\":\"%s\"}",
                      s->ks.epoch, s->entries, head, signer, next, sig);
}

/* Exactly `lit` at *p. */
static int lit(const char **p, const char *end, const char *l)
{
    size_t n = strlen(l);

    if ((size_t)(end - *p) < n || memcmp(*p, l, n) != 0)
        return -EINVAL;
    *p += n;
    return 0;
}

/* A decimal without leading zeros ("0" itself allowed), at most 19 digits. */
static int num(const char **p, const char *end, uint64_t *ret)
{
    const char *s = *p;
    uint64_t v = 0;

    while (*p < end && **p >= '0' && **p <= '9' && *p - s < 19) {
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    if (*p == s || (*p - s > 1 && *s == '0') || (*p < end && **p >= '0' && **p <= '9'))
        return -EINVAL;
    *ret = v;
    return 0;
}

/* `n` bytes as 2n lowercase hex digits and a closing quote. */
static int hexq(const char **p, const char *end, unsigned char *out, size_t n)
{
    if ((size_t)(end - *p) < 2 * n + 1 || hex_decode_lower(*p, n, out) < 0 || (*p)[2 * n] != '"')
        return -EINVAL;
    *p += 2 * n + 1;
    return 0;
}

int audit_seal_parse(const char *p, size_t len, struct audit_seal *ret)
{
    const char *end = p + len;

    if (lit(&p, end, "{\"epoch\":") < 0 || num(&p, end, &ret->ks.epoch) < 0 ||
        lit(&p, end, ",\"entries\":") < 0 || num(&p, end, &ret->entries) < 0 ||
        lit(&p, end, ",\"head\":\"") < 0 || hexq(&p, end, ret->head, AUDIT_SEAL_HASH_LEN) < 0 ||
        lit(&p, end, ",\"signer\":\"") < 0 ||
        hexq(&p, end, ret->ks.signer, ARCHIVE_PUBKEY_LEN) < 0 || lit(&p, end, ",\"next\":\"") < 0 ||
        hexq(&p, end, ret->ks.next, ARCHIVE_PUBKEY_LEN) < 0 || lit(&p, end, ",\"sig\":\"") < 0 ||
        hexq(&p, end, ret->ks.sig, ARCHIVE_SIG_BYTES) < 0 || lit(&p, end, "}") < 0)
        return -EINVAL;
    return p == end ? 0 : -EINVAL;
}

void audit_seal_message(const struct audit_seal *s, uint8_t out[AUDIT_SEAL_MSG_LEN])
{
    put64(out, s->ks.epoch);
    put64(out + 8, s->entries);
    put64(out + 16, (uint64_t)s->time_us);
    memcpy(out + 24, s->head, AUDIT_SEAL_HASH_LEN);
    memcpy(out + 56, s->ks.signer, ARCHIVE_PUBKEY_LEN);
    memcpy(out + 88, s->ks.next, ARCHIVE_PUBKEY_LEN);
}

int audit_seal_sig_ok(const struct audit_seal *s)
{
    uint8_t msg[AUDIT_SEAL_MSG_LEN];

    audit_seal_message(s, msg);
    return archive_key_sig_ok(AUDIT_SEAL_DOMAIN, msg, sizeof(msg), &s->ks);
}
