/*
 * cidr.h - IP networks written as "10.0.0.0/8", "2001:db8::/32" or a bare
 * address, and the test "is this sender in that network".
 *
 * Inputs use it for `peers:` (who may send to a network input).  It lives in
 * util/ because inputs sit below triage, whose asset_net does the same for
 * the inventory.  Addresses are in the form records carry them
 * (struct record: family 4 or 6, 16 bytes, IPv4 in the first four).
 */
#ifndef HIKESHI_UTIL_CIDR_H
#define HIKESHI_UTIL_CIDR_H

#include <stddef.h>
#include <stdint.h>

/* Longest text cidr_format() writes, with its NUL. */
#define CIDR_TEXT_MAX 48

struct cidr {
    uint8_t family;   /* 4 or 6 */
    uint8_t prefix;   /* <= 32 for 4, <= 128 for 6 */
    uint8_t addr[16]; /* network order; bits past prefix are zero */
};

/*
 * Parses s[0..len): an IPv4 or IPv6 address with an optional "/prefix".
 * A bare address is a network of one.  IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * becomes IPv4.  Host bits past the prefix are cleared, so "10.1.2.3/8" is
 * 10.0.0.0/8.  Names are not resolved.  Needs no NUL.  Returns 0 or -EINVAL.
 */
int cidr_parse(const char *s, size_t len, struct cidr *ret);
/* 1 when the address (family 4 or 6, as in struct record) lies in `net`. */
int cidr_contains(const struct cidr *net, uint8_t family, const uint8_t addr[16]);
/* 1 when the address lies in any of the n networks. */
int cidr_list_contains(const struct cidr *nets, size_t n, uint8_t family, const uint8_t addr[16]);
/* Writes "10.0.0.0/8", or the bare address for a full-length prefix, into
 * buf (at least CIDR_TEXT_MAX bytes for any value).  Returns buf. */
char *cidr_format(const struct cidr *net, char *buf, size_t size);

#endif
