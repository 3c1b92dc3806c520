/*
 * bench-decoders.c - records/s of each product decoder over its sample
 * lines, side by side with the RFC 3164 header decoder on syslog lines on
 * the same machine (issue 24: no decoder below a third of its rate).
 *
 * usage: bench_decoders [ROUNDS [MATCH]]   (default 200; MATCH: only the rows
 *                                          whose label holds it, and the baseline)
 * Samples are read from $HIKESHI_SHARED/data (else ../shared/data, run from
 * the source root).  Each row's lines are loaded once; a round decodes
 * every line once, into one event on one arena reset per record, as the
 * pipeline does.  Only the decoder call is timed.
 *
 * A row whose decoder reads a syslog MSG part (BENCH_MSG) has its lines cut
 * by decode_rfc3164 first, outside the clock, and the decoder timed on the
 * message alone: that is what it costs on top of the header.  A row that
 * names `decoder` counts only the records that decoder claimed (the others
 * are still timed: declining a foreign line is part of the cost).
 *
 * Adding a decoder: one row in rows[] below (keep the baseline first) and
 * one line in bench/README.md's table.  No figure is asserted anywhere:
 * they are printed for the README.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "decode/decode.h"
#include "decode/decode_auditd.h"
#include "decode/decode_bind.h"
#include "decode/decode_db.h"
#include "decode/decode_ftp.h"
#include "decode/decode_clamav.h"
#include "decode/decode_filterlog.h"
#include "decode/decode_checkpoint.h"
#include "decode/decode_fortigate.h"
#include "decode/decode_json.h"
#include "decode/decode_zeek_tsv.h"
#include "decode/decode_kv.h"
#include "decode/decode_mikrotik.h"
#include "decode/decode_mail.h"
#include "decode/decode_vpn.h"
#include "decode/decode_panos.h"
#include "decode/decode_cisco_asa.h"
#include "decode/decode_rfc3164.h"
#include "decode/decode_srx.h"
#include "decode/decode_snort.h"
#include "decode/decode_squid.h"
#include "event/event.h"
#include "event/field.h"
#include "util/arena.h"

#define MSAMPLES                                                                                   \
    "firewall/metron/metron-platform/metron-integration-test/src/main/sample/data/"
#define LOGHUB "linux-logs/loghub/"
#define ZED "network/zed-sample-data/"
#define ZEEK_JSON                                                                                  \
    "network/Security-Datasets-apt29/datasets/compound/apt29/day1/zeek/individual_zeek_logs/"
#define BENCH_MAX_LINES 200000
#define BENCH_INLINE_LINES 2000
#define BENCH_T2026 1780272000000000LL /* 2026-06-01T00:00:00Z, µs */

enum bench_mode {
    BENCH_LINE, /* the decoder reads the whole line */
    BENCH_MSG,  /* the decoder reads the MSG part after an RFC 3164 header */
    BENCH_UNTAGGED, /* as BENCH_MSG for senders that write no tag (PAN-OS):
                       the message from the word the header took for one */
};

struct bench_row {
    const char *label;   /* as printed */
    decode_fn fn;
    enum bench_mode mode;
    const char *sample;  /* below shared/data */
    const char *decoder; /* counts only records this decoder claimed; NULL: any success */
};

/* filterlog: written from Netgate's "Filter Log Format" (the MSG part). */
static const char *const filterlog_lines[] = {
    "5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,198.51.100.7,192.0.2.10,52014,"
    "22,0,S,1234567,,64240,,mss;sackOK;TS;nop;wscale",
    "82,,,1000002620,em0,match,pass,out,4,0x0,,64,39214,0,none,17,udp,73,192.0.2.10,"
    "198.51.100.53,41234,53,53",
    "5,,,1000000103,igb1,match,block,in,4,0x0,,56,12345,0,none,1,icmp,84,203.0.113.9,192.0.2.10,"
    "request,4321,1",
    "61,,,fae559338f65e11c53669fc3642c93c2,em0,match,block,in,6,0x00,0x00000,1,udp,17,56,"
    "fe80::1:2,ff02::1:2,546,547,56",
    NULL,
};

