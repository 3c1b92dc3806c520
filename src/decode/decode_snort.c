/*
 * decode_snort.c - Snort/Suricata fast.log, syslog and CSV alerts.
 *
 * The three forms share the alert's identity ([gid:sid:rev], message,
 * classification, priority, protocol, the two endpoints); the fast and
 * syslog forms are read from their bracketed markers, the CSV form by
 * column.  A line is taken only when it has an alert's shape (a
 * "[gid:sid:rev]" of digits, or a CSV row with the digits in those
 * columns), so other text is declined with nothing added.  Values are
 * views into the line except the lowercased transport.
 */
#include "decode/decode_snort.h"

#include <errno.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"

#define LIT(s) s, sizeof(s) - 1

/*
 * Snort's own field names (no FIELD_ constant), their ids kept per thread
 * for the dictionary generation that gave them: one compare a name where
 * decode_fieldid_intern() hashed and compared it (about 500 of an alert's
 * 4.3k instructions, issue 24).  A name is asked for where its field is
 * added, as before, so the dictionary sees the same requests in the same
 * order; a refusal (FIELD_NONE) is not kept, the dictionary counts each.
 */
enum {
    SN_RULE_VERSION,
    SN_GID,
    SN_SOURCE_MAC,
    SN_DESTINATION_MAC,
    SN_TCP_FLAGS,
    SN_IP_TTL,
    SN_ICMP_TYPE,
    SN_ICMP_CODE,
    SN_NAMES
};

static const struct {
    const char *name;
    size_t n;
} sn_names[SN_NAMES] = {
    [SN_RULE_VERSION] = {LIT("rule.version")}, [SN_GID] = {LIT("snort.gid")},
    [SN_SOURCE_MAC] = {LIT("source.mac")},     [SN_DESTINATION_MAC] = {LIT("destination.mac")},
    [SN_TCP_FLAGS] = {LIT("tcp.flags")},       [SN_IP_TTL] = {LIT("ip.ttl")},
    [SN_ICMP_TYPE] = {LIT("icmp.type")},       [SN_ICMP_CODE] = {LIT("icmp.code")},
};

struct sn_ids {
    uint32_t gen[SN_NAMES];
    uint32_t id[SN_NAMES]; /* FIELD_NONE: not asked yet in this generation */
};

static _Thread_local struct sn_ids sn_ids_tls;

/* decode_util_add_named() for name k: nothing for an empty span, the name
 * asked for only then.  ids: this thread's (its address taken once a
 * record: a _Thread_local access in these -fPIC libraries is a call). */
static inline int sn_add(struct event *ev, struct sn_ids *ids, uint32_t gen, int k,
                         struct decode_span s)
{
    if (!s.n)
        return 0;
    if (ids->id[k] == FIELD_NONE || ids->gen[k] != gen) {
        ids->id[k] = decode_fieldid_intern(sn_names[k].name, sn_names[k].n);
        ids->gen[k] = gen;
    }
    return decode_util_add(ev, ids->id[k], s);
}
/* Columns of alert_csv's default order that are read; more are ignored. */
#define SNORT_CSV_COLS 27

struct snort_alert {
    struct decode_span gid, sid, rev, msg, cls, prio, proto, sip, sport, dip, dport;
    struct decode_span smac, dmac, flags, ttl, icmp_type, icmp_code, iface;
    const char *action;
};

static int digits(struct decode_span s)
{
    if (!s.n)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
    return 1;
}

