/*
 * test_field.c - the interned dictionary of field names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/field.h"
#include "util/limits.h"

static const struct {
    uint32_t id;
    const char *name;
} fixed[] = {
#define FIXED_ROW(sym, name) {FIELD_##sym, name},
    FIELD_LIST(FIXED_ROW)
#undef FIXED_ROW
};

static int reset_dict(void **state)
{
    field_done();
    return 0;
}

static void test_fixed_ids(void **state)
{
    size_t n = sizeof(fixed) / sizeof(fixed[0]);

    assert_int_equal(n, FIELD_FIXED_COUNT - 1);
    /* Fixed names are known even before field_init(). */
    assert_string_equal(field_name(FIELD_SOURCE_IP), "source.ip");
    field_init();
    field_init(); /* idempotent */
    assert_int_equal(field_count(), FIELD_FIXED_COUNT);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fixed[i].id, i + 1);
        assert_string_equal(field_name(fixed[i].id), fixed[i].name);
        assert_int_equal(field_lookup(fixed[i].name, strlen(fixed[i].name)), fixed[i].id);
        assert_int_equal(field_intern(fixed[i].name, strlen(fixed[i].name)), fixed[i].id);
    }
    /* A few by hand, in case the X-macro and the table agree on a mistake. */
    assert_string_equal(field_name(FIELD_TIMESTAMP), "@timestamp");
    assert_string_equal(field_name(FIELD_USER_NAME), "user.name");
    assert_string_equal(field_name(FIELD_HTTP_RESPONSE_STATUS_CODE), "http.response.status_code");
    assert_null(field_name(FIELD_NONE));
    assert_null(field_name(FIELD_FIXED_COUNT));
    assert_null(field_name(UINT32_MAX));
    assert_int_equal(field_count(), FIELD_FIXED_COUNT);
}

static void test_intern_stable(void **state)
{
    /* Not NUL-terminated at len: the view ends before "XYZ". */
    const char *buf = "ssh.kex.algorithmXYZ";
    uint32_t a, b, c;

    assert_int_equal(field_lookup("ssh.kex.algorithm", 17), FIELD_NONE);
    a = field_intern(buf, 17);
    assert_true(a >= FIELD_FIXED_COUNT);
    b = field_intern("ssh.kex.algorithm", 17);
    assert_int_equal(a, b);
    assert_int_equal(field_lookup("ssh.kex.algorithm", 17), a);
    assert_string_equal(field_name(a), "ssh.kex.algorithm");
    /* A prefix and an extension are different names. */
    c = field_intern(buf, 16);
    assert_true(c != a && c != FIELD_NONE);
    assert_string_equal(field_name(c), "ssh.kex.algorith");
    assert_true(field_intern(buf, 18) != a);
    assert_int_equal(field_intern(buf, 17), a);
    /* Lookups add nothing. */
    assert_int_equal(field_lookup("never.interned", 14), FIELD_NONE);
    assert_null(field_name(field_count()));
}

static void test_bad_names(void **state)
{
    char longname[LIMIT_FIELD_NAME_LEN + 2];
    uint32_t before;

    field_init();
    before = field_count();
    assert_int_equal(field_intern("", 0), FIELD_NONE);
    assert_int_equal(field_intern("user\0name", 9), FIELD_NONE);
    assert_int_equal(field_intern("\0", 1), FIELD_NONE);
    /* A lookup with a NUL inside matches nothing (and reads nothing past
     * the shorter stored name: ASan). */
    assert_int_equal(field_lookup("message\0xxxxxxxxxxxxxxx", 23), FIELD_NONE);
    assert_int_equal(field_lookup("", 0), FIELD_NONE);
    memset(longname, 'k', sizeof(longname));
    assert_int_equal(field_intern(longname, LIMIT_FIELD_NAME_LEN + 1), FIELD_NONE);
    assert_int_equal(field_lookup(longname, LIMIT_FIELD_NAME_LEN + 1), FIELD_NONE);
    assert_int_equal(field_count(), before);
    /* Exactly the limit is fine. */
    assert_true(field_intern(longname, LIMIT_FIELD_NAME_LEN) >= FIELD_FIXED_COUNT);
    assert_int_equal(field_count(), before + 1);
}

