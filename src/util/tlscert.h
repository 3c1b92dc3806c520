/*
 * tlscert.h - a self-signed certificate made on first run, so that a
 * listener that leaves loopback can speak TLS before anyone has set up a
 * PKI.  Used by the HTTPS endpoint and meant for any other TLS listener
 * (syslog over TLS): one call, two file paths back.
 *
 * The key is ECDSA P-256 (GnuTLS), written 0600; the certificate names
 * every name it is given as a subjectAltName (DNS names, and IP literals as
 * IP addresses), is valid for a year, and is reused on later runs while it
 * is valid and still names them all.
 */
#ifndef HIKESHI_UTIL_TLSCERT_H
#define HIKESHI_UTIL_TLSCERT_H

#include <stddef.h>

#define TLSCERT_PATH_MAX 4096

struct tlscert_paths {
    char cert[TLSCERT_PATH_MAX]; /* DIR/STEM.crt, PEM */
    char key[TLSCERT_PATH_MAX];  /* DIR/STEM.key, PEM (PKCS#8), mode 0600 */
};

/*
 * Makes sure DIR/STEM.crt and DIR/STEM.key hold a usable self-signed pair
 * for `names` (host names or IP literals, "[::1]" accepted; at least one;
 * the first is also the subject's common name): reuses them when the
 * certificate parses, is valid for at least another day and covers every
 * name, else generates a new pair and replaces both files (each written to
 * a temporary file, then renamed).  DIR is created (0700) if missing.
 * `*ret_created` (may be NULL) is 1 when a new pair was written.  Returns 0,
 * or a negative errno with the reason in errbuf ("file: why").
 */
int tlscert_ensure_self_signed(const char *dir, const char *stem, const char *const *names,
                               size_t nnames, struct tlscert_paths *ret, int *ret_created,
                               char *errbuf, size_t errlen);

#endif
