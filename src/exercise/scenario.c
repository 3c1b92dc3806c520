/*
 * scenario.c - reading a tabletop exercise scenario (scenario.h,
 * docs/exercise.md) and expanding its record templates.
 *
 * The file is walked with util/ydoc's keyword tables, so an unknown or
 * repeated key is an error at its line rather than a setting silently
 * ignored: a scenario that is wrong says so when it is loaded, not in the
 * middle of an exercise with the team watching.
 */
#include "exercise/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "triage/triage.h"
#include "util/buf.h"
#include "util/jp.h"
#include "util/ydoc.h"

#define US_PER_S INT64_C(1000000)

/* Parse state: the scenario being built and the stage being read. */
struct sc_build {
    struct scenario *s;
    struct scenario_stage *stage; /* while a stage's keys are walked */
    size_t stage_idx;
    struct scenario_record *rec;   /* while a record's keys are walked */
    struct scenario_message *msg;  /* while a message's keys are walked */
    struct scenario_decision *dec; /* while a decision's keys are walked */
    struct scenario_detection *det;
    int have_at, have_text, have_fmt, have_every, ndeckind, ndetkind, have_within, have_until;
};

static const char *const fmt_names[] = {"syslog", "eve", "web", "winevent"};
static const char *const dec_names[] = {"declare", "isolate", "preserve_evidence",
                                        "notify",  "report",  "withhold"};
static const char *const det_names[] = {"rule", "incident", "kill_chain"};
static const char *const level_names[] = {"green", "yellow", "orange", "red"};
static const char *const report_kinds[] = {"first", "interim1", "interim2", "final"};

const char *scenario_fmt_name(enum scenario_fmt f)
{
    return (unsigned)f < 4 ? fmt_names[f] : "?";
}

const char *scenario_dec_kind_name(enum scenario_dec_kind k)
{
    return (unsigned)k < SCENARIO_DEC_COUNT ? dec_names[k] : "?";
}

const char *scenario_det_kind_name(enum scenario_det_kind k)
{
    return (unsigned)k < 3 ? det_names[k] : "?";
}

void scenario_free(struct scenario *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->name);
    free(s->title);
    free(s->description);
    for (size_t i = 0; i < s->nvars; i++) {
        free(s->vars[i].name);
        free(s->vars[i].value);
    }
    free(s->vars);
    for (size_t i = 0; i < s->nstages; i++)
        free(s->stages[i].name);
    free(s->stages);
    for (size_t i = 0; i < s->nrecords; i++)
        free(s->records[i].text);
    free(s->records);
    for (size_t i = 0; i < s->nmessages; i++) {
        free(s->messages[i].from);
        free(s->messages[i].channel);
        free(s->messages[i].text);
    }
    free(s->messages);
    for (size_t i = 0; i < s->ndetections; i++)
        free(s->detections[i].value);
    free(s->detections);
    for (size_t i = 0; i < s->ndecisions; i++) {
        free(s->decisions[i].category);
        free(s->decisions[i].target);
    }
    free(s->decisions);
    free(s);
}

int scenario_err_format(char *buf, size_t size, const char *file, const struct parse_err *e)
{
    return ydoc_err_format(buf, size, file, e);
}

/* ---- expansion ---------------------------------------------------------- */

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The value of var `name` (len bytes), or NULL. */
static const char *var_get(const struct scenario *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nvars; i++)
        if (strlen(s->vars[i].name) == len && memcmp(s->vars[i].name, name, len) == 0)
            return s->vars[i].value;
    return NULL;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Appends one time placeholder `name`; 1 when it was one, 0 when not. */
static int put_time(struct buf *out, const char *name, size_t len, const struct scenario_clock *clk,
                    int *ret_r)
{
    time_t t = (time_t)(clk->time_us / US_PER_S);
    struct tm tm;

    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    if (len == 2 && memcmp(name, "ts", 2) == 0)
        *ret_r = buf_printf(out, "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
                            tm.tm_hour, tm.tm_min, tm.tm_sec);
    else if (len == 3 && memcmp(name, "iso", 3) == 0)
        *ret_r = buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                            (int)(clk->time_us % US_PER_S));
    else if (len == 3 && memcmp(name, "clf", 3) == 0)
        *ret_r =
            buf_printf(out, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon % 12],
                       tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else if (len == 5 && memcmp(name, "epoch", 5) == 0)
        *ret_r = buf_printf(out, "%" PRId64, clk->time_us / US_PER_S);
    else if (len == 1 && name[0] == 'n')
        *ret_r = buf_printf(out, "%" PRIu32, clk->n);
    else if (len == 3 && memcmp(name, "run", 3) == 0)
        *ret_r = buf_puts(out, clk->run ? clk->run : "");
    else
        return 0;
    return 1;
}

