/*
 * input_file.c - files followed like `tail -F`, and standard input.
 *
 * A thread per file polls every poll_ms: it reads complete lines to EOF,
 * then looks at the path.  A different dev/ino there means the file was
 * renamed away (rotation): the old descriptor is read to its end first,
 * then the new file is read from offset 0.  A file shorter than our offset
 * was truncated in place: we start again at 0.
 *
 * Only complete lines leave this file.  A partial last line waits for its
 * newline; each batch carries the offset just past its last complete line,
 * which the pipeline saves after committing the batch.  Restarting from that
 * offset (even in a file rotated meanwhile, found again by dev/ino in the
 * same directory) neither loses nor repeats a line.
 *
 * An EVTX file (by its signature, or a name ending in .evtx) is not a text
 * file that grows by lines: Windows rewrites chunks in place.  Such a file
 * is read whole through libevtx whenever its size or mtime changes, and
 * only records with a record number above the last one handed out go on;
 * that number (the record header's, see input_evtx_last_id) is the saved
 * position.  A new file at the path (another inode: a fresh export, a
 * cleared log) is read from its first record.
 */
#include "input/input_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "input/input_evtx.h"
#include "input/record.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/queue.h"

#define FILE_READ (64 * 1024)
#define FILE_POLL_DEFAULT_MS 200
/* Polls to wait for the rest of a partial line in a rotated-away file
 * before handing over what there is. */
#define FILE_ROTATE_WAITS 5

struct input_file {
    const struct input_conf *c;
    struct queue *q;
    struct input_stats *st;
    int is_stdin;
    atomic_int stopping;
    int wake_fd; /* eventfd written by input_file_stop() */
    pthread_t thread;
    int thread_started;
    struct log_ratelimit rl;

    int is_evtx;     /* follow an EVTX file by record ID (evtx_thread) */
    int64_t evtx_mtime_ns; /* size and mtime at the last EVTX pass */
    int64_t evtx_size;
    int evtx_skip_first; /* first pass only moves to the newest record */

    int fd;          /* the file being read; -1 while waiting for it */
    char *cur_path;  /* its path: c->path, or a rotated name at start */
    uint64_t dev, ino;
    uint64_t read_off; /* offset of the next byte read() returns */
    uint64_t line_off; /* offset just past the last complete line */
    int waiting_logged;
    int rot_waits;

    char *lbuf;   /* start of a line with no newline yet, max_line bytes */
    size_t llen;
    int ltrunc;   /* the partial line lost bytes */
    int lopen;    /* lbuf holds the start of a line */

