/*
 * test_intel.c - src/intel/: canonical values, the STIX pattern subset,
 * STIX bundles, MISP events and feeds' manifests, CSV and plain lists,
 * MISP warninglists (the published ones, by path), decay, the matcher
 * (exact values, CIDR longest prefix, domain suffixes) and the enrich
 * step's fields and sightings, and a feed import that fails leaving the
 * feed as it was.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/event.h"
#include "event/field.h"
#include "intel/intel.h"
#include "store/store.h"
#include "store/store_intel.h"
#include "util/arena.h"

/* ---- a sink that keeps what it is given ---- */

#define KEEP_MAX 64
struct keep {
    struct intel_ind ind[KEEP_MAX];
    size_t n;
    char bad[KEEP_MAX][256];
    size_t nbad;
};

static int keep_ind(void *ctx, const struct intel_ind *ind)
{
    struct keep *k = ctx;
    if (k->n < KEEP_MAX)
        k->ind[k->n++] = *ind;
    return 0;
}

static void keep_bad(void *ctx, const char *where, const char *why)
{
    struct keep *k = ctx;
    if (k->nbad < KEEP_MAX)
        snprintf(k->bad[k->nbad++], sizeof(k->bad[0]), "%s: %s", where, why);
}

static struct keep *keep_new(struct intel_sink *s)
{
    struct keep *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    s->ind = keep_ind;
    s->bad = keep_bad;
    s->ctx = k;
    return k;
}

static const struct intel_ind *find_ind(const struct keep *k, enum intel_type t, const char *v)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->ind[i].type == t && strcmp(k->ind[i].value, v) == 0)
            return &k->ind[i];
    return NULL;
}

/* find_ind that fails the test (and tells the compiler so) when absent */
static const struct intel_ind *must_find(const struct keep *k, enum intel_type t, const char *v)
{
    const struct intel_ind *ind = find_ind(k, t, v);

    if (!ind) {
        fail_msg("no %s %s", intel_type_name(t), v);
        abort();
    }
    return ind;
}

static int has_tag(const struct intel_ind *ind, enum intel_tag_kind kind, const char *v)
{
    for (size_t i = 0; i < ind->ntags; i++)
        if (ind->tags[i].kind == kind && strcmp(ind->tags[i].value, v) == 0)
            return 1;
    return 0;
}

/* ---- canonical values ---- */

static void test_normalize(void **state)
{
    static const struct {
        enum intel_type t;
        const char *in, *out; /* out NULL: refused */
    } cases[] = {
        {INTEL_IPV4, "198.51.100.7", "198.51.100.7"},
        {INTEL_IPV4, " 10.1.2.3/8 ", "10.0.0.0/8"},
        {INTEL_IPV4, "2001:db8::1", NULL},
        {INTEL_IPV6, "2001:DB8:0:0::1", "2001:db8::1"},
        {INTEL_IPV4, "300.1.1.1", NULL},
        {INTEL_DOMAIN, "Evil.Example.", "evil.example"},
        {INTEL_DOMAIN, "domain autuo.xicp.net", NULL},
        {INTEL_DOMAIN, "a..b", NULL},
        {INTEL_HOSTNAME, "WWW.x.org", "www.x.org"},
        {INTEL_URL, "HTTP://Evil.Example/Path?Q=A", "http://evil.example/Path?Q=A"},
        {INTEL_URL, "evil.example/path", NULL},
        {INTEL_EMAIL, "Bad.Guy@Evil.EXAMPLE", "bad.guy@evil.example"},
        {INTEL_EMAIL, "a@b@c.d", NULL},
        {INTEL_MD5, "001DD76872D80801692FF942308C64E6", "001dd76872d80801692ff942308c64e6"},
        {INTEL_MD5, "001dd76872d80801692ff942308c64e", NULL},
        {INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd8070g", NULL},
        {INTEL_SHA256, "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
         "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"},
        {INTEL_USER_AGENT, "Mozilla/4.0 (compatible; MSIE 6.0)", "Mozilla/4.0 (compatible; MSIE 6.0)"},
        {INTEL_USER_AGENT, "bad\x01ua", NULL},
        {INTEL_REGKEY, "HKLM\\Software\\Evil", "hklm\\software\\evil"},
    };
    char out[INTEL_VALUE_MAX + 1];
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = intel_normalize(cases[i].t, cases[i].in, strlen(cases[i].in), out, &why);
        if (cases[i].out) {
            assert_int_equal(r, 0);
            assert_string_equal(out, cases[i].out);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_non_null(why);
        }
    }
    assert_int_equal(intel_guess_type("198.51.100.0/24", 15), INTEL_IPV4);
    assert_int_equal(intel_guess_type("2001:db8::5", 11), INTEL_IPV6);
    assert_int_equal(intel_guess_type("d41d8cd98f00b204e9800998ecf8427e", 32), INTEL_MD5);
    assert_int_equal(intel_guess_type("http://x.example/", 17), INTEL_URL);
    assert_int_equal(intel_guess_type("a@x.example", 11), INTEL_EMAIL);
    assert_int_equal(intel_guess_type("x.example", 9), INTEL_DOMAIN);
    assert_int_equal(intel_guess_type("not a value", 11), -1);
    assert_int_equal(intel_tlp_parse("tlp:amber+strict", 16), INTEL_TLP_AMBER_STRICT);
    assert_int_equal(intel_tlp_parse("WHITE", 5), INTEL_TLP_CLEAR);
    assert_int_equal(intel_tlp_parse("purple", 6), -1);
    assert_int_equal(intel_type_parse("ip-dst"), INTEL_IPV4);
    assert_int_equal(intel_type_parse("ja3-fingerprint-md5"), INTEL_JA3);
}

/* JA4: FoxIO's hashed form, lower-cased; each wrong part refused with its
 * name; the raw forms refused as such. */
