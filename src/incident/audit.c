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

#include "event/time.h"
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
};

/* One parsed line.  `hashed_len` is where `,"hash":` starts: the bytes the
 * hash field covers. */
struct audit_line {
    uint64_t seq;
    unsigned char prev[HASH_LEN];
    unsigned char hash[HASH_LEN];
    size_t hashed_len;
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
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (expect(&j, strs[i]) < 0 || expect_value(&j, '"', 0, NULL) < 0)
            return -EINVAL;
    }
    if (expect(&j, ",\"details\":") < 0 || expect_value(&j, '{', AUDIT_JSON_DEPTH, NULL) < 0)
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

/* Builds the next line in a->line.  Called with the lock held. */
static int line_build(struct audit *a, const char *actor, const char *action, const char *object,
                      const char *details, size_t len)
{
    struct buf *b = &a->line;
    char ts[TIME_ISO_LEN], hex[AUDIT_HEX_LEN];
    unsigned char h[HASH_LEN];
    int r;

    buf_reset(b);
    time_format_iso(time_now_us(), ts, sizeof(ts));
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

int audit_append(struct audit *a, const char *actor, const char *action, const char *object,
                 const char *details, size_t len, uint64_t *ret_seq)
{
    unsigned char saved_prev[HASH_LEN], saved_hash[HASH_LEN];
    size_t done = 0;
    int r;

    if (!a)
        return -EINVAL;
    if ((r = name_ok(actor)) < 0 || (r = name_ok(action)) < 0 || (r = name_ok(object)) < 0)
        return r;
    if (details && len > AUDIT_DETAILS_MAX)
        return -E2BIG;

    pthread_mutex_lock(&a->lock);
    if (a->failed) {
        r = a->failed;
        goto out;
    }
    memcpy(saved_prev, a->prev, HASH_LEN);
    memcpy(saved_hash, a->last_hash, HASH_LEN);
    if ((r = line_build(a, actor, action, object, details, len)) < 0) {
        memcpy(a->prev, saved_prev, HASH_LEN);
        memcpy(a->last_hash, saved_hash, HASH_LEN);
        goto out;
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
            goto out;
        }
        done += (size_t)n;
    }
    /* After a failed fdatasync the kernel may have dropped the dirty pages
     * and cleared the error, so a retry proves nothing: the entry's fate is
     * unknown and the chain cannot safely continue from either state. */
    if (fdatasync(a->fd) < 0) {
        r = -errno;
        a->failed = -EIO;
        goto out;
    }
    a->seq++;
    a->size += (off_t)a->line.len;
    if (ret_seq)
        *ret_seq = a->seq;
    r = 0;
out:
    pthread_mutex_unlock(&a->lock);
    return r;
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
    free(a);
}

/* ---- verifying ----------------------------------------------------------- */

int audit_verify(const char *path, struct audit_result *ret)
{
    /* Room for one longest line plus a read's worth of the next. */
    const size_t cap = AUDIT_LINE_MAX + 64 * 1024;
    unsigned char prev[HASH_LEN] = {0};
    size_t have = 0, start = 0;
    uint64_t lineno = 0;
    int fd = -1, eof = 0, r;
    char *b = NULL;

    ret->entries = 0;
    ret->line = 0;
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

int audit_cli_verify(const char *path, int json, FILE *out)
{
    struct audit_result res;
    int r = audit_verify(path, &res);

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
        if (res.why == AUDIT_OK)
            fprintf(out, "{\"readable\":true,\"intact\":true,\"entries\":%" PRIu64 "}\n",
                    res.entries);
        else
            fprintf(out,
                    "{\"readable\":true,\"intact\":false,\"entries\":%" PRIu64 ",\"line\":%" PRIu64
                    ",\"reason\":\"%s\"}\n",
                    res.entries, res.line, audit_why_name(res.why));
    } else if (res.why == AUDIT_OK) {
        fprintf(out, "%" PRIu64 " entries, chain intact\n", res.entries);
    } else {
        fprintf(out, "line %" PRIu64 ": %s\n", res.line, audit_why_name(res.why));
    }
    return res.why == AUDIT_OK ? 0 : 1;
}
