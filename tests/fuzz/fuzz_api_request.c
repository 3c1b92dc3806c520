/*
 * fuzz_api_request.c - requests through the API's route table against a
 * real store: the first line is "METHOD PATH[?QUERY] [AUTH]", the rest is
 * the JSON body.  The query's key=value pairs (at most 8, not decoded)
 * reach the routes as the transport's would.  AUTH picks how the request
 * authenticates: absent, the admin's Bearer token; "cookie" the admin's
 * session cookie with its CSRF token; "nocsrf" the cookie alone; "none"
 * nothing; anything else is sent as the cookie's value.  Every route with a body parses it
 * with the case file's strict readers; creation and updates go all the way
 * to the store.  An incident (id 1) and its checklist exist from the start
 * so that PATCH and the sub-resources reach their parsers.  The store lives
 * in a temporary directory for the run; the audit log is left out (one
 * fdatasync per change would make the run too slow to explore anything).
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_routes.h"
#include "api/auth.h"
#include "incident/playbook.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

static struct {
    int ready;
    struct store *st;
    struct playbook_set pb;
    struct incident_targets targets;
    struct api_ctx ctx;
    char auth[AUTH_TOKEN_STRLEN + 8];
    char session[AUTH_TOKEN_STRLEN];
    char csrf[AUTH_CSRF_STRLEN];
    struct api_resp resp;
} fz;

/* The query of one input: pointers into qbuf. */
struct fz_query {
    char buf[240];
    const char *k[8], *v[8];
    int n;
};

static const char *fz_query_get(void *ctx, const char *key)
{
    const struct fz_query *q = ctx;

    for (int i = 0; i < q->n; i++)
        if (strcmp(q->k[i], key) == 0)
            return q->v[i];
    return NULL;
}

/* Splits "a=1&b=2" (copied) into the table. */
static void fz_query_parse(struct fz_query *q, const char *s)
{
    char *p, *save = NULL;

    snprintf(q->buf, sizeof(q->buf), "%s", s);
    q->n = 0;
    for (p = strtok_r(q->buf, "&", &save); p && q->n < 8; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        q->k[q->n] = p;
        q->v[q->n] = eq ? eq + 1 : "";
        if (eq)
            *eq = '\0';
        q->n++;
    }
}

static char fz_dir[] = "/tmp/hikeshi-fuzz-api-XXXXXX";

