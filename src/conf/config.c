/*
 * config.c - hikeshi.yaml, parsed with libyaml's document API so that every
 * node keeps its line and column for error messages.
 *
 * The keys of each mapping live in one sorted table per level (name, handler),
 * looked up with bsearch, as OpenBSD's parse.y lookup() does for keywords.
 */
#include "conf/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "build_config.h"
#include "decode/decode.h"
#include "event/tz.h"
#include "incident/incident.h"
#include "triage/anomaly.h"
#include "input/input_tls.h"
#include "util/cidr.h"
#include "util/limits.h"
#include "util/readfile.h"

struct cparse {
    yaml_document_t *doc;
    struct config *c;
    struct parse_err *err;
};

/* Records an error at `node` and returns -EINVAL. */
static int cerr(struct cparse *p, const yaml_node_t *node, const char *msg)
{
    if (p->err && !p->err->msg) {
        p->err->line = node ? (unsigned)node->start_mark.line + 1 : 0;
        p->err->col = node ? (unsigned)node->start_mark.column + 1 : 0;
        p->err->off = node ? node->start_mark.index : 0;
        p->err->msg = msg;
    }
    return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_str(struct cparse *p, const yaml_node_t *n, char **dst)
{
    const char *s = scalar(n);
    char *copy;

    if (!s)
        return cerr(p, n, "expected a string");
    if (strlen(s) != n->data.scalar.length)
        return cerr(p, n, "string contains a NUL byte");
    copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

/* A string, or null/~/empty/"off" meaning "disabled" (NULL). */
static int get_str_or_off(struct cparse *p, const yaml_node_t *n, char **dst)
{
    const char *s = scalar(n);

    if (s && (strcmp(s, "") == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
              strcmp(s, "off") == 0 || strcmp(s, "false") == 0)) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    return get_str(p, n, dst);
}

static int get_bool(struct cparse *p, const yaml_node_t *n, int *dst)
{
    const char *s = scalar(n);

    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
        *dst = 1;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
        *dst = 0;
    else
        return cerr(p, n, "expected true or false");
    return 0;
}

static int get_uint(struct cparse *p, const yaml_node_t *n, unsigned long long lo,
                    unsigned long long hi, unsigned long long *dst, const char *range_msg)
{
    const char *s = scalar(n);
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-' || *s == '+')
        return cerr(p, n, "expected a non-negative integer");
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end) {
        /* Accept k/m suffixes for sizes: 64k, 1m. */
        if (!errno && (*end == 'k' || *end == 'K') && end[1] == '\0' && v <= ULLONG_MAX / 1024)
            v *= 1024;
        else if (!errno && (*end == 'm' || *end == 'M') && end[1] == '\0' &&
                 v <= ULLONG_MAX / (1024 * 1024))
            v *= 1024 * 1024;
        else
            return cerr(p, n, "expected a non-negative integer");
    }
    if (v < lo || v > hi)
        return cerr(p, n, range_msg);
    *dst = v;
    return 0;
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

/* Iterates the pairs of a mapping node, calling fn(p, key, value, arg). */
typedef int (*pair_fn)(struct cparse *p, const char *key, yaml_node_t *knode, yaml_node_t *v,
                       void *arg);

struct keyword {
    const char *name;
    pair_fn fn;
};

static int kwcmp(const void *a, const void *b)
{
    return strcmp((const char *)a, ((const struct keyword *)b)->name);
}

static int each_pair(struct cparse *p, yaml_node_t *map, const struct keyword *kw, size_t nkw,
                     void *arg, const char *what)
{
    if (map->type != YAML_MAPPING_NODE)
        return cerr(p, map, what);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *key = k ? scalar(k) : NULL;
        const struct keyword *hit;
        int r;

        if (!k || !v || !key)
            return cerr(p, k, "expected a key");
        hit = bsearch(key, kw, nkw, sizeof(*kw), kwcmp);
        if (!hit)
            return cerr(p, k, "unknown key");
        /* Duplicate keys are an error: the second would silently win. */
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
            yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
            const char *key2 = k2 ? scalar(k2) : NULL;
            if (key2 && strcmp(key2, key) == 0)
                return cerr(p, k, "duplicate key");
        }
        if ((r = hit->fn(p, key, k, v, arg)) < 0)
            return r;
    }
    return 0;
}

#define NKW(t) (sizeof(t) / sizeof((t)[0]))

/* --- log: --- */

static int kw_log_level(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                        void *arg)
{
    const char *s = scalar(v);

    if (!s || log_level_parse(s, &p->c->log_level) < 0)
        return cerr(p, v, "log level must be error, warn, info or debug");
    return 0;
}

static int kw_log_syslog(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                         void *arg)
{
    return get_bool(p, v, &p->c->log_syslog);
}

static const struct keyword log_kw[] = {
    {"level", kw_log_level},
    {"syslog", kw_log_syslog},
};

static int kw_log(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return each_pair(p, v, log_kw, NKW(log_kw), NULL, "log: expected a mapping");
}

/* --- top-level scalars and small sections --- */

