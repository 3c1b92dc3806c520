/*
 * api_evidence.c - the evidence register over the API (docs/api.md,
 * docs/evidence.md): list items (all or one incident's), add an item by
 * reference (a local path under evidence.intake, hashed here, or a URL
 * with the acquirer's digests), show one (an access in its custody log),
 * its custody log, hand it over, and verify it; the collection plan
 * for the kind of an incident's asset (what to take first, and how); and
 * do an incident's task that collects a plan step ("preserve evidence")
 * by registering what was collected.
 *
 * The register (evidence/evidence_register.h) decides and records; here a
 * request becomes its call.  Each writing request opens the register for
 * itself without waiting: a `hikeshi evidence` command holding it makes
 * the answer 503, not a stalled server.  Custody entries go to the
 * daemon's audit log with the API user as actor ("api:NAME").
 */
#include "api/api_handlers.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_util.h"
#include "conf/config.h"
#include "archive/archive.h"
#include "event/time.h"
#include "evidence/evidence_excerpt.h"
#include "evidence/evidence_plan.h"
#include "evidence/evidence_register.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/jp.h"

/* Caps of the fields of an add (each also bounded by the record's). */
#define EV_API_TEXT_MAX 1024
#define EV_API_COMMAND_MAX 4096
#define EV_API_URL_MAX 2048
#define EV_API_MULTI_MAX 32

/* Answers a register failure: its message, with the status its errno
 * means. */
static void answer_reg(struct api_call *c, int r, const struct evidence_reg *reg)
{
    unsigned status;

    switch (r) {
    case -EINVAL: status = 400; break;
    case -ENOENT: status = 404; break;
    case -EPERM: status = 409; break;
    case -EBUSY: status = 503; break;
    case -EACCES: status = 403; break;
    default: status = 500; break;
    }
    api_util_answer_error(c, status, reg->err[0] ? reg->err : strerror(-r), -1, NULL);
}

/*
 * Opens the register for this request, with the signing key of
 * evidence.key when `need_key`.  -1 with the answer written: 503 when the
 * daemon runs without a configuration or a key, or another process holds
 * the register.
 */