    struct rec_batch *batch; /* records not yet pushed */
    size_t batch_bytes;
    char *rbuf; /* FILE_READ bytes */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Pushes the batch, tagged with the file and the offset past its lines. */
static void fi_push(struct input_file *f)
{
    struct rec_batch *b = f->batch;
    uint32_t n;

    if (!b || b->nrec == 0)
        return;
    f->batch = NULL;
    n = b->nrec;
    if (!f->is_stdin) {
        struct file_pos pos = {.dev = f->dev, .ino = f->ino, .offset = f->line_off};

        if (rec_batch_set_pos(b, f->cur_path, &pos) < 0) {
            atomic_fetch_add(&f->st->dropped, n);
            rec_batch_free(b);
            return;
        }
    }
    /* Count before the push: once queued, the batch is the consumer's, and
     * whoever pops a record must already see it counted. */
    atomic_fetch_add(&f->st->records, n);
    atomic_fetch_add(&f->st->bytes, f->batch_bytes);
    if (queue_push(f->q, b) < 0) {
        atomic_fetch_sub(&f->st->records, n);
        atomic_fetch_sub(&f->st->bytes, f->batch_bytes);
        atomic_fetch_add(&f->st->dropped, n);
        rec_batch_free(b);
    }
    f->batch_bytes = 0;
}

/* Adds one line; line_off must still point before it, so that a batch
 * pushed here for lack of room ends at the previous line. */
static void fi_emit(struct input_file *f, const char *s, size_t len, unsigned flags,
                    int64_t t)
{
    struct record *rec = NULL;

    if (len == 0 && !flags)
        return;
    /* A followed file is written by processes of this host; a trusted one
     * (inputs[].trust) vouches for every line (RECORD_TRUSTED). */
    if (f->c->trust == INPUT_TRUST_TRUSTED)
        flags |= RECORD_TRUSTED;
    if (f->batch && f->batch->nrec >= LIMIT_BATCH_RECORDS)
        fi_push(f);
    if (f->batch)
        rec = rec_batch_add(f->batch, s, len, t, (uint16_t)flags);
    if (!rec) {
        fi_push(f);
        f->batch = rec_batch_new(f->c->id, LIMIT_BATCH_BYTES);
        if (f->batch)
            rec = rec_batch_add(f->batch, s, len, t, (uint16_t)flags);
        if (!rec) {
            atomic_fetch_add(&f->st->dropped, 1);
            return;
        }
    }
    f->batch_bytes += len;
    if (flags & RECORD_TRUNCATED)
        atomic_fetch_add(&f->st->truncated, 1);
}

static void fi_line_append(struct input_file *f, const char *p, size_t n)
{
    size_t room = f->c->max_line - f->llen;

    f->lopen = 1;
    if (n > room) {
        f->ltrunc = 1;
        n = room;
    }
    memcpy(f->lbuf + f->llen, p, n);
    f->llen += n;
}

static void fi_line_reset(struct input_file *f)
{
    f->llen = 0;
    f->ltrunc = 0;
    f->lopen = 0;
}

/* Splits `n` bytes just read (starting at read_off) into lines. */
static void fi_consume(struct input_file *f, const char *data, size_t n)
{
    const char *p = data, *end = data + n;
    uint64_t base = f->read_off;
    int64_t t = now_us();

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len;

        if (!nl) {
            fi_line_append(f, p, (size_t)(end - p));
            break;
        }
        len = (size_t)(nl - p);
        if (!f->lopen) {
            unsigned flags = 0;

            if (len > 0 && p[len - 1] == '\r')
                len--;
            if (len > f->c->max_line) {
                len = f->c->max_line;
                flags = RECORD_TRUNCATED;
            }
            fi_emit(f, p, len, flags, t);
        } else {
            /* The CR of a CRLF may be the last byte of the previous read. */
            if (len > 0 && p[len - 1] == '\r')
                len--;
            else if (len == 0 && !f->ltrunc && f->llen > 0 && f->lbuf[f->llen - 1] == '\r')
                f->llen--;
            fi_line_append(f, p, len);
            fi_emit(f, f->lbuf, f->llen, f->ltrunc ? RECORD_TRUNCATED : 0, t);
            fi_line_reset(f);
        }
        f->line_off = base + (uint64_t)(nl - data) + 1;
        p = nl + 1;
    }
    f->read_off = base + n;
}

/* Hands over the partial last line as it is (end of stdin, or a rotated
 * file whose writer is gone). */
static void fi_flush_partial(struct input_file *f)
{
    if (f->lopen)
        fi_emit(f, f->lbuf, f->llen, f->ltrunc ? RECORD_TRUNCATED : 0, now_us());
    fi_line_reset(f);
    f->line_off = f->read_off;
}

/* Reads to EOF and pushes.  Returns 1 at EOF, 0 if it stopped early
 * (error). */
static int fi_drain(struct input_file *f)
{
    int ret = 1;

    for (;;) {
        ssize_t k = read(f->fd, f->rbuf, FILE_READ);

        if (k > 0) {
            fi_consume(f, f->rbuf, (size_t)k);
            continue;
        }
        if (k == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            atomic_fetch_add(&f->st->errors, 1);
            if (log_ratelimit_ok(&f->rl, NULL))
                log_warn("input %s: read %s", f->c->name, f->cur_path ? f->cur_path : "stdin");
        }
        ret = 0;
        break;
    }
    fi_push(f);
    return ret;
}

