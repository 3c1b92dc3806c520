/*
 * input_syslog.c - syslog over UDP (RFC 5426), TCP (RFC 6587) and TLS
 * (RFC 5425, the TLS layer in input_tls.c).
 *
 * One thread per input.  UDP reads datagrams in batches with recvmmsg() and
 * never blocks on the queue: a full queue costs the batch, counted in
 * `dropped`, because the kernel would drop the datagrams anyway if we
 * stopped reading.  In a flood the rounds fill one batch (up to
 * LIMIT_BATCH_RECORDS) before it is pushed, so the queue's bound in batches
 * holds as many datagrams as it can; the kernel's own drops are read from
 * SO_RXQ_OVFL.  TCP runs an epoll loop over the listening socket and
 * its connections and pushes with the blocking queue_push(): when the
 * pipeline is slow this thread stops reading, the receive windows fill, and
 * TCP flow control makes the senders wait.  Nothing is dropped.
 *
 * On stop both drain what the kernel already holds (queued datagrams, the
 * listen backlog, receive buffers) before the thread exits, so a clean stop
 * loses nothing a sender was told was delivered.
 *
 * Connection floods: the TCP table holds max_connections; one address (an
 * IPv6 /64, which one host usually owns whole) may hold max_per_address of
 * them and is refused beyond; when the table is full the connection idle
 * longest is closed to admit the newcomer, so a client holding idle
 * connections cannot lock the others out.  The open connections are kept
 * in order of their last activity (most recent first), which makes both
 * that choice and the idle timeout O(1).  A connection is always read dry
 * before we close it: what its sender was acknowledged is not lost.
 *
 * TLS: each accepted connection first runs its handshake, a step per
 * readiness event, and must finish it within INPUT_TLS_HANDSHAKE_S; the
 * connections in handshake also sit on a list in accept order, which is
 * deadline order.  A client whose certificate is not accepted is closed
 * before a byte of it is read as a record, and counted in `denied`.
 */
#include "input/input_syslog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "input/input_framing.h"
#include "input/input_gelf.h"
#include "input/input_tls.h"
#include "input/record.h"
#include "util/cidr.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/queue.h"

#define SYSLOG_UDP_VLEN 64                  /* datagrams per recvmmsg() */
#define SYSLOG_UDP_MAX_DGRAM 65535          /* largest UDP payload */
#define SYSLOG_UDP_RCVBUF (4 * 1024 * 1024) /* asked for, best effort */
#define SYSLOG_UDP_HOLD_MS 20               /* longest a part-filled batch waits */
#define SYSLOG_TCP_BACKLOG 1024
#define SYSLOG_TCP_READ (64 * 1024)  /* bytes per read() */
#define SYSLOG_TCP_READS_PER_TURN 16 /* fairness between connections */
#define SYSLOG_STOP_READS 4096       /* bound on a drain at stop */
#define SYSLOG_ACCEPT_PAUSE_MS 100   /* after EMFILE and the like */

struct tcp_conn;

/* Connections open from one address (IPv4) or one IPv6 /64. */
struct addr_slot {
    uint8_t family;
    uint8_t key[16]; /* the address; an IPv6 one cut to its /64 */
    uint32_t count;  /* open connections; the slot is freed at 0 */
    struct addr_slot *next;
};

/*
 * How a connection's bytes are read and the connection closed.  Plain TCP
 * now; TLS (RFC 5425) will plug in here: its read() decrypts into the
 * buffer (returning -1/EAGAIN when the TLS layer needs more bytes) and its
 * close() sends close_notify, while the framing above stays the same.
 */
struct tcp_conn_ops {
    /* Plain TCP peeks (MSG_PEEK) and consumes the bytes once the records
     * they complete are pushed, and so archived (the queue's push hook):
     * a crash then loses no record the daemon took off the socket.  TLS
     * reads (its records are consumed whole): consume is NULL. */
    ssize_t (*read)(struct tcp_conn *cn, void *buf, size_t n);
    int (*consume)(struct tcp_conn *cn, void *buf, size_t n); /* 0 or -errno */
    void (*close)(struct tcp_conn *cn);
};

struct tcp_conn {
    int fd;
    const struct tcp_conn_ops *ops;
    struct input_tls_session *tls;      /* NULL for plain TCP */
    int handshaking;                    /* TLS handshake not yet done: no reads */
    int want_write;                     /* the handshake waits for EPOLLOUT */
    int64_t hs_deadline_us;             /* monotonic; the handshake must end by then */
    struct tcp_conn *hs_prev, *hs_next; /* owner's handshake list */
    struct framer fr;                   /* holds at most max_line bytes */
    struct rec_batch *batch;            /* records not yet pushed; NULL when idle */
    size_t batch_bytes;                 /* record bytes in batch */
    int64_t recv_us;                    /* time of the read being framed */
    uint8_t family;                     /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
    uint16_t rflags; /* RECORD_TRUSTED when the input vouches for the
                        sender; added to every record */
    struct input_syslog *owner;
    struct addr_slot *slot;       /* its address's count (owner's table) */
    int64_t last_us;              /* monotonic time of its last data */
    struct tcp_conn *prev, *next; /* owner's list, most recently active first */
};

struct input_syslog {
    const struct input_conf *c;
    struct queue *q;
    struct input_stats *st;
    int fd;      /* UDP socket or TCP listening socket */
    int wake_fd; /* eventfd written by input_syslog_stop() */
    int epfd;    /* TCP only */
    atomic_int stopping;
    pthread_t thread;
    int thread_started;
    char bound[INET6_ADDRSTRLEN + 16];
    struct log_ratelimit rl;        /* used by the thread only */
    struct log_ratelimit rl_denied; /* senders not in peers; thread only */

    /* TCP */
    struct tcp_conn *conns;      /* most recently active first */
    struct tcp_conn *conns_tail; /* idle longest */
    size_t nconns;
    size_t max_conns, max_per_addr;     /* from the conf, defaults applied */
    int64_t idle_us;                    /* 0: no idle timeout */
    struct addr_slot **slots;           /* per-address counts, chained */
    size_t nslots;                      /* a power of two */
    uint64_t hash_key[2];               /* random: keys come from the network */
    struct input_tls *tls;              /* syslog-tls: credentials; else NULL */
    struct tcp_conn *hs_head, *hs_tail; /* in handshake, oldest first */
    int accept_paused;
    struct timespec paused_at;
    char *rbuf; /* SYSLOG_TCP_READ bytes */

