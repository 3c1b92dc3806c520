/*
 * test_config.c - hikeshi.yaml: defaults, every key, errors with line and
 * column, and the normal form that must parse back to the same config.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/field.h"
#include "incident/incident.h"
#include "event/tz.h"
#include "conf/config.h"

static char *print_config(const struct config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    config_print(c, f);
    fclose(f);
    return text;
}

static void test_defaults(void **state)
{
    struct config *c = config_defaults();

    assert_non_null(c);
    assert_string_equal(c->data_dir, "./var");
    assert_string_equal(c->http_listen, "127.0.0.1:8080");
    assert_int_equal(c->ninputs, 2);
    assert_int_equal(c->inputs[0].conf.type, INPUT_SYSLOG_UDP);
    assert_string_equal(c->inputs[0].listen, "127.0.0.1:5514");
    assert_int_equal(c->inputs[1].conf.type, INPUT_SYSLOG_TCP);
    assert_string_equal(c->inputs[1].listen, "127.0.0.1:5514");
    assert_int_equal(c->nsigma_rules, 1);
    assert_non_null(c->sigma_mappings);
    assert_int_equal(c->tz_off_s, 0);
    /* The correlation cap is sized by the engine (auto). */
    assert_int_equal(c->corr_max_memory, 0);
    /* Response is on by default, with the bundled policy (a dry run). */
    assert_non_null(c->respond_policy);
    assert_non_null(strstr(c->respond_policy, "config/respond.yaml"));
    config_free(c);
}

static void test_empty_file_is_defaults(void **state)
{
    struct config *c;
    struct parse_err err;

    assert_int_equal(config_parse("", 0, "empty.yaml", &c, &err), 0);
    assert_int_equal(c->ninputs, 2);
    assert_string_equal(c->path, "empty.yaml");
    config_free(c);
}

static void test_full(void **state)
{
    struct config *c;
    struct parse_err err;
    const char *path = "tests/unit/config/full.yaml";

    assert_int_equal(config_load(path, &c, &err), 0);
    assert_string_equal(c->data_dir, "/tmp/hikeshi-test-data");
    assert_int_equal(c->tz_off_s, 9 * 3600);
    assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(c->http_listen, "127.0.0.1:18080");
    assert_int_equal(c->http_token_ttl_s, 7200);
    assert_int_equal(c->queue, 64);
    assert_int_equal(c->store_events, 0);
    assert_null(c->alerts_jsonl);
    assert_int_equal(c->ninputs, 2);
    assert_string_equal(c->inputs[0].name, "relay");
    assert_int_equal(c->inputs[0].conf.type, INPUT_SYSLOG_TCP);
    assert_string_equal(c->inputs[0].conf.listen, "[::1]:6514");
    assert_string_equal(c->inputs[0].decoder, "rfc5424");
    assert_int_equal(c->inputs[0].conf.max_line, 8192);
    assert_int_equal(c->inputs[0].conf.id, 0);
    assert_string_equal(c->inputs[1].conf.path, "/var/log/auth.log");
    assert_int_equal(c->inputs[1].conf.from_start, 1);
    assert_int_equal(c->inputs[1].conf.poll_ms, 500);
    assert_int_equal(c->inputs[1].conf.id, 1);
    assert_string_equal(c->inputs[1].decoder, "auto");
    assert_int_equal(c->nsigma_rules, 2);
    assert_string_equal(c->sigma_rules[0], "rules");
    assert_string_equal(c->sigma_rules[1], "/etc/hikeshi/rules \"local\"");
    assert_string_equal(c->sigma_mappings, "rules/config");
    assert_int_equal(c->corr_max_memory, 128 * 1024 * 1024);
    assert_int_equal(c->corr_tolerance_s, 5);
    assert_int_equal(c->anomaly_enabled, 0);
    assert_int_equal(c->anomaly_internal_set, 1);
    assert_int_equal(c->nanomaly_internal, 3);
    assert_string_equal(c->anomaly_internal[1], "203.0.113.0/24");
    assert_string_equal(c->triage_config, "rules/config/triage.yaml");
    assert_int_equal(c->ntriage_assets, 1);
    assert_string_equal(c->triage_assets[0], "etc/assets.example.yaml");
    assert_string_equal(c->playbooks_dir, "playbooks");
    assert_null(c->respond_policy); /* respond.policy: off */
    assert_int_equal(c->ntargets, 3);
    assert_int_equal(c->targets[0].phase, INCIDENT_PHASE_FIRST_AID);
    assert_int_equal(c->targets[0].category, ASSET_CAT_A);
    assert_int_equal(c->targets[0].level, TRIAGE_RED);
    assert_int_equal(c->targets[0].us, INT64_C(600) * 1000000);
    assert_int_equal(c->targets[1].phase, INCIDENT_PHASE_EMERGENCY);
    assert_int_equal(c->targets[1].category, -1);
    assert_int_equal(c->targets[1].level, -1);
    assert_int_equal(c->targets[1].us, INT64_C(12) * 3600 * 1000000);
    assert_int_equal(c->targets[2].category, ASSET_CAT_NONE);
    assert_int_equal(c->targets[2].us, INT64_C(86400) * 1000000);
    config_free(c);
}

