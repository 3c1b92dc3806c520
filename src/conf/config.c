/*
 * config.c - hikeshi.yaml, parsed with libyaml's document API so that every
 * node keeps its line and column for error messages.
 *
 * The keys of each mapping live in one sorted table per level (name, handler),
 * looked up with bsearch, as OpenBSD's parse.y lookup() does for keywords.
 */
#include "conf/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "decode/decode.h"
#include "event/tz.h"
#include "incident/incident.h"
#include "triage/anomaly.h"
#include "input/input_tls.h"
#include "util/cidr.h"
#include "util/limits.h"
#include "util/readfile.h"
#include "util/ydoc.h"

/* The configuration being built: every handler's d->ctx. */
static struct config *cfg(const struct ydoc *d)
{
    return d->ctx;
}

/* A string, or null/~/empty/"off" meaning "disabled" (NULL). */
static int get_str_or_off(struct ydoc *d, const yaml_node_t *n, char **dst)
{
    static const char *const off[] = {"", "~", "null", "off", "false"};

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        if (ydoc_scalar_is(n, off[i])) {
            free(*dst);
            *dst = NULL;
            return 0;
        }
    }
    return ydoc_strdup(d, n, 0, 0, dst);
}

/* Counts and sizes: whole numbers, also as 64k or 1m. */
static int get_uint(struct ydoc *d, const yaml_node_t *n, uint64_t lo, uint64_t hi, uint64_t *dst,
                    const char *range_msg)
{
    return ydoc_bytes(d, n, lo, hi, range_msg, dst);
}

int config_parse_tz(const char *s, int32_t *ret)
{
    int sign, h, m;

    if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0 || strcmp(s, "utc") == 0) {
        *ret = 0;
        return 0;
    }
    if ((s[0] != '+' && s[0] != '-') || strlen(s) < 3)
        return -EINVAL;
    sign = s[0] == '-' ? -1 : 1;
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
        return -EINVAL;
    h = (s[1] - '0') * 10 + (s[2] - '0');
    s += 3;
    if (*s == ':')
        s++;
    if (*s == '\0') {
        m = 0;
    } else if (s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] == '\0') {
        m = (s[0] - '0') * 10 + (s[1] - '0');
    } else {
        return -EINVAL;
    }
    if (h > 14)
        return -EINVAL;
    *ret = sign * (h * 3600 + m * 60);
    return 0;
}

/* --- log: --- */

static int kw_log_level(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);

    if (!s || log_level_parse(s, &cfg(d)->log_level) < 0)
        return ydoc_fail(d, v, "log level must be error, warn, info or debug");
    return 0;
}

static int kw_log_syslog(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->log_syslog);
}

static const struct ydoc_key log_kw[] = {
    {"level", kw_log_level},
    {"syslog", kw_log_syslog},
};
static const struct ydoc_table log_table = {log_kw, YDOC_NKEYS(log_kw), "log: expected a mapping",
                                            NULL};

static int kw_log(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &log_table, NULL);
}

/* --- top-level scalars and small sections --- */

static int kw_data_dir(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r = ydoc_strdup(d, v, 0, 0, &cfg(d)->data_dir);

    if (r == 0 && cfg(d)->data_dir[0] == '\0')
        return ydoc_fail(d, v, "data_dir must not be empty");
    return r;
}

/* Loads the zone named by `v` into *dst (replacing it); errors at v. */
static int get_tz(struct ydoc *d, yaml_node_t *v, struct tz **dst)
{
    const char *s = ydoc_scalar(v, NULL);
    struct tz *z = NULL;
    int r;

    if (!s || !*s)
        return ydoc_fail(d, v,
                         "timezone: expected a zone name (Europe/Berlin) or an offset (+09:00)");
    r = tz_load(s, NULL, &z);
    if (r == -ENOMEM)
        return r;
    if (r == -ENOENT)
        return ydoc_fail(d, v, "timezone: unknown zone (not in " TZ_DIR_DEFAULT ")");
    if (r < 0)
        return ydoc_fail(d, v,
                         "timezone must be UTC, an offset such as +09:00 or an IANA zone "
                         "name such as Europe/Berlin");
    tz_free(*dst);
    *dst = z;
    return 0;
}

static int kw_timezone(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r = get_tz(d, v, &cfg(d)->tz);

    if (r == 0)
        cfg(d)->tz_off_s = tz_offset_at(cfg(d)->tz, time(NULL));
    return r;
}

static int kw_http_listen(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str_or_off(d, v, &cfg(d)->http_listen);
}

int config_parse_duration(const char *s, int64_t *ret_s)
{
    int r;

    if (!s)
        return -EINVAL;
    r = ydoc_parse_duration(s, strlen(s), YDOC_DUR_BARE, ret_s);
    return r == -EDOM ? -EINVAL : r;
}

static int kw_http_token_ttl(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int64_t ttl = 0;

    if (!s || config_parse_duration(s, &ttl) < 0)
        return ydoc_fail(d, v, "token_ttl: expected a duration such as 3600, 12h or 30d");
    if (ttl < LIMIT_TOKEN_TTL_MIN || ttl > LIMIT_TOKEN_TTL_MAX)
        return ydoc_fail(d, v, "token_ttl must be 1 second to 366 days");
    cfg(d)->http_token_ttl_s = ttl;
    return 0;
}

static int get_str_list(struct ydoc *d, yaml_node_t *v, char ***arr, size_t *n, const char *what);

/* Host names: a DNS name or an IP literal ([::1] for IPv6), no port. */
static int kw_http_hosts(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_http *h = &cfg(d)->http;
    int r = get_str_list(d, v, &h->hosts, &h->nhosts, "http hosts");

    if (r < 0)
        return r;
    if (h->nhosts > CONFIG_HTTP_HOSTS_MAX)
        return ydoc_fail(d, v, "http hosts: at most 64 names");
    for (size_t i = 0; i < h->nhosts; i++) {
        const char *s = h->hosts[i];
        size_t n = strlen(s);
        /* A colon only inside an IPv6 literal's brackets: "name:port" is
         * not a name. */
        int v6 = n > 2 && s[0] == '[' && s[n - 1] == ']';

        if (n == 0 || n > 253 ||
            (v6 ? strspn(s + 1, "0123456789abcdefABCDEF:.") != n - 2
                : strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
                      n))
            return ydoc_fail(d, v,
                             "http hosts: a name such as hikeshi.example.org, 192.0.2.7 or "
                             "[2001:db8::7], without a port");
    }
    return 0;
}

static int kw_http_tls(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);

    if (s && strcmp(s, "auto") == 0)
        cfg(d)->http.tls = CONFIG_HTTP_TLS_AUTO;
    else if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
        cfg(d)->http.tls = CONFIG_HTTP_TLS_ON;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
        cfg(d)->http.tls = CONFIG_HTTP_TLS_OFF;
    else
        return ydoc_fail(d, v, "http tls: expected auto, true or false");
    return 0;
}

static int kw_http_tls_cert(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str_or_off(d, v, &cfg(d)->http.tls_cert);
}

static int kw_http_tls_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str_or_off(d, v, &cfg(d)->http.tls_key);
}

static int kw_http_insecure(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->http.insecure_cleartext);
}

static int kw_http_uint(struct ydoc *d, yaml_node_t *v, unsigned hi, unsigned *dst, const char *msg)
{
    uint64_t x = 0;
    int r = get_uint(d, v, 1, hi, &x, msg);

    if (r == 0)
        *dst = (unsigned)x;
    return r;
}

static int kw_http_max_conn(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_http_uint(d, v, 10000, &cfg(d)->http.max_connections,
                        "max_connections must be between 1 and 10000");
}

static int kw_http_max_per(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_http_uint(d, v, 10000, &cfg(d)->http.max_per_address,
                        "max_per_address must be between 1 and 10000");
}

static int kw_http_idle(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_http_uint(d, v, 3600, &cfg(d)->http.idle_timeout_s,
                        "idle_timeout must be between 1 and 3600 seconds");
}

static int kw_http_request(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_http_uint(d, v, 3600, &cfg(d)->http.request_timeout_s,
                        "request_timeout must be between 1 and 3600 seconds");
}

static const struct ydoc_key http_kw[] = {
    {"hosts", kw_http_hosts},
    {"idle_timeout", kw_http_idle},
    {"insecure_cleartext", kw_http_insecure},
    {"listen", kw_http_listen},
    {"max_connections", kw_http_max_conn},
    {"max_per_address", kw_http_max_per},
    {"request_timeout", kw_http_request},
    {"tls", kw_http_tls},
    {"tls_cert", kw_http_tls_cert},
    {"tls_key", kw_http_tls_key},
    {"token_ttl", kw_http_token_ttl},
};
static const struct ydoc_table http_table = {http_kw, YDOC_NKEYS(http_kw),
                                             "http: expected a mapping", NULL};

static int kw_http(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const struct config_http *h = &cfg(d)->http;
    int r = ydoc_walk(d, v, &http_table, NULL);

    if (r < 0)
        return r;
    if (!h->tls_cert != !h->tls_key)
        return ydoc_fail(d, v,
                         "http: tls_cert and tls_key go together (give both, or neither "
                         "for a self-signed certificate)");
    if (h->tls_cert && h->tls == CONFIG_HTTP_TLS_OFF)
        return ydoc_fail(d, v, "http: tls is false but tls_cert is set");
    return 0;
}

static int kw_pipeline_queue(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t q = 0;
    int r = get_uint(d, v, 1, 65536, &q, "queue must be between 1 and 65536 batches");

    if (r == 0)
        cfg(d)->queue = (size_t)q;
    return r;
}

static const struct ydoc_key pipeline_kw[] = {
    {"queue", kw_pipeline_queue},
};
static const struct ydoc_table pipeline_table = {pipeline_kw, YDOC_NKEYS(pipeline_kw),
                                                 "pipeline: expected a mapping", NULL};

static int kw_pipeline(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &pipeline_table, NULL);
}

static int kw_store_events(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->store_events);
}

static const struct ydoc_key store_kw[] = {
    {"events", kw_store_events},
};
static const struct ydoc_table store_table = {store_kw, YDOC_NKEYS(store_kw),
                                              "store: expected a mapping", NULL};

static int kw_store(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &store_table, NULL);
}

static int kw_alerts_jsonl(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str_or_off(d, v, &cfg(d)->alerts_jsonl);
}

static const struct ydoc_key alerts_kw[] = {
    {"jsonl", kw_alerts_jsonl},
};
static const struct ydoc_table alerts_table = {alerts_kw, YDOC_NKEYS(alerts_kw),
                                               "alerts: expected a mapping", NULL};

static int kw_alerts(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &alerts_table, NULL);
}

/* --- inputs: --- */

static const struct {
    const char *name;
    enum input_type type;
} input_types[] = {
    {"file", INPUT_FILE},
    {"gelf-tcp", INPUT_GELF_TCP},
    {"gelf-udp", INPUT_GELF_UDP},
    {"http-bulk", INPUT_HTTP_BULK},
    {"json-tcp", INPUT_JSON_TCP},
    {"relp", INPUT_RELP},
    {"stdin", INPUT_STDIN},
    {"syslog-tcp", INPUT_SYSLOG_TCP},
    {"syslog-tls", INPUT_SYSLOG_TLS},
    {"syslog-udp", INPUT_SYSLOG_UDP},
};

static const char *input_type_name(enum input_type t)
{
    for (size_t i = 0; i < YDOC_NKEYS(input_types); i++)
        if (input_types[i].type == t)
            return input_types[i].name;
    return "?";
}

static int kw_in_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    int r = ydoc_strdup(d, v, 0, 0, &in->name);

    if (r == 0 && in->name[0] == '\0')
        return ydoc_fail(d, v, "input name must not be empty");
    return r;
}

static int kw_in_type(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    const char *s = ydoc_scalar(v, NULL);

    for (size_t i = 0; s && i < YDOC_NKEYS(input_types); i++) {
        if (strcmp(s, input_types[i].name) == 0) {
            in->conf.type = input_types[i].type;
            return 0;
        }
    }
    return ydoc_fail(d, v,
                     "input type must be syslog-udp, syslog-tcp, syslog-tls, gelf-udp, gelf-tcp, "
                     "json-tcp, http-bulk, relp, file or stdin");
}

static int kw_in_listen(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct config_input *)arg)->listen);
}

static int kw_in_path(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct config_input *)arg)->path);
}

static int kw_in_decoder(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    int r = ydoc_strdup(d, v, 0, 0, &in->decoder);

    if (r == 0 && strcmp(in->decoder, "auto") != 0 && !decode_lookup(in->decoder))
        return ydoc_fail(d, v, "unknown decoder (see hikeshi.yaml(5) for the list)");
    return r;
}

static int kw_in_max_line(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r = get_uint(d, v, LIMIT_LINE_MIN, LIMIT_LINE_MAX, &n,
                     "max_line must be between 256 and 16777216 bytes");

    if (r == 0)
        ((struct config_input *)arg)->conf.max_line = (size_t)n;
    return r;
}

/* inputs[].expect_every: each sender of the input is expected to send at
 * least this often (1 second to 30 days), or "off": its senders are not
 * watched (without the key, their intervals are learned). */
