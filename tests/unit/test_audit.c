/*
 * test_audit.c - the audit chain: appending, continuing after a reopen, the
 * canonical form, each kind of tampering found at its line for its reason,
 * concurrent appends, and the torn last line a crash leaves; the seals
 * signed with the audit key chain (a cut tail found with the exported head
 * or the key's epoch, a rewrite without the key, a thief with the current
 * key unable to sign the past), and rate-limited denials.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive.h"
#include "incident/audit.h"
#include "util/buf.h"
#include "util/log.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_audit.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    return 0;
}

static int teardown(void **state)
{
    char p[160];

    static const char *const names[] = {"copy.log", "key",      "key.pub",  "key.new",
                                        "head",     "head.new", "key2",     "key2.pub",
                                        "key.old",  "thief",    "copy2.log"};

    (void)state;
    unlink(path);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

/* ---- file helpers ------------------------------------------------------ */

static char *slurp(const char *p, size_t *ret_len)
{
    FILE *f = fopen(p, "rb");
    char *s;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *ret_len = (size_t)n;
    return s;
}

static void spit(const char *p, const char *s, size_t n)
{
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
}

/* Splits a file's text into lines (newlines kept).  At most 64. */
struct lines {
    char *text;
    size_t n;
    const char *at[64];
    size_t len[64];
};

static void lines_load(struct lines *l, const char *p)
{
    size_t total, i = 0;

    l->text = slurp(p, &total);
    l->n = 0;
    while (i < total) {
        const char *nl = memchr(l->text + i, '\n', total - i);
        size_t e = nl ? (size_t)(nl - l->text) + 1 : total;

        assert_true(l->n < 64);
        l->at[l->n] = l->text + i;
        l->len[l->n++] = e - i;
        i = e;
    }
}

/* Writes lines in the given order (indexes into l; -1 ends). */
static void lines_write(const struct lines *l, const char *p, const int *order)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    for (size_t i = 0; order[i] >= 0; i++)
        assert_int_equal(buf_append(&b, l->at[order[i]], l->len[order[i]]), 0);
    spit(p, b.data ? b.data : "", b.len);
    buf_done(&b);
}