/* The printed normal form parses back and prints identically. */
static void test_roundtrip(void **state)
{
    struct config *c, *c2, *d;
    struct parse_err err;
    char *t1, *t2, *t3, *t4;

    assert_int_equal(config_load("tests/unit/config/full.yaml", &c, &err), 0);
    t1 = print_config(c);
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    d = config_defaults();
    t3 = print_config(d);
    assert_non_null(strstr(t3, "max_memory: auto\n"));
    config_free(d);
    assert_int_equal(config_parse(t3, strlen(t3), NULL, &d, &err), 0);
    t4 = print_config(d);
    assert_string_equal(t3, t4);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    config_free(c);
    config_free(c2);
    config_free(d);
}

struct bad_case {
    const char *yaml;
    unsigned line, col;
    const char *msg_part;
};

static const struct bad_case bad_cases[] = {
    {"data_dir: ./var\nbogus: 1\n", 2, 1, "unknown key"},
    {"log:\n  level: loud\n", 2, 10, "log level"},
    {"inputs:\n  - type: syslog-udp\n", 2, 5, "missing listen"},
    {"inputs:\n  - type: carrier-pigeon\n    listen: x:1\n", 2, 11, "input type"},
    {"inputs:\n  - type: file\n", 2, 5, "missing path"},
    {"inputs:\n  - type: file\n    path: /x\n    decoder: nosuch\n", 4, 14, "unknown decoder"},
    {"inputs:\n  - type: file\n    path: /x\n    max_line: 10\n", 4, 15, "max_line"},
    {"inputs:\n  - name: a\n    type: file\n    path: /x\n  - name: a\n    type: file\n    path: /y\n",
     5, 5, "duplicate name"},
    {"pipeline:\n  queue: -3\n", 2, 10, "non-negative"},
    {"pipeline:\n  queue: 0\n", 2, 10, "between 1"},
    {"timezone: Mars/Olympus\n", 1, 11, "timezone"},
    {"timezone: Europe/Berln\n", 1, 11, "unknown zone"},
    {"timezone: ../../etc/passwd\n", 1, 11, "IANA zone name"},
    {"inputs:\n  - type: file\n    path: /x\n    timezone: Europe/Berln\n", 4, 15, "unknown zone"},
    {"inputs:\n  - type: file\n    path: /x\n    timezone: +25:00\n", 4, 15, "timezone"},
    {"data_dir: [a, b]\n", 1, 11, "expected a string"},
    {"data_dir: a\ndata_dir: b\n", 2, 1, "duplicate key"},
    {"store:\n  events: maybe\n", 2, 11, "true or false"},
    {"correlation:\n  max_memory: 1k\n", 2, 15, "between 64k"},
    {"correlation:\n  max_memory: automatic\n", 2, 15, "auto or a size"},
    {"correlation:\n  late_tolerance: 1h\n", 2, 19, "non-negative integer"},
    {"http:\n  token_ttl: 0\n", 2, 14, "1 second to 366 days"},
    {"http:\n  token_ttl: 367d\n", 2, 14, "1 second to 366 days"},
    {"http:\n  token_ttl: 1w\n", 2, 14, "duration"},
    {"http:\n  token_ttl: -5\n", 2, 14, "duration"},
    {"http:\n  tls_cert: /x.crt\n", 2, 3, "go together"},
    {"http:\n  tls: false\n  tls_cert: a\n  tls_key: b\n", 2, 3, "tls is false"},
    {"http:\n  tls: maybe\n", 2, 8, "auto, true or false"},
    {"http:\n  hosts: [\"a b\"]\n", 2, 10, "without a port"},
    {"http:\n  hosts: [\"h:8080\", x]\n", 2, 10, "without a port"},
    {"http:\n  max_per_address: 0\n", 2, 20, "between 1 and 10000"},
    {"http:\n  request_timeout: 1h\n", 2, 20, "non-negative integer"},
    {"respond:\n  policy: [a, b]\n", 2, 11, "string"},
    {"respond:\n  polcy: x.yaml\n", 2, 3, "unknown"},
    {"anomaly:\n  enabled: sometimes\n", 2, 12, "true or false"},
    {"anomaly:\n  internal: [10.0.0.0/8, ten]\n", 2, 13, "not an address or network"},
    {"triage:\n  assets: {a: b}\n", 2, 11, "list of paths"},
    {"incident:\n  targets: {a: b}\n", 2, 12, "expected a list"},
    {"incident:\n  targets:\n    - {phase: lunch, minutes: 5}\n", 3, 15, "phase is"},
    {"incident:\n  targets:\n    - {phase: closed, minutes: 5}\n", 3, 15, "phase is"},
    {"incident:\n  targets:\n    - {phase: new, level: Purple, minutes: 5}\n", 3, 27, "level is"},
    {"incident:\n  targets:\n    - {phase: new}\n", 3, 7, "needs minutes"},
    {"incident:\n  targets:\n    - {minutes: 5}\n", 3, 7, "needs a phase"},
    {"incident:\n  targets:\n    - {phase: new, minutes: 5, hours: 1}\n", 3, 39, "one of"},
    {"incident:\n  targets:\n    - {phase: new, minutes: -5}\n", 3, 29, "non-negative"},
    /* The literal rules of the first versions: a clear pointer to Sigma. */
    {"match:\n  - id: x\n    title: t\n    where: {a: b}\n", 1, 1, "write the rule as a Sigma rule"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    trust: maybe\n", 4, 12, "trusted or"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    trust: trusted\n", 2, 5,
     "needs peers"},
    {"inputs:\n  - type: syslog-udp\n    listen: x:1\n    trust: trusted\n", 2, 5,
     "needs peers"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    peers: [10.0.0.0/8, gw.lan]\n", 4,
     25, "names are not resolved"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    peers: 10.0.0.0/33\n", 4, 12,
     "not an IP address"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    peers: []\n", 4, 12, "empty list"},
    {"inputs:\n  - type: file\n    path: /x\n    peers: [10.0.0.1]\n", 2, 5, "network inputs only"},
    {"inputs:\n  - type: syslog-udp\n    listen: x:1\n    max_per_address: 4\n", 2, 5,
     "gelf-tcp and json-tcp inputs only"},
    {"inputs:\n  - type: gelf-udp\n    listen: x:1\n    idle_timeout: 4\n", 2, 5,
     "gelf-tcp and json-tcp inputs only"},
    {"inputs:\n  - type: json-tcp\n", 2, 5, "missing listen"},
    {"inputs:\n  - type: gelf-udp\n    listen: x:1\n    trust: trusted\n", 2, 5,
     "trusted on a network input needs peers"},
    {"inputs:\n  - type: gelf\n    listen: x:1\n", 2, 11, "gelf-udp, gelf-tcp"},
    {"inputs:\n  - type: json-tcp\n    listen: x:1\n    users: [\"a:b\"]\n", 2, 5,
     "apply to http-bulk inputs only"},
    {"inputs:\n  - type: http-bulk\n    listen: x:1\n    users: [\"nopassword\"]\n", 4, 12,
     "\"name:password\""},
    {"inputs:\n  - type: http-bulk\n    listen: x:1\n    api_keys: [\"id:\"]\n", 4, 15,
     "\"id:key\""},
    {"inputs:\n  - type: http-bulk\n    listen: x:1\n    max_body: 100\n", 4, 15,
     "between 4096"},
    {"inputs:\n  - type: http-bulk\n    listen: x:1\n    trust: trusted\n", 2, 5,
     "trusted on a network input needs peers"},
    {"inputs:\n  - type: http-bulk\n    listen: x:1\n    tls: {cert: c, key: k, ca: a}\n", 2, 5,
     "tls takes cert and key (PEM files) only"},
    {"inputs:\n  - type: json-tcp\n    listen: x:1\n    tls: {cert: c, key: k}\n", 2, 5,
     "tls applies to syslog-tls and http-bulk inputs only"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    max_connections: 0\n", 4, 22,
     "between 1 and 65536"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    idle_timeout: 1h\n", 4, 19,
     "non-negative integer"},
    {"inputs:\n  - type: syslog-tls\n    listen: x:1\n    tls: {cert: c, key: k}\n", 2, 5,
     "ca or client_fingerprints"},
    {"inputs:\n  - type: syslog-tls\n    listen: x:1\n    tls: {cert: c, ca: a}\n", 2, 5,
     "needs cert and key"},
    {"inputs:\n  - type: syslog-tls\n    listen: x:1\n", 2, 5, "needs cert and key"},
    {"inputs:\n  - type: syslog-tcp\n    listen: x:1\n    tls: {cert: c, key: k, ca: a}\n", 2,
     5, "syslog-tls and http-bulk inputs only"},
    {"inputs:\n  - type: syslog-tls\n    listen: x:1\n    tls: {cert: c, key: k, "
     "client_fingerprints: [\"ab:cd\"]}\n",
     4, 50, "not a SHA-256 fingerprint"},
    {"inputs:\n  - type: syslog-tls\n    listen: x:1\n    tls: {cert: c, key: k, pin: x}\n", 4,
     28, "unknown key"},
    {"inputs: [\n", 2, 1, NULL},         /* YAML syntax error from libyaml */
    {"- just\n- a list\n", 1, 1, "expected a mapping"},
    {"key: \"unterminated\n", 2, 1, NULL},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *bc = &bad_cases[i];
        struct config *c = (struct config *)(uintptr_t)1;
        struct parse_err err;
        int r = config_parse(bc->yaml, strlen(bc->yaml), "t.yaml", &c, &err);

        if (r != -EINVAL || !err.msg || err.line != bc->line ||
            (bc->msg_part && !strstr(err.msg, bc->msg_part)))
            fail_msg("case %zu: r=%d line=%u col=%u msg=%s (want line %u '%s')", i, r, err.line,
                     err.col, err.msg ? err.msg : "(null)", bc->line,
                     bc->msg_part ? bc->msg_part : "");
        /* The column points at the offending node, where we know it. */
        if (bc->msg_part && err.col != bc->col)
            fail_msg("case %zu: column %u, want %u (%s)", i, err.col, bc->col, err.msg);
        assert_null(c);
    }
}