/* snort: fast.log lines written from Snort's and Suricata's alert format. */
static const char *const snort_fast_lines[] = {
    "10/05/2017-04:33:03.383208  [**] [1:2013504:5] ET POLICY GNU/Linux APT User-Agent Outbound "
    "likely related to package management [**] [Classification: Not Suspicious Traffic] "
    "[Priority: 3] {TCP} 10.0.2.15:38732 -> 91.189.88.162:80",
    "05/31-23:59:58.000001  [**] [1:2019401:3] ET POLICY Vulnerable Java Version [**] "
    "[Classification: Potential Corporate Privacy Violation] [Priority: 1] {UDP} "
    "192.0.2.9:5353 -> 224.0.0.251:5353",
    "01/12/2026-10:00:00.5  [Drop] [**] [1:2100498:7] GPL ATTACK_RESPONSE id check returned root "
    "[**] [Classification: Potentially Bad Traffic] [Priority: 2] {ICMP} 198.51.100.4 -> "
    "192.0.2.7",
    NULL,
};

/* Mail servers: the MSG parts, written from Postfix's, Dovecot's and Exim's
 * documented messages. */
static const char *const postfix_lines[] = {
    "warning: unknown[203.0.113.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
    "4BC8A1F2C3: client=laptop.example.org[192.0.2.44], sasl_method=PLAIN, sasl_username=bob",
    "NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <x@example.com>: Relay access "
    "denied; from=<spam@example.net> to=<x@example.com> proto=ESMTP helo=<win-abc>",
    "connect from unknown[203.0.113.7]",
    NULL,
};
static const char *const dovecot_lines[] = {
    "imap-login: Aborted login (auth failed, 3 attempts in 15 secs): user=<alice>, "
    "method=PLAIN, rip=203.0.113.7, lip=192.0.2.10, TLS, session=<AbCdEf>",
    "imap-login: Login: user=<carol>, method=PLAIN, rip=198.51.100.3, lip=192.0.2.10, "
    "mpid=4242, TLS, session=<x>",
    "auth: pam(alice,203.0.113.7,<AbCdEf>): pam_authenticate() failed: Authentication failure "
    "(password mismatch?)",
    NULL,
};
static const char *const exim_lines[] = {
    "2024-03-01 10:11:12 dovecot_login authenticator failed for (User) [203.0.113.7]:54321: "
    "535 Incorrect authentication data (set_id=alice@example.org)",
    "H=(win-abc) [203.0.113.9]:61000 F=<spam@example.net> rejected RCPT <x@example.com>: "
    "relay not permitted",
    NULL,
};

/* FortiGate: written from the FortiOS Log Message Reference. */
static const char *const fortigate_lines[] = {
    "date=2024-05-10 time=11:37:47 devname=\"FGT-HQ\" devid=\"FG100E4Q17000001\" "
    "eventtime=1715340000000000000 tz=\"+0200\" logid=\"0000000013\" type=\"traffic\" "
    "subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=10.1.100.11 srcport=58012 "
    "srcintf=\"port12\" srcintfrole=\"lan\" dstip=203.0.113.35 dstport=80 dstintf=\"port11\" "
    "dstintfrole=\"wan\" sessionid=98744 proto=6 action=\"close\" policyid=1 "
    "policytype=\"policy\" policyname=\"LAN-to-WAN\" service=\"HTTP\" trandisp=\"snat\" "
    "transip=198.51.100.2 transport=58012 app=\"HTTP.BROWSER_Firefox\" duration=116 "
    "sentbyte=1188 rcvdbyte=1224 sentpkt=17 rcvdpkt=16",
    "date=2024-05-10 time=11:37:48 devname=\"FGT-HQ\" devid=\"FG100E4Q17000001\" "
    "logid=\"0419016384\" type=\"utm\" subtype=\"ips\" eventtype=\"signature\" "
    "level=\"alert\" severity=\"critical\" srcip=198.51.100.66 srccountry=\"Reserved\" "
    "dstip=10.0.0.80 srcintf=\"wan1\" dstintf=\"dmz\" sessionid=5555 action=\"dropped\" "
    "proto=6 service=\"HTTP\" policyid=5 attack=\"Apache.Log4j.Error.Log.Remote.Code.Execution\" "
    "srcport=40000 dstport=80 direction=\"outgoing\" attackid=51006 profile=\"default\"",
    "date=2024-05-10 time=11:37:49 devname=\"FGT-HQ\" devid=\"FG100E4Q17000001\" "
    "logid=\"0101039426\" type=\"event\" subtype=\"vpn\" level=\"alert\" vd=\"root\" "
    "logdesc=\"SSL VPN login fail\" action=\"ssl-login-fail\" tunneltype=\"ssl-web\" "
    "tunnelid=0 remip=192.0.2.200 user=\"bob\" group=\"N/A\" dst_host=\"N/A\" "
    "reason=\"sslvpn_login_unknown_user\" msg=\"SSL user failed to logged in\"",
    NULL,
};

