/*
 * respond_webhook.c - signed JSON POSTs with bounded retries (libcurl easy API).
 *
 * One easy handle per call, reused across its attempts so that a kept-alive
 * connection can serve a retry.  Nothing here touches process-wide state
 * except respond_webhook_global_init/done.
 */
#include "respond/respond_webhook.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "build_config.h"
#include "util/buf.h"
#include "util/log.h"

/* "sha256=" + 64 hex digits + NUL */
#define WEBHOOK_SIG_PREFIX "sha256="
#define WEBHOOK_SIG_LEN (sizeof(WEBHOOK_SIG_PREFIX) - 1 + 2 * crypto_auth_hmacsha256_BYTES)
/* Bytes of a peer's answer quoted in a reason sentence. */
#define WEBHOOK_QUOTE_BODY 160

int respond_webhook_global_init(void)
{
    if (sodium_init() < 0)
        return -EIO;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void respond_webhook_global_done(void)
{
    curl_global_cleanup();
}

/* HMAC-SHA256(secret, ts "." body) into `mac`.  The multi-part interface
 * takes keys of any length, unlike crypto_auth_hmacsha256() (32 bytes). */
static void webhook_mac(const unsigned char *secret, size_t secret_len, const char *ts,
                        const char *body, size_t body_len,
                        unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof(st));
}

int respond_webhook_verify(const unsigned char *secret, size_t secret_len, const char *timestamp,
                           const char *body, size_t body_len, const char *header_value)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES];
    unsigned char got[crypto_auth_hmacsha256_BYTES];
    const size_t plen = sizeof(WEBHOOK_SIG_PREFIX) - 1;
    size_t got_len = 0;
    const char *end = NULL;
    int r;

    if (!secret || !timestamp || (!body && body_len) || !header_value)
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    if (strlen(header_value) != WEBHOOK_SIG_LEN || strncmp(header_value, WEBHOOK_SIG_PREFIX, plen) != 0)
        return -EBADMSG;
    if (sodium_hex2bin(got, sizeof(got), header_value + plen, WEBHOOK_SIG_LEN - plen, NULL,
                       &got_len, &end) != 0 ||
        got_len != sizeof(got))
        return -EBADMSG;
    webhook_mac(secret, secret_len, timestamp, body ? body : "", body_len, want);
    r = sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : -EBADMSG;
    sodium_memzero(want, sizeof(want));
    return r;
}

/*
 * The URL as it may appear in a message: userinfo, query and fragment are
 * dropped because they often carry tokens, and the rest is quoted.
 */
static void webhook_url_for_log(const char *url, char *out, size_t size)
{
    char tmp[256];
    const char *p = strstr(url, "://");
    const char *auth, *auth_end, *at, *path_end;
    size_t n = 0;

    if (!p) {
        log_quote(out, size, url, strcspn(url, "?#"));
        return;
    }
    auth = p + 3;
    auth_end = auth + strcspn(auth, "/?#");
    at = NULL;
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    path_end = auth_end + strcspn(auth_end, "?#");
    n = (size_t)(auth - url);
    if (n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    memcpy(tmp, url, n);
    if (at)
        auth = at + 1;
    for (const char *q = auth; q < path_end && n < sizeof(tmp) - 1; q++)
        tmp[n++] = *q;
    log_quote(out, size, tmp, n);
}

/* Response body sink: keeps up to the cap, reads and drops the rest so the
 * connection stays usable. */
static size_t webhook_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    size_t room = b->cap - b->len;

    if (room)
        (void)buf_append(b, ptr, n < room ? n : room);
    return n;
}

/* Failures of the transport that another try may cure. */
static int webhook_curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return 1;
    default: return 0;
    }
}

