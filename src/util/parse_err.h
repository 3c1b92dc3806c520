/*
 * parse_err.h - where and why a parser rejected its input.
 */
#ifndef HIKESHI_UTIL_PARSE_ERR_H
#define HIKESHI_UTIL_PARSE_ERR_H

#include <stddef.h>

/*
 * Filled by parsers on failure; owned by the caller.  `msg` points to a
 * static string (never freed).  `off` is the byte offset into the parsed
 * input where the problem was found.  `line` and `col` are 1-based and set
 * only by parsers of multi-line text (config, rules); 0 otherwise.
 */
struct parse_err {
    size_t off;
    unsigned line;
    unsigned col;
    const char *msg;
};

static inline void parse_err_set(struct parse_err *reterr, size_t off, const char *msg)
{
    if (reterr) {
        reterr->off = off;
        reterr->line = 0;
        reterr->col = 0;
        reterr->msg = msg;
    }
}

#endif
