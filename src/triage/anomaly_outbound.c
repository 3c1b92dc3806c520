/*
 * anomaly_outbound.c - what leaves the network (MISSION.md section 1: "from
 * a firewall ... investigate outbound backdoor/leak traffic").
 *
 * Three detectors over the same bounded table as the others (anomaly.c):
 *   - first external: an internal host reaching an external address (or an
 *     address on an uncommon port) it never reached before, once the host's
 *     own learning period is over, and only for hosts whose learned rate of
 *     new external destinations is low (a browsing workstation finds new
 *     addresses all day; a server that suddenly does is the signal);
 *   - outbound volume: an internal host's bytes to external addresses in an
 *     hour, against an EWMA baseline per hour of day (weekday, weekend), as
 *     the rate detector does for event counts;
 *   - DNS tunnelling: one internal client resolving many distinct long,
 *     high-entropy names under one registered domain within a window.
 * docs/anomaly.md has the method and every parameter.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "event/event.h"
#include "event/field.h"
#include "triage/anomaly_priv.h"

#define HOUR_US 3600000000LL
#define DAY_US (24 * HOUR_US)
#define VOL_SLOTS 48
#define VOL_GAP_FILL_HOURS 168
#define EXT_GAP_FILL_DAYS 30
#define N_MAX 65535
#define HOUR_MAX 3000000000LL /* beyond any hour of an int64 µs time */
#define DAY_MAX (HOUR_MAX / 24)
#define NAME_MAX_LEN 255 /* a DNS name is at most 253 characters */

/* Per internal host: how often it reaches new external destinations. */
struct ext_host_state {
    int64_t first_us;      /* event time of the host's first outbound record */
    int64_t day;           /* day number (UTC) being counted */
    float novel_mean;      /* mean new destinations a day, days after the first; >= 0 */
    uint32_t new_today;    /* new destinations in `day`, saturating */
    uint16_t alerts_today; /* alerts raised in `day` */
    uint16_t days;         /* days learned, saturating */
};

/* Per internal host: bytes sent to external addresses, per hour. */
struct vol_state {
    int64_t cur_hour;      /* hour number (in tz) of the open hour */
    uint64_t cur_bytes;    /* bytes so far in the open hour, saturating */
    uint8_t alerted;       /* 1 once the open hour has alerted */
    float mean[VOL_SLOTS]; /* EWMA of hourly bytes; >= 0 */
    float dev[VOL_SLOTS];  /* EWMA of |bytes - mean|; >= 0 */
    uint16_t n[VOL_SLOTS]; /* hours learned, saturating */
};

/* Per (client, registered domain): the distinct suspicious names of the
 * current window, as keyed 32-bit hashes. */
struct dns_state {
    int64_t win_start;     /* event time the window opened */
    int64_t last_alert_us; /* INT64_MIN until the first alert */
    uint64_t len_sum;      /* subdomain characters of the names kept */
    float ent_sum;         /* their entropies (bits per character) */
    uint16_t cap;          /* hashes room, 2 .. ANOMALY_DNS_NAMES_MAX */
    uint16_t nh;           /* hashes kept, <= cap */
    uint32_t h[];
};

/* ---- options ---------------------------------------------------------- */

void anomaly_outbound_opts_default(struct anomaly_opts *o)
{
    static const char *const nets[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                       "100.64.0.0/10", "fc00::/7"};

    o->ninternal = 0;
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if (asset_net_parse(nets[i], strlen(nets[i]), &o->internal[o->ninternal]) == 0)
            o->ninternal++;
    o->external_enable = 1;
    o->external_learn_us = 7 * DAY_US;
    o->external_novel_max = 2.0;
    o->external_max_alerts_per_day = 5;
    o->volume_enable = 1;
    o->volume_alpha = 0.1;
    o->volume_cold_samples = 3;
    o->volume_threshold = 5.0;
    o->volume_min_bytes = 32.0 * 1024 * 1024;
    o->volume_min_dev_ratio = 0.25;
    o->dns_enable = 1;
    o->dns_min_len = 24;
    o->dns_min_entropy = 3.5;
    o->dns_min_names = 30;
    o->dns_window_us = 10 * 60 * 1000000LL;
    o->dns_quiet_us = HOUR_US;
}

