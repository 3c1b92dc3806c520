/*
 * intel.h - indicators of compromise: their types, how a value is written
 * in canonical form, and the parsers of the feed formats (STIX 2.1
 * bundles, MISP events, CSV and plain lists).
 *
 * A parser reads a whole file from memory and hands each indicator it
 * understood to a sink, and each entry it refused (with where and why) to
 * the same sink; it never touches the store, so a caller can parse a feed
 * whole before it replaces anything (intel_import.c).  Parsers return
 * -EINVAL only when the document itself is unreadable (bad JSON, not a
 * bundle); a bad entry is reported and skipped.
 */
#ifndef HIKESHI_INTEL_INTEL_H
#define HIKESHI_INTEL_INTEL_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

/* The kinds of value an indicator holds; the order is the stored name's. */
enum intel_type {
    INTEL_IPV4 = 0, /* an address or a CIDR network */
    INTEL_IPV6,
    INTEL_DOMAIN,   /* matches the name and every name below it */
    INTEL_HOSTNAME, /* matches that one name */
    INTEL_URL,
    INTEL_EMAIL,
    INTEL_MD5,
    INTEL_SHA1,
    INTEL_SHA256,
    INTEL_JA3,
    INTEL_USER_AGENT,
    INTEL_REGKEY,
    INTEL_PROCESS,
    INTEL_URL_PATTERN, /* a regular expression (Vectorscan's dialect of
                        * PCRE) searched in URLs: STIX MATCHES and LIKE */
    INTEL_JA4,         /* FoxIO's JA4 TLS client fingerprint, a_b_c */
    INTEL_TYPE_COUNT
};

/* Traffic Light Protocol 2.0, least to most restricted. */
enum intel_tlp {
    INTEL_TLP_CLEAR = 0,
    INTEL_TLP_GREEN,
    INTEL_TLP_AMBER,
    INTEL_TLP_AMBER_STRICT,
    INTEL_TLP_RED,
    INTEL_TLP_COUNT
};

/* Longest value kept (a URL may be long; anything longer is refused). */
#define INTEL_VALUE_MAX 2048
/* Tags per indicator and the longest tag; more or longer are dropped. */
#define INTEL_TAGS_MAX 16
#define INTEL_TAG_MAX 160
/* Where an entry came from: a STIX id, a MISP uuid, "line 12". */
#define INTEL_REF_MAX 128

/* Kinds of tag: an ATT&CK technique, a kill-chain phase, a campaign, a
 * malware family, an intrusion set or threat actor, any other label. */
enum intel_tag_kind {
    INTEL_TAG_ATTACK = 0,
    INTEL_TAG_PHASE,
    INTEL_TAG_CAMPAIGN,
    INTEL_TAG_MALWARE,
    INTEL_TAG_ACTOR,
    INTEL_TAG_LABEL,
    INTEL_TAG_KIND_COUNT
};

struct intel_tag {
    enum intel_tag_kind kind;
    char value[INTEL_TAG_MAX + 1];
};

/* One indicator as a parser hands it over; the sink copies what it keeps. */
struct intel_ind {
    enum intel_type type;
    char value[INTEL_VALUE_MAX + 1]; /* canonical (intel_normalize) */
    int confidence;                  /* 0..100, or -1: the feed did not say */
    int tlp;                         /* enum intel_tlp, or -1: not marked */
    int64_t valid_from_us;           /* 0: not given */
    int64_t valid_until_us;          /* 0: no expiry given */
    char ref[INTEL_REF_MAX + 1];     /* where in the feed */
    size_t ntags;
    struct intel_tag tags[INTEL_TAGS_MAX];
};

/* Where a parser sends its results.  `ind` returns 0 or a negative errno
 * that stops the parse (out of memory); `bad` gets an entry that was
 * refused: `where` (an object id, a line) and `why`, both only valid
 * during the call. */
