/*
 * hunt_query.h - the query language of `hikeshi hunt` and
 * GET /api/v1/events (docs/hunt.md): words and "phrases" matched in a
 * record's raw text, comparisons on its decoded fields (=, !=, <, <=, >,
 * >=, ~ regex; wildcards and CIDR in =), AND / OR / NOT and parentheses.
 *
 * The query text comes from whoever may call the API, so every part of it
 * is bounded (length, nesting, terms, regex size and match effort) and a
 * query over a bound is refused at parse time with the place and reason.
 */
#ifndef HIKESHI_HUNT_HUNT_QUERY_H
#define HIKESHI_HUNT_HUNT_QUERY_H

#include <stddef.h>

#include "util/parse_err.h"

struct event;

/* Longest query text, in bytes. */
#define HUNT_QUERY_MAX_LEN 4096
/* Deepest nesting of parentheses and NOTs. */
#define HUNT_QUERY_MAX_DEPTH 32
/* Most terms and operators in one query (the nodes of its tree). */
#define HUNT_QUERY_MAX_NODES 256
/* Most regular expressions in one query, and the longest pattern. */
#define HUNT_QUERY_MAX_REGEX 8
#define HUNT_QUERY_MAX_REGEX_LEN 1024
/* PCRE2 effort per match (pcre2_set_match_limit / depth_limit): a
 * catastrophic pattern fails that record's match instead of running on. */
#define HUNT_QUERY_REGEX_MATCH_LIMIT 100000
#define HUNT_QUERY_REGEX_DEPTH_LIMIT 5000

struct hunt_query;

/*
 * Parses `text` (len bytes, no NUL needed).  0 and *ret (free with
 * hunt_query_free), -EINVAL with *reterr (byte offset and reason) for a
 * query that is malformed or over a bound, -ENOMEM.
 */
int hunt_query_parse(const char *text, size_t len, struct hunt_query **ret,
                     struct parse_err *reterr);
/* NULL is a no-op. */
void hunt_query_free(struct hunt_query *q);

/* 1 when the query compares decoded fields (records must be decoded);
 * 0 when it only looks at the raw text. */
int hunt_query_needs_fields(const struct hunt_query *q);

/*
 * What the raw text alone says: 0 when the record cannot match whatever its
 * fields are (skip decoding it), 1 when it may.  Not thread-safe: the query
 * keeps a scratch copy of the lowered text (one query per thread).
 */
int hunt_query_prefilter(struct hunt_query *q, const char *raw, size_t len);

/*
 * What a block's index says: may_contain(ctx, text, len) answers 0 when no
 * record of the block contains the lowered `text`.  Returns 0 when no
 * record of the block can match the query (only words, phrases and
 * `_raw=value` that every match must contain can rule a block out; a NOT,
 * a field comparison, a wildcard or a regex never does), else 1.
 */
int hunt_query_block_may_match(const struct hunt_query *q,
                               int (*may_contain)(const void *ctx, const char *text, size_t len),
                               const void *ctx);

/* 1 when the decoded event `ev` (its raw and fields) matches, else 0.  Not
 * thread-safe, as above.  A regex that exceeds its match limit on a value
 * does not match that value (counted, see hunt_query_regex_errors). */
int hunt_query_match(struct hunt_query *q, const struct event *ev);

/* Regex matches that stopped at their limit, since the parse. */
unsigned long hunt_query_regex_errors(const struct hunt_query *q);

#endif
