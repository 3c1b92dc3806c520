/*
 * input_http.c - the Elasticsearch bulk API as an input (type http-bulk),
 * so that Filebeat, Winlogbeat, Fluent Bit and Vector ship to hikeshi with
 * their Elasticsearch output unchanged.
 *
 * libmicrohttpd serves it on the input's own port, a thread per
 * connection: a request whose records wait for room in the queue holds its
 * own thread only, and its sender waits for the answer (backpressure).
 * The answer is written only after every record of the body was queued, so
 * a 200 means the records are ours; a stop or a failure before that
 * answers 503, and the shipper sends the batch again (at least once).
 *
 * Besides POST /_bulk and /<index>/_bulk it answers what a shipper asks at
 * start-up: GET / with a version (Beats and Vector check it), GET
 * /_license, and PUT of templates and lifecycle policies, acknowledged and
 * ignored.  Senders are admitted by peers: at accept, then by a password
 * (HTTP Basic) or an API key (Authorization: ApiKey) when credentials are
 * configured; both refusals count in `denied` and are logged with the
 * address.
 */
#include "input/input_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#define ZLIB_CONST
#include <zlib.h>

#include "input/input_bulk.h"
#include "input/record.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/queue.h"
#include "util/readfile.h"

/* What GET / answers: an Elasticsearch 8 node, which every shipper of the
 * last years accepts. */
static const char http_version_json[] =
    "{\"name\":\"hikeshi\",\"cluster_name\":\"hikeshi\","
    "\"cluster_uuid\":\"aGlrZXNoaS1pbnB1dA\",\"version\":{\"number\":\"8.11.0\","
    "\"build_flavor\":\"default\",\"build_type\":\"deb\",\"lucene_version\":\"9.8.0\","
    "\"minimum_wire_compatibility_version\":\"7.17.0\","
    "\"minimum_index_compatibility_version\":\"7.0.0\"},\"tagline\":\"You Know, for Search\"}";
static const char http_license_json[] =
    "{\"license\":{\"status\":\"active\",\"uid\":\"hikeshi\",\"type\":\"basic\","
    "\"issue_date_in_millis\":0,\"max_nodes\":1000}}";

#define HTTP_IDLE_S 60 /* a connection idle this long is closed */

struct input_http {
    const struct input_conf *c;
    struct queue *q;
    struct input_stats *st;
    struct MHD_Daemon *mhd;
    char bound[INET6_ADDRSTRLEN + 16];
    char **auth; /* accepted Authorization values ("Basic ...", "ApiKey ..."), heap */
    size_t nauth;
    size_t max_body;
    uint16_t rflags;          /* RECORD_TRUSTED when the input vouches for its senders */
    char *cert_pem, *key_pem; /* tls: the files' contents (heap; the key wiped at free) */
    size_t key_len;
    atomic_uint_fast64_t requests; /* numbers the made-up document ids */
    pthread_mutex_t rl_lock;       /* the rate limits below, between threads */
    struct log_ratelimit rl, rl_denied;
};

/* One request's state, from its first call to its completion. */
struct http_req {
    struct buf body; /* capped at max_body */
    int too_big;     /* the body passed max_body: dropped, answered 413 */
    int denied;      /* credentials wrong or missing: answered 401 */
    int gzip;        /* Content-Encoding: gzip */
    uint8_t family;  /* the client's address */
    uint8_t addr[16];
    uint16_t port;
    struct rec_batch *batches; /* records not yet queued (via link.next) */
    struct rec_batch *cur;     /* the batch being filled */
    struct input_http *h;
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void peer_of(const struct sockaddr *sa, uint8_t *ret_family, uint8_t ret_addr[16],
                    uint16_t *ret_port)
{
    memset(ret_addr, 0, 16);
    *ret_family = 0;
    *ret_port = 0;
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

        *ret_family = 4;
        memcpy(ret_addr, &sin->sin_addr, 4);
        *ret_port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            *ret_family = 4;
            memcpy(ret_addr, &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            *ret_family = 6;
            memcpy(ret_addr, &sin6->sin6_addr, 16);
        }
        *ret_port = ntohs(sin6->sin6_port);
    }
}

