/*
 * incident_clock_run.c - the daemon's escalation clock (see
 * incident_clock_run.h): one thread, its own store connection, a look at
 * the open incidents once a second.  What fires is decided by
 * incident_clock_decide(); this file does the store, the audit log, the
 * log line, the counters and the webhooks.
 */
#include "incident/incident_clock_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "event/time.h"
#include "incident/audit.h"
#include "incident/availability.h"
#include "incident/casefile.h"
#include "incident/casefile_priv.h"
#include "incident/casefile_procedure.h"
#include "incident/comms_smtp.h"
#include "incident/csf.h"
#include "incident/incident.h"
#include "incident/incident_clock.h"
#include "incident/playbook.h"
#include "respond/respond_webhook.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/readfile.h"

/* Open incidents looked at per pass (the newest), as the console's list
 * of near targets does. */
#define CLOCK_SCAN_MAX CASEFILE_NEAR_SCAN
/* Largest webhook document: the incident's title and one contact. */
#define CLOCK_BODY_MAX (16 * 1024)
/* A contact's email address as the clock mails it (longer: cut, then refused). */
#define EMAIL_MAX 256

static struct incident_clock_stats clock_stats;

const struct incident_clock_stats *incident_clock_stats(void)
{
    return &clock_stats;
}

struct incident_clock_run {
    struct store *st;
    struct audit *audit;
    struct incident_targets targets;
    struct casefile cf;
    struct incident_clock_conf cc;
    char chain[INCIDENT_CLOCK_CHAIN_MAX][INCIDENT_CLOCK_NAME_MAX + 1];
    char **urls;
    size_t nurls;
    char *smtp, *from; /* mail to the contact named; NULL: none */
    unsigned char *secret;
    size_t secret_len;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

/* One step about to fire, for the transaction and the message. */
struct clock_fire {
    int64_t id;
    const char *phase;
    int64_t since_us, due_us;
    int step;
    const char *entry;              /* the chain entry: "assignee", a role, a name */
    char to[INCIDENT_NAME_MAX + 1]; /* whom it names: a person, or "" */
    struct buf contact;             /* the contact's JSON object, or empty */
    enum avail_state avail;         /* the contact's, when have_avail */
    int have_avail;
    char email[EMAIL_MAX]; /* the contact's address, or "" */
    int fired;             /* set by fire_act when the state advanced */
};

static int fire_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    struct clock_fire *f = ctx;
    char due[40], from[96], to[INCIDENT_NAME_MAX * 2 + 8];
    const char *what = incident_clock_step_name(f->step);
    int r;