static int kw_data_dir(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    int r = get_str(p, v, &p->c->data_dir);

    if (r == 0 && p->c->data_dir[0] == '\0')
        return cerr(p, v, "data_dir must not be empty");
    return r;
}

/* Loads the zone named by `v` into *dst (replacing it); errors at v. */
static int get_tz(struct cparse *p, yaml_node_t *v, struct tz **dst)
{
    const char *s = scalar(v);
    struct tz *z = NULL;
    int r;

    if (!s || !*s)
        return cerr(p, v, "timezone: expected a zone name (Europe/Berlin) or an offset (+09:00)");
    r = tz_load(s, NULL, &z);
    if (r == -ENOMEM)
        return r;
    if (r == -ENOENT)
        return cerr(p, v, "timezone: unknown zone (not in " TZ_DIR_DEFAULT ")");
    if (r < 0)
        return cerr(p, v, "timezone must be UTC, an offset such as +09:00 or an IANA zone "
                          "name such as Europe/Berlin");
    tz_free(*dst);
    *dst = z;
    return 0;
}

static int kw_timezone(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    int r = get_tz(p, v, &p->c->tz);

    if (r == 0)
        p->c->tz_off_s = tz_offset_at(p->c->tz, time(NULL));
    return r;
}

static int kw_http_listen(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    return get_str_or_off(p, v, &p->c->http_listen);
}

int config_parse_duration(const char *s, int64_t *ret_s)
{
    int64_t v = 0, unit = 1;
    size_t i = 0;

    if (!s || s[0] < '0' || s[0] > '9')
        return -EINVAL;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > INT64_C(100) * 366 * 86400)
            return -ERANGE;
        v = v * 10 + (s[i] - '0');
    }
    switch (s[i]) {
    case '\0': break;
    case 's': unit = 1; i++; break;
    case 'm': unit = 60; i++; break;
    case 'h': unit = 3600; i++; break;
    case 'd': unit = 86400; i++; break;
    default: return -EINVAL;
    }
    if (s[i] != '\0')
        return -EINVAL;
    if (v > INT64_C(100) * 366 * 86400 / unit)
        return -ERANGE;
    *ret_s = v * unit;
    return 0;
}

static int kw_http_token_ttl(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    const char *s = scalar(v);
    int64_t ttl = 0;

    if (!s || config_parse_duration(s, &ttl) < 0)
        return cerr(p, v, "token_ttl: expected a duration such as 3600, 12h or 30d");
    if (ttl < LIMIT_TOKEN_TTL_MIN || ttl > LIMIT_TOKEN_TTL_MAX)
        return cerr(p, v, "token_ttl must be 1 second to 366 days");
    p->c->http_token_ttl_s = ttl;
    return 0;
}

static int get_str_list(struct cparse *p, yaml_node_t *v, char ***arr, size_t *n, const char *what);

/* Host names: a DNS name or an IP literal ([::1] for IPv6), no port. */
static int kw_http_hosts(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                         void *arg)
{
    struct config_http *h = &p->c->http;
    int r = get_str_list(p, v, &h->hosts, &h->nhosts, "http hosts");

    if (r < 0)
        return r;
    if (h->nhosts > CONFIG_HTTP_HOSTS_MAX)
        return cerr(p, v, "http hosts: at most 64 names");
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
            return cerr(p, v,
                        "http hosts: a name such as hikeshi.example.org, 192.0.2.7 or "
                        "[2001:db8::7], without a port");
    }
    return 0;
}

static int kw_http_tls(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const char *s = scalar(v);

    if (s && strcmp(s, "auto") == 0)
        p->c->http.tls = CONFIG_HTTP_TLS_AUTO;
    else if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
        p->c->http.tls = CONFIG_HTTP_TLS_ON;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
        p->c->http.tls = CONFIG_HTTP_TLS_OFF;
    else
        return cerr(p, v, "http tls: expected auto, true or false");
    return 0;
}

static int kw_http_tls_cert(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return get_str_or_off(p, v, &p->c->http.tls_cert);
}

static int kw_http_tls_key(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return get_str_or_off(p, v, &p->c->http.tls_key);
}

static int kw_http_insecure(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return get_bool(p, v, &p->c->http.insecure_cleartext);
}

static int kw_http_uint(struct cparse *p, yaml_node_t *v, unsigned hi, unsigned *dst,
                        const char *msg)
{
    unsigned long long x = 0;
    int r = get_uint(p, v, 1, hi, &x, msg);

    if (r == 0)
        *dst = (unsigned)x;
    return r;
}

static int kw_http_max_conn(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return kw_http_uint(p, v, 10000, &p->c->http.max_connections,
                        "max_connections must be between 1 and 10000");
}

static int kw_http_max_per(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return kw_http_uint(p, v, 10000, &p->c->http.max_per_address,
                        "max_per_address must be between 1 and 10000");
}

static int kw_http_idle(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                        void *arg)
{
    return kw_http_uint(p, v, 3600, &p->c->http.idle_timeout_s,
                        "idle_timeout must be between 1 and 3600 seconds");
}