static void test_normalize_ja4(void **state)
{
    static const struct {
        const char *in, *out, *why;
    } cases[] = {
        {"t13d1516h2_8daaf6152771_b186095e22b6", "t13d1516h2_8daaf6152771_b186095e22b6", NULL},
        {"T13D1516H2_8DAAF6152771_B186095E22B6", "t13d1516h2_8daaf6152771_b186095e22b6", NULL},
        {"q13i0310h3_55b375c5d22e_cd85d2d88918", "q13i0310h3_55b375c5d22e_cd85d2d88918", NULL},
        {"ts3i010000_e3b0c44298fc_000000000000", "ts3i010000_e3b0c44298fc_000000000000", NULL},
        {"d12d0508h1_aabbccddeeff_001122334455", "d12d0508h1_aabbccddeeff_001122334455", NULL},
        {"x13d1516h2_8daaf6152771_b186095e22b6", NULL, "protocol"},
        {"t14d1516h2_8daaf6152771_b186095e22b6", NULL, "TLS version"},
        {"t13x1516h2_8daaf6152771_b186095e22b6", NULL, "SNI"},
        {"t13d1x16h2_8daaf6152771_b186095e22b6", NULL, "cipher count"},
        {"t13d15x6h2_8daaf6152771_b186095e22b6", NULL, "extension count"},
        {"t13d1516h-_8daaf6152771_b186095e22b6", NULL, "ALPN"},
        {"t13d1516h2_8daaf615277g_b186095e22b6", NULL, "part b"},
        {"t13d1516h2_8daaf6152771_b186095e22bz", NULL, "part c"},
        {"t13d1516h2-8daaf6152771-b186095e22b6", NULL, "a_b_c"},
        {"t13d1516h2_8daaf6152771_b186095e22b", NULL, "36 characters"},
        {" t13d1516h2_8daaf6152771_b186095e22b6\r", "t13d1516h2_8daaf6152771_b186095e22b6", NULL},
        {"t13d1516h2_8daaf6152771_b186095e22b6x", NULL, "36 characters"},
        {"", NULL, "36 characters"},
        {"t13d0303h2_1301,1302,1303_000a,000b,000d_0403,0804", NULL, "raw JA4"},
    };
    char out[INTEL_VALUE_MAX + 1];
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = NULL;
        int r = intel_normalize(INTEL_JA4, cases[i].in, strlen(cases[i].in), out, &why);
        if (cases[i].out) {
            assert_int_equal(r, 0);
            assert_string_equal(out, cases[i].out);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_non_null(why);
            if (!strstr(why, cases[i].why))
                fail_msg("%s: '%s' does not name '%s'", cases[i].in, why, cases[i].why);
        }
    }
    assert_string_equal(intel_type_name(INTEL_JA4), "ja4");
    assert_int_equal(intel_type_parse("JA4"), INTEL_JA4);
    /* a bare JA4 in a plain list is told from a domain or a hash */
    assert_int_equal(intel_guess_type("t13d1516h2_8daaf6152771_b186095e22b6", 36), INTEL_JA4);
    assert_int_equal(intel_guess_type("t13x1516h2_8daaf6152771_b186095e22b6", 36), -1);
}

/* ---- STIX patterns ---- */

struct pat_out {
    char eq[16][128];
    int type[16];
    size_t n;
    char unsup[16][128];
    size_t nunsup;
};

static int pat_eq(void *ctx, const struct intel_pattern_eq *e)
{
    struct pat_out *o = ctx;
    if (o->n < 16) {
        snprintf(o->eq[o->n], sizeof(o->eq[0]), "%.*s", (int)e->len, e->value);
        o->type[o->n++] = (int)e->type;
    }
    return 0;
}

static void pat_unsup(void *ctx, size_t off, const char *why)
{
    struct pat_out *o = ctx;
    if (o->nunsup < 16)
        snprintf(o->unsup[o->nunsup++], sizeof(o->unsup[0]), "%zu %s", off, why);
}

static int pat(const char *p, struct pat_out *o, struct parse_err *e)
{
    memset(o, 0, sizeof(*o));
    memset(e, 0, sizeof(*e));
    return intel_pattern_parse(p, strlen(p), pat_eq, pat_unsup, o, e);
}

static void test_pattern(void **state)
{
    struct pat_out o;
    struct parse_err e;

    (void)state;
    assert_int_equal(pat("[ipv4-addr:value = '198.51.100.1']", &o, &e), 1);
    assert_string_equal(o.eq[0], "198.51.100.1");
    assert_int_equal(o.type[0], INTEL_IPV4);
    /* OR inside and between observations: each equality on its own */
    assert_int_equal(pat("[domain-name:value = 'a.example' OR ipv4-addr:value = '60.10.1.120'] OR "
                         "([file:hashes.'SHA-256' = 'ab\\'c'])",
                         &o, &e),
                     3);
    assert_int_equal(o.type[0], INTEL_DOMAIN);
    assert_int_equal(o.type[2], INTEL_SHA256);
    assert_string_equal(o.eq[2], "ab'c");
    /* file:hashes.MD5 unquoted, case-insensitive path */
    assert_int_equal(pat("[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']", &o, &e), 1);
    assert_int_equal(o.type[0], INTEL_MD5);
    /* JA3 and JA4 as custom extensions of network-traffic, quoted or not */
    assert_int_equal(pat("[network-traffic:extensions.'x-ja4'.value = "
                         "'t13d1516h2_8daaf6152771_b186095e22b6' OR "
                         "network-traffic:extensions.x-ja3.value = "
                         "'e7d705a3286e19ea42f587b344ee6865']",
                         &o, &e),
                     2);
    assert_int_equal(o.type[0], INTEL_JA4);
    assert_string_equal(o.eq[0], "t13d1516h2_8daaf6152771_b186095e22b6");
    assert_int_equal(o.type[1], INTEL_JA3);
    /* a comparison we do not take is reported; the rest stays */
    assert_int_equal(pat("[url:value = 'http://x.example/' OR email-message:subject MATCHES "
                         "'^Final']",
                         &o, &e),
                     1);
    assert_int_equal(o.nunsup, 1);
    assert_non_null(strstr(o.unsup[0], "MATCHES"));
    assert_int_equal(pat("[file:name = 'evil.exe']", &o, &e), 0);
    assert_non_null(strstr(o.unsup[0], "not mapped"));
    assert_int_equal(pat("[ipv4-addr:value != '10.0.0.1']", &o, &e), 0);
    assert_int_equal(pat("[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')]", &o, &e), 0);
    assert_non_null(strstr(o.unsup[0], "IN"));
    assert_int_equal(pat("[ipv4-addr:value NOT = '10.0.0.1']", &o, &e), 0);
    assert_int_equal(o.nunsup, 1);
    assert_int_equal(pat("[network-traffic:dst_port = 443]", &o, &e), 0);
    /* AND, FOLLOWEDBY and qualifiers make the whole pattern unsupported */
    assert_int_equal(pat("[file:hashes.md5 = 'x' AND file:name = 'y']", &o, &e), -ENOTSUP);
    assert_int_equal(o.n, 0);
    assert_non_null(strstr(e.msg, "AND"));
    assert_int_equal(e.off, 23); /* where AND stands */
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']",
                         &o, &e),
                     -ENOTSUP);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", &o, &e), -ENOTSUP);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'] WITHIN 60 SECONDS", &o, &e), -ENOTSUP);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'] START t'2016-01-01T00:00:00Z' STOP "
                         "t'2017-01-01T00:00:00Z'",
                         &o, &e),
                     -ENOTSUP);
    /* not patterns */
    assert_int_equal(pat("", &o, &e), -EINVAL);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'", &o, &e), -EINVAL);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4]", &o, &e), -EINVAL);
    assert_int_equal(pat("ipv4-addr:value = '1.2.3.4'", &o, &e), -EINVAL);
    assert_int_equal(pat("[ipv4-addr:value = '1.2.3.4'] garbage", &o, &e), -EINVAL);
    assert_int_equal(pat("[value = '1']", &o, &e), -EINVAL);
    assert_int_equal(pat("[a:b = '\\x']", &o, &e), -EINVAL);
}

