/*
 * audit.c - the tamper-evident audit trail (see audit.h and docs/audit.md).
 *
 * The file is only ever appended to, one whole line per write(2), and each
 * line carries the SHA-256 of the line before it.  Opening reads only the
 * tail, so starting the daemon stays cheap however long the log grows; the
 * full walk is audit_verify's job.
 */
#include "incident/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive.h"
#include "event/time.h"
#include "incident/audit_seal.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/jp.h"
#include "util/log.h"

#define HASH_LEN crypto_hash_sha256_BYTES

struct audit {
    pthread_mutex_t lock;              /* serialises appends: seq order is file order */
    int fd;                            /* O_APPEND, holds an exclusive flock for its life */
    int failed;                        /* -EIO once fdatasync failed; appends refused */
    uint64_t seq;                      /* seq of the last entry, 0 when empty */
    off_t size;                        /* end of the last complete line */
    unsigned char prev[HASH_LEN];      /* SHA-256 of the last line, zeros if none */
    unsigned char last_hash[HASH_LEN]; /* its hash field */
    struct buf line;                   /* the line being built; capped at AUDIT_LINE_MAX */
    char *path;                        /* the log's path, for messages (owned) */
    /* Sealing (audit_seal_start); key NULL: no seals. */
    struct archive_key *key; /* borrowed; evolves with each seal */
    uint64_t seal_every;     /* seal after this many entries; 0: not by count */
    int64_t seal_us;         /* ... or when the oldest unsealed is this old */
    char *head_path;         /* the latest seal's line is copied here (owned) */
    uint64_t unsealed;       /* entries since the last seal */
    int64_t unsealed_since;  /* time of the oldest of them */
    int seal_failed;         /* a seal could not be made: no more tried */
    int seal_held;           /* a cut or rewrite found at start: no seal until
                                audit_seal_release (a refused start must not
                                seal the cut log and move the head) */
    /* Denied actions (audit_deny): a token bucket, so a flood of denials
     * cannot fill the disk; what it drops is counted into one entry. */
    double deny_tokens;
    int64_t deny_at;
    uint64_t deny_dropped;
};

/* One parsed line.  `hashed_len` is where `,"hash":` starts: the bytes the
 * hash field covers. */
struct audit_line {
    uint64_t seq;
    int64_t time_us;
    unsigned char prev[HASH_LEN];
    unsigned char hash[HASH_LEN];
    size_t hashed_len;
    struct jp_span actor, action, object; /* the JSON strings, quotes included */
    struct jp_span details;
};

const char *audit_why_name(enum audit_why why)
{
    switch (why) {
    case AUDIT_OK: return "intact";
    case AUDIT_MALFORMED: return "malformed entry";
    case AUDIT_TRUNCATED: return "truncated line";
    case AUDIT_SEQ_GAP: return "seq gap";
    case AUDIT_PREV_MISMATCH: return "prev mismatch";
    case AUDIT_HASH_MISMATCH: return "hash mismatch";
    case AUDIT_SEAL_BAD: return "bad seal";
    case AUDIT_SEAL_GAP: return "seal epoch gap";
    case AUDIT_CUT: return "truncated: fewer entries than were sealed";
    case AUDIT_REWRITTEN: return "rewritten: differs from the exported head";
    }
    return "unknown";
}

/* ---- lines --------------------------------------------------------------- */

/*
 * Checks that p..len is exactly one JSON object (spaces around allowed) and
 * appends it to `out` without insignificant whitespace, so that it can never
 * hold a newline.  The JSON is util/jp's: the same strict reader as the
 * API's request bodies.
 */
static int details_copy(const char *p, size_t len, struct buf *out)
{
    struct jp j = {p, len, 0, NULL, NULL, 0};
    int r;

    if (jp_peek(&j) != '{')
        return -EINVAL;
    if ((r = jp_skip_compact(&j, AUDIT_JSON_DEPTH, out)) < 0)
        return r;
    return jp_end(&j);
}

/* The exact bytes `lit` at the cursor: the layout has no optional spaces. */
static int expect(struct jp *j, const char *lit)
{
    size_t n = strlen(lit);

    if (j->len - j->off < n || memcmp(j->p + j->off, lit, n) != 0)
        return -EINVAL;
    j->off += n;
    return 0;
}

/* A JSON value starting exactly at the cursor with byte `first`. */
static int expect_value(struct jp *j, char first, unsigned depth_max, struct jp_span *ret)
{
    if (j->off >= j->len || j->p[j->off] != first)
        return -EINVAL;
    return jp_skip(j, depth_max, ret);
}

/* A hash: exactly 64 lowercase hex digits and the closing quote. */
static int expect_hash(struct jp *j, unsigned char h[HASH_LEN])
{
    if (j->len - j->off < 2 * HASH_LEN + 1 || hex_decode_lower(j->p + j->off, HASH_LEN, h) < 0)
        return -EINVAL;
    j->off += 2 * HASH_LEN;
    return expect(j, "\"");
}

/*
 * Parses one line (without its newline) in the one layout audit_append
 * writes; anything else, even valid JSON with the keys reordered, is
 * malformed, because the hash is over the bytes and a second spelling of an
 * entry would be a second entry.
 */