static int reg_open(struct api_call *c, struct evidence_reg *reg, int need_key)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;
    char actor[EVIDENCE_NAME_MAX + 1], pub[PATH_MAX + 8];
    int r;

    memset(reg, 0, sizeof(*reg));
    reg->lock_fd = -1;
    if (!cfg || !cfg->data_dir) {
        api_util_answer_error(c, 503, "no evidence register here", -1, NULL);
        return -1;
    }
    if (need_key && !cfg->evidence_key) {
        api_util_answer_error(c, 503,
                              "no evidence.key in the configuration: custody cannot be "
                              "sealed here, so nothing that writes custody is served",
                              -1, NULL);
        return -1;
    }
    snprintf(actor, sizeof(actor), "api:%.64s", c->user); /* names are 1 to 64 bytes */
    if (need_key)
        snprintf(pub, sizeof(pub), "%s%s",
                 cfg->evidence_verify_key ? cfg->evidence_verify_key : cfg->evidence_key,
                 cfg->evidence_verify_key ? "" : ".pub");
    r = evidence_reg_open_nowait(reg, cfg->data_dir, c->ctx->cf.st, c->ctx->cf.audit,
                                 need_key ? cfg->evidence_key : NULL, need_key ? pub : NULL, actor);
    if (r < 0) {
        answer_reg(c, r, reg);
        evidence_reg_close(reg);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

void api_evidence_list(struct api_call *c)
{
    int64_t incident;

    if (api_util_query_int(c, "incident", 1, INT64_MAX, 0, &incident) < 0) {
        api_util_answer_error(c, 400, "incident is an incident number", -1, "incident");
        return;
    }
    API_UTIL_LIST_OBJECT(c, "items",
                         store_evidence_items(c->ctx->cf.st, incident, &c->resp->body, NULL));
}

void api_evidence_item(struct api_call *c)
{
    struct evidence_reg reg;
    int r;

    if (reg_open(c, &reg, 1) < 0)
        return;
    /* Showing the record is an access: the register writes it first. */
    if ((r = evidence_show(&reg, c->p[0], "api", &c->resp->body)) < 0)
        answer_reg(c, r, &reg);
    else
        api_util_answer_json(c, 200, 0);
    evidence_reg_close(&reg);
}

void api_evidence_custody(struct api_call *c)
{
    struct buf rec;
    int r;

    /* The custody log is the register's own record of the item, not the
     * item: reading it is not an access. */
    buf_init(&rec, 1024 * 1024);
    r = store_evidence_item_get(c->ctx->cf.st, c->p[0], &rec);
    buf_done(&rec);
    if (r == -ENOENT) {
        api_util_answer_error(c, 404, "no such evidence item", -1, NULL);
        return;
    }
    if (r < 0) {
        api_util_answer_store(c, r);
        return;
    }
    API_UTIL_LIST_OBJECT(c, "custody",
                         store_evidence_custody(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
}

/* ------------------------------------------------------------------ */
/* Adding                                                              */

struct add_body {
    char kind[32], path[PATH_MAX], url[EV_API_URL_MAX + 1];
    char sha256[65], blake2b[129];
    uint64_t size;
    int copy, have_size;
    char by[EVIDENCE_NAME_MAX + 1], at[64], host[256], tool[256];
    char command[EV_API_COMMAND_MAX + 1], reason[EV_API_TEXT_MAX + 1];
    int64_t incidents[EV_API_MULTI_MAX];
    size_t n_incidents;
    char purposes[EV_API_MULTI_MAX][40];
    size_t n_purposes;
};

static int read_acquisition(struct jp *j, struct add_body *b)
{
    static const char *const keys[] = {"by", "at", "host", "tool", "command", "reason"};
    char *vals[] = {b->by, b->at, b->host, b->tool, b->command, b->reason};
    const size_t caps[] = {sizeof(b->by),   sizeof(b->at),      sizeof(b->host),
                           sizeof(b->tool), sizeof(b->command), sizeof(b->reason)};
    char key[JP_KEY_MAX + 1];
    unsigned have = 0;
    int r, first = 1;
    size_t i;

    if ((r = jp_expect(j, '{', "acquisition: expected an object")) < 0)
        return r;
    while ((r = jp_member(j, &first, key)) == 1) {
        for (i = 0; i < 6 && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == 6 || (have & (1u << i)))
            return jp_fail(j, "acquisition: unknown or repeated field");
        if ((r = jp_string(j, vals[i], caps[i] - 1, NULL)) < 0)
            return r;
        have |= 1u << i;
    }
    return r;
}

static int read_incidents(struct jp *j, struct add_body *b)
{
    int r, first = 1;

    if ((r = jp_expect(j, '[', "incidents: expected an array of incident numbers")) < 0)
        return r;
    while ((r = jp_element(j, &first)) == 1) {
        int64_t v;

        if (b->n_incidents == EV_API_MULTI_MAX)
            return jp_fail(j, "incidents: at most 32");
        if ((r = jp_i64(j, &v)) < 0)
            return r;
        if (v <= 0)
            return jp_fail(j, "incidents: an incident number is positive");
        b->incidents[b->n_incidents++] = v;
    }
    return r;
}

static int read_purposes(struct jp *j, struct add_body *b)
{
    int r, first = 1;

    if ((r = jp_expect(j, '[', "purposes: expected an array of names")) < 0)
        return r;
    while ((r = jp_element(j, &first)) == 1) {
        if (b->n_purposes == EV_API_MULTI_MAX)
            return jp_fail(j, "purposes: at most 32");
        if ((r = jp_string(j, b->purposes[b->n_purposes], sizeof(b->purposes[0]) - 1, NULL)) < 0)
            return r;
        b->n_purposes++;
    }
    return r;
}

/* The add request, strictly: docs/api.md EVIDENCE_ADD. */
static int read_add(const struct api_req *rq, struct add_body *b, struct parse_err *pe)
{
    static const char *const keys[] = {"kind", "path", "url",         "sha256",    "blake2b",
                                       "size", "copy", "acquisition", "incidents", "purposes"};
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    unsigned have = 0;
    int r, first = 1;
    size_t i;

    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        for (i = 0; i < 10 && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == 10 || (have & (1u << i)))
            return jp_fail(&j, "unknown or repeated field");
        have |= 1u << i;
        switch (i) {
        case 0: r = jp_string(&j, b->kind, sizeof(b->kind) - 1, NULL); break;
        case 1: r = jp_string(&j, b->path, sizeof(b->path) - 1, NULL); break;
        case 2: r = jp_string(&j, b->url, sizeof(b->url) - 1, NULL); break;
        case 3: r = jp_string(&j, b->sha256, sizeof(b->sha256) - 1, NULL); break;
        case 4: r = jp_string(&j, b->blake2b, sizeof(b->blake2b) - 1, NULL); break;
        case 5:
            r = jp_u64(&j, &b->size);
            b->have_size = 1;
            break;
        case 6: r = jp_bool(&j, &b->copy); break;
        case 7: r = read_acquisition(&j, b); break;
        case 8: r = read_incidents(&j, b); break;
        default: r = read_purposes(&j, b); break;
        }
        if (r < 0)
            return r;
    }
    return r < 0 ? r : jp_end(&j);
}

static int hex_ok(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* A URL as a reference: scheme://rest, printable, no spaces. */
static int url_ok(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-");

    if (n == 0 || s[0] < 'a' || s[0] > 'z' || strncmp(s + n, "://", 3) != 0 || !s[n + 3])
        return 0;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++)
        if (*u <= 0x20 || *u >= 0x7f)
            return 0;
    return 1;
}

/* 1 when `real` (resolved) lies under one of evidence.intake (resolved). */
static int under_intake(const struct config *cfg, const char *real)
{
    char dir[PATH_MAX];

    for (size_t i = 0; i < cfg->nevidence_intake; i++) {
        size_t n;

        if (!realpath(cfg->evidence_intake[i], dir))
            continue;
        n = strlen(dir);
        if (strncmp(real, dir, n) == 0 && (real[n] == '/' || (n == 1 && dir[0] == '/')))
            return 1;
    }
    return 0;
}

/* The checks of an add the register does not make: which of path and url,
 * the local path under evidence.intake (replaced by its resolved form,
 * which is what gets hashed), the digests.  -1 with the answer written. */
static int add_check(struct api_call *c, struct add_body *b, struct evidence_digest *given)
{
    const struct config *cfg = c->ctx->src->cfg;
    char real[PATH_MAX];
    struct stat sb;

    if (!b->kind[0]) {
        api_util_answer_error(c, 400, "kind is required", -1, "kind");
        return -1;
    }
    if (!b->path[0] == !b->url[0]) {
        api_util_answer_error(c, 400, "give either path (a local file) or url (a reference)", -1,
                              "path");
        return -1;
    }
    if ((b->sha256[0] && !hex_ok(b->sha256, 64)) || (b->blake2b[0] && !hex_ok(b->blake2b, 128))) {
        api_util_answer_error(c, 400, "sha256 is 64 and blake2b 128 lowercase hex digits", -1,
                              b->sha256[0] && !hex_ok(b->sha256, 64) ? "sha256" : "blake2b");
        return -1;
    }
    memset(given, 0, sizeof(*given));
    if (b->sha256[0])
        (void)hex_decode_lower(b->sha256, 32, given->sha256);
    if (b->blake2b[0])
        (void)hex_decode_lower(b->blake2b, 64, given->blake2b);
    given->size = b->size;
    if (b->url[0]) {
        if (!url_ok(b->url)) {
            api_util_answer_error(c, 400, "url must be scheme://... without spaces", -1, "url");
            return -1;
        }
        if (!b->sha256[0] || !b->blake2b[0] || !b->have_size) {
            api_util_answer_error(c, 400,
                                  "a url cannot be hashed here: give its sha256, blake2b and "
                                  "size as acquired",
                                  -1,
                                  !b->sha256[0]    ? "sha256"
                                  : !b->blake2b[0] ? "blake2b"
                                                   : "size");
            return -1;
        }
        if (b->copy) {
            api_util_answer_error(c, 400, "a url reference is never copied", -1, "copy");
            return -1;
        }
        return 0;
    }
    if (b->path[0] != '/') {
        api_util_answer_error(c, 400, "path must be absolute", -1, "path");
        return -1;
    }
    if (cfg->nevidence_intake == 0) {
        api_util_answer_error(c, 403,
                              "no evidence.intake directories in the configuration: the API "
                              "hashes no local file",
                              -1, "path");
        return -1;
    }
    /* Resolved before the check, so neither ../ nor a link leaves it. */
    if (!realpath(b->path, real) || !under_intake(cfg, real)) {
        api_util_answer_error(c, 403, "path is not a file under evidence.intake", -1, "path");
        return -1;
    }
    if (stat(real, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        api_util_answer_error(c, 400, "path is not a regular file", -1, "path");
        return -1;
    }
    snprintf(b->path, sizeof(b->path), "%s", real);
    return 0;
}

/* For a local file whose acquirer gave digests: the ones computed here
 * must be those.  1 when they differ. */
static int digests_differ(const struct add_body *b, const struct evidence_digest *given,
                          const struct evidence_digest *d)
{
    return (b->sha256[0] && memcmp(given->sha256, d->sha256, 32) != 0) ||
           (b->blake2b[0] && memcmp(given->blake2b, d->blake2b, 64) != 0) ||
           (b->have_size && given->size != d->size);
}

/*
 * Adds the item `b` asks for (checked, with its incidents and, for a
 * collection task, its plan step), and leaves its record in the body.
 * 0 with *ret_id, or -1 with the answer written.
 */
static int add_item(struct api_call *c, struct add_body *b, const char *collection, int64_t *ret_id)
{
    const char *purposes[EV_API_MULTI_MAX];
    struct evidence_digest given, d;
    struct evidence_add_req q;
    struct evidence_reg reg;
    int r;

    if (add_check(c, b, &given) < 0)
        return -1;
    for (size_t i = 0; i < b->n_incidents; i++) {
        struct store_incident_row row;

        if ((r = store_incident_row_get(c->ctx->cf.st, b->incidents[i], &row)) < 0) {
            if (r == -ENOENT)
                api_util_answer_error(c, 400, "no such incident", -1, "incidents");
            else
                api_util_answer_store(c, r);
            return -1;
        }
        store_incident_row_done(&row);
    }
    for (size_t i = 0; i < b->n_purposes; i++)
        purposes[i] = b->purposes[i];
    memset(&q, 0, sizeof(q));
    q.kind = b->kind;
    q.path = b->path[0] ? b->path : NULL;
    q.url = b->url[0] ? b->url : NULL;
    q.digest = b->url[0] ? &given : NULL;
    q.copy = b->copy;
    q.by = b->by[0] ? b->by : NULL;
    q.at = b->at[0] ? b->at : NULL;
    q.host = b->host[0] ? b->host : NULL;
    q.tool = b->tool[0] ? b->tool : NULL;
    q.command = b->command[0] ? b->command : NULL;
    q.reason = b->reason[0] ? b->reason : NULL;
    q.incidents = b->incidents;
    q.n_incidents = b->n_incidents;
    q.collection = collection;
    if (b->n_purposes == 0)
        purposes[b->n_purposes++] = "investigation";
    q.purposes = purposes;
    q.n_purposes = b->n_purposes;
    if (reg_open(c, &reg, 1) < 0)
        return -1;
    if (!q.url && (b->sha256[0] || b->blake2b[0] || b->have_size)) {
        /* Hashed before it is registered, so a mismatch adds nothing. */
        if ((r = evidence_hash_file(b->path, &d)) < 0) {
            api_util_answer_error(c, 400, strerror(-r), -1, "path");
            goto close;
        }
        if (digests_differ(b, &given, &d)) {
            r = -1;
            api_util_answer_error(c, 409,
                                  "the file's digests or size are not the ones given: it is "
                                  "not the content acquired, or it changed since",
                                  -1, "path");
            goto close;
        }
    }
    if ((r = evidence_add(&reg, &q, ret_id, &d)) < 0) {
        answer_reg(c, r, &reg);
        goto close;
    }
    buf_reset(&c->resp->body);
    if ((r = store_evidence_item_get(c->ctx->cf.st, *ret_id, &c->resp->body)) < 0)
        api_util_answer_store(c, r);
close:
    evidence_reg_close(&reg);
    return r < 0 ? -1 : 0;
}

void api_evidence_add(struct api_call *c)
{
    struct add_body *b = calloc(1, sizeof(*b));
    struct parse_err pe = {0};
    int64_t id = 0;

    if (!b) {
        api_util_answer_error(c, 500, "out of memory", -1, NULL);
        return;
    }
    if (read_add(c->rq, b, &pe) < 0)
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
    else if (add_item(c, b, NULL, &id) == 0)
        api_util_answer_json(c, 201, 0);
    free(b);
}

/* ------------------------------------------------------------------ */
/* Archive excerpts from the console's search (issue 17)               */

struct excerpt_body {
    char query[4096], from[64], to[64], reason[EV_API_TEXT_MAX + 1];
};

static int read_excerpt(const struct api_req *rq, struct excerpt_body *b, struct parse_err *pe)
{
    static const char *const keys[] = {"query", "from", "to", "reason"};
    struct jp j = {rq->body, rq->body_len, 0, pe, NULL, 0};
    char key[JP_KEY_MAX + 1];
    unsigned have = 0;
    int r, first = 1;
    size_t i;

    if ((r = jp_expect(&j, '{', "expected a JSON object")) < 0)
        return r;
    while ((r = jp_member(&j, &first, key)) == 1) {
        for (i = 0; i < 4 && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == 4 || (have & (1u << i)))
            return jp_fail(&j, "unknown or repeated field");
        have |= 1u << i;
        switch (i) {
        case 0: r = jp_string(&j, b->query, sizeof(b->query) - 1, NULL); break;
        case 1: r = jp_string(&j, b->from, sizeof(b->from) - 1, NULL); break;
        case 2: r = jp_string(&j, b->to, sizeof(b->to) - 1, NULL); break;
        default: r = jp_string(&j, b->reason, sizeof(b->reason) - 1, NULL); break;
        }
        if (r < 0)
            return r;
    }
    if (r == 0 && (have & 7u) != 7u)
        return jp_fail(&j, "query, from and to are required");
    return r < 0 ? r : jp_end(&j);
}

/* An ISO 8601 time or seconds since the epoch, the whole string. */
static int excerpt_time(const char *s, int64_t *ret)
{
    size_t n = strlen(s), used = 0;

    if (n && time_parse_iso8601(s, n, NULL, ret, &used) == 0 && used == n)
        return 0;
    used = 0;
    if (n && time_parse_epoch(s, n, ret, &used) == 0 && used == n)
        return 0;
    return -EINVAL;
}

/* The archive's verification key, which an excerpt names: -1 with the
 * answer written when there is none. */
static int excerpt_pub(struct api_call *c, const struct config *cfg, uint8_t pub[32])
{
    int r;

    if (!cfg || !cfg->archive_verify_key) {
        api_util_answer_error(c, 503,
                              "archive.verify_key is not set: an excerpt names the archive's "
                              "verification key",
                              -1, NULL);
        return -1;
    }
    if ((r = archive_pubkey_load(cfg->archive_verify_key, pub)) < 0) {
        api_util_answer_error(c, 500,
                              r == -EBADMSG ? "the archive's verification key is not 64 hex "
                                              "digits"
                                            : strerror(-r),
                              -1, NULL);
        return -1;
    }
    return 0;
}

void api_evidence_excerpt(struct api_call *c)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;
    const char *purposes[] = {"investigation"};
    struct excerpt_body *b = NULL;
    struct evidence_add_req q;
    struct evidence_digest d;
    struct evidence_reg reg;
    struct parse_err pe = {0};
    char dir[PATH_MAX + 16], tool[] = "hikeshi console search (archive excerpt)";
    int64_t incident = c->p[0], from, to, id = 0;
    uint8_t pub[32];
    int r;

    if (api_util_need_incident(c) < 0)
        return;
    if (!(b = calloc(1, sizeof(*b)))) {
        api_util_answer_error(c, 500, "out of memory", -1, NULL);
        return;
    }
    if (read_excerpt(c->rq, b, &pe) < 0) {
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        goto out;
    }
    if (excerpt_time(b->from, &from) < 0 || excerpt_time(b->to, &to) < 0 || from >= to) {
        api_util_answer_error(c, 400,
                              "from and to are ISO 8601 times or seconds since the epoch, from "
                              "before to",
                              -1, NULL);
        goto out;
    }
    if (excerpt_pub(c, cfg, pub) < 0)
        goto out;
    snprintf(dir, sizeof(dir), "%s/archive", cfg->data_dir);
    memset(&q, 0, sizeof(q));
    q.tool = tool;
    q.command = b->query;
    q.reason = b->reason[0] ? b->reason : "added from the console's search";
    q.incidents = &incident;
    q.n_incidents = 1;
    q.purposes = purposes;
    q.n_purposes = 1;
    if (reg_open(c, &reg, 1) < 0)
        goto out;
    r = evidence_excerpt_add(&reg, cfg, dir, pub, b->query, from, to, &q, &id, &d);
    if (r == -EAGAIN || r == -E2BIG)
        api_util_answer_error(c, r == -EAGAIN ? 409 : 413, reg.err, -1, NULL);
    else if (r < 0)
        answer_reg(c, r, &reg);
    else {
        buf_reset(&c->resp->body);
        if ((r = store_evidence_item_get(c->ctx->cf.st, id, &c->resp->body)) < 0)
            api_util_answer_store(c, r);
        else
            api_util_answer_json(c, 201, 0);
    }
    evidence_reg_close(&reg);
out:
    free(b);
}

/* ------------------------------------------------------------------ */
/* Tasks done with evidence (collection plans)                         */

/* The plan step `ref` of the collection plans beside the playbooks
 * (PLAYBOOKS/collection): its kind, tool and command fill what the body
 * leaves out.  -1 with the answer written. */
static int step_defaults(struct api_call *c, const char *ref, struct add_body *b)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;
    const struct evidence_plan_step *st;
    struct evidence_plan_set plans;
    char dir[4096], err[1024] = "";
    int r;

    if (!cfg) {
        api_util_answer_error(c, 503, "no configuration to find the collection plans", -1, NULL);
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/collection",
             cfg->playbooks_dir ? cfg->playbooks_dir : "playbooks");
    if ((r = evidence_plan_load_dir(dir, &plans, err, sizeof(err))) < 0) {
        api_util_answer_error(c, 500, err[0] ? err : strerror(-r), -1, NULL);
        return -1;
    }
    if (!(st = evidence_plan_find_ref(&plans, ref, NULL))) {
        snprintf(err, sizeof(err),
                 "the playbook's step %.64s is not in the collection plans of %.900s", ref, dir);
        api_util_answer_error(c, 500, err, -1, NULL);
        evidence_plan_set_done(&plans);
        return -1;
    }
    r = 0;
    if (!b->kind[0])
        snprintf(b->kind, sizeof(b->kind), "%s", st->kind);
    else if (strcmp(b->kind, st->kind) != 0)
        r = -1;
    if (!b->tool[0])
        snprintf(b->tool, sizeof(b->tool), "%s", st->tool);
    if (!b->command[0])
        snprintf(b->command, sizeof(b->command), "%s", st->command);
    if (r < 0) {
        snprintf(err, sizeof(err), "step %.64s collects %s, not %.32s", ref, st->kind, b->kind);
        api_util_answer_error(c, 400, err, -1, "kind");
    }
    evidence_plan_set_done(&plans);
    return r;
}

void api_evidence_task(struct api_call *c)
{
    struct add_body *b = NULL;
    struct casefile_err e = {0};
    struct parse_err pe = {0};
    char ref[80], task[32];
    int64_t id = 0;
    int needs = 0, done = 0, r, linked = 0;

    if (api_util_need_incident(c) < 0)
        return;
    if (c->p[1] > UINT32_MAX) {
        api_util_answer_error(c, 404, "no such task", -1, NULL);
        return;
    }
    if ((r = casefile_task_evidence_need(&c->ctx->cf, c->p[0], (uint32_t)c->p[1], ref, sizeof(ref),
                                         &needs, &done, &e)) < 0) {
        api_util_answer_cf(c, r, &e);
        return;
    }
    if (done) {
        api_util_answer_error(c, 409,
                              "the task is done already: its evidence was registered (see its "
                              "history); add more with POST /api/v1/evidence",
                              -1, NULL);
        return;
    }
    if (!needs) {
        api_util_answer_error(c, 409,
                              "this task neither collects a plan step nor needs evidence: tick "
                              "it with PATCH",
                              -1, NULL);
        return;
    }
    if (!(b = calloc(1, sizeof(*b)))) {
        api_util_answer_error(c, 500, "out of memory", -1, NULL);
        return;
    }
    if (read_add(c->rq, b, &pe) < 0) {
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        goto out;
    }
    if (ref[0] && step_defaults(c, ref, b) < 0)
        goto out;
    for (size_t i = 0; i < b->n_incidents; i++)
        linked |= b->incidents[i] == c->p[0];
    if (!linked) {
        if (b->n_incidents == EV_API_MULTI_MAX) {
            api_util_answer_error(c, 400, "incidents: at most 32", -1, "incidents");
            goto out;
        }
        b->incidents[b->n_incidents++] = c->p[0];
    }
    if (add_item(c, b, ref[0] ? ref : NULL, &id) < 0)
        goto out;
    /* The item is in; the tick is the case file's, with its own checks. */
    r = casefile_task_done_with(&c->ctx->cf, c->p[0], (uint32_t)c->p[1], c->user, id, c->rq->now_us,
                                &e);
    if (r < 0) {
        snprintf(task, sizeof(task), "EV-%lld", (long long)id);
        snprintf(e.msg + strlen(e.msg), sizeof(e.msg) - strlen(e.msg),
                 " (the item %s was registered)", task);
        api_util_answer_cf(c, r, &e);
        goto out;
    }
    {
        struct buf *o = &c->resp->body;
        struct buf rec;

        buf_init(&rec, 1024 * 1024);
        r = buf_append(&rec, o->data, o->len);
        buf_reset(o);
        r = r ? r : buf_puts(o, "{\"item\":");
        r = r ? r : buf_append(o, rec.data, rec.len);
        r = r ? r : buf_puts(o, ",\"task\":");
        if (r == 0 && (r = store_task_json(c->ctx->cf.st, c->p[0], c->p[1], o)) < 0) {
            buf_done(&rec);
            api_util_answer_store(c, r);
            goto out;
        }
        r = r ? r : buf_putc(o, '}');
        buf_done(&rec);
        api_util_answer_json(c, 201, r);
    }
out:
    free(b);
}

/* ------------------------------------------------------------------ */
/* Hand-over and verification                                          */

void api_evidence_transfer(struct api_call *c)
{
    struct parse_err pe = {0};
    struct jp j = {c->rq->body, c->rq->body_len, 0, &pe, NULL, 0};
    char key[JP_KEY_MAX + 1], from[EVIDENCE_NAME_MAX + 1] = "", to[EVIDENCE_NAME_MAX + 1] = "";
    char reason[EV_API_TEXT_MAX + 1] = "";
    char *vals[] = {from, to, reason};
    const size_t caps[] = {sizeof(from), sizeof(to), sizeof(reason)};
    static const char *const keys[] = {"from", "to", "reason"};
    struct evidence_reg reg;
    unsigned have = 0;
    int r, first = 1;
    size_t i;

    r = jp_expect(&j, '{', "expected a JSON object");
    while (r == 0 && (r = jp_member(&j, &first, key)) == 1) {
        for (i = 0; i < 3 && strcmp(key, keys[i]) != 0; i++)
            ;
        if (i == 3 || (have & (1u << i))) {
            r = jp_fail(&j, "unknown or repeated field");
            break;
        }
        have |= 1u << i;
        r = jp_string(&j, vals[i], caps[i] - 1, NULL);
    }
    if (r == 0)
        r = jp_end(&j);
    if (r < 0) {
        api_util_answer_error(c, 400, pe.msg ? pe.msg : "bad request", (long)pe.off, NULL);
        return;
    }
    if (!from[0] || !to[0]) {
        api_util_answer_error(c, 400, "from (the custodian now) and to are required", -1,
                              !from[0] ? "from" : "to");
        return;
    }
    if (reg_open(c, &reg, 1) < 0)
        return;
    if ((r = evidence_transfer(&reg, c->p[0], from, to, reason)) < 0) {
        answer_reg(c, r, &reg);
    } else {
        buf_reset(&c->resp->body);
        API_UTIL_LIST_OBJECT(c, "custody",
                             store_evidence_custody(c->ctx->cf.st, c->p[0], &c->resp->body, NULL));
    }
    evidence_reg_close(&reg);
}

/* The report's fault lines as a JSON array of strings. */
static int faults_json(struct buf *b, const struct evidence_report *rep)
{
    const char *p = rep->text.data, *nl;
    int r = buf_putc(b, '[');

    for (int first = 1; r == 0 && p && *p; p = nl + 1, first = 0) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p) - 1;
        r = first ? 0 : buf_putc(b, ',');
        r = r ? r : buf_json_str(b, p, (size_t)(nl - p) + (*nl != '\n'));
    }
    return r ? r : buf_putc(b, ']');
}

