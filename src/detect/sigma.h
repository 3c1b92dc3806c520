/*
 * sigma.h - Sigma detection rules: loading, conditions, reference evaluation.
 *
 * A rule is loaded from YAML (sigma_load.c) into a `struct sigma_rule`: its
 * metadata, its search identifiers (each a tree of detection items whose
 * values were fully prepared at load time: wildcard patterns, encodings,
 * compiled regular expressions, networks) and its condition, parsed and
 * resolved against the search identifiers (sigma_cond.c).  sigma_eval.c
 * decides, plainly and without shortcuts, whether a rule matches an event;
 * it is the reference the compiled matcher is tested against.
 *
 * Matching choices where the specification is silent (see
 * shared/sigma/SPEC_NOTES.md): strings compare case-insensitively with ASCII
 * folding only; `?` matches one UTF-8 character; a keyword matches as a
 * substring of any field value or of the raw record; `null` means the field
 * is absent (decoders drop JSON nulls); `1 of` a pattern that names no
 * identifier is false and `all of` it is true, so `not 1 of filter_*`
 * without filters reduces to true, as in pySigma.
 */
#ifndef HIKESHI_DETECT_SIGMA_H
#define HIKESHI_DETECT_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

struct event;

/* Caps on what one rule may make us build (rules are trusted, but a
 * `windash` value with many dashes expands as 5^n). */
#define SIGMA_MAX_EXPANSION 4096 /* alternatives one rule value may expand to */
#define SIGMA_MAX_COND_DEPTH 64  /* nesting of parentheses and `not` */
#define SIGMA_MAX_RULE_BYTES (1024 * 1024)

enum sigma_level {
    SIGMA_LEVEL_NONE = 0,
    SIGMA_LEVEL_INFORMATIONAL,
    SIGMA_LEVEL_LOW,
    SIGMA_LEVEL_MEDIUM,
    SIGMA_LEVEL_HIGH,
    SIGMA_LEVEL_CRITICAL,
};

/* A prepared wildcard pattern: `len` units, each a literal byte or a
 * wildcard.  Literal bytes may include NUL (UTF-16 encodings). */
enum sigma_tok {
    SIGMA_TOK_LIT = 0,
    SIGMA_TOK_STAR, /* zero or more characters */
    SIGMA_TOK_ONE,  /* exactly one (UTF-8) character */
};
struct sigma_pattern {
    unsigned char *bytes; /* owned; bytes[i] meaningful when kind[i] == LIT */
    unsigned char *kind;  /* owned; enum sigma_tok per unit */
    size_t len;
};

enum sigma_vkind {
    SIGMA_V_STRING,   /* pattern; whole-field match unless it holds `*` */
    SIGMA_V_NUMBER,   /* number: text-equal or numerically equal */
    SIGMA_V_BOOL,     /* matches the text "true"/"false" */
    SIGMA_V_NULL,     /* field absent */
    SIGMA_V_REGEX,    /* PCRE2 search */
    SIGMA_V_CIDR,     /* IP network */
    SIGMA_V_EXISTS,   /* field present (b) or absent (!b) */
    SIGMA_V_FIELDREF, /* compare with another field of the event */
    SIGMA_V_CMP,      /* numeric gt/gte/lt/lte */
};

enum sigma_anchor {
    SIGMA_ANCHOR_EXACT = 0,
    SIGMA_ANCHOR_CONTAINS,
    SIGMA_ANCHOR_STARTSWITH,
    SIGMA_ANCHOR_ENDSWITH,
};

enum sigma_cmp { SIGMA_CMP_GT, SIGMA_CMP_GTE, SIGMA_CMP_LT, SIGMA_CMP_LTE };

/* One prepared value of a detection item. */
struct sigma_value {
    enum sigma_vkind kind;
    int cased;                  /* STRING, FIELDREF: case-sensitive */
    struct sigma_pattern pat;   /* STRING; NUMBER: its text as literal */
    double num;                 /* NUMBER, CMP */
    enum sigma_cmp cmp;         /* CMP */
    int b;                      /* BOOL, EXISTS */
    void *re;                   /* REGEX: owned pcre2_code_8 */
    int family;                 /* CIDR: AF_INET or AF_INET6 */
    unsigned char net[16];      /* CIDR: network address */
    unsigned prefix;            /* CIDR: prefix length */
    char *ref;                  /* FIELDREF: owned field name */
    enum sigma_anchor ref_mode; /* FIELDREF */
};

/* The alternatives one rule value expanded to (windash, base64offset,
 * expand): the group matches if any alternative matches. */
struct sigma_group {
    struct sigma_value *alts; /* owned */
    size_t nalts;
};

