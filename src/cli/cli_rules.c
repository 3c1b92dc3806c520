/*
 * cli_rules.c - `hikeshi rules check [-c CONFIG] [--strict] [--json]
 * PATH...`: load Sigma rules the way the engine will, report every rule
 * that cannot be loaded as FILE:LINE:COL: reason, and warn of every rule
 * that loads but would never run (no log-source mapping for its product,
 * category and service: the engine leaves it out), of `x of` patterns that
 * name nothing and of filters that name no checked rule; summary counts.
 * --strict turns warnings into failures.
 *
 * `hikeshi rules test [-c CONFIG] [--json] RULE EVENT...`: run one rule over
 * records decoded, mapped and routed as the daemon does, and explain each
 * verdict down to the detection item and the event's value.  Items are
 * judged by the reference evaluator itself (sigma_eval_search() on a
 * one-item copy), so the explanation cannot disagree with the engine.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "decode/decode.h"
#include "detect/sigma.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "input/input_evtx.h"
#include "input/input_reader.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/limits.h"

/* Output is capped: a rules tree of ~10,000 files with long reasons fits. */
#define CLI_RULES_JSON_CAP (16 * 1024 * 1024)
#define CLI_RULES_MAX_DEPTH 32

struct check {
    int json, strict;
    size_t files, loaded, refused, warned;
    size_t correlations; /* correlation documents among the loaded */
    size_t filters;      /* filter documents among the loaded */
    size_t unroutable;   /* detection rules no log-source entry routes */
    size_t warnings;     /* every warning printed */
    const struct sigma_map *map; /* NULL: routing not checked */
    const char *map_dir;
    struct buf out;  /* JSON error array, when json */
    struct buf wout; /* JSON warning array, when json */
    int out_full;
    /* Ids and names of the detection rules loaded, and what the filters
     * name, to warn of a filter that names no checked rule. */
    struct sigma_strv known;
    struct filter_ref {
        char *file, *ref; /* owned */
    } *refs;
    size_t nrefs;
};

/* Appends an owned copy of `s` to `v`; a failed copy only loses a name
 * from the cross-check (out of memory is reported by the loader anyway). */
static void strv_push(struct sigma_strv *v, const char *s)
{
    char **nv = realloc(v->v, (v->n + 1) * sizeof(char *));
    if (!nv)
        return;
    v->v = nv;
    if ((v->v[v->n] = strdup(s)))
        v->n++;
}

/* One warning: `kind` names it for --json, `msg` says it for people;
 * `r` (may be NULL) adds the rule's title and log source to the JSON. */
static void warn(struct check *c, const char *path, const char *kind, const struct sigma_rule *r,
                 const char *msg)
{
    struct buf *b = &c->wout;
    const char *names[] = {"product", "category", "service"};
    int rc;

    c->warnings++;
    if (!c->json) {
        printf("%s: warning: %s\n", path, msg);
        return;
    }
    rc = buf_puts(b, c->warnings > 1 ? ",\n    {\"file\": " : "\n    {\"file\": ");
    if (rc == 0)
        rc = buf_json_str(b, path, strlen(path));
    if (rc == 0)
        rc = buf_printf(b, ", \"kind\": \"%s\"", kind);
    if (rc == 0 && r) {
        const char *vals[] = {r->product, r->category, r->service};
        rc = buf_puts(b, ", \"title\": ");
        if (rc == 0)
            rc = buf_json_str(b, r->title ? r->title : "", r->title ? strlen(r->title) : 0);
        for (int i = 0; i < 3 && rc == 0; i++) {
            rc = buf_printf(b, ", \"%s\": ", names[i]);
            if (rc == 0)
                rc = vals[i] ? buf_json_str(b, vals[i], strlen(vals[i])) : buf_puts(b, "null");
        }
    }
    if (rc == 0)
        rc = buf_puts(b, ", \"message\": ");
    if (rc == 0)
        rc = buf_json_str(b, msg, strlen(msg));
    if (rc == 0)
        rc = buf_putc(b, '}');
    if (rc < 0)
        c->out_full = 1;
}

/* "product aws, service cloudtrail" of a rule, into out. */
static void logsource_text(const struct sigma_rule *r, char *out, size_t size)
{
    const char *names[] = {"product", "category", "service"};
    const char *vals[] = {r->product, r->category, r->service};
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        int w;
        if (!vals[i] || n >= size)
            continue;
        w = snprintf(out + n, size - n, "%s%s %.64s", n ? ", " : "", names[i], vals[i]);
        if (w > 0)
            n += (size_t)w;
    }
}

/* A detection rule the map cannot route never runs: say so, and which
 * entry is missing. */
static void check_routing(struct check *c, const char *path, const struct sigma_rule *r)
{
    char ls[256], msg[512];

    if (!c->map || sigma_map_find(c->map, r))
        return;
    c->unroutable++;
    logsource_text(r, ls, sizeof(ls));
    snprintf(msg, sizeof(msg),
             "rule never evaluated: no log-source mapping for %s (add an entry to "
             "%s/logsources.yaml)",
             ls, c->map_dir ? c->map_dir : "the mappings'");
    warn(c, path, "unroutable", r, msg);
}

