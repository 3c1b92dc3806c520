/*
 * archive_seal.c - the signing key chain and the seals it signs.
 *
 * Epoch e has a 32-byte secret seed s_e; its Ed25519 key pair is
 * crypto_sign_seed_keypair(s_e).  The next seed is a keyed BLAKE2b of the
 * epoch number under s_e, and s_e is wiped once s_{e+1} is on disk, so the
 * key file only ever holds the current epoch.  Each seal is signed with
 * the current epoch's key and names the next epoch's public key, so a
 * verifier holding only epoch 0's public key can follow the chain, and a
 * thief who copies the key file at epoch E can sign nothing for an epoch
 * before E: those public keys are already fixed by signed seals.
 * docs/archive.md has the design and its limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "archive/archive_priv.h"
#include "util/hex.h"

#define KEY_MAGIC "HKAKEY1\n"
#define KEY_FILE_LEN 96
#define KEY_CHECK_OFF 80
#define SEED_LEN 32
#define SEAL_DOMAIN "hikeshi-archive-seal-v1" /* 24 bytes with its NUL */
#define EVOLVE_DOMAIN "hikeshi-archive-evolve-v1"

struct archive_key {
    char *path;                       /* the key file, rewritten at each evolution (owned) */
    uint64_t epoch;                   /* epoch of the next seal */
    uint8_t *seed;                    /* SEED_LEN bytes, sodium_malloc'd (locked, guarded) */
    uint8_t pub0[ARCHIVE_PUBKEY_LEN]; /* epoch 0's public key, for messages */
};

static void next_seed(const uint8_t *seed, uint64_t next_epoch, uint8_t out[SEED_LEN])
{
    uint8_t msg[sizeof(EVOLVE_DOMAIN) + 8];

    memcpy(msg, EVOLVE_DOMAIN, sizeof(EVOLVE_DOMAIN));
    archive_put64(msg + sizeof(EVOLVE_DOMAIN), next_epoch);
    crypto_generichash(out, SEED_LEN, msg, sizeof(msg), seed, SEED_LEN);
}

static int fsync_dir_of(const char *path)
{
    char *dup = strdup(path), *slash;
    int fd, r = 0;

    if (!dup)
        return -ENOMEM;
    slash = strrchr(dup, '/');
    if (slash == dup)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    fd = open(slash ? dup : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        r = -errno;
    if (fd >= 0)
        close(fd);
    free(dup);
    return r;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the key file for `epoch` and `seed`: to PATH.new, fsynced, renamed
 * over PATH, the directory fsynced.  `excl`: refuse an existing PATH. */
static int key_write(const char *path, uint64_t epoch, const uint8_t *seed, const uint8_t *pub0,
                     int excl)
{
    uint8_t buf[KEY_FILE_LEN];
    char *tmp = NULL;
    int fd, r;

    if (excl && access(path, F_OK) == 0)
        return -EEXIST;
    if (asprintf(&tmp, "%s.new", path) < 0)
        return -ENOMEM;
    memcpy(buf, KEY_MAGIC, 8);
    archive_put64(buf + 8, epoch);
    memcpy(buf + 16, seed, SEED_LEN);
    memcpy(buf + 48, pub0, ARCHIVE_PUBKEY_LEN);
    crypto_generichash(buf + KEY_CHECK_OFF, 16, buf, KEY_CHECK_OFF, NULL, 0);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    r = write_all(fd, buf, sizeof(buf));
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r == 0)
        r = fsync_dir_of(path);
    if (r < 0)
        (void)unlink(tmp);
out:
    sodium_memzero(buf, sizeof(buf));
    free(tmp);
    return r;
}

int archive_key_generate(const char *path, const char *pub_path,
                         uint8_t ret_pub[ARCHIVE_PUBKEY_LEN])
{
    uint8_t *seed, sk[crypto_sign_SECRETKEYBYTES], pub[ARCHIVE_PUBKEY_LEN];
    char hex[2 * ARCHIVE_PUBKEY_LEN + 2];
    int fd = -1, r;

    if (sodium_init() < 0)
        return -EIO;
    if (access(pub_path, F_OK) == 0 || access(path, F_OK) == 0)
        return -EEXIST;
    seed = sodium_malloc(SEED_LEN);
    if (!seed)
        return -ENOMEM;
    randombytes_buf(seed, SEED_LEN);
    crypto_sign_seed_keypair(pub, sk, seed);
    sodium_memzero(sk, sizeof(sk));
    r = key_write(path, 0, seed, pub, 1);
    if (r < 0)
        goto out;
    hex_encode(pub, ARCHIVE_PUBKEY_LEN, hex);
    hex[2 * ARCHIVE_PUBKEY_LEN] = '\n';
    hex[2 * ARCHIVE_PUBKEY_LEN + 1] = '\0';
    fd = open(pub_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = -errno;
        (void)unlink(path);
        goto out;
    }
    r = write_all(fd, hex, 2 * ARCHIVE_PUBKEY_LEN + 1);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r < 0) {
        (void)unlink(path);
        (void)unlink(pub_path);
        goto out;
    }
    memcpy(ret_pub, pub, ARCHIVE_PUBKEY_LEN);
out:
    sodium_free(seed);
    return r;
}

