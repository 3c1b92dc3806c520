/*
 * input_reader.c - whole files for `hikeshi scan`: plain or gzip, line by
 * line; and recursive directory walks.
 *
 * gzip goes through zlib (inflate with automatic header detection).  A file
 * made of several gzip members, as `cat a.gz b.gz` or rotating loggers make,
 * is read as their concatenation.  Lines are returned from the decoded
 * buffer when they fit in it, and assembled in a capped line buffer when
 * they straddle two reads, so memory stays at two fixed buffers plus
 * max_line whatever the file holds.
 */
#include "input/input_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "input/record.h"

#define READER_CHUNK (128 * 1024)
/* Directory nesting followed by input_walk; deeper trees are reported. */
#define READER_WALK_DEPTH 64

struct line_reader {
    int fd;
    int own_fd;     /* 0 for stdin */
    int gzip;       /* 1: `in` holds compressed bytes for inflate */
    int zinit;      /* inflateInit2 done */
    int member_end; /* inflate hit the end of a member */
    z_stream zs;
    unsigned char *in;  /* compressed bytes (gzip only), READER_CHUNK */
    char *out;          /* decoded (or plain) bytes, READER_CHUNK */
    size_t out_len;     /* bytes valid in out */
    size_t out_pos;     /* next byte of out to look at */
    char *line;         /* line straddling two buffers, up to max_line */
    size_t line_len;
    int line_trunc;     /* the line in `line` lost bytes */
    int line_open;      /* `line` holds the start of a line */
    size_t max_line;
    int eof;            /* the file is exhausted (or failed: see err) */
    int err;            /* sticky error returned once the lines are out */
    uint64_t consumed;
    uint64_t size;
};

static ssize_t reader_read(int fd, void *buf, size_t n)
{
    ssize_t k;

    do {
        k = read(fd, buf, n);
    } while (k < 0 && errno == EINTR);
    return k;
}

int line_reader_open(const char *path, size_t max_line, struct line_reader **ret)
{
    struct line_reader *r;
    struct stat st;
    int ret_err = 0;

    *ret = NULL;
    if (max_line == 0)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->fd = -1;
    r->max_line = max_line;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            ret_err = -errno;
            goto out;
        }
        r->own_fd = 1;
    }
    if (fstat(r->fd, &st) < 0) {
        ret_err = -errno;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        ret_err = -EISDIR;
        goto out;
    }
    if (S_ISREG(st.st_mode))
        r->size = (uint64_t)st.st_size;
    r->out = malloc(READER_CHUNK);
    r->line = malloc(max_line);
    if (!r->out || !r->line) {
        ret_err = -ENOMEM;
        goto out;
    }
    /* Two bytes tell gzip from plain; a pipe may hand them one at a time. */
    while (r->out_len < 2) {
        ssize_t k = reader_read(r->fd, r->out + r->out_len, READER_CHUNK - r->out_len);

        if (k < 0) {
            ret_err = -errno;
            goto out;
        }
        if (k == 0) {
            r->eof = 1;
            break;
        }
        r->out_len += (size_t)k;
        r->consumed += (uint64_t)k;
    }
    if (r->out_len >= 2 && (unsigned char)r->out[0] == 0x1f && (unsigned char)r->out[1] == 0x8b) {
        r->in = malloc(READER_CHUNK);
        if (!r->in) {
            ret_err = -ENOMEM;
            goto out;
        }
        memcpy(r->in, r->out, r->out_len);
        r->zs.next_in = r->in;
        r->zs.avail_in = (uInt)r->out_len;
        r->out_len = 0;
        /* 15 window bits + 32: detect the gzip header. */
        if (inflateInit2(&r->zs, 15 + 32) != Z_OK) {
            ret_err = -ENOMEM;
            goto out;
        }
        r->zinit = 1;
        r->gzip = 1;
        r->eof = 0;
    }
    *ret = r;
    r = NULL;
out:
    line_reader_free(r);
    return ret_err;
}

/*
 * Refills `out` from the gzip stream.  Returns 0 (possibly with nothing new
 * when a member ended), or sets eof/err at the end of the input.
 */
static void reader_refill_gzip(struct line_reader *r)
{
    int zr;

    r->out_len = 0;
    r->out_pos = 0;
    for (;;) {
        if (r->zs.avail_in == 0) {
            ssize_t k = reader_read(r->fd, r->in, READER_CHUNK);

            if (k < 0) {
                r->err = -errno;
                r->eof = 1;
                return;
            }
            if (k == 0) {
                /* A clean end only right after a member's trailer. */
                if (!r->member_end)
                    r->err = -EBADMSG;
                r->eof = 1;
                return;
            }
            r->consumed += (uint64_t)k;
            r->zs.next_in = r->in;
            r->zs.avail_in = (uInt)k;
        }
        if (r->member_end) {
            /* Another member follows: decode it as a continuation. */
            if (inflateReset(&r->zs) != Z_OK) {
                r->err = -EBADMSG;
                r->eof = 1;
                return;
            }
            r->member_end = 0;
        }
        r->zs.next_out = (unsigned char *)r->out;
        r->zs.avail_out = READER_CHUNK;
        zr = inflate(&r->zs, Z_NO_FLUSH);
        r->out_len = READER_CHUNK - r->zs.avail_out;
        if (zr == Z_STREAM_END) {
            r->member_end = 1;
        } else if (zr != Z_OK && !(zr == Z_BUF_ERROR && r->zs.avail_in == 0)) {
            /* Corrupt data: the bytes decoded so far are still good. */
            r->err = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
            r->eof = 1;
            return;
        }
        if (r->out_len > 0)
            return;
    }
}

