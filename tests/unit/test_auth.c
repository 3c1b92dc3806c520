/*
 * test_auth.c - roles, password hashes, API tokens, the Authorization
 * header, and the rate limiter (with a fake clock, and over the failed
 * logins of a real sshd log).
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sodium.h>

#include "api/auth.h"
#include "util/parse_err.h"

#define SEC 1000000LL

static int group_setup(void **state)
{
    (void)state;
    return auth_init() == 0 && auth_init() == 0 ? 0 : -1;
}

/* ---- roles ------------------------------------------------------------- */

static void test_roles(void **state)
{
    static const struct {
        const char *s;
        int ok;
        enum auth_role role;
    } parse[] = {
        {"viewer", 1, AUTH_ROLE_VIEWER}, {"analyst", 1, AUTH_ROLE_ANALYST},
        {"lead", 1, AUTH_ROLE_LEAD},     {"Lead", 0, AUTH_ROLE_NONE},
        {"admin", 1, AUTH_ROLE_ADMIN},   {"Admin", 0, AUTH_ROLE_NONE},
        {"admin ", 0, AUTH_ROLE_NONE},   {"adm", 0, AUTH_ROLE_NONE},
        {"", 0, AUTH_ROLE_NONE},         {"none", 0, AUTH_ROLE_NONE},
        {"root", 0, AUTH_ROLE_NONE},
    };
    /* allows[have][need], have and need from NONE to ADMIN. */
    static const int allows[5][5] = {
        {0, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 1, 1, 0, 0}, {0, 1, 1, 1, 0}, {0, 1, 1, 1, 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
        enum auth_role r = AUTH_ROLE_NONE;
        int rc = auth_role_parse(parse[i].s, strlen(parse[i].s), &r);

        if (parse[i].ok) {
            assert_int_equal(rc, 0);
            assert_int_equal(r, parse[i].role);
            assert_string_equal(auth_role_name(r), parse[i].s);
        } else {
            assert_int_equal(rc, -EINVAL);
        }
    }
    /* "admin" as the first 5 bytes of a longer buffer: length decides. */
    {
        enum auth_role r;
        assert_int_equal(auth_role_parse("adminx", 5, &r), 0);
        assert_int_equal(r, AUTH_ROLE_ADMIN);
        assert_int_equal(auth_role_parse(NULL, 0, &r), -EINVAL);
    }
    for (int h = 0; h < 5; h++)
        for (int n = 0; n < 5; n++)
            assert_int_equal(auth_role_allows((enum auth_role)h, (enum auth_role)n), allows[h][n]);
    assert_int_equal(auth_role_allows((enum auth_role)7, AUTH_ROLE_VIEWER), 0);
    assert_int_equal(auth_role_allows(AUTH_ROLE_ADMIN, (enum auth_role)7), 0);
    assert_string_equal(auth_role_name((enum auth_role)7), "none");
    assert_string_equal(auth_role_name(AUTH_ROLE_NONE), "none");
}

/* ---- passwords --------------------------------------------------------- */

static void test_password_round_trip(void **state)
{
    const char *pw = "correct horse battery staple";
    char h1[AUTH_PWHASH_STRLEN], h2[AUTH_PWHASH_STRLEN];

    (void)state;
    assert_int_equal(auth_password_hash(pw, strlen(pw), h1), 0);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_int_equal(auth_password_verify(h1, pw, strlen(pw)), 0);
    /* Wrong, prefix, longer, empty: all refused alike. */
    assert_int_equal(auth_password_verify(h1, "correct horse battery stapl", 27), -EACCES);
    assert_int_equal(auth_password_verify(h1, "correct horse battery staple!", 29), -EACCES);
    assert_int_equal(auth_password_verify(h1, pw, 12), -EACCES);
    assert_int_equal(auth_password_verify(h1, "", 0), -EACCES);
    /* Salted: the same password never hashes the same twice. */
    assert_int_equal(auth_password_hash(pw, strlen(pw), h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(auth_password_verify(h2, pw, strlen(pw)), 0);
    assert_int_equal(auth_password_needs_rehash(h1), 0);
    /* Damaged or foreign stored strings are an error, not a mismatch. */
    h2[20] = '\0';
    assert_int_equal(auth_password_verify(h2, pw, strlen(pw)), -EINVAL);
    assert_int_equal(auth_password_verify("$2y$10$abcdefghijklmnopqrstuv", pw, strlen(pw)),
                     -EINVAL);
    assert_int_equal(auth_password_verify(NULL, pw, strlen(pw)), -EINVAL);
}

static void test_password_rules(void **state)
{
    char h[AUTH_PWHASH_STRLEN], big[AUTH_PASSWORD_MAX + 2];
    const char *msg;

    (void)state;
    msg = auth_password_check("short", 5);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "too short"));
    assert_int_equal(auth_password_hash("short", 5, h), -EINVAL);
    assert_int_equal(auth_password_hash("elevenchars", 11, h), -EINVAL);
    assert_null(auth_password_check("twelve chars", 12));
    /* Twelve bytes but six characters (each two bytes in UTF-8). */
    assert_non_null(auth_password_check("\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", 12));
    assert_non_null(strstr(auth_password_check("a password\0with NUL", 19), "NUL"));
    assert_int_equal(auth_password_hash("a password\0with NUL", 19, h), -EINVAL);
    memset(big, 'x', sizeof(big));
    assert_non_null(strstr(auth_password_check(big, AUTH_PASSWORD_MAX + 1), "too long"));
    assert_int_equal(auth_password_hash(big, AUTH_PASSWORD_MAX + 1, h), -E2BIG);
    assert_null(auth_password_check(big, AUTH_PASSWORD_MAX));

    /* A hash made at another cost still verifies but asks to be redone. */
    assert_int_equal(crypto_pwhash_str(h, "twelve chars", 12,
                                       crypto_pwhash_OPSLIMIT_INTERACTIVE + 1,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    assert_int_equal(auth_password_verify(h, "twelve chars", 12), 0);
    assert_int_equal(auth_password_needs_rehash(h), 1);
    assert_int_equal(auth_password_needs_rehash("garbage"), 1);
}

/* ---- tokens ------------------------------------------------------------ */

static int b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void test_tokens(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char tok[5][AUTH_TOKEN_STRLEN], bad[AUTH_TOKEN_STRLEN + 2];
    unsigned char stored[5][AUTH_TOKEN_HASHLEN], h[AUTH_TOKEN_HASHLEN];
    size_t idx = 99;

    (void)state;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(auth_token_new(tok[i], stored[i]), 0);
        assert_int_equal(strlen(tok[i]), AUTH_TOKEN_LEN);
        assert_int_equal(strncmp(tok[i], "hks_", 4), 0);
        for (int k = 4; k < AUTH_TOKEN_LEN; k++)
            assert_true(b64url_char(tok[i][k]));
        /* The stored hash is what auth_token_hash gives for the text ... */
        assert_int_equal(auth_token_hash(tok[i], AUTH_TOKEN_LEN, h), 0);
        assert_memory_equal(h, stored[i], AUTH_TOKEN_HASHLEN);
        /* ... which is BLAKE2b-256 of the text, computed here directly. */
        crypto_generichash(h, sizeof(h), (const unsigned char *)tok[i], AUTH_TOKEN_LEN, NULL, 0);
        assert_memory_equal(h, stored[i], AUTH_TOKEN_HASHLEN);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(tok[i], tok[j]);
    }
    /* Lookup finds each token at its own index, from a header-like view. */
    for (size_t i = 0; i < 5; i++) {
        char hdr[5 * AUTH_TOKEN_STRLEN + 16];

        snprintf(hdr, sizeof(hdr), "%s trailing", tok[i]);
        assert_int_equal(auth_token_find(hdr, AUTH_TOKEN_LEN, stored, 5, &idx), 0);
        assert_int_equal(idx, i);
    }
    /* A well-formed token that was never issued. */
    assert_int_equal(auth_token_find(tok[4], AUTH_TOKEN_LEN, stored, 4, &idx), -ENOENT);
    assert_int_equal(auth_token_find(tok[0], AUTH_TOKEN_LEN, stored, 0, &idx), -ENOENT);

    /* Malformed tokens never reach a lookup. */
    assert_int_equal(auth_token_hash(tok[0], AUTH_TOKEN_LEN - 1, h), -EINVAL);
    assert_int_equal(auth_token_hash(tok[0], 0, h), -EINVAL);
    assert_int_equal(auth_token_hash(NULL, AUTH_TOKEN_LEN, h), -EINVAL);
    memcpy(bad, tok[0], AUTH_TOKEN_STRLEN);
    bad[0] = 'H';
    assert_int_equal(auth_token_hash(bad, AUTH_TOKEN_LEN, h), -EINVAL);
    memcpy(bad, tok[0], AUTH_TOKEN_STRLEN);
    bad[10] = '+';
    assert_int_equal(auth_token_hash(bad, AUTH_TOKEN_LEN, h), -EINVAL);
    bad[10] = '=';
    assert_int_equal(auth_token_find(bad, AUTH_TOKEN_LEN, stored, 5, &idx), -EINVAL);
    memcpy(bad, tok[0], AUTH_TOKEN_STRLEN);
    bad[AUTH_TOKEN_LEN] = 'A';
    assert_int_equal(auth_token_hash(bad, AUTH_TOKEN_LEN + 1, h), -EINVAL);
    /* Same 32 bytes, other spelling: the last character carries 2 unused
     * bits, and setting one must not give a second valid token. */
    memcpy(bad, tok[0], AUTH_TOKEN_STRLEN);
    {
        const char *at = strchr(alphabet, bad[AUTH_TOKEN_LEN - 1]);
        assert_non_null(at);
        bad[AUTH_TOKEN_LEN - 1] = alphabet[(at - alphabet) | 1];
    }
    assert_int_equal(auth_token_hash(bad, AUTH_TOKEN_LEN, h), -EINVAL);
}

/* ---- the Authorization header ------------------------------------------ */

enum hkind { H_BEARER, H_BASIC, H_ERR };

struct hcase {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    int rc;
    enum hkind kind;
    const char *want_token; /* Bearer */
};

static void test_header_table(void **state)
{
    static const struct hcase table[] = {
        {"bearer", "Bearer hks_abc-DEF_123", 0, 0, H_BEARER, "hks_abc-DEF_123"},
        {"scheme case", "bEARER tok", 0, 0, H_BEARER, "tok"},
        {"several spaces", "Bearer    tok", 0, 0, H_BEARER, "tok"},
        {"spaces around", "  Bearer tok \t", 0, 0, H_BEARER, "tok"},
        {"token68 padding", "Bearer abc==", 0, 0, H_BEARER, "abc=="},
        {"token68 chars", "Bearer a.b~c+d/e", 0, 0, H_BEARER, "a.b~c+d/e"},
        {"missing", "", 0, -ENOENT, H_ERR, NULL},
        {"only spaces", "   ", 0, -ENOENT, H_ERR, NULL},
        {"no credentials", "Bearer", 0, -EINVAL, H_ERR, NULL},
        {"no credentials, space", "Bearer ", 0, -EINVAL, H_ERR, NULL},
        {"wrong scheme", "Digest username=\"x\"", 0, -ENOTSUP, H_ERR, NULL},
        {"wrong scheme 2", "Token abc", 0, -ENOTSUP, H_ERR, NULL},
        {"scheme prefix", "Bearerx abc", 0, -ENOTSUP, H_ERR, NULL},
        {"tab after scheme", "Bearer\tabc", 0, -EINVAL, H_ERR, NULL},
        {"two tokens", "Bearer abc def", 0, -EINVAL, H_ERR, NULL},
        {"comma", "Bearer abc, Basic x", 0, -EINVAL, H_ERR, NULL},
        {"padding first", "Bearer =abc", 0, -EINVAL, H_ERR, NULL},
        {"char after padding", "Bearer ab=c", 0, -EINVAL, H_ERR, NULL},
        {"embedded NUL", "Bearer ab\0cd", 12, -EINVAL, H_ERR, NULL},
        {"NUL in scheme", "Bea\0rer abc", 11, -EINVAL, H_ERR, NULL},
        {"newline", "Bearer abc\r\nX: y", 0, -EINVAL, H_ERR, NULL},
        {"high byte", "Bearer ab\xc3\xa9", 0, -EINVAL, H_ERR, NULL},
        {"bad base64", "Basic ****", 0, -EINVAL, H_ERR, NULL},
        {"base64 extra pad", "Basic dXNlcjpwYXNz=", 0, -EINVAL, H_ERR, NULL},
        {"base64 no pad", "Basic dXNlcjpwYXM", 0, -EINVAL, H_ERR, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct hcase *c = &table[i];
        size_t len = c->len ? c->len : strlen(c->in);
        struct parse_err err = {0};
        struct auth_header h;
        int rc = auth_header_parse(c->in, len, &h, &err);

        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, err.msg ? err.msg : "");
        if (c->kind == H_BEARER) {
            assert_int_equal(h.scheme, AUTH_SCHEME_BEARER);
            assert_int_equal(h.token_len, strlen(c->want_token));
            assert_memory_equal(h.token, c->want_token, h.token_len);
            /* A view into the header, not a copy. */
            assert_true(h.token >= c->in && h.token + h.token_len <= c->in + len);
        } else {
            assert_non_null(err.msg);
            assert_true(err.off <= len);
        }
        auth_header_done(&h);
    }
    assert_int_equal(auth_header_parse(NULL, 0, &(struct auth_header){0}, NULL), -ENOENT);
}

static void test_header_oversized(void **state)
{
    char *big = malloc(AUTH_HEADER_MAX + 16);
    struct auth_header h;

    (void)state;
    assert_non_null(big);
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', AUTH_HEADER_MAX + 9);
    assert_int_equal(auth_header_parse(big, AUTH_HEADER_MAX + 1, &h, NULL), -E2BIG);
    assert_int_equal(auth_header_parse(big, AUTH_HEADER_MAX, &h, NULL), 0);
    assert_int_equal(h.token_len, AUTH_HEADER_MAX - 7);
    free(big);
}

struct bcase {
    const char *creds; /* decoded user:password, base64-encoded by the test */
    size_t len;        /* 0: strlen */
    int rc;
    const char *user, *password;
};

static void test_header_basic(void **state)
{
    static const struct bcase table[] = {
        {"admin:correct horse battery staple", 0, 0, "admin", "correct horse battery staple"},
        {"alice:p:q", 0, 0, "alice", "p:q"},
        {"bob:", 0, 0, "bob", ""},
        {"\xc3\xa9lise:mot de passe", 0, 0, "\xc3\xa9lise", "mot de passe"},
        {"nocolon", 0, -EINVAL, NULL, NULL},
        {":password", 0, -EINVAL, NULL, NULL},
        {"user\n:pw", 0, -EINVAL, NULL, NULL},
        {"user:p\0w", 8, -EINVAL, NULL, NULL},
        {"user:pw\x7f", 0, -EINVAL, NULL, NULL},
    };
    char hdr[256], big[AUTH_BASIC_MAX + 8], bighdr[2 * AUTH_BASIC_MAX];
    struct auth_header h;

    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct bcase *c = &table[i];
        size_t len = c->len ? c->len : strlen(c->creds);
        int rc;

        memcpy(hdr, "Basic ", 6);
        sodium_bin2base64(hdr + 6, sizeof(hdr) - 6, (const unsigned char *)c->creds, len,
                          sodium_base64_VARIANT_ORIGINAL);
        rc = auth_header_parse(hdr, strlen(hdr), &h, NULL);
        if (rc != c->rc)
            fail_msg("basic #%zu: rc %d, want %d", i, rc, c->rc);
        if (rc == 0) {
            assert_int_equal(h.scheme, AUTH_SCHEME_BASIC);
            assert_int_equal(h.user_len, strlen(c->user));
            assert_string_equal(h.user, c->user);
            assert_int_equal(h.password_len, strlen(c->password));
            assert_string_equal(h.password, c->password);
        }
        auth_header_done(&h);
    }
    /* Decoded credentials longer than AUTH_BASIC_MAX are refused. */
    memset(big, 'u', sizeof(big));
    big[10] = ':';
    memcpy(bighdr, "Basic ", 6);
    sodium_bin2base64(bighdr + 6, sizeof(bighdr) - 6, (const unsigned char *)big,
                      AUTH_BASIC_MAX + 1, sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(auth_header_parse(bighdr, strlen(bighdr), &h, NULL), -EINVAL);
    sodium_bin2base64(bighdr + 6, sizeof(bighdr) - 6, (const unsigned char *)big, AUTH_BASIC_MAX,
                      sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(auth_header_parse(bighdr, strlen(bighdr), &h, NULL), 0);
    assert_int_equal(h.password_len, AUTH_BASIC_MAX - 11);
    auth_header_done(&h);
}

/* ---- rate limiting ----------------------------------------------------- */

/* The key of a client address: never the port; IPv6 by its /64; an
 * IPv4-mapped address as the IPv4 address it is. */
static void test_ratelimit_addr_key(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40001)};
    struct sockaddr_in b = a;
    struct sockaddr_in6 x = {.sin6_family = AF_INET6, .sin6_port = htons(40001)};
    struct sockaddr_in6 y = x;
    struct sockaddr_in6 m = x;
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    char ka[AUTH_ADDR_KEY_MAX], kb[AUTH_ADDR_KEY_MAX];

    (void)state;
    inet_pton(AF_INET, "192.0.2.7", &a.sin_addr);
    inet_pton(AF_INET, "192.0.2.7", &b.sin_addr);
    b.sin_port = htons(40002);
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&a, ka, sizeof(ka)),
                        "192.0.2.7");
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&b, kb, sizeof(kb)), ka);
    inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &x.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2::1", &y.sin6_addr);
    y.sin6_port = htons(9);
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&x, ka, sizeof(ka)),
                        "2001:db8:1:2::/64");
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&y, kb, sizeof(kb)), ka);
    /* The next /64 is another client. */
    inet_pton(AF_INET6, "2001:db8:1:3::1", &y.sin6_addr);
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&y, kb, sizeof(kb)),
                        "2001:db8:1:3::/64");
    inet_pton(AF_INET6, "::ffff:198.51.100.9", &m.sin6_addr);
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&m, ka, sizeof(ka)),
                        "198.51.100.9");
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&u, ka, sizeof(ka)), "?");
    assert_string_equal(auth_ratelimit_addr_key(NULL, ka, sizeof(ka)), "?");
    /* The longest form fits. */
    memset(&x.sin6_addr, 0xab, sizeof(x.sin6_addr));
    assert_string_equal(auth_ratelimit_addr_key((struct sockaddr *)&x, ka, sizeof(ka)),
                        "abab:abab:abab:abab::/64");
}