static int line_parse(const char *p, size_t len, struct audit_line *ret)
{
    static const char *const strs[] = {",\"actor\":", ",\"action\":", ",\"object\":"};
    struct jp_span *spans[] = {&ret->actor, &ret->action, &ret->object};
    struct jp j = {p, len, 0, NULL, NULL, 0};
    struct jp_span t;
    size_t from;
    int64_t us;
    size_t tlen;

    if (expect(&j, "{\"seq\":") < 0)
        return -EINVAL;
    /* seq: 1.. without leading zeros, at most 19 digits. */
    from = j.off;
    if (j.off >= j.len || j.p[j.off] < '1' || j.p[j.off] > '9' || jp_u64(&j, &ret->seq) < 0 ||
        j.off - from > 19)
        return -EINVAL;
    if (expect(&j, ",\"time\":") < 0 || expect_value(&j, '"', 0, &t) < 0)
        return -EINVAL;
    if (time_parse_iso8601(t.p + 1, t.len - 2, 0, &us, &tlen) < 0 || tlen != t.len - 2)
        return -EINVAL;
    ret->time_us = us;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (expect(&j, strs[i]) < 0 || expect_value(&j, '"', 0, spans[i]) < 0)
            return -EINVAL;
    }
    if (expect(&j, ",\"details\":") < 0 ||
        expect_value(&j, '{', AUDIT_JSON_DEPTH, &ret->details) < 0)
        return -EINVAL;
    if (expect(&j, ",\"prev\":\"") < 0 || expect_hash(&j, ret->prev) < 0)
        return -EINVAL;
    ret->hashed_len = j.off;
    if (expect(&j, ",\"hash\":\"") < 0 || expect_hash(&j, ret->hash) < 0 || expect(&j, "}") < 0)
        return -EINVAL;
    return j.off == j.len ? 0 : -EINVAL;
}

/* Checks one line against the chain so far; AUDIT_OK or why not. */
static enum audit_why line_check(const char *p, size_t len, uint64_t want_seq,
                                 const unsigned char want_prev[HASH_LEN], struct audit_line *ret)
{
    unsigned char h[HASH_LEN];

    if (line_parse(p, len, ret) < 0)
        return AUDIT_MALFORMED;
    crypto_hash_sha256(h, (const unsigned char *)p, ret->hashed_len);
    if (sodium_memcmp(h, ret->hash, HASH_LEN) != 0)
        return AUDIT_HASH_MISMATCH;
    if (ret->seq != want_seq)
        return AUDIT_SEQ_GAP;
    if (want_prev && sodium_memcmp(want_prev, ret->prev, HASH_LEN) != 0)
        return AUDIT_PREV_MISMATCH;
    return AUDIT_OK;
}

/* ---- appending ----------------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n;

    if (!s)
        return -EINVAL;
    n = strnlen(s, AUDIT_NAME_MAX + 1);
    if (n == 0)
        return -EINVAL;
    return n > AUDIT_NAME_MAX ? -E2BIG : 0;
}

/* Builds the next line in a->line, dated now_us.  Called with the lock held. */
static int line_build(struct audit *a, const char *actor, const char *action, const char *object,
                      const char *details, size_t len, int64_t now_us)
{
    struct buf *b = &a->line;
    char ts[TIME_ISO_LEN], hex[AUDIT_HEX_LEN];
    unsigned char h[HASH_LEN];
    int r;

    buf_reset(b);
    time_format_iso(now_us, ts, sizeof(ts));
    if ((r = buf_printf(b, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"actor\":", a->seq + 1, ts)) <
            0 ||
        (r = buf_json_str(b, actor, strlen(actor))) < 0 || (r = buf_puts(b, ",\"action\":")) < 0 ||
        (r = buf_json_str(b, action, strlen(action))) < 0 ||
        (r = buf_puts(b, ",\"object\":")) < 0 ||
        (r = buf_json_str(b, object, strlen(object))) < 0 || (r = buf_puts(b, ",\"details\":")) < 0)
        return r;
    if (details) {
        if ((r = details_copy(details, len, b)) < 0)
            return r;
    } else if ((r = buf_puts(b, "{}")) < 0) {
        return r;
    }
    hex_encode(a->prev, HASH_LEN, hex);
    if ((r = buf_printf(b, ",\"prev\":\"%s\"", hex)) < 0)
        return r;
    crypto_hash_sha256(h, (const unsigned char *)b->data, b->len);
    hex_encode(h, HASH_LEN, hex);
    if ((r = buf_printf(b, ",\"hash\":\"%s\"}", hex)) < 0)
        return r;
    /* The newline is not hashed by the next entry's prev (docs/audit.md),
     * so take that hash before adding it. */
    crypto_hash_sha256(a->prev, (const unsigned char *)b->data, b->len);
    memcpy(a->last_hash, h, HASH_LEN);
    return buf_putc(b, '\n');
}

/* Writes one entry and syncs it.  Called with the lock held. */
static int append_locked(struct audit *a, const char *actor, const char *action, const char *object,
                         const char *details, size_t len, int64_t now_us, uint64_t *ret_seq)
{
    unsigned char saved_prev[HASH_LEN], saved_hash[HASH_LEN];
    size_t done = 0;
    int r;

    if (a->failed)
        return a->failed;
    memcpy(saved_prev, a->prev, HASH_LEN);
    memcpy(saved_hash, a->last_hash, HASH_LEN);
    if ((r = line_build(a, actor, action, object, details, len, now_us)) < 0) {
        memcpy(a->prev, saved_prev, HASH_LEN);
        memcpy(a->last_hash, saved_hash, HASH_LEN);
        return r;
    }
    while (done < a->line.len) {
        ssize_t n = write(a->fd, a->line.data + done, a->line.len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO;
            /* Take back a partial line so that the next append does not
             * chain onto garbage; if even that fails, stop appending. */
            if (done > 0 && ftruncate(a->fd, a->size) < 0)
                a->failed = -EIO;
            memcpy(a->prev, saved_prev, HASH_LEN);
            memcpy(a->last_hash, saved_hash, HASH_LEN);
            return r;
        }
        done += (size_t)n;
    }
    /* After a failed fdatasync the kernel may have dropped the dirty pages
     * and cleared the error, so a retry proves nothing: the entry's fate is
     * unknown and the chain cannot safely continue from either state. */
    if (fdatasync(a->fd) < 0) {
        r = -errno;
        a->failed = -EIO;
        return r;
    }
    a->seq++;
    a->size += (off_t)a->line.len;
    if (ret_seq)
        *ret_seq = a->seq;
    return 0;
}

