/*
 * intel_misp.c - MISP events to indicators: the event's attributes and its
 * objects' attributes whose to_ids flag is set, typed by MISP's attribute
 * type; TLP, ATT&CK techniques (galaxy tags), kill-chain phases and other
 * tags from the event's and each attribute's tags.  A feed is a directory
 * of such events listed by manifest.json (intel_misp_manifest).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel_priv.h"

struct misp {
    const struct intel_sink *s;
    struct intel_ind base; /* the event's tags and TLP */
    struct intel_ind ind;
    char where[128];
};

/* MISP attribute types with a second value after '|': which half holds
 * the indicator and its type. */
static const struct {
    const char *misp;
    int type;
    int part; /* 0: whole value; 1: before '|'; 2: after '|' */
} misp_types[] = {
    {"ip-src", INTEL_IPV4, 0},         {"ip-dst", INTEL_IPV4, 0},
    {"ip-src|port", INTEL_IPV4, 1},    {"ip-dst|port", INTEL_IPV4, 1},
    {"domain", INTEL_DOMAIN, 0},       {"hostname", INTEL_HOSTNAME, 0},
    {"domain|ip", INTEL_DOMAIN, 1},    {"hostname|port", INTEL_HOSTNAME, 1},
    {"url", INTEL_URL, 0},             {"link", INTEL_URL, 0},
    {"email", INTEL_EMAIL, 0},         {"email-src", INTEL_EMAIL, 0},
    {"email-dst", INTEL_EMAIL, 0},     {"md5", INTEL_MD5, 0},
    {"sha1", INTEL_SHA1, 0},           {"sha256", INTEL_SHA256, 0},
    {"filename|md5", INTEL_MD5, 2},    {"filename|sha1", INTEL_SHA1, 2},
    {"filename|sha256", INTEL_SHA256, 2}, {"ja3-fingerprint-md5", INTEL_JA3, 0},
    {"user-agent", INTEL_USER_AGENT, 0}, {"regkey", INTEL_REGKEY, 0},
    {"regkey|value", INTEL_REGKEY, 1},
};

/* A tag's meaning: tlp:x, an ATT&CK technique from a galaxy tag
 * (misp-galaxy:mitre-attack-pattern="Name - T1059"), kill-chain:phase,
 * misp-galaxy:threat-actor / malware names, anything else as a label. */
static void take_tag(struct intel_ind *ind, const char *t)
{
    size_t n = strlen(t);
    const char *q;
    int tlp;

    if (n > 4 && strncmp(t, "tlp:", 4) == 0) {
        if ((tlp = intel_tlp_parse(t, n)) >= 0 && tlp > ind->tlp)
            ind->tlp = tlp;
        return;
    }
    if (strncmp(t, "misp-galaxy:mitre-", 18) == 0 && (q = strstr(t, " - T"))) {
        const char *e = q + 3;
        size_t k = 1;
        while (isdigit((unsigned char)e[k]) || (e[k] == '.' && isdigit((unsigned char)e[k + 1])))
            k++;
        intel_ind_tag(ind, INTEL_TAG_ATTACK, e, k);
        return;
    }
    if (strncmp(t, "kill-chain:", 11) == 0) {
        intel_ind_tag(ind, INTEL_TAG_PHASE, t + 11, n - 11);
        return;
    }
    if ((q = strchr(t, '=')) && q[1] == '"' && n >= 2 && t[n - 1] == '"') {
        enum intel_tag_kind k = INTEL_TAG_LABEL;
        if (strncmp(t, "misp-galaxy:threat-actor=", 25) == 0)
            k = INTEL_TAG_ACTOR;
        else if (strncmp(t, "misp-galaxy:malpedia=", 21) == 0 ||
                 strncmp(t, "misp-galaxy:ransomware=", 23) == 0 ||
                 strncmp(t, "misp-galaxy:tool=", 17) == 0)
            k = INTEL_TAG_MALWARE;
        if (k != INTEL_TAG_LABEL) {
            intel_ind_tag(ind, k, q + 2, (size_t)(t + n - 1 - (q + 2)));
            return;
        }
    }
    intel_ind_tag(ind, INTEL_TAG_LABEL, t, n);
}

static void take_tags(struct intel_ind *ind, struct jp_span o)
{
    struct jp_span tags, el;
    struct jp_iter it;
    char name[INTEL_TAG_MAX + 1];

    if (jp_lookup(o, "Tag", &tags) < 0 || jp_iter_init(&it, tags) < 0)
        return;
    while (jp_iter_next(&it, NULL, &el) == 1)
        if (intel_member_str(el, "name", name, INTEL_TAG_MAX) == 0)
            take_tag(ind, name);
}

/* to_ids: true, "1", 1 (MISP writes all three). */
static int to_ids(struct jp_span a)
{
    struct jp_span v;
    char s[8];

    if (jp_lookup(a, "to_ids", &v) < 0)
        return 1; /* feeds that do not say are meant for detection */
    if (jp_span_is(v, "true") || jp_span_is(v, "1"))
        return 1;
    return intel_span_str(v, s, sizeof(s) - 1) == 0 && strcmp(s, "1") == 0;
}

