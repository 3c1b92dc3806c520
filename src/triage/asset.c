/*
 * asset.c - the asset inventory: YAML and CSV loaders, lookups.
 *
 * Inventories are small (hundreds to a few thousand rows) and are consulted
 * per alert, not per event, so lookups scan the array; the scan keeps the
 * longest-prefix rule obvious.
 */
#include "triage/asset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/readfile.h"
#include "util/ydoc.h"

/* Longest text taken as an address or network: a full IPv6 with an
 * embedded IPv4 and "/128" fits easily. */
#define NET_TEXT_MAX 64

static int ci_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    return alen == blen && strncasecmp(a, b, alen) == 0;
}

static int parse_prefix(const char *s, size_t len, unsigned max, unsigned *ret)
{
    unsigned v = 0;

    if (len == 0 || len > 3)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int asset_net_parse(const char *s, size_t len, struct asset_net *ret)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char buf[NET_TEXT_MAX];
    const char *slash;
    size_t alen;
    unsigned max;
    int has_prefix;

    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    slash = memchr(s, '/', len);
    alen = slash ? (size_t)(slash - s) : len;
    has_prefix = slash != NULL;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(ret, 0, sizeof(*ret));
    if (memchr(buf, ':', alen)) {
        ret->family = AF_INET6;
        max = 128;
        if (inet_pton(AF_INET6, buf, ret->addr) != 1)
            return -EINVAL;
    } else {
        ret->family = AF_INET;
        max = 32;
        if (inet_pton(AF_INET, buf, ret->addr) != 1)
            return -EINVAL;
    }
    ret->prefix = max;
    if (has_prefix && parse_prefix(slash + 1, len - alen - 1, max, &ret->prefix) < 0)
        return -EINVAL;
    if (ret->family == AF_INET6 && memcmp(ret->addr, v4mapped, 12) == 0 &&
        (!has_prefix || ret->prefix >= 96)) {
        memmove(ret->addr, ret->addr + 12, 4);
        memset(ret->addr + 4, 0, 12);
        ret->family = AF_INET;
        ret->prefix -= 96;
    }
    /* Clear host bits so that containment is a plain prefix compare. */
    for (unsigned bit = ret->prefix; bit < 128; bit++)
        ret->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    return 0;
}

int asset_net_contains(const struct asset_net *net, const struct asset_net *ip)
{
    unsigned full = net->prefix / 8, rest = net->prefix % 8;

    if (net->family != ip->family || ip->prefix < net->prefix)
        return 0;
    if (memcmp(net->addr, ip->addr, full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xffu << (8 - rest));
        if ((net->addr[full] & mask) != (ip->addr[full] & mask))
            return 0;
    }
    return 1;
}

enum asset_crit asset_crit_parse(const char *s, size_t len)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};

    for (size_t i = 0; i < 4; i++)
        if (ci_eq(s, len, names[i]))
            return (enum asset_crit)(ASSET_CRIT_LOW + i);
    return ASSET_CRIT_NONE;
}

enum asset_category asset_category_parse(const char *s, size_t len)
{
    if (len != 1)
        return ASSET_CAT_NONE;
    switch (s[0]) {
    case 'A': case 'a': return ASSET_CAT_A;
    case 'B': case 'b': return ASSET_CAT_B;
    case 'C': case 'c': return ASSET_CAT_C;
    case 'D': case 'd': return ASSET_CAT_D;
    default: return ASSET_CAT_NONE;
    }
}

const char *asset_crit_name(enum asset_crit c)
{
    static const char *const names[] = {"unknown", "low", "medium", "high", "critical"};

    return (unsigned)c < ASSET_CRIT_COUNT ? names[c] : "unknown";
}

const char *asset_category_name(enum asset_category c)
{
    static const char *const names[] = {"unknown", "A", "B", "C", "D"};

    return (unsigned)c <= ASSET_CAT_D ? names[c] : "unknown";
}

void asset_inv_init(struct asset_inv *inv)
{
    memset(inv, 0, sizeof(*inv));
}

static void asset_clear(struct asset *a)
{
    free(a->name);
    free(a->owner);
    for (size_t i = 0; i < a->ntags; i++)
        free(a->tags[i]);
    memset(a, 0, sizeof(*a));
}

void asset_inv_done(struct asset_inv *inv)
{
    for (size_t i = 0; i < inv->n; i++)
        asset_clear(&inv->v[i]);
    free(inv->v);
    for (size_t i = 0; i < inv->nissues; i++)
        free(inv->issues[i].file);
    asset_inv_init(inv);
}

