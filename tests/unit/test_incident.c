/*
 * test_incident.c - the incident record: every legal phase move and a table
 * of illegal ones with their messages, field changes and the timeline,
 * time targets, declared levels, the real risk meter, and the JSON forms
 * (round trip, partial updates and their validation errors).  Entities come
 * from real sshd lines of the OpenSSH sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/incident.h"
#include "util/buf.h"
#include "util/readfile.h"

#define T0 INT64_C(1700000000000000)
#define MIN INT64_C(60000000)
#define DAY (INT64_C(1440) * MIN)

/* The attacker and victim of the first "Failed password" line of the real
 * OpenSSH sample; the test fails when the sample is missing. */
static char real_ip[64], real_user[64];

static void load_real_entities(void)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char path[1024], *text = NULL;
    size_t len;
    const char *p, *from;

    snprintf(path, sizeof(path), "%s/data/linux-logs/loghub/OpenSSH/OpenSSH_2k.log",
             shared ? shared : "../shared");
    assert_int_equal(readfile_all(path, 64 * 1024 * 1024, &text, &len), 0);
    p = strstr(text, "Failed password for invalid user ");
    assert_non_null(p);
    p += strlen("Failed password for invalid user ");
    from = strstr(p, " from ");
    assert_non_null(from);
    assert_int_equal(sscanf(p, "%63s", real_user), 1);
    assert_int_equal(sscanf(from + 6, "%63s", real_ip), 1);
    free(text);
    /* The first such line of OpenSSH_2k.log (Dec 10 06:55:48). */
    assert_string_equal(real_user, "webmaster");
    assert_string_equal(real_ip, "173.234.31.186");
}

static void make(struct incident *inc)
{
    assert_int_equal(incident_init(inc, 42, T0), 0);
}

/* Puts inc into `phase` along the shortest legal path. */
static void walk_to(struct incident *inc, enum incident_phase phase)
{
    static const enum incident_phase path[][4] = {
        [INCIDENT_PHASE_NEW] = {INCIDENT_PHASE_NEW},
        [INCIDENT_PHASE_FIRST_AID] = {INCIDENT_PHASE_FIRST_AID},
        [INCIDENT_PHASE_EMERGENCY] = {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_EMERGENCY},
        [INCIDENT_PHASE_WATCH] = {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_EMERGENCY,
                                  INCIDENT_PHASE_WATCH},
        [INCIDENT_PHASE_FULL_RESPONSE] = {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_EMERGENCY,
                                          INCIDENT_PHASE_FULL_RESPONSE},
        [INCIDENT_PHASE_CLOSED] = {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_EMERGENCY,
                                   INCIDENT_PHASE_FULL_RESPONSE, INCIDENT_PHASE_CLOSED},
    };
    for (int i = 0; i < 4 && inc->phase != phase; i++) {
        /* Steps already behind the incident are skipped. */
        if (!incident_transition_legal(inc->phase, path[phase][i]))
            continue;
        assert_int_equal(incident_transition(inc, path[phase][i], "alice", NULL, T0, NULL, NULL, 0),
                         0);
    }
    assert_int_equal(inc->phase, phase);
}

/* Every legal move, with and without a reason as the table demands. */
static void test_legal_transitions(void **state)
{
    static const struct {
        enum incident_phase from, to;
        const char *reason; /* the least the move needs */
    } rows[] = {
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_FIRST_AID, NULL},
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_CLOSED, "false positive: backup job"},
        {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_EMERGENCY, NULL},
        {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_CLOSED, "duplicate of #7"},
        {INCIDENT_PHASE_EMERGENCY, INCIDENT_PHASE_WATCH, NULL},
        {INCIDENT_PHASE_EMERGENCY, INCIDENT_PHASE_FULL_RESPONSE, NULL},
        {INCIDENT_PHASE_EMERGENCY, INCIDENT_PHASE_CLOSED, "merged into #9"},
        {INCIDENT_PHASE_WATCH, INCIDENT_PHASE_FULL_RESPONSE, NULL},
        {INCIDENT_PHASE_WATCH, INCIDENT_PHASE_CLOSED, NULL},
        {INCIDENT_PHASE_WATCH, INCIDENT_PHASE_EMERGENCY, "renewed activity"},
        {INCIDENT_PHASE_FULL_RESPONSE, INCIDENT_PHASE_CLOSED, NULL},
        {INCIDENT_PHASE_CLOSED, INCIDENT_PHASE_FIRST_AID, "recurrence"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct incident inc;
        struct incident_change ch;
        char why[256] = "";
        uint64_t v;

        make(&inc);
        walk_to(&inc, rows[i].from);
        v = inc.version;
        assert_true(incident_transition_legal(rows[i].from, rows[i].to));
        assert_int_equal(incident_transition(&inc, rows[i].to, "bob", rows[i].reason, T0 + 5 * MIN,
                                             &ch, why, sizeof(why)),
                         0);
        assert_int_equal(inc.phase, rows[i].to);
        assert_int_equal(inc.version, v + 1);
        assert_int_equal(inc.phase_since_us, T0 + 5 * MIN);
        assert_int_equal(inc.updated_us, T0 + 5 * MIN);
        assert_string_equal(ch.what, "phase");
        assert_string_equal(ch.who, "bob");
        assert_string_equal(ch.from, incident_phase_name(rows[i].from));
        assert_string_equal(ch.to, incident_phase_name(rows[i].to));
        assert_string_equal(ch.reason, rows[i].reason ? rows[i].reason : "");
        assert_int_equal(ch.time_us, T0 + 5 * MIN);
        assert_int_equal(ch.version, inc.version);
        incident_done(&inc);
    }
}

