/*
 * config.h - hikeshi.yaml: what the daemon and scan are told to do.
 *
 * config_load() builds a fresh struct config from a file; on SIGHUP the
 * daemon loads a new one and swaps it in only if it parsed cleanly.  With no
 * file, config_defaults() gives the defaults of DESIGN.md: data in ./var,
 * syslog on 127.0.0.1:5514 (UDP and TCP), the API on 127.0.0.1:8080, the
 * built-in rules.  The language is documented in hikeshi.yaml(5).
 *
 * conf/ sits above the stages, not in util/: it names their types (inputs,
 * decoders, incident phases, triage levels), so it may include them, and
 * util/ stays free of anything above it.
 */
#ifndef HIKESHI_CONF_CONFIG_H
#define HIKESHI_CONF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/config_nats.h"
#include "input/input.h"
#include "util/log.h"
#include "util/parse_err.h"

struct tz;

struct config_input {
    struct input_conf conf; /* strings point into the fields below */
    char *name;
    char *listen;
    char *path;
    char *decoder; /* decoder name, or "auto" */
    struct tz *tz; /* zone of its timestamps without one (owned); NULL: the
                      global timezone */
    struct cidr *peers; /* inputs[].peers (owned; conf.peers points here) */
    size_t npeers;
    int tcp_keys;  /* 1: a TCP-only key was given (checked against the type) */
    char *tls_cert, *tls_key, *tls_ca; /* inputs[].tls (owned) */
    uint8_t *tls_fprs; /* ntls_fprs SHA-256 fingerprints, 32 bytes each (owned) */
    size_t ntls_fprs;
    int has_tls;   /* 1: a tls: block was given */
    /* http-bulk: credentials "user:password" and "id:key" (owned; the
     * conf's lists point here) */
    char **http_users, **http_api_keys;
    size_t nhttp_users, nhttp_api_keys;
    /* a sender silent this long raises an alert; 0: learned from its
     * traffic; CONFIG_EXPECT_OFF: not watched */
    int64_t expect_every_s;
#define CONFIG_EXPECT_OFF (-1)
    int64_t silence_learn_min_s, silence_learn_max_s; /* learned intervals' bounds; 0: default */
    unsigned line; /* where it was defined, for messages; 0 for defaults */
};

/* A CSIRT that may poll our TAXII server (intel.peers): its name, the
 * API user whose tokens it presents, and the most restricted TLP it is
 * served (0 CLEAR .. 3 AMBER+STRICT as enum intel_tlp; never RED). */
struct config_intel_peer {
    char *name;
    char *user;
    int tlp_max;
};
#define CONFIG_MAX_INTEL_PEERS 64

/* One archive.retention.inputs entry (docs/archive.md, "Retention per
 * input"). */
#define CONFIG_MAX_RETENTION_INPUTS 256
struct config_retention_input {
    char *name;         /* an input's name */
    uint64_t max_age_s; /* 0: the archive's max_age */
    uint64_t max_bytes; /* 0: no size limit of its own */
};

/* One archive.witness entry: exactly one of file and url. */
#define CONFIG_MAX_WITNESSES 8
struct config_witness {
    char *file;        /* absolute path of a file of JSON lines, appended */
    char *url;         /* http:// or https:// URL, POSTed one seal at a time */
    char *secret_file; /* url: the HMAC key's file (respond webhooks' scheme) */
    char *hikeshi;     /* another hikeshi's http-bulk input (.../_bulk) */
    char *auth_header; /* hikeshi: "Name: value" sent with each POST, or NULL */
};

/* A feed fetched by URL on a schedule (intel.feeds, docs/intel.md "Feeds
 * by URL"): its name in the store ([A-Za-z0-9._-]), an http(s) URL, its
 * format (CONFIG_INTEL_FEED_*), the time between fetches, the TLP floor
 * (0 CLEAR .. 4 RED as enum intel_tlp; -1: unset) and the confidence of
 * indicators it does not rate (-1: unset), and one header sent with every
 * request ("Name: value", for an API key; NULL: none).  For an https
 * URL: the CA file that the server's certificate must chain to instead
 * of the system's (NULL: the system's), and the client certificate and
 * its key presented to the server (PEM files, absolute paths; a key
 * needs a certificate, a certificate without a key holds its key). */
