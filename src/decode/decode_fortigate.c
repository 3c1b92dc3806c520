/*
 * decode_fortigate.c - FortiGate key=value logs.
 *
 * One pass reads the pairs: those with an ECS name into a table of the
 * keys we map (the first occurrence wins), the others into a list kept
 * under their own key.  The ECS fields are derived from the table
 * afterwards, when type and action are both known; nothing is added before
 * the shape (logid= and type= present, quotes closed) is known, so that
 * -ENOENT adds nothing.  Field interning is most of a record's cost, hence
 * a mapped pair is not also kept under its raw name; the names it adds are
 * resolved to ids without hashing on most records: this file's own by a
 * per-thread table of their ids, a pair's key by comparing it with the key
 * that followed the same predecessor last time (decode_fieldid.h, issue
 * 24).
 */
#include "decode/decode_fortigate.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"

#define LIT(s) s, sizeof(s) - 1

/* Pairs kept under their own key; FortiOS writes 30 to 80 a line, more
 * are dropped (the ECS-mapped ones are read whatever the count). */
#define FORTIGATE_MAX_PAIRS 128

/* The keys the ECS mapping reads. */
enum fg_key {
    FG_ACTION,
    FG_APP,
    FG_ATTACK,
    FG_ATTACKID,
    FG_DEVID,
    FG_DEVNAME,
    FG_DSTINTF,
    FG_DSTIP,
    FG_DSTPORT,
    FG_FILENAME,
    FG_HOSTNAME,
    FG_LEVEL,
    FG_LOGDESC,
    FG_LOGID,
    FG_POLICYID,
    FG_POLICYNAME,
    FG_PROTO,
    FG_RCVDBYTE,
    FG_REASON,
    FG_REMIP,
    FG_SENTBYTE,
    FG_SEVERITY,
    FG_SRCINTF,
    FG_SRCIP,
    FG_SRCPORT,
    FG_STATUS,
    FG_SUBTYPE,
    FG_TRANSIP,
    FG_TRANSPORT,
    FG_TYPE,
    FG_URL,
    FG_USER,
    FG_VIRUS,
    /* Read for the device's time, and kept under their own names too. */
    FG_EVENTTIME,
    FG_DATE,
    FG_TIME,
    FG_NKEYS
};
/* The keys before this one are mapped to ECS names and not kept as
 * written (but for a repeat). */
#define FG_NMAPPED FG_EVENTTIME

/* Names with their lengths, in enum order. */
#define FG_NAME(s)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct {
    const char *s;
    size_t n;
} fg_names[FG_NKEYS] = {
    FG_NAME("action"),    FG_NAME("app"),       FG_NAME("attack"),   FG_NAME("attackid"),
    FG_NAME("devid"),     FG_NAME("devname"),   FG_NAME("dstintf"),  FG_NAME("dstip"),
    FG_NAME("dstport"),   FG_NAME("filename"),  FG_NAME("hostname"), FG_NAME("level"),
    FG_NAME("logdesc"),   FG_NAME("logid"),     FG_NAME("policyid"), FG_NAME("policyname"),
    FG_NAME("proto"),     FG_NAME("rcvdbyte"),  FG_NAME("reason"),   FG_NAME("remip"),
    FG_NAME("sentbyte"),  FG_NAME("severity"),  FG_NAME("srcintf"),  FG_NAME("srcip"),
    FG_NAME("srcport"),   FG_NAME("status"),    FG_NAME("subtype"),  FG_NAME("transip"),
    FG_NAME("transport"), FG_NAME("type"),      FG_NAME("url"),      FG_NAME("user"),
    FG_NAME("virus"),     FG_NAME("eventtime"), FG_NAME("date"),     FG_NAME("time"),
};

struct fg_pair {
    struct decode_span k, v;
    uint32_t h;                     /* the key's hash, see FG_SLOT */
    int key;                        /* key_index(), -1 for a key the mapping does not read */
    struct decode_fieldid_guess *g; /* the guess that holds this key */
    int guessed;                    /* 1: the key came from g, 0: g was filled with it */
};

