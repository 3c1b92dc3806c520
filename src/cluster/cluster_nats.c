/*
 * cluster_nats.c - the NATS connection and the stream, shared by the
 * collector and the analyser (cluster_nats.h).
 */
#include "cluster/cluster_nats.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cluster/cluster.h"
#include "cluster/cluster_nkey.h"
#include "util/log.h"
#include "util/readfile.h"

/* The longest password nats.password_file may hold. */
#define NATS_PASSWORD_MAX 1024
/* The largest seed file read (a seed is 58 characters). */
#define NATS_SEED_FILE_MAX 4096

/* A secret file `what` at `path` (nats.nkey_seed_file,
 * credentials_file): a regular file no one but its owner may read or
 * write; its content into *text (up to 4 KiB + 4 KiB for a JWT).  0, or
 * -errno with the reason in err. */
static int secret_read(const char *what, const char *path, size_t max, char **text, size_t *len,
                       char *err, size_t errlen)
{
    struct stat st;
    int r;

    if (stat(path, &st) < 0) {
        r = -errno;
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", what, path);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "%s %s: a secret that others than its owner may read or write (mode %04o); run "
                 "chmod 600 %s",
                 what, path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    if ((r = readfile_all(path, max, text, len)) < 0) {
        snprintf(err, errlen, "%s %s: %s", what, path,
                 r == -EFBIG ? "too large to be one" : strerror(-r));
        return r;
    }
    return 0;
}

/* nats.nkey_seed_file: one user seed; its public key into pub.  0, or
 * -errno with the reason in err. */
static int nkey_public(const char *path, char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], char *err,
                       size_t errlen)
{
    const char *why = NULL;
    char *text = NULL;
    size_t len = 0;
    int r;

    if ((r = secret_read("nats.nkey_seed_file", path, NATS_SEED_FILE_MAX, &text, &len, err,
                         errlen)) < 0)
        return r;
    r = cluster_nkey_user_public(text, len, pub, &why);
    sodium_memzero(text, len);
    free(text);
    if (r < 0)
        snprintf(err, errlen, "nats.nkey_seed_file %s: %s", path, why);
    return r;
}

/* nats.credentials_file: a user JWT and a user seed, as libnats reads
 * them (the seed checked, the JWT only present: the server judges it).
 * 0, or -errno with the reason in err. */
static int creds_check(const char *path, char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], char *err,
                       size_t errlen)
{
    const char *why = NULL;
    char *text = NULL;
    size_t len = 0;
    int r;

    if ((r = secret_read("nats.credentials_file", path, 2 * NATS_SEED_FILE_MAX, &text, &len, err,
                         errlen)) < 0)
        return r;
    r = cluster_nkey_creds_user_public(text, len, pub, &why);
    sodium_memzero(text, len);
    free(text);
    if (r < 0)
        snprintf(err, errlen, "nats.credentials_file %s: %s", path, why);
    return r;
}

int cluster_nats_secrets_check(const struct config_nats *c, char *err, size_t errlen)
{
    char pub[CLUSTER_NKEY_PUBLIC_LEN + 1];

    if (c->nkey_seed_file)
        return nkey_public(c->nkey_seed_file, pub, err, errlen);
    if (c->credentials_file)
        return creds_check(c->credentials_file, pub, err, errlen);
    return 0;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    atomic_int *connected = closure;

    (void)nc;
    atomic_store(connected, 0);
    log_warnx("nats: disconnected; reconnecting (records wait in the archive meanwhile)");
}

/* The last callback of a connection (natsConnection_Close): after it the
 * library touches `connected` no more, and its owner may be freed. */
static void on_closed(natsConnection *nc, void *closure)
{
    atomic_int *connected = closure;

    (void)nc;
    atomic_store(connected, CLUSTER_NATS_CLOSED);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    atomic_int *connected = closure;
    char url[256] = "";

    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    atomic_store(connected, 1);
    log_info("nats: connected to %s", url);
}

/* nats.tls, user, nkey_seed_file and credentials_file into the options:
 * the CA and the client certificate are loaded now (before the daemon
 * drops its privileges), the password read from its file, the seed or
 * credentials file checked.  A file that does not load is named.  0 or
 * -EIO (logged). */
