/*
 * cluster_nkey.h - NATS NKeys as nats.nkey_seed_file and the seed section
 * of nats.credentials_file hold them (issue 23, docs/scale.md "NKeys").
 *
 * libnats signs the server's nonce from the seed file itself but must be
 * told the user's public key; this derives it from the seed, and refuses
 * at start a file that holds no user seed, rather than a refusal by the
 * server at every connect.  An NKey is base32 (RFC 4648, no padding) of a
 * prefix naming its kind, 32 bytes and a CRC-16/XMODEM of what precedes it
 * (little-endian); a seed has two prefix bytes (the seed's, then the
 * kind's) and an ed25519 seed, a public key one prefix byte and the
 * ed25519 public key.
 */
#ifndef HIKESHI_CLUSTER_CLUSTER_NKEY_H
#define HIKESHI_CLUSTER_CLUSTER_NKEY_H

#include <stddef.h>

/* base32 of 2 + 32 + 2 bytes, and of 1 + 32 + 2 */
#define CLUSTER_NKEY_SEED_LEN 58
#define CLUSTER_NKEY_PUBLIC_LEN 56

/*
 * `text` (len bytes, the whole seed file) holds one NATS user seed, "SU"
 * and 56 more base32 characters, with only blanks and line ends around it.
 * 0 and the user's public key ("U" and 55 more, NUL-terminated) in `pub`,
 * or -EINVAL with *why (static text; it never quotes the secret).  The
 * decoded secret is wiped before the return.
 */
int cluster_nkey_user_public(const char *text, size_t len, char pub[CLUSTER_NKEY_PUBLIC_LEN + 1],
                             const char **why);

/*
 * `text` (len bytes, a whole .creds file) holds a NATS USER JWT section
 * and after it a USER NKEY SEED section (the lines "-----BEGIN ...-----"
 * and "------END ...------" around each, as nsc writes them) whose seed
 * is a user's.  0 and that user's public key in `pub`, or -EINVAL with
 * *why.  The JWT is not judged here: the server does.
 */
int cluster_nkey_creds_user_public(const char *text, size_t len,
                                   char pub[CLUSTER_NKEY_PUBLIC_LEN + 1], const char **why);

/* The seed text of the user whose ed25519 seed is `seed` (tests). */
void cluster_nkey_user_seed(const unsigned char seed[32], char out[CLUSTER_NKEY_SEED_LEN + 1]);

#endif
