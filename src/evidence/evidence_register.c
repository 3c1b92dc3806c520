/*
 * evidence_register.c - the evidence register: items in the store, their
 * custody logs, and the key chain that seals them (docs/evidence.md).
 *
 * Every custody entry is written in one transaction with its seal line
 * and its audit entry; the seal's signature is made before the commit and
 * the key evolves only after it, so a crash leaves either nothing or an
 * entry whose key epoch evidence_reg_open catches up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/evidence_register.h"
#include "incident/audit.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/jp.h"

const char *const evidence_kinds[] = {"disk-image",      "memory-dump", "pcap",
                                      "log-bundle",      "screenshot",  "other",
                                      "archive-excerpt", "attestation", NULL};
const char *const evidence_purposes[] = {"investigation",           "detection",
                                         "proof-of-management",     "proof-against-perpetrator",
                                         "proof-of-non-occurrence", NULL};

/* Bytes of the JSON documents the register builds (a record, a show). */
#define REG_DOC_MAX (64 * 1024 * 1024)

static int fail(struct evidence_reg *reg, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct evidence_reg *reg, int r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reg->err, sizeof(reg->err), fmt, ap);
    va_end(ap);
    return r;
}

static int64_t now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void evidence_id_format(int64_t id, char out[32])
{
    snprintf(out, 32, "EV-%lld", (long long)id);
}

