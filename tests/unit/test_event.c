/*
 * test_event.c - the normalized event: fields, time, JSON, reset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/limits.h"

/* A real line from the OpenSSH sample (LogHub OpenSSH_2k). */
static const char sshd_line[] = "Dec 10 09:32:20 LabSZ sshd[24680]: Accepted password for fztu "
                                "from 119.137.62.142 port 49116 ssh2";

static const char *at(const char *s, const char *word)
{
    const char *p = strstr(s, word);

    assert_non_null(p);
    return p;
}

struct fix {
    struct arena a;
    struct event ev;
};

static int setup(void **state)
{
    static struct fix f;

    arena_init(&f.a, 0);
    event_init(&f.ev, &f.a, sshd_line, sizeof(sshd_line) - 1, 1702200740000000LL);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    event_reset(&f->ev);
    arena_done(&f->a);
    field_done();
    return 0;
}

static const char *json_of(const struct event *ev, struct buf *b)
{
    buf_reset(b);
    assert_int_equal(event_fields_json(ev, b), 0);
    return b->data;
}

static void test_init(void **state)
{
    struct fix *f = *state;

    assert_ptr_equal(f->ev.raw, sshd_line);
    assert_int_equal(f->ev.raw_len, sizeof(sshd_line) - 1);
    assert_ptr_equal(f->ev.msg, sshd_line);
    assert_int_equal(f->ev.recv_us, 1702200740000000LL);
    assert_int_equal(f->ev.time_us, 1702200740000000LL);
    assert_int_equal(f->ev.has_time, 0);
    assert_int_equal(f->ev.nfields, 0);
    assert_null(f->ev.decoder);
    assert_ptr_equal(f->ev.arena, &f->a);
}

static void test_add_get_set_is(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;
    const char *user = at(sshd_line, "fztu"), *ip = at(sshd_line, "119.137.62.142");
    const char *v;
    size_t len = 0;
    char tmp[16];

    assert_int_equal(event_add(ev, FIELD_USER_NAME, user, 4), 0);
    assert_int_equal(event_add(ev, FIELD_SOURCE_IP, ip, 14), 0);
    /* A view: the very bytes of the record. */
    v = event_get(ev, FIELD_USER_NAME, &len);
    assert_ptr_equal(v, user);
    assert_int_equal(len, 4);
    assert_true(event_is(ev, FIELD_USER_NAME, "fztu"));
    assert_false(event_is(ev, FIELD_USER_NAME, "fzt"));
    assert_false(event_is(ev, FIELD_USER_NAME, "fztux"));
    assert_false(event_is(ev, FIELD_HOST_NAME, "fztu"));
    assert_null(event_get(ev, FIELD_HOST_NAME, &len));
    assert_non_null(event_get(ev, FIELD_SOURCE_IP, NULL));

    /* A copy survives the source changing. */
    strcpy(tmp, "49116");
    assert_int_equal(event_add_copy(ev, FIELD_SOURCE_PORT, tmp, 5), 0);
    memset(tmp, 'x', 5);
    assert_true(event_is(ev, FIELD_SOURCE_PORT, "49116"));
    assert_int_equal(event_add_str(ev, FIELD_NETWORK_PROTOCOL, "ssh"), 0);
    assert_true(event_is(ev, FIELD_NETWORK_PROTOCOL, "ssh"));
    assert_int_equal(event_add_int(ev, FIELD_PROCESS_PID, 24680), 0);
    assert_true(event_is(ev, FIELD_PROCESS_PID, "24680"));
    assert_int_equal(event_add_int(ev, FIELD_EVENT_CODE, LLONG_MIN), 0);
    assert_true(event_is(ev, FIELD_EVENT_CODE, "-9223372036854775808"));

    /* set replaces every value, keeping the others in order. */
    assert_int_equal(event_add(ev, FIELD_USER_NAME, "root", 4), 0);
    assert_int_equal(event_set(ev, FIELD_USER_NAME, "admin", 5), 0);
    assert_true(event_is(ev, FIELD_USER_NAME, "admin"));
    {
        unsigned n = 0;
        for (uint32_t i = 0; i < ev->nfields; i++)
            n += ev->fields[i].id == FIELD_USER_NAME;
        assert_int_equal(n, 1);
    }
    assert_int_equal(ev->fields[0].id, FIELD_SOURCE_IP);
    /* set on an absent field adds it. */
    assert_int_equal(event_set(ev, FIELD_HOST_NAME, "LabSZ", 5), 0);
    assert_true(event_is(ev, FIELD_HOST_NAME, "LabSZ"));
    assert_int_equal(ev->dropped, 0);
}

