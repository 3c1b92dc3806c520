/*
 * evidence_hash.c - the content digests of an evidence item: SHA-256 and
 * BLAKE2b-512 in one streaming pass of large reads, so that a multi-GB
 * disk image is read once, at disk speed, whatever its size.
 *
 * The two digests run side by side: a helper thread computes BLAKE2b over
 * the chunk that this thread computes SHA-256 over (GnuTLS's SHA-256 uses
 * the CPU's SHA extensions), so a pass costs the slower digest, not both.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <sodium.h>

#include "evidence/evidence.h"

struct b2_worker {
    crypto_generichash_state st; /* first: it is 64-byte aligned */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const uint8_t *chunk; /* the chunk to hash; NULL when idle */
    size_t len;
    int quit;
};

static void *b2_main(void *arg)
{
    struct b2_worker *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->chunk && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->chunk)
            break;
        pthread_mutex_unlock(&w->mu);
        crypto_generichash_update(&w->st, w->chunk, w->len);
        pthread_mutex_lock(&w->mu);
        w->chunk = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void b2_give(struct b2_worker *w, const uint8_t *p, size_t n)
{
    pthread_mutex_lock(&w->mu);
    w->chunk = p;
    w->len = n;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void b2_wait(struct b2_worker *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->chunk)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* Reads up to `cap` bytes, retrying short reads; 0 at the end. */
static ssize_t read_full(int fd, uint8_t *p, size_t cap)
{
    size_t got = 0;

    while (got < cap) {
        ssize_t n = read(fd, p + got, cap - got);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int evidence_hash_fd(int fd, struct evidence_digest *ret)
{
    struct b2_worker w;
    gnutls_hash_hd_t sha = NULL;
    uint8_t *buf[2] = {NULL, NULL};
    pthread_t th;
    int cur = 0, started = 0, r = 0;

    memset(ret, 0, sizeof(*ret));
    memset(&w, 0, sizeof(w));
    if (sodium_init() < 0)
        return -EIO;
    buf[0] = malloc(EVIDENCE_READ_CHUNK);
    buf[1] = malloc(EVIDENCE_READ_CHUNK);
    if (!buf[0] || !buf[1]) {
        r = -ENOMEM;
        goto out;
    }
    if (gnutls_hash_init(&sha, GNUTLS_DIG_SHA256) < 0) {
        r = -EIO;
        goto out;
    }
    crypto_generichash_init(&w.st, NULL, 0, EVIDENCE_BLAKE2B_LEN);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    if (pthread_create(&th, NULL, b2_main, &w) != 0) {
        r = -EAGAIN;
        goto out_sync;
    }
    started = 1;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t n = read_full(fd, buf[cur], EVIDENCE_READ_CHUNK);

        if (n < 0) {
            r = (int)n;
            break;
        }
        if (n == 0)
            break;
        /* The read above overlapped the worker's BLAKE2b of the other
         * buffer; it must be done before that buffer is read into again. */
        b2_wait(&w);
        b2_give(&w, buf[cur], (size_t)n);
        gnutls_hash(sha, buf[cur], (size_t)n);
        ret->size += (uint64_t)n;
        cur ^= 1;
    }
    b2_wait(&w);
    pthread_mutex_lock(&w.mu);
    w.quit = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    pthread_join(th, NULL);
out_sync:
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    if (r == 0 && started) {
        gnutls_hash_output(sha, ret->sha256);
        crypto_generichash_final(&w.st, ret->blake2b, EVIDENCE_BLAKE2B_LEN);
    }
out:
    if (sha)
        gnutls_hash_deinit(sha, NULL);
    free(buf[0]);
    free(buf[1]);
    return r;
}

int evidence_hash_file(const char *path, struct evidence_digest *ret)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

    if (fd < 0)
        return -errno;
    r = evidence_hash_fd(fd, ret);
    close(fd);
    return r;
}