int archive_key_load(const char *path, struct archive_key **ret, const char **reterr)
{
    uint8_t buf[KEY_FILE_LEN + 1], check[16];
    struct archive_key *k = NULL;
    ssize_t n;
    int fd, r = 0;

    *reterr = NULL;
    if (sodium_init() < 0)
        return -EIO;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf));
    if (n < 0)
        r = -errno;
    close(fd);
    if (r < 0)
        goto out;
    if (n != KEY_FILE_LEN || memcmp(buf, KEY_MAGIC, 8) != 0) {
        *reterr = "not an archive signing key";
        r = -EBADMSG;
        goto out;
    }
    crypto_generichash(check, sizeof(check), buf, KEY_CHECK_OFF, NULL, 0);
    if (sodium_memcmp(check, buf + KEY_CHECK_OFF, 16) != 0) {
        *reterr = "key file check mismatch (damaged)";
        r = -EBADMSG;
        goto out;
    }
    k = calloc(1, sizeof(*k));
    if (!k || !(k->path = strdup(path)) || !(k->seed = sodium_malloc(SEED_LEN))) {
        r = -ENOMEM;
        goto out;
    }
    k->epoch = archive_get64(buf + 8);
    memcpy(k->seed, buf + 16, SEED_LEN);
    memcpy(k->pub0, buf + 48, ARCHIVE_PUBKEY_LEN);
    *ret = k;
    k = NULL;
out:
    sodium_memzero(buf, sizeof(buf));
    archive_key_free(k);
    return r;
}

void archive_key_free(struct archive_key *k)
{
    if (!k)
        return;
    if (k->seed)
        sodium_free(k->seed); /* sodium_free wipes */
    free(k->path);
    free(k);
}

uint64_t archive_key_epoch(const struct archive_key *k)
{
    return k->epoch;
}

int archive_pubkey_load(const char *path, uint8_t ret_pub[ARCHIVE_PUBKEY_LEN])
{
    char buf[2 * ARCHIVE_PUBKEY_LEN + 4];
    FILE *f = fopen(path, "re");
    size_t n;
    int r = 0;

    if (!f)
        return -errno;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n != 2 * ARCHIVE_PUBKEY_LEN || hex_decode_lower(buf, ARCHIVE_PUBKEY_LEN, ret_pub) < 0)
        r = -EBADMSG;
    return r;
}

/* Moves the key to epoch `epoch` (forward only), writing each step. */
int archive_key_evolve_to(struct archive_key *k, uint64_t epoch)
{
    uint8_t *next;
    int r = 0;

    if (epoch <= k->epoch)
        return 0;
    next = sodium_malloc(SEED_LEN);
    if (!next)
        return -ENOMEM;
    while (k->epoch < epoch) {
        next_seed(k->seed, k->epoch + 1, next);
        r = key_write(k->path, k->epoch + 1, next, k->pub0, 0);
        if (r < 0)
            break;
        memcpy(k->seed, next, SEED_LEN);
        k->epoch++;
    }
    sodium_free(next);
    return r;
}

/* The public key of the key's current epoch. */
void archive_key_pub(const struct archive_key *k, uint8_t out[ARCHIVE_PUBKEY_LEN])
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];

    crypto_sign_seed_keypair(out, sk, k->seed);
    sodium_memzero(sk, sizeof(sk));
}

void archive_seal_encode(const struct archive_seal *s, uint8_t out[ARCHIVE_SEAL_LEN])
{
    archive_put64(out, s->epoch);
    memcpy(out + 8, s->archive_id, ARCHIVE_ID_LEN);
    memcpy(out + 24, s->signer, ARCHIVE_PUBKEY_LEN);
    memcpy(out + 56, s->next, ARCHIVE_PUBKEY_LEN);
    memcpy(out + ARCHIVE_SEAL_SIGNED, s->sig, ARCHIVE_SIG_LEN);
}

int archive_seal_decode(const uint8_t *buf, size_t len, struct archive_seal *ret,
                        const char **reterr)
{
    if (len != ARCHIVE_SEAL_LEN) {
        *reterr = "seal of the wrong length";
        return -EBADMSG;
    }
    ret->epoch = archive_get64(buf);
    memcpy(ret->archive_id, buf + 8, ARCHIVE_ID_LEN);
    memcpy(ret->signer, buf + 24, ARCHIVE_PUBKEY_LEN);
    memcpy(ret->next, buf + 56, ARCHIVE_PUBKEY_LEN);
    memcpy(ret->sig, buf + ARCHIVE_SEAL_SIGNED, ARCHIVE_SIG_LEN);
    return 0;
}

/* The signed message: a domain string, the frame header's hashed part and
 * the seal's first 88 bytes. */