/* `field|mods: values`.  field == NULL is a keyword item. */
struct sigma_item {
    char *field;                /* owned; NULL for keywords */
    int all;                    /* groups AND-linked (`all`), else OR */
    int neq;                    /* whole item negated (`neq`) */
    struct sigma_group *groups; /* owned */
    size_t ngroups;
};

/* A search identifier's body: a map (AND of items), a list (OR of
 * sub-detections) or a single item. */
enum sigma_det_kind { SIGMA_DET_ITEM, SIGMA_DET_AND, SIGMA_DET_OR };
struct sigma_det {
    enum sigma_det_kind kind;
    struct sigma_item item; /* ITEM */
    struct sigma_det *subs; /* AND, OR: owned */
    size_t nsubs;
};

struct sigma_search {
    char *name; /* owned */
    struct sigma_det det;
};

enum sigma_cond_op {
    SIGMA_COND_ID,     /* ids[0] */
    SIGMA_COND_AND,    /* a and b */
    SIGMA_COND_OR,     /* a or b */
    SIGMA_COND_NOT,    /* not a */
    SIGMA_COND_ONE_OF, /* any of ids (none: false) */
    SIGMA_COND_ALL_OF, /* all of ids (none: true) */
};
struct sigma_cond {
    enum sigma_cond_op op;
    struct sigma_cond *a, *b; /* owned */
    size_t *ids;              /* owned; indices into the rule's searches */
    size_t nids;
};

struct sigma_strv {
    char **v; /* owned strings */
    size_t n;
};

/* A loaded rule.  Every pointer is owned by the rule; free with
 * sigma_rule_free(). */
struct sigma_rule {
    char *file; /* as given to the loader, may be NULL */
    char *title, *id, *name, *status, *description, *author, *date, *modified;
    char *level_text;
    enum sigma_level level;
    char *product, *category, *service;
    struct sigma_strv tags, references, falsepositives;
    struct sigma_search *searches;
    size_t nsearches;
    struct sigma_cond *cond;
    unsigned nwarnings; /* e.g. an `x of` pattern that names nothing */
};

/* A placeholder for `expand`: `%name%` stands for any of `values`. */
struct sigma_placeholder {
    const char *name; /* without the percent signs */
    const char *const *values;
    size_t nvalues;
};
struct sigma_load_opts {
    const struct sigma_placeholder *placeholders;
    size_t nplaceholders;
};

/*
 * Why a rule was refused.  `at` holds line and column (1-based) and a static
 * category string (`at.msg`, suitable for grouping), `reason` the full text
 * for the author, e.g. "unknown modifier 'foo'".
 */
struct sigma_err {
    struct parse_err at;
    char reason[256];
};

/*
 * Loads one rule from `len` bytes of YAML (no NUL needed).  `file` is
 * copied into the rule for messages (may be NULL); `opts` may be NULL (no
 * placeholders: an `expand` rule is then refused).  On success *ret_rule
 * gets a rule the caller frees with sigma_rule_free().  Returns -EINVAL
 * with *reterr filled when the rule is refused, -ENOMEM.
 */
int sigma_load_buf(const char *buf, size_t len, const char *file,
                   const struct sigma_load_opts *opts, struct sigma_rule **ret_rule,
                   struct sigma_err *reterr);
/* As sigma_load_buf for a file; -errno if it cannot be read (reterr then
 * says so too). */
int sigma_load_file(const char *path, const struct sigma_load_opts *opts,
                    struct sigma_rule **ret_rule, struct sigma_err *reterr);
/* Frees a rule; NULL is a no-op. */
void sigma_rule_free(struct sigma_rule *r);

/* ---- multi-document files: a correlation and its base rules ---- */

#define SIGMA_MAX_DOCS 256 /* YAML documents in one rule file */

struct sigma_corr_rule; /* sigma_corr.h */

/*
 * A filter rule (Sigma filters specification 2.x, "meta filter"): one
 * exclusion applied to many rules without editing them.  `det` holds the
 * filter's metadata, log source, search identifiers and condition as a
 * detection rule; `rules` the ids or names of the rules it applies to.
 *
 * Semantics, as pySigma (the reference implementation) applies filters: a
 * match of a rule the filter applies to is kept only when the filter's
 * condition holds for the event, i.e. the rule's condition C becomes
 * `(C) and (F)`.  Filters are therefore written as exclusions,
 * `condition: not selection`.  A filter applies to a rule when the rule's
 * id or name is listed and the rule's log source is contained in the
 * filter's (each of product, category, service the filter sets equals the
 * rule's).
 */