/* ---- seals --------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Replaces the head file with `line` (its newline included): written to
 * PATH.new, synced, renamed over PATH, so a reader sees the old seal or the
 * new one, never half of one. */
static int head_write(const char *path, const char *line, size_t len)
{
    char tmp[4096 + 8];
    int fd, r;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    (void)unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
        return -errno;
    r = write_all(fd, line, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r;
}

struct seal_ctx {
    struct audit *a;
    struct audit_seal *s;
    int64_t now_us;
};

/* Between the signature and the key's evolution: the seal entry goes to
 * disk first, so that a crash leaves the key behind the log (caught up on
 * the next start), never ahead of it. */
static int seal_write(void *arg, const struct archive_key_sig *ks)
{
    struct seal_ctx *c = arg;
    struct buf d;
    int r;

    c->s->ks = *ks;
    buf_init(&d, 1024);
    r = audit_seal_details(c->s, &d);
    if (r == 0)
        r = append_locked(c->a, AUDIT_ACTOR_SYSTEM, AUDIT_SEAL_ACTION, AUDIT_SEAL_OBJECT, d.data,
                          d.len, c->now_us, NULL);
    buf_done(&d);
    return r;
}

/* Seals the entries so far.  Called with the lock held. */
static int seal_locked(struct audit *a, int64_t now_us)
{
    uint8_t msg[AUDIT_SEAL_MSG_LEN];
    struct audit_seal s;
    struct seal_ctx c = {a, &s, now_us};
    int r;

    if (!a->key || a->seal_failed || a->seal_held || a->unsealed == 0)
        return 0;
    if (a->failed)
        return a->failed;
    memset(&s, 0, sizeof(s));
    archive_key_sig_prepare(a->key, &s.ks);
    s.entries = a->seq;
    s.time_us = now_us;
    memcpy(s.head, a->prev, HASH_LEN);
    audit_seal_message(&s, msg);
    r = archive_key_sign(a->key, AUDIT_SEAL_DOMAIN, msg, sizeof(msg), &s.ks, seal_write, &c);
    if (r < 0) {
        /* Either the entry is not written (nothing sealed) or the key did
         * not evolve (a second seal with this epoch would fork the chain):
         * stop sealing until a restart sorts it out. */
        a->seal_failed = 1;
        log_error("audit: %s: sealing failed: %s; no more seals until restart", a->path,
                  strerror(-r));
        return r;
    }
    a->unsealed = 0;
    a->unsealed_since = 0;
    if (a->head_path && (r = head_write(a->head_path, a->line.data, a->line.len)) < 0)
        log_error("audit: exporting the seal of entry %" PRIu64 " to %s: %s", a->seq, a->head_path,
                  strerror(-r));
    return 0;
}

/* Counts a new entry and seals when one is due.  Called with the lock held. */
static void seal_maybe(struct audit *a, int64_t now_us)
{
    if (!a->key)
        return;
    if (a->unsealed++ == 0)
        a->unsealed_since = now_us;
    if ((a->seal_every && a->unsealed >= a->seal_every) ||
        (a->seal_us && now_us - a->unsealed_since >= a->seal_us))
        (void)seal_locked(a, now_us);
}

void audit_seal_release(struct audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->seal_held = 0;
    pthread_mutex_unlock(&a->lock);
}

int audit_seal(struct audit *a)
{
    int r;

    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    r = seal_locked(a, time_now_us());
    pthread_mutex_unlock(&a->lock);
    return r;
}

int audit_tick(struct audit *a, int64_t now_us)
{
    int r = 0;

    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    if (a->key && a->seal_us && a->unsealed && now_us - a->unsealed_since >= a->seal_us)
        r = seal_locked(a, now_us);
    pthread_mutex_unlock(&a->lock);
    return r;
}

int audit_append(struct audit *a, const char *actor, const char *action, const char *object,
                 const char *details, size_t len, uint64_t *ret_seq)
{
    int64_t now;
    int r;

    if (!a)
        return -EINVAL;
    if ((r = name_ok(actor)) < 0 || (r = name_ok(action)) < 0 || (r = name_ok(object)) < 0)
        return r;
    /* Only the log writes seals: one that a caller made would be unsigned. */
    if (strcmp(action, AUDIT_SEAL_ACTION) == 0)
        return -EINVAL;
    if (details && len > AUDIT_DETAILS_MAX)
        return -E2BIG;

    pthread_mutex_lock(&a->lock);
    now = time_now_us();
    r = append_locked(a, actor, action, object, details, len, now, ret_seq);
    if (r == 0)
        seal_maybe(a, now);
    pthread_mutex_unlock(&a->lock);
    return r;
}

int audit_deny(struct audit *a, const char *actor, const char *action, const char *object,
               const char *details, size_t len)
{
    int64_t now;
    uint64_t dropped = 0;
    int allow, r;

    if (!a)
        return -EINVAL;
    pthread_mutex_lock(&a->lock);
    now = time_now_us();
    if (a->deny_at == 0)
        a->deny_tokens = AUDIT_DENY_BURST;
    else
        a->deny_tokens += (double)(now - a->deny_at) / 1e6 * AUDIT_DENY_PER_SEC;
    if (a->deny_tokens > AUDIT_DENY_BURST)
        a->deny_tokens = AUDIT_DENY_BURST;
    a->deny_at = now;
    allow = a->deny_tokens >= 1.0;
    if (allow) {
        a->deny_tokens -= 1.0;
        dropped = a->deny_dropped;
        a->deny_dropped = 0;
    } else {
        a->deny_dropped++;
    }
    pthread_mutex_unlock(&a->lock);
    if (!allow)
        return 0;
    if (dropped) {
        char d[64];
        int n = snprintf(d, sizeof(d), "{\"count\":%" PRIu64 "}", dropped);

        (void)audit_append(a, AUDIT_ACTOR_SYSTEM, "audit.denials_dropped", "audit", d, (size_t)n,
                           NULL);
    }
    r = audit_append(a, actor, action, object, details, len, NULL);
    return r < 0 ? r : 1;
}

void audit_head(struct audit *a, uint64_t *ret_seq, char ret_hash[AUDIT_HEX_LEN])
{
    pthread_mutex_lock(&a->lock);
    if (ret_seq)
        *ret_seq = a->seq;
    if (ret_hash)
        hex_encode(a->last_hash, HASH_LEN, ret_hash);
    pthread_mutex_unlock(&a->lock);
}

/* ---- opening ------------------------------------------------------------- */

static void result_set(struct audit_result *r, uint64_t line, enum audit_why why)
{
    if (r) {
        r->entries = 0;
        r->line = line;
        r->why = why;
    }
}

static int pread_all(int fd, char *p, size_t n, off_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t k = pread(fd, p + done, n - done, off + (off_t)done);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EIO; /* the file shrank under us */
        done += (size_t)k;
    }
    return 0;
}

