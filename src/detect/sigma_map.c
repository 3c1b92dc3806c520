/*
 * sigma_map.c - log-source routing and field mapping for Sigma rules.
 *
 * Both are configuration data (rules/config/logsources.yaml, fields.yaml;
 * their comments define the format, docs/sigma-mapping.md explains it).
 *
 * Routing: a rule's (product, category, service) is looked up EXACTLY in
 * the log-source entries (entries of the same triple are merged into one
 * list of alternatives).  Exact lookup rather than "most specific entry
 * that fits" keeps the answer predictable: a rule never silently runs
 * against a wider set of events than its author meant, and a triple we do
 * not know makes the rule unroutable, which the caller reports.
 *
 * Field mapping: sigma_eval() finds fields by the rule's own field name
 * (field_lookup()), and we do not change it.  Instead the event is
 * augmented once, before any rule sees it: each derived name is added with
 * event_add() as a VIEW of a value the event already holds, so nothing is
 * copied.  The cost per event is one pass over the fields for the flatten
 * prefixes (a prefix compare per field, an interning lookup per field that
 * matches), and for the name map one scan of the fields per map entry, i.e.
 * O(entries x fields) id compares (about 50 x 40 for a Windows event, a
 * microsecond or two), plus an event slot per added alias.  The
 * alternative, rewriting each rule's field names at load time, would need
 * one rule variant per source shape (Sysmon vs. 4688 vs. JSON export) and
 * breaks the evaluator's "the rule as written" contract; augmenting also
 * makes the aliases visible to keyword search and to the alert record.
 * A name the event already has is never shadowed by the map, so decoders
 * that set Sigma names directly win.
 *
 * Field ids are interned once at load; the map must be freed before
 * field_done().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "util/limits.h"
#include "util/readfile.h"
#include "util/ydoc.h"

/* The configuration files are small; this only bounds a mistake. */
#define SIGMA_MAP_MAX_FILE_BYTES (4 * 1024 * 1024)

struct map_value {
    char *s; /* owned */
    size_t len;
    int prefix; /* written with a final '*': match as a prefix of len bytes */
};

/* One field of an alternative: the event's field `id` has a value equal to
 * one of `vals`. */
struct map_term {
    uint32_t id;
    struct map_value *vals; /* owned */
    size_t nvals;
};

/* An alternative: all terms hold. */
struct map_alt {
    struct map_term *terms; /* owned */
    size_t nterms;
};

struct sigma_map_source {
    char *product, *category, *service; /* owned, NULL when absent */
    struct map_alt *alts;               /* owned: any alternative holds */
    size_t nalts;
};

enum map_keep { MAP_KEEP_PATH, MAP_KEEP_LEAF };
struct map_flatten {
    char *prefix; /* owned */
    size_t len;
    enum map_keep keep;
};

/* Sigma name `id` gets the values of the first of `alts` the event has. */
struct map_field {
    uint32_t id;
    uint32_t *alts; /* owned */
    size_t nalts;
};

struct sigma_map {
    struct sigma_map_source *srcs;
    size_t nsrcs;
    struct map_flatten *flat;
    size_t nflat;
    struct map_field *fields;
    size_t nfields;
};

/* ---- loading ---- */

struct mload {
    struct ydoc *d; /* the document being read; its err is &err->at */
    const char *file;
    struct sigma_err *err;
    struct sigma_map *map;
};

