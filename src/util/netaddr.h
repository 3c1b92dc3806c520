/*
 * netaddr.h - "host:port" strings to socket addresses and back.
 */
#ifndef HIKESHI_UTIL_NETADDR_H
#define HIKESHI_UTIL_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Parses "1.2.3.4:514", "[::1]:514", "localhost:514" or "*:514" (any
 * address) into *ret.  Names are resolved with getaddrinfo (first result).
 * Returns 0, or -EINVAL with no port or a bad port, -ENOENT if the name
 * does not resolve.
 */
int netaddr_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
/* Formats an address as "1.2.3.4:514" or "[::1]:514" into buf. */
char *netaddr_format(const struct sockaddr *sa, char *buf, size_t size);

#endif
