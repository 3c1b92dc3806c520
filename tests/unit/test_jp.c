/*
 * test_jp.c - util/jp.c, the one JSON reader outside the decoder: the typed
 * pull readers, the value skipper and its compact copy, spans (documents,
 * iteration, lookup by key), terminal text; and util/hex.h's digest
 * spelling, which the audit log reads with it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hex.h"
#include "util/jp.h"
#include "util/limits.h"

/* A heap copy of exactly the bytes of s (no NUL), so that ASan sees a read
 * past the end. */
static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);

    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* ---- the typed readers ------------------------------------------------- */

static void test_string(void **state)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        {"\"plain\"", "plain"},
        {"  \"a\\\"b\\\\c\\/d\"", "a\"b\\c/d"},
        {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t"},
        {"\"\\u00e9\\u20ac\"", "\xc3\xa9\xe2\x82\xac"},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
        {"\"raw \xc3\xa9 \xf0\x9f\x98\x80\"", "raw \xc3\xa9 \xf0\x9f\x98\x80"},
        {"\"\"", ""},
    };
    static const struct {
        const char *in, *msg;
        size_t off;
    } bad[] = {
        {"12", "wrong type: expected a string", 0},
        {"\"abc", "unterminated string", 4},
        {"\"a\\", "unterminated string", 2},
        {"\"a\x01\"", "control character in string", 2},
        {"\"\\x41\"", "bad escape", 3},
        {"\"\\u12g4\"", "bad \\u escape", 3},
        {"\"\\udc00\"", "lone low surrogate", 7},
        {"\"\\ud800x\"", "lone high surrogate", 7},
        {"\"\\ud800\\u0041\"", "lone high surrogate", 7},
        {"\"\\u0000\"", "NUL in string", 7},
        {"\"\xc3\"", "invalid UTF-8 in string", 1},
        {"\"\xc0\xaf\"", "invalid UTF-8 in string", 1},
        {"\"\xed\xa0\x80\"", "invalid UTF-8 in string", 1},
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string", 1},
        {"\"toolong\"", "string too long", 8},
    };
    char out[7];
    size_t n;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct parse_err pe = {0};
        char *p = exact(good[i].in, strlen(good[i].in));
        struct jp j = {p, strlen(good[i].in), 0, &pe, NULL, 0};
        char big[64];

        assert_int_equal(jp_string(&j, big, sizeof(big) - 1, &n), 0);
        assert_string_equal(big, good[i].out);
        assert_int_equal(n, strlen(good[i].out));
        assert_int_equal(j.off, j.len);
        free(p);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct parse_err pe = {0};
        char *p = exact(bad[i].in, strlen(bad[i].in));
        struct jp j = {p, strlen(bad[i].in), 0, &pe, NULL, 0};

        assert_int_equal(jp_string(&j, out, sizeof(out) - 1, &n), -EINVAL);
        assert_string_equal(pe.msg, bad[i].msg);
        assert_int_equal(pe.off, bad[i].off);
        free(p);
    }
}

