/*
 * test_cidr.c - util/cidr.c: networks in text, membership, normal form.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "util/cidr.h"

struct good_case {
    const char *in;
    uint8_t family, prefix;
    const char *out; /* cidr_format() of the result */
};

static const struct good_case good[] = {
    {"192.0.2.7", 4, 32, "192.0.2.7"},
    {"10.1.2.3/8", 4, 8, "10.0.0.0/8"},
    {"0.0.0.0/0", 4, 0, "0.0.0.0/0"},
    {"172.16.0.0/12", 4, 12, "172.16.0.0/12"},
    {"2001:db8::1", 6, 128, "2001:db8::1"},
    {"2001:db8:ffff::/33", 6, 33, "2001:db8:8000::/33"},
    {"::/0", 6, 0, "::/0"},
    {"::ffff:192.0.2.7", 4, 32, "192.0.2.7"},
    {"::ffff:10.0.0.0/104", 4, 8, "10.0.0.0/8"},
};

static const char *const bad[] = {
    "",
    "/8",
    "10.0.0.0/",
    "10.0.0.0/33",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
    "10.0.0.0/0008",
    "2001:db8::/129",
    "host.example",
    "10.0.0",
    "1.2.3.4.5",
    "::ffff:10.0.0.0/95",
    "10.0.0.0/8/8",
    "[::1]",
    "2001:db8::1%eth0",
};

static void test_parse_good(void **state)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct cidr n;
        char buf[CIDR_TEXT_MAX];

        if (cidr_parse(good[i].in, strlen(good[i].in), &n) != 0)
            fail_msg("case %zu: %s did not parse", i, good[i].in);
        assert_int_equal(n.family, good[i].family);
        assert_int_equal(n.prefix, good[i].prefix);
        assert_string_equal(cidr_format(&n, buf, sizeof(buf)), good[i].out);
    }
}

static void test_parse_bad(void **state)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cidr n;

        if (cidr_parse(bad[i], strlen(bad[i]), &n) != -EINVAL)
            fail_msg("case %zu: %s parsed", i, bad[i]);
    }
}

/* Only len bytes are read: the rest of the buffer is not part of it. */
static void test_parse_len(void **state)
{
    struct cidr n;

    assert_int_equal(cidr_parse("10.0.0.1/24junk", 11, &n), 0);
    assert_int_equal(n.prefix, 24);
    assert_int_equal(cidr_parse("10.0.0.1/24junk", 12, &n), -EINVAL);
}

static void test_contains(void **state)
{
    struct cidr nets[2];
    uint8_t a[16] = {0};

    assert_int_equal(cidr_parse("10.0.0.0/9", 10, &nets[0]), 0);
    assert_int_equal(cidr_parse("2001:db8::/32", 13, &nets[1]), 0);
    memcpy(a, (uint8_t[]){10, 127, 255, 255}, 4);
    assert_true(cidr_contains(&nets[0], 4, a));
    a[1] = 128; /* the first address past /9 */
    assert_false(cidr_contains(&nets[0], 4, a));
    /* The same bytes as IPv6 are not in an IPv4 network. */
    a[1] = 0;
    assert_false(cidr_contains(&nets[0], 6, a));
    memcpy(a, (uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0xff}, 5);
    assert_true(cidr_list_contains(nets, 2, 6, a));
    a[3] = 0xb9;
    assert_false(cidr_list_contains(nets, 2, 6, a));
    assert_false(cidr_list_contains(nets, 0, 6, a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_len),
        cmocka_unit_test(test_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
