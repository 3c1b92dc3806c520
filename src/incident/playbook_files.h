/*
 * playbook_files.h - the incident files read at start, loaded and their
 * faults logged one way for the daemon and for `hikeshi run -n`: the
 * playbooks (incident.playbooks), the leak playbooks (PLAYBOOKS/leak) and
 * the procedures per box (incident.procedures, else
 * PLAYBOOKS/procedures/boxes.yaml).  A bad file is logged with
 * FILE:LINE:COL and left out: the daemon runs without it (docs/incident.md).
 */
#ifndef HIKESHI_INCIDENT_PLAYBOOK_FILES_H
#define HIKESHI_INCIDENT_PLAYBOOK_FILES_H

#include "incident/playbook.h"
#include "incident/playbook_leak.h"
#include "incident/procedures.h"

/*
 * Loads into the three sets (initialised by the caller): the playbooks of
 * playbooks_dir and of its leak/ (a missing leak/ means none), and the
 * procedures of procedures_file, else of playbooks_dir/procedures/boxes.yaml
 * (a missing default file means none).  playbooks_dir may be NULL (no
 * playbooks, no default procedures).  Every fault is logged (log_warnx).
 * Returns the number of faults logged.
 */
unsigned playbook_files_load(struct playbook_set *playbooks, struct playbook_leak_set *leaks,
                             struct procedure_set *procedures, const char *playbooks_dir,
                             const char *procedures_file);

#endif