/* The HTTP edge's keys: defaults, every key, and the normal form. */
static void test_http_edge(void **state)
{
    static const char yaml[] = "http:\n"
                               "  listen: 0.0.0.0:8443\n"
                               "  hosts: [hikeshi.example.org, \"[2001:db8::7]\", 192.0.2.7]\n"
                               "  tls: true\n"
                               "  tls_cert: /etc/hikeshi/tls/h.crt\n"
                               "  tls_key: /etc/hikeshi/tls/h.key\n"
                               "  max_connections: 100\n"
                               "  max_per_address: 4\n"
                               "  idle_timeout: 20\n"
                               "  request_timeout: 7\n";
    struct config *c = NULL, *c2 = NULL;
    struct parse_err err;
    char *t1, *t2;

    (void)state;
    c = config_defaults();
    assert_non_null(c);
    assert_int_equal(c->http.tls, CONFIG_HTTP_TLS_AUTO);
    assert_int_equal(c->http.nhosts, 0);
    assert_int_equal(c->http.max_connections, 256);
    assert_int_equal(c->http.max_per_address, 16);
    assert_int_equal(c->http.idle_timeout_s, 10);
    assert_int_equal(c->http.request_timeout_s, 15);
    assert_false(c->http.insecure_cleartext);
    config_free(c);
    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_int_equal(c->http.nhosts, 3);
    assert_string_equal(c->http.hosts[1], "[2001:db8::7]");
    assert_int_equal(c->http.tls, CONFIG_HTTP_TLS_ON);
    assert_string_equal(c->http.tls_cert, "/etc/hikeshi/tls/h.crt");
    assert_string_equal(c->http.tls_key, "/etc/hikeshi/tls/h.key");
    assert_int_equal(c->http.max_connections, 100);
    assert_int_equal(c->http.max_per_address, 4);
    assert_int_equal(c->http.idle_timeout_s, 20);
    assert_int_equal(c->http.request_timeout_s, 7);
    t1 = print_config(c);
    assert_int_equal(config_parse(t1, strlen(t1), "t1.yaml", &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);
    c = c2 = NULL;
    assert_int_equal(config_parse("http:\n  tls: false\n  insecure_cleartext: true\n", 46,
                                  "t.yaml", &c, &err),
                     0);
    assert_int_equal(c->http.tls, CONFIG_HTTP_TLS_OFF);
    assert_true(c->http.insecure_cleartext);
    config_free(c);
}

/* inputs[].trust and peers reach input_conf, and print back. */
static void test_trust_peers(void **state)
{
    static const char y[] = "inputs:\n"
                            "  - {name: fw, type: syslog-tcp, listen: 127.0.0.1:0, trust: trusted,\n"
                            "     peers: [192.0.2.7, 10.1.2.3/8, \"2001:db8::1/32\"]}\n"
                            "  - {name: web, type: file, path: /x, trust: trusted}\n"
                            "  - {name: any, type: syslog-udp, listen: 127.0.0.1:0}\n";
    struct config *c, *c2;
    struct parse_err err;
    const struct input_conf *fw, *web, *any;
    uint8_t a[16] = {10, 200, 0, 1};
    char *t1, *t2;

    assert_int_equal(config_parse(y, strlen(y), "t.yaml", &c, &err), 0);
    fw = &config_input_find(c, "fw")->conf;
    web = &config_input_find(c, "web")->conf;
    any = &config_input_find(c, "any")->conf;
    assert_int_equal(fw->trust, INPUT_TRUST_TRUSTED);
    assert_int_equal(web->trust, INPUT_TRUST_TRUSTED);
    assert_int_equal(any->trust, INPUT_TRUST_UNTRUSTED);
    assert_int_equal(any->npeers, 0);
    assert_int_equal(fw->npeers, 3);
    assert_true(cidr_list_contains(fw->peers, fw->npeers, 4, a));
    a[0] = 11;
    assert_false(cidr_list_contains(fw->peers, fw->npeers, 4, a));
    assert_int_equal(fw->max_connections, 1024);
    assert_int_equal(fw->max_per_address, 64);
    assert_int_equal(fw->idle_timeout_s, 3600);
    t1 = print_config(c);
    assert_non_null(strstr(t1, "    max_connections: 1024\n    max_per_address: 64\n"
                               "    idle_timeout: 3600\n"));
    assert_non_null(strstr(t1, "    trust: trusted\n    peers:\n      - \"192.0.2.7\"\n"
                               "      - \"10.0.0.0/8\"\n      - \"2001:db8::/32\"\n"));
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);
}