struct sigma_filter {
    struct sigma_rule *det;  /* owned */
    struct sigma_strv rules; /* owned: rule ids or names, at least one */
};
/* Frees a filter; NULL is a no-op. */
void sigma_filter_free(struct sigma_filter *f);
/* 1 if filter `f` applies to rule `r` (see above), else 0. */
int sigma_filter_applies(const struct sigma_filter *f, const struct sigma_rule *r);
/* 1 if a match of a rule `f` applies to is kept for `ev` (the filter's
 * condition holds), 0 if the filter removes it. */
int sigma_filter_keeps(const struct sigma_filter *f, const struct event *ev);
/* 1 if the filter's condition has no `not` anywhere: it then keeps only the
 * matches its selection describes, which is rarely what its author meant
 * (the specification's own example reads that way); `rules check` warns. */
int sigma_filter_is_inclusive(const struct sigma_filter *f);

/* One document of a rule file: exactly one of the three is set. */
struct sigma_doc {
    struct sigma_rule *rule;      /* owned: a detection rule */
    struct sigma_corr_rule *corr; /* owned: a correlation rule (sigma_corr.h) */
    struct sigma_filter *filter;  /* owned: a filter rule */
};

/*
 * Loads every YAML document (separated by `---`) of `len` bytes: detection
 * rules as sigma_load_buf() does, correlation documents (those with a
 * `correlation` key) with sigma_corr_load_yaml(), filter documents (those
 * with a `filter` key) as struct sigma_filter.  References between them
 * are not resolved here.  One refused document refuses the whole file.
 * On success *ret_docs gets *ret_ndocs (>= 1) documents the caller frees
 * with sigma_docs_free().  Returns -EINVAL with *reterr filled, -ENOMEM.
 */
int sigma_load_docs_buf(const char *buf, size_t len, const char *file,
                        const struct sigma_load_opts *opts, struct sigma_doc **ret_docs,
                        size_t *ret_ndocs, struct sigma_err *reterr);
/* As sigma_load_docs_buf for a file; -errno if it cannot be read. */
int sigma_load_docs_file(const char *path, const struct sigma_load_opts *opts,
                         struct sigma_doc **ret_docs, size_t *ret_ndocs, struct sigma_err *reterr);
/* Frees `n` documents and the array; NULL is a no-op. */
void sigma_docs_free(struct sigma_doc *docs, size_t n);
/* Frees the prepared values of a detection (used by the loader). */
void sigma_det_done(struct sigma_det *d);

/*
 * Parses a condition of `len` bytes against the search identifier names
 * `names[0..nnames)`.  On success *ret_cond gets the tree (free with
 * sigma_cond_free()) and *ret_warn the number of `x of` patterns that named
 * no identifier.  Returns -EINVAL with reterr->off the byte offset and
 * reterr->col = off + 1 on a syntax error or an unknown identifier, -ENOMEM.
 * `reason` (may be NULL) receives a full message.
 */
int sigma_cond_parse(const char *s, size_t len, char *const *names, size_t nnames,
                     struct sigma_cond **ret_cond, unsigned *ret_warn, struct parse_err *reterr,
                     char *reason, size_t reason_size);
/* Frees a condition tree; NULL is a no-op. */
void sigma_cond_free(struct sigma_cond *c);

/* Returns 1 if rule `r` matches event `ev`, else 0.  Never fails: a value
 * that cannot be compared (non-numeric for gt) simply does not match. */
int sigma_eval(const struct sigma_rule *r, const struct event *ev);
/*
 * As sigma_eval, and writes for each search identifier i whether it matched
 * into ret_matched[i] (1/0); `ret_matched` must hold r->nsearches bytes.
 */
int sigma_eval_explain(const struct sigma_rule *r, const struct event *ev,
                       unsigned char *ret_matched);
/* Evaluates search identifier `i` of `r` alone: 1/0. */
int sigma_eval_search(const struct sigma_rule *r, size_t i, const struct event *ev);

/* ---- sigma_compile.c: the compiled rule set ----
 *
 * A set of rules with a Vectorscan literal prefilter: one scan of an event
 * tells which rules can still match, and only those are evaluated with
 * sigma_eval().  The rules reported are exactly those sigma_eval() accepts.
 * A rule set holds one scan scratch: use it from one thread at a time (one
 * rule set per worker thread).
 */
struct sigma_ruleset;

struct sigma_ruleset_stats {
    size_t rules;     /* rules in the set */
    size_t literals;  /* distinct literals in the prefilter */
    size_t always;    /* rules without a literal requirement: always evaluated */
    uint64_t events;  /* events matched so far */
    uint64_t evaluated; /* rules evaluated with sigma_eval() so far */
};

