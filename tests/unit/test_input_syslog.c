/*
 * test_input_syslog.c - syslog UDP and TCP inputs over real loopback
 * sockets: records and peers, framing over concurrent connections,
 * truncation, UDP drops versus TCP backpressure, and nothing lost at stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "input/input.h"
#include "input/record.h"
#include "util/queue.h"

#define MAX_LINE 256

/* Real sshd lines (OpenSSH_2k.log), sent with a syslog priority. */
static const char *sample[] = {
    "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for "
    "ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
    "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
    "Dec 10 06:55:46 LabSZ sshd[24200]: input_userauth_request: invalid user webmaster [preauth]",
    "Dec 10 06:55:46 LabSZ sshd[24200]: pam_unix(sshd:auth): check pass; user unknown",
    "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from "
    "173.234.31.186 port 38926 ssh2",
    "Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]",
    "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 212.47.254.145 [preauth]",
    "Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user test9 from 52.80.34.196",
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))

struct got {
    char *data;
    size_t len;
    unsigned flags;
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
};

struct gots {
    struct got *v;
    size_t n, cap;
};

static void gots_free(struct gots *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].data);
    free(g->v);
    memset(g, 0, sizeof(*g));
}

static void take_batch(struct gots *g, struct rec_batch *b)
{
    for (struct record *r = rec_batch_first(b); r; r = rec_batch_next(b, r)) {
        struct got *x;

        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 256;
            g->v = realloc(g->v, g->cap * sizeof(*g->v));
            assert_non_null(g->v);
        }
        x = &g->v[g->n++];
        x->data = malloc(r->len + 1);
        memcpy(x->data, r->data, r->len);
        x->data[r->len] = '\0';
        x->len = r->len;
        x->flags = r->flags;
        x->family = r->peer_family;
        memcpy(x->addr, r->peer_addr, 16);
        x->port = r->peer_port;
        assert_true(r->len <= MAX_LINE);
    }
    rec_batch_free(b);
}

/* Pops until `want` records arrived or 10 s passed. */
static void pop_records(struct queue *q, size_t want, struct gots *g)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (g->n < want) {
        struct rec_batch *b = queue_pop(q, 100);

        if (b)
            take_batch(g, b);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            break;
    }
}

static void parse_bound(const char *bound, struct sockaddr_in *sin)
{
    char host[64];
    const char *colon = strrchr(bound, ':');

    assert_non_null(colon);
    memset(sin, 0, sizeof(*sin));
    snprintf(host, sizeof(host), "%.*s", (int)(colon - bound), bound);
    sin->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, host, &sin->sin_addr), 1);
    sin->sin_port = htons((uint16_t)atoi(colon + 1));
    assert_true(sin->sin_port != 0);
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    return ntohs(sin.sin_port);
}

static void conf_init(struct input_conf *c, enum input_type type, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->id = 3;
    c->name = name;
    c->type = type;
    c->listen = "127.0.0.1:0";
    c->max_line = MAX_LINE;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

static int tcp_connect(const struct sockaddr_in *sin)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)sin, sizeof(*sin)), 0);
    return fd;
}

static void test_udp(void **state)
{
    struct queue *q = rec_batch_queue_new(1024);
    struct input_stats st;
    struct input_conf c;
    struct input *in;
    char err[256], msg[1024];
    struct sockaddr_in sin;
    struct gots g = {0};
    int fd;
    uint16_t port;
    size_t nsent = 0;

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, INPUT_SYSLOG_UDP, "udp");
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
    parse_bound(input_bound_address(in), &sin);
    assert_memory_equal(input_bound_address(in), "127.0.0.1:", 10);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    port = local_port(fd);
    for (size_t i = 0; i < 5 * NSAMPLE; i++) {
        /* Every other datagram ends in LF, which is stripped. */
        int n = snprintf(msg, sizeof(msg), "<38>%s%s", sample[i % NSAMPLE], i % 2 ? "\n" : "");

        assert_int_equal(send(fd, msg, (size_t)n, 0), n);
        nsent++;
    }
    memset(msg, 'x', 1000);
    assert_int_equal(send(fd, msg, 1000, 0), 1000);
    nsent++;
    assert_int_equal(send(fd, "", 0, 0), 0); /* empty: no record */
    pop_records(q, nsent, &g);
    assert_int_equal(g.n, nsent);
    for (size_t i = 0; i + 1 < nsent; i++) {
        snprintf(msg, sizeof(msg), "<38>%s", sample[i % NSAMPLE]);
        assert_string_equal(g.v[i].data, msg);
        assert_int_equal(g.v[i].flags, 0);
        assert_int_equal(g.v[i].family, 4);
        assert_memory_equal(g.v[i].addr, "\x7f\0\0\x01", 4);
        assert_int_equal(g.v[i].port, port);
    }
    assert_int_equal(g.v[nsent - 1].len, MAX_LINE);
    assert_int_equal(g.v[nsent - 1].flags, RECORD_TRUNCATED);
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.records, nsent);
    assert_int_equal(st.dropped, 0);

    /* Sent just before stop: still delivered. */
    gots_free(&g);
    for (int i = 0; i < 20; i++)
        assert_int_equal(send(fd, "late", 4, 0), 4);
    input_stop(in);
    pop_records(q, 20, &g);
    assert_int_equal(g.n, 20);
    assert_string_equal(g.v[19].data, "late");
    gots_free(&g);
    close(fd);
    input_free(in);
    queue_free(q);
}

