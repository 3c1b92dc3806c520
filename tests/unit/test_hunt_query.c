/*
 * test_hunt_query.c - the hunt query language (src/hunt/hunt_query.c):
 * precedence, text terms, each comparison (wildcards, CIDR v4/v6, numbers,
 * regex), NOT and !=, the raw-text prefilter agreeing with the full match,
 * and hostile queries refused with a place and a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event/event.h"
#include "event/field.h"
#include "hunt/hunt_query.h"
#include "util/arena.h"
#include "util/limits.h"

static const char raw_line[] =
    "Oct 11 22:14:15 web1 sshd[4321]: Failed password for invalid user Admin from "
    "10.1.2.3 port 50022 ssh2";

static struct arena arena;
static struct event ev;

/* An event with fields as a decoder would set them. */
static void make_event(void)
{
    arena_reset(&arena);
    event_init(&ev, &arena, raw_line, strlen(raw_line), 0);
    assert_int_equal(event_add_str(&ev, FIELD_SOURCE_IP, "10.1.2.3"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_SOURCE_PORT, "50022"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_USER_NAME, "Admin"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_EVENT_ACTION, "ssh_login"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_EVENT_OUTCOME, "failure"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_DESTINATION_IP, "2001:db8::17"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_URL_ORIGINAL, "/cgi-bin/../../etc/passwd"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_HOST_NAME, "web1"), 0);
    /* a field with two values: any of them may match */
    assert_int_equal(event_add_str(&ev, FIELD_EVENT_CATEGORY, "authentication"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_EVENT_CATEGORY, "network"), 0);
}

static int setup(void **state)
{
    (void)state;
    field_init();
    arena_init(&arena, LIMIT_ARENA_MAX);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_done(&arena);
    field_done();
    return 0;
}

/* 1 match, 0 no match; fails the test when the query does not parse, or
 * when the prefilter says "cannot match" for a record that matches. */
static int m(const char *q)
{
    struct hunt_query *hq = NULL;
    struct parse_err pe = {0};
    int r, pre;

    r = hunt_query_parse(q, strlen(q), &hq, &pe);
    if (r != 0)
        fail_msg("'%s' refused at %zu: %s", q, pe.off, pe.msg ? pe.msg : "?");
    make_event();
    pre = hunt_query_prefilter(hq, ev.raw, ev.raw_len);
    r = hunt_query_match(hq, &ev);
    if (r && !pre)
        fail_msg("'%s': the prefilter ruled out a match", q);
    hunt_query_free(hq);
    return r;
}

/* The offset of the refusal (and that it is -EINVAL with a reason). */
static size_t refused(const char *q, size_t len)
{
    struct hunt_query *hq = NULL;
    struct parse_err pe = {0};
    int r = hunt_query_parse(q, len, &hq, &pe);

    assert_int_equal(r, -EINVAL);
    assert_null(hq);
    assert_non_null(pe.msg);
    return pe.off;
}

static void test_text_terms(void **state)
{
    (void)state;
    assert_true(m("password"));
    assert_true(m("PASSWORD")); /* any case */
    assert_true(m("\"invalid user admin\""));
    assert_false(m("\"invalid admin\""));
    assert_true(m("failed 10.1.2.3")); /* juxtaposition: both */
    assert_false(m("failed 10.1.2.4"));
    assert_true(m("\"say \\\"hi\\\"\" OR sshd"));
    assert_false(m("\"say \\\"hi\\\"\""));
    assert_true(m("or"));   /* lower case: a word ("for"), not the operator */
    assert_false(m("not")); /* nor this one */
    assert_false(m("accepted"));
}

static void test_precedence(void **state)
{
    (void)state;
    /* AND binds tighter than OR: a OR (b AND c) */
    assert_true(m("accepted OR failed sshd"));
    assert_false(m("accepted OR failed nosuchword"));
    assert_true(m("(accepted OR failed) sshd"));
    assert_false(m("(accepted OR failed) nosuchword"));
    /* NOT binds tighter than AND */
    assert_false(m("NOT failed AND sshd"));
    assert_true(m("NOT accepted AND sshd"));
    assert_true(m("NOT (accepted OR nosuch)"));
    assert_false(m("NOT (accepted OR failed)"));
    assert_true(m("NOT NOT failed"));
    assert_true(m("failed AND sshd OR nosuch"));
    assert_true(m("nosuch OR nothing OR ssh2"));
    assert_true(m("((((sshd))))"));
}

static void test_field_equal(void **state)
{
    (void)state;
    assert_true(m("user.name=admin")); /* equality ignores case */
    assert_true(m("user.name=adm*"));
    assert_true(m("user.name=A?min"));
    assert_false(m("user.name=adm"));
    assert_false(m("user.name=*x*"));
    assert_true(m("url.original=*/etc/passwd"));
    assert_true(m("url.original=/cgi-bin/*/etc/*"));
    assert_false(m("url.original=/cgi-bin/*/etc/"));
    assert_true(m("url.original=*"));
    assert_false(m("process.name=*")); /* absent */
    assert_true(m("event.action!=ssh_logout"));
    assert_false(m("event.action!=ssh_login"));
    assert_true(m("process.name!=sshd")); /* absent: != holds */
    assert_true(m("event.category=network"));
    assert_true(m("event.category=authentication"));
    assert_true(m("event.action=\"ssh_login\""));
    assert_true(m("user.name=\"Admin\" (event.action=ssh_login)"));
    assert_false(m("user.name=\"\"")); /* an empty value: none here */
    assert_false(m("user.name=\"adm\\*\"")); /* an escaped star is a star */
    assert_true(m("nosuch.field.ever!=x"));
    assert_false(m("nosuch.field.ever=x"));
}