static void hex(const unsigned char h[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* SHA-256 in hex of n bytes, computed here independently of audit.c. */
static void sha_hex(const char *p, size_t n, char out[65])
{
    unsigned char h[32];

    crypto_hash_sha256(h, (const unsigned char *)p, n);
    hex(h, out);
}

/* ---- real data --------------------------------------------------------- */

static const char *shared_dir(void)
{
    const char *s = getenv("HIKESHI_SHARED");
    return s && *s ? s : "../shared";
}

/* The first `n` lines of OpenSSH_2k.log with "Failed password" in them:
 * the evidence an analyst cites in an incident update.  Fails when the
 * sample is missing. */
static size_t ssh_failed_lines(char out[][512], size_t n)
{
    char p[512], line[512];
    size_t k = 0;
    FILE *f;

    snprintf(p, sizeof(p), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log", shared_dir());
    f = fopen(p, "r");
    if (!f)
        fail_msg("sample missing: %s", p);
    while (k < n && fgets(line, sizeof(line), f)) {
        if (strstr(line, "Failed password")) {
            line[strcspn(line, "\n")] = '\0';
            memcpy(out[k++], line, sizeof(line));
        }
    }
    fclose(f);
    return k;
}

/* Builds `{"evidence":"<line>","count":N}` with the line JSON-escaped. */
static void evidence(struct buf *b, const char *line, int count)
{
    buf_reset(b);
    assert_int_equal(buf_puts(b, "{ \"evidence\" : "), 0);
    assert_int_equal(buf_json_str(b, line, strlen(line)), 0);
    assert_int_equal(buf_printf(b, ",\n  \"count\": %d }", count), 0);
}

/* ---- appending and continuing ------------------------------------------ */

static void test_append_reopen_verify(void **state)
{
    char real[5][512];
    struct audit_result res;
    struct audit *a = NULL;
    struct lines l;
    struct buf b;
    uint64_t seq = 0;
    char head[AUDIT_HEX_LEN], h[65], want[96];

    (void)state;
    assert_int_equal(ssh_failed_lines(real, 5), 5);
    buf_init(&b, 8192);
    assert_int_equal(audit_open(path, &a, &res), 0);
    audit_head(a, &seq, head);
    assert_int_equal(seq, 0);
    assert_string_equal(head, "0000000000000000000000000000000000000000000000000000000000000000");
    for (int i = 0; i < 3; i++) {
        evidence(&b, real[i], i + 1);
        assert_int_equal(
            audit_append(a, "alice", "incident.note", "incident/42", b.data, b.len, &seq), 0);
        assert_int_equal(seq, (uint64_t)i + 1);
    }
    audit_free(a);

    /* Reopening continues the chain where it stopped. */
    a = NULL;
    assert_int_equal(audit_open(path, &a, &res), 0);
    audit_head(a, &seq, head);
    assert_int_equal(seq, 3);
    for (int i = 3; i < 5; i++) {
        evidence(&b, real[i], i + 1);
        assert_int_equal(audit_append(a, AUDIT_ACTOR_SYSTEM, "incident.update", "incident/42",
                                      b.data, b.len, &seq),
                         0);
    }
    assert_int_equal(audit_append(a, "bob", "incident.close", "incident/42", NULL, 0, &seq), 0);
    assert_int_equal(seq, 6);
    audit_free(a);

    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 6);
    assert_int_equal(res.line, 0);

    /* The canonical form, checked from the bytes with our own SHA-256. */
    lines_load(&l, path);
    assert_int_equal(l.n, 6);
    for (size_t i = 0; i < l.n; i++) {
        const char *line = l.at[i];
        const char *hk = strstr(line, ",\"hash\":\"");
        const char *pk = strstr(line, ",\"prev\":\"");
        char seqs[32];

        snprintf(seqs, sizeof(seqs), "{\"seq\":%zu,\"time\":\"", i + 1);
        assert_true(strncmp(line, seqs, strlen(seqs)) == 0);
        assert_non_null(hk);
        assert_non_null(pk);
        assert_int_equal(line[l.len[i] - 1], '\n');
        /* hash: over the bytes before ,"hash": */
        sha_hex(line, (size_t)(hk - line), h);
        snprintf(want, sizeof(want), ",\"hash\":\"%s\"}\n", h);
        assert_int_equal(strlen(want), l.len[i] - (size_t)(hk - line));
        assert_memory_equal(hk, want, strlen(want));
        /* prev: over the whole previous line without its newline */
        if (i == 0)
            snprintf(h, sizeof(h), "%064d", 0);
        else
            sha_hex(l.at[i - 1], l.len[i - 1] - 1, h);
        assert_memory_equal(pk + 9, h, 64);
    }
    /* Details are stored compacted: the caller's newline and spaces are gone
     * but the real log line is there verbatim. */
    assert_non_null(strstr(l.at[0], "\"details\":{\"evidence\":\""));
    assert_non_null(strstr(l.at[0], ",\"count\":1}"));
    /* The sample has CRLF line ends: the CR is kept, escaped. */
    buf_reset(&b);
    assert_int_equal(buf_json_str(&b, real[1], strlen(real[1])), 0);
    assert_non_null(strstr(b.data, "ssh2\\r\""));
    assert_non_null(memmem(l.at[1], l.len[1], b.data, b.len));
    assert_non_null(strstr(l.at[5], "\"details\":{},"));
    /* audit_head after a reopen names the last line's hash. */
    {
        a = NULL;
        assert_int_equal(audit_open(path, &a, &res), 0);
        audit_head(a, &seq, head);
        assert_int_equal(seq, 6);
        assert_memory_equal(strstr(l.at[5], ",\"hash\":\"") + 9, head, 64);
        audit_free(a);
    }
    free(l.text);
    buf_done(&b);
}

/* ---- what audit_append refuses ----------------------------------------- */

struct bad_details {
    const char *text;
    size_t len; /* 0: strlen */
};

static void test_append_rejects(void **state)
{
    static const struct bad_details table[] = {
        {"", 0},
        {"   ", 0},
        {"[]", 0},
        {"\"text\"", 0},
        {"42", 0},
        {"{", 0},
        {"{\"a\":1", 0},
        {"{\"a\":1,}", 0},
        {"{\"a\" 1}", 0},
        {"{a:1}", 0},
        {"{\"a\":01}", 0},
        {"{\"a\":1.}", 0},
        {"{\"a\":tru}", 0},
        {"{\"a\":1} {}", 0},
        {"{\"a\":1}x", 0},
        {"{\"a\":\"\\x\"}", 0},
        {"{\"a\":\"\\ud800\"}", 0},
        {"{\"a\":\"\\udc00\"}", 0},
        {"{\"a\":\"\xff\"}", 0},
        {"{\"a\":\"\xc0\xaf\"}", 0},
        {"{\"a\":\"tab\there\"}", 0},
        {"{\"a\":\"x\0y\"}", 11},
        {"{\"a\":1}\0", 8},
    };
    struct audit_result res;
    struct audit *a = NULL;
    char deep[200], longname[AUDIT_NAME_MAX + 2];
    uint64_t seq;
    size_t n = 0;

    (void)state;
    assert_int_equal(audit_open(path, &a, &res), 0);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        size_t len = table[i].len ? table[i].len : strlen(table[i].text);
        int r = audit_append(a, "alice", "incident.update", "incident/1", table[i].text, len, NULL);
        if (r != -EINVAL)
            fail_msg("details #%zu accepted or wrong error: %d", i, r);
    }
    /* Nesting past AUDIT_JSON_DEPTH. */
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < AUDIT_JSON_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < AUDIT_JSON_DEPTH; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(audit_append(a, "alice", "x.y", "incident/1", deep, n, NULL), -EINVAL);
    /* ... while the same inside an object one level below the cap passes. */
    n = (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < AUDIT_JSON_DEPTH - 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < AUDIT_JSON_DEPTH - 1; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(audit_append(a, "alice", "x.y", "incident/1", deep, n, &seq), 0);
    assert_int_equal(seq, 1);
    /* Names: empty, NULL, too long. */
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(audit_append(a, "", "x.y", "o", NULL, 0, NULL), -EINVAL);
    assert_int_equal(audit_append(a, NULL, "x.y", "o", NULL, 0, NULL), -EINVAL);
    assert_int_equal(audit_append(a, "alice", "", "o", NULL, 0, NULL), -EINVAL);
    assert_int_equal(audit_append(a, "alice", "x.y", longname, NULL, 0, NULL), -E2BIG);
    assert_int_equal(audit_append(a, "alice", "x.y", "o", "{}", AUDIT_DETAILS_MAX + 1, NULL),
                     -E2BIG);
    /* Valid JSON of every kind is accepted; names are escaped, not refused. */
    assert_int_equal(audit_append(a, "eve\"\n", "x.y", "o",
                                  "{\"s\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\",\"n\":-1.5e+3,"
                                  "\"a\":[true,false,null,{}],\"o\":{\"k\":[]}}",
                                  strlen("{\"s\":\"\\u00e9\\ud83d\\ude00\xc3\xa9\",\"n\":-1.5e+3,"
                                         "\"a\":[true,false,null,{}],\"o\":{\"k\":[]}}"),
                                  &seq),
                     0);
    assert_int_equal(seq, 2);
    audit_free(a);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 2);
}

/* ---- tampering --------------------------------------------------------- */

/* Six entries with real evidence in them. */
static void make_log(void)
{
    char real[6][512];
    struct audit_result res;
    struct audit *a = NULL;
    struct buf b;

    assert_int_equal(ssh_failed_lines(real, 6), 6);
    buf_init(&b, 8192);
    assert_int_equal(audit_open(path, &a, &res), 0);
    for (int i = 0; i < 6; i++) {
        evidence(&b, real[i], i);
        assert_int_equal(audit_append(a, i % 2 ? "alice" : "bob", "incident.note", "incident/7",
                                      b.data, b.len, NULL),
                         0);
    }
    audit_free(a);
    buf_done(&b);
}

/* A line as an attacker would write it: right layout, right own hash. */
static void forge(struct buf *out, unsigned seq, const char *prev_hex)
{
    char h[65];

    buf_reset(out);
    assert_int_equal(buf_printf(out,
                                "{\"seq\":%u,\"time\":\"2024-01-01T00:00:00.000000Z\","
                                "\"actor\":\"mallory\",\"action\":\"incident.close\","
                                "\"object\":\"incident/7\",\"details\":{},\"prev\":\"%s\"",
                                seq, prev_hex),
                     0);
    sha_hex(out->data, out->len, h);
    assert_int_equal(buf_printf(out, ",\"hash\":\"%s\"}\n", h), 0);
}

enum tamper {
    FLIP_ACTOR,
    FLIP_HASH,
    FLIP_SEQ_DIGIT,
    DELETE_LINE,
    SWAP_LINES,
    APPEND_FORGED_WRONG_PREV,
    REWRITE_WITH_OWN_HASH,
    CUT_LAST_NEWLINE,
    INSERT_GARBAGE,
    UPPERCASE_HASH,
    DUPLICATE_LINE,
};

struct tamper_case {
    enum tamper how;
    const char *name;
    uint64_t line;
    enum audit_why why;
    uint64_t entries;
};

static void apply(enum tamper how, const struct lines *l, const char *out)
{
    static const int all[] = {0, 1, 2, 3, 4, 5, -1};
    static const int del[] = {0, 1, 3, 4, 5, -1};
    static const int swap[] = {0, 1, 3, 2, 4, 5, -1};
    static const int dup[] = {0, 1, 2, 2, 3, 4, 5, -1};
    struct buf b;
    char h[65];
    char *t;
    size_t n;

    buf_init(&b, 1 << 20);
    switch (how) {
    case DELETE_LINE: lines_write(l, out, del); break;
    case SWAP_LINES: lines_write(l, out, swap); break;
    case DUPLICATE_LINE: lines_write(l, out, dup); break;
    case FLIP_ACTOR:
    case FLIP_HASH:
    case FLIP_SEQ_DIGIT:
    case UPPERCASE_HASH:
        lines_write(l, out, all);
        t = slurp(out, &n);
        {
            char *line3 = t + (l->at[2] - l->text);
            char *p;

            if (how == FLIP_ACTOR) {
                p = strstr(line3, "\"actor\":\"") + 9;
                *p ^= 1;
            } else if (how == FLIP_HASH) {
                p = strstr(line3, ",\"hash\":\"") + 9 + 10;
                *p = *p == '0' ? '1' : '0';
            } else if (how == FLIP_SEQ_DIGIT) {
                p = line3 + strlen("{\"seq\":");
                *p = '9';
            } else {
                /* Same value, other spelling: the hash field in capitals. */
                p = strstr(line3, ",\"hash\":\"") + 9;
                for (int i = 0; i < 64; i++)
                    if (p[i] >= 'a' && p[i] <= 'f')
                        p[i] = (char)(p[i] - 'a' + 'A');
            }
        }
        spit(out, t, n);
        free(t);
        break;
    case APPEND_FORGED_WRONG_PREV:
        lines_write(l, out, all);
        t = slurp(out, &n);
        assert_int_equal(buf_append(&b, t, n), 0);
        free(t);
        {
            struct buf f;

            buf_init(&f, 4096);
            /* prev of line 5, not of line 6: a fork of the chain. */
            sha_hex(l->at[4], l->len[4] - 1, h);
            forge(&f, 7, h);
            assert_int_equal(buf_append(&b, f.data, f.len), 0);
            buf_done(&f);
        }
        spit(out, b.data, b.len);
        break;
    case REWRITE_WITH_OWN_HASH:
        /* Line 3 replaced by a forgery that chains to line 2 correctly:
         * caught at line 4, whose prev no longer matches. */
        for (int i = 0; i < 6; i++) {
            if (i == 2) {
                struct buf f;

                buf_init(&f, 4096);
                sha_hex(l->at[1], l->len[1] - 1, h);
                forge(&f, 3, h);
                assert_int_equal(buf_append(&b, f.data, f.len), 0);
                buf_done(&f);
            } else {
                assert_int_equal(buf_append(&b, l->at[i], l->len[i]), 0);
            }
        }
        spit(out, b.data, b.len);
        break;
    case CUT_LAST_NEWLINE:
        for (int i = 0; i < 6; i++)
            assert_int_equal(buf_append(&b, l->at[i], l->len[i] - (i == 5 ? 20 : 0)), 0);
        spit(out, b.data, b.len);
        break;
    case INSERT_GARBAGE:
        for (int i = 0; i < 6; i++) {
            if (i == 4)
                assert_int_equal(buf_puts(&b, "{\"seq\":5,\"note\":\"not ours\"}\n"), 0);
            assert_int_equal(buf_append(&b, l->at[i], l->len[i]), 0);
        }
        spit(out, b.data, b.len);
        break;
    }
    buf_done(&b);
}

static void test_tampering(void **state)
{
    static const struct tamper_case table[] = {
        {FLIP_ACTOR, "one byte of an actor changed", 3, AUDIT_HASH_MISMATCH, 2},
        {FLIP_HASH, "one hex digit of a hash changed", 3, AUDIT_HASH_MISMATCH, 2},
        {FLIP_SEQ_DIGIT, "seq rewritten", 3, AUDIT_HASH_MISMATCH, 2},
        {DELETE_LINE, "line 3 deleted", 3, AUDIT_SEQ_GAP, 2},
        {SWAP_LINES, "lines 3 and 4 swapped", 3, AUDIT_SEQ_GAP, 2},
        {DUPLICATE_LINE, "line 3 repeated", 4, AUDIT_SEQ_GAP, 3},
        {APPEND_FORGED_WRONG_PREV, "forged entry appended", 7, AUDIT_PREV_MISMATCH, 6},
        {REWRITE_WITH_OWN_HASH, "entry rewritten, hash recomputed", 4, AUDIT_PREV_MISMATCH, 3},
        {CUT_LAST_NEWLINE, "last line cut short", 6, AUDIT_TRUNCATED, 5},
        {INSERT_GARBAGE, "a foreign line inserted", 5, AUDIT_MALFORMED, 4},
        {UPPERCASE_HASH, "hash respelled in capitals", 3, AUDIT_MALFORMED, 2},
    };
    struct audit_result res;
    struct lines l;
    char copy[160];

    (void)state;
    make_log();
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 6);
    lines_load(&l, path);
    assert_int_equal(l.n, 6);
    snprintf(copy, sizeof(copy), "%s/copy.log", dir);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct tamper_case *c = &table[i];

        apply(c->how, &l, copy);
        assert_int_equal(audit_verify(copy, &res), 0);
        if (res.line != c->line || res.why != c->why || res.entries != c->entries)
            fail_msg("%s: got line %" PRIu64 " %s (%" PRIu64 " entries), want line %" PRIu64
                     " %s (%" PRIu64 ")",
                     c->name, res.line, audit_why_name(res.why), res.entries, c->line,
                     audit_why_name(c->why), c->entries);
    }
    free(l.text);
}