static int merr(struct mload *ld, const yaml_node_t *n, const char *cat, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int merr(struct mload *ld, const yaml_node_t *n, const char *cat, const char *fmt, ...)
{
    struct sigma_err *e = ld->err;
    char msg[200];
    va_list ap;

    /* The first error is the one reported (ydoc's rule). */
    if (!e || e->at.msg)
        return -EINVAL;
    ydoc_fail(ld->d, n, cat);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(e->reason, sizeof(e->reason), "%s:%u:%u: %s", ld->file, e->at.line, e->at.col, msg);
    return -EINVAL;
}

/* A non-empty scalar as an owned string, or -EINVAL. */
static int dup_scalar(struct mload *ld, const yaml_node_t *n, const char *what, char **ret)
{
    size_t len;
    const char *s;

    if (!(s = ydoc_scalar(n, &len)))
        return merr(ld, n, "expected a scalar", "%s must be a plain value", what);
    if (len == 0 || memchr(s, '\0', len))
        return merr(ld, n, "empty value", "%s must be a non-empty string", what);
    *ret = strndup(s, len);
    return *ret ? 0 : -ENOMEM;
}

/* Interns a field name given as a scalar node. */
static int intern_scalar(struct mload *ld, const yaml_node_t *n, const char *what, uint32_t *ret_id)
{
    size_t len;
    const char *s;

    if (!(s = ydoc_scalar(n, &len)))
        return merr(ld, n, "expected a scalar", "%s must be a field name", what);
    *ret_id = field_intern(s, len);
    if (*ret_id == FIELD_NONE)
        return merr(ld, n, "bad field name", "%s: field name empty, too long or dictionary full",
                    what);
    return 0;
}

static int load_value(struct mload *ld, const yaml_node_t *n, struct map_value *v)
{
    int r = dup_scalar(ld, n, "a `when` value", &v->s);
    if (r < 0)
        return r;
    if (!v->s)
        return -ENOMEM;
    v->len = strlen(v->s);
    /* An empty value is an exact match on the empty string. */
    if (v->len > 0 && v->s[v->len - 1] == '*') {
        v->prefix = 1;
        v->len--;
    }
    return 0;
}

static int load_term(struct mload *ld, const yaml_node_t *k, yaml_node_t *v, struct map_term *t)
{
    int r = intern_scalar(ld, k, "a `when` key", &t->id);
    if (r < 0)
        return r;
    if (v->type == YAML_SCALAR_NODE) {
        t->vals = calloc(1, sizeof(*t->vals));
        if (!t->vals)
            return -ENOMEM;
        t->nvals = 1;
        return load_value(ld, v, &t->vals[0]);
    }
    size_t n = ydoc_len(v);
    if (v->type != YAML_SEQUENCE_NODE || n == 0)
        return merr(ld, v, "bad when value", "a `when` value must be a value or a non-empty list");
    t->vals = calloc(n, sizeof(*t->vals));
    if (!t->vals)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        t->nvals = i + 1;
        if ((r = load_value(ld, ydoc_list_at(ld->d, v, i), &t->vals[i])) < 0)
            return r;
    }
    return 0;
}

static int load_alt(struct mload *ld, yaml_node_t *n, struct map_alt *a)
{
    size_t cnt = ydoc_len(n);
    yaml_node_t *k, *v;
    int r;

    if (!n || n->type != YAML_MAPPING_NODE || cnt == 0)
        return merr(ld, n, "bad alternative",
                    "each `when` alternative must be a non-empty map of field: value");
    a->terms = calloc(cnt, sizeof(*a->terms));
    if (!a->terms)
        return -ENOMEM;
    for (size_t i = 0; ydoc_pair_at(ld->d, n, i, &k, &v) == 0; i++) {
        a->nterms = i + 1;
        if ((r = load_term(ld, k, v, &a->terms[i])) < 0)
            return r;
    }
    return 0;
}

static int str_eq_null(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcasecmp(a, b) == 0;
}

static struct sigma_map_source *find_source(const struct sigma_map *m, const char *product,
                                            const char *category, const char *service)
{
    for (size_t i = 0; i < m->nsrcs; i++) {
        struct sigma_map_source *s = &m->srcs[i];
        if (str_eq_null(s->product, product) && str_eq_null(s->category, category) &&
            str_eq_null(s->service, service))
            return s;
    }
    return NULL;
}

static void source_done(struct sigma_map_source *s)
{
    for (size_t i = 0; i < s->nalts; i++) {
        for (size_t j = 0; j < s->alts[i].nterms; j++) {
            for (size_t k = 0; k < s->alts[i].terms[j].nvals; k++)
                free(s->alts[i].terms[j].vals[k].s);
            free(s->alts[i].terms[j].vals);
        }
        free(s->alts[i].terms);
    }
    free(s->alts);
    free(s->product);
    free(s->category);
    free(s->service);
}

/* One `logsources` entry; merged into an existing source of the same
 * triple, else appended. */