/* Called for each rule that matches, in rule order; `idx` is its index in
 * the array given to sigma_ruleset_new(). */
typedef void (*sigma_ruleset_cb)(const struct sigma_rule *r, size_t idx, void *arg);

/*
 * Compiles the prefilter of `rules[0..n)`.  The set BORROWS the rules (and
 * the array is copied, not the rules): they must outlive it.  Returns 0 with
 * *ret_rs (free with sigma_ruleset_free()), -ENOMEM, or -EINVAL if
 * Vectorscan refuses the literals.
 */
int sigma_ruleset_new(struct sigma_rule *const *rules, size_t n, struct sigma_ruleset **ret_rs);
/* Why sigma_ruleset_new_err() failed: `rule` is the index of a rule whose
 * literal Vectorscan refused (SIZE_MAX when no one rule is to blame) and
 * `reason` says what failed, with Vectorscan's own message. */
struct sigma_ruleset_err {
    size_t rule;
    char reason[256];
};
/* As sigma_ruleset_new, filling *reterr (may be NULL) on failure. */
int sigma_ruleset_new_err(struct sigma_rule *const *rules, size_t n,
                          struct sigma_ruleset **ret_rs, struct sigma_ruleset_err *reterr);
/* Frees a rule set (not its rules); NULL is a no-op. */
void sigma_ruleset_free(struct sigma_ruleset *rs);
/*
 * Calls cb for each rule of `rs` that matches `ev`; returns how many
 * matched.  Never fails: should the scan fail, every rule is evaluated.
 * Not reentrant for one `rs` (it uses the set's scratch).
 */
size_t sigma_ruleset_match(struct sigma_ruleset *rs, const struct event *ev, sigma_ruleset_cb cb,
                           void *arg);
/* Sizes and counters of `rs`. */
void sigma_ruleset_stats(const struct sigma_ruleset *rs, struct sigma_ruleset_stats *ret_stats);

/* ==== Log-source routing and field mapping (sigma_map.c) ====
 *
 * Two shipped data files say which events a rule applies to
 * (rules/config/logsources.yaml) and how a rule's field names reach the
 * event's fields (rules/config/fields.yaml); docs/sigma-mapping.md.  Per
 * event: sigma_map_augment() once, then for each rule
 * sigma_map_source_matches() on the rule's sigma_map_find() result, then
 * sigma_eval().
 */
struct sigma_map;
struct sigma_map_source;

/*
 * Loads the two files.  On success *ret_map gets a map the caller frees
 * with sigma_map_free(), before field_done() (field ids are interned at
 * load).  Returns -EINVAL with *reterr filled (at.line/at.col 1-based,
 * reason "file:line:col: message") for a malformed file, -errno when a file
 * cannot be read, -ENOMEM.
 */
int sigma_map_load(const char *logsources_path, const char *fields_path, struct sigma_map **ret_map,
                   struct sigma_err *reterr);
/* As sigma_map_load from buffers (no NUL needed); the names are used in
 * messages only.  Either buffer may be NULL (len 0): no entries of that
 * kind. */
int sigma_map_load_buf(const char *ls, size_t ls_len, const char *ls_name, const char *fl,
                       size_t fl_len, const char *fl_name, struct sigma_map **ret_map,
                       struct sigma_err *reterr);
/* Frees a map; NULL is a no-op. */
void sigma_map_free(struct sigma_map *m);

/* The log-source entry for rule `r`'s (product, category, service), or
 * NULL when none exists: the rule is unroutable.  Valid while `m` lives;
 * callers cache it per rule. */
const struct sigma_map_source *sigma_map_find(const struct sigma_map *m,
                                              const struct sigma_rule *r);
/* 1 if `ev` (augmented) belongs to log source `s`, else 0. */
int sigma_map_source_matches(const struct sigma_map_source *s, const struct event *ev);
/* sigma_map_find + sigma_map_source_matches: 1 applies, 0 does not,
 * -ENOENT when the rule is unroutable. */
int sigma_map_rule_applies(const struct sigma_map *m, const struct sigma_rule *r,
                           const struct event *ev);
/*
 * Adds to `ev` the field names the map derives (flattened names, then Sigma
 * names for hikeshi names), as views of values `ev` already holds.  Call
 * once per event, before routing and evaluation.  Returns 0 (fields beyond
 * LIMIT_EVENT_FIELDS are dropped and counted in ev->dropped) or -ENOMEM.
 */
int sigma_map_augment(const struct sigma_map *m, struct event *ev);
/* Entries loaded: log sources (after merging same triples) and fields. */
size_t sigma_map_nsources(const struct sigma_map *m);
size_t sigma_map_nfields(const struct sigma_map *m);

#endif