/* ---- the CLI verdicts -------------------------------------------------- */

static char *cli(const char *p, int json, int *ret_rc)
{
    static char out[512];
    FILE *f = fmemopen(out, sizeof(out), "w");

    assert_non_null(f);
    *ret_rc = audit_cli_verify(p, json, f);
    fclose(f);
    return out;
}

static void test_cli(void **state)
{
    char copy[160];
    struct lines l;
    const int del[] = {0, 1, 3, 4, 5, -1};
    int rc;

    (void)state;
    make_log();
    assert_string_equal(cli(path, 0, &rc), "6 entries, chain intact\n");
    assert_int_equal(rc, 0);
    assert_string_equal(cli(path, 1, &rc), "{\"readable\":true,\"intact\":true,\"entries\":6}\n");
    assert_int_equal(rc, 0);

    lines_load(&l, path);
    snprintf(copy, sizeof(copy), "%s/copy.log", dir);
    lines_write(&l, copy, del);
    free(l.text);
    assert_string_equal(cli(copy, 0, &rc), "line 3: seq gap\n");
    assert_int_equal(rc, 1);
    assert_string_equal(cli(copy, 1, &rc), "{\"readable\":true,\"intact\":false,\"entries\":2,"
                                           "\"line\":3,\"reason\":\"seq gap\"}\n");
    assert_int_equal(rc, 1);

    unlink(copy);
    (void)cli(copy, 0, &rc);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(cli(copy, 1, &rc), "\"readable\":false"));
    assert_int_equal(rc, 2);

    /* An empty file is an intact, empty chain. */
    spit(copy, "", 0);
    assert_string_equal(cli(copy, 0, &rc), "0 entries, chain intact\n");
    assert_int_equal(rc, 0);
}