/* security: user, group and seccomp; defaults, the normal form, errors. */
static void test_security(void **state)
{
    static const char yaml[] = "security:\n  user: hk-daemon\n  group: adm\n  seccomp: false\n";
    static const char *const bad[] = {
        "security:\n  user: \"a b\"\n",      "security:\n  user: root:root\n",
        "security:\n  group: ../etc\n",       "security:\n  seccomp: maybe\n",
        "security:\n  chroot: /var/empty\n", "security: [user]\n",
    };
    struct config *c, *c2;
    struct parse_err err;
    char *t1, *t2;

    (void)state;
    c = config_defaults();
    assert_non_null(c);
    assert_null(c->security_user);
    assert_null(c->security_group);
    assert_int_equal(c->security_seccomp, 1);
    t1 = print_config(c);
    assert_non_null(strstr(t1, "security:\n  user: \"\"\n  group: \"\"\n  seccomp: true\n"));
    free(t1);
    config_free(c);

    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_string_equal(c->security_user, "hk-daemon");
    assert_string_equal(c->security_group, "adm");
    assert_int_equal(c->security_seccomp, 0);
    t1 = print_config(c);
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    assert_string_equal(c2->security_user, "hk-daemon");
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = (struct config *)(uintptr_t)1;
        if (config_parse(bad[i], strlen(bad[i]), "t.yaml", &c, &err) != -EINVAL)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_null(c);
    }
}

