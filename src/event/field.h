/*
 * field.h - the interned dictionary of field names.
 *
 * A field name ("source.ip", "alert.signature_id") maps to a small integer
 * id once; events then carry ids, not names.  The names hikeshi itself uses
 * (Elastic Common Schema where one exists) have fixed ids, FIELD_*, so
 * decoders set them without a lookup.  Product fields (flattened JSON keys,
 * RFC 5424 structured data, key=value keys) are interned on first sight.
 *
 * The dictionary is capped at LIMIT_FIELD_NAMES names because those names
 * come from the wire.  Interning is thread-safe; field_name() is lock-free
 * and its result is valid for the life of the process.
 */
#ifndef HIKESHI_EVENT_FIELD_H
#define HIKESHI_EVENT_FIELD_H

#include <stddef.h>
#include <stdint.h>

/* X-macro of the fixed fields: (ENUM suffix, name).  Order is the id. */
#define FIELD_LIST(X)                                                                              \
    X(TIMESTAMP, "@timestamp")                                                                     \
    X(MESSAGE, "message")                                                                          \
    X(HOST_NAME, "host.name")                                                                      \
    X(HOST_IP, "host.ip")                                                                          \
    X(SOURCE_IP, "source.ip")                                                                      \
    X(SOURCE_PORT, "source.port")                                                                  \
    X(SOURCE_BYTES, "source.bytes")                                                                \
    X(DESTINATION_IP, "destination.ip")                                                            \
    X(DESTINATION_PORT, "destination.port")                                                        \
    X(DESTINATION_BYTES, "destination.bytes")                                                      \
    X(NETWORK_TRANSPORT, "network.transport")                                                      \
    X(NETWORK_PROTOCOL, "network.protocol")                                                        \
    X(USER_NAME, "user.name")                                                                      \
    X(USER_ID, "user.id")                                                                          \
    X(USER_EFFECTIVE_NAME, "user.effective.name")                                                  \
    X(PROCESS_NAME, "process.name")                                                                \
    X(PROCESS_PID, "process.pid")                                                                  \
    X(PROCESS_COMMAND_LINE, "process.command_line")                                                \
    X(PROCESS_WORKING_DIRECTORY, "process.working_directory")                                      \
    X(EVENT_ACTION, "event.action")                                                                \
    X(EVENT_OUTCOME, "event.outcome")                                                              \
    X(EVENT_CATEGORY, "event.category")                                                            \
    X(EVENT_TYPE, "event.type")                                                                    \
    X(EVENT_KIND, "event.kind")                                                                    \
    X(EVENT_CODE, "event.code")                                                                    \
    X(EVENT_SEVERITY, "event.severity")                                                            \
    X(EVENT_DATASET, "event.dataset")                                                              \
    X(EVENT_MODULE, "event.module")                                                                \
    X(EVENT_REASON, "event.reason")                                                                \
    X(EVENT_ORIGINAL_TIME, "event.original_time")                                                  \
    X(URL_ORIGINAL, "url.original")                                                                \
    X(URL_PATH, "url.path")                                                                        \
    X(URL_QUERY, "url.query")                                                                      \
    X(HTTP_REQUEST_METHOD, "http.request.method")                                                  \
    X(HTTP_REQUEST_REFERRER, "http.request.referrer")                                              \
    X(HTTP_RESPONSE_STATUS_CODE, "http.response.status_code")                                      \
    X(HTTP_RESPONSE_BODY_BYTES, "http.response.body.bytes")                                        \
    X(HTTP_VERSION, "http.version")                                                                \
    X(USER_AGENT_ORIGINAL, "user_agent.original")                                                  \
    X(LOG_LEVEL, "log.level")                                                                      \
    X(LOG_SYSLOG_PRIORITY, "log.syslog.priority")                                                  \
    X(LOG_SYSLOG_FACILITY_CODE, "log.syslog.facility.code")                                        \
    X(LOG_SYSLOG_SEVERITY_CODE, "log.syslog.severity.code")                                        \
    X(LOG_SYSLOG_APPNAME, "log.syslog.appname")                                                    \
    X(LOG_SYSLOG_MSGID, "log.syslog.msgid")                                                        \
    X(LOG_SYSLOG_VERSION, "log.syslog.version")                                                    \
    X(OBSERVER_VENDOR, "observer.vendor")                                                          \
    X(OBSERVER_PRODUCT, "observer.product")                                                        \
    X(OBSERVER_VERSION, "observer.version")                                                        \
    X(OBSERVER_INGRESS_INTERFACE, "observer.ingress.interface.name")                               \
    X(OBSERVER_EGRESS_INTERFACE, "observer.egress.interface.name")                                 \
    X(RULE_ID, "rule.id")                                                                          \
    X(RULE_NAME, "rule.name")                                                                      \
    X(RULE_CATEGORY, "rule.category")                                                              \
    X(FILE_PATH, "file.path")                                                                      \
    X(ERROR_MESSAGE, "error.message")

enum field_id {
    FIELD_NONE = 0, /* "no field": interning failed or name unknown */
#define FIELD_ENUM(sym, name) FIELD_##sym,
    FIELD_LIST(FIELD_ENUM)
#undef FIELD_ENUM
        FIELD_FIXED_COUNT /* first id handed out by interning */
};

/* Registers the fixed names.  Idempotent; called by the first field_intern
 * too, but call it at startup so the cost is not on the first event. */
void field_init(void);
/* Frees the dictionary (for leak-checked tests).  Ids become invalid. */
void field_done(void);

/*
 * Returns the id of `name` (`len` bytes, not necessarily NUL-terminated),
 * adding it if new.  Returns FIELD_NONE when the name is empty, longer than
 * LIMIT_FIELD_NAME_LEN, or the dictionary is full: the caller then drops the
 * field and counts it.
 */
uint32_t field_intern(const char *name, size_t len);
/* Returns the id of `name` if known, FIELD_NONE otherwise; adds nothing. */
uint32_t field_lookup(const char *name, size_t len);
/* Returns the NUL-terminated name of `id`, or NULL for an unknown id. */
const char *field_name(uint32_t id);
/* 1 if the name of `id` holds a space (Sigma matches such a name with its
 * spaces stripped), 0 otherwise or for an unknown id; no lock. */
int field_spaced(uint32_t id);
/* The table behind field_spaced() for ids below *ret_n (0 before
 * field_init()), for loops over many ids; ids at or past it: ask
 * field_spaced(). */
const unsigned char *field_spaced_table(uint32_t *ret_n);
/* One past the highest id handed out: the number of names plus one, as
 * id 0 is FIELD_NONE.  Valid ids are 1 .. field_count() - 1. */
uint32_t field_count(void);
/* Interning requests refused because the dictionary was full. */
uint64_t field_refused(void);
/* Which dictionary this is: a number that changes at each field_done(),
 * so that a cache of ids (decode/decode_fieldid.c) can tell that the ids
 * it holds belong to a dictionary since freed.  No lock. */
uint32_t field_generation(void);

#endif
