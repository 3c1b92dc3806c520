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
/* Makes the stream STREAM on subjects SUBJECT.* (a work queue: a record
 * leaves it once acked; full: new records are refused, never old ones
 * dropped), or updates its limits.  0 or -EIO; *why gets the reason. */
int cluster_nats_stream(jsCtx *js, const struct config_nats *c, char *why, size_t whylen);
/* This node's name: nats.name, else the host name cut to a NATS token. */
void cluster_nats_node(const struct config_nats *c, char *out, size_t outlen);

#endif
