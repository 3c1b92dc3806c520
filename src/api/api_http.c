/*
 * api_http.c - the HTTP endpoint on libmicrohttpd: its edge (HTTPS, the
 * Host check, connection caps and the request deadline, rate limits per
 * client address) and the transport of the routes in api_routes.c, which
 * it calls through struct api_ctx and api_dispatch (one way: nothing there
 * calls back here).
 */
#include "api/api_http.h"

#include "build_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_routes.h"
#include "api/api_web.h"
#include "api/auth.h"
#include "conf/config.h"
#include "event/time.h"
#include "incident/audit.h"
#include "incident/casefile.h"
#include "incident/casefile_procedure.h"
#include "incident/playbook.h"
#include "incident/playbook_files.h"
#include "incident/playbook_leak.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/readfile.h"
#include "util/tlscert.h"
#include "util/ydoc.h"

/*
 * One open connection, for the request deadline.  libmicrohttpd's own
 * timeout is for silence: a client that sends a byte every few seconds is
 * never silent and could hold its slot for ever.  So every connection is
 * listed here from accept to close, and a reaper thread shuts down the
 * socket of any whose request has not arrived whole in time (the polling
 * thread then reads the end of the stream and closes it).  `fd` stays open
 * while listed: libmicrohttpd tells of the close (notify_conn) before it
 * closes the socket, and unlisting takes the lock the reaper holds.
 */
struct api_sock {
    struct api_sock *prev, *next;
    int fd;
    _Atomic int64_t since_us; /* the request being read began (monotonic) */
    _Atomic int answered;     /* a response is queued: the deadline is met */
};

/* Host names accepted, at most: the configured ones, the listener's own
 * and the loopback names. */
#define API_HTTP_HOSTS_MAX (CONFIG_HTTP_HOSTS_MAX + 64)

struct api_http {
    struct MHD_Daemon *mhd;
    struct api_sources src;
    unsigned port;
    /* The API's own connection to the store, used only from
     * libmicrohttpd's single polling thread; NULL without a data_dir. */
    struct store *st;
    struct auth_ratelimit *rl; /* API requests per client address */
    struct auth_ratelimit *login_rl; /* password attempts per client address */
    struct audit *audit;       /* src.audit, or DATA_DIR/audit.log opened here */
    struct audit *own_audit;   /* the latter, closed at stop */
    struct playbook_set playbooks;
    /* incident.procedures (casefile_procedure.h) */
    struct procedure_set procedures;
    struct playbook_leak_set leaks; /* PLAYBOOKS/leak (playbook_leak.h) */
    struct incident_targets targets;
    int metrics_open;                /* the listener is on loopback: /metrics needs no token */
    int tls;                         /* 1: HTTPS, so HSTS and Secure cookies */
    char *hosts[API_HTTP_HOSTS_MAX]; /* Host names accepted: lower case, no port */
    size_t nhosts;
    char *cert_pem, *key_pem; /* the HTTPS pair, held while the daemon runs */
    size_t key_len;
    /* The request deadline (struct api_sock). */
    int64_t request_us;
    pthread_mutex_t socks_lock;
    pthread_cond_t socks_cond; /* signals `stopping` to the reaper */
    struct api_sock *socks;
    int stopping;
    int socks_init, reaper_started;
    pthread_t reaper;
};

/* Per request: the body as it arrives. */
struct api_conn {
    struct buf body;
    int too_big;
};

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 1 when the connection came in over TLS. */
static int conn_tls(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);

    return ci && ci->tls_session;
}