static void test_illegal_transitions(void **state)
{
    static const struct {
        enum incident_phase from, to;
        const char *who, *reason;
        const char *why;
    } rows[] = {
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_CLOSED, "bob", NULL,
         "cannot go from new to closed: closing before any response needs a reason "
         "(false positive, duplicate, merged)"},
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_EMERGENCY, "bob", "hurry",
         "cannot go from new to emergency: first aid comes first (contain, isolate, preserve "
         "evidence, first report)"},
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_NEW, "bob", NULL,
         "cannot go from new to new: the incident is already in that phase"},
        {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_FULL_RESPONSE, "bob", NULL,
         "cannot go from first_aid to full_response: the emergency response (method, route, "
         "scope) comes first"},
        {INCIDENT_PHASE_FIRST_AID, INCIDENT_PHASE_CLOSED, "bob", "",
         "cannot go from first_aid to closed: closing during first aid needs a reason "
         "(false positive, duplicate, merged)"},
        {INCIDENT_PHASE_EMERGENCY, INCIDENT_PHASE_FIRST_AID, "bob", "x",
         "cannot go from emergency to first_aid: phases do not go back; the emergency response "
         "goes on to watch or full_response"},
        {INCIDENT_PHASE_EMERGENCY, INCIDENT_PHASE_NEW, "bob", "x",
         "cannot go from emergency to new: no incident returns to new; it has been seen"},
        {INCIDENT_PHASE_WATCH, INCIDENT_PHASE_EMERGENCY, "bob", NULL,
         "cannot go from watch to emergency: going back to the emergency response needs a "
         "reason (renewed activity)"},
        {INCIDENT_PHASE_FULL_RESPONSE, INCIDENT_PHASE_WATCH, "bob", "x",
         "cannot go from full_response to watch: phases do not go back; full_response ends by "
         "closing"},
        {INCIDENT_PHASE_CLOSED, INCIDENT_PHASE_FIRST_AID, "bob", NULL,
         "cannot go from closed to first_aid: reopening needs a reason (new evidence, "
         "recurrence)"},
        {INCIDENT_PHASE_CLOSED, INCIDENT_PHASE_EMERGENCY, "bob", "x",
         "cannot go from closed to emergency: a closed incident can only be reopened into "
         "first_aid"},
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_FIRST_AID, "", NULL,
         "cannot go from new to first_aid: who makes the change must be given (at most 64 "
         "bytes of UTF-8)"},
        {INCIDENT_PHASE_NEW, INCIDENT_PHASE_FIRST_AID, NULL, NULL,
         "cannot go from new to first_aid: who makes the change must be given (at most 64 "
         "bytes of UTF-8)"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct incident inc;
        char why[256] = "";
        uint64_t v;
        int64_t since;

        make(&inc);
        walk_to(&inc, rows[i].from);
        v = inc.version;
        since = inc.phase_since_us;
        assert_int_equal(incident_transition(&inc, rows[i].to, rows[i].who, rows[i].reason,
                                             T0 + MIN, NULL, why, sizeof(why)),
                         -EINVAL);
        assert_string_equal(why, rows[i].why);
        assert_int_equal(inc.phase, rows[i].from);
        assert_int_equal(inc.version, v);
        assert_int_equal(inc.phase_since_us, since);
        incident_done(&inc);
    }
    /* The static table agrees: skipping and going back are never legal. */
    assert_false(incident_transition_legal(INCIDENT_PHASE_NEW, INCIDENT_PHASE_WATCH));
    assert_false(incident_transition_legal(INCIDENT_PHASE_FULL_RESPONSE, INCIDENT_PHASE_EMERGENCY));
    assert_false(incident_transition_legal(INCIDENT_PHASE_CLOSED, INCIDENT_PHASE_CLOSED));
}

