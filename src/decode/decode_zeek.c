/*
 * decode_zeek.c - Zeek's column names to ECS names, one table for the JSON
 * and the TSV decoders (see decode_zeek.h for the list).
 *
 * Each row copies the first value of one Zeek column to one ECS name,
 * possibly converted (lowercased, split as a URL, turned into an outcome).
 * The rows are grouped per log stream so that a record only pays for the
 * rows of its own stream.  The columns those rows read and the names
 * they write are found in one pass over the record's fields (zeek_view):
 * a row used to ask the dictionary for two ids under its lock and scan
 * the record for each, about forty look-ups and scans a record.
 */
#include "decode/decode_zeek.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

enum zeek_conv {
    ZEEK_COPY,
    ZEEK_LOWER,          /* "TCP" -> "tcp" */
    ZEEK_URL,            /* url.original, and url.path / url.query */
    ZEEK_TLS_VERSION,    /* "TLSv12" -> tls.version "1.2", tls.version_protocol */
    ZEEK_OUTCOME_BOOL,   /* true -> success, false -> failure */
    ZEEK_OUTCOME_RCODE,  /* NOERROR -> success, any other DNS rcode -> failure */
    ZEEK_OUTCOME_STATUS, /* HTTP status: from 400 on failure, else success */
    ZEEK_OUTCOME_RESULT, /* RADIUS result: "success" / "failed" */
    ZEEK_ALERT,          /* the column's presence makes the record an alert */
};

/* map_any's rows and the most rows a stream has (checked below the
 * streams). */
#define ZEEK_ANY_ROWS 9
#define ZEEK_MAX_ROWS 14

struct zeek_map {
    const char *from; /* Zeek's column name */
    const char *name; /* ECS name without a fixed id */
    enum field_id id; /* fixed ECS id, or FIELD_NONE: use `name` */
    enum zeek_conv conv;
};

#define FIX(from, id)                                                                              \
    {                                                                                              \
        from, NULL, FIELD_##id, ZEEK_COPY                                                          \
    }
#define NAMED(from, name)                                                                          \
    {                                                                                              \
        from, name, FIELD_NONE, ZEEK_COPY                                                          \
    }
#define CONV(from, id, conv)                                                                       \
    {                                                                                              \
        from, NULL, FIELD_##id, conv                                                               \
    }

/* Every stream: the connection's 4-tuple and transport.  The id_* forms
 * are what exporters that cannot write dots in names use. */
static const struct zeek_map map_any[] = {
    FIX("id.orig_h", SOURCE_IP),
    FIX("id_orig_h", SOURCE_IP),
    FIX("id.orig_p", SOURCE_PORT),
    FIX("id_orig_p", SOURCE_PORT),
    FIX("id.resp_h", DESTINATION_IP),
    FIX("id_resp_h", DESTINATION_IP),
    FIX("id.resp_p", DESTINATION_PORT),
    FIX("id_resp_p", DESTINATION_PORT),
    CONV("proto", NETWORK_TRANSPORT, ZEEK_LOWER),
};

/* conn.log: the IP-level byte counts first (the payload counts come from
 * TCP sequence numbers and can be far off on broken connections). */
static const struct zeek_map map_conn[] = {
    FIX("orig_ip_bytes", SOURCE_BYTES),
    FIX("orig_bytes", SOURCE_BYTES),
    FIX("resp_ip_bytes", DESTINATION_BYTES),
    FIX("resp_bytes", DESTINATION_BYTES),
    NAMED("orig_pkts", "source.packets"),
    NAMED("resp_pkts", "destination.packets"),
    CONV("service", NETWORK_PROTOCOL, ZEEK_LOWER),
};

static const struct zeek_map map_dns[] = {
    NAMED("query", "dns.question.name"),
    NAMED("qtype_name", "dns.question.type"),
    NAMED("qclass_name", "dns.question.class"),
    NAMED("rcode_name", "dns.response_code"),
    NAMED("trans_id", "dns.id"),
    CONV("rcode_name", EVENT_OUTCOME, ZEEK_OUTCOME_RCODE),
};

