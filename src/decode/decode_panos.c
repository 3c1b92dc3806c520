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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
 * The commas (*ret_c) and quotes (*ret_q) among the 64 bytes at p + b, one
 * bit a byte (bit k: p[b + k]).  The last bytes of a record are copied into
 * a zeroed buffer first: nothing at or past len is read, and no bit is set
 * there.
 */
static inline void chunk_bits(const char *p, size_t b, size_t len, uint64_t *ret_c, uint64_t *ret_q)
{
    char t[64];
    const char *q = p + b;
    uint64_t cm = 0, qm = 0;

    if (b + 64 > len) {
        memset(t, 0, sizeof(t));
        memcpy(t, q, len - b);
        q = t;
    }
#ifdef __SSE2__
    for (unsigned k = 0; k < 64; k += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + k));
        cm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(','))) << k;
        qm |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))) << k;
    }
#else
    for (unsigned k = 0; k < 64; k++) {
        cm |= (uint64_t)(q[k] == ',') << k;
        qm |= (uint64_t)(q[k] == '"') << k;
    }
#endif
    *ret_c = cm;
    *ret_q = qm;
}

/*
 * The end of a quoted field whose opening quote is at p[open]: the index
 * of the quote that is not doubled, or len when there is none.  *esc is
 * set when a doubled quote ("") was passed.
 */
static size_t quoted_end(const char *p, size_t open, size_t len, unsigned char *esc)
{
    size_t i = open + 1;

    for (;;) {
        i = decode_util_scan_to(p, i, len, '"');
        if (i >= len || i + 1 >= len || p[i + 1] != '"')
            return i;
        *esc = 1;
        i += 2;
    }
}

/*
 * Past the fields kept, only an unterminated quote still matters (it
 * makes the line no PAN-OS line): the fields from p[i] on are walked as
 * csv_split does, and most lines have no quote there at all.
 */
static int quotes_closed(const char *p, size_t i, size_t len, size_t *ret_off)
{
    unsigned char esc = 0;

    if (i >= len || !memchr(p + i, '"', len - i))
        return 0;
    for (;;) {
        if (i < len && p[i] == '"') {
            size_t q = quoted_end(p, i, len, &esc);
            if (q >= len) {
                *ret_off = i;
                return -EINVAL;
            }
            i = q + 1;
        }
        i = decode_util_scan_to(p, i, len, ',');
        if (i >= len)
            return 0;
        i++;
    }
}

/*
 * Splits (p, len) at commas into at most PANOS_MAX_FIELDS fields; a field
 * starting with '"' runs to the quote that is not doubled, and what
 * follows that quote up to the comma is dropped.  Returns 0, or -EINVAL at
 * an unterminated quote (*ret_off: where it opened).
 *
 * A PAN-OS record holds 40 to 100 fields of 1 to 20 bytes: a scan started
 * afresh for each field was a third of a record's instructions (issue
 * 24).  The commas and quotes of 64 bytes are found at once instead: for
 * the chunk at `cb`, `cm` holds the commas at or after the field's start
 * `st`, `qm` the quotes.  When no field of the chunk opens with a quote
 * (no quote at st or right after a comma), each comma bit is a field's
 * end; otherwise the chunk's fields are taken one by one.
 */