static void test_field_changes(void **state)
{
    struct incident inc;
    struct incident_change ch;
    char why[256];
    uint64_t v;
    (void)state;

    load_real_entities();
    make(&inc);
    v = inc.version;
    assert_int_equal(incident_set_level(&inc, TRIAGE_ORANGE, "alice", "brute force on sshd", T0 + 1,
                                        &ch, why, sizeof(why)),
                     0);
    assert_string_equal(ch.what, "level");
    assert_string_equal(ch.from, "Green");
    assert_string_equal(ch.to, "Orange");
    assert_string_equal(ch.reason, "brute force on sshd");
    assert_int_equal(inc.version, v + 1);
    /* Same value again: no change, no bump. */
    assert_int_equal(
        incident_set_level(&inc, TRIAGE_ORANGE, "alice", NULL, T0 + 2, &ch, why, sizeof(why)), 0);
    assert_string_equal(ch.what, "");
    assert_int_equal(inc.version, v + 1);
    assert_int_equal(incident_set_level(&inc, (enum triage_alert_level)9, "alice", NULL, T0, &ch,
                                        why, sizeof(why)),
                     -EINVAL);

    assert_int_equal(incident_set_assignee(&inc, "carol", "alice", T0 + 3, &ch, why, sizeof(why)),
                     0);
    assert_string_equal(ch.from, "");
    assert_string_equal(ch.to, "carol");
    assert_string_equal(inc.assignee, "carol");
    assert_int_equal(incident_set_assignee(&inc, NULL, "alice", T0 + 4, &ch, why, sizeof(why)), 0);
    assert_null(inc.assignee);
    assert_string_equal(ch.from, "carol");

    assert_int_equal(incident_add_entity(&inc, real_ip, INCIDENT_ENTITY_ADDRESS,
                                         INCIDENT_ROLE_ATTACKER, "triage", T0 + 5, &ch),
                     0);
    assert_string_equal(ch.to, "attacker address 173.234.31.186");
    assert_int_equal(incident_add_entity(&inc, real_user, INCIDENT_ENTITY_USER,
                                         INCIDENT_ROLE_VICTIM, "triage", T0 + 5, &ch),
                     0);
    v = inc.version;
    assert_int_equal(incident_add_entity(&inc, real_ip, INCIDENT_ENTITY_ADDRESS,
                                         INCIDENT_ROLE_ATTACKER, "triage", T0 + 6, &ch),
                     0);
    assert_int_equal(inc.version, v); /* duplicate */
    assert_int_equal(inc.nentities, 2);
    assert_int_equal(incident_add_alert(&inc, 17, "triage", T0 + 6, &ch), 0);
    assert_int_equal(incident_add_alert(&inc, 17, "triage", T0 + 6, &ch), 0);
    assert_int_equal(inc.nalerts, 1);
    assert_int_equal(incident_add_stage(&inc, TRIAGE_STAGE_EXPLOITATION, "triage", T0 + 7, &ch), 0);
    assert_string_equal(ch.to, "exploitation");
    assert_int_equal(incident_add_stage(&inc, TRIAGE_STAGE_NONE, "triage", T0, &ch), -EINVAL);

    /* A closed incident refuses changes until reopened. */
    walk_to(&inc, INCIDENT_PHASE_CLOSED);
    assert_int_equal(incident_set_level(&inc, TRIAGE_RED, "alice", NULL, T0, &ch, why, sizeof(why)),
                     -EINVAL);
    assert_string_equal(why, "cannot change the level: the incident is closed; reopen it first");
    incident_done(&inc);
    incident_done(&inc); /* safe twice */
}

/* Long values in the timeline are cut at a UTF-8 boundary with "...". */
static void test_change_truncation(void **state)
{
    struct incident inc;
    struct incident_change *ch = NULL;
    size_t n = 0;
    char json[2048], why[256];
    struct parse_err e;
    (void)state;

    make(&inc);
    /* 300 bytes of "é" (2 bytes each): the cut must not split one. */
    strcpy(json, "{\"summary\":\"");
    for (int i = 0; i < 150; i++)
        strcat(json, "\xc3\xa9");
    strcat(json, "\"}");
    assert_int_equal(
        incident_update_json(&inc, json, strlen(json), "alice", T0, &ch, &n, &e, why, sizeof(why)),
        0);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(ch[0].to), 252 + 3);
    assert_memory_equal(ch[0].to + 252, "...", 4);
    assert_int_equal(strlen(inc.summary), 300);
    free(ch);
    incident_done(&inc);
}