static void test_numbers(void **state)
{
    static const char doc[] = "[18446744073709551615, -9223372036854775808, 1.5e3, 0]";
    struct parse_err pe = {0};
    struct jp j = {doc, sizeof(doc) - 1, 0, &pe, NULL, 0};
    char why[64];
    uint64_t u;
    int64_t i;
    double d;
    int first = 1;

    assert_int_equal(jp_expect(&j, '[', "x"), 0);
    assert_int_equal(jp_element(&j, &first), 1);
    assert_int_equal(jp_u64(&j, &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(jp_element(&j, &first), 1);
    assert_int_equal(jp_i64(&j, &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(jp_element(&j, &first), 1);
    assert_int_equal(jp_double(&j, &d), 0);
    assert_true(d == 1500.0);
    assert_int_equal(jp_element(&j, &first), 1);
    assert_int_equal(jp_u64(&j, &u), 0);
    assert_int_equal(jp_element(&j, &first), 0);
    assert_int_equal(jp_end(&j), 0);

    j = (struct jp){"007", 3, 0, &pe, why, sizeof(why)};
    assert_int_equal(jp_u64(&j, &u), -EINVAL);
    assert_string_equal(pe.msg, "leading zero in integer");
    assert_string_equal(why, "leading zero in integer at byte 3");
    j = (struct jp){"18446744073709551616", 20, 0, &pe, NULL, 0};
    assert_int_equal(jp_u64(&j, &u), -EINVAL);
    assert_string_equal(pe.msg, "integer out of range");
    j = (struct jp){"1.", 2, 0, &pe, NULL, 0};
    assert_int_equal(jp_double(&j, &d), -EINVAL);
    assert_string_equal(pe.msg, "bad number");
    j = (struct jp){"-x", 2, 0, &pe, NULL, 0};
    assert_int_equal(jp_double(&j, &d), -EINVAL);
    assert_string_equal(pe.msg, "wrong type: expected a number");
    assert_int_equal(pe.off, 0);
    j = (struct jp){"1e999", 5, 0, &pe, NULL, 0};
    assert_int_equal(jp_double(&j, &d), -EINVAL);
    assert_string_equal(pe.msg, "number out of range");
}

static void test_member(void **state)
{
    static const char doc[] = "{\"name\":\"x\", \"a_key_longer_than_thirty_two_bytes_here\":1}";
    struct parse_err pe = {0};
    struct jp j = {doc, sizeof(doc) - 1, 0, &pe, NULL, 0};
    char key[JP_KEY_MAX + 1], v[8];
    uint64_t u;
    int first = 1;

    assert_int_equal(jp_expect(&j, '{', "x"), 0);
    assert_int_equal(jp_member(&j, &first, key), 1);
    assert_string_equal(key, "name");
    assert_int_equal(jp_string(&j, v, sizeof(v) - 1, NULL), 0);
    assert_int_equal(jp_member(&j, &first, key), 1);
    assert_int_equal(strlen(key), JP_KEY_MAX);
    assert_int_equal(jp_u64(&j, &u), 0);
    assert_int_equal(jp_member(&j, &first, key), 0);
    assert_int_equal(jp_end(&j), 0);

    j = (struct jp){"{\"a\" 1}", 7, 0, &pe, NULL, 0};
    first = 1;
    assert_int_equal(jp_expect(&j, '{', "x"), 0);
    assert_int_equal(jp_member(&j, &first, key), -EINVAL);
    assert_string_equal(pe.msg, "expected ':'");
    assert_int_equal(pe.off, 5);
}

/* ---- values of any kind ------------------------------------------------ */

static void test_skip_good(void **state)
{
    static const char *const good[] = {
        "0",
        "-0",
        "-12.5e+3",
        "1E2",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\u0000b\"", /* valid JSON: only the C-string readers refuse it */
        "\"\\ud83d\\ude00 \xe2\x82\xac\"",
        "[]",
        "{}",
        "[1, [2, {\"a\": [null]}], \"x\"]",
        "{ \"k\" : { \"k\" : [ ] } , \"\xc3\xa9\" : -1 }",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t n = strlen(good[i]);
        char *p = exact(good[i], n);
        struct parse_err pe = {0};
        struct jp j = {p, n, 0, &pe, NULL, 0};
        struct jp_span sp = {NULL, 0};

        if (jp_skip(&j, 0, &sp) != 0)
            fail_msg("%s: %s at %zu", good[i], pe.msg, pe.off);
        assert_ptr_equal(sp.p, p);
        assert_int_equal(sp.len, n);
        assert_int_equal(j.off, n);
        free(p);
    }
}

static void test_skip_bad(void **state)
{
    static const struct {
        const char *in, *msg;
        size_t off;
    } bad[] = {
        {"", "expected a value", 0},
        {"   ", "expected a value", 3},
        {"tru", "expected a value", 0},
        {"nul", "expected a value", 0},
        {"+1", "expected a value", 0},
        {"1.", "bad number", 2},
        {"1e", "bad number", 2},
        {"-", "wrong type: expected a number", 0},
        {"[1,]", "expected a value", 3},
        {"[1 2]", "expected ',' or ']'", 3},
        {"{\"a\":1,}", "expected a key", 7},
        {"{\"a\" 1}", "expected ':'", 5},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'", 7},
        {"{1:2}", "expected a key", 1},
        {"[\"a\x1f\"]", "control character in string", 3},
        {"[\"\xff\"]", "invalid UTF-8 in string", 2},
        {"[\"\\udc00\"]", "lone low surrogate", 8},
        {"{\"a\":[}", "expected a value", 6},
        {"[", "expected a value", 1},
        {"\"abc", "unterminated string", 4},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i].in);
        char *p = exact(bad[i].in, n);
        struct parse_err pe = {0};
        struct jp j = {p, n, 0, &pe, NULL, 0};

        assert_int_equal(jp_skip(&j, 0, NULL), -EINVAL);
        if (strcmp(pe.msg, bad[i].msg) != 0 || pe.off != bad[i].off)
            fail_msg("%s: got \"%s\" at %zu, want \"%s\" at %zu", bad[i].in, pe.msg, pe.off,
                     bad[i].msg, bad[i].off);
        free(p);
    }
}

/* `levels` nested arrays: [[[...]]]. */
static char *nested(size_t levels, size_t *ret_len)
{
    char *p = malloc(2 * levels);

    assert_non_null(p);
    memset(p, '[', levels);
    memset(p + levels, ']', levels);
    *ret_len = 2 * levels;
    return p;
}

static void test_skip_depth(void **state)
{
    struct parse_err pe = {0};
    size_t n;
    char *p = nested(LIMIT_JSON_DEPTH, &n);
    struct jp j = {p, n, 0, &pe, NULL, 0};

    assert_int_equal(jp_skip(&j, 0, NULL), 0);
    free(p);
    p = nested(LIMIT_JSON_DEPTH + 1, &n);
    j = (struct jp){p, n, 0, &pe, NULL, 0};
    assert_int_equal(jp_skip(&j, 0, NULL), -EINVAL);
    assert_string_equal(pe.msg, "nested too deep");
    assert_int_equal(pe.off, LIMIT_JSON_DEPTH);
    /* A caller's own, smaller bound; a larger one is capped. */
    j = (struct jp){p, 2 * 3, 0, &pe, NULL, 0};
    memcpy(p + 3, "]]]", 3);
    assert_int_equal(jp_skip(&j, 3, NULL), 0);
    j.off = 0;
    assert_int_equal(jp_skip(&j, 2, NULL), -EINVAL);
    memset(p, '[', LIMIT_JSON_DEPTH + 1);
    j = (struct jp){p, n, 0, &pe, NULL, 0};
    assert_int_equal(jp_skip(&j, 1000, NULL), -EINVAL);
    assert_string_equal(pe.msg, "nested too deep");
    free(p);
}

static void test_skip_compact(void **state)
{
    static const char in[] = " { \"a b\" : [ 1 , -2.5e3 ,\n\"x\\n \\u00e9\" ] ,\t\"c\" : { } } ";
    struct parse_err pe = {0};
    struct jp j = {in, sizeof(in) - 1, 0, &pe, NULL, 0};
    struct buf out;

    buf_init(&out, 1024);
    assert_int_equal(jp_skip_compact(&j, 0, &out), 0);
    /* Spaces inside strings and escapes stay as written. */
    assert_string_equal(out.data, "{\"a b\":[1,-2.5e3,\"x\\n \\u00e9\"],\"c\":{}}");
    assert_int_equal(jp_end(&j), 0);
    /* A copy that passes the buffer's cap fails with the buffer's error. */
    buf_done(&out);
    buf_init(&out, 8);
    j.off = 0;
    assert_int_equal(jp_skip_compact(&j, 0, &out), -E2BIG);
    buf_done(&out);
    /* Only checks without a buffer. */
    j = (struct jp){"[1,}", 4, 0, &pe, NULL, 0};
    assert_int_equal(jp_skip_compact(&j, 0, NULL), -EINVAL);
}

/* ---- spans ------------------------------------------------------------- */

static void test_doc(void **state)
{
    struct parse_err pe = {0};
    struct jp_span d = {NULL, 0};

    assert_int_equal(jp_doc(" {\"a\":1}\n", 9, &d, &pe), 0);
    assert_int_equal(d.len, 7);
    assert_memory_equal(d.p, "{\"a\":1}", 7);
    assert_int_equal(jp_doc("{} {}", 5, &d, &pe), -EINVAL);
    assert_string_equal(pe.msg, "trailing data after the object");
    assert_int_equal(pe.off, 3);
    assert_int_equal(jp_doc("{\"a\":01}", 8, &d, &pe), -EINVAL);
    assert_string_equal(pe.msg, "expected ',' or '}'");
    assert_int_equal(jp_doc("", 0, &d, NULL), -EINVAL);
}

static void test_iter(void **state)
{
    static const char doc[] = "{\"a\":1, \"b\\u0022\": [true, {\"c\":null}, \"s\"], \"d\":{}}";
    struct jp_span obj = {doc, sizeof(doc) - 1}, k = {NULL, 0}, v = {NULL, 0}, arr = {NULL, 0};
    struct jp_iter it;
    int n = 0;

    assert_int_equal(jp_iter_init(&it, obj), 0);
    assert_int_equal(jp_iter_next(&it, &k, &v), 1);
    assert_true(jp_key_is(k, "a"));
    assert_true(jp_span_is(v, "1"));
    assert_int_equal(jp_iter_next(&it, &k, &v), 1);
    assert_true(jp_key_is(k, "b\""));
    assert_false(jp_key_is(k, "b"));
    assert_false(jp_key_is(k, "b\"x"));
    arr = v;
    assert_int_equal(jp_iter_next(&it, &k, &v), 1);
    assert_true(jp_span_is(v, "{}"));
    assert_int_equal(jp_iter_next(&it, &k, &v), 0);
    assert_int_equal(jp_iter_next(&it, &k, &v), 0);

    assert_int_equal(jp_iter_init(&it, arr), 0);
    while (jp_iter_next(&it, NULL, &v) > 0)
        n++;
    assert_int_equal(n, 3);
    assert_true(jp_span_is(v, "\"s\""));

    /* Not a container: an iterator over nothing. */
    assert_int_equal(jp_iter_init(&it, (struct jp_span){"12", 2}), -EINVAL);
    assert_int_equal(jp_iter_next(&it, &k, &v), -EINVAL);
    /* A malformed container fails where the walk meets the fault. */
    assert_int_equal(jp_iter_init(&it, (struct jp_span){"[1 2]", 5}), 0);
    assert_int_equal(jp_iter_next(&it, NULL, &v), 1);
    assert_int_equal(jp_iter_next(&it, NULL, &v), -EINVAL);
    assert_int_equal(jp_iter_init(&it, (struct jp_span){"[1,", 3}), 0);
    assert_int_equal(jp_iter_next(&it, NULL, &v), 1);
    assert_int_equal(jp_iter_next(&it, NULL, &v), -EINVAL);
}

static void test_lookup(void **state)
{
    static const char doc[] = "{\"id\":7,\"t\\u0069tle\":\"x\",\"n\":-3,\"big\":1e3,\"s\":\"4\"}";
    struct jp_span obj = {doc, sizeof(doc) - 1}, v = {NULL, 0};
    int64_t i;

    assert_int_equal(jp_lookup(obj, "id", &v), 0);
    assert_true(jp_span_is(v, "7"));
    assert_int_equal(jp_lookup(obj, "title", &v), 0);
    assert_true(jp_span_is(v, "\"x\""));
    assert_int_equal(jp_lookup(obj, "missing", &v), -ENOENT);
    assert_int_equal(jp_lookup(obj, "i", &v), -ENOENT);
    assert_int_equal(jp_lookup((struct jp_span){"[1]", 3}, "id", &v), -EINVAL);
    assert_int_equal(jp_lookup((struct jp_span){"{\"a\" 1, \"id\":2}", 15}, "id", &v), -EINVAL);

    assert_int_equal(jp_lookup(obj, "n", &v), 0);
    assert_int_equal(jp_span_i64(v, &i), 0);
    assert_true(i == -3);
    assert_int_equal(jp_lookup(obj, "big", &v), 0);
    assert_int_equal(jp_span_i64(v, &i), -EINVAL);
    assert_int_equal(jp_lookup(obj, "s", &v), 0);
    assert_int_equal(jp_span_i64(v, &i), -EINVAL);
    assert_int_equal(jp_span_i64((struct jp_span){"12 ", 3}, &i), -EINVAL);
}

static void test_text(void **state)
{
    static const struct {
        const char *in;
        unsigned flags;
        const char *out;
    } cases[] = {
        {"\"plain \xc3\xa9\"", 0, "plain \xc3\xa9"},
        /* ESC and BEL, escaped or as C1 (raw and escaped), and DEL: '?'. */
        {"\"\\u001b[31mred\\u0007\"", 0, "?[31mred?"},
        {"\"a\xc2\x9b"
         "b\\u009bc\x7f\"",
         0, "a?b?c?"},
        {"\"\\u0000\"", 0, "?"},
        {"\"l1\\nl2\\tx\\r\"", 0, "l1 l2 x "},
        {"\"l1\\nl2\\tx\\r\"", JP_TEXT_KEEP_NL, "l1\nl2 x "},
        {"\"\\ud83d\\ude00\\u00a0\"", 0, "\xf0\x9f\x98\x80\xc2\xa0"},
        {"-12.5", 0, "-12.5"},
        {"true", 0, "true"},
        {"[1,\n\t2]", 0, "[1,  2]"},
        {"[\"\xc2\x85\"]", 0, "[\"?\"]"},
    };
    static const char *const bad[] = {
        "\"unterminated", "\"a\"b", "\"\\q\"", "\"\\ud800\"", "tru", "[1,", "1 2", "", "\"\xff\"",
    };
    struct buf out;

    buf_init(&out, 1024);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].in);
        char *p = exact(cases[i].in, n);

        buf_reset(&out);
        assert_int_equal(jp_text((struct jp_span){p, n}, &out, cases[i].flags), 0);
        assert_string_equal(out.data, cases[i].out);
        free(p);
    }
    buf_reset(&out);
    assert_int_equal(jp_text((struct jp_span){"null", 4}, &out, 0), 1);
    assert_int_equal(out.len, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        char *p = exact(bad[i], n);

        buf_reset(&out);
        if (jp_text((struct jp_span){p, n}, &out, 0) != -EINVAL)
            fail_msg("jp_text accepted %s", bad[i]);
        free(p);
    }
    buf_done(&out);
    /* The buffer's cap holds. */
    buf_init(&out, 4);
    assert_int_equal(jp_text((struct jp_span){"\"abcdef\"", 8}, &out, 0), -E2BIG);
    buf_done(&out);
}

/* ---- util/hex.h -------------------------------------------------------- */

static void test_hex(void **state)
{
    const unsigned char in[4] = {0x00, 0x9f, 0xa0, 0xff};
    unsigned char back[4];
    char text[9];

    hex_encode(in, sizeof(in), text);
    assert_string_equal(text, "009fa0ff");
    assert_int_equal(hex_decode_lower(text, sizeof(back), back), 0);
    assert_memory_equal(back, in, sizeof(in));
    /* One spelling only: uppercase is refused, as is any non-digit. */
    assert_int_equal(hex_decode_lower("009FA0ff", 4, back), -EINVAL);
    assert_int_equal(hex_decode_lower("009fa0fg", 4, back), -EINVAL);
    assert_int_equal(hex_decode_lower("009fa0f\"", 4, back), -EINVAL);
    assert_int_equal(hex_value('G'), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_member),       cmocka_unit_test(test_skip_good),
        cmocka_unit_test(test_skip_bad),     cmocka_unit_test(test_skip_depth),
        cmocka_unit_test(test_skip_compact), cmocka_unit_test(test_doc),
        cmocka_unit_test(test_iter),         cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_text),         cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
