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

/* ---- a bounded JSON checker ---------------------------------------------
 *
 * Only two jobs: prove that a caller's details are one JSON object (and copy
 * it without insignificant whitespace, so it can never hold a newline), and
 * walk the values of a line being verified.  Nothing is decoded.
 */

struct jcur {
    const char *p;
    size_t len;
    size_t pos;
    struct buf *out; /* NULL: check only */
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void j_ws(struct jcur *j)
{
    while (j->pos < j->len && is_ws(j->p[j->pos]))
        j->pos++;
}

static int j_emit(struct jcur *j, size_t from)
{
    if (!j->out)
        return 0;
    return buf_append(j->out, j->p + from, j->pos - from);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k;
    uint32_t cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        k = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        k = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        k = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

/* \uXXXX at j->pos (after the backslash-u); returns the code unit or -1. */
static long j_u4(struct jcur *j)
{
    long v = 0;

    if (j->len - j->pos < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(j->p[j->pos + (size_t)i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    j->pos += 4;
    return v;
}

static int j_string(struct jcur *j)
{
    size_t from = j->pos;

    if (j->pos >= j->len || j->p[j->pos] != '"')
        return -EINVAL;
    j->pos++;
    while (j->pos < j->len) {
        unsigned char c = (unsigned char)j->p[j->pos];
        size_t n;

        if (c == '"') {
            j->pos++;
            return j_emit(j, from);
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            long u;

            if (++j->pos >= j->len)
                return -EINVAL;
            c = (unsigned char)j->p[j->pos++];
            if (c != '\0' && strchr("\"\\/bfnrt", c))
                continue;
            if (c != 'u' || (u = j_u4(j)) < 0)
                return -EINVAL;
            /* A lone surrogate is not a character: JSON texts that carry one
             * are rejected by strict readers, so we reject them too. */
            if (u >= 0xdc00 && u <= 0xdfff)
                return -EINVAL;
            if (u >= 0xd800 && u <= 0xdbff) {
                if (j->len - j->pos < 2 || j->p[j->pos] != '\\' || j->p[j->pos + 1] != 'u')
                    return -EINVAL;
                j->pos += 2;
                u = j_u4(j);
                if (u < 0xdc00 || u > 0xdfff)
                    return -EINVAL;
            }
            continue;
        }
        n = utf8_len((const unsigned char *)j->p + j->pos, j->len - j->pos);
        if (n == 0)
            return -EINVAL;
        j->pos += n;
    }
    return -EINVAL;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int j_digits(struct jcur *j)
{
    size_t from = j->pos;

    while (j->pos < j->len && is_digit(j->p[j->pos]))
        j->pos++;
    return j->pos > from ? 0 : -EINVAL;
}

static int j_number(struct jcur *j)
{
    size_t from = j->pos;

    if (j->pos < j->len && j->p[j->pos] == '-')
        j->pos++;
    if (j->pos < j->len && j->p[j->pos] == '0')
        j->pos++;
    else if (j_digits(j) < 0)
        return -EINVAL;
    if (j->pos < j->len && j->p[j->pos] == '.') {
        j->pos++;
        if (j_digits(j) < 0)
            return -EINVAL;
    }
    if (j->pos < j->len && (j->p[j->pos] == 'e' || j->p[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->len && (j->p[j->pos] == '+' || j->p[j->pos] == '-'))
            j->pos++;
        if (j_digits(j) < 0)
            return -EINVAL;
    }
    return j_emit(j, from);
}

static int j_word(struct jcur *j, const char *w)
{
    size_t n = strlen(w), from = j->pos;

    if (j->len - j->pos < n || memcmp(j->p + j->pos, w, n) != 0)
        return -EINVAL;
    j->pos += n;
    return j_emit(j, from);
}

static int j_value(struct jcur *j, int depth);

/* An object or array at j->pos; `close` is its closing bracket. */
static int j_container(struct jcur *j, int depth, char close)
{
    int r, first = 1;

    if (depth >= AUDIT_JSON_DEPTH)
        return -EINVAL;
    j->pos++;
    if (j->out && (r = buf_putc(j->out, j->p[j->pos - 1])) < 0)
        return r;
    for (;;) {
        j_ws(j);
        if (j->pos >= j->len)
            return -EINVAL;
        if (j->p[j->pos] == close && first) {
            j->pos++;
            return j->out ? buf_putc(j->out, close) : 0;
        }
        if (close == '}') {
            if ((r = j_string(j)) < 0)
                return r;
            j_ws(j);
            if (j->pos >= j->len || j->p[j->pos] != ':')
                return -EINVAL;
            j->pos++;
            if (j->out && (r = buf_putc(j->out, ':')) < 0)
                return r;
        }
        if ((r = j_value(j, depth + 1)) < 0)
            return r;
        j_ws(j);
        if (j->pos >= j->len)
            return -EINVAL;
        if (j->p[j->pos] == close) {
            j->pos++;
            return j->out ? buf_putc(j->out, close) : 0;
        }
        if (j->p[j->pos] != ',')
            return -EINVAL;
        j->pos++;
        if (j->out && (r = buf_putc(j->out, ',')) < 0)
            return r;
        first = 0;
    }
}

static int j_value(struct jcur *j, int depth)
{
    j_ws(j);
    if (j->pos >= j->len)
        return -EINVAL;
    switch (j->p[j->pos]) {
    case '{': return j_container(j, depth, '}');
    case '[': return j_container(j, depth, ']');
    case '"': return j_string(j);
    case 't': return j_word(j, "true");
    case 'f': return j_word(j, "false");
    case 'n': return j_word(j, "null");
    default: return j_number(j);
    }
}

/* Checks that p..len is exactly one JSON object (whitespace around allowed)
 * and appends it, compacted, to `out` (may be NULL). */
static int json_object_check(const char *p, size_t len, struct buf *out)
{
    struct jcur j = {p, len, 0, out};
    int r;

    j_ws(&j);
    if (j.pos >= j.len || j.p[j.pos] != '{')
        return -EINVAL;
    if ((r = j_value(&j, 0)) < 0)
        return r;
    j_ws(&j);
    return j.pos == j.len ? 0 : -EINVAL;
}

/* ---- lines --------------------------------------------------------------- */

static void hex_encode(const unsigned char h[HASH_LEN], char out[AUDIT_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < HASH_LEN; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * HASH_LEN] = '\0';
}

/* Exactly 64 lowercase hex digits: one spelling per hash, so the text of a
 * hash field cannot change while its value stays the same. */
static int hex_decode(const char *p, unsigned char h[HASH_LEN])
{
    for (size_t i = 0; i < 2 * HASH_LEN; i++) {
        if (!is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
            return -EINVAL;
    }
    for (size_t i = 0; i < HASH_LEN; i++)
        h[i] = (unsigned char)(hex_value(p[2 * i]) << 4 | hex_value(p[2 * i + 1]));
    return 0;
}

static int expect(struct jcur *j, const char *lit)
{
    size_t n = strlen(lit);

    if (j->len - j->pos < n || memcmp(j->p + j->pos, lit, n) != 0)
        return -EINVAL;
    j->pos += n;
    return 0;
}

static int expect_hash(struct jcur *j, unsigned char h[HASH_LEN])
{
    if (j->len - j->pos < 2 * HASH_LEN + 1 || hex_decode(j->p + j->pos, h) < 0)
        return -EINVAL;
    j->pos += 2 * HASH_LEN;
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
    struct jcur j = {p, len, 0, NULL};
    size_t from;
    int64_t us;
    size_t tlen;

    if (expect(&j, "{\"seq\":") < 0)
        return -EINVAL;
    /* seq: 1.. without leading zeros, small enough for uint64_t. */
    from = j.pos;
    if (j.pos >= j.len || j.p[j.pos] < '1' || j.p[j.pos] > '9')
        return -EINVAL;
    ret->seq = 0;
    while (j.pos < j.len && is_digit(j.p[j.pos])) {
        if (j.pos - from >= 19)
            return -EINVAL;
        ret->seq = ret->seq * 10 + (uint64_t)(j.p[j.pos] - '0');
        j.pos++;
    }
    if (expect(&j, ",\"time\":") < 0)
        return -EINVAL;
    from = j.pos;
    if (j_string(&j) < 0 || j.pos - from < 2)
        return -EINVAL;
    if (time_parse_iso8601(p + from + 1, j.pos - from - 2, 0, &us, &tlen) < 0 ||
        tlen != j.pos - from - 2)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (expect(&j, strs[i]) < 0 || j_string(&j) < 0)
            return -EINVAL;
    }
    if (expect(&j, ",\"details\":") < 0 || j.pos >= j.len || j.p[j.pos] != '{' ||
        j_value(&j, 0) < 0)
        return -EINVAL;
    if (expect(&j, ",\"prev\":\"") < 0 || expect_hash(&j, ret->prev) < 0)
        return -EINVAL;
    ret->hashed_len = j.pos;
    if (expect(&j, ",\"hash\":\"") < 0 || expect_hash(&j, ret->hash) < 0 || expect(&j, "}") < 0)
        return -EINVAL;
    return j.pos == j.len ? 0 : -EINVAL;
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
        if ((r = json_object_check(details, len, b)) < 0)
            return r;
    } else if ((r = buf_puts(b, "{}")) < 0) {
        return r;
    }
    hex_encode(a->prev, hex);
    if ((r = buf_printf(b, ",\"prev\":\"%s\"", hex)) < 0)
        return r;
    crypto_hash_sha256(h, (const unsigned char *)b->data, b->len);
    hex_encode(h, hex);
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
        hex_encode(a->last_hash, ret_hash);
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
        hex_encode(torn_hash, hex);
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