static void test_deadlines(void **state)
{
    struct incident_targets t;
    struct incident inc[3];
    const struct incident *list[4];
    struct incident_deadline d;
    size_t idx[4];
    (void)state;

    incident_targets_default(&t);
    make(&inc[0]);
    walk_to(&inc[0], INCIDENT_PHASE_FIRST_AID); /* phase since T0 */

    /* On time: 10 minutes into a 30-minute first aid. */
    incident_deadline(&inc[0], &t, T0 + 10 * MIN, &d);
    assert_true(d.has_target);
    assert_int_equal(d.due_us, T0 + 30 * MIN);
    assert_int_equal(d.left_us, 20 * MIN);
    assert_false(d.overdue);
    assert_false(d.due_soon);
    /* Due soon: 25 minutes in, 5 left (< 20% of 30). */
    incident_deadline(&inc[0], &t, T0 + 25 * MIN, &d);
    assert_false(d.overdue);
    assert_true(d.due_soon);
    /* Overdue: 31 minutes in. */
    incident_deadline(&inc[0], &t, T0 + 31 * MIN, &d);
    assert_true(d.overdue);
    assert_false(d.due_soon);
    assert_int_equal(d.left_us, -MIN);

    /* Emergency: 2 days from entering it. */
    make(&inc[1]);
    walk_to(&inc[1], INCIDENT_PHASE_EMERGENCY);
    incident_deadline(&inc[1], &t, T0 + DAY, &d);
    assert_int_equal(d.due_us, T0 + 2 * DAY);
    assert_false(d.overdue);

    /* Per category and level: Red incidents of category A get 10 minutes
     * of first aid; others keep 30. */
    assert_int_equal(
        incident_targets_set(&t, INCIDENT_PHASE_FIRST_AID, ASSET_CAT_A, TRIAGE_RED, 10 * MIN), 0);
    make(&inc[2]);
    walk_to(&inc[2], INCIDENT_PHASE_FIRST_AID);
    inc[2].category = ASSET_CAT_A;
    inc[2].level = TRIAGE_RED;
    incident_deadline(&inc[2], &t, T0 + 11 * MIN, &d);
    assert_true(d.overdue);
    inc[2].category = ASSET_CAT_B;
    incident_deadline(&inc[2], &t, T0 + 11 * MIN, &d);
    assert_false(d.overdue);
    inc[2].category = ASSET_CAT_A;
    assert_int_equal(incident_targets_set(&t, INCIDENT_PHASE_FIRST_AID, 7, -1, MIN), -EINVAL);
    assert_int_equal(incident_targets_set(&t, INCIDENT_PHASE_FIRST_AID, -1, -1, -1), -EINVAL);

    /* Listing: at T0 + 31 min, 0 and 2 are overdue, 1 (emergency) is not. */
    list[0] = &inc[0];
    list[1] = &inc[1];
    list[2] = NULL;
    list[3] = &inc[2];
    assert_int_equal(incident_overdue(list, 4, &t, T0 + 31 * MIN, idx, 4), 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 3);
    assert_int_equal(incident_overdue(list, 4, &t, T0 + 31 * MIN, idx, 1), 2);

    /* Closed: no target. */
    walk_to(&inc[1], INCIDENT_PHASE_CLOSED);
    incident_deadline(&inc[1], &t, T0 + 1000 * DAY, &d);
    assert_false(d.has_target);
    assert_false(d.overdue);
    for (int i = 0; i < 3; i++)
        incident_done(&inc[i]);
}