static void format_peer(char *buf, size_t size, uint8_t family, const uint8_t addr[16],
                        uint16_t port)
{
    char a[INET6_ADDRSTRLEN];

    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    snprintf(buf, size, family == 6 ? "[%s]:%u" : "%s:%u", a, (unsigned)port);
}

/* Logs a refusal or a fault of a client, at most a few lines in ten
 * seconds per kind. */
static void warn_peer(struct input_http *h, struct log_ratelimit *rl, uint8_t family,
                      const uint8_t addr[16], uint16_t port, const char *what)
{
    unsigned long supp = 0;
    int ok;
    char peer[INET6_ADDRSTRLEN + 16];

    pthread_mutex_lock(&h->rl_lock);
    ok = log_ratelimit_ok(rl, &supp);
    pthread_mutex_unlock(&h->rl_lock);
    if (!ok)
        return;
    format_peer(peer, sizeof(peer), family, addr, port);
    log_warnx("input %s: %s: %s%s", h->c->name, peer, what,
              supp ? " (earlier such warnings suppressed)" : "");
}

/* peers: a connection from elsewhere is refused at accept. */
static enum MHD_Result accept_cb(void *cls, const struct sockaddr *sa, socklen_t salen)
{
    struct input_http *h = cls;
    uint8_t fam, addr[16];
    uint16_t port;

    (void)salen;
    if (h->c->npeers == 0)
        return MHD_YES;
    peer_of(sa, &fam, addr, &port);
    if (fam && cidr_list_contains(h->c->peers, h->c->npeers, fam, addr))
        return MHD_YES;
    atomic_fetch_add(&h->st->denied, 1);
    warn_peer(h, &h->rl_denied, fam, addr, port, "connection refused: not in peers");
    return MHD_NO;
}

static void conn_cb(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                    enum MHD_ConnectionNotificationCode code)
{
    struct input_http *h = cls;

    (void)conn;
    (void)socket_ctx;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&h->st->connections, 1);
        atomic_fetch_add(&h->st->active, 1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&h->st->active, 1);
    }
}

static void req_free(struct http_req *rq)
{
    if (!rq)
        return;
    while (rq->batches) {
        struct rec_batch *b = rq->batches;

        rq->batches = (struct rec_batch *)(void *)b->link.next;
        rec_batch_free(b);
    }
    buf_done(&rq->body);
    free(rq);
}

static void done_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

/* Queues a JSON answer with the header Elastic's clients look for. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body,
                              size_t len)
{
    union {
        const char *c;
        void *v;
    } b = {.c = body}; /* MUST_COPY only reads it; the API is not const */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, b.v, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result r;

    if (!resp)
        return MHD_NO;
    (void)MHD_add_response_header(resp, "Content-Type", "application/json; charset=UTF-8");
    (void)MHD_add_response_header(resp, "X-Elastic-Product", "Elasticsearch");
    if (status == MHD_HTTP_UNAUTHORIZED)
        (void)MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"hikeshi\", ApiKey");
    r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* An error in Elasticsearch's shape, which the shippers log. */
static enum MHD_Result answer_error(struct MHD_Connection *conn, unsigned status, const char *type,
                                    const char *reason)
{
    struct buf b;
    enum MHD_Result r;

    buf_init(&b, 4096);
    if (buf_printf(&b, "{\"error\":{\"root_cause\":[{\"type\":\"%s\",\"reason\":", type) < 0 ||
        buf_json_str(&b, reason, strlen(reason)) < 0 ||
        buf_printf(&b, "}],\"type\":\"%s\",\"reason\":", type) < 0 ||
        buf_json_str(&b, reason, strlen(reason)) < 0 ||
        buf_printf(&b, "},\"status\":%u}", status) < 0) {
        buf_done(&b);
        return answer(conn, status, "{}", 2);
    }
    r = answer(conn, status, b.data, b.len);
    buf_done(&b);
    return r;
}

