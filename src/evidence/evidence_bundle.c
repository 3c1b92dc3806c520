/*
 * evidence_bundle.c - reading a bundle's manifest and verifying a bundle
 * offline with nothing but the site's verification key (docs/evidence.md,
 * "Bundle").  The bundle is hostile input: every length is capped, file
 * names come only from digests, and each fault is named, not just counted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/evidence.h"
#include "evidence/attest.h"
#include "evidence/evidence_excerpt.h"
#include "util/hex.h"
#include "util/jp.h"
#include "util/readfile.h"

static int member(struct jp_span obj, const char *key, struct jp_span *ret, struct parse_err *pe,
                  const char *missing)
{
    if (jp_lookup(obj, key, ret) < 0) {
        parse_err_set(pe, 0, missing);
        return -EINVAL;
    }
    return 0;
}

static int span_hex(struct jp_span v, uint8_t *out, size_t n)
{
    if (v.len != 2 * n + 2 || v.p[0] != '"' || v.p[v.len - 1] != '"')
        return -EINVAL;
    return hex_decode_lower(v.p + 1, n, out);
}

static int span_str(struct jp_span v, char *out, size_t cap)
{
    struct parse_err pe;
    struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

    if (jp_string(&j, out, cap, NULL) < 0 || jp_end(&j) < 0)
        return -EINVAL;
    return 0;
}

/* 1 when no key of object `o` appears twice.  A manifest read two ways
 * (this reader takes a key's first value, Python's json its last) could
 * pass one verifier and not the other: a repeated key is refused. */
static int keys_unique(struct jp_span o)
{
    struct jp_iter a, b;
    struct jp_span ka, kb, v;
    size_t i = 0;

    if (jp_iter_init(&a, o) < 0)
        return 0;
    while (jp_iter_next(&a, &ka, &v) == 1) {
        char key[128];
        size_t j = 0;

        /* Keys compared decoded: "a" and "\u0061" are one key. */
        if (++i > 256 || span_str(ka, key, sizeof(key) - 1) < 0)
            return 0; /* our objects have a handful of short keys */
        if (jp_iter_init(&b, o) < 0)
            return 0;
        while (j + 1 < i && jp_iter_next(&b, &kb, &v) == 1) {
            if (jp_key_is(kb, key))
                return 0;
            j++;
        }
    }
    return 1;
}

/* One element of "items". */
static int parse_item(const char *base, struct jp_span o, struct evidence_manifest_item *it,
                      struct parse_err *pe)
{
    struct jp_span v, rec;
    char hex[65];
    int64_t size;

    memset(it, 0, sizeof(*it));
    if (o.p[0] != '{') {
        parse_err_set(pe, (size_t)(o.p - base), "manifest: an item is not an object");
        return -EINVAL;
    }
    if (!keys_unique(o)) {
        parse_err_set(pe, (size_t)(o.p - base), "manifest: an item repeats a key");
        return -EINVAL;
    }
    if (member(o, "id", &v, pe, "manifest: an item has no id") < 0 ||
        span_str(v, it->id, EVIDENCE_NAME_MAX) < 0)
        goto bad;
    if (member(o, "record", &rec, pe, "manifest: an item has no record") < 0 || rec.p[0] != '{')
        goto bad;
    if (!keys_unique(rec)) {
        parse_err_set(pe, (size_t)(rec.p - base), "manifest: a record repeats a key");
        return -EINVAL;
    }
    it->record = rec.p;
    it->record_len = rec.len;
    if (member(rec, "sha256", &v, pe, "manifest: a record has no sha256") < 0 ||
        span_hex(v, it->sha256, 32) < 0)
        goto bad;
    if (member(rec, "blake2b", &v, pe, "manifest: a record has no blake2b") < 0 ||
        span_hex(v, it->blake2b, 64) < 0)
        goto bad;
    if (member(rec, "size", &v, pe, "manifest: a record has no size") < 0 ||
        jp_span_i64(v, &size) < 0 || size < 0)
        goto bad;
    it->size = (uint64_t)size;
    if (member(o, "custody", &v, pe, "manifest: an item has no custody") < 0 || v.p[0] != '[')
        goto bad;
    it->custody = v.p;
    it->custody_len = v.len;
    if (member(o, "file", &v, pe, "manifest: an item has no file") < 0)
        goto bad;
    if (!jp_span_is(v, "null")) {
        /* Only "items/<its own sha256>": a name from the bundle never
         * reaches the file system. */
        hex_encode(it->sha256, 32, hex);
        if (span_str(v, it->file, sizeof(it->file) - 1) < 0 ||
            strncmp(it->file, "items/", 6) != 0 || strcmp(it->file + 6, hex) != 0) {
            parse_err_set(pe, (size_t)(v.p - base),
                          "manifest: an item's file is not items/<its sha256>");
            return -EINVAL;
        }
    }
    return 0;
bad:
    if (pe->off == 0)
        pe->off = (size_t)(o.p - base);
    if (!pe->msg)
        pe->msg = "manifest: bad item";
    return -EINVAL;
}