static void report(struct check *c, const char *path, const struct sigma_err *e)
{
    if (!c->json) {
        if (e->at.line) /* 0: the whole rule, no one place in it */
            printf("%s:%u:%u: %s\n", path, e->at.line, e->at.col, e->reason);
        else
            printf("%s: %s\n", path, e->reason);
        return;
    }
    int r = buf_puts(&c->out, c->refused > 1 ? ",\n    {\"file\": " : "\n    {\"file\": ");
    if (r == 0)
        r = buf_json_str(&c->out, path, strlen(path));
    if (r == 0)
        r = buf_printf(&c->out, ", \"line\": %u, \"col\": %u, \"category\": ", e->at.line,
                       e->at.col);
    if (r == 0)
        r = buf_json_str(&c->out, e->at.msg ? e->at.msg : "", e->at.msg ? strlen(e->at.msg) : 0);
    if (r == 0)
        r = buf_puts(&c->out, ", \"reason\": ");
    if (r == 0)
        r = buf_json_str(&c->out, e->reason, strlen(e->reason));
    if (r == 0)
        r = buf_putc(&c->out, '}');
    if (r < 0)
        c->out_full = 1;
}

/* A file holds one or more documents (detection and correlation rules);
 * one refused document refuses the file, as when the engine loads it. */
static void check_file(struct check *c, const char *path)
{
    struct sigma_doc *docs = NULL;
    struct sigma_err err;
    size_t n = 0, w0;
    unsigned xof = 0;
    char msg[256];

    c->files++;
    if (sigma_load_docs_file(path, NULL, &docs, &n, &err) < 0) {
        c->refused++;
        report(c, path, &err);
        return;
    }
    /* The engine compiles every rule's literals into its prefilter and
     * refuses a rule whose literal Vectorscan will not take: so does the
     * check, with the same reason. */
    for (size_t i = 0; i < n; i++) {
        struct sigma_ruleset *rs = NULL;
        struct sigma_ruleset_err cerr;
        int r;

        if (!docs[i].rule)
            continue;
        r = sigma_ruleset_new_err(&docs[i].rule, 1, &rs, &cerr);
        sigma_ruleset_free(rs);
        if (r < 0) {
            memset(&err, 0, sizeof(err));
            err.at.msg = "prefilter";
            snprintf(err.reason, sizeof(err.reason),
                     "rule refused: its prefilter cannot be compiled: %.200s",
                     cerr.reason[0] ? cerr.reason : strerror(-r));
            c->refused++;
            report(c, path, &err);
            sigma_docs_free(docs, n);
            return;
        }
    }
    c->loaded++;
    w0 = c->warnings;
    for (size_t i = 0; i < n; i++) {
        if (docs[i].rule) {
            xof += docs[i].rule->nwarnings;
            check_routing(c, path, docs[i].rule);
            if (docs[i].rule->id)
                strv_push(&c->known, docs[i].rule->id);
            if (docs[i].rule->name)
                strv_push(&c->known, docs[i].rule->name);
        } else if (docs[i].filter) {
            const struct sigma_filter *f = docs[i].filter;
            c->filters++;
            if (sigma_filter_is_inclusive(f))
                warn(c, path, "filter_inclusive", f->det,
                     "the filter's condition has no 'not': it keeps only the matches it "
                     "selects (filters are applied as (rule) and (filter); write 'not "
                     "selection' to exclude)");
            for (size_t k = 0; k < f->rules.n; k++) {
                struct filter_ref *nr = realloc(c->refs, (c->nrefs + 1) * sizeof(*nr));
                if (!nr)
                    break;
                c->refs = nr;
                nr[c->nrefs].file = strdup(path);
                nr[c->nrefs].ref = strdup(f->rules.v[k]);
                if (nr[c->nrefs].file && nr[c->nrefs].ref)
                    c->nrefs++;
                else {
                    free(nr[c->nrefs].file);
                    free(nr[c->nrefs].ref);
                }
            }
        } else {
            c->correlations++;
        }
    }
    if (xof) {
        snprintf(msg, sizeof(msg),
                 "%u 'x of' pattern(s) in the condition name no search identifier", xof);
        warn(c, path, "x_of_names_nothing", NULL, msg);
    }
    if (c->warnings > w0)
        c->warned++;
    sigma_docs_free(docs, n);
}

static int has_rule_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".yml") == 0;
}

/* Files named on the command line are checked whatever their name; in
 * directories only *.yml (what the engine loads; the map and triage files
 * beside the rules are *.yaml), in name order, hidden entries skipped. */
static int check_path(struct check *c, const char *path, int explicit, int depth)
{
    struct stat st;
    struct dirent **ents = NULL;
    int n, r = 0;

    if (stat(path, &st) < 0) {
        if (explicit)
            fprintf(stderr, "hikeshi rules: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (explicit || has_rule_suffix(path))
            check_file(c, path);
        return 0;
    }
    if (depth > CLI_RULES_MAX_DEPTH)
        return 0;
    n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "hikeshi rules: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
            char *sub = malloc(len);
            if (sub) {
                snprintf(sub, len, "%s/%s", path, ents[i]->d_name);
                if (check_path(c, sub, 0, depth + 1) < 0)
                    r = -EIO;
                free(sub);
            } else {
                r = -ENOMEM;
            }
        }
        free(ents[i]);
    }
    free(ents);
    return r;
}

static void usage(FILE *out);

