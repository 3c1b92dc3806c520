/*
 * decode_filterlog.c - pfSense/OPNsense filterlog CSV lines.
 *
 * One split at commas (no quoting exists in this format), then the
 * positions of the IP version's layout and the protocol's tail.  The field
 * list is Netgate's "Filter Log Format" (pfSense 2.2 onwards, OPNsense
 * the same; OPNsense writes a 32-hex-digit rule id as the tracker).
 */
#include "decode/decode_filterlog.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"

/* The longest layout (IPv4 TCP) has 29 fields; the rest is ignored. */
#define FILTERLOG_MAX_FIELDS 32

#define LIT(s) s, sizeof(s) - 1

struct fl_csv {
    struct decode_span f[FILTERLOG_MAX_FIELDS];
    size_t n;
};

static void split(const char *p, size_t len, struct fl_csv *c)
{
    size_t i = 0;

    c->n = 0;
    for (;;) {
        size_t s = i;
        while (i < len && p[i] != ',')
            i++;
        if (c->n < FILTERLOG_MAX_FIELDS) {
            c->f[c->n].p = p + s;
            c->f[c->n].n = i - s;
            c->n++;
        }
        if (i >= len)
            return;
        i++;
    }
}

static struct decode_span at(const struct fl_csv *c, size_t k)
{
    struct decode_span none = {NULL, 0};

    return k < c->n ? c->f[k] : none;
}

static int is_lower_word(struct decode_span s)
{
    if (!s.n || s.n > 16)
        return 0;
    for (size_t k = 0; k < s.n; k++)
        if (!((s.p[k] >= 'a' && s.p[k] <= 'z') || s.p[k] == '-'))
            return 0;
    return 1;
}

int decode_filterlog(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr)
{
    struct fl_csv c;
    struct decode_span action, dir, ver, proto, src, dst, iplen, tracker;
    size_t base; /* index of the first field after the IP header */
    int v6, ok, r;

    (void)ctx;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len < 16 || p[0] < '0' || p[0] > '9')
        return -ENOENT;
    split(p, len, &c);
    if (c.n < 9)
        return -ENOENT;
    action = c.f[6];
    dir = c.f[7];
    ver = c.f[8];
    if (!is_lower_word(action) || !(decode_util_eq(dir, "in") || decode_util_eq(dir, "out")) ||
        !(decode_util_eq(ver, "4") || decode_util_eq(ver, "6")))
        return -ENOENT;
    v6 = decode_util_eq(ver, "6");
    if (v6) {
        proto = at(&c, 12);
        iplen = at(&c, 14);
        src = at(&c, 15);
        dst = at(&c, 16);
        base = 17;
    } else {
        proto = at(&c, 16);
        iplen = at(&c, 17);
        src = at(&c, 18);
        dst = at(&c, 19);
        base = 20;
    }
    if (!decode_util_is_ip(src.p, src.n) || !decode_util_is_ip(dst.p, dst.n)) {
        parse_err_set(reterr, src.p ? (size_t)(src.p - p) : len,
                      "filterlog source or destination is not an address");
        return -EINVAL;
    }
    tracker = c.f[3];
    ok = decode_util_eq(action, "pass");
    if ((r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("filterlog"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("filterlog"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_ID,
                             tracker.n && !decode_util_eq(tracker, "0") ? tracker : c.f[0])) < 0 ||
        (r = decode_util_add_named(ev, LIT("filterlog.rule_number"), c.f[0])) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, c.f[5])) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, action)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr(ok ? "allowed" : "denied"))) <
            0 ||
        (r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                             decode_util_cstr(ok ? "success" : "failure"))) < 0 ||
        (r = decode_util_add_named(ev, LIT("network.direction"),
                                   decode_util_cstr(decode_util_eq(dir, "in") ? "inbound" : "outbound"))) < 0 ||
        (r = decode_util_add(
             ev, decode_util_eq(dir, "in") ? FIELD_OBSERVER_INGRESS_INTERFACE : FIELD_OBSERVER_EGRESS_INTERFACE,
             c.f[4])) < 0 ||
        (r = decode_util_add_named(ev, LIT("network.type"),
                                   decode_util_cstr(v6 ? "ipv6" : "ipv4"))) < 0 ||
        (r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT, proto)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, src)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, dst)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_BYTES, iplen)) < 0)
        return r;
    if (decode_util_eq(proto, "tcp") || decode_util_eq(proto, "udp")) {
        struct decode_span sp = at(&c, base), dp = at(&c, base + 1);
        if ((sp.n && !decode_util_is_port(sp.p, sp.n)) ||
            (dp.n && !decode_util_is_port(dp.p, dp.n))) {
            parse_err_set(reterr, (size_t)((sp.n ? sp.p : dp.p) - p),
                          "filterlog port is not a port");
            return -EINVAL;
        }
        if ((r = decode_util_add(ev, FIELD_SOURCE_PORT, sp)) < 0 ||
            (r = decode_util_add(ev, FIELD_DESTINATION_PORT, dp)) < 0)
            return r;
        if (decode_util_eq(proto, "tcp") &&
            (r = decode_util_add_named(ev, LIT("tcp.flags"), at(&c, base + 3))) < 0)
            return r;
    } else if (decode_util_eq(proto, "icmp") || decode_util_eq(proto, "ipv6-icmp")) {
        if ((r = decode_util_add_named(ev, LIT("icmp.type"), at(&c, base))) < 0)
            return r;
    }
    ev->decoder = "filterlog";
    return 0;
}
