/*
 * intel_norm.c - indicator types and TLP names, and the canonical form of
 * a value: one spelling per indicator, so that the store holds it once and
 * the matcher finds it by exact lookup.
 */
#include "intel/intel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/cidr.h"

static const char *const type_names[INTEL_TYPE_COUNT] = {
    "ipv4",   "ipv6", "domain",     "hostname", "url",     "email",       "md5", "sha1",
    "sha256", "ja3",  "user-agent", "regkey",   "process", "url-pattern", "ja4",
};

/* Other spellings of the types: MISP's attribute types, STIX's words. */
static const struct {
    const char *name;
    enum intel_type t;
} type_alias[] = {
    {"ip", INTEL_IPV4},          {"ip-src", INTEL_IPV4},
    {"ip-dst", INTEL_IPV4},      {"cidr", INTEL_IPV4},
    {"ipv4-addr", INTEL_IPV4},   {"ipv6-addr", INTEL_IPV6},
    {"domain-name", INTEL_DOMAIN}, {"fqdn", INTEL_HOSTNAME},
    {"uri", INTEL_URL},          {"link", INTEL_URL},
    {"email-src", INTEL_EMAIL},  {"email-dst", INTEL_EMAIL},
    {"email-addr", INTEL_EMAIL}, {"sha-1", INTEL_SHA1},
    {"sha-256", INTEL_SHA256},   {"ja3-fingerprint-md5", INTEL_JA3},
    {"user_agent", INTEL_USER_AGENT}, {"useragent", INTEL_USER_AGENT},
    {"registry-key", INTEL_REGKEY}, {"windows-registry-key", INTEL_REGKEY},
    {"process-name", INTEL_PROCESS},
};

static const char *const tlp_names[INTEL_TLP_COUNT] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT",
                                                       "RED"};
static const char *const tag_kind_names[INTEL_TAG_KIND_COUNT] = {
    "attack", "phase", "campaign", "malware", "actor", "label",
};

const char *intel_type_name(enum intel_type t)
{
    return (unsigned)t < INTEL_TYPE_COUNT ? type_names[t] : "?";
}

const char *intel_tag_kind_name(enum intel_tag_kind k)
{
    return (unsigned)k < INTEL_TAG_KIND_COUNT ? tag_kind_names[k] : "label";
}

int intel_type_parse(const char *s)
{
    for (int i = 0; i < INTEL_TYPE_COUNT; i++)
        if (strcasecmp(s, type_names[i]) == 0)
            return i;
    for (size_t i = 0; i < sizeof(type_alias) / sizeof(type_alias[0]); i++)
        if (strcasecmp(s, type_alias[i].name) == 0)
            return (int)type_alias[i].t;
    return -1;
}

const char *intel_tlp_name(enum intel_tlp t)
{
    return (unsigned)t < INTEL_TLP_COUNT ? tlp_names[t] : "?";
}

int intel_tlp_parse(const char *s, size_t len)
{
    if (len >= 4 && strncasecmp(s, "tlp:", 4) == 0) {
        s += 4;
        len -= 4;
    }
    if (len == 5 && strncasecmp(s, "white", 5) == 0)
        return INTEL_TLP_CLEAR;
    for (int i = 0; i < INTEL_TLP_COUNT; i++)
        if (strlen(tlp_names[i]) == len && strncasecmp(s, tlp_names[i], len) == 0)
            return i;
    return -1;
}

void intel_ind_clear(struct intel_ind *ind)
{
    ind->value[0] = '\0';
    ind->ref[0] = '\0';
    ind->confidence = -1;
    ind->tlp = -1;
    ind->valid_from_us = 0;
    ind->valid_until_us = 0;
    ind->ntags = 0;
}

void intel_ind_tag(struct intel_ind *ind, enum intel_tag_kind kind, const char *v, size_t len)
{
    if (len > INTEL_TAG_MAX)
        len = INTEL_TAG_MAX;
    if (len == 0)
        return;
    for (size_t i = 0; i < ind->ntags; i++)
        if (ind->tags[i].kind == kind && strlen(ind->tags[i].value) == len &&
            memcmp(ind->tags[i].value, v, len) == 0)
            return;
    if (ind->ntags >= INTEL_TAGS_MAX)
        return;
    ind->tags[ind->ntags].kind = kind;
    memcpy(ind->tags[ind->ntags].value, v, len);
    ind->tags[ind->ntags].value[len] = '\0';
    ind->ntags++;
}

/* A DNS name: labels of letters, digits, '-' and '_' (service names), each
 * 1..63 bytes, 253 in all, a final dot dropped; lower-cased into out. */