#define TCP_CONNS 4
#define TCP_LINES 300

/* Several connections at once, octet-counted and newline-framed, sent in
 * odd-sized pieces; every line arrives, in order per connection, with its
 * peer. */
static void test_tcp(void **state)
{
    struct queue *q = rec_batch_queue_new(1024);
    struct input_stats st;
    struct input_conf c;
    struct input *in;
    char err[256];
    struct sockaddr_in sin;
    struct gots g = {0};
    int fds[TCP_CONNS];
    uint16_t ports[TCP_CONNS];
    char *streams[TCP_CONNS];
    size_t slen[TCP_CONNS], sent[TCP_CONNS];
    size_t next[TCP_CONNS] = {0};
    int done;

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, INPUT_SYSLOG_TCP, "tcp");
    assert_int_equal(input_start(&c, q, &st, NULL, &in, err, sizeof(err)), 0);
    parse_bound(input_bound_address(in), &sin);
    for (int k = 0; k < TCP_CONNS; k++) {
        FILE *ms = open_memstream(&streams[k], &slen[k]);

        for (int i = 0; i < TCP_LINES; i++) {
            char line[512];
            int n = snprintf(line, sizeof(line), "<38>c%d n%03d %s", k, i, sample[i % NSAMPLE]);

            if (i == 7)
                fprintf(ms, "<38>c%d n%03d %0400d\n", k, i, 0); /* oversized */
            else if ((i + k) % 3 == 0)
                fprintf(ms, "%d %s", n, line);
            else if ((i + k) % 3 == 1)
                fprintf(ms, "%s\n", line);
            else
                fprintf(ms, "%s\r\n", line);
        }
        fclose(ms);
        fds[k] = tcp_connect(&sin);
        ports[k] = local_port(fds[k]);
        sent[k] = 0;
    }
    /* Interleave the connections, 1 to 97 bytes at a time. */
    srand(7);
    do {
        done = 1;
        for (int k = 0; k < TCP_CONNS; k++) {
            size_t n = 1 + (size_t)rand() % 97;

            if (sent[k] == slen[k])
                continue;
            if (n > slen[k] - sent[k])
                n = slen[k] - sent[k];
            send_all(fds[k], streams[k] + sent[k], n);
            sent[k] += n;
            done = 0;
        }
    } while (!done);
    for (int k = 0; k < TCP_CONNS; k++)
        close(fds[k]);
    pop_records(q, TCP_CONNS * TCP_LINES, &g);
    assert_int_equal(g.n, TCP_CONNS * TCP_LINES);
    for (size_t i = 0; i < g.n; i++) {
        int k = -1, n = -1;
        char want[512];

        assert_int_equal(sscanf(g.v[i].data, "<38>c%d n%d", &k, &n), 2);
        assert_true(k >= 0 && k < TCP_CONNS);
        assert_int_equal(n, (int)next[k]); /* in order per connection */
        next[k]++;
        assert_int_equal(g.v[i].port, ports[k]);
        assert_int_equal(g.v[i].family, 4);
        if (n == 7) {
            assert_int_equal(g.v[i].flags, RECORD_TRUNCATED);
            assert_int_equal(g.v[i].len, MAX_LINE);
        } else {
            snprintf(want, sizeof(want), "<38>c%d n%03d %s", k, n, sample[n % NSAMPLE]);
            assert_string_equal(g.v[i].data, want);
            assert_int_equal(g.v[i].flags, 0);
        }
    }
    assert_int_equal(st.connections, TCP_CONNS);
    assert_int_equal(st.truncated, TCP_CONNS);
    assert_int_equal(st.records, TCP_CONNS * TCP_LINES);
    gots_free(&g);

    /* Sent just before stop, on a connection still open and on one closed
     * at once: everything is delivered, including an unterminated line. */
    {
        int a = tcp_connect(&sin), b = tcp_connect(&sin);

        send_all(a, "<38>before stop 1\n<38>before stop 2\n<38>no newline", 50);
        send_all(b, "12 <38>closed 1", 15);
        close(b);
        input_stop(in);
        pop_records(q, 4, &g);
        assert_int_equal(g.n, 4);
        for (size_t i = 0; i < g.n; i++)
            assert_memory_equal(g.v[i].data, "<38>", 4);
        assert_int_equal(st.active, 0);
        gots_free(&g);
        close(a);
    }
    for (int k = 0; k < TCP_CONNS; k++)
        free(streams[k]);
    input_free(in);
    queue_free(q);
}

