/*
 * pipeline_witness.c - sends every seal of the archive to its witnesses
 * (archive.witness), from its own thread, in order, retried; see
 * pipeline_witness.h and docs/archive.md, "Witnesses".
 *
 * A file witness gets one JSON line per seal (archive_witness_line),
 * appended and fdatasynced; a URL witness gets the same line as the body
 * of a POST signed like a response webhook (X-Hikeshi-Signature, HMAC of
 * the timestamp and body with secret_file's key), one attempt per round.
 * A witness's state file holds the next epoch it has to take; it moves
 * only after the witness took the seal, so a crash between the two sends
 * that seal again (a witness keeps it twice; verify takes duplicates).
 */
#include "pipeline/pipeline_witness.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "archive/archive.h"
#include "conf/config.h"
#include "event/time.h"
#include "respond/respond_webhook.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/readfile.h"

/* Seals held between the follower and the slowest witness; past it the
 * follower waits (the archive keeps them, nothing is lost). */
#define PW_PENDING_MAX 4096
#define PW_ROUND_US 1000000LL
#define PW_BACKOFF_MIN_US 1000000LL
#define PW_BACKOFF_MAX_US (300LL * 1000000)
#define PW_SECRET_MAX 4096
#define PW_TIMEOUT_MS 10000

struct pw_target {
    char *file, *url;
    char *bulk, *auth_header; /* another hikeshi's http-bulk input */
    char *head_path;          /* an audit head exporter's source (audit.head) */
    unsigned char sent_h[32]; /* the hash of the head it last sent */
    int have_sent;
    unsigned char *secret;
    size_t secret_len;
    char state_path[4200];
    uint64_t next_epoch; /* thread only, copied to st under the lock */
    int64_t backoff_us, retry_at_us;
    struct pwitness_state st; /* under pw->lock */
};

/* A warning under the exporter's rate limit (its thread only). */
#define RL_WARN(pw, ...)                                                                           \
    do {                                                                                           \
        unsigned long supp_;                                                                       \
        if (log_ratelimit_ok(&(pw)->rl, &supp_))                                                   \
            log_warnx(__VA_ARGS__);                                                                \
    } while (0)

struct pwitness {
    pthread_t th;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, kicked;
    char *dir;
    struct archive_seal_follow f;
    struct archive_witnessed *pending; /* in epoch order */
    size_t npending;
    struct pw_target *t;
    size_t n;
    struct log_ratelimit rl;
};

/* The state file's name: the witness's kind and 16 hex digits of a hash
 * of its target, so two witnesses never share one. */
static int state_path(const char *state_dir, const struct config_witness *w, char *out, size_t size)
{
    const char *target = w->file ? w->file : w->url ? w->url : w->hikeshi ? w->hikeshi : "";
    unsigned char h[8];
    char hex[17];
    int n;

    crypto_generichash(h, sizeof(h), (const unsigned char *)target, strlen(target), NULL, 0);
    hex_encode(h, sizeof(h), hex);
    n = snprintf(out, size, "%s/%s-%s.next", state_dir,
                 w->file      ? "file"
                 : w->hikeshi ? "hikeshi"
                              : "url",
                 hex);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static uint64_t state_read(const char *path)
{
    char *text = NULL, *end;
    size_t len = 0;
    uint64_t v;

    if (readfile_all(path, 64, &text, &len) < 0)
        return 0;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || end == text || (*end && *end != '\n')) {
        log_warnx("archive witness state %s: not a number: sending every seal again", path);
        v = 0;
    }
    free(text);
    return v;
}

/* Writes the next epoch: a new file renamed over the old one, synced. */
static int state_write(const char *path, uint64_t next)
{
    char tmp[4300], line[32];
    int fd, n, r = 0;

    snprintf(tmp, sizeof(tmp), "%s.new", path);
    n = snprintf(line, sizeof(line), "%" PRIu64 "\n", next);
    unlink(tmp); /* a leftover, perhaps made before the privilege drop */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    if (write(fd, line, (size_t)n) != n || fdatasync(fd) < 0)
        r = errno ? -errno : -EIO;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    return r;
}