/* ---- concurrency ------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 50

struct worker {
    struct audit *a;
    int id;
    int failures;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        char d[64];
        int n = snprintf(d, sizeof(d), "{\"t\":%d,\"i\":%d}", w->id, i);

        if (audit_append(w->a, "api", "incident.update", "incident/9", d, (size_t)n, NULL) != 0)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    struct worker w[THREADS];
    pthread_t th[THREADS];
    int seen[THREADS][PER_THREAD];
    struct audit_result res;
    struct audit *a = NULL;
    char *text, *p;
    size_t n;

    (void)state;
    memset(seen, 0, sizeof(seen));
    assert_int_equal(audit_open(path, &a, &res), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){a, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    audit_free(a);

    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, THREADS * PER_THREAD);
    /* Every append is there exactly once. */
    text = slurp(path, &n);
    for (p = text; (p = strstr(p, "\"details\":{\"t\":")) != NULL; p++) {
        int t, i;

        assert_int_equal(sscanf(p, "\"details\":{\"t\":%d,\"i\":%d}", &t, &i), 2);
        assert_true(t >= 0 && t < THREADS && i >= 0 && i < PER_THREAD);
        seen[t][i]++;
    }
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++)
            assert_int_equal(seen[t][i], 1);
    free(text);
}

/* ---- crashes and refusals at open -------------------------------------- */

