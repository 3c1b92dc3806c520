/*
 * input.h - bytes in: syslog over UDP, TCP and TLS, files followed with rotation,
 * stdin.  Inputs frame records and push batches to the queue; they never
 * parse content.
 *
 * Each running input is a thread of its own.  TCP and file inputs use the
 * blocking queue_push(), so when the pipeline is slow they stop reading and
 * the sender waits (backpressure); UDP uses queue_trypush() and counts what
 * it drops.  Every input counts what it did in its struct input_stats, which
 * the daemon exposes on /metrics.
 */
#ifndef HIKESHI_INPUT_INPUT_H
#define HIKESHI_INPUT_INPUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "input/record.h"
#include "util/cidr.h"

struct queue;

enum input_type {
    INPUT_SYSLOG_UDP,
    INPUT_SYSLOG_TCP,
    INPUT_FILE,
    INPUT_STDIN,
    INPUT_SYSLOG_TLS, /* RFC 5425: TCP with TLS and client certificates */
    INPUT_GELF_UDP,   /* GELF 1.1 datagrams: plain, zlib/gzip, chunked (input_gelf.h) */
    INPUT_GELF_TCP,   /* GELF 1.1 over TCP: JSON objects each ended by a NUL */
    INPUT_JSON_TCP,   /* JSON lines over TCP: one object a line */
    INPUT_HTTP_BULK,  /* the Elasticsearch bulk API over HTTP (input_http.h) */
    INPUT_RELP,       /* RELP, acked once archived (input_relp.h, librelp) */
};

/* The inputs served by input_syslog.c's stream loop (framing by newline,
 * NUL or octet count, the same connection caps). */
#define INPUT_TYPE_IS_STREAM(t)                                                                        ((t) == INPUT_SYSLOG_TCP || (t) == INPUT_SYSLOG_TLS || (t) == INPUT_GELF_TCP ||                     (t) == INPUT_JSON_TCP)

/* Counters of one input; updated by its thread, read by anyone. */
struct input_stats {
    _Atomic uint64_t records;     /* records pushed to the queue */
    _Atomic uint64_t bytes;       /* bytes of those records */
    _Atomic uint64_t truncated;   /* records cut at max_line */
    _Atomic uint64_t dropped;     /* records dropped (UDP, queue full) */
    _Atomic uint64_t kernel_dropped; /* UDP datagrams the kernel dropped, its socket
                                        buffer full (SO_RXQ_OVFL, as last reported) */
    _Atomic uint64_t connections; /* TCP connections accepted, in total */
    _Atomic uint64_t active;      /* TCP connections open now */
    _Atomic uint64_t refused;     /* TCP connections refused (client caps) */
    _Atomic uint64_t denied;      /* TCP connections and UDP datagrams from senders
                                     not in peers, TLS clients not authenticated */
    _Atomic uint64_t evicted;     /* TCP connections closed to make room (the one
                                     idle longest, when the table was full) */
    _Atomic uint64_t idle_closed; /* TCP connections closed after idle_timeout */
    _Atomic uint64_t errors;      /* read/framing errors */
    _Atomic uint64_t rotations;   /* file rotations and truncations seen */
};

/* What one input is told to do; from the configuration. */
/*
 * How far an input's senders are believed (inputs[].trust).  Only records
 * from a trusted input's authenticated senders may move an automatic
 * response; anything else alerts and adds risk, and waits for a person.
 */
enum input_trust {
    INPUT_TRUST_UNTRUSTED = 0, /* the default: anyone could have written it */
    INPUT_TRUST_TRUSTED,       /* a sender we own that witnesses what it logs */
};

struct input_conf {
    uint32_t id;          /* index in the configuration; goes in batches */
    const char *name;     /* unique name, for offsets and metrics */
    enum input_type type;
    const char *listen;   /* syslog: "host:port", "[v6]:port" */
    const char *path;     /* file */
    size_t max_line;      /* longest record kept; longer ones truncated */
    int from_start;       /* file with no saved position: 1 read from the
                             start, 0 start at the end (like tail -F) */
    int poll_ms;          /* file: how often to look for new data */
    enum input_trust trust; /* see enum input_trust */
    /* inputs[].exercise: a tabletop exercise's records (docs/exercise.md):
     * marked apart in the store and never acted on but in dry run */
    int exercise;
    /* Network inputs: who may send (inputs[].peers).  npeers 0: anyone.  A
     * TCP connection from elsewhere is closed at accept, a datagram dropped,
     * both counted in `denied`.  Owned by whoever owns the conf. */
    const struct cidr *peers;
    size_t npeers;
    /* TCP: connections open at once (0: LIMIT_TCP_CLIENTS); when full, the
     * one idle longest is closed to admit a newcomer.  Per address (an IPv6
     * /64 counts as one address; 0: LIMIT_TCP_PER_ADDRESS), further ones
     * are refused.  A connection silent for idle_timeout_s is closed (0:
     * never). */
    unsigned max_connections;
    unsigned max_per_address;
    unsigned idle_timeout_s;
    /* syslog-tls (input_tls.h): PEM files of the listener's certificate and
     * key, the CA that client certificates must chain to (NULL: none), and
     * the SHA-256 fingerprints of accepted client certificates
     * (ntls_fprs * 32 bytes).  At least a CA or one fingerprint. */
    const char *tls_cert, *tls_key, *tls_ca;
    const uint8_t *tls_fprs;
    size_t ntls_fprs;
    /* http-bulk (input_http.h): the largest request body, after gzip (0:
     * LIMIT_BULK_BODY_DEFAULT), and the credentials a request must carry
     * when any are set: "user:password" for HTTP Basic, "id:key" for
     * Elastic's ApiKey scheme. */
    size_t max_body;
    const char *const *http_users;
    size_t nhttp_users;
    const char *const *http_api_keys;
    size_t nhttp_api_keys;
};

struct input;

/*
 * Starts input `c` (which must outlive it) pushing to `q`.  `start` is the
 * saved position for a file input (NULL if none).  Binds sockets and opens
 * files before returning, so errors (address in use, permission) come back
 * here: a negative errno and a message in errbuf.
 */
int input_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                const struct file_pos *start, struct input **ret, char *errbuf, size_t errlen);
/*
 * Stops the input and joins its thread.  Before it returns, everything the
 * kernel had already accepted (datagrams queued on the socket, bytes in TCP
 * receive buffers, connections in the listen backlog, lines already written
 * to a followed file) has been pushed to the queue: nothing acknowledged is
 * lost.  The queue must still be open.
 */
void input_stop(struct input *in);
/* Frees a stopped input.  NULL is a no-op. */
void input_free(struct input *in);
/* The address a syslog input is bound to ("127.0.0.1:5514"); useful when
 * the configuration asked for port 0. */
const char *input_bound_address(const struct input *in);

#endif
