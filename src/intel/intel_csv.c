/*
 * intel_csv.c - plain lists (one value per line) and CSV files with a
 * header naming a value column (see intel.h).  Fields may be quoted with
 * '"' ("" inside is one quote); a line is at most one indicator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/intel_priv.h"

/* Columns of a CSV line read. */
#define CSV_COLS_MAX 32

struct csv_field {
    char *p;
    size_t len;
};

/* Splits line[0..len) (modified: quotes removed in place) into fields. */
static size_t split(char *line, size_t len, struct csv_field *f, size_t max)
{
    size_t n = 0, i = 0;

    while (n < max) {
        char *out = line + i;
        size_t o = 0;
        if (i < len && line[i] == '"') {
            i++;
            while (i < len) {
                if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
                    out[o++] = '"';
                    i += 2;
                } else if (line[i] == '"') {
                    i++;
                    break;
                } else {
                    out[o++] = line[i++];
                }
            }
            while (i < len && line[i] != ',')
                i++;
        } else {
            while (i < len && line[i] != ',')
                out[o++] = line[i++];
        }
        f[n].p = out;
        f[n].len = o;
        n++;
        if (i >= len)
            break;
        i++; /* the comma */
    }
    return n;
}

static int field_is(const struct csv_field *f, const char *name)
{
    size_t n = strlen(name), len = f->len;
    const char *p = f->p;

    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\t'))
        len--;
    return len == n && strncasecmp(p, name, n) == 0;
}

struct csv_cols {
    int value, type, confidence, tlp, tags;
};

static int header(struct csv_field *f, size_t n, struct csv_cols *c)
{
    c->value = c->type = c->confidence = c->tlp = c->tags = -1;
    for (size_t i = 0; i < n; i++) {
        if (field_is(&f[i], "value") || field_is(&f[i], "indicator") || field_is(&f[i], "ioc"))
            c->value = (int)i;
        else if (field_is(&f[i], "type"))
            c->type = (int)i;
        else if (field_is(&f[i], "confidence"))
            c->confidence = (int)i;
        else if (field_is(&f[i], "tlp"))
            c->tlp = (int)i;
        else if (field_is(&f[i], "tags"))
            c->tags = (int)i;
    }
    return c->value >= 0;
}

static int type_of(const struct csv_field *f)
{
    char t[64];

    if (f->len == 0 || f->len >= sizeof(t))
        return -1;
    memcpy(t, f->p, f->len);
    t[f->len] = '\0';
    return intel_type_parse(t);
}

static int csv_line(const struct intel_sink *s, struct intel_ind *ind, const struct csv_cols *c,
                    struct csv_field *f, size_t n, int force, const char *where)
{
    int t = force;
    const struct csv_field *v;

    if ((size_t)c->value >= n) {
        intel_bad(s, where, "no value column on this line");
        return 0;
    }
    v = &f[c->value];
    intel_ind_clear(ind);
    snprintf(ind->ref, sizeof(ind->ref), "%s", where);
    if (t < 0 && c->type >= 0 && (size_t)c->type < n && f[c->type].len &&
        (t = type_of(&f[c->type])) < 0) {
        intel_bad(s, where, "unknown type in the type column");
        return 0;
    }
    if (c->confidence >= 0 && (size_t)c->confidence < n && f[c->confidence].len) {
        char num[8];
        char *end;
        long k;
        if (f[c->confidence].len >= sizeof(num)) {
            intel_bad(s, where, "confidence is not 0 to 100");
            return 0;
        }
        memcpy(num, f[c->confidence].p, f[c->confidence].len);
        num[f[c->confidence].len] = '\0';
        k = strtol(num, &end, 10);
        if (*end || k < 0 || k > 100) {
            intel_bad(s, where, "confidence is not 0 to 100");
            return 0;
        }
        ind->confidence = (int)k;
    }
    if (c->tlp >= 0 && (size_t)c->tlp < n && f[c->tlp].len &&
        (ind->tlp = intel_tlp_parse(f[c->tlp].p, f[c->tlp].len)) < 0) {
        intel_bad(s, where, "unknown TLP (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)");
        return 0;
    }
    if (c->tags >= 0 && (size_t)c->tags < n) {
        const char *p = f[c->tags].p, *e = p + f[c->tags].len;
        while (p < e) {
            const char *q = memchr(p, ';', (size_t)(e - p));
            size_t l = q ? (size_t)(q - p) : (size_t)(e - p);
            /* T1234 and T1234.001 are ATT&CK techniques */
            intel_ind_tag(ind, l >= 5 && p[0] == 'T' && p[1] >= '0' && p[1] <= '9' ? INTEL_TAG_ATTACK
                                                                               : INTEL_TAG_LABEL,
                          p, l);
            p += l + (q ? 1 : 0);
        }
    }
    if (t < 0 && (t = intel_guess_type(v->p, v->len)) < 0) {
        intel_bad(s, where, "cannot tell the type of this value (give --type)");
        return 0;
    }
    return intel_emit(s, ind, t, v->p, v->len, where);
}

int intel_csv_parse(const char *buf, size_t len, int type, const struct intel_sink *s,
                    struct parse_err *reterr)
{
    struct intel_ind *ind = malloc(sizeof(*ind));
    struct csv_field f[CSV_COLS_MAX];
    struct csv_cols cols = {0, -1, -1, -1, -1};
    char *line = malloc(len + 1); /* no line is longer than the file */
    size_t off = 0;
    unsigned lineno = 0;
    int csv = 0, seen = 0, r = 0;

    (void)reterr; /* a list has no syntax to break: every line stands alone */
    if (!ind || !line) {
        free(ind);
        free(line);
        return -ENOMEM;
    }
    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (buf + off)) : len - off, n;
        char where[32];

        lineno++;
        memcpy(line, buf + off, l);
        line[l] = '\0';
        off += l + (nl ? 1 : 0);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', l)) {
            snprintf(where, sizeof(where), "line %u", lineno);
            intel_bad(s, where, "NUL byte in line");
            seen = 1;
            continue;
        }
        snprintf(where, sizeof(where), "line %u", lineno);
        if (csv) {
            n = split(line, l, f, CSV_COLS_MAX);
            r = csv_line(s, ind, &cols, f, n, type, where);
        } else if (!seen && memchr(line, ',', l) &&
                   (n = split(line, l, f, CSV_COLS_MAX)) > 1 && header(f, n, &cols)) {
            csv = 1; /* the first line is a header */
        } else {
            char *comma = memchr(line, ',', l);
            struct csv_cols whole_cols = {0, -1, -1, -1, -1};
            struct csv_field whole = {line, l};
            struct csv_field tv[2] = {{line, comma ? (size_t)(comma - line) : 0}, {NULL, 0}};

            if (!seen)
                cols = whole_cols;
            if (comma && type < 0 && comma != line && type_of(&tv[0]) >= 0) {
                /* "type,value" */
                struct csv_cols tvc = {1, 0, -1, -1, -1};
                tv[1] = (struct csv_field){comma + 1, l - (size_t)(comma - line) - 1};
                r = csv_line(s, ind, &tvc, tv, 2, -1, where);
            } else {
                /* a plain list: the whole line is the value */
                r = csv_line(s, ind, &whole_cols, &whole, 1, type, where);
            }
        }
        seen = 1;
        if (r < 0)
            break;
    }
    free(line);
    free(ind);
    return r < 0 ? r : 0;
}
