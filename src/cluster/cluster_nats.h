/*
 * cluster_nats.h - what the collector and the analyser share of NATS: the
 * connection (every server of nats.servers, reconnecting for ever) and the
 * stream, made or brought to the configured limits.  Private to cluster/.
 */
#ifndef HIKESHI_CLUSTER_CLUSTER_NATS_H
#define HIKESHI_CLUSTER_CLUSTER_NATS_H

#include <stdatomic.h>

#include <nats/nats.h>

#include "conf/config_nats.h"

/*
 * Connects to c->servers as `who` (the connection's name).  When no server
 * answers, the connection keeps trying in the background (the call
 * returns 0 with the connection not yet up); *connected follows its state
 * (set from the library's threads).  0 or -EIO with the library's reason
 * logged.
 */
int cluster_nats_connect(const struct config_nats *c, const char *who, atomic_int *connected,
                         natsConnection **ret);
/* *connected once the connection is closed for good (its last callback). */
#define CLUSTER_NATS_CLOSED (-1)
/* Attempts at the first login before a refusal stands (cluster_nats_connect). */
#define CLUSTER_NATS_LOGIN_ATTEMPTS 4
/* Closes and frees `nc` (NULL: nothing), after the library's last
 * callback on it has run: `connected`, given to cluster_nats_connect, may
 * be freed after the return. */
void cluster_nats_close(natsConnection *nc, atomic_int *connected);
/* Makes the stream STREAM on subjects SUBJECT.* (a work queue: a record
 * leaves it once acked; full: new records are refused, never old ones
 * dropped), or updates its limits.  0 or -EIO; *why gets the reason. */
int cluster_nats_stream(jsCtx *js, const struct config_nats *c, char *why, size_t whylen);
/*
 * The room left in the stream under its limits (its own MaxMsgs and
 * MaxBytes, as the server holds them): *msgs and *bytes, UINT64_MAX for
 * no limit, 0 when at or over it.  A collector publishes no more than this:
 * the nats-server of Debian 12 (2.9) can lose records of a replicated
 * discard-new stream published past its limits (it acks them, then drops
 * the oldest; nats-server issues 4771 and 4775), so the limits are kept on
 * this side.  0 or -EIO (*why says why).
 */
int cluster_nats_room(jsCtx *js, const struct config_nats *c, uint64_t *msgs, uint64_t *bytes,
                      char *why, size_t whylen);
/* This node's name: nats.name, else the host name cut to a NATS token. */
void cluster_nats_node(const struct config_nats *c, char *out, size_t outlen);

#endif