/* ==== rules test: one rule against events, explained ==== */

/* How much of a value or rule text one line of the explanation shows. */
#define CLI_RULES_SHOW_BYTES 80
#define CLI_RULES_SHOW_GROUPS 4 /* values of an item listed before "+N more" */
#define CLI_RULES_SHOW_ALTS 3   /* alternatives of one expanded value */
/* The explanation of one event: the rule is trusted, the event is not, and
 * the shown parts of it are clipped, so 1 MiB is ample. */
#define CLI_RULES_EVENT_OUT_CAP (1024 * 1024)

struct rtest {
    int json;
    const struct sigma_rule *rule;
    const struct sigma_map *map;
    const struct sigma_map_source *src; /* NULL: the rule is unroutable */
    const struct tz *tz; /* the configuration's zone; NULL: UTC */
    int64_t prev_us;     /* the previous record's time, for yearless ones */
    size_t events, matched;
    int io_err;
    struct arena arena;
    struct buf out; /* one event's explanation, human or JSON */
    unsigned char *truth; /* per search identifier */
};

/* Appends `s` quoted, with non-printable bytes as \xNN, clipped to `max`
 * bytes of input (JSON output uses buf_json_str instead). */
static void put_quoted(struct buf *b, const char *s, size_t len, size_t max)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            buf_printf(b, "\\x%02x", c);
        else if (c == '"')
            buf_puts(b, "\\\"");
        else
            buf_putc(b, (char)c);
    }
    buf_puts(b, len > max ? "...\"" : "\"");
}

/* A prepared wildcard pattern back as Sigma text: `*` and `?` for the
 * wildcards, literal ones escaped. */
static void put_pattern(struct buf *b, const struct sigma_pattern *p)
{
    size_t n = p->len < CLI_RULES_SHOW_BYTES ? p->len : CLI_RULES_SHOW_BYTES;

    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p->bytes[i];
        if (p->kind[i] == SIGMA_TOK_STAR)
            buf_putc(b, '*');
        else if (p->kind[i] == SIGMA_TOK_ONE)
            buf_putc(b, '?');
        else if (c < 0x20 || c == 0x7f)
            buf_printf(b, "\\x%02x", c);
        else if (c == '*' || c == '?' || c == '"')
            buf_printf(b, "\\%c", c);
        else
            buf_putc(b, (char)c);
    }
    buf_puts(b, p->len > n ? "...\"" : "\"");
}

static const char *const cmp_ops[] = {">", ">=", "<", "<="};
static const char *const anchor_mods[] = {"", "|contains", "|startswith", "|endswith"};

/* One prepared value as the rule author would recognise it. */
static void put_value(struct buf *b, const struct sigma_value *v)
{
    char addr[64];

    switch (v->kind) {
    case SIGMA_V_STRING:
        put_pattern(b, &v->pat);
        if (v->cased)
            buf_puts(b, " (cased)");
        break;
    case SIGMA_V_NUMBER: buf_printf(b, "%g", v->num); break;
    case SIGMA_V_BOOL: buf_puts(b, v->b ? "true" : "false"); break;
    case SIGMA_V_NULL: buf_puts(b, "null (absent)"); break;
    case SIGMA_V_REGEX: buf_puts(b, "(regular expression)"); break;
    case SIGMA_V_CIDR:
        if (!inet_ntop(v->family, v->net, addr, sizeof(addr)))
            snprintf(addr, sizeof(addr), "?");
        buf_printf(b, "%s/%u", addr, v->prefix);
        break;
    case SIGMA_V_EXISTS: buf_puts(b, v->b ? "(exists)" : "(does not exist)"); break;
    case SIGMA_V_FIELDREF:
        buf_printf(b, "(field %s%s)", v->ref ? v->ref : "?", anchor_mods[v->ref_mode & 3]);
        break;
    case SIGMA_V_CMP: buf_printf(b, "%s %g", cmp_ops[v->cmp & 3], v->num); break;
    }
}

/* The modifiers the loader kept visible in the prepared item; the others
 * (contains, windash, base64offset...) show in the values themselves. */
static const char *value_mod(const struct sigma_value *v)
{
    switch (v->kind) {
    case SIGMA_V_REGEX: return "|re";
    case SIGMA_V_CIDR: return "|cidr";
    case SIGMA_V_EXISTS: return "|exists";
    case SIGMA_V_FIELDREF: return "|fieldref";
    case SIGMA_V_CMP: return "|gt/gte/lt/lte";
    default: return "";
    }
}

/* `field|mods: values` of one detection item, clipped. */
/* Replaces the text appended to `b` since `mark` by the same text as a
 * JSON string (human-style text built once, quoted for --json). */
static void quote_since(struct buf *b, size_t mark)
{
    size_t n = b->len - mark;
    char *tmp = malloc(n + 1);

    if (!tmp)
        return;
    memcpy(tmp, b->data + mark, n);
    b->len = mark;
    buf_json_str(b, tmp, n);
    free(tmp);
}

