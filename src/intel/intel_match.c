/*
 * intel_match.c - the indicators in memory for the enrich stage: one keyed
 * hash table (util/htable) holds every value, keyed by its type and
 * canonical bytes.  Addresses and networks are keyed by (family, prefix
 * length, masked address); a lookup tries each prefix length that some
 * indicator uses, longest first, so an address costs one probe per length
 * in use (a /32 list and a few network sizes: a handful).  A DNS name is
 * looked up whole and then by each name above it (a.b.evil.example,
 * b.evil.example, evil.example, example), so a domain indicator covers
 * every name below it.  URL pattern indicators (regexes) are kept in the
 * same table, for their dedup, and also compiled into one Vectorscan
 * database (built when the set is loaded, or at the first lookup after
 * one was added) that a URL field is scanned with: only when the set
 * holds a pattern, so a set without any pays nothing for them.  The
 * matcher has one Vectorscan scratch: like its pending sightings, it is
 * used by one thread at a time.  Sightings are counted in a second table
 * and written in the pipeline's transaction (intel_matcher_flush).
 */
#include <ctype.h>
#include <errno.h>
#include <hs/hs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "intel/intel.h"
#include "intel/intel_priv.h"
#include "store/store_intel.h"
#include "util/cidr.h"
#include "util/htable.h"
#include "util/log.h"

/* Distinct (indicator, input) sightings held between two flushes; more are
 * dropped and counted (a flush comes at every commit). */
#define MATCH_PENDING_MAX 65536
/* Feeds named by the indicators in memory. */
#define MATCH_FEEDS_MAX 4096

struct ment {
    struct htable_node node;
    struct intel_hit hit;
    uint32_t klen;
    unsigned char key[]; /* type, then the value's bytes (addresses: prefix, 16 bytes) */
};

struct pend {
    struct htable_node node;
    unsigned char key[12]; /* indicator id (8), source (4) */
    int64_t id;
    uint32_t source;
    int64_t count, first_us, last_us;
};

/* The fields looked at and how: an address, a DNS name, a URL (whole, and
 * its host as a name), or an exact value of a type. */
