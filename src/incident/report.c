/*
 * report.c - rendering incident reports.  One writer feeds both outputs so
 * that the Markdown and HTML forms always carry the same content.
 */
#include "incident/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/time.h"
#include "incident/csf.h"

static const char *const kind_names[REPORT_KIND_COUNT] = {"first report", "interim report 1",
                                                          "interim report 2", "final report"};
static const char *const kind_ids[REPORT_KIND_COUNT] = {"first", "interim1", "interim2", "final"};

const char *report_kind_name(enum report_kind k)
{
    return (unsigned)k < REPORT_KIND_COUNT ? kind_names[k] : "?";
}

const char *report_kind_id(enum report_kind k)
{
    return (unsigned)k < REPORT_KIND_COUNT ? kind_ids[k] : "?";
}

int report_html_escape(struct buf *b, const char *s, size_t len)
{
    size_t run = 0;
    int r = 0;
    for (size_t i = 0; i < len && r == 0; i++) {
        const char *e = NULL;
        switch (s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: break;
        }
        if (!e)
            continue;
        if ((r = buf_append(b, s + run, i - run)) == 0)
            r = buf_puts(b, e);
        run = i + 1;
    }
    return r ? r : buf_append(b, s + run, len - run);
}

static int md_is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int md_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int md_is_punct(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !md_is_alnum(c);
}

/* Whether '&' at s[i] could begin an entity or character reference
 * (&name; &#123; &#x1F;), the only way an ampersand means anything. */
static int md_entity_like(const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && s[j] == '#')
        j++;
    while (j < len && j - i <= 32 && md_is_alnum((unsigned char)s[j]))
        j++;
    return j > i + 1 && j < len && s[j] == ';';
}

/* Whether the run of '#' at s[i] could close an ATX heading: it follows
 * blank or the start, and only blanks follow it up to the end of the line. */
static int md_closing_hashes(const char *s, size_t len, size_t i)
{
    size_t j = i;
    if (i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t' && s[i - 1] != '#')
        return 0;
    while (j < len && s[j] == '#')
        j++;
    while (j < len && (s[j] == ' ' || s[j] == '\t'))
        j++;
    return j == len || s[j] == '\n' || s[j] == '\r';
}

/* Whether the byte at s[i], the first non-blank of a line, could open a
 * block: heading, quote, list item, thematic break, setext underline,
 * fence, table delimiter row, HTML block.  Digits are handled apart. */
static int md_block_opener(unsigned char c)
{
    return c && strchr("#>-+*=_~`|:<[!", c) != NULL;
}

/* Whether byte c at s[i] must be escaped where it stands inline. */
static int md_inline_special(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : 0;
    unsigned char next = i + 1 < len ? (unsigned char)s[i + 1] : 0;

    switch (c) {
    case '`': /* code spans */
    case '[': /* links, images, footnotes, reference definitions */
    case ']':
    case '<': /* raw HTML and autolinks */ return 1;
    case '\\': /* an escape before punctuation, a hard break at the end */
        return next == 0 || next == '\n' || next == '\r' || md_is_punct(next);
    case '&': return md_entity_like(s, len, i);
    case '*':
    case '~':
        /* Blank on both sides is neither left- nor right-flanking. */
        return !(md_is_space(prev) && md_is_space(next));
    case '_':
        /* Inside a word ("first_aid") '_' neither opens nor closes. */
        return !(md_is_space(prev) && md_is_space(next)) &&
               !(md_is_alnum(prev) && md_is_alnum(next));
    case '#': return md_closing_hashes(s, len, i);
    default: return 0;
    }
}

int report_md_escape(struct buf *b, const char *s, size_t len, unsigned flags)
{
    int r = 0;
    /* At a line's start until its first non-blank byte. */
    int line_start = (flags & REPORT_MD_LINE_START) != 0;

    for (size_t i = 0; i < len && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        int esc;
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (flags & REPORT_MD_MULTILINE) {
                r = buf_puts(b, "  \n");
                line_start = 1;
            } else {
                r = buf_putc(b, ' ');
            }
            continue;
        }
        if (c < 0x20 && c != '\t')
            c = ' ';
        if (line_start && (c == ' ' || c == '\t')) {
            r = buf_putc(b, (char)c);
            continue;
        }
        esc = md_inline_special(s, len, i);
        if (line_start) {
            size_t j = i;
            /* "12." or "3)" starts an ordered list: escape its mark. */
            while (j < len && j - i < 10 && s[j] >= '0' && s[j] <= '9')
                j++;
            if (j > i && j < len && (s[j] == '.' || s[j] == ')') &&
                (j + 1 == len || md_is_space((unsigned char)s[j + 1]))) {
                r = buf_append(b, s + i, j - i);
                if (r == 0)
                    r = buf_putc(b, '\\');
                i = j - 1;
                line_start = 0;
                continue;
            }
            esc = esc || md_block_opener(c);
            line_start = 0;
        }
        if (esc)
            r = buf_putc(b, '\\');
        if (r == 0)
            r = buf_putc(b, (char)c);
    }
    return r;
}