/* The connection's entry in the deadline list, or NULL. */
static struct api_sock *conn_sock(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Queues `resp` and marks the request answered: its deadline is met. */
static enum MHD_Result queue_answer(struct MHD_Connection *conn, unsigned status,
                                    struct MHD_Response *resp)
{
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    struct api_sock *s = conn_sock(conn);

    if (ret == MHD_YES && s)
        atomic_store(&s->answered, 1);
    return ret;
}

/* Headers every answer carries: nothing is sniffed, framed or leaks the
 * URL (which may hold an incident's id) to another site; over HTTPS the
 * browser is told to come back only over HTTPS, for a year. */
static void common_headers(struct MHD_Connection *conn, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (conn_tls(conn))
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* `body` is copied by libmicrohttpd (MUST_COPY); it only takes a non-const
 * pointer because the same call can also take ownership.  `cookie`: a
 * Set-Cookie value, or NULL. */
static enum MHD_Result reply_cookie(struct MHD_Connection *conn, unsigned status, const char *type,
                                    char *body, size_t len, const char *cookie,
                                    const struct api_resp *extra)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Content-Security-Policy", API_WEB_CSP_API);
    common_headers(conn, resp);
    if (cookie && *cookie) {
        /* Over HTTPS the session never travels in clear: Secure. */
        char sc[320];

        if (conn_tls(conn) && !strstr(cookie, "; Secure")) {
            snprintf(sc, sizeof(sc), "%s; Secure", cookie);
            cookie = sc;
        }
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    }
    for (int i = 0; extra && i < 2; i++)
        if (extra->hdr_name[i])
            MHD_add_response_header(resp, extra->hdr_name[i], extra->hdr_value[i]);
    ret = queue_answer(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
    return reply_cookie(conn, status, type, body, len, NULL, NULL);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);

    return reply(conn, status, "application/json", body, (size_t)n);
}

/*
 * The web console's files: compiled in, so served straight from the
 * binary's memory (PERSISTENT).  They change only with the binary, so the
 * browser revalidates with the ETag and gets 304 when it has them.
 */
static enum MHD_Result reply_web(struct MHD_Connection *conn, const char *url, const char *method)
{
    const struct web_asset *a;
    struct MHD_Response *resp;
    const char *inm;
    enum MHD_Result ret;
    unsigned status = MHD_HTTP_OK;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "the console's files are read-only");
    if (!(a = api_web_find(url)))
        return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
    inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (inm && strcmp(inm, a->etag) == 0) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        /* PERSISTENT: libmicrohttpd only reads the buffer; its parameter
         * is not const because other modes hand it over to be freed. */
        union {
            const unsigned char *c;
            void *v;
        } data = {.c = a->data};
        resp = MHD_create_response_from_buffer(a->len, data.v, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", a->type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "ETag", a->etag);
    MHD_add_response_header(resp, "Content-Security-Policy", API_WEB_CSP);
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    common_headers(conn, resp);
    ret = queue_answer(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}


/* The client as the rate limits know it: its address without the port
 * (IPv6 by /64), so a new connection per guess is the same client. */
static void client_key(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    auth_ratelimit_addr_key(ci ? ci->client_addr : NULL, out, size);
}

/*
 * 1 when the Host header names this endpoint (http.hosts, the listener's
 * own address and the loopback names; the port is not compared).  A page
 * on another site whose name an attacker re-points at us (DNS rebinding)
 * sends its own name, and is refused before any route, login, health and
 * /metrics included.  No Host at all (HTTP/1.0; libmicrohttpd refuses
 * HTTP/1.1 without one) is no browser's request and passes.
 */
static int host_ok(const struct api_http *h, struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    char name[256];
    size_t n;

    if (!v)
        return 1;
    if (v[0] == '[') {
        const char *e = strchr(v, ']');

        if (!e)
            return 0;
        n = (size_t)(e - v) + 1;
    } else {
        n = strcspn(v, ":");
    }
    if (n == 0 || n >= sizeof(name))
        return 0;
    memcpy(name, v, n);
    name[n] = '\0';
    /* "hikeshi.example.org." is the same name, fully qualified. */
    if (n > 1 && name[n - 1] == '.')
        name[n - 1] = '\0';
    for (size_t i = 0; i < h->nhosts; i++)
        if (strcasecmp(name, h->hosts[i]) == 0)
            return 1;
    return 0;
}

static const char *query_get(void *ctx, const char *key)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

/* Opens the API's store connection: at start, before the daemon drops its
 * privileges (SQLite makes a relative data_dir absolute, and the dropped
 * user may not search every directory above it, e.g. a tree under /root),
 * and again on first use if that failed.  The server's polling thread alone
 * uses it once started. */
static void open_store(struct api_http *h)
{
    char *err = NULL;

    if (h->st || !h->src.data_dir)
        return;
    if (store_open(h->src.data_dir, &h->st, &err) < 0) {
        log_warnx("http: store in %s: %s", h->src.data_dir, err ? err : "cannot open");
        free(err);
    }
}

static int outbox_append(void *ctx, const char *actor, const char *action, const char *object,
                         const char *details)
{
    return audit_append(ctx, actor, action, object, details, strlen(details), NULL);
}

/* Appends the entries of `hikeshi user` changes made while this daemon
 * holds the audit log (store_outbox_drain); before each request, so that
 * a change is in the log before anything that follows it. */
static void drain_outbox(struct api_http *h)
{
    size_t n = 0;
    int r;

    if (!h->st || !h->audit)
        return;
    if ((r = store_outbox_drain(h->st, outbox_append, h->audit, &n)) < 0)
        log_warnx("http: audit entries queued by hikeshi user: %s",
                  r == -EINVAL || r == -E2BIG ? "one is malformed; it stays queued"
                                              : strerror(-r));
    else if (n)
        log_info("http: %zu audit entries queued by hikeshi user appended", n);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    struct api_http *h = cls;
    struct api_conn *ac = *con_cls;
    struct api_ctx ctx;
    struct api_req rq;
    struct api_resp resp;
    enum MHD_Result ret;
    char key[AUTH_ADDR_KEY_MAX];

    if (!ac) {
        /* First call: headers only.  Host and rate limit here, before any
         * body. */
        if (!host_ok(h, conn))
            return reply_error(conn, MHD_HTTP_MISDIRECTED_REQUEST,
                               "this server does not answer for that Host (http.hosts)");
        if (api_web_path(url))
            return reply_web(conn, url, method);
        client_key(conn, key, sizeof(key));
        if ((strncmp(url, "/api/", 5) == 0 || strncmp(url, "/taxii2", 7) == 0) &&
            !auth_ratelimit_allow(h->rl, key, mono_us()))
            return reply_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests; slow down");
        if (!(ac = calloc(1, sizeof(*ac))))
            return MHD_NO;
        buf_init(&ac->body, CASEFILE_BODY_MAX);
        *con_cls = ac;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!ac->too_big && buf_append(&ac->body, upload_data, *upload_data_size) < 0) {
            ac->too_big = 1;
            buf_done(&ac->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ac->too_big)
        return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body over 256 KiB");
    open_store(h);
    drain_outbox(h);
    ctx = (struct api_ctx){
        .src = &h->src,
        .cf = {.st = h->st,
               .audit = h->audit,
               .playbooks = &h->playbooks,
               .targets = &h->targets,
               .leaks = &h->leaks},
        .login_rl = h->login_rl,
        .token_ttl_s = h->src.token_ttl_s,
        .metrics_open = h->metrics_open,
    };
    client_key(conn, key, sizeof(key));
    rq = (struct api_req){
        .method = method,
        .path = url,
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
        .session = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, AUTH_SESSION_COOKIE),
        .csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"),
        .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"),
        .accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"),
        .client = key,
        .body = ac->body.data ? ac->body.data : "",
        .body_len = ac->body.len,
        .query = query_get,
        .query_ctx = conn,
        .now_us = time_now_us(),
    };
    buf_init(&resp.body, 64 * 1024 * 1024);
    api_dispatch(&ctx, &rq, &resp);
    if (!resp.body.data && buf_append(&resp.body, "", 0) < 0) {
        buf_done(&resp.body);
        return reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    ret = reply_cookie(conn, resp.status, resp.type, resp.body.data, resp.body.len,
                       resp.set_cookie, &resp);
    buf_done(&resp.body);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_conn *ac = *con_cls;
    struct api_sock *s = conn ? conn_sock(conn) : NULL;

    /* The next request on a kept-alive connection has a deadline of its own. */
    if (s) {
        atomic_store(&s->since_us, mono_us());
        atomic_store(&s->answered, 0);
    }
    if (ac) {
        buf_done(&ac->body);
        free(ac);
        *con_cls = NULL;
    }
}

/* 1 when the listener takes connections from this host only (127.0.0.0/8,
 * ::1, or 127.0.0.0/8 mapped into IPv6): then whoever reaches /metrics is
 * already on the host, and scrapers need no token.  Any other address,
 * the wildcard included, is reachable from the network. */
static int listen_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* Lists a connection from accept to close (struct api_sock). */
static void notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct api_http *h = cls;
    struct api_sock *s = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        /* Out of memory: this one connection goes without a deadline
         * (the idle timeout still holds). */
        if (!ci || !(s = calloc(1, sizeof(*s))))
            return;
        s->fd = ci->connect_fd;
        atomic_store(&s->since_us, mono_us());
        pthread_mutex_lock(&h->socks_lock);
        s->next = h->socks;
        if (h->socks)
            h->socks->prev = s;
        h->socks = s;
        pthread_mutex_unlock(&h->socks_lock);
        *socket_context = s;
        return;
    }
    if (!s)
        return;
    pthread_mutex_lock(&h->socks_lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&h->socks_lock);
    free(s);
    *socket_context = NULL;
}

/* Twice a second: ends every connection whose request is late. */
static void *reaper_main(void *arg)
{
    struct api_http *h = arg;

    pthread_mutex_lock(&h->socks_lock);
    while (!h->stopping) {
        struct timespec ts;
        int64_t now;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 500000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&h->socks_cond, &h->socks_lock, &ts);
        now = mono_us();
        for (struct api_sock *s = h->socks; s; s = s->next) {
            if (atomic_load(&s->answered) || now - atomic_load(&s->since_us) <= h->request_us)
                continue;
            /* The polling thread sees the stream end and closes it; once
             * is enough, so the clock is set far ahead. */
            (void)shutdown(s->fd, SHUT_RDWR);
            atomic_store(&s->since_us, INT64_MAX / 2);
        }
    }
    pthread_mutex_unlock(&h->socks_lock);
    return NULL;
}