static void test_declared_levels(void **state)
{
    struct incident_org org;
    const struct incident_declaration *d;
    const char *msg = NULL;
    (void)state;

    incident_org_init(&org);
    assert_int_equal(incident_org_current(&org, ASSET_CAT_A, &d), TRIAGE_GREEN);
    assert_null(d);
    assert_int_equal(incident_org_declare(&org, ASSET_CAT_A, TRIAGE_ORANGE, "ciso",
                                          "ransomware at a partner", T0, &msg),
                     0);
    assert_int_equal(incident_org_declare(&org, ASSET_CAT_D, TRIAGE_YELLOW, "pr", "press enquiry",
                                          T0 + MIN, &msg),
                     0);
    assert_int_equal(incident_org_declare(&org, ASSET_CAT_A, TRIAGE_RED, "ciso",
                                          "file server encrypted", T0 + 2 * MIN, &msg),
                     0);
    assert_int_equal(incident_org_current(&org, ASSET_CAT_A, &d), TRIAGE_RED);
    assert_string_equal(d->why, "file server encrypted");
    assert_int_equal(d->time_us, T0 + 2 * MIN);
    assert_int_equal(incident_org_current(&org, ASSET_CAT_D, NULL), TRIAGE_YELLOW);
    assert_int_equal(incident_org_current(&org, ASSET_CAT_B, NULL), TRIAGE_GREEN);
    assert_int_equal(org.n, 3);
    assert_int_equal(org.hist[0].level, TRIAGE_ORANGE); /* history kept in order */

    assert_int_equal(
        incident_org_declare(&org, ASSET_CAT_A, TRIAGE_GREEN, "ciso", "", T0 + 3 * MIN, &msg),
        -EINVAL);
    assert_string_equal(msg, "a declaration needs a reason (at most 512 bytes)");
    assert_int_equal(
        incident_org_declare(&org, ASSET_CAT_NONE, TRIAGE_GREEN, "ciso", "x", T0 + 3 * MIN, &msg),
        -EINVAL);
    assert_string_equal(msg, "category must be A, B, C or D");
    assert_int_equal(incident_org_declare(&org, ASSET_CAT_B, TRIAGE_GREEN, "ciso", "x", T0, &msg),
                     -EINVAL);
    assert_string_equal(msg, "a declaration cannot predate the previous one");
    assert_int_equal(
        incident_org_declare(&org, ASSET_CAT_B, TRIAGE_GREEN, NULL, "x", T0 + 3 * MIN, &msg),
        -EINVAL);
    assert_int_equal(org.n, 3);
    incident_org_done(&org);
}

static void test_risk_meter(void **state)
{
    static const struct {
        double a, b, c, d, want;
    } ok[] = {
        {10, 100, 100, 1, 10},   /* every measure in place: the base risk */
        {10, 0, 0, 1, 100010},   /* none: A + A*100*100*D */
        {10, 50, 80, 0.5, 5010}, /* 10 + 10*50*20*0.5 */
        {0, 0, 0, 5, 0},         /* no base risk, no risk */
        {7, 0, 0, 0, 7},         /* D = 0: the base risk */
        {1, 99.5, 0, 2, 101},    /* 1 + 1*0.5*100*2 */
    };
    static const double bad[][4] = {
        {-1, 0, 0, 1}, {1, -0.1, 0, 1}, {1, 100.1, 0, 1},
        {1, 0, -5, 1}, {1, 0, 101, 1},  {1, 0, 0, -1},
    };
    struct incident_risk_history h;
    double v;
    (void)state;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(incident_risk_meter(ok[i].a, ok[i].b, ok[i].c, ok[i].d, &v), 0);
        assert_float_equal(v, ok[i].want, 1e-9);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = -42;
        assert_int_equal(incident_risk_meter(bad[i][0], bad[i][1], bad[i][2], bad[i][3], &v),
                         -EINVAL);
        assert_float_equal(v, -42, 0);
    }
    assert_int_equal(incident_risk_meter(0.0 / 0.0, 0, 0, 1, &v), -EINVAL);
    assert_int_equal(incident_risk_meter(1, 0, 0, 1.0 / 0.0, &v), -EINVAL);
    assert_int_equal(incident_risk_meter(1e300, 0, 0, 1e300, &v), -ERANGE);

    /* History: measures rolled out over time lower the meter. */
    incident_risk_history_init(&h);
    assert_int_equal(incident_risk_history_add(&h, T0, 10, 0, 0, 1), 0);
    assert_int_equal(incident_risk_history_add(&h, T0 + MIN, 10, 90, 0, 1), 0);
    assert_int_equal(incident_risk_history_add(&h, T0 + 2 * MIN, 10, -1, 0, 1), -EINVAL);
    assert_int_equal(h.n, 2);
    assert_float_equal(incident_risk_history_get(&h, 0)->value, 100010, 1e-9);
    assert_float_equal(incident_risk_history_get(&h, 1)->value, 10010, 1e-9);
    assert_null(incident_risk_history_get(&h, 2));
    /* Past the cap the oldest goes. */
    for (int i = 0; i < INCIDENT_RISK_MAX_SAMPLES; i++)
        assert_int_equal(incident_risk_history_add(&h, T0 + 10 * MIN + i, 1, 0, 0, 0), 0);
    assert_int_equal(h.n, INCIDENT_RISK_MAX_SAMPLES);
    assert_int_equal(incident_risk_history_get(&h, 0)->time_us, T0 + 10 * MIN);
    incident_risk_history_done(&h);
}