/* archive: on by default, synced every 200 ms; each key parses, prints
 * back and re-parses; a sync policy or size out of range is refused. */
static void test_archive(void **state)
{
    static const char yaml[] = "archive:\n  enabled: false\n  sync: every record\n"
                               "  block_size: 256k\n  segment_size: 64m\n"
                               "  seal_records: 5000\n  seal_interval: 60\n";
    static const char *const bad[] = {
        "archive:\n  sync: sometimes\n",     "archive:\n  sync: every 0 ms\n",
        "archive:\n  sync: every 60001 ms\n", "archive:\n  sync: every 5 min\n",
        "archive:\n  sync: every 61 s\n",     "archive:\n  sync: every 5 ms later\n",
        "archive:\n  block_size: 1k\n",      "archive:\n  segment_size: 100k\n",
        "archive:\n  enabled: maybe\n",
    };
    struct config *c, *c2;
    struct parse_err err;
    uint64_t ms;
    char *t1, *t2;

    (void)state;
    c = config_defaults();
    assert_non_null(c);
    assert_int_equal(c->archive_enabled, 1);
    assert_int_equal(c->archive_sync_ms, 200);
    t1 = print_config(c);
    assert_non_null(strstr(t1, "  enabled: true\n  sync: every 200 ms\n"));
    free(t1);
    config_free(c);

    assert_int_equal(config_parse_archive_sync("every 2 s", &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(config_parse_archive_sync("every 50 ms", &ms), 0);
    assert_int_equal(ms, 50);

    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_int_equal(c->archive_enabled, 0);
    assert_int_equal(c->archive_sync_ms, 0);
    assert_int_equal(c->archive_block_bytes, 256 * 1024);
    assert_int_equal(c->archive_segment_bytes, 64 * 1024 * 1024);
    assert_int_equal(c->archive_seal_records, 5000);
    assert_int_equal(c->archive_seal_interval_s, 60);
    t1 = print_config(c);
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    assert_int_equal(c2->archive_sync_ms, 0);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = (struct config *)(uintptr_t)1;
        if (config_parse(bad[i], strlen(bad[i]), "t.yaml", &c, &err) != -EINVAL)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_null(c);
    }
}

/* intel.feeds: every key parsed, the normal form parses back without the
 * auth header's secret, and each bad feed is refused with where and why. */
/* archive.witness, archive.retention.inputs and audit.head_url (issue
 * 17): parsed, printed (secrets not) and read back the same, and refused
 * with a reason and a line. */
static void test_archive_witness_inputs(void **state)
{
    static const char yaml[] =
        "archive:\n  retention:\n    max_age: 90d\n    inputs:\n"
        "      proxy: {max_age: 7d}\n      auth: {max_age: 400d, max_size: 20g}\n"
        "  witness:\n    - file: /mnt/worm/seals.jsonl\n"
        "    - {url: \"https://w.example/seals\", secret_file: /etc/hikeshi/w.secret}\n"
        "    - {hikeshi: \"http://soc2:9201/_bulk\", auth_header: \"Authorization: ApiKey k3y\"}\n"
        "audit:\n  head: /k/audit.head\n  head_url: \"https://w.example/head\"\n"
        "  head_secret_file: /etc/hikeshi/h.secret\n";
    static const struct {
        const char *yaml, *msg;
        unsigned line;
    } bad[] = {
        {"archive:\n  witness:\n    - {file: rel/path}\n", "an absolute path", 3},
        {"archive:\n  witness:\n    - {file: /a, url: \"http://x/\"}\n", "one of file, url", 3},
        {"archive:\n  witness:\n    - {url: \"http://x/\"}\n", "needs secret_file", 3},
        {"archive:\n  witness:\n    - {hikeshi: \"http://x:9201/\"}\n", "_bulk URL", 3},
        {"archive:\n  witness:\n    - {file: /a, auth_header: \"A: b\"}\n", "goes with hikeshi", 3},
        {"archive:\n  witness:\n    - {file: /a}\n    - {file: /a}\n", "already listed", 4},
        {"archive:\n  retention:\n    inputs:\n      fw: {}\n", "max_age, max_size or both", 4},
        {"archive:\n  retention:\n    inputs:\n      fw: {max_size: 10k}\n", "at least 1M", 4},
        {"archive:\n  retention:\n    inputs: [fw]\n", "mapping of input names", 3},
        {"audit:\n  head_url: \"http://x/\"\n", "needs audit.head", 2},
    };
    struct config *c, *c2;
    struct parse_err err;
    char *t1, *t2;

    (void)state;
    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_int_equal(c->narchive_retention_inputs, 2);
    assert_string_equal(c->archive_retention_inputs[0].name, "proxy");
    assert_int_equal(c->archive_retention_inputs[0].max_age_s, 7 * 86400);
    assert_int_equal(c->archive_retention_inputs[0].max_bytes, 0);
    assert_int_equal(c->archive_retention_inputs[1].max_bytes, 20ULL << 30);
    assert_int_equal(c->narchive_witness, 3);
    assert_string_equal(c->archive_witness[0].file, "/mnt/worm/seals.jsonl");
    assert_string_equal(c->archive_witness[1].secret_file, "/etc/hikeshi/w.secret");
    assert_string_equal(c->archive_witness[2].hikeshi, "http://soc2:9201/_bulk");
    assert_string_equal(c->audit_head_url, "https://w.example/head");
    t1 = print_config(c);
    assert_null(strstr(t1, "k3y")); /* the API key is not printed */
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    assert_int_equal(c2->narchive_witness, 3);
    assert_int_equal(c2->narchive_retention_inputs, 2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = (struct config *)(uintptr_t)1;
        if (config_parse(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &c, &err) != -EINVAL ||
            !err.msg || !strstr(err.msg, bad[i].msg) || err.line != bad[i].line)
            fail_msg("case %zu: msg=%s line=%u (want '%s'): %s", i, err.msg ? err.msg : "(null)",
                     err.line, bad[i].msg, bad[i].yaml);
        assert_null(c);
    }
}

static void test_intel_feeds(void **state)
{
    static const char yaml[] =
        "intel:\n  feeds:\n"
        "    - name: peer-csirt\n      url: https://misp.example/feeds/csirt/\n"
        "      format: misp-feed\n      interval: 10m\n      tlp: amber\n"
        "      confidence: 70\n      auth_header: \"Authorization: s3cret-key\"\n"
        "    - name: list\n      url: http://127.0.0.1:8000/c2.csv\n      format: csv\n";
    static const struct {
        const char *yaml;
        const char *msg;
        unsigned line; /* where the error points */
    } bad[] = {
        {"intel:\n  feeds:\n    - {name: \"a/b\", url: \"http://x/\", format: csv}\n",
         "letters, digits", 3},
        {"intel:\n  feeds:\n    - {name: .hidden, url: \"http://x/\", format: csv}\n",
         "not starting with '.'", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"ftp://x/feed\", format: csv}\n",
         "http:// or https://", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/a b\", format: csv}\n", "no spaces", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: xml}\n",
         "stix, misp, misp-feed or csv", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\"}\n", "needs a name, a url", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv, interval: 0}\n",
         "at least 1s", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv, tlp: purple}\n",
         "CLEAR, GREEN", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv, confidence: 101}\n",
         "0 to 100", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv, auth_header: "
         "\"no colon\"}\n",
         "\"Name: value\"", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv, auth_header: "
         "\"X-Key: a\\nHost: evil\"}\n",
         "no control characters", 3},
        {"intel:\n  feeds:\n    - {name: a, url: \"http://x/\", format: csv}\n"
         "    - {name: a, url: \"http://y/\", format: stix}\n",
         "already listed", 4},
        {"intel:\n  feeds: {name: a}\n", "expected a list", 2},
    };
    struct config *c, *c2;
    struct parse_err err;
    char *t1, *t2;

    (void)state;
    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_int_equal(c->nintel_feeds, 2);
    assert_string_equal(c->intel_feeds[0].name, "peer-csirt");
    assert_string_equal(c->intel_feeds[0].url, "https://misp.example/feeds/csirt/");
    assert_int_equal(c->intel_feeds[0].format, CONFIG_INTEL_FEED_MISP_FEED);
    assert_int_equal(c->intel_feeds[0].interval_us, INT64_C(600) * 1000000);
    assert_int_equal(c->intel_feeds[0].tlp, 2); /* AMBER */
    assert_int_equal(c->intel_feeds[0].confidence, 70);
    assert_string_equal(c->intel_feeds[0].auth_header, "Authorization: s3cret-key");
    assert_int_equal(c->intel_feeds[1].format, CONFIG_INTEL_FEED_CSV);
    assert_int_equal(c->intel_feeds[1].interval_us, INT64_C(3600) * 1000000); /* default 1h */
    assert_int_equal(c->intel_feeds[1].tlp, -1);
    assert_int_equal(c->intel_feeds[1].confidence, -1);
    assert_null(c->intel_feeds[1].auth_header);
    t1 = print_config(c);
    assert_null(strstr(t1, "s3cret-key")); /* the secret is never printed */
    assert_non_null(strstr(t1, "auth_header: \"Authorization: (set)\"\n"));
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = (struct config *)(uintptr_t)1;
        if (config_parse(bad[i].yaml, strlen(bad[i].yaml), "t.yaml", &c, &err) != -EINVAL ||
            !err.msg || !strstr(err.msg, bad[i].msg) || err.line != bad[i].line)
            fail_msg("case %zu: msg=%s line=%u (want '%s'): %s", i, err.msg ? err.msg : "(null)",
                     err.line, bad[i].msg, bad[i].yaml);
        assert_null(c);
    }
}