static const struct zeek_map map_http[] = {
    FIX("method", HTTP_REQUEST_METHOD),
    FIX("status_code", HTTP_RESPONSE_STATUS_CODE),
    CONV("status_code", EVENT_OUTCOME, ZEEK_OUTCOME_STATUS),
    CONV("uri", URL_ORIGINAL, ZEEK_URL),
    NAMED("host", "url.domain"),
    FIX("user_agent", USER_AGENT_ORIGINAL),
    FIX("referrer", HTTP_REQUEST_REFERRER),
    FIX("version", HTTP_VERSION),
    NAMED("request_body_len", "http.request.body.bytes"),
    FIX("response_body_len", HTTP_RESPONSE_BODY_BYTES),
    FIX("username", USER_NAME),
};

static const struct zeek_map map_ssl[] = {
    {"version", "tls.version", FIELD_NONE, ZEEK_TLS_VERSION},
    NAMED("cipher", "tls.cipher"),
    NAMED("curve", "tls.curve"),
    NAMED("server_name", "tls.client.server_name"),
    NAMED("resumed", "tls.resumed"),
    NAMED("established", "tls.established"),
    CONV("established", EVENT_OUTCOME, ZEEK_OUTCOME_BOOL),
    NAMED("next_protocol", "tls.next_protocol"),
    NAMED("subject", "tls.server.subject"),
    NAMED("issuer", "tls.server.issuer"),
    NAMED("ja3", "tls.client.ja3"),
    NAMED("ja3s", "tls.server.ja3s"),
    NAMED("ja4", "tls.client.ja4"), /* FoxIO's JA4 package adds these columns */
    NAMED("ja4s", "tls.server.ja4s"),
};

/* notice.log: Zeek's own detections.  src/dst/p are the notice's
 * endpoints when it has no connection id. */
static const struct zeek_map map_notice[] = {
    FIX("note", RULE_NAME),     FIX("msg", MESSAGE),        FIX("src", SOURCE_IP),
    FIX("dst", DESTINATION_IP), FIX("p", DESTINATION_PORT), CONV("note", EVENT_KIND, ZEEK_ALERT),
};

static const struct zeek_map map_weird[] = {
    FIX("name", RULE_NAME),
};

/* files.log: tx_hosts sent the file, rx_hosts received it. */
static const struct zeek_map map_files[] = {
    NAMED("md5", "file.hash.md5"),       NAMED("sha1", "file.hash.sha1"),
    NAMED("sha256", "file.hash.sha256"), NAMED("mime_type", "file.mime_type"),
    NAMED("filename", "file.name"),      NAMED("total_bytes", "file.size"),
    NAMED("seen_bytes", "file.size"),    FIX("tx_hosts", SOURCE_IP),
    FIX("rx_hosts", DESTINATION_IP),
};

static const struct zeek_map map_radius[] = {
    FIX("username", USER_NAME),
    CONV("result", EVENT_OUTCOME, ZEEK_OUTCOME_RESULT),
};

static const struct zeek_map map_ssh[] = {
    CONV("auth_success", EVENT_OUTCOME, ZEEK_OUTCOME_BOOL),
};

static const struct zeek_map map_ftp[] = {
    FIX("user", USER_NAME),
};

#define ROWS(m) (m), sizeof(m) / sizeof((m)[0])

/* The streams with rows of their own; `marker` is a column only that
 * stream has, to infer it for a record that does not name its stream. */
static const struct zeek_stream {
    const char *name;
    const char *marker; /* NULL: never inferred */
    const struct zeek_map *map;
    size_t n;
} streams[] = {
    {"conn", "conn_state", ROWS(map_conn)}, {"dns", "qtype_name", ROWS(map_dns)},
    {"notice", "note", ROWS(map_notice)},   {"ssl", "cipher", ROWS(map_ssl)},
    {"http", "uri", ROWS(map_http)},        {"files", "fuid", ROWS(map_files)},
    {"ssh", "auth_success", ROWS(map_ssh)}, {"weird", NULL, ROWS(map_weird)},
    {"radius", NULL, ROWS(map_radius)},     {"ftp", NULL, ROWS(map_ftp)},
};

#define FITS(m) static_assert(sizeof(m) / sizeof((m)[0]) <= ZEEK_MAX_ROWS, #m " has too many rows")
static_assert(sizeof(map_any) / sizeof(map_any[0]) == ZEEK_ANY_ROWS, "ZEEK_ANY_ROWS");
FITS(map_conn);
FITS(map_dns);
FITS(map_http);
FITS(map_ssl);
FITS(map_notice);
FITS(map_weird);
FITS(map_files);
FITS(map_radius);
FITS(map_ssh);
FITS(map_ftp);
#undef FITS

