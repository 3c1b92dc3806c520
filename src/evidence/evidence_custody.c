/*
 * evidence_custody.c - the custody log's lines and the seals over them.
 *
 * A custody line is written in one fixed layout (evidence.h) and read back
 * only if it is byte for byte what evidence_entry_format would write for
 * the fields it holds: a line with reordered, duplicate or extra keys, or
 * other spacing, is refused rather than read two ways.  Every entry's hash
 * is sealed by one epoch of the evidence key chain (archive_key_sign under
 * our own domains), so the seals of all items form one chain that a
 * verifier follows from epoch 0's public key alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "evidence/evidence.h"
#include "util/hex.h"
#include "util/jp.h"

static const uint8_t zero_hash[32];

static int put_hex(struct buf *b, const uint8_t *p, size_t n)
{
    char hex[129];

    hex_encode(p, n, hex);
    return buf_append(b, hex, 2 * n);
}

/* The entry up to, not including, `,"hash":`. */
static int entry_hashed(struct buf *out, const char *item, uint64_t seq, const char *time,
                        const char *actor, const char *action, const char *details,
                        size_t details_len, const uint8_t prev[32])
{
    int r = 0;

    r = r ? r : buf_puts(out, "{\"item\":");
    r = r ? r : buf_json_str(out, item, strlen(item));
    r = r ? r : buf_printf(out, ",\"seq\":%llu,\"time\":", (unsigned long long)seq);
    r = r ? r : buf_json_str(out, time, strlen(time));
    r = r ? r : buf_puts(out, ",\"actor\":");
    r = r ? r : buf_json_str(out, actor, strlen(actor));
    r = r ? r : buf_puts(out, ",\"action\":");
    r = r ? r : buf_json_str(out, action, strlen(action));
    r = r ? r : buf_puts(out, ",\"details\":");
    r = r ? r : buf_append(out, details, details_len);
    r = r ? r : buf_puts(out, ",\"prev\":\"");
    r = r ? r : put_hex(out, prev, 32);
    r = r ? r : buf_putc(out, '"');
    return r;
}

int evidence_entry_format(struct buf *out, const char *item, uint64_t seq, int64_t time_us,
                          const char *actor, const char *action, const char *details,
                          const uint8_t prev[32], uint8_t ret_hash[32])
{
    uint8_t hash[32];
    char time[32];
    size_t start = out->len;
    int r;

    if (strlen(item) > EVIDENCE_NAME_MAX || strlen(actor) > EVIDENCE_NAME_MAX ||
        strlen(action) > EVIDENCE_NAME_MAX)
        return -EINVAL;
    evidence_time_format(time_us, time);
    r = entry_hashed(out, item, seq, time, actor, action, details, strlen(details), prev);
    if (r < 0)
        return r;
    crypto_hash_sha256(hash, (const uint8_t *)out->data + start, out->len - start);
    r = buf_puts(out, ",\"hash\":\"");
    r = r ? r : put_hex(out, hash, 32);
    r = r ? r : buf_puts(out, "\"}");
    if (r == 0 && ret_hash)
        memcpy(ret_hash, hash, 32);
    return r;
}

/* Reads a member's string value into out[cap + 1]. */
static int span_string(struct jp_span v, char *out, size_t cap)
{
    struct parse_err pe;
    struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

    if (jp_string(&j, out, cap, NULL) < 0 || jp_end(&j) < 0)
        return -EINVAL;
    return 0;
}

static int span_hex(struct jp_span v, uint8_t *out, size_t n)
{
    if (v.len != 2 * n + 2 || v.p[0] != '"' || v.p[v.len - 1] != '"')
        return -EINVAL;
    return hex_decode_lower(v.p + 1, n, out);
}

static int span_u64(struct jp_span v, uint64_t *ret)
{
    struct parse_err pe;
    struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

    if (jp_u64(&j, ret) < 0 || jp_end(&j) < 0)
        return -EINVAL;
    return 0;
}