static void test_multi_and_named(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;
    size_t len;
    uint32_t id;

    assert_int_equal(event_add(ev, FIELD_USER_NAME, "alice", 5), 0);
    assert_int_equal(event_add(ev, FIELD_HOST_NAME, "h1", 2), 0);
    assert_int_equal(event_add(ev, FIELD_USER_NAME, "bob", 3), 0);
    /* The first value wins for get. */
    assert_memory_equal(event_get(ev, FIELD_USER_NAME, &len), "alice", 5);
    assert_int_equal(len, 5);
    assert_int_equal(ev->nfields, 3);

    assert_int_equal(event_add_named(ev, "ssh.auth_method", 15, "password", 8), 0);
    id = field_lookup("ssh.auth_method", 15);
    assert_true(id >= FIELD_FIXED_COUNT);
    assert_true(event_is(ev, id, "password"));
    assert_int_equal(event_add_named(ev, "ssh.auth_methodXX", 15, "publickey", 9), 0);
    assert_int_equal(ev->fields[ev->nfields - 1].id, id);
    /* Names the dictionary refuses drop the field and count it. */
    assert_int_equal(event_add_named(ev, "", 0, "v", 1), -E2BIG);
    assert_int_equal(event_add(ev, FIELD_NONE, "v", 1), -E2BIG);
    assert_int_equal(ev->dropped, 2);
    assert_int_equal(ev->nfields, 5);
}

static void test_field_cap(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;

    for (int i = 0; i < LIMIT_EVENT_FIELDS; i++) {
        if (event_add_int(ev, FIELD_EVENT_CODE, i) != 0)
            fail_msg("field %d refused", i);
    }
    assert_int_equal(ev->nfields, LIMIT_EVENT_FIELDS);
    assert_int_equal(ev->dropped, 0);
    assert_int_equal(event_add(ev, FIELD_MESSAGE, "x", 1), -E2BIG);
    assert_int_equal(event_add_int(ev, FIELD_MESSAGE, 1), -E2BIG);
    assert_int_equal(ev->dropped, 2);
    assert_int_equal(ev->nfields, LIMIT_EVENT_FIELDS);
    /* The values kept are intact after all the growing. */
    assert_true(event_is(ev, FIELD_EVENT_CODE, "0"));
    assert_memory_equal(ev->fields[LIMIT_EVENT_FIELDS - 1].val, "511", 3);
    /* event_set still works at the cap: it removes before it adds. */
    assert_int_equal(event_set(ev, FIELD_EVENT_CODE, "only", 4), 0);
    assert_int_equal(ev->nfields, 1);
}

static void test_arena_exhausted(void **state)
{
    struct arena small;
    struct event ev;
    char big[200];

    arena_init(&small, 1536);
    event_init(&ev, &small, "x", 1, 0);
    memset(big, 'b', sizeof(big));
    /* The field array (64 * 16 bytes) fits, then the copies run out: two
     * of 208 bytes fit in the 512 left, the third does not. */
    assert_int_equal(event_add(&ev, FIELD_MESSAGE, "x", 1), 0);
    assert_int_equal(event_add_copy(&ev, FIELD_MESSAGE, big, sizeof(big)), 0);
    assert_int_equal(event_add_copy(&ev, FIELD_MESSAGE, big, sizeof(big)), 0);
    assert_int_equal(event_add_copy(&ev, FIELD_MESSAGE, big, sizeof(big)), -ENOMEM);
    assert_int_equal(ev.dropped, 1);
    assert_int_equal(ev.nfields, 3);
    event_reset(&ev);
    arena_done(&small);
}

