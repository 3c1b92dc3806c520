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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_same_as_dictionary, reset_dict),
        cmocka_unit_test_teardown(test_miss_then_interned, reset_dict),
        cmocka_unit_test_teardown(test_after_rebuild, reset_dict),
        cmocka_unit_test_teardown(test_refused, reset_dict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
