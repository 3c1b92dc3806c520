/*
 * store_sqlite.c - the store on SQLite (with store_incident.c, the only
 * files that include sqlite3.h; they share store_priv.h).
 *
 * One connection per struct store, used by one thread at a time, so the
 * connection is opened without SQLite's own mutexes.  Every statement the
 * pipeline runs per record is prepared once at open and only reset and
 * re-bound per call: preparing is several times the cost of the insert.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event/event.h"
#include "event/time.h"
#include "store/store_priv.h"
#include "input/record.h"
#include "triage/alert.h"
#include "util/buf.h"

#define STORE_DB_NAME "hikeshi.db"
#define STORE_BUSY_TIMEOUT_MS 5000
/* An event's fields as JSON: bounded because the fields come from the wire
 * (LIMIT_EVENT_FIELDS values of at most one record each, escaped). */
#define STORE_JSON_CAP (16 * 1024 * 1024)

/*
 * The migrations, in order: entry i takes the schema from version i to
 * version i + 1.  Each runs in its own transaction together with the
 * user_version bump, so a crash leaves the database at a whole version.
 * To change the schema, APPEND an entry (never edit a shipped one) and
 * raise STORE_SCHEMA_VERSION in store.h; the static assertion below keeps
 * the two in step.
 */
static const char *const store_migrations[] = {
    /* 1: events, alerts, file input positions, counters. */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  recv_us INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  input TEXT NOT NULL,"
    "  decoder TEXT,"        /* NULL: no decoder understood the record */
    "  raw BLOB NOT NULL,"   /* as received; may be any bytes */
    "  fields TEXT NOT NULL" /* JSON object, event_fields_json() */
    ");"
    "CREATE INDEX events_time_us ON events(time_us);"
    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  created_us INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  rule_id TEXT,"
    "  rule_title TEXT,"
    "  rule_author TEXT,"
    "  rule_level TEXT,"
    "  input TEXT,"
    /* Archiving events must not be blocked by the alerts that cite them. */
    "  event_id INTEGER REFERENCES events(id) ON DELETE SET NULL,"
    "  fields TEXT NOT NULL," /* JSON object */
    "  raw BLOB NOT NULL"
    ");"
    "CREATE INDEX alerts_created_us ON alerts(created_us);"
    "CREATE INDEX alerts_rule_id ON alerts(rule_id);"
    /* Without it every deleted event would scan alerts for the FK action. */
    "CREATE INDEX alerts_event_id ON alerts(event_id);"
    "CREATE TABLE input_offsets ("
    "  input TEXT PRIMARY KEY,"
    "  path TEXT NOT NULL,"
    "  dev INTEGER," /* uint64 stored as its int64 bit pattern */
    "  ino INTEGER,"
    "  \"offset\" INTEGER,"
    "  updated_us INTEGER"
    ");"
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL," /* uint64 as its int64 bit pattern */
    "  updated_us INTEGER"
    ");",
    /* 2: triage.  Alerts get a kind (rule, correlation, anomaly) and the
     * aggregated alert they were folded into; aggregated alerts,
     * incidents, and named state blobs (anomaly baselines). */
    "ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'rule';"
    "ALTER TABLE alerts ADD COLUMN agg_id INTEGER;"
    "CREATE TABLE agg_alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  rule_id TEXT,"
    "  rule_name TEXT,"
    "  rule_title TEXT,"
    "  level INTEGER,"
    "  entity_key TEXT NOT NULL," /* rule and sorted field=value entities */
    "  count INTEGER NOT NULL,"
    "  first_us INTEGER NOT NULL,"
    "  last_us INTEGER NOT NULL,"
    "  incident_id INTEGER,"
    "  type TEXT"
    ");"
    "CREATE INDEX agg_alerts_incident ON agg_alerts(incident_id);"
    "CREATE TABLE incidents ("
    "  id INTEGER PRIMARY KEY,"
    "  entity_key TEXT NOT NULL," /* the grouping entity, field=value */
    "  type TEXT NOT NULL,"       /* MISSION.md section 2 */
    "  level TEXT NOT NULL,"      /* proposed: Green, Yellow, Orange, Red */
    "  stage TEXT,"               /* furthest kill-chain stage */
    "  stages TEXT,"              /* JSON array of the stages seen */
    "  category TEXT,"            /* A, B, C, D */
    "  criticality TEXT,"
    "  risk_opened INTEGER NOT NULL DEFAULT 0,"
    "  first_us INTEGER NOT NULL,"
    "  last_us INTEGER NOT NULL,"
    "  nalerts INTEGER NOT NULL,"
    "  nevents INTEGER NOT NULL,"
    "  victims TEXT,"             /* JSON array of field=value */
    "  phase TEXT NOT NULL DEFAULT 'new',"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL"
    ");"
    "CREATE TABLE state ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL,"
    "  updated_us INTEGER"
    ");",
    /* 3: API users and their tokens (only a hash of each token is kept). */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL,"      /* viewer, analyst, admin */
    "  pw_hash TEXT,"            /* Argon2id string; NULL: tokens only */
    "  created_us INTEGER NOT NULL"
    ");"
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  hash BLOB NOT NULL UNIQUE," /* BLAKE2b-256 of the token text */
    "  label TEXT,"
    "  created_us INTEGER NOT NULL"
    ");",
    /* 4: incident management.  The CSIRT's record of an incident (the JSON
     * of incident_to_json, with a version for compare-and-swap updates)
     * beside triage's proposal, which triage keeps updating in proposed_*;
     * type, level, category and phase are the current values (the
     * record's once there is one) so that lists filter on them. */
    "ALTER TABLE incidents ADD COLUMN record TEXT;"
    "ALTER TABLE incidents ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN proposed_type TEXT;"
    "ALTER TABLE incidents ADD COLUMN proposed_level TEXT;"
    "ALTER TABLE incidents ADD COLUMN proposed_category TEXT;"
    "UPDATE incidents SET proposed_type = type, proposed_level = level,"
    "  proposed_category = category;"
    "ALTER TABLE agg_alerts ADD COLUMN ack_by TEXT;"
    "ALTER TABLE agg_alerts ADD COLUMN ack_us INTEGER;"
    "ALTER TABLE agg_alerts ADD COLUMN attached INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE timeline ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  what TEXT NOT NULL,"
    "  from_v TEXT,"
    "  to_v TEXT,"
    "  reason TEXT"
    ");"
    "CREATE INDEX timeline_incident ON timeline(incident_id, id);"
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  text TEXT NOT NULL"
    ");"
    "CREATE INDEX notes_incident ON notes(incident_id, id);"
    "CREATE TABLE tasks ("
    "  incident_id INTEGER NOT NULL,"
    "  id INTEGER NOT NULL,"       /* within the incident */
    "  phase TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  description TEXT,"
    "  owner TEXT,"
    "  assignee TEXT,"
    "  required INTEGER NOT NULL,"
    "  added INTEGER NOT NULL,"
    "  done INTEGER NOT NULL,"
    "  done_us INTEGER,"
    "  done_by TEXT,"
    "  PRIMARY KEY(incident_id, id)"
    ");"
    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"        /* vertical, horizontal, external */
    "  organisation TEXT,"
    "  role TEXT,"
    "  email TEXT,"
    "  phone TEXT,"
    "  notes TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL"
    ");"
    "CREATE TABLE communications ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  contact_id INTEGER REFERENCES contacts(id),"
    "  party TEXT,"
    "  channel TEXT NOT NULL,"
    "  direction TEXT NOT NULL,"   /* out, in */
    "  summary TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL"
    ");"
    "CREATE INDEX communications_incident ON communications(incident_id, id);"
    "CREATE TABLE reports ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"        /* first, interim1, interim2, final */
    "  version INTEGER NOT NULL,"
    "  edited INTEGER NOT NULL,"   /* 1: text edited by a person */
    "  author TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  markdown TEXT NOT NULL,"
    "  html TEXT,"                 /* NULL for edited versions */
    "  UNIQUE(incident_id, kind, version)"
    ");"
    "CREATE TABLE declarations ("
    "  id INTEGER PRIMARY KEY,"
    "  category TEXT NOT NULL,"
    "  level TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  why TEXT NOT NULL"
    ");"
    "CREATE TABLE risk_samples ("
    "  id INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL,"
    "  a REAL NOT NULL, b REAL NOT NULL, c REAL NOT NULL, d REAL NOT NULL,"
    "  value REAL NOT NULL,"
    "  live TEXT NOT NULL,"        /* JSON array of the inputs taken from live data */
    "  who TEXT NOT NULL,"
    "  note TEXT"
    ");",
    /* 5: suppressions made through the API, picked up by triage in the
     * pipeline (the triage.yaml `suppress:` text of each). */
    "CREATE TABLE suppressions ("
    "  id INTEGER PRIMARY KEY,"
    "  created_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  alert_id INTEGER,"          /* the aggregated alert it was made from */
    "  reason TEXT NOT NULL,"
    "  expires_us INTEGER NOT NULL,"
    "  yaml TEXT NOT NULL"
    ");",
    /* 6: the response engine's decisions: actions done, refused, and the
     * approval queue (store_resp_*). */
    "CREATE TABLE responses ("
    "  id INTEGER PRIMARY KEY,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  policy_rule TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  rule_id TEXT, rule_name TEXT, correlation TEXT,"
    "  level INTEGER NOT NULL DEFAULT 0,"
    "  incident_type TEXT,"
    "  address TEXT,"
    "  udp_only INTEGER NOT NULL DEFAULT 0,"
    "  corroborated INTEGER NOT NULL DEFAULT 0,"
    "  actions TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  agg_id INTEGER NOT NULL DEFAULT 0,"
    "  incident_id INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT NOT NULL,"
    "  result TEXT,"                /* JSON object: action -> outcome */
    "  ban_us INTEGER NOT NULL DEFAULT 0,"
    "  expires_us INTEGER NOT NULL DEFAULT 0,"
    "  decided_by TEXT, decided_us INTEGER NOT NULL DEFAULT 0, decision_note TEXT,"
    "  lift_by TEXT, lift_us INTEGER NOT NULL DEFAULT 0,"
    "  lifted INTEGER NOT NULL DEFAULT 0,"
    "  seen INTEGER NOT NULL DEFAULT 1,"
    "  dry_run INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX responses_state ON responses(state);"
    "CREATE INDEX responses_address ON responses(address);",
    /* 7: web console sessions are tokens with an expiry (NULL: a token
     * from `hikeshi user add`, which lasts until revoked). */
    "ALTER TABLE tokens ADD COLUMN expires_us INTEGER;",
    /* 8: the web console's dashboard and admin page (store_console.c).
     * Its counts go by arrival time: events(recv_us) gets an index (ids
     * follow arrival, so it only ever grows at its right edge and costs
     * the insert little), aggregated alerts and incidents one on the time
     * they were stored (aggregated alerts did not keep it: taken from
     * their first alert, else their first event).  The hits per rule read
     * an index only: (rule_id, created_us) replaces rule_id, which is its
     * prefix.  Suppressions can be lifted before their expiry; lift_seq
     * numbers the lifts so that triage picks up each one once. */
    "CREATE INDEX events_recv_us ON events(recv_us);"
    "DROP INDEX alerts_rule_id;"
    "CREATE INDEX alerts_rule_created ON alerts(rule_id, created_us);"
    "ALTER TABLE agg_alerts ADD COLUMN created_us INTEGER;"
    "UPDATE agg_alerts SET created_us = m.first FROM"
    "  (SELECT agg_id, min(created_us) AS first FROM alerts WHERE agg_id IS NOT NULL"
    "   GROUP BY agg_id) AS m WHERE m.agg_id = agg_alerts.id;"
    "UPDATE agg_alerts SET created_us = first_us WHERE created_us IS NULL;"
    "CREATE INDEX agg_alerts_created_us ON agg_alerts(created_us);"
    "CREATE INDEX incidents_created_us ON incidents(created_us);"
    "ALTER TABLE suppressions ADD COLUMN lifted_us INTEGER;"
    "ALTER TABLE suppressions ADD COLUMN lifted_by TEXT;"
    "ALTER TABLE suppressions ADD COLUMN lift_seq INTEGER;"
    "CREATE UNIQUE INDEX suppressions_lift_seq ON suppressions(lift_seq);",
    /* 9: why triage opened an incident, for people ("opened because: 3
     * rules, 2 tactics, risk 84 >= 60"); NULL for incidents opened before
     * it was kept, or by hand. */
    "ALTER TABLE incidents ADD COLUMN opened_why TEXT;",
    /* 10: accounts (issue 15).  A user can be disabled and remembers its
     * last login; every token expires.  Until now only sessions had an
     * expiry, so those are the sessions; the API tokens that had none get
     * 30 days from this upgrade (the default http.token_ttl), rather than
     * an instant expiry that would cut every script off at once. */
    "ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN last_login_us INTEGER;"
    "ALTER TABLE tokens ADD COLUMN session INTEGER NOT NULL DEFAULT 0;"
    "UPDATE tokens SET session = 1 WHERE expires_us IS NOT NULL;"
    "UPDATE tokens SET expires_us = CAST(strftime('%s', 'now') AS INTEGER) * 1000000"
    "  + 2592000000000 WHERE expires_us IS NULL;"
    "CREATE INDEX tokens_expires_us ON tokens(expires_us);"
    "CREATE INDEX tokens_user_id ON tokens(user_id);"
    /* Audit entries of changes made by `hikeshi user` while a running
     * daemon holds the audit log; whoever holds it next appends them in
     * order and deletes them (store_outbox_drain). */
    "CREATE TABLE audit_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  details TEXT NOT NULL"
    ");",
    /* The evidence register (src/evidence/, docs/evidence.md): an item's
     * record is fixed at add; its custody log is hash-chained lines, and
     * every custody entry and bundle signature takes one epoch of the
     * evidence key chain, kept in evidence_seals in epoch order. */
    "CREATE TABLE evidence_items ("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 TEXT NOT NULL,"
    "  record TEXT NOT NULL"
    ");"
    "CREATE TABLE evidence_links ("
    "  item_id INTEGER NOT NULL REFERENCES evidence_items(id),"
    "  incident_id INTEGER NOT NULL,"
    "  PRIMARY KEY (item_id, incident_id)"
    ");"
    "CREATE INDEX evidence_links_incident ON evidence_links(incident_id);"
    "CREATE TABLE evidence_custody ("
    "  item_id INTEGER NOT NULL REFERENCES evidence_items(id),"
    "  seq INTEGER NOT NULL,"
    "  line TEXT NOT NULL,"
    "  PRIMARY KEY (item_id, seq)"
    ");"
    "CREATE TABLE evidence_seals ("
    "  epoch INTEGER PRIMARY KEY,"
    "  line TEXT NOT NULL"
    ");",
    /* 12: indicators of compromise (issue 20, src/intel/, docs/intel.md).
     * One row per (type, value, feed): a feed is replaced as a whole at
     * each import (import_us marks the rows the latest import held).
     * first/last_seen_us are the first and latest import that held it;
     * the sightings columns sum intel_sightings, one row per input. */
    "CREATE TABLE intel_indicators ("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  feed TEXT NOT NULL,"
    "  confidence INTEGER NOT NULL,"
    "  tlp TEXT NOT NULL,"
    "  ref TEXT,"
    "  first_seen_us INTEGER NOT NULL,"
    "  last_seen_us INTEGER NOT NULL,"
    "  valid_from_us INTEGER,"
    "  valid_until_us INTEGER,"
    "  import_us INTEGER NOT NULL,"
    "  sightings INTEGER NOT NULL DEFAULT 0,"
    "  first_sighted_us INTEGER,"
    "  last_sighted_us INTEGER,"
    "  UNIQUE (type, value, feed)"
    ");"
    "CREATE INDEX intel_indicators_feed ON intel_indicators(feed, import_us);"
    "CREATE TABLE intel_tags ("
    "  indicator_id INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (indicator_id, kind, value)"
    ") WITHOUT ROWID;"
    "CREATE TABLE intel_sightings ("
    "  indicator_id INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,"
    "  source TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  first_us INTEGER NOT NULL,"
    "  last_us INTEGER NOT NULL,"
    "  PRIMARY KEY (indicator_id, source)"
    ") WITHOUT ROWID;",
    /* 13: the escalation clock (issue 25, store_clock.c): the last step
     * fired per deadline, so that none fires twice across restarts. */
    "CREATE TABLE incident_clock ("
    "  incident_id INTEGER NOT NULL,"
    "  phase TEXT NOT NULL,"
    "  phase_since_us INTEGER NOT NULL,"
    "  due_us INTEGER NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  fired_us INTEGER NOT NULL,"
    "  PRIMARY KEY (incident_id, phase, phase_since_us)"
    ") WITHOUT ROWID;",
    /* 14: scale-out (issue 23, docs/scale.md): the record id a collector
     * gave each record, so that a record the stream delivers again (an
     * analyser died between its commit and its ack) stores its event and
     * its rule alerts once. */
    "ALTER TABLE events ADD COLUMN record_id TEXT;"
    "CREATE UNIQUE INDEX events_record_id ON events(record_id) WHERE record_id IS NOT NULL;"
    "ALTER TABLE alerts ADD COLUMN record_id TEXT;"
    "CREATE UNIQUE INDEX alerts_record_rule ON alerts(record_id, rule_id)"
    "  WHERE record_id IS NOT NULL;",
    /* 15: communications that are sent (issue 25, store_message.c,
     * docs/incident.md "Messages"): a message's life draft -> approved ->
     * sent -> delivered | retry | failed, the replies attached to it, the
     * TLP marking of an incident's fields, the impact and threat analysis
     * and the countermeasures of the full response. */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"       /* manual, first_report, ... */
    "  party TEXT NOT NULL,"      /* csirt, isp, press, ... (message.h) */
    "  contact_id INTEGER REFERENCES contacts(id),"
    "  recipient TEXT NOT NULL,"  /* a mail address, a URL, an export name */
    "  channel TEXT NOT NULL,"    /* smtp, webhook, export */
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  fields TEXT NOT NULL,"     /* the incident's fields disclosed, comma-separated */
    "  tlp TEXT NOT NULL,"        /* the highest marking among them */
    "  ref TEXT NOT NULL UNIQUE," /* what a reply quotes to find its message */
    "  state TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_us INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  approved_us INTEGER,"
    "  approved_by TEXT,"
    "  sent_us INTEGER,"
    "  done_us INTEGER,"
    "  updated_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX messages_incident ON messages(incident_id, id);"
    "CREATE INDEX messages_state ON messages(state, next_us);"
    "CREATE TABLE message_replies ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  incident_id INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  received_us INTEGER NOT NULL,"
    "  received_by TEXT NOT NULL"
    ");"
    "CREATE INDEX message_replies_message ON message_replies(message_id, id);"
    "CREATE TABLE field_markings ("
    "  incident_id INTEGER NOT NULL,"
    "  field TEXT NOT NULL,"
    "  tlp TEXT NOT NULL,"
    "  PRIMARY KEY (incident_id, field)"
    ") WITHOUT ROWID;"
    "CREATE TABLE incident_impact ("
    "  incident_id INTEGER PRIMARY KEY,"
    "  record TEXT NOT NULL," /* impact.h's JSON, as impact_json writes it */
    "  recommended TEXT NOT NULL,"
    "  impact_text TEXT NOT NULL," /* impact_text, for messages */
    "  threats_text TEXT NOT NULL," /* impact_threats_text */
    "  updated_us INTEGER NOT NULL,"
    "  updated_by TEXT NOT NULL"
    ");"
    "CREATE TABLE countermeasures ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  function TEXT NOT NULL," /* deter, prevent, defend, detect, recover */
    "  title TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  due_us INTEGER,"
    "  state TEXT NOT NULL,"    /* planned, in_progress, done, verified */
    "  verification TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  verified_by TEXT"
    ");"
    "CREATE INDEX countermeasures_incident ON countermeasures(incident_id, id);",
    /* 16: tabletop exercises (issue 22, store_exercise.c, docs/exercise.md).
     * exercise_marks: what records of an exercise input made (kind event,
     * alert, agg or incident, its id, the time the dashboard counts it by),
     * left out of the dashboard's counts.  exercise_runs: each run of a
     * scenario and its last score; exercise_log: what it delivered. */
    "CREATE TABLE exercise_marks ("
    "  kind TEXT NOT NULL,"
    "  id INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX exercise_marks_time ON exercise_marks(kind, time_us);"
    "CREATE TABLE exercise_runs ("
    "  id INTEGER PRIMARY KEY,"
    "  scenario TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  file TEXT NOT NULL,"
    "  speed REAL NOT NULL,"
    "  state TEXT NOT NULL,"          /* running, done, stopped, failed */
    "  started_us INTEGER NOT NULL,"
    "  ended_us INTEGER,"
    "  sent INTEGER NOT NULL,"
    "  stop INTEGER NOT NULL,"        /* 1: asked to stop */
    "  score TEXT"                    /* JSON of the last scoring */
    ");"
    "CREATE INDEX exercise_runs_scenario ON exercise_runs(scenario, id);"
    "CREATE TABLE exercise_log ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  scen_us INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"           /* stage, message, record, end */
    "  stage TEXT,"
    "  who TEXT,"
    "  channel TEXT,"
    "  text TEXT NOT NULL"
    ");"
    "CREATE INDEX exercise_log_run ON exercise_log(run_id, id);",
    /* 17: the responsible person (issue 25, store_lead.c, docs/incident.md
     * "The responsible person"): the lead's approval queue.  A change an
     * analyst asked for that is the responsible person's to decide; its
     * PATCH body is applied as sent once approved. */
    "CREATE TABLE approvals ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  requested_by TEXT NOT NULL,"
    "  requested_us INTEGER NOT NULL,"
    "  what TEXT NOT NULL,"       /* the decisions it holds, a sentence */
    "  body TEXT NOT NULL,"       /* the PATCH body, one JSON object */
    "  state TEXT NOT NULL,"      /* pending, approved, rejected */
    "  decider TEXT,"             /* the responsible person then; NULL: any lead */
    "  decided_by TEXT,"
    "  decided_us INTEGER,"
    "  note TEXT"
    ");"
    "CREATE INDEX approvals_state ON approvals(state, id);",
    /* 18: an incident's observables (issue 20, store_observable.c,
     * docs/intel.md "Observables in incidents"): taken from the events of
     * the alerts that join it, or added by analysts; the same type and
     * value in two incidents links them; indicator_id: promoted to it. */
    "CREATE TABLE incident_observables ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  origin TEXT NOT NULL,"                   /* alert, analyst */
    "  added_by TEXT,"                          /* the analyst; NULL for alerts */
    "  added_us INTEGER NOT NULL,"
    "  alert_id INTEGER NOT NULL DEFAULT 0,"    /* the alert it came from */
    "  note TEXT,"
    "  indicator_id INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (incident_id, type, value)"
    ");"
    "CREATE INDEX incident_observables_value ON incident_observables(type, value);",
    /* 19: tasks that say what they serve and when they are due, and the
     * procedures per box run on an incident (issue 25, docs/incident.md
     * "Procedures per box"): function is a NIST CSF function or NULL;
     * due_us 0 is no deadline; box names what made the task besides the
     * playbook of the type ("B-Orange", "leak:p2p") or is NULL.  A
     * procedure_runs row says a box's tasks and messages were made for the
     * incident, so they are made once. */
    "ALTER TABLE tasks ADD COLUMN function TEXT;"
    "ALTER TABLE tasks ADD COLUMN due_us INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tasks ADD COLUMN box TEXT;"
    "CREATE TABLE procedure_runs ("
    "  incident_id INTEGER NOT NULL,"
    "  box TEXT NOT NULL,"
    "  run_us INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  PRIMARY KEY(incident_id, box)"
    ");",
    /* 20: when a contact may be called (issue 25, availability.h,
     * docs/incident.md "Quiet hours and on-call rotas"): quiet hours
     * "HH:MM-HH:MM", an on-call rota "mon-fri 09:00-18:00, ...", and the
     * zone both are in; NULL or "": none (UTC). */
    "ALTER TABLE contacts ADD COLUMN quiet_hours TEXT;"
    "ALTER TABLE contacts ADD COLUMN on_call TEXT;"
    "ALTER TABLE contacts ADD COLUMN timezone TEXT;",
};

