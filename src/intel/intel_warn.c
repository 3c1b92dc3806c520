/*
 * intel_warn.c - MISP warninglists: well-known benign values (public
 * resolvers, cloud ranges, top domains, empty-file hashes) that must never
 * become indicators.  Each list is kept as sorted lower-case strings or
 * as networks, and applies to the indicator types its
 * matching_attributes name.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "intel/intel_priv.h"
#include "util/cidr.h"
#include "util/readfile.h"

/* A list file read whole; the largest published lists are a few MiB. */
#define WARN_FILE_MAX (32 * 1024 * 1024)
#define WARN_LISTS_MAX 1024

enum warn_kind { WARN_CIDR, WARN_STRING, WARN_HOSTNAME, WARN_SUBSTRING };

struct warn_list {
    char name[128];
    enum warn_kind kind;
    unsigned types; /* bit per enum intel_type */
    char **s;       /* sorted, lower case (not cidr) */
    struct cidr *nets;
    size_t n;
};

struct intel_warn {
    struct warn_list *l;
    size_t n, skipped;
};

static unsigned types_of(const char *attr)
{
    static const struct {
        const char *a;
        unsigned m;
    } map[] = {
        {"ip-src", 1u << INTEL_IPV4 | 1u << INTEL_IPV6},
        {"ip-dst", 1u << INTEL_IPV4 | 1u << INTEL_IPV6},
        {"ip-src|port", 1u << INTEL_IPV4 | 1u << INTEL_IPV6},
        {"ip-dst|port", 1u << INTEL_IPV4 | 1u << INTEL_IPV6},
        {"domain|ip", 1u << INTEL_IPV4 | 1u << INTEL_IPV6 | 1u << INTEL_DOMAIN},
        {"domain", 1u << INTEL_DOMAIN},
        {"hostname", 1u << INTEL_HOSTNAME},
        {"url", 1u << INTEL_URL},
        {"uri", 1u << INTEL_URL},
        {"email", 1u << INTEL_EMAIL},
        {"email-src", 1u << INTEL_EMAIL},
        {"email-dst", 1u << INTEL_EMAIL},
        {"md5", 1u << INTEL_MD5},
        {"filename|md5", 1u << INTEL_MD5},
        {"sha1", 1u << INTEL_SHA1},
        {"filename|sha1", 1u << INTEL_SHA1},
        {"sha256", 1u << INTEL_SHA256},
        {"filename|sha256", 1u << INTEL_SHA256},
        {"ja3-fingerprint-md5", 1u << INTEL_JA3},
        {"user-agent", 1u << INTEL_USER_AGENT},
        {"regkey", 1u << INTEL_REGKEY},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(attr, map[i].a) == 0)
            return map[i].m;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_done(struct warn_list *l)
{
    for (size_t i = 0; l->s && i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    free(l->nets);
}

void intel_warn_free(struct intel_warn *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        list_done(&w->l[i]);
    free(w->l);
    free(w);
}

size_t intel_warn_lists(const struct intel_warn *w)
{
    return w ? w->n : 0;
}

size_t intel_warn_skipped(const struct intel_warn *w)
{
    return w ? w->skipped : 0;
}

/* Reads one list.json into l: 0, 1 (a list of a type we skip), or
 * -EINVAL with why. */
static int load_list(const char *buf, size_t len, struct warn_list *l, const char **why)
{
    struct jp_span root, v, el;
    struct jp_iter it;
    struct parse_err perr = {0, 0, 0, NULL};
    char type[32], s[INTEL_VALUE_MAX + 1];
    size_t cap;

    if (jp_doc(buf, len, &root, &perr) < 0) {
        *why = perr.msg;
        return -EINVAL;
    }
    if (intel_member_str(root, "type", type, sizeof(type) - 1) < 0) {
        *why = "no type";
        return -EINVAL;
    }
    if (intel_member_str(root, "name", l->name, sizeof(l->name) - 1) < 0)
        snprintf(l->name, sizeof(l->name), "unnamed");
    if (strcmp(type, "cidr") == 0)
        l->kind = WARN_CIDR;
    else if (strcmp(type, "string") == 0)
        l->kind = WARN_STRING;
    else if (strcmp(type, "hostname") == 0)
        l->kind = WARN_HOSTNAME;
    else if (strcmp(type, "substring") == 0)
        l->kind = WARN_SUBSTRING;
    else
        return 1;
    if (jp_lookup(root, "matching_attributes", &v) == 0 && jp_iter_init(&it, v) == 0)
        while (jp_iter_next(&it, NULL, &el) == 1)
            if (intel_span_str(el, s, sizeof(s) - 1) == 0)
                l->types |= types_of(s);
    if (jp_lookup(root, "list", &v) < 0 || jp_iter_init(&it, v) < 0) {
        *why = "no list array";
        return -EINVAL;
    }
    cap = v.len / 4 + 1; /* each entry takes at least 4 bytes: "x", */
    if (l->kind == WARN_CIDR ? !(l->nets = calloc(cap, sizeof(*l->nets)))
                             : !(l->s = calloc(cap, sizeof(*l->s))))
        return -ENOMEM;
    while (jp_iter_next(&it, NULL, &el) == 1 && l->n < cap) {
        size_t n;
        char *p = s;
        if (intel_span_str(el, s, sizeof(s) - 1) < 0)
            continue; /* not a string, or longer than any indicator */
        if (l->kind == WARN_CIDR) {
            if (cidr_parse(s, strlen(s), &l->nets[l->n]) == 0)
                l->n++;
            continue;
        }
        if (l->kind == WARN_HOSTNAME)
            while (*p == '.')
                p++; /* ".example.com": the name and below */
        n = strlen(p);
        while (n && p[n - 1] == '.' && l->kind != WARN_SUBSTRING)
            p[--n] = '\0';
        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            p[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
        if (!(l->s[l->n] = strdup(p)))
            return -ENOMEM;
        l->n++;
    }
    if (l->s)
        qsort(l->s, l->n, sizeof(*l->s), cmp_str);
    return 0;
}

static int load_file(struct intel_warn *w, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    const char *why = "bad list";
    struct warn_list *l;
    int r;

    if ((r = readfile_all(path, WARN_FILE_MAX, &buf, &len)) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    if (w->n >= WARN_LISTS_MAX) {
        free(buf);
        snprintf(err, errlen, "%s: more than %d warninglists", path, WARN_LISTS_MAX);
        return -E2BIG;
    }
    l = &w->l[w->n];
    memset(l, 0, sizeof(*l));
    r = load_list(buf, len, l, &why);
    free(buf);
    if (r == 1) {
        list_done(l);
        w->skipped++;
        return 0;
    }
    if (r < 0) {
        list_done(l);
        if (r == -EINVAL)
            snprintf(err, errlen, "%s: %s", path, why);
        return r;
    }
    w->n++;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The list files of `dir` (its subdirectories holding list.json), sorted
 * so that the first list to match is the same on every machine. */
static int load_dir(struct intel_warn *w, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d))) {
        char path[4096];
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s/list.json", dir, de->d_name) >= (int)sizeof(path) ||
            access(path, R_OK) < 0)
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*nn));
            if (!nn) {
                r = -ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(path))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r == 0 && n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (r == 0)
            r = load_file(w, names[i], err, errlen);
        free(names[i]);
    }
    free(names);
    return r;
}

