/*
 * anomaly.h - per-entity baselines learned from the event stream, and the
 * alerts raised when an event departs from them.
 *
 * Six detectors share one bounded state (docs/anomaly.md has the method,
 * every parameter and how to tune it):
 *   - rate: events per hour per entity (host.name, user.name, source.ip) and
 *     category (event.dataset, else the decoder), against an EWMA of the mean
 *     and of the absolute deviation kept per hour of day, split weekday and
 *     weekend (48 slots);
 *   - first-seen: a user logging in to a host, a source talking to a
 *     destination port, a process starting on a host, never seen during the
 *     learning period;
 *   - beaconing: one source.ip reaching one destination.ip:port at regular
 *     intervals (low coefficient of variation of the inter-arrival times);
 *   - outbound (anomaly_outbound.c): an internal host contacting an external
 *     address it never contacted before, an internal host sending far more
 *     bytes to the outside in an hour than it usually does, and a client
 *     resolving many distinct long, high-entropy names under one domain
 *     (DNS tunnelling).  "Internal" is the `internal` networks option.
 * Time is always the event's own time (ev->time_us), never the wall clock,
 * so that a scan of old logs and a live feed learn the same way.
 *
 * The state is held under a memory cap; when it is reached the entry seen
 * least recently is evicted.  It can be saved to a versioned, checksummed
 * binary blob and restored after a restart.
 *
 * Not thread-safe: one struct anomaly per pipeline shard.
 */
#ifndef HIKESHI_TRIAGE_ANOMALY_H
#define HIKESHI_TRIAGE_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

#include "triage/asset.h"

struct tz;

struct buf;
struct event;
struct parse_err;

/* Most inter-arrival times kept per beaconing pair (bounds beacon_history). */
#define ANOMALY_BEACON_HISTORY_MAX 256
/* Longest entity value kept in a key; longer values are truncated, so two
 * values sharing their first ANOMALY_VALUE_MAX bytes count as one entity. */
#define ANOMALY_VALUE_MAX 255
/* Smallest memory cap accepted. */
#define ANOMALY_MEM_CAP_MIN (64 * 1024)
/* Most internal networks in the options. */
#define ANOMALY_INTERNAL_MAX 64
/* Most distinct names a DNS tunnel pair keeps (bounds dns_min_names). */
#define ANOMALY_DNS_NAMES_MAX 256
/* Most alerts one event raises: 3 rates (host, user, source), 3 first-seen
 * pairs (login, port, process), a beacon, and outbound a DNS tunnel and
 * either volume and a first external destination or one volume: 10. */
#define ANOMALY_ALERTS_MAX 10
/* Most entity fields an alert names. */
#define ANOMALY_ENTITY_MAX 3

enum anomaly_kind {
    ANOMALY_RATE = 1,        /* an entity's event count in an hour is far above its baseline */
    ANOMALY_FIRST_SEEN,      /* a pair never seen before, after the learning period */
    ANOMALY_BEACON,          /* regular connections from one source to one destination */
    ANOMALY_FIRST_EXTERNAL,  /* an internal host reaching an external address never seen */
    ANOMALY_OUTBOUND_VOLUME, /* an internal host's bytes out in an hour far above baseline */
    ANOMALY_DNS_TUNNEL,      /* many distinct long, high-entropy names under one domain */
};
#define ANOMALY_KIND_COUNT 7 /* array size for per-kind counters, index = kind */

/*
 * Every parameter, with the default anomaly_opts_default() gives.  Times are
 * in µs of event time.  anomaly_new() refuses values outside the bounds noted.
 */
struct anomaly_opts {
    size_t mem_cap;   /* 32 MiB; >= ANOMALY_MEM_CAP_MIN.  All state counted */
    int32_t tz_off_s; /* 0; seconds east of UTC used to tell the hour of day
                         and the weekend, |x| <= 14 h; when tz is NULL */
    const struct tz *tz; /* NULL; else the zone that tells the hour of day
                            at each instant (daylight saving time included);
                            anomaly_new() keeps its own copy */

    int rate_enable;            /* 1 */
    double rate_alpha;          /* 0.1; EWMA weight of the newest hour, (0, 1] */
    uint32_t rate_cold_samples; /* 3; hours learned in a slot before it may alert, >= 1 */
    uint32_t rate_min_count;    /* 20; counts below this never alert */
    double rate_threshold;      /* 5.0; deviations above the mean to alert, > 0 */
    double rate_min_dev;        /* 1.0; floor of the deviation, >= 0 (the floor is
                                   also never below sqrt(mean)) */