static int kw_in_expect_every(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int64_t n = 0;

    if (s && strcmp(s, "off") == 0) {
        ((struct config_input *)arg)->expect_every_s = CONFIG_EXPECT_OFF;
        return 0;
    }
    if (!s || config_parse_duration(s, &n) < 0 || n < 1 || n > 30 * 86400)
        return ydoc_fail(d, v,
                         "expect_every: expected a duration from 1s to 30d (300, 5m, 1h) or off");
    ((struct config_input *)arg)->expect_every_s = n;
    return 0;
}

/* inputs[].silence_learn_min and silence_learn_max: the floor and cap of
 * the intervals learned for senders of an input without expect_every. */
static int learn_bound(struct ydoc *d, yaml_node_t *v, const char *key, int64_t *ret_s)
{
    const char *s = ydoc_scalar(v, NULL);
    int64_t n = 0;

    if (!s || config_parse_duration(s, &n) < 0 || n < 1 || n > 30 * 86400)
        return ydoc_failf(d, v, "%s: expected a duration from 1s to 30d (300, 5m, 1h)", key);
    *ret_s = n;
    return 0;
}

static int kw_in_learn_min(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return learn_bound(d, v, "silence_learn_min",
                       &((struct config_input *)arg)->silence_learn_min_s);
}

static int kw_in_learn_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return learn_bound(d, v, "silence_learn_max",
                       &((struct config_input *)arg)->silence_learn_max_s);
}

/* http-bulk: the largest request body, after gzip. */
static int kw_in_max_body(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r = get_uint(d, v, 4096, LIMIT_BULK_BODY_MAX, &n,
                     "max_body must be between 4096 and 268435456 bytes");

    if (r == 0)
        ((struct config_input *)arg)->conf.max_body = (size_t)n;
    return r;
}

/* http-bulk credentials: each "name:secret", the secret not empty. */
static int cred_list(struct ydoc *d, yaml_node_t *v, char ***arr, size_t *n, const char *what)
{
    int r = ydoc_strlist(d, v, 64, 3, 1024, arr, n);

    for (size_t i = 0; r == 0 && i < *n; i++) {
        const char *colon = strchr((*arr)[i], ':');

        if (!colon || colon == (*arr)[i] || !colon[1])
            return ydoc_fail(d, v, what);
    }
    return r;
}

static int kw_in_users(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;

    return cred_list(d, v, &in->http_users, &in->nhttp_users,
                     "users: each entry is \"name:password\" (at most 64)");
}

static int kw_in_api_keys(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;

    return cred_list(d, v, &in->http_api_keys, &in->nhttp_api_keys,
                     "api_keys: each entry is \"id:key\" as Beats' api_key takes it (at most 64)");
}

static int kw_in_from_start(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &((struct config_input *)arg)->conf.from_start);
}

static int kw_in_poll_ms(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r = get_uint(d, v, 10, 60000, &n, "poll_ms must be between 10 and 60000");

    if (r == 0)
        ((struct config_input *)arg)->conf.poll_ms = (int)n;
    return r;
}

static int kw_in_timezone(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_tz(d, v, &((struct config_input *)arg)->tz);
}

/* inputs[].exercise: true marks every record of the input as a tabletop
 * exercise's (issue 22). */
static int kw_in_exercise(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "exercise must be true or false",
                     &((struct config_input *)arg)->conf.exercise);
}

static int kw_in_trust(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    const char *s = ydoc_scalar(v, NULL);

    if (s && strcmp(s, "trusted") == 0)
        in->conf.trust = INPUT_TRUST_TRUSTED;
    else if (s && strcmp(s, "untrusted") == 0)
        in->conf.trust = INPUT_TRUST_UNTRUSTED;
    else
        return ydoc_fail(d, v, "trust must be trusted or untrusted");
    return 0;
}

/* inputs[].peers: addresses or networks; each must parse now, so that a
 * typo is an error rather than a sender silently refused or admitted. */
static int kw_in_peers(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    size_t n;

    free(in->peers);
    in->peers = NULL;
    in->npeers = 0;
    if (v->type == YAML_SCALAR_NODE) {
        n = 1;
    } else if (v->type == YAML_SEQUENCE_NODE) {
        n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    } else {
        return ydoc_fail(d, v, "peers: expected an address, a network or a list of them");
    }
    if (n > LIMIT_INPUT_PEERS)
        return ydoc_fail(d, v, "peers: at most 256 addresses or networks");
    if (n == 0)
        return ydoc_fail(d, v, "peers: empty list (leave the key out to accept any sender)");
    in->peers = calloc(n, sizeof(*in->peers));
    if (!in->peers)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            v->type == YAML_SCALAR_NODE ? v : ydoc_node(d, v->data.sequence.items.start[i]);
        const char *s = item ? ydoc_scalar(item, NULL) : NULL;

        if (!s || cidr_parse(s, item->data.scalar.length, &in->peers[i]) < 0)
            return ydoc_fail(d, item ? item : v,
                             "peers: not an IP address or network (192.0.2.7, 10.0.0.0/8, "
                             "2001:db8::/32; names are not resolved)");
        in->npeers++;
    }
    return 0;
}

/* inputs[].tls: the syslog-tls listener's certificate and who may connect. */
static int kw_tls_cert(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct config_input *)arg)->tls_cert);
}

static int kw_tls_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct config_input *)arg)->tls_key);
}

static int kw_tls_ca(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, 0, &((struct config_input *)arg)->tls_ca);
}

static int kw_tls_fprs(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    size_t n;

    free(in->tls_fprs);
    in->tls_fprs = NULL;
    in->ntls_fprs = 0;
    if (v->type == YAML_SCALAR_NODE)
        n = 1;
    else if (v->type == YAML_SEQUENCE_NODE)
        n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    else
        return ydoc_fail(d, v, "client_fingerprints: expected a fingerprint or a list of them");
    if (n == 0 || n > INPUT_TLS_MAX_FPRS)
        return ydoc_fail(d, v, "client_fingerprints: between 1 and 256 fingerprints");
    in->tls_fprs = calloc(n, INPUT_TLS_FPR_LEN);
    if (!in->tls_fprs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            v->type == YAML_SCALAR_NODE ? v : ydoc_node(d, v->data.sequence.items.start[i]);
        const char *s = item ? ydoc_scalar(item, NULL) : NULL;

        if (!s || input_tls_fingerprint_parse(s, item->data.scalar.length,
                                              in->tls_fprs + i * INPUT_TLS_FPR_LEN) < 0)
            return ydoc_fail(d, item ? item : v,
                             "client_fingerprints: not a SHA-256 fingerprint (64 hex digits, "
                             "optionally in pairs separated by colons)");
        in->ntls_fprs++;
    }
    return 0;
}

static const struct ydoc_key tls_kw[] = {
    {"ca", kw_tls_ca},
    {"cert", kw_tls_cert},
    {"client_fingerprints", kw_tls_fprs},
    {"key", kw_tls_key},
};
static const struct ydoc_table tls_table = {tls_kw, YDOC_NKEYS(tls_kw), "tls: expected a mapping",
                                            NULL};

static int kw_in_tls(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    ((struct config_input *)arg)->has_tls = 1;
    return ydoc_walk(d, v, &tls_table, arg);
}

/* The TCP connection limits; checked against the type once it is known. */
static int kw_in_max_connections(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r =
        get_uint(d, v, 1, LIMIT_TCP_CLIENTS_MAX, &n, "max_connections must be between 1 and 65536");

    if (r == 0) {
        ((struct config_input *)arg)->conf.max_connections = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static int kw_in_max_per_address(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r =
        get_uint(d, v, 1, LIMIT_TCP_CLIENTS_MAX, &n, "max_per_address must be between 1 and 65536");

    if (r == 0) {
        ((struct config_input *)arg)->conf.max_per_address = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static int kw_in_idle_timeout(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n = 0;
    int r = get_uint(d, v, 0, 7 * 86400, &n, "idle_timeout must be 0 (never) to 604800 seconds");

    if (r == 0) {
        ((struct config_input *)arg)->conf.idle_timeout_s = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static const struct ydoc_key input_kw[] = {
    {"api_keys", kw_in_api_keys},
    {"decoder", kw_in_decoder},
    {"exercise", kw_in_exercise},
    {"expect_every", kw_in_expect_every},
    {"from_start", kw_in_from_start},
    {"idle_timeout", kw_in_idle_timeout},
    {"listen", kw_in_listen},
    {"max_body", kw_in_max_body},
    {"max_connections", kw_in_max_connections},
    {"max_line", kw_in_max_line},
    {"max_per_address", kw_in_max_per_address},
    {"name", kw_in_name},
    {"path", kw_in_path},
    {"peers", kw_in_peers},
    {"poll_ms", kw_in_poll_ms},
    {"silence_learn_max", kw_in_learn_max},
    {"silence_learn_min", kw_in_learn_min},
    {"timezone", kw_in_timezone},
    {"tls", kw_in_tls},
    {"trust", kw_in_trust},
    {"type", kw_in_type},
    {"users", kw_in_users},
};
static const struct ydoc_table input_table = {input_kw, YDOC_NKEYS(input_kw),
                                              "input: expected a mapping", NULL};

static void input_init_defaults(struct config_input *in)
{
    memset(in, 0, sizeof(*in));
    in->conf.type = (enum input_type) - 1;
    in->conf.max_line = LIMIT_LINE_DEFAULT;
    in->conf.poll_ms = 200;
    in->conf.max_connections = LIMIT_TCP_CLIENTS;
    in->conf.max_per_address = LIMIT_TCP_PER_ADDRESS;
    in->conf.idle_timeout_s = LIMIT_TCP_IDLE_S;
}

static void input_clear(struct config_input *in)
{
    free(in->name);
    free(in->listen);
    free(in->path);
    free(in->decoder);
    tz_free(in->tz);
    free(in->peers);
    free(in->tls_cert);
    free(in->tls_key);
    free(in->tls_ca);
    free(in->tls_fprs);
    for (size_t i = 0; i < in->nhttp_users; i++)
        free(in->http_users[i]);
    free(in->http_users);
    for (size_t i = 0; i < in->nhttp_api_keys; i++)
        free(in->http_api_keys[i]);
    free(in->http_api_keys);
}

/* Points conf's strings at the owned copies; after any realloc of the array. */
static void inputs_relink(struct config *c)
{
    for (size_t i = 0; i < c->ninputs; i++) {
        struct config_input *in = &c->inputs[i];
        in->conf.id = (uint32_t)i;
        in->conf.name = in->name;
        in->conf.listen = in->listen;
        in->conf.path = in->path;
        in->conf.peers = in->peers;
        in->conf.npeers = in->npeers;
        in->conf.tls_cert = in->tls_cert;
        in->conf.tls_key = in->tls_key;
        in->conf.tls_ca = in->tls_ca;
        in->conf.tls_fprs = in->tls_fprs;
        in->conf.ntls_fprs = in->ntls_fprs;
        in->conf.http_users = (const char *const *)in->http_users;
        in->conf.nhttp_users = in->nhttp_users;
        in->conf.http_api_keys = (const char *const *)in->http_api_keys;
        in->conf.nhttp_api_keys = in->nhttp_api_keys;
    }
}

static int input_is_net(const struct config_input *in)
{
    return in->conf.type == INPUT_SYSLOG_UDP || in->conf.type == INPUT_GELF_UDP ||
           in->conf.type == INPUT_HTTP_BULK || in->conf.type == INPUT_RELP ||
           INPUT_TYPE_IS_STREAM(in->conf.type);
}

/* GELF, JSON lines and the bulk API say what they carry: their decoder.
 * Syslog and files may carry anything: auto-detection. */
static const char *input_default_decoder(enum input_type t)
{
    if (t == INPUT_GELF_UDP || t == INPUT_GELF_TCP)
        return "gelf";
    if (t == INPUT_JSON_TCP || t == INPUT_HTTP_BULK)
        return "json";
    return "auto";
}

static int kw_inputs(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "inputs: expected a list");
    for (size_t i = 0; i < c->ninputs; i++)
        input_clear(&c->inputs[i]);
    free(c->inputs);
    c->inputs = NULL;
    c->ninputs = 0;
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > 256)
        return ydoc_fail(d, v, "too many inputs (at most 256)");
    if (n == 0)
        return 0;
    c->inputs = calloc(n, sizeof(*c->inputs));
    if (!c->inputs)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = ydoc_node(d, *it);
        struct config_input *in = &c->inputs[c->ninputs];
        int r;

        input_init_defaults(in);
        c->ninputs++;
        in->line = item ? (unsigned)item->start_mark.line + 1 : 0;
        if (!item)
            return ydoc_fail(d, v, "bad input");
        if ((r = ydoc_walk(d, item, &input_table, in)) < 0)
            return r;
        if ((int)in->conf.type == -1)
            return ydoc_fail(d, item, "input: missing type");
        if (!in->name) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "input%zu", c->ninputs - 1);
            if (!(in->name = strdup(tmp)))
                return -ENOMEM;
        }
        for (size_t j = 0; j + 1 < c->ninputs; j++)
            if (strcmp(c->inputs[j].name, in->name) == 0)
                return ydoc_fail(d, item, "input: duplicate name");
        if (input_is_net(in) && !in->listen)
            return ydoc_fail(d, item, "network input: missing listen (host:port)");
        if (in->conf.type == INPUT_FILE && !in->path)
            return ydoc_fail(d, item, "file input: missing path");
        if (in->npeers && !input_is_net(in))
            return ydoc_fail(d, item, "input: peers applies to network inputs only");
        if ((in->silence_learn_min_s || in->silence_learn_max_s) && in->expect_every_s)
            return ydoc_fail(d, item,
                             "input: silence_learn_min and silence_learn_max apply only when "
                             "intervals are learned (no expect_every)");
        if (in->silence_learn_min_s && in->silence_learn_max_s &&
            in->silence_learn_min_s > in->silence_learn_max_s)
            return ydoc_fail(d, item, "input: silence_learn_min is above silence_learn_max");
        if (in->tcp_keys && !INPUT_TYPE_IS_STREAM(in->conf.type))
            return ydoc_fail(d, item,
                             "input: max_connections, max_per_address and idle_timeout apply "
                             "to syslog-tcp, syslog-tls, gelf-tcp and json-tcp inputs only");
        if (in->has_tls && in->conf.type != INPUT_SYSLOG_TLS && in->conf.type != INPUT_HTTP_BULK)
            return ydoc_fail(d, item, "input: tls applies to syslog-tls and http-bulk inputs only");
        if (in->has_tls && in->conf.type == INPUT_HTTP_BULK &&
            (!in->tls_cert || !in->tls_key || in->tls_ca || in->ntls_fprs))
            return ydoc_fail(d, item,
                             "http-bulk input: tls takes cert and key (PEM files) only; shippers "
                             "authenticate with users or api_keys");
        if (in->conf.type == INPUT_SYSLOG_TLS && (!in->tls_cert || !in->tls_key))
            return ydoc_fail(d, item, "syslog-tls input: tls needs cert and key (PEM files)");
        if (in->conf.type == INPUT_SYSLOG_TLS && !in->tls_ca && !in->ntls_fprs)
            return ydoc_fail(d, item,
                             "syslog-tls input: tls needs ca or client_fingerprints: "
                             "clients must present a certificate we can check");
        if ((in->nhttp_users || in->nhttp_api_keys || in->conf.max_body) &&
            in->conf.type != INPUT_HTTP_BULK)
            return ydoc_fail(d, item,
                             "input: users, api_keys and max_body apply to http-bulk inputs only");
        /* A TLS input authenticates every client by its certificate, an
         * http-bulk input with credentials every request. */
        if (in->conf.trust == INPUT_TRUST_TRUSTED && !in->npeers && input_is_net(in) &&
            in->conf.type != INPUT_SYSLOG_TLS &&
            !(in->conf.type == INPUT_HTTP_BULK && (in->nhttp_users || in->nhttp_api_keys)))
            return ydoc_fail(d, item,
                             "input: trust: trusted on a network input needs peers: (the senders "
                             "allowed) or a syslog-tls input (client certificates); without either "
                             "anyone who reaches the port writes trusted records");
        if (!in->decoder && !(in->decoder = strdup(input_default_decoder(in->conf.type))))
            return -ENOMEM;
    }
    inputs_relink(c);
    return 0;
}

/* --- match: the literal rules of the first versions, now Sigma --- */

static int kw_match(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_fail(d, k,
                     "match: was removed: write the rule as a Sigma rule under sigma.rules "
                     "(hikeshi(8), RULES)");
}

/* --- sigma: --- */

static void sigma_rules_clear(struct config *c)
{
    for (size_t i = 0; i < c->nsigma_rules; i++)
        free(c->sigma_rules[i]);
    free(c->sigma_rules);
    c->sigma_rules = NULL;
    c->nsigma_rules = 0;
}

/* Records "what: why" at n: `what` names the setting more fully than its
 * key alone ("triage assets", not "assets"). */
static int fail_what(struct ydoc *d, const yaml_node_t *n, const char *what, const char *why)
{
    const char *key = d->key;
    int r;

    d->key = what;
    r = ydoc_failf(d, n, "%s", why);
    d->key = key;
    return r;
}

/* Replaces *arr with the path or list of paths in `v`. */
static int get_str_list(struct ydoc *d, yaml_node_t *v, char ***arr, size_t *n, const char *what)
{
    size_t cnt;

    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
    if (v->type != YAML_SCALAR_NODE && v->type != YAML_SEQUENCE_NODE)
        return fail_what(d, v, what, "expected a path or a list of paths");
    if (ydoc_list(d, v, 1, SIZE_MAX, &cnt) == 0 && cnt > 1024)
        return fail_what(d, v, what, "at most 1024 paths");
    return ydoc_strlist(d, v, 1024, 0, 0, arr, n);
}

static int kw_sigma_rules(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    cfg(d)->sigma_explicit = 1;
    return get_str_list(d, v, &cfg(d)->sigma_rules, &cfg(d)->nsigma_rules, "sigma rules");
}

static int kw_sigma_mappings(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    cfg(d)->sigma_explicit = 1;
    return ydoc_strdup(d, v, 0, 0, &cfg(d)->sigma_mappings);
}

static const struct ydoc_key sigma_kw[] = {
    {"mappings", kw_sigma_mappings},
    {"rules", kw_sigma_rules},
};
static const struct ydoc_table sigma_table = {sigma_kw, YDOC_NKEYS(sigma_kw),
                                              "sigma: expected a mapping", NULL};

static int kw_sigma(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &sigma_table, NULL);
}