static int load_source(struct mload *ld, yaml_node_t *n)
{
    struct sigma_map_source ns = {0};
    struct sigma_map *m = ld->map;
    yaml_node_t *when = NULL, *k, *v;
    size_t cnt;
    int r = 0;

    if (!n || n->type != YAML_MAPPING_NODE)
        return merr(ld, n, "bad entry", "a log source entry must be a map");
    for (size_t i = 0; ydoc_pair_at(ld->d, n, i, &k, &v) == 0; i++) {
        char **slot = NULL;
        if (ydoc_scalar_is(k, "product"))
            slot = &ns.product;
        else if (ydoc_scalar_is(k, "category"))
            slot = &ns.category;
        else if (ydoc_scalar_is(k, "service"))
            slot = &ns.service;
        else if (ydoc_scalar_is(k, "when"))
            when = v;
        else {
            r = merr(ld, k, "unknown key",
                     "unknown key in a log source entry (product, category, service, when)");
            goto out;
        }
        if (slot) {
            if (*slot) {
                r = merr(ld, k, "duplicate key", "duplicate key");
                goto out;
            }
            if ((r = dup_scalar(ld, v, "product/category/service", slot)) < 0)
                goto out;
        }
    }
    if (!ns.product && !ns.category && !ns.service) {
        r = merr(ld, n, "bad entry", "a log source entry needs a product, category or service");
        goto out;
    }
    cnt = ydoc_len(when);
    if (!when || when->type != YAML_SEQUENCE_NODE || cnt == 0) {
        r = merr(ld, when ? when : n, "bad when",
                 "a log source entry needs `when`, a non-empty list of alternatives");
        goto out;
    }
    ns.alts = calloc(cnt, sizeof(*ns.alts));
    if (!ns.alts) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < cnt; i++) {
        ns.nalts = i + 1;
        if ((r = load_alt(ld, ydoc_list_at(ld->d, when, i), &ns.alts[i])) < 0)
            goto out;
    }

    struct sigma_map_source *old = find_source(m, ns.product, ns.category, ns.service);
    if (old) {
        struct map_alt *a = realloc(old->alts, (old->nalts + ns.nalts) * sizeof(*a));
        if (!a) {
            r = -ENOMEM;
            goto out;
        }
        memcpy(a + old->nalts, ns.alts, ns.nalts * sizeof(*a));
        old->alts = a;
        old->nalts += ns.nalts;
        free(ns.alts); /* the alternatives moved */
        ns.alts = NULL;
        ns.nalts = 0;
    } else {
        struct sigma_map_source *s = realloc(m->srcs, (m->nsrcs + 1) * sizeof(*s));
        if (!s) {
            r = -ENOMEM;
            goto out;
        }
        m->srcs = s;
        m->srcs[m->nsrcs++] = ns;
        memset(&ns, 0, sizeof(ns));
    }
out:
    source_done(&ns);
    return r;
}

static int load_logsources(struct mload *ld, yaml_node_t *root)
{
    yaml_node_t *list = NULL, *k, *v;
    int r;

    if (!root) /* empty file */
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return merr(ld, root, "bad document", "expected a map with the key `logsources`");
    for (size_t i = 0; ydoc_pair_at(ld->d, root, i, &k, &v) == 0; i++) {
        if (!ydoc_scalar_is(k, "logsources"))
            return merr(ld, k, "unknown key", "unknown top-level key (expected `logsources`)");
        list = v;
    }
    if (!list)
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return merr(ld, list, "bad logsources", "`logsources` must be a list");
    for (size_t i = 0; i < ydoc_len(list); i++)
        if ((r = load_source(ld, ydoc_list_at(ld->d, list, i))) < 0)
            return r;
    return 0;
}

