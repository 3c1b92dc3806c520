/*
 * decode_util.c - small checks and field helpers that several decoders share.
 */
#include "decode/decode_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "event/event.h"

/* 1 if (p, n) is what inet_pton(AF_INET) accepts: four decimal parts of
 * 0-255 separated by dots, no leading zero (glibc refuses "01"), nothing
 * else.  Read here, without the copy and the two calls, because most
 * addresses firewalls log are IPv4 (inet_pton was 5 % of a FortiGate
 * line's instructions). */
static int is_ipv4(const char *p, size_t n)
{
    size_t i = 0;

    /* A byte minus '0' as unsigned is a digit's value when below 10 (one
     * compare where two were: each address of a FortiGate line is
     * checked, issue 24); bytes from 0x80 on are no digit either way. */
    for (int part = 0; part < 4; part++) {
        unsigned v, d;

        if (i == n || (v = (unsigned char)p[i] - (unsigned)'0') > 9)
            return 0;
        i++;
        if (i < n && (d = (unsigned char)p[i] - (unsigned)'0') <= 9) {
            if (v == 0)
                return 0; /* a leading zero */
            v = v * 10 + d;
            i++;
            if (i < n && (d = (unsigned char)p[i] - (unsigned)'0') <= 9) {
                v = v * 10 + d;
                i++;
                if (v > 255)
                    return 0;
            }
        }
        if (part < 3) {
            if (i == n || p[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n; /* a fourth digit or anything else after: not IPv4 */
}

int decode_util_is_ip(const char *p, size_t n)
{
    /* inet_pton() wants a NUL-terminated string: copy to the stack, bounded
     * by the longest textual address. */
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char addr[sizeof(struct in6_addr)];

    if (n == 0 || n >= sizeof(tmp))
        return 0;
    if (is_ipv4(p, n))
        return 1;
    /* Not IPv4; IPv6 text always holds a colon, and never a NUL (which
     * would end inet_pton()'s string early: "::1\0junk" is no address). */
    if (!memchr(p, ':', n) || memchr(p, '\0', n))
        return 0;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

int decode_util_is_port(const char *p, size_t n)
{
    unsigned v = 0;

    if (n == 0 || n > 5)
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (p[k] < '0' || p[k] > '9')
            return 0;
        v = v * 10 + (unsigned)(p[k] - '0');
    }
    return v <= 65535;
}

int decode_util_add_named(struct event *ev, const char *name, size_t name_n, struct decode_span s)
{
    int r;

    if (!s.n)
        return 0;
    /* The name's id through the per-thread cache: the dictionary's lock
     * and hash were 39 % of a PAN-OS record's instructions (issue 24). */
    r = event_add(ev, decode_fieldid_intern(name, name_n), s.p, s.n);
    return r == -ENOMEM ? r : 0;
}

const char *decode_util_find(const char *p, size_t n, const char *needle, size_t nn)
{
    size_t a = 0; /* the byte memchr looks for: the needle's first that is
                     no blank (blanks are most of a line's bytes) */

    if (nn == 0)
        return p;
    if (nn > n)
        return NULL;
    while (a + 1 < nn && needle[a] == ' ')
        a++;
    /* q: where the needle would start; last: the last place it can */
    for (const char *q = p, *last = p + n - nn; q <= last; q++) {
        const char *h = memchr(q + a, needle[a], (size_t)(last - q) + 1);
        size_t k = 0;

        if (!h)
            return NULL;
        q = h - a;
        while (k < nn && q[k] == needle[k])
            k++;
        if (k == nn)
            return q;
    }
    return NULL;
}

int decode_util_eq(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

int decode_util_ci_contains(struct decode_span s, const char *upper)
{
    size_t n = strlen(upper);

    for (size_t i = 0; i + n <= s.n; i++) {
        size_t k = 0;

        while (k < n) {
            char c = s.p[i + k];

            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (c != upper[k])
                break;
            k++;
        }
        if (k == n)
            return 1;
    }
    return 0;
}

struct decode_span decode_util_iana_transport(struct decode_span proto)
{
    /* By length and bytes, not decode_util_eq()'s strlen and memcmp for
     * each of the four: 90 instructions a FortiGate line (issue 24). */
    if (proto.n == 1 && proto.p[0] == '6')
        return decode_util_cstr("tcp");
    if (proto.n == 2 && proto.p[0] == '1' && proto.p[1] == '7')
        return decode_util_cstr("udp");
    if (proto.n == 1 && proto.p[0] == '1')
        return decode_util_cstr("icmp");
    if (proto.n == 2 && proto.p[0] == '5' && proto.p[1] == '8')
        return decode_util_cstr("ipv6-icmp");
    return proto;
}

int decode_util_add_nat(struct event *ev, const char *name, size_t n, struct decode_span v,
                        int port)
{
    if (!v.n || decode_util_eq(v, "0.0.0.0") || decode_util_eq(v, "::") ||
        (port && decode_util_eq(v, "0")) ||
        (port ? !decode_util_is_port(v.p, v.n) : !decode_util_is_ip(v.p, v.n)))
        return 0;
    return decode_util_add_named(ev, name, n, v);
}

int decode_util_all_digits(struct decode_span s)
{
    if (!s.n)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
    return 1;
}