int evidence_entry_parse(const char *line, size_t len, struct evidence_entry *ret,
                         struct parse_err *reterr)
{
    static const char *const keys[] = {"item",   "seq",     "time", "actor",
                                       "action", "details", "prev", "hash"};
    struct jp_span doc, k, v, hash_key = {NULL, 0};
    struct jp_iter it;
    struct buf again;
    uint8_t h[32];
    size_t i = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (len > EVIDENCE_LINE_MAX) {
        parse_err_set(reterr, 0, "custody line too long");
        return -EINVAL;
    }
    if (jp_doc(line, len, &doc, reterr) < 0)
        return -EINVAL;
    if (jp_iter_init(&it, doc) < 0 || doc.p[0] != '{') {
        parse_err_set(reterr, 0, "custody line is not an object");
        return -EINVAL;
    }
    while ((r = jp_iter_next(&it, &k, &v)) == 1) {
        if (i >= sizeof(keys) / sizeof(keys[0]) || !jp_key_is(k, keys[i])) {
            parse_err_set(reterr, (size_t)(k.p - line), "custody line: unexpected key");
            return -EINVAL;
        }
        switch (i) {
        case 0: r = span_string(v, ret->item, EVIDENCE_NAME_MAX); break;
        case 1: r = span_u64(v, &ret->seq); break;
        case 2: r = span_string(v, ret->time, sizeof(ret->time) - 1); break;
        case 3: r = span_string(v, ret->actor, EVIDENCE_NAME_MAX); break;
        case 4: r = span_string(v, ret->action, EVIDENCE_NAME_MAX); break;
        case 5:
            r = v.p[0] == '{' ? 0 : -EINVAL;
            ret->details = v.p;
            ret->details_len = v.len;
            break;
        case 6: r = span_hex(v, ret->prev, 32); break;
        default:
            r = span_hex(v, ret->hash, 32);
            hash_key = k;
            break;
        }
        if (r < 0) {
            parse_err_set(reterr, (size_t)(v.p - line), "custody line: bad value");
            return -EINVAL;
        }
        i++;
    }
    if (r < 0 || i != sizeof(keys) / sizeof(keys[0])) {
        parse_err_set(reterr, 0, "custody line: missing keys");
        return -EINVAL;
    }
    /* One spelling only: the line must be what we would write. */
    buf_init(&again, EVIDENCE_LINE_MAX + 256);
    r = entry_hashed(&again, ret->item, ret->seq, ret->time, ret->actor, ret->action, ret->details,
                     ret->details_len, ret->prev);
    if (r == 0 &&
        (hash_key.p - line != (ptrdiff_t)again.len + 1 ||
         memcmp(again.data, line, again.len) != 0 || line[again.len] != ',' || doc.p != line ||
         doc.len != len || (size_t)(hash_key.p - line) + 7 + 66 + 1 != len))
        r = -EINVAL;
    buf_done(&again);
    if (r < 0) {
        parse_err_set(reterr, 0, "custody line: not in the canonical layout");
        return -EINVAL;
    }
    crypto_hash_sha256(h, (const uint8_t *)line, (size_t)(hash_key.p - 1 - line));
    ret->hash_ok = sodium_memcmp(h, ret->hash, 32) == 0;
    return 0;
}

/* ---- seals ---- */

static const char *kind_name(enum evidence_seal_kind k)
{
    return k == EVIDENCE_SEAL_BUNDLE ? "bundle" : "custody";
}

static const char *kind_domain(enum evidence_seal_kind k)
{
    return k == EVIDENCE_SEAL_BUNDLE ? EVIDENCE_DOMAIN_BUNDLE : EVIDENCE_DOMAIN_CUSTODY;
}

int evidence_seal_format(struct buf *out, const struct evidence_seal *s)
{
    int r;

    r = buf_printf(out, "{\"epoch\":%llu,\"kind\":\"%s\",\"hash\":\"",
                   (unsigned long long)s->ks.epoch, kind_name(s->kind));
    r = r ? r : put_hex(out, s->hash, 32);
    r = r ? r : buf_puts(out, "\",\"signer\":\"");
    r = r ? r : put_hex(out, s->ks.signer, 32);
    r = r ? r : buf_puts(out, "\",\"next\":\"");
    r = r ? r : put_hex(out, s->ks.next, 32);
    r = r ? r : buf_puts(out, "\",\"sig\":\"");
    r = r ? r : put_hex(out, s->ks.sig, 64);
    r = r ? r : buf_puts(out, "\"}");
    return r;
}

