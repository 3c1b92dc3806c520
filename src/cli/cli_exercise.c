/*
 * cli_exercise.c - `hikeshi exercise check|run|status|stop|report`:
 * tabletop exercises against the running daemon (issue 22,
 * docs/exercise.md).
 *
 * `run` sends the scenario's records, in time order and at the chosen
 * speed, to the daemon's exercise input (inputs[].exercise: true, a
 * syslog-tcp listener): what marks them as an exercise's is the input they
 * arrive on, which the configuration names, never anything in the records
 * themselves, so no record from elsewhere can pass for an exercise's.  The
 * run, the stages it entered and the messages it delivered to people are
 * written to the daemon's store, where the console's banner and the
 * report find them.  `report` scores the run from what the store holds
 * (src/exercise/exercise_score.c).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "event/time.h"
#include "exercise/exercise_score.h"
#include "exercise/scenario.h"
#include "incident/comms_smtp.h"
#include "incident/incident.h"
#include "respond/respond_webhook.h"
#include "store/store.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/netaddr.h"
#include "util/readfile.h"

#define US_PER_S INT64_C(1000000)
/* Fastest and slowest speeds accepted. */
#define EXERCISE_SPEED_MAX 10000.0
#define EXERCISE_SPEED_MIN 0.01
/* Bytes of a report we build at most. */
#define EXERCISE_REPORT_MAX (16u * 1024 * 1024)

