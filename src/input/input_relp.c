/*
 * input_relp.c - the RELP input: librelp's server engine in a thread of its
 * own, each message pushed to the queue before librelp answers it.
 *
 * Why the ack waits for the archive: librelp calls the reception callback
 * synchronously and sends "200 OK" only when it returns (whatever it
 * returns: librelp 1.11 ignores the callback's return value).  The callback
 * pushes the record with the blocking queue_push(), whose hook appends it to
 * the archive (and, with archive.sync: every record, fdatasyncs it) before
 * the push returns.  So the ack follows the append; a full queue holds the
 * callback, and with it the ack (backpressure, as the TCP inputs).  Memory
 * is bounded by the queue's batch count times max_line, and librelp's own
 * buffers by its max data size (max_line + 1).
 *
 * One engine serves all of an input's sessions in one thread, in order: a
 * slow sync holds every session of this input, never another input's
 * thread beyond the archive's own lock.  A sender keeps a window of
 * unanswered messages (omrelp: 128), so it keeps sending while we sync.
 *
 * librelp takes no part in our peers check at accept (it has no accept
 * hook); the callback gets the sender's address and drops a message from a
 * sender outside peers (counted in `denied`, logged).  librelp still
 * answers it "200 OK", since it cannot be told otherwise.
 */
#include "input/input_relp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <librelp.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/cidr.h"
#include "util/log.h"

/* Senders remembered for naming them in a teardown's log line. */
#define INPUT_RELP_SOCKS 256