/* A syslog-tls input: its tls: block reaches input_conf and prints back;
 * trusted without peers is fine (client certificates authenticate). */
static void test_tls_input(void **state)
{
    static const char y[] =
        "inputs:\n"
        "  - name: relay\n"
        "    type: syslog-tls\n"
        "    listen: 127.0.0.1:6514\n"
        "    trust: trusted\n"
        "    tls:\n"
        "      cert: /etc/hikeshi/tls/server.pem\n"
        "      key: /etc/hikeshi/tls/server.key\n"
        "      client_fingerprints:\n"
        "        - sha256:fabb413277d32ced6383bc2a4487066b1c3cabeef224c3a65c49ea99cc261c1f\n";
    struct config *c, *c2;
    struct parse_err err;
    const struct input_conf *in;
    char *t1, *t2;

    assert_int_equal(config_parse(y, strlen(y), "t.yaml", &c, &err), 0);
    in = &config_input_find(c, "relay")->conf;
    assert_int_equal(in->type, INPUT_SYSLOG_TLS);
    assert_int_equal(in->trust, INPUT_TRUST_TRUSTED);
    assert_string_equal(in->tls_cert, "/etc/hikeshi/tls/server.pem");
    assert_string_equal(in->tls_key, "/etc/hikeshi/tls/server.key");
    assert_null(in->tls_ca);
    assert_int_equal(in->ntls_fprs, 1);
    assert_int_equal(in->tls_fprs[0], 0xfa);
    assert_int_equal(in->tls_fprs[31], 0x1f);
    t1 = print_config(c);
    assert_non_null(strstr(t1, "    type: syslog-tls\n"));
    assert_non_null(strstr(t1, "        - \"FA:BB:41:32:77:D3:2C:ED:63:83:BC:2A:44:87:06:6B:1C:3C:"
                               "AB:EE:F2:24:C3:A6:5C:49:EA:99:CC:26:1C:1F\"\n"));
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);
}

