/*
 * decode_svc.c - the common fields of server login and connection messages
 * (see decode_svc.h).
 */
#include "decode/decode_svc.h"

#include <errno.h>
#include <stddef.h>

#include "event/event.h"

static int add_str(struct event *ev, uint32_t id, const char *s)
{
    return s ? decode_util_add(ev, id, decode_util_cstr(s)) : 0;
}

int decode_svc_emit(struct event *ev, const struct decode_svc *s)
{
    int r;

    if ((r = add_str(ev, FIELD_EVENT_KIND, "event")) < 0 ||
        (r = add_str(ev, FIELD_EVENT_MODULE, s->module)) < 0 ||
        (r = add_str(ev, FIELD_EVENT_DATASET, s->dataset)) < 0 ||
        (r = add_str(ev, FIELD_EVENT_ACTION, s->action)) < 0 ||
        (r = add_str(ev, FIELD_EVENT_CATEGORY, s->category)) < 0 ||
        (r = add_str(ev, FIELD_EVENT_TYPE, s->type)) < 0 ||
        (r = add_str(ev, FIELD_EVENT_OUTCOME, s->outcome)) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, s->user)) < 0 ||
        (r = decode_util_add_named(ev, "source.domain", sizeof("source.domain") - 1,
                                   s->source_domain)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON, s->reason)) < 0)
        return r;
    if (s->source_ip.n && decode_util_is_ip(s->source_ip.p, s->source_ip.n) &&
        (r = decode_util_add(ev, FIELD_SOURCE_IP, s->source_ip)) < 0)
        return r;
    if (s->source_port.n && decode_util_is_port(s->source_port.p, s->source_port.n) &&
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, s->source_port)) < 0)
        return r;
    if (s->dest_ip.n && decode_util_is_ip(s->dest_ip.p, s->dest_ip.n) &&
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, s->dest_ip)) < 0)
        return r;
    if (s->dest_port.n && decode_util_is_port(s->dest_port.p, s->dest_port.n) &&
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, s->dest_port)) < 0)
        return r;
    return 0;
}