struct w {
    struct buf *md, *html;
    int r; /* first error; later writes are skipped */
};

static void w_raw(struct w *w, const char *md, const char *html)
{
    if (w->r == 0 && md)
        w->r = buf_puts(w->md, md);
    if (w->r == 0 && html)
        w->r = buf_puts(w->html, html);
}

/* Untrusted text into both outputs; md_flags as report_md_escape's. */
static void w_text(struct w *w, const char *s, unsigned md_flags)
{
    size_t n;
    if (!s || !s[0])
        s = "not yet known";
    n = strlen(s);
    if (w->r == 0)
        w->r = report_md_escape(w->md, s, n, md_flags);
    if (w->r == 0)
        w->r = report_html_escape(w->html, s, n);
}

static void w_heading(struct w *w, int level, const char *s)
{
    char md[8], h[8];
    snprintf(md, sizeof(md), "%.*s ", level, "######");
    snprintf(h, sizeof(h), "<h%d>", level);
    w_raw(w, level > 1 ? "\n" : NULL, NULL);
    w_raw(w, md, h);
    w_text(w, s, 0);
    snprintf(h, sizeof(h), "</h%d>\n", level);
    w_raw(w, "\n\n", h);
}

/* A "key: value" line; key is ours, value untrusted. */
static void w_kv(struct w *w, const char *key, const char *value)
{
    w_raw(w, "- **", "<li><b>");
    w_raw(w, key, key);
    w_raw(w, ":** ", ":</b> ");
    w_text(w, value, 0);
    w_raw(w, "\n", "</li>\n");
}

static void w_ul(struct w *w, int open)
{
    w_raw(w, open ? NULL : "\n", open ? "<ul>\n" : "</ul>\n");
}

static void w_para(struct w *w, const char *s)
{
    w_raw(w, NULL, "<p style=\"white-space: pre-wrap\">");
    w_text(w, s, REPORT_MD_LINE_START | REPORT_MD_MULTILINE);
    w_raw(w, "\n\n", "</p>\n");
}

/* A list item: its text may open a block there ("- - x" nests a list). */
static void w_item(struct w *w, const char *s)
{
    w_raw(w, "- ", "<li>");
    w_text(w, s, REPORT_MD_LINE_START);
    w_raw(w, "\n", "</li>\n");
}

static void fmt_time(char *out, size_t size, int64_t us)
{
    time_format_iso(us, out, size);
}

static const char *level_or(int level, enum triage_alert_level dflt)
{
    return triage_level_name(level >= 0 && level <= TRIAGE_RED ? (enum triage_alert_level)level
                                                               : dflt);
}

static void w_facts(struct w *w, const struct incident *inc)
{
    char t[64], id[32];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)inc->id);
    w_ul(w, 1);
    w_kv(w, "Incident", id);
    w_kv(w, "Type", triage_type_name(inc->type));
    w_kv(w, "Detection method", incident_method_name(inc->method));
    w_kv(w, "Category",
         inc->category == ASSET_CAT_NONE ? NULL : incident_category_name(inc->category));
    w_kv(w, "Level", triage_level_name(inc->level));
    w_kv(w, "Phase", incident_phase_name(inc->phase));
    w_kv(w, "Assignee", inc->assignee);
    fmt_time(t, sizeof(t), inc->created_us);
    w_kv(w, "Opened", t);
    fmt_time(t, sizeof(t), inc->updated_us);
    w_kv(w, "Last change", t);
    w_ul(w, 0);
}

static void w_entities(struct w *w, const struct incident *inc)
{
    w_heading(w, 2, "Entities");
    if (!inc->nentities) {
        w_para(w, NULL);
        return;
    }
    w_ul(w, 1);
    for (size_t i = 0; i < inc->nentities; i++) {
        const struct incident_entity *e = &inc->entities[i];
        char line[INCIDENT_VALUE_MAX + 32];
        snprintf(line, sizeof(line), "%s (%s, %s)", e->value, incident_entity_kind_name(e->kind),
                 incident_entity_role_name(e->role));
        w_item(w, line);
    }
    w_ul(w, 0);
}

