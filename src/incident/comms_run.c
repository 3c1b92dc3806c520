/*
 * comms_run.c - the deliverer of messages (see comms_run.h): one thread,
 * its own store connection, a pass once a second.  The steps of a
 * message's life are message_case.c's; this file decides when to attempt,
 * how long to wait before the next, and talks to the channels.
 */
#include "incident/comms_run.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/config.h"
#include "event/time.h"
#include "incident/casefile.h"
#include "incident/casefile_priv.h"
#include "incident/comms_smtp.h"
#include "incident/message.h"
#include "incident/message_case.h"
#include "respond/respond_webhook.h"
#include "store/store.h"
#include "store/store_message.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/readfile.h"

/* Messages attempted per pass; the rest wait for the next. */
#define COMMS_PASS_MAX 32
/* Open incidents looked at for a first report per pass (the newest). */
#define COMMS_SCAN_MAX 200
/* An incident older than this when the deliverer starts gets no first
 * report drafted: a store full of old incidents must not flood the
 * responsible person with drafts after an upgrade. */
#define COMMS_FIRST_REPORT_WINDOW_US (INT64_C(24) * 3600 * 1000000)

static struct comms_stats stats;

const struct comms_stats *comms_stats(void)
{
    return &stats;
}

struct comms_run {
    struct store *st;
    struct casefile cf;
    struct incident_targets targets;
    char *smtp, *from, *export_dir, *responsible;
    char **allow;
    size_t nallow;
    unsigned attempts;
    int64_t retry_us, retry_max_us;
    int first_report;
    int64_t started_us;
    unsigned char *secret;
    size_t secret_len;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

/* The document a webhook or export carries. */
static int message_doc(const struct store_message_row *m, struct buf *b)
{
    int r =
        buf_printf(b, "{\"event\":\"incident.message\",\"incident\":%lld,\"message\":%lld,\"ref\":",
                   (long long)m->incident_id, (long long)m->id);

    if (r == 0)
        r = buf_json_str(b, m->ref, strlen(m->ref));
    if (r == 0)
        r = buf_printf(b, ",\"party\":\"%s\",\"tlp\":\"%s\",\"fields\":", m->party, m->tlp);
    if (r == 0)
        r = buf_json_str(b, m->fields, strlen(m->fields));
    if (r == 0)
        r = buf_puts(b, ",\"subject\":");
    if (r == 0)
        r = buf_json_str(b, m->subject, strlen(m->subject));
    if (r == 0)
        r = buf_puts(b, ",\"body\":");
    if (r == 0)
        r = buf_json_str(b, m->body, strlen(m->body));
    if (r == 0)
        r = buf_putc(b, '}');
    return r;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* DIR/REF.json and DIR/REF.json.sig (HMAC-SHA256 of the file, hex),
 * each written to a temporary name, synced and renamed. */
static int export_file(const char *dir, const char *name, const char *data, size_t len, char *why,
                       size_t why_size)
{
    char path[4096], tmp[4200];
    int fd, r;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
        r = -errno;
        snprintf(why, why_size, "%.300s: %s", tmp, strerror(-r));
        return r;
    }
    r = write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        snprintf(why, why_size, "%.300s: %s", path, strerror(-r));
        (void)unlink(tmp);
    }
    return r;
}

static int send_export(struct comms_run *c, const struct store_message_row *m,
                       const struct buf *doc, char *why, size_t why_size)
{
    crypto_auth_hmacsha256_state hs;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[sizeof(mac) * 2 + 2], name[MESSAGE_REF_MAX + 16];
    int r;

    if (!c->export_dir || !c->secret) {
        snprintf(why, why_size, "incident.messages.export_dir and secret_file are not set");
        return -EINVAL;
    }
    /* The whole key, whatever its length (crypto_auth_hmacsha256 alone
     * would take its first 32 bytes). */
    crypto_auth_hmacsha256_init(&hs, c->secret, c->secret_len);
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)doc->data, doc->len);
    crypto_auth_hmacsha256_final(&hs, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    hex[sizeof(mac) * 2] = '\n';
    hex[sizeof(mac) * 2 + 1] = '\0';
    snprintf(name, sizeof(name), "%s.json", m->ref);
    if ((r = export_file(c->export_dir, name, doc->data, doc->len, why, why_size)) < 0)
        return r;
    snprintf(name, sizeof(name), "%s.json.sig", m->ref);
    return export_file(c->export_dir, name, hex, strlen(hex), why, why_size);
}

