/*
 * test_triage_entity.c - the decisions of the entity and role map: which
 * field of a record, a correlation hit or an anomaly is which entity, and
 * whether it is the attacker, a victim or context.  Triage groups
 * incidents on attackers, so a wrong role here splits or merges incidents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "event/event.h"
#include "event/field.h"
#include "triage/anomaly.h"
#include "triage/triage_entity.h"
#include "util/arena.h"

/* Asserts entity i of the set. */
static void want(const struct triage_entity_set *s, size_t i, const char *field, const char *value,
                 int role)
{
    assert_true(i < s->n);
    assert_string_equal(s->ents[i].field, field);
    assert_string_equal(s->ents[i].value, value);
    assert_int_equal(s->ents[i].role, role);
}

static void test_ecs_map(void **state)
{
    int role = -7;

    (void)state;
    /* Every spelling of the source is the attacker. */
    static const char *const srcs[] = {"source.ip", "src_ip", "IpAddress", "c-ip"};
    for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
        assert_string_equal(triage_entity_ecs(srcs[i], 0, &role), "source.ip");
        assert_int_equal(role, TRIAGE_ROLE_ATTACKER);
    }
    assert_string_equal(triage_entity_ecs("source.domain", 1, &role), "source.domain");
    assert_int_equal(role, TRIAGE_ROLE_ATTACKER);
    /* Destinations and hosts are victims; a port is context. */
    assert_string_equal(triage_entity_ecs("dst_ip", 0, &role), "destination.ip");
    assert_int_equal(role, TRIAGE_ROLE_VICTIM);
    assert_string_equal(triage_entity_ecs("Computer", 0, &role), "host.name");
    assert_int_equal(role, TRIAGE_ROLE_VICTIM);
    assert_string_equal(triage_entity_ecs("destination.port", 0, &role), "destination.port");
    assert_int_equal(role, TRIAGE_ROLE_OTHER);
    /* An account is the actor only when nobody else is named. */
    assert_string_equal(triage_entity_ecs("TargetUserName", 1, &role), "user.name");
    assert_int_equal(role, TRIAGE_ROLE_OTHER);
    assert_string_equal(triage_entity_ecs("TargetUserName", 0, &role), "user.name");
    assert_int_equal(role, TRIAGE_ROLE_ATTACKER);
    assert_string_equal(triage_entity_ecs("User", 0, &role), "user.name");
    assert_int_equal(role, TRIAGE_ROLE_ATTACKER);
    /* Unknown fields keep their name, as context; matching is exact. */
    assert_string_equal(triage_entity_ecs("process.name", 0, &role), "process.name");
    assert_int_equal(role, TRIAGE_ROLE_OTHER);
    role = -7;
    assert_string_equal(triage_entity_ecs("Source.IP", 0, &role), "Source.IP");
    assert_int_equal(role, TRIAGE_ROLE_OTHER);
}

struct evb {
    struct arena ar;
    struct event ev;
};

static void ev_begin(struct evb *b)
{
    arena_init(&b->ar, 0);
    event_init(&b->ev, &b->ar, "", 0, 0);
}

static void ev_done(struct evb *b)
{
    event_reset(&b->ev);
    arena_done(&b->ar);
}