/* 1 when `name` is one of the placeholders scenario_expand provides. */
static int is_builtin(const char *name)
{
    static const char *const b[] = {"ts", "iso", "clf", "epoch", "n", "run"};

    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
        if (strcmp(name, b[i]) == 0)
            return 1;
    return 0;
}

int scenario_expand(const struct scenario *s, const char *tmpl, const struct scenario_clock *clk,
                    struct buf *out, const char **ret_why)
{
    const char *p = tmpl, *dollar;
    size_t start = out->len;
    int r = 0;

    *ret_why = NULL;
    while ((dollar = strstr(p, "${")) != NULL) {
        const char *name = dollar + 2, *end = name;
        const char *v;

        if ((r = buf_append(out, p, (size_t)(dollar - p))) < 0)
            goto out;
        while (is_name_char(*end))
            end++;
        if (*end != '}' || end == name) {
            *ret_why = "a placeholder is ${name} with name of a-z, 0-9 and _";
            r = -EINVAL;
            goto out;
        }
        if ((v = var_get(s, name, (size_t)(end - name))) != NULL)
            r = buf_puts(out, v);
        else if (!put_time(out, name, (size_t)(end - name), clk, &r)) {
            *ret_why = "unknown placeholder (not a var, nor ts, iso, clf, epoch, n, run)";
            r = -EINVAL;
            goto out;
        }
        if (r < 0)
            goto out;
        p = end + 1;
    }
    r = buf_puts(out, p);
out:
    if (r == 0 && out->len - start > SCENARIO_TEMPLATE_MAX)
        r = -E2BIG;
    if (r == -E2BIG && !*ret_why)
        *ret_why = "the expanded record is longer than 8192 bytes";
    if (r < 0)
        out->len = start, out->data ? out->data[start] = '\0' : 0;
    return r;
}

/* ---- small getters ------------------------------------------------------ */

/* A relative time: "0s", "90s", "5m"...; 0 allowed. */
static int get_at(struct ydoc *d, yaml_node_t *v, int64_t *ret_us)
{
    const char *s;
    size_t len;
    int64_t sec = 0;
    int r;

    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    r = ydoc_parse_duration(s, len, YDOC_DUR_BARE, &sec);
    if (r == -EDOM)
        return ydoc_failf(d, v, "time unit is not s, m, h or d");
    if (r < 0 || sec < 0)
        return ydoc_failf(d, v, "expected a time from the start such as 0s, 90s, 5m or 2h");
    if (sec * US_PER_S > SCENARIO_MAX_SPAN_US)
        return ydoc_failf(d, v, "at most 30 days from the start");
    *ret_us = sec * US_PER_S;
    return 0;
}

/* A string without newline, carriage return or NUL, min..max bytes. */
static int get_line(struct ydoc *d, yaml_node_t *v, size_t min, size_t max, char **dst)
{
    int r = ydoc_strdup(d, v, min, max, dst);

    if (r < 0)
        return r;
    if (strpbrk(*dst, "\r\n"))
        return ydoc_failf(d, v, "must be one line (no newline)");
    return 0;
}

/* An identifier of [a-z0-9_-], 1..SCENARIO_NAME_MAX. */
static int get_ident(struct ydoc *d, yaml_node_t *v, char **dst)
{
    int r = ydoc_strdup(d, v, 1, SCENARIO_NAME_MAX, dst);

    if (r < 0)
        return r;
    for (const char *p = *dst; *p; p++)
        if (!is_name_char(*p) && *p != '-')
            return ydoc_failf(d, v, "only a-z, 0-9, _ and - are allowed");
    return 0;
}

/* Grows *arr of *n items of `size` bytes by one zeroed item (cap `max`). */
static void *grow(struct ydoc *d, yaml_node_t *at, void **arr, size_t *n, size_t size, size_t max,
                  const char *toomany, int *ret_r)
{
    void *p;

    if (*n >= max) {
        *ret_r = ydoc_fail(d, at, toomany);
        return NULL;
    }
    if (!(p = realloc(*arr, (*n + 1) * size))) {
        *ret_r = -ENOMEM;
        return NULL;
    }
    *arr = p;
    memset((char *)p + *n * size, 0, size);
    return (char *)p + (*n)++ * size;
}

/* ---- vars, targets ------------------------------------------------------ */

