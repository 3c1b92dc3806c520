/*
 * cli_incident.c - `hikeshi incident list|show|update|note|report|observable`: the
 * command line's view of the CSIRT's record, an HTTP client of the daemon's
 * API (docs/api.md) and nothing else.  It never opens the store itself, so
 * every change goes through the same checks, timeline and audit log as the
 * web console's.
 *
 * HTTP is libcurl's easy interface, one handle reused for the few requests
 * a command makes.  Answers are JSON; the few fields we need are read with
 * util/jp (see below), and --json prints the server's text as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/api_http.h"
#include "build_config.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "util/buf.h"
#include "util/jp.h"

/* Most bytes of one answer we hold: a full list page of 500 incidents is a
 * few MiB at most, so more means something is wrong on the other side. */
#define INCIDENT_CLI_BODY_MAX (16u * 1024 * 1024)
/* Seconds a request (connection included) may take. */
#define INCIDENT_CLI_TIMEOUT 10L
/* The API's bound on a note's text, in bytes. */
#define INCIDENT_CLI_NOTE_MAX 8192
/* Longest token accepted from a file or the environment. */
#define INCIDENT_CLI_TOKEN_MAX 512

static const char incident_usage[] =
    "usage: hikeshi incident [-c CONFIG] [--url URL] [--token-file FILE] COMMAND ...\n"
    "\n"
    "Works on incidents through the daemon's HTTP API.\n"
    "\n"
    "  list [--phase P] [--type T] [--level L] [--overdue] [--limit N] [--offset N] [--json]\n"
    "        incidents, most urgent first (level, Red first, then the nearest deadline),\n"
    "        as a table (id, level, category, phase, type,\n"
    "        assignee, time left in the phase or how long overdue, title); --json\n"
    "        prints the server's answer as it is.  --limit 1 to 500 (server default 50).\n"
    "  show ID [--json]\n"
    "        every field of the incident, its deadline and triage's proposal, then\n"
    "        its tasks and its timeline; --json prints one object\n"
    "        {\"incident\": ..., \"tasks\": [...], \"timeline\": [...]}.\n"
    "  update ID [--phase P] [--level L] [--type T] [--category C] [--leak-type K]\n"
    "            [--assignee NAME | --unassign] [--title T] [--summary S] [--reason R]\n"
    "        reads the incident's version and changes it in one PATCH; prints the new\n"
    "        phase, level and version.  If someone changed it in between, nothing is\n"
    "        changed: run the command again.  A decision that is the incident's\n"
    "        responsible person's (closing the emergency phase or the incident,\n"
    "        Orange or Red) asked by someone else is not applied but waits for their\n"
    "        approval: the approval's id is printed.  --leak-type (loss-theft,\n"
    "        misdelivery, insider, p2p, malware, unauthorised-access, rumour) adds that\n"
    "        leak playbook's tasks the first time; 'none' clears it.\n"
    "  note ID TEXT\n"
    "        adds a note (1 to 8192 bytes); TEXT '-' reads standard input.\n"
    "  report ID first|interim1|interim2|final [--format md|html] [-o FILE]\n"
    "        generates the next version of that report and writes its text (Markdown\n"
    "        by default) to standard output or to FILE (created with mode 0600).\n"
    "  observable ID [--json]\n"
    "        the incident's observables (id, type, value, origin, who, the other\n"
    "        incidents holding it) and the incidents they link it to.\n"
    "  observable ID add TYPE VALUE [--note TEXT]\n"
    "        adds an observable: TYPE ipv4, ipv6, domain, hostname, url, email, md5,\n"
    "        sha1, sha256, ja3, ja4, user-agent, regkey, process or user.\n"
    "  observable ID rm OBS\n"
    "        removes observable OBS.\n"
    "  observable ID promote OBS --tlp TLP [--confidence N]\n"
    "        makes observable OBS an indicator of the feed 'local' (TLP CLEAR, GREEN,\n"
    "        AMBER, AMBER+STRICT or RED; confidence 0 to 100, default 80).\n"
    "\n"
    "  -c, --config FILE      take the daemon's address from FILE's http.listen\n"
    "                         (default 127.0.0.1:8080); over HTTPS when the daemon\n"
    "                         serves it, trusting http.tls_cert or DATA_DIR/http.crt\n"
    "      --url URL          the daemon's base URL, e.g. http://127.0.0.1:8080\n"
    "      --token-file FILE  read the API token from FILE's first line; otherwise\n"
    "                         from the environment variable HIKESHI_TOKEN\n"
    "  -h, --help             show this help\n"
    "\n"
    "A token comes from 'hikeshi user add --role analyst NAME' (viewers may only\n"
    "list and show).  Use '--' before a TEXT that starts with '-'.\n"
    "\n"
    "Exit status: 0 done, 1 the daemon refused or could not be reached (its reason\n"
    "is printed), 2 usage errors or no token.\n";

/* ---- reading the server's JSON ------------------------------------------
 *
 * The answers are read with util/jp, the same strict bounded reader the
 * daemon uses for request bodies: jp_doc checks a whole answer once, spans
 * point into the answer's buffer, and jp_text decodes a value for the
 * terminal (control characters never reach it).
 */

/* The integer member `key` of `obj`: 0, -ENOENT, or -EINVAL. */
static int member_int(struct jp_span obj, const char *key, long long *ret)
{
    struct jp_span v = {"", 0};
    int64_t x;
    int r = jp_lookup(obj, key, &v);

    if (r < 0)
        return r;
    if ((r = jp_span_i64(v, &x)) < 0)
        return r;
    *ret = (long long)x;
    return 0;
}

/* The display text of obj[key] in `out` (reset first), "-" when absent or
 * null.  Returns out->data (never NULL unless out of memory). */
static const char *member_text(struct jp_span obj, const char *key, struct buf *out)
{
    struct jp_span v = {"", 0};

    buf_reset(out);
    if (jp_lookup(obj, key, &v) < 0 || jp_text(v, out, 0) != 0 || out->len == 0) {
        buf_reset(out);
        buf_putc(out, '-');
    }
    return out->data ? out->data : "-";
}

/* Columns a UTF-8 string takes, counting one per code point. */
static size_t text_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* ---- HTTP ---------------------------------------------------------------- */

/* One daemon, one user: the handle and headers all requests share. */
struct client {
    CURL *curl;
    char base[1024];           /* "http://host:port[/prefix]", no trailing '/' */
    struct curl_slist *hdr;    /* Authorization, Accept */
    struct curl_slist *hdr_js; /* the same plus Content-Type: application/json */
    struct buf *sink;          /* where the answer being received goes */
    int too_big;               /* the answer passed INCIDENT_CLI_BODY_MAX */
    char errbuf[CURL_ERROR_SIZE];
    char cainfo[4096]; /* the daemon's certificate to trust over HTTPS; "": the system's */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct client *c = arg;

    if (buf_append(c->sink, p, size * n) < 0) {
        c->too_big = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return size * n;
}

/*
 * Sends METHOD base+path (with a JSON `body` when not NULL) and leaves the
 * answer in `out` (reset first) and its status in *ret_status.  0 when an
 * answer came, whatever its status; otherwise prints why on stderr (the
 * daemon not reachable, a timeout, an answer too large) and returns -EIO.
 */
static int client_call(struct client *c, const char *method, const char *path, const char *body,
                       struct buf *out, long *ret_status)
{
    char url[2048];
    CURLcode e;

