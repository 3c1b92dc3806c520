/*
 * input_evtx.c - EVTX files through libevtx, record by record.
 */
#include "input/input_evtx.h"

#include <errno.h>
#include <fcntl.h>
/* Debian's libevtx-dev announces the libbfio API (LIBEVTX_HAVE_BFIO) but
 * ships no libbfio.h.  We open files by name only: load the feature macros,
 * drop that one, then the header (its guard keeps the #undef). */
#include <libevtx/features.h>
#undef LIBEVTX_HAVE_BFIO
#include <libevtx.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/limits.h"

/* The signature at offset 0 of the file header. */
static const char evtx_magic[8] = {'E', 'l', 'f', 'F', 'i', 'l', 'e', '\0'};

struct input_evtx {
    libevtx_file_t *file; /* owned */
    int nrec;             /* records in the file's chunks */
    int nrecovered;       /* records libevtx recovered from free space */
    int next;             /* next index: 0..nrec-1, then nrec..nrec+nrecovered-1 */
    int skip_recovered;   /* live files: only the chunks' records */
    uint64_t last_id;     /* EventRecordID of the last record handed out */
    char *xml;            /* last record's XML, `cap` bytes (heap, owned) */
    size_t cap;
    struct input_evtx_stats st;
};

int input_evtx_is_evtx(const char *path)
{
    char head[sizeof(evtx_magic)];
    ssize_t k;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    do {
        k = read(fd, head, sizeof(head));
    } while (k < 0 && errno == EINTR);
    close(fd);
    return k == (ssize_t)sizeof(head) && memcmp(head, evtx_magic, sizeof(head)) == 0;
}

int input_evtx_open(const char *path, struct input_evtx **ret)
{
    struct input_evtx *r;
    libevtx_error_t *err = NULL;
    int fd, rc = 0;

    *ret = NULL;
    /* libevtx reports a missing file as a generic failure: find the errno
     * ourselves so that scan prints "No such file" rather than "invalid". */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    if (!input_evtx_is_evtx(path))
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    if (libevtx_file_initialize(&r->file, &err) != 1) {
        rc = -ENOMEM;
        goto out;
    }
    if (libevtx_file_open(r->file, path, LIBEVTX_OPEN_READ, &err) != 1) {
        /* Keep the handle NULL-safe for input_evtx_free: an unopened file
         * must not be closed. */
        libevtx_file_free(&r->file, NULL);
        rc = -EINVAL;
        goto out;
    }
    if (libevtx_file_get_number_of_records(r->file, &r->nrec, &err) != 1 || r->nrec < 0) {
        libevtx_error_free(&err);
        r->nrec = 0;
    }
    if (libevtx_file_get_number_of_recovered_records(r->file, &r->nrecovered, &err) != 1 ||
        r->nrecovered < 0) {
        libevtx_error_free(&err);
        r->nrecovered = 0;
    }
out:
    libevtx_error_free(&err);
    if (rc < 0) {
        input_evtx_free(r);
        return rc;
    }
    *ret = r;
    return 0;
}

/* Renders record `rec` into r->xml; 0, -EINVAL (unrenderable) or -ENOMEM. */
static int render(struct input_evtx *r, libevtx_record_t *rec, size_t *ret_len)
{
    libevtx_error_t *err = NULL;
    size_t size = 0;
    int rc = 0;

    if (libevtx_record_get_utf8_xml_string_size(rec, &size, &err) != 1 || size < 1 ||
        size > LIMIT_LINE_MAX) {
        rc = -EINVAL;
        goto out;
    }
    if (size > r->cap) {
        char *n = realloc(r->xml, size);
        if (!n) {
            rc = -ENOMEM;
            goto out;
        }
        r->xml = n;
        r->cap = size;
    }
    if (libevtx_record_get_utf8_xml_string(rec, (uint8_t *)r->xml, size, &err) != 1) {
        rc = -EINVAL;
        goto out;
    }
    /* size counts the NUL; trust the NUL, not the size, should they differ. */
    *ret_len = strnlen(r->xml, size);
out:
    libevtx_error_free(&err);
    return rc;
}

static void count_skip(struct input_evtx *r, int recovered)
{
    if (recovered)
        r->st.recovered_skipped++;
    else
        r->st.skipped++;
}

int input_evtx_next(struct input_evtx *r, const char **ret_xml, size_t *ret_len)
{
    int end = r->nrec + (r->skip_recovered ? 0 : r->nrecovered);

    while (r->next < end) {
        libevtx_record_t *rec = NULL;
        libevtx_error_t *err = NULL;
        int idx = r->next++, recovered = idx >= r->nrec, ok, rc;
        size_t len = 0;

        if (recovered)
            ok = libevtx_file_get_recovered_record_by_index(r->file, idx - r->nrec, &rec, &err);
        else
            ok = libevtx_file_get_record_by_index(r->file, idx, &rec, &err);
        libevtx_error_free(&err);
        if (ok != 1 || !rec) {
            count_skip(r, recovered);
            continue;
        }
        rc = render(r, rec, &len);
        if (rc == 0 && len > 0) {
            uint64_t id = 0;

            if (libevtx_record_get_identifier(rec, &id, &err) != 1) {
                libevtx_error_free(&err);
                id = 0;
            }
            r->last_id = id;
        }
        libevtx_record_free(&rec, NULL);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0 || len == 0) {
            count_skip(r, recovered);
            continue;
        }
        r->st.records++;
        if (recovered)
            r->st.recovered++;
        *ret_xml = r->xml;
        *ret_len = len;
        return 1;
    }
    return 0;
}

void input_evtx_skip_recovered(struct input_evtx *r)
{
    r->skip_recovered = 1;
}

uint64_t input_evtx_last_id(const struct input_evtx *r)
{
    return r->last_id;
}

const struct input_evtx_stats *input_evtx_stats(const struct input_evtx *r)
{
    return &r->st;
}

void input_evtx_free(struct input_evtx *r)
{
    if (!r)
        return;
    if (r->file) {
        libevtx_file_close(r->file, NULL);
        libevtx_file_free(&r->file, NULL);
    }
    free(r->xml);
    free(r);
}
