/*
 * playbook.h - response playbooks (MISSION.md sections 2 and 4) and the
 * task checklists they create.
 *
 * A playbook is a YAML file (one file per playbook under playbooks/, language in docs/incident.md)
 * naming the incident types it serves and, per phase, a checklist of tasks:
 * title, description, default owner role, and whether the task is required
 * before the phase may be left.  A playbook with `types: [default]` serves
 * every type that has no playbook of its own.  Loading a directory never
 * stops at one bad file: each failure is recorded as an issue (file, line,
 * column, reason) and the other files load.
 *
 * When an incident enters a phase, playbook_tasks_for() appends that phase's
 * tasks to the incident's checklist; people then tick, assign and add tasks.
 */
#ifndef HIKESHI_INCIDENT_PLAYBOOK_H
#define HIKESHI_INCIDENT_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "incident/csf.h"
#include "incident/incident.h"
#include "util/parse_err.h"
#include "util/ydoc.h"

/* Caps on one playbook file and what it declares. */
#define PLAYBOOK_MAX_FILE_BYTES (256 * 1024)
#define PLAYBOOK_MAX_TASKS 64 /* per phase */
#define PLAYBOOK_MAX_FILES 256
#define PLAYBOOK_MAX_ISSUES 256
#define PLAYBOOK_TITLE_MAX 200
#define PLAYBOOK_TEXT_MAX 4000
#define PLAYBOOK_ROLE_MAX 64
/* Tasks one checklist may hold (playbook tasks of every phase plus ones
 * people add). */
#define PLAYBOOK_CHECKLIST_MAX 1024

struct playbook_task_def {
    char *title;       /* owned; non-empty */
    char *description; /* owned; may be "" */
    char *owner;       /* owned; default owner role, e.g. "responder" */
    int required;      /* 1: must be done before the phase is left */
    /* Evidence (docs/evidence.md, collection plans): with needs_evidence
     * the task is ticked only once an evidence item is linked to the
     * incident; collect ("CLASS/STEP", owned, or NULL) names the step of a
     * collection plan the task is, and needs an item of that step. */
    int needs_evidence;
    char *collect;
    enum csf_function function; /* the NIST CSF function served; CSF_NONE */
    int64_t due_us;             /* due this long after the task is made; 0: no deadline */
};

/* Caps on a task's deadline (`due:`, a duration such as 72h). */
#define PLAYBOOK_DUE_MAX_US (366LL * 86400 * 1000000)

/*
 * Parses one task mapping (title, description, owner, required,
 * needs_evidence, collect, function, due) into `t` (zeroed by the caller;
 * filled even on error, free with playbook_task_def_free).  For other
 * files that hold tasks in the same language (procedures, docs/incident.md).
 * Returns 0 or ydoc's error (the position is in d).
 */
int playbook_task_def_parse(struct ydoc *d, yaml_node_t *n, struct playbook_task_def *t);
void playbook_task_def_free(struct playbook_task_def *t);

/*
 * Parses the YAML list `v` (the caller checked it is a sequence) of at
 * most `max` tasks into *tasks, calloc'd and stored before the first task
 * is read, and *ntasks, counted before each task is read: the caller frees
 * them on every path, a task that failed half-read included.  An empty
 * list leaves *tasks NULL.  need_function: when not NULL, a task without
 * `function:` is refused with this sentence (reports summarise by
 * function).  0 or ydoc's error (the position is in d).
 */
int playbook_task_list_parse(struct ydoc *d, yaml_node_t *v, size_t max, const char *need_function,
                             struct playbook_task_def **tasks, size_t *ntasks);

/*
 * Parses one `phase: [tasks]` pair of a playbook's phases (first_aid,
 * emergency, watch, full_response) into tasks[phase] and ntasks[phase], as
 * playbook_task_list_parse() does; a phase seen twice is refused.
 */
int playbook_phase_parse(struct ydoc *d, yaml_node_t *k, yaml_node_t *v,
                         struct playbook_task_def **tasks, size_t *ntasks,
                         const char *need_function);

/* Frees the task arrays of every phase (tasks[p] holding ntasks[p]), as
 * both kinds of playbook keep them. */
void playbook_phase_tasks_free(struct playbook_task_def **tasks, const size_t *ntasks);

struct playbook {
    char *name;     /* owned */
    char *file;     /* owned; where it was loaded from */
    uint32_t types; /* bit (1 << enum triage_type) per type served */
    int is_default; /* serves types without a playbook of their own */
    struct playbook_task_def *tasks[INCIDENT_PHASE_COUNT]; /* owned */
    size_t ntasks[INCIDENT_PHASE_COUNT];
};

struct playbook_issue {
    char *file;         /* owned */
    unsigned line, col; /* 1-based; 0 when the whole file is at fault */
    char *msg;          /* owned */
};

/* Frees n load issues and the array. */
void playbook_issues_free(struct playbook_issue *issues, size_t n);

/* Every playbook loaded.  Embedded (init/done). */
struct playbook_set {
    struct playbook *pb; /* owned */
    size_t n;
    struct playbook_issue *issues; /* owned; at most PLAYBOOK_MAX_ISSUES */
    size_t nissues;
    size_t issues_dropped;
};

void playbook_set_init(struct playbook_set *set);
void playbook_set_done(struct playbook_set *set);