static void test_torn_tail(void **state)
{
    static const char torn[] = "{\"seq\":7,\"time\":\"2024-0";
    struct audit_result res;
    struct audit *a = NULL;
    struct lines l;
    char h[65], want[200];
    uint64_t seq;
    int fd;

    (void)state;
    make_log();
    /* A crash in the middle of write(2): part of a line, no newline. */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, torn, strlen(torn)), (ssize_t)strlen(torn));
    close(fd);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_TRUNCATED);
    assert_int_equal(res.line, 7);

    /* Opening cuts the torn bytes off and records that it did. */
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(audit_open(path, &a, &res), 0);
    audit_head(a, &seq, NULL);
    assert_int_equal(seq, 7);
    assert_int_equal(audit_append(a, "alice", "incident.note", "incident/7", NULL, 0, &seq), 0);
    assert_int_equal(seq, 8);
    audit_free(a);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 8);
    lines_load(&l, path);
    assert_int_equal(l.n, 8);
    assert_non_null(strstr(l.at[6], "\"actor\":\"hikeshi\",\"action\":\"audit.torn_tail\""));
    sha_hex(torn, strlen(torn), h);
    snprintf(want, sizeof(want), "\"details\":{\"bytes\":%zu,\"sha256\":\"%s\"}", strlen(torn), h);
    assert_non_null(strstr(l.at[6], want));
    free(l.text);
}

static void test_unended_last_entry(void **state)
{
    struct audit_result res;
    struct audit *a = NULL;
    uint64_t seq;
    char *t;
    size_t n;

    (void)state;
    make_log();
    /* The last entry whole and chained, only its newline missing: it is
     * kept (it may have been acknowledged), not dropped as torn. */
    t = slurp(path, &n);
    spit(path, t, n - 1);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_TRUNCATED);
    assert_int_equal(res.line, 6);
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(audit_open(path, &a, &res), 0);
    audit_head(a, &seq, NULL);
    assert_int_equal(seq, 6);
    assert_int_equal(audit_append(a, "alice", "incident.note", "incident/7", NULL, 0, &seq), 0);
    assert_int_equal(seq, 7);
    audit_free(a);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 7);
    free(t);
    t = slurp(path, &n);
    assert_null(strstr(t, "audit.torn_tail"));
    free(t);
}

static void test_torn_only_line(void **state)
{
    struct audit_result res;
    struct audit *a = NULL;
    uint64_t seq;

    (void)state;
    /* A crash during the very first append. */
    spit(path, "{\"seq\":1,\"ti", 12);
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(audit_open(path, &a, &res), 0);
    audit_head(a, &seq, NULL);
    assert_int_equal(seq, 1);
    audit_free(a);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 1);
}

static void test_open_refuses_broken_tail(void **state)
{
    struct audit_result res;
    struct audit *a = NULL;
    struct lines l;
    char *t;
    size_t n;

    (void)state;
    make_log();
    lines_load(&l, path);
    /* The last complete line edited: its own hash fails. */
    t = slurp(path, &n);
    t[(l.at[5] - l.text) + strlen("{\"seq\":6,\"time\":\"") + 2] ^= 1;
    spit(path, t, n);
    assert_int_equal(audit_open(path, &a, &res), -EBADMSG);
    assert_null(a);
    assert_int_equal(res.why, AUDIT_HASH_MISMATCH);
    /* ... and with a foreign last line. */
    memcpy(t + n - 5, "xx}\n", 4);
    spit(path, t, n - 1);
    assert_int_equal(audit_open(path, &a, &res), -EBADMSG);
    assert_int_equal(res.why, AUDIT_MALFORMED);
    /* Nothing was appended by the refusals. */
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.line, 6);
    free(t);
    free(l.text);
}

static void test_one_writer(void **state)
{
    struct audit_result res;
    struct audit *a = NULL, *b = NULL;

    (void)state;
    assert_int_equal(audit_open(path, &a, &res), 0);
    assert_int_equal(audit_open(path, &b, &res), -EBUSY);
    assert_null(b);
    audit_free(a);
    assert_int_equal(audit_open(path, &b, &res), 0);
    audit_free(b);
    assert_int_equal(audit_verify("/nonexistent/audit.log", &res), -ENOENT);
    audit_free(NULL);
}

/* ---- seals ------------------------------------------------------------- */

static char kpath[160], ppath[160], hpath[160];

/* A new key chain in dir/key (dir/key.pub) loaded into *ret. */
static void keygen(struct archive_key **ret, uint8_t pub[ARCHIVE_PUBKEY_LEN])
{
    const char *why = NULL;

    snprintf(kpath, sizeof(kpath), "%s/key", dir);
    snprintf(ppath, sizeof(ppath), "%s/key.pub", dir);
    snprintf(hpath, sizeof(hpath), "%s/head", dir);
    assert_int_equal(archive_key_generate(kpath, ppath, pub), 0);
    assert_int_equal(archive_key_load(kpath, ret, &why), 0);
}

/* Opens `p` sealed with key k every `every` entries, head exported to
 * hpath (when head is 1); returns what the start-up check found. */
static struct audit *open_sealed(const char *p, struct archive_key *k, uint64_t every, int head,
                                 struct audit_cut *cut)
{
    struct audit_seal_opts o = {.key = k, .seal_entries = every, .head_path = head ? hpath : NULL};
    struct audit_result res;
    struct audit *a = NULL;

    assert_int_equal(audit_open(p, &a, &res), 0);
    assert_int_equal(audit_seal_start(a, &o, cut), 0);
    return a;
}

static void add(struct audit *a, int i)
{
    char d[64];
    int n = snprintf(d, sizeof(d), "{\"i\":%d}", i);

    assert_int_equal(audit_append(a, "alice", "incident.note", "incident/1", d, (size_t)n, NULL),
                     0);
}

/* 10 lines: entries 1-3, seal (4), 5-7, seal (8), 9, seal (10); the key
 * ends at epoch 3. */