enum how { HOW_IP, HOW_NAME, HOW_URL, HOW_EXACT };
static const struct {
    const char *field;
    enum how how;
    enum intel_type type;
} watched[] = {
    {"source.ip", HOW_IP, 0},
    {"destination.ip", HOW_IP, 0},
    {"client.ip", HOW_IP, 0},
    {"server.ip", HOW_IP, 0},
    {"dns.question.name", HOW_NAME, 0},
    {"url.domain", HOW_NAME, 0},
    {"destination.domain", HOW_NAME, 0},
    {"server.domain", HOW_NAME, 0},
    {"tls.client.server_name", HOW_NAME, 0},
    {"url.full", HOW_URL, 0},
    {"url.original", HOW_URL, 0},
    {"file.hash.md5", HOW_EXACT, INTEL_MD5},
    {"file.hash.sha1", HOW_EXACT, INTEL_SHA1},
    {"file.hash.sha256", HOW_EXACT, INTEL_SHA256},
    {"process.hash.md5", HOW_EXACT, INTEL_MD5},
    {"process.hash.sha1", HOW_EXACT, INTEL_SHA1},
    {"process.hash.sha256", HOW_EXACT, INTEL_SHA256},
    {"tls.client.ja3", HOW_EXACT, INTEL_JA3},
    {"tls.ja3.hash", HOW_EXACT, INTEL_JA3}, /* Suricata EVE, tls.ja3.hash as flattened */
    {"tls.client.ja4", HOW_EXACT, INTEL_JA4}, /* ECS; Zeek's JA4 package (ssl.log ja4) */
    {"tls.ja4", HOW_EXACT, INTEL_JA4},        /* Suricata 7+ EVE, tls.ja4 as flattened */
    {"user_agent.original", HOW_EXACT, INTEL_USER_AGENT},
    {"email.from.address", HOW_EXACT, INTEL_EMAIL},
    {"user.email", HOW_EXACT, INTEL_EMAIL},
    {"registry.path", HOW_EXACT, INTEL_REGKEY},
    {"registry.key", HOW_EXACT, INTEL_REGKEY},
    {"process.name", HOW_EXACT, INTEL_PROCESS},
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

enum out_field { OUT_TYPE, OUT_VALUE, OUT_PROVIDER, OUT_CONF, OUT_TLP, OUT_MFIELD, OUT_ATOMIC, NOUT };
static const char *const out_names[NOUT] = {
    "threat.indicator.type",        "threat.indicator.value",
    "threat.indicator.provider",    "threat.indicator.confidence",
    "threat.indicator.marking.tlp", "threat.enrichments.matched.field",
    "threat.enrichments.matched.atomic",
};

struct intel_matcher {
    struct htable t;
    struct htable pend;
    uint64_t dropped;
    uint8_t plen4[33], plen6[129]; /* prefix lengths in use */
    char *feeds[MATCH_FEEDS_MAX];
    size_t nfeeds;
    uint32_t fid[NWATCHED];
    uint8_t *wmap; /* field id -> watched index + 1 (0: not watched), nwmap ids */
    uint32_t nwmap;
    uint32_t out[NOUT];
    /* URL patterns: the table's entries of that type, in the order of
     * the database's ids; the database (NULL: none compiled or none to
     * compile) and its scratch; `dirty` when one was added since. */
    struct ment **pats;
    size_t npats, cappats;
    hs_database_t *db;
    hs_scratch_t *scratch;
    int dirty;
};

static void free_node(void *ctx, struct htable_node *n)
{
    (void)ctx;
    free(n);
}

struct intel_matcher *intel_matcher_new(void)
{
    struct intel_matcher *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    if (htable_init(&m->t, 0, 0, NULL, NULL) < 0 ||
        htable_init(&m->pend, 0, 0, NULL, NULL) < 0) {
        intel_matcher_free(m);
        return NULL;
    }
    for (size_t i = 0; i < NWATCHED; i++) {
        m->fid[i] = field_intern(watched[i].field, strlen(watched[i].field));
        if (m->fid[i] >= m->nwmap)
            m->nwmap = m->fid[i] + 1;
    }
    /* one byte per id up to the largest watched: the per-field test of
     * the hot path is one load */
    if (!(m->wmap = calloc(m->nwmap, 1))) {
        intel_matcher_free(m);
        return NULL;
    }
    for (size_t i = 0; i < NWATCHED; i++)
        if (m->fid[i])
            m->wmap[m->fid[i]] = (uint8_t)(i + 1);
    for (size_t i = 0; i < NOUT; i++)
        m->out[i] = field_intern(out_names[i], strlen(out_names[i]));
    return m;
}

static void drain(struct htable *t)
{
    struct htable_node *n;

    while ((n = htable_oldest(t))) {
        htable_remove(t, n);
        free_node(NULL, n);
    }
}

void intel_matcher_free(struct intel_matcher *m)
{
    if (!m)
        return;
    drain(&m->t);
    drain(&m->pend);
    htable_done(&m->t);
    htable_done(&m->pend);
    for (size_t i = 0; i < m->nfeeds; i++)
        free(m->feeds[i]);
    free(m->wmap);
    free(m->pats);
    hs_free_scratch(m->scratch);
    hs_free_database(m->db);
    free(m);
}

size_t intel_matcher_count(const struct intel_matcher *m)
{
    return htable_count(&m->t);
}

size_t intel_matcher_pending(const struct intel_matcher *m)
{
    return htable_count(&m->pend);
}

uint64_t intel_matcher_dropped(const struct intel_matcher *m)
{
    return m->dropped;
}

const char *intel_confidence_word(int score)
{
    return score >= 70 ? "High" : score >= 30 ? "Medium" : score > 0 ? "Low" : "None";
}

static const char *feed_ref(struct intel_matcher *m, const char *feed)
{
    for (size_t i = 0; i < m->nfeeds; i++)
        if (strcmp(m->feeds[i], feed) == 0)
            return m->feeds[i];
    if (m->nfeeds >= MATCH_FEEDS_MAX || !(m->feeds[m->nfeeds] = strdup(feed)))
        return NULL;
    return m->feeds[m->nfeeds++];
}

/* Key of an address network: type, prefix, the masked 16 bytes. */
static size_t ip_key(unsigned char *k, const struct cidr *c)
{
    k[0] = c->family == 4 ? INTEL_IPV4 : INTEL_IPV6;
    k[1] = c->prefix;
    memcpy(k + 2, c->addr, 16);
    return 18;
}

int intel_matcher_add(struct intel_matcher *m, int64_t id, enum intel_type type, const char *value,
                      const char *feed, int confidence, enum intel_tlp tlp)
{
    unsigned char ipk[18];
    const unsigned char *kb;
    size_t vlen = strlen(value), klen;
    struct htable_node *old;
    struct ment *e;
    struct cidr c;

    if ((unsigned)type >= INTEL_TYPE_COUNT)
        return -EINVAL;
    if (type == INTEL_IPV4 || type == INTEL_IPV6) {
        if (cidr_parse(value, vlen, &c) < 0 || (c.family == 4) != (type == INTEL_IPV4))
            return -EINVAL;
        klen = ip_key(ipk, &c);
        kb = ipk;
    } else {
        klen = vlen + 1;
        kb = NULL;
    }
    e = malloc(sizeof(*e) + klen + vlen + 1);
    if (!e)
        return -ENOMEM;
    if (kb) {
        memcpy(e->key, kb, klen);
    } else {
        e->key[0] = (unsigned char)type;
        memcpy(e->key + 1, value, vlen);
    }
    memcpy(e->key + klen, value, vlen + 1);
    e->klen = (uint32_t)klen;
    e->hit = (struct intel_hit){id, type, tlp, confidence, feed_ref(m, feed ? feed : ""),
                                (const char *)e->key + klen};
    if (!e->hit.feed) {
        free(e);
        return -ENOMEM;
    }
    if ((old = htable_find(&m->t, e->key, klen))) {
        struct ment *o = (struct ment *)old;
        if (o->hit.confidence >= confidence) {
            free(e);
            return 0;
        }
        if (type == INTEL_URL_PATTERN) {
            /* the same regex: the entry stays where the pattern list
             * points, with the stronger indicator's row */
            o->hit.id = id;
            o->hit.tlp = tlp;
            o->hit.confidence = confidence;
            o->hit.feed = e->hit.feed;
            free(e);
            return 0;
        }
        htable_remove(&m->t, old);
        free(old);
    } else if (type == INTEL_URL_PATTERN) {
        if (m->npats == m->cappats) {
            size_t nc = m->cappats ? 2 * m->cappats : 16;
            struct ment **np = realloc(m->pats, nc * sizeof(struct ment *));
            if (!np) {
                free(e);
                return -ENOMEM;
            }
            m->pats = np;
            m->cappats = nc;
        }
        m->pats[m->npats++] = e;
        m->dirty = 1;
    }
    htable_insert(&m->t, &e->node, e->key, klen, 0);
    if (kb) {
        if (c.family == 4)
            m->plen4[c.prefix] = 1;
        else
            m->plen6[c.prefix] = 1;
    }
    return 0;
}

static const struct intel_hit *find(const struct intel_matcher *m, const unsigned char *k,
                                    size_t klen)
{
    struct htable_node *n = htable_find(&m->t, k, klen);

    return n ? &((struct ment *)n)->hit : NULL;
}

const struct intel_hit *intel_matcher_ip(const struct intel_matcher *m, int family,
                                         const uint8_t addr[16])
{
    const uint8_t *used = family == 4 ? m->plen4 : m->plen6;
    int maxp = family == 4 ? 32 : 128;
    struct cidr c;
    unsigned char k[18];

    if (family != 4 && family != 6)
        return NULL;
    for (int p = maxp; p >= 0; p--) {
        const struct intel_hit *h;
        if (!used[p])
            continue;
        c.family = (uint8_t)family;
        c.prefix = (uint8_t)p;
        memset(c.addr, 0, sizeof(c.addr));
        memcpy(c.addr, addr, (size_t)p / 8);
        if (p % 8)
            c.addr[p / 8] = (uint8_t)(addr[p / 8] & (0xff << (8 - p % 8)));
        ip_key(k, &c);
        if ((h = find(m, k, sizeof(k))))
            return h;
    }
    return NULL;
}

const struct intel_hit *intel_matcher_exact(const struct intel_matcher *m, enum intel_type type,
                                            const char *value, size_t len)
{
    unsigned char k[INTEL_VALUE_MAX + 1];

    if (len > INTEL_VALUE_MAX)
        return NULL;
    k[0] = (unsigned char)type;
    memcpy(k + 1, value, len);
    return find(m, k, len + 1);
}

const struct intel_hit *intel_matcher_name(const struct intel_matcher *m, const char *name,
                                           size_t len)
{
    char low[256];
    const struct intel_hit *h;

    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len >= sizeof(low))
        return NULL;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    if ((h = intel_matcher_exact(m, INTEL_HOSTNAME, low, len)))
        return h;
    for (size_t i = 0; i < len; i++) {
        if (i == 0 || low[i - 1] == '.') {
            if ((h = intel_matcher_exact(m, INTEL_DOMAIN, low + i, len - i)))
                return h;
        }
    }
    return NULL;
}