static void test_set_time(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;
    const char *orig = sshd_line;

    assert_int_equal(event_add(ev, FIELD_USER_NAME, "fztu", 4), 0);
    assert_int_equal(event_set_time(ev, 1702200740123456LL, orig, 15), 0);
    assert_int_equal(ev->time_us, 1702200740123456LL);
    assert_int_equal(ev->has_time, 1);
    assert_int_equal(ev->recv_us, 1702200740000000LL);
    assert_true(event_is(ev, FIELD_TIMESTAMP, "2023-12-10T09:32:20.123456Z"));
    assert_true(event_is(ev, FIELD_EVENT_ORIGINAL_TIME, "Dec 10 09:32:20"));
    /* A later time replaces the earlier one, not adds to it. */
    assert_int_equal(event_set_time(ev, 0, "1970-01-01T00:00:00Z", 20), 0);
    assert_int_equal(ev->time_us, 0);
    assert_true(event_is(ev, FIELD_TIMESTAMP, "1970-01-01T00:00:00.000000Z"));
    assert_true(event_is(ev, FIELD_EVENT_ORIGINAL_TIME, "1970-01-01T00:00:00Z"));
    assert_int_equal(ev->nfields, 3);
    /* Without an original text, the stale one goes. */
    assert_int_equal(event_set_time(ev, -1, NULL, 0), 0);
    assert_true(event_is(ev, FIELD_TIMESTAMP, "1969-12-31T23:59:59.999999Z"));
    assert_null(event_get(ev, FIELD_EVENT_ORIGINAL_TIME, NULL));
    assert_true(event_is(ev, FIELD_USER_NAME, "fztu"));
    assert_int_equal(ev->nfields, 2);
}

static void test_fields_json(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;
    struct buf b;

    buf_init(&b, 1 << 20);
    assert_string_equal(json_of(ev, &b), "{}");
    assert_int_equal(event_add(ev, FIELD_PROCESS_NAME, at(sshd_line, "sshd"), 4), 0);
    assert_int_equal(event_add(ev, FIELD_USER_NAME, "alice", 5), 0);
    assert_int_equal(event_add(ev, FIELD_MESSAGE, "say \"hi\"\\\n\t", 11), 0);
    assert_int_equal(event_add(ev, FIELD_USER_NAME, "b\xffob", 4), 0);
    assert_int_equal(event_add_named(ev, "kv.caf\xc3\xa9", 8, "", 0), 0);
    assert_int_equal(event_add(ev, FIELD_USER_NAME, "carol", 5), 0);
    assert_int_equal(event_add(ev, FIELD_SOURCE_PORT, "22", 2), 0);
    assert_string_equal(json_of(ev, &b), "{\"process.name\":\"sshd\","
                                         "\"user.name\":[\"alice\",\"b\\u00ffob\",\"carol\"],"
                                         "\"message\":\"say \\\"hi\\\"\\\\\\n\\t\","
                                         "\"kv.caf\xc3\xa9\":\"\","
                                         "\"source.port\":\"22\"}");
    /* Appends, does not reset. */
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "x="), 0);
    assert_int_equal(event_set(ev, FIELD_USER_NAME, "dave", 4), 0);
    assert_int_equal(event_fields_json(ev, &b), 0);
    assert_string_equal(b.data,
                        "x={\"process.name\":\"sshd\",\"message\":\"say \\\"hi\\\"\\\\\\n\\t\","
                        "\"kv.caf\xc3\xa9\":\"\",\"source.port\":\"22\",\"user.name\":\"dave\"}");
    buf_done(&b);

    /* The cap of the output buffer is reported, not overrun. */
    buf_init(&b, 16);
    assert_int_equal(event_fields_json(ev, &b), -E2BIG);
    assert_true(b.len <= 16);
    buf_done(&b);
}

static void test_reset(void **state)
{
    struct fix *f = *state;
    struct event *ev = &f->ev;
    void *first;

    /* The field array is the first allocation, the copy the second. */
    assert_int_equal(event_add(ev, FIELD_MESSAGE, "hello", 5), 0);
    assert_int_equal(event_add_str(ev, FIELD_HOST_NAME, "LabSZ"), 0);
    assert_int_equal(event_set_time(ev, 5, "x", 1), 0);
    ev->decoder = "sshd";
    ev->dropped = 3;
    first = ev->fields;
    event_reset(ev);
    assert_int_equal(ev->nfields, 0);
    assert_int_equal(ev->dropped, 0);
    assert_int_equal(ev->has_time, 0);
    assert_null(ev->decoder);
    assert_null(ev->raw);
    assert_null(event_get(ev, FIELD_MESSAGE, NULL));
    assert_ptr_equal(ev->arena, &f->a);
    assert_int_equal(f->a.used_total, 0);
    /* The next event reuses the same memory. */
    event_init(ev, &f->a, "next", 4, 7);
    assert_int_equal(event_add(ev, FIELD_MESSAGE, "next", 4), 0);
    assert_ptr_equal(ev->fields, first);
    assert_true(event_is(ev, FIELD_MESSAGE, "next"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_get_set_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_and_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