/* The key's hash, from its length and its first, middle and last bytes
 * (a few loads once the key is read, where a hash of every byte cost more
 * than the rest of the scan), picks a slot of fg_slots; each name of
 * fg_names has its own slot, so a lookup is one comparison
 * (test_decode_fortigate's test_all_keys checks every name is found).  A
 * name added means choosing the slots again: any mix of these bytes where
 * the names do not collide. */
/* An empty slot of fg_slots. */
#define FG_NONE 255
#define FG_HASH(k, n)                                                                              \
    ((unsigned char)(k)[0] ^ (unsigned char)(k)[(n)-1] * 5u ^ (unsigned char)(k)[(n) / 2] * 5u ^   \
     (uint32_t)(n))
#define FG_SLOT(h) ((h)&255u)
static const unsigned char fg_slots[256] = {
    24,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 28,      FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, 25,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, 7,       FG_NONE, 8,       FG_NONE, FG_NONE, FG_NONE, FG_NONE, 21,      FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 11,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 0,       FG_NONE, FG_NONE, FG_NONE,
    30,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 1,       14,
    FG_NONE, 27,      19,      FG_NONE, 20,      17,      FG_NONE, FG_NONE, FG_NONE, 18,
    FG_NONE, FG_NONE, 12,      FG_NONE, 3,       FG_NONE, FG_NONE, 16,      32,      FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 22,      FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, 6,       FG_NONE, FG_NONE, FG_NONE, FG_NONE, 2,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 13,      FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 35,      23,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 9,       31,      FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 29,      FG_NONE, FG_NONE, 5,       FG_NONE,
    FG_NONE, 10,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, 26,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 33,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, 4,
    FG_NONE, 34,      15,      FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
    FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE, FG_NONE,
};

