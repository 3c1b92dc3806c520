/*
 * decode_bind.c - BIND 9 query and denied-query lines (see decode_bind.h).
 *
 * Every value is a view into the message; nothing is copied.
 */
#include "decode/decode_bind.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_text.h"
#include "event/event.h"
#include "event/time.h"

struct bind_result {
    const char *action;
    struct decode_span ip, port, server, name, type, klass, flags, view;
};

/* "DD-Mon-YYYY HH:MM:SS.mmm " of named's own log files: its time. */
static struct decode_span file_time(struct decode_span m, const struct decode_ctx *ctx,
                                    struct decode_span *ret_tm, int64_t *ret_us)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int day, mon = -1, year, hh, mm, ss, ms = 0;

    ret_tm->p = NULL;
    ret_tm->n = 0;
    if (m.n < 21 || m.p[2] != '-' || m.p[6] != '-' || m.p[11] != ' ' || m.p[14] != ':' ||
        m.p[17] != ':')
        return m;
    for (int i = 0; i < 12; i++)
        if (memcmp(m.p + 3, months + 3 * i, 3) == 0)
            mon = i + 1;
    for (int i = 0; i < 20; i++)
        if (i != 2 && i != 3 && i != 4 && i != 5 && i != 6 && i != 11 && i != 14 && i != 17 &&
            (m.p[i] < '0' || m.p[i] > '9'))
            return m;
    if (mon < 0)
        return m;
    day = (m.p[0] - '0') * 10 + (m.p[1] - '0');
    year = (m.p[7] - '0') * 1000 + (m.p[8] - '0') * 100 + (m.p[9] - '0') * 10 + (m.p[10] - '0');
    hh = (m.p[12] - '0') * 10 + (m.p[13] - '0');
    mm = (m.p[15] - '0') * 10 + (m.p[16] - '0');
    ss = (m.p[18] - '0') * 10 + (m.p[19] - '0');
    {
        size_t k = 20;
        if (k < m.n && m.p[k] == '.') {
            int digits = 0;
            for (k++; k < m.n && m.p[k] >= '0' && m.p[k] <= '9' && digits < 3; k++, digits++)
                ms = ms * 10 + (m.p[k] - '0');
            while (digits++ < 3)
                ms *= 10;
        }
        if (k >= m.n || m.p[k] != ' ')
            return m;
        if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
            return m;
        *ret_us =
            tz_local_to_utc(ctx ? ctx->tz : NULL, time_from_civil(year, mon, day, hh, mm, ss)) *
                1000000LL +
            (int64_t)ms * 1000;
        *ret_tm = (struct decode_span){m.p, k};
        return text_skip(m, k + 1);
    }
}

/* "IP#PORT" */
static int client_addr(struct decode_span w, struct bind_result *res)
{
    const char *hash = memchr(w.p, '#', w.n);

    if (!hash)
        return 0;
    res->ip = (struct decode_span){w.p, (size_t)(hash - w.p)};
    res->port = text_skip(w, res->ip.n + 1);
    return decode_util_is_ip(res->ip.p, res->ip.n) && decode_util_is_port(res->port.p, res->port.n);
}

/* "NAME/TYPE/CLASS" inside quotes */
static void triple(struct decode_span q, struct bind_result *res)
{
    const char *s2 = memrchr(q.p, '/', q.n), *s1;

    if (!s2 || s2 == q.p)
        return;
    s1 = memrchr(q.p, '/', (size_t)(s2 - q.p));
    if (!s1)
        return;
    res->name = (struct decode_span){q.p, (size_t)(s1 - q.p)};
    res->type = (struct decode_span){s1 + 1, (size_t)(s2 - s1 - 1)};
    res->klass = (struct decode_span){s2 + 1, (size_t)(q.p + q.n - s2 - 1)};
}

