/*
 * evidence_plan.h - collection plans (MISSION.md sections 5 and 8):
 * for each class of asset, what to collect first and how, written before
 * the incident because evidence is lost to time and reboots.
 *
 * A plan file (docs/evidence.md, "Collection plans"; the shipped ones in
 * playbooks/collection/) names its class and lists its steps in the order
 * they must be taken: volatile data first (memory, network connections,
 * processes), then disks, then logs.  Each step says what to collect, the
 * evidence kind it yields, a tool and a command to suggest.  The API
 * serves the plan for the kind of an incident's asset
 * (GET /api/v1/incidents/{id}/collection-plan); what is collected is
 * registered as evidence with the step's kind.
 */
#ifndef HIKESHI_EVIDENCE_EVIDENCE_PLAN_H
#define HIKESHI_EVIDENCE_EVIDENCE_PLAN_H

#include <stddef.h>

#include "util/parse_err.h"

#define EVIDENCE_PLAN_NAME_MAX 32    /* a class or step id: [a-z0-9-], 1 to 32 */
#define EVIDENCE_PLAN_TEXT_MAX 2048  /* what, tool, command, notes */
#define EVIDENCE_PLAN_STEPS_MAX 64   /* steps in one plan */
#define EVIDENCE_PLAN_FILE_MAX 65536 /* bytes of one plan file */
#define EVIDENCE_PLANS_MAX 64        /* plan files in a directory */

/* The order of collection: a plan's steps never go back up this list. */
enum evidence_plan_order {
    EVIDENCE_PLAN_VOLATILE = 0, /* memory, network connections, processes */
    EVIDENCE_PLAN_DISK,         /* disk images, file systems */
    EVIDENCE_PLAN_LOGS,         /* logs kept on the host or elsewhere */
};

struct evidence_plan_step {
    char *id;   /* owned; unique in the plan */
    char *what; /* owned; what to collect, for a person */
    enum evidence_plan_order order;
    const char *kind; /* static: one of evidence_kinds */
    char *tool;       /* owned; may be "" */
    char *command;    /* owned; a suggestion, {host} for the host's name; may be "" */
    char *notes;      /* owned; may be "" */
};

struct evidence_plan {
    char *name;                       /* owned; the asset class ("server") */
    char *title;                      /* owned */
    char *file;                       /* owned; where it was read from */
    struct evidence_plan_step *steps; /* owned, in collection order */
    size_t nsteps;
};

struct evidence_plan_set {
    struct evidence_plan *v; /* owned, sorted by name */
    size_t n;
};

/* "volatile", "disk", "logs". */
const char *evidence_plan_order_name(enum evidence_plan_order o);

/*
 * Parses one plan file's text into *ret (freed with evidence_plan_done
 * even on failure).  -EINVAL with reterr (line, column and a sentence
 * naming the key or step at fault), -ENOMEM.
 */
int evidence_plan_parse(const char *text, size_t len, const char *file, struct evidence_plan *ret,
                        struct parse_err *reterr);
void evidence_plan_done(struct evidence_plan *p);

/*
 * Loads every *.yaml of `dir`: a class named twice is an error.  On
 * failure ret_err gets "FILE:LINE:COL: message" and the set is emptied.
 * 0, -EINVAL, -ENOMEM, -errno from reading the directory.
 */
int evidence_plan_load_dir(const char *dir, struct evidence_plan_set *ret, char *ret_err,
                           size_t errlen);
void evidence_plan_set_done(struct evidence_plan_set *s);

/* The plan of class `name`, and step `step` of it ("CLASS/STEP" split by
 * evidence_plan_find_ref); NULL when there is none. */
const struct evidence_plan *evidence_plan_find(const struct evidence_plan_set *s, const char *name);
const struct evidence_plan_step *evidence_plan_find_ref(const struct evidence_plan_set *s,
                                                        const char *ref,
                                                        const struct evidence_plan **ret_plan);

#endif