static uint64_t load8(const char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static uint32_t load4(const char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

/* 1 if the n bytes at a and b are the same: two words each for n from 4
 * to 16 (the first and last 4 or 8 bytes cover them all), no call to
 * memcmp (which was 7 % of a line's instructions). */
static int same(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    if (n >= 4 && n < 8)
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    return memcmp(a, b, n) == 0;
}

static int key_index(const struct fg_pair *kp)
{
    int k = fg_slots[FG_SLOT(kp->h)];

    if (k == FG_NONE || fg_names[k].n != kp->k.n || !same(fg_names[k].s, kp->k.p, kp->k.n))
        return -1;
    return k;
}

/* The guess of each key (decode_fieldid.h): FortiOS writes each log
 * type's keys in one order; aux is the key's key_index(). */
#define FG_GUESS_BITS 10
static _Thread_local struct decode_fieldid_guess fg_guesses[1u << FG_GUESS_BITS];

/*
 * The pair at *pos (past blanks): returns 1 with *kp filled, 0 for a word
 * that is not a pair (skipped), -1 at the end, -2 at an unclosed quote
 * (*pos then at its opening).
 */
static int next_pair(const char *p, size_t len, size_t *pos, struct fg_pair *kp,
                     struct decode_fieldid_guess *g) /* the set of two */
{
    size_t i = *pos, k0;

    /* A key's bytes are above ' ': one compare ends the skip there. */
    while (i < len && (unsigned char)p[i] <= ' ' && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i >= len)
        return -1;
    k0 = i;
    if ((kp->k.n = decode_fieldid_guess_key(g, p + k0, len - k0, '=', &kp->g))) {
        /* The key the guess holds: its bytes are those of a key read
         * before (key bytes all), the byte after them is '=', so
         * decode_util_scan_key() would end there too; its mapping is the
         * guess's. */
        kp->k.p = p + k0;
        kp->key = kp->g->aux;
        kp->guessed = 1;
        i = k0 + kp->k.n;
    } else {
        i = decode_util_scan_key(p, i, len);
        if (i == k0 || i >= len || p[i] != '=') {
            while (i < len && p[i] != ' ' && p[i] != '\t')
                i++;
            *pos = i;
            return 0;
        }
        kp->k.p = p + k0;
        kp->k.n = i - k0;
        kp->h = (uint32_t)FG_HASH(kp->k.p, kp->k.n);
        kp->key = key_index(kp);
        kp->guessed = 0;
        kp->g = decode_fieldid_guess_keep(g, kp->k.p, kp->k.n, kp->key);
    }
    i++;
    if (i < len && p[i] == '"') {
        /* The closing quote inline, 16 bytes a step (memchr's call cost
         * more than the scan of a value of a few bytes). */
        size_t q = decode_util_scan_to(p, i + 1, len, '"');
        if (q >= len) {
            *pos = i;
            return -2;
        }
        kp->v.p = p + i + 1;
        kp->v.n = q - (i + 1);
        i = q + 1;
    } else {
        size_t v0 = i;
        i = decode_util_scan_to2(p, i, len, ' ', '\t');
        kp->v.p = p + v0;
        kp->v.n = i - v0;
    }
    *pos = i;
    return 1;
}

/* The key kept as written that followed each kept key at each place (the
 * first of a record follows id 0) the last time, in slots by
 * decode_fieldid_memo_slot(): a FortiGate log type writes its keys in one
 * order. */
#define FG_MEMO 1024
static _Thread_local struct decode_fieldid_memo fg_memo[FG_MEMO];

/* decode_util_add_named() for a kept pair, the place-th, its name's id from
 * the memo of its predecessor (*prev, then its own id) and place or else the per-thread cache
 * (decode_fieldid.h): the dictionary's mutex and hash for each of a
 * record's 30 to 80 names were a third of its cost (issue 24). */
static int fg_add_kept(struct event *ev, const struct fg_pair *kp, size_t place, uint32_t *prev,
                       uint32_t gen, int guessed)
{
    if (!kp->v.n)
        return 0;
    /* The id the key's guess holds, if it still holds this key: another
     * pair of the line may have taken its slot since, but only one whose
     * key was not guessed (a guess that hits changes nothing), so with
     * every key guessed there is nothing to compare. */
    if (guessed || decode_fieldid_guess_is(kp->g, kp->k.p, kp->k.n))
        *prev =
            decode_fieldid_guess_id(kp->g, gen, fg_memo, FG_MEMO, *prev, place, kp->k.p, kp->k.n);
    else
        *prev = decode_fieldid_memo_intern(
            &fg_memo[decode_fieldid_memo_slot(*prev, place, FG_MEMO)], gen, kp->k.p, kp->k.n);
    return decode_util_add(ev, *prev, kp->v);
}

/* The product names emit_ecs() adds (no ECS constant of their own). */
enum {
    FGN_OBSERVER_NAME,
    FGN_OBSERVER_SERIAL,
    FGN_APPLICATION,
    FGN_URL_DOMAIN,
    FGN_FILE_NAME,
    FGN_NAT_IP,
    FGN_NAT_PORT,
    FGN_N
};
static const struct {
    const char *s;
    size_t n;
} fgn_names[FGN_N] = {
    [FGN_OBSERVER_NAME] = {LIT("observer.name")},
    [FGN_OBSERVER_SERIAL] = {LIT("observer.serial_number")},
    [FGN_APPLICATION] = {LIT("network.application")},
    [FGN_URL_DOMAIN] = {LIT("url.domain")},
    [FGN_FILE_NAME] = {LIT("file.name")},
    [FGN_NAT_IP] = {LIT("source.nat.ip")},
    [FGN_NAT_PORT] = {LIT("source.nat.port")},
};
/* Their ids per thread, each for the dictionary generation that gave it
 * (a refusal is not kept: the dictionary counts each one). */
static _Thread_local struct {
    uint32_t id, gen;
} fgn_ids[FGN_N];

/* Adds s (when not empty) under fgn_names[k]. */
__attribute__((always_inline)) static inline int fg_add_named(struct event *ev, int k, uint32_t gen,
                                                              struct decode_span s)
{
    if (!s.n)
        return 0;
    if (fgn_ids[k].gen != gen || fgn_ids[k].id == FIELD_NONE) {
        uint32_t id = decode_fieldid_intern(fgn_names[k].s, fgn_names[k].n);

        if (id == FIELD_NONE)
            return decode_util_add(ev, id, s);
        fgn_ids[k].id = id;
        fgn_ids[k].gen = gen;
    }
    return decode_util_add(ev, fgn_ids[k].id, s);
}

/* 1 if s is the literal lit.  Inlined, so that strlen() and memcmp() of a
 * literal are constants and a few loads (the byte loop it replaced was
 * 190 instructions a line, issue 24); lit holds no NUL but its end. */
__attribute__((always_inline)) static inline int is(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static int ends(struct decode_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

/* 1 success, 0 failure, -1 unknown. */
static int outcome(const struct decode_span *t)
{
    /* With their lengths: strlen() and a memcmp() call for each of 16
     * words was 100 instructions a line (issue 24). */
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {{LIT("deny")},    {LIT("block")}, {LIT("blocked")},
               {LIT("dropped")}, {LIT("drop")},  {LIT("reset")}},
      good[] = {{LIT("accept")}, {LIT("allow")},    {LIT("pass")},       {LIT("passthrough")},
                {LIT("close")},  {LIT("timeout")},  {LIT("client-rst")}, {LIT("server-rst")},
                {LIT("permit")}, {LIT("monitored")}};
    struct decode_span a = t[FG_ACTION], st = t[FG_STATUS];

    if (is(st, "failed") || is(st, "failure") || ends(a, "-fail"))
        return 0;
    if (is(st, "success"))
        return 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (a.n == bad[i].n && memcmp(a.p, bad[i].s, a.n) == 0)
            return 0;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (a.n == good[i].n && memcmp(a.p, good[i].s, a.n) == 0)
            return 1;
    return -1;
}

static int check_addr(const char *p, struct decode_span v, int port, struct parse_err *reterr)
{
    if (!v.n)
        return 0;
    if (port ? decode_util_is_port(v.p, v.n) : decode_util_is_ip(v.p, v.n))
        return 0;
    parse_err_set(reterr, (size_t)(v.p - p),
                  port ? "FortiGate port is not a port" : "FortiGate address is not an address");
    return -EINVAL;
}

static int emit_ecs(struct event *ev, const struct decode_span *t, uint32_t gen)
{
    struct decode_span type = t[FG_TYPE], sub = t[FG_SUBTYPE], act = t[FG_ACTION];
    const char *ds = "fortigate.other", *cat = NULL;
    int traffic = is(type, "traffic"), utm = is(type, "utm"), o = outcome(t), r;

    if (traffic)
        ds = "fortigate.traffic", cat = "network";
    else if (utm) {
        ds = "fortigate.utm";
        if (is(sub, "ips") || is(sub, "anomaly"))
            cat = "intrusion_detection";
        else if (is(sub, "virus"))
            cat = "malware";
        else if (is(sub, "webfilter"))
            cat = "web";
        else
            cat = "network";
    } else if (is(type, "event")) {
        ds = "fortigate.event";
        if (is(sub, "vpn") || is(sub, "user") || is(act, "login") || is(act, "logout") ||
            ends(act, "-fail") || ends(act, "login"))
            cat = "authentication";
    }
    if ((r = decode_util_add(ev, FIELD_OBSERVER_VENDOR, decode_util_cstr("Fortinet"))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr("FortiGate"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr(ds))) < 0 ||
        (cat && (r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr(cat))) < 0) ||
        (r = fg_add_named(ev, FGN_OBSERVER_NAME, gen, t[FG_DEVNAME])) < 0 ||
        (r = fg_add_named(ev, FGN_OBSERVER_SERIAL, gen, t[FG_DEVID])) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_CODE, t[FG_LOGID])) < 0 ||
        (r = decode_util_add(ev, FIELD_LOG_LEVEL, t[FG_LEVEL])) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_IP, t[FG_SRCIP].n ? t[FG_SRCIP] : t[FG_REMIP])) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_PORT, t[FG_SRCPORT])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_IP, t[FG_DSTIP])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_PORT, t[FG_DSTPORT])) < 0 ||
        (r = decode_util_add(ev, FIELD_NETWORK_TRANSPORT,
                             decode_util_iana_transport(t[FG_PROTO]))) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_INGRESS_INTERFACE, t[FG_SRCINTF])) < 0 ||
        (r = decode_util_add(ev, FIELD_OBSERVER_EGRESS_INTERFACE, t[FG_DSTINTF])) < 0 ||
        (r = decode_util_add(ev, FIELD_SOURCE_BYTES, t[FG_SENTBYTE])) < 0 ||
        (r = decode_util_add(ev, FIELD_DESTINATION_BYTES, t[FG_RCVDBYTE])) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, t[FG_USER])) < 0 ||
        (r = fg_add_named(ev, FGN_APPLICATION, gen, t[FG_APP])) < 0 ||
        (r = fg_add_named(ev, FGN_URL_DOMAIN, gen, t[FG_HOSTNAME])) < 0 ||
        (r = decode_util_add(ev, FIELD_URL_ORIGINAL, t[FG_URL])) < 0 ||
        (r = fg_add_named(ev, FGN_FILE_NAME, gen, t[FG_FILENAME])) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_SEVERITY, t[FG_SEVERITY])) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_ACTION, act)) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_REASON,
                             t[FG_REASON].n ? t[FG_REASON] : t[FG_LOGDESC])) < 0)
        return r;
    if (t[FG_TRANSIP].n && !is(t[FG_TRANSIP], "0.0.0.0") &&
        ((r = fg_add_named(ev, FGN_NAT_IP, gen, t[FG_TRANSIP])) < 0 ||
         (!is(t[FG_TRANSPORT], "0") &&
          (r = fg_add_named(ev, FGN_NAT_PORT, gen, t[FG_TRANSPORT])) < 0)))
        return r;
    /* The rule: the attack for IPS, the virus for AV, else the policy. */
    if (is(sub, "ips") && t[FG_ATTACK].n) {
        if ((r = decode_util_add(ev, FIELD_RULE_NAME, t[FG_ATTACK])) < 0 ||
            (r = decode_util_add(ev, FIELD_RULE_ID, t[FG_ATTACKID])) < 0)
            return r;
    } else if (is(sub, "virus") && t[FG_VIRUS].n) {
        if ((r = decode_util_add(ev, FIELD_RULE_NAME, t[FG_VIRUS])) < 0)
            return r;
    } else if ((r = decode_util_add(ev, FIELD_RULE_ID, t[FG_POLICYID])) < 0 ||
               (r = decode_util_add(ev, FIELD_RULE_NAME, t[FG_POLICYNAME])) < 0) {
        return r;
    }
    if (o >= 0) {
        if ((r = decode_util_add(ev, FIELD_EVENT_OUTCOME,
                                 decode_util_cstr(o ? "success" : "failure"))) < 0)
            return r;
        if ((traffic || utm) &&
            (r = decode_util_add(ev, FIELD_EVENT_TYPE,
                                 decode_util_cstr(o ? "allowed" : "denied"))) < 0)
            return r;
    }
    return 0;
}

