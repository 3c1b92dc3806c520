/*
 * message_case.h - the life of a message on the case file (issue 25):
 * drafted from a template with the incident's fields that the party's
 * disclosure rule allows, approved, queued, sent, delivered or failed
 * after retries; replies attached by reference; field markings set.
 * Every step is one store transaction with its timeline entry
 * ("message") and audit entry (message.draft, message.approve,
 * message.queue, message.send, message.delivered, message.retry,
 * message.failed, message.reply, message.cancel, incident.mark).
 *
 *   draft -> approved -> queued -> sent -> delivered
 *                          ^        |
 *                          +- retry <-+-> failed (no attempts left)
 *   draft | approved -> cancelled
 *
 * "send" on a draft approves and queues it in one (the one click of the
 * first report).  The disclosure rule is checked at draft, at approval and
 * again at each attempt, against the markings of that moment.
 *
 * Errors as casefile.h's; -EDOM when the disclosure rules refuse
 * (err->msg names the field and the rule).
 */
#ifndef HIKESHI_INCIDENT_MESSAGE_CASE_H
#define HIKESHI_INCIDENT_MESSAGE_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "incident/casefile.h"
#include "incident/message.h"

/* What drafting needs beyond the case file; set once before the API and
 * the deliverer start (message_case_configure copies nothing: the strings
 * must outlive both). */
struct message_case_conf {
    const char *templates_dir;        /* DIR/PARTY.txt; NULL: the built-in template */
    const char *const *webhook_allow; /* URL prefixes a webhook message may go to */
    size_t nwebhook_allow;
};
void message_case_configure(const struct message_case_conf *c);

/* Body: {"party" (required), "contact" (id), "recipient", "channel",
 * "fields": [names]}.  The recipient defaults to the contact's e-mail for
 * smtp; a webhook's must start with one of the allowed prefixes; an
 * export's is a name of [a-z0-9_-]. */
int message_case_draft(const struct casefile *cf, int64_t incident, const char *who,
                       const char *body, size_t len, int64_t now_us, int64_t *ret_msg,
                       struct casefile_err *err);

/* A draft made by hikeshi itself (the first report, a procedure's
 * message): the party's default fields, `kind` recorded ("first_report",
 * "procedure", ...), the recipient from contact_id or `recipient`.  For
 * the procedures of a box (level x category) to call. */
int message_case_draft_auto(const struct casefile *cf, int64_t incident, enum message_party party,
                            int64_t contact_id, const char *recipient, const char *kind,
                            int64_t now_us, int64_t *ret_msg, struct casefile_err *err);

/* A procedure's draft (casefile_procedure.c): to `party` over `channel`
 * with the `fields` the box discloses, less those marked above `cap`
 * (*ret_withheld, may be NULL, names them; none left: -EDOM).  Mail goes
 * to the contact whose role or name is the party's name (for the
 * responsible person also "manager"); without one, and for a webhook,
 * the draft is an export named after the party.  Made by hikeshi, kind
 * `kind` ("procedure"). */
int message_case_draft_box(const struct casefile *cf, int64_t incident, enum message_party party,
                           enum message_channel channel, uint32_t fields, enum message_tlp cap,
                           const char *kind, int64_t now_us, int64_t *ret_msg,
                           uint32_t *ret_withheld, struct casefile_err *err);

/* draft -> approved; with send: and queued.  approved -> queued
 * (message_case_send).  draft|approved -> cancelled. */
int message_case_approve(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                         int send, int64_t now_us, struct casefile_err *err);
int message_case_send(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                      int64_t now_us, struct casefile_err *err);
int message_case_cancel(const struct casefile *cf, int64_t incident, int64_t msg, const char *who,
                        int64_t now_us, struct casefile_err *err);

/* The deliverer's steps (comms_run.c).  begin: queued|retry -> sent
 * (attempts + 1), the row filled for sending (the caller frees it with
 * store_message_row_done); -EDOM (and the message failed) when the rule
 * now refuses it.  end: sent -> delivered (ok), retry at retry_us
 * (retry_us > 0) or failed, with the reason. */
struct store_message_row;
int message_case_attempt_begin(const struct casefile *cf, int64_t msg, int64_t now_us,
                               struct store_message_row *ret, struct casefile_err *err);
int message_case_attempt_end(const struct casefile *cf, int64_t msg, int ok, const char *reason,
                             int64_t retry_us, int64_t now_us, struct casefile_err *err);

/* A reply: {"ref", "from", "subject", "body"}; attached to the message
 * whose ref it quotes (-ENOENT when none), on its incident's timeline. */
int message_case_reply(const struct casefile *cf, const char *who, const char *body, size_t len,
                       int64_t now_us, int64_t *ret_reply, int64_t *ret_msg,
                       struct casefile_err *err);

/* Markings: {"FIELD": "TLP:...", ...}. */
int message_case_mark(const struct casefile *cf, int64_t incident, const char *who,
                      const char *body, size_t len, int64_t now_us, struct casefile_err *err);
/* The markings in force for each field (set, else the default) as one
 * JSON object {"field": {"tlp": ..., "set": bool}}. */
int message_case_markings_json(const struct casefile *cf, int64_t incident, struct buf *out,
                               struct casefile_err *err);

#endif
