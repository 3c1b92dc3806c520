/*
 * test_input_tls.c - syslog over TLS (input_tls.c inside input_syslog.c)
 * over real loopback sockets with a GnuTLS client: the fingerprint parser;
 * a client with a CA-signed certificate delivers records that carry
 * RECORD_TRUSTED on a trusted input (and not on an untrusted one), also
 * when the input stops right after; a client without a certificate or with
 * one neither chaining to the CA nor listed is refused and counted.
 *
 * The certificates are in tests/unit/tls (see its README).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "input/input.h"
#include "input/input_tls.h"
#include "input/record.h"
#include "util/queue.h"

/* certtool -i / openssl x509 -fingerprint -sha256 of tls/client.pem. */
static const char client_fpr[] =
    "FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:"
    "1C:1F";

static char tls_dir[512];

/* The path of a file in tls_dir; the same pointer for the same name, kept
 * for the whole run (confs hold them). */
static const char *tls_path(const char *name)
{
    static char names[16][32], paths[16][600];

    for (int i = 0; i < 16; i++) {
        if (strcmp(names[i], name) == 0)
            return paths[i];
        if (!names[i][0]) {
            snprintf(names[i], sizeof(names[i]), "%s", name);
            snprintf(paths[i], sizeof(paths[i]), "%s/%s", tls_dir, name);
            return paths[i];
        }
    }
    fail_msg("too many file names");
    return NULL;
}

struct fpr_case {
    const char *in;
    int ok;
};

static const struct fpr_case fpr_cases[] = {
    {"FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:"
     "1C:1F",
     1},
    {"fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1f", 1},
    {"sha256:fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1f", 1},
    {"SHA256:FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:"
     "99:CC:26:1C:1F",
     1},
    {"", 0},
    {"fabb", 0},
    /* one digit short, one pair too many, a non-hex digit */
    {"fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1", 0},
    {"fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1f00", 0},
    {"fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1g", 0},
    /* colons mixed with none, a trailing colon, a leading one */
    {"FA:BB4132:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:1C:"
     "1F",
     0},
    {"FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:"
     "1C:1F:",
     0},
    {":FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:"
     "1C:1F",
     0},
    {"sha1:b676be3cf3f96a2ce244ac3275b8cdb3338e9027", 0},
    {" fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1f", 0},
};

static void test_fingerprint_parse(void **state)
{
    uint8_t want[INPUT_TLS_FPR_LEN], got[INPUT_TLS_FPR_LEN];

    (void)state;
    assert_int_equal(input_tls_fingerprint_parse(fpr_cases[1].in, strlen(fpr_cases[1].in), want),
                     0);
    assert_int_equal(want[0], 0xfa);
    assert_int_equal(want[31], 0x1f);
    for (size_t i = 0; i < sizeof(fpr_cases) / sizeof(fpr_cases[0]); i++) {
        const struct fpr_case *fc = &fpr_cases[i];
        int r = input_tls_fingerprint_parse(fc->in, strlen(fc->in), got);

        if (fc->ok && (r != 0 || memcmp(got, want, sizeof(want)) != 0))
            fail_msg("case %zu: %s not parsed as the fingerprint (r=%d)", i, fc->in, r);
        if (!fc->ok && r != -EINVAL)
            fail_msg("case %zu: %s accepted", i, fc->in);
    }
    /* Only len bytes are read. */
    assert_int_equal(input_tls_fingerprint_parse(fpr_cases[1].in, 63, got), -EINVAL);
}

static void conf_init(struct input_conf *c, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->id = 5;
    c->name = name;
    c->type = INPUT_SYSLOG_TLS;
    c->listen = "127.0.0.1:0";
    c->max_line = 1024;
    c->tls_cert = tls_path("server.pem");
    c->tls_key = tls_path("server.key");
}

static uint16_t bound_port(const struct input *in)
{
    const char *b = input_bound_address(in);
    const char *colon = strrchr(b, ':');

    assert_non_null(colon);
    return (uint16_t)atoi(colon + 1);
}