static int num(const char *p, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static int is_d(const char *p, size_t len, size_t i)
{
    return i < len && p[i] >= '0' && p[i] <= '9';
}

/*
 * "MM/DD[/YY|/YYYY]-hh:mm:ss[.ffffff]" at p: the instant into *ret_us and
 * the length read; 0 when it is not that.  Snort writes local time.
 */
static size_t parse_time(const char *p, size_t len, const struct decode_ctx *ctx, int64_t *ret_us)
{
    size_t i = 5, k;
    int mon, day, year = -1, h, m, s;
    int64_t frac = 0, scale = 100000;

    if (!(is_d(p, len, 0) && is_d(p, len, 1) && len > 2 && p[2] == '/' && is_d(p, len, 3) &&
          is_d(p, len, 4)))
        return 0;
    mon = num(p, 2);
    day = num(p + 3, 2);
    if (i < len && p[i] == '/') {
        k = i + 1;
        while (is_d(p, len, k) && k - i - 1 < 4)
            k++;
        if (k - i - 1 == 2)
            year = 2000 + num(p + i + 1, 2);
        else if (k - i - 1 == 4)
            year = num(p + i + 1, 4);
        else
            return 0;
        i = k;
    }
    if (!(i + 9 <= len && p[i] == '-' && is_d(p, len, i + 1) && is_d(p, len, i + 2) &&
          p[i + 3] == ':' && is_d(p, len, i + 4) && is_d(p, len, i + 5) && p[i + 6] == ':' &&
          is_d(p, len, i + 7) && is_d(p, len, i + 8)))
        return 0;
    h = num(p + i + 1, 2);
    m = num(p + i + 4, 2);
    s = num(p + i + 7, 2);
    i += 9;
    if (i < len && p[i] == '.') {
        i++;
        for (k = 0; is_d(p, len, i) && k < 9; k++, i++) {
            if (scale) {
                frac += (p[i] - '0') * scale;
                scale /= 10;
            }
        }
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60)
        return 0;
    if (year < 0) {
        if (time_infer_year(mon, day, h * 3600 + m * 60 + s, frac, ctx ? ctx->ref_us : 0,
                            ctx ? ctx->prev_us : 0, ctx ? ctx->tz : NULL, ret_us) < 0)
            return 0;
    } else {
        int64_t local = time_from_civil(year, mon, day, h, m, s);
        int64_t utc = ctx && ctx->tz ? tz_local_to_utc(ctx->tz, local) : local;
        *ret_us = utc * 1000000 + frac;
    }
    return i;
}

/* "[gid:sid:rev]" at the start of s; 0 or -1. */
static int gsr(struct decode_span s, struct snort_alert *a, size_t *ret_len)
{
    const char *end = s.n ? memchr(s.p, ']', s.n < 64 ? s.n : 64) : NULL;
    const char *c1, *c2;

    if (!s.n || s.p[0] != '[' || !end)
        return -1;
    c1 = memchr(s.p + 1, ':', (size_t)(end - s.p - 1));
    c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (!c2)
        return -1;
    a->gid = (struct decode_span){s.p + 1, (size_t)(c1 - s.p - 1)};
    a->sid = (struct decode_span){c1 + 1, (size_t)(c2 - c1 - 1)};
    a->rev = (struct decode_span){c2 + 1, (size_t)(end - c2 - 1)};
    if (!digits(a->gid) || !digits(a->sid) || !digits(a->rev))
        return -1;
    *ret_len = (size_t)(end - s.p) + 1;
    return 0;
}

static const char *find(const char *p, const char *end, const char *s, size_t n)
{
    return p < end ? decode_util_find(p, (size_t)(end - p), s, n) : NULL;
}

/* "addr", "addr:port", "[v6]:port"; a port only for protocols with ports. */
static int endpoint(struct decode_span t, int ports, struct decode_span *ip,
                    struct decode_span *port)
{
    const char *colon;

    if (t.n > 2 && t.p[0] == '[') {
        const char *rb = memchr(t.p, ']', t.n);
        if (!rb)
            return -1;
        ip->p = t.p + 1;
        ip->n = (size_t)(rb - t.p - 1);
        if (rb + 1 < t.p + t.n) {
            if (rb[1] != ':')
                return -1;
            port->p = rb + 2;
            port->n = (size_t)(t.p + t.n - port->p);
        }
    } else if (ports && (colon = memrchr(t.p, ':', t.n)) &&
               decode_util_is_ip(t.p, (size_t)(colon - t.p)) &&
               decode_util_is_port(colon + 1, (size_t)(t.p + t.n - colon - 1))) {
        ip->p = t.p;
        ip->n = (size_t)(colon - t.p);
        port->p = colon + 1;
        port->n = (size_t)(t.p + t.n - port->p);
    } else {
        *ip = t;
    }
    if (!decode_util_is_ip(ip->p, ip->n) || (port->n && !decode_util_is_port(port->p, port->n)))
        return -1;
    return 0;
}

static int has_ports(struct decode_span proto)
{
    static const char *const with[] = {"tcp", "udp", "sctp"};

    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(with[i]);
        if (proto.n == n) {
            size_t k = 0;
            while (k < n && (proto.p[k] | 0x20) == with[i][k])
                k++;
            if (k == n)
                return 1;
        }
    }
    return 0;
}

/* 1 if the n bytes of lit are at q, before end. */
static inline int at(const char *q, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - q) >= n && memcmp(q, lit, n) == 0;
}

