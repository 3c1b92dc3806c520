/*
 * hunt_query.c - parses a hunt query into a small tree and evaluates it on
 * a record: first on the raw text alone (a three-valued pass that lets the
 * hunt skip decoding records that cannot match), then on the decoded event.
 *
 * The grammar is in docs/hunt.md.  The tree lives in one array of at most
 * HUNT_QUERY_MAX_NODES nodes; recursion (parsing and evaluating) is bounded
 * by HUNT_QUERY_MAX_DEPTH, so a hostile query costs a bounded stack.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "hunt/hunt_query.h"
#include "util/cidr.h"
#include "util/limits.h"

enum node_kind {
    N_AND,
    N_OR,
    N_NOT,
    N_TEXT, /* case-insensitive substring of the raw text */
    N_CMP,  /* a field comparison */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_RE };

enum val_kind {
    V_STR,  /* case-insensitive equality */
    V_WILD, /* case-insensitive glob: * and ? */
    V_CIDR, /* the value is an address inside the network */
    V_NUM,  /* numeric comparison */
    V_RE,   /* PCRE2 */
};

/* Three-valued truth for the raw-text pass. */
enum tv { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

struct node {
    enum node_kind kind;
    int a, b; /* children (indexes into nodes[]); -1 when unused */
    /* N_TEXT, N_CMP: */
    char *val; /* owned; lowered for N_TEXT, V_STR and V_WILD */
    size_t vlen;
    uint8_t *wild; /* V_WILD: 1 where val[i] is a wildcard; owned */
    /* N_CMP: */
    enum cmp_op op;
    enum val_kind vk;
    int raw;       /* the pseudo-field _raw: the record's text */
    char *fname;   /* owned, NUL-terminated */
    uint32_t fid;  /* FIELD_NONE until the name is known to the dictionary */
    uint32_t fgen; /* field_generation() when fid was last looked up */
    double num;
    struct cidr net;
    pcre2_code *re;
};

struct hunt_query {
    struct node nodes[HUNT_QUERY_MAX_NODES];
    int nnodes, root;
    int nregex;
    int needs_fields, has_text;
    pcre2_match_data *md;
    unsigned long regex_errors;
    /* The lowered raw text, kept from prefilter for the match that follows
     * on the same record (lower_ok), grown up to LIMIT_LINE_MAX. */
    char *lower;
    size_t lower_cap, lower_len;
    const char *lower_src;
    int lower_ok;
};

struct parser {
    const char *s;
    size_t len, pos;
    struct hunt_query *q;
    struct parse_err *err;
};

static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_field_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '@' || c == '-';
}