static void test_cap(void **state)
{
    char name[32];
    uint64_t refused0;
    uint32_t i = 0, id, last = FIELD_NONE, added = 0;

    field_init();
    refused0 = field_refused();
    for (;;) {
        int n = snprintf(name, sizeof(name), "json.k%u", i++);
        id = field_intern(name, (size_t)n);
        if (id == FIELD_NONE)
            break;
        last = id;
        added++;
        assert_true(added <= LIMIT_FIELD_NAMES);
    }
    /* Ids 1 .. LIMIT_FIELD_NAMES - 1 are handed out, then no more. */
    assert_int_equal(last, LIMIT_FIELD_NAMES - 1);
    assert_int_equal(added, LIMIT_FIELD_NAMES - FIELD_FIXED_COUNT);
    assert_int_equal(field_count(), LIMIT_FIELD_NAMES);
    assert_int_equal(field_refused() - refused0, 1);
    assert_int_equal(field_intern("another.new.one", 15), FIELD_NONE);
    assert_int_equal(field_refused() - refused0, 2);
    /* Known names still resolve; refusal affects only new ones. */
    assert_int_equal(field_intern("json.k0", 7), FIELD_FIXED_COUNT);
    assert_int_equal(field_intern("message", 7), FIELD_MESSAGE);
    assert_int_equal(field_refused() - refused0, 2);
    snprintf(name, sizeof(name), "json.k%u", i - 2);
    assert_int_equal(field_lookup(name, strlen(name)), last);
    assert_string_equal(field_name(last), name);
    /* field_done empties it: interning works again from the start. */
    field_done();
    assert_int_equal(field_intern("another.new.one", 15), FIELD_FIXED_COUNT);
}

#define THREADS 4
#define THREAD_NAMES 2000

struct worker {
    unsigned seed;
    uint32_t ids[THREAD_NAMES];
};

static void *intern_thread(void *arg)
{
    struct worker *w = arg;
    char name[32];

    /* Each thread walks the same names in its own order. */
    for (unsigned k = 0; k < THREAD_NAMES; k++) {
        unsigned i = (k * 7919u + w->seed * 977u) % THREAD_NAMES;
        int n = snprintf(name, sizeof(name), "win.event_data.f%u", i);
        w->ids[i] = field_intern(name, (size_t)n);
        if (field_name(w->ids[i]) == NULL)
            w->ids[i] = FIELD_NONE;
    }
    return NULL;
}

/* field_spaced(): the names Sigma may match with their spaces stripped
 * (SPEC_NOTES 1.3); every other name matches only by its id. */
static void test_spaced(void **state)
{
    uint32_t plain, sp, n;
    const unsigned char *tab;
    (void)state;

    assert_int_equal(field_spaced(FIELD_SOURCE_IP), 0); /* before field_init() */
    field_init();
    plain = field_intern("process.command_line", 20);
    sp = field_intern("Image Path", 10);
    assert_int_equal(field_spaced(plain), 0);
    assert_int_equal(field_spaced(sp), 1);
    assert_int_equal(field_spaced(FIELD_NONE), 0);
    assert_int_equal(field_spaced(LIMIT_FIELD_NAMES + 5), 0);
    tab = field_spaced_table(&n);
    assert_non_null(tab);
    assert_true(n > sp && n > plain);
    assert_int_equal(tab[sp], 1);
    assert_int_equal(tab[plain], 0);
}

static void test_concurrent(void **state)
{
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    char name[32];

    for (unsigned i = 0; i < THREADS; i++) {
        w[i].seed = i + 1;
        assert_int_equal(pthread_create(&t[i], NULL, intern_thread, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (unsigned i = 0; i < THREAD_NAMES; i++) {
        assert_true(w[0].ids[i] >= FIELD_FIXED_COUNT);
        for (unsigned k = 1; k < THREADS; k++)
            assert_int_equal(w[k].ids[i], w[0].ids[i]);
        snprintf(name, sizeof(name), "win.event_data.f%u", i);
        assert_string_equal(field_name(w[0].ids[i]), name);
    }
    /* No duplicates: exactly THREAD_NAMES new names. */
    assert_int_equal(field_count(), FIELD_FIXED_COUNT + THREAD_NAMES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixed_ids, reset_dict),
        cmocka_unit_test_teardown(test_intern_stable, reset_dict),
        cmocka_unit_test_teardown(test_bad_names, reset_dict),
        cmocka_unit_test_teardown(test_cap, reset_dict),
        cmocka_unit_test_teardown(test_spaced, reset_dict),
        cmocka_unit_test_teardown(test_concurrent, reset_dict),
    };

    return cmocka_run_group_tests(tests, reset_dict, reset_dict);
}
