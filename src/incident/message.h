/*
 * message.h - communications that are sent (issue 25, MISSION.md section
 * 4 "for each external party: what to disclose, to whom, who sends it,
 * how"): the parties, the incident's fields a message may carry with
 * their TLP markings, the disclosure rule of each party, and the
 * templates messages are written from.
 *
 * Pure logic, no store and no I/O but reading a template file, so that a
 * unit test and the fuzz target drive it.  The life of a message (draft,
 * approval, sending, replies) is in message_case.c; delivery in
 * comms_run.c.  docs/incident.md, "Messages", is the user's view.
 */
#ifndef HIKESHI_INCIDENT_MESSAGE_H
#define HIKESHI_INCIDENT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/parse_err.h"

/* Who a message goes to (MISSION.md section 4's external parties, and the
 * responsible person inside). */
enum message_party {
    MESSAGE_PARTY_CSIRT = 0, /* another CSIRT */
    MESSAGE_PARTY_ISP,
    MESSAGE_PARTY_CARRIER,
    MESSAGE_PARTY_PRESS,
    MESSAGE_PARTY_PARTNER,
    MESSAGE_PARTY_SHAREHOLDER,
    MESSAGE_PARTY_POLICE,
    MESSAGE_PARTY_REGULATOR,
    MESSAGE_PARTY_REPORTER,
    MESSAGE_PARTY_RESPONSIBLE,
    MESSAGE_PARTY_COUNT
};

/* Traffic Light Protocol 2.0, in order of restriction. */
enum message_tlp {
    MESSAGE_TLP_CLEAR = 0,
    MESSAGE_TLP_GREEN,
    MESSAGE_TLP_AMBER,
    MESSAGE_TLP_AMBER_STRICT,
    MESSAGE_TLP_RED,
    MESSAGE_TLP_COUNT
};

/* The incident's fields a message can carry. */
enum message_field {
    MESSAGE_FIELD_TITLE = 0,
    MESSAGE_FIELD_SUMMARY,
    MESSAGE_FIELD_TYPE,
    MESSAGE_FIELD_CATEGORY,
    MESSAGE_FIELD_LEVEL,
    MESSAGE_FIELD_PHASE,
    MESSAGE_FIELD_METHOD,
    MESSAGE_FIELD_ENTITIES,
    MESSAGE_FIELD_IMPACT,
    MESSAGE_FIELD_THREATS,
    MESSAGE_FIELD_COUNTERMEASURES,
    MESSAGE_FIELD_ADVICE,
    MESSAGE_FIELD_COUNT
};
#define MESSAGE_FIELD_BIT(f) (1u << (f))

enum message_channel {
    MESSAGE_CHANNEL_SMTP = 0,
    MESSAGE_CHANNEL_WEBHOOK,
    MESSAGE_CHANNEL_EXPORT,
    MESSAGE_CHANNEL_COUNT
};

/* Caps on what a message holds. */
#define MESSAGE_SUBJECT_MAX 200
#define MESSAGE_BODY_MAX (64 * 1024)
#define MESSAGE_RECIPIENT_MAX 320
#define MESSAGE_TEMPLATE_MAX (32 * 1024)
#define MESSAGE_REF_MAX 48
#define MESSAGE_NAME_MAX 32 /* a {{placeholder}}'s name */

/* A party's disclosure rule: the most restrictive marking it may receive
 * and the fields it may receive at all; `defaults` are the fields a
 * draft carries when the request names none. */
struct message_rule {
    enum message_party party;
    const char *name; /* "csirt", "isp", ... */
    enum message_tlp max_tlp;
    uint32_t allowed;             /* MESSAGE_FIELD_BIT per field */
    uint32_t defaults;            /* a subset of allowed */
    enum message_channel channel; /* the usual channel */
};
const struct message_rule *message_rule(enum message_party p);

const char *message_party_name(enum message_party p);
/* "TLP:CLEAR" ... "TLP:RED". */
const char *message_tlp_name(enum message_tlp t);
const char *message_field_name(enum message_field f);
const char *message_channel_name(enum message_channel c);
/* Inverse lookups (exact names; TLP also without "TLP:" and in lower
 * case).  0 or -EINVAL. */
int message_party_from_name(const char *s, enum message_party *ret);
int message_tlp_from_name(const char *s, enum message_tlp *ret);
int message_field_from_name(const char *s, enum message_field *ret);
int message_channel_from_name(const char *s, enum message_channel *ret);

/* The marking a field has until someone marks it on the incident. */
enum message_tlp message_field_default_tlp(enum message_field f);

/*
 * The disclosure check: may `rule`'s party receive `fields` marked
 * `marks` (one per field)?  0, or -EPERM with a sentence in why naming
 * the first field at fault and the rule it breaks.
 */
int message_check(const struct message_rule *rule, uint32_t fields,
                  const enum message_tlp marks[MESSAGE_FIELD_COUNT], char *why, size_t why_size);

/*
 * Templates: text with {{name}} placeholders (name: lower-case letters,
 * digits and '_', at most MESSAGE_NAME_MAX).  The first line is
 * "Subject: ..." and a blank line follows; the rest is the body.
 * `lookup` appends the value of a name to out: 0, -ENOENT for an unknown
 * name (refused with its offset), or another negative errno.  "{{" with
 * no closing "}}" and an empty or bad name are refused too.  Returns 0,
 * -EINVAL (reterr: offset and reason), -E2BIG past `max` bytes of output,
 * -ENOMEM.
 */
typedef int (*message_lookup_fn)(void *ctx, const char *name, struct buf *out);
int message_render(const char *tpl, size_t len, message_lookup_fn lookup, void *ctx, size_t max,
                   struct buf *out, struct parse_err *reterr);
/* Splits a rendered template into subject and body (views into text):
 * -EINVAL when the first line is not "Subject: " or no blank line
 * follows. */
int message_split(const char *text, size_t len, const char **ret_subj, size_t *ret_subj_len,
                  const char **ret_body, size_t *ret_body_len);
/* Reads DIR/PARTY.txt, else DIR/default.txt, into *ret (heap, NUL-ended;
 * the caller frees): -ENOENT when neither is there, -EFBIG past
 * MESSAGE_TEMPLATE_MAX. */
int message_template_read(const char *dir, enum message_party p, char **ret, size_t *ret_len);

/* The built-in template used when no file is found. */
extern const char message_template_builtin[];

#endif
