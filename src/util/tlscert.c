/*
 * tlscert.c - the self-signed certificate of a TLS listener (see
 * tlscert.h), with GnuTLS, the library libmicrohttpd itself uses for TLS.
 */
#include "util/tlscert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util/readfile.h"

#define TLSCERT_DAYS 365
#define TLSCERT_MAX_BYTES (64 * 1024)

/* An IP literal ("192.0.2.7", "::1", "[::1]") as bytes; 0 if not one. */
static size_t ip_bytes(const char *name, unsigned char out[16])
{
    char tmp[64];
    size_t n = strlen(name);

    if (n >= 2 && name[0] == '[' && name[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, name + 1, n - 2);
        tmp[n - 2] = '\0';
        return inet_pton(AF_INET6, tmp, out) == 1 ? 16 : 0;
    }
    if (inet_pton(AF_INET, name, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, name, out) == 1)
        return 16;
    return 0;
}

/* 1 when the certificate in `pem` is valid for another day and names
 * every one of `names`; 0 otherwise (also when it does not parse). */
static int cert_usable(char *pem, size_t len, const char *const *names, size_t nnames)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
    int ok = 0;

    if (gnutls_x509_crt_init(&crt) < 0)
        return 0;
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0)
        goto out;
    if (gnutls_x509_crt_get_expiration_time(crt) < time(NULL) + 86400)
        goto out;
    ok = 1;
    for (size_t i = 0; i < nnames && ok; i++) {
        unsigned char ip[16];
        size_t iplen = ip_bytes(names[i], ip);

        ok = iplen ? gnutls_x509_crt_check_ip(crt, ip, (unsigned)iplen, 0) != 0
                   : gnutls_x509_crt_check_hostname(crt, names[i]) != 0;
    }
out:
    gnutls_x509_crt_deinit(crt);
    return ok;
}

/* Writes `len` bytes to `path` through PATH.tmp with `mode`, then renames:
 * a crash leaves the old file or the new one, never half of one. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[TLSCERT_PATH_MAX + 8];
    const unsigned char *p = data;
    int fd, r = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    /* The umask may have taken bits away; never added any. */
    if (fchmod(fd, mode) < 0)
        r = -errno;
    while (r == 0 && len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : -EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    return r;
}

/* A new key and certificate for `names`, as PEM into *ret_cert and
 * *ret_key (gnutls_free them).  GnuTLS's error code on failure, with the
 * step in *ret_what. */
static int generate(const char *const *names, size_t nnames, gnutls_datum_t *ret_cert,
                    gnutls_datum_t *ret_key, const char **ret_what)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[16], kid[64];
    size_t kidlen = sizeof(kid);
    time_t now = time(NULL);
    int r;

    ret_cert->data = ret_key->data = NULL;
    *ret_what = "key";
    if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
        (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
        goto out;
    *ret_what = "certificate";
    if ((r = gnutls_x509_crt_init(&crt)) < 0 || (r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
        goto out;
    /* A positive serial number of full length. */
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    if ((r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        /* An hour back, for clocks a little behind ours. */
        (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
        (r = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)TLSCERT_DAYS * 86400)) < 0 ||
        (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                           "hikeshi (self-signed)", 21)) < 0 ||
        (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, names[0],
                                           (unsigned)strlen(names[0]))) < 0 ||
        (r = gnutls_x509_crt_set_key(crt, key)) < 0)
        goto out;
    for (size_t i = 0; i < nnames; i++) {
        unsigned char ip[16];
        size_t iplen = ip_bytes(names[i], ip);

        r = iplen ? gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip,
                                                         (unsigned)iplen, GNUTLS_FSAN_APPEND)
                  : gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, names[i],
                                                         (unsigned)strlen(names[i]),
                                                         GNUTLS_FSAN_APPEND);
        if (r < 0)
            goto out;
    }
    /* An end entity, not a CA: browsers refuse a CA certificate used as a
     * server's.  Server and client use, for listeners with mutual TLS. */
    if ((r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0 ||
        (r = gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen)) < 0 ||
        (r = gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen)) < 0 ||
        (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
        goto out;
    *ret_what = "PEM export";
    if ((r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, ret_cert)) < 0 ||
        (r = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                               ret_key)) < 0)
        goto out;
    r = 0;
out:
    if (r < 0) {
        gnutls_free(ret_cert->data);
        gnutls_free(ret_key->data);
        ret_cert->data = ret_key->data = NULL;
    }
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return r;
}

int tlscert_ensure_self_signed(const char *dir, const char *stem, const char *const *names,
                               size_t nnames, struct tlscert_paths *ret, int *ret_created,
                               char *errbuf, size_t errlen)
{
    gnutls_datum_t cert = {0}, key = {0};
    struct stat st;
    const char *what = "";
    char *pem = NULL;
    size_t len = 0;
    int r;

    if (ret_created)
        *ret_created = 0;
    if (nnames == 0 || !names[0] || !names[0][0]) {
        snprintf(errbuf, errlen, "a self-signed certificate needs at least one host name");
        return -EINVAL;
    }
    if ((size_t)snprintf(ret->cert, sizeof(ret->cert), "%s/%s.crt", dir, stem) >=
            sizeof(ret->cert) ||
        (size_t)snprintf(ret->key, sizeof(ret->key), "%s/%s.key", dir, stem) >= sizeof(ret->key)) {
        snprintf(errbuf, errlen, "%s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(-r));
        return r;
    }
    if (stat(ret->key, &st) == 0 && S_ISREG(st.st_mode) &&
        readfile_all(ret->cert, TLSCERT_MAX_BYTES, &pem, &len) == 0) {
        int usable = cert_usable(pem, len, names, nnames);

        free(pem);
        if (usable) {
            /* A key readable by others is no longer only ours to show. */
            if ((st.st_mode & 077) && chmod(ret->key, 0600) < 0) {
                r = -errno;
                snprintf(errbuf, errlen, "%s: mode %03o and chmod fails: %s", ret->key,
                         (unsigned)(st.st_mode & 0777), strerror(-r));
                return r;
            }
            return 0;
        }
    }
    if ((r = generate(names, nnames, &cert, &key, &what)) < 0) {
        snprintf(errbuf, errlen, "self-signed %s for %s: %s", what, names[0], gnutls_strerror(r));
        return -EIO;
    }
    /* The key first: a certificate never sits beside a key it does not
     * belong to for longer than the rename between them. */
    if ((r = write_file(ret->key, key.data, key.size, 0600)) < 0)
        snprintf(errbuf, errlen, "%s: %s", ret->key, strerror(-r));
    else if ((r = write_file(ret->cert, cert.data, cert.size, 0644)) < 0)
        snprintf(errbuf, errlen, "%s: %s", ret->cert, strerror(-r));
    gnutls_memset(key.data, 0, key.size);
    gnutls_free(key.data);
    gnutls_free(cert.data);
    if (r == 0 && ret_created)
        *ret_created = 1;
    return r;
}