/* Remote access: the MSG parts, written from OpenVPN's, strongSwan's and
 * FreeRADIUS's messages. */
static const char *const openvpn_lines[] = {
    "203.0.113.7:51234 TLS Auth Error: Auth Username/Password verification failed for peer",
    "198.51.100.4:1194 [carol] Peer Connection Initiated with [AF_INET]198.51.100.4:1194",
    "AUTH-PAM: BACKGROUND: user 'bob' failed to authenticate: Authentication failure",
    NULL,
};
static const char *const strongswan_lines[] = {
    "10[IKE] <rw-eap|5> EAP method EAP_MSCHAPV2 failed for peer 203.0.113.7",
    "14[IKE] <rw|3> IKE_SA rw[3] established between 192.0.2.10[vpn.example.org]..."
    "198.51.100.4[alice@example.org]",
    "06[IKE] tried 1 shared key for 'vpn.example.org' - 'road1', but MAC mismatched",
    NULL,
};
static const char *const freeradius_lines[] = {
    "Auth: (12) Login incorrect (pap: Cleartext password does not match \"known good\" "
    "password): [alice] (from client vpn-gw port 0 cli 203.0.113.7)",
    "Auth: (15) Login OK: [dave] (from client vpn-gw port 1 cli 198.51.100.4)",
    NULL,
};

/* MikroTik: written from RouterOS's documented log format. */
static const char *const mikrotik_lines[] = {
    "input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, proto TCP (SYN), "
    "203.0.113.5:51234->192.0.2.1:22, len 60",
    "accept-dns forward: in:bridge out:ether1, connection-state:new src-mac 4c:5e:0c:11:22:33, "
    "proto UDP, 192.168.88.10:53000->8.8.8.8:53, NAT (192.168.88.10:53000->198.51.100.2:53000)"
    "->8.8.8.8:53, len 64",
    "DROP-WAN input: in:ether1 out:(unknown 0), src-mac 00:0c:29:aa:bb:cc, proto ICMP (type 8, "
    "code 0), 203.0.113.5->192.0.2.1, len 84",
    NULL,
};

/* Juniper SRX, the BSD form's message part: written from Juniper's RT_FLOW
 * reference. */
static const char *const srx_lines[] = {
    "RT_FLOW_SESSION_CREATE: session created 192.168.1.10/51234->93.184.216.34/443 0x0 "
    "junos-https 198.51.100.2/28123->93.184.216.34/443 0x0 source rule r1 N/A N/A 6 "
    "trust-to-untrust trust untrust 12345 N/A(N/A) ge-0/0/1.0 UNKNOWN UNKNOWN UNKNOWN",
    "RT_FLOW_SESSION_DENY: session denied 198.51.100.7/5353->192.0.2.10/161 0x0 junos-snmp "
    "17(0) default-deny untrust trust UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0 No policy deny 1",
    NULL,
};

/* Check Point Log Exporter syslog format, the message part (Check Point's
 * list, what the decoder reads after the header decoder): written from its
 * documentation. */
static const char *const checkpoint_lines[] = {
    "[action:\"Drop\"; flags:\"411908\"; "
    "ifdir:\"inbound\"; ifname:\"eth1\"; logid:\"0\"; "
    "loguid:\"{0x63ff1234,0x0,0x1d2e3f4a,0xc0000000}\"; origin:\"192.0.2.1\"; "
    "sequencenum:\"7\"; time:\"1677664800\"; version:\"5\"; dst:\"192.0.2.10\"; "
    "inzone:\"External\"; layer_name:\"Network\"; outzone:\"Internal\"; "
    "product:\"VPN-1 & FireWall-1\"; proto:\"6\"; rule_name:\"Cleanup rule\"; "
    "s_port:\"40000\"; service:\"22\"; service_id:\"ssh\"; src:\"198.51.100.7\"]",
    "[action:\"Failed Log In\"; "
    "origin:\"192.0.2.1\"; product:\"Mobile Access\"; src:\"203.0.113.50\"; user:\"bob\"; "
    "auth_method:\"Password\"; reason:\"Wrong password\"]",
    NULL,
};