/* ---- URL patterns: STIX MATCHES and LIKE ---- */

static void test_urlpat_import(void **state)
{
    struct pat_out o;
    struct parse_err e;
    char re[64];
    const char *why = NULL;
    struct intel_sink s;
    struct keep *k;
    const char *bundle;

    (void)state;
    /* MATCHES on url:value: the regex as written (STIX escapes undone) */
    assert_int_equal(
        pat("[url:value MATCHES '^https?://[a-z]+\\\\.evil\\\\.example/gate\\\\.php']", &o, &e), 1);
    assert_int_equal(o.type[0], INTEL_URL_PATTERN);
    assert_string_equal(o.eq[0], "^https?://[a-z]+\\.evil\\.example/gate\\.php");
    /* LIKE: anchored, % and _ as wildcards, every metacharacter escaped */
    assert_int_equal(
        pat("[url:value LIKE 'http://evil.example/%/a_b.php?x=(1)+[2]{3}|$^*\\\\']", &o, &e), 1);
    assert_int_equal(o.type[0], INTEL_URL_PATTERN);
    assert_string_equal(o.eq[0], "^http://evil\\.example/.*/a.b\\.php\\?x=\\(1\\)\\+"
                                 "\\[2\\]\\{3\\}\\|\\$\\^\\*\\\\$");
    /* mixed with an equality in one OR */
    assert_int_equal(pat("[url:value = 'http://a.example/' OR url:value LIKE '%.exe']", &o, &e), 2);
    assert_int_equal(o.type[0], INTEL_URL);
    assert_int_equal(o.type[1], INTEL_URL_PATTERN);
    assert_string_equal(o.eq[1], "^.*\\.exe$");
    /* not on other paths, not negated, not LIKE '%' (every URL) */
    assert_int_equal(pat("[domain-name:value LIKE '%.example']", &o, &e), 0);
    assert_non_null(strstr(o.unsup[0], "url:value only"));
    assert_int_equal(pat("[url:value NOT MATCHES 'x']", &o, &e), 0);
    assert_non_null(strstr(o.unsup[0], "NOT"));
    assert_int_equal(pat("[url:value LIKE '%%']", &o, &e), 0);
    assert_non_null(strstr(o.unsup[0], "every URL"));

    assert_int_equal(intel_urlpat_from_like("a_%.", 4, re, sizeof(re), &why), 8);
    assert_string_equal(re, "^a..*\\.$");
    assert_int_equal(intel_urlpat_from_like("abcdef", 6, re, 6, &why), -ENOSPC);

    /* the check: what Vectorscan refuses is refused, with its reason */
    assert_int_equal(intel_urlpat_check("/gate\\.php$", 11, &why), 0);
    assert_int_equal(intel_urlpat_check("/gate(\\.php", 11, &why), -EINVAL);
    assert_non_null(strstr(why, "/gate(\\.php"));
    assert_non_null(strstr(why, "parenthesis"));
    assert_int_equal(intel_urlpat_check("(a)\\1", 5, &why), -EINVAL);
    assert_non_null(strstr(why, "Back-reference"));
    assert_int_equal(intel_urlpat_check(".*", 2, &why), -EINVAL); /* matches empty */

    /* through a bundle: good ones taken, a bad regex reported by its id */
    bundle = "{\"type\":\"bundle\",\"id\":\"bundle--u\",\"objects\":["
             "{\"type\":\"indicator\",\"id\":\"indicator--m\",\"pattern_type\":\"stix\","
             "\"pattern\":\"[url:value MATCHES '/wp-content/.+\\\\\\\\.php\\\\\\\\?c=']\"},"
             "{\"type\":\"indicator\",\"id\":\"indicator--l\",\"pattern_type\":\"stix\","
             "\"pattern\":\"[url:value LIKE 'HTTP://EVIL.example/dl_%.exe']\"},"
             "{\"type\":\"indicator\",\"id\":\"indicator--bad\",\"pattern_type\":\"stix\","
             "\"pattern\":\"[url:value MATCHES '(evil']\"}]}";
    k = keep_new(&s);
    memset(&e, 0, sizeof(e));
    assert_int_equal(intel_stix_parse(bundle, strlen(bundle), &s, &e), 0);
    assert_int_equal(k->n, 2);
    must_find(k, INTEL_URL_PATTERN, "/wp-content/.+\\.php\\?c=");
    /* a LIKE's scheme and host in lower case, as in the canonical URLs
     * scanned; the path keeps its case */
    must_find(k, INTEL_URL_PATTERN, "^http://evil\\.example/dl..*\\.exe$");
    assert_int_equal(k->nbad, 1);
    assert_non_null(strstr(k->bad[0], "indicator--bad"));
    assert_non_null(strstr(k->bad[0], "(evil"));
    assert_non_null(strstr(k->bad[0], "Vectorscan"));
    free(k);
    /* a regex is not a value seen: never an incident's observable */
    {
        char out[INTEL_VALUE_MAX + 1];
        const char *tn = NULL;

        assert_int_equal(intel_obs_norm(INTEL_URL_PATTERN, "/x\\.php", 7, out, &tn), -1);
        assert_int_equal(intel_obs_norm(INTEL_URL, "http://x.example/", 17, out, &tn), 0);
    }
    /* the type's name both ways */
    assert_string_equal(intel_type_name(INTEL_URL_PATTERN), "url-pattern");
    assert_int_equal(intel_type_parse("url-pattern"), INTEL_URL_PATTERN);
}

/* ---- STIX bundles ---- */