static void make_sealed(struct archive_key *k)
{
    struct audit_cut cut;
    struct audit *a = open_sealed(path, k, 3, 1, &cut);

    assert_int_equal(cut.found, AUDIT_OK);
    for (int i = 1; i <= 6; i++)
        add(a, i);
    add(a, 9);
    assert_int_equal(audit_seal(a), 0);
    assert_int_equal(audit_seal(a), 0); /* nothing new: no seal */
    audit_free(a);
}

static void verify_with(const char *p, const uint8_t *pub, uint64_t key_epoch, int head,
                        struct audit_result *res)
{
    struct audit_verify_opts o;
    char *line = NULL;

    memset(&o, 0, sizeof(o));
    o.pub = pub;
    o.key_epoch = key_epoch;
    if (head)
        assert_int_equal(audit_head_load(hpath, &o, &line), 0);
    assert_int_equal(audit_verify_opts(p, &o, res), 0);
    free(line);
}

/* The JSON string value of "key" in a line, copied to out (no escapes in
 * what we look up: hex and numbers). */
static void field(const char *line, const char *key, char *out, size_t size)
{
    char pat[64];
    const char *at, *end;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    at = strstr(line, pat);
    assert_non_null(at);
    at += strlen(pat);
    if (*at == '"')
        at++;
    end = at + strcspn(at, "\",}");
    assert_true((size_t)(end - at) < size);
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = '\0';
}

static void unhex(const char *h, unsigned char *out, size_t n)
{
    assert_int_equal(strlen(h), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

static void put64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Checks a seal line's signature the way docs/audit.md tells an outsider
 * to, with libsodium alone. */
static int seal_sig_ok_outside(const char *line)
{
    char epoch[32], entries[32], head[80], signer[80], next[80], sig[160], ts[40];
    unsigned char msg[22 + 120], sg[64];
    uint64_t e, n;
    int64_t us;
    struct tm tm;
    unsigned frac;

    field(line, "epoch", epoch, sizeof(epoch));
    field(line, "entries", entries, sizeof(entries));
    field(line, "head", head, sizeof(head));
    field(line, "signer", signer, sizeof(signer));
    field(line, "next", next, sizeof(next));
    field(line, "sig", sig, sizeof(sig));
    field(line, "time", ts, sizeof(ts));
    e = strtoull(epoch, NULL, 10);
    n = strtoull(entries, NULL, 10);
    memset(&tm, 0, sizeof(tm));
    assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    us = (int64_t)timegm(&tm) * 1000000 + frac;
    memcpy(msg, "hikeshi-audit-seal-v1", 22); /* with its NUL */
    put64le(msg + 22, e);
    put64le(msg + 30, n);
    put64le(msg + 38, (uint64_t)us);
    unhex(head, msg + 46, 32);
    unhex(signer, msg + 78, 32);
    unhex(next, msg + 110, 32);
    unhex(sig, sg, 64);
    return crypto_sign_verify_detached(sg, msg, sizeof(msg), msg + 78) == 0;
}

static void test_seal_and_verify(void **state)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL;
    struct audit_result res;
    struct lines l;
    char *hd, signer[80], pubhex[80], prevhex[80];
    size_t hlen;

    (void)state;
    keygen(&k, pub);
    make_sealed(k);
    assert_int_equal(archive_key_epoch(k), 3);

    lines_load(&l, path);
    assert_int_equal(l.n, 10);
    for (size_t i = 0; i < l.n; i++)
        assert_int_equal(memmem(l.at[i], l.len[i], "\"action\":\"audit.seal\"", 21) != NULL,
                         i == 3 || i == 7 || i == 9);
    /* The first seal: epoch 0, by the verification key, 3 entries, head =
     * its prev, and a signature an outsider can check. */
    assert_non_null(strstr(l.at[3], "\"epoch\":0,\"entries\":3,"));
    field(l.at[3], "signer", signer, sizeof(signer));
    hex(pub, pubhex);
    assert_string_equal(signer, pubhex);
    field(l.at[3], "prev", prevhex, sizeof(prevhex));
    sha_hex(l.at[2], l.len[2] - 1, pubhex);
    assert_string_equal(prevhex, pubhex);
    for (size_t i = 0; i < l.n; i++)
        if (i == 3 || i == 7 || i == 9)
            assert_true(seal_sig_ok_outside(l.at[i]));
    /* The head file is the last seal's line. */
    hd = slurp(hpath, &hlen);
    assert_int_equal(hlen, l.len[9]);
    assert_memory_equal(hd, l.at[9], hlen);
    free(hd);
    free(l.text);

    verify_with(path, pub, 3, 1, &res);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 10);
    assert_int_equal(res.seals, 3);
    assert_int_equal(res.last_seal_line, 10);
    assert_int_equal(res.last_epoch, 2);

    /* A caller cannot write a seal of its own. */
    {
        struct audit *a = NULL;
        assert_int_equal(audit_open(path, &a, &res), 0);
        assert_int_equal(audit_append(a, "x", "audit.seal", "audit", NULL, 0, NULL), -EINVAL);
        audit_free(a);
    }
    archive_key_free(k);
}

