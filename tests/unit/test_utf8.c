/*
 * test_utf8.c - util/utf8.h: which sequences are well-formed (RFC 3629's
 * table, at each boundary), their code points, and encoding back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

static size_t seq(const char *s, size_t n, unsigned *cp)
{
    return utf8_seq((const unsigned char *)s, n, cp);
}

static void test_well_formed(void **state)
{
    static const struct {
        const char *s;
        size_t n;
        unsigned cp;
    } ok[] = {
        {"\x00", 1, 0x0},
        {"A", 1, 0x41},
        {"\x7f", 1, 0x7f},
        {"\xc2\x80", 2, 0x80},               /* first 2-byte */
        {"\xdf\xbf", 2, 0x7ff},              /* last 2-byte */
        {"\xe0\xa0\x80", 3, 0x800},          /* first 3-byte */
        {"\xed\x9f\xbf", 3, 0xd7ff},         /* just below the surrogates */
        {"\xee\x80\x80", 3, 0xe000},         /* just above them */
        {"\xef\xbf\xbf", 3, 0xffff},         /* last 3-byte */
        {"\xf0\x90\x80\x80", 4, 0x10000},    /* first 4-byte */
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},   /* last code point */
        {"\xe2\x82\xac" "rest", 7, 0x20ac},  /* the euro sign, then more */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        unsigned cp = 0xdeadbeef;
        size_t want = ok[i].cp < 0x80 ? 1 : ok[i].cp < 0x800 ? 2 : ok[i].cp < 0x10000 ? 3 : 4;

        assert_int_equal(seq(ok[i].s, ok[i].n, &cp), want);
        assert_int_equal(cp, ok[i].cp);
        assert_int_equal(seq(ok[i].s, ok[i].n, NULL), want);
    }
}

static void test_ill_formed(void **state)
{
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"\x80", 1},                 /* a lone continuation byte */
        {"\xbf", 1},
        {"\xc0\xaf", 2},             /* overlong '/' */
        {"\xc1\xbf", 2},             /* overlong 0x7f */
        {"\xe0\x80\xaf", 3},         /* overlong 3-byte */
        {"\xe0\x9f\xbf", 3},         /* overlong: below U+0800 */
        {"\xf0\x8f\xbf\xbf", 4},     /* overlong: below U+10000 */
        {"\xed\xa0\x80", 3},         /* U+D800, a surrogate */
        {"\xed\xbf\xbf", 3},         /* U+DFFF */
        {"\xf4\x90\x80\x80", 4},     /* U+110000 */
        {"\xf5\x80\x80\x80", 4},     /* no lead byte past 0xf4 */
        {"\xff", 1},
        {"\xc2", 1},                 /* cut: the length says so */
        {"\xe2\x82", 2},
        {"\xf0\x90\x80", 3},
        {"\xc2\x41", 2},             /* not a continuation */
        {"\xe2\x28\xac", 3},
        {"\xf0\x90\x28\x80", 4},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned cp = 7;

        assert_int_equal(seq(bad[i].s, bad[i].n, &cp), 0);
        assert_int_equal(cp, 7); /* untouched on failure */
    }
    /* A sequence cut by n although the bytes after it would complete it. */
    assert_int_equal(seq("\xe2\x82\xac", 2, NULL), 0);
}

static void test_valid_whole(void **state)
{
    (void)state;
    assert_true(utf8_valid((const unsigned char *)"", 0));
    assert_true(utf8_valid((const unsigned char *)"na\xc3\xafve \xf0\x9f\x94\xa5", 11));
    assert_false(utf8_valid((const unsigned char *)"na\xc3", 3));
    assert_false(utf8_valid((const unsigned char *)"ok\xed\xa0\x80ok", 7));
}

static void test_put_round_trip(void **state)
{
    static const unsigned cps[] = {0x0,    0x24,    0x7f,    0x80,     0x7ff,   0x800,
                                   0xd7ff, 0xe000,  0xffff,  0x10000, 0x1f525, 0x10ffff};
    (void)state;
    for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
        char out[4];
        unsigned back;
        size_t n = utf8_put(cps[i], out);

        assert_in_range(n, 1, 4);
        assert_int_equal(seq(out, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    {
        char out[4];

        assert_int_equal(utf8_put(0x20ac, out), 3);
        assert_memory_equal(out, "\xe2\x82\xac", 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_ill_formed),
        cmocka_unit_test(test_valid_whole),
        cmocka_unit_test(test_put_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