int evidence_manifest_parse(const char *p, size_t len, struct evidence_manifest *ret,
                            struct parse_err *reterr)
{
    struct parse_err pe = {0};
    struct jp_span doc, v, items;
    struct jp_iter it;
    char fmt[64];
    size_t cap = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (len > EVIDENCE_MANIFEST_MAX) {
        parse_err_set(reterr, 0, "manifest too large");
        return -E2BIG;
    }
    if (jp_doc(p, len, &doc, reterr) < 0)
        return -EINVAL;
    if (doc.p[0] != '{') {
        parse_err_set(reterr, 0, "manifest is not an object");
        return -EINVAL;
    }
    if (!keys_unique(doc)) {
        parse_err_set(reterr, 0, "manifest repeats a key");
        return -EINVAL;
    }
    if (member(doc, "format", &v, reterr, "manifest has no format") < 0)
        return -EINVAL;
    if (span_str(v, fmt, sizeof(fmt) - 1) < 0 || strcmp(fmt, EVIDENCE_BUNDLE_FORMAT) != 0) {
        parse_err_set(reterr, (size_t)(v.p - p), "manifest: unknown format");
        return -EINVAL;
    }
    if (member(doc, "public_key", &v, reterr, "manifest has no public_key") < 0)
        return -EINVAL;
    if (span_hex(v, ret->public_key, 32) < 0) {
        parse_err_set(reterr, (size_t)(v.p - p), "manifest: public_key is not 64 hex digits");
        return -EINVAL;
    }
    if (member(doc, "seals", &v, reterr, "manifest has no seals") < 0)
        return -EINVAL;
    if (v.p[0] != '[') {
        parse_err_set(reterr, (size_t)(v.p - p), "manifest: seals is not an array");
        return -EINVAL;
    }
    ret->seals = v.p;
    ret->seals_len = v.len;
    if (member(doc, "items", &items, reterr, "manifest has no items") < 0)
        return -EINVAL;
    if (items.p[0] != '[' || jp_iter_init(&it, items) < 0) {
        parse_err_set(reterr, (size_t)(items.p - p), "manifest: items is not an array");
        return -EINVAL;
    }
    while ((r = jp_iter_next(&it, NULL, &v)) == 1) {
        if (ret->n_items >= EVIDENCE_BUNDLE_ITEMS_MAX) {
            parse_err_set(reterr, (size_t)(v.p - p), "manifest: too many items");
            r = -E2BIG;
            goto fail;
        }
        if (ret->n_items == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            struct evidence_manifest_item *nv = realloc(ret->items, ncap * sizeof(*nv));

            if (!nv) {
                r = -ENOMEM;
                goto fail;
            }
            ret->items = nv;
            cap = ncap;
        }
        pe.off = 0;
        pe.msg = NULL;
        if ((r = parse_item(p, v, &ret->items[ret->n_items], &pe)) < 0) {
            parse_err_set(reterr, pe.off, pe.msg);
            goto fail;
        }
        ret->n_items++;
    }
    if (r == 0)
        return 0;
    parse_err_set(reterr, (size_t)(items.p - p), "manifest: malformed items");
    r = -EINVAL;
fail:
    evidence_manifest_done(ret);
    return r;
}

void evidence_manifest_done(struct evidence_manifest *m)
{
    free(m->items);
    m->items = NULL;
    m->n_items = 0;
}

/* Reads all of `path` (at most cap bytes) into a NUL-terminated heap
 * buffer.  -E2BIG past the cap. */