static int parse(struct decode_span m, struct bind_result *res)
{
    struct decode_span w, rest;

    if (text_starts(m, TEXT_LIT("queries: info: ")))
        m = text_skip(m, 15);
    else if (text_starts(m, TEXT_LIT("security: error: ")))
        m = text_skip(m, 17);
    if (!text_starts(m, TEXT_LIT("client ")))
        return -ENOENT;
    m = text_skip(m, 7);
    if (text_starts(m, TEXT_LIT("@0x"))) {
        w = text_upto(m, " ");
        m = text_skip(m, w.n + 1);
    }
    /* "IP#PORT" ends at a blank, or at the ": " when no name follows; an
     * IPv6 address holds colons itself */
    w = text_upto(m, " ");
    if (w.n && w.p[w.n - 1] == ':')
        w.n--;
    if (!client_addr(w, res))
        return -ENOENT;
    m = text_skip(m, w.n);
    if (text_starts(m, TEXT_LIT(" ("))) {
        struct decode_span sig = text_upto(text_skip(m, 2), ")");
        m = text_skip(m, sig.n + 3);
    }
    if (!text_starts(m, TEXT_LIT(": ")))
        return -ENOENT;
    m = text_skip(m, 2);
    if (text_starts(m, TEXT_LIT("view "))) {
        res->view = text_upto(text_skip(m, 5), ":");
        m = text_skip(m, 5 + res->view.n);
        if (!text_starts(m, TEXT_LIT(": ")))
            return -ENOENT;
        m = text_skip(m, 2);
    }
    if (text_starts(m, TEXT_LIT("query: "))) {
        /* "NAME CLASS TYPE FLAGS (SERVER)" */
        rest = text_skip(m, 7);
        res->name = text_upto(rest, " ");
        rest = text_skip(rest, res->name.n + 1);
        res->klass = text_upto(rest, " ");
        rest = text_skip(rest, res->klass.n + 1);
        res->type = text_upto(rest, " ");
        rest = text_skip(rest, res->type.n + 1);
        res->flags = text_upto(rest, " ");
        res->server = text_between(text_skip(rest, res->flags.n), TEXT_LIT(" ("), ')');
        if (!res->name.n || !res->type.n)
            return -ENOENT;
        res->action = "dns_query";
        return 0;
    }
    if ((text_starts(m, TEXT_LIT("query")) || text_starts(m, TEXT_LIT("zone transfer"))) &&
        m.n > 7 && memcmp(m.p + m.n - 7, " denied", 7) == 0) {
        struct decode_span q = text_between(m, TEXT_LIT("'"), '\'');
        if (q.p)
            triple(q, res);
        res->action = m.p[0] == 'z' ? "zone_transfer_denied" : "dns_query_denied";
        return 0;
    }
    return -ENOENT;
}

int decode_bind(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    struct decode_span m = {p, len}, tm;
    struct bind_result res;
    int64_t us = 0;
    int denied, tcp, r;

    (void)reterr;
    memset(&res, 0, sizeof(res));
    m = file_time(m, ctx, &tm, &us);
    if ((r = parse(m, &res)) < 0)
        return r;
    denied = strcmp(res.action, "dns_query") != 0;
    tcp = res.flags.n && memchr(res.flags.p, 'T', res.flags.n) != NULL;
    if ((tm.n && (r = event_set_time(ev, us, tm.p, tm.n)) < 0) ||
        (r = decode_util_add(ev, FIELD_EVENT_KIND, decode_util_cstr("event"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_MODULE, decode_util_cstr("bind"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("bind.query"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, decode_util_cstr(res.action))) < 0 ||
        (denied &&
         ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr("failure"))) < 0 ||
          (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("denied"))) < 0)) ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, res.ip)) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, res.port)) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, text_ip(res.server))) < 0 ||
        (r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT,
                             decode_util_cstr(res.flags.n ? (tcp ? "tcp" : "udp") : ""))) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dns.question.name"), res.name)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dns.question.type"), res.type)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("dns.question.class"), res.klass)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("bind.flags"), res.flags)) < 0 ||
        (r = decode_util_add_named(ev, TEXT_LIT("bind.view"), res.view)) < 0)
        return r;
    ev->decoder = "bind";
    return 0;
}