static const char stix_bundle[] =
    "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
    "{\"type\":\"marking-definition\",\"id\":\"marking-definition--x\",\"name\":\"TLP:RED\","
    "\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"red\"}},"
    "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"pattern_type\":\"stix\","
    "\"pattern\":\"[ipv4-addr:value = '219.90.112.203' OR domain-name:value = 'C2.Evil.example']\","
    "\"confidence\":85,\"valid_from\":\"2026-01-01T00:00:00Z\","
    "\"valid_until\":\"2027-01-01T00:00:00.5Z\","
    "\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\","
    "\"phase_name\":\"command-and-control\"}],"
    "\"object_marking_refs\":[\"marking-definition--x\"]},"
    "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern_type\":\"sigma\","
    "\"pattern\":\"title: x\"},"
    "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern\":\"[ipv4-addr:value = 'nope']\","
    "\"object_marking_refs\":[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"]},"
    "{\"type\":\"malware\",\"id\":\"malware--m\",\"name\":\"Evil RAT\",\"is_family\":true},"
    "{\"type\":\"attack-pattern\",\"id\":\"attack-pattern--p\",\"name\":\"Web Protocols\","
    "\"external_references\":[{\"source_name\":\"mitre-attack\",\"external_id\":\"T1071.001\"}]},"
    "{\"type\":\"campaign\",\"id\":\"campaign--k\",\"name\":\"Winter\"},"
    "{\"type\":\"relationship\",\"id\":\"relationship--1\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--a\",\"target_ref\":\"malware--m\"},"
    "{\"type\":\"relationship\",\"id\":\"relationship--2\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--a\",\"target_ref\":\"attack-pattern--p\"},"
    "{\"type\":\"relationship\",\"id\":\"relationship--3\",\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--a\",\"target_ref\":\"campaign--k\"}"
    "]}";

static void test_stix(void **state)
{
    struct intel_sink s;
    struct keep *k = keep_new(&s);
    struct parse_err e = {0};
    const struct intel_ind *ip, *dom;

    (void)state;
    assert_int_equal(intel_stix_parse(stix_bundle, strlen(stix_bundle), &s, &e), 0);
    assert_int_equal(k->n, 2);
    ip = must_find(k, INTEL_IPV4, "219.90.112.203");
    dom = must_find(k, INTEL_DOMAIN, "c2.evil.example");
    assert_string_equal(dom->ref, "indicator--a");
    assert_int_equal(ip->confidence, 85);
    assert_int_equal(ip->tlp, INTEL_TLP_RED);
    assert_string_equal(ip->ref, "indicator--a");
    assert_true(ip->valid_until_us > ip->valid_from_us);
    assert_true(has_tag(ip, INTEL_TAG_MALWARE, "Evil RAT"));
    assert_true(has_tag(ip, INTEL_TAG_ATTACK, "T1071.001"));
    assert_true(has_tag(ip, INTEL_TAG_CAMPAIGN, "Winter"));
    assert_true(has_tag(ip, INTEL_TAG_PHASE, "command-and-control"));
    /* the sigma pattern and the bad address are reported with their ids */
    assert_int_equal(k->nbad, 2);
    assert_non_null(strstr(k->bad[0], "indicator--b"));
    assert_non_null(strstr(k->bad[1], "indicator--c"));
    free(k);

    k = keep_new(&s);
    assert_int_equal(intel_stix_parse("{\"type\":\"bundle\",\"objects\":[", 30, &s, &e), -EINVAL);
    assert_int_equal(intel_stix_parse("{\"type\":\"campaign\"}", 19, &s, &e), -EINVAL);
    assert_int_equal(intel_stix_parse("[]", 2, &s, &e), -EINVAL);
    assert_int_equal(k->n, 0);
    free(k);
}

/* ---- MISP ---- */

static const char misp_event[] =
    "{\"Event\":{\"uuid\":\"5b0f4c4e-0000-4000-8000-000000000001\",\"info\":\"C2 campaign\","
    "\"Tag\":[{\"name\":\"tlp:green\"},"
    "{\"name\":\"misp-galaxy:mitre-attack-pattern=\\\"Application Layer Protocol - T1071\\\"\"}],"
    "\"Attribute\":["
    "{\"uuid\":\"a1\",\"type\":\"ip-dst\",\"value\":\"203.0.113.66\",\"to_ids\":true,"
    "\"Tag\":[{\"name\":\"tlp:amber\"},{\"name\":\"kill-chain:Command and Control\"}]},"
    "{\"uuid\":\"a2\",\"type\":\"domain|ip\",\"value\":\"bad.example|203.0.113.67\","
    "\"to_ids\":\"1\"},"
    "{\"uuid\":\"a3\",\"type\":\"ip-dst\",\"value\":\"203.0.113.68\",\"to_ids\":false},"
    "{\"uuid\":\"a4\",\"type\":\"comment\",\"value\":\"just words\",\"to_ids\":true},"
    "{\"uuid\":\"a5\",\"type\":\"md5\",\"value\":\"xyz\",\"to_ids\":true},"
    "{\"uuid\":\"a6\",\"type\":\"ip-src\",\"value\":\"2001:db8::66\",\"to_ids\":true}],"
    "\"Object\":[{\"name\":\"file\",\"Attribute\":["
    "{\"uuid\":\"o1\",\"type\":\"filename|sha1\","
    "\"value\":\"evil.exe|DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\",\"to_ids\":true}]}]}}";