/* Adds a Host name (lower case, without a final dot); names past the cap
 * and repeats are left out. */
static int host_add(struct api_http *h, const char *name)
{
    char buf[256];
    size_t n = strlen(name);

    if (n == 0 || n >= sizeof(buf) || h->nhosts == API_HTTP_HOSTS_MAX)
        return 0;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    if (n > 1 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    for (size_t i = 0; i < h->nhosts; i++)
        if (strcmp(h->hosts[i], buf) == 0)
            return 0;
    if (!(h->hosts[h->nhosts] = strdup(buf)))
        return -ENOMEM;
    h->nhosts++;
    return 0;
}

/* The host's own addresses, "192.0.2.7" and "[2001:db8::7]" (not link-local:
 * those need a zone no browser puts in Host). */
static int host_add_ifaddrs(struct api_http *h)
{
    struct ifaddrs *ifa, *i;
    int r = 0;

    if (getifaddrs(&ifa) < 0)
        return 0;
    for (i = ifa; i && r == 0; i = i->ifa_next) {
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN + 2];

        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET &&
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr,
                      a, sizeof(a))) {
            r = host_add(h, a);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const struct in6_addr *in6 =
                &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;

            if (!IN6_IS_ADDR_LINKLOCAL(in6) && inet_ntop(AF_INET6, in6, a, sizeof(a))) {
                snprintf(b, sizeof(b), "[%s]", a);
                r = host_add(h, b);
            }
        }
    }
    freeifaddrs(ifa);
    return r;
}