static int var_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    struct scenario_var *var;
    const char *name;
    size_t len;
    int r = 0;

    name = ydoc_scalar(k, &len);
    if (!name || len == 0 || len > SCENARIO_VAR_NAME_MAX)
        return ydoc_fail(d, k, "a var's name is 1 to 64 characters");
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(name[i]))
            return ydoc_fail(d, k, "a var's name holds only a-z, 0-9 and _");
    if (is_builtin(name))
        return ydoc_fail(d, k, "ts, iso, clf, epoch, n and run are placeholders of their own");
    if (var_get(b->s, name, len))
        return ydoc_fail(d, k, "var given twice");
    if (!(var = grow(d, k, (void **)&b->s->vars, &b->s->nvars, sizeof(*var), SCENARIO_MAX_VARS,
                     "too many vars (at most 128)", &r)))
        return r;
    if (!(var->name = strndup(name, len)))
        return -ENOMEM;
    return get_line(d, v, 0, SCENARIO_VAR_VALUE_MAX, &var->value);
}

static int kw_vars(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_pairs(d, v, var_pair, arg);
}

static int kw_t_first_aid(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_duration(d, v, 0, &((struct sc_build *)arg)->s->first_aid_us);
}

static int kw_t_emergency(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_duration(d, v, 0, &((struct sc_build *)arg)->s->emergency_us);
}

static const struct ydoc_key target_keys[] = {
    {"emergency", kw_t_emergency},
    {"first_aid", kw_t_first_aid},
};
static const struct ydoc_table target_table = {target_keys, YDOC_NKEYS(target_keys),
                                               "targets is a mapping: first_aid, emergency", NULL};

static int kw_targets(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_walk(d, v, &target_table, arg);
}

/* ---- stages: records and messages --------------------------------------- */

static int kw_r_at(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    b->have_at = 1;
    return get_at(d, v, b->rec ? &b->rec->at_us : &b->msg->at_us);
}

static int kw_r_format(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    int f = 0, r;

    (void)k;
    if ((r = ydoc_name(d, v, fmt_names, 4, 0, NULL, &f)) < 0)
        return r;
    b->rec->fmt = (enum scenario_fmt)f;
    b->have_fmt = 1;
    return 0;
}

static int kw_r_repeat(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    uint64_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_uint(d, v, 1, SCENARIO_MAX_REPEAT, NULL, &n)) < 0)
        return r;
    b->rec->repeat = (uint32_t)n;
    return 0;
}

static int kw_r_every(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    b->have_every = 1;
    return ydoc_duration(d, v, YDOC_DUR_BARE, &b->rec->every_us);
}

static int kw_r_text(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    b->have_text = 1;
    if (b->rec)
        return get_line(d, v, 1, SCENARIO_TEMPLATE_MAX, &b->rec->text);
    return ydoc_strdup(d, v, 1, SCENARIO_TEXT_MAX, &b->msg->text);
}

static const struct ydoc_key record_keys[] = {
    {"at", kw_r_at},         {"every", kw_r_every}, {"format", kw_r_format},
    {"repeat", kw_r_repeat}, {"text", kw_r_text},
};
static const struct ydoc_table record_table = {
    record_keys, YDOC_NKEYS(record_keys),
    "a record is a mapping: at, format, text, and repeat, every", NULL};

/* The expanded dummy record fits its format; -EINVAL recorded at n. */
static int check_format(struct ydoc *d, yaml_node_t *n, enum scenario_fmt f, const char *x,
                        size_t len)
{
    struct jp_span sp;
    struct parse_err pe;
    size_t i = 0;

    switch (f) {
    case SCENARIO_FMT_SYSLOG:
        if (x[0] != '<')
            return ydoc_fail(d, n, "a syslog record starts with its <PRI>, e.g. <38>");
        for (i = 1; i < len && i < 5 && isdigit((unsigned char)x[i]); i++)
            ;
        if (i == 1 || i >= len || x[i] != '>')
            return ydoc_fail(d, n, "a syslog record starts with <PRI>: 1 to 3 digits in < >");
        return 0;
    case SCENARIO_FMT_EVE:
    case SCENARIO_FMT_WINEVENT:
        if (jp_doc(x, len, &sp, &pe) < 0 || sp.p[0] != '{')
            return ydoc_fail(d, n, "an eve or winevent record must expand to one JSON object");
        return 0;
    case SCENARIO_FMT_WEB:
        if (x[0] == '{' || x[0] == '<')
            return ydoc_fail(d, n, "a web record is an access log line, not JSON or syslog");
        return 0;
    }
    return 0;
}

/* Expands `tmpl` with dummy times: refuses unknown placeholders at load. */
static int check_template(struct ydoc *d, yaml_node_t *n, const struct scenario *s,
                          const char *tmpl, int fmt)
{
    struct scenario_clock clk = {1767225600LL * US_PER_S, 1, "check"};
    struct buf out;
    const char *why = NULL;
    int r;

    buf_init(&out, SCENARIO_TEMPLATE_MAX * 2);
    r = scenario_expand(s, tmpl, &clk, &out, &why);
    if (r == -ENOMEM) {
        buf_done(&out);
        return r;
    }
    if (r < 0) {
        buf_done(&out);
        return ydoc_failf(d, n, "%s", why ? why : "cannot be expanded");
    }
    if (fmt >= 0)
        r = check_format(d, n, (enum scenario_fmt)fmt, out.data ? out.data : "", out.len);
    buf_done(&out);
    return r;
}

