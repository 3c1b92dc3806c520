/*
 * sigma_cond.c - the Sigma condition grammar.
 *
 *   or_expr  := and_expr ("or" and_expr)*
 *   and_expr := not_expr ("and" not_expr)*
 *   not_expr := "not" not_expr | operand
 *   operand  := "(" or_expr ")" | ("1"|"any"|"all") "of" (pattern|"them") | identifier
 *
 * Keywords are lowercase only, as in the reference implementation.
 * Identifiers are resolved against the rule's search identifiers while
 * parsing, so the tree holds indices and evaluation needs no names.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma.h"

enum tok_kind { TK_END, TK_LPAREN, TK_RPAREN, TK_WORD, TK_BAD };

struct cparser {
    const char *s;
    size_t len;
    size_t pos;       /* next unread byte */
    enum tok_kind tk; /* current token */
    size_t tk_off;    /* its offset */
    size_t tk_len;    /* its length (TK_WORD) */
    char *const *names;
    size_t nnames;
    unsigned warn;
    int depth;
    struct parse_err *reterr;
    char *reason;
    size_t reason_size;
};

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*';
}

static void next_tok(struct cparser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
    p->tk_off = p->pos;
    p->tk_len = 0;
    if (p->pos >= p->len) {
        p->tk = TK_END;
        return;
    }
    char c = p->s[p->pos];
    if (c == '(' || c == ')') {
        p->tk = c == '(' ? TK_LPAREN : TK_RPAREN;
        p->pos++;
        p->tk_len = 1;
        return;
    }
    if (is_word_char(c)) {
        while (p->pos < p->len && is_word_char(p->s[p->pos]))
            p->pos++;
        p->tk = TK_WORD;
        p->tk_len = p->pos - p->tk_off;
        return;
    }
    p->tk = TK_BAD;
    p->tk_len = 1;
}

static int tok_is(const struct cparser *p, const char *w)
{
    size_t n = strlen(w);
    return p->tk == TK_WORD && p->tk_len == n && memcmp(p->s + p->tk_off, w, n) == 0;
}

