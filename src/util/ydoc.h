/*
 * ydoc.h - one YAML document in memory (libyaml's document API, so every
 * node keeps its line and column), typed getters that refuse what does not
 * fit, a walker over a mapping with a table of keywords, and the one way
 * we print where a file went wrong: FILE:LINE:COL: key: why.
 *
 * The configuration, the triage options, the response policy, playbooks,
 * asset inventories, Sigma rules and their mappings are all read through
 * it, so that a setting is checked - and its error worded - the same way
 * in every file.
 *
 * Errors go to the caller's struct parse_err (1-based line and column of
 * the offending node, its byte offset, a message).  The first error is
 * kept: a handler that fails deep down is not overwritten by the caller's
 * more general complaint.  Getters word their own messages as "key: why",
 * the key being the one ydoc_walk() is at; such a message lives in a
 * thread-local buffer that the next formatted ydoc error in the same
 * thread reuses, so copy it (or print it) before parsing another document.
 * Messages the caller passes are kept as given (static strings).
 */
#ifndef HIKESHI_UTIL_YDOC_H
#define HIKESHI_UTIL_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "util/parse_err.h"

/* A loaded document.  ydoc_done() releases it (also after a failed load). */
struct ydoc {
    yaml_document_t doc;
    int loaded;            /* doc holds a document to delete */
    struct parse_err *err; /* the caller's, or NULL; the first error wins */
    const char *key;       /* the key ydoc_walk() is at (points into doc), or NULL */
    void *ctx;             /* the caller's parse state, for handlers */
};

/*
 * Parses `len` bytes of `text` (need not be NUL-terminated) into *d.
 * Returns 0; -EINVAL for a YAML syntax error (in *reterr: libyaml's
 * message and where it stopped); -ENOMEM.  `reterr` (may be NULL) is
 * cleared first and kept in d->err for the getters.
 */
int ydoc_load(struct ydoc *d, const char *text, size_t len, struct parse_err *reterr);

/* As ydoc_load() for the regular file `path` of at most `max` bytes; also
 * -errno from reading (-EFBIG past `max`, -EISDIR for anything but a file). */
int ydoc_load_file(struct ydoc *d, const char *path, size_t max, struct parse_err *reterr);

/* Releases the document; safe on a zeroed or failed-to-load struct ydoc. */
void ydoc_done(struct ydoc *d);

/* The root node, or NULL for an empty document ("", only comments, or an
 * empty scalar) - which every file of ours takes as "all defaults". */
yaml_node_t *ydoc_root(struct ydoc *d);

/* The root node as written, an empty scalar (a bare `---`) included; NULL
 * only when no document is loaded.  For formats that refuse an empty
 * document rather than take it as defaults (Sigma rules). */
yaml_node_t *ydoc_top(struct ydoc *d);

/*
 * A stream of documents separated by `---` (Sigma's correlation files), read
 * one at a time so that each can be checked and released before the next.
 * problem and context are libyaml's own words for a syntax error (static
 * strings, NULL when it gave none), for callers that word their message
 * themselves; the position and problem are also in the caller's parse_err.
 */
struct ydoc_stream {
    yaml_parser_t parser;
    int open;              /* parser to delete */
    int over;              /* the end or an error was reached: nothing more */
    int rc;                /* what next returns once over: 0 or the error */
    struct parse_err *err; /* the caller's, or NULL; handed to each document */
    const char *problem, *context;
};

/* Starts reading `len` bytes of `text` (kept by the caller until
 * ydoc_stream_done).  `reterr` (may be NULL) is cleared.  0 or -ENOMEM. */
int ydoc_stream_open(struct ydoc_stream *s, const char *text, size_t len, struct parse_err *reterr);

/*
 * The next document into *d (d->err is s->err), which the caller releases
 * with ydoc_done().  Returns 1 with a document (its ydoc_top() is not NULL),
 * 0 at the end of the stream (*d then holds none), -EINVAL for a syntax
 * error (recorded as ydoc_load does), -ENOMEM.
 */
