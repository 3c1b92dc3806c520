/*
 * config_nats.c - role: and nats: of hikeshi.yaml (config_nats.h): their
 * parsing, defaults, cross-checks and normal form.
 */
#include "conf/config_nats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "util/ydoc.h"

static struct config_nats *nats_of(const struct ydoc *d)
{
    return &((struct config *)d->ctx)->nats;
}

static const char *const role_names[] = {"all", "collector", "analyser"};
static const char *const key_names[] = {"peer", "host"};

const char *config_role_name(int role)
{
    return role >= 0 && role < 3 ? role_names[role] : "?";
}

void config_nats_defaults(struct config_nats *n)
{
    n->partitions = 8;
    n->replicas = 1;
    n->max_bytes = 1024ULL * 1024 * 1024;
    n->ack_wait_us = INT64_C(30) * 1000000;
    n->fetch = 256;
    n->inflight = 4096;
    n->key_default = CONFIG_NATS_KEY_PEER;
}

int config_nats_kw_role(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);

    (void)k;
    (void)arg;
    n->role_line = ydoc_line(v);
    return ydoc_name(d, v, role_names, 3, 0, "role: expected all, collector or analyser", &n->role);
}

/* A NATS name token (stream, node name): letters, digits, - and _, as the
 * server accepts in stream and consumer names and KV keys. */
static int name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static int kw_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r = ydoc_strdup(d, v, 1, CONFIG_NATS_NAME_MAX, &n->name);

    if (r == 0 && !name_ok(n->name))
        return ydoc_fail(d, v, "nats.name: letters, digits, '-' and '_' only");
    return r;
}

static int kw_stream(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r = ydoc_strdup(d, v, 1, CONFIG_NATS_NAME_MAX, &n->stream);

    if (r == 0 && !name_ok(n->stream))
        return ydoc_fail(d, v, "nats.stream: letters, digits, '-' and '_' only");
    return r;
}

/* Subject tokens separated by dots, no wildcards or spaces. */
static int kw_subject(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r = ydoc_strdup(d, v, 1, 200, &n->subject), dot = 1;

    if (r < 0)
        return r;
    for (const char *s = n->subject; *s; s++) {
        if (*s == '.' && dot)
            return ydoc_fail(d, v, "nats.subject: an empty token (two dots, or a dot first)");
        if (*s == '*' || *s == '>' || *s <= ' ' || *s == 0x7f)
            return ydoc_fail(d, v, "nats.subject: no wildcards, spaces or control characters");
        dot = *s == '.';
    }
    if (dot)
        return ydoc_fail(d, v, "nats.subject: must not end with a dot");
    return 0;
}

static int kw_servers(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r;

    for (size_t i = 0; i < n->nservers; i++)
        free(n->servers[i]);
    free(n->servers);
    n->servers = NULL;
    n->nservers = 0;
    if ((r = ydoc_strlist(d, v, CONFIG_NATS_SERVERS_MAX, 1, 512, &n->servers, &n->nservers)) < 0)
        return r;
    if (n->nservers == 0)
        return ydoc_fail(d, v, "nats.servers: name at least one server (nats://host:port)");
    for (size_t i = 0; i < n->nservers; i++)
        if (strncmp(n->servers[i], "nats://", 7) != 0 && strncmp(n->servers[i], "tls://", 6) != 0)
            return ydoc_failf(d, v, "nats.servers: '%s' is not a nats://host:port URL",
                              n->servers[i]);
    return 0;
}

static int kw_partitions(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x;
    int r = ydoc_uint(d, v, 1, CONFIG_NATS_PARTITIONS_MAX, "nats.partitions must be 1 to 1024", &x);

    if (r == 0)
        nats_of(d)->partitions = (uint32_t)x;
    return r;
}

static int kw_replicas(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x;
    int r = ydoc_uint(d, v, 1, 5, "nats.replicas must be 1 to 5 (JetStream's limit)", &x);

    if (r == 0)
        nats_of(d)->replicas = (uint32_t)x;
    return r;
}

static int kw_max_bytes(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bytes(d, v, 1024 * 1024, UINT64_C(1) << 50, "nats.max_bytes must be 1M to 1P bytes",
                      &nats_of(d)->max_bytes);
}

static int kw_max_msgs(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bytes(d, v, 0, UINT64_C(1) << 50, "nats.max_msgs must be 0 (no limit) to 2^50",
                      &nats_of(d)->max_msgs);
}

static int kw_ack_wait(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int64_t us;
    int r = ydoc_duration(d, v, YDOC_DUR_BARE, &us);

    if (r < 0)
        return r;
    if (us < INT64_C(2) * 1000000 || us > INT64_C(3600) * 1000000)
        return ydoc_fail(d, v, "nats.ack_wait must be 2s to 1h");
    nats_of(d)->ack_wait_us = us;
    return 0;
}

static int kw_fetch(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x;
    int r = ydoc_uint(d, v, 1, 8192, "nats.fetch must be 1 to 8192 records", &x);

    if (r == 0)
        nats_of(d)->fetch = (uint32_t)x;
    return r;
}