static int one_record(struct ydoc *d, yaml_node_t *n, struct sc_build *b)
{
    struct scenario_record *rec;
    int r = 0;

    if (!(rec = grow(d, n, (void **)&b->s->records, &b->s->nrecords, sizeof(*rec),
                     SCENARIO_MAX_TEMPLATES, "too many record templates (at most 1024)", &r)))
        return r;
    rec->repeat = 1;
    rec->stage = b->stage_idx;
    rec->line = ydoc_line(n);
    b->rec = rec;
    b->have_at = b->have_text = b->have_fmt = b->have_every = 0;
    r = ydoc_walk(d, n, &record_table, b);
    b->rec = NULL;
    if (r < 0)
        return r;
    if (!b->have_text || !b->have_fmt)
        return ydoc_fail(d, n, "a record needs format and text");
    if (rec->repeat > 1 && !b->have_every)
        return ydoc_fail(d, n, "a record repeated needs every");
    if (rec->repeat == 1)
        rec->every_us = 0;
    rec->at_us += b->stage->at_us;
    if (rec->at_us + (int64_t)(rec->repeat - 1) * rec->every_us > SCENARIO_MAX_SPAN_US)
        return ydoc_fail(d, n, "the record's repeats end more than 30 days after the start");
    b->s->total_records += rec->repeat;
    if (b->s->total_records > SCENARIO_MAX_RECORDS)
        return ydoc_fail(d, n, "more than 200000 records in the whole scenario");
    return check_template(d, n, b->s, rec->text, (int)rec->fmt);
}

static int kw_m_from(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return get_line(d, v, 1, SCENARIO_NAME_MAX * 4, &((struct sc_build *)arg)->msg->from);
}

static int kw_m_channel(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return get_line(d, v, 1, SCENARIO_NAME_MAX, &((struct sc_build *)arg)->msg->channel);
}

static const struct ydoc_key message_keys[] = {
    {"at", kw_r_at},
    {"channel", kw_m_channel},
    {"from", kw_m_from},
    {"text", kw_r_text},
};
static const struct ydoc_table message_table = {message_keys, YDOC_NKEYS(message_keys),
                                                "a message is a mapping: at, from, channel, text",
                                                NULL};

static int one_message(struct ydoc *d, yaml_node_t *n, struct sc_build *b)
{
    struct scenario_message *m;
    struct scenario_clock clk = {0, 1, ""};
    struct buf out;
    const char *why;
    int r = 0;

    if (!(m = grow(d, n, (void **)&b->s->messages, &b->s->nmessages, sizeof(*m),
                   SCENARIO_MAX_MESSAGES, "too many messages (at most 256)", &r)))
        return r;
    m->stage = b->stage_idx;
    m->line = ydoc_line(n);
    b->msg = m;
    b->have_at = b->have_text = 0;
    r = ydoc_walk(d, n, &message_table, b);
    b->msg = NULL;
    if (r < 0)
        return r;
    if (!m->from || !b->have_text)
        return ydoc_fail(d, n, "a message needs from and text");
    if (!m->channel && !(m->channel = strdup("message")))
        return -ENOMEM;
    m->at_us += b->stage->at_us;
    /* People read the text as written: vars are filled in now, once. */
    buf_init(&out, SCENARIO_TEXT_MAX + SCENARIO_TEMPLATE_MAX);
    if ((r = scenario_expand(b->s, m->text, &clk, &out, &why)) < 0) {
        buf_done(&out);
        return r == -ENOMEM ? r : ydoc_failf(d, n, "text: %s", why ? why : "cannot be expanded");
    }
    free(m->text);
    m->text = out.data ? out.data : strdup("");
    return m->text ? 0 : -ENOMEM;
}

static int kw_s_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    int r;

    (void)k;
    if ((r = get_ident(d, v, &b->stage->name)) < 0)
        return r;
    for (size_t i = 0; i < b->stage_idx; i++)
        if (strcmp(b->s->stages[i].name, b->stage->name) == 0)
            return ydoc_failf(d, v, "two stages are named %s", b->stage->name);
    return 0;
}

static int kw_s_at(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return get_at(d, v, &((struct sc_build *)arg)->stage->at_us);
}

/* A kill-chain stage by triage's name ("command and control") or the
 * short forms recon, c2, actions. */