    if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path) >= sizeof(url)) {
        fprintf(stderr, "hikeshi incident: URL too long\n");
        return -EIO;
    }
    buf_reset(out);
    c->too_big = 0;
    c->errbuf[0] = '\0';
    curl_easy_reset(c->curl);
    if (curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, INCIDENT_CLI_TIMEOUT) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, INCIDENT_CLI_TIMEOUT) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "hikeshi/" HIKESHI_VERSION) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, body ? c->hdr_js : c->hdr) != CURLE_OK ||
        (c->cainfo[0] && curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->cainfo) != CURLE_OK)) {
        fprintf(stderr, "hikeshi incident: libcurl refused an option\n");
        return -EIO;
    }
    if (body) {
        if (curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK) {
            fprintf(stderr, "hikeshi incident: libcurl refused an option\n");
            return -EIO;
        }
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    c->sink = out;
    e = curl_easy_perform(c->curl);
    c->sink = NULL; /* `out` is the caller's: no pointer to it outlives the call */
    if (e == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, ret_status);
        return 0;
    }
    switch (e) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        fprintf(stderr, "hikeshi incident: the daemon is not reachable at %s (%s)\n", c->base,
                c->errbuf[0] ? c->errbuf : curl_easy_strerror(e));
        break;
    case CURLE_OPERATION_TIMEDOUT:
        fprintf(stderr, "hikeshi incident: no answer from the daemon at %s within %ld s\n", c->base,
                INCIDENT_CLI_TIMEOUT);
        break;
    default:
        if (c->too_big)
            fprintf(stderr, "hikeshi incident: the answer to %s %s is larger than %u MiB\n", method,
                    path, INCIDENT_CLI_BODY_MAX >> 20);
        else
            fprintf(stderr, "hikeshi incident: %s %s: %s\n", method, url,
                    c->errbuf[0] ? c->errbuf : curl_easy_strerror(e));
        break;
    }
    return -EIO;
}

/* Prints "hikeshi incident: HTTP 404: no such incident" from an error
 * answer: the server's sentence as it is.  Its "field" and "offset" point
 * into a request body the user never saw, and the sentence names the field
 * already, so they are left out. */
static void print_http_error(long status, const struct buf *body)
{
    struct jp_span doc = {"", 0}, v = {"", 0};
    struct buf msg;

    buf_init(&msg, 4096);
    if (!body->len || jp_doc(body->data, body->len, &doc, NULL) < 0 || doc.p[0] != '{' ||
        jp_lookup(doc, "error", &v) < 0 || jp_text(v, &msg, 0) != 0 || !msg.len) {
        buf_reset(&msg);
        buf_puts(&msg, status >= 500 ? "the daemon failed" : "refused");
    }
    fprintf(stderr, "hikeshi incident: HTTP %ld: %s\n", status, msg.data ? msg.data : "");
    if (status == 401)
        fprintf(stderr, "hikeshi incident: check the token (--token-file or HIKESHI_TOKEN); "
                        "'hikeshi user add' makes one\n");
    buf_done(&msg);
}

/* A successful JSON answer as a span; prints and fails on anything else.
 * `want` is the status expected (200 or 201). */
static int expect_json(long status, long want, const struct buf *body, struct jp_span *ret)
{
    if (status != want) {
        print_http_error(status, body);
        return -EIO;
    }
    if (!body->len || jp_doc(body->data, body->len, ret, NULL) < 0 || ret->p[0] != '{') {
        fprintf(stderr, "hikeshi incident: the daemon's answer is not a JSON object\n");
        return -EIO;
    }
    return 0;
}

/* ---- options --------------------------------------------------------- */

enum {
    OPT_URL = 256,
    OPT_TOKEN_FILE,
    OPT_PHASE,
    OPT_TYPE,
    OPT_LEVEL,
    OPT_OVERDUE,
    OPT_LIMIT,
    OPT_OFFSET,
    OPT_JSON,
    OPT_CATEGORY,
    OPT_ASSIGNEE,
    OPT_UNASSIGN,
    OPT_TITLE,
    OPT_SUMMARY,
    OPT_REASON,
    OPT_FORMAT,
    OPT_TLP,
    OPT_CONFIDENCE,
    OPT_NOTE,
    OPT_LEAK,
};

/* Which subcommand options were given: one bit per option. */
enum {
    F_PHASE = 1 << 0,
    F_TYPE = 1 << 1,
    F_LEVEL = 1 << 2,
    F_OVERDUE = 1 << 3,
    F_LIMIT = 1 << 4,
    F_OFFSET = 1 << 5,
    F_JSON = 1 << 6,
    F_CATEGORY = 1 << 7,
    F_ASSIGNEE = 1 << 8,
    F_UNASSIGN = 1 << 9,
    F_TITLE = 1 << 10,
    F_SUMMARY = 1 << 11,
    F_REASON = 1 << 12,
    F_FORMAT = 1 << 13,
    F_OUTPUT = 1 << 14,
    F_TLP = 1 << 15,
    F_CONFIDENCE = 1 << 16,
    F_NOTE = 1 << 17,
    F_LEAK = 1 << 18,
};

static const char *const flag_names[] = {
    "--phase",    "--type",     "--level",      "--overdue", "--limit",     "--offset", "--json",
    "--category", "--assignee", "--unassign",   "--title",   "--summary",   "--reason", "--format",
    "-o",         "--tlp",      "--confidence", "--note",    "--leak-type",
};

/* Everything the command line said; strings point into argv. */
struct opts {
    unsigned given; /* F_* */
    const char *phase, *type, *level, *limit, *offset, *category, *assignee, *title, *summary,
        *reason, *format, *output, *tlp, *confidence, *note, *leak;
    const char *id_text;
    unsigned long long id;
};

/* The subcommands' options: which bit each sets and where its value goes
 * (NO_VALUE for flags). */
#define NO_VALUE SIZE_MAX
static const struct {
    int opt;
    unsigned flag;
    size_t off;
} sub_opts[] = {
    {OPT_PHASE, F_PHASE, offsetof(struct opts, phase)},
    {OPT_TYPE, F_TYPE, offsetof(struct opts, type)},
    {OPT_LEVEL, F_LEVEL, offsetof(struct opts, level)},
    {OPT_OVERDUE, F_OVERDUE, NO_VALUE},
    {OPT_LIMIT, F_LIMIT, offsetof(struct opts, limit)},
    {OPT_OFFSET, F_OFFSET, offsetof(struct opts, offset)},
    {OPT_JSON, F_JSON, NO_VALUE},
    {OPT_CATEGORY, F_CATEGORY, offsetof(struct opts, category)},
    {OPT_ASSIGNEE, F_ASSIGNEE, offsetof(struct opts, assignee)},
    {OPT_UNASSIGN, F_UNASSIGN, NO_VALUE},
    {OPT_TITLE, F_TITLE, offsetof(struct opts, title)},
    {OPT_SUMMARY, F_SUMMARY, offsetof(struct opts, summary)},
    {OPT_REASON, F_REASON, offsetof(struct opts, reason)},
    {OPT_FORMAT, F_FORMAT, offsetof(struct opts, format)},
    {'o', F_OUTPUT, offsetof(struct opts, output)},
    {OPT_TLP, F_TLP, offsetof(struct opts, tlp)},
    {OPT_CONFIDENCE, F_CONFIDENCE, offsetof(struct opts, confidence)},
    {OPT_NOTE, F_NOTE, offsetof(struct opts, note)},
    {OPT_LEAK, F_LEAK, offsetof(struct opts, leak)},
};

/* Records subcommand option `ch` (getopt's return) in o; -EINVAL when it
 * is not one. */
static int sub_option(struct opts *o, int ch, const char *arg)
{
    for (size_t i = 0; i < sizeof(sub_opts) / sizeof(sub_opts[0]); i++) {
        if (sub_opts[i].opt != ch)
            continue;
        o->given |= sub_opts[i].flag;
        if (sub_opts[i].off != NO_VALUE)
            memcpy((char *)o + sub_opts[i].off, &arg, sizeof(arg));
        return 0;
    }
    return -EINVAL;
}