/*
 * Reads the tail: the last complete line continues the chain, and any bytes
 * after it are a torn write (*ret_torn, hashed into torn_hash) unless they
 * are a whole entry that chains on correctly and lacks only its newline
 * (*ret_unended: an editor dropped it, or the crash fell just before it);
 * such an entry is taken as the new head.  Only the last 2 * AUDIT_LINE_MAX
 * bytes are read: a complete line and a torn one are never longer together.
 */
static int tail_load(struct audit *a, off_t size, size_t *ret_torn, int *ret_unended,
                     unsigned char torn_hash[HASH_LEN], struct audit_result *reterr)
{
    size_t win = size < (off_t)(2 * AUDIT_LINE_MAX) ? (size_t)size : 2 * AUDIT_LINE_MAX;
    off_t off = size - (off_t)win;
    enum audit_why why = AUDIT_MALFORMED;
    struct audit_line li;
    const char *nl, *start;
    char *w = NULL;
    size_t end, torn;
    int r;

    *ret_torn = 0;
    *ret_unended = 0;
    if (win == 0)
        return 0;
    if (!(w = malloc(win)))
        return -ENOMEM;
    if ((r = pread_all(a->fd, w, win, off)) < 0)
        goto out;
    nl = memrchr(w, '\n', win);
    end = nl ? (size_t)(nl - w) + 1 : 0;
    torn = win - end;
    if ((!nl && off > 0) || torn >= AUDIT_LINE_MAX) {
        /* Longer than any line we write: not a torn write of ours. */
        result_set(reterr, 0, AUDIT_MALFORMED);
        r = -EBADMSG;
        goto out;
    }
    a->size = off + (off_t)end;
    if (end > 0) {
        size_t len;

        start = end > 1 ? memrchr(w, '\n', end - 1) : NULL;
        start = start ? start + 1 : w;
        if (start == w && off > 0) {
            result_set(reterr, 0, AUDIT_MALFORMED);
            r = -EBADMSG;
            goto out;
        }
        /* Only the line's own hash can be checked here; its seq and prev
         * are taken on trust until a full audit verify. */
        len = (size_t)(w + end - 1 - start);
        if (line_parse(start, len, &li) < 0 ||
            (why = line_check(start, len, li.seq, NULL, &li)) != AUDIT_OK) {
            result_set(reterr, 0, why);
            r = -EBADMSG;
            goto out;
        }
        a->seq = li.seq;
        memcpy(a->last_hash, li.hash, HASH_LEN);
        crypto_hash_sha256(a->prev, (const unsigned char *)start, len);
    }
    if (torn > 0) {
        if (line_check(w + end, torn, a->seq + 1, a->prev, &li) == AUDIT_OK) {
            a->seq = li.seq;
            memcpy(a->last_hash, li.hash, HASH_LEN);
            crypto_hash_sha256(a->prev, (const unsigned char *)w + end, torn);
            *ret_unended = 1;
        } else {
            crypto_hash_sha256(torn_hash, (const unsigned char *)w + end, torn);
            *ret_torn = torn;
        }
    }
    r = 0;
out:
    free(w);
    return r;
}