static int load_flatten(struct mload *ld, yaml_node_t *list)
{
    struct sigma_map *m = ld->map;
    size_t cnt = ydoc_len(list);
    yaml_node_t *k, *v;
    int r;

    if (list->type != YAML_SEQUENCE_NODE)
        return merr(ld, list, "bad flatten", "`flatten` must be a list");
    if (cnt == 0)
        return 0;
    m->flat = calloc(cnt, sizeof(*m->flat));
    if (!m->flat)
        return -ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *e = ydoc_list_at(ld->d, list, i);
        struct map_flatten *f = &m->flat[i];
        int have_keep = 0;
        m->nflat = i + 1;
        if (!e || e->type != YAML_MAPPING_NODE)
            return merr(ld, e, "bad flatten", "a `flatten` entry must be a map");
        for (size_t j = 0; ydoc_pair_at(ld->d, e, j, &k, &v) == 0; j++) {
            if (ydoc_scalar_is(k, "prefix") && !f->prefix) {
                if ((r = dup_scalar(ld, v, "prefix", &f->prefix)) < 0)
                    return r;
                f->len = strlen(f->prefix);
            } else if (ydoc_scalar_is(k, "keep") && !have_keep) {
                if (ydoc_scalar_is(v, "path"))
                    f->keep = MAP_KEEP_PATH;
                else if (ydoc_scalar_is(v, "leaf"))
                    f->keep = MAP_KEEP_LEAF;
                else
                    return merr(ld, v, "bad keep", "`keep` must be `path` or `leaf`");
                have_keep = 1;
            } else
                return merr(ld, k, "unknown key",
                            "unknown or duplicate key in a `flatten` entry (prefix, keep)");
        }
        if (!f->prefix || !have_keep)
            return merr(ld, e, "bad flatten", "a `flatten` entry needs `prefix` and `keep`");
    }
    return 0;
}

static int load_fieldmap(struct mload *ld, yaml_node_t *map)
{
    struct sigma_map *m = ld->map;
    size_t cnt = ydoc_len(map);
    yaml_node_t *k, *v;
    int r;

    if (map->type != YAML_MAPPING_NODE)
        return merr(ld, map, "bad fields", "`fields` must be a map of name: [names]");
    if (cnt == 0)
        return 0;
    m->fields = calloc(cnt, sizeof(*m->fields));
    if (!m->fields)
        return -ENOMEM;
    for (size_t i = 0; ydoc_pair_at(ld->d, map, i, &k, &v) == 0; i++) {
        struct map_field *f = &m->fields[i];
        m->nfields = i + 1;
        if ((r = intern_scalar(ld, k, "a Sigma field name", &f->id)) < 0)
            return r;
        for (size_t j = 0; j < i; j++)
            if (m->fields[j].id == f->id)
                return merr(ld, k, "duplicate key", "field listed twice");
        if (v->type == YAML_SCALAR_NODE) {
            if (!(f->alts = calloc(1, sizeof(*f->alts))))
                return -ENOMEM;
            f->nalts = 1;
            if ((r = intern_scalar(ld, v, "a hikeshi field name", &f->alts[0])) < 0)
                return r;
            continue;
        }
        size_t n = ydoc_len(v);
        if (v->type != YAML_SEQUENCE_NODE || n == 0)
            return merr(ld, v, "bad field list", "expected a field name or a non-empty list");
        if (!(f->alts = calloc(n, sizeof(*f->alts))))
            return -ENOMEM;
        for (size_t j = 0; j < n; j++) {
            f->nalts = j + 1;
            if ((r = intern_scalar(ld, ydoc_list_at(ld->d, v, j), "a hikeshi field name",
                                   &f->alts[j])) < 0)
                return r;
        }
    }
    return 0;
}