static void test_misp(void **state)
{
    struct intel_sink s;
    struct keep *k = keep_new(&s);
    struct parse_err e = {0};
    const struct intel_ind *a;

    (void)state;
    assert_int_equal(intel_misp_parse_event(misp_event, strlen(misp_event), &s, &e), 0);
    assert_int_equal(k->n, 4); /* a1, a2, a6, o1 */
    a = must_find(k, INTEL_IPV4, "203.0.113.66");
    assert_int_equal(a->tlp, INTEL_TLP_AMBER); /* the attribute's, more restrictive */
    assert_true(has_tag(a, INTEL_TAG_ATTACK, "T1071"));
    assert_true(has_tag(a, INTEL_TAG_PHASE, "Command and Control"));
    a = must_find(k, INTEL_DOMAIN, "bad.example");
    assert_int_equal(a->tlp, INTEL_TLP_GREEN);
    assert_null(find_ind(k, INTEL_IPV4, "203.0.113.68")); /* to_ids false */
    assert_non_null(find_ind(k, INTEL_IPV6, "2001:db8::66"));
    assert_non_null(find_ind(k, INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    assert_int_equal(k->nbad, 1);
    assert_non_null(strstr(k->bad[0], "attribute a5"));
    free(k);

    k = keep_new(&s);
    assert_int_equal(intel_misp_parse_event("{\"foo\":1}", 9, &s, &e), -EINVAL);
    assert_int_equal(intel_misp_parse_event("{\"Event\":{\"info\":", 17, &s, &e), -EINVAL);
    free(k);

}

struct uuid_list {
    char v[4][40];
    size_t n;
};

static int uuid_each(void *ctx, const char *uuid)
{
    struct uuid_list *l = ctx;
    if (l->n < 4)
        snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", uuid);
    return 0;
}

static void test_misp_manifest(void **state)
{
    static const char manifest[] =
        "{\"5b0f4c4e-0000-4000-8000-000000000001\":{\"info\":\"x\"},"
        "\"../../etc/passwd\":{},\"5b0f4c4e-0000-4000-8000-000000000002\":{}}";
    struct intel_sink s;
    struct keep *k = keep_new(&s);
    struct parse_err e = {0};
    struct uuid_list l = {{{0}}, 0};

    (void)state;
    assert_int_equal(intel_misp_manifest(manifest, strlen(manifest), uuid_each, &l, &s, &e), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[1], "5b0f4c4e-0000-4000-8000-000000000002");
    assert_int_equal(k->nbad, 1); /* the path is refused, never opened */
    assert_int_equal(intel_misp_manifest("[1]", 3, uuid_each, &l, &s, &e), -EINVAL);
    free(k);
}

/* ---- CSV and plain lists ---- */

static void test_csv(void **state)
{
    static const char plain[] = "# a comment\n198.51.100.9\r\n\nevil.example\n"
                                "d41d8cd98f00b204e9800998ecf8427e\nno such thing\n"
                                "url,http://Evil.example/x\n";
    static const char csv[] = "type,value,confidence,tlp,tags\n"
                              "ipv4,203.0.113.5,90,RED,T1071;c2\n"
                              "domain,\"quoted.example\",,,\n"
                              "ipv4,203.0.113.6,900,,\n"
                              "hostname,x.example,10,PINK,\n";
    struct intel_sink s;
    struct keep *k = keep_new(&s);
    struct parse_err e = {0};
    const struct intel_ind *a;

    (void)state;
    assert_int_equal(intel_csv_parse(plain, strlen(plain), -1, &s, &e), 0);
    assert_int_equal(k->n, 4);
    assert_non_null(find_ind(k, INTEL_IPV4, "198.51.100.9"));
    assert_non_null(find_ind(k, INTEL_DOMAIN, "evil.example"));
    assert_non_null(find_ind(k, INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427e"));
    assert_non_null(find_ind(k, INTEL_URL, "http://evil.example/x"));
    assert_int_equal(k->nbad, 1);
    assert_non_null(strstr(k->bad[0], "line 6"));
    free(k);

    k = keep_new(&s);
    assert_int_equal(intel_csv_parse(csv, strlen(csv), -1, &s, &e), 0);
    assert_int_equal(k->n, 2);
    a = must_find(k, INTEL_IPV4, "203.0.113.5");
    assert_int_equal(a->confidence, 90);
    assert_int_equal(a->tlp, INTEL_TLP_RED);
    assert_true(has_tag(a, INTEL_TAG_ATTACK, "T1071"));
    assert_true(has_tag(a, INTEL_TAG_LABEL, "c2"));
    assert_non_null(find_ind(k, INTEL_DOMAIN, "quoted.example"));
    assert_int_equal(k->nbad, 2);
    assert_non_null(strstr(k->bad[0], "line 4"));
    assert_non_null(strstr(k->bad[1], "line 5"));
    free(k);

    /* a forced type refuses what is not of it */
    k = keep_new(&s);
    assert_int_equal(intel_csv_parse("1.2.3.4\nx.example\n", 18, INTEL_IPV4, &s, &e), 0);
    assert_int_equal(k->n, 1);
    assert_int_equal(k->nbad, 1);
    free(k);

    /* JA4 rows: typed, guessed, and a bad part named with its line */
    {
        static const char ja4s[] = "ja4,T13D1516H2_8DAAF6152771_B186095E22B6\n"
                                   "q13i0310h3_55b375c5d22e_cd85d2d88918\n"
                                   "ja4,t13d1516h2_8daaf6152771_b186095e22\n"
                                   "ja4,t13d15z6h2_8daaf6152771_b186095e22b6\n";

        k = keep_new(&s);
        assert_int_equal(intel_csv_parse(ja4s, strlen(ja4s), -1, &s, &e), 0);
        assert_int_equal(k->n, 2);
        assert_non_null(find_ind(k, INTEL_JA4, "t13d1516h2_8daaf6152771_b186095e22b6"));
        assert_non_null(find_ind(k, INTEL_JA4, "q13i0310h3_55b375c5d22e_cd85d2d88918"));
        assert_int_equal(k->nbad, 2);
        assert_non_null(strstr(k->bad[0], "line 3"));
        assert_non_null(strstr(k->bad[0], "36 characters"));
        assert_non_null(strstr(k->bad[1], "line 4"));
        assert_non_null(strstr(k->bad[1], "extension count"));
        free(k);
    }
}

/* ---- warninglists (the published MISP lists, by path) ---- */

static struct intel_warn *load_warn(void)
{
    const char *shared = getenv("HIKESHI_SHARED");
    char dir[4096], err[512] = "";
    struct intel_warn *w = NULL;

    snprintf(dir, sizeof(dir), "%s/data/threat-intel/misp-warninglists",
             shared ? shared : "../shared");
    assert_int_equal(intel_warn_load(dir, &w, err, sizeof(err)), 0);
    return w;
}

static void test_warninglists(void **state)
{
    struct intel_warn *w = load_warn();
    char err[512] = "";
    struct intel_warn *none = NULL;

    (void)state;
    assert_true(intel_warn_lists(w) >= 20);
    assert_int_equal(intel_warn_skipped(w), 1); /* phone_numbers: regex */
    /* cidr: an address and a network inside a listed one */
    assert_non_null(intel_warn_check(w, INTEL_IPV6, "2001:4860:4860::8888"));
    assert_non_null(intel_warn_check(w, INTEL_IPV4, "10.1.2.3"));
    assert_non_null(intel_warn_check(w, INTEL_IPV4, "192.168.7.0/24"));
    assert_null(intel_warn_check(w, INTEL_IPV4, "0.0.0.0/0"));
    /* string: top domains and TLDs, exact */
    assert_non_null(intel_warn_check(w, INTEL_DOMAIN, "com"));
    /* hostname: the name and below */
    assert_non_null(intel_warn_check(w, INTEL_DOMAIN, "js001.3322.org"));
    assert_non_null(intel_warn_check(w, INTEL_URL, "http://bit.ly/abc"));
    /* substring: disposable mail */
    assert_non_null(intel_warn_check(w, INTEL_EMAIL, "someone@mailinator.com"));
    /* hashes: the empty file's */
    assert_non_null(intel_warn_check(w, INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427e"));
    /* lists apply only to their attribute types */
    assert_null(intel_warn_check(w, INTEL_USER_AGENT, "10.1.2.3"));
    /* ordinary bad values pass */
    assert_non_null(intel_warn_check(w, INTEL_IPV4, "198.51.100.23")); /* RFC 5735 */
    assert_null(intel_warn_check(w, INTEL_IPV4, "219.90.112.203"));
    assert_null(intel_warn_check(w, INTEL_DOMAIN, "c2.evil-unlisted-example.net"));
    assert_null(intel_warn_check(w, INTEL_MD5, "001dd76872d80801692ff942308c64e6"));
    intel_warn_free(w);
    assert_int_equal(intel_warn_load("/nonexistent-dir", &none, err, sizeof(err)) < 0, 1);
    assert_null(none);
    assert_non_null(strstr(err, "/nonexistent-dir"));
}

/* ---- decay ---- */

static void test_decay(void **state)
{
    const int64_t day = 86400LL * 1000000, hl = 30 * day;

    (void)state;
    assert_true(fabs(intel_score(80, 0, hl) - 80) < 1e-9);
    assert_true(fabs(intel_score(80, hl, hl) - 40) < 1e-9);
    assert_true(fabs(intel_score(80, 2 * hl, hl) - 20) < 1e-9);
    assert_true(fabs(intel_score(80, 5 * hl, 0) - 80) < 1e-9); /* no decay */
    assert_true(intel_live(80, 0, 0, 2 * hl, hl, 10));
    assert_false(intel_live(80, 0, 0, 4 * hl, hl, 10)); /* 5 < 10 */
    assert_false(intel_live(80, 0, day, day, hl, 10)); /* expired */
    assert_true(intel_live(80, 0, day + 1, day, hl, 10));
}

/* ---- the matcher ---- */

static const char *event_value(const struct event *ev, const char *name, int nth);

static void test_matcher(void **state)
{
    struct intel_matcher *m = intel_matcher_new();
    const struct intel_hit *h;
    uint8_t a[16] = {0};

    (void)state;
    assert_non_null(m);
    assert_int_equal(intel_matcher_add(m, 1, INTEL_IPV4, "198.51.100.0/24", "f1", 40, INTEL_TLP_GREEN), 0);
    assert_int_equal(intel_matcher_add(m, 2, INTEL_IPV4, "198.51.100.23", "f2", 90, INTEL_TLP_AMBER), 0);
    assert_int_equal(intel_matcher_add(m, 3, INTEL_IPV6, "2001:db8:bad::/48", "f1", 50, INTEL_TLP_RED), 0);
    assert_int_equal(intel_matcher_add(m, 4, INTEL_DOMAIN, "evil.example", "f1", 70, INTEL_TLP_CLEAR), 0);
    assert_int_equal(intel_matcher_add(m, 5, INTEL_HOSTNAME, "host.good.example", "f1", 60, INTEL_TLP_CLEAR), 0);
    assert_int_equal(intel_matcher_add(m, 6, INTEL_MD5, "001dd76872d80801692ff942308c64e6", "f1", 60, INTEL_TLP_CLEAR), 0);
    /* the same value from a weaker feed does not replace the stronger */
    assert_int_equal(intel_matcher_add(m, 7, INTEL_DOMAIN, "evil.example", "f3", 20, INTEL_TLP_CLEAR), 0);
    assert_int_equal(intel_matcher_add(m, 8, INTEL_IPV4, "not-an-address", "f1", 20, INTEL_TLP_CLEAR), -EINVAL);
    assert_int_equal(intel_matcher_count(m), 6);

    a[0] = 198, a[1] = 51, a[2] = 100, a[3] = 23;
    h = intel_matcher_ip(m, 4, a);
    assert_non_null(h);
    assert_int_equal(h->id, 2); /* the longest prefix */
    assert_string_equal(h->feed, "f2");
    a[3] = 24;
    h = intel_matcher_ip(m, 4, a);
    assert_non_null(h);
    assert_int_equal(h->id, 1);
    a[2] = 101;
    assert_null(intel_matcher_ip(m, 4, a));
    memset(a, 0, sizeof(a));
    a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[4] = 0x0b, a[5] = 0xad, a[15] = 1;
    h = intel_matcher_ip(m, 6, a);
    assert_non_null(h);
    assert_int_equal(h->id, 3);
    a[5] = 0xae;
    assert_null(intel_matcher_ip(m, 6, a));

    /* a domain covers every name below it, not a name that merely ends alike */
    assert_non_null(h = intel_matcher_name(m, "evil.example", 12));
    assert_int_equal(h->id, 4);
    assert_non_null(intel_matcher_name(m, "A.B.Evil.Example.", 17));
    assert_null(intel_matcher_name(m, "notevil.example", 15));
    assert_null(intel_matcher_name(m, "example", 7));
    /* a hostname only itself */
    assert_non_null(intel_matcher_name(m, "host.good.example", 17));
    assert_null(intel_matcher_name(m, "a.host.good.example", 19));
    assert_non_null(intel_matcher_exact(m, INTEL_MD5, "001dd76872d80801692ff942308c64e6", 32));
    assert_null(intel_matcher_exact(m, INTEL_SHA1, "001dd76872d80801692ff942308c64e6", 32));
    intel_matcher_free(m);
    intel_matcher_free(NULL);
}

/* URL patterns in the matcher: a hit adds the same fields as any other,
 * a miss adds none, a LIKE's regex is anchored at both ends. */
static void test_matcher_urlpat(void **state)
{
    struct intel_matcher *m = intel_matcher_new();
    struct arena ar;
    struct event ev;
    uint32_t full = field_intern("url.full", 8), orig = field_intern("url.original", 12);

    (void)state;
    assert_non_null(m);
    assert_int_equal(intel_matcher_add(m, 1, INTEL_URL_PATTERN,
                                       "^http://evil\\.example/dl/.*\\.exe$", "like", 80,
                                       INTEL_TLP_GREEN),
                     0);
    assert_int_equal(intel_matcher_add(m, 2, INTEL_URL_PATTERN, "/gate\\.php\\?id=[0-9]+", "re", 50,
                                       INTEL_TLP_AMBER),
                     0);
    assert_int_equal(
        intel_matcher_add(m, 3, INTEL_URL, "http://exact.example/a", "ex", 90, INTEL_TLP_CLEAR), 0);
    arena_init(&ar, 0);

    /* the anchored LIKE: whole URL, host matched in canonical lower case */
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, full, "HTTP://Evil.Example/dl/x/run.exe", 32), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 1);
    assert_string_equal(event_value(&ev, "threat.indicator.type", 0), "url-pattern");
    assert_string_equal(event_value(&ev, "threat.indicator.value", 0),
                        "^http://evil\\.example/dl/.*\\.exe$");
    assert_string_equal(event_value(&ev, "threat.indicator.provider", 0), "like");
    assert_string_equal(event_value(&ev, "threat.indicator.confidence", 0), "High");
    assert_string_equal(event_value(&ev, "threat.indicator.marking.tlp", 0), "GREEN");
    assert_string_equal(event_value(&ev, "threat.enrichments.matched.field", 0), "url.full");
    assert_string_equal(event_value(&ev, "threat.enrichments.matched.atomic", 0),
                        "HTTP://Evil.Example/dl/x/run.exe");
    event_reset(&ev);
    /* anchored: text after or before the match is a miss */
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, full, "http://evil.example/dl/run.exe.txt", 34), 0);
    assert_int_equal(event_add(&ev, orig, "http://x.example/?u=http://evil.example/dl/a.exe", 48),
                     0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
    assert_null(event_value(&ev, "threat.indicator.type", 0));
    event_reset(&ev);
    /* an unanchored MATCHES in a web log's request target (not a whole
     * URL: scanned as it is), and an exact URL with a pattern in one event */
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, orig, "/wp/gate.php?id=42&x=1", 22), 0);
    assert_int_equal(event_add(&ev, full, "http://exact.example/a", 22), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 7, 2000), 2);
    assert_string_equal(event_value(&ev, "threat.indicator.value", 0), "/gate\\.php\\?id=[0-9]+");
    assert_string_equal(event_value(&ev, "threat.enrichments.matched.field", 0), "url.original");
    assert_string_equal(event_value(&ev, "threat.indicator.value", 1), "http://exact.example/a");
    event_reset(&ev);
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, orig, "/wp/gate.php?id=x", 17), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 7, 2000), 0);
    event_reset(&ev);
    /* sightings: (1, 0), (2, 7), (3, 7) */
    assert_int_equal(intel_matcher_pending(m), 3);

    /* the same regex from a stronger feed takes over its entry */
    assert_int_equal(intel_matcher_add(m, 9, INTEL_URL_PATTERN, "/gate\\.php\\?id=[0-9]+", "re2",
                                       95, INTEL_TLP_CLEAR),
                     0);
    assert_int_equal(intel_matcher_count(m), 3);
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, orig, "/gate.php?id=1", 14), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 3000), 1);
    assert_string_equal(event_value(&ev, "threat.indicator.provider", 0), "re2");
    event_reset(&ev);
    arena_done(&ar);
    intel_matcher_free(m);
}