static int finite_nonneg(double x)
{
    return isfinite(x) && x >= 0.0;
}

int anomaly_outbound_opts_check(const struct anomaly_opts *o)
{
    if (o->ninternal > ANOMALY_INTERNAL_MAX)
        return -EINVAL;
    if (o->external_learn_us < 0 || !finite_nonneg(o->external_novel_max) ||
        o->external_max_alerts_per_day < 1 || o->external_max_alerts_per_day > 65535)
        return -EINVAL;
    if (!(o->volume_alpha > 0.0 && o->volume_alpha <= 1.0) || o->volume_cold_samples < 1 ||
        !(o->volume_threshold > 0.0) || !isfinite(o->volume_threshold) ||
        !finite_nonneg(o->volume_min_bytes) || !finite_nonneg(o->volume_min_dev_ratio))
        return -EINVAL;
    if (o->dns_min_len < 1 || o->dns_min_len > NAME_MAX_LEN || !finite_nonneg(o->dns_min_entropy) ||
        o->dns_min_names < 2 || o->dns_min_names > ANOMALY_DNS_NAMES_MAX || o->dns_window_us <= 0 ||
        o->dns_quiet_us < 0)
        return -EINVAL;
    return 0;
}

/* ---- keys and payloads ------------------------------------------------ */

const char *const *anomaly_outbound_fields(uint8_t kind, uint8_t sub, unsigned *ret_n)
{
    static const char *const ext[3] = {"source.ip", "destination.ip", "destination.port"};
    static const char *const host[1] = {"source.ip"};
    static const char *const dns[2] = {"source.ip", "dns.question.registered_domain"};

    if (kind == KEY_EXT && sub < EXT_SUB_COUNT) {
        *ret_n = sub == EXT_ADDR ? 2 : 3;
        return ext;
    }
    if ((kind == KEY_VOLUME || kind == KEY_EXT_HOST) && sub == 0) {
        *ret_n = 1;
        return host;
    }
    if (kind == KEY_DNS && sub == 0) {
        *ret_n = 2;
        return dns;
    }
    return NULL;
}

static size_t dns_size(unsigned cap)
{
    return sizeof(struct dns_state) + cap * sizeof(uint32_t);
}

size_t anomaly_outbound_payload(const struct anomaly *a, uint8_t kind)
{
    switch (kind) {
    case KEY_EXT: return sizeof(struct anomaly_first_state);
    case KEY_EXT_HOST: return sizeof(struct ext_host_state);
    case KEY_VOLUME: return sizeof(struct vol_state);
    case KEY_DNS: return dns_size(a->o.dns_min_names);
    default: return 0;
    }
}

/* ---- addresses -------------------------------------------------------- */

enum addr_class { ADDR_OTHER, ADDR_INTERNAL, ADDR_EXTERNAL };

/* Loopback, unspecified, link-local, multicast, reserved and broadcast
 * addresses are neither ours nor someone else's on the internet. */
static int addr_special(const struct asset_net *ip)
{
    const unsigned char *b = ip->addr;

    if (ip->family != AF_INET6)
        return b[0] == 127 || b[0] == 0 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
    if (b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
        return 1;
    for (int i = 0; i < 15; i++)
        if (b[i])
            return 0;
    return b[15] <= 1; /* :: and ::1 */
}

static enum addr_class addr_classify(const struct anomaly *a, struct anomaly_val v)
{
    struct asset_net ip;

    if (!v.n || asset_net_parse(v.p, v.n, &ip) < 0 ||
        ip.prefix != (ip.family == AF_INET6 ? 128u : 32u))
        return ADDR_OTHER;
    for (size_t i = 0; i < a->o.ninternal; i++)
        if (asset_net_contains(&a->o.internal[i], &ip))
            return ADDR_INTERNAL;
    return addr_special(&ip) ? ADDR_OTHER : ADDR_EXTERNAL;
}

/* A byte count: 1 to 19 decimal digits and nothing else; else -1. */
static int64_t parse_count(struct anomaly_val v)
{
    int64_t x = 0;

    if (v.n == 0 || v.n > 19)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        x = x * 10 + (v.p[i] - '0');
    }
    return x;
}

/* Web, DNS and NTP reach so many addresses that only the address is
 * remembered for them; any other port is remembered with the address. */