/* ClamAV: written from clamd's, clamscan's and clamav-milter's output. */
static const char *const clamav_lines[] = {
    "/home/alice/Downloads/eicar.com: Eicar-Signature FOUND",
    "/srv/www/upload/x.php: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND",
    "Message 4BC8A1F2C3 from <spam@example.net> to <alice@example.org> with subject 'invoice' "
    "message-id '<x@example.net>' date 'Mon, 8 Jan 2024 10:00:00 +0000' infected by "
    "Doc.Downloader.Emotet-1",
    NULL,
};

/* BIND: written from the ARM's query log lines. */
static const char *const bind_lines[] = {
    "client @0x7f2c3c0b2a60 203.0.113.7#53412 (www.example.com): query: www.example.com IN A "
    "+E(0)K (192.0.2.53)",
    "08-Jan-2024 10:00:00.123 queries: info: client @0x7f1 2001:db8::7#40000 (x.example.org): "
    "view internal: query: x.example.org IN AAAA +ET (2001:db8::53)",
    "client @0x7f2c 203.0.113.9#5353 (version.bind): query (cache) 'version.bind/TXT/CH' denied",
    NULL,
};

/* Databases: written from MySQL's and PostgreSQL's documented messages. */
static const char *const mysql_lines[] = {
    "2024-01-08T10:00:00.123456Z 12 [Note] [MY-010926] [Server] Access denied for user "
    "'root'@'203.0.113.7' (using password: YES)",
    "[Warning] Access denied for user 'app'@'web01.example.org' (using password: NO)",
    NULL,
};
static const char *const postgres_lines[] = {
    "2024-01-08 10:00:00.123 UTC [1234] alice@appdb FATAL:  password authentication failed "
    "for user \"alice\"",
    "2024-01-08 10:00:01.000 UTC [1236] carol@appdb LOG:  connection authorized: user=carol "
    "database=appdb application_name=psql",
    NULL,
};

/* FTP: written from vsftpd's and ProFTPD's documented lines. */
static const char *const vsftpd_lines[] = {
    "[alice] FAIL LOGIN: Client \"203.0.113.7\"",
    "Mon Jan  8 10:00:00 2024 [pid 1234] [bob] OK LOGIN: Client \"::ffff:198.51.100.4\"",
    NULL,
};
static const char *const proftpd_lines[] = {
    "ftp.example.org (203.0.113.7[203.0.113.7]) - USER alice (Login failed): Incorrect password",
    "ftp.example.org (192.0.2.44[192.0.2.44]) - USER carol: Login successful.",
    NULL,
};

/* Rows whose sample is "inline:NAME" read these instead of a file: products
 * of which ../shared/data holds no log, with lines written from the
 * vendor's documented format as the unit tests' are. */
static const struct {
    const char *name;
    const char *const *lines;
} inline_sets[] = {
    {"filterlog", filterlog_lines},
    {"fortigate", fortigate_lines},
    {"mikrotik", mikrotik_lines},
    {"srx", srx_lines},
    {"checkpoint", checkpoint_lines},
    {"postfix", postfix_lines},
    {"dovecot", dovecot_lines},
    {"exim", exim_lines},
    {"openvpn", openvpn_lines},
    {"strongswan", strongswan_lines},
    {"freeradius", freeradius_lines},
    {"clamav", clamav_lines},
    {"bind", bind_lines},
    {"mysql", mysql_lines},
    {"postgres", postgres_lines},
    {"vsftpd", vsftpd_lines},
    {"proftpd", proftpd_lines},
    {"snort-fast", snort_fast_lines},
};