static void test_from_event(void **state)
{
    struct triage_entity_set s;
    struct evb b;

    (void)state;
    /* An sshd failure: the address is the attacker, the account it tried
     * is context, the server and its host are victims. */
    ev_begin(&b);
    assert_int_equal(event_add_str(&b.ev, FIELD_HOST_NAME, "web01"), 0);
    assert_int_equal(event_add_str(&b.ev, FIELD_USER_NAME, "root"), 0);
    assert_int_equal(event_add_str(&b.ev, FIELD_SOURCE_IP, "203.0.113.5"), 0);
    assert_int_equal(event_add_str(&b.ev, FIELD_DESTINATION_IP, "192.0.2.10"), 0);
    memset(&s, 0xa5, sizeof(s));
    triage_entity_from_event(&s, &b.ev, 0);
    assert_int_equal(s.n, 4);
    want(&s, 0, "source.ip", "203.0.113.5", TRIAGE_ROLE_ATTACKER);
    want(&s, 1, "user.name", "root", TRIAGE_ROLE_OTHER);
    want(&s, 2, "destination.ip", "192.0.2.10", TRIAGE_ROLE_VICTIM);
    want(&s, 3, "host.name", "web01", TRIAGE_ROLE_VICTIM);
    /* Relayed (an IDS's alert): the host is the sensor, not a victim. */
    triage_entity_from_event(&s, &b.ev, 1);
    assert_int_equal(s.n, 3);
    assert_null(triage_entity_get(&s, "host.name"));
    want(&s, 0, "source.ip", "203.0.113.5", TRIAGE_ROLE_ATTACKER);
    ev_done(&b);

    /* sudo on a host: no source address, the local user is the actor. */
    ev_begin(&b);
    assert_int_equal(event_add_str(&b.ev, FIELD_USER_NAME, "mallory"), 0);
    assert_int_equal(event_add_str(&b.ev, FIELD_HOST_NAME, "build01"), 0);
    triage_entity_from_event(&s, &b.ev, 0);
    assert_int_equal(s.n, 2);
    want(&s, 0, "user.name", "mallory", TRIAGE_ROLE_ATTACKER);
    want(&s, 1, "host.name", "build01", TRIAGE_ROLE_VICTIM);
    ev_done(&b);

    /* Nothing named, nothing taken. */
    ev_begin(&b);
    triage_entity_from_event(&s, &b.ev, 0);
    assert_int_equal(s.n, 0);
    ev_done(&b);
}

static void test_from_group(void **state)
{
    struct triage_entity_set s;

    (void)state;
    /* Windows logons grouped by address and account: the account is the
     * target, whatever the order of the group-by fields. */
    {
        const char *const f[] = {"TargetUserName", "IpAddress"};
        const char *const v[] = {"Administrator", "198.51.100.7"};
        triage_entity_from_group(&s, f, v, 2);
        assert_int_equal(s.n, 2);
        want(&s, 0, "user.name", "Administrator", TRIAGE_ROLE_OTHER);
        want(&s, 1, "source.ip", "198.51.100.7", TRIAGE_ROLE_ATTACKER);
    }
    /* Grouped by account and host only: the account is the actor. */
    {
        const char *const f[] = {"User", "Computer"};
        const char *const v[] = {"svc_x", "dc01"};
        triage_entity_from_group(&s, f, v, 2);
        want(&s, 0, "user.name", "svc_x", TRIAGE_ROLE_ATTACKER);
        want(&s, 1, "host.name", "dc01", TRIAGE_ROLE_VICTIM);
        assert_string_equal(triage_entity_get(&s, "host.name"), "dc01");
    }
    /* A source known only by name still makes the account a target. */
    {
        const char *const f[] = {"user.name", "source.domain", "destination.port"};
        const char *const v[] = {"root", "attacker.example", "22"};
        triage_entity_from_group(&s, f, v, 3);
        want(&s, 0, "user.name", "root", TRIAGE_ROLE_OTHER);
        want(&s, 1, "source.domain", "attacker.example", TRIAGE_ROLE_ATTACKER);
        want(&s, 2, "destination.port", "22", TRIAGE_ROLE_OTHER);
    }
}

static struct anomaly_alert mk_anomaly(enum anomaly_kind kind)
{
    struct anomaly_alert al;

    memset(&al, 0, sizeof(al));
    al.kind = kind;
    return al;
}

static void put(struct anomaly_alert *al, const char *field, const char *val)
{
    al->entity[al->nentity].field = field;
    al->entity[al->nentity].val = val;
    al->entity[al->nentity].len = strlen(val);
    al->nentity++;
}

