/*
 * decode_url.c - a normalised view of an HTTP request target (see
 * decode_url.h for what is undone and why).
 *
 * Everything happens in one arena buffer the size of the input: each pass
 * reads at i and writes at o <= i, so no pass can grow the text, and the
 * number of passes is fixed (DECODE_URL_ROUNDS decoding rounds plus three),
 * which keeps the cost linear in the length whatever the bytes are.
 */
#include "decode/decode_url.h"

#include <errno.h>
#include <string.h>

#include "event/event.h"
#include "util/arena.h"
#include "util/hex.h"

static int is_cont(char ch)
{
    return ((unsigned char)ch & 0xc0) == 0x80;
}

/* "\xHH" as Apache and nginx escape bytes that are not printable. */
static size_t unescape_log(char *b, size_t m)
{
    size_t o = 0;
    int hi, lo;

    for (size_t i = 0; i < m; i++) {
        if (b[i] == '\\' && i + 3 < m && b[i + 1] == 'x' && (hi = hex_value(b[i + 2])) >= 0 &&
            (lo = hex_value(b[i + 3])) >= 0) {
            b[o++] = (char)((hi << 4) | lo);
            i += 3;
        } else {
            b[o++] = b[i];
        }
    }
    return o;
}

/* What an IIS "%uXXXX" stands for when it is ASCII or a look-alike that
 * IIS maps to it (full-width dot, slash and backslash, division slash);
 * -1 for anything else, which stays as written. */
static int unicode_ascii(unsigned v)
{
    if (v < 0x80)
        return (int)v;
    if (v == 0xff0e)
        return '.';
    if (v == 0xff0f || v == 0x2215)
        return '/';
    if (v == 0xff3c || v == 0x2216)
        return '\\';
    return -1;
}

/* One round of %HH and %uXXXX decoding; *changed is set if it did any. */
static size_t percent_round(char *b, size_t m, unsigned *ev, int *changed)
{
    size_t o = 0;
    int h0, h1, h2, h3;

    for (size_t i = 0; i < m; i++) {
        if (b[i] == '%' && i + 2 < m && (h0 = hex_value(b[i + 1])) >= 0 &&
            (h1 = hex_value(b[i + 2])) >= 0) {
            b[o++] = (char)((h0 << 4) | h1);
            i += 2;
            *changed = 1;
            continue;
        }
        if (b[i] == '%' && i + 5 < m && (b[i + 1] == 'u' || b[i + 1] == 'U') &&
            (h0 = hex_value(b[i + 2])) >= 0 && (h1 = hex_value(b[i + 3])) >= 0 &&
            (h2 = hex_value(b[i + 4])) >= 0 && (h3 = hex_value(b[i + 5])) >= 0) {
            unsigned v =
                ((unsigned)h0 << 12) | ((unsigned)h1 << 8) | ((unsigned)h2 << 4) | (unsigned)h3;
            int a = unicode_ascii(v);
            if (a >= 0) {
                b[o++] = (char)a;
                i += 5;
                *changed = 1;
                *ev |= DECODE_URL_EV_UNICODE_ESCAPE;
                continue;
            }
        }
        b[o++] = b[i];
    }
    return o;
}

/*
 * Overlong UTF-8 encodings of ASCII (C0/C1 xx, E0 80|81 xx, F0 80 80|81 xx):
 * invalid UTF-8 that old decoders accepted, so "\xc0\xae" was a dot past
 * every filter looking for one.
 */
static size_t overlong(char *b, size_t m, unsigned *ev, int *changed)
{
    size_t o = 0;

    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)b[i];
        unsigned char c1 = i + 1 < m ? (unsigned char)b[i + 1] : 0;
        unsigned char c2 = i + 2 < m ? (unsigned char)b[i + 2] : 0;

        if ((c == 0xc0 || c == 0xc1) && is_cont((char)c1)) {
            b[o++] = (char)(((c & 1u) << 6) | (c1 & 0x3fu));
            i += 1;
        } else if (c == 0xe0 && (c1 == 0x80 || c1 == 0x81) && is_cont((char)c2)) {
            b[o++] = (char)(((c1 & 1u) << 6) | (c2 & 0x3fu));
            i += 2;
        } else if (c == 0xf0 && c1 == 0x80 && (c2 == 0x80 || c2 == 0x81) && i + 3 < m &&
                   is_cont(b[i + 3])) {
            b[o++] = (char)(((c2 & 1u) << 6) | ((unsigned char)b[i + 3] & 0x3fu));
            i += 3;
        } else {
            b[o++] = b[i];
            continue;
        }
        *changed = 1;
        *ev |= DECODE_URL_EV_OVERLONG_UTF8;
    }
    return o;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* NULs dropped, ASCII lower-cased, '\\' made '/', white space runs made one
 * space. */
static size_t fold(char *b, size_t m, unsigned *ev)
{
    size_t o = 0;

    for (size_t i = 0; i < m; i++) {
        char c = b[i];
        if (c == '\0') {
            *ev |= DECODE_URL_EV_NULL_BYTE;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '\\') {
            c = '/';
            *ev |= DECODE_URL_EV_BACKSLASH;
        } else if (is_space(c)) {
            if (o > 0 && b[o - 1] == ' ')
                continue;
            c = ' ';
        }
        b[o++] = c;
    }
    return o;
}

static int is_boundary(char c)
{
    return c == '/' || c == '=' || c == '&' || c == '?';
}