static int norm_name(const char *s, size_t len, char *out, const char **why)
{
    size_t lab = 0;

    if (len && s[len - 1] == '.')
        len--;
    if (len == 0 || len > 253) {
        *why = len ? "name longer than 253 bytes" : "empty name";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (lab == 0) {
                *why = "empty label in name";
                return -EINVAL;
            }
            lab = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++lab > 63) {
                *why = "label longer than 63 bytes";
                return -EINVAL;
            }
        } else {
            *why = "character not allowed in a DNS name";
            return -EINVAL;
        }
        out[i] = (char)tolower(c);
    }
    if (lab == 0) {
        *why = "empty label in name";
        return -EINVAL;
    }
    out[len] = '\0';
    return 0;
}

static int norm_hex(const char *s, size_t len, size_t want, char *out, const char **why)
{
    if (len != want) {
        *why = "hash of the wrong length for its type";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            *why = "hash with a character that is not hexadecimal";
            return -EINVAL;
        }
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[len] = '\0';
    return 0;
}

static int all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/*
 * FoxIO's JA4 TLS client fingerprint, a_b_c (36 characters): a is the
 * protocol (t TCP, q QUIC, d DTLS), the version (13, 12, 11, 10, s3, s2,
 * d1, d2, d3, or 00 when unknown), SNI (d a domain, i none), the cipher
 * and extension counts (two digits each) and the first and last
 * characters of the first ALPN value (00 when none); b and c are 12 hex
 * digits each (truncated SHA-256 of the ciphers, of the extensions and
 * signature algorithms).  Lower-cased, so an ALPN character compares
 * without case.  The raw forms (ja4_r, ja4_ro: lists, not hashes) are
 * refused: the same client has one hashed spelling, which is what sensors
 * log in tls.client.ja4.
 */
static int norm_ja4(const char *s, size_t len, char *out, const char **why)
{
    static const char *const versions[] = {"13", "12", "11", "10", "s3",
                                           "s2", "d1", "d2", "d3", "00"};
    char v[37];
    size_t k;

    if (len != 36) {
        *why = memchr(s, ',', len)
                   ? "a raw JA4 (ja4_r/ja4_ro, with lists of values) is not accepted: give the "
                     "hashed form a_b_c"
                   : "not a JA4 fingerprint: 36 characters a_b_c expected (10, 12 and 12 "
                     "joined by '_')";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++)
        v[i] = (char)tolower((unsigned char)s[i]);
    v[len] = '\0';
    if (v[10] != '_' || v[23] != '_') {
        *why = "not a JA4 fingerprint: parts a_b_c of 10, 12 and 12 characters expected";
        return -EINVAL;
    }
    for (k = 0; k < sizeof(versions) / sizeof(versions[0]); k++)
        if (memcmp(v + 1, versions[k], 2) == 0)
            break;
    if (v[0] != 't' && v[0] != 'q' && v[0] != 'd')
        *why = "JA4 part a: the protocol (character 1) is not t, q or d";
    else if (k == sizeof(versions) / sizeof(versions[0]))
        *why = "JA4 part a: the TLS version (characters 2-3) is not 13, 12, 11, 10, s3, s2, "
               "d1, d2, d3 or 00";
    else if (v[3] != 'd' && v[3] != 'i')
        *why = "JA4 part a: the SNI mark (character 4) is not d or i";
    else if (!isdigit((unsigned char)v[4]) || !isdigit((unsigned char)v[5]))
        *why = "JA4 part a: the cipher count (characters 5-6) is not two digits";
    else if (!isdigit((unsigned char)v[6]) || !isdigit((unsigned char)v[7]))
        *why = "JA4 part a: the extension count (characters 7-8) is not two digits";
    else if (!isalnum((unsigned char)v[8]) || !isalnum((unsigned char)v[9]))
        *why = "JA4 part a: the ALPN (characters 9-10) is not two letters or digits";
    else if (!all_hex(v + 11, 12))
        *why = "JA4 part b: the cipher hash is not 12 hex digits";
    else if (!all_hex(v + 24, 12))
        *why = "JA4 part c: the extension hash is not 12 hex digits";
    else {
        memcpy(out, v, len + 1);
        return 0;
    }
    return -EINVAL;
}

/* Printable text (no control bytes), copied as it is, or lower-cased. */
static int norm_text(const char *s, size_t len, int lower, char *out, const char **why)
{
    if (len == 0) {
        *why = "empty value";
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            *why = "control character in value";
            return -EINVAL;
        }
        out[i] = lower ? (char)tolower(c) : (char)c;
    }
    out[len] = '\0';
    return 0;
}

