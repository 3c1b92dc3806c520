/*
 * scenario.h - tabletop exercise scenarios (issue 22, MISSION.md section 8,
 * docs/exercise.md): a story in stages, the records each stage injects, the
 * messages it hands to people, and what the team is expected to detect and
 * decide, by when.
 *
 * A scenario is one YAML file under scenarios/, read through util/ydoc so
 * that every mistake is reported as FILE:LINE:COL: why.  Every record
 * template is expanded once at load time with dummy times, so an unknown
 * ${name}, a JSON template that is not a JSON object or a syslog template
 * without its <PRI> is refused at load and not halfway through an exercise.
 *
 * The run (src/cli/cli_exercise.c) walks scenario_sched() in time order and
 * expands each record with scenario_expand(); scoring (exercise_score.c)
 * reads the expectations.
 */
#ifndef HIKESHI_EXERCISE_SCENARIO_H
#define HIKESHI_EXERCISE_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "util/parse_err.h"

struct buf;

/* Caps on one scenario file and what it declares. */
#define SCENARIO_MAX_FILE_BYTES (1024 * 1024)
#define SCENARIO_MAX_VARS 128
#define SCENARIO_VAR_NAME_MAX 64
#define SCENARIO_VAR_VALUE_MAX 1024
#define SCENARIO_MAX_STAGES 64
#define SCENARIO_MAX_TEMPLATES 1024 /* record templates, every stage */
#define SCENARIO_MAX_MESSAGES 256
#define SCENARIO_MAX_EXPECT 128 /* detections, and decisions */
#define SCENARIO_MAX_REPEAT 10000
#define SCENARIO_MAX_RECORDS 200000 /* records one run sends, repeats counted */
#define SCENARIO_TEMPLATE_MAX 8192  /* bytes of a template, and of one expanded record */
#define SCENARIO_TEXT_MAX 4000      /* titles, descriptions, messages */
#define SCENARIO_NAME_MAX 64
/* Latest time anything may happen, from the scenario's start. */
#define SCENARIO_MAX_SPAN_US (30LL * 86400 * 1000000)

/* How a record is written: all four are decoded by the daemon's
 * auto-detection (src/decode/decode.c). */
enum scenario_fmt {
    SCENARIO_FMT_SYSLOG = 0, /* "<PRI>..." RFC 3164 or RFC 5424 */
    SCENARIO_FMT_EVE,        /* Suricata EVE JSON, one object */
    SCENARIO_FMT_WEB,        /* a web server's access log line */
    SCENARIO_FMT_WINEVENT,   /* a Windows event as JSON (Winlogbeat, EVTX as JSON) */
};

/* One record template of a stage, sent `repeat` times `every_us` apart. */
struct scenario_record {
    int64_t at_us;    /* from the scenario's start (stage at + record at) */
    int64_t every_us; /* between repeats; 0 with repeat 1 */
    uint32_t repeat;  /* 1..SCENARIO_MAX_REPEAT */
    enum scenario_fmt fmt;
    size_t stage; /* index into scenario.stages */
    char *text;   /* owned; the template, no newline nor NUL */
    unsigned line;
};

/* A message for people: a phone call, a journalist's mail, a ransom note. */
struct scenario_message {
    int64_t at_us; /* from the scenario's start */
    size_t stage;
    char *from;    /* owned; who it comes from, non-empty */
    char *channel; /* owned; phone, mail, chat, letter, in person... non-empty */
    char *text;    /* owned; expanded with the scenario's vars at load */
    unsigned line;
};

struct scenario_stage {
    char *name;     /* owned, non-empty, unique */
    int64_t at_us;  /* from the scenario's start */
    int kill_chain; /* enum triage_stage, 0: not said */
    unsigned line;
};

enum scenario_det_kind {
    SCENARIO_DET_RULE = 0,  /* value: a rule id or name that must fire */
    SCENARIO_DET_INCIDENT,  /* value: an incident type (triage_type_name) */
    SCENARIO_DET_KILL_CHAIN /* value: a kill-chain stage an incident must reach */
};

struct scenario_detection {
    enum scenario_det_kind kind;
    char *value;       /* owned; for INCIDENT and KILL_CHAIN the canonical name */
    int code;          /* INCIDENT: enum triage_type; KILL_CHAIN: enum triage_stage */
    int64_t within_us; /* from the scenario's start; 0: any time during the run */
    unsigned line;
};