static int slurp(const char *path, size_t cap, char **ret, size_t *ret_len)
{
    struct stat st;
    char *p;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r = 0;

    *ret = NULL;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        r = -E2BIG;
        goto out;
    }
    if (!(p = malloc((size_t)st.st_size + 1))) {
        r = -ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    p[got] = '\0';
    *ret = p;
    *ret_len = got;
out:
    close(fd);
    return r;
}

/* The detached signature: a bundle seal over the manifest's SHA-256,
 * signed by the epoch right after the last seal the manifest lists. */
static void check_signature(const char *dir, const char *man, size_t man_len,
                            const struct evidence_seals *seals, struct evidence_report *rep)
{
    char path[4096], *sig = NULL;
    struct evidence_seal s;
    struct parse_err pe = {0};
    uint8_t h[32];
    size_t len = 0;
    int r;

    snprintf(path, sizeof(path), "%s/manifest.sig", dir);
    if ((r = slurp(path, EVIDENCE_LINE_MAX, &sig, &len)) < 0) {
        evidence_report_fault(rep, "manifest.sig: %s", r == -ENOENT ? "missing" : strerror(-r));
        return;
    }
    while (len && (sig[len - 1] == '\n' || sig[len - 1] == '\r'))
        len--;
    if (evidence_seal_parse(sig, len, &s, &pe) < 0 || s.kind != EVIDENCE_SEAL_BUNDLE) {
        evidence_report_fault(rep, "manifest.sig: not a bundle seal (%s)",
                              pe.msg ? pe.msg : "kind is not bundle");
        goto out;
    }
    crypto_hash_sha256(h, (const uint8_t *)man, man_len);
    if (sodium_memcmp(h, s.hash, 32) != 0)
        evidence_report_fault(rep, "manifest.json: changed after signing (its SHA-256 is not "
                                   "the one manifest.sig signs)");
    else if (s.ks.epoch != seals->n)
        evidence_report_fault(rep,
                              "manifest.sig: signed at epoch %llu, not right after the "
                              "manifest's %zu seals",
                              (unsigned long long)s.ks.epoch, seals->n);
    else if (sodium_memcmp(s.ks.signer, seals->n ? seals->v[seals->n - 1].ks.next : seals->pub0,
                           32) != 0)
        evidence_report_fault(rep,
                              "manifest.sig: its signer is not the key chain's key for "
                              "epoch %llu",
                              (unsigned long long)s.ks.epoch);
    else if (!evidence_seal_sig_ok(&s))
        evidence_report_fault(rep, "manifest.sig: bad signature");
    else
        rep->checked++;
out:
    free(sig);
}

/* A copied item's file: present, of its size, with both digests. */
static void check_file(const char *dir, const struct evidence_manifest_item *it,
                       struct evidence_report *rep)
{
    struct evidence_digest d;
    char path[4096];
    struct stat st;
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, it->file);
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        evidence_report_fault(rep, "item %s: file %s is missing", it->id, it->file);
        return;
    }
    if ((uint64_t)st.st_size != it->size) {
        evidence_report_fault(rep, "item %s: file %s has %lld bytes, the manifest says %llu",
                              it->id, it->file, (long long)st.st_size,
                              (unsigned long long)it->size);
        return;
    }
    if ((r = evidence_hash_file(path, &d)) < 0) {
        evidence_report_fault(rep, "item %s: file %s: %s", it->id, it->file, strerror(-r));
        return;
    }
    if (sodium_memcmp(d.sha256, it->sha256, 32) != 0)
        evidence_report_fault(rep, "item %s: file %s: content SHA-256 mismatch", it->id, it->file);
    else if (sodium_memcmp(d.blake2b, it->blake2b, 64) != 0)
        evidence_report_fault(rep, "item %s: file %s: content BLAKE2b mismatch", it->id, it->file);
    else
        rep->checked++;
}

/* Files in items/ the manifest does not list. */
static void check_unlisted(const char *dir, const struct evidence_manifest *m,
                           struct evidence_report *rep)
{
    char path[4096];
    const struct dirent *de;
    DIR *d;

