/*
 * respond_never.c - the never-block list and the readers of the host's own
 * addresses, gateways and resolvers.  respond_never.h says why it exists.
 */
#include "respond/respond_never.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ROUTE_LINE_MAX 512

void respond_never_init(struct respond_never *l)
{
    memset(l, 0, sizeof(*l));
}

void respond_never_done(struct respond_never *l)
{
    if (!l)
        return;
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int respond_never_add(struct respond_never *l, const struct asset_net *net, const char *why)
{
    struct respond_never_entry *e;
    size_t j = 0;

    if (!l || !net || (net->family != AF_INET && net->family != AF_INET6))
        return -EINVAL;
    if (respond_never_find(l, net) && net->prefix == (net->family == AF_INET ? 32u : 128u))
        return 0; /* one address listed twice (an interface and a peer): keep the first */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct respond_never_entry *v;

        if (l->n >= RESPOND_NEVER_MAX)
            return -ENOSPC;
        if (cap > RESPOND_NEVER_MAX)
            cap = RESPOND_NEVER_MAX;
        if (!(v = realloc(l->v, cap * sizeof(*v))))
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!l->v)
        return -EINVAL; /* a list someone zeroed by hand with cap set */
    e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    e->net = *net;
    /* The phrase lands in reasons and logs: printable only. */
    for (size_t i = 0; why && why[i] && j + 1 < sizeof(e->why); i++) {
        unsigned char c = (unsigned char)why[i];
        e->why[j++] = c >= ' ' && c <= '~' ? (char)c : '?';
    }
    e->why[j] = '\0';
    return 0;
}

int respond_never_add_text(struct respond_never *l, const char *cidr, const char *why)
{
    struct asset_net n;

    if (!cidr || asset_net_parse(cidr, strnlen(cidr, 128), &n) < 0)
        return -EINVAL;
    return respond_never_add(l, &n, why);
}

const struct respond_never_entry *respond_never_find(const struct respond_never *l,
                                                     const struct asset_net *a)
{
    for (size_t i = 0; l && a && i < l->n; i++)
        if (asset_net_contains(&l->v[i].net, a))
            return &l->v[i];
    return NULL;
}

/* Loopback and link-local: refused by the policy on their own. */
static int host_local(const struct asset_net *a)
{
    if (a->family == AF_INET)
        return a->addr[0] == 127 || (a->addr[0] == 169 && a->addr[1] == 254) || (a->addr[0] == 0);
    return (a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80) ||
           (memcmp(a->addr, in6addr_loopback.s6_addr, 16) == 0) ||
           (memcmp(a->addr, in6addr_any.s6_addr, 16) == 0);
}

/* Adds one host address unless it is local; counts it in *added. */
static int add_host(struct respond_never *l, const struct asset_net *a, const char *why, int *added)
{
    int r;

    if (host_local(a))
        return 0;
    if ((r = respond_never_add(l, a, why)) < 0)
        return r;
    (*added)++;
    return 0;
}

static int add_ifaddrs(struct respond_never *l, int *added)
{
    struct ifaddrs *ifa = NULL;
    int r = 0;

    if (getifaddrs(&ifa) < 0)
        return 0; /* unreadable: the other sources still count */
    for (struct ifaddrs *i = ifa; i && r == 0; i = i->ifa_next) {
        struct asset_net a;
        char why[RESPOND_NEVER_WHY];

        if (!i->ifa_addr)
            continue;
        memset(&a, 0, sizeof(a));
        if (i->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)i->ifa_addr;
            a.family = AF_INET;
            a.prefix = 32;
            memcpy(a.addr, &s->sin_addr, 4);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)i->ifa_addr;
            a.family = AF_INET6;
            a.prefix = 128;
            memcpy(a.addr, &s->sin6_addr, 16);
        } else {
            continue;
        }
        snprintf(why, sizeof(why), "this host's address (%.*s)", IFNAMSIZ,
                 i->ifa_name ? i->ifa_name : "?");
        r = add_host(l, &a, why, added);
    }
    freeifaddrs(ifa);
    return r;
}