int evidence_seal_parse(const char *p, size_t len, struct evidence_seal *ret,
                        struct parse_err *reterr)
{
    static const char *const keys[] = {"epoch", "kind", "hash", "signer", "next", "sig"};
    struct jp_span doc, k, v;
    struct jp_iter it;
    char kind[16];
    size_t i = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (len > EVIDENCE_LINE_MAX) {
        parse_err_set(reterr, 0, "seal too long");
        return -EINVAL;
    }
    if (jp_doc(p, len, &doc, reterr) < 0)
        return -EINVAL;
    if (jp_iter_init(&it, doc) < 0 || doc.p[0] != '{') {
        parse_err_set(reterr, 0, "seal is not an object");
        return -EINVAL;
    }
    while ((r = jp_iter_next(&it, &k, &v)) == 1) {
        if (i >= sizeof(keys) / sizeof(keys[0]) || !jp_key_is(k, keys[i])) {
            parse_err_set(reterr, (size_t)(k.p - p), "seal: unexpected key");
            return -EINVAL;
        }
        switch (i) {
        case 0: r = span_u64(v, &ret->ks.epoch); break;
        case 1:
            r = span_string(v, kind, sizeof(kind) - 1);
            if (r == 0 && strcmp(kind, "custody") == 0)
                ret->kind = EVIDENCE_SEAL_CUSTODY;
            else if (r == 0 && strcmp(kind, "bundle") == 0)
                ret->kind = EVIDENCE_SEAL_BUNDLE;
            else
                r = -EINVAL;
            break;
        case 2: r = span_hex(v, ret->hash, 32); break;
        case 3: r = span_hex(v, ret->ks.signer, 32); break;
        case 4: r = span_hex(v, ret->ks.next, 32); break;
        default: r = span_hex(v, ret->ks.sig, 64); break;
        }
        if (r < 0) {
            parse_err_set(reterr, (size_t)(v.p - p), "seal: bad value");
            return -EINVAL;
        }
        i++;
    }
    if (r < 0 || i != sizeof(keys) / sizeof(keys[0])) {
        parse_err_set(reterr, 0, "seal: missing keys");
        return -EINVAL;
    }
    /* One spelling only, as for custody lines. */
    {
        struct buf again;

        buf_init(&again, EVIDENCE_LINE_MAX);
        r = evidence_seal_format(&again, ret);
        if (r == 0 && (again.len != len || memcmp(again.data, p, len) != 0))
            r = -EINVAL;
        buf_done(&again);
        if (r < 0) {
            parse_err_set(reterr, 0, "seal: not in the canonical layout");
            return -EINVAL;
        }
    }
    return 0;
}

void evidence_seal_message(const struct evidence_seal *s, uint8_t out[EVIDENCE_SEAL_MSG_LEN])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(s->ks.epoch >> (56 - 8 * i));
    memcpy(out + 8, s->ks.signer, 32);
    memcpy(out + 40, s->ks.next, 32);
    memcpy(out + 72, s->hash, 32);
}

int evidence_seal_sig_ok(const struct evidence_seal *s)
{
    uint8_t msg[EVIDENCE_SEAL_MSG_LEN];

    evidence_seal_message(s, msg);
    return archive_key_sig_ok(kind_domain(s->kind), msg, sizeof(msg), &s->ks);
}

struct sign_ctx {
    struct evidence_seal *s;
    int (*keep)(void *ctx, const struct evidence_seal *s);
    void *ctx;
};

static int sign_keep(void *arg, const struct archive_key_sig *ks)
{
    struct sign_ctx *c = arg;

    c->s->ks = *ks;
    return c->keep ? c->keep(c->ctx, c->s) : 0;
}

int evidence_seal_sign(struct archive_key *k, enum evidence_seal_kind kind, const uint8_t hash[32],
                       int (*keep)(void *ctx, const struct evidence_seal *s), void *ctx,
                       struct evidence_seal *ret)
{
    uint8_t msg[EVIDENCE_SEAL_MSG_LEN];
    struct sign_ctx c = {ret, keep, ctx};