_Static_assert(sizeof(store_migrations) / sizeof(store_migrations[0]) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

enum store_stmt {
    STMT_BEGIN = 0,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_EVENT_ADD,
    STMT_ALERT_ADD,
    STMT_OFFSET_GET,
    STMT_OFFSET_SET,
    STMT_COUNTER_GET,
    STMT_COUNTER_SET,
    STMT_EVENT_COUNT,
    STMT_ALERT_COUNT,
    STMT_ALERT_ADD_REC,
    STMT_AGG_PUT,
    STMT_INCIDENT_PUT,
    STMT_STATE_SET,
    STMT_STATE_GET,
    STMT_AGG_MAX,
    STMT_ALERT_SET_AGG,
    STMT_INCIDENT_MAX,
    STMT_INCIDENT_COUNT,
    STMT_USER_ADD,
    STMT_TOKEN_ADD,
    STMT_TOKEN_FIND,
    STMT_SESSION_ADD,
    STMT_SESSION_PURGE,
    STMT_TOKEN_REVOKE_HASH,
    STMT_INCIDENT_GET,
    STMT_INCIDENT_LIST,
    STMT_COUNT
};

/* The columns of an incident as one JSON object (times as UTC ISO 8601). */
#define STORE_INCIDENT_JSON                                                                        \
    "json_object('id', id, 'entity', entity_key, 'type', coalesce(proposed_type, type),"          \
    " 'level', coalesce(proposed_level, level), 'phase', phase,"                                  \
    " 'stage', stage, 'stages', json(coalesce(stages, '[]')),"                                    \
    " 'category', coalesce(proposed_category, category),"                                         \
    " 'criticality', criticality, 'risk_opened', risk_opened = 1, 'why', opened_why,"            \
    " 'first', strftime('%Y-%m-%dT%H:%M:%fZ', first_us / 1e6, 'unixepoch'),"                      \
    " 'last', strftime('%Y-%m-%dT%H:%M:%fZ', last_us / 1e6, 'unixepoch'),"                        \
    " 'alerts', nalerts, 'events', nevents, 'victims', json(coalesce(victims, '[]')),"            \
    " 'created', strftime('%Y-%m-%dT%H:%M:%fZ', created_us / 1e6, 'unixepoch'),"                  \
    " 'updated', strftime('%Y-%m-%dT%H:%M:%fZ', updated_us / 1e6, 'unixepoch'))"

_Static_assert(STMT_COUNT <= STORE_STMT_MAX, "room for every statement in struct store");

static const char *const store_stmt_sql[STMT_COUNT] = {
    /* IMMEDIATE: take the write lock now rather than fail half-way when a
     * reader connection (API, CLI) holds the database. */
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_EVENT_ADD] = "INSERT INTO events(recv_us, time_us, input, decoder, raw, fields,"
                       " record_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    [STMT_ALERT_ADD] = "INSERT INTO alerts(created_us, time_us, rule_id, rule_title, rule_author,"
                       " rule_level, input, event_id, fields, raw, record_id)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                       " ON CONFLICT DO NOTHING",
    [STMT_OFFSET_GET] = "SELECT path, dev, ino, \"offset\" FROM input_offsets WHERE input = ?1",
    [STMT_OFFSET_SET] = "INSERT INTO input_offsets(input, path, dev, ino, \"offset\", updated_us)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(input) DO UPDATE SET"
                        " path = excluded.path, dev = excluded.dev, ino = excluded.ino,"
                        " \"offset\" = excluded.\"offset\", updated_us = excluded.updated_us",
    [STMT_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?1",
    [STMT_COUNTER_SET] = "INSERT INTO counters(name, value, updated_us) VALUES(?1, ?2, ?3)"
                         " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
                         " updated_us = excluded.updated_us",
    [STMT_EVENT_COUNT] = "SELECT count(*) FROM events",
    [STMT_ALERT_COUNT] = "SELECT count(*) FROM alerts",
    [STMT_ALERT_ADD_REC] = "INSERT INTO alerts(created_us, time_us, rule_id, rule_title, rule_author,"
                           " rule_level, input, event_id, fields, raw, kind, agg_id)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10, ?11)",
    /* created_us is the first storing's and stays. */
    [STMT_AGG_PUT] = "INSERT INTO agg_alerts(id, kind, rule_id, rule_name, rule_title, level,"
                     " entity_key, count, first_us, last_us, incident_id, type, created_us)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                     " ON CONFLICT(id) DO UPDATE SET count = excluded.count,"
                     " first_us = excluded.first_us, last_us = excluded.last_us,"
                     /* An alert attached by hand stays where it was put. */
                     " incident_id = iif(attached, incident_id, excluded.incident_id),"
                     " type = excluded.type",
    [STMT_INCIDENT_PUT] = "INSERT INTO incidents(id, entity_key, type, level, stage, stages,"
                          " category, criticality, risk_opened, first_us, last_us, nalerts,"
                          " nevents, victims, created_us, updated_us, proposed_type,"
                          " proposed_level, proposed_category, opened_why)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                          " ?15, ?15, ?3, ?4, ?7, ?16) ON CONFLICT(id) DO UPDATE SET"
                          " proposed_type = excluded.type, proposed_level = excluded.level,"
                          " proposed_category = excluded.category,"
                          /* Once the CSIRT keeps a record, its values stand. */
                          " type = iif(record IS NULL, excluded.type, type),"
                          " level = iif(record IS NULL, excluded.level, level),"
                          " category = iif(record IS NULL, excluded.category, category),"
                          " stage = excluded.stage, stages = excluded.stages,"
                          " criticality = excluded.criticality,"
                          " risk_opened = excluded.risk_opened, first_us = excluded.first_us,"
                          /* Why it opened does not change once known. */
                          " opened_why = coalesce(opened_why, excluded.opened_why),"
                          " last_us = excluded.last_us, nalerts = excluded.nalerts,"
                          " nevents = excluded.nevents, victims = excluded.victims,"
                          " updated_us = excluded.updated_us",
    [STMT_STATE_SET] = "INSERT INTO state(name, value, updated_us) VALUES(?1, ?2, ?3)"
                       " ON CONFLICT(name) DO UPDATE SET value = excluded.value,"
                       " updated_us = excluded.updated_us",
    [STMT_STATE_GET] = "SELECT value FROM state WHERE name = ?1",
    [STMT_AGG_MAX] = "SELECT coalesce(max(id), 0) FROM agg_alerts",
    [STMT_ALERT_SET_AGG] = "UPDATE alerts SET agg_id = ?2 WHERE id = ?1",
    [STMT_INCIDENT_MAX] = "SELECT coalesce(max(id), 0) FROM incidents",
    [STMT_INCIDENT_COUNT] = "SELECT count(*) FROM incidents",
    [STMT_USER_ADD] = "INSERT INTO users(name, role, pw_hash, created_us) VALUES(?1, ?2, ?3, ?4)",
    [STMT_TOKEN_ADD] = "INSERT INTO tokens(user_id, hash, label, created_us, expires_us)"
                       " VALUES(?1, ?2, ?3, ?4, ?5)",
    /* A disabled user's tokens and sessions work no more. */
    [STMT_TOKEN_FIND] = "SELECT u.name, u.role, coalesce(t.expires_us, 0) FROM tokens t"
                        " JOIN users u ON u.id = t.user_id WHERE t.hash = ?1 AND u.disabled = 0"
                        " AND (t.expires_us IS NULL OR t.expires_us > ?2)",
    [STMT_SESSION_ADD] = "INSERT INTO tokens(user_id, hash, label, created_us, expires_us, session)"
                         " VALUES(?1, ?2, 'session', ?3, ?4, 1)",
    /* Expired tokens and sessions go when a new one is made: the table
     * stays small, and an expired token's hash is not kept for nothing. */
    [STMT_SESSION_PURGE] = "DELETE FROM tokens WHERE expires_us IS NOT NULL AND expires_us <= ?1",
    [STMT_TOKEN_REVOKE_HASH] = "DELETE FROM tokens WHERE hash = ?1",
    /* One incident as a JSON object, built by SQLite's json1. */
    [STMT_INCIDENT_GET] = "SELECT " STORE_INCIDENT_JSON " FROM incidents WHERE id = ?1",
    /* Newest first; NULL filters match everything. */
    [STMT_INCIDENT_LIST] = "SELECT " STORE_INCIDENT_JSON " FROM incidents"
                           " WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR phase = ?2)"
                           " AND (?3 IS NULL OR level = ?3)"
                           " ORDER BY id DESC LIMIT ?4 OFFSET ?5",
};


/* SQLite result code to a negative errno. */
int store_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    default: return -EIO;
    }
}