static int kw_http_request(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return kw_http_uint(p, v, 3600, &p->c->http.request_timeout_s,
                        "request_timeout must be between 1 and 3600 seconds");
}

static const struct keyword http_kw[] = {
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

static int kw_http(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    const struct config_http *h = &p->c->http;
    int r = each_pair(p, v, http_kw, NKW(http_kw), NULL, "http: expected a mapping");

    if (r < 0)
        return r;
    if (!h->tls_cert != !h->tls_key)
        return cerr(p, v,
                    "http: tls_cert and tls_key go together (give both, or neither "
                    "for a self-signed certificate)");
    if (h->tls_cert && h->tls == CONFIG_HTTP_TLS_OFF)
        return cerr(p, v, "http: tls is false but tls_cert is set");
    return 0;
}

static int kw_pipeline_queue(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    unsigned long long q = 0;
    int r = get_uint(p, v, 1, 65536, &q, "queue must be between 1 and 65536 batches");

    if (r == 0)
        p->c->queue = (size_t)q;
    return r;
}

static const struct keyword pipeline_kw[] = {
    {"queue", kw_pipeline_queue},
};

static int kw_pipeline(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    return each_pair(p, v, pipeline_kw, NKW(pipeline_kw), NULL, "pipeline: expected a mapping");
}

static int kw_store_events(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return get_bool(p, v, &p->c->store_events);
}

static const struct keyword store_kw[] = {
    {"events", kw_store_events},
};

static int kw_store(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return each_pair(p, v, store_kw, NKW(store_kw), NULL, "store: expected a mapping");
}

static int kw_alerts_jsonl(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return get_str_or_off(p, v, &p->c->alerts_jsonl);
}

static const struct keyword alerts_kw[] = {
    {"jsonl", kw_alerts_jsonl},
};

static int kw_alerts(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return each_pair(p, v, alerts_kw, NKW(alerts_kw), NULL, "alerts: expected a mapping");
}

/* --- inputs: --- */

static const struct {
    const char *name;
    enum input_type type;
} input_types[] = {
    {"file", INPUT_FILE},
    {"stdin", INPUT_STDIN},
    {"syslog-tcp", INPUT_SYSLOG_TCP},
    {"syslog-tls", INPUT_SYSLOG_TLS},
    {"syslog-udp", INPUT_SYSLOG_UDP},
};

static const char *input_type_name(enum input_type t)
{
    for (size_t i = 0; i < NKW(input_types); i++)
        if (input_types[i].type == t)
            return input_types[i].name;
    return "?";
}

static int kw_in_name(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    int r = get_str(p, v, &in->name);

    if (r == 0 && in->name[0] == '\0')
        return cerr(p, v, "input name must not be empty");
    return r;
}

static int kw_in_type(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_input *in = arg;
    const char *s = scalar(v);

    for (size_t i = 0; s && i < NKW(input_types); i++) {
        if (strcmp(s, input_types[i].name) == 0) {
            in->conf.type = input_types[i].type;
            return 0;
        }
    }
    return cerr(p, v, "input type must be syslog-udp, syslog-tcp, syslog-tls, file or stdin");
}

static int kw_in_listen(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                        void *arg)
{
    return get_str(p, v, &((struct config_input *)arg)->listen);
}

static int kw_in_path(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return get_str(p, v, &((struct config_input *)arg)->path);
}

static int kw_in_decoder(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                         void *arg)
{
    struct config_input *in = arg;
    int r = get_str(p, v, &in->decoder);

    if (r == 0 && strcmp(in->decoder, "auto") != 0 && !decode_lookup(in->decoder))
        return cerr(p, v, "unknown decoder (see hikeshi.yaml(5) for the list)");
    return r;
}

static int kw_in_max_line(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    unsigned long long n = 0;
    int r = get_uint(p, v, LIMIT_LINE_MIN, LIMIT_LINE_MAX, &n,
                     "max_line must be between 256 and 16777216 bytes");

    if (r == 0)
        ((struct config_input *)arg)->conf.max_line = (size_t)n;
    return r;
}

static int kw_in_from_start(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return get_bool(p, v, &((struct config_input *)arg)->conf.from_start);
}

static int kw_in_poll_ms(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                         void *arg)
{
    unsigned long long n = 0;
    int r = get_uint(p, v, 10, 60000, &n, "poll_ms must be between 10 and 60000");

    if (r == 0)
        ((struct config_input *)arg)->conf.poll_ms = (int)n;
    return r;
}

static int kw_in_timezone(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    return get_tz(p, v, &((struct config_input *)arg)->tz);
}

static int kw_in_trust(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    struct config_input *in = arg;
    const char *s = scalar(v);

    if (s && strcmp(s, "trusted") == 0)
        in->conf.trust = INPUT_TRUST_TRUSTED;
    else if (s && strcmp(s, "untrusted") == 0)
        in->conf.trust = INPUT_TRUST_UNTRUSTED;
    else
        return cerr(p, v, "trust must be trusted or untrusted");
    return 0;
}

/* inputs[].peers: addresses or networks; each must parse now, so that a
 * typo is an error rather than a sender silently refused or admitted. */
static int kw_in_peers(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
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
        return cerr(p, v, "peers: expected an address, a network or a list of them");
    }
    if (n > LIMIT_INPUT_PEERS)
        return cerr(p, v, "peers: at most 256 addresses or networks");
    if (n == 0)
        return cerr(p, v, "peers: empty list (leave the key out to accept any sender)");
    in->peers = calloc(n, sizeof(*in->peers));
    if (!in->peers)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            v->type == YAML_SCALAR_NODE
                ? v
                : yaml_document_get_node(p->doc, v->data.sequence.items.start[i]);
        const char *s = item ? scalar(item) : NULL;

        if (!s || cidr_parse(s, item->data.scalar.length, &in->peers[i]) < 0)
            return cerr(p, item ? item : v,
                        "peers: not an IP address or network (192.0.2.7, 10.0.0.0/8, "
                        "2001:db8::/32; names are not resolved)");
        in->npeers++;
    }
    return 0;
}

