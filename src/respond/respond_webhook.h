/*
 * respond_webhook.h - the webhook response action: POST a JSON document to a URL,
 * signed with a shared secret, with bounded retries.
 *
 * Signature scheme (what a receiver checks):
 *   X-Hikeshi-Timestamp: <unix seconds, decimal>
 *   X-Hikeshi-Signature: sha256=<lowercase hex HMAC-SHA256(secret, T "." body)>
 * where T is the exact text of the timestamp header and body the exact bytes
 * posted.  The timestamp is inside the MAC so that a captured request cannot
 * be replayed later with a fresh timestamp; receivers should also refuse
 * timestamps more than a few minutes away from their clock.  Each attempt
 * is signed afresh with its own timestamp.
 */
#ifndef HIKESHI_RESPOND_WEBHOOK_H
#define HIKESHI_RESPOND_WEBHOOK_H

#include <stddef.h>

/* Shortest secret accepted, in bytes (the HMAC-SHA256 block is 64; 32 random
 * bytes are as strong as the hash). */
#define RESPOND_WEBHOOK_SECRET_MIN 32
/* Bytes of a response body kept for the result's message; the rest of the
 * body is read and dropped. */
#define RESPOND_WEBHOOK_RESPONSE_CAP (64 * 1024)
/* Defaults used for the zero fields of struct respond_webhook_conf. */
#define RESPOND_WEBHOOK_TIMEOUT_MS_DEFAULT 10000
#define RESPOND_WEBHOOK_ATTEMPTS_DEFAULT 5
#define RESPOND_WEBHOOK_BACKOFF_MS_DEFAULT 1000
#define RESPOND_WEBHOOK_BACKOFF_MAX_MS_DEFAULT 60000
/* Most attempts one call may make, whatever the configuration says. */
#define RESPOND_WEBHOOK_ATTEMPTS_MAX 20

/*
 * One webhook target.  Every pointer is borrowed for the duration of the
 * call.  Zero numeric fields take the defaults above.
 */
struct respond_webhook_conf {
    const char *url;             /* http:// or https:// only; redirects are not followed */
    const unsigned char *secret; /* HMAC key, secret_len >= RESPOND_WEBHOOK_SECRET_MIN */
    size_t secret_len;
    unsigned timeout_ms;      /* whole of one attempt: connect, send, answer */
    unsigned max_attempts;    /* first try included; capped at RESPOND_WEBHOOK_ATTEMPTS_MAX */
    unsigned backoff_base_ms; /* wait before the 2nd attempt; doubles each time */
    unsigned backoff_max_ms;  /* cap on any single wait, Retry-After included */
};

/* What happened; filled on every return of respond_webhook_send(). */
struct respond_webhook_result {
    unsigned attempts; /* requests tried (connection failures count) */
    long http_status;  /* status of the last answer; 0 if none came */
    int retryable;     /* 1 if the last failure was of a retryable kind */
    char reason[512];  /* one printable sentence; URL and peer text quoted */
};

/*
 * Process-wide libcurl set-up and tear-down.  Call respond_webhook_global_init
 * once at start-up before any thread sends (returns 0 or -EIO), and
 * respond_webhook_global_done at exit after the last send.
 */
int respond_webhook_global_init(void);
void respond_webhook_global_done(void);

/*
 * POSTs `json` (`len` bytes, need not be NUL-terminated) to c->url with
 * Content-Type application/json and the signature headers described above.
 * Retries with exponential backoff (base, x2, capped) on connection errors,
 * timeouts, HTTP 5xx and 429 (a Retry-After in seconds is honoured, capped
 * at backoff_max_ms), never on other statuses.
 *
 * BLOCKS the calling thread for up to max_attempts * timeout_ms plus the
 * waits: call it from a response worker, never from the pipeline thread.
 * Thread-safe once respond_webhook_global_init() has run.
 *
 * Returns 0 when a 2xx answer came, -EINVAL for a bad configuration (scheme,
 * secret too short, NULL url), -ENOMEM, or -EIO when the document was not
 * delivered.  *ret is filled in every case.
 */
int respond_webhook_send(const struct respond_webhook_conf *c, const char *json, size_t len,
                         struct respond_webhook_result *ret);

/*
 * Checks a received request: `header_value` is the X-Hikeshi-Signature
 * value ("sha256=" and 64 hex digits), `timestamp` the X-Hikeshi-Timestamp
 * value (NUL-terminated), `body` the `body_len` bytes received.  The MAC
 * comparison takes constant time.  Returns 0 if the signature is right,
 * -EBADMSG if it is not or is malformed, -EINVAL for NULL arguments.  It does
 * not judge the timestamp's age: the receiver compares it with its clock.
 */
int respond_webhook_verify(const unsigned char *secret, size_t secret_len, const char *timestamp,
                           const char *body, size_t body_len, const char *header_value);

#endif