/* A queue of one batch that nobody pops: UDP drops and counts, TCP stops
 * reading until the sender blocks, then delivers every line in order. */
static void test_full_queue(void **state)
{
    struct queue *qu = rec_batch_queue_new(1), *qt = rec_batch_queue_new(1);
    struct input_stats su, stt;
    struct input_conf cu, ct;
    struct input *iu, *it;
    char err[256];
    struct sockaddr_in sin;
    struct gots g = {0};
    int fd;
    char *stream = NULL;
    size_t slen = 0, sent = 0, nlines = 200000, next = 0;
    FILE *ms;
    int blocked = 0;

    (void)state;
    memset(&su, 0, sizeof(su));
    memset(&stt, 0, sizeof(stt));
    conf_init(&cu, INPUT_SYSLOG_UDP, "udp-full");
    conf_init(&ct, INPUT_SYSLOG_TCP, "tcp-full");
    assert_int_equal(input_start(&cu, qu, &su, NULL, &iu, err, sizeof(err)), 0);
    assert_int_equal(input_start(&ct, qt, &stt, NULL, &it, err, sizeof(err)), 0);

    /* UDP: the first batch fills the queue, later ones are dropped. */
    parse_bound(input_bound_address(iu), &sin);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    for (int i = 0; i < 200 && su.dropped == 0; i++) {
        for (int j = 0; j < 10; j++)
            assert_true(send(fd, sample[1], strlen(sample[1]), 0) > 0);
        usleep(10000);
    }
    assert_true(su.dropped > 0);
    assert_int_equal(queue_depth(qu), 1);
    close(fd);

    /* TCP: write without reading until the sender cannot write any more. */
    ms = open_memstream(&stream, &slen);
    for (size_t i = 0; i < nlines; i++)
        fprintf(ms, "<38>%07zu %s\n", i, sample[i % NSAMPLE]);
    fclose(ms);
    parse_bound(input_bound_address(it), &sin);
    fd = tcp_connect(&sin);
    while (sent < slen) {
        ssize_t k = send(fd, stream + sent, slen - sent, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (k > 0) {
            sent += (size_t)k;
            continue;
        }
        assert_true(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        if (!blocked) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};

            /* Still not writable after a while: the input holds off. */
            if (poll(&pfd, 1, 500) == 0) {
                blocked = 1;
                assert_int_equal(queue_depth(qt), 1);
                assert_int_equal(stt.dropped, 0);
            }
            continue;
        }
        {
            struct rec_batch *b = queue_pop(qt, 10);

            if (b)
                take_batch(&g, b);
        }
    }
    assert_true(blocked);
    close(fd);
    pop_records(qt, nlines, &g);
    assert_int_equal(g.n, nlines);
    for (size_t i = 0; i < g.n; i++) {
        size_t n = (size_t)strtoul(g.v[i].data + 4, NULL, 10);

        assert_int_equal(n, next++);
    }
    assert_int_equal(stt.dropped, 0);
    gots_free(&g);

    input_stop(iu);
    input_stop(it);
    input_free(iu);
    input_free(it);
    queue_free(qu);
    queue_free(qt);
    free(stream);
}

static void test_bad_addresses(void **state)
{
    struct queue *q = rec_batch_queue_new(4);
    struct input_stats st;
    struct input_conf c, c2;
    struct input *in = NULL, *in2 = NULL;
    char err[256];
    static const char *bad[] = {"", "127.0.0.1", "::1:514", "[::1]514", "127.0.0.1:http",
                                "[::1]:", "127.0.0.1:99999999"};

    (void)state;
    memset(&st, 0, sizeof(st));
    conf_init(&c, INPUT_SYSLOG_TCP, "bad");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c.listen = bad[i];
        assert_true(input_start(&c, q, &st, NULL, &in, err, sizeof(err)) < 0);
        assert_null(in);
    }
    /* IPv6 loopback, port 0; then the same port again is in use. */
    c.listen = "[::1]:0";
    if (input_start(&c, q, &st, NULL, &in, err, sizeof(err)) == 0) {
        assert_memory_equal(input_bound_address(in), "[::1]:", 6);
        conf_init(&c2, INPUT_SYSLOG_TCP, "dup");
        c2.listen = input_bound_address(in);
        assert_int_equal(input_start(&c2, q, &st, NULL, &in2, err, sizeof(err)), -EADDRINUSE);
        input_free(in);
    } else {
        /* No IPv6 on this host: the error must say why. */
        assert_true(strlen(err) > 0);
    }
    queue_free(q);
}