enum {
    CONFIG_INTEL_FEED_STIX = 0,
    CONFIG_INTEL_FEED_MISP,
    CONFIG_INTEL_FEED_MISP_FEED,
    CONFIG_INTEL_FEED_CSV,
};
struct config_intel_feed {
    char *name;
    char *url;
    int format;
    int64_t interval_us;
    int tlp;
    int confidence;
    char *auth_header;
    char *ca_file, *client_cert, *client_key;
};
#define CONFIG_MAX_INTEL_FEEDS 64

/* One override of a phase's time target (incident.targets). */
struct config_target {
    int phase;    /* enum incident_phase */
    int category; /* enum asset_category, or -1: every category */
    int level;    /* enum triage_alert_level, or -1: every level */
    int64_t us;   /* the target; 0: none */
};
#define CONFIG_MAX_TARGETS 64

/* Clocks that escalate (incident.escalation, incident/incident_clock.h):
 * a notice lead_us before a phase's deadline, then up the chain. */
struct config_escalation {
    int enabled;       /* default 1 */
    int64_t lead_us;   /* default 10 minutes; 0: no notice */
    int64_t every_us;  /* between escalation steps; -1: lead_us (the default) */
    char **notify;     /* webhook URLs (owned); none: logged, audited, counted only */
    size_t nnotify;    /* <= CONFIG_ESCALATION_NOTIFY_MAX */
    char *secret_file; /* the webhooks' HMAC key (required with notify) */
    char **chain;      /* "assignee" or a contact's role or name (owned); NULL: */
    size_t nchain;     /* assignee, lead, manager; <= 8 (INCIDENT_CLOCK_CHAIN_MAX) */
};
#define CONFIG_ESCALATION_NOTIFY_MAX 8

/* incident.messages (issue 25, docs/incident.md "Messages"): how approved
 * messages are delivered.  Every pointer owned. */
struct config_messages {
    int enabled;             /* default 1: the deliverer runs */
    char *smtp;              /* smtp:// or smtps:// URL; NULL: the smtp channel fails */
    char *from;              /* the From address of mail */
    unsigned attempts;       /* per message, first included; default 5 */
    int64_t retry_us;        /* wait before the 2nd attempt, doubling; default 60 s */
    int64_t retry_max_us;    /* cap of one wait; default 1 h */
    char **webhook_allow;    /* URL prefixes a webhook message may go to */
    size_t nwebhook_allow;   /* <= CONFIG_MESSAGES_ALLOW_MAX */
    char *secret_file;       /* HMAC key of webhook and export messages */
    char *export_dir;        /* where export messages are written */
    char *responsible;       /* contact role or name the first report goes to */
    int first_report;        /* default 1: drafted for each new incident */
};
#define CONFIG_MESSAGES_ALLOW_MAX 16

/* The HTTP endpoint's edge (http: in hikeshi.yaml(5)); http.listen itself
 * is config.http_listen. */
enum config_http_tls {
    CONFIG_HTTP_TLS_AUTO = 0, /* HTTPS unless the listener is loopback */
    CONFIG_HTTP_TLS_ON,
    CONFIG_HTTP_TLS_OFF,
};
struct config_http {
    char **hosts;  /* Host header names accepted beyond the built-in ones (owned) */
    size_t nhosts; /* <= CONFIG_HTTP_HOSTS_MAX */
    enum config_http_tls tls;
    char *tls_cert, *tls_key;   /* PEM files; both or neither (NULL: self-signed) */
    int insecure_cleartext;     /* 1: plain HTTP off loopback is allowed */
    unsigned max_connections;   /* open at once, all clients */
    unsigned max_per_address;   /* open at once from one address */
    unsigned idle_timeout_s;    /* a connection silent this long is closed */
    unsigned request_timeout_s; /* whole request (headers and body) within this */
};
#define CONFIG_HTTP_HOSTS_MAX 64