    /* UDP: recvmmsg() vectors and one buffer per datagram. */
    struct mmsghdr msgs[SYSLOG_UDP_VLEN];
    struct iovec iov[SYSLOG_UDP_VLEN];
    struct sockaddr_storage addrs[SYSLOG_UDP_VLEN];
    /* SO_RXQ_OVFL's control message per datagram: the socket's drop count. */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(uint32_t))];
    } ctrl[SYSLOG_UDP_VLEN];
    char *dgrams;
    size_t dgram_size; /* max_line + 1 (to see truncation), at most 64 KiB */
    /* While datagrams keep coming (a full SYSLOG_UDP_VLEN round) or the
     * pipeline lags (the queue not empty), the rounds' records go into one
     * batch of up to LIMIT_BATCH_BYTES / LIMIT_BATCH_RECORDS, pushed once
     * full, or after SYSLOG_UDP_HOLD_MS without a datagram: the queue's
     * bound counts batches, so a flood of small rounds would fill it with a
     * fraction of the records it can hold.  The wait costs nothing while
     * the queue is not empty: the pipeline would not reach the records
     * sooner.  NULL otherwise. */
    struct rec_batch *pend;
    size_t pend_bytes;
    /* gelf-udp: chunks in reassembly (input_gelf.h); NULL for syslog. */
    struct gelf_reasm *gelf;
    struct gelf_stats gelf_seen; /* its counters already added to st */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void peer_from_sa(const struct sockaddr_storage *ss, uint8_t *ret_family,
                         uint8_t ret_addr[16], uint16_t *ret_port)
{
    memset(ret_addr, 0, 16);
    *ret_family = 0;
    *ret_port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;

        *ret_family = 4;
        memcpy(ret_addr, &sin->sin_addr, 4);
        *ret_port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;

        /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d. */
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
    if (family == 6)
        snprintf(buf, size, "[%s]:%u", a, (unsigned)port);
    else
        snprintf(buf, size, "%s:%u", a, (unsigned)port);
}

/*
 * 1 when the sender may send: no peers configured, or the address is in one
 * of them.  Otherwise counts it in `denied` and logs (rate-limited) who it
 * was, so that a forgotten peer shows in the log and not only in a counter.
 */
static int peer_allowed(struct input_syslog *s, uint8_t family, const uint8_t addr[16],
                        uint16_t port, const char *what)
{
    const struct input_conf *c = s->c;
    unsigned long supp;

    if (c->npeers == 0 || cidr_list_contains(c->peers, c->npeers, family, addr))
        return 1;
    atomic_fetch_add(&s->st->denied, 1);
    if (log_ratelimit_ok(&s->rl_denied, &supp)) {
        char peer[INET6_ADDRSTRLEN + 16];

        format_peer(peer, sizeof(peer), family, addr, port);
        log_warnx("input %s: %s from %s refused: not in peers%s", c->name, what, peer,
                  supp ? " (earlier such warnings suppressed)" : "");
    }
    return 0;
}

/*
 * Splits "host:port", "[v6]:port", ":port" or "port".  An empty host means
 * every IPv4 address.  Returns 0 or -EINVAL.
 */
static int parse_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    size_t hl;

    if (!listen || !*listen)
        return -EINVAL;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');

        if (!end || end[1] != ':')
            return -EINVAL;
        hl = (size_t)(end - listen - 1);
        if (hl == 0 || hl >= hostlen)
            return -EINVAL;
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) {
            snprintf(host, hostlen, "0.0.0.0");
            colon = listen - 1; /* the whole string is the port */
        } else {
            if (memchr(listen, ':', (size_t)(colon - listen)))
                return -EINVAL; /* bare IPv6 needs brackets */
            hl = (size_t)(colon - listen);
            if (hl >= hostlen)
                return -EINVAL;
            if (hl == 0 || (hl == 1 && listen[0] == '*')) {
                snprintf(host, hostlen, "0.0.0.0");
            } else {
                memcpy(host, listen, hl);
                host[hl] = '\0';
            }
        }
    }
    if (!colon[1] || strlen(colon + 1) >= portlen ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -EINVAL;
    if (strtoul(colon + 1, NULL, 10) > 65535)
        return -EINVAL;
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

static int bind_socket(struct input_syslog *s, char *errbuf, size_t errlen)
{
    const struct input_conf *c = s->c;
    int tcp = INPUT_TYPE_IS_STREAM(c->type);
    char host[256], port[16];
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    uint8_t fam, addr[16];
    uint16_t p;
    int fd = -1, one = 1, r, ret = 0;

    if (parse_listen(c->listen, host, sizeof(host), port, sizeof(port)) < 0) {
        snprintf(errbuf, errlen, "input %s: bad listen address \"%s\"", c->name,
                 c->listen ? c->listen : "");
        return -EINVAL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    r = getaddrinfo(host, port, &hints, &res);
    if (r != 0) {
        snprintf(errbuf, errlen, "input %s: %s: %s", c->name, c->listen, gai_strerror(r));
        return -EADDRNOTAVAIL;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ret = -errno;
        snprintf(errbuf, errlen, "input %s: socket: %s", c->name, strerror(errno));
        goto out;
    }
    if (tcp) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    } else {
        int rcv = SYSLOG_UDP_RCVBUF, got = 0;
        socklen_t gl = sizeof(got);

        /* Bursts are absorbed by the kernel buffer; FORCE needs
         * CAP_NET_ADMIN, the plain call is capped by rmem_max.  The size
         * granted is logged: a buffer silently cut to rmem_max is the
         * usual cause of loss under a burst. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0)
            log_info("input %s: UDP receive buffer %d bytes (asked for %d; the kernel "
                     "reports twice the usable size)",
                     c->name, got, rcv);
        /* The kernel's count of datagrams it dropped on this socket, on
         * every datagram read: the loss we cannot see otherwise. */
        (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    }
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        ret = -errno;
        snprintf(errbuf, errlen, "input %s: bind %s: %s", c->name, c->listen, strerror(errno));
        goto out;
    }
    if (tcp && listen(fd, SYSLOG_TCP_BACKLOG) < 0) {
        ret = -errno;
        snprintf(errbuf, errlen, "input %s: listen %s: %s", c->name, c->listen, strerror(errno));
        goto out;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        ret = -errno;
        snprintf(errbuf, errlen, "input %s: getsockname: %s", c->name, strerror(errno));
        goto out;
    }
    peer_from_sa(&ss, &fam, addr, &p);
    if (ss.ss_family == AF_INET6)
        fam = 6; /* "[::]" stays bracketed even if it accepts IPv4 */
    format_peer(s->bound, sizeof(s->bound), fam, addr, p);
    s->fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return ret;
}

/* ---- UDP ---- */

static void udp_push(struct input_syslog *s, struct rec_batch *b, size_t bytes, int blocking);
static void udp_flush(struct input_syslog *s, int blocking);
static void udp_gelf_count(struct input_syslog *s);
static int udp_gelf(struct input_syslog *s, int i, uint8_t fam, const uint8_t addr[16],
                    uint16_t port, const char **d, size_t *len);

/*
 * SO_RXQ_OVFL: each datagram carries the socket's running count of
 * datagrams the kernel dropped (buffer full) before it; the last one read
 * holds the newest.  A 32-bit counter that may wrap: the stat keeps the
 * kernel's figure as is.
 */
static void udp_kernel_drops(struct input_syslog *s, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        struct msghdr *h = &s->msgs[i].msg_hdr;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
            uint32_t v;

            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
                cm->cmsg_len < CMSG_LEN(sizeof(v)))
                continue;
            memcpy(&v, CMSG_DATA(cm), sizeof(v));
            atomic_store(&s->st->kernel_dropped, v);
            return;
        }
    }
}