int evidence_id_parse(const char *s, int64_t *ret)
{
    char *end;
    long long v;

    if (strncmp(s, "EV-", 3) == 0)
        s += 3;
    if (*s < '1' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int reg_open(struct evidence_reg *reg, const char *data_dir, struct store *st,
                    struct audit *audit, const char *key_path, const char *pub_path,
                    const char *actor, int wait);

int evidence_reg_open(struct evidence_reg *reg, const char *data_dir, struct store *st,
                      struct audit *audit, const char *key_path, const char *pub_path,
                      const char *actor)
{
    return reg_open(reg, data_dir, st, audit, key_path, pub_path, actor, 1);
}

int evidence_reg_open_nowait(struct evidence_reg *reg, const char *data_dir, struct store *st,
                             struct audit *audit, const char *key_path, const char *pub_path,
                             const char *actor)
{
    return reg_open(reg, data_dir, st, audit, key_path, pub_path, actor, 0);
}

static int reg_open(struct evidence_reg *reg, const char *data_dir, struct store *st,
                    struct audit *audit, const char *key_path, const char *pub_path,
                    const char *actor, int wait)
{
    char path[PATH_MAX + 32];
    const char *why = NULL;
    uint64_t count = 0, next = 0, epoch;
    int r;

    memset(reg, 0, sizeof(*reg));
    reg->lock_fd = -1;
    reg->st = st;
    reg->audit = audit;
    snprintf(reg->data_dir, sizeof(reg->data_dir), "%s", data_dir);
    snprintf(reg->actor, sizeof(reg->actor), "%s", actor);
    snprintf(path, sizeof(path), "%s/evidence", data_dir);
    if (mkdir(path, 0750) < 0 && errno != EEXIST)
        return fail(reg, -errno, "%s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "%s/evidence/lock", data_dir);
    if ((reg->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
        return fail(reg, -errno, "%s: %s", path, strerror(errno));
    if (flock(reg->lock_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
        return fail(reg, errno == EWOULDBLOCK ? -EBUSY : -errno, "%s: lock: %s", path,
                    errno == EWOULDBLOCK ? "held by another hikeshi evidence command"
                                         : strerror(errno));
    if (!key_path)
        return 0;
    if ((r = archive_pubkey_load(pub_path, reg->pub0)) < 0)
        return fail(reg, r, "verification key %s: %s", pub_path,
                    r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
    if ((r = archive_key_load(key_path, &reg->key, &why)) < 0)
        return fail(reg, r, "signing key %s: %s", key_path, why ? why : strerror(-r));
    if ((r = store_evidence_seal_count(st, &count, &next)) < 0)
        return fail(reg, r, "store: %s", store_errmsg(st));
    if (count != next)
        return fail(reg, -EBADMSG,
                    "the register holds %llu seals but its last is epoch %llu: seals were "
                    "removed (run evidence verify)",
                    (unsigned long long)count, (unsigned long long)(next ? next - 1 : 0));
    epoch = archive_key_epoch(reg->key);
    if (epoch > next)
        return fail(reg, -EBADMSG,
                    "signing key %s is at epoch %llu but the register holds seals up to %llu: "
                    "seals it signed are missing, or it is another register's key",
                    key_path, (unsigned long long)epoch, (unsigned long long)next);
    if (epoch < next && (r = archive_key_evolve_to(reg->key, next)) < 0)
        return fail(reg, r, "signing key %s: catching up to epoch %llu: %s", key_path,
                    (unsigned long long)next, strerror(-r));
    if (next == 0) {
        uint8_t cur[32];

        archive_key_pub(reg->key, cur);
        if (sodium_memcmp(cur, reg->pub0, 32) != 0)
            return fail(reg, -EBADMSG, "%s is not the verification key of %s", pub_path, key_path);
    }
    return 0;
}

void evidence_reg_close(struct evidence_reg *reg)
{
    archive_key_free(reg->key);
    reg->key = NULL;
    if (reg->lock_fd >= 0)
        close(reg->lock_fd);
    reg->lock_fd = -1;
}

/* ---- custody entries ---- */

struct keep_ctx {
    struct evidence_reg *reg;
    const char *object;
    const char *action;
    uint64_t seq;
    const uint8_t *hash;
};

/* Between the signature and the key's evolution: the seal, the audit
 * entry, the commit.  A failure leaves the key where it was. */
static int keep_seal(void *arg, const struct evidence_seal *s)
{
    struct keep_ctx *c = arg;
    struct evidence_reg *reg = c->reg;
    struct buf line, details;
    char hex[65];
    int r;

    buf_init(&line, EVIDENCE_LINE_MAX);
    buf_init(&details, 512);
    r = evidence_seal_format(&line, s);
    if (r == 0 && (r = store_evidence_seal_add(reg->st, s->ks.epoch, line.data)) < 0)
        fail(reg, r, "store: %s", store_errmsg(reg->st));
    hex_encode(c->hash, 32, hex);
    if (r == 0)
        r = buf_printf(&details, "{\"seq\":%llu,\"hash\":\"%s\",\"epoch\":%llu}",
                       (unsigned long long)c->seq, hex, (unsigned long long)s->ks.epoch);
    if (r == 0) {
        if (reg->audit)
            r = audit_append(reg->audit, reg->actor, c->action, c->object, details.data,
                             details.len, NULL);
        else
            r = store_outbox_add(reg->st, reg->actor, c->action, c->object, details.data);
        if (r < 0)
            fail(reg, r, "audit log: %s", strerror(-r));
    }
    if (r == 0 && (r = store_commit(reg->st)) < 0)
        fail(reg, r, "store: %s", store_errmsg(reg->st));
    buf_done(&line);
    buf_done(&details);
    return r;
}

/* The last entry's seq and hash of item `id` (0 and zeros when none). */
static int custody_tail(struct evidence_reg *reg, int64_t id, uint64_t *ret_seq, uint8_t *ret_hash)
{
    struct buf lines;
    struct jp_span doc, v, last = {NULL, 0};
    struct jp_iter it;
    struct evidence_entry e;
    size_t n = 0;
    int r;

    *ret_seq = 0;
    memset(ret_hash, 0, 32);
    buf_init(&lines, REG_DOC_MAX);
    r = buf_putc(&lines, '[');
    if (r == 0 && (r = store_evidence_custody(reg->st, id, &lines, &n)) < 0)
        fail(reg, r, "store: %s", store_errmsg(reg->st));
    if (r == 0)
        r = buf_putc(&lines, ']');
    if (r == 0 && n > 0) {
        r = jp_doc(lines.data, lines.len, &doc, NULL) < 0 || jp_iter_init(&it, doc) < 0 ? -EBADMSG
                                                                                        : 0;
        while (r == 0 && jp_iter_next(&it, NULL, &v) == 1)
            last = v;
        if (r == 0 && (!last.p || evidence_entry_parse(last.p, last.len, &e, NULL) < 0))
            r = -EBADMSG;
        if (r == 0) {
            *ret_seq = e.seq;
            memcpy(ret_hash, e.hash, 32);
        } else {
            fail(reg, r, "the custody log of EV-%lld is unreadable (run evidence verify)",
                 (long long)id);
        }
    }
    buf_done(&lines);
    return r;
}

/*
 * Appends one custody entry to item `id` inside the caller's open
 * transaction, seals it, writes its audit entry and commits.  Rolls back
 * on failure.
 */
static int custody_append_txn(struct evidence_reg *reg, int64_t id, const char *action,
                              const char *details)
{
    struct buf line;
    struct evidence_seal s;
    char item[32], object[48], audit_action[64];
    uint8_t prev[32], hash[32];
    uint64_t seq;
    int r;

    if (!reg->key)
        return fail(reg, -EINVAL, "no signing key");
    evidence_id_format(id, item);
    snprintf(object, sizeof(object), "evidence/%s", item);
    snprintf(audit_action, sizeof(audit_action), "evidence.%s", action);
    buf_init(&line, EVIDENCE_LINE_MAX);
    if ((r = custody_tail(reg, id, &seq, prev)) < 0)
        goto out;
    r = evidence_entry_format(&line, item, seq + 1, now_us(), reg->actor, action, details, prev,
                              hash);
    if (r < 0) {
        fail(reg, r, "custody entry too long");
        goto out;
    }
    if ((r = store_evidence_custody_add(reg->st, id, seq + 1, line.data)) < 0) {
        fail(reg, r, "store: %s", store_errmsg(reg->st));
        goto out;
    }
    {
        struct keep_ctx c = {reg, object, audit_action, seq + 1, hash};

        r = evidence_seal_sign(reg->key, EVIDENCE_SEAL_CUSTODY, hash, keep_seal, &c, &s);
        if (r < 0 && !reg->err[0])
            fail(reg, r, "sealing: %s", strerror(-r));
    }
out:
    if (r < 0)
        store_rollback(reg->st);
    buf_done(&line);
    return r;
}

static int custody_append(struct evidence_reg *reg, int64_t id, const char *action,
                          const char *details)
{
    int r;

    if ((r = store_begin(reg->st)) < 0)
        return fail(reg, r, "store: %s", store_errmsg(reg->st));
    return custody_append_txn(reg, id, action, details);
}

int evidence_custody_import(struct evidence_reg *reg, int64_t id, const char *details)
{
    return custody_append(reg, id, "import", details);
}

/* ---- add ---- */

static int json_field(struct buf *b, const char *key, const char *val, int comma)
{
    int r = comma ? buf_putc(b, ',') : 0;

    r = r ? r : buf_json_str(b, key, strlen(key));
    r = r ? r : buf_putc(b, ':');
    if (r == 0 && val)
        r = buf_json_str(b, val, strlen(val));
    else if (r == 0)
        r = buf_puts(b, "null");
    return r;
}

static int build_record(struct buf *b, const struct evidence_add_req *q, const char *item,
                        const char *actor, const struct evidence_digest *d, const char *stored,
                        const char *orig, const char *now)
{
    char sha[65], b2[129];
    const char *slash = strrchr(orig, '/');
    int r;

    hex_encode(d->sha256, 32, sha);
    hex_encode(d->blake2b, 64, b2);
    r = buf_putc(b, '{');
    r = r ? r : json_field(b, "id", item, 0);
    r = r ? r : json_field(b, "kind", q->kind, 1);
    r = r ? r : json_field(b, "name", q->name ? q->name : slash ? slash + 1 : orig, 1);
    r = r ? r : buf_printf(b, ",\"size\":%llu", (unsigned long long)d->size);
    r = r ? r : json_field(b, "sha256", sha, 1);
    r = r ? r : json_field(b, "blake2b", b2, 1);
    r = r ? r : json_field(b, "storage", q->url ? "reference" : q->copy ? "copy" : "in-place", 1);
    r = r ? r : json_field(b, "path", stored, 1);
    r = r ? r : json_field(b, "original_path", orig, 1);
    r = r ? r : json_field(b, "added", now, 1);
    r = r ? r : buf_puts(b, ",\"acquisition\":{");
    r = r ? r : json_field(b, "by", q->by ? q->by : actor, 0);
    r = r ? r : json_field(b, "at", q->at ? q->at : now, 1);
    r = r ? r : json_field(b, "host", q->host, 1);
    r = r ? r : json_field(b, "tool", q->tool, 1);
    r = r ? r : json_field(b, "command", q->command, 1);
    r = r ? r : json_field(b, "reason", q->reason, 1);
    r = r ? r : buf_puts(b, "},\"incidents\":[");
    for (size_t i = 0; r == 0 && i < q->n_incidents; i++)
        r = buf_printf(b, "%s%lld", i ? "," : "", (long long)q->incidents[i]);
    r = r ? r : buf_puts(b, "],\"collection\":");
    r = r ? r
          : (q->collection ? buf_json_str(b, q->collection, strlen(q->collection))
                           : buf_puts(b, "null"));
    r = r ? r : buf_puts(b, ",\"purposes\":[");
    for (size_t i = 0; r == 0 && i < q->n_purposes; i++) {
        r = i ? buf_putc(b, ',') : 0;
        r = r ? r : buf_json_str(b, q->purposes[i], strlen(q->purposes[i]));
    }
    r = r ? r : buf_puts(b, "]}");
    return r;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

/* Copies the file into DATA_DIR/evidence/<sha256> (kept if already there
 * with that content: content-addressed). */
static int store_copy(struct evidence_reg *reg, const char *src, const char *sha, char *ret_path,
                      size_t cap)
{
    struct evidence_digest d;
    char tmp[PATH_MAX + 80], hex[65];
    struct stat stbuf;
    int r;

    snprintf(ret_path, cap, "%s/evidence/%s", reg->data_dir, sha);
    if (stat(ret_path, &stbuf) == 0)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s/evidence/.%s.new", reg->data_dir, sha);
    (void)unlink(tmp);
    if ((r = evidence_copy_file(src, tmp)) < 0)
        return fail(reg, r, "copying %s to %s: %s", src, tmp, strerror(-r));
    /* The copy is what is kept: it must be what was hashed. */
    if ((r = evidence_hash_file(tmp, &d)) < 0)
        return fail(reg, r, "%s: %s", tmp, strerror(-r));
    hex_encode(d.sha256, 32, hex);
    if (strcmp(hex, sha) != 0) {
        (void)unlink(tmp);
        return fail(reg, -EIO, "%s changed while it was copied; nothing added", src);
    }
    if (rename(tmp, ret_path) < 0) {
        r = -errno;
        (void)unlink(tmp);
        return fail(reg, r, "%s: %s", ret_path, strerror(-r));
    }
    return 0;
}

int evidence_add(struct evidence_reg *reg, const struct evidence_add_req *q, int64_t *ret_id,
                 struct evidence_digest *ret_d)
{
    char abs[PATH_MAX], stored[PATH_MAX + 80], sha[65], b2[129], item[32], now[32];
    struct buf rec, details;
    int64_t id = 0;
    int r;

    if (!one_of(q->kind, evidence_kinds))
        return fail(reg, -EINVAL, "unknown kind '%s'", q->kind);
    for (size_t i = 0; i < q->n_purposes; i++)
        if (!one_of(q->purposes[i], evidence_purposes))
            return fail(reg, -EINVAL, "unknown purpose '%s'", q->purposes[i]);
    if (q->url) {
        /* A reference that cannot be read here: its digests are the
         * acquirer's, and verify cannot re-hash it (docs/evidence.md). */
        if (!q->digest || q->copy || strlen(q->url) >= sizeof(abs))
            return fail(reg, -EINVAL, "a URL reference needs its digests, and is never copied");
        snprintf(abs, sizeof(abs), "%s", q->url);
        *ret_d = *q->digest;
    } else {
        if (!realpath(q->path, abs))
            return fail(reg, -errno, "%s: %s", q->path, strerror(errno));
        if ((r = evidence_hash_file(abs, ret_d)) < 0)
            return fail(reg, r, "%s: %s", abs, strerror(-r));
        if (q->digest && (ret_d->size != q->digest->size ||
                          sodium_memcmp(ret_d->sha256, q->digest->sha256, 32) != 0 ||
                          sodium_memcmp(ret_d->blake2b, q->digest->blake2b, 64) != 0))
            return fail(reg, -EIO, "%s: not the content expected (digests or size differ)", abs);
    }
    hex_encode(ret_d->sha256, 32, sha);
    hex_encode(ret_d->blake2b, 64, b2);
    snprintf(stored, sizeof(stored), "%s", abs);
    if (q->copy && (r = store_copy(reg, abs, sha, stored, sizeof(stored))) < 0)
        return r;
    evidence_time_format(now_us(), now);
    buf_init(&rec, EVIDENCE_LINE_MAX);
    buf_init(&details, EVIDENCE_LINE_MAX);
    if ((r = store_begin(reg->st)) < 0) {
        fail(reg, r, "store: %s", store_errmsg(reg->st));
        goto out;
    }
    if ((r = store_evidence_next_id(reg->st, &id)) < 0)
        goto db;
    evidence_id_format(id, item);
    r = build_record(&rec, q, item, reg->actor, ret_d, stored, abs, now);
    r = r ? r
          : buf_printf(&details, "{\"sha256\":\"%s\",\"blake2b\":\"%s\",\"size\":%llu,", sha, b2,
                       (unsigned long long)ret_d->size);
    r = r ? r : json_field(&details, "custodian", q->by ? q->by : reg->actor, 0);
    r = r ? r : buf_putc(&details, '}');
    if (r < 0) {
        fail(reg, r, "the item's record is too long (a field over %d bytes in all)",
             EVIDENCE_LINE_MAX);
        store_rollback(reg->st);
        goto out;
    }
    if ((r = store_evidence_item_add(reg->st, id, sha, rec.data, q->incidents, q->n_incidents)) < 0)
        goto db;
    r = custody_append_txn(reg, id, "add", details.data);
    if (r == 0)
        *ret_id = id;
    goto out;
db:
    fail(reg, r, "store: %s", store_errmsg(reg->st));
    store_rollback(reg->st);
out:
    buf_done(&rec);
    buf_done(&details);
    return r;
}

/* ---- reading ---- */

int evidence_list(struct evidence_reg *reg, int64_t incident, struct buf *out)
{
    int r = buf_putc(out, '[');

    if (r == 0 && (r = store_evidence_items(reg->st, incident, out, NULL)) < 0)
        return fail(reg, r, "store: %s", store_errmsg(reg->st));
    return r ? r : buf_putc(out, ']');
}

/* Appends {"record":R,"custody":[...]} of item `id`. */
static int item_doc(struct evidence_reg *reg, int64_t id, struct buf *out)
{
    int r;

    r = buf_puts(out, "{\"record\":");
    if (r == 0 && (r = store_evidence_item_get(reg->st, id, out)) < 0)
        return fail(reg, r, r == -ENOENT ? "no item EV-%lld" : "store: reading EV-%lld",
                    (long long)id);
    r = r ? r : buf_puts(out, ",\"custody\":[");
    if (r == 0 && (r = store_evidence_custody(reg->st, id, out, NULL)) < 0)
        return fail(reg, r, "store: %s", store_errmsg(reg->st));
    return r ? r : buf_puts(out, "]}");
}

int evidence_show(struct evidence_reg *reg, int64_t id, const char *how, struct buf *out)
{
    struct buf details, rec;
    int r;

    buf_init(&details, 256);
    buf_init(&rec, REG_DOC_MAX);
    r = buf_putc(&details, '{');
    r = r ? r : json_field(&details, "how", how, 0);
    r = r ? r : buf_putc(&details, '}');
    if (r == 0 && (r = store_evidence_item_get(reg->st, id, &rec)) < 0)
        fail(reg, r, r == -ENOENT ? "no item EV-%lld" : "store: reading EV-%lld", (long long)id);
    /* The access is recorded before the record is shown. */
    if (r == 0)
        r = custody_append(reg, id, "access", details.data);
    buf_done(&details);
    buf_done(&rec);
    return r ? r : item_doc(reg, id, out);
}

/* Checks item `id`'s custody log against the register's seals, and the
 * add's digest against the record's.  Faults to rep; the holder and the
 * record's path, digests and size to the outputs. */
static int check_item(struct evidence_reg *reg, int64_t id, struct evidence_report *rep,
                      char *holder, size_t holder_cap, struct evidence_manifest_item *ret,
                      char ret_path[PATH_MAX], struct buf *ret_record)
{
    struct buf doc, seals;
    struct evidence_seals ss;
    struct jp_span d, rec, cust, v;
    char item[32], who[48], add_sha[65], hex[65];
    int64_t size;
    int r;

    memset(&ss, 0, sizeof(ss));
    memset(ret, 0, sizeof(*ret));
    ret_path[0] = '\0';
    evidence_id_format(id, item);
    snprintf(who, sizeof(who), "item %s", item);
    buf_init(&doc, REG_DOC_MAX);
    buf_init(&seals, REG_DOC_MAX);
    if ((r = item_doc(reg, id, &doc)) < 0)
        goto out;
    r = buf_putc(&seals, '[');
    if (r == 0 && (r = store_evidence_seals(reg->st, UINT64_MAX, &seals, NULL)) < 0) {
        fail(reg, r, "store: %s", store_errmsg(reg->st));
        goto out;
    }
    if (r == 0)
        r = buf_putc(&seals, ']');
    if (r < 0)
        goto out;
    r = evidence_seals_load(&ss, seals.data, seals.len, reg->pub0, rep);
    if (r == -ENOMEM || r == -E2BIG)
        goto out;
    if (jp_doc(doc.data, doc.len, &d, NULL) < 0 || jp_lookup(d, "record", &rec) < 0 ||
        jp_lookup(d, "custody", &cust) < 0) {
        evidence_report_fault(rep, "%s: its record is unreadable", who);
        r = 0;
        goto out;
    }
    r = evidence_custody_check(who, item, cust.p, cust.len, &ss, rep, add_sha, holder, holder_cap);
    if (r < 0)
        goto out;
    if (jp_lookup(rec, "path", &v) < 0 || jp_lookup(rec, "sha256", &v) < 0) {
        evidence_report_fault(rep, "%s: its record is unreadable", who);
        goto out;
    }
    snprintf(ret->id, sizeof(ret->id), "%s", item);
    /* The spans die with `doc`: the record is copied out when asked. */
    if (ret_record && (r = buf_append(ret_record, rec.p, rec.len)) < 0)
        goto out;
    if (jp_lookup(rec, "sha256", &v) == 0 && v.len == 66)
        (void)hex_decode_lower(v.p + 1, 32, ret->sha256);
    if (jp_lookup(rec, "blake2b", &v) == 0 && v.len == 130)
        (void)hex_decode_lower(v.p + 1, 64, ret->blake2b);
    if (jp_lookup(rec, "size", &v) == 0 && jp_span_i64(v, &size) == 0 && size >= 0)
        ret->size = (uint64_t)size;
    if (jp_lookup(rec, "path", &v) == 0) {
        struct jp j = {v.p, v.len, 0, NULL, NULL, 0};
        struct parse_err pe;

        j.err = &pe;
        (void)jp_string(&j, ret_path, PATH_MAX - 1, NULL);
    }
    hex_encode(ret->sha256, 32, hex);
    if (add_sha[0] && strcmp(add_sha, hex) != 0)
        evidence_report_fault(rep,
                              "%s: its record's SHA-256 is not the one its add entry "
                              "sealed",
                              who);
out:
    evidence_seals_done(&ss);
    buf_done(&doc);
    buf_done(&seals);
    return r;
}

int evidence_transfer(struct evidence_reg *reg, int64_t id, const char *from, const char *to,
                      const char *reason)
{
    struct evidence_report rep;
    struct evidence_manifest_item it;
    struct buf details;
    char holder[EVIDENCE_NAME_MAX + 1], path[PATH_MAX];
    int r;

    if (strlen(from) > EVIDENCE_NAME_MAX || strlen(to) > EVIDENCE_NAME_MAX || !*from || !*to)
        return fail(reg, -EINVAL, "custodian names are 1 to %d bytes", EVIDENCE_NAME_MAX);
    evidence_report_init(&rep);
    buf_init(&details, EVIDENCE_LINE_MAX);
    if ((r = check_item(reg, id, &rep, holder, sizeof(holder), &it, path, NULL)) < 0)
        goto out;
    if (strcmp(holder, from) != 0) {
        r = fail(reg, -EPERM, "EV-%lld is held by '%s', not '%s'", (long long)id, holder, from);
        goto out;
    }
    r = buf_putc(&details, '{');
    r = r ? r : json_field(&details, "from", from, 0);
    r = r ? r : json_field(&details, "to", to, 1);
    r = r ? r : json_field(&details, "reason", reason ? reason : "", 1);
    r = r ? r : buf_putc(&details, '}');
    if (r < 0) {
        fail(reg, r, "transfer details too long");
        goto out;
    }
    r = custody_append(reg, id, "transfer", details.data);
out:
    evidence_report_done(&rep);
    buf_done(&details);
    return r;
}

int evidence_verify(struct evidence_reg *reg, int64_t id, struct evidence_report *rep)
{
    struct evidence_manifest_item it;
    struct evidence_digest d;
    char holder[EVIDENCE_NAME_MAX + 1], details[128], path[PATH_MAX];
    size_t before = rep->faults;
    int r;

    if ((r = check_item(reg, id, rep, holder, sizeof(holder), &it, path, NULL)) < 0)
        return r;
    if (!it.id[0])
        return 0;
    if (path[0] != '/') {
        /* A URL reference: nothing here to re-hash; the custody log and
         * the seals are what this check covers. */
        snprintf(details, sizeof(details),
                 "{\"result\":\"%s\",\"faults\":%zu,\"content\":\"not re-hashed\"}",
                 rep->faults == before ? "ok" : "failed", rep->faults - before);
        return custody_append(reg, id, "verify", details);
    }
    if ((r = evidence_hash_file(path, &d)) < 0) {
        evidence_report_fault(rep, "item %s: content %s: %s", it.id, path, strerror(-r));
    } else if (d.size != it.size) {
        evidence_report_fault(rep, "item %s: content %s has %llu bytes, the record says %llu",
                              it.id, path, (unsigned long long)d.size, (unsigned long long)it.size);
    } else if (sodium_memcmp(d.sha256, it.sha256, 32) != 0) {
        evidence_report_fault(rep, "item %s: content %s: SHA-256 mismatch", it.id, path);
    } else if (sodium_memcmp(d.blake2b, it.blake2b, 64) != 0) {
        evidence_report_fault(rep, "item %s: content %s: BLAKE2b mismatch", it.id, path);
    } else {
        rep->checked++;
    }
    snprintf(details, sizeof(details), "{\"result\":\"%s\",\"faults\":%zu}",
             rep->faults == before ? "ok" : "failed", rep->faults - before);
    return custody_append(reg, id, "verify", details);
}

/* ---- export ---- */

static int write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wx");
    int r = 0;

    if (!f)
        return -errno;
    if (fwrite(p, 1, n, f) != n || fflush(f) != 0 || fsync(fileno(f)) < 0)
        r = -errno ? -errno : -EIO;
    if (fclose(f) != 0 && r == 0)
        r = -errno;
    return r;
}

/* Appends one manifest item: id, record, file, custody lines as strings. */
static int manifest_item(struct evidence_reg *reg, int64_t id, const char *dir, int no_copy,
                         struct buf *m)
{
    struct evidence_report rep;
    struct evidence_manifest_item it;
    struct buf lines, rec;
    struct jp_span doc, v;
    struct jp_iter iter;
    char holder[EVIDENCE_NAME_MAX + 1], hex[65], dst[PATH_MAX + 100], path[PATH_MAX];
    int r, first = 1;

    evidence_report_init(&rep);
    buf_init(&lines, REG_DOC_MAX);
    buf_init(&rec, REG_DOC_MAX);
    if ((r = check_item(reg, id, &rep, holder, sizeof(holder), &it, path, &rec)) < 0)
        goto out;
    if (!it.id[0]) {
        r = fail(reg, -EBADMSG, "EV-%lld: record unreadable", (long long)id);
        goto out;
    }
    hex_encode(it.sha256, 32, hex);
    if (path[0] != '/')
        no_copy = 1; /* a URL reference travels as its record only */
    if (!no_copy) {
        snprintf(dst, sizeof(dst), "%s/items/%s", dir, hex);
        if ((r = evidence_copy_file(path, dst)) < 0 && r != -EEXIST) {
            fail(reg, r, "copying %s: %s", path, strerror(-r));
            goto out;
        }
    }
    r = buf_puts(m, "{\"id\":");
    r = r ? r : buf_json_str(m, it.id, strlen(it.id));
    r = r ? r : buf_puts(m, ",\"record\":");
    r = r ? r : buf_append(m, rec.data, rec.len);
    r = r ? r : buf_puts(m, ",\"file\":");
    r = r ? r : (no_copy ? buf_puts(m, "null") : buf_printf(m, "\"items/%s\"", hex));
    r = r ? r : buf_puts(m, ",\"custody\":[");
    r = r ? r : buf_putc(&lines, '[');
    if (r == 0 && (r = store_evidence_custody(reg->st, id, &lines, NULL)) < 0) {
        fail(reg, r, "store: %s", store_errmsg(reg->st));
        goto out;
    }
    r = r ? r : buf_putc(&lines, ']');
    if (r == 0 && (jp_doc(lines.data, lines.len, &doc, NULL) < 0 || jp_iter_init(&iter, doc) < 0))
        r = -EBADMSG;
    while (r == 0 && jp_iter_next(&iter, NULL, &v) == 1) {
        r = first ? 0 : buf_putc(m, ',');
        r = r ? r : buf_json_str(m, v.p, v.len);
        first = 0;
    }
    r = r ? r : buf_puts(m, "]}");
    if (r < 0 && !reg->err[0])
        fail(reg, r, "the manifest grew too large");
out:
    evidence_report_done(&rep);
    buf_done(&lines);
    buf_done(&rec);
    return r;
}

struct bundle_keep {
    struct evidence_reg *reg;
    const char *dir;
};

/* The bundle seal: kept in the register (the next bundle's chain needs
 * it), audited, committed, then written out as manifest.sig. */
static int keep_bundle(void *arg, const struct evidence_seal *s)
{
    struct bundle_keep *c = arg;
    struct keep_ctx k = {c->reg, "evidence/bundle", "evidence.bundle", 0, s->hash};
    struct buf line;
    char path[PATH_MAX + 32];
    int r;

    if ((r = keep_seal(&k, s)) < 0)
        return r;
    buf_init(&line, EVIDENCE_LINE_MAX);
    r = evidence_seal_format(&line, s);
    r = r ? r : buf_putc(&line, '\n');
    snprintf(path, sizeof(path), "%s/manifest.sig", c->dir);
    if (r == 0 && (r = write_file(path, line.data, line.len)) < 0)
        fail(c->reg, r, "%s: %s", path, strerror(-r));
    buf_done(&line);
    return r;
}

int evidence_export(struct evidence_reg *reg, const int64_t *ids, size_t n, const char *dir,
                    int no_copy)
{
    struct buf m, seals, details;
    struct evidence_seal s;
    char path[PATH_MAX + 32], now[32], pub[65];
    uint8_t h[32];
    int r = 0;

    if (n == 0)
        return fail(reg, -ENOENT, "no items to export");
    if (mkdir(dir, 0750) < 0)
        return fail(reg, -errno, "%s: %s", dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/items", dir);
    if (!no_copy && mkdir(path, 0750) < 0)
        return fail(reg, -errno, "%s: %s", path, strerror(errno));
    buf_init(&m, REG_DOC_MAX);
    buf_init(&seals, REG_DOC_MAX);
    buf_init(&details, EVIDENCE_LINE_MAX);
    r = buf_putc(&details, '{');
    r = r ? r : json_field(&details, "bundle", dir, 0);
    r = r ? r : buf_printf(&details, ",\"copy\":%s}", no_copy ? "false" : "true");
    /* The export entries go into the bundle: they are written first. */
    for (size_t i = 0; r == 0 && i < n; i++)
        r = custody_append(reg, ids[i], "export", details.data);
    if (r < 0)
        goto out;
    evidence_time_format(now_us(), now);
    hex_encode(reg->pub0, 32, pub);
    r = buf_printf(&m, "{\"format\":\"%s\",\"created\":\"%s\",\"public_key\":\"%s\",\"items\":[",
                   EVIDENCE_BUNDLE_FORMAT, now, pub);
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = i ? buf_putc(&m, ',') : 0;
        r = r ? r : manifest_item(reg, ids[i], dir, no_copy, &m);
    }
    r = r ? r : buf_puts(&m, "],\"seals\":[");
    if (r == 0 && (r = store_evidence_seals(reg->st, archive_key_epoch(reg->key), &m, NULL)) < 0)
        fail(reg, r, "store: %s", store_errmsg(reg->st));
    r = r ? r : buf_puts(&m, "]}\n");
    if (r < 0) {
        if (!reg->err[0])
            fail(reg, r, "building the manifest: %s", strerror(-r));
        goto out;
    }
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if ((r = write_file(path, m.data, m.len)) < 0) {
        fail(reg, r, "%s: %s", path, strerror(-r));
        goto out;
    }
    crypto_hash_sha256(h, (const uint8_t *)m.data, m.len);
    if ((r = store_begin(reg->st)) < 0) {
        fail(reg, r, "store: %s", store_errmsg(reg->st));
        goto out;
    }
    {
        struct bundle_keep c = {reg, dir};

        r = evidence_seal_sign(reg->key, EVIDENCE_SEAL_BUNDLE, h, keep_bundle, &c, &s);
        if (r < 0) {
            store_rollback(reg->st);
            if (!reg->err[0])
                fail(reg, r, "signing the manifest: %s", strerror(-r));
        }
    }
out:
    buf_done(&m);
    buf_done(&seals);
    buf_done(&details);
    return r;
}