void api_evidence_verify(struct api_call *c)
{
    struct evidence_report rep;
    struct evidence_reg reg;
    char id[32];
    int r;

    if (reg_open(c, &reg, 1) < 0)
        return;
    evidence_report_init(&rep);
    evidence_id_format(c->p[0], id);
    if ((r = evidence_verify(&reg, c->p[0], &rep)) < 0) {
        answer_reg(c, r, &reg);
    } else {
        struct buf *b = &c->resp->body;

        buf_reset(b);
        r = buf_printf(b, "{\"id\":\"%s\",\"result\":\"%s\",\"checked\":%zu,\"faults\":", id,
                       rep.faults ? "failed" : "ok", rep.checked);
        r = r ? r : faults_json(b, &rep);
        r = r ? r : buf_puts(b, "}");
        api_util_answer_json(c, 200, r);
    }
    evidence_report_done(&rep);
    evidence_reg_close(&reg);
}

/* ------------------------------------------------------------------ */
/* Collection plans                                                    */

/* A host name fit to stand for {host} in a suggested command: letters,
 * digits, '.', '-' and '_', 1 to 253 bytes, not starting with '-' (the
 * command is pasted into a shell; nothing else may reach it). */
static int host_ok(const char *h)
{
    size_t n = strlen(h);

    return n >= 1 && n <= 253 && h[0] != '-' &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/* `s` as a JSON string, each {host} replaced by `host` when not NULL. */
static int json_str_host(struct buf *b, const char *s, const char *host)
{
    struct buf t;
    const char *p;
    int r = 0;

    if (!host || !strstr(s, "{host}"))
        return buf_json_str(b, s, strlen(s));
    buf_init(&t, EVIDENCE_PLAN_TEXT_MAX * 256);
    while (r == 0 && (p = strstr(s, "{host}"))) {
        r = buf_append(&t, s, (size_t)(p - s));
        r = r ? r : buf_puts(&t, host);
        s = p + strlen("{host}");
    }
    r = r ? r : buf_puts(&t, s);
    r = r ? r : buf_json_str(b, t.data, t.len);
    buf_done(&t);
    return r;
}

static int plan_json(struct buf *b, int64_t incident, const struct evidence_plan *p,
                     const char *host)
{
    int r = buf_printf(b, "{\"incident\":%lld,\"plan\":", (long long)incident);

    r = r ? r : buf_json_str(b, p->name, strlen(p->name));
    r = r ? r : buf_puts(b, ",\"title\":");
    r = r ? r : buf_json_str(b, p->title, strlen(p->title));
    r = r ? r : buf_puts(b, ",\"host\":");
    r = r ? r : api_util_json_str_or_null(b, host);
    r = r ? r : buf_puts(b, ",\"steps\":[");
    for (size_t i = 0; r == 0 && i < p->nsteps; i++) {
        const struct evidence_plan_step *st = &p->steps[i];

        /* Names and ids are [a-z0-9-] (evidence_plan.c): nothing to escape. */
        r = buf_printf(b, "%s{\"n\":%zu,\"ref\":\"%s/%s\",\"id\":\"%s\"", i ? "," : "", i + 1,
                       p->name, st->id, st->id);
        r = r ? r
              : buf_printf(b, ",\"order\":\"%s\",\"kind\":\"%s\",\"what\":",
                           evidence_plan_order_name(st->order), st->kind);
        r = r ? r : buf_json_str(b, st->what, strlen(st->what));
        r = r ? r : buf_puts(b, ",\"tool\":");
        r = r ? r : buf_json_str(b, st->tool, strlen(st->tool));
        r = r ? r : buf_puts(b, ",\"command\":");
        r = r ? r : json_str_host(b, st->command, host);
        r = r ? r : buf_puts(b, ",\"notes\":");
        r = r ? r : buf_json_str(b, st->notes, strlen(st->notes));
        r = r ? r : buf_putc(b, '}');
    }
    return r ? r : buf_puts(b, "]}");
}

/* The names of the plans, "a, b and c", for an answer naming what there is. */
static void plan_names(const struct evidence_plan_set *s, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < s->n && len < size; i++) {
        int n = snprintf(out + len, size - len, "%s%s",
                         i == 0 ? "" : (i + 1 == s->n ? " and " : ", "), s->v[i].name);

        if (n < 0)
            break;
        len += (size_t)n;
    }
}

