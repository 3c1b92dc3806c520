/*
 * exercise_score.h - scoring a tabletop exercise run and writing its
 * after-action report (issue 22, docs/exercise.md).
 *
 * Pure: the caller (src/cli/cli_exercise.c) reads the run and the facts
 * from the store (store_exercise_facts) and hands them over; this module
 * turns wall-clock times into scenario time (times the run's speed),
 * matches each expectation of the scenario against the facts, and renders
 * the result as Markdown, HTML (with a timeline chart) or JSON.  Nothing
 * here reads a clock, so tests can feed it any history.
 */
#ifndef HIKESHI_EXERCISE_EXERCISE_SCORE_H
#define HIKESHI_EXERCISE_EXERCISE_SCORE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct scenario;

/* The default phase targets (MISSION.md section 4, incident.targets'
 * defaults), when neither the scenario nor exercise_score's caller says. */
#define EXERCISE_FIRST_AID_US (30LL * 60 * 1000000)
#define EXERCISE_EMERGENCY_US (2LL * 86400 * 1000000)
/* Facts one scoring reads at most. */
#define EXERCISE_MAX_FACTS 100000
/* Earlier runs the trend shows at most. */
#define EXERCISE_MAX_TREND 50

/* The daemon's own phase targets (incident.targets) for the box the
 * scenario is about: its first expected declaration's category and level
 * (docs/exercise.md "Scoring").  The caller reads them from the
 * configuration; NULL to exercise_score means the defaults. */
struct exercise_targets {
    int64_t first_aid_us, emergency_us; /* 0: the configuration sets none */
    char box[48];                       /* what they are for: "category A, Red" */
};

/* One thing that happened (a copy of store_exercise_fact). */
struct exercise_fact {
    char kind[12];
    int64_t time_us; /* wall clock */
    int64_t incident_id;
    char *a, *b, *c; /* owned, may be NULL */
};

/* What happened to one expectation. */
enum exercise_status {
    EXERCISE_OK = 0, /* on time */
    EXERCISE_LATE,   /* done after its deadline */
    EXERCISE_MISSED, /* not done */
    EXERCISE_WRONG,  /* withhold: something went to the party that was not to be told */
};

struct exercise_item {
    char label[160]; /* "rule ssh_bruteforce", "declare Orange for category A" */
    int64_t due_us;  /* scenario time; 0: no deadline */
    int64_t at_us;   /* scenario time it happened; -1: never */
    enum exercise_status status;
    unsigned line; /* of the expectation in the scenario file */
};

/* A milestone: time from the scenario's start, -1 never. */
struct exercise_milestones {
    int64_t first_alert, first_incident, first_aid_start, first_aid_done, first_report,
        emergency_done;
};

/* One earlier run, for the trend. */
struct exercise_trend_row {
    int64_t run_id, started_us;
    int points, max_points;
    int64_t first_incident, first_aid_done; /* scenario µs, -1 never */
};

struct exercise_score {
    int64_t run_id;
    int64_t started_us; /* wall clock */
    double speed;
    int64_t first_aid_target_us, emergency_target_us; /* the scenario's, else the daemon's */
    int64_t cfg_first_aid_us, cfg_emergency_us;       /* the daemon's (0: none) */
    char cfg_box[48];
    struct exercise_milestones m;
    enum exercise_status first_aid; /* first aid done within its target of the first incident */
    /* First aid against the daemon's target; scored as an item of its own
     * only when that differs from the scenario's (cfg_scored 1). */
    enum exercise_status first_aid_cfg;
    int cfg_scored;
    /* Emergency response (first aid done to the phase after emergency)
     * against each target: shown, not scored (a run seldom lasts days). */
    enum exercise_status emergency, emergency_cfg;
    /* The first report (a report of kind first written, or the first-report
     * message approved for sending) within the first-aid target of the
     * first incident: it is part of first aid (MISSION.md section 4). */
    enum exercise_status first_report;
    struct exercise_item *det; /* owned, one per expected detection */
    size_t ndet;
    struct exercise_item *dec; /* owned, one per expected decision */
    size_t ndec;
    int points, max_points; /* 2 on time, 1 late, 0 missed; first aid counts too */
    size_t nincidents, nalerts;
    size_t nmessages; /* messages of the exercise's incidents approved for sending */
    size_t nwrong;    /* withhold expectations broken */
};

/*
 * Scores run `run_id` of `s`, started at wall time `started_us` at `speed`
 * (> 0), from `facts` (any order), against the scenario's deadlines and
 * targets and the daemon's targets `cfg` (NULL: the defaults).  0 and
 * *ret filled (exercise_score_done frees it), or -ENOMEM.
 */
int exercise_score(const struct scenario *s, int64_t run_id, int64_t started_us, double speed,
                   const struct exercise_targets *cfg, const struct exercise_fact *facts,
                   size_t nfacts, struct exercise_score *ret);
void exercise_score_done(struct exercise_score *sc);
void exercise_fact_free(struct exercise_fact *f, size_t n);

/* One line the report's timeline shows (a stage, a message, an inject). */
struct exercise_event {
    int64_t at_us;           /* scenario time */
    const char *kind, *text; /* borrowed */
};

enum exercise_fmt { EXERCISE_FMT_MD = 0, EXERCISE_FMT_HTML, EXERCISE_FMT_JSON };

/*
 * Appends the after-action report: the score, the milestones against the
 * targets, each expectation, what was missed or late and what to review,
 * the run's timeline (injects and the team's facts; HTML draws it as a
 * chart), and the trend over `trend` (earlier runs, oldest first, this one
 * may be among them).  0, -ENOMEM or -E2BIG from `out`.
 */
int exercise_report(const struct scenario *s, const struct exercise_score *sc,
                    const struct exercise_event *ev, size_t nev,
                    const struct exercise_trend_row *trend, size_t ntrend, enum exercise_fmt fmt,
                    struct buf *out);

/* The compact JSON kept with the run for the trend, and read back:
 * {"points":P,"max":M,"first_incident":US,"first_aid_done":US}. */
int exercise_score_summary(const struct exercise_score *sc, struct buf *out);
int exercise_summary_parse(const char *json, size_t len, struct exercise_trend_row *ret);

/* "3m05s", "1h02m", "-" for -1, into buf. */
const char *exercise_fmt_dur(int64_t us, char *buf, size_t size);

#endif