/* Where the message from p ends: the first of " [**]", " [Classification:
 * ", " [Priority: " and " {" (each begins with a blank), or end.  One
 * pass over the blanks instead of a search of the rest of the line for
 * each marker (four calls, 900 of a fast.log alert's instructions). */
static const char *msg_end(const char *p, const char *end)
{
    const char *base = p;
    size_t n = (size_t)(end - p);

    for (size_t i = 0; (i = decode_util_scan_to(base, i, n, ' ')) < n; i++) {
        const char *q = base + i;

        if (i + 1 < n && (q[1] == '{' || (q[1] == '[' && (at(q, end, LIT(" [**]")) ||
                                                          at(q, end, LIT(" [Classification: ")) ||
                                                          at(q, end, LIT(" [Priority: "))))))
            return q;
    }
    return end;
}

/* The fast.log or syslog body from the "[gid:sid:rev]" (or a Suricata
 * verdict before the "[**]") on; -1 when it is not an alert. */
static int read_fast(struct decode_span s, struct snort_alert *a, size_t *ret_bad)
{
    const char *p = s.p, *end = s.p + s.n, *m, *q;
    size_t n;

    if (s.n >= 6 && memcmp(p, "[Drop]", 6) == 0) {
        a->action = "drop";
        p += 6;
    } else if (s.n >= 7 && memcmp(p, "[wDrop]", 7) == 0) {
        a->action = "wdrop";
        p += 7;
    }
    while (p < end && *p == ' ')
        p++;
    if (end - p >= 4 && memcmp(p, "[**]", 4) == 0) {
        p += 4;
        while (p < end && *p == ' ')
            p++;
    }
    if (gsr((struct decode_span){p, (size_t)(end - p)}, a, &n) < 0)
        return -1;
    p += n;
    while (p < end && *p == ' ')
        p++;
    /* The message ends at the first marker that follows it. */
    m = msg_end(p, end);
    a->msg = (struct decode_span){p, (size_t)(m - p)};
    p = m;
    if ((q = find(p, end, LIT("[Classification: ")))) {
        const char *e = memchr(q, ']', (size_t)(end - q));
        if (e) {
            a->cls = (struct decode_span){q + 17, (size_t)(e - q - 17)};
            p = e + 1;
        }
    }
    if ((q = find(p, end, LIT("[Priority: ")))) {
        const char *e = memchr(q, ']', (size_t)(end - q));
        if (e) {
            a->prio = (struct decode_span){q + 11, (size_t)(e - q - 11)};
            p = e + 1;
        }
    }
    if ((q = find(p, end, LIT("<"))) && q < end) {
        const char *e = memchr(q, '>', (size_t)(end - q));
        const char *brace = find(p, end, LIT("{"));
        if (e && (!brace || e < brace)) {
            a->iface = (struct decode_span){q + 1, (size_t)(e - q - 1)};
            p = e + 1;
        }
    }
    if ((q = find(p, end, LIT("{")))) {
        const char *e = memchr(q, '}', (size_t)(end - q));
        const char *arrow;
        struct decode_span src, dst;
        int ports;

        if (!e) {
            *ret_bad = (size_t)(q - s.p);
            return -2;
        }
        a->proto = (struct decode_span){q + 1, (size_t)(e - q - 1)};
        ports = has_ports(a->proto);
        p = e + 1;
        while (p < end && *p == ' ')
            p++;
        arrow = find(p, end, LIT(" -> "));
        if (!arrow) {
            *ret_bad = (size_t)(p - s.p);
            return -2;
        }
        src = (struct decode_span){p, (size_t)(arrow - p)};
        dst.p = arrow + 4;
        dst.n = 0;
        while (dst.p + dst.n < end && dst.p[dst.n] != ' ')
            dst.n++;
        if (endpoint(src, ports, &a->sip, &a->sport) < 0) {
            *ret_bad = (size_t)(src.p - s.p);
            return -2;
        }
        if (endpoint(dst, ports, &a->dip, &a->dport) < 0) {
            *ret_bad = (size_t)(dst.p - s.p);
            return -2;
        }
    }
    return 0;
}

