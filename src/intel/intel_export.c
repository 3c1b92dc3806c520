/*
 * intel_export.c - the store's indicators written for others: a STIX 2.1
 * bundle, a MISP event and CSV for `hikeshi intel export`, and the STIX
 * indicator objects the TAXII server serves (api_taxii.c).
 *
 * Every way out goes through intel_export_collect, which applies the
 * Traffic Light Protocol once: TLP:RED never leaves, and nothing more
 * restricted than the reader's allowance is even read into memory.
 * Object ids are derived from what they name (a keyed hash of type, value
 * and feed), so a peer polling twice sees the same indicator under the
 * same id and can replace it rather than duplicate it.
 */
#include "intel/intel_export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "event/time.h"
#include "store/store.h"
#include "store/store_intel.h"
#include "util/jp.h"

/* OASIS's TLP 2.0 marking definitions (the STIX extension
 * extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d). */
static const char *const tlp_marking[INTEL_TLP_COUNT] = {
    [INTEL_TLP_CLEAR] = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    [INTEL_TLP_GREEN] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    [INTEL_TLP_AMBER] = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    [INTEL_TLP_AMBER_STRICT] = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    [INTEL_TLP_RED] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};

const char *intel_export_tlp_marking(enum intel_tlp t)
{
    return (unsigned)t < INTEL_TLP_COUNT ? tlp_marking[t] : NULL;
}

int intel_export_tlp_allowed(int tlp, int tlp_max)
{
    if (tlp < 0 || tlp >= INTEL_TLP_RED)
        return 0;
    return tlp <= tlp_max;
}

/* ------------------------------------------------------------------ */
/* Patterns                                                            */

static const char *const pattern_path[INTEL_TYPE_COUNT] = {
    [INTEL_IPV4] = "ipv4-addr:value",
    [INTEL_IPV6] = "ipv6-addr:value",
    [INTEL_DOMAIN] = "domain-name:value",
    [INTEL_HOSTNAME] = "domain-name:value",
    [INTEL_URL] = "url:value",
    [INTEL_EMAIL] = "email-addr:value",
    [INTEL_MD5] = "file:hashes.MD5",
    [INTEL_SHA1] = "file:hashes.'SHA-1'",
    [INTEL_SHA256] = "file:hashes.'SHA-256'",
    [INTEL_JA3] = "network-traffic:extensions.'x-ja3'.value",
    [INTEL_USER_AGENT] = ("network-traffic:extensions.'http-request-ext'.request_header."
                          "'User-Agent'"),
    [INTEL_REGKEY] = "windows-registry-key:key",
    [INTEL_PROCESS] = "process:name",
    [INTEL_URL_PATTERN] = "url:value", /* with MATCHES */
    [INTEL_JA4] = "network-traffic:extensions.'x-ja4'.value",
};

int intel_export_pattern(struct buf *b, enum intel_type t, const char *value)
{
    int r;

    if ((unsigned)t >= INTEL_TYPE_COUNT || !pattern_path[t])
        return -EINVAL;
    if ((r = buf_printf(b, "[%s %s '", pattern_path[t], t == INTEL_URL_PATTERN ? "MATCHES" : "=")) <
        0)
        return r;
    /* A STIX string constant ends at an unescaped quote: quote and
     * backslash are the two characters that must be escaped. */
    for (const char *p = value; *p; p++) {
        if ((*p == '\'' || *p == '\\') && (r = buf_putc(b, '\\')) < 0)
            return r;
        if ((r = buf_putc(b, *p)) < 0)
            return r;
    }
    return buf_puts(b, "']");
}

/* ------------------------------------------------------------------ */
/* The set                                                             */

struct exp_row {
    int64_t id;
    int type; /* enum intel_type */
    int tlp;  /* enum intel_tlp */
    int confidence;
    char *value, *feed, *tags;
    int64_t first_seen_us, last_seen_us, valid_until_us;
    int64_t sightings, first_sighted_us, last_sighted_us;
};

/* An incident's scope is bounded: its first EXPORT_SCOPE_ALERTS
 * aggregated alerts, EXPORT_SCOPE_ALERTS alerts of each, and at most
 * EXPORT_SCOPE_BYTES of distinct pairs (16 MiB: thousands of indicators,
 * far more than one incident sights). */
#define EXPORT_SCOPE_ALERTS 4096
#define EXPORT_SCOPE_BYTES ((size_t)16 << 20)
#define EXPORT_SCOPE_PAGE 64 /* alerts read at once (each up to ~400 KiB as JSON) */

