/*
 * auth.c - roles, password hashes, API tokens, the Authorization header and
 * the per-client rate limiter (see auth.h).
 */
#include "api/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/htable.h"

_Static_assert(AUTH_PWHASH_STRLEN >= crypto_pwhash_STRBYTES, "room for the Argon2id string");
_Static_assert(AUTH_TOKEN_HASHLEN >= crypto_generichash_BYTES_MIN &&
                   AUTH_TOKEN_HASHLEN <= crypto_generichash_BYTES_MAX,
               "BLAKE2b output length");

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -EIO;

static void init_sodium(void)
{
    init_result = sodium_init() < 0 ? -EIO : 0;
}

int auth_init(void)
{
    pthread_once(&init_once, init_sodium);
    return init_result;
}

/* ---- roles ------------------------------------------------------------- */

static const char *const role_names[] = {
    [AUTH_ROLE_NONE] = "none",
    [AUTH_ROLE_VIEWER] = "viewer",
    [AUTH_ROLE_ANALYST] = "analyst",
    [AUTH_ROLE_LEAD] = "lead",
    [AUTH_ROLE_ADMIN] = "admin",
};

int auth_role_parse(const char *s, size_t len, enum auth_role *ret)
{
    for (int r = AUTH_ROLE_VIEWER; r <= AUTH_ROLE_ADMIN; r++) {
        if (s && strlen(role_names[r]) == len && memcmp(s, role_names[r], len) == 0) {
            *ret = (enum auth_role)r;
            return 0;
        }
    }
    return -EINVAL;
}

const char *auth_role_name(enum auth_role role)
{
    if (role < AUTH_ROLE_VIEWER || role > AUTH_ROLE_ADMIN)
        return role_names[AUTH_ROLE_NONE];
    return role_names[role];
}

int auth_role_allows(enum auth_role have, enum auth_role need)
{
    if (have < AUTH_ROLE_VIEWER || have > AUTH_ROLE_ADMIN || need < AUTH_ROLE_VIEWER ||
        need > AUTH_ROLE_ADMIN)
        return 0;
    return have >= need;
}

/* ---- passwords --------------------------------------------------------- */

/*
 * Argon2id at libsodium's "interactive" cost (2 passes over 64 MiB, well
 * under a second): each login costs the server that much memory for that
 * long, so a stronger setting would let a burst of logins exhaust memory
 * before the rate limiter bites.  The stored string records its own
 * parameters, so raising them later only needs auth_password_needs_rehash.
 */
#define PW_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PW_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE

const char *auth_password_check(const char *pw, size_t len)
{
    size_t chars = 0;

    if (!pw)
        return "no password";
    if (len > AUTH_PASSWORD_MAX)
        return "password too long: at most 1024 bytes";
    if (memchr(pw, '\0', len))
        return "password contains a NUL byte";
    /* Count characters, not bytes, so a short password in a non-Latin
     * script is not accepted for its byte length. */
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)pw[i] & 0xc0) != 0x80;
    if (chars < AUTH_PASSWORD_MIN)
        return "password too short: at least 12 characters";
    return NULL;
}

int auth_password_hash(const char *pw, size_t len, char out[AUTH_PWHASH_STRLEN])
{
    if (auth_init() < 0)
        return -EIO;
    if (auth_password_check(pw, len))
        return len > AUTH_PASSWORD_MAX ? -E2BIG : -EINVAL;
    if (crypto_pwhash_str(out, pw, len, PW_OPS, PW_MEM) != 0)
        return -ENOMEM;
    return 0;
}

