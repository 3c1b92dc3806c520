/*
 * auth.h - users' roles, password hashes, API tokens, the Authorization
 * header, and a rate limiter for the API.
 *
 * Pure functions over plain values: storing users and token hashes is the
 * store's business, checking a request is the API's.  Cryptography is
 * libsodium's; call auth_init() once before anything else here.
 *
 * Thread-safety: every function may be called from any thread.  The only
 * shared state is inside a struct auth_ratelimit, which has its own lock.
 */
#ifndef HIKESHI_API_AUTH_H
#define HIKESHI_API_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

/* Initialises libsodium (once, whatever the number of calls or threads).
 * 0, or -EIO when libsodium cannot start (no entropy source). */
int auth_init(void);

/* ---- roles ------------------------------------------------------------- */

/* Ordered: a role allows everything the ones below it allow. */
enum auth_role {
    AUTH_ROLE_NONE = 0,
    AUTH_ROLE_VIEWER = 1,  /* reads incidents, alerts, reports */
    AUTH_ROLE_ANALYST = 2, /* also updates incidents, notes, tasks */
    AUTH_ROLE_LEAD = 3,    /* also decides as the responsible person (issue 25):
                            * closes the emergency phase, declares Red/Orange,
                            * closes incidents, answers the approval queue */
    AUTH_ROLE_ADMIN = 4,   /* also users, tokens, configuration, responses */
};

/* "viewer", "analyst", "lead", "admin" (exact, lowercase) into *ret; -EINVAL
 * otherwise.  `s` needs no NUL. */
int auth_role_parse(const char *s, size_t len, enum auth_role *ret);
/* The name auth_role_parse accepts, or "none" for anything else. */
const char *auth_role_name(enum auth_role role);
/* 1 when `have` is a real role at least as high as `need` (also a real
 * role), else 0: AUTH_ROLE_NONE and out-of-range values allow nothing. */
int auth_role_allows(enum auth_role have, enum auth_role need);

/* ---- passwords --------------------------------------------------------- */

/* Bounds on passwords in bytes.  The upper one keeps a login request from
 * making us hash megabytes. */
#define AUTH_PASSWORD_MIN 12
#define AUTH_PASSWORD_MAX 1024
/* Room for the encoded Argon2id string ("$argon2id$v=19$m=...") with NUL. */
#define AUTH_PWHASH_STRLEN 128

/* NULL when a new password of `len` bytes is acceptable, else a short
 * English reason to show the user ("password too short: at least 12
 * characters"). */
const char *auth_password_check(const char *pw, size_t len);

/*
 * Hashes a new password with Argon2id (libsodium crypto_pwhash_str, a random
 * salt per call, the interactive cost) into `out`, NUL-terminated.  -EINVAL
 * when auth_password_check refuses it (too short, NUL inside), -E2BIG when
 * too long, -ENOMEM when the hash's memory cannot be had.
 */
int auth_password_hash(const char *pw, size_t len, char out[AUTH_PWHASH_STRLEN]);

/*
 * Checks a password against a string from auth_password_hash.  0 when it
 * matches, -EACCES when it does not (also for passwords out of bounds, so a
 * caller cannot tell those apart), -EINVAL when `stored` is not a hash
 * string we understand.
 */
int auth_password_verify(const char *stored, const char *pw, size_t len);

/* 1 when `stored` was made with other parameters than ours today (so it
 * should be rehashed at the next successful login), 0 when current. */
int auth_password_needs_rehash(const char *stored);

/* ---- API tokens -------------------------------------------------------- */

/* "hks_" + 43 base64url characters (32 random bytes, no padding). */
#define AUTH_TOKEN_PREFIX "hks_"
#define AUTH_TOKEN_LEN 47
#define AUTH_TOKEN_STRLEN (AUTH_TOKEN_LEN + 1)
#define AUTH_TOKEN_HASHLEN 32

/*
 * Makes a new token: `out` gets the string to show the user once, and
 * `hash_out` what the store keeps (auth_token_hash of it).  The token itself
 * must never be stored or logged.  0, or -EIO if auth_init was not called.
 */
int auth_token_new(char out[AUTH_TOKEN_STRLEN], unsigned char hash_out[AUTH_TOKEN_HASHLEN]);

/*
 * The stored form of a token: BLAKE2b-256 of its text.  -EINVAL when `tok`
 * (length `len`, no NUL needed) is not shaped like one of our tokens, so
 * that junk never reaches a lookup.
 */
int auth_token_hash(const char *tok, size_t len, unsigned char hash_out[AUTH_TOKEN_HASHLEN]);

/*
 * Finds a presented token among `n` stored hashes, comparing every one in
 * constant time (sodium_memcmp) and not stopping at the first match, so the
 * time taken says nothing about which or whether one matched.  0 with the
 * index in *ret_index, -ENOENT when none matches, -EINVAL for a malformed
 * token.
 */
int auth_token_find(const char *tok, size_t len, const unsigned char (*hashes)[AUTH_TOKEN_HASHLEN],
                    size_t n, size_t *ret_index);