/* An incident's scope: the (type, value) pairs its alerts were enriched
 * with, each "type\0value\0" in `b`; NULL scope: the whole store. */
struct exp_scope {
    struct buf b;
    size_t n;
};

struct intel_export_set {
    struct exp_row *rows;
    size_t n, cap;
    size_t withheld;
    int tlp_max;
    const struct exp_scope *scope;
};

static void row_free(struct exp_row *r)
{
    free(r->value);
    free(r->feed);
    free(r->tags);
}

void intel_export_set_free(struct intel_export_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        row_free(&s->rows[i]);
    free(s->rows);
    free(s);
}

/* 1 when (type, value) is one of the scope's pairs.  An incident holds
 * few, so a linear walk is enough. */
static int scope_has(const struct exp_scope *sc, const char *type, const char *value)
{
    const char *p = sc->b.data, *end;

    if (!p)
        return 0;
    end = p + sc->b.len;
    while (p < end) {
        const char *v = p + strlen(p) + 1;

        if (strcmp(p, type) == 0 && strcmp(v, value) == 0)
            return 1;
        p = v + strlen(v) + 1;
    }
    return 0;
}

static int collect_row(void *ctx, const struct store_intel_row *r)
{
    struct intel_export_set *s = ctx;
    int tlp = intel_tlp_parse(r->tlp, strlen(r->tlp));
    int type = intel_type_parse(r->type);
    struct exp_row *x;

    if (s->scope && !scope_has(s->scope, r->type, r->value))
        return 0;
    /* A row whose TLP we cannot read is treated as the most restricted. */
    if (type < 0 || !intel_export_tlp_allowed(tlp, s->tlp_max)) {
        s->withheld++;
        return 0;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 256;
        struct exp_row *nr = realloc(s->rows, nc * sizeof(*nr));

        if (!nr)
            return -ENOMEM;
        s->rows = nr;
        s->cap = nc;
    }
    x = &s->rows[s->n];
    *x = (struct exp_row){
        .id = r->id,
        .type = type,
        .tlp = tlp,
        .confidence = r->confidence,
        .value = strdup(r->value),
        .feed = strdup(r->feed),
        .tags = strdup(r->tags ? r->tags : ""),
        .first_seen_us = r->first_seen_us,
        .last_seen_us = r->last_seen_us,
        .valid_until_us = r->valid_until_us,
        .sightings = r->sightings,
        .first_sighted_us = r->first_sighted_us,
        .last_sighted_us = r->last_sighted_us,
    };
    if (!x->value || !x->feed || !x->tags) {
        row_free(x);
        return -ENOMEM;
    }
    s->n++;
    return 0;
}

