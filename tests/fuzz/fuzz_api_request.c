/*
 * fuzz_api_request.c - requests through the API's route table against a
 * real store: the first line is "METHOD PATH" (the path as the transport
 * gives it), the rest is the JSON body.  Every route with a body parses it
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
    struct api_resp resp;
} fz;

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
        store_token_add(fz.st, uid, hash, sizeof(hash), "fuzz") < 0)
        abort();
    atexit(fz_cleanup);
    playbook_set_init(&fz.pb);
    /* The bundled playbooks (the test runs from the source root). */
    (void)playbook_set_load_dir(&fz.pb, "playbooks");
    incident_targets_default(&fz.targets);
    fz.ctx.cf = (struct casefile){fz.st, NULL, &fz.pb, &fz.targets};
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
    char line[256], method[16], path[240];
    const char *nl;
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
    if (sscanf(line, "%15s %239s", method, path) != 2)
        return 0;
    rq = (struct api_req){
        .method = method,
        .path = path,
        .authorization = fz.auth,
        .content_type = "application/json",
        .body = nl ? nl + 1 : "",
        .body_len = nl ? n - ll - 1 : 0,
        .now_us = 1795458000000000,
    };
    api_dispatch(&fz.ctx, &rq, &fz.resp);
    /* Every answer is a status the API documents and a typed body. */
    if (fz.resp.status < 200 || fz.resp.status > 503 || !fz.resp.type)
        abort();
    return 0;
}