/* alert_csv after the timestamp column (s starts at its first comma). */
static int read_csv(struct decode_span s, struct snort_alert *a, size_t *ret_bad)
{
    struct decode_span col[SNORT_CSV_COLS];
    const char *p = s.p, *end = s.p + s.n;
    size_t nc = 0;
    int ports;

    memset(col, 0, sizeof(col));
    while (p < end && *p == ',' && nc < SNORT_CSV_COLS) {
        p++;
        if (p < end && *p == '"') {
            const char *q = p + 1;
            /* a quoted column ends at a quote before a comma or the end;
             * the quotes found 16 bytes a step (decode_util_scan_to) */
            for (;;) {
                q = s.p + decode_util_scan_to(s.p, (size_t)(q - s.p), s.n, '"');
                if (q >= end || q + 1 == end || q[1] == ',')
                    break;
                q++;
            }
            if (q >= end)
                return -1;
            col[nc].p = p + 1;
            col[nc].n = (size_t)(q - p - 1);
            p = q + 1;
        } else {
            col[nc].p = p;
            p = s.p + decode_util_scan_to(s.p, (size_t)(p - s.p), s.n, ',');
            col[nc].n = (size_t)(p - col[nc].p);
        }
        nc++;
    }
    /* gid, sid, rev, msg, proto, src, srcport, dst, dstport at least */
    if (nc < 9 || !digits(col[0]) || !digits(col[1]) || !digits(col[2]))
        return -1;
    a->gid = col[0];
    a->sid = col[1];
    a->rev = col[2];
    a->msg = col[3];
    a->proto = col[4];
    ports = has_ports(a->proto);
    if (!decode_util_is_ip(col[5].p, col[5].n) || !decode_util_is_ip(col[7].p, col[7].n)) {
        *ret_bad = (size_t)((col[5].p ? col[5].p : s.p) - s.p);
        return -2;
    }
    a->sip = col[5];
    a->dip = col[7];
    if (ports) {
        if ((col[6].n && !decode_util_is_port(col[6].p, col[6].n)) ||
            (col[8].n && !decode_util_is_port(col[8].p, col[8].n))) {
            *ret_bad = (size_t)(col[6].p - s.p);
            return -2;
        }
        a->sport = col[6];
        a->dport = col[8];
    }
    a->smac = col[9];
    a->dmac = col[10];
    a->flags = col[12];
    a->ttl = col[17];
    a->icmp_type = col[22];
    a->icmp_code = col[23];
    return 0;
}

static int emit(struct event *ev, const struct snort_alert *a)
{
    struct sn_ids *ids = &sn_ids_tls;
    uint32_t gen = field_generation();
    int r;

    if ((r = decode_util_add(ev, FIELD_EVENT_KIND, decode_util_cstr("alert"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("intrusion_detection"))) <
            0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("snort.alert"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION,
                             decode_util_cstr(a->action ? a->action : "alert"))) < 0 ||
        (a->action &&
         (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("denied"))) < 0) ||
        (r = decode_util_add(ev, FIELD_RULE_ID, a->sid)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_RULE_VERSION, a->rev)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_GID, a->gid)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, a->msg)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_CATEGORY, a->cls)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_SEVERITY, a->prio)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, a->sip)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, a->sport)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, a->dip)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, a->dport)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_SOURCE_MAC, a->smac)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_DESTINATION_MAC, a->dmac)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_TCP_FLAGS, a->flags)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_IP_TTL, a->ttl)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_ICMP_TYPE, a->icmp_type)) < 0 ||
        (r = sn_add(ev, ids, gen, SN_ICMP_CODE, a->icmp_code)) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, a->iface)) < 0)
        return r;
    if (a->proto.n) {
        char *t = arena_alloc(ev->arena, a->proto.n);
        if (!t)
            return -ENOMEM;
        for (size_t k = 0; k < a->proto.n; k++) {
            char c = a->proto.p[k];
            t[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        if ((r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT,
                                 (struct decode_span){t, a->proto.n})) < 0)
            return r;
    }
    return 0;
}

int decode_snort(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr)
{
    struct snort_alert a;
    struct decode_span body;
    int64_t t_us = 0;
    size_t tl = parse_time(p, len, ctx, &t_us), i = tl, bad = 0;
    int r;

    memset(&a, 0, sizeof(a));
    while (i < len && p[i] == ' ')
        i++;
    body = (struct decode_span){p + i, len - i};
    if (tl && i < len && p[i] == ',')
        r = read_csv(body, &a, &bad);
    else
        r = read_fast(body, &a, &bad);
    if (r == -1)
        return -ENOENT;
    if (r == -2) {
        parse_err_set(reterr, i + bad, "alert endpoints are not address[:port] -> address[:port]");
        return -EINVAL;
    }
    if (tl && (r = event_set_time(ev, t_us, p, tl)) < 0)
        return r;
    if ((r = emit(ev, &a)) < 0)
        return r;
    ev->decoder = "snort";
    return 0;
}
