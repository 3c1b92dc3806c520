/*
 * cli_run.c - hikeshi run: the daemon.
 *
 * Threads: one per input, the pipeline, the HTTP server, the escalation
 * clock (incident_clock_run.h); the main thread
 * only waits for signals (blocked everywhere else, taken with sigwait).
 * Shutdown order is what makes "nothing acknowledged is lost" true: stop
 * the inputs (each drains what the kernel already holds into the queue),
 * then stop the pipeline (it drains the queue and commits), then save the
 * counters and close the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_http.h"
#include "archive/archive.h"
#include "build_config.h"
#include "cli/cli.h"
#include "cli/cli_archive_prune.h"
#include "cluster/cluster.h"
#include "conf/config.h"
#include "event/time.h"
#include "incident/audit.h"
#include "incident/comms_run.h"
#include "incident/incident_clock_run.h"
#include "incident/message_case.h"
#include "incident/playbook_files.h"
#include "intel/intel_feed.h"
#include "input/input.h"
#include "input/input_tls.h"
#include "input/record.h"
#include "pipeline/pipeline.h"
#include "pipeline/pipeline_archive.h"
#include "pipeline/pipeline_witness.h"
#include "respond/respond.h"
#include "respond/respond_webhook.h"
#include "store/store.h"
#include "triage/triage.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/priv.h"
#include "util/queue.h"
#include "util/ydoc.h"

static const char run_usage[] =
    "usage: hikeshi run [-c FILE] [-n [-v]] [--log-level LEVEL] [--accept-truncated-audit]\n"
    "\n"
    "Runs the daemon in the foreground: syslog and file inputs, the pipeline\n"
    "(decode, detect, triage, store), the response engine (respond.policy:\n"
    "block, webhook, mail, exec; the bundled policy is a dry run), and the HTTP\n"
    "endpoint (/metrics, /api/v1/, and the web console at /).\n"
    "The feeds of intel.feeds are fetched by URL on their interval, and the\n"
    "matcher reloaded after each import (docs/intel.md).\n"
    "With no -c, the defaults: data in ./var, syslog on 127.0.0.1:5514 (UDP and\n"
    "TCP), HTTP on 127.0.0.1:8080, the built-in rules (./rules in a source\n"
    "tree, else " HIKESHI_DATADIR "/rules). When no rule loads it refuses to\n"
    "start (exit 2) and says where it looked.\n"
    "Started as root, it binds its ports and opens its files, then becomes\n"
    "security.user (hikeshi, else nobody) with no capabilities and a system\n"
    "call filter (hikeshi(8), SECURITY).\n"
    "\n"
    "  -c, --config FILE     read the configuration from FILE (hikeshi.yaml(5))\n"
    "  -n, --check           check the configuration, the paths it names, the\n"
    "                        response policy and the rules (loaded as run loads\n"
    "                        them) and exit (0 if valid, 2 if not); faults in the\n"
    "                        playbooks and procedures are warnings\n"
    "  -v, --verbose         with -n: print the configuration in normal form\n"
    "      --log-level LVL   error, warn, info or debug (overrides the file)\n"
    "      --accept-truncated-audit\n"
    "                        start even though the audit log holds fewer entries\n"
    "                        than its exported head (audit.head) or fewer seals\n"
    "                        than its key signed, or differs from the head; the\n"
    "                        acceptance is itself an audit entry\n"
    "  -h, --help            show this help\n"
    "\n"
    "Signals: SIGTERM and SIGINT drain the queues and exit 0; SIGHUP reloads\n"
    "the rules and settings from FILE without dropping connections.\n";

struct daemon {
    struct config *cfg;
    const char *cfg_path;
    struct store *store;
    FILE *alerts;
    struct queue *q;
    struct pipeline *pipeline;
    struct input **inputs;
    struct input_stats *istats;
    struct input_stats **istats_ptr;
    const char **itypes;
    size_t ninputs;
    struct api_http *http;
    struct audit *audit; /* DATA_DIR/audit.log: the API's changes and triage's */
    struct archive_key *audit_key; /* audit.key: seals the audit log; NULL: none */
    struct parchive *archive;        /* DATA_DIR/archive: records on receipt; NULL: off */
    struct archive_key *archive_key; /* archive.key: seals it; NULL: unsealed */
    char archive_dir[4096];
    /* DATA_DIR/archive.witness: the seal exporter's state */
    char witness_dir[4096];
    struct pwitness *audit_witness; /* audit.head_url's exporter; NULL: none */
    int accept_truncated_audit;    /* --accept-truncated-audit */
    struct respond *respond; /* NULL: response off */
    int curl_inited;
    struct incident_clock_run *clock; /* the escalation clock; NULL: off */
    struct comms_run *comms;          /* the deliverer of messages; NULL: off */
    char *templates_dir;              /* PLAYBOOKS/messages, the messages' templates */
    /* role: collector publishes the archive to NATS, analyser consumes it
     * (docs/scale.md); both NULL in the all-in-one role. */
    struct cluster_pub *pub;
    struct cluster_sub *sub;
    struct intel_feed_run *feeds; /* intel.feeds fetcher; NULL: none */
};