void store_seterr(struct store *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
    va_end(ap);
}

int store_dberr(struct store *st, int rc, const char *what)
{
    store_seterr(st, "%s: %s (sqlite %d)", what, sqlite3_errmsg(st->db), rc);
    return store_errno(rc);
}

/* Runs a cached statement that returns no rows, then resets it. */
static int store_step_done(struct store *st, enum store_stmt which, const char *what)
{
    sqlite3_stmt *s = st->stmt[which];
    int rc = sqlite3_step(s);
    int r = 0;

    if (rc != SQLITE_DONE)
        r = store_dberr(st, rc, what);
    sqlite3_reset(s);
    return r;
}

/* Takes group write and every bit for others off the database and its
 * -wal and -shm files (0640 at most); best effort, by name, so that no
 * descriptor of ours is closed on the database (POSIX locks). */
static void store_tighten(const char *path)
{
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char p[4096];
    struct stat sb;

    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        if (snprintf(p, sizeof(p), "%s%s", path, sfx[i]) >= (int)sizeof(p))
            return;
        if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0027) != 0)
            (void)chmod(p, sb.st_mode & 0740);
    }
}

/* mkdir -p with mode 0750 for the directories it creates. */
static int store_mkdirs(const char *dir)
{
    char *p = strdup(dir);
    struct stat sb;
    int r = 0;

    if (!p)
        return -ENOMEM;
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0750) < 0 && errno != EEXIST) {
            r = -errno;
            goto out;
        }
        *q = '/';
    }
    if (mkdir(p, 0750) < 0 && errno != EEXIST) {
        r = -errno;
        goto out;
    }
    if (stat(p, &sb) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISDIR(sb.st_mode))
        r = -ENOTDIR;
