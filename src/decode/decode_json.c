/*
 * decode_json.c - JSON lines, flattened into event fields.
 *
 * Why a hand-written tokenizer rather than a library: this is the measured
 * hot path (EVE and Zeek feeds run at tens of thousands of records a
 * second), and a DOM library would allocate a node per member and copy every
 * string, only for us to walk the tree once and throw it away.  Here each
 * value is emitted as soon as it is read, as a view into the record; only a
 * string holding escapes is unescaped, once, into the event's arena.
 *
 * The grammar is RFC 8259, strictly: UTF-8 is validated, \u escapes must
 * pair surrogates, numbers follow the JSON number grammar (kept as text, so
 * a 400-digit number costs nothing), and nesting stops at LIMIT_JSON_DEPTH
 * so that recursion is bounded by a constant, not by the input.
 */
#include "decode/decode_json.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decode/decode_fieldid.h"
#include "decode/decode_zeek.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "util/hex.h"
#include "util/limits.h"
#include "util/utf8.h"

/*
 * The names of the previous record, in the order it emitted them: the
 * records of one feed (a Zeek stream, an EVE event type) repeat their
 * member names in the same order, so the n-th name of a record is most
 * often the previous record's n-th, and comparing it with that is cheaper
 * than hashing it into decode_fieldid's cache.  An entry holds its own
 * copy of the name and the dictionary generation of its id.
 */
#define JSON_SEQ 64      /* names remembered per thread */
#define JSON_SEQ_NAME 30 /* the longest name remembered */
struct json_seq_entry {
    uint32_t gen, id;
    uint16_t len; /* 0: empty */
    char name[JSON_SEQ_NAME];
};
static _Thread_local struct json_seq_entry json_seq[JSON_SEQ];

/*
 * A record's top-level members as the previous record wrote them: the
 * m-th member's bytes from its name's opening quote to the ':' after it
 * (`"uid":`, names of 1 to JSON_TPL_KEY - 3 plain bytes) and the id its
 * value went under.  Where the record holds the same bytes at the same
 * place, the name is that one: no scan of it, no copy into the path, no
 * look-up (a Zeek or EVE feed's records differ in their values, rarely
 * in their names).  Kept per thread, with the dictionary generation.
 */
#define JSON_TPL 64
#define JSON_TPL_KEY 32
struct json_tpl_entry {
    uint32_t gen, id;
    uint32_t len; /* bytes in key[]; 0: empty */
    char key[JSON_TPL_KEY];
};
static _Thread_local struct json_tpl_entry json_tpl[JSON_TPL];

struct json_parser {
    const char *p;
    size_t len;
    size_t i; /* next byte to read; always <= len */
    struct event *ev;
    struct parse_err *reterr;
    /* The flattened name of the value being read: path[0..plen).  A plen
     * above LIMIT_FIELD_NAME_LEN means "too long": such fields are dropped. */
    char path[LIMIT_FIELD_NAME_LEN + 1];
    /* The id of the last name emitted, path[0..last_plen); last_plen 0:
     * none, or path was written since (last_id is then FIELD_NONE, the
     * id of an empty name).  An array's elements share their name: one
     * look-up for all of them. */
    size_t last_plen;
    uint32_t last_id;
    uint32_t nth; /* names emitted so far: the index into json_seq */
    uint32_t gen; /* field_generation() */
    /* This thread's json_seq, its address taken once a record: the
     * libraries are built -fPIC, so each access to a _Thread_local is a
     * __tls_get_addr call (relaxed by the linker to a load of %fs, but
     * the compiler still saves and restores the registers a call may
     * clobber around it: 8-10 instructions a member, issue 24). */
    struct json_seq_entry *seq;
    struct json_tpl_entry *tpl; /* json_tpl, likewise */
    uint32_t member;            /* top-level members read: the index into json_tpl */
};

#define PATH_TOO_LONG (LIMIT_FIELD_NAME_LEN + 1)

/* 1 if the n bytes at a and b are the same: for n up to 16 by two loads
 * of each (the first and last 8 or 4 bytes cover them all), without a call
 * to memcmp, which was a few percent of a Zeek record (issue 24). */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return decode_fieldid_load(a, 8) == decode_fieldid_load(b, 8) &&
               decode_fieldid_load(a + n - 8, 8) == decode_fieldid_load(b + n - 8, 8);
    if (n >= 4 && n < 8)
        return decode_fieldid_load(a, 4) == decode_fieldid_load(b, 4) &&
               decode_fieldid_load(a + n - 4, 4) == decode_fieldid_load(b + n - 4, 4);
    if (n >= 1 && n < 4) /* first, middle and last byte: "ts", "uid" */
        return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
    return memcmp(a, b, n) == 0;
}

/* memcpy(d, s, n) inline for n up to 16 (a member name into the path):
 * two overlapping loads and stores. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x = decode_fieldid_load(s, 8), y = decode_fieldid_load(s + n - 8, 8);

        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x = (uint32_t)decode_fieldid_load(s, 4),
                 y = (uint32_t)decode_fieldid_load(s + n - 4, 4);

        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n >= 1 && n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else {
        memcpy(d, s, n);
    }
}

/* 1 if the n bytes (4 to JSON_TPL_KEY) at a and b are the same. */
static inline int same_key(const char *a, const char *b, size_t n)
{
    if (n <= 16)
        return same_bytes(a, b, n);
    return same_bytes(a, b, 16) && same_bytes(a + n - 16, b + n - 16, 16);
}

static int fail(struct json_parser *jp, size_t off, const char *msg)
{
    parse_err_set(jp->reterr, off, msg);
    return -EINVAL;
}

