/*
 * decode_mikrotik.c - RouterOS firewall log lines.
 *
 * The line is a list of ", "-separated parts after "CHAIN: "; a part is
 * told by its first word (in:, src-mac, proto, len, NAT, connection-state:)
 * or by holding "->" (the addresses).  ", " inside parentheses ("(type 8,
 * code 0)", the NAT part) does not split.
 */
#include "decode/decode_mikrotik.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"

#define LIT(s) s, sizeof(s) - 1

struct mt_result {
    struct decode_span prefix, chain, in, out, state, mac, proto, flags, icmp_type, icmp_code;
    struct decode_span src, sport, dst, dport, len;
};

static int starts(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct decode_span from(struct decode_span s, size_t k)
{
    struct decode_span r = {s.p + k, s.n - k};

    return r;
}

/* "A:p", "[v6]:p" or "A" (no port): the address and port spans. */
static void endpoint(struct decode_span s, struct decode_span *addr, struct decode_span *port)
{
    port->p = NULL;
    port->n = 0;
    if (s.n && s.p[0] == '[') {
        const char *rb = memchr(s.p, ']', s.n);
        if (rb) {
            addr->p = s.p + 1;
            addr->n = (size_t)(rb - s.p - 1);
            if ((size_t)(rb - s.p) + 2 <= s.n && rb[1] == ':') {
                port->p = rb + 2;
                port->n = s.n - (size_t)(rb - s.p) - 2;
            }
            return;
        }
    }
    *addr = s;
    /* One colon: IPv4 with a port.  More: a bare IPv6 address. */
    {
        const char *c = memchr(s.p, ':', s.n);
        if (c && !memchr(c + 1, ':', s.n - (size_t)(c - s.p) - 1)) {
            addr->n = (size_t)(c - s.p);
            port->p = c + 1;
            port->n = s.n - addr->n - 1;
        }
    }
}

static void part(struct mt_result *m, struct decode_span s)
{
    const char *arrow;

    while (s.n && s.p[0] == ' ')
        s = from(s, 1);
    if (starts(s, "in:")) {
        const char *o = decode_util_find(s.p, s.n, " out:", 5);
        m->in.p = s.p + 3;
        m->in.n = o ? (size_t)(o - m->in.p) : s.n - 3;
        if (o) {
            m->out.p = o + 5;
            m->out.n = s.n - (size_t)(m->out.p - s.p);
            if (starts(m->out, "(unknown"))
                m->out.n = 0;
        }
    } else if (starts(s, "connection-state:")) {
        /* RouterOS 7 writes "connection-state:new src-mac ..." as one part. */
        const char *sp = memchr(s.p, ' ', s.n);
        m->state.p = s.p + 17;
        m->state.n = (sp ? (size_t)(sp - s.p) : s.n) - 17;
        if (sp)
            part(m, from(s, (size_t)(sp - s.p) + 1));
    } else if (starts(s, "src-mac ")) {
        m->mac = from(s, 8);
    } else if (starts(s, "proto ")) {
        const char *lp;
        s = from(s, 6);
        lp = memchr(s.p, '(', s.n);
        m->proto.p = s.p;
        m->proto.n = lp ? (size_t)(lp - s.p) : s.n;
        while (m->proto.n && m->proto.p[m->proto.n - 1] == ' ')
            m->proto.n--;
        if (lp && s.p[s.n - 1] == ')') {
            struct decode_span in = {lp + 1, (size_t)(s.p + s.n - 1 - lp - 1)};
            if (starts(in, "type ")) {
                const char *cm = decode_util_find(in.p, in.n, ", code ", 7);
                m->icmp_type.p = in.p + 5;
                m->icmp_type.n = (cm ? (size_t)(cm - in.p) : in.n) - 5;
                if (cm) {
                    m->icmp_code.p = cm + 7;
                    m->icmp_code.n = in.n - (size_t)(cm - in.p) - 7;
                }
            } else {
                m->flags = in;
            }
        }
    } else if (starts(s, "len ")) {
        m->len = from(s, 4);
    } else if (starts(s, "NAT ")) {
        /* the translated addresses: not the packet's own */
    } else if ((arrow = decode_util_find(s.p, s.n, "->", 2)) && !m->src.p) {
        struct decode_span a = {s.p, (size_t)(arrow - s.p)};
        struct decode_span b = {arrow + 2, s.n - (size_t)(arrow - s.p) - 2};
        endpoint(a, &m->src, &m->sport);
        endpoint(b, &m->dst, &m->dport);
    }
}

/* Offset of "in:" opening the interface part ("CHAIN: in:"), or -1. */
static long find_in(const char *p, size_t len)
{
    for (size_t i = 2; i + 3 <= len; i++)
        if (p[i] == 'i' && p[i + 1] == 'n' && p[i + 2] == ':' && p[i - 1] == ' ' && p[i - 2] == ':')
            return (long)i;
    return -1;
}

static int emit(struct event *ev, const struct mt_result *m)
{
    int r, deny = decode_util_ci_contains(m->prefix, "DROP") || decode_util_ci_contains(m->prefix, "REJECT") ||
                  decode_util_ci_contains(m->prefix, "BLOCK") || decode_util_ci_contains(m->prefix, "DENY") ||
                  decode_util_ci_contains(m->prefix, "TARPIT");
    int allow = !deny && (decode_util_ci_contains(m->prefix, "ACCEPT") || decode_util_ci_contains(m->prefix, "ALLOW"));

    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("MikroTik"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("RouterOS"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("mikrotik.firewall"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0 ||
        (r = decode_util_add_named(ev, LIT("mikrotik.chain"), m->chain)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, m->prefix)) < 0)
        return r;
    if (deny || allow) {
        if ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                                 decode_util_cstr(deny ? "failure" : "success"))) < 0 ||
            (r = decode_util_add(ev, FIELD_EVENT_TYPE,
                                 decode_util_cstr(deny ? "denied" : "allowed"))) < 0)
            return r;
    }
    if ((r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, m->in)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_EGRESS_INTERFACE, m->out)) < 0 ||
        (r = decode_util_add_named(ev, LIT("mikrotik.connection_state"), m->state)) < 0 ||
        (r = decode_util_add_named(ev, LIT("source.mac"), m->mac)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, m->src)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, m->sport)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, m->dst)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, m->dport)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_BYTES, m->len)) < 0 ||
        (r = decode_util_add_named(ev, LIT("tcp.flags"), m->flags)) < 0 ||
        (r = decode_util_add_named(ev, LIT("icmp.type"), m->icmp_type)) < 0 ||
        (r = decode_util_add_named(ev, LIT("icmp.code"), m->icmp_code)) < 0)
        return r;
    if (m->proto.n) {
        char *t = arena_alloc(ev->arena, m->proto.n);
        if (!t)
            return -ENOMEM;
        for (size_t k = 0; k < m->proto.n; k++) {
            char c = m->proto.p[k];
            t[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        if ((r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT,
                                 (struct decode_span){t, m->proto.n})) < 0)
            return r;
    }
    return 0;
}