/*
 * One recvmmsg() round.  Pushes the datagrams as one batch, blocking when
 * `blocking` (at stop), else dropping the batch if the queue is full.
 * Returns the datagrams read, 0 when none were waiting.
 */
static int udp_round(struct input_syslog *s, int blocking)
{
    const struct input_conf *c = s->c;
    struct rec_batch *b;
    size_t need = 0, bytes = 0;
    int64_t t;
    int n, hold;

    for (int i = 0; i < SYSLOG_UDP_VLEN; i++) {
        s->iov[i].iov_base = s->dgrams + (size_t)i * s->dgram_size;
        s->iov[i].iov_len = s->dgram_size;
        memset(&s->msgs[i].msg_hdr, 0, sizeof(s->msgs[i].msg_hdr));
        s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
        s->msgs[i].msg_hdr.msg_iovlen = 1;
        s->msgs[i].msg_hdr.msg_name = &s->addrs[i];
        s->msgs[i].msg_hdr.msg_namelen = sizeof(s->addrs[i]);
        s->msgs[i].msg_hdr.msg_control = s->ctrl[i].buf;
        s->msgs[i].msg_hdr.msg_controllen = sizeof(s->ctrl[i].buf);
        s->msgs[i].msg_len = 0;
    }
    do {
        n = recvmmsg(s->fd, s->msgs, SYSLOG_UDP_VLEN, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        udp_flush(s, blocking); /* read dry: what a flood left goes now */
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            atomic_fetch_add(&s->st->errors, 1);
            if (log_ratelimit_ok(&s->rl, NULL))
                log_warn("input %s: recvmmsg", c->name);
        }
        return 0;
    }
    if (n == 0)
        return 0;
    t = now_us();
    udp_kernel_drops(s, n);
    for (int i = 0; i < n; i++)
        need += rec_batch_record_size(s->msgs[i].msg_len);
    hold = !blocking && (n == SYSLOG_UDP_VLEN || queue_depth(s->q) > 0);
    if (s->pend && s->pend->size - s->pend->used >= need &&
        s->pend->nrec + (uint32_t)n <= LIMIT_BATCH_RECORDS) {
        b = s->pend;
        bytes = s->pend_bytes;
        s->pend = NULL;
    } else {
        udp_flush(s, blocking);
        /* Room for the rounds after when they are to share it. */
        b = rec_batch_new(c->id, hold && need < LIMIT_BATCH_BYTES ? LIMIT_BATCH_BYTES : need);
    }
    if (!b) {
        atomic_fetch_add(&s->st->dropped, (uint64_t)n);
        return n;
    }
    for (int i = 0; i < n; i++) {
        const char *d = s->iov[i].iov_base;
        size_t len = s->msgs[i].msg_len;
        int trunc = (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        struct record *rec;
        uint8_t fam, addr[16];
        uint16_t port;

        peer_from_sa(&s->addrs[i], &fam, addr, &port);
        if (!peer_allowed(s, fam, addr, port, "datagram"))
            continue;
        if (s->gelf && !udp_gelf(s, i, fam, addr, port, &d, &len))
            continue;
        if (!trunc && len > 0 && d[len - 1] == '\n')
            len--;
        if (len > c->max_line) {
            len = c->max_line;
            trunc = 1;
        }
        if (len == 0 && !trunc)
            continue;
        /* A trusted UDP input has peers (config.c insists), so the source is
         * listed; it is still only as good as the network's anti-spoofing,
         * which the response side keeps in mind. */
        rec = rec_batch_add(
            b, d, len, t,
            (uint16_t)((trunc ? RECORD_TRUNCATED : 0) |
                       (c->trust == INPUT_TRUST_TRUSTED && c->npeers ? RECORD_TRUSTED : 0)));
        if (!rec && s->gelf) {
            /* An inflated message outgrew the batch sized for the
             * datagrams: hand it over and start another. */
            udp_push(s, b, bytes, blocking);
            bytes = 0;
            b = rec_batch_new(c->id, rec_batch_record_size(len) * (size_t)(n - i));
            if (!b) {
                atomic_fetch_add(&s->st->dropped, (uint64_t)(n - i));
                udp_gelf_count(s);
                return n;
            }
            rec = rec_batch_add(b, d, len, t, (uint16_t)((trunc ? RECORD_TRUNCATED : 0) |
                        (c->trust == INPUT_TRUST_TRUSTED && c->npeers ? RECORD_TRUSTED : 0)));
        }
        if (!rec)
            continue; /* cannot happen: the batch was sized for all */
        rec->peer_family = fam;
        memcpy(rec->peer_addr, addr, 16);
        rec->peer_port = port;
        if (trunc)
            atomic_fetch_add(&s->st->truncated, 1);
        bytes += len;
    }
    if (hold && b->nrec + SYSLOG_UDP_VLEN <= LIMIT_BATCH_RECORDS && b->used < b->size) {
        s->pend = b;
        s->pend_bytes = bytes;
    } else {
        udp_push(s, b, bytes, blocking);
    }
    udp_gelf_count(s);
    return n;
}

/* Pushes the batch a flood was filling, if any. */
static void udp_flush(struct input_syslog *s, int blocking)
{
    struct rec_batch *b = s->pend;

    if (!b)
        return;
    s->pend = NULL;
    udp_push(s, b, s->pend_bytes, blocking);
    s->pend_bytes = 0;
}

/*
 * Pushes a batch of datagrams (`bytes` of records), blocking when
 * `blocking` (at stop), else dropping it if the queue is full.
 */
static void udp_push(struct input_syslog *s, struct rec_batch *b, size_t bytes, int blocking)
{
    const struct input_conf *c = s->c;
    uint32_t nrec;
    int r;

    if (b->nrec == 0) {
        rec_batch_free(b);
        return;
    }
    /* Count before the push: once queued, the batch belongs to the
     * consumer, which may free it at once, and whoever pops a record must
     * already see it counted. */
    nrec = b->nrec;
    atomic_fetch_add(&s->st->records, nrec);
    atomic_fetch_add(&s->st->bytes, bytes);
    r = blocking ? queue_push(s->q, b) : queue_trypush(s->q, b);
    if (r < 0) {
        unsigned long supp;

        atomic_fetch_sub(&s->st->records, nrec);
        atomic_fetch_sub(&s->st->bytes, bytes);
        atomic_fetch_add(&s->st->dropped, nrec);
        if (log_ratelimit_ok(&s->rl, &supp))
            log_warnx("input %s: queue %s, %u datagrams dropped%s", c->name,
                      r == -EAGAIN ? "full" : "closed", nrec,
                      supp ? " (earlier warnings suppressed)" : "");
        rec_batch_free(b);
    }
}

/* Adds what the GELF table counted since last time to the input's
 * counters: broken and oversized messages are errors, messages lost
 * incomplete (timeout, table full) are dropped. */
static void udp_gelf_count(struct input_syslog *s)
{
    const struct gelf_stats *g;
    uint64_t err, drop;

    if (!s->gelf)
        return;
    g = gelf_reasm_stats(s->gelf);
    err = (g->malformed - s->gelf_seen.malformed) + (g->oversized - s->gelf_seen.oversized);
    drop = (g->expired - s->gelf_seen.expired) + (g->evicted - s->gelf_seen.evicted);
    if (err)
        atomic_fetch_add(&s->st->errors, err);
    if (drop)
        atomic_fetch_add(&s->st->dropped, drop);
    s->gelf_seen = *g;
}

/*
 * gelf-udp: the datagram to its message, when it completes one.  Returns 1
 * with *d / *len replaced by the message (in the table's buffer, valid
 * until the next datagram), 0 when there is nothing to add yet.
 */
static int udp_gelf(struct input_syslog *s, int i, uint8_t fam, const uint8_t addr[16],
                    uint16_t port, const char **d, size_t *len)
{
    uint8_t key[19];
    const char *m;
    size_t mlen;
    int r;

    if (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
        return 0; /* cannot be: the buffer holds any UDP payload */
    key[0] = fam;
    memcpy(key + 1, addr, 16);
    key[17] = (uint8_t)(port >> 8);
    key[18] = (uint8_t)port;
    r = gelf_reasm_datagram(s->gelf, (const uint8_t *)*d, *len, key, sizeof(key), mono_us(), &m,
                            &mlen);
    if (r < 0 && r != -ENOMEM) {
        unsigned long supp;

        if (log_ratelimit_ok(&s->rl, &supp)) {
            char peer[INET6_ADDRSTRLEN + 16];

            format_peer(peer, sizeof(peer), fam, addr, port);
            log_warnx("input %s: GELF datagram from %s dropped: %s%s", s->c->name, peer,
                      r == -EMSGSIZE ? "message longer than max_line"
                                     : "bad chunk header or compressed data",
                      supp ? " (earlier warnings suppressed)" : "");
        }
    }
    if (r <= 0)
        return 0;
    *d = m;
    *len = mlen;
    return 1;
}

static void *udp_thread(void *arg)
{
    struct input_syslog *s = arg;
    struct pollfd pfd[2];
    int timeout;

    pfd[0].fd = s->fd;
    pfd[0].events = POLLIN;
    pfd[1].fd = s->wake_fd;
    pfd[1].events = POLLIN;
    while (!atomic_load(&s->stopping)) {
        pfd[0].revents = pfd[1].revents = 0;
        /* GELF: incomplete messages expire even when nothing arrives. */
        if (s->gelf && gelf_reasm_pending(s->gelf)) {
            (void)gelf_reasm_expire(s->gelf, mono_us());
            udp_gelf_count(s);
        }
        timeout = s->gelf && gelf_reasm_pending(s->gelf) ? 1000 : -1;
        if (s->pend)
            timeout = SYSLOG_UDP_HOLD_MS;
        if (poll(pfd, 2, timeout) < 0) {
            if (errno == EINTR)
                continue;
            log_warn("input %s: poll", s->c->name);
            break;
        }
        if (pfd[0].revents)
            while (!atomic_load(&s->stopping) && udp_round(s, 0) == SYSLOG_UDP_VLEN)
                ;
        else
            udp_flush(s, 0); /* nothing came for SYSLOG_UDP_HOLD_MS */
    }
    /* Stop: what the kernel queued was accepted; hand it all over. */
    for (int i = 0; i < SYSLOG_STOP_READS && udp_round(s, 1) > 0; i++)
        ;
    return NULL;
}

/* ---- TCP ---- */

static ssize_t plain_read(struct tcp_conn *cn, void *buf, size_t n)
{
    return recv(cn->fd, buf, n, MSG_PEEK | MSG_DONTWAIT);
}

/* Takes n peeked bytes off the socket.  MSG_TRUNC: TCP drops them without
 * copying (tcp(7)); buf (n bytes at least) would take them otherwise. */
static int plain_consume(struct tcp_conn *cn, void *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(cn->fd, buf, n, MSG_TRUNC | MSG_DONTWAIT);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0 || (size_t)k > n)
            return -EPIPE; /* the peeked bytes are gone: cannot happen */
        n -= (size_t)k;
    }
    return 0;
}

