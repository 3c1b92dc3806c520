/*
 * netaddr.c - "host:port" strings to socket addresses and back.
 */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netaddr_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
    char host[256];
    const char *colon, *port;
    size_t hlen;
    char *end;
    long pn;
    struct addrinfo hints, *res = NULL;
    int r;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -EINVAL;
        hlen = (size_t)(rb - s - 1);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, hlen);
        port = rb + 2;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, hlen);
        port = colon + 1;
    }
    host[hlen] = '\0';
    errno = 0;
    pn = strtol(port, &end, 10);
    if (!*port || *end || errno || pn < 0 || pn > 65535)
        return -EINVAL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(hlen == 0 || strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
    if (r != 0 || !res)
        return -ENOENT;
    memset(ret, 0, sizeof(*ret));
    memcpy(ret, res->ai_addr, res->ai_addrlen);
    *ret_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

char *netaddr_format(const struct sockaddr *sa, char *buf, size_t size)
{
    char h[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, h, sizeof(h));
        snprintf(buf, size, "%s:%u", h, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof(h));
        snprintf(buf, size, "[%s]:%u", h, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, size, "?");
    }
    return buf;
}