static int stage_code(const char *s)
{
    if (strcasecmp(s, "c2") == 0)
        return TRIAGE_STAGE_C2;
    if (strcasecmp(s, "actions") == 0)
        return TRIAGE_STAGE_ACTIONS;
    for (int i = 1; i < TRIAGE_STAGE_COUNT; i++)
        if (strcasecmp(s, triage_stage_name((enum triage_stage)i)) == 0)
            return i;
    return 0;
}

static int kw_s_kill_chain(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s;
    size_t len;
    int r, c;

    (void)k;
    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (!(c = stage_code(s)))
        return ydoc_failf(d, v,
                          "not a kill-chain stage (recon, weaponization, delivery, "
                          "exploitation, installation, c2, actions)");
    ((struct sc_build *)arg)->stage->kill_chain = c;
    return 0;
}

static int kw_s_records(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_list(d, v, 0, SCENARIO_MAX_TEMPLATES, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = one_record(d, ydoc_list_at(d, v, i), arg)) < 0)
            return r;
    return 0;
}

static int kw_s_messages(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_list(d, v, 0, SCENARIO_MAX_MESSAGES, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = one_message(d, ydoc_list_at(d, v, i), arg)) < 0)
            return r;
    return 0;
}

static int kw_s_description(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    char *tmp = NULL;
    int r;

    (void)k;
    (void)arg;
    r = ydoc_strdup(d, v, 0, SCENARIO_TEXT_MAX, &tmp); /* for the reader of the file */
    free(tmp);
    return r;
}

/* A stage's `at` must be read before its records: they add it.  The walk
 * goes in file order, so `at` is looked up first by hand. */
static const struct ydoc_key stage_keys[] = {
    {"at", kw_s_at},
    {"description", kw_s_description},
    {"kill_chain", kw_s_kill_chain},
    {"messages", kw_s_messages},
    {"name", kw_s_name},
    {"records", kw_s_records},
};
static const struct ydoc_table stage_table = {
    stage_keys, YDOC_NKEYS(stage_keys),
    "a stage is a mapping: name, at, kill_chain, description, records, messages", NULL};

static int one_stage(struct ydoc *d, yaml_node_t *n, struct sc_build *b)
{
    struct scenario_stage *st;
    yaml_node_t *at;
    int r = 0;

    if (!(st = grow(d, n, (void **)&b->s->stages, &b->s->nstages, sizeof(*st), SCENARIO_MAX_STAGES,
                    "too many stages (at most 64)", &r)))
        return r;
    st->line = ydoc_line(n);
    b->stage = st;
    b->stage_idx = b->s->nstages - 1;
    if (n && n->type == YAML_MAPPING_NODE && (at = ydoc_get(d, n, "at")) != NULL &&
        (r = get_at(d, at, &st->at_us)) < 0)
        return r;
    if ((r = ydoc_walk(d, n, &stage_table, b)) < 0)
        return r;
    if (!st->name)
        return ydoc_fail(d, n, "a stage needs a name");
    return 0;
}

static int kw_stages(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_list(d, v, 0, SCENARIO_MAX_STAGES, &n)) < 0)
        return r;
    if (n == 0)
        return ydoc_fail(d, v, "stages: at least one stage");
    for (size_t i = 0; i < n; i++) {
        struct sc_build *b = arg;

        if ((r = one_stage(d, ydoc_list_at(d, v, i), b)) < 0)
            return r;
        b->stage = NULL;
    }
    return 0;
}

/* ---- expectations ------------------------------------------------------- */

static int kw_within(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    b->have_within = 1;
    return ydoc_duration(d, v, YDOC_DUR_BARE, b->dec ? &b->dec->within_us : &b->det->within_us);
}

/* A target such as a host or party, vars filled in now. */
static int get_target(struct ydoc *d, yaml_node_t *v, struct sc_build *b, char **dst)
{
    struct scenario_clock clk = {0, 1, ""};
    struct buf out;
    const char *why;
    char *raw = NULL;
    int r;

    if ((r = get_line(d, v, 1, SCENARIO_VAR_VALUE_MAX, &raw)) < 0) {
        free(raw);
        return r;
    }
    buf_init(&out, SCENARIO_TEMPLATE_MAX);
    r = scenario_expand(b->s, raw, &clk, &out, &why);
    free(raw);
    if (r < 0) {
        buf_done(&out);
        return r == -ENOMEM ? r : ydoc_failf(d, v, "%s", why ? why : "cannot be expanded");
    }
    free(*dst);
    *dst = out.data ? out.data : strdup("");
    return *dst ? 0 : -ENOMEM;
}