struct config {
    char *path;     /* file it was read from; NULL for the defaults */
    char *data_dir; /* SQLite store and alert files */
    enum log_level log_level;
    int log_syslog;      /* 1: log to syslog(3) instead of stderr */
    struct tz *tz;       /* zone assumed for timestamps without one (owned;
                            NULL: UTC); IANA name or fixed offset */
    int32_t tz_off_s;    /* tz's offset when fixed, else its offset when the
                            file was read (printed back; the baselines ask
                            tz itself at each instant) */
    char *http_listen;   /* "host:port"; NULL disables the HTTP endpoint */
    struct config_http http; /* the rest of http: */
    int64_t http_token_ttl_s; /* API tokens' lifetime (login, user add/token);
                                 LIMIT_TOKEN_TTL_MIN..MAX */
    size_t queue;        /* bounded queue, in batches */
    int store_events;    /* 1: every event goes to the store */
    char *alerts_jsonl;  /* alert file (relative to data_dir); NULL: none */
    struct config_input *inputs;
    size_t ninputs;
    /* Sigma rules: files or directories of *.yml, and the directory of the
     * log-source and field maps.  By default the bundled rules: ./rules
     * when run from a source tree, else the installed copy. */
    char **sigma_rules;
    size_t nsigma_rules;
    char *sigma_mappings;
    int sigma_explicit; /* 1 if the file set them: a failure to load is fatal */
    /* Triage: its options file (default the bundled rules/config/triage.yaml;
     * empty: the built-in defaults) and asset inventory files (YAML or
     * .csv) on top of those the options name. */
    char *triage_config;
    int triage_explicit; /* 1 if the file set it: a failure to load is fatal */
    char **triage_assets;
    size_t ntriage_assets;
    int anomaly_enabled;      /* rate, first-seen, beaconing and outbound baselines */
    int anomaly_internal_set; /* 0: the private ranges (anomaly_opts_default) */
    char **anomaly_internal;  /* owned; our networks for the outbound detectors */
    size_t nanomaly_internal; /* <= ANOMALY_INTERNAL_MAX */
    /* Automatic response: the policy file (respond.policy; by default the
     * bundled rules/config/respond.yaml, which is a dry run); NULL: off. */
    char *respond_policy;
    int respond_explicit; /* 1 if the file set it: a failure to load is fatal */
    /* Incident playbooks (incident.playbooks): the bundled ones by default,
     * ./playbooks from a source tree. */
    char *playbooks_dir;
    /* The procedures per box (incident.procedures, issue 25); NULL:
     * PLAYBOOKS_DIR/procedures/boxes.yaml. */
    char *procedures_file;
    /* Time targets per phase, category and level (incident.targets), in
     * file order: a later entry overrides an earlier one it overlaps. */
    struct config_target *targets;
    size_t ntargets;
    struct config_escalation escalation;
    struct config_messages messages;
    size_t corr_max_memory;   /* bytes of correlation state before eviction; 0: auto */
    unsigned corr_tolerance_s; /* lateness of events accepted by correlations */
    /* Least privilege (security:): the user and group the daemon becomes
     * when started as root (NULL: "hikeshi" if it exists, else "nobody";
     * the user's primary group), and the seccomp filter (default on). */
    char *security_user;
    char *security_group;
    int security_seccomp;
    int archive_enabled; /* archive.enabled (below); here to fill the padding */
    /* The archive's keys (archive:, docs/archive.md): the signing key file,
     * kept outside data_dir, and the verification key file (NULL: the
     * signing key's path with ".pub" added). */
    char *archive_key;
    char *archive_verify_key;
    /* The daemon's archive (archive:, docs/archive.md): every record
     * appended to DATA_DIR/archive/ on receipt, before processing, and the
     * pipeline's cursor into it committed with what processing stored.
     * sync_ms: the most time records wait for fdatasync (0: "every
     * record", each batch synced before it is queued).  Sizes 0: the
     * writer's defaults.  Seals (with a key): every seal_records records
     * (0: not by count) or seal_interval_s after the oldest unsealed one. */
    uint64_t archive_sync_ms;
    uint64_t archive_block_bytes;
    uint64_t archive_segment_bytes;
    uint64_t archive_seal_records;
    uint64_t archive_seal_interval_s;
    /* archive.retention (docs/archive.md, "Retention"): segments whose
     * newest record is older than max_age_s, or the oldest while the
     * segments pass max_bytes, are removed (tombstoned) every interval_s.
     * 0: no limit of that kind (both 0: no retention). */
    /* archive.witness (docs/archive.md, "Witnesses"): where the daemon
     * sends each seal (a file it appends to, or a URL it POSTs to with an
     * HMAC from secret_file), most CONFIG_MAX_WITNESSES. */
    struct config_witness *archive_witness;
    size_t narchive_witness;
    /* archive.retention.inputs: per input name, its own max_age (0: the
     * archive's) and max_size (0: none); at most
     * CONFIG_MAX_RETENTION_INPUTS. */
    struct config_retention_input *archive_retention_inputs;
    size_t narchive_retention_inputs;
    uint64_t archive_retention_max_age_s;
    uint64_t archive_retention_max_bytes;
    uint64_t archive_retention_interval_s;
    /* The audit log's seals (audit:, docs/audit.md): its own signing key
     * file (NULL: no seals), the verification key (NULL: the key's path
     * with ".pub"), the file the latest seal is copied to (NULL: none),
     * and when to seal: every seal_entries entries (0: not by count) or
     * seal_interval_s seconds after the oldest unsealed one (0: not). */
    char *audit_key;
    char *audit_verify_key;
    char *audit_head;
    /* audit.head_url: each new head (audit.head's line) POSTed there,
     * signed with audit.head_secret_file's key (pipeline_witness.h);
     * NULL: not exported by URL. */
    char *audit_head_url;
    char *audit_head_secret_file;
    /* The evidence register over the API (evidence:, docs/evidence.md):
     * its signing key file (NULL: the API's evidence routes that write
     * custody answer 503), the verification key (NULL: the key's path
     * with ".pub"), and the directories under which the API may hash a
     * local file by path (none: local paths are refused). */
    char *evidence_key;
    char *evidence_verify_key;
    char **evidence_intake;
    size_t nevidence_intake;
    uint64_t audit_seal_entries;
    uint64_t audit_seal_interval_s;
    /* Indicators (intel:, docs/intel.md): the MISP warninglists directory
     * applied at import (NULL: none), the half-life of an indicator's
     * score in seconds (0: no decay) and the score under which it is no
     * longer matched and `intel expire` deletes it. */
    char *intel_warninglists;
    uint64_t intel_half_life_s;
    uint64_t intel_min_score;
    /* Sharing (docs/intel.md, "Export and sharing"): our name as the
     * exports' STIX identity and MISP organisation (NULL: "hikeshi"), and
     * the peers the TAXII server serves, each an API user with the most
     * restricted TLP it may read. */
    char *intel_identity;
    struct config_intel_peer *intel_peers;
    size_t nintel_peers;
    /* Scale-out (role:, nats:; docs/scale.md): what this process does and
     * the NATS JetStream cluster between collectors and analysers. */
    struct config_nats nats;
    /* Feeds the daemon fetches by URL (intel.feeds). */
    struct config_intel_feed *intel_feeds;
    size_t nintel_feeds;
};