int decode_mikrotik(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                    struct parse_err *reterr)
{
    struct mt_result m;
    long in;
    size_t i, c0;

    (void)ctx;
    memset(&m, 0, sizeof(m));
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if ((in = find_in(p, len)) < 0 || !decode_util_find(p + in, len - (size_t)in, " out:", 5) ||
        !decode_util_find(p + in, len - (size_t)in, "->", 2))
        return -ENOENT;
    /* The chain is the word before ": in:"; the prefix what precedes it. */
    c0 = (size_t)in - 2;
    i = c0;
    while (i > 0 && p[i - 1] != ' ')
        i--;
    m.chain.p = p + i;
    m.chain.n = c0 - i;
    if (!m.chain.n)
        return -ENOENT;
    m.prefix.p = p;
    m.prefix.n = i;
    while (m.prefix.n && m.prefix.p[m.prefix.n - 1] == ' ')
        m.prefix.n--;
    /* A topics word left by the header ("firewall,info") is not a prefix. */
    if (starts(m.prefix, "firewall,")) {
        const char *sp = memchr(m.prefix.p, ' ', m.prefix.n);
        size_t k = sp ? (size_t)(sp - m.prefix.p) + 1 : m.prefix.n;
        m.prefix = from(m.prefix, k);
    }
    /* The parts, split at ", " outside parentheses. */
    {
        size_t s = (size_t)in;
        int depth = 0;
        for (size_t k = (size_t)in; k <= len; k++) {
            if (k < len && p[k] == '(')
                depth++;
            else if (k < len && p[k] == ')' && depth > 0)
                depth--;
            if (k == len || (depth == 0 && p[k] == ',' && k + 1 < len && p[k + 1] == ' ')) {
                struct decode_span sp = {p + s, k - s};
                part(&m, sp);
                s = k + 1;
            }
        }
    }
    if (!decode_util_is_ip(m.src.p, m.src.n) || !decode_util_is_ip(m.dst.p, m.dst.n)) {
        parse_err_set(reterr, m.src.p ? (size_t)(m.src.p - p) : (size_t)in,
                      "RouterOS source or destination is not an address");
        return -EINVAL;
    }
    if ((m.sport.p && !decode_util_is_port(m.sport.p, m.sport.n)) ||
        (m.dport.p && !decode_util_is_port(m.dport.p, m.dport.n))) {
        parse_err_set(reterr, (size_t)(m.src.p - p), "RouterOS port is not a port");
        return -EINVAL;
    }
    {
        int r = emit(ev, &m);
        if (r < 0)
            return r;
    }
    ev->decoder = "mikrotik";
    return 0;
}