static void plain_close(struct tcp_conn *cn)
{
    close(cn->fd);
    cn->fd = -1;
}

static const struct tcp_conn_ops plain_ops = {
    .read = plain_read,
    .consume = plain_consume,
    .close = plain_close,
};

static ssize_t tls_read(struct tcp_conn *cn, void *buf, size_t n)
{
    return input_tls_read(cn->tls, buf, n);
}

static void tls_close(struct tcp_conn *cn)
{
    input_tls_session_free(cn->tls); /* close_notify once the session is up */
    cn->tls = NULL;
    close(cn->fd);
    cn->fd = -1;
}

static const struct tcp_conn_ops tls_ops = {
    .read = tls_read,
    .close = tls_close,
};

static void hs_unlink(struct input_syslog *s, struct tcp_conn *cn)
{
    if (!cn->handshaking)
        return;
    if (cn->hs_prev)
        cn->hs_prev->hs_next = cn->hs_next;
    else
        s->hs_head = cn->hs_next;
    if (cn->hs_next)
        cn->hs_next->hs_prev = cn->hs_prev;
    else
        s->hs_tail = cn->hs_prev;
    cn->hs_prev = cn->hs_next = NULL;
    cn->handshaking = 0;
}

/* ---- per-address counts and the activity list ---- */