static const char exercise_usage[] =
    "usage: hikeshi exercise [-c CONFIG] COMMAND ...\n"
    "\n"
    "Tabletop exercises (docs/exercise.md) against the running daemon.\n"
    "\n"
    "  check FILE...\n"
    "        loads scenarios and prints FILE:LINE:COL: why for each error.\n"
    "  run SCENARIO [--speed N] [--input NAME] [--clock wall|scenario]\n"
    "               [--deliver mailto:ADDRESS|URL]\n"
    "        plays SCENARIO: sends its records to the daemon's exercise input\n"
    "        (inputs[].exercise: true, type syslog-tcp; --input names one when\n"
    "        there are several) at N times real time (default 1, 0.01 to 10000),\n"
    "        and delivers its messages to the console's banner and this terminal;\n"
    "        --clock scenario stamps the records on the scenario's clock (its\n"
    "        intervals kept, its end at the real end) rather than when sent.\n"
    "        --deliver also sends each one to the team as a mail through\n"
    "        incident.messages.smtp, or as a signed webhook to a URL under\n"
    "        incident.messages.webhook_allow, marked EXERCISE.\n"
    "        Ends when the last inject is out, or on 'exercise stop' or Ctrl-C.\n"
    "  status [--json]\n"
    "        the latest run: scenario, state, records sent, time played.\n"
    "  stop\n"
    "        asks the runs in progress to stop.\n"
    "  report [--run ID] [--format md|html|json] [-o FILE] [--scenario FILE]\n"
    "        scores a run (default the latest) from what the team recorded in\n"
    "        hikeshi and writes the after-action report; the score is kept for\n"
    "        the trend across runs of the same scenario.  --scenario reads the\n"
    "        expectations from FILE instead of the file the run played.\n"
    "\n"
    "  -c, --config FILE   the daemon's configuration (data_dir, inputs,\n"
    "                      incident.targets)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 done, 1 failure (the daemon's input unreachable, a store\n"
    "error), 2 usage or a scenario that does not load.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int load_scenario(const char *path, struct scenario **ret)
{
    struct parse_err e;
    char msg[1024];
    int r = scenario_load(path, ret, &e);

    if (r == -EINVAL) {
        scenario_err_format(msg, sizeof(msg), path, &e);
        fprintf(stderr, "%s\n", msg);
    } else if (r < 0) {
        fprintf(stderr, "hikeshi exercise: %s: %s\n", path,
                r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
    }
    return r;
}

static int cmd_check(int argc, char **argv)
{
    int bad = 0;

    if (argc < 1)
        return cli_usage_error("exercise", "check needs at least one FILE");
    for (int i = 0; i < argc; i++) {
        struct scenario *s;

        if (load_scenario(argv[i], &s) < 0) {
            bad = 1;
            continue;
        }
        printf("%s: scenario %s, %zu stages, %llu records, %zu messages, %zu detections and "
               "%zu decisions expected, %llds long\n",
               argv[i], s->name, s->nstages, (unsigned long long)s->total_records, s->nmessages,
               s->ndetections, s->ndecisions, (long long)(s->end_us / US_PER_S));
        scenario_free(s);
    }
    return bad ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* The exercise input to send to: syslog-tcp, named or the only one. */
static const struct config_input *find_input(const struct config *c, const char *name)
{
    const struct config_input *found = NULL;
    size_t n = 0;

    for (size_t i = 0; i < c->ninputs; i++) {
        const struct config_input *in = &c->inputs[i];

        if (!in->conf.exercise || (name && strcmp(in->name, name) != 0))
            continue;
        if (in->conf.type != INPUT_SYSLOG_TCP) {
            fprintf(stderr,
                    "hikeshi exercise: input %s is an exercise input but not "
                    "syslog-tcp; the run sends over TCP\n",
                    in->name);
            continue;
        }
        found = in;
        n++;
    }
    if (n > 1) {
        fprintf(stderr, "hikeshi exercise: several exercise inputs; name one with --input\n");
        return NULL;
    }
    if (!found)
        fprintf(stderr,
                "hikeshi exercise: no %s input with exercise: true and type syslog-tcp "
                "in the configuration (docs/exercise.md)\n",
                name ? name : "");
    return found;
}

static int connect_input(const struct config_input *in)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd;

    if (netaddr_parse(in->listen, &ss, &sl) < 0) {
        fprintf(stderr, "hikeshi exercise: input %s: cannot read listen %s\n", in->name,
                in->listen);
        return -EINVAL;
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        int e = errno;

        fprintf(stderr, "hikeshi exercise: input %s at %s: %s (is the daemon running?)\n", in->name,
                in->listen, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sleeps until wall time `until_us` or an interruption; 1 when stopped. */
static int wait_until(struct store *st, int64_t run_id, int64_t until_us, int64_t *next_poll)
{
    for (;;) {
        int64_t now = time_now_us(), d;
        struct timespec ts;

        if (interrupted)
            return 1;
        if (now >= *next_poll) {
            struct store_exercise_run run;

            *next_poll = now + US_PER_S;
            if (store_exercise_run_get(st, run_id, &run) == 0) {
                int stop = run.stop;

                store_exercise_run_done(&run);
                if (stop)
                    return 1;
            }
        }
        if (now >= until_us)
            return 0;
        d = until_us - now;
        if (d > 200000)
            d = 200000;
        ts.tv_sec = (time_t)(d / US_PER_S);
        ts.tv_nsec = (long)(d % US_PER_S) * 1000;
        nanosleep(&ts, NULL);
    }
}

/* Where `run --deliver` sends the injects: the team's mailbox or chat. */
struct deliver {
    const char *mailto;      /* the address, or NULL */
    const char *url;         /* the webhook URL, or NULL */
    const char *smtp, *from; /* incident.messages */
    unsigned char *secret;   /* owned; the webhook's HMAC key */
    size_t secret_len;
    int curl; /* 1: libcurl was set up */
};

struct runner {
    const struct scenario *s;
    struct store *st;
    int64_t id, start;
    double speed;
    char run_text[32];
    struct deliver *dv; /* NULL: the console and the terminal only */
    size_t ninjects;
    /* --clock scenario: a record at scenario time t is stamped stamp_base
     * + t; 0: stamped with the wall clock when it is sent. */
    int64_t stamp_base;
};

static int64_t wall_of(const struct runner *u, int64_t scen_us)
{
    return u->start + (int64_t)((double)scen_us / u->speed);
}

static void log_event(struct runner *u, int64_t scen_us, const char *kind, const char *stage,
                      const char *who, const char *channel, const char *text)
{
    int r = store_exercise_log_add(u->st, u->id, time_now_us(), scen_us, kind, stage, who, channel,
                                   text);

    if (r < 0)
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(u->st));
}

/* `s` with every control character a space, into out. */
static void one_line(char *out, size_t size, const char *s)
{
    size_t i = 0;

    for (; s && *s && i + 1 < size; s++, i++)
        out[i] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
    out[i] = '\0';
}

/*
 * Hands inject `m` (at scenario time t) to the team through the
 * communications channel --deliver named: a mail through the daemon's
 * smtp server, or a signed webhook.  What happened goes to the terminal
 * and to the run's log ("delivery"), so that the report's timeline says
 * whether the team could have read it.  A failure does not stop the run.
 */
static void deliver_inject(struct runner *u, const struct scenario_message *m, int64_t t)
{
    const struct scenario *s = u->s;
    const char *stage = s->stages[m->stage].name;
    char subject[512], why[600] = "", ref[64], dur[32], note[800];
    struct buf body;
    int r;

    buf_init(&body, SCENARIO_TEXT_MAX * 7 + 4096);
    exercise_fmt_dur(t, dur, sizeof(dur));
    snprintf(ref, sizeof(ref), "exercise-%lld-%zu", (long long)u->id, ++u->ninjects);
    if (u->dv->mailto) {
        const struct comms_smtp_conf sc = {
            .url = u->dv->smtp, .from = u->dv->from, .timeout_ms = 10000};
        struct comms_smtp_mail mail;
        char who[200], chan[64];

        one_line(who, sizeof(who), m->from);
        one_line(chan, sizeof(chan), m->channel);
        snprintf(subject, sizeof(subject), "[EXERCISE %s] %s from %s", s->name, chan, who);
        r = buf_printf(&body,
                       "EXERCISE - NOT A REAL INCIDENT\n\n"
                       "Scenario %s: %s\nRun %lld, stage %s, at %s of scenario time\n"
                       "From: %s\nChannel: %s\n\n%s\n",
                       s->name, s->title, (long long)u->id, stage, dur, m->from, m->channel,
                       m->text);
        mail = (struct comms_smtp_mail){
            .to = u->dv->mailto, .subject = subject, .body = body.data, .ref = ref};
        if (r < 0)
            snprintf(why, sizeof(why), "the mail does not fit");
        else
            r = comms_smtp_send(&sc, &mail, why, sizeof(why));
        snprintf(note, sizeof(note), "%s by mail to %.200s%s%.500s",
                 r == 0 ? "delivered" : "NOT delivered", u->dv->mailto, r == 0 ? "" : ": ", why);
    } else {
        const struct respond_webhook_conf wc = {.url = u->dv->url,
                                                .secret = u->dv->secret,
                                                .secret_len = u->dv->secret_len,
                                                .timeout_ms = 10000,
                                                .max_attempts = 2};
        struct respond_webhook_result res;

        r = buf_printf(&body,
                       "{\"event\":\"exercise.inject\",\"exercise\":true,\"run\":%lld,"
                       "\"ref\":\"%s\",\"scenario\":",
                       (long long)u->id, ref);
        r = r ? r : buf_json_str(&body, s->name, strlen(s->name));
        r = r ? r : buf_puts(&body, ",\"title\":");
        r = r ? r : buf_json_str(&body, s->title, strlen(s->title));
        r = r ? r : buf_puts(&body, ",\"stage\":");
        r = r ? r : buf_json_str(&body, stage, strlen(stage));
        r = r ? r
              : buf_printf(&body, ",\"scenario_time_s\":%lld,\"from\":", (long long)(t / US_PER_S));
        r = r ? r : buf_json_str(&body, m->from, strlen(m->from));
        r = r ? r : buf_puts(&body, ",\"channel\":");
        r = r ? r : buf_json_str(&body, m->channel, strlen(m->channel));
        r = r ? r : buf_puts(&body, ",\"text\":");
        r = r ? r : buf_json_str(&body, m->text, strlen(m->text));
        r = r ? r : buf_putc(&body, '}');
        if (r < 0)
            snprintf(why, sizeof(why), "the document does not fit");
        else if ((r = respond_webhook_send(&wc, body.data, body.len, &res)) < 0)
            snprintf(why, sizeof(why), "%s", res.reason);
        snprintf(note, sizeof(note), "%s by webhook to %.200s%s%.500s",
                 r == 0 ? "delivered" : "NOT delivered", u->dv->url, r == 0 ? "" : ": ", why);
    }
    buf_done(&body);
    printf("  (%s)\n", note);
    log_event(u, t, "delivery", stage, m->from, m->channel, note);
}

/* Checks --deliver against the configuration and gets it ready: 0, or
 * CLI_EXIT_USAGE said. */
static int deliver_setup(const struct config *c, const char *target, struct deliver *dv)
{
    const struct config_messages *mc = &c->messages;
    char *text = NULL;
    size_t len = 0;
    int r, allowed = 0;

    memset(dv, 0, sizeof(*dv));
    if (strncmp(target, "mailto:", 7) == 0) {
        dv->mailto = target + 7;
        dv->smtp = mc->smtp;
        dv->from = mc->from;
        if (!*dv->mailto || strpbrk(dv->mailto, "\r\n <>,") || !strchr(dv->mailto, '@'))
            return cli_usage_error("exercise", "--deliver mailto:ADDRESS: one mail address");
        if (!dv->smtp || !dv->from)
            return cli_usage_error("exercise", "--deliver mailto: needs incident.messages.smtp "
                                               "and from in the configuration");
    } else if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0) {
        dv->url = target;
        for (size_t i = 0; i < mc->nwebhook_allow; i++)
            allowed |= strncmp(target, mc->webhook_allow[i], strlen(mc->webhook_allow[i])) == 0;
        if (!allowed)
            return cli_usage_error("exercise",
                                   "--deliver %s: not under "
                                   "incident.messages.webhook_allow",
                                   target);
        if (!mc->secret_file)
            return cli_usage_error("exercise", "--deliver URL: needs "
                                               "incident.messages.secret_file to sign with");
        if ((r = readfile_all(mc->secret_file, 4096, &text, &len)) < 0) {
            fprintf(stderr, "hikeshi exercise: incident.messages.secret_file %s: %s\n",
                    mc->secret_file, strerror(-r));
            return CLI_EXIT_USAGE;
        }
        dv->secret = (unsigned char *)text;
        dv->secret_len = len;
        if (len < RESPOND_WEBHOOK_SECRET_MIN)
            return cli_usage_error("exercise", "incident.messages.secret_file: at least %d bytes",
                                   RESPOND_WEBHOOK_SECRET_MIN);
    } else {
        return cli_usage_error("exercise", "--deliver: mailto:ADDRESS or an http(s) URL");
    }
    if (respond_webhook_global_init() < 0) {
        fprintf(stderr, "hikeshi exercise: libcurl cannot start\n");
        return CLI_EXIT_FAIL;
    }
    dv->curl = 1;
    return 0;
}

static void deliver_done(struct deliver *dv)
{
    if (dv->secret) {
        memset(dv->secret, 0, dv->secret_len);
        free(dv->secret);
    }
    if (dv->curl)
        respond_webhook_global_done();
    memset(dv, 0, sizeof(*dv));
}

/* The loop of `run`: records, stages and messages in time order.  Returns
 * 0 (played to the end), 1 (stopped) or a negative errno. */
static int play(struct runner *u, int fd, const struct scenario_send *v, size_t nv)
{
    const struct scenario *s = u->s;
    size_t iv = 0, im = 0, is = 0;
    int64_t next_poll = 0, sent = 0;
    struct buf line;
    int r = 0;

    buf_init(&line, SCENARIO_TEMPLATE_MAX + 2);
    for (;;) {
        int64_t tv = iv < nv ? v[iv].at_us : INT64_MAX;
        int64_t tm = im < s->nmessages ? s->messages[im].at_us : INT64_MAX;
        int64_t ts = is < s->nstages ? s->stages[is].at_us : INT64_MAX;
        int64_t t = tv < tm ? tv : tm;

        if (ts < t)
            t = ts;
        if (t == INT64_MAX)
            break;
        if ((r = wait_until(u->st, u->id, wall_of(u, t), &next_poll)) != 0)
            break;
        if (ts == t) {
            const struct scenario_stage *g = &s->stages[is++];

            printf("[%s] stage %s%s%s\n", u->run_text, g->name, g->kill_chain ? ": " : "",
                   g->kill_chain ? triage_stage_name((enum triage_stage)g->kill_chain) : "");
            log_event(u, t, "stage", g->name, NULL, NULL,
                      g->kill_chain ? triage_stage_name((enum triage_stage)g->kill_chain) : "");
        } else if (tm == t) {
            const struct scenario_message *m = &s->messages[im++];

            printf("[%s] %s from %s:\n  %s\n", u->run_text, m->channel, m->from, m->text);
            log_event(u, t, "message", s->stages[m->stage].name, m->from, m->channel, m->text);
            if (u->dv)
                deliver_inject(u, m, t);
            fflush(stdout);
        } else {
            const struct scenario_record *rec = &s->records[v[iv].rec];
            struct scenario_clock clk = {
                u->stamp_base ? u->stamp_base + v[iv].at_us : time_now_us(), v[iv].n, u->run_text};
            const char *why;

            iv++;
            buf_reset(&line);
            if (scenario_expand(s, rec->text, &clk, &line, &why) < 0 || buf_putc(&line, '\n') < 0) {
                fprintf(stderr, "%s:%u: record not sent: %s\n", s->file, rec->line,
                        why ? why : "out of memory");
                continue;
            }
            if ((r = send_all(fd, line.data, line.len)) < 0) {
                fprintf(stderr, "hikeshi exercise: sending to the daemon: %s\n", strerror(-r));
                break;
            }
            if (++sent % 100 == 0 || iv == nv)
                store_exercise_run_update(u->st, u->id, sent, NULL, 0);
        }
    }
    store_exercise_run_update(u->st, u->id, sent, NULL, 0);
    buf_done(&line);
    return r;
}

static int cmd_run(const struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"speed", required_argument, NULL, 's'},
        {"input", required_argument, NULL, 'i'},
        {"deliver", required_argument, NULL, 'd'},
        {"clock", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    int scen_clock = 0;
    const char *input = NULL, *deliver_to = NULL;
    struct deliver dv;
    double speed = 1.0;
    struct scenario *s = NULL;
    struct scenario_send *v = NULL;
    const struct config_input *in;
    struct runner u;
    struct store *st = NULL;
    struct sigaction sa;
    char *err = NULL, *end;
    size_t nv = 0;
    int opt, fd = -1, r, rc = CLI_EXIT_FAIL;

    optind = 0; /* glibc: start again at argv[1], forgetting the "+" of the first pass */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            errno = 0;
            speed = strtod(optarg, &end);
            if (errno || *end || !isfinite(speed) || speed < EXERCISE_SPEED_MIN ||
                speed > EXERCISE_SPEED_MAX)
                return cli_usage_error("exercise", "--speed: a number from 0.01 to 10000");
            break;
        case 'i': input = optarg; break;
        case 'd': deliver_to = optarg; break;
        case 'k':
            if (strcmp(optarg, "scenario") == 0)
                scen_clock = 1;
            else if (strcmp(optarg, "wall") != 0)
                return cli_usage_error("exercise", "--clock: wall or scenario");
            break;
        default: return cli_usage_error("exercise", "unknown option to run");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("exercise", "run needs one SCENARIO file");
    if (load_scenario(argv[optind], &s) < 0)
        return CLI_EXIT_USAGE;
    if (!(in = find_input(c, input))) {
        scenario_free(s);
        return CLI_EXIT_USAGE;
    }
    memset(&dv, 0, sizeof(dv));
    if (deliver_to && (r = deliver_setup(c, deliver_to, &dv)) != 0) {
        deliver_done(&dv);
        scenario_free(s);
        return r;
    }
    if (scenario_sched(s, &v, &nv) < 0) {
        fprintf(stderr, "hikeshi exercise: out of memory\n");
        goto out;
    }
    if ((r = store_open(c->data_dir, &st, &err)) < 0) {
        fprintf(stderr, "hikeshi exercise: store in %s: %s\n", c->data_dir,
                err ? err : strerror(-r));
        goto out;
    }
    if ((fd = connect_input(in)) < 0)
        goto out;
    memset(&u, 0, sizeof(u));
    u.s = s;
    u.st = st;
    u.speed = speed;
    u.dv = deliver_to ? &dv : NULL;
    u.start = time_now_us();
    /* The scenario's own clock, laid out so that its last moment is
     * stamped when it is really played: every stamp is in the past, and
     * the records keep the scenario's intervals (a beacon every 60 s stays
     * one at --speed 200). */
    if (scen_clock && speed > 1.0)
        u.stamp_base = u.start - (int64_t)((double)s->end_us * (1.0 - 1.0 / speed));
    if (store_exercise_run_new(st, s->name, s->title, s->file, speed, u.start, &u.id) < 0) {
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(st));
        goto out;
    }
    snprintf(u.run_text, sizeof(u.run_text), "exercise %lld", (long long)u.id);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("[%s] scenario %s: %s\n[%s] %llu records and %zu messages over %llds at %gx; the "
           "daemon's exercise input is %s (%s)\n",
           u.run_text, s->name, s->title, u.run_text, (unsigned long long)s->total_records,
           s->nmessages, (long long)(s->end_us / US_PER_S), speed, in->name, in->listen);
    fflush(stdout);
    r = play(&u, fd, v, nv);
    {
        const char *state = r < 0 ? "failed" : r == 1 ? "stopped" : "done";
        struct store_exercise_run run;
        int64_t sent = 0;

        if (store_exercise_run_get(st, u.id, &run) == 0) {
            sent = run.sent;
            store_exercise_run_done(&run);
        }
        store_exercise_run_update(st, u.id, sent, state, time_now_us());
        log_event(&u, (int64_t)((double)(time_now_us() - u.start) * speed), "end", NULL, NULL, NULL,
                  state);
        printf("[%s] %s; 'hikeshi exercise report' scores it\n", u.run_text, state);
        rc = r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
out:
    if (fd >= 0)
        close(fd);
    deliver_done(&dv);
    store_free(st);
    free(err);
    free(v);
    scenario_free(s);
    return rc;
}

static int open_store(const struct config *c, struct store **st)
{
    char *err = NULL;
    int r = store_open(c->data_dir, st, &err);

    if (r < 0)
        fprintf(stderr, "hikeshi exercise: store in %s: %s\n", c->data_dir,
                err ? err : strerror(-r));
    free(err);
    return r;
}

static int cmd_status(const struct config *c, int argc, char **argv)
{
    struct store *st = NULL;
    struct store_exercise_run run;
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    int64_t now = time_now_us(), played;
    int r;

    if (argc > 2 || (argc == 2 && !json))
        return cli_usage_error("exercise", "status takes only --json");
    if (open_store(c, &st) < 0)
        return CLI_EXIT_FAIL;
    r = store_exercise_run_get(st, 0, &run);
    if (r == -ENOENT) {
        printf(json ? "null\n" : "no exercise has been run\n");
        store_free(st);
        return CLI_EXIT_OK;
    }
    if (r < 0) {
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(st));
        store_free(st);
        return CLI_EXIT_FAIL;
    }
    played = (int64_t)((double)((run.ended_us ? run.ended_us : now) - run.started_us) * run.speed);
    if (json) {
        struct buf b;

        buf_init(&b, 1 << 16);
        buf_printf(&b, "{\"run\":%lld,\"scenario\":", (long long)run.id);
        buf_json_str(&b, run.scenario, strlen(run.scenario));
        buf_printf(&b, ",\"state\":\"%s\",\"sent\":%lld,\"speed\":%g,\"played_s\":%lld}", run.state,
                   (long long)run.sent, run.speed, (long long)(played / US_PER_S));
        printf("%s\n", b.data ? b.data : "null");
        buf_done(&b);
    } else {
        char d[32];

        printf("run %lld: scenario %s (%s)\n  state %s, %lld records sent, speed %gx, "
               "%s of scenario time played\n",
               (long long)run.id, run.scenario, run.title, run.state, (long long)run.sent,
               run.speed, exercise_fmt_dur(played, d, sizeof(d)));
    }
    store_exercise_run_done(&run);
    store_free(st);
    return CLI_EXIT_OK;
}

static int cmd_stop(const struct config *c, int argc)
{
    struct store *st = NULL;
    int64_t n = 0;

    if (argc != 1)
        return cli_usage_error("exercise", "stop takes no argument");
    if (open_store(c, &st) < 0)
        return CLI_EXIT_FAIL;
    if (store_exercise_stop(st, &n) < 0) {
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(st));
        store_free(st);
        return CLI_EXIT_FAIL;
    }
    printf("%lld run%s asked to stop\n", (long long)n, n == 1 ? "" : "s");
    store_free(st);
    return CLI_EXIT_OK;
}

