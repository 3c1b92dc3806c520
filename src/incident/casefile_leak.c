/*
 * casefile_leak.c - an incident's leak type in the case file (issue 25):
 * when a change gives it a leak type, the leak playbook's tasks join its
 * checklist (playbook_leak.h), once per incident and type, saved and put
 * on the timeline in the change's own transaction, so that the audit
 * entry of the change counts them.
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "incident/casefile_priv.h"
#include "incident/playbook_leak.h"

int casefile_leak_tasks(const struct casefile *cf, const struct incident *inc,
                        const struct incident_change *ch, size_t nch, struct playbook_checklist *cl,
                        struct casefile_err *err)
{
    const struct incident_change *set = NULL;
    char box[PLAYBOOK_LEAK_BOX_MAX], to[PLAYBOOK_LEAK_BOX_MAX + 32];
    size_t before = cl->n;
    int n, r;

    for (size_t i = 0; ch && i < nch; i++)
        if (strcmp(ch[i].what, "leak_type") == 0)
            set = &ch[i];
    if (!set || !cf->leaks || inc->leak == INCIDENT_LEAK_NONE)
        return 0;
    /* Due times count from the change that set the type: the discovery
     * of the leak as reported. */
    n = playbook_leak_tasks(cf->leaks, inc->leak, set->time_us, cl);
    if (n < 0)
        return casefile_fail(err, n, -1, "leak_type", "%s",
                             n == -E2BIG ? "the checklist is full: no room for the leak playbook"
                                         : "out of memory");
    for (size_t i = before; i < cl->n; i++)
        if ((r = casefile_task_save(cf, (int64_t)inc->id, &cl->t[i], err)) < 0)
            return r;
    if (n == 0)
        return 0;
    playbook_leak_box(inc->leak, box, sizeof(box));
    snprintf(to, sizeof(to), "%s: %d task%s", box, n, n == 1 ? "" : "s");
    if ((r = casefile_event(cf, (int64_t)inc->id, inc, set->time_us, set->who, "leak_playbook",
                            NULL, to, err)) < 0)
        return r;
    return n;
}
