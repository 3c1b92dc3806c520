/*
 * fuzz_anomaly_state.c - anomaly_restore on arbitrary bytes: no crash, no
 * leak, no undefined behaviour.  The input is tried as it is and again with
 * a correct CRC-32 appended, so that the fuzzer gets past the checksum into
 * the entry parser.  A state that restores must save to a blob that
 * restores to the same bytes, and must survive events at ordinary and
 * extreme times (restored hours, times and counts are hostile too), for
 * every kind: rate, first-seen, beacon, and the outbound kinds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "event/event.h"
#include "event/field.h"
#include "triage/anomaly.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/parse_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_alert(const struct anomaly_alert *al, void *arg)
{
    struct buf *b = arg;

    /* Formatting must cope with whatever numbers a restored state yields. */
    buf_reset(b);
    if (anomaly_alert_text(al, b) != 0 || anomaly_alert_json(al, b) != 0)
        abort();
    return 0;
}

/* Observes `ev`, then hands each alert it raised (kept by the anomaly until
 * the next observe) to cb, in order. */
static int observe(struct anomaly *a, const struct event *ev,
                   int (*cb)(const struct anomaly_alert *, void *), void *arg)
{
    int r = anomaly_observe(a, ev);

    for (size_t i = 0; i < anomaly_alert_count(a); i++)
        cb(anomaly_alert_get(a, i), arg);
    return r;
}

static void exercise(struct anomaly *a)
{
    static const int64_t times[] = {1701648000000000LL,
                                    1701648000000000LL + 60000000LL,
                                    INT64_MIN,
                                    INT64_MAX,
                                    0,
                                    1701648000000000LL + 120000000LL};
    struct arena ar;
    struct event ev;
    struct buf b;

    arena_init(&ar, 0);
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        event_init(&ev, &ar, "", 0, times[i]);
        ev.decoder = "sshd";
        event_add_str(&ev, FIELD_HOST_NAME, "web01");
        event_add_str(&ev, FIELD_USER_NAME, "alice");
        event_add_str(&ev, FIELD_SOURCE_IP, "10.0.0.5");
        event_add_str(&ev, FIELD_DESTINATION_IP, "198.51.100.23");
        event_add_str(&ev, FIELD_DESTINATION_PORT, "443");
        event_add_str(&ev, FIELD_EVENT_CATEGORY, "authentication");
        event_add_str(&ev, FIELD_EVENT_ACTION, "ssh_login");
        event_add_str(&ev, FIELD_EVENT_OUTCOME, "success");
        observe(a, &ev, count_alert, &b);
        event_reset(&ev);
        /* The outbound detectors' keys as the seeds' (and a DNS name whose
         * subdomain is long and random enough to count). */
        event_init(&ev, &ar, "", 0, times[i]);
        ev.decoder = "json";
        event_add_str(&ev, FIELD_SOURCE_IP, i % 2 ? "10.1.2.3" : "10.0.0.5");
        event_add_str(&ev, FIELD_DESTINATION_IP, "203.0.113.5");
        event_add_str(&ev, FIELD_DESTINATION_PORT, "4444");
        event_add_str(&ev, FIELD_SOURCE_BYTES, "900000000");
        event_add_str(&ev, field_intern("dns.question.name", 17),
                      "7f3a9c2e41b8d05e6a1f92c4b7e3d8a0c5f1.exfil-example.com");
        observe(a, &ev, count_alert, &b);
        event_reset(&ev);
    }
    buf_done(&b);
    arena_done(&ar);
}

static void try_blob(const char *p, size_t n)
{
    struct anomaly_opts o;
    struct anomaly *a = NULL, *a2 = NULL;
    struct parse_err err;
    struct buf s1, s2;

    anomaly_opts_default(&o);
    /* Small enough that big blobs exercise eviction during restore, and a
     * short history so that longer saved ones are cut. */
    o.mem_cap = ANOMALY_MEM_CAP_MIN;
    o.beacon_history = 8;
    if (anomaly_new(&o, &a) != 0)
        return;
    if (anomaly_restore(a, p, n, &err) != 0) {
        if (!err.msg || err.off > n)
            abort();
        anomaly_free(a);
        return;
    }
    buf_init(&s1, 64u << 20);
    buf_init(&s2, 64u << 20);
    if (anomaly_save(a, &s1) == 0) {
        if (anomaly_new(&o, &a2) != 0 || anomaly_restore(a2, s1.data, s1.len, &err) != 0)
            abort(); /* what we save must restore */
        if (anomaly_save(a2, &s2) != 0 || s1.len != s2.len || memcmp(s1.data, s2.data, s1.len))
            abort();
        anomaly_free(a2);
    }
    exercise(a);
    buf_done(&s1);
    buf_done(&s2);
    anomaly_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p;
    uint32_t crc;

    try_blob((const char *)data, size);
    p = malloc(size + 4);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    crc = (uint32_t)crc32_z(0L, data, size);
    for (int i = 0; i < 4; i++)
        p[size + (size_t)i] = (char)(crc >> (8 * i));
    try_blob(p, size + 4);
    free(p);
    return 0;
}