/* One attempt through the message's channel: 0 delivered, -EINVAL a fault
 * no retry mends, another negative errno one that a retry may. */
static int deliver(struct comms_run *c, const struct store_message_row *m, char *why,
                   size_t why_size)
{
    enum message_channel ch;
    struct buf doc;
    int r;

    if (message_channel_from_name(m->channel, &ch) < 0) {
        snprintf(why, why_size, "unknown channel");
        return -EINVAL;
    }
    if (ch == MESSAGE_CHANNEL_SMTP) {
        const struct comms_smtp_conf sc = {.url = c->smtp, .from = c->from, .timeout_ms = 30000};
        const struct comms_smtp_mail mail = {
            .to = m->recipient, .subject = m->subject, .body = m->body, .ref = m->ref};

        if (!c->smtp || !c->from) {
            snprintf(why, why_size, "incident.messages.smtp and from are not set");
            return -EINVAL;
        }
        return comms_smtp_send(&sc, &mail, why, why_size);
    }
    buf_init(&doc, MESSAGE_BODY_MAX * 7 + 4096);
    if (message_doc(m, &doc) < 0) {
        snprintf(why, why_size, "the document does not fit");
        buf_done(&doc);
        return -EINVAL;
    }
    if (ch == MESSAGE_CHANNEL_EXPORT) {
        r = send_export(c, m, &doc, why, why_size);
    } else {
        const struct respond_webhook_conf wc = {
            .url = m->recipient,
            .secret = c->secret,
            .secret_len = c->secret_len,
            .timeout_ms = 10000,
            .max_attempts = 1, /* the retries are ours, spaced and recorded */
        };
        struct respond_webhook_result res;

        if (!c->secret) {
            snprintf(why, why_size, "incident.messages.secret_file is not set");
            r = -EINVAL;
        } else {
            /* The allowlist is checked again: it may have shrunk since the
             * draft. */
            int allowed = 0;
            for (size_t i = 0; i < c->nallow; i++)
                allowed |= strncmp(m->recipient, c->allow[i], strlen(c->allow[i])) == 0;
            if (!allowed) {
                snprintf(why, why_size, "the URL is no longer under webhook_allow");
                r = -EINVAL;
            } else if ((r = respond_webhook_send(&wc, doc.data, doc.len, &res)) < 0) {
                snprintf(why, why_size, "%s", res.reason);
                r = res.retryable ? -EIO : -EINVAL;
            }
        }
    }
    buf_done(&doc);
    return r;
}

static int64_t retry_at(const struct comms_run *c, int attempts, int64_t now_us)
{
    int64_t wait = c->retry_us;

    for (int i = 1; i < attempts && wait < c->retry_max_us; i++)
        wait *= 2;
    if (wait > c->retry_max_us)
        wait = c->retry_max_us;
    return now_us + (wait > 0 ? wait : 1);
}

