/*
 * intel_stix.c - STIX 2.1 bundles to indicators: each indicator object's
 * pattern (the subset intel_pattern.c reads), its confidence, validity,
 * TLP marking, kill-chain phases and labels, and the names of the malware,
 * intrusion sets, threat actors, campaigns and attack patterns the bundle's
 * relationships tie it to, as tags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel_priv.h"

/* Objects of a bundle remembered from the first pass (bounded by the file,
 * which the caller caps). */
#define STIX_ID_MAX 128
#define STIX_NAME_MAX INTEL_TAG_MAX

struct stix_named {
    char id[STIX_ID_MAX + 1];
    char name[STIX_NAME_MAX + 1];
    int kind; /* enum intel_tag_kind, or -1: a marking with tlp `tlp` */
    int tlp;
};

struct stix_rel {
    char src[STIX_ID_MAX + 1], dst[STIX_ID_MAX + 1];
};

struct stix {
    const struct intel_sink *s;
    struct stix_named *named;
    size_t nnamed, capnamed;
    struct stix_rel *rel;
    size_t nrel, caprel;
    struct intel_ind ind;
    char where[STIX_ID_MAX + 64];
    int taken; /* equalities taken from the current pattern */
};

/* The TLP marking definitions OASIS publishes with fixed ids (TLP 1.0 in
 * the STIX 2.1 specification, TLP 2.0 in its extension). */
static const struct {
    const char *id;
    enum intel_tlp tlp;
} tlp_ids[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", INTEL_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", INTEL_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", INTEL_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", INTEL_TLP_RED},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", INTEL_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", INTEL_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", INTEL_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", INTEL_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", INTEL_TLP_RED},
};

static int add_named(struct stix *x, const char *id, const char *name, int kind, int tlp)
{
    if (x->nnamed == x->capnamed) {
        size_t nc = x->capnamed ? 2 * x->capnamed : 32;
        struct stix_named *n = realloc(x->named, nc * sizeof(*n));
        if (!n)
            return -ENOMEM;
        x->named = n;
        x->capnamed = nc;
    }
    snprintf(x->named[x->nnamed].id, sizeof(x->named[0].id), "%s", id);
    snprintf(x->named[x->nnamed].name, sizeof(x->named[0].name), "%s", name);
    x->named[x->nnamed].kind = kind;
    x->named[x->nnamed].tlp = tlp;
    x->nnamed++;
    return 0;
}

static const struct stix_named *find_named(const struct stix *x, const char *id)
{
    for (size_t i = 0; i < x->nnamed; i++)
        if (strcmp(x->named[i].id, id) == 0)
            return &x->named[i];
    return NULL;
}

static int named_kind(const char *type)
{
    if (strcmp(type, "malware") == 0)
        return INTEL_TAG_MALWARE;
    if (strcmp(type, "intrusion-set") == 0 || strcmp(type, "threat-actor") == 0)
        return INTEL_TAG_ACTOR;
    if (strcmp(type, "campaign") == 0)
        return INTEL_TAG_CAMPAIGN;
    if (strcmp(type, "attack-pattern") == 0)
        return INTEL_TAG_ATTACK;
    return -1;
}

/* An attack pattern's ATT&CK id (external_references, source_name
 * mitre-attack), else its name. */
static void attack_name(struct jp_span o, char *out, size_t cap)
{
    struct jp_span refs, el;
    struct jp_iter it;

    if (jp_lookup(o, "external_references", &refs) == 0 && jp_iter_init(&it, refs) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1) {
            char src[64], ext[64];
            if (intel_member_str(el, "source_name", src, sizeof(src) - 1) == 0 &&
                strcmp(src, "mitre-attack") == 0 &&
                intel_member_str(el, "external_id", ext, sizeof(ext) - 1) == 0) {
                snprintf(out, cap + 1, "%s", ext);
                return;
            }
        }
    if (intel_member_str(o, "name", out, cap) < 0)
        out[0] = '\0';
}