struct input_relp {
    const struct input_conf *c; /* borrowed; outlives the input */
    struct queue *q;
    struct input_stats *st;
    relpEngine_t *eng; /* owns the listener and sessions */
    pthread_t thread;
    int thread_started;
    _Atomic int done;    /* 1: relpEngineRun returned */
    _Atomic int stopped; /* set by stop, read by the engine's thread */
    int shutdown_now;    /* librelp's "stop at once" flag; set only by stop */
    uint16_t rflags;     /* RECORD_TRUSTED when the input vouches for its senders */
    char host[256], port[16];
    /* The sender of each session, by socket (librelp's debug lines name
     * sessions by socket only); engine thread only. */
    struct relp_sock {
        int fd;
        char ip[INET6_ADDRSTRLEN];
    } socks[INPUT_RELP_SOCKS];
    char pending_ip[INET6_ADDRSTRLEN];
    /* Only the engine's thread logs through these. */
    struct log_ratelimit rl, rl_denied;
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* librelp's text form of the sender's address ("192.0.2.1", "2001:db8::1",
 * "::ffff:192.0.2.1") to our family and bytes; 0 family when unreadable. */
static void peer_parse(const unsigned char *ip, uint8_t *ret_family, uint8_t addr[16])
{
    struct in6_addr a6;
    struct in_addr a4;

    *ret_family = 0;
    memset(addr, 0, 16);
    if (!ip)
        return;
    if (inet_pton(AF_INET, (const char *)ip, &a4) == 1) {
        memcpy(addr, &a4, 4);
        *ret_family = 4;
    } else if (inet_pton(AF_INET6, (const char *)ip, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            memcpy(addr, a6.s6_addr + 12, 4);
            *ret_family = 4;
        } else {
            memcpy(addr, a6.s6_addr, 16);
            *ret_family = 6;
        }
    }
}

/* librelp's reception callback, on the engine's thread: one message, one
 * batch, pushed (and so archived) before we return and librelp acks. */
static relpRetVal on_syslog(void *usr, unsigned char *hostname, unsigned char *ip,
                            unsigned char *msg, size_t len)
{
    struct input_relp *r = usr;
    const struct input_conf *c = r->c;
    struct rec_batch *b;
    struct record *rec;
    uint8_t fam, addr[16];
    uint16_t flags = r->rflags;
    unsigned long supp;

    (void)hostname;
    peer_parse(ip, &fam, addr);
    if (c->npeers && !(fam && cidr_list_contains(c->peers, c->npeers, fam, addr))) {
        atomic_fetch_add(&r->st->denied, 1);
        if (log_ratelimit_ok(&r->rl_denied, &supp)) {
            char q[INET6_ADDRSTRLEN + 8];

            log_quote(q, sizeof(q), ip ? (const char *)ip : "?", ip ? strlen((const char *)ip) : 1);
            log_warnx("input %s: RELP message from %s dropped: not in peers (librelp acks it "
                      "anyway; it has no way to refuse one)%s",
                      c->name, q, supp ? " (earlier such warnings suppressed)" : "");
        }
        return RELP_RET_ERR_INVAL;
    }
    /* librelp truncates at max_line + 1 bytes, so a longer length here
     * means the message was longer than max_line. */
    if (len > c->max_line) {
        len = c->max_line;
        flags |= RECORD_TRUNCATED;
        atomic_fetch_add(&r->st->truncated, 1);
    }
    if (!(b = rec_batch_new(c->id, rec_batch_record_size(len))) ||
        !(rec = rec_batch_add(b, (const char *)msg, len, now_us(), flags))) {
        rec_batch_free(b);
        atomic_fetch_add(&r->st->dropped, 1);
        if (log_ratelimit_ok(&r->rl, &supp))
            log_warnx("input %s: out of memory: a RELP message dropped (already acked)", c->name);
        return RELP_RET_OUT_OF_MEMORY;
    }
    rec->peer_family = fam;
    memcpy(rec->peer_addr, addr, 16);
    rec->peer_port = 0; /* librelp does not tell the sender's port */
    atomic_fetch_add(&r->st->records, 1);
    atomic_fetch_add(&r->st->bytes, len);
    if (queue_push(r->q, b) < 0) {
        /* Only at shutdown, after the inputs stopped: not expected. */
        atomic_fetch_sub(&r->st->records, 1);
        atomic_fetch_sub(&r->st->bytes, len);
        atomic_fetch_add(&r->st->dropped, 1);
        rec_batch_free(b);
        return RELP_RET_ERR_INTERNAL;
    }
    return RELP_RET_OK;
}

/* Logs librelp's complaints (a malformed frame, a session broken) in a
 * person's words, rate-limited: they come from whoever reaches the port. */
static void relp_complain(struct log_ratelimit *rl, const char *name, const char *obj,
                          const char *msg, relpRetVal code)
{
    char qo[160], qm[320];
    unsigned long supp;

    if (!log_ratelimit_ok(rl, &supp))
        return;
    log_quote(qo, sizeof(qo), obj ? obj : "", obj ? strlen(obj) : 0);
    log_quote(qm, sizeof(qm), msg ? msg : "", msg ? strlen(msg) : 0);
    log_warnx("input %s: RELP: %s: %s (librelp error %d; the session is closed, the sender "
              "resends what was not acked)%s",
              name, qo, qm, (int)code, supp ? " (earlier such warnings suppressed)" : "");
}

/* librelp's errors that carry no user pointer; shared by every RELP
 * input's thread, so its limiter is locked. */
static pthread_mutex_t generic_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_ratelimit generic_rl = {.interval_s = 10, .burst = 5};

static void on_generic_err(char *objinfo, char *errmsg, relpRetVal code)
{
    pthread_mutex_lock(&generic_lock);
    relp_complain(&generic_rl, "(relp)", objinfo, errmsg, code);
    pthread_mutex_unlock(&generic_lock);
}

static void on_err(void *usr, char *objinfo, char *errmsg, relpRetVal code)
{
    struct input_relp *r = usr;

    if (!r) {
        on_generic_err(objinfo, errmsg, code);
        return;
    }
    atomic_fetch_add(&r->st->errors, 1);
    relp_complain(&r->rl, r->c->name, objinfo, errmsg, code);
}

/* The input whose engine runs on this thread: librelp's debug printer has
 * no user pointer. */
static _Thread_local struct input_relp *tl_relp;

/* What a session's teardown code means, for the log. */
static const char *teardown_reason(int code)
{
    switch (code) {
    case RELP_RET_INVALID_FRAME: return "a malformed RELP frame";
    case RELP_RET_DATA_TOO_LONG: return "a frame longer than librelp accepts";
    case RELP_RET_INVALID_CMD: return "an unknown RELP command";
    case RELP_RET_INVALID_TXNR: return "a bad transaction number";
    case RELP_RET_INVALID_DATALEN: return "a bad DATALEN";
    case RELP_RET_INVALID_OFFER: return "a malformed open offer";
    default: return "a RELP protocol error";
    }
}

/*
 * librelp's debug printer.  librelp reports a session it tears down for a
 * malformed frame only here (no error callback), so the few lines that
 * matter are picked out by their format, and the others cost one string
 * compare each.  If a librelp version words them differently, the only
 * loss is that log line (e2e_relp notices).
 */
static void relp_dbg(char *fmt, ...)
{
    struct input_relp *r = tl_relp;
    va_list ap;

    if (!r || !fmt)
        return;
    va_start(ap, fmt);
    if (strncmp(fmt, "remote host is '%s', ip '%s'", 28) == 0) {
        (void)va_arg(ap, char *);
        const char *ip = va_arg(ap, char *);

        snprintf(r->pending_ip, sizeof(r->pending_ip), "%s", ip ? ip : "?");
    } else if (strncmp(fmt, "librelp: add socket %d to epoll set", 35) == 0) {
        int fd = va_arg(ap, int);
        struct relp_sock *so = &r->socks[(unsigned)fd % INPUT_RELP_SOCKS];

        so->fd = fd;
        memcpy(so->ip, r->pending_ip, sizeof(so->ip));
        r->pending_ip[0] = '\0';
    } else if (strncmp(fmt, "relp session %d iRet %d", 23) == 0 ||
               strncmp(fmt, "relp session %d handshake iRet %d", 33) == 0) {
        int fd = va_arg(ap, int), code = va_arg(ap, int);
        const struct relp_sock *so = &r->socks[(unsigned)fd % INPUT_RELP_SOCKS];
        unsigned long supp;

        /* A close or a vanished sender is no protocol error; on_err says
         * the latter. */
        if (code != RELP_RET_SESSION_CLOSED && code != RELP_RET_SESSION_BROKEN) {
            atomic_fetch_add(&r->st->errors, 1);
            if (log_ratelimit_ok(&r->rl, &supp)) {
                char q[INET6_ADDRSTRLEN + 8];
                const char *ip = so->fd == fd && so->ip[0] ? so->ip : "?";

                log_quote(q, sizeof(q), ip, strlen(ip));
                log_warnx("input %s: RELP session from %s closed: %s (librelp error %d); "
                          "nothing of it was acked past that frame%s",
                          r->c->name, q, teardown_reason(code), code,
                          supp ? " (earlier such warnings suppressed)" : "");
            }
        }
    }
    va_end(ap);
}

static void *engine_thread(void *arg)
{
    struct input_relp *r = arg;
    relpRetVal e;

    tl_relp = r;
    e = relpEngineRun(r->eng);

    if (e != RELP_RET_OK && !atomic_load(&r->stopped))
        log_warnx("input %s: the RELP engine stopped: librelp error %d", r->c->name, (int)e);
    atomic_store(&r->done, 1);
    return NULL;
}

/* Splits "host:port" or "[v6]:port" (a port is required, not 0). */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    size_t hl;
    unsigned long p;
    char *end;

