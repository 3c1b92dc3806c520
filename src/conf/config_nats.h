/*
 * config_nats.h - the scale-out settings of hikeshi.yaml: `role:` (all,
 * collector, analyser) and the `nats:` section naming the NATS JetStream
 * cluster between collectors and analysers (issue 23, docs/scale.md).
 *
 * Kept apart from config.c so that the cluster's settings, their checks and
 * their normal form live in one place; config.c only hooks the two
 * top-level keys, the final check, the free and the print.
 */
#ifndef HIKESHI_CONF_CONFIG_NATS_H
#define HIKESHI_CONF_CONFIG_NATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

struct config;
struct ydoc;

/* What this process does (role:). */
enum config_role {
    CONFIG_ROLE_ALL = 0,   /* inputs, archive, pipeline, store: one process (default) */
    CONFIG_ROLE_COLLECTOR, /* inputs -> archive -> the stream; no pipeline */
    CONFIG_ROLE_ANALYSER,  /* the stream's partitions -> pipeline -> store; no inputs */
};

/* What keeps one entity's records in one partition (nats.partition_key). */
enum config_nats_key {
    CONFIG_NATS_KEY_PEER = 0, /* the sender's address (the input's name without one) */
    CONFIG_NATS_KEY_HOST,     /* the record's host.name as its decoder reads it; else peer */
};

#define CONFIG_NATS_SERVERS_MAX 16
#define CONFIG_NATS_PARTITIONS_MAX 1024
#define CONFIG_NATS_NAME_MAX 64

/* One input's partition key (nats.partition_key.INPUT). */
struct config_nats_input_key {
    char *input; /* owned */
    int key;     /* enum config_nats_key */
    unsigned line;
};

struct config_nats {
    int role;                           /* enum config_role (the top-level role: key) */
    unsigned role_line;                 /* where role: was set (0: default) */
    int set;                            /* 1: the file has a nats: section */
    char **servers;                     /* nats://host:port URLs (owned); at least one when set */
    size_t nservers;                    /* <= CONFIG_NATS_SERVERS_MAX */
    char *name;                         /* this node's name: the collector's record ids and the
                                           analyser's membership (owned; NULL: the host name) */
    char *stream;                       /* JetStream stream (owned), default "HIKESHI" */
    char *subject;                      /* subject prefix (owned), default "hikeshi.rec": a
                                           record goes to SUBJECT.PARTITION */
    uint32_t partitions;                /* 1..CONFIG_NATS_PARTITIONS_MAX, default 8 */
    uint32_t replicas;                  /* the stream's replicas, 1..5, default 1 */
    uint64_t max_bytes;                 /* the stream's byte limit; full: publishes are
                                           refused and records wait in the archive */
    uint64_t max_msgs;                  /* its message limit (0: none) */
    int64_t ack_wait_us;                /* an unacked record is redelivered after this;
                                           a dead analyser's lease expires after it too */
    uint32_t fetch;                     /* records per fetch of an analyser */
    uint32_t inflight;                  /* a collector's async publishes awaiting acks */
    int key_default;                    /* enum config_nats_key for inputs not listed */
    struct config_nats_input_key *keys; /* owned */
    size_t nkeys;
    /* nats.tls: TLS to the servers (owned paths; all NULL: plain unless a
     * server is a tls:// URL).  ca: the PEM bundle the servers'
     * certificates must chain to; cert and key: this node's client
     * certificate and key, for servers that verify clients. */
    char *tls_ca, *tls_cert, *tls_key;
    /* nats.user and nats.password_file: the account to log in as, its
     * password read from the file at start (owned; NULL: none) */
    char *user, *password_file;
    /* nats.nkey_seed_file: a file holding this node's NKey user seed (SU...;
     * owned; NULL: none).  libnats reads it again at every connect, so it
     * stays readable by the user the daemon drops to. */
    char *nkey_seed_file;
    /* nats.credentials_file: a .creds file (a user JWT and its NKey seed)
     * for servers in operator mode (owned; NULL: none); read again at
     * every connect too */
    char *credentials_file;
    unsigned line; /* of the nats: key, for messages (0: not set) */
};

/* Handlers of the top-level keys `role` and `nats` (ydoc_key_fn). */
int config_nats_kw_role(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg);
int config_nats_kw(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg);
/* Fills the defaults of an unset section. */
void config_nats_defaults(struct config_nats *n);
/* After the whole file: the role needs a nats: section, an archive for a
 * collector, and partition_key names configured inputs.  0 or ydoc_fail's
 * -EINVAL with the message at the offending line. */
int config_nats_check(struct ydoc *d, const struct config *c);
void config_nats_free(struct config_nats *n);
/* Prints role: and nats: in normal form (hikeshi run -nv). */
void config_nats_print(const struct config *c, FILE *out);
/* "all", "collector" or "analyser". */
const char *config_role_name(int role);
/* The partition key of input `name`. */
int config_nats_key_of(const struct config_nats *n, const char *input);

#endif