static int load_secret(struct pw_target *t, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int e = readfile_all(path, PW_SECRET_MAX, &text, &len);

    if (e < 0) {
        log_error("witness %s: secret_file %s: %s", t->url, path,
                  e == -EFBIG ? "larger than 4 KiB" : strerror(-e));
        return -EINVAL;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len < RESPOND_WEBHOOK_SECRET_MIN) {
        log_error("witness %s: secret_file %s: %zu bytes, at least %d needed", t->url, path, len,
                  RESPOND_WEBHOOK_SECRET_MIN);
        sodium_memzero(text, len);
        free(text);
        return -EINVAL;
    }
    t->secret = (unsigned char *)text;
    t->secret_len = len;
    return 0;
}

/* Appends one line to a file witness and syncs it. */
static int send_file(struct pw_target *t, const char *line, size_t len, char *err, size_t errlen)
{
    int fd = open(t->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    ssize_t w;
    int r = 0;

    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", t->file, strerror(errno));
        return -errno;
    }
    w = write(fd, line, len);
    if (w != (ssize_t)len || fdatasync(fd) < 0) {
        r = errno ? -errno : -EIO;
        snprintf(err, errlen, "write %s: %s", t->file, strerror(-r));
    }
    close(fd);
    return r;
}

static int send_url(struct pw_target *t, const char *line, size_t len, char *err, size_t errlen)
{
    struct respond_webhook_conf c = {
        .url = t->url,
        .secret = t->secret,
        .secret_len = t->secret_len,
        .timeout_ms = PW_TIMEOUT_MS,
        .max_attempts = 1, /* the exporter's rounds are the retries */
    };
    struct respond_webhook_result res;
    int r;

    /* The body is the line without its newline. */
    r = respond_webhook_send(&c, line, len && line[len - 1] == '\n' ? len - 1 : len, &res);
    if (r < 0)
        snprintf(err, errlen, "%s", res.reason);
    return r;
}

/* Drops an answer's body (its status is what counts). */
static size_t pw_discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* POSTs the line as a one-document Elasticsearch bulk body to another
 * hikeshi's http-bulk input, which archives it (and seals it) as one of
 * its records.  A 2xx answer without "errors":true... is not checked for
 * items: the input answers 2xx only once the document is queued. */
static int send_bulk(struct pw_target *t, const char *line, size_t len, char *err, size_t errlen)
{
    static const char action[] = "{\"index\":{}}\n";
    struct curl_slist *hdr = NULL, *h2;
    char *body = malloc(sizeof(action) + len + 1);
    size_t blen = 0;
    long status = 0;
    CURL *c;
    CURLcode rc;
    int r = -EIO;

    if (!body)
        return -ENOMEM;
    memcpy(body, action, sizeof(action) - 1);
    blen = sizeof(action) - 1;
    memcpy(body + blen, line, len);
    blen += len;
    if (!len || line[len - 1] != '\n')
        body[blen++] = '\n';
    if (!(c = curl_easy_init())) {
        free(body);
        snprintf(err, errlen, "libcurl: no handle");
        return -ENOMEM;
    }
    h2 = curl_slist_append(hdr, "Content-Type: application/x-ndjson");
    if (h2)
        hdr = h2;
    if (t->auth_header && (h2 = curl_slist_append(hdr, t->auth_header)))
        hdr = h2;
    curl_easy_setopt(c, CURLOPT_URL, t->bulk);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PW_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pw_discard);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "POST %s: %s", t->bulk, curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            r = 0;
        else
            snprintf(err, errlen, "POST %s: HTTP %ld", t->bulk, status);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    free(body);
    return r;
}

/* Collects the follower's seals that some witness still needs. */
static int on_seal(void *ctx, const struct archive_witnessed *ws)
{
    struct pwitness *pw = ctx;
    int needed = 0;

    for (size_t i = 0; i < pw->n; i++)
        if (ws->epoch >= pw->t[i].next_epoch)
            needed = 1;
    if (!needed)
        return 0;
    if (pw->npending == PW_PENDING_MAX)
        return -ENOSPC; /* the follower stays before it */
    pw->pending[pw->npending++] = *ws;
    return 0;
}