/* 1 when the request carries one of the configured credentials (or none
 * are configured).  Compared in constant time against each. */
static int auth_ok(const struct input_http *h, struct MHD_Connection *conn)
{
    const char *v;
    size_t n;
    int ok = 0;

    if (h->nauth == 0)
        return 1;
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!v)
        return 0;
    n = strlen(v);
    for (size_t i = 0; i < h->nauth; i++)
        if (strlen(h->auth[i]) == n && sodium_memcmp(h->auth[i], v, n) == 0)
            ok = 1;
    return ok;
}

/* The bulk callback: one document, one record, in the request's batches. */
static int take_record(void *arg, const char *doc, size_t len)
{
    struct http_req *rq = arg;
    struct input_http *h = rq->h;
    struct record *rec = NULL;

    if (len > h->c->max_line)
        return -E2BIG;
    if (rq->cur && rq->cur->nrec < LIMIT_BATCH_RECORDS)
        rec = rec_batch_add(rq->cur, doc, len, now_us(), h->rflags);
    if (!rec) {
        struct rec_batch *b = rec_batch_new(h->c->id, LIMIT_BATCH_BYTES);

        if (!b)
            return -ENOMEM;
        if (rq->cur)
            rq->cur->link.next = &b->link;
        else
            rq->batches = b;
        rq->cur = b;
        if (!(rec = rec_batch_add(b, doc, len, now_us(), h->rflags)))
            return -ENOMEM;
    }
    rec->peer_family = rq->family;
    memcpy(rec->peer_addr, rq->addr, 16);
    rec->peer_port = rq->port;
    return 0;
}

/* Queues the request's batches in order; 0, or -EPIPE when the queue
 * closed before all were in (the rest are freed). */
static int push_all(struct http_req *rq)
{
    struct input_http *h = rq->h;

    while (rq->batches) {
        struct rec_batch *b = rq->batches;
        uint32_t n = b->nrec;
        uint64_t bytes = 0;

        rq->batches = (struct rec_batch *)(void *)b->link.next;
        b->link.next = NULL;
        if (!rq->batches)
            rq->cur = NULL;
        for (const struct record *r = rec_batch_first(b); r; r = rec_batch_next(b, r))
            bytes += r->len;
        /* Counted before the push, as the other inputs do. */
        atomic_fetch_add(&h->st->records, n);
        atomic_fetch_add(&h->st->bytes, bytes);
        if (queue_push(h->q, b) < 0) {
            atomic_fetch_sub(&h->st->records, n);
            atomic_fetch_sub(&h->st->bytes, bytes);
            atomic_fetch_add(&h->st->dropped, n);
            rec_batch_free(b);
            return -EPIPE;
        }
    }
    return 0;
}

/* gzip or deflate bodies (Filebeat compresses by default): inflated into
 * `out`, at most max_body.  0, -E2BIG, -EINVAL, -ENOMEM. */
static int inflate_body(const struct buf *in, size_t max_body, struct buf *out)
{
    z_stream z;
    char chunk[64 * 1024];
    int zr, r = 0;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return -ENOMEM;
    buf_init(out, max_body);
    z.next_in = (const Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            r = zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
            break;
        }
        if ((r = buf_append(out, chunk, sizeof(chunk) - z.avail_out)) < 0)
            break;
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            r = -EINVAL; /* the stream stops short */
            break;
        }
    } while (zr != Z_STREAM_END);
    inflateEnd(&z);
    return r;
}

/* The index named by "/<index>/_bulk", copied into buf (empty for /_bulk). */
static void url_index(const char *url, char *buf, size_t size)
{
    const char *e;
    size_t n;

    buf[0] = '\0';
    if (url[0] != '/' || !(e = strchr(url + 1, '/')))
        return;
    n = (size_t)(e - url - 1);
    if (n == 0 || n >= size)
        return;
    memcpy(buf, url + 1, n);
    buf[n] = '\0';
}

