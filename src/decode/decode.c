/*
 * decode.c - choosing and chaining decoders.
 *
 * Auto-detection looks at the first bytes only, so a record costs one
 * decoder attempt in the common cases: '{' is JSON, "CEF:"/"LEEF:" are
 * those, '<' is syslog (RFC 5424 when the PRI is followed by the version
 * "1 "), a month name or an RFC 3339 timestamp is syslog without PRI (what
 * files under /var/log hold, in rsyslog's traditional or high-precision
 * format).  Anything else is tried as a web server log, then by the
 * products' markers (msg_signatures[]), then as key=value.
 * After a syslog header, the product decoder is chosen by the program name
 * (sshd, sudo, kernel, nginx/apache) or by the message's first bytes.
 * One format needs the stream: a Zeek TSV row is told by its file's header
 * (decode_zeek_tsv_claims, one pointer test per record).
 */
#include "decode/decode.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "decode/decode_auditd.h"
#include "decode/decode_bind.h"
#include "decode/decode_cef.h"
#include "decode/decode_db.h"
#include "decode/decode_ftp.h"
#include "decode/decode_clamav.h"
#include "decode/decode_checkpoint.h"
#include "decode/decode_cisco_asa.h"
#include "decode/decode_filterlog.h"
#include "decode/decode_fortigate.h"
#include "decode/decode_gelf.h"
#include "decode/decode_json.h"
#include "decode/decode_kv.h"
#include "decode/decode_leef.h"
#include "decode/decode_mikrotik.h"
#include "decode/decode_mail.h"
#include "decode/decode_netfilter.h"
#include "decode/decode_panos.h"
#include "decode/decode_rfc3164.h"
#include "decode/decode_rfc5424.h"
#include "decode/decode_snort.h"
#include "decode/decode_squid.h"
#include "decode/decode_srx.h"
#include "decode/decode_sshd.h"
#include "decode/decode_sudo.h"
#include "decode/decode_vpn.h"
#include "decode/decode_web.h"
#include "decode/decode_winxml.h"
#include "decode/decode_zeek_tsv.h"
#include "event/event.h"

static int decode_syslog(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                         struct parse_err *reterr);

/* Sorted by name for the man page; looked up linearly (a dozen entries). */
const struct decoder decode_table[] = {
    {"auditd", decode_auditd, "Linux audit records, SELinux AVC and AppArmor denials"},
    {"bind", decode_bind, "BIND 9 named query log and denied queries (message or named's file)"},
    {"cef", decode_cef, "ArcSight Common Event Format, with or without a syslog header"},
    {"checkpoint", decode_checkpoint, "Check Point Log Exporter syslog format (key:\"value\" list)"},
    {"cisco-asa", decode_cisco_asa, "Cisco ASA and FTD %ASA-/%FTD- messages (the message part)"},
    {"filterlog", decode_filterlog, "pfSense/OPNsense filterlog CSV (the message part)"},
    {"fortigate", decode_fortigate, "Fortinet FortiGate key=value logs: traffic, utm, event"},
    {"dovecot", decode_dovecot, "Dovecot login and auth messages (the message part)"},
    {"exim", decode_exim, "Exim authentication and rejection lines (mainlog or syslog)"},
    {"freeradius", decode_freeradius, "FreeRADIUS Auth: lines (syslog message or radius.log)"},
    {"clamav", decode_clamav, "ClamAV detections: clamd, clamscan, clamonacc, clamav-milter"},
    {"gelf", decode_gelf, "GELF 1.1 (Graylog) messages: JSON with short_message, _fields"},
    {"json", decode_json, "JSON lines, flattened (Suricata EVE, Zeek, ECS, Windows JSON)"},
    {"juniper-srx", decode_srx, "Juniper SRX RT_FLOW session logs (after an RFC 5424/3164 header)"},
    {"kv", decode_kv, "key=value pairs"},
    {"leef", decode_leef, "IBM Log Event Extended Format 1.0 and 2.0"},
    {"mikrotik", decode_mikrotik, "MikroTik RouterOS firewall log lines (the message part)"},
    {"mysql", decode_mysql, "MySQL/MariaDB access denied and aborted connections"},
    {"netfilter", decode_netfilter, "iptables/nftables LOG lines (the message part)"},
    {"openvpn", decode_openvpn, "OpenVPN server authentication and connection messages"},
    {"panos", decode_panos, "Palo Alto PAN-OS CSV: TRAFFIC, THREAT, SYSTEM, GLOBALPROTECT"},
    {"postfix", decode_postfix, "Postfix smtpd SASL failures and logins, connections, rejects"},
    {"postgres", decode_postgres, "PostgreSQL authentication failures and connections"},
    {"proftpd", decode_proftpd, "ProFTPD login failures and successes"},
    {"rfc3164", decode_rfc3164, "BSD syslog, then the product decoder for the program"},
    {"rfc5424", decode_rfc5424, "RFC 5424 syslog, then the product decoder for the app"},
    {"snort", decode_snort, "Snort/Suricata fast.log, syslog and alert_csv alerts"},
    {"squid", decode_squid, "Squid native access.log lines"},
    {"sshd", decode_sshd, "OpenSSH server messages (the message part)"},
    {"strongswan", decode_strongswan, "strongSwan charon IKE authentication messages"},
    {"sudo", decode_sudo, "sudo messages (the message part)"},
    {"syslog", decode_syslog, "RFC 5424 or RFC 3164, whichever the record is"},
    {"vsftpd", decode_vsftpd, "vsftpd FAIL/OK LOGIN and CONNECT lines (syslog or vsftpd.log)"},
    {"web-access", decode_web_access, "Apache/nginx access logs, common and combined"},
    {"web-error", decode_web_error, "Apache and nginx error logs"},
    {"winxml", decode_winxml, "Windows event XML (EVTX records, forwarded events)"},
    {"zeek-tsv", decode_zeek_tsv, "Zeek default TSV logs (rows read with their file's header)"},
    {NULL, NULL, NULL},
};