/* A URL as the store keeps it (scheme and host in lower case), and its
 * host in *host. */
static const struct intel_hit *match_url(const struct intel_matcher *m, const char *v, size_t len)
{
    char canon[INTEL_VALUE_MAX + 1];
    const char *why;
    const struct intel_hit *h;
    const char *sep;
    size_t hb, he;

    if (intel_normalize(INTEL_URL, v, len, canon, &why) == 0 &&
        (h = intel_matcher_exact(m, INTEL_URL, canon, strlen(canon))))
        return h;
    if (!(sep = memmem(v, len, "://", 3)))
        return NULL;
    hb = (size_t)(sep - v) + 3;
    he = hb;
    while (he < len && v[he] != '/' && v[he] != '?' && v[he] != '#' && v[he] != ':')
        he++;
    if (memchr(v + hb, '@', he - hb)) /* user@host */
        hb = (size_t)((const char *)memchr(v + hb, '@', he - hb) - v) + 1;
    return he > hb ? intel_matcher_name(m, v + hb, he - hb) : NULL;
}

/*
 * Compiles the URL patterns into one database (ids: their index in
 * m->pats).  A pattern the library refuses now (the store was written by
 * another version) is logged and left out, and the rest compiled again;
 * when the database or its scratch cannot be made, patterns do not match
 * (logged) and everything else still does.
 */