out:
    free(p);
    return r;
}

/* Reads PRAGMA user_version into *ret. */
static int store_user_version(struct store *st, int *ret)
{
    sqlite3_stmt *s = NULL;
    int rc, r = 0;

    rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, "reading the schema version");
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int(s, 0);
    else
        r = store_dberr(st, rc, "reading the schema version");
    sqlite3_finalize(s);
    return r;
}

/* Runs SQL text (several statements allowed) with no result rows. */
static int store_exec(struct store *st, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        store_seterr(st, "%s: %s (sqlite %d)", what, msg ? msg : sqlite3_errstr(rc), rc);
        sqlite3_free(msg);
        return store_errno(rc);
    }
    return 0;
}

/* Brings the schema from `from` up to STORE_SCHEMA_VERSION, one transaction
 * per step.  Another process may be migrating the same file at the same
 * time, so the version is read again under the write lock. */
static int store_migrate(struct store *st, int from)
{
    char sql[64];
    int r;

    for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
        int cur;

        if ((r = store_exec(st, "BEGIN IMMEDIATE", "migration: begin")) < 0)
            return r;
        if ((r = store_user_version(st, &cur)) < 0)
            goto fail;
        if (cur > v) {
            /* Someone else got there first. */
            v = cur - 1;
            if ((r = store_exec(st, "COMMIT", "migration: commit")) < 0)
                goto fail;
            continue;
        }
        if ((r = store_exec(st, store_migrations[v], "migration")) < 0)
            goto fail;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if ((r = store_exec(st, sql, "migration: setting the schema version")) < 0 ||
            (r = store_exec(st, "COMMIT", "migration: commit")) < 0)
            goto fail;
    }
    return 0;
