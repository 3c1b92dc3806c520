/*
 * message.c - the parties, markings and disclosure rules of messages and
 * the template renderer (message.h).  The rules are a table here, one row
 * per party, documented in docs/incident.md ("Disclosure rules"): the
 * press and shareholders speak to the public or near it, so they get only
 * what is marked for the public; other CSIRTs, the police and the
 * regulator get the technical detail a response needs.
 */
#include "incident/message.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/readfile.h"

#define F(x) MESSAGE_FIELD_BIT(MESSAGE_FIELD_##x)
#define ALL_FIELDS ((1u << MESSAGE_FIELD_COUNT) - 1)

static const struct message_rule rules[MESSAGE_PARTY_COUNT] = {
    {MESSAGE_PARTY_CSIRT, "csirt", MESSAGE_TLP_AMBER, ALL_FIELDS,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(LEVEL) | F(PHASE) | F(ENTITIES) | F(THREATS),
     MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_ISP, "isp", MESSAGE_TLP_AMBER,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(LEVEL) | F(PHASE) | F(ENTITIES) | F(THREATS),
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(ENTITIES), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_CARRIER, "carrier", MESSAGE_TLP_AMBER,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(LEVEL) | F(PHASE) | F(ENTITIES) | F(THREATS),
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(ENTITIES), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_PRESS, "press", MESSAGE_TLP_CLEAR,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(PHASE) | F(IMPACT) | F(ADVICE),
     F(TYPE) | F(PHASE) | F(ADVICE), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_PARTNER, "partner", MESSAGE_TLP_GREEN,
     F(TITLE) | F(TYPE) | F(CATEGORY) | F(LEVEL) | F(PHASE) | F(IMPACT) | F(COUNTERMEASURES) |
         F(ADVICE),
     F(TITLE) | F(TYPE) | F(PHASE) | F(IMPACT), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_SHAREHOLDER, "shareholder", MESSAGE_TLP_GREEN,
     F(TITLE) | F(TYPE) | F(LEVEL) | F(PHASE) | F(IMPACT),
     F(TITLE) | F(TYPE) | F(LEVEL) | F(PHASE) | F(IMPACT), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_POLICE, "police", MESSAGE_TLP_AMBER_STRICT, ALL_FIELDS,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(ENTITIES) | F(IMPACT) | F(THREATS), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_REGULATOR, "regulator", MESSAGE_TLP_AMBER,
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(CATEGORY) | F(LEVEL) | F(PHASE) | F(METHOD) | F(IMPACT) |
         F(COUNTERMEASURES),
     F(TITLE) | F(SUMMARY) | F(TYPE) | F(IMPACT) | F(COUNTERMEASURES), MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_REPORTER, "reporter", MESSAGE_TLP_GREEN,
     F(TITLE) | F(TYPE) | F(PHASE) | F(ADVICE), F(TYPE) | F(PHASE) | F(ADVICE),
     MESSAGE_CHANNEL_SMTP},
    {MESSAGE_PARTY_RESPONSIBLE, "responsible", MESSAGE_TLP_RED, ALL_FIELDS, ALL_FIELDS & ~F(ADVICE),
     MESSAGE_CHANNEL_SMTP},
};

static const char *const tlp_names[MESSAGE_TLP_COUNT] = {
    "TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED",
};

static const char *const field_names[MESSAGE_FIELD_COUNT] = {
    "title",  "summary",  "type",   "category", "level",           "phase",
    "method", "entities", "impact", "threats",  "countermeasures", "advice",
};

/* What a field holds decides its default: names of the incident's hosts,
 * accounts and addresses, and what the attacker can do, stay among those
 * who act on them; its kind and state may go out. */
static const enum message_tlp field_default_tlp[MESSAGE_FIELD_COUNT] = {
    MESSAGE_TLP_GREEN, /* title */
    MESSAGE_TLP_AMBER, /* summary */
    MESSAGE_TLP_CLEAR, /* type */
    MESSAGE_TLP_CLEAR, /* category */
    MESSAGE_TLP_GREEN, /* level */
    MESSAGE_TLP_CLEAR, /* phase */
    MESSAGE_TLP_GREEN, /* method */
    MESSAGE_TLP_AMBER, /* entities */
    MESSAGE_TLP_GREEN, /* impact */
    MESSAGE_TLP_AMBER, /* threats */
    MESSAGE_TLP_AMBER, /* countermeasures */
    MESSAGE_TLP_CLEAR, /* advice */
};

static const char *const channel_names[MESSAGE_CHANNEL_COUNT] = {"smtp", "webhook", "export"};

const struct message_rule *message_rule(enum message_party p)
{
    return (unsigned)p < MESSAGE_PARTY_COUNT ? &rules[p] : NULL;
}

const char *message_party_name(enum message_party p)
{
    return (unsigned)p < MESSAGE_PARTY_COUNT ? rules[p].name : "?";
}

const char *message_tlp_name(enum message_tlp t)
{
    return (unsigned)t < MESSAGE_TLP_COUNT ? tlp_names[t] : "?";
}

const char *message_field_name(enum message_field f)
{
    return (unsigned)f < MESSAGE_FIELD_COUNT ? field_names[f] : "?";
}

const char *message_channel_name(enum message_channel c)
{
    return (unsigned)c < MESSAGE_CHANNEL_COUNT ? channel_names[c] : "?";
}

int message_party_from_name(const char *s, enum message_party *ret)
{
    for (int i = 0; i < MESSAGE_PARTY_COUNT; i++)
        if (strcmp(s, rules[i].name) == 0) {
            *ret = (enum message_party)i;
            return 0;
        }
    return -EINVAL;
}

