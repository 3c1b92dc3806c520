/*
 * alert.c - an alert as JSON.
 */
#include "triage/alert.h"

#include <string.h>

#include "event/event.h"
#include "event/time.h"
#include "util/buf.h"

static int put_kv(struct buf *out, const char *key, const char *val, int comma)
{
    int r;

    if (comma && (r = buf_putc(out, ',')) < 0)
        return r;
    if ((r = buf_json_str(out, key, strlen(key))) < 0 || (r = buf_putc(out, ':')) < 0)
        return r;
    if (!val)
        return buf_puts(out, "null");
    return buf_json_str(out, val, strlen(val));
}

int alert_to_json(const struct alert *a, struct buf *out)
{
    char created[TIME_ISO_LEN], etime[TIME_ISO_LEN];
    int r;

    time_format_iso(a->created_us, created, sizeof(created));
    time_format_iso(a->ev ? a->ev->time_us : a->time_us ? a->time_us : a->created_us, etime,
                    sizeof(etime));
    if ((r = buf_putc(out, '{')) < 0 || (r = put_kv(out, "created", created, 0)) < 0 ||
        (r = put_kv(out, "@timestamp", etime, 1)) < 0 || (r = buf_puts(out, ",\"rule\":{")) < 0 ||
        (r = put_kv(out, "id", a->rule_id, 0)) < 0 || (r = put_kv(out, "title", a->rule_title, 1)) < 0 ||
        (r = put_kv(out, "author", a->rule_author, 1)) < 0 ||
        (r = put_kv(out, "level", a->rule_level, 1)) < 0 || (r = buf_putc(out, '}')) < 0 ||
        (r = put_kv(out, "input", a->input_name, 1)) < 0 ||
        (r = put_kv(out, "kind", a->kind ? a->kind : "rule", 1)) < 0)
        return r;
    if (a->ev) {
        if ((r = put_kv(out, "decoder", a->ev->decoder, 1)) < 0 ||
            (r = buf_puts(out, ",\"fields\":")) < 0 || (r = event_fields_json(a->ev, out)) < 0 ||
            (r = buf_puts(out, ",\"raw\":")) < 0 ||
            (r = buf_json_str(out, a->ev->raw, a->ev->raw_len)) < 0)
            return r;
    } else {
        if (a->host && (r = put_kv(out, "host", a->host, 1)) < 0)
            return r;
        if (a->details && (r = put_kv(out, "details", a->details, 1)) < 0)
            return r;
        if (a->extra_json && a->kind &&
            ((r = buf_putc(out, ',')) < 0 || (r = buf_json_str(out, a->kind, strlen(a->kind))) < 0 ||
             (r = buf_putc(out, ':')) < 0 || (r = buf_append(out, a->extra_json, a->extra_len)) < 0))
            return r;
    }
    return buf_putc(out, '}');
}