static int port_common(struct anomaly_val port)
{
    int64_t p = parse_count(port);

    return p < 0 || p == 53 || p == 80 || p == 123 || p == 443;
}

/* ---- first external destination -------------------------------------- */

static void ext_learn_day(struct ext_host_state *h, double x)
{
    double alpha = 1.0 / (h->days + 1);

    if (alpha < 0.1)
        alpha = 0.1;
    h->novel_mean = (float)(h->novel_mean + alpha * (x - h->novel_mean));
    if (h->novel_mean < 0)
        h->novel_mean = 0;
    if (h->days < N_MAX)
        h->days++;
}

/* Closes the host's days up to `day`.  The host's first day is not learned:
 * everything is new on it. */
static void ext_roll(struct ext_host_state *h, int64_t day)
{
    int64_t first_day = anomaly_floor_div(h->first_us, DAY_US), from;

    if (day <= h->day)
        return;
    if (h->day != first_day)
        ext_learn_day(h, h->new_today);
    from = h->day + 1;
    if (day - from > EXT_GAP_FILL_DAYS)
        from = day - EXT_GAP_FILL_DAYS;
    for (int64_t d = from; d < day; d++)
        if (d != first_day)
            ext_learn_day(h, 0);
    h->day = day;
    h->new_today = 0;
    h->alerts_today = 0;
}

static int ext_observe(struct anomaly *a, const struct event *ev, struct anomaly_val src,
                       struct anomaly_val dst, struct anomaly_val dport)
{
    int64_t t = ev->time_us, day = anomaly_floor_div(t, DAY_US);
    struct anomaly_key k;
    struct anomaly_entry *e;
    struct ext_host_state *h;
    int created, pair_new;
    uint8_t sub = port_common(dport) ? EXT_ADDR : EXT_PORT;

    /* The pair first: getting the host entry afterwards can evict the
     * pair, never the other way round while the host pointer is in use. */
    anomaly_key_start(&k, KEY_EXT, sub);
    anomaly_key_part(&k, src.p, src.n);
    anomaly_key_part(&k, dst.p, dst.n);
    if (sub == EXT_PORT)
        anomaly_key_part(&k, dport.p, dport.n);
    e = anomaly_entry_get(a, KEY_EXT, k.b, k.n, sizeof(struct anomaly_first_state), &pair_new);
    if (!e)
        return -ENOMEM;
    if (pair_new)
        ((struct anomaly_first_state *)e->data)->first_us = t;

    anomaly_key_start(&k, KEY_EXT_HOST, 0);
    anomaly_key_part(&k, src.p, src.n);
    e = anomaly_entry_get(a, KEY_EXT_HOST, k.b, k.n, sizeof(struct ext_host_state), &created);
    if (!e)
        return -ENOMEM;
    h = (struct ext_host_state *)e->data;
    if (created) {
        h->first_us = t;
        h->day = day;
    }
    ext_roll(h, day);
    if (!pair_new)
        return 0;
    if (h->new_today < UINT32_MAX)
        h->new_today++;
    if (t < h->first_us || anomaly_span_us(h->first_us, t) < (uint64_t)a->o.external_learn_us ||
        h->novel_mean > a->o.external_novel_max ||
        h->alerts_today >= a->o.external_max_alerts_per_day)
        return 0;
    h->alerts_today++;
    {
        struct anomaly_alert al;

        memset(&al, 0, sizeof(al));
        al.kind = ANOMALY_FIRST_EXTERNAL;
        al.what = "first_seen_external";
        al.time_us = t;
        anomaly_set_entity(&al, "source.ip", src);
        anomaly_set_entity(&al, "destination.ip", dst);
        if (sub == EXT_PORT)
            anomaly_set_entity(&al, "destination.port", dport);
        al.observed = 1;
        al.score = 1;
        al.mean = h->novel_mean;
        al.learned = h->days;
        al.learn_end_us = h->first_us > INT64_MAX - a->o.external_learn_us
                              ? INT64_MAX
                              : h->first_us + a->o.external_learn_us;
        return anomaly_alert_emit(a, &al);
    }
}

/* ---- outbound volume -------------------------------------------------- */

static double vol_dev_eff(const struct anomaly_opts *o, double mean, double dev)
{
    double floor = o->volume_min_dev_ratio * mean;

    return dev > floor ? dev : floor;
}