/* First pass: named objects, markings and relationships. */
static int collect(struct stix *x, struct jp_span o)
{
    char type[64], id[STIX_ID_MAX + 1], name[STIX_NAME_MAX + 1];
    int kind;

    if (intel_member_str(o, "type", type, sizeof(type) - 1) < 0 ||
        intel_member_str(o, "id", id, STIX_ID_MAX) < 0)
        return 0;
    if (strcmp(type, "relationship") == 0) {
        struct stix_rel r = {"", ""};
        if (intel_member_str(o, "source_ref", r.src, STIX_ID_MAX) < 0 ||
            intel_member_str(o, "target_ref", r.dst, STIX_ID_MAX) < 0)
            return 0;
        if (x->nrel == x->caprel) {
            size_t nc = x->caprel ? 2 * x->caprel : 32;
            struct stix_rel *n = realloc(x->rel, nc * sizeof(*n));
            if (!n)
                return -ENOMEM;
            x->rel = n;
            x->caprel = nc;
        }
        x->rel[x->nrel++] = r;
        return 0;
    }
    if (strcmp(type, "marking-definition") == 0) {
        struct jp_span def;
        char t[32] = "";
        int tlp = -1;
        if (jp_lookup(o, "definition", &def) == 0 &&
            intel_member_str(def, "tlp", t, sizeof(t) - 1) == 0)
            tlp = intel_tlp_parse(t, strlen(t));
        if (tlp < 0 && intel_member_str(o, "name", name, STIX_NAME_MAX) == 0)
            tlp = intel_tlp_parse(name, strlen(name));
        return tlp < 0 ? 0 : add_named(x, id, "", -1, tlp);
    }
    if ((kind = named_kind(type)) < 0)
        return 0;
    if (kind == INTEL_TAG_ATTACK)
        attack_name(o, name, STIX_NAME_MAX);
    else if (intel_member_str(o, "name", name, STIX_NAME_MAX) < 0)
        return 0;
    return name[0] ? add_named(x, id, name, kind, -1) : 0;
}

static int on_eq(void *ctx, const struct intel_pattern_eq *e)
{
    struct stix *x = ctx;
    int r = intel_emit(x->s, &x->ind, (int)e->type, e->value, e->len, x->where);

    if (r == 0)
        x->taken++;
    return r;
}

static void on_unsup(void *ctx, size_t off, const char *why)
{
    struct stix *x = ctx;
    char w[sizeof(x->where) + 40];

    snprintf(w, sizeof(w), "%s pattern byte %zu", x->where, off);
    intel_bad(x->s, w, why);
}

/* Tags and markings of indicator `o` (id `id`) into x->ind. */
static void indicator_meta(struct stix *x, struct jp_span o, const char *id)
{
    struct jp_span v, el;
    struct jp_iter it;
    int64_t c;
    char buf[STIX_NAME_MAX + 1];

    if (jp_lookup(o, "confidence", &v) == 0 && jp_span_i64(v, &c) == 0 && c >= 0 && c <= 100)
        x->ind.confidence = (int)c;
    if (jp_lookup(o, "valid_from", &v) == 0)
        (void)intel_span_time(v, &x->ind.valid_from_us);
    if (jp_lookup(o, "valid_until", &v) == 0)
        (void)intel_span_time(v, &x->ind.valid_until_us);
    if (jp_lookup(o, "kill_chain_phases", &v) == 0 && jp_iter_init(&it, v) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1)
            if (intel_member_str(el, "phase_name", buf, STIX_NAME_MAX) == 0)
                intel_ind_tag(&x->ind, INTEL_TAG_PHASE, buf, strlen(buf));
    if (jp_lookup(o, "labels", &v) == 0 && jp_iter_init(&it, v) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1)
            if (intel_span_str(el, buf, STIX_NAME_MAX) == 0)
                intel_ind_tag(&x->ind, INTEL_TAG_LABEL, buf, strlen(buf));
    if (jp_lookup(o, "object_marking_refs", &v) == 0 && jp_iter_init(&it, v) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1) {
            const struct stix_named *n;
            int tlp = -1;
            if (intel_span_str(el, buf, STIX_ID_MAX) < 0)
                continue;
            for (size_t i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++)
                if (strcmp(buf, tlp_ids[i].id) == 0)
                    tlp = (int)tlp_ids[i].tlp;
            if (tlp < 0 && (n = find_named(x, buf)) && n->kind < 0)
                tlp = n->tlp;
            if (tlp > x->ind.tlp) /* the most restrictive marking wins */
                x->ind.tlp = tlp;
        }
    for (size_t i = 0; i < x->nrel; i++) {
        const struct stix_named *n;
        if (strcmp(x->rel[i].src, id) == 0 && (n = find_named(x, x->rel[i].dst)) && n->kind >= 0)
            intel_ind_tag(&x->ind, (enum intel_tag_kind)n->kind, n->name, strlen(n->name));
    }
}