static int det_value(struct ydoc *d, yaml_node_t *v, struct sc_build *b, enum scenario_det_kind k)
{
    int r;

    b->ndetkind++;
    b->det->kind = k;
    if ((r = get_target(d, v, b, &b->det->value)) < 0)
        return r;
    if (k == SCENARIO_DET_INCIDENT) {
        for (int t = 1; t < TRIAGE_TYPE_COUNT; t++) {
            const char *name = triage_type_name((enum triage_type)t);
            size_t len = strlen(b->det->value);

            /* "damage manifest" or its first word, "damage" */
            if (strcasecmp(b->det->value, name) == 0 ||
                (strncasecmp(b->det->value, name, len) == 0 &&
                 (name[len] == ' ' || name[len] == ','))) {
                b->det->code = t;
                free(b->det->value);
                return (b->det->value = strdup(name)) ? 0 : -ENOMEM;
            }
        }
        return ydoc_failf(d, v,
                          "not an incident type (probe, intruded, damage, policy, "
                          "anomalous, vulnerable...)");
    }
    if (k == SCENARIO_DET_KILL_CHAIN) {
        if (!(b->det->code = stage_code(b->det->value)))
            return ydoc_failf(d, v,
                              "not a kill-chain stage (recon, weaponization, delivery, "
                              "exploitation, installation, c2, actions)");
        free(b->det->value);
        return (b->det->value = strdup(triage_stage_name((enum triage_stage)b->det->code)))
                   ? 0
                   : -ENOMEM;
    }
    return 0;
}

static int kw_d_rule(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return det_value(d, v, arg, SCENARIO_DET_RULE);
}

static int kw_d_incident(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return det_value(d, v, arg, SCENARIO_DET_INCIDENT);
}

static int kw_d_kill_chain(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return det_value(d, v, arg, SCENARIO_DET_KILL_CHAIN);
}

static const struct ydoc_key detection_keys[] = {
    {"incident", kw_d_incident},
    {"kill_chain", kw_d_kill_chain},
    {"rule", kw_d_rule},
    {"within", kw_within},
};
static const struct ydoc_table detection_table = {
    detection_keys, YDOC_NKEYS(detection_keys),
    "a detection is a mapping: one of rule, incident, kill_chain, and within", NULL};

static int one_detection(struct ydoc *d, yaml_node_t *n, struct sc_build *b)
{
    struct scenario_detection *det;
    int r = 0;

    if (!(det = grow(d, n, (void **)&b->s->detections, &b->s->ndetections, sizeof(*det),
                     SCENARIO_MAX_EXPECT, "too many detections (at most 128)", &r)))
        return r;
    det->line = ydoc_line(n);
    b->det = det;
    b->ndetkind = 0;
    r = ydoc_walk(d, n, &detection_table, b);
    b->det = NULL;
    if (r < 0)
        return r;
    if (b->ndetkind != 1)
        return ydoc_fail(d, n, "a detection names exactly one of rule, incident, kill_chain");
    return 0;
}

static int dec_kind(struct sc_build *b, enum scenario_dec_kind k)
{
    b->ndeckind++;
    b->dec->kind = k;
    return 0;
}

static int kw_c_declare(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    int lvl = 0, r;

    (void)k;
    if ((r = ydoc_name(d, v, level_names, 4, 1, "declare: a level: green, yellow, orange or red",
                       &lvl)) < 0)
        return r;
    b->dec->level = lvl;
    return dec_kind(b, SCENARIO_DEC_DECLARE);
}

static int kw_c_category(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    const char *s;
    size_t len;
    int r;

    (void)k;
    if ((r = ydoc_str(d, v, &s, &len)) < 0)
        return r;
    if (len != 1 || !strchr("ABCD", s[0]))
        return ydoc_failf(d, v, "a category is A, B, C or D");
    return (b->dec->category = strdup(s)) ? 0 : -ENOMEM;
}

static int kw_c_isolate(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    dec_kind(b, SCENARIO_DEC_ISOLATE);
    return get_target(d, v, b, &b->dec->target);
}

static int kw_c_notify(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    dec_kind(b, SCENARIO_DEC_NOTIFY);
    return get_target(d, v, b, &b->dec->target);
}

static int kw_c_evidence(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int on = 0, r;

    (void)k;
    if ((r = ydoc_bool(d, v, "preserve_evidence: true", &on)) < 0)
        return r;
    if (!on)
        return ydoc_fail(d, v, "preserve_evidence: true (leave the item out otherwise)");
    return dec_kind(arg, SCENARIO_DEC_EVIDENCE);
}

static int kw_c_report(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;
    int kind = 0, r;

    (void)k;
    if ((r = ydoc_name(d, v, report_kinds, 4, 0, NULL, &kind)) < 0)
        return r;
    if (!(b->dec->target = strdup(report_kinds[kind])))
        return -ENOMEM;
    return dec_kind(b, SCENARIO_DEC_REPORT);
}

/* withhold: PARTY - nothing may go to PARTY (before `until`). */
static int kw_c_withhold(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    dec_kind(b, SCENARIO_DEC_WITHHOLD);
    return get_target(d, v, b, &b->dec->target);
}