static int fail(struct cparser *p, size_t off, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct cparser *p, size_t off, const char *msg, const char *fmt, ...)
{
    if (p->reterr) {
        p->reterr->off = off;
        p->reterr->line = 0;
        p->reterr->col = (unsigned)off + 1;
        p->reterr->msg = msg;
    }
    if (p->reason && p->reason_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->reason, p->reason_size, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Quotes at most 40 bytes of the current token for a message. */
static int tok_show_len(const struct cparser *p)
{
    return (int)(p->tk_len > 40 ? 40 : p->tk_len);
}

static struct sigma_cond *node_new(enum sigma_cond_op op)
{
    struct sigma_cond *c = calloc(1, sizeof(*c));
    if (c)
        c->op = op;
    return c;
}

void sigma_cond_free(struct sigma_cond *c)
{
    if (!c)
        return;
    sigma_cond_free(c->a);
    sigma_cond_free(c->b);
    free(c->ids);
    free(c);
}

/* Full-string glob match of `pat` (only `*` special) against `name`. */
static int pattern_match(const char *pat, size_t plen, const char *name)
{
    size_t nlen = strlen(name), pi = 0, ni = 0, star_p = (size_t)-1, star_n = 0;
    while (ni < nlen) {
        if (pi < plen && pat[pi] == '*') {
            star_p = pi++;
            star_n = ni;
        } else if (pi < plen && pat[pi] == name[ni]) {
            pi++;
            ni++;
        } else if (star_p != (size_t)-1) {
            pi = star_p + 1;
            ni = ++star_n;
        } else {
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

static int parse_or(struct cparser *p, struct sigma_cond **ret);

static int parse_selector(struct cparser *p, enum sigma_cond_op op, struct sigma_cond **ret)
{
    next_tok(p); /* past the quantifier */
    if (!tok_is(p, "of"))
        return fail(p, p->tk_off, "expected 'of'",
                    "expected 'of' after '1', 'any' or 'all' at column %zu", p->tk_off + 1);
    next_tok(p);
    if (p->tk != TK_WORD)
        return fail(p, p->tk_off, "expected a pattern after 'of'",
                    "expected an identifier pattern or 'them' after 'of' at column %zu",
                    p->tk_off + 1);
    const char *pat = p->s + p->tk_off;
    size_t plen = p->tk_len;
    int them = tok_is(p, "them");
    struct sigma_cond *c = node_new(op);
    if (!c)
        return -ENOMEM;
    if (p->nnames) {
        c->ids = calloc(p->nnames, sizeof(*c->ids));
        if (!c->ids) {
            free(c);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < p->nnames; i++) {
        const char *n = p->names[i];
        int hit;
        /* `_`-prefixed identifiers are helpers: excluded from `them` and
         * from patterns unless the pattern itself starts with `_`. */
        if (them)
            hit = n[0] != '_';
        else
            hit = pattern_match(pat, plen, n) && (n[0] != '_' || pat[0] == '_');
        if (hit)
            c->ids[c->nids++] = i;
    }
    if (c->nids == 0)
        p->warn++;
    next_tok(p);
    *ret = c;
    return 0;
}

static int parse_operand(struct cparser *p, struct sigma_cond **ret)
{
    if (p->tk == TK_LPAREN) {
        size_t open = p->tk_off;
        if (++p->depth > SIGMA_MAX_COND_DEPTH)
            return fail(p, open, "condition nested too deeply",
                        "condition nested more than %d levels", SIGMA_MAX_COND_DEPTH);
        next_tok(p);
        int r = parse_or(p, ret);
        if (r < 0)
            return r;
        if (p->tk != TK_RPAREN) {
            sigma_cond_free(*ret);
            *ret = NULL;
            return fail(p, p->tk_off, "missing ')'", "missing ')' for the '(' at column %zu",
                        open + 1);
        }
        p->depth--;
        next_tok(p);
        return 0;
    }
    if (p->tk == TK_END)
        return fail(p, p->tk_off, "condition ends too early",
                    "condition ends where an identifier was expected");
    if (p->tk == TK_BAD) {
        if (p->s[p->tk_off] == '|')
            return fail(p, p->tk_off, "pipe aggregation is not supported",
                        "the '|' aggregation syntax at column %zu is obsolete; use a "
                        "correlation rule",
                        p->tk_off + 1);
        return fail(p, p->tk_off, "unexpected character in condition",
                    "unexpected character '%c' at column %zu", p->s[p->tk_off], p->tk_off + 1);
    }
    if (p->tk == TK_RPAREN)
        return fail(p, p->tk_off, "unexpected ')'", "unexpected ')' at column %zu", p->tk_off + 1);
    if (tok_is(p, "1") || tok_is(p, "any"))
        return parse_selector(p, SIGMA_COND_ONE_OF, ret);
    if (tok_is(p, "all"))
        return parse_selector(p, SIGMA_COND_ALL_OF, ret);
    if (tok_is(p, "and") || tok_is(p, "or") || tok_is(p, "of") || tok_is(p, "them"))
        return fail(p, p->tk_off, "unexpected keyword", "unexpected '%.*s' at column %zu",
                    tok_show_len(p), p->s + p->tk_off, p->tk_off + 1);
    for (size_t i = 0; i < p->nnames; i++) {
        if (strlen(p->names[i]) == p->tk_len &&
            memcmp(p->names[i], p->s + p->tk_off, p->tk_len) == 0) {
            struct sigma_cond *c = node_new(SIGMA_COND_ID);
            if (!c)
                return -ENOMEM;
            c->ids = malloc(sizeof(*c->ids));
            if (!c->ids) {
                free(c);
                return -ENOMEM;
            }
            c->ids[0] = i;
            c->nids = 1;
            next_tok(p);
            *ret = c;
            return 0;
        }
    }
    return fail(p, p->tk_off, "unknown search identifier",
                "search identifier '%.*s' (column %zu) is not defined in detection",
                tok_show_len(p), p->s + p->tk_off, p->tk_off + 1);
}

static int parse_not(struct cparser *p, struct sigma_cond **ret)
{
    if (!tok_is(p, "not"))
        return parse_operand(p, ret);
    size_t at = p->tk_off;
    if (++p->depth > SIGMA_MAX_COND_DEPTH)
        return fail(p, at, "condition nested too deeply", "condition nested more than %d levels",
                    SIGMA_MAX_COND_DEPTH);
    next_tok(p);
    struct sigma_cond *a = NULL;
    int r = parse_not(p, &a);
    if (r < 0)
        return r;
    p->depth--;
    struct sigma_cond *c = node_new(SIGMA_COND_NOT);
    if (!c) {
        sigma_cond_free(a);
        return -ENOMEM;
    }
    c->a = a;
    *ret = c;
    return 0;
}

/* Parses a left-associative chain of `sub` joined by keyword `kw`. */
static int parse_chain(struct cparser *p, const char *kw, enum sigma_cond_op op,
                       int (*sub)(struct cparser *, struct sigma_cond **), struct sigma_cond **ret)
{
    struct sigma_cond *left = NULL;
    int r = sub(p, &left);
    if (r < 0)
        return r;
    while (tok_is(p, kw)) {
        next_tok(p);
        struct sigma_cond *right = NULL;
        r = sub(p, &right);
        if (r < 0) {
            sigma_cond_free(left);
            return r;
        }
        struct sigma_cond *c = node_new(op);
        if (!c) {
            sigma_cond_free(left);
            sigma_cond_free(right);
            return -ENOMEM;
        }
        c->a = left;
        c->b = right;
        left = c;
    }
    *ret = left;
    return 0;
}

static int parse_and(struct cparser *p, struct sigma_cond **ret)
{
    return parse_chain(p, "and", SIGMA_COND_AND, parse_not, ret);
}

static int parse_or(struct cparser *p, struct sigma_cond **ret)
{
    return parse_chain(p, "or", SIGMA_COND_OR, parse_and, ret);
}

int sigma_cond_parse(const char *s, size_t len, char *const *names, size_t nnames,
                     struct sigma_cond **ret_cond, unsigned *ret_warn, struct parse_err *reterr,
                     char *reason, size_t reason_size)
{
    struct cparser p = {
        .s = s,
        .len = len,
        .names = names,
        .nnames = nnames,
        .reterr = reterr,
        .reason = reason,
        .reason_size = reason_size,
    };
    struct sigma_cond *c = NULL;
    *ret_cond = NULL;
    next_tok(&p);
    int r = parse_or(&p, &c);
    if (r < 0)
        return r;
    if (p.tk != TK_END) {
        sigma_cond_free(c);
        if (p.tk == TK_BAD && p.s[p.tk_off] == '|')
            return fail(&p, p.tk_off, "pipe aggregation is not supported",
                        "the '|' aggregation syntax at column %zu is obsolete; use a "
                        "correlation rule",
                        p.tk_off + 1);
        return fail(&p, p.tk_off, "unexpected text after the condition",
                    "expected 'and', 'or' or the end at column %zu (keywords are lowercase)",
                    p.tk_off + 1);
    }
    *ret_cond = c;
    if (ret_warn)
        *ret_warn = p.warn;
    return 0;
}