struct intel_sink {
    int (*ind)(void *ctx, const struct intel_ind *ind);
    void (*bad)(void *ctx, const char *where, const char *why);
    void *ctx;
};

/* The stored name of a type ("ipv4", "sha256", "user-agent"), and back
 * (-1 when unknown; MISP's and common aliases are accepted). */
const char *intel_type_name(enum intel_type t);
int intel_type_parse(const char *s);
/* "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"; back from any case,
 * with or without "tlp:", WHITE as CLEAR (-1 when unknown). */
const char *intel_tlp_name(enum intel_tlp t);
int intel_tlp_parse(const char *s, size_t len);
const char *intel_tag_kind_name(enum intel_tag_kind k);

/*
 * Writes the canonical form of value s[0..len) of type `t` into
 * out[INTEL_VALUE_MAX + 1]: addresses and networks as cidr_format writes
 * them (host bits cleared), domains, hostnames, e-mail addresses, hashes,
 * JA3, JA4 and registry keys in lower case (a domain without its final
 * dot; a JA4 only in FoxIO's hashed form a_b_c, each part checked),
 * a URL's scheme and host in lower case, user agents and process names as
 * given, a URL pattern as written once Vectorscan compiles it
 * (intel_urlpat_check).  0, or -EINVAL with *ret_why a reason, static or
 * (a Vectorscan error) valid until this thread's next call.
 */
int intel_normalize(enum intel_type t, const char *s, size_t len, char *out, const char **ret_why);
/* The type a bare value most likely is (an address, a network, a hash by
 * its length, a URL, an e-mail address, a domain), or -1. */
int intel_guess_type(const char *s, size_t len);

/* ---- observables of incidents (intel_obs.c) ----------------------------- */

/* The type of a user-name observable (not an indicator type). */
#define INTEL_OBS_USER (-2)
#define INTEL_OBS_USER_MAX 256
/* An event field that holds observables, and their type (INTEL_* or
 * INTEL_OBS_USER; INTEL_IPV4 stands for either address family). */
struct intel_obs_field {
    const char *field;
    int type;
};
extern const struct intel_obs_field intel_obs_fields[];
extern const size_t intel_obs_nfields;
/* The canonical form of value v[0..n) of a field of that type into
 * out[INTEL_VALUE_MAX + 1], and its type's name ("ipv6" for an IPv6
 * address, "user").  -1 when it is not one (skipped). */
int intel_obs_norm(int type, const char *v, size_t n, char *out, const char **ret_type);

/* Adds a tag unless it is there already or the indicator has
 * INTEL_TAGS_MAX; a longer value is cut at INTEL_TAG_MAX. */
void intel_ind_tag(struct intel_ind *ind, enum intel_tag_kind kind, const char *v, size_t len);
/* Clears an indicator for the next entry (confidence and TLP unset). */
void intel_ind_clear(struct intel_ind *ind);

/* ---- URL patterns (intel_urlpat.c) ------------------------------------ */

/*
 * 0 when regex re[0..len) compiles in Vectorscan with the flags the
 * matcher uses (HS_FLAG_SINGLEMATCH, no others: case-sensitive, '.' not
 * matching a newline), else -EINVAL with *ret_why naming the pattern and
 * Vectorscan's reason (a thread-local buffer, valid until this thread's
 * next call).  A pattern with a NUL or control byte is refused before.
 */
int intel_urlpat_check(const char *re, size_t len, const char **ret_why);
/*
 * Translates a STIX LIKE operand like[0..len) into the anchored regex it
 * means, into out[cap]: '^', '%' as ".*", '_' as ".", every regex
 * metacharacter (\ ^ $ . | ? * + ( ) [ ] { }) escaped with '\', '$';
 * a scheme and host ("...://" up to '/', '?' or '#') in lower case, as
 * in the canonical URLs the matcher scans.
 * Returns the length written (NUL-terminated), or -ENOSPC when it does not
 * fit, or -EINVAL (*ret_why static) when the operand is empty or only
 * '%': it would match every URL.
 */
