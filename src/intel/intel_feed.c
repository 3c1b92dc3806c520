/*
 * intel_feed.c - the daemon's feed fetcher (intel_feed.h): one thread that
 * fetches each intel.feeds entry when it is due, conditionally (the ETag
 * and Last-Modified of the last good fetch, kept in
 * DATA_DIR/intel-feeds/NAME.state so that a restart does not download
 * everything again), writes what it got into DATA_DIR/intel-feeds/NAME.new/
 * and imports that with intel_import_path, which replaces the feed in one
 * transaction or not at all.  The ETag is saved only after a successful
 * import: a feed refused once is fetched whole again next time.
 *
 * Every byte fetched is hostile: bodies are capped, a MISP manifest's keys
 * that are not uuids are never used in a URL or a path, redirects are not
 * followed (a custom header such as an API key must not reach another
 * host), and the importer reports bad entries with where and why.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "conf/config.h"
#include "event/time.h"
#include "intel/intel.h"
#include "intel/intel_feed.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"

/* The largest body taken (a feed file, a manifest, one MISP event). */
#define FEED_BODY_MAX (256 * 1024 * 1024)
/* Events of one MISP feed fetched at most. */
#define FEED_EVENTS_MAX 20000
/* One transfer's limits. */
#define FEED_TIMEOUT_S 300
#define FEED_CONNECT_TIMEOUT_S 30
/* The validators kept from an answer. */
#define FEED_VALIDATOR_MAX 256

static struct intel_feed_stat feed_stats[CONFIG_MAX_INTEL_FEEDS];
static _Atomic size_t feed_nstats;

/* snprintf that says when it cut: a path or a message too long is cut,
 * never overrun (-ENAMETOOLONG then). */
static int fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *out, size_t n, const char *f, ...)
{
    va_list ap;
    int r;

    va_start(ap, f);
    r = vsnprintf(out, n, f, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

size_t intel_feed_stats(const struct intel_feed_stat **ret)
{
    *ret = feed_stats;
    return atomic_load(&feed_nstats);
}

struct feed {
    char *name, *url, *auth;
    char *ca_file, *client_cert, *client_key; /* PEM files for https; NULL: none */
    int format;
    int tlp, confidence;
    int64_t interval_us;
    int64_t due_us;
    char etag[FEED_VALIDATOR_MAX + 1];
    char last_modified[FEED_VALIDATOR_MAX + 1];
    struct intel_feed_stat *stat;
};

struct intel_feed_run {
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int stop;
    char dir[PATH_MAX]; /* DATA_DIR/intel-feeds */
    struct store *st;
    struct intel_warn *warn;
    struct feed *feeds;
    size_t nfeeds;
    void (*updated)(void *ctx, const char *feed);
    void *ctx;
};

/* ---- one HTTP GET -------------------------------------------------------- */

struct get {
    struct intel_feed_run *r;
    struct buf body;
    char etag[FEED_VALIDATOR_MAX + 1];
    char last_modified[FEED_VALIDATOR_MAX + 1];
    long status;
};

static size_t get_write(char *p, size_t size, size_t n, void *ctx)
{
    struct get *g = ctx;

    return buf_append(&g->body, p, size * n) == 0 ? size * n : 0;
}

/* Keeps an ETag or Last-Modified value: printable bytes only, trimmed. */
static void keep_header(const char *line, size_t len, size_t nlen, char *out)
{
    size_t i = nlen, j = len;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' '))
        j--;
    if (j - i > FEED_VALIDATOR_MAX)
        return; /* too long to be ours: not kept, the next fetch is whole */
    for (size_t k = i; k < j; k++)
        if ((unsigned char)line[k] < 0x20 || (unsigned char)line[k] >= 0x7f)
            return;
    memcpy(out, line + i, j - i);
    out[j - i] = '\0';
}

static size_t get_header(char *p, size_t size, size_t n, void *ctx)
{
    struct get *g = ctx;
    size_t len = size * n;

    if (len > 5 && strncasecmp(p, "ETag:", 5) == 0)
        keep_header(p, len, 5, g->etag);
    else if (len > 14 && strncasecmp(p, "Last-Modified:", 14) == 0)
        keep_header(p, len, 14, g->last_modified);
    return len;
}

static int get_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const struct get *g = ctx;

    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&g->r->stop) ? 1 : 0; /* non-zero aborts the transfer */
}