/*
 * Connects a blocking GnuTLS client to 127.0.0.1:port, with `cert`/`key`
 * (NULL: no client certificate), and sends `msg` octet-counted.  Returns 0
 * when the handshake succeeded and the message was sent, and in *ret_fd the
 * socket (still open) and *ret_s the session; a negative GnuTLS error when
 * it failed.
 */
static int client_send(uint16_t port, const char *cert, const char *key, const char *msg,
                       gnutls_certificate_credentials_t *ret_cred, gnutls_session_t *ret_s,
                       int *ret_fd)
{
    struct sockaddr_in sin;
    gnutls_certificate_credentials_t cred;
    gnutls_session_t s;
    char frame[512];
    int fd, r, n;

    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    assert_true(
        gnutls_certificate_set_x509_trust_file(cred, tls_path("ca.pem"), GNUTLS_X509_FMT_PEM) > 0);
    if (cert)
        assert_int_equal(gnutls_certificate_set_x509_key_file(cred, cert, key, GNUTLS_X509_FMT_PEM),
                         0);
    assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
    assert_int_equal(gnutls_set_default_priority(s), 0);
    assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, 5000);
    do {
        r = gnutls_handshake(s);
    } while (r < 0 && !gnutls_error_is_fatal(r));
    /* TLS 1.3: a refused client certificate shows on the first read or
     * write after the client's side of the handshake ended. */
    if (r == 0) {
        n = snprintf(frame, sizeof(frame), "%zu %s", strlen(msg), msg);
        r = (int)gnutls_record_send(s, frame, (size_t)n);
        if (r == n) {
            char c;
            ssize_t k;

            /* Let the server decide; it closes refused clients. */
            gnutls_record_set_timeout(s, 300);
            k = gnutls_record_recv(s, &c, 1);
            r = k == 0 || (k < 0 && k != GNUTLS_E_TIMEDOUT) ? GNUTLS_E_PREMATURE_TERMINATION : 0;
        }
    }
    *ret_cred = cred;
    *ret_s = s;
    *ret_fd = fd;
    return r < 0 ? r : 0;
}

static void client_done(gnutls_certificate_credentials_t cred, gnutls_session_t s, int fd)
{
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    close(fd);
}

/* Pops records for up to 5 s until `want` arrived; returns how many. */
static size_t pop(struct queue *q, size_t want, struct rec_batch **ret_last)
{
    size_t n = 0;

    for (int i = 0; i < 50 && n < want; i++) {
        struct rec_batch *b = queue_pop(q, 100);

        if (!b)
            continue;
        n += b->nrec;
        rec_batch_free(*ret_last);
        *ret_last = b;
    }
    return n;
}

/* A CA-signed client on a trusted and an untrusted input: its record
 * arrives, marked trusted only by the trusted one; sent just before stop,
 * another still arrives. */
static void test_tls_accepted(void **state)
{
    enum input_trust trusts[] = {INPUT_TRUST_TRUSTED, INPUT_TRUST_UNTRUSTED};

    (void)state;
    for (size_t t = 0; t < 2; t++) {
        struct queue *q = rec_batch_queue_new(16);
        struct input_stats st;
        struct input_conf c;
        struct input *in;
        struct rec_batch *b = NULL;
        struct record *r;
        gnutls_certificate_credentials_t cred;
        gnutls_session_t s;
        char err[256];
        int fd;
        static const char msg[] = "<38>Dec 10 06:55:48 relay sshd[1]: Failed password for root";

        memset(&st, 0, sizeof(st));
        conf_init(&c, "tls");
        c.tls_ca = tls_path("ca.pem");
        c.trust = trusts[t];
        assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
        assert_int_equal(client_send(bound_port(in), tls_path("client.pem"), tls_path("client.key"),
                                     msg, &cred, &s, &fd),
                         0);
        assert_int_equal(pop(q, 1, &b), 1);
        r = rec_batch_first(b);
        assert_int_equal(r->len, strlen(msg));
        assert_memory_equal(r->data, msg, r->len);
        assert_int_equal(r->flags, trusts[t] == INPUT_TRUST_TRUSTED ? RECORD_TRUSTED : 0);
        assert_int_equal(r->peer_family, 4);
        assert_memory_equal(r->peer_addr, "\x7f\0\0\x01", 4);
        /* Sent, then the input stops at once: still delivered. */
        assert_int_equal(gnutls_record_send(s, "5 hello", 7), 7);
        usleep(50 * 1000);
        input_stop(in);
        assert_int_equal(pop(q, 1, &b), 1);
        r = rec_batch_first(b);
        assert_int_equal(r->len, 5);
        assert_memory_equal(r->data, "hello", 5);
        assert_int_equal(st.denied, 0);
        assert_int_equal(st.records, 2);
        client_done(cred, s, fd);
        rec_batch_free(b);
        input_free(in);
        queue_free(q);
    }
}

