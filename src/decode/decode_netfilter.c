/*
 * decode_netfilter.c - netfilter LOG target lines.
 *
 * The kernel writes "KEY=value" words and bare flag words separated by
 * single spaces (nf_log_syslog.c).  Values are views into the message,
 * except the lowercased transport and a flag list that was not contiguous.
 */
#include "decode/decode_netfilter.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"

struct nf_result {
    struct decode_span prefix, in, out, mac, src, dst, len, ttl, proto, spt, dpt, type, code;
    /* TCP flags: a view while they are adjacent words, else `buf`. */
    struct decode_span flags;
    int flags_split;
    char buf[64];
    size_t buf_n;
};

#define LIT(s) s, sizeof(s) - 1

static int key_is(struct decode_span k, const char *lit, size_t n)
{
    return k.n == n && memcmp(k.p, lit, n) == 0;
}

static int is_tcp_flag(struct decode_span w)
{
    static const char flags[][4] = {"CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN"};

    if (w.n != 3)
        return 0;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (memcmp(w.p, flags[i], 3) == 0)
            return 1;
    return 0;
}

static void add_flag(struct nf_result *res, struct decode_span w)
{
    if (!res->flags.n) {
        res->flags = w;
    } else if (!res->flags_split && res->flags.p + res->flags.n + 1 == w.p) {
        res->flags.n += 1 + w.n;
    } else {
        res->flags_split = 1;
    }
    /* Kept in parallel for the split case; at most 8 distinct flags fit,
     * repeats beyond the buffer are dropped. */
    if (res->buf_n + (res->buf_n ? 1 : 0) + w.n <= sizeof(res->buf)) {
        if (res->buf_n)
            res->buf[res->buf_n++] = ' ';
        memcpy(res->buf + res->buf_n, w.p, w.n);
        res->buf_n += w.n;
    }
}

static void set_once(struct decode_span *dst, struct decode_span v)
{
    if (!dst->p)
        *dst = v;
}

static void keyval(struct nf_result *res, struct decode_span k, struct decode_span v)
{
    if (key_is(k, LIT("IN")))
        set_once(&res->in, v);
    else if (key_is(k, LIT("OUT")))
        set_once(&res->out, v);
    else if (key_is(k, LIT("MAC")))
        set_once(&res->mac, v);
    else if (key_is(k, LIT("SRC")))
        set_once(&res->src, v);
    else if (key_is(k, LIT("DST")))
        set_once(&res->dst, v);
    else if (key_is(k, LIT("LEN")))
        set_once(&res->len, v);
    else if (key_is(k, LIT("TTL")) || key_is(k, LIT("HOPLIMIT")))
        set_once(&res->ttl, v);
    else if (key_is(k, LIT("PROTO")))
        set_once(&res->proto, v);
    else if (key_is(k, LIT("SPT")))
        set_once(&res->spt, v);
    else if (key_is(k, LIT("DPT")))
        set_once(&res->dpt, v);
    else if (key_is(k, LIT("TYPE")))
        set_once(&res->type, v);
    else if (key_is(k, LIT("CODE")))
        set_once(&res->code, v);
}

/* Offset of "IN=" at the start of s or after a space, or -1. */
static long find_in(struct decode_span s)
{
    if (s.n >= 3 && memcmp(s.p, "IN=", 3) == 0)
        return 0;
    for (size_t i = 1; i + 3 <= s.n; i++)
        if (s.p[i - 1] == ' ' && memcmp(s.p + i, "IN=", 3) == 0)
            return (long)i;
    return -1;
}

