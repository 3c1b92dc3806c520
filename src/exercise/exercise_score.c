/*
 * exercise_score.c - the score of a tabletop exercise run and its
 * after-action report (exercise_score.h, docs/exercise.md).
 *
 * Every time is turned into scenario time first: (wall - start) * speed,
 * so that a run at --speed 60 is judged against the scenario's minutes,
 * not the seconds it took.  An expectation is met by the earliest fact
 * that fits it; it is on time when that fact is at or before its deadline.
 */
#include "exercise/exercise_score.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exercise/scenario.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/jp.h"

#define US_PER_S INT64_C(1000000)

static const char *const level_names[] = {"Green", "Yellow", "Orange", "Red"};

void exercise_fact_free(struct exercise_fact *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].a);
        free(f[i].b);
        free(f[i].c);
    }
    free(f);
}

void exercise_score_done(struct exercise_score *sc)
{
    if (!sc)
        return;
    free(sc->det);
    free(sc->dec);
    memset(sc, 0, sizeof(*sc));
}

const char *exercise_fmt_dur(int64_t us, char *buf, size_t size)
{
    int64_t s;

    if (us < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    s = us / US_PER_S;
    if (s < 3600)
        snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
    else
        snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
    return buf;
}

/* Case-insensitive substring. */
static int has(const char *hay, const char *needle)
{
    size_t n;

    if (!hay || !needle || !*needle)
        return 0;
    n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int level_of(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

struct ctx {
    const struct exercise_fact *f;
    size_t n;
    int64_t start;
    double speed;
};

static int64_t scen(const struct ctx *c, int64_t wall)
{
    double d = (double)(wall - c->start) * c->speed;

    return d < 0 ? 0 : (int64_t)d;
}

/* The category of incident `id`, from its incident fact, or NULL. */
static const char *inc_category(const struct ctx *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->f[i].kind, "incident") == 0 && c->f[i].incident_id == id)
            return c->f[i].c;
    return NULL;
}

/* 1 when fact f meets detection d. */
static int det_fits(const struct ctx *c, const struct scenario_detection *d,
                    const struct exercise_fact *f)
{
    char q[96];

    (void)c;
    switch (d->kind) {
    case SCENARIO_DET_RULE:
        return strcmp(f->kind, "alert") == 0 &&
               ((f->a && strcmp(f->a, d->value) == 0) || (f->b && strcmp(f->b, d->value) == 0));
    case SCENARIO_DET_INCIDENT:
        /* the incident's type, or triage's when an analyst's record froze
         * another (docs/exercise.md) */
        return (strcmp(f->kind, "incident") == 0 || strcmp(f->kind, "proposed") == 0) && f->a &&
               strcasecmp(f->a, d->value) == 0;
    case SCENARIO_DET_KILL_CHAIN:
        snprintf(q, sizeof(q), "\"%s\"", d->value);
        return (strcmp(f->kind, "incident") == 0 && f->b && strstr(f->b, q)) ||
               (strcmp(f->kind, "timeline") == 0 && f->a && strcmp(f->a, "stage") == 0 && f->b &&
                strcmp(f->b, d->value) == 0);
    }
    return 0;
}

/* 1 when f is the first-report message, approved for sending. */
static int is_first_report_msg(const struct exercise_fact *f)
{
    return strcmp(f->kind, "message") == 0 && f->b && strcmp(f->b, "first_report") == 0;
}

/* 1 when fact f tells `party` something: an outgoing communication whose
 * party or summary names it, or a message to a party whose name is in
 * it or names it ("national CSIRT" and the party csirt). */
static int told(const struct exercise_fact *f, const char *party)
{
    if (strcmp(f->kind, "comm") == 0)
        return has(f->a, party) || has(f->b, party);
    if (strcmp(f->kind, "message") == 0)
        return has(f->a, party) || has(party, f->a);
    return 0;
}

/* 1 when fact f meets decision d. */
static int dec_fits(const struct ctx *c, const struct scenario_decision *d,
                    const struct exercise_fact *f)
{
    const char *cat;

    switch (d->kind) {
    case SCENARIO_DEC_DECLARE:
        if (strcmp(f->kind, "declare") == 0)
            return f->a && strcmp(f->a, d->category) == 0 && level_of(f->b) >= d->level;
        if (strcmp(f->kind, "timeline") != 0 || !f->a || strcmp(f->a, "level") != 0 ||
            level_of(f->b) < d->level || (f->c && strcmp(f->c, "hikeshi") == 0))
            return 0;
        cat = inc_category(c, f->incident_id);
        return cat && strcmp(cat, d->category) == 0;
    case SCENARIO_DEC_ISOLATE:
        if (strcmp(f->kind, "note") == 0)
            return has(f->a, "isolat") && has(f->a, d->target);
        if (strcmp(f->kind, "task") == 0)
            return (has(f->a, "isolat") || has(f->b, "isolat")) &&
                   (has(f->a, d->target) || has(f->b, d->target));
        return 0;
    case SCENARIO_DEC_EVIDENCE: return strcmp(f->kind, "evidence") == 0;
    case SCENARIO_DEC_NOTIFY:
    case SCENARIO_DEC_WITHHOLD: return told(f, d->target);
    case SCENARIO_DEC_REPORT:
        return (strcmp(f->kind, "report") == 0 && f->a && strcmp(f->a, d->target) == 0) ||
               (strcmp(d->target, "first") == 0 && is_first_report_msg(f));
    }
    return 0;
}

/* The label a decision is reported under. */
static void dec_label(const struct scenario_decision *d, char *out, size_t size)
{
    char due[32];

    switch (d->kind) {
    case SCENARIO_DEC_DECLARE:
        snprintf(out, size, "declare %s for category %s", level_names[d->level & 3], d->category);
        break;
    case SCENARIO_DEC_EVIDENCE: snprintf(out, size, "preserve evidence"); break;
    case SCENARIO_DEC_REPORT: snprintf(out, size, "%s report", d->target); break;
    case SCENARIO_DEC_WITHHOLD:
        if (d->within_us > 0)
            snprintf(out, size, "withhold from %.100s until %s", d->target,
                     exercise_fmt_dur(d->within_us, due, sizeof(due)));
        else
            snprintf(out, size, "withhold from %.120s", d->target);
        break;
    default:
        snprintf(out, size, "%s %.120s", scenario_dec_kind_name(d->kind),
                 d->target ? d->target : "");
    }
}

static void judge(struct exercise_item *it, int *points, int *max)
{
    if (it->at_us < 0)
        it->status = EXERCISE_MISSED;
    else if (it->due_us > 0 && it->at_us > it->due_us)
        it->status = EXERCISE_LATE;
    else
        it->status = EXERCISE_OK;
    *max += 2;
    *points += it->status == EXERCISE_OK ? 2 : it->status == EXERCISE_LATE ? 1 : 0;
}

static void min_at(int64_t *m, int64_t v)
{
    if (*m < 0 || v < *m)
        *m = v;
}

static int is_phase_after_first_aid(const char *p)
{
    return p && (strcmp(p, "emergency") == 0 || strcmp(p, "watch") == 0 ||
                 strcmp(p, "full_response") == 0 || strcmp(p, "closed") == 0);
}

/* How long a phase took (from `from` to `to`, scenario µs, -1 never)
 * against `target` (0: none). */
static enum exercise_status phase_status(int64_t from, int64_t to, int64_t target)
{
    if (from < 0 || to < 0)
        return EXERCISE_MISSED;
    return target > 0 && to - from > target ? EXERCISE_LATE : EXERCISE_OK;
}

static void add_points(struct exercise_score *sc, enum exercise_status st)
{
    sc->max_points += 2;
    sc->points += st == EXERCISE_OK ? 2 : st == EXERCISE_LATE ? 1 : 0;
}

int exercise_score(const struct scenario *s, int64_t run_id, int64_t started_us, double speed,
                   const struct exercise_targets *cfg, const struct exercise_fact *facts,
                   size_t nfacts, struct exercise_score *ret)
{
    struct ctx c = {facts, nfacts, started_us, speed > 0 ? speed : 1.0};
    struct exercise_milestones *m = &ret->m;

    memset(ret, 0, sizeof(*ret));
    ret->run_id = run_id;
    ret->started_us = started_us;
    ret->speed = c.speed;
    if (cfg) {
        ret->cfg_first_aid_us = cfg->first_aid_us;
        ret->cfg_emergency_us = cfg->emergency_us;
        snprintf(ret->cfg_box, sizeof(ret->cfg_box), "%s", cfg->box);
    } else {
        ret->cfg_first_aid_us = EXERCISE_FIRST_AID_US;
        ret->cfg_emergency_us = EXERCISE_EMERGENCY_US;
        snprintf(ret->cfg_box, sizeof(ret->cfg_box), "the defaults");
    }
    /* The scenario's own targets first; else the daemon's; else none. */
    ret->first_aid_target_us = s->first_aid_us ? s->first_aid_us : ret->cfg_first_aid_us;
    ret->emergency_target_us = s->emergency_us ? s->emergency_us : ret->cfg_emergency_us;
    memset(m, 0xff, sizeof(*m)); /* every milestone -1 */
    if ((s->ndetections && !(ret->det = calloc(s->ndetections, sizeof(*ret->det)))) ||
        (s->ndecisions && !(ret->dec = calloc(s->ndecisions, sizeof(*ret->dec))))) {
        exercise_score_done(ret);
        return -ENOMEM;
    }
    ret->ndet = s->ndetections;
    ret->ndec = s->ndecisions;
    for (size_t i = 0; i < nfacts; i++) {
        const struct exercise_fact *f = &facts[i];
        int64_t t = scen(&c, f->time_us);

        if (strcmp(f->kind, "alert") == 0) {
            ret->nalerts++;
            min_at(&m->first_alert, t);
        } else if (strcmp(f->kind, "incident") == 0) {
            ret->nincidents++;
            min_at(&m->first_incident, t);
        } else if (strcmp(f->kind, "timeline") == 0 && f->a && strcmp(f->a, "phase") == 0) {
            if (f->b && strcmp(f->b, "first_aid") == 0)
                min_at(&m->first_aid_start, t);
            if (is_phase_after_first_aid(f->b))
                min_at(&m->first_aid_done, t);
            if (f->b && (strcmp(f->b, "watch") == 0 || strcmp(f->b, "full_response") == 0 ||
                         strcmp(f->b, "closed") == 0))
                min_at(&m->emergency_done, t);
        } else if ((strcmp(f->kind, "report") == 0 && f->a && strcmp(f->a, "first") == 0) ||
                   is_first_report_msg(f)) {
            min_at(&m->first_report, t);
        }
        if (strcmp(f->kind, "message") == 0)
            ret->nmessages++;
    }
    /* Moving straight to emergency starts and ends first aid at once. */
    if (m->first_aid_start < 0 && m->first_aid_done >= 0)
        m->first_aid_start = m->first_aid_done;
    for (size_t i = 0; i < s->ndetections; i++) {
        const struct scenario_detection *d = &s->detections[i];
        struct exercise_item *it = &ret->det[i];

        snprintf(it->label, sizeof(it->label), "%s %s", scenario_det_kind_name(d->kind), d->value);
        it->due_us = d->within_us;
        it->at_us = -1;
        it->line = d->line;
        for (size_t k = 0; k < nfacts; k++)
            if (det_fits(&c, d, &facts[k]))
                min_at(&it->at_us, scen(&c, facts[k].time_us));
        judge(it, &ret->points, &ret->max_points);
    }
    for (size_t i = 0; i < s->ndecisions; i++) {
        const struct scenario_decision *d = &s->decisions[i];
        struct exercise_item *it = &ret->dec[i];

        dec_label(d, it->label, sizeof(it->label));
        it->due_us = d->within_us;
        it->at_us = -1;
        it->line = d->line;
        for (size_t k = 0; k < nfacts; k++) {
            int64_t t = scen(&c, facts[k].time_us);

            /* withhold: the first message inside the embargo */
            if (dec_fits(&c, d, &facts[k]) &&
                (d->kind != SCENARIO_DEC_WITHHOLD || d->within_us == 0 || t <= d->within_us))
                min_at(&it->at_us, t);
        }
        if (d->kind == SCENARIO_DEC_WITHHOLD) {
            it->status = it->at_us < 0 ? EXERCISE_OK : EXERCISE_WRONG;
            ret->nwrong += it->status == EXERCISE_WRONG;
            add_points(ret, it->status);
        } else {
            judge(it, &ret->points, &ret->max_points);
        }
    }
    /* First aid: done within its target of the first incident, the
     * scenario's and the daemon's; the daemon's scores on its own only
     * when it says something else. */
    ret->first_aid = phase_status(m->first_incident, m->first_aid_done, ret->first_aid_target_us);
    ret->first_aid_cfg = phase_status(m->first_incident, m->first_aid_done, ret->cfg_first_aid_us);
    ret->cfg_scored = ret->cfg_first_aid_us != ret->first_aid_target_us;
    add_points(ret, ret->first_aid);
    if (ret->cfg_scored)
        add_points(ret, ret->first_aid_cfg);
    /* The first report, part of first aid: within the first-aid target of
     * the first incident. */
    ret->first_report = phase_status(m->first_incident, m->first_report, ret->first_aid_target_us);
    add_points(ret, ret->first_report);
    /* Emergency response: from first aid done to the phase after it. */
    ret->emergency = phase_status(m->first_aid_done, m->emergency_done, ret->emergency_target_us);
    ret->emergency_cfg = phase_status(m->first_aid_done, m->emergency_done, ret->cfg_emergency_us);
    return 0;
}

/* ---- the report ---------------------------------------------------------- */

static const char *status_word(enum exercise_status st)
{
    return st == EXERCISE_OK      ? "on time"
           : st == EXERCISE_LATE  ? "LATE"
           : st == EXERCISE_WRONG ? "WRONG PARTY"
                                  : "MISSED";
}

/* Appends text escaped for HTML, or for Markdown table cells. */
static int put_text(struct buf *b, enum exercise_fmt fmt, const char *s)
{
    int r = 0;

    for (; s && *s && r == 0; s++) {
        unsigned char ch = (unsigned char)*s;

        if (fmt == EXERCISE_FMT_HTML && ch == '<')
            r = buf_puts(b, "&lt;");
        else if (fmt == EXERCISE_FMT_HTML && ch == '>')
            r = buf_puts(b, "&gt;");
        else if (fmt == EXERCISE_FMT_HTML && ch == '&')
            r = buf_puts(b, "&amp;");
        else if (fmt == EXERCISE_FMT_HTML && ch == '"')
            r = buf_puts(b, "&quot;");
        else if (fmt == EXERCISE_FMT_MD && strchr("|\\`*_[]<>#", ch))
            r = buf_printf(b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            r = buf_putc(b, ' ');
        else
            r = buf_putc(b, (char)ch);
    }
    return r;
}

static const char *phase_word(enum exercise_status st, const char *never)
{
    return st == EXERCISE_OK ? "met" : st == EXERCISE_LATE ? "MISSED (late)" : never;
}

/* The target column of a phase: the scenario's target and, when it says
 * something else, the daemon's: "30m00s from the first incident: met;
 * the daemon's 15m00s (category A, Red): MISSED (late)". */
static void targets_text(char *out, size_t size, const char *from, int64_t scen_us,
                         enum exercise_status scen, int64_t cfg_us, enum exercise_status cfg,
                         const char *box, const char *never)
{
    char a[32], c[32];
    int n;

    if (scen_us > 0)
        n = snprintf(out, size, "%s %s: %s", exercise_fmt_dur(scen_us, a, sizeof(a)), from,
                     phase_word(scen, never));
    else
        n = snprintf(out, size, "no target");
    if (n < 0 || (size_t)n >= size || cfg_us == scen_us)
        return;
    if (cfg_us > 0)
        snprintf(out + n, size - (size_t)n, "; the daemon's %s (%s): %s",
                 exercise_fmt_dur(cfg_us, c, sizeof(c)), box, phase_word(cfg, never));
    else
        snprintf(out + n, size - (size_t)n, "; the daemon's (%s): none", box);
}

/* A row of the milestone table. */
static int milestone(struct buf *b, enum exercise_fmt fmt, const char *what, int64_t at,
                     const char *target)
{
    char d[32];

    exercise_fmt_dur(at, d, sizeof(d));
    if (fmt == EXERCISE_FMT_HTML)
        return buf_printf(b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", what,
                          at < 0 ? "never" : d, target);
    return buf_printf(b, "| %s | %s | %s |\n", what, at < 0 ? "never" : d, target);
}

static int item_rows(struct buf *b, enum exercise_fmt fmt, const struct exercise_item *v, size_t n)
{
    char at[32], due[32];
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++) {
        exercise_fmt_dur(v[i].at_us, at, sizeof(at));
        if (v[i].due_us > 0)
            exercise_fmt_dur(v[i].due_us, due, sizeof(due));
        else
            snprintf(due, sizeof(due), "during the run");
        r = buf_puts(b, fmt == EXERCISE_FMT_HTML ? "<tr><td>" : "| ");
        r = r ? r : put_text(b, fmt, v[i].label);
        if (r == 0 && fmt == EXERCISE_FMT_HTML)
            r = buf_printf(b, "</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td></tr>\n",
                           v[i].at_us < 0 ? "never" : at, due,
                           v[i].status == EXERCISE_OK ? "ok" : "bad", status_word(v[i].status));
        else if (r == 0)
            r = buf_printf(b, " | %s | %s | %s |\n", v[i].at_us < 0 ? "never" : at, due,
                           status_word(v[i].status));
    }
    return r;
}

/* What to review, one line per problem. */
static int recommendations(struct buf *b, enum exercise_fmt fmt, const struct exercise_score *sc)
{
    const char *li = fmt == EXERCISE_FMT_HTML ? "<li>" : "- ";
    const char *end = fmt == EXERCISE_FMT_HTML ? "</li>\n" : "\n";
    char t1[32], t2[32];
    int n = 0, r = 0;

    for (size_t i = 0; i < sc->ndet && r == 0; i++) {
        const struct exercise_item *it = &sc->det[i];

        if (it->status == EXERCISE_OK)
            continue;
        n++;
        r = buf_printf(b, "%sDetection \"", li);
        r = r ? r : put_text(b, fmt, it->label);
        r = r ? r
              : buf_printf(b, "\" %s (scenario line %u): ",
                           it->status == EXERCISE_MISSED ? "never happened" : "came late",
                           it->line);
        r = r ? r
              : buf_printf(b, "%s%s",
                           strncmp(it->label, "rule ", 5) == 0
                               ? "check that the rule is loaded and its log source collected "
                                 "(hikeshi rules test with the scenario's records)"
                               : "check triage's incident type and kill-chain mapping for "
                                 "the rules that fired",
                           end);
    }
    for (size_t i = 0; i < sc->ndec && r == 0; i++) {
        const struct exercise_item *it = &sc->dec[i];

        if (it->status == EXERCISE_OK)
            continue;
        n++;
        r = buf_printf(b, "%sDecision \"", li);
        r = r ? r : put_text(b, fmt, it->label);
        if (r == 0 && it->status == EXERCISE_WRONG)
            r = buf_printf(b,
                           "\" was broken: a message went to that party at %s (scenario line "
                           "%u): review who approves messages, the party's procedure and what "
                           "may be disclosed to whom, and when%s",
                           exercise_fmt_dur(it->at_us, t1, sizeof(t1)), it->line, end);
        else if (r == 0 && it->status == EXERCISE_MISSED)
            r = buf_printf(b,
                           "\" was never taken (deadline %s): make it an explicit step of "
                           "the procedure for this kind of incident, with who decides%s",
                           exercise_fmt_dur(it->due_us, t1, sizeof(t1)), end);
        else if (r == 0)
            r = buf_printf(b,
                           "\" took %s against %s: find what held it up (who decides, who "
                           "must be reached) and shorten that step%s",
                           exercise_fmt_dur(it->at_us, t1, sizeof(t1)),
                           exercise_fmt_dur(it->due_us, t2, sizeof(t2)), end);
    }
    if (r == 0 && sc->first_aid != EXERCISE_OK) {
        n++;
        if (sc->first_aid == EXERCISE_MISSED)
            r = buf_printf(b,
                           "%sFirst aid was never completed (target %s from the first "
                           "incident): rehearse containment, evidence preservation and the "
                           "first report until they fit the target%s",
                           li, exercise_fmt_dur(sc->first_aid_target_us, t1, sizeof(t1)), end);
        else
            r = buf_printf(
                b,
                "%sFirst aid took %s from the first incident, over its target "
                "of %s: the first-aid target was missed; review the first-aid "
                "checklist and who may isolate without asking%s",
                li, exercise_fmt_dur(sc->m.first_aid_done - sc->m.first_incident, t1, sizeof(t1)),
                exercise_fmt_dur(sc->first_aid_target_us, t2, sizeof(t2)), end);
    }
    if (r == 0 && sc->first_report != EXERCISE_OK) {
        n++;
        r = buf_printf(b,
                       "%sThe first report to the responsible person %s (target %s from the "
                       "first incident, within first aid): prepare its template and who "
                       "sends it, so that it goes out with the first findings%s",
                       li, sc->first_report == EXERCISE_LATE ? "came late" : "was never made",
                       exercise_fmt_dur(sc->first_aid_target_us, t1, sizeof(t1)), end);
    }
    if (r == 0 && sc->cfg_scored && sc->first_aid == EXERCISE_OK &&
        sc->first_aid_cfg != EXERCISE_OK && sc->cfg_first_aid_us > 0) {
        n++;
        r = buf_printf(b,
                       "%sFirst aid met the scenario's target but not the daemon's own of %s "
                       "(%s, incident.targets): the procedure is tuned to the exercise, not "
                       "to the organisation's commitment; rehearse against the daemon's%s",
                       li, exercise_fmt_dur(sc->cfg_first_aid_us, t1, sizeof(t1)), sc->cfg_box,
                       end);
    }
    if (r == 0 && n == 0)
        r = buf_printf(b,
                       "%sNothing missed or late: raise the difficulty (speed, fewer "
                       "hints) or rehearse another scenario%s",
                       li, end);
    return r;
}

/* The run's timeline as an SVG: injects above the axis, the team's and the
 * pipeline's facts below, deadlines as ticks. */
static int chart(struct buf *b, const struct exercise_score *sc, const struct exercise_event *ev,
                 size_t nev)
{
    int64_t span = 60 * US_PER_S;
    const double w = 900, x0 = 20;
    int r;

    for (size_t i = 0; i < nev; i++)
        if (ev[i].at_us > span)
            span = ev[i].at_us;
    for (size_t i = 0; i < sc->ndet; i++) {
        if (sc->det[i].at_us > span)
            span = sc->det[i].at_us;
        if (sc->det[i].due_us > span)
            span = sc->det[i].due_us;
    }
    for (size_t i = 0; i < sc->ndec; i++) {
        if (sc->dec[i].at_us > span)
            span = sc->dec[i].at_us;
        if (sc->dec[i].due_us > span)
            span = sc->dec[i].due_us;
    }
#define X(t) (x0 + w * (double)(t) / (double)span)
    r = buf_printf(b,
                   "<svg class=\"timeline\" width=\"960\" height=\"%zu\" "
                   "xmlns=\"http://www.w3.org/2000/svg\">\n"
                   "<line x1=\"%.0f\" y1=\"40\" x2=\"%.0f\" y2=\"40\" stroke=\"#444\"/>\n",
                   (size_t)(60 + 18 * (sc->ndet + sc->ndec)), x0, x0 + w);
    for (size_t i = 0; i < nev && r == 0; i++)
        r = buf_printf(b,
                       "<circle cx=\"%.1f\" cy=\"30\" r=\"4\" fill=\"#888\"><title>%s</title>"
                       "</circle>\n",
                       X(ev[i].at_us), ev[i].kind);
    for (size_t i = 0; i < sc->ndet + sc->ndec && r == 0; i++) {
        const struct exercise_item *it = i < sc->ndet ? &sc->det[i] : &sc->dec[i - sc->ndet];
        double y = 60 + 18 * (double)i;
        const char *col = it->status == EXERCISE_OK     ? "#2a7"
                          : it->status == EXERCISE_LATE ? "#e90"
                                                        : "#c22";

        if (it->due_us > 0)
            r = buf_printf(b,
                           "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
                           "stroke=\"#c22\"/>\n",
                           X(it->due_us), y - 7, X(it->due_us), y + 7);
        if (r == 0 && it->at_us >= 0)
            r = buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.0f\" r=\"5\" fill=\"%s\"/>\n",
                           X(it->at_us), y, col);
        if (r == 0) {
            r = buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">", x0 + 4, y + 4);
            r = r ? r : put_text(b, EXERCISE_FMT_HTML, it->label);
            r = r ? r : buf_puts(b, "</text>\n");
        }
    }