/* One witness's turn: the pending seals it has not taken, in order,
 * until one fails. */
static void deliver(struct pwitness *pw, struct pw_target *t, int64_t now)
{
    char line[ARCHIVE_WITNESS_LINE_MAX], err[512];

    if (now < t->retry_at_us)
        return;
    for (size_t i = 0; i < pw->npending; i++) {
        const struct archive_witnessed *ws = &pw->pending[i];
        int n, r;

        if (ws->epoch < t->next_epoch)
            continue;
        n = archive_witness_line(ws, line, sizeof(line));
        if (n < 0)
            continue; /* cannot happen: the line has a fixed length */
        err[0] = '\0';
        r = t->file   ? send_file(t, line, (size_t)n, err, sizeof(err))
            : t->bulk ? send_bulk(t, line, (size_t)n, err, sizeof(err))
                      : send_url(t, line, (size_t)n, err, sizeof(err));
        pthread_mutex_lock(&pw->lock);
        if (r < 0) {
            t->st.failures++;
            if (!t->st.failing)
                log_warnx("archive witness %s: seal of epoch %" PRIu64
                          " not taken: %s (tried again, backing off to 5 minutes)",
                          t->st.target, ws->epoch, err);
            else
                RL_WARN(pw, "archive witness %s: still failing at epoch %" PRIu64 ": %s",
                        t->st.target, ws->epoch, err);
            t->st.failing = 1;
            snprintf(t->st.last_error, sizeof(t->st.last_error), "%s", err);
            pthread_mutex_unlock(&pw->lock);
            t->backoff_us = t->backoff_us ? t->backoff_us * 2 : PW_BACKOFF_MIN_US;
            if (t->backoff_us > PW_BACKOFF_MAX_US)
                t->backoff_us = PW_BACKOFF_MAX_US;
            t->retry_at_us = now + t->backoff_us;
            return;
        }
        if (t->st.failing)
            log_info("archive witness %s: taking seals again from epoch %" PRIu64 " after %" PRIu64
                     " failed attempts",
                     t->st.target, ws->epoch, t->st.failures);
        t->st.failing = 0;
        t->st.last_error[0] = '\0';
        t->st.sent++;
        t->st.last_ok_us = time_now_us();
        t->st.next_epoch = t->next_epoch = ws->epoch + 1;
        pthread_mutex_unlock(&pw->lock);
        t->backoff_us = 0;
        t->retry_at_us = 0;
        if ((r = state_write(t->state_path, t->next_epoch)) < 0)
            RL_WARN(pw,
                    "archive witness state %s: %s (after a restart, seals from epoch "
                    "%" PRIu64 " on may be sent again)",
                    t->state_path, strerror(-r), ws->epoch);
    }
}

/* Drops the pending seals every witness took. */
static void trim(struct pwitness *pw)
{
    uint64_t low = UINT64_MAX;
    size_t k = 0;

    for (size_t i = 0; i < pw->n; i++)
        if (pw->t[i].next_epoch < low)
            low = pw->t[i].next_epoch;
    while (k < pw->npending && pw->pending[k].epoch < low)
        k++;
    if (k) {
        memmove(pw->pending, pw->pending + k, (pw->npending - k) * sizeof(*pw->pending));
        pw->npending -= k;
    }
}