static int auth_options(const struct config_nats *c, natsOptions *o)
{
    const char *what = NULL, *path = NULL;
    natsStatus s = NATS_OK;

    if (c->tls_ca || c->tls_cert)
        s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && c->tls_ca) {
        what = "nats.tls.ca";
        path = c->tls_ca;
        s = natsOptions_LoadCATrustedCertificates(o, c->tls_ca);
    }
    if (s == NATS_OK && c->tls_cert) {
        what = "nats.tls.cert and key";
        path = c->tls_cert;
        s = natsOptions_LoadCertificatesChain(o, c->tls_cert, c->tls_key);
    }
    if (s != NATS_OK) {
        const char *e = nats_GetLastError(NULL);

        log_error("nats: %s %s: %s", what ? what : "TLS", path ? path : "",
                  e && *e ? e : natsStatus_GetText(s));
        return -EIO;
    }
    if (c->user) {
        char *pw = NULL;
        size_t len = 0;
        int e = readfile_all(c->password_file, NATS_PASSWORD_MAX, &pw, &len);

        if (e < 0) {
            log_error("nats: nats.password_file %s: %s", c->password_file,
                      e == -EFBIG ? "larger than 1 KiB" : strerror(-e));
            return -EIO;
        }
        while (len && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
            pw[--len] = '\0';
        if (len == 0 || memchr(pw, '\0', len)) {
            log_error("nats: nats.password_file %s: %s", c->password_file,
                      len ? "holds a NUL byte" : "empty");
            free(pw);
            return -EIO;
        }
        s = natsOptions_SetUserInfo(o, c->user, pw);
        sodium_memzero(pw, len);
        free(pw);
        if (s != NATS_OK) {
            log_error("nats: nats.user: %s", natsStatus_GetText(s));
            return -EIO;
        }
    }
    if (c->nkey_seed_file) {
        char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], err[4096 + 256];

        /* checked now; libnats reads the seed again to sign each
         * server's nonce (at every connect) and wipes it after */
        if (nkey_public(c->nkey_seed_file, pub, err, sizeof(err)) < 0) {
            log_error("nats: %s", err);
            return -EIO;
        }
        s = natsOptions_SetNKeyFromSeed(o, pub, c->nkey_seed_file);
        if (s != NATS_OK) {
            log_error("nats: nats.nkey_seed_file %s: %s", c->nkey_seed_file, natsStatus_GetText(s));
            return -EIO;
        }
        log_info("nats: NKey user %s (from %s)", pub, c->nkey_seed_file);
    }
    if (c->credentials_file) {
        char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], err[4096 + 256];

        /* checked now; libnats reads the file again at every connect */
        if (creds_check(c->credentials_file, pub, err, sizeof(err)) < 0) {
            log_error("nats: %s", err);
            return -EIO;
        }
        s = natsOptions_SetUserCredentialsFromFiles(o, c->credentials_file, NULL);
        if (s != NATS_OK) {
            log_error("nats: nats.credentials_file %s: %s", c->credentials_file,
                      natsStatus_GetText(s));
            return -EIO;
        }
        log_info("nats: user %s by its JWT (from %s)", pub, c->credentials_file);
    }
    return 0;
}

int cluster_nats_connect(const struct config_nats *c, const char *who, atomic_int *connected,
                         natsConnection **ret)
{
    const char *urls[CONFIG_NATS_SERVERS_MAX];
    natsOptions *o = NULL;
    natsStatus s;

    *ret = NULL;
    for (size_t i = 0; i < c->nservers && i < CONFIG_NATS_SERVERS_MAX; i++)
        urls[i] = c->servers[i];
    s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetServers(o, urls, (int)c->nservers);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, who);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o, on_disconnected, connected);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o, on_reconnected, connected);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(o, on_closed, connected);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(o, true, on_reconnected, connected);
    if (s == NATS_OK && auth_options(c, o) < 0) {
        natsOptions_Destroy(o);
        return -EIO;
    }
    for (int attempt = 1; s == NATS_OK; attempt++) {
        const char *why = NULL;
        struct timespec pause = {0, 250 * 1000 * 1000};

        s = natsConnection_Connect(ret, o);
        /* A login refused at the first attempt is not tried again by the
         * library (seen with libnats 3.4: no further attempt reaches the
         * server, even once it knows the key).  nats-server 2.9 has been
         * seen to refuse a valid NKey once, right after its start (an
         * analyser with the same key got in 60 ms later): a few more
         * attempts here, then the refusal stands. */
        if (s != NATS_NOT_YET_CONNECTED || attempt == CLUSTER_NATS_LOGIN_ATTEMPTS ||
            natsConnection_GetLastError(*ret, &why) == NATS_OK || !why ||
            !strcasestr(why, "authoriz"))
            break;
        log_warnx("nats: the server refused our login (%s); attempt %d of %d", why, attempt,
                  CLUSTER_NATS_LOGIN_ATTEMPTS);
        cluster_nats_close(*ret, connected);
        *ret = NULL;
        atomic_store(connected, 0);
        nanosleep(&pause, NULL);
        s = NATS_OK;
    }
    if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED) {
        if (s == NATS_OK) {
            char url[256] = "";

            natsConnection_GetConnectedUrl(*ret, url, sizeof(url));
            atomic_store(connected, 1);
            log_info("nats: connected to %s as %s", url, who);
        } else if (s == NATS_NOT_YET_CONNECTED) {
            const char *why = NULL;

            /* the first attempt's error: no answer, a TLS handshake or a
             * login the server refused */
            if (natsConnection_GetLastError(*ret, &why) == NATS_OK || !why || !*why)
                why = "no answer";
            if (strcasestr(why, "authoriz"))
                log_error("nats: no server of nats.servers lets us in yet (%s), after %d "
                          "attempts; the NATS library does not try again after a refused "
                          "login: this node stays off NATS until it is restarted with "
                          "credentials the server knows (records wait in the archive meanwhile)",
                          why, CLUSTER_NATS_LOGIN_ATTEMPTS);
            else
                log_warnx("nats: no server of nats.servers lets us in yet (%s); retrying in the "
                          "background",
                          why);
            s = NATS_OK;
        }
    }
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        log_error("nats: %s", natsStatus_GetText(s));
        return -EIO;
    }
    return 0;
}