int message_tlp_from_name(const char *s, enum message_tlp *ret)
{
    if (strncasecmp(s, "TLP:", 4) == 0)
        s += 4;
    for (int i = 0; i < MESSAGE_TLP_COUNT; i++)
        if (strcasecmp(s, tlp_names[i] + 4) == 0) {
            *ret = (enum message_tlp)i;
            return 0;
        }
    return -EINVAL;
}

int message_field_from_name(const char *s, enum message_field *ret)
{
    for (int i = 0; i < MESSAGE_FIELD_COUNT; i++)
        if (strcmp(s, field_names[i]) == 0) {
            *ret = (enum message_field)i;
            return 0;
        }
    return -EINVAL;
}

int message_channel_from_name(const char *s, enum message_channel *ret)
{
    for (int i = 0; i < MESSAGE_CHANNEL_COUNT; i++)
        if (strcmp(s, channel_names[i]) == 0) {
            *ret = (enum message_channel)i;
            return 0;
        }
    return -EINVAL;
}

enum message_tlp message_field_default_tlp(enum message_field f)
{
    return (unsigned)f < MESSAGE_FIELD_COUNT ? field_default_tlp[f] : MESSAGE_TLP_RED;
}

int message_check(const struct message_rule *rule, uint32_t fields,
                  const enum message_tlp marks[MESSAGE_FIELD_COUNT], char *why, size_t why_size)
{
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++) {
        if (!(fields & MESSAGE_FIELD_BIT(f)))
            continue;
        if (!(rule->allowed & MESSAGE_FIELD_BIT(f))) {
            snprintf(why, why_size,
                     "disclosure rules: the field %s is never disclosed to the %s party",
                     field_names[f], rule->name);
            return -EPERM;
        }
        if (marks[f] > rule->max_tlp) {
            snprintf(why, why_size,
                     "disclosure rules: the field %s is marked %s and the %s party may receive "
                     "at most %s",
                     field_names[f], message_tlp_name(marks[f]), rule->name,
                     message_tlp_name(rule->max_tlp));
            return -EPERM;
        }
    }
    if (fields >> MESSAGE_FIELD_COUNT) {
        snprintf(why, why_size, "disclosure rules: unknown field");
        return -EPERM;
    }
    return 0;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int message_render(const char *tpl, size_t len, message_lookup_fn lookup, void *ctx, size_t max,
                   struct buf *out, struct parse_err *reterr)
{
    size_t i = 0, start = out->len;
    int r;

    while (i < len) {
        const char *open = NULL;
        size_t n;
        char name[MESSAGE_NAME_MAX + 1];

        for (size_t j = i; j + 1 < len; j++)
            if (tpl[j] == '{' && tpl[j + 1] == '{') {
                open = tpl + j;
                break;
            }
        n = open ? (size_t)(open - tpl) - i : len - i;
        if ((r = buf_append(out, tpl + i, n)) < 0)
            return r;
        if (!open)
            break;
        i += n + 2;
        n = 0;
        while (i + n < len && name_char(tpl[i + n]) && n <= MESSAGE_NAME_MAX)
            n++;
        if (n == 0 || n > MESSAGE_NAME_MAX) {
            parse_err_set(reterr, i, "a placeholder needs a name of 1 to 32 of a-z, 0-9, _");
            return -EINVAL;
        }
        if (i + n + 1 >= len || tpl[i + n] != '}' || tpl[i + n + 1] != '}') {
            parse_err_set(reterr, i + n, "a placeholder's name must be followed by }}");
            return -EINVAL;
        }
        memcpy(name, tpl + i, n);
        name[n] = '\0';
        r = lookup(ctx, name, out);
        if (r == -ENOENT) {
            parse_err_set(reterr, i, "unknown placeholder");
            return -EINVAL;
        }
        if (r < 0)
            return r;
        i += n + 2;
        if (out->len - start > max)
            return -E2BIG;
    }
    return out->len - start > max ? -E2BIG : 0;
}

int message_split(const char *text, size_t len, const char **ret_subj, size_t *ret_subj_len,
                  const char **ret_body, size_t *ret_body_len)
{
    const char *nl, *end = text + len;

    if (len < 9 || memcmp(text, "Subject: ", 9) != 0)
        return -EINVAL;
    if (!(nl = memchr(text, '\n', len)))
        return -EINVAL;
    *ret_subj = text + 9;
    *ret_subj_len = (size_t)(nl - text) - 9;
    if (*ret_subj_len && (*ret_subj)[*ret_subj_len - 1] == '\r')
        (*ret_subj_len)--;
    nl++;
    if (nl < end && *nl == '\r')
        nl++;
    if (nl >= end || *nl != '\n')
        return -EINVAL;
    *ret_body = nl + 1;
    *ret_body_len = (size_t)(end - nl - 1);
    return 0;
}

int message_template_read(const char *dir, enum message_party p, char **ret, size_t *ret_len)
{
    char path[4096];
    int r;

    *ret = NULL;
    *ret_len = 0;
    if (!dir || !dir[0])
        return -ENOENT;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.txt", dir, message_party_name(p)) >=
        sizeof(path))
        return -ENAMETOOLONG;
    r = readfile_all(path, MESSAGE_TEMPLATE_MAX, ret, ret_len);
    if (r != -ENOENT)
        return r;
    snprintf(path, sizeof(path), "%s/default.txt", dir);
    return readfile_all(path, MESSAGE_TEMPLATE_MAX, ret, ret_len);
}

const char message_template_builtin[] = "Subject: [{{tlp}}] Incident {{incident}}: {{title}}\n"
                                        "\n"
                                        "This message is marked {{tlp}}.\n"
                                        "\n"
                                        "{{fields}}\n"
                                        "Reference: {{ref}} (quote it in any reply)\n";