/* Second pass: one indicator object. */
static int indicator(struct stix *x, struct jp_span o)
{
    char type[64], id[STIX_ID_MAX + 1], ptype[32];
    struct jp_span pv;
    struct parse_err perr = {0, 0, 0, NULL};
    char *pat;
    int r;

    if (intel_member_str(o, "type", type, sizeof(type) - 1) < 0 || strcmp(type, "indicator") != 0)
        return 0;
    if (intel_member_str(o, "id", id, STIX_ID_MAX) < 0)
        snprintf(id, sizeof(id), "indicator without an id");
    snprintf(x->where, sizeof(x->where), "%s", id);
    if (intel_member_str(o, "pattern_type", ptype, sizeof(ptype) - 1) == 0 &&
        strcmp(ptype, "stix") != 0) {
        intel_bad(x->s, x->where, "pattern_type is not stix (only STIX patterns are read)");
        return 0;
    }
    if (jp_lookup(o, "pattern", &pv) < 0 || pv.len < 2 || pv.p[0] != '"') {
        intel_bad(x->s, x->where, "indicator without a pattern string");
        return 0;
    }
    /* decoded, a string is never longer than its JSON form */
    if (!(pat = malloc(pv.len + 1)))
        return -ENOMEM;
    if (intel_span_str(pv, pat, pv.len) < 0) {
        free(pat);
        intel_bad(x->s, x->where, "pattern is not a valid string");
        return 0;
    }
    intel_ind_clear(&x->ind);
    snprintf(x->ind.ref, sizeof(x->ind.ref), "%s", id);
    indicator_meta(x, o, id);
    x->taken = 0;
    r = intel_pattern_parse(pat, strlen(pat), on_eq, on_unsup, x, &perr);
    free(pat);
    if (r == -ENOTSUP || r == -EINVAL) {
        char w[sizeof(x->where) + 40];
        snprintf(w, sizeof(w), "%s pattern byte %zu", x->where, perr.off);
        intel_bad(x->s, w, perr.msg ? perr.msg : "bad pattern");
        return 0;
    }
    return r < 0 ? r : 0;
}

int intel_stix_parse(const char *buf, size_t len, const struct intel_sink *s,
                     struct parse_err *reterr)
{
    struct stix *x;
    struct jp_span root, objs, o;
    struct jp_iter it;
    char type[64];
    int r = 0;

    if (jp_doc(buf, len, &root, reterr) < 0)
        return -EINVAL;
    if (intel_member_str(root, "type", type, sizeof(type) - 1) < 0 ||
        (strcmp(type, "bundle") != 0 && strcmp(type, "indicator") != 0)) {
        parse_err_set(reterr, 0, "not a STIX bundle (no \"type\": \"bundle\")");
        return -EINVAL;
    }
    if (!(x = calloc(1, sizeof(*x))))
        return -ENOMEM;
    x->s = s;
    if (strcmp(type, "indicator") == 0) {
        r = indicator(x, root);
        goto out;
    }
    if (jp_lookup(root, "objects", &objs) < 0) {
        goto out; /* an empty bundle */
    }
    if (jp_iter_init(&it, objs) < 0) {
        parse_err_set(reterr, (size_t)(objs.p - buf), "bundle objects is not an array");
        r = -EINVAL;
        goto out;
    }
    while ((r = jp_iter_next(&it, NULL, &o)) == 1)
        if ((r = collect(x, o)) < 0)
            goto out;
    if (r < 0)
        goto out;
    jp_iter_init(&it, objs);
    while ((r = jp_iter_next(&it, NULL, &o)) == 1)
        if ((r = indicator(x, o)) < 0)
            goto out;
out:
    free(x->named);
    free(x->rel);
    free(x);
    return r < 0 ? r : 0;
}