static size_t slot_hash(const struct input_syslog *s, uint8_t family, const uint8_t key[16])
{
    uint64_t w[2], h = s->hash_key[0] ^ family;

    memcpy(w, key, 16);
    for (int i = 0; i < 2; i++) {
        h ^= w[i] + s->hash_key[1];
        h *= 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    return (size_t)(h & (s->nslots - 1));
}

/* The slot of an address (IPv6 by its /64), created with count 0 when
 * missing.  NULL only when out of memory. */
static struct addr_slot *slot_get(struct input_syslog *s, uint8_t family, const uint8_t addr[16])
{
    uint8_t key[16];
    size_t h;
    struct addr_slot *sl;

    memcpy(key, addr, 16);
    if (family == 6)
        memset(key + 8, 0, 8);
    h = slot_hash(s, family, key);
    for (sl = s->slots[h]; sl; sl = sl->next)
        if (sl->family == family && memcmp(sl->key, key, 16) == 0)
            return sl;
    sl = calloc(1, sizeof(*sl));
    if (!sl)
        return NULL;
    sl->family = family;
    memcpy(sl->key, key, 16);
    sl->next = s->slots[h];
    s->slots[h] = sl;
    return sl;
}

/* Drops one connection from the slot's count; frees it at zero. */
static void slot_put(struct input_syslog *s, struct addr_slot *sl)
{
    struct addr_slot **pp;

    if (!sl || (sl->count > 0 && --sl->count > 0))
        return;
    for (pp = &s->slots[slot_hash(s, sl->family, sl->key)]; *pp; pp = &(*pp)->next) {
        if (*pp == sl) {
            *pp = sl->next;
            free(sl);
            return;
        }
    }
}

static void conn_unlink(struct input_syslog *s, struct tcp_conn *cn)
{
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        s->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    else
        s->conns_tail = cn->prev;
    cn->prev = cn->next = NULL;
}

static void conn_link_head(struct input_syslog *s, struct tcp_conn *cn)
{
    cn->prev = NULL;
    cn->next = s->conns;
    if (s->conns)
        s->conns->prev = cn;
    else
        s->conns_tail = cn;
    s->conns = cn;
}

/* The connection just had data: it moves to the front of the list. */
static void conn_touch(struct input_syslog *s, struct tcp_conn *cn)
{
    cn->last_us = mono_us();
    if (s->conns != cn) {
        conn_unlink(s, cn);
        conn_link_head(s, cn);
    }
}

/* Hands the connection's batch to the queue, waiting for room. */
static void tcp_push(struct input_syslog *s, struct tcp_conn *cn)
{
    struct rec_batch *b = cn->batch;
    uint32_t n;

    if (!b)
        return;
    cn->batch = NULL;
    n = b->nrec;
    if (n == 0) {
        rec_batch_free(b);
        return;
    }
    /* Counted before the push, as in the UDP path. */
    atomic_fetch_add(&s->st->records, n);
    atomic_fetch_add(&s->st->bytes, cn->batch_bytes);
    if (queue_push(s->q, b) < 0) {
        atomic_fetch_sub(&s->st->records, n);
        atomic_fetch_sub(&s->st->bytes, cn->batch_bytes);
        atomic_fetch_add(&s->st->dropped, n);
        rec_batch_free(b);
    }
    cn->batch_bytes = 0;
}

static int tcp_frame_cb(void *arg, const char *frame, size_t len, unsigned flags)
{
    struct tcp_conn *cn = arg;
    struct input_syslog *s = cn->owner;
    struct record *rec = NULL;

    if (cn->batch && cn->batch->nrec >= LIMIT_BATCH_RECORDS)
        tcp_push(s, cn);
    if (cn->batch)
        rec = rec_batch_add(cn->batch, frame, len, cn->recv_us, (uint16_t)(flags | cn->rflags));
    if (!rec) {
        tcp_push(s, cn);
        cn->batch = rec_batch_new(s->c->id, LIMIT_BATCH_BYTES);
        if (cn->batch)
            rec = rec_batch_add(cn->batch, frame, len, cn->recv_us, (uint16_t)(flags | cn->rflags));
        if (!rec) {
            atomic_fetch_add(&s->st->dropped, 1);
            return 0;
        }
    }
    rec->peer_family = cn->family;
    memcpy(rec->peer_addr, cn->addr, 16);
    rec->peer_port = cn->port;
    cn->batch_bytes += len;
    if (flags & RECORD_TRUNCATED)
        atomic_fetch_add(&s->st->truncated, 1);
    return 0;
}

static void tcp_conn_close(struct input_syslog *s, struct tcp_conn *cn)
{
    framer_finish(&cn->fr, tcp_frame_cb, cn);
    tcp_push(s, cn);
    (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, cn->fd, NULL);
    hs_unlink(s, cn);
    cn->ops->close(cn);
    framer_done(&cn->fr);
    conn_unlink(s, cn);
    slot_put(s, cn->slot);
    s->nconns--;
    atomic_fetch_sub(&s->st->active, 1);
    free(cn);
}

/*
 * Reads what the connection has, up to `max_reads` reads, framing as it
 * goes.  Plain TCP pushes after each read, before the bytes leave the
 * socket (tcp_conn_ops); TLS pushes when the loop ends.  Either way a
 * quiet sender's lines reach the pipeline at once.  Closes the connection
 * at EOF or on error.  Returns 1 if the connection was closed (and freed:
 * `cn` must not be used again), 0 if it stays open.
 */
static int tcp_conn_read(struct input_syslog *s, struct tcp_conn *cn, int max_reads)
{
    /* Past max_reads, a TLS session may still hold decrypted bytes that no
     * readiness event will announce: those are taken too (they are in
     * memory already, so the loop ends). */
    for (int i = 0; i < max_reads || (cn->tls && input_tls_pending(cn->tls) > 0); i++) {
        ssize_t k = cn->ops->read(cn, s->rbuf, SYSLOG_TCP_READ);

        if (k > 0) {
            cn->recv_us = now_us();
            conn_touch(s, cn);
            framer_feed(&cn->fr, s->rbuf, (size_t)k, tcp_frame_cb, cn);
            if (cn->ops->consume) {
                /* Archived first, then taken off the socket (see
                 * tcp_conn_ops); a frame's unfinished tail waits in the
                 * framer. */
                int r;

                tcp_push(s, cn);
                if ((r = cn->ops->consume(cn, s->rbuf, (size_t)k)) < 0) {
                    errno = -r;
                    goto failed;
                }
            }
            continue;
        }
        if (k == 0) {
            tcp_conn_close(s, cn);
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
    failed:
        atomic_fetch_add(&s->st->errors, 1);
        if (errno != ECONNRESET && log_ratelimit_ok(&s->rl, NULL)) {
            char peer[INET6_ADDRSTRLEN + 16];

            format_peer(peer, sizeof(peer), cn->family, cn->addr, cn->port);
            log_warn("input %s: read from %s", s->c->name, peer);
        }
        tcp_conn_close(s, cn);
        return 1;
    }
    tcp_push(s, cn);
    return 0;
}

/* Reads the connection dry (what it sent was acknowledged) and closes it.
 * A TLS client still in its handshake sent nothing we accept: closed. */
static void tcp_conn_drain_close(struct input_syslog *s, struct tcp_conn *cn)
{
    if (cn->handshaking || !tcp_conn_read(s, cn, SYSLOG_STOP_READS))
        tcp_conn_close(s, cn);
}

/* Logs a refused TLS client (rate-limited with the other refusals). */
static void tls_refused(struct input_syslog *s, const struct tcp_conn *cn, const char *why)
{
    unsigned long supp;

    if (log_ratelimit_ok(&s->rl_denied, &supp)) {
        char peer[INET6_ADDRSTRLEN + 16];

        format_peer(peer, sizeof(peer), cn->family, cn->addr, cn->port);
        log_warnx("input %s: TLS client %s refused: %s%s", s->c->name, peer, why,
                  supp ? " (earlier such warnings suppressed)" : "");
    }
}

/*
 * One step of a TLS handshake, on a readiness event.  When it completes
 * and the client is accepted, reads what already arrived.  Returns 1 if
 * the connection was closed (refused, failed), 0 if it stays.
 */
static int tcp_conn_handshake(struct input_syslog *s, struct tcp_conn *cn)
{
    char why[256] = "";
    int want_write = 0;
    int r = input_tls_handshake(cn->tls, &want_write, why, sizeof(why));

    if (r == -EAGAIN) {
        if (want_write != cn->want_write) {
            struct epoll_event ev;

            memset(&ev, 0, sizeof(ev));
            ev.events = want_write ? EPOLLOUT : EPOLLIN;
            ev.data.ptr = cn;
            (void)epoll_ctl(s->epfd, EPOLL_CTL_MOD, cn->fd, &ev);
            cn->want_write = want_write;
        }
        return 0;
    }
    if (r < 0) {
        atomic_fetch_add(r == -EACCES ? &s->st->denied : &s->st->errors, 1);
        tls_refused(s, cn, why);
        tcp_conn_close(s, cn);
        return 1;
    }
    hs_unlink(s, cn);
    if (cn->want_write) {
        struct epoll_event ev;

        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = cn;
        (void)epoll_ctl(s->epfd, EPOLL_CTL_MOD, cn->fd, &ev);
        cn->want_write = 0;
    }
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        char peer[INET6_ADDRSTRLEN + 16];

        format_peer(peer, sizeof(peer), cn->family, cn->addr, cn->port);
        log_debug("input %s: TLS client %s authenticated", s->c->name, peer);
    }
    return tcp_conn_read(s, cn, SYSLOG_TCP_READS_PER_TURN);
}

/* Closes the TLS connections whose handshake is overdue (oldest first). */
static void tcp_sweep_handshakes(struct input_syslog *s)
{
    int64_t now;

    if (!s->hs_head)
        return;
    now = mono_us();
    while (s->hs_head && now >= s->hs_head->hs_deadline_us) {
        atomic_fetch_add(&s->st->denied, 1);
        tls_refused(s, s->hs_head, "handshake not finished in time");
        tcp_conn_close(s, s->hs_head);
    }
}

/*
 * Closes the connection idle longest, to make room for `why` (the
 * newcomer's address, for the log).  Its sender, if it is still there,
 * reconnects; a flood of idle connections cannot keep a sender out.
 */
static void tcp_evict_one(struct input_syslog *s, const char *why)
{
    struct tcp_conn *cn = s->conns_tail;
    unsigned long supp;

    if (!cn)
        return;
    atomic_fetch_add(&s->st->evicted, 1);
    if (log_ratelimit_ok(&s->rl, &supp)) {
        char peer[INET6_ADDRSTRLEN + 16];

        format_peer(peer, sizeof(peer), cn->family, cn->addr, cn->port);
        log_warnx("input %s: %zu connections open: closed the one idle longest (%s, %llds) "
                  "to admit %s%s",
                  s->c->name, s->nconns, peer, (long long)((mono_us() - cn->last_us) / 1000000),
                  why, supp ? " (earlier warnings suppressed)" : "");
    }
    tcp_conn_drain_close(s, cn);
}

/* Closes the connections silent for idle_timeout; the oldest are last. */
static void tcp_sweep_idle(struct input_syslog *s)
{
    int64_t now;

    tcp_sweep_handshakes(s);
    if (!s->idle_us)
        return;
    now = mono_us();
    while (s->conns_tail && now - s->conns_tail->last_us >= s->idle_us) {
        atomic_fetch_add(&s->st->idle_closed, 1);
        tcp_conn_drain_close(s, s->conns_tail);
    }
}

/* Milliseconds epoll may sleep before the next idle connection is due. */
static int tcp_wait_ms(const struct input_syslog *s)
{
    int ms = s->accept_paused ? SYSLOG_ACCEPT_PAUSE_MS : -1;

    if (s->idle_us && s->conns_tail) {
        int64_t left = s->conns_tail->last_us + s->idle_us - mono_us();
        int idle_ms = left <= 0 ? 0 : (int)(left / 1000 + 1);

        if (left > INT64_C(3600000000))
            idle_ms = 3600000;
        if (ms < 0 || idle_ms < ms)
            ms = idle_ms;
    }
    if (s->hs_head) {
        int64_t left = s->hs_head->hs_deadline_us - mono_us();
        int hs_ms = left <= 0 ? 0 : (int)(left / 1000 + 1);

        if (ms < 0 || hs_ms < ms)
            ms = hs_ms;
    }
    return ms;
}

/* accept4 failed with errno: says whether to try again at once (1) or to
 * stop accepting this round (0).  Out of descriptors, the connection idle
 * longest makes room; a listener that stays readable is paused instead of
 * spinning. */
static int tcp_accept_failed(struct input_syslog *s)
{
    if (errno == EINTR || errno == ECONNABORTED)
        return 1;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    if ((errno == EMFILE || errno == ENFILE) && s->nconns > 0) {
        /* Out of descriptors: the connection waiting in the
         * backlog gets the place of the one idle longest. */
        tcp_evict_one(s, "a connection waiting (out of file descriptors)");
        return 1;
    }
    atomic_fetch_add(&s->st->errors, 1);
    if (log_ratelimit_ok(&s->rl, NULL))
        log_warn("input %s: accept", s->c->name);
    if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
        !s->accept_paused) {
        /* The listener stays readable: pause it instead of spinning. */
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        s->accept_paused = 1;
        clock_gettime(CLOCK_MONOTONIC, &s->paused_at);
    }
    return 0;
}