#undef X
    return r ? r : buf_puts(b, "</svg>\n");
}

static const char *status_key(enum exercise_status st)
{
    return st == EXERCISE_OK      ? "ok"
           : st == EXERCISE_LATE  ? "late"
           : st == EXERCISE_WRONG ? "wrong_party"
                                  : "missed";
}

static int report_json(const struct exercise_score *sc, struct buf *b)
{
    int r = buf_printf(b,
                       "{\"run\":%" PRId64 ",\"speed\":%g,\"points\":%d,\"max_points\":%d,"
                       "\"first_aid\":\"%s\",\"first_aid_target_s\":%" PRId64 ","
                       "\"first_aid_cfg\":\"%s\",\"first_aid_cfg_target_s\":%" PRId64 ","
                       "\"emergency\":\"%s\",\"emergency_target_s\":%" PRId64 ","
                       "\"emergency_cfg\":\"%s\",\"emergency_cfg_target_s\":%" PRId64 ","
                       "\"targets_box\":\"%s\",\"first_report\":\"%s\",\"messages\":%zu,"
                       "\"wrong_party\":%zu,"
                       "\"milestones\":{\"first_alert_s\":%" PRId64 ",\"first_incident_s\":%" PRId64
                       ",\"first_aid_start_s\":%" PRId64 ",\"first_aid_done_s\":%" PRId64
                       ",\"first_report_s\":%" PRId64 ",\"emergency_done_s\":%" PRId64 "},"
                       "\"alerts\":%zu,\"incidents\":%zu,\"items\":[",
                       sc->run_id, sc->speed, sc->points, sc->max_points,
                       sc->first_aid == EXERCISE_OK     ? "ok"
                       : sc->first_aid == EXERCISE_LATE ? "late"
                                                        : "missed",
                       sc->first_aid_target_us / US_PER_S, status_key(sc->first_aid_cfg),
                       sc->cfg_first_aid_us / US_PER_S, status_key(sc->emergency),
                       sc->emergency_target_us / US_PER_S, status_key(sc->emergency_cfg),
                       sc->cfg_emergency_us / US_PER_S, sc->cfg_box, status_key(sc->first_report),
                       sc->nmessages, sc->nwrong,
                       sc->m.first_alert < 0 ? -1 : sc->m.first_alert / US_PER_S,
                       sc->m.first_incident < 0 ? -1 : sc->m.first_incident / US_PER_S,
                       sc->m.first_aid_start < 0 ? -1 : sc->m.first_aid_start / US_PER_S,
                       sc->m.first_aid_done < 0 ? -1 : sc->m.first_aid_done / US_PER_S,
                       sc->m.first_report < 0 ? -1 : sc->m.first_report / US_PER_S,
                       sc->m.emergency_done < 0 ? -1 : sc->m.emergency_done / US_PER_S, sc->nalerts,
                       sc->nincidents);

    for (size_t i = 0; i < sc->ndet + sc->ndec && r == 0; i++) {
        const struct exercise_item *it = i < sc->ndet ? &sc->det[i] : &sc->dec[i - sc->ndet];

        r = buf_printf(b, "%s{\"kind\":\"%s\",\"what\":", i ? "," : "",
                       i < sc->ndet ? "detection" : "decision");
        r = r ? r : buf_json_str(b, it->label, strlen(it->label));
        r = r ? r
              : buf_printf(
                    b, ",\"at_s\":%" PRId64 ",\"due_s\":%" PRId64 ",\"status\":\"%s\",\"line\":%u}",
                    it->at_us < 0 ? -1 : it->at_us / US_PER_S, it->due_us / US_PER_S,
                    status_key(it->status), it->line);
    }
    return r ? r : buf_puts(b, "]}\n");
}