/* Records a rejected row.  Past the cap only the total grows: a file of a
 * million bad rows must not cost a million allocations. */
static int add_issue(struct asset_inv *inv, const char *file, unsigned line, const char *reason)
{
    struct asset_issue *is;

    inv->issues_total++;
    if (inv->nissues >= ASSET_MAX_ISSUES)
        return 0;
    is = &inv->issues[inv->nissues];
    is->file = strdup(file ? file : "-");
    if (!is->file)
        return -ENOMEM;
    is->line = line;
    is->reason = reason;
    inv->nissues++;
    return 0;
}

/* Takes ownership of *a (cleared on every path). */
static int add_asset(struct asset_inv *inv, struct asset *a)
{
    if (inv->n == inv->cap) {
        size_t ncap = inv->cap ? inv->cap * 2 : 64;
        struct asset *nv = realloc(inv->v, ncap * sizeof(*nv));
        if (!nv) {
            asset_clear(a);
            return -ENOMEM;
        }
        inv->v = nv;
        inv->cap = ncap;
    }
    inv->v[inv->n++] = *a;
    inv->rows_loaded++;
    memset(a, 0, sizeof(*a));
    return 0;
}

static char *dup_trim(const char *s, size_t len)
{
    char *d;

    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Splits a tag list on `sep` into a->tags.  Returns 0, -ENOMEM, or -E2BIG
 * past ASSET_MAX_TAGS. */
static int add_tags(struct asset *a, const char *s, size_t len, char sep)
{
    size_t i = 0;

    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != sep)
            j++;
        if (j > i) {
            char *t;
            if (a->ntags >= ASSET_MAX_TAGS)
                return -E2BIG;
            if (!(t = dup_trim(s + i, j - i)))
                return -ENOMEM;
            if (!*t)
                free(t);
            else
                a->tags[a->ntags++] = t;
        }
        i = j + 1;
    }
    return 0;
}

/* One column or key of a row.  Returns 0, -ENOMEM, or -EINVAL with
 * *ret_reason set. */
static int set_column(struct asset *a, const char *key, size_t klen, const char *v, size_t vlen,
                      char tag_sep, const char **ret_reason)
{
    if (ci_eq(key, klen, "name") || ci_eq(key, klen, "host")) {
        free(a->name);
        if (!(a->name = dup_trim(v, vlen)))
            return -ENOMEM;
        if (!*a->name) {
            free(a->name);
            a->name = NULL;
        }
    } else if (ci_eq(key, klen, "address") || ci_eq(key, klen, "cidr") ||
               ci_eq(key, klen, "network") || ci_eq(key, klen, "ip")) {
        if (vlen == 0)
            return 0;
        if (asset_net_parse(v, vlen, &a->net) < 0) {
            *ret_reason = "bad address or CIDR";
            return -EINVAL;
        }
        a->has_net = 1;
    } else if (ci_eq(key, klen, "owner")) {
        free(a->owner);
        if (!(a->owner = dup_trim(v, vlen)))
            return -ENOMEM;
    } else if (ci_eq(key, klen, "criticality")) {
        if (vlen == 0)
            return 0;
        if ((a->crit = asset_crit_parse(v, vlen)) == ASSET_CRIT_NONE) {
            *ret_reason = "criticality is not low, medium, high or critical";
            return -EINVAL;
        }
    } else if (ci_eq(key, klen, "category")) {
        if (vlen == 0)
            return 0;
        if ((a->cat = asset_category_parse(v, vlen)) == ASSET_CAT_NONE) {
            *ret_reason = "category is not A, B, C or D";
            return -EINVAL;
        }
    } else if (ci_eq(key, klen, "tags")) {
        int r = add_tags(a, v, vlen, tag_sep);
        if (r == -E2BIG)
            *ret_reason = "too many tags";
        return r == -E2BIG ? -EINVAL : r;
    } else {
        *ret_reason = "unknown key";
        return -EINVAL;
    }
    return 0;
}

/* Adds a finished row, or records why it cannot be one. */
static int finish_row(struct asset_inv *inv, struct asset *a, const char *file, unsigned line)
{
    if (!a->name && !a->has_net) {
        asset_clear(a);
        return add_issue(inv, file, line, "row has neither name nor address");
    }
    if (inv->n >= ASSET_MAX_ENTRIES) {
        asset_clear(a);
        return add_issue(inv, file, line, "inventory full");
    }
    a->line = line;
    return add_asset(inv, a);
}