/* Whether the peer of the accepted FD may have a connection: an allowed
 * address under its max_per_address (making room under max_connections
 * by evicting).  Returns its address slot, or NULL with FD closed. */
static struct addr_slot *tcp_admit(struct input_syslog *s, const struct sockaddr_storage *ss,
                                   int fd)
{
    uint8_t fam, addr[16];
    uint16_t port;
    char peer[INET6_ADDRSTRLEN + 16];
    struct addr_slot *slot;

    peer_from_sa(ss, &fam, addr, &port);
    if (!peer_allowed(s, fam, addr, port, "connection")) {
        close(fd);
        return NULL;
    }
    slot = slot_get(s, fam, addr);
    if (!slot) {
        close(fd);
        atomic_fetch_add(&s->st->errors, 1);
        return NULL;
    }
    format_peer(peer, sizeof(peer), fam, addr, port);
    if (slot->count >= s->max_per_addr) {
        unsigned long supp;

        close(fd);
        atomic_fetch_add(&s->st->refused, 1);
        if (log_ratelimit_ok(&s->rl_denied, &supp))
            log_warnx("input %s: connection from %s refused: %u open from that %s "
                      "(max_per_address)%s",
                      s->c->name, peer, slot->count, fam == 6 ? "/64" : "address",
                      supp ? " (earlier such warnings suppressed)" : "");
        return NULL;
    }
    if (s->nconns >= s->max_conns)
        tcp_evict_one(s, peer);
    return slot;
}