static int load_fields(struct mload *ld, yaml_node_t *root)
{
    yaml_node_t *k, *v;
    int r;

    if (!root)
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return merr(ld, root, "bad document", "expected a map with `flatten` and `fields`");
    for (size_t i = 0; ydoc_pair_at(ld->d, root, i, &k, &v) == 0; i++) {
        if (ydoc_scalar_is(k, "flatten") && !ld->map->flat)
            r = load_flatten(ld, v);
        else if (ydoc_scalar_is(k, "fields") && !ld->map->fields)
            r = load_fieldmap(ld, v);
        else
            r = merr(ld, k, "unknown key",
                     "unknown or duplicate top-level key (expected `flatten`, `fields`)");
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * Parses `len` bytes of YAML and hands the root node to `fn`: the root as
 * written, so that an empty document (a bare `---`) is refused as no map
 * while an empty file (no root at all) loads as empty.
 */
static int load_doc(struct mload *ld, const char *buf, size_t len, const char *file,
                    int (*fn)(struct mload *, yaml_node_t *))
{
    struct sigma_err *e = ld->err;
    struct ydoc d;
    int r;

    ld->file = file ? file : "(buffer)";
    r = ydoc_load(&d, buf, len, e ? &e->at : NULL);
    if (r == -EINVAL && e) {
        /* ydoc recorded libyaml's problem where it stopped. */
        snprintf(e->reason, sizeof(e->reason), "%s:%u:%u: %s", ld->file, e->at.line, e->at.col,
                 e->at.msg);
        e->at.msg = "YAML syntax";
    }
    if (r == 0) {
        ld->d = &d;
        r = fn(ld, ydoc_top(&d));
        ld->d = NULL;
    }
    ydoc_done(&d);
    return r;
}

void sigma_map_free(struct sigma_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nsrcs; i++)
        source_done(&m->srcs[i]);
    free(m->srcs);
    for (size_t i = 0; i < m->nflat; i++)
        free(m->flat[i].prefix);
    free(m->flat);
    for (size_t i = 0; i < m->nfields; i++)
        free(m->fields[i].alts);
    free(m->fields);
    free(m);
}

int sigma_map_load_buf(const char *ls, size_t ls_len, const char *ls_name, const char *fl,
                       size_t fl_len, const char *fl_name, struct sigma_map **ret_map,
                       struct sigma_err *reterr)
{
    struct mload ld = {.err = reterr};
    int r = 0;

    *ret_map = NULL;
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    ld.map = calloc(1, sizeof(*ld.map));
    if (!ld.map)
        return -ENOMEM;
    if (ls && (r = load_doc(&ld, ls, ls_len, ls_name, load_logsources)) < 0)
        goto out;
    if (fl && (r = load_doc(&ld, fl, fl_len, fl_name, load_fields)) < 0)
        goto out;
    *ret_map = ld.map;
    ld.map = NULL;
out:
    sigma_map_free(ld.map);
    return r;
}

/* Reads a whole regular file of at most SIGMA_MAP_MAX_FILE_BYTES. */
static int read_file(const char *path, char **ret_buf, size_t *ret_len)
{
    return readfile_all(path, SIGMA_MAP_MAX_FILE_BYTES, ret_buf, ret_len);
}

int sigma_map_load(const char *logsources_path, const char *fields_path, struct sigma_map **ret_map,
                   struct sigma_err *reterr)
{
    char *ls = NULL, *fl = NULL;
    size_t ls_len = 0, fl_len = 0;
    const char *bad = NULL;
    int r;

    *ret_map = NULL;
    if ((r = read_file(logsources_path, &ls, &ls_len)) < 0)
        bad = logsources_path;
    else if ((r = read_file(fields_path, &fl, &fl_len)) < 0)
        bad = fields_path;
    if (bad) {
        if (reterr) {
            memset(reterr, 0, sizeof(*reterr));
            reterr->at.msg = "cannot read";
            snprintf(reterr->reason, sizeof(reterr->reason), "%s: %s", bad, strerror(-r));
        }
        goto out;
    }
    r = sigma_map_load_buf(ls, ls_len, logsources_path, fl, fl_len, fields_path, ret_map, reterr);
out:
    free(ls);
    free(fl);
    return r;
}

size_t sigma_map_nsources(const struct sigma_map *m)
{
    return m ? m->nsrcs : 0;
}

size_t sigma_map_nfields(const struct sigma_map *m)
{
    return m ? m->nfields : 0;
}

/* ---- routing ---- */

const struct sigma_map_source *sigma_map_find(const struct sigma_map *m, const struct sigma_rule *r)
{
    if (!m || !r || (!r->product && !r->category && !r->service))
        return NULL;
    return find_source(m, r->product, r->category, r->service);
}

/* ASCII case-insensitive comparison of n bytes. */
static int ci_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

static int value_is(const struct map_value *v, const char *s, size_t n)
{
    if (v->prefix)
        return n >= v->len && ci_eq(s, v->s, v->len);
    return n == v->len && ci_eq(s, v->s, n);
}

static int term_holds(const struct map_term *t, const struct event *ev)
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct event_field *f = &ev->fields[i];
        if (f->id != t->id)
            continue;
        for (size_t j = 0; j < t->nvals; j++)
            if (value_is(&t->vals[j], f->val, f->len))
                return 1;
    }
    return 0;
}

int sigma_map_source_matches(const struct sigma_map_source *s, const struct event *ev)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < s->nalts; i++) {
        size_t j;
        for (j = 0; j < s->alts[i].nterms; j++)
            if (!term_holds(&s->alts[i].terms[j], ev))
                break;
        if (j == s->alts[i].nterms)
            return 1;
    }
    return 0;
}