#define ZEEK_NSTREAMS (sizeof(streams) / sizeof(streams[0]))
#define ZEEK_KEYS 128       /* distinct names the rows read or write (about 110) */
#define ZEEK_NAME_SLOTS 256 /* a power of two, twice ZEEK_KEYS */
#define ZEEK_MEMO 1024      /* a power of two: ids remembered per thread */

/*
 * Every name a row reads (a Zeek column) or writes (an ECS name), numbered
 * once per thread as a key into a record's zeek_view.  A record's fields
 * are matched to these names by the name the dictionary gives their id,
 * never by ids remembered from an earlier record, so nothing here can go
 * stale; a fixed ECS id is its own name.  Built on a thread's first
 * record; read-only after.
 */
static _Thread_local struct zeek_names {
    int ready;
    unsigned nkeys;
    struct {
        const char *name; /* NULL: empty */
        uint32_t len, hash;
        uint8_t key;
    } slot[ZEEK_NAME_SLOTS];
    uint8_t fixed_key[FIELD_FIXED_COUNT];           /* key + 1 of a fixed id; 0: none */
    uint8_t from[1 + ZEEK_NSTREAMS][ZEEK_MAX_ROWS]; /* map_any, then streams[] */
    uint8_t to[1 + ZEEK_NSTREAMS][ZEEK_MAX_ROWS];
    uint8_t marker[ZEEK_NSTREAMS]; /* key + 1 of a stream's marker; 0: none */
    uint8_t dataset;
    /* The key of a product field's id, as name_key() of its name found it
     * in dictionary `gen` (field_generation()); id 0: empty.  Spares
     * reading and hashing the name of every field of every record. */
    struct {
        uint32_t id, gen;
        int key;
    } memo[ZEEK_MEMO];
    /* The id of a key's ECS name in dictionary name_gen[key] (0: not yet):
     * a row's output name interned once per dictionary, not per record. */
    uint32_t name_id[ZEEK_KEYS], name_gen[ZEEK_KEYS];
} zeek_names;

/* FNV-1a of the NUL-terminated name, and its length. */
static uint32_t name_hash(const char *s, uint32_t *ret_len)
{
    uint32_t h = 2166136261u, n = 0;

    for (; s[n]; n++)
        h = (h ^ (unsigned char)s[n]) * 16777619u;
    *ret_len = n;
    return h;
}

/* The key of a name of the table, or -1. */
static int name_key(const struct zeek_names *t, const char *name)
{
    uint32_t len, h = name_hash(name, &len), i = h & (ZEEK_NAME_SLOTS - 1);

    for (; t->slot[i].name; i = (i + 1) & (ZEEK_NAME_SLOTS - 1))
        if (t->slot[i].hash == h && t->slot[i].len == len &&
            memcmp(t->slot[i].name, name, len) == 0)
            return t->slot[i].key;
    return -1;
}

/* The key of name, numbering it when new. */
static uint8_t name_add(struct zeek_names *t, const char *name)
{
    uint32_t len, h = name_hash(name, &len), i = h & (ZEEK_NAME_SLOTS - 1);

    for (; t->slot[i].name; i = (i + 1) & (ZEEK_NAME_SLOTS - 1))
        if (t->slot[i].hash == h && t->slot[i].len == len &&
            memcmp(t->slot[i].name, name, len) == 0)
            return t->slot[i].key;
    assert(t->nkeys < ZEEK_KEYS); /* our own tables: see ZEEK_KEYS */
    t->slot[i].name = name;
    t->slot[i].len = len;
    t->slot[i].hash = h;
    t->slot[i].key = (uint8_t)t->nkeys;
    return (uint8_t)t->nkeys++;
}

/* The key of an output: its fixed id's, or its name's. */
static uint8_t out_add(struct zeek_names *t, uint32_t id, const char *name)
{
    if (id == FIELD_NONE)
        return name_add(t, name);
    if (!t->fixed_key[id])
        t->fixed_key[id] = (uint8_t)(t->nkeys++ + 1);
    assert(t->nkeys <= ZEEK_KEYS);
    return (uint8_t)(t->fixed_key[id] - 1);
}

static void names_map(struct zeek_names *t, size_t mi, const struct zeek_map *m, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        t->from[mi][k] = name_add(t, m[k].from);
        t->to[mi][k] = out_add(t, m[k].id, m[k].name);
    }
}

static struct zeek_names *names_get(void)
{
    struct zeek_names *t = &zeek_names;

