/*
 * evidence_util.c - the small helpers the evidence files share: the
 * verification report, the one time format of custody lines, and the
 * hole-keeping copy that puts an item into the store or a bundle (a 2 GB
 * sparse image costs its data, not 2 GB of zeros).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence/evidence.h"

/* Text kept for a report's lines; the count goes on past it. */
#define REPORT_TEXT_MAX (256 * 1024)

void evidence_report_init(struct evidence_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    buf_init(&rep->text, REPORT_TEXT_MAX);
}

void evidence_report_done(struct evidence_report *rep)
{
    buf_done(&rep->text);
}

void evidence_report_fault(struct evidence_report *rep, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    rep->faults++;
    /* Past the cap the line is dropped; the count says there were more. */
    if (buf_puts(&rep->text, line) == 0)
        (void)buf_putc(&rep->text, '\n');
}

void evidence_time_format(int64_t us, char out[32])
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    struct tm tm;
    char tmp[64];

    if (frac < 0) {
        frac += 1000000;
        secs--;
    }

    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, 32, "invalid");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    snprintf(out, 32, "%.31s", tmp);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies [off, end) of in to the same offset of out. */
static int copy_range(int in, int out, off_t off, off_t end, char *buf, size_t cap)
{
    while (off < end) {
        size_t want = (size_t)(end - off) < cap ? (size_t)(end - off) : cap;
        ssize_t n = pread(in, buf, want, off);
        int r;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO; /* the file shrank under us */
        if (lseek(out, off, SEEK_SET) < 0)
            return -errno;
        if ((r = write_all(out, buf, (size_t)n)) < 0)
            return r;
        off += n;
    }
    return 0;
}

int evidence_copy_file(const char *src, const char *dst)
{
    /* Static: one copy at a time (the register holds its lock), and 1 MiB
     * is too much for a stack. */
    static char buf[EVIDENCE_READ_CHUNK];
    struct stat stbuf;
    int in = -1, out = -1, r = 0;
    off_t off = 0;

    if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        return -errno;
    if (fstat(in, &stbuf) < 0 || !S_ISREG(stbuf.st_mode)) {
        r = S_ISREG(stbuf.st_mode) ? -errno : -EINVAL;
        goto out;
    }
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0) {
        r = -errno;
        goto out;
    }
    while (off < stbuf.st_size) {
        off_t data = lseek(in, off, SEEK_DATA), hole;

        if (data < 0) {
            if (errno == ENXIO)
                break; /* only a hole is left */
            /* No SEEK_DATA here: copy the rest whole. */
            r = copy_range(in, out, off, stbuf.st_size, buf, sizeof(buf));
            break;
        }
        hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0 || hole > stbuf.st_size)
            hole = stbuf.st_size;
        if ((r = copy_range(in, out, data, hole, buf, sizeof(buf))) < 0)
            break;
        off = hole;
    }
    if (r == 0 && ftruncate(out, stbuf.st_size) < 0)
        r = -errno;
    if (r == 0 && fsync(out) < 0)
        r = -errno;
out:
    if (out >= 0 && close(out) < 0 && r == 0)
        r = -errno;
    if (in >= 0)
        close(in);
    if (r < 0 && out >= 0)
        (void)unlink(dst);
    return r;
}