static int attribute(struct misp *m, struct jp_span a)
{
    char type[64], uuid[64];
    struct jp_span v;
    char *val;
    const char *p, *bar;
    size_t n;
    int r = 0, t = -1, part = 0;

    if (intel_member_str(a, "uuid", uuid, sizeof(uuid) - 1) < 0)
        snprintf(uuid, sizeof(uuid), "attribute without a uuid");
    snprintf(m->where, sizeof(m->where), "attribute %s", uuid);
    if (intel_member_str(a, "type", type, sizeof(type) - 1) < 0) {
        intel_bad(m->s, m->where, "attribute without a type");
        return 0;
    }
    for (size_t i = 0; i < sizeof(misp_types) / sizeof(misp_types[0]); i++)
        if (strcmp(type, misp_types[i].misp) == 0) {
            t = misp_types[i].type;
            part = misp_types[i].part;
        }
    if (t < 0)
        return 0; /* a type we do not match (comment, text, vulnerability...) */
    if (!to_ids(a))
        return 0; /* context, not for detection */
    if (jp_lookup(a, "value", &v) < 0) {
        intel_bad(m->s, m->where, "attribute without a value");
        return 0;
    }
    if (!(val = malloc(v.len + 1)))
        return -ENOMEM;
    if (intel_span_str(v, val, v.len) < 0) {
        intel_bad(m->s, m->where, "value is not a string");
        goto out;
    }
    m->ind = m->base;
    snprintf(m->ind.ref, sizeof(m->ind.ref), "%s", uuid);
    take_tags(&m->ind, a);
    p = val;
    n = strlen(val);
    if (part && (bar = strchr(val, '|'))) {
        if (part == 1) {
            n = (size_t)(bar - val);
        } else {
            p = bar + 1;
            n = strlen(p);
        }
    } else if (part) {
        intel_bad(m->s, m->where, "composite attribute without '|'");
        goto out;
    }
    /* ip-src may hold an IPv6 address or a network */
    if (t == INTEL_IPV4 && memchr(p, ':', n))
        t = INTEL_IPV6;
    r = intel_emit(m->s, &m->ind, t, p, n, m->where);
out:
    free(val);
    return r;
}

static int attributes(struct misp *m, struct jp_span o)
{
    struct jp_span list, el;
    struct jp_iter it;
    int r;

    if (jp_lookup(o, "Attribute", &list) < 0 || jp_iter_init(&it, list) < 0)
        return 0;
    while (jp_iter_next(&it, NULL, &el) == 1)
        if ((r = attribute(m, el)) < 0)
            return r;
    return 0;
}

int intel_misp_parse_event(const char *buf, size_t len, const struct intel_sink *s,
                           struct parse_err *reterr)
{
    struct misp *m;
    struct jp_span root, ev, objs, el, v;
    struct jp_iter it;
    int r;

    if (jp_doc(buf, len, &root, reterr) < 0)
        return -EINVAL;
    if (jp_lookup(root, "Event", &ev) < 0)
        ev = root;
    if (!ev.len || ev.p[0] != '{' ||
        (jp_lookup(ev, "Attribute", &v) < 0 && jp_lookup(ev, "Object", &v) < 0 &&
         jp_lookup(ev, "info", &v) < 0)) {
        parse_err_set(reterr, 0, "not a MISP event (no Event with Attribute, Object or info)");
        return -EINVAL;
    }
    if (!(m = calloc(1, sizeof(*m))))
        return -ENOMEM;
    m->s = s;
    intel_ind_clear(&m->base);
    take_tags(&m->base, ev);
    /* the event's galaxies name techniques too */
    if (jp_lookup(ev, "Galaxy", &v) == 0 && jp_iter_init(&it, v) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1) {
            struct jp_span cl, c;
            struct jp_iter ci;
            char tag[INTEL_TAG_MAX + 1];
            if (jp_lookup(el, "GalaxyCluster", &cl) < 0 || jp_iter_init(&ci, cl) < 0)
                continue;
            while (jp_iter_next(&ci, NULL, &c) == 1)
                if (intel_member_str(c, "tag_name", tag, INTEL_TAG_MAX) == 0)
                    take_tag(&m->base, tag);
        }
    if ((r = attributes(m, ev)) < 0)
        goto out;
    if (jp_lookup(ev, "Object", &objs) == 0 && jp_iter_init(&it, objs) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1)
            if ((r = attributes(m, el)) < 0)
                goto out;
    r = 0;
out:
    free(m);
    return r < 0 ? r : 0;
}

/* 36 bytes of hex digits and dashes: safe as a file name. */
static int is_uuid(const char *s)
{
    size_t n = strlen(s);

    if (n != 36)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isxdigit((unsigned char)s[i]) || (s[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23))))
            return 0;
    return 1;
}

int intel_misp_manifest(const char *buf, size_t len, int (*each)(void *ctx, const char *uuid),
                        void *ctx, const struct intel_sink *s, struct parse_err *reterr)
{
    struct jp_span root, k, v;
    struct jp_iter it;
    char uuid[64];
    int r;

    if (jp_doc(buf, len, &root, reterr) < 0)
        return -EINVAL;
    if (jp_iter_init(&it, root) < 0 || root.p[0] != '{') {
        parse_err_set(reterr, 0, "manifest.json is not an object of events by uuid");
        return -EINVAL;
    }
    while ((r = jp_iter_next(&it, &k, &v)) == 1) {
        if (intel_span_str(k, uuid, sizeof(uuid) - 1) < 0 || !is_uuid(uuid)) {
            intel_bad(s, "manifest.json", "key is not an event uuid");
            continue;
        }
        if ((r = each(ctx, uuid)) < 0)
            return r;
    }
    return r < 0 ? -EINVAL : 0;
}