/* --- triage: and anomaly: --- */

static int kw_triage_config(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    free(cfg(d)->triage_config);
    cfg(d)->triage_config = NULL;
    cfg(d)->triage_explicit = 1;
    return ydoc_strdup(d, v, 0, 0, &cfg(d)->triage_config);
}

static int kw_triage_assets(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str_list(d, v, &cfg(d)->triage_assets, &cfg(d)->ntriage_assets, "triage assets");
}

static const struct ydoc_key triage_kw[] = {
    {"assets", kw_triage_assets},
    {"config", kw_triage_config},
};
static const struct ydoc_table triage_table = {triage_kw, YDOC_NKEYS(triage_kw),
                                               "triage: expected a mapping", NULL};

static int kw_triage(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &triage_table, NULL);
}

static int kw_corr_max_memory(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x = 0;
    const char *s = ydoc_scalar(v, NULL);
    int r;

    /* auto (0): the engine sizes the cap from its rules and rate. */
    if (s && strcmp(s, "auto") == 0) {
        cfg(d)->corr_max_memory = 0;
        return 0;
    }
    if (s && (*s < '0' || *s > '9'))
        return ydoc_fail(d, v, "max_memory must be auto or a size such as 64m");
    r = get_uint(d, v, 64 * 1024, 64ULL * 1024 * 1024 * 1024, &x,
                 "max_memory must be auto or between 64k and 65536m");
    if (r == 0)
        cfg(d)->corr_max_memory = (size_t)x;
    return r;
}

static int kw_corr_tolerance(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x = 0;
    int r = get_uint(d, v, 0, 86400, &x, "late_tolerance must be 0 to 86400 seconds");

    if (r == 0)
        cfg(d)->corr_tolerance_s = (unsigned)x;
    return r;
}

static const struct ydoc_key corr_kw[] = {
    {"late_tolerance", kw_corr_tolerance},
    {"max_memory", kw_corr_max_memory},
};
static const struct ydoc_table corr_table = {corr_kw, YDOC_NKEYS(corr_kw),
                                             "correlation: expected a mapping", NULL};

static int kw_correlation(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &corr_table, NULL);
}

static int kw_anomaly_enabled(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->anomaly_enabled);
}

/* Our networks, for the outbound detectors (docs/anomaly.md); each must
 * parse now so that a typo is a config error, not a silent default. */
static int kw_anomaly_internal(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r = get_str_list(d, v, &cfg(d)->anomaly_internal, &cfg(d)->nanomaly_internal,
                         "anomaly internal");

    if (r < 0)
        return r;
    cfg(d)->anomaly_internal_set = 1;
    if (cfg(d)->nanomaly_internal > ANOMALY_INTERNAL_MAX)
        return ydoc_fail(d, v, "anomaly internal: at most 64 networks");
    for (size_t i = 0; i < cfg(d)->nanomaly_internal; i++) {
        struct asset_net net;
        const char *s = cfg(d)->anomaly_internal[i];

        if (!s || asset_net_parse(s, strlen(s), &net) < 0)
            return ydoc_fail(d, v,
                             "anomaly internal: not an address or network (10.0.0.0/8, fc00::/7)");
    }
    return 0;
}

static const struct ydoc_key anomaly_kw[] = {
    {"enabled", kw_anomaly_enabled},
    {"internal", kw_anomaly_internal},
};
static const struct ydoc_table anomaly_table = {anomaly_kw, YDOC_NKEYS(anomaly_kw),
                                                "anomaly: expected a mapping", NULL};

static int kw_anomaly(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &anomaly_table, NULL);
}

static int kw_incident_playbooks(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    free(cfg(d)->playbooks_dir);
    cfg(d)->playbooks_dir = NULL;
    return ydoc_strdup(d, v, 0, 0, &cfg(d)->playbooks_dir);
}

static int kw_incident_procedures(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, 4095, &cfg(d)->procedures_file);
}

/* One item of incident.targets: {phase, category?, level?, minutes|hours|days}. */
static int kw_target_phase(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_target *t = arg;
    const char *s = ydoc_scalar(v, NULL);
    enum incident_phase ph;

    if (!s || incident_phase_from_name(s, strlen(s), &ph) < 0 || ph == INCIDENT_PHASE_CLOSED)
        return ydoc_fail(d, v, "phase is new, first_aid, emergency, watch or full_response");
    t->phase = (int)ph;
    return 0;
}

static int kw_target_category(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_target *t = arg;
    const char *s = ydoc_scalar(v, NULL);
    enum asset_category cat;

    if (s && strcmp(s, "any") == 0) {
        t->category = -1;
        return 0;
    }
    if (s && strcmp(s, "none") == 0) {
        t->category = (int)ASSET_CAT_NONE;
        return 0;
    }
    if (!s || incident_category_from_name(s, strlen(s), &cat) < 0)
        return ydoc_fail(d, v, "category is A, B, C, D, none or any");
    t->category = (int)cat;
    return 0;
}

static int kw_target_level(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_target *t = arg;
    const char *s = ydoc_scalar(v, NULL);
    enum triage_alert_level l;

    if (s && strcmp(s, "any") == 0) {
        t->level = -1;
        return 0;
    }
    if (!s || incident_level_from_name(s, strlen(s), &l) < 0)
        return ydoc_fail(d, v, "level is Green, Yellow, Orange, Red or any");
    t->level = (int)l;
    return 0;
}

static int target_span(struct ydoc *d, yaml_node_t *v, struct config_target *t, int64_t unit)
{
    uint64_t x = 0;
    int r;

    if (t->us >= 0)
        return ydoc_fail(d, v, "give one of minutes, hours, days, seconds");
    if ((r = get_uint(d, v, 0, 3650ULL * 86400 * 1000000 / (uint64_t)unit, &x,
                      "the target is 0 (none) to 10 years")) < 0)
        return r;
    t->us = (int64_t)x * unit;
    return 0;
}

static int kw_target_seconds(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return target_span(d, v, arg, INT64_C(1000000));
}

static int kw_target_minutes(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return target_span(d, v, arg, INT64_C(60) * 1000000);
}

static int kw_target_hours(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return target_span(d, v, arg, INT64_C(3600) * 1000000);
}

static int kw_target_days(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return target_span(d, v, arg, INT64_C(86400) * 1000000);
}

static const struct ydoc_key target_kw[] = {
    {"category", kw_target_category}, {"days", kw_target_days},       {"hours", kw_target_hours},
    {"level", kw_target_level},       {"minutes", kw_target_minutes}, {"phase", kw_target_phase},
    {"seconds", kw_target_seconds},
};
static const struct ydoc_table target_table = {
    target_kw, YDOC_NKEYS(target_kw), "a target is a mapping: {phase, category, level, minutes}",
    NULL};

static int kw_incident_targets(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "incident targets: expected a list");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CONFIG_MAX_TARGETS)
        return ydoc_fail(d, v, "too many targets (at most 64)");
    free(c->targets);
    c->targets = n ? calloc(n, sizeof(*c->targets)) : NULL;
    c->ntargets = 0;
    if (n && !c->targets)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = ydoc_node(d, *it);
        struct config_target *t = &c->targets[c->ntargets];
        int r;

        *t = (struct config_target){.phase = -1, .category = -1, .level = -1, .us = -1};
        if (!item)
            return ydoc_fail(d, v, "bad target");
        if ((r = ydoc_walk(d, item, &target_table, t)) < 0)
            return r;
        if (t->phase < 0)
            return ydoc_fail(d, item, "a target needs a phase");
        if (t->us < 0)
            return ydoc_fail(d, item, "a target needs minutes, hours, days or seconds");
        c->ntargets++;
    }
    return 0;
}

/* incident.escalation (struct config_escalation). */

