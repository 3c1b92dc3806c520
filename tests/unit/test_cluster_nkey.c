/*
 * test_cluster_nkey.c - a NATS user seed to its public key
 * (src/cluster/cluster_nkey.c): a known seed gives the public key that
 * tests/e2e/nkeys_gen.py (PyNaCl) gives for it, and that nats-server
 * accepts in tests/e2e/e2e_nats_nkey.py; every way a seed file can be
 * wrong is refused with its reason; a .creds file's seed section is found
 * and anything else refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster_nkey.h"

/* ed25519 seed bytes 0, 1, ..., 31 as a user seed and its public key
 * (tests/e2e/nkeys_gen.py, independently written in Python with PyNaCl) */
#define SEED "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y"
#define PUB "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK"
/* the same 32 bytes as an account's seed */
#define ACCOUNT_SEED "SAAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4HYMHI"

static int derive(const char *text, char *pub, const char **why)
{
    *why = NULL;
    return cluster_nkey_user_public(text, strlen(text), pub, why);
}

static void test_known_seed(void **state)
{
    char pub[CLUSTER_NKEY_PUBLIC_LEN + 1];
    const char *why;

    (void)state;
    assert_int_equal(derive(SEED, pub, &why), 0);
    assert_string_equal(pub, PUB);
    /* a file's line end and blanks around it */
    assert_int_equal(derive("  " SEED "\r\n\n", pub, &why), 0);
    assert_string_equal(pub, PUB);
}

static void test_encode_roundtrip(void **state)
{
    unsigned char seed[32];
    char text[CLUSTER_NKEY_SEED_LEN + 1], pub[CLUSTER_NKEY_PUBLIC_LEN + 1];
    const char *why;

    (void)state;
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)i;
    cluster_nkey_user_seed(seed, text);
    assert_string_equal(text, SEED);
    memset(seed, 0xff, sizeof(seed));
    cluster_nkey_user_seed(seed, text);
    assert_int_equal(strlen(text), CLUSTER_NKEY_SEED_LEN);
    assert_int_equal(derive(text, pub, &why), 0);
    assert_int_equal(pub[0], 'U');
    assert_int_equal(strlen(pub), CLUSTER_NKEY_PUBLIC_LEN);
}

static void refused(const char *text, const char *want)
{
    char pub[CLUSTER_NKEY_PUBLIC_LEN + 1];
    const char *why;

    assert_int_equal(derive(text, pub, &why), -EINVAL);
    assert_non_null(why);
    if (!strstr(why, want))
        fail_msg("%s: %s, not %s", text, why, want);
    assert_string_equal(pub, "");
}

static void test_refused(void **state)
{
    char s[CLUSTER_NKEY_SEED_LEN + 1];

    (void)state;
    refused("", "empty");
    refused(" \n", "empty");
    refused(SEED "A", "not one NKey seed");
    refused(PUB, "not one NKey seed");
    refused("SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y SU", "not one NKey seed");
    /* lower case, '1' and '=' are not in the alphabet */
    memcpy(s, SEED, sizeof(s));
    s[10] = 'a';
    refused(s, "not base32");
    s[10] = '1';
    refused(s, "not base32");
    s[10] = '=';
    refused(s, "not base32");
    /* one character changed: the checksum catches it */
    memcpy(s, SEED, sizeof(s));
    s[20] = s[20] == 'A' ? 'B' : 'A';
    refused(s, "checksum");
    /* the two padding bits at the end set */
    memcpy(s, SEED, sizeof(s));
    s[CLUSTER_NKEY_SEED_LEN - 1] = 'Z';
    refused(s, "not base32");
    /* an account's seed, whose checksum is right */
    refused(ACCOUNT_SEED, "not a user's");
}

#define JWT "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln"
#define CREDS_JWT "-----BEGIN NATS USER JWT-----\n" JWT "\n------END NATS USER JWT------\n\n"
#define CREDS_SEED(seed)                                                                           \
    "-----BEGIN USER NKEY SEED-----\n" seed "\n------END USER NKEY SEED------\n"

static int creds(const char *text, char *pub, const char **why)
{
    *why = NULL;
    return cluster_nkey_creds_user_public(text, strlen(text), pub, why);
}

static void test_creds(void **state)
{
    char pub[CLUSTER_NKEY_PUBLIC_LEN + 1];
    const char *why;

    (void)state;
    /* as nsc writes it, with its warning between the sections */
    assert_int_equal(creds(CREDS_JWT
                           "****** IMPORTANT ******\nNKEY Seed printed below.\n\n" CREDS_SEED(SEED),
                           pub, &why),
                     0);
    assert_string_equal(pub, PUB);
    /* Windows line ends */
    assert_int_equal(
        creds("-----BEGIN NATS USER JWT-----\r\n" JWT "\r\n------END NATS USER JWT------\r\n"
              "-----BEGIN USER NKEY SEED-----\r\n" SEED "\r\n------END USER NKEY SEED------\r\n",
              pub, &why),
        0);
    assert_string_equal(pub, PUB);
    /* no JWT, no seed, the seed before the JWT, an unterminated section */
    assert_int_equal(creds(CREDS_SEED(SEED), pub, &why), -EINVAL);
    assert_non_null(strstr(why, "not a .creds file"));
    assert_int_equal(creds(CREDS_JWT, pub, &why), -EINVAL);
    assert_non_null(strstr(why, "not a .creds file"));
    assert_int_equal(creds(CREDS_SEED(SEED) CREDS_JWT, pub, &why), -EINVAL);
    assert_non_null(strstr(why, "not a .creds file"));
    assert_int_equal(creds(CREDS_JWT "-----BEGIN USER NKEY SEED-----\n" SEED "\n", pub, &why),
                     -EINVAL);
    assert_non_null(strstr(why, "not a .creds file"));
    /* the seed section holds an account's seed, or two seeds */
    assert_int_equal(creds(CREDS_JWT CREDS_SEED(ACCOUNT_SEED), pub, &why), -EINVAL);
    assert_non_null(strstr(why, "not a user's"));
    assert_int_equal(creds(CREDS_JWT CREDS_SEED(SEED "\n" SEED), pub, &why), -EINVAL);
    assert_non_null(strstr(why, "not one NKey seed"));
    assert_string_equal(pub, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_seed),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_creds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
