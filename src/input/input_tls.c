/*
 * input_tls.c - TLS for the syslog input (RFC 5425) with GnuTLS; see
 * input_tls.h.
 *
 * Every client must present a certificate (GNUTLS_CERT_REQUIRE): syslog
 * over TLS exists here to know who sent a record.  The certificate is
 * checked after the handshake, before any record is read: accepted when it
 * chains to the configured CA (gnutls_certificate_verify_peers2, against
 * the trust list loaded from `ca`; no host name is compared, clients are
 * not servers) or when the SHA-256 of the client's own certificate (DER) is
 * listed in client_fingerprints.  Either admits; a client that neither
 * admits is refused.
 */
#include "input/input_tls.h"
#include "util/hex.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TLS 1.2 and 1.3 only, GnuTLS's normal ciphers otherwise. */
#define INPUT_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct input_tls {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    int has_ca;
    const uint8_t *fprs; /* npfrs * INPUT_TLS_FPR_LEN bytes, the conf's */
    size_t nfprs;
};

struct input_tls_session {
    struct input_tls *t;
    gnutls_session_t s;
    int done; /* handshake complete and client accepted */
};

int input_tls_fingerprint_parse(const char *s, size_t len, uint8_t ret[INPUT_TLS_FPR_LEN])
{
    size_t i = 0, n = 0;
    int colons = -1; /* unknown until the third character */

    if (len >= 7 && (strncmp(s, "SHA256:", 7) == 0 || strncmp(s, "sha256:", 7) == 0 ||
                     strncmp(s, "sha256/", 7) == 0 || strncmp(s, "SHA256/", 7) == 0)) {
        s += 7;
        len -= 7;
    }
    while (n < INPUT_TLS_FPR_LEN) {
        int hi, lo;

        if (n > 0) {
            if (colons < 0)
                colons = i < len && s[i] == ':';
            if (colons) {
                if (i >= len || s[i] != ':')
                    return -EINVAL;
                i++;
            }
        }
        if (i + 2 > len)
            return -EINVAL;
        hi = hex_value(s[i]);
        lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        ret[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return i == len ? 0 : -EINVAL;
}

int input_tls_new(const struct input_conf *c, struct input_tls **ret, char *errbuf, size_t errlen)
{
    struct input_tls *t;
    int r;

    *ret = NULL;
    if (!c->tls_cert || !c->tls_key) {
        snprintf(errbuf, errlen, "input %s: tls needs cert and key", c->name);
        return -EINVAL;
    }
    if (!c->tls_ca && c->ntls_fprs == 0) {
        snprintf(errbuf, errlen,
                 "input %s: tls needs ca or client_fingerprints: clients must authenticate",
                 c->name);
        return -EINVAL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    t->fprs = c->tls_fprs;
    t->nfprs = c->ntls_fprs;
    if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
        free(t);
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    r = gnutls_certificate_set_x509_key_file(t->cred, c->tls_cert, c->tls_key, GNUTLS_X509_FMT_PEM);
    if (r < 0) {
        snprintf(errbuf, errlen, "input %s: tls cert %s / key %s: %s", c->name, c->tls_cert,
                 c->tls_key, gnutls_strerror(r));
        goto fail;
    }
    if (c->tls_ca) {
        r = gnutls_certificate_set_x509_trust_file(t->cred, c->tls_ca, GNUTLS_X509_FMT_PEM);
        if (r <= 0) {
            snprintf(errbuf, errlen, "input %s: tls ca %s: %s", c->name, c->tls_ca,
                     r == 0 ? "no certificate in the file" : gnutls_strerror(r));
            goto fail;
        }
        t->has_ca = 1;
    }
    r = gnutls_priority_init(&t->prio, INPUT_TLS_PRIORITY, NULL);
    if (r < 0) {
        snprintf(errbuf, errlen, "input %s: tls priority: %s", c->name, gnutls_strerror(r));
        goto fail;
    }
    *ret = t;
    return 0;
fail:
    input_tls_free(t);
    return -EINVAL;
}

void input_tls_free(struct input_tls *t)
{
    if (!t)
        return;
    if (t->prio)
        gnutls_priority_deinit(t->prio);
    gnutls_certificate_free_credentials(t->cred);
    free(t);
}

int input_tls_session_new(struct input_tls *t, int fd, struct input_tls_session **ret)
{
    struct input_tls_session *ss = calloc(1, sizeof(*ss));

    *ret = NULL;
    if (!ss)
        return -ENOMEM;
    ss->t = t;
    if (gnutls_init(&ss->s, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0) {
        free(ss);
        return -ENOMEM;
    }
    if (gnutls_priority_set(ss->s, t->prio) < 0 ||
        gnutls_credentials_set(ss->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0) {
        gnutls_deinit(ss->s);
        free(ss);
        return -EPROTO;
    }
    gnutls_certificate_server_set_request(ss->s, GNUTLS_CERT_REQUIRE);
    gnutls_transport_set_int(ss->s, fd);
    gnutls_handshake_set_timeout(ss->s, 0); /* the caller keeps the deadline */
    *ret = ss;
    return 0;
}

/* 1 when the SHA-256 of the client's certificate is listed. */
static int fingerprint_listed(const struct input_tls *t, const gnutls_datum_t *der)
{
    uint8_t fpr[INPUT_TLS_FPR_LEN];

    if (t->nfprs == 0 || gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, fpr) < 0)
        return 0;
    for (size_t i = 0; i < t->nfprs; i++)
        if (memcmp(t->fprs + i * INPUT_TLS_FPR_LEN, fpr, INPUT_TLS_FPR_LEN) == 0)
            return 1;
    return 0;
}

/* Decides on the client's certificate.  0 accepted, -EACCES refused. */
static int check_client(struct input_tls_session *ss, char *why, size_t whylen)
{
    const gnutls_datum_t *certs;
    unsigned n = 0, status = 0;

    if (gnutls_certificate_type_get(ss->s) != GNUTLS_CRT_X509 ||
        !(certs = gnutls_certificate_get_peers(ss->s, &n)) || n == 0) {
        snprintf(why, whylen, "no client certificate");
        return -EACCES;
    }
    if (fingerprint_listed(ss->t, &certs[0]))
        return 0;
    if (ss->t->has_ca) {
        int r = gnutls_certificate_verify_peers2(ss->s, &status);

        if (r == 0 && status == 0)
            return 0;
        if (r < 0) {
            snprintf(why, whylen, "certificate not verified: %s", gnutls_strerror(r));
        } else {
            gnutls_datum_t out = {0};

            if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) ==
                0) {
                snprintf(why, whylen, "certificate not accepted: %.*s", (int)out.size,
                         (const char *)out.data);
                gnutls_free(out.data);
            } else {
                snprintf(why, whylen, "certificate not accepted (status 0x%x)", status);
            }
        }
        return -EACCES;
    }
    snprintf(why, whylen, "certificate fingerprint not in client_fingerprints");
    return -EACCES;
}

int input_tls_handshake(struct input_tls_session *ss, int *ret_want_write, char *why, size_t whylen)
{
    int r;

    *ret_want_write = 0;
    if (ss->done)
        return 0;
    r = gnutls_handshake(ss->s);
    if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
        *ret_want_write = gnutls_record_get_direction(ss->s) == 1;
        return -EAGAIN;
    }
    if (r < 0) {
        snprintf(why, whylen, "handshake: %s", gnutls_strerror(r));
        if (r == GNUTLS_E_NO_CERTIFICATE_FOUND || r == GNUTLS_E_CERTIFICATE_REQUIRED)
            return -EACCES;
        return -EPROTO;
    }
    r = check_client(ss, why, whylen);
    if (r < 0)
        return r;
    ss->done = 1;
    return 0;
}

ssize_t input_tls_read(struct input_tls_session *ss, void *buf, size_t n)
{
    ssize_t r = gnutls_record_recv(ss->s, buf, n);

    if (r >= 0)
        return r;
    switch (r) {
    case GNUTLS_E_AGAIN: errno = EAGAIN; break;
    case GNUTLS_E_INTERRUPTED: errno = EINTR; break;
    case GNUTLS_E_PREMATURE_TERMINATION:
        /* The client closed TCP without close_notify; what arrived before
         * was authenticated record by record, so keep it: EOF. */
        return 0;
    default: errno = EPROTO; break;
    }
    return -1;
}

size_t input_tls_pending(struct input_tls_session *ss)
{
    return gnutls_record_check_pending(ss->s);
}

void input_tls_session_free(struct input_tls_session *ss)
{
    if (!ss)
        return;
    if (ss->done)
        (void)gnutls_bye(ss->s, GNUTLS_SHUT_WR); /* non-blocking: once, best effort */
    gnutls_deinit(ss->s);
    free(ss);
}