    snprintf(path, sizeof(path), "%s/items", dir);
    if (!(d = opendir(path)))
        return;
    while ((de = readdir(d))) {
        size_t i;

        if (de->d_name[0] == '.')
            continue;
        for (i = 0; i < m->n_items; i++)
            if (m->items[i].file[0] && strcmp(m->items[i].file + 6, de->d_name) == 0)
                break;
        if (i == m->n_items)
            evidence_report_fault(rep, "items/%.80s: a file the manifest does not list",
                                  de->d_name);
    }
    closedir(d);
}

/* For an item of kind archive-excerpt or attestation, checks its document
 * (the file under `dir`) with its proof; other kinds pass untouched.
 * Faults to rep.  -ENOMEM, else 0. */
static int proof_item_check(const char *dir, const struct evidence_manifest_item *it,
                            struct evidence_report *rep)
{
    struct jp_span rec = {it->record, it->record_len}, v;
    char kind[32], who[EVIDENCE_NAME_MAX + 32], path[4200];
    char *doc = NULL;
    size_t len = 0;
    int attest, r;

    if (jp_lookup(rec, "kind", &v) < 0 || span_str(v, kind, sizeof(kind)) < 0)
        return 0;
    attest = strcmp(kind, "attestation") == 0;
    if (!attest && strcmp(kind, "archive-excerpt") != 0)
        return 0;
    snprintf(who, sizeof(who), "%s %s", attest ? "attestation" : "excerpt", it->id);
    if (!it->file[0]) {
        evidence_report_fault(rep,
                              "%s: its document is not in the bundle (exported without "
                              "its file), so its proof cannot be checked",
                              who);
        return 0;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, it->file);
    if ((r = readfile_all(path, EVIDENCE_EXCERPT_MAX, &doc, &len)) < 0) {
        if (r == -ENOMEM)
            return r;
        return 0; /* missing or unreadable: check_file has named it */
    }
    r = attest ? attest_check(who, doc, len, NULL, rep, NULL)
               : evidence_excerpt_check(who, doc, len, NULL, rep);
    free(doc);
    return r;
}

int evidence_bundle_verify(const char *dir, const uint8_t pub[32], struct evidence_report *rep)
{
    struct evidence_manifest m;
    struct evidence_seals seals;
    struct parse_err pe = {0};
    char path[4096], *man = NULL, add_sha[65], hex[65], who[EVIDENCE_NAME_MAX + 8];
    size_t len = 0;
    int r;

    memset(&seals, 0, sizeof(seals));
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if ((r = slurp(path, EVIDENCE_MANIFEST_MAX, &man, &len)) < 0) {
        if (r != -ENOENT)
            return r;
        evidence_report_fault(rep, "manifest.json: missing");
        return 0;
    }
    if ((r = evidence_manifest_parse(man, len, &m, &pe)) < 0) {
        evidence_report_fault(rep, "manifest.json: unreadable at byte %zu: %s", pe.off,
                              pe.msg ? pe.msg : strerror(-r));
        free(man);
        return r == -ENOMEM ? r : 0;
    }
    if (sodium_memcmp(m.public_key, pub, 32) != 0)
        evidence_report_fault(rep, "manifest.json: its public_key is not the verification key "
                                   "given");
    r = evidence_seals_load(&seals, m.seals, m.seals_len, pub, rep);
    if (r == -ENOMEM || r == -E2BIG)
        goto out;
    r = 0;
    check_signature(dir, man, len, &seals, rep);
    for (size_t i = 0; i < m.n_items; i++) {
        const struct evidence_manifest_item *it = &m.items[i];

        snprintf(who, sizeof(who), "item %s", it->id);
        if ((r = evidence_custody_check(who, it->id, it->custody, it->custody_len, &seals, rep,
                                        add_sha, NULL, 0)) < 0)
            goto out;
        hex_encode(it->sha256, 32, hex);
        if (add_sha[0] && strcmp(add_sha, hex) != 0)
            evidence_report_fault(rep,
                                  "item %s: its record's SHA-256 is not the one its add "
                                  "entry sealed",
                                  it->id);
        if (it->file[0])
            check_file(dir, it, rep);
        /* Excerpts and attestations carry an archive proof of their own. */
        if ((r = proof_item_check(dir, it, rep)) < 0)
            goto out;
    }
    check_unlisted(dir, &m, rep);
out:
    evidence_seals_done(&seals);
    evidence_manifest_done(&m);
    free(man);
    return r;
}