static int is_bulk_url(const char *url)
{
    size_t n = strlen(url);
    const char *slash;

    if (strcmp(url, "/_bulk") == 0)
        return 1;
    if (n < 7 || url[0] != '/' || strcmp(url + n - 6, "/_bulk") != 0)
        return 0;
    slash = strchr(url + 1, '/');
    return slash == url + n - 6 && slash != url + 1;
}

/* POST /_bulk: every document queued, then the answer. */
static enum MHD_Result serve_bulk(struct http_req *rq, struct MHD_Connection *conn, const char *url)
{
    struct input_http *h = rq->h;
    struct bulk_item *items = NULL;
    struct parse_err pe = {0};
    struct buf plain, out;
    const struct buf *body = &rq->body;
    char index[256], why[256];
    size_t nitems = 0;
    int64_t t0 = now_us();
    enum MHD_Result ret;
    int r;

    memset(&plain, 0, sizeof(plain));
    if (rq->gzip) {
        r = inflate_body(&rq->body, h->max_body, &plain);
        if (r < 0) {
            buf_done(&plain);
            atomic_fetch_add(&h->st->errors, 1);
            warn_peer(h, &h->rl, rq->family, rq->addr, rq->port,
                      r == -E2BIG ? "bulk body refused: longer than max_body once inflated"
                                  : "bulk body refused: broken gzip");
            return r == -E2BIG ? answer_error(conn, 413, "content_too_long_exception",
                                              "the body is longer than max_body once inflated")
                               : answer_error(conn, MHD_HTTP_BAD_REQUEST, "parse_exception",
                                              "the gzip body does not inflate");
        }
        body = &plain;
    }
    r = bulk_parse(body->data ? body->data : "", body->len, take_record, rq, &items, &nitems, &pe);
    if (r == 0)
        r = push_all(rq);
    if (r == -EINVAL) {
        snprintf(why, sizeof(why), "malformed bulk body at byte %zu: %s", pe.off,
                 pe.msg ? pe.msg : "?");
        atomic_fetch_add(&h->st->errors, 1);
        warn_peer(h, &h->rl, rq->family, rq->addr, rq->port, why);
        free(items);
        buf_done(&plain);
        return answer_error(conn, MHD_HTTP_BAD_REQUEST, "illegal_argument_exception", why);
    }
    if (r < 0) {
        free(items);
        buf_done(&plain);
        return answer_error(
            conn, r == -EPIPE ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_TOO_MANY_REQUESTS,
            "es_rejected_execution_exception",
            r == -EPIPE ? "hikeshi is stopping: send again" : "out of memory: send again");
    }
    for (size_t i = 0; i < nitems; i++)
        if (items[i].status == 400)
            atomic_fetch_add(&h->st->errors, 1);
    url_index(url, index, sizeof(index));
    buf_init(&out, (size_t)LIMIT_BULK_ITEMS * 512);
    r = bulk_response(items, nitems, (now_us() - t0) / 1000, index[0] ? index : NULL,
                      atomic_fetch_add(&h->requests, 1), &out);
    free(items);
    buf_done(&plain); /* the items' spans pointed into it */
    ret = r < 0 ? answer(conn, MHD_HTTP_OK, "{\"took\":0,\"errors\":false,\"items\":[]}", 37)
                : answer(conn, MHD_HTTP_OK, out.data, out.len);
    buf_done(&out);
    return ret;
}