/* Opens `path`, positions it at `offset` (0 if the file is shorter), and
 * makes it the current file.  Returns 0 or -errno. */
static int fi_open(struct input_file *f, const char *path, uint64_t offset, int *ret_shorter)
{
    struct stat st;
    char *p;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (ret_shorter)
        *ret_shorter = 0;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    if ((uint64_t)st.st_size < offset) {
        if (ret_shorter)
            *ret_shorter = 1;
        offset = 0;
    }
    if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    p = strdup(path);
    if (!p) {
        close(fd);
        return -ENOMEM;
    }
    if (f->fd >= 0)
        close(f->fd);
    free(f->cur_path);
    f->fd = fd;
    f->cur_path = p;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->read_off = f->line_off = offset;
    fi_line_reset(f);
    f->rot_waits = 0;
    return 0;
}

/*
 * Looks next to c->path for a file with the saved dev/ino: the file we were
 * reading before a restart, renamed by rotation meanwhile.  Only names that
 * start with the file's own name ("app.log.1", "app.log-20260101") are
 * considered.  Returns a heap path or NULL.
 */
static char *fi_find_rotated(const char *path, const struct file_pos *start)
{
    char *d1 = strdup(path), *d2 = strdup(path);
    const char *dir, *base;
    size_t blen;
    DIR *dp = NULL;
    struct dirent *de;
    char *found = NULL;

    if (!d1 || !d2)
        goto out;
    dir = dirname(d1);
    base = basename(d2);
    blen = strlen(base);
    dp = opendir(dir);
    if (!dp)
        goto out;
    while ((de = readdir(dp)) != NULL) {
        struct stat st;
        char *p;

        if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == '\0')
            continue;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            break;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == start->dev &&
            (uint64_t)st.st_ino == start->ino) {
            found = p;
            break;
        }
        free(p);
    }
out:
    if (dp)
        closedir(dp);
    free(d1);
    free(d2);
    return found;
}

/* A file that shrank below our offset was truncated in place. */
static void fi_check_truncated(struct input_file *f)
{
    struct stat st;

    if (fstat(f->fd, &st) < 0 || (uint64_t)st.st_size >= f->read_off)
        return;
    if (lseek(f->fd, 0, SEEK_SET) < 0)
        return;
    log_info("input %s: %s was truncated, reading it from the start", f->c->name,
             f->cur_path);
    f->read_off = f->line_off = 0;
    fi_line_reset(f);
    atomic_fetch_add(&f->st->rotations, 1);
}

/*
 * Switches to a new file at c->path if the current one was rotated away.
 * The old one is read to its end first.  At stop, a partial last line in
 * the old file keeps us there (its offset is what gets saved).  Returns 1
 * if it switched.
 */