int audit_open(const char *path, struct audit **ret_a, struct audit_result *reterr)
{
    struct audit *a = NULL;
    unsigned char torn_hash[HASH_LEN];
    struct stat st;
    size_t torn = 0;
    int unended = 0;
    int r;

    result_set(reterr, 0, AUDIT_OK);
    if (!path || !ret_a)
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    if (!(a = calloc(1, sizeof(*a))))
        return -ENOMEM;
    a->fd = -1;
    pthread_mutex_init(&a->lock, NULL);
    buf_init(&a->line, AUDIT_LINE_MAX);
    if (!(a->path = strdup(path))) {
        r = -ENOMEM;
        goto out;
    }
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (a->fd < 0) {
        r = -errno;
        goto out;
    }
    /* One writer per file: a second process keeping its own idea of the
     * head would fork the chain. */
    if (flock(a->fd, LOCK_EX | LOCK_NB) < 0) {
        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        goto out;
    }
    if (fstat(a->fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    /* 0640 at most, also for a log an older build left world-readable:
     * it names who did what to which incident. */
    if ((st.st_mode & 0027) != 0)
        (void)fchmod(a->fd, st.st_mode & 0740);
    if ((r = tail_load(a, st.st_size, &torn, &unended, torn_hash, reterr)) < 0)
        goto out;
    if (unended) {
        /* A whole, chained entry: give it back its newline rather than
         * drop what may have been acknowledged. */
        errno = 0;
        if (write(a->fd, "\n", 1) != 1 || fdatasync(a->fd) < 0) {
            r = errno ? -errno : -EIO;
            goto out;
        }
        a->size = st.st_size + 1;
        log_warnx("audit: %s: last entry (seq %" PRIu64 ") had no newline; added", path, a->seq);
    }
    if (torn > 0) {
        char hex[AUDIT_HEX_LEN];
        char details[160];
        int n;

        if (ftruncate(a->fd, a->size) < 0 || fdatasync(a->fd) < 0) {
            r = -errno;
            goto out;
        }
        hex_encode(torn_hash, HASH_LEN, hex);
        log_warnx("audit: %s: dropped a torn last line of %zu bytes (sha256 %s)", path, torn, hex);
        n = snprintf(details, sizeof(details), "{\"bytes\":%zu,\"sha256\":\"%s\"}", torn, hex);
        if ((r = audit_append(a, AUDIT_ACTOR_SYSTEM, "audit.torn_tail", "audit", details, (size_t)n,
                              NULL)) < 0)
            goto out;
    }
    *ret_a = a;
    a = NULL;
    r = 0;
out:
    audit_free(a);
    return r;
}

void audit_free(struct audit *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    buf_done(&a->line);
    pthread_mutex_destroy(&a->lock);
    free(a->path);
    free(a->head_path);
    free(a);
}

/* ---- sealing at start-up ------------------------------------------------ */

/*
 * Walks the complete lines of the file from its end towards its start,
 * calling cb on each (its bytes without the newline) until cb returns
 * non-zero (returned) or the start is reached (0).  Reads 256 KiB at a
 * time: with lines of at most AUDIT_LINE_MAX every window holds a whole
 * line.  -errno, -EBADMSG for a line longer than ours.
 */
static int scan_back(int fd, off_t size, int (*cb)(void *ctx, const char *p, size_t len), void *ctx)
{
    const size_t win = 4 * AUDIT_LINE_MAX;
    off_t end = size;
    char *w;
    int r = 0;

    if (!(w = malloc(win)))
        return -ENOMEM;
    while (end > 0 && r == 0) {
        size_t n = end < (off_t)win ? (size_t)end : win;
        off_t off = end - (off_t)n;
        size_t stop;

        if ((r = pread_all(fd, w, n, off)) < 0)
            break;
        /* w[n - 1] is the newline that ends the last line of the window. */
        stop = n - 1;
        for (;;) {
            const char *nl = stop ? memrchr(w, '\n', stop) : NULL;
            size_t from = nl ? (size_t)(nl - w) + 1 : 0;

            if (!nl && off > 0) {
                /* The line starts before the window: read again from it. */
                if (stop == n - 1) {
                    r = -EBADMSG;
                    break;
                }
                end = off + (off_t)stop + 1;
                break;
            }
            if ((r = cb(ctx, w + from, stop - from)) != 0)
                break;
            if (!nl) {
                end = 0;
                break;
            }
            stop = from - 1;
        }
    }
    free(w);
    return r;
}

/* What scan_back looks for: a line of seq `want` (0: none) and the last
 * seal. */
struct find_ctx {
    uint64_t want;
    char *want_line; /* malloc'd copy of the line of seq want */
    size_t want_len;
    int have_seal;
    uint64_t seal_seq;
    struct audit_seal seal;
};

/* 1 when the line is a seal entry by the log itself. */
static int is_seal(const char *p, const struct audit_line *li)
{
    (void)p;
    return jp_span_is(li->action, "\"" AUDIT_SEAL_ACTION "\"") &&
           jp_span_is(li->actor, "\"" AUDIT_ACTOR_SYSTEM "\"") &&
           jp_span_is(li->object, "\"" AUDIT_SEAL_OBJECT "\"");
}

static int find_cb(void *arg, const char *p, size_t len)
{
    struct find_ctx *c = arg;
    struct audit_line li;

    if (line_parse(p, len, &li) < 0)
        return -EBADMSG;
    /* A line whose own hash is wrong is never taken for a seal here;
     * audit verify says where it is. */
    if (line_check(p, len, li.seq, NULL, &li) != AUDIT_OK)
        return 0;
    if (c->want && li.seq == c->want && !c->want_line) {
        if (!(c->want_line = malloc(len + 1)))
            return -ENOMEM;
        memcpy(c->want_line, p, len);
        c->want_line[len] = '\0';
        c->want_len = len;
    }
    if (!c->have_seal && is_seal(p, &li) &&
        audit_seal_parse(li.details.p, li.details.len, &c->seal) == 0) {
        c->have_seal = 1;
        c->seal_seq = li.seq;
    }
    return c->have_seal && (!c->want || c->want_line || li.seq <= c->want) ? 1 : 0;
}

/* Reads the exported head: one seal line.  -ENOENT, -EBADMSG, -errno. */
static int head_read(const char *path, char *buf, size_t cap, size_t *ret_len,
                     struct audit_line *li, struct audit_seal *seal)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, cap);
    close(fd);
    if (n < 0)
        return -errno;
    if (n == 0 || (size_t)n >= cap || buf[n - 1] != '\n')
        return -EBADMSG;
    n--;
    if (line_parse(buf, (size_t)n, li) < 0 ||
        line_check(buf, (size_t)n, li->seq, NULL, li) != AUDIT_OK || !is_seal(buf, li) ||
        audit_seal_parse(li->details.p, li->details.len, seal) < 0)
        return -EBADMSG;
    seal->time_us = li->time_us;
    memcpy(seal->head, li->prev, HASH_LEN);
    if (!audit_seal_sig_ok(seal))
        return -EBADMSG;
    *ret_len = (size_t)n;
    return 0;
}