/* The first call of a request: its state, its credentials, its size. */
static enum MHD_Result req_start(struct input_http *h, struct MHD_Connection *conn, void **con_cls)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct http_req *rq = calloc(1, sizeof(*rq));
    const char *v;

    if (!rq)
        return MHD_NO;
    rq->h = h;
    buf_init(&rq->body, h->max_body);
    peer_of(ci ? ci->client_addr : NULL, &rq->family, rq->addr, &rq->port);
    if (!auth_ok(h, conn)) {
        rq->denied = 1;
        atomic_fetch_add(&h->st->denied, 1);
        warn_peer(h, &h->rl_denied, rq->family, rq->addr, rq->port,
                  "request refused: no or wrong credentials");
    }
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    rq->gzip = v && (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "deflate") == 0);
    v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v && strtoull(v, NULL, 10) > h->max_body)
        rq->too_big = 1;
    *con_cls = rq;
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct input_http *h = cls;
    struct http_req *rq = *con_cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

    (void)version;
    if (!rq)
        return req_start(h, conn, con_cls);
    if (*upload_data_size) {
        /* A refused or oversized body is read and dropped, so the answer
         * can follow it on the same connection. */
        if (!rq->denied && !rq->too_big &&
            buf_append(&rq->body, upload_data, *upload_data_size) < 0)
            rq->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->denied)
        return answer_error(conn, MHD_HTTP_UNAUTHORIZED, "security_exception",
                            "missing or wrong credentials (HTTP Basic or ApiKey)");
    if (rq->too_big) {
        atomic_fetch_add(&h->st->errors, 1);
        warn_peer(h, &h->rl, rq->family, rq->addr, rq->port,
                  "request refused: body longer than max_body");
        return answer_error(conn, 413, "content_too_long_exception",
                            "the body is longer than the input's max_body");
    }
    if (get && strcmp(url, "/") == 0)
        return answer(conn, MHD_HTTP_OK, http_version_json, sizeof(http_version_json) - 1);
    if (get && strcmp(url, "/_license") == 0)
        return answer(conn, MHD_HTTP_OK, http_license_json, sizeof(http_license_json) - 1);
    if ((strcmp(method, MHD_HTTP_METHOD_POST) == 0 || strcmp(method, MHD_HTTP_METHOD_PUT) == 0) &&
        is_bulk_url(url))
        return serve_bulk(rq, conn, url);
    if (strcmp(method, MHD_HTTP_METHOD_PUT) == 0)
        return answer(conn, MHD_HTTP_OK, "{\"acknowledged\":true}", 21);
    return answer_error(conn, MHD_HTTP_NOT_FOUND, "resource_not_found_exception",
                        "hikeshi takes only the bulk API (POST /_bulk)");
}

/* "Basic base64(user:password)" or "ApiKey base64(id:key)" for each
 * credential; the forms Beats, Fluent Bit and Vector send. */