static int fail(struct parser *p, size_t off, const char *msg)
{
    parse_err_set(p->err, off, msg);
    return -EINVAL;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

/* 1 when the keyword `kw` stands at the parser's position as a word of its
 * own (followed by space, a parenthesis, a quote or the end). */
static int at_keyword(const struct parser *p, const char *kw)
{
    size_t n = strlen(kw), e = p->pos + n;

    if (p->len - p->pos < n || memcmp(p->s + p->pos, kw, n) != 0)
        return 0;
    return e == p->len || is_space(p->s[e]) || p->s[e] == '(' || p->s[e] == ')' || p->s[e] == '"';
}

static int new_node(struct parser *p, enum node_kind k, int *ret)
{
    struct node *n;

    if (p->q->nnodes >= HUNT_QUERY_MAX_NODES)
        return fail(p, p->pos, "too many terms (at most 256)");
    n = &p->q->nodes[p->q->nnodes];
    memset(n, 0, sizeof(*n));
    n->kind = k;
    n->a = n->b = -1;
    *ret = p->q->nnodes++;
    return 0;
}

/*
 * Reads a value at the parser's position: a "quoted" string (\" \\ \* \?
 * escapes; the last two make a literal * or ?), or bare bytes up to space,
 * a parenthesis or a quote.  The bytes go to *ret_val (owned, NUL-ended)
 * and, when `want_wild`, a map of which bytes are wildcards to *ret_wild
 * (NULL when none is).  *ret_quoted says which form it was.
 */
static int read_value(struct parser *p, int want_wild, char **ret_val, size_t *ret_len,
                      uint8_t **ret_wild, int *ret_quoted)
{
    size_t start = p->pos, n = 0;
    int quoted = p->pos < p->len && p->s[p->pos] == '"', any_wild = 0;
    char *v = malloc(p->len - p->pos + 1);
    uint8_t *w = malloc(p->len - p->pos + 1);

    if (!v || !w) {
        free(v);
        free(w);
        return -ENOMEM;
    }
    if (quoted)
        p->pos++;
    for (;;) {
        char c;
        int lit = 0;

        if (p->pos >= p->len) {
            if (quoted) {
                free(v);
                free(w);
                return fail(p, start, "unterminated quoted string");
            }
            break;
        }
        c = p->s[p->pos];
        if (quoted && c == '"') {
            p->pos++;
            break;
        }
        if (!quoted && (is_space(c) || c == '(' || c == ')' || c == '"'))
            break;
        if (c == '\\' && p->pos + 1 < p->len &&
            (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\' || p->s[p->pos + 1] == '*' ||
             p->s[p->pos + 1] == '?')) {
            c = p->s[++p->pos];
            lit = 1;
        }
        p->pos++;
        w[n] = (uint8_t)(want_wild && !lit && (c == '*' || c == '?'));
        any_wild |= w[n];
        v[n++] = c;
    }
    v[n] = '\0';
    *ret_val = v;
    *ret_len = n;
    *ret_quoted = quoted;
    if (ret_wild && any_wild) {
        *ret_wild = w;
    } else {
        if (ret_wild)
            *ret_wild = NULL;
        free(w);
    }
    return 0;
}

static void lower_bytes(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s[i] = (char)lc((unsigned char)s[i]);
}

static int compile_regex(struct parser *p, struct node *n, size_t at, int caseless)
{
    pcre2_compile_context *cc;
    int errcode = 0;
    PCRE2_SIZE erroff = 0;

    if (p->q->nregex >= HUNT_QUERY_MAX_REGEX)
        return fail(p, at, "too many regular expressions (at most 8)");
    if (n->vlen > HUNT_QUERY_MAX_REGEX_LEN)
        return fail(p, at, "regular expression too long (at most 1024 bytes)");
    if (!(cc = pcre2_compile_context_create(NULL)))
        return -ENOMEM;
    pcre2_set_parens_nest_limit(cc, 64);
    n->re = pcre2_compile((PCRE2_SPTR)n->val, n->vlen, caseless ? PCRE2_CASELESS : 0, &errcode,
                          &erroff, cc);
    pcre2_compile_context_free(cc);
    if (!n->re)
        return fail(p, at, "regular expression does not compile");
    (void)pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE); /* else the interpreter */
    p->q->nregex++;
    return 0;
}