/* inputs[].tls: the syslog-tls listener's certificate and who may connect. */
static int kw_tls_cert(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    return get_str(p, v, &((struct config_input *)arg)->tls_cert);
}

static int kw_tls_key(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                      void *arg)
{
    return get_str(p, v, &((struct config_input *)arg)->tls_key);
}

static int kw_tls_ca(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                     void *arg)
{
    return get_str(p, v, &((struct config_input *)arg)->tls_ca);
}

static int kw_tls_fprs(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
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
        return cerr(p, v, "client_fingerprints: expected a fingerprint or a list of them");
    if (n == 0 || n > INPUT_TLS_MAX_FPRS)
        return cerr(p, v, "client_fingerprints: between 1 and 256 fingerprints");
    in->tls_fprs = calloc(n, INPUT_TLS_FPR_LEN);
    if (!in->tls_fprs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            v->type == YAML_SCALAR_NODE
                ? v
                : yaml_document_get_node(p->doc, v->data.sequence.items.start[i]);
        const char *s = item ? scalar(item) : NULL;

        if (!s || input_tls_fingerprint_parse(s, item->data.scalar.length,
                                              in->tls_fprs + i * INPUT_TLS_FPR_LEN) < 0)
            return cerr(p, item ? item : v,
                        "client_fingerprints: not a SHA-256 fingerprint (64 hex digits, "
                        "optionally in pairs separated by colons)");
        in->ntls_fprs++;
    }
    return 0;
}

static const struct keyword tls_kw[] = {
    {"ca", kw_tls_ca},
    {"cert", kw_tls_cert},
    {"client_fingerprints", kw_tls_fprs},
    {"key", kw_tls_key},
};

static int kw_in_tls(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                     void *arg)
{
    ((struct config_input *)arg)->has_tls = 1;
    return each_pair(p, v, tls_kw, NKW(tls_kw), arg, "tls: expected a mapping");
}