static void webhook_sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A fresh header list carrying this attempt's timestamp and signature. */
static struct curl_slist *webhook_headers(const struct respond_webhook_conf *c, const char *json,
                                          size_t len)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    char ts[32], ts_line[64], sig_line[128];
    /* "Expect:" turns off the 100-continue round trip for large bodies. */
    const char *lines[] = {"Content-Type: application/json", "Expect:", ts_line, sig_line};
    struct curl_slist *h = NULL, *t;

    snprintf(ts, sizeof(ts), "%" PRIdMAX, (intmax_t)time(NULL));
    webhook_mac(c->secret, c->secret_len, ts, json, len, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    snprintf(ts_line, sizeof(ts_line), "X-Hikeshi-Timestamp: %s", ts);
    snprintf(sig_line, sizeof(sig_line), "X-Hikeshi-Signature: " WEBHOOK_SIG_PREFIX "%s", hex);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        t = curl_slist_append(h, lines[i]);
        if (!t) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

static void webhook_set_reason(struct respond_webhook_result *ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void webhook_set_reason(struct respond_webhook_result *ret, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ret->reason, sizeof(ret->reason), fmt, ap);
    va_end(ap);
}

/* One POST in flight: the handle, reused across its attempts, and what
 * the handle points into (the answer sink and the error buffer), so the
 * struct must stay put while the handle lives. */
struct webhook_req {
    const struct respond_webhook_conf *c;
    const char *json; /* never NULL */
    size_t len;
    CURL *h;
    struct curl_slist *hdrs; /* the last attempt's headers */
    struct buf answer;       /* the peer's answer, capped */
    char errbuf[CURL_ERROR_SIZE];
    char url_q[200]; /* the URL as messages may show it */
};

/* Refuses what cannot be posted: no URL, a scheme other than http(s), a
 * short secret, a missing document.  Fills q->url_q once there is a URL.
 * Returns 0, or -errno with the reason in ret. */
static int webhook_check(struct webhook_req *q, struct respond_webhook_result *ret)
{
    const struct respond_webhook_conf *c = q->c;

    if (!c || !c->url) {
        webhook_set_reason(ret, "webhook has no URL");
        return -EINVAL;
    }
    webhook_url_for_log(c->url, q->url_q, sizeof(q->url_q));
    if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0) {
        webhook_set_reason(ret, "webhook URL %s is not http:// or https://", q->url_q);
        return -EINVAL;
    }
    if (!c->secret || c->secret_len < RESPOND_WEBHOOK_SECRET_MIN) {
        webhook_set_reason(ret, "webhook secret for %s is shorter than %d bytes", q->url_q,
                           RESPOND_WEBHOOK_SECRET_MIN);
        return -EINVAL;
    }
    if (!q->json && q->len) {
        webhook_set_reason(ret, "no document to post to %s", q->url_q);
        return -EINVAL;
    }
    if (sodium_init() < 0) {
        webhook_set_reason(ret, "libsodium failed to initialise");
        return -EIO;
    }
    return 0;
}

/* Creates q->h and sets the request up: http(s) only, no redirects, the
 * timeout, the body, the answer sink.  Returns 0, or -errno with the
 * reason in ret (q->h may then be set: the caller cleans it up). */
static int webhook_prepare(struct webhook_req *q, unsigned timeout_ms,
                           struct respond_webhook_result *ret)
{
    CURL *h = curl_easy_init();

    if (!h) {
        webhook_set_reason(ret, "out of memory posting to %s", q->url_q);
        return -ENOMEM;
    }
    q->h = h;
    q->errbuf[0] = '\0';
    if (curl_easy_setopt(h, CURLOPT_URL, q->c->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->json) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "hikeshi/" HIKESHI_VERSION) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, webhook_write_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &q->answer) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf) != CURLE_OK) {
        /* Rejected options mean the URL is malformed or libcurl lacks a feature. */
        webhook_set_reason(ret, "libcurl refused the request settings for %s", q->url_q);
        return -EINVAL;
    }
    return 0;
}

/*
 * One attempt, freshly signed.  Returns 1 when delivered (the reason in
 * ret), 0 when not: WHAT says why, ret->retryable whether another try may
 * cure it, and *ret_retry_after what the peer asked to wait (seconds, 0:
 * nothing); -ENOMEM with the reason in ret.
 */