/* One line of the report's timeline. */
struct tl_line {
    int64_t at_us;
    size_t order; /* file order among equal times */
    const char *kind, *text;
};

static int cmp_line(const void *a, const void *b)
{
    const struct tl_line *x = a, *y = b;

    if (x->at_us != y->at_us)
        return x->at_us < y->at_us ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The injects and what was detected and decided, in scenario time order. */
static int timeline_list(struct buf *b, enum exercise_fmt fmt, const struct exercise_score *sc,
                         const struct exercise_event *ev, size_t nev)
{
    int html = fmt == EXERCISE_FMT_HTML;
    size_t n = 0, cap = nev + sc->ndet + sc->ndec;
    struct tl_line *v = cap ? calloc(cap, sizeof(*v)) : NULL;
    char t1[32];
    int r = 0;

    if (cap && !v)
        return -ENOMEM;
    for (size_t i = 0; i < nev; i++, n++)
        v[n] = (struct tl_line){ev[i].at_us, n, ev[i].kind, ev[i].text};
    for (size_t i = 0; i < sc->ndet + sc->ndec; i++) {
        const struct exercise_item *it = i < sc->ndet ? &sc->det[i] : &sc->dec[i - sc->ndet];

        if (it->at_us >= 0) {
            v[n] = (struct tl_line){it->at_us, n, i < sc->ndet ? "detected" : "decided", it->label};
            n++;
        }
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_line);
    for (size_t i = 0; i < n && r == 0; i++) {
        r = buf_printf(b, "%s%s %s: ", html ? "<li>" : "- ",
                       exercise_fmt_dur(v[i].at_us, t1, sizeof(t1)), v[i].kind);
        r = r ? r : put_text(b, fmt, v[i].text);
        r = r ? r : buf_puts(b, html ? "</li>\n" : "\n");
    }
    free(v);
    return r;
}

int exercise_report(const struct scenario *s, const struct exercise_score *sc,
                    const struct exercise_event *ev, size_t nev,
                    const struct exercise_trend_row *trend, size_t ntrend, enum exercise_fmt fmt,
                    struct buf *b)
{
    int html = fmt == EXERCISE_FMT_HTML;
    char t2[320], started[32];
    time_t st = (time_t)(sc->started_us / US_PER_S);
    struct tm tm;
    int r;

    if (fmt == EXERCISE_FMT_JSON)
        return report_json(sc, b);
    if (!gmtime_r(&st, &tm))
        memset(&tm, 0, sizeof(tm));
    strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%SZ", &tm);
    if (html) {
        r = buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
                        "After-action report</title>\n<style>body{font-family:sans-serif;"
                        "max-width:980px;margin:auto}td,th{border:1px solid #ccc;padding:3px 8px}"
                        "table{border-collapse:collapse}.ok{color:#2a7}.bad{color:#c22;"
                        "font-weight:bold}</style></head><body>\n<h1>After-action report: ");
        r = r ? r : put_text(b, fmt, s->title);
        r = r ? r : buf_puts(b, "</h1>\n<p>");
    } else {
        r = buf_puts(b, "# After-action report: ");
        r = r ? r : put_text(b, fmt, s->title);
        r = r ? r : buf_puts(b, "\n\n");
    }
    r = r ? r
          : buf_printf(b,
                       "Exercise run %" PRId64 " of scenario %s, started %s at speed %gx. "
                       "Score: %d of %d points (2 on time, 1 late, 0 missed). "
                       "%zu alerts and %zu incidents came from the exercise's records; "
                       "the team approved %zu messages for sending%s.%s",
                       sc->run_id, s->name, started, sc->speed, sc->points, sc->max_points,
                       sc->nalerts, sc->nincidents, sc->nmessages,
                       sc->nwrong ? ", some to a party that was not to be told" : "",
                       html ? "</p>\n" : "\n\n");
    /* Milestones */
    r = r ? r
          : buf_puts(b, html ? "<h2>Time to act</h2>\n<table><tr><th>milestone</th><th>scenario "
                               "time</th><th>target</th></tr>\n"
                             : "## Time to act\n\n| milestone | scenario time | target |\n"
                               "|---|---|---|\n");
    r = r ? r : milestone(b, fmt, "first alert", sc->m.first_alert, "");
    r = r ? r : milestone(b, fmt, "first incident", sc->m.first_incident, "");
    r = r ? r : milestone(b, fmt, "first aid started", sc->m.first_aid_start, "");
    targets_text(t2, sizeof(t2), "from the first incident", sc->first_aid_target_us, sc->first_aid,
                 sc->cfg_first_aid_us, sc->first_aid_cfg, sc->cfg_box, "never");
    r = r ? r : milestone(b, fmt, "first aid completed", sc->m.first_aid_done, t2);
    targets_text(t2, sizeof(t2), "from the first incident (first aid)", sc->first_aid_target_us,
                 sc->first_report, sc->first_aid_target_us, sc->first_report, sc->cfg_box, "never");
    r = r ? r : milestone(b, fmt, "first report", sc->m.first_report, t2);
    targets_text(t2, sizeof(t2), "from first aid completed", sc->emergency_target_us, sc->emergency,
                 sc->cfg_emergency_us, sc->emergency_cfg, sc->cfg_box, "not reached in this run");
    r = r ? r : milestone(b, fmt, "emergency response completed", sc->m.emergency_done, t2);
    r = r ? r : buf_puts(b, html ? "</table>\n" : "\n");
    /* Expectations */
    r = r ? r
          : buf_puts(b, html ? "<h2>Detections</h2>\n<table><tr><th>expected</th><th>at</th>"
                               "<th>deadline</th><th>result</th></tr>\n"
                             : "## Detections\n\n| expected | at | deadline | result |\n"
                               "|---|---|---|---|\n");
    r = r ? r : item_rows(b, fmt, sc->det, sc->ndet);
    r = r ? r
          : buf_puts(b, html ? "</table>\n<h2>Decisions</h2>\n<table><tr><th>expected</th>"
                               "<th>at</th><th>deadline</th><th>result</th></tr>\n"
                             : "\n## Decisions\n\n| expected | at | deadline | result |\n"
                               "|---|---|---|---|\n");
    r = r ? r : item_rows(b, fmt, sc->dec, sc->ndec);
    r = r ? r
          : buf_puts(b, html ? "</table>\n<h2>What to review</h2>\n<ul>\n"
                             : "\n## What to review\n\n");
    r = r ? r : recommendations(b, fmt, sc);
    /* Timeline */
    r = r ? r
          : buf_puts(b, html ? "</ul>\n<h2>Timeline</h2>\n" : "\n## Timeline (scenario time)\n\n");
    if (r == 0 && html)
        r = chart(b, sc, ev, nev);
    r = r ? r : buf_puts(b, html ? "<ul>\n" : "");
    r = r ? r : timeline_list(b, fmt, sc, ev, nev);
    /* Trend */
    r = r ? r
          : buf_puts(b,
                     html ? "</ul>\n<h2>Trend</h2>\n<table><tr><th>run</th><th>started</th>"
                            "<th>points</th><th>first incident</th><th>first aid done</th>"
                            "</tr>\n"
                          : "\n## Trend over runs of this scenario\n\n| run | started | "
                            "points | first incident | first aid done |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < ntrend && r == 0; i++) {
        char a[32], c[32];
        time_t ts = (time_t)(trend[i].started_us / US_PER_S);

        if (!gmtime_r(&ts, &tm))
            memset(&tm, 0, sizeof(tm));
        strftime(started, sizeof(started), "%Y-%m-%d %H:%M", &tm);
        r = buf_printf(b,
                       html ? "<tr><td>%" PRId64 "</td><td>%s</td><td>%d/%d</td><td>%s</td>"
                              "<td>%s</td></tr>\n"
                            : "| %" PRId64 " | %s | %d/%d | %s | %s |\n",
                       trend[i].run_id, started, trend[i].points, trend[i].max_points,
                       exercise_fmt_dur(trend[i].first_incident, a, sizeof(a)),
                       exercise_fmt_dur(trend[i].first_aid_done, c, sizeof(c)));
    }
    return r ? r : buf_puts(b, html ? "</table>\n</body></html>\n" : "");
}

int exercise_score_summary(const struct exercise_score *sc, struct buf *out)
{
    return buf_printf(out,
                      "{\"points\":%d,\"max\":%d,\"first_incident\":%" PRId64
                      ",\"first_aid_done\":%" PRId64 "}",
                      sc->points, sc->max_points, sc->m.first_incident, sc->m.first_aid_done);
}

int exercise_summary_parse(const char *json, size_t len, struct exercise_trend_row *ret)
{
    struct jp_span doc, v;
    int64_t x;
    static const char *const keys[] = {"points", "max", "first_incident", "first_aid_done"};
    int64_t vals[4];

    if (jp_doc(json, len, &doc, NULL) < 0)
        return -EINVAL;
    for (size_t i = 0; i < 4; i++) {
        if (jp_lookup(doc, keys[i], &v) < 0 || jp_span_i64(v, &x) < 0)
            return -EINVAL;
        vals[i] = x;
    }
    if (vals[0] < 0 || vals[0] > 100000 || vals[1] < 0 || vals[1] > 100000)
        return -EINVAL;
    ret->points = (int)vals[0];
    ret->max_points = (int)vals[1];
    ret->first_incident = vals[2];
    ret->first_aid_done = vals[3];
    return 0;
}