/* The TCP connection limits; checked against the type once it is known. */
static int kw_in_max_connections(struct cparse *p, const char *key, yaml_node_t *k,
                                 yaml_node_t *v, void *arg)
{
    unsigned long long n = 0;
    int r = get_uint(p, v, 1, LIMIT_TCP_CLIENTS_MAX, &n,
                     "max_connections must be between 1 and 65536");

    if (r == 0) {
        ((struct config_input *)arg)->conf.max_connections = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static int kw_in_max_per_address(struct cparse *p, const char *key, yaml_node_t *k,
                                 yaml_node_t *v, void *arg)
{
    unsigned long long n = 0;
    int r = get_uint(p, v, 1, LIMIT_TCP_CLIENTS_MAX, &n,
                     "max_per_address must be between 1 and 65536");

    if (r == 0) {
        ((struct config_input *)arg)->conf.max_per_address = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static int kw_in_idle_timeout(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                              void *arg)
{
    unsigned long long n = 0;
    int r = get_uint(p, v, 0, 7 * 86400, &n,
                     "idle_timeout must be 0 (never) to 604800 seconds");

    if (r == 0) {
        ((struct config_input *)arg)->conf.idle_timeout_s = (unsigned)n;
        ((struct config_input *)arg)->tcp_keys = 1;
    }
    return r;
}

static const struct keyword input_kw[] = {
    {"decoder", kw_in_decoder},
    {"from_start", kw_in_from_start},
    {"idle_timeout", kw_in_idle_timeout},
    {"listen", kw_in_listen},
    {"max_connections", kw_in_max_connections},
    {"max_line", kw_in_max_line},
    {"max_per_address", kw_in_max_per_address},
    {"name", kw_in_name},
    {"path", kw_in_path},
    {"peers", kw_in_peers},
    {"poll_ms", kw_in_poll_ms},
    {"timezone", kw_in_timezone},
    {"tls", kw_in_tls},
    {"trust", kw_in_trust},
    {"type", kw_in_type},
};

static void input_init_defaults(struct config_input *in)
{
    memset(in, 0, sizeof(*in));
    in->conf.type = (enum input_type)-1;
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
    }
}

static int input_is_net(const struct config_input *in)
{
    return in->conf.type == INPUT_SYSLOG_UDP || in->conf.type == INPUT_SYSLOG_TCP ||
           in->conf.type == INPUT_SYSLOG_TLS;
}

static int kw_inputs(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config *c = p->c;
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return cerr(p, v, "inputs: expected a list");
    for (size_t i = 0; i < c->ninputs; i++)
        input_clear(&c->inputs[i]);
    free(c->inputs);
    c->inputs = NULL;
    c->ninputs = 0;
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > 256)
        return cerr(p, v, "too many inputs (at most 256)");
    if (n == 0)
        return 0;
    c->inputs = calloc(n, sizeof(*c->inputs));
    if (!c->inputs)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        struct config_input *in = &c->inputs[c->ninputs];
        int r;

        input_init_defaults(in);
        c->ninputs++;
        in->line = item ? (unsigned)item->start_mark.line + 1 : 0;
        if (!item)
            return cerr(p, v, "bad input");
        if ((r = each_pair(p, item, input_kw, NKW(input_kw), in, "input: expected a mapping")) < 0)
            return r;
        if ((int)in->conf.type == -1)
            return cerr(p, item, "input: missing type");
        if (!in->name) {
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "input%zu", c->ninputs - 1);
            if (!(in->name = strdup(tmp)))
                return -ENOMEM;
        }
        for (size_t j = 0; j + 1 < c->ninputs; j++)
            if (strcmp(c->inputs[j].name, in->name) == 0)
                return cerr(p, item, "input: duplicate name");
        if (input_is_net(in) && !in->listen)
            return cerr(p, item, "syslog input: missing listen (host:port)");
        if (in->conf.type == INPUT_FILE && !in->path)
            return cerr(p, item, "file input: missing path");
        if (in->npeers && !input_is_net(in))
            return cerr(p, item, "input: peers applies to syslog inputs only");
        if (in->tcp_keys && in->conf.type != INPUT_SYSLOG_TCP && in->conf.type != INPUT_SYSLOG_TLS)
            return cerr(p, item, "input: max_connections, max_per_address and idle_timeout apply "
                                 "to syslog-tcp and syslog-tls inputs only");
        if (in->has_tls && in->conf.type != INPUT_SYSLOG_TLS)
            return cerr(p, item, "input: tls applies to syslog-tls inputs only");
        if (in->conf.type == INPUT_SYSLOG_TLS && (!in->tls_cert || !in->tls_key))
            return cerr(p, item, "syslog-tls input: tls needs cert and key (PEM files)");
        if (in->conf.type == INPUT_SYSLOG_TLS && !in->tls_ca && !in->ntls_fprs)
            return cerr(p, item, "syslog-tls input: tls needs ca or client_fingerprints: "
                                 "clients must present a certificate we can check");
        /* A TLS input authenticates every client by its certificate. */
        if (in->conf.trust == INPUT_TRUST_TRUSTED && !in->npeers &&
            (in->conf.type == INPUT_SYSLOG_UDP || in->conf.type == INPUT_SYSLOG_TCP))
            return cerr(p, item,
                        "input: trust: trusted on a network input needs peers: (the senders "
                        "allowed) or a syslog-tls input (client certificates); without either "
                        "anyone who reaches the port writes trusted records");
        if (!in->decoder && !(in->decoder = strdup("auto")))
            return -ENOMEM;
    }
    inputs_relink(c);
    return 0;
}

/* --- match: the literal rules of the first versions, now Sigma --- */

static int kw_match(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return cerr(p, k, "match: was removed: write the rule as a Sigma rule under sigma.rules "
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

/* Replaces *arr with the path or list of paths in `v`. */
static int get_str_list(struct cparse *p, yaml_node_t *v, char ***arr, size_t *n,
                        const char *what)
{
    size_t cnt;

    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
    if (v->type == YAML_SCALAR_NODE) {
        *arr = calloc(1, sizeof(char *));
        if (!*arr)
            return -ENOMEM;
        *n = 1;
        return get_str(p, v, &(*arr)[0]);
    }
    /* struct parse_err keeps a pointer to its message past this call:
     * thread-local storage, not the stack (kept until the next such error
     * in this thread). */
    if (v->type != YAML_SEQUENCE_NODE) {
        static _Thread_local char msg[96];

        snprintf(msg, sizeof(msg), "%s: expected a path or a list of paths", what);
        return cerr(p, v, msg);
    }
    cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cnt > 1024) {
        static _Thread_local char msg[96];

        snprintf(msg, sizeof(msg), "%s: at most 1024 paths", what);
        return cerr(p, v, msg);
    }
    if (cnt == 0)
        return 0;
    *arr = calloc(cnt, sizeof(char *));
    if (!*arr)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        int r;

        if (!item)
            return cerr(p, v, "bad path");
        (*n)++;
        if ((r = get_str(p, item, &(*arr)[*n - 1])) < 0)
            return r;
    }
    return 0;
}

static int kw_sigma_rules(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    p->c->sigma_explicit = 1;
    return get_str_list(p, v, &p->c->sigma_rules, &p->c->nsigma_rules, "sigma rules");
}