    int first_seen_enable;       /* 1 */
    int64_t first_seen_learn_us; /* 7 days; from the first event observed, >= 0 */

    int beacon_enable;              /* 1 */
    uint32_t beacon_min_conns;      /* 20; connections before a pair may alert, >= 3 */
    uint32_t beacon_history;        /* 32; intervals kept per pair, 2 ..
                                       ANOMALY_BEACON_HISTORY_MAX */
    double beacon_max_cv;           /* 0.1; stddev/mean of the intervals at or below
                                       which the pair is regular, > 0 */
    int64_t beacon_min_interval_us; /* 10 s; mean interval bounds, > 0 */
    int64_t beacon_max_interval_us; /* 1 h; >= beacon_min_interval_us */
    int64_t beacon_merge_us;        /* 1 s; events of a pair closer than this to the
                                       last counted one are the same connection, >= 0 */
    int64_t beacon_quiet_us;        /* 24 h; at most one alert per pair in this time */

    /* Our networks: an address in one is internal; one in none, and not
     * loopback, link-local, multicast or unspecified, is external.
     * Default: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7. */
    struct asset_net internal[ANOMALY_INTERNAL_MAX];
    size_t ninternal; /* 0 .. ANOMALY_INTERNAL_MAX */

    int external_enable;                  /* 1 */
    int64_t external_learn_us;            /* 7 days; per host, from its first outbound
                                             record, >= 0 */
    double external_novel_max;            /* 2.0; a host that learned more new external
                                             destinations a day than this never alerts, >= 0 */
    uint32_t external_max_alerts_per_day; /* 5; per host, >= 1 */

    int volume_enable;            /* 1 */
    double volume_alpha;          /* 0.1; as rate_alpha, (0, 1] */
    uint32_t volume_cold_samples; /* 3; hours learned in a slot before it may alert, >= 1 */
    double volume_threshold;      /* 5.0; deviations above the mean, > 0 */
    double volume_min_bytes;      /* 32 MiB; an hour below this never alerts, >= 0 */
    double volume_min_dev_ratio;  /* 0.25; floor of the deviation as a share of the
                                     mean, >= 0 */

    int dns_enable;         /* 1 */
    uint32_t dns_min_len;   /* 24; subdomain characters (dots excluded) a name needs */
    double dns_min_entropy; /* 3.5; Shannon bits per character of the subdomain */
    uint32_t dns_min_names; /* 30; distinct such names per client and domain in the
                               window, 2 .. ANOMALY_DNS_NAMES_MAX */
    int64_t dns_window_us;  /* 10 min; > 0 */
    int64_t dns_quiet_us;   /* 1 h; at most one alert per pair in this time, >= 0 */
};

/* Fills *o with the defaults above. */
void anomaly_opts_default(struct anomaly_opts *o);

/* One field of the entity an alert is about.  `val` (len bytes, then a NUL)
 * is the anomaly's own copy, valid until the next anomaly_observe. */
struct anomaly_entity {
    const char *field; /* static ECS name, e.g. "host.name" */
    const char *val;
    size_t len;
};

/*
 * An anomaly alert, kept by anomaly_observe until its next call (with its
 * values: copy out what must outlive that).  Which numbers are meaningful depends on kind:
 *   rate:       observed = events so far in the hour, mean/dev = the slot's
 *               baseline, learned = hours learned in that slot, score =
 *               (observed - mean) / dev, slot_hour/slot_weekend = the slot.
 *   first_seen: observed = 1, learned = entries known of all kinds, score = 1,
 *               learn_end_us = when learning ended.
 *   beacon:     mean = mean interval (s), dev = its standard deviation (s),
 *               observed = cv (dev / mean), learned = intervals used,
 *               score = beacon_max_cv / cv (how much more regular than the
 *               threshold, capped at 1000).
 *   first_external: as first_seen; mean = the host's learned new external
 *               destinations a day; learn_end_us = the host's learning end.
 *   outbound_volume: as rate, in bytes; sample = the external address of
 *               the record that crossed the threshold.
 *   dns_tunnel: observed = distinct suspicious names in the window, mean =
 *               their mean subdomain length, dev = their mean entropy
 *               (bits per character), learned = window length (s), score =
 *               observed / dns_min_names; sample = the last such name.
 */