void api_evidence_plan(struct api_call *c)
{
    const struct config *cfg = c->ctx->src ? c->ctx->src->cfg : NULL;
    const char *kind = api_util_query_str(c, "kind"), *host = api_util_query_str(c, "host");
    const struct evidence_plan *p;
    struct evidence_plan_set plans;
    char dir[4096], err[2048], names[1024];
    int r;

    if (api_util_need_incident(c) < 0)
        return;
    if (!cfg) {
        api_util_answer_error(c, 503, "no configuration here: the collection plans are unknown", -1,
                              NULL);
        return;
    }
    if (host && !host_ok(host)) {
        api_util_answer_error(c, 400,
                              "host: a host name, 1 to 253 of letters, digits, '.', '-' and "
                              "'_', not starting with '-'",
                              -1, "host");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/collection",
             cfg->playbooks_dir ? cfg->playbooks_dir : "playbooks");
    if ((r = evidence_plan_load_dir(dir, &plans, err, sizeof(err))) < 0) {
        /* A broken plan is the site's to fix: say which file and line. */
        api_util_answer_error(c, 500, err[0] ? err : strerror(-r), -1, NULL);
        return;
    }
    plan_names(&plans, names, sizeof(names));
    if (!kind || !kind[0]) {
        snprintf(err, sizeof(err), "kind: the kind of the incident's asset, one of %s",
                 plans.n ? names : "(none: no plan in the collection directory)");
        api_util_answer_error(c, 400, err, -1, "kind");
    } else if (!(p = evidence_plan_find(&plans, kind))) {
        snprintf(err, sizeof(err), "no collection plan for asset kind '%.64s'%s; there are: %s",
                 kind, strlen(kind) > 64 ? "..." : "", plans.n ? names : "none");
        api_util_answer_error(c, 404, err, -1, "kind");
    } else {
        buf_reset(&c->resp->body);
        api_util_answer_json(c, 200, plan_json(&c->resp->body, c->p[0], p, host));
    }
    evidence_plan_set_done(&plans);
}
