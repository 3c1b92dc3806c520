/*
 * report.h - the four reports of MISSION.md section 4, as Markdown and as
 * HTML, generated from an incident, its timeline, tasks and alerts summary.
 *
 *   first report    (first aid)       possible level, threats faced, what is known
 *   interim report 1 (emergency)      recommended level, social threat, evidence
 *   interim report 2 (emergency)      scope, revised level
 *   final report    (closing)         everything: course, tasks, lessons
 *
 * Every piece of text that came from a person or from logs is escaped in
 * both outputs: HTML escapes & < > " ' ; Markdown puts a backslash before
 * only the bytes that would mean something where they stand (any ` [ ] <,
 * emphasis marks that could open or close, an & that could start an
 * entity, block marks at a line's start), so a hostile title can neither
 * inject markup nor script in a viewer that renders Markdown as HTML, and
 * the report still reads as plain text ("source.ip=198.51.100.7",
 * "first_aid" stay as they are).
 */
#ifndef HIKESHI_INCIDENT_REPORT_H
#define HIKESHI_INCIDENT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "incident/incident.h"
#include "incident/playbook.h"
#include "util/buf.h"

/* Cap on one rendered report (each of markdown and html). */
#define REPORT_MAX_BYTES (4 * 1024 * 1024)

enum report_kind {
    REPORT_FIRST = 0,
    REPORT_INTERIM1,
    REPORT_INTERIM2,
    REPORT_FINAL,
};
#define REPORT_KIND_COUNT 4

/* One evidence item of the incident for the final report, as text lines
 * the case file wrote from the register (docs/evidence.md); borrowed. */
struct report_evidence {
    const char *item;           /* "EV-1 pcap capture.pcap, 216 bytes, SHA-256 ..." */
    const char *const *custody; /* one line per custody entry, oldest first */
    size_t ncustody;
};

/* What the author writes for a report; all borrowed, any may be NULL
 * ("not yet known" is printed).  Levels are -1 for "the incident's". */
struct report_input {
    const struct incident *inc;             /* required */
    const struct incident_change *timeline; /* oldest first; may be NULL */
    size_t ntimeline;
    const struct playbook_checklist *tasks; /* may be NULL */
    const char *alerts_summary;             /* e.g. "12 alerts: ssh_bruteforce x10 ..." */
    const char *threats;                    /* first report: threats faced */
    const char *known;                      /* first report: what is known (besides the summary) */
    const char *social_threat;              /* interim 1 */
    const char *evidence;                   /* interim 1 */
    const char *scope;                      /* interim 2 */
    const char *lessons;                    /* final: lessons and follow-up */
    int recommended_level;                  /* interim 1; enum triage_alert_level or -1 */
    int revised_level;                      /* interim 2; enum triage_alert_level or -1 */
    const struct report_evidence *evidence_items; /* final: the register's items; may be NULL */
    size_t nevidence_items;
};

/* A generated report.  Embedded; report_done frees it. */
struct report {
    enum report_kind kind;
    unsigned version; /* 1, 2, ... per incident and kind, given by the caller */
    int64_t created_us;
    char *author; /* owned */
    struct buf markdown;
    struct buf html;
};

/* "first report", "interim report 1", "interim report 2", "final report". */
const char *report_kind_name(enum report_kind k);
/* "first", "interim1", "interim2", "final" (for URLs and the API). */
const char *report_kind_id(enum report_kind k);

/*
 * Renders report `kind` of in->inc into *ret (initialised here; the caller
 * calls report_done even on failure).  author is required.  Returns 0,
 * -EINVAL (no incident, no author, bad kind), -ENOMEM, -E2BIG (past
 * REPORT_MAX_BYTES).
 */
int report_generate(const struct report_input *in, enum report_kind kind, unsigned version,
                    const char *author, int64_t now_us, struct report *ret);
void report_done(struct report *r);

/* Appends s[0..len) to b escaped for HTML text and attribute values. */
int report_html_escape(struct buf *b, const char *s, size_t len);
/* report_md_escape flags. */
#define REPORT_MD_MULTILINE 1u  /* newlines kept as hard line breaks, not spaces */
#define REPORT_MD_LINE_START 2u /* the text begins a line (a paragraph, a list item) */
/*
 * Appends s[0..len) to b escaped for Markdown (CommonMark and GitHub's
 * tables, task lists and strikethrough) text where it stands: inline
 * unless REPORT_MD_LINE_START.  Escapes only what would otherwise be read
 * as structure: code spans, links and images, raw HTML and autolinks,
 * entities, emphasis and strikethrough marks that could open or close, a
 * heading's closing hashes, a backslash that would escape or break; and at
 * each line's start what would open a block (heading, quote, list item,
 * thematic break, setext underline, fence, table row).  Control bytes
 * become spaces.  Returns 0 or buf's error (-E2BIG).
 */
int report_md_escape(struct buf *b, const char *s, size_t len, unsigned flags);

#endif
