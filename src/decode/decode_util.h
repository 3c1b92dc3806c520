/*
 * decode_util.h - small checks that several decoders share.
 *
 * Each reads exactly (p, n): no NUL needed, nothing past n read.
 */
#ifndef HIKESHI_DECODE_DECODE_UTIL_H
#define HIKESHI_DECODE_DECODE_UTIL_H

#include <stddef.h>

/* 1 if (p, n) is an IPv4 address in dotted-quad form or an IPv6 address as
 * inet_pton() reads them, else 0. */
int decode_util_is_ip(const char *p, size_t n);

/* 1 if (p, n) is 1 to 5 decimal digits worth at most 65535, else 0. */
int decode_util_is_port(const char *p, size_t n);

#endif