/*
 * Parses one playbook from YAML text and adds it to `set`.  `file` names it
 * in issues and in the playbook.  On an error returns -EINVAL with reterr's
 * line, col (1-based) and msg (static) set, and `set` unchanged; -ENOMEM.
 * A type already served by an earlier playbook is an error (which one
 * would apply would otherwise depend on load order).
 */
int playbook_parse(struct playbook_set *set, const char *text, size_t len, const char *file,
                   struct parse_err *reterr);

/*
 * Loads every *.yaml / *.yml file of `dir` (sorted by name).  A file that
 * fails is recorded in set->issues and skipped.  Returns the number of
 * playbooks loaded, or -errno when the directory cannot be read, -ENOMEM.
 */
int playbook_set_load_dir(struct playbook_set *set, const char *dir);

/*
 * The directory loader behind playbook_set_load_dir, for other files in
 * the playbook language (leak playbooks): calls `parse` on each *.yaml /
 * *.yml file of `dir` (sorted by name, at most PLAYBOOK_MAX_FILES, each at
 * most PLAYBOOK_MAX_FILE_BYTES) and records each failure in `iss` (the
 * set's own issue array, count and dropped count).  Returns the number of
 * files parsed, -errno when the directory cannot be read, -ENOMEM.
 */
typedef int playbook_file_parse_fn(void *set, const char *text, size_t len, const char *file,
                                   struct parse_err *reterr);
struct playbook_issues {
    struct playbook_issue **v;
    size_t *n, *dropped;
};
int playbook_dir_load(const char *dir, playbook_file_parse_fn *parse, void *set,
                      struct playbook_issues *iss);

/* The playbook serving `type`: its own, else the default, else NULL. */
const struct playbook *playbook_find(const struct playbook_set *set, enum triage_type type);

/* A task of one incident.  Strings owned by the checklist. */
struct playbook_task {
    uint32_t id;               /* unique within its checklist, from 1 */
    enum incident_phase phase; /* the phase that created it */
    char *title;
    char *description;
    char *owner;    /* role; may be "" */
    char *assignee; /* NULL: not assigned */
    int required;
    int added; /* 1: added by a person, not a playbook */
    int done;
    int64_t done_us;
    char *done_by; /* NULL unless done */
    enum csf_function function;
    int64_t due_us; /* absolute deadline; 0: none */
    char *box;      /* what made it besides the playbook of the type, e.g. a
                     * procedure box "B-Orange" or "leak:p2p"; NULL: the
                     * playbook of the type or a person */
};

struct playbook_checklist {
    struct playbook_task *t; /* owned */
    size_t n, cap;
    uint32_t next_id;
};

void playbook_checklist_init(struct playbook_checklist *cl);
void playbook_checklist_done(struct playbook_checklist *cl);

/*
 * Appends the checklist that entering `phase` creates for an incident of
 * `type` (the serving playbook's tasks of that phase; none when no playbook
 * serves the type), due times counted from now_us.  Returns how many tasks
 * were added, -E2BIG past PLAYBOOK_CHECKLIST_MAX (nothing added), -ENOMEM
 * (nothing added).
 */
int playbook_tasks_for(const struct playbook_set *set, enum triage_type type,
                       enum incident_phase phase, int64_t now_us, struct playbook_checklist *cl);

/*
 * Appends tasks made from `n` definitions in `phase`, due times counted
 * from now_us, each marked with `box` (may be NULL; see struct
 * playbook_task).  All or nothing: the count added, -E2BIG, -ENOMEM.
 */
int playbook_tasks_append(struct playbook_checklist *cl, enum incident_phase phase,
                          const struct playbook_task_def *defs, size_t n, int64_t now_us,
                          const char *box);

/* The definition behind task `t` of an incident of `type` (same phase and
 * title in the playbook serving the type), or NULL (a task added by hand,
 * or a playbook changed since). */
const struct playbook_task_def *playbook_task_def_find(const struct playbook_set *set,
                                                       enum triage_type type,
                                                       const struct playbook_task *t);

/* Adds a task by hand.  title non-empty (<= PLAYBOOK_TITLE_MAX), the rest
 * may be NULL.  *ret_id (may be NULL) gets its id.  -EINVAL, -E2BIG,
 * -ENOMEM. */
int playbook_task_add(struct playbook_checklist *cl, enum incident_phase phase, const char *title,
                      const char *description, const char *owner, int required, uint32_t *ret_id);
/* Ticks (done = 1) or unticks (done = 0) a task.  who is required to
 * tick.  -ENOENT for an unknown id, -EINVAL, -ENOMEM. */
int playbook_task_tick(struct playbook_checklist *cl, uint32_t id, int done, const char *who,
                       int64_t now_us);
/* Assigns (NULL or "" unassigns).  -ENOENT, -EINVAL, -ENOMEM. */
int playbook_task_assign(struct playbook_checklist *cl, uint32_t id, const char *assignee);
/* The task with `id`, or NULL. */
const struct playbook_task *playbook_task_get(const struct playbook_checklist *cl, uint32_t id);

/*
 * How many required tasks of `phase` are not done.  When there are some
 * and whylen > 0, `why` gets a sentence naming the first ones, for the API
 * to refuse leaving the phase ("2 required tasks of first_aid are open:
 * ...").  The gate is the caller's: incident_transition does not see
 * checklists.
 */
size_t playbook_checklist_blocking(const struct playbook_checklist *cl, enum incident_phase phase,
                                   char *why, size_t whylen);

#endif