int audit_seal_start(struct audit *a, const struct audit_seal_opts *o, struct audit_cut *ret)
{
    struct find_ctx fc;
    struct audit_line hl;
    struct audit_seal hs;
    char *head = NULL;
    size_t head_len = 0;
    int have_head = 0, r;

    memset(ret, 0, sizeof(*ret));
    memset(&fc, 0, sizeof(fc));
    memset(&hl, 0, sizeof(hl));
    memset(&hs, 0, sizeof(hs));
    if (o->head_path) {
        if (!(head = malloc(AUDIT_LINE_MAX + 1)))
            return -ENOMEM;
        r = head_read(o->head_path, head, AUDIT_LINE_MAX + 1, &head_len, &hl, &hs);
        if (r == 0) {
            have_head = 1;
            fc.want = hl.seq;
        } else if (r != -ENOENT) {
            snprintf(ret->why, sizeof(ret->why), "the exported head %s is not a seal of ours (%s)",
                     o->head_path, r == -EBADMSG ? "bad form or signature" : strerror(-r));
            goto out;
        }
    }
    r = scan_back(a->fd, a->size, find_cb, &fc);
    if (r < 0) {
        snprintf(ret->why, sizeof(ret->why), "%s: reading back to the last seal: %s", a->path,
                 r == -EBADMSG ? "a malformed line" : strerror(-r));
        goto out;
    }
    r = 0;
    ret->entries = a->seq;
    if (have_head && a->seq < hl.seq) {
        ret->found = AUDIT_CUT;
        ret->expected = hl.seq;
        snprintf(ret->why, sizeof(ret->why),
                 "%s holds %" PRIu64 " entries, but the exported head %s is its entry %" PRIu64
                 " (seal epoch %" PRIu64 "): at least %" PRIu64 " entries are missing",
                 a->path, a->seq, o->head_path, hl.seq, hs.ks.epoch, hl.seq - a->seq);
    } else if (have_head && (!fc.want_line || fc.want_len != head_len ||
                             memcmp(fc.want_line, head, head_len) != 0)) {
        ret->found = AUDIT_REWRITTEN;
        ret->expected = hl.seq;
        snprintf(ret->why, sizeof(ret->why),
                 "%s: entry %" PRIu64 " is not the seal exported to %s (epoch %" PRIu64
                 "): the log was rewritten",
                 a->path, hl.seq, o->head_path, hs.ks.epoch);
    }
    if (o->key) {
        uint64_t k = archive_key_epoch(o->key);
        uint8_t pub[ARCHIVE_PUBKEY_LEN];

        archive_key_pub(o->key, pub);
        if (fc.have_seal && fc.seal.ks.epoch == k) {
            /* The seal reached the disk and the evolved key did not. */
            if ((r = archive_key_evolve_to(o->key, k + 1)) < 0) {
                snprintf(ret->why, sizeof(ret->why),
                         "audit key: catching up to epoch %" PRIu64 ": %s", k + 1, strerror(-r));
                goto out;
            }
        } else if (fc.have_seal && fc.seal.ks.epoch > k) {
            r = -EKEYREJECTED;
            snprintf(ret->why, sizeof(ret->why),
                     "the audit key is at epoch %" PRIu64 " but %s's last seal (entry %" PRIu64
                     ") is epoch %" PRIu64 ": an older copy of the key?",
                     k, a->path, fc.seal_seq, fc.seal.ks.epoch);
            goto out;
        } else if (!ret->found && k > 0 && (!fc.have_seal || fc.seal.ks.epoch + 1 < k)) {
            ret->found = AUDIT_CUT;
            ret->expected = k;
            ret->seals = fc.have_seal ? fc.seal.ks.epoch + 1 : 0;
            snprintf(ret->why, sizeof(ret->why),
                     "the audit key has signed %" PRIu64 " seals but %s holds %" PRIu64 " (%" PRIu64
                     " entries): its tail was cut",
                     k, a->path, ret->seals, a->seq);
        } else if (fc.have_seal && fc.seal.ks.epoch + 1 == k &&
                   sodium_memcmp(fc.seal.ks.next, pub, sizeof(pub)) != 0) {
            r = -EKEYREJECTED;
            snprintf(ret->why, sizeof(ret->why),
                     "the audit key is not the key chain of %s (its last seal, entry %" PRIu64
                     ", names another next key)",
                     a->path, fc.seal_seq);
            goto out;
        }
    }
    if (fc.have_seal)
        ret->seals = fc.seal.ks.epoch + 1;
    pthread_mutex_lock(&a->lock);
    a->key = o->key;
    a->seal_every = o->seal_entries;
    a->seal_us = o->seal_us;
    free(a->head_path);
    a->head_path = o->head_path ? strdup(o->head_path) : NULL;
    /* What follows the last seal is unsealed; the next seal covers it. */
    a->unsealed = fc.have_seal ? a->seq - fc.seal_seq : a->seq;
    a->unsealed_since = a->unsealed ? time_now_us() : 0;
    a->seal_held = ret->found != AUDIT_OK;
    if (o->head_path && !a->head_path)
        r = -ENOMEM;
    pthread_mutex_unlock(&a->lock);
out:
    free(fc.want_line);
    free(head);
    return r;
}

