/*
 * decode_gelf.c - GELF 1.1 messages to ECS names (see decode_gelf.h).
 *
 * The JSON is the JSON decoder's job; this file only gives GELF's few
 * fixed names their ECS meaning and makes the additional fields reachable
 * by the names their senders meant, without the underscore GELF requires.
 */
#include "decode/decode_gelf.h"

#include <errno.h>
#include <string.h>

#include "decode/decode_json.h"
#include "event/event.h"
#include "event/field.h"

static const char *get_named(const struct event *ev, const char *name, size_t *ret_n)
{
    uint32_t id = field_lookup(name, strlen(name));

    return id == FIELD_NONE ? NULL : event_get(ev, id, ret_n);
}

/* `to` = value of `from`, unless the event has `to` already. */
static int gelf_alias(struct event *ev, const char *from, uint32_t to)
{
    size_t n, m;
    const char *v = get_named(ev, from, &n);
    int r;

    if (!v || event_get(ev, to, &m))
        return 0;
    r = event_add(ev, to, v, n);
    return r == -ENOMEM ? r : 0;
}

/* level: the syslog severity number, and its keyword as log.level. */
static int gelf_level(struct event *ev)
{
    static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};
    size_t n, m;
    const char *v = get_named(ev, "level", &n);
    int r;

    if (!v || n != 1 || v[0] < '0' || v[0] > '7')
        return 0;
    if (!event_get(ev, FIELD_LOG_SYSLOG_SEVERITY_CODE, &m) &&
        (r = event_add(ev, FIELD_LOG_SYSLOG_SEVERITY_CODE, v, 1)) == -ENOMEM)
        return r;
    if (!event_get(ev, FIELD_LOG_LEVEL, &m) &&
        (r = event_add_str(ev, FIELD_LOG_LEVEL, names[v[0] - '0'])) == -ENOMEM)
        return r;
    return 0;
}

/* Each additional field "_x" (of the fields from `first` to `last`) is also
 * "x" when the event has no "x" of its own. */
static int gelf_additional(struct event *ev, uint32_t first, uint32_t last)
{
    for (uint32_t i = first; i < last; i++) {
        const char *name = field_name(ev->fields[i].id);
        const char *val = ev->fields[i].val;
        uint32_t len = ev->fields[i].len, id;
        size_t m;
        int r;

        if (!name || name[0] != '_' || name[1] == '\0' || name[1] == '_')
            continue;
        id = field_lookup(name + 1, strlen(name + 1));
        if (id != FIELD_NONE && event_get(ev, id, &m))
            continue;
        r = event_add_named(ev, name + 1, strlen(name + 1), val, len);
        if (r == -ENOMEM)
            return r;
    }
    return 0;
}

int decode_gelf(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                struct parse_err *reterr)
{
    uint32_t first = ev->nfields;
    size_t n;
    int r;

    if ((r = decode_json(ev, p, len, ctx, reterr)) < 0)
        return r;
    if (!get_named(ev, "short_message", &n)) {
        ev->nfields = first; /* JSON, but not GELF: nothing of ours added */
        ev->decoder = NULL;
        return -ENOENT;
    }
    r = gelf_additional(ev, first, ev->nfields);
    r = r ? r : gelf_alias(ev, "short_message", FIELD_MESSAGE);
    r = r ? r : gelf_alias(ev, "host", FIELD_HOST_NAME);
    r = r ? r : gelf_level(ev);
    if (r < 0)
        return r;
    ev->decoder = "gelf";
    return 0;
}