static int kw_sigma_mappings(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    p->c->sigma_explicit = 1;
    return get_str(p, v, &p->c->sigma_mappings);
}

static const struct keyword sigma_kw[] = {
    {"mappings", kw_sigma_mappings},
    {"rules", kw_sigma_rules},
};

static int kw_sigma(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return each_pair(p, v, sigma_kw, NKW(sigma_kw), NULL, "sigma: expected a mapping");
}

/* --- triage: and anomaly: --- */

static int kw_triage_config(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    free(p->c->triage_config);
    p->c->triage_config = NULL;
    p->c->triage_explicit = 1;
    return get_str(p, v, &p->c->triage_config);
}

static int kw_triage_assets(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return get_str_list(p, v, &p->c->triage_assets, &p->c->ntriage_assets, "triage assets");
}

static const struct keyword triage_kw[] = {
    {"assets", kw_triage_assets},
    {"config", kw_triage_config},
};

static int kw_triage(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return each_pair(p, v, triage_kw, NKW(triage_kw), NULL, "triage: expected a mapping");
}

static int kw_corr_max_memory(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                              void *arg)
{
    unsigned long long x = 0;
    const char *s = scalar(v);
    int r;

    /* auto (0): the engine sizes the cap from its rules and rate. */
    if (s && strcmp(s, "auto") == 0) {
        p->c->corr_max_memory = 0;
        return 0;
    }
    if (s && (*s < '0' || *s > '9'))
        return cerr(p, v, "max_memory must be auto or a size such as 64m");
    r = get_uint(p, v, 64 * 1024, 64ULL * 1024 * 1024 * 1024, &x,
                 "max_memory must be auto or between 64k and 65536m");
    if (r == 0)
        p->c->corr_max_memory = (size_t)x;
    return r;
}

static int kw_corr_tolerance(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    unsigned long long x = 0;
    int r = get_uint(p, v, 0, 86400, &x, "late_tolerance must be 0 to 86400 seconds");

    if (r == 0)
        p->c->corr_tolerance_s = (unsigned)x;
    return r;
}

static const struct keyword corr_kw[] = {
    {"late_tolerance", kw_corr_tolerance},
    {"max_memory", kw_corr_max_memory},
};

static int kw_correlation(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    return each_pair(p, v, corr_kw, NKW(corr_kw), NULL, "correlation: expected a mapping");
}

static int kw_anomaly_enabled(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                              void *arg)
{
    return get_bool(p, v, &p->c->anomaly_enabled);
}

/* Our networks, for the outbound detectors (docs/anomaly.md); each must
 * parse now so that a typo is a config error, not a silent default. */
static int kw_anomaly_internal(struct cparse *p, const char *key, yaml_node_t *k,
                               yaml_node_t *v, void *arg)
{
    int r = get_str_list(p, v, &p->c->anomaly_internal, &p->c->nanomaly_internal,
                         "anomaly internal");

    if (r < 0)
        return r;
    p->c->anomaly_internal_set = 1;
    if (p->c->nanomaly_internal > ANOMALY_INTERNAL_MAX)
        return cerr(p, v, "anomaly internal: at most 64 networks");
    for (size_t i = 0; i < p->c->nanomaly_internal; i++) {
        struct asset_net net;
        const char *s = p->c->anomaly_internal[i];

        if (!s || asset_net_parse(s, strlen(s), &net) < 0)
            return cerr(p, v, "anomaly internal: not an address or network (10.0.0.0/8, fc00::/7)");
    }
    return 0;
}

static const struct keyword anomaly_kw[] = {
    {"enabled", kw_anomaly_enabled},
    {"internal", kw_anomaly_internal},
};

static int kw_anomaly(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                      void *arg)
{
    return each_pair(p, v, anomaly_kw, NKW(anomaly_kw), NULL, "anomaly: expected a mapping");
}

static int kw_incident_playbooks(struct cparse *p, const char *key, yaml_node_t *k,
                                 yaml_node_t *v, void *arg)
{
    free(p->c->playbooks_dir);
    p->c->playbooks_dir = NULL;
    return get_str(p, v, &p->c->playbooks_dir);
}

/* One item of incident.targets: {phase, category?, level?, minutes|hours|days}. */
static int kw_target_phase(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    struct config_target *t = arg;
    const char *s = scalar(v);
    enum incident_phase ph;

    if (!s || incident_phase_from_name(s, strlen(s), &ph) < 0 || ph == INCIDENT_PHASE_CLOSED)
        return cerr(p, v, "phase is new, first_aid, emergency, watch or full_response");
    t->phase = (int)ph;
    return 0;
}

static int kw_target_category(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                              void *arg)
{
    struct config_target *t = arg;
    const char *s = scalar(v);
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
        return cerr(p, v, "category is A, B, C, D, none or any");
    t->category = (int)cat;
    return 0;
}

static int kw_target_level(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    struct config_target *t = arg;
    const char *s = scalar(v);
    enum triage_alert_level l;

    if (s && strcmp(s, "any") == 0) {
        t->level = -1;
        return 0;
    }
    if (!s || incident_level_from_name(s, strlen(s), &l) < 0)
        return cerr(p, v, "level is Green, Yellow, Orange, Red or any");
    t->level = (int)l;
    return 0;
}