static void test_seal_truncation(void **state)
{
    const int first8[] = {0, 1, 2, 3, 4, 5, 6, 7, -1};
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL;
    struct audit_result res;
    struct audit_cut cut;
    struct audit *a;
    struct lines l;

    (void)state;
    keygen(&k, pub);
    make_sealed(k);
    lines_load(&l, path);
    lines_write(&l, path, first8); /* the last entry and seal cut off */
    free(l.text);

    /* The chain alone cannot see a clean cut... */
    verify_with(path, pub, 0, 0, &res);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, 8);
    /* ...the exported head can, and says where. */
    verify_with(path, pub, 0, 1, &res);
    assert_int_equal(res.why, AUDIT_CUT);
    assert_int_equal(res.line, 9);
    assert_non_null(strstr(res.detail, "head is entry 10"));
    assert_non_null(strstr(res.detail, "ends at entry 8"));
    /* So can the key's epoch: 3 seals signed, 2 left. */
    verify_with(path, pub, 3, 0, &res);
    assert_int_equal(res.why, AUDIT_CUT);
    assert_non_null(strstr(res.detail, "signed 3 seals; the log holds 2"));

    /* Start-up: with the key alone, the seals; with the head, the counts. */
    a = open_sealed(path, k, 3, 0, &cut);
    assert_int_equal(cut.found, AUDIT_CUT);
    assert_int_equal(cut.expected, 3);
    assert_int_equal(cut.seals, 2);
    audit_free(a);
    a = open_sealed(path, k, 3, 1, &cut);
    assert_int_equal(cut.found, AUDIT_CUT);
    assert_int_equal(cut.expected, 10);
    assert_int_equal(cut.entries, 8);
    assert_non_null(strstr(cut.why, "holds 8 entries"));
    assert_non_null(strstr(cut.why, "entry 10"));
    /* Held: a refused start must not seal the cut log nor move the head. */
    {
        size_t before, after, hb, ha;
        char *h0 = slurp(hpath, &hb), *h1;

        free(slurp(path, &before));
        assert_int_equal(audit_seal(a), 0);
        assert_int_equal(audit_tick(a, INT64_MAX / 2), 0);
        free(slurp(path, &after));
        assert_int_equal(after, before);
        h1 = slurp(hpath, &ha);
        assert_int_equal(ha, hb);
        assert_memory_equal(h0, h1, hb);
        free(h1);
        /* Released (the caller recorded its decision): it seals again. */
        audit_seal_release(a);
        add(a, 99);
        assert_int_equal(audit_seal(a), 0);
        free(slurp(path, &after));
        assert_true(after > before);
        free(h0);
    }
    audit_free(a);
    archive_key_free(k);
}

/* Entries 1..n with entry `changed` saying something else, into p, sealed
 * every 3 with key k (NULL: unsealed). */
static void write_forgery(const char *p, struct archive_key *k, int changed)
{
    struct audit_cut cut;
    struct audit_result res;
    struct audit *a = NULL;

    if (k) {
        a = open_sealed(p, k, 3, 0, &cut);
        /* A stolen key is ahead of a new log: the start-up check holds the
         * seals, and a forger's own program goes on regardless. */
        audit_seal_release(a);
    } else {
        assert_int_equal(audit_open(p, &a, &res), 0);
    }
    for (int i = 1; i <= 6; i++)
        add(a, i == changed ? 1000 + i : i);
    add(a, 9);
    assert_int_equal(audit_seal(a), 0);
    audit_free(a);
}

/* Copies log `from` to `to` with entry 2's details changed and every
 * later line re-chained by hand: prev, a seal's "head", and hash. */
static void rechain_changed(const char *from, const char *to)
{
    struct lines l;
    struct buf out;
    char prev[65], h[65];

    lines_load(&l, from);
    buf_init(&out, 1 << 20);
    for (size_t i = 0; i < l.n; i++) {
        char line[4096], *at;
        size_t n = l.len[i] - 1;

        assert_true(n < sizeof(line));
        memcpy(line, l.at[i], n);
        line[n] = '\0';
        if (i == 1) {
            at = strstr(line, "{\"i\":2}");
            assert_non_null(at);
            at[5] = '8';
        }
        if (i >= 1) {
            at = strstr(line, ",\"prev\":\"");
            assert_non_null(at);
            memcpy(at + 9, prev, 64);
            if ((at = strstr(line, ",\"head\":\"")) != NULL)
                memcpy(at + 9, prev, 64);
            at = strstr(line, ",\"hash\":\"");
            assert_non_null(at);
            sha_hex(line, (size_t)(at - line), h);
            memcpy(at + 9, h, 64);
        }
        sha_hex(line, n, prev);
        assert_int_equal(buf_append(&out, line, n), 0);
        assert_int_equal(buf_putc(&out, '\n'), 0);
    }
    spit(to, out.data, out.len);
    buf_done(&out);
    free(l.text);
}

static void test_seal_rewrite_without_key(void **state)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN], pub2[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL, *k2 = NULL;
    struct audit_result res;
    char copy[160], k2path[160], p2path[160];
    const char *why = NULL;

    (void)state;
    keygen(&k, pub);
    make_sealed(k);
    snprintf(copy, sizeof(copy), "%s/copy.log", dir);

    /* A consistent rewrite, every hash and seal redone with a key chain of
     * the forger's own: whole in itself, refused by the verification key
     * at its first seal, and not the exported head. */
    snprintf(k2path, sizeof(k2path), "%s/key2", dir);
    snprintf(p2path, sizeof(p2path), "%s/key2.pub", dir);
    assert_int_equal(archive_key_generate(k2path, p2path, pub2), 0);
    assert_int_equal(archive_key_load(k2path, &k2, &why), 0);
    write_forgery(copy, k2, 2);
    verify_with(copy, NULL, 0, 0, &res);
    assert_int_equal(res.why, AUDIT_OK); /* form only: a forged chain holds */
    verify_with(copy, pub, 0, 0, &res);
    assert_int_equal(res.why, AUDIT_SEAL_BAD);
    assert_int_equal(res.line, 4);
    assert_non_null(strstr(res.detail, "not signed by the verification key"));
    verify_with(copy, NULL, 0, 1, &res);
    assert_int_equal(res.why, AUDIT_REWRITTEN);
    assert_int_equal(res.line, 10);
    archive_key_free(k2);

    /* The real seals kept, entry 2 changed and every line after it
     * re-chained without the key (prev, the seals' head, hash all redone
     * as the documented form says): the first seal's signature fails. */
    rechain_changed(path, copy);
    verify_with(copy, NULL, 0, 0, &res);
    assert_int_equal(res.why, AUDIT_SEAL_BAD);
    assert_int_equal(res.line, 4);
    assert_non_null(strstr(res.detail, "signature of seal epoch 0"));
    verify_with(copy, pub, 0, 1, &res);
    assert_int_equal(res.why, AUDIT_SEAL_BAD);
    archive_key_free(k);
}