/* A span: whole seconds, or a number with s, m, h or d; 0 to 10 years. */
static int get_span(struct ydoc *d, yaml_node_t *v, const char *key, int64_t *ret)
{
    const char *s = ydoc_scalar(v, NULL);
    char *end = NULL;
    unsigned long long n;
    int64_t unit = 1;

    if (!s || s[0] < '0' || s[0] > '9')
        return ydoc_failf(d, v, "%s: expected a span such as 30s, 10m, 2h or 1d", key);
    errno = 0;
    n = strtoull(s, &end, 10);
    if (*end == 's')
        end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    if (errno || *end || n > 3650ULL * 86400 / (unsigned long long)unit)
        return ydoc_failf(d, v, "%s: expected a span such as 30s, 10m, 2h or 1d, at most 10 years",
                          key);
    *ret = (int64_t)n * unit * 1000000;
    return 0;
}

static int kw_esc_enabled(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "escalation enabled: expected true or false",
                     &cfg(d)->escalation.enabled);
}

static int kw_esc_lead(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_span(d, v, "escalation lead_time", &cfg(d)->escalation.lead_us);
}

static int kw_esc_every(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_span(d, v, "escalation every", &cfg(d)->escalation.every_us);
}

static int kw_esc_notify(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_escalation *e = &cfg(d)->escalation;
    size_t cnt = 0;
    int r;

    for (size_t i = 0; i < e->nnotify; i++)
        free(e->notify[i]);
    free(e->notify);
    e->notify = NULL;
    e->nnotify = 0;
    if ((r = ydoc_list(d, v, 1, SIZE_MAX, &cnt)) < 0)
        return r;
    if (cnt > CONFIG_ESCALATION_NOTIFY_MAX)
        return ydoc_fail(d, v, "escalation notify: at most 8 webhook URLs");
    if ((r = ydoc_strlist(d, v, CONFIG_ESCALATION_NOTIFY_MAX, 1, 2048, &e->notify, &e->nnotify)) <
        0)
        return r;
    for (size_t i = 0; i < e->nnotify; i++)
        if (strncmp(e->notify[i], "http://", 7) != 0 && strncmp(e->notify[i], "https://", 8) != 0)
            return ydoc_failf(d, v, "escalation notify: '%s' is not an http:// or https:// URL",
                              e->notify[i]);
    return 0;
}

static int kw_esc_secret(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    free(cfg(d)->escalation.secret_file);
    cfg(d)->escalation.secret_file = NULL;
    return ydoc_strdup(d, v, 0, 0, &cfg(d)->escalation.secret_file);
}

static int kw_esc_chain(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_escalation *e = &cfg(d)->escalation;
    size_t cnt = 0;
    int r;

    for (size_t i = 0; i < e->nchain; i++)
        free(e->chain[i]);
    free(e->chain);
    e->chain = NULL;
    e->nchain = 0;
    if ((r = ydoc_list(d, v, 1, SIZE_MAX, &cnt)) < 0)
        return r;
    if (cnt == 0 || cnt > 8)
        return ydoc_fail(d, v, "escalation chain: 1 to 8 entries (assignee, a role or a name)");
    return ydoc_strlist(d, v, 8, 1, 64, &e->chain, &e->nchain);
}

static const struct ydoc_key escalation_kw[] = {
    {"chain", kw_esc_chain},   {"enabled", kw_esc_enabled},         {"every", kw_esc_every},
    {"lead_time", kw_esc_lead}, {"notify", kw_esc_notify}, {"secret_file", kw_esc_secret},
};
static const struct ydoc_table escalation_table = {escalation_kw, YDOC_NKEYS(escalation_kw),
                                                   "incident escalation: expected a mapping",
                                                   NULL};

static int kw_incident_escalation(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int r = ydoc_walk(d, v, &escalation_table, NULL);

    if (r == 0 && cfg(d)->escalation.nnotify && !cfg(d)->escalation.secret_file)
        return ydoc_fail(d, v,
                         "incident escalation: notify needs secret_file (the webhooks' HMAC key, "
                         "at least 32 bytes)");
    return r;
}

/* incident.messages (struct config_messages). */

static int kw_msg_enabled(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "messages enabled: expected true or false", &cfg(d)->messages.enabled);
}

static int kw_msg_first(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "messages first_report: expected true or false",
                     &cfg(d)->messages.first_report);
}

static int kw_msg_smtp(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    char **p = &cfg(d)->messages.smtp;
    int r;

    free(*p);
    *p = NULL;
    if ((r = ydoc_strdup(d, v, 1, 2048, p)) < 0)
        return r;
    if (strncmp(*p, "smtp://", 7) != 0 && strncmp(*p, "smtps://", 8) != 0)
        return ydoc_failf(d, v, "messages smtp: '%s' is not an smtp:// or smtps:// URL", *p);
    return 0;
}

static int kw_msg_from(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    char **p = &cfg(d)->messages.from;
    const char *at;
    int r;

    free(*p);
    *p = NULL;
    if ((r = ydoc_strdup(d, v, 3, 320, p)) < 0)
        return r;
    at = strchr(*p, '@');
    if (!at || at == *p || !at[1] || strpbrk(*p, " <>\"\r\n\t,"))
        return ydoc_fail(d, v, "messages from: expected one address, local@domain");
    return 0;
}

static int kw_msg_attempts(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n;
    int r = get_uint(d, v, 1, 20, &n, "messages attempts must be 1 to 20");

    if (r == 0)
        cfg(d)->messages.attempts = (unsigned)n;
    return r;
}

static int kw_msg_retry(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_span(d, v, "messages retry", &cfg(d)->messages.retry_us);
}

static int kw_msg_retry_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_span(d, v, "messages retry_max", &cfg(d)->messages.retry_max_us);
}

static int kw_msg_allow(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_messages *m = &cfg(d)->messages;
    size_t cnt = 0;
    int r;

    for (size_t i = 0; i < m->nwebhook_allow; i++)
        free(m->webhook_allow[i]);
    free(m->webhook_allow);
    m->webhook_allow = NULL;
    m->nwebhook_allow = 0;
    if ((r = ydoc_list(d, v, 1, SIZE_MAX, &cnt)) < 0)
        return r;
    if (cnt > CONFIG_MESSAGES_ALLOW_MAX)
        return ydoc_fail(d, v, "messages webhook_allow: at most 16 URL prefixes");
    if ((r = ydoc_strlist(d, v, CONFIG_MESSAGES_ALLOW_MAX, 1, 2048, &m->webhook_allow,
                          &m->nwebhook_allow)) < 0)
        return r;
    for (size_t i = 0; i < m->nwebhook_allow; i++) {
        const char *u = m->webhook_allow[i];
        const char *host = strstr(u, "://");
        if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || !host ||
            !strchr(host + 3, '/'))
            return ydoc_failf(d, v,
                              "messages webhook_allow: '%s' is not an http(s) URL prefix ending "
                              "in a path (such as https://host/hook/)",
                              u);
    }
    return 0;
}

static int kw_msg_str(struct ydoc *d, yaml_node_t *v, char **p)
{
    free(*p);
    *p = NULL;
    return ydoc_strdup(d, v, 1, 4096, p);
}

static int kw_msg_secret(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_msg_str(d, v, &cfg(d)->messages.secret_file);
}

static int kw_msg_export(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_msg_str(d, v, &cfg(d)->messages.export_dir);
}

static int kw_msg_responsible(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_msg_str(d, v, &cfg(d)->messages.responsible);
}

static const struct ydoc_key messages_kw[] = {
    {"attempts", kw_msg_attempts},   {"enabled", kw_msg_enabled},
    {"export_dir", kw_msg_export},   {"first_report", kw_msg_first},
    {"from", kw_msg_from},           {"responsible", kw_msg_responsible},
    {"retry", kw_msg_retry},         {"retry_max", kw_msg_retry_max},
    {"secret_file", kw_msg_secret},  {"smtp", kw_msg_smtp},
    {"webhook_allow", kw_msg_allow},
};
static const struct ydoc_table messages_table = {messages_kw, YDOC_NKEYS(messages_kw),
                                                 "incident messages: expected a mapping", NULL};

static int kw_incident_messages(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &messages_table, NULL);
}

static const struct ydoc_key incident_kw[] = {
    {"escalation", kw_incident_escalation},
    {"messages", kw_incident_messages},
    {"playbooks", kw_incident_playbooks},
    {"procedures", kw_incident_procedures},
    {"targets", kw_incident_targets},
};
static const struct ydoc_table incident_table = {incident_kw, YDOC_NKEYS(incident_kw),
                                                 "incident: expected a mapping", NULL};

static int kw_incident(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &incident_table, NULL);
}

/* --- respond: --- */

static int kw_respond_policy(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    free(cfg(d)->respond_policy);
    cfg(d)->respond_policy = NULL;
    cfg(d)->respond_explicit = 1;
    return get_str_or_off(d, v, &cfg(d)->respond_policy);
}

static const struct ydoc_key respond_kw[] = {
    {"policy", kw_respond_policy},
};
static const struct ydoc_table respond_table = {respond_kw, YDOC_NKEYS(respond_kw),
                                                "respond: expected a mapping", NULL};

static int kw_respond(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &respond_table, NULL);
}

/* --- security: --- */

/* A user or group name: "" (the default) or up to 63 printable bytes. */
static int get_account(struct ydoc *d, yaml_node_t *v, char **dst, const char *what)
{
    const char *s = ydoc_scalar(v, NULL);
    int r;

    if (s && s[0] == '\0') {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if ((r = ydoc_strdup(d, v, 0, 0, dst)) < 0)
        return r;
    for (const char *q = *dst; *q; q++)
        if (*q <= ' ' || *q > '~' || *q == ':' || *q == '/')
            return ydoc_fail(d, v, what);
    if (strlen(*dst) > 63)
        return ydoc_fail(d, v, what);
    return 0;
}

static int kw_security_user(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_account(d, v, &cfg(d)->security_user,
                       "user: a user name (up to 63 characters, no spaces, ':' or '/')");
}

static int kw_security_group(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_account(d, v, &cfg(d)->security_group,
                       "group: a group name (up to 63 characters, no spaces, ':' or '/')");
}

static int kw_security_seccomp(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->security_seccomp);
}

static const struct ydoc_key security_kw[] = {
    {"group", kw_security_group},
    {"seccomp", kw_security_seccomp},
    {"user", kw_security_user},
};
static const struct ydoc_table security_table = {security_kw, YDOC_NKEYS(security_kw),
                                                 "security: expected a mapping", NULL};

static int kw_security(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &security_table, NULL);
}

/* --- archive: --- */

/* A file path, or "" for none. */
static int get_path_or_none(struct ydoc *d, yaml_node_t *v, char **dst)
{
    const char *s = ydoc_scalar(v, NULL);

    if (s && s[0] == '\0') {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    return ydoc_strdup(d, v, 0, 0, dst);
}

static int kw_archive_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->archive_key);
}

static int kw_archive_verify_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->archive_verify_key);
}

static int kw_archive_enabled(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, NULL, &cfg(d)->archive_enabled);
}

/* "every record", or "every N ms" / "every N s": how long an appended
 * record may wait for fdatasync. */
int config_parse_archive_sync(const char *s, uint64_t *ret_ms)
{
    const char *unit;
    char *end;
    unsigned long long n;

    if (strcmp(s, "every record") == 0) {
        *ret_ms = 0;
        return 0;
    }
    if (strncmp(s, "every ", 6) != 0 || !isdigit((unsigned char)s[6]))
        return -EINVAL;
    errno = 0;
    n = strtoull(s + 6, &end, 10);
    if (errno)
        return -EINVAL;
    for (unit = end; *unit == ' ';)
        unit++;
    if (strcmp(unit, "s") == 0 && n <= 60)
        n *= 1000;
    else if (strcmp(unit, "ms") != 0)
        return -EINVAL;
    if (n < 1 || n > 60000)
        return -EINVAL;
    *ret_ms = n;
    return 0;
}

static int kw_archive_sync(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);

    if (!s || config_parse_archive_sync(s, &cfg(d)->archive_sync_ms) < 0)
        return ydoc_fail(d, v,
                         "archive.sync: expected \"every record\" or \"every N ms\" "
                         "(1 to 60000 ms, or \"every N s\" up to 60 s)");
    return 0;
}

static int kw_archive_block_size(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 4096, 8 * 1024 * 1024, &cfg(d)->archive_block_bytes,
                    "archive.block_size must be 4k to 8m bytes");
}

static int kw_archive_segment_size(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 1024 * 1024, 64ULL * 1024 * 1024 * 1024, &cfg(d)->archive_segment_bytes,
                    "archive.segment_size must be 1 MiB to 64 GiB");
}

static int kw_archive_seal_records(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 0, 1000000000, &cfg(d)->archive_seal_records,
                    "archive.seal_records must be 0 (not by count) to 1000000000");
}

static int kw_archive_seal_interval(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 0, 86400, &cfg(d)->archive_seal_interval_s,
                    "archive.seal_interval must be 0 (not by time) to 86400 seconds");
}

/* archive.retention.max_age: a duration, 1 second to 100 years. */
static int kw_retention_max_age(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int64_t n = 0;

    if (!s || config_parse_duration(s, &n) < 0 || n < 0 || n > 100LL * 366 * 86400)
        return ydoc_fail(d, v, "archive.retention.max_age: expected a duration such as 90d, 12h "
                               "or 3600 (seconds), at most 100 years; 0 for no age limit");
    cfg(d)->archive_retention_max_age_s = (uint64_t)n;
    return 0;
}