/* An audit head exporter's turn: the head file's line, when it changed. */
static void deliver_head(struct pwitness *pw, struct pw_target *t, int64_t now)
{
    unsigned char hh[32];
    char *text = NULL, err[512] = "";
    size_t len = 0;
    int r;

    if (now < t->retry_at_us)
        return;
    if ((r = readfile_all(t->head_path, 64 * 1024, &text, &len)) < 0) {
        if (r != -ENOENT)
            RL_WARN(pw, "audit head export: %s: %s", t->head_path, strerror(-r));
        return;
    }
    crypto_generichash(hh, sizeof(hh), (const unsigned char *)text, len, NULL, 0);
    if (len == 0 || (t->have_sent && memcmp(hh, t->sent_h, sizeof(hh)) == 0)) {
        free(text);
        return;
    }
    r = send_url(t, text, len, err, sizeof(err));
    free(text);
    pthread_mutex_lock(&pw->lock);
    if (r < 0) {
        t->st.failures++;
        if (!t->st.failing)
            log_warnx("audit head export to %s: not taken: %s (tried again, backing off to 5 "
                      "minutes)",
                      t->st.target, err);
        t->st.failing = 1;
        snprintf(t->st.last_error, sizeof(t->st.last_error), "%s", err);
        pthread_mutex_unlock(&pw->lock);
        t->backoff_us = t->backoff_us ? t->backoff_us * 2 : PW_BACKOFF_MIN_US;
        if (t->backoff_us > PW_BACKOFF_MAX_US)
            t->backoff_us = PW_BACKOFF_MAX_US;
        t->retry_at_us = now + t->backoff_us;
        return;
    }
    if (t->st.failing)
        log_info("audit head export to %s: taken again after %" PRIu64 " failed attempts",
                 t->st.target, t->st.failures);
    t->st.failing = 0;
    t->st.last_error[0] = '\0';
    t->st.sent++;
    t->st.last_ok_us = time_now_us();
    pthread_mutex_unlock(&pw->lock);
    memcpy(t->sent_h, hh, sizeof(hh));
    t->have_sent = 1;
    t->backoff_us = 0;
    t->retry_at_us = 0;
}

static void round_once(struct pwitness *pw)
{
    int r = pw->dir ? archive_seals_follow(pw->dir, &pw->f, on_seal, pw) : 0;

    if (r < 0 && r != -ENOSPC && r != -ENOENT)
        RL_WARN(pw, "archive witness: reading seals from %s: %s (run hikeshi archive verify)",
                pw->dir, strerror(-r));
    for (size_t i = 0; i < pw->n; i++)
        if (pw->t[i].head_path)
            deliver_head(pw, &pw->t[i], time_now_us());
        else
            deliver(pw, &pw->t[i], time_now_us());
    trim(pw);
}

static void *pw_thread(void *arg)
{
    struct pwitness *pw = arg;

    pthread_mutex_lock(&pw->lock);
    while (!pw->stop) {
        struct timespec ts;

        pw->kicked = 0;
        pthread_mutex_unlock(&pw->lock);
        round_once(pw);
        pthread_mutex_lock(&pw->lock);
        if (pw->stop || pw->kicked)
            continue;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += PW_ROUND_US / 1000000;
        pthread_cond_timedwait(&pw->cond, &pw->lock, &ts);
    }
    pthread_mutex_unlock(&pw->lock);
    return NULL;
}

static void pw_free(struct pwitness *pw)
{
    for (size_t i = 0; pw->t && i < pw->n; i++) {
        free(pw->t[i].file);
        free(pw->t[i].url);
        free(pw->t[i].head_path);
        free(pw->t[i].bulk);
        free(pw->t[i].auth_header);
        if (pw->t[i].secret) {
            sodium_memzero(pw->t[i].secret, pw->t[i].secret_len);
            free(pw->t[i].secret);
        }
    }
    free(pw->t);
    free(pw->pending);
    free(pw->dir);
    pthread_cond_destroy(&pw->cond);
    pthread_mutex_destroy(&pw->lock);
    free(pw);
}