/* /regex/ with \/ for a slash and an optional i flag after it. */
static int read_regex(struct parser *p, struct node *n)
{
    size_t start = p->pos++, k = 0;
    char *v = malloc(p->len - p->pos + 1);
    int caseless = 0;

    if (!v)
        return -ENOMEM;
    for (;;) {
        if (p->pos >= p->len) {
            free(v);
            return fail(p, start, "unterminated /regex/");
        }
        if (p->s[p->pos] == '/') {
            p->pos++;
            break;
        }
        if (p->s[p->pos] == '\\' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/')
            p->pos++;
        else if (p->s[p->pos] == '\\' && p->pos + 1 < p->len)
            v[k++] = p->s[p->pos++];
        v[k++] = p->s[p->pos++];
    }
    v[k] = '\0';
    n->val = v;
    n->vlen = k;
    if (p->pos < p->len && p->s[p->pos] == 'i') {
        caseless = 1;
        p->pos++;
    }
    return compile_regex(p, n, start, caseless);
}

static int parse_number(const char *s, size_t len, double *ret)
{
    char buf[64];
    char *end;
    double d;

    if (len == 0 || len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    d = strtod(buf, &end);
    if (end != buf + len || errno != 0 || isnan(d) || isinf(d))
        return -EINVAL;
    *ret = d;
    return 0;
}

/* FIELD OP VALUE, with p->pos at OP and the name at [name, name + nlen). */
static int parse_cmp(struct parser *p, size_t name, size_t nlen, int *ret)
{
    struct node *n;
    int id, r, quoted = 0;
    size_t at;
    char c = p->s[p->pos], c2 = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';

    if ((r = new_node(p, N_CMP, &id)) < 0)
        return r;
    n = &p->q->nodes[id];
    if (c == '!' && c2 == '=') {
        n->op = OP_NE;
        p->pos += 2;
    } else if (c == '<' || c == '>') {
        n->op = c == '<' ? (c2 == '=' ? OP_LE : OP_LT) : (c2 == '=' ? OP_GE : OP_GT);
        p->pos += c2 == '=' ? 2 : 1;
    } else if (c == '~') {
        n->op = OP_RE;
        p->pos++;
    } else if (c == '=') {
        n->op = OP_EQ;
        p->pos++;
    } else {
        return fail(p, p->pos, "expected an operator (= != < <= > >= ~)");
    }
    if (!(n->fname = strndup(p->s + name, nlen)))
        return -ENOMEM;
    n->raw = strcmp(n->fname, "_raw") == 0;
    n->fid = n->raw ? FIELD_NONE : field_lookup(n->fname, nlen);
    n->fgen = field_generation();
    at = p->pos;
    if (at >= p->len || is_space(p->s[at]) || p->s[at] == ')' || p->s[at] == '(')
        return fail(p, at, "a value must follow the operator (quote one with parentheses)");
    if (n->op == OP_RE) {
        n->vk = V_RE;
        if (p->s[at] == '/')
            r = read_regex(p, n);
        else if ((r = read_value(p, 0, &n->val, &n->vlen, NULL, &quoted)) == 0)
            r = compile_regex(p, n, at, 0);
    } else {
        int want_wild = n->op == OP_EQ || n->op == OP_NE;

        if ((r = read_value(p, want_wild, &n->val, &n->vlen, &n->wild, &quoted)) < 0)
            return r;
        if (n->op != OP_EQ && n->op != OP_NE) {
            n->vk = V_NUM;
            r = parse_number(n->val, n->vlen, &n->num) < 0
                    ? fail(p, at, "a number must follow < <= > >=")
                    : 0;
        } else if (n->wild) {
            n->vk = V_WILD;
        } else if (!quoted && !n->raw && cidr_parse(n->val, n->vlen, &n->net) == 0) {
            n->vk = V_CIDR;
        } else {
            n->vk = V_STR;
        }
        if (n->vk == V_WILD || n->vk == V_STR)
            lower_bytes(n->val, n->vlen);
    }
    if (r < 0)
        return r;
    if (n->vlen == 0 && n->vk != V_STR)
        return fail(p, at, "empty value");
    if (!n->raw)
        p->q->needs_fields = 1;
    else
        p->q->has_text = 1;
    *ret = id;
    return 0;
}

static int parse_or(struct parser *p, int depth, int *ret);

static int parse_primary(struct parser *p, int depth, int *ret)
{
    size_t start = p->pos, e;
    int r, id;
    struct node *n;
    int quoted;

    if (p->pos >= p->len)
        return fail(p, p->pos, "a term must follow");
    if (p->s[p->pos] == '(') {
        if (depth >= HUNT_QUERY_MAX_DEPTH)
            return fail(p, p->pos, "nested too deep (at most 32 levels)");
        p->pos++;
        if ((r = parse_or(p, depth + 1, ret)) < 0)
            return r;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ')')
            return fail(p, start, "unbalanced parenthesis: no ) for this (");
        p->pos++;
        return 0;
    }
    if (p->s[p->pos] == ')')
        return fail(p, p->pos, "unexpected )");
    e = p->pos;
    while (e < p->len && is_field_char(p->s[e]))
        e++;
    if (e > p->pos && e < p->len && strchr("=!<>~", p->s[e]) &&
        (p->s[e] != '!' || (e + 1 < p->len && p->s[e + 1] == '='))) {
        size_t name = p->pos;

        p->pos = e;
        return parse_cmp(p, name, e - name, ret);
    }
    if ((r = new_node(p, N_TEXT, &id)) < 0)
        return r;
    n = &p->q->nodes[id];
    if ((r = read_value(p, 0, &n->val, &n->vlen, NULL, &quoted)) < 0)
        return r;
    if (n->vlen == 0)
        return fail(p, start, quoted ? "empty phrase" : "a term must follow");
    lower_bytes(n->val, n->vlen);
    p->q->has_text = 1;
    *ret = id;
    return 0;
}

static int parse_unary(struct parser *p, int depth, int *ret)
{
    int r, id, child;

    skip_ws(p);
    if (!at_keyword(p, "NOT"))
        return parse_primary(p, depth, ret);
    if (depth >= HUNT_QUERY_MAX_DEPTH)
        return fail(p, p->pos, "nested too deep (at most 32 levels)");
    p->pos += 3;
    if ((r = parse_unary(p, depth + 1, &child)) < 0)
        return r;
    if ((r = new_node(p, N_NOT, &id)) < 0)
        return r;
    p->q->nodes[id].a = child;
    *ret = id;
    return 0;
}

static int parse_and(struct parser *p, int depth, int *ret)
{
    int r, left, right, id;

    if ((r = parse_unary(p, depth, &left)) < 0)
        return r;
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] == ')' || at_keyword(p, "OR"))
            break;
        if (at_keyword(p, "AND"))
            p->pos += 3;
        if ((r = parse_unary(p, depth, &right)) < 0)
            return r;
        if ((r = new_node(p, N_AND, &id)) < 0)
            return r;
        p->q->nodes[id].a = left;
        p->q->nodes[id].b = right;
        left = id;
    }
    *ret = left;
    return 0;
}