int sigma_map_rule_applies(const struct sigma_map *m, const struct sigma_rule *r,
                           const struct event *ev)
{
    const struct sigma_map_source *s = sigma_map_find(m, r);
    if (!s)
        return -ENOENT;
    return sigma_map_source_matches(s, ev);
}

/* ---- augmentation ---- */

static int has_field(const struct event *ev, uint32_t id)
{
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].id == id)
            return 1;
    return 0;
}

/* Adds through event_add: a full event is not an error here (the field is
 * dropped and counted by event_add), running out of memory is. */
static int add_view(struct event *ev, uint32_t id, const char *val, size_t len)
{
    int r = event_add(ev, id, val, len);
    return r == -ENOMEM ? r : 0;
}

/*
 * The flattened name of `rest` (the name after the prefix) into out
 * (LIMIT_FIELD_NAME_LEN bytes); returns its length, 0 when the field is
 * not flattened.
 */
static size_t flatten_name(enum map_keep keep, const char *rest, char *out)
{
    size_t n = 0;

    if (keep == MAP_KEEP_LEAF) {
        const char *leaf = NULL;
        size_t leaf_len = 0;
        for (const char *c = rest; *c;) {
            const char *dot = strchr(c, '.');
            size_t len = dot ? (size_t)(dot - c) : strlen(c);
            if (len == 11 && memcmp(c, "#attributes", 11) == 0)
                return 0; /* namespace declarations and the like */
            if (len && c[0] != '#') {
                leaf = c;
                leaf_len = len;
            }
            c += len + (dot ? 1 : 0);
        }
        if (!leaf || leaf_len >= LIMIT_FIELD_NAME_LEN)
            return 0;
        memcpy(out, leaf, leaf_len);
        return leaf_len;
    }
    if (strncmp(rest, "#attributes.", 12) == 0)
        return 0;
    for (const char *c = rest; *c;) {
        if (strncmp(c, ".#attributes.", 13) == 0) {
            if (n + 1 >= LIMIT_FIELD_NAME_LEN)
                return 0;
            out[n++] = '_';
            c += 13;
        } else if (strcmp(c, ".#text") == 0) {
            break;
        } else {
            if (n + 1 >= LIMIT_FIELD_NAME_LEN)
                return 0;
            out[n++] = *c++;
        }
    }
    return n;
}

static int augment_flatten(const struct sigma_map *m, struct event *ev)
{
    char name[LIMIT_FIELD_NAME_LEN];
    uint32_t n0 = ev->nfields;
    int r;

    if (!m->nflat)
        return 0;
    for (uint32_t i = 0; i < n0; i++) {
        /* ev->fields may move as fields are added: copy what we need. */
        const char *fname = field_name(ev->fields[i].id);
        const char *val = ev->fields[i].val;
        size_t len = ev->fields[i].len;
        if (!fname)
            continue;
        for (size_t k = 0; k < m->nflat; k++) {
            const struct map_flatten *f = &m->flat[k];
            if (strncmp(fname, f->prefix, f->len) != 0)
                continue;
            size_t nn = flatten_name(f->keep, fname + f->len, name);
            if (nn == 0)
                break;
            uint32_t id = field_intern(name, nn);
            if (id == FIELD_NONE) {
                ev->dropped++;
                break;
            }
            if ((r = add_view(ev, id, val, len)) < 0)
                return r;
            break; /* first matching prefix only */
        }
    }
    return 0;
}

int sigma_map_augment(const struct sigma_map *m, struct event *ev)
{
    int r;

    if (!m)
        return 0;
    if ((r = augment_flatten(m, ev)) < 0)
        return r;
    for (size_t k = 0; k < m->nfields; k++) {
        const struct map_field *f = &m->fields[k];
        if (has_field(ev, f->id))
            continue;
        for (size_t a = 0; a < f->nalts; a++) {
            uint32_t n0 = ev->nfields;
            int found = 0;
            for (uint32_t i = 0; i < n0; i++) {
                if (ev->fields[i].id != f->alts[a])
                    continue;
                const char *val = ev->fields[i].val;
                size_t len = ev->fields[i].len;
                found = 1;
                if ((r = add_view(ev, f->id, val, len)) < 0)
                    return r;
            }
            if (found)
                break;
        }
    }
    return 0;
}