    /* The phase moved on since the look: that deadline is gone. */
    if (t->inc.phase_since_us != f->since_us)
        return CASEFILE_TXN_NOTHING;
    r = store_clock_advance(cf->st, f->id, f->phase, f->since_us, f->due_us, f->step, t->now_us);
    if (r == -ESTALE)
        return CASEFILE_TXN_NOTHING;
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    time_format_iso(f->due_us, due, sizeof(due));
    snprintf(from, sizeof(from), "%s due %s", f->phase, due);
    if (f->to[0])
        snprintf(to, sizeof(to), "%s: %s", f->entry, f->to);
    else
        snprintf(to, sizeof(to), "%s: nobody named", f->entry);
    if ((r = casefile_event(cf, f->id, &t->inc, t->now_us, AUDIT_ACTOR_SYSTEM, what, from, to,
                            err)) < 0)
        return r;
    if (buf_printf(&t->details,
                   "{\"incident\":%lld,\"version\":%llu,\"phase\":\"%s\",\"due\":\"%s\","
                   "\"step\":%d,\"chain\":",
                   (long long)f->id, (unsigned long long)t->inc.version, f->phase, due,
                   f->step) < 0 ||
        buf_json_str(&t->details, f->entry, strlen(f->entry)) < 0 ||
        buf_puts(&t->details, ",\"to\":") < 0 ||
        (f->to[0] ? buf_json_str(&t->details, f->to, strlen(f->to))
                  : buf_puts(&t->details, "null")) < 0 ||
        buf_printf(&t->details, ",\"availability\":%s%s%s}", f->have_avail ? "\"" : "",
                   f->have_avail ? avail_state_name(f->avail) : "null",
                   f->have_avail ? "\"" : "") < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    f->fired = 1;
    return 0;
}

/* The contact a chain entry or task owner names, chosen by when it may
 * be called (availability.h): the first on call now, else the first
 * outside its quiet hours, else the first. */
struct pick {
    int64_t now_us;
    struct buf *contact;
    char *name;
    size_t name_size;
    char *email; /* EMAIL_MAX bytes: the chosen contact's, or "" */
    int have;
    enum avail_state best;
};

static int pick_one(void *ctx, const struct store_clock_cand *cand)
{
    struct pick *p = ctx;
    struct tz *tz = NULL;
    enum avail_state st;

    /* A zone that does not load (removed from tzdata since it was
     * checked) counts as UTC rather than hiding the contact. */
    if (cand->timezone && cand->timezone[0] && tz_load(cand->timezone, NULL, &tz) < 0)
        tz = NULL;
    st = avail_state_at(cand->quiet_hours, cand->on_call, tz, p->now_us);
    tz_free(tz);
    if (p->have && st <= p->best)
        return 0;
    buf_reset(p->contact);
    if (buf_puts(p->contact, cand->json) < 0)
        return -E2BIG;
    if (p->name_size)
        snprintf(p->name, p->name_size, "%s", cand->name);
    snprintf(p->email, EMAIL_MAX, "%s", cand->email ? cand->email : "");
    p->have = 1;
    p->best = st;
    return st == AVAIL_ON_CALL; /* nobody beats it */
}

/* Fills contact (and name when name_size) with the contact `key` names;
 * *ret_state its availability.  -ENOENT when none, then contact is empty. */
static int pick_contact(struct incident_clock_run *c, const char *key, int64_t now_us,
                        struct buf *contact, char *name, size_t name_size, char *email,
                        enum avail_state *ret_state)
{
    struct pick p = {now_us, contact, name, name_size, email, 0, AVAIL_QUIET};
    int r = store_clock_contacts(c->st, key, pick_one, &p);

    if (r < 0 || !p.have) {
        buf_reset(contact);
        return r < 0 ? r : -ENOENT;
    }
    *ret_state = p.best;
    return 0;
}

/* Whom chain entry `entry` names for `inc`: its assignee, or the contact
 * whose role or name it is.  Fills f->to and f->contact (either may stay
 * empty: the step still fires, logged and audited, naming nobody). */
static void fire_whom(struct incident_clock_run *c, const struct incident *inc, int64_t now_us,
                      struct clock_fire *f)
{
    const char *key = f->entry;
    int r;

    f->to[0] = '\0';
    if (strcmp(f->entry, "assignee") == 0) {
        if (!inc->assignee || !inc->assignee[0])
            return;
        snprintf(f->to, sizeof(f->to), "%s", inc->assignee);
        key = inc->assignee;
    }
    buf_reset(&f->contact);
    r = pick_contact(c, key, now_us, &f->contact, f->to, f->to[0] ? 0 : sizeof(f->to), f->email,
                     &f->avail);
    f->have_avail = r == 0;
}

/* The end of a webhook document: whom it names, the contact, how the
 * contact stood, when it was sent. */
static int body_whom(struct buf *b, const char *to, const struct buf *contact, int have_avail,
                     enum avail_state avail, const char *now)
{
    int r = buf_puts(b, ",\"to\":");

    if (r == 0)
        r = to[0] ? buf_json_str(b, to, strlen(to)) : buf_puts(b, "null");
    if (r == 0)
        r = buf_puts(b, ",\"contact\":");
    if (r == 0)
        r = contact->len ? buf_append(b, contact->data, contact->len) : buf_puts(b, "null");
    if (r == 0)
        r = have_avail ? buf_printf(b, ",\"availability\":\"%s\"", avail_state_name(avail))
                       : buf_puts(b, ",\"availability\":null");
    if (r == 0)
        r = buf_printf(b, ",\"sent\":\"%s\"}", now);
    return r;
}

/* The webhook document (docs/incident.md). */
static int fire_body(const struct incident *inc, const struct clock_fire *f, int64_t now_us,
                     struct buf *b)
{
    char due[40], now[40];
    int r;