static void w_stages(struct w *w, const struct incident *inc)
{
    w_heading(w, 2, "Kill-chain stages seen");
    if (!inc->stages) {
        w_para(w, "none seen yet");
        return;
    }
    w_ul(w, 1);
    for (int s = 1; s < TRIAGE_STAGE_COUNT; s++)
        if (inc->stages & (1u << s))
            w_item(w, triage_stage_name((enum triage_stage)s));
    w_ul(w, 0);
}

static void w_timeline(struct w *w, const struct report_input *in)
{
    w_heading(w, 2, "Timeline");
    if (!in->ntimeline) {
        w_para(w, "no changes recorded");
        return;
    }
    w_ul(w, 1);
    for (size_t i = 0; i < in->ntimeline; i++) {
        const struct incident_change *c = &in->timeline[i];
        char t[64], line[2048];
        fmt_time(t, sizeof(t), c->time_us);
        snprintf(line, sizeof(line), "%s %s: %s %s -> %s%s%s", t, c->who, c->what, c->from, c->to,
                 c->reason[0] ? " because " : "", c->reason);
        w_item(w, line);
    }
    w_ul(w, 0);
}

/* The final report's evidence: each item of the register linked to the
 * incident, with its chain of custody as a nested list. */
static void w_evidence(struct w *w, const struct report_input *in)
{
    w_heading(w, 3, "Evidence register and chain of custody");
    if (in->nevidence_items == 0) {
        w_para(w, "No item in the evidence register is linked to this incident.");
        return;
    }
    w_ul(w, 1);
    for (size_t i = 0; i < in->nevidence_items; i++) {
        const struct report_evidence *e = &in->evidence_items[i];

        w_raw(w, "- ", "<li>");
        w_text(w, e->item, REPORT_MD_LINE_START);
        w_raw(w, "\n", "\n<ul>\n");
        for (size_t j = 0; j < e->ncustody; j++) {
            w_raw(w, "  - ", "<li>");
            w_text(w, e->custody[j], REPORT_MD_LINE_START);
            w_raw(w, "\n", "</li>\n");
        }
        w_raw(w, NULL, "</ul></li>\n");
    }
    w_ul(w, 0);
}

/* The tasks counted by the NIST CSF function they serve (MISSION.md
 * section 7, issue 25): done and open per function, those that name none
 * last.  A table in both outputs; every cell is ours. */
static void w_csf(struct w *w, const struct playbook_checklist *cl)
{
    size_t done[CSF_COUNT] = {0}, open[CSF_COUNT] = {0};
    char row[160];

    for (size_t i = 0; i < cl->n; i++) {
        unsigned f = (unsigned)cl->t[i].function < CSF_COUNT ? (unsigned)cl->t[i].function : 0;
        if (cl->t[i].done)
            done[f]++;
        else
            open[f]++;
    }
    w_heading(w, 3, "Tasks by NIST CSF function");
    w_raw(w, "| function | done | open |\n|---|---:|---:|\n",
          "<table>\n<tr><th>function</th><th>done</th><th>open</th></tr>\n");
    for (unsigned k = 1; k <= CSF_COUNT; k++) {
        unsigned f = k % CSF_COUNT; /* identify .. recover, then none */
        const char *name = f ? csf_function_name((enum csf_function)f) : "not said";

        if (f == 0 && !done[0] && !open[0])
            continue;
        snprintf(row, sizeof(row), "| %s | %zu | %zu |\n", name, done[f], open[f]);
        w_raw(w, row, NULL);
        snprintf(row, sizeof(row), "<tr><td>%s</td><td>%zu</td><td>%zu</td></tr>\n", name, done[f],
                 open[f]);
        w_raw(w, NULL, row);
    }
    w_raw(w, "\n", "</table>\n");
}

static void w_tasks(struct w *w, const struct report_input *in)
{
    w_heading(w, 2, "Tasks");
    if (!in->tasks || !in->tasks->n) {
        w_para(w, "no tasks");
        return;
    }
    w_ul(w, 1);
    for (size_t i = 0; i < in->tasks->n; i++) {
        const struct playbook_task *t = &in->tasks->t[i];
        char line[PLAYBOOK_TITLE_MAX + INCIDENT_NAME_MAX * 2 + 64];
        snprintf(line, sizeof(line), "%s: %s%s%s%s", incident_phase_name(t->phase), t->title,
                 t->done ? " (done by " : "", t->done && t->done_by ? t->done_by : "",
                 t->done ? ")" : "");
        /* The check box is ours, so a task list item in Markdown. */
        w_raw(w, t->done ? "- [x] " : "- [ ] ", t->done ? "<li>[x] " : "<li>[ ] ");
        w_text(w, line, REPORT_MD_LINE_START);
        w_raw(w, "\n", "</li>\n");
    }
    w_ul(w, 0);
    w_csf(w, in->tasks);
}