fail:
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* Checks the journal mode really became WAL (it silently stays as it was
 * on file systems that cannot share memory maps). */
static int store_set_wal(struct store *st)
{
    sqlite3_stmt *s = NULL;
    int rc, r = 0;

    rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return store_dberr(st, rc, "setting WAL mode");
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        r = store_dberr(st, rc, "setting WAL mode");
    } else {
        const unsigned char *mode = sqlite3_column_text(s, 0);
        if (!mode || strcmp((const char *)mode, "wal") != 0) {
            store_seterr(st, "setting WAL mode: journal mode is still %s",
                         mode ? (const char *)mode : "unknown");
            r = -EIO;
        }
    }
    sqlite3_finalize(s);
    return r;
}

static void store_reterr(char **reterr, const char *msg)
{
    if (reterr)
        *reterr = strdup(msg);
}

/* Creates the database file at PATH ourselves so that it is not
 * world-readable: it holds security events.  SQLite gives the -wal and
 * -shm files the same mode.  Only when it does not exist yet: closing any
 * descriptor of a file drops every POSIX lock this process holds on it,
 * so an open and close of a database another connection of ours has open
 * would leave that connection unlocked behind SQLite's back, and the next
 * reader in another process to close would checkpoint and delete the -wal
 * and -shm files still in use here (commits then vanish until we stop).
 * Returns 0 or -errno (the message in st). */
static int store_create_file(struct store *st, const char *path)
{
    int r, fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

    if (fd >= 0) {
        close(fd);
    } else if (errno != EEXIST) {
        r = -errno;
        store_seterr(st, "opening %s: %s", path, strerror(-r));
        return r;
    } else {
        /* A database an older build left readable by everyone: tightened
         * by name (chmod, never open and close: see above). */
        store_tighten(path);
    }
    return 0;
}

/* Says why PATH (or its -wal or -shm, or the directory that holds them)
 * is out of this process's reach when the reason is whose it is: the
 * daemon started by systemd as its own user meets a database someone made
 * as root (`hikeshi user add` without `sudo -u hikeshi`), where SQLite
 * would say only "unable to open database file", or open it read-only and
 * fail at the first write.  Returns -EACCES with the sentence in st, or 0
 * when ownership is not the reason. */