    if (!listen || !*listen)
        return -EINVAL;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');

        if (!rb || rb[1] != ':')
            return -EINVAL;
        hl = (size_t)(rb - listen - 1);
        if (hl == 0 || hl >= hostlen)
            return -EINVAL;
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        colon = rb + 1;
    } else {
        if (!(colon = strrchr(listen, ':')) || memchr(listen, ':', (size_t)(colon - listen)))
            return -EINVAL;
        hl = (size_t)(colon - listen);
        if (hl >= hostlen)
            return -EINVAL;
        if (hl == 0 || (hl == 1 && listen[0] == '*'))
            snprintf(host, hostlen, "0.0.0.0");
        else {
            memcpy(host, listen, hl);
            host[hl] = '\0';
        }
    }
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || p == 0 || p > 65535 || strlen(colon + 1) >= portlen ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -EINVAL;
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

int input_relp_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     struct input_relp **ret, char *errbuf, size_t errlen)
{
    struct input_relp *r;
    relpSrv_t *srv = NULL;
    relpRetVal e;
    int rc = -EINVAL;

    *ret = NULL;
    if (!(r = calloc(1, sizeof(*r)))) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    r->c = c;
    r->q = q;
    r->st = stats;
    r->rl = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    r->rl_denied = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    if (c->trust == INPUT_TRUST_TRUSTED && c->npeers)
        r->rflags = RECORD_TRUSTED;
    if (split_listen(c->listen, r->host, sizeof(r->host), r->port, sizeof(r->port)) < 0) {
        snprintf(errbuf, errlen,
                 "input %s: bad listen address \"%s\" (host:port or [v6]:port; a relp input "
                 "needs a port other than 0)",
                 c->name, c->listen ? c->listen : "");
        goto fail;
    }
    rc = -ENOMEM;
    if (relpEngineConstruct(&r->eng) != RELP_RET_OK) {
        snprintf(errbuf, errlen, "input %s: librelp: cannot make an engine", c->name);
        goto fail;
    }
    /* Numeric addresses only: a DNS lookup per session would let a sender
     * stall the engine through its resolver. */
    relpEngineSetDbgprint(r->eng, relp_dbg);
    relpEngineSetDnsLookupMode(r->eng, 0);
    relpEngineSetEnableCmd(r->eng, (unsigned char *)"syslog", eRelpCmdState_Required);
    relpEngineSetSyslogRcv2(r->eng, on_syslog);
    relpEngineSetOnErr(r->eng, on_err);
    relpEngineSetOnGenericErr(r->eng, on_generic_err);
    relpEngineSetShutdownImmdtPtr(r->eng, &r->shutdown_now);
    if ((e = relpEngineListnerConstruct(r->eng, &srv)) != RELP_RET_OK) {
        snprintf(errbuf, errlen, "input %s: librelp: cannot make a listener (error %d)", c->name,
                 (int)e);
        goto fail;
    }
    relpSrvSetUsrPtr(srv, r);
    relpSrvSetLstnPort(srv, (unsigned char *)r->port);
    relpSrvSetLstnAddr(srv, (unsigned char *)r->host);
    /* One byte over max_line, truncated (not the session aborted, which
     * would make the sender resend the same message forever): a longer
     * message shows as longer than max_line and is flagged truncated. */
    relpSrvSetMaxDataSize(srv, c->max_line + 1);
    relpSrvSetOversizeMode(srv, RELP_OVERSIZE_TRUNCATE);
    if ((e = relpEngineListnerConstructFinalize(r->eng, srv)) != RELP_RET_OK) {
        snprintf(errbuf, errlen,
                 "input %s: cannot listen on %s for RELP (librelp error %d: "
                 "address in use or not ours?)",
                 c->name, c->listen, (int)e);
        rc = -EADDRNOTAVAIL;
        goto fail;
    }
    if ((rc = -pthread_create(&r->thread, NULL, engine_thread, r)) < 0) {
        snprintf(errbuf, errlen, "input %s: cannot start a thread: %s", c->name, strerror(-rc));
        goto fail;
    }
    r->thread_started = 1;
    *ret = r;
    return 0;
fail:
    input_relp_free(r);
    return rc;
}