static const struct bench_row rows[] = {
    /* The baseline: the header decoder alone on plain syslog lines. */
    {"rfc3164 (baseline)", decode_rfc3164, BENCH_LINE, LOGHUB "Linux/Linux_2k.log", NULL},
    {"auditd", decode_auditd, BENCH_LINE,
     "windows/Security-Datasets/datasets/atomic/linux/discovery/host/"
     "sh_arp_cache_2020-11-10074812.log",
     "auditd"},
    {"panos", decode_panos, BENCH_UNTAGGED, MSAMPLES "SampleInput/PaloaltoOutput", "panos"},
    {"filterlog", decode_filterlog, BENCH_LINE, "inline:filterlog", "filterlog"},
    {"fortigate", decode_fortigate, BENCH_LINE, "inline:fortigate", "fortigate"},
    /* The generic key=value decoder on the same lines, for comparison. */
    {"kv (fortigate lines)", decode_kv, BENCH_LINE, "inline:fortigate", "kv"},
    {"mikrotik", decode_mikrotik, BENCH_LINE, "inline:mikrotik", "mikrotik"},
    {"juniper-srx (BSD text)", decode_srx, BENCH_LINE, "inline:srx", "juniper-srx"},
    {"checkpoint", decode_checkpoint, BENCH_LINE, "inline:checkpoint", "checkpoint"},
    {"postfix", decode_postfix, BENCH_LINE, "inline:postfix", "postfix"},
    {"dovecot", decode_dovecot, BENCH_LINE, "inline:dovecot", "dovecot"},
    {"exim", decode_exim, BENCH_LINE, "inline:exim", "exim"},
    {"openvpn", decode_openvpn, BENCH_LINE, "inline:openvpn", "openvpn"},
    {"strongswan", decode_strongswan, BENCH_LINE, "inline:strongswan", "strongswan"},
    {"freeradius", decode_freeradius, BENCH_LINE, "inline:freeradius", "freeradius"},
    {"clamav", decode_clamav, BENCH_LINE, "inline:clamav", "clamav"},
    {"bind", decode_bind, BENCH_LINE, "inline:bind", "bind"},
    {"mysql", decode_mysql, BENCH_LINE, "inline:mysql", "mysql"},
    {"postgres", decode_postgres, BENCH_LINE, "inline:postgres", "postgres"},
    {"vsftpd", decode_vsftpd, BENCH_LINE, "inline:vsftpd", "vsftpd"},
    {"proftpd", decode_proftpd, BENCH_LINE, "inline:proftpd", "proftpd"},
    /* the line: the marker is looked for behind the syslog header */
    {"cisco-asa", decode_cisco_asa, BENCH_LINE, MSAMPLES "asa/raw/asa_raw", "cisco-asa"},
    {"squid", decode_squid, BENCH_LINE, MSAMPLES "squid/raw/SquidExampleOutput", "squid"},
    {"snort (alert_csv)", decode_snort, BENCH_LINE, MSAMPLES "snort/raw/SnortOutput", "snort"},
    {"snort (fast.log)", decode_snort, BENCH_LINE, "inline:snort-fast", "snort"},
    /* Zeek JSON: decode_json and its Zeek ECS names (decode_zeek.c). */
    {"json (zeek conn)", decode_json, BENCH_LINE, ZEEK_JSON "NASHUA_conn.log", "json"},
    {"json (zeek ssl)", decode_json, BENCH_LINE, ZEEK_JSON "NASHUA_ssl.log", "json"},
    /* The same 53 615 DNS records in both of Zeek's forms (the zed sample);
     * the TSV row counts its header lines among the lines. */
    {"json (zeek dns)", decode_json, BENCH_LINE, ZED "zeek-json/dns.json.gz", "json"},
    {"zeek-tsv (dns)", decode_zeek_tsv, BENCH_LINE, ZED "zeek-default/dns.log.gz", "zeek-tsv"},
};

struct bench_lines {
    char *buf;
    size_t n;
    const char **p; /* each line (or its MSG part) */
    size_t *len;
};

/* The thread's CPU time, not the wall clock: on the shared 2-core build
 * machines the wall clock also counted the time other processes held the
 * core, which moved the ratios by up to 2x from one run to the next. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *shared_data(void)
{
    static char dir[4096];
    const char *s = getenv("HIKESHI_SHARED");

    snprintf(dir, sizeof(dir), "%s/data", s && *s ? s : "../shared");
    return dir;
}

/* Reads the sample whole (gunzipped when it is gzip: zlib reads plain
 * files as they are); returns 0 or -errno. */
