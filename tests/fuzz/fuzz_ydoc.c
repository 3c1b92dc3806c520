/*
 * fuzz_ydoc.c - libFuzzer target for util/ydoc.c.
 *
 * The bytes are a YAML file.  ydoc loads it and walks the root with a
 * keyword table whose handlers run every typed getter on whatever node they
 * are given, and recurse into mappings (as keywords under `inner`, as data
 * keys under any other) and lists.  The same bytes are then read as a
 * stream of documents, each root's pairs through the accessors; the first
 * document must load or fail as ydoc_load's did.  Nothing may crash, leak
 * or read past the input; a refusal must leave a message and a position
 * inside the input; a getter that accepts must give a value inside its
 * bounds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ydoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How deep the handlers follow nested mappings (libyaml's own nesting is
 * bounded by the input size; this keeps the walk quick). */
#define FUZZ_DEPTH 8

struct fuzz_state {
    int depth;
};

static int kw_any(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg);

static const struct ydoc_key keys[] = {
    {"inner", kw_any}, {"level", kw_any}, {"list", kw_any}, {"name", kw_any},   {"on", kw_any},
    {"port", kw_any},  {"ratio", kw_any}, {"size", kw_any}, {"window", kw_any},
};
static const struct ydoc_table table = {keys, YDOC_NKEYS(keys), NULL, NULL};

/* Each getter on `v`; the results are checked against their bounds. */
static void getters(struct ydoc *d, yaml_node_t *v)
{
    static const char *const names[] = {"low", "medium", "high"};
    struct parse_err *saved = d->err;
    const char *s;
    size_t len;
    char *dup = NULL, **list = NULL;
    size_t nlist = 0;
    uint64_t u;
    int64_t i, us;
    double x;
    int b, n;

    /* Each getter on its own: the first error would stop the others. */
    d->err = NULL;
    if (ydoc_str(d, v, &s, &len) == 0 && memchr(s, '\0', len))
        abort();
    if (ydoc_strdup(d, v, 1, 16, &dup) == 0 && (strlen(dup) < 1 || strlen(dup) > 16))
        abort();
    free(dup);
    if (ydoc_strlist(d, v, 4, 0, 8, &list, &nlist) == 0 && nlist > 4)
        abort();
    for (size_t k = 0; k < nlist; k++) {
        if (list[k] && strlen(list[k]) > 8)
            abort();
        free(list[k]);
    }
    free(list);
    if (ydoc_bool(d, v, NULL, &b) == 0 && b != 0 && b != 1)
        abort();
    if (ydoc_uint(d, v, 1, 65535, NULL, &u) == 0 && (u < 1 || u > 65535))
        abort();
    if (ydoc_bytes(d, v, 0, UINT64_MAX, NULL, &u) < 0 && ydoc_scalar(v, NULL) &&
        ydoc_uint(d, v, 0, UINT64_MAX, NULL, &u) == 0)
        abort(); /* what ydoc_uint takes, ydoc_bytes takes too */
    if (ydoc_int(d, v, -5, 5, NULL, &i) == 0 && (i < -5 || i > 5))
        abort();
    if (ydoc_double(d, v, -1, 1, NULL, &x) == 0 && !(x >= -1 && x <= 1))
        abort();
    if (ydoc_duration(d, v, YDOC_DUR_BARE, &us) == 0 &&
        (us <= 0 || us > INT64_C(366) * 86400 * 1000000))
        abort();
    if (ydoc_name(d, v, names, 3, 1, NULL, &n) == 0 && (n < 0 || n > 2))
        abort();
    d->err = saved;
}

static int kw_any(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct fuzz_state *st = arg;
    size_t n = 0;
    int r = 0;

    getters(d, v);
    if (st->depth >= FUZZ_DEPTH)
        return 0;
    st->depth++;
    if (v->type == YAML_MAPPING_NODE && ydoc_scalar_is(k, "inner")) {
        r = ydoc_walk(d, v, &table, st);
    } else if (v->type == YAML_MAPPING_NODE) {
        /* Data keys: every pair, whatever its key. */
        r = ydoc_pairs(d, v, kw_any, st);
    } else if (v->type == YAML_SEQUENCE_NODE && (r = ydoc_list(d, v, 0, 64, &n)) == 0) {
        for (size_t j = 0; j < n && r == 0; j++) {
            yaml_node_t *it = ydoc_list_at(d, v, j);
            if (it && it->type == YAML_MAPPING_NODE)
                r = ydoc_walk(d, it, &table, st);
        }
    }
    st->depth--;
    return r;
}

/* The documents of `text` one at a time; `first` is what ydoc_load said. */
static void stream(const char *text, size_t size, int first)
{
    struct ydoc_stream ys;
    struct parse_err e;
    struct ydoc d;
    int r;

    if (ydoc_stream_open(&ys, text, size, &e) < 0)
        return;
    for (int i = 0; i < 64; i++) {
        yaml_node_t *root, *k, *v, *last = NULL;
        const char *ks;
        size_t n = 0, klen = 0;

        r = ydoc_stream_next(&ys, &d);
        if (i == 0 && r != -ENOMEM && (r < 0) != (first < 0))
            abort();
        if (r == -EINVAL && (!e.msg || e.off > size))
            abort();
        if (r > 0 && !ydoc_top(&d))
            abort();
        root = ydoc_root(&d);
        while (ydoc_pair_at(&d, root, n, &k, &v) == 0) {
            if (!k || !v)
                abort();
            last = k;
            n++;
        }
        if (n != (root && root->type == YAML_MAPPING_NODE ? ydoc_len(root) : 0))
            abort();
        /* A key is found by its name (one with a NUL byte cannot be named). */
        ks = ydoc_scalar(last, &klen);
        if (ks && !memchr(ks, '\0', klen) && !ydoc_get(&d, root, ks))
            abort();
        ydoc_done(&d);
        if (r <= 0)
            break;
    }
    ydoc_stream_done(&ys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state st = {0};
    struct parse_err e;
    struct ydoc d;
    char *copy, buf[512];
    int r, lr;

    /* A heap copy of exactly `size` bytes, so ASan sees any over-read. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    r = lr = ydoc_load(&d, copy, size, &e);
    if (r == 0) {
        yaml_node_t *root = ydoc_root(&d);
        if (root)
            r = ydoc_walk(&d, root, &table, &st);
    }
    if (r == -EINVAL) {
        if (!e.msg || e.off > size)
            abort();
        ydoc_err_format(buf, sizeof(buf), "fuzz.yaml", &e);
    } else if (r != 0 && r != -ENOMEM) {
        abort();
    }
    ydoc_done(&d);
    stream(copy, size, lr);
    free(copy);
    return 0;
}