/*
 * The Host names accepted, in the order a certificate names them: those of
 * http.hosts, then the listener's own name or address (on a wildcard
 * listener the host name and every address of the host), then the
 * loopback names.
 */
static int hosts_init(struct api_http *h, const char *listen, const struct sockaddr_storage *ss,
                      const struct config_http *conf)
{
    static const char *const loop[] = {"localhost", "127.0.0.1", "[::1]"};
    int wildcard = 0, r = 0;

    for (size_t i = 0; conf && i < conf->nhosts && r == 0; i++)
        r = host_add(h, conf->hosts[i]);
    if (ss->ss_family == AF_INET)
        wildcard = ((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr == INADDR_ANY;
    else if (ss->ss_family == AF_INET6)
        wildcard =
            IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
    if (r == 0 && wildcard) {
        char name[256];

        if (gethostname(name, sizeof(name) - 1) == 0) {
            name[sizeof(name) - 1] = '\0';
            r = host_add(h, name);
        }
        if (r == 0)
            r = host_add_ifaddrs(h);
    } else if (r == 0) {
        /* "name:port" or "[v6]:port": the part before the last colon. */
        const char *colon = strrchr(listen, ':');
        char name[256];

        if (colon && (size_t)(colon - listen) < sizeof(name)) {
            memcpy(name, listen, (size_t)(colon - listen));
            name[colon - listen] = '\0';
            r = host_add(h, name);
        }
    }
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]) && r == 0; i++)
        r = host_add(h, loop[i]);
    return r;
}

