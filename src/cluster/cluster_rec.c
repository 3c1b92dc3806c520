/*
 * cluster_rec.c - a record's metadata on the stream and its partition
 * (cluster_rec.h).
 */
#include "cluster/cluster_rec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "input/record.h"

void cluster_meta_format(const struct cluster_meta *m, char out[CLUSTER_META_MAX])
{
    static const char hex[] = "0123456789abcdef";
    size_t alen = m->peer_family == 4 ? 4 : m->peer_family == 6 ? 16 : 0;
    char addr[33];

    for (size_t i = 0; i < alen; i++) {
        addr[2 * i] = hex[m->peer_addr[i] >> 4];
        addr[2 * i + 1] = hex[m->peer_addr[i] & 15];
    }
    addr[2 * alen] = '\0';
    snprintf(out, CLUSTER_META_MAX, "v1 %" PRId64 " %u %u %u %s", m->recv_us, (unsigned)m->flags,
             (unsigned)(alen ? m->peer_family : 0), (unsigned)m->peer_port, alen ? addr : "-");
}

static int fail(struct parse_err *reterr, size_t off, const char *msg)
{
    if (reterr) {
        reterr->off = off;
        reterr->msg = msg;
    }
    return -EINVAL;
}

/* A decimal field of at most 19 digits ending at a space or the end:
 * its value in *ret and *pos past it.  -1 when there is none. */
static int num_field(const char *s, size_t len, size_t *pos, int neg_ok, int64_t *ret)
{
    size_t i = *pos, n = 0, first;
    int neg = 0;
    int64_t v = 0;

    if (neg_ok && i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    first = i;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++) {
        if (n == 18)
            return -1; /* 18 digits are more than any time or port */
        v = v * 10 + (s[i] - '0');
    }
    if (n == 0 || (i < len && s[i] != ' '))
        return -1;
    /* One spelling per value, the formatter's: no leading zero, no -0. */
    if ((n > 1 && s[first] == '0') || (neg && v == 0))
        return -1;
    *ret = neg ? -v : v;
    *pos = i < len ? i + 1 : i;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int cluster_meta_parse(const char *s, size_t len, struct cluster_meta *ret,
                       struct parse_err *reterr)
{
    size_t pos = 3, at, alen;
    int64_t recv, flags, fam, port;

    memset(ret, 0, sizeof(*ret));
    if (len < 3 || memcmp(s, "v1 ", 3) != 0)
        return fail(reterr, 0, "not a version 1 metadata header");
    /* each error names the start of its field */
    if (num_field(s, len, &pos, 1, &recv) < 0)
        return fail(reterr, pos, "receive time: expected a number of microseconds");
    at = pos;
    if (num_field(s, len, &pos, 0, &flags) < 0 ||
        (flags & ~(int64_t)(RECORD_TRUNCATED | RECORD_TRUSTED)) != 0)
        return fail(reterr, at, "flags: expected 0 to 3");
    at = pos;
    if (num_field(s, len, &pos, 0, &fam) < 0 || (fam != 0 && fam != 4 && fam != 6))
        return fail(reterr, at, "address family: expected 0, 4 or 6");
    at = pos;
    if (num_field(s, len, &pos, 0, &port) < 0 || port > 65535)
        return fail(reterr, at, "port: expected 0 to 65535");
    alen = fam == 4 ? 4 : fam == 6 ? 16 : 0;
    if (alen == 0) {
        if (len - pos != 1 || s[pos] != '-')
            return fail(reterr, pos, "address: expected - without a family");
    } else {
        if (len - pos != 2 * alen)
            return fail(reterr, pos, "address: wrong length for its family");
        for (size_t i = 0; i < alen; i++) {
            int hi = hexval(s[pos + 2 * i]), lo = hexval(s[pos + 2 * i + 1]);

            if (hi < 0 || lo < 0)
                return fail(reterr, pos + 2 * i, "address: expected lower-case hex");
            ret->peer_addr[i] = (uint8_t)(hi << 4 | lo);
        }
    }
    ret->recv_us = recv;
    ret->flags = (uint16_t)flags;
    ret->peer_family = (uint8_t)fam;
    ret->peer_port = (uint16_t)port;
    return 0;
}

int cluster_rec_id_ok(const char *id, size_t len)
{
    const char *colon = memchr(id, ':', len);
    size_t nlen, dlen;

    if (!colon)
        return 0;
    nlen = (size_t)(colon - id);
    dlen = len - nlen - 1;
    if (nlen == 0 || nlen > 64 || dlen == 0 || dlen > 20)
        return 0;
    for (size_t i = 0; i < nlen; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
            return 0;
    for (size_t i = nlen + 1; i < len; i++)
        if (id[i] < '0' || id[i] > '9')
            return 0;
    return 1;
}

int cluster_input_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

void cluster_hash_init(struct cluster_hash *h, const char *stream)
{
    static const char ctx[] = "hikeshi partition key v1";
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, sizeof(h->key));
    crypto_generichash_update(&st, (const unsigned char *)ctx, sizeof(ctx));
    crypto_generichash_update(&st, (const unsigned char *)stream, strlen(stream));
    crypto_generichash_final(&st, h->key, sizeof(h->key));
}

uint32_t cluster_partition(const struct cluster_hash *h, const void *ent, size_t len, uint32_t n)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t v = 0;

    crypto_shorthash(out, ent, len, h->key);
    for (size_t i = 0; i < sizeof(out); i++)
        v = v << 8 | out[i];
    return n ? (uint32_t)(v % n) : 0;
}
