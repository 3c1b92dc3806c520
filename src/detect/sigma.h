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

#endif