static const char *input_type_str(enum input_type t)
{
    switch (t) {
    case INPUT_SYSLOG_UDP: return "syslog-udp";
    case INPUT_SYSLOG_TCP: return "syslog-tcp";
    case INPUT_FILE: return "file";
    case INPUT_STDIN: return "stdin";
    case INPUT_SYSLOG_TLS: return "syslog-tls";
    case INPUT_GELF_UDP: return "gelf-udp";
    case INPUT_GELF_TCP: return "gelf-tcp";
    case INPUT_JSON_TCP: return "json-tcp";
    case INPUT_HTTP_BULK: return "http-bulk";
    case INPUT_RELP: return "relp";
    }
    return "?";
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, dir, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int start_inputs(struct daemon *d)
{
    const struct config *c = d->cfg;

    d->ninputs = c->ninputs;
    d->inputs = calloc(c->ninputs + 1, sizeof(struct input *));
    d->istats = calloc(c->ninputs + 1, sizeof(struct input_stats));
    d->istats_ptr = calloc(c->ninputs + 1, sizeof(struct input_stats *));
    d->itypes = calloc(c->ninputs + 1, sizeof(const char *));
    if (!d->inputs || !d->istats || !d->istats_ptr || !d->itypes) {
        log_error("out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->ninputs; i++) {
        const struct config_input *ci = &c->inputs[i];
        struct file_pos pos, *start = NULL;
        char *saved_path = NULL;
        char err[256] = "";
        int r;

        d->istats_ptr[i] = &d->istats[i];
        d->itypes[i] = input_type_str(ci->conf.type);
        if (ci->conf.type == INPUT_FILE &&
            store_offset_get(d->store, ci->name, &saved_path, &pos) == 0) {
            /* A saved position is only good for the same path. */
            if (strcmp(saved_path, ci->path) == 0) {
                start = &pos;
                log_info("input %s: resuming %s at byte %llu", ci->name, ci->path,
                         (unsigned long long)pos.offset);
            }
            free(saved_path);
        }
        r = input_start(&ci->conf, d->q, &d->istats[i], start, &d->inputs[i], err, sizeof(err));
        if (r < 0) {
            log_error("input %s: %s", ci->name, err[0] ? err : strerror(-r));
            return r;
        }
        /* Syslog inputs log their bound address themselves. */
        if (ci->conf.type == INPUT_FILE)
            log_info("input %s: following %s", ci->name, ci->path);
        else if (ci->conf.type == INPUT_STDIN)
            log_info("input %s: reading standard input", ci->name);
    }
    return 0;
}

static void stop_inputs(struct daemon *d)
{
    for (size_t i = 0; i < d->ninputs; i++) {
        if (d->inputs && d->inputs[i]) {
            input_stop(d->inputs[i]);
            input_free(d->inputs[i]);
            d->inputs[i] = NULL;
        }
    }
}

/* Triage's own decisions go to the audit trail with the API's changes: an
 * incident opened by hikeshi, of what type and level, on which entity
 * (incident.open); and each later change triage makes by itself, an alert
 * joined (merged into it), its type or level raised, with the values
 * before and after and why (incident.triage).  Counts and times alone are
 * not audited.  Runs in the pipeline thread; audit_append serialises
 * writers. */
static void audit_incident(void *arg, const struct triage_incident *inc, unsigned changed)
{
    const unsigned audited = TRIAGE_CHG_ALERT | TRIAGE_CHG_TYPE | TRIAGE_CHG_LEVEL;
    struct daemon *d = arg;
    const char *action = changed ? "incident.triage" : "incident.open";
    struct buf b;
    char obj[64];
    int r;

    if ((changed != 0 && !(changed & audited)) || !d->audit)
        return;
    snprintf(obj, sizeof(obj), "incident/%llu", (unsigned long long)inc->id);
    buf_init(&b, 4096);
    r = buf_printf(&b, "{\"incident\":%llu,\"type\":\"%s\",\"level\":\"%s\",\"entity\":",
                   (unsigned long long)inc->id, triage_type_name(inc->type),
                   triage_level_name(inc->level));
    if (r == 0)
        r = buf_json_str(&b, inc->key, strlen(inc->key));
    if (r == 0 && changed)
        r = buf_printf(&b,
                       ",\"type_was\":\"%s\",\"level_was\":\"%s\",\"alert_joined\":%s,"
                       "\"alerts\":%llu,\"reason\":",
                       triage_type_name(inc->was_type), triage_level_name(inc->was_level),
                       changed & TRIAGE_CHG_ALERT ? "true" : "false",
                       (unsigned long long)inc->nalerts);
    if (r == 0 && changed)
        r = buf_json_str(&b, inc->chg_why, strlen(inc->chg_why));
    if (r == 0)
        r = buf_putc(&b, '}');
    if (r == 0)
        r = audit_append(d->audit, AUDIT_ACTOR_SYSTEM, action, obj, b.data, b.len, NULL);
    if (r < 0)
        log_warnx("audit: incident %llu %s by triage not recorded: %s",
                  (unsigned long long)inc->id, changed ? "changed" : "opened", strerror(-r));
    buf_done(&b);
}

/* Warns when `path` (a file or directory the daemon reads again later:
 * on SIGHUP, after a log rotation, for a new incident's playbook) is not
 * readable by the user the daemon became. */
static void warn_unreadable(const char *what, const char *path, const char *user)
{
    /* A path that does not exist was already reported, as root. */
    if (path && path[0] && access(path, R_OK) < 0 && (errno == EACCES || errno == EPERM))
        log_warnx("%s %s: not readable by user %s (%s): %s", what, path, user,
                  strerror(errno), "hikeshi will fail to read it again after the start");
}

/* 1 (logged) when the directory of `path` (the audit key, rewritten at
 * each seal as it evolves; the exported head) is not writable by the user
 * the daemon became: the first seal would fail. */
/* 1 (logged) when archive.witness file `path` cannot be appended to by
 * `user`: the file, or its directory while it does not exist yet. */
static int witness_unwritable(const char *path, const char *user)
{
    char dir[4096], *slash;

    if (!path || access(path, W_OK) == 0)
        return 0;
    if (errno == ENOENT) {
        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        if (access(dir, W_OK | X_OK) == 0)
            return 0;
    }
    log_error("archive.witness file %s: user %s cannot append to it (%s): each seal is "
              "appended there",
              path, user, strerror(errno));
    return 1;
}

static int dir_unwritable(const char *path, const char *what, const char *user)
{
    char dir[4096];
    char *slash;

    if (!path)
        return 0;
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) == 0)
        return 0;
    log_error("%s %s: its directory %s is not writable by user %s (%s); each seal rewrites "
              "the file there",
              what, path, dir, user, strerror(errno));
    return 1;
}

/* 1 (logged) when the secret file `path` (a NATS seed or credentials
 * file, read again by libnats at every reconnect) is not readable by
 * `user`. */
static int secret_unreadable(const char *what, const char *path, const char *user)
{
    if (!path || access(path, R_OK) == 0)
        return 0;
    log_error("%s %s: not readable by user %s (%s), who must read it again at every reconnect "
              "to NATS; make it that user's (chown %s %s, mode 600)",
              what, path, user, strerror(errno), user, path);
    return 1;
}

/*
 * Least privilege, once every port is bound, every store and data file is
 * open and the firewall helper forked: become `id` (root only: id is NULL
 * otherwise) in every thread with no capabilities and no_new_privs, then
 * the seccomp filter unless security.seccomp is false.  Any failure is
 * fatal: a daemon half-dropped is worse than one that does not start.
 */
static int drop_privileges(struct daemon *d, const struct priv_id *id)
{
    const struct config *c = d->cfg;
    char err[512];
    unsigned extra = 0;
    int r;

    if (id && (r = priv_prepare_dir(id, c->data_dir, err, sizeof(err))) < 0) {
        log_error("%s", err);
        return r;
    }
    /* The archive makes its next segments there after the drop. */
    if (id && d->archive && (r = priv_prepare_dir(id, d->archive_dir, err, sizeof(err))) < 0) {
        log_error("%s", err);
        return r;
    }
    /* ... and the seal exporter its witnesses' state files. */
    if (id && parchive_witness(d->archive) &&
        (r = priv_prepare_dir(id, d->witness_dir, err, sizeof(err))) < 0) {
        log_error("%s", err);
        return r;
    }
    if ((r = priv_drop(id, err, sizeof(err))) < 0) {
        log_error("dropping privileges: %s", err);
        return r;
    }
    if (r == PRIV_DROPPED && id) {
        log_info("privileges: now user %s (uid %u), group %s (gid %u), no capabilities, "
                 "no_new_privs",
                 id->user, (unsigned)id->uid, id->group, (unsigned)id->gid);
        /* Everything under data_dir is opened again later (the API's and
         * the response's own store connections). */
        if (access(c->data_dir, R_OK | W_OK | X_OK) < 0) {
            log_error("data_dir %s: not usable by user %s after the drop (%s); every directory "
                      "above it must let that user through (mode o+x, or group)",
                      c->data_dir, id->user, strerror(errno));
            return -EACCES;
        }
        if (dir_unwritable(c->audit_key, "audit.key", id->user) ||
            dir_unwritable(c->audit_head, "audit.head", id->user) ||
            (d->archive_key && dir_unwritable(c->archive_key, "archive.key", id->user)))
            return -EACCES;
        for (size_t i = 0; parchive_witness(d->archive) && i < c->narchive_witness; i++)
            if (witness_unwritable(c->archive_witness[i].file, id->user))
                return -EACCES;
        /* libnats reads the seed again at every (re)connect, as this user */
        if (c->nats.role != CONFIG_ROLE_ALL &&
            (secret_unreadable("nats.nkey_seed_file", c->nats.nkey_seed_file, id->user) ||
             secret_unreadable("nats.credentials_file", c->nats.credentials_file, id->user)))
            return -EACCES;
        warn_unreadable("configuration", d->cfg_path, id->user);
        for (size_t i = 0; i < c->nsigma_rules; i++)
            warn_unreadable("sigma.rules", c->sigma_rules[i], id->user);
        warn_unreadable("sigma.mappings", c->sigma_mappings, id->user);
        warn_unreadable("triage.config", c->triage_config, id->user);
        warn_unreadable("respond.policy", c->respond_policy, id->user);
        warn_unreadable("incident.playbooks", c->playbooks_dir, id->user);
        for (size_t i = 0; i < c->ninputs; i++)
            if (c->inputs[i].conf.type == INPUT_FILE)
                warn_unreadable("file input", c->inputs[i].path, id->user);
    } else {
        log_info("privileges: not started as root: the uid stays %u; capabilities dropped, "
                 "no_new_privs set",
                 (unsigned)getuid());
    }
    if (!c->security_seccomp) {
        log_warnx("security.seccomp is false: no system call filter (for debugging only)");
        return 0;
    }
    if (d->respond) {
        const struct respond_policy *pol = respond_policy_of(d->respond);
        if (pol->actions_used & (RESPOND_ACTION_EXEC | RESPOND_ACTION_MAIL))
            extra |= PRIV_SECCOMP_SPAWN;
    }
    if ((r = priv_seccomp_daemon(extra, err, sizeof(err))) < 0) {
        log_error("%s", err);
        return r;
    }
    log_info("seccomp: system call filter on every thread%s; other calls fail with EPERM "
             "(logged by the kernel's audit)",
             extra & PRIV_SECCOMP_SPAWN ? " (with execve for the exec and mail actions)" : "");
    return 0;
}

