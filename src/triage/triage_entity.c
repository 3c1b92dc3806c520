/*
 * triage_entity.c - the map from an alert's fields to its entities and
 * their roles (attacker, victim, context), in one place for the three
 * kinds of alert; triage_entity.h says why each field has its role.
 */
#include "triage/triage_entity.h"

#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "triage/anomaly.h"

/* Role of user.name and its spellings: the attacker when the alert names
 * no source, else the targeted account. */
#define ROLE_ACTOR_UNLESS_SRC (-1)

static const struct {
    const char *name, *ecs;
    int role; /* enum triage_role, or ROLE_ACTOR_UNLESS_SRC */
} entity_map[] = {
    {"source.ip", "source.ip", TRIAGE_ROLE_ATTACKER},
    {"src_ip", "source.ip", TRIAGE_ROLE_ATTACKER},
    {"IpAddress", "source.ip", TRIAGE_ROLE_ATTACKER},
    {"c-ip", "source.ip", TRIAGE_ROLE_ATTACKER},
    /* A remote host known only by name (old pam_unix rhost=NAME): the
     * attacker all the same, but never an address to act on. */
    {"source.domain", "source.domain", TRIAGE_ROLE_ATTACKER},
    {"destination.ip", "destination.ip", TRIAGE_ROLE_VICTIM},
    {"dst_ip", "destination.ip", TRIAGE_ROLE_VICTIM},
    {"destination.port", "destination.port", TRIAGE_ROLE_OTHER},
    {"host.name", "host.name", TRIAGE_ROLE_VICTIM},
    {"Computer", "host.name", TRIAGE_ROLE_VICTIM},
    {"user.name", "user.name", ROLE_ACTOR_UNLESS_SRC},
    {"User", "user.name", ROLE_ACTOR_UNLESS_SRC},
    {"TargetUserName", "user.name", ROLE_ACTOR_UNLESS_SRC},
};

const char *triage_entity_ecs(const char *field, int has_src, int *ret_role)
{
    for (size_t i = 0; i < sizeof(entity_map) / sizeof(entity_map[0]); i++) {
        if (strcmp(field, entity_map[i].name) != 0)
            continue;
        if (entity_map[i].role != ROLE_ACTOR_UNLESS_SRC)
            *ret_role = entity_map[i].role;
        else
            *ret_role = has_src ? TRIAGE_ROLE_OTHER : TRIAGE_ROLE_ATTACKER;
        return entity_map[i].ecs;
    }
    *ret_role = TRIAGE_ROLE_OTHER;
    return field;
}

void triage_entity_add(struct triage_entity_set *s, const char *ecs, const char *v, size_t len,
                       int role)
{
    struct triage_entity *e;

    if (!v || len == 0 || s->n >= TRIAGE_ENTITY_SET_MAX)
        return;
    if (len >= TRIAGE_ENTITY_VAL_MAX)
        len = TRIAGE_ENTITY_VAL_MAX - 1;
    memcpy(s->vals[s->n], v, len);
    s->vals[s->n][len] = '\0';
    e = &s->ents[s->n];
    e->field = ecs;
    e->value = s->vals[s->n];
    e->role = role;
    s->n++;
}

const char *triage_entity_get(const struct triage_entity_set *s, const char *ecs)
{
    for (size_t i = s->n; i > 0; i--)
        if (strcmp(s->ents[i - 1].field, ecs) == 0)
            return s->ents[i - 1].value;
    return NULL;
}

void triage_entity_from_event(struct triage_entity_set *s, const struct event *ev, int relayed)
{
    size_t n;
    const char *v;
    int has_src;

    s->n = 0;
    v = event_get(ev, FIELD_SOURCE_IP, &n);
    has_src = v != NULL;
    triage_entity_add(s, "source.ip", v, v ? n : 0, TRIAGE_ROLE_ATTACKER);
    v = event_get(ev, FIELD_USER_NAME, &n);
    triage_entity_add(s, "user.name", v, v ? n : 0,
                      has_src ? TRIAGE_ROLE_OTHER : TRIAGE_ROLE_ATTACKER);
    v = event_get(ev, FIELD_DESTINATION_IP, &n);
    triage_entity_add(s, "destination.ip", v, v ? n : 0, TRIAGE_ROLE_VICTIM);
    if (relayed)
        return;
    v = event_get(ev, FIELD_HOST_NAME, &n);
    triage_entity_add(s, "host.name", v, v ? n : 0, TRIAGE_ROLE_VICTIM);
}

void triage_entity_from_group(struct triage_entity_set *s, const char *const *fields,
                              const char *const *values, size_t n)
{
    int has_src = 0, role;

    s->n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *f = triage_entity_ecs(fields[i], 0, &role);
        if (strcmp(f, "source.ip") == 0 || strcmp(f, "source.domain") == 0)
            has_src = 1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *f = triage_entity_ecs(fields[i], has_src, &role);
        triage_entity_add(s, f, values[i], strlen(values[i]), role);
    }
}

void triage_entity_from_anomaly(struct triage_entity_set *s, const struct anomaly_alert *al)
{
    int has_src = 0;
    int outbound = al->kind == ANOMALY_BEACON || al->kind == ANOMALY_FIRST_EXTERNAL ||
                   al->kind == ANOMALY_OUTBOUND_VOLUME || al->kind == ANOMALY_DNS_TUNNEL;

    s->n = 0;
    for (unsigned i = 0; i < al->nentity; i++)
        if (strcmp(al->entity[i].field, "source.ip") == 0)
            has_src = 1;
    for (unsigned i = 0; i < al->nentity; i++) {
        int role;
        const char *f = triage_entity_ecs(al->entity[i].field, has_src, &role);

        /* A beaconing host is where the intruder sits: the actor.  So is
         * the internal host of an outbound anomaly; the outside address it
         * reached is context, not a victim. */
        if (outbound && strcmp(f, "source.ip") == 0)
            role = TRIAGE_ROLE_ATTACKER;
        else if (al->kind == ANOMALY_FIRST_EXTERNAL && strcmp(f, "destination.ip") == 0)
            role = TRIAGE_ROLE_OTHER;
        triage_entity_add(s, f, al->entity[i].val, al->entity[i].len, role);
    }
}
