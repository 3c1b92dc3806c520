/*
 * respond_never.h - the addresses a block must never hit, whatever the
 * policy or the evidence says: this host's own addresses, its default
 * gateways, the resolvers of /etc/resolv.conf, and what the site names
 * (management networks, the allowlist, the peers that send us logs).
 *
 * Issue 15: forged log text got the host's own address and its resolver
 * blocked.  So the list is computed from the host itself, not from the
 * policy file alone, and it is checked twice: by the policy in the daemon
 * (respond_decide, through respond_state_set_never) and again inside the
 * firewall helper, which gets its own copy at fork time and re-reads the
 * host's addresses, gateways and resolvers before every block
 * (respond_fw.c), so a bug or a compromise of the daemon's side cannot
 * make the helper cut the host off.
 *
 * Pure data plus readers of the host's state; no logging, no locks (one
 * owner per list).
 */
#ifndef HIKESHI_RESPOND_RESPOND_NEVER_H
#define HIKESHI_RESPOND_RESPOND_NEVER_H

#include <stddef.h>

#include "triage/asset.h"

/* Entries one list may hold: interfaces, routes and resolvers of a host
 * plus the site's lists; past it, additions fail with -ENOSPC. */
#define RESPOND_NEVER_MAX 8192
/* Bytes of the phrase saying why an entry is there ("this host's address
 * (eth0)"), with its NUL. */
#define RESPOND_NEVER_WHY 64

struct respond_never_entry {
    struct asset_net net;
    char why[RESPOND_NEVER_WHY]; /* "this host's address (eth0)", "a default gateway" ... */
};

struct respond_never {
    struct respond_never_entry *v; /* owned; n used of cap */
    size_t n, cap;
};

/* Where the host's state is read from; NULL members take the system's
 * (/proc/net/route, /proc/net/ipv6_route, /etc/resolv.conf).  Tests point
 * them at fixtures; `no_ifaddrs` skips getifaddrs(). */
struct respond_never_src {
    const char *route4;
    const char *route6;
    const char *resolv;
    int no_ifaddrs;
};

/* Embedded object: an empty list.  _done frees; both accept a zeroed list. */
void respond_never_init(struct respond_never *l);
void respond_never_done(struct respond_never *l);

/* Adds `net` with the phrase `why` (cut to RESPOND_NEVER_WHY - 1 bytes,
 * non-printable bytes replaced).  0, -ENOSPC (full), -ENOMEM, -EINVAL. */
int respond_never_add(struct respond_never *l, const struct asset_net *net, const char *why);
/* As respond_never_add for an address or CIDR in text; -EINVAL when it
 * does not parse. */
int respond_never_add_text(struct respond_never *l, const char *cidr, const char *why);

/*
 * Adds the host's own state: every address of every interface
 * (getifaddrs), the default gateways (IPv4 and IPv6 routing tables) and the
 * nameservers of resolv.conf.  A source that cannot be read is skipped
 * (the others still count); returns the number of entries added, or
 * -ENOSPC / -ENOMEM.  Loopback and link-local entries are left out: the
 * policy never acts on those anyway.
 */
int respond_never_add_host(struct respond_never *l, const struct respond_never_src *src);

/* The first entry holding `a`, or NULL. */
const struct respond_never_entry *respond_never_find(const struct respond_never *l,
                                                     const struct asset_net *a);

#endif
