/*
 * cidr.c - IP networks in text and the membership test (see cidr.h).
 */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static void cidr_mask(struct cidr *n)
{
    unsigned bits = n->family == 4 ? 32u : 128u;

    for (unsigned i = n->prefix; i < bits; i++)
        n->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

int cidr_parse(const char *s, size_t len, struct cidr *ret)
{
    char a[INET6_ADDRSTRLEN + 1];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned char bin[16];
    unsigned prefix = 0, max;

    memset(ret, 0, sizeof(*ret));
    if (alen == 0 || alen >= sizeof(a))
        return -EINVAL;
    memcpy(a, s, alen);
    a[alen] = '\0';
    if (inet_pton(AF_INET, a, bin) == 1) {
        ret->family = 4;
        memcpy(ret->addr, bin, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, a, bin) == 1) {
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        if (memcmp(bin, v4mapped, 12) == 0) {
            ret->family = 4;
            memcpy(ret->addr, bin + 12, 4);
            max = 32;
        } else {
            ret->family = 6;
            memcpy(ret->addr, bin, 16);
            max = 128;
        }
    } else {
        return -EINVAL;
    }
    if (slash) {
        const char *d = slash + 1, *end = s + len;

        /* At most three digits: no overflow, no sign, no spaces. */
        if (d == end || end - d > 3)
            return -EINVAL;
        for (; d < end; d++) {
            if (*d < '0' || *d > '9')
                return -EINVAL;
            prefix = prefix * 10 + (unsigned)(*d - '0');
        }
        /* A mapped address's prefix counts the 96 bits of ::ffff:. */
        if (max == 32 && ret->family == 4 && strchr(a, ':')) {
            if (prefix < 96 || prefix > 128)
                return -EINVAL;
            prefix -= 96;
        }
        if (prefix > max)
            return -EINVAL;
    } else {
        prefix = max;
    }
    ret->prefix = (uint8_t)prefix;
    cidr_mask(ret);
    return 0;
}

int cidr_contains(const struct cidr *net, uint8_t family, const uint8_t addr[16])
{
    unsigned full, rest;

    if (family != net->family)
        return 0;
    full = net->prefix / 8u;
    rest = net->prefix % 8u;
    if (memcmp(net->addr, addr, full) != 0)
        return 0;
    if (rest) {
        uint8_t m = (uint8_t)(0xffu << (8 - rest));

        if ((addr[full] & m) != net->addr[full])
            return 0;
    }
    return 1;
}

int cidr_list_contains(const struct cidr *nets, size_t n, uint8_t family, const uint8_t addr[16])
{
    for (size_t i = 0; i < n; i++)
        if (cidr_contains(&nets[i], family, addr))
            return 1;
    return 0;
}

char *cidr_format(const struct cidr *net, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];
    unsigned max = net->family == 4 ? 32u : 128u;

    if (!inet_ntop(net->family == 4 ? AF_INET : AF_INET6, net->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    if (net->prefix == max)
        snprintf(buf, size, "%s", a);
    else
        snprintf(buf, size, "%s/%u", a, (unsigned)net->prefix);
    return buf;
}