static void vol_learn(const struct anomaly_opts *o, struct vol_state *v, int s, double x)
{
    double m = v->mean[s], d = v->dev[s];
    unsigned n = v->n[s];

    /* As for the rate: an hour above the threshold is learned only up to
     * it, so that one leak does not teach the baseline the next. */
    if (n && n >= o->volume_cold_samples) {
        double lim = m + o->volume_threshold * vol_dev_eff(o, m, d);
        if (x > lim && lim >= o->volume_min_bytes)
            x = lim;
    }
    v->n[s] = (uint16_t)anomaly_ewma_learn(&v->mean[s], &v->dev[s], n, N_MAX, o->volume_alpha, x);
}

static int vol_observe(struct anomaly *a, const struct event *ev, struct anomaly_val host,
                       int64_t bytes, struct anomaly_val peer)
{
    int64_t hour = anomaly_local_hour(a, ev->time_us);
    struct anomaly_key k;
    struct anomaly_entry *e;
    struct vol_state *v;
    int created, s, hod, weekend;
    double dev, x;

    anomaly_key_start(&k, KEY_VOLUME, 0);
    anomaly_key_part(&k, host.p, host.n);
    e = anomaly_entry_get(a, KEY_VOLUME, k.b, k.n, sizeof(struct vol_state), &created);
    if (!e)
        return -ENOMEM;
    v = (struct vol_state *)e->data;
    if (created)
        v->cur_hour = hour;
    if (hour < v->cur_hour) {
        a->st.late++;
        return 0;
    }
    if (hour > v->cur_hour) {
        int64_t from = v->cur_hour + 1;
        vol_learn(&a->o, v, anomaly_slot_of(v->cur_hour, NULL, NULL), (double)v->cur_bytes);
        /* Hours in which the host sent nothing out were zero hours. */
        if (hour - from > VOL_GAP_FILL_HOURS)
            from = hour - VOL_GAP_FILL_HOURS;
        for (int64_t h = from; h < hour; h++)
            vol_learn(&a->o, v, anomaly_slot_of(h, NULL, NULL), 0);
        v->cur_hour = hour;
        v->cur_bytes = 0;
        v->alerted = 0;
    }
    v->cur_bytes =
        (uint64_t)bytes > UINT64_MAX - v->cur_bytes ? UINT64_MAX : v->cur_bytes + (uint64_t)bytes;
    s = anomaly_slot_of(hour, &hod, &weekend);
    x = (double)v->cur_bytes;
    if (v->alerted || v->n[s] < a->o.volume_cold_samples || x < a->o.volume_min_bytes)
        return 0;
    dev = vol_dev_eff(&a->o, v->mean[s], v->dev[s]);
    if (!(x > v->mean[s] + a->o.volume_threshold * dev))
        return 0;
    v->alerted = 1;
    {
        struct anomaly_alert al;

        memset(&al, 0, sizeof(al));
        al.kind = ANOMALY_OUTBOUND_VOLUME;
        al.what = "outbound_volume";
        al.time_us = ev->time_us;
        anomaly_set_entity(&al, "source.ip", host);
        al.mean = v->mean[s];
        al.dev = dev;
        al.observed = x;
        /* A zero deviation (a host that never sent anything in this slot)
         * has no scale: the score is then the excess over the floor. */
        al.score = dev > 0 ? (x - al.mean) / dev
                           : x / (a->o.volume_min_bytes > 0 ? a->o.volume_min_bytes : 1);
        al.learned = v->n[s];
        al.slot_hour = hod;
        al.slot_weekend = weekend;
        al.sample = peer.p;
        al.sample_len = peer.n;
        return anomaly_alert_emit(a, &al);
    }
}

/* ---- DNS tunnelling --------------------------------------------------- */

/* Second-level labels under which country-code registries sell names
 * (example.co.uk): without a public suffix list these make the registered
 * domain three labels long. */
static int sld_generic(const char *p, size_t n)
{
    static const char *const sld[] = {"ac",  "co", "com", "edu", "gob", "gov", "go", "ltd",
                                      "mil", "ne", "net", "or",  "org", "plc", "sch"};

    for (size_t i = 0; i < sizeof(sld) / sizeof(sld[0]); i++)
        if (strlen(sld[i]) == n && memcmp(sld[i], p, n) == 0)
            return 1;
    return 0;
}