static int kw_inflight(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    uint64_t x;
    int r = ydoc_uint(d, v, 1, 65536, "nats.inflight must be 1 to 65536 publishes", &x);

    if (r == 0)
        nats_of(d)->inflight = (uint32_t)x;
    return r;
}

/* One pair of partition_key: `default: peer|host` or `INPUT: peer|host`. */
static int kw_key_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    const char *name = ydoc_scalar(k, NULL);
    struct config_nats_input_key *nk;
    int kind, r;

    (void)arg;
    if ((r = ydoc_name(d, v, key_names, 2, 0,
                       "nats.partition_key: expected peer (the sender's address) or host "
                       "(the record's host name)",
                       &kind)) < 0)
        return r;
    if (!name || !name[0])
        return ydoc_fail(d, k, "nats.partition_key: an input name or default");
    if (strcmp(name, "default") == 0) {
        n->key_default = kind;
        return 0;
    }
    for (size_t i = 0; i < n->nkeys; i++)
        if (strcmp(n->keys[i].input, name) == 0)
            return ydoc_failf(d, k, "nats.partition_key: input %s given twice", name);
    if (n->nkeys >= 4096)
        return ydoc_fail(d, k, "nats.partition_key: too many inputs");
    nk = realloc(n->keys, (n->nkeys + 1) * sizeof(*n->keys));
    if (!nk)
        return -ENOMEM;
    n->keys = nk;
    if (!(nk[n->nkeys].input = strdup(name)))
        return -ENOMEM;
    nk[n->nkeys].key = kind;
    nk[n->nkeys].line = ydoc_line(k);
    n->nkeys++;
    return 0;
}

static int kw_partition_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_pairs(d, v, kw_key_pair, NULL);
}

static int kw_tls_path(struct ydoc *d, yaml_node_t *v, char **dst)
{
    free(*dst);
    *dst = NULL;
    return ydoc_strdup(d, v, 1, 4096, dst);
}

static int kw_tls_ca(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->tls_ca);
}

static int kw_tls_cert(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->tls_cert);
}

static int kw_tls_key(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->tls_key);
}

static const struct ydoc_key tls_kw[] = {
    {"ca", kw_tls_ca},
    {"cert", kw_tls_cert},
    {"key", kw_tls_key},
};
static const struct ydoc_table tls_table = {tls_kw, YDOC_NKEYS(tls_kw),
                                            "nats.tls: expected a mapping (ca, cert, key)", NULL};

static int kw_tls(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r;

    if ((r = ydoc_walk(d, v, &tls_table, NULL)) < 0)
        return r;
    if (!n->tls_cert != !n->tls_key)
        return ydoc_fail(d, k,
                         "nats.tls: cert and key go together (the client certificate and "
                         "its private key)");
    if (!n->tls_ca && !n->tls_cert)
        return ydoc_fail(d, k, "nats.tls: name ca (the servers' CA) and/or cert and key");
    return 0;
}

static int kw_user(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);

    free(n->user);
    n->user = NULL;
    return ydoc_strdup(d, v, 1, 256, &n->user);
}

static int kw_password_file(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->password_file);
}

static int kw_nkey_seed_file(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->nkey_seed_file);
}

static int kw_credentials_file(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return kw_tls_path(d, v, &nats_of(d)->credentials_file);
}

static const struct ydoc_key nats_kw[] = {
    {"ack_wait", kw_ack_wait},
    {"credentials_file", kw_credentials_file},
    {"fetch", kw_fetch},
    {"inflight", kw_inflight},
    {"max_bytes", kw_max_bytes},
    {"max_msgs", kw_max_msgs},
    {"name", kw_name},
    {"nkey_seed_file", kw_nkey_seed_file},
    {"partition_key", kw_partition_key},
    {"partitions", kw_partitions},
    {"password_file", kw_password_file},
    {"replicas", kw_replicas},
    {"servers", kw_servers},
    {"stream", kw_stream},
    {"subject", kw_subject},
    {"tls", kw_tls},
    {"user", kw_user},
};
static const struct ydoc_table nats_table = {nats_kw, YDOC_NKEYS(nats_kw),
                                             "nats: expected a mapping", NULL};

int config_nats_kw(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct config_nats *n = nats_of(d);
    int r;

    n->set = 1;
    n->line = ydoc_line(k);
    if ((r = ydoc_walk(d, v, &nats_table, NULL)) < 0)
        return r;
    if (n->nservers == 0)
        return ydoc_fail(d, k, "nats: servers is required (a list of nats://host:port)");
    if (!n->user != !n->password_file)
        return ydoc_fail(d, k, "nats: user and password_file go together");
    if (n->user && n->nkey_seed_file)
        return ydoc_fail(d, k,
                         "nats: user/password_file and nkey_seed_file exclude each other (the "
                         "server knows this node by one of them)");
    if (n->credentials_file && (n->user || n->nkey_seed_file))
        return ydoc_fail(d, k,
                         n->user ? "nats: user/password_file and credentials_file exclude each "
                                   "other (the server knows this node by one of them)"
                                 : "nats: nkey_seed_file and credentials_file exclude each other "
                                   "(a .creds file holds its own seed)");
    if ((!n->stream && !(n->stream = strdup("HIKESHI"))) ||
        (!n->subject && !(n->subject = strdup("hikeshi.rec"))))
        return -ENOMEM;
    return 0;
}

