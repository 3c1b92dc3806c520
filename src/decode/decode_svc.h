/*
 * decode_svc.h - what the decoders of server messages (mail, VPN, RADIUS,
 * FTP, databases, antivirus, DNS) have in common: a login or a connection,
 * by a user from an address, with an outcome.  Each fills a struct
 * decode_svc from its own message shapes and emits it here, so that every
 * such product gives the same ECS names and the correlation rules (brute
 * force per source.ip, per user.name) work across them.
 */
#ifndef HIKESHI_DECODE_DECODE_SVC_H
#define HIKESHI_DECODE_DECODE_SVC_H

#include "decode/decode_util.h"

struct event;

/* Static strings are NULL when absent; spans are empty when absent. */
struct decode_svc {
    const char *module;               /* event.module, the product: "postfix" */
    const char *dataset;              /* event.dataset: "postfix.smtpd" */
    const char *action;               /* event.action: "sasl_auth_failure" */
    const char *category;             /* event.category: "authentication", "network", ... */
    const char *type;                 /* event.type: "start", "denied", "info", ... */
    const char *outcome;              /* event.outcome: "success", "failure" */
    struct decode_span user;          /* user.name */
    struct decode_span source_ip;     /* source.ip: emitted only if an address */
    struct decode_span source_port;   /* source.port: emitted only if a port */
    struct decode_span source_domain; /* source.domain */
    struct decode_span dest_ip;       /* destination.ip: only if an address */
    struct decode_span dest_port;     /* destination.port: only if a port */
    struct decode_span reason;        /* event.reason */
};

/*
 * Adds the fields of `s` to `ev` (each a view of its span or a static
 * string), and event.kind "event".  An address or port that does not parse
 * as one is left out rather than failing the record.  Returns 0 or -ENOMEM.
 */
int decode_svc_emit(struct event *ev, const struct decode_svc *s);

#endif