/*
 * Splits a lower-case name without its trailing dot into the subdomain
 * (name[0 .. *ret_sub_n)) and the registered domain (from *ret_reg).
 * Returns 0, or -1 when the name has no subdomain or is a reverse lookup
 * (.arpa: its labels are digits or nibbles by design).
 */
static int dns_split(const char *name, size_t n, size_t *ret_sub_n, size_t *ret_reg)
{
    size_t dots[3], nd = 0, keep;

    for (size_t i = n; i-- > 0 && nd < 3;)
        if (name[i] == '.')
            dots[nd++] = i;
    if (nd < 2)
        return -1;
    if (n - dots[0] - 1 == 4 && memcmp(name + dots[0] + 1, "arpa", 4) == 0)
        return -1;
    keep = 1; /* the registered domain starts after dots[keep] */
    if (n - dots[0] - 1 == 2 && sld_generic(name + dots[1] + 1, dots[0] - dots[1] - 1))
        keep = 2;
    if (keep >= nd)
        return -1;
    *ret_reg = dots[keep] + 1;
    *ret_sub_n = dots[keep];
    return *ret_sub_n ? 0 : -1;
}

/* Shannon entropy in bits per character of s, dots not counted; *ret_len
 * gets the characters counted. */
static double dns_entropy(const char *s, size_t n, size_t *ret_len)
{
    unsigned cnt[256];
    size_t len = 0;
    double h = 0;

    memset(cnt, 0, sizeof(cnt));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            continue;
        cnt[(unsigned char)s[i]]++;
        len++;
    }
    *ret_len = len;
    if (len == 0)
        return 0;
    for (int c = 0; c < 256; c++) {
        if (cnt[c]) {
            double p = (double)cnt[c] / (double)len;
            h -= p * log2(p);
        }
    }
    return h;
}