/* The defaults.  NULL on allocation failure. */
struct config *config_defaults(void);
/*
 * Reads and parses `path`.  On error returns -EINVAL (bad content; reterr has
 * line, column and message), or -errno from opening/reading (reterr->msg is
 * then NULL).  The file may not exceed LIMIT_CONFIG_BYTES.
 */
int config_load(const char *path, struct config **ret, struct parse_err *reterr);
/* Parses YAML text `len` bytes long; `name` is kept as the config's path. */
int config_parse(const char *text, size_t len, const char *name, struct config **ret,
                 struct parse_err *reterr);
/* Frees.  NULL is a no-op; copes with a half-built config. */
void config_free(struct config *c);
/* Prints the configuration in normal form (every key, defaults included);
 * the output parses back to the same configuration. */
void config_print(const struct config *c, FILE *out);
/* Removes every input (scan takes its inputs from the command line). */
void config_clear_inputs(struct config *c);
/* Finds an input by name; NULL if none. */
const struct config_input *config_input_find(const struct config *c, const char *name);
/* Parses "+09:00", "-0530", "Z", "UTC" into seconds east of UTC. */
int config_parse_tz(const char *s, int32_t *ret);
/* Parses a duration, a whole number with an optional unit s, m, h or d
 * ("90", "90s", "15m", "12h", "30d"), into seconds; -EINVAL when it is not
 * one, -ERANGE past 100 years. */
int config_parse_duration(const char *s, int64_t *ret_s);
/* A size: digits with an optional k, m, g or t (powers of 1024).  -EINVAL,
 * -ERANGE. */
int config_parse_size(const char *s, uint64_t *ret);
/* archive.sync: "every record" (*ret_ms 0) or "every N ms" / "every N s"
 * (1 ms to 60 s).  0 or -EINVAL. */
int config_parse_archive_sync(const char *s, uint64_t *ret_ms);

#endif
