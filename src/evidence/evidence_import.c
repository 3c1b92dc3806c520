/*
 * evidence_import.c - `hikeshi evidence import`: a verified bundle from
 * another site into this register (evidence_import.h, docs/evidence.md).
 *
 * Verification comes first and decides: a bundle with one fault imports
 * nothing.  The manifest read afterwards must be the one its signature
 * covers, and each file must still have the digests the manifest lists
 * when it is copied in (evidence_add checks them against the copy), so a
 * bundle changed after the check is caught rather than imported.
 */
#include "evidence/evidence_import.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/hex.h"
#include "util/jp.h"

/* Longest text field of an imported record kept (the register caps the
 * record as a whole). */
#define IMPORT_FIELD_MAX 4096
#define IMPORT_PURPOSES_MAX 8

void evidence_import_key_name(const uint8_t pub[32], char out[80])
{
    char hex[65];

    hex_encode(pub, 32, hex);
    snprintf(out, 80, "ed25519:%s", hex);
}

static int ifail(struct evidence_reg *reg, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ifail(struct evidence_reg *reg, int r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reg->err, sizeof(reg->err), fmt, ap);
    va_end(ap);
    return r;
}

/* Reads all of a regular file, at most cap bytes, NUL-terminated. */
static int read_all(const char *path, size_t cap, char **ret, size_t *ret_len)
{
    struct stat sb;
    size_t got = 0;
    char *p = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r = 0;

    *ret = NULL;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > cap) {
        r = S_ISREG(sb.st_mode) ? -E2BIG : -EINVAL;
        goto out;
    }
    if (!(p = malloc((size_t)sb.st_size + 1))) {
        r = -ENOMEM;
        goto out;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, p + got, (size_t)sb.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO;
            goto out;
        }
        got += (size_t)n;
    }
    p[got] = '\0';
    *ret = p;
    *ret_len = got;
    p = NULL;
out:
    free(p);
    close(fd);
    return r;
}

/* A string member of `obj` decoded into out (NULL when absent or null). */
static const char *field(struct jp_span obj, const char *key, struct buf *out)
{
    struct jp_span v;

    buf_reset(out);
    if (jp_lookup(obj, key, &v) < 0 || v.len == 0 || v.p[0] != '"' || jp_text(v, out, 0) != 0 ||
        buf_putc(out, '\0') < 0)
        return NULL;
    return out->data;
}

/* The bundle's manifest as signed: its bytes, whose SHA-256 manifest.sig
 * names.  -EBADMSG when they differ (the bundle changed since the check). */
static int manifest_read(struct evidence_reg *reg, const char *dir, char **ret, size_t *ret_len,
                         uint8_t ret_sha[32])
{
    char path[PATH_MAX + 32], *sig = NULL;
    struct evidence_seal s;
    struct parse_err pe = {0};
    size_t n = 0;
    int r;

    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if ((r = read_all(path, EVIDENCE_MANIFEST_MAX, ret, ret_len)) < 0)
        return ifail(reg, r, "%s: %s", path, strerror(-r));
    crypto_hash_sha256(ret_sha, (const uint8_t *)*ret, *ret_len);
    snprintf(path, sizeof(path), "%s/manifest.sig", dir);
    if ((r = read_all(path, EVIDENCE_LINE_MAX, &sig, &n)) < 0)
        return ifail(reg, r, "%s: %s", path, strerror(-r));
    while (n && (sig[n - 1] == '\n'))
        n--;
    r = evidence_seal_parse(sig, n, &s, &pe);
    free(sig);
    if (r < 0 || !evidence_seal_sig_ok(&s) || sodium_memcmp(s.hash, ret_sha, 32) != 0)
        return ifail(reg, -EBADMSG,
                     "the manifest is not the one its signature covers (changed since the "
                     "check); nothing imported");
    return 0;
}

/* Keeps manifest.json and manifest.sig under DATA_DIR/evidence/bundles/,
 * named by the manifest's SHA-256 (kept if already there). */
static int manifest_keep(struct evidence_reg *reg, const char *dir, const char *sha)
{
    char src[PATH_MAX + 32], dst[PATH_MAX + 128];
    static const char *const ext[2] = {"json", "sig"};
    int r;

    snprintf(dst, sizeof(dst), "%s/evidence/bundles", reg->data_dir);
    if (mkdir(dst, 0750) < 0 && errno != EEXIST)
        return ifail(reg, -errno, "%s: %s", dst, strerror(errno));
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof(src), "%s/manifest.%s", dir, ext[i]);
        snprintf(dst, sizeof(dst), "%s/evidence/bundles/%s.%s", reg->data_dir, sha, ext[i]);
        if ((r = evidence_copy_file(src, dst)) < 0 && r != -EEXIST)
            return ifail(reg, r, "%s: %s", dst, strerror(-r));
    }
    return 0;
}

/* The hash of the item's last custody entry there, as hex ("" if none). */
static void custody_head(const struct evidence_manifest_item *it, char out[65])
{
    struct jp_span arr = {it->custody, it->custody_len}, v, last = {NULL, 0};
    struct jp_iter iter;
    struct evidence_entry e;
    struct buf line;

    out[0] = '\0';
    if (jp_iter_init(&iter, arr) < 0)
        return;
    while (jp_iter_next(&iter, NULL, &v) == 1)
        last = v;
    if (!last.p)
        return;
    buf_init(&line, EVIDENCE_LINE_MAX);
    if (jp_text(last, &line, 0) == 0 && evidence_entry_parse(line.data, line.len, &e, NULL) == 0)
        hex_encode(e.hash, 32, out);
    buf_done(&line);
}