static void test_cidr(void **state)
{
    (void)state;
    assert_true(m("source.ip=10.0.0.0/8"));
    assert_true(m("source.ip=10.1.2.0/24"));
    assert_true(m("source.ip=10.1.2.3"));
    assert_false(m("source.ip=10.1.3.0/24"));
    assert_false(m("source.ip=192.168.0.0/16"));
    assert_true(m("source.ip!=192.168.0.0/16"));
    assert_true(m("destination.ip=2001:db8::/32"));
    assert_true(m("destination.ip=2001:DB8:0:0::17"));
    assert_false(m("destination.ip=2001:db9::/32"));
    assert_false(m("destination.ip=10.0.0.0/8"));
    assert_false(m("user.name=10.0.0.0/8"));  /* not an address: no match */
    assert_true(m("source.ip=\"10.1.2.3\"")); /* quoted: the string */
    assert_false(m("source.ip=\"10.0.0.0/8\""));
}

static void test_numbers(void **state)
{
    (void)state;
    assert_true(m("source.port>1024"));
    assert_true(m("source.port>=50022"));
    assert_false(m("source.port>50022"));
    assert_true(m("source.port<=50022"));
    assert_false(m("source.port<1024"));
    assert_true(m("source.port<5e5"));
    assert_false(m("user.name>1")); /* not a number: no match */
}

static void test_regex(void **state)
{
    (void)state;
    assert_true(m("url.original~/\\.\\.\\/etc\\//"));
    assert_true(m("url.original~/passwd$/"));
    assert_false(m("url.original~/^passwd/"));
    assert_true(m("user.name~/^admin$/i"));
    assert_false(m("user.name~/^admin$/"));
    assert_true(m("user.name~Adm"));
    assert_true(m("_raw~/port [0-9]{5} ssh2$/"));
    assert_false(m("_raw~/port [0-9]{6}/"));
    assert_true(m("_raw=*invalid*user*"));
    assert_true(m("NOT _raw~/accepted/"));
}

static void test_needs_fields_and_prefilter(void **state)
{
    struct hunt_query *q;
    struct parse_err pe;

    (void)state;
    assert_int_equal(hunt_query_parse("foo \"bar baz\"", 13, &q, &pe), 0);
    assert_false(hunt_query_needs_fields(q));
    assert_false(hunt_query_prefilter(q, "foo bar", 7));
    assert_true(hunt_query_prefilter(q, "xFOOx BAR BAZ", 13));
    hunt_query_free(q);
    /* a field comparison leaves the prefilter unsure, unless a word rules
     * the record out by itself */
    assert_int_equal(hunt_query_parse("foo user.name=x", 15, &q, &pe), 0);
    assert_true(hunt_query_needs_fields(q));
    assert_false(hunt_query_prefilter(q, "bar", 3));
    assert_true(hunt_query_prefilter(q, "foo", 3));
    hunt_query_free(q);
    assert_int_equal(hunt_query_parse("foo OR user.name=x", 18, &q, &pe), 0);
    assert_true(hunt_query_prefilter(q, "bar", 3));
    hunt_query_free(q);
    assert_int_equal(hunt_query_parse("NOT foo", 7, &q, &pe), 0);
    assert_false(hunt_query_prefilter(q, "a foo", 5));
    assert_true(hunt_query_prefilter(q, "a bar", 5));
    hunt_query_free(q);
}

/* A block "holds" every text but the one in ctx (lowered). */
static int holds_all_but(const void *ctx, const char *text, size_t len)
{
    const char *absent = ctx;

    return !(strlen(absent) == len && memcmp(absent, text, len) == 0);
}

static int block_may(const char *query, const char *absent)
{
    struct hunt_query *q;
    struct parse_err pe;
    int r;

    assert_int_equal(hunt_query_parse(query, strlen(query), &q, &pe), 0);
    r = hunt_query_block_may_match(q, holds_all_but, absent);
    hunt_query_free(q);
    return r;
}

