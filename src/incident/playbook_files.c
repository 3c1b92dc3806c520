/*
 * playbook_files.c - the incident files read at start (see
 * playbook_files.h): one loader, so that `hikeshi run -n` reports what the
 * daemon would log.
 */
#include "incident/playbook_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/ydoc.h"

/* Logs each file a directory loader skipped, as `what` FILE:LINE:COL: why. */
static unsigned log_issues(const char *what, const struct playbook_issue *issues, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct parse_err pe = {.line = issues[i].line, .col = issues[i].col, .msg = issues[i].msg};
        char where[4096 + 512];

        ydoc_err_format(where, sizeof(where), issues[i].file, &pe);
        log_warnx("%s %s", what, where);
    }
    return (unsigned)n;
}

static unsigned load_playbooks(struct playbook_set *set, const char *dir)
{
    unsigned faults = 0;
    int r = playbook_set_load_dir(set, dir);

    if (r < 0) {
        log_warnx("playbooks in %s: %s; incidents get no tasks from playbooks", dir, strerror(-r));
        faults++;
    }
    return faults + log_issues("playbook", set->issues, set->nissues);
}

static unsigned load_leaks(struct playbook_leak_set *set, const char *dir)
{
    char path[4096];
    unsigned faults = 0;
    int r;

    if ((size_t)snprintf(path, sizeof(path), "%s/leak", dir) >= sizeof(path))
        return 0;
    r = playbook_leak_set_load_dir(set, path);
    if (r < 0 && r != -ENOENT) {
        log_warnx("leak playbooks in %s: %s; leak types bring no tasks", path, strerror(-r));
        faults++;
    }
    return faults + log_issues("leak playbook", set->issues, set->nissues);
}

static unsigned load_procedures(struct procedure_set *set, const char *dir, const char *conf)
{
    struct parse_err pe = {0};
    char path[4096], where[4096 + 512];
    int r;

    if (conf)
        snprintf(path, sizeof(path), "%s", conf);
    else if (!dir ||
             (size_t)snprintf(path, sizeof(path), "%s/procedures/boxes.yaml", dir) >= sizeof(path))
        return 0;
    r = procedure_set_load(set, path, &pe);
    if (r == -ENOENT && !conf)
        return 0;
    if (r == -EINVAL) {
        ydoc_err_format(where, sizeof(where), path, &pe);
        log_warnx("procedures %s; declared levels and incidents get no procedures", where);
        return 1;
    }
    if (r < 0) {
        log_warnx("procedures %s: %s; declared levels and incidents get no procedures", path,
                  strerror(-r));
        return 1;
    }
    log_info("procedures: %zu boxes from %s", set->ndefined, path);
    return 0;
}

unsigned playbook_files_load(struct playbook_set *playbooks, struct playbook_leak_set *leaks,
                             struct procedure_set *procedures, const char *playbooks_dir,
                             const char *procedures_file)
{
    unsigned faults = 0;

    if (playbooks_dir) {
        faults += load_playbooks(playbooks, playbooks_dir);
        faults += load_leaks(leaks, playbooks_dir);
    }
    return faults + load_procedures(procedures, playbooks_dir, procedures_file);
}