static void test_ratelimit_bucket(void **state)
{
    struct auth_ratelimit *rl = auth_ratelimit_new(2.0, 3, 16);
    int64_t t = 1000 * SEC;

    (void)state;
    assert_non_null(rl);
    /* The burst, then refusal. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 0);
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 0);
    /* Other keys have their own buckets. */
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.2", t), 1);
    /* 2 per second: 0.4 s gives 0.8 of a token (not enough), 0.5 s one. */
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t + 400000), 0);
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t + 500000), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t + 500000), 0);
    /* A clock going back adds nothing. */
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 0);
    /* A long pause refills only up to the burst. */
    t += 100 * SEC;
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "192.0.2.1", t), 0);
    /* Keys too long or absent are refused outright. */
    {
        char k[AUTH_RATELIMIT_KEY_MAX + 2];
        memset(k, 'k', sizeof(k) - 1);
        k[sizeof(k) - 1] = '\0';
        assert_int_equal(auth_ratelimit_allow(rl, k, t), 0);
        k[AUTH_RATELIMIT_KEY_MAX] = '\0';
        assert_int_equal(auth_ratelimit_allow(rl, k, t), 1);
    }
    assert_int_equal(auth_ratelimit_allow(rl, NULL, t), 0);
    assert_int_equal(auth_ratelimit_allow(NULL, "x", t), 0);
    auth_ratelimit_free(rl);
    auth_ratelimit_free(NULL);

    assert_null(auth_ratelimit_new(0, 3, 16));
    assert_null(auth_ratelimit_new(-1, 3, 16));
    assert_null(auth_ratelimit_new(1, 0, 16));
    assert_null(auth_ratelimit_new(1, 3, 0));
    /* Faster than one per µs, or a bucket that would take ages to refill. */
    assert_null(auth_ratelimit_new(2e6, 3, 16));
    assert_null(auth_ratelimit_new(1e-9, 4000000000u, 16));
}