/* What a block's index may rule out: only what every match must contain. */
static void test_block_may_match(void **state)
{
    (void)state;
    assert_int_equal(block_may("foo", "foo"), 0);
    assert_int_equal(block_may("FOO", "foo"), 0); /* lowered, as matched */
    assert_int_equal(block_may("bar", "foo"), 1);
    assert_int_equal(block_may("foo bar", "foo"), 0);
    assert_int_equal(block_may("bar AND foo", "foo"), 0);
    assert_int_equal(block_may("foo OR bar", "foo"), 1);
    assert_int_equal(block_may("(foo OR foo) bar", "foo"), 0);
    assert_int_equal(block_may("NOT foo", "foo"), 1);
    assert_int_equal(block_may("NOT NOT foo", "foo"), 1); /* NOT never rules out */
    assert_int_equal(block_may("\"foo\"", "foo"), 0);
    assert_int_equal(block_may("user.name=foo", "foo"), 1);
    assert_int_equal(block_may("user.name=foo foo", "foo"), 0);
    assert_int_equal(block_may("_raw=foo", "foo"), 0);
    assert_int_equal(block_may("_raw=\"FOO\"", "foo"), 0);
    assert_int_equal(block_may("_raw!=foo", "foo"), 1);
    assert_int_equal(block_may("_raw=fo*", "fo"), 1);
    assert_int_equal(block_may("_raw~/foo/", "foo"), 1);
    assert_int_equal(block_may("src.ip=10.0.0.0/8", "10.0.0.0/8"), 1);
}

static void test_refused(void **state)
{
    char *big;
    size_t n;

    (void)state;
    assert_int_equal(refused("", 0), 0);
    assert_int_equal(refused("   ", 3), 3);
    assert_int_equal(refused("\"unterminated", 13), 0);
    assert_int_equal(refused("a \"b", 4), 2);
    assert_int_equal(refused("(a", 2), 0);
    assert_int_equal(refused("a)", 2), 1);
    assert_int_equal(refused("()", 2), 1);
    assert_int_equal(refused("a AND", 5), 5);
    assert_int_equal(refused("a OR", 4), 4);
    assert_int_equal(refused("NOT", 3), 3);
    assert_int_equal(refused("\"\"", 2), 0);
    assert_int_equal(refused("user.name=", 10), 10);
    assert_int_equal(refused("user.name=(a)", 13), 10);
    assert_int_equal(refused("user.name= a", 12), 10);
    assert_int_equal(refused("source.port>abc", 15), 12);
    assert_int_equal(refused("url.original~/(/", 16), 13);
    assert_int_equal(refused("url.original~/abc", 17), 13);
    assert_int_equal(refused("a\0b", 3), 1);
    /* nesting past the cap */
    big = malloc(HUNT_QUERY_MAX_LEN + 2);
    assert_non_null(big);
    n = 0;
    for (int i = 0; i < HUNT_QUERY_MAX_DEPTH + 1; i++)
        big[n++] = '(';
    big[n++] = 'a';
    for (int i = 0; i < HUNT_QUERY_MAX_DEPTH + 1; i++)
        big[n++] = ')';
    assert_int_equal(refused(big, n), HUNT_QUERY_MAX_DEPTH);
    /* just inside the cap parses */
    {
        struct hunt_query *q;
        struct parse_err pe;

        assert_int_equal(hunt_query_parse(big + 1, n - 2, &q, &pe), 0);
        hunt_query_free(q);
    }
    n = 0;
    for (int i = 0; i < HUNT_QUERY_MAX_DEPTH + 1; i++) {
        memcpy(big + n, "NOT ", 4);
        n += 4;
    }
    big[n++] = 'a';
    assert_int_equal(refused(big, n), HUNT_QUERY_MAX_DEPTH * 4);
    /* too long */
    memset(big, 'a', HUNT_QUERY_MAX_LEN + 1);
    refused(big, HUNT_QUERY_MAX_LEN + 1);
    /* too many terms */
    n = 0;
    while (n + 2 <= HUNT_QUERY_MAX_LEN) {
        big[n++] = 'a';
        big[n++] = ' ';
    }
    refused(big, n);
    /* a huge regex */
    memcpy(big, "x~/", 3);
    memset(big + 3, 'a', HUNT_QUERY_MAX_REGEX_LEN + 1);
    big[3 + HUNT_QUERY_MAX_REGEX_LEN + 1] = '/';
    assert_int_equal(refused(big, HUNT_QUERY_MAX_REGEX_LEN + 5), 2);
    /* too many regexes */
    n = 0;
    for (int i = 0; i < HUNT_QUERY_MAX_REGEX + 1; i++)
        n += (size_t)sprintf(big + n, "x~/a/ ");
    refused(big, n);
    free(big);
}

static void test_regex_effort_bounded(void **state)
{
    struct hunt_query *q;
    struct parse_err pe;
    char line[4096];
    const char *query = "_raw~/^(a+)+$/";

    (void)state;
    /* catastrophic backtracking: stops at the match limit, counts it, does
     * not match */
    memset(line, 'a', sizeof(line) - 2);
    line[sizeof(line) - 2] = 'b';
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(hunt_query_parse(query, strlen(query), &q, &pe), 0);
    arena_reset(&arena);
    event_init(&ev, &arena, line, strlen(line), 0);
    assert_false(hunt_query_match(q, &ev));
    assert_int_equal(hunt_query_regex_errors(q), 1);
    hunt_query_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_terms),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_field_equal),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_needs_fields_and_prefilter),
        cmocka_unit_test(test_block_may_match),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_regex_effort_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
