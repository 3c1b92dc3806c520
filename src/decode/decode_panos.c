/*
 * decode_panos.c - Palo Alto Networks PAN-OS CSV syslog, read by position.
 *
 * The record is split once into at most PANOS_MAX_FIELDS spans (fields
 * past that are ignored: no PAN-OS type documents that many we map), then
 * each log type's table says which position becomes which field.  The
 * positions are Palo Alto's "Syslog Field Descriptions" (see
 * decode_panos.h for the versions); a table row past the end of a shorter,
 * older line is simply absent.
 */
#include "decode/decode_panos.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"

/* GLOBALPROTECT, the widest type we map, documents 49 fields; THREAT in
 * PAN-OS 11 about 120.  Positions beyond this are never mapped. */
#define PANOS_MAX_FIELDS 64

#define LIT(s) s, sizeof(s) - 1

struct panos_csv {
    struct decode_span f[PANOS_MAX_FIELDS];
    unsigned char esc[PANOS_MAX_FIELDS]; /* 1: quoted and holding "" */
    size_t n;
};

/* How a mapped position is checked and kept. */
enum panos_kind {
    PK_TEXT,    /* as written, when not empty */
    PK_IP,      /* an address: -EINVAL otherwise */
    PK_NAT_IP,  /* an address, absent when 0.0.0.0 or not an address */
    PK_PORT,    /* a port: -EINVAL otherwise */
    PK_NAT_PORT /* a port, absent when 0 or not a port */
};

struct panos_map {
    uint8_t pos;
    uint8_t kind;
    uint32_t id;      /* fixed field id, or FIELD_NONE for `name` */
    const char *name; /* product or other ECS name when id is FIELD_NONE */
};

#define MAP_ID(pos, kind, id)                                                                      \
    {                                                                                              \
        pos, kind, id, NULL                                                                        \
    }
#define MAP_NAME(pos, kind, name)                                                                  \
    {                                                                                              \
        pos, kind, FIELD_NONE, name                                                                \
    }

/* Positions 7 to 29 are the same in TRAFFIC and THREAT. */
static const struct panos_map map_session[] = {
    MAP_ID(7, PK_IP, FIELD_SOURCE_IP),
    MAP_ID(8, PK_IP, FIELD_DESTINATION_IP),
    MAP_NAME(9, PK_NAT_IP, "source.nat.ip"),
    MAP_NAME(10, PK_NAT_IP, "destination.nat.ip"),
    MAP_ID(11, PK_TEXT, FIELD_RULE_NAME),
    MAP_ID(12, PK_TEXT, FIELD_USER_NAME),
    MAP_NAME(13, PK_TEXT, "destination.user.name"),
    MAP_NAME(14, PK_TEXT, "network.application"),
    MAP_NAME(15, PK_TEXT, "panos.vsys"),
    MAP_NAME(16, PK_TEXT, "observer.ingress.zone"),
    MAP_NAME(17, PK_TEXT, "observer.egress.zone"),
    MAP_ID(18, PK_TEXT, FIELD_OBSERVER_INGRESS_INTERFACE),
    MAP_ID(19, PK_TEXT, FIELD_OBSERVER_EGRESS_INTERFACE),
    MAP_NAME(22, PK_TEXT, "panos.session_id"),
    MAP_ID(24, PK_PORT, FIELD_SOURCE_PORT),
    MAP_ID(25, PK_PORT, FIELD_DESTINATION_PORT),
    MAP_NAME(26, PK_NAT_PORT, "source.nat.port"),
    MAP_NAME(27, PK_NAT_PORT, "destination.nat.port"),
    MAP_ID(29, PK_TEXT, FIELD_NETWORK_TRANSPORT),
    MAP_ID(30, PK_TEXT, FIELD_EVENT_ACTION),
};