/* "50G": digits and an optional k, m, g or t (powers of 1024). */
int config_parse_size(const char *s, uint64_t *ret)
{
    uint64_t v = 0;
    int shift = 0;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    switch (*s) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -EINVAL;
    }
    if (*s && s[1] != '\0')
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *ret = v << shift;
    return 0;
}

static int kw_retention_max_size(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    uint64_t n = 0;

    if (!s || config_parse_size(s, &n) < 0 || (n != 0 && n < 1024 * 1024))
        return ydoc_fail(d, v, "archive.retention.max_size: expected a size such as 50G, 500M "
                               "or bytes, at least 1M; 0 for no size limit");
    cfg(d)->archive_retention_max_bytes = n;
    return 0;
}

static int kw_retention_interval(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int64_t n = 0;

    if (!s || config_parse_duration(s, &n) < 0 || n < 1 || n > 86400)
        return ydoc_fail(d, v, "archive.retention.interval: expected a duration from 1 second "
                               "to 1 day, such as 10m");
    cfg(d)->archive_retention_interval_s = (uint64_t)n;
    return 0;
}

/* archive.retention.inputs: NAME: {max_age, max_size}, each as the
 * archive's own (max_size: 0 or at least 1M). */
static int kw_rin_max_age(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_retention_input *ri = arg;
    const char *s = ydoc_scalar(v, NULL);
    int64_t n = 0;

    if (!s || config_parse_duration(s, &n) < 0 || n < 0 || n > 100LL * 366 * 86400)
        return ydoc_fail(d, v,
                         "archive.retention.inputs max_age: expected a duration such as 7d, 12h "
                         "or 3600 (seconds), at most 100 years; 0 for the archive's max_age");
    ri->max_age_s = (uint64_t)n;
    return 0;
}

static int kw_rin_max_size(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_retention_input *ri = arg;
    const char *s = ydoc_scalar(v, NULL);
    uint64_t n = 0;

    if (!s || config_parse_size(s, &n) < 0 || (n != 0 && n < 1024 * 1024))
        return ydoc_fail(d, v,
                         "archive.retention.inputs max_size: expected a size such as 5G, 500M "
                         "or bytes, at least 1M; 0 for no size limit of its own");
    ri->max_bytes = n;
    return 0;
}

static const struct ydoc_key rin_kw[] = {
    {"max_age", kw_rin_max_age},
    {"max_size", kw_rin_max_size},
};
static const struct ydoc_table rin_table = {
    rin_kw, YDOC_NKEYS(rin_kw),
    "archive.retention.inputs: each input's value is a mapping: {max_age, max_size}", NULL};

static void retention_inputs_free(struct config *c)
{
    for (size_t i = 0; i < c->narchive_retention_inputs; i++)
        free(c->archive_retention_inputs[i].name);
    free(c->archive_retention_inputs);
    c->archive_retention_inputs = NULL;
    c->narchive_retention_inputs = 0;
}

static int kw_retention_inputs(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_MAPPING_NODE)
        return ydoc_fail(d, v,
                         "archive.retention.inputs: expected a mapping of input names to "
                         "{max_age, max_size}");
    n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n > CONFIG_MAX_RETENTION_INPUTS)
        return ydoc_fail(d, v, "archive.retention.inputs: at most 256 inputs");
    retention_inputs_free(c);
    c->archive_retention_inputs = n ? calloc(n, sizeof(*c->archive_retention_inputs)) : NULL;
    if (n && !c->archive_retention_inputs)
        return -ENOMEM;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = ydoc_node(d, p->key), *vn = ydoc_node(d, p->value);
        struct config_retention_input *ri =
            &c->archive_retention_inputs[c->narchive_retention_inputs];
        int r;

        if (!kn || !vn)
            return ydoc_fail(d, v, "archive.retention.inputs: bad entry");
        r = ydoc_strdup(d, kn, 1, 255, &ri->name);
        c->narchive_retention_inputs++; /* counted before checks: freed with the config */
        if (r < 0)
            return r;
        for (size_t j = 0; j + 1 < c->narchive_retention_inputs; j++)
            if (strcmp(c->archive_retention_inputs[j].name, ri->name) == 0)
                return ydoc_fail(d, kn, "archive.retention.inputs: this input is already listed");
        if ((r = ydoc_walk(d, vn, &rin_table, ri)) < 0)
            return r;
        if (!ri->max_age_s && !ri->max_bytes)
            return ydoc_fail(d, vn, "archive.retention.inputs: give max_age, max_size or both");
    }
    return 0;
}

static const struct ydoc_key retention_kw[] = {
    {"inputs", kw_retention_inputs},
    {"interval", kw_retention_interval},
    {"max_age", kw_retention_max_age},
    {"max_size", kw_retention_max_size},
};
static const struct ydoc_table retention_table = {
    retention_kw, YDOC_NKEYS(retention_kw), "archive.retention: expected a mapping", NULL};

static int kw_archive_retention(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &retention_table, NULL);
}

/* archive.witness: a list of {file: PATH} or {url: URL, secret_file: PATH}. */
static int kw_witness_file(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_witness *w = arg;
    int r = ydoc_strdup(d, v, 2, PATH_MAX - 1, &w->file);

    if (r < 0)
        return r;
    if (w->file[0] != '/')
        return ydoc_fail(d, v, "archive.witness file: an absolute path");
    return 0;
}

static int kw_witness_url(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_witness *w = arg;
    int r = ydoc_strdup(d, v, 8, 2048, &w->url);

    if (r < 0)
        return r;
    if (strncmp(w->url, "http://", 7) != 0 && strncmp(w->url, "https://", 8) != 0)
        return ydoc_fail(d, v, "archive.witness url: an http:// or https:// URL");
    for (const char *p = w->url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return ydoc_fail(d, v, "archive.witness url: no spaces or control characters");
    return 0;
}

static int kw_witness_hikeshi(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_witness *w = arg;
    int r = ydoc_strdup(d, v, 8, 2048, &w->hikeshi);
    size_t n;

    if (r < 0)
        return r;
    n = strlen(w->hikeshi);
    if ((strncmp(w->hikeshi, "http://", 7) != 0 && strncmp(w->hikeshi, "https://", 8) != 0) ||
        n < 6 || strcmp(w->hikeshi + n - 6, "/_bulk") != 0)
        return ydoc_fail(d, v,
                         "archive.witness hikeshi: the _bulk URL of another hikeshi's http-bulk "
                         "input, such as http://witness.example:9201/_bulk");
    for (const char *p = w->hikeshi; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return ydoc_fail(d, v, "archive.witness hikeshi: no spaces or control characters");
    return 0;
}

static int kw_witness_auth(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_witness *w = arg;
    const char *colon;
    int r = ydoc_strdup(d, v, 3, 4096, &w->auth_header);

    if (r < 0)
        return r;
    colon = strchr(w->auth_header, ':');
    for (const char *p = w->auth_header; *p; p++)
        if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
            return ydoc_fail(d, v, "archive.witness auth_header: no control characters");
    if (!colon || colon == w->auth_header ||
        memchr(w->auth_header, ' ', (size_t)(colon - w->auth_header)))
        return ydoc_fail(d, v,
                         "archive.witness auth_header: \"Name: value\", such as "
                         "\"Authorization: ApiKey KEY\"");
    return 0;
}

static int kw_witness_secret(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_witness *w = arg;

    return ydoc_strdup(d, v, 1, PATH_MAX - 1, &w->secret_file);
}

static const struct ydoc_key witness_kw[] = {
    {"auth_header", kw_witness_auth},   {"file", kw_witness_file}, {"hikeshi", kw_witness_hikeshi},
    {"secret_file", kw_witness_secret}, {"url", kw_witness_url},
};
static const struct ydoc_table witness_table = {
    witness_kw, YDOC_NKEYS(witness_kw),
    "archive.witness: each entry is a mapping: {file: PATH}, {url: URL, secret_file: PATH} or "
    "{hikeshi: URL/_bulk, auth_header: ...}",
    NULL};

static void archive_witness_free(struct config *c)
{
    for (size_t i = 0; i < c->narchive_witness; i++) {
        free(c->archive_witness[i].file);
        free(c->archive_witness[i].url);
        free(c->archive_witness[i].secret_file);
        free(c->archive_witness[i].hikeshi);
        free(c->archive_witness[i].auth_header);
    }
    free(c->archive_witness);
    c->archive_witness = NULL;
    c->narchive_witness = 0;
}

static int kw_archive_witness(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "archive.witness: expected a list");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CONFIG_MAX_WITNESSES)
        return ydoc_fail(d, v, "archive.witness: at most 8 witnesses");
    archive_witness_free(c);
    c->archive_witness = n ? calloc(n, sizeof(*c->archive_witness)) : NULL;
    if (n && !c->archive_witness)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = ydoc_node(d, *it);
        struct config_witness *w = &c->archive_witness[c->narchive_witness];
        int r;

        if (!item)
            return ydoc_fail(d, v, "archive.witness: bad entry");
        r = ydoc_walk(d, item, &witness_table, w);
        c->narchive_witness++; /* counted before checks: freed with the config */
        if (r < 0)
            return r;
        if ((w->file != NULL) + (w->url != NULL) + (w->hikeshi != NULL) != 1)
            return ydoc_fail(d, item,
                             "archive.witness: an entry names one of file, url or hikeshi");
        if (w->auth_header && !w->hikeshi)
            return ydoc_fail(d, item, "archive.witness: auth_header goes with hikeshi");
        if (w->url && !w->secret_file)
            return ydoc_fail(d, item,
                             "archive.witness: a url needs secret_file (the HMAC key, at least "
                             "32 bytes, as for response webhooks)");
        if (w->file && w->secret_file)
            return ydoc_fail(d, item, "archive.witness: secret_file goes with a url");
        for (size_t j = 0; j + 1 < c->narchive_witness; j++) {
            const struct config_witness *o = &c->archive_witness[j];

            if ((w->file && o->file && strcmp(w->file, o->file) == 0) ||
                (w->url && o->url && strcmp(w->url, o->url) == 0) ||
                (w->hikeshi && o->hikeshi && strcmp(w->hikeshi, o->hikeshi) == 0))
                return ydoc_fail(d, item, "archive.witness: this witness is already listed");
        }
    }
    return 0;
}

static const struct ydoc_key archive_kw[] = {
    {"block_size", kw_archive_block_size},
    {"enabled", kw_archive_enabled},
    {"key", kw_archive_key},
    {"retention", kw_archive_retention},
    {"seal_interval", kw_archive_seal_interval},
    {"seal_records", kw_archive_seal_records},
    {"segment_size", kw_archive_segment_size},
    {"sync", kw_archive_sync},
    {"verify_key", kw_archive_verify_key},
    {"witness", kw_archive_witness},
};
static const struct ydoc_table archive_table = {archive_kw, YDOC_NKEYS(archive_kw),
                                                "archive: expected a mapping", NULL};

static int kw_archive(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &archive_table, NULL);
}

/* --- audit: --- */

static int kw_audit_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->audit_key);
}

static int kw_audit_verify_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->audit_verify_key);
}

static int kw_audit_head(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->audit_head);
}

static int kw_audit_seal_entries(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 0, 1000000000, &cfg(d)->audit_seal_entries,
                    "seal_entries must be 0 (not by count) to 1000000000");
}

static int kw_audit_seal_interval(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 0, 86400, &cfg(d)->audit_seal_interval_s,
                    "seal_interval must be 0 (not by time) to 86400 seconds");
}

static int kw_audit_head_url(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    char **dst = &cfg(d)->audit_head_url;
    int r = ydoc_strdup(d, v, 8, 2048, dst);

    if (r < 0)
        return r;
    if (strncmp(*dst, "http://", 7) != 0 && strncmp(*dst, "https://", 8) != 0)
        return ydoc_fail(d, v, "audit.head_url: an http:// or https:// URL");
    for (const char *p = *dst; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return ydoc_fail(d, v, "audit.head_url: no spaces or control characters");
    return 0;
}

static int kw_audit_head_secret(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, PATH_MAX - 1, &cfg(d)->audit_head_secret_file);
}

static const struct ydoc_key audit_kw[] = {
    {"head", kw_audit_head},
    {"head_secret_file", kw_audit_head_secret},
    {"head_url", kw_audit_head_url},
    {"key", kw_audit_key},
    {"seal_entries", kw_audit_seal_entries},
    {"seal_interval", kw_audit_seal_interval},
    {"verify_key", kw_audit_verify_key},
};
static const struct ydoc_table audit_table = {audit_kw, YDOC_NKEYS(audit_kw),
                                              "audit: expected a mapping", NULL};

static int kw_audit(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const struct config *c = cfg(d);
    int r = ydoc_walk(d, v, &audit_table, NULL);

    if (r == 0 && c->audit_head_url && (!c->audit_head || !c->audit_head_secret_file))
        return ydoc_fail(d, v,
                         "audit.head_url needs audit.head (the head it sends) and "
                         "audit.head_secret_file (the HMAC key, at least 32 bytes)");
    return r;
}

/* --- evidence: --- */

static int kw_evidence_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->evidence_key);
}

static int kw_evidence_verify_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->evidence_verify_key);
}