static int parse_or(struct parser *p, int depth, int *ret)
{
    int r, left, right, id;

    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] == ')')
        return fail(p, p->pos, p->pos >= p->len ? "empty query" : "empty parentheses");
    if ((r = parse_and(p, depth, &left)) < 0)
        return r;
    for (;;) {
        skip_ws(p);
        if (!at_keyword(p, "OR"))
            break;
        p->pos += 2;
        if ((r = parse_and(p, depth, &right)) < 0)
            return r;
        if ((r = new_node(p, N_OR, &id)) < 0)
            return r;
        p->q->nodes[id].a = left;
        p->q->nodes[id].b = right;
        left = id;
    }
    *ret = left;
    return 0;
}

int hunt_query_parse(const char *text, size_t len, struct hunt_query **ret,
                     struct parse_err *reterr)
{
    struct parser p = {.s = text, .len = len, .err = reterr};
    int r;

    *ret = NULL;
    if (len > HUNT_QUERY_MAX_LEN) {
        parse_err_set(reterr, HUNT_QUERY_MAX_LEN, "query too long (at most 4096 bytes)");
        return -EINVAL;
    }
    if (memchr(text, '\0', len)) {
        parse_err_set(reterr, (size_t)((const char *)memchr(text, '\0', len) - text),
                      "NUL byte in the query");
        return -EINVAL;
    }
    if (!(p.q = calloc(1, sizeof(*p.q))))
        return -ENOMEM;
    if ((r = parse_or(&p, 0, &p.q->root)) == 0) {
        skip_ws(&p);
        if (p.pos < p.len)
            r = fail(&p, p.pos, "unexpected )");
    }
    if (r == 0 && p.q->nregex > 0 && !(p.q->md = pcre2_match_data_create(1, NULL)))
        r = -ENOMEM;
    if (r < 0) {
        hunt_query_free(p.q);
        return r;
    }
    *ret = p.q;
    return 0;
}

void hunt_query_free(struct hunt_query *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->nnodes; i++) {
        free(q->nodes[i].val);
        free(q->nodes[i].wild);
        free(q->nodes[i].fname);
        pcre2_code_free(q->nodes[i].re);
    }
    pcre2_match_data_free(q->md);
    free(q->lower);
    free(q);
}

int hunt_query_needs_fields(const struct hunt_query *q)
{
    return q->needs_fields;
}

unsigned long hunt_query_regex_errors(const struct hunt_query *q)
{
    return q->regex_errors;
}

/* Lowers the raw text into q->lower once per record.  -ENOMEM leaves
 * lower_ok 0 and the text terms then search the text as it is. */
static void lower_raw(struct hunt_query *q, const char *raw, size_t len)
{
    if (q->lower_ok && q->lower_src == raw && q->lower_len == len)
        return;
    q->lower_ok = 0;
    if (len > LIMIT_LINE_MAX)
        len = LIMIT_LINE_MAX;
    if (len + 1 > q->lower_cap) {
        size_t cap = q->lower_cap ? q->lower_cap : 4096;
        char *n;

        while (cap < len + 1)
            cap *= 2;
        if (!(n = realloc(q->lower, cap)))
            return;
        q->lower = n;
        q->lower_cap = cap;
    }
    for (size_t i = 0; i < len; i++)
        q->lower[i] = (char)lc((unsigned char)raw[i]);
    q->lower_len = len;
    q->lower_src = raw;
    q->lower_ok = 1;
}