static void test_ratelimit_bounded(void **state)
{
    struct auth_ratelimit *rl = auth_ratelimit_new(0.001, 2, 4);
    const int64_t t = 5 * SEC;
    char key[32];

    (void)state;
    assert_non_null(rl);
    /* A, B, C, D fill the table; A is exhausted. */
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 0);
    assert_int_equal(auth_ratelimit_allow(rl, "B", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "C", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "D", t), 1);
    assert_int_equal(auth_ratelimit_count(rl), 4);
    /* A used again (refused, but recent): E evicts B, the oldest, not A. */
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 0);
    assert_int_equal(auth_ratelimit_allow(rl, "E", t), 1);
    assert_int_equal(auth_ratelimit_count(rl), 4);
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 0);
    /* B was forgotten: it starts again with a full bucket (2), where a
     * remembered B would have had 1 left. */
    assert_int_equal(auth_ratelimit_allow(rl, "B", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "B", t), 1);
    assert_int_equal(auth_ratelimit_allow(rl, "B", t), 0);
    /* A flood of new keys never grows the table; A is pushed out too. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "198.51.100.%d", i);
        assert_int_equal(auth_ratelimit_allow(rl, key, t), 1);
        assert_true(auth_ratelimit_count(rl) <= 4);
    }
    assert_int_equal(auth_ratelimit_count(rl), 4);
    assert_int_equal(auth_ratelimit_allow(rl, "A", t), 1);
    auth_ratelimit_free(rl);
}

/*
 * The failed logins of a real sshd log, keyed by source address, with
 * time frozen: each address gets exactly its burst, so the number allowed
 * is the sum over addresses of min(attempts, burst), counted here apart.
 */