/* ---- report -------------------------------------------------------------- */

struct collect {
    struct exercise_fact *f;
    size_t n, cap;
    struct exercise_event *ev;
    size_t nev, evcap;
    char **texts; /* owned copies of the events' texts */
    size_t ntexts;
    int64_t start;
    double speed;
    struct exercise_trend_row *trend;
    size_t ntrend;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int on_fact(void *ctx, const struct store_exercise_fact *sf)
{
    struct collect *c = ctx;
    struct exercise_fact *f;

    if (c->n == EXERCISE_MAX_FACTS)
        return -E2BIG;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        struct exercise_fact *nf = realloc(c->f, ncap * sizeof(*nf));

        if (!nf)
            return -ENOMEM;
        c->f = nf;
        c->cap = ncap;
    }
    f = &c->f[c->n];
    memset(f, 0, sizeof(*f));
    snprintf(f->kind, sizeof(f->kind), "%s", sf->kind);
    f->time_us = sf->time_us;
    f->incident_id = sf->incident_id;
    f->a = dup_or_null(sf->a);
    f->b = dup_or_null(sf->b);
    f->c = dup_or_null(sf->c);
    c->n++;
    if ((sf->a && !f->a) || (sf->b && !f->b) || (sf->c && !f->c))
        return -ENOMEM;
    return 0;
}