static int auth_init(struct input_http *h, char *errbuf, size_t errlen)
{
    const struct input_conf *c = h->c;
    size_t n = c->nhttp_users + c->nhttp_api_keys;

    if (n == 0)
        return 0;
    if (!(h->auth = calloc(n, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int user = i < c->nhttp_users;
        const char *cred = user ? c->http_users[i] : c->http_api_keys[i - c->nhttp_users];
        size_t len = strlen(cred),
               b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(b64 + 8);

        if (!s) {
            snprintf(errbuf, errlen, "out of memory");
            return -ENOMEM;
        }
        memcpy(s, user ? "Basic " : "ApiKey ", user ? 6 : 7);
        sodium_bin2base64(s + (user ? 6 : 7), b64, (const unsigned char *)cred, len,
                          sodium_base64_VARIANT_ORIGINAL);
        h->auth[h->nauth++] = s;
    }
    return 0;
}

int input_http_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     struct input_http **ret, char *errbuf, size_t errlen)
{
    struct input_http *h;
    struct sockaddr_storage ss;
    socklen_t sl;
    const union MHD_DaemonInfo *di;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    /* TLS 1.2 and 1.3 only, as the API's endpoint; the option takes a
     * non-const pointer it only reads. */
    static const char prio[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
    union {
        const char *c;
        void *v;
    } pr = {.c = prio};
    struct MHD_OptionItem tls_opt[4];
    int r;

    *ret = NULL;
    if ((r = netaddr_parse(c->listen, &ss, &sl)) < 0) {
        snprintf(errbuf, errlen, "input %s: bad listen address \"%s\"", c->name,
                 c->listen ? c->listen : "");
        return r;
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!(h = calloc(1, sizeof(*h)))) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    h->c = c;
    h->q = q;
    h->st = stats;
    h->max_body = c->max_body ? c->max_body : LIMIT_BULK_BODY_DEFAULT;
    h->rl = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    h->rl_denied = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    pthread_mutex_init(&h->rl_lock, NULL);
    if ((r = auth_init(h, errbuf, errlen)) < 0)
        goto out;
    /* Peers are checked at accept and credentials on every request: a
     * trusted input vouches only for senders it authenticated. */
    if (c->trust == INPUT_TRUST_TRUSTED && (c->npeers || h->nauth))
        h->rflags = RECORD_TRUSTED;
    memset(tls_opt, 0, sizeof(tls_opt));
    tls_opt[0].option = MHD_OPTION_END;
    if (c->tls_cert && c->tls_key) {
        size_t cl;

        if ((r = readfile_all(c->tls_cert, 1024 * 1024, &h->cert_pem, &cl)) < 0 ||
            (r = readfile_all(c->tls_key, 1024 * 1024, &h->key_pem, &h->key_len)) < 0) {
            snprintf(errbuf, errlen, "input %s: tls: %s: %s", c->name,
                     h->cert_pem ? c->tls_key : c->tls_cert, strerror(-r));
            goto out;
        }
        flags |= MHD_USE_TLS;
        tls_opt[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem};
        tls_opt[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem};
        tls_opt[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, pr.v};
        tls_opt[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    /* The caps of the API's endpoint (util/limits.h): a shipper holds a
     * connection or a few. */
    h->mhd =
        MHD_start_daemon(flags, 0, accept_cb, h, handler, h,                                   /* */
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,                         /* */
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIMIT_HTTP_CONNECTIONS,        /* */
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LIMIT_HTTP_PER_ADDRESS, /* */
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,                 /* */
                         MHD_OPTION_NOTIFY_COMPLETED, done_cb, h,                              /* */
                         MHD_OPTION_NOTIFY_CONNECTION, conn_cb, h,                             /* */
                         MHD_OPTION_ARRAY, tls_opt, MHD_OPTION_END);
    if (!h->mhd) {
        r = -EADDRINUSE;
        snprintf(errbuf, errlen, "input %s: cannot listen for HTTP%s on %s (%s)", c->name,
                 h->cert_pem ? "S" : "", c->listen,
                 h->cert_pem ? "address in use, or the TLS certificate and key do not load"
                             : "address in use?");
        goto out;
    }
    di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_LISTEN_FD);
    sl = sizeof(ss);
    if (di && getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) == 0)
        (void)netaddr_format((struct sockaddr *)&ss, h->bound, sizeof(h->bound));
    log_info("input %s: listening on %s/%s (Elasticsearch bulk API)", c->name, h->bound,
             h->cert_pem ? "https" : "http");
    *ret = h;
    return 0;
out:
    input_http_free(h);
    return r;
}

void input_http_stop(struct input_http *h)
{
    if (!h || !h->mhd)
        return;
    /* Waits for the connection threads: a request whose records are
     * being queued finishes (the queue is still open), a new one is not
     * accepted. */
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
}

void input_http_free(struct input_http *h)
{
    if (!h)
        return;
    input_http_stop(h);
    for (size_t i = 0; h->auth && i < h->nauth; i++) {
        if (!h->auth[i])
            continue;
        sodium_memzero(h->auth[i], strlen(h->auth[i]));
        free(h->auth[i]);
    }
    free(h->auth);
    free(h->cert_pem);
    if (h->key_pem)
        sodium_memzero(h->key_pem, h->key_len);
    free(h->key_pem);
    pthread_mutex_destroy(&h->rl_lock);
    free(h);
}

const char *input_http_bound_address(const struct input_http *h)
{
    return h->bound;
}
