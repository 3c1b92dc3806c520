/*
 * bench-api.c - the cost of the API's work behind HTTP: requests through
 * api_dispatch() against a real store (WAL, synchronous=NORMAL) and audit
 * log, without the transport.  Opens N incidents, then times
 *   GET /api/v1/incidents/{id}          (load, merge triage's links, render)
 *   GET /api/v1/incidents?limit=50      (a page of the list)
 *   PATCH /api/v1/incidents/{id}        (version check, save, timeline, audit + fdatasync)
 *   POST /api/v1/incidents/{id}/notes
 * and prints requests/s, p50 and p99 per kind, and the peak RSS.
 *
 * usage: bench_api [N]   (default 2000; run from the source root for the
 * playbooks).  Writes into a temporary directory it removes.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api_routes.h"
#include "api/auth.h"
#include "incident/audit.h"
#include "incident/playbook.h"
#include "store/store.h"

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static struct api_ctx ctx;
static char auth[AUTH_TOKEN_STRLEN + 8];
static struct api_resp resp;

static unsigned call(const char *method, const char *path, const char *body)
{
    struct api_req rq = {
        .method = method,
        .path = path,
        .authorization = auth,
        .content_type = body ? "application/json" : NULL,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .now_us = (int64_t)time(NULL) * 1000000,
    };

    api_dispatch(&ctx, &rq, &resp);
    return resp.status;
}

/* Runs `n` requests made by `make` and prints the figures. */
static void timed(const char *what, int n, unsigned want,
                  void (*make)(int i, const char **method, char *path, char *body))
{
    int64_t *lat = malloc((size_t)n * sizeof(*lat)), t0 = now_ns();
    char path[128], body[256];
    const char *method;

    if (!lat)
        exit(1);
    for (int i = 0; i < n; i++) {
        int64_t a = now_ns();
        body[0] = '\0';
        make(i, &method, path, body);
        if (call(method, path, body[0] ? body : NULL) != want) {
            fprintf(stderr, "bench_api: %s %s: HTTP %u: %.*s\n", method, path, resp.status,
                    (int)resp.body.len, resp.body.data);
            exit(1);
        }
        lat[i] = now_ns() - a;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
    printf("%-34s %7d requests  %9.0f req/s  p50 %7.1f us  p99 %7.1f us\n", what, n, n / secs,
           (double)lat[n / 2] / 1e3, (double)lat[n * 99 / 100] / 1e3);
    free(lat);
}

static int nincidents;

static void mk_get(int i, const char **m, char *path, char *body)
{
    (void)body;
    *m = "GET";
    snprintf(path, 128, "/api/v1/incidents/%d", 1 + i % nincidents);
}

static void mk_list(int i, const char **m, char *path, char *body)
{
    (void)i;
    (void)body;
    *m = "GET";
    snprintf(path, 128, "/api/v1/incidents");
}

static void mk_patch(int i, const char **m, char *path, char *body)
{
    /* Each incident is at version 1 + the times it was patched before. */
    int id = 1 + i % nincidents, v = 1 + i / nincidents;

    *m = "PATCH";
    snprintf(path, 128, "/api/v1/incidents/%d", id);
    snprintf(body, 256, "{\"level\":\"%s\",\"version\":%d}", v % 2 ? "Orange" : "Yellow", v);
}

static void mk_note(int i, const char **m, char *path, char *body)
{
    *m = "POST";
    snprintf(path, 128, "/api/v1/incidents/%d/notes", 1 + i % nincidents);
    snprintf(body, 256, "{\"text\":\"observation %d: the host answered on port 445\"}", i);
}

static void mk_create(int i, const char **m, char *path, char *body)
{
    *m = "POST";
    snprintf(path, 128, "/api/v1/incidents");
    snprintf(body, 256,
             "{\"title\":\"bench incident %d\",\"type\":\"probe or attack without damage\","
             "\"category\":\"B\",\"level\":\"Yellow\"}",
             i);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/hikeshi-bench-api-XXXXXX", path[128], tok[AUTH_TOKEN_STRLEN];
    unsigned char hash[AUTH_TOKEN_HASHLEN];
    struct store *st;
    struct audit *audit;
    struct audit_result ar;
    struct playbook_set pb;
    struct incident_targets targets;
    struct rusage ru;
    char *err = NULL;
    int64_t uid;

    nincidents = argc > 1 ? atoi(argv[1]) : 2000;
    if (nincidents < 1 || nincidents > 1000000) {
        fprintf(stderr, "usage: bench_api [N]\n");
        return 2;
    }
    if (auth_init() < 0 || !mkdtemp(dir) || store_open(dir, &st, &err) < 0) {
        fprintf(stderr, "bench_api: setup: %s\n", err ? err : "failed");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    if (audit_open(path, &audit, &ar) < 0 || store_user_add(st, "bench", "admin", NULL, &uid) < 0 ||
        auth_token_new(tok, hash) < 0 || store_token_add(st, uid, hash, sizeof(hash), "b", 0) < 0)
        return 1;
    snprintf(auth, sizeof(auth), "Bearer %s", tok);
    playbook_set_init(&pb);
    (void)playbook_set_load_dir(&pb, "playbooks");
    incident_targets_default(&targets);
    ctx.cf = (struct casefile){.st = st, .audit = audit, .playbooks = &pb, .targets = &targets};
    buf_init(&resp.body, 64 * 1024 * 1024);

    printf("bench_api: %d incidents, store and audit log in %s\n", nincidents, dir);
    timed("POST /incidents (create)", nincidents, 201, mk_create);
    timed("GET /incidents/{id}", nincidents * 5, 200, mk_get);
    timed("GET /incidents (page of 50)", 500, 200, mk_list);
    timed("PATCH /incidents/{id} (level)", nincidents, 200, mk_patch);
    timed("POST /incidents/{id}/notes", nincidents, 201, mk_note);
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);

    buf_done(&resp.body);
    playbook_set_done(&pb);
    audit_free(audit);
    store_free(st);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