    memset(ret, 0, sizeof(*ret));
    ret->kind = kind;
    memcpy(ret->hash, hash, 32);
    archive_key_sig_prepare(k, &ret->ks);
    evidence_seal_message(ret, msg);
    return archive_key_sign(k, kind_domain(kind), msg, sizeof(msg), &ret->ks, sign_keep, &c);
}

int evidence_seals_load(struct evidence_seals *ret, const char *arr, size_t len,
                        const uint8_t pub0[32], struct evidence_report *rep)
{
    struct jp_span doc, v;
    struct jp_iter it;
    struct parse_err pe = {0};
    size_t cap = 0;
    int r;

    memset(ret, 0, sizeof(*ret));
    memcpy(ret->pub0, pub0, 32);
    ret->chain_ok = 1;
    if (jp_doc(arr, len, &doc, &pe) < 0 || doc.p[0] != '[' || jp_iter_init(&it, doc) < 0) {
        evidence_report_fault(rep, "seals: not a JSON array of seals (byte %zu: %s)", pe.off,
                              pe.msg ? pe.msg : "not an array");
        ret->chain_ok = 0;
        return -EINVAL;
    }
    while ((r = jp_iter_next(&it, NULL, &v)) == 1) {
        struct evidence_seal s;
        const uint8_t *want;

        if (ret->n >= EVIDENCE_SEALS_MAX)
            return -E2BIG;
        if (evidence_seal_parse(v.p, v.len, &s, &pe) < 0) {
            evidence_report_fault(rep, "seal %zu: unreadable (%s)", ret->n, pe.msg);
            ret->chain_ok = 0;
            return -EINVAL;
        }
        if (ret->n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            struct evidence_seal *nv = realloc(ret->v, ncap * sizeof(*nv));

            if (!nv)
                return -ENOMEM;
            ret->v = nv;
            cap = ncap;
        }
        want = ret->n ? ret->v[ret->n - 1].ks.next : pub0;
        if (s.ks.epoch != ret->n) {
            evidence_report_fault(rep,
                                  "seal %zu: epoch %llu where %zu was expected (a seal is "
                                  "missing or out of order)",
                                  ret->n, (unsigned long long)s.ks.epoch, ret->n);
            ret->chain_ok = 0;
        } else if (sodium_memcmp(s.ks.signer, want, 32) != 0) {
            evidence_report_fault(rep,
                                  "seal %zu: its signer is not the key chain's key for "
                                  "epoch %zu",
                                  ret->n, ret->n);
            ret->chain_ok = 0;
        } else if (!evidence_seal_sig_ok(&s)) {
            evidence_report_fault(rep, "seal %zu: bad signature", ret->n);
            ret->chain_ok = 0;
        } else {
            rep->checked++;
        }
        ret->v[ret->n++] = s;
    }
    if (r < 0) {
        evidence_report_fault(rep, "seals: malformed array");
        ret->chain_ok = 0;
        return -EINVAL;
    }
    return 0;
}

void evidence_seals_done(struct evidence_seals *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

const struct evidence_seal *evidence_seals_find(const struct evidence_seals *s,
                                                enum evidence_seal_kind kind,
                                                const uint8_t hash[32])
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].kind == kind && memcmp(s->v[i].hash, hash, 32) == 0)
            return &s->v[i];
    return NULL;
}

/* ---- one item's custody log ---- */

/* Decodes member `key` of details object `d` as a string into out. */
static int details_string(const char *d, size_t dlen, const char *key, char *out, size_t cap)
{
    struct jp_span obj = {d, dlen}, v;

    out[0] = '\0';
    if (jp_lookup(obj, key, &v) < 0)
        return -ENOENT;
    return span_string(v, out, cap - 1);
}

