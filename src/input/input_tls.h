/*
 * input_tls.h - the TLS layer of syslog over TLS (RFC 5425), with GnuTLS.
 *
 * A listener's credentials (its certificate and key) and its policy for
 * clients: every client must present a certificate, accepted when it chains
 * to the configured CA or when its SHA-256 fingerprint is listed.  Sessions
 * run on non-blocking sockets inside the syslog input's epoll loop: the
 * handshake advances a step per readiness event, reads decrypt, and closing
 * sends close_notify.  The framing above (RFC 6587 octet counting, which
 * RFC 5425 prescribes) is the TCP input's.
 */
#ifndef HIKESHI_INPUT_INPUT_TLS_H
#define HIKESHI_INPUT_INPUT_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "input/input.h"

#define INPUT_TLS_FPR_LEN 32 /* SHA-256 */
/* Fingerprints one input may list. */
#define INPUT_TLS_MAX_FPRS 256
/* A client must finish its handshake within this many seconds. */
#define INPUT_TLS_HANDSHAKE_S 10

struct input_tls;
struct input_tls_session;

/*
 * Parses one SHA-256 fingerprint from s[0..len): 64 hex digits, in either
 * case, optionally in pairs separated by ':' (as `certtool -i` and
 * `openssl x509 -fingerprint -sha256` print them), optionally after
 * "SHA256:" or "sha256/".  Needs no NUL.  Returns 0 or -EINVAL.
 */
int input_tls_fingerprint_parse(const char *s, size_t len, uint8_t ret[INPUT_TLS_FPR_LEN]);

/*
 * Loads the input's certificate, key and CA (c->tls_*), and its accepted
 * client fingerprints.  Needs at least one of a CA and a fingerprint: a TLS
 * input always authenticates its clients.  Errors: a negative errno and a
 * message naming the input and the file in errbuf.
 */
int input_tls_new(const struct input_conf *c, struct input_tls **ret, char *errbuf, size_t errlen);
/* Frees.  NULL is a no-op.  Sessions must be gone. */
void input_tls_free(struct input_tls *t);

/* A server session on the connected, non-blocking socket `fd` (which the
 * caller keeps and closes).  0, or -ENOMEM / -EPROTO. */
int input_tls_session_new(struct input_tls *t, int fd, struct input_tls_session **ret);
/*
 * Advances the handshake.  Returns 0 when it is done and the client is
 * accepted; -EAGAIN when it waits for the socket (*ret_want_write says
 * which way); -EACCES when the client is refused (no certificate, one
 * neither chaining to the CA nor listed); another negative errno when the
 * handshake failed.  On refusal or failure, `why` holds a short reason.
 */
int input_tls_handshake(struct input_tls_session *ss, int *ret_want_write, char *why,
                        size_t whylen);
/* Like read(2): bytes decrypted, 0 at the client's close_notify or EOF, -1
 * with errno EAGAIN (wait for the socket), EINTR, or EPROTO (a TLS error). */
ssize_t input_tls_read(struct input_tls_session *ss, void *buf, size_t n);
/* Decrypted bytes held in the session, which the socket's readiness will
 * not announce. */
size_t input_tls_pending(struct input_tls_session *ss);
/* Sends close_notify if the socket takes it now (never waits) and frees.
 * NULL is a no-op. */
void input_tls_session_free(struct input_tls_session *ss);

#endif