/* JA4 in the matcher: ECS/Zeek's tls.client.ja4 and Suricata EVE's tls.ja4
 * (as decode_json flattens it), the event's value normalised first. */
static void test_matcher_ja4(void **state)
{
    static const char ja4[] = "t13d1516h2_8daaf6152771_b186095e22b6";
    static const char *const fields[] = {"tls.client.ja4", "tls.ja4"};
    struct intel_matcher *m = intel_matcher_new();
    struct arena ar;
    struct event ev;

    (void)state;
    assert_non_null(m);
    /* the store's canonical value, as intel_normalize wrote it */
    assert_int_equal(intel_matcher_add(m, 1, INTEL_JA4, ja4, "fp", 80, INTEL_TLP_GREEN), 0);
    assert_non_null(intel_matcher_exact(m, INTEL_JA4, ja4, 36));
    /* the same text as a JA3 is another indicator */
    assert_null(intel_matcher_exact(m, INTEL_JA3, ja4, 36));
    arena_init(&ar, 0);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint32_t id = field_intern(fields[i], strlen(fields[i]));

        event_init(&ev, &ar, "x", 1, 1000);
        assert_int_equal(event_add(&ev, id, "T13D1516H2_8daaf6152771_b186095e22b6", 36), 0);
        assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 1);
        assert_string_equal(event_value(&ev, "threat.indicator.type", 0), "ja4");
        assert_string_equal(event_value(&ev, "threat.indicator.value", 0), ja4);
        assert_string_equal(event_value(&ev, "threat.enrichments.matched.field", 0), fields[i]);
        event_reset(&ev);
        /* another fingerprint, and one that is not a JA4 at all: no hit */
        event_init(&ev, &ar, "x", 1, 1000);
        assert_int_equal(event_add(&ev, id, "t13d1516h2_8daaf6152771_02713d6af862", 36), 0);
        assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
        event_reset(&ev);
        event_init(&ev, &ar, "x", 1, 1000);
        assert_int_equal(event_add(&ev, id, "t13d1516h2_8daaf6152771", 23), 0);
        assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
        assert_null(event_value(&ev, "threat.indicator.type", 0));
        event_reset(&ev);
    }
    /* a JA3 field holding the JA4 text does not match it */
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, field_intern("tls.client.ja3", 14), ja4, 36), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
    event_reset(&ev);
    arena_done(&ar);
    intel_matcher_free(m);
}