/* ---- the subcommands ----------------------------------------------------- */

/* "12m", "3h05m", "2d04h": a duration for a table cell. */
static void fmt_duration(long long s, char *out, size_t size)
{
    if (s < 60)
        snprintf(out, size, "%llds", s);
    else if (s < 3600)
        snprintf(out, size, "%lldm", s / 60);
    else if (s < 86400)
        snprintf(out, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else
        snprintf(out, size, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

/* The deadline cell: "-" without a target, "12m left", "overdue 1h05m". */
static void fmt_deadline(struct jp_span inc, char *out, size_t size)
{
    struct jp_span dl = {"", 0}, v = {"", 0};
    long long left;
    char d[32];

    snprintf(out, size, "-");
    if (jp_lookup(inc, "deadline", &dl) < 0 || dl.p[0] != '{')
        return;
    if (jp_lookup(dl, "has_target", &v) == 0 && jp_span_is(v, "false"))
        return;
    if (member_int(dl, "left_seconds", &left) < 0)
        return;
    if ((jp_lookup(dl, "overdue", &v) == 0 && jp_span_is(v, "true")) || left < 0) {
        fmt_duration(left < 0 ? -left : 0, d, sizeof(d));
        snprintf(out, size, "overdue %s", d);
    } else {
        fmt_duration(left, d, sizeof(d));
        snprintf(out, size, "%s left%s", d,
                 jp_lookup(dl, "due_soon", &v) == 0 && jp_span_is(v, "true") ? "!" : "");
    }
}

/* The table's columns, in order; the last one is not padded. */
static const char *const list_cols[] = {"ID",   "LEVEL",    "CAT",      "PHASE",
                                        "TYPE", "ASSIGNEE", "DEADLINE", "TITLE"};
#define LIST_NCOLS (sizeof(list_cols) / sizeof(list_cols[0]))

/* The text of column `col` of one incident, in `cell`. */
static const char *list_cell(struct jp_span inc, size_t col, struct buf *cell)
{
    static const char *const keys[LIST_NCOLS] = {"id",   "level",    "category", "phase",
                                                 "type", "assignee", NULL,       "title"};
    char dl[64];

    if (keys[col])
        return member_text(inc, keys[col], cell);
    fmt_deadline(inc, dl, sizeof(dl));
    buf_reset(cell);
    buf_puts(cell, dl);
    return cell->data ? cell->data : "-";
}

static void print_padded(const char *s, size_t width)
{
    size_t w = text_width(s);

    fputs(s, stdout);
    for (; w < width + 2; w++)
        putchar(' ');
}

/* Prints the incidents of a list answer as a table: widths from a first
 * pass over the rows, the rows in a second. */
static int list_table(struct jp_span doc)
{
    struct jp_span arr = {"", 0}, inc = {"", 0};
    struct jp_iter it;
    struct buf cell;
    size_t width[LIST_NCOLS], rows = 0, col;
    long long count, limit, offset;
    int r, rc = -EIO;

    if (jp_lookup(doc, "incidents", &arr) < 0 || arr.p[0] != '[') {
        fprintf(stderr, "hikeshi incident: the answer has no incident list\n");
        return -EIO;
    }
    buf_init(&cell, INCIDENT_CLI_BODY_MAX);
    for (col = 0; col < LIST_NCOLS; col++)
        width[col] = strlen(list_cols[col]);
    jp_iter_init(&it, arr);
    while ((r = jp_iter_next(&it, NULL, &inc)) > 0) {
        if (inc.p[0] != '{')
            goto bad;
        for (col = 0; col + 1 < LIST_NCOLS; col++) {
            size_t w = text_width(list_cell(inc, col, &cell));

            if (w > width[col])
                width[col] = w;
        }
        rows++;
    }
    if (r < 0)
        goto bad;
    for (col = 0; col + 1 < LIST_NCOLS; col++)
        print_padded(list_cols[col], width[col]);
    printf("%s\n", list_cols[LIST_NCOLS - 1]);
    jp_iter_init(&it, arr);
    while (jp_iter_next(&it, NULL, &inc) > 0) {
        for (col = 0; col + 1 < LIST_NCOLS; col++)
            print_padded(list_cell(inc, col, &cell), width[col]);
        printf("%s\n", list_cell(inc, LIST_NCOLS - 1, &cell));
    }
    if (rows == 0)
        fprintf(stderr, "hikeshi incident: no incidents match\n");
    else if (member_int(doc, "count", &count) == 0 && member_int(doc, "limit", &limit) == 0 &&
             member_int(doc, "offset", &offset) == 0 && count == limit)
        fprintf(stderr, "hikeshi incident: more may follow: --offset %lld\n", offset + count);
    rc = 0;
    goto out;
bad:
    fprintf(stderr, "hikeshi incident: the incident list in the answer is malformed\n");
out:
    buf_done(&cell);
    return rc;
}

/* Appends "&name=escaped value" (or "?name=..." first) to the query. */
static int query_add(CURL *curl, struct buf *q, const char *name, const char *value)
{
    char *esc = curl_easy_escape(curl, value, 0);
    int r;

    if (!esc)
        return -ENOMEM;
    r = buf_printf(q, "%c%s=%s", q->len ? '&' : '?', name, esc);
    curl_free(esc);
    return r;
}

static int cmd_list(struct client *c, const struct opts *o)
{
    struct buf q, body;
    struct jp_span doc = {"", 0};
    char path[4200];
    long status = 0;
    int r = 0, rc = CLI_EXIT_FAIL;

    buf_init(&q, 4000);
    buf_init(&body, INCIDENT_CLI_BODY_MAX);
    if (o->phase)
        r = query_add(c->curl, &q, "phase", o->phase);
    if (r == 0 && o->type)
        r = query_add(c->curl, &q, "type", o->type);
    if (r == 0 && o->level)
        r = query_add(c->curl, &q, "level", o->level);
    if (r == 0 && (o->given & F_OVERDUE))
        r = query_add(c->curl, &q, "overdue", "1");
    if (r == 0 && o->limit)
        r = query_add(c->curl, &q, "limit", o->limit);
    if (r == 0 && o->offset)
        r = query_add(c->curl, &q, "offset", o->offset);
    if (r < 0) {
        rc = cli_usage_error("incident", "filter values too long");
        goto out;
    }
    snprintf(path, sizeof(path), "/api/v1/incidents%s", q.data ? q.data : "");
    if (client_call(c, "GET", path, NULL, &body, &status) < 0 ||
        expect_json(status, 200, &body, &doc) < 0)
        goto out;
    if (o->given & F_JSON) {
        fwrite(body.data, 1, body.len, stdout);
        if (body.data[body.len - 1] != '\n')
            putchar('\n');
    } else if (list_table(doc) < 0) {
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    buf_done(&q);
    buf_done(&body);
    return rc;
}

/* "2026-11-23 10:30:00Z" from microseconds since the epoch. */
static void fmt_us(long long us, char *out, size_t size)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%lld", us);
}

/* A scalar for `show`: times in *_us keys (and "time", "done_at",
 * "created", "added" when numbers, taken as microseconds) as UTC dates,
 * strings decoded, null as "-".  `key` is the member's name, decoded. */
static const char *show_scalar(const char *key, struct jp_span v, struct buf *out)
{
    size_t klen = strlen(key);
    int64_t n;
    char t[64];
    int is_time = (klen > 3 && strcmp(key + klen - 3, "_us") == 0) || strcmp(key, "time") == 0 ||
                  strcmp(key, "done_at") == 0 || strcmp(key, "created") == 0 ||
                  strcmp(key, "added") == 0;

    buf_reset(out);
    if (is_time && jp_span_i64(v, &n) == 0 && n > 0) {
        fmt_us((long long)n, t, sizeof(t));
        buf_puts(out, t);
    } else if (jp_text(v, out, JP_TEXT_KEEP_NL) != 0 || out->len == 0) {
        buf_reset(out);
        buf_putc(out, '-');
    }
    return out->data ? out->data : "-";
}

/* The decoded text of key span `k` in `out` (reset first); "" if none. */
static const char *key_text(struct jp_span k, struct buf *out)
{
    buf_reset(out);
    jp_text(k, out, 0);
    return out->data ? out->data : "";
}

/* Prints text whose later lines are indented to `col`. */
static void print_indented(const char *s, int col)
{
    for (; *s; s++) {
        putchar(*s);
        if (*s == '\n')
            printf("%*s", col, "");
    }
    putchar('\n');
}

static void show_object(struct jp_span obj, int indent, struct buf *scratch);

/* The array member `key` of an object being shown: scalars on one line,
 * objects one per line as key=value pairs (nested containers as "..."). */
static void show_array(const char *key, struct jp_span arr, int indent, struct buf *scratch)
{
    struct jp_iter ai, ei;
    struct jp_span e = {"", 0}, ek = {"", 0}, ev = {"", 0};
    struct buf ekey;
    int n = 0, objs = 0;

    jp_iter_init(&ai, arr);
    while (jp_iter_next(&ai, NULL, &e) > 0)
        objs |= e.p[0] == '{';
    if (!objs) {
        printf("%*s%-18s", indent, "", key);
        jp_iter_init(&ai, arr);
        while (jp_iter_next(&ai, NULL, &e) > 0)
            printf("%s%s", n++ ? ", " : " ", show_scalar(key, e, scratch));
        printf("%s\n", n ? "" : " -");
        return;
    }
    buf_init(&ekey, 1024);
    printf("%*s%s:\n", indent, "", key);
    jp_iter_init(&ai, arr);
    while (jp_iter_next(&ai, NULL, &e) > 0) {
        printf("%*s-", indent + 2, "");
        if (e.p[0] != '{') {
            printf(" %s\n", show_scalar(key, e, scratch));
            continue;
        }
        jp_iter_init(&ei, e);
        n = 0;
        while (jp_iter_next(&ei, &ek, &ev) > 0) {
            const char *name = key_text(ek, &ekey);

            printf("%s%s=%s", n++ ? ", " : " ", name,
                   ev.p[0] == '{' || ev.p[0] == '[' ? "..." : show_scalar(name, ev, scratch));
        }
        putchar('\n');
    }
    buf_done(&ekey);
}

/* One object as "key  value" lines: nested objects indented under their
 * key, arrays as show_array prints them. */
static void show_object(struct jp_span obj, int indent, struct buf *scratch)
{
    struct jp_iter it;
    struct jp_span k = {"", 0}, v = {"", 0};
    struct buf key;

    buf_init(&key, 1024);
    jp_iter_init(&it, obj);
    while (jp_iter_next(&it, &k, &v) > 0) {
        const char *name = key_text(k, &key);

        if (v.p[0] == '{') {
            printf("%*s%s:\n", indent, "", name);
            show_object(v, indent + 2, scratch);
        } else if (v.p[0] == '[') {
            show_array(name, v, indent, scratch);
        } else {
            printf("%*s%-18s ", indent, "", name);
            print_indented(show_scalar(name, v, scratch), indent + 19);
        }
    }
    buf_done(&key);
}

/* GETs base path + suffix and returns the array `key` of the answer. */
static int get_array(struct client *c, unsigned long long id, const char *suffix, const char *key,
                     struct buf *body, struct jp_span *ret)
{
    struct jp_span doc = {"", 0};
    char path[128];
    long status = 0;

    snprintf(path, sizeof(path), "/api/v1/incidents/%llu/%s", id, suffix);
    if (client_call(c, "GET", path, NULL, body, &status) < 0 ||
        expect_json(status, 200, body, &doc) < 0)
        return -EIO;
    if (jp_lookup(doc, key, ret) < 0 || ret->p[0] != '[') {
        fprintf(stderr, "hikeshi incident: the answer to GET %s has no \"%s\" list\n", path, key);
        return -EIO;
    }
    return 0;
}

static void show_tasks(struct jp_span tasks, struct buf *scratch)
{
    struct jp_iter it;
    struct jp_span t = {"", 0}, v = {"", 0};
    struct buf b;
    size_t n = 0;

    buf_init(&b, INCIDENT_CLI_BODY_MAX);
    jp_iter_init(&it, tasks);
    while (jp_iter_next(&it, NULL, &t) > 0)
        n++;
    printf("\ntasks (%zu):\n", n);
    jp_iter_init(&it, tasks);
    while (jp_iter_next(&it, NULL, &t) > 0) {
        int done, req;

        if (t.p[0] != '{')
            continue;
        done = jp_lookup(t, "done", &v) == 0 && jp_span_is(v, "true");
        req = jp_lookup(t, "required", &v) == 0 && jp_span_is(v, "true");
        printf("  [%c] #%s ", done ? 'x' : ' ', member_text(t, "id", scratch));
        printf("%-13s ", member_text(t, "phase", scratch));
        printf("%s%s", member_text(t, "title", scratch), req ? " (required)" : "");
        printf("; owner %s", member_text(t, "owner", scratch));
        printf(", assignee %s", member_text(t, "assignee", scratch));
        if (done) {
            printf(", done by %s", member_text(t, "done_by", scratch));
            if (jp_lookup(t, "done_at", &v) == 0)
                printf(" at %s", show_scalar("done_at", v, &b));
        }
        putchar('\n');
    }
    buf_done(&b);
}

static void show_timeline(struct jp_span tl, struct buf *scratch)
{
    struct jp_iter it;
    struct jp_span e = {"", 0}, v = {"", 0};
    size_t n = 0;

    jp_iter_init(&it, tl);
    while (jp_iter_next(&it, NULL, &e) > 0)
        n++;
    printf("\ntimeline (%zu):\n", n);
    jp_iter_init(&it, tl);
    while (jp_iter_next(&it, NULL, &e) > 0) {
        if (e.p[0] != '{')
            continue;
        if (jp_lookup(e, "time", &v) == 0)
            printf("  %s", show_scalar("time", v, scratch));
        else
            printf("  -");
        printf("  v%s", member_text(e, "version", scratch));
        printf("  %s", member_text(e, "who", scratch));
        printf("  %s", member_text(e, "what", scratch));
        printf(": %s", member_text(e, "from", scratch));
        printf(" -> %s", member_text(e, "to", scratch));
        if (jp_lookup(e, "reason", &v) == 0 && !jp_span_is(v, "null"))
            printf("  (%s)", member_text(e, "reason", scratch));
        putchar('\n');
    }
}

static int cmd_show(struct client *c, const struct opts *o)
{
    struct buf ib, tb, lb, scratch;
    struct jp_span inc = {"", 0}, tasks = {"", 0}, tl = {"", 0};
    char path[64];
    long status = 0;
    int rc = CLI_EXIT_FAIL;

    buf_init(&ib, INCIDENT_CLI_BODY_MAX);
    buf_init(&tb, INCIDENT_CLI_BODY_MAX);
    buf_init(&lb, INCIDENT_CLI_BODY_MAX);
    buf_init(&scratch, INCIDENT_CLI_BODY_MAX);
    snprintf(path, sizeof(path), "/api/v1/incidents/%llu", o->id);
    if (client_call(c, "GET", path, NULL, &ib, &status) < 0 ||
        expect_json(status, 200, &ib, &inc) < 0 ||
        get_array(c, o->id, "tasks", "tasks", &tb, &tasks) < 0 ||
        get_array(c, o->id, "timeline", "timeline", &lb, &tl) < 0)
        goto out;
    if (o->given & F_JSON) {
        printf("{\"incident\":%.*s,\"tasks\":%.*s,\"timeline\":%.*s}\n", (int)inc.len, inc.p,
               (int)tasks.len, tasks.p, (int)tl.len, tl.p);
    } else {
        printf("incident %llu: %s\n", o->id, member_text(inc, "title", &scratch));
        show_object(inc, 2, &scratch);
        show_tasks(tasks, &scratch);
        show_timeline(tl, &scratch);
    }
    rc = CLI_EXIT_OK;
out:
    buf_done(&ib);
    buf_done(&tb);
    buf_done(&lb);
    buf_done(&scratch);
    return rc;
}

/* Appends ,"key":"value" to a JSON object being written. */
static int json_put(struct buf *b, const char *key, const char *value)
{
    int r = buf_printf(b, ",\"%s\":", key);

    return r < 0 ? r : buf_json_str(b, value, strlen(value));
}

static int cmd_update(struct client *c, const struct opts *o)
{
    struct buf body, req, scratch;
    struct jp_span doc = {"", 0};
    char path[64];
    long status = 0;
    long long version;
    int r, rc = CLI_EXIT_FAIL;

    buf_init(&body, INCIDENT_CLI_BODY_MAX);
    buf_init(&req, 256 * 1024); /* the API's body limit */
    buf_init(&scratch, 4096);
    snprintf(path, sizeof(path), "/api/v1/incidents/%llu", o->id);
    if (client_call(c, "GET", path, NULL, &body, &status) < 0 ||
        expect_json(status, 200, &body, &doc) < 0)
        goto out;
    if (member_int(doc, "version", &version) < 0) {
        fprintf(stderr, "hikeshi incident: the incident as read has no version\n");
        goto out;
    }
    r = buf_printf(&req, "{\"version\":%lld", version);
    if (r == 0 && o->phase)
        r = json_put(&req, "phase", o->phase);
    if (r == 0 && o->level)
        r = json_put(&req, "level", o->level);
    if (r == 0 && o->type)
        r = json_put(&req, "type", o->type);
    if (r == 0 && o->category)
        r = json_put(&req, "category", o->category);
    if (r == 0 && o->leak)
        r = strcmp(o->leak, "none") == 0 ? buf_puts(&req, ",\"leak_type\":null")
                                         : json_put(&req, "leak_type", o->leak);
    if (r == 0 && o->assignee)
        r = json_put(&req, "assignee", o->assignee);
    if (r == 0 && (o->given & F_UNASSIGN))
        r = buf_puts(&req, ",\"assignee\":null");
    if (r == 0 && o->title)
        r = json_put(&req, "title", o->title);
    if (r == 0 && o->summary)
        r = json_put(&req, "summary", o->summary);
    if (r == 0 && o->reason)
        r = json_put(&req, "reason", o->reason);
    if (r == 0)
        r = buf_putc(&req, '}');
    if (r < 0) {
        rc = cli_usage_error("incident", "the update is larger than the API accepts");
        goto out;
    }
    if (client_call(c, "PATCH", path, req.data, &body, &status) < 0)
        goto out;
    if (status == 409) {
        fprintf(stderr,
                "hikeshi incident: incident %llu was changed by someone else after it was read "
                "(version %lld); nothing was changed, run the command again\n",
                o->id, version);
        goto out;
    }
    if (status == 202) {
        /* A decision of the responsible person's (docs/incident.md): kept
         * as an approval, nothing applied yet. */
        const char *who;

        if (expect_json(status, 202, &body, &doc) < 0)
            goto out;
        printf("incident %llu: not changed yet: %s", o->id, member_text(doc, "what", &scratch));
        who = member_text(doc, "decider", &scratch);
        printf(" waits for %s", strcmp(who, "-") == 0 ? "a lead" : who);
        printf(" (approval %s)\n", member_text(doc, "id", &scratch));
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (expect_json(status, 200, &body, &doc) < 0)
        goto out;
    printf("incident %llu: phase %s", o->id, member_text(doc, "phase", &scratch));
    printf(", level %s", member_text(doc, "level", &scratch));
    printf(", version %s\n", member_text(doc, "version", &scratch));
    rc = CLI_EXIT_OK;
out:
    buf_done(&body);
    buf_done(&req);
    buf_done(&scratch);
    return rc;
}

/* Reads standard input, at most INCIDENT_CLI_NOTE_MAX bytes: 0, -E2BIG
 * when there is more, -EIO on a read error. */
static int read_stdin_note(char *buf, size_t *ret_len)
{
    size_t n = fread(buf, 1, INCIDENT_CLI_NOTE_MAX + 1, stdin);

    if (ferror(stdin))
        return -EIO;
    if (n > INCIDENT_CLI_NOTE_MAX)
        return -E2BIG;
    *ret_len = n;
    return 0;
}

static int cmd_note(struct client *c, const struct opts *o, const char *text)
{
    static char in[INCIDENT_CLI_NOTE_MAX + 1];
    struct buf req, body, scratch;
    struct jp_span doc = {"", 0};
    char path[64];
    size_t len;
    long status = 0;
    int r, rc = CLI_EXIT_FAIL;

    if (strcmp(text, "-") == 0) {
        if ((r = read_stdin_note(in, &len)) < 0)
            return r == -E2BIG ? cli_usage_error("incident", "the note is longer than %d bytes",
                                                 INCIDENT_CLI_NOTE_MAX)
                               : cli_usage_error("incident", "cannot read standard input");
        /* A note piped from echo or a file ends in a newline that is not
         * part of what was meant. */
        while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r'))
            len--;
        if (memchr(in, '\0', len))
            return cli_usage_error("incident", "the note contains a NUL byte");
        in[len] = '\0';
        text = in;
    }
    len = strlen(text);
    if (len == 0)
        return cli_usage_error("incident", "the note is empty");
    if (len > INCIDENT_CLI_NOTE_MAX)
        return cli_usage_error("incident", "the note is longer than %d bytes",
                               INCIDENT_CLI_NOTE_MAX);
    buf_init(&req, 8 * INCIDENT_CLI_NOTE_MAX);
    buf_init(&body, INCIDENT_CLI_BODY_MAX);
    buf_init(&scratch, 256);
    if (buf_puts(&req, "{\"text\":") < 0 || buf_json_str(&req, text, len) < 0 ||
        buf_putc(&req, '}') < 0) {
        fprintf(stderr, "hikeshi incident: out of memory\n");
        goto out;
    }
    snprintf(path, sizeof(path), "/api/v1/incidents/%llu/notes", o->id);
    if (client_call(c, "POST", path, req.data, &body, &status) < 0 ||
        expect_json(status, 201, &body, &doc) < 0)
        goto out;
    printf("note %s added to incident %llu\n", member_text(doc, "id", &scratch), o->id);
    rc = CLI_EXIT_OK;
out:
    buf_done(&req);
    buf_done(&body);
    buf_done(&scratch);
    return rc;
}

/* ---- observables ---- */

static int parse_id(const char *s, unsigned long long *ret);

/* The observables as a table, then the linked incidents. */
static void observables_table(struct jp_span doc, struct buf *scratch)
{
    struct jp_span list = {"", 0}, o, v;
    struct jp_iter it, li;

    if (jp_lookup(doc, "observables", &list) == 0 && list.p[0] == '[' &&
        jp_iter_init(&it, list) == 0) {
        printf("%-6s %-10s %-8s %-12s %-12s %s\n", "ID", "TYPE", "ORIGIN", "BY", "INCIDENTS",
               "VALUE");
        while (jp_iter_next(&it, NULL, &o) == 1) {
            char id[24], ty[40], origin[16], by[64], incs[128] = "";
            size_t used = 0;

            snprintf(id, sizeof(id), "%s", member_text(o, "id", scratch));
            snprintf(ty, sizeof(ty), "%s", member_text(o, "type", scratch));
            snprintf(origin, sizeof(origin), "%s", member_text(o, "origin", scratch));
            snprintf(by, sizeof(by), "%s", member_text(o, "added_by", scratch));
            if (jp_lookup(o, "incidents", &v) == 0 && v.p[0] == '[' && jp_iter_init(&li, v) == 0) {
                struct jp_span e;
                int64_t n;

                while (jp_iter_next(&li, NULL, &e) == 1 && used + 24 < sizeof(incs))
                    if (jp_span_i64(e, &n) == 0)
                        used += (size_t)snprintf(incs + used, sizeof(incs) - used, "%s%lld",
                                                 used ? "," : "", (long long)n);
            }
            printf("%-6s %-10s %-8s %-12s %-12s %s\n", id, ty, origin, by, used ? incs : "-",
                   member_text(o, "value", scratch));
        }
    }
    if (jp_lookup(doc, "linked_incidents", &list) == 0 && list.p[0] == '[' &&
        jp_iter_init(&it, list) == 0) {
        int any = 0;

        while (jp_iter_next(&it, NULL, &o) == 1) {
            long long inc = 0, shared = 0;

            if (member_int(o, "incident", &inc) < 0 || member_int(o, "shared", &shared) < 0)
                continue;
            printf("%s incident %lld (%lld shared)", any ? "," : "linked:", inc, shared);
            any = 1;
        }
        printf("%s\n", any ? "" : "linked: none");
    }
}

static int cmd_observable(struct client *c, const struct opts *o, char **args, int nargs)
{
    struct buf req, body, scratch;
    struct jp_span doc = {"", 0};
    char path[160];
    const char *act = nargs >= 3 ? args[2] : NULL;
    unsigned long long obs = 0;
    long status = 0;
    int rc = CLI_EXIT_FAIL;

    /* The action's arguments and options. */
    if (!act) {
        if (o->given & (F_TLP | F_CONFIDENCE | F_NOTE))
            return cli_usage_error("incident", "observable ID lists; --tlp, --confidence and "
                                               "--note go with promote and add");
    } else if (strcmp(act, "add") == 0) {
        if (nargs != 5 || (o->given & (F_TLP | F_CONFIDENCE | F_JSON)))
            return cli_usage_error("incident", "observable ID add TYPE VALUE [--note TEXT]");
    } else if (strcmp(act, "rm") == 0 || strcmp(act, "promote") == 0) {
        int promote = act[0] == 'p';

        if (nargs != 4 || parse_id(args[3], &obs) < 0)
            return cli_usage_error("incident", "observable ID %s OBS: OBS is a positive number",
                                   act);
        if ((o->given & (F_NOTE | F_JSON)) || (!promote && (o->given & (F_TLP | F_CONFIDENCE))) ||
            (promote && !(o->given & F_TLP)))
            return cli_usage_error("incident", "observable ID %s",
                                   promote ? "promote OBS --tlp TLP [--confidence N]" : "rm OBS");
        if ((o->given & F_CONFIDENCE) &&
            (!*o->confidence || strspn(o->confidence, "0123456789") != strlen(o->confidence) ||
             strlen(o->confidence) > 3 || strtol(o->confidence, NULL, 10) > 100))
            return cli_usage_error("incident", "--confidence is 0 to 100");
    } else {
        return cli_usage_error("incident", "observable ID [add|rm|promote], not '%s'", act);
    }
    buf_init(&req, 64 * 1024);
    buf_init(&body, INCIDENT_CLI_BODY_MAX);
    buf_init(&scratch, 4096);
    if (!act) {
        snprintf(path, sizeof(path), "/api/v1/incidents/%llu/observables", o->id);
        if (client_call(c, "GET", path, NULL, &body, &status) < 0 ||
            expect_json(status, 200, &body, &doc) < 0)
            goto out;
        if (o->given & F_JSON)
            printf("%.*s\n", (int)body.len, body.data);
        else
            observables_table(doc, &scratch);
        rc = CLI_EXIT_OK;
    } else if (act[0] == 'a') {
        snprintf(path, sizeof(path), "/api/v1/incidents/%llu/observables", o->id);
        if (buf_puts(&req, "{\"type\":") < 0 || buf_json_str(&req, args[3], strlen(args[3])) < 0 ||
            buf_puts(&req, ",\"value\":") < 0 || buf_json_str(&req, args[4], strlen(args[4])) < 0 ||
            ((o->given & F_NOTE) && (buf_puts(&req, ",\"note\":") < 0 ||
                                     buf_json_str(&req, o->note, strlen(o->note)) < 0)) ||
            buf_putc(&req, '}') < 0) {
            fprintf(stderr, "hikeshi incident: out of memory\n");
            goto out;
        }
        if (client_call(c, "POST", path, req.data, &body, &status) < 0 ||
            expect_json(status, status == 200 ? 200 : 201, &body, &doc) < 0)
            goto out;
        printf("observable %s", member_text(doc, "id", &scratch));
        printf(" (%s", member_text(doc, "type", &scratch));
        printf(" %s) %s incident %llu\n", member_text(doc, "value", &scratch),
               status == 201 ? "added to" : "already held by", o->id);
        rc = CLI_EXIT_OK;
    } else if (act[0] == 'r') {
        snprintf(path, sizeof(path), "/api/v1/incidents/%llu/observables/%llu", o->id, obs);
        if (client_call(c, "DELETE", path, NULL, &body, &status) < 0 ||
            expect_json(status, 200, &body, &doc) < 0)
            goto out;
        printf("observable %llu removed from incident %llu\n", obs, o->id);
        rc = CLI_EXIT_OK;
    } else {
        snprintf(path, sizeof(path), "/api/v1/incidents/%llu/observables/%llu/promote", o->id, obs);
        if (buf_puts(&req, "{\"tlp\":") < 0 || buf_json_str(&req, o->tlp, strlen(o->tlp)) < 0 ||
            ((o->given & F_CONFIDENCE) &&
             buf_printf(&req, ",\"confidence\":%ld", strtol(o->confidence, NULL, 10)) < 0) ||
            buf_putc(&req, '}') < 0) {
            fprintf(stderr, "hikeshi incident: out of memory\n");
            goto out;
        }
        if (client_call(c, "POST", path, req.data, &body, &status) < 0 ||
            expect_json(status, 200, &body, &doc) < 0)
            goto out;
        printf("observable %llu promoted to indicator %s", obs,
               member_text(doc, "indicator", &scratch));
        printf(" of feed %s\n", member_text(doc, "feed", &scratch));
        rc = CLI_EXIT_OK;
    }
out:
    buf_done(&req);
    buf_done(&body);
    buf_done(&scratch);
    return rc;
}

/* Writes the report to `path`, created 0600: reports name victims and
 * attackers and are for the CSIRT's eyes. */
static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0)
        return -errno;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            n = -errno;
            close(fd);
            return (int)n;
        }
        done += (size_t)n;
    }
    return close(fd) < 0 ? -errno : 0;
}