static void test_load_missing_file(void **state)
{
    struct config *c;
    struct parse_err err;

    assert_int_equal(config_load("/nonexistent/hikeshi.yaml", &c, &err), -ENOENT);
    assert_null(c);
}

static void test_tz(void **state)
{
    int32_t v;

    assert_int_equal(config_parse_tz("UTC", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(config_parse_tz("-05:30", &v), 0);
    assert_int_equal(v, -(5 * 3600 + 30 * 60));
    assert_int_equal(config_parse_tz("+0900", &v), 0);
    assert_int_equal(v, 9 * 3600);
    assert_int_equal(config_parse_tz("+09:60", &v), -EINVAL);
    assert_int_equal(config_parse_tz("9", &v), -EINVAL);
}

/* IANA zones globally and per input, printed back by name; the printed
 * form parses to the same zones. */
static void test_tz_names(void **state)
{
    static const char yaml[] = "timezone: Europe/Berlin\n"
                               "inputs:\n"
                               "  - name: ny\n    type: file\n    path: /x\n"
                               "    timezone: America/New_York\n"
                               "  - name: plain\n    type: file\n    path: /y\n";
    struct config *c, *c2;
    struct parse_err err;
    char *t1, *t2;

    assert_int_equal(config_parse(yaml, strlen(yaml), "t.yaml", &c, &err), 0);
    assert_string_equal(tz_name(c->tz), "Europe/Berlin");
    assert_string_equal(tz_name(c->inputs[0].tz), "America/New_York");
    assert_null(c->inputs[1].tz);
    /* 2025-07-01T12:00 local, summer time in both. */
    assert_int_equal(tz_local_to_utc(c->tz, 1751371200), 1751371200 - 7200);
    assert_int_equal(tz_local_to_utc(c->inputs[0].tz, 1751371200), 1751371200 + 4 * 3600);
    t1 = print_config(c);
    assert_non_null(strstr(t1, "\ntimezone: \"Europe/Berlin\"\n"));
    assert_non_null(strstr(t1, "    timezone: \"America/New_York\"\n"));
    assert_int_equal(config_parse(t1, strlen(t1), NULL, &c2, &err), 0);
    t2 = print_config(c2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    config_free(c);
    config_free(c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_empty_file_is_defaults),
        cmocka_unit_test(test_full),          cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_trust_peers),   cmocka_unit_test(test_tls_input),
        cmocka_unit_test(test_tz),            cmocka_unit_test(test_tz_names),
        cmocka_unit_test(test_security),      cmocka_unit_test(test_archive),
        cmocka_unit_test(test_http_edge),     cmocka_unit_test(test_intel_feeds),
        cmocka_unit_test(test_archive_witness_inputs),
    };
    int r;

    field_init();
    r = cmocka_run_group_tests(tests, NULL, NULL);
    field_done();
    return r;
}