static void test_json_round_trip(void **state)
{
    struct incident inc, back;
    struct buf b1, b2;
    struct parse_err e;
    struct incident_change ch;
    char why[256];
    (void)state;

    load_real_entities();
    make(&inc);
    free(inc.title);
    inc.title = strdup("SSH brute force \"webmaster\" <from> \\ outside\n\xe7\x81\xab");
    assert_non_null(inc.title);
    inc.type = TRIAGE_TYPE_PROBE;
    inc.method = INCIDENT_METHOD_EXTERNAL_PUBLIC;
    inc.category = ASSET_CAT_B;
    assert_int_equal(
        incident_set_level(&inc, TRIAGE_YELLOW, "alice", NULL, T0, &ch, why, sizeof(why)), 0);
    assert_int_equal(incident_set_assignee(&inc, "carol", "alice", T0, &ch, why, sizeof(why)), 0);
    assert_int_equal(incident_add_entity(&inc, real_ip, INCIDENT_ENTITY_ADDRESS,
                                         INCIDENT_ROLE_ATTACKER, "t", T0, NULL),
                     0);
    assert_int_equal(incident_add_entity(&inc, "LabSZ", INCIDENT_ENTITY_HOST, INCIDENT_ROLE_VICTIM,
                                         "t", T0, NULL),
                     0);
    assert_int_equal(incident_add_alert(&inc, 3, "t", T0, NULL), 0);
    assert_int_equal(incident_add_alert(&inc, UINT64_MAX, "t", T0, NULL), 0);
    assert_int_equal(incident_add_stage(&inc, TRIAGE_STAGE_RECON, "t", T0, NULL), 0);
    assert_int_equal(incident_add_stage(&inc, TRIAGE_STAGE_C2, "t", T0, NULL), 0);
    walk_to(&inc, INCIDENT_PHASE_EMERGENCY);

    buf_init(&b1, 1 << 20);
    buf_init(&b2, 1 << 20);
    assert_int_equal(incident_to_json(&inc, &b1), 0);
    assert_non_null(strstr(b1.data, "\"type\":\"probe or attack without damage\""));
    assert_non_null(strstr(b1.data, "\"detection_method\":\"external report (public)\""));
    assert_non_null(strstr(b1.data, "\"stages\":[\"recon\",\"command and control\"]"));
    assert_non_null(strstr(b1.data, "{\"value\":\"173.234.31.186\",\"kind\":\"address\","
                                    "\"role\":\"attacker\"}"));
    assert_int_equal(incident_from_json(b1.data, b1.len, &back, &e), 0);
    assert_string_equal(back.title, inc.title);
    assert_int_equal(back.type, inc.type);
    assert_int_equal(back.method, inc.method);
    assert_int_equal(back.category, inc.category);
    assert_int_equal(back.level, inc.level);
    assert_int_equal(back.phase, inc.phase);
    assert_string_equal(back.assignee, "carol");
    assert_int_equal(back.nentities, 2);
    assert_string_equal(back.entities[0].value, real_ip);
    assert_int_equal(back.entities[0].role, INCIDENT_ROLE_ATTACKER);
    assert_int_equal(back.nalerts, 2);
    assert_true(back.alerts[1] == UINT64_MAX);
    assert_int_equal(back.stages, inc.stages);
    assert_int_equal(back.version, inc.version);
    assert_int_equal(back.phase_since_us, inc.phase_since_us);
    /* And the re-serialised form is byte for byte the same. */
    assert_int_equal(incident_to_json(&back, &b2), 0);
    assert_string_equal(b1.data, b2.data);
    buf_done(&b1);
    buf_done(&b2);
    incident_done(&back);
    incident_done(&inc);
}