static void put_item_rule(struct buf *b, const struct sigma_item *it)
{
    buf_puts(b, it->field ? it->field : "(keyword)");
    if (it->ngroups && it->groups[0].nalts)
        buf_puts(b, value_mod(&it->groups[0].alts[0]));
    if (it->all)
        buf_puts(b, "|all");
    if (it->neq)
        buf_puts(b, "|neq");
    buf_puts(b, ": ");
    for (size_t g = 0; g < it->ngroups && g < CLI_RULES_SHOW_GROUPS; g++) {
        const struct sigma_group *gr = &it->groups[g];
        if (g)
            buf_puts(b, it->all ? " and " : " or ");
        if (gr->nalts != 1)
            buf_puts(b, "one of {");
        for (size_t a = 0; a < gr->nalts && a < CLI_RULES_SHOW_ALTS; a++) {
            if (a)
                buf_puts(b, ", ");
            put_value(b, &gr->alts[a]);
        }
        if (gr->nalts > CLI_RULES_SHOW_ALTS)
            buf_printf(b, ", +%zu more", gr->nalts - CLI_RULES_SHOW_ALTS);
        if (gr->nalts != 1)
            buf_putc(b, '}');
    }
    if (it->ngroups > CLI_RULES_SHOW_GROUPS)
        buf_printf(b, " %s +%zu more", it->all ? "and" : "or",
                   it->ngroups - CLI_RULES_SHOW_GROUPS);
}

/* The evaluator's name rule (sigma_eval.c): exact, or the event name with
 * its spaces removed ("Source Name" is reached as SourceName). */
static int same_field(const char *name, const char *want)
{
    if (!name)
        return 0;
    for (;; name++, want++) {
        while (*name == ' ')
            name++;
        if (*name != *want)
            return 0;
        if (*name == '\0')
            return 1;
    }
}

/* The first value of field `want` in `ev` and how many it has (0: the
 * field is absent). */
static size_t event_values(const struct event *ev, const char *want, const char **ret_val,
                           size_t *ret_len)
{
    size_t n = 0;

    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (!same_field(field_name(ev->fields[i].id), want))
            continue;
        if (n++ == 0) {
            *ret_val = ev->fields[i].val;
            *ret_len = ev->fields[i].len;
        }
    }
    return n;
}

/* Evaluates one node of a detection with the reference evaluator: the node
 * is shallowly copied into a one-identifier rule, nothing is allocated. */
static int det_truth(const struct sigma_det *d, const struct event *ev)
{
    struct sigma_search s = {.name = NULL, .det = *d};
    struct sigma_rule r = {.searches = &s, .nsearches = 1};

    return sigma_eval_search(&r, 0, ev);
}

static void explain_item(struct rtest *t, const struct sigma_item *it, const struct event *ev,
                         int depth, int *first)
{
    struct buf *b = &t->out;
    struct sigma_det d = {.kind = SIGMA_DET_ITEM, .item = *it};
    int m = det_truth(&d, ev);
    const char *val = NULL;
    size_t vlen = 0, nvals = it->field ? event_values(ev, it->field, &val, &vlen) : 0;

    if (t->json) {
        buf_puts(b, *first ? "{\"field\": " : ", {\"field\": ");
        *first = 0;
        if (it->field)
            buf_json_str(b, it->field, strlen(it->field));
        else
            buf_puts(b, "null");
        buf_printf(b, ", \"depth\": %d, \"matched\": %s, \"rule\": ", depth < 0 ? 0 : depth,
                   m ? "true" : "false");
        /* The rule text is built human-style, then quoted. */
        size_t mark = b->len;
        put_item_rule(b, it);
        quote_since(b, mark);
        buf_puts(b, ", \"event_value\": ");
        if (nvals)
            buf_json_str(b, val, vlen);
        else
            buf_puts(b, "null");
        buf_printf(b, ", \"event_values\": %zu}", nvals);
        return;
    }
    buf_printf(b, "      %*s%-3s  ", depth < 0 ? 0 : depth * 2, "", m ? "yes" : "no");
    put_item_rule(b, it);
    if (!it->field) {
        buf_puts(b, "  -- searched in every field and the raw record\n");
        return;
    }
    buf_printf(b, "  -- %s = ", it->field);
    if (nvals) {
        put_quoted(b, val, vlen, CLI_RULES_SHOW_BYTES);
        if (nvals > 1)
            buf_printf(b, " (and %zu more values)", nvals - 1);
    } else {
        buf_puts(b, "absent");
    }
    buf_putc(b, '\n');
}

/* Walks a detection: maps are AND, lists OR; nested nodes say which.
 * Called with depth -1 for a search identifier's body. */
static void explain_det(struct rtest *t, const struct sigma_det *d, const struct event *ev,
                        int depth, int *first)
{
    if (d->kind == SIGMA_DET_ITEM) {
        explain_item(t, &d->item, ev, depth, first);
        return;
    }
    /* A one-entry map or list is its entry: no header line for it. */
    if (d->nsubs == 1) {
        explain_det(t, &d->subs[0], ev, depth, first);
        return;
    }
    /* depth -1: the identifier's own map or list, announced on its line. */
    if (depth >= 0 && !t->json)
        buf_printf(&t->out, "      %*s%-3s  %s:\n", depth * 2, "", det_truth(d, ev) ? "yes" : "no",
                   d->kind == SIGMA_DET_AND ? "all of" : "any of");
    for (size_t i = 0; i < d->nsubs; i++)
        explain_det(t, &d->subs[i], ev, depth + 1, first);
}

/* The condition back as text; with `truth`, each identifier replaced by its
 * truth value. */