int ydoc_stream_next(struct ydoc_stream *s, struct ydoc *d);

/* Releases the parser; safe on a zeroed or failed-to-open stream. */
void ydoc_stream_done(struct ydoc_stream *s);

/* ---- where things went wrong ---- */

/* Records `msg` (a static string, kept as given) at node `n` (NULL: line 0)
 * unless an error is already recorded.  Returns -EINVAL. */
int ydoc_fail(struct ydoc *d, const yaml_node_t *n, const char *msg);

/* Records `msg` at a line and column (1-based) known to the caller, such as
 * a list item remembered past the walk.  Returns -EINVAL. */
int ydoc_fail_at(struct ydoc *d, unsigned line, unsigned col, const char *msg);

/* Records a printf-formatted message at `n`, prefixed with "key: " when
 * ydoc_walk() is at a key (the thread-local buffer).  Returns -EINVAL. */
int ydoc_failf(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Writes "FILE:LINE:COL: MSG" (or "FILE: MSG" when the error has no line)
 * into buf, cut to `size`.  `file` NULL prints "-".  Returns what
 * snprintf returns.
 */
int ydoc_err_format(char *buf, size_t size, const char *file, const struct parse_err *e);

/* 1-based line of a node (0 for NULL). */
unsigned ydoc_line(const yaml_node_t *n);

/* ---- nodes ---- */

/* The node with index `i` of a sequence or pair, or NULL. */
yaml_node_t *ydoc_node(struct ydoc *d, int i);

/* A scalar's bytes (NUL-terminated by libyaml; may hold NULs) and length,
 * or NULL for anything else (and NULL). */
const char *ydoc_scalar(const yaml_node_t *n, size_t *ret_len);

/* 1 when n is the scalar `s`, exactly. */
int ydoc_scalar_is(const yaml_node_t *n, const char *s);

/* 1 when n is a plain scalar (written without quotes or a block
 * indicator): under YAML's core schema only those can be a null, a boolean
 * or a number; "true" in quotes is a string. */
int ydoc_plain(const yaml_node_t *n);

/* The items of a sequence or the pairs of a mapping; 0 for anything else. */
size_t ydoc_len(const yaml_node_t *n);

/*
 * Pair i of mapping `map`, in file order, for loops that word their own
 * errors: 0 with *ret_k and *ret_v (NULL only in a broken document), or
 * -ENOENT past the last pair or when map is no mapping.
 */
int ydoc_pair_at(struct ydoc *d, const yaml_node_t *map, size_t i, yaml_node_t **ret_k,
                 yaml_node_t **ret_v);

/* The value of the first pair of mapping `map` whose key is the scalar
 * `key`, or NULL (also when map is no mapping).  For formats that allow
 * keys of their own beside the known ones, which ydoc_walk would refuse. */
yaml_node_t *ydoc_get(struct ydoc *d, const yaml_node_t *map, const char *key);

/*
 * A list: a sequence, or with `scalar_ok` a lone scalar standing for a list
 * of one.  *ret_n gets the count; more than `max` items is an error.
 * ydoc_list_at() gives item i of such a list (the scalar itself for i 0).
 */
int ydoc_list(struct ydoc *d, const yaml_node_t *n, int scalar_ok, size_t max, size_t *ret_n);
yaml_node_t *ydoc_list_at(struct ydoc *d, yaml_node_t *n, size_t i);

/* ---- typed getters: 0, or -EINVAL with the error recorded at n ---- */

/* A scalar without NUL bytes: *ret points into the document. */
int ydoc_str(struct ydoc *d, const yaml_node_t *n, const char **ret, size_t *ret_len);

/* A scalar of min_len to max_len bytes (max_len 0: no cap), copied to the
 * heap; replaces (frees) *dst on success.  -ENOMEM unrecorded. */
int ydoc_strdup(struct ydoc *d, const yaml_node_t *n, size_t min_len, size_t max_len, char **dst);

/* Appends every scalar of a list (see ydoc_list) to the heap array *arr of
 * *narr strings, at most max_items in the list, each min_len..max_len
 * bytes.  On failure the items appended so far stay (the caller frees). */
int ydoc_strlist(struct ydoc *d, yaml_node_t *n, size_t max_items, size_t min_len, size_t max_len,
                 char ***arr, size_t *narr);

/* true, yes, on / false, no, off.  `why` (NULL: "key: expected true or
 * false") is the message for anything else. */
int ydoc_bool(struct ydoc *d, const yaml_node_t *n, const char *why, int *ret);

/* Decimal digits only, lo..hi.  `range_why` (NULL: a message naming the
 * bounds) for a number outside them. */
int ydoc_uint(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi, const char *range_why,
              uint64_t *ret);

/* As ydoc_uint, also with a k or m suffix (times 1024, 1048576). */
int ydoc_bytes(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi,
               const char *range_why, uint64_t *ret);

/* An optional - sign and decimal digits, lo..hi. */
int ydoc_int(struct ydoc *d, const yaml_node_t *n, int64_t lo, int64_t hi, const char *range_why,
             int64_t *ret);

/* A finite decimal number (strtod's syntax, at most 63 bytes), lo..hi. */
int ydoc_double(struct ydoc *d, const yaml_node_t *n, double lo, double hi, const char *range_why,
                double *ret);

/* Durations: digits and a unit s, m, h or d ("30s", "5m", "2h", "1d"). */
#define YDOC_DUR_BARE 1 /* plain digits are seconds */

/*
 * Parses a duration of `len` bytes into seconds: 0, -EINVAL (not digits and
 * a unit), -EDOM (a unit other than s, m, h, d), -ERANGE (over 100 years).
 */
int ydoc_parse_duration(const char *s, size_t len, int flags, int64_t *ret_s);

/* A duration of more than 0 and at most 366 days, in microseconds. */
int ydoc_duration(struct ydoc *d, const yaml_node_t *n, int flags, int64_t *ret_us);

/* One of `count` names (case-insensitively with `icase`): *ret gets its
 * index.  `why` NULL words "key: expected one of NAME, NAME or NAME". */
int ydoc_name(struct ydoc *d, const yaml_node_t *n, const char *const *names, size_t count,
              int icase, const char *why, int *ret);

/* ---- mappings ---- */

/* Called with the key and value node of one pair of the mapping walked. */
typedef int (*ydoc_key_fn)(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg);

struct ydoc_key {
    const char *name;
    ydoc_key_fn fn;
};

/* The keywords of one mapping: `keys` sorted by name (strcmp), for bsearch. */
struct ydoc_table {
    const struct ydoc_key *keys;
    size_t n;
    const char *not_map; /* the message when the node is no mapping */
    const char *unknown; /* the message for a key not in keys; NULL: "key: unknown key" */
};

#define YDOC_NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Calls the handler of each key of mapping `map`, in file order, with `arg`.
 * A key that is not a scalar, not in the table, or given twice is an error
 * (a typo must not silently leave a setting at its default, nor the second
 * of two values silently win).  Stops at the first handler < 0 and returns
 * it.  d->key is the key during each call (and restored after).
 */
int ydoc_walk(struct ydoc *d, yaml_node_t *map, const struct ydoc_table *t, void *arg);

/*
 * Calls fn for each pair of mapping `map` whose keys are data, not keywords
 * (rule names, tactics): any scalar key without NUL bytes, in file order,
 * d->key set as in ydoc_walk.  Not checked for duplicates (such maps may
 * hold thousands of keys; the caller decides what a repeat means).  A
 * non-mapping is refused with "key: expected a mapping".
 */
int ydoc_pairs(struct ydoc *d, yaml_node_t *map, ydoc_key_fn fn, void *arg);

#endif