/* Absolute directories only: the API compares resolved paths with them. */
static int kw_evidence_intake(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    int r = get_str_list(d, v, &c->evidence_intake, &c->nevidence_intake, "evidence intake");

    for (size_t i = 0; r == 0 && i < c->nevidence_intake; i++)
        if (c->evidence_intake[i][0] != '/')
            return fail_what(d, v, "evidence intake", "each directory must be an absolute path");
    return r;
}

static const struct ydoc_key evidence_kw[] = {
    {"intake", kw_evidence_intake},
    {"key", kw_evidence_key},
    {"verify_key", kw_evidence_verify_key},
};
static const struct ydoc_table evidence_table = {evidence_kw, YDOC_NKEYS(evidence_kw),
                                                 "evidence: expected a mapping", NULL};

static int kw_evidence(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &evidence_table, NULL);
}

/* --- intel: --- */

static int kw_intel_warninglists(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_path_or_none(d, v, &cfg(d)->intel_warninglists);
}

static int kw_intel_half_life(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t days;
    int r = get_uint(d, v, 0, 3650, &days, "intel.half_life must be 0 (no decay) to 3650 days");

    if (r == 0)
        cfg(d)->intel_half_life_s = days * 86400;
    return r;
}

static int kw_intel_min_score(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_uint(d, v, 0, 100, &cfg(d)->intel_min_score, "intel.min_score must be 0 to 100");
}

static int kw_intel_identity(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, 128, &cfg(d)->intel_identity);
}

/* intel.peers: TLP names as enum intel_tlp numbers (conf/ sits below
 * intel/, so the names are spelled here); RED is never served. */
static int peer_tlp(const char *s)
{
    static const char *const names[] = {"clear", "green", "amber", "amber+strict"};

    if (strncasecmp(s, "tlp:", 4) == 0)
        s += 4;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return strcasecmp(s, "white") == 0 ? 0 : -1;
}

static int kw_peer_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, 128, &((struct config_intel_peer *)arg)->name);
}

static int kw_peer_user(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_account(d, v, &((struct config_intel_peer *)arg)->user,
                       "intel.peers user: an API user name (up to 63 characters, no spaces, ':' "
                       "or '/')");
}

static int kw_peer_tlp_max(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int t = s ? peer_tlp(s) : -1;

    if (t < 0)
        return ydoc_fail(d, v, "intel.peers tlp_max: CLEAR, GREEN, AMBER or AMBER+STRICT "
                               "(RED is never served)");
    ((struct config_intel_peer *)arg)->tlp_max = t;
    return 0;
}

static const struct ydoc_key peer_kw[] = {
    {"name", kw_peer_name},
    {"tlp_max", kw_peer_tlp_max},
    {"user", kw_peer_user},
};
static const struct ydoc_table peer_table = {
    peer_kw, YDOC_NKEYS(peer_kw), "a peer is a mapping: {name, user, tlp_max}", NULL};

static void intel_peers_free(struct config *c)
{
    for (size_t i = 0; i < c->nintel_peers; i++) {
        free(c->intel_peers[i].name);
        free(c->intel_peers[i].user);
    }
    free(c->intel_peers);
    c->intel_peers = NULL;
    c->nintel_peers = 0;
}

static int kw_intel_peers(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "intel.peers: expected a list");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CONFIG_MAX_INTEL_PEERS)
        return ydoc_fail(d, v, "intel.peers: at most 64 peers");
    intel_peers_free(c);
    c->intel_peers = n ? calloc(n, sizeof(*c->intel_peers)) : NULL;
    if (n && !c->intel_peers)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = ydoc_node(d, *it);
        struct config_intel_peer *p = &c->intel_peers[c->nintel_peers];
        int r;

        p->tlp_max = 1; /* GREEN */
        if (!item)
            return ydoc_fail(d, v, "intel.peers: bad peer");
        r = ydoc_walk(d, item, &peer_table, p);
        c->nintel_peers++; /* counted before checks: freed with the config */
        if (r < 0)
            return r;
        if (!p->user)
            return ydoc_fail(d, item, "intel.peers: a peer needs a user (the API user whose "
                                      "tokens it presents)");
        if (!p->name && !(p->name = strdup(p->user)))
            return -ENOMEM;
        for (size_t j = 0; j + 1 < c->nintel_peers; j++)
            if (strcmp(c->intel_peers[j].user, p->user) == 0)
                return ydoc_fail(d, item, "intel.peers: this user is already a peer");
    }
    return 0;
}

/* intel.feeds: each one a mapping {name, url, format, interval, tlp,
 * confidence, auth_header, ca_file, client_cert, client_key}. */
static int kw_feed_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_intel_feed *f = arg;
    int r = ydoc_strdup(d, v, 1, 64, &f->name);

    if (r < 0)
        return r;
    for (const char *p = f->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-') ||
            f->name[0] == '.')
            return ydoc_fail(d, v,
                             "intel.feeds name: letters, digits, '.', '_' and '-' only "
                             "(it names files in data_dir), not starting with '.'");
    return 0;
}

static int kw_feed_url(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_intel_feed *f = arg;
    int r = ydoc_strdup(d, v, 8, 2048, &f->url);

    if (r < 0)
        return r;
    if (strncmp(f->url, "http://", 7) != 0 && strncmp(f->url, "https://", 8) != 0)
        return ydoc_fail(d, v, "intel.feeds url: an http:// or https:// URL");
    for (const char *p = f->url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return ydoc_fail(d, v, "intel.feeds url: no spaces or control characters");
    return 0;
}

static int kw_feed_format(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    static const char *const names[] = {"stix", "misp", "misp-feed", "csv"};
    const char *s = ydoc_scalar(v, NULL);

    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            ((struct config_intel_feed *)arg)->format = i;
            return 0;
        }
    return ydoc_fail(d, v, "intel.feeds format: stix, misp, misp-feed or csv");
}

static int kw_feed_interval(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_intel_feed *f = arg;
    int r = get_span(d, v, "intel.feeds interval", &f->interval_us);

    if (r == 0 && f->interval_us < 1000000)
        return ydoc_fail(d, v, "intel.feeds interval: at least 1s");
    return r;
}

static int kw_feed_tlp(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = ydoc_scalar(v, NULL);
    int t = s ? peer_tlp(s) : -1;

    if (t < 0 && s && (strcasecmp(s, "red") == 0 || strcasecmp(s, "tlp:red") == 0))
        t = 4;
    if (t < 0)
        return ydoc_fail(d, v, "intel.feeds tlp: CLEAR, GREEN, AMBER, AMBER+STRICT or RED");
    ((struct config_intel_feed *)arg)->tlp = t;
    return 0;
}

static int kw_feed_confidence(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t n;
    int r = get_uint(d, v, 0, 100, &n, "intel.feeds confidence must be 0 to 100");

    if (r == 0)
        ((struct config_intel_feed *)arg)->confidence = (int)n;
    return r;
}

static int kw_feed_auth_header(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_intel_feed *f = arg;
    const char *colon;
    int r = ydoc_strdup(d, v, 3, 4096, &f->auth_header);

    if (r < 0)
        return r;
    colon = strchr(f->auth_header, ':');
    for (const char *p = f->auth_header; *p; p++)
        if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
            return ydoc_fail(d, v, "intel.feeds auth_header: no control characters");
    if (!colon || colon == f->auth_header ||
        memchr(f->auth_header, ' ', (size_t)(colon - f->auth_header)))
        return ydoc_fail(d, v,
                         "intel.feeds auth_header: \"Name: value\", such as "
                         "\"Authorization: KEY\"");
    return 0;
}

/* A PEM file for libcurl: an absolute path (the daemon's working
 * directory is not the configuration's), without control characters. */
static int feed_pem(struct ydoc *d, yaml_node_t *v, const char *what, char **dst)
{
    int r = ydoc_strdup(d, v, 2, 4096, dst);

    if (r < 0)
        return r;
    for (const char *p = *dst; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return ydoc_fail(d, v, what);
    if ((*dst)[0] != '/')
        return ydoc_fail(d, v, what);
    return 0;
}

static int kw_feed_ca_file(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return feed_pem(d, v, "intel.feeds ca_file: an absolute path to a PEM file of CA certificates",
                    &((struct config_intel_feed *)arg)->ca_file);
}

static int kw_feed_client_cert(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return feed_pem(d, v, "intel.feeds client_cert: an absolute path to a PEM certificate",
                    &((struct config_intel_feed *)arg)->client_cert);
}

static int kw_feed_client_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return feed_pem(d, v, "intel.feeds client_key: an absolute path to a PEM private key",
                    &((struct config_intel_feed *)arg)->client_key);
}

static const struct ydoc_key feed_kw[] = {
    {"auth_header", kw_feed_auth_header},
    {"ca_file", kw_feed_ca_file},
    {"client_cert", kw_feed_client_cert},
    {"client_key", kw_feed_client_key},
    {"confidence", kw_feed_confidence},
    {"format", kw_feed_format},
    {"interval", kw_feed_interval},
    {"name", kw_feed_name},
    {"tlp", kw_feed_tlp},
    {"url", kw_feed_url},
};
static const struct ydoc_table feed_table = {
    feed_kw, YDOC_NKEYS(feed_kw),
    "a feed is a mapping: {name, url, format, interval, tlp, confidence, auth_header, ca_file, "
    "client_cert, client_key}",
    NULL};

static void intel_feeds_free(struct config *c)
{
    for (size_t i = 0; i < c->nintel_feeds; i++) {
        free(c->intel_feeds[i].name);
        free(c->intel_feeds[i].url);
        free(c->intel_feeds[i].auth_header);
        free(c->intel_feeds[i].ca_file);
        free(c->intel_feeds[i].client_cert);
        free(c->intel_feeds[i].client_key);
    }
    free(c->intel_feeds);
    c->intel_feeds = NULL;
    c->nintel_feeds = 0;
}

static int kw_intel_feeds(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = cfg(d);
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "intel.feeds: expected a list");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CONFIG_MAX_INTEL_FEEDS)
        return ydoc_fail(d, v, "intel.feeds: at most 64 feeds");
    intel_feeds_free(c);
    c->intel_feeds = n ? calloc(n, sizeof(*c->intel_feeds)) : NULL;
    if (n && !c->intel_feeds)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = ydoc_node(d, *it);
        struct config_intel_feed *f = &c->intel_feeds[c->nintel_feeds];
        int r;

        f->format = -1;
        f->interval_us = INT64_C(3600) * 1000000;
        f->tlp = -1;
        f->confidence = -1;
        if (!item)
            return ydoc_fail(d, v, "intel.feeds: bad feed");
        r = ydoc_walk(d, item, &feed_table, f);
        c->nintel_feeds++; /* counted before checks: freed with the config */
        if (r < 0)
            return r;
        if (!f->name || !f->url || f->format < 0)
            return ydoc_fail(d, item,
                             "intel.feeds: a feed needs a name, a url and a format "
                             "(stix, misp, misp-feed or csv)");
        if ((f->ca_file || f->client_cert || f->client_key) && strncmp(f->url, "https://", 8) != 0)
            return ydoc_fail(d, item,
                             "intel.feeds: ca_file, client_cert and client_key need an https:// "
                             "url");
        if (f->client_key && !f->client_cert)
            return ydoc_fail(d, item, "intel.feeds: client_key needs client_cert");
        for (size_t j = 0; j + 1 < c->nintel_feeds; j++)
            if (strcmp(c->intel_feeds[j].name, f->name) == 0)
                return ydoc_fail(d, item, "intel.feeds: a feed of this name is already listed");
    }
    return 0;
}

static const struct ydoc_key intel_kw[] = {
    {"feeds", kw_intel_feeds},
    {"half_life", kw_intel_half_life},
    {"identity", kw_intel_identity},
    {"min_score", kw_intel_min_score},
    {"peers", kw_intel_peers},
    {"warninglists", kw_intel_warninglists},
};
static const struct ydoc_table intel_table = {intel_kw, YDOC_NKEYS(intel_kw),
                                              "intel: expected a mapping", NULL};

static int kw_intel(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_walk(d, v, &intel_table, NULL);
}

static const struct ydoc_key top_kw[] = {
    {"alerts", kw_alerts},     {"anomaly", kw_anomaly}, {"archive", kw_archive},
    {"audit", kw_audit},
    {"correlation", kw_correlation},
    {"data_dir", kw_data_dir}, {"evidence", kw_evidence}, {"http", kw_http},
    {"incident", kw_incident},
    {"inputs", kw_inputs},     {"intel", kw_intel},
    {"log", kw_log},           {"match", kw_match},
    {"nats", config_nats_kw},
    {"pipeline", kw_pipeline}, {"respond", kw_respond}, {"role", config_nats_kw_role},
    {"security", kw_security},
    {"sigma", kw_sigma},       {"store", kw_store},     {"timezone", kw_timezone},
    {"triage", kw_triage},
};
static const struct ydoc_table top_table = {top_kw, YDOC_NKEYS(top_kw),
                                            "expected a mapping of settings", NULL};

/* The bundled rules: ./rules in a source tree, else the installed copy. */
static const char *default_rules_dir(void)
{
    if (access("rules/config/logsources.yaml", R_OK) == 0)
        return "rules";
    return HIKESHI_DATADIR "/rules";
}

/* The bundled playbooks, found the same way. */
static const char *default_playbooks_dir(void)
{
    if (access("playbooks/default.yaml", R_OK) == 0)
        return "playbooks";
    return HIKESHI_DATADIR "/playbooks";
}