/* librelp waits in epoll_wait without a timeout and looks at its stop flag
 * after each wakeup: a connection to our own listener is that wakeup. */
static void wake_engine(const struct input_relp *r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    const char *h = r->host;
    int fd;

    if (strcmp(h, "0.0.0.0") == 0)
        h = "127.0.0.1";
    else if (strcmp(h, "::") == 0)
        h = "::1";
    if (getaddrinfo(h, r->port, &hints, &res) != 0 || !res)
        return;
    if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
        (void)connect(fd, res->ai_addr, res->ai_addrlen);
        close(fd);
    }
    freeaddrinfo(res);
}

void input_relp_stop(struct input_relp *r)
{
    if (!r || atomic_load(&r->stopped))
        return;
    atomic_store(&r->stopped, 1);
    if (r->thread_started) {
        relpEngineSetStop(r->eng);
        /* The message in progress finishes (its push returns while the
         * queue is open); then the engine sees the flag. */
        for (int i = 0; !atomic_load(&r->done); i++) {
            struct timespec ts = {0, 50 * 1000 * 1000};

            if (i == 100)
                log_warnx("input %s: the RELP engine has not stopped after 5 s (a message "
                          "still waiting for the queue?); waiting on",
                          r->c->name);
            wake_engine(r);
            nanosleep(&ts, NULL);
        }
        pthread_join(r->thread, NULL);
        r->thread_started = 0;
    }
}

void input_relp_free(struct input_relp *r)
{
    if (!r)
        return;
    input_relp_stop(r);
    if (r->eng)
        relpEngineDestruct(&r->eng);
    free(r);
}

const char *input_relp_bound_address(const struct input_relp *r)
{
    return r ? r->c->listen : NULL;
}