static int text_has(const struct hunt_query *q, const struct node *n)
{
    if (!q->lower_ok)
        return 0;
    return memmem(q->lower, q->lower_len, n->val, n->vlen) != NULL;
}

static int regex_on(struct hunt_query *q, const struct node *n, const char *s, size_t len)
{
    pcre2_match_context *mc = NULL;
    int rc;

    /* One context per call is cheap next to a match; it keeps the limits
     * with the call instead of in the query's shared state. */
    if (!(mc = pcre2_match_context_create(NULL))) {
        q->regex_errors++;
        return 0;
    }
    pcre2_set_match_limit(mc, HUNT_QUERY_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, HUNT_QUERY_REGEX_DEPTH_LIMIT);
    rc = pcre2_match(n->re, (PCRE2_SPTR)s, len, 0, 0, q->md, mc);
    pcre2_match_context_free(mc);
    if (rc >= 0)
        return 1;
    if (rc != PCRE2_ERROR_NOMATCH)
        q->regex_errors++;
    return 0;
}

/* Glob over a value, case-insensitive: the pattern is split at its stars;
 * the first piece must start the value, the last end it, and each piece
 * between is placed at its leftmost fit (which is never worse than a later
 * one), so no backtracking is needed. */
static int piece_at(const struct node *n, size_t p0, size_t plen, const char *s)
{
    for (size_t i = 0; i < plen; i++)
        if (!(n->wild[p0 + i] && n->val[p0 + i] == '?') &&
            n->val[p0 + i] != (char)lc((unsigned char)s[i]))
            return 0;
    return 1;
}

static int glob_match(const struct node *n, const char *s, size_t len)
{
    size_t pi = 0, si = 0, plen;
    int first = 1;

    for (;;) {
        size_t e = pi;

        while (e < n->vlen && !(n->wild[e] && n->val[e] == '*'))
            e++;
        plen = e - pi;
        if (e == n->vlen) { /* the last piece */
            if (first)
                return plen == len && piece_at(n, pi, plen, s);
            return len - si >= plen && piece_at(n, pi, plen, s + len - plen);
        }
        if (first) {
            if (plen > len || !piece_at(n, pi, plen, s))
                return 0;
            si = plen;
            first = 0;
        } else {
            size_t k = si;

            while (k + plen <= len && !piece_at(n, pi, plen, s + k))
                k++;
            if (k + plen > len)
                return 0;
            si = k + plen;
        }
        pi = e + 1;
    }
}

static int str_ieq(const char *lowered, size_t n, const char *s, size_t len)
{
    if (n != len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lowered[i] != (char)lc((unsigned char)s[i]))
            return 0;
    return 1;
}

/* One value of the field against the comparison (NE tested as EQ). */
static int value_matches(struct hunt_query *q, const struct node *n, const char *s, size_t len)
{
    switch (n->vk) {
    case V_STR: return str_ieq(n->val, n->vlen, s, len);
    case V_WILD: return glob_match(n, s, len);
    case V_CIDR: {
        struct cidr a;

        if (cidr_parse(s, len, &a) < 0 || memchr(s, '/', len))
            return 0;
        return cidr_contains(&n->net, a.family, a.addr);
    }
    case V_NUM: {
        double d;

        if (parse_number(s, len, &d) < 0)
            return 0;
        switch (n->op) {
        case OP_LT: return d < n->num;
        case OP_LE: return d <= n->num;
        case OP_GT: return d > n->num;
        case OP_GE: return d >= n->num;
        default: return 0;
        }
    }
    case V_RE: return regex_on(q, n, s, len);
    }
    return 0;
}