static void build_db(struct intel_matcher *m)
{
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    size_t n = m->npats;

    m->dirty = 0;
    hs_free_database(m->db);
    m->db = NULL;
    if (n == 0)
        return;
    exprs = malloc(n * sizeof(*exprs));
    flags = malloc(n * sizeof(*flags));
    ids = malloc(n * sizeof(*ids));
    if (!exprs || !flags || !ids) {
        log_warnx("intel: out of memory compiling %zu URL patterns: they do not match", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        exprs[i] = m->pats[i]->hit.value;
        flags[i] = INTEL_URLPAT_HS_FLAGS;
        ids[i] = (unsigned)i;
    }
    while (n > 0) {
        hs_compile_error_t *cerr = NULL;
        int bad;
        if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &m->db, &cerr) ==
            HS_SUCCESS)
            break;
        bad = cerr ? cerr->expression : -1;
        if (bad < 0 || (size_t)bad >= n) {
            log_warnx("intel: compiling %zu URL patterns: %s: they do not match", n,
                      cerr && cerr->message ? cerr->message : "failed");
            hs_free_compile_error(cerr);
            m->db = NULL;
            goto out;
        }
        log_warnx("intel: URL pattern /%.80s/ (indicator %lld) left out: %s", exprs[bad],
                  (long long)m->pats[ids[bad]]->hit.id,
                  cerr->message ? cerr->message : "does not compile");
        hs_free_compile_error(cerr);
        n--;
        exprs[bad] = exprs[n];
        ids[bad] = ids[n];
        m->db = NULL;
    }
    if (m->db && hs_alloc_scratch(m->db, &m->scratch) != HS_SUCCESS) {
        log_warnx("intel: no Vectorscan scratch for %zu URL patterns: they do not match", n);
        hs_free_database(m->db);
        m->db = NULL;
    }
out:
    free(exprs);
    free(flags);
    free(ids);
}

/* What a scan found: the patterns matched, in the order reported. */
struct scan_hits {
    const struct intel_matcher *m;
    const struct intel_hit *h[INTEL_MATCHES_PER_EVENT];
    int n;
};

static int on_pattern(unsigned int id, unsigned long long from, unsigned long long to,
                      unsigned int flags, void *ctx)
{
    struct scan_hits *sh = ctx;

    (void)from;
    (void)to;
    (void)flags;
    if (id < sh->m->npats)
        sh->h[sh->n++] = &sh->m->pats[id]->hit;
    /* no room for more: stop the scan */
    return sh->n >= INTEL_MATCHES_PER_EVENT;
}

/* The URL patterns that match URL v[0..len): scanned in its canonical form
 * (scheme and host in lower case, as an exact URL is looked up), or as it
 * is when it is not a whole URL (a web log's request target). */