int config_nats_check(struct ydoc *d, const struct config *c)
{
    const struct config_nats *n = &c->nats;

    if (n->role != CONFIG_ROLE_ALL && !n->set)
        return ydoc_fail_at(d, n->role_line, 1,
                            n->role == CONFIG_ROLE_COLLECTOR
                                ? "role: collector needs a nats: section (servers, stream, "
                                  "partitions) to publish to"
                                : "role: analyser needs a nats: section (servers, stream, "
                                  "partitions) to consume from");
    if (n->role == CONFIG_ROLE_COLLECTOR && !c->archive_enabled)
        return ydoc_fail_at(d, n->role_line, 1,
                            "role: collector keeps every record in its archive until the stream "
                            "acked it: archive.enabled must not be false");
    if (n->role == CONFIG_ROLE_ANALYSER && n->ack_wait_us < INT64_C(2) * 1000000)
        return ydoc_fail_at(d, n->line, 1, "nats.ack_wait must be 2s or more");
    for (size_t i = 0; i < n->nkeys; i++) {
        size_t k = 0;
        int r;

        /* config.c's config_input_find would make the two files call each
         * other (config.c calls this check). */
        while (k < c->ninputs && strcmp(c->inputs[k].name, n->keys[i].input) != 0)
            k++;
        if (k < c->ninputs)
            continue;
        r = ydoc_failf(d, NULL, "nats.partition_key: no input named %s", n->keys[i].input);
        if (d->err)
            d->err->line = n->keys[i].line;
        return r;
    }
    return 0;
}

int config_nats_key_of(const struct config_nats *n, const char *input)
{
    for (size_t i = 0; i < n->nkeys; i++)
        if (strcmp(n->keys[i].input, input) == 0)
            return n->keys[i].key;
    return n->key_default;
}

void config_nats_free(struct config_nats *n)
{
    for (size_t i = 0; i < n->nservers; i++)
        free(n->servers[i]);
    free(n->servers);
    for (size_t i = 0; i < n->nkeys; i++)
        free(n->keys[i].input);
    free(n->keys);
    free(n->name);
    free(n->stream);
    free(n->subject);
    free(n->tls_ca);
    free(n->tls_cert);
    free(n->tls_key);
    free(n->user);
    free(n->password_file);
    free(n->nkey_seed_file);
    free(n->credentials_file);
    memset(n, 0, sizeof(*n));
}

/* A YAML double-quoted scalar (the values here are checked tokens and
 * URLs, but a URL may hold a quote). */
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

void config_nats_print(const struct config *c, FILE *out)
{
    const struct config_nats *n = &c->nats;

    fprintf(out, "role: %s\n", config_role_name(n->role));
    if (!n->set)
        return;
    fprintf(out, "nats:\n  servers:\n");
    for (size_t i = 0; i < n->nservers; i++) {
        fprintf(out, "    - ");
        print_q(out, n->servers[i]);
        fputc('\n', out);
    }
    if (n->name)
        fprintf(out, "  name: %s\n", n->name);
    fprintf(out,
            "  stream: %s\n  subject: %s\n  partitions: %" PRIu32 "\n  replicas: %" PRIu32
            "\n  max_bytes: %" PRIu64 "\n  max_msgs: %" PRIu64 "\n  ack_wait: %llds\n"
            "  fetch: %" PRIu32 "\n  inflight: %" PRIu32 "\n  partition_key:\n    default: %s\n",
            n->stream, n->subject, n->partitions, n->replicas, n->max_bytes, n->max_msgs,
            (long long)(n->ack_wait_us / 1000000), n->fetch, n->inflight,
            key_names[n->key_default]);
    for (size_t i = 0; i < n->nkeys; i++) {
        fprintf(out, "    ");
        print_q(out, n->keys[i].input);
        fprintf(out, ": %s\n", key_names[n->keys[i].key]);
    }
    if (n->tls_ca || n->tls_cert) {
        const char *name[] = {"ca", "cert", "key"};
        const char *val[] = {n->tls_ca, n->tls_cert, n->tls_key};

        fprintf(out, "  tls:\n");
        for (size_t i = 0; i < 3; i++) {
            if (!val[i])
                continue;
            fprintf(out, "    %s: ", name[i]);
            print_q(out, val[i]);
            fputc('\n', out);
        }
    }
    if (n->user) {
        fprintf(out, "  user: ");
        print_q(out, n->user);
        fprintf(out, "\n  password_file: ");
        print_q(out, n->password_file);
        fputc('\n', out);
    }
    if (n->nkey_seed_file) {
        fprintf(out, "  nkey_seed_file: ");
        print_q(out, n->nkey_seed_file);
        fputc('\n', out);
    }
    if (n->credentials_file) {
        fprintf(out, "  credentials_file: ");
        print_q(out, n->credentials_file);
        fputc('\n', out);
    }
}
