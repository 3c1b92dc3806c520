/*
 * procedures.h - the procedures of each box (MISSION.md section 3: a
 * level Red, Orange, Yellow or Green declared for an asset category A to
 * D; issue 25): the tasks the box adds to an incident's checklist, each
 * with its NIST CSF function, and the parties to inform, with the fields
 * that may go to them, the marking they go at and the channel.
 *
 * One YAML file (playbooks/procedures/boxes.yaml by default, language in
 * docs/incident.md "Procedures per box") maps box names ("B-Orange") to
 * {tasks, inform}.  Tasks are written as playbook tasks are
 * (playbook_task_def_parse); inform entries name message parties,
 * channels, TLP markings and fields as the message module does
 * (message.h), and what a party's disclosure rule refuses is refused here
 * already, where the file is read.
 *
 * Pure parsing and lookup: casefile_procedure.c makes the tasks and the
 * message drafts of a box on an incident.
 */
#ifndef HIKESHI_INCIDENT_PROCEDURES_H
#define HIKESHI_INCIDENT_PROCEDURES_H

#include <stddef.h>
#include <stdint.h>

#include "incident/message.h"
#include "incident/playbook.h"
#include "triage/asset.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/parse_err.h"

/* Caps on the file and on one box. */
#define PROCEDURES_MAX_FILE_BYTES (256 * 1024)
#define PROCEDURES_MAX_TASKS 64                   /* per box */
#define PROCEDURES_MAX_INFORM MESSAGE_PARTY_COUNT /* per box: each party once */
#define PROCEDURES_LEVELS 4                       /* Green .. Red */
#define PROCEDURES_CATEGORIES 4                   /* A .. D */
#define PROCEDURES_BOX_NAME_MAX 16                /* "B-Orange" and its NUL */

/* One party a box informs: a message drafted to it carries the fields of
 * `disclose` whose marking is at most `tlp`. */
struct procedure_inform {
    enum message_party party;
    enum message_channel channel;
    enum message_tlp tlp; /* at most the party's rule allows */
    uint32_t disclose;    /* MESSAGE_FIELD_BIT per field; within the rule's allowed, not 0 */
};

struct procedure_box {
    int defined; /* 0: the file says nothing for this box */
    enum asset_category category;
    enum triage_alert_level level;
    char name[PROCEDURES_BOX_NAME_MAX]; /* "B-Orange" */
    struct playbook_task_def *tasks;    /* owned */
    size_t ntasks;
    struct procedure_inform *inform; /* owned */
    size_t ninform;
};

/* Every box of one file.  Embedded (init/done). */
struct procedure_set {
    struct procedure_box box[PROCEDURES_CATEGORIES][PROCEDURES_LEVELS];
    size_t ndefined;
    char *file; /* owned; where it was loaded from, or NULL */
};

void procedure_set_init(struct procedure_set *set);
void procedure_set_done(struct procedure_set *set);

/*
 * Parses the procedures file from `len` bytes of YAML text into `set`
 * (initialised, empty).  `file` names it in set->file.  On an error
 * returns -EINVAL with reterr's line, col (1-based) and msg set (msg
 * valid until the next YAML document is parsed in this thread, see
 * util/ydoc.h) and `set` left empty; -ENOMEM.
 */
int procedure_set_parse(struct procedure_set *set, const char *text, size_t len, const char *file,
                        struct parse_err *reterr);

/* As procedure_set_parse for the regular file `path` (at most
 * PROCEDURES_MAX_FILE_BYTES); also -errno from reading it. */
int procedure_set_load(struct procedure_set *set, const char *path, struct parse_err *reterr);

/* "B-Orange" for a category A..D and a level Green..Red into buf (of at
 * least PROCEDURES_BOX_NAME_MAX bytes); -EINVAL outside those. */
int procedure_box_name(enum asset_category c, enum triage_alert_level l, char *buf, size_t size);

/* The box of category c and level l when the file defines it, else NULL
 * (also for ASSET_CAT_NONE and levels out of range; set may be NULL). */
const struct procedure_box *procedure_box_get(const struct procedure_set *set,
                                              enum asset_category c, enum triage_alert_level l);

/*
 * Appends the defined boxes (category A..D, then Red to Green), filtered
 * by category `c` (ASSET_CAT_NONE: any) and level `l` (-1: any), as
 * comma-separated JSON objects {"box", "level", "category", "tasks":
 * [{"title", "description", "owner", "required", "function", "due",
 * "due_seconds"}], "inform": [{"party", "channel", "tlp", "disclose":
 * [...]}]} (docs/api.md).  *ret_n (may be NULL) gets how many.  0 or
 * -ENOMEM / -E2BIG from the buffer.
 */
int procedure_set_json(const struct procedure_set *set, enum asset_category c, int l,
                       struct buf *out, size_t *ret_n);

#endif