static int scan_url(struct intel_matcher *m, const char *v, size_t len, struct scan_hits *sh)
{
    char canon[INTEL_VALUE_MAX + 1];
    const char *why;

    sh->m = m;
    sh->n = 0;
    if (!m->db || len > UINT_MAX)
        return 0;
    if (len <= INTEL_VALUE_MAX && intel_normalize(INTEL_URL, v, len, canon, &why) == 0) {
        v = canon;
        len = strlen(canon);
    }
    /* HS_SCAN_TERMINATED (a full list) keeps what was found */
    (void)hs_scan(m->db, v, (unsigned)len, 0, m->scratch, on_pattern, sh);
    return sh->n;
}

static void count_sighting(struct intel_matcher *m, int64_t id, uint32_t source, int64_t now_us)
{
    unsigned char k[12];
    struct htable_node *n;
    struct pend *p;

    if (!id)
        return;
    memcpy(k, &id, 8);
    memcpy(k + 8, &source, 4);
    if ((n = htable_find(&m->pend, k, sizeof(k)))) {
        p = (struct pend *)n;
        p->count++;
        if (now_us > p->last_us)
            p->last_us = now_us;
        if (now_us < p->first_us)
            p->first_us = now_us;
        return;
    }
    if (htable_count(&m->pend) >= MATCH_PENDING_MAX || !(p = calloc(1, sizeof(*p)))) {
        m->dropped++;
        return;
    }
    memcpy(p->key, k, sizeof(k));
    p->id = id;
    p->source = source;
    p->count = 1;
    p->first_us = p->last_us = now_us;
    htable_insert(&m->pend, &p->node, p->key, sizeof(p->key), 0);
}

static int add_fields(struct intel_matcher *m, struct event *ev, const struct intel_hit *h,
                      size_t w, const char *atomic, size_t alen)
{
    const char *tname = intel_type_name(h->type);
    int r = 0;

    /* the arena copies: the matcher may be swapped before the event is
     * written out */
    if ((r = event_add_copy(ev, m->out[OUT_TYPE], tname, strlen(tname))) < 0 ||
        (r = event_add_copy(ev, m->out[OUT_VALUE], h->value, strlen(h->value))) < 0 ||
        (r = event_add_copy(ev, m->out[OUT_PROVIDER], h->feed, strlen(h->feed))) < 0 ||
        (r = event_add_str(ev, m->out[OUT_CONF], intel_confidence_word(h->confidence))) < 0 ||
        (r = event_add_str(ev, m->out[OUT_TLP], intel_tlp_name(h->tlp))) < 0 ||
        (r = event_add_str(ev, m->out[OUT_MFIELD], watched[w].field)) < 0 ||
        (r = event_add_copy(ev, m->out[OUT_ATOMIC], atomic, alen)) < 0)
        return r;
    return 0;
}

/* Records hit h of field f (watched entry w) unless this event has it
 * already: a sighting and the threat.* fields.  -1 when the event is
 * full (the match is still counted), else 0. */
static int take_hit(struct intel_matcher *m, struct event *ev, const struct intel_hit **seen,
                    int *n, const struct intel_hit *h, size_t w, const struct event_field *f,
                    uint32_t source, int64_t now_us)
{
    for (int k = 0; k < *n; k++)
        if (seen[k] == h)
            return 0; /* source.ip and client.ip: one match */
    seen[(*n)++] = h;
    count_sighting(m, h->id, source, now_us);
    return add_fields(m, ev, h, w, f->val, f->len) < 0 ? -1 : 0;
}