/* HTTPS when asked (tls: true, or a tls_cert) and by default off loopback. */
static int tls_wanted(int loopback, const struct config_http *conf)
{
    return conf->tls == CONFIG_HTTP_TLS_ON || conf->tls_cert ||
           (conf->tls == CONFIG_HTTP_TLS_AUTO && !loopback);
}

int api_http_wants_tls(const char *listen, const struct config_http *conf)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int r = netaddr_parse(listen, &ss, &sslen);

    return r < 0 ? r : tls_wanted(listen_loopback(&ss), conf);
}

/*
 * Decides between HTTP and HTTPS and loads the pair: HTTPS when asked
 * (http.tls: true, or a tls_cert), and by default once the listener leaves
 * loopback, with the given pair or a self-signed one made in data_dir.
 * Clear text off loopback only with http.insecure_cleartext.
 */
static int tls_init(struct api_http *h, const char *listen, int loopback,
                    const struct config_http *conf, char *errbuf, size_t errlen)
{
    struct tlscert_paths tp;
    const char *cert = conf->tls_cert, *key = conf->tls_key;
    size_t len;
    int created = 0, r;

    h->tls = tls_wanted(loopback, conf);
    if (!h->tls) {
        if (!loopback && !conf->insecure_cleartext) {
            snprintf(errbuf, errlen,
                     "http.listen %s is reachable from the network and http.tls is false: "
                     "passwords, tokens and session cookies would cross it in clear text; "
                     "serve HTTPS (http.tls: auto, with http.tls_cert and http.tls_key or a "
                     "self-signed certificate made in data_dir) or set "
                     "http.insecure_cleartext: true",
                     listen);
            return -EPERM;
        }
        if (!loopback)
            log_warnx("http: clear-text HTTP on %s (http.insecure_cleartext): passwords, tokens "
                      "and session cookies cross the network readable by anyone on the path",
                      listen);
        return 0;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(errbuf, errlen, "http: HTTPS on %s, but this libmicrohttpd has no TLS", listen);
        return -ENOTSUP;
    }
    if (!cert) {
        if (!h->src.data_dir) {
            snprintf(errbuf, errlen,
                     "http: HTTPS on %s needs http.tls_cert and http.tls_key, or a data_dir "
                     "for a self-signed certificate",
                     listen);
            return -EINVAL;
        }
        if ((r = tlscert_ensure_self_signed(h->src.data_dir, "http", (const char *const *)h->hosts,
                                            h->nhosts, &tp, &created, errbuf, errlen)) < 0)
            return r;
        cert = tp.cert;
        key = tp.key;
        log_info("http: HTTPS with a self-signed certificate for %s (%s %s; give http.tls_cert "
                 "and http.tls_key for one of your own)",
                 h->hosts[0], created ? "made now in" : "kept in", cert);
    }
    if ((r = readfile_all(cert, 1024 * 1024, &h->cert_pem, &len)) < 0) {
        snprintf(errbuf, errlen, "http.tls_cert %s: %s", cert, strerror(-r));
        return r;
    }
    if ((r = readfile_all(key, 1024 * 1024, &h->key_pem, &h->key_len)) < 0) {
        snprintf(errbuf, errlen, "http.tls_key %s: %s", key, strerror(-r));
        return r;
    }
    return 0;
}