/* ---- verifying ----------------------------------------------------------- */

/* The seals seen so far by a verify walk. */
struct seal_walk {
    const struct audit_verify_opts *o;
    int have;               /* a seal was seen */
    struct audit_seal last; /* the last one */
    uint64_t accept_line;   /* line of the last audit.truncation_accepted, 0: none */
};

/* Checks a seal entry against its own line and the seals before it. */
static enum audit_why seal_check(struct seal_walk *w, const struct audit_line *li,
                                 struct audit_result *ret)
{
    struct audit_seal s;
    char acc[96] = "";

    if (audit_seal_parse(li->details.p, li->details.len, &s) < 0) {
        snprintf(ret->detail, sizeof(ret->detail), "the seal's details are not in its layout");
        return AUDIT_SEAL_BAD;
    }
    if (s.entries + 1 != li->seq || sodium_memcmp(s.head, li->prev, HASH_LEN) != 0) {
        snprintf(ret->detail, sizeof(ret->detail),
                 "the seal names %" PRIu64 " entries and a head that are not those before it",
                 s.entries);
        return AUDIT_SEAL_BAD;
    }
    s.time_us = li->time_us;
    if (!audit_seal_sig_ok(&s)) {
        snprintf(ret->detail, sizeof(ret->detail),
                 "the signature of seal epoch %" PRIu64 " does not verify", s.ks.epoch);
        return AUDIT_SEAL_BAD;
    }
    if (w->accept_line)
        snprintf(acc, sizeof(acc), " (a truncation was accepted at line %" PRIu64 ")",
                 w->accept_line);
    if (w->have) {
        if (s.ks.epoch != w->last.ks.epoch + 1) {
            snprintf(ret->detail, sizeof(ret->detail),
                     "seal epoch %" PRIu64 " follows epoch %" PRIu64 ": seals are missing%s",
                     s.ks.epoch, w->last.ks.epoch, acc);
            return AUDIT_SEAL_GAP;
        }
        if (sodium_memcmp(s.ks.signer, w->last.ks.next, ARCHIVE_PUBKEY_LEN) != 0) {
            snprintf(ret->detail, sizeof(ret->detail),
                     "seal epoch %" PRIu64 " is not signed by the key the seal before it named",
                     s.ks.epoch);
            return AUDIT_SEAL_BAD;
        }
    } else if (w->o && w->o->pub) {
        if (s.ks.epoch != 0) {
            snprintf(ret->detail, sizeof(ret->detail),
                     "the first seal is epoch %" PRIu64 ": seals 0 to %" PRIu64 " are missing%s",
                     s.ks.epoch, s.ks.epoch - 1, acc);
            return AUDIT_SEAL_GAP;
        }
        if (sodium_memcmp(s.ks.signer, w->o->pub, ARCHIVE_PUBKEY_LEN) != 0) {
            snprintf(ret->detail, sizeof(ret->detail),
                     "the first seal is not signed by the verification key");
            return AUDIT_SEAL_BAD;
        }
    }
    w->have = 1;
    w->last = s;
    ret->seals++;
    ret->last_seal_line = li->seq;
    ret->last_epoch = s.ks.epoch;
    return AUDIT_OK;
}

/* After a walk that found no fault: is anything missing at the end? */
static void tail_check(const struct seal_walk *w, struct audit_result *ret)
{
    const struct audit_verify_opts *o = w->o;

    if (!o)
        return;
    if (o->head_line && ret->entries < o->head_seq) {
        ret->why = AUDIT_CUT;
        ret->line = ret->entries + 1;
        snprintf(ret->detail, sizeof(ret->detail),
                 "the exported head is entry %" PRIu64 " (seal epoch %" PRIu64
                 "); the log ends at entry %" PRIu64,
                 o->head_seq, o->head_epoch, ret->entries);
        return;
    }
    if (o->key_epoch > 0 && (!w->have || w->last.ks.epoch + 1 < o->key_epoch)) {
        ret->why = AUDIT_CUT;
        ret->line = ret->entries + 1;
        snprintf(ret->detail, sizeof(ret->detail),
                 "the key has signed %" PRIu64 " seals; the log holds %" PRIu64
                 " (its tail was cut after entry %" PRIu64 ")",
                 o->key_epoch, ret->seals, ret->entries);
    }
}

int audit_verify(const char *path, struct audit_result *ret)
{
    return audit_verify_opts(path, NULL, ret);
}