static inline void skip_ws(struct json_parser *jp)
{
    /* Most records have no space between tokens: one test for those. */
    if (jp->i < jp->len && (unsigned char)jp->p[jp->i] > ' ')
        return;
    while (jp->i < jp->len) {
        char c = jp->p[jp->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        jp->i++;
    }
}

/* skip_ws() on a position held in a local (the tokenizer's loops keep
 * p, len and i in registers; through jp they were reloaded after every
 * store to the path, a char array that may alias them: issue 24). */
static inline size_t ws_at(const char *p, size_t len, size_t i)
{
    if (i < len && (unsigned char)p[i] > ' ')
        return i;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* The offset of the first byte from i on that is not a digit (len if
 * none): 16 bytes a step with SSE2 while 16 remain, else a byte at a time
 * (Zeek's times and durations run to 16-20 digits). */
static inline size_t digits_at(const char *p, size_t len, size_t i)
{
#ifdef __SSE2__
    while (len - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* signed compares: a byte from 0x80 on is below '0' */
        __m128i d = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
        unsigned nd = ~(unsigned)_mm_movemask_epi8(d) & 0xffffu;

        if (nd)
            return i + (size_t)__builtin_ctz(nd);
        i += 16;
    }
#endif
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* The 4 hex digits at s (caller checked 4 bytes remain), or -1. */
static long hex4(const char *s)
{
    long v = 0;

    for (int k = 0; k < 4; k++) {
        int h = hex_value(s[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* The bytes a string's text holds as they are: printable ASCII but the
 * quote and the backslash (a table: one load a byte on the hot loop). */
/* clang-format off */
static const unsigned char plain_byte[256] = {
#define PLAIN16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
    PLAIN16(0), PLAIN16(0),
    /* 0x20 - 0x2f: '"' is 0x22 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    PLAIN16(1), PLAIN16(1),
    /* 0x50 - 0x5f: '\\' is 0x5c */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    PLAIN16(1), PLAIN16(1),
    PLAIN16(0), PLAIN16(0), PLAIN16(0), PLAIN16(0), PLAIN16(0), PLAIN16(0), PLAIN16(0), PLAIN16(0),
#undef PLAIN16
};
/* clang-format on */

/* The high bit of each of the 8 bytes of x (little-endian) that is not
 * plain_byte: below 0x20, from 0x80 on, '"' or '\\'.  A byte's test can
 * borrow from the bytes above it only when it is itself one of these, so
 * the lowest bit set is exactly the first such byte. */
static inline uint64_t special8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

    return ((x - ones * 0x20) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
}

/*
 * Validates the string whose opening quote is at jp->i and moves past its
 * closing quote.  *ret_s and *ret_n get the raw text between the quotes and
 * *ret_esc whether it holds any escape.
 */
/* Inlined in its two callers: a record's 50 to 80 strings are short, and
 * the call cost as much as the scan. */
__attribute__((always_inline)) static inline int
scan_string(struct json_parser *jp, const char **ret_s, size_t *ret_n, int *ret_esc)
{
    const unsigned char *p = (const unsigned char *)jp->p;
    size_t start = ++jp->i, i = start, len = jp->len;
    int esc = 0;

    for (;;) {
        /* Fast path: plain printable ASCII, 8 bytes a step, then the byte
         * that ends it (the last 7 bytes of the record one at a time). */
        for (;;) {
            uint64_t x, m;
#ifdef __SSE2__
            /* 16 bytes a step with SSE2 (x86-64's baseline): a byte below
             * 0x20 or from 0x80 on is below 0x20 to the signed compare;
             * the loads stay inside [i, len), SWAR takes the last 15. */
            if (len - i >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
                __m128i sp = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
                unsigned sm = (unsigned)_mm_movemask_epi8(sp);
                if (sm) {
                    i += (size_t)__builtin_ctz(sm);
                    break;
                }
                i += 16;
                continue;
            }
#endif
            if (len - i < 8) {
                while (i < len && plain_byte[p[i]])
                    i++;
                break;
            }
            memcpy(&x, p + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            x = __builtin_bswap64(x); /* the first byte in the low bits */
#endif
            if ((m = special8(x)) != 0) {
                i += (size_t)__builtin_ctzll(m) / 8;
                break;
            }
            i += 8;
        }
        if (i >= len)
            return fail(jp, start - 1, "unterminated string");
        if (p[i] == '"')
            break;
        if (p[i] < 0x20)
            return fail(jp, i, "control character in string");
        if (p[i] >= 0x80) {
            size_t k = utf8_seq(p + i, len - i, NULL);
            if (k == 0)
                return fail(jp, i, "invalid UTF-8 in string");
            i += k;
            continue;
        }
        /* A backslash. */
        esc = 1;
        if (i + 1 >= len)
            return fail(jp, start - 1, "unterminated string");
        switch (p[i + 1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': i += 2; break;
        case 'u': {
            long u;
            if (len - i < 6 || (u = hex4(jp->p + i + 2)) < 0)
                return fail(jp, i, "bad \\u escape");
            if (u >= 0xdc00 && u <= 0xdfff)
                return fail(jp, i, "lone low surrogate");
            if (u >= 0xd800 && u <= 0xdbff) {
                long lo;
                if (len - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u' ||
                    (lo = hex4(jp->p + i + 8)) < 0xdc00 || lo > 0xdfff)
                    return fail(jp, i, "lone high surrogate");
                i += 12;
            } else {
                i += 6;
            }
            break;
        }
        default: return fail(jp, i, "bad escape in string");
        }
    }
    *ret_s = jp->p + start;
    *ret_n = i - start;
    *ret_esc = esc;
    jp->i = i + 1;
    return 0;
}

/*
 * Unescapes the raw string text s (already validated by scan_string) into
 * d, writing at most cap bytes.  Returns the unescaped length, or cap + 1
 * when it does not fit.  Unescaping never lengthens: every escape is at
 * least as long as what it stands for, so cap = n always fits.
 */
static size_t unescape(const char *s, size_t n, char *d, size_t cap)
{
    size_t i = 0, o = 0;

    while (i < n) {
        char tmp[4];
        size_t k;
        const char *src = tmp;

        if (s[i] != '\\') {
            src = s + i;
            k = 1;
            i++;
        } else {
            char e = s[i + 1];
            i += 2;
            switch (e) {
            case 'b':
                tmp[0] = '\b';
                k = 1;
                break;
            case 'f':
                tmp[0] = '\f';
                k = 1;
                break;
            case 'n':
                tmp[0] = '\n';
                k = 1;
                break;
            case 'r':
                tmp[0] = '\r';
                k = 1;
                break;
            case 't':
                tmp[0] = '\t';
                k = 1;
                break;
            case 'u': {
                unsigned long cp = (unsigned long)hex4(s + i);
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned long lo = (unsigned long)hex4(s + i + 2);
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
                k = utf8_put((unsigned)cp, tmp);
                break;
            }
            default:
                tmp[0] = e;
                k = 1;
                break; /* " \ / */
            }
        }
        if (o + k > cap)
            return cap + 1;
        memcpy(d + o, src, k);
        o += k;
    }
    return o;
}

/* Adds one value under the current path; a full event or a name refused by
 * the dictionary only drops the field (counted by event_add). */
__attribute__((always_inline)) static inline int emit(struct json_parser *jp, size_t plen,
                                                      const char *v, size_t n)
{
    uint32_t id;
    int r;

    if (plen > LIMIT_FIELD_NAME_LEN) {
        id = FIELD_NONE;
    } else if (plen == jp->last_plen) {
        id = jp->last_id;
    } else {
        uint32_t k = jp->nth++;

        struct json_seq_entry *e = k < JSON_SEQ ? &jp->seq[k] : NULL;

        if (e && e->len == plen && e->gen == jp->gen && same_bytes(e->name, jp->path, plen)) {
            id = e->id;
        } else {
            id = decode_fieldid_intern(jp->path, plen);
            if (e && plen <= JSON_SEQ_NAME && id != FIELD_NONE) {
                e->gen = jp->gen;
                e->id = id;
                e->len = (uint16_t)plen;
                memcpy(e->name, jp->path, plen);
            }
        }
        jp->last_plen = plen;
        jp->last_id = id;
    }
    r = event_add(jp->ev, id, v, n);

    return r == -ENOMEM ? r : 0;
}

static int parse_value(struct json_parser *jp, size_t plen, int depth);

__attribute__((always_inline)) static inline int parse_number(struct json_parser *jp, size_t plen)
{
    const char *p = jp->p;
    size_t start = jp->i, i = start, len = jp->len;

    if (i < len && p[i] == '-')
        i++;
    if (i >= len || p[i] < '0' || p[i] > '9')
        return fail(jp, i, "bad number");
    if (p[i] == '0')
        i++;
    else
        i = digits_at(p, len, i);
    if (i < len && p[i] == '.') {
        i++;
        if (i >= len || p[i] < '0' || p[i] > '9')
            return fail(jp, i, "bad number fraction");
        i = digits_at(p, len, i);
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= len || p[i] < '0' || p[i] > '9')
            return fail(jp, i, "bad number exponent");
        i = digits_at(p, len, i);
    }
    jp->i = i;
    return emit(jp, plen, p + start, i - start);
}

static int parse_literal(struct json_parser *jp, size_t plen, const char *word, size_t n, int add)
{
    if (jp->len - jp->i < n || !same_bytes(jp->p + jp->i, word, n))
        return fail(jp, jp->i, "unexpected character");
    jp->i += n;
    return add ? emit(jp, plen, word, n) : 0;
}

__attribute__((always_inline)) static inline int parse_string_value(struct json_parser *jp,
                                                                    size_t plen)
{
    const char *s;
    size_t n;
    int esc, r;
    char *d;

    if ((r = scan_string(jp, &s, &n, &esc)) < 0)
        return r;
    if (!esc)
        return emit(jp, plen, s, n);
    d = arena_alloc(jp->ev->arena, n ? n : 1);
    if (!d)
        return -ENOMEM;
    return emit(jp, plen, d, unescape(s, n, d, n));
}

/* A member's value: strings and numbers (most of a record's values) here,
 * without parse_value's call; the rest through it. */
__attribute__((always_inline)) static inline int member_value(struct json_parser *jp, size_t plen,
                                                              int depth)
{
    char c = jp->p[jp->i]; /* jp->i < jp->len: the caller checked */

    if (c == '"')
        return parse_string_value(jp, plen);
    if ((c >= '0' && c <= '9') || c == '-')
        return parse_number(jp, plen);
    return parse_value(jp, plen, depth);
}

static int parse_object(struct json_parser *jp, size_t plen, int depth)
{
    const char *p = jp->p;
    const size_t len = jp->len;
    size_t i = ws_at(p, len, jp->i + 1); /* past '{' */
    int r;

    if (i < len && p[i] == '}') {
        jp->i = i + 1;
        return 0;
    }
    for (;;) {
        const char *k;
        size_t kn, klen = PATH_TOO_LONG, ks;
        int esc;

        if (i >= len || p[i] != '"') { /* most often the name's quote */
            i = ws_at(p, len, i);
            if (i >= len)
                return fail(jp, i, "unterminated object");
            if (p[i] != '"')
                return fail(jp, i, "expected member name");
        }
        if (plen == 0 && jp->member < JSON_TPL) {
            const struct json_tpl_entry *t = &jp->tpl[jp->member];

            if (t->len && t->gen == jp->gen && len - i >= t->len &&
                same_key(p + i, t->key, t->len)) {
                /* The previous record's name here: `"name":` is what
                 * scan_string and the ':' test would have read. */
                size_t n = t->len - 3;

                jp->member++;
                i = ws_at(p, len, i + t->len);
                if (i >= len)
                    return fail(jp, i, "expected a value");
                /* A nested value's names are written after this one. */
                if (p[i] == '{' || p[i] == '[')
                    copy_bytes(jp->path, t->key + 1, n);
                jp->last_plen = n;
                jp->last_id = t->id;
                jp->i = i;
                if ((r = member_value(jp, n, depth)) < 0)
                    return r;
                goto next;
            }
        }
        ks = i;
        jp->i = i;
        if ((r = scan_string(jp, &k, &kn, &esc)) < 0)
            return r;
        i = jp->i;
        /* The member's name is path + "." + key (no dot at the top). */
        jp->last_plen = 0;
        jp->last_id = FIELD_NONE; /* what an empty name (plen 0) gets */
        if (plen + (plen > 0) <= LIMIT_FIELD_NAME_LEN) {
            size_t base = plen + (plen > 0), room = LIMIT_FIELD_NAME_LEN - base, u;

            /* plen <= LIMIT_FIELD_NAME_LEN - 1 here: path has room. */
            if (plen > 0)
                jp->path[plen] = '.'; /* cppcheck-suppress arrayIndexOutOfBoundsCond */
            if (esc) {
                u = unescape(k, kn, jp->path + base, room);
            } else if (kn <= room) {
                copy_bytes(jp->path + base, k, kn);
                u = kn;
            } else {
                u = room + 1;
            }
            if (u <= room)
                klen = base + u;
        }
        /* Zeek's and EVE's writers put no blank around ':' and ',': one
         * test for ':' and the value's first byte, one for the ','. */
        if (i + 1 < len && p[i] == ':' && (unsigned char)p[i + 1] > ' ') {
            i++;
        } else {
            i = ws_at(p, len, i);
            if (i >= len || p[i] != ':')
                return fail(jp, i, "expected ':'");
            i = ws_at(p, len, i + 1);
            if (i >= len)
                return fail(jp, i, "expected a value");
        }
        jp->i = i;
        if ((r = member_value(jp, klen, depth)) < 0)
            return r;
        if (plen == 0 && jp->member < JSON_TPL) {
            /* Remembered for the next record when a value went under
             * exactly this name (not under a nested one: those are
             * longer) and the ':' follows the name's quote. */
            struct json_tpl_entry *t = &jp->tpl[jp->member++];

            if (!esc && kn >= 1 && kn + 3 <= JSON_TPL_KEY && jp->last_plen == klen &&
                jp->last_id != FIELD_NONE && p[ks + kn + 2] == ':') {
                t->gen = jp->gen;
                t->id = jp->last_id;
                t->len = (uint32_t)(kn + 3);
                memcpy(t->key, p + ks, kn + 3);
            } else {
                t->len = 0;
            }
        }
    next:
        i = jp->i;
        if (i < len && p[i] == ',') {
            i++;
            continue;
        }
        i = ws_at(p, len, i);
        if (i >= len)
            return fail(jp, i, "unterminated object");
        if (p[i] == '}') {
            jp->i = i + 1;
            return 0;
        }
        if (p[i] != ',')
            return fail(jp, i, "expected ',' or '}'");
        i++;
    }
}

static int parse_array(struct json_parser *jp, size_t plen, int depth)
{
    int r;

    jp->i++; /* '[' */
    skip_ws(jp);
    if (jp->i < jp->len && jp->p[jp->i] == ']') {
        jp->i++;
        return 0;
    }
    for (;;) {
        skip_ws(jp);
        /* Every element is flattened under the array's own name. */
        if ((r = parse_value(jp, plen, depth)) < 0)
            return r;
        skip_ws(jp);
        if (jp->i >= jp->len)
            return fail(jp, jp->i, "unterminated array");
        if (jp->p[jp->i] == ']') {
            jp->i++;
            return 0;
        }
        if (jp->p[jp->i] != ',')
            return fail(jp, jp->i, "expected ',' or ']'");
        jp->i++;
    }
}

static int parse_value(struct json_parser *jp, size_t plen, int depth)
{
    if (jp->i >= jp->len)
        return fail(jp, jp->i, "expected a value");
    switch (jp->p[jp->i]) {
    case '{':
    case '[':
        if (depth + 1 > LIMIT_JSON_DEPTH)
            return fail(jp, jp->i, "nesting too deep");
        if (jp->p[jp->i] == '{')
            return parse_object(jp, plen, depth + 1);
        return parse_array(jp, plen, depth + 1);
    case '"': return parse_string_value(jp, plen);
    case 't': return parse_literal(jp, plen, "true", 4, 1);
    case 'f': return parse_literal(jp, plen, "false", 5, 1);
    case 'n': return parse_literal(jp, plen, "null", 4, 0);
    default:
        if (jp->p[jp->i] == '-' || (jp->p[jp->i] >= '0' && jp->p[jp->i] <= '9'))
            return parse_number(jp, plen);
        return fail(jp, jp->i, "unexpected character");
    }
}

/* ---- ECS aliases for known shapes ---- */

/* The first value of the product field `name`, or NULL. */
/*
 * The id of one of this file's own names (a string literal: the same
 * address always holds the same name), remembered per thread by that
 * address: every record asks for a dozen of them (the shape's markers, the
 * time members), most of which a feed never has.  An entry holds for the
 * dictionary that answered (gen) and, for a name it did not have, while it
 * has not grown (count).
 */
#define JSON_LIT_SLOTS 64
static _Thread_local struct {
    const char *name;
    uint32_t id, gen, count;
} json_lit[JSON_LIT_SLOTS];

static uint32_t lit_id(const char *name)
{
    size_t h = ((uintptr_t)name >> 3) & (JSON_LIT_SLOTS - 1);
    uint32_t gen = field_generation(), count = field_count();

    if (json_lit[h].name == name && json_lit[h].gen == gen &&
        (json_lit[h].id != FIELD_NONE || json_lit[h].count == count))
        return json_lit[h].id;
    json_lit[h].name = name;
    json_lit[h].gen = gen;
    json_lit[h].count = count;
    json_lit[h].id = decode_fieldid_lookup(name, strlen(name));
    return json_lit[h].id;
}

/*
 * The names every record is asked about (the shapes' markers, the time
 * members), their ids resolved at once per thread and kept while the
 * dictionary neither changes generation nor grows: two calls a record
 * instead of a lit_id() (two calls, a slot's compare) for each of twenty
 * names (issue 24: 0.5k instructions a Zeek record).  Under the same
 * dictionary, an id or FIELD_NONE for each is what lit_id() answers.
 */
enum {
    L_EVENT_TYPE,
    L_MACH_TIME,
    L_PATH,
    L_STREAM,
    L_TS,
    L_ID_ORIG_H,
    L_ID_ORIG_H_,
    L_FUID,
    L_NOTE,
    L_ACTIONS,
    L_EVENTID,
    L_TIME0, /* set_time()'s names, in its order */
    L_NLIT = L_TIME0 + 9
};
static const char *const lit_names[L_NLIT] = {
    "event_type", "mach_time", "_path", "@stream", "ts", "id.orig_h", "id_orig_h", "fuid", "note",
    "actions", "EventID",
    /* set_time(): the first five as ISO 8601 or a number since the epoch,
     * the rest as ISO 8601 only */
    "@timestamp", "timestamp", "TimeCreated", "EventTime", "ts", "eventTime", "published", "time",
    "requestReceivedTimestamp"};
static _Thread_local struct json_lit_table {
    int valid;
    uint32_t gen, count;
    uint32_t id[L_NLIT];
    /* The names by their id's low byte: slot[id & 255] is 1 + the first k
     * whose id has that byte (0: none), next[k] 1 + the next such k. */
    uint8_t slot[256], next[L_NLIT];
    uint64_t time_mask; /* bit id & 63 of each time member's id */
} json_lits;

/* This thread's table, brought up to date (its address once: see
 * json_parser.seq on _Thread_local in these -fPIC libraries). */
static const struct json_lit_table *lits(void)
{
    struct json_lit_table *t = &json_lits;
    uint32_t gen = field_generation(), count = field_count();

    if (!t->valid || t->gen != gen || t->count != count) {
        memset(t->slot, 0, sizeof(t->slot));
        t->time_mask = 0;
        for (size_t k = L_NLIT; k-- > 0;) {
            uint32_t id = decode_fieldid_lookup(lit_names[k], strlen(lit_names[k]));

            t->id[k] = id;
            t->next[k] = 0;
            if (id != FIELD_NONE && k >= L_TIME0)
                t->time_mask |= 1ull << (id & 63);
            if (id != FIELD_NONE) {
                t->next[k] = t->slot[id & 255];
                t->slot[id & 255] = (uint8_t)(k + 1);
            }
        }
        t->valid = 1;
        t->gen = gen;
        t->count = count;
    }
    return t;
}

/* `name`: a string literal (see lit_id). */
static const char *get(const struct event *ev, const char *name, size_t *ret_n)
{
    uint32_t id = lit_id(name);

    return id == FIELD_NONE ? NULL : event_get(ev, id, ret_n);
}

static int has(const struct event *ev, const char *name)
{
    size_t n;

    return get(ev, name, &n) != NULL;
}

/* Adds `to` = value of `from` unless `to` is already set (an ECS record
 * already carries its own). */
static int alias(struct event *ev, const char *from, uint32_t to)
{
    size_t n, m;
    const char *v = get(ev, from, &n);
    int r;

    if (!v || event_get(ev, to, &m))
        return 0;
    r = event_add(ev, to, v, n);
    return r == -ENOMEM ? r : 0;
}

static int alias_named(struct event *ev, const char *from, const char *to)
{
    uint32_t id = decode_fieldid_intern(to, strlen(to));

    return id == FIELD_NONE ? 0 : alias(ev, from, id);
}

static int add_lower(struct event *ev, uint32_t id, const char *v, size_t n)
{
    size_t k;
    char *d;
    int r;

    for (k = 0; k < n; k++)
        if (v[k] >= 'A' && v[k] <= 'Z')
            break;
    if (k < n) {
        if (!(d = arena_strndup(ev->arena, v, n)))
            return -ENOMEM;
        for (; k < n; k++)
            if (d[k] >= 'A' && d[k] <= 'Z')
                d[k] = (char)(d[k] - 'A' + 'a');
        v = d;
    }
    r = event_add(ev, id, v, n);
    return r == -ENOMEM ? r : 0;
}

static int alias_lower(struct event *ev, const char *from, uint32_t to)
{
    size_t n, m;
    const char *v = get(ev, from, &n);

    if (!v || event_get(ev, to, &m))
        return 0;
    return add_lower(ev, to, v, n);
}

static int add_prefixed(struct event *ev, uint32_t id, const char *prefix, const char *v, size_t n)
{
    size_t m;
    char *s;
    int r;

    if (event_get(ev, id, &m))
        return 0;
    if (!(s = arena_printf(ev->arena, "%s%.*s", prefix, (int)n, v)))
        return -ENOMEM;
    r = event_add(ev, id, s, strlen(s));
    return r == -ENOMEM ? r : 0;
}

static int add_const(struct event *ev, uint32_t id, const char *s)
{
    size_t m;
    int r;

    if (event_get(ev, id, &m))
        return 0;
    r = event_add(ev, id, s, strlen(s));
    return r == -ENOMEM ? r : 0;
}

/* Splits a request target into url.path and url.query. */
static int add_url_parts(struct event *ev, const char *v, size_t n)
{
    const char *q = memchr(v, '?', n);
    size_t m;
    int r;

    if (event_get(ev, FIELD_URL_PATH, &m))
        return 0;
    r = event_add(ev, FIELD_URL_PATH, v, q ? (size_t)(q - v) : n);
    if (r == 0 && q)
        r = event_add(ev, FIELD_URL_QUERY, q + 1, n - (size_t)(q - v) - 1);
    return r == -ENOMEM ? r : 0;
}

static int aliases_eve(struct event *ev)
{
    size_t n;
    const char *type = get(ev, "event_type", &n);
    const char *url;
    int r = 0;

    r = r ? r : alias(ev, "src_ip", FIELD_SOURCE_IP);
    r = r ? r : alias(ev, "src_port", FIELD_SOURCE_PORT);
    r = r ? r : alias(ev, "dest_ip", FIELD_DESTINATION_IP);
    r = r ? r : alias(ev, "dest_port", FIELD_DESTINATION_PORT);
    r = r ? r : alias_lower(ev, "proto", FIELD_NETWORK_TRANSPORT);
    r = r ? r : alias_lower(ev, "app_proto", FIELD_NETWORK_PROTOCOL);
    if (!r && type)
        r = add_prefixed(ev, FIELD_EVENT_DATASET, "suricata.", type, n);
    /* What each side of a flow sent, and DNS query names, under their ECS
     * names for the outbound detectors (docs/anomaly.md).  The flow block
     * of an alert is a snapshot of the flow so far: only flow records, which
     * close it, carry totals. */
    if (!r && type && n == 4 && memcmp(type, "flow", 4) == 0) {
        r = alias(ev, "flow.bytes_toserver", FIELD_SOURCE_BYTES);
        r = r ? r : alias(ev, "flow.bytes_toclient", FIELD_DESTINATION_BYTES);
    }
    if (!r && type && n == 3 && memcmp(type, "dns", 3) == 0) {
        r = alias_named(ev, "dns.rrname", "dns.question.name");                 /* EVE v1, v2 */
        r = r ? r : alias_named(ev, "dns.queries.rrname", "dns.question.name"); /* v3 */
        r = r ? r : alias_named(ev, "dns.rrtype", "dns.question.type");
        r = r ? r : alias_named(ev, "dns.queries.rrtype", "dns.question.type");
    }
    if (!r && type && n == 5 && memcmp(type, "alert", 5) == 0) {
        r = r ? r : alias(ev, "alert.signature", FIELD_RULE_NAME);
        r = r ? r : alias(ev, "alert.signature_id", FIELD_RULE_ID);
        r = r ? r : alias(ev, "alert.category", FIELD_RULE_CATEGORY);
        r = r ? r : alias(ev, "alert.severity", FIELD_EVENT_SEVERITY);
        r = r ? r : alias(ev, "alert.action", FIELD_EVENT_ACTION);
        r = r ? r : add_const(ev, FIELD_EVENT_KIND, "alert");
    }
    r = r ? r : alias(ev, "http.url", FIELD_URL_ORIGINAL);
    r = r ? r : alias_named(ev, "http.hostname", "url.domain");
    r = r ? r : alias(ev, "http.http_method", FIELD_HTTP_REQUEST_METHOD);
    r = r ? r : alias(ev, "http.status", FIELD_HTTP_RESPONSE_STATUS_CODE);
    r = r ? r : alias(ev, "http.http_user_agent", FIELD_USER_AGENT_ORIGINAL);
    r = r ? r : alias(ev, "http.http_refer", FIELD_HTTP_REQUEST_REFERRER);
    if (!r && (url = get(ev, "http.url", &n)))
        r = add_url_parts(ev, url, n);
    return r;
}

static int aliases_windows(struct event *ev)
{
    int r = 0;

    r = r ? r : alias(ev, "EventID", FIELD_EVENT_CODE);
    r = r ? r : alias(ev, "Hostname", FIELD_HOST_NAME);
    r = r ? r : alias(ev, "Computer", FIELD_HOST_NAME);
    r = r ? r : alias_named(ev, "Channel", "winlog.channel");
    r = r ? r : alias(ev, "CommandLine", FIELD_PROCESS_COMMAND_LINE);
    r = r ? r : alias_named(ev, "Image", "process.executable");
    r = r ? r : alias(ev, "TargetUserName", FIELD_USER_NAME);
    return r;
}

/* Joins every value of `from` with `sep` into one new field `to` (unless
 * `to` is set); the result is no longer than the record it comes from. */
static int add_joined(struct event *ev, const char *from, const char *sep, const char *to)
{
    uint32_t id = field_lookup(from, strlen(from)), tid = field_intern(to, strlen(to));
    size_t total = 0, o = 0, m, seplen = strlen(sep);
    char *d;
    int r;

    if (id == FIELD_NONE || tid == FIELD_NONE || event_get(ev, tid, &m))
        return 0;
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].id == id)
            total += ev->fields[i].len + seplen;
    if (total == 0)
        return 0;
    if (!(d = arena_alloc(ev->arena, total)))
        return -ENOMEM;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (ev->fields[i].id != id)
            continue;
        if (o) {
            memcpy(d + o, sep, seplen);
            o += seplen;
        }
        memcpy(d + o, ev->fields[i].val, ev->fields[i].len);
        o += ev->fields[i].len;
    }
    r = event_add(ev, tid, d, o);
    return r == -ENOMEM ? r : 0;
}

/* Apple Endpoint Security events as `eslogger` writes them (event_type is
 * es_event_type_t, 9 exec, 13 create): ECS names for the exec's new image,
 * the image that called exec (the parent's, after a fork), the argument
 * vector joined into one command line, and the created file's path. */
static int aliases_eslogger(struct event *ev)
{
    int r = 0;

    r = r ? r : alias_named(ev, "event.exec.target.executable.path", "process.executable");
    if (!r && has(ev, "event.exec.target.executable.path"))
        r = alias_named(ev, "process.executable.path", "process.parent.executable");
    r = r ? r : alias_named(ev, "process.executable.path", "process.executable");
    r = r ? r : add_joined(ev, "event.exec.args", " ", "process.command_line");
    r = r ? r : alias_named(ev, "event.exec.cwd.path", "process.working_directory");
    r = r ? r : alias_named(ev, "event.create.destination.existing_file.path", "file.path");
    if (!r) {
        size_t dn, fn, m;
        const char *dv = get(ev, "event.create.destination.new_path.dir.path", &dn);
        const char *fv = get(ev, "event.create.destination.new_path.filename", &fn);
        uint32_t fp = field_intern("file.path", 9);
        char *s;

        if (dv && fv && fp != FIELD_NONE && !event_get(ev, fp, &m)) {
            if (!(s = arena_printf(ev->arena, "%.*s/%.*s", (int)dn, dv, (int)fn, fv)))
                return -ENOMEM;
            r = event_add(ev, fp, s, strlen(s));
            r = r == -ENOMEM ? r : 0;
        }
    }
    return r;
}

/* Sets the event time from the first of the object's own time members that
 * parses (fields from index `first` on).  pre[k] is the first field of
 * set_time's k-th name among the fields [first, before), found by
 * decode_json's pass under the ids pre_ids (those of that time): unless
 * the dictionary changed those since, only the fields the aliases added
 * from `before` on are scanned again. */
static int set_time(struct event *ev, const struct decode_ctx *ctx, uint32_t first, uint32_t before,
                    const struct event_field *const *pre, const uint32_t *pre_ids)
{
    /* The first five (lit_names from L_TIME0) as ISO 8601 or a number
     * since the epoch, then the time members of cloud and SaaS audit
     * records (CloudTrail eventTime, Okta published, Azure and eslogger
     * time, Kubernetes audit requestReceivedTimestamp) as ISO 8601 only:
     * `time` is too common a name to take a bare number in it for a date. */
    enum { NAMES = L_NLIT - L_TIME0, EPOCH_OK = 5 };
    const struct tz *tz = ctx ? ctx->tz : NULL;
    const struct event_field *at[NAMES];
    const struct json_lit_table *lt = lits();
    const uint32_t *ids = lt->id + L_TIME0;
    uint64_t mask = lt->time_mask;
    uint32_t from = before;

    /* A name that had no id at the pass is in no field before `before`;
     * one whose id changed (the dictionary replaced) takes a full scan. */
    if (memcmp(pre_ids, ids, sizeof(*ids) * NAMES) != 0)
        for (size_t k = 0; k < NAMES; k++)
            if (pre_ids[k] != FIELD_NONE && pre_ids[k] != ids[k])
                from = first;
    if (from == first)
        memset(at, 0, sizeof(at));
    else
        memcpy(at, pre, sizeof(at));
    /* The first own value of each name, in one pass over the fields from
     * there (the mask skips most fields with one test). */
    for (uint32_t i = from; mask && i < ev->nfields; i++) {
        const struct event_field *f = &ev->fields[i];

        if (!(mask >> (f->id & 63) & 1))
            continue;
        for (size_t k = 0; k < NAMES; k++)
            if (f->id == ids[k] && !at[k])
                at[k] = f;
    }
    for (size_t k = 0; k < NAMES; k++) {
        size_t n, used;
        int64_t us;
        const char *v;

        if (!at[k])
            continue;
        v = at[k]->val;
        n = at[k]->len;
        if ((time_parse_iso8601(v, n, tz, &us, &used) == 0 ||
             (k < EPOCH_OK && time_parse_epoch(v, n, &us, &used) == 0)) &&
            used == n)
            return event_set_time(ev, us, v, n);
    }
    return 0;
}

/*
 * Zeek's Kafka writer (and Apache Metron's Bro plugin) wraps each record in
 * an object named by its stream: {"dns":{"ts":...,"uid":...}}.  When the
 * object's first member is an object whose first member is "ts", returns 1
 * with the stream name in *ret_s and *ret_n and the offset of the inner '{' in
 * *ret_inner; else 0.  Only peeks: nothing is emitted.
 */
static int zeek_wrapped(const struct json_parser *jp, const char **ret_s, size_t *ret_n,
                        size_t *ret_inner)
{
    const char *p = jp->p;
    size_t i = jp->i + 1, len = jp->len, k;

    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i >= len || p[i] != '"')
        return 0;
    k = ++i;
    while (i < len && i - k <= 32 &&
           ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
        i++;
    if (i >= len || p[i] != '"' || i == k || i - k > 32)
        return 0;
    *ret_n = i - k;
    for (i++; i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'); i++)
        ;
    if (i >= len || p[i] != ':')
        return 0;
    for (i++; i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'); i++)
        ;
    if (i >= len || p[i] != '{')
        return 0;
    *ret_inner = i;
    for (i++; i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'); i++)
        ;
    if (len - i < 4 || memcmp(p + i, "\"ts\"", 4) != 0)
        return 0;
    *ret_s = p + k;
    return 1;
}

/* Parses the wrapped record of zeek_wrapped(): the inner object's members
 * under their own names.  Returns 1 when the outer object held nothing
 * else, 0 when it did (the caller parses the whole object again), or a
 * negative errno. */
static int parse_wrapped(struct json_parser *jp, size_t inner)
{
    int r;

    jp->i = inner;
    if ((r = parse_object(jp, 0, 2)) < 0)
        return r;
    skip_ws(jp);
    if (jp->i >= jp->len || jp->p[jp->i] != '}')
        return 0;
    jp->i++;
    return 1;
}

int decode_json(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    struct json_parser jp;
    uint32_t first = ev->nfields;
    const char *stream = NULL;
    size_t stream_n = 0, inner;
    const struct event_field *time_at[L_NLIT - L_TIME0];
    uint32_t time_ids[L_NLIT - L_TIME0], time_before;
    int r = 0;

    jp.p = p;
    jp.len = len;
    jp.i = 0;
    jp.ev = ev;
    jp.reterr = reterr;
    jp.last_plen = 0;
    jp.last_id = FIELD_NONE;
    jp.nth = 0;
    jp.gen = field_generation();
    jp.seq = json_seq;
    jp.tpl = json_tpl;
    jp.member = 0;
    skip_ws(&jp);
    if (jp.i >= len || p[jp.i] != '{')
        return -ENOENT;
    if (zeek_wrapped(&jp, &stream, &stream_n, &inner)) {
        size_t at = jp.i;

        if ((r = parse_wrapped(&jp, inner)) < 0)
            return r;
        if (r == 1) {
            r = 0;
        } else {
            /* more members beside the stream's: an ordinary object */
            ev->nfields = first;
            stream = NULL;
            jp.i = at;
            jp.member = 0;
        }
    }
    if (!stream && (r = parse_object(&jp, 0, 1)) < 0)
        return r;
    skip_ws(&jp);
    if (jp.i != len)
        return fail(&jp, jp.i, "data after the object");

    /* The markers' first values, in one pass over the event's fields (a
     * has() each scanned them all when the name was in the dictionary). */
    {
        const struct json_lit_table *lt = lits();
        const uint32_t *ids = lt->id;
        const struct event_field *at[L_NLIT] = {NULL};
        uint32_t before = ev->nfields;

        memcpy(time_ids, ids + L_TIME0, sizeof(time_ids));
        /* The markers' first fields from 0 (has() looked there), the
         * time members' from `first` (set_time's own): one pass, each
         * field's candidates by its id's low byte (lits()). */
        for (uint32_t i = 0; i < before; i++) {
            const struct event_field *f = &ev->fields[i];

            for (unsigned s = lt->slot[f->id & 255]; s; s = lt->next[s - 1]) {
                size_t k = s - 1;

                if (f->id == ids[k] && !at[k] && (k < L_TIME0 || i >= first))
                    at[k] = f;
            }
        }
        memcpy(time_at, at + L_TIME0, sizeof(time_at));
        time_before = before;
#define HAS(k) (at[k] != NULL)
        /* eslogger records carry an event_type too, as a number. */
        if (HAS(L_EVENT_TYPE) && HAS(L_MACH_TIME))
            r = aliases_eslogger(ev);
        else if (HAS(L_EVENT_TYPE))
            r = aliases_eve(ev);
        /* A notice without a connection (Scan::*, SSH::Password_Guessing)
         * has neither id.orig_h nor fuid; Zeek's plain JSON writer names no
         * stream, and notice.log always logs its ACTION_LOG in actions.
         * The stream: the wrapper's member name (the Kafka writer's
         * {"dns":{...}}), else an _path or @stream member, else inferred
         * by decode_zeek_ecs() from the columns. */
        else if (stream || HAS(L_PATH) || HAS(L_STREAM) ||
                 (HAS(L_TS) && (HAS(L_ID_ORIG_H) || HAS(L_ID_ORIG_H_) || HAS(L_FUID) ||
                                (HAS(L_NOTE) && HAS(L_ACTIONS))))) {
            if (!stream && HAS(L_PATH)) {
                stream = at[L_PATH]->val;
                stream_n = at[L_PATH]->len;
            } else if (!stream && HAS(L_STREAM)) {
                stream = at[L_STREAM]->val;
                stream_n = at[L_STREAM]->len;
            }
            r = decode_zeek_ecs(ev, stream, stream_n);
        }
        /* EventID among the record's fields or those the aliases added.
         * Not in the dictionary at the pass above, it is in no field: the
         * aliases add only ECS names. */
        if (!r && ids[L_EVENTID] != FIELD_NONE) {
            int win = HAS(L_EVENTID);

            for (uint32_t i = before; !win && i < ev->nfields; i++)
                win = ev->fields[i].id == ids[L_EVENTID];
            if (win)
                r = aliases_windows(ev);
        }
#undef HAS
    }
    if (!r)
        r = set_time(ev, ctx, first, time_before, time_at, time_ids);
    if (r < 0)
        return r;
    ev->decoder = "json";
    return 0;
}