int intel_matcher_enrich(struct intel_matcher *m, struct event *ev, uint32_t source,
                         int64_t now_us)
{
    const struct intel_hit *seen[INTEL_MATCHES_PER_EVENT];
    int n = 0;
    uint32_t nf;

    if (!m || htable_count(&m->t) == 0)
        return 0;
    if (m->dirty)
        build_db(m);
    /* the fields the event has now: what we add is not looked at */
    nf = ev->nfields;
    for (uint32_t i = 0; i < nf && n < INTEL_MATCHES_PER_EVENT; i++) {
        const struct event_field *f = &ev->fields[i];
        const struct intel_hit *h = NULL;
        struct scan_hits sh = {.n = 0};
        size_t w;

        if (f->id >= m->nwmap || !m->wmap[f->id])
            continue;
        w = m->wmap[f->id] - 1u;
        switch (watched[w].how) {
        case HOW_IP: {
            struct cidr c;
            if (cidr_parse(f->val, f->len, &c) == 0 && c.prefix == (c.family == 4 ? 32 : 128))
                h = intel_matcher_ip(m, c.family, c.addr);
            break;
        }
        case HOW_NAME:
            h = intel_matcher_name(m, f->val, f->len);
            break;
        case HOW_URL:
            h = match_url(m, f->val, f->len);
            if (m->db)
                scan_url(m, f->val, f->len, &sh);
            break;
        case HOW_EXACT: {
            char canon[INTEL_VALUE_MAX + 1];
            const char *why;
            if (f->len <= INTEL_VALUE_MAX &&
                intel_normalize(watched[w].type, f->val, f->len, canon, &why) == 0)
                h = intel_matcher_exact(m, watched[w].type, canon, strlen(canon));
            break;
        }
        }
        /* an exact value first, then each URL pattern that matched */
        if (h && take_hit(m, ev, seen, &n, h, w, f, source, now_us) < 0)
            break;
        for (int k = 0; k < sh.n && n < INTEL_MATCHES_PER_EVENT; k++)
            if (take_hit(m, ev, seen, &n, sh.h[k], w, f, source, now_us) < 0)
                return n;
    }
    return n;
}

int intel_matcher_flush(struct intel_matcher *m, struct store *st,
                        const char *(*name)(void *ctx, uint32_t source), void *ctx)
{
    struct htable_node *n;
    int err = 0, r;

    if (!m)
        return 0;
    while ((n = htable_oldest(&m->pend))) {
        struct pend *p = (struct pend *)n;
        const char *src = name ? name(ctx, p->source) : NULL;
        htable_remove(&m->pend, n);
        if (st && !err &&
            (r = store_intel_sight(st, p->id, src ? src : "?", p->count, p->first_us,
                                   p->last_us)) < 0)
            err = r;
        free(p);
    }
    return err;
}

void intel_matcher_take_sightings(struct intel_matcher *to, struct intel_matcher *from)
{
    struct htable_node *n;

    if (!to || !from)
        return;
    while ((n = htable_oldest(&from->pend))) {
        struct pend *p = (struct pend *)n;
        struct htable_node *o;
        htable_remove(&from->pend, n);
        if ((o = htable_find(&to->pend, p->key, sizeof(p->key)))) {
            struct pend *q = (struct pend *)o;
            q->count += p->count;
            if (p->first_us < q->first_us)
                q->first_us = p->first_us;
            if (p->last_us > q->last_us)
                q->last_us = p->last_us;
            free(p);
        } else {
            htable_insert(&to->pend, &p->node, p->key, sizeof(p->key), 0);
        }
    }
}

struct load_ctx {
    struct intel_matcher *m;
    int64_t now_us, half_life_us;
    int min_score;
    size_t n;
};

static int load_row(void *ctx, const struct store_intel_row *r)
{
    struct load_ctx *x = ctx;
    int64_t confirmed = r->last_seen_us > r->last_sighted_us ? r->last_seen_us : r->last_sighted_us;
    int t = intel_type_parse(r->type), tlp = intel_tlp_parse(r->tlp, strlen(r->tlp)), rr;
    double score;

    if (t < 0 || !intel_live(r->confidence, confirmed, r->valid_until_us, x->now_us,
                             x->half_life_us, x->min_score))
        return 0;
    score = intel_score(r->confidence, x->now_us - confirmed, x->half_life_us);
    rr = intel_matcher_add(x->m, r->id, (enum intel_type)t, r->value, r->feed, (int)(score + 0.5),
                           tlp < 0 ? INTEL_TLP_AMBER : (enum intel_tlp)tlp);
    if (rr == -ENOMEM)
        return rr;
    if (rr == 0)
        x->n++;
    return 0; /* a row that is not canonical any more is skipped */
}

int intel_matcher_load(struct store *st, int64_t now_us, int64_t half_life_us, int min_score,
                       struct intel_matcher **ret, size_t *ret_n)
{
    struct load_ctx x = {intel_matcher_new(), now_us, half_life_us, min_score, 0};
    int r;

    *ret = NULL;
    if (!x.m)
        return -ENOMEM;
    if ((r = store_intel_each(st, NULL, load_row, &x)) < 0) {
        intel_matcher_free(x.m);
        return r;
    }
    /* the URL patterns' database now, not at the first event */
    if (x.m->dirty)
        build_db(x.m);
    *ret = x.m;
    if (ret_n)
        *ret_n = x.n;
    return 0;
}