static int webhook_attempt(struct webhook_req *q, unsigned attempt, char *what, size_t what_size,
                           curl_off_t *ret_retry_after, struct respond_webhook_result *ret)
{
    struct curl_slist *fresh;
    CURLcode cc;
    long status = 0;

    ret->attempts = attempt;
    fresh = webhook_headers(q->c, q->json, q->len);
    if (!fresh) {
        webhook_set_reason(ret, "out of memory posting to %s", q->url_q);
        return -ENOMEM;
    }
    curl_slist_free_all(q->hdrs);
    q->hdrs = fresh;
    curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, q->hdrs);
    buf_reset(&q->answer);
    q->errbuf[0] = '\0';

    cc = curl_easy_perform(q->h);
    if (cc == CURLE_OK) {
        char body_q[WEBHOOK_QUOTE_BODY + 8];

        curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
        ret->http_status = status;
        if (status >= 200 && status < 300) {
            webhook_set_reason(ret, "delivered to %s: HTTP %ld after %u attempt%s", q->url_q,
                               status, attempt, attempt == 1 ? "" : "s");
            return 1;
        }
        ret->retryable = status >= 500 || status == 429;
        log_quote(body_q, sizeof(body_q), q->answer.data ? q->answer.data : "", q->answer.len);
        snprintf(what, what_size, "HTTP %ld %s", status, body_q);
        curl_easy_getinfo(q->h, CURLINFO_RETRY_AFTER, ret_retry_after);
    } else {
        char err_q[CURL_ERROR_SIZE + 8];
        const char *e = q->errbuf[0] ? q->errbuf : curl_easy_strerror(cc);

        ret->retryable = webhook_curl_retryable(cc);
        log_quote(err_q, sizeof(err_q), e, strlen(e));
        snprintf(what, what_size, "%s", err_q);
    }
    return 0;
}

int respond_webhook_send(const struct respond_webhook_conf *c, const char *json, size_t len,
                         struct respond_webhook_result *ret)
{
    struct webhook_req q = {.c = c, .json = json, .len = len};
    char what[300];
    unsigned max_attempts, timeout_ms;
    uint64_t base_ms, max_ms;
    int r;

    memset(ret, 0, sizeof(*ret));
    buf_init(&q.answer, RESPOND_WEBHOOK_RESPONSE_CAP);
    if ((r = webhook_check(&q, ret)) < 0)
        return r;
    if (!q.json)
        q.json = "";
    max_attempts = c->max_attempts ? c->max_attempts : RESPOND_WEBHOOK_ATTEMPTS_DEFAULT;
    if (max_attempts > RESPOND_WEBHOOK_ATTEMPTS_MAX)
        max_attempts = RESPOND_WEBHOOK_ATTEMPTS_MAX;
    timeout_ms = c->timeout_ms ? c->timeout_ms : RESPOND_WEBHOOK_TIMEOUT_MS_DEFAULT;
    base_ms = c->backoff_base_ms ? c->backoff_base_ms : RESPOND_WEBHOOK_BACKOFF_MS_DEFAULT;
    max_ms = c->backoff_max_ms ? c->backoff_max_ms : RESPOND_WEBHOOK_BACKOFF_MAX_MS_DEFAULT;
    if ((r = webhook_prepare(&q, timeout_ms, ret)) < 0)
        goto out;

    for (unsigned attempt = 1;; attempt++) {
        curl_off_t retry_after = 0;
        uint64_t wait_ms;

        r = webhook_attempt(&q, attempt, what, sizeof(what), &retry_after, ret);
        if (r != 0) {
            r = r > 0 ? 0 : r;
            goto out;
        }
        r = -EIO;
        if (!ret->retryable) {
            webhook_set_reason(ret, "not delivered to %s: %s (not retried)", q.url_q, what);
            goto out;
        }
        if (attempt >= max_attempts) {
            webhook_set_reason(ret, "not delivered to %s after %u attempt%s: %s", q.url_q, attempt,
                               attempt == 1 ? "" : "s", what);
            goto out;
        }
        wait_ms = base_ms << (attempt - 1);
        if (retry_after > 0 && (uint64_t)retry_after * 1000 > wait_ms)
            wait_ms = (uint64_t)retry_after * 1000;
        if (wait_ms > max_ms)
            wait_ms = max_ms;
        webhook_sleep_ms(wait_ms);
    }

out:
    curl_slist_free_all(q.hdrs);
    if (q.h)
        curl_easy_cleanup(q.h);
    buf_done(&q.answer);
    return r;
}