/* JA3 in the matcher: ECS/Zeek's tls.client.ja3 and Suricata EVE's
 * tls.ja3.hash (decode_json flattens "tls": {"ja3": {"hash": ...}}); the
 * JA3 string beside the hash, and the server's JA3S, are not the client
 * fingerprint. */
static void test_matcher_ja3(void **state)
{
    static const char ja3[] = "e7d705a3286e19ea42f587b344ee6865";
    static const char *const fields[] = {"tls.client.ja3", "tls.ja3.hash"};
    struct intel_matcher *m = intel_matcher_new();
    struct arena ar;
    struct event ev;

    (void)state;
    assert_non_null(m);
    assert_int_equal(intel_matcher_add(m, 1, INTEL_JA3, ja3, "fp", 80, INTEL_TLP_GREEN), 0);
    arena_init(&ar, 0);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint32_t id = field_intern(fields[i], strlen(fields[i]));

        event_init(&ev, &ar, "x", 1, 1000);
        assert_int_equal(event_add(&ev, id, ja3, 32), 0);
        assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 1);
        assert_string_equal(event_value(&ev, "threat.indicator.type", 0), "ja3");
        assert_string_equal(event_value(&ev, "threat.enrichments.matched.field", 0), fields[i]);
        event_reset(&ev);
        event_init(&ev, &ar, "x", 1, 1000);
        assert_int_equal(event_add(&ev, id, "6734f37431670b3ab4292b8f60f29984", 32), 0);
        assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
        event_reset(&ev);
    }
    /* the server's fingerprint holding the same text is not a JA3 hit */
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add(&ev, field_intern("tls.ja3s.hash", 13), ja3, 32), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 1000), 0);
    event_reset(&ev);
    arena_done(&ar);
    intel_matcher_free(m);
}