static int on_log(void *ctx, const struct store_exercise_log *l)
{
    struct collect *c = ctx;
    char *text;
    char **nt;
    int r;
    struct exercise_event *ne;

    if (strcmp(l->kind, "record") == 0 || c->nev >= 10000)
        return 0;
    if (strcmp(l->kind, "stage") == 0)
        r = asprintf(&text, "%s%s%s", l->stage ? l->stage : "", l->text && *l->text ? ", " : "",
                     l->text ? l->text : "");
    else if (strcmp(l->kind, "message") == 0)
        r = asprintf(&text, "%s (%s): %s", l->who ? l->who : "?", l->channel ? l->channel : "?",
                     l->text ? l->text : "");
    else
        r = asprintf(&text, "%s", l->text ? l->text : "");
    if (r < 0)
        return -ENOMEM;
    if (!(nt = realloc(c->texts, (c->ntexts + 1) * sizeof(*nt)))) {
        free(text);
        return -ENOMEM;
    }
    c->texts = nt;
    c->texts[c->ntexts++] = text;
    if (c->nev == c->evcap) {
        size_t ncap = c->evcap ? c->evcap * 2 : 32;

        if (!(ne = realloc(c->ev, ncap * sizeof(*ne))))
            return -ENOMEM;
        c->ev = ne;
        c->evcap = ncap;
    }
    c->ev[c->nev].at_us = l->scen_us;
    c->ev[c->nev].kind = strcmp(l->kind, "message") == 0    ? "message"
                         : strcmp(l->kind, "stage") == 0    ? "stage"
                         : strcmp(l->kind, "delivery") == 0 ? "delivery"
                                                            : "run";
    c->ev[c->nev].text = text;
    c->nev++;
    return 0;
}

