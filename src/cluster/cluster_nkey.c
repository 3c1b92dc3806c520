/*
 * cluster_nkey.c - a NATS user seed, alone or in a .creds file, to its
 * public key (cluster_nkey.h).
 *
 * The file is a secret written by someone else's tool: every byte is
 * checked (length, alphabet, unused bits, CRC, kind) and nothing of it is
 * quoted back; the decoded bytes are wiped.
 */
#include "cluster/cluster_nkey.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

/* The prefix bytes: a seed's first byte, and the kind "user". */
#define NKEY_PREFIX_SEED (18u << 3)
#define NKEY_PREFIX_USER (20u << 3)

#define NKEY_SEED_RAW 36   /* 2 prefix bytes, 32, CRC */
#define NKEY_PUBLIC_RAW 35 /* 1 prefix byte, 32, CRC */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection. */
static uint16_t crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* base32 of n bytes (no padding) into out, NUL-terminated. */
static void b32_encode(const unsigned char *p, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[j++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[j++] = b32[(acc << (5 - bits)) & 31];
    out[j] = '\0';
}

/* n base32 characters into exactly `want` bytes; the bits left over must
 * be zero (one spelling per key).  0 or -EINVAL. */
static int b32_decode(const char *s, size_t n, unsigned char *out, size_t want)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        const char *at = s[i] ? strchr(b32, s[i]) : NULL;

        if (!at)
            return -EINVAL;
        acc = (acc << 5) | (uint32_t)(at - b32);
        bits += 5;
        if (bits >= 8) {
            if (j == want)
                return -EINVAL;
            out[j++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
        acc &= (1u << bits) - 1;
    }
    /* 58 characters carry 290 bits: the last 2 are padding */
    return j == want && acc == 0 ? 0 : -EINVAL;
}

static int blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int cluster_nkey_user_public(const char *text, size_t len, char pub[CLUSTER_NKEY_PUBLIC_LEN + 1],
                             const char **why)
{
    unsigned char raw[NKEY_SEED_RAW], pk[crypto_sign_PUBLICKEYBYTES],
        sk[crypto_sign_SECRETKEYBYTES], out[NKEY_PUBLIC_RAW];
    size_t a = 0, b = len;
    uint16_t crc;
    int r = -EINVAL;

    pub[0] = '\0';
    while (a < b && blank(text[a]))
        a++;
    while (b > a && blank(text[b - 1]))
        b--;
    if (b - a != CLUSTER_NKEY_SEED_LEN) {
        *why = b == a ? "empty" : "not one NKey seed (SU and 56 more base32 characters)";
        return -EINVAL;
    }
    if (b32_decode(text + a, b - a, raw, sizeof(raw)) < 0) {
        *why = "not base32 (A-Z and 2-7 only): not an NKey seed";
        goto out;
    }
    crc = (uint16_t)(raw[34] | (raw[35] << 8));
    if (crc16(raw, 34) != crc) {
        *why = "its checksum does not match: a damaged NKey seed";
        goto out;
    }
    if ((raw[0] & 0xf8) != NKEY_PREFIX_SEED) {
        *why = "not an NKey seed (it does not start with S)";
        goto out;
    }
    if ((unsigned)(((raw[0] & 7) << 5) | (raw[1] >> 3)) != NKEY_PREFIX_USER || (raw[1] & 7)) {
        *why = "the seed of an NKey that is not a user's (a user seed starts with SU)";
        goto out;
    }
    if (crypto_sign_seed_keypair(pk, sk, raw + 2) != 0) {
        *why = "libsodium could not derive the key";
        goto out;
    }
    out[0] = NKEY_PREFIX_USER;
    memcpy(out + 1, pk, 32);
    crc = crc16(out, 33);
    out[33] = (unsigned char)(crc & 0xff);
    out[34] = (unsigned char)(crc >> 8);
    b32_encode(out, sizeof(out), pub);
    r = 0;
out:
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(sk, sizeof(sk));
    return r;
}

/* The section of a .creds text between the marker lines ...BEGIN... and
 * ...END... (dashes around each), or NULL. */
static const char *creds_section(const char *text, size_t len, const char *begin, const char *end,
                                 size_t *slen)
{
    const char *a = memmem(text, len, begin, strlen(begin)), *b;

    if (!a)
        return NULL;
    a += strlen(begin);
    if (!(b = memmem(a, len - (size_t)(a - text), end, strlen(end))))
        return NULL;
    while (b > a && b[-1] == '-')
        b--;
    *slen = (size_t)(b - a);
    return a;
}

int cluster_nkey_creds_user_public(const char *text, size_t len,
                                   char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], const char **why)
{
    const char *jwt, *seed = NULL;
    size_t jlen = 0, slen = 0;

    pub[0] = '\0';
    jwt = creds_section(text, len, "BEGIN NATS USER JWT-----", "END NATS USER JWT", &jlen);
    if (jwt)
        seed = creds_section(jwt + jlen, len - (size_t)(jwt + jlen - text),
                             "BEGIN USER NKEY SEED-----", "END USER NKEY SEED", &slen);
    if (!jwt || !seed) {
        *why = "not a .creds file (a NATS USER JWT section, then a USER NKEY SEED one)";
        return -EINVAL;
    }
    return cluster_nkey_user_public(seed, slen, pub, why);
}

void cluster_nkey_user_seed(const unsigned char seed[32], char out[CLUSTER_NKEY_SEED_LEN + 1])
{
    unsigned char raw[NKEY_SEED_RAW];
    uint16_t crc;

    raw[0] = (unsigned char)(NKEY_PREFIX_SEED | (NKEY_PREFIX_USER >> 5));
    raw[1] = (unsigned char)((NKEY_PREFIX_USER & 31) << 3);
    memcpy(raw + 2, seed, 32);
    crc = crc16(raw, 34);
    raw[34] = (unsigned char)(crc & 0xff);
    raw[35] = (unsigned char)(crc >> 8);
    b32_encode(raw, sizeof(raw), out);
    sodium_memzero(raw, sizeof(raw));
}