static int store_explain_access(struct store *st, const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat sb;
    const char *what = NULL;
    bool in_dir = false; /* the directory: no -wal or -shm can be made */

    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (!dir[0])
        snprintf(dir, sizeof(dir), "/");
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0 && errno == EACCES &&
        stat(dir, &sb) == 0) {
        what = dir;
        in_dir = true;
    }
    for (size_t i = 0; !what && i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (faccessat(AT_FDCWD, p, R_OK | W_OK, AT_EACCESS) < 0 && errno == EACCES &&
            stat(p, &sb) == 0)
            what = p;
    }
    if (!what)
        return 0;
    {
        const struct passwd *owner = getpwuid(sb.st_uid);
        char oname[64];
        const struct passwd *me;

        snprintf(oname, sizeof(oname), "%s", owner ? owner->pw_name : "?");
        me = getpwuid(geteuid());
        store_seterr(st,
                     "%s belongs to %s (uid %u, mode %04o) and this process runs as %s (uid %u), "
                     "which may not %s it: the data directory and every file in it must be the "
                     "daemon's user's (chown -R %s: %s), and hikeshi's commands on it run as "
                     "that user (sudo -u %s hikeshi ...)",
                     what, oname, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777),
                     me ? me->pw_name : "?", (unsigned)geteuid(),
                     in_dir ? "create files in" : "read and write", me ? me->pw_name : "USER", dir,
                     me ? me->pw_name : "USER");
    }
    return -EACCES;
}

/* Opens the connection to PATH into st->db.  Returns 0 or -errno (the
 * message in st). */
static int store_connect(struct store *st, const char *path)
{
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK && sqlite3_db_readonly(st->db, "main") == 1) {
        if (store_explain_access(st, path) < 0)
            return -EACCES;
        store_seterr(st, "opening the database: %s is read-only here", path);
        return -EROFS;
    }
    if (rc != SQLITE_OK) {
        if (store_explain_access(st, path) < 0)
            return -EACCES;
        if (st->db)
            return store_dberr(st, rc, "opening the database");
        store_seterr(st, "opening the database: %s", sqlite3_errstr(rc));
        return store_errno(rc);
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    return 0;
}

/* Brings the schema of the database at PATH to this build's version (WAL,
 * synchronous, foreign keys, then the migrations) and sets st->version.
 * A database from a newer build is refused before anything writes.
 * Returns 0 or -errno (the message in st). */
static int store_upgrade(struct store *st, const char *path)
{
    int r, cur = 0;

    if ((r = store_user_version(st, &cur)) < 0)
        return r;
    /* Before anything writes: never touch a database from a newer build. */
    if (cur > STORE_SCHEMA_VERSION) {
        store_seterr(st, "%s has schema version %d, newer than this build's %d", path, cur,
                     STORE_SCHEMA_VERSION);
        return -EPROTO;
    }
    if ((r = store_set_wal(st)) < 0 ||
        (r = store_exec(st, "PRAGMA synchronous = NORMAL", "setting synchronous")) < 0 ||
        (r = store_exec(st, "PRAGMA foreign_keys = ON", "enabling foreign keys")) < 0 ||
        (r = store_migrate(st, cur)) < 0 || (r = store_user_version(st, &st->version)) < 0)
        return r;
    if (st->version != STORE_SCHEMA_VERSION) {
        store_seterr(st, "%s has schema version %d after migration, expected %d", path, st->version,
                     STORE_SCHEMA_VERSION);
        return st->version > STORE_SCHEMA_VERSION ? -EPROTO : -EIO;
    }
    return 0;
}

/* Prepares every statement of store_stmt_sql[] into st->stmt[].  Returns
 * 0 or -errno (the message in st). */
static int store_prepare_all(struct store *st)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        int rc = sqlite3_prepare_v3(st->db, store_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmt[i], NULL);

        if (rc != SQLITE_OK)
            return store_dberr(st, rc, "preparing a statement");
    }
    return 0;
}

int store_open(const char *dir, struct store **ret, char **reterr)
{
    struct store *st = NULL;
    char *path = NULL;
    int r;

    if (reterr)
        *reterr = NULL;
    *ret = NULL;
    if (!dir || !*dir) {
        store_reterr(reterr, "store: no directory given");
        return -EINVAL;
    }
    if ((r = store_mkdirs(dir)) < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "store: creating directory %s: %s", dir, strerror(-r));
        store_reterr(reterr, msg);
        return r;
    }
    st = calloc(1, sizeof(*st));
    if (!st) {
        store_reterr(reterr, "store: out of memory");
        return -ENOMEM;
    }
    buf_init(&st->json, STORE_JSON_CAP);
    if (asprintf(&path, "%s/%s", dir, STORE_DB_NAME) < 0) {
        path = NULL;
        store_seterr(st, "out of memory");
        r = -ENOMEM;
        goto out;
    }
    if ((r = store_create_file(st, path)) < 0 || (r = store_connect(st, path)) < 0 ||
        (r = store_upgrade(st, path)) < 0 || (r = store_prepare_all(st)) < 0)
        goto out;
    *ret = st;
    st = NULL;
    r = 0;
out:
    if (st) {
        store_reterr(reterr, st->errmsg);
        store_free(st);
    }
    free(path);
    return r;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    /* Closing rolls back an open transaction. */
    sqlite3_close(st->db);
    buf_done(&st->json);
    free(st);
}

const char *store_errmsg(struct store *st)
{
    return st->errmsg;
}

int store_schema_version(struct store *st)
{
    return st->version;
}

int store_begin(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db)) {
        store_seterr(st, "begin: a transaction is already open");
        return -EBUSY;
    }
    return store_step_done(st, STMT_BEGIN, "begin");
}

int store_commit(struct store *st)
{
    if (sqlite3_get_autocommit(st->db)) {
        /* SQLite rolls back by itself after some errors (disk full, I/O):
         * the writes since begin are gone, which the caller must hear. */
        store_seterr(st, "commit: no transaction is open (rolled back after an error?)");
        return -EINVAL;
    }
    return store_step_done(st, STMT_COMMIT, "commit");
}

int store_rollback(struct store *st)
{
    /* Nothing to undo is not an error: callers roll back after a failed
     * commit, which SQLite may already have rolled back. */
    if (sqlite3_get_autocommit(st->db))
        return 0;
    return store_step_done(st, STMT_ROLLBACK, "rollback");
}

/* Binds text or NULL.  The text must stay valid until the statement is
 * reset, which every caller does before returning. */