/* Stops the collector's publisher (after the inputs: it drains the queue
 * and publishes what it can first) and the analyser's consumer. */
static void stop_cluster(struct daemon *d)
{
    if (d->pub && d->q)
        queue_close(d->q);
    cluster_pub_stop(d->pub);
    d->pub = NULL;
    cluster_sub_stop(d->sub);
    d->sub = NULL;
}

static void daemon_free(struct daemon *d)
{
    stop_inputs(d);
    stop_cluster(d);
    if (d->pipeline && d->q)
        pipeline_stop(d->pipeline, d->q);
    api_http_stop(d->http);
    /* Before the audit log and libcurl it uses go. */
    incident_clock_run_stop(d->clock);
    d->clock = NULL;
    comms_run_stop(d->comms);
    d->comms = NULL;
    free(d->templates_dir);
    d->templates_dir = NULL;
    intel_feed_run_stop(d->feeds);
    d->feeds = NULL;
    if (d->pipeline && d->store) {
        pipeline_flush(d->pipeline);
        pipeline_save_counters(d->pipeline);
        pipeline_save_state(d->pipeline);
    }
    /* After the inputs and the pipeline: nothing appends any more. */
    if (d->pipeline)
        pipeline_set_archive(d->pipeline, NULL);
    parchive_close(d->archive);
    d->archive = NULL;
    archive_key_free(d->archive_key);
    d->archive_key = NULL;
    /* After the pipeline: it offers triggers until it stops. */
    respond_free(d->respond);
    d->respond = NULL;
    /* Before libcurl goes; the shutdown seal's head is sent at the next
     * start (docs/audit.md). */
    pwitness_stop(d->audit_witness);
    d->audit_witness = NULL;
    if (d->curl_inited)
        respond_webhook_global_done();
    pipeline_free(d->pipeline);
    queue_free(d->q);
    if (d->alerts)
        fclose(d->alerts);
    store_free(d->store);
    /* The last seal covers everything the daemon wrote. */
    if (d->audit && d->audit_key && audit_seal(d->audit) < 0)
        log_error("audit: the shutdown seal was not written");
    audit_free(d->audit);
    archive_key_free(d->audit_key);
    free(d->inputs);
    free(d->istats);
    free(d->istats_ptr);
    free(d->itypes);
    config_free(d->cfg);
}

/* Equal strings, NULL equal only to NULL. */
static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int inputs_differ(const struct config *a, const struct config *b)
{
    if (a->ninputs != b->ninputs)
        return 1;
    for (size_t i = 0; i < a->ninputs; i++) {
        const struct config_input *x = &a->inputs[i], *y = &b->inputs[i];
        if (strcmp(x->name, y->name) != 0 || x->conf.type != y->conf.type ||
            (x->listen && y->listen && strcmp(x->listen, y->listen) != 0) ||
            (x->path && y->path && strcmp(x->path, y->path) != 0) ||
            x->conf.max_line != y->conf.max_line)
            return 1;
        /* Who may send, whether they are believed, the connection limits
         * and TLS are the running input's too: a change needs a restart. */
        if (x->conf.trust != y->conf.trust || x->npeers != y->npeers ||
            (x->npeers && memcmp(x->peers, y->peers, x->npeers * sizeof(*x->peers)) != 0) ||
            x->conf.max_connections != y->conf.max_connections ||
            x->conf.max_per_address != y->conf.max_per_address ||
            x->conf.idle_timeout_s != y->conf.idle_timeout_s || !str_eq(x->tls_cert, y->tls_cert) ||
            !str_eq(x->tls_key, y->tls_key) || !str_eq(x->tls_ca, y->tls_ca) ||
            x->ntls_fprs != y->ntls_fprs ||
            (x->ntls_fprs &&
             memcmp(x->tls_fprs, y->tls_fprs, x->ntls_fprs * INPUT_TLS_FPR_LEN) != 0))
            return 1;
    }
    return 0;
}

/* 1 when the feeds fetched by URL differ (the fetcher keeps its copy). */
/* 1 when archive.witness or archive.retention.inputs differ (read at
 * start only). */
static int archive_more_differ(const struct config *a, const struct config *b)
{
    if (a->narchive_witness != b->narchive_witness ||
        a->narchive_retention_inputs != b->narchive_retention_inputs)
        return 1;
    for (size_t i = 0; i < a->narchive_witness; i++) {
        const struct config_witness *x = &a->archive_witness[i], *y = &b->archive_witness[i];

        if (!str_eq(x->file, y->file) || !str_eq(x->url, y->url) ||
            !str_eq(x->secret_file, y->secret_file) || !str_eq(x->hikeshi, y->hikeshi) ||
            !str_eq(x->auth_header, y->auth_header))
            return 1;
    }
    for (size_t i = 0; i < a->narchive_retention_inputs; i++) {
        const struct config_retention_input *x = &a->archive_retention_inputs[i],
                                            *y = &b->archive_retention_inputs[i];

        if (strcmp(x->name, y->name) != 0 || x->max_age_s != y->max_age_s ||
            x->max_bytes != y->max_bytes)
            return 1;
    }
    return 0;
}

static int feeds_differ(const struct config *a, const struct config *b)
{
    if (a->nintel_feeds != b->nintel_feeds || !str_eq(a->intel_warninglists, b->intel_warninglists))
        return 1;
    for (size_t i = 0; i < a->nintel_feeds; i++) {
        const struct config_intel_feed *x = &a->intel_feeds[i], *y = &b->intel_feeds[i];

        if (!str_eq(x->name, y->name) || !str_eq(x->url, y->url) || x->format != y->format ||
            x->interval_us != y->interval_us || x->tlp != y->tlp ||
            x->confidence != y->confidence || !str_eq(x->auth_header, y->auth_header) ||
            !str_eq(x->ca_file, y->ca_file) || !str_eq(x->client_cert, y->client_cert) ||
            !str_eq(x->client_key, y->client_key))
            return 1;
    }
    return 0;
}

static int run_start_feeds(struct daemon *d, const struct config *c);

/* intel.feeds changed on SIGHUP: the fetcher is restarted with the new
 * list (each feed fetched at once).  A feed no longer listed keeps its
 * indicators until they expire.  When the new list does not start (its
 * warninglists unreadable, say), the previous one is fetched again. */
static void reload_feeds(struct daemon *d, struct config *nc)
{
    intel_feed_run_stop(d->feeds);
    d->feeds = NULL;
    if (nc->nintel_feeds && run_start_feeds(d, nc) < 0) {
        log_error("SIGHUP: intel.feeds not applied; fetching the previous feeds");
        if (d->cfg->nintel_feeds)
            (void)run_start_feeds(d, d->cfg); /* logged */
        return;
    }
    {
        struct config_intel_feed *f = d->cfg->intel_feeds;
        size_t n = d->cfg->nintel_feeds;
        char *w = d->cfg->intel_warninglists;

        /* the running list is the new one; nc frees the old */
        d->cfg->intel_feeds = nc->intel_feeds;
        d->cfg->nintel_feeds = nc->nintel_feeds;
        d->cfg->intel_warninglists = nc->intel_warninglists;
        nc->intel_feeds = f;
        nc->nintel_feeds = n;
        nc->intel_warninglists = w;
    }
    log_info("SIGHUP: intel.feeds applied (%zu feeds)", d->cfg->nintel_feeds);
}