static int kw_c_until(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct sc_build *b = arg;

    (void)k;
    b->have_until = 1;
    return ydoc_duration(d, v, YDOC_DUR_BARE, &b->dec->within_us);
}

static const struct ydoc_key decision_keys[] = {
    {"category", kw_c_category},
    {"declare", kw_c_declare},
    {"isolate", kw_c_isolate},
    {"notify", kw_c_notify},
    {"preserve_evidence", kw_c_evidence},
    {"report", kw_c_report},
    {"until", kw_c_until},
    {"withhold", kw_c_withhold},
    {"within", kw_within},
};
static const struct ydoc_table decision_table = {
    decision_keys, YDOC_NKEYS(decision_keys),
    "a decision is a mapping: one of declare (with category), isolate, preserve_evidence, "
    "notify, report, and within; or withhold, optionally with until",
    NULL};

static int one_decision(struct ydoc *d, yaml_node_t *n, struct sc_build *b)
{
    struct scenario_decision *dec;
    int r = 0;

    if (!(dec = grow(d, n, (void **)&b->s->decisions, &b->s->ndecisions, sizeof(*dec),
                     SCENARIO_MAX_EXPECT, "too many decisions (at most 128)", &r)))
        return r;
    dec->line = ydoc_line(n);
    b->dec = dec;
    b->ndeckind = b->have_within = b->have_until = 0;
    r = ydoc_walk(d, n, &decision_table, b);
    b->dec = NULL;
    if (r < 0)
        return r;
    if (b->ndeckind != 1)
        return ydoc_fail(d, n,
                         "a decision names exactly one of declare, isolate, preserve_evidence, "
                         "notify, report, withhold");
    if (dec->kind == SCENARIO_DEC_WITHHOLD) {
        /* A party not to tell: no deadline, an embargo at most. */
        if (b->have_within)
            return ydoc_fail(d, n, "withhold takes until (an embargo), not within");
        return 0;
    }
    if (b->have_until)
        return ydoc_fail(d, n, "until goes with withhold only");
    if (!b->have_within)
        return ydoc_fail(d, n, "a decision needs a deadline: within");
    if (dec->kind == SCENARIO_DEC_DECLARE && !dec->category)
        return ydoc_fail(d, n, "declare needs a category (A, B, C or D)");
    if (dec->kind != SCENARIO_DEC_DECLARE && dec->category)
        return ydoc_fail(d, n, "category goes with declare only");
    return 0;
}

static int kw_e_detections(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_list(d, v, 0, SCENARIO_MAX_EXPECT, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = one_detection(d, ydoc_list_at(d, v, i), arg)) < 0)
            return r;
    return 0;
}