int store_bind_text(sqlite3_stmt *s, int i, const char *t)
{
    return t ? sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Binds the raw record as a BLOB; an empty one when there is none, since a
 * NULL pointer would bind SQL NULL. */
static int store_bind_raw(sqlite3_stmt *s, int i, const char *raw, size_t len)
{
    if (!raw || len == 0)
        return sqlite3_bind_zeroblob(s, i, 0);
    if (len > INT32_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_blob(s, i, raw, (int)len, SQLITE_STATIC);
}

/* Serializes the fields of `ev` (or "{}") into st->json. */
static int store_fields_json(struct store *st, const struct event *ev)
{
    int r;

    buf_reset(&st->json);
    r = ev ? event_fields_json(ev, &st->json) : buf_puts(&st->json, "{}");
    if (r < 0) {
        store_seterr(st, "serializing the event fields: %s", strerror(-r));
        /* Do not keep a huge buffer around for one hostile record. */
        if (st->json.size > 1024 * 1024)
            buf_done(&st->json);
        return r;
    }
    return 0;
}

/* Steps an INSERT whose parameters are bound, stores the row id. */
static int store_insert(struct store *st, sqlite3_stmt *s, int bind_rc, const char *what,
                        int64_t *ret_id)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(s) : bind_rc;
    int r = 0;

    if (rc != SQLITE_DONE)
        r = store_dberr(st, rc, what);
    else if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_reset(s);
    return r;
}

/* store_insert for a row keyed by the record id: STORE_DUPLICATE (and
 * *ret_id 0) when the key was there and nothing was inserted. */
static int store_insert_once(struct store *st, sqlite3_stmt *s, int bind_rc, const char *what,
                             int64_t *ret_id)
{
    int r = store_insert(st, s, bind_rc, what, ret_id);

    if (r == 0 && st->record_id && sqlite3_changes(st->db) == 0) {
        if (ret_id)
            *ret_id = 0;
        return STORE_DUPLICATE;
    }
    return r;
}

void store_set_record_id(struct store *st, const char *id)
{
    st->record_id = id;
}

int store_event_add(struct store *st, const struct event *ev, const char *input_name,
                    int64_t *ret_id)
{
    sqlite3_stmt *s = st->stmt[STMT_EVENT_ADD];
    int r, rc;

    if ((r = store_fields_json(st, ev)) < 0)
        return r;
    rc = sqlite3_bind_int64(s, 1, ev->recv_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, ev->time_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 3, input_name ? input_name : "", -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 4, ev->decoder);
    if (rc == SQLITE_OK)
        rc = store_bind_raw(s, 5, ev->raw, ev->raw_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 6, st->json.data, (int)st->json.len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 7, st->record_id);
    return store_insert_once(st, s, rc, "storing an event", ret_id);
}

int store_alert_add(struct store *st, const struct alert *a, int64_t event_id, int64_t *ret_id)
{
    sqlite3_stmt *s = st->stmt[STMT_ALERT_ADD];
    const struct event *ev = a->ev;
    int r, rc;

    if ((r = store_fields_json(st, ev)) < 0)
        return r;
    rc = sqlite3_bind_int64(s, 1, a->created_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, ev ? ev->time_us : a->created_us);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, a->rule_id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 4, a->rule_title);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 5, a->rule_author);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 6, a->rule_level);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 7, a->input_name);
    if (rc == SQLITE_OK)
        rc = event_id > 0 ? sqlite3_bind_int64(s, 8, event_id) : sqlite3_bind_null(s, 8);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 9, st->json.data, (int)st->json.len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_raw(s, 10, ev ? ev->raw : NULL, ev ? ev->raw_len : 0);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 11, st->record_id);
    return store_insert_once(st, s, rc, "storing an alert", ret_id);
}

/*
 * Steps a statement whose parameters are bound (bind_rc: the result of
 * binding) and that returns at most one row.  0: the row is there to read,
 * and the caller resets `s`; -ENOENT (message `missing`) or another error:
 * `s` is already reset.
 */
static int store_step_row(struct store *st, sqlite3_stmt *s, int bind_rc, const char *missing,
                          const char *what)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(s) : bind_rc, r;

    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE) {
        store_seterr(st, "%s", missing);
        r = -ENOENT;
    } else {
        r = store_dberr(st, rc, what);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return r;
}

int store_offset_get(struct store *st, const char *input_name, char **ret_path,
                     struct file_pos *ret)
{
    sqlite3_stmt *s = st->stmt[STMT_OFFSET_GET];
    int r;

    r = store_step_row(st, s, sqlite3_bind_text(s, 1, input_name, -1, SQLITE_STATIC),
                       "no saved position for this input", "reading a file position");
    if (r < 0)
        return r;
    if (ret_path) {
        const unsigned char *p = sqlite3_column_text(s, 0);

        *ret_path = strdup(p ? (const char *)p : "");
        if (!*ret_path) {
            store_seterr(st, "reading a file position: out of memory");
            r = -ENOMEM;
        }
    }
    if (r == 0 && ret) {
        ret->dev = (uint64_t)sqlite3_column_int64(s, 1);
        ret->ino = (uint64_t)sqlite3_column_int64(s, 2);
        ret->offset = (uint64_t)sqlite3_column_int64(s, 3);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return r;
}

int store_offset_set(struct store *st, const char *input_name, const char *path,
                     const struct file_pos *pos)
{
    sqlite3_stmt *s = st->stmt[STMT_OFFSET_SET];
    int rc;

    rc = sqlite3_bind_text(s, 1, input_name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, path ? path : "", -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, (sqlite3_int64)pos->dev);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)pos->ino);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)pos->offset);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 6, time_now_us());
    return store_insert(st, s, rc, "saving a file position", NULL);
}

int store_counter_set(struct store *st, const char *name, uint64_t value)
{
    sqlite3_stmt *s = st->stmt[STMT_COUNTER_SET];
    int rc;

    rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)value);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, time_now_us());
    return store_insert(st, s, rc, "saving a counter", NULL);
}

/* Steps a one-row, one-integer query. */
static int store_get_int(struct store *st, sqlite3_stmt *s, int bind_rc, const char *what,
                         int64_t *ret)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(s) : bind_rc;
    int r = 0;

    if (rc == SQLITE_ROW) {
        *ret = sqlite3_column_int64(s, 0);
    } else if (rc == SQLITE_DONE) {
        store_seterr(st, "%s: not found", what);
        r = -ENOENT;
    } else {
        r = store_dberr(st, rc, what);
    }
    sqlite3_reset(s);
    return r;
}

int store_counter_get(struct store *st, const char *name, uint64_t *ret)
{
    sqlite3_stmt *s = st->stmt[STMT_COUNTER_GET];
    int64_t v = 0;
    int r;

    r = store_get_int(st, s, sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC), "reading a counter",
                      &v);
    if (r == 0)
        *ret = (uint64_t)v;
    return r;
}

int store_event_count(struct store *st, int64_t *ret)
{
    return store_get_int(st, st->stmt[STMT_EVENT_COUNT], SQLITE_OK, "counting events", ret);
}

int store_alert_count(struct store *st, int64_t *ret)
{
    return store_get_int(st, st->stmt[STMT_ALERT_COUNT], SQLITE_OK, "counting alerts", ret);
}

static int store_bind_textn(sqlite3_stmt *s, int i, const char *t, size_t len)
{
    if (!t)
        return sqlite3_bind_null(s, i);
    if (len > INT_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(s, i, t, (int)len, SQLITE_STATIC);
}

int store_alert_add_rec(struct store *st, const struct store_alert_rec *a, int64_t *ret_id)
{
    sqlite3_stmt *s = st->stmt[STMT_ALERT_ADD_REC];
    int rc;

    rc = sqlite3_bind_int64(s, 1, a->created_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, a->time_us);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, a->rule_id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 4, a->rule_title);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 5, a->rule_author);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 6, a->rule_level);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 7, a->input);
    if (rc == SQLITE_OK)
        rc = store_bind_textn(s, 8, a->fields_json ? a->fields_json : "{}",
                              a->fields_json ? a->fields_len : 2);
    if (rc == SQLITE_OK)
        rc = store_bind_raw(s, 9, a->raw, a->raw_len);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 10, a->kind ? a->kind : "rule");
    if (rc == SQLITE_OK)
        rc = a->agg_id > 0 ? sqlite3_bind_int64(s, 11, a->agg_id) : sqlite3_bind_null(s, 11);
    return store_insert(st, s, rc, "storing an alert", ret_id);
}

int store_agg_put(struct store *st, const struct store_agg_rec *a)
{
    sqlite3_stmt *s = st->stmt[STMT_AGG_PUT];
    int rc;

    rc = sqlite3_bind_int64(s, 1, a->id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, a->kind);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, a->rule_id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 4, a->rule_name);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 5, a->rule_title);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 6, a->level);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 7, a->entity_key ? a->entity_key : "");
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 8, (int64_t)a->count);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 9, a->first_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 10, a->last_us);
    if (rc == SQLITE_OK)
        rc = a->incident_id > 0 ? sqlite3_bind_int64(s, 11, a->incident_id)
                                : sqlite3_bind_null(s, 11);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 12, a->type);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 13, a->created_us ? a->created_us : time_now_us());
    return store_insert(st, s, rc, "storing an aggregated alert", NULL);
}

int store_alert_set_agg(struct store *st, int64_t alert_id, int64_t agg_id)
{
    sqlite3_stmt *s = st->stmt[STMT_ALERT_SET_AGG];
    int rc = sqlite3_bind_int64(s, 1, alert_id);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, agg_id);
    return store_insert(st, s, rc, "linking an alert to its aggregate", NULL);
}

