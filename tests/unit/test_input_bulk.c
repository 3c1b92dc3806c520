/*
 * test_input_bulk.c - the Elasticsearch bulk body parser and its answer:
 * Elastic's documented NDJSON shape (action and source lines, the last
 * line ended or not, CR LF, blank lines), index/create/update/delete,
 * metadata echoed, bad documents failing their item only, malformed
 * action lines failing the body with the byte offset, the item cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_bulk.h"
#include "util/buf.h"
#include "util/limits.h"

struct docs {
    size_t n;
    char last[256];
    size_t max; /* longer documents are refused with -E2BIG */
};

static int take(void *arg, const char *doc, size_t len)
{
    struct docs *d = arg;

    if (d->max && len > d->max)
        return -E2BIG;
    d->n++;
    snprintf(d->last, sizeof(d->last), "%.*s", (int)len, doc);
    return 0;
}

static void test_documented_shape(void **state)
{
    /* The example body of Elastic's bulk API reference, in its shape. */
    static const char body[] = "{ \"index\" : { \"_index\" : \"test\", \"_id\" : \"1\" } }\n"
                               "{ \"field1\" : \"value1\" }\n"
                               "{ \"delete\" : { \"_index\" : \"test\", \"_id\" : \"2\" } }\n"
                               "{ \"create\" : { \"_index\" : \"test\", \"_id\" : \"3\" } }\n"
                               "{ \"field1\" : \"value3\" }\n"
                               "{ \"update\" : {\"_id\" : \"1\", \"_index\" : \"test\"} }\n"
                               "{ \"doc\" : {\"field2\" : \"value2\"} }\n";
    struct docs d = {0};
    struct bulk_item *it;
    struct parse_err pe = {0};
    struct buf out;
    size_t n;

    (void)state;
    assert_int_equal(bulk_parse(body, strlen(body), take, &d, &it, &n, &pe), 0);
    assert_int_equal(n, 4);
    assert_int_equal(d.n, 2); /* index and create make records; update and delete not */
    assert_string_equal(d.last, "{ \"field1\" : \"value3\" }");
    assert_int_equal(it[0].action, BULK_INDEX);
    assert_int_equal(it[0].status, 201);
    assert_int_equal(it[1].action, BULK_DELETE);
    assert_int_equal(it[1].status, 404);
    assert_int_equal(it[2].action, BULK_CREATE);
    assert_int_equal(it[3].action, BULK_UPDATE);
    assert_int_equal(it[3].status, 200);
    assert_int_equal(it[2].id.len, 3);
    assert_memory_equal(it[2].id.p, "\"3\"", 3);

    buf_init(&out, 1 << 20);
    assert_int_equal(bulk_response(it, n, 7, NULL, 5, &out), 0);
    assert_non_null(strstr(out.data, "{\"took\":7,\"errors\":false,\"items\":[{\"index\":"
                                     "{\"_index\":\"test\",\"_id\":\"1\""));
    assert_non_null(strstr(out.data, "{\"create\":{\"_index\":\"test\",\"_id\":\"3\""));
    assert_non_null(strstr(out.data, "\"result\":\"not_found\""));
    assert_non_null(strstr(out.data, "\"status\":201"));
    buf_done(&out);
    free(it);
}