int report_generate(const struct report_input *in, enum report_kind kind, unsigned version,
                    const char *author, int64_t now_us, struct report *ret)
{
    struct w w;
    const struct incident *inc;
    char title[INCIDENT_TITLE_MAX + 64], t[64], v[16];

    memset(ret, 0, sizeof(*ret));
    buf_init(&ret->markdown, REPORT_MAX_BYTES);
    buf_init(&ret->html, REPORT_MAX_BYTES);
    if (!in || !in->inc || !author || !author[0] || (unsigned)kind >= REPORT_KIND_COUNT)
        return -EINVAL;
    inc = in->inc;
    ret->kind = kind;
    ret->version = version;
    ret->created_us = now_us;
    if (!(ret->author = strdup(author)))
        return -ENOMEM;
    w = (struct w){&ret->markdown, &ret->html, 0};

    w_raw(&w, NULL, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    snprintf(title, sizeof(title), "%s: %s", report_kind_name(kind), inc->title);
    if (w.r == 0)
        w.r = report_html_escape(w.html, title, strlen(title));
    w_raw(&w, NULL, "</title></head><body>\n");
    w_heading(&w, 1, title);
    fmt_time(t, sizeof(t), now_us);
    snprintf(v, sizeof(v), "%u", version);
    w_ul(&w, 1);
    w_kv(&w, "Report", report_kind_name(kind));
    w_kv(&w, "Version", v);
    w_kv(&w, "Written", t);
    w_kv(&w, "Author", author);
    w_ul(&w, 0);

    w_heading(&w, 2, "Incident");
    w_facts(&w, inc);
    w_heading(&w, 2, "Summary");
    w_para(&w, inc->summary);

    switch (kind) {
    case REPORT_FIRST:
        w_heading(&w, 2, "Possible level");
        w_para(&w, triage_level_name(inc->level));
        w_heading(&w, 2, "Threats faced");
        w_para(&w, in->threats);
        w_stages(&w, inc);
        w_heading(&w, 2, "What is known");
        w_para(&w, in->known);
        w_heading(&w, 2, "Alerts");
        w_para(&w, in->alerts_summary);
        w_entities(&w, inc);
        break;
    case REPORT_INTERIM1:
        w_heading(&w, 2, "Recommended level");
        w_para(&w, level_or(in->recommended_level, inc->level));
        w_heading(&w, 2, "Social threat");
        w_para(&w, in->social_threat);
        w_heading(&w, 2, "Evidence");
        w_para(&w, in->evidence);
        w_stages(&w, inc);
        w_entities(&w, inc);
        break;
    case REPORT_INTERIM2:
        w_heading(&w, 2, "Scope");
        w_para(&w, in->scope);
        w_heading(&w, 2, "Revised level");
        w_para(&w, level_or(in->revised_level, inc->level));
        w_entities(&w, inc);
        w_heading(&w, 2, "Alerts");
        w_para(&w, in->alerts_summary);
        break;
    case REPORT_FINAL:
        w_heading(&w, 2, "Threats faced");
        w_para(&w, in->threats);
        w_heading(&w, 2, "Scope");
        w_para(&w, in->scope);
        w_heading(&w, 2, "Evidence");
        w_para(&w, in->evidence);
        w_evidence(&w, in);
        w_stages(&w, inc);
        w_entities(&w, inc);
        w_heading(&w, 2, "Alerts");
        w_para(&w, in->alerts_summary);
        w_timeline(&w, in);
        w_tasks(&w, in);
        w_heading(&w, 2, "Lessons and follow-up");
        w_para(&w, in->lessons);
        break;
    }
    if (kind != REPORT_FINAL)
        w_tasks(&w, in);
    w_raw(&w, NULL, "</body></html>\n");
    return w.r;
}

void report_done(struct report *r)
{
    if (!r)
        return;
    free(r->author);
    buf_done(&r->markdown);
    buf_done(&r->html);
    memset(r, 0, sizeof(*r));
}