int pwitness_start(const char *archive_dir, const char *state_dir, const struct config_witness *w,
                   size_t n, struct pwitness **ret)
{
    struct pwitness *pw;
    int r = 0;

    *ret = NULL;
    if (n == 0)
        return 0;
    if (!(pw = calloc(1, sizeof(*pw))))
        return -ENOMEM;
    pthread_mutex_init(&pw->lock, NULL);
    pthread_cond_init(&pw->cond, NULL);
    pw->rl = (struct log_ratelimit){.interval_s = 60, .burst = 3};
    pw->dir = strdup(archive_dir);
    pw->t = calloc(n, sizeof(*pw->t));
    pw->pending = calloc(PW_PENDING_MAX, sizeof(*pw->pending));
    if (!pw->dir || !pw->t || !pw->pending) {
        pw_free(pw);
        return -ENOMEM;
    }
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        log_error("archive.witness: %s: %s", state_dir, strerror(-r));
        pw_free(pw);
        return r;
    }
    pw->n = n; /* zeroed entries free cleanly when a later one fails */
    for (size_t i = 0; i < n; i++) {
        struct pw_target *t = &pw->t[i];

        t->file = w[i].file ? strdup(w[i].file) : NULL;
        t->url = w[i].url ? strdup(w[i].url) : NULL;
        t->bulk = w[i].hikeshi ? strdup(w[i].hikeshi) : NULL;
        t->auth_header = w[i].auth_header ? strdup(w[i].auth_header) : NULL;
        if ((w[i].file && !t->file) || (w[i].url && !t->url) || (w[i].hikeshi && !t->bulk) ||
            (w[i].auth_header && !t->auth_header)) {
            r = -ENOMEM;
            break;
        }
        t->st.target = t->file ? t->file : t->bulk ? t->bulk : t->url;
        if (t->url && (r = load_secret(t, w[i].secret_file)) < 0)
            break;
        if ((r = state_path(state_dir, &w[i], t->state_path, sizeof(t->state_path))) < 0)
            break;
        t->st.next_epoch = t->next_epoch = state_read(t->state_path);
        log_info("archive witness %s: sending seals from epoch %" PRIu64, t->st.target,
                 t->next_epoch);
    }
    if (r == 0 && (r = -pthread_create(&pw->th, NULL, pw_thread, pw)) == 0)
        pw->started = 1;
    if (r < 0) {
        pw_free(pw);
        return r;
    }
    *ret = pw;
    return 0;
}

int pwitness_start_head(const char *head_path, const char *url, const char *secret_file,
                        struct pwitness **ret)
{
    struct pwitness *pw;
    struct pw_target *t;
    int r;

    *ret = NULL;
    if (!(pw = calloc(1, sizeof(*pw))))
        return -ENOMEM;
    pthread_mutex_init(&pw->lock, NULL);
    pthread_cond_init(&pw->cond, NULL);
    pw->rl = (struct log_ratelimit){.interval_s = 60, .burst = 3};
    pw->t = calloc(1, sizeof(*pw->t));
    pw->pending = calloc(1, sizeof(*pw->pending));
    if (!pw->t || !pw->pending) {
        pw_free(pw);
        return -ENOMEM;
    }
    pw->n = 1;
    t = &pw->t[0];
    t->url = strdup(url);
    t->head_path = strdup(head_path);
    if (!t->url || !t->head_path) {
        pw_free(pw);
        return -ENOMEM;
    }
    t->st.target = t->url;
    t->st.next_epoch = UINT64_MAX; /* takes no archive seal */
    t->next_epoch = UINT64_MAX;
    if ((r = load_secret(t, secret_file)) < 0 ||
        (r = -pthread_create(&pw->th, NULL, pw_thread, pw)) < 0) {
        pw_free(pw);
        return r;
    }
    pw->started = 1;
    log_info("audit head export: %s sent to %s when it changes", head_path, url);
    *ret = pw;
    return 0;
}

void pwitness_kick(struct pwitness *pw)
{
    if (!pw)
        return;
    pthread_mutex_lock(&pw->lock);
    pw->kicked = 1;
    pthread_cond_signal(&pw->cond);
    pthread_mutex_unlock(&pw->lock);
}

void pwitness_stop(struct pwitness *pw)
{
    if (!pw)
        return;
    pthread_mutex_lock(&pw->lock);
    pw->stop = 1;
    pthread_cond_signal(&pw->cond);
    pthread_mutex_unlock(&pw->lock);
    if (pw->started)
        pthread_join(pw->th, NULL);
    /* The seal written at close: one last round, failures not retried. */
    round_once(pw);
    pw_free(pw);
}

size_t pwitness_states(struct pwitness *pw, struct pwitness_state *ret, size_t max)
{
    if (!pw)
        return 0;
    pthread_mutex_lock(&pw->lock);
    for (size_t i = 0; i < pw->n && i < max; i++)
        ret[i] = pw->t[i].st;
    pthread_mutex_unlock(&pw->lock);
    return pw->n;
}