static void attempt(struct comms_run *c, int64_t id)
{
    struct casefile_err err = {.off = -1};
    struct store_message_row m;
    char why[600] = "";
    int64_t now_us = time_now_us(), next = 0;
    int r, ok, exercise = 0;

    if (message_case_attempt_begin(&c->cf, id, now_us, &m, &err) < 0) {
        log_warnx("messages: message %lld not sent: %s", (long long)id, err.msg);
        return;
    }
    atomic_fetch_add(&stats.attempts, 1);
    /* A tabletop exercise's message stays in hikeshi: the exercise's
     * facilitator plays the party, and the score reads the message from
     * the store (docs/exercise.md).  If the mark cannot be read, nothing
     * leaves either: the attempt fails and is retried. */
    if (store_message_is_exercise(c->st, m.incident_id, &exercise) < 0) {
        snprintf(why, sizeof(why), "cannot tell whether incident %lld is an exercise's: %s",
                 (long long)m.incident_id, store_errmsg(c->st));
        r = -EIO;
    } else if (exercise) {
        log_info("messages: message %lld of exercise incident %lld to the %s party kept in "
                 "hikeshi, not sent (%s to %s)",
                 (long long)id, (long long)m.incident_id, m.party, m.channel, m.recipient);
        r = 0;
    } else {
        r = deliver(c, &m, why, sizeof(why));
    }
    ok = r == 0;
    now_us = time_now_us();
    if (!ok && r != -EINVAL && (unsigned)m.attempts < c->attempts)
        next = retry_at(c, m.attempts, now_us);
    if (ok) {
        atomic_fetch_add(&stats.delivered, 1);
        log_info("messages: message %lld of incident %lld delivered to the %s party (%s)",
                 (long long)id, (long long)m.incident_id, m.party, m.channel);
    } else if (next) {
        atomic_fetch_add(&stats.retries, 1);
        log_warnx("messages: message %lld attempt %d failed, retried in %llds: %s", (long long)id,
                  m.attempts, (long long)((next - now_us) / 1000000), why);
    } else {
        atomic_fetch_add(&stats.failed, 1);
        log_warnx("messages: message %lld of incident %lld failed after %d attempt(s): %s",
                  (long long)id, (long long)m.incident_id, m.attempts, why);
    }
    err = (struct casefile_err){.off = -1};
    if (message_case_attempt_end(&c->cf, id, ok, ok ? NULL : why, next, now_us, &err) < 0)
        log_warnx("messages: message %lld: outcome not recorded: %s", (long long)id, err.msg);
    store_message_row_done(&m);
}

/* The first report of incident `id` when it is new or in first aid and
 * has none: a draft to the responsible person. */
static void first_report(struct comms_run *c, int64_t id, int64_t now_us)
{
    struct casefile_err err = {.off = -1};
    struct incident inc;
    struct store_incident_row row;
    int64_t contact = 0, msg = 0;
    int has = 0;

    if (store_message_has_kind(c->st, id, "first_report", &has) < 0 || has)
        return;
    if (casefile_load(&c->cf, id, &inc, &row, &err) < 0)
        return;
    if ((inc.phase == INCIDENT_PHASE_NEW || inc.phase == INCIDENT_PHASE_FIRST_AID) &&
        inc.created_us >= c->started_us - COMMS_FIRST_REPORT_WINDOW_US) {
        const char *key = c->responsible ? c->responsible : "responsible";
        if (store_contact_by_key(c->st, key, &contact) < 0 && !c->responsible)
            (void)store_contact_by_key(c->st, "manager", &contact);
        /* Nobody to mail: the draft is an export, still one click away. */
        if (message_case_draft_auto(&c->cf, id, MESSAGE_PARTY_RESPONSIBLE, contact,
                                    contact ? NULL : "responsible", "first_report", now_us, &msg,
                                    &err) == 0 &&
            msg) {
            atomic_fetch_add(&stats.drafted, 1);
            log_info("messages: incident %lld: first report drafted as message %lld", (long long)id,
                     (long long)msg);
        } else {
            log_warnx("messages: incident %lld: first report not drafted: %s", (long long)id,
                      err.msg);
        }
    }
    incident_done(&inc);
    store_incident_row_done(&row);
}

static void comms_pass(struct comms_run *c)
{
    int64_t ids[COMMS_PASS_MAX], now_us = time_now_us();
    size_t n = 0;

    if (c->first_report) {
        struct store_incident_filter fl = {.limit = COMMS_SCAN_MAX};
        int64_t inc[COMMS_SCAN_MAX];

        if (store_incident_ids(c->st, &fl, 1, inc, COMMS_SCAN_MAX, &n) == 0)
            for (size_t i = 0; i < n; i++)
                first_report(c, inc[i], now_us);
    }
    if (store_message_due(c->st, now_us, ids, COMMS_PASS_MAX, &n) < 0) {
        log_warnx("messages: finding messages to send: %s", store_errmsg(c->st));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&c->mu);
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        attempt(c, ids[i]);
    }
}

/* Messages left "sent" by a stop during their attempt: counted as a
 * failed attempt, to be retried. */