/* --- defaults --- */

struct config *config_defaults(void)
{
    static const struct {
        const char *name, *type, *listen;
    } def_inputs[] = {
        {"syslog-udp", "syslog-udp", "127.0.0.1:5514"},
        {"syslog-tcp", "syslog-tcp", "127.0.0.1:5514"},
    };
    struct config *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->log_level = LOG_LEVEL_INFO;
    c->queue = LIMIT_QUEUE_DEFAULT;
    c->http.max_connections = LIMIT_HTTP_CONNECTIONS;
    c->http.max_per_address = LIMIT_HTTP_PER_ADDRESS;
    c->http.idle_timeout_s = LIMIT_HTTP_IDLE_S;
    c->http.request_timeout_s = LIMIT_HTTP_REQUEST_S;
    c->http_token_ttl_s = LIMIT_TOKEN_TTL_DEFAULT;
    c->store_events = 1;
    c->security_seccomp = 1;
    c->archive_enabled = 1;
    c->archive_sync_ms = 200;
    c->archive_seal_interval_s = 300;
    c->archive_retention_interval_s = 600;
    c->audit_seal_entries = 1000;
    c->audit_seal_interval_s = 300;
    c->intel_half_life_s = 30 * 86400; /* INTEL_HALF_LIFE_DAYS_DEFAULT */
    c->intel_min_score = 10;           /* INTEL_MIN_SCORE_DEFAULT */
    if (!(c->data_dir = strdup("./var")) || !(c->http_listen = strdup("127.0.0.1:8080")) ||
        !(c->alerts_jsonl = strdup("alerts.jsonl")))
        goto fail;
    c->inputs = calloc(YDOC_NKEYS(def_inputs), sizeof(*c->inputs));
    if (!c->inputs)
        goto fail;
    for (size_t i = 0; i < YDOC_NKEYS(def_inputs); i++) {
        struct config_input *in = &c->inputs[i];
        input_init_defaults(in);
        c->ninputs++;
        in->conf.type =
            strcmp(def_inputs[i].type, "syslog-udp") == 0 ? INPUT_SYSLOG_UDP : INPUT_SYSLOG_TCP;
        if (!(in->name = strdup(def_inputs[i].name)) ||
            !(in->listen = strdup(def_inputs[i].listen)) || !(in->decoder = strdup("auto")))
            goto fail;
    }
    inputs_relink(c);
    {
        char mapdir[4096];

        snprintf(mapdir, sizeof(mapdir), "%s/config", default_rules_dir());
        c->sigma_rules = calloc(1, sizeof(char *));
        if (!c->sigma_rules || !(c->sigma_rules[0] = strdup(default_rules_dir())) ||
            !(c->sigma_mappings = strdup(mapdir)))
            goto fail;
        c->nsigma_rules = 1;
        snprintf(mapdir, sizeof(mapdir), "%s/config/triage.yaml", default_rules_dir());
        if (!(c->triage_config = strdup(mapdir)))
            goto fail;
        snprintf(mapdir, sizeof(mapdir), "%s/config/respond.yaml", default_rules_dir());
        if (!(c->respond_policy = strdup(mapdir)) ||
            !(c->playbooks_dir = strdup(default_playbooks_dir())))
            goto fail;
    }
    c->anomaly_enabled = 1;
    c->escalation.enabled = 1;
    c->escalation.lead_us = INT64_C(600) * 1000000;
    c->escalation.every_us = -1;
    c->messages.enabled = 1;
    c->messages.first_report = 1;
    c->messages.attempts = 5;
    c->messages.retry_us = INT64_C(60) * 1000000;
    c->messages.retry_max_us = INT64_C(3600) * 1000000;
    c->corr_max_memory = 0; /* auto */
    c->corr_tolerance_s = 60;
    config_nats_defaults(&c->nats);
    return c;
fail:
    config_free(c);
    return NULL;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ninputs; i++)
        input_clear(&c->inputs[i]);
    free(c->inputs);
    sigma_rules_clear(c);
    free(c->sigma_mappings);
    free(c->triage_config);
    free(c->respond_policy);
    free(c->playbooks_dir);
    free(c->procedures_file);
    free(c->targets);
    for (size_t i = 0; i < c->escalation.nnotify; i++)
        free(c->escalation.notify[i]);
    free(c->escalation.notify);
    for (size_t i = 0; i < c->escalation.nchain; i++)
        free(c->escalation.chain[i]);
    free(c->escalation.chain);
    free(c->messages.smtp);
    free(c->messages.from);
    for (size_t i = 0; i < c->messages.nwebhook_allow; i++)
        free(c->messages.webhook_allow[i]);
    free(c->messages.webhook_allow);
    free(c->messages.secret_file);
    free(c->messages.export_dir);
    free(c->messages.responsible);
    free(c->escalation.secret_file);
    for (size_t i = 0; i < c->ntriage_assets; i++)
        free(c->triage_assets[i]);
    free(c->triage_assets);
    for (size_t i = 0; i < c->nanomaly_internal; i++)
        free(c->anomaly_internal[i]);
    free(c->anomaly_internal);
    free(c->path);
    free(c->data_dir);
    free(c->http_listen);
    for (size_t i = 0; i < c->http.nhosts; i++)
        free(c->http.hosts[i]);
    free(c->http.hosts);
    free(c->http.tls_cert);
    free(c->http.tls_key);
    free(c->alerts_jsonl);
    free(c->security_user);
    free(c->security_group);
    free(c->archive_key);
    free(c->archive_verify_key);
    free(c->audit_key);
    free(c->audit_verify_key);
    free(c->audit_head);
    free(c->audit_head_url);
    free(c->audit_head_secret_file);
    config_nats_free(&c->nats);
    free(c->evidence_key);
    free(c->evidence_verify_key);
    for (size_t i = 0; i < c->nevidence_intake; i++)
        free(c->evidence_intake[i]);
    free(c->evidence_intake);
    free(c->intel_warninglists);
    free(c->intel_identity);
    intel_peers_free(c);
    intel_feeds_free(c);
    archive_witness_free(c);
    retention_inputs_free(c);
    tz_free(c->tz);
    free(c);
}

int config_parse(const char *text, size_t len, const char *name, struct config **ret,
                 struct parse_err *reterr)
{
    struct ydoc d;
    struct config *c;
    yaml_node_t *root;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    *ret = NULL;
    c = config_defaults();
    if (!c)
        return -ENOMEM;
    if (name && !(c->path = strdup(name))) {
        config_free(c);
        return -ENOMEM;
    }
    r = ydoc_load(&d, text, len, reterr);
    d.ctx = c;
    /* An empty file means "all defaults". */
    if (r == 0 && (root = ydoc_root(&d)))
        r = ydoc_walk(&d, root, &top_table, NULL);
    if (r == 0)
        r = config_nats_check(&d, c);
    if (r == 0 && c->ninputs == 0 && c->http_listen == NULL)
        log_debug("configuration has no inputs and no HTTP endpoint");
    ydoc_done(&d);
    if (r < 0) {
        config_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

int config_load(const char *path, struct config **ret, struct parse_err *reterr)
{
    char *text;
    size_t len;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    *ret = NULL;
    r = readfile_all(path, LIMIT_CONFIG_BYTES, &text, &len);
    if (r == -EFBIG && reterr)
        reterr->msg = "file larger than 1 MiB";
    if (r < 0)
        return r == -EISDIR ? -EINVAL : r;
    r = config_parse(text, len, path, ret, reterr);
    free(text);
    return r;
}

void config_clear_inputs(struct config *c)
{
    for (size_t i = 0; i < c->ninputs; i++)
        input_clear(&c->inputs[i]);
    free(c->inputs);
    c->inputs = NULL;
    c->ninputs = 0;
}

const struct config_input *config_input_find(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->ninputs; i++)
        if (strcmp(c->inputs[i].name, name) == 0)
            return &c->inputs[i];
    return NULL;
}

/* Prints a YAML double-quoted scalar. */
static void print_q(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u == '"' || *u == '\\')
            fprintf(out, "\\%c", *u);
        else if (*u < 0x20 || *u == 0x7f)
            fprintf(out, "\\x%02x", *u);
        else
            fputc(*u, out);
    }
    fputc('"', out);
}

/* The audit: section. */
static void print_audit(FILE *out, const struct config *c)
{
    fprintf(out, "audit:\n  key: ");
    print_q(out, c->audit_key ? c->audit_key : "");
    fprintf(out, "\n  verify_key: ");
    print_q(out, c->audit_verify_key ? c->audit_verify_key : "");
    fprintf(out, "\n  head: ");
    print_q(out, c->audit_head ? c->audit_head : "");
    if (c->audit_head_url) {
        fprintf(out, "\n  head_url: ");
        print_q(out, c->audit_head_url);
        fprintf(out, "\n  head_secret_file: ");
        print_q(out, c->audit_head_secret_file ? c->audit_head_secret_file : "");
    }
    fprintf(out, "\n  seal_entries: %llu\n  seal_interval: %llu\n",
            (unsigned long long)c->audit_seal_entries,
            (unsigned long long)c->audit_seal_interval_s);
}

/* archive.retention.inputs and archive.witness, when set (after the
 * retention block, so that inputs stays under retention). */
static void print_archive_more(FILE *out, const struct config *c)
{
    if (c->narchive_retention_inputs)
        fprintf(out, "    inputs:\n");
    for (size_t i = 0; i < c->narchive_retention_inputs; i++) {
        const struct config_retention_input *ri = &c->archive_retention_inputs[i];

        fprintf(out, "      ");
        print_q(out, ri->name);
        fprintf(out, ":\n        max_age: %llu\n        max_size: %llu\n",
                (unsigned long long)ri->max_age_s, (unsigned long long)ri->max_bytes);
    }
    if (c->narchive_witness)
        fprintf(out, "  witness:\n");
    for (size_t i = 0; i < c->narchive_witness; i++) {
        const struct config_witness *w = &c->archive_witness[i];

        fprintf(out, "    - %s: ", w->file ? "file" : w->url ? "url" : "hikeshi");
        print_q(out, w->file ? w->file : w->url ? w->url : w->hikeshi);
        if (w->secret_file) {
            fprintf(out, "\n      secret_file: ");
            print_q(out, w->secret_file);
        }
        if (w->auth_header) /* the secret is not printed, as for intel.feeds */
            fprintf(out, "\n      auth_header: \"%.*s: (set)\"",
                    (int)(strchr(w->auth_header, ':') - w->auth_header), w->auth_header);
        fputc('\n', out);
    }
}

/* http: the API's listener and its limits. */
static void print_http(const struct config *c, FILE *out)
{
    fprintf(out, "http:\n  listen: ");
    if (c->http_listen)
        print_q(out, c->http_listen);
    else
        fprintf(out, "off");
    fprintf(out, "\n  hosts:%s", c->http.nhosts ? "" : " []");
    for (size_t i = 0; i < c->http.nhosts; i++) {
        fprintf(out, "\n    - ");
        print_q(out, c->http.hosts[i]);
    }
    fprintf(out, "\n  tls: %s",
            c->http.tls == CONFIG_HTTP_TLS_ON    ? "true"
            : c->http.tls == CONFIG_HTTP_TLS_OFF ? "false"
                                                 : "auto");
    if (c->http.tls_cert) {
        fprintf(out, "\n  tls_cert: ");
        print_q(out, c->http.tls_cert);
        fprintf(out, "\n  tls_key: ");
        print_q(out, c->http.tls_key);
    }
    fprintf(out,
            "\n  insecure_cleartext: %s\n  max_connections: %u\n  max_per_address: %u"
            "\n  idle_timeout: %u\n  request_timeout: %u",
            c->http.insecure_cleartext ? "true" : "false", c->http.max_connections,
            c->http.max_per_address, c->http.idle_timeout_s, c->http.request_timeout_s);
    fprintf(out, "\n  token_ttl: %llds", (long long)c->http_token_ttl_s);
}

/* inputs[].tls: the syslog-tls listener's files and the clients it admits. */
static void print_input_tls(const struct config_input *in, FILE *out)
{
    fputs("    tls:\n", out);
    if (in->tls_cert) {
        fputs("      cert: ", out);
        print_q(out, in->tls_cert);
        fputc('\n', out);
    }
    if (in->tls_key) {
        fputs("      key: ", out);
        print_q(out, in->tls_key);
        fputc('\n', out);
    }
    if (in->tls_ca) {
        fputs("      ca: ", out);
        print_q(out, in->tls_ca);
        fputc('\n', out);
    }
    if (in->ntls_fprs)
        fputs("      client_fingerprints:\n", out);
    for (size_t j = 0; j < in->ntls_fprs; j++) {
        fputs("        - \"", out);
        for (size_t b = 0; b < INPUT_TLS_FPR_LEN; b++)
            fprintf(out, "%s%02X", b ? ":" : "", in->tls_fprs[j * INPUT_TLS_FPR_LEN + b]);
        fputs("\"\n", out);
    }
}

