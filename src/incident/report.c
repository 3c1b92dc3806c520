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

int report_md_escape(struct buf *b, const char *s, size_t len, int multiline)
{
    int r = 0;
    for (size_t i = 0; i < len && r == 0; i++) {
        char c = s[i];
        switch (c) {
        case '&': r = buf_puts(b, "&amp;"); break;
        case '<': r = buf_puts(b, "&lt;"); break;
        case '>': r = buf_puts(b, "&gt;"); break;
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '(':
        case ')':
        case '#':
        case '|':
        case '!':
        case '~':
        case '{':
        case '}':
        case '+':
        case '-':
        case '.':
        case '"':
        case '\'':
            if ((r = buf_putc(b, '\\')) == 0)
                r = buf_putc(b, c);
            break;
        case '\r': break;
        case '\n':
            /* A hard break inside a paragraph; never a new block, so text
             * cannot start a heading or a list of its own. */
            r = buf_puts(b, multiline ? "  \n" : " ");
            break;
        default: r = buf_putc(b, (unsigned char)c < 0x20 && c != '\t' ? ' ' : c);
        }
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

/* Untrusted text into both outputs. */
static void w_text(struct w *w, const char *s, int multiline)
{
    size_t n;
    if (!s || !s[0])
        s = "not yet known";
    n = strlen(s);
    if (w->r == 0)
        w->r = report_md_escape(w->md, s, n, multiline);
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
    w_text(w, s, 1);
    w_raw(w, "\n\n", "</p>\n");
}

static void w_item(struct w *w, const char *s)
{
    w_raw(w, "- ", "<li>");
    w_text(w, s, 0);
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
        snprintf(line, sizeof(line), "[%s] %s: %s%s%s%s", t->done ? "x" : " ",
                 incident_phase_name(t->phase), t->title, t->done ? " (done by " : "",
                 t->done && t->done_by ? t->done_by : "", t->done ? ")" : "");
        w_item(w, line);
    }
    w_ul(w, 0);
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
