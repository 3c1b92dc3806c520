/*
 * test_webhook.c - the webhook action against a real HTTP server on
 * loopback (libmicrohttpd, internal polling thread) that records what it
 * receives and answers from a script: signature, byte-exact body, retries
 * with backoff, Retry-After, no retry on 4xx or redirects, refused
 * connections, and a server that never answers.
 *
 * The posted documents quote real sshd lines
 * ($HIKESHI_SHARED/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "respond/respond_webhook.h"
#include "util/buf.h"

#define SSH_LOG "/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log"
#define MAX_REQ 16

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef-hikeshi-test";
static const unsigned char other_secret[] = "fedcba9876543210fedcba9876543210-hikeshi-test";

/* Real sshd lines, read by the group setup. */
static char ssh_lines[4][512];

struct rec {
    char ts[64];
    char sig[160];
    char ctype[64];
    char method[16];
    char *body;
    size_t body_len;
    uint64_t at_ms;
};

/* The recording server; fields under `mu` are written by MHD's thread. */
struct srv {
    struct MHD_Daemon *d;
    unsigned short port;
    pthread_mutex_t mu;
    unsigned script[MAX_REQ]; /* status per request; the last one repeats */
    size_t nscript;
    const char *retry_after; /* sent with 429 and 503 answers when set */
    size_t nreq;
    struct rec req[MAX_REQ];
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void copy_header(struct MHD_Connection *conn, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

    snprintf(out, size, "%s", v ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct srv *s = cls;
    struct buf *body = *con_cls;
    struct MHD_Response *resp;
    char text[64];
    unsigned status;
    enum MHD_Result ok;

    (void)url;
    (void)version;
    if (!body) {
        body = calloc(1, sizeof(*body));
        if (!body)
            return MHD_NO;
        buf_init(body, 4 * 1024 * 1024);
        *con_cls = body;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (buf_append(body, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    if (s->nreq < MAX_REQ) {
        struct rec *r = &s->req[s->nreq];

        copy_header(conn, "X-Hikeshi-Timestamp", r->ts, sizeof(r->ts));
        copy_header(conn, "X-Hikeshi-Signature", r->sig, sizeof(r->sig));
        copy_header(conn, "Content-Type", r->ctype, sizeof(r->ctype));
        snprintf(r->method, sizeof(r->method), "%s", method);
        r->body = malloc(body->len + 1);
        if (r->body) {
            memcpy(r->body, body->data ? body->data : "", body->len);
            r->body_len = body->len;
        }
        r->at_ms = now_ms();
    }
    status = s->script[s->nreq < s->nscript ? s->nreq : s->nscript - 1];
    s->nreq++;
    pthread_mutex_unlock(&s->mu);

    snprintf(text, sizeof(text), "test server says %u\n", status);
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (s->retry_after && (status == 429 || status == 503))
        MHD_add_response_header(resp, "Retry-After", s->retry_after);
    if (status / 100 == 3)
        MHD_add_response_header(resp, "Location", "http://127.0.0.1:1/elsewhere");
    ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct buf *body = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (body) {
        buf_done(body);
        free(body);
        *con_cls = NULL;
    }
}

static void srv_start(struct srv *s, const unsigned *script, size_t n)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    const union MHD_DaemonInfo *info;

    memset(s, 0, sizeof(*s));
    assert_true(n > 0 && n <= MAX_REQ);
    memcpy(s->script, script, n * sizeof(*script));
    s->nscript = n;
    pthread_mutex_init(&s->mu, NULL);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                            MHD_OPTION_END);
    assert_non_null(s->d);
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
}

static void srv_stop(struct srv *s)
{
    MHD_stop_daemon(s->d);
    for (size_t i = 0; i < s->nreq && i < MAX_REQ; i++)
        free(s->req[i].body);
    pthread_mutex_destroy(&s->mu);
}

static size_t srv_nreq(struct srv *s)
{
    size_t n;

    pthread_mutex_lock(&s->mu);
    n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int group_setup(void **state)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[4096], line[1024];
    size_t got = 0;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s" SSH_LOG, shared ? shared : "../shared");
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "missing sample %s\n", path);
        return -1;
    }
    while (got < 4 && fgets(line, sizeof(line), f))
        if (strstr(line, "Failed password")) {
            size_t n = strcspn(line, "\n");

            if (n >= sizeof(ssh_lines[0]))
                n = sizeof(ssh_lines[0]) - 1;
            memcpy(ssh_lines[got++], line, n);
        }
    fclose(f);
    if (got < 4)
        return -1;
    return respond_webhook_global_init();
}

static int group_teardown(void **state)
{
    (void)state;
    respond_webhook_global_done();
    return 0;
}

/* A JSON alert quoting real line `i`; the returned length excludes the NUL. */
static size_t make_doc(char *out, size_t size, int i)
{
    struct buf b;
    size_t n;

    buf_init(&b, size - 1);
    assert_int_equal(buf_puts(&b, "{\"rule\":\"sshd-bruteforce\",\"level\":\"high\","
                                  "\"note\":\"caf\xc3\xa9 \\u00e9\",\"message\":"),
                     0);
    assert_int_equal(buf_json_str(&b, ssh_lines[i], strlen(ssh_lines[i])), 0);
    assert_int_equal(buf_puts(&b, "}"), 0);
    n = b.len;
    memcpy(out, b.data, n + 1);
    buf_done(&b);
    return n;
}

static void conf_for(struct respond_webhook_conf *c, char *url, size_t url_size,
                     unsigned short port)
{
    snprintf(url, url_size, "http://127.0.0.1:%u/hook", port);
    memset(c, 0, sizeof(*c));
    c->url = url;
    c->secret = secret;
    c->secret_len = sizeof(secret) - 1;
    c->timeout_ms = 2000;
    c->max_attempts = 4;
    c->backoff_base_ms = 10;
    c->backoff_max_ms = 200;
}

/* ---- signature and body ------------------------------------------------ */

static void test_signature_and_body(void **state)
{
    static const unsigned ok[] = {200};
    struct respond_webhook_conf c;
    struct respond_webhook_result res;
    struct srv s;
    char url[128], doc[2048];
    size_t len;

    (void)state;
    for (int i = 0; i < 4; i++) {
        const struct rec *r;
        long ts;

        srv_start(&s, ok, 1);
        conf_for(&c, url, sizeof(url), s.port);
        len = make_doc(doc, sizeof(doc), i);
        assert_int_equal(respond_webhook_send(&c, doc, len, &res), 0);
        assert_int_equal(res.attempts, 1);
        assert_int_equal(res.http_status, 200);
        assert_non_null(strstr(res.reason, "delivered"));
        assert_int_equal(srv_nreq(&s), 1);
        r = &s.req[0];
        assert_string_equal(r->method, "POST");
        assert_string_equal(r->ctype, "application/json");
        /* Byte-exact, UTF-8 included. */
        assert_int_equal(r->body_len, len);
        assert_memory_equal(r->body, doc, len);
        /* The timestamp is now, and it is inside the MAC. */
        ts = strtol(r->ts, NULL, 10);
        assert_true(labs(ts - (long)time(NULL)) <= 5);
        assert_int_equal(strncmp(r->sig, "sha256=", 7), 0);
        assert_int_equal(strlen(r->sig), 7 + 64);
        assert_int_equal(
            respond_webhook_verify(secret, sizeof(secret) - 1, r->ts, r->body, r->body_len, r->sig),
            0);
        assert_int_equal(respond_webhook_verify(other_secret, sizeof(other_secret) - 1, r->ts,
                                                r->body, r->body_len, r->sig),
                         -EBADMSG);
        {
            char ts2[64];

            snprintf(ts2, sizeof(ts2), "%ld", ts + 1);
            assert_int_equal(respond_webhook_verify(secret, sizeof(secret) - 1, ts2, r->body,
                                                    r->body_len, r->sig),
                             -EBADMSG);
        }
        r->body[len / 2] ^= 1;
        assert_int_equal(
            respond_webhook_verify(secret, sizeof(secret) - 1, r->ts, r->body, r->body_len, r->sig),
            -EBADMSG);
        r->body[len / 2] ^= 1;
        assert_int_equal(respond_webhook_verify(secret, sizeof(secret) - 1, r->ts, r->body,
                                                r->body_len - 1, r->sig),
                         -EBADMSG);
        srv_stop(&s);
    }
}

static void test_verify_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "sha256=",
        "sha1=0000000000000000000000000000000000000000",
        "sha256=zz00000000000000000000000000000000000000000000000000000000000000",
        "sha256=00000000000000000000000000000000000000000000000000000000000000",
        "sha256=000000000000000000000000000000000000000000000000000000000000000000",
        "SHA256=0000000000000000000000000000000000000000000000000000000000000000",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            respond_webhook_verify(secret, sizeof(secret) - 1, "1700000000", "{}", 2, bad[i]),
            -EBADMSG);
    assert_int_equal(respond_webhook_verify(secret, sizeof(secret) - 1, NULL, "{}", 2, bad[0]),
                     -EINVAL);
}