static int csv_split(const char *p, size_t len, struct panos_csv *c, size_t *ret_off)
{
    /* n and f in locals: a store through c->esc (unsigned char) may alias
     * anything, which made the compiler reload c->n for each field. */
    /* cppcheck-suppress ctuuninitvar ; c is the caller's to fill: nothing is read */
    struct decode_span *f = c->f;
    size_t st = 0, cb = 0, e, n = 0;
    uint64_t cm, qm;
    int r = 0;

    memset(c->esc, 0, sizeof(c->esc));
    chunk_bits(p, 0, len, &cm, &qm);
    for (;;) {
        /* Here cb <= st <= cb + 64 and st <= len. */
        if (st - cb == 64) { /* the field starts in the next chunk */
            cb = st;
            chunk_bits(p, cb, len, &cm, &qm);
        }
        if (!(qm & ((cm << 1) | (1ull << (st - cb))))) {
            /* No field here opens with a quote: the common case. */
            while (cm) {
                e = cb + (size_t)__builtin_ctzll(cm);
                cm &= cm - 1;
                f[n].p = p + st;
                f[n].n = e - st;
                st = e + 1;
                if (++n == PANOS_MAX_FIELDS)
                    goto full;
            }
            if (st - cb == 64)
                continue;                   /* its quote is the next chunk's to see */
        } else if ((qm >> (st - cb)) & 1) { /* p[st] is '"' (and st < len) */
            unsigned char x = 0;
            size_t q = quoted_end(p, st, len, &x);

            if (q >= len) {
                *ret_off = st;
                r = -EINVAL;
                break;
            }
            f[n].p = p + st + 1;
            f[n].n = q - st - 1;
            c->esc[n++] = x;
            e = decode_util_scan_to(p, q + 1, len, ',');
            if (e >= len)
                break;
            st = cb = e + 1; /* the chunk again, from the next field */
            chunk_bits(p, cb, len, &cm, &qm);
            if (n == PANOS_MAX_FIELDS)
                goto full;
            continue;
        }
        /* The field at st opens with no quote: it ends at the next comma,
         * in this chunk or a later one, or at len. */
        while (!cm) {
            if (cb + 64 >= len) { /* no comma left: the last field */
                f[n].p = p + st;
                f[n].n = len - st;
                n++;
                goto out;
            }
            cb += 64;
            chunk_bits(p, cb, len, &cm, &qm);
        }
        e = cb + (size_t)__builtin_ctzll(cm);
        cm &= cm - 1;
        f[n].p = p + st;
        f[n].n = e - st;
        st = e + 1;
        if (++n == PANOS_MAX_FIELDS)
            goto full;
    }
out:
    c->n = n;
    return r;
full: /* past the fields kept, only an unterminated quote still matters */
    c->n = n;
    return quotes_closed(p, st, len, ret_off);
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

/*
 * 1 when every byte of x is within its limit: x holds 8 bytes, each
 * already XORed with what the shape wants there ('0' for a digit, the
 * separator itself), so a digit has become 0-9 and a right separator 0;
 * `add` holds 0x76 for a digit (0x76 + 9 = 0x7f, 10 reaches 0x80) and
 * 0x7f for a separator (0x7f + 1 = 0x80).  A byte of 0x80 or more fails on
 * its own bit 7 (a carry it makes into the next byte only adds to a
 * failure); below 0x80 the sum of a byte stays in it.
 */
static inline int bytes_in_shape(uint64_t x, uint64_t add)
{
    return !(((x + add) | x) & 0x8080808080808080ull);
}

/* "YYYY/MM/DD hh:mm:ss".  Three overlapping 8-byte words instead of a loop
 * over 19 bytes: checked twice a record, it was 7 % of a record's
 * instructions (issue 24). */
static int is_panos_time(struct decode_span s)
{
    static const char shape[] = "dddd/dd/dd dd:dd:dd";

    if (s.n != sizeof(shape) - 1)
        return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    {
        /* Little-endian words: byte 0 of the span is the lowest. */
        uint64_t w0, w1, w2;

        memcpy(&w0, s.p, 8);      /* "dddd/dd/" */
        memcpy(&w1, s.p + 8, 8);  /* "dd dd:dd" */
        memcpy(&w2, s.p + 11, 8); /* "dd:dd:dd" */
        return bytes_in_shape(w0 ^ 0x2f30302f30303030ull, 0x7f76767f76767676ull) &&
               bytes_in_shape(w1 ^ 0x30303a3030203030ull, 0x76767f76767f7676ull) &&
               bytes_in_shape(w2 ^ 0x30303a30303a3030ull, 0x76767f76767f7676ull);
    }
#else
    for (size_t k = 0; k < s.n; k++) {
        if (shape[k] == 'd' ? (s.p[k] < '0' || s.p[k] > '9') : s.p[k] != shape[k])
            return 0;
    }
    return 1;
#endif
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

/*
 * The ids of a table's named rows, kept per thread by the row's index for
 * the dictionary generation `gen` that gave them (0: not asked yet, or
 * refused: a refusal is not kept, the dictionary counts each one).  One
 * check of the generation a table instead of a hashed look-up a row
 * (issue 24).
 */
#define PANOS_TABLE_ROWS 24
struct panos_ids {
    uint32_t gen;
    uint32_t id[PANOS_TABLE_ROWS];
};

/* The id of row i of table m, whose ids `ids` holds for generation gen. */
static inline uint32_t row_id(struct panos_ids *ids, uint32_t gen, const struct panos_map *m,
                              size_t i)
{
    if (m[i].id != FIELD_NONE)
        return m[i].id;
    if (ids->gen != gen) {
        memset(ids->id, 0, sizeof(ids->id));
        ids->gen = gen;
    }
    if (ids->id[i] == FIELD_NONE)
        ids->id[i] = decode_fieldid_intern(m[i].name, strlen(m[i].name));
    return ids->id[i];
}

/* This file's names outside the tables, by index into lit_names[]. */
enum panos_lit {
    LIT_NONE = -1,
    LIT_SERIAL,
    LIT_TYPE,
    LIT_SUBTYPE,
    LIT_THREAT_NAME,
    LIT_SHA256,
    LIT_FILE_NAME,
    LIT_MISC,
    LIT_COUNT
};
static const char *const lit_names[LIT_COUNT] = {
    "observer.serial_number", "panos.type", "panos.subtype", "panos.threat.name",
    "file.hash.sha256",       "file.name",  "panos.misc",
};
_Static_assert(LIT_COUNT <= PANOS_TABLE_ROWS, "more names than struct panos_ids holds");

/*
 * The id of name k (FIELD_NONE for LIT_NONE), kept per thread as the
 * tables' are (a cache by the string's address, before, took 1.3k
 * instructions a record whenever two of the names the linker placed
 * fell in one slot; issue 24).
 */
static uint32_t lit_id(enum panos_lit k)
{
    static _Thread_local struct panos_ids ids;
    uint32_t gen;

    if (k == LIT_NONE)
        return FIELD_NONE;
    gen = field_generation();
    if (ids.gen != gen) {
        memset(ids.id, 0, sizeof(ids.id));
        ids.gen = gen;
    }
    if (ids.id[k] == FIELD_NONE)
        ids.id[k] = decode_fieldid_intern(lit_names[k], strlen(lit_names[k]));
    return ids.id[k];
}

/* decode_util_add_named() for one of this file's names. */
static int add_lit(struct event *ev, enum panos_lit k, struct decode_span s)
{
    if (!s.n)
        return 0;
    return decode_util_add(ev, lit_id(k), s);
}

/* The name's id for put_span(): id, or when that is FIELD_NONE the id of
 * name k. */
static inline uint32_t put_id(uint32_t id, enum panos_lit k)
{
    return id != FIELD_NONE ? id : lit_id(k);
}

/* put_span() for a quoted field holding "": unescaped into the arena.
 * Out of line: the common path below stays small enough to be inlined
 * into apply() (it was not, once, at 25 calls a record). */
__attribute__((noinline)) static int put_escaped(struct event *ev, struct decode_span s,
                                                 uint32_t id)
{
    char *t;
    size_t o = 0;

    if (!(t = arena_alloc(ev->arena, s.n)))
        return -ENOMEM;
    for (size_t j = 0; j < s.n; j++) {
        t[o++] = s.p[j];
        if (s.p[j] == '"' && j + 1 < s.n && s.p[j + 1] == '"')
            j++;
    }
    s.p = t;
    s.n = o;
    return decode_util_add(ev, id, s);
}

/* Adds span s (field k of c: unescaping "" when it was quoted and held
 * one) under put_id(id, name). */
__attribute__((always_inline)) static inline int put_span(struct event *ev,
                                                          const struct panos_csv *c, size_t k,
                                                          struct decode_span s, uint32_t id,
                                                          enum panos_lit name)
{
    if (!s.n)
        return 0;
    if (c->esc[k])
        return put_escaped(ev, s, put_id(id, name));
    return decode_util_add(ev, put_id(id, name), s);
}

/* put_span() for field k of c, when there is one. */
static int put(struct event *ev, const struct panos_csv *c, size_t k, uint32_t id,
               enum panos_lit name)
{
    if (k >= c->n)
        return 0;
    return put_span(ev, c, k, c->f[k], id, name);
}

/*
 * 1 for a dotted-quad IPv4 address as decode_util_is_ip() reads one (no
 * leading zero, each part at most 255), else 0: the call and inet_pton's
 * setup cost 120 instructions for each of a record's two or three
 * addresses (issue 24), which are IPv4 nearly always.  A 0 here is then
 * asked of decode_util_is_ip(), which also reads IPv6.
 */
static inline int plain_ipv4(struct decode_span s)
{
    const char *p = s.p, *e = s.p + s.n;

    for (int part = 0; part < 4; part++) {
        unsigned v;

        if (p == e || *p < '0' || *p > '9')
            return 0;
        v = (unsigned)(*p++ - '0');
        if (p < e && *p >= '0' && *p <= '9') {
            if (v == 0)
                return 0;
            v = v * 10 + (unsigned)(*p++ - '0');
            if (p < e && *p >= '0' && *p <= '9') {
                v = v * 10 + (unsigned)(*p++ - '0');
                if (v > 255)
                    return 0;
            }
        }
        if (part < 3) {
            if (p == e || *p != '.')
                return 0;
            p++;
        }
    }
    return p == e;
}

static inline int is_ip(struct decode_span s)
{
    return plain_ipv4(s) || decode_util_is_ip(s.p, s.n);
}

/* decode_util_is_port(), inlined for the same reason: 1 to 5 digits worth
 * at most 65535. */
static inline int is_port(struct decode_span s)
{
    unsigned v = 0;

    if (s.n == 0 || s.n > 5)
        return 0;
    for (size_t k = 0; k < s.n; k++) {
        if (s.p[k] < '0' || s.p[k] > '9')
            return 0;
        v = v * 10 + (unsigned)(s.p[k] - '0');
    }
    return v <= 65535;
}

/* Applies table m of n rows, whose names' ids `ids` keeps; -EINVAL (with
 * *reterr) for a bad address or port. */
static int apply(struct event *ev, const char *p, const struct panos_csv *c,
                 const struct panos_map *m, size_t n, struct panos_ids *ids,
                 struct parse_err *reterr)
{
    uint32_t gen = field_generation();

    for (size_t i = 0; i < n; i++) {
        struct decode_span s;
        int r;

        /* The rows are in position order: none is there past the line's
         * last field. */
        if (m[i].pos >= c->n)
            break;
        s = c->f[m[i].pos];
        if (!s.n)
            continue;
        switch (m[i].kind) {
        case PK_IP:
            if (!is_ip(s)) {
                parse_err_set(reterr, (size_t)(s.p - p), "PAN-OS address field is not an address");
                return -EINVAL;
            }
            break;
        case PK_NAT_IP:
            if (span_is(s, "0.0.0.0") || !is_ip(s))
                continue;
            break;
        case PK_PORT:
            if (!is_port(s)) {
                parse_err_set(reterr, (size_t)(s.p - p), "PAN-OS port field is not a port");
                return -EINVAL;
            }
            break;
        case PK_NAT_PORT:
            if (span_is(s, "0") || !is_port(s))
                continue;
            break;
        default: break;
        }
        if ((r = put_span(ev, c, m[i].pos, s, row_id(ids, gen, m, i), LIT_NONE)) < 0)
            return r;
    }
    return 0;
}

/* The ids of each table's names, per thread (see row_id()). */
static _Thread_local struct panos_ids ids_session, ids_traffic, ids_threat, ids_system,
    ids_globalprotect;
#define NROWS(table) (sizeof(table) / sizeof((table)[0]))
_Static_assert(NROWS(map_session) <= PANOS_TABLE_ROWS && NROWS(map_traffic) <= PANOS_TABLE_ROWS &&
                   NROWS(map_threat) <= PANOS_TABLE_ROWS && NROWS(map_system) <= PANOS_TABLE_ROWS &&
                   NROWS(map_globalprotect) <= PANOS_TABLE_ROWS,
               "a table longer than struct panos_ids holds");

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
            if ((r = add_lit(ev, LIT_THREAT_NAME, name)) < 0)
                return r;
            return decode_util_add(ev, FIELD_RULE_ID, id);
        }
    }
    return add_lit(ev, LIT_THREAT_NAME, s);
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
    if ((r = apply(ev, p, c, map_session, NROWS(map_session), &ids_session, reterr)) < 0)
        return r;
    /* "alert" lets the session through; every other action stops it
     * (deny, drop, drop-icmp, reset-client/server/both, block-url, ...). */
    if ((r = add_outcome(ev, span_is(action, "allow") || span_is(action, "alert") ||
                                 span_is(action, "continue") || span_is(action, "override"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("network"))) < 0)
        return r;
    if (!threat)
        return apply(ev, p, c, map_traffic, NROWS(map_traffic), &ids_traffic, reterr);

    if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("intrusion_detection"))) <
        0)
        return r;
    /* Position 31 is "Miscellaneous": the URL for url logs, the file name
     * for file/virus/wildfire ones. */
    misc = field_at(c, 31);
    if (misc.n) {
        if (span_is(sub, "url"))
            r = put(ev, c, 31, FIELD_URL_ORIGINAL, LIT_NONE);
        else if (span_is(sub, "file") || span_is(sub, "virus") || span_is(sub, "wildfire") ||
                 span_is(sub, "wildfire-virus"))
            r = put(ev, c, 31, FIELD_NONE, LIT_FILE_NAME);
        else
            r = put(ev, c, 31, FIELD_NONE, LIT_MISC);
        if (r < 0)
            return r;
    }
    if ((r = threat_id(ev, field_at(c, 32))) < 0)
        return r;
    {
        struct decode_span h = field_at(c, 43);
        if (h.n == 64 && is_hex(h) && (r = add_lit(ev, LIT_SHA256, h)) < 0)
            return r;
    }
    return apply(ev, p, c, map_threat, NROWS(map_threat), &ids_threat, reterr);
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
        (r = add_lit(ev, LIT_SERIAL, c.f[2])) < 0 || (r = add_lit(ev, LIT_TYPE, type)) < 0 ||
        (r = add_lit(ev, LIT_SUBTYPE, sub)) < 0)
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
        r = apply(ev, p, &c, map_system, NROWS(map_system), &ids_system, reterr);
        if (r == 0 && (span_is(sub, "auth") || span_is(sub, "globalprotect"))) {
            r = system_auth(ev, &c);
            if (r == 0)
                r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("authentication"));
        }
    } else if (span_is(type, "GLOBALPROTECT")) {
        struct decode_span st = field_at(&c, 28);
        r = apply(ev, p, &c, map_globalprotect, NROWS(map_globalprotect), &ids_globalprotect,
                  reterr);
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
