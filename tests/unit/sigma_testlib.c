/*
 * sigma_testlib.c - the sample-data plumbing of the Sigma tests and of
 * bench_sigma (see sigma_testlib.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigma_testlib.h"

#include "decode/decode.h"
#include "event/event.h"
#include "input/input_evtx.h"
#include "util/arena.h"

const char *sigma_testlib_shared_dir(void)
{
    const char *d = getenv("HIKESHI_SHARED");
    return d && *d ? d : "../shared";
}

const char *sigma_testlib_source_dir(void)
{
    const char *d = getenv("HIKESHI_SOURCE");
    return d && *d ? d : ".";
}

static int paths_add(struct sigma_testlib_paths *pv, const char *p)
{
    if (pv->n == pv->cap) {
        size_t ncap = pv->cap ? pv->cap * 2 : 256;
        char **nv = realloc(pv->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        pv->v = nv;
        pv->cap = ncap;
    }
    if (!(pv->v[pv->n] = strdup(p)))
        return -ENOMEM;
    pv->n++;
    return 0;
}

int sigma_testlib_find_files(const char *dir, const char *suffix, struct sigma_testlib_paths *pv)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t sl = strlen(suffix);
    int r = 0;

    if (!d)
        return -errno;
    while (r == 0 && (de = readdir(d))) {
        char path[4096];
        struct stat st;
        size_t n = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            r = sigma_testlib_find_files(path, suffix, pv);
        else if (n > sl && strcmp(de->d_name + n - sl, suffix) == 0)
            r = paths_add(pv, path);
    }
    closedir(d);
    return r;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sigma_testlib_paths_sort(struct sigma_testlib_paths *pv)
{
    if (pv->n)
        qsort(pv->v, pv->n, sizeof(*pv->v), str_cmp);
}

void sigma_testlib_paths_free(struct sigma_testlib_paths *pv)
{
    for (size_t i = 0; i < pv->n; i++)
        free(pv->v[i]);
    free(pv->v);
    pv->v = NULL;
    pv->n = pv->cap = 0;
}

char *sigma_testlib_slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;

    if (!f)
        return NULL;
    do {
        if (len + 4096 > cap) {
            char *nb;
            cap = cap * 2 + 8192;
            if (!(nb = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        errno = EIO;
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    *ret_len = len;
    return buf;
}

size_t sigma_testlib_json_object_len(const char *p, size_t len)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{')
            depth++;
        else if (c == '}' && --depth == 0)
            return i + 1;
    }
    return 0;
}

/* Decodes one record into `ev` on arena `a` and hands it to fn. */
static void decode_one(struct arena *a, const char *rec, size_t len, const struct decoder *d,
                       sigma_testlib_event_fn fn, void *arg)
{
    struct decode_ctx ctx = {0};
    struct parse_err perr = {0};
    struct event ev;
    int rc;

    event_init(&ev, a, rec, len, 0);
    rc = decode_record(&ev, d, &ctx, &perr);
    fn(arg, &ev, rc, &perr);
    event_reset(&ev);
}

int sigma_testlib_evtx_each(const char *path, const char *decoder, size_t max, int skip_recovered,
                            sigma_testlib_event_fn fn, void *arg, size_t *ret_recovered,
                            size_t *ret_skipped)
{
    const struct decoder *d = decoder ? decode_lookup(decoder) : NULL;
    struct input_evtx *in = NULL;
    struct arena a;
    const char *xml;
    size_t len, recovered = 0;
    int rc;

    if (decoder && !d)
        return -EINVAL;
    if ((rc = input_evtx_open(path, &in)) < 0)
        return rc;
    arena_init(&a, 0);
    for (size_t k = 0; k < max;) {
        uint64_t before = input_evtx_stats(in)->recovered;
        if ((rc = input_evtx_next(in, &xml, &len)) <= 0)
            break;
        if (skip_recovered && input_evtx_stats(in)->recovered != before) {
            /* Free-space fragments are not part of the file's events. */
            recovered++;
            continue;
        }
        decode_one(&a, xml, len, d, fn, arg);
        k++;
    }
    if (ret_recovered)
        *ret_recovered = recovered;
    if (ret_skipped)
        *ret_skipped = (size_t)input_evtx_stats(in)->skipped;
    arena_done(&a);
    input_evtx_free(in);
    return rc < 0 ? rc : 0;
}

int sigma_testlib_json_each(const char *path, sigma_testlib_event_fn fn, void *arg)
{
    const struct decoder *json = decode_lookup("json");
    struct arena a;
    size_t len, off = 0;
    char *s = sigma_testlib_slurp(path, &len);
    int r = 0;

    if (!s)
        return -errno;
    if (!json) {
        free(s);
        return -EINVAL;
    }
    arena_init(&a, 0);
    while (off < len) {
        size_t n;
        while (off < len && s[off] != '{')
            off++;
        if (off >= len)
            break;
        if ((n = sigma_testlib_json_object_len(s + off, len - off)) == 0) {
            r = -EBADMSG;
            break;
        }
        decode_one(&a, s + off, n, json, fn, arg);
        off += n;
    }
    arena_done(&a);
    free(s);
    return r;
}