static int stored_ok(const char *stored)
{
    if (!stored || strnlen(stored, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
        return 0;
    return strncmp(stored, crypto_pwhash_argon2id_STRPREFIX,
                   strlen(crypto_pwhash_argon2id_STRPREFIX)) == 0 &&
           crypto_pwhash_str_needs_rehash(stored, PW_OPS, PW_MEM) >= 0;
}

int auth_password_verify(const char *stored, const char *pw, size_t len)
{
    if (auth_init() < 0)
        return -EIO;
    if (!stored_ok(stored))
        return -EINVAL;
    if (!pw || len > AUTH_PASSWORD_MAX)
        return -EACCES;
    return crypto_pwhash_str_verify(stored, pw, len) == 0 ? 0 : -EACCES;
}

int auth_password_needs_rehash(const char *stored)
{
    if (auth_init() < 0 || !stored_ok(stored))
        return 1;
    return crypto_pwhash_str_needs_rehash(stored, PW_OPS, PW_MEM) != 0;
}

/* ---- API tokens -------------------------------------------------------- */

#define TOKEN_RAW 32
#define TOKEN_PREFIX_LEN (sizeof(AUTH_TOKEN_PREFIX) - 1)
_Static_assert(TOKEN_PREFIX_LEN +
                       sodium_base64_ENCODED_LEN(TOKEN_RAW,
                                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                   AUTH_TOKEN_STRLEN,
               "token length");

int auth_token_new(char out[AUTH_TOKEN_STRLEN], unsigned char hash_out[AUTH_TOKEN_HASHLEN])
{
    unsigned char raw[TOKEN_RAW];

    if (auth_init() < 0)
        return -EIO;
    randombytes_buf(raw, sizeof(raw));
    memcpy(out, AUTH_TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    sodium_bin2base64(out + TOKEN_PREFIX_LEN, AUTH_TOKEN_STRLEN - TOKEN_PREFIX_LEN, raw,
                      sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return auth_token_hash(out, AUTH_TOKEN_LEN, hash_out);
}

/*
 * The hash is unkeyed and fast on purpose: a token carries 256 random bits,
 * so unlike a password it cannot be guessed from its hash, and lookups
 * happen on every request.
 */
int auth_token_hash(const char *tok, size_t len, unsigned char hash_out[AUTH_TOKEN_HASHLEN])
{
    unsigned char raw[TOKEN_RAW];
    size_t raw_len = 0;
    const char *end = NULL;

    if (!tok || len != AUTH_TOKEN_LEN || memcmp(tok, AUTH_TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return -EINVAL;
    /* Decoding (and discarding) checks the alphabet and that the unused
     * low bits of the last character are zero, so each token has exactly
     * one spelling. */
    if (sodium_base642bin(raw, sizeof(raw), tok + TOKEN_PREFIX_LEN, len - TOKEN_PREFIX_LEN, NULL,
                          &raw_len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        raw_len != TOKEN_RAW || end != tok + len) {
        sodium_memzero(raw, sizeof(raw));
        return -EINVAL;
    }
    sodium_memzero(raw, sizeof(raw));
    crypto_generichash(hash_out, AUTH_TOKEN_HASHLEN, (const unsigned char *)tok, len, NULL, 0);
    return 0;
}

int auth_csrf_token(const char *tok, size_t len, char out[AUTH_CSRF_STRLEN])
{
    static const char label[] = "hikeshi csrf v1";
    unsigned char h[AUTH_TOKEN_HASHLEN];
    int r;

    _Static_assert(sodium_base64_ENCODED_LEN(AUTH_TOKEN_HASHLEN,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
                       AUTH_CSRF_STRLEN,
                   "AUTH_CSRF_STRLEN fits the encoding");
    out[0] = '\0';
    if ((r = auth_token_hash(tok, len, h)) < 0)
        return r;
    /* Keyed with the token itself, so the value differs from the stored
     * hash (a copy of the store does not yield CSRF tokens). */
    crypto_generichash(h, sizeof(h), (const unsigned char *)label, sizeof(label) - 1,
                       (const unsigned char *)tok, len);
    sodium_bin2base64(out, AUTH_CSRF_STRLEN, h, sizeof(h),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(h, sizeof(h));
    return 0;
}

int auth_csrf_check(const char *tok, size_t len, const char *presented)
{
    char want[AUTH_CSRF_STRLEN];
    int r;

    if (!presented || strlen(presented) != AUTH_CSRF_STRLEN - 1 ||
        auth_csrf_token(tok, len, want) < 0)
        return -EACCES;
    r = sodium_memcmp(want, presented, AUTH_CSRF_STRLEN - 1) == 0 ? 0 : -EACCES;
    sodium_memzero(want, sizeof(want));
    return r;
}

int auth_token_find(const char *tok, size_t len, const unsigned char (*hashes)[AUTH_TOKEN_HASHLEN],
                    size_t n, size_t *ret_index)
{
    unsigned char h[AUTH_TOKEN_HASHLEN];
    size_t found = n;
    int r;

    if ((r = auth_token_hash(tok, len, h)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        int eq = sodium_memcmp(h, hashes[i], AUTH_TOKEN_HASHLEN) == 0;

        /* Branch-free select keeps going through all entries alike. */
        found = eq ? i : found;
    }
    if (found == n)
        return -ENOENT;
    *ret_index = found;
    return 0;
}

/* ---- the Authorization header ------------------------------------------ */

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 9110 tchar: the characters of a scheme name. */
static int is_tchar(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9110 token68 body characters (the trailing '=' are handled apart). */
static int is_t68(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~+/", c));
}

static int ieq(const char *a, size_t n, const char *lower)
{
    if (strlen(lower) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)lower[i])
            return 0;
    }
    return 1;
}

static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 1;
    }
    return 0;
}

static int basic_decode(const char *p, size_t len, size_t at, struct auth_header *h,
                        struct parse_err *reterr)
{
    size_t n = 0;
    const char *end = NULL, *colon;

    if (sodium_base642bin((unsigned char *)h->basic, AUTH_BASIC_MAX, p + at, len - at, NULL, &n,
                          &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != p + len) {
        parse_err_set(reterr, at, "Basic credentials are not base64 (or too long)");
        return -EINVAL;
    }
    h->basic[n] = '\0';
    colon = memchr(h->basic, ':', n);
    if (!colon || colon == h->basic) {
        parse_err_set(reterr, at, "Basic credentials are not user:password");
        return -EINVAL;
    }
    h->user = h->basic;
    h->user_len = (size_t)(colon - h->basic);
    h->password = colon + 1;
    h->password_len = n - h->user_len - 1;
    /* Control bytes (NUL included) have no business in a name or a
     * password, and would cut them short in C strings. */
    if (has_ctl(h->basic, n)) {
        parse_err_set(reterr, at, "control character in Basic credentials");
        return -EINVAL;
    }
    h->basic[h->user_len] = '\0';
    return 0;
}

int auth_header_parse(const char *p, size_t len, struct auth_header *ret, struct parse_err *reterr)
{
    size_t i = 0, s0, slen, t0;
    enum auth_scheme scheme;

    memset(ret, 0, offsetof(struct auth_header, basic));
    ret->basic[0] = '\0';
    if (!p || len == 0) {
        parse_err_set(reterr, 0, "no Authorization header");
        return -ENOENT;
    }
    if (len > AUTH_HEADER_MAX) {
        parse_err_set(reterr, AUTH_HEADER_MAX, "Authorization header too long");
        return -E2BIG;
    }
    /* Optional whitespace around a field value is not part of it. */
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    while (len > i && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (i == len) {
        parse_err_set(reterr, 0, "empty Authorization header");
        return -ENOENT;
    }
    s0 = i;
    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    slen = i - s0;
    if (slen == 0 || (i < len && p[i] != ' ')) {
        parse_err_set(reterr, i, "bad character in authentication scheme");
        return -EINVAL;
    }
    if (ieq(p + s0, slen, "bearer")) {
        scheme = AUTH_SCHEME_BEARER;
    } else if (ieq(p + s0, slen, "basic")) {
        scheme = AUTH_SCHEME_BASIC;
    } else {
        parse_err_set(reterr, s0, "unsupported authentication scheme");
        return -ENOTSUP;
    }
    while (i < len && p[i] == ' ')
        i++;
    if (i == len) {
        parse_err_set(reterr, i, "no credentials after the scheme");
        return -EINVAL;
    }
    t0 = i;
    while (i < len && is_t68((unsigned char)p[i]))
        i++;
    if (i == t0) {
        parse_err_set(reterr, i, "bad character in credentials");
        return -EINVAL;
    }
    while (i < len && p[i] == '=')
        i++;
    if (i != len) {
        parse_err_set(reterr, i, "bad character in credentials");
        return -EINVAL;
    }
    ret->scheme = scheme;
    if (scheme == AUTH_SCHEME_BEARER) {
        ret->token = p + t0;
        ret->token_len = len - t0;
        return 0;
    }
    return basic_decode(p, len, t0, ret, reterr);
}

void auth_header_done(struct auth_header *h)
{
    if (h)
        sodium_memzero(h, sizeof(*h));
}

/* ---- rate limiting ----------------------------------------------------- */

#define RL_ID 16

/*
 * One key's bucket, kept as the time its bucket will be full again (the
 * "theoretical arrival time" of GCRA, an exact integer form of the token
 * bucket: no float rounding decides whether a request passes).  Keys are
 * kept as a keyed BLAKE2b-128 of their text (fixed size; two texts cannot
 * share a bucket) in util/htable's keyed table, so nobody can aim
 * collisions at one hash chain either.  Entries come from a pool made with
 * the limiter; when it is used up the least recently seen key gives its
 * entry to the new one.
 */
struct rl_entry {
    struct htable_node hn; /* first (the casts from a node); keyed by id */
    unsigned char id[RL_ID];
    int64_t tat; /* bucket full at this time; <= now means full */
};

struct auth_ratelimit {
    pthread_mutex_t lock;
    int64_t interval; /* µs per token */
    int64_t slack;    /* (burst - 1) * interval: how far ahead tat may run */
    uint32_t max, used; /* pool size; entries of it ever handed out */
    struct rl_entry *e; /* the pool: max entries */
    struct htable tab;  /* the live keys, least recently seen first */
    unsigned char key[crypto_generichash_KEYBYTES];
};

struct auth_ratelimit *auth_ratelimit_new(double rate_per_s, unsigned burst, size_t max_keys)
{
    struct auth_ratelimit *rl;

    double interval;

    if (!(rate_per_s > 0) || burst == 0 || max_keys == 0 || max_keys > (1u << 24) ||
        auth_init() < 0)
        return NULL;
    /* Keep (burst + 1) * interval far from overflowing int64 µs. */
    interval = 1e6 / rate_per_s;
    if (interval < 1 || interval * ((double)burst + 1) > 1e18)
        return NULL;
    if (!(rl = calloc(1, sizeof(*rl))))
        return NULL;
    rl->interval = (int64_t)interval;
    rl->slack = (int64_t)(burst - 1) * rl->interval;
    rl->max = (uint32_t)max_keys;
    /* The pool is the cap: the table itself needs none. */
    if (!(rl->e = calloc(rl->max, sizeof(*rl->e))) || htable_init(&rl->tab, 0, 0, NULL, NULL) < 0) {
        htable_done(&rl->tab);
        free(rl->e);
        free(rl);
        return NULL;
    }
    randombytes_buf(rl->key, sizeof(rl->key));
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void auth_ratelimit_free(struct auth_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    htable_done(&rl->tab);
    free(rl->e);
    free(rl);
}

int auth_ratelimit_allow(struct auth_ratelimit *rl, const char *key, int64_t now_us)
{
    unsigned char id[RL_ID];
    struct rl_entry *x;
    size_t klen;
    int64_t t0;
    int ok;

    if (!rl || !key || (klen = strnlen(key, AUTH_RATELIMIT_KEY_MAX + 1)) > AUTH_RATELIMIT_KEY_MAX)
        return 0;
    crypto_generichash(id, sizeof(id), (const unsigned char *)key, klen, rl->key, sizeof(rl->key));
    pthread_mutex_lock(&rl->lock);
    if ((x = (struct rl_entry *)htable_find(&rl->tab, id, RL_ID))) {
        htable_touch(&rl->tab, &x->hn);
    } else {
        if (rl->used < rl->max) {
            x = &rl->e[rl->used++];
        } else {
            x = (struct rl_entry *)htable_oldest(&rl->tab);
            htable_remove(&rl->tab, &x->hn);
        }
        memcpy(x->id, id, RL_ID);
        x->tat = now_us;
        htable_insert(&rl->tab, &x->hn, x->id, RL_ID, 0);
    }
    /* A clock that goes back refills nothing. */
    t0 = x->tat > now_us ? x->tat : now_us;
    ok = t0 - now_us <= rl->slack;
    if (ok)
        x->tat = t0 + rl->interval;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

size_t auth_ratelimit_count(struct auth_ratelimit *rl)
{
    size_t n;

    pthread_mutex_lock(&rl->lock);
    n = htable_count(&rl->tab);
    pthread_mutex_unlock(&rl->lock);
    return n;
}

char *auth_ratelimit_addr_key(const struct sockaddr *sa, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];

    snprintf(buf, size, "?");
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        if (inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)))
            snprintf(buf, size, "%s", a);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        struct in6_addr net = in6->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&net)) {
            if (inet_ntop(AF_INET, &net.s6_addr[12], a, sizeof(a)))
                snprintf(buf, size, "%s", a);
            return buf;
        }
        memset(&net.s6_addr[8], 0, 8);
        if (inet_ntop(AF_INET6, &net, a, sizeof(a)))
            snprintf(buf, size, "%s/64", a);
    }
    return buf;
}
