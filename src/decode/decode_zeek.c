/*
 * decode_zeek.c - Zeek's column names to ECS names, one table for the JSON
 * and the TSV decoders (see decode_zeek.h for the list).
 *
 * Each row copies the first value of one Zeek column to one ECS name,
 * possibly converted (lowercased, split as a URL, turned into an outcome).
 * The rows are grouped per log stream so that a record only pays for the
 * rows of its own stream: a handful of dictionary look-ups per record on
 * the JSON hot path, no extra pass over the record.
 */
#include "decode/decode_zeek.h"

#include <errno.h>
#include <string.h>

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

/* The first value of Zeek column `name`, or NULL. */
static const char *col(const struct event *ev, const char *name, size_t *ret_n)
{
    uint32_t id = field_lookup(name, strlen(name));

    return id == FIELD_NONE ? NULL : event_get(ev, id, ret_n);
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

static int apply(struct event *ev, const struct zeek_map *m)
{
    size_t n, have;
    const char *v = col(ev, m->from, &n);
    uint32_t id = m->id;

    if (!v)
        return 0;
    if (id == FIELD_NONE && (id = field_intern(m->name, strlen(m->name))) == FIELD_NONE)
        return 0;
    if (event_get(ev, id, &have))
        return 0;
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

static int apply_all(struct event *ev, const struct zeek_map *m, size_t n)
{
    int r;

    for (size_t k = 0; k < n; k++)
        if ((r = apply(ev, &m[k])) < 0)
            return r;
    return 0;
}

int decode_zeek_ecs(struct event *ev, const char *stream, size_t n)
{
    const struct zeek_stream *s = NULL;
    size_t k, have;
    char *ds;
    int r;

    if ((r = apply_all(ev, ROWS(map_any))) < 0)
        return r;
    for (k = 0; k < sizeof(streams) / sizeof(streams[0]); k++) {
        size_t dn;
        if (stream ? eq(stream, n, streams[k].name)
                   : streams[k].marker && col(ev, streams[k].marker, &dn) != NULL) {
            s = &streams[k];
            break;
        }
    }
    if (!stream && s) {
        stream = s->name;
        n = strlen(s->name);
    }
    if (s && (r = apply_all(ev, s->map, s->n)) < 0)
        return r;
    if (!stream || !n || event_get(ev, FIELD_EVENT_DATASET, &have))
        return 0;
    if (!(ds = arena_alloc(ev->arena, n + 5)))
        return -ENOMEM;
    memcpy(ds, "zeek.", 5);
    memcpy(ds + 5, stream, n);
    return add(ev, FIELD_EVENT_DATASET, ds, n + 5);
}