static void reload(struct daemon *d)
{
    struct config *nc;
    struct parse_err err;
    int r;

    if (!d->cfg_path) {
        log_info("SIGHUP: running on built-in defaults; nothing to reload");
        return;
    }
    if (!d->pipeline) {
        log_info("SIGHUP: role collector has no rules to reload; restart it to apply changes");
        return;
    }
    r = config_load(d->cfg_path, &nc, &err);
    if (r < 0) {
        if (r == -EINVAL && err.msg) {
            char where[4096 + 512];

            ydoc_err_format(where, sizeof(where), d->cfg_path, &err);
            log_error("SIGHUP: %s; keeping the running configuration", where);
        } else {
            log_error("SIGHUP: %s: %s; keeping the running configuration", d->cfg_path,
                      strerror(-r));
        }
        return;
    }
    if ((r = pipeline_reload(d->pipeline, nc)) < 0) {
        log_error("SIGHUP: %s; keeping the running configuration", strerror(-r));
        config_free(nc);
        return;
    }
    log_set_level(nc->log_level);
    if (inputs_differ(d->cfg, nc))
        log_warnx("SIGHUP: the inputs changed; restart hikeshi to apply input changes "
                  "(rules, decoders and log level were reloaded)");
    if ((d->cfg->http_listen == NULL) != (nc->http_listen == NULL) ||
        (d->cfg->http_listen && strcmp(d->cfg->http_listen, nc->http_listen) != 0))
        log_warnx("SIGHUP: http.listen changed; restart hikeshi to apply it");
    if (strcmp(d->cfg->data_dir, nc->data_dir) != 0)
        log_warnx("SIGHUP: data_dir changed; restart hikeshi to apply it");
    if (d->cfg->archive_enabled != nc->archive_enabled ||
        d->cfg->archive_sync_ms != nc->archive_sync_ms ||
        d->cfg->archive_block_bytes != nc->archive_block_bytes ||
        d->cfg->archive_segment_bytes != nc->archive_segment_bytes ||
        d->cfg->archive_seal_records != nc->archive_seal_records ||
        d->cfg->archive_seal_interval_s != nc->archive_seal_interval_s ||
        d->cfg->archive_retention_max_age_s != nc->archive_retention_max_age_s ||
        d->cfg->archive_retention_max_bytes != nc->archive_retention_max_bytes ||
        d->cfg->archive_retention_interval_s != nc->archive_retention_interval_s ||
        !str_eq(d->cfg->archive_key, nc->archive_key) || archive_more_differ(d->cfg, nc))
        log_warnx("SIGHUP: archive settings changed; restart hikeshi to apply them");
    if (!str_eq(d->cfg->audit_head_url, nc->audit_head_url) ||
        !str_eq(d->cfg->audit_head_secret_file, nc->audit_head_secret_file))
        log_warnx("SIGHUP: audit.head_url changed; restart hikeshi to apply it");
    if (feeds_differ(d->cfg, nc))
        reload_feeds(d, nc);
    log_info("SIGHUP: reloaded %s (%zu rules)", d->cfg_path, pipeline_rules_loaded(d->pipeline));
    /* The running inputs keep pointing into the old config's strings, so
     * keep the old config for input settings and take the new one's copy
     * only for what was reloaded. */
    d->cfg->log_level = nc->log_level;
    d->cfg->tz_off_s = nc->tz_off_s;
    d->cfg->store_events = nc->store_events;
    config_free(nc);
}

/* A monitor without rules detects nothing while looking healthy: the
 * daemon refuses to start, saying where it looked and how to fix it
 * (an installed binary that finds no rules, a rules directory left empty).
 * Only `sigma: rules: []` in the file turns detection off on purpose. */
static int require_rules(const struct daemon *d)
{
    const struct config *c = d->cfg;
    const char *file = d->cfg_path ? d->cfg_path : "a configuration file (-c FILE)";
    char where[1024] = "";
    size_t off = 0;

    if (pipeline_rules_loaded(d->pipeline) > 0)
        return 0;
    if (c->sigma_explicit && c->nsigma_rules == 0) {
        log_warnx("Sigma detection is off (sigma.rules: [] in %s)", file);
        return 0;
    }
    for (size_t i = 0; i < c->nsigma_rules && off < sizeof(where); i++) {
        int n =
            snprintf(where + off, sizeof(where) - off, "%s%s", i ? ", " : "", c->sigma_rules[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    if (!c->sigma_explicit)
        log_error("no Sigma rules in %s (the default: ./rules when run from the top of a "
                  "source tree, else %s/rules, where `meson install` and the Debian package "
                  "put them); refusing to run without detection: install hikeshi, or name "
                  "rule directories in sigma.rules of %s",
                  where[0] ? where : "(none)", HIKESHI_DATADIR, file);
    else
        log_error("no Sigma rules in %s (sigma.rules of %s): no rule (*.yml) there loaded; "
                  "refusing to run without detection: put rules there, name the bundled "
                  "ones (%s/rules), or turn detection off with sigma.rules: []",
                  where, file, HIKESHI_DATADIR);
    return -ENOENT;
}

/* What the command line asked for, beyond the configuration path (which
 * goes straight into the daemon). */
struct run_opts {
    int check, verbose;
    const char *log_level; /* NULL: the file's */
    enum log_level lvl;    /* parsed log_level, when set */
};

/* Parses the options into *d and *o.  Returns -1 to go on, or the exit
 * code when the command ends here (--help, a usage error). */
static int run_parse_opts(int argc, char **argv, struct daemon *d, struct run_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'n'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"log-level", required_argument, NULL, 'L'},
        {"accept-truncated-audit", no_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:nvh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': d->cfg_path = optarg; break;
        case 'n': o->check = 1; break;
        case 'v': o->verbose = 1; break;
        case 'L': o->log_level = optarg; break;
        case 'T': d->accept_truncated_audit = 1; break;
        case 'h': fputs(run_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("run", "unknown or incomplete option");
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (o->log_level && log_level_parse(o->log_level, &o->lvl) < 0)
        return cli_usage_error("run", "log level must be error, warn, info or debug");
    return -1;
}

/* A file the daemon reads at start (a key, a certificate): "" or why not. */
static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
    if (!path || access(path, R_OK) == 0)
        return 0;
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    return -errno;
}

/* data_dir (made with its parents at start): an existing directory, or
 * the nearest ancestor that exists is a directory we may write in. */
static int check_data_dir(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    struct stat st;
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path)) {
        snprintf(err, errlen, "data_dir: empty or too long");
        return -EINVAL;
    }
    memcpy(path, dir, n + 1);
    while (stat(path, &st) < 0) {
        char *slash;
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(err, errlen, "data_dir %s: %s: %s", dir, path, strerror(errno));
            return -errno;
        }
        while (n > 1 && path[n - 1] == '/')
            path[--n] = '\0';
        if (!(slash = strrchr(path, '/'))) {
            snprintf(path, sizeof(path), ".");
            break;
        }
        n = slash == path ? 1 : (size_t)(slash - path);
        path[n] = '\0';
    }
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "data_dir %s: %s is not a directory", dir, path);
        return -ENOTDIR;
    }
    if (strcmp(path, dir) != 0 && access(path, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "data_dir %s: cannot be made in %s: %s", dir, path, strerror(errno));
        return -errno;
    }
    return 0;
}

/*
 * The paths of c that `run` needs at start and would stop on: data_dir
 * (or where it will be made), the named Sigma rules, the TLS files.  The
 * rules' content is checked by loading them (run_check).  Returns 0, or
 * -errno with err saying which key, which path and why.
 */