const struct decoder *decode_lookup(const char *name)
{
    for (const struct decoder *d = decode_table; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

/* What a failed attempt must undo so that the next one starts clean. */
struct decode_mark {
    uint32_t nfields;
    int64_t time_us;
    int has_time;
    const char *msg;
    size_t msg_len;
    const char *decoder;
};

static void mark_save(const struct event *ev, struct decode_mark *m)
{
    m->nfields = ev->nfields;
    m->time_us = ev->time_us;
    m->has_time = ev->has_time;
    m->msg = ev->msg;
    m->msg_len = ev->msg_len;
    m->decoder = ev->decoder;
}

static void mark_restore(struct event *ev, const struct decode_mark *m)
{
    ev->nfields = m->nfields;
    ev->time_us = m->time_us;
    ev->has_time = m->has_time;
    ev->msg = m->msg;
    ev->msg_len = m->msg_len;
    ev->decoder = m->decoder;
}

/* Runs one decoder; on failure the event is as it was before. */
static int attempt(decode_fn fn, struct event *ev, const char *p, size_t len,
                   const struct decode_ctx *ctx, struct parse_err *reterr)
{
    struct decode_mark m;
    int r;

    mark_save(ev, &m);
    r = fn(ev, p, len, ctx, reterr);
    if (r < 0)
        mark_restore(ev, &m);
    return r;
}

static int has_prefix(const char *p, size_t len, const char *pre)
{
    size_t n = strlen(pre);

    return len >= n && memcmp(p, pre, n) == 0;
}

static int looks_like_month(const char *p, size_t len)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    if (len < 4 || p[3] != ' ')
        return 0;
    for (size_t i = 0; i < 36; i += 3)
        if (memcmp(p, months + i, 3) == 0)
            return 1;
    return 0;
}

/* "YYYY-MM-DDT" or "YYYY-MM-DD ": an RFC 3339 timestamp, as rsyslog writes
 * syslog files when its traditional format is not configured. */
static int looks_like_iso(const char *p, size_t len)
{
    static const char shape[] = "dddd-dd-dd";

    if (len < 11 || (p[10] != 'T' && p[10] != ' '))
        return 0;
    for (size_t i = 0; i < 10; i++) {
        if (shape[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != shape[i])
            return 0;
    }
    return 1;
}

/* "MM/DD-hh:", "MM/DD/YY-hh:" or "MM/DD/YYYY-hh:": Snort's and
 * Suricata's alert time, which fast.log and alert_csv lines start with. */
static int looks_like_snort_time(const char *p, size_t len)
{
    size_t i = 5;

    if (len < 9 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != '/' ||
        !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
        return 0;
    if (p[i] == '/') {
        i++;
        while (i < len && i < 11 && isdigit((unsigned char)p[i]))
            i++;
        if (i != 8 && i != 10)
            return 0;
    }
    return i + 3 < len && p[i] == '-' && isdigit((unsigned char)p[i + 1]) &&
           isdigit((unsigned char)p[i + 2]) && p[i + 3] == ':';
}

/* "SSSSSSSSSS.mmm " (9 to 12 digits of seconds): Squid's access.log. */
static int looks_like_epoch_ms(const char *p, size_t len)
{
    size_t i = 0;

    while (i < len && i < 13 && isdigit((unsigned char)p[i]))
        i++;
    return i >= 9 && i <= 12 && i + 2 < len && p[i] == '.' && isdigit((unsigned char)p[i + 1]);
}

static int contains(const char *p, size_t len, const char *needle)
{
    return memmem(p, len, needle, strlen(needle)) != NULL;
}

/* Whether "CEF:" (bit 1) and "LEEF:" (bit 2) occur in p[0..len): one
 * memmem() pass for the "EF:" they share instead of one pass each, as
 * this runs on every record auto-detection sees. */
static unsigned cef_leef_in(const char *p, size_t len)
{
    unsigned found = 0;
    const char *q = p, *end = p + len, *ef;

    while (found != 3 && (ef = memmem(q, (size_t)(end - q), "EF:", 3))) {
        if (ef - p >= 1 && ef[-1] == 'C')
            found |= 1;
        if (ef - p >= 2 && ef[-1] == 'E' && ef[-2] == 'L')
            found |= 2;
        q = ef + 3;
    }
    return found;
}

/*
 * The product decoders, chosen by the syslog program name (the tag).  One
 * row per name; a record costs one comparison per row until its name
 * matches, and then only that row's decoders run:
 *   fn, then fn2 when fn refused the message (web: access, then error);
 *   `stop`: when both refused, the message stays unparsed (the product is
 *   certain from its tag) instead of going on to the signatures and
 *   key=value below.
 * Adding a product: its decoder file, then a row here (and in
 * msg_signatures[] when its messages carry a marker of their own).
 */
#define TAG(s) s, sizeof(s) - 1
static const struct product_tag {
    const char *tag;
    size_t tag_len; /* compared first: most rows differ in length */
    decode_fn fn, fn2;
    int stop;
} product_tags[] = {
    {TAG("sshd"), decode_sshd, NULL, 1},
    {TAG("sudo"), decode_sudo, NULL, 1},
    {TAG("snort"), decode_snort, NULL, 0},
    {TAG("suricata"), decode_snort, NULL, 0},
    {TAG("squid"), decode_squid, NULL, 0},
    {TAG("(squid-1)"), decode_squid, NULL, 0},
    {TAG("kernel"), decode_netfilter, NULL, 0},
    {TAG("CheckPoint"), decode_checkpoint, NULL, 1},
    {TAG("RT_FLOW"), decode_srx, NULL, 1},
    {TAG("filterlog"), decode_filterlog, NULL, 1},
    {TAG("audispd"), decode_auditd, NULL, 0},
    {TAG("audisp-syslog"), decode_auditd, NULL, 0},
    {TAG("postfix/smtpd"), decode_postfix, NULL, 1},
    {TAG("postfix/submission/smtpd"), decode_postfix, NULL, 1},
    {TAG("postfix/smtps/smtpd"), decode_postfix, NULL, 1},
    {TAG("dovecot"), decode_dovecot, NULL, 1},
    {TAG("exim"), decode_exim, NULL, 1},
    {TAG("exim4"), decode_exim, NULL, 1},
    {TAG("openvpn"), decode_openvpn, NULL, 1},
    {TAG("ovpn-server"), decode_openvpn, NULL, 1},
    {TAG("charon"), decode_strongswan, NULL, 1},
    {TAG("charon-systemd"), decode_strongswan, NULL, 1},
    {TAG("ipsec"), decode_strongswan, NULL, 0},
    {TAG("radiusd"), decode_freeradius, NULL, 1},
    {TAG("freeradius"), decode_freeradius, NULL, 1},
    {TAG("clamd"), decode_clamav, NULL, 1},
    {TAG("clamav"), decode_clamav, NULL, 1},
    {TAG("clamscan"), decode_clamav, NULL, 1},
    {TAG("clamonacc"), decode_clamav, NULL, 1},
    {TAG("clamav-milter"), decode_clamav, NULL, 1},
    {TAG("named"), decode_bind, NULL, 0},
    {TAG("mysqld"), decode_mysql, NULL, 0},
    {TAG("mariadbd"), decode_mysql, NULL, 0},
    {TAG("mysql"), decode_mysql, NULL, 0},
    {TAG("mariadb"), decode_mysql, NULL, 0},
    {TAG("postgres"), decode_postgres, NULL, 0},
    {TAG("postgresql"), decode_postgres, NULL, 0},
    {TAG("vsftpd"), decode_vsftpd, NULL, 1},
    {TAG("proftpd"), decode_proftpd, NULL, 1},
    {TAG("nginx"), decode_web_access, decode_web_error, 0},
    {TAG("apache2"), decode_web_access, decode_web_error, 0},
    {TAG("httpd"), decode_web_access, decode_web_error, 0},
    {TAG("apache"), decode_web_access, decode_web_error, 0},
};

/*
 * Products told by their message's own bytes, whatever the tag (a relay's
 * tag, or none): a prefix at the start of the message, or a word within
 * its first SIGNATURE_SCAN bytes.  Tried in order, after the tag table.
 */
#define SIGNATURE_SCAN 256
static const struct msg_signature {
    const char *marker;
    int anywhere; /* 0: prefix of the message; 1: within its first bytes */
    decode_fn fn;
} msg_signatures[] = {
    /* Audit records: "type=T msg=audit(", the kernel's "audit: type=1400
     * audit(", "node=N type=...": before "IN=", which a path may hold. */
    {"audit(", 1, decode_auditd},
    /* PAN-OS CSV: FUTURE_USE "1" then the receive time "YYYY/..."; the
     * decoder checks the rest of the shape. */
    {"1,20", 0, decode_panos},
    /* FortiOS writes logid= in every log, early in the line. */
    {"logid=", 1, decode_fortigate},
    {"IN=", 1, decode_netfilter},
    /* RouterOS firewall lines: "CHAIN: in:IFACE out:..." */
    {": in:", 1, decode_mikrotik},
    /* fast.log lines relayed under another tag */
    {"[**] [", 1, decode_snort},
    /* Cisco ASA/FTD behind a prefix of their own ("Aug 06 2016 20:39:42:
     * %ASA-6-110002: ..."), which the syslog header decoder left. */
    {"%ASA-", 1, decode_cisco_asa},
    {"%FTD-", 1, decode_cisco_asa},
};

/* The row for program name (v, len), or NULL. */
static const struct product_tag *product_by_tag(const char *v, size_t len)
{
    if (!v)
        return NULL;
    for (size_t i = 0; i < sizeof(product_tags) / sizeof(product_tags[0]); i++) {
        const struct product_tag *t = &product_tags[i];

        if (t->tag_len == len && t->tag[0] == v[0] && memcmp(t->tag, v, len) == 0)
            return t;
    }
    return NULL;
}

static int is_product(const char *v, size_t len)
{
    return product_by_tag(v, len) != NULL;
}

/*
 * A relay or `logger -n HOST "sshd[42]: ..."` puts its own tag in the syslog
 * header and the real program's tag at the start of the message.  When the
 * header's program is not a product we know and the message starts with
 * "prog[pid]: " (or a known product's "prog: "), that inner tag wins.
 */
static void take_inner_tag(struct event *ev)
{
    const char *m = ev->msg;
    size_t len = ev->msg_len, i = 0, name_end, plen = 0;
    const char *prog = event_get(ev, FIELD_PROCESS_NAME, &plen);
    const char *pid = NULL;
    size_t pid_len = 0;

    if (prog && is_product(prog, plen))
        return;
    while (i < len && i < 64 &&
           ((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= 'A' && m[i] <= 'Z') ||
            (m[i] >= '0' && m[i] <= '9') || m[i] == '_' || m[i] == '-' || m[i] == '.' ||
            m[i] == '/'))
        i++;
    name_end = i;
    if (name_end == 0 || i >= len)
        return;
    if (m[i] == '[') {
        size_t j = i + 1;
        while (j < len && j - i <= 10 && m[j] >= '0' && m[j] <= '9')
            j++;
        if (j == i + 1 || j >= len || m[j] != ']')
            return;
        pid = m + i + 1;
        pid_len = j - i - 1;
        i = j + 1;
    } else if (!is_product(m, name_end)) {
        return;
    }
    if (i + 1 >= len || m[i] != ':' || m[i + 1] != ' ')
        return;
    event_set(ev, FIELD_PROCESS_NAME, m, name_end);
    if (pid)
        event_set(ev, FIELD_PROCESS_PID, pid, pid_len);
    ev->msg = m + i + 2;
    ev->msg_len = len - i - 2;
    event_set(ev, FIELD_MESSAGE, ev->msg, ev->msg_len);
}

static void decode_product_msg(struct event *ev, const struct decode_ctx *ctx);

/*
 * Runs the product decoder that fits the syslog message.  A product
 * decoder's failure does not fail the record: its syslog header was
 * understood, and the message stays in the "message" field.
 *
 * This is where the event time's precedence (decode.h) is decided: the
 * header's time is set aside while the product decoder runs, and a time the
 * product decoder finds in the message's content (an EVE `timestamp`, an
 * access log's "[...]") replaces it; only when there is none does the
 * header's time stand.  A relay's header stamps when the relay saw the
 * line, without a year in RFC 3164, while the content says when it happened.
 */
static void decode_product(struct event *ev, const struct decode_ctx *ctx)
{
    int header_time = ev->has_time;

    ev->has_time = 0;
    decode_product_msg(ev, ctx);
    if (!ev->has_time)
        ev->has_time = header_time; /* time_us and @timestamp were kept */
}

/* The message's signature decoder, or NULL: the first row of
 * msg_signatures[] whose marker is there. */
static decode_fn product_by_signature(const char *msg, size_t len)
{
    size_t scan = len < SIGNATURE_SCAN ? len : SIGNATURE_SCAN;

    for (size_t i = 0; i < sizeof(msg_signatures) / sizeof(msg_signatures[0]); i++) {
        const struct msg_signature *sg = &msg_signatures[i];

        if (sg->anywhere ? contains(msg, scan, sg->marker) : has_prefix(msg, len, sg->marker))
            return sg->fn;
    }
    return NULL;
}

/*
 * A sender that writes no tag (PAN-OS starts its message with "1,2015/01/05
 * 05:38:58,...") has its message's first word taken for the tag by the RFC
 * 3164 reader.  When that "tag" ended at a blank (no ':' or "[pid]") and
 * runs straight into the message, the span from it to the message's end is
 * the message as sent: *ret_p and *ret_len get it and 1 is returned.
 */
static int untagged_msg(const struct event *ev, const char **ret_p, size_t *ret_len)
{
    size_t an = 0;
    const char *a = event_get(ev, FIELD_LOG_SYSLOG_APPNAME, &an);
    const char *raw_end;

    if (!a || !ev->raw)
        return 0;
    raw_end = ev->raw + ev->raw_len;
    if (a < ev->raw || a >= raw_end || an >= (size_t)(raw_end - a) ||
        a + an + 1 != ev->msg || a[an] != ' ' || ev->msg_len > (size_t)(raw_end - ev->msg))
        return 0;
    *ret_p = a;
    *ret_len = an + 1 + ev->msg_len;
    return 1;
}

/* After an untagged message was understood: the word taken for a tag is
 * not a program, and the message is the whole span. */
static void drop_false_tag(struct event *ev, const char *p, size_t len)
{
    uint32_t k = 0;

    for (uint32_t i = 0; i < ev->nfields; i++) {
        uint32_t id = ev->fields[i].id;
        if (id != FIELD_LOG_SYSLOG_APPNAME && id != FIELD_PROCESS_NAME)
            ev->fields[k++] = ev->fields[i];
    }
    ev->nfields = k;
    ev->msg = p;
    ev->msg_len = len;
    event_set(ev, FIELD_MESSAGE, p, len);
}

static void decode_product_msg(struct event *ev, const struct decode_ctx *ctx)
{
    const char *msg, *prog;
    size_t len, plen = 0;
    struct parse_err perr;
    const struct product_tag *pt;
    decode_fn sig;

    take_inner_tag(ev);
    msg = ev->msg;
    len = ev->msg_len;
    prog = event_get(ev, FIELD_PROCESS_NAME, &plen);
    if (len == 0) {
        /* An RFC 5424 record may say everything in its structured data
         * (Junos RT_FLOW): the product its tag names still reads that. */
        if ((pt = product_by_tag(prog, plen)))
            attempt(pt->fn, ev, msg ? msg : "", 0, ctx, &perr);
        return;
    }
    /* Formats that say what they are in their first bytes win over the
     * tag: a CEF or JSON message is that whoever sent it. */
    if (has_prefix(msg, len, "CEF:")) {
        attempt(decode_cef, ev, msg, len, ctx, &perr);
        return;
    }
    if (has_prefix(msg, len, "LEEF:")) {
        attempt(decode_leef, ev, msg, len, ctx, &perr);
        return;
    }
    if (msg[0] == '{') {
        attempt(decode_json, ev, msg, len, ctx, &perr);
        return;
    }
    /* Cisco ASA/FTD: the message id is the tag ("%ASA-6-302013: Built
     * ..."); the decoder reads the tag and the message together, which are
     * adjacent in the record. */
    if (plen > 5 && prog[0] == '%' && prog >= ev->raw && prog + plen <= msg &&
        msg + len <= ev->raw + ev->raw_len &&
        attempt(decode_cisco_asa, ev, prog, (size_t)(msg + len - prog), ctx, &perr) == 0)
        return;
    if ((pt = product_by_tag(prog, plen))) {
        if (attempt(pt->fn, ev, msg, len, ctx, &perr) == 0 ||
            (pt->fn2 && attempt(pt->fn2, ev, msg, len, ctx, &perr) == 0) || pt->stop)
            return;
    }
    sig = product_by_signature(msg, len);
    if (sig && (!pt || sig != pt->fn) && attempt(sig, ev, msg, len, ctx, &perr) == 0)
        return;
    if (!pt) {
        const char *whole;
        size_t wlen;
        decode_fn sig2;

        if (untagged_msg(ev, &whole, &wlen) && (sig2 = product_by_signature(whole, wlen)) &&
            sig2 != sig && attempt(sig2, ev, whole, wlen, ctx, &perr) == 0) {
            drop_false_tag(ev, whole, wlen);
            return;
        }
    }
    if (memchr(msg, '=', len))
        attempt(decode_kv, ev, msg, len, ctx, &perr);
}

static int is_rfc5424(const char *p, size_t len)
{
    size_t i = 1;

    /* "<PRI>1 " with PRI of 1 to 3 digits. */
    while (i < len && i < 5 && p[i] >= '0' && p[i] <= '9')
        i++;
    return i > 1 && i + 2 < len && p[i] == '>' && p[i + 1] == '1' && p[i + 2] == ' ';
}

static int decode_syslog(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                         struct parse_err *reterr)
{
    if (len && p[0] == '<' && is_rfc5424(p, len))
        return decode_rfc5424(ev, p, len, ctx, reterr);
    return decode_rfc3164(ev, p, len, ctx, reterr);
}

static int is_syslog_header_decoder(const struct decoder *d)
{
    return d->fn == decode_rfc3164 || d->fn == decode_rfc5424 || d->fn == decode_syslog;
}

static int decode_auto(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                       struct parse_err *reterr)
{
    size_t scan = len < SIGNATURE_SCAN ? len : SIGNATURE_SCAN;
    unsigned cef_leef;
    int r;

    if (len == 0)
        return -ENOENT;
    if (p[0] == '{')
        return attempt(decode_json, ev, p, len, ctx, reterr);
    /* Windows event XML also starts with '<': tell it from a syslog PRI
     * before the syslog branch takes it (and before CEF/LEEF, whose
     * markers a command line may hold). */
    {
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            i++;
        if (has_prefix(p + i, len - i, "<Event"))
            return attempt(decode_winxml, ev, p, len, ctx, reterr);
    }
    /* Zeek's TSV logs: its "#separator" line opens a header, and every
     * later line of that stream (a file) is Zeek's. */
    if (decode_zeek_tsv_claims(ctx, p, len)) {
        if ((r = attempt(decode_zeek_tsv, ev, p, len, ctx, reterr)) != -ENOENT)
            return r;
    }
    /* CEF and LEEF usually come behind a syslog header or a timestamp
     * ("<14>Apr  7 10:10:10 host CEF: 0|..."); their decoders find the
     * marker and use the prefix themselves. */
    cef_leef = cef_leef_in(p, scan);
    if (cef_leef & 1) {
        if (attempt(decode_cef, ev, p, len, ctx, reterr) == 0)
            return 0;
    }
    if (cef_leef & 2) {
        if (attempt(decode_leef, ev, p, len, ctx, reterr) == 0)
            return 0;
    }
    /* Check Point's Log Exporter syslog format: a syslog header, then its
     * own [key:"value"; ...] list, which RFC 5424 refuses as structured
     * data; its decoder reads the header as well. */
    if (contains(p, scan, "CheckPoint")) {
        if (attempt(decode_checkpoint, ev, p, len, ctx, reterr) == 0)
            return 0;
    }
    if (p[0] == '<' || looks_like_month(p, len) || looks_like_iso(p, len)) {
        r = attempt(decode_syslog, ev, p, len, ctx, reterr);
        if (r == 0) {
            decode_product(ev, ctx);
            return 0;
        }
        if (r != -ENOENT)
            return r;
    }
    /* audit.log itself: "type=T msg=audit(...)", "node=N type=..." */
    if (has_prefix(p, len, "type=") || has_prefix(p, len, "node=")) {
        if ((r = attempt(decode_auditd, ev, p, len, ctx, reterr)) != -ENOENT)
            return r;
    }
    /* Headerless IDS and proxy logs: Snort/Suricata fast.log and
     * alert_csv, Squid's access.log. */
    if (looks_like_snort_time(p, len)) {
        if ((r = attempt(decode_snort, ev, p, len, ctx, reterr)) != -ENOENT)
            return r;
    }
    if (looks_like_epoch_ms(p, len)) {
        if ((r = attempt(decode_squid, ev, p, len, ctx, reterr)) != -ENOENT)
            return r;
    }
    if (p[0] == '[' || (len > 4 && p[4] == '/')) {
        if ((r = attempt(decode_web_error, ev, p, len, ctx, reterr)) != -ENOENT)
            return r;
    }
    if ((r = attempt(decode_web_access, ev, p, len, ctx, reterr)) != -ENOENT)
        return r;
    /* A product's line without a syslog header (a FortiGate log file, a
     * relayed netfilter line): its marker, before generic key=value, which
     * still gets a line the product's decoder refused. */
    {
        decode_fn sig = product_by_signature(p, len);
        if (sig && ((r = attempt(sig, ev, p, len, ctx, reterr)) == 0 || r == -ENOMEM))
            return r;
    }
    if (memchr(p, '=', len))
        return attempt(decode_kv, ev, p, len, ctx, reterr);
    return -ENOENT;
}

int decode_stream_flush(struct decode_stream *s, int all, struct event *ev,
                        struct parse_err *reterr)
{
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    /* auditd is the one decoder that holds records */
    return decode_auditd_flush(ev, s, all, reterr);
}

int decode_stream_holding(const struct decode_stream *s)
{
    return decode_auditd_holding(s);
}

int decode_record(struct event *ev, const struct decoder *d, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (!d)
        return decode_auto(ev, ev->raw, ev->raw_len, ctx, reterr);
    r = attempt(d->fn, ev, ev->raw, ev->raw_len, ctx, reterr);
    if (r == 0 && is_syslog_header_decoder(d))
        decode_product(ev, ctx);
    return r;
}