/* `n` hex digits at s into out[n/2] in the order written; -1 when not hex. */
static int hexbytes(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/*
 * /proc/net/route: "Iface Destination Gateway Flags ..." with the
 * addresses as the kernel's 32-bit value in hex, which on a little-endian
 * host is the address bytes reversed.  Every gateway of the table is kept:
 * a router we route through is one we must not cut off.
 */
static int add_route4(struct respond_never *l, const char *path, int *added)
{
    FILE *f = fopen(path, "re");
    char line[ROUTE_LINE_MAX];
    int r = 0;

    if (!f)
        return 0;
    while (r == 0 && fgets(line, sizeof(line), f)) {
        char ifname[IFNAMSIZ + 1], dst[9], gw[9], why[RESPOND_NEVER_WHY];
        unsigned long g;
        uint32_t g32;
        struct asset_net a;

        if (sscanf(line, "%16s %8s %8s", ifname, dst, gw) != 3 || strlen(gw) != 8 ||
            hex_value(gw[0]) < 0)
            continue; /* the header line, or garbage */
        g = strtoul(gw, NULL, 16);
        if (g == 0)
            continue;
        g32 = (uint32_t)g;
        memset(&a, 0, sizeof(a));
        a.family = AF_INET;
        a.prefix = 32;
        memcpy(a.addr, &g32, 4); /* the kernel wrote the value in host order */
        snprintf(why, sizeof(why), "a gateway of this host (%s)", ifname);
        r = add_host(l, &a, why, added);
    }
    fclose(f);
    return r;
}

/* /proc/net/ipv6_route: dest plen src plen nexthop metric refcnt use flags
 * iface, addresses as 32 hex digits in network order. */
static int add_route6(struct respond_never *l, const char *path, int *added)
{
    FILE *f = fopen(path, "re");
    char line[ROUTE_LINE_MAX];
    int r = 0;

    if (!f)
        return 0;
    while (r == 0 && fgets(line, sizeof(line), f)) {
        char d[33], dp[3], s[33], sp[3], nh[33], m[9], rc[9], use[9], fl[9], ifname[IFNAMSIZ + 1],
            why[RESPOND_NEVER_WHY];
        struct asset_net a;
        static const unsigned char zero[16];

        if (sscanf(line, "%32s %2s %32s %2s %32s %8s %8s %8s %8s %16s", d, dp, s, sp, nh, m, rc,
                   use, fl, ifname) != 10 ||
            strlen(nh) != 32)
            continue;
        memset(&a, 0, sizeof(a));
        a.family = AF_INET6;
        a.prefix = 128;
        if (hexbytes(nh, 32, a.addr) < 0 || memcmp(a.addr, zero, 16) == 0)
            continue;
        snprintf(why, sizeof(why), "a gateway of this host (%s)", ifname);
        r = add_host(l, &a, why, added);
    }
    fclose(f);
    return r;
}

/* "nameserver ADDR" lines; an IPv6 scope ("%eth0") is dropped. */
static int add_resolv(struct respond_never *l, const char *path, int *added)
{
    FILE *f = fopen(path, "re");
    char line[ROUTE_LINE_MAX];
    int r = 0;

    if (!f)
        return 0;
    while (r == 0 && fgets(line, sizeof(line), f)) {
        char word[16], addr[64];
        struct asset_net a;
        char *pct;

        if (sscanf(line, "%15s %63s", word, addr) != 2 || strcmp(word, "nameserver") != 0)
            continue;
        if ((pct = strchr(addr, '%')))
            *pct = '\0';
        if (strchr(addr, '/') || asset_net_parse(addr, strlen(addr), &a) < 0)
            continue;
        r = add_host(l, &a, "a resolver of this host (resolv.conf)", added);
    }
    fclose(f);
    return r;
}

int respond_never_add_host(struct respond_never *l, const struct respond_never_src *src)
{
    static const struct respond_never_src sys = {0};
    int added = 0, r;

    if (!l)
        return -EINVAL;
    if (!src)
        src = &sys;
    if (!src->no_ifaddrs && (r = add_ifaddrs(l, &added)) < 0)
        return r;
    if ((r = add_route4(l, src->route4 ? src->route4 : "/proc/net/route", &added)) < 0 ||
        (r = add_route6(l, src->route6 ? src->route6 : "/proc/net/ipv6_route", &added)) < 0 ||
        (r = add_resolv(l, src->resolv ? src->resolv : "/etc/resolv.conf", &added)) < 0)
        return r;
    return added;
}