    if (t->ready)
        return t;
    names_map(t, 0, ROWS(map_any));
    for (size_t k = 0; k < ZEEK_NSTREAMS; k++) {
        names_map(t, 1 + k, streams[k].map, streams[k].n);
        if (streams[k].marker)
            t->marker[k] = (uint8_t)(name_add(t, streams[k].marker) + 1);
    }
    t->dataset = out_add(t, FIELD_EVENT_DATASET, NULL);
    t->ready = 1;
    return t;
}

/* One record: the first value it holds under each key (v NULL: none). A
 * row that adds a name sets its key, so a later row for the same name sees
 * it set, as event_get() would. */
struct zeek_view {
    const char *v[ZEEK_KEYS];
    uint32_t n[ZEEK_KEYS];
};

/* The first value of each key, in one pass over the record's fields. */
static void view_fill(struct zeek_view *w, struct zeek_names *t, const struct event *ev,
                      uint32_t gen)
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        uint32_t id = ev->fields[i].id, mi = id & (ZEEK_MEMO - 1);
        int k;

        if (id < FIELD_FIXED_COUNT) {
            k = t->fixed_key[id] - 1;
        } else if (t->memo[mi].id == id && t->memo[mi].gen == gen) {
            k = t->memo[mi].key;
        } else {
            const char *name = field_name(id);
            k = name ? name_key(t, name) : -1;
            if (name) {
                t->memo[mi].id = id;
                t->memo[mi].gen = gen;
                t->memo[mi].key = k;
            }
        }
        if (k >= 0 && !w->v[k]) {
            w->v[k] = ev->fields[i].val;
            w->n[k] = ev->fields[i].len;
        }
    }
}

static int add(struct event *ev, uint32_t id, const char *v, size_t n)
{
    int r = event_add(ev, id, v, n);

    return r == -ENOMEM ? r : 0; /* a field refused at a cap is counted */
}

static int add_lower(struct event *ev, uint32_t id, const char *v, size_t n)
{
    size_t k = 0;
    char *d;

    while (k < n && !(v[k] >= 'A' && v[k] <= 'Z'))
        k++;
    if (k == n)
        return add(ev, id, v, n);
    if (!(d = arena_strndup(ev->arena, v, n)))
        return -ENOMEM;
    for (; k < n; k++)
        if (d[k] >= 'A' && d[k] <= 'Z')
            d[k] = (char)(d[k] - 'A' + 'a');
    return add(ev, id, d, n);
}

static int eq(const char *v, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(v, s, n) == 0;
}

/* "TLSv12" -> "1.2" with protocol "tls", "SSLv3" -> "3.0" with "ssl",
 * "DTLSv12" -> "1.2" with "dtls"; anything else is left as it is. */
static int add_tls_version(struct event *ev, uint32_t id, const char *v, size_t n)
{
    static const char *const protos[] = {"DTLSv", "TLSv", "SSLv"};
    static const char *const names[] = {"dtls", "tls", "ssl"};
    uint32_t pid = field_intern("tls.version_protocol", 20);
    char *d;
    int r;

    for (size_t k = 0; k < 3; k++) {
        size_t pn = strlen(protos[k]), dn = n - pn;

        if (n <= pn || memcmp(v, protos[k], pn) != 0)
            continue;
        for (size_t i = pn; i < n; i++)
            if (v[i] < '0' || v[i] > '9')
                return add(ev, id, v, n);
        if (dn > 2)
            return add(ev, id, v, n);
        if (!(d = arena_alloc(ev->arena, 3)))
            return -ENOMEM;
        d[0] = v[pn];
        d[1] = '.';
        d[2] = dn == 2 ? v[pn + 1] : '0';
        if ((r = add(ev, id, d, 3)) < 0)
            return r;
        return add(ev, pid, names[k], strlen(names[k]));
    }
    return add(ev, id, v, n);
}

static int add_url(struct event *ev, uint32_t id, const char *v, size_t n)
{
    const char *q = memchr(v, '?', n);
    size_t m;
    int r;

    if ((r = add(ev, id, v, n)) < 0 || event_get(ev, FIELD_URL_PATH, &m))
        return r;
    if ((r = add(ev, FIELD_URL_PATH, v, q ? (size_t)(q - v) : n)) < 0 || !q)
        return r;
    return add(ev, FIELD_URL_QUERY, q + 1, n - (size_t)(q - v) - 1);
}

static int add_outcome(struct event *ev, uint32_t id, int ok)
{
    return ok < 0 ? 0 : add(ev, id, ok ? "success" : "failure", 7);
}