/*
 * GETs `url` into g->body; with `f` given, conditionally on its saved
 * validators.  0 with g->status (200 or 304 only), or -EIO with err
 * saying why (a transfer error, another status).
 */
static int http_get(struct intel_feed_run *r, const struct feed *f, const char *url, int cond,
                    struct get *g, char *err, size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    char hdr[FEED_VALIDATOR_MAX + 32];
    struct curl_slist *h = NULL, *t;
    CURL *c = curl_easy_init();
    CURLcode cc;
    int ret = -EIO;

    g->r = r;
    g->status = 0;
    g->etag[0] = g->last_modified[0] = '\0';
    buf_reset(&g->body);
    if (!c) {
        fmt(err, errlen, "libcurl: out of memory");
        return -ENOMEM;
    }
    if (f->auth && (t = curl_slist_append(h, f->auth)))
        h = t;
    if (cond && f->etag[0]) {
        fmt(hdr, sizeof(hdr), "If-None-Match: %s", f->etag);
        if ((t = curl_slist_append(h, hdr)))
            h = t;
    }
    if (cond && f->last_modified[0]) {
        fmt(hdr, sizeof(hdr), "If-Modified-Since: %s", f->last_modified);
        if ((t = curl_slist_append(h, hdr)))
            h = t;
    }
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FEED_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)FEED_CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FEED_BODY_MAX) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, "hikeshi/" HIKESHI_VERSION) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, get_write) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, g) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, get_header) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERDATA, g) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, get_progress) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, g) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
        (f->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file) != CURLE_OK) ||
        (f->ca_file && curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK) ||
        (f->client_cert && curl_easy_setopt(c, CURLOPT_SSLCERT, f->client_cert) != CURLE_OK) ||
        (f->client_cert && curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK) ||
        (f->client_key && curl_easy_setopt(c, CURLOPT_SSLKEY, f->client_key) != CURLE_OK) ||
        (f->client_key && curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)) {
        fmt(err, errlen, "libcurl refused the request settings");
        goto out;
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        fmt(err, errlen, "%s",
            cc == CURLE_WRITE_ERROR ? "the answer is larger than 256 MiB"
            : ebuf[0]               ? ebuf
                                    : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
    if (g->status == 200 || (cond && g->status == 304)) {
        ret = 0;
    } else if (g->status >= 300 && g->status < 400) {
        fmt(err, errlen, "HTTP %ld: redirects are not followed (give the final URL)", g->status);
    } else {
        fmt(err, errlen, "HTTP %ld", g->status);
    }
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ret;
}

/* ---- files under DATA_DIR/intel-feeds ---------------------------------- */

static int write_file(const char *path, const char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = 0;

    if (fd < 0)
        return -errno;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

/* Empties DIR/NAME.new of the files this module writes there
 * (manifest.json, feed, UUID.json).  The directory stays: the daemon's
 * system call filter has no rmdir. */
static void clear_work(const char *work, char *const *uuids, size_t nuuids)
{
    char p[PATH_MAX];

    fmt(p, sizeof(p), "%s/manifest.json", work);
    unlink(p);
    fmt(p, sizeof(p), "%s/feed", work);
    unlink(p);
    for (size_t i = 0; i < nuuids; i++) {
        fmt(p, sizeof(p), "%s/%s.json", work, uuids[i]);
        unlink(p);
    }
}

static void state_path(const struct intel_feed_run *r, const struct feed *f, char *out, size_t n)
{
    fmt(out, n, "%s/%s.state", r->dir, f->name);
}

/* The saved validators: "etag\nlast-modified\n". */
static void state_load(const struct intel_feed_run *r, struct feed *f)
{
    char p[PATH_MAX], line[FEED_VALIDATOR_MAX + 2];
    FILE *fp;

    state_path(r, f, p, sizeof(p));
    if (!(fp = fopen(p, "re")))
        return;
    for (int i = 0; i < 2 && fgets(line, sizeof(line), fp); i++) {
        line[strcspn(line, "\r\n")] = '\0';
        fmt(i == 0 ? f->etag : f->last_modified, FEED_VALIDATOR_MAX + 1, "%s", line);
    }
    fclose(fp);
}

static void state_save(const struct intel_feed_run *r, const struct feed *f)
{
    char p[PATH_MAX], tmp[PATH_MAX + 8], txt[2 * FEED_VALIDATOR_MAX + 4];

    state_path(r, f, p, sizeof(p));
    fmt(tmp, sizeof(tmp), "%s.tmp", p);
    fmt(txt, sizeof(txt), "%s\n%s\n", f->etag, f->last_modified);
    if (write_file(tmp, txt, strlen(txt)) < 0 || rename(tmp, p) < 0) {
        log_warn("intel feed %s: saving %s", f->name, p);
        unlink(tmp);
    }
}

/* ---- one fetch ----------------------------------------------------------- */

struct uuids {
    char **v;
    size_t n;
};

static int take_uuid(void *ctx, const char *uuid)
{
    struct uuids *u = ctx;
    char *s;

    if (u->n >= FEED_EVENTS_MAX)
        return -E2BIG;
    if (!(s = strdup(uuid)))
        return -ENOMEM;
    u->v[u->n++] = s;
    return 0;
}

static int ind_ignore(void *ctx, const struct intel_ind *ind)
{
    (void)ctx, (void)ind;
    return 0;
}

static void bad_log(void *ctx, const char *where, const char *why)
{
    const struct feed *f = ctx;
    char q[256];

    log_debug("intel feed %s: manifest.json: %s: %s", f->name,
              log_quote(q, sizeof(q), where, strlen(where)), why);
}

static void report_log(void *ctx, const char *file, const char *where, const char *why)
{
    const struct feed *f = ctx;
    char q[256];

    (void)file;
    log_debug("intel feed %s: %s: %s", f->name, log_quote(q, sizeof(q), where, strlen(where)), why);
}

/*
 * A MISP feed: manifest.json at the feed's URL (its base when the URL
 * does not end in manifest.json), then each event it names.  *ret_fresh 0
 * when the manifest was unchanged (304).  The files go into `work`.
 */
static int fetch_misp_feed(struct intel_feed_run *r, struct feed *f, const char *work,
                           struct get *g, struct uuids *u, int *ret_fresh, char *err, size_t errlen)
{
    char base[2200], url[2300], path[PATH_MAX], etag[FEED_VALIDATOR_MAX + 1],
        lm[FEED_VALIDATOR_MAX + 1];
    size_t ul = strlen(f->url);
    struct intel_sink sink = {ind_ignore, bad_log, f};
    struct parse_err perr = {0, 0, 0, NULL};
    int rr;

    if (ul >= 13 && strcmp(f->url + ul - 13, "manifest.json") == 0)
        fmt(base, sizeof(base), "%.*s", (int)(ul - 13), f->url);
    else
        fmt(base, sizeof(base), "%s%s", f->url, ul && f->url[ul - 1] == '/' ? "" : "/");
    fmt(url, sizeof(url), "%smanifest.json", base);
    if ((rr = http_get(r, f, url, 1, g, err, errlen)) < 0) {
        char e[512];
        fmt(e, sizeof(e), "%s", err);
        fmt(err, errlen, "%s: %s", url, e);
        return rr;
    }
    if (g->status == 304) {
        *ret_fresh = 0;
        return 0;
    }
    *ret_fresh = 1;
    memcpy(etag, g->etag, sizeof(etag));
    memcpy(lm, g->last_modified, sizeof(lm));
    if (!(u->v = calloc(FEED_EVENTS_MAX, sizeof(char *))))
        return -ENOMEM;
    rr = intel_misp_manifest(g->body.data, g->body.len, take_uuid, u, &sink, &perr);
    if (rr == -E2BIG) {
        fmt(err, errlen, "%s: more than %d events", url, FEED_EVENTS_MAX);
        return rr;
    }
    if (rr < 0) {
        fmt(err, errlen, "%s: byte %zu: %s", url, perr.off,
            perr.msg ? perr.msg : "not a MISP manifest");
        return rr;
    }
    fmt(path, sizeof(path), "%s/manifest.json", work);
    if ((rr = write_file(path, g->body.data, g->body.len)) < 0) {
        fmt(err, errlen, "%s: %s", path, strerror(-rr));
        return rr;
    }
    for (size_t i = 0; i < u->n; i++) {
        if (atomic_load(&r->stop)) {
            fmt(err, errlen, "stopped");
            return -ECANCELED;
        }
        /* uuids only (intel_misp_manifest refuses other keys): safe in a
         * URL and a file name */
        fmt(url, sizeof(url), "%s%s.json", base, u->v[i]);
        if ((rr = http_get(r, f, url, 0, g, err, errlen)) < 0) {
            char e[512];
            fmt(e, sizeof(e), "%s", err);
            fmt(err, errlen, "%s: %s: a partial feed is not imported", url, e);
            return rr;
        }
        fmt(path, sizeof(path), "%s/%s.json", work, u->v[i]);
        if ((rr = write_file(path, g->body.data, g->body.len)) < 0) {
            fmt(err, errlen, "%s: %s", path, strerror(-rr));
            return rr;
        }
    }
    memcpy(g->etag, etag, sizeof(etag));
    memcpy(g->last_modified, lm, sizeof(lm));
    return 0;
}

static void fetch_one(struct intel_feed_run *r, struct feed *f)
{
    static const char *const fmts[] = {"stix", "misp", NULL, "csv"};
    char work[PATH_MAX], path[PATH_MAX], err[1024] = "";
    struct uuids u = {NULL, 0};
    struct intel_import_stats s;
    struct get g;
    int fresh = 1, rr = -EIO;

    buf_init(&g.body, FEED_BODY_MAX);
    fmt(work, sizeof(work), "%s/%s.new", r->dir, f->name);
    clear_work(work, NULL, 0);
    if (mkdir(work, 0700) < 0 && errno != EEXIST) {
        fmt(err, sizeof(err), "%s: %s", work, strerror(errno));
        goto fail;
    }
    if (f->format == CONFIG_INTEL_FEED_MISP_FEED) {
        rr = fetch_misp_feed(r, f, work, &g, &u, &fresh, err, sizeof(err));
        fmt(path, sizeof(path), "%s", work);
    } else {
        rr = http_get(r, f, f->url, 1, &g, err, sizeof(err));
        if (rr < 0) {
            char e[512];
            fmt(e, sizeof(e), "%s", err);
            fmt(err, sizeof(err), "%s: %s", f->url, e);
        }
        fresh = rr == 0 && g.status == 200;
        fmt(path, sizeof(path), "%s/feed", work);
        if (rr == 0 && fresh && (rr = write_file(path, g.body.data, g.body.len)) < 0)
            fmt(err, sizeof(err), "%s: %s", path, strerror(-rr));
    }
    if (rr < 0)
        goto fail;
    if (!fresh) {
        atomic_fetch_add(&f->stat->not_modified, 1);
        atomic_store(&f->stat->last_success_s, time_now_us() / 1000000);
        log_debug("intel feed %s: not modified", f->name);
        goto out;
    }
    {
        struct intel_import_opts o = {
            .feed = f->name,
            .tlp = f->tlp,
            .confidence = f->confidence,
            .type = -1,
            .warn = r->warn,
            .format = fmts[f->format & 3],
            .require_any = 1,
            .report = report_log,
            .report_ctx = f,
            .now_us = time_now_us(),
        };
        if ((rr = intel_import_path(r->st, path, &o, &s, err, sizeof(err))) < 0) {
            if (rr == -EIO) {
                size_t n = strlen(err);
                fmt(err + n, sizeof(err) - n, ": %s", store_errmsg(r->st));
            }
            goto fail;
        }
    }
    fmt(f->etag, sizeof(f->etag), "%s", g.etag);
    fmt(f->last_modified, sizeof(f->last_modified), "%s", g.last_modified);
    state_save(r, f);
    atomic_fetch_add(&f->stat->updated, 1);
    atomic_store(&f->stat->indicators, s.taken);
    atomic_store(&f->stat->last_success_s, time_now_us() / 1000000);
    log_info("intel feed %s: %zu indicators imported (%s, %zu files), %zu refused, %zu on "
             "warninglists, %lld no longer in the feed removed",
             f->name, s.taken, s.format, s.files, s.refused, s.warned, (long long)s.removed);
    if (r->updated)
        r->updated(r->ctx, f->name);
    goto out;
fail:
    atomic_fetch_add(&f->stat->failed, 1);
    if (rr != -ECANCELED)
        log_warnx("intel feed %s: %s; keeping the indicators held", f->name, err);
out:
    clear_work(work, u.v, u.n);
    for (size_t i = 0; i < u.n; i++)
        free(u.v[i]);
    free(u.v);
    buf_done(&g.body);
}

/* ---- the thread ---------------------------------------------------------- */

static void *feed_main(void *arg)
{
    struct intel_feed_run *r = arg;

    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        int64_t now = time_now_us(), next = INT64_MAX;
        struct timespec until;

        for (size_t i = 0; i < r->nfeeds && !atomic_load(&r->stop); i++) {
            struct feed *f = &r->feeds[i];
            if (f->due_us <= now) {
                pthread_mutex_unlock(&r->mu);
                fetch_one(r, f);
                pthread_mutex_lock(&r->mu);
                now = time_now_us();
                f->due_us = now + f->interval_us;
            }
            if (f->due_us < next)
                next = f->due_us;
        }
        if (atomic_load(&r->stop))
            break;
        if (next <= now)
            continue;
        until.tv_sec = (time_t)(next / 1000000);
        until.tv_nsec = (long)(next % 1000000) * 1000;
        while (!atomic_load(&r->stop) && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void run_free(struct intel_feed_run *r)
{
    for (size_t i = 0; i < r->nfeeds; i++) {
        free(r->feeds[i].name);
        free(r->feeds[i].url);
        free(r->feeds[i].auth);
        free(r->feeds[i].ca_file);
        free(r->feeds[i].client_cert);
        free(r->feeds[i].client_key);
    }
    free(r->feeds);
    store_free(r->st);
    intel_warn_free(r->warn);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

int intel_feed_run_start(const struct intel_feed_run_opts *o, struct intel_feed_run **ret,
                         char *err, size_t errlen)
{
    struct intel_feed_run *r = calloc(1, sizeof(*r));
    char *serr = NULL;
    int rr;

    *ret = NULL;
    err[0] = '\0';
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->updated = o->updated;
    r->ctx = o->ctx;
    if (fmt(r->dir, sizeof(r->dir), "%s/intel-feeds", o->data_dir) < 0) {
        fmt(err, errlen, "intel.feeds: %s: path too long", o->data_dir);
        rr = -ENAMETOOLONG;
        goto fail;
    }
    if (mkdir(r->dir, 0700) < 0 && errno != EEXIST) {
        rr = -errno;
        fmt(err, errlen, "intel.feeds: %s: %s", r->dir, strerror(errno));
        goto fail;
    }
    if (o->warninglists && (rr = intel_warn_load(o->warninglists, &r->warn, err, errlen)) < 0)
        goto fail;
    if ((rr = store_open(o->data_dir, &r->st, &serr)) < 0) {
        fmt(err, errlen, "intel.feeds: store %s: %s", o->data_dir, serr ? serr : strerror(-rr));
        free(serr);
        goto fail;
    }
    if (!(r->feeds = calloc(o->nfeeds ? o->nfeeds : 1, sizeof(*r->feeds)))) {
        rr = -ENOMEM;
        goto fail;
    }
    atomic_store(&feed_nstats, 0);
    for (size_t i = 0; i < o->nfeeds && i < CONFIG_MAX_INTEL_FEEDS; i++) {
        const struct config_intel_feed *c = &o->feeds[i];
        struct feed *f = &r->feeds[i];

        r->nfeeds++;
        if (!(f->name = strdup(c->name)) || !(f->url = strdup(c->url)) ||
            (c->auth_header && !(f->auth = strdup(c->auth_header))) ||
            (c->ca_file && !(f->ca_file = strdup(c->ca_file))) ||
            (c->client_cert && !(f->client_cert = strdup(c->client_cert))) ||
            (c->client_key && !(f->client_key = strdup(c->client_key)))) {
            rr = -ENOMEM;
            goto fail;
        }
        f->format = c->format;
        f->tlp = c->tlp;
        f->confidence = c->confidence;
        f->interval_us = c->interval_us;
        f->stat = &feed_stats[i];
        memset(f->stat, 0, sizeof(*f->stat));
        fmt(f->stat->name, sizeof(f->stat->name), "%s", c->name);
        state_load(r, f);
    }
    atomic_store(&feed_nstats, r->nfeeds);
    if ((rr = pthread_create(&r->th, NULL, feed_main, r)) != 0) {
        fmt(err, errlen, "intel.feeds: starting the thread: %s", strerror(rr));
        rr = -rr;
        goto fail;
    }
    r->started = 1;
    *ret = r;
    return 0;
fail:
    if (!err[0])
        fmt(err, errlen, "intel.feeds: %s", strerror(-rr));
    run_free(r);
    return rr;
}

void intel_feed_run_stop(struct intel_feed_run *r)
{
    if (!r)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        atomic_store(&r->stop, 1);
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->th, NULL);
    }
    run_free(r);
}