/* ---- web console sessions ---------------------------------------------- */

/* A session is a token of ours held in an HttpOnly cookie; its lifetime. */
#define AUTH_SESSION_COOKIE "hikeshi_session"
#define AUTH_SESSION_SECONDS (12 * 3600)
/* The CSRF token of a session: 43 base64url characters with NUL. */
#define AUTH_CSRF_STRLEN 44

/*
 * The CSRF token that goes with session token `tok`: BLAKE2b-256 keyed
 * with the session token over a fixed label, base64url.  Only someone who
 * holds the session token (which the HttpOnly cookie keeps from scripts)
 * or was told the value by GET /api/v1/session can present it, and nothing
 * needs storing: a restart keeps sessions and their CSRF tokens valid.
 * -EINVAL when `tok` is not shaped like one of our tokens.
 */
int auth_csrf_token(const char *tok, size_t len, char out[AUTH_CSRF_STRLEN]);

/*
 * 0 when `presented` (NUL-terminated; NULL counts as missing) is the CSRF
 * token of session `tok`, compared in constant time; -EACCES otherwise.
 */
int auth_csrf_check(const char *tok, size_t len, const char *presented);

/* ---- the Authorization header ------------------------------------------ */

/* Longest header value accepted, in bytes. */
#define AUTH_HEADER_MAX 2048
/* Longest decoded "user:password" of Basic. */
#define AUTH_BASIC_MAX 1100

enum auth_scheme {
    AUTH_SCHEME_BEARER = 1,
    AUTH_SCHEME_BASIC = 2,
};

/*
 * A parsed header.  For Bearer, `token` is a view into the header value.
 * For Basic, `user` and `password` point into `basic` (NUL-terminated each),
 * so the struct must outlive them; wipe it with auth_header_done.
 */
struct auth_header {
    enum auth_scheme scheme;
    const char *token;
    size_t token_len;
    const char *user;
    size_t user_len;
    const char *password;
    size_t password_len;
    char basic[AUTH_BASIC_MAX + 1];
};

/*
 * Parses an Authorization header value: "Bearer <token68>" or
 * "Basic <base64 of user:password>" (scheme names case-insensitive, one or
 * more spaces before the credentials, optional spaces or tabs around the
 * whole value).  Never reads past `len`; a NUL or any byte outside the
 * grammar is an error.
 *
 * Errors: -ENOENT empty or missing (p NULL), -E2BIG longer than
 * AUTH_HEADER_MAX, -ENOTSUP another scheme, -EINVAL malformed (reterr says
 * where and why; may be NULL).
 */
int auth_header_parse(const char *p, size_t len, struct auth_header *ret, struct parse_err *reterr);

/* Wipes the decoded password from memory. */
void auth_header_done(struct auth_header *h);

/* ---- rate limiting ----------------------------------------------------- */

/* Longest key kept; longer keys are refused (auth_ratelimit_allow -> 0). */
#define AUTH_RATELIMIT_KEY_MAX 128

struct auth_ratelimit;
struct sockaddr;

/*
 * A token bucket per key (a client address, a user name): each key may do
 * `burst` requests at once and `rate_per_s` per second after that.  At most
 * `max_keys` keys are tracked; a new key past that evicts the one used
 * least recently, which then starts again with a full bucket.  NULL on bad
 * arguments (rate <= 0 or above 10^6, burst 0, max_keys 0 or > 2^24, or
 * burst / rate past 10^12 seconds) or out of memory.
 */
struct auth_ratelimit *auth_ratelimit_new(double rate_per_s, unsigned burst, size_t max_keys);
/* NULL is a no-op. */
void auth_ratelimit_free(struct auth_ratelimit *rl);

/*
 * 1 when the request by `key` at `now_us` (a monotonic clock in µs,
 * supplied by the caller so tests can drive it) may go ahead, taking one
 * token; 0 when it must be refused.  Keys too long or NULL are refused.
 * Thread-safe.
 */
int auth_ratelimit_allow(struct auth_ratelimit *rl, const char *key, int64_t now_us);

/* Keys tracked right now (never above max_keys). */
size_t auth_ratelimit_count(struct auth_ratelimit *rl);

/* Room for auth_ratelimit_addr_key's text, "?" to a full IPv6 /64. */
#define AUTH_ADDR_KEY_MAX 64

/*
 * The key a client address is limited by, as text into `buf` (at least
 * AUTH_ADDR_KEY_MAX bytes): an IPv4 address whole ("192.0.2.7", also when
 * it comes IPv4-mapped on an IPv6 socket), an IPv6 address by its /64
 * ("2001:db8:1:2::/64", since one host is given a whole /64 and can pick
 * any address in it), never the port, so that a new connection per request
 * does not make a new client.  NULL or another family gives "?".  Returns
 * buf.
 */
char *auth_ratelimit_addr_key(const struct sockaddr *sa, char *buf, size_t size);

#endif