static const struct panos_map map_traffic[] = {
    MAP_NAME(31, PK_TEXT, "network.bytes"),
    MAP_ID(32, PK_TEXT, FIELD_SOURCE_BYTES),
    MAP_ID(33, PK_TEXT, FIELD_DESTINATION_BYTES),
    MAP_NAME(34, PK_TEXT, "network.packets"),
    MAP_NAME(36, PK_TEXT, "panos.elapsed"),
    MAP_NAME(37, PK_TEXT, "panos.category"),
    MAP_NAME(46, PK_TEXT, "panos.session_end_reason"),
};

static const struct panos_map map_threat[] = {
    MAP_NAME(33, PK_TEXT, "panos.threat.category"),   MAP_NAME(34, PK_TEXT, "panos.severity"),
    MAP_NAME(35, PK_TEXT, "panos.direction"),         MAP_NAME(46, PK_TEXT, "user_agent.original"),
    MAP_ID(49, PK_TEXT, FIELD_HTTP_REQUEST_REFERRER), MAP_NAME(50, PK_TEXT, "email.from.address"),
    MAP_NAME(51, PK_TEXT, "email.subject"),           MAP_NAME(52, PK_TEXT, "email.to.address"),
};

static const struct panos_map map_system[] = {
    MAP_NAME(7, PK_TEXT, "panos.vsys"),         MAP_ID(8, PK_TEXT, FIELD_EVENT_CODE),
    MAP_ID(8, PK_TEXT, FIELD_EVENT_ACTION),     MAP_NAME(9, PK_TEXT, "panos.object"),
    MAP_NAME(12, PK_TEXT, "panos.module"),      MAP_NAME(13, PK_TEXT, "panos.severity"),
    MAP_NAME(14, PK_TEXT, "panos.description"),
};

static const struct panos_map map_globalprotect[] = {
    MAP_NAME(7, PK_TEXT, "panos.vsys"),
    MAP_ID(8, PK_TEXT, FIELD_EVENT_ACTION),
    MAP_NAME(9, PK_TEXT, "panos.stage"),
    MAP_NAME(10, PK_TEXT, "panos.auth_method"),
    MAP_NAME(11, PK_TEXT, "panos.tunnel_type"),
    MAP_ID(12, PK_TEXT, FIELD_USER_NAME),
    MAP_NAME(13, PK_TEXT, "source.geo.region_name"),
    MAP_NAME(14, PK_TEXT, "host.hostname"),
    MAP_ID(15, PK_NAT_IP, FIELD_SOURCE_IP),
    MAP_NAME(17, PK_NAT_IP, "panos.private_ip"),
    MAP_NAME(21, PK_TEXT, "panos.client_version"),
    MAP_NAME(22, PK_TEXT, "host.os.name"),
    MAP_NAME(25, PK_TEXT, "panos.reason"),
    MAP_ID(26, PK_TEXT, FIELD_ERROR_MESSAGE),
    MAP_NAME(27, PK_TEXT, "panos.description"),
    MAP_NAME(33, PK_TEXT, "panos.portal"),
    MAP_NAME(41, PK_TEXT, "panos.gateway"),
};

/*
 * Splits (p, len) at commas; a field starting with '"' runs to the quote
 * that is not doubled.  Returns 0, or -EINVAL at an unterminated quote
 * (*ret_off: where it opened).
 */