static int norm_url(const char *s, size_t len, char *out, const char **why)
{
    const char *sep = memmem(s, len, "://", 3);
    size_t i, host_end;

    if (norm_text(s, len, 0, out, why) < 0)
        return -EINVAL;
    if (!sep || sep == s) {
        *why = "URL without a scheme (scheme://host/...)";
        return -EINVAL;
    }
    for (i = 0; i < len; i++)
        if (s[i] == ' ') {
            *why = "space in URL";
            return -EINVAL;
        }
    /* scheme and host (up to '/', '?', '#') are case-insensitive */
    host_end = (size_t)(sep - s) + 3;
    while (host_end < len && s[host_end] != '/' && s[host_end] != '?' && s[host_end] != '#')
        host_end++;
    if (host_end == (size_t)(sep - s) + 3) {
        *why = "URL without a host";
        return -EINVAL;
    }
    for (i = 0; i < host_end; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    return 0;
}

static int norm_email(const char *s, size_t len, char *out, const char **why)
{
    const char *at = memchr(s, '@', len);
    char dom[256];

    if (!at || at == s || memchr(at + 1, '@', len - (size_t)(at - s) - 1)) {
        *why = "e-mail address without exactly one '@' after a local part";
        return -EINVAL;
    }
    if (norm_text(s, (size_t)(at - s), 1, out, why) < 0 ||
        memchr(s, ' ', (size_t)(at - s))) {
        *why = "e-mail local part with a space or control character";
        return -EINVAL;
    }
    if ((size_t)(s + len - at - 1) >= sizeof(dom) ||
        norm_name(at + 1, (size_t)(s + len - at - 1), dom, why) < 0)
        return -EINVAL;
    if (!strchr(dom, '.')) {
        *why = "e-mail domain without a dot";
        return -EINVAL;
    }
    snprintf(out + (at - s), INTEL_VALUE_MAX + 1 - (size_t)(at - s), "@%s", dom);
    return 0;
}

int intel_normalize(enum intel_type t, const char *s, size_t len, char *out, const char **ret_why)
{
    const char *why = "bad value";
    struct cidr c;
    int r = -EINVAL;

    /* surrounding blanks are a feed's formatting, not the value */
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len > INTEL_VALUE_MAX) {
        *ret_why = "value longer than 2048 bytes";
        return -EINVAL;
    }
    switch (t) {
    case INTEL_IPV4:
    case INTEL_IPV6:
        if (cidr_parse(s, len, &c) < 0) {
            why = "not an IP address or CIDR network";
        } else if ((c.family == 4) != (t == INTEL_IPV4)) {
            why = t == INTEL_IPV4 ? "an IPv6 address given as IPv4" : "an IPv4 address given as IPv6";
        } else {
            cidr_format(&c, out, INTEL_VALUE_MAX + 1);
            r = 0;
        }
        break;
    case INTEL_DOMAIN:
    case INTEL_HOSTNAME:
        r = norm_name(s, len, out, &why);
        break;
    case INTEL_URL:
        r = norm_url(s, len, out, &why);
        break;
    case INTEL_EMAIL:
        r = norm_email(s, len, out, &why);
        break;
    case INTEL_MD5:
    case INTEL_JA3:
        r = norm_hex(s, len, 32, out, &why);
        break;
    case INTEL_SHA1:
        r = norm_hex(s, len, 40, out, &why);
        break;
    case INTEL_SHA256:
        r = norm_hex(s, len, 64, out, &why);
        break;
    case INTEL_REGKEY:
        r = norm_text(s, len, 1, out, &why);
        break;
    case INTEL_USER_AGENT:
    case INTEL_PROCESS:
        r = norm_text(s, len, 0, out, &why);
        break;
    case INTEL_JA4:
        r = norm_ja4(s, len, out, &why);
        break;
    case INTEL_URL_PATTERN:
        /* as written: a regex has no other spelling we could prove equal */
        r = intel_urlpat_check(s, len, &why) == 0 ? norm_text(s, len, 0, out, &why) : -EINVAL;
        break;
    default:
        why = "unknown indicator type";
        break;
    }
    if (r < 0)
        *ret_why = why;
    return r;
}

int intel_guess_type(const char *s, size_t len)
{
    struct cidr c;
    char tmp[INTEL_VALUE_MAX + 1];
    const char *why;

    while (len && (s[len - 1] == ' ' || s[len - 1] == '\r' || s[len - 1] == '\t'))
        len--;
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (len == 0 || len > INTEL_VALUE_MAX)
        return -1;
    if (cidr_parse(s, len, &c) == 0)
        return c.family == 4 ? INTEL_IPV4 : INTEL_IPV6;
    if (all_hex(s, len)) {
        if (len == 32)
            return INTEL_MD5;
        if (len == 40)
            return INTEL_SHA1;
        if (len == 64)
            return INTEL_SHA256;
    }
    if (len == 36 && norm_ja4(s, len, tmp, &why) == 0)
        return INTEL_JA4;
    if (memmem(s, len, "://", 3))
        return INTEL_URL;
    if (memchr(s, '@', len))
        return INTEL_EMAIL;
    if (memchr(s, '.', len) && norm_name(s, len, tmp, &why) == 0)
        return INTEL_DOMAIN;
    return -1;
}