static int target_span(struct cparse *p, yaml_node_t *v, struct config_target *t, int64_t unit)
{
    unsigned long long x = 0;
    int r;

    if (t->us >= 0)
        return cerr(p, v, "give one of minutes, hours, days");
    if ((r = get_uint(p, v, 0, 3650ULL * 86400 * 1000000 / (unsigned long long)unit, &x,
                      "the target is 0 (none) to 10 years")) < 0)
        return r;
    t->us = (int64_t)x * unit;
    return 0;
}

static int kw_target_minutes(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    return target_span(p, v, arg, INT64_C(60) * 1000000);
}

static int kw_target_hours(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg)
{
    return target_span(p, v, arg, INT64_C(3600) * 1000000);
}

static int kw_target_days(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
    return target_span(p, v, arg, INT64_C(86400) * 1000000);
}

static const struct keyword target_kw[] = {
    {"category", kw_target_category}, {"days", kw_target_days},   {"hours", kw_target_hours},
    {"level", kw_target_level},       {"minutes", kw_target_minutes}, {"phase", kw_target_phase},
};

static int kw_incident_targets(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                               void *arg)
{
    struct config *c = p->c;
    size_t n;

    if (v->type != YAML_SEQUENCE_NODE)
        return cerr(p, v, "incident targets: expected a list");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > CONFIG_MAX_TARGETS)
        return cerr(p, v, "too many targets (at most 64)");
    free(c->targets);
    c->targets = n ? calloc(n, sizeof(*c->targets)) : NULL;
    c->ntargets = 0;
    if (n && !c->targets)
        return -ENOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(p->doc, *it);
        struct config_target *t = &c->targets[c->ntargets];
        int r;

        *t = (struct config_target){.phase = -1, .category = -1, .level = -1, .us = -1};
        if (!item)
            return cerr(p, v, "bad target");
        if ((r = each_pair(p, item, target_kw, NKW(target_kw), t,
                           "a target is a mapping: {phase, category, level, minutes}")) < 0)
            return r;
        if (t->phase < 0)
            return cerr(p, item, "a target needs a phase");
        if (t->us < 0)
            return cerr(p, item, "a target needs minutes, hours or days");
        c->ntargets++;
    }
    return 0;
}

static const struct keyword incident_kw[] = {
    {"playbooks", kw_incident_playbooks},
    {"targets", kw_incident_targets},
};

static int kw_incident(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    return each_pair(p, v, incident_kw, NKW(incident_kw), NULL, "incident: expected a mapping");
}

/* --- respond: --- */

static int kw_respond_policy(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    free(p->c->respond_policy);
    p->c->respond_policy = NULL;
    p->c->respond_explicit = 1;
    return get_str_or_off(p, v, &p->c->respond_policy);
}

static const struct keyword respond_kw[] = {
    {"policy", kw_respond_policy},
};

static int kw_respond(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                      void *arg)
{
    return each_pair(p, v, respond_kw, NKW(respond_kw), NULL, "respond: expected a mapping");
}

/* --- security: --- */