static int csv_split(const char *p, size_t len, struct panos_csv *c, size_t *ret_off)
{
    size_t i = 0;

    c->n = 0;
    for (;;) {
        struct decode_span s = {p + i, 0};
        unsigned char esc = 0;

        if (i < len && p[i] == '"') {
            size_t open = i++;
            s.p = p + i;
            for (;;) {
                if (i >= len) {
                    *ret_off = open;
                    return -EINVAL;
                }
                if (p[i] == '"') {
                    if (i + 1 < len && p[i + 1] == '"') {
                        esc = 1;
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            s.n = (size_t)(p + i - s.p);
            i++; /* the closing quote; what follows up to the comma is dropped */
            i = decode_util_scan_to(p, i, len, ',');
        } else {
            i = decode_util_scan_to(p, i, len, ',');
            s.n = (size_t)(p + i - s.p);
        }
        if (c->n < PANOS_MAX_FIELDS) {
            c->f[c->n] = s;
            c->esc[c->n] = esc;
            c->n++;
        }
        if (i >= len)
            return 0;
        i++; /* the comma */
    }
}

static struct decode_span field_at(const struct panos_csv *c, size_t k)
{
    struct decode_span none = {NULL, 0};

    return k < c->n ? c->f[k] : none;
}

/* Inlined, so that strlen of the literal is a constant (it was a call for
 * each of a record's 3 to 10 comparisons). */
__attribute__((always_inline)) static inline int span_is(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* "YYYY/MM/DD hh:mm:ss" */
static int is_panos_time(struct decode_span s)
{
    static const char shape[] = "dddd/dd/dd dd:dd:dd";

    if (s.n != sizeof(shape) - 1)
        return 0;
    for (size_t k = 0; k < s.n; k++) {
        if (shape[k] == 'd' ? (s.p[k] < '0' || s.p[k] > '9') : s.p[k] != shape[k])
            return 0;
    }
    return 1;
}

/*
 * The firewall's own time: position 6 (Generated Time, when the dataplane
 * logged the event), else position 1 (Receive Time, when the management
 * plane received it), each "YYYY/MM/DD hh:mm:ss" in the firewall's local
 * time with no zone, read as every zoneless time is: in the context's
 * `timezone`.  A time that is no date (2024/02/30) is passed over; with
 * neither, the syslog header's time stays.
 */
static int set_device_time(struct event *ev, const struct panos_csv *c,
                           const struct decode_ctx *ctx)
{
    static const size_t pos[] = {6, 1};

    for (size_t k = 0; k < sizeof(pos) / sizeof(pos[0]); k++) {
        struct decode_span s = field_at(c, pos[k]);
        char iso[19];
        size_t used;
        int64_t us;

        if (!s.p || !is_panos_time(s))
            continue;
        memcpy(iso, s.p, sizeof(iso));
        iso[4] = '-';
        iso[7] = '-';
        if (time_parse_iso8601(iso, sizeof(iso), ctx ? ctx->tz : NULL, &us, &used) == 0 &&
            used == sizeof(iso))
            return event_set_time(ev, us, s.p, s.n);
    }
    return 0;
}

static int is_log_type(struct decode_span s)
{
    if (!s.n || s.n > 32)
        return 0;
    for (size_t k = 0; k < s.n; k++)
        if (!((s.p[k] >= 'A' && s.p[k] <= 'Z') || s.p[k] == '-' || s.p[k] == '_'))
            return 0;
    return 1;
}

/* Adds field k of c, unescaping "" into the arena when needed. */
/*
 * The id of a mapping's name (a static string of the tables above), kept
 * per thread by the string's address for the dictionary generation that
 * gave it: strlen and decode_fieldid's hash for each of a record's 10-15
 * named fields were 15 % of its instructions (issue 24).  A refusal is not
 * kept (the dictionary counts each one).
 */
#define PANOS_NAME_IDS 64
static uint32_t name_id(const char *name)
{
    static _Thread_local struct {
        const char *name;
        uint32_t id, gen;
    } cache[PANOS_NAME_IDS];
    /* the address mixed: the linker packs the literals a few bytes apart */
    size_t h = (size_t)(((uint64_t)(uintptr_t)name * 0x9e3779b97f4a7c15ull) >> 58);
    uint32_t gen = field_generation(), id;

    if (!name) /* put() with neither a row nor a name (gcc -O3 sees the path) */
        return FIELD_NONE;
    if (cache[h].name == name && cache[h].gen == gen)
        return cache[h].id;
    id = decode_fieldid_intern(name, strlen(name));
    if (id != FIELD_NONE) {
        cache[h].name = name;
        cache[h].id = id;
        cache[h].gen = gen;
    }
    return id;
}

/*
 * The id of a named row of the tables above, kept per thread by the row's
 * address: the rows lie side by side, so that unlike the names' addresses
 * (64 slots for 40 names packed by the linker, several of which took the
 * same slot and asked decode_fieldid on every record) no two rows of the
 * tables share a slot.  As name_id() otherwise.
 */
#define PANOS_ROW_IDS 256
static uint32_t row_id(const struct panos_map *row)
{
    static _Thread_local struct {
        const struct panos_map *row;
        uint32_t id, gen;
    } cache[PANOS_ROW_IDS];
    size_t h = ((uintptr_t)row / sizeof(*row)) % PANOS_ROW_IDS;
    uint32_t gen = field_generation(), id;

    if (cache[h].row == row && cache[h].gen == gen)
        return cache[h].id;
    id = decode_fieldid_intern(row->name, strlen(row->name));
    if (id != FIELD_NONE) {
        cache[h].row = row;
        cache[h].id = id;
        cache[h].gen = gen;
    }
    return id;
}

/* decode_util_add_named() for one of this file's literal names. */
static int add_lit(struct event *ev, const char *name, struct decode_span s)
{
    if (!s.n)
        return 0;
    return decode_util_add(ev, name_id(name), s);
}

/* Adds field k of c under id, or when id is FIELD_NONE under the name of
 * `row` (a table's) or else `name`. */
static int put(struct event *ev, const struct panos_csv *c, size_t k, uint32_t id,
               const struct panos_map *row, const char *name)
{
    struct decode_span s = field_at(c, k);
    char *t;
    size_t o = 0;

    if (!s.n)
        return 0;
    if (k < c->n && c->esc[k]) {
        if (!(t = arena_alloc(ev->arena, s.n)))
            return -ENOMEM;
        for (size_t j = 0; j < s.n; j++) {
            t[o++] = s.p[j];
            if (s.p[j] == '"' && j + 1 < s.n && s.p[j + 1] == '"')
                j++;
        }
        s.p = t;
        s.n = o;
    }
    if (id != FIELD_NONE)
        return decode_util_add(ev, id, s);
    return decode_util_add(ev, row ? row_id(row) : name_id(name), s);
}

/* Applies a table; -EINVAL (with *reterr) for a bad address or port. */
static int apply(struct event *ev, const char *p, const struct panos_csv *c,
                 const struct panos_map *m, size_t n, struct parse_err *reterr)
{
    for (size_t i = 0; i < n; i++) {
        struct decode_span s = field_at(c, m[i].pos);
        int r;

        if (!s.n)
            continue;
        switch (m[i].kind) {
        case PK_IP:
            if (!decode_util_is_ip(s.p, s.n)) {
                parse_err_set(reterr, (size_t)(s.p - p), "PAN-OS address field is not an address");
                return -EINVAL;
            }
            break;
        case PK_NAT_IP:
            if (span_is(s, "0.0.0.0") || !decode_util_is_ip(s.p, s.n))
                continue;
            break;
        case PK_PORT:
            if (!decode_util_is_port(s.p, s.n)) {
                parse_err_set(reterr, (size_t)(s.p - p), "PAN-OS port field is not a port");
                return -EINVAL;
            }
            break;
        case PK_NAT_PORT:
            if (span_is(s, "0") || !decode_util_is_port(s.p, s.n))
                continue;
            break;
        default: break;
        }
        if ((r = put(ev, c, m[i].pos, m[i].id, &m[i], NULL)) < 0)
            return r;
    }
    return 0;
}

static int add_outcome(struct event *ev, int ok)
{
    int r;

    if ((r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr(ok ? "allowed" : "denied"))) <
        0)
        return r;
    return decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(ok ? "success" : "failure"));
}

/* THREAT's "Threat ID" is "name(id)", or a bare name/number. */
static int threat_id(struct event *ev, struct decode_span s)
{
    int r;

    if (s.n >= 3 && s.p[s.n - 1] == ')') {
        size_t k = s.n - 1;
        while (k > 0 && s.p[k - 1] >= '0' && s.p[k - 1] <= '9')
            k--;
        if (k > 0 && s.p[k - 1] == '(' && k < s.n - 1) {
            struct decode_span name = {s.p, k - 1}, id = {s.p + k, s.n - 1 - k};
            while (name.n && name.p[name.n - 1] == ' ')
                name.n--;
            if ((r = add_lit(ev, "panos.threat.name", name)) < 0)
                return r;
            return decode_util_add(ev, FIELD_RULE_ID, id);
        }
    }
    return add_lit(ev, "panos.threat.name", s);
}

static int is_hex(struct decode_span s)
{
    for (size_t k = 0; k < s.n; k++) {
        char ch = s.p[k];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return 0;
    }
    return s.n > 0;
}

static int session_types(struct event *ev, const char *p, const struct panos_csv *c, int threat,
                         struct parse_err *reterr)
{
    struct decode_span action = field_at(c, 30), sub = field_at(c, 4), misc;
    int r;

    if (c->n <= 30 || !action.n) {
        parse_err_set(reterr, 0, "PAN-OS TRAFFIC/THREAT line ends before its action field");
        return -EINVAL;
    }
    if ((r = apply(ev, p, c, map_session, sizeof(map_session) / sizeof(map_session[0]), reterr)) <
        0)
        return r;
    /* "alert" lets the session through; every other action stops it
     * (deny, drop, drop-icmp, reset-client/server/both, block-url, ...). */
    if ((r = add_outcome(ev, span_is(action, "allow") || span_is(action, "alert") ||
                                 span_is(action, "continue") || span_is(action, "override"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0)
        return r;
    if (!threat)
        return apply(ev, p, c, map_traffic, sizeof(map_traffic) / sizeof(map_traffic[0]), reterr);

    if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("intrusion_detection"))) <
        0)
        return r;
    /* Position 31 is "Miscellaneous": the URL for url logs, the file name
     * for file/virus/wildfire ones. */
    misc = field_at(c, 31);
    if (misc.n) {
        if (span_is(sub, "url"))
            r = put(ev, c, 31, FIELD_URL_ORIGINAL, NULL, NULL);
        else if (span_is(sub, "file") || span_is(sub, "virus") || span_is(sub, "wildfire") ||
                 span_is(sub, "wildfire-virus"))
            r = put(ev, c, 31, FIELD_NONE, NULL, "file.name");
        else
            r = put(ev, c, 31, FIELD_NONE, NULL, "panos.misc");
        if (r < 0)
            return r;
    }
    if ((r = threat_id(ev, field_at(c, 32))) < 0)
        return r;
    {
        struct decode_span h = field_at(c, 43);
        if (h.n == 64 && is_hex(h) && (r = add_lit(ev, "file.hash.sha256", h)) < 0)
            return r;
    }
    return apply(ev, p, c, map_threat, sizeof(map_threat) / sizeof(map_threat[0]), reterr);
}

/* The text after `key` in s up to the next comma, period-space or end,
 * trimmed; NULL span if `key` is absent. */
static struct decode_span after(struct decode_span s, const char *key, char quote)
{
    struct decode_span v = {NULL, 0};
    size_t kn = strlen(key);
    const char *k = decode_util_find(s.p, s.n, key, kn);

    if (!k)
        return v;
    v.p = k + kn;
    {
        const char *end = s.p + s.n, *q = v.p;
        if (quote) {
            while (q < end && *q != quote)
                q++;
        } else {
            while (q < end && *q != ',' && *q != ' ' &&
                   !(*q == '.' && (q + 1 == end || q[1] == ' ')))
                q++;
        }
        v.n = (size_t)(q - v.p);
    }
    return v;
}

static int ends_with(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

/* SYSTEM auth and globalprotect events: who, from where, and the outcome,
 * which PAN-OS only writes in the description and the event ID. */
static int system_auth(struct event *ev, const struct panos_csv *c)
{
    struct decode_span eid = field_at(c, 8), d = field_at(c, 14), user, from;
    int r;

    if (!d.n)
        return 0;
    user = after(d, "User name: ", ',');
    if (!user.p)
        user = after(d, "user '", '\'');
    from = after(d, "Login from: ", 0);
    if (!from.p)
        from = after(d, "From: ", 0);
    if ((r = decode_util_add(ev, FIELD_USER_NAME, user)) < 0)
        return r;
    if (from.p && decode_util_is_ip(from.p, from.n) &&
        (r = decode_util_add(ev, FIELD_SOURCE_IP, from)) < 0)
        return r;
    if (ends_with(eid, "-fail") || ends_with(eid, "-failed") || ends_with(eid, "-fail-lock"))
        return decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr("failure"));
    if (ends_with(eid, "-succ") || ends_with(eid, "-success"))
        return decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr("success"));
    return 0;
}

int decode_panos(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                 struct parse_err *reterr)
{
    struct panos_csv c;
    struct decode_span type, sub;
    size_t off = 0;
    int r;

    /* Senders end lines with a blank or CR that is not part of the last
     * field. */
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    /* Cheap refusals first: auto-detection may hand us any message. */
    if (len < 24 || p[0] < '0' || p[0] > '9')
        return -ENOENT;
    if (csv_split(p, len, &c, &off) < 0) {
        if (c.n >= 4 && decode_util_all_digits(c.f[0]) && is_panos_time(c.f[1]) &&
            is_log_type(c.f[3])) {
            parse_err_set(reterr, off, "PAN-OS field's quote is not closed");
            return -EINVAL;
        }
        return -ENOENT;
    }
    if (c.n < 5 || !decode_util_all_digits(c.f[0]) || !is_panos_time(c.f[1]) ||
        !is_log_type(c.f[3]))
        return -ENOENT;
    type = c.f[3];
    sub = c.f[4];
    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("Palo Alto Networks"))) <
            0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("PAN-OS"))) < 0 ||
        (r = add_lit(ev, "observer.serial_number", c.f[2])) < 0 ||
        (r = add_lit(ev, "panos.type", type)) < 0 || (r = add_lit(ev, "panos.subtype", sub)) < 0)
        return r;
    {
        /* A static name per type this file maps; others share one. */
        static const char *const ds[][2] = {{"TRAFFIC", "panos.traffic"},
                                            {"THREAT", "panos.threat"},
                                            {"SYSTEM", "panos.system"},
                                            {"GLOBALPROTECT", "panos.globalprotect"}};
        const char *d = "panos.other";
        for (size_t k = 0; k < sizeof(ds) / sizeof(ds[0]); k++)
            if (span_is(type, ds[k][0]))
                d = ds[k][1];
        if ((r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr(d))) < 0)
            return r;
    }
    if ((r = set_device_time(ev, &c, ctx)) < 0)
        return r;
    if (span_is(type, "TRAFFIC"))
        r = session_types(ev, p, &c, 0, reterr);
    else if (span_is(type, "THREAT"))
        r = session_types(ev, p, &c, 1, reterr);
    else if (span_is(type, "SYSTEM")) {
        r = apply(ev, p, &c, map_system, sizeof(map_system) / sizeof(map_system[0]), reterr);
        if (r == 0 && (span_is(sub, "auth") || span_is(sub, "globalprotect"))) {
            r = system_auth(ev, &c);
            if (r == 0)
                r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("authentication"));
        }
    } else if (span_is(type, "GLOBALPROTECT")) {
        struct decode_span st = field_at(&c, 28);
        r = apply(ev, p, &c, map_globalprotect,
                  sizeof(map_globalprotect) / sizeof(map_globalprotect[0]), reterr);
        if (r == 0 && (span_is(st, "success") || span_is(st, "failure")))
            r = decode_util_add(ev, FIELD_EVENT_OUTCOME, st);
        if (r == 0)
            r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("authentication"));
    }
    if (r < 0)
        return r;
    ev->decoder = "panos";
    return 0;
}