int store_incident_put(struct store *st, const struct store_incident_rec *in)
{
    sqlite3_stmt *s = st->stmt[STMT_INCIDENT_PUT];
    int rc;

    rc = sqlite3_bind_int64(s, 1, in->id);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, in->entity_key ? in->entity_key : "");
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, in->type ? in->type : "none");
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 4, in->level ? in->level : "Green");
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 5, in->stage);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 6, in->stages_json);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 7, in->category);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 8, in->criticality);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(s, 9, in->risk_opened);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 10, in->first_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 11, in->last_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 12, (int64_t)in->nalerts);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 13, (int64_t)in->nevents);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 14, in->victims_json);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 15, in->updated_us);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 16, in->why);
    return store_insert(st, s, rc, "storing an incident", NULL);
}

int store_state_set(struct store *st, const char *name, const void *val, size_t len)
{
    sqlite3_stmt *s = st->stmt[STMT_STATE_SET];
    int rc;

    if (len > INT_MAX)
        return -E2BIG;
    rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, len ? val : "", (int)len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, time_now_us());
    return store_insert(st, s, rc, "saving state", NULL);
}

int store_state_get(struct store *st, const char *name, void **ret, size_t *ret_len)
{
    sqlite3_stmt *s = st->stmt[STMT_STATE_GET];
    const void *b;
    void *copy;
    int n, r;

    *ret = NULL;
    *ret_len = 0;
    r = store_step_row(st, s, sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC),
                       "no saved state of that name", "reading state");
    if (r < 0)
        return r;
    b = sqlite3_column_blob(s, 0);
    n = sqlite3_column_bytes(s, 0);
    /* One byte more, so that an empty value is still a pointer. */
    copy = malloc((size_t)n + 1);
    if (!copy) {
        r = -ENOMEM;
    } else {
        if (n > 0)
            memcpy(copy, b, (size_t)n);
        *ret = copy;
        *ret_len = (size_t)n;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return r;
}

int store_agg_max_id(struct store *st, int64_t *ret)
{
    return store_get_int(st, st->stmt[STMT_AGG_MAX], SQLITE_OK, "reading aggregated alert ids",
                         ret);
}

int store_incident_max_id(struct store *st, int64_t *ret)
{
    return store_get_int(st, st->stmt[STMT_INCIDENT_MAX], SQLITE_OK, "reading incident ids", ret);
}

int store_incident_count(struct store *st, int64_t *ret)
{
    return store_get_int(st, st->stmt[STMT_INCIDENT_COUNT], SQLITE_OK, "counting incidents", ret);
}

int store_user_add(struct store *st, const char *name, const char *role, const char *pw_hash,
                   int64_t *ret_id)
{
    sqlite3_stmt *s = st->stmt[STMT_USER_ADD];
    int rc;

    rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, pw_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, time_now_us());
    /* Extended result codes are on: SQLITE_CONSTRAINT_UNIQUE and friends. */
    if (rc == SQLITE_OK && ((rc = sqlite3_step(s)) & 0xff) == SQLITE_CONSTRAINT) {
        sqlite3_reset(s);
        store_seterr(st, "a user of that name exists");
        return -EEXIST;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, rc, "adding a user");
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int store_token_prune(struct store *st, int64_t now_us)
{
    sqlite3_stmt *p = st->stmt[STMT_SESSION_PURGE];
    int rc;

    rc = sqlite3_bind_int64(p, 1, now_us);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(p);
    sqlite3_reset(p);
    return rc == SQLITE_DONE ? 0 : store_dberr(st, rc, "removing expired tokens");
}

int store_token_add(struct store *st, int64_t user_id, const unsigned char *hash, size_t hash_len,
                    const char *label, int64_t expires_us)
{
    sqlite3_stmt *s = st->stmt[STMT_TOKEN_ADD];
    int64_t now = time_now_us();
    int rc;

    if ((rc = store_token_prune(st, now)) < 0)
        return rc;
    rc = sqlite3_bind_int64(s, 1, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, label);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, now);
    if (rc == SQLITE_OK)
        rc = expires_us > 0 ? sqlite3_bind_int64(s, 5, expires_us) : sqlite3_bind_null(s, 5);
    return store_insert(st, s, rc, "adding a token", NULL);
}

int store_token_find(struct store *st, const unsigned char *hash, size_t hash_len,
                     char **ret_user, char **ret_role, int64_t *ret_expires_us)
{
    sqlite3_stmt *s = st->stmt[STMT_TOKEN_FIND];
    const unsigned char *u, *ro;
    int rc, r;

    *ret_user = *ret_role = NULL;
    rc = sqlite3_bind_blob(s, 1, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, time_now_us());
    r = store_step_row(st, s, rc, "no such token", "looking up a token");
    if (r < 0)
        return r;
    u = sqlite3_column_text(s, 0);
    ro = sqlite3_column_text(s, 1);
    if (ret_expires_us)
        *ret_expires_us = sqlite3_column_int64(s, 2);
    *ret_user = strdup(u ? (const char *)u : "");
    *ret_role = strdup(ro ? (const char *)ro : "");
    if (!*ret_user || !*ret_role) {
        free(*ret_user);
        free(*ret_role);
        *ret_user = *ret_role = NULL;
        r = -ENOMEM;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return r;
}

int store_session_add(struct store *st, int64_t user_id, const unsigned char *hash,
                      size_t hash_len, int64_t expires_us)
{
    sqlite3_stmt *s = st->stmt[STMT_SESSION_ADD];
    int64_t now = time_now_us();
    int rc;

    if ((rc = store_token_prune(st, now)) < 0)
        return rc;
    rc = sqlite3_bind_int64(s, 1, user_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, 2, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 3, now);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, expires_us);
    return store_insert(st, s, rc, "adding a session", NULL);
}

int store_token_revoke_hash(struct store *st, const unsigned char *hash, size_t hash_len)
{
    sqlite3_stmt *s = st->stmt[STMT_TOKEN_REVOKE_HASH];
    int rc;

    rc = sqlite3_bind_blob(s, 1, hash, (int)hash_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, rc, "revoking a token");
    if (sqlite3_changes(st->db) == 0) {
        store_seterr(st, "no such token");
        return -ENOENT;
    }
    return 0;
}

int store_json_rows(struct store *st, sqlite3_stmt *s, struct buf *out, size_t *ret_n)
{
    int rc, r = 0;
    size_t n = 0;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *j = sqlite3_column_text(s, 0);
        int len = sqlite3_column_bytes(s, 0);

        if ((n && (r = buf_putc(out, ',')) < 0) ||
            (r = buf_append(out, j ? (const char *)j : "null", j ? (size_t)len : 4)) < 0)
            break;
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_dberr(st, rc, "reading rows");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (ret_n)
        *ret_n = n;
    return r;
}

int store_incident_get_json(struct store *st, int64_t id, struct buf *out)
{
    sqlite3_stmt *s = st->stmt[STMT_INCIDENT_GET];
    size_t n = 0;
    int r;

    if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
        return store_dberr(st, SQLITE_ERROR, "reading an incident");
    r = store_json_rows(st, s, out, &n);
    if (r == 0 && n == 0) {
        store_seterr(st, "no such incident");
        return -ENOENT;
    }
    return r;
}

int store_incident_list_json(struct store *st, const struct store_incident_filter *f,
                             struct buf *out, size_t *ret_n)
{
    sqlite3_stmt *s = st->stmt[STMT_INCIDENT_LIST];
    int rc;

    rc = store_bind_text(s, 1, f->type);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 2, f->phase);
    if (rc == SQLITE_OK)
        rc = store_bind_text(s, 3, f->level);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 4, f->limit);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 5, f->offset);
    if (rc != SQLITE_OK) {
        sqlite3_reset(s);
        return store_dberr(st, rc, "listing incidents");
    }
    return store_json_rows(st, s, out, ret_n);
}