static void put_cond(struct buf *b, const struct sigma_rule *r, const struct sigma_cond *c,
                     const unsigned char *truth, int parent)
{
    int paren;

    switch (c->op) {
    case SIGMA_COND_ID:
        buf_puts(b, truth ? (truth[c->ids[0]] ? "true" : "false") : r->searches[c->ids[0]].name);
        break;
    case SIGMA_COND_AND:
    case SIGMA_COND_OR:
        paren = parent != -1 && parent != (int)c->op;
        if (paren)
            buf_putc(b, '(');
        put_cond(b, r, c->a, truth, (int)c->op);
        buf_puts(b, c->op == SIGMA_COND_AND ? " and " : " or ");
        put_cond(b, r, c->b, truth, (int)c->op);
        if (paren)
            buf_putc(b, ')');
        break;
    case SIGMA_COND_NOT:
        buf_puts(b, "not ");
        put_cond(b, r, c->a, truth, (int)c->op);
        break;
    case SIGMA_COND_ONE_OF:
    case SIGMA_COND_ALL_OF:
        buf_puts(b, c->op == SIGMA_COND_ONE_OF ? "1 of (" : "all of (");
        for (size_t i = 0; i < c->nids; i++) {
            if (i)
                buf_puts(b, ", ");
            buf_puts(b, truth ? (truth[c->ids[i]] ? "true" : "false") : r->searches[c->ids[i]].name);
        }
        buf_putc(b, ')');
        break;
    }
}

/* "product linux, service sshd" */
static void put_logsource(struct buf *b, const struct sigma_rule *r)
{
    const char *names[] = {"product", "category", "service"};
    const char *vals[] = {r->product, r->category, r->service};
    int n = 0;

    for (int i = 0; i < 3; i++)
        if (vals[i])
            buf_printf(b, "%s%s %s", n++ ? ", " : "", names[i], vals[i]);
    if (!n)
        buf_puts(b, "no log source");
}

/* The fields that log-source routing looks at (rules/config/logsources.yaml),
 * to show what an event that a rule does not apply to looks like. */
static const char *const route_fields[] = {"Channel",       "EventID",        "process.name",
                                           "log.syslog.appname", "event.module", "event.dataset",
                                           "event.category", "event.action",  "EventType"};
#define NROUTE_FIELDS (sizeof(route_fields) / sizeof(route_fields[0]))

static void put_route_fields(struct rtest *t, const struct event *ev)
{
    struct buf *b = &t->out;
    int n = 0;

    for (size_t i = 0; i < NROUTE_FIELDS; i++) {
        const char *v = NULL;
        size_t len = 0;
        if (!event_values(ev, route_fields[i], &v, &len))
            continue;
        if (t->json) {
            buf_puts(b, n++ ? ", " : "");
            buf_json_str(b, route_fields[i], strlen(route_fields[i]));
            buf_puts(b, ": ");
            buf_json_str(b, v, len);
        } else {
            buf_printf(b, "%s%s ", n++ ? ", " : "", route_fields[i]);
            put_quoted(b, v, len, CLI_RULES_SHOW_BYTES);
        }
    }
    if (!n && !t->json)
        buf_puts(b, "none of the routing fields");
}

/* The explanation of one event as a JSON line into t->out: the rule, its
 * routing, each search with its items, the condition (plain and with the
 * searches' truth substituted) and whether it matched. */
static void explain_json(struct rtest *t, const char *path, size_t lineno, const struct event *ev,
                         int applies, int m)
{
    const struct sigma_rule *r = t->rule;
    struct buf *b = &t->out;
    int first;

    buf_printf(b, "{\"event\": %zu, \"file\": ", t->events);
    buf_json_str(b, path, strlen(path));
    buf_printf(b, ", \"line\": %zu, \"decoder\": ", lineno);
    if (ev->decoder)
        buf_json_str(b, ev->decoder, strlen(ev->decoder));
    else
        buf_puts(b, "null");
    buf_puts(b, ", \"rule\": {\"title\": ");
    buf_json_str(b, r->title ? r->title : "", r->title ? strlen(r->title) : 0);
    buf_puts(b, ", \"id\": ");
    buf_json_str(b, r->id ? r->id : "", r->id ? strlen(r->id) : 0);
    buf_puts(b, ", \"logsource\": ");
    {
        size_t mark = b->len;
        put_logsource(b, r);
        quote_since(b, mark);
    }
    buf_printf(b, "}, \"routable\": %s, \"applies\": %s, \"routing_fields\": {",
               t->src ? "true" : "false", applies ? "true" : "false");
    put_route_fields(t, ev);
    buf_puts(b, "}, \"searches\": [");
    for (size_t i = 0; i < r->nsearches; i++) {
        buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
        buf_json_str(b, r->searches[i].name, strlen(r->searches[i].name));
        buf_printf(b, ", \"matched\": %s, \"items\": [", t->truth[i] ? "true" : "false");
        first = 1;
        explain_det(t, &r->searches[i].det, ev, -1, &first);
        buf_puts(b, "]}");
    }
    buf_puts(b, "], \"condition\": ");
    if (r->cond) {
        size_t mark = b->len;
        put_cond(b, r, r->cond, NULL, -1);
        buf_puts(b, "\t");
        put_cond(b, r, r->cond, t->truth, -1);
        size_t n = b->len - mark;
        char *tmp = malloc(n + 1);
        if (tmp) {
            memcpy(tmp, b->data + mark, n);
            tmp[n] = '\0';
            char *tab = strchr(tmp, '\t');
            b->len = mark;
            if (tab) {
                buf_json_str(b, tmp, (size_t)(tab - tmp));
                buf_puts(b, ", \"substituted\": ");
                buf_json_str(b, tab + 1, strlen(tab + 1));
            }
            free(tmp);
        }
    } else {
        buf_puts(b, "null");
    }
    buf_printf(b, ", \"match\": %s}\n", m ? "true" : "false");
}