    time_format_iso(f->due_us, due, sizeof(due));
    time_format_iso(now_us, now, sizeof(now));
    r = buf_printf(b, "{\"event\":\"incident.%s\",\"incident\":%lld,\"title\":",
                   incident_clock_step_name(f->step), (long long)f->id);
    if (r == 0)
        r = buf_json_str(b, inc->title, strlen(inc->title));
    if (r == 0)
        r = buf_printf(b,
                       ",\"phase\":\"%s\",\"level\":\"%s\",\"category\":\"%s\",\"deadline\":\"%s\","
                       "\"overdue\":%s,\"step\":%d,\"chain\":",
                       f->phase, triage_level_name(inc->level),
                       incident_category_name(inc->category), due,
                       now_us >= f->due_us ? "true" : "false", f->step);
    if (r == 0)
        r = buf_json_str(b, f->entry, strlen(f->entry));
    return r == 0 ? body_whom(b, f->to, &f->contact, f->have_avail, f->avail, now) : r;
}

/* Mails a step to the contact it names (incident.messages' SMTP server),
 * when there is a server and the contact an address: subject `subject`,
 * the webhook document `body` as the text.  A failure is logged and
 * counted as a webhook's is; the step itself stands (it is audited). */
static void fire_mail(struct incident_clock_run *c, const char *email, const char *subject,
                      const char *ref, const struct buf *body, int64_t id)
{
    char why[512] = "";
    const struct comms_smtp_conf sc = {.url = c->smtp, .from = c->from, .timeout_ms = 30000};
    const struct comms_smtp_mail m = {
        .to = email, .subject = subject, .body = body->data, .ref = ref};

    if (!c->smtp || !c->from || !email[0] || !body->len)
        return;
    if (comms_smtp_send(&sc, &m, why, sizeof(why)) < 0) {
        atomic_fetch_add(&clock_stats.notify_failed, 1);
        log_warnx("escalation: incident %lld: mail to %s not delivered: %s", (long long)id, email,
                  why[0] ? why : "refused");
    }
}

static void fire_send(struct incident_clock_run *c, const struct buf *body, int64_t id)
{
    for (size_t i = 0; i < c->nurls; i++) {
        const struct respond_webhook_conf wc = {
            .url = c->urls[i],
            .secret = c->secret,
            .secret_len = c->secret_len,
            .timeout_ms = 5000,
            .max_attempts = 3,
            .backoff_base_ms = 500,
            .backoff_max_ms = 5000,
        };
        struct respond_webhook_result res;

        if (respond_webhook_send(&wc, body->data, body->len, &res) < 0) {
            atomic_fetch_add(&clock_stats.notify_failed, 1);
            log_warnx("escalation: incident %lld: webhook %s not delivered after %u attempts: %s",
                      (long long)id, c->urls[i], res.attempts, res.reason);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Tasks past their due time                                           */

/* One overdue task about to be escalated. */
struct task_fire {
    int64_t id; /* the incident */
    uint32_t task;
    int64_t due_us;
    char key[32]; /* the clock state's "phase": "task:ID" */
    char title[PLAYBOOK_TITLE_MAX + 1];
    char owner[PLAYBOOK_ROLE_MAX + 1];
    const char *function;
    char to[INCIDENT_NAME_MAX + 1]; /* a person, or "" */
    struct buf contact;             /* the contact's JSON object, or empty */
    enum avail_state avail;         /* the contact's, when have_avail */
    int have_avail;
    char email[EMAIL_MAX]; /* the contact's address, or "" */
    int fired;
};

static int task_act(const struct casefile *cf, struct casefile_txn *t, void *ctx,
                    struct casefile_err *err)
{
    struct task_fire *f = ctx;
    struct playbook_checklist cl;
    const struct playbook_task *pt;
    char due[40], to[INCIDENT_NAME_MAX + PLAYBOOK_ROLE_MAX + 8];
    int r, gone;

    /* Ticked, deleted or given another due time since the look: this
     * deadline is gone. */
    if ((r = casefile_tasks_load(cf, f->id, &cl, err)) < 0)
        return r;
    pt = playbook_task_get(&cl, f->task);
    gone = !pt || pt->done || pt->due_us != f->due_us;
    playbook_checklist_done(&cl);
    if (gone || t->inc.phase == INCIDENT_PHASE_CLOSED)
        return CASEFILE_TXN_NOTHING;
    r = store_clock_advance(cf->st, f->id, f->key, f->due_us, f->due_us, 1, t->now_us);
    if (r == -ESTALE)
        return CASEFILE_TXN_NOTHING;
    if (r < 0)
        return casefile_store_fail(cf, err, r);
    time_format_iso(f->due_us, due, sizeof(due));
    snprintf(to, sizeof(to), "%s: %s", f->owner[0] ? f->owner : "assignee",
             f->to[0] ? f->to : "nobody named");
    if ((r = casefile_event(cf, f->id, &t->inc, t->now_us, AUDIT_ACTOR_SYSTEM, "task_overdue",
                            f->title, to, err)) < 0)
        return r;
    if (buf_printf(&t->details, "{\"incident\":%lld,\"version\":%llu,\"task\":%u,\"title\":",
                   (long long)f->id, (unsigned long long)t->inc.version, f->task) < 0 ||
        buf_json_str(&t->details, f->title, strlen(f->title)) < 0 ||
        buf_printf(&t->details, ",\"due\":\"%s\",\"owner\":", due) < 0 ||
        buf_json_str(&t->details, f->owner, strlen(f->owner)) < 0 ||
        buf_puts(&t->details, ",\"to\":") < 0 ||
        (f->to[0] ? buf_json_str(&t->details, f->to, strlen(f->to))
                  : buf_puts(&t->details, "null")) < 0 ||
        buf_printf(&t->details, ",\"availability\":%s%s%s}", f->have_avail ? "\"" : "",
                   f->have_avail ? avail_state_name(f->avail) : "null",
                   f->have_avail ? "\"" : "") < 0)
        return casefile_fail(err, -E2BIG, -1, NULL, "too long to audit");
    f->fired = 1;
    return 0;
}

/* Whom an overdue task goes to: its assignee, else the contact whose role
 * (or name) is its owner role. */
static void task_whom(struct incident_clock_run *c, const struct playbook_task *pt, int64_t now_us,
                      struct task_fire *f)
{
    const char *key = pt->assignee && pt->assignee[0] ? pt->assignee : pt->owner;

    f->to[0] = '\0';
    if (pt->assignee && pt->assignee[0])
        snprintf(f->to, sizeof(f->to), "%s", pt->assignee);
    buf_reset(&f->contact);
    if (!key || !key[0])
        return;
    f->have_avail = pick_contact(c, key, now_us, &f->contact, f->to, f->to[0] ? 0 : sizeof(f->to),
                                 f->email, &f->avail) == 0;
}

/* The webhook document of an overdue task (docs/incident.md). */
static int task_body(const struct incident *inc, const struct task_fire *f, int64_t now_us,
                     struct buf *b)
{
    char due[40], now[40];
    int r;

    time_format_iso(f->due_us, due, sizeof(due));
    time_format_iso(now_us, now, sizeof(now));
    r = buf_printf(b, "{\"event\":\"task.overdue\",\"incident\":%lld,\"title\":", (long long)f->id);
    if (r == 0)
        r = buf_json_str(b, inc->title, strlen(inc->title));
    if (r == 0)
        r = buf_printf(b, ",\"task\":%u,\"task_title\":", f->task);
    if (r == 0)
        r = buf_json_str(b, f->title, strlen(f->title));
    if (r == 0)
        r = buf_printf(b, ",\"function\":");
    if (r == 0)
        r = f->function[0] ? buf_json_str(b, f->function, strlen(f->function))
                           : buf_puts(b, "null");
    if (r == 0)
        r = buf_printf(b, ",\"due\":\"%s\",\"overdue\":true,\"owner\":", due);
    if (r == 0)
        r = buf_json_str(b, f->owner, strlen(f->owner));
    return r == 0 ? body_whom(b, f->to, &f->contact, f->have_avail, f->avail, now) : r;
}

/* Escalates the task `pt` of incident `inc` once. */
static void task_fire(struct incident_clock_run *c, const struct incident *inc,
                      const struct playbook_task *pt, int64_t now_us)
{
    struct casefile_err err = {.off = -1};
    struct task_fire f = {.id = (int64_t)inc->id, .task = pt->id, .due_us = pt->due_us};
    struct casefile_txn t = {.who = AUDIT_ACTOR_SYSTEM,
                             .now_us = now_us,
                             .incident = (int64_t)inc->id,
                             .action = "task.overdue"};
    int step = 0;

    snprintf(f.key, sizeof(f.key), "task:%u", pt->id);
    if (store_clock_step(c->st, f.id, f.key, f.due_us, &step) < 0 || step >= 1)
        return;
    snprintf(f.title, sizeof(f.title), "%s", pt->title);
    snprintf(f.owner, sizeof(f.owner), "%s", pt->owner ? pt->owner : "");
    f.function = csf_function_name(pt->function);
    buf_init(&f.contact, CLOCK_BODY_MAX / 2);
    task_whom(c, pt, now_us, &f);
    casefile_object(t.objbuf, sizeof(t.objbuf), f.id);
    if (casefile_run(&c->cf, &t, task_act, &f, &err) < 0) {
        log_warnx("escalation: incident %lld: overdue task %u not recorded: %s", (long long)f.id,
                  f.task, err.msg);
    } else if (f.fired) {
        struct buf body;
        char dues[40];

        time_format_iso(f.due_us, dues, sizeof(dues));
        atomic_fetch_add(&clock_stats.task_escalations, 1);
        log_warnx("escalation: incident %lld: task %u \"%s\" overdue since %s; to %s (%s)",
                  (long long)f.id, f.task, f.title, dues, f.owner[0] ? f.owner : "assignee",
                  f.to[0] ? f.to : "nobody named");
        buf_init(&body, CLOCK_BODY_MAX);
        if ((c->nurls || (c->smtp && f.email[0])) && task_body(inc, &f, now_us, &body) == 0) {
            char subject[PLAYBOOK_TITLE_MAX + 64], ref[96];

            fire_send(c, &body, f.id);
            snprintf(subject, sizeof(subject), "hikeshi: incident %lld: task overdue: %s",
                     (long long)f.id, f.title);
            snprintf(ref, sizeof(ref), "incident-%lld-task-%u-%lld", (long long)f.id, f.task,
                     (long long)f.due_us);
            fire_mail(c, f.email, subject, ref, &body, f.id);
        }
        buf_done(&body);
    }
    buf_done(&f.contact);
}

/* Escalates the overdue tasks of `inc`; how many are overdue now. */
static uint64_t clock_tasks(struct incident_clock_run *c, const struct incident *inc,
                            int64_t now_us)
{
    struct casefile_err err = {.off = -1};
    struct playbook_checklist cl;
    uint64_t n = 0;

    if (inc->phase == INCIDENT_PHASE_CLOSED ||
        casefile_tasks_load(&c->cf, (int64_t)inc->id, &cl, &err) < 0)
        return 0;
    for (size_t i = 0; i < cl.n; i++) {
        const struct playbook_task *pt = &cl.t[i];

        if (pt->done || pt->due_us <= 0 || now_us < pt->due_us)
            continue;
        n++;
        task_fire(c, inc, pt, now_us);
    }
    playbook_checklist_done(&cl);
    return n;
}

/* Fires what is due for incident `id`; 1 when it is overdue now.  Its
 * overdue tasks are added to *ret_tasks. */
static int clock_one(struct incident_clock_run *c, int64_t id, int64_t now_us, uint64_t *ret_tasks)
{
    struct casefile_err err = {.off = -1};
    struct incident inc;
    struct store_incident_row row;
    struct incident_deadline dl;
    struct incident_clock_due due;
    struct clock_fire f = {.id = id};
    struct casefile_txn t = {.who = AUDIT_ACTOR_SYSTEM, .now_us = now_us, .incident = id};
    int done = 0, overdue, r;

    if (casefile_load(&c->cf, id, &inc, &row, &err) < 0)
        return 0;
    *ret_tasks += clock_tasks(c, &inc, now_us);
    incident_deadline(&inc, &c->targets, now_us, &dl);
    overdue = dl.has_target && dl.overdue;
    f.phase = incident_phase_name(inc.phase);
    f.since_us = inc.phase_since_us;
    if (!dl.has_target || store_clock_step(c->st, id, f.phase, inc.phase_since_us, &done) < 0 ||
        incident_clock_decide(&c->cc, inc.phase_since_us, dl.due_us - inc.phase_since_us, now_us,
                              done, &due) < 0 ||
        due.step == 0)
        goto out;
    f.due_us = due.due_us;
    f.step = due.step;
    f.entry = c->chain[due.chain_idx];
    buf_init(&f.contact, CLOCK_BODY_MAX / 2);
    fire_whom(c, &inc, now_us, &f);
    t.action = due.step == 1 ? "incident.deadline_notice" : "incident.escalation";
    casefile_object(t.objbuf, sizeof(t.objbuf), id);
    r = casefile_run(&c->cf, &t, fire_act, &f, &err);
    if (r < 0) {
        log_warnx("escalation: incident %lld: step %d not recorded: %s", (long long)id, f.step,
                  err.msg);
    } else if (f.fired) {
        struct buf body;
        char dues[40];

        time_format_iso(f.due_us, dues, sizeof(dues));
        if (f.step == 1) {
            atomic_fetch_add(&clock_stats.notices, 1);
            log_info("escalation: incident %lld: %s due %s; notice to %s (%s)", (long long)id,
                     f.phase, dues, f.entry, f.to[0] ? f.to : "nobody named");
        } else {
            atomic_fetch_add(&clock_stats.escalations, 1);
            log_warnx(
                "escalation: incident %lld: %s overdue since %s; escalated to %s (%s), step %d",
                (long long)id, f.phase, dues, f.entry, f.to[0] ? f.to : "nobody named", f.step);
        }
        buf_init(&body, CLOCK_BODY_MAX);
        if ((c->nurls || (c->smtp && f.email[0])) && fire_body(&inc, &f, now_us, &body) == 0) {
            char subject[INCIDENT_TITLE_MAX + 96], ref[128];

            fire_send(c, &body, id);
            snprintf(subject, sizeof(subject), "hikeshi: incident %lld: %s %s: %s", (long long)id,
                     f.phase, f.step == 1 ? "deadline notice" : "escalation", inc.title);
            snprintf(ref, sizeof(ref), "incident-%lld-%s-%lld-step-%d", (long long)id, f.phase,
                     (long long)f.since_us, f.step);
            fire_mail(c, f.email, subject, ref, &body, id);
        }
        buf_done(&body);
    }
    buf_done(&f.contact);
out:
    incident_done(&inc);
    store_incident_row_done(&row);
    return overdue;
}

/* The procedure boxes open incidents are owed and never had (issue 25):
 * those triage opened, which no person has touched, and those opened in a
 * category already declared; once each (procedure_runs), as the API's. */
static void clock_procedures(struct incident_clock_run *c, int64_t now_us)
{
    struct casefile_err err = {.off = -1};
    size_t n = 0;

    if (casefile_procedure_due(&c->cf, 0, AUDIT_ACTOR_SYSTEM, now_us,
                               now_us - CASEFILE_PROCEDURE_QUIET_US, &n, &err) < 0)
        log_warnx("procedures: a box did not run: %s", err.msg);
    else if (n)
        log_info("procedures: %zu box%s run on open incidents", n, n == 1 ? "" : "es");
}

static void clock_pass(struct incident_clock_run *c)
{
    struct store_incident_filter fl = {.limit = 100};
    int64_t ids[100], now_us = time_now_us();
    uint64_t overdue = 0, tasks = 0;
    size_t n, seen = 0;

    clock_procedures(c, now_us);
    while (seen < CLOCK_SCAN_MAX) {
        if (store_incident_ids(c->st, &fl, 1, ids, 100, &n) < 0) {
            log_warnx("escalation: listing the open incidents: %s", store_errmsg(c->st));
            return;
        }
        for (size_t i = 0; i < n && seen < CLOCK_SCAN_MAX; i++, seen++)
            overdue += (uint64_t)clock_one(c, ids[i], now_us, &tasks);
        if (n < 100)
            break;
        fl.offset += 100;
    }
    atomic_store(&clock_stats.overdue, overdue);
    atomic_store(&clock_stats.task_overdue, tasks);
}

static void *clock_main(void *arg)
{
    struct incident_clock_run *c = arg;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec until;

        pthread_mutex_unlock(&c->mu);
        clock_pass(c);
        pthread_mutex_lock(&c->mu);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void clock_free(struct incident_clock_run *c)
{
    for (size_t i = 0; i < c->nurls; i++)
        free(c->urls[i]);
    free(c->urls);
    free(c->smtp);
    free(c->from);
    if (c->secret) {
        explicit_bzero(c->secret, c->secret_len);
        free(c->secret);
    }
    store_free(c->st);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static int clock_setup(struct incident_clock_run *c, const struct incident_clock_run_opts *o,
                       char *errbuf, size_t errlen)
{
    static const char *const def_chain[] = {"assignee", "lead", "manager"};
    const struct config_escalation *e = o->esc;
    char *serr = NULL, *text = NULL;
    size_t len = 0;
    int r;

    incident_targets_default(&c->targets);
    for (size_t i = 0; i < o->ntargets; i++)
        (void)incident_targets_set(&c->targets, (enum incident_phase)o->targets[i].phase,
                                   o->targets[i].category, o->targets[i].level, o->targets[i].us);
    c->cc.lead_us = e->lead_us;
    c->cc.every_us = e->every_us < 0 ? e->lead_us : e->every_us;
    c->cc.nchain = e->nchain ? e->nchain : 3;
    if (c->cc.nchain > INCIDENT_CLOCK_CHAIN_MAX) {
        snprintf(errbuf, errlen, "incident.escalation.chain: at most %d entries",
                 INCIDENT_CLOCK_CHAIN_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < c->cc.nchain; i++)
        snprintf(c->chain[i], sizeof(c->chain[i]), "%s",
                 i < e->nchain ? e->chain[i] : def_chain[i % 3]);
    if (e->nnotify) {
        if (!(c->urls = calloc(e->nnotify, sizeof(*c->urls))))
            return -ENOMEM;
        for (; c->nurls < e->nnotify; c->nurls++)
            if (!(c->urls[c->nurls] = strdup(e->notify[c->nurls])))
                return -ENOMEM;
        r = readfile_all(e->secret_file, 4096, &text, &len);
        if (r < 0) {
            snprintf(errbuf, errlen, "incident.escalation.secret_file %s: %s", e->secret_file,
                     strerror(-r));
            return r;
        }
        c->secret = (unsigned char *)text;
        c->secret_len = len;
        if (len < RESPOND_WEBHOOK_SECRET_MIN) {
            snprintf(errbuf, errlen,
                     "incident.escalation.secret_file %s: %zu bytes, at least %d needed",
                     e->secret_file, len, RESPOND_WEBHOOK_SECRET_MIN);
            return -EINVAL;
        }
    }
    if ((o->smtp && !(c->smtp = strdup(o->smtp))) || (o->from && !(c->from = strdup(o->from))))
        return -ENOMEM;
    if ((r = store_open(o->data_dir, &c->st, &serr)) < 0) {
        snprintf(errbuf, errlen, "escalation: store in %s: %s", o->data_dir,
                 serr ? serr : strerror(-r));
        free(serr);
        return r;
    }
    c->cf.st = c->st;
    c->cf.audit = o->audit;
    c->cf.targets = &c->targets;
    return 0;
}

int incident_clock_run_start(const struct incident_clock_run_opts *o,
                             struct incident_clock_run **ret, char *errbuf, size_t errlen)
{
    struct incident_clock_run *c;
    int r;

    *ret = NULL;
    if (!(c = calloc(1, sizeof(*c))))
        return -ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if ((r = clock_setup(c, o, errbuf, errlen)) < 0) {
        if (r == -ENOMEM)
            snprintf(errbuf, errlen, "escalation: out of memory");
        clock_free(c);
        return r;
    }
    if ((r = pthread_create(&c->th, NULL, clock_main, c)) != 0) {
        snprintf(errbuf, errlen, "escalation: thread: %s", strerror(r));
        clock_free(c);
        return -r;
    }
    c->started = 1;
    atomic_store(&clock_stats.running, 1);
    *ret = c;
    return 0;
}

void incident_clock_run_stop(struct incident_clock_run *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->th, NULL);
        atomic_store(&clock_stats.running, 0);
    }
    clock_free(c);
}