static int by_added(const void *a, const void *b)
{
    const struct exp_row *x = a, *y = b;

    if (x->first_seen_us != y->first_seen_us)
        return x->first_seen_us < y->first_seen_us ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int collect(struct store *st, int tlp_max, const struct exp_scope *scope,
                   struct intel_export_set **ret)
{
    struct intel_export_set *s = calloc(1, sizeof(*s));
    int r;

    *ret = NULL;
    if (!s)
        return -ENOMEM;
    s->tlp_max = tlp_max;
    s->scope = scope;
    if ((r = store_intel_each(st, NULL, collect_row, s)) < 0) {
        intel_export_set_free(s);
        return r == -ENOMEM ? r : -EIO;
    }
    if (s->n > 1)
        qsort(s->rows, s->n, sizeof(s->rows[0]), by_added);
    s->scope = NULL; /* the caller's, gone after the collection */
    *ret = s;
    return 0;
}

int intel_export_collect(struct store *st, int tlp_max, struct intel_export_set **ret)
{
    return collect(st, tlp_max, NULL, ret);
}

/* The strings of one field value: a string, or an array of strings (a
 * field set more than once), appended to `out` NUL-terminated each, in
 * order.  Other values are none.  0 or the buffer's error. */
static int field_strings(struct jp_span v, struct buf *out, size_t *n)
{
    struct jp_iter it;
    struct jp_span e;
    struct buf t;
    int r = 0;

    buf_init(&t, INTEL_VALUE_MAX + 8);
    if (v.len && v.p[0] == '"') {
        if ((r = jp_text(v, &t, 0)) == 0 && (r = buf_append(out, t.data, t.len)) == 0 &&
            (r = buf_putc(out, '\0')) == 0)
            (*n)++;
    } else if (v.len && v.p[0] == '[' && jp_iter_init(&it, v) == 0) {
        while (r == 0 && jp_iter_next(&it, NULL, &e) == 1) {
            if (!e.len || e.p[0] != '"')
                continue;
            t.len = 0;
            if ((r = jp_text(e, &t, 0)) == 0 && (r = buf_append(out, t.data, t.len)) == 0 &&
                (r = buf_putc(out, '\0')) == 0)
                (*n)++;
        }
    }
    buf_done(&t);
    /* a value too long for an indicator is none: skip it, not fail */
    return r == -E2BIG ? 0 : r;
}

/* Adds the (type, value) pairs of one alert's fields to the scope: the
 * i-th threat.indicator.type with the i-th threat.indicator.value, as the
 * enrich step appends them together (intel_match.c). */
static int scope_add_fields(struct exp_scope *sc, struct jp_span fields)
{
    struct jp_span k, v, tv = {NULL, 0}, vv = {NULL, 0};
    struct jp_iter it;
    struct buf types, values;
    size_t nt = 0, nv = 0;
    int r = 0;

    if (jp_iter_init(&it, fields) < 0)
        return 0;
    while (jp_iter_next(&it, &k, &v) == 1) {
        if (jp_key_is(k, "threat.indicator.type"))
            tv = v;
        else if (jp_key_is(k, "threat.indicator.value"))
            vv = v;
    }
    if (!tv.p || !vv.p)
        return 0;
    buf_init(&types, EXPORT_SCOPE_BYTES);
    buf_init(&values, EXPORT_SCOPE_BYTES);
    if ((r = field_strings(tv, &types, &nt)) == 0)
        r = field_strings(vv, &values, &nv);
    for (size_t i = 0; r == 0 && i < nt && i < nv; i++) {
        const char *t = types.data, *x = values.data;

        for (size_t j = 0; j < i; j++) {
            t += strlen(t) + 1;
            x += strlen(x) + 1;
        }
        if (scope_has(sc, t, x))
            continue;
        if ((r = buf_append(&sc->b, t, strlen(t) + 1)) == 0 &&
            (r = buf_append(&sc->b, x, strlen(x) + 1)) == 0)
            sc->n++;
    }
    buf_done(&types);
    buf_done(&values);
    return r;
}

int intel_export_collect_incident(struct store *st, int64_t incident, int tlp_max,
                                  struct intel_export_set **ret, size_t *ret_sighted)
{
    uint64_t *ids = calloc(EXPORT_SCOPE_ALERTS, sizeof(*ids));
    struct exp_scope sc;
    struct buf ev;
    size_t nids = 0;
    int r;

    *ret = NULL;
    *ret_sighted = 0;
    if (!ids)
        return -ENOMEM;
    buf_init(&sc.b, EXPORT_SCOPE_BYTES);
    sc.n = 0;
    buf_init(&ev, (size_t)64 << 20);
    r = store_incident_agg_ids(st, incident, ids, EXPORT_SCOPE_ALERTS, &nids);
    if (r < 0)
        r = r == -ENOMEM ? r : -EIO;
    for (size_t i = 0; r == 0 && i < nids; i++) {
        size_t n = EXPORT_SCOPE_PAGE;

        /* a page at a time: an alert's raw record may be 64 KiB */
        for (int64_t off = 0; r == 0 && n == EXPORT_SCOPE_PAGE && off < EXPORT_SCOPE_ALERTS;
             off += EXPORT_SCOPE_PAGE) {
            struct jp_span doc, e, f;
            struct jp_iter it;

            ev.len = 0;
            n = 0;
            if ((r = buf_putc(&ev, '[')) < 0)
                break;
            r = store_agg_events_json(st, (int64_t)ids[i], EXPORT_SCOPE_PAGE, off, &ev, &n);
            if (r == -ENOENT) { /* removed since its id was read */
                r = 0;
                break;
            }
            if (r < 0) {
                r = r == -ENOMEM || r == -E2BIG ? -ENOMEM : -EIO;
                break;
            }
            if ((r = buf_putc(&ev, ']')) < 0)
                break;
            if (jp_doc(ev.data, ev.len, &doc, NULL) < 0 || jp_iter_init(&it, doc) < 0)
                continue; /* not ours to judge: an unreadable page adds nothing */
            while (r == 0 && jp_iter_next(&it, NULL, &e) == 1)
                if (jp_lookup(e, "fields", &f) == 0)
                    r = scope_add_fields(&sc, f);
        }
    }
    if (r == 0) {
        *ret_sighted = sc.n;
        r = collect(st, tlp_max, &sc, ret);
    }
    buf_done(&ev);
    buf_done(&sc.b);
    free(ids);
    return r;
}

size_t intel_export_count(const struct intel_export_set *s)
{
    return s->n;
}

int64_t intel_export_added_us(const struct intel_export_set *s, size_t i)
{
    return i < s->n ? s->rows[i].first_seen_us : 0;
}

size_t intel_export_withheld(const struct intel_export_set *s)
{
    return s->withheld;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

void intel_export_time(int64_t us, char out[32])
{
    char t[40];
    size_t n = time_format_iso(us, t, sizeof(t));

    /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" -> milliseconds, as STIX writes them. */
    if (n >= 24) {
        memcpy(out, t, 23);
        out[23] = 'Z';
        out[24] = '\0';
    } else {
        memcpy(out, t, n < 31 ? n + 1 : 31);
        out[31] = '\0';
    }
}

/*
 * A STIX id "TYPE--UUID" for what `a` and `b` name: the UUID is the first
 * 16 bytes of a BLAKE2b hash of (TYPE, a, b) with the version 5 and
 * variant bits set, so the same indicator keeps its id from one export to
 * the next.  out[96].
 */
static void stix_id(const char *type, const char *a, const char *b, char out[96])
{
    unsigned char h[16];
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)type, strlen(type) + 1);
    crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1);
    crypto_generichash_update(&st, (const unsigned char *)b, strlen(b) + 1);
    crypto_generichash_final(&st, h, sizeof(h));
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    snprintf(out, 96,
             "%s--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", type,
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
             h[13], h[14], h[15]);
}