static void test_seal_thief_cannot_resign_past(void **state)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN], cur[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL, *stolen = NULL;
    struct archive_key_sig ks;
    struct audit_result res;
    char copy[160], tpath[160];
    const char *why = NULL;
    size_t n;
    char *kb;

    (void)state;
    keygen(&k, pub);
    make_sealed(k);
    /* The thief copies the key file as it is now (epoch 3). */
    snprintf(tpath, sizeof(tpath), "%s/thief", dir);
    kb = slurp(kpath, &n);
    spit(tpath, kb, n);
    free(kb);
    assert_int_equal(archive_key_load(tpath, &stolen, &why), 0);
    assert_int_equal(archive_key_epoch(stolen), 3);
    /* Its key is epoch 3's, not epoch 0's: nothing it signs passes for a
     * seal of epochs 0 to 2. */
    archive_key_sig_prepare(stolen, &ks);
    assert_int_equal(ks.epoch, 3);
    archive_key_pub(stolen, cur);
    assert_memory_not_equal(cur, pub, sizeof(pub));
    assert_memory_equal(ks.signer, cur, sizeof(cur));

    /* Rewriting the log from entry 2 and re-sealing with the stolen key:
     * the seals start at epoch 3, and the verification key's chain wants 0. */
    snprintf(copy, sizeof(copy), "%s/copy.log", dir);
    write_forgery(copy, stolen, 2);
    verify_with(copy, pub, 0, 0, &res);
    assert_int_equal(res.why, AUDIT_SEAL_GAP);
    assert_int_equal(res.line, 4);
    assert_non_null(strstr(res.detail, "first seal is epoch 3"));
    /* Forcing epoch 0 into a seal line does not help: the signature
     * covers the epoch and the signer must be the verification key. */
    {
        struct lines l;
        char *p;
        const int all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1};

        lines_load(&l, copy);
        p = strstr(l.text + (l.at[3] - l.text), "\"epoch\":3,");
        assert_non_null(p);
        p[8] = '0';
        lines_write(&l, copy, all);
        free(l.text);
        verify_with(copy, pub, 0, 0, &res);
        assert_int_equal(res.why, AUDIT_HASH_MISMATCH); /* the line's own hash first */
    }
    archive_key_free(stolen);
    archive_key_free(k);
}

static void test_seal_key_catch_up(void **state)
{
    uint8_t pub[ARCHIVE_PUBKEY_LEN];
    struct archive_key *k = NULL, *old = NULL;
    struct audit_result res;
    struct audit_cut cut;
    const char *why = NULL;
    struct audit *a;
    size_t n;
    char *kb;

    (void)state;
    keygen(&k, pub);
    a = open_sealed(path, k, 0, 0, &cut);
    add(a, 1);
    /* A crash after the seal reached the disk, before the key evolved:
     * the key file as it was before the seal. */
    kb = slurp(kpath, &n);
    assert_int_equal(audit_seal(a), 0);
    audit_free(a);
    archive_key_free(k);
    spit(kpath, kb, n);
    free(kb);
    assert_int_equal(archive_key_load(kpath, &old, &why), 0);
    assert_int_equal(archive_key_epoch(old), 0);
    a = open_sealed(path, old, 0, 0, &cut);
    assert_int_equal(cut.found, AUDIT_OK);
    assert_int_equal(archive_key_epoch(old), 1); /* caught up */
    add(a, 2);
    assert_int_equal(audit_seal(a), 0);
    audit_free(a);
    verify_with(path, pub, archive_key_epoch(old), 0, &res);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.seals, 2);
    archive_key_free(old);
}

static void test_deny_rate_limited(void **state)
{
    struct audit_result res;
    struct audit *a = NULL;
    int written = 0, r;
    struct lines l;
    char count[32];

    (void)state;
    assert_int_equal(audit_open(path, &a, &res), 0);
    for (int i = 0; i < 100; i++) {
        r = audit_deny(a, "mallory", "api.denied", "api", "{\"status\":403}", 14);
        assert_true(r == 0 || r == 1);
        written += r;
    }
    /* The burst, and at most one more refilled while the loop ran. */
    assert_true(written >= 20 && written <= 21);
    usleep(1100 * 1000);
    assert_int_equal(audit_deny(a, "mallory", "api.denied", "api", NULL, 0), 1);
    audit_free(a);
    assert_int_equal(audit_verify(path, &res), 0);
    assert_int_equal(res.why, AUDIT_OK);
    assert_int_equal(res.entries, (uint64_t)written + 2);
    lines_load(&l, path);
    assert_non_null(strstr(l.at[written], "\"action\":\"audit.denials_dropped\""));
    field(l.at[written], "count", count, sizeof(count));
    assert_int_equal(strtoull(count, NULL, 10), 100 - (uint64_t)written);
    free(l.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_reopen_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_only_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unended_last_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_broken_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_rewrite_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_thief_cannot_resign_past, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_key_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny_rate_limited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