static int cmd_report(struct client *c, const struct opts *o, const char *kind)
{
    static const char *const kinds[] = {"first", "interim1", "interim2", "final"};
    const char *format = o->format ? o->format : "md";
    struct buf req, body, scratch;
    struct jp_span doc = {"", 0};
    char path[160];
    long status = 0;
    long long rid;
    size_t i;
    int r, rc = CLI_EXIT_FAIL;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kind, kinds[i]) == 0)
            break;
    if (i == sizeof(kinds) / sizeof(kinds[0]))
        return cli_usage_error("incident", "KIND is first, interim1, interim2 or final");
    if (strcmp(format, "md") != 0 && strcmp(format, "html") != 0)
        return cli_usage_error("incident", "--format is md or html");
    buf_init(&req, 256);
    buf_init(&body, INCIDENT_CLI_BODY_MAX);
    buf_init(&scratch, 256);
    if (buf_printf(&req, "{\"kind\":\"%s\"}", kind) < 0) {
        fprintf(stderr, "hikeshi incident: out of memory\n");
        goto out;
    }
    snprintf(path, sizeof(path), "/api/v1/incidents/%llu/reports", o->id);
    if (client_call(c, "POST", path, req.data, &body, &status) < 0 ||
        expect_json(status, 201, &body, &doc) < 0)
        goto out;
    if (member_int(doc, "id", &rid) < 0 || rid <= 0) {
        fprintf(stderr, "hikeshi incident: the daemon's answer names no report id\n");
        goto out;
    }
    fprintf(stderr, "hikeshi incident: report %lld: %s, version %s\n", rid, kind,
            member_text(doc, "version", &scratch));
    snprintf(path, sizeof(path), "/api/v1/incidents/%llu/reports/%lld?format=%s", o->id, rid,
             format);
    if (client_call(c, "GET", path, NULL, &body, &status) < 0)
        goto out;
    if (status != 200) {
        print_http_error(status, &body);
        goto out;
    }
    if (o->output) {
        if ((r = write_file(o->output, body.data ? body.data : "", body.len)) < 0) {
            fprintf(stderr, "hikeshi incident: %s: %s\n", o->output, strerror(-r));
            goto out;
        }
        fprintf(stderr, "hikeshi incident: written to %s\n", o->output);
    } else if (body.len) {
        fwrite(body.data, 1, body.len, stdout);
    }
    rc = CLI_EXIT_OK;