static int fi_check_rotated(struct input_file *f, int stopping)
{
    struct stat st;
    int r;

    if (stat(f->c->path, &st) < 0)
        return 0; /* renamed and not recreated yet: keep the old one */
    if ((uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino)
        return 0;
    fi_drain(f);
    if (f->lopen) {
        /* The writer may still finish its line in the old file. */
        if (stopping || ++f->rot_waits <= FILE_ROTATE_WAITS)
            return 0;
        fi_flush_partial(f);
        fi_push(f);
    }
    r = fi_open(f, f->c->path, 0, NULL);
    if (r < 0) {
        if (log_ratelimit_ok(&f->rl, NULL))
            log_warnx("input %s: reopen %s: %s", f->c->name, f->c->path, strerror(-r));
        return 0;
    }
    atomic_fetch_add(&f->st->rotations, 1);
    log_info("input %s: %s was rotated, following the new file", f->c->name, f->c->path);
    return 1;
}

static void fi_try_open_waiting(struct input_file *f)
{
    int r = fi_open(f, f->c->path, 0, NULL);

    if (r == 0) {
        log_info("input %s: %s appeared, reading it", f->c->name, f->c->path);
        f->waiting_logged = 0;
        return;
    }
    if (!f->waiting_logged) {
        log_info("input %s: waiting for %s (%s)", f->c->name, f->c->path, strerror(-r));
        f->waiting_logged = 1;
    }
}

static void fi_wait(struct input_file *f, int ms)
{
    struct pollfd pfd = {.fd = f->wake_fd, .events = POLLIN};

    (void)poll(&pfd, 1, ms);
}

static void *file_thread(void *arg)
{
    struct input_file *f = arg;
    int ms = f->c->poll_ms > 0 ? f->c->poll_ms : FILE_POLL_DEFAULT_MS;

    while (!atomic_load(&f->stopping)) {
        if (f->fd < 0)
            fi_try_open_waiting(f);
        if (f->fd >= 0) {
            fi_check_truncated(f);
            fi_drain(f);
            while (fi_check_rotated(f, 0))
                fi_drain(f);
        }
        fi_wait(f, ms);
    }
    /* Stop: every complete line already written goes out first. */
    if (f->fd < 0)
        fi_try_open_waiting(f);
    if (f->fd >= 0) {
        fi_check_truncated(f);
        fi_drain(f);
        for (int i = 0; i < 4 && fi_check_rotated(f, 1); i++)
            fi_drain(f);
    }
    return NULL;
}

static int ends_with_evtx(const char *path)
{
    size_t n = strlen(path);

    return n >= 5 && strcasecmp(path + n - 5, ".evtx") == 0;
}

/*
 * One pass over the EVTX file at the path: every live record with an ID
 * above f->line_off (the last ID handed out) is emitted.  `skip_only` (a
 * first look without from_start) moves the position to the newest record
 * without emitting anything, like tail -F at the end of a text file.
 */
static void evtx_pass(struct input_file *f, int skip_only)
{
    struct input_evtx *x = NULL;
    struct stat st;
    const char *xml;
    size_t len;
    int64_t mtime_ns;
    int r;

    if (stat(f->c->path, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (!f->waiting_logged) {
            log_info("input %s: waiting for %s (%s)", f->c->name, f->c->path,
                     strerror(errno ? errno : EINVAL));
            f->waiting_logged = 1;
        }
        return;
    }
    f->waiting_logged = 0;
    mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino) {
        if (f->cur_path) {
            log_info("input %s: %s was replaced, reading the new file from its first record",
                     f->c->name, f->c->path);
            atomic_fetch_add(&f->st->rotations, 1);
        }
        free(f->cur_path);
        f->cur_path = strdup(f->c->path);
        if (!f->cur_path)
            return;
        f->dev = (uint64_t)st.st_dev;
        f->ino = (uint64_t)st.st_ino;
        f->line_off = 0;
        f->evtx_size = -1;
    } else if ((int64_t)st.st_size == f->evtx_size && mtime_ns == f->evtx_mtime_ns) {
        return;
    }
    r = input_evtx_open(f->c->path, &x);
    if (r < 0) {
        /* A copy in progress has no valid header yet: try again later. */
        atomic_fetch_add(&f->st->errors, 1);
        if (log_ratelimit_ok(&f->rl, NULL))
            log_warnx("input %s: %s: %s", f->c->name, f->c->path,
                      r == -EINVAL ? "not a readable EVTX file" : strerror(-r));
        return;
    }
    input_evtx_skip_recovered(x);
    while ((r = input_evtx_next(x, &xml, &len)) == 1) {
        uint64_t id = input_evtx_last_id(x);
        unsigned flags = 0;

        if (id != 0 && id <= f->line_off)
            continue;
        if (!skip_only) {
            if (len > f->c->max_line) {
                len = f->c->max_line;
                flags = RECORD_TRUNCATED;
            }
            fi_emit(f, xml, len, flags, now_us());
        }
        if (id > f->line_off)
            f->line_off = id;
    }
    if (r < 0)
        atomic_fetch_add(&f->st->errors, 1);
    if (input_evtx_stats(x)->skipped > 0 && log_ratelimit_ok(&f->rl, NULL))
        log_warnx("input %s: %s: %llu records libevtx could not render were skipped", f->c->name,
                  f->c->path, (unsigned long long)input_evtx_stats(x)->skipped);
    input_evtx_free(x);
    f->evtx_size = (int64_t)st.st_size;
    f->evtx_mtime_ns = mtime_ns;
    fi_push(f);
}

static void *evtx_thread(void *arg)
{
    struct input_file *f = arg;
    int ms = f->c->poll_ms > 0 ? f->c->poll_ms : FILE_POLL_DEFAULT_MS;

    while (!atomic_load(&f->stopping)) {
        evtx_pass(f, f->evtx_skip_first);
        if (f->cur_path)
            f->evtx_skip_first = 0;
        fi_wait(f, ms);
    }
    evtx_pass(f, 0);
    return NULL;
}

static void *stdin_thread(void *arg)
{
    struct input_file *f = arg;
    struct pollfd pfd[2];

    pfd[0].fd = f->fd;
    pfd[0].events = POLLIN;
    pfd[1].fd = f->wake_fd;
    pfd[1].events = POLLIN;
    for (;;) {
        int stopping = atomic_load(&f->stopping);
        ssize_t k;

        pfd[0].revents = pfd[1].revents = 0;
        /* Once stopping, take only what is already there. */
        if (poll(pfd, stopping ? 1 : 2, stopping ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!pfd[0].revents) {
            if (stopping)
                break;
            continue;
        }
        k = read(f->fd, f->rbuf, FILE_READ);
        if (k > 0) {
            fi_consume(f, f->rbuf, (size_t)k);
            fi_push(f);
            continue;
        }
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0) {
            atomic_fetch_add(&f->st->errors, 1);
            log_warn("input %s: read stdin", f->c->name);
        }
        /* End of input: the last line counts even without a newline. */
        fi_flush_partial(f);
        break;
    }
    fi_push(f);
    return NULL;
}

/* Where an EVTX input starts: after the saved record START when it is the
 * same file, from the first record of a file new to us, or (like tail -F)
 * only with records written from now on.  Returns 0, or -ENOMEM with the
 * message in errbuf. */
static int fi_start_evtx(struct input_file *f, const struct file_pos *start, char *errbuf,
                         size_t errlen)
{
    const struct input_conf *c = f->c;
    struct stat st;

    f->is_evtx = 1;
    f->evtx_size = -1;
    /* Resume after the saved record only in the same file. */
    if (start && stat(c->path, &st) == 0 && (uint64_t)st.st_dev == start->dev &&
        (uint64_t)st.st_ino == start->ino) {
        f->cur_path = strdup(c->path);
        if (!f->cur_path) {
            snprintf(errbuf, errlen, "out of memory");
            return -ENOMEM;
        }
        f->dev = start->dev;
        f->ino = start->ino;
        f->line_off = start->offset;
    } else if (start) {
        /* The saved position is in another file: this one is new to us
         * and is read from its first record (evtx_pass sees the new
         * inode). */
        f->cur_path = strdup(c->path);
        if (!f->cur_path) {
            snprintf(errbuf, errlen, "out of memory");
            return -ENOMEM;
        }
    } else if (!c->from_start && access(c->path, F_OK) == 0) {
        /* Like tail -F: only records written from now on. */
        f->evtx_skip_first = 1;
    }
    return 0;
}

/* Opens a text input where it is to start: at the saved offset START in
 * the same file, in the file it was rotated to while we were down, or
 * (like tail -F) at the end unless from_start.  Returns 0 or -errno
 * (-ENOENT: no file yet, which the poll loop waits for). */
static int fi_start_text(struct input_file *f, const struct file_pos *start)
{
    const struct input_conf *c = f->c;
    struct stat st;
    int r = 0;

    if (stat(c->path, &st) == 0 && start && (uint64_t)st.st_dev == start->dev &&
        (uint64_t)st.st_ino == start->ino) {
        int shorter;

        r = fi_open(f, c->path, start->offset, &shorter);
        if (r == 0 && shorter) {
            log_info("input %s: %s is shorter than the saved offset, reading it from the start",
                     c->name, c->path);
            atomic_fetch_add(&f->st->rotations, 1);
        }
    } else if (start) {
        /* Rotated while we were down: finish the old file first; the poll
         * loop then sees the new one and switches to it. */
        char *old = fi_find_rotated(c->path, start);

        if (old) {
            log_info("input %s: resuming rotated file %s", c->name, old);
            r = fi_open(f, old, start->offset, NULL);
            free(old);
        } else if (access(c->path, F_OK) == 0) {
            r = fi_open(f, c->path, 0, NULL);
        }
    } else if (access(c->path, F_OK) == 0) {
        r = fi_open(f, c->path, 0, NULL);
        if (r == 0 && !c->from_start) {
            /* Like tail -F: only what is written from now on. */
            off_t end = lseek(f->fd, 0, SEEK_END);

            if (end < 0) {
                r = -errno;
            } else {
                f->read_off = f->line_off = (uint64_t)end;
            }
        }
    }
    return r;
}

int input_file_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     const struct file_pos *start, struct input_file **ret, char *errbuf,
                     size_t errlen)
{
    struct input_file *f;
    int r = 0;

    *ret = NULL;
    if (c->max_line == 0 || (c->type == INPUT_FILE && (!c->path || !*c->path))) {
        snprintf(errbuf, errlen, "input %s: %s", c->name,
                 c->max_line == 0 ? "max_line is 0" : "no path");
        return -EINVAL;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    f->c = c;
    f->q = q;
    f->st = stats;
    f->fd = -1;
    f->rl.interval_s = 10;
    f->rl.burst = 5;
    f->lbuf = malloc(c->max_line);
    f->rbuf = malloc(FILE_READ);
    f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!f->lbuf || !f->rbuf || f->wake_fd < 0) {
        r = f->wake_fd < 0 ? -errno : -ENOMEM;
        snprintf(errbuf, errlen, "input %s: %s", c->name, strerror(-r));
        goto out;
    }
    if (c->type == INPUT_STDIN) {
        f->is_stdin = 1;
        f->fd = STDIN_FILENO;
    } else if (ends_with_evtx(c->path) || input_evtx_is_evtx(c->path)) {
        if ((r = fi_start_evtx(f, start, errbuf, errlen)) < 0)
            goto out;
    } else {
        r = fi_start_text(f, start);
    }
    if (r < 0 && r != -ENOENT) {
        snprintf(errbuf, errlen, "input %s: %s: %s", c->name, c->path, strerror(-r));
        goto out;
    }
    r = -pthread_create(&f->thread, NULL,
                        f->is_stdin ? stdin_thread : f->is_evtx ? evtx_thread : file_thread, f);
    if (r < 0) {
        snprintf(errbuf, errlen, "input %s: pthread_create: %s", c->name, strerror(-r));
        goto out;
    }
    f->thread_started = 1;
    *ret = f;
    return 0;
out:
    input_file_free(f);
    return r;
}

void input_file_stop(struct input_file *f)
{
    uint64_t one = 1;

    if (!f || !f->thread_started)
        return;
    atomic_store(&f->stopping, 1);
    if (write(f->wake_fd, &one, sizeof(one)) < 0) {
        /* One write per stop cannot overflow the counter. */
    }
    pthread_join(f->thread, NULL);
    f->thread_started = 0;
}

void input_file_free(struct input_file *f)
{
    if (!f)
        return;
    input_file_stop(f);
    if (f->fd >= 0 && !f->is_stdin)
        close(f->fd);
    if (f->wake_fd >= 0)
        close(f->wake_fd);
    rec_batch_free(f->batch);
    free(f->cur_path);
    free(f->lbuf);
    free(f->rbuf);
    free(f);
}