static void comms_recover(struct comms_run *c)
{
    int64_t ids[COMMS_PASS_MAX], now_us = time_now_us();
    size_t n = 0;

    if (store_message_inflight(c->st, ids, COMMS_PASS_MAX, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct casefile_err err = {.off = -1};
        (void)message_case_attempt_end(&c->cf, ids[i], 0,
                                       "interrupted: the daemon stopped during the attempt; "
                                       "the recipient may get it twice",
                                       now_us, now_us, &err);
    }
}

static void *comms_main(void *arg)
{
    struct comms_run *c = arg;

    comms_recover(c);
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec until;

        pthread_mutex_unlock(&c->mu);
        comms_pass(c);
        pthread_mutex_lock(&c->mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void comms_free(struct comms_run *c)
{
    free(c->smtp);
    free(c->from);
    free(c->export_dir);
    free(c->responsible);
    for (size_t i = 0; i < c->nallow; i++)
        free(c->allow[i]);
    free(c->allow);
    if (c->secret) {
        sodium_memzero(c->secret, c->secret_len);
        free(c->secret);
    }
    store_free(c->st);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static int dup_opt(const char *s, char **ret)
{
    *ret = NULL;
    return s && !(*ret = strdup(s)) ? -ENOMEM : 0;
}

static int comms_setup(struct comms_run *c, const struct comms_run_opts *o, char *errbuf,
                       size_t errlen)
{
    const struct config_messages *m = o->msg;
    char *serr = NULL, *text = NULL;
    size_t len = 0;
    int r;

    if (dup_opt(m->smtp, &c->smtp) < 0 || dup_opt(m->from, &c->from) < 0 ||
        dup_opt(m->export_dir, &c->export_dir) < 0 || dup_opt(m->responsible, &c->responsible) < 0)
        return -ENOMEM;
    if (m->nwebhook_allow) {
        if (!(c->allow = calloc(m->nwebhook_allow, sizeof(*c->allow))))
            return -ENOMEM;
        for (; c->nallow < m->nwebhook_allow; c->nallow++)
            if (!(c->allow[c->nallow] = strdup(m->webhook_allow[c->nallow])))
                return -ENOMEM;
    }
    c->attempts = m->attempts ? m->attempts : 5;
    c->retry_us = m->retry_us;
    c->retry_max_us = m->retry_max_us;
    c->first_report = m->first_report;
    if (m->secret_file) {
        r = readfile_all(m->secret_file, 4096, &text, &len);
        if (r < 0) {
            snprintf(errbuf, errlen, "incident.messages.secret_file %s: %s", m->secret_file,
                     strerror(-r));
            return r;
        }
        c->secret = (unsigned char *)text;
        c->secret_len = len;
        if (len < RESPOND_WEBHOOK_SECRET_MIN) {
            snprintf(errbuf, errlen,
                     "incident.messages.secret_file %s: %zu bytes, at least %d needed",
                     m->secret_file, len, RESPOND_WEBHOOK_SECRET_MIN);
            return -EINVAL;
        }
    }
    if ((r = store_open(o->data_dir, &c->st, &serr)) < 0) {
        snprintf(errbuf, errlen, "messages: store in %s: %s", o->data_dir,
                 serr ? serr : strerror(-r));
        free(serr);
        return r;
    }
    incident_targets_default(&c->targets);
    c->cf.st = c->st;
    c->cf.audit = o->audit;
    c->cf.targets = &c->targets;
    return 0;
}

int comms_run_start(const struct comms_run_opts *o, struct comms_run **ret, char *errbuf,
                    size_t errlen)
{
    struct comms_run *c;
    int r;

    *ret = NULL;
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->started_us = time_now_us();
    if ((r = comms_setup(c, o, errbuf, errlen)) < 0) {
        if (r == -ENOMEM)
            snprintf(errbuf, errlen, "messages: out of memory");
        comms_free(c);
        return r;
    }
    if ((r = pthread_create(&c->th, NULL, comms_main, c)) != 0) {
        snprintf(errbuf, errlen, "messages: thread: %s", strerror(r));
        comms_free(c);
        return -r;
    }
    c->started = 1;
    *ret = c;
    return 0;
}

void comms_run_stop(struct comms_run *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->th, NULL);
    }
    comms_free(c);
}