static void test_json_from_errors(void **state)
{
    static const struct {
        const char *json;
        const char *msg;
    } rows[] = {
        {"{\"title\":\"x\"}", "missing field"},
        {"{\"id\":1,\"colour\":\"red\"}", "unknown field"},
        {"{\"id\":\"1\"}", "wrong type: expected an integer"},
        {"{\"id\":1.5}", "wrong type: expected an integer"},
        {"{\"id\":1,\"title\":3}", "wrong type: expected a string for"},
        {"{\"id\":1,\"level\":\"Purple\"}", "unknown value for"},
        {"{\"id\":1,\"alerts\":[1,1]}", "duplicate value in"},
        {"{\"id\":1,\"entities\":[{\"value\":\"h\",\"kind\":\"printer\"}]}", "unknown value for"},
        {"{\"id\":1,\"entities\":[{\"kind\":\"host\"}]}", "missing field"},
        {"{\"id\":1,\"title\":\"a\\u0000b\"}", "NUL in string"},
        {"{\"id\":1,\"title\":\"\\ud800\"}", "lone high surrogate"},
        {"{\"id\":1,\"title\":\"\xff\"}", "invalid UTF-8 in string"},
        {"{\"id\":1} x", "trailing data after the object"},
        {"{\"id\":1", "expected ',' or '}'"},
        {"[1]", "expected an object"},
        {"{\"id\":18446744073709551616}", "integer out of range"},
        {"{\"id\":1,\"version\":0}", "version must be at least 1:"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct incident inc;
        struct parse_err e = {0};
        assert_int_equal(incident_from_json(rows[i].json, strlen(rows[i].json), &inc, &e), -EINVAL);
        assert_string_equal(e.msg, rows[i].msg);
        assert_null(inc.title); /* zeroed */
    }
}

#define STALE "{\"version\":1,\"level\":\"Green\"}"

static void test_json_update(void **state)
{
    static const char body[] =
        "{\"title\":\"Web defacement\",\"level\":\"Red\",\"category\":\"A\","
        "\"type\":\"damage manifest\",\"assignee\":\"carol\",\"tags\":[\"web\",\"defacement\"],"
        "\"phase\":\"first_aid\",\"reason\":\"front page replaced\",\"version\":1}";
    struct incident inc;
    struct incident_change *ch = NULL;
    size_t n = 0;
    struct parse_err e;
    char why[256];
    (void)state;

    make(&inc);
    assert_int_equal(incident_update_json(&inc, body, strlen(body), "alice", T0 + MIN, &ch, &n, &e,
                                          why, sizeof(why)),
                     0);
    assert_int_equal(n, 7);
    assert_string_equal(inc.title, "Web defacement");
    assert_int_equal(inc.level, TRIAGE_RED);
    assert_int_equal(inc.category, ASSET_CAT_A);
    assert_int_equal(inc.type, TRIAGE_TYPE_DAMAGE);
    assert_string_equal(inc.assignee, "carol");
    assert_int_equal(inc.ntags, 2);
    assert_int_equal(inc.phase, INCIDENT_PHASE_FIRST_AID);
    assert_int_equal(inc.version, 8);
    /* One change each, the phase last, all with the reason. */
    assert_string_equal(ch[0].what, "title");
    assert_string_equal(ch[n - 1].what, "phase");
    assert_string_equal(ch[n - 1].to, "first_aid");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ch[i].reason, "front page replaced");
        assert_string_equal(ch[i].who, "alice");
        assert_int_equal(ch[i].version, 2 + i);
    }
    free(ch);

    /* Stale version. */
    assert_int_equal(
        incident_update_json(&inc, STALE, strlen(STALE), "bob", T0, &ch, &n, &e, why, sizeof(why)),
        -ESTALE);
    assert_string_equal(why, "version 1 is stale: the incident is at version 8");
    assert_int_equal(inc.level, TRIAGE_RED);

    /* Nothing changes: no entries. */
    assert_int_equal(incident_update_json(&inc, "{\"level\":\"red\"}", 15, "bob", T0, &ch, &n, &e,
                                          why, sizeof(why)),
                     0);
    assert_int_equal(n, 0);
    assert_null(ch);
    incident_done(&inc);
}