static int read_sample(const char *rel, char **ret_buf, size_t *ret_n)
{
    char path[8192];
    gzFile f;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int r = 0;

    if (snprintf(path, sizeof(path), "%s/%s", shared_data(), rel) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    if (!(f = gzopen(path, "rb")))
        return errno ? -errno : -ENOMEM;
    for (;;) {
        int got;
        if (n == cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 1 << 16);
            if (!nb) {
                r = -ENOMEM;
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 1 << 16;
        }
        got = gzread(f, buf + n, (unsigned)(cap - n < (1u << 30) ? cap - n : 1u << 30));
        if (got < 0 && r == 0)
            r = -EIO;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    gzclose(f);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret_buf = buf;
    *ret_n = n;
    return 0;
}

/* Splits the sample into lines; for BENCH_MSG each becomes its MSG part
 * (lines the header decoder refuses are left out). */
static int load_lines(const struct bench_row *row, struct arena *arena, struct bench_lines *bl)
{
    size_t cap = 0;
    int r;

    memset(bl, 0, sizeof(*bl));
    if (!strncmp(row->sample, "inline:", 7)) {
        /* Inline lines: views of static strings, nothing to free. */
        const char *const *src = NULL;
        for (size_t k = 0; k < sizeof(inline_sets) / sizeof(inline_sets[0]); k++)
            if (!strcmp(inline_sets[k].name, row->sample + 7))
                src = inline_sets[k].lines;
        if (!src)
            return -ENOENT;
        bl->p = calloc(BENCH_MAX_LINES, sizeof(*bl->p));
        bl->len = calloc(BENCH_MAX_LINES, sizeof(*bl->len));
        if (!bl->p || !bl->len)
            return -ENOMEM;
        /* Cycled to BENCH_INLINE_LINES records, so that a round times
         * about as many records as the baseline's and a handful of lines
         * is not lost in the timer's noise. */
        for (size_t k = 0; src[0] && bl->n < BENCH_INLINE_LINES; k = src[k + 1] ? k + 1 : 0) {
            bl->p[bl->n] = src[k];
            bl->len[bl->n] = strlen(src[k]);
            bl->n++;
        }
        return 0;
    }
    if ((r = read_sample(row->sample, &bl->buf, &cap)) < 0)
        return r;
    bl->p = calloc(BENCH_MAX_LINES, sizeof(*bl->p));
    bl->len = calloc(BENCH_MAX_LINES, sizeof(*bl->len));
    if (!bl->p || !bl->len)
        return -ENOMEM;
    for (size_t i = 0; i < cap && bl->n < BENCH_MAX_LINES;) {
        const char *nl = memchr(bl->buf + i, '\n', cap - i);
        size_t e = nl ? (size_t)(nl - bl->buf) : cap, l = e - i;
        const char *line = bl->buf + i;

        i = e + 1;
        if (l && line[l - 1] == '\r')
            l--;
        if (!l)
            continue;
        if (row->mode == BENCH_MSG || row->mode == BENCH_UNTAGGED) {
            struct event ev;
            struct parse_err perr;
            struct decode_ctx ctx = {.ref_us = BENCH_T2026};

            event_init(&ev, arena, line, l, BENCH_T2026);
            if (decode_rfc3164(&ev, line, l, &ctx, &perr) < 0 || !ev.msg_len) {
                event_reset(&ev);
                continue;
            }
            line = ev.msg;
            l = ev.msg_len;
            if (row->mode == BENCH_UNTAGGED) {
                size_t an = 0;
                const char *a = event_get(&ev, FIELD_LOG_SYSLOG_APPNAME, &an);
                if (a && a + an + 1 == ev.msg) {
                    line = a;
                    l = an + 1 + ev.msg_len;
                }
            }
            event_reset(&ev);
        }
        bl->p[bl->n] = line;
        bl->len[bl->n] = l;
        bl->n++;
    }
    return 0;
}

static void free_lines(struct bench_lines *bl)
{
    free(bl->buf);
    free(bl->p);
    free(bl->len);
}

/* Builds the events the stream's decoder held (auditd's joined calls): the
 * complete ones, or with `all` every one, as the pipeline does after each
 * record and at the end of a file.  Part of the cost of the records. */
static void take_held(struct arena *arena, struct decode_stream *s, int all)
{
    for (;;) {
        struct event ev;
        struct parse_err perr;
        int r;

        event_init(&ev, arena, NULL, 0, BENCH_T2026);
        r = decode_stream_flush(s, all, &ev, &perr);
        event_reset(&ev);
        if (r == -ENOENT)
            break;
    }
}

/* Times `rounds` passes of row's decoder over its lines; returns records/s
 * (0 when the sample is missing), the claimed count of one round and the
 * bytes/s (records differ in length from one product to the next). */
static double run_row(const struct bench_row *row, struct arena *arena, unsigned rounds,
                      size_t *ret_lines, size_t *ret_claimed, double *ret_bps)
{
    struct bench_lines bl;
    /* One stream per row, as the pipeline keeps one per file: Zeek TSV
     * rows are read with the header their file gave. */
    struct decode_ctx ctx = {.ref_us = BENCH_T2026, .stream = decode_stream_new()};
    double t0, t;
    size_t claimed = 0, bytes = 0;
    int r;

    *ret_lines = *ret_claimed = 0;
    *ret_bps = 0;
    if ((r = load_lines(row, arena, &bl)) < 0) {
        fprintf(stderr, "bench_decoders: %s/%s: %s\n", shared_data(), row->sample, strerror(-r));
        free_lines(&bl);
        decode_stream_free(ctx.stream);
        return 0;
    }
    t0 = now_s();
    for (unsigned k = 0; k < rounds; k++) {
        for (size_t i = 0; i < bl.n; i++) {
            struct event ev;
            struct parse_err perr;

            event_init(&ev, arena, bl.p[i], bl.len[i], BENCH_T2026);
            r = row->fn(&ev, bl.p[i], bl.len[i], &ctx, &perr);
            /* -EAGAIN: held to be joined (auditd), claimed all the same */
            if (k == 0 && (r == 0 || r == -EAGAIN) &&
                (r == -EAGAIN || !row->decoder ||
                 (ev.decoder && strcmp(ev.decoder, row->decoder) == 0)))
                claimed++;
            event_reset(&ev);
            if (decode_stream_holding(ctx.stream))
                take_held(arena, ctx.stream, 0);
        }
        if (decode_stream_holding(ctx.stream))
            take_held(arena, ctx.stream, 1); /* a round is a file: it ends */
    }
    t = now_s() - t0;
    for (size_t i = 0; i < bl.n; i++)
        bytes += bl.len[i];
    *ret_bps = t > 0 ? (double)bytes * rounds / t : 0;
    *ret_lines = bl.n;
    *ret_claimed = claimed;
    free_lines(&bl);
    decode_stream_free(ctx.stream);
    return t > 0 ? (double)bl.n * rounds / t : 0;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200;
    const char *match = argc > 2 ? argv[2] : NULL;
    struct arena arena;
    double base = 0, base_bps = 0;
    int worst = 0;

    if (rounds == 0)
        rounds = 1;
    arena_init(&arena, 0);
    field_init();
    /* Records/s is what issue 24 compares; MB/s and its ratio say how much
     * of a gap is only the records' length. */
    printf("%-28s %-5s %7s %8s %12s %8s %8s %8s\n", "decoder", "input", "lines", "claimed",
           "records/s", "x rfc3164", "MB/s", "x (MB/s)");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t lines, claimed;
        double rate, bps;

        if (i > 0 && match && !strstr(rows[i].label, match))
            continue;
        rate = run_row(&rows[i], &arena, rounds, &lines, &claimed, &bps);
        if (i == 0) {
            base = rate;
            base_bps = bps;
        }
        printf("%-28s %-5s %7zu %8zu %12.0f %8.2f %8.1f %8.2f\n", rows[i].label,
               rows[i].mode == BENCH_LINE ? "line" : "msg", lines, claimed, rate,
               base > 0 ? rate / base : 0, bps / 1e6, base_bps > 0 ? bps / base_bps : 0);
        if (i > 0 && base > 0 && rate < base / 3)
            worst = 1;
    }
    if (worst)
        printf("some decoder runs below a third of rfc3164's rate\n");
    field_done();
    arena_done(&arena);
    return 0;
}
