/*
 * archive_scan.c - walks the frames of one segment file and tells a torn
 * tail from damage.  The writer (to cut a crash's leftovers), the reader and
 * the verifier all walk segments through here, so they agree on what is a
 * frame.
 *
 * A fault is a torn tail only when nothing valid follows it: the file ends
 * inside the frame's declared length, or the frame's header is unreadable
 * and no readable frame header appears anywhere after it, or its hash is
 * wrong and it is the last thing in the file.  Anything else is damage, which
 * is never cut off: it is evidence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive_priv.h"

#define SEARCH_CHUNK (1024 * 1024)

int archive_scan_open(int dirfd, uint64_t seq, int writable, struct archive_scan *s)
{
    uint8_t buf[ARCHIVE_SEG_HDR_LEN];
    char name[ARCHIVE_SEG_NAME_LEN + 1];
    struct stat st;
    int r;

    memset(s, 0, sizeof(*s));
    s->seq = seq;
    archive_seg_name(seq, name, sizeof(name));
    s->fd = openat(dirfd, name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (s->fd < 0)
        return -errno;
    if (fstat(s->fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode)) {
        s->why = "segment is not a regular file";
        return -EBADMSG;
    }
    s->size = (uint64_t)st.st_size;
    if (s->size < ARCHIVE_SEG_HDR_LEN) {
        s->why = "segment shorter than its header";
        return -EBADMSG;
    }
    r = archive_pread_full(s->fd, buf, sizeof(buf), 0);
    if (r < 0)
        return r;
    r = archive_seg_hdr_decode(buf, sizeof(buf), &s->seg, &s->why);
    if (r < 0)
        return r;
    if (s->seg.seq != seq) {
        s->why = "segment header's number is not its file name's";
        return -EBADMSG;
    }
    s->off = s->next = ARCHIVE_SEG_HDR_LEN;
    return 0;
}

/* 1 when a readable frame header starts anywhere in [from, size). */
static int header_follows(struct archive_scan *s, uint64_t from)
{
    uint8_t *buf = malloc(SEARCH_CHUNK + ARCHIVE_FRAME_HDR_LEN);
    struct archive_frame_hdr fh;
    const char *why;
    int found = 0;

    if (!buf)
        return 1; /* when in doubt, do not cut */
    while (!found && from + ARCHIVE_FRAME_HDR_LEN <= s->size) {
        uint64_t left = s->size - from;
        size_t n = left > SEARCH_CHUNK + ARCHIVE_FRAME_HDR_LEN
                       ? SEARCH_CHUNK + ARCHIVE_FRAME_HDR_LEN
                       : (size_t)left;

        if (archive_pread_full(s->fd, buf, n, from) < 0) {
            found = 1;
            break;
        }
        for (size_t i = 0; i + ARCHIVE_FRAME_HDR_LEN <= n; i++) {
            if (buf[i] == 'H' && archive_frame_hdr_decode(buf + i, n - i, &fh, &why) == 0) {
                found = 1;
                break;
            }
        }
        /* The next chunk starts where a header could no longer fit. */
        from += n - ARCHIVE_FRAME_HDR_LEN + 1;
    }
    free(buf);
    return found;
}

int archive_scan_next(struct archive_scan *s, int with_payload)
{
    uint64_t left, end;
    int r;

    s->off = s->next;
    s->fh_ok = 0;
    if (s->off == s->size)
        return ARCHIVE_SCAN_END;
    left = s->size - s->off;
    if (left < ARCHIVE_FRAME_HDR_LEN) {
        s->why = "segment ends inside a frame header";
        return ARCHIVE_SCAN_TORN;
    }
    r = archive_pread_full(s->fd, s->hdr, ARCHIVE_FRAME_HDR_LEN, s->off);
    if (r < 0)
        return r;
    if (archive_frame_hdr_decode(s->hdr, ARCHIVE_FRAME_HDR_LEN, &s->fh, &s->why) < 0)
        return header_follows(s, s->off + 1) ? ARCHIVE_SCAN_BAD : ARCHIVE_SCAN_TORN;
    s->fh_ok = 1;
    end = s->off + ARCHIVE_FRAME_HDR_LEN + s->fh.payload_len;
    if (end > s->size) {
        s->why = "segment ends inside a frame's payload";
        return ARCHIVE_SCAN_TORN;
    }
    if (with_payload) {
        r = archive_scan_payload(s);
        if (r == -EBADMSG)
            return end == s->size ? ARCHIVE_SCAN_TORN : ARCHIVE_SCAN_BAD;
        if (r < 0)
            return r;
    }
    s->next = end;
    return ARCHIVE_SCAN_FRAME;
}

int archive_scan_payload(struct archive_scan *s)
{
    int r;

    if (s->payload_cap < s->fh.payload_len || !s->payload) {
        size_t ncap = s->fh.payload_len ? s->fh.payload_len : 1;
        uint8_t *p = realloc(s->payload, ncap);

        if (!p)
            return -ENOMEM;
        s->payload = p;
        s->payload_cap = ncap;
    }
    r = archive_pread_full(s->fd, s->payload, s->fh.payload_len, s->off + ARCHIVE_FRAME_HDR_LEN);
    if (r < 0)
        return r;
    if (!archive_frame_hash_ok(s->hdr, &s->fh, s->payload)) {
        s->why = "frame bytes do not match its hash";
        return -EBADMSG;
    }
    return 0;
}

void archive_scan_done(struct archive_scan *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->payload);
    s->payload = NULL;
    s->payload_cap = 0;
}