/* A socket of `type` bound to source address `src` and connected to sin. */
static int connect_from(int type, const char *src, const struct sockaddr_in *sin)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, type, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, src, &a.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)sin, sizeof(*sin)), 0);
    return fd;
}

/* 1 when the input closed the connection: the next read sees EOF or RST. */
static int closed_by_peer(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char c;

    if (poll(&pfd, 1, 5000) != 1)
        return 0;
    return recv(fd, &c, 1, 0) <= 0;
}

/*
 * peers: a listed sender's records arrive, carrying RECORD_TRUSTED when
 * the input is trusted and not otherwise; another sender's TCP connection
 * is closed at accept and its datagram dropped, both counted in `denied`.
 */
static void test_peers(void **state)
{
    struct cidr peer;
    enum input_trust trusts[] = {INPUT_TRUST_TRUSTED, INPUT_TRUST_UNTRUSTED};

    (void)state;
    assert_int_equal(cidr_parse("127.0.0.1/32", 12, &peer), 0);
    for (size_t t = 0; t < 2; t++) {
        struct queue *q = rec_batch_queue_new(64);
        struct input_stats stt, stu;
        struct input_conf ct, cu;
        struct input *it, *iu;
        struct sockaddr_in st_sin, su_sin;
        struct gots g = {0};
        char err[256];
        unsigned want = trusts[t] == INPUT_TRUST_TRUSTED ? RECORD_TRUSTED : 0;
        int good_t, bad_t, good_u, bad_u;

        memset(&stt, 0, sizeof(stt));
        memset(&stu, 0, sizeof(stu));
        conf_init(&ct, INPUT_SYSLOG_TCP, "tcp");
        conf_init(&cu, INPUT_SYSLOG_UDP, "udp");
        ct.trust = cu.trust = trusts[t];
        ct.peers = cu.peers = &peer;
        ct.npeers = cu.npeers = 1;
        assert_int_equal(input_start(&ct, q, &stt, NULL, &it, err, sizeof(err)), 0);
        assert_int_equal(input_start(&cu, q, &stu, NULL, &iu, err, sizeof(err)), 0);
        parse_bound(input_bound_address(it), &st_sin);
        parse_bound(input_bound_address(iu), &su_sin);

        bad_t = connect_from(SOCK_STREAM, "127.0.0.2", &st_sin);
        bad_u = connect_from(SOCK_DGRAM, "127.0.0.2", &su_sin);
        assert_int_equal(send(bad_u, "<13>forged udp", 14, 0), 14);
        (void)send(bad_t, "<13>forged tcp\n", 15, MSG_NOSIGNAL);
        assert_true(closed_by_peer(bad_t));
        good_t = connect_from(SOCK_STREAM, "127.0.0.1", &st_sin);
        good_u = connect_from(SOCK_DGRAM, "127.0.0.1", &su_sin);
        send_all(good_t, "<13>listed tcp\n", 15);
        assert_int_equal(send(good_u, "<13>listed udp", 14, 0), 14);
        pop_records(q, 2, &g);
        assert_int_equal(g.n, 2);
        for (size_t i = 0; i < g.n; i++) {
            assert_memory_equal(g.v[i].data, "<13>listed ", 11);
            assert_int_equal(g.v[i].flags, want);
            assert_memory_equal(g.v[i].addr, "\x7f\0\0\x01", 4);
        }
        /* Nothing from 127.0.0.2 arrives, even after stop drains. */
        input_stop(it);
        input_stop(iu);
        for (struct rec_batch *b; (b = queue_pop(q, 200));)
            take_batch(&g, b);
        assert_int_equal(g.n, 2);
        assert_int_equal(stt.denied, 1);
        assert_int_equal(stu.denied, 1);
        assert_int_equal(stt.connections, 1);
        close(bad_t);
        close(bad_u);
        close(good_t);
        close(good_u);
        gots_free(&g);
        input_free(it);
        input_free(iu);
        queue_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_full_queue),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_peers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