/* A user or group name: "" (the default) or up to 63 printable bytes. */
static int get_account(struct cparse *p, yaml_node_t *v, char **dst, const char *what)
{
    const char *s = scalar(v);
    int r;

    if (s && s[0] == '\0') {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if ((r = get_str(p, v, dst)) < 0)
        return r;
    for (const char *q = *dst; *q; q++)
        if (*q <= ' ' || *q > '~' || *q == ':' || *q == '/')
            return cerr(p, v, what);
    if (strlen(*dst) > 63)
        return cerr(p, v, what);
    return 0;
}

static int kw_security_user(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                            void *arg)
{
    return get_account(p, v, &p->c->security_user,
                       "user: a user name (up to 63 characters, no spaces, ':' or '/')");
}

static int kw_security_group(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                             void *arg)
{
    return get_account(p, v, &p->c->security_group,
                       "group: a group name (up to 63 characters, no spaces, ':' or '/')");
}

static int kw_security_seccomp(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                               void *arg)
{
    return get_bool(p, v, &p->c->security_seccomp);
}

static const struct keyword security_kw[] = {
    {"group", kw_security_group},
    {"seccomp", kw_security_seccomp},
    {"user", kw_security_user},
};

static int kw_security(struct cparse *p, const char *key, yaml_node_t *k, yaml_node_t *v,
                       void *arg)
{
    return each_pair(p, v, security_kw, NKW(security_kw), NULL, "security: expected a mapping");
}

static const struct keyword top_kw[] = {
    {"alerts", kw_alerts},     {"anomaly", kw_anomaly}, {"correlation", kw_correlation},
    {"data_dir", kw_data_dir},
    {"http", kw_http},         {"incident", kw_incident}, {"inputs", kw_inputs},
    {"log", kw_log},
    {"match", kw_match},       {"pipeline", kw_pipeline}, {"respond", kw_respond},
    {"security", kw_security},
    {"sigma", kw_sigma},
    {"store", kw_store},       {"timezone", kw_timezone}, {"triage", kw_triage},
};

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
    if (!(c->data_dir = strdup("./var")) || !(c->http_listen = strdup("127.0.0.1:8080")) ||
        !(c->alerts_jsonl = strdup("alerts.jsonl")))
        goto fail;
    c->inputs = calloc(NKW(def_inputs), sizeof(*c->inputs));
    if (!c->inputs)
        goto fail;
    for (size_t i = 0; i < NKW(def_inputs); i++) {
        struct config_input *in = &c->inputs[i];
        input_init_defaults(in);
        c->ninputs++;
        in->conf.type = strcmp(def_inputs[i].type, "syslog-udp") == 0 ? INPUT_SYSLOG_UDP
                                                                       : INPUT_SYSLOG_TCP;
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
    c->corr_max_memory = 0; /* auto */
    c->corr_tolerance_s = 60;
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
    free(c->targets);
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
    tz_free(c->tz);
    free(c);
}

static const char *yaml_error_text(const yaml_parser_t *yp)
{
    /* libyaml's problem strings are static; good enough as messages. */
    return yp->problem ? yp->problem : "YAML syntax error";
}

int config_parse(const char *text, size_t len, const char *name, struct config **ret,
                 struct parse_err *reterr)
{
    yaml_parser_t yp;
    yaml_document_t doc;
    struct cparse p;
    struct config *c;
    yaml_node_t *root;
    int r = 0;

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
    if (!yaml_parser_initialize(&yp)) {
        config_free(c);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        if (reterr) {
            reterr->line = (unsigned)yp.problem_mark.line + 1;
            reterr->col = (unsigned)yp.problem_mark.column + 1;
            reterr->off = yp.problem_mark.index;
            reterr->msg = yaml_error_text(&yp);
        }
        yaml_parser_delete(&yp);
        config_free(c);
        return -EINVAL;
    }
    p.doc = &doc;
    p.c = c;
    p.err = reterr;
    root = yaml_document_get_root_node(&doc);
    /* An empty file means "all defaults". */
    if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        r = each_pair(&p, root, top_kw, NKW(top_kw), NULL, "expected a mapping of settings");
    if (r == 0 && c->ninputs == 0 && c->http_listen == NULL)
        log_debug("configuration has no inputs and no HTTP endpoint");
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
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
    fprintf(out, "\npipeline:\n  queue: %zu\n", c->queue);
    fprintf(out, "store:\n  events: %s\n", c->store_events ? "true" : "false");
    fprintf(out, "alerts:\n  jsonl: ");
    if (c->alerts_jsonl)
        print_q(out, c->alerts_jsonl);
    else
        fprintf(out, "off");
    fprintf(out, "\ninputs:%s\n", c->ninputs ? "" : " []");
    for (size_t i = 0; i < c->ninputs; i++) {
        const struct config_input *in = &c->inputs[i];
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
        if (in->npeers) {
            fprintf(out, "    peers:\n");
            for (size_t j = 0; j < in->npeers; j++) {
                char net[CIDR_TEXT_MAX];

                fprintf(out, "      - \"%s\"\n", cidr_format(&in->peers[j], net, sizeof(net)));
            }
        }
        if (in->conf.type == INPUT_SYSLOG_TCP || in->conf.type == INPUT_SYSLOG_TLS)
            fprintf(out, "    max_connections: %u\n    max_per_address: %u\n    idle_timeout: %u\n",
                    in->conf.max_connections, in->conf.max_per_address, in->conf.idle_timeout_s);
        if (in->has_tls) {
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
        if (in->conf.type == INPUT_FILE)
            fprintf(out, "    from_start: %s\n    poll_ms: %d\n",
                    in->conf.from_start ? "true" : "false", in->conf.poll_ms);
    }
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
    fprintf(out, "respond:\n  policy: ");
    print_q(out, c->respond_policy ? c->respond_policy : "");
    fputc('\n', out);
    fprintf(out, "security:\n  user: ");
    print_q(out, c->security_user ? c->security_user : "");
    fprintf(out, "\n  group: ");
    print_q(out, c->security_group ? c->security_group : "");
    fprintf(out, "\n  seccomp: %s\n", c->security_seccomp ? "true" : "false");
    fprintf(out, "incident:\n  playbooks: ");
    print_q(out, c->playbooks_dir ? c->playbooks_dir : "");
    fprintf(out, "\n  targets:%s\n", c->ntargets ? "" : " []");
    for (size_t i = 0; i < c->ntargets; i++) {
        const struct config_target *t = &c->targets[i];
        fprintf(out, "    - {phase: %s, category: %s, level: %s, minutes: %lld}\n",
                incident_phase_name((enum incident_phase)t->phase),
                t->category < 0 ? "any"
                                : incident_category_name((enum asset_category)t->category),
                t->level < 0 ? "any" : triage_level_name((enum triage_alert_level)t->level),
                (long long)(t->us / (INT64_C(60) * 1000000)));
    }
}