/* The value of the first kept pair named (key, kn), or an empty span. */
static struct decode_span rest_get(const struct fg_pair *rest, size_t n, const char *key, size_t kn)
{
    for (size_t i = 0; i < n; i++)
        if (rest[i].k.n == kn && same(rest[i].k.p, key, kn))
            return rest[i].v;
    return (struct decode_span){NULL, 0};
}

/*
 * The firewall's own time, instead of the syslog header's: eventtime=
 * (since the epoch: seconds in FortiOS 6.0-6.2, nanoseconds or
 * microseconds later; told apart by magnitude), else date= and time= in
 * the firewall's local time, in the zone of its tz= ("+0200", FortiOS 6.2
 * on) or, without one, in the context's `timezone` as every zoneless time
 * is.  A value that is no time (a 13th month, letters, 0) is passed over;
 * with none, the header's time stays.
 */
static int set_device_time(struct event *ev, const struct decode_span *t,
                           const struct fg_pair *rest, size_t n, const struct decode_ctx *ctx)
{
    /* eventtime, date and time: the first kept pair of each, from the table */
    struct decode_span et = t[FG_EVENTTIME], d = t[FG_DATE], tm = t[FG_TIME], z;
    char iso[32];
    size_t used, k;
    int64_t us;
    char *copy;

    if (decode_util_all_digits(et) && time_parse_epoch(et.p, et.n, &us, &used) == 0 &&
        used == et.n && us > 0)
        return event_set_time(ev, us, et.p, et.n);
    /* "YYYY-MM-DD" "hh:mm:ss" and an optional "+hhmm" */
    if (d.n != 10 || tm.n != 8)
        return 0;
    z = rest_get(rest, n, LIT("tz"));
    memcpy(iso, d.p, 10);
    iso[10] = 'T';
    memcpy(iso + 11, tm.p, 8);
    k = 19;
    if (z.n == 5 && (z.p[0] == '+' || z.p[0] == '-') &&
        decode_util_all_digits((struct decode_span){z.p + 1, 4})) {
        memcpy(iso + k, z.p, 5);
        k += 5;
    }
    if (time_parse_iso8601(iso, k, ctx ? ctx->tz : NULL, &us, &used) < 0 || used != k)
        return 0;
    if (!(copy = arena_strndup(ev->arena, iso, k)))
        return -ENOMEM;
    return event_set_time(ev, us, copy, k);
}