/* Makes the admitted FD a connection: its framer, its TLS session, its
 * place in epoll, the connection list (and the handshake list) and the
 * counts.  On failure, counted as an error, FD is closed and SLOT put. */
static void tcp_conn_add(struct input_syslog *s, int fd, const struct sockaddr_storage *ss,
                         struct addr_slot *slot)
{
    struct epoll_event ev;
    struct tcp_conn *cn = calloc(1, sizeof(*cn));

    if (!cn || framer_init(&cn->fr, s->c->max_line) < 0) {
        free(cn);
        close(fd);
        slot_put(s, slot);
        atomic_fetch_add(&s->st->errors, 1);
        return;
    }
    cn->fd = fd;
    cn->ops = &plain_ops;
    cn->owner = s;
    peer_from_sa(ss, &cn->family, cn->addr, &cn->port);
    if (s->tls) {
        if (input_tls_session_new(s->tls, fd, &cn->tls) < 0) {
            framer_done(&cn->fr);
            free(cn);
            close(fd);
            slot_put(s, slot);
            atomic_fetch_add(&s->st->errors, 1);
            return;
        }
        cn->ops = &tls_ops;
    }
    /* The peer check above authenticated it (a TCP handshake cannot be
     * completed from a spoofed address), or the TLS handshake will, by
     * its certificate, before any record is read. */
    if (s->c->trust == INPUT_TRUST_TRUSTED && (s->c->npeers || s->tls))
        cn->rflags = RECORD_TRUSTED;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = cn;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        input_tls_session_free(cn->tls);
        framer_done(&cn->fr);
        free(cn);
        close(fd);
        slot_put(s, slot);
        atomic_fetch_add(&s->st->errors, 1);
        return;
    }
    slot->count++;
    cn->slot = slot;
    cn->last_us = mono_us();
    conn_link_head(s, cn);
    if (cn->tls) {
        cn->handshaking = 1;
        cn->hs_deadline_us = cn->last_us + (int64_t)INPUT_TLS_HANDSHAKE_S * 1000000;
        cn->hs_prev = s->hs_tail;
        if (s->hs_tail)
            s->hs_tail->hs_next = cn;
        else
            s->hs_head = cn;
        s->hs_tail = cn;
    }
    s->nconns++;
    atomic_fetch_add(&s->st->connections, 1);
    atomic_fetch_add(&s->st->active, 1);
}

/* Accepts every connection waiting in the backlog. */
static void tcp_accept_all(struct input_syslog *s)
{
    for (;;) {
        struct sockaddr_storage ss = {0};
        socklen_t sl = sizeof(ss);
        struct addr_slot *slot;
        int fd = accept4(s->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (tcp_accept_failed(s))
                continue;
            return;
        }
        slot = tcp_admit(s, &ss, fd);
        if (slot)
            tcp_conn_add(s, fd, &ss, slot);
    }
}

static void tcp_maybe_resume_accept(struct input_syslog *s)
{
    struct timespec now;
    struct epoll_event ev;
    long ms;

    if (!s->accept_paused)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (now.tv_sec - s->paused_at.tv_sec) * 1000 + (now.tv_nsec - s->paused_at.tv_nsec) / 1000000;
    if (ms < SYSLOG_ACCEPT_PAUSE_MS)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = s;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev) == 0)
        s->accept_paused = 0;
}

static void *tcp_thread(void *arg)
{
    struct input_syslog *s = arg;
    struct epoll_event evs[64];

    while (!atomic_load(&s->stopping)) {
        int n = epoll_wait(s->epfd, evs, 64, tcp_wait_ms(s));
        int accept_ready = 0;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_warn("input %s: epoll_wait", s->c->name);
            break;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;

            /* Accepting may close (evict) a connection whose event is
             * still in evs[]: it waits until the round is done. */
            if (p == s)
                accept_ready = 1;
            else if (p == &s->wake_fd)
                ; /* stopping is set; the loop ends below */
            else if (((struct tcp_conn *)p)->handshaking)
                tcp_conn_handshake(s, p);
            else
                tcp_conn_read(s, p, SYSLOG_TCP_READS_PER_TURN);
        }
        if (accept_ready)
            tcp_accept_all(s);
        tcp_maybe_resume_accept(s);
        tcp_sweep_idle(s);
    }
    /*
     * Stop: accept what waits in the backlog, read every connection dry
     * (to EOF where the peer has already closed), push it all, close.
     */
    tcp_accept_all(s);
    /* tcp_conn_close() unlinks a connection before freeing it, so the head
     * is always live; the analyzer cannot see through the list. */
    while (s->conns) {
        struct tcp_conn *cn = s->conns;

        /* A TLS client whose handshake is done gets its last records read
         * (already decrypted ones included); one still in handshake sent
         * none we accept. */
        if (cn->handshaking || /* NOLINT(clang-analyzer-unix.Malloc) */
            !tcp_conn_read(s, cn, SYSLOG_STOP_READS))
            tcp_conn_close(s, cn);
    }
    return NULL;
}