/* The explanation of one event as text into t->out: whether the rule
 * applies, each search's truth and items, the condition and the verdict. */
static void explain_text(struct rtest *t, const char *path, size_t lineno, const struct event *ev,
                         int applies, int m)
{
    const struct sigma_rule *r = t->rule;
    struct buf *b = &t->out;
    int first = 1, w = 12;

    buf_printf(b, "event %zu (%s line %zu, decoder %s): rule ", t->events, path, lineno,
               ev->decoder ? ev->decoder : "none, kept raw");
    put_quoted(b, r->title ? r->title : "", r->title ? strlen(r->title) : 0, 200);
    buf_printf(b, " (id %s) ", r->id ? r->id : "-");
    if (applies) {
        buf_puts(b, "applies (");
        put_logsource(b, r);
        buf_puts(b, ")\n");
    } else {
        buf_puts(b, "does NOT apply: it wants ");
        put_logsource(b, r);
        buf_puts(b, t->src ? "" : " (unknown to the map: the engine never evaluates it)");
        buf_puts(b, "; the event has ");
        put_route_fields(t, ev);
        buf_puts(b, "\n");
    }
    for (size_t i = 0; i < r->nsearches; i++)
        if (strlen(r->searches[i].name) > (size_t)w && strlen(r->searches[i].name) < 64)
            w = (int)strlen(r->searches[i].name);
    for (size_t i = 0; i < r->nsearches; i++) {
        const struct sigma_det *dt = &r->searches[i].det;
        buf_printf(b, "  %-*s %-5s%s\n", w, r->searches[i].name, t->truth[i] ? "true" : "false",
                   dt->kind == SIGMA_DET_ITEM || dt->nsubs == 1 ? ""
                   : dt->kind == SIGMA_DET_AND                  ? "  all of:"
                                                                : "  any of:");
        explain_det(t, dt, ev, -1, &first);
    }
    if (r->cond) {
        buf_puts(b, "  condition: ");
        put_cond(b, r, r->cond, NULL, -1);
        buf_puts(b, "  =>  ");
        put_cond(b, r, r->cond, t->truth, -1);
        buf_printf(b, "  =>  %s%s\n", m ? "MATCH" : "no match",
                   applies ? "" : " (log source does not apply)");
    }
}

/* Decodes, routes and explains one record; prints the explanation. */
static void test_record(struct rtest *t, const char *path, size_t lineno, const char *rec,
                        size_t len, const struct decoder *d, int64_t ref_us)
{
    const struct sigma_rule *r = t->rule;
    struct decode_ctx ctx = {.ref_us = ref_us, .prev_us = t->prev_us, .tz = t->tz};
    struct parse_err perr = {0};
    struct event ev;
    struct buf *b = &t->out;
    int applies, m, dr;

    t->events++;
    buf_reset(b);
    event_init(&ev, &t->arena, rec, len, ref_us);
    dr = decode_record(&ev, d, &ctx, &perr);
    if (dr == 0 && ev.has_time)
        t->prev_us = ev.time_us;
    if (dr < 0) {
        /* As the pipeline does: kept raw, no fields. */
        ev.nfields = 0;
        ev.decoder = NULL;
    }
    /* The engine skips an event it cannot augment; explaining it anyway
     * would describe an evaluation that never happens. */
    if (sigma_map_augment(t->map, &ev) < 0) {
        fprintf(stderr, "hikeshi rules test: %s line %zu: out of memory\n", path, lineno);
        t->io_err = 1;
        event_reset(&ev);
        return;
    }
    applies = t->src ? sigma_map_source_matches(t->src, &ev) : 0;
    m = sigma_eval_explain(r, &ev, t->truth);
    if (!applies)
        m = 0;
    t->matched += (size_t)m;

    if (t->json)
        explain_json(t, path, lineno, &ev, applies, m);
    else
        explain_text(t, path, lineno, &ev, applies, m);
    fwrite(b->data ? b->data : "", 1, b->len, stdout);
    event_reset(&ev);
}

static int64_t file_time(const char *path)
{
    struct stat st;

    if (strcmp(path, "-") != 0 && stat(path, &st) == 0)
        return (int64_t)st.st_mtime * 1000000 + st.st_mtim.tv_nsec / 1000;
    return time_now_us();
}

/* EVTX files record by record (always the winxml decoder), anything else
 * line by line with auto-detection, as `hikeshi scan` reads them. */
