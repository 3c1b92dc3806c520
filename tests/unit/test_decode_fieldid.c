/*
 * test_decode_fieldid.c - the per-thread name -> id cache in front of the
 * dictionary answers exactly what the dictionary answers: after a name is
 * interned elsewhere, after the dictionary is freed and rebuilt with other
 * ids, for names that share a set, for names it does not hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "event/field.h"
#include "util/limits.h"

static int reset_dict(void **state)
{
    field_done();
    return 0;
}

static void test_same_as_dictionary(void **state)
{
    char name[64];

    field_init();
    /* Many names, so that sets fill and entries are pushed out; each
     * answer, first and second time, is the dictionary's. */
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 2000; k++) {
            int n = snprintf(name, sizeof(name), k % 3 ? "zeek.col_%d" : "c%d", k);
            uint32_t id = decode_fieldid_intern(name, (size_t)n);

            assert_int_not_equal(id, FIELD_NONE);
            assert_int_equal(id, field_lookup(name, (size_t)n));
            assert_int_equal(decode_fieldid_lookup(name, (size_t)n), id);
        }
    }
    /* A fixed name is its fixed id. */
    assert_int_equal(decode_fieldid_lookup("source.ip", 9), FIELD_SOURCE_IP);
    assert_int_equal(decode_fieldid_intern("source.ip", 9), FIELD_SOURCE_IP);
}

static void test_miss_then_interned(void **state)
{
    field_init();
    /* Not known: a miss, remembered... */
    assert_int_equal(decode_fieldid_lookup("later.name", 10), FIELD_NONE);
    assert_int_equal(decode_fieldid_lookup("later.name", 10), FIELD_NONE);
    /* ...until someone else interns it. */
    uint32_t id = field_intern("later.name", 10);
    assert_int_not_equal(id, FIELD_NONE);
    assert_int_equal(decode_fieldid_lookup("later.name", 10), id);
}

static void test_after_rebuild(void **state)
{
    uint32_t before, after;

    field_init();
    before = decode_fieldid_intern("rebuilt.name", 12);
    assert_int_not_equal(before, FIELD_NONE);
    field_done();
    /* A new dictionary whose ids differ: other names take the old id. */
    field_init();
    assert_int_equal(field_intern("other.first", 11), before);
    after = decode_fieldid_lookup("rebuilt.name", 12);
    assert_int_equal(after, FIELD_NONE); /* not interned in this dictionary */
    after = decode_fieldid_intern("rebuilt.name", 12);
    assert_int_not_equal(after, before);
    assert_int_equal(after, field_lookup("rebuilt.name", 12));
}

static void test_refused(void **state)
{
    char longname[LIMIT_FIELD_NAME_LEN + 2];

    field_init();
    /* What the dictionary refuses, the cache refuses, every time. */
    assert_int_equal(decode_fieldid_intern("a\0b", 3), FIELD_NONE);
    assert_int_equal(decode_fieldid_intern("a\0b", 3), FIELD_NONE);
    assert_int_equal(decode_fieldid_lookup("a\0b", 3), FIELD_NONE);
    assert_int_equal(decode_fieldid_intern("", 0), FIELD_NONE);
    memset(longname, 'x', sizeof(longname));
    assert_int_equal(decode_fieldid_intern(longname, LIMIT_FIELD_NAME_LEN + 1), FIELD_NONE);
    /* "a" is not "a\0b": the NUL name never answers for a shorter one. */
    uint32_t a = decode_fieldid_intern("a", 1);
    assert_int_not_equal(a, FIELD_NONE);
    assert_int_equal(decode_fieldid_intern("a\0b", 3), FIELD_NONE);
    /* A name longer than the cache keeps is still answered right. */
    uint32_t l = decode_fieldid_intern(longname, LIMIT_FIELD_NAME_LEN);
    assert_int_not_equal(l, FIELD_NONE);
    assert_int_equal(decode_fieldid_lookup(longname, LIMIT_FIELD_NAME_LEN), l);
}

/* The guess (decode_fieldid.h): a key is found only when the bytes are
 * that key followed by the separator, whatever its length (1 to 16 bytes
 * kept, longer ones never), and the id it carries is the dictionary's, for
 * this dictionary only. */