enum scenario_dec_kind {
    SCENARIO_DEC_DECLARE = 0, /* declare `level` for `category` (or higher) */
    SCENARIO_DEC_ISOLATE,     /* isolate host `target` */
    SCENARIO_DEC_EVIDENCE,    /* preserve evidence (an item linked to the incident) */
    SCENARIO_DEC_NOTIFY,      /* notify party `target` (regulator, police, press...) */
    SCENARIO_DEC_REPORT,      /* write report `target` (first, interim1, interim2, final) */
    SCENARIO_DEC_WITHHOLD,    /* send nothing to party `target` (before within_us, if > 0) */
};
#define SCENARIO_DEC_COUNT 6

struct scenario_decision {
    enum scenario_dec_kind kind;
    int level;         /* DECLARE: enum triage_alert_level */
    char *category;    /* owned; DECLARE: "A".."D" */
    char *target;      /* owned; ISOLATE host, NOTIFY or WITHHOLD party, REPORT kind */
    int64_t within_us; /* deadline from the scenario's start; WITHHOLD: the embargo's end,
                          0 for the whole run */
    unsigned line;
};

struct scenario_var {
    char *name;  /* owned; [a-z0-9_], 1..SCENARIO_VAR_NAME_MAX */
    char *value; /* owned; no newline nor NUL */
};

struct scenario {
    char *file;           /* owned; where it was loaded from ("-" for a buffer) */
    char *name;           /* owned; [a-z0-9_-], the key runs are grouped by for the trend */
    char *title;          /* owned */
    char *description;    /* owned; may be "" */
    int64_t first_aid_us; /* targets: 0 means the daemon's (30 min) */
    int64_t emergency_us; /* 0 means the daemon's (2 days) */
    struct scenario_var *vars;
    size_t nvars;
    struct scenario_stage *stages;
    size_t nstages;
    struct scenario_record *records; /* sorted by at_us, then file order */
    size_t nrecords;
    struct scenario_message *messages; /* sorted by at_us */
    size_t nmessages;
    struct scenario_detection *detections;
    size_t ndetections;
    struct scenario_decision *decisions;
    size_t ndecisions;
    uint64_t total_records; /* every repeat counted */
    int64_t end_us;         /* last record or message, from the start */
};

/*
 * Parses `len` bytes of scenario YAML.  `file` names it in messages (NULL:
 * "-").  Returns 0 and a scenario (scenario_free), or -EINVAL with *reterr
 * (line, column, a message in a thread-local buffer: copy it or print it
 * with scenario_err_format before parsing another), or -ENOMEM.
 */
int scenario_parse(const char *text, size_t len, const char *file, struct scenario **ret,
                   struct parse_err *reterr);
/* As scenario_parse for a file of at most SCENARIO_MAX_FILE_BYTES; also
 * -errno from reading it (reterr then has no line). */
int scenario_load(const char *path, struct scenario **ret, struct parse_err *reterr);
/* NULL is a no-op. */
void scenario_free(struct scenario *s);

/* "FILE:LINE:COL: why" into buf (see ydoc_err_format). */
int scenario_err_format(char *buf, size_t size, const char *file, const struct parse_err *e);

/* The time placeholders a template may use besides the scenario's vars. */
struct scenario_clock {
    int64_t time_us; /* the record's time (wall clock of the run) */
    uint32_t n;      /* 1-based index of the repeat */
    const char *run; /* the run's id, for ${run} */
};

/*
 * Appends template `tmpl` expanded to `out`: ${var} from the scenario's
 * vars, and ${ts} (RFC 3164 "Mmm dd hh:mm:ss", UTC), ${iso} (RFC 3339 with
 * microseconds, UTC), ${clf} (access log "dd/Mon/yyyy:hh:mm:ss +0000"),
 * ${epoch} (seconds), ${n} and ${run} from `clk`.  0; -EINVAL with a static
 * message in *ret_why for an unknown or unterminated placeholder; -E2BIG
 * when the result passes SCENARIO_TEMPLATE_MAX bytes; -ENOMEM.
 */
int scenario_expand(const struct scenario *s, const char *tmpl, const struct scenario_clock *clk,
                    struct buf *out, const char **ret_why);

/* One record to send: record template `rec`, repeat `n` (1-based). */
struct scenario_send {
    int64_t at_us; /* from the scenario's start */
    size_t rec;
    uint32_t n;
};

/*
 * Every record to send in time order (repeats interleaved across
 * templates): a heap array of s->total_records entries in *ret (free()).
 * 0 or -ENOMEM.
 */
int scenario_sched(const struct scenario *s, struct scenario_send **ret, size_t *ret_n);

/* Names for messages and reports. */
const char *scenario_fmt_name(enum scenario_fmt f);
const char *scenario_dec_kind_name(enum scenario_dec_kind k);
const char *scenario_det_kind_name(enum scenario_det_kind k);

#endif