static void test_ratelimit_real_ssh(void **state)
{
    enum { BURST = 5, MAXIP = 512 };
    struct {
        char ip[48];
        int n;
    } *ips = calloc(MAXIP, sizeof(*ips));
    struct auth_ratelimit *rl = auth_ratelimit_new(1.0 / 60, BURST, 4096);
    char p[512], line[1024];
    int nips = 0, attempts = 0, allowed = 0, want = 0;
    const char *dirp = getenv("HIKESHI_SHARED");
    FILE *f;

    (void)state;
    assert_non_null(ips);
    assert_non_null(rl);
    snprintf(p, sizeof(p), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
             dirp && *dirp ? dirp : "../shared");
    f = fopen(p, "r");
    if (!f)
        fail_msg("sample missing: %s", p);
    while (fgets(line, sizeof(line), f)) {
        const char *from = strstr(line, "Failed password");
        char ip[48];
        int k;

        if (!from || !(from = strstr(from, " from ")) || sscanf(from, " from %47s", ip) != 1)
            continue;
        attempts++;
        allowed += auth_ratelimit_allow(rl, ip, 42 * SEC);
        for (k = 0; k < nips && strcmp(ips[k].ip, ip) != 0; k++)
            ;
        if (k == nips) {
            assert_true(nips < MAXIP);
            memcpy(ips[nips++].ip, ip, sizeof(ip));
        }
        ips[k].n++;
    }
    fclose(f);
    for (int k = 0; k < nips; k++)
        want += ips[k].n < BURST ? ips[k].n : BURST;
    print_message("OpenSSH_2k: %d failed passwords from %d addresses, %d allowed\n", attempts, nips,
                  allowed);
    assert_int_equal(attempts, 520);
    assert_true(nips > 1);
    assert_int_equal(allowed, want);
    assert_true(allowed < attempts);
    assert_int_equal(auth_ratelimit_count(rl), (size_t)nips);
    auth_ratelimit_free(rl);
    free(ips);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_password_round_trip),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_header_table),
        cmocka_unit_test(test_header_oversized),
        cmocka_unit_test(test_header_basic),
        cmocka_unit_test(test_ratelimit_addr_key),
        cmocka_unit_test(test_ratelimit_bucket),
        cmocka_unit_test(test_ratelimit_bounded),
        cmocka_unit_test(test_ratelimit_real_ssh),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