/* ---- YAML ---- */

static int yaml_row(struct asset_inv *inv, struct ydoc *d, yaml_node_t *row, const char *file)
{
    struct asset a;
    unsigned line = ydoc_line(row);
    const char *reason = NULL;
    int r;

    memset(&a, 0, sizeof(a));
    if (row->type != YAML_MAPPING_NODE)
        return add_issue(inv, file, line, "asset is not a mapping");
    for (yaml_node_pair_t *p = row->data.mapping.pairs.start; p < row->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ydoc_node(d, p->key);
        yaml_node_t *v = ydoc_node(d, p->value);
        size_t klen = 0, vlen = 0;
        const char *ks = ydoc_scalar(k, &klen), *vs = ydoc_scalar(v, &vlen);

        if (!ks || !v) {
            reason = "key is not a scalar";
            r = -EINVAL;
        } else if (v->type == YAML_SEQUENCE_NODE && ci_eq(ks, klen, "tags")) {
            size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
            r = 0;
            for (size_t i = 0; r == 0 && i < n; i++) {
                const char *t = ydoc_scalar(ydoc_list_at(d, v, i), &vlen);
                if (!t) {
                    reason = "tag is not a scalar";
                    r = -EINVAL;
                } else if ((r = add_tags(&a, t, vlen, '\0')) == -E2BIG) {
                    reason = "too many tags";
                    r = -EINVAL;
                }
            }
        } else if (!vs) {
            reason = "value is not a scalar";
            r = -EINVAL;
        } else {
            r = set_column(&a, ks, klen, vs, vlen, ',', &reason);
        }
        if (r < 0) {
            if (k)
                line = ydoc_line(k);
            asset_clear(&a);
            return r == -ENOMEM ? r : add_issue(inv, file, line, reason);
        }
    }
    return finish_row(inv, &a, file, line);
}

int asset_inv_load_yaml(struct asset_inv *inv, const char *text, size_t len, const char *file)
{
    struct parse_err e;
    struct ydoc d;
    yaml_node_t *root, *list = NULL;
    size_t before = inv->n, n;
    int r;

    if ((r = ydoc_load(&d, text, len, &e)) < 0) {
        if (r == -EINVAL)
            r = add_issue(inv, file, e.line, e.msg);
        ydoc_done(&d);
        return r < 0 ? r : 0;
    }
    root = ydoc_root(&d);
    if (!root)
        goto out; /* an empty file is an empty inventory */
    if (root->type == YAML_SEQUENCE_NODE) {
        list = root;
    } else if (root->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            size_t klen = 0;
            const char *k = ydoc_scalar(ydoc_node(&d, p->key), &klen);
            if (k && ci_eq(k, klen, "assets"))
                list = ydoc_node(&d, p->value);
        }
    }
    if (!list || list->type != YAML_SEQUENCE_NODE) {
        r = add_issue(inv, file, ydoc_line(root),
                      "expected a list of assets (or a mapping with key `assets`)");
        goto out;
    }
    n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    for (size_t i = 0; r == 0 && i < n; i++) {
        yaml_node_t *row = ydoc_list_at(&d, list, i);
        if (row)
            r = yaml_row(inv, &d, row, file);
    }
out:
    ydoc_done(&d);
    return r < 0 ? r : (int)(inv->n - before);
}

/* ---- CSV ---- */

#define CSV_MAX_COLS 16

struct csv_field {
    const char *s; /* into the text, or into `unq` when it was quoted */
    size_t len;
};

/*
 * Splits one line (no newline) into fields.  Quoted fields ("a,b", "say
 * ""hi""") are unquoted into `unq` (at least `len` bytes).  Returns the
 * number of fields, or -EINVAL for more than CSV_MAX_COLS or an unbalanced
 * quote.
 */
static int csv_split(const char *s, size_t len, char *unq, struct csv_field *f)
{
    size_t i = 0, u = 0;
    int n = 0;

    for (;;) {
        if (n >= CSV_MAX_COLS)
            return -EINVAL;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i < len && s[i] == '"') {
            size_t start = u;
            int closed = 0;
            i++;
            while (i < len) {
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        unq[u++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    closed = 1;
                    break;
                }
                unq[u++] = s[i++];
            }
            if (!closed)
                return -EINVAL;
            f[n].s = unq + start;
            f[n].len = u - start;
            while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (i < len && s[i] != ',')
                return -EINVAL;
        } else {
            size_t start = i;
            while (i < len && s[i] != ',')
                i++;
            f[n].s = s + start;
            f[n].len = i - start;
        }
        n++;
        if (i >= len)
            return n;
        i++; /* the comma */
    }
}

