/*
 * playbook_leak.h - information-leak playbooks (MISSION.md section 2,
 * issue 25): per leak type (loss or theft, misdelivery, insider, P2P,
 * malware, unauthorised access, rumour) the response points of that type,
 * and one common playbook with the stages every leak goes through
 * (discovery and reporting, notification of the people affected, reports
 * to authorities, publication).
 *
 * A leak playbook is a YAML file of playbooks/leak/ in the playbook
 * language (playbook.h, docs/incident.md "Leak playbooks") whose selector
 * is `leak:` instead of `types:` — a list of leak type names, or
 * `[common]`.  Its tasks carry a NIST CSF `function:` and, where a
 * deadline applies, a `due:` counted from when the incident's leak type
 * was set (the discovery reported).
 *
 * When an incident gets a leak type, playbook_leak_tasks() adds the
 * type's tasks (marked box "leak:TYPE") and the common ones (box "leak")
 * to its checklist, each set once per incident: the marks on the
 * checklist say what was added already.
 */
#ifndef HIKESHI_INCIDENT_PLAYBOOK_LEAK_H
#define HIKESHI_INCIDENT_PLAYBOOK_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include "incident/incident.h"
#include "incident/playbook.h"
#include "util/parse_err.h"

/* The box of the common stages' tasks; a type's are "leak:" + its name. */
#define PLAYBOOK_LEAK_BOX_COMMON "leak"
#define PLAYBOOK_LEAK_BOX_MAX 32

struct playbook_leak {
    char *name;     /* owned */
    char *file;     /* owned */
    uint32_t leaks; /* bit (1 << enum incident_leak) per type served */
    int common;     /* `leak: [common]`: the stages of every leak */
    struct playbook_task_def *tasks[INCIDENT_PHASE_COUNT]; /* owned */
    size_t ntasks[INCIDENT_PHASE_COUNT];
};

/* Every leak playbook loaded.  Embedded (init/done). */
struct playbook_leak_set {
    struct playbook_leak *pb; /* owned */
    size_t n;
    struct playbook_issue *issues; /* owned; at most PLAYBOOK_MAX_ISSUES */
    size_t nissues;
    size_t issues_dropped;
};

void playbook_leak_set_init(struct playbook_leak_set *set);
void playbook_leak_set_done(struct playbook_leak_set *set);

/*
 * Parses one leak playbook and adds it to `set`.  -EINVAL with reterr
 * (line, col, static msg) and `set` unchanged: a bad document, an unknown
 * leak type, a type (or common) already served by an earlier file; -ENOMEM.
 */
int playbook_leak_parse(struct playbook_leak_set *set, const char *text, size_t len,
                        const char *file, struct parse_err *reterr);

/*
 * Loads every *.yaml / *.yml of `dir` (sorted by name); a file that fails
 * is recorded in set->issues and skipped.  The number loaded, or -errno
 * when the directory cannot be read, -ENOMEM.
 */
int playbook_leak_set_load_dir(struct playbook_leak_set *set, const char *dir);

/* The playbook of leak type `leak`, or NULL; the common one, or NULL. */
const struct playbook_leak *playbook_leak_find(const struct playbook_leak_set *set,
                                               enum incident_leak leak);
const struct playbook_leak *playbook_leak_common(const struct playbook_leak_set *set);

/* "leak:p2p" for p2p into box (room for PLAYBOOK_LEAK_BOX_MAX). */
void playbook_leak_box(enum incident_leak leak, char *box, size_t size);

/*
 * Appends to `cl` the tasks an incident gets when its leak type becomes
 * `leak`: those of the type's playbook unless `cl` holds tasks of box
 * "leak:TYPE" already, and the common ones unless it holds tasks of box
 * "leak"; due times count from now_us.  Returns how many were added (0:
 * all there already, or no playbook), -EINVAL (leak NONE or out of range),
 * -E2BIG past PLAYBOOK_CHECKLIST_MAX (nothing added), -ENOMEM (the caller
 * discards `cl`: part may have been added).
 */
int playbook_leak_tasks(const struct playbook_leak_set *set, enum incident_leak leak,
                        int64_t now_us, struct playbook_checklist *cl);

#endif