int audit_verify_opts(const char *path, const struct audit_verify_opts *o, struct audit_result *ret)
{
    /* Room for one longest line plus a read's worth of the next. */
    const size_t cap = AUDIT_LINE_MAX + 64 * 1024;
    unsigned char prev[HASH_LEN] = {0};
    struct seal_walk sw;
    size_t have = 0, start = 0;
    uint64_t lineno = 0;
    int fd = -1, eof = 0, r;
    char *b = NULL;

    memset(ret, 0, sizeof(*ret));
    memset(&sw, 0, sizeof(sw));
    sw.o = o;
    ret->why = AUDIT_OK;
    if (sodium_init() < 0)
        return -EIO;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    /* calloc, not malloc: only read() fills it, which the analyser cannot see. */
    if (!(b = calloc(1, cap))) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        const char *nl = memchr(b + start, '\n', have - start);
        struct audit_line li;
        enum audit_why why;
        size_t len;

        if (!nl) {
            if (have - start >= AUDIT_LINE_MAX) {
                ret->line = lineno + 1;
                ret->why = AUDIT_MALFORMED;
                break;
            }
            if (eof) {
                if (have > start) {
                    ret->line = lineno + 1;
                    ret->why = AUDIT_TRUNCATED;
                } else {
                    tail_check(&sw, ret);
                }
                break;
            }
            memmove(b, b + start, have - start);
            have -= start;
            start = 0;
            for (;;) {
                ssize_t n = read(fd, b + have, cap - have);

                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0) {
                    r = -errno;
                    goto out;
                }
                if (n == 0)
                    eof = 1;
                have += (size_t)n;
                break;
            }
            continue;
        }
        lineno++;
        len = (size_t)(nl - (b + start));
        why = line_check(b + start, len, ret->entries + 1, prev, &li);
        if (why == AUDIT_OK && is_seal(b + start, &li))
            why = seal_check(&sw, &li, ret);
        if (why == AUDIT_OK && jp_span_is(li.action, "\"audit.truncation_accepted\""))
            sw.accept_line = lineno;
        if (why == AUDIT_OK && o && o->head_line && li.seq == o->head_seq &&
            (len != o->head_len || memcmp(b + start, o->head_line, len) != 0)) {
            why = AUDIT_REWRITTEN;
            snprintf(ret->detail, sizeof(ret->detail),
                     "entry %" PRIu64 " is not the seal exported as the head (epoch %" PRIu64 ")",
                     o->head_seq, o->head_epoch);
        }
        if (why != AUDIT_OK) {
            ret->line = lineno;
            ret->why = why;
            break;
        }
        crypto_hash_sha256(prev, (const unsigned char *)b + start, len);
        ret->entries++;
        start += len + 1;
    }
    r = 0;
out:
    free(b);
    close(fd);
    return r;
}

int audit_head_load(const char *path, struct audit_verify_opts *o, char **ret_line)
{
    struct audit_line li = {0};
    struct audit_seal s;
    size_t len = 0;
    char *buf = malloc(AUDIT_LINE_MAX + 1);
    int r;

    memset(&s, 0, sizeof(s));
    if (!buf)
        return -ENOMEM;
    if ((r = sodium_init()) < 0 ||
        (r = head_read(path, buf, AUDIT_LINE_MAX + 1, &len, &li, &s)) < 0) {
        free(buf);
        return r < 0 ? r : -EIO;
    }
    o->head_line = buf;
    o->head_len = len;
    o->head_seq = li.seq;
    o->head_epoch = s.ks.epoch;
    *ret_line = buf;
    return 0;
}

int audit_cli_verify(const char *path, int json, FILE *out)
{
    return audit_cli_verify_opts(path, NULL, json, out);
}

int audit_cli_verify_opts(const char *path, const struct audit_verify_opts *o, int json, FILE *out)
{
    struct audit_result res;
    int r = audit_verify_opts(path, o, &res);

    if (r < 0) {
        if (json) {
            struct buf b;

            buf_init(&b, 2 * 4096 + 64);
            if (buf_json_str(&b, path, strlen(path)) < 0)
                buf_puts(&b, "\"?\"");
            fprintf(out, "{\"path\":%s,\"readable\":false,\"error\":\"%s\"}\n", b.data,
                    strerror(-r));
            buf_done(&b);
        } else {
            fprintf(out, "%s: %s\n", path, strerror(-r));
        }
        return 2;
    }
    if (json) {
        fprintf(out, "{\"readable\":true,\"intact\":%s,\"entries\":%" PRIu64,
                res.why == AUDIT_OK ? "true" : "false", res.entries);
        if (res.why != AUDIT_OK)
            fprintf(out, ",\"line\":%" PRIu64 ",\"reason\":\"%s\"", res.line,
                    audit_why_name(res.why));
        if (res.seals)
            fprintf(out, ",\"seals\":%" PRIu64 ",\"last_seal\":%" PRIu64 ",\"epoch\":%" PRIu64,
                    res.seals, res.last_seal_line, res.last_epoch);
        if (res.detail[0]) {
            /* Our own sentence: printable ASCII without quotes or backslashes. */
            fprintf(out, ",\"detail\":\"%s\"", res.detail);
        }
        fputs("}\n", out);
    } else if (res.why == AUDIT_OK) {
        fprintf(out, "%" PRIu64 " entries, chain intact", res.entries);
        if (res.seals)
            fprintf(out,
                    "; %" PRIu64 " seals, the last at entry %" PRIu64 " (epoch %" PRIu64
                    ")%s; %" PRIu64 " entries after it unsealed",
                    res.seals, res.last_seal_line, res.last_epoch,
                    o && o->pub ? ", signed by the verification key's chain"
                                : ", key chain not checked against a verification key",
                    res.entries - res.last_seal_line);
        fputc('\n', out);
    } else {
        fprintf(out, "line %" PRIu64 ": %s%s%s\n", res.line, audit_why_name(res.why),
                res.detail[0] ? ": " : "", res.detail);
    }
    return res.why == AUDIT_OK ? 0 : 1;
}