void cluster_nats_close(natsConnection *nc, atomic_int *connected)
{
    if (!nc)
        return;
    natsConnection_Close(nc);
    /* The library calls on_disconnected and on_closed from its own thread
     * after Close returns, with `connected` inside the caller's object:
     * wait for the last one (5 s at most) before the caller frees it. */
    for (int i = 0; i < 500 && atomic_load(connected) != CLUSTER_NATS_CLOSED; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        nanosleep(&ts, NULL);
    }
    natsConnection_Destroy(nc);
}

int cluster_nats_stream(jsCtx *js, const struct config_nats *c, char *why, size_t whylen)
{
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char subj[256];
    const char *subjects[1] = {subj};
    natsStatus s;

    snprintf(subj, sizeof(subj), "%s.*", c->subject);
    jsStreamConfig_Init(&sc);
    sc.Name = c->stream;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Discard = js_DiscardNew;
    sc.Storage = js_FileStorage;
    sc.Replicas = (int64_t)c->replicas;
    sc.MaxBytes = (int64_t)c->max_bytes;
    sc.MaxMsgs = c->max_msgs ? (int64_t)c->max_msgs : -1;
    /* A resent record (its ack was lost) is dropped by the stream within
     * this window, by its record id. */
    sc.Duplicates = INT64_C(120) * 1000000000;
    s = js_AddStream(&si, js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = 0;
        s = js_UpdateStream(&si, js, &sc, NULL, &jerr);
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        snprintf(why, whylen, "%s (JetStream error %d)", nats_GetLastError(NULL), (int)jerr);
        return -EIO;
    }
    return 0;
}

static uint64_t room_under(int64_t limit, uint64_t used)
{
    if (limit <= 0)
        return UINT64_MAX;
    return used >= (uint64_t)limit ? 0 : (uint64_t)limit - used;
}

int cluster_nats_room(jsCtx *js, const struct config_nats *c, uint64_t *msgs, uint64_t *bytes,
                      char *why, size_t whylen)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, c->stream, NULL, &jerr);

    if (s != NATS_OK || !si || !si->Config) {
        const char *e = nats_GetLastError(NULL);

        snprintf(why, whylen, "reading the stream's state: %s (JetStream error %d)",
                 e && *e ? e : natsStatus_GetText(s), (int)jerr);
        jsStreamInfo_Destroy(si);
        return -EIO;
    }
    *msgs = room_under(si->Config->MaxMsgs, si->State.Msgs);
    *bytes = room_under(si->Config->MaxBytes, si->State.Bytes);
    jsStreamInfo_Destroy(si);
    return 0;
}

void cluster_nats_node(const struct config_nats *c, char *out, size_t outlen)
{
    char host[256];
    size_t j = 0;

    if (c->name) {
        snprintf(out, outlen, "%s", c->name);
        return;
    }
    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "node");
    host[sizeof(host) - 1] = '\0';
    for (size_t i = 0; host[i] && j + 1 < outlen && j < 64; i++) {
        char ch = host[i];

        if (ch == '.')
            break;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_')
            out[j++] = ch;
    }
    if (j == 0 && outlen > 4)
        j = (size_t)snprintf(out, outlen, "node");
    out[j] = '\0';
}