static void test_events(struct rtest *t, const char *path)
{
    int64_t ref = file_time(path);
    const char *rec;
    size_t len, n = 0;
    unsigned flags;
    int r;

    if (strcmp(path, "-") != 0 && input_evtx_is_evtx(path)) {
        struct input_evtx *x = NULL;
        const struct decoder *winxml = decode_lookup("winxml");
        if ((r = input_evtx_open(path, &x)) < 0) {
            fprintf(stderr, "hikeshi rules test: %s: %s\n", path,
                    r == -EINVAL ? "unreadable EVTX file header" : strerror(-r));
            t->io_err = 1;
            return;
        }
        while ((r = input_evtx_next(x, &rec, &len)) == 1)
            test_record(t, path, ++n, rec, len, winxml, ref);
        input_evtx_free(x);
    } else {
        struct line_reader *lr = NULL;
        if ((r = line_reader_open(path, LIMIT_LINE_DEFAULT, &lr)) < 0) {
            fprintf(stderr, "hikeshi rules test: %s: %s\n", path, strerror(-r));
            t->io_err = 1;
            return;
        }
        while ((r = line_reader_next(lr, &rec, &len, &flags)) == 1) {
            n++;
            /* Blank lines separate nothing and are no events. */
            if (len == 0)
                continue;
            test_record(t, path, n, rec, len, NULL, ref);
        }
        line_reader_free(lr);
    }
    if (r < 0) {
        fprintf(stderr, "hikeshi rules test: %s: %s\n", path, strerror(-r));
        t->io_err = 1;
    }
}

static int rules_test_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rtest t;
    struct config *cfg = NULL;
    struct sigma_rule *rule = NULL;
    struct sigma_map *map = NULL;
    struct sigma_err err;
    const char *cfg_path = NULL;
    char ls[4096], fl[4096];
    int ch, rc = CLI_EXIT_USAGE;

    memset(&t, 0, sizeof(t));
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': cfg_path = optarg; break;
        case 'j': t.json = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("rules", "unknown or incomplete option");
        }
    }
    if (argc - optind < 2)
        return cli_usage_error("rules", "test needs a RULE and at least one EVENT file ('-' "
                                        "for standard input)");
    if (!(cfg = cli_load_config(cfg_path)))
        return CLI_EXIT_USAGE;
    if (!cfg->sigma_mappings) {
        fprintf(stderr, "hikeshi rules test: no sigma.mappings directory in the configuration\n");
        goto out;
    }
    snprintf(ls, sizeof(ls), "%s/logsources.yaml", cfg->sigma_mappings);
    snprintf(fl, sizeof(fl), "%s/fields.yaml", cfg->sigma_mappings);
    if (sigma_map_load(ls, fl, &map, &err) < 0) {
        fprintf(stderr, "hikeshi rules test: Sigma mappings in %s: %s\n", cfg->sigma_mappings,
                err.reason);
        goto out;
    }
    if (sigma_load_file(argv[optind], NULL, &rule, &err) < 0) {
        fprintf(stderr, "%s:%u:%u: %s\n", argv[optind], err.at.line, err.at.col, err.reason);
        goto out;
    }
    t.rule = rule;
    t.map = map;
    t.src = sigma_map_find(map, rule);
    t.tz = cfg->tz;
    t.truth = calloc(rule->nsearches ? rule->nsearches : 1, 1);
    if (!t.truth) {
        fprintf(stderr, "hikeshi rules test: out of memory\n");
        goto out;
    }
    arena_init(&t.arena, LIMIT_ARENA_MAX);
    buf_init(&t.out, CLI_RULES_EVENT_OUT_CAP);
    for (int i = optind + 1; i < argc; i++)
        test_events(&t, argv[i]);
    if (!t.json)
        printf("%zu event(s), %zu matched\n", t.events, t.matched);
    fflush(stdout);
    if (t.io_err)
        rc = CLI_EXIT_USAGE;
    else
        rc = t.events > 0 && t.matched == t.events ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    buf_done(&t.out);
    arena_done(&t.arena);
out:
    free(t.truth);
    sigma_rule_free(rule);
    sigma_map_free(map);
    config_free(cfg);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hikeshi rules check [-c CONFIG] [--strict] [--json] PATH...\n"
            "       hikeshi rules test [-c CONFIG] [--json] RULE EVENT...\n\n"
            "check: loads every Sigma rule in the files and directories given\n"
            "(directories recursively, *.yml) and reports each rule that cannot be\n"
            "loaded as FILE:LINE:COL: reason.  It warns (FILE: warning: ...) of each\n"
            "rule that loads but is never evaluated because sigma.mappings of CONFIG\n"
            "has no log-source entry for its product, category and service, of 'x of'\n"
            "patterns that name nothing, and of filter rules that name no checked rule\n"
            "or keep rather than exclude.  Exit status: 0 all loaded (warnings\n"
            "allowed), 1 some refused or, with --strict, any warning, 2 usage error.\n\n"
            "test: runs the rule RULE against every record of the EVENT files (one\n"
            "record a line: syslog, JSON, event XML; Windows EVTX files record by\n"
            "record; '-' for standard input; blank lines skipped), decoded and mapped\n"
            "as the daemon does, and explains each: whether the rule's log source\n"
            "applies, each search identifier and item with the event's value, the\n"
            "condition with the truth values, MATCH or no match.  The field and\n"
            "log-source maps come from sigma.mappings of CONFIG (default: built in).\n"
            "Exit status: 0 every event matched, 1 some did not (or no events),\n"
            "2 usage error, rule refused (FILE:LINE:COL: reason) or unreadable input.\n\n"
            "  -c, --config FILE  the configuration (its sigma.mappings)\n"
            "  --strict           check: warnings fail (exit 1)\n"
            "  --json             check: one JSON object with the counts, the\n"
            "                     refusals and the warnings; test: one JSON object\n"
            "                     per event\n"
            "  -h, --help         this text\n");
}