static void test_from_anomaly(void **state)
{
    struct triage_entity_set s;
    struct anomaly_alert al;

    (void)state;
    /* Beaconing: the internal host calling out is where the intruder sits;
     * the destination it calls keeps its victim role. */
    al = mk_anomaly(ANOMALY_BEACON);
    put(&al, "source.ip", "10.20.1.5");
    put(&al, "destination.ip", "198.51.100.9");
    triage_entity_from_anomaly(&s, &al);
    assert_int_equal(s.n, 2);
    want(&s, 0, "source.ip", "10.20.1.5", TRIAGE_ROLE_ATTACKER);
    want(&s, 1, "destination.ip", "198.51.100.9", TRIAGE_ROLE_VICTIM);
    /* A first external destination is context, not a victim. */
    al = mk_anomaly(ANOMALY_FIRST_EXTERNAL);
    put(&al, "source.ip", "10.20.1.5");
    put(&al, "destination.ip", "198.51.100.9");
    triage_entity_from_anomaly(&s, &al);
    want(&s, 0, "source.ip", "10.20.1.5", TRIAGE_ROLE_ATTACKER);
    want(&s, 1, "destination.ip", "198.51.100.9", TRIAGE_ROLE_OTHER);
    /* A first-seen logon: the account is the target when a source is
     * named, the host a victim. */
    al = mk_anomaly(ANOMALY_FIRST_SEEN);
    put(&al, "user.name", "alice");
    put(&al, "source.ip", "203.0.113.77");
    put(&al, "host.name", "hr-db");
    triage_entity_from_anomaly(&s, &al);
    want(&s, 0, "user.name", "alice", TRIAGE_ROLE_OTHER);
    want(&s, 1, "source.ip", "203.0.113.77", TRIAGE_ROLE_ATTACKER);
    want(&s, 2, "host.name", "hr-db", TRIAGE_ROLE_VICTIM);
    assert_string_equal(triage_entity_get(&s, "host.name"), "hr-db");
    /* A rate anomaly of a host alone: that host is a victim. */
    al = mk_anomaly(ANOMALY_RATE);
    put(&al, "host.name", "web01");
    triage_entity_from_anomaly(&s, &al);
    assert_int_equal(s.n, 1);
    want(&s, 0, "host.name", "web01", TRIAGE_ROLE_VICTIM);
}

/* Values are copied and cut, empty ones skipped, the set capped. */
static void test_set_bounds(void **state)
{
    struct triage_entity_set s;
    char big[TRIAGE_ENTITY_VAL_MAX + 40];

    (void)state;
    memset(big, 'a', sizeof(big));
    s.n = 0;
    triage_entity_add(&s, "url.original", big, sizeof(big), TRIAGE_ROLE_OTHER);
    assert_int_equal(s.n, 1);
    assert_int_equal(strlen(s.ents[0].value), TRIAGE_ENTITY_VAL_MAX - 1);
    triage_entity_add(&s, "user.name", "", 0, TRIAGE_ROLE_OTHER);
    triage_entity_add(&s, "user.name", NULL, 5, TRIAGE_ROLE_OTHER);
    assert_int_equal(s.n, 1);
    static const char *const hosts[] = {"h0", "h1", "h2", "h3", "h4", "h5",
                                        "h6", "h7", "h8", "h9", "h10"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        triage_entity_add(&s, "host.name", hosts[i], strlen(hosts[i]), TRIAGE_ROLE_VICTIM);
    assert_int_equal(s.n, TRIAGE_ENTITY_SET_MAX);
    /* Hosts filled entities 1..7 (h0..h6); the last kept is the answer. */
    assert_string_equal(triage_entity_get(&s, "host.name"), "h6");
    assert_null(triage_entity_get(&s, "source.ip"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecs_map),    cmocka_unit_test(test_from_event),
        cmocka_unit_test(test_from_group), cmocka_unit_test(test_from_anomaly),
        cmocka_unit_test(test_set_bounds),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);

    field_done();
    return r;
}