/* 1 success, 0 failure, -1 not an HTTP status. */
static int status_ok(const char *v, size_t n)
{
    if (n != 3 || v[0] < '1' || v[0] > '5' || v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9')
        return -1;
    return v[0] < '4';
}

static int convert(struct event *ev, const struct zeek_map *m, uint32_t id, const char *v, size_t n)
{
    switch (m->conv) {
    case ZEEK_COPY: return add(ev, id, v, n);
    case ZEEK_LOWER: return add_lower(ev, id, v, n);
    case ZEEK_URL: return add_url(ev, id, v, n);
    case ZEEK_TLS_VERSION: return add_tls_version(ev, id, v, n);
    case ZEEK_OUTCOME_BOOL:
        return add_outcome(ev, id, eq(v, n, "true") ? 1 : eq(v, n, "false") ? 0 : -1);
    case ZEEK_OUTCOME_RCODE: return n ? add_outcome(ev, id, eq(v, n, "NOERROR")) : 0;
    case ZEEK_OUTCOME_STATUS: return add_outcome(ev, id, status_ok(v, n));
    case ZEEK_OUTCOME_RESULT:
        return add_outcome(ev, id, eq(v, n, "success") ? 1 : eq(v, n, "failed") ? 0 : -1);
    case ZEEK_ALERT: return add(ev, id, "alert", 5);
    }
    return 0;
}

/* Adds row m's name from its column (key kf) unless the record has none
 * of that column or already holds the name (key kt). */
static int apply(struct event *ev, struct zeek_view *w, struct zeek_names *t, uint32_t gen,
                 const struct zeek_map *m, uint8_t kf, uint8_t kt)
{
    uint32_t id = m->id, before = ev->nfields;
    int r;

    if (!w->v[kf] || w->v[kt])
        return 0;
    if (id == FIELD_NONE) {
        if (t->name_id[kt] == FIELD_NONE || t->name_gen[kt] != gen) {
            if ((id = decode_fieldid_intern(m->name, strlen(m->name))) == FIELD_NONE)
                return 0;
            t->name_id[kt] = id;
            t->name_gen[kt] = gen;
        }
        id = t->name_id[kt];
    }
    if ((r = convert(ev, m, id, w->v[kf], w->n[kf])) < 0)
        return r;
    /* The first field added is the row's own (the others are url.path and
     * tls.version_protocol, which no row writes). */
    if (ev->nfields > before) {
        w->v[kt] = ev->fields[before].val;
        w->n[kt] = ev->fields[before].len;
    }
    return 0;
}

/* Rows m[0..n), the mi-th map of zeek_names (0 map_any, 1 + k streams[k]). */
static int apply_all(struct event *ev, struct zeek_view *w, struct zeek_names *t, uint32_t gen,
                     size_t mi, const struct zeek_map *m, size_t n)
{
    int r;

    for (size_t k = 0; k < n; k++)
        if ((r = apply(ev, w, t, gen, &m[k], t->from[mi][k], t->to[mi][k])) < 0)
            return r;
    return 0;
}

int decode_zeek_ecs(struct event *ev, const char *stream, size_t n)
{
    struct zeek_names *t = names_get();
    uint32_t gen = field_generation();
    struct zeek_view w;
    size_t k, si = ZEEK_NSTREAMS;
    char *ds;
    int r;

    memset(w.v, 0, sizeof(w.v));
    view_fill(&w, t, ev, gen);
    for (k = 0; k < ZEEK_NSTREAMS; k++) {
        if (stream ? eq(stream, n, streams[k].name) : t->marker[k] && w.v[t->marker[k] - 1]) {
            si = k;
            break;
        }
    }
    if (!stream && si < ZEEK_NSTREAMS) {
        stream = streams[si].name;
        n = strlen(stream);
    }
    if ((r = apply_all(ev, &w, t, gen, 0, ROWS(map_any))) < 0)
        return r;
    if (si < ZEEK_NSTREAMS &&
        (r = apply_all(ev, &w, t, gen, 1 + si, streams[si].map, streams[si].n)) < 0)
        return r;
    if (!stream || !n || w.v[t->dataset])
        return 0;
    if (!(ds = arena_alloc(ev->arena, n + 5)))
        return -ENOMEM;
    memcpy(ds, "zeek.", 5);
    memcpy(ds + 5, stream, n);
    return add(ev, FIELD_EVENT_DATASET, ds, n + 5);
}