struct anomaly_alert {
    enum anomaly_kind kind;
    const char *what; /* static: "rate", "first_seen_login", "first_seen_port",
                         "first_seen_process", "beacon", "first_seen_external",
                         "outbound_volume", "dns_tunnel" */
    int64_t time_us;  /* event time of the event that raised it */
    unsigned nentity;
    struct anomaly_entity entity[ANOMALY_ENTITY_MAX];
    const char *category; /* rate only: event.dataset or decoder */
    size_t category_len;
    double mean;
    double dev;
    double observed;
    double score;
    uint32_t learned;
    int slot_hour;        /* rate: 0..23 in tz_off_s */
    int slot_weekend;     /* rate: 1 for Saturday and Sunday */
    int64_t learn_end_us; /* first_seen, first_external */
    const char *sample;   /* outbound_volume, dns_tunnel: a value of the event that
                             raised it (may be NULL) */
    size_t sample_len;
};

struct anomaly_stats {
    uint64_t events;  /* events observed */
    uint64_t entries; /* entries tracked now, all kinds */
    uint64_t entries_by_kind[ANOMALY_KIND_COUNT];
    uint64_t evicted; /* entries dropped for the memory cap */
    uint64_t alerts_by_kind[ANOMALY_KIND_COUNT];
    uint64_t late;   /* events older than their entity's open hour (not counted
                        in the rate) or than the pair's last connection */
    size_t mem_used; /* bytes of state, as counted against the cap */
    size_t mem_cap;
};

struct anomaly;

/*
 * Creates an empty state with a copy of `opts` (NULL for the defaults).
 * Returns 0 with *ret owned by the caller (anomaly_free), -EINVAL when an
 * option is out of bounds, or -ENOMEM.
 */
int anomaly_new(const struct anomaly_opts *opts, struct anomaly **ret);
/* Frees the state.  NULL is a no-op. */
/* A new, empty instance with a's options (its zone included): the
 * baselines of an exercise run, kept apart from the real ones. */
int anomaly_new_like(const struct anomaly *a, struct anomaly **ret);
void anomaly_free(struct anomaly *a);

/*
 * Learns from one decoded event and keeps the alerts it raises, in the order
 * raised, for anomaly_alert_get until the next call: the caller (the
 * pipeline's triage stage) takes them from there, so no call goes from here
 * back up to it.  The event is only read; nothing of it is kept except
 * copies of the entity values.  Returns 0, or -ENOMEM (the state could not
 * grow: that part of the event is not learned; the alerts raised before
 * stay kept).
 */
int anomaly_observe(struct anomaly *a, const struct event *ev);

/* How many alerts the last anomaly_observe raised (0 .. ANOMALY_ALERTS_MAX;
 * 0 after anomaly_new and anomaly_restore). */
size_t anomaly_alert_count(const struct anomaly *a);
/* Its i-th alert (i < anomaly_alert_count), or NULL; valid, values
 * included, until the next anomaly_observe, anomaly_restore or
 * anomaly_free. */
const struct anomaly_alert *anomaly_alert_get(const struct anomaly *a, size_t i);

/* Fills *ret with the counters. */
void anomaly_stats(const struct anomaly *a, struct anomaly_stats *ret);

/*
 * Appends the whole learned state to `out` as a binary blob: magic "HKAN",
 * version, the learning start, every entry from least to most recently seen,
 * and a CRC-32 of it all.  Counters are not saved.  0, -ENOMEM or -E2BIG
 * (the buffer's cap); on error `out` may hold a partial blob.
 */
int anomaly_save(const struct anomaly *a, struct buf *out);

/*
 * Replaces the state of `a` by the one in the blob (`len` bytes, no NUL
 * needed).  The options of `a` stay as they are (a blob saved with a longer
 * beacon history keeps the newest intervals).  Entries beyond the memory cap
 * are evicted, oldest first, and counted.  Returns 0; -EINVAL for a blob that
 * is corrupt, truncated, of another version or inconsistent, with the offset
 * and reason in *reterr and `a` unchanged; or -ENOMEM, `a` unchanged.
 */
int anomaly_restore(struct anomaly *a, const char *buf, size_t len, struct parse_err *reterr);

/* Appends one short English sentence about the alert (no newline), with
 * non-printable bytes of the values written as \xNN.  0 or an error of buf. */
int anomaly_alert_text(const struct anomaly_alert *al, struct buf *out);
/* Appends the alert as one JSON object (no newline).  0 or an error of buf. */
int anomaly_alert_json(const struct anomaly_alert *al, struct buf *out);

/* "rate", "first_seen", "beacon", "first_external", "outbound_volume" or
 * "dns_tunnel"; "unknown" otherwise. */
const char *anomaly_kind_name(enum anomaly_kind k);

#endif