/* ---- retries ----------------------------------------------------------- */

static void test_retry_table(void **state)
{
    static const struct {
        const char *name;
        unsigned script[4];
        size_t n;
        const char *retry_after;
        int ret;
        unsigned attempts;
        long status;
        uint64_t min_gap_ms, max_gap_ms; /* between the first two requests */
    } rows[] = {
        {"500,500,200 retried with backoff", {500, 500, 200}, 3, NULL, 0, 3, 200, 10, 900},
        {"400 not retried", {400, 200}, 2, NULL, -EIO, 1, 400, 0, 0},
        {"404 not retried", {404, 200}, 2, NULL, -EIO, 1, 404, 0, 0},
        {"302 neither followed nor retried", {302, 200}, 2, NULL, -EIO, 1, 302, 0, 0},
        {"503 until attempts run out", {503}, 1, NULL, -EIO, 4, 503, 10, 900},
        /* Retry-After 1 s, capped by backoff_max_ms (200) in this config. */
        {"429 Retry-After honoured and capped", {429, 200}, 2, "1", 0, 2, 200, 190, 950},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_webhook_conf c;
        struct respond_webhook_result res;
        struct srv s;
        char url[128], doc[2048];
        size_t len;

        print_message("%s\n", rows[i].name);
        srv_start(&s, rows[i].script, rows[i].n);
        s.retry_after = rows[i].retry_after;
        conf_for(&c, url, sizeof(url), s.port);
        len = make_doc(doc, sizeof(doc), (int)(i % 4));
        assert_int_equal(respond_webhook_send(&c, doc, len, &res), rows[i].ret);
        assert_int_equal(res.attempts, rows[i].attempts);
        assert_int_equal(res.http_status, rows[i].status);
        assert_int_equal(srv_nreq(&s), rows[i].attempts);
        if (rows[i].ret < 0) {
            assert_non_null(strstr(res.reason, "not delivered"));
            assert_non_null(strstr(res.reason, "test server says"));
        }
        if (rows[i].attempts > 1) {
            uint64_t gap = s.req[1].at_ms - s.req[0].at_ms;

            assert_true(gap >= rows[i].min_gap_ms);
            assert_true(gap <= rows[i].max_gap_ms);
        }
        /* Every attempt is signed and carries the same body. */
        for (size_t k = 0; k < rows[i].attempts; k++) {
            assert_memory_equal(s.req[k].body, doc, len);
            assert_int_equal(respond_webhook_verify(secret, sizeof(secret) - 1, s.req[k].ts,
                                                    s.req[k].body, s.req[k].body_len, s.req[k].sig),
                             0);
        }
        /* Backoff doubles: the 3rd gap is longer than the 1st. */
        if (rows[i].attempts >= 3 && !rows[i].retry_after)
            assert_true(s.req[2].at_ms - s.req[1].at_ms >= 20);
        srv_stop(&s);
    }
}