struct import_bufs {
    struct buf f[8]; /* kind, name, by, at, host, tool, command, reason */
    struct buf purposes[IMPORT_PURPOSES_MAX];
};

/* Imports one manifest item: the add (a copy of its file, or a reference
 * to it there), then the import entry. */
static int import_item(struct evidence_reg *reg, const struct evidence_import_req *q,
                       const struct evidence_manifest_item *it, const char *site,
                       const char *manifest_sha, struct import_bufs *b, int64_t *ret_id)
{
    struct jp_span rec = {it->record, it->record_len}, acq = {"{}", 2}, arr, v;
    struct evidence_digest want, got;
    struct evidence_add_req a;
    struct jp_iter iter;
    const char *purposes[IMPORT_PURPOSES_MAX];
    char path[PATH_MAX + 100], url[200], head[65], details[1024], sha[65];
    size_t np = 0;
    int r;

    memset(&a, 0, sizeof(a));
    memcpy(want.sha256, it->sha256, 32);
    memcpy(want.blake2b, it->blake2b, 64);
    want.size = it->size;
    (void)jp_lookup(rec, "acquisition", &acq);
    a.kind = field(rec, "kind", &b->f[0]);
    a.name = field(rec, "name", &b->f[1]);
    a.by = q->by ? q->by : NULL;
    a.at = field(acq, "at", &b->f[3]);
    a.host = field(acq, "host", &b->f[4]);
    a.tool = field(acq, "tool", &b->f[5]);
    a.command = field(acq, "command", &b->f[6]);
    a.reason = field(acq, "reason", &b->f[7]);
    if (jp_lookup(rec, "purposes", &arr) == 0 && jp_iter_init(&iter, arr) == 0)
        while (np < IMPORT_PURPOSES_MAX && jp_iter_next(&iter, NULL, &v) == 1) {
            buf_reset(&b->purposes[np]);
            if (jp_text(v, &b->purposes[np], 0) == 0 && buf_putc(&b->purposes[np], '\0') == 0) {
                purposes[np] = b->purposes[np].data;
                np++;
            }
        }
    if (!a.kind)
        return ifail(reg, -EBADMSG, "%s: item %s: its record has no kind", q->dir, it->id);
    a.purposes = purposes;
    a.n_purposes = np;
    a.incidents = q->incidents;
    a.n_incidents = q->n_incidents;
    a.digest = &want;
    if (it->file[0]) {
        snprintf(path, sizeof(path), "%s/%s", q->dir, it->file);
        a.path = path;
        a.copy = 1;
    } else {
        /* Referenced only: it stays where the other site keeps it. */
        snprintf(url, sizeof(url), "hikeshi-evidence://%.40s/%s", site + 8, it->id);
        a.url = url;
    }
    if ((r = evidence_add(reg, &a, ret_id, &got)) < 0)
        return r;
    custody_head(it, head);
    hex_encode(it->sha256, 32, sha);
    snprintf(details, sizeof(details),
             "{\"received_from\":\"%s\",\"origin_item\":\"%s\",\"origin_custody_head\":\"%s\","
             "\"manifest_sha256\":\"%s\"}",
             site, it->id, head, manifest_sha);
    return evidence_custody_import(reg, *ret_id, details);
}

int evidence_import(struct evidence_reg *reg, const struct evidence_import_req *q,
                    struct evidence_report *rep, int64_t *ret_ids, size_t cap, size_t *ret_n)
{
    struct evidence_manifest m;
    struct import_bufs *b = NULL;
    struct parse_err pe = {0};
    char *text = NULL, site[80], msha[65];
    uint8_t sha[32];
    size_t len = 0;
    int r;

    *ret_n = 0;
    memset(&m, 0, sizeof(m));
    if ((r = evidence_bundle_verify(q->dir, q->site_pub, rep)) < 0)
        return ifail(reg, r, "%s: %s", q->dir, strerror(-r));
    if (rep->faults)
        return ifail(reg, -EBADMSG,
                     "the bundle does not verify against the site's key; nothing imported");
    if ((r = manifest_read(reg, q->dir, &text, &len, sha)) < 0)
        goto out;
    if ((r = evidence_manifest_parse(text, len, &m, &pe)) < 0) {
        ifail(reg, r, "%s: manifest.json: %s", q->dir, pe.msg ? pe.msg : strerror(-r));
        goto out;
    }
    if (m.n_items > cap || m.n_items > EVIDENCE_IMPORT_MAX) {
        r = ifail(reg, -E2BIG, "too many items for one import (at most %d)", EVIDENCE_IMPORT_MAX);
        goto out;
    }
    evidence_import_key_name(q->site_pub, site);
    hex_encode(sha, 32, msha);
    if ((r = manifest_keep(reg, q->dir, msha)) < 0)
        goto out;
    if (!(b = calloc(1, sizeof(*b)))) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < 8; i++)
        buf_init(&b->f[i], IMPORT_FIELD_MAX);
    for (size_t i = 0; i < IMPORT_PURPOSES_MAX; i++)
        buf_init(&b->purposes[i], 64);
    for (size_t i = 0; r == 0 && i < m.n_items; i++) {
        if ((r = import_item(reg, q, &m.items[i], site, msha, b, &ret_ids[i])) == 0)
            (*ret_n)++;
    }
out:
    if (b) {
        for (size_t i = 0; i < 8; i++)
            buf_done(&b->f[i]);
        for (size_t i = 0; i < IMPORT_PURPOSES_MAX; i++)
            buf_done(&b->purposes[i]);
        free(b);
    }
    evidence_manifest_done(&m);
    free(text);
    return r;
}