out:
    buf_done(&req);
    buf_done(&body);
    buf_done(&scratch);
    return rc;
}

/* ---- setup ----------------------------------------------------------- */

/* The token from `path`'s first line or HIKESHI_TOKEN into `out`: 0,
 * -ENOENT when neither is given, -EINVAL (message printed) when unusable. */
static int load_token(const char *path, char *out, size_t size)
{
    const char *src;
    size_t n;

    if (path) {
        FILE *f = fopen(path, "re");

        if (!f) {
            fprintf(stderr, "hikeshi incident: %s: %s\n", path, strerror(errno));
            return -EINVAL;
        }
        if (!fgets(out, (int)size, f))
            out[0] = '\0';
        fclose(f);
        src = path;
    } else {
        const char *env = getenv("HIKESHI_TOKEN");

        if (!env || !*env)
            return -ENOENT;
        if (strlen(env) >= size) {
            fprintf(stderr, "hikeshi incident: HIKESHI_TOKEN is too long\n");
            return -EINVAL;
        }
        memcpy(out, env, strlen(env) + 1);
        src = "HIKESHI_TOKEN";
    }
    n = strcspn(out, "\r\n");
    if (out[n] == '\0' && n == size - 1) {
        fprintf(stderr, "hikeshi incident: %s: the token is too long\n", src);
        return -EINVAL;
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    /* It goes into a header line: printable ASCII only, nothing that could
     * end the line or start another header. */
    for (size_t i = 0; i < n; i++) {
        if (out[i] <= ' ' || out[i] >= 0x7f) {
            fprintf(stderr, "hikeshi incident: %s: the token has a character a token cannot have\n",
                    src);
            return -EINVAL;
        }
    }
    if (n == 0) {
        fprintf(stderr, "hikeshi incident: %s: no token on the first line\n", src);
        return -EINVAL;
    }
    return 0;
}

/* The base URL from --url or the configuration's http.listen, in c->base.
 * A wildcard listen address is reached on loopback.  When the daemon serves
 * HTTPS by that configuration, https:// trusting its certificate
 * (http.tls_cert, or the self-signed DATA_DIR/http.crt). */
static int resolve_base(struct client *c, const char *url, const char *cfg_path)
{
    struct config *cfg = NULL;
    const char *listen, *scheme;
    size_t n;
    int rc = 0, tls;

    if (url) {
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            return cli_usage_error("incident", "--url must start with http:// or https://");
        if ((size_t)snprintf(c->base, sizeof(c->base), "%s", url) >= sizeof(c->base))
            return cli_usage_error("incident", "--url is too long");
    } else {
        if (!(cfg = cli_load_config(cfg_path)))
            return CLI_EXIT_USAGE;
        listen = cfg->http_listen;
        if (!listen) {
            rc = cli_usage_error("incident", "the configuration has no http.listen; give --url");
            goto out;
        }
        tls = api_http_wants_tls(listen, &cfg->http) == 1;
        scheme = tls ? "https" : "http";
        if (strncmp(listen, "0.0.0.0:", 8) == 0)
            snprintf(c->base, sizeof(c->base), "%s://127.0.0.1:%s", scheme, listen + 8);
        else if (strncmp(listen, "[::]:", 5) == 0)
            snprintf(c->base, sizeof(c->base), "%s://[::1]:%s", scheme, listen + 5);
        else if (listen[0] == ':')
            snprintf(c->base, sizeof(c->base), "%s://127.0.0.1%s", scheme, listen);
        else if ((size_t)snprintf(c->base, sizeof(c->base), "%s://%s", scheme, listen) >=
                 sizeof(c->base))
            rc = cli_usage_error("incident", "http.listen is too long");
        if (tls && cfg->http.tls_cert)
            snprintf(c->cainfo, sizeof(c->cainfo), "%s", cfg->http.tls_cert);
        else if (tls)
            snprintf(c->cainfo, sizeof(c->cainfo), "%s/http.crt", cfg->data_dir);
    }
    n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
out:
    config_free(cfg);
    return rc;
}

/* Each subcommand: the options it takes and how many arguments. */
static const struct {
    const char *name;
    unsigned allowed;
    int nargs; /* after the name: ID [TEXT|KIND] */
} subs[] = {
    {"list", F_PHASE | F_TYPE | F_LEVEL | F_OVERDUE | F_LIMIT | F_OFFSET | F_JSON, 0},
    {"show", F_JSON, 1},
    {"update",
     F_PHASE | F_LEVEL | F_TYPE | F_CATEGORY | F_ASSIGNEE | F_UNASSIGN | F_TITLE | F_SUMMARY |
         F_REASON | F_LEAK,
     1},
    {"note", 0, 2},
    {"report", F_FORMAT | F_OUTPUT, 2},
    /* ID [add TYPE VALUE | rm OBS | promote OBS]: checked by cmd_observable */
    {"observable", F_JSON | F_TLP | F_CONFIDENCE | F_NOTE, -1},
};

/* Checks the options against what subcommand `si` takes. */
static int check_opts(size_t si, const struct opts *o)
{
    unsigned extra = o->given & ~subs[si].allowed;

    for (size_t b = 0; b < sizeof(flag_names) / sizeof(flag_names[0]); b++)
        if (extra & (1u << b))
            return cli_usage_error("incident", "%s does not apply to '%s'", flag_names[b],
                                   subs[si].name);
    if ((o->given & F_LIMIT) && (!*o->limit || strspn(o->limit, "0123456789") != strlen(o->limit)))
        return cli_usage_error("incident", "--limit takes a number");
    if ((o->given & F_OFFSET) &&
        (!*o->offset || strspn(o->offset, "0123456789") != strlen(o->offset)))
        return cli_usage_error("incident", "--offset takes a number");
    if ((o->given & F_ASSIGNEE) && (o->given & F_UNASSIGN))
        return cli_usage_error("incident", "--assignee and --unassign exclude each other");
    if (strcmp(subs[si].name, "update") == 0 &&
        !(o->given & (F_PHASE | F_LEVEL | F_TYPE | F_CATEGORY | F_ASSIGNEE | F_UNASSIGN | F_TITLE |
                      F_SUMMARY | F_LEAK)))
        return cli_usage_error("incident", "update: nothing to change");
    return 0;
}

/* Appends a header line; on failure the list stays as it was (and is
 * still the caller's to free). */
static int header_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);

    if (!l)
        return -ENOMEM;
    *list = l;
    return 0;
}