static int cmp_eval(struct hunt_query *q, struct node *n, const struct event *ev)
{
    int any = 0;

    if (n->raw) {
        any = value_matches(q, n, ev->raw, ev->raw_len);
    } else {
        if (n->fid == FIELD_NONE && n->fgen != field_generation()) {
            /* The name may have been interned by a decoder since. */
            n->fid = field_lookup(n->fname, strlen(n->fname));
            n->fgen = field_generation();
        }
        if (n->fid != FIELD_NONE)
            for (uint32_t i = 0; i < ev->nfields && !any; i++)
                if (ev->fields[i].id == n->fid)
                    any = value_matches(q, n, ev->fields[i].val, ev->fields[i].len);
    }
    return n->op == OP_NE ? !any : any;
}

static int eval(struct hunt_query *q, int i, const struct event *ev)
{
    struct node *n = &q->nodes[i];

    switch (n->kind) {
    case N_AND: return eval(q, n->a, ev) && eval(q, n->b, ev);
    case N_OR: return eval(q, n->a, ev) || eval(q, n->b, ev);
    case N_NOT: return !eval(q, n->a, ev);
    case N_TEXT: return text_has(q, n);
    case N_CMP: return cmp_eval(q, n, ev);
    }
    return 0;
}

/* The raw-text pass: fields are unknown. */
static enum tv eval3(struct hunt_query *q, int i, const char *raw, size_t len)
{
    struct node *n = &q->nodes[i];
    enum tv a, b;

    switch (n->kind) {
    case N_AND:
        if ((a = eval3(q, n->a, raw, len)) == TV_FALSE)
            return TV_FALSE;
        b = eval3(q, n->b, raw, len);
        return b == TV_FALSE ? TV_FALSE : (a == TV_TRUE && b == TV_TRUE ? TV_TRUE : TV_UNKNOWN);
    case N_OR:
        if ((a = eval3(q, n->a, raw, len)) == TV_TRUE)
            return TV_TRUE;
        b = eval3(q, n->b, raw, len);
        return b == TV_TRUE ? TV_TRUE : (a == TV_FALSE && b == TV_FALSE ? TV_FALSE : TV_UNKNOWN);
    case N_NOT:
        a = eval3(q, n->a, raw, len);
        return a == TV_UNKNOWN ? TV_UNKNOWN : (a == TV_TRUE ? TV_FALSE : TV_TRUE);
    case N_TEXT: return text_has(q, n) ? TV_TRUE : TV_FALSE;
    case N_CMP:
        if (n->raw) {
            int m = value_matches(q, n, raw, len);

            return (n->op == OP_NE ? !m : m) ? TV_TRUE : TV_FALSE;
        }
        return TV_UNKNOWN;
    }
    return TV_UNKNOWN;
}

/* 0 only when no record of the block satisfies node i: by induction, a
 * record that satisfies an AND satisfies both sides, one that satisfies an
 * OR satisfies a side; a NOT or a field says nothing about the text. */
static int block_eval(const struct hunt_query *q, int i,
                      int (*may_contain)(const void *ctx, const char *text, size_t len),
                      const void *ctx)
{
    const struct node *n = &q->nodes[i];

    switch (n->kind) {
    case N_AND:
        return block_eval(q, n->a, may_contain, ctx) && block_eval(q, n->b, may_contain, ctx);
    case N_OR:
        return block_eval(q, n->a, may_contain, ctx) || block_eval(q, n->b, may_contain, ctx);
    case N_NOT: return 1;
    case N_TEXT: return may_contain(ctx, n->val, n->vlen);
    case N_CMP:
        /* _raw=value: the whole raw text equals it, so it contains it. */
        if (n->raw && n->op == OP_EQ && n->vk == V_STR && n->vlen > 0)
            return may_contain(ctx, n->val, n->vlen);
        return 1;
    }
    return 1;
}

int hunt_query_block_may_match(const struct hunt_query *q,
                               int (*may_contain)(const void *ctx, const char *text, size_t len),
                               const void *ctx)
{
    return block_eval(q, q->root, may_contain, ctx);
}

int hunt_query_prefilter(struct hunt_query *q, const char *raw, size_t len)
{
    if (!q->has_text)
        return 1;
    q->lower_ok = 0;
    lower_raw(q, raw, len);
    return eval3(q, q->root, raw, len) != TV_FALSE;
}

int hunt_query_match(struct hunt_query *q, const struct event *ev)
{
    int m;

    if (q->has_text)
        lower_raw(q, ev->raw, ev->raw_len);
    m = eval(q, q->root, ev);
    q->lower_ok = 0; /* the next record may reuse the same buffer */
    return m;
}