int intel_urlpat_from_like(const char *like, size_t len, char *out, size_t cap,
                           const char **ret_why);

/* ---- STIX patterns (intel_pattern.c) ---------------------------------- */

/* One plain equality a pattern holds: the type it maps to, the value as
 * written (unescaped, not yet normalised). */
struct intel_pattern_eq {
    enum intel_type type;
    const char *value; /* valid during the callback */
    size_t len;
};

/*
 * Reads a STIX 2.1 pattern and calls eq() with each comparison of the
 * subset we match: `[object-path = 'string']`, and on url:value
 * `MATCHES 'regex'` (handed over as INTEL_URL_PATTERN, the regex as
 * written) and `LIKE 'wild%card_'` (as INTEL_URL_PATTERN, the regex
 * intel_urlpat_from_like makes of it); comparisons joined by OR
 * inside one observation, observations joined by OR.  An OR of such
 * equalities is exactly a set of single-value indicators, so each
 * equality is taken on its own; a comparison outside the subset (another
 * operator, an unmapped object path, a non-string constant) is reported
 * to unsup() with its byte offset and reason and the others are still
 * taken.  AND, FOLLOWEDBY, NOT and qualifiers (WITHIN, REPEATS,
 * START/STOP) make the whole pattern unsupported: single values would fire
 * where the pattern would not.  Returns the number of equalities taken,
 * or -ENOTSUP (whole pattern unsupported) / -EINVAL (not a pattern) with
 * *reterr filled; eq() returning < 0 stops the parse and is returned.
 */
int intel_pattern_parse(const char *pat, size_t len,
                        int (*eq)(void *ctx, const struct intel_pattern_eq *e),
                        void (*unsup)(void *ctx, size_t off, const char *why), void *ctx,
                        struct parse_err *reterr);
/* The indicator type of a STIX object path ("ipv4-addr:value",
 * "file:hashes.'SHA-256'"), or -1 when we do not map it. */
int intel_pattern_path_type(const char *path, size_t len);

/* ---- feed formats ------------------------------------------------------ */

/* A STIX 2.1 bundle (or one bare indicator object).  Indicators with a
 * pattern_type other than "stix" are refused; relationships from an
 * indicator to malware, intrusion-set, threat-actor, campaign and
 * attack-pattern objects of the bundle become tags, as do kill-chain
 * phases, labels and TLP object markings. */
int intel_stix_parse(const char *buf, size_t len, const struct intel_sink *s,
                     struct parse_err *reterr);
/* A MISP event: {"Event": {...}} or the bare event object.  Attributes and
 * object attributes whose to_ids is false are skipped (not for detection);
 * event and attribute tags give TLP, ATT&CK techniques (galaxy tags),
 * kill-chain phases and other labels. */
int intel_misp_parse_event(const char *buf, size_t len, const struct intel_sink *s,
                           struct parse_err *reterr);
/* The uuids of a MISP feed's manifest.json, each passed to each(); 0 or
 * -EINVAL (not a manifest), or each()'s negative return.  Keys that are
 * not uuids are reported to s->bad and skipped. */
int intel_misp_manifest(const char *buf, size_t len, int (*each)(void *ctx, const char *uuid),
                        void *ctx, const struct intel_sink *s, struct parse_err *reterr);
/*
 * A plain list (one value per line) or CSV.  A first line naming a column
 * "value" (also "indicator", "ioc") makes it CSV with that header: columns
 * type, confidence, tlp and tags (';'-separated) are read when present.
 * Otherwise each line is a value (a line "type,value" is read as such
 * when its first field names a type).  `type` >= 0 forces the type of
 * every value; -1 guesses it (intel_guess_type).  '#' starts a comment
 * line.
 */
int intel_csv_parse(const char *buf, size_t len, int type, const struct intel_sink *s,
                    struct parse_err *reterr);