int asset_inv_load_csv(struct asset_inv *inv, const char *text, size_t len, const char *file)
{
    struct csv_field f[CSV_MAX_COLS], hdr[CSV_MAX_COLS];
    char *unq = NULL, *hunq = NULL;
    size_t before = inv->n, pos = 0;
    unsigned line = 0;
    int ncols = -1, r = 0;

    if (!(unq = malloc(len + 1)) || !(hunq = malloc(len + 1))) {
        r = -ENOMEM;
        goto out;
    }
    while (r == 0 && pos < len) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos, t = 0;
        struct asset a;
        const char *reason = NULL;
        int n;

        pos += l + (nl ? 1 : 0);
        line++;
        if (l > 0 && s[l - 1] == '\r')
            l--;
        while (t < l && (s[t] == ' ' || s[t] == '\t'))
            t++;
        if (t == l || s[t] == '#')
            continue;
        if (ncols < 0) {
            /* The header: every column must be one we know, so that a typo
             * is reported rather than silently ignored. */
            n = csv_split(s, l, hunq, hdr);
            if (n < 0) {
                r = add_issue(inv, file, line, "bad CSV header");
                goto out;
            }
            memset(&a, 0, sizeof(a));
            for (int c = 0; c < n; c++) {
                if (set_column(&a, hdr[c].s, hdr[c].len, "", 0, ';', &reason) < 0) {
                    asset_clear(&a);
                    r = add_issue(inv, file, line, "unknown column in CSV header");
                    goto out;
                }
            }
            asset_clear(&a);
            ncols = n;
            continue;
        }
        n = csv_split(s, l, unq, f);
        if (n < 0) {
            r = add_issue(inv, file, line, "bad quoting or too many fields");
            continue;
        }
        if (n != ncols) {
            r = add_issue(inv, file, line, "wrong number of fields");
            continue;
        }
        memset(&a, 0, sizeof(a));
        for (int c = 0; c < n && r == 0; c++)
            r = set_column(&a, hdr[c].s, hdr[c].len, f[c].s, f[c].len, ';', &reason);
        if (r < 0) {
            asset_clear(&a);
            r = r == -ENOMEM ? r : add_issue(inv, file, line, reason);
            continue;
        }
        r = finish_row(inv, &a, file, line);
    }
out:
    free(unq);
    free(hunq);
    return r < 0 ? r : (int)(inv->n - before);
}

int asset_inv_load_file(struct asset_inv *inv, const char *path)
{
    char *text;
    size_t len, plen = strlen(path);
    int r;

    r = readfile_all(path, ASSET_MAX_FILE_BYTES, &text, &len);
    if (r < 0) {
        int r2 = add_issue(inv, path, 0, "cannot read file");
        return r2 < 0 ? r2 : r;
    }
    if (plen >= 4 && strcasecmp(path + plen - 4, ".csv") == 0)
        r = asset_inv_load_csv(inv, text, len, path);
    else
        r = asset_inv_load_yaml(inv, text, len, path);
    free(text);
    return r;
}

const struct asset *asset_inv_by_name(const struct asset_inv *inv, const char *name, size_t len)
{
    const char *dot;

    if (len == 0)
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < inv->n; i++)
            if (inv->v[i].name && ci_eq(name, len, inv->v[i].name))
                return &inv->v[i];
        /* "web01.example.org" finds an entry named "web01". */
        dot = memchr(name, '.', len);
        if (!dot || dot == name)
            break;
        len = (size_t)(dot - name);
    }
    return NULL;
}

const struct asset *asset_inv_by_ip(const struct asset_inv *inv, const char *ip, size_t len)
{
    const struct asset *best = NULL;
    struct asset_net a;

    if (asset_net_parse(ip, len, &a) < 0 || memchr(ip, '/', len))
        return NULL;
    for (size_t i = 0; i < inv->n; i++) {
        const struct asset *e = &inv->v[i];
        if (e->has_net && asset_net_contains(&e->net, &a) &&
            (!best || e->net.prefix > best->net.prefix))
            best = e;
    }
    return best;
}
