/*
 * casefile_lead.c - the responsible person in the case file (MISSION.md
 * section 4, issue 25): who may decide an incident's phase and level, the
 * lead's approval queue that holds what an analyst asked for, and the
 * watch that follows the emergency phase.
 *
 * The rule (docs/incident.md "The responsible person"): closing the
 * emergency phase, raising the level to Orange or Red, closing the
 * incident and naming its responsible person are decisions.  When the
 * incident has a responsible person, only they (or an admin) decide; when
 * it has none, any lead or admin does.  Anyone else's PATCH holding a
 * decision is not applied: it is kept whole as an approval, and applied
 * unchanged on the incident version it was made on when approved.
 */
#include "incident/casefile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/casefile_priv.h"

int casefile_lead_may_decide(const struct incident *inc, const char *who, enum casefile_rank rank)
{
    if (rank >= CASEFILE_RANK_ADMIN)
        return 1;
    if (inc->responsible && inc->responsible[0])
        return who && strcmp(who, inc->responsible) == 0;
    return rank >= CASEFILE_RANK_LEAD;
}

int casefile_lead_gated(const struct casefile_before *b, const struct incident *after, char *what,
                        size_t size)
{
    size_t off = 0;
    int n = 0;

#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (off < size)                                                                            \
            off += (size_t)snprintf(what + off, size - off, "%s", n++ ? "; " : "");                \
        if (off < size)                                                                            \
            off += (size_t)snprintf(what + off, size - off, __VA_ARGS__);                          \
    } while (0)
    if (size)
        what[0] = '\0';
    if (b->phase == INCIDENT_PHASE_EMERGENCY && after->phase != INCIDENT_PHASE_EMERGENCY &&
        after->phase != INCIDENT_PHASE_CLOSED)
        ADD("close the emergency phase (to %s)", incident_phase_name(after->phase));
    if (after->phase == INCIDENT_PHASE_CLOSED && b->phase != INCIDENT_PHASE_CLOSED)
        ADD("close the incident");
    if (after->level != b->level && after->level >= TRIAGE_ORANGE)
        ADD("declare %s", triage_level_name(after->level));
    if (!b->responsible ? after->responsible != NULL
                        : !after->responsible || strcmp(b->responsible, after->responsible) != 0)
        ADD("name the responsible person (%s)", after->responsible ? after->responsible : "none");
#undef ADD
    return n > 0;
}

int casefile_lead_check_responsible(const struct casefile *cf, const struct incident *inc,
                                    struct casefile_err *err)
{
    char *role = NULL, *pw = NULL;
    int64_t uid;
    int r;

    if (!inc->responsible)
        return 0;
    r = store_user_get(cf->st, inc->responsible, &uid, &role, &pw);
    if (r == -ENOENT)
        return casefile_fail(err, -EINVAL, -1, "responsible",
                             "the responsible person must be a user (no user %s)",
                             inc->responsible);
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    if (strcmp(role, "lead") != 0 && strcmp(role, "admin") != 0)
        r = casefile_fail(err, -EINVAL, -1, "responsible",
                          "the responsible person must hold the lead or admin role (%s is %s)",
                          inc->responsible, role);
    free(role);
    free(pw);
    return r;
}

int casefile_lead_request(const struct casefile *cf, struct casefile_txn *t, int64_t incident,
                          const char *decider, const char *body, size_t len, const char *what,
                          int64_t *ret_approval, struct casefile_err *err)
{
    struct store_approval_rec a = {
        .incident_id = incident,
        .requested_by = t->who,
        .what = what,
        .decider = decider,
        .requested_us = t->now_us,
    };
    char *copy;
    int r;

    /* The body was read in full by incident_patch_json, so it is one JSON
     * object without a NUL; the store keeps it as text. */
    if (!(copy = strndup(body, len)))
        return casefile_fail(err, -ENOMEM, -1, NULL, "out of memory");
    a.body = copy;
    r = store_approval_add(cf->st, &a, ret_approval);
    free(copy);
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    t->action = "approval.request";
    snprintf(t->objbuf, sizeof(t->objbuf), "approval/%lld", (long long)*ret_approval);
    if (buf_printf(&t->details, "{\"approval\":%lld,\"incident\":%lld,\"what\":",
                   (long long)*ret_approval, (long long)incident) < 0 ||
        buf_json_str(&t->details, what, strlen(what)) < 0 ||
        buf_printf(&t->details, ",\"decider\":") < 0 ||
        (decider ? buf_json_str(&t->details, decider, strlen(decider))
                 : buf_puts(&t->details, "null")) < 0 ||
        buf_putc(&t->details, '}') < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    return 0;
}

int casefile_lead_declares(const struct casefile_before *b, const struct incident *inc)
{
    return b->phase == INCIDENT_PHASE_EMERGENCY &&
           (inc->phase == INCIDENT_PHASE_WATCH || inc->phase == INCIDENT_PHASE_FULL_RESPONSE) &&
           inc->category != ASSET_CAT_NONE;
}

int casefile_lead_watch(const struct casefile *cf, const struct casefile_before *b,
                        struct incident *inc, const char *who, int64_t now_us,
                        struct incident_change *ret, int *ret_changed, struct casefile_err *err)
{
    char why[300];
    int r;

    *ret_changed = 0;
    if (b->phase != INCIDENT_PHASE_EMERGENCY ||
        (inc->phase != INCIDENT_PHASE_WATCH && inc->phase != INCIDENT_PHASE_FULL_RESPONSE))
        return 0;
    snprintf(why, sizeof(why), "emergency phase of incident %llu closed: watch",
             (unsigned long long)inc->id);
    /* A level this request set itself is the decider's and stays. */
    if (inc->level == b->level && inc->level != TRIAGE_YELLOW) {
        r = incident_set_level(inc, TRIAGE_YELLOW, who, why, now_us, ret, NULL, 0);
        if (r < 0)
            return casefile_fail(err, r, -1, "level", "cannot set the level to Yellow");
        *ret_changed = ret->what[0] != '\0';
    }
    if (!casefile_lead_declares(b, inc))
        return 0;
    if ((r = store_declare_add(cf->st, incident_category_name(inc->category),
                               triage_level_name(TRIAGE_YELLOW), who, why, now_us)) < 0)
        return casefile_store_fail(cf, err, r);
    return 0;
}
