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

int respond_webhook_send(const struct respond_webhook_conf *c, const char *json, size_t len,
                         struct respond_webhook_result *ret)
{
    char url_q[200], what[300], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    struct buf answer;
    CURL *h = NULL;
    unsigned max_attempts, timeout_ms;
    uint64_t base_ms, max_ms;
    int r = -EIO;

    memset(ret, 0, sizeof(*ret));
    buf_init(&answer, RESPOND_WEBHOOK_RESPONSE_CAP);
    if (!c || !c->url) {
        webhook_set_reason(ret, "webhook has no URL");
        return -EINVAL;
    }
    webhook_url_for_log(c->url, url_q, sizeof(url_q));
    if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0) {
        webhook_set_reason(ret, "webhook URL %s is not http:// or https://", url_q);
        return -EINVAL;
    }
    if (!c->secret || c->secret_len < RESPOND_WEBHOOK_SECRET_MIN) {
        webhook_set_reason(ret, "webhook secret for %s is shorter than %d bytes", url_q,
                           RESPOND_WEBHOOK_SECRET_MIN);
        return -EINVAL;
    }
    if (!json && len) {
        webhook_set_reason(ret, "no document to post to %s", url_q);
        return -EINVAL;
    }
    if (sodium_init() < 0) {
        webhook_set_reason(ret, "libsodium failed to initialise");
        return -EIO;
    }
    max_attempts = c->max_attempts ? c->max_attempts : RESPOND_WEBHOOK_ATTEMPTS_DEFAULT;
    if (max_attempts > RESPOND_WEBHOOK_ATTEMPTS_MAX)
        max_attempts = RESPOND_WEBHOOK_ATTEMPTS_MAX;
    timeout_ms = c->timeout_ms ? c->timeout_ms : RESPOND_WEBHOOK_TIMEOUT_MS_DEFAULT;
    base_ms = c->backoff_base_ms ? c->backoff_base_ms : RESPOND_WEBHOOK_BACKOFF_MS_DEFAULT;
    max_ms = c->backoff_max_ms ? c->backoff_max_ms : RESPOND_WEBHOOK_BACKOFF_MAX_MS_DEFAULT;

    h = curl_easy_init();
    if (!h) {
        webhook_set_reason(ret, "out of memory posting to %s", url_q);
        r = -ENOMEM;
        goto out;
    }
    errbuf[0] = '\0';
    if (curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json ? json : "") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "hikeshi/" HIKESHI_VERSION) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, webhook_write_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
        /* Rejected options mean the URL is malformed or libcurl lacks a feature. */
        webhook_set_reason(ret, "libcurl refused the request settings for %s", url_q);
        r = -EINVAL;
        goto out;
    }

    for (unsigned attempt = 1;; attempt++) {
        struct curl_slist *fresh;
        curl_off_t retry_after = 0;
        uint64_t wait_ms;
        CURLcode cc;
        long status = 0;

        ret->attempts = attempt;
        fresh = webhook_headers(c, json ? json : "", len);
        if (!fresh) {
            webhook_set_reason(ret, "out of memory posting to %s", url_q);
            r = -ENOMEM;
            goto out;
        }
        curl_slist_free_all(hdrs);
        hdrs = fresh;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        buf_reset(&answer);
        errbuf[0] = '\0';

        cc = curl_easy_perform(h);
        if (cc == CURLE_OK) {
            char body_q[WEBHOOK_QUOTE_BODY + 8];

            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            ret->http_status = status;
            if (status >= 200 && status < 300) {
                webhook_set_reason(ret, "delivered to %s: HTTP %ld after %u attempt%s", url_q,
                                   status, attempt, attempt == 1 ? "" : "s");
                r = 0;
                goto out;
            }
            ret->retryable = status >= 500 || status == 429;
            log_quote(body_q, sizeof(body_q), answer.data ? answer.data : "", answer.len);
            snprintf(what, sizeof(what), "HTTP %ld %s", status, body_q);
            curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
        } else {
            char err_q[CURL_ERROR_SIZE + 8];
            const char *e = errbuf[0] ? errbuf : curl_easy_strerror(cc);

            ret->retryable = webhook_curl_retryable(cc);
            log_quote(err_q, sizeof(err_q), e, strlen(e));
            snprintf(what, sizeof(what), "%s", err_q);
        }

        if (!ret->retryable) {
            webhook_set_reason(ret, "not delivered to %s: %s (not retried)", url_q, what);
            goto out;
        }
        if (attempt >= max_attempts) {
            webhook_set_reason(ret, "not delivered to %s after %u attempt%s: %s", url_q, attempt,
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
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    buf_done(&answer);
    return r;
}