/* ---- MISP warninglists (intel_warn.c) ---------------------------------- */

struct intel_warn;

/*
 * Loads the MISP warninglists under `dir`: every DIR/NAME/list.json in `dir` or
 * in `dir`/lists.  Lists of type cidr, string, hostname and substring are
 * read; each applies to the indicator types its matching_attributes name.
 * Other types (regex) are skipped and counted.  0 with *ret, or a negative
 * errno with err[errlen] saying which file and why.
 */
int intel_warn_load(const char *dir, struct intel_warn **ret, char *err, size_t errlen);
void intel_warn_free(struct intel_warn *w);
/* Lists loaded, and those skipped for their type. */
size_t intel_warn_lists(const struct intel_warn *w);
size_t intel_warn_skipped(const struct intel_warn *w);
/*
 * The name of the first list that holds the canonical value of type `t`
 * (a cidr list: the address or the whole network lies in one of its
 * networks; string: equal; hostname: equal or a name below it; substring:
 * contained), or NULL.  A URL is checked by its host against string and
 * hostname lists and whole against substring lists.
 */
const char *intel_warn_check(const struct intel_warn *w, enum intel_type t, const char *value);

/* ---- import into the store (intel_import.c) ---------------------------- */

struct store;

struct intel_import_opts {
    const char *feed; /* the feed's name; NULL: the file's base name */
    int tlp;          /* floor for every indicator's TLP (-1: AMBER for unmarked only) */
    int confidence;   /* for indicators the feed gives none (-1: 50) */
    int type;         /* plain lists: every value's type (-1: guessed) */
    const struct intel_warn *warn; /* NULL: no warninglist applied */
    void (*report)(void *ctx, const char *file, const char *where, const char *why);
    void *report_ctx;
    int64_t now_us;
    const char *format; /* "stix", "misp", "csv": read as that (NULL: told
                         * from the content); a directory is a MISP feed */
    int require_any;    /* refuse (and keep the feed as it was) a file that
                         * gives no indicator at all: a feed by URL that
                         * answers an error page or nothing is not "empty" */
};

struct intel_import_stats {
    size_t taken;    /* indicators stored (a value twice counts twice) */
    size_t refused;  /* entries refused (reported) */
    size_t warned;   /* values on a warninglist (reported, not stored) */
    size_t files;    /* files read (a MISP feed: its events) */
    int64_t removed; /* the feed's indicators the new import no longer holds */
    char format[16]; /* "stix", "misp", "misp-feed", "csv" */
};

/*
 * Imports `path` (a STIX bundle, a MISP event, a CSV or plain list, or a
 * MISP feed directory with manifest.json) as one feed, replacing what the
 * store held of that feed in one transaction: when the file cannot be
 * read or parsed, nothing changes.  Refused entries go to o->report.
 * 0, or a negative errno with err[errlen] saying where and why.
 */
int intel_import_path(struct store *st, const char *path, const struct intel_import_opts *o,
                      struct intel_import_stats *ret, char *err, size_t errlen);

/* ---- decay (intel_decay.c) --------------------------------------------- */

/* Decay defaults: the half-life of a score, and the score under which an
 * indicator is no longer matched and `intel expire` deletes it. */
#define INTEL_HALF_LIFE_DAYS_DEFAULT 30
#define INTEL_MIN_SCORE_DEFAULT 10

/*
 * The score of an indicator of confidence `confidence` (0..100) last
 * confirmed `age_us` ago (by an import that held it or by a sighting):
 * confidence * 2^(-age / half_life), so it halves every half-life unless
 * re-sighted.  half_life_us <= 0: no decay.
 */
double intel_score(int confidence, int64_t age_us, int64_t half_life_us);

/* 1 when an indicator is still live at now_us: not past its
 * valid_until_us (0: none) and its score at least min_score. */
int intel_live(int confidence, int64_t confirmed_us, int64_t valid_until_us, int64_t now_us,
               int64_t half_life_us, int min_score);