int evidence_custody_check(const char *who, const char *item, const char *lines, size_t len,
                           const struct evidence_seals *seals, struct evidence_report *rep,
                           char ret_add_sha256[65], char *ret_holder, size_t holder_cap)
{
    struct jp_span doc, v;
    struct jp_iter it;
    struct parse_err pe = {0};
    uint8_t prev[32];
    char *line = NULL, tmp[EVIDENCE_NAME_MAX + 1];
    uint64_t want = 1;
    size_t before = rep->faults;
    int r;

    if (ret_add_sha256)
        ret_add_sha256[0] = '\0';
    if (ret_holder && holder_cap)
        ret_holder[0] = '\0';
    memcpy(prev, zero_hash, 32);
    if (jp_doc(lines, len, &doc, &pe) < 0 || doc.p[0] != '[' || jp_iter_init(&it, doc) < 0) {
        evidence_report_fault(rep, "%s: custody log is not an array of entries", who);
        return 0;
    }
    if (!(line = malloc(EVIDENCE_LINE_MAX + 1)))
        return -ENOMEM;
    while ((r = jp_iter_next(&it, NULL, &v)) == 1) {
        struct evidence_entry e;
        const struct evidence_seal *s;
        const char *p = v.p;
        size_t n = v.len;

        if (v.p[0] == '"') {
            struct jp j = {v.p, v.len, 0, &pe, NULL, 0};

            if (jp_string(&j, line, EVIDENCE_LINE_MAX, &n) < 0) {
                evidence_report_fault(rep, "%s: custody entry %llu: unreadable (%s)", who,
                                      (unsigned long long)want, pe.msg ? pe.msg : "bad string");
                break;
            }
            p = line;
        }
        if (evidence_entry_parse(p, n, &e, &pe) < 0) {
            evidence_report_fault(rep, "%s: custody entry %llu: unreadable (%s)", who,
                                  (unsigned long long)want, pe.msg ? pe.msg : "bad entry");
            break;
        }
        if (e.seq != want)
            evidence_report_fault(rep,
                                  "%s: custody entry %llu: numbered %llu (an entry is "
                                  "missing, added or reordered)",
                                  who, (unsigned long long)want, (unsigned long long)e.seq);
        if (strcmp(e.item, item) != 0)
            evidence_report_fault(rep, "%s: custody entry %llu: belongs to another item", who,
                                  (unsigned long long)want);
        if (!e.hash_ok)
            evidence_report_fault(rep,
                                  "%s: custody entry %llu (%s): hash mismatch: the entry "
                                  "was changed",
                                  who, (unsigned long long)want, e.action);
        if (memcmp(e.prev, prev, 32) != 0)
            evidence_report_fault(rep,
                                  "%s: custody entry %llu (%s): does not chain on the "
                                  "entry before it",
                                  who, (unsigned long long)want, e.action);
        s = evidence_seals_find(seals, EVIDENCE_SEAL_CUSTODY, e.hash);
        if (!s)
            evidence_report_fault(rep,
                                  "%s: custody entry %llu (%s): not sealed (no seal "
                                  "signs its hash)",
                                  who, (unsigned long long)want, e.action);
        if (want == 1) {
            if (strcmp(e.action, "add") != 0)
                evidence_report_fault(rep, "%s: custody entry 1 is not the add", who);
            if (ret_add_sha256)
                (void)details_string(e.details, e.details_len, "sha256", ret_add_sha256, 65);
            if (ret_holder)
                (void)details_string(e.details, e.details_len, "custodian", ret_holder, holder_cap);
        } else if (strcmp(e.action, "transfer") == 0 && ret_holder) {
            if (details_string(e.details, e.details_len, "from", tmp, sizeof(tmp)) < 0 ||
                strcmp(tmp, ret_holder) != 0)
                evidence_report_fault(rep,
                                      "%s: custody entry %llu: transfer from '%s' while "
                                      "the custodian was '%s'",
                                      who, (unsigned long long)want, tmp, ret_holder);
            (void)details_string(e.details, e.details_len, "to", ret_holder, holder_cap);
        }
        memcpy(prev, e.hash, 32);
        want++;
    }
    if (r < 0)
        evidence_report_fault(rep, "%s: custody log: malformed after entry %llu", who,
                              (unsigned long long)(want - 1));
    if (want == 1 && rep->faults == before)
        evidence_report_fault(rep, "%s: custody log is empty", who);
    if (rep->faults == before)
        rep->checked++;
    free(line);
    return 0;
}