/* No client certificate, or one the input does not accept: refused,
 * counted in `denied`, nothing delivered.  The same client certificate
 * listed by fingerprint (no CA) is accepted. */
static void test_tls_refused(void **state)
{
    struct {
        const char *cert, *key;
        int use_ca, use_fpr, accepted;
    } cases[] = {
        {NULL, NULL, 1, 0, 0},                 /* no certificate */
        {"server.pem", "server.key", 0, 1, 0}, /* signed, not listed */
        {"client.pem", "client.key", 0, 1, 1}, /* listed */
        {"client.pem", "client.key", 1, 1, 1}, /* listed and signed */
    };
    uint8_t fpr[INPUT_TLS_FPR_LEN];

    (void)state;
    assert_int_equal(input_tls_fingerprint_parse(client_fpr, strlen(client_fpr), fpr), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct queue *q = rec_batch_queue_new(16);
        struct input_stats st;
        struct input_conf c;
        struct input *in;
        struct rec_batch *b = NULL;
        gnutls_certificate_credentials_t cred;
        gnutls_session_t s;
        char err[256];
        int fd, r;

        memset(&st, 0, sizeof(st));
        conf_init(&c, "tls");
        c.trust = INPUT_TRUST_TRUSTED;
        if (cases[i].use_ca)
            c.tls_ca = tls_path("ca.pem");
        if (cases[i].use_fpr) {
            c.tls_fprs = fpr;
            c.ntls_fprs = 1;
        }
        assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
        r = client_send(bound_port(in), cases[i].cert ? tls_path(cases[i].cert) : NULL,
                        cases[i].key ? tls_path(cases[i].key) : NULL, "<13>hi", &cred, &s, &fd);
        if (cases[i].accepted) {
            assert_int_equal(r, 0);
            assert_int_equal(pop(q, 1, &b), 1);
            assert_int_equal(rec_batch_first(b)->flags, RECORD_TRUSTED);
        } else {
            if (r == 0)
                fail_msg("case %zu: the client was not refused", i);
        }
        input_stop(in);
        if (!cases[i].accepted)
            assert_int_equal(pop(q, 1, &b), 0);
        assert_int_equal(st.denied, cases[i].accepted ? 0 : 1);
        client_done(cred, s, fd);
        rec_batch_free(b);
        input_free(in);
        queue_free(q);
    }
}

/* Missing files or no way to check clients: input_start says which. */
static void test_tls_bad_conf(void **state)
{
    struct queue *q = rec_batch_queue_new(4);
    struct input_stats st;
    struct input_conf c;
    struct input *in = NULL;
    char err[256];

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, "tls");
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "ca or client_fingerprints"));
    c.tls_ca = tls_path("ca.pem");
    c.tls_key = tls_path("nosuch.key");
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "nosuch.key"));
    c.tls_key = tls_path("server.key");
    c.tls_ca = tls_path("README");
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), -EINVAL);
    if (!strstr(err, "tls ca"))
        fail_msg("%s", err);
    assert_null(in);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_parse),
        cmocka_unit_test(test_tls_accepted),
        cmocka_unit_test(test_tls_refused),
        cmocka_unit_test(test_tls_bad_conf),
    };
    const char *src = getenv("HIKESHI_SOURCE");

    snprintf(tls_dir, sizeof(tls_dir), "%s/tests/unit/tls", src ? src : ".");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