static int check_paths(const struct config *c, char *err, size_t errlen)
{
    int r;

    if ((r = check_data_dir(c->data_dir, err, errlen)) < 0)
        return r;
    for (size_t i = 0; c->sigma_explicit && i < c->nsigma_rules; i++)
        if ((r = check_readable("sigma.rules:", c->sigma_rules[i], err, errlen)) < 0)
            return r;
    if ((c->sigma_explicit &&
         (r = check_readable("sigma.mappings:", c->sigma_mappings, err, errlen)) < 0) ||
        (r = check_readable("http.tls_cert:", c->http.tls_cert, err, errlen)) < 0 ||
        (r = check_readable("http.tls_key:", c->http.tls_key, err, errlen)) < 0 ||
        (r = check_readable("audit.key:", c->audit_key, err, errlen)) < 0 ||
        (c->archive_enabled &&
         (r = check_readable("archive.key:", c->archive_key, err, errlen)) < 0))
        return r;
    if (c->triage_explicit && c->triage_config && c->triage_config[0] &&
        (r = check_readable("triage.config:", c->triage_config, err, errlen)) < 0)
        return r;
    for (size_t i = 0; i < c->ninputs; i++) {
        const struct config_input *in = &c->inputs[i];
        char what[256];
        const char *const files[3] = {in->tls_cert, in->tls_key, in->tls_ca};
        const char *const keys[3] = {"cert", "key", "ca"};

        for (int k = 0; k < 3; k++) {
            snprintf(what, sizeof(what), "input %s: tls.%s:", in->name, keys[k]);
            if ((r = check_readable(what, files[k], err, errlen)) < 0)
                return r;
        }
    }
    /* the nats: secrets as a collector or analyser reads them at start */
    if (c->nats.role != CONFIG_ROLE_ALL &&
        (r = cluster_nats_secrets_check(&c->nats, err, errlen)) < 0)
        return r;
    return 0;
}

/* -n: the playbooks, leak playbooks and procedures as the daemon's API
 * loads them, their faults logged as it logs them.  A bad file does not
 * stop run (it goes on without it), so neither does it fail the check: it
 * is a warning, counted. */
static void check_playbook_files(const struct config *c)
{
    struct playbook_set pb;
    struct playbook_leak_set leaks;
    struct procedure_set procs;
    unsigned faults;

    if (c->nats.role == CONFIG_ROLE_COLLECTOR) /* a collector has no incidents */
        return;
    playbook_set_init(&pb);
    playbook_leak_set_init(&leaks);
    procedure_set_init(&procs);
    faults = playbook_files_load(&pb, &leaks, &procs, c->playbooks_dir, c->procedures_file);
    playbook_set_done(&pb);
    playbook_leak_set_done(&leaks);
    procedure_set_done(&procs);
    if (faults)
        fprintf(stderr,
                "hikeshi: warning: %u fault%s in the incident files above (run goes on "
                "without what is at fault)\n",
                faults, faults == 1 ? "" : "s");
}

/* -n: checks the paths, loads the response policy, the rules, mappings and
 * triage options the configuration names, as `run` would, then prints the
 * configuration (-v) or says it is valid.  Frees d->cfg; returns the exit
 * code. */
static int run_check(struct daemon *d, int verbose)
{
    char err[4096 + 256];
    const char *file = d->cfg_path ? d->cfg_path : "(built-in defaults)";

    if (check_paths(d->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "hikeshi: %s: %s\n", file, err);
        config_free(d->cfg);
        return CLI_EXIT_USAGE;
    }
    if (d->cfg->respond_policy) {
        struct respond_policy *pol = NULL;
        struct parse_err pe;
        int r = respond_policy_load(d->cfg->respond_policy, &pol, &pe);

        if (r < 0) {
            char where[4096 + 512];

            if (r == -EINVAL && pe.msg) {
                ydoc_err_format(where, sizeof(where), d->cfg->respond_policy, &pe);
                fprintf(stderr, "hikeshi: %s\n", where);
            } else {
                fprintf(stderr, "hikeshi: response policy %s: %s\n", d->cfg->respond_policy,
                        pe.msg ? pe.msg : strerror(-r));
            }
            config_free(d->cfg);
            return CLI_EXIT_USAGE;
        }
        respond_policy_free(pol);
    }
    /* The rules as run loads them; only what goes wrong is logged. */
    log_set_level(LOG_LEVEL_WARN);
    check_playbook_files(d->cfg);
    d->pipeline = pipeline_new(d->cfg, NULL, NULL);
    if (!d->pipeline || require_rules(d) < 0) {
        fprintf(stderr, "hikeshi: configuration %s is not valid (above: why)\n", file);
        pipeline_free(d->pipeline);
        config_free(d->cfg);
        return CLI_EXIT_USAGE;
    }
    pipeline_free(d->pipeline);
    d->pipeline = NULL;
    if (verbose)
        config_print(d->cfg, stdout);
    else
        fprintf(stderr, "hikeshi: configuration %s is valid\n", file);
    config_free(d->cfg);
    return CLI_EXIT_OK;
}

/* Whom to become, looked up now: the helper forked later takes the same
 * identity, and after the drop the name service may be out of reach.
 * Sets *ret_have when started as root.  Returns -1 (logged) on failure. */
static int run_lookup_identity(const struct daemon *d, struct priv_id *ret_id, int *ret_have)
{
    char err[1024] = "";

    if (geteuid() == 0 || getuid() == 0) {
        if (priv_lookup(d->cfg->security_user, d->cfg->security_group, ret_id, err, sizeof(err)) <
            0) {
            log_error("%s%s%s", d->cfg_path ? d->cfg_path : "", d->cfg_path ? ": " : "", err);
            return -1;
        }
        *ret_have = 1;
        if (!d->cfg->security_user && strcmp(ret_id->user, "nobody") == 0)
            log_warnx("security.user: there is no user hikeshi here, so the daemon drops to "
                      "nobody, which other daemons share; create a system user (adduser "
                      "--system --group hikeshi) or name one in security.user");
    } else if (d->cfg->security_user) {
        log_info("security.user %s: not started as root, so the daemon stays uid %u",
                 d->cfg->security_user, (unsigned)getuid());
    }
    return 0;
}

/* Blocks the signals we wait for before any thread exists, so that every
 * thread inherits the mask and only sigwait() in the main thread sees
 * them. */