static void uuid_of(const char *stix, char out[40])
{
    const char *p = strstr(stix, "--");
    size_t n;

    p = p ? p + 2 : stix;
    n = strnlen(p, 39);
    memcpy(out, p, n);
    out[n] = '\0';
}

static int json_s(struct buf *b, const char *s)
{
    return buf_json_str(b, s, strlen(s));
}

/* Calls each() on every "kind:value" of a tag list; a tag without a known
 * kind is a label. */
static int each_tag(const char *tags, int (*each)(void *ctx, int kind, const char *v, size_t len),
                    void *ctx)
{
    const char *p = tags;

    while (p && *p) {
        const char *e = strchr(p, ';'), *c;
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int kind = INTEL_TAG_LABEL, r;

        c = memchr(p, ':', len);
        if (c) {
            for (int k = 0; k < INTEL_TAG_KIND_COUNT; k++) {
                const char *kn = intel_tag_kind_name((enum intel_tag_kind)k);

                if (kn && strlen(kn) == (size_t)(c - p) && memcmp(kn, p, (size_t)(c - p)) == 0) {
                    kind = k;
                    len -= (size_t)(c - p) + 1;
                    p = c + 1;
                    break;
                }
            }
        }
        if (len && (r = each(ctx, kind, p, len)) < 0)
            return r;
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* STIX                                                                */

struct stix_w {
    struct buf *b;
    const char *identity_id;
    const struct exp_row *row;
    const char *ind_id;
    int first;      /* no object written yet */
    int in_array;   /* each_tag writing into an array (labels, phases) */
    int want;       /* the tag kind each_tag writes */
    char created[32];
};

static int stix_sep(struct stix_w *w)
{
    if (w->first) {
        w->first = 0;
        return 0;
    }
    return buf_putc(w->b, ',');
}

/* Common properties of an SDO/SRO: type, id, spec_version, created,
 * modified, created_by_ref, and the marking of its indicator. */
static int stix_head(struct stix_w *w, const char *type, const char *id, const char *created,
                     const char *modified, int tlp)
{
    struct buf *b = w->b;
    int r;

    if ((r = stix_sep(w)) < 0 ||
        (r = buf_printf(b, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                           "\"created\":\"%s\",\"modified\":\"%s\"",
                        type, id, created, modified)) < 0)
        return r;
    if (w->identity_id && (r = buf_printf(b, ",\"created_by_ref\":\"%s\"", w->identity_id)) < 0)
        return r;
    if (tlp >= 0)
        r = buf_printf(b, ",\"object_marking_refs\":[\"%s\"]",
                       intel_export_tlp_marking((enum intel_tlp)tlp));
    return r;
}

static int tag_list(void *ctx, int kind, const char *v, size_t len)
{
    struct stix_w *w = ctx;
    int r;

    if (kind != w->want)
        return 0;
    if (w->in_array++ && (r = buf_putc(w->b, ',')) < 0)
        return r;
    if (kind == INTEL_TAG_PHASE) {
        if ((r = buf_puts(w->b, "{\"kill_chain_name\":\"hikeshi\",\"phase_name\":")) < 0 ||
            (r = buf_json_str(w->b, v, len)) < 0)
            return r;
        return buf_putc(w->b, '}');
    }
    return buf_json_str(w->b, v, len);
}

/* `key` and the tags of one kind as an array, or nothing when there are
 * none: STIX wants no empty list. */
static int tag_array(struct stix_w *w, const char *tags, int kind, const char *key)
{
    size_t mark = w->b->len;
    int r;

    w->want = kind;
    w->in_array = 0;
    if ((r = buf_puts(w->b, key)) < 0 || (r = each_tag(tags, tag_list, w)) < 0 ||
        (r = buf_putc(w->b, ']')) < 0)
        return r;
    if (w->in_array == 0) {
        w->b->len = mark;
        w->b->data[mark] = '\0';
    }
    return 0;
}

static int stix_indicator(struct stix_w *w, const struct exp_row *x, const char *id)
{
    struct buf *b = w->b;
    char fs[32], ls[32], vu[32];
    int r;

    intel_export_time(x->first_seen_us, fs);
    intel_export_time(x->last_seen_us > x->first_seen_us ? x->last_seen_us : x->first_seen_us, ls);
    if ((r = stix_head(w, "indicator", id, fs, ls, x->tlp)) < 0 ||
        (r = buf_puts(b, ",\"name\":")) < 0 || (r = json_s(b, x->value)) < 0 ||
        (r = buf_puts(b, ",\"pattern\":")) < 0)
        return r;
    {
        struct buf pb;

        buf_init(&pb, 4 * INTEL_VALUE_MAX);
        r = intel_export_pattern(&pb, (enum intel_type)x->type, x->value);
        if (r == 0)
            r = buf_json_str(b, pb.data, pb.len);
        buf_done(&pb);
        if (r < 0)
            return r;
    }
    if ((r = buf_printf(b, ",\"pattern_type\":\"stix\",\"valid_from\":\"%s\"", fs)) < 0)
        return r;
    /* valid_until must lie after valid_from; an expiry already passed at
     * the first import says nothing a peer can use. */
    if (x->valid_until_us > x->first_seen_us) {
        intel_export_time(x->valid_until_us, vu);
        if ((r = buf_printf(b, ",\"valid_until\":\"%s\"", vu)) < 0)
            return r;
    }
    if ((r = buf_printf(b, ",\"confidence\":%d", x->confidence < 0 ? 0 : x->confidence > 100 ? 100 : x->confidence)) < 0)
        return r;
    if ((r = tag_array(w, x->tags, INTEL_TAG_LABEL, ",\"labels\":[")) < 0 ||
        (r = tag_array(w, x->tags, INTEL_TAG_PHASE, ",\"kill_chain_phases\":[")) < 0)
        return r;
    if ((r = buf_puts(b, ",\"x_hikeshi_feed\":")) < 0 || (r = json_s(b, x->feed)) < 0 ||
        (r = buf_printf(b, ",\"x_hikeshi_type\":\"%s\"}",
                        intel_type_name((enum intel_type)x->type))) < 0)
        return r;
    return 0;
}

/* A malware, campaign, intrusion-set or attack-pattern object for a tag,
 * and the indicator's `indicates` relationship to it. */
static int stix_related(void *ctx, int kind, const char *v, size_t len)
{
    struct stix_w *w = ctx;
    const struct exp_row *x = w->row;
    char name[INTEL_TAG_MAX + 1], id[96], rid[96];
    const char *type;
    int r;

    switch (kind) {
    case INTEL_TAG_MALWARE: type = "malware"; break;
    case INTEL_TAG_CAMPAIGN: type = "campaign"; break;
    case INTEL_TAG_ACTOR: type = "intrusion-set"; break;
    case INTEL_TAG_ATTACK: type = "attack-pattern"; break;
    default: return 0;
    }
    if (len > INTEL_TAG_MAX)
        len = INTEL_TAG_MAX;
    memcpy(name, v, len);
    name[len] = '\0';
    /* One object per name and indicator: the same name under two
     * indicators is two objects with one id each time (a consumer merges
     * them by id), which keeps the writer free of a table of names. */
    stix_id(type, name, "", id);
    if ((r = stix_head(w, type, id, w->created, w->created, x->tlp)) < 0 ||
        (r = buf_puts(w->b, ",\"name\":")) < 0 || (r = json_s(w->b, name)) < 0)
        return r;
    if (kind == INTEL_TAG_MALWARE && (r = buf_puts(w->b, ",\"is_family\":true")) < 0)
        return r;
    if (kind == INTEL_TAG_ATTACK &&
        ((r = buf_puts(w->b, ",\"external_references\":[{\"source_name\":\"mitre-attack\","
                             "\"external_id\":")) < 0 ||
         (r = json_s(w->b, name)) < 0 || (r = buf_puts(w->b, "}]")) < 0))
        return r;
    if ((r = buf_putc(w->b, '}')) < 0)
        return r;
    stix_id("relationship", w->ind_id, id, rid);
    if ((r = stix_head(w, "relationship", rid, w->created, w->created, x->tlp)) < 0)
        return r;
    return buf_printf(w->b,
                      ",\"relationship_type\":\"indicates\",\"source_ref\":\"%s\","
                      "\"target_ref\":\"%s\"}",
                      w->ind_id, id);
}

static int stix_sighting(struct stix_w *w, const struct exp_row *x, const char *ind_id)
{
    char id[96], fs[32], ls[32];
    int64_t count = x->sightings > 999999999 ? 999999999 : x->sightings;
    int r;

    stix_id("sighting", ind_id, "", id);
    intel_export_time(x->first_sighted_us, fs);
    intel_export_time(x->last_sighted_us > x->first_sighted_us ? x->last_sighted_us
                                                                : x->first_sighted_us,
                      ls);
    if ((r = stix_head(w, "sighting", id, fs, ls, x->tlp)) < 0)
        return r;
    return buf_printf(w->b,
                      ",\"sighting_of_ref\":\"%s\",\"count\":%lld,\"first_seen\":\"%s\","
                      "\"last_seen\":\"%s\",\"where_sighted_refs\":[\"%s\"]}",
                      ind_id, (long long)count, fs, ls, w->identity_id);
}

static int stix_bundle(const struct intel_export_set *s, const struct intel_export_opts *o,
                       struct buf *b)
{
    const char *name = o->identity ? o->identity : "hikeshi";
    unsigned char rnd[16];
    char ident[96], now[32], bid[96];
    struct stix_w w = {.b = b, .first = 1};
    int r;

    /* A bundle is a container with no meaning of its own: a random
     * version 4 id. */
    randombytes_buf(rnd, sizeof(rnd));
    rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40);
    rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
    snprintf(bid, sizeof(bid),
             "bundle--%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9],
             rnd[10], rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
    stix_id("identity", name, "", ident);
    intel_export_time(o->now_us, now);
    if ((r = buf_printf(b, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", bid)) < 0)
        return r;
    if ((r = stix_head(&w, "identity", ident, now, now, -1)) < 0 ||
        (r = buf_puts(b, ",\"name\":")) < 0 || (r = json_s(b, name)) < 0 ||
        (r = buf_puts(b, ",\"identity_class\":\"organization\"}")) < 0)
        return r;
    w.identity_id = ident;
    for (size_t i = 0; i < s->n; i++) {
        const struct exp_row *x = &s->rows[i];
        char id[96];

        stix_id("indicator", intel_type_name((enum intel_type)x->type), x->value, id);
        if ((r = stix_indicator(&w, x, id)) < 0)
            return r;
        if (x->sightings > 0 && x->first_sighted_us > 0 && (r = stix_sighting(&w, x, id)) < 0)
            return r;
        w.row = x;
        w.ind_id = id;
        intel_export_time(x->first_seen_us, w.created);
        if ((r = each_tag(x->tags, stix_related, &w)) < 0)
            return r;
    }
    return buf_puts(b, "]}\n");
}

int intel_export_stix_objects(const struct intel_export_set *s, size_t from, size_t to,
                              const struct intel_export_opts *o, struct buf *b)
{
    char ident[96];
    struct stix_w w = {.b = b, .first = 1};
    int r;

    stix_id("identity", o->identity ? o->identity : "hikeshi", "", ident);
    w.identity_id = ident;
    for (size_t i = from; i < to && i < s->n; i++) {
        const struct exp_row *x = &s->rows[i];
        char id[96];

        stix_id("indicator", intel_type_name((enum intel_type)x->type), x->value, id);
        if ((r = stix_indicator(&w, x, id)) < 0)
            return r;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* MISP                                                                */

static const struct {
    const char *type, *category;
} misp_types[INTEL_TYPE_COUNT] = {
    [INTEL_IPV4] = {"ip-dst", "Network activity"},
    [INTEL_IPV6] = {"ip-dst", "Network activity"},
    [INTEL_DOMAIN] = {"domain", "Network activity"},
    [INTEL_HOSTNAME] = {"hostname", "Network activity"},
    [INTEL_URL] = {"url", "Network activity"},
    [INTEL_EMAIL] = {"email-src", "Payload delivery"},
    [INTEL_MD5] = {"md5", "Payload delivery"},
    [INTEL_SHA1] = {"sha1", "Payload delivery"},
    [INTEL_SHA256] = {"sha256", "Payload delivery"},
    [INTEL_JA3] = {"ja3-fingerprint-md5", "Network activity"},
    [INTEL_USER_AGENT] = {"user-agent", "Network activity"},
    [INTEL_REGKEY] = {"regkey", "Persistence mechanism"},
    [INTEL_PROCESS] = {NULL, NULL}, /* MISP has no type for a process name */
    /* nor for a URL regex: its `url` is one exact URL, and a consumer
     * exporting it to an IDS would look the regex up as a literal URL */
    [INTEL_URL_PATTERN] = {NULL, NULL},
    /* MISP's type lists we hold (none here) name no JA4 type; a made-up
     * one would be refused or misread by a peer's MISP */
    [INTEL_JA4] = {NULL, NULL},
};

/* MISP's distribution levels for a TLP: AMBER stays in our organisation,
 * GREEN in the community, CLEAR goes to all. */
static int misp_distribution(int tlp)
{
    return tlp == INTEL_TLP_CLEAR ? 3 : tlp == INTEL_TLP_GREEN ? 1 : 0;
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t i = 0;

    for (; s[i] && i + 1 < cap; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = '\0';
}

struct misp_w {
    struct buf *b;
};

static int misp_tag(void *ctx, int kind, const char *v, size_t len)
{
    struct buf *b = ((struct misp_w *)ctx)->b;
    char t[2 * INTEL_TAG_MAX + 64];
    int n;

    if (len > INTEL_TAG_MAX)
        len = INTEL_TAG_MAX;
    switch (kind) {
    case INTEL_TAG_ATTACK:
        /* Our importer and MISP's galaxies read the technique id after " - ". */
        n = snprintf(t, sizeof(t), "misp-galaxy:mitre-attack-pattern=\"%.*s - %.*s\"", (int)len,
                     v, (int)len, v);
        break;
    case INTEL_TAG_PHASE: n = snprintf(t, sizeof(t), "kill-chain:%.*s", (int)len, v); break;
    case INTEL_TAG_ACTOR:
        n = snprintf(t, sizeof(t), "misp-galaxy:threat-actor=\"%.*s\"", (int)len, v);
        break;
    case INTEL_TAG_MALWARE:
        n = snprintf(t, sizeof(t), "misp-galaxy:malpedia=\"%.*s\"", (int)len, v);
        break;
    default: n = snprintf(t, sizeof(t), "%.*s", (int)len, v); break;
    }
    if (n < 0)
        return -EINVAL;
    if (buf_puts(b, ",{\"name\":") < 0 || buf_json_str(b, t, strlen(t)) < 0 || buf_putc(b, '}') < 0)
        return -E2BIG;
    return 0;
}

static int misp_event(const struct intel_export_set *s, const struct intel_export_opts *o,
                      struct buf *b, size_t *ret_skipped)
{
    const char *name = o->identity ? o->identity : "hikeshi";
    char eid[96], euuid[40], now[32], tl[32];
    int least = INTEL_TLP_RED, most = INTEL_TLP_CLEAR, first = 1, r;
    size_t skipped = 0;
    struct misp_w mw = {b};

    for (size_t i = 0; i < s->n; i++) {
        if (s->rows[i].tlp < least)
            least = s->rows[i].tlp;
        if (s->rows[i].tlp > most)
            most = s->rows[i].tlp;
    }
    if (s->n == 0)
        least = most = INTEL_TLP_CLEAR;
    intel_export_time(o->now_us, now);
    {
        char nowus[32];

        snprintf(nowus, sizeof(nowus), "%lld", (long long)o->now_us);
        stix_id("event", name, nowus, eid);
    }
    uuid_of(eid, euuid);
    lower(intel_tlp_name((enum intel_tlp)least), tl, sizeof(tl));
    /* The event's TLP tag is the least restrictive of its attributes: our
     * importer (like MISP) takes the most restrictive of the event's and
     * the attribute's tags, so each attribute keeps its own. */
    {
        char info[300];

        snprintf(info, sizeof(info), "Indicators shared by %s", name);
        if ((r = buf_printf(b, "{\"Event\":{\"uuid\":\"%s\",\"info\":", euuid)) < 0 ||
            (r = json_s(b, info)) < 0)
            return r;
    }
    if ((r = buf_printf(b,
                        ",\"date\":\"%.10s\",\"timestamp\":\"%lld\",\"published\":false,"
                        "\"analysis\":\"2\",\"threat_level_id\":\"4\",\"distribution\":\"%d\","
                        "\"Orgc\":{\"name\":",
                        now, (long long)(o->now_us / 1000000), misp_distribution(most))) < 0 ||
        (r = json_s(b, name)) < 0 ||
        (r = buf_printf(b, "},\"Tag\":[{\"name\":\"tlp:%s\"}],\"Attribute\":[", tl)) < 0)
        return r;
    for (size_t i = 0; i < s->n; i++) {
        const struct exp_row *x = &s->rows[i];
        char aid[96], auuid[40], ts[32];

        if (!misp_types[x->type].type) {
            skipped++;
            continue;
        }
        stix_id("attribute", intel_type_name((enum intel_type)x->type), x->value, aid);
        uuid_of(aid, auuid);
        lower(intel_tlp_name((enum intel_tlp)x->tlp), tl, sizeof(tl));
        intel_export_time(x->first_seen_us, ts);
        if ((r = buf_printf(b,
                            "%s{\"uuid\":\"%s\",\"type\":\"%s\",\"category\":\"%s\",\"value\":",
                            first ? "" : ",", auuid, misp_types[x->type].type,
                            misp_types[x->type].category)) < 0 ||
            (r = json_s(b, x->value)) < 0 ||
            (r = buf_printf(b,
                            ",\"to_ids\":true,\"distribution\":\"%d\",\"timestamp\":\"%lld\","
                            "\"first_seen\":\"%s\",\"comment\":",
                            misp_distribution(x->tlp), (long long)(x->last_seen_us / 1000000),
                            ts)) < 0)
            return r;
        {
            char cm[300];

            snprintf(cm, sizeof(cm), "feed %s, confidence %d", x->feed, x->confidence);
            if ((r = json_s(b, cm)) < 0)
                return r;
        }
        if ((r = buf_printf(b, ",\"Tag\":[{\"name\":\"tlp:%s\"}", tl)) < 0 ||
            (r = each_tag(x->tags, misp_tag, &mw)) < 0 || (r = buf_puts(b, "]}")) < 0)
            return r;
        first = 0;
    }
    if (ret_skipped)
        *ret_skipped = skipped;
    return buf_puts(b, "]}}\n");
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

/* One field, quoted (RFC 4180) when it holds a comma, a quote or a line
 * break. */
static int csv_field(struct buf *b, const char *s, int last)
{
    int r;

    if (strpbrk(s, ",\"\r\n")) {
        if ((r = buf_putc(b, '"')) < 0)
            return r;
        for (; *s; s++)
            if ((*s == '"' && (r = buf_putc(b, '"')) < 0) || (r = buf_putc(b, *s)) < 0)
                return r;
        if ((r = buf_putc(b, '"')) < 0)
            return r;
    } else if ((r = buf_puts(b, s)) < 0) {
        return r;
    }
    return buf_putc(b, last ? '\n' : ',');
}

static int csv_write(const struct intel_export_set *s, struct buf *b)
{
    int r = buf_puts(b, "type,value,feed,confidence,tlp,first_seen,last_seen,valid_until,"
                        "sightings,tags\n");

    for (size_t i = 0; r == 0 && i < s->n; i++) {
        const struct exp_row *x = &s->rows[i];
        char fs[32], ls[32], vu[32] = "";

        intel_export_time(x->first_seen_us, fs);
        intel_export_time(x->last_seen_us, ls);
        if (x->valid_until_us)
            intel_export_time(x->valid_until_us, vu);
        if ((r = csv_field(b, intel_type_name((enum intel_type)x->type), 0)) < 0 ||
            (r = csv_field(b, x->value, 0)) < 0 || (r = csv_field(b, x->feed, 0)) < 0)
            break;
        r = buf_printf(b, "%d,%s,%s,%s,%s,%lld,", x->confidence,
                       intel_tlp_name((enum intel_tlp)x->tlp), fs, ls, vu,
                       (long long)x->sightings);
        if (r == 0)
            r = csv_field(b, x->tags, 1);
    }
    return r;
}

int intel_export_write(const struct intel_export_set *s, const struct intel_export_opts *o,
                       struct buf *b, size_t *ret_skipped)
{
    if (ret_skipped)
        *ret_skipped = 0;
    switch (o->format) {
    case INTEL_EXPORT_STIX: return stix_bundle(s, o, b);
    case INTEL_EXPORT_MISP: return misp_event(s, o, b, ret_skipped);
    case INTEL_EXPORT_CSV: return csv_write(s, b);
    }
    return -EINVAL;
}