static void test_guess(void **state)
{
    static struct decode_fieldid_guess tab[8];
    struct decode_fieldid_guess *set = decode_fieldid_guess_for(tab, 3, 0), *g,
                                *hit = &tab[7]; /* any entry: written by a hit */
    const char *full = "abcdefghijklmnopq";     /* 17 bytes */
    char rec[64];
    uint32_t gen, id;

    field_init();
    gen = field_generation();
    for (size_t n = 1; n <= 17; n++) {
        memset(tab, 0, sizeof(tab));
        g = decode_fieldid_guess_keep(set, full, n, (int)n);
        if (n > 16) {
            assert_int_equal(g->len, 0); /* not kept */
            continue;
        }
        /* The key and '=': found, with its aux. */
        snprintf(rec, sizeof(rec), "%.*s=v", (int)n, full);
        assert_int_equal(decode_fieldid_guess_key(set, rec, strlen(rec), '=', &hit), n);
        assert_ptr_equal(hit, g);
        assert_int_equal(hit->aux, (int)n);
        assert_true(decode_fieldid_guess_is(g, full, n));
        /* Not the key: a byte changed anywhere, a longer key, no '=', no
         * room for the '=' in the bytes given. */
        for (size_t k = 0; k < n; k++) {
            snprintf(rec, sizeof(rec), "%.*s=v", (int)n, full);
            rec[k] = 'Z';
            assert_int_equal(decode_fieldid_guess_key(set, rec, strlen(rec), '=', &hit), 0);
            assert_false(decode_fieldid_guess_is(g, rec, n));
        }
        snprintf(rec, sizeof(rec), "%.*sx=v", (int)n, full);
        assert_int_equal(decode_fieldid_guess_key(set, rec, strlen(rec), '=', &hit), 0);
        snprintf(rec, sizeof(rec), "%.*s v", (int)n, full);
        assert_int_equal(decode_fieldid_guess_key(set, rec, strlen(rec), '=', &hit), 0);
        snprintf(rec, sizeof(rec), "%.*s=", (int)n, full);
        assert_int_equal(decode_fieldid_guess_key(set, rec, n, '=', &hit), 0);
        assert_false(decode_fieldid_guess_is(g, full, n + 1));
    }
    /* A set holds two keys: the newest first, the one before second; a
     * third pushes the oldest out. */
    memset(tab, 0, sizeof(tab));
    decode_fieldid_guess_keep(set, "srcip", 5, 1);
    decode_fieldid_guess_keep(set, "dstip", 5, 2);
    assert_int_equal(decode_fieldid_guess_key(set, "srcip=1", 7, '=', &hit), 5);
    assert_int_equal(hit->aux, 1);
    assert_int_equal(decode_fieldid_guess_key(set, "dstip=1", 7, '=', &hit), 5);
    assert_int_equal(hit->aux, 2);
    decode_fieldid_guess_keep(set, "proto", 5, 3);
    assert_int_equal(decode_fieldid_guess_key(set, "srcip=1", 7, '=', &hit), 0);
    /* The id: the dictionary's, then the one kept, and again from the
     * dictionary after a rebuild. */
    static struct decode_fieldid_memo memo[4];
    assert_int_equal(decode_fieldid_guess_key(set, "dstip=1", 7, '=', &hit), 5);
    id = decode_fieldid_guess_id(hit, gen, memo, 4, 0, 0, "dstip", 5);
    assert_int_equal(id, field_lookup("dstip", 5));
    assert_int_equal(decode_fieldid_guess_id(hit, gen, memo, 4, 0, 0, "dstip", 5), id);
    field_done();
    field_init();
    assert_int_equal(field_intern("other.first", 11), id); /* the old id is another's now */
    assert_int_not_equal(field_generation(), gen);
    id = decode_fieldid_guess_id(hit, field_generation(), memo, 4, 0, 0, "dstip", 5);
    assert_int_equal(id, field_lookup("dstip", 5));
    assert_int_not_equal(id, field_lookup("other.first", 11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_same_as_dictionary, reset_dict),
        cmocka_unit_test_teardown(test_miss_then_interned, reset_dict),
        cmocka_unit_test_teardown(test_after_rebuild, reset_dict),
        cmocka_unit_test_teardown(test_refused, reset_dict),
        cmocka_unit_test_teardown(test_guess, reset_dict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