static void run_block_signals(sigset_t *ret_sigs)
{
    sigemptyset(ret_sigs);
    sigaddset(ret_sigs, SIGTERM);
    sigaddset(ret_sigs, SIGINT);
    sigaddset(ret_sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, ret_sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* exec and mail actions wait for their children: never ignore SIGCHLD. */
    signal(SIGCHLD, SIG_DFL);
}

/* Opens alerts_jsonl (relative to data_dir) for appending into d->alerts.
 * Returns -1 (logged) on failure. */
static int run_open_alerts(struct daemon *d)
{
    char path[4096];
    int fd;
    struct stat st;

    if (d->cfg->alerts_jsonl[0] == '/')
        snprintf(path, sizeof(path), "%s", d->cfg->alerts_jsonl);
    else
        snprintf(path, sizeof(path), "%s/%s", d->cfg->data_dir, d->cfg->alerts_jsonl);
    /* 0640 on create, and tightened if an older run left it readable by
     * everyone: alerts name the organisation's weak spots. */
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0027) != 0)
        (void)fchmod(fd, st.st_mode & 0740);
    d->alerts = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!d->alerts) {
        log_warn("alerts file %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return 0;
}

/*
 * Turns on the audit log's seals (audit.key, audit.head) and checks the log
 * against what was sealed before: a log cut or rewritten since refuses the
 * start unless --accept-truncated-audit, which is then recorded in the log
 * and sealed at once.  Returns -1 (logged) on failure.
 */
static int run_seal_audit(struct daemon *d, const char *path)
{
    const struct config *c = d->cfg;
    struct audit_seal_opts so = {
        .seal_entries = c->audit_seal_entries,
        .seal_us = (int64_t)c->audit_seal_interval_s * 1000000,
        .head_path = c->audit_head,
    };
    struct audit_cut cut;
    const char *why = NULL;
    char det[512];
    int r, n;

    if (!c->audit_key && !c->audit_head)
        return 0;
    if (c->audit_key) {
        if ((r = archive_key_load(c->audit_key, &d->audit_key, &why)) < 0) {
            log_error("audit.key %s: %s%s", c->audit_key, why ? why : strerror(-r),
                      r == -ENOENT ? " (make one with hikeshi audit keygen)" : "");
            return -1;
        }
        so.key = d->audit_key;
    }
    if ((r = audit_seal_start(d->audit, &so, &cut)) < 0) {
        log_error("audit log %s: %s", path, cut.why[0] ? cut.why : strerror(-r));
        return -1;
    }
    if (cut.found == AUDIT_OK) {
        log_info("audit: %s sealed%s%s (%llu seals so far)", path,
                 c->audit_key ? " with " : "", c->audit_key ? c->audit_key : " (no key)",
                 (unsigned long long)cut.seals);
        return 0;
    }
    if (!d->accept_truncated_audit) {
        log_error("audit log %s: %s. Refusing to start: run hikeshi audit verify, keep the "
                  "damaged log as evidence, and start with --accept-truncated-audit to continue "
                  "from what is there (the acceptance is recorded in the log)",
                  path, cut.why);
        return -1;
    }
    log_warnx("audit log %s: %s; accepted (--accept-truncated-audit)", path, cut.why);
    n = snprintf(det, sizeof(det),
                 "{\"found\":\"%s\",\"expected\":%llu,\"entries\":%llu,\"seals\":%llu}",
                 cut.found == AUDIT_CUT ? "truncated" : "rewritten",
                 (unsigned long long)cut.expected, (unsigned long long)cut.entries,
                 (unsigned long long)cut.seals);
    audit_seal_release(d->audit);
    if ((r = audit_append(d->audit, AUDIT_ACTOR_SYSTEM, "audit.truncation_accepted", "audit", det,
                          (size_t)n, NULL)) < 0 ||
        (r = audit_seal(d->audit)) < 0) {
        log_error("audit log %s: recording the accepted truncation: %s", path, strerror(-r));
        return -1;
    }
    return 0;
}

/* libcurl, once, for whatever sends: -1 (logged) when it does not start. */
static int run_curl(struct daemon *d, const char *who)
{
    if (d->curl_inited)
        return 0;
    if (respond_webhook_global_init() < 0) {
        log_error("%s: libcurl did not initialise", who);
        return -1;
    }
    d->curl_inited = 1;
    return 0;
}

/* audit.head_url: the head exporter's thread.  -1 (logged) on failure. */
static int run_start_head_export(struct daemon *d)
{
    const struct config *c = d->cfg;
    int r;

    if (!c->audit_head_url)
        return 0;
    if (run_curl(d, "audit.head_url") < 0)
        return -1;
    if ((r = pwitness_start_head(c->audit_head, c->audit_head_url, c->audit_head_secret_file,
                                 &d->audit_witness)) < 0) {
        log_error("audit.head_url %s: %s", c->audit_head_url, strerror(-r));
        return -1;
    }
    return 0;
}

/* Opens DATA_DIR/audit.log into d->audit.  Returns -1 (logged) on failure. */
static int run_open_audit(struct daemon *d)
{
    char path[4096];
    struct audit_result ar;
    int r;

    snprintf(path, sizeof(path), "%s/audit.log", d->cfg->data_dir);
    if ((r = audit_open(path, &d->audit, &ar)) < 0) {
        log_error("audit log %s: %s%s%s", path,
                  r == -EWOULDBLOCK ? "another process writes it" : strerror(-r),
                  ar.why != AUDIT_OK ? "; chain broken: " : "",
                  ar.why != AUDIT_OK ? audit_why_name(ar.why) : "");
        return -1;
    }
    if (run_seal_audit(d, path) < 0)
        return -1;
    return run_start_head_export(d);
}

/* Creates the response engine into d->respond (before any thread: it may
 * fork the firewall helper).  The peers that send us logs are never
 * blocked (docs/respond.md), so their addresses go along as text.
 * Returns -1 (logged) on failure. */
static int run_new_respond(struct daemon *d)
{
    struct respond_opts ro = {
        .policy_path = d->cfg->respond_policy,
        .data_dir = d->cfg->data_dir,
        .audit = d->audit,
    };
    const struct respond_policy *pol;
    char(*peer_text)[CIDR_TEXT_MAX] = NULL;
    const char **peers = NULL;
    size_t npeers = 0;
    char err[1024] = "";
    int rr;

    for (size_t i = 0; i < d->cfg->ninputs; i++)
        npeers += d->cfg->inputs[i].npeers;
    if (npeers && (!(peer_text = calloc(npeers, sizeof(*peer_text))) ||
                   !(peers = calloc(npeers, sizeof(*peers))))) {
        free(peer_text);
        log_error("out of memory");
        return -1;
    }
    npeers = 0;
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        for (size_t j = 0; peers && j < d->cfg->inputs[i].npeers; j++, npeers++)
            peers[npeers] = cidr_format(&d->cfg->inputs[i].peers[j], peer_text[npeers],
                                        sizeof(peer_text[npeers]));
    ro.log_peers = peers;
    ro.nlog_peers = npeers;

    if (respond_webhook_global_init() < 0) {
        log_error("response: libcurl did not initialise");
        free(peers);
        free(peer_text);
        return -1;
    }
    d->curl_inited = 1;
    rr = respond_new(&ro, &d->respond, err, sizeof(err));
    free(peers);
    free(peer_text);
    if (rr < 0) {
        log_error("response: %s", err);
        return -1;
    }
    pol = respond_policy_of(d->respond);
    log_info("response: policy %s, %zu rules, %s", d->cfg->respond_policy, pol->nrules,
             pol->dry_run ? "DRY RUN (decisions are logged, nothing is done)"
             : (pol->actions_used & RESPOND_ACTION_BLOCK)
                 ? "active; blocks go to the nftables sets of the helper process"
                 : "active");
    return 0;
}

/* Starts the HTTP endpoint on http.listen into d->http, reading the
 * daemon's stages.  A collector's serves only /metrics (its publisher's
 * counters; no store: the API and accounts are the analysers').  Returns
 * -1 (logged) on failure. */
static int run_start_http(struct daemon *d)
{
    struct api_sources src = {
        .pipeline = d->pipeline,
        .queue = d->q,
        .input_stats = d->istats_ptr,
        .input_types = d->itypes,
        .ninputs = (uint32_t)d->ninputs,
        .started_us = time_now_us(),
        .data_dir = d->cfg->data_dir,
        .audit = d->audit,
        .playbooks_dir = d->cfg->playbooks_dir,
        .targets = d->cfg->targets,
        .ntargets = d->cfg->ntargets,
        .respond = d->respond,
        .token_ttl_s = d->cfg->http_token_ttl_s,
        .http = &d->cfg->http,
        .cfg = d->cfg,
        .nats_sub = d->sub ? cluster_sub_stats(d->sub) : NULL,
        .nats_pub = d->pub ? cluster_pub_stats(d->pub) : NULL,
    };
    char err[1024] = "";

    if (d->pub) {
        src.data_dir = NULL;
        src.playbooks_dir = NULL;
        src.cfg = NULL;
    }
    if (api_http_start(d->cfg->http_listen, &src, &d->http, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -1;
    }
    log_info("http: listening on %s, port %u, %s (%s)", d->cfg->http_listen, api_http_port(d->http),
             api_http_tls(d->http) ? "HTTPS" : "HTTP",
             d->pub ? "/metrics only: a collector"
                    : "/metrics, /api/v1/: docs/api.md; the web console at /");
    return 0;
}

/* A feed fetched by URL was imported: the matcher is reloaded (from the
 * feed thread; d->cfg's data_dir only, which does not change). */
static void on_feed_updated(void *ctx, const char *feed)
{
    struct daemon *d = ctx;

    (void)feed;
    if (pipeline_reload_intel(d->pipeline, d->cfg) < 0)
        log_warnx("intel: out of memory reloading the indicators; keeping the loaded ones");
}

/* Starts the fetcher of c's intel.feeds (copied): its own store
 * connection; libcurl initialised here when the response side has not.
 * -1 (logged) on failure. */
static int run_start_feeds(struct daemon *d, const struct config *c)
{
    const struct intel_feed_run_opts o = {
        .data_dir = d->cfg->data_dir,
        .feeds = c->intel_feeds,
        .nfeeds = c->nintel_feeds,
        .warninglists = c->intel_warninglists,
        .updated = on_feed_updated,
        .ctx = d,
    };
    char err[1024] = "";

    if (!d->curl_inited) {
        if (respond_webhook_global_init() < 0) {
            log_error("intel.feeds: libcurl did not initialise");
            return -1;
        }
        d->curl_inited = 1;
    }
    if (intel_feed_run_start(&o, &d->feeds, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -1;
    }
    log_info("intel: %zu feed(s) fetched by URL", c->nintel_feeds);
    return 0;
}

/* Starts the escalation clock (incident.escalation): its own store
 * connection and the webhook secret are opened here, before privileges
 * are dropped.  Returns -1 (logged) on failure. */
static int run_start_clock(struct daemon *d)
{
    const struct incident_clock_run_opts o = {
        .data_dir = d->cfg->data_dir,
        .audit = d->audit,
        .targets = d->cfg->targets,
        .ntargets = d->cfg->ntargets,
        .esc = &d->cfg->escalation,
        .smtp = d->cfg->messages.smtp,
        .from = d->cfg->messages.from,
    };
    char err[1024] = "";

    if (!d->curl_inited) {
        if (respond_webhook_global_init() < 0) {
            log_error("escalation: libcurl did not initialise");
            return -1;
        }
        d->curl_inited = 1;
    }
    if (incident_clock_run_start(&o, &d->clock, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -1;
    }
    log_info("escalation: notice %llds before each phase's deadline, then up the chain; %zu "
             "webhook(s)",
             (long long)(d->cfg->escalation.lead_us / 1000000), d->cfg->escalation.nnotify);
    return 0;
}

/* Starts the deliverer of messages (incident.messages): its store
 * connection and secret are opened here, before privileges are dropped.
 * The drafting side (the API's) learns the templates and the webhook
 * allowlist first.  Returns -1 (logged) on failure. */
static int run_start_comms(struct daemon *d)
{
    const struct config_messages *m = &d->cfg->messages;
    struct comms_run_opts o = {.data_dir = d->cfg->data_dir, .audit = d->audit, .msg = m};
    struct message_case_conf mc = {
        .webhook_allow = (const char *const *)m->webhook_allow,
        .nwebhook_allow = m->nwebhook_allow,
    };
    char err[1024] = "";

    if (d->cfg->playbooks_dir &&
        asprintf(&d->templates_dir, "%s/messages", d->cfg->playbooks_dir) < 0) {
        d->templates_dir = NULL;
        log_error("messages: out of memory");
        return -1;
    }
    mc.templates_dir = d->templates_dir;
    o.templates_dir = d->templates_dir;
    message_case_configure(&mc);
    if (!d->curl_inited) {
        if (respond_webhook_global_init() < 0) {
            log_error("messages: libcurl did not initialise");
            return -1;
        }
        d->curl_inited = 1;
    }
    if (comms_run_start(&o, &d->comms, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -1;
    }
    log_info("messages: delivering approved messages (smtp %s, %u attempts each); templates in %s",
             m->smtp ? m->smtp : "not set", m->attempts,
             d->templates_dir ? d->templates_dir : "(built in)");
    return 0;
}

/*
 * Opens DATA_DIR/archive for the records of every input, appended as they
 * enter the queue (the queue's push hook), with archive.key's seals when
 * it is set.  Returns -1 (logged) on failure.
 */
static int run_open_archive(struct daemon *d)
{
    const struct config *c = d->cfg;
    const char **names = NULL;
    const char *why = NULL;
    struct parchive_opts o = {
        .dir = d->archive_dir,
        .sync_ms = c->archive_sync_ms,
        .wo =
            {
                .block_bytes = (size_t)c->archive_block_bytes,
                .segment_bytes = c->archive_segment_bytes,
                .seal_records = c->archive_seal_records,
                .seal_us = (int64_t)c->archive_seal_interval_s * 1000000,
            },
        .ninputs = (uint32_t)c->ninputs,
        .retention =
            {
                .max_age_us = (int64_t)c->archive_retention_max_age_s * 1000000,
                .max_bytes = c->archive_retention_max_bytes,
            },
        .retention_every_us = (int64_t)c->archive_retention_interval_s * 1000000,
        .witness = c->archive_witness,
        .nwitness = c->narchive_witness,
        .witness_state_dir = d->witness_dir,
    };
    struct archive_retention_input *rin = NULL;
    long nrin;
    int r, n;

    n = snprintf(d->archive_dir, sizeof(d->archive_dir), "%s/archive", c->data_dir);
    if (n >= 0 && (size_t)n < sizeof(d->archive_dir))
        n = snprintf(d->witness_dir, sizeof(d->witness_dir), "%s/archive.witness", c->data_dir);
    if (n < 0 || (size_t)n >= sizeof(d->witness_dir)) {
        log_error("data_dir %s: too long for the archive's directory", c->data_dir);
        return -1;
    }
    if (c->archive_key) {
        if (cli_path_inside(c->archive_key, c->data_dir)) {
            log_error("archive.key %s is inside data_dir (%s): the signing key must live outside "
                      "the data it seals",
                      c->archive_key, c->data_dir);
            return -1;
        }
        if ((r = archive_key_load(c->archive_key, &d->archive_key, &why)) < 0) {
            log_error("archive.key %s: %s%s", c->archive_key, why ? why : strerror(-r),
                      r == -ENOENT ? " (make one with hikeshi archive keygen)" : "");
            return -1;
        }
    }
    if (!(names = calloc(c->ninputs + 1, sizeof(*names)))) {
        log_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < c->ninputs; i++)
        names[i] = c->inputs[i].name;
    o.input_names = names;
    o.key = d->archive_key;
    if ((nrin = cli_retention_inputs(c, &rin)) < 0) {
        free(names);
        log_error("out of memory");
        return -1;
    }
    o.retention.inputs = rin;
    o.retention.ninputs = (size_t)nrin;
    for (size_t i = 0; i < c->narchive_witness; i++)
        if ((c->archive_witness[i].url || c->archive_witness[i].hikeshi) &&
            run_curl(d, "archive.witness") < 0) {
            free(rin);
            free(names);
            return -1;
        }
    r = parchive_open(&o, &d->archive); /* logs what it found, or why not */
    free(rin);
    free(names);
    if (r == -ENOMEM)
        return -1;
    if (r < 0) {
        /* A damaged archive must not stop ingest: the records are still
         * processed and stored, only not archived, until it is repaired. */
        log_error("archive %s: not kept in this run; records are processed without being "
                  "archived (hikeshi archive verify says where it is damaged)",
                  d->archive_dir);
        archive_key_free(d->archive_key);
        d->archive_key = NULL;
        return 0;
    }
    char sync[64] = "record";

    if (c->archive_sync_ms)
        snprintf(sync, sizeof(sync), "%llu ms", (unsigned long long)c->archive_sync_ms);
    if (d->archive_key)
        log_info("archive %s: sealed with %s (epoch %llu); archive.sync: every %s",
                 d->archive_dir, c->archive_key,
                 (unsigned long long)archive_key_epoch(d->archive_key), sync);
    else
        log_info("archive %s: unsealed (no archive.key): records are kept and hash-chained but "
                 "not signed (hikeshi archive keygen makes a key); archive.sync: every %s",
                 d->archive_dir, sync);
    queue_set_push_hook(d->q, parchive_push_hook, d->archive);
    if (d->pipeline)
        pipeline_set_archive(d->pipeline, d->archive);
    return 0;
}

/* Processes what the archive holds after the pipeline's committed cursor
 * (a crash's unprocessed records) before any input runs.  File inputs are
 * passed over: they resume at their own saved offset and read those lines
 * again.  Returns -1 (logged) on failure. */
static int run_replay_archive(struct daemon *d)
{
    unsigned char *skip = calloc(d->cfg->ninputs + 1, 1);
    int r;

    if (!skip) {
        log_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < d->cfg->ninputs; i++)
        skip[i] = d->cfg->inputs[i].conf.type == INPUT_FILE;
    r = pipeline_replay_archive(d->pipeline, skip);
    free(skip);
    return r < 0 ? -1 : 0;
}

/* role: collector: the queue and the archive (and the store, opened by
 * run_open, for the file inputs' offsets and the published cursor); no
 * pipeline, rules, response or alerts: the analysers do that. */
static int run_open_collector(struct daemon *d)
{
    if (!(d->q = rec_batch_queue_new(d->cfg->queue))) {
        log_error("out of memory");
        return -1;
    }
    if (run_open_archive(d) < 0)
        return -1;
    if (!d->archive) {
        log_error("role: collector: the archive did not open (above: why); records would have "
                  "nowhere to wait for the stream's acks");
        return -1;
    }
    return 0;
}

/* Opens what the daemon writes (data_dir, the store, the alerts file, the
 * audit log) and creates the response engine, the queue and the pipeline.
 * Returns -1 (logged) on failure, or the exit code CLI_EXIT_USAGE when no
 * rule loaded. */
static int run_open(struct daemon *d)
{
    char *store_err = NULL, err[4096 + 256];
    int r;

    if (check_paths(d->cfg, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -1;
    }
    if ((r = mkdir_p(d->cfg->data_dir)) < 0) {
        log_error("data_dir %s: %s", d->cfg->data_dir, strerror(-r));
        return -1;
    }
    if ((r = store_open(d->cfg->data_dir, &d->store, &store_err)) < 0) {
        log_error("store in %s: %s", d->cfg->data_dir, store_err ? store_err : strerror(-r));
        free(store_err);
        return -1;
    }
    if (d->cfg->nats.role == CONFIG_ROLE_COLLECTOR)
        return run_open_collector(d);
    if (d->cfg->alerts_jsonl && run_open_alerts(d) < 0)
        return -1;
    if (run_open_audit(d) < 0)
        return -1;
    if (d->cfg->respond_policy && run_new_respond(d) < 0)
        return -1;
    if (!(d->q = rec_batch_queue_new(d->cfg->queue))) {
        log_error("out of memory");
        return -1;
    }
    /* pipeline_new says why it failed (rules that do not load, say). */
    if (!(d->pipeline = pipeline_new(d->cfg, d->store, d->alerts)))
        return -1;
    if (require_rules(d) < 0)
        return CLI_EXIT_USAGE;
    /* An analyser's records were archived by their collector. */
    if (d->cfg->archive_enabled && d->cfg->nats.role == CONFIG_ROLE_ALL && run_open_archive(d) < 0)
        return -1;
    return 0;
}

/* Starts the threads: the response engine, the pipeline, the inputs and
 * the HTTP endpoint.  Returns -1 (logged) on failure. */
static int run_start(struct daemon *d)
{
    char err[1024] = "";
    int r;

    if (d->cfg->nats.role == CONFIG_ROLE_COLLECTOR) {
        /* publisher first: it frees what the inputs queue */
        if (cluster_pub_start(d->cfg, d->q, d->archive, d->store, &d->pub) < 0)
            return -1;
        if (d->cfg->http_listen && run_start_http(d) < 0)
            return -1;
        return start_inputs(d);
    }
    pipeline_set_incident_cb(d->pipeline, audit_incident, d);
    if (d->respond) {
        if (respond_start(d->respond, err, sizeof(err)) < 0) {
            log_error("%s", err);
            return -1;
        }
        if (pipeline_set_respond(d->pipeline, d->respond) < 0) {
            log_error("out of memory");
            return -1;
        }
    }
    if (d->archive && run_replay_archive(d) < 0)
        return -1;
    if (d->cfg->nats.role == CONFIG_ROLE_ANALYSER) {
        /* no inputs and no pipeline thread: the stream's partitions feed
         * the pipeline from the consumer's thread */
        if (cluster_sub_start(d->cfg, d->pipeline, d->store, &d->sub) < 0)
            return -1;
    } else {
        if ((r = pipeline_start(d->pipeline, d->q)) < 0) {
            log_error("pipeline thread: %s", strerror(-r));
            return -1;
        }
        if (start_inputs(d) < 0)
            return -1;
    }
    if (d->cfg->http_listen && run_start_http(d) < 0)
        return -1;
    if (d->cfg->escalation.enabled && run_start_clock(d) < 0)
        return -1;
    if (d->cfg->messages.enabled && run_start_comms(d) < 0)
        return -1;
    return 0;
}

/* The main thread's life once everything runs: SIGHUP reloads, SIGTERM
 * and SIGINT end it.  Then stops the inputs and the pipeline (which
 * drains the queue) and returns the exit code: a store error fails. */
static int run_wait(struct daemon *d, const sigset_t *sigs)
{
    const struct pipeline_stats *ps;

    for (;;) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(sigs, NULL, &tick);

        /* Once a second: seal an idle audit log when its time is up. */
        if (sig < 0) {
            if (errno == EAGAIN && d->audit_key)
                (void)audit_tick(d->audit, time_now_us());
            continue;
        }
        if (sig == SIGHUP) {
            reload(d);
            continue;
        }
        log_info("%s: draining queues and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    stop_inputs(d);
    stop_cluster(d);
    if (!d->pipeline)
        return CLI_EXIT_OK; /* a collector */
    pipeline_stop(d->pipeline, d->q);
    ps = pipeline_stats(d->pipeline);
    log_info("stopped: %llu events stored, %llu alerts, %llu store errors",
             (unsigned long long)atomic_load(&ps->stored),
             (unsigned long long)atomic_load(&ps->alerts),
             (unsigned long long)atomic_load(&ps->store_errors));
    return atomic_load(&ps->store_errors) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_run_main(int argc, char **argv)
{
    struct daemon d;
    struct run_opts o = {0};
    int r, rc = CLI_EXIT_FAIL;
    sigset_t sigs;
    struct priv_id priv_id;
    int have_priv_id = 0;

    memset(&d, 0, sizeof(d));
    if ((r = run_parse_opts(argc, argv, &d, &o)) >= 0)
        return r;
    d.cfg = cli_load_config(d.cfg_path);
    if (!d.cfg)
        return CLI_EXIT_USAGE;
    /* The bundled policy may be missing (a binary run outside its source
     * tree and not installed): response is then off, as triage falls back
     * to its built-in options.  A policy named in the file must load. */
    if (d.cfg->respond_policy && !d.cfg->respond_explicit &&
        access(d.cfg->respond_policy, F_OK) != 0) {
        if (!o.check)
            log_warnx("response: the bundled policy %s is not there; automatic response is off",
                      d.cfg->respond_policy);
        free(d.cfg->respond_policy);
        d.cfg->respond_policy = NULL;
    }
    if (o.check)
        return run_check(&d, o.verbose);
    log_set_level(o.log_level ? o.lvl : d.cfg->log_level);
    if (d.cfg->log_syslog)
        log_to_syslog("hikeshi");
    /* Data files are the daemon's and its group's (0640 and 0750 at most),
     * whatever umask the caller had. */
    umask(027);
    if (run_lookup_identity(&d, &priv_id, &have_priv_id) < 0)
        goto out;
    priv_set_target(have_priv_id ? &priv_id : NULL, d.cfg->security_seccomp);
    run_block_signals(&sigs);
    if ((r = run_open(&d)) != 0) {
        if (r > 0)
            rc = r;
        goto out;
    }
    if (run_start(&d) < 0)
        goto out;
    /* Every port is bound, the store and files are open, the keys read and
     * the helper forked: nothing more needs root. */
    if (drop_privileges(&d, have_priv_id ? &priv_id : NULL) < 0)
        goto out;
    /* After the drop: the fetcher writes data_dir/intel-feeds as the
     * daemon's user, and fetches nothing as root.  A collector matches
     * nothing: the analysers fetch the feeds. */
    if (d.cfg->nintel_feeds && !d.pipeline)
        log_info("intel.feeds: role %s matches no indicators; not fetched here",
                 config_role_name(d.cfg->nats.role));
    else if (d.cfg->nintel_feeds && run_start_feeds(&d, d.cfg) < 0)
        goto out;
    log_info("hikeshi %s ready: data in %s, role %s, %zu inputs, %zu rules", HIKESHI_VERSION,
             d.cfg->data_dir, config_role_name(d.cfg->nats.role),
             d.cfg->nats.role == CONFIG_ROLE_ANALYSER ? (size_t)0 : d.cfg->ninputs,
             d.pipeline ? pipeline_rules_loaded(d.pipeline) : (size_t)0);
    rc = run_wait(&d, &sigs);
out:
    daemon_free(&d);
    return rc;
}