static int parse_id(const char *s, unsigned long long *ret)
{
    unsigned long long id = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        id = id * 10 + (unsigned)(s[i] - '0');
    if (id == 0)
        return -EINVAL;
    *ret = id;
    return 0;
}

/* What the command line asked for. */
struct cmdline {
    const char *cfg_path, *url, *token_file; /* NULL: not given */
    struct opts o;
    size_t si;   /* index into subs[] */
    char **args; /* the subcommand's name, then its arguments */
    int nargs;   /* how many: the name included */
};

/*
 * Reads argv into *cl: the options, the subcommand and its arguments, all
 * checked.  -1 to go on, or the exit status to return at once (after
 * printing the usage error, or the help for -h).
 */
static int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
    static const struct option lopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, OPT_URL},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"help", no_argument, NULL, 'h'},
        {"phase", required_argument, NULL, OPT_PHASE},
        {"type", required_argument, NULL, OPT_TYPE},
        {"level", required_argument, NULL, OPT_LEVEL},
        {"overdue", no_argument, NULL, OPT_OVERDUE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"json", no_argument, NULL, OPT_JSON},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"assignee", required_argument, NULL, OPT_ASSIGNEE},
        {"unassign", no_argument, NULL, OPT_UNASSIGN},
        {"title", required_argument, NULL, OPT_TITLE},
        {"summary", required_argument, NULL, OPT_SUMMARY},
        {"reason", required_argument, NULL, OPT_REASON},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"tlp", required_argument, NULL, OPT_TLP},
        {"confidence", required_argument, NULL, OPT_CONFIDENCE},
        {"note", required_argument, NULL, OPT_NOTE},
        {"leak-type", required_argument, NULL, OPT_LEAK},
        {NULL, 0, NULL, 0},
    };
    size_t si;
    int nargs, ch, r;

    memset(cl, 0, sizeof(*cl));
    if (argc < 2) {
        fputs(incident_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    /* One pass over everything, options anywhere (glibc permutes), so
     * "incident list --json" and "incident --json list" both work; which
     * subcommand takes which option is checked afterwards. */
    optind = 0;
    while ((ch = getopt_long(argc, argv, "c:ho:", lopts, NULL)) != -1) {
        switch (ch) {
        case 'c': cl->cfg_path = optarg; break;
        case OPT_URL: cl->url = optarg; break;
        case OPT_TOKEN_FILE: cl->token_file = optarg; break;
        case 'h': fputs(incident_usage, stdout); return CLI_EXIT_OK;
        default:
            if (sub_option(&cl->o, ch, optarg) < 0)
                return cli_usage_error("incident", "unknown or incomplete option");
            break;
        }
    }
    cl->args = argv + optind;
    nargs = argc - optind;
    if (nargs < 1)
        return cli_usage_error("incident",
                               "give a command: list, show, update, note, report, observable");
    for (si = 0; si < sizeof(subs) / sizeof(subs[0]); si++)
        if (strcmp(cl->args[0], subs[si].name) == 0)
            break;
    if (si == sizeof(subs) / sizeof(subs[0]))
        return cli_usage_error("incident", "unknown command '%s'", cl->args[0]);
    if (subs[si].nargs < 0 ? nargs < 2 || nargs > 5 : nargs - 1 != subs[si].nargs)
        return cli_usage_error("incident", "'%s' takes %s", subs[si].name,
                               subs[si].nargs == 0   ? "no arguments"
                               : subs[si].nargs < 0  ? "an ID, then add, rm or promote"
                               : subs[si].nargs == 1 ? "one ID"
                               : si == 3             ? "an ID and a TEXT"
                                                     : "an ID and a KIND");
    if ((r = check_opts(si, &cl->o)) != 0)
        return r;
    cl->nargs = nargs;
    if (subs[si].nargs != 0 && parse_id(cl->args[1], &cl->o.id) < 0)
        return cli_usage_error("incident", "ID is a positive number, not '%s'", cl->args[1]);
    cl->si = si;
    return -1;
}

/* Starts libcurl's handle with the headers every request sends (the
 * token's among them).  0, or -1 after saying why; client_close undoes
 * as much as was done either way. */
static int client_open(struct client *c, const char *token)
{
    char hdr[INCIDENT_CLI_TOKEN_MAX + 32];
    int r = 0;

    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
    if (!(c->curl = curl_easy_init()) || header_add(&c->hdr, hdr) < 0 ||
        header_add(&c->hdr, "Accept: application/json") < 0 || header_add(&c->hdr_js, hdr) < 0 ||
        header_add(&c->hdr_js, "Accept: application/json") < 0 ||
        header_add(&c->hdr_js, "Content-Type: application/json") < 0) {
        fprintf(stderr, "hikeshi incident: out of memory\n");
        r = -1;
    }
    explicit_bzero(hdr, sizeof(hdr));
    return r;
}

static void client_close(struct client *c)
{
    curl_slist_free_all(c->hdr);
    curl_slist_free_all(c->hdr_js);
    if (c->curl)
        curl_easy_cleanup(c->curl);
}

int cli_incident_main(int argc, char **argv)
{
    struct cmdline cl;
    struct client c;
    char token[INCIDENT_CLI_TOKEN_MAX];
    int r, rc = CLI_EXIT_FAIL;

    memset(&c, 0, sizeof(c));
    memset(token, 0, sizeof(token));
    if ((r = parse_cmdline(argc, argv, &cl)) >= 0)
        return r;
    if ((r = resolve_base(&c, cl.url, cl.cfg_path)) != 0)
        return r;
    r = load_token(cl.token_file, token, sizeof(token));
    if (r == -ENOENT)
        return cli_usage_error("incident",
                               "no API token: give --token-file FILE or set HIKESHI_TOKEN; an "
                               "admin makes one with 'hikeshi user add --role analyst NAME'");
    if (r < 0)
        return CLI_EXIT_USAGE;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "hikeshi incident: libcurl cannot start\n");
        explicit_bzero(token, sizeof(token));
        return CLI_EXIT_FAIL;
    }
    r = client_open(&c, token);
    explicit_bzero(token, sizeof(token));
    if (r == 0) {
        switch (cl.si) {
        case 0: rc = cmd_list(&c, &cl.o); break;
        case 1: rc = cmd_show(&c, &cl.o); break;
        case 2: rc = cmd_update(&c, &cl.o); break;
        case 3: rc = cmd_note(&c, &cl.o, cl.args[2]); break;
        case 4: rc = cmd_report(&c, &cl.o, cl.args[2]); break;
        default: rc = cmd_observable(&c, &cl.o, cl.args, cl.nargs); break;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "hikeshi incident: writing the output: %s\n", strerror(errno));
            rc = CLI_EXIT_FAIL;
        }
    }
    client_close(&c);
    curl_global_cleanup();
    return rc;
}