static int emit(struct event *ev, struct nf_result *res)
{
    int r;

    if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr("netfilter_log"))) < 0 ||
        (r = decode_util_add_named(ev, LIT("netfilter.prefix"), res->prefix)) < 0)
        return r;
    if (decode_util_ci_contains(res->prefix, "BLOCK") || decode_util_ci_contains(res->prefix, "DROP") ||
        decode_util_ci_contains(res->prefix, "REJECT") || decode_util_ci_contains(res->prefix, "DENY")) {
        if ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr("failure"))) < 0 ||
            (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("denied"))) < 0)
            return r;
    } else if (decode_util_ci_contains(res->prefix, "ACCEPT") || decode_util_ci_contains(res->prefix, "ALLOW")) {
        if ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr("success"))) < 0 ||
            (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("allowed"))) < 0)
            return r;
    }
    if ((r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, res->in)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_EGRESS_INTERFACE, res->out)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, res->src)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, res->dst)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, res->spt)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, res->dpt)) < 0)
        return r;
    if (res->proto.n) {
        char *t = arena_alloc(ev->arena, res->proto.n);
        if (!t)
            return -ENOMEM;
        for (size_t k = 0; k < res->proto.n; k++) {
            char c = res->proto.p[k];
            t[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        if ((r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT, (struct decode_span){t, res->proto.n})) < 0)
            return r;
    }
    if (res->flags.n) {
        if (!res->flags_split) {
            if ((r = decode_util_add_named(ev, LIT("tcp.flags"), res->flags)) < 0)
                return r;
        } else {
            r = event_add_copy(ev, field_intern(LIT("tcp.flags")), res->buf, res->buf_n);
            if (r == -ENOMEM)
                return r;
        }
    }
    if ((r = decode_util_add_named(ev, LIT("netfilter.mac"), res->mac)) < 0 ||
        (r = decode_util_add_named(ev, LIT("netfilter.len"), res->len)) < 0 ||
        /* One packet's length: what its source sent (summed by the outbound
         * volume detector, docs/anomaly.md). */
        (r = decode_util_add(ev, FIELD_SOURCE_BYTES, res->len)) < 0 ||
        (r = decode_util_add_named(ev, LIT("netfilter.ttl"), res->ttl)) < 0 ||
        (r = decode_util_add_named(ev, LIT("icmp.type"), res->type)) < 0 ||
        (r = decode_util_add_named(ev, LIT("icmp.code"), res->code)) < 0)
        return r;
    return 0;
}

int decode_netfilter(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr)
{
    struct nf_result res;
    struct decode_span m = {p, len}, pre;
    size_t i = 0;
    long in;

    (void)ctx;
    memset(&res, 0, sizeof(res));
    while (i < len && p[i] == ' ')
        i++;
    /* "[ 1234.567890] " kernel uptime, when the syslog daemon kept it. */
    if (i < len && p[i] == '[') {
        size_t k = i + 1;
        while (k < len && (p[k] == ' ' || p[k] == '.' || (p[k] >= '0' && p[k] <= '9')))
            k++;
        if (k < len && p[k] == ']' && k > i + 1) {
            i = k + 1;
            while (i < len && p[i] == ' ')
                i++;
        }
    }
    m.p = p + i;
    m.n = len - i;
    if ((in = find_in(m)) < 0 || !memmem(m.p + in, m.n - (size_t)in, " SRC=", 5))
        return -ENOENT;
    pre.p = m.p;
    pre.n = (size_t)in;
    /* "--log-prefix 'DROP-IN: '" is the common style; the colon is
     * punctuation, not part of the name. */
    while (pre.n && (pre.p[pre.n - 1] == ' ' || pre.p[pre.n - 1] == ':'))
        pre.n--;
    res.prefix = pre;

    for (size_t k = (size_t)in; k < m.n;) {
        struct decode_span w;
        const char *eq;

        if (m.p[k] == ' ') {
            k++;
            continue;
        }
        if (m.p[k] == '[') {
            /* The packet quoted by an ICMP error: skip it whole. */
            int depth = 0;
            while (k < m.n) {
                depth += m.p[k] == '[';
                depth -= m.p[k] == ']';
                k++;
                if (depth == 0)
                    break;
            }
            continue;
        }
        w.p = m.p + k;
        while (k < m.n && m.p[k] != ' ')
            k++;
        w.n = (size_t)(m.p + k - w.p);
        eq = memchr(w.p, '=', w.n);
        if (eq) {
            struct decode_span key = {w.p, (size_t)(eq - w.p)};
            struct decode_span val = {eq + 1, w.n - key.n - 1};
            keyval(&res, key, val);
        } else if (is_tcp_flag(w)) {
            add_flag(&res, w);
        }
    }

    if (!decode_util_is_ip(res.src.p, res.src.n)) {
        parse_err_set(reterr, res.src.p ? (size_t)(res.src.p - p) : i, "SRC= is not an address");
        return -EINVAL;
    }
    if (res.dst.p && !decode_util_is_ip(res.dst.p, res.dst.n)) {
        parse_err_set(reterr, (size_t)(res.dst.p - p), "DST= is not an address");
        return -EINVAL;
    }
    if ((res.spt.p && !decode_util_is_port(res.spt.p, res.spt.n)) ||
        (res.dpt.p && !decode_util_is_port(res.dpt.p, res.dpt.n))) {
        parse_err_set(reterr, i, "SPT=/DPT= is not a port");
        return -EINVAL;
    }
    {
        int r = emit(ev, &res);
        if (r < 0)
            return r;
    }
    ev->decoder = "netfilter";
    return 0;
}