/* Loads the map of the configuration's sigma.mappings for the routing
 * check; *ret_map stays NULL (routing not checked) when none is set, or
 * when the built-in default (no CONFIG) cannot be read. */
static int check_load_map(const char *cfg_path, struct config **ret_cfg, struct sigma_map **ret_map)
{
    struct sigma_err err;
    char ls[4096], fl[4096];
    struct config *cfg = cli_load_config(cfg_path);

    *ret_cfg = cfg;
    *ret_map = NULL;
    if (!cfg)
        return -EINVAL;
    if (!cfg->sigma_mappings) {
        fprintf(stderr, "hikeshi rules check: no sigma.mappings directory: log sources not "
                        "checked\n");
        return 0;
    }
    snprintf(ls, sizeof(ls), "%s/logsources.yaml", cfg->sigma_mappings);
    snprintf(fl, sizeof(fl), "%s/fields.yaml", cfg->sigma_mappings);
    if (sigma_map_load(ls, fl, ret_map, &err) < 0) {
        fprintf(stderr, "hikeshi rules check: Sigma mappings in %s: %s%s\n", cfg->sigma_mappings,
                err.reason, cfg_path ? "" : " (log sources not checked)");
        /* As the daemon does: bundled defaults that are not there are
         * warned of and done without; a file's setting must load. */
        return cfg_path ? -EINVAL : 0;
    }
    return 0;
}

/* Warns of each filter reference no checked rule carries as id or name. */
static void check_filter_refs(struct check *c)
{
    char msg[512];

    for (size_t i = 0; i < c->nrefs; i++) {
        size_t k;
        for (k = 0; k < c->known.n; k++)
            if (strcmp(c->known.v[k], c->refs[i].ref) == 0)
                break;
        if (k < c->known.n)
            continue;
        snprintf(msg, sizeof(msg), "the filter names rule '%.200s', which no checked rule has "
                                   "as id or name",
                 c->refs[i].ref);
        warn(c, c->refs[i].file, "filter_names_unknown_rule", NULL, msg);
    }
}

static void check_done(struct check *c)
{
    for (size_t i = 0; i < c->known.n; i++)
        free(c->known.v[i]);
    free(c->known.v);
    for (size_t i = 0; i < c->nrefs; i++) {
        free(c->refs[i].file);
        free(c->refs[i].ref);
    }
    free(c->refs);
    buf_done(&c->out);
    buf_done(&c->wout);
}

static int rules_check_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"strict", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct check c;
    struct config *cfg = NULL;
    struct sigma_map *map = NULL;
    const char *cfg_path = NULL;
    int ch, io_err = 0, rc;

    memset(&c, 0, sizeof(c));
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': cfg_path = optarg; break;
        case 'j': c.json = 1; break;
        case 's': c.strict = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("rules", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("rules", "no PATH given");
    if (check_load_map(cfg_path, &cfg, &map) < 0) {
        config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    c.map = map;
    c.map_dir = cfg->sigma_mappings;

    buf_init(&c.out, CLI_RULES_JSON_CAP);
    buf_init(&c.wout, CLI_RULES_JSON_CAP);
    for (int i = optind; i < argc; i++)
        if (check_path(&c, argv[i], 1, 0) < 0)
            io_err = 1;
    check_filter_refs(&c);
    if (c.json) {
        printf("{\"files\": %zu, \"loaded\": %zu, \"refused\": %zu, \"warned\": %zu, "
               "\"correlations\": %zu, \"filters\": %zu, \"unroutable\": %zu, "
               "\"warnings_total\": %zu, \"routing_checked\": %s, \"truncated\": %s, "
               "\"errors\": [%.*s%s], \"warnings\": [%.*s%s]}\n",
               c.files, c.loaded, c.refused, c.warned, c.correlations, c.filters, c.unroutable,
               c.warnings, c.map ? "true" : "false", c.out_full ? "true" : "false",
               (int)c.out.len, c.out.data ? c.out.data : "", c.refused ? "\n" : "",
               (int)c.wout.len, c.wout.data ? c.wout.data : "", c.warnings ? "\n" : "");
    } else {
        printf("%zu rule file(s): %zu loaded (%zu correlation, %zu filter rules among them), "
               "%zu refused, %zu with warnings; %zu warning(s), %zu rule(s) never evaluated "
               "(no log-source mapping)%s\n",
               c.files, c.loaded, c.correlations, c.filters, c.refused, c.warned, c.warnings,
               c.unroutable, c.map ? "" : " [log sources not checked]");
    }
    rc = (c.refused || io_err || (c.strict && c.warnings)) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    check_done(&c);
    sigma_map_free(map);
    config_free(cfg);
    return rc;
}

int cli_rules_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return rules_check_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "test") == 0)
        return rules_test_main(argc - 1, argv + 1);
    return cli_usage_error("rules", "expected the sub-command 'check' or 'test'");
}