static void reader_refill(struct line_reader *r)
{
    ssize_t k;

    if (r->gzip) {
        reader_refill_gzip(r);
        return;
    }
    r->out_len = 0;
    r->out_pos = 0;
    k = reader_read(r->fd, r->out, READER_CHUNK);
    if (k < 0) {
        r->err = -errno;
        r->eof = 1;
    } else if (k == 0) {
        r->eof = 1;
    } else {
        r->out_len = (size_t)k;
        r->consumed += (uint64_t)k;
    }
}

static void line_append(struct line_reader *r, const char *p, size_t n)
{
    size_t room = r->max_line - r->line_len;

    r->line_open = 1;
    if (n > room) {
        r->line_trunc = 1;
        n = room;
    }
    memcpy(r->line + r->line_len, p, n);
    r->line_len += n;
}

int line_reader_next(struct line_reader *r, const char **ret_line, size_t *ret_len,
                     unsigned *ret_flags)
{
    for (;;) {
        if (r->out_pos < r->out_len) {
            char *p = r->out + r->out_pos;
            size_t avail = r->out_len - r->out_pos;
            char *nl = memchr(p, '\n', avail);
            size_t n;
            const char *s;
            unsigned flags = 0;

            if (!nl) {
                line_append(r, p, avail);
                r->out_pos = r->out_len;
                continue;
            }
            n = (size_t)(nl - p);
            r->out_pos += n + 1;
            if (!r->line_open) {
                s = p;
                if (n > 0 && s[n - 1] == '\r')
                    n--;
                if (n > r->max_line) {
                    n = r->max_line;
                    flags = RECORD_TRUNCATED;
                }
            } else {
                /* A CR right before the LF may sit in either buffer. */
                if (n > 0 && p[n - 1] == '\r')
                    n--;
                else if (n == 0 && !r->line_trunc && r->line_len > 0 &&
                         r->line[r->line_len - 1] == '\r')
                    r->line_len--;
                line_append(r, p, n);
                s = r->line;
                n = r->line_len;
                flags = r->line_trunc ? RECORD_TRUNCATED : 0;
                r->line_len = 0;
                r->line_trunc = 0;
                r->line_open = 0;
            }
            *ret_line = s;
            *ret_len = n;
            *ret_flags = flags;
            return 1;
        }
        if (r->eof) {
            if (r->line_open && !r->err) {
                /* The last line had no newline. */
                *ret_line = r->line;
                *ret_len = r->line_len;
                *ret_flags = r->line_trunc ? RECORD_TRUNCATED : 0;
                r->line_len = 0;
                r->line_trunc = 0;
                r->line_open = 0;
                return 1;
            }
            /* After an error, a partial line is not trusted. */
            r->line_len = 0;
            r->line_open = 0;
            return r->err;
        }
        reader_refill(r);
    }
}

uint64_t line_reader_consumed(const struct line_reader *r)
{
    return r->consumed;
}

uint64_t line_reader_size(const struct line_reader *r)
{
    return r->size;
}

int line_reader_is_gzip(const struct line_reader *r)
{
    return r->gzip;
}

void line_reader_free(struct line_reader *r)
{
    if (!r)
        return;
    if (r->zinit)
        inflateEnd(&r->zs);
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    free(r->in);
    free(r->out);
    free(r->line);
    free(r);
}

static int walk_name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int walk_skip_dots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

static int walk_dir(const char *dir, int depth, int (*cb)(void *arg, const char *file),
                    void (*errcb)(void *arg, const char *path, int err), void *arg)
{
    struct dirent **names = NULL;
    int n, ret = 0;

    if (depth > READER_WALK_DEPTH) {
        if (errcb)
            errcb(arg, dir, -ELOOP);
        return 0;
    }
    n = scandir(dir, &names, walk_skip_dots, walk_name_cmp);
    if (n < 0) {
        if (errcb)
            errcb(arg, dir, -errno);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        char *p = NULL;
        struct stat st;

        if (ret != 0)
            goto next;
        if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                     names[i]->d_name) < 0) {
            p = NULL;
            if (errcb)
                errcb(arg, dir, -ENOMEM);
            goto next;
        }
        if (lstat(p, &st) < 0) {
            if (errcb)
                errcb(arg, p, -errno);
            goto next;
        }
        if (S_ISLNK(st.st_mode)) {
            /* Links to files are read; links to directories are not
             * followed, so a tree cannot loop. */
            if (stat(p, &st) < 0) {
                if (errcb)
                    errcb(arg, p, -errno);
                goto next;
            }
            if (!S_ISREG(st.st_mode))
                goto next;
        }
        if (S_ISDIR(st.st_mode)) {
            ret = walk_dir(p, depth + 1, cb, errcb, arg);
        } else if (S_ISREG(st.st_mode)) {
            if (access(p, R_OK) < 0) {
                if (errcb)
                    errcb(arg, p, -errno);
            } else {
                ret = cb(arg, p);
            }
        }
    next:
        free(p);
        free(names[i]);
    }
    free(names);
    return ret;
}

int input_walk(const char *path, int (*cb)(void *arg, const char *file),
               void (*errcb)(void *arg, const char *path, int err), void *arg)
{
    struct stat st;

    if (strcmp(path, "-") == 0)
        return cb(arg, path);
    if (stat(path, &st) < 0) {
        if (errcb)
            errcb(arg, path, -errno);
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return walk_dir(path, 0, cb, errcb, arg);
    return cb(arg, path);
}