/* ---- start / stop ---- */

/* The TCP and TLS side of a start: the TLS context, the connection
 * limits, the address table and its key, the descriptor limit, the read
 * buffer and epoll with the listener and the wake-up descriptor in it.
 * Returns 0, or -errno with the message in errbuf. */
static int syslog_start_tcp(struct input_syslog *s, char *errbuf, size_t errlen)
{
    const struct input_conf *c = s->c;
    struct epoll_event ev;
    struct rlimit rl;
    int r;

    if (c->type == INPUT_SYSLOG_TLS) {
        r = input_tls_new(c, &s->tls, errbuf, errlen);
        if (r < 0)
            return r;
    }
    s->max_conns = c->max_connections ? c->max_connections : LIMIT_TCP_CLIENTS;
    s->max_per_addr = c->max_per_address ? c->max_per_address : LIMIT_TCP_PER_ADDRESS;
    s->idle_us = (int64_t)c->idle_timeout_s * 1000000;
    for (s->nslots = 64; s->nslots < s->max_conns; s->nslots *= 2)
        ;
    s->slots = calloc(s->nslots, sizeof(struct addr_slot *));
    if (getrandom(s->hash_key, sizeof(s->hash_key), 0) != (ssize_t)sizeof(s->hash_key)) {
        /* Still keyed per process, if weakly: addresses, time, pid. */
        s->hash_key[0] = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32);
        s->hash_key[1] = (uint64_t)(uintptr_t)s;
    }
    /* Each connection is a descriptor: let the process have as many as
     * its hard limit allows, so max_connections is reachable (the
     * table evicts on EMFILE anyway). */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
        rl.rlim_cur < (rlim_t)s->max_conns + 256) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    s->rbuf = malloc(SYSLOG_TCP_READ);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!s->rbuf || !s->slots || s->epfd < 0) {
        r = s->rbuf && s->slots ? -errno : -ENOMEM;
        snprintf(errbuf, errlen, "input %s: %s", c->name, strerror(-r));
        return r;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = s;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        goto out_errno;
    ev.data.ptr = &s->wake_fd;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake_fd, &ev) < 0)
        goto out_errno;
    return 0;
out_errno:
    r = -errno;
    snprintf(errbuf, errlen, "input %s: epoll_ctl: %s", c->name, strerror(errno));
    return r;
}

int input_syslog_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                       struct input_syslog **ret, char *errbuf, size_t errlen)
{
    struct input_syslog *s;
    int r;

    *ret = NULL;
    if (c->max_line == 0) {
        snprintf(errbuf, errlen, "input %s: max_line is 0", c->name);
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    s->c = c;
    s->q = q;
    s->st = stats;
    s->fd = s->wake_fd = s->epfd = -1;
    s->rl.interval_s = 10;
    s->rl.burst = 5;
    s->rl_denied.interval_s = 10;
    s->rl_denied.burst = 5;
    r = bind_socket(s, errbuf, errlen);
    if (r < 0)
        goto out;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "input %s: eventfd: %s", c->name, strerror(errno));
        goto out;
    }
    if (INPUT_TYPE_IS_STREAM(c->type)) {
        if ((r = syslog_start_tcp(s, errbuf, errlen)) < 0)
            goto out;
    } else {
        s->dgram_size =
            (c->max_line < SYSLOG_UDP_MAX_DGRAM ? c->max_line : SYSLOG_UDP_MAX_DGRAM) + 1;
        if (c->type == INPUT_GELF_UDP) {
            /* A chunk or a compressed message may be any UDP payload,
             * whatever max_line (which caps the message) says. */
            s->dgram_size = SYSLOG_UDP_MAX_DGRAM + 1;
            if (!(s->gelf = gelf_reasm_new(c->max_line))) {
                r = -ENOMEM;
                snprintf(errbuf, errlen, "out of memory");
                goto out;
            }
        }
        s->dgrams = malloc(s->dgram_size * SYSLOG_UDP_VLEN);
        if (!s->dgrams) {
            r = -ENOMEM;
            snprintf(errbuf, errlen, "out of memory");
            goto out;
        }
    }
    r = -pthread_create(&s->thread, NULL, INPUT_TYPE_IS_STREAM(c->type) ? tcp_thread : udp_thread,
                        s);
    if (r < 0) {
        snprintf(errbuf, errlen, "input %s: pthread_create: %s", c->name, strerror(-r));
        goto out;
    }
    s->thread_started = 1;
    log_info("input %s: listening on %s/%s", c->name, s->bound,
             !INPUT_TYPE_IS_STREAM(c->type) ? "udp"
             : c->type == INPUT_SYSLOG_TLS  ? "tls"
                                           : "tcp");
    *ret = s;
    return 0;
out:
    input_syslog_free(s);
    return r;
}

void input_syslog_stop(struct input_syslog *s)
{
    uint64_t one = 1;

    if (!s || !s->thread_started)
        return;
    atomic_store(&s->stopping, 1);
    if (write(s->wake_fd, &one, sizeof(one)) < 0) {
        /* The counter cannot overflow with one write per stop. */
    }
    pthread_join(s->thread, NULL);
    s->thread_started = 0;
}

void input_syslog_free(struct input_syslog *s)
{
    if (!s)
        return;
    input_syslog_stop(s);
    if (s->fd >= 0)
        close(s->fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->rbuf);
    /* Every connection was closed at stop, and each frees its slot with
     * its last connection: only the table is left. */
    free(s->slots);
    input_tls_free(s->tls);
    free(s->dgrams);
    rec_batch_free(s->pend); /* NULL once the thread has stopped */
    gelf_reasm_free(s->gelf);
    free(s);
}

const char *input_syslog_bound_address(const struct input_syslog *s)
{
    return s->bound;
}