static void
seal_message(const struct archive_seal *s, const uint8_t *hdr,
             uint8_t out[sizeof(SEAL_DOMAIN) + ARCHIVE_FRAME_HASHED + ARCHIVE_SEAL_SIGNED])
{
    uint8_t enc[ARCHIVE_SEAL_LEN];

    archive_seal_encode(s, enc);
    memcpy(out, SEAL_DOMAIN, sizeof(SEAL_DOMAIN));
    memcpy(out + sizeof(SEAL_DOMAIN), hdr, ARCHIVE_FRAME_HASHED);
    memcpy(out + sizeof(SEAL_DOMAIN) + ARCHIVE_FRAME_HASHED, enc, ARCHIVE_SEAL_SIGNED);
}

int archive_seal_sign(struct archive_key *k, struct archive_seal *s,
                      const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN],
                      int (*before_evolve)(void *ctx, const struct archive_seal *s), void *ctx)
{
    uint8_t msg[sizeof(SEAL_DOMAIN) + ARCHIVE_FRAME_HASHED + ARCHIVE_SEAL_SIGNED];
    uint8_t sk[crypto_sign_SECRETKEYBYTES], nsk[crypto_sign_SECRETKEYBYTES];
    uint8_t *nseed;
    int r;

    nseed = sodium_malloc(SEED_LEN);
    if (!nseed)
        return -ENOMEM;
    s->epoch = k->epoch;
    crypto_sign_seed_keypair(s->signer, sk, k->seed);
    next_seed(k->seed, k->epoch + 1, nseed);
    crypto_sign_seed_keypair(s->next, nsk, nseed);
    sodium_memzero(nsk, sizeof(nsk));
    memset(s->sig, 0, sizeof(s->sig));
    seal_message(s, hdr, msg);
    crypto_sign_detached(s->sig, NULL, msg, sizeof(msg), sk);
    sodium_memzero(sk, sizeof(sk));
    r = before_evolve ? before_evolve(ctx, s) : 0;
    if (r == 0)
        r = archive_key_evolve_to(k, k->epoch + 1);
    sodium_free(nseed);
    return r;
}

int archive_seal_sig_ok(const struct archive_seal *s, const uint8_t hdr[ARCHIVE_FRAME_HDR_LEN])
{
    uint8_t msg[sizeof(SEAL_DOMAIN) + ARCHIVE_FRAME_HASHED + ARCHIVE_SEAL_SIGNED];

    seal_message(s, hdr, msg);
    return crypto_sign_verify_detached(s->sig, msg, sizeof(msg), s->signer) == 0;
}

/* ---- signing another log's seals (the audit trail) ---- */

void archive_key_sig_prepare(const struct archive_key *k, struct archive_key_sig *ret)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES], nsk[crypto_sign_SECRETKEYBYTES];
    uint8_t nseed[SEED_LEN];

    ret->epoch = k->epoch;
    crypto_sign_seed_keypair(ret->signer, sk, k->seed);
    next_seed(k->seed, k->epoch + 1, nseed);
    crypto_sign_seed_keypair(ret->next, nsk, nseed);
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(nsk, sizeof(nsk));
    sodium_memzero(nseed, sizeof(nseed));
    memset(ret->sig, 0, sizeof(ret->sig));
}

/* The signed bytes: the domain with its NUL, then the caller's message.
 * The domain keeps one log's seals from passing for another's. */
static int domain_message(const char *domain, const uint8_t *msg, size_t len, uint8_t **ret,
                          size_t *ret_len)
{
    size_t dl = strnlen(domain, ARCHIVE_DOMAIN_MAX + 1) + 1;

    if (dl > ARCHIVE_DOMAIN_MAX || len > ARCHIVE_KEY_MSG_MAX)
        return -EINVAL;
    if (!(*ret = malloc(dl + len)))
        return -ENOMEM;
    memcpy(*ret, domain, dl);
    if (len)
        memcpy(*ret + dl, msg, len);
    *ret_len = dl + len;
    return 0;
}

int archive_key_sign(struct archive_key *k, const char *domain, const uint8_t *msg, size_t len,
                     struct archive_key_sig *s,
                     int (*before_evolve)(void *ctx, const struct archive_key_sig *s), void *ctx)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES], pub[ARCHIVE_PUBKEY_LEN];
    uint8_t *m = NULL;
    size_t mlen = 0;
    int r;

    if (s->epoch != k->epoch)
        return -ESTALE;
    if ((r = domain_message(domain, msg, len, &m, &mlen)) < 0)
        return r;
    crypto_sign_seed_keypair(pub, sk, k->seed);
    crypto_sign_detached(s->sig, NULL, m, mlen, sk);
    sodium_memzero(sk, sizeof(sk));
    free(m);
    r = before_evolve ? before_evolve(ctx, s) : 0;
    if (r == 0)
        r = archive_key_evolve_to(k, k->epoch + 1);
    return r;
}

int archive_key_sig_ok(const char *domain, const uint8_t *msg, size_t len,
                       const struct archive_key_sig *s)
{
    uint8_t *m = NULL;
    size_t mlen = 0;
    int ok;

    if (sodium_init() < 0 || domain_message(domain, msg, len, &m, &mlen) < 0)
        return 0;
    ok = crypto_sign_verify_detached(s->sig, m, mlen, s->signer) == 0;
    free(m);
    return ok;
}