static void test_line_ends_and_defaults(void **state)
{
    /* CR LF, a blank line, no final newline, metadata left out. */
    static const char body[] = "{\"create\":{}}\r\n\r\n{\"message\":\"a\"}\r\n{\"index\":{}}\n"
                               "{\"message\":\"b\"}";
    struct docs d = {0};
    struct bulk_item *it;
    struct buf out;
    size_t n;

    (void)state;
    assert_int_equal(bulk_parse(body, strlen(body), take, &d, &it, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.last, "{\"message\":\"b\"}");
    buf_init(&out, 1 << 20);
    assert_int_equal(bulk_response(it, n, 0, "logs", 0x10, &out), 0);
    assert_non_null(strstr(out.data, "\"_index\":\"logs\",\"_id\":\"hk0000000000000010000000\""));
    assert_non_null(strstr(out.data, "\"_id\":\"hk0000000000000010000001\""));
    buf_done(&out);
    free(it);
}

static void test_bad_documents_fail_their_item(void **state)
{
    static const char body[] = "{\"index\":{}}\n[1,2]\n"           /* not an object */
                               "{\"index\":{}}\n{\"a\":\"\\x\"}\n" /* bad escape */
                               "{\"index\":{}}\n{\"long\":\"aaaaaaaaaaaaaaaa\"}\n"
                               "{\"index\":{}}\n{\"ok\":1}\n";
    struct docs d = {.max = 20};
    struct bulk_item *it;
    struct buf out;
    size_t n;

    (void)state;
    assert_int_equal(bulk_parse(body, strlen(body), take, &d, &it, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_int_equal(d.n, 1);
    assert_int_equal(it[0].status, 400);
    assert_int_equal(it[1].status, 400);
    assert_int_equal(it[2].status, 400); /* -E2BIG from the callback */
    assert_int_equal(it[3].status, 201);
    buf_init(&out, 1 << 20);
    assert_int_equal(bulk_response(it, n, 0, NULL, 0, &out), 0);
    assert_non_null(strstr(out.data, "\"errors\":true"));
    assert_non_null(strstr(out.data, "\"error\":{\"type\":\"mapper_parsing_exception\""));
    buf_done(&out);
    free(it);
}

static void test_malformed_bodies(void **state)
{
    static const struct {
        const char *body;
        size_t off; /* where the error is reported */
    } cases[] = {
        {"{\"index\":{}}\n{\"a\":1}\n{\"upsert\":{}}\n{}\n", 22},
        {"{\"index\":{}}\n{\"a\":1}\nnot json\n", 21},
        {"{\"index\":{}}\n", 13},                    /* no document line */
        {"{\"index\":{},\"create\":{}}\n{}\n", 21},  /* two actions in one line */
        {"{\"index\":5}\n{}\n", 9},                  /* metadata not an object */
        {"{}\n{}\n", 2},                             /* empty action */
        {"{\"index\":{\"_id\":\"1\"}} x\n{}\n", 22}, /* data after the action */
    };
    struct docs d = {0};
    struct bulk_item *it = (struct bulk_item *)&d; /* must come back NULL */
    struct parse_err pe;
    size_t n = 99;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&pe, 0, sizeof(pe));
        assert_int_equal(bulk_parse(cases[i].body, strlen(cases[i].body), take, &d, &it, &n, &pe),
                         -EINVAL);
        assert_null(it);
        assert_int_equal(n, 0);
        assert_non_null(pe.msg);
        if (pe.off != cases[i].off)
            fail_msg("case %zu: error at %zu, want %zu (%s)", i, pe.off, cases[i].off, pe.msg);
    }
}

static void test_item_cap(void **state)
{
    static const char pair[] = "{\"delete\":{}}\n";
    size_t n = LIMIT_BULK_ITEMS + 1, len = n * (sizeof(pair) - 1);
    char *body = malloc(len);
    struct bulk_item *it;
    struct parse_err pe = {0};
    size_t ni;

    (void)state;
    assert_non_null(body);
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * (sizeof(pair) - 1), pair, sizeof(pair) - 1);
    assert_int_equal(bulk_parse(body, len, take, NULL, &it, &ni, &pe), -EINVAL);
    assert_int_equal(pe.off, LIMIT_BULK_ITEMS * (sizeof(pair) - 1));
    /* one fewer fits */
    assert_int_equal(bulk_parse(body, len - (sizeof(pair) - 1), take, NULL, &it, &ni, &pe), 0);
    assert_int_equal(ni, LIMIT_BULK_ITEMS);
    free(it);
    free(body);
}

static void test_empty(void **state)
{
    struct bulk_item *it;
    struct buf out;
    size_t n;

    (void)state;
    assert_int_equal(bulk_parse("\n \n", 3, take, NULL, &it, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_null(it);
    buf_init(&out, 4096);
    assert_int_equal(bulk_response(it, n, 1, NULL, 0, &out), 0);
    assert_string_equal(out.data, "{\"took\":1,\"errors\":false,\"items\":[]}");
    buf_done(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_shape),
        cmocka_unit_test(test_line_ends_and_defaults),
        cmocka_unit_test(test_bad_documents_fail_their_item),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_item_cap),
        cmocka_unit_test(test_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
