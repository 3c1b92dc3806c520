/*
 * decode_srx.c - Juniper SRX RT_FLOW session logs.
 *
 * The structured-data form arrives already split by decode_rfc5424 into
 * fields named log.syslog.structured_data.junos@ID.PARAM; the params are
 * looked up by the name's last component (the SD-ID holds dots, the param
 * names do not).  The BSD form is read from its text.
 */
#include "decode/decode_srx.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"

#define LIT(s) s, sizeof(s) - 1
#define SD_JUNOS "log.syslog.structured_data.junos@"

enum srx_param {
    SP_SRC,
    SP_SPORT,
    SP_DST,
    SP_DPORT,
    SP_NSRC,
    SP_NSPORT,
    SP_NDST,
    SP_NDPORT,
    SP_PROTO,
    SP_POLICY,
    SP_SZONE,
    SP_DZONE,
    SP_IFACE,
    SP_USER,
    SP_APP,
    SP_REASON,
    SP_CBYTES,
    SP_SBYTES,
    SP_SERVICE,
    SP_SESSION,
    SP_N
};

static const char *const srx_params[SP_N] = {
    "source-address",
    "source-port",
    "destination-address",
    "destination-port",
    "nat-source-address",
    "nat-source-port",
    "nat-destination-address",
    "nat-destination-port",
    "protocol-id",
    "policy-name",
    "source-zone-name",
    "destination-zone-name",
    "packet-incoming-interface",
    "username",
    "application",
    "reason",
    "bytes-from-client",
    "bytes-from-server",
    "service-name",
    "session-id-32",
};

/* Collects the junos@ structured-data params; returns how many were found. */
static size_t collect(const struct event *ev, struct decode_span *v)
{
    size_t found = 0;

    for (uint32_t i = 0; i < ev->nfields; i++) {
        const char *name = field_name(ev->fields[i].id), *dot;
        size_t n;

        if (!name || strncmp(name, SD_JUNOS, sizeof(SD_JUNOS) - 1) != 0)
            continue;
        dot = strrchr(name, '.');
        n = strlen(dot + 1);
        for (int k = 0; k < SP_N; k++) {
            if (!v[k].p && strlen(srx_params[k]) == n && memcmp(srx_params[k], dot + 1, n) == 0) {
                v[k].p = ev->fields[i].val;
                v[k].n = ev->fields[i].len;
                found++;
                break;
            }
        }
    }
    return found;
}

/* "A/p" */
static void endpoint(struct decode_span s, struct decode_span *a, struct decode_span *port)
{
    const char *sl = s.n ? memchr(s.p, '/', s.n) : NULL;

    *a = s;
    port->p = NULL;
    port->n = 0;
    if (sl) {
        a->n = (size_t)(sl - s.p);
        port->p = sl + 1;
        port->n = s.n - a->n - 1;
    }
}

/* The BSD text: "session created|closed|denied A/p->B/q ..." somewhere
 * near the start. */
static void from_text(const char *p, size_t len, struct decode_span *v)
{
    const char *s = memmem(p, len < 256 ? len : 256, "session ", 8), *sp, *arrow, *end;
    struct decode_span w;

    if (!s)
        return;
    s += 8;
    sp = memchr(s, ' ', (size_t)(p + len - s));
    if (!sp)
        return;
    w.p = sp + 1;
    end = memchr(w.p, ' ', (size_t)(p + len - w.p));
    w.n = (size_t)((end ? end : p + len) - w.p);
    arrow = memmem(w.p, w.n, "->", 2);
    if (!arrow)
        return;
    endpoint((struct decode_span){w.p, (size_t)(arrow - w.p)}, &v[SP_SRC], &v[SP_SPORT]);
    endpoint((struct decode_span){arrow + 2, w.n - (size_t)(arrow - w.p) - 2}, &v[SP_DST],
             &v[SP_DPORT]);
}

int decode_srx(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
               struct parse_err *reterr)
{
    struct decode_span v[SP_N], msgid = {NULL, 0};
    size_t mn = 0;
    const char *m = event_get(ev, FIELD_LOG_SYSLOG_MSGID, &mn);
    int deny, r;

    (void)ctx;
    memset(v, 0, sizeof(v));
    if (m && mn > 16 && memcmp(m, "RT_FLOW_SESSION_", 16) == 0 && collect(ev, v)) {
        msgid.p = m;
        msgid.n = mn;
    } else if (len > 16 && memcmp(p, "RT_FLOW_SESSION_", 16) == 0) {
        const char *c = memchr(p, ':', len);
        msgid.p = p;
        msgid.n = c ? (size_t)(c - p) : len;
        from_text(p, len, v);
    } else {
        return -ENOENT;
    }
    if ((v[SP_SRC].n && !decode_util_is_ip(v[SP_SRC].p, v[SP_SRC].n)) ||
        (v[SP_DST].n && !decode_util_is_ip(v[SP_DST].p, v[SP_DST].n))) {
        parse_err_set(reterr, 0, "RT_FLOW source or destination is not an address");
        return -EINVAL;
    }
    if ((v[SP_SPORT].n && !decode_util_is_port(v[SP_SPORT].p, v[SP_SPORT].n)) ||
        (v[SP_DPORT].n && !decode_util_is_port(v[SP_DPORT].p, v[SP_DPORT].n))) {
        parse_err_set(reterr, 0, "RT_FLOW port is not a port");
        return -EINVAL;
    }
    deny = decode_util_eq(msgid, "RT_FLOW_SESSION_DENY");
    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("Juniper"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("SRX"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("juniper.srx"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, msgid)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr(deny ? "denied" : "allowed"))) <
            0 ||
        (r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                             decode_util_cstr(deny ? "failure" : "success"))) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, v[SP_SRC])) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, v[SP_SPORT])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, v[SP_DST])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, v[SP_DPORT])) < 0 ||
        (r = decode_util_add_nat(ev, LIT("source.nat.ip"), v[SP_NSRC], 0)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("source.nat.port"), v[SP_NSPORT], 1)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("destination.nat.ip"), v[SP_NDST], 0)) < 0 ||
        (r = decode_util_add_nat(ev, LIT("destination.nat.port"), v[SP_NDPORT], 1)) < 0 ||
        (r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT, decode_util_iana_transport(v[SP_PROTO]))) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, v[SP_POLICY])) < 0 ||
        (r = decode_util_add_named(ev, LIT("observer.ingress.zone"), v[SP_SZONE])) < 0 ||
        (r = decode_util_add_named(ev, LIT("observer.egress.zone"), v[SP_DZONE])) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, v[SP_IFACE])) < 0 ||
        (!decode_util_eq(v[SP_USER], "N/A") && (r = decode_util_add(ev, FIELD_USER_NAME, v[SP_USER])) < 0) ||
        (!decode_util_eq(v[SP_APP], "UNKNOWN") &&
         (r = decode_util_add_named(ev, LIT("network.application"), v[SP_APP])) < 0) ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, v[SP_REASON])) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_BYTES, v[SP_CBYTES])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_BYTES, v[SP_SBYTES])) < 0 ||
        (r = decode_util_add_named(ev, LIT("srx.service_name"), v[SP_SERVICE])) < 0 ||
        (r = decode_util_add_named(ev, LIT("srx.session_id"), v[SP_SESSION])) < 0)
        return r;
    ev->decoder = "juniper-srx";
    return 0;
}