static const char *src_name(void *ctx, uint32_t source)
{
    (void)ctx;
    return source == 0 ? "fw" : "dns";
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_intel.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *event_value(const struct event *ev, const char *name, int nth)
{
    uint32_t id = field_lookup(name, strlen(name));
    static char buf[256];

    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].id == id && nth-- == 0) {
            snprintf(buf, sizeof(buf), "%.*s", (int)ev->fields[i].len, ev->fields[i].val);
            return buf;
        }
    return NULL;
}

static int row_sightings(void *ctx, const struct store_intel_row *r)
{
    int64_t *out = ctx;
    if (strcmp(r->value, "219.90.112.203") == 0) {
        out[0] = r->sightings;
        out[1] = strcmp(r->sources, "fw=2") == 0;
    }
    return 0;
}

/* Import into a store, load the matcher from it, enrich an event and
 * count its sightings back into the store. */
static void test_store_enrich(void **state)
{
    char path[128], err[512];
    struct store *st = NULL;
    char *serr = NULL;
    struct intel_import_stats s;
    struct intel_import_opts o = {NULL, -1, -1, -1, NULL, NULL, NULL, 1000000, NULL, 0};
    struct intel_matcher *m = NULL;
    struct arena ar;
    struct event ev;
    size_t n = 0;
    int64_t got[2] = {0, 0}, count = 0;
    FILE *f;

    (void)state;
    struct intel_warn *w = load_warn();

    o.warn = w;
    assert_int_equal(store_open(tmpdir, &st, &serr), 0);
    snprintf(path, sizeof(path), "%s/feed.json", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(stix_bundle, f);
    fclose(f);
    assert_int_equal(intel_import_path(st, path, &o, &s, err, sizeof(err)), 0);
    assert_int_equal(s.taken, 2);
    assert_int_equal(s.refused, 2);
    assert_string_equal(s.format, "stix");

    /* a second file for the same feed that does not parse changes nothing */
    snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\"", f);
    fclose(f);
    o.feed = "feed";
    assert_int_equal(intel_import_path(st, path, &o, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "bad.json"));
    assert_int_equal(store_intel_count(st, &count), 0);
    assert_int_equal(count, 2);

    /* a warninglisted value in a list is refused, the other kept */
    snprintf(path, sizeof(path), "%s/list.txt", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("2001:4860:4860::8888\n113.10.246.30\n", f);
    fclose(f);
    o.feed = "list";
    assert_int_equal(intel_import_path(st, path, &o, &s, err, sizeof(err)), 0);
    assert_int_equal(s.taken, 1);
    assert_int_equal(s.warned, 1);
    assert_int_equal(store_intel_count(st, &count), 0);
    assert_int_equal(count, 3);

    assert_int_equal(intel_matcher_load(st, 2000000, 0, 10, &m, &n), 0);
    assert_int_equal(n, 3);
    assert_null(intel_matcher_name(m, "dns.google", 10));
    arena_init(&ar, 0);
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add_str(&ev, FIELD_SOURCE_IP, "10.0.0.5"), 0);
    assert_int_equal(event_add_str(&ev, FIELD_DESTINATION_IP, "219.90.112.203"), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 5000000), 1);
    assert_string_equal(event_value(&ev, "threat.indicator.type", 0), "ipv4");
    assert_string_equal(event_value(&ev, "threat.indicator.value", 0), "219.90.112.203");
    assert_string_equal(event_value(&ev, "threat.indicator.provider", 0), "feed");
    assert_string_equal(event_value(&ev, "threat.indicator.confidence", 0), "High");
    assert_string_equal(event_value(&ev, "threat.indicator.marking.tlp", 0), "RED");
    assert_string_equal(event_value(&ev, "threat.enrichments.matched.field", 0), "destination.ip");
    event_reset(&ev);
    event_init(&ev, &ar, "x", 1, 1000);
    assert_int_equal(event_add_str(&ev, FIELD_DESTINATION_IP, "219.90.112.203"), 0);
    assert_int_equal(event_add_named(&ev, "dns.question.name", 17, "www.c2.evil.example", 19), 0);
    assert_int_equal(intel_matcher_enrich(m, &ev, 0, 6000000), 2);
    assert_string_equal(event_value(&ev, "threat.indicator.value", 1), "c2.evil.example");
    event_reset(&ev);
    arena_done(&ar);
    assert_int_equal(intel_matcher_pending(m), 2); /* (ip, fw) and (domain, fw) */
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(intel_matcher_flush(m, st, src_name, NULL), 0);
    assert_int_equal(store_commit(st), 0);
    assert_int_equal(intel_matcher_pending(m), 0);
    assert_int_equal(store_intel_each(st, NULL, row_sightings, got), 0);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 1);
    intel_matcher_free(m);

    /* re-importing the feed without the domain removes it, keeps the
     * address's sightings */
    snprintf(path, sizeof(path), "%s/feed.csv", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("219.90.112.203\n", f);
    fclose(f);
    o.feed = "feed";
    o.now_us = 3000000;
    assert_int_equal(intel_import_path(st, path, &o, &s, err, sizeof(err)), 0);
    assert_int_equal(s.removed, 1);
    got[0] = 0;
    assert_int_equal(store_intel_each(st, NULL, row_sightings, got), 0);
    assert_int_equal(got[0], 2);
    /* expiry: a year on with a 30-day half-life everything decayed */
    assert_int_equal(intel_expire(st, 3000000 + 365LL * 86400 * 1000000, 30LL * 86400 * 1000000,
                                  10, &count),
                     0);
    assert_int_equal(count, 2);
    assert_int_equal(store_intel_count(st, &count), 0);
    assert_int_equal(count, 0);
    store_free(st);
    intel_warn_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_ja4),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_urlpat_import),
        cmocka_unit_test(test_stix),
        cmocka_unit_test(test_misp),
        cmocka_unit_test(test_misp_manifest),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_warninglists),
        cmocka_unit_test(test_decay),
        cmocka_unit_test(test_matcher),
        cmocka_unit_test(test_matcher_urlpat),
        cmocka_unit_test(test_matcher_ja4),
        cmocka_unit_test(test_matcher_ja3),
        cmocka_unit_test_setup_teardown(test_store_enrich, setup_tmp, teardown_tmp),
    };

    field_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