/* A port nothing listens on: bound, then closed. */
static unsigned short closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_connection_refused(void **state)
{
    struct respond_webhook_conf c;
    struct respond_webhook_result res;
    char url[160], want[64], doc[2048];
    unsigned short port = closed_port();
    size_t len = make_doc(doc, sizeof(doc), 0);

    (void)state;
    conf_for(&c, url, sizeof(url), port);
    c.max_attempts = 3;
    assert_int_equal(respond_webhook_send(&c, doc, len, &res), -EIO);
    assert_int_equal(res.attempts, 3);
    assert_int_equal(res.http_status, 0);
    assert_true(res.retryable);
    snprintf(want, sizeof(want), "http://127.0.0.1:%u/hook", port);
    assert_non_null(strstr(res.reason, want));
    assert_non_null(strstr(res.reason, "after 3 attempts"));

    /* Credentials and query strings never reach the reason. */
    snprintf(url, sizeof(url), "http://alice:hunter2@127.0.0.1:%u/hook?token=s3cr3t", port);
    c.max_attempts = 1;
    assert_int_equal(respond_webhook_send(&c, doc, len, &res), -EIO);
    assert_non_null(strstr(res.reason, want));
    assert_null(strstr(res.reason, "hunter2"));
    assert_null(strstr(res.reason, "s3cr3t"));
}

static void test_never_answers(void **state)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t sl = sizeof(sa);
    struct respond_webhook_conf c;
    struct respond_webhook_result res;
    char url[128], doc[2048];
    size_t len = make_doc(doc, sizeof(doc), 1);
    uint64_t t0, took;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    /* Listening, never accepting: the kernel completes the handshake and
     * the request sits unread. */
    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    conf_for(&c, url, sizeof(url), ntohs(sa.sin_port));
    c.timeout_ms = 300;
    c.max_attempts = 2;
    t0 = now_ms();
    assert_int_equal(respond_webhook_send(&c, doc, len, &res), -EIO);
    took = now_ms() - t0;
    close(fd);
    assert_int_equal(res.attempts, 2);
    assert_int_equal(res.http_status, 0);
    assert_true(res.retryable);
    assert_non_null(strstr(res.reason, "timed out"));
    /* Two attempts of 300 ms and one 10 ms wait. */
    assert_true(took >= 600);
    assert_true(took < 600 + 1000);
}

static void test_bad_config(void **state)
{
    static const struct {
        const char *url;
        size_t secret_len;
    } rows[] = {
        {"file:///etc/passwd", sizeof(secret) - 1},
        {"ftp://127.0.0.1/x", sizeof(secret) - 1},
        {"gopher://127.0.0.1/", sizeof(secret) - 1},
        {"127.0.0.1/hook", sizeof(secret) - 1},
        {NULL, sizeof(secret) - 1},
        {"http://127.0.0.1:1/hook", RESPOND_WEBHOOK_SECRET_MIN - 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct respond_webhook_conf c = {
            .url = rows[i].url, .secret = secret, .secret_len = rows[i].secret_len};
        struct respond_webhook_result res;

        assert_int_equal(respond_webhook_send(&c, "{}", 2, &res), -EINVAL);
        assert_int_equal(res.attempts, 0);
        assert_true(strlen(res.reason) > 10);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_and_body), cmocka_unit_test(test_verify_malformed),
        cmocka_unit_test(test_retry_table),        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_never_answers),      cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