static int dns_observe(struct anomaly *a, const struct event *ev, struct anomaly_val client)
{
    struct anomaly_val q = anomaly_get(ev, a->id_dns_name), ty = anomaly_get(ev, a->id_dns_type);
    char name[NAME_MAX_LEN + 1] = {0};
    size_t n = 0, sub_n, reg, len;
    double ent;
    int64_t t = ev->time_us;
    struct anomaly_key k;
    struct anomaly_entry *e;
    struct dns_state *d;
    uint32_t hv;
    int created;

    /* Answers repeat their query (and EVE gives them the server as source). */
    if (!q.n || anomaly_val_is(ty, "answer") || anomaly_val_is(ty, "response"))
        return 0;
    for (size_t i = 0; i < q.n && n < NAME_MAX_LEN; i++) {
        char c = q.p[i];
        name[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    while (n && name[n - 1] == '.')
        n--;
    name[n] = '\0';
    if (dns_split(name, n, &sub_n, &reg) < 0)
        return 0;
    ent = dns_entropy(name, sub_n, &len);
    if (len < a->o.dns_min_len || ent < a->o.dns_min_entropy)
        return 0;

    anomaly_key_start(&k, KEY_DNS, 0);
    anomaly_key_part(&k, client.p, client.n);
    anomaly_key_part(&k, name + reg, n - reg);
    e = anomaly_entry_get(a, KEY_DNS, k.b, k.n, dns_size(a->o.dns_min_names), &created);
    if (!e)
        return -ENOMEM;
    d = (struct dns_state *)e->data;
    if (created) {
        d->win_start = t;
        d->last_alert_us = INT64_MIN;
        d->cap = (uint16_t)a->o.dns_min_names;
    }
    if (t >= d->win_start && anomaly_span_us(d->win_start, t) >= (uint64_t)a->o.dns_window_us) {
        d->win_start = t;
        d->nh = 0;
        d->len_sum = 0;
        d->ent_sum = 0;
    }
    hv = (uint32_t)anomaly_key_hash(a, (const unsigned char *)name, n);
    for (unsigned i = 0; i < d->nh; i++)
        if (d->h[i] == hv)
            return 0;
    if (d->nh >= d->cap)
        return 0;
    d->h[d->nh++] = hv;
    d->len_sum += len;
    d->ent_sum += (float)ent;
    if (d->nh < a->o.dns_min_names)
        return 0;
    if (d->last_alert_us != INT64_MIN &&
        (t < d->last_alert_us ||
         anomaly_span_us(d->last_alert_us, t) < (uint64_t)a->o.dns_quiet_us))
        return 0;
    d->last_alert_us = t;
    {
        struct anomaly_alert al;
        struct anomaly_val dom = {name + reg, n - reg};

        memset(&al, 0, sizeof(al));
        al.kind = ANOMALY_DNS_TUNNEL;
        al.what = "dns_tunnel";
        al.time_us = t;
        anomaly_set_entity(&al, "source.ip", client);
        anomaly_set_entity(&al, "dns.question.registered_domain", dom);
        al.observed = d->nh;
        al.mean = (double)d->len_sum / d->nh;
        al.dev = d->ent_sum / d->nh;
        al.learned = (uint32_t)(a->o.dns_window_us / 1000000);
        al.score = (double)d->nh / a->o.dns_min_names;
        al.sample = name;
        al.sample_len = n;
        return anomaly_alert_emit(a, &al);
    }
}

/* ---- observe ---------------------------------------------------------- */

int anomaly_outbound_observe(struct anomaly *a, const struct event *ev)
{
    struct anomaly_val src = anomaly_get(ev, FIELD_SOURCE_IP);
    struct anomaly_val dst = anomaly_get(ev, FIELD_DESTINATION_IP);
    enum addr_class sc, dc;
    int r = 0;

    if (!src.n)
        return 0;
    sc = addr_classify(a, src);
    if (sc != ADDR_INTERNAL && !dst.n)
        return 0;
    dc = dst.n ? addr_classify(a, dst) : ADDR_OTHER;
    if (a->o.dns_enable && sc == ADDR_INTERNAL)
        r = dns_observe(a, ev, src);
    /* A record of traffic the firewall refused says nothing left. */
    if (r < 0 || anomaly_val_is(anomaly_get(ev, FIELD_EVENT_TYPE), "denied"))
        return r;
    if (sc == ADDR_INTERNAL && dc == ADDR_EXTERNAL) {
        /* Volume first: when both fire on one record, the incident the
         * volume alert opens is there for the new destination to join. */
        if (a->o.volume_enable) {
            int64_t b = parse_count(anomaly_get(ev, FIELD_SOURCE_BYTES));
            if (b >= 0)
                r = vol_observe(a, ev, src, b, dst);
        }
        if (r >= 0 && a->o.external_enable)
            r = ext_observe(a, ev, src, dst, anomaly_get(ev, FIELD_DESTINATION_PORT));
    } else if (sc == ADDR_EXTERNAL && dc == ADDR_INTERNAL && a->o.volume_enable) {
        /* A connection from outside: what our side answered left too (an
         * intruder pulling files from a server it reached). */
        int64_t b = parse_count(anomaly_get(ev, FIELD_DESTINATION_BYTES));
        if (b >= 0)
            r = vol_observe(a, ev, dst, b, src);
    }
    return r;
}

/* ---- save and restore ------------------------------------------------- */

void anomaly_outbound_save(struct anomaly_wr *w, const struct anomaly_entry *e)
{
    if (anomaly_entry_kind(e) == KEY_EXT) {
        anomaly_w_uint(w, (uint64_t)((const struct anomaly_first_state *)e->data)->first_us, 8);
    } else if (anomaly_entry_kind(e) == KEY_EXT_HOST) {
        const struct ext_host_state *h = (const struct ext_host_state *)e->data;
        anomaly_w_uint(w, (uint64_t)h->first_us, 8);
        anomaly_w_uint(w, (uint64_t)h->day, 8);
        anomaly_w_f32(w, h->novel_mean);
        anomaly_w_uint(w, h->new_today, 4);
        anomaly_w_uint(w, h->alerts_today, 2);
        anomaly_w_uint(w, h->days, 2);
    } else if (anomaly_entry_kind(e) == KEY_VOLUME) {
        const struct vol_state *v = (const struct vol_state *)e->data;
        anomaly_w_uint(w, (uint64_t)v->cur_hour, 8);
        anomaly_w_uint(w, v->cur_bytes, 8);
        anomaly_w_uint(w, v->alerted, 1);
        for (int s = 0; s < VOL_SLOTS; s++)
            anomaly_w_f32(w, v->mean[s]);
        for (int s = 0; s < VOL_SLOTS; s++)
            anomaly_w_f32(w, v->dev[s]);
        for (int s = 0; s < VOL_SLOTS; s++)
            anomaly_w_uint(w, v->n[s], 2);
    } else if (anomaly_entry_kind(e) == KEY_DNS) {
        const struct dns_state *d = (const struct dns_state *)e->data;
        anomaly_w_uint(w, (uint64_t)d->win_start, 8);
        anomaly_w_uint(w, (uint64_t)d->last_alert_us, 8);
        anomaly_w_uint(w, d->len_sum, 8);
        anomaly_w_f32(w, d->ent_sum);
        anomaly_w_uint(w, d->nh, 2);
        for (unsigned i = 0; i < d->nh; i++)
            anomaly_w_uint(w, d->h[i], 4);
    }
}

int anomaly_outbound_restore(const struct anomaly *a, struct anomaly_rd *r, uint8_t kind,
                             void *payload)
{
    if (kind == KEY_EXT) {
        ((struct anomaly_first_state *)payload)->first_us = (int64_t)anomaly_r_uint(r, 8);
    } else if (kind == KEY_EXT_HOST) {
        struct ext_host_state *h = payload;
        h->first_us = (int64_t)anomaly_r_uint(r, 8);
        h->day = (int64_t)anomaly_r_uint(r, 8);
        h->novel_mean = anomaly_r_f32(r);
        h->new_today = (uint32_t)anomaly_r_uint(r, 4);
        h->alerts_today = (uint16_t)anomaly_r_uint(r, 2);
        h->days = (uint16_t)anomaly_r_uint(r, 2);
        /* Day arithmetic (gap filling) must not overflow. */
        if (!r->msg && (h->day > DAY_MAX || h->day < -DAY_MAX))
            return anomaly_r_fail(r, "anomaly state host entry with an impossible day");
    } else if (kind == KEY_VOLUME) {
        struct vol_state *v = payload;
        uint64_t alerted;
        v->cur_hour = (int64_t)anomaly_r_uint(r, 8);
        v->cur_bytes = anomaly_r_uint(r, 8);
        alerted = anomaly_r_uint(r, 1);
        for (int s = 0; s < VOL_SLOTS; s++)
            v->mean[s] = anomaly_r_f32(r);
        for (int s = 0; s < VOL_SLOTS; s++)
            v->dev[s] = anomaly_r_f32(r);
        for (int s = 0; s < VOL_SLOTS; s++)
            v->n[s] = (uint16_t)anomaly_r_uint(r, 2);
        if (r->msg)
            return -EINVAL;
        if (alerted > 1)
            return anomaly_r_fail(r, "anomaly state volume entry with an invalid flag");
        v->alerted = (uint8_t)alerted;
        if (v->cur_hour > HOUR_MAX || v->cur_hour < -HOUR_MAX)
            return anomaly_r_fail(r, "anomaly state volume entry with an impossible hour");
    } else if (kind == KEY_DNS) {
        struct dns_state *d = payload;
        unsigned nh, cap = a->o.dns_min_names;
        d->win_start = (int64_t)anomaly_r_uint(r, 8);
        d->last_alert_us = (int64_t)anomaly_r_uint(r, 8);
        d->len_sum = anomaly_r_uint(r, 8);
        d->ent_sum = anomaly_r_f32(r);
        nh = (unsigned)anomaly_r_uint(r, 2);
        if (r->msg)
            return -EINVAL;
        if (nh > ANOMALY_DNS_NAMES_MAX)
            return anomaly_r_fail(r, "anomaly state DNS entry with too many names");
        if ((r->len - r->off) / 4 < nh)
            return anomaly_r_fail(r, "truncated anomaly state");
        d->cap = (uint16_t)cap;
        /* A smaller dns_min_names now keeps the first names. */
        for (unsigned i = 0; i < nh; i++) {
            uint32_t hv = (uint32_t)anomaly_r_uint(r, 4);
            if (d->nh < cap)
                d->h[d->nh++] = hv;
        }
    } else {
        return anomaly_r_fail(r, "anomaly state entry of an unknown kind");
    }
    return r->msg ? -EINVAL : 0;
}