static int on_run(void *ctx, const struct store_exercise_run *run)
{
    struct collect *c = ctx;
    struct exercise_trend_row row;

    if (!run->score || c->ntrend >= EXERCISE_MAX_TREND)
        return 0;
    memset(&row, 0, sizeof(row));
    if (exercise_summary_parse(run->score, strlen(run->score), &row) < 0)
        return 0; /* a summary we cannot read is left out of the trend */
    row.run_id = run->id;
    row.started_us = run->started_us;
    c->trend[c->ntrend++] = row;
    return 0;
}

static void collect_done(struct collect *c)
{
    exercise_fact_free(c->f, c->n);
    for (size_t i = 0; i < c->ntexts; i++)
        free(c->texts[i]);
    free(c->texts);
    free(c->ev);
    free(c->trend);
}

/* The report into `path`, or onto stdout when path is NULL; 0 or -1 said. */
static int write_out(const char *path, const struct buf *b)
{
    FILE *f;

    if (!path)
        return fwrite(b->data, 1, b->len, stdout) == b->len ? 0 : -1;
    if (!(f = fopen(path, "w")) || fwrite(b->data, 1, b->len, f) != b->len) {
        fprintf(stderr, "hikeshi exercise: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "hikeshi exercise: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The daemon's phase targets (incident.targets over the defaults) for the
 * box the scenario is about: the category and level of its first expected
 * declaration, else no category at Green, as the daemon's clock would
 * read them for an incident of that box. */
static void daemon_targets(const struct config *c, const struct scenario *s,
                           struct exercise_targets *ret)
{
    static const char *const lv[] = {"Green", "Yellow", "Orange", "Red"};
    struct incident_targets t;
    int cat = 0, level = 0;

    incident_targets_default(&t);
    for (size_t i = 0; i < c->ntargets; i++) {
        /* Validated when the configuration was read. */
        const struct config_target *ct = &c->targets[i];
        (void)incident_targets_set(&t, (enum incident_phase)ct->phase, ct->category, ct->level,
                                   ct->us);
    }
    for (size_t i = 0; i < s->ndecisions; i++) {
        const struct scenario_decision *d = &s->decisions[i];

        if (d->kind == SCENARIO_DEC_DECLARE && d->category && d->level >= 0 && d->level < 4) {
            cat = 1 + (d->category[0] - 'A');
            level = d->level;
            break;
        }
    }
    memset(ret, 0, sizeof(*ret));
    ret->first_aid_us = t.target_us[INCIDENT_PHASE_FIRST_AID][cat][level];
    ret->emergency_us = t.target_us[INCIDENT_PHASE_EMERGENCY][cat][level];
    if (cat)
        snprintf(ret->box, sizeof(ret->box), "category %c, %s", 'A' + cat - 1, lv[level]);
    else
        snprintf(ret->box, sizeof(ret->box), "no category, %s", lv[level]);
}

static int cmd_report(const struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"run", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"scenario", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    enum exercise_fmt fmt = EXERCISE_FMT_MD;
    const char *outpath = NULL, *scen_path = NULL;
    long long run_id = 0;
    struct store *st = NULL;
    struct store_exercise_run run;
    struct scenario *s = NULL;
    struct exercise_score sc;
    struct exercise_targets tg;
    struct collect col;
    struct buf b;
    char *end;
    int opt, r, rc = CLI_EXIT_FAIL;

    memset(&run, 0, sizeof(run));
    memset(&sc, 0, sizeof(sc));
    memset(&col, 0, sizeof(col));
    buf_init(&b, EXERCISE_REPORT_MAX);
    optind = 0; /* glibc: start again at argv[1], forgetting the "+" of the first pass */
    while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            errno = 0;
            run_id = strtoll(optarg, &end, 10);
            if (errno || *end || run_id <= 0)
                return cli_usage_error("exercise", "--run: a run id (a positive number)");
            break;
        case 'f':
            if (strcmp(optarg, "md") == 0)
                fmt = EXERCISE_FMT_MD;
            else if (strcmp(optarg, "html") == 0)
                fmt = EXERCISE_FMT_HTML;
            else if (strcmp(optarg, "json") == 0)
                fmt = EXERCISE_FMT_JSON;
            else
                return cli_usage_error("exercise", "--format: md, html or json");
            break;
        case 'o': outpath = optarg; break;
        case 's': scen_path = optarg; break;
        default: return cli_usage_error("exercise", "unknown option to report");
        }
    }
    if (optind != argc)
        return cli_usage_error("exercise", "report takes options only");
    if (open_store(c, &st) < 0)
        goto out;
    if (store_exercise_run_get(st, run_id, &run) < 0) {
        fprintf(stderr, "hikeshi exercise: %s\n", store_errmsg(st));
        goto out;
    }
    if (load_scenario(scen_path ? scen_path : run.file, &s) < 0) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (strcmp(s->name, run.scenario) != 0)
        fprintf(stderr,
                "hikeshi exercise: warning: run %lld played scenario %s, scoring it "
                "against %s\n",
                (long long)run.id, run.scenario, s->name);
    col.start = run.started_us;
    col.speed = run.speed;
    if (!(col.trend = calloc(EXERCISE_MAX_TREND, sizeof(*col.trend))))
        goto oom;
    /* Everything up to now counts: a decision taken after the run ended is
     * late, not absent. */
    if ((r = store_exercise_facts(st, run.started_us, time_now_us() + 1, on_fact, &col)) < 0 ||
        (r = store_exercise_log_each(st, run.id, on_log, &col)) < 0) {
        fprintf(stderr, "hikeshi exercise: %s\n",
                r == -ENOMEM  ? "out of memory"
                : r == -E2BIG ? "more than 100000 facts in the run's window"
                              : store_errmsg(st));
        goto out;
    }
    daemon_targets(c, s, &tg);
    if (exercise_score(s, run.id, run.started_us, run.speed, &tg, col.f, col.n, &sc) < 0 ||
        exercise_score_summary(&sc, &b) < 0)
        goto oom;
    if (store_exercise_set_score(st, run.id, b.data) < 0) {
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(st));
        goto out;
    }
    buf_reset(&b);
    if (store_exercise_runs_each(st, run.scenario, on_run, &col) < 0) {
        fprintf(stderr, "hikeshi exercise: store: %s\n", store_errmsg(st));
        goto out;
    }
    if ((r = exercise_report(s, &sc, col.ev, col.nev, col.trend, col.ntrend, fmt, &b)) < 0) {
        fprintf(stderr, "hikeshi exercise: %s\n",
                r == -E2BIG ? "the report is larger than 16 MiB" : "out of memory");
        goto out;
    }
    if (write_out(outpath, &b) == 0)
        rc = CLI_EXIT_OK;
    goto out;
oom:
    fprintf(stderr, "hikeshi exercise: out of memory\n");
out:
    exercise_score_done(&sc);
    collect_done(&col);
    scenario_free(s);
    store_exercise_run_done(&run);
    store_free(st);
    buf_done(&b);
    return rc;
}

int cli_exercise_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cfg_path = NULL, *cmd;
    struct config *c;
    int opt, r;

    /* Options before the command only: the command parses its own. */
    while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': cfg_path = optarg; break;
        case 'h': fputs(exercise_usage, stdout); return CLI_EXIT_OK;
        default: fputs(exercise_usage, stderr); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return cli_usage_error("exercise", "a command is needed: check, run, status, stop, report");
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "status") != 0 && strcmp(cmd, "stop") != 0 &&
        strcmp(cmd, "report") != 0)
        return cli_usage_error("exercise", "unknown command '%s'", cmd);
    if (!(c = cli_load_config(cfg_path)))
        return CLI_EXIT_USAGE;
    if (strcmp(cmd, "run") == 0)
        r = cmd_run(c, argc, argv);
    else if (strcmp(cmd, "status") == 0)
        r = cmd_status(c, argc, argv);
    else if (strcmp(cmd, "stop") == 0)
        r = cmd_stop(c, argc);
    else
        r = cmd_report(c, argc, argv);
    config_free(c);
    return r;
}