int intel_warn_load(const char *dir, struct intel_warn **ret, char *err, size_t errlen)
{
    struct intel_warn *w = calloc(1, sizeof(*w));
    char sub[4096];
    int r;

    *ret = NULL;
    if (!w || !(w->l = calloc(WARN_LISTS_MAX, sizeof(*w->l)))) {
        free(w);
        return -ENOMEM;
    }
    snprintf(sub, sizeof(sub), "%s/lists", dir);
    r = load_dir(w, access(sub, X_OK) == 0 ? sub : dir, err, errlen);
    if (r == 0 && w->n == 0) {
        snprintf(err, errlen, "%s: no warninglist (*/list.json) found", dir);
        r = -ENOENT;
    } else if (r < 0 && !err[0]) {
        snprintf(err, errlen, "%s: %s", dir, strerror(-r));
    }
    if (r < 0) {
        intel_warn_free(w);
        return r;
    }
    *ret = w;
    return 0;
}

static int has(const struct warn_list *l, const char *s)
{
    return bsearch(&s, l->s, l->n, sizeof(*l->s), cmp_str) != NULL;
}

/* `name` or a name above it ("a.b.example.com": also b.example.com...). */
static int has_suffix(const struct warn_list *l, const char *name)
{
    for (const char *p = name; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
        if (*p && has(l, p))
            return 1;
    return 0;
}

static int list_holds(const struct warn_list *l, enum intel_type t, const char *v, const char *host)
{
    struct cidr c;

    switch (l->kind) {
    case WARN_CIDR:
        if ((t != INTEL_IPV4 && t != INTEL_IPV6) || cidr_parse(v, strlen(v), &c) < 0)
            return 0;
        for (size_t i = 0; i < l->n; i++)
            if (c.prefix >= l->nets[i].prefix && cidr_contains(&l->nets[i], c.family, c.addr))
                return 1;
        return 0;
    case WARN_STRING:
        return has(l, host ? host : v) || (host && has(l, v));
    case WARN_HOSTNAME:
        return has_suffix(l, host ? host : v);
    case WARN_SUBSTRING:
        for (size_t i = 0; i < l->n; i++)
            if (strstr(v, l->s[i]))
                return 1;
        return 0;
    }
    return 0;
}

const char *intel_warn_check(const struct intel_warn *w, enum intel_type t, const char *value)
{
    char host[256];
    const char *hp = NULL;

    if (!w)
        return NULL;
    if (t == INTEL_URL) {
        const char *b = strstr(value, "://"), *e;
        if (b) {
            b += 3;
            e = b + strcspn(b, "/?#:");
            if ((size_t)(e - b) < sizeof(host)) {
                memcpy(host, b, (size_t)(e - b));
                host[e - b] = '\0';
                hp = host;
            }
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        const struct warn_list *l = &w->l[i];
        if (!(l->types & (1u << t)))
            continue;
        if (list_holds(l, t, value, hp))
            return l->name;
    }
    return NULL;
}