/* Deletes from the store every indicator no longer live; *ret_removed
 * gets how many.  0 or a negative errno. */
int intel_expire(struct store *st, int64_t now_us, int64_t half_life_us, int min_score,
                 int64_t *ret_removed);

/* ---- matching in the enrich stage (intel_match.c) ---------------------- */

struct event;
struct intel_matcher;

/* What a lookup found: the indicator (the highest-confidence one when
 * several feeds hold the value). */
struct intel_hit {
    int64_t id; /* its store row (0: added without one) */
    enum intel_type type;
    enum intel_tlp tlp;
    int confidence;    /* its score when loaded (decayed) */
    const char *feed;  /* the matcher's copy */
    const char *value; /* canonical; the matcher's copy */
};

/* An empty matcher (fields interned now).  NULL when out of memory. */
struct intel_matcher *intel_matcher_new(void);
void intel_matcher_free(struct intel_matcher *m);
/* Adds an indicator of canonical `value`.  0, -EINVAL (a value that is
 * not canonical for its type), -ENOMEM. */
int intel_matcher_add(struct intel_matcher *m, int64_t id, enum intel_type type, const char *value,
                      const char *feed, int confidence, enum intel_tlp tlp);
/* A matcher of the store's live indicators (intel_live at now_us) with
 * their decayed scores as confidence; *ret_n (may be NULL) how many. */
int intel_matcher_load(struct store *st, int64_t now_us, int64_t half_life_us, int min_score,
                       struct intel_matcher **ret, size_t *ret_n);
size_t intel_matcher_count(const struct intel_matcher *m);

/* Lookups: an address (family 4 or 6, 16 bytes as in struct record)
 * against addresses and networks, longest prefix first; a DNS name
 * against hostnames (exact) and domains (the name or any name above it);
 * any other value of a type exactly. */
const struct intel_hit *intel_matcher_ip(const struct intel_matcher *m, int family,
                                         const uint8_t addr[16]);
const struct intel_hit *intel_matcher_name(const struct intel_matcher *m, const char *name,
                                           size_t len);
const struct intel_hit *intel_matcher_exact(const struct intel_matcher *m, enum intel_type type,
                                            const char *value, size_t len);

/* Matches per event that add threat.indicator.* fields. */
#define INTEL_MATCHES_PER_EVENT 4

/*
 * The enrich step: looks the event's addresses, DNS names, URLs, hashes,
 * JA3, user agent, e-mail, registry and process fields up (docs/intel.md
 * lists them) and, per match, adds threat.indicator.type, .value,
 * .provider, .confidence (ECS: High, Medium, Low, None), .marking.tlp and
 * threat.enrichments.matched.field / .atomic; each match is counted as a
 * sighting from input `source` at `now_us`, kept until
 * intel_matcher_flush.  Returns the matches added (0..
 * INTEL_MATCHES_PER_EVENT).
 */
int intel_matcher_enrich(struct intel_matcher *m, struct event *ev, uint32_t source,
                         int64_t now_us);
/* Writes the sightings counted since the last flush to the store (the
 * caller's open transaction), naming each source with name(ctx, source).
 * 0 or the store's first error (the sightings are dropped either way). */
int intel_matcher_flush(struct intel_matcher *m, struct store *st,
                        const char *(*name)(void *ctx, uint32_t source), void *ctx);
/* Moves the sightings `from` has counted and not flushed into `to` (a
 * reload), for the indicators `to` holds too. */
void intel_matcher_take_sightings(struct intel_matcher *to, struct intel_matcher *from);
/* Sightings pending, and those dropped because too many were pending. */
size_t intel_matcher_pending(const struct intel_matcher *m);
uint64_t intel_matcher_dropped(const struct intel_matcher *m);

/* The ECS confidence word of a score: High >= 70, Medium >= 30, Low > 0,
 * else None. */
const char *intel_confidence_word(int score);

#endif