/* Frees what start set up beyond the routes' state; for start's failures
 * and for stop (after the daemon is gone). */
static void edge_done(struct api_http *h)
{
    if (h->reaper_started) {
        pthread_mutex_lock(&h->socks_lock);
        h->stopping = 1;
        pthread_cond_signal(&h->socks_cond);
        pthread_mutex_unlock(&h->socks_lock);
        pthread_join(h->reaper, NULL);
        h->reaper_started = 0;
    }
    if (h->mhd) {
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
    }
    while (h->socks) {
        struct api_sock *s = h->socks;

        h->socks = s->next;
        free(s);
    }
    if (h->socks_init) {
        pthread_cond_destroy(&h->socks_cond);
        pthread_mutex_destroy(&h->socks_lock);
        h->socks_init = 0;
    }
    for (size_t i = 0; i < h->nhosts; i++)
        free(h->hosts[i]);
    h->nhosts = 0;
    free(h->cert_pem);
    if (h->key_pem)
        explicit_bzero(h->key_pem, h->key_len);
    free(h->key_pem);
    h->cert_pem = h->key_pem = NULL;
}

/* Starts libmicrohttpd on `ss` with the caps of `conf`, and the reaper. */
static int edge_start(struct api_http *h, struct sockaddr_storage *ss, unsigned flags,
                      const struct config_http *conf)
{
    /* TLS 1.2 and 1.3 only, GnuTLS's default ciphers otherwise.  The
     * option takes a non-const pointer it only reads. */
    static const char prio[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
    union {
        const char *c;
        void *v;
    } pr = {.c = prio};
    struct MHD_OptionItem opt[16];
    pthread_condattr_t ca;
    size_t n = 0;

    if (pthread_condattr_init(&ca) != 0)
        return -ENOMEM;
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&h->socks_cond, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        return -ENOMEM;
    }
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->socks_lock, NULL);
    h->socks_init = 1;
    h->request_us = (int64_t)conf->request_timeout_s * 1000000;
#define OPT(o, v, p) opt[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_SOCK_ADDR, 0, ss);
    OPT(MHD_OPTION_CONNECTION_LIMIT, conf->max_connections, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_per_address, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, conf->idle_timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, request_done, h);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, notify_conn, h);
    if (h->tls) {
        flags |= MHD_USE_TLS;
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem);
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, pr.v);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    h->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, handler, h, MHD_OPTION_ARRAY, opt, MHD_OPTION_END);
    if (!h->mhd)
        return -EADDRINUSE;
    if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0)
        return -EAGAIN;
    h->reaper_started = 1;
    return 0;
}