/*
 * Dot segments: a segment (after '/', or a query value's start) of two or
 * more dots, optionally with ";parameters", becomes ".." and the slashes
 * after it one; "./" after a '/' goes; "//" becomes "/" (except after
 * "scheme:", as in an absolute-form target or a URL in a query value).
 */
static size_t dots(char *b, size_t m, unsigned *ev)
{
    size_t o = 0, i = 0;

    while (i < m) {
        char c = b[i];

        if (c == '.' && (o == 0 || is_boundary(b[o - 1]))) {
            size_t k = i, j;
            int param = 0;

            while (k < m && b[k] == '.')
                k++;
            j = k;
            if (j < m && b[j] == ';') {
                param = 1;
                while (j < m && b[j] != '/')
                    j++;
            }
            if ((j == m || b[j] == '/') && k - i >= 2) {
                if (k - i > 2 || param)
                    *ev |= DECODE_URL_EV_DOT_SEGMENT_TRICK;
                /* o <= i and k >= i + 2: these writes stay behind the reader. */
                b[o++] = '.';
                b[o++] = '.';
                i = j;
                if (i < m) {
                    b[o++] = '/';
                    i++;
                    while (i < m && b[i] == '/') {
                        i++;
                        *ev |= DECODE_URL_EV_DOT_SEGMENT_TRICK;
                    }
                }
                continue;
            }
            if (j < m && b[j] == '/' && k - i == 1 && o > 0 && b[o - 1] == '/') {
                if (param)
                    *ev |= DECODE_URL_EV_DOT_SEGMENT_TRICK;
                i = j + 1;
                continue;
            }
        }
        if (c == '/' && o > 0 && b[o - 1] == '/' && !(o >= 2 && b[o - 2] == ':')) {
            i++;
            continue;
        }
        b[o++] = c;
        i++;
    }
    return o;
}

/* Normalises one part (the path, or the query) in place; returns its new
 * length. */
static size_t normalize_part(char *b, size_t m, int is_path, unsigned opts, unsigned *ev)
{
    if (opts & DECODE_URL_LOG_ESCAPES)
        m = unescape_log(b, m);
    if (!is_path)
        for (size_t i = 0; i < m; i++)
            if (b[i] == '+')
                b[i] = ' ';
    for (int round = 0; round < DECODE_URL_ROUNDS; round++) {
        int changed = 0;

        m = percent_round(b, m, ev, &changed);
        m = overlong(b, m, ev, &changed);
        if (!changed)
            break;
        if (round > 0)
            *ev |= DECODE_URL_EV_DOUBLE_ENCODING;
    }
    m = fold(b, m, ev);
    return dots(b, m, ev);
}

int decode_url_normalize(struct arena *arena, const char *url, size_t n, unsigned opts,
                         struct decode_url_norm *ret)
{
    const char *q = memchr(url, '?', n);
    size_t pn = q ? (size_t)(q - url) : n, pm;
    char *b;

    memset(ret, 0, sizeof(*ret));
    if (!(b = arena_alloc(arena, n + 1)))
        return -ENOMEM;
    memcpy(b, url, pn);
    pm = normalize_part(b, pn, 1, opts, &ret->evasion);
    ret->len = pm;
    if (q) {
        size_t qn = n - pn - 1;
        /* pm <= pn, so the query fits where it was or earlier. */
        b[pm] = '?';
        memcpy(b + pm + 1, q + 1, qn);
        ret->query = b + pm + 1;
        ret->query_len = normalize_part(b + pm + 1, qn, 0, opts, &ret->evasion);
        ret->len = pm + 1 + ret->query_len;
    }
    b[ret->len] = '\0';
    ret->text = b;
    return 0;
}

static int keep(int r)
{
    return r == -ENOMEM ? r : 0;
}

static int add_named(struct event *ev, const char *name, const char *v, size_t n)
{
    return keep(event_add_named(ev, name, strlen(name), v, n));
}

int decode_url_add_fields(struct event *ev, const char *url, size_t n, unsigned opts)
{
    static const struct {
        unsigned bit;
        const char *word;
    } words[] = {
        {DECODE_URL_EV_DOUBLE_ENCODING, "double_encoding"},
        {DECODE_URL_EV_OVERLONG_UTF8, "overlong_utf8"},
        {DECODE_URL_EV_UNICODE_ESCAPE, "unicode_escape"},
        {DECODE_URL_EV_NULL_BYTE, "null_byte"},
        {DECODE_URL_EV_BACKSLASH, "backslash"},
        {DECODE_URL_EV_DOT_SEGMENT_TRICK, "dot_segment_trick"},
    };
    struct decode_url_norm nm;
    int r;

    if ((r = decode_url_normalize(ev->arena, url, n, opts, &nm)) < 0)
        return r;
    if ((r = add_named(ev, "url.normalized", nm.text, nm.len)) < 0)
        return r;
    if (nm.query && (r = add_named(ev, "url.query_normalized", nm.query, nm.query_len)) < 0)
        return r;
    if (nm.evasion) {
        /* Every word once plus a space each: well under 128 bytes. */
        char *w = arena_alloc(ev->arena, 128);
        size_t o = 0;

        if (!w)
            return -ENOMEM;
        for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
            size_t l = strlen(words[k].word);
            if (!(nm.evasion & words[k].bit))
                continue;
            if (o)
                w[o++] = ' ';
            memcpy(w + o, words[k].word, l);
            o += l;
        }
        if ((r = add_named(ev, "url.evasion", w, o)) < 0)
            return r;
    }
    return 0;
}