int decode_fortigate(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                     struct parse_err *reterr)
{
    struct decode_span t[FG_NKEYS];
    /* The pairs no ECS name takes, kept under their own key afterwards. */
    struct fg_pair rest[FORTIGATE_MAX_PAIRS];
    size_t nrest = 0, pos = 0;
    struct fg_pair kp;
    int r, have_logid = 0, have_type = 0;
    uint32_t gen, prev = 0;
    uint32_t tok = 0; /* the previous pair's guess's tok */
    uint32_t placek = 0;
    int guessed = 1; /* every key of the line came from its guess */

    /* No memmem() for "logid=" first: a line without it ends as -ENOENT
     * all the same (have_logid), and auto-detection only calls this
     * decoder for a line that holds it (decode.c). */
    if (len < 12)
        return -ENOENT;
    /* One pass reads the pairs, adding nothing yet (-ENOENT must leave the
     * event as it was). */
    memset(t, 0, sizeof(t));
    while ((r = next_pair(p, len, &pos, &kp,
                          decode_fieldid_guess_for(fg_guesses, FG_GUESS_BITS, tok + placek))) !=
           -1) {
        int k;
        if (r == -2) {
            if (!have_logid || !have_type)
                return -ENOENT;
            parse_err_set(reterr, pos, "FortiGate quoted value is not closed");
            return -EINVAL;
        }
        if (r == 0)
            continue;
        tok = kp.g->tok;
        placek += DECODE_FIELDID_GUESS_K;
        guessed &= kp.guessed;
        if ((k = kp.key) < 0) {
            if (nrest < FORTIGATE_MAX_PAIRS)
                rest[nrest++] = kp;
            continue;
        }
        have_logid |= k == FG_LOGID && kp.v.n;
        have_type |= k == FG_TYPE && kp.v.n;
        if (k >= FG_NMAPPED) {
            /* kept as written; the table holds the first one kept */
            if (nrest < FORTIGATE_MAX_PAIRS) {
                rest[nrest++] = kp;
                if (!t[k].p)
                    t[k] = kp.v;
            }
        } else if (!t[k].p)
            t[k] = kp.v;
        else if (nrest < FORTIGATE_MAX_PAIRS)
            rest[nrest++] = kp; /* a repeat: kept as written */
    }
    if (!have_logid || !have_type)
        return -ENOENT;
    if ((r = check_addr(p, t[FG_SRCIP], 0, reterr)) < 0 ||
        (r = check_addr(p, t[FG_DSTIP], 0, reterr)) < 0 ||
        (r = check_addr(p, t[FG_REMIP], 0, reterr)) < 0 ||
        (r = check_addr(p, t[FG_SRCPORT], 1, reterr)) < 0 ||
        (r = check_addr(p, t[FG_DSTPORT], 1, reterr)) < 0)
        return r;
    gen = field_generation();
    if ((r = emit_ecs(ev, t, gen)) < 0 || (r = set_device_time(ev, t, rest, nrest, ctx)) < 0)
        return r;
    for (size_t i = 0; i < nrest; i++)
        if ((r = fg_add_kept(ev, &rest[i], i, &prev, gen, guessed)) < 0)
            return r;
    ev->decoder = "fortigate";
    return 0;
}