static void test_json_update_errors(void **state)
{
    static const struct {
        const char *json;
        int err;
        const char *msg, *why;
    } rows[] = {
        {"{\"title\":\"ok\",\"severity\":3}", -EINVAL, "unknown field",
         "unknown field \"severity\" at byte 25"},
        {"{\"level\":3}", -EINVAL, "wrong type: expected a string", NULL},
        {"{\"title\":\"\"}", -EINVAL, "empty value for", "empty value for \"title\" at byte 11"},
        {"{\"title\":\"a\",\"title\":\"b\"}", -EINVAL, "duplicate field", NULL},
        {"{\"tags\":\"web\"}", -EINVAL, "wrong type: expected an array for tags", NULL},
        {"{\"tags\":[\"a\",\"a\"]}", -EINVAL, "duplicate value in", NULL},
        {"{\"phase\":\"closed\"}", -EINVAL, "illegal phase change",
         "cannot go from new to closed: closing before any response needs a reason (false "
         "positive, duplicate, merged)"},
        {"{\"phase\":\"emergency\",\"title\":\"t\"}", -EINVAL, "illegal phase change", NULL},
        {"{\"version\":\"1\"}", -EINVAL, "wrong type: expected an integer", NULL},
        {"{\"assignee\":\"0123456789012345678901234567890123456789012345678901234567890123X\"}",
         -EINVAL, "string too long", NULL},
        {"", -EINVAL, "expected an object", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct incident inc;
        struct incident_change *ch = (struct incident_change *)1;
        size_t n = 99;
        struct parse_err e = {0};
        char why[256] = "";
        struct buf before, after;

        make(&inc);
        buf_init(&before, 1 << 16);
        buf_init(&after, 1 << 16);
        assert_int_equal(incident_to_json(&inc, &before), 0);
        assert_int_equal(incident_update_json(&inc, rows[i].json, strlen(rows[i].json), "alice",
                                              T0 + MIN, &ch, &n, &e, why, sizeof(why)),
                         rows[i].err);
        assert_null(ch);
        assert_int_equal(n, 0);
        assert_non_null(e.msg);
        if (strncmp(e.msg, rows[i].msg, strlen(rows[i].msg)) != 0)
            fail_msg("row %zu: msg \"%s\", want \"%s\"", i, e.msg, rows[i].msg);
        if (rows[i].why)
            assert_string_equal(why, rows[i].why);
        /* All or nothing: the incident is as it was. */
        assert_int_equal(incident_to_json(&inc, &after), 0);
        assert_string_equal(before.data, after.data);
        buf_done(&before);
        buf_done(&after);
        incident_done(&inc);
    }
}

static void test_reopen_by_update(void **state)
{
    static const char body[] = "{\"phase\":\"first_aid\",\"reason\":\"recurrence\","
                               "\"level\":\"Orange\"}";
    struct incident inc;
    struct incident_change *ch = NULL;
    size_t n = 0;
    struct parse_err e;
    char why[256];
    (void)state;

    make(&inc);
    walk_to(&inc, INCIDENT_PHASE_CLOSED);
    /* Without reopening, a closed incident takes no field change. */
    assert_int_equal(incident_update_json(&inc, "{\"level\":\"Red\"}", 15, "bob", T0, &ch, &n, &e,
                                          why, sizeof(why)),
                     -EINVAL);
    assert_string_equal(why, "cannot change the incident: the incident is closed; reopen it first");
    assert_int_equal(
        incident_update_json(&inc, body, strlen(body), "bob", T0, &ch, &n, &e, why, sizeof(why)),
        0);
    assert_int_equal(n, 2);
    assert_string_equal(ch[0].what, "phase"); /* reopening goes first */
    assert_string_equal(ch[1].what, "level");
    assert_int_equal(inc.level, TRIAGE_ORANGE);
    free(ch);
    incident_done(&inc);
}

static void test_names(void **state)
{
    enum triage_type t;
    enum triage_alert_level l;
    enum asset_category c;
    (void)state;
    /* MISSION.md's exact strings: every type, external ones too, reads
     * back as itself, and "none" out of range. */
    for (int i = 0; i < TRIAGE_TYPE_ALL_COUNT; i++) {
        const char *name = triage_type_name((enum triage_type)i);
        assert_int_equal(incident_type_from_name(name, strlen(name), &t), 0);
        assert_int_equal(t, i);
    }
    assert_string_equal(triage_type_name(TRIAGE_TYPE_DAMAGE), "damage manifest");
    assert_string_equal(triage_type_name(TRIAGE_TYPE_EXT_LAW), "change of law/guidelines");
    assert_string_equal(triage_type_name((enum triage_type)TRIAGE_TYPE_ALL_COUNT), "none");
    assert_int_equal(incident_type_from_name("incident at another organisation", 32, &t), 0);
    assert_int_equal(t, TRIAGE_TYPE_EXT_OTHER_ORG);
    assert_int_equal(incident_type_from_name("Damage manifest", 15, &t), -EINVAL);
    assert_string_equal(incident_method_name(INCIDENT_METHOD_EXTERNAL_PRIVATE),
                        "external report (private)");
    assert_int_equal(incident_level_from_name("orange", 6, &l), 0);
    assert_int_equal(l, TRIAGE_ORANGE);
    assert_int_equal(incident_category_from_name("d", 1, &c), 0);
    assert_int_equal(c, ASSET_CAT_D);
    assert_int_equal(incident_category_from_name("none", 4, &c), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_legal_transitions),
        cmocka_unit_test(test_illegal_transitions),
        cmocka_unit_test(test_field_changes),
        cmocka_unit_test(test_change_truncation),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_declared_levels),
        cmocka_unit_test(test_risk_meter),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_from_errors),
        cmocka_unit_test(test_json_update),
        cmocka_unit_test(test_json_update_errors),
        cmocka_unit_test(test_reopen_by_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