int api_http_start(const char *listen, const struct api_sources *src, struct api_http **ret,
                   char *errbuf, size_t errlen)
{
    static const struct config_http defaults = {
        .max_connections = LIMIT_HTTP_CONNECTIONS,
        .max_per_address = LIMIT_HTTP_PER_ADDRESS,
        .idle_timeout_s = LIMIT_HTTP_IDLE_S,
        .request_timeout_s = LIMIT_HTTP_REQUEST_S,
    };
    const struct config_http *conf = src->http ? src->http : &defaults;
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct api_http *h;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    int r;

    *ret = NULL;
    if ((r = netaddr_parse(listen, &ss, &sslen)) < 0) {
        snprintf(errbuf, errlen, "http listen address '%s' is not host:port", listen);
        return r;
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->src = *src;
    h->metrics_open = listen_loopback(&ss);
    playbook_set_init(&h->playbooks);
    procedure_set_init(&h->procedures);
    playbook_leak_set_init(&h->leaks);
    incident_targets_default(&h->targets);
    for (size_t i = 0; i < src->ntargets; i++) {
        /* Validated when the configuration was read. */
        const struct config_target *t = &src->targets[i];
        (void)incident_targets_set(&h->targets, (enum incident_phase)t->phase, t->category,
                                   t->level, t->us);
    }
    if ((r = auth_init()) < 0) {
        snprintf(errbuf, errlen, "http: libsodium cannot start");
        free(h);
        return r;
    }
    (void)playbook_files_load(&h->playbooks, &h->leaks, &h->procedures, src->playbooks_dir,
                              src->cfg ? src->cfg->procedures_file : NULL);
    h->audit = src->audit;
    if (src->data_dir && !src->audit) {
        char path[4096];
        struct audit_result ar;

        snprintf(path, sizeof(path), "%s/audit.log", src->data_dir);
        if ((r = audit_open(path, &h->own_audit, &ar)) < 0) {
            snprintf(errbuf, errlen, "audit log %s: %s%s%s", path,
                     r == -EWOULDBLOCK ? "another process writes it" : strerror(-r),
                     ar.why != AUDIT_OK ? "; chain broken: " : "",
                     ar.why != AUDIT_OK ? audit_why_name(ar.why) : "");
            playbook_set_done(&h->playbooks);
            procedure_set_done(&h->procedures);
            playbook_leak_set_done(&h->leaks);
            free(h);
            return r;
        }
        h->audit = h->own_audit;
    }
    /* Per client address: bursts of 200 API requests, 50 a second after. */
    h->rl = auth_ratelimit_new(50.0, 200, 4096);
    /* Passwords: 10 attempts, then one a minute, per client address. */
    h->login_rl = auth_ratelimit_new(1.0 / 60.0, 10, 4096);
    open_store(h);
    r = !h->rl || !h->login_rl ? -ENOMEM : hosts_init(h, listen, &ss, conf);
    if (r == 0)
        r = tls_init(h, listen, listen_loopback(&ss), conf, errbuf, errlen);
    if (r == 0 && (r = edge_start(h, &ss, flags, conf)) < 0)
        snprintf(errbuf, errlen, "cannot listen for HTTP%s on %s (%s)", h->tls ? "S" : "", listen,
                 r == -EADDRINUSE
                     ? (h->tls ? "address in use, or the TLS certificate and key do not load"
                               : "address in use?")
                     : strerror(-r));
    if (r < 0) {
        edge_done(h);
        store_free(h->st);
        auth_ratelimit_free(h->rl);
        auth_ratelimit_free(h->login_rl);
        audit_free(h->own_audit);
        playbook_set_done(&h->playbooks);
        procedure_set_done(&h->procedures);
        playbook_leak_set_done(&h->leaks);
        free(h);
        return r;
    }
    info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    casefile_procedure_configure(&h->procedures);
    *ret = h;
    return 0;
}

void api_http_stop(struct api_http *h)
{
    if (!h)
        return;
    edge_done(h);
    open_store(h);
    drain_outbox(h);
    auth_ratelimit_free(h->rl);
    auth_ratelimit_free(h->login_rl);
    store_free(h->st);
    audit_free(h->own_audit);
    casefile_procedure_configure(NULL);
    playbook_set_done(&h->playbooks);
    procedure_set_done(&h->procedures);
    playbook_leak_set_done(&h->leaks);
    free(h);
}

unsigned api_http_port(const struct api_http *h)
{
    return h->port;
}

int api_http_tls(const struct api_http *h)
{
    return h->tls;
}