static int kw_e_decisions(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t n = 0;
    int r;

    (void)k;
    if ((r = ydoc_list(d, v, 0, SCENARIO_MAX_EXPECT, &n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if ((r = one_decision(d, ydoc_list_at(d, v, i), arg)) < 0)
            return r;
    return 0;
}

static const struct ydoc_key expect_keys[] = {
    {"decisions", kw_e_decisions},
    {"detections", kw_e_detections},
};
static const struct ydoc_table expect_table = {expect_keys, YDOC_NKEYS(expect_keys),
                                               "expect is a mapping: detections, decisions", NULL};

static int kw_expect(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_walk(d, v, &expect_table, arg);
}

/* ---- the top ------------------------------------------------------------ */

static int kw_scenario(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return get_ident(d, v, &((struct sc_build *)arg)->s->name);
}

static int kw_title(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return get_line(d, v, 1, SCENARIO_TEXT_MAX, &((struct sc_build *)arg)->s->title);
}

static int kw_description(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)k;
    return ydoc_strdup(d, v, 0, SCENARIO_TEXT_MAX, &((struct sc_build *)arg)->s->description);
}

/* vars come first in the walk order below only if written first; stages
 * need them, so they are read before the walk (see scenario_parse). */
static int kw_skip(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    (void)d;
    (void)k;
    (void)v;
    (void)arg;
    return 0;
}

static const struct ydoc_key top_keys[] = {
    {"description", kw_description},
    {"expect", kw_skip},
    {"scenario", kw_scenario},
    {"stages", kw_skip},
    {"targets", kw_targets},
    {"title", kw_title},
    {"vars", kw_skip},
};
static const struct ydoc_table top_table = {
    top_keys, YDOC_NKEYS(top_keys),
    "a scenario is a mapping: scenario, title, description, targets, vars, stages, expect", NULL};

static int cmp_record(const void *a, const void *b)
{
    const struct scenario_record *x = a, *y = b;

    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_message(const void *a, const void *b)
{
    const struct scenario_message *x = a, *y = b;

    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Reads the whole document; -EINVAL recorded in d. */
static int parse_doc(struct ydoc *d, struct sc_build *b)
{
    yaml_node_t *root = ydoc_root(d), *v;
    int r;

    if (!root)
        return ydoc_fail_at(d, 1, 1, "empty scenario");
    /* The walk checks every key (unknown, repeated); then the parts that
     * depend on others are read in their order: vars, stages, expect. */
    if ((r = ydoc_walk(d, root, &top_table, b)) < 0)
        return r;
    if (!b->s->name)
        return ydoc_fail(d, root, "scenario: a name is required (a-z, 0-9, _ and -)");
    if (!b->s->title)
        return ydoc_fail(d, root, "title: required");
    if ((v = ydoc_get(d, root, "vars")) != NULL && (r = kw_vars(d, NULL, v, b)) < 0)
        return r;
    if (!(v = ydoc_get(d, root, "stages")))
        return ydoc_fail(d, root, "stages: required");
    if ((r = kw_stages(d, NULL, v, b)) < 0)
        return r;
    if ((v = ydoc_get(d, root, "expect")) != NULL && (r = kw_expect(d, NULL, v, b)) < 0)
        return r;
    if (!b->s->nrecords && !b->s->nmessages)
        return ydoc_fail(d, root, "the scenario injects nothing: no records and no messages");
    if (!b->s->description && !(b->s->description = strdup("")))
        return -ENOMEM;
    return 0;
}

int scenario_parse(const char *text, size_t len, const char *file, struct scenario **ret,
                   struct parse_err *reterr)
{
    struct sc_build b;
    struct ydoc d;
    struct scenario *s;
    int r;

    *ret = NULL;
    if (!(s = calloc(1, sizeof(*s))))
        return -ENOMEM;
    memset(&b, 0, sizeof(b));
    b.s = s;
    if ((r = ydoc_load(&d, text, len, reterr)) < 0)
        goto out;
    d.ctx = &b;
    r = parse_doc(&d, &b);
out:
    ydoc_done(&d);
    if (r == 0 && !(s->file = strdup(file ? file : "-")))
        r = -ENOMEM;
    if (r < 0) {
        scenario_free(s);
        return r;
    }
    if (s->nrecords)
        qsort(s->records, s->nrecords, sizeof(*s->records), cmp_record);
    if (s->nmessages)
        qsort(s->messages, s->nmessages, sizeof(*s->messages), cmp_message);
    for (size_t i = 0; i < s->nrecords; i++) {
        const struct scenario_record *rec = &s->records[i];
        int64_t last = rec->at_us + (int64_t)(rec->repeat - 1) * rec->every_us;

        if (last > s->end_us)
            s->end_us = last;
    }
    for (size_t i = 0; i < s->nmessages; i++)
        if (s->messages[i].at_us > s->end_us)
            s->end_us = s->messages[i].at_us;
    *ret = s;
    return 0;
}

int scenario_load(const char *path, struct scenario **ret, struct parse_err *reterr)
{
    FILE *f;
    char *text;
    long sz;
    size_t n;
    int r;

    *ret = NULL;
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (!(f = fopen(path, "rb")))
        return -errno;
    if (fseek(f, 0, SEEK_END) < 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
        r = -errno;
        fclose(f);
        return r ? r : -EIO;
    }
    if (sz > SCENARIO_MAX_FILE_BYTES) {
        fclose(f);
        return -EFBIG;
    }
    if (!(text = malloc((size_t)sz + 1))) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(text, 1, (size_t)sz, f);
    r = ferror(f) ? -EIO : 0;
    fclose(f);
    if (r == 0)
        r = scenario_parse(text, n, path, ret, reterr);
    free(text);
    return r;
}

static int cmp_send(const void *a, const void *b)
{
    const struct scenario_send *x = a, *y = b;

    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    if (x->rec != y->rec)
        return x->rec < y->rec ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

int scenario_sched(const struct scenario *s, struct scenario_send **ret, size_t *ret_n)
{
    struct scenario_send *v;
    size_t k = 0;

    *ret = NULL;
    *ret_n = 0;
    if (!s->total_records)
        return 0;
    if (!(v = calloc((size_t)s->total_records, sizeof(*v))))
        return -ENOMEM;
    for (size_t i = 0; i < s->nrecords; i++)
        for (uint32_t n = 1; n <= s->records[i].repeat; n++) {
            v[k].at_us = s->records[i].at_us + (int64_t)(n - 1) * s->records[i].every_us;
            v[k].rec = i;
            v[k].n = n;
            k++;
        }
    qsort(v, k, sizeof(*v), cmp_send);
    *ret = v;
    *ret_n = k;
    return 0;
}
