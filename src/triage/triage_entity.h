/*
 * triage_entity.h - which field of an alert names which entity, in which
 * role: what triage groups incidents by.
 *
 * An alert's entities come from the record a rule matched, from a
 * correlation hit's group-by fields, or from an anomaly's entities.  The
 * address an alert comes from (source.ip) is the attacker; destination.ip
 * and host.name are victims; user.name is the attacker only when there is
 * no source (sudo on a host: the local user is the actor), else it is the
 * targeted account.  Group-by fields spelt otherwise (src_ip, IpAddress,
 * c-ip, dst_ip, Computer, User, TargetUserName) stand for those ECS names.
 * Triage groups incidents on attacker entities only.  The table and the
 * exceptions (a relayed IDS alert, the kinds of anomaly) are in
 * triage_entity.c; docs/triage.md says the same for people.
 */
#ifndef HIKESHI_TRIAGE_TRIAGE_ENTITY_H
#define HIKESHI_TRIAGE_TRIAGE_ENTITY_H

#include <stddef.h>

#include "triage/triage.h"

struct anomaly_alert;
struct event;

/* Entities one alert carries into triage; more are ignored. */
#define TRIAGE_ENTITY_SET_MAX 8
/* Longest value kept, with its NUL; longer ones are cut. */
#define TRIAGE_ENTITY_VAL_MAX 256

/* The entities of one alert, ready for triage_in: ents[i].value points at
 * vals[i], a NUL-terminated copy; ents[i].field is a static ECS name. */
struct triage_entity_set {
    struct triage_entity ents[TRIAGE_ENTITY_SET_MAX];
    size_t n;
    char vals[TRIAGE_ENTITY_SET_MAX][TRIAGE_ENTITY_VAL_MAX];
};

/*
 * The ECS name field `field` (an ECS name or a group-by spelling) stands
 * for, and in *ret_role its role (enum triage_role) in an alert that names
 * a source (`has_src`: source.ip or source.domain) or not.  A field the
 * table does not know is returned as is, role OTHER.
 */
const char *triage_entity_ecs(const char *field, int has_src, int *ret_role);

/* Appends an entity (value `v`, `len` bytes, copied); nothing for an empty
 * value or a full set.  `ecs` must be static. */
void triage_entity_add(struct triage_entity_set *s, const char *ecs, const char *v, size_t len,
                       int role);
/* The value of the last entity of field `ecs` in the set, or NULL. */
const char *triage_entity_get(const struct triage_entity_set *s, const char *ecs);

/* The entities of a single-rule alert on record `ev`: source.ip,
 * user.name, destination.ip, host.name.  `relayed`: the record is another
 * detector's alert, whose host is the sensor that reported it, not a
 * victim (it would gather the risk of every signature the sensor sees). */
void triage_entity_from_event(struct triage_entity_set *s, const struct event *ev, int relayed);
/* The entities of a correlation hit: its group-by fields and values. */
void triage_entity_from_group(struct triage_entity_set *s, const char *const *fields,
                              const char *const *values, size_t n);
/* The entities of an anomaly: a beaconing or exfiltrating internal host
 * is where the intruder sits (the attacker), the external address it
 * reached for the first time is context. */
void triage_entity_from_anomaly(struct triage_entity_set *s, const struct anomaly_alert *al);

#endif