static int fz_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* libFuzzer ends with exit(): the store goes with the run. */
static void fz_cleanup(void)
{
    store_free(fz.st);
    nftw(fz_dir, fz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void fz_setup(void)
{
    char *dir = fz_dir;
    char tok[AUTH_TOKEN_STRLEN];
    unsigned char hash[AUTH_TOKEN_HASHLEN];
    char *err = NULL;
    int64_t uid;
    static const char first[] = "{\"title\":\"seed\",\"type\":\"damage manifest\"}";
    static const char phase[] = "{\"phase\":\"first_aid\",\"version\":3}";
    struct api_req rq = {.method = "POST", .path = "/api/v1/incidents",
                         .content_type = "application/json", .body = first,
                         .body_len = sizeof(first) - 1, .now_us = 1795458000000000};

    if (auth_init() < 0 || !mkdtemp(dir) || store_open(dir, &fz.st, &err) < 0 ||
        store_user_add(fz.st, "fuzz", "admin", NULL, &uid) < 0 || auth_token_new(tok, hash) < 0 ||
        store_token_add(fz.st, uid, hash, sizeof(hash), "fuzz", 0) < 0)
        abort();
    if (auth_token_new(fz.session, hash) < 0 ||
        store_session_add(fz.st, uid, hash, sizeof(hash), INT64_MAX) < 0 ||
        auth_csrf_token(fz.session, strlen(fz.session), fz.csrf) < 0)
        abort();
    atexit(fz_cleanup);
    playbook_set_init(&fz.pb);
    /* The bundled playbooks (the test runs from the source root). */
    (void)playbook_set_load_dir(&fz.pb, "playbooks");
    incident_targets_default(&fz.targets);
    fz.ctx.cf =
        (struct casefile){.st = fz.st, .audit = NULL, .playbooks = &fz.pb, .targets = &fz.targets};
    snprintf(fz.auth, sizeof(fz.auth), "Bearer %s", tok);
    buf_init(&fz.resp.body, 64 * 1024 * 1024);
    rq.authorization = fz.auth;
    api_dispatch(&fz.ctx, &rq, &fz.resp);
    rq.method = "PATCH";
    rq.path = "/api/v1/incidents/1";
    rq.body = phase;
    rq.body_len = sizeof(phase) - 1;
    api_dispatch(&fz.ctx, &rq, &fz.resp);
    fz.ready = 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    char line[256], method[16], path[240], how[64] = "";
    static struct fz_query q;
    const char *nl;
    char *qs;
    size_t ll;
    struct api_req rq;

    if (!fz.ready)
        fz_setup();
    nl = memchr(d, '\n', n);
    ll = nl ? (size_t)(nl - (const char *)d) : n;
    if (ll >= sizeof(line))
        return 0;
    memcpy(line, d, ll);
    line[ll] = '\0';
    if (sscanf(line, "%15s %239s %63s", method, path, how) < 2)
        return 0;
    q.n = 0;
    if ((qs = strchr(path, '?')) != NULL) {
        *qs++ = '\0';
        fz_query_parse(&q, qs);
    }
    rq = (struct api_req){
        .method = method,
        .path = path,
        .authorization = fz.auth,
        .content_type = "application/json",
        .client = "127.0.0.1",
        .body = nl ? nl + 1 : "",
        .body_len = nl ? n - ll - 1 : 0,
        .query = fz_query_get,
        .query_ctx = &q,
        .now_us = 1795458000000000,
    };
    if (strcmp(how, "cookie") == 0 || strcmp(how, "nocsrf") == 0) {
        rq.authorization = NULL;
        rq.session = fz.session;
        rq.csrf = how[0] == 'c' ? fz.csrf : NULL;
    } else if (strcmp(how, "none") == 0) {
        rq.authorization = NULL;
    } else if (how[0]) {
        rq.authorization = NULL;
        rq.session = how;
    }
    api_dispatch(&fz.ctx, &rq, &fz.resp);
    /* Every answer is a status the API documents and a typed body. */
    if (fz.resp.status < 200 || fz.resp.status > 503 || !fz.resp.type)
        abort();
    /* Only logging in and out sets a cookie, and logging out never ends
     * the fuzzer's own session for the inputs after. */
    if (fz.resp.set_cookie[0] && strstr(path, "/api/v1/session") == NULL)
        abort();
    if (strcmp(method, "DELETE") == 0 && strcmp(path, "/api/v1/session") == 0 &&
        fz.resp.status == 200) {
        unsigned char h[AUTH_TOKEN_HASHLEN];
        char *u = NULL;
        char *r = NULL;
        int64_t uid = 0;
        if (store_user_get(fz.st, "fuzz", &uid, &r, &u) < 0)
            abort();
        free(r);
        free(u);
        if (rq.session == fz.session) {
            if (auth_token_new(fz.session, h) < 0 ||
                store_session_add(fz.st, uid, h, sizeof(h), INT64_MAX) < 0 ||
                auth_csrf_token(fz.session, strlen(fz.session), fz.csrf) < 0)
                abort();
        } else {
            char tok[AUTH_TOKEN_STRLEN];
            if (auth_token_new(tok, h) < 0 || store_token_add(fz.st, uid, h, sizeof(h), "fuzz", 0) < 0)
                abort();
            snprintf(fz.auth, sizeof(fz.auth), "Bearer %s", tok);
        }
    }
    return 0;
}