/* One item of inputs:, with the keys its type takes. */
static void print_input(const struct config_input *in, FILE *out)
{
    fprintf(out, "  - name: ");
    print_q(out, in->name);
    fprintf(out, "\n    type: %s\n", input_type_name(in->conf.type));
    if (in->listen) {
        fprintf(out, "    listen: ");
        print_q(out, in->listen);
        fputc('\n', out);
    }
    if (in->path) {
        fprintf(out, "    path: ");
        print_q(out, in->path);
        fputc('\n', out);
    }
    fprintf(out, "    decoder: %s\n    max_line: %zu\n", in->decoder, in->conf.max_line);
    if (in->tz) {
        fprintf(out, "    timezone: ");
        print_q(out, tz_name(in->tz));
        fputc('\n', out);
    }
    fprintf(out, "    trust: %s\n",
            in->conf.trust == INPUT_TRUST_TRUSTED ? "trusted" : "untrusted");
    if (in->conf.exercise)
        fprintf(out, "    exercise: true\n");
    if (in->npeers) {
        fprintf(out, "    peers:\n");
        for (size_t j = 0; j < in->npeers; j++) {
            char net[CIDR_TEXT_MAX];

            fprintf(out, "      - \"%s\"\n", cidr_format(&in->peers[j], net, sizeof(net)));
        }
    }
    if (INPUT_TYPE_IS_STREAM(in->conf.type))
        fprintf(out, "    max_connections: %u\n    max_per_address: %u\n    idle_timeout: %u\n",
                in->conf.max_connections, in->conf.max_per_address, in->conf.idle_timeout_s);
    if (in->expect_every_s == CONFIG_EXPECT_OFF)
        fputs("    expect_every: off\n", out);
    else if (in->expect_every_s)
        fprintf(out, "    expect_every: %lld\n", (long long)in->expect_every_s);
    if (in->silence_learn_min_s)
        fprintf(out, "    silence_learn_min: %lld\n", (long long)in->silence_learn_min_s);
    if (in->silence_learn_max_s)
        fprintf(out, "    silence_learn_max: %lld\n", (long long)in->silence_learn_max_s);
    if (in->conf.type == INPUT_HTTP_BULK) {
        fprintf(out, "    max_body: %zu\n",
                in->conf.max_body ? in->conf.max_body : (size_t)LIMIT_BULK_BODY_DEFAULT);
        /* Secrets are not echoed: the names, with "<hidden>" for the secret
         * (which re-parses, so the printed form stays a configuration). */
        if (in->nhttp_users)
            fprintf(out, "    users:\n");
        for (size_t j = 0; j < in->nhttp_users; j++)
            fprintf(out, "      - \"%.*s:<hidden>\"\n",
                    (int)(strchr(in->http_users[j], ':') - in->http_users[j]), in->http_users[j]);
        if (in->nhttp_api_keys)
            fprintf(out, "    api_keys:\n");
        for (size_t j = 0; j < in->nhttp_api_keys; j++)
            fprintf(out, "      - \"%.*s:<hidden>\"\n",
                    (int)(strchr(in->http_api_keys[j], ':') - in->http_api_keys[j]),
                    in->http_api_keys[j]);
    }
    if (in->has_tls)
        print_input_tls(in, out);
    if (in->conf.type == INPUT_FILE)
        fprintf(out, "    from_start: %s\n    poll_ms: %d\n",
                in->conf.from_start ? "true" : "false", in->conf.poll_ms);
}

/* The stages' own files: rules, triage, anomaly, correlation. */
static void print_detect(const struct config *c, FILE *out)
{
    fprintf(out, "sigma:\n  rules:%s\n", c->nsigma_rules ? "" : " []");
    for (size_t i = 0; i < c->nsigma_rules; i++) {
        fprintf(out, "    - ");
        print_q(out, c->sigma_rules[i]);
        fputc('\n', out);
    }
    fprintf(out, "  mappings: ");
    print_q(out, c->sigma_mappings ? c->sigma_mappings : "");
    fputc('\n', out);
    fprintf(out, "triage:\n  config: ");
    print_q(out, c->triage_config ? c->triage_config : "");
    fprintf(out, "\n  assets:%s\n", c->ntriage_assets ? "" : " []");
    for (size_t i = 0; i < c->ntriage_assets; i++) {
        fprintf(out, "    - ");
        print_q(out, c->triage_assets[i]);
        fputc('\n', out);
    }
    fprintf(out, "anomaly:\n  enabled: %s\n", c->anomaly_enabled ? "true" : "false");
    if (c->anomaly_internal_set) {
        fprintf(out, "  internal:%s\n", c->nanomaly_internal ? "" : " []");
        for (size_t i = 0; i < c->nanomaly_internal; i++) {
            fprintf(out, "    - ");
            print_q(out, c->anomaly_internal[i]);
            fputc('\n', out);
        }
    }
    if (c->corr_max_memory)
        fprintf(out, "correlation:\n  max_memory: %zu\n", c->corr_max_memory);
    else
        fputs("correlation:\n  max_memory: auto\n", out);
    fprintf(out, "  late_tolerance: %u\n", c->corr_tolerance_s);
}

/* incident.escalation in normal form (spans in seconds). */
static void print_escalation(const struct config_escalation *e, FILE *out)
{
    static const char *const def_chain[] = {"assignee", "lead", "manager"};

    fprintf(out, "  escalation:\n    enabled: %s\n    lead_time: %llds\n    every: %llds\n",
            e->enabled ? "true" : "false", (long long)(e->lead_us / 1000000),
            (long long)((e->every_us < 0 ? e->lead_us : e->every_us) / 1000000));
    fprintf(out, "    chain: [");
    for (size_t i = 0; i < (e->nchain ? e->nchain : 3); i++) {
        fprintf(out, "%s", i ? ", " : "");
        print_q(out, e->nchain ? e->chain[i] : def_chain[i]);
    }
    fprintf(out, "]\n    notify: [");
    for (size_t i = 0; i < e->nnotify; i++) {
        fprintf(out, "%s", i ? ", " : "");
        print_q(out, e->notify[i]);
    }
    fprintf(out, "]\n");
    if (e->secret_file) {
        fprintf(out, "    secret_file: ");
        print_q(out, e->secret_file);
        fputc('\n', out);
    }
}

/* respond:, security:, archive:, audit: and incident:. */
static void print_respond(const struct config *c, FILE *out)
{
    fprintf(out, "respond:\n  policy: ");
    print_q(out, c->respond_policy ? c->respond_policy : "");
    fputc('\n', out);
    fprintf(out, "security:\n  user: ");
    print_q(out, c->security_user ? c->security_user : "");
    fprintf(out, "\n  group: ");
    print_q(out, c->security_group ? c->security_group : "");
    fprintf(out, "\n  seccomp: %s\n", c->security_seccomp ? "true" : "false");
    fprintf(out, "archive:\n  key: ");
    print_q(out, c->archive_key ? c->archive_key : "");
    fprintf(out, "\n  verify_key: ");
    print_q(out, c->archive_verify_key ? c->archive_verify_key : "");
    fprintf(out, "\n  enabled: %s\n", c->archive_enabled ? "true" : "false");
    if (c->archive_sync_ms)
        fprintf(out, "  sync: every %llu ms\n", (unsigned long long)c->archive_sync_ms);
    else
        fprintf(out, "  sync: every record\n");
    if (c->archive_block_bytes)
        fprintf(out, "  block_size: %llu\n", (unsigned long long)c->archive_block_bytes);
    if (c->archive_segment_bytes)
        fprintf(out, "  segment_size: %llu\n", (unsigned long long)c->archive_segment_bytes);
    fprintf(out, "  seal_records: %llu\n  seal_interval: %llu\n",
            (unsigned long long)c->archive_seal_records,
            (unsigned long long)c->archive_seal_interval_s);
    fprintf(out, "  retention:\n    max_age: %llu\n    max_size: %llu\n    interval: %llu\n",
            (unsigned long long)c->archive_retention_max_age_s,
            (unsigned long long)c->archive_retention_max_bytes,
            (unsigned long long)c->archive_retention_interval_s);
    print_archive_more(out, c);
    print_audit(out, c);
    fprintf(out, "evidence:\n  key: ");
    print_q(out, c->evidence_key ? c->evidence_key : "");
    fprintf(out, "\n  verify_key: ");
    print_q(out, c->evidence_verify_key ? c->evidence_verify_key : "");
    fprintf(out, "\n  intake: [");
    for (size_t i = 0; i < c->nevidence_intake; i++) {
        fputs(i ? ", " : "", out);
        print_q(out, c->evidence_intake[i]);
    }
    fprintf(out, "]\n");
    fprintf(out, "intel:\n  warninglists: ");
    print_q(out, c->intel_warninglists ? c->intel_warninglists : "");
    fprintf(out, "\n  half_life: %llu\n  min_score: %llu\n",
            (unsigned long long)(c->intel_half_life_s / 86400),
            (unsigned long long)c->intel_min_score);
    if (c->intel_identity) {
        fprintf(out, "  identity: ");
        print_q(out, c->intel_identity);
        fputc('\n', out);
    }
    fprintf(out, "  peers:%s\n", c->nintel_peers ? "" : " []");
    for (size_t i = 0; i < c->nintel_peers; i++) {
        static const char *const tn[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"};

        fprintf(out, "    - name: ");
        print_q(out, c->intel_peers[i].name);
        fprintf(out, "\n      user: ");
        print_q(out, c->intel_peers[i].user);
        fprintf(out, "\n      tlp_max: %s\n", tn[c->intel_peers[i].tlp_max & 3]);
    }
    fprintf(out, "  feeds:%s\n", c->nintel_feeds ? "" : " []");
    for (size_t i = 0; i < c->nintel_feeds; i++) {
        static const char *const fn[] = {"stix", "misp", "misp-feed", "csv"};
        static const char *const tn[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
        const struct config_intel_feed *f = &c->intel_feeds[i];

        fprintf(out, "    - name: ");
        print_q(out, f->name);
        fprintf(out, "\n      url: ");
        print_q(out, f->url);
        fprintf(out, "\n      format: %s\n      interval: %llds\n", fn[f->format & 3],
                (long long)(f->interval_us / 1000000));
        if (f->tlp >= 0)
            fprintf(out, "      tlp: %s\n", tn[f->tlp % 5]);
        if (f->confidence >= 0)
            fprintf(out, "      confidence: %d\n", f->confidence);
        if (f->auth_header) /* the secret is not printed */
            fprintf(out, "      auth_header: \"%.*s: (set)\"\n",
                    (int)(strchr(f->auth_header, ':') - f->auth_header), f->auth_header);
        if (f->ca_file) {
            fprintf(out, "      ca_file: ");
            print_q(out, f->ca_file);
            fputc('\n', out);
        }
        if (f->client_cert) {
            fprintf(out, "      client_cert: ");
            print_q(out, f->client_cert);
            fputc('\n', out);
        }
        if (f->client_key) { /* where the key is, not the key */
            fprintf(out, "      client_key: ");
            print_q(out, f->client_key);
            fputc('\n', out);
        }
    }
    fprintf(out, "incident:\n  playbooks: ");
    print_q(out, c->playbooks_dir ? c->playbooks_dir : "");
    if (c->procedures_file) {
        fprintf(out, "\n  procedures: ");
        print_q(out, c->procedures_file);
    }
    fprintf(out, "\n  targets:%s\n", c->ntargets ? "" : " []");
    for (size_t i = 0; i < c->ntargets; i++) {
        const struct config_target *t = &c->targets[i];
        /* Whole minutes as minutes; a target in seconds as seconds. */
        int whole = t->us % (INT64_C(60) * 1000000) == 0;

        fprintf(out, "    - {phase: %s, category: %s, level: %s, %s: %lld}\n",
                incident_phase_name((enum incident_phase)t->phase),
                t->category < 0 ? "any" : incident_category_name((enum asset_category)t->category),
                t->level < 0 ? "any" : triage_level_name((enum triage_alert_level)t->level),
                whole ? "minutes" : "seconds",
                (long long)(t->us / (whole ? INT64_C(60) * 1000000 : 1000000)));
    }
    print_escalation(&c->escalation, out);
}

void config_print(const struct config *c, FILE *out)
{
    int32_t tz = c->tz_off_s < 0 ? -c->tz_off_s : c->tz_off_s;

    fprintf(out, "# hikeshi configuration, normal form\n");
    fprintf(out, "data_dir: ");
    print_q(out, c->data_dir);
    if (c->tz) {
        fprintf(out, "\ntimezone: ");
        print_q(out, tz_name(c->tz));
        fputc('\n', out);
    } else {
        fprintf(out, "\ntimezone: \"%c%02d:%02d\"\n", c->tz_off_s < 0 ? '-' : '+', tz / 3600,
                tz / 60 % 60);
    }
    fprintf(out, "log:\n  level: %s\n  syslog: %s\n", log_level_name(c->log_level),
            c->log_syslog ? "true" : "false");
    print_http(c, out);
    fprintf(out, "\npipeline:\n  queue: %zu\n", c->queue);
    fprintf(out, "store:\n  events: %s\n", c->store_events ? "true" : "false");
    fprintf(out, "alerts:\n  jsonl: ");
    if (c->alerts_jsonl)
        print_q(out, c->alerts_jsonl);
    else
        fprintf(out, "off");
    fprintf(out, "\ninputs:%s\n", c->ninputs ? "" : " []");
    for (size_t i = 0; i < c->ninputs; i++)
        print_input(&c->inputs[i], out);
    print_detect(c, out);
    print_respond(c, out);
    config_nats_print(c, out);
}
